/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * Fetching remote actors and keys, against a fake remote instance on loopback that serves
 * actors in the shapes real servers use and checks the signature of every GET it receives.
 */

#include "config.h"

#include <libsoup/soup.h>

#include "relay-actor-cache.h"
#include "relay-address-guard.h"
#include "relay-fed-error.h"
#include "relay-fetcher.h"
#include "relay-http-sig.h"
#include "relay-keys.h"
#include "relay-test-utils.h"

typedef struct {
	SoupServer *server;
	gchar *origin;		  /* http://127.0.0.1:PORT */
	EVP_PKEY *remote_key;	  /* the remote actors' key */
	EVP_PKEY *remote_ed25519; /* the remote actors' Multikey */
	EVP_PKEY *relay_key;	  /* the relay's key, which signs the GETs */
	RelaySigner *signer;
	GHashTable *hits;	/* (element-type utf8 guint): GETs per path */
	guint signed_ok;	/* GETs whose signature verified with the relay's key */
	guint unsigned_refused; /* GETs refused for a missing or bad signature */
	gboolean require_signature;
	RelayStore *store;
	RelayFetcher *fetcher;
	RelayActorCache *cache;
	GSList *stalled; /* (element-type SoupServerMessage): requests never answered */
} FetchFixture;

static gchar *
fixture_url(FetchFixture *fixture, const gchar *path)
{
	return g_strdup_printf("%s%s", fixture->origin, path);
}

static gchar *
actor_json(FetchFixture *fixture, const gchar *path, const gchar *key_path)
{
	g_autofree gchar *pem = relay_keys_public_pem(fixture->remote_key, NULL);
	g_autofree gchar *multibase = relay_keys_ed25519_multibase(fixture->remote_ed25519, NULL);
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree gchar *id = fixture_url(fixture, path);
	g_autofree gchar *key_id = g_strdup_printf("%s%s", id, key_path);
	g_autofree gchar *ed_id = g_strdup_printf("%s#ed25519-key", id);
	g_autofree gchar *inbox = g_strdup_printf("%s/inbox", id);

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "@context");
	json_builder_add_string_value(builder, "https://www.w3.org/ns/activitystreams");
	json_builder_set_member_name(builder, "id");
	json_builder_add_string_value(builder, id);
	json_builder_set_member_name(builder, "type");
	json_builder_add_string_value(builder, "Application");
	json_builder_set_member_name(builder, "preferredUsername");
	json_builder_add_string_value(builder, "remote");
	json_builder_set_member_name(builder, "inbox");
	json_builder_add_string_value(builder, inbox);
	json_builder_set_member_name(builder, "publicKey");
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "id");
	json_builder_add_string_value(builder, key_id);
	json_builder_set_member_name(builder, "owner");
	json_builder_add_string_value(builder, id);
	json_builder_set_member_name(builder, "publicKeyPem");
	json_builder_add_string_value(builder, pem);
	json_builder_end_object(builder);
	json_builder_set_member_name(builder, "assertionMethod");
	json_builder_begin_array(builder);
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "id");
	json_builder_add_string_value(builder, ed_id);
	json_builder_set_member_name(builder, "type");
	json_builder_add_string_value(builder, "Multikey");
	json_builder_set_member_name(builder, "controller");
	json_builder_add_string_value(builder, id);
	json_builder_set_member_name(builder, "publicKeyMultibase");
	json_builder_add_string_value(builder, multibase);
	json_builder_end_object(builder);
	json_builder_end_array(builder);
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	return json_to_string(root, FALSE);
}

/* a GoToSocial-style key document: the key at its own URL, naming its owner */
static gchar *
key_json(FetchFixture *fixture, const gchar *key_path, const gchar *owner_path)
{
	g_autofree gchar *pem = relay_keys_public_pem(fixture->remote_key, NULL);
	g_autofree gchar *key_id = fixture_url(fixture, key_path);
	g_autofree gchar *owner = fixture_url(fixture, owner_path);
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonNode) root = NULL;

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "id");
	json_builder_add_string_value(builder, key_id);
	json_builder_set_member_name(builder, "owner");
	json_builder_add_string_value(builder, owner);
	json_builder_set_member_name(builder, "publicKeyPem");
	json_builder_add_string_value(builder, pem);
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	return json_to_string(root, FALSE);
}

/* the remote instance checks each GET's signature with the relay's public key */
static gboolean
remote_check_signature(FetchFixture *fixture, SoupServerMessage *msg)
{
	g_autofree gchar *uri = g_uri_to_string(soup_server_message_get_uri(msg));
	g_autoptr(RelayHttpRequest) request =
		relay_http_request_new(soup_server_message_get_method(msg), uri);
	g_autoptr(RelayHttpSignature) signature = NULL;
	g_autoptr(GError) error = NULL;
	SoupMessageHeadersIter iter;
	const char *name;
	const char *value;

	soup_message_headers_iter_init(&iter, soup_server_message_get_request_headers(msg));
	while (soup_message_headers_iter_next(&iter, &name, &value))
		relay_http_request_add_header(request, name, value);
	signature = relay_http_signature_parse(request, &error);
	if (signature == NULL ||
	    !relay_http_signature_check(
		    signature, request, g_get_real_time() / G_USEC_PER_SEC, 300, &error) ||
	    !relay_http_signature_verify(signature, request, fixture->relay_key, &error)) {
		if (g_test_verbose())
			g_printerr("remote: refused %s: %s\n", uri, error->message);
		return FALSE;
	}
	g_assert_cmpstr(relay_http_signature_get_key_id(signature),
			==,
			relay_signer_get_key_id(fixture->signer));
	return TRUE;
}

static void
remote_cb(SoupServer *server,
	  SoupServerMessage *msg,
	  const char *path,
	  GHashTable *query,
	  gpointer user_data)
{
	FetchFixture *fixture = user_data;
	g_autofree gchar *body = NULL;
	guint hits = GPOINTER_TO_UINT(g_hash_table_lookup(fixture->hits, path));
	gsize length;

	g_hash_table_insert(fixture->hits, g_strdup(path), GUINT_TO_POINTER(hits + 1));
	if (remote_check_signature(fixture, msg)) {
		fixture->signed_ok++;
	} else if (fixture->require_signature) {
		fixture->unsigned_refused++;
		soup_server_message_set_status(msg, SOUP_STATUS_UNAUTHORIZED, NULL);
		return;
	}

	if (g_str_equal(path, "/users/alice") || g_str_equal(path, "/users/carol")) {
		body = actor_json(fixture, path, "#main-key");
	} else if (g_str_equal(path, "/users/bob")) {
		body = actor_json(fixture, path, "/main-key");
	} else if (g_str_equal(path, "/users/bob/main-key")) {
		body = key_json(fixture, "/users/bob/main-key", "/users/bob");
	} else if (g_str_equal(path, "/keys/impostor")) {
		/* names alice as its owner, but alice does not list this key */
		body = key_json(fixture, "/keys/impostor", "/users/alice");
	} else if (g_str_equal(path, "/users/gone")) {
		soup_server_message_set_status(msg, SOUP_STATUS_GONE, NULL);
		return;
	} else if (g_str_equal(path, "/busy")) {
		soup_server_message_set_status(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
		return;
	} else if (g_str_equal(path, "/forbidden")) {
		soup_server_message_set_status(msg, SOUP_STATUS_FORBIDDEN, NULL);
		return;
	} else if (g_str_equal(path, "/big")) {
		GString *big = g_string_new("{\"a\":\"");
		for (guint i = 0; i < 200000; i++)
			g_string_append(big, "xxxxxxxxxx");
		g_string_append(big, "\"}");
		body = g_string_free(big, FALSE);
	} else if (g_str_equal(path, "/deep")) {
		GString *deep = g_string_new("{\"a\":");
		for (guint i = 0; i < 10000; i++)
			g_string_append_c(deep, '[');
		body = g_string_free(deep, FALSE);
	} else if (g_str_equal(path, "/list.csv")) {
		/* a document that is not JSON, with an ETag that If-None-Match matches */
		SoupMessageHeaders *request = soup_server_message_get_request_headers(msg);
		soup_message_headers_replace(
			soup_server_message_get_response_headers(msg), "ETag", "\"v1\"");
		if (g_strcmp0(soup_message_headers_get_one(request, "If-None-Match"), "\"v1\"") ==
		    0) {
			soup_server_message_set_status(msg, SOUP_STATUS_NOT_MODIFIED, NULL);
			return;
		}
		body = g_strdup_printf("a.example\nAccept: %s\n",
				       soup_message_headers_get_one(request, "Accept"));
		soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
		length = strlen(body);
		soup_server_message_set_response(
			msg, "text/csv", SOUP_MEMORY_TAKE, g_steal_pointer(&body), length);
		return;
	} else if (g_str_equal(path, "/not-json")) {
		body = g_strdup("<html>hello</html>");
	} else if (g_str_has_prefix(path, "/redirect/")) {
		guint64 left = g_ascii_strtoull(path + strlen("/redirect/"), NULL, 10);
		g_autofree gchar *next =
			left > 0 ? g_strdup_printf("/redirect/%" G_GUINT64_FORMAT, left - 1)
				 : g_strdup("/users/alice");
		soup_server_message_set_redirect(msg, SOUP_STATUS_FOUND, next);
		return;
	} else if (g_str_equal(path, "/stall")) {
		fixture->stalled = g_slist_prepend(fixture->stalled, g_object_ref(msg));
		soup_server_message_pause(msg);
		return;
	} else {
		soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
		return;
	}
	soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
	length = strlen(body);
	soup_server_message_set_response(
		msg, "application/activity+json", SOUP_MEMORY_TAKE, g_steal_pointer(&body), length);
}

static void
fixture_setup(FetchFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	GSList *uris;
	RelayFetcherOptions options;

	fixture->remote_key = relay_keys_generate_rsa(2048, &error);
	g_assert_no_error(error);
	fixture->remote_ed25519 = relay_keys_generate_ed25519(&error);
	g_assert_no_error(error);
	fixture->relay_key = relay_keys_generate_rsa(2048, &error);
	g_assert_no_error(error);
	fixture->signer =
		relay_signer_new("https://relay.example/actor#main-key", fixture->relay_key);
	fixture->hits = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	fixture->server = soup_server_new(NULL, NULL);
	soup_server_add_handler(fixture->server, NULL, remote_cb, fixture, NULL);
	soup_server_listen_local(fixture->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
	g_assert_no_error(error);
	uris = soup_server_get_uris(fixture->server);
	fixture->origin = g_strdup_printf("http://127.0.0.1:%d", g_uri_get_port(uris->data));
	g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);

	fixture->store = relay_store_new("memory", NULL, &error);
	g_assert_no_error(error);
	relay_fetcher_options_init(&options);
	options.allow_private_addresses = TRUE;
	options.timeout_s = 2;
	options.max_bytes = 65536;
	options.max_redirects = 2;
	fixture->fetcher = relay_fetcher_new(&options, &error);
	g_assert_no_error(error);
	fixture->cache = relay_actor_cache_new(fixture->store, fixture->fetcher, 3600);
}

static void
fixture_teardown(FetchFixture *fixture, gconstpointer user_data)
{
	for (GSList *l = fixture->stalled; l != NULL; l = l->next) {
		soup_server_message_set_status(l->data, SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
		soup_server_message_unpause(l->data);
	}
	g_slist_free_full(fixture->stalled, g_object_unref);
	g_clear_object(&fixture->cache);
	g_clear_object(&fixture->fetcher);
	relay_store_close(fixture->store);
	g_clear_object(&fixture->store);
	soup_server_disconnect(fixture->server);
	g_clear_object(&fixture->server);
	g_hash_table_unref(fixture->hits);
	relay_signer_unref(fixture->signer);
	EVP_PKEY_free(fixture->remote_key);
	EVP_PKEY_free(fixture->remote_ed25519);
	EVP_PKEY_free(fixture->relay_key);
	g_free(fixture->origin);
}

static guint
fixture_hits(FetchFixture *fixture, const gchar *path)
{
	return GPOINTER_TO_UINT(g_hash_table_lookup(fixture->hits, path));
}

typedef struct {
	GAsyncResult *result;
} Waiter;

static void
waiter_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Waiter *waiter = user_data;
	waiter->result = g_object_ref(res);
}

static gboolean
waiter_done(gpointer user_data)
{
	return ((Waiter *)user_data)->result != NULL;
}

static RelayCachedKey *
get_key(FetchFixture *fixture, const gchar *key_id, gboolean refresh, GError **error)
{
	Waiter waiter = {NULL};
	RelayCachedKey *key;

	relay_actor_cache_get_key_async(
		fixture->cache, key_id, fixture->signer, refresh, NULL, waiter_cb, &waiter);
	g_assert_true(relay_test_wait_until(NULL, waiter_done, &waiter, 10000));
	key = relay_actor_cache_get_key_finish(fixture->cache, waiter.result, error);
	g_object_unref(waiter.result);
	return key;
}

static JsonNode *
fetch(FetchFixture *fixture, const gchar *url, GError **error)
{
	Waiter waiter = {NULL};
	JsonNode *node;

	relay_fetcher_fetch_json_async(
		fixture->fetcher, url, fixture->signer, NULL, waiter_cb, &waiter);
	g_assert_true(relay_test_wait_until(NULL, waiter_done, &waiter, 10000));
	node = relay_fetcher_fetch_json_finish(fixture->fetcher, waiter.result, NULL, error);
	g_object_unref(waiter.result);
	return node;
}

static void
assert_same_key(EVP_PKEY *expected, const gchar *pem)
{
	g_autofree gchar *expected_pem = relay_keys_public_pem(expected, NULL);
	g_autoptr(EVP_PKEY) got = relay_keys_from_pem(pem, NULL);
	g_autofree gchar *got_pem = NULL;

	g_assert_nonnull(got);
	got_pem = relay_keys_public_pem(got, NULL);
	g_assert_cmpstr(got_pem, ==, expected_pem);
}

/* Mastodon's keyId: ACTOR#main-key; cached, then refetched on demand */
static void
test_key_main(FetchFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *key_id = fixture_url(fixture, "/users/alice#main-key");
	g_autofree gchar *owner = fixture_url(fixture, "/users/alice");
	g_autoptr(RelayCachedKey) key = NULL;
	g_autoptr(RelayCachedKey) again = NULL;
	g_autoptr(RelayCachedKey) refreshed = NULL;
	g_autoptr(GError) error = NULL;

	fixture->require_signature = TRUE;
	key = get_key(fixture, key_id, FALSE, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(key->id, ==, key_id);
	g_assert_cmpstr(key->owner, ==, owner);
	assert_same_key(fixture->remote_key, key->public_key_pem);
	g_assert_cmpuint(fixture_hits(fixture, "/users/alice"), ==, 1);
	g_assert_cmpuint(fixture->signed_ok, ==, 1);

	/* the second time it comes from storage */
	again = get_key(fixture, key_id, FALSE, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(again->owner, ==, owner);
	g_assert_cmpuint(fixture_hits(fixture, "/users/alice"), ==, 1);

	/* a signature that failed with it asks for it again (rotation) */
	refreshed = get_key(fixture, key_id, TRUE, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(fixture_hits(fixture, "/users/alice"), ==, 2);
	g_assert_cmpuint(fixture->unsigned_refused, ==, 0);
}

/* GoToSocial's keyId: a key document of its own naming its owner */
static void
test_key_document(FetchFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *key_id = fixture_url(fixture, "/users/bob/main-key");
	g_autofree gchar *owner = fixture_url(fixture, "/users/bob");
	g_autofree gchar *impostor = fixture_url(fixture, "/keys/impostor");
	g_autoptr(RelayCachedKey) key = NULL;
	g_autoptr(RelayCachedKey) refused = NULL;
	g_autoptr(GError) error = NULL;

	fixture->require_signature = TRUE;
	key = get_key(fixture, key_id, FALSE, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(key->owner, ==, owner);
	assert_same_key(fixture->remote_key, key->public_key_pem);
	g_assert_cmpuint(fixture_hits(fixture, "/users/bob/main-key"), ==, 1);
	g_assert_cmpuint(fixture_hits(fixture, "/users/bob"), ==, 1);
	g_assert_cmpuint(fixture->signed_ok, ==, 2);

	/* a key whose claimed owner does not list it is nobody's */
	refused = get_key(fixture, impostor, FALSE, &error);
	g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_KEY_NOT_FOUND);
	g_assert_null(refused);
}

/* FEP-521a: an Ed25519 Multikey in assertionMethod */
static void
test_key_multikey(FetchFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *key_id = fixture_url(fixture, "/users/carol#ed25519-key");
	g_autofree gchar *unknown = fixture_url(fixture, "/users/carol#other-key");
	g_autoptr(RelayCachedKey) key = NULL;
	g_autoptr(RelayCachedKey) none = NULL;
	g_autoptr(GError) error = NULL;

	key = get_key(fixture, key_id, FALSE, &error);
	g_assert_no_error(error);
	assert_same_key(fixture->remote_ed25519, key->public_key_pem);

	none = get_key(fixture, unknown, FALSE, &error);
	g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_KEY_NOT_FOUND);
	g_assert_null(none);
}

static void
test_actor_gone(FetchFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *gone = fixture_url(fixture, "/users/gone");
	g_autofree gchar *key_id = fixture_url(fixture, "/users/gone#main-key");
	g_autoptr(RelayCachedKey) key = NULL;
	g_autoptr(GError) error = NULL;
	Waiter waiter = {NULL};
	RelayRemoteActor *actor;

	key = get_key(fixture, key_id, FALSE, &error);
	g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_GONE);
	g_clear_error(&error);

	/* an actor lookup learns it is gone, and remembers */
	for (guint round = 0; round < 2; round++) {
		waiter.result = NULL;
		relay_actor_cache_get_actor_async(
			fixture->cache, gone, fixture->signer, FALSE, NULL, waiter_cb, &waiter);
		g_assert_true(relay_test_wait_until(NULL, waiter_done, &waiter, 10000));
		actor = relay_actor_cache_get_actor_finish(fixture->cache, waiter.result, &error);
		g_object_unref(waiter.result);
		g_assert_null(actor);
		g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_GONE);
		g_clear_error(&error);
	}
	g_assert_cmpuint(fixture_hits(fixture, "/users/gone"), ==, 2);
}

static void
test_actor_cached(FetchFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *alice = fixture_url(fixture, "/users/alice");
	g_autoptr(GError) error = NULL;

	for (guint round = 0; round < 3; round++) {
		g_autoptr(RelayRemoteActor) actor = NULL;
		Waiter waiter = {NULL};
		relay_actor_cache_get_actor_async(
			fixture->cache, alice, fixture->signer, FALSE, NULL, waiter_cb, &waiter);
		g_assert_true(relay_test_wait_until(NULL, waiter_done, &waiter, 10000));
		actor = relay_actor_cache_get_actor_finish(fixture->cache, waiter.result, &error);
		g_object_unref(waiter.result);
		g_assert_no_error(error);
		g_assert_cmpstr(actor->id, ==, alice);
		g_assert_nonnull(strstr(actor->inbox, "/users/alice/inbox"));
	}
	g_assert_cmpuint(fixture_hits(fixture, "/users/alice"), ==, 1);
}

static const struct {
	const gchar *path;
	gint code;
} fetch_errors[] = {
	{"/nothing-here", RELAY_FED_ERROR_NOT_FOUND},
	{"/users/gone", RELAY_FED_ERROR_GONE},
	{"/busy", RELAY_FED_ERROR_TRANSIENT},
	{"/forbidden", RELAY_FED_ERROR_REFUSED},
	{"/big", RELAY_FED_ERROR_TOO_LARGE},
	{"/deep", RELAY_FED_ERROR_INVALID_DOCUMENT},
	{"/not-json", RELAY_FED_ERROR_INVALID_DOCUMENT},
	{"/redirect/5", RELAY_FED_ERROR_REFUSED},
	{"/stall", RELAY_FED_ERROR_TRANSIENT},
};

static void
test_fetch_errors(FetchFixture *fixture, gconstpointer user_data)
{
	for (guint i = 0; i < G_N_ELEMENTS(fetch_errors); i++) {
		g_autofree gchar *url = fixture_url(fixture, fetch_errors[i].path);
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) node = fetch(fixture, url, &error);

		if (g_test_verbose())
			g_printerr("%s: %s\n", fetch_errors[i].path, error ? error->message : "ok");
		g_assert_null(node);
		g_assert_error(error, RELAY_FED_ERROR, fetch_errors[i].code);
	}
}

static void
test_fetch_redirects(FetchFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *url = fixture_url(fixture, "/redirect/1");
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = fetch(fixture, url, &error);

	/* two hops: /redirect/1 -> /redirect/0 -> /users/alice, each signed again */
	g_assert_no_error(error);
	g_assert_nonnull(node);
	g_assert_cmpuint(fixture_hits(fixture, "/users/alice"), ==, 1);
	g_assert_cmpuint(fixture->signed_ok, ==, 3);
}

static GBytes *
fetch_bytes(FetchFixture *fixture,
	    const gchar *path,
	    const gchar *if_none_match,
	    gchar **out_content_type,
	    gchar **out_etag,
	    gboolean *out_not_modified,
	    GError **error)
{
	g_autofree gchar *url = fixture_url(fixture, path);
	Waiter waiter = {NULL};
	GBytes *bytes;

	relay_fetcher_fetch_bytes_async(fixture->fetcher,
					url,
					"text/csv, application/json;q=0.9",
					if_none_match,
					fixture->signer,
					NULL,
					waiter_cb,
					&waiter);
	g_assert_true(relay_test_wait_until(NULL, waiter_done, &waiter, 10000));
	bytes = relay_fetcher_fetch_bytes_finish(fixture->fetcher,
						 waiter.result,
						 out_content_type,
						 out_etag,
						 out_not_modified,
						 error);
	g_object_unref(waiter.result);
	return bytes;
}

/* any document: the caller's Accept sent, the GET signed, the type and ETag given back; with
 * the ETag in If-None-Match a 304 is "not modified"; errors as for JSON */
static void
test_fetch_bytes(FetchFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *content_type = NULL;
	g_autofree gchar *etag = NULL;
	g_autofree gchar *text = NULL;
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(GBytes) again = NULL;
	g_autoptr(GBytes) other = NULL;
	g_autoptr(GBytes) missing = NULL;
	gboolean not_modified = TRUE;

	bytes = fetch_bytes(
		fixture, "/list.csv", NULL, &content_type, &etag, &not_modified, &error);
	g_assert_no_error(error);
	g_assert_nonnull(bytes);
	text = g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
	g_assert_cmpstr(text, ==, "a.example\nAccept: text/csv, application/json;q=0.9\n");
	g_assert_cmpstr(content_type, ==, "text/csv");
	g_assert_cmpstr(etag, ==, "\"v1\"");
	g_assert_false(not_modified);
	g_assert_cmpuint(fixture->signed_ok, ==, 1);

	again = fetch_bytes(fixture, "/list.csv", "\"v1\"", NULL, NULL, &not_modified, &error);
	g_assert_no_error(error);
	g_assert_nonnull(again);
	g_assert_true(not_modified);
	g_assert_cmpuint(g_bytes_get_size(again), ==, 0);

	other = fetch_bytes(fixture, "/list.csv", "\"v0\"", NULL, NULL, &not_modified, &error);
	g_assert_no_error(error);
	g_assert_false(not_modified);
	g_assert_cmpuint(g_bytes_get_size(other), >, 0);

	missing = fetch_bytes(fixture, "/nothing", "\"v1\"", NULL, NULL, NULL, &error);
	g_assert_null(missing);
	g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_NOT_FOUND);
}

/* without allow-private-addresses, nothing on loopback or a private network is reached */
static void
test_fetch_private_refused(FetchFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayFetcher) guarded = NULL;
	RelayFetcherOptions options;
	g_autoptr(GUri) origin = g_uri_parse(fixture->origin, G_URI_FLAGS_NONE, NULL);
	guint16 port = (guint16)g_uri_get_port(origin);
	const gchar *urls[] = {"http://127.0.0.1:%s/users/alice",
			       "http://[::1]:%s/users/alice",
			       "http://[::ffff:127.0.0.1]:%s/users/alice",
			       "http://localhost:%s/users/alice",
			       "http://10.1.2.3:%s/users/alice",
			       "ftp://example.org:%s/users/alice"};
	g_autofree gchar *port_text = NULL;

	port_text = g_strdup_printf("%u", port);
	relay_fetcher_options_init(&options);
	options.timeout_s = 2;
	guarded = relay_fetcher_new(&options, &error);
	g_assert_no_error(error);
	relay_address_guard_install(FALSE);
	g_clear_object(&fixture->fetcher);
	fixture->fetcher = g_object_ref(guarded);
	for (guint i = 0; i < G_N_ELEMENTS(urls); i++) {
		g_auto(GStrv) parts = g_strsplit(urls[i], "%s", 2);
		g_autofree gchar *url = g_strjoin(port_text, parts[0], parts[1], NULL);
		g_autoptr(JsonNode) node = fetch(fixture, url, &error);
		if (node != NULL)
			g_error("%s was fetched", url);
		if (g_str_has_prefix(url, "ftp:"))
			g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_REFUSED);
		else
			g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_FORBIDDEN_ADDRESS);
		g_clear_error(&error);
	}
	g_assert_cmpuint(g_hash_table_size(fixture->hits), ==, 0);
	relay_address_guard_install(TRUE);
}

static const struct {
	const gchar *address;
	gboolean public;
} addresses[] = {
	{"93.184.216.34", TRUE},
	{"1.1.1.1", TRUE},
	{"2606:4700:4700::1111", TRUE},
	{"127.0.0.1", FALSE},
	{"127.8.9.10", FALSE},
	{"10.0.0.1", FALSE},
	{"172.16.0.1", FALSE},
	{"172.31.255.255", FALSE},
	{"172.32.0.1", TRUE},
	{"192.168.1.1", FALSE},
	{"169.254.169.254", FALSE},
	{"100.64.0.1", FALSE},
	{"0.0.0.0", FALSE},
	{"224.0.0.1", FALSE},
	{"255.255.255.255", FALSE},
	{"::", FALSE},
	{"::1", FALSE},
	{"fe80::1", FALSE},
	{"fc00::1", FALSE},
	{"fd12:3456::1", FALSE},
	{"ff02::1", FALSE},
	{"::ffff:127.0.0.1", FALSE},
	{"::ffff:8.8.8.8", TRUE},
	{"64:ff9b::a00:1", FALSE},
	{"2002:7f00:1::", FALSE},
	{"2002:808:808::", TRUE},
};

static void
test_address_classes(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(addresses); i++) {
		g_autoptr(GInetAddress) address =
			g_inet_address_new_from_string(addresses[i].address);
		g_assert_nonnull(address);
		if (relay_address_is_public(address) != addresses[i].public)
			g_error("%s should be %s",
				addresses[i].address,
				addresses[i].public ? "public" : "refused");
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	relay_address_guard_install(TRUE);

	g_test_add_func("/relay/fetch/address-classes", test_address_classes);
#define ADD(path, func) g_test_add(path, FetchFixture, NULL, fixture_setup, func, fixture_teardown)
	ADD("/relay/fetch/key-main", test_key_main);
	ADD("/relay/fetch/key-document", test_key_document);
	ADD("/relay/fetch/key-multikey", test_key_multikey);
	ADD("/relay/fetch/actor-gone", test_actor_gone);
	ADD("/relay/fetch/actor-cached", test_actor_cached);
	ADD("/relay/fetch/errors", test_fetch_errors);
	ADD("/relay/fetch/redirects", test_fetch_redirects);
	ADD("/relay/fetch/bytes", test_fetch_bytes);
	ADD("/relay/fetch/private-refused", test_fetch_private_refused);
#undef ADD
	return g_test_run();
}
