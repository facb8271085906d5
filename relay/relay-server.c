/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * The HTTP side of the node: one SoupServer listening on every `listen` address, and its
 * routes. The listening sockets are made here rather than by soup_server_listen_local(), which
 * uses a backlog of 10 and leaves bursts of new connections retrying their SYN for seconds.
 * Handlers never block: anything that touches storage pauses the message and answers from the
 * store's callback.
 */

#include "config.h"

#include <errno.h>
#include <string.h>
#include <json-glib/json-glib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "relay-error.h"
#include "relay-metrics.h"
#include "relay-server-private.h"

#define RELAY_SERVER_LISTEN_BACKLOG    4096
#define RELAY_SERVER_HEALTH_TIMEOUT_MS 5000
#define RELAY_SERVER_IDLE_TIMEOUT_S    60

/* libsoup 3.2 has no name for it */
#define RELAY_SERVER_TOO_MANY_REQUESTS 429

G_DEFINE_FINAL_TYPE(RelayServer, relay_server, G_TYPE_OBJECT)

static void
relay_server_request_finished_cb(SoupServerMessage *msg, gpointer user_data)
{
	RelayServerRequest *request = user_data;
	/* the client went away: stop the work, nothing will be written */
	request->answered = TRUE;
	g_cancellable_cancel(request->cancellable);
}

RelayServerRequest *
relay_server_request_new(RelayServer *self, SoupServerMessage *msg)
{
	RelayServerRequest *request = g_new0(RelayServerRequest, 1);
	request->server = g_object_ref(self);
	request->msg = g_object_ref(msg);
	request->cancellable = g_cancellable_new();
	request->finished_id = g_signal_connect(
		msg, "finished", G_CALLBACK(relay_server_request_finished_cb), request);
	/* the node stopping closes connections with paused requests: they do not finish, and
	 * unpausing one then is a critical error */
	g_signal_connect(
		msg, "disconnected", G_CALLBACK(relay_server_request_finished_cb), request);
	self->in_flight++;
	soup_server_message_pause(msg);
	return request;
}

void
relay_server_request_free(RelayServerRequest *request)
{
	request->server->in_flight--;
	g_clear_handle_id(&request->timeout_id, g_source_remove);
	request->finished_id = 0;
	g_signal_handlers_disconnect_by_data(request->msg, request);
	g_object_unref(request->cancellable);
	g_object_unref(request->msg);
	g_object_unref(request->server);
	g_free(request);
}

void
relay_server_set_json(SoupServerMessage *msg, guint status, JsonBuilder *builder)
{
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autoptr(JsonNode) root = json_builder_get_root(builder);
	gsize length = 0;
	gchar *body;

	json_generator_set_root(generator, root);
	body = json_generator_to_data(generator, &length);
	soup_server_message_set_status(msg, status, NULL);
	soup_message_headers_replace(
		soup_server_message_get_response_headers(msg), "Cache-Control", "no-store");
	soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_TAKE, body, length);
}

/* answers a paused request once, if its client is still there */
void
relay_server_request_answer(RelayServerRequest *request, guint status, JsonBuilder *builder)
{
	if (request->answered)
		return;
	request->answered = TRUE;
	relay_server_set_json(request->msg, status, builder);
	soup_server_message_unpause(request->msg);
}

/* answers a paused request once with a body, if its client is still there */
void
relay_server_request_answer_bytes(RelayServerRequest *request,
				  guint status,
				  const gchar *content_type,
				  GBytes *body)
{
	if (request->answered)
		return;
	request->answered = TRUE;
	soup_server_message_set_status(request->msg, status, NULL);
	soup_server_message_set_response(request->msg,
					 content_type,
					 SOUP_MEMORY_COPY,
					 g_bytes_get_data(body, NULL),
					 g_bytes_get_size(body));
	soup_server_message_unpause(request->msg);
}

static JsonBuilder *
relay_server_health_builder(RelayServer *self, const gchar *status, const gchar *error_message)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "status");
	json_builder_add_string_value(builder, status);
	json_builder_set_member_name(builder, "version");
	json_builder_add_string_value(builder, PACKAGE_VERSION);
	json_builder_set_member_name(builder, "storage");
	json_builder_add_string_value(builder, relay_store_get_backend_name(self->store));
	if (error_message != NULL) {
		json_builder_set_member_name(builder, "error");
		json_builder_add_string_value(builder, error_message);
	}
	json_builder_end_object(builder);
	return g_steal_pointer(&builder);
}

static void
relay_server_health_ping_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(RelayServerRequest) request = user_data;
	RelayServer *self = request->server;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonBuilder) builder = NULL;

	if (!relay_store_ping_finish(RELAY_STORE(source), res, &error)) {
		if (!request->answered)
			g_warning("health check: storage does not answer: %s", error->message);
		builder =
			relay_server_health_builder(self, "unavailable", "storage does not answer");
		relay_server_request_answer(request, SOUP_STATUS_SERVICE_UNAVAILABLE, builder);
		return;
	}
	builder = relay_server_health_builder(self, "ok", NULL);
	relay_server_request_answer(request, SOUP_STATUS_OK, builder);
}

static gboolean
relay_server_health_timeout_cb(gpointer user_data)
{
	RelayServerRequest *request = user_data;
	g_autoptr(JsonBuilder) builder = NULL;

	request->timeout_id = 0;
	g_warning("health check: storage did not answer within %d ms",
		  RELAY_SERVER_HEALTH_TIMEOUT_MS);
	builder = relay_server_health_builder(
		request->server, "unavailable", "storage did not answer in time");
	relay_server_request_answer(request, SOUP_STATUS_SERVICE_UNAVAILABLE, builder);
	g_cancellable_cancel(request->cancellable);
	return G_SOURCE_REMOVE;
}

static void
relay_server_healthz_cb(SoupServer *server,
			SoupServerMessage *msg,
			const char *path,
			GHashTable *query,
			gpointer user_data)
{
	RelayServer *self = RELAY_SERVER(user_data);
	RelayServerRequest *request;

	if (g_strcmp0(path, "/healthz") != 0) {
		soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
		return;
	}
	if (!relay_server_require_get(msg))
		return;
	request = relay_server_request_new(self, msg);
	request->timeout_id = g_timeout_add(
		RELAY_SERVER_HEALTH_TIMEOUT_MS, relay_server_health_timeout_cb, request);
	relay_store_ping_async(
		self->store, request->cancellable, relay_server_health_ping_cb, request);
}

/* answers 405 with Allow unless @msg is a GET or HEAD */
gboolean
relay_server_require_get(SoupServerMessage *msg)
{
	const gchar *method = soup_server_message_get_method(msg);

	if (method == SOUP_METHOD_GET || method == SOUP_METHOD_HEAD)
		return TRUE;
	soup_message_headers_replace(
		soup_server_message_get_response_headers(msg), "Allow", "GET, HEAD");
	relay_server_set_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "only GET is allowed here");
	return FALSE;
}

void
relay_server_set_error(SoupServerMessage *msg, guint status, const gchar *reason)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "error");
	json_builder_add_string_value(builder, reason);
	json_builder_end_object(builder);
	relay_server_set_json(msg, status, builder);
}

/*
 * A request refused before its body is read. libsoup 3.2 reads the whole announced body even
 * when an early handler has set a status, so we take the connection from libsoup, write the
 * answer ourselves and close it the lingering way: stop sending, read and drop what the client
 * still sends for a moment (so the kernel does not answer our response with a reset), close.
 */
#define RELAY_SERVER_LINGER_MS	  2000
#define RELAY_SERVER_LINGER_BYTES (1024 * 1024)

typedef struct {
	GIOStream *stream;
	GBytes *response;
	GCancellable *cancellable;
	guint timeout_id;
	gsize drained;
	gchar buffer[8192];
} RelayServerRefusal;

static void
relay_server_refusal_free(RelayServerRefusal *refusal)
{
	g_clear_handle_id(&refusal->timeout_id, g_source_remove);
	g_io_stream_close(refusal->stream, NULL, NULL);
	g_object_unref(refusal->stream);
	g_bytes_unref(refusal->response);
	g_object_unref(refusal->cancellable);
	g_free(refusal);
}

static gboolean
relay_server_refusal_timeout_cb(gpointer user_data)
{
	RelayServerRefusal *refusal = user_data;
	refusal->timeout_id = 0;
	g_cancellable_cancel(refusal->cancellable);
	return G_SOURCE_REMOVE;
}

static void
relay_server_refusal_drain_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	RelayServerRefusal *refusal = user_data;
	gssize read = g_input_stream_read_finish(G_INPUT_STREAM(source), res, NULL);

	if (read <= 0 || refusal->drained + (gsize)read > RELAY_SERVER_LINGER_BYTES) {
		relay_server_refusal_free(refusal);
		return;
	}
	refusal->drained += (gsize)read;
	g_input_stream_read_async(G_INPUT_STREAM(source),
				  refusal->buffer,
				  sizeof(refusal->buffer),
				  G_PRIORITY_DEFAULT,
				  refusal->cancellable,
				  relay_server_refusal_drain_cb,
				  refusal);
}

static void
relay_server_refusal_written_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	RelayServerRefusal *refusal = user_data;
	GSocket *socket = g_object_get_data(G_OBJECT(refusal->stream), "GSocket");

	if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), res, NULL, NULL) ||
	    socket == NULL || !g_socket_shutdown(socket, FALSE, TRUE, NULL)) {
		relay_server_refusal_free(refusal);
		return;
	}
	refusal->timeout_id =
		g_timeout_add(RELAY_SERVER_LINGER_MS, relay_server_refusal_timeout_cb, refusal);
	g_input_stream_read_async(g_io_stream_get_input_stream(refusal->stream),
				  refusal->buffer,
				  sizeof(refusal->buffer),
				  G_PRIORITY_DEFAULT,
				  refusal->cancellable,
				  relay_server_refusal_drain_cb,
				  refusal);
}

static void
relay_server_refuse_unread(SoupServerMessage *msg,
			   guint status,
			   const gchar *reason,
			   guint retry_after_s)
{
	g_autofree gchar *retry_after = NULL;
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree gchar *body = NULL;
	g_autofree gchar *response = NULL;
	RelayServerRefusal *refusal;
	GIOStream *stream;
	gsize length;

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "error");
	json_builder_add_string_value(builder, reason);
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	json_generator_set_root(generator, root);
	body = json_generator_to_data(generator, NULL);
	if (retry_after_s > 0)
		retry_after = g_strdup_printf("Retry-After: %u\r\n", retry_after_s);
	response = g_strdup_printf("HTTP/1.1 %u %s\r\n"
				   "Server: relay/%s\r\n"
				   "Content-Type: application/json\r\n"
				   "Content-Length: %zu\r\n"
				   "%s"
				   "Connection: close\r\n\r\n%s",
				   status,
				   status == RELAY_SERVER_TOO_MANY_REQUESTS
					   ? "Too Many Requests"
					   : soup_status_get_phrase(status),
				   PACKAGE_VERSION,
				   strlen(body),
				   retry_after != NULL ? retry_after : "",
				   body);
	stream = soup_server_message_steal_connection(msg);
	if (stream == NULL)
		return;
	refusal = g_new0(RelayServerRefusal, 1);
	refusal->stream = stream;
	refusal->cancellable = g_cancellable_new();
	length = strlen(response);
	refusal->response = g_bytes_new_take(g_steal_pointer(&response), length);
	g_output_stream_write_all_async(g_io_stream_get_output_stream(stream),
					g_bytes_get_data(refusal->response, NULL),
					length,
					G_PRIORITY_DEFAULT,
					refusal->cancellable,
					relay_server_refusal_written_cb,
					refusal);
}

/* is @address one of [relay] trusted-proxies? */
static gboolean
relay_server_is_trusted_proxy(RelayServer *self, const gchar *address)
{
	g_autoptr(GInetAddress) inet = NULL;
	const gchar *const *proxies =
		relay_config_get_string_list(self->config, "relay", "trusted-proxies");

	/* an IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d */
	if (g_str_has_prefix(address, "::ffff:") && strchr(address, '.') != NULL)
		address += strlen("::ffff:");
	inet = g_inet_address_new_from_string(address);
	if (inet == NULL || proxies == NULL)
		return FALSE;
	for (guint i = 0; proxies[i] != NULL; i++) {
		g_autoptr(GInetAddress) proxy = g_inet_address_new_from_string(proxies[i]);
		if (proxy != NULL && g_inet_address_equal(proxy, inet))
			return TRUE;
	}
	return FALSE;
}

/*
 * The client a request comes from: the peer, or, when the peer is a trusted reverse proxy, the
 * last address of X-Forwarded-For that is not one (proxies append the address they saw).
 */
static gchar *
relay_server_client_address(RelayServer *self, SoupServerMessage *msg)
{
	const gchar *peer = soup_server_message_get_remote_host(msg);
	const gchar *forwarded;
	g_auto(GStrv) hops = NULL;

	if (peer == NULL)
		return g_strdup("unknown");
	if (!relay_server_is_trusted_proxy(self, peer))
		return g_strdup(peer);
	forwarded = soup_message_headers_get_list(soup_server_message_get_request_headers(msg),
						  "X-Forwarded-For");
	if (forwarded == NULL)
		return g_strdup(peer);
	hops = g_strsplit(forwarded, ",", -1);
	for (gint i = (gint)g_strv_length(hops) - 1; i >= 0; i--) {
		g_strstrip(hops[i]);
		if (hops[i][0] != '\0' && !relay_server_is_trusted_proxy(self, hops[i]))
			return g_strdup(hops[i]);
	}
	return g_strdup(peer);
}

/*
 * Limits before work: runs once the headers are read, before the body. Each remote address
 * gets [federation] inbox-rate POSTs a second (429 with Retry-After past that); a request body
 * must announce its length, and the length must fit [federation] max-body-bytes.
 */
static void
relay_server_early_cb(SoupServer *server,
		      SoupServerMessage *msg,
		      const char *path,
		      GHashTable *query,
		      gpointer user_data)
{
	RelayServer *self = RELAY_SERVER(user_data);
	const gchar *method = soup_server_message_get_method(msg);
	SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
	gint64 max_body_bytes = relay_config_get_max_body_bytes(self->config);
	g_autofree gchar *client = NULL;
	guint retry_after_s = 0;
	goffset length;

	if (method != SOUP_METHOD_POST && method != SOUP_METHOD_PUT)
		return;
	client = relay_server_client_address(self, msg);
	if (!relay_rate_limit_take(
		    self->rate_limit, client, g_get_monotonic_time(), &retry_after_s)) {
		g_autofree gchar *reason = g_strdup_printf(
			"too many requests from %s: try again in %u s", client, retry_after_s);
		self->rate_limited++;
		g_info("inbox: 429 for %s (%s)", client, path);
		relay_server_refuse_unread(
			msg, RELAY_SERVER_TOO_MANY_REQUESTS, reason, retry_after_s);
		return;
	}
	if (soup_message_headers_get_encoding(headers) != SOUP_ENCODING_CONTENT_LENGTH) {
		relay_server_refuse_unread(msg,
					   SOUP_STATUS_LENGTH_REQUIRED,
					   "a request body needs a Content-Length",
					   0);
		return;
	}
	length = soup_message_headers_get_content_length(headers);
	if (length > max_body_bytes) {
		g_autofree gchar *reason = g_strdup_printf("the body is %" G_GOFFSET_FORMAT
							   " bytes, more than the %" G_GINT64_FORMAT
							   " this relay accepts",
							   length,
							   max_body_bytes);
		relay_server_refuse_unread(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, reason, 0);
	}
}

static void
relay_server_default_cb(SoupServer *server,
			SoupServerMessage *msg,
			const char *path,
			GHashTable *query,
			gpointer user_data)
{
	relay_server_set_error(msg, SOUP_STATUS_NOT_FOUND, "not found");
}

/*
 * Kept-alive connections. libsoup 3.2 never notices a client that closes a kept-alive
 * connection before sending another request (its read of the next request line ends without
 * a completion callback), so each such connection stays in CLOSE-WAIT with its file descriptor
 * until the process dies. Between two requests we watch the socket ourselves, at a higher
 * priority than libsoup's own read: when the client has closed it, or it stayed idle too long,
 * we take the connection from libsoup (which drops it from its list of clients) and close it.
 */
typedef struct {
	RelayServer *server;	/* (unowned) */
	SoupServerMessage *msg; /* (owned): the last message of the connection */
	GSocket *socket;	/* (owned) */
	GSource *watch;
	GSource *timeout;
} RelayServerIdle;

static void
relay_server_idle_free(RelayServerIdle *idle)
{
	g_source_destroy(idle->watch);
	g_source_unref(idle->watch);
	g_source_destroy(idle->timeout);
	g_source_unref(idle->timeout);
	g_object_unref(idle->msg);
	g_object_unref(idle->socket);
	g_free(idle);
}

/* the connection is over: libsoup forgets it, we close it */
static void
relay_server_idle_close(RelayServerIdle *idle)
{
	GIOStream *stream = NULL;

	/* libsoup closed the socket itself (and forgot the connection) if it is closed */
	if (!g_socket_is_closed(idle->socket))
		stream = soup_server_message_steal_connection(idle->msg);
	if (stream != NULL) {
		g_io_stream_close(stream, NULL, NULL);
		g_object_unref(stream);
	}
	g_hash_table_remove(idle->server->idle, idle->socket);
}

static gboolean
relay_server_idle_ready_cb(GSocket *socket, GIOCondition condition, gpointer user_data)
{
	RelayServerIdle *idle = user_data;
	gchar byte;
	gssize received;

	if (g_socket_is_closed(socket)) {
		g_hash_table_remove(idle->server->idle, socket);
		return G_SOURCE_REMOVE;
	}
	received = recv(g_socket_get_fd(socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	if (received > 0) {
		/* the next request is coming: libsoup reads it */
		g_hash_table_remove(idle->server->idle, socket);
		return G_SOURCE_REMOVE;
	}
	if (received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return G_SOURCE_CONTINUE;
	relay_server_idle_close(idle);
	return G_SOURCE_REMOVE;
}

static gboolean
relay_server_idle_timeout_cb(gpointer user_data)
{
	RelayServerIdle *idle = user_data;
	relay_server_idle_close(idle);
	return G_SOURCE_REMOVE;
}

static void
relay_server_exchange_done_cb(SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
	RelayServer *self = RELAY_SERVER(user_data);
	GSocket *socket = soup_server_message_get_socket(msg);
	RelayServerIdle *idle;

	if (socket == NULL || g_socket_is_closed(socket))
		return;
	idle = g_new0(RelayServerIdle, 1);
	idle->server = self;
	idle->msg = g_object_ref(msg);
	idle->socket = g_object_ref(socket);
	idle->watch = g_socket_create_source(socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
	g_source_set_priority(idle->watch, G_PRIORITY_HIGH);
	g_source_set_callback(idle->watch, G_SOURCE_FUNC(relay_server_idle_ready_cb), idle, NULL);
	g_source_attach(idle->watch, NULL);
	idle->timeout = g_timeout_source_new_seconds(RELAY_SERVER_IDLE_TIMEOUT_S);
	g_source_set_callback(idle->timeout, relay_server_idle_timeout_cb, idle, NULL);
	g_source_attach(idle->timeout, NULL);
	g_hash_table_replace(self->idle, socket, idle);
}

/**
 * relay_server_get_idle_connections:
 *
 * Returns: how many kept-alive connections wait for their next request
 */
guint
relay_server_get_idle_connections(RelayServer *self)
{
	g_return_val_if_fail(RELAY_IS_SERVER(self), 0);
	return g_hash_table_size(self->idle);
}

static void
relay_server_apply_limits(RelayServer *self)
{
	guint rate = (guint)relay_config_get_int(self->config, "federation", "inbox-rate");
	guint burst = (guint)relay_config_get_int(self->config, "federation", "inbox-burst");

	if (self->rate_limit == NULL)
		self->rate_limit = relay_rate_limit_new(rate, burst);
	else
		relay_rate_limit_set(self->rate_limit, rate, burst);
}

/**
 * relay_server_new:
 * @config: the configuration in force
 * @store: the node's storage
 *
 * Returns: (transfer full): a server with every route, not yet listening
 */
RelayServer *
relay_server_new(RelayConfig *config, RelayStore *store)
{
	RelayServer *self = g_object_new(RELAY_TYPE_SERVER, NULL);
	self->config = g_object_ref(config);
	self->store = g_object_ref(store);
	relay_server_apply_limits(self);
	return self;
}

/**
 * relay_server_set_config:
 * @config: the new configuration, after a reload
 */
void
relay_server_set_config(RelayServer *self, RelayConfig *config)
{
	g_return_if_fail(RELAY_IS_SERVER(self));
	g_set_object(&self->config, config);
	relay_server_apply_limits(self);
}

/**
 * relay_server_set_networks:
 * @networks: (element-type utf8 RelayNetwork): the networks by name
 */
void
relay_server_set_networks(RelayServer *self, GHashTable *networks)
{
	g_return_if_fail(RELAY_IS_SERVER(self));
	g_clear_pointer(&self->networks, g_hash_table_unref);
	self->networks = g_hash_table_ref(networks);
}

/**
 * relay_server_set_inbox:
 * @inbox: what takes the POSTs to the networks' inboxes
 */
void
relay_server_set_inbox(RelayServer *self, RelayInbox *inbox)
{
	g_return_if_fail(RELAY_IS_SERVER(self));
	g_set_object(&self->inbox, inbox);
}

/**
 * relay_server_set_sources:
 * @deliverer: (nullable): the delivery engine, whose counters /metrics and the status page show
 * @cache: (nullable): the actor cache, whose counters /metrics shows
 */
void
relay_server_set_sources(RelayServer *self, RelayDeliverer *deliverer, RelayActorCache *cache)
{
	g_return_if_fail(RELAY_IS_SERVER(self));
	g_set_object(&self->deliverer, deliverer);
	g_set_object(&self->cache, cache);
}

/**
 * relay_server_set_block_poller:
 * @poller: (nullable): what fetches subscribed block lists, whose counters /metrics shows
 */
void
relay_server_set_block_poller(RelayServer *self, RelayBlockPoller *poller)
{
	g_return_if_fail(RELAY_IS_SERVER(self));
	g_set_object(&self->block_poller, poller);
}

static GSocket *
relay_server_bind(GSocketAddress *address, gboolean dual_stack, GError **error)
{
	GSocketFamily family = g_socket_address_get_family(address);
	g_autoptr(GSocket) socket = NULL;

	socket = g_socket_new(family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
	if (socket == NULL)
		return NULL;
	if (family == G_SOCKET_FAMILY_IPV6 &&
	    !g_socket_set_option(socket, IPPROTO_IPV6, IPV6_V6ONLY, dual_stack ? 0 : 1, error))
		return NULL;
	if (!g_socket_bind(socket, address, TRUE, error))
		return NULL;
	g_socket_set_listen_backlog(socket, RELAY_SERVER_LISTEN_BACKLOG);
	if (!g_socket_listen(socket, error))
		return NULL;
	return g_steal_pointer(&socket);
}

/**
 * relay_server_listen_address:
 * @item: one `listen` item, ADDRESS:PORT
 *
 * Listens on one address with a large backlog. "*" listens on every IPv6 and IPv4 address.
 */
gboolean
relay_server_listen_address(RelayServer *self, const gchar *item, GError **error)
{
	g_autoptr(GInetAddress) address = NULL;
	g_autoptr(GSocketAddress) socket_address = NULL;
	g_autoptr(GSocket) socket = NULL;
	g_autoptr(GError) error_local = NULL;
	guint16 port = 0;

	if (!relay_config_parse_listen(item, &address, &port, error))
		return FALSE;
	if (address == NULL) {
		g_autoptr(GInetAddress) any = g_inet_address_new_any(G_SOCKET_FAMILY_IPV6);
		socket_address = g_inet_socket_address_new(any, port);
	} else {
		socket_address = g_inet_socket_address_new(address, port);
	}
	socket = relay_server_bind(socket_address, address == NULL, &error_local);
	if (socket == NULL && address == NULL &&
	    g_error_matches(error_local, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED)) {
		/* no IPv6 on this host: all IPv4 addresses then */
		g_autoptr(GInetAddress) any = g_inet_address_new_any(G_SOCKET_FAMILY_IPV4);
		g_clear_object(&socket_address);
		g_clear_error(&error_local);
		socket_address = g_inet_socket_address_new(any, port);
		socket = relay_server_bind(socket_address, FALSE, &error_local);
	}
	if (socket != NULL)
		soup_server_listen_socket(self->soup, socket, 0, &error_local);
	if (error_local != NULL) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_LISTEN,
			    "cannot listen on %s: %s",
			    item,
			    error_local->message);
		return FALSE;
	}
	return TRUE;
}

/**
 * relay_server_listen:
 *
 * Listens on every address of the configuration; on failure listens on none.
 */
gboolean
relay_server_listen(RelayServer *self, GError **error)
{
	const gchar *const *listen = relay_config_get_listen(self->config);

	for (guint i = 0; listen != NULL && listen[i] != NULL; i++) {
		if (!relay_server_listen_address(self, listen[i], error)) {
			soup_server_disconnect(self->soup);
			return FALSE;
		}
	}
	return TRUE;
}

/**
 * relay_server_disconnect:
 *
 * Stops listening. Requests in progress still get their answers while the main loop runs.
 */
void
relay_server_disconnect(RelayServer *self)
{
	g_return_if_fail(RELAY_IS_SERVER(self));
	soup_server_disconnect(self->soup);
}

/**
 * relay_server_get_in_flight:
 *
 * Returns: how many requests wait for an answer from storage or elsewhere
 */
guint
relay_server_get_in_flight(RelayServer *self)
{
	g_return_val_if_fail(RELAY_IS_SERVER(self), 0);
	return self->in_flight + (self->inbox != NULL ? relay_inbox_get_in_flight(self->inbox) : 0);
}

/**
 * relay_server_get_uris:
 *
 * Returns: (transfer full) (element-type GUri): the URIs the server listens on
 */
GSList *
relay_server_get_uris(RelayServer *self)
{
	g_return_val_if_fail(RELAY_IS_SERVER(self), NULL);
	return soup_server_get_uris(self->soup);
}

static void
relay_server_dispose(GObject *object)
{
	RelayServer *self = RELAY_SERVER(object);

	if (self->idle != NULL)
		g_hash_table_remove_all(self->idle);
	if (self->soup != NULL)
		soup_server_disconnect(self->soup);
	g_clear_pointer(&self->idle, g_hash_table_unref);
	g_clear_pointer(&self->networks, g_hash_table_unref);
	g_clear_object(&self->inbox);
	g_clear_object(&self->deliverer);
	g_clear_object(&self->block_poller);
	g_clear_object(&self->cache);
	g_clear_pointer(&self->rate_limit, relay_rate_limit_free);
	g_clear_object(&self->soup);
	g_clear_object(&self->store);
	g_clear_object(&self->config);
	G_OBJECT_CLASS(relay_server_parent_class)->dispose(object);
}

/* libsoup runs the early handler of the most specific path only: every route gets the limits */
void
relay_server_add_route(RelayServer *self, const gchar *path, SoupServerCallback callback)
{
	soup_server_add_early_handler(self->soup, path, relay_server_early_cb, self, NULL);
	soup_server_add_handler(self->soup, path, callback, self, NULL);
}

static void
relay_server_init(RelayServer *self)
{
	g_autofree gchar *server_header = g_strdup_printf("relay/%s", PACKAGE_VERSION);

	self->soup = soup_server_new("server-header", server_header, "raw-paths", TRUE, NULL);
	self->networks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
	self->started_us = g_get_real_time();
	relay_server_add_route(self, "/healthz", relay_server_healthz_cb);
	relay_server_add_route(self, NULL, relay_server_default_cb);
	relay_routes_register(self);
	relay_metrics_register(self);
	relay_status_register(self);
	self->idle = g_hash_table_new_full(
		g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)relay_server_idle_free);
	g_signal_connect(
		self->soup, "request-finished", G_CALLBACK(relay_server_exchange_done_cb), self);
}

static void
relay_server_class_init(RelayServerClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = relay_server_dispose;
}
