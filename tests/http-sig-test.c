/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * HTTP signatures and keys. Every case runs on a pinned clock. The vectors under
 * ../shared/vectors (made by Misskey's, Joyent's, PeerTube's and Fedify's libraries) are read at
 * run time and each becomes two cases: verify (parse, check, verify, signing string byte for
 * byte) and sign (our signer reproduces the recorded Signature). The Mastodon 2.4.3 captures
 * under ../shared/fixtures are raw HTTP, parsed here. Expected values that the code under test
 * could compute (multibase strings, digests, epoch seconds) were derived independently with
 * python3 and openssl and are hard-coded.
 */

#include "config.h"

#include <string.h>

#include <json-glib/json-glib.h>
#include <openssl/rsa.h>

#include "relay-http-sig.h"
#include "relay-keys.h"
#include "relay-test-utils.h"

/* "Wed, 01 Jan 2025 12:00:00 GMT", the Date of every vector (and their RFC 9421 created) */
#define VECTOR_NOW_S 1735732800
/* "Thu, 19 Jul 2018 14:16:21 GMT", the Date of the Mastodon 2.4.3 captures */
#define MASTODON_NOW_S 1532009781
#define WINDOW_S       3600

#define VECTOR_BODY                                                                                \
	"{\"@context\":\"https://www.w3.org/ns/activitystreams\",\"id\":\"https://"                \
	"sender.example/activities/1\",\"type\":\"Follow\",\"actor\":\"https://sender.example/"    \
	"users/alice\",\"object\":\"https://www.w3.org/ns/activitystreams#Public\"}"
#define VECTOR_BODY_SHA256 "piUB4Y5FVJRvpY3xO2XDoFWnW7FEljWdxlO9wJSpSmc="
#define VECTOR_BODY_SHA512                                                                         \
	"S+OdYYsd/PNRkIejW9h29HvSd3vWjOO+mRCeO5QK4TAiDmlb5JBN5mEaFxu1e2J4Q1FAJpCjH0vU699DV6eI0A=="
#define VECTOR_DATE "Wed, 01 Jan 2025 12:00:00 GMT"
#define SHA256_OF_X "LXEWQrcmsEQBYnyp+6wy9chTD7GQPMTbAiWHF5IaSIE="

/* fresh keys for the round trips, made once */
static EVP_PKEY *test_rsa_key = NULL;
static EVP_PKEY *test_ed25519_key = NULL;

static gchar *
test_shared_path(const gchar *relative)
{
	g_autofree gchar *shared = g_build_filename("..", "shared", relative, NULL);
	return relay_test_source_path(shared);
}

static EVP_PKEY *
test_load_key(const gchar *path)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *pem = NULL;
	EVP_PKEY *key;

	g_file_get_contents(path, &pem, NULL, &error);
	g_assert_no_error(error);
	key = relay_keys_from_pem(pem, &error);
	g_assert_no_error(error);
	g_assert_nonnull(key);
	return key;
}

static EVP_PKEY *
test_load_vector_key(const gchar *relative)
{
	g_autofree gchar *vectors = g_build_filename("vectors", relative, NULL);
	g_autofree gchar *path = test_shared_path(vectors);
	return test_load_key(path);
}

/* a public-only copy of @key, as a verifier fetches it */
static EVP_PKEY *
test_public_copy(EVP_PKEY *key)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *pem = relay_keys_public_pem(key, &error);
	EVP_PKEY *public_key;

	g_assert_no_error(error);
	public_key = relay_keys_from_pem(pem, &error);
	g_assert_no_error(error);
	return public_key;
}

static GBytes *
test_body(const gchar *text)
{
	return g_bytes_new(text, strlen(text));
}

/* vectors */

typedef struct {
	gchar *id;
	gchar *path;
} TestVector;

static void
test_vector_free(gpointer data)
{
	TestVector *vector = data;
	g_free(vector->id);
	g_free(vector->path);
	g_free(vector);
}

static JsonObject *
test_vector_load(const TestVector *vector, JsonParser *parser)
{
	g_autoptr(GError) error = NULL;

	json_parser_load_from_file(parser, vector->path, &error);
	g_assert_no_error(error);
	return json_node_get_object(json_parser_get_root(parser));
}

/* the request of @object with its signed headers, without the signature ones if asked */
static RelayHttpRequest *
test_vector_request(JsonObject *object, gboolean with_signature)
{
	JsonObject *request = json_object_get_object_member(object, "request");
	JsonObject *headers = json_object_get_object_member(object, "signed_headers");
	g_autoptr(GList) names = json_object_get_members(headers);
	RelayHttpRequest *self =
		relay_http_request_new(json_object_get_string_member(request, "method"),
				       json_object_get_string_member(request, "url"));

	/* the members come in file order: the order the library emitted them */
	for (GList *l = names; l != NULL; l = l->next) {
		const gchar *name = l->data;
		if (!with_signature && (g_ascii_strcasecmp(name, "Signature") == 0 ||
					g_ascii_strcasecmp(name, "Signature-Input") == 0))
			continue;
		relay_http_request_add_header(
			self, name, json_object_get_string_member(headers, name));
	}
	if (!json_object_get_null_member(request, "body")) {
		g_autoptr(GBytes) body = test_body(json_object_get_string_member(request, "body"));
		relay_http_request_set_body(self, body);
	}
	return self;
}

static const gchar *
test_vector_header(JsonObject *object, const gchar *name)
{
	JsonObject *headers = json_object_get_object_member(object, "signed_headers");
	g_autoptr(GList) names = json_object_get_members(headers);

	for (GList *l = names; l != NULL; l = l->next) {
		if (g_ascii_strcasecmp(l->data, name) == 0)
			return json_object_get_string_member(headers, l->data);
	}
	return NULL;
}

/* the quoted value of @param in a draft-cavage header, found without the code under test */
static gchar *
test_cavage_param(const gchar *header, const gchar *param)
{
	g_autofree gchar *needle = g_strdup_printf("%s=\"", param);
	const gchar *start = strstr(header, needle);
	const gchar *end;

	g_assert_nonnull(start);
	start += strlen(needle);
	end = strchr(start, '"');
	g_assert_nonnull(end);
	return g_strndup(start, end - start);
}

static void
test_vector_verify(gconstpointer data)
{
	const TestVector *vector = data;
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayHttpRequest) request = NULL;
	g_autoptr(RelayHttpSignature) signature = NULL;
	g_autoptr(EVP_PKEY) key = NULL;
	g_autofree gchar *base = NULL;
	JsonObject *object = test_vector_load(vector, parser);
	JsonObject *key_info = json_object_get_object_member(object, "key");
	JsonObject *verified_by = json_object_get_object_member(object, "verified_by");
	gboolean rfc9421 = g_strcmp0(json_object_get_string_member(object, "spec"), "rfc9421") == 0;
	gboolean expected = json_object_get_boolean_member(verified_by, "openssl");
	gint64 date_s = 0;
	gboolean ok;

	request = test_vector_request(object, TRUE);
	g_assert_true(
		relay_http_date_parse(relay_http_request_get_header(request, "Date"), &date_s));
	g_assert_cmpint(date_s, ==, VECTOR_NOW_S);

	signature = relay_http_signature_parse(request, &error);
	g_assert_no_error(error);
	g_assert_cmpint(relay_http_signature_get_format(signature),
			==,
			rfc9421 ? RELAY_HTTP_SIGNATURE_FORMAT_RFC9421
				: RELAY_HTTP_SIGNATURE_FORMAT_CAVAGE);
	g_assert_cmpstr(relay_http_signature_get_key_id(signature),
			==,
			json_object_get_string_member(key_info, "keyId"));

	/* our signing string is the library's, byte for byte */
	base = relay_http_signature_build_base(signature, request, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(base,
			==,
			json_object_get_string_member(
				object, rfc9421 ? "signature_base" : "signing_string"));

	ok = relay_http_signature_check(signature, request, VECTOR_NOW_S, WINDOW_S, &error);
	g_assert_no_error(error);
	g_assert_true(ok);

	key = test_load_vector_key(json_object_get_string_member(key_info, "public_pem"));
	ok = relay_http_signature_verify(signature, request, key, &error);
	if (expected) {
		g_assert_no_error(error);
		g_assert_true(ok);
	} else {
		g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_BAD_SIGNATURE);
		g_assert_false(ok);
	}
}

static void
test_count_header_cb(const gchar *name, const gchar *value, gpointer user_data)
{
	guint *count = user_data;
	(*count)++;
}

static guint
test_header_count(RelayHttpRequest *request)
{
	guint count = 0;
	relay_http_request_foreach_header(request, test_count_header_cb, &count);
	return count;
}

/* the components of the recorded Signature-Input's inner list, read by hand */
static GStrv
test_rfc9421_components(const gchar *input)
{
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	const gchar *cursor = strchr(input, '(');
	const gchar *end = strchr(input, ')');

	g_assert_nonnull(cursor);
	g_assert_nonnull(end);
	while ((cursor = strchr(cursor, '"')) != NULL && cursor < end) {
		const gchar *close = strchr(cursor + 1, '"');
		g_autofree gchar *component = g_strndup(cursor + 1, close - cursor - 1);

		g_strv_builder_add(builder, component);
		cursor = close + 1;
	}
	return g_strv_builder_end(builder);
}

static void
test_vector_sign(gconstpointer data)
{
	const TestVector *vector = data;
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayHttpRequest) request = NULL;
	g_autoptr(EVP_PKEY) key = NULL;
	JsonObject *object = test_vector_load(vector, parser);
	JsonObject *key_info = json_object_get_object_member(object, "key");
	const gchar *key_id = json_object_get_string_member(key_info, "keyId");
	const gchar *recorded = test_vector_header(object, "Signature");
	gboolean rfc9421 = g_strcmp0(json_object_get_string_member(object, "spec"), "rfc9421") == 0;
	guint count;
	gboolean ok;

	key = test_load_vector_key(json_object_get_string_member(key_info, "private_pem"));
	request = test_vector_request(object, FALSE);
	g_assert_null(relay_http_request_get_header(request, "Signature"));
	count = test_header_count(request);

	if (rfc9421) {
		const gchar *input = test_vector_header(object, "Signature-Input");
		g_auto(GStrv) components = test_rfc9421_components(input);

		ok = relay_http_sign_rfc9421(request,
					     key_id,
					     key,
					     (const gchar *const *)components,
					     VECTOR_NOW_S,
					     &error);
		g_assert_no_error(error);
		g_assert_true(ok);
		g_assert_cmpstr(
			relay_http_request_get_header(request, "Signature-Input"), ==, input);
		g_assert_cmpstr(relay_http_request_get_header(request, "Signature"), ==, recorded);
		/* everything needed was in the vector: only the two signature headers were added */
		g_assert_cmpuint(test_header_count(request), ==, count + 2);
	} else {
		g_autofree gchar *names = test_cavage_param(recorded, "headers");
		g_autofree gchar *algorithm = test_cavage_param(recorded, "algorithm");
		g_autofree gchar *recorded_value = test_cavage_param(recorded, "signature");
		g_autofree gchar *our_value = NULL;
		g_autofree gchar *theirs = g_strdup_printf("algorithm=\"%s\"", algorithm);
		g_autofree gchar *ours = g_strdup_printf(
			"algorithm=\"%s\"", relay_keys_is_rsa(key) ? "rsa-sha256" : "hs2019");
		g_auto(GStrv) headers = g_strsplit(names, " ", -1);
		g_autoptr(GString) expected = g_string_new(recorded);
		const gchar *signed_header;

		ok = relay_http_sign_cavage(
			request, key_id, key, (const gchar *const *)headers, &error);
		g_assert_no_error(error);
		g_assert_true(ok);
		signed_header = relay_http_request_get_header(request, "Signature");
		g_assert_nonnull(signed_header);
		g_assert_cmpuint(test_header_count(request), ==, count + 1);

		/* the signature bytes are the library's */
		our_value = test_cavage_param(signed_header, "signature");
		g_assert_cmpstr(our_value, ==, recorded_value);

		/*
		 * so is the whole header, but for the algorithm name: we write "rsa-sha256" for
		 * RSA (Mastodon's shape) and "hs2019" for Ed25519, where PeerTube wrote "hs2019"
		 * for RSA and Misskey and Joyent "ed25519-sha512"; the signed bytes do not depend
		 * on it
		 */
		g_string_replace(expected, theirs, ours, 1);
		g_assert_cmpstr(signed_header, ==, expected->str);
	}
}

/* the Mastodon 2.4.3 captures */

/* a raw HTTP/1.1 request with CRLF line ends; the target is kept in origin form */
static RelayHttpRequest *
test_parse_raw_http(const gchar *path)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *contents = NULL;
	g_auto(GStrv) request_line = NULL;
	g_auto(GStrv) lines = NULL;
	g_autofree gchar *head = NULL;
	g_autoptr(GBytes) body = NULL;
	RelayHttpRequest *request;
	const gchar *separator;
	gsize len = 0;

	g_file_get_contents(path, &contents, &len, &error);
	g_assert_no_error(error);
	separator = strstr(contents, "\r\n\r\n");
	g_assert_nonnull(separator);
	head = g_strndup(contents, separator - contents);
	body = g_bytes_new(separator + 4, len - (gsize)(separator + 4 - contents));

	lines = g_strsplit(head, "\r\n", -1);
	request_line = g_strsplit(lines[0], " ", 3);
	g_assert_cmpuint(g_strv_length(request_line), ==, 3);
	g_assert_cmpstr(request_line[2], ==, "HTTP/1.1");
	request = relay_http_request_new(request_line[0], request_line[1]);
	for (guint i = 1; lines[i] != NULL; i++) {
		g_autofree gchar *name = NULL;
		const gchar *colon = strchr(lines[i], ':');

		g_assert_nonnull(colon);
		name = g_strndup(lines[i], colon - lines[i]);
		relay_http_request_add_header(request, name, colon + 1);
	}
	relay_http_request_set_body(request, body);
	return request;
}

#define OK	    (-1)
#define NOT_REACHED (-2)

typedef struct {
	const gchar *file;
	gint parse_code;
	gint check_code;
	gint verify_code;
	const gchar *key_id;
} MastodonCase;

static const MastodonCase mastodon_cases[] = {
	{"signed_post", OK, OK, OK, "https://mastodon.sergal.org/users/Sir_Boops#main-key"},
	/* "£" in the middle of the base64 */
	{"signed_post_bad_base64", RELAY_FED_ERROR_MALFORMED_SIGNATURE, NOT_REACHED, NOT_REACHED},
	/* one base64 character changed */
	{"signed_post_bad_signature",
	 OK,
	 OK,
	 RELAY_FED_ERROR_BAD_SIGNATURE,
	 "https://mastodon.sergal.org/users/Sir_Boops#main-key"},
	/* user-agent is signed but the header is gone */
	{"signed_post_missing_header",
	 OK,
	 RELAY_FED_ERROR_MISSING_COMPONENT,
	 RELAY_FED_ERROR_MISSING_COMPONENT,
	 "https://mastodon.sergal.org/users/Sir_Boops#main-key"},
	/*
	 * the body says "http://www.w3.org/ns/activitystreams": the Digest header, and so the
	 * signature, still match, only the digest check catches it
	 */
	{"signed_post_tampered",
	 OK,
	 RELAY_FED_ERROR_DIGEST_MISMATCH,
	 OK,
	 "https://mastodon.sergal.org/users/Sir_Boops#main-key"},
	/*
	 * the same signature bytes under keyId "https://mastodon.sergal.org/keys/Sir_Boops" (a Key
	 * document URL rather than actor#main-key, as pub-relay tests its key lookup). The keyId
	 * is not part of a draft-cavage signing string, so with Sir_Boops's key this verifies,
	 * as `openssl dgst -verify` confirms: that the key fetched for a keyId belongs to the
	 * activity's actor is the fetcher's and the inbox's check, not the signature's.
	 */
	{"signed_post_keyurl", OK, OK, OK, "https://mastodon.sergal.org/keys/Sir_Boops"},
};

static void
test_assert_result(gboolean ok, GError *error, gint code)
{
	if (code == OK) {
		g_assert_no_error(error);
		g_assert_true(ok);
		return;
	}
	g_assert_error(error, RELAY_FED_ERROR, code);
	g_assert_false(ok);
	g_assert_nonnull(error->message);
}

static void
test_mastodon_capture(gconstpointer data)
{
	const MastodonCase *item = data;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *file =
		g_strdup_printf("fixtures/captured/mastodon-2.4.3/%s.http", item->file);
	g_autofree gchar *path = test_shared_path(file);
	g_autofree gchar *key_path =
		test_shared_path("fixtures/captured/mastodon-2.4.3/sir_boops.pub.pem");
	g_autoptr(RelayHttpRequest) request = test_parse_raw_http(path);
	g_autoptr(RelayHttpSignature) signature = NULL;
	g_autoptr(EVP_PKEY) key = test_load_key(key_path);
	gboolean ok;

	g_assert_cmpstr(relay_http_request_get_authority(request), ==, "iscute.moe");
	signature = relay_http_signature_parse(request, &error);
	test_assert_result(signature != NULL, error, item->parse_code);
	if (signature == NULL)
		return;
	g_assert_cmpstr(relay_http_signature_get_key_id(signature), ==, item->key_id);
	g_assert_cmpstr(relay_http_signature_get_algorithm(signature), ==, "rsa-sha256");

	ok = relay_http_signature_check(signature, request, MASTODON_NOW_S, WINDOW_S, &error);
	test_assert_result(ok, error, item->check_code);
	g_clear_error(&error);

	ok = relay_http_signature_verify(signature, request, key, &error);
	test_assert_result(ok, error, item->verify_code);
	g_clear_error(&error);

	/* the real capture is six years older than any sane window */
	if (item->check_code == OK) {
		ok = relay_http_signature_check(
			signature, request, MASTODON_NOW_S + WINDOW_S + 1, WINDOW_S, &error);
		test_assert_result(ok, error, RELAY_FED_ERROR_STALE_DATE);
	}
}

/* draft-cavage Signature parsing */

typedef struct {
	const gchar *name;
	const gchar *header; /* NULL: Signature */
	const gchar *value;
	gint code;
	const gchar *key_id;
	const gchar *components; /* space-separated */
} CavageParseCase;

#define SIG_OK "signature=\"AAAA\""

static const CavageParseCase cavage_parse_cases[] = {
	{"basic",
	 NULL,
	 "keyId=\"https://a.example/u#k\",algorithm=\"rsa-sha256\",headers=\"(request-target) host "
	 "date digest\"," SIG_OK,
	 OK,
	 "https://a.example/u#k",
	 "(request-target) host date digest"},
	{"comma-in-quoted-value",
	 NULL,
	 "keyId=\"https://a.example/u,v#k\",headers=\"date\"," SIG_OK,
	 OK,
	 "https://a.example/u,v#k",
	 "date"},
	{"spaces-around-equals",
	 NULL,
	 "keyId = \"k\" ,  algorithm= \"rsa-sha256\",headers =\"host  date\" ,\tsignature=\"AAAA\"",
	 OK,
	 "k",
	 "host date"},
	{"names-any-case",
	 NULL,
	 "KEYID=\"k\",Algorithm=\"RSA-SHA256\",HeAdErS=\"Host Date\",Signature=\"AAAA\"",
	 OK,
	 "k",
	 "host date"},
	{"unknown-parameters-ignored",
	 NULL,
	 "foo=\"bar, baz=\\\"x\\\"\",keyId=\"k\",nonce=abc,headers=\"date\"," SIG_OK,
	 OK,
	 "k",
	 "date"},
	{"token-values", NULL, "keyId=k,algorithm=hs2019,headers=date," SIG_OK, OK, "k", "date"},
	{"escaped-quote",
	 NULL,
	 "keyId=\"a\\\"b\\\\c\",headers=\"date\"," SIG_OK,
	 OK,
	 "a\"b\\c",
	 "date"},
	{"empty-list-elements",
	 NULL,
	 ", ,keyId=\"k\",,headers=\"date\",, " SIG_OK ",",
	 OK,
	 "k",
	 "date"},
	{"no-headers-means-created",
	 NULL,
	 "keyId=\"k\",algorithm=\"hs2019\",created=1735732800," SIG_OK,
	 OK,
	 "k",
	 "(created)"},
	{"created-expires",
	 NULL,
	 "keyId=\"k\",algorithm=\"hs2019\",created=1735732800,expires=\"1735733100.5\","
	 "headers=\"(request-target) (created) (expires)\"," SIG_OK,
	 OK,
	 "k",
	 "(request-target) (created) (expires)"},
	{"authorization",
	 "Authorization",
	 "Signature keyId=\"k\",headers=\"date\"," SIG_OK,
	 OK,
	 "k",
	 "date"},
	{"authorization-other-scheme", "Authorization", "Bearer abc", RELAY_FED_ERROR_UNSIGNED},
	{"duplicate-keyid",
	 NULL,
	 "keyId=\"a\",keyId=\"b\",headers=\"date\"," SIG_OK,
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"duplicate-any-case",
	 NULL,
	 "keyId=\"a\",headers=\"date\",KeyID=\"a\"," SIG_OK,
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"duplicate-unknown",
	 NULL,
	 "keyId=\"a\",x=1,x=1,headers=\"date\"," SIG_OK,
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"missing-signature",
	 NULL,
	 "keyId=\"k\",headers=\"date\"",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"missing-keyid", NULL, "headers=\"date\"," SIG_OK, RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"empty-keyid",
	 NULL,
	 "keyId=\"\",headers=\"date\"," SIG_OK,
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"empty-headers",
	 NULL,
	 "keyId=\"k\",headers=\"\"," SIG_OK,
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"blank-headers",
	 NULL,
	 "keyId=\"k\",headers=\"  \"," SIG_OK,
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"bad-base64-character",
	 NULL,
	 "keyId=\"k\",headers=\"date\",signature=\"AA*A\"",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"bad-base64-padding",
	 NULL,
	 "keyId=\"k\",headers=\"date\",signature=\"AAA==\"",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"bad-base64-length",
	 NULL,
	 "keyId=\"k\",headers=\"date\",signature=\"AAAAA\"",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"bad-base64-space",
	 NULL,
	 "keyId=\"k\",headers=\"date\",signature=\"AA AA\"",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"empty-signature",
	 NULL,
	 "keyId=\"k\",headers=\"date\",signature=\"\"",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"unterminated-quote",
	 NULL,
	 "keyId=\"k,headers=\"date\"," SIG_OK,
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"missing-equals",
	 NULL,
	 "keyId \"k\",headers=\"date\"," SIG_OK,
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"missing-comma",
	 NULL,
	 "keyId=\"k\" headers=\"date\"," SIG_OK,
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"empty-value",
	 NULL,
	 "keyId=,headers=\"date\"," SIG_OK,
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"control-character",
	 NULL,
	 "keyId=\"k\x01\",headers=\"date\"," SIG_OK,
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"unknown-algorithm",
	 NULL,
	 "keyId=\"k\",algorithm=\"hmac-sha256\",headers=\"date\"," SIG_OK,
	 RELAY_FED_ERROR_UNKNOWN_ALGORITHM},
	{"unknown-pseudo-header",
	 NULL,
	 "keyId=\"k\",headers=\"(algorithm) date\"," SIG_OK,
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"created-with-rsa",
	 NULL,
	 "keyId=\"k\",algorithm=\"rsa-sha256\",created=1,headers=\"(created)\"," SIG_OK,
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"created-missing",
	 NULL,
	 "keyId=\"k\",algorithm=\"hs2019\",headers=\"(request-target) (created)\"," SIG_OK,
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"created-not-a-number",
	 NULL,
	 "keyId=\"k\",created=\"yesterday\",headers=\"date\"," SIG_OK,
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"expires-negative",
	 NULL,
	 "keyId=\"k\",expires=-5,headers=\"date\"," SIG_OK,
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
};

static void
test_cavage_parse(gconstpointer data)
{
	const CavageParseCase *item = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayHttpRequest) request =
		relay_http_request_new("POST", "https://relay.example/inbox");
	g_autoptr(RelayHttpSignature) signature = NULL;

	relay_http_request_add_header(
		request, item->header != NULL ? item->header : "Signature", item->value);
	signature = relay_http_signature_parse(request, &error);
	test_assert_result(signature != NULL, error, item->code);
	if (signature != NULL) {
		g_autofree gchar *components =
			g_strjoinv(" ", (gchar **)relay_http_signature_get_components(signature));
		g_assert_cmpint(relay_http_signature_get_format(signature),
				==,
				RELAY_HTTP_SIGNATURE_FORMAT_CAVAGE);
		g_assert_cmpstr(relay_http_signature_get_key_id(signature), ==, item->key_id);
		g_assert_cmpstr(components, ==, item->components);
		g_assert_null(relay_http_signature_get_label(signature));
	}
}

static void
test_parse_unsigned(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayHttpRequest) request =
		relay_http_request_new("POST", "https://relay.example/inbox");
	g_autoptr(RelayHttpSignature) signature = NULL;

	relay_http_request_add_header(request, "Host", "relay.example");
	signature = relay_http_signature_parse(request, &error);
	g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_UNSIGNED);
	g_assert_null(signature);
}

/* RFC 9421 Signature-Input and Signature parsing */

typedef struct {
	const gchar *name;
	const gchar *input;
	const gchar *signature;
	gint code;
	const gchar *key_id;
	const gchar *label;
	const gchar *components;
	const gchar *algorithm;
} Rfc9421ParseCase;

static const Rfc9421ParseCase rfc9421_parse_cases[] = {
	{"basic",
	 "sig1=(\"@method\" \"@target-uri\" \"content-digest\");alg=\"ed25519\";keyid=\"k\";"
	 "created=1735732800",
	 "sig1=:AAAA:",
	 OK,
	 "k",
	 "sig1",
	 "@method @target-uri content-digest",
	 "ed25519"},
	{"first-with-keyid",
	 "sig0=(\"@method\");created=1, sig1=(\"@path\");keyid=\"k\", sig2=();keyid=\"other\"",
	 "sig0=:AAAA:, sig2=:BBBB:, sig1=:CCCC:",
	 OK,
	 "k",
	 "sig1",
	 "@path",
	 NULL},
	{"spaces-in-inner-list",
	 "sig1=(  \"@method\"   \"@path\" );keyid=\"k\"",
	 "sig1=:AAAA:",
	 OK,
	 "k",
	 "sig1",
	 "@method @path",
	 NULL},
	{"other-parameters",
	 "sig1=(\"@method\");keyid=\"k\";nonce=\"n\";tag=\"fedi\";flag;x=?0;y=-1.5;z=tok/en:x",
	 "sig1=:AAAA:;p=1",
	 OK,
	 "k",
	 "sig1",
	 "@method",
	 NULL},
	{"string-escapes",
	 "sig1=(\"@method\");keyid=\"a\\\"b\\\\c\"",
	 "sig1=:AAAA:",
	 OK,
	 "a\"b\\c",
	 "sig1",
	 "@method",
	 NULL},
	{"empty-inner-list", "sig1=();keyid=\"k\"", "sig1=:AAAA:", OK, "k", "sig1", "", NULL},
	{"bad-escape",
	 "sig1=(\"@method\");keyid=\"a\\x\"",
	 "sig1=:AAAA:",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"bytes-not-base64",
	 "sig1=(\"@method\");keyid=\"k\"",
	 "sig1=:AA*A:",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"bytes-unterminated",
	 "sig1=(\"@method\");keyid=\"k\"",
	 "sig1=:AAAA",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"signature-not-bytes",
	 "sig1=(\"@method\");keyid=\"k\"",
	 "sig1=\"AAAA\"",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"signature-label-missing",
	 "sig1=(\"@method\");keyid=\"k\"",
	 "sig2=:AAAA:",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"no-signature-header",
	 "sig1=(\"@method\");keyid=\"k\"",
	 NULL,
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"no-keyid",
	 "sig1=(\"@method\");created=1",
	 "sig1=:AAAA:",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"keyid-not-string",
	 "sig1=(\"@method\");keyid=k",
	 "sig1=:AAAA:",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"alg-not-string",
	 "sig1=(\"@method\");keyid=\"k\";alg=ed25519",
	 "sig1=:AAAA:",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"alg-unknown",
	 "sig1=(\"@method\");keyid=\"k\";alg=\"hmac-sha256\"",
	 "sig1=:AAAA:",
	 RELAY_FED_ERROR_UNKNOWN_ALGORITHM},
	{"created-not-integer",
	 "sig1=(\"@method\");keyid=\"k\";created=\"1\"",
	 "sig1=:AAAA:",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"created-decimal",
	 "sig1=(\"@method\");keyid=\"k\";created=1.5",
	 "sig1=:AAAA:",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"integer-too-long",
	 "sig1=(\"@method\");keyid=\"k\";created=1234567890123456",
	 "sig1=:AAAA:",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"not-inner-list",
	 "sig1=\"@method\";keyid=\"k\"",
	 "sig1=:AAAA:",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"inner-list-unclosed",
	 "sig1=(\"@method\" \"@path\";keyid=\"k\"",
	 "sig1=:AAAA:",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"inner-list-no-space",
	 "sig1=(\"@method\"\"@path\");keyid=\"k\"",
	 "sig1=:AAAA:",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"component-token",
	 "sig1=(method);keyid=\"k\"",
	 "sig1=:AAAA:",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"component-parameters",
	 "sig1=(\"content-digest\";sf);keyid=\"k\"",
	 "sig1=:AAAA:",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"component-upper-case",
	 "sig1=(\"Host\");keyid=\"k\"",
	 "sig1=:AAAA:",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"component-unsupported",
	 "sig1=(\"@status\");keyid=\"k\"",
	 "sig1=:AAAA:",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"component-twice",
	 "sig1=(\"host\" \"host\");keyid=\"k\"",
	 "sig1=:AAAA:",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"duplicate-label",
	 "sig1=(\"@method\");keyid=\"k\", sig1=(\"@path\");keyid=\"k\"",
	 "sig1=:AAAA:",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"duplicate-parameter",
	 "sig1=(\"@method\");keyid=\"k\";keyid=\"j\"",
	 "sig1=:AAAA:",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"trailing-comma",
	 "sig1=(\"@method\");keyid=\"k\",",
	 "sig1=:AAAA:",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"upper-case-label",
	 "Sig1=(\"@method\");keyid=\"k\"",
	 "Sig1=:AAAA:",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"garbage-after-member",
	 "sig1=(\"@method\");keyid=\"k\" x",
	 "sig1=:AAAA:",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
};

static void
test_rfc9421_parse(gconstpointer data)
{
	const Rfc9421ParseCase *item = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayHttpRequest) request =
		relay_http_request_new("POST", "https://relay.example/inbox");
	g_autoptr(RelayHttpSignature) signature = NULL;

	relay_http_request_add_header(request, "Signature-Input", item->input);
	if (item->signature != NULL)
		relay_http_request_add_header(request, "Signature", item->signature);
	signature = relay_http_signature_parse(request, &error);
	test_assert_result(signature != NULL, error, item->code);
	if (signature != NULL) {
		g_autofree gchar *components =
			g_strjoinv(" ", (gchar **)relay_http_signature_get_components(signature));
		g_assert_cmpint(relay_http_signature_get_format(signature),
				==,
				RELAY_HTTP_SIGNATURE_FORMAT_RFC9421);
		g_assert_cmpstr(relay_http_signature_get_key_id(signature), ==, item->key_id);
		g_assert_cmpstr(relay_http_signature_get_label(signature), ==, item->label);
		g_assert_cmpstr(components, ==, item->components);
		g_assert_cmpstr(relay_http_signature_get_algorithm(signature), ==, item->algorithm);
	}
}

/* the @signature-params line is the member as received, however it was spaced */
static void
test_rfc9421_params_as_received(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayHttpRequest) request =
		relay_http_request_new("GET", "https://relay.example/users/a?page=2");
	g_autoptr(RelayHttpSignature) signature = NULL;
	g_autofree gchar *base = NULL;

	relay_http_request_add_header(request, "Host", "Relay.Example:443");
	/* two header lines: combined with ", " before parsing, as RFC 9110 says */
	relay_http_request_add_header(request, "Signature-Input", "sig0=(\"@path\")");
	relay_http_request_add_header(request,
				      "Signature-Input",
				      "sig1=(  \"@method\" \"@authority\"   \"@scheme\" "
				      "\"@request-target\" \"@path\" \"@query\" \"@target-uri\" "
				      "\"host\");keyid=\"k\";created=5 ");
	relay_http_request_add_header(request, "Signature", "sig1=:AAAA:");
	signature = relay_http_signature_parse(request, &error);
	g_assert_no_error(error);
	base = relay_http_signature_build_base(signature, request, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(base,
			==,
			"\"@method\": GET\n"
			"\"@authority\": relay.example\n"
			"\"@scheme\": https\n"
			"\"@request-target\": /users/a?page=2\n"
			"\"@path\": /users/a\n"
			"\"@query\": ?page=2\n"
			"\"@target-uri\": https://relay.example/users/a?page=2\n"
			"\"host\": Relay.Example:443\n"
			"\"@signature-params\": (  \"@method\" \"@authority\"   \"@scheme\" "
			"\"@request-target\" \"@path\" \"@query\" \"@target-uri\" "
			"\"host\");keyid=\"k\";created=5");
}

/* check() */

typedef struct {
	const gchar *name;
	const gchar *method;
	const gchar *signature; /* draft-cavage Signature, or NULL */
	const gchar *input;	/* RFC 9421 Signature-Input (Signature is sig1=:AAAA:), or NULL */
	const gchar *date;	/* Date header, or NULL */
	const gchar *digest;	/* Digest header, or NULL */
	const gchar *content_digest; /* Content-Digest header, or NULL */
	gint code;
} CheckCase;

#define CAVAGE_POST "keyId=\"k\",algorithm=\"rsa-sha256\",signature=\"AAAA\",headers="
#define CAVAGE_HS   "keyId=\"k\",algorithm=\"hs2019\",signature=\"AAAA\","
#define POST_ALL    "\"(request-target) host date digest\""
#define DIGEST_OK   "SHA-256=" VECTOR_BODY_SHA256

static const CheckCase check_cases[] = {
	{"post-ok", "POST", CAVAGE_POST POST_ALL, NULL, VECTOR_DATE, DIGEST_OK, NULL, OK},
	{"post-content-type-too",
	 "POST",
	 CAVAGE_POST "\"(request-target) host date digest content-type\"",
	 NULL,
	 VECTOR_DATE,
	 DIGEST_OK,
	 NULL,
	 OK},
	{"post-without-digest-covered",
	 "POST",
	 CAVAGE_POST "\"(request-target) host date\"",
	 NULL,
	 VECTOR_DATE,
	 DIGEST_OK,
	 NULL,
	 RELAY_FED_ERROR_MISSING_COMPONENT},
	{"post-without-date-or-created",
	 "POST",
	 CAVAGE_POST "\"(request-target) host digest\"",
	 NULL,
	 VECTOR_DATE,
	 DIGEST_OK,
	 NULL,
	 RELAY_FED_ERROR_MISSING_COMPONENT},
	{"post-without-host",
	 "POST",
	 CAVAGE_POST "\"(request-target) date digest\"",
	 NULL,
	 VECTOR_DATE,
	 DIGEST_OK,
	 NULL,
	 RELAY_FED_ERROR_MISSING_COMPONENT},
	{"post-without-target",
	 "POST",
	 CAVAGE_POST "\"host date digest\"",
	 NULL,
	 VECTOR_DATE,
	 DIGEST_OK,
	 NULL,
	 RELAY_FED_ERROR_MISSING_COMPONENT},
	{"post-created-instead-of-date",
	 "POST",
	 CAVAGE_HS "created=1735732000,headers=\"(request-target) (created) host digest\"",
	 NULL,
	 NULL,
	 DIGEST_OK,
	 NULL,
	 OK},
	{"get-ok",
	 "GET",
	 CAVAGE_POST "\"(request-target) host date\"",
	 NULL,
	 VECTOR_DATE,
	 NULL,
	 NULL,
	 OK},
	{"get-without-host",
	 "GET",
	 CAVAGE_POST "\"(request-target) date accept\"",
	 NULL,
	 VECTOR_DATE,
	 NULL,
	 NULL,
	 RELAY_FED_ERROR_MISSING_COMPONENT},
	{"get-without-date",
	 "GET",
	 CAVAGE_POST "\"(request-target) host\"",
	 NULL,
	 VECTOR_DATE,
	 NULL,
	 NULL,
	 RELAY_FED_ERROR_MISSING_COMPONENT},
	{"signed-header-absent",
	 "POST",
	 CAVAGE_POST "\"(request-target) host date digest user-agent\"",
	 NULL,
	 VECTOR_DATE,
	 DIGEST_OK,
	 NULL,
	 RELAY_FED_ERROR_MISSING_COMPONENT},
	{"signed-digest-absent",
	 "POST",
	 CAVAGE_POST POST_ALL,
	 NULL,
	 VECTOR_DATE,
	 NULL,
	 NULL,
	 RELAY_FED_ERROR_MISSING_COMPONENT},
	{"signed-date-absent",
	 "POST",
	 CAVAGE_POST POST_ALL,
	 NULL,
	 NULL,
	 DIGEST_OK,
	 NULL,
	 RELAY_FED_ERROR_MISSING_COMPONENT},
	{"date-1h1s-old",
	 "POST",
	 CAVAGE_POST POST_ALL,
	 NULL,
	 "Wed, 01 Jan 2025 10:59:59 GMT",
	 DIGEST_OK,
	 NULL,
	 RELAY_FED_ERROR_STALE_DATE},
	{"date-1h1s-ahead",
	 "POST",
	 CAVAGE_POST POST_ALL,
	 NULL,
	 "Wed, 01 Jan 2025 13:00:01 GMT",
	 DIGEST_OK,
	 NULL,
	 RELAY_FED_ERROR_STALE_DATE},
	{"date-1h-old",
	 "POST",
	 CAVAGE_POST POST_ALL,
	 NULL,
	 "Wed, 01 Jan 2025 11:00:00 GMT",
	 DIGEST_OK,
	 NULL,
	 OK},
	{"date-59min-old",
	 "POST",
	 CAVAGE_POST POST_ALL,
	 NULL,
	 "Wed, 01 Jan 2025 11:01:00 GMT",
	 DIGEST_OK,
	 NULL,
	 OK},
	{"date-59min-ahead",
	 "POST",
	 CAVAGE_POST POST_ALL,
	 NULL,
	 "Wed, 01 Jan 2025 12:59:00 GMT",
	 DIGEST_OK,
	 NULL,
	 OK},
	{"date-rfc850",
	 "POST",
	 CAVAGE_POST POST_ALL,
	 NULL,
	 "Wednesday, 01-Jan-25 12:00:00 GMT",
	 DIGEST_OK,
	 NULL,
	 OK},
	{"date-asctime",
	 "POST",
	 CAVAGE_POST POST_ALL,
	 NULL,
	 "Wed Jan  1 12:00:00 2025",
	 DIGEST_OK,
	 NULL,
	 OK},
	{"date-unparseable",
	 "POST",
	 CAVAGE_POST POST_ALL,
	 NULL,
	 "2025-01-01T12:00:00Z",
	 DIGEST_OK,
	 NULL,
	 RELAY_FED_ERROR_STALE_DATE},
	{"unsigned-stale-date-ignored",
	 "POST",
	 CAVAGE_HS "created=1735732800,headers=\"(request-target) (created) host digest\"",
	 NULL,
	 "Wed, 01 Jan 2025 01:00:00 GMT",
	 DIGEST_OK,
	 NULL,
	 OK},
	{"created-too-old",
	 "POST",
	 CAVAGE_HS "created=1735729199,headers=\"(request-target) (created) host digest\"",
	 NULL,
	 NULL,
	 DIGEST_OK,
	 NULL,
	 RELAY_FED_ERROR_STALE_DATE},
	{"created-ahead",
	 "POST",
	 CAVAGE_HS "created=1735736401,headers=\"(request-target) (created) host digest\"",
	 NULL,
	 NULL,
	 DIGEST_OK,
	 NULL,
	 RELAY_FED_ERROR_STALE_DATE},
	{"expires-past",
	 "POST",
	 CAVAGE_HS "created=1735732000,expires=1735732799,headers=\"(request-target) (created) "
		   "(expires) host digest\"",
	 NULL,
	 NULL,
	 DIGEST_OK,
	 NULL,
	 RELAY_FED_ERROR_STALE_DATE},
	{"expires-future",
	 "POST",
	 CAVAGE_HS "created=1735732000,expires=1735733100.25,headers=\"(request-target) (created) "
		   "(expires) host digest\"",
	 NULL,
	 NULL,
	 DIGEST_OK,
	 NULL,
	 OK},
	{"digest-mismatch",
	 "POST",
	 CAVAGE_POST POST_ALL,
	 NULL,
	 VECTOR_DATE,
	 "SHA-256=" SHA256_OF_X,
	 NULL,
	 RELAY_FED_ERROR_DIGEST_MISMATCH},
	{"digest-lower-case",
	 "POST",
	 CAVAGE_POST POST_ALL,
	 NULL,
	 VECTOR_DATE,
	 "sha-256=" VECTOR_BODY_SHA256,
	 NULL,
	 OK},
	{"digest-sha512",
	 "POST",
	 CAVAGE_POST POST_ALL,
	 NULL,
	 VECTOR_DATE,
	 "SHA-512=" VECTOR_BODY_SHA512,
	 NULL,
	 OK},
	{"digest-both",
	 "POST",
	 CAVAGE_POST POST_ALL,
	 NULL,
	 VECTOR_DATE,
	 "SHA-512=" VECTOR_BODY_SHA512 ", SHA-256=" VECTOR_BODY_SHA256,
	 NULL,
	 OK},
	{"digest-one-of-two-wrong",
	 "POST",
	 CAVAGE_POST POST_ALL,
	 NULL,
	 VECTOR_DATE,
	 "SHA-512=" VECTOR_BODY_SHA512 ",SHA-256=" SHA256_OF_X,
	 NULL,
	 RELAY_FED_ERROR_DIGEST_MISMATCH},
	{"digest-unsupported-alone",
	 "POST",
	 CAVAGE_POST POST_ALL,
	 NULL,
	 VECTOR_DATE,
	 "MD5=HUXZLQLMuI/KZ5KDcJPcOA==",
	 NULL,
	 RELAY_FED_ERROR_UNKNOWN_ALGORITHM},
	{"digest-unsupported-and-sha256",
	 "POST",
	 CAVAGE_POST POST_ALL,
	 NULL,
	 VECTOR_DATE,
	 "MD5=HUXZLQLMuI/KZ5KDcJPcOA==,SHA-256=" VECTOR_BODY_SHA256,
	 NULL,
	 OK},
	{"digest-not-base64",
	 "POST",
	 CAVAGE_POST POST_ALL,
	 NULL,
	 VECTOR_DATE,
	 "SHA-256=not base64!",
	 NULL,
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"digest-no-equals",
	 "POST",
	 CAVAGE_POST POST_ALL,
	 NULL,
	 VECTOR_DATE,
	 "SHA-256",
	 NULL,
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"cavage-content-digest",
	 "POST",
	 CAVAGE_POST "\"(request-target) host date content-digest\"",
	 NULL,
	 VECTOR_DATE,
	 NULL,
	 "sha-256=:" VECTOR_BODY_SHA256 ":",
	 OK},
	{"rfc9421-ok",
	 "POST",
	 NULL,
	 "sig1=(\"@method\" \"@target-uri\" \"@authority\" \"content-digest\");keyid=\"k\";"
	 "created=1735732800",
	 NULL,
	 NULL,
	 "sha-256=:" VECTOR_BODY_SHA256 ":",
	 OK},
	{"rfc9421-target-uri-covers-host",
	 "POST",
	 NULL,
	 "sig1=(\"@method\" \"@target-uri\" \"content-digest\");keyid=\"k\";created=1735732800",
	 NULL,
	 NULL,
	 "sha-256=:" VECTOR_BODY_SHA256 ":",
	 OK},
	{"rfc9421-path-and-authority",
	 "POST",
	 NULL,
	 "sig1=(\"@method\" \"@path\" \"@authority\" \"date\" \"digest\");keyid=\"k\"",
	 VECTOR_DATE,
	 DIGEST_OK,
	 NULL,
	 OK},
	{"rfc9421-without-method",
	 "POST",
	 NULL,
	 "sig1=(\"@target-uri\" \"content-digest\");keyid=\"k\";created=1735732800",
	 NULL,
	 NULL,
	 "sha-256=:" VECTOR_BODY_SHA256 ":",
	 RELAY_FED_ERROR_MISSING_COMPONENT},
	{"rfc9421-without-host",
	 "POST",
	 NULL,
	 "sig1=(\"@method\" \"@path\" \"content-digest\");keyid=\"k\";created=1735732800",
	 NULL,
	 NULL,
	 "sha-256=:" VECTOR_BODY_SHA256 ":",
	 RELAY_FED_ERROR_MISSING_COMPONENT},
	{"rfc9421-without-created-or-date",
	 "POST",
	 NULL,
	 "sig1=(\"@method\" \"@target-uri\" \"content-digest\");keyid=\"k\"",
	 VECTOR_DATE,
	 NULL,
	 "sha-256=:" VECTOR_BODY_SHA256 ":",
	 RELAY_FED_ERROR_MISSING_COMPONENT},
	{"rfc9421-without-digest",
	 "POST",
	 NULL,
	 "sig1=(\"@method\" \"@target-uri\");keyid=\"k\";created=1735732800",
	 NULL,
	 NULL,
	 "sha-256=:" VECTOR_BODY_SHA256 ":",
	 RELAY_FED_ERROR_MISSING_COMPONENT},
	{"rfc9421-created-stale",
	 "POST",
	 NULL,
	 "sig1=(\"@method\" \"@target-uri\" \"content-digest\");keyid=\"k\";created=1735729199",
	 NULL,
	 NULL,
	 "sha-256=:" VECTOR_BODY_SHA256 ":",
	 RELAY_FED_ERROR_STALE_DATE},
	{"rfc9421-expired",
	 "POST",
	 NULL,
	 "sig1=(\"@method\" \"@target-uri\" \"content-digest\");keyid=\"k\";created=1735732700;"
	 "expires=1735732790",
	 NULL,
	 NULL,
	 "sha-256=:" VECTOR_BODY_SHA256 ":",
	 RELAY_FED_ERROR_STALE_DATE},
	{"content-digest-sha512",
	 "POST",
	 NULL,
	 "sig1=(\"@method\" \"@target-uri\" \"content-digest\");keyid=\"k\";created=1735732800",
	 NULL,
	 NULL,
	 "sha-512=:" VECTOR_BODY_SHA512 ":",
	 OK},
	{"content-digest-mismatch",
	 "POST",
	 NULL,
	 "sig1=(\"@method\" \"@target-uri\" \"content-digest\");keyid=\"k\";created=1735732800",
	 NULL,
	 NULL,
	 "sha-512=:" VECTOR_BODY_SHA512 ":, sha-256=:" SHA256_OF_X ":",
	 RELAY_FED_ERROR_DIGEST_MISMATCH},
	{"content-digest-unsupported-alone",
	 "POST",
	 NULL,
	 "sig1=(\"@method\" \"@target-uri\" \"content-digest\");keyid=\"k\";created=1735732800",
	 NULL,
	 NULL,
	 "md5=:HUXZLQLMuI/KZ5KDcJPcOA==:",
	 RELAY_FED_ERROR_UNKNOWN_ALGORITHM},
	{"content-digest-not-bytes",
	 "POST",
	 NULL,
	 "sig1=(\"@method\" \"@target-uri\" \"content-digest\");keyid=\"k\";created=1735732800",
	 NULL,
	 NULL,
	 "sha-256=\"" VECTOR_BODY_SHA256 "\"",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
	{"content-digest-bad-syntax",
	 "POST",
	 NULL,
	 "sig1=(\"@method\" \"@target-uri\" \"content-digest\");keyid=\"k\";created=1735732800",
	 NULL,
	 NULL,
	 "SHA-256=:" VECTOR_BODY_SHA256 ":",
	 RELAY_FED_ERROR_MALFORMED_SIGNATURE},
};

static void
test_check(gconstpointer data)
{
	const CheckCase *item = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayHttpRequest) request =
		relay_http_request_new(item->method, "https://relay.example/inbox");
	g_autoptr(RelayHttpSignature) signature = NULL;
	gboolean ok;

	relay_http_request_add_header(request, "Host", "relay.example");
	if (item->date != NULL)
		relay_http_request_add_header(request, "Date", item->date);
	if (g_strcmp0(item->method, "POST") == 0) {
		g_autoptr(GBytes) body = test_body(VECTOR_BODY);
		relay_http_request_add_header(request, "Content-Type", "application/activity+json");
		relay_http_request_set_body(request, body);
	}
	if (item->digest != NULL)
		relay_http_request_add_header(request, "Digest", item->digest);
	if (item->content_digest != NULL)
		relay_http_request_add_header(request, "Content-Digest", item->content_digest);
	if (item->signature != NULL) {
		relay_http_request_add_header(request, "Signature", item->signature);
	} else {
		relay_http_request_add_header(request, "Signature-Input", item->input);
		relay_http_request_add_header(request, "Signature", "sig1=:AAAA:");
	}

	signature = relay_http_signature_parse(request, &error);
	g_assert_no_error(error);
	ok = relay_http_signature_check(signature, request, VECTOR_NOW_S, WINDOW_S, &error);
	test_assert_result(ok, error, item->code);
}

/* dates */

typedef struct {
	const gchar *text;
	gint64 expected; /* -1: invalid */
} DateCase;

static const DateCase date_cases[] = {
	{"Sun, 06 Nov 1994 08:49:37 GMT", 784111777},
	{"Sunday, 06-Nov-94 08:49:37 GMT", 784111777},
	{"Sun Nov  6 08:49:37 1994", 784111777},
	{"Sun Nov 16 08:49:37 1994", 784111777 + 10 * 86400},
	{"  Wed, 01 Jan 2025 12:00:00 GMT ", VECTOR_NOW_S},
	{"wed, 01 jan 2025 12:00:00 GMT", VECTOR_NOW_S},
	{"Wed, 31 Dec 2025 23:59:60 GMT", 1767225599 + 1},
	{"Thu, 01 Jan 1970 00:00:00 GMT", 0},
	{"Sun, 6 Nov 1994 08:49:37 GMT", -1},
	{"Sun, 06 Nov 94 08:49:37 GMT", -1},
	{"Sun, 06 Nov 1994 08:49:37", -1},
	{"Sun, 06 Nov 1994 08:49:37 UTC", -1},
	{"Sun, 06 Nov 1994 08:49:37 GMT x", -1},
	{"Sun, 30 Feb 1994 08:49:37 GMT", -1},
	{"Sun, 06 Foo 1994 08:49:37 GMT", -1},
	{"Sun, 06 Nov 1994 24:00:00 GMT", -1},
	{"Sun, 06 Nov 1994 08:60:00 GMT", -1},
	{"Sunday, 06-Nov-1994 08:49:37 GMT", -1},
	{"Sun Nov 6 08:49:37 1994", -1},
	{"1994-11-06T08:49:37Z", -1},
	{"", -1},
};

static void
test_date_parse(gconstpointer data)
{
	const DateCase *item = data;
	gint64 time_s = -12345;
	gboolean ok = relay_http_date_parse(item->text, &time_s);

	if (item->expected == -1) {
		g_assert_false(ok);
		return;
	}
	g_assert_true(ok);
	g_assert_cmpint(time_s, ==, item->expected);
}

static void
test_date_format(void)
{
	g_autofree gchar *vector = relay_http_date_format(VECTOR_NOW_S);
	g_autofree gchar *rfc = relay_http_date_format(784111777);
	g_autofree gchar *epoch = relay_http_date_format(0);
	g_autofree gchar *now = relay_http_date_format(g_get_real_time() / G_USEC_PER_SEC);
	gint64 parsed = 0;

	g_assert_cmpstr(vector, ==, VECTOR_DATE);
	g_assert_cmpstr(rfc, ==, "Sun, 06 Nov 1994 08:49:37 GMT");
	g_assert_cmpstr(epoch, ==, "Thu, 01 Jan 1970 00:00:00 GMT");
	g_assert_true(relay_http_date_parse(now, &parsed));
}

/* the request */

static void
test_header_cb(const gchar *name, const gchar *value, gpointer user_data)
{
	GString *seen = user_data;
	g_string_append_printf(seen, "%s=%s|", name, value);
}

static void
test_request(void)
{
	g_autoptr(RelayHttpRequest) request = relay_http_request_new(
		"GET", "HTTPS://user@Relay.Example:8443/a%2Fb/../c?x=%41&y#frag");
	g_autoptr(RelayHttpRequest) origin = relay_http_request_new("POST", "/inbox?x");
	g_autoptr(RelayHttpRequest) bare = relay_http_request_new("GET", "https://relay.example");
	g_autoptr(GString) seen = g_string_new(NULL);

	g_assert_cmpstr(relay_http_request_get_scheme(request), ==, "https");
	g_assert_cmpstr(relay_http_request_get_authority(request), ==, "Relay.Example:8443");
	g_assert_cmpstr(relay_http_request_get_path(request), ==, "/a%2Fb/../c");
	g_assert_cmpstr(relay_http_request_get_query(request), ==, "x=%41&y");
	g_assert_cmpstr(relay_http_request_get_path_and_query(request), ==, "/a%2Fb/../c?x=%41&y");
	g_assert_cmpstr(relay_http_request_get_target_uri(request),
			==,
			"https://Relay.Example:8443/a%2Fb/../c?x=%41&y");

	relay_http_request_add_header(request, "Accept", "  application/activity+json\t");
	relay_http_request_add_header(request, "X-Other", "1");
	relay_http_request_add_header(request, "accept", "application/ld+json");
	g_assert_cmpstr(relay_http_request_get_header(request, "ACCEPT"),
			==,
			"application/activity+json, application/ld+json");
	g_assert_null(relay_http_request_get_header(request, "Missing"));
	relay_http_request_foreach_header(request, test_header_cb, seen);
	g_assert_cmpstr(seen->str,
			==,
			"Accept=application/activity+json|X-Other=1|accept=application/ld+json|");
	g_assert_cmpuint(relay_http_request_remove_header(request, "Accept"), ==, 2);
	g_assert_null(relay_http_request_get_header(request, "accept"));
	g_assert_cmpstr(relay_http_request_get_header(request, "x-other"), ==, "1");

	g_assert_null(relay_http_request_get_scheme(origin));
	g_assert_null(relay_http_request_get_authority(origin));
	relay_http_request_add_header(origin, "Host", "relay.example");
	g_assert_cmpstr(relay_http_request_get_authority(origin), ==, "relay.example");
	g_assert_cmpstr(relay_http_request_get_path_and_query(origin), ==, "/inbox?x");
	g_assert_cmpstr(relay_http_request_get_query(origin), ==, "x");

	g_assert_cmpstr(relay_http_request_get_path(bare), ==, "/");
	g_assert_null(relay_http_request_get_query(bare));
	g_assert_cmpstr(relay_http_request_get_target_uri(bare), ==, "https://relay.example/");
}

/* sign and verify round trips with fresh keys */

typedef enum {
	ROUND_TRIP_CAVAGE,
	ROUND_TRIP_RFC9421,
} RoundTripFormat;

typedef enum {
	TAMPER_NONE,
	TAMPER_SIGNED_HEADER,	/* a signed header changes: BAD_SIGNATURE */
	TAMPER_BODY,		/* the body changes: DIGEST_MISMATCH */
	TAMPER_DIGEST,		/* body and digest header change together: BAD_SIGNATURE */
	TAMPER_PATH,		/* the target changes: BAD_SIGNATURE */
	TAMPER_WRONG_KEY,	/* another key of the same type: BAD_SIGNATURE */
	TAMPER_OTHER_TYPE,	/* a key of the other type: UNKNOWN_ALGORITHM */
	TAMPER_UNSIGNED_HEADER, /* an unsigned header is added: still verifies */
} Tamper;

typedef struct {
	const gchar *name;
	RoundTripFormat format;
	gboolean ed25519;
	const gchar *method;
	const gchar *uri;
	gboolean body;
	const gchar *headers; /* space-separated, NULL for the defaults */
	Tamper tamper;
	gint check_code;
	gint verify_code;
	const gchar *expected_algorithm;
	const gchar *expected_components; /* after signing, NULL: not checked */
} RoundTripCase;

static const RoundTripCase round_trip_cases[] = {
	{"cavage-rsa-post",
	 ROUND_TRIP_CAVAGE,
	 FALSE,
	 "POST",
	 "https://peer.example/inbox",
	 TRUE,
	 NULL,
	 TAMPER_NONE,
	 OK,
	 OK,
	 "rsa-sha256",
	 "(request-target) host date digest content-type"},
	{"cavage-rsa-get",
	 ROUND_TRIP_CAVAGE,
	 FALSE,
	 "GET",
	 "https://peer.example/users/a?page=true&min_id=0",
	 FALSE,
	 NULL,
	 TAMPER_NONE,
	 OK,
	 OK,
	 "rsa-sha256",
	 "(request-target) host date"},
	{"cavage-ed25519-post",
	 ROUND_TRIP_CAVAGE,
	 TRUE,
	 "POST",
	 "https://peer.example/inbox",
	 TRUE,
	 NULL,
	 TAMPER_NONE,
	 OK,
	 OK,
	 "hs2019",
	 "(request-target) host date digest content-type"},
	{"cavage-ed25519-created",
	 ROUND_TRIP_CAVAGE,
	 TRUE,
	 "POST",
	 "https://peer.example/inbox",
	 TRUE,
	 "(request-target) (created) host digest",
	 TAMPER_NONE,
	 OK,
	 OK,
	 "hs2019",
	 "(request-target) (created) host digest"},
	{"rfc9421-rsa-post",
	 ROUND_TRIP_RFC9421,
	 FALSE,
	 "POST",
	 "https://peer.example:8443/inbox",
	 TRUE,
	 NULL,
	 TAMPER_NONE,
	 OK,
	 OK,
	 "rsa-v1_5-sha256",
	 "@method @target-uri @authority content-digest"},
	{"rfc9421-rsa-get",
	 ROUND_TRIP_RFC9421,
	 FALSE,
	 "GET",
	 "https://peer.example/users/a?page=1",
	 FALSE,
	 NULL,
	 TAMPER_NONE,
	 OK,
	 OK,
	 "rsa-v1_5-sha256",
	 "@method @target-uri @authority"},
	{"rfc9421-ed25519-post",
	 ROUND_TRIP_RFC9421,
	 TRUE,
	 "POST",
	 "https://peer.example/inbox",
	 TRUE,
	 NULL,
	 TAMPER_NONE,
	 OK,
	 OK,
	 "ed25519",
	 "@method @target-uri @authority content-digest"},
	{"rfc9421-ed25519-date",
	 ROUND_TRIP_RFC9421,
	 TRUE,
	 "POST",
	 "https://peer.example/inbox",
	 TRUE,
	 "@method @path @query @authority @scheme @request-target date content-type content-digest",
	 TAMPER_NONE,
	 OK,
	 OK,
	 "ed25519",
	 NULL},
	{"cavage-rsa-tampered-header",
	 ROUND_TRIP_CAVAGE,
	 FALSE,
	 "POST",
	 "https://peer.example/inbox",
	 TRUE,
	 NULL,
	 TAMPER_SIGNED_HEADER,
	 OK,
	 RELAY_FED_ERROR_BAD_SIGNATURE},
	{"cavage-rsa-tampered-body",
	 ROUND_TRIP_CAVAGE,
	 FALSE,
	 "POST",
	 "https://peer.example/inbox",
	 TRUE,
	 NULL,
	 TAMPER_BODY,
	 RELAY_FED_ERROR_DIGEST_MISMATCH,
	 OK},
	{"cavage-rsa-tampered-digest",
	 ROUND_TRIP_CAVAGE,
	 FALSE,
	 "POST",
	 "https://peer.example/inbox",
	 TRUE,
	 NULL,
	 TAMPER_DIGEST,
	 OK,
	 RELAY_FED_ERROR_BAD_SIGNATURE},
	{"cavage-rsa-tampered-path",
	 ROUND_TRIP_CAVAGE,
	 FALSE,
	 "GET",
	 "https://peer.example/users/a",
	 FALSE,
	 NULL,
	 TAMPER_PATH,
	 OK,
	 RELAY_FED_ERROR_BAD_SIGNATURE},
	{"cavage-rsa-wrong-key",
	 ROUND_TRIP_CAVAGE,
	 FALSE,
	 "POST",
	 "https://peer.example/inbox",
	 TRUE,
	 NULL,
	 TAMPER_WRONG_KEY,
	 OK,
	 RELAY_FED_ERROR_BAD_SIGNATURE},
	{"cavage-rsa-with-ed25519-key",
	 ROUND_TRIP_CAVAGE,
	 FALSE,
	 "POST",
	 "https://peer.example/inbox",
	 TRUE,
	 NULL,
	 TAMPER_OTHER_TYPE,
	 OK,
	 RELAY_FED_ERROR_UNKNOWN_ALGORITHM},
	{"cavage-rsa-unsigned-header-added",
	 ROUND_TRIP_CAVAGE,
	 FALSE,
	 "POST",
	 "https://peer.example/inbox",
	 TRUE,
	 NULL,
	 TAMPER_UNSIGNED_HEADER,
	 OK,
	 OK},
	{"cavage-ed25519-tampered-header",
	 ROUND_TRIP_CAVAGE,
	 TRUE,
	 "POST",
	 "https://peer.example/inbox",
	 TRUE,
	 NULL,
	 TAMPER_SIGNED_HEADER,
	 OK,
	 RELAY_FED_ERROR_BAD_SIGNATURE},
	{"cavage-ed25519-wrong-key",
	 ROUND_TRIP_CAVAGE,
	 TRUE,
	 "POST",
	 "https://peer.example/inbox",
	 TRUE,
	 NULL,
	 TAMPER_WRONG_KEY,
	 OK,
	 RELAY_FED_ERROR_BAD_SIGNATURE},
	/* hs2019 fits RSA keys too: the algorithm is right, the signature is not */
	{"cavage-ed25519-with-rsa-key",
	 ROUND_TRIP_CAVAGE,
	 TRUE,
	 "POST",
	 "https://peer.example/inbox",
	 TRUE,
	 NULL,
	 TAMPER_OTHER_TYPE,
	 OK,
	 RELAY_FED_ERROR_BAD_SIGNATURE},
	{"rfc9421-rsa-tampered-header",
	 ROUND_TRIP_RFC9421,
	 FALSE,
	 "POST",
	 "https://peer.example/inbox",
	 TRUE,
	 NULL,
	 TAMPER_SIGNED_HEADER,
	 RELAY_FED_ERROR_DIGEST_MISMATCH,
	 RELAY_FED_ERROR_BAD_SIGNATURE},
	{"rfc9421-rsa-tampered-body",
	 ROUND_TRIP_RFC9421,
	 FALSE,
	 "POST",
	 "https://peer.example/inbox",
	 TRUE,
	 NULL,
	 TAMPER_BODY,
	 RELAY_FED_ERROR_DIGEST_MISMATCH,
	 OK},
	{"rfc9421-ed25519-tampered-digest",
	 ROUND_TRIP_RFC9421,
	 TRUE,
	 "POST",
	 "https://peer.example/inbox",
	 TRUE,
	 NULL,
	 TAMPER_DIGEST,
	 OK,
	 RELAY_FED_ERROR_BAD_SIGNATURE},
	{"rfc9421-ed25519-tampered-path",
	 ROUND_TRIP_RFC9421,
	 TRUE,
	 "GET",
	 "https://peer.example/users/a",
	 FALSE,
	 NULL,
	 TAMPER_PATH,
	 OK,
	 RELAY_FED_ERROR_BAD_SIGNATURE},
	{"rfc9421-ed25519-with-rsa-key",
	 ROUND_TRIP_RFC9421,
	 TRUE,
	 "GET",
	 "https://peer.example/users/a",
	 FALSE,
	 NULL,
	 TAMPER_OTHER_TYPE,
	 OK,
	 RELAY_FED_ERROR_UNKNOWN_ALGORITHM},
};

/* copies each header line onto the request in @user_data */
static void
test_copy_header_cb(const gchar *name, const gchar *value, gpointer user_data)
{
	relay_http_request_add_header(user_data, name, value);
}

static void
test_round_trip(gconstpointer data)
{
	const RoundTripCase *item = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayHttpRequest) request = relay_http_request_new(item->method, item->uri);
	g_autoptr(RelayHttpSignature) signature = NULL;
	g_autoptr(EVP_PKEY) public_key = NULL;
	g_auto(GStrv) headers = item->headers != NULL ? g_strsplit(item->headers, " ", -1) : NULL;
	EVP_PKEY *key = item->ed25519 ? test_ed25519_key : test_rsa_key;
	gint64 now_s = g_get_real_time() / G_USEC_PER_SEC;
	gboolean ok;

	if (item->body) {
		g_autoptr(GBytes) body = test_body(VECTOR_BODY);
		relay_http_request_add_header(request, "Content-Type", "application/activity+json");
		relay_http_request_set_body(request, body);
	}
	relay_http_request_add_header(request, "Accept", "application/activity+json");
	if (item->format == ROUND_TRIP_CAVAGE)
		ok = relay_http_sign_cavage(request,
					    "https://relay.example/actor#main-key",
					    key,
					    (const gchar *const *)headers,
					    &error);
	else
		ok = relay_http_sign_rfc9421(request,
					     "https://relay.example/actor#main-key",
					     key,
					     (const gchar *const *)headers,
					     0,
					     &error);
	g_assert_no_error(error);
	g_assert_true(ok);

	/* what the signer added */
	g_assert_nonnull(relay_http_request_get_header(request, "Host"));
	if (item->format == ROUND_TRIP_CAVAGE) {
		g_assert_nonnull(relay_http_request_get_header(request, "Date"));
		if (item->body)
			g_assert_cmpstr(relay_http_request_get_header(request, "Digest"),
					==,
					"SHA-256=" VECTOR_BODY_SHA256);
		else
			g_assert_null(relay_http_request_get_header(request, "Digest"));
	} else if (item->body) {
		g_assert_cmpstr(relay_http_request_get_header(request, "Content-Digest"),
				==,
				"sha-256=:" VECTOR_BODY_SHA256 ":");
	}

	switch (item->tamper) {
	case TAMPER_SIGNED_HEADER:
		if (item->format == ROUND_TRIP_CAVAGE) {
			g_autofree gchar *date = relay_http_date_format(now_s - 1);
			relay_http_request_remove_header(request, "Date");
			relay_http_request_add_header(request, "Date", date);
		} else {
			relay_http_request_remove_header(request, "Content-Digest");
			relay_http_request_add_header(
				request, "Content-Digest", "sha-256=:" SHA256_OF_X ":");
		}
		break;
	case TAMPER_BODY: {
		g_autoptr(GBytes) body = test_body("x");
		relay_http_request_set_body(request, body);
		break;
	}
	case TAMPER_DIGEST: {
		g_autoptr(GBytes) body = test_body("x");
		relay_http_request_set_body(request, body);
		relay_http_request_remove_header(request, "Digest");
		relay_http_request_remove_header(request, "Content-Digest");
		relay_http_request_add_header(
			request,
			item->format == ROUND_TRIP_CAVAGE ? "Digest" : "Content-Digest",
			item->format == ROUND_TRIP_CAVAGE ? "SHA-256=" SHA256_OF_X
							  : "sha-256=:" SHA256_OF_X ":");
		break;
	}
	case TAMPER_PATH: {
		g_autoptr(RelayHttpRequest) moved =
			relay_http_request_new(item->method, "https://peer.example/users/b");
		relay_http_request_foreach_header(request, test_copy_header_cb, moved);
		relay_http_request_free(g_steal_pointer(&request));
		request = g_steal_pointer(&moved);
		break;
	}
	case TAMPER_UNSIGNED_HEADER:
		relay_http_request_add_header(request, "X-Forwarded-For", "192.0.2.1");
		break;
	default:
		break;
	}

	signature = relay_http_signature_parse(request, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(relay_http_signature_get_key_id(signature),
			==,
			"https://relay.example/actor#main-key");
	if (item->expected_algorithm != NULL)
		g_assert_cmpstr(relay_http_signature_get_algorithm(signature),
				==,
				item->expected_algorithm);
	if (item->expected_components != NULL) {
		g_autofree gchar *components =
			g_strjoinv(" ", (gchar **)relay_http_signature_get_components(signature));
		g_assert_cmpstr(components, ==, item->expected_components);
	}
	ok = relay_http_signature_check(signature, request, now_s, WINDOW_S, &error);
	test_assert_result(ok, error, item->check_code);
	g_clear_error(&error);

	if (item->tamper == TAMPER_WRONG_KEY) {
		public_key = item->ed25519 ? relay_keys_generate_ed25519(&error)
					   : test_load_vector_key("keys/rsa-public.pem");
		g_assert_no_error(error);
	} else if (item->tamper == TAMPER_OTHER_TYPE) {
		public_key = test_public_copy(item->ed25519 ? test_rsa_key : test_ed25519_key);
	} else {
		public_key = test_public_copy(key);
	}
	ok = relay_http_signature_verify(signature, request, public_key, &error);
	test_assert_result(ok, error, item->verify_code);
}

/* Mastodon's fallback: a signer that left the query out of (request-target) still verifies */
static void
test_verify_without_query(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayHttpRequest) request =
		relay_http_request_new("GET", "https://peer.example/users/a");
	g_autoptr(RelayHttpRequest) queried =
		relay_http_request_new("GET", "https://peer.example/users/a?page=1");
	g_autoptr(RelayHttpSignature) signature = NULL;
	g_autoptr(EVP_PKEY) public_key = test_public_copy(test_rsa_key);
	gboolean ok;

	ok = relay_http_sign_cavage(request, "k", test_rsa_key, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(ok);
	relay_http_request_foreach_header(request, test_copy_header_cb, queried);
	signature = relay_http_signature_parse(queried, &error);
	g_assert_no_error(error);
	ok = relay_http_signature_verify(signature, queried, public_key, &error);
	g_assert_no_error(error);
	g_assert_true(ok);
}

/* the query of joyent-draft-rsa-get-with-query is signed: without it the signature fails */
static void
test_verify_query_signed(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autofree gchar *path = test_shared_path("vectors/joyent-draft-rsa-get-with-query.json");
	TestVector vector = {"joyent-draft-rsa-get-with-query", path};
	JsonObject *object = test_vector_load(&vector, parser);
	g_autoptr(RelayHttpRequest) signed_request = test_vector_request(object, TRUE);
	g_autoptr(RelayHttpRequest) request =
		relay_http_request_new("GET", "https://sender.example/users/alice");
	g_autoptr(RelayHttpSignature) signature = NULL;
	g_autoptr(EVP_PKEY) key = test_load_vector_key("keys/rsa-public.pem");
	gboolean ok;

	relay_http_request_foreach_header(signed_request, test_copy_header_cb, request);
	signature = relay_http_signature_parse(request, &error);
	g_assert_no_error(error);
	ok = relay_http_signature_verify(signature, request, key, &error);
	g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_BAD_SIGNATURE);
	g_assert_false(ok);
}

/* "Authorization: Signature ..." carries the same parameters */
static void
test_verify_authorization(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayHttpRequest) request =
		relay_http_request_new("GET", "https://peer.example/users/a");
	g_autoptr(RelayHttpSignature) signature = NULL;
	g_autoptr(EVP_PKEY) public_key = test_public_copy(test_ed25519_key);
	g_autofree gchar *value = NULL;
	gboolean ok;

	ok = relay_http_sign_cavage(request, "k", test_ed25519_key, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(ok);
	value = g_strconcat(
		"Signature  ", relay_http_request_get_header(request, "Signature"), NULL);
	relay_http_request_remove_header(request, "Signature");
	relay_http_request_add_header(request, "Authorization", value);
	signature = relay_http_signature_parse(request, &error);
	g_assert_no_error(error);
	ok = relay_http_signature_verify(signature, request, public_key, &error);
	g_assert_no_error(error);
	g_assert_true(ok);
}

/* RSA-PSS SHA-512 (RFC 9421 rsa-pss-sha512), signed here with OpenSSL directly */
static void
test_verify_rsa_pss(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayHttpRequest) request =
		relay_http_request_new("POST", "https://relay.example/inbox");
	g_autoptr(RelayHttpSignature) signature = NULL;
	g_autoptr(EVP_MD_CTX) context = EVP_MD_CTX_new();
	g_autoptr(EVP_PKEY) public_key = test_public_copy(test_rsa_key);
	g_autoptr(GBytes) body = test_body(VECTOR_BODY);
	g_autofree gchar *base = NULL;
	g_autofree guint8 *bytes = NULL;
	g_autofree gchar *encoded = NULL;
	g_autofree gchar *value = NULL;
	EVP_PKEY_CTX *key_context = NULL;
	gsize len = 0;
	gboolean ok;

	relay_http_request_set_body(request, body);
	relay_http_request_add_header(request, "Host", "relay.example");
	relay_http_request_add_header(
		request, "Content-Digest", "sha-256=:" VECTOR_BODY_SHA256 ":");
	relay_http_request_add_header(request,
				      "Signature-Input",
				      "sig1=(\"@method\" \"@target-uri\" \"content-digest\");"
				      "alg=\"rsa-pss-sha512\";keyid=\"k\";created=1735732800");
	relay_http_request_add_header(request, "Signature", "sig1=:AAAA:");
	signature = relay_http_signature_parse(request, &error);
	g_assert_no_error(error);
	base = relay_http_signature_build_base(signature, request, &error);
	g_assert_no_error(error);

	g_assert_cmpint(
		EVP_DigestSignInit(context, &key_context, EVP_sha512(), NULL, test_rsa_key), ==, 1);
	g_assert_cmpint(EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PSS_PADDING), ==, 1);
	g_assert_cmpint(EVP_PKEY_CTX_set_rsa_pss_saltlen(key_context, 64), ==, 1);
	g_assert_cmpint(EVP_DigestSign(context, NULL, &len, (guint8 *)base, strlen(base)), ==, 1);
	bytes = g_malloc(len);
	g_assert_cmpint(EVP_DigestSign(context, bytes, &len, (guint8 *)base, strlen(base)), ==, 1);
	encoded = g_base64_encode(bytes, len);
	value = g_strdup_printf("sig1=:%s:", encoded);
	relay_http_request_remove_header(request, "Signature");
	relay_http_request_add_header(request, "Signature", value);
	g_clear_pointer(&signature, relay_http_signature_free);

	signature = relay_http_signature_parse(request, &error);
	g_assert_no_error(error);
	ok = relay_http_signature_check(signature, request, VECTOR_NOW_S, WINDOW_S, &error);
	g_assert_no_error(error);
	g_assert_true(ok);
	ok = relay_http_signature_verify(signature, request, public_key, &error);
	g_assert_no_error(error);
	g_assert_true(ok);

	/* the same bytes are no PKCS#1 v1.5 signature */
	relay_http_request_remove_header(request, "Signature-Input");
	relay_http_request_add_header(request,
				      "Signature-Input",
				      "sig1=(\"@method\" \"@target-uri\" \"content-digest\");"
				      "alg=\"rsa-v1_5-sha256\";keyid=\"k\";created=1735732800");
	g_clear_pointer(&signature, relay_http_signature_free);
	signature = relay_http_signature_parse(request, &error);
	g_assert_no_error(error);
	ok = relay_http_signature_verify(signature, request, public_key, &error);
	g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_BAD_SIGNATURE);
	g_assert_false(ok);
}

/* signing refuses what draft-cavage forbids, and keys it cannot use */
static void
test_sign_refused(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayHttpRequest) request =
		relay_http_request_new("POST", "https://peer.example/inbox");
	g_autoptr(EVP_PKEY) public_key = test_public_copy(test_rsa_key);
	const gchar *created[] = {"(request-target)", "(created)", NULL};
	const gchar *expires[] = {"(request-target)", "(expires)", NULL};
	const gchar *empty[] = {NULL};
	const gchar *bad_component[] = {"@status", NULL};
	gboolean ok;

	ok = relay_http_sign_cavage(request, "k", test_rsa_key, created, &error);
	g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_UNKNOWN_ALGORITHM);
	g_assert_false(ok);
	g_clear_error(&error);
	ok = relay_http_sign_cavage(request, "k", test_ed25519_key, expires, &error);
	g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_MISSING_COMPONENT);
	g_assert_false(ok);
	g_clear_error(&error);
	ok = relay_http_sign_cavage(request, "k", test_rsa_key, empty, &error);
	g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_MISSING_COMPONENT);
	g_assert_false(ok);
	g_clear_error(&error);
	ok = relay_http_sign_cavage(request, "k\n", test_rsa_key, NULL, &error);
	g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_FAILED);
	g_assert_false(ok);
	g_clear_error(&error);
	ok = relay_http_sign_cavage(request, "k", public_key, NULL, &error);
	g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_KEY_NOT_FOUND);
	g_assert_false(ok);
	g_clear_error(&error);
	ok = relay_http_sign_rfc9421(request, "k", test_rsa_key, bad_component, 0, &error);
	g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_MALFORMED_SIGNATURE);
	g_assert_false(ok);
	g_assert_null(relay_http_request_get_header(request, "Signature"));
}

/* keys */

static void
test_keys_generate(gconstpointer data)
{
	gboolean ed25519 = GPOINTER_TO_INT(data);
	g_autoptr(GError) error = NULL;
	g_autoptr(EVP_PKEY) key = NULL;
	g_autoptr(EVP_PKEY) private_copy = NULL;
	g_autoptr(EVP_PKEY) public_copy = NULL;
	g_autofree gchar *private_pem = NULL;
	g_autofree gchar *public_pem = NULL;
	g_autofree gchar *again = NULL;

	key = ed25519 ? relay_keys_generate_ed25519(&error) : relay_keys_generate_rsa(2048, &error);
	g_assert_no_error(error);
	g_assert_nonnull(key);
	g_assert_true(ed25519 ? relay_keys_is_ed25519(key) : relay_keys_is_rsa(key));
	if (!ed25519)
		g_assert_cmpint(EVP_PKEY_get_bits(key), ==, 2048);

	private_pem = relay_keys_private_pem(key, &error);
	g_assert_no_error(error);
	g_assert_true(g_str_has_prefix(private_pem, "-----BEGIN PRIVATE KEY-----\n"));
	public_pem = relay_keys_public_pem(key, &error);
	g_assert_no_error(error);
	g_assert_true(g_str_has_prefix(public_pem, "-----BEGIN PUBLIC KEY-----\n"));

	private_copy = relay_keys_from_pem(private_pem, &error);
	g_assert_no_error(error);
	g_assert_cmpint(EVP_PKEY_eq(private_copy, key), ==, 1);
	again = relay_keys_private_pem(private_copy, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(again, ==, private_pem);

	public_copy = relay_keys_from_pem(public_pem, &error);
	g_assert_no_error(error);
	g_assert_cmpint(EVP_PKEY_eq(public_copy, key), ==, 1);
	/* a public key has no private PEM */
	g_assert_null(relay_keys_private_pem(public_copy, &error));
	g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_KEY_NOT_FOUND);
}

static void
test_keys_pkcs1(void)
{
	g_autoptr(EVP_PKEY) pkcs8 = test_load_vector_key("keys/rsa-private.pem");
	g_autoptr(EVP_PKEY) pkcs1 = test_load_vector_key("keys/rsa-private-pkcs1.pem");
	g_autoptr(EVP_PKEY) spki = test_load_vector_key("keys/rsa-public.pem");
	/* tests/data/rsa-public-pkcs1.pem is keys/rsa-public.pem through openssl -RSAPublicKey_out
	 */
	g_autofree gchar *pkcs1_public_path =
		relay_test_source_path("tests/data/rsa-public-pkcs1.pem");
	g_autoptr(EVP_PKEY) pkcs1_public = test_load_key(pkcs1_public_path);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *pem = NULL;
	g_autofree gchar *pkcs8_text = NULL;
	g_autofree gchar *pkcs8_path = test_shared_path("vectors/keys/rsa-private.pem");

	g_assert_true(relay_keys_is_rsa(pkcs1));
	g_assert_cmpint(EVP_PKEY_eq(pkcs1, pkcs8), ==, 1);
	g_assert_cmpint(EVP_PKEY_eq(spki, pkcs8), ==, 1);
	g_assert_cmpint(EVP_PKEY_eq(pkcs1_public, spki), ==, 1);

	/* PKCS#1 in, PKCS#8 out: the same text as the vector's PKCS#8 file */
	pem = relay_keys_private_pem(pkcs1, &error);
	g_assert_no_error(error);
	g_file_get_contents(pkcs8_path, &pkcs8_text, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(pem, ==, pkcs8_text);
}

typedef struct {
	const gchar *name;
	const gchar *pem;
} BadPemCase;

static const BadPemCase bad_pem_cases[] = {
	{"empty", ""},
	{"no-begin", "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAvwDujxmxoYHs64MyVB3L"},
	{"truncated", "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n"},
	{"garbage",
	 "-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PUBLIC KEY-----\n"},
	{"certificate-request",
	 "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"},
};

static void
test_keys_bad_pem(gconstpointer data)
{
	const BadPemCase *item = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(EVP_PKEY) key = relay_keys_from_pem(item->pem, &error);

	g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_KEY_NOT_FOUND);
	g_assert_null(key);
}

/* did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp, decoded with python3 */
#define DID_KEY_MULTIBASE "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
static const guint8 did_key_raw[32] = {
	0x3b, 0x6a, 0x27, 0xbc, 0xce, 0xb6, 0xa4, 0x2d, 0x62, 0xa3, 0xa8,
	0xd0, 0x2a, 0x6f, 0x0d, 0x73, 0x65, 0x32, 0x15, 0x77, 0x1d, 0xe2,
	0x43, 0xa6, 0x3a, 0xc0, 0x48, 0xa1, 0x8b, 0x59, 0xda, 0x29,
};
/* the vectors' keys/ed25519-public.pem and keys/rsa-public.pem, encoded with python3 */
#define VECTOR_ED25519_MULTIBASE "z6MkwBE5rx1199zdyNejuTfLFYJYAhSLXA5Uu8V7m8PzJEgq"
#define VECTOR_RSA_MULTIBASE                                                                       \
	"z4MXj1wBzi9jUstyQBNKGMQN2VWeXD2FjJYMpf2MfPaaKgRg3jVyRVhKTWWm1Fi4guBxgHsXrQ38K7yeMhNVzoCA" \
	"yW"                                                                                       \
	"ReCDF8BRjz8LvvvwJYWreGqGAqnkkijqrDBzUPpEvSgXrsUEfgdw7Div6735bfNLLSQj25zbrxpCH58tRQXWrJhZ" \
	"yg"                                                                                       \
	"rEyAQHeGpqZQQVYFz8b6ta4GdP12WRoyvC2AfPf46HwWuJn8aEhhLcCAPNdrCJdnDss3sT1e3SPtromCkxQVpYqU" \
	"xZ"                                                                                       \
	"tgqJugENciQhNApfediJ2QanRveWrU2Tm88SnDL7Wm6EjgkruUhBgEYw2TNLamVZoiWkErSocGPt19u8CT6CY7Nc" \
	"HN"                                                                                       \
	"j89TgLi8w4z5W"

static void
test_keys_multibase(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(EVP_PKEY) did_key = NULL;
	g_autoptr(EVP_PKEY) raw_key = NULL;
	g_autoptr(EVP_PKEY) vector_ed25519 = test_load_vector_key("keys/ed25519-public.pem");
	g_autoptr(EVP_PKEY) vector_rsa = test_load_vector_key("keys/rsa-public.pem");
	g_autoptr(EVP_PKEY) from_multibase = NULL;
	g_autoptr(EVP_PKEY) fresh_copy = NULL;
	g_autofree gchar *multibase = NULL;
	g_autofree gchar *vector_multibase = NULL;
	g_autofree gchar *fresh_multibase = NULL;
	guint8 raw[32];
	gsize raw_len = sizeof(raw);

	/* decode a published did:key */
	did_key = relay_keys_from_multibase(DID_KEY_MULTIBASE, &error);
	g_assert_no_error(error);
	g_assert_true(relay_keys_is_ed25519(did_key));
	g_assert_cmpint(EVP_PKEY_get_raw_public_key(did_key, raw, &raw_len), ==, 1);
	g_assert_cmpmem(raw, raw_len, did_key_raw, sizeof(did_key_raw));

	/* and encode it from the raw bytes */
	raw_key = EVP_PKEY_new_raw_public_key_ex(
		NULL, "ED25519", NULL, did_key_raw, sizeof(did_key_raw));
	g_assert_nonnull(raw_key);
	multibase = relay_keys_ed25519_multibase(raw_key, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(multibase, ==, DID_KEY_MULTIBASE);

	vector_multibase = relay_keys_ed25519_multibase(vector_ed25519, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(vector_multibase, ==, VECTOR_ED25519_MULTIBASE);

	/* RSA: 0x1205 + DER RSAPublicKey */
	from_multibase = relay_keys_from_multibase(VECTOR_RSA_MULTIBASE, &error);
	g_assert_no_error(error);
	g_assert_cmpint(EVP_PKEY_eq(from_multibase, vector_rsa), ==, 1);

	/* a fresh key goes round */
	fresh_multibase = relay_keys_ed25519_multibase(test_ed25519_key, &error);
	g_assert_no_error(error);
	fresh_copy = relay_keys_from_multibase(fresh_multibase, &error);
	g_assert_no_error(error);
	g_assert_cmpint(EVP_PKEY_eq(fresh_copy, test_ed25519_key), ==, 1);

	/* only Ed25519 keys have this form */
	g_assert_null(relay_keys_ed25519_multibase(vector_rsa, &error));
	g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_KEY_NOT_FOUND);
}

typedef struct {
	const gchar *name;
	const gchar *multibase;
} BadMultibaseCase;

static const BadMultibaseCase bad_multibase_cases[] = {
	{"empty", ""},
	{"z-only", "z"},
	{"not-base58btc", "u7QE7aie8zrakLWKjqNAqbw1zZTIVdx3iQ6Y6wEihi1naKQ"},
	{"bad-character", "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW0"},
	/* 0xed 0x01 and 31 bytes, then 33 bytes */
	{"ed25519-short", "z2DQVsnzKoPrzWGGeSt3PXeA8HH4gfaP66XgS4nugS6VH3P"},
	{"ed25519-long", "zQebwxbUfKbDPuAUmUde1kQpEDcqfXph2kNM8d9ABdCBXaJaT"},
	/* 0xe7 0x01: secp256k1-pub */
	{"other-codec", "zQ3shRQihGTW9E1NML3dqhJWoe5GPbFU6raLnFeV9hxKs8y5i"},
	/* 0x85 0x24 then "hello": rsa-pub with no DER */
	{"rsa-garbage", "z63e3JCK5yG"},
	/* 0x85 alone: a varint that never ends */
	{"truncated-varint", "z3J"},
	/* 0xed 0x81 0x00: 0xed written with a useless zero group */
	{"non-minimal-varint", "zQhVUWQ75Gmgfeo2L5LnfCJtUTHbFwxGqbGoSnVFxVfqVwAPz"},
};

static void
test_keys_bad_multibase(gconstpointer data)
{
	const BadMultibaseCase *item = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(EVP_PKEY) key = relay_keys_from_multibase(item->multibase, &error);

	g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_KEY_NOT_FOUND);
	g_assert_null(key);
}

static void
test_keys_generate_refused(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(EVP_PKEY) key = relay_keys_generate_rsa(1024, &error);

	g_assert_error(error, RELAY_FED_ERROR, RELAY_FED_ERROR_FAILED);
	g_assert_null(key);
}

/* registration */

static gint
test_compare_names(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

static void
test_add_vectors(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *directory = test_shared_path("vectors");
	g_autofree gchar *all_path = g_build_filename(directory, "all.json", NULL);
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GDir) dir = g_dir_open(directory, 0, &error);
	g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
	guint all_count;
	const gchar *name;

	g_assert_no_error(error);
	while ((name = g_dir_read_name(dir)) != NULL) {
		if (g_str_has_suffix(name, ".json") && g_strcmp0(name, "all.json") != 0 &&
		    g_strcmp0(name, "index.json") != 0)
			g_ptr_array_add(files, g_strdup(name));
	}
	g_ptr_array_sort(files, test_compare_names);

	/* every vector of all.json has its own file */
	json_parser_load_from_file(parser, all_path, &error);
	g_assert_no_error(error);
	all_count = json_array_get_length(json_node_get_array(json_parser_get_root(parser)));
	g_assert_cmpuint(all_count, ==, files->len);

	for (guint i = 0; i < files->len; i++) {
		const gchar *file = g_ptr_array_index(files, i);
		g_autofree gchar *id = g_strndup(file, strlen(file) - strlen(".json"));
		g_autofree gchar *verify_path =
			g_strdup_printf("/relay/http-sig/vector/%s/verify", id);
		g_autofree gchar *sign_path = g_strdup_printf("/relay/http-sig/vector/%s/sign", id);

		for (guint j = 0; j < 2; j++) {
			TestVector *vector = g_new0(TestVector, 1);
			vector->id = g_strdup(id);
			vector->path = g_build_filename(directory, file, NULL);
			g_test_add_data_func_full(j == 0 ? verify_path : sign_path,
						  vector,
						  j == 0 ? test_vector_verify : test_vector_sign,
						  test_vector_free);
		}
	}
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	int status;

	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	test_rsa_key = relay_keys_generate_rsa(2048, &error);
	g_assert_no_error(error);
	test_ed25519_key = relay_keys_generate_ed25519(&error);
	g_assert_no_error(error);

	test_add_vectors();
	for (guint i = 0; i < G_N_ELEMENTS(mastodon_cases); i++) {
		g_autofree gchar *path =
			g_strdup_printf("/relay/http-sig/mastodon/%s", mastodon_cases[i].file);
		g_test_add_data_func(path, &mastodon_cases[i], test_mastodon_capture);
	}
	for (guint i = 0; i < G_N_ELEMENTS(cavage_parse_cases); i++) {
		g_autofree gchar *path = g_strdup_printf("/relay/http-sig/parse/cavage/%s",
							 cavage_parse_cases[i].name);
		g_test_add_data_func(path, &cavage_parse_cases[i], test_cavage_parse);
	}
	g_test_add_func("/relay/http-sig/parse/unsigned", test_parse_unsigned);
	for (guint i = 0; i < G_N_ELEMENTS(rfc9421_parse_cases); i++) {
		g_autofree gchar *path = g_strdup_printf("/relay/http-sig/parse/rfc9421/%s",
							 rfc9421_parse_cases[i].name);
		g_test_add_data_func(path, &rfc9421_parse_cases[i], test_rfc9421_parse);
	}
	g_test_add_func("/relay/http-sig/parse/rfc9421-params-as-received",
			test_rfc9421_params_as_received);
	for (guint i = 0; i < G_N_ELEMENTS(check_cases); i++) {
		g_autofree gchar *path =
			g_strdup_printf("/relay/http-sig/check/%s", check_cases[i].name);
		g_test_add_data_func(path, &check_cases[i], test_check);
	}
	for (guint i = 0; i < G_N_ELEMENTS(date_cases); i++) {
		g_autofree gchar *path = g_strdup_printf("/relay/http-sig/date/parse/%u", i);
		g_test_add_data_func(path, &date_cases[i], test_date_parse);
	}
	g_test_add_func("/relay/http-sig/date/format", test_date_format);
	g_test_add_func("/relay/http-sig/request", test_request);
	for (guint i = 0; i < G_N_ELEMENTS(round_trip_cases); i++) {
		g_autofree gchar *path =
			g_strdup_printf("/relay/http-sig/round-trip/%s", round_trip_cases[i].name);
		g_test_add_data_func(path, &round_trip_cases[i], test_round_trip);
	}
	g_test_add_func("/relay/http-sig/verify/without-query", test_verify_without_query);
	g_test_add_func("/relay/http-sig/verify/query-signed", test_verify_query_signed);
	g_test_add_func("/relay/http-sig/verify/authorization", test_verify_authorization);
	g_test_add_func("/relay/http-sig/verify/rsa-pss-sha512", test_verify_rsa_pss);
	g_test_add_func("/relay/http-sig/sign/refused", test_sign_refused);
	g_test_add_data_func(
		"/relay/http-sig/keys/rsa", GINT_TO_POINTER(FALSE), test_keys_generate);
	g_test_add_data_func(
		"/relay/http-sig/keys/ed25519", GINT_TO_POINTER(TRUE), test_keys_generate);
	g_test_add_func("/relay/http-sig/keys/pkcs1", test_keys_pkcs1);
	g_test_add_func("/relay/http-sig/keys/multibase", test_keys_multibase);
	g_test_add_func("/relay/http-sig/keys/generate-refused", test_keys_generate_refused);
	for (guint i = 0; i < G_N_ELEMENTS(bad_pem_cases); i++) {
		g_autofree gchar *path =
			g_strdup_printf("/relay/http-sig/keys/bad-pem/%s", bad_pem_cases[i].name);
		g_test_add_data_func(path, &bad_pem_cases[i], test_keys_bad_pem);
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad_multibase_cases); i++) {
		g_autofree gchar *path = g_strdup_printf("/relay/http-sig/keys/bad-multibase/%s",
							 bad_multibase_cases[i].name);
		g_test_add_data_func(path, &bad_multibase_cases[i], test_keys_bad_multibase);
	}

	status = g_test_run();
	g_clear_pointer(&test_rsa_key, EVP_PKEY_free);
	g_clear_pointer(&test_ed25519_key, EVP_PKEY_free);
	return status;
}
