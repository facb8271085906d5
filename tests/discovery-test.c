/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#include "config.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "relay-actor.h"
#include "relay-discovery.h"
#include "relay-fed-error.h"
#include "relay-test-utils.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

#define ACTOR_ID    "https://relay.example/actor"
#define ACTOR_INBOX "https://relay.example/inbox"
#define TEST_PEM                                                                                   \
	"-----BEGIN PUBLIC "                                                                       \
	"KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAp1uGudgNrR9HQBEn\n"                 \
	"-----END PUBLIC KEY-----\n"
#define OTHER_PEM                                                                                  \
	"-----BEGIN PUBLIC "                                                                       \
	"KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n"                 \
	"-----END PUBLIC KEY-----\n"
#define TEST_MULTIBASE "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"

/* ---- helpers ------------------------------------------------------------------------------- */

static JsonNode *
parse_json(const gchar *text)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;

	json_parser_load_from_data(parser, text, -1, &error);
	g_assert_no_error(error);
	return json_node_ref(json_parser_get_root(parser));
}

/* a captured document from the shared fixtures, or NULL (the test is skipped) */
static JsonNode *
load_fixture(const gchar *name)
{
	g_autofree gchar *relative =
		g_build_filename("..", "shared", "fixtures", "captured", name, NULL);
	g_autofree gchar *path = relay_test_source_path(relative);
	g_autofree gchar *text = NULL;
	g_autoptr(GError) error = NULL;

	if (!g_file_get_contents(path, &text, NULL, &error)) {
		g_autofree gchar *message = g_strdup_printf("fixture %s: %s", path, error->message);
		g_test_skip(message);
		return NULL;
	}
	return parse_json(text);
}

static const gchar *
get_string(JsonObject *object, const gchar *member)
{
	JsonNode *node = json_object_get_member(object, member);
	g_assert_nonnull(node);
	g_assert_true(JSON_NODE_HOLDS_VALUE(node));
	g_assert_cmpint(json_node_get_value_type(node), ==, G_TYPE_STRING);
	return json_node_get_string(node);
}

static JsonObject *
get_object(JsonObject *object, const gchar *member)
{
	JsonNode *node = json_object_get_member(object, member);
	g_assert_nonnull(node);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	return json_node_get_object(node);
}

static JsonArray *
get_array(JsonObject *object, const gchar *member)
{
	JsonNode *node = json_object_get_member(object, member);
	g_assert_nonnull(node);
	g_assert_true(JSON_NODE_HOLDS_ARRAY(node));
	return json_node_get_array(node);
}

static gboolean
get_boolean(JsonObject *object, const gchar *member)
{
	JsonNode *node = json_object_get_member(object, member);
	g_assert_nonnull(node);
	g_assert_true(JSON_NODE_HOLDS_VALUE(node));
	g_assert_cmpint(json_node_get_value_type(node), ==, G_TYPE_BOOLEAN);
	return json_node_get_boolean(node);
}

static gboolean
array_has_string(JsonArray *array, const gchar *value)
{
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonNode *node = json_array_get_element(array, i);
		if (JSON_NODE_HOLDS_VALUE(node) &&
		    json_node_get_value_type(node) == G_TYPE_STRING &&
		    g_strcmp0(json_node_get_string(node), value) == 0)
			return TRUE;
	}
	return FALSE;
}

static void
relay_actor_info_init_default(RelayActorInfo *info)
{
	memset(info, 0, sizeof(*info));
	info->id = ACTOR_ID;
	info->inbox = ACTOR_INBOX;
	info->outbox = ACTOR_ID "/outbox";
	info->followers = ACTOR_ID "/followers";
	info->following = ACTOR_ID "/following";
	info->preferred_username = "relay";
	info->name = "Town relay";
	info->summary = "<p>Public posts of the town's associations</p>";
	info->url = "https://relay.example/";
	info->manually_approves_followers = FALSE;
	info->public_key_pem = TEST_PEM;
	info->ed25519_multibase = NULL;
	info->published_us = G_GINT64_CONSTANT(1767323045) * G_USEC_PER_SEC + 123456;
}

/* ---- the network actor --------------------------------------------------------------------- */

static void
test_actor_document_fields(void)
{
	RelayActorInfo info;
	g_autoptr(JsonNode) document = NULL;
	g_autoptr(GUri) id_uri = NULL;
	JsonObject *object;
	JsonArray *context;
	JsonObject *terms;
	JsonObject *endpoints;
	JsonObject *key;

	relay_actor_info_init_default(&info);
	document = relay_actor_document_new(&info);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(document));
	object = json_node_get_object(document);

	/* JSON-LD: the terms Mastodon, Friendica (compacted) and GoToSocial read */
	context = get_array(object, "@context");
	g_assert_cmpuint(json_array_get_length(context), ==, 3);
	g_assert_cmpstr(json_array_get_string_element(context, 0),
			==,
			"https://www.w3.org/ns/activitystreams");
	g_assert_cmpstr(
		json_array_get_string_element(context, 1), ==, "https://w3id.org/security/v1");
	g_assert_false(array_has_string(context, "https://w3id.org/security/data-integrity/v1"));
	terms = json_array_get_object_element(context, 2);
	g_assert_nonnull(terms);
	g_assert_cmpstr(
		get_string(terms, "manuallyApprovesFollowers"), ==, "as:manuallyApprovesFollowers");
	g_assert_cmpstr(get_string(terms, "toot"), ==, "http://joinmastodon.org/ns#");
	g_assert_cmpstr(get_string(terms, "discoverable"), ==, "toot:discoverable");
	g_assert_false(json_object_has_member(terms, "assertionMethod"));

	/* everyone: id, type; Friendica: Application, nick relay, path /actor */
	g_assert_cmpstr(get_string(object, "id"), ==, ACTOR_ID);
	g_assert_cmpstr(get_string(object, "type"), ==, "Application");
	g_assert_cmpstr(get_string(object, "preferredUsername"), ==, "relay");
	id_uri = g_uri_parse(get_string(object, "id"), G_URI_FLAGS_NONE, NULL);
	g_assert_nonnull(id_uri);
	g_assert_cmpstr(g_uri_get_path(id_uri), ==, "/actor");

	/* Mastodon and Misskey: inbox and sharedInbox are the URL admins paste */
	g_assert_cmpstr(get_string(object, "inbox"), ==, ACTOR_INBOX);
	endpoints = get_object(object, "endpoints");
	g_assert_cmpstr(get_string(endpoints, "sharedInbox"), ==, ACTOR_INBOX);
	g_assert_cmpstr(get_string(endpoints, "sharedInbox"), ==, get_string(object, "inbox"));

	/* Pleroma/Akkoma: followers and following; GoToSocial, Friendica: outbox */
	g_assert_cmpstr(get_string(object, "followers"), ==, ACTOR_ID "/followers");
	g_assert_cmpstr(get_string(object, "following"), ==, ACTOR_ID "/following");
	g_assert_cmpstr(get_string(object, "outbox"), ==, ACTOR_ID "/outbox");

	/* everyone verifies our signatures with ID#main-key, owned by ID */
	key = get_object(object, "publicKey");
	g_assert_cmpstr(get_string(key, "id"), ==, ACTOR_ID "#main-key");
	g_assert_cmpstr(get_string(key, "owner"), ==, ACTOR_ID);
	g_assert_cmpstr(get_string(key, "publicKeyPem"), ==, TEST_PEM);

	/* display and directory */
	g_assert_cmpstr(get_string(object, "name"), ==, "Town relay");
	g_assert_cmpstr(get_string(object, "summary"),
			==,
			"<p>Public posts of the town's associations</p>");
	g_assert_cmpstr(get_string(object, "url"), ==, "https://relay.example/");
	g_assert_false(get_boolean(object, "manuallyApprovesFollowers"));
	g_assert_false(get_boolean(object, "discoverable"));
	g_assert_cmpstr(get_string(object, "published"), ==, "2026-01-02T03:04:05Z");

	/* no Ed25519 key: no FEP-521a */
	g_assert_false(json_object_has_member(object, "assertionMethod"));
}

static void
test_actor_manually_approves(void)
{
	RelayActorInfo info;
	g_autoptr(JsonNode) open = NULL;
	g_autoptr(JsonNode) approval = NULL;

	relay_actor_info_init_default(&info);
	open = relay_actor_document_new(&info);
	info.manually_approves_followers = TRUE;
	approval = relay_actor_document_new(&info);
	g_assert_false(get_boolean(json_node_get_object(open), "manuallyApprovesFollowers"));
	g_assert_true(get_boolean(json_node_get_object(approval), "manuallyApprovesFollowers"));
}

static void
test_actor_named_network(void)
{
	RelayActorInfo info;
	g_autoptr(JsonNode) document = NULL;
	JsonObject *object;

	relay_actor_info_init_default(&info);
	info.id = "https://relay.example/networks/guild";
	info.inbox = "https://relay.example/networks/guild/inbox";
	info.outbox = NULL;
	info.followers = NULL;
	info.following = NULL;
	info.preferred_username = "guild";
	info.name = NULL;
	info.summary = NULL;
	info.url = NULL;
	info.published_us = 0;
	document = relay_actor_document_new(&info);
	object = json_node_get_object(document);

	g_assert_cmpstr(get_string(object, "id"), ==, "https://relay.example/networks/guild");
	g_assert_cmpstr(
		get_string(object, "inbox"), ==, "https://relay.example/networks/guild/inbox");
	g_assert_cmpstr(get_string(get_object(object, "endpoints"), "sharedInbox"),
			==,
			"https://relay.example/networks/guild/inbox");
	g_assert_cmpstr(
		get_string(object, "outbox"), ==, "https://relay.example/networks/guild/outbox");
	g_assert_cmpstr(get_string(object, "followers"),
			==,
			"https://relay.example/networks/guild/followers");
	g_assert_cmpstr(get_string(object, "following"),
			==,
			"https://relay.example/networks/guild/following");
	g_assert_cmpstr(get_string(object, "preferredUsername"), ==, "guild");
	g_assert_cmpstr(get_string(object, "name"), ==, "guild");
	g_assert_cmpstr(get_string(object, "summary"), ==, "");
	g_assert_false(json_object_has_member(object, "url"));
	g_assert_false(json_object_has_member(object, "published"));
	g_assert_cmpstr(get_string(get_object(object, "publicKey"), "id"),
			==,
			"https://relay.example/networks/guild#main-key");
}

static void
test_actor_ed25519(void)
{
	RelayActorInfo info;
	g_autoptr(JsonNode) document = NULL;
	JsonObject *object;
	JsonArray *context;
	JsonObject *terms;
	JsonArray *methods;
	JsonObject *multikey;

	relay_actor_info_init_default(&info);
	info.ed25519_multibase = TEST_MULTIBASE;
	document = relay_actor_document_new(&info);
	object = json_node_get_object(document);

	context = get_array(object, "@context");
	g_assert_true(array_has_string(context, "https://w3id.org/security/data-integrity/v1"));
	g_assert_true(array_has_string(context, "https://w3id.org/security/multikey/v1"));
	terms = json_array_get_object_element(context, json_array_get_length(context) - 1);
	g_assert_cmpstr(get_string(get_object(terms, "assertionMethod"), "@id"),
			==,
			"https://w3id.org/security#assertionMethod");

	methods = get_array(object, "assertionMethod");
	g_assert_cmpuint(json_array_get_length(methods), ==, 1);
	multikey = json_array_get_object_element(methods, 0);
	g_assert_cmpstr(get_string(multikey, "id"), ==, ACTOR_ID "#ed25519-key");
	g_assert_cmpstr(get_string(multikey, "type"), ==, "Multikey");
	g_assert_cmpstr(get_string(multikey, "controller"), ==, ACTOR_ID);
	g_assert_cmpstr(get_string(multikey, "publicKeyMultibase"), ==, TEST_MULTIBASE);

	/* the RSA key stays where everyone looks for it */
	g_assert_cmpstr(
		get_string(get_object(object, "publicKey"), "id"), ==, ACTOR_ID "#main-key");
}

static void
test_actor_round_trip(void)
{
	RelayActorInfo info;
	g_autoptr(JsonNode) document = NULL;
	g_autoptr(JsonNode) parsed = NULL;
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(RelayRemoteActor) actor = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *text = NULL;
	gsize size = 0;
	const gchar *data;

	relay_actor_info_init_default(&info);
	info.name = "Ville « Nord » \"quoted\"";
	info.ed25519_multibase = TEST_MULTIBASE;
	document = relay_actor_document_new(&info);
	bytes = relay_json_to_bytes(document);
	data = g_bytes_get_data(bytes, &size);
	g_assert_cmpuint(size, >, 0);
	g_assert_cmpint(data[0], ==, '{');
	g_assert_cmpint(data[size - 1], ==, '}');
	g_assert_null(memchr(data, '\n', size));
	g_assert_true(g_utf8_validate(data, (gssize)size, NULL));

	text = g_strndup(data, size);
	parsed = parse_json(text);
	g_assert_true(json_node_equal(document, parsed));

	/* and we read our own document as a remote relay would */
	actor = relay_remote_actor_parse(parsed, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(actor->id, ==, ACTOR_ID);
	g_assert_cmpstr(actor->type, ==, "Application");
	g_assert_cmpstr(actor->preferred_username, ==, "relay");
	g_assert_cmpstr(actor->inbox, ==, ACTOR_INBOX);
	g_assert_cmpstr(actor->shared_inbox, ==, ACTOR_INBOX);
	g_assert_cmpstr(actor->followers, ==, ACTOR_ID "/followers");
	g_assert_cmpstr(actor->public_key_id, ==, ACTOR_ID "#main-key");
	g_assert_cmpstr(actor->public_key_owner, ==, ACTOR_ID);
	g_assert_cmpstr(relay_remote_actor_find_key_pem(actor, ACTOR_ID "#main-key"), ==, TEST_PEM);
	g_assert_cmpstr(relay_remote_actor_find_multikey(actor, ACTOR_ID "#ed25519-key"),
			==,
			TEST_MULTIBASE);
	g_assert_null(relay_remote_actor_find_multikey(actor, ACTOR_ID "#main-key"));
}

/* ---- remote actors: captured documents ----------------------------------------------------- */

static void
test_actor_remote_person(void)
{
	g_autoptr(JsonNode) document = load_fixture("activity-relay/person.json");
	g_autoptr(RelayRemoteActor) actor = NULL;
	g_autoptr(GError) error = NULL;

	if (document == NULL)
		return;
	actor = relay_remote_actor_parse(document, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(actor->id, ==, "https://innocent.yukimochi.io/users/YUKIMOCHI");
	g_assert_cmpstr(actor->type, ==, "Person");
	g_assert_cmpstr(actor->preferred_username, ==, "YUKIMOCHI");
	g_assert_cmpstr(actor->inbox, ==, "https://innocent.yukimochi.io/users/YUKIMOCHI/inbox");
	g_assert_cmpstr(actor->shared_inbox, ==, "https://innocent.yukimochi.io/inbox");
	g_assert_cmpstr(
		actor->followers, ==, "https://innocent.yukimochi.io/users/YUKIMOCHI/followers");
	g_assert_cmpstr(
		actor->public_key_id, ==, "https://innocent.yukimochi.io/users/YUKIMOCHI#main-key");
	g_assert_cmpstr(
		actor->public_key_owner, ==, "https://innocent.yukimochi.io/users/YUKIMOCHI");
	g_assert_true(g_str_has_prefix(actor->public_key_pem, "-----BEGIN PUBLIC KEY-----\n"));
	g_assert_cmpuint(actor->public_keys->len, ==, 1);
	g_assert_cmpuint(actor->multikeys->len, ==, 0);
	g_assert_true(relay_remote_actor_find_key_pem(
			      actor, "https://innocent.yukimochi.io/users/YUKIMOCHI#main-key") ==
		      ((RelayActorKey *)g_ptr_array_index(actor->public_keys, 0))->pem);
	g_assert_null(
		relay_remote_actor_find_key_pem(actor, "https://innocent.yukimochi.io/actor"));
	g_assert_null(relay_remote_actor_find_key_pem(
		actor, "https://innocent.yukimochi.io/actor#main-key"));
}

static void
test_actor_remote_instance_actor(gconstpointer user_data)
{
	const gchar *type = user_data;
	g_autofree gchar *name = g_strdup_printf("activity-relay/%s.json", type);
	g_autoptr(JsonNode) document = load_fixture(name);
	g_autoptr(RelayRemoteActor) actor = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *expected_type = NULL;

	if (document == NULL)
		return;
	actor = relay_remote_actor_parse(document, &error);
	g_assert_no_error(error);
	expected_type = g_strdup(type);
	expected_type[0] = g_ascii_toupper(expected_type[0]);
	g_assert_cmpstr(actor->type, ==, expected_type);
	/* Mastodon's instance actor: preferredUsername is the host */
	g_assert_cmpstr(actor->id, ==, "https://innocent.yukimochi.io/actor");
	g_assert_cmpstr(actor->preferred_username, ==, "innocent.yukimochi.io");
	g_assert_cmpstr(actor->inbox, ==, "https://innocent.yukimochi.io/actor/inbox");
	g_assert_cmpstr(actor->shared_inbox, ==, "https://innocent.yukimochi.io/inbox");
	g_assert_null(actor->followers);
	g_assert_cmpstr(actor->public_key_id, ==, "https://innocent.yukimochi.io/actor#main-key");
	g_assert_nonnull(relay_remote_actor_find_key_pem(
		actor, "https://innocent.yukimochi.io/actor#main-key"));
}

static void
test_actor_remote_empty_endpoints(void)
{
	g_autoptr(JsonNode) document = load_fixture("mastodon-2.4.3/actor_empty_endpoints.json");
	g_autoptr(RelayRemoteActor) actor = NULL;
	g_autoptr(GError) error = NULL;

	if (document == NULL)
		return;
	actor = relay_remote_actor_parse(document, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(actor->id, ==, "https://microblog.pub");
	g_assert_cmpstr(actor->type, ==, "Person");
	g_assert_cmpstr(actor->inbox, ==, "https://microblog.pub/inbox");
	g_assert_null(actor->shared_inbox);
	g_assert_cmpstr(actor->public_key_id, ==, "https://microblog.pub#main-key");
	g_assert_nonnull(relay_remote_actor_find_key_pem(actor, "https://microblog.pub#main-key"));
	/* a keyId naming the actor itself means its only key */
	g_assert_cmpstr(relay_remote_actor_find_key_pem(actor, "https://microblog.pub"),
			==,
			actor->public_key_pem);
	g_assert_null(relay_remote_actor_find_key_pem(actor, "https://microblog.pub#other"));
}

/* ---- remote actors: lenient and invalid variants ------------------------------------------- */

#define REMOTE_ID    "https://social.example/users/alice"
#define REMOTE_INBOX "\"inbox\": \"https://social.example/users/alice/inbox\""
#define REMOTE_KEY(pem)                                                                            \
	"{\"id\": \"" REMOTE_ID "#main-key\", \"owner\": \"" REMOTE_ID "\", "                      \
	"\"publicKeyPem\": \"" pem "\"}"
#define PEM_A "-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC KEY-----\\n"
#define PEM_B "-----BEGIN PUBLIC KEY-----\\nBBBB\\n-----END PUBLIC KEY-----\\n"

static const struct {
	const gchar *name;
	const gchar *json;
	gint code; /* -1 = parses */
	const gchar *type;
	const gchar *shared_inbox;
	guint n_keys;
	guint n_multikeys;
} remote_cases[] = {
	{"type-list",
	 "{\"id\": \"" REMOTE_ID
	 "\", \"type\": [\"https://ns.example/Relay\", \"Service\"], " REMOTE_INBOX "}",
	 -1,
	 "Service",
	 NULL,
	 0,
	 0},
	{"type-list-unknown",
	 "{\"id\": \"" REMOTE_ID "\", \"type\": [\"Relay\", 3], " REMOTE_INBOX "}",
	 -1,
	 "Relay",
	 NULL,
	 0,
	 0},
	{"type-missing", "{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX "}", -1, NULL, NULL, 0, 0},
	{"endpoints-empty",
	 "{\"id\": \"" REMOTE_ID "\", \"type\": \"Person\", " REMOTE_INBOX ", \"endpoints\": {}}",
	 -1,
	 "Person",
	 NULL,
	 0,
	 0},
	{"endpoints-not-object",
	 "{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX
	 ", \"endpoints\": \"https://social.example/\"}",
	 -1,
	 NULL,
	 NULL,
	 0,
	 0},
	{"shared-inbox-not-url",
	 "{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX
	 ", \"endpoints\": {\"sharedInbox\": \"inbox\"}}",
	 -1,
	 NULL,
	 NULL,
	 0,
	 0},
	{"shared-inbox-object",
	 "{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX
	 ", \"endpoints\": {\"sharedInbox\": {\"id\": \"https://social.example/inbox\"}}}",
	 -1,
	 NULL,
	 "https://social.example/inbox",
	 0,
	 0},
	{"inbox-object",
	 "{\"id\": \"" REMOTE_ID
	 "\", \"inbox\": {\"id\": \"https://social.example/users/alice/inbox\"}}",
	 -1,
	 NULL,
	 NULL,
	 0,
	 0},
	{"public-key-object",
	 "{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX ", \"publicKey\": " REMOTE_KEY(PEM_A) "}",
	 -1,
	 NULL,
	 NULL,
	 1,
	 0},
	{"public-key-list",
	 "{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX ", \"publicKey\": [" REMOTE_KEY(
		 PEM_A) ", {\"id\": \"" REMOTE_ID "#second\", \"publicKeyPem\": \"" PEM_B "\"}]}",
	 -1,
	 NULL,
	 NULL,
	 2,
	 0},
	{"public-key-reference",
	 "{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX ", \"publicKey\": [\"" REMOTE_ID
	 "#main-key\", " REMOTE_KEY(PEM_A) "]}",
	 -1,
	 NULL,
	 NULL,
	 1,
	 0},
	{"public-key-owner-object",
	 "{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX ", \"publicKey\": {\"id\": \"" REMOTE_ID
	 "#main-key\", \"owner\": {\"id\": \"" REMOTE_ID "\"}, \"publicKeyPem\": \"" PEM_A "\"}}",
	 -1,
	 NULL,
	 NULL,
	 1,
	 0},
	{"public-key-other-host",
	 "{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX
	 ", \"publicKey\": {\"id\": \"https://victim.example/users/bob#main-key\", \"owner\": "
	 "\"" REMOTE_ID "\", \"publicKeyPem\": \"" PEM_A "\"}}",
	 -1,
	 NULL,
	 NULL,
	 0,
	 0},
	{"public-key-other-port",
	 "{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX
	 ", \"publicKey\": {\"id\": \"https://social.example:8443/users/alice#main-key\", "
	 "\"publicKeyPem\": \"" PEM_A "\"}}",
	 -1,
	 NULL,
	 NULL,
	 0,
	 0},
	{"public-key-other-owner",
	 "{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX ", \"publicKey\": {\"id\": \"" REMOTE_ID
	 "#main-key\", \"owner\": \"https://social.example/users/bob\", \"publicKeyPem\": \"" PEM_A
	 "\"}}",
	 -1,
	 NULL,
	 NULL,
	 0,
	 0},
	{"public-key-private",
	 "{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX ", \"publicKey\": {\"id\": \"" REMOTE_ID
	 "#main-key\", \"publicKeyPem\": \"-----BEGIN PRIVATE KEY-----\\nAAAA\\n\"}}",
	 -1,
	 NULL,
	 NULL,
	 0,
	 0},
	{"public-key-no-pem",
	 "{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX ", \"publicKey\": {\"id\": \"" REMOTE_ID
	 "#main-key\", \"publicKeyPem\": 7}}",
	 -1,
	 NULL,
	 NULL,
	 0,
	 0},
	{"public-key-repeated",
	 "{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX
	 ", \"publicKey\": [" REMOTE_KEY(PEM_A) ", " REMOTE_KEY(PEM_A) "]}",
	 -1,
	 NULL,
	 NULL,
	 1,
	 0},
	{"public-key-conflict",
	 "{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX
	 ", \"publicKey\": [" REMOTE_KEY(PEM_A) ", " REMOTE_KEY(PEM_B) ", " REMOTE_KEY(PEM_A) "]}",
	 -1,
	 NULL,
	 NULL,
	 0,
	 0},
	{"additional-public-keys",
	 "{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX
	 ", \"publicKey\": " REMOTE_KEY(PEM_A) ", \"additionalPublicKeys\": [{\"id\": \"" REMOTE_ID
					       "#rotated\", \"owner\": \"" REMOTE_ID
					       "\", \"publicKeyPem\": \"" PEM_B "\"}]}",
	 -1,
	 NULL,
	 NULL,
	 2,
	 0},
	{"multikey-object",
	 "{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX ", \"assertionMethod\": {\"id\": \"" REMOTE_ID
	 "#ed25519-key\", \"type\": \"Multikey\", \"controller\": \"" REMOTE_ID
	 "\", \"publicKeyMultibase\": \"" TEST_MULTIBASE "\"}}",
	 -1,
	 NULL,
	 NULL,
	 0,
	 1},
	{"multikey-list",
	 "{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX ", \"assertionMethod\": [\"" REMOTE_ID
	 "#ed25519-key\", {\"id\": \"" REMOTE_ID
	 "#ed25519-key\", \"type\": \"Multikey\", \"controller\": \"" REMOTE_ID
	 "\", \"publicKeyMultibase\": \"" TEST_MULTIBASE "\"}, {\"id\": \"" REMOTE_ID
	 "#main-key\", \"type\": \"Multikey\", \"controller\": \"" REMOTE_ID
	 "\", \"publicKeyMultibase\": \"z4MXj1wBzi9jUstyP\"}]}",
	 -1,
	 NULL,
	 NULL,
	 0,
	 2},
	{"multikey-other-controller",
	 "{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX ", \"assertionMethod\": [{\"id\": \"" REMOTE_ID
	 "#ed25519-key\", \"type\": \"Multikey\", \"controller\": "
	 "\"https://social.example/users/bob\", "
	 "\"publicKeyMultibase\": \"" TEST_MULTIBASE "\"}]}",
	 -1,
	 NULL,
	 NULL,
	 0,
	 0},
	{"multikey-other-host",
	 "{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX
	 ", \"assertionMethod\": [{\"id\": \"https://victim.example/users/bob#ed25519-key\", "
	 "\"type\": \"Multikey\", \"controller\": \"" REMOTE_ID
	 "\", \"publicKeyMultibase\": \"" TEST_MULTIBASE "\"}]}",
	 -1,
	 NULL,
	 NULL,
	 0,
	 0},
	{"multikey-revoked",
	 "{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX ", \"assertionMethod\": [{\"id\": \"" REMOTE_ID
	 "#ed25519-key\", \"type\": \"Multikey\", \"controller\": \"" REMOTE_ID
	 "\", \"revoked\": \"2024-01-01T00:00:00Z\", \"publicKeyMultibase\": \"" TEST_MULTIBASE
	 "\"}]}",
	 -1,
	 NULL,
	 NULL,
	 0,
	 0},
	{"multikey-not-multikey",
	 "{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX ", \"assertionMethod\": [{\"id\": \"" REMOTE_ID
	 "#ed25519-key\", \"type\": \"Ed25519VerificationKey2020\", \"controller\": \"" REMOTE_ID
	 "\", \"publicKeyMultibase\": \"" TEST_MULTIBASE "\"}]}",
	 -1,
	 NULL,
	 NULL,
	 0,
	 0},
	{"multikey-not-base58btc",
	 "{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX ", \"assertionMethod\": [{\"id\": \"" REMOTE_ID
	 "#ed25519-key\", \"type\": \"Multikey\", \"controller\": \"" REMOTE_ID
	 "\", \"publicKeyMultibase\": \"uAAAA\"}]}",
	 -1,
	 NULL,
	 NULL,
	 0,
	 0},
	{"inbox-missing",
	 "{\"id\": \"" REMOTE_ID "\", \"type\": \"Person\"}",
	 RELAY_FED_ERROR_INVALID_DOCUMENT},
	{"inbox-number",
	 "{\"id\": \"" REMOTE_ID "\", \"inbox\": 3}",
	 RELAY_FED_ERROR_INVALID_DOCUMENT},
	{"inbox-not-url",
	 "{\"id\": \"" REMOTE_ID "\", \"inbox\": \"/users/alice/inbox\"}",
	 RELAY_FED_ERROR_INVALID_DOCUMENT},
	{"inbox-not-http",
	 "{\"id\": \"" REMOTE_ID "\", \"inbox\": \"file:///etc/passwd\"}",
	 RELAY_FED_ERROR_INVALID_DOCUMENT},
	{"id-missing",
	 "{\"type\": \"Person\", " REMOTE_INBOX "}",
	 RELAY_FED_ERROR_INVALID_DOCUMENT},
	{"id-null", "{\"id\": null, " REMOTE_INBOX "}", RELAY_FED_ERROR_INVALID_DOCUMENT},
	{"id-number", "{\"id\": 42, " REMOTE_INBOX "}", RELAY_FED_ERROR_INVALID_DOCUMENT},
	{"id-list",
	 "{\"id\": [\"" REMOTE_ID "\"], " REMOTE_INBOX "}",
	 RELAY_FED_ERROR_INVALID_DOCUMENT},
	{"id-object",
	 "{\"id\": {\"id\": \"" REMOTE_ID "\"}, " REMOTE_INBOX "}",
	 RELAY_FED_ERROR_INVALID_DOCUMENT},
	{"id-not-http",
	 "{\"id\": \"urn:uuid:7b9e0e8c-0d8c-4a4e-9c2c-4a9f0f0f0f0f\", " REMOTE_INBOX "}",
	 RELAY_FED_ERROR_INVALID_DOCUMENT},
	{"id-no-host",
	 "{\"id\": \"https:///users/alice\", " REMOTE_INBOX "}",
	 RELAY_FED_ERROR_INVALID_DOCUMENT},
	{"not-object",
	 "[{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX "}]",
	 RELAY_FED_ERROR_INVALID_DOCUMENT},
};

static void
test_actor_remote_case(gconstpointer user_data)
{
	guint index = GPOINTER_TO_UINT(user_data);
	g_autoptr(JsonNode) document = parse_json(remote_cases[index].json);
	g_autoptr(RelayRemoteActor) actor = NULL;
	g_autoptr(GError) error = NULL;

	actor = relay_remote_actor_parse(document, &error);
	if (remote_cases[index].code >= 0) {
		g_assert_error(error, RELAY_FED_ERROR, remote_cases[index].code);
		g_assert_null(actor);
		g_test_message("%s: %s", remote_cases[index].name, error->message);
		return;
	}
	g_assert_no_error(error);
	g_assert_nonnull(actor);
	g_assert_cmpstr(actor->id, ==, REMOTE_ID);
	g_assert_cmpstr(actor->inbox, ==, "https://social.example/users/alice/inbox");
	g_assert_cmpstr(actor->type, ==, remote_cases[index].type);
	g_assert_cmpstr(actor->shared_inbox, ==, remote_cases[index].shared_inbox);
	g_assert_cmpuint(actor->public_keys->len, ==, remote_cases[index].n_keys);
	g_assert_cmpuint(actor->multikeys->len, ==, remote_cases[index].n_multikeys);
	if (actor->public_keys->len == 0) {
		g_assert_null(actor->public_key_id);
		g_assert_null(actor->public_key_pem);
		g_assert_null(relay_remote_actor_find_key_pem(actor, REMOTE_ID "#main-key"));
		g_assert_null(relay_remote_actor_find_key_pem(actor, REMOTE_ID));
	} else {
		RelayActorKey *first = g_ptr_array_index(actor->public_keys, 0);
		g_assert_cmpstr(actor->public_key_id, ==, first->id);
		g_assert_cmpstr(actor->public_key_owner, ==, REMOTE_ID);
		g_assert_cmpstr(actor->public_key_pem, ==, first->pem);
		for (guint i = 0; i < actor->public_keys->len; i++) {
			RelayActorKey *key = g_ptr_array_index(actor->public_keys, i);
			g_assert_cmpstr(
				relay_remote_actor_find_key_pem(actor, key->id), ==, key->pem);
		}
	}
	for (guint i = 0; i < actor->multikeys->len; i++) {
		RelayActorMultikey *multikey = g_ptr_array_index(actor->multikeys, i);
		g_assert_cmpstr(multikey->controller, ==, REMOTE_ID);
		g_assert_cmpstr(relay_remote_actor_find_multikey(actor, multikey->id),
				==,
				multikey->multibase);
	}
	g_assert_null(relay_remote_actor_find_key_pem(actor,
						      "https://victim.example/users/bob#main-key"));
	g_assert_null(relay_remote_actor_find_multikey(
		actor, "https://victim.example/users/bob#ed25519-key"));
}

static void
test_actor_remote_key_details(void)
{
	g_autoptr(JsonNode) document = parse_json(
		"{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX
		", \"publicKey\": [" REMOTE_KEY(PEM_A) ", {\"id\": \"" REMOTE_ID
						       "#second\", \"publicKeyPem\": \"" PEM_B
						       "\"}]}");
	g_autoptr(RelayRemoteActor) actor = relay_remote_actor_parse(document, NULL);

	g_assert_nonnull(actor);
	g_assert_cmpstr(actor->public_key_id, ==, REMOTE_ID "#main-key");
	g_assert_cmpstr(relay_remote_actor_find_key_pem(actor, REMOTE_ID "#main-key"),
			==,
			"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
	g_assert_cmpstr(relay_remote_actor_find_key_pem(actor, REMOTE_ID "#second"),
			==,
			"-----BEGIN PUBLIC KEY-----\nBBBB\n-----END PUBLIC KEY-----\n");
	/* with two keys, the bare actor id is ambiguous */
	g_assert_null(relay_remote_actor_find_key_pem(actor, REMOTE_ID));
	g_assert_null(relay_remote_actor_find_key_pem(actor, NULL));
	/* an owner-less key belongs to the document's actor */
	g_assert_null(((RelayActorKey *)g_ptr_array_index(actor->public_keys, 1))->owner);
}

static void
test_actor_remote_too_many_keys(void)
{
	g_autoptr(GString) json = g_string_new("{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX);
	g_autoptr(JsonNode) document = NULL;
	g_autoptr(RelayRemoteActor) actor = NULL;
	g_autoptr(GError) error = NULL;

	g_string_append(json, ", \"publicKey\": [");
	for (guint i = 0; i <= RELAY_REMOTE_ACTOR_MAX_KEYS; i++) {
		g_string_append_printf(json,
				       "%s{\"id\": \"" REMOTE_ID
				       "#k%u\", \"publicKeyPem\": \"" PEM_A "\"}",
				       i > 0 ? ", " : "",
				       i);
	}
	g_string_append(json, "]}");
	document = parse_json(json->str);
	actor = relay_remote_actor_parse(document, &error);
	g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_INVALID_DOCUMENT);
	g_assert_null(actor);
	g_clear_error(&error);
	g_clear_pointer(&document, json_node_unref);

	g_string_assign(json,
			"{\"id\": \"" REMOTE_ID "\", " REMOTE_INBOX ", \"assertionMethod\": [");
	for (guint i = 0; i <= RELAY_REMOTE_ACTOR_MAX_MULTIKEYS; i++)
		g_string_append_printf(json, "%s\"" REMOTE_ID "#m%u\"", i > 0 ? ", " : "", i);
	g_string_append(json, "]}");
	document = parse_json(json->str);
	actor = relay_remote_actor_parse(document, &error);
	g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_INVALID_DOCUMENT);
	g_assert_null(actor);
}

/* ---- key documents ------------------------------------------------------------------------- */

static const struct {
	const gchar *name;
	const gchar *json;
	gboolean valid;
} key_cases[] = {
	{"untyped",
	 "{\"id\": \"https://old.example/users/bob/main-key\", \"owner\": "
	 "\"https://old.example/users/bob\", \"publicKeyPem\": \"" PEM_A "\"}",
	 TRUE},
	{"key",
	 "{\"type\": \"Key\", \"id\": \"https://old.example/users/bob/main-key\", \"owner\": "
	 "\"https://old.example/users/bob\", \"publicKeyPem\": \"" PEM_A "\"}",
	 TRUE},
	{"cryptographic-key",
	 "{\"type\": \"CryptographicKey\", \"id\": \"https://old.example/users/bob/main-key\", "
	 "\"owner\": \"https://old.example/users/bob\", \"publicKeyPem\": \"" PEM_A "\"}",
	 TRUE},
	{"type-list",
	 "{\"type\": [\"sec:Key\", \"CryptographicKey\"], \"id\": "
	 "\"https://old.example/users/bob/main-key\", \"owner\": {\"id\": "
	 "\"https://old.example/users/bob\"}, \"publicKeyPem\": \"" PEM_A "\"}",
	 TRUE},
	{"actor",
	 "{\"type\": \"Person\", \"id\": \"https://old.example/users/bob/main-key\", \"owner\": "
	 "\"https://old.example/users/bob\", \"publicKeyPem\": \"" PEM_A "\"}",
	 FALSE},
	{"owner-missing",
	 "{\"id\": \"https://old.example/users/bob/main-key\", \"publicKeyPem\": \"" PEM_A "\"}",
	 FALSE},
	{"owner-other-host",
	 "{\"id\": \"https://old.example/users/bob/main-key\", \"owner\": "
	 "\"https://victim.example/users/bob\", \"publicKeyPem\": \"" PEM_A "\"}",
	 FALSE},
	{"id-missing",
	 "{\"owner\": \"https://old.example/users/bob\", \"publicKeyPem\": \"" PEM_A "\"}",
	 FALSE},
	{"id-number",
	 "{\"id\": 1, \"owner\": \"https://old.example/users/bob\", \"publicKeyPem\": \"" PEM_A
	 "\"}",
	 FALSE},
	{"pem-missing",
	 "{\"id\": \"https://old.example/users/bob/main-key\", \"owner\": "
	 "\"https://old.example/users/bob\"}",
	 FALSE},
	{"pem-empty",
	 "{\"id\": \"https://old.example/users/bob/main-key\", \"owner\": "
	 "\"https://old.example/users/bob\", \"publicKeyPem\": \"\"}",
	 FALSE},
	{"not-object", "\"https://old.example/users/bob/main-key\"", FALSE},
};

static void
test_actor_key_document(gconstpointer user_data)
{
	guint index = GPOINTER_TO_UINT(user_data);
	g_autoptr(JsonNode) document = parse_json(key_cases[index].json);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *id = NULL;
	g_autofree gchar *owner = NULL;
	g_autofree gchar *pem = NULL;
	gboolean ok;

	ok = relay_key_document_parse(document, &id, &owner, &pem, &error);
	if (!key_cases[index].valid) {
		g_assert_false(ok);
		g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_INVALID_DOCUMENT);
		g_assert_null(id);
		g_assert_null(owner);
		g_assert_null(pem);
		g_test_message("%s: %s", key_cases[index].name, error->message);
		return;
	}
	g_assert_no_error(error);
	g_assert_true(ok);
	g_assert_cmpstr(id, ==, "https://old.example/users/bob/main-key");
	g_assert_cmpstr(owner, ==, "https://old.example/users/bob");
	g_assert_cmpstr(pem, ==, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");

	/* every out argument is optional */
	g_assert_true(relay_key_document_parse(document, NULL, NULL, NULL, NULL));
}

/* ---- WebFinger ----------------------------------------------------------------------------- */

static const struct {
	const gchar *resource;
	const gchar *user; /* NULL with host NULL: must fail */
	const gchar *host;
	const gchar *url;
} webfinger_cases[] = {
	{"acct:relay@relay.example", "relay", "relay.example", NULL},
	{"ACCT:relay@Relay.EXAMPLE", "relay", "relay.example", NULL},
	{"relay@relay.example", "relay", "relay.example", NULL},
	{"@relay@relay.example", "relay", "relay.example", NULL},
	{"acct:relay%40relay.example", "relay", "relay.example", NULL},
	{"relay%40relay.example", "relay", "relay.example", NULL},
	{"acct:Town_Hall@relay.example", "Town_Hall", "relay.example", NULL},
	{"acct:guild@relay.example:8443", "guild", "relay.example:8443", NULL},
	{"acct:relay@127.0.0.1:8080", "relay", "127.0.0.1:8080", NULL},
	{"acct:relay@[::1]:8080", "relay", "[::1]:8080", NULL},
	{"acct:relay@b\xc3\xbc"
	 "cher.example",
	 "relay",
	 "xn--bcher-kva.example",
	 NULL},
	{"acct:relay@relay.example.", "relay", "relay.example.", NULL},
	{"https://relay.example/actor", NULL, "relay.example", "https://relay.example/actor"},
	{"https://relay.example/networks/guild",
	 NULL,
	 "relay.example",
	 "https://relay.example/networks/guild"},
	{"http://127.0.0.1:8080/actor", NULL, "127.0.0.1:8080", "http://127.0.0.1:8080/actor"},
	{"HTTPS://Relay.Example/inbox", NULL, "relay.example", "HTTPS://Relay.Example/inbox"},
	{"https://[::1]:8443/actor", NULL, "[::1]:8443", "https://[::1]:8443/actor"},
	/* malformed */
	{NULL, NULL, NULL, NULL},
	{"", NULL, NULL, NULL},
	{"acct:", NULL, NULL, NULL},
	{"acct:relay", NULL, NULL, NULL},
	{"acct:@relay.example", NULL, NULL, NULL},
	{"acct:relay@", NULL, NULL, NULL},
	{"acct:relay@relay@relay.example", NULL, NULL, NULL},
	{"acct:relay%40relay%40relay.example", NULL, NULL, NULL},
	{"@@relay.example", NULL, NULL, NULL},
	{"relay.example", NULL, NULL, NULL},
	{"acct:re lay@relay.example", NULL, NULL, NULL},
	{"acct:re/lay@relay.example", NULL, NULL, NULL},
	{"acct:re:lay@relay.example", NULL, NULL, NULL},
	{"acct:relay@relay.example/actor", NULL, NULL, NULL},
	{"acct:relay@relay.example?x=1", NULL, NULL, NULL},
	{"acct:relay@relay.example#top", NULL, NULL, NULL},
	{"acct:relay@relay_example.org", NULL, NULL, NULL},
	{"acct:relay@-relay.example", NULL, NULL, NULL},
	{"acct:relay@relay.example:99999", NULL, NULL, NULL},
	{"acct:relay@relay.example\n", NULL, NULL, NULL},
	{"acct:relay%00@relay.example", NULL, NULL, NULL},
	{"acct:relay%2@relay.example", NULL, NULL, NULL},
	{"acct:relay%0a@relay.example", NULL, NULL, NULL},
	{"acct:relay@relay%ff.example", NULL, NULL, NULL},
	{"acct:relay@\xff.example", NULL, NULL, NULL},
	{"mailto:relay@relay.example", NULL, NULL, NULL},
	{"ftp://relay.example/actor", NULL, NULL, NULL},
	{"https:///actor", NULL, NULL, NULL},
	{"https://", NULL, NULL, NULL},
	{"https://admin:secret@relay.example/actor", NULL, NULL, NULL},
	{"https://relay_example.org/actor", NULL, NULL, NULL},
};

static void
test_webfinger_resource(gconstpointer user_data)
{
	guint index = GPOINTER_TO_UINT(user_data);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *user = NULL;
	g_autofree gchar *host = NULL;
	g_autofree gchar *url = NULL;
	gboolean valid = webfinger_cases[index].host != NULL;
	gboolean ok;

	ok = relay_webfinger_parse_resource(
		webfinger_cases[index].resource, &user, &host, &url, &error);
	if (!valid) {
		g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_INVALID_DOCUMENT);
		g_assert_false(ok);
		g_assert_nonnull(error->message);
		g_assert_cmpstr(error->message, !=, "");
		g_assert_null(user);
		g_assert_null(host);
		g_assert_null(url);
		g_test_message("%s", error->message);
		return;
	}
	g_assert_no_error(error);
	g_assert_true(ok);
	g_assert_cmpstr(user, ==, webfinger_cases[index].user);
	g_assert_cmpstr(host, ==, webfinger_cases[index].host);
	g_assert_cmpstr(url, ==, webfinger_cases[index].url);

	/* every out argument is optional */
	g_assert_true(relay_webfinger_parse_resource(
		webfinger_cases[index].resource, NULL, NULL, NULL, NULL));
}

static void
test_webfinger_resource_too_long(void)
{
	g_autoptr(GString) resource = g_string_new("acct:");
	g_autoptr(GError) error = NULL;

	while (resource->len <= 1024)
		g_string_append(resource, "relay");
	g_string_append(resource, "@relay.example");
	g_assert_false(relay_webfinger_parse_resource(resource->str, NULL, NULL, NULL, &error));
	g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_INVALID_DOCUMENT);
}

static void
test_webfinger_document(void)
{
	g_autoptr(JsonNode) document = relay_webfinger_document_new(
		"acct:relay@relay.example", ACTOR_ID, "https://relay.example/");
	g_autoptr(JsonNode) bare = NULL;
	JsonObject *object = json_node_get_object(document);
	JsonArray *aliases;
	JsonArray *links;
	JsonObject *link;

	g_assert_cmpstr(get_string(object, "subject"), ==, "acct:relay@relay.example");
	aliases = get_array(object, "aliases");
	g_assert_cmpuint(json_array_get_length(aliases), ==, 1);
	g_assert_cmpstr(json_array_get_string_element(aliases, 0), ==, ACTOR_ID);

	links = get_array(object, "links");
	g_assert_cmpuint(json_array_get_length(links), ==, 2);
	link = json_array_get_object_element(links, 0);
	g_assert_cmpstr(get_string(link, "rel"), ==, "self");
	g_assert_cmpstr(get_string(link, "type"), ==, "application/activity+json");
	g_assert_cmpstr(get_string(link, "href"), ==, ACTOR_ID);
	link = json_array_get_object_element(links, 1);
	g_assert_cmpstr(get_string(link, "rel"), ==, "http://webfinger.net/rel/profile-page");
	g_assert_cmpstr(get_string(link, "type"), ==, "text/html");
	g_assert_cmpstr(get_string(link, "href"), ==, "https://relay.example/");

	bare = relay_webfinger_document_new(
		"acct:guild@relay.example", "https://relay.example/networks/guild", NULL);
	links = get_array(json_node_get_object(bare), "links");
	g_assert_cmpuint(json_array_get_length(links), ==, 1);
	g_assert_cmpstr(get_string(json_array_get_object_element(links, 0), "href"),
			==,
			"https://relay.example/networks/guild");
}

/* ---- host-meta ----------------------------------------------------------------------------- */

static xmlNodePtr
first_element(xmlNodePtr node)
{
	for (; node != NULL; node = node->next) {
		if (node->type == XML_ELEMENT_NODE)
			return node;
	}
	return NULL;
}

static void
check_host_meta_xrd(const gchar *origin, const gchar *expected_template)
{
	g_autoptr(GBytes) bytes = relay_host_meta_xrd_new(origin);
	g_autoptr(xmlDoc) doc = NULL;
	g_autofree gchar *text = NULL;
	xmlChar *rel;
	xmlChar *template;
	xmlNodePtr root;
	xmlNodePtr link;
	gsize size = 0;
	const gchar *data = g_bytes_get_data(bytes, &size);

	text = g_strndup(data, size);
	g_test_message("%s", text);
	g_assert_true(g_str_has_prefix(text, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
	g_assert_nonnull(strstr(text, "resource={uri}\""));
	g_assert_null(strstr(text, "%7B"));

	doc = xmlReadMemory(data, (int)size, "host-meta", NULL, XML_PARSE_NONET);
	g_assert_nonnull(doc);
	root = xmlDocGetRootElement(doc);
	g_assert_nonnull(root);
	g_assert_cmpstr((const gchar *)root->name, ==, "XRD");
	g_assert_nonnull(root->ns);
	g_assert_cmpstr(
		(const gchar *)root->ns->href, ==, "http://docs.oasis-open.org/ns/xri/xrd-1.0");
	g_assert_null(root->ns->prefix);

	link = first_element(root->children);
	g_assert_nonnull(link);
	g_assert_null(first_element(link->next));
	g_assert_cmpstr((const gchar *)link->name, ==, "Link");
	g_assert_nonnull(link->ns);
	g_assert_cmpstr(
		(const gchar *)link->ns->href, ==, "http://docs.oasis-open.org/ns/xri/xrd-1.0");
	rel = xmlGetProp(link, (const xmlChar *)"rel");
	template = xmlGetProp(link, (const xmlChar *)"template");
	g_assert_cmpstr((const gchar *)rel, ==, "lrdd");
	g_assert_cmpstr((const gchar *)template, ==, expected_template);
	xmlFree(rel);
	xmlFree(template);
}

static void
test_discovery_host_meta_xrd(void)
{
	check_host_meta_xrd("https://relay.example",
			    "https://relay.example/.well-known/webfinger?resource={uri}");
	check_host_meta_xrd("https://relay.example:8443/",
			    "https://relay.example:8443/.well-known/webfinger?resource={uri}");
	/* whatever the origin holds, the markup stays intact and the value round-trips */
	check_host_meta_xrd(
		"https://relay.example/a&b<c>\"d\"'e'",
		"https://relay.example/a&b<c>\"d\"'e'/.well-known/webfinger?resource={uri}");
}

static void
test_discovery_host_meta_json(void)
{
	g_autoptr(JsonNode) document = relay_host_meta_json_new("https://relay.example/");
	JsonArray *links = get_array(json_node_get_object(document), "links");
	JsonObject *link;

	g_assert_cmpuint(json_array_get_length(links), ==, 1);
	link = json_array_get_object_element(links, 0);
	g_assert_cmpstr(get_string(link, "rel"), ==, "lrdd");
	g_assert_cmpstr(get_string(link, "template"),
			==,
			"https://relay.example/.well-known/webfinger?resource={uri}");
	g_assert_false(json_object_has_member(link, "href"));
}

/* ---- NodeInfo ------------------------------------------------------------------------------ */

static const gchar *nodeinfo_protocols[] = {"activitypub",
					    "buddycloud",
					    "dfrn",
					    "diaspora",
					    "libertree",
					    "ostatus",
					    "pumpio",
					    "tent",
					    "xmpp",
					    "zot",
					    NULL};
static const gchar *nodeinfo_inbound[] = {
	"atom1.0", "gnusocial", "imap", "pnut", "pop3", "pumpio", "rss2.0", "twitter", NULL};
static const gchar *nodeinfo_outbound[] = {
	"acropolis", "atom1.0",	  "blogger",	 "buddycloud",	"diaspora", "dreamwidth",
	"drupal",    "facebook",  "friendica",	 "gnusocial",	"google",   "insanejournal",
	"libertree", "linkedin",  "livejournal", "mediagoblin", "myspace",  "pinterest",
	"pnut",	     "posterous", "pumpio",	 "redmatrix",	"rss2.0",   "smtp",
	"tent",	     "tumblr",	  "twitter",	 "wordpress",	"xmpp",	    NULL};

/* additionalProperties: false */
static gboolean
nodeinfo_only_members(JsonObject *object,
		      const gchar *const *allowed,
		      const gchar *where,
		      GString *why)
{
	g_autoptr(GList) members = json_object_get_members(object);
	for (GList *l = members; l != NULL; l = l->next) {
		if (!g_strv_contains(allowed, l->data)) {
			g_string_append_printf(
				why, "%s: unexpected member '%s'", where, (const gchar *)l->data);
			return FALSE;
		}
	}
	return TRUE;
}

static JsonNode *
nodeinfo_required(JsonObject *object, const gchar *member, const gchar *where, GString *why)
{
	JsonNode *node = json_object_get_member(object, member);
	if (node == NULL)
		g_string_append_printf(why, "%s: '%s' is required", where, member);
	return node;
}

static gboolean
nodeinfo_is_string(JsonNode *node)
{
	return JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING;
}

static gboolean
nodeinfo_enum_array(
	JsonNode *node, const gchar **allowed, guint min_items, const gchar *where, GString *why)
{
	JsonArray *array;
	if (!JSON_NODE_HOLDS_ARRAY(node)) {
		g_string_append_printf(why, "%s: not an array", where);
		return FALSE;
	}
	array = json_node_get_array(node);
	if (json_array_get_length(array) < min_items) {
		g_string_append_printf(why, "%s: fewer than %u items", where, min_items);
		return FALSE;
	}
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonNode *item = json_array_get_element(array, i);
		if (!nodeinfo_is_string(item) ||
		    !g_strv_contains(allowed, json_node_get_string(item))) {
			g_string_append_printf(why, "%s[%u]: not an allowed value", where, i);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
nodeinfo_count(JsonObject *object, const gchar *member, const gchar *where, GString *why)
{
	JsonNode *node = json_object_get_member(object, member);
	if (node == NULL)
		return TRUE;
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_INT64 ||
	    json_node_get_int(node) < 0) {
		g_string_append_printf(why, "%s.%s: not an integer >= 0", where, member);
		return FALSE;
	}
	return TRUE;
}

/*
 * The rules of http://nodeinfo.diaspora.software/ns/schema/2.0 and 2.1 (draft-04 JSON schemas,
 * identical but for `version` and the optional software.repository and software.homepage).
 */
static gboolean
nodeinfo_validate(JsonNode *document, const gchar *version, GString *why)
{
	const gchar *top[] = {"version",
			      "software",
			      "protocols",
			      "services",
			      "openRegistrations",
			      "usage",
			      "metadata",
			      NULL};
	const gchar *software_20[] = {"name", "version", NULL};
	const gchar *software_21[] = {"name", "version", "repository", "homepage", NULL};
	const gchar *services_members[] = {"inbound", "outbound", NULL};
	const gchar *usage_members[] = {"users", "localPosts", "localComments", NULL};
	const gchar *users_members[] = {"total", "activeHalfyear", "activeMonth", NULL};
	gboolean is_21 = g_strcmp0(version, "2.1") == 0;
	JsonObject *object;
	JsonObject *software;
	JsonObject *services;
	JsonObject *usage;
	JsonNode *node;

	if (!JSON_NODE_HOLDS_OBJECT(document)) {
		g_string_append(why, "not an object");
		return FALSE;
	}
	object = json_node_get_object(document);
	if (!nodeinfo_only_members(object, top, "nodeinfo", why))
		return FALSE;
	for (guint i = 0; top[i] != NULL; i++) {
		if (nodeinfo_required(object, top[i], "nodeinfo", why) == NULL)
			return FALSE;
	}

	node = json_object_get_member(object, "version");
	if (!nodeinfo_is_string(node) || g_strcmp0(json_node_get_string(node), version) != 0) {
		g_string_append_printf(why, "version: not \"%s\"", version);
		return FALSE;
	}

	node = json_object_get_member(object, "software");
	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		g_string_append(why, "software: not an object");
		return FALSE;
	}
	software = json_node_get_object(node);
	if (!nodeinfo_only_members(software, is_21 ? software_21 : software_20, "software", why))
		return FALSE;
	node = nodeinfo_required(software, "name", "software", why);
	if (node == NULL)
		return FALSE;
	if (!nodeinfo_is_string(node) ||
	    !g_regex_match_simple("^[a-z0-9-]+$", json_node_get_string(node), 0, 0)) {
		g_string_append(why, "software.name: does not match ^[a-z0-9-]+$");
		return FALSE;
	}
	node = nodeinfo_required(software, "version", "software", why);
	if (node == NULL)
		return FALSE;
	if (!nodeinfo_is_string(node)) {
		g_string_append(why, "software.version: not a string");
		return FALSE;
	}
	for (guint i = 2; is_21 && i < 4; i++) {
		node = json_object_get_member(software, software_21[i]);
		if (node != NULL && !nodeinfo_is_string(node)) {
			g_string_append_printf(why, "software.%s: not a string", software_21[i]);
			return FALSE;
		}
	}

	if (!nodeinfo_enum_array(json_object_get_member(object, "protocols"),
				 nodeinfo_protocols,
				 1,
				 "protocols",
				 why))
		return FALSE;

	node = json_object_get_member(object, "services");
	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		g_string_append(why, "services: not an object");
		return FALSE;
	}
	services = json_node_get_object(node);
	if (!nodeinfo_only_members(services, services_members, "services", why))
		return FALSE;
	node = nodeinfo_required(services, "inbound", "services", why);
	if (node == NULL ||
	    !nodeinfo_enum_array(node, nodeinfo_inbound, 0, "services.inbound", why))
		return FALSE;
	node = nodeinfo_required(services, "outbound", "services", why);
	if (node == NULL ||
	    !nodeinfo_enum_array(node, nodeinfo_outbound, 0, "services.outbound", why))
		return FALSE;

	node = json_object_get_member(object, "openRegistrations");
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_BOOLEAN) {
		g_string_append(why, "openRegistrations: not a boolean");
		return FALSE;
	}

	node = json_object_get_member(object, "usage");
	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		g_string_append(why, "usage: not an object");
		return FALSE;
	}
	usage = json_node_get_object(node);
	if (!nodeinfo_only_members(usage, usage_members, "usage", why))
		return FALSE;
	if (!nodeinfo_count(usage, "localPosts", "usage", why) ||
	    !nodeinfo_count(usage, "localComments", "usage", why))
		return FALSE;
	node = nodeinfo_required(usage, "users", "usage", why);
	if (node == NULL)
		return FALSE;
	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		g_string_append(why, "usage.users: not an object");
		return FALSE;
	}
	if (!nodeinfo_only_members(json_node_get_object(node), users_members, "usage.users", why))
		return FALSE;
	for (guint i = 0; users_members[i] != NULL; i++) {
		if (!nodeinfo_count(
			    json_node_get_object(node), users_members[i], "usage.users", why))
			return FALSE;
	}

	node = json_object_get_member(object, "metadata");
	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		g_string_append(why, "metadata: not an object");
		return FALSE;
	}
	return TRUE;
}

static void
assert_nodeinfo_valid(JsonNode *document, const gchar *version)
{
	g_autoptr(GString) why = g_string_new(NULL);
	gboolean valid = nodeinfo_validate(document, version, why);

	g_assert_cmpstr(why->str, ==, "");
	g_assert_true(valid);
}

static void
test_discovery_nodeinfo_links(void)
{
	g_autoptr(JsonNode) document = relay_nodeinfo_links_new("https://relay.example/");
	JsonObject *object = json_node_get_object(document);
	JsonArray *links = get_array(object, "links");
	JsonObject *link;

	g_assert_cmpuint(json_object_get_size(object), ==, 1);
	g_assert_cmpuint(json_array_get_length(links), ==, 2);
	link = json_array_get_object_element(links, 0);
	g_assert_cmpstr(
		get_string(link, "rel"), ==, "http://nodeinfo.diaspora.software/ns/schema/2.0");
	g_assert_cmpstr(get_string(link, "href"), ==, "https://relay.example/nodeinfo/2.0");
	link = json_array_get_object_element(links, 1);
	g_assert_cmpstr(
		get_string(link, "rel"), ==, "http://nodeinfo.diaspora.software/ns/schema/2.1");
	g_assert_cmpstr(get_string(link, "href"), ==, "https://relay.example/nodeinfo/2.1");
}

static JsonNode *
nodeinfo_metadata_new(void)
{
	return parse_json("{\"nodeName\": \"Town relay\", \"networks\": [{\"name\": \"relay\", "
			  "\"join\": \"open\"}, {\"name\": \"guild\", \"join\": \"approval\"}], "
			  "\"peers\": [\"relay.other.example\"]}");
}

static void
test_discovery_nodeinfo_20(void)
{
	g_autoptr(JsonNode) metadata = nodeinfo_metadata_new();
	RelayNodeInfo info = {
		.software_version = "0.1.0",
		.repository = "https://git.example/relay",
		.homepage = "https://relay.example/about",
		.open_registrations = TRUE,
		.users_total = 12,
		.active_month = 7,
		.active_halfyear = 10,
		.metadata = metadata,
	};
	g_autoptr(JsonNode) document = relay_nodeinfo_document_new(&info, "2.0");
	JsonObject *object = json_node_get_object(document);
	JsonObject *software = get_object(object, "software");
	JsonObject *users = get_object(get_object(object, "usage"), "users");

	assert_nodeinfo_valid(document, "2.0");
	g_assert_cmpstr(get_string(object, "version"), ==, "2.0");
	g_assert_cmpstr(get_string(software, "name"), ==, "relay");
	g_assert_cmpstr(get_string(software, "version"), ==, "0.1.0");
	g_assert_false(json_object_has_member(software, "repository"));
	g_assert_false(json_object_has_member(software, "homepage"));
	g_assert_true(array_has_string(get_array(object, "protocols"), "activitypub"));
	g_assert_cmpuint(json_array_get_length(get_array(object, "protocols")), ==, 1);
	g_assert_true(get_boolean(object, "openRegistrations"));
	g_assert_cmpint(json_object_get_int_member(users, "total"), ==, 12);
	g_assert_cmpint(json_object_get_int_member(users, "activeMonth"), ==, 7);
	g_assert_cmpint(json_object_get_int_member(users, "activeHalfyear"), ==, 10);
	g_assert_false(json_object_has_member(get_object(object, "usage"), "localPosts"));
	g_assert_true(json_node_equal(json_object_get_member(object, "metadata"), metadata));
	g_assert_cmpstr(
		relay_nodeinfo_content_type("2.0"),
		==,
		"application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.0#\"");
}

static void
test_discovery_nodeinfo_21(void)
{
	g_autoptr(JsonNode) metadata = nodeinfo_metadata_new();
	RelayNodeInfo info = {
		.software_version = NULL,
		.repository = "https://git.example/relay",
		.homepage = "https://relay.example/about",
		.open_registrations = FALSE,
		.users_total = 3,
		.active_month = -1,
		.active_halfyear = -1,
		.metadata = metadata,
	};
	g_autoptr(JsonNode) document = relay_nodeinfo_document_new(&info, "2.1");
	g_autoptr(GBytes) bytes = NULL;
	JsonObject *object = json_node_get_object(document);
	JsonObject *software = get_object(object, "software");
	JsonObject *users = get_object(get_object(object, "usage"), "users");
	JsonObject *services = get_object(object, "services");

	assert_nodeinfo_valid(document, "2.1");
	g_assert_cmpstr(get_string(object, "version"), ==, "2.1");
	g_assert_cmpstr(get_string(software, "version"), ==, PACKAGE_VERSION);
	g_assert_cmpstr(get_string(software, "repository"), ==, "https://git.example/relay");
	g_assert_cmpstr(get_string(software, "homepage"), ==, "https://relay.example/about");
	g_assert_false(get_boolean(object, "openRegistrations"));
	g_assert_cmpint(json_object_get_int_member(users, "total"), ==, 3);
	g_assert_false(json_object_has_member(users, "activeMonth"));
	g_assert_false(json_object_has_member(users, "activeHalfyear"));
	g_assert_cmpuint(json_array_get_length(get_array(services, "inbound")), ==, 0);
	g_assert_cmpuint(json_array_get_length(get_array(services, "outbound")), ==, 0);
	g_assert_cmpstr(
		relay_nodeinfo_content_type("2.1"),
		==,
		"application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.1#\"");

	/* serialised, it still holds */
	bytes = relay_json_to_bytes(document);
	g_assert_nonnull(strstr(g_bytes_get_data(bytes, NULL), "\"metadata\":{\"nodeName\":"));
}

static void
test_discovery_nodeinfo_minimal(void)
{
	RelayNodeInfo info = {.users_total = -1, .active_month = -1, .active_halfyear = -1};
	const gchar *versions[] = {"2.0", "2.1"};

	for (guint i = 0; i < G_N_ELEMENTS(versions); i++) {
		g_autoptr(JsonNode) document = relay_nodeinfo_document_new(&info, versions[i]);
		JsonObject *object = json_node_get_object(document);
		assert_nodeinfo_valid(document, versions[i]);
		g_assert_cmpuint(json_object_get_size(get_object(object, "metadata")), ==, 0);
		g_assert_cmpuint(
			json_object_get_size(get_object(get_object(object, "usage"), "users")),
			==,
			0);
		g_assert_false(
			json_object_has_member(get_object(object, "software"), "repository"));
	}
	g_assert_null(relay_nodeinfo_document_new(&info, "2.2"));
	g_assert_null(relay_nodeinfo_document_new(&info, "1.0"));
	g_assert_null(relay_nodeinfo_document_new(&info, NULL));
	g_assert_null(relay_nodeinfo_content_type("2.2"));
	g_assert_null(relay_nodeinfo_content_type(NULL));
}

/* the validator itself must refuse what the schemas refuse */
static void
test_discovery_nodeinfo_validator(void)
{
	RelayNodeInfo info = {.users_total = 1, .active_month = -1, .active_halfyear = -1};
	const struct {
		const gchar *version;
		const gchar *member;
		const gchar *parent;
		const gchar *json; /* NULL: remove */
	} mutations[] = {
		{"2.0", "name", "software", "\"Relay\""},
		{"2.0", "name", "software", "\"relay_2\""},
		{"2.0", "repository", "software", "\"https://git.example/relay\""},
		{"2.1", "repository", "software", "7"},
		{"2.0", "version", NULL, "\"2.1\""},
		{"2.1", "protocols", NULL, "[]"},
		{"2.1", "protocols", NULL, "[\"activitypub\", \"nostr\"]"},
		{"2.1", "inbound", "services", "[\"smtp\"]"},
		{"2.1", "outbound", "services", NULL},
		{"2.1", "openRegistrations", NULL, "\"yes\""},
		{"2.1", "metadata", NULL, NULL},
		{"2.1", "metadata", NULL, "[]"},
		{"2.1", "usage", NULL, NULL},
		{"2.1", "localPosts", "usage", "-1"},
		{"2.1", "total", "users", "1.5"},
		{"2.1", "extra", NULL, "true"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(mutations); i++) {
		g_autoptr(JsonNode) document =
			relay_nodeinfo_document_new(&info, mutations[i].version);
		g_autoptr(GString) why = g_string_new(NULL);
		JsonObject *object = json_node_get_object(document);
		JsonObject *target = object;

		assert_nodeinfo_valid(document, mutations[i].version);
		if (g_strcmp0(mutations[i].parent, "users") == 0)
			target = get_object(get_object(object, "usage"), "users");
		else if (mutations[i].parent != NULL)
			target = get_object(object, mutations[i].parent);
		if (mutations[i].json == NULL)
			json_object_remove_member(target, mutations[i].member);
		else
			json_object_set_member(
				target, mutations[i].member, parse_json(mutations[i].json));
		g_assert_false(nodeinfo_validate(document, mutations[i].version, why));
		g_test_message("mutation %u: %s", i, why->str);
	}
}

/* ---- reading other servers' NodeInfo ------------------------------------------------------ */

#define NI_REL "http://nodeinfo.diaspora.software/ns/schema/"

static const struct {
	const gchar *name;
	const gchar *json;
	const gchar *href; /* NULL: refused */
} nodeinfo_links_cases[] = {
	/* Mastodon */
	{"mastodon",
	 "{\"links\":[{\"rel\":\"" NI_REL "2.0\",\"href\":\"https://m.example/nodeinfo/2.0\"}]}",
	 "https://m.example/nodeinfo/2.0"},
	/* Misskey and Pleroma list both: 2.1 wins, whatever the order */
	{"prefer-2.1",
	 "{\"links\":[{\"rel\":\"" NI_REL "2.0\",\"href\":\"https://p.example/nodeinfo/2.0\"},"
	 "{\"rel\":\"" NI_REL "2.1\",\"href\":\"https://p.example/nodeinfo/2.1\"}]}",
	 "https://p.example/nodeinfo/2.1"},
	{"prefer-2.1-first",
	 "{\"links\":[{\"rel\":\"" NI_REL "2.1\",\"href\":\"https://p.example/nodeinfo/2.1\"},"
	 "{\"rel\":\"" NI_REL "2.0\",\"href\":\"https://p.example/nodeinfo/2.0\"}]}",
	 "https://p.example/nodeinfo/2.1"},
	/* 1.x is not read; 2.2 is when there is nothing else */
	{"only-1.0",
	 "{\"links\":[{\"rel\":\"" NI_REL "1.0\",\"href\":\"https://o.example/nodeinfo/1.0\"}]}",
	 NULL},
	{"only-2.2",
	 "{\"links\":[{\"rel\":\"" NI_REL "2.2\",\"href\":\"https://n.example/ni/2.2\"}]}",
	 "https://n.example/ni/2.2"},
	{"https-rel",
	 "{\"links\":[{\"rel\":\"https://nodeinfo.diaspora.software/ns/schema/2.0\","
	 "\"href\":\"https://h.example/nodeinfo/2.0\"}]}",
	 "https://h.example/nodeinfo/2.0"},
	/* a relative href is taken against the links document's URL */
	{"relative",
	 "{\"links\":[{\"rel\":\"" NI_REL "2.0\",\"href\":\"/nodeinfo/2.0.json\"}]}",
	 "https://base.example:8443/nodeinfo/2.0.json"},
	/* other links and bad entries are skipped */
	{"skips-junk",
	 "{\"links\":[1,\"x\",{\"rel\":\"" NI_REL "2.1\"},{\"rel\":\"" NI_REL
	 "2.1\",\"href\":7},{\"rel\":\"self\",\"href\":\"https://j.example/\"},"
	 "{\"rel\":\"" NI_REL "2.0\",\"href\":\"https://j.example/ni\"}]}",
	 "https://j.example/ni"},
	{"not-http",
	 "{\"links\":[{\"rel\":\"" NI_REL "2.0\",\"href\":\"file:///etc/passwd\"}]}",
	 NULL},
	{"javascript",
	 "{\"links\":[{\"rel\":\"" NI_REL "2.0\",\"href\":\"javascript:alert(1)\"}]}",
	 NULL},
	{"no-links", "{\"link\":[]}", NULL},
	{"links-not-array", "{\"links\":{}}", NULL},
	{"empty", "{\"links\":[]}", NULL},
	{"not-object", "[]", NULL},
};

static void
test_nodeinfo_links_parse(gconstpointer user_data)
{
	guint i = GPOINTER_TO_UINT(user_data);
	g_autoptr(JsonNode) links = parse_json(nodeinfo_links_cases[i].json);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *href = relay_nodeinfo_links_parse(
		links, "https://base.example:8443/.well-known/nodeinfo", &error);

	if (nodeinfo_links_cases[i].href == NULL) {
		g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_INVALID_DOCUMENT);
		g_assert_null(href);
		g_test_message("refused: %s", error->message);
		return;
	}
	g_assert_no_error(error);
	g_assert_cmpstr(href, ==, nodeinfo_links_cases[i].href);
}

static const struct {
	const gchar *name;
	const gchar *json;
	const gchar *software; /* NULL: refused */
	const gchar *version;
} nodeinfo_software_cases[] = {
	{"mastodon",
	 "{\"version\":\"2.0\",\"software\":{\"name\":\"mastodon\",\"version\":\"4.2.10\"},"
	 "\"protocols\":[\"activitypub\"],\"usage\":{\"users\":{}},"
	 "\"openRegistrations\":true,\"metadata\":{}}",
	 "mastodon",
	 "4.2.10"},
	{"akkoma",
	 "{\"version\":\"2.1\",\"software\":{\"name\":\"akkoma\",\"version\":"
	 "\"3.10.4-0-gabcdef\",\"repository\":\"https://akkoma.dev/AkkomaGang/akkoma\"}}",
	 "akkoma",
	 "3.10.4-0-gabcdef"},
	/* the case is folded, space and control characters go */
	{"case",
	 "{\"software\":{\"name\":\" GoToSocial\\n\",\"version\":\"0.17.0\\u0007 git\"}}",
	 "gotosocial",
	 "0.17.0 git"},
	/* markup is kept as text: it is escaped where it is shown */
	{"markup",
	 "{\"software\":{\"name\":\"<b>x</b>\",\"version\":\"1 <script>\"}}",
	 "<b>x</b>",
	 "1 <script>"},
	{"no-version", "{\"software\":{\"name\":\"friendica\"}}", "friendica", NULL},
	{"empty-version",
	 "{\"software\":{\"name\":\"misskey\",\"version\":\" \"}}",
	 "misskey",
	 NULL},
	{"version-number", "{\"software\":{\"name\":\"misskey\",\"version\":13}}", "misskey", NULL},
	/* bounded */
	{"long",
	 "{\"software\":{\"name\":"
	 "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaaa\",\"version\":\"1.0\"}}",
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	 "1.0"},
	/* cut on a character boundary: 63 bytes of 'a' and a 2-byte character do not fit */
	{"long-utf8",
	 "{\"software\":{\"name\":\"x\",\"version\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaaaaaaaaaa\\u00e9\"}}",
	 "x",
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
	{"no-name", "{\"software\":{\"version\":\"1\"}}", NULL, NULL},
	{"empty-name", "{\"software\":{\"name\":\"\\t\"}}", NULL, NULL},
	{"name-not-string", "{\"software\":{\"name\":[\"mastodon\"]}}", NULL, NULL},
	{"no-software", "{\"version\":\"2.0\"}", NULL, NULL},
	{"software-string", "{\"software\":\"mastodon\"}", NULL, NULL},
	{"not-object", "[\"mastodon\"]", NULL, NULL},
};

static void
test_nodeinfo_software_parse(gconstpointer user_data)
{
	guint i = GPOINTER_TO_UINT(user_data);
	g_autoptr(JsonNode) document = parse_json(nodeinfo_software_cases[i].json);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *name = NULL;
	g_autofree gchar *version = NULL;
	gboolean ok = relay_nodeinfo_software_parse(document, &name, &version, &error);

	if (nodeinfo_software_cases[i].software == NULL) {
		g_assert_false(ok);
		g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_INVALID_DOCUMENT);
		g_test_message("refused: %s", error->message);
		return;
	}
	g_assert_no_error(error);
	g_assert_true(ok);
	g_assert_cmpstr(name, ==, nodeinfo_software_cases[i].software);
	g_assert_cmpstr(version, ==, nodeinfo_software_cases[i].version);
	g_assert_cmpuint(strlen(name), <=, RELAY_NODEINFO_SOFTWARE_MAX_BYTES);
	g_assert_true(version == NULL || strlen(version) <= RELAY_NODEINFO_SOFTWARE_MAX_BYTES);
}

int
main(int argc, char **argv)
{
	int status;

	g_test_init(&argc, &argv, NULL);
	LIBXML_TEST_VERSION

	g_test_add_func("/relay/actor/document-fields", test_actor_document_fields);
	g_test_add_func("/relay/actor/manually-approves", test_actor_manually_approves);
	g_test_add_func("/relay/actor/named-network", test_actor_named_network);
	g_test_add_func("/relay/actor/ed25519", test_actor_ed25519);
	g_test_add_func("/relay/actor/round-trip", test_actor_round_trip);
	g_test_add_func("/relay/actor/remote-person", test_actor_remote_person);
	g_test_add_data_func(
		"/relay/actor/remote-application", "application", test_actor_remote_instance_actor);
	g_test_add_data_func(
		"/relay/actor/remote-service", "service", test_actor_remote_instance_actor);
	g_test_add_func("/relay/actor/remote-empty-endpoints", test_actor_remote_empty_endpoints);
	for (guint i = 0; i < G_N_ELEMENTS(remote_cases); i++) {
		g_autofree gchar *path =
			g_strdup_printf("/relay/actor/remote/%s", remote_cases[i].name);
		g_test_add_data_func(path, GUINT_TO_POINTER(i), test_actor_remote_case);
	}
	g_test_add_func("/relay/actor/remote-key-details", test_actor_remote_key_details);
	g_test_add_func("/relay/actor/remote-too-many-keys", test_actor_remote_too_many_keys);
	for (guint i = 0; i < G_N_ELEMENTS(key_cases); i++) {
		g_autofree gchar *path =
			g_strdup_printf("/relay/actor/key-document/%s", key_cases[i].name);
		g_test_add_data_func(path, GUINT_TO_POINTER(i), test_actor_key_document);
	}

	for (guint i = 0; i < G_N_ELEMENTS(webfinger_cases); i++) {
		g_autofree gchar *path =
			g_strdup_printf("/relay/discovery/webfinger-resource/%u", i);
		g_test_add_data_func(path, GUINT_TO_POINTER(i), test_webfinger_resource);
	}
	g_test_add_func("/relay/discovery/webfinger-resource-too-long",
			test_webfinger_resource_too_long);
	g_test_add_func("/relay/discovery/webfinger-document", test_webfinger_document);
	g_test_add_func("/relay/discovery/host-meta-xrd", test_discovery_host_meta_xrd);
	g_test_add_func("/relay/discovery/host-meta-json", test_discovery_host_meta_json);
	g_test_add_func("/relay/discovery/nodeinfo-links", test_discovery_nodeinfo_links);
	g_test_add_func("/relay/discovery/nodeinfo-2.0", test_discovery_nodeinfo_20);
	g_test_add_func("/relay/discovery/nodeinfo-2.1", test_discovery_nodeinfo_21);
	g_test_add_func("/relay/discovery/nodeinfo-minimal", test_discovery_nodeinfo_minimal);
	g_test_add_func("/relay/discovery/nodeinfo-validator", test_discovery_nodeinfo_validator);
	for (guint i = 0; i < G_N_ELEMENTS(nodeinfo_links_cases); i++) {
		g_autofree gchar *path = g_strdup_printf("/relay/discovery/nodeinfo-links-parse/%s",
							 nodeinfo_links_cases[i].name);
		g_test_add_data_func(path, GUINT_TO_POINTER(i), test_nodeinfo_links_parse);
	}
	for (guint i = 0; i < G_N_ELEMENTS(nodeinfo_software_cases); i++) {
		g_autofree gchar *path = g_strdup_printf("/relay/discovery/nodeinfo-software/%s",
							 nodeinfo_software_cases[i].name);
		g_test_add_data_func(path, GUINT_TO_POINTER(i), test_nodeinfo_software_parse);
	}

	status = g_test_run();
	xmlCleanupParser();
	return status;
}
