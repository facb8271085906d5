/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * Actor documents: the one each network serves, and the parts of remote actors the relay needs.
 *
 * Building is plain json-glib: the caller decides every URL, nothing here knows the routes.
 * Parsing is lenient in shape (research/relays.md pitfall 8: `type` as a list, `publicKey` as a
 * list, empty or missing `endpoints`, links given as {"id": ...} objects) and strict about what
 * decides trust: a key is kept only when its id is an http(s) URL on the actor's own host and its
 * owner or controller is the actor, so a document on one host can never vouch for a key id on
 * another (the actor cache indexes keys by id).
 */

#include "config.h"

#include <string.h>

#include "relay-actor.h"
#include "relay-fed-error.h"

#define RELAY_ACTOR_MAX_PEM_BYTES	8192
#define RELAY_ACTOR_MAX_MULTIBASE_BYTES 4096

static const gchar *actor_types[] = {"Application", "Group", "Organization", "Person", "Service"};

/* ---- building ---------------------------------------------------------------------------- */

static gchar *
relay_actor_format_time(gint64 time_us)
{
	g_autoptr(GDateTime) date_time = g_date_time_new_from_unix_utc(time_us / G_USEC_PER_SEC);
	if (date_time == NULL)
		return NULL;
	return g_date_time_format(date_time, "%Y-%m-%dT%H:%M:%SZ");
}

static void
relay_actor_add_string(JsonBuilder *builder, const gchar *member, const gchar *value)
{
	json_builder_set_member_name(builder, member);
	json_builder_add_string_value(builder, value);
}

/**
 * relay_actor_document_new:
 * @info: the network's actor, see #RelayActorInfo
 *
 * Builds the ActivityPub document of a network actor (an `Application`), with the fields the
 * big servers need; see the table in relay-actor.h. Key ids are `ID#main-key` (RSA) and
 * `ID#ed25519-key` (FEP-521a Multikey, only when @info has one).
 *
 * Returns: (transfer full): the document, a JSON object
 */
JsonNode *
relay_actor_document_new(const RelayActorInfo *info)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autofree gchar *outbox = NULL;
	g_autofree gchar *followers = NULL;
	g_autofree gchar *following = NULL;
	g_autofree gchar *main_key_id = NULL;
	g_autofree gchar *published = NULL;
	gboolean has_ed25519;

	g_return_val_if_fail(info != NULL, NULL);
	g_return_val_if_fail(info->id != NULL, NULL);
	g_return_val_if_fail(info->inbox != NULL, NULL);
	g_return_val_if_fail(info->preferred_username != NULL, NULL);
	g_return_val_if_fail(info->public_key_pem != NULL, NULL);

	has_ed25519 = info->ed25519_multibase != NULL && info->ed25519_multibase[0] != '\0';
	outbox = info->outbox != NULL ? g_strdup(info->outbox)
				      : g_strconcat(info->id, "/outbox", NULL);
	followers = info->followers != NULL ? g_strdup(info->followers)
					    : g_strconcat(info->id, "/followers", NULL);
	following = info->following != NULL ? g_strdup(info->following)
					    : g_strconcat(info->id, "/following", NULL);
	main_key_id = g_strconcat(info->id, "#main-key", NULL);
	if (info->published_us > 0)
		published = relay_actor_format_time(info->published_us);

	json_builder_begin_object(builder);

	json_builder_set_member_name(builder, "@context");
	json_builder_begin_array(builder);
	json_builder_add_string_value(builder, "https://www.w3.org/ns/activitystreams");
	json_builder_add_string_value(builder, "https://w3id.org/security/v1");
	if (has_ed25519) {
		json_builder_add_string_value(builder,
					      "https://w3id.org/security/data-integrity/v1");
		json_builder_add_string_value(builder, "https://w3id.org/security/multikey/v1");
	}
	json_builder_begin_object(builder);
	relay_actor_add_string(
		builder, "manuallyApprovesFollowers", "as:manuallyApprovesFollowers");
	relay_actor_add_string(builder, "toot", "http://joinmastodon.org/ns#");
	relay_actor_add_string(builder, "discoverable", "toot:discoverable");
	if (has_ed25519) {
		/* neither data-integrity/v1 nor multikey/v1 defines the top-level term */
		json_builder_set_member_name(builder, "assertionMethod");
		json_builder_begin_object(builder);
		relay_actor_add_string(builder, "@id", "https://w3id.org/security#assertionMethod");
		relay_actor_add_string(builder, "@type", "@id");
		relay_actor_add_string(builder, "@container", "@set");
		json_builder_end_object(builder);
	}
	json_builder_end_object(builder);
	json_builder_end_array(builder);

	relay_actor_add_string(builder, "id", info->id);
	relay_actor_add_string(builder, "type", "Application");
	relay_actor_add_string(builder, "preferredUsername", info->preferred_username);
	relay_actor_add_string(
		builder, "name", info->name != NULL ? info->name : info->preferred_username);
	relay_actor_add_string(builder, "summary", info->summary != NULL ? info->summary : "");
	if (info->url != NULL)
		relay_actor_add_string(builder, "url", info->url);
	relay_actor_add_string(builder, "inbox", info->inbox);
	relay_actor_add_string(builder, "outbox", outbox);
	relay_actor_add_string(builder, "followers", followers);
	relay_actor_add_string(builder, "following", following);

	json_builder_set_member_name(builder, "endpoints");
	json_builder_begin_object(builder);
	relay_actor_add_string(builder, "sharedInbox", info->inbox);
	json_builder_end_object(builder);

	json_builder_set_member_name(builder, "manuallyApprovesFollowers");
	json_builder_add_boolean_value(builder, info->manually_approves_followers);
	json_builder_set_member_name(builder, "discoverable");
	json_builder_add_boolean_value(builder, FALSE);
	if (published != NULL)
		relay_actor_add_string(builder, "published", published);

	json_builder_set_member_name(builder, "publicKey");
	json_builder_begin_object(builder);
	relay_actor_add_string(builder, "id", main_key_id);
	relay_actor_add_string(builder, "owner", info->id);
	relay_actor_add_string(builder, "publicKeyPem", info->public_key_pem);
	json_builder_end_object(builder);

	if (has_ed25519) {
		g_autofree gchar *ed25519_key_id = g_strconcat(info->id, "#ed25519-key", NULL);
		json_builder_set_member_name(builder, "assertionMethod");
		json_builder_begin_array(builder);
		json_builder_begin_object(builder);
		relay_actor_add_string(builder, "id", ed25519_key_id);
		relay_actor_add_string(builder, "type", "Multikey");
		relay_actor_add_string(builder, "controller", info->id);
		relay_actor_add_string(builder, "publicKeyMultibase", info->ed25519_multibase);
		json_builder_end_object(builder);
		json_builder_end_array(builder);
	}

	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}

/**
 * relay_json_to_bytes:
 * @node: a JSON node
 *
 * Serialises @node compactly: no indentation and no trailing newline.
 *
 * Returns: (transfer full): the UTF-8 text
 */
GBytes *
relay_json_to_bytes(JsonNode *node)
{
	g_autoptr(JsonGenerator) generator = json_generator_new();
	gsize length = 0;
	gchar *data;

	g_return_val_if_fail(node != NULL, NULL);

	json_generator_set_pretty(generator, FALSE);
	json_generator_set_root(generator, node);
	data = json_generator_to_data(generator, &length);
	return g_bytes_new_take(data, length);
}

/* ---- parsing ----------------------------------------------------------------------------- */

/**
 * relay_actor_key_free:
 * @self: (transfer full) (nullable): a key
 *
 * Frees a #RelayActorKey.
 */
void
relay_actor_key_free(RelayActorKey *self)
{
	if (self == NULL)
		return;
	g_free(self->id);
	g_free(self->owner);
	g_free(self->pem);
	g_free(self);
}

/**
 * relay_actor_multikey_free:
 * @self: (transfer full) (nullable): a Multikey
 *
 * Frees a #RelayActorMultikey.
 */
void
relay_actor_multikey_free(RelayActorMultikey *self)
{
	if (self == NULL)
		return;
	g_free(self->id);
	g_free(self->controller);
	g_free(self->multibase);
	g_free(self);
}

/**
 * relay_remote_actor_free:
 * @self: (transfer full) (nullable): a parsed actor
 *
 * Frees a #RelayRemoteActor and its keys.
 */
void
relay_remote_actor_free(RelayRemoteActor *self)
{
	if (self == NULL)
		return;
	g_free(self->id);
	g_free(self->type);
	g_free(self->preferred_username);
	g_free(self->inbox);
	g_free(self->shared_inbox);
	g_free(self->followers);
	g_free(self->public_key_id);
	g_free(self->public_key_owner);
	g_free(self->public_key_pem);
	g_clear_pointer(&self->public_keys, g_ptr_array_unref);
	g_clear_pointer(&self->multikeys, g_ptr_array_unref);
	g_free(self);
}

static const gchar *
relay_actor_get_string(JsonObject *object, const gchar *member)
{
	JsonNode *node = json_object_get_member(object, member);
	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
	    json_node_get_value_type(node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(node);
}

/* a link given as a string, or as an object with a string id (both occur) */
static const gchar *
relay_actor_get_link(JsonObject *object, const gchar *member)
{
	JsonNode *node = json_object_get_member(object, member);
	if (node == NULL)
		return NULL;
	if (JSON_NODE_HOLDS_OBJECT(node))
		return relay_actor_get_string(json_node_get_object(node), "id");
	if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING)
		return json_node_get_string(node);
	return NULL;
}

/* the host and port of an absolute http(s) URL with a host, NULL otherwise */
static gchar *
relay_actor_url_authority(const gchar *url)
{
	g_autoptr(GUri) uri = NULL;
	const gchar *scheme;
	const gchar *host;
	gint port;

	if (url == NULL || url[0] == '\0')
		return NULL;
	uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
	if (uri == NULL)
		return NULL;
	scheme = g_uri_get_scheme(uri);
	host = g_uri_get_host(uri);
	if (host == NULL || host[0] == '\0')
		return NULL;
	if (g_ascii_strcasecmp(scheme, "https") == 0)
		port = g_uri_get_port(uri) > 0 ? g_uri_get_port(uri) : 443;
	else if (g_ascii_strcasecmp(scheme, "http") == 0)
		port = g_uri_get_port(uri) > 0 ? g_uri_get_port(uri) : 80;
	else
		return NULL;
	return g_strdup_printf("%s:%d", host, port);
}

static gboolean
relay_actor_is_http_url(const gchar *url)
{
	g_autofree gchar *authority = relay_actor_url_authority(url);
	return authority != NULL;
}

static gboolean
relay_actor_same_authority(const gchar *url, const gchar *authority)
{
	g_autofree gchar *other = relay_actor_url_authority(url);
	return other != NULL && g_ascii_strcasecmp(other, authority) == 0;
}

/* a type member: a string, or a list of strings; TRUE if @wanted is among them */
static gboolean
relay_actor_type_is(JsonObject *object, const gchar *wanted)
{
	JsonNode *node = json_object_get_member(object, "type");
	JsonArray *array;

	if (node == NULL)
		return FALSE;
	if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING)
		return g_strcmp0(json_node_get_string(node), wanted) == 0;
	if (!JSON_NODE_HOLDS_ARRAY(node))
		return FALSE;
	array = json_node_get_array(node);
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonNode *element = json_array_get_element(array, i);
		if (JSON_NODE_HOLDS_VALUE(element) &&
		    json_node_get_value_type(element) == G_TYPE_STRING &&
		    g_strcmp0(json_node_get_string(element), wanted) == 0)
			return TRUE;
	}
	return FALSE;
}

/* the actor's type: the string, or from a list the first actor type, else the first string */
static gchar *
relay_actor_pick_type(JsonObject *object)
{
	JsonNode *node = json_object_get_member(object, "type");
	JsonArray *array;
	const gchar *first = NULL;

	if (node == NULL)
		return NULL;
	if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING)
		return g_strdup(json_node_get_string(node));
	if (!JSON_NODE_HOLDS_ARRAY(node))
		return NULL;
	array = json_node_get_array(node);
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonNode *element = json_array_get_element(array, i);
		const gchar *value;
		if (!JSON_NODE_HOLDS_VALUE(element) ||
		    json_node_get_value_type(element) != G_TYPE_STRING)
			continue;
		value = json_node_get_string(element);
		if (first == NULL)
			first = value;
		for (guint j = 0; j < G_N_ELEMENTS(actor_types); j++) {
			if (g_strcmp0(value, actor_types[j]) == 0)
				return g_strdup(value);
		}
	}
	return g_strdup(first);
}

/*
 * Appends to @out the objects of @node (one object, or a list whose non-objects are skipped)
 * and returns how many entries @node has, objects or not.
 */
static guint
relay_actor_collect_objects(JsonNode *node, GPtrArray *out)
{
	JsonArray *array;
	guint length;

	if (node == NULL)
		return 0;
	if (JSON_NODE_HOLDS_OBJECT(node)) {
		g_ptr_array_add(out, json_node_get_object(node));
		return 1;
	}
	if (!JSON_NODE_HOLDS_ARRAY(node))
		return 0;
	array = json_node_get_array(node);
	length = json_array_get_length(array);
	for (guint i = 0; i < length; i++) {
		JsonNode *element = json_array_get_element(array, i);
		if (JSON_NODE_HOLDS_OBJECT(element))
			g_ptr_array_add(out, json_node_get_object(element));
	}
	return length;
}

static gboolean
relay_actor_pem_is_usable(const gchar *pem)
{
	if (pem == NULL || pem[0] == '\0')
		return FALSE;
	if (strlen(pem) > RELAY_ACTOR_MAX_PEM_BYTES)
		return FALSE;
	/* someone published a private key: do not trust anything that comes with it */
	return strstr(pem, "PRIVATE KEY") == NULL;
}

/* a legacy key entry the actor may use, or NULL (logged) */
static RelayActorKey *
relay_actor_key_from_object(JsonObject *object, const gchar *actor_id, const gchar *authority)
{
	const gchar *id = relay_actor_get_string(object, "id");
	const gchar *owner = relay_actor_get_link(object, "owner");
	const gchar *pem = relay_actor_get_string(object, "publicKeyPem");
	RelayActorKey *key;

	if (id == NULL || !relay_actor_same_authority(id, authority)) {
		g_debug("actor %s: skipping a key whose id is not on its host", actor_id);
		return NULL;
	}
	if (owner != NULL && g_strcmp0(owner, actor_id) != 0) {
		g_debug("actor %s: skipping key %s owned by another actor", actor_id, id);
		return NULL;
	}
	if (!relay_actor_pem_is_usable(pem)) {
		g_debug("actor %s: skipping key %s without a usable publicKeyPem", actor_id, id);
		return NULL;
	}
	key = g_new0(RelayActorKey, 1);
	key->id = g_strdup(id);
	key->owner = g_strdup(owner);
	key->pem = g_strdup(pem);
	return key;
}

/* a FEP-521a Multikey the actor may use, or NULL (logged) */
static RelayActorMultikey *
relay_actor_multikey_from_object(JsonObject *object, const gchar *actor_id, const gchar *authority)
{
	const gchar *id = relay_actor_get_string(object, "id");
	const gchar *controller = relay_actor_get_link(object, "controller");
	const gchar *multibase = relay_actor_get_string(object, "publicKeyMultibase");
	RelayActorMultikey *multikey;

	if (!relay_actor_type_is(object, "Multikey"))
		return NULL;
	if (id == NULL || !relay_actor_same_authority(id, authority)) {
		g_debug("actor %s: skipping a Multikey whose id is not on its host", actor_id);
		return NULL;
	}
	if (g_strcmp0(controller, actor_id) != 0) {
		g_debug("actor %s: skipping Multikey %s controlled by another actor", actor_id, id);
		return NULL;
	}
	/* a key that announces its own end is not worth the date arithmetic */
	if (json_object_has_member(object, "revoked") ||
	    json_object_has_member(object, "expires") ||
	    json_object_has_member(object, "secretKeyMultibase")) {
		g_debug("actor %s: skipping revoked, expiring or secret Multikey %s", actor_id, id);
		return NULL;
	}
	if (multibase == NULL || multibase[0] != 'z' || multibase[1] == '\0' ||
	    strlen(multibase) > RELAY_ACTOR_MAX_MULTIBASE_BYTES) {
		g_debug("actor %s: skipping Multikey %s without base58btc material", actor_id, id);
		return NULL;
	}
	multikey = g_new0(RelayActorMultikey, 1);
	multikey->id = g_strdup(id);
	multikey->controller = g_strdup(controller);
	multikey->multibase = g_strdup(multibase);
	return multikey;
}

/*
 * Adds @key (transfer full) to @keys unless its id is already there: the same material again
 * is a harmless repeat; different material under one id is ambiguous, and the id is refused.
 */
static void
relay_actor_add_key(GPtrArray *keys, GHashTable *refused, RelayActorKey *key)
{
	g_autoptr(RelayActorKey) owned = key;

	if (g_hash_table_contains(refused, owned->id))
		return;
	for (guint i = 0; i < keys->len; i++) {
		RelayActorKey *other = g_ptr_array_index(keys, i);
		if (g_strcmp0(other->id, owned->id) != 0)
			continue;
		if (g_strcmp0(other->pem, owned->pem) != 0) {
			g_hash_table_add(refused, g_strdup(owned->id));
			g_ptr_array_remove_index(keys, i);
		}
		return;
	}
	g_ptr_array_add(keys, g_steal_pointer(&owned));
}

static void
relay_actor_add_multikey(GPtrArray *multikeys, GHashTable *refused, RelayActorMultikey *multikey)
{
	g_autoptr(RelayActorMultikey) owned = multikey;

	if (g_hash_table_contains(refused, owned->id))
		return;
	for (guint i = 0; i < multikeys->len; i++) {
		RelayActorMultikey *other = g_ptr_array_index(multikeys, i);
		if (g_strcmp0(other->id, owned->id) != 0)
			continue;
		if (g_strcmp0(other->multibase, owned->multibase) != 0) {
			g_hash_table_add(refused, g_strdup(owned->id));
			g_ptr_array_remove_index(multikeys, i);
		}
		return;
	}
	g_ptr_array_add(multikeys, g_steal_pointer(&owned));
}

static gboolean
relay_remote_actor_parse_keys(RelayRemoteActor *self,
			      JsonObject *object,
			      const gchar *authority,
			      GError **error)
{
	g_autoptr(GPtrArray) entries = g_ptr_array_new();
	g_autoptr(GPtrArray) assertions = g_ptr_array_new();
	g_autoptr(GHashTable) refused_keys =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) refused_multikeys =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	guint n_entries = 0;
	guint n_assertions;

	/* publicKey first, so that public_key_* is the key servers have always used */
	n_entries +=
		relay_actor_collect_objects(json_object_get_member(object, "publicKey"), entries);
	n_entries += relay_actor_collect_objects(
		json_object_get_member(object, "additionalPublicKeys"), entries);
	if (n_entries > RELAY_REMOTE_ACTOR_MAX_KEYS) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_INVALID_DOCUMENT,
			    "actor %s lists %u public keys, more than %u",
			    self->id,
			    n_entries,
			    (guint)RELAY_REMOTE_ACTOR_MAX_KEYS);
		return FALSE;
	}
	n_assertions = relay_actor_collect_objects(
		json_object_get_member(object, "assertionMethod"), assertions);
	if (n_assertions > RELAY_REMOTE_ACTOR_MAX_MULTIKEYS) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_INVALID_DOCUMENT,
			    "actor %s lists %u assertion methods, more than %u",
			    self->id,
			    n_assertions,
			    (guint)RELAY_REMOTE_ACTOR_MAX_MULTIKEYS);
		return FALSE;
	}

	for (guint i = 0; i < entries->len; i++) {
		RelayActorKey *key = relay_actor_key_from_object(
			g_ptr_array_index(entries, i), self->id, authority);
		if (key != NULL)
			relay_actor_add_key(self->public_keys, refused_keys, key);
	}
	for (guint i = 0; i < assertions->len; i++) {
		RelayActorMultikey *multikey = relay_actor_multikey_from_object(
			g_ptr_array_index(assertions, i), self->id, authority);
		if (multikey != NULL)
			relay_actor_add_multikey(self->multikeys, refused_multikeys, multikey);
	}

	if (self->public_keys->len > 0) {
		RelayActorKey *key = g_ptr_array_index(self->public_keys, 0);
		self->public_key_id = g_strdup(key->id);
		self->public_key_owner = g_strdup(key->owner != NULL ? key->owner : self->id);
		self->public_key_pem = g_strdup(key->pem);
	}
	return TRUE;
}

/**
 * relay_remote_actor_parse:
 * @document: a fetched actor document
 * @error: (nullable): a #GError
 *
 * Reads what the relay needs from a remote actor. The document needs a string `id` and an
 * `inbox`, both http(s) URLs; everything else is optional and read leniently: `type` may be a
 * list, `publicKey` an object or a list, `endpoints` absent or empty. Keys come from
 * `publicKey`, `additionalPublicKeys` and FEP-521a `assertionMethod`; see #RelayRemoteActor for
 * which are kept. An actor without any usable key parses; whoever verifies a signature decides.
 *
 * Returns: (transfer full) (nullable): the actor, or %NULL with
 * %RELAY_FED_ERROR_INVALID_DOCUMENT
 */
RelayRemoteActor *
relay_remote_actor_parse(JsonNode *document, GError **error)
{
	g_autoptr(RelayRemoteActor) self = NULL;
	g_autofree gchar *authority = NULL;
	JsonObject *object;
	JsonNode *id_node;
	JsonNode *endpoints;
	const gchar *id;
	const gchar *inbox;
	const gchar *value;

	g_return_val_if_fail(document != NULL, NULL);

	if (!JSON_NODE_HOLDS_OBJECT(document)) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_INVALID_DOCUMENT,
				    "the actor document is not a JSON object");
		return NULL;
	}
	object = json_node_get_object(document);

	id_node = json_object_get_member(object, "id");
	if (id_node == NULL || JSON_NODE_HOLDS_NULL(id_node)) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_INVALID_DOCUMENT,
				    "the actor has no id");
		return NULL;
	}
	id = relay_actor_get_string(object, "id");
	if (id == NULL) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_INVALID_DOCUMENT,
				    "the actor id is not a string");
		return NULL;
	}
	authority = relay_actor_url_authority(id);
	if (authority == NULL) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_INVALID_DOCUMENT,
			    "the actor id '%s' is not an http(s) URL",
			    id);
		return NULL;
	}
	inbox = relay_actor_get_link(object, "inbox");
	if (inbox == NULL) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_INVALID_DOCUMENT,
			    "actor %s has no inbox",
			    id);
		return NULL;
	}
	if (!relay_actor_is_http_url(inbox)) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_INVALID_DOCUMENT,
			    "actor %s: the inbox '%s' is not an http(s) URL",
			    id,
			    inbox);
		return NULL;
	}

	self = g_new0(RelayRemoteActor, 1);
	self->public_keys = g_ptr_array_new_with_free_func((GDestroyNotify)relay_actor_key_free);
	self->multikeys = g_ptr_array_new_with_free_func((GDestroyNotify)relay_actor_multikey_free);
	self->id = g_strdup(id);
	self->inbox = g_strdup(inbox);
	self->type = relay_actor_pick_type(object);
	self->preferred_username = g_strdup(relay_actor_get_string(object, "preferredUsername"));

	endpoints = json_object_get_member(object, "endpoints");
	if (endpoints != NULL && JSON_NODE_HOLDS_OBJECT(endpoints)) {
		value = relay_actor_get_link(json_node_get_object(endpoints), "sharedInbox");
		if (relay_actor_is_http_url(value))
			self->shared_inbox = g_strdup(value);
	}
	value = relay_actor_get_link(object, "followers");
	if (relay_actor_is_http_url(value))
		self->followers = g_strdup(value);

	if (!relay_remote_actor_parse_keys(self, object, authority, error))
		return NULL;
	return g_steal_pointer(&self);
}

/**
 * relay_remote_actor_find_key_pem:
 * @self: a parsed actor
 * @key_id: a keyId from a signature
 *
 * Finds a legacy key of the actor by its id. A keyId without a fragment that names the actor
 * itself is taken to mean the actor's key when it has exactly one (some servers sign so).
 *
 * Returns: (transfer none) (nullable): the PEM, or %NULL if the actor does not list that key
 */
const gchar *
relay_remote_actor_find_key_pem(RelayRemoteActor *self, const gchar *key_id)
{
	g_return_val_if_fail(self != NULL, NULL);

	if (key_id == NULL)
		return NULL;
	for (guint i = 0; i < self->public_keys->len; i++) {
		RelayActorKey *key = g_ptr_array_index(self->public_keys, i);
		if (g_strcmp0(key->id, key_id) == 0)
			return key->pem;
	}
	if (self->public_keys->len == 1 && g_strcmp0(key_id, self->id) == 0) {
		RelayActorKey *key = g_ptr_array_index(self->public_keys, 0);
		return key->pem;
	}
	return NULL;
}

/**
 * relay_remote_actor_find_multikey:
 * @self: a parsed actor
 * @key_id: a key id from a signature or an integrity proof
 *
 * Finds a FEP-521a Multikey of the actor by its id.
 *
 * Returns: (transfer none) (nullable): the `publicKeyMultibase`, or %NULL if the actor does
 * not list that key
 */
const gchar *
relay_remote_actor_find_multikey(RelayRemoteActor *self, const gchar *key_id)
{
	g_return_val_if_fail(self != NULL, NULL);

	if (key_id == NULL)
		return NULL;
	for (guint i = 0; i < self->multikeys->len; i++) {
		RelayActorMultikey *multikey = g_ptr_array_index(self->multikeys, i);
		if (g_strcmp0(multikey->id, key_id) == 0)
			return multikey->multibase;
	}
	return NULL;
}

/**
 * relay_key_document_parse:
 * @document: a fetched key document
 * @out_id: (out) (optional) (transfer full): the key id
 * @out_owner: (out) (optional) (transfer full): the owning actor
 * @out_pem: (out) (optional) (transfer full): the public key
 * @error: (nullable): a #GError
 *
 * Reads a key served as a document of its own: `{id, owner, publicKeyPem}`, untyped (Mastodon
 * before 2.0) or typed `Key` or `CryptographicKey`. The id and owner must be http(s) URLs on
 * the same host; whether the owner really lists the key is for the caller to check.
 *
 * Returns: %TRUE on success, %FALSE with %RELAY_FED_ERROR_INVALID_DOCUMENT
 */
gboolean
relay_key_document_parse(
	JsonNode *document, gchar **out_id, gchar **out_owner, gchar **out_pem, GError **error)
{
	g_autofree gchar *authority = NULL;
	JsonObject *object;
	const gchar *id;
	const gchar *owner;
	const gchar *pem;

	g_return_val_if_fail(document != NULL, FALSE);

	if (!JSON_NODE_HOLDS_OBJECT(document)) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_INVALID_DOCUMENT,
				    "the key document is not a JSON object");
		return FALSE;
	}
	object = json_node_get_object(document);
	if (json_object_has_member(object, "type") && !relay_actor_type_is(object, "Key") &&
	    !relay_actor_type_is(object, "CryptographicKey")) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_INVALID_DOCUMENT,
				    "the document is not a Key or CryptographicKey");
		return FALSE;
	}
	id = relay_actor_get_string(object, "id");
	authority = relay_actor_url_authority(id);
	if (authority == NULL) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_INVALID_DOCUMENT,
				    "the key id is missing or not an http(s) URL");
		return FALSE;
	}
	owner = relay_actor_get_link(object, "owner");
	if (owner == NULL) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_INVALID_DOCUMENT,
			    "key %s has no owner",
			    id);
		return FALSE;
	}
	if (!relay_actor_same_authority(owner, authority)) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_INVALID_DOCUMENT,
			    "key %s: the owner '%s' is not an http(s) URL on the key's host",
			    id,
			    owner);
		return FALSE;
	}
	pem = relay_actor_get_string(object, "publicKeyPem");
	if (!relay_actor_pem_is_usable(pem)) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_INVALID_DOCUMENT,
			    "key %s has no usable publicKeyPem",
			    id);
		return FALSE;
	}

	if (out_id != NULL)
		*out_id = g_strdup(id);
	if (out_owner != NULL)
		*out_owner = g_strdup(owner);
	if (out_pem != NULL)
		*out_pem = g_strdup(pem);
	return TRUE;
}
