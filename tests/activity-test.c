/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "relay-activity.h"
#include "relay-config.h"
#include "relay-filter.h"
#include "relay-test-utils.h"

/* inline documents are written with ' for " to stay readable; none of them needs a ' */
static GBytes *
bytes_from_quoted(const gchar *quoted)
{
	gchar *text = g_strdup(quoted);

	g_strdelimit(text, "'", '"');
	return g_bytes_new_take(text, strlen(text));
}

/* a captured document from the shared fixtures, or NULL (the test is skipped) */
static GBytes *
load_fixture(const gchar *name)
{
	g_autofree gchar *relative =
		g_build_filename("..", "shared", "fixtures", "captured", name, NULL);
	g_autofree gchar *path = relay_test_source_path(relative);
	g_autoptr(GError) error = NULL;
	gchar *text = NULL;
	gsize length = 0;

	if (!g_file_get_contents(path, &text, &length, &error)) {
		g_autofree gchar *message = g_strdup_printf("fixture %s: %s", path, error->message);
		g_test_skip(message);
		return NULL;
	}
	return g_bytes_new_take(text, length);
}

/* a row's document: a fixture when it names a .json file, an inline document otherwise */
static GBytes *
load_document(const gchar *document)
{
	if (g_str_has_suffix(document, ".json"))
		return load_fixture(document);
	return bytes_from_quoted(document);
}

#define PUBLIC	  "https://www.w3.org/ns/activitystreams#Public"
#define AR	  "activity-relay/"
#define INNOCENT  "https://innocent.yukimochi.io"
#define CAROL	  "https://carol-sol-coffee-shareware.trycloudflare.com"
#define NOTE_HEAD "{'@context':'https://www.w3.org/ns/activitystreams',"

/* ---- parsing ----------------------------------------------------------------------------- */

static const struct {
	const gchar *name;
	const gchar *document; /* a fixture name, or a document written with ' for " */
	gint error_code;       /* -1: valid */
	const gchar *id;
	const gchar *types; /* joined with ',' */
	const gchar *actor;
	const gchar *object_id;
	const gchar *object_types; /* joined with ','; NULL: none */
	const gchar *object_actor;
	gboolean is_public;
	gboolean has_ld_signature;
	gboolean has_proof;
	gint64 published_s;
} parse_cases[] = {
	/* the captured documents */
	{"follow",
	 AR "follow.json",
	 -1,
	 INNOCENT "/041bd3d9-d883-4454-8739-588cf7471ff3",
	 "Follow",
	 INNOCENT "/actor",
	 PUBLIC,
	 NULL,
	 NULL,
	 FALSE,
	 FALSE,
	 FALSE,
	 0},
	{"unfollow",
	 AR "unfollow.json",
	 -1,
	 INNOCENT "/9bb8b7bd-2e28-428d-a4dc-ba0001512b07",
	 "Undo",
	 INNOCENT "/actor",
	 INNOCENT "/041bd3d9-d883-4454-8739-588cf7471ff3",
	 "Follow",
	 INNOCENT "/actor",
	 FALSE,
	 FALSE,
	 FALSE,
	 0},
	{"follow-as-actor",
	 AR "followAsActor.json",
	 -1,
	 INNOCENT "/0dd30dcb-2b37-4eba-9ca4-be1b5fd7646c",
	 "Follow",
	 INNOCENT "/users/YUKIMOCHI",
	 "https://beth-nj-chess-failures.trycloudflare.com/actor",
	 NULL,
	 NULL,
	 FALSE,
	 FALSE,
	 FALSE,
	 0},
	{"follow-lp",
	 AR "follow-lp.json",
	 -1,
	 CAROL "/activities/378e0448-1a45-45c1-9185-48b651cde184",
	 "Follow",
	 CAROL "/relay",
	 "https://relay.toot.yukimochi.jp/actor",
	 NULL,
	 NULL,
	 FALSE,
	 FALSE,
	 FALSE,
	 0},
	{"unfollow-lp",
	 AR "unfollow-lp.json",
	 -1,
	 CAROL "/activities/b5ccddca-26f1-42bb-a9d5-c1e46805fbed",
	 "Undo",
	 CAROL "/relay",
	 CAROL "/activities/378e0448-1a45-45c1-9185-48b651cde184",
	 "Follow",
	 CAROL "/relay",
	 FALSE,
	 FALSE,
	 FALSE,
	 1677346478},
	{"announce-lp",
	 AR "announce-lp.json",
	 -1,
	 CAROL "/activities/23b18559-fd4d-4526-a73e-9c203fa35022",
	 "Announce",
	 CAROL "/relay",
	 CAROL "/objects/b22bb689-3333-4390-9089-5a2597ee38ee",
	 NULL,
	 NULL,
	 FALSE,
	 FALSE,
	 FALSE,
	 1677346666},
	{"create-ld-signed",
	 AR "create.json",
	 -1,
	 INNOCENT "/users/YUKIMOCHI/statuses/101289215743686309/activity",
	 "Create",
	 INNOCENT "/users/YUKIMOCHI",
	 INNOCENT "/users/YUKIMOCHI/statuses/101289215743686309",
	 "Note",
	 INNOCENT "/users/YUKIMOCHI",
	 TRUE,
	 TRUE,
	 FALSE,
	 1545550777},

	/* leniency: types, audiences, actors, objects */
	{"type-list",
	 "{'id':'https://a.example/1','type':['Create','as:Create'],'actor':'https://a.example/u',"
	 "'to':['" PUBLIC "'],'object':{'id':'https://a.example/n','type':['Note','Page']}}",
	 -1,
	 "https://a.example/1",
	 "Create,as:Create",
	 "https://a.example/u",
	 "https://a.example/n",
	 "Note,Page",
	 NULL,
	 TRUE,
	 FALSE,
	 FALSE,
	 0},
	{"type-list-skips-junk",
	 "{'type':[1,'',null,'Announce'],'actor':'https://a.example/u','object':'https://b.example/"
	 "n'}",
	 -1,
	 NULL,
	 "Announce",
	 "https://a.example/u",
	 "https://b.example/n",
	 NULL,
	 NULL,
	 FALSE,
	 FALSE,
	 FALSE,
	 0},
	{"to-string",
	 "{'type':'Announce','actor':'https://a.example/u','to':'" PUBLIC "',"
	 "'object':'https://b.example/n'}",
	 -1,
	 NULL,
	 "Announce",
	 "https://a.example/u",
	 "https://b.example/n",
	 NULL,
	 NULL,
	 TRUE,
	 FALSE,
	 FALSE,
	 0},
	{"cc-string",
	 "{'type':'Announce','actor':'https://a.example/u','to':'https://a.example/u/followers',"
	 "'cc':'" PUBLIC "','object':'https://b.example/n'}",
	 -1,
	 NULL,
	 "Announce",
	 "https://a.example/u",
	 "https://b.example/n",
	 NULL,
	 NULL,
	 TRUE,
	 FALSE,
	 FALSE,
	 0},
	{"cc-only-public",
	 "{'type':'Create','actor':'https://a.example/u','to':['https://a.example/u/followers'],"
	 "'cc':['https://c.example/x','" PUBLIC "'],'object':'https://a.example/n'}",
	 -1,
	 NULL,
	 "Create",
	 "https://a.example/u",
	 "https://a.example/n",
	 NULL,
	 NULL,
	 TRUE,
	 FALSE,
	 FALSE,
	 0},
	{"as-public",
	 "{'type':'Create','actor':'https://a.example/u','to':['as:Public'],"
	 "'object':'https://a.example/n'}",
	 -1,
	 NULL,
	 "Create",
	 "https://a.example/u",
	 "https://a.example/n",
	 NULL,
	 NULL,
	 TRUE,
	 FALSE,
	 FALSE,
	 0},
	{"bare-public",
	 "{'type':'Create','actor':'https://a.example/u','cc':'Public','object':'https://a.example/"
	 "n'}",
	 -1,
	 NULL,
	 "Create",
	 "https://a.example/u",
	 "https://a.example/n",
	 NULL,
	 NULL,
	 TRUE,
	 FALSE,
	 FALSE,
	 0},
	{"public-as-object",
	 "{'type':'Create','actor':'https://a.example/u','to':[{'id':'" PUBLIC "'}],"
	 "'object':'https://a.example/n'}",
	 -1,
	 NULL,
	 "Create",
	 "https://a.example/u",
	 "https://a.example/n",
	 NULL,
	 NULL,
	 TRUE,
	 FALSE,
	 FALSE,
	 0},
	{"not-public-lookalike",
	 "{'type':'Create','actor':'https://a.example/u','to':['https://www.w3.org/ns/"
	 "activitystreams#PublicX','public'],'object':'https://a.example/n'}",
	 -1,
	 NULL,
	 "Create",
	 "https://a.example/u",
	 "https://a.example/n",
	 NULL,
	 NULL,
	 FALSE,
	 FALSE,
	 FALSE,
	 0},
	{"create-public-from-object",
	 "{'type':'Create','actor':'https://a.example/u','object':{'id':'https://a.example/n',"
	 "'type':'Note','attributedTo':'https://a.example/u','to':'as:Public',"
	 "'published':'2024-01-02T03:04:05Z'}}",
	 -1,
	 NULL,
	 "Create",
	 "https://a.example/u",
	 "https://a.example/n",
	 "Note",
	 "https://a.example/u",
	 TRUE,
	 FALSE,
	 FALSE,
	 1704164645},
	{"announce-public-not-from-object",
	 "{'type':'Announce','actor':'https://a.example/u','to':['https://a.example/u/followers'],"
	 "'object':{'id':'https://b.example/n','type':'Note','attributedTo':'https://b.example/v',"
	 "'to':['" PUBLIC "']}}",
	 -1,
	 NULL,
	 "Announce",
	 "https://a.example/u",
	 "https://b.example/n",
	 "Note",
	 "https://b.example/v",
	 FALSE,
	 FALSE,
	 FALSE,
	 0},
	{"undo-by-id",
	 "{'id':'https://a.example/undo/1','type':'Undo','actor':'https://a.example/actor',"
	 "'object':'https://a.example/follow/1'}",
	 -1,
	 "https://a.example/undo/1",
	 "Undo",
	 "https://a.example/actor",
	 "https://a.example/follow/1",
	 NULL,
	 NULL,
	 FALSE,
	 FALSE,
	 FALSE,
	 0},
	{"announce-object-string",
	 "{'id':'https://a.example/a/1','type':'Announce','actor':'https://a.example/relay',"
	 "'object':'https://b.example/notes/1','to':['https://a.example/relay/followers'],"
	 "'published':'2024-01-02T03:04:05.123456Z'}",
	 -1,
	 "https://a.example/a/1",
	 "Announce",
	 "https://a.example/relay",
	 "https://b.example/notes/1",
	 NULL,
	 NULL,
	 FALSE,
	 FALSE,
	 FALSE,
	 1704164645},
	{"actor-object",
	 "{'type':'Follow','actor':{'id':'https://a.example/actor','type':'Application'},"
	 "'object':'" PUBLIC "'}",
	 -1,
	 NULL,
	 "Follow",
	 "https://a.example/actor",
	 PUBLIC,
	 NULL,
	 NULL,
	 FALSE,
	 FALSE,
	 FALSE,
	 0},
	{"actor-list",
	 "{'type':'Follow','actor':[{'type':'Person'},'https://a.example/actor'],"
	 "'object':'" PUBLIC "'}",
	 -1,
	 NULL,
	 "Follow",
	 "https://a.example/actor",
	 PUBLIC,
	 NULL,
	 NULL,
	 FALSE,
	 FALSE,
	 FALSE,
	 0},
	{"attributed-to-list",
	 "{'type':'Create','actor':'https://p.example/a/u','object':{'id':'https://p.example/v/1',"
	 "'type':'Video','attributedTo':[{'type':'Person','id':'https://p.example/a/u'},"
	 "{'type':'Group','id':'https://p.example/c/c'}]}}",
	 -1,
	 NULL,
	 "Create",
	 "https://p.example/a/u",
	 "https://p.example/v/1",
	 "Video",
	 "https://p.example/a/u",
	 FALSE,
	 FALSE,
	 FALSE,
	 0},
	{"object-actor-from-actor",
	 "{'type':'Accept','actor':'https://r.example/actor','object':{'id':'https://a.example/f',"
	 "'type':'Follow','actor':{'id':'https://a.example/actor'},'object':'" PUBLIC "'}}",
	 -1,
	 NULL,
	 "Accept",
	 "https://r.example/actor",
	 "https://a.example/f",
	 "Follow",
	 "https://a.example/actor",
	 FALSE,
	 FALSE,
	 FALSE,
	 0},
	{"id-null",
	 "{'id':null,'type':'Delete','actor':'https://a.example/u','object':'https://a.example/n'}",
	 -1,
	 NULL,
	 "Delete",
	 "https://a.example/u",
	 "https://a.example/n",
	 NULL,
	 NULL,
	 FALSE,
	 FALSE,
	 FALSE,
	 0},
	{"no-object",
	 "{'type':'Delete','actor':'https://a.example/u'}",
	 -1,
	 NULL,
	 "Delete",
	 "https://a.example/u",
	 NULL,
	 NULL,
	 NULL,
	 FALSE,
	 FALSE,
	 FALSE,
	 0},
	{"object-null",
	 "{'type':'Delete','actor':'https://a.example/u','object':null}",
	 -1,
	 NULL,
	 "Delete",
	 "https://a.example/u",
	 NULL,
	 NULL,
	 NULL,
	 FALSE,
	 FALSE,
	 FALSE,
	 0},

	/* signatures and proofs */
	{"proof-object",
	 "{'type':'Create','actor':'https://a.example/u','object':'https://a.example/n',"
	 "'proof':{'type':'DataIntegrityProof','cryptosuite':'eddsa-jcs-2022'}}",
	 -1,
	 NULL,
	 "Create",
	 "https://a.example/u",
	 "https://a.example/n",
	 NULL,
	 NULL,
	 FALSE,
	 FALSE,
	 TRUE,
	 0},
	{"proof-list",
	 "{'type':'Create','actor':'https://a.example/u','object':'https://a.example/n',"
	 "'proof':[{'type':'DataIntegrityProof'},{'type':'DataIntegrityProof'}]}",
	 -1,
	 NULL,
	 "Create",
	 "https://a.example/u",
	 "https://a.example/n",
	 NULL,
	 NULL,
	 FALSE,
	 FALSE,
	 TRUE,
	 0},
	{"proof-empty-list",
	 "{'type':'Create','actor':'https://a.example/u','object':'https://a.example/n','proof':[],"
	 "'signature':'not an object'}",
	 -1,
	 NULL,
	 "Create",
	 "https://a.example/u",
	 "https://a.example/n",
	 NULL,
	 NULL,
	 FALSE,
	 FALSE,
	 FALSE,
	 0},
	{"published-no-zone",
	 "{'type':'Create','actor':'https://a.example/u','object':'https://a.example/n',"
	 "'published':'2024-01-02T03:04:05'}",
	 -1,
	 NULL,
	 "Create",
	 "https://a.example/u",
	 "https://a.example/n",
	 NULL,
	 NULL,
	 FALSE,
	 FALSE,
	 FALSE,
	 1704164645},
	{"published-junk",
	 "{'type':'Create','actor':'https://a.example/u','object':'https://a.example/n',"
	 "'published':'yesterday'}",
	 -1,
	 NULL,
	 "Create",
	 "https://a.example/u",
	 "https://a.example/n",
	 NULL,
	 NULL,
	 FALSE,
	 FALSE,
	 FALSE,
	 0},

	/* invalid documents */
	{"no-type",
	 "{'id':'https://a.example/1','actor':'https://a.example/u'}",
	 RELAY_FED_ERROR_INVALID_DOCUMENT},
	{"type-empty-list",
	 "{'type':[],'actor':'https://a.example/u'}",
	 RELAY_FED_ERROR_INVALID_DOCUMENT},
	{"type-number",
	 "{'type':5,'actor':'https://a.example/u'}",
	 RELAY_FED_ERROR_INVALID_DOCUMENT},
	{"no-actor",
	 "{'type':'Create','object':'https://a.example/n'}",
	 RELAY_FED_ERROR_INVALID_DOCUMENT},
	{"actor-without-id",
	 "{'type':'Create','actor':{'type':'Person'}}",
	 RELAY_FED_ERROR_INVALID_DOCUMENT},
	{"id-number",
	 "{'id':12345,'type':'Create','actor':'https://a.example/u'}",
	 RELAY_FED_ERROR_INVALID_DOCUMENT},
	{"id-object",
	 "{'id':{'href':'https://a.example/1'},'type':'Create','actor':'https://a.example/u'}",
	 RELAY_FED_ERROR_INVALID_DOCUMENT},
	{"id-empty",
	 "{'id':'','type':'Create','actor':'https://a.example/u'}",
	 RELAY_FED_ERROR_INVALID_DOCUMENT},
	{"not-json", "this is not JSON", RELAY_FED_ERROR_INVALID_DOCUMENT},
	{"json-array", "[{'type':'Create'}]", RELAY_FED_ERROR_INVALID_DOCUMENT},
	{"empty", "", RELAY_FED_ERROR_INVALID_DOCUMENT},
};

static gchar *
join_types(GStrv types)
{
	if (types == NULL)
		return NULL;
	return g_strjoinv(",", types);
}

static void
test_activity_parse(gconstpointer user_data)
{
	guint index = GPOINTER_TO_UINT(user_data);
	g_autoptr(GBytes) body = load_document(parse_cases[index].document);
	g_autoptr(RelayActivity) activity = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *types = NULL;
	g_autofree gchar *object_types = NULL;

	if (body == NULL)
		return;
	activity = relay_activity_parse(body, &error);
	if (parse_cases[index].error_code >= 0) {
		g_assert_error(error, RELAY_FED_ERROR, parse_cases[index].error_code);
		g_assert_null(activity);
		return;
	}
	g_assert_no_error(error);
	g_assert_nonnull(activity);
	g_assert_nonnull(activity->root);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(activity->root));

	types = join_types(activity->types);
	object_types = join_types(activity->object_types);
	g_assert_cmpstr(activity->id, ==, parse_cases[index].id);
	g_assert_cmpstr(types, ==, parse_cases[index].types);
	g_assert_cmpstr(activity->actor, ==, parse_cases[index].actor);
	g_assert_cmpstr(activity->object_id, ==, parse_cases[index].object_id);
	g_assert_cmpstr(object_types, ==, parse_cases[index].object_types);
	g_assert_cmpstr(activity->object_actor, ==, parse_cases[index].object_actor);
	g_assert_cmpint(activity->is_public, ==, parse_cases[index].is_public);
	g_assert_cmpint(activity->has_ld_signature, ==, parse_cases[index].has_ld_signature);
	g_assert_cmpint(activity->has_proof, ==, parse_cases[index].has_proof);
	g_assert_cmpint(activity->published_s, ==, parse_cases[index].published_s);

	/* the object member is kept as it is, and is embedded exactly when it has types */
	if (parse_cases[index].object_id == NULL)
		g_assert_null(activity->object);
	else
		g_assert_nonnull(activity->object);
	g_assert_cmpint(relay_activity_get_embedded_object(activity) != NULL,
			==,
			parse_cases[index].object_types != NULL);

	/* has_type agrees with the list */
	for (guint i = 0; activity->types[i] != NULL; i++)
		g_assert_true(relay_activity_has_type(activity, activity->types[i]));
	g_assert_false(relay_activity_has_type(activity, "Nothing"));
	for (guint i = 0; activity->object_types != NULL && activity->object_types[i] != NULL; i++)
		g_assert_true(relay_activity_object_has_type(activity, activity->object_types[i]));
	g_assert_false(relay_activity_object_has_type(activity, "Nothing"));
}

/* the Follow an Undo refers to: its members are readable when it is embedded */
static void
test_activity_undo_members(void)
{
	g_autoptr(GBytes) embedded_body = load_fixture(AR "unfollow.json");
	g_autoptr(GBytes) by_id_body =
		bytes_from_quoted("{'type':'Undo','actor':'https://a.example/actor',"
				  "'object':'https://a.example/follow/1'}");
	g_autoptr(RelayActivity) embedded = NULL;
	g_autoptr(RelayActivity) by_id = NULL;
	g_autoptr(GError) error = NULL;

	if (embedded_body == NULL)
		return;
	embedded = relay_activity_parse(embedded_body, &error);
	g_assert_no_error(error);
	g_assert_true(relay_activity_object_has_type(embedded, "Follow"));
	g_assert_cmpstr(
		relay_activity_object_get_string_member(embedded, "actor"), ==, INNOCENT "/actor");
	g_assert_cmpstr(relay_activity_object_get_string_member(embedded, "object"), ==, PUBLIC);
	g_assert_cmpstr(
		relay_activity_object_get_string_member(embedded, "id"), ==, embedded->object_id);
	g_assert_null(relay_activity_object_get_string_member(embedded, "missing"));

	by_id = relay_activity_parse(by_id_body, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(by_id->object_id, ==, "https://a.example/follow/1");
	g_assert_null(by_id->object_types);
	g_assert_false(relay_activity_object_has_type(by_id, "Follow"));
	g_assert_null(relay_activity_object_get_string_member(by_id, "actor"));
	g_assert_null(relay_activity_get_embedded_object(by_id));
}

static void
test_activity_deep_document(void)
{
	g_autoptr(GString) text = g_string_new("{'type':'Create','actor':'https://a.example/u',"
					       "'object':");
	g_autoptr(GBytes) body = NULL;
	g_autoptr(RelayActivity) activity = NULL;
	g_autoptr(GError) error = NULL;

	for (guint i = 0; i < 100000; i++)
		g_string_append_c(text, '[');
	body = bytes_from_quoted(text->str);
	activity = relay_activity_parse(body, &error);
	g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_INVALID_DOCUMENT);
	g_assert_null(activity);
}

static const struct {
	const gchar *url;
	const gchar *host;
} host_cases[] = {
	{"https://Example.COM/users/a", "example.com"},
	{"https://example.com:443/", "example.com"},
	{"http://example.com:80/", "example.com"},
	{"http://example.com:443/", "example.com:443"},
	{"https://example.com:8443/inbox", "example.com:8443"},
	{"https://[::1]:8443/actor", "[::1]:8443"},
	{"https://[2001:DB8::1]/actor", "[2001:db8::1]"},
	{"https://user@example.com/x", "example.com"},
	{"https://b\xc3\xbc"
	 "cher.example/actor",
	 "xn--bcher-kva.example"},
	{"https://example.com#frag", "example.com"},
	{PUBLIC, "www.w3.org"},
	{"as:Public", NULL},
	{"mailto:someone@example.com", NULL},
	{"/relative/path", NULL},
	{"not a url", NULL},
	{"https://", NULL},
	{"", NULL},
	{NULL, NULL},
};

static void
test_activity_host_of(gconstpointer user_data)
{
	guint index = GPOINTER_TO_UINT(user_data);
	g_autofree gchar *host = relay_activity_host_of(host_cases[index].url);

	g_assert_cmpstr(host, ==, host_cases[index].host);
}

static void
test_activity_public_address(void)
{
	g_assert_true(relay_activity_is_public_address(RELAY_ACTIVITY_PUBLIC));
	g_assert_true(relay_activity_is_public_address("as:Public"));
	g_assert_true(relay_activity_is_public_address("Public"));
	g_assert_false(relay_activity_is_public_address("public"));
	g_assert_false(relay_activity_is_public_address("https://a.example/followers"));
	g_assert_false(relay_activity_is_public_address(NULL));
}

/* to and cc, each a string, an object or a list; nothing else counts (not bto, not object's) */
static void
test_activity_addressed_to(void)
{
	const gchar *json =
		"{'type':'Announce','actor':'https://p.example/relay','object':'https://p.example/"
		"o/1',"
		"'to':['https://p.example/relay/followers',{'id':'https://r.example/actor'}],"
		"'cc':'https://r.example/followers','bto':['https://r.example/other']}";
	g_autoptr(GBytes) body = bytes_from_quoted(json);
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayActivity) activity = relay_activity_parse(body, &error);

	g_assert_no_error(error);
	g_assert_false(activity->is_public);
	g_assert_true(relay_activity_is_addressed_to(activity, "https://r.example/actor"));
	g_assert_true(relay_activity_is_addressed_to(activity, "https://r.example/followers"));
	g_assert_true(
		relay_activity_is_addressed_to(activity, "https://p.example/relay/followers"));
	g_assert_false(relay_activity_is_addressed_to(activity, "https://r.example/other"));
	g_assert_false(relay_activity_is_addressed_to(activity, "https://r.example/actor/"));
}

/* ---- building ---------------------------------------------------------------------------- */

static JsonObject *
parse_built(GBytes *bytes, JsonNode **out_root)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	gsize length = 0;
	const gchar *data = g_bytes_get_data(bytes, &length);

	/* compact: one line, no indentation */
	g_assert_null(memchr(data, '\n', length));
	g_assert_cmpint(data[0], ==, '{');
	g_assert_true(json_parser_load_from_data(parser, data, (gssize)length, &error));
	g_assert_no_error(error);
	*out_root = json_node_ref(json_parser_get_root(parser));
	g_assert_true(JSON_NODE_HOLDS_OBJECT(*out_root));
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(*out_root), "@context"),
			==,
			"https://www.w3.org/ns/activitystreams");
	return json_node_get_object(*out_root);
}

static void
assert_single_list(JsonObject *object, const gchar *member, const gchar *value)
{
	JsonArray *array = json_object_get_array_member(object, member);

	g_assert_nonnull(array);
	g_assert_cmpuint(json_array_get_length(array), ==, 1);
	g_assert_cmpstr(json_array_get_string_element(array, 0), ==, value);
}

static void
test_activity_new_id(void)
{
	g_autofree gchar *first = relay_activity_new_id("https://relay.example");
	g_autofree gchar *second = relay_activity_new_id("https://relay.example");
	g_autofree gchar *slash = relay_activity_new_id("https://relay.example/");
	const gchar *prefix = "https://relay.example/activities/";

	g_assert_true(g_str_has_prefix(first, prefix));
	g_assert_true(g_str_has_prefix(slash, prefix));
	g_assert_true(g_uuid_string_is_valid(first + strlen(prefix)));
	g_assert_true(g_uuid_string_is_valid(slash + strlen(prefix)));
	g_assert_cmpstr(first, !=, second);
}

static void
check_response(const gchar *fixture, const gchar *type, const gchar *follower)
{
	g_autoptr(GBytes) follow_body = load_fixture(fixture);
	g_autoptr(RelayActivity) follow = NULL;
	g_autoptr(RelayActivity) parsed = NULL;
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *id = relay_activity_new_id("https://relay.example");
	JsonObject *object;

	if (follow_body == NULL)
		return;
	follow = relay_activity_parse(follow_body, &error);
	g_assert_no_error(error);
	if (g_strcmp0(type, "Accept") == 0)
		bytes = relay_activity_accept_new(id, "https://relay.example/actor", follow->root);
	else
		bytes = relay_activity_reject_new(id, "https://relay.example/actor", follow->root);
	object = parse_built(bytes, &root);
	g_assert_cmpstr(json_object_get_string_member(object, "id"), ==, id);
	g_assert_cmpstr(json_object_get_string_member(object, "type"), ==, type);
	g_assert_cmpstr(
		json_object_get_string_member(object, "actor"), ==, "https://relay.example/actor");
	assert_single_list(object, "to", follower);

	/* the Follow is embedded exactly as received: Mastodon matches its id, Misskey its
	 * actor too */
	g_assert_true(json_node_equal(json_object_get_member(object, "object"), follow->root));

	/* and reads back as an activity about that Follow */
	parsed = relay_activity_parse(bytes, &error);
	g_assert_no_error(error);
	g_assert_true(relay_activity_object_has_type(parsed, "Follow"));
	g_assert_cmpstr(parsed->object_id, ==, follow->id);
	g_assert_cmpstr(relay_activity_object_get_string_member(parsed, "actor"), ==, follower);
}

static void
test_activity_accept(void)
{
	check_response(AR "follow.json", "Accept", INNOCENT "/actor");
	check_response(AR "follow-lp.json", "Accept", CAROL "/relay");
}

static void
test_activity_reject(void)
{
	check_response(AR "follow.json", "Reject", INNOCENT "/actor");
	check_response(AR "followAsActor.json", "Reject", INNOCENT "/users/YUKIMOCHI");
}

static void
test_activity_follow(void)
{
	g_autofree gchar *id = relay_activity_new_id("https://relay.example");
	g_autoptr(GBytes) litepub = relay_activity_follow_new(
		id, "https://relay.example/actor", "https://pleroma.example/relay");
	g_autoptr(GBytes) peering = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(JsonNode) peering_root = NULL;
	JsonObject *object = parse_built(litepub, &root);

	g_assert_cmpstr(json_object_get_string_member(object, "id"), ==, id);
	g_assert_cmpstr(json_object_get_string_member(object, "type"), ==, "Follow");
	g_assert_cmpstr(
		json_object_get_string_member(object, "actor"), ==, "https://relay.example/actor");
	g_assert_cmpstr(json_object_get_string_member(object, "object"),
			==,
			"https://pleroma.example/relay");
	assert_single_list(object, "to", "https://pleroma.example/relay");

	peering =
		relay_activity_follow_new(id, "https://relay.example/actor", RELAY_ACTIVITY_PUBLIC);
	object = parse_built(peering, &peering_root);
	g_assert_cmpstr(json_object_get_string_member(object, "object"), ==, PUBLIC);
	assert_single_list(object, "to", PUBLIC);
}

static void
test_activity_undo(void)
{
	g_autofree gchar *follow_id = relay_activity_new_id("https://relay.example");
	g_autofree gchar *undo_id = relay_activity_new_id("https://relay.example");
	g_autoptr(GBytes) follow_bytes = relay_activity_follow_new(
		follow_id, "https://relay.example/actor", "https://pleroma.example/relay");
	g_autoptr(RelayActivity) follow = NULL;
	g_autoptr(GBytes) undo = NULL;
	g_autoptr(GBytes) undo_by_id = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(JsonNode) root_by_id = NULL;
	g_autoptr(JsonNode) id_node = json_node_new(JSON_NODE_VALUE);
	g_autoptr(GError) error = NULL;
	JsonObject *object;

	follow = relay_activity_parse(follow_bytes, &error);
	g_assert_no_error(error);
	undo = relay_activity_undo_new(undo_id, "https://relay.example/actor", follow->root);
	object = parse_built(undo, &root);
	g_assert_cmpstr(json_object_get_string_member(object, "id"), ==, undo_id);
	g_assert_cmpstr(json_object_get_string_member(object, "type"), ==, "Undo");
	g_assert_true(json_node_equal(json_object_get_member(object, "object"), follow->root));
	assert_single_list(object, "to", "https://pleroma.example/relay");

	/* by id: no audience to copy */
	json_node_set_string(id_node, follow_id);
	undo_by_id = relay_activity_undo_new(undo_id, "https://relay.example/actor", id_node);
	object = parse_built(undo_by_id, &root_by_id);
	g_assert_cmpstr(json_object_get_string_member(object, "object"), ==, follow_id);
	g_assert_false(json_object_has_member(object, "to"));
}

static void
test_activity_announce(void)
{
	g_autofree gchar *id = relay_activity_new_id("https://relay.example");
	g_autoptr(GBytes) bytes = relay_activity_announce_new(id,
							      "https://relay.example/actor",
							      "https://b.example/notes/1",
							      "https://relay.example/followers",
							      1545550777);
	g_autoptr(GBytes) now_bytes = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(JsonNode) now_root = NULL;
	g_autoptr(RelayActivity) parsed = NULL;
	g_autoptr(GError) error = NULL;
	JsonObject *object = parse_built(bytes, &root);
	gint64 now_s = g_get_real_time() / G_USEC_PER_SEC;

	g_assert_cmpstr(json_object_get_string_member(object, "id"), ==, id);
	g_assert_cmpstr(json_object_get_string_member(object, "type"), ==, "Announce");
	g_assert_cmpstr(
		json_object_get_string_member(object, "actor"), ==, "https://relay.example/actor");
	g_assert_cmpstr(
		json_object_get_string_member(object, "object"), ==, "https://b.example/notes/1");
	/* Mastodon's visibility_from_audience: public when `to` holds as:Public */
	assert_single_list(object, "to", PUBLIC);
	assert_single_list(object, "cc", "https://relay.example/followers");
	g_assert_cmpstr(
		json_object_get_string_member(object, "published"), ==, "2018-12-23T07:39:37Z");

	parsed = relay_activity_parse(bytes, &error);
	g_assert_no_error(error);
	g_assert_true(parsed->is_public);
	g_assert_cmpint(parsed->published_s, ==, 1545550777);
	g_assert_false(parsed->has_ld_signature);

	/* without a date: now */
	now_bytes = relay_activity_announce_new(
		id, "https://relay.example/actor", "https://b.example/notes/1", NULL, 0);
	object = parse_built(now_bytes, &now_root);
	g_clear_pointer(&parsed, relay_activity_free);
	parsed = relay_activity_parse(now_bytes, &error);
	g_assert_no_error(error);
	g_assert_cmpint(parsed->published_s, >=, now_s - 5);
	g_assert_cmpint(parsed->published_s, <=, now_s + 5);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(object, "cc")), ==, 0);
}

/* ---- filters ----------------------------------------------------------------------------- */

#define CREATE_HEAD                                                                                \
	NOTE_HEAD "'id':'https://a.example/c/1','type':'Create','actor':'https://a.example/u',"    \
		  "'to':['" PUBLIC "'],"

static const struct {
	const gchar *name;
	const gchar *hashtags; /* as written in relay.conf; NULL: not set */
	const gchar *languages;
	const gchar *deny_keywords;
	const gchar *document; /* a fixture name, or a document written with ' for " */
	RelayFilterVerdict verdict;
	const gchar *reason; /* NULL for a pass */
} filter_cases[] = {
	/* no filter: everything passes, even what could not be read */
	{"none-announce-url", NULL, NULL, NULL, AR "announce-lp.json", RELAY_FILTER_PASS, NULL},
	{"none-create", NULL, NULL, NULL, AR "create.json", RELAY_FILTER_PASS, NULL},

	/* hashtags */
	{"hashtag-tag",
	 "cats",
	 NULL,
	 NULL,
	 CREATE_HEAD "'object':{'id':'https://a.example/n/1','type':'Note','content':'<p>hi</p>',"
		     "'tag':[{'type':'Mention','name':'@x'},{'type':'Hashtag','name':'#Cats',"
		     "'href':'https://a.example/tags/cats'}]}}",
	 RELAY_FILTER_PASS,
	 NULL},
	{"hashtag-config-case-and-hash",
	 "#CATS, dogs",
	 NULL,
	 NULL,
	 CREATE_HEAD "'object':{'type':'Note','tag':[{'type':'Hashtag','name':'#cats'}]}}",
	 RELAY_FILTER_PASS,
	 NULL},
	{"hashtag-tag-object",
	 "cats",
	 NULL,
	 NULL,
	 CREATE_HEAD "'object':{'type':'Note','tag':{'type':'Hashtag','name':'#cats'}}}",
	 RELAY_FILTER_PASS,
	 NULL},
	{"hashtag-tag-no-hash",
	 "cats",
	 NULL,
	 NULL,
	 CREATE_HEAD "'object':{'type':'Note','tag':[{'type':['Hashtag'],'name':'Cats'}]}}",
	 RELAY_FILTER_PASS,
	 NULL},
	{"hashtag-unicode",
	 "caf\xc3\xa9",
	 NULL,
	 NULL,
	 CREATE_HEAD "'object':{'type':'Note','tag':[{'type':'Hashtag','name':'#CAF\xc3\x89'}]}}",
	 RELAY_FILTER_PASS,
	 NULL},
	{"hashtag-missing",
	 "cats, #Dogs",
	 NULL,
	 NULL,
	 CREATE_HEAD "'object':{'type':'Note','content':'<p>#cats</p>',"
		     "'tag':[{'type':'Hashtag','name':'#birds'}]}}",
	 RELAY_FILTER_NO_HASHTAG,
	 "no hashtag among #cats, #dogs"},
	{"hashtag-text-fallback",
	 "cats",
	 NULL,
	 NULL,
	 CREATE_HEAD "'object':{'type':'Note','content':'<p>I love <a href=\\'https://a.example/"
		     "tags/cats\\' class=\\'mention hashtag\\'>#<span>Cats</span></a></p>'}}",
	 RELAY_FILTER_PASS,
	 NULL},
	{"hashtag-text-fullwidth",
	 "cats",
	 NULL,
	 NULL,
	 CREATE_HEAD "'object':{'type':'Note','content':'\xef\xbc\x83\xef\xbd\x83\xef\xbd\x81"
		     "\xef\xbd\x94\xef\xbd\x93 are nice','tag':[]}}",
	 RELAY_FILTER_PASS,
	 NULL},
	{"hashtag-text-in-summary",
	 "cats",
	 NULL,
	 NULL,
	 CREATE_HEAD "'object':{'type':'Note','summary':'about #cats','content':'hidden'}}",
	 RELAY_FILTER_PASS,
	 NULL},
	{"hashtag-text-url-fragment",
	 "cats",
	 NULL,
	 NULL,
	 CREATE_HEAD "'object':{'type':'Note','content':'see https://a.example/#cats and "
		     "x#cats'}}",
	 RELAY_FILTER_NO_HASHTAG,
	 "no hashtag among #cats"},
	{"hashtag-text-prefix-only",
	 "cats",
	 NULL,
	 NULL,
	 CREATE_HEAD "'object':{'type':'Note','content':'#catsanddogs'}}",
	 RELAY_FILTER_NO_HASHTAG,
	 "no hashtag among #cats"},
	{"hashtag-announce-embedded",
	 "cats",
	 NULL,
	 NULL,
	 "{'type':'Announce','actor':'https://a.example/u','to':'as:Public',"
	 "'object':{'id':'https://b.example/n','type':'Note','tag':[{'type':'Hashtag',"
	 "'name':'#cats'}]}}",
	 RELAY_FILTER_PASS,
	 NULL},
	{"hashtag-announce-group-create",
	 "cats",
	 NULL,
	 NULL,
	 "{'type':'Announce','actor':'https://l.example/c/pets','to':'as:Public',"
	 "'object':{'type':'Create','actor':'https://l.example/u/a','object':{'type':'Page',"
	 "'name':'My #cats'}}}",
	 RELAY_FILTER_PASS,
	 NULL},
	{"hashtag-update-note",
	 "cats",
	 NULL,
	 NULL,
	 "{'type':'Update','actor':'https://a.example/u','object':{'type':'Note',"
	 "'content':'edited, no tag'}}",
	 RELAY_FILTER_NO_HASHTAG,
	 "no hashtag among #cats"},

	/* languages */
	{"language-content-map",
	 NULL,
	 "en",
	 NULL,
	 CREATE_HEAD "'object':{'type':'Note','content':'hello','contentMap':{'en-GB':'hello'}}}",
	 RELAY_FILTER_PASS,
	 NULL},
	{"language-config-subtag",
	 NULL,
	 "EN-us",
	 NULL,
	 CREATE_HEAD "'object':{'type':'Note','contentMap':{'en':'hello'}}}",
	 RELAY_FILTER_PASS,
	 NULL},
	{"language-other",
	 NULL,
	 "en, fr",
	 NULL,
	 CREATE_HEAD "'object':{'type':'Note','contentMap':{'de':'hallo'}}}",
	 RELAY_FILTER_LANGUAGE,
	 "language de not among en, fr"},
	{"language-several",
	 NULL,
	 "fr",
	 NULL,
	 CREATE_HEAD "'object':{'type':'Note','contentMap':{'de':'hallo','it':'ciao'}}}",
	 RELAY_FILTER_LANGUAGE,
	 "language de/it not among fr"},
	{"language-one-of-several",
	 NULL,
	 "it",
	 NULL,
	 CREATE_HEAD "'object':{'type':'Note','contentMap':{'de':'hallo','it':'ciao'}}}",
	 RELAY_FILTER_PASS,
	 NULL},
	{"language-member-string",
	 NULL,
	 "fr",
	 NULL,
	 CREATE_HEAD "'object':{'type':'Note','content':'salut','language':'fr'}}",
	 RELAY_FILTER_PASS,
	 NULL},
	{"language-member-object",
	 NULL,
	 "fr",
	 NULL,
	 CREATE_HEAD "'object':{'type':'Video','name':'salut','language':{'identifier':'fr',"
		     "'name':'French'}}}",
	 RELAY_FILTER_PASS,
	 NULL},
	{"language-object-context",
	 NULL,
	 "en",
	 NULL,
	 CREATE_HEAD "'object':{'@context':['https://www.w3.org/ns/activitystreams',"
		     "{'@language':'en'}],'type':'Note','content':'hello'}}",
	 RELAY_FILTER_PASS,
	 NULL},
	{"language-activity-context",
	 NULL,
	 "ja",
	 NULL,
	 "{'@context':['https://www.w3.org/ns/activitystreams',{'@language':'ja'}],"
	 "'type':'Create','actor':'https://a.example/u','object':{'type':'Note','content':'x'}}",
	 RELAY_FILTER_PASS,
	 NULL},
	{"language-und",
	 NULL,
	 "en",
	 NULL,
	 "{'@context':['https://www.w3.org/ns/activitystreams',{'@language':'und'}],"
	 "'type':'Create','actor':'https://a.example/u','object':{'type':'Note','content':'x'}}",
	 RELAY_FILTER_LANGUAGE,
	 "no language given, not among en"},
	{"language-junk-tag",
	 NULL,
	 "en",
	 NULL,
	 CREATE_HEAD "'object':{'type':'Note','contentMap':{'e n\\r\\nforged':'x'}}}",
	 RELAY_FILTER_LANGUAGE,
	 "no language given, not among en"},
	{"language-captured-ja", NULL, "ja", NULL, AR "create.json", RELAY_FILTER_PASS, NULL},
	{"language-captured-en",
	 NULL,
	 "en",
	 NULL,
	 AR "create.json",
	 RELAY_FILTER_LANGUAGE,
	 "language ja not among en"},

	/* denied keywords */
	{"deny-content-entities",
	 NULL,
	 NULL,
	 "sell crypto",
	 CREATE_HEAD "'object':{'type':'Note','content':'<p>Buy &amp; SELL&#32;Crypto now</p>'}}",
	 RELAY_FILTER_DENIED_KEYWORD,
	 "contains a denied keyword"},
	{"deny-across-br",
	 NULL,
	 NULL,
	 "spam offer",
	 CREATE_HEAD "'object':{'type':'Note','content':'<p>spam<br>offer</p>'}}",
	 RELAY_FILTER_DENIED_KEYWORD,
	 "contains a denied keyword"},
	{"deny-across-paragraphs",
	 NULL,
	 NULL,
	 "spam offer",
	 CREATE_HEAD "'object':{'type':'Note','content':'<p>spam</p><p>offer</p>'}}",
	 RELAY_FILTER_DENIED_KEYWORD,
	 "contains a denied keyword"},
	{"deny-casefold",
	 NULL,
	 NULL,
	 "STRASSE",
	 CREATE_HEAD "'object':{'type':'Note','content':'Die Stra\xc3\x9f"
		     "e ist lang'}}",
	 RELAY_FILTER_DENIED_KEYWORD,
	 "contains a denied keyword"},
	{"deny-fullwidth",
	 NULL,
	 NULL,
	 "crypto",
	 CREATE_HEAD "'object':{'type':'Note','content':'\xef\xbc\xa3\xef\xbc\xb2\xef\xbc\xb9"
		     "\xef\xbc\xb0\xef\xbc\xb4\xef\xbc\xaf'}}",
	 RELAY_FILTER_DENIED_KEYWORD,
	 "contains a denied keyword"},
	{"deny-summary",
	 NULL,
	 NULL,
	 "spoiler",
	 CREATE_HEAD "'object':{'type':'Note','summary':'Spoiler ahead','content':'ok'}}",
	 RELAY_FILTER_DENIED_KEYWORD,
	 "contains a denied keyword"},
	{"deny-name",
	 NULL,
	 NULL,
	 "giveaway",
	 CREATE_HEAD "'object':{'type':'Question','name':'Big GIVEAWAY'}}",
	 RELAY_FILTER_DENIED_KEYWORD,
	 "contains a denied keyword"},
	{"deny-content-map-only",
	 NULL,
	 NULL,
	 "werbung",
	 CREATE_HEAD "'object':{'type':'Note','content':'ad','contentMap':{'en':'ad',"
		     "'de':'<p>Werbung</p>'}}}",
	 RELAY_FILTER_DENIED_KEYWORD,
	 "contains a denied keyword"},
	{"deny-name-map",
	 NULL,
	 NULL,
	 "casino",
	 CREATE_HEAD "'object':{'type':'Page','nameMap':{'en':'Online Casino'}}}",
	 RELAY_FILTER_DENIED_KEYWORD,
	 "contains a denied keyword"},
	{"deny-summary-map",
	 NULL,
	 NULL,
	 "nsfw",
	 CREATE_HEAD "'object':{'type':'Note','summaryMap':{'en':'NSFW'}}}",
	 RELAY_FILTER_DENIED_KEYWORD,
	 "contains a denied keyword"},
	{"deny-not-in-attributes",
	 NULL,
	 NULL,
	 "crypto",
	 CREATE_HEAD "'object':{'type':'Note','content':'<a href=\\'https://crypto.example/\\' "
		     "title=\\'crypto\\'>a link</a>'}}",
	 RELAY_FILTER_PASS,
	 NULL},
	{"deny-not-across-fields",
	 NULL,
	 NULL,
	 "spoiler ahead",
	 CREATE_HEAD "'object':{'type':'Note','content':'spoiler','summary':'ahead'}}",
	 RELAY_FILTER_PASS,
	 NULL},
	{"deny-no-match", NULL, NULL, "crypto, casino", AR "create.json", RELAY_FILTER_PASS, NULL},

	/* the order: language, then hashtags, then keywords */
	{"order-language-first",
	 "cats",
	 "en",
	 "spam",
	 CREATE_HEAD "'object':{'type':'Note','contentMap':{'de':'spam'}}}",
	 RELAY_FILTER_LANGUAGE,
	 "language de not among en"},
	{"order-hashtag-then-keyword",
	 "cats",
	 "en",
	 "spam",
	 CREATE_HEAD "'object':{'type':'Note','contentMap':{'en':'spam #cats'}}}",
	 RELAY_FILTER_DENIED_KEYWORD,
	 "contains a denied keyword"},
	{"all-pass",
	 "cats",
	 "en",
	 "spam",
	 CREATE_HEAD "'object':{'type':'Note','contentMap':{'en':'my #cats'}}}",
	 RELAY_FILTER_PASS,
	 NULL},

	/* what has no post */
	{"delete-passes",
	 "cats",
	 "en",
	 "spam",
	 "{'type':'Delete','actor':'https://a.example/u','object':'https://a.example/n/1'}",
	 RELAY_FILTER_PASS,
	 NULL},
	{"delete-tombstone-passes",
	 "cats",
	 NULL,
	 NULL,
	 "{'type':'Delete','actor':'https://a.example/u','object':{'id':'https://a.example/n/1',"
	 "'type':'Tombstone'}}",
	 RELAY_FILTER_PASS,
	 NULL},
	{"undo-passes",
	 "cats",
	 NULL,
	 NULL,
	 "{'type':'Undo','actor':'https://a.example/u','object':'https://a.example/boost/1'}",
	 RELAY_FILTER_PASS,
	 NULL},
	{"move-passes",
	 NULL,
	 "en",
	 NULL,
	 "{'type':'Move','actor':'https://a.example/u','object':'https://a.example/u',"
	 "'target':'https://b.example/u'}",
	 RELAY_FILTER_PASS,
	 NULL},
	{"update-actor-passes",
	 "cats",
	 "en",
	 "spam",
	 "{'type':'Update','actor':'https://a.example/u','object':{'id':'https://a.example/u',"
	 "'type':'Person','summary':'spam'}}",
	 RELAY_FILTER_PASS,
	 NULL},
	{"announce-group-delete-passes",
	 "cats",
	 NULL,
	 NULL,
	 "{'type':'Announce','actor':'https://l.example/c/pets','object':{'type':'Delete',"
	 "'actor':'https://l.example/u/a','object':'https://l.example/p/1'}}",
	 RELAY_FILTER_PASS,
	 NULL},
	{"announce-url",
	 "cats",
	 NULL,
	 NULL,
	 AR "announce-lp.json",
	 RELAY_FILTER_NO_CONTENT,
	 "not embedded"},
	{"announce-group-create-by-url",
	 NULL,
	 NULL,
	 "spam",
	 "{'type':'Announce','actor':'https://l.example/c/pets','object':{'type':'Create',"
	 "'actor':'https://l.example/u/a','object':'https://l.example/p/1'}}",
	 RELAY_FILTER_NO_CONTENT,
	 "not embedded"},
	{"create-by-url",
	 NULL,
	 "en",
	 NULL,
	 "{'type':'Create','actor':'https://a.example/u','object':'https://a.example/n/1'}",
	 RELAY_FILTER_NO_CONTENT,
	 "not embedded"},
	{"update-by-url",
	 NULL,
	 NULL,
	 "spam",
	 "{'type':'Update','actor':'https://a.example/u','object':'https://a.example/n/1'}",
	 RELAY_FILTER_NO_CONTENT,
	 "not embedded"},
	{"other-type",
	 "cats",
	 NULL,
	 NULL,
	 "{'type':'Like','actor':'https://a.example/u','object':{'type':'Note',"
	 "'tag':[{'type':'Hashtag','name':'#cats'}]}}",
	 RELAY_FILTER_NO_CONTENT,
	 "not embedded"},
};

static RelayConfig *
load_network_config(const gchar *hashtags, const gchar *languages, const gchar *deny_keywords)
{
	g_autoptr(GString) data =
		g_string_new("[relay]\npublic-url = https://relay.example\n[network relay]\n");
	g_autoptr(GError) error = NULL;
	RelayConfig *config;

	if (hashtags != NULL)
		g_string_append_printf(data, "hashtags = %s\n", hashtags);
	if (languages != NULL)
		g_string_append_printf(data, "languages = %s\n", languages);
	if (deny_keywords != NULL)
		g_string_append_printf(data, "deny-keywords = %s\n", deny_keywords);
	config = relay_config_new_from_data(data->str, -1, "/etc/relay/relay.conf", NULL, &error);
	g_assert_no_error(error);
	return config;
}

static void
test_filter_check(gconstpointer user_data)
{
	guint index = GPOINTER_TO_UINT(user_data);
	g_autoptr(GBytes) body = load_document(filter_cases[index].document);
	g_autoptr(RelayConfig) config = NULL;
	g_autoptr(RelayActivity) activity = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *reason = NULL;
	const RelayNetworkConfig *network;
	RelayFilterVerdict verdict;

	if (body == NULL)
		return;
	config = load_network_config(filter_cases[index].hashtags,
				     filter_cases[index].languages,
				     filter_cases[index].deny_keywords);
	network = relay_config_get_network(config, RELAY_CONFIG_DEFAULT_NETWORK);
	activity = relay_activity_parse(body, &error);
	g_assert_no_error(error);

	reason = (gchar *)0x1; /* must be overwritten */
	verdict = relay_filter_check(network, activity, &reason);
	g_test_message("verdict %s, reason %s",
		       relay_filter_verdict_to_string(verdict),
		       reason != NULL ? reason : "(none)");
	g_assert_cmpstr(relay_filter_verdict_to_string(verdict),
			==,
			relay_filter_verdict_to_string(filter_cases[index].verdict));
	if (filter_cases[index].reason == NULL) {
		g_assert_null(reason);
	} else {
		g_assert_nonnull(reason);
		g_assert_nonnull(strstr(reason, filter_cases[index].reason));
		g_assert_null(strchr(reason, '\n'));
		g_assert_null(strchr(reason, '\r'));
	}

	/* the reason is optional */
	g_assert_cmpint(relay_filter_check(network, activity, NULL), ==, verdict);
}

static void
test_filter_verdict_words(void)
{
	g_assert_cmpstr(relay_filter_verdict_to_string(RELAY_FILTER_PASS), ==, "pass");
	g_assert_cmpstr(relay_filter_verdict_to_string(RELAY_FILTER_NO_HASHTAG), ==, "no-hashtag");
	g_assert_cmpstr(relay_filter_verdict_to_string(RELAY_FILTER_LANGUAGE), ==, "language");
	g_assert_cmpstr(
		relay_filter_verdict_to_string(RELAY_FILTER_DENIED_KEYWORD), ==, "denied-keyword");
	g_assert_cmpstr(relay_filter_verdict_to_string(RELAY_FILTER_NO_CONTENT), ==, "no-content");
}

/* a network built by hand, with NULL lists, filters nothing */
static void
test_filter_null_lists(void)
{
	RelayNetworkConfig network = {.name = (gchar *)"relay"};
	g_autoptr(GBytes) body = bytes_from_quoted(
		"{'type':'Announce','actor':'https://a.example/u','object':'https://b.example/n'}");
	g_autoptr(RelayActivity) activity = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *reason = NULL;

	activity = relay_activity_parse(body, &error);
	g_assert_no_error(error);
	g_assert_cmpint(relay_filter_check(&network, activity, &reason), ==, RELAY_FILTER_PASS);
	g_assert_null(reason);
}

static const struct {
	const gchar *name;
	const gchar *html;
	const gchar *text;
} html_cases[] = {
	{"paragraphs", "<p>Hello</p><p>world</p>", "Hello world"},
	{"br", "one<br>two<br/>three<br />four", "one two three four"},
	{"entities",
	 "&amp; &lt;3 &eacute; &#x1F600; &quot;q&quot; &nbsp;x",
	 "& <3 \xc3\xa9 \xf0\x9f\x98\x80 \"q\" x"},
	{"mastodon-link",
	 "<p><a href=\"https://a.example/@x\" class=\"u-url mention\">@<span>x</span></a> see "
	 "<a href=\"https://b.example/long/path\"><span class=\"invisible\">https://</span><span "
	 "class=\"ellipsis\">b.example/long</span><span class=\"invisible\">/path</span></a></p>",
	 "@x see https://b.example/long/path"},
	{"script-style", "<style>p{}</style><script>alert(1)</script>text", "text"},
	{"plain", "just some plain text", "just some plain text"},
	{"plain-less-than", "x < y and y > z", "x < y and y > z"},
	{"unclosed", "<p>unclosed <b>bold <i>italic", "unclosed bold italic"},
	{"whitespace", "  lots   of\n\n\tspace  ", "lots of space"},
	{"list", "<ul><li>one</li><li>two</li></ul>", "one two"},
	{"unicode",
	 "<p>\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e</p>",
	 "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"},
	{"meta-charset", "<meta charset=\"iso-8859-1\"><p>caf\xc3\xa9</p>", "caf\xc3\xa9"},
	{"comment", "a<!-- hidden -->b", "ab"},
	{"empty", "", ""},
	{"invalid-utf8", "caf\xe9 ok", "caf\xef\xbf\xbd ok"},
};

static void
test_filter_html(gconstpointer user_data)
{
	guint index = GPOINTER_TO_UINT(user_data);
	g_autofree gchar *text = relay_filter_html_to_text(html_cases[index].html);

	g_assert_true(g_utf8_validate(text, -1, NULL));
	g_assert_cmpstr(text, ==, html_cases[index].text);
}

static void
test_filter_html_deep(void)
{
	g_autoptr(GString) html = g_string_new(NULL);
	g_autofree gchar *text = NULL;

	for (guint i = 0; i < 50000; i++)
		g_string_append(html, "<span>");
	g_string_append(html, "deep");
	text = relay_filter_html_to_text(html->str);
	g_assert_nonnull(text);
	g_assert_true(g_utf8_validate(text, -1, NULL));
	g_clear_pointer(&text, g_free);
	text = relay_filter_html_to_text(NULL);
	g_assert_cmpstr(text, ==, "");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	for (guint i = 0; i < G_N_ELEMENTS(parse_cases); i++) {
		g_autofree gchar *path =
			g_strdup_printf("/relay/activity/parse/%s", parse_cases[i].name);
		g_test_add_data_func(path, GUINT_TO_POINTER(i), test_activity_parse);
	}
	for (guint i = 0; i < G_N_ELEMENTS(host_cases); i++) {
		g_autofree gchar *path = g_strdup_printf("/relay/activity/host-of/%u", i);
		g_test_add_data_func(path, GUINT_TO_POINTER(i), test_activity_host_of);
	}
	g_test_add_func("/relay/activity/undo-members", test_activity_undo_members);
	g_test_add_func("/relay/activity/deep-document", test_activity_deep_document);
	g_test_add_func("/relay/activity/public-address", test_activity_public_address);
	g_test_add_func("/relay/activity/addressed-to", test_activity_addressed_to);
	g_test_add_func("/relay/activity/new-id", test_activity_new_id);
	g_test_add_func("/relay/activity/accept", test_activity_accept);
	g_test_add_func("/relay/activity/reject", test_activity_reject);
	g_test_add_func("/relay/activity/follow", test_activity_follow);
	g_test_add_func("/relay/activity/undo", test_activity_undo);
	g_test_add_func("/relay/activity/announce", test_activity_announce);

	for (guint i = 0; i < G_N_ELEMENTS(filter_cases); i++) {
		g_autofree gchar *path =
			g_strdup_printf("/relay/filter/check/%s", filter_cases[i].name);
		g_test_add_data_func(path, GUINT_TO_POINTER(i), test_filter_check);
	}
	for (guint i = 0; i < G_N_ELEMENTS(html_cases); i++) {
		g_autofree gchar *path =
			g_strdup_printf("/relay/filter/html/%s", html_cases[i].name);
		g_test_add_data_func(path, GUINT_TO_POINTER(i), test_filter_html);
	}
	g_test_add_func("/relay/filter/html-deep", test_filter_html_deep);
	g_test_add_func("/relay/filter/verdict-words", test_filter_verdict_words);
	g_test_add_func("/relay/filter/null-lists", test_filter_null_lists);
	return g_test_run();
}
