/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "relay-http-sig.h"
#include "relay-keys.h"
#include "relay-test-instance.h"
#include "relay-test-utils.h"

struct _RelayTestInstance {
	SoupServer *server;
	SoupSession *session;
	gchar *origin;
	gchar *host;
	EVP_PKEY *key;
	gchar *public_pem;
	GPtrArray *deliveries; /* (element-type RelayTestDelivery) */
	GHashTable *keys;      /* (element-type utf8 EVP_PKEY): keyId -> key of senders */
	guint status;
	gchar *auto_accept_inbox;
	guint pending_posts;
	gboolean gone;
	gchar *software_name;
	gchar *software_version;
	gchar *nodeinfo_schema;
	guint nodeinfo_status;
	gboolean nodeinfo_stall;
	GPtrArray *stalled; /* (element-type SoupServerMessage): paused, never answered */
	GPtrArray *gets;    /* (element-type utf8): the path of every GET */
};

static void
relay_test_delivery_free(RelayTestDelivery *delivery)
{
	g_free(delivery->path);
	g_bytes_unref(delivery->body);
	if (delivery->json != NULL)
		json_node_unref(delivery->json);
	g_free(delivery->key_id);
	g_free(delivery->verify_error);
	g_free(delivery);
}

gchar *
relay_test_instance_url(RelayTestInstance *self, const gchar *path)
{
	return g_strdup_printf("%s%s", self->origin, path);
}

const gchar *
relay_test_instance_get_origin(RelayTestInstance *self)
{
	return self->origin;
}

const gchar *
relay_test_instance_get_host(RelayTestInstance *self)
{
	return self->host;
}

static gchar *
relay_test_instance_actor_json(RelayTestInstance *self, const gchar *path)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree gchar *id = relay_test_instance_url(self, path);
	g_autofree gchar *key_id = g_strdup_printf("%s#main-key", id);
	g_autofree gchar *inbox = g_strdup_printf("%s/inbox", id);
	g_autofree gchar *shared = relay_test_instance_url(self, "/inbox");
	gboolean instance_actor = g_str_equal(path, "/actor");

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "@context");
	json_builder_begin_array(builder);
	json_builder_add_string_value(builder, "https://www.w3.org/ns/activitystreams");
	json_builder_add_string_value(builder, "https://w3id.org/security/v1");
	json_builder_end_array(builder);
	json_builder_set_member_name(builder, "id");
	json_builder_add_string_value(builder, id);
	json_builder_set_member_name(builder, "type");
	json_builder_add_string_value(builder, instance_actor ? "Application" : "Person");
	json_builder_set_member_name(builder, "preferredUsername");
	json_builder_add_string_value(builder, instance_actor ? self->host : path + 7);
	json_builder_set_member_name(builder, "inbox");
	json_builder_add_string_value(builder, inbox);
	json_builder_set_member_name(builder, "endpoints");
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "sharedInbox");
	json_builder_add_string_value(builder, shared);
	json_builder_end_object(builder);
	json_builder_set_member_name(builder, "publicKey");
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "id");
	json_builder_add_string_value(builder, key_id);
	json_builder_set_member_name(builder, "owner");
	json_builder_add_string_value(builder, id);
	json_builder_set_member_name(builder, "publicKeyPem");
	json_builder_add_string_value(builder, self->public_pem);
	json_builder_end_object(builder);
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	return json_to_string(root, FALSE);
}

/* the sender's key, fetched once from its keyId, as a real server does */
static EVP_PKEY *
relay_test_instance_sender_key(RelayTestInstance *self, const gchar *key_id, GError **error)
{
	EVP_PKEY *key = g_hash_table_lookup(self->keys, key_id);
	g_autoptr(SoupMessage) msg = NULL;
	g_autoptr(GBytes) body = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonObject *public_key;

	if (key != NULL)
		return key;
	msg = soup_message_new("GET", key_id);
	soup_message_headers_replace(
		soup_message_get_request_headers(msg), "Accept", "application/activity+json");
	body = soup_session_send_and_read(self->session, msg, NULL, error);
	if (body == NULL)
		return NULL;
	if (!json_parser_load_from_data(
		    parser, g_bytes_get_data(body, NULL), (gssize)g_bytes_get_size(body), error))
		return NULL;
	public_key = json_object_get_object_member(
		json_node_get_object(json_parser_get_root(parser)), "publicKey");
	key = relay_keys_from_pem(json_object_get_string_member(public_key, "publicKeyPem"), error);
	if (key == NULL)
		return NULL;
	g_hash_table_insert(self->keys, g_strdup(key_id), key);
	return key;
}

static void
relay_test_instance_verify(RelayTestInstance *self,
			   SoupServerMessage *msg,
			   RelayTestDelivery *delivery)
{
	g_autofree gchar *uri = g_uri_to_string(soup_server_message_get_uri(msg));
	g_autoptr(RelayHttpRequest) request =
		relay_http_request_new(soup_server_message_get_method(msg), uri);
	g_autoptr(RelayHttpSignature) signature = NULL;
	g_autoptr(GError) error = NULL;
	SoupMessageHeadersIter iter;
	const char *name;
	const char *value;
	EVP_PKEY *key;

	soup_message_headers_iter_init(&iter, soup_server_message_get_request_headers(msg));
	while (soup_message_headers_iter_next(&iter, &name, &value))
		relay_http_request_add_header(request, name, value);
	relay_http_request_set_body(request, delivery->body);
	signature = relay_http_signature_parse(request, &error);
	if (signature != NULL)
		delivery->key_id = g_strdup(relay_http_signature_get_key_id(signature));
	if (signature == NULL ||
	    !relay_http_signature_check(
		    signature, request, g_get_real_time() / G_USEC_PER_SEC, 300, &error) ||
	    (key = relay_test_instance_sender_key(self, delivery->key_id, &error)) == NULL ||
	    !relay_http_signature_verify(signature, request, key, &error)) {
		delivery->verify_error = g_strdup(error->message);
		return;
	}
	delivery->verified = TRUE;
}

static void
relay_test_instance_accept_sent_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	RelayTestInstance *self = user_data;
	g_autoptr(GBytes) body = soup_session_send_and_read_finish(SOUP_SESSION(source), res, NULL);
	self->pending_posts--;
}

static SoupMessage *
relay_test_instance_signed_message(RelayTestInstance *self,
				   const gchar *url,
				   const gchar *actor_path,
				   const gchar *signed_body,
				   const gchar *sent_body,
				   gboolean sign);
static SoupMessage *
relay_test_instance_message_with_key_id(RelayTestInstance *self,
					const gchar *url,
					const gchar *key_id,
					const gchar *signed_body,
					const gchar *sent_body,
					gboolean sign);

/* LitePub: accept the relay's follow-back, as Pleroma does */
static void
relay_test_instance_auto_accept(RelayTestInstance *self, JsonNode *follow)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(SoupMessage) msg = NULL;
	g_autofree gchar *body = NULL;
	g_autofree gchar *uuid = g_uuid_string_random();
	g_autofree gchar *id = g_strdup_printf("%s/accepts/%s", self->origin, uuid);
	g_autofree gchar *actor = relay_test_instance_url(self, "/actor");

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "@context");
	json_builder_add_string_value(builder, "https://www.w3.org/ns/activitystreams");
	json_builder_set_member_name(builder, "id");
	json_builder_add_string_value(builder, id);
	json_builder_set_member_name(builder, "type");
	json_builder_add_string_value(builder, "Accept");
	json_builder_set_member_name(builder, "actor");
	json_builder_add_string_value(builder, actor);
	json_builder_set_member_name(builder, "object");
	json_builder_add_value(builder, json_node_copy(follow));
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	body = json_to_string(root, FALSE);
	msg = relay_test_instance_signed_message(
		self, self->auto_accept_inbox, "/actor", body, body, TRUE);
	self->pending_posts++;
	soup_session_send_and_read_async(self->session,
					 msg,
					 G_PRIORITY_DEFAULT,
					 NULL,
					 relay_test_instance_accept_sent_cb,
					 self);
}

/* NodeInfo: the links document, or the document of the linked schema */
static gboolean
relay_test_instance_nodeinfo(RelayTestInstance *self, SoupServerMessage *msg, const gchar *path)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree gchar *document_path = g_strdup_printf("/nodeinfo/%s", self->nodeinfo_schema);
	gchar *body;

	if (g_str_equal(path, "/.well-known/nodeinfo")) {
		g_autofree gchar *rel = g_strdup_printf(
			"http://nodeinfo.diaspora.software/ns/schema/%s", self->nodeinfo_schema);
		g_autofree gchar *href = relay_test_instance_url(self, document_path);
		if (self->nodeinfo_stall) {
			soup_server_message_pause(msg);
			g_ptr_array_add(self->stalled, g_object_ref(msg));
			return TRUE;
		}
		if (self->nodeinfo_status != 0) {
			soup_server_message_set_status(msg, self->nodeinfo_status, NULL);
			return TRUE;
		}
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "links");
		json_builder_begin_array(builder);
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "rel");
		json_builder_add_string_value(builder, rel);
		json_builder_set_member_name(builder, "href");
		json_builder_add_string_value(builder, href);
		json_builder_end_object(builder);
		json_builder_end_array(builder);
		json_builder_end_object(builder);
	} else if (g_str_equal(path, document_path)) {
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "version");
		json_builder_add_string_value(builder, self->nodeinfo_schema);
		json_builder_set_member_name(builder, "software");
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "name");
		json_builder_add_string_value(builder, self->software_name);
		json_builder_set_member_name(builder, "version");
		json_builder_add_string_value(builder, self->software_version);
		json_builder_end_object(builder);
		json_builder_set_member_name(builder, "protocols");
		json_builder_begin_array(builder);
		json_builder_add_string_value(builder, "activitypub");
		json_builder_end_array(builder);
		json_builder_set_member_name(builder, "openRegistrations");
		json_builder_add_boolean_value(builder, FALSE);
		json_builder_end_object(builder);
	} else {
		return FALSE;
	}
	root = json_builder_get_root(builder);
	body = json_to_string(root, FALSE);
	soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
	soup_server_message_set_response(
		msg, "application/json", SOUP_MEMORY_TAKE, body, strlen(body));
	return TRUE;
}

static void
relay_test_instance_cb(SoupServer *server,
		       SoupServerMessage *msg,
		       const char *path,
		       GHashTable *query,
		       gpointer user_data)
{
	RelayTestInstance *self = user_data;
	const gchar *method = soup_server_message_get_method(msg);

	if (method == SOUP_METHOD_GET)
		g_ptr_array_add(self->gets, g_strdup(path));
	if (method == SOUP_METHOD_GET && self->gone) {
		soup_server_message_set_status(msg, SOUP_STATUS_GONE, NULL);
		return;
	}
	if (method == SOUP_METHOD_GET && relay_test_instance_nodeinfo(self, msg, path))
		return;
	if (method == SOUP_METHOD_GET &&
	    (g_str_equal(path, "/actor") ||
	     (g_str_has_prefix(path, "/users/") && strchr(path + 7, '/') == NULL))) {
		gchar *body = relay_test_instance_actor_json(self, path);
		soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
		soup_server_message_set_response(
			msg, "application/activity+json", SOUP_MEMORY_TAKE, body, strlen(body));
		return;
	}
	if (method == SOUP_METHOD_POST && g_str_has_suffix(path, "/inbox")) {
		RelayTestDelivery *delivery = g_new0(RelayTestDelivery, 1);
		g_autoptr(JsonParser) parser = json_parser_new();
		SoupMessageBody *request_body = soup_server_message_get_request_body(msg);

		delivery->path = g_strdup(path);
		delivery->body = soup_message_body_flatten(request_body);
		if (json_parser_load_from_data(parser,
					       g_bytes_get_data(delivery->body, NULL),
					       (gssize)g_bytes_get_size(delivery->body),
					       NULL))
			delivery->json = json_node_ref(json_parser_get_root(parser));
		relay_test_instance_verify(self, msg, delivery);
		g_ptr_array_add(self->deliveries, delivery);
		if (self->auto_accept_inbox != NULL && delivery->json != NULL &&
		    g_strcmp0(json_object_get_string_member_with_default(
				      json_node_get_object(delivery->json), "type", ""),
			      "Follow") == 0)
			relay_test_instance_auto_accept(self, delivery->json);
		soup_server_message_set_status(
			msg, self->status != 0 ? self->status : SOUP_STATUS_ACCEPTED, NULL);
		return;
	}
	soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
}

/**
 * relay_test_instance_new:
 * @address: a loopback address of its own, e.g. "127.0.0.2"
 */
RelayTestInstance *
relay_test_instance_new(const gchar *address)
{
	RelayTestInstance *self = g_new0(RelayTestInstance, 1);
	g_autoptr(GError) error = NULL;
	g_autoptr(GInetAddress) inet = g_inet_address_new_from_string(address);
	g_autoptr(GSocketAddress) socket_address = g_inet_socket_address_new(inet, 0);
	GSList *uris;

	self->key = relay_keys_generate_rsa(2048, &error);
	g_assert_no_error(error);
	self->public_pem = relay_keys_public_pem(self->key, &error);
	g_assert_no_error(error);
	self->deliveries = g_ptr_array_new_with_free_func((GDestroyNotify)relay_test_delivery_free);
	self->keys = g_hash_table_new_full(
		g_str_hash, g_str_equal, g_free, (GDestroyNotify)EVP_PKEY_free);
	self->session = soup_session_new_with_options("timeout", 10, NULL);
	self->software_name = g_strdup("mastodon");
	self->software_version = g_strdup("4.3.0");
	self->nodeinfo_schema = g_strdup("2.1");
	self->gets = g_ptr_array_new_with_free_func(g_free);
	self->stalled = g_ptr_array_new_with_free_func(g_object_unref);
	self->server = soup_server_new(NULL, NULL);
	soup_server_add_handler(self->server, NULL, relay_test_instance_cb, self, NULL);
	soup_server_listen(self->server, socket_address, 0, &error);
	g_assert_no_error(error);
	uris = soup_server_get_uris(self->server);
	self->host = g_strdup_printf("%s:%d", address, g_uri_get_port(uris->data));
	self->origin = g_strdup_printf("http://%s", self->host);
	g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
	return self;
}

static gboolean
relay_test_instance_idle(gpointer user_data)
{
	return ((RelayTestInstance *)user_data)->pending_posts == 0;
}

gboolean
relay_test_instance_wait_idle(RelayTestInstance *self, guint timeout_ms)
{
	return relay_test_wait_until(NULL, relay_test_instance_idle, self, timeout_ms);
}

void
relay_test_instance_free(RelayTestInstance *self)
{
	relay_test_wait_until(NULL, relay_test_instance_idle, self, 5000);
	for (guint i = 0; i < self->stalled->len; i++) {
		SoupServerMessage *msg = g_ptr_array_index(self->stalled, i);
		soup_server_message_set_status(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
		soup_server_message_unpause(msg);
	}
	g_ptr_array_unref(self->stalled);
	soup_server_disconnect(self->server);
	g_object_unref(self->server);
	g_object_unref(self->session);
	g_ptr_array_unref(self->deliveries);
	g_hash_table_unref(self->keys);
	EVP_PKEY_free(self->key);
	g_free(self->public_pem);
	g_free(self->auto_accept_inbox);
	g_free(self->software_name);
	g_free(self->software_version);
	g_free(self->nodeinfo_schema);
	g_ptr_array_unref(self->gets);
	g_free(self->origin);
	g_free(self->host);
	g_free(self);
}

void
relay_test_instance_set_status(RelayTestInstance *self, guint status)
{
	self->status = status;
}

void
relay_test_instance_set_gone(RelayTestInstance *self, gboolean gone)
{
	self->gone = gone;
}

void
relay_test_instance_set_auto_accept(RelayTestInstance *self, const gchar *relay_inbox)
{
	g_free(self->auto_accept_inbox);
	self->auto_accept_inbox = g_strdup(relay_inbox);
}

void
relay_test_instance_set_software(RelayTestInstance *self,
				 const gchar *name,
				 const gchar *version,
				 const gchar *schema)
{
	g_free(self->software_name);
	self->software_name = g_strdup(name);
	g_free(self->software_version);
	self->software_version = g_strdup(version);
	g_free(self->nodeinfo_schema);
	self->nodeinfo_schema = g_strdup(schema != NULL ? schema : "2.1");
}

void
relay_test_instance_set_nodeinfo_stall(RelayTestInstance *self, gboolean stall)
{
	self->nodeinfo_stall = stall;
}

void
relay_test_instance_set_nodeinfo_status(RelayTestInstance *self, guint status)
{
	self->nodeinfo_status = status;
}

guint
relay_test_instance_count_gets(RelayTestInstance *self, const gchar *path)
{
	guint count = 0;
	for (guint i = 0; i < self->gets->len; i++) {
		if (g_strcmp0(g_ptr_array_index(self->gets, i), path) == 0)
			count++;
	}
	return count;
}

static void
relay_test_copy_header(const gchar *name, const gchar *value, gpointer user_data)
{
	SoupMessageHeaders *headers = user_data;
	if (g_ascii_strcasecmp(name, "Host") != 0)
		soup_message_headers_replace(headers, name, value);
}

static SoupMessage *
relay_test_instance_signed_message(RelayTestInstance *self,
				   const gchar *url,
				   const gchar *actor_path,
				   const gchar *signed_body,
				   const gchar *sent_body,
				   gboolean sign)
{
	g_autofree gchar *key_id = g_strdup_printf("%s%s#main-key", self->origin, actor_path);
	return relay_test_instance_message_with_key_id(
		self, url, key_id, signed_body, sent_body, sign);
}

static SoupMessage *
relay_test_instance_message_with_key_id(RelayTestInstance *self,
					const gchar *url,
					const gchar *key_id,
					const gchar *signed_body,
					const gchar *sent_body,
					gboolean sign)
{
	g_autoptr(RelayHttpRequest) request = relay_http_request_new("POST", url);
	g_autoptr(GBytes) signed_bytes = g_bytes_new(signed_body, strlen(signed_body));
	g_autoptr(GBytes) sent_bytes = g_bytes_new(sent_body, strlen(sent_body));
	g_autoptr(GError) error = NULL;
	SoupMessage *msg = soup_message_new("POST", url);

	relay_http_request_add_header(request, "Content-Type", "application/activity+json");
	relay_http_request_set_body(request, signed_bytes);
	if (sign) {
		g_assert_true(relay_http_sign_cavage(request, key_id, self->key, NULL, &error));
		g_assert_no_error(error);
	}
	relay_http_request_foreach_header(
		request, relay_test_copy_header, soup_message_get_request_headers(msg));
	soup_message_set_request_body_from_bytes(msg, "application/activity+json", sent_bytes);
	return msg;
}

typedef struct {
	guint status;
	GBytes *body;
	gboolean done;
} RelayTestPost;

static void
relay_test_instance_post_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	RelayTestPost *post = user_data;
	SoupSession *session = SOUP_SESSION(source);
	post->body = soup_session_send_and_read_finish(session, res, NULL);
	post->status = soup_message_get_status(soup_session_get_async_result_message(session, res));
	post->done = TRUE;
}

static gboolean
relay_test_post_done(gpointer user_data)
{
	return ((RelayTestPost *)user_data)->done;
}

/* sends without blocking the main loop: the relay may call back into this instance first */
static guint
relay_test_instance_send(RelayTestInstance *self, SoupMessage *msg, gchar **out_response)
{
	RelayTestPost post = {0};

	soup_session_send_and_read_async(
		self->session, msg, G_PRIORITY_DEFAULT, NULL, relay_test_instance_post_cb, &post);
	g_assert_true(relay_test_wait_until(NULL, relay_test_post_done, &post, 20000));
	if (out_response != NULL && post.body != NULL)
		*out_response =
			g_strndup(g_bytes_get_data(post.body, NULL), g_bytes_get_size(post.body));
	g_clear_pointer(&post.body, g_bytes_unref);
	return post.status;
}

guint
relay_test_instance_post(RelayTestInstance *self,
			 const gchar *url,
			 const gchar *actor_path,
			 const gchar *body,
			 gchar **out_response)
{
	g_autoptr(SoupMessage) msg =
		relay_test_instance_signed_message(self, url, actor_path, body, body, TRUE);
	return relay_test_instance_send(self, msg, out_response);
}

guint
relay_test_instance_post_forged(RelayTestInstance *self,
				const gchar *url,
				const gchar *key_id,
				const gchar *body)
{
	g_autoptr(SoupMessage) msg =
		relay_test_instance_message_with_key_id(self, url, key_id, body, body, TRUE);
	return relay_test_instance_send(self, msg, NULL);
}

guint
relay_test_instance_post_raw(RelayTestInstance *self,
			     const gchar *url,
			     const gchar *actor_path,
			     const gchar *signed_body,
			     const gchar *sent_body,
			     gboolean sign)
{
	g_autoptr(SoupMessage) msg = relay_test_instance_signed_message(
		self, url, actor_path, signed_body, sent_body, sign);
	return relay_test_instance_send(self, msg, NULL);
}

/**
 * relay_test_instance_get_deliveries:
 *
 * Returns: (transfer none) (element-type RelayTestDelivery): every POST received
 */
GPtrArray *
relay_test_instance_get_deliveries(RelayTestInstance *self)
{
	return self->deliveries;
}

static const gchar *
relay_test_delivery_type(RelayTestDelivery *delivery)
{
	if (delivery->json == NULL || !JSON_NODE_HOLDS_OBJECT(delivery->json))
		return NULL;
	return json_object_get_string_member_with_default(
		json_node_get_object(delivery->json), "type", NULL);
}

guint
relay_test_instance_count_type(RelayTestInstance *self, const gchar *type)
{
	guint count = 0;
	for (guint i = 0; i < self->deliveries->len; i++) {
		if (g_strcmp0(relay_test_delivery_type(g_ptr_array_index(self->deliveries, i)),
			      type) == 0)
			count++;
	}
	return count;
}

/**
 * relay_test_instance_find_type:
 *
 * Returns: (transfer none) (nullable): the @index-th delivery of @type
 */
RelayTestDelivery *
relay_test_instance_find_type(RelayTestInstance *self, const gchar *type, guint index)
{
	for (guint i = 0; i < self->deliveries->len; i++) {
		RelayTestDelivery *delivery = g_ptr_array_index(self->deliveries, i);
		if (g_strcmp0(relay_test_delivery_type(delivery), type) != 0)
			continue;
		if (index-- == 0)
			return delivery;
	}
	return NULL;
}

void
relay_test_instance_clear(RelayTestInstance *self)
{
	g_ptr_array_set_size(self->deliveries, 0);
}

typedef struct {
	RelayTestInstance *self;
	const gchar *type;
	guint count;
} RelayTestTypeWait;

static gboolean
relay_test_instance_has_type(gpointer user_data)
{
	RelayTestTypeWait *wait = user_data;
	return relay_test_instance_count_type(wait->self, wait->type) >= wait->count;
}

gboolean
relay_test_instance_wait_type(RelayTestInstance *self,
			      const gchar *type,
			      guint count,
			      guint timeout_ms)
{
	RelayTestTypeWait wait = {self, type, count};
	return relay_test_wait_until(NULL, relay_test_instance_has_type, &wait, timeout_ms);
}

/* a Follow of @object by the instance actor, Mastodon's shape */
gchar *
relay_test_instance_follow_json(RelayTestInstance *instance, const gchar *object, gchar **out_id)
{
	g_autofree gchar *uuid = g_uuid_string_random();
	g_autofree gchar *id = g_strdup_printf(
		"%s/activities/follow-relay/%s", relay_test_instance_get_origin(instance), uuid);
	g_autofree gchar *actor = relay_test_instance_url(instance, "/actor");
	gchar *json = g_strdup_printf("{\"@context\":\"https://www.w3.org/ns/activitystreams\","
				      "\"id\":\"%s\",\"type\":\"Follow\",\"actor\":\"%s\","
				      "\"object\":\"%s\"}",
				      id,
				      actor,
				      object);
	if (out_id != NULL)
		*out_id = g_steal_pointer(&id);
	return json;
}

/* a public note by /users/alice, LD-signed (forwarded as is) when @signed_ld */
gchar *
relay_test_instance_note_json(RelayTestInstance *instance, const gchar *text, gboolean signed_ld)
{
	g_autofree gchar *uuid = g_uuid_string_random();
	g_autofree gchar *actor = relay_test_instance_url(instance, "/users/alice");
	g_autofree gchar *note =
		g_strdup_printf("%s/statuses/%s", relay_test_instance_get_origin(instance), uuid);
	return g_strdup_printf(
		"{\"@context\":[\"https://www.w3.org/ns/activitystreams\"],"
		"\"id\":\"%s/activity\",\"type\":\"Create\",\"actor\":\"%s\",\"to\":[\"%s\"],"
		"\"object\":{\"id\":\"%s\",\"type\":\"Note\",\"attributedTo\":\"%s\","
		"\"content\":\"<p>%s</p>\",\"to\":[\"%s\"]}%s}",
		note,
		actor,
		"https://www.w3.org/ns/activitystreams#Public",
		note,
		actor,
		text,
		"https://www.w3.org/ns/activitystreams#Public",
		!signed_ld ? ""
			   : ",\"signature\":{\"type\":\"RsaSignature2017\",\"creator\":\"x#main-"
			     "key\","
			     "\"created\":\"2026-11-25T10:00:00Z\",\"signatureValue\":\"AAAA\"}");
}
