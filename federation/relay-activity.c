/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * Activities: reading what the network sends, and building what the relay sends.
 *
 * Reading is lenient where real servers differ (research/relays.md pitfall 8): `type` may be a
 * list (pub-relay's FuzzyStringArrayConverter), to/cc a string (Activity-Relay efca490), the
 * object of an Undo a URI or embedded, an actor or attributedTo an object or a list (PeerTube
 * lists a Person then a Group). It is strict only where a wrong guess would hurt: no type, no
 * actor, or an id that is not a string (Misskey and Pleroma reject those too) make the
 * document invalid.
 *
 * Building writes compact JSON with the ActivityStreams @context, and ids that are never reused
 * (receivers deduplicate by id: pitfall 2). The Accept/Reject embed the Follow exactly as it was
 * received, because Mastodon looks the relay up by the Follow's id and Misskey checks both the
 * id and the actor of the embedded Follow. Announces are addressed to as:Public with the
 * network's followers in cc, which is what Mastodon's visibility_from_audience needs to show
 * them as public (pitfall 4).
 */

#include "config.h"

#include <string.h>

#include "relay-activity.h"
#include "relay-actor.h"
#include "relay-json.h"

/* the spellings of the public collection met in the wild (compacted JSON-LD gives the last two) */
static const gchar *const relay_activity_public_spellings[] = {
	RELAY_ACTIVITY_PUBLIC,
	"as:Public",
	"Public",
};

/**
 * relay_activity_free:
 * @self: (transfer full) (nullable): a parsed activity
 *
 * Frees a #RelayActivity.
 */
void
relay_activity_free(RelayActivity *self)
{
	if (self == NULL)
		return;
	g_clear_pointer(&self->root, json_node_unref);
	g_free(self->id);
	g_strfreev(self->types);
	g_free(self->actor);
	g_clear_pointer(&self->object, json_node_unref);
	g_free(self->object_id);
	g_strfreev(self->object_types);
	g_free(self->object_actor);
	g_free(self);
}

static gboolean
relay_activity_node_is_string(JsonNode *node)
{
	return node != NULL && JSON_NODE_HOLDS_VALUE(node) &&
	       json_node_get_value_type(node) == G_TYPE_STRING;
}

/* a non-empty string, or NULL */
static const gchar *
relay_activity_node_get_string(JsonNode *node)
{
	const gchar *text;

	if (!relay_activity_node_is_string(node))
		return NULL;
	text = json_node_get_string(node);
	if (text == NULL || text[0] == '\0')
		return NULL;
	return text;
}

/*
 * A link as servers write it: a string, an object with a string id, or a list whose first usable
 * entry is one of those. Lists nest only one level.
 */
static const gchar *
relay_activity_node_get_link(JsonNode *node, gboolean allow_list)
{
	if (node == NULL)
		return NULL;
	if (JSON_NODE_HOLDS_OBJECT(node)) {
		JsonObject *object = json_node_get_object(node);
		return relay_activity_node_get_string(json_object_get_member(object, "id"));
	}
	if (allow_list && JSON_NODE_HOLDS_ARRAY(node)) {
		JsonArray *array = json_node_get_array(node);
		for (guint i = 0; i < json_array_get_length(array); i++) {
			const gchar *link = relay_activity_node_get_link(
				json_array_get_element(array, i), FALSE);
			if (link != NULL)
				return link;
		}
		return NULL;
	}
	return relay_activity_node_get_string(node);
}

static const gchar *
relay_activity_object_get_link(JsonObject *object, const gchar *member)
{
	return relay_activity_node_get_link(json_object_get_member(object, member), TRUE);
}

/* `type` as a string or a list of strings; NULL when there is no non-empty string */
static GStrv
relay_activity_read_types(JsonObject *object)
{
	JsonNode *node = json_object_get_member(object, "type");
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	guint count = 0;

	if (node == NULL)
		return NULL;
	if (JSON_NODE_HOLDS_ARRAY(node)) {
		JsonArray *array = json_node_get_array(node);
		for (guint i = 0; i < json_array_get_length(array); i++) {
			const gchar *type =
				relay_activity_node_get_string(json_array_get_element(array, i));
			if (type == NULL)
				continue;
			g_strv_builder_add(builder, type);
			count++;
		}
	} else {
		const gchar *type = relay_activity_node_get_string(node);
		if (type != NULL) {
			g_strv_builder_add(builder, type);
			count++;
		}
	}
	if (count == 0)
		return NULL;
	return g_strv_builder_end(builder);
}

/**
 * relay_activity_is_public_address:
 * @address: (nullable): one entry of to or cc
 *
 * Returns: %TRUE if @address names the public collection, in any of the spellings met in the
 *	wild: "https://www.w3.org/ns/activitystreams#Public", "as:Public" or "Public"
 */
gboolean
relay_activity_is_public_address(const gchar *address)
{
	if (address == NULL)
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(relay_activity_public_spellings); i++) {
		if (g_strcmp0(address, relay_activity_public_spellings[i]) == 0)
			return TRUE;
	}
	return FALSE;
}

/* does one audience entry name @address (NULL: the public collection)? */
static gboolean
relay_activity_address_matches(const gchar *entry, const gchar *address)
{
	if (address == NULL)
		return relay_activity_is_public_address(entry);
	return g_strcmp0(entry, address) == 0;
}

/* an audience member (to, cc): a string, an object with an id, or a list of those */
static gboolean
relay_activity_audience_has(JsonObject *object, const gchar *member, const gchar *address)
{
	JsonNode *node = json_object_get_member(object, member);

	if (node == NULL)
		return FALSE;
	if (JSON_NODE_HOLDS_ARRAY(node)) {
		JsonArray *array = json_node_get_array(node);
		for (guint i = 0; i < json_array_get_length(array); i++) {
			JsonNode *element = json_array_get_element(array, i);
			if (relay_activity_address_matches(
				    relay_activity_node_get_link(element, FALSE), address))
				return TRUE;
		}
		return FALSE;
	}
	return relay_activity_address_matches(relay_activity_node_get_link(node, FALSE), address);
}

static gboolean
relay_activity_addressed_publicly(JsonObject *object)
{
	return relay_activity_audience_has(object, "to", NULL) ||
	       relay_activity_audience_has(object, "cc", NULL);
}

/**
 * relay_activity_is_addressed_to:
 * @self: a #RelayActivity
 * @address: an actor or collection URL
 *
 * Returns: %TRUE if the activity's own `to` or `cc` names @address
 */
gboolean
relay_activity_is_addressed_to(RelayActivity *self, const gchar *address)
{
	JsonObject *root;

	g_return_val_if_fail(self != NULL, FALSE);
	g_return_val_if_fail(address != NULL, FALSE);
	root = json_node_get_object(self->root);
	return relay_activity_audience_has(root, "to", address) ||
	       relay_activity_audience_has(root, "cc", address);
}

/* an ISO 8601 date in seconds since the epoch; 0 when absent or unreadable */
static gint64
relay_activity_read_published(JsonObject *object)
{
	const gchar *text =
		relay_activity_node_get_string(json_object_get_member(object, "published"));
	g_autoptr(GTimeZone) utc = NULL;
	g_autoptr(GDateTime) date = NULL;

	if (text == NULL)
		return 0;
	/* a date without a zone is read as UTC */
	utc = g_time_zone_new_utc();
	date = g_date_time_new_from_iso8601(text, utc);
	if (date == NULL)
		return 0;
	return g_date_time_to_unix(date);
}

static gboolean
relay_activity_has_proof_member(JsonObject *object)
{
	JsonNode *node = json_object_get_member(object, "proof");
	JsonArray *array;

	if (node == NULL)
		return FALSE;
	if (JSON_NODE_HOLDS_OBJECT(node))
		return TRUE;
	if (!JSON_NODE_HOLDS_ARRAY(node))
		return FALSE;
	array = json_node_get_array(node);
	for (guint i = 0; i < json_array_get_length(array); i++) {
		if (JSON_NODE_HOLDS_OBJECT(json_array_get_element(array, i)))
			return TRUE;
	}
	return FALSE;
}

static gboolean
relay_activity_strv_contains(GStrv types, const gchar *type)
{
	if (types == NULL || type == NULL)
		return FALSE;
	return g_strv_contains((const gchar *const *)types, type);
}

/**
 * relay_activity_parse:
 * @body: a document received from the network
 * @error: (nullable): a #GError
 *
 * Reads an activity. The document must be a JSON object (bounded by %RELAY_JSON_MAX_DEPTH) with
 * a type and an actor; its id, when present and not null, must be a non-empty string.
 *
 * Returns: (transfer full) (nullable): the activity, or %NULL with
 *	%RELAY_FED_ERROR_INVALID_DOCUMENT
 */
RelayActivity *
relay_activity_parse(GBytes *body, GError **error)
{
	g_autoptr(RelayActivity) self = g_new0(RelayActivity, 1);
	JsonObject *root;
	JsonNode *id_node;
	JsonObject *embedded = NULL;
	const gchar *link;

	g_return_val_if_fail(body != NULL, NULL);

	self->root = relay_json_parse_object(body, RELAY_JSON_MAX_DEPTH, error);
	if (self->root == NULL)
		return NULL;
	root = json_node_get_object(self->root);

	id_node = json_object_get_member(root, "id");
	if (id_node != NULL && !JSON_NODE_HOLDS_NULL(id_node)) {
		const gchar *id = relay_activity_node_get_string(id_node);
		if (id == NULL) {
			g_set_error_literal(error,
					    RELAY_FED_ERROR,
					    RELAY_FED_ERROR_INVALID_DOCUMENT,
					    "the activity's id is not a non-empty string");
			return NULL;
		}
		self->id = g_strdup(id);
	}

	self->types = relay_activity_read_types(root);
	if (self->types == NULL) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_INVALID_DOCUMENT,
				    "the activity has no type");
		return NULL;
	}

	link = relay_activity_object_get_link(root, "actor");
	if (link == NULL) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_INVALID_DOCUMENT,
				    "the activity has no actor");
		return NULL;
	}
	self->actor = g_strdup(link);

	if (json_object_has_member(root, "object") &&
	    !JSON_NODE_HOLDS_NULL(json_object_get_member(root, "object"))) {
		self->object = json_node_ref(json_object_get_member(root, "object"));
		self->object_id = g_strdup(relay_activity_node_get_link(self->object, TRUE));
		if (JSON_NODE_HOLDS_OBJECT(self->object))
			embedded = json_node_get_object(self->object);
	}
	if (embedded != NULL) {
		self->object_types = relay_activity_read_types(embedded);
		link = relay_activity_object_get_link(embedded, "attributedTo");
		if (link == NULL)
			link = relay_activity_object_get_link(embedded, "actor");
		self->object_actor = g_strdup(link);
	}

	/* a Create's audience is its object's (ActivityPub 6.2), so either may carry it */
	self->is_public = relay_activity_addressed_publicly(root);
	if (!self->is_public && embedded != NULL && relay_activity_has_type(self, "Create"))
		self->is_public = relay_activity_addressed_publicly(embedded);

	self->has_ld_signature = json_object_has_member(root, "signature") &&
				 JSON_NODE_HOLDS_OBJECT(json_object_get_member(root, "signature"));
	self->has_proof = relay_activity_has_proof_member(root);

	self->published_s = relay_activity_read_published(root);
	if (self->published_s == 0 && embedded != NULL)
		self->published_s = relay_activity_read_published(embedded);

	return g_steal_pointer(&self);
}

/**
 * relay_activity_has_type:
 * @self: a #RelayActivity
 * @type: a type such as "Create"
 *
 * Returns: %TRUE if @type is the activity's type or one of its types
 */
gboolean
relay_activity_has_type(RelayActivity *self, const gchar *type)
{
	g_return_val_if_fail(self != NULL, FALSE);
	return relay_activity_strv_contains(self->types, type);
}

/**
 * relay_activity_object_has_type:
 * @self: a #RelayActivity
 * @type: a type such as "Follow"
 *
 * Returns: %TRUE if the object is embedded and @type is its type or one of its types
 */
gboolean
relay_activity_object_has_type(RelayActivity *self, const gchar *type)
{
	g_return_val_if_fail(self != NULL, FALSE);
	return relay_activity_strv_contains(self->object_types, type);
}

/**
 * relay_activity_get_embedded_object:
 * @self: a #RelayActivity
 *
 * Returns: (transfer none) (nullable): the object when it is embedded, %NULL when it is given
 *	by id or absent
 */
JsonObject *
relay_activity_get_embedded_object(RelayActivity *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	if (self->object == NULL || !JSON_NODE_HOLDS_OBJECT(self->object))
		return NULL;
	return json_node_get_object(self->object);
}

/**
 * relay_activity_object_get_string_member:
 * @self: a #RelayActivity
 * @member: a member name, such as "actor" for the Follow an Undo, Accept or Reject refers to
 *
 * Returns: (transfer none) (nullable): the member of the embedded object when it is a string;
 *	%NULL when the object is given by id, or the member is absent or not a string
 */
const gchar *
relay_activity_object_get_string_member(RelayActivity *self, const gchar *member)
{
	JsonObject *embedded;

	g_return_val_if_fail(self != NULL, NULL);
	g_return_val_if_fail(member != NULL, NULL);
	embedded = relay_activity_get_embedded_object(self);
	if (embedded == NULL)
		return NULL;
	return relay_json_object_get_string(embedded, member);
}

/**
 * relay_activity_json_has_type:
 * @object: a JSON object, such as an embedded object
 * @type: a type such as "Note"
 *
 * Returns: %TRUE if the `type` of @object, a string or a list, is or contains @type
 */
gboolean
relay_activity_json_has_type(JsonObject *object, const gchar *type)
{
	g_auto(GStrv) types = NULL;

	g_return_val_if_fail(object != NULL, FALSE);
	types = relay_activity_read_types(object);
	return relay_activity_strv_contains(types, type);
}

/**
 * relay_activity_host_of:
 * @url: (nullable): an absolute URL
 *
 * The host a URL points at, to compare senders, objects and inboxes: lower case, in ASCII
 * (internationalised names in punycode), IPv6 in brackets, with ":PORT" only when the port is
 * not the scheme's default.
 *
 * Returns: (transfer full) (nullable): "host" or "host:port", or %NULL when @url has no host
 */
gchar *
relay_activity_host_of(const gchar *url)
{
	g_autoptr(GUri) uri = NULL;
	g_autofree gchar *host = NULL;
	const gchar *scheme;
	gint port;

	if (url == NULL || url[0] == '\0')
		return NULL;
	uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
	if (uri == NULL || g_uri_get_host(uri) == NULL || g_uri_get_host(uri)[0] == '\0')
		return NULL;
	host = g_ascii_strdown(g_uri_get_host(uri), -1);
	if (strchr(host, ':') != NULL) {
		g_autofree gchar *bare = g_steal_pointer(&host);
		host = g_strdup_printf("[%s]", bare);
	}
	scheme = g_uri_get_scheme(uri);
	port = g_uri_get_port(uri);
	if (port <= 0 || (port == 443 && g_ascii_strcasecmp(scheme, "https") == 0) ||
	    (port == 80 && g_ascii_strcasecmp(scheme, "http") == 0))
		return g_steal_pointer(&host);
	return g_strdup_printf("%s:%d", host, port);
}

/* ---- building -------------------------------------------------------------------------- */

/**
 * relay_activity_new_id:
 * @origin: the relay's origin, e.g. "https://relay.example"
 *
 * Returns: (transfer full): a new activity id, ORIGIN/activities/UUID, never given before
 */
gchar *
relay_activity_new_id(const gchar *origin)
{
	g_autofree gchar *uuid = g_uuid_string_random();
	gsize length;

	g_return_val_if_fail(origin != NULL, NULL);
	length = strlen(origin);
	while (length > 0 && origin[length - 1] == '/')
		length--;
	return g_strdup_printf("%.*s/activities/%s", (gint)length, origin, uuid);
}

/* starts an activity: @context, id, type and actor, in that order */
static JsonBuilder *
relay_activity_builder_new(const gchar *id, const gchar *type, const gchar *actor)
{
	JsonBuilder *builder = json_builder_new();

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "@context");
	json_builder_add_string_value(builder, RELAY_ACTIVITY_CONTEXT);
	json_builder_set_member_name(builder, "id");
	json_builder_add_string_value(builder, id);
	json_builder_set_member_name(builder, "type");
	json_builder_add_string_value(builder, type);
	json_builder_set_member_name(builder, "actor");
	json_builder_add_string_value(builder, actor);
	return builder;
}

/* a member whose value is a list of one string */
static void
relay_activity_builder_add_list(JsonBuilder *builder, const gchar *member, const gchar *value)
{
	json_builder_set_member_name(builder, member);
	json_builder_begin_array(builder);
	json_builder_add_string_value(builder, value);
	json_builder_end_array(builder);
}

static GBytes *
relay_activity_builder_finish(JsonBuilder *builder)
{
	g_autoptr(JsonNode) root = NULL;

	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	return relay_json_to_bytes(root);
}

/* Accept or Reject of a Follow, which is embedded exactly as received */
static GBytes *
relay_activity_response_new(const gchar *type,
			    const gchar *id,
			    const gchar *actor,
			    JsonNode *follow)
{
	g_autoptr(JsonBuilder) builder = NULL;
	const gchar *follower = NULL;

	g_return_val_if_fail(id != NULL, NULL);
	g_return_val_if_fail(actor != NULL, NULL);
	g_return_val_if_fail(follow != NULL, NULL);

	if (JSON_NODE_HOLDS_OBJECT(follow))
		follower = relay_activity_object_get_link(json_node_get_object(follow), "actor");
	builder = relay_activity_builder_new(id, type, actor);
	json_builder_set_member_name(builder, "object");
	json_builder_add_value(builder, json_node_copy(follow));
	if (follower != NULL)
		relay_activity_builder_add_list(builder, "to", follower);
	return relay_activity_builder_finish(builder);
}

/**
 * relay_activity_accept_new:
 * @id: a new id, from relay_activity_new_id()
 * @actor: the network actor
 * @follow: the Follow as received: embedded as it is, with its id and actor (Mastodon finds the
 *	relay by the Follow's id; Misskey also checks its actor)
 *
 * Returns: (transfer full): Accept{object: @follow, to: [the follower]} as compact JSON
 */
GBytes *
relay_activity_accept_new(const gchar *id, const gchar *actor, JsonNode *follow)
{
	return relay_activity_response_new("Accept", id, actor, follow);
}

/**
 * relay_activity_reject_new:
 * @id: a new id, from relay_activity_new_id()
 * @actor: the network actor
 * @follow: the Follow as received, embedded as it is
 *
 * Returns: (transfer full): Reject{object: @follow, to: [the follower]} as compact JSON
 */
GBytes *
relay_activity_reject_new(const gchar *id, const gchar *actor, JsonNode *follow)
{
	return relay_activity_response_new("Reject", id, actor, follow);
}

/**
 * relay_activity_follow_new:
 * @id: a new id, from relay_activity_new_id()
 * @actor: the network actor
 * @object: the remote relay actor (LitePub follow-back) or %RELAY_ACTIVITY_PUBLIC (peering
 *	with a Mastodon-style relay)
 *
 * Returns: (transfer full): Follow{object: @object, to: [@object]} as compact JSON
 */
GBytes *
relay_activity_follow_new(const gchar *id, const gchar *actor, const gchar *object)
{
	g_autoptr(JsonBuilder) builder = NULL;

	g_return_val_if_fail(id != NULL, NULL);
	g_return_val_if_fail(actor != NULL, NULL);
	g_return_val_if_fail(object != NULL, NULL);

	builder = relay_activity_builder_new(id, "Follow", actor);
	json_builder_set_member_name(builder, "object");
	json_builder_add_string_value(builder, object);
	relay_activity_builder_add_list(builder, "to", object);
	return relay_activity_builder_finish(builder);
}

/**
 * relay_activity_undo_new:
 * @id: a new id, from relay_activity_new_id()
 * @actor: the network actor
 * @object: what is undone, usually the relay's own Follow as it was sent: an object, embedded
 *	as it is, or its id as a string
 *
 * The Undo is addressed like the embedded object (its `to`), when that has one.
 *
 * Returns: (transfer full): Undo{object: @object} as compact JSON
 */
GBytes *
relay_activity_undo_new(const gchar *id, const gchar *actor, JsonNode *object)
{
	g_autoptr(JsonBuilder) builder = NULL;
	JsonNode *to = NULL;

	g_return_val_if_fail(id != NULL, NULL);
	g_return_val_if_fail(actor != NULL, NULL);
	g_return_val_if_fail(object != NULL, NULL);

	if (JSON_NODE_HOLDS_OBJECT(object))
		to = json_object_get_member(json_node_get_object(object), "to");
	builder = relay_activity_builder_new(id, "Undo", actor);
	json_builder_set_member_name(builder, "object");
	json_builder_add_value(builder, json_node_copy(object));
	if (to != NULL) {
		json_builder_set_member_name(builder, "to");
		json_builder_add_value(builder, json_node_copy(to));
	}
	return relay_activity_builder_finish(builder);
}

/**
 * relay_activity_announce_new:
 * @id: a new id, from relay_activity_new_id()
 * @actor: the network actor
 * @object_id: the id of the relayed object (or activity)
 * @followers: (nullable): the network's followers collection, put in cc
 * @published_s: when the relayed object was published, in seconds since the epoch; 0 or less
 *	for now (some relays drop activities without `published`)
 *
 * Returns: (transfer full): Announce{object: @object_id, to: [as:Public], cc: [@followers],
 *	published} as compact JSON
 */
GBytes *
relay_activity_announce_new(const gchar *id,
			    const gchar *actor,
			    const gchar *object_id,
			    const gchar *followers,
			    gint64 published_s)
{
	g_autoptr(JsonBuilder) builder = NULL;
	g_autoptr(GDateTime) date = NULL;
	g_autofree gchar *published = NULL;

	g_return_val_if_fail(id != NULL, NULL);
	g_return_val_if_fail(actor != NULL, NULL);
	g_return_val_if_fail(object_id != NULL, NULL);

	if (published_s > 0)
		date = g_date_time_new_from_unix_utc(published_s);
	if (date == NULL)
		date = g_date_time_new_now_utc();
	published = g_date_time_format(date, "%Y-%m-%dT%H:%M:%SZ");

	builder = relay_activity_builder_new(id, "Announce", actor);
	json_builder_set_member_name(builder, "object");
	json_builder_add_string_value(builder, object_id);
	relay_activity_builder_add_list(builder, "to", RELAY_ACTIVITY_PUBLIC);
	if (followers != NULL) {
		relay_activity_builder_add_list(builder, "cc", followers);
	} else {
		json_builder_set_member_name(builder, "cc");
		json_builder_begin_array(builder);
		json_builder_end_array(builder);
	}
	json_builder_set_member_name(builder, "published");
	json_builder_add_string_value(builder, published);
	return relay_activity_builder_finish(builder);
}
