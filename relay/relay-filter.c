/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * Content filters of a network: hashtags, languages and denied keywords (the `hashtags`,
 * `languages` and `deny-keywords` keys of [network NAME]). They run before fan-out, on the
 * inbox's thread, once per received activity.
 *
 * Which post is checked:
 *   Create, Update        the embedded object
 *   Announce              the embedded object; when that is itself a Create or Update (a
 *                         FEP-1b12 group boosting a post), that activity's embedded object
 *   Delete, Undo, Move    never filtered: a removal must reach everyone who may hold a copy,
 *                         whatever the post said, and a Move carries no post
 *   Update of an actor    never filtered (Person, Service, Application, Group, Organization):
 *                         a profile is not a post, and receivers need it to verify keys
 *   anything else, or an object given only by id (an Announce of a bare URL, as LitePub
 *   relays send): RELAY_FILTER_NO_CONTENT, since fetching the object here would block the
 *   inbox and let any sender make the relay fetch URLs of its choice
 *
 * A network without filters passes everything without looking.
 *
 * What is read from the post:
 *   hashtags   the `tag` entries of type Hashtag (name "#Tag", case-insensitive); only when the
 *              post has none, the #words of its text (the tag list, when present, is the
 *              sender's own parse and knows a #word in a URL or code is no hashtag)
 *   languages  the keys of contentMap, else `language` (a string, or an object with an
 *              identifier as PeerTube and Lemmy write it), else the @language of the post's
 *              @context, else the activity's; "und" counts as none. Tags are compared on their
 *              primary subtag ("en-GB" matches "en"). A post that gives no language does not
 *              match a language filter: the filter relays posts known to be in those languages
 *   keywords   content and summary (HTML → text) and name, plus every value of contentMap,
 *              summaryMap and nameMap; compared after NFKC normalisation and case folding, with
 *              runs of white space as one space, so neither case, full-width letters nor line
 *              breaks hide a phrase
 * The checks run cheapest first: languages, hashtags, keywords; the first that fails decides.
 *
 * Reasons are meant for the info log: they quote only the configuration and language tags that
 * were checked to be short and plain, never the post's text.
 */

#include "config.h"

#include <libxml/HTMLparser.h>
#include <string.h>

#include "relay-filter.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

/* a language tag longer than this is not one (BCP 47 tags in use are far shorter) */
#define RELAY_FILTER_LANGUAGE_TAG_MAX 35

static const gchar *const relay_filter_verdict_words[] = {
	"pass",
	"no-hashtag",
	"language",
	"denied-keyword",
	"no-content",
};
G_STATIC_ASSERT(G_N_ELEMENTS(relay_filter_verdict_words) == RELAY_FILTER_LAST);

/* the ActivityStreams actor types: an Update of one of these is a profile, not a post */
static const gchar *const relay_filter_actor_types[] = {
	"Application",
	"Group",
	"Organization",
	"Person",
	"Service",
};

/* elements whose boundaries separate words */
static const gchar *const relay_filter_block_elements[] = {
	"address", "article",	 "blockquote", "br", "dd", "div", "dl",
	"dt",	   "figcaption", "footer",     "h1", "h2", "h3",  "h4",
	"h5",	   "h6",	 "header",     "hr", "li", "ol",  "p",
	"pre",	   "section",	 "table",      "td", "th", "tr",  "ul",
};

/* elements whose text is not shown */
static const gchar *const relay_filter_hidden_elements[] = {
	"head",
	"script",
	"style",
	"template",
};

/**
 * relay_filter_verdict_to_string:
 * @verdict: a #RelayFilterVerdict
 *
 * Returns: (transfer none): a short word for logs and metrics, e.g. "no-hashtag"
 */
const gchar *
relay_filter_verdict_to_string(RelayFilterVerdict verdict)
{
	g_return_val_if_fail(verdict < RELAY_FILTER_LAST, NULL);
	return relay_filter_verdict_words[verdict];
}

/* ---- HTML to text ------------------------------------------------------------------------ */

static gboolean
relay_filter_name_in(const xmlChar *name, const gchar *const *names, gsize count)
{
	if (name == NULL)
		return FALSE;
	for (gsize i = 0; i < count; i++) {
		if (g_ascii_strcasecmp((const gchar *)name, names[i]) == 0)
			return TRUE;
	}
	return FALSE;
}

static gboolean
relay_filter_is_block(xmlNode *node)
{
	return node->type == XML_ELEMENT_NODE &&
	       relay_filter_name_in(node->name,
				    relay_filter_block_elements,
				    G_N_ELEMENTS(relay_filter_block_elements));
}

/* appends what @node shows before its children; FALSE when its children are not shown */
static gboolean
relay_filter_enter_node(xmlNode *node, GString *text)
{
	switch (node->type) {
	case XML_ELEMENT_NODE:
		if (relay_filter_name_in(node->name,
					 relay_filter_hidden_elements,
					 G_N_ELEMENTS(relay_filter_hidden_elements)))
			return FALSE;
		if (relay_filter_is_block(node))
			g_string_append_c(text, ' ');
		return TRUE;
	case XML_TEXT_NODE:
	case XML_CDATA_SECTION_NODE:
		if (node->content != NULL)
			g_string_append(text, (const gchar *)node->content);
		return FALSE;
	default:
		return FALSE;
	}
}

static void
relay_filter_leave_node(xmlNode *node, GString *text)
{
	if (relay_filter_is_block(node))
		g_string_append_c(text, ' ');
}

/* runs of white space (any Unicode space, NBSP included) become one space; none at the ends */
static gchar *
relay_filter_collapse_spaces(const gchar *text)
{
	GString *out = g_string_sized_new(strlen(text));
	gboolean pending_space = FALSE;

	for (const gchar *p = text; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (g_unichar_isspace(c) || c == 0x00A0) {
			pending_space = out->len > 0;
			continue;
		}
		if (pending_space)
			g_string_append_c(out, ' ');
		pending_space = FALSE;
		g_string_append_unichar(out, c);
	}
	return g_string_free(out, FALSE);
}

/* @text as valid UTF-8 (the network's JSON is not trusted to be) */
static gchar *
relay_filter_make_valid(const gchar *text)
{
	if (g_utf8_validate(text, -1, NULL))
		return g_strdup(text);
	return g_utf8_make_valid(text, -1);
}

/**
 * relay_filter_html_to_text:
 * @html: (nullable): an HTML fragment, such as the content of a Note
 *
 * The text a reader sees: libxml2's HTML parser (recovering, without network access) reads the
 * fragment, entities are decoded, the text nodes are joined, the boundaries of <br>, <p> and
 * the other block elements count as spaces, and script and style are left out. White space is
 * collapsed to single spaces and trimmed.
 *
 * Returns: (transfer full): the text, possibly empty
 */
gchar *
relay_filter_html_to_text(const gchar *html)
{
	g_autoptr(xmlDoc) doc = NULL;
	g_autoptr(GString) text = g_string_new(NULL);
	g_autofree gchar *valid = NULL;
	g_autofree gchar *joined = NULL;
	gsize length;
	xmlNode *node;

	if (html == NULL || html[0] == '\0')
		return g_strdup("");
	valid = relay_filter_make_valid(html);
	length = strlen(valid);
	if (length > G_MAXINT)
		return g_strdup("");
	doc = htmlReadMemory(valid,
			     (gint)length,
			     NULL,
			     "UTF-8",
			     HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
				     HTML_PARSE_RECOVER);
	if (doc == NULL)
		return g_strdup("");

	/* iterative, so that no nesting depth can exhaust the stack */
	node = doc->children;
	while (node != NULL) {
		if (relay_filter_enter_node(node, text) && node->children != NULL) {
			node = node->children;
			continue;
		}
		relay_filter_leave_node(node, text);
		while (node != NULL && node->next == NULL) {
			node = node->parent;
			if (node == NULL || node == (xmlNode *)doc)
				node = NULL;
			else
				relay_filter_leave_node(node, text);
		}
		if (node != NULL)
			node = node->next;
	}

	joined = relay_filter_make_valid(text->str);
	return relay_filter_collapse_spaces(joined);
}

/* ---- reading the post -------------------------------------------------------------------- */

/* the comparable form of a text: NFKC, case-folded, white space collapsed */
static gchar *
relay_filter_fold(const gchar *text)
{
	g_autofree gchar *valid = relay_filter_make_valid(text);
	g_autofree gchar *normal = g_utf8_normalize(valid, -1, G_NORMALIZE_ALL_COMPOSE);
	g_autofree gchar *folded = NULL;

	if (normal == NULL)
		return g_strdup("");
	folded = g_utf8_casefold(normal, -1);
	return relay_filter_collapse_spaces(folded);
}

static const gchar *
relay_filter_get_string(JsonObject *object, const gchar *member)
{
	JsonNode *node = json_object_get_member(object, member);
	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
	    json_node_get_value_type(node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(node);
}

static JsonObject *
relay_filter_get_object(JsonObject *object, const gchar *member)
{
	JsonNode *node = json_object_get_member(object, member);
	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
		return NULL;
	return json_node_get_object(node);
}

static gboolean
relay_filter_has_any_type(JsonObject *object, const gchar *const *types, gsize count)
{
	for (gsize i = 0; i < count; i++) {
		if (relay_activity_json_has_type(object, types[i]))
			return TRUE;
	}
	return FALSE;
}

typedef enum {
	RELAY_FILTER_POST_FOUND,   /* check the post */
	RELAY_FILTER_POST_EXEMPT,  /* pass without checking */
	RELAY_FILTER_POST_MISSING, /* not embedded: RELAY_FILTER_NO_CONTENT */
} RelayFilterPost;

/* an Announce's embedded object: a post, or an activity (FEP-1b12 groups) carrying one */
static RelayFilterPost
relay_filter_find_announced(JsonObject *announced, JsonObject **out_post)
{
	if (relay_activity_json_has_type(announced, "Delete") ||
	    relay_activity_json_has_type(announced, "Undo"))
		return RELAY_FILTER_POST_EXEMPT;
	if (relay_activity_json_has_type(announced, "Create") ||
	    relay_activity_json_has_type(announced, "Update")) {
		JsonObject *inner = relay_filter_get_object(announced, "object");
		if (inner == NULL)
			return RELAY_FILTER_POST_MISSING;
		if (relay_activity_json_has_type(announced, "Update") &&
		    relay_filter_has_any_type(inner,
					      relay_filter_actor_types,
					      G_N_ELEMENTS(relay_filter_actor_types)))
			return RELAY_FILTER_POST_EXEMPT;
		*out_post = inner;
		return RELAY_FILTER_POST_FOUND;
	}
	*out_post = announced;
	return RELAY_FILTER_POST_FOUND;
}

/* which post of @activity the filters read; see the table at the top */
static RelayFilterPost
relay_filter_find_post(RelayActivity *activity, JsonObject **out_post)
{
	JsonObject *embedded = relay_activity_get_embedded_object(activity);

	if (relay_activity_has_type(activity, "Delete") ||
	    relay_activity_has_type(activity, "Undo") || relay_activity_has_type(activity, "Move"))
		return RELAY_FILTER_POST_EXEMPT;
	if (relay_activity_has_type(activity, "Update") && embedded != NULL &&
	    relay_filter_has_any_type(
		    embedded, relay_filter_actor_types, G_N_ELEMENTS(relay_filter_actor_types)))
		return RELAY_FILTER_POST_EXEMPT;
	if (embedded == NULL)
		return RELAY_FILTER_POST_MISSING;
	if (relay_activity_has_type(activity, "Announce"))
		return relay_filter_find_announced(embedded, out_post);
	if (relay_activity_has_type(activity, "Create") ||
	    relay_activity_has_type(activity, "Update")) {
		*out_post = embedded;
		return RELAY_FILTER_POST_FOUND;
	}
	return RELAY_FILTER_POST_MISSING;
}

/* ---- languages --------------------------------------------------------------------------- */

/* the lower-case primary subtag of a well-formed tag ("en-GB" → "en"); NULL for "und" or junk */
static gchar *
relay_filter_primary_subtag(const gchar *tag)
{
	gsize length = 0;

	if (tag == NULL)
		return NULL;
	for (const gchar *p = tag; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
			return NULL;
		if (++length > RELAY_FILTER_LANGUAGE_TAG_MAX)
			return NULL;
	}
	length = strcspn(tag, "-_");
	if (length == 0 || length > 8)
		return NULL;
	for (gsize i = 0; i < length; i++) {
		if (!g_ascii_isalpha(tag[i]))
			return NULL;
	}
	if (length == 3 && g_ascii_strncasecmp(tag, "und", 3) == 0)
		return NULL;
	return g_ascii_strdown(tag, (gssize)length);
}

static void
relay_filter_add_language(GPtrArray *languages, const gchar *tag)
{
	g_autofree gchar *primary = relay_filter_primary_subtag(tag);

	if (primary == NULL)
		return;
	if (g_ptr_array_find_with_equal_func(languages, primary, g_str_equal, NULL))
		return;
	g_ptr_array_add(languages, g_steal_pointer(&primary));
}

/* the @language of a @context: an object, or a list holding objects */
static const gchar *
relay_filter_context_language(JsonObject *object)
{
	JsonNode *node = json_object_get_member(object, "@context");
	JsonArray *array;

	if (node == NULL)
		return NULL;
	if (JSON_NODE_HOLDS_OBJECT(node))
		return relay_filter_get_string(json_node_get_object(node), "@language");
	if (!JSON_NODE_HOLDS_ARRAY(node))
		return NULL;
	array = json_node_get_array(node);
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonNode *element = json_array_get_element(array, i);
		const gchar *language;
		if (!JSON_NODE_HOLDS_OBJECT(element))
			continue;
		language = relay_filter_get_string(json_node_get_object(element), "@language");
		if (language != NULL)
			return language;
	}
	return NULL;
}

/* `language` as Misskey and Fedify write it (a string) or PeerTube and Lemmy (an object) */
static void
relay_filter_add_language_member(GPtrArray *languages, JsonNode *node)
{
	if (node == NULL)
		return;
	if (JSON_NODE_HOLDS_OBJECT(node)) {
		JsonObject *object = json_node_get_object(node);
		const gchar *tag = relay_filter_get_string(object, "identifier");
		if (tag == NULL)
			tag = relay_filter_get_string(object, "@value");
		relay_filter_add_language(languages, tag);
		return;
	}
	if (JSON_NODE_HOLDS_ARRAY(node)) {
		JsonArray *array = json_node_get_array(node);
		for (guint i = 0; i < json_array_get_length(array); i++) {
			JsonNode *element = json_array_get_element(array, i);
			if (!JSON_NODE_HOLDS_ARRAY(element))
				relay_filter_add_language_member(languages, element);
		}
		return;
	}
	if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING)
		relay_filter_add_language(languages, json_node_get_string(node));
}

/* the primary subtags the post declares, by the first source that gives any */
static GPtrArray *
relay_filter_post_languages(JsonObject *post, JsonObject *root)
{
	g_autoptr(GPtrArray) languages = g_ptr_array_new_with_free_func(g_free);
	JsonObject *content_map = relay_filter_get_object(post, "contentMap");

	if (content_map != NULL) {
		g_autoptr(GList) members = json_object_get_members(content_map);
		for (GList *l = members; l != NULL; l = l->next)
			relay_filter_add_language(languages, l->data);
	}
	if (languages->len == 0)
		relay_filter_add_language_member(languages,
						 json_object_get_member(post, "language"));
	if (languages->len == 0)
		relay_filter_add_language(languages, relay_filter_context_language(post));
	if (languages->len == 0 && root != post)
		relay_filter_add_language(languages, relay_filter_context_language(root));
	return g_steal_pointer(&languages);
}

static gboolean
relay_filter_language_allowed(gchar **allowed, const gchar *primary)
{
	for (guint i = 0; allowed[i] != NULL; i++) {
		g_autofree gchar *wanted = relay_filter_primary_subtag(allowed[i]);
		if (g_strcmp0(wanted, primary) == 0)
			return TRUE;
	}
	return FALSE;
}

static RelayFilterVerdict
relay_filter_check_languages(const RelayNetworkConfig *network,
			     JsonObject *post,
			     JsonObject *root,
			     gchar **out_reason)
{
	g_autoptr(GPtrArray) languages = relay_filter_post_languages(post, root);
	g_autofree gchar *wanted = g_strjoinv(", ", network->languages);
	g_autofree gchar *given = NULL;

	for (guint i = 0; i < languages->len; i++) {
		if (relay_filter_language_allowed(network->languages,
						  g_ptr_array_index(languages, i)))
			return RELAY_FILTER_PASS;
	}
	if (languages->len == 0) {
		*out_reason = g_strdup_printf("no language given, not among %s", wanted);
		return RELAY_FILTER_LANGUAGE;
	}
	g_ptr_array_add(languages, NULL);
	given = g_strjoinv("/", (gchar **)languages->pdata);
	*out_reason = g_strdup_printf("language %s not among %s", given, wanted);
	return RELAY_FILTER_LANGUAGE;
}

/* ---- text -------------------------------------------------------------------------------- */

/* appends one field, folded; fields are separated by a newline, which folding never leaves
 * inside a field or a keyword, so that a phrase never spans two fields */
static void
relay_filter_append(GString *text, const gchar *piece, gboolean html)
{
	g_autofree gchar *plain = NULL;
	g_autofree gchar *folded = NULL;

	if (piece == NULL || piece[0] == '\0')
		return;
	plain = html ? relay_filter_html_to_text(piece) : g_strdup(piece);
	folded = relay_filter_fold(plain);
	if (folded[0] == '\0')
		return;
	if (text->len > 0)
		g_string_append_c(text, '\n');
	g_string_append(text, folded);
}

static void
relay_filter_append_map(GString *text, JsonObject *post, const gchar *member, gboolean html)
{
	JsonObject *map = relay_filter_get_object(post, member);
	g_autoptr(GList) members = NULL;

	if (map == NULL)
		return;
	members = json_object_get_members(map);
	for (GList *l = members; l != NULL; l = l->next)
		relay_filter_append(text, relay_filter_get_string(map, l->data), html);
}

/* what a reader sees of the post, field by field, folded (see relay_filter_fold()) */
static gchar *
relay_filter_post_text(JsonObject *post)
{
	g_autoptr(GString) text = g_string_new(NULL);

	relay_filter_append(text, relay_filter_get_string(post, "content"), TRUE);
	relay_filter_append(text, relay_filter_get_string(post, "summary"), TRUE);
	relay_filter_append(text, relay_filter_get_string(post, "name"), FALSE);
	relay_filter_append_map(text, post, "contentMap", TRUE);
	relay_filter_append_map(text, post, "summaryMap", TRUE);
	relay_filter_append_map(text, post, "nameMap", FALSE);
	return g_string_free(g_steal_pointer(&text), FALSE);
}

/* ---- hashtags ---------------------------------------------------------------------------- */

/* a configured hashtag in the folded form the post's tags are compared in */
static gchar *
relay_filter_fold_hashtag(const gchar *tag)
{
	while (tag[0] == '#')
		tag++;
	return relay_filter_fold(tag);
}

static gboolean
relay_filter_hashtag_wanted(gchar **wanted, const gchar *folded)
{
	return folded[0] != '\0' && g_strv_contains((const gchar *const *)wanted, folded);
}

/* a character of a hashtag, as Mastodon's and Misskey's parsers take them */
static gboolean
relay_filter_is_hashtag_char(gunichar c)
{
	return g_unichar_isalnum(c) || g_unichar_ismark(c) || c == '_' || c == 0x00B7 ||
	       c == 0x200C;
}

/* the Hashtag entries of `tag`; *out_count counts them, wanted or not */
static gboolean
relay_filter_tags_match(JsonObject *post, gchar **wanted, guint *out_count)
{
	JsonNode *node = json_object_get_member(post, "tag");
	g_autoptr(GPtrArray) entries = g_ptr_array_new();

	*out_count = 0;
	if (node == NULL)
		return FALSE;
	if (JSON_NODE_HOLDS_OBJECT(node)) {
		g_ptr_array_add(entries, json_node_get_object(node));
	} else if (JSON_NODE_HOLDS_ARRAY(node)) {
		JsonArray *array = json_node_get_array(node);
		for (guint i = 0; i < json_array_get_length(array); i++) {
			JsonNode *element = json_array_get_element(array, i);
			if (JSON_NODE_HOLDS_OBJECT(element))
				g_ptr_array_add(entries, json_node_get_object(element));
		}
	}
	for (guint i = 0; i < entries->len; i++) {
		JsonObject *entry = g_ptr_array_index(entries, i);
		const gchar *name = relay_filter_get_string(entry, "name");
		g_autofree gchar *folded = NULL;

		if (name == NULL || !relay_activity_json_has_type(entry, "Hashtag"))
			continue;
		(*out_count)++;
		folded = relay_filter_fold_hashtag(name);
		if (relay_filter_hashtag_wanted(wanted, folded))
			return TRUE;
	}
	return FALSE;
}

/* the #words of a folded text: '#' at the start or after a character that is not a word's */
static gboolean
relay_filter_text_hashtags_match(const gchar *text, gchar **wanted)
{
	gunichar previous = ' ';

	for (const gchar *p = text; *p != '\0';) {
		gunichar c = g_utf8_get_char(p);
		const gchar *next = g_utf8_next_char(p);

		if (c == '#' && !relay_filter_is_hashtag_char(previous) && previous != '#' &&
		    previous != '&' && previous != '/') {
			const gchar *end = next;
			g_autofree gchar *word = NULL;

			while (*end != '\0' && relay_filter_is_hashtag_char(g_utf8_get_char(end)))
				end = g_utf8_next_char(end);
			word = g_strndup(next, end - next);
			if (relay_filter_hashtag_wanted(wanted, word))
				return TRUE;
			if (end != next) {
				previous = g_utf8_get_char(g_utf8_prev_char(end));
				p = end;
				continue;
			}
		}
		previous = c;
		p = next;
	}
	return FALSE;
}

static RelayFilterVerdict
relay_filter_check_hashtags(const RelayNetworkConfig *network,
			    JsonObject *post,
			    const gchar *text,
			    gchar **out_reason)
{
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	g_autoptr(GString) listed = g_string_new(NULL);
	g_auto(GStrv) wanted = NULL;
	guint tag_count = 0;

	for (guint i = 0; network->hashtags[i] != NULL; i++) {
		g_autofree gchar *folded = relay_filter_fold_hashtag(network->hashtags[i]);
		g_strv_builder_add(builder, folded);
		g_string_append_printf(listed, "%s#%s", i > 0 ? ", " : "", network->hashtags[i]);
	}
	wanted = g_strv_builder_end(builder);

	if (relay_filter_tags_match(post, wanted, &tag_count))
		return RELAY_FILTER_PASS;
	if (tag_count == 0 && relay_filter_text_hashtags_match(text, wanted))
		return RELAY_FILTER_PASS;
	*out_reason = g_strdup_printf("no hashtag among %s", listed->str);
	return RELAY_FILTER_NO_HASHTAG;
}

/* ---- keywords ---------------------------------------------------------------------------- */

static RelayFilterVerdict
relay_filter_check_keywords(const RelayNetworkConfig *network,
			    const gchar *text,
			    gchar **out_reason)
{
	for (guint i = 0; network->deny_keywords[i] != NULL; i++) {
		g_autofree gchar *keyword = relay_filter_fold(network->deny_keywords[i]);
		if (keyword[0] != '\0' && strstr(text, keyword) != NULL) {
			*out_reason = g_strdup("contains a denied keyword");
			return RELAY_FILTER_DENIED_KEYWORD;
		}
	}
	return RELAY_FILTER_PASS;
}

/* ---- the check --------------------------------------------------------------------------- */

static gboolean
relay_filter_list_is_set(gchar **list)
{
	return list != NULL && list[0] != NULL;
}

static RelayFilterVerdict
relay_filter_check_post(const RelayNetworkConfig *network,
			RelayActivity *activity,
			gchar **out_reason)
{
	JsonObject *post = NULL;
	JsonObject *root = json_node_get_object(activity->root);
	g_autofree gchar *text = NULL;
	RelayFilterVerdict verdict;

	switch (relay_filter_find_post(activity, &post)) {
	case RELAY_FILTER_POST_EXEMPT:
		return RELAY_FILTER_PASS;
	case RELAY_FILTER_POST_MISSING:
		*out_reason = g_strdup("the post is not embedded, so the filters cannot read it");
		return RELAY_FILTER_NO_CONTENT;
	case RELAY_FILTER_POST_FOUND:
	default:
		break;
	}

	if (relay_filter_list_is_set(network->languages)) {
		verdict = relay_filter_check_languages(network, post, root, out_reason);
		if (verdict != RELAY_FILTER_PASS)
			return verdict;
	}
	if (!relay_filter_list_is_set(network->hashtags) &&
	    !relay_filter_list_is_set(network->deny_keywords))
		return RELAY_FILTER_PASS;

	text = relay_filter_post_text(post);
	if (relay_filter_list_is_set(network->hashtags)) {
		verdict = relay_filter_check_hashtags(network, post, text, out_reason);
		if (verdict != RELAY_FILTER_PASS)
			return verdict;
	}
	if (relay_filter_list_is_set(network->deny_keywords))
		return relay_filter_check_keywords(network, text, out_reason);
	return RELAY_FILTER_PASS;
}

/**
 * relay_filter_check:
 * @network: the network the activity would be relayed in
 * @activity: a received activity
 * @out_reason: (out) (optional) (transfer full) (nullable): why the activity is not relayed,
 *	a short text for the info log such as "no hashtag among #cats, #dogs"; %NULL on
 *	%RELAY_FILTER_PASS
 *
 * Applies the network's content filters (`hashtags`, `languages`, `deny-keywords`). A network
 * without filters passes everything without reading it; Delete, Undo, Move and an Update of an
 * actor always pass (see the top of relay-filter.c).
 *
 * Returns: %RELAY_FILTER_PASS, or the first filter the activity fails
 */
RelayFilterVerdict
relay_filter_check(const RelayNetworkConfig *network, RelayActivity *activity, gchar **out_reason)
{
	g_autofree gchar *reason = NULL;
	RelayFilterVerdict verdict;

	g_return_val_if_fail(network != NULL, RELAY_FILTER_PASS);
	g_return_val_if_fail(activity != NULL, RELAY_FILTER_PASS);

	if (out_reason != NULL)
		*out_reason = NULL;
	if (!relay_filter_list_is_set(network->hashtags) &&
	    !relay_filter_list_is_set(network->languages) &&
	    !relay_filter_list_is_set(network->deny_keywords))
		return RELAY_FILTER_PASS;
	verdict = relay_filter_check_post(network, activity, &reason);
	if (out_reason != NULL)
		*out_reason = g_steal_pointer(&reason);
	return verdict;
}
