/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * The delivery client (federation/relay-http-client.c) against a scripted raw TCP server on
 * 127.0.0.1: every answer is exact bytes, written in pieces with pauses where a case needs it,
 * so each framing, close and race is under the test's control. The server runs a thread per
 * connection on blocking sockets and records what it received; the test's main context runs
 * only the client, and every wait has a deadline that fails the test instead of hanging.
 */

#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "relay-http-client.h"
#include "relay-test-utils.h"

/* the longest any single wait may take before the test fails */
#define TEST_TIMEOUT_MS 5000

/* the scripted server */

typedef enum {
	TEST_AFTER_KEEP,  /* read the next request on the connection */
	TEST_AFTER_CLOSE, /* close the connection after the answer */
	TEST_AFTER_HANG,  /* wait, without reading a request, until the client closes */
} TestAfter;

/* the answer to one request */
typedef struct {
	GPtrArray *pieces; /* (element-type GBytes): written one by one */
	guint delay_ms;	   /* before each piece but the first */
	TestAfter after;
} TestStep;

typedef struct {
	guint connection; /* the server's index of the connection it came on */
	gchar *head;	  /* the request line and headers, with the blank line */
	GBytes *body;
} TestRequest;

typedef struct {
	GSocket *listener;
	gchar *origin; /* http://127.0.0.1:PORT */
	GCancellable *cancellable;
	GThread *accept_thread;
	guint body_read_delay_ms; /* before reading a request's body */
	GMutex mutex;
	/* under the mutex: */
	GPtrArray *threads;  /* (element-type GThread): one per connection */
	GPtrArray *steps;    /* (element-type TestStep): by request; the last repeats */
	GPtrArray *requests; /* (element-type TestRequest) */
	guint accepted;
	guint client_closed;  /* connections that met the client's close */
	guint server_closing; /* connections the server is about to close */
	guint server_closed;  /* connections the server has closed */
} TestServer;

typedef struct {
	TestServer *server;
	GSocket *socket;
	guint index;
} TestConnection;

static void
test_step_free(TestStep *step)
{
	g_ptr_array_unref(step->pieces);
	g_free(step);
}

static void
test_request_free(TestRequest *request)
{
	g_free(request->head);
	g_bytes_unref(request->body);
	g_free(request);
}

/* adds the answer to the next request: the pieces are strings, NULL-terminated */
static TestStep *
test_server_add_step(TestServer *server, TestAfter after, guint delay_ms, ...)
{
	TestStep *step = g_new0(TestStep, 1);
	const gchar *piece;
	va_list args;

	step->pieces = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	step->delay_ms = delay_ms;
	step->after = after;
	va_start(args, delay_ms);
	while ((piece = va_arg(args, const gchar *)) != NULL)
		g_ptr_array_add(step->pieces, g_bytes_new(piece, strlen(piece)));
	va_end(args);
	g_mutex_lock(&server->mutex);
	g_ptr_array_add(server->steps, step);
	g_mutex_unlock(&server->mutex);
	return step;
}

/* adds a piece to a step (before its first request only) */
static void
test_step_add(TestStep *step, GBytes *piece)
{
	g_ptr_array_add(step->pieces, g_bytes_ref(piece));
}

static void
test_step_add_string(TestStep *step, const gchar *piece)
{
	g_ptr_array_add(step->pieces, g_bytes_new(piece, strlen(piece)));
}

static guint
test_server_get(TestServer *server, const guint *counter)
{
	guint value;

	g_mutex_lock(&server->mutex);
	value = *counter;
	g_mutex_unlock(&server->mutex);
	return value;
}

static void
test_server_bump(TestServer *server, guint *counter)
{
	g_mutex_lock(&server->mutex);
	(*counter)++;
	g_mutex_unlock(&server->mutex);
}

/* (transfer none): the request the server received @index-th */
static TestRequest *
test_server_request(TestServer *server, guint index)
{
	TestRequest *request;

	g_mutex_lock(&server->mutex);
	g_assert_cmpuint(index, <, server->requests->len);
	request = g_ptr_array_index(server->requests, index);
	g_mutex_unlock(&server->mutex);
	return request;
}

typedef struct {
	TestServer *server;
	const guint *counter;
	guint want;
} TestCounterWait;

static gboolean
test_counter_reached_cb(gpointer user_data)
{
	TestCounterWait *wait = user_data;
	return test_server_get(wait->server, wait->counter) >= wait->want;
}

/* waits for one of @server's counters to reach @want */
static gboolean
test_server_wait(TestServer *server, const guint *counter, guint want, guint timeout_ms)
{
	TestCounterWait wait = {server, counter, want};
	return relay_test_wait_until(NULL, test_counter_reached_cb, &wait, timeout_ms);
}

/* the offset just past the blank line ending a request head, or 0 */
static gsize
test_find_head_end(GByteArray *buffer)
{
	for (gsize i = 0; i + 3 < buffer->len; i++) {
		if (memcmp(buffer->data + i, "\r\n\r\n", 4) == 0)
			return i + 4;
	}
	return 0;
}

/* receives more bytes into @buffer; FALSE at the end of the stream or on an error */
static gboolean
test_connection_receive(TestConnection *connection, GByteArray *buffer)
{
	guint8 chunk[16384];
	gssize got = g_socket_receive(connection->socket,
				      (gchar *)chunk,
				      sizeof(chunk),
				      connection->server->cancellable,
				      NULL);

	if (got <= 0)
		return FALSE;
	g_byte_array_append(buffer, chunk, (guint)got);
	return TRUE;
}

/* (transfer full): the next request, or NULL when the client closed the connection */
static TestRequest *
test_connection_read_request(TestConnection *connection, GByteArray *buffer)
{
	TestServer *server = connection->server;
	TestRequest *request;
	gsize head_len;
	guint64 body_len = 0;
	g_auto(GStrv) lines = NULL;

	while ((head_len = test_find_head_end(buffer)) == 0) {
		if (!test_connection_receive(connection, buffer))
			return NULL;
	}
	request = g_new0(TestRequest, 1);
	request->connection = connection->index;
	request->head = g_strndup((const gchar *)buffer->data, head_len);
	lines = g_strsplit(request->head, "\r\n", -1);
	for (guint i = 1; lines[i] != NULL; i++) {
		if (g_ascii_strncasecmp(lines[i], "Content-Length:", 15) == 0)
			body_len = g_ascii_strtoull(lines[i] + 15, NULL, 10);
	}
	g_byte_array_remove_range(buffer, 0, (guint)head_len);
	if (server->body_read_delay_ms > 0)
		g_usleep(server->body_read_delay_ms * 1000);
	while (buffer->len < body_len) {
		if (!test_connection_receive(connection, buffer)) {
			test_request_free(request);
			return NULL;
		}
	}
	request->body = g_bytes_new(buffer->data, (gsize)body_len);
	g_byte_array_remove_range(buffer, 0, (guint)body_len);
	return request;
}

static void
test_connection_answer(TestConnection *connection, TestStep *step)
{
	for (guint i = 0; i < step->pieces->len; i++) {
		GBytes *piece = g_ptr_array_index(step->pieces, i);
		gsize len = 0;
		const gchar *data = g_bytes_get_data(piece, &len);
		gsize sent = 0;

		if (i > 0 && step->delay_ms > 0)
			g_usleep(step->delay_ms * 1000);
		while (sent < len) {
			gssize n = g_socket_send(connection->socket,
						 data + sent,
						 len - sent,
						 connection->server->cancellable,
						 NULL);
			/* the client may close in the middle of a long answer */
			if (n <= 0)
				return;
			sent += (gsize)n;
		}
	}
}

static gpointer
test_connection_thread(gpointer user_data)
{
	TestConnection *connection = user_data;
	TestServer *server = connection->server;
	g_autoptr(GByteArray) buffer = g_byte_array_new();

	while (TRUE) {
		TestRequest *request = test_connection_read_request(connection, buffer);
		TestStep *step;

		if (request == NULL) {
			if (!g_cancellable_is_cancelled(server->cancellable))
				test_server_bump(server, &server->client_closed);
			break;
		}
		g_mutex_lock(&server->mutex);
		g_assert_cmpuint(server->steps->len, >, 0);
		step = g_ptr_array_index(server->steps,
					 MIN(server->requests->len, server->steps->len - 1));
		g_ptr_array_add(server->requests, request);
		g_mutex_unlock(&server->mutex);

		test_connection_answer(connection, step);
		if (step->after == TEST_AFTER_CLOSE) {
			test_server_bump(server, &server->server_closing);
			g_socket_close(connection->socket, NULL);
			test_server_bump(server, &server->server_closed);
			break;
		}
		if (step->after == TEST_AFTER_HANG) {
			g_byte_array_set_size(buffer, 0);
			while (test_connection_receive(connection, buffer))
				g_byte_array_set_size(buffer, 0);
			if (!g_cancellable_is_cancelled(server->cancellable))
				test_server_bump(server, &server->client_closed);
			break;
		}
	}
	g_object_unref(connection->socket);
	g_free(connection);
	return NULL;
}

static gpointer
test_accept_thread(gpointer user_data)
{
	TestServer *server = user_data;

	while (TRUE) {
		GSocket *socket = g_socket_accept(server->listener, server->cancellable, NULL);
		TestConnection *connection;

		if (socket == NULL)
			break;
		/* a safety net: no server thread outlives a broken test for long */
		g_socket_set_timeout(socket, 30);
		connection = g_new0(TestConnection, 1);
		connection->server = server;
		connection->socket = socket;
		g_mutex_lock(&server->mutex);
		connection->index = server->accepted++;
		g_ptr_array_add(
			server->threads,
			g_thread_new("test-connection", test_connection_thread, connection));
		g_mutex_unlock(&server->mutex);
	}
	return NULL;
}

/* @receive_buffer: SO_RCVBUF of the accepted connections, 0 for the system's */
static TestServer *
test_server_new(gint receive_buffer)
{
	TestServer *server = g_new0(TestServer, 1);
	g_autoptr(GError) error = NULL;
	g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) any = g_inet_socket_address_new(loopback, 0);
	g_autoptr(GSocketAddress) bound = NULL;

	g_mutex_init(&server->mutex);
	server->threads = g_ptr_array_new();
	server->steps = g_ptr_array_new_with_free_func((GDestroyNotify)test_step_free);
	server->requests = g_ptr_array_new_with_free_func((GDestroyNotify)test_request_free);
	server->cancellable = g_cancellable_new();
	server->listener = g_socket_new(
		G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
	g_assert_no_error(error);
	/* accepted sockets inherit it: set before listen() so the window is small from the start */
	if (receive_buffer > 0) {
		g_socket_set_option(
			server->listener, SOL_SOCKET, SO_RCVBUF, receive_buffer, &error);
		g_assert_no_error(error);
	}
	g_socket_bind(server->listener, any, TRUE, &error);
	g_assert_no_error(error);
	g_socket_listen(server->listener, &error);
	g_assert_no_error(error);
	bound = g_socket_get_local_address(server->listener, &error);
	g_assert_no_error(error);
	server->origin =
		g_strdup_printf("http://127.0.0.1:%u",
				g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound)));
	server->accept_thread = g_thread_new("test-accept", test_accept_thread, server);
	return server;
}

static void
test_server_free(TestServer *server)
{
	g_cancellable_cancel(server->cancellable);
	g_thread_join(server->accept_thread);
	/* no new connection threads now */
	for (guint i = 0; i < server->threads->len; i++)
		g_thread_join(g_ptr_array_index(server->threads, i));
	g_socket_close(server->listener, NULL);
	g_object_unref(server->listener);
	g_object_unref(server->cancellable);
	g_ptr_array_unref(server->threads);
	g_ptr_array_unref(server->steps);
	g_ptr_array_unref(server->requests);
	g_mutex_clear(&server->mutex);
	g_free(server->origin);
	g_free(server);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(TestServer, test_server_free)

/* what a request's head has for @name: the first value and how many lines */
static gchar *
test_head_header(const gchar *head, const gchar *name, guint *out_count)
{
	g_auto(GStrv) lines = g_strsplit(head, "\r\n", -1);
	gchar *value = NULL;
	guint count = 0;

	for (guint i = 1; lines[i] != NULL; i++) {
		gchar *colon = strchr(lines[i], ':');

		if (colon == NULL)
			continue;
		*colon = '\0';
		if (g_ascii_strcasecmp(lines[i], name) != 0)
			continue;
		count++;
		if (value == NULL)
			value = g_strdup(g_strstrip(colon + 1));
	}
	if (out_count != NULL)
		*out_count = count;
	return value;
}

static void
test_assert_header(TestRequest *request, const gchar *name, const gchar *expected)
{
	guint count = 0;
	g_autofree gchar *value = test_head_header(request->head, name, &count);

	g_assert_cmpstr(value, ==, expected);
	g_assert_cmpuint(count, ==, expected != NULL ? 1 : 0);
}

/* the client */

typedef struct {
	gboolean done;
	gboolean ok;
	guint status;
	gchar *retry_after;
	GError *error;
} TestResult;

static void
test_result_clear(TestResult *result)
{
	g_clear_pointer(&result->retry_after, g_free);
	g_clear_error(&result->error);
	memset(result, 0, sizeof(*result));
}

static void
test_post_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	TestResult *result = user_data;

	result->ok = relay_http_client_post_finish(RELAY_HTTP_CLIENT(source),
						   res,
						   &result->status,
						   &result->retry_after,
						   &result->error);
	result->done = TRUE;
}

static gboolean
test_result_done_cb(gpointer user_data)
{
	TestResult *result = user_data;
	return result->done;
}

static RelayHttpRequest *
test_request_new(const gchar *url, GBytes *body)
{
	RelayHttpRequest *request = relay_http_request_new("POST", url);

	relay_http_request_add_header(request, "Content-Type", "application/activity+json");
	relay_http_request_add_header(request, "Date", "Tue, 24 Nov 2026 12:00:00 GMT");
	relay_http_request_add_header(
		request,
		"Signature",
		"keyId=\"https://relay.example/actor#main-key\",headers=\"(request-target) host "
		"date digest\",signature=\"AA==\"");
	relay_http_request_set_body(request, body);
	return request;
}

/* posts @request and runs the main context until the answer, or fails at the deadline */
static void
test_post_request(RelayHttpClient *client,
		  RelayHttpRequest *request,
		  GCancellable *cancellable,
		  TestResult *result)
{
	test_result_clear(result);
	relay_http_client_post_async(client, request, cancellable, test_post_cb, result);
	g_assert_true(relay_test_wait_until(NULL, test_result_done_cb, result, TEST_TIMEOUT_MS));
}

/* posts @body to @server's /inbox */
static void
test_post(RelayHttpClient *client, TestServer *server, const gchar *body, TestResult *result)
{
	g_autofree gchar *url = g_strdup_printf("%s/inbox", server->origin);
	g_autoptr(GBytes) bytes = g_bytes_new(body, strlen(body));
	g_autoptr(RelayHttpRequest) request = test_request_new(url, bytes);

	test_post_request(client, request, NULL, result);
}

static void
test_assert_status(TestResult *result, guint status)
{
	g_assert_no_error(result->error);
	g_assert_true(result->ok);
	g_assert_cmpuint(result->status, ==, status);
}

/* fixtures */

typedef struct {
	TestServer *server;
	RelayHttpClient *client;
	TestResult result;
} TestFixture;

static RelayHttpClient *
test_client_new(guint idle_timeout_s, guint max_idle)
{
	g_autoptr(GError) error = NULL;
	RelayHttpClient *client =
		relay_http_client_new("relay-test/1.0", NULL, 5, idle_timeout_s, max_idle, &error);

	g_assert_no_error(error);
	g_assert_nonnull(client);
	return client;
}

static void
fixture_setup(TestFixture *fixture, gconstpointer data)
{
	fixture->server = test_server_new(0);
	fixture->client = test_client_new(30, 8);
}

static void
fixture_teardown(TestFixture *fixture, gconstpointer data)
{
	g_assert_finalize_object(g_steal_pointer(&fixture->client));
	g_clear_pointer(&fixture->server, test_server_free);
	test_result_clear(&fixture->result);
	/* let GIO finish what it started (connects, closes) before the leak check at exit */
	while (g_main_context_iteration(NULL, FALSE))
		;
}

#define OK_202 "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"

/* 1: a 202 without a body; the second POST goes on the same connection; what was sent */
static void
test_keep_alive(TestFixture *fixture, gconstpointer data)
{
	TestServer *server = fixture->server;
	const gchar *body = "{\"type\":\"Follow\",\"id\":\"https://a.example/1\"}";
	g_autofree gchar *host = g_strdup(server->origin + strlen("http://"));
	g_autofree gchar *url = g_strdup_printf("%s/inbox?shared=1", server->origin);
	g_autoptr(GBytes) second_body = g_bytes_new_static("{\"type\":\"Undo\"}", 15);
	g_autoptr(RelayHttpRequest) second = test_request_new(url, second_body);
	g_autofree gchar *content_length = g_strdup_printf("%zu", strlen(body));
	TestRequest *request;

	test_server_add_step(server, TEST_AFTER_KEEP, 0, OK_202, NULL);
	test_post(fixture->client, server, body, &fixture->result);
	test_assert_status(&fixture->result, 202);
	g_assert_null(fixture->result.retry_after);
	g_assert_cmpuint(relay_http_client_get_connections_opened(fixture->client), ==, 1);
	g_assert_cmpuint(relay_http_client_get_idle(fixture->client), ==, 1);

	request = test_server_request(server, 0);
	g_assert_true(g_str_has_prefix(request->head, "POST /inbox HTTP/1.1\r\n"));
	g_assert_true(g_str_has_suffix(request->head, "\r\n\r\n"));
	test_assert_header(request, "Host", host);
	test_assert_header(request, "Content-Length", content_length);
	test_assert_header(request, "Content-Type", "application/activity+json");
	test_assert_header(request, "Date", "Tue, 24 Nov 2026 12:00:00 GMT");
	test_assert_header(request,
			   "Signature",
			   "keyId=\"https://relay.example/actor#main-key\",headers=\"(request-"
			   "target) host date digest\",signature=\"AA==\"");
	test_assert_header(request, "User-Agent", "relay-test/1.0");
	test_assert_header(request, "Transfer-Encoding", NULL);
	g_assert_cmpmem(g_bytes_get_data(request->body, NULL),
			g_bytes_get_size(request->body),
			body,
			strlen(body));

	/* the request's own framing headers give way to the client's; its Host and User-Agent
	 * are sent as given */
	relay_http_request_add_header(second, "Host", "inbox.example");
	relay_http_request_add_header(second, "User-Agent", "custom/2");
	relay_http_request_add_header(second, "Content-Length", "999");
	relay_http_request_add_header(second, "Connection", "close");
	test_post_request(fixture->client, second, NULL, &fixture->result);
	test_assert_status(&fixture->result, 202);
	g_assert_cmpuint(test_server_get(server, &server->accepted), ==, 1);
	g_assert_cmpuint(relay_http_client_get_connections_opened(fixture->client), ==, 1);
	g_assert_cmpuint(relay_http_client_get_idle(fixture->client), ==, 1);
	request = test_server_request(server, 1);
	g_assert_cmpuint(request->connection, ==, 0);
	g_assert_true(g_str_has_prefix(request->head, "POST /inbox?shared=1 HTTP/1.1\r\n"));
	test_assert_header(request, "Host", "inbox.example");
	test_assert_header(request, "User-Agent", "custom/2");
	test_assert_header(request, "Content-Length", "15");
	test_assert_header(request, "Connection", NULL);
	g_assert_cmpmem(g_bytes_get_data(request->body, NULL),
			g_bytes_get_size(request->body),
			"{\"type\":\"Undo\"}",
			15);
}

/* 2: a 3000-byte body in pieces (the head split too) is read whole: the connection is reused */
static void
test_content_length_body(TestFixture *fixture, gconstpointer data)
{
	TestServer *server = fixture->server;
	g_autofree gchar *body = g_strnfill(3000, 'x');
	g_autoptr(GBytes) whole = g_bytes_new(body, 3000);
	g_autoptr(GBytes) first = g_bytes_new_from_bytes(whole, 0, 1000);
	g_autoptr(GBytes) second = g_bytes_new_from_bytes(whole, 1000, 1500);
	g_autoptr(GBytes) third = g_bytes_new_from_bytes(whole, 2500, 500);
	TestStep *step = test_server_add_step(server,
					      TEST_AFTER_KEEP,
					      30,
					      "HTTP/1.1 200 OK\r\nContent-Le",
					      "ngth: 3000\r\nContent-Type: text/plain\r\n\r\n",
					      NULL);

	test_step_add(step, first);
	test_step_add(step, second);
	test_step_add(step, third);
	test_post(fixture->client, server, "{}", &fixture->result);
	test_assert_status(&fixture->result, 200);
	g_assert_cmpuint(relay_http_client_get_idle(fixture->client), ==, 1);
	test_post(fixture->client, server, "{}", &fixture->result);
	test_assert_status(&fixture->result, 200);
	g_assert_cmpuint(test_server_get(server, &server->accepted), ==, 1);
	g_assert_cmpuint(test_server_request(server, 1)->connection, ==, 0);
	g_assert_cmpuint(relay_http_client_get_connections_opened(fixture->client), ==, 1);
	g_assert_cmpuint(relay_http_client_get_idle(fixture->client), ==, 1);
}

/* 3: chunks with extensions and trailers, in pieces cut anywhere: reused */
static void
test_chunked(TestFixture *fixture, gconstpointer data)
{
	TestServer *server = fixture->server;

	test_server_add_step(server,
			     TEST_AFTER_KEEP,
			     20,
			     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=va",
			     "lue\r\nhel",
			     "lo\r\n1A ; x=\"y\"\r\nabcdefghijklmnopqrstuvwxyz\r",
			     "\n0\r\nX-Trailer: 1\r\n",
			     "X-Other: two\r\n\r",
			     "\n",
			     NULL);
	test_server_add_step(server,
			     TEST_AFTER_KEEP,
			     0,
			     "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
			     "3\r\nabc\r\n0\r\n\r\n",
			     NULL);
	test_post(fixture->client, server, "{}", &fixture->result);
	test_assert_status(&fixture->result, 200);
	test_post(fixture->client, server, "{}", &fixture->result);
	test_assert_status(&fixture->result, 201);
	test_post(fixture->client, server, "{}", &fixture->result);
	test_assert_status(&fixture->result, 201);
	g_assert_cmpuint(test_server_get(server, &server->accepted), ==, 1);
	g_assert_cmpuint(relay_http_client_get_connections_opened(fixture->client), ==, 1);
	g_assert_cmpuint(relay_http_client_get_idle(fixture->client), ==, 1);
}

/* 3: a chunk size that is not hex is an error, and costs the connection */
static void
test_chunked_malformed(TestFixture *fixture, gconstpointer data)
{
	TestServer *server = fixture->server;

	test_server_add_step(server,
			     TEST_AFTER_KEEP,
			     0,
			     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			     "zz\r\nhello\r\n0\r\n\r\n",
			     NULL);
	test_server_add_step(server, TEST_AFTER_KEEP, 0, OK_202, NULL);
	test_post(fixture->client, server, "{}", &fixture->result);
	g_assert_error(fixture->result.error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
	g_assert_false(fixture->result.ok);
	g_assert_cmpuint(relay_http_client_get_idle(fixture->client), ==, 0);
	g_assert_true(test_server_wait(server, &server->client_closed, 1, TEST_TIMEOUT_MS));

	test_post(fixture->client, server, "{}", &fixture->result);
	test_assert_status(&fixture->result, 202);
	g_assert_cmpuint(test_server_get(server, &server->accepted), ==, 2);
	g_assert_cmpuint(test_server_request(server, 1)->connection, ==, 1);
	g_assert_cmpuint(relay_http_client_get_connections_opened(fixture->client), ==, 2);
}

/* 4: "Connection: close" and HTTP/1.0 without keep-alive end the connection, though the
 * server leaves it open; HTTP/1.0 with "Connection: keep-alive" keeps it */
static void
test_connection_close(TestFixture *fixture, gconstpointer data)
{
	TestServer *server = fixture->server;

	test_server_add_step(server,
			     TEST_AFTER_KEEP,
			     0,
			     "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
			     NULL);
	test_server_add_step(
		server, TEST_AFTER_KEEP, 0, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", NULL);
	test_server_add_step(server,
			     TEST_AFTER_KEEP,
			     0,
			     "HTTP/1.0 202 Accepted\r\nConnection: Keep-Alive\r\n"
			     "Content-Length: 4\r\n\r\ndone",
			     NULL);

	test_post(fixture->client, server, "{}", &fixture->result);
	test_assert_status(&fixture->result, 200);
	g_assert_cmpuint(relay_http_client_get_idle(fixture->client), ==, 0);
	/* the client closed it, the server did not */
	g_assert_true(test_server_wait(server, &server->client_closed, 1, TEST_TIMEOUT_MS));

	test_post(fixture->client, server, "{}", &fixture->result);
	test_assert_status(&fixture->result, 200);
	g_assert_cmpuint(test_server_get(server, &server->accepted), ==, 2);
	g_assert_cmpuint(relay_http_client_get_idle(fixture->client), ==, 0);
	g_assert_true(test_server_wait(server, &server->client_closed, 2, TEST_TIMEOUT_MS));

	test_post(fixture->client, server, "{}", &fixture->result);
	test_assert_status(&fixture->result, 202);
	g_assert_cmpuint(test_server_get(server, &server->accepted), ==, 3);
	g_assert_cmpuint(relay_http_client_get_idle(fixture->client), ==, 1);
	test_post(fixture->client, server, "{}", &fixture->result);
	test_assert_status(&fixture->result, 202);
	g_assert_cmpuint(test_server_get(server, &server->accepted), ==, 3);
	g_assert_cmpuint(test_server_request(server, 3)->connection, ==, 2);
	g_assert_cmpuint(relay_http_client_get_connections_opened(fixture->client), ==, 3);
	g_assert_cmpuint(test_server_get(server, &server->server_closing), ==, 0);
}

/* 5: no Content-Length and not chunked: the body runs to the close, and the status comes then */
static void
test_body_to_close(TestFixture *fixture, gconstpointer data)
{
	TestServer *server = fixture->server;

	test_server_add_step(server,
			     TEST_AFTER_CLOSE,
			     100,
			     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nthe body",
			     " goes on",
			     " until the close",
			     NULL);
	test_server_add_step(server, TEST_AFTER_KEEP, 0, OK_202, NULL);
	test_post(fixture->client, server, "{}", &fixture->result);
	test_assert_status(&fixture->result, 200);
	g_assert_cmpuint(test_server_get(server, &server->server_closing), ==, 1);
	g_assert_cmpuint(relay_http_client_get_idle(fixture->client), ==, 0);

	test_post(fixture->client, server, "{}", &fixture->result);
	test_assert_status(&fixture->result, 202);
	g_assert_cmpuint(test_server_get(server, &server->accepted), ==, 2);
	g_assert_cmpuint(relay_http_client_get_idle(fixture->client), ==, 1);
}

/* 6: interim 1xx answers come before the real one, apart or together */
static void
test_continue(TestFixture *fixture, gconstpointer data)
{
	TestServer *server = fixture->server;

	test_server_add_step(server,
			     TEST_AFTER_KEEP,
			     50,
			     "HTTP/1.1 100 Continue\r\n\r\n",
			     "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
			     NULL);
	test_server_add_step(server,
			     TEST_AFTER_KEEP,
			     0,
			     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n"
			     "Link: </style.css>; rel=preload\r\n\r\n" OK_202,
			     NULL);
	test_post(fixture->client, server, "{}", &fixture->result);
	test_assert_status(&fixture->result, 201);
	test_post(fixture->client, server, "{}", &fixture->result);
	test_assert_status(&fixture->result, 202);
	g_assert_cmpuint(test_server_get(server, &server->accepted), ==, 1);
	g_assert_cmpuint(relay_http_client_get_idle(fixture->client), ==, 1);
}

/* 7: the server closes a kept-alive connection after its answer; the next POST meets the close
 * and goes once more, whole, on a new connection */
static void
test_keep_alive_race(TestFixture *fixture, gconstpointer data)
{
	TestServer *server = fixture->server;
	const gchar *body = "{\"type\":\"Announce\",\"id\":\"https://a.example/2\"}";
	TestRequest *request;
	g_autofree gchar *content_length = g_strdup_printf("%zu", strlen(body));

	test_server_add_step(server, TEST_AFTER_CLOSE, 0, OK_202, NULL);
	test_server_add_step(server, TEST_AFTER_KEEP, 0, OK_202, NULL);
	test_post(fixture->client, server, "{}", &fixture->result);
	test_assert_status(&fixture->result, 202);
	g_assert_cmpuint(relay_http_client_get_idle(fixture->client), ==, 1);
	g_assert_true(test_server_wait(server, &server->server_closed, 1, TEST_TIMEOUT_MS));

	/* within a second of its last use the client does not check the connection first */
	test_post(fixture->client, server, body, &fixture->result);
	test_assert_status(&fixture->result, 202);
	g_assert_cmpuint(test_server_get(server, &server->accepted), ==, 2);
	g_assert_cmpuint(relay_http_client_get_connections_opened(fixture->client), ==, 2);
	g_assert_cmpuint(relay_http_client_get_idle(fixture->client), ==, 1);
	request = test_server_request(server, 1);
	g_assert_cmpuint(request->connection, ==, 1);
	g_assert_true(g_str_has_prefix(request->head, "POST /inbox HTTP/1.1\r\n"));
	test_assert_header(request, "Content-Length", content_length);
	g_assert_cmpmem(g_bytes_get_data(request->body, NULL),
			g_bytes_get_size(request->body),
			body,
			strlen(body));
	g_mutex_lock(&server->mutex);
	g_assert_cmpuint(server->requests->len, ==, 2);
	g_mutex_unlock(&server->mutex);
}

static gboolean
test_false_cb(gpointer user_data)
{
	return FALSE;
}

/* 7: a connection idle for over a second is checked before reuse: the close is seen first */
static void
test_keep_alive_stale(TestFixture *fixture, gconstpointer data)
{
	TestServer *server = fixture->server;

	test_server_add_step(server, TEST_AFTER_CLOSE, 0, OK_202, NULL);
	test_server_add_step(server, TEST_AFTER_KEEP, 0, OK_202, NULL);
	test_post(fixture->client, server, "{}", &fixture->result);
	test_assert_status(&fixture->result, 202);
	g_assert_true(test_server_wait(server, &server->server_closed, 1, TEST_TIMEOUT_MS));
	/* the check is for connections idle longer than a second: time is the point here */
	g_assert_false(relay_test_wait_until(NULL, test_false_cb, NULL, 1200));

	test_post(fixture->client, server, "{\"n\":2}", &fixture->result);
	test_assert_status(&fixture->result, 202);
	g_assert_cmpuint(test_server_get(server, &server->accepted), ==, 2);
	g_assert_cmpuint(test_server_request(server, 1)->connection, ==, 1);
	g_assert_cmpmem(g_bytes_get_data(test_server_request(server, 1)->body, NULL),
			g_bytes_get_size(test_server_request(server, 1)->body),
			"{\"n\":2}",
			7);
}

/* 7: the new connection closes without an answer too: an error, after one more connection */
static void
test_keep_alive_race_twice(TestFixture *fixture, gconstpointer data)
{
	TestServer *server = fixture->server;

	test_server_add_step(server, TEST_AFTER_CLOSE, 0, OK_202, NULL);
	test_server_add_step(server, TEST_AFTER_CLOSE, 0, NULL);
	test_post(fixture->client, server, "{}", &fixture->result);
	test_assert_status(&fixture->result, 202);
	g_assert_true(test_server_wait(server, &server->server_closed, 1, TEST_TIMEOUT_MS));

	test_post(fixture->client, server, "{}", &fixture->result);
	g_assert_error(fixture->result.error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
	g_assert_cmpuint(test_server_get(server, &server->accepted), ==, 2);
	g_assert_cmpuint(relay_http_client_get_connections_opened(fixture->client), ==, 2);
	g_assert_cmpuint(relay_http_client_get_idle(fixture->client), ==, 0);
}

/* 7: a fresh connection closed without an answer is an error at once, not sent again */
static void
test_closed_fresh(TestFixture *fixture, gconstpointer data)
{
	TestServer *server = fixture->server;

	test_server_add_step(server, TEST_AFTER_CLOSE, 0, NULL);
	test_post(fixture->client, server, "{}", &fixture->result);
	g_assert_error(fixture->result.error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
	g_assert_false(fixture->result.ok);
	g_assert_cmpuint(test_server_get(server, &server->accepted), ==, 1);
	g_assert_cmpuint(relay_http_client_get_connections_opened(fixture->client), ==, 1);
	g_assert_cmpuint(relay_http_client_get_idle(fixture->client), ==, 0);
}

/* 8: a body over 64 KiB is not read to its end: the status comes, the connection goes */
static void
test_long_body(TestFixture *fixture, gconstpointer data)
{
	TestServer *server = fixture->server;
	g_autofree gchar *megabyte = g_strnfill(1024 * 1024, 'b');
	g_autoptr(GBytes) body = g_bytes_new(megabyte, 1024 * 1024);
	g_autoptr(GBytes) chunk = g_bytes_new(megabyte, 0x10000);
	TestStep *step = test_server_add_step(server,
					      TEST_AFTER_KEEP,
					      0,
					      "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n",
					      NULL);

	test_step_add(step, body);
	step = test_server_add_step(server,
				    TEST_AFTER_KEEP,
				    0,
				    "HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n"
				    "10000\r\n",
				    NULL);
	test_step_add(step, chunk);
	test_step_add_string(step, "\r\n10000\r\n");
	test_step_add(step, chunk);
	test_step_add_string(step, "\r\n0\r\n\r\n");
	test_server_add_step(server, TEST_AFTER_KEEP, 0, OK_202, NULL);

	test_post(fixture->client, server, "{}", &fixture->result);
	test_assert_status(&fixture->result, 200);
	g_assert_cmpuint(relay_http_client_get_idle(fixture->client), ==, 0);
	g_assert_true(test_server_wait(server, &server->client_closed, 1, TEST_TIMEOUT_MS));

	test_post(fixture->client, server, "{}", &fixture->result);
	test_assert_status(&fixture->result, 400);
	g_assert_cmpuint(test_server_get(server, &server->accepted), ==, 2);
	g_assert_cmpuint(relay_http_client_get_idle(fixture->client), ==, 0);
	g_assert_true(test_server_wait(server, &server->client_closed, 2, TEST_TIMEOUT_MS));

	test_post(fixture->client, server, "{}", &fixture->result);
	test_assert_status(&fixture->result, 202);
	g_assert_cmpuint(test_server_get(server, &server->accepted), ==, 3);
	g_assert_cmpuint(relay_http_client_get_idle(fixture->client), ==, 1);
}

/* 9: garbage instead of a status line, ending with a blank line or not */
static void
test_garbage(TestFixture *fixture, gconstpointer data)
{
	TestServer *server = fixture->server;

	test_server_add_step(server, TEST_AFTER_KEEP, 0, "SSH-2.0-OpenSSH_9.2\r\n\r\n", NULL);
	test_server_add_step(server, TEST_AFTER_KEEP, 0, "HTTP/1.1 2OO OK\r\n\r\n", NULL);
	test_post(fixture->client, server, "{}", &fixture->result);
	g_assert_error(fixture->result.error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
	test_post(fixture->client, server, "{}", &fixture->result);
	g_assert_error(fixture->result.error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
	g_assert_cmpuint(test_server_get(server, &server->accepted), ==, 2);
	g_assert_cmpuint(relay_http_client_get_idle(fixture->client), ==, 0);
	g_assert_true(test_server_wait(server, &server->client_closed, 2, TEST_TIMEOUT_MS));
}

/* 9: a service that greets and waits for the client, as SSH and SMTP do: an error at the
 * first bytes, not at the read timeout (connect_timeout_s, 5 s here) */
static void
test_garbage_greeting(TestFixture *fixture, gconstpointer data)
{
	TestServer *server = fixture->server;
	gint64 start_us = g_get_monotonic_time();

	test_server_add_step(server, TEST_AFTER_HANG, 0, "220 mail.example ESMTP\r\n", NULL);
	test_post(fixture->client, server, "{}", &fixture->result);
	g_assert_error(fixture->result.error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
	g_assert_cmpint(g_get_monotonic_time() - start_us, <, 2 * G_USEC_PER_SEC);
	g_assert_cmpuint(relay_http_client_get_idle(fixture->client), ==, 0);
	g_assert_true(test_server_wait(server, &server->client_closed, 1, TEST_TIMEOUT_MS));
}

/* 9: a head over 64 KiB is an error, though it has not ended */
static void
test_long_head(TestFixture *fixture, gconstpointer data)
{
	TestServer *server = fixture->server;
	g_autoptr(GString) head = g_string_new("HTTP/1.1 200 OK\r\n");
	g_autoptr(GBytes) bytes = NULL;
	TestStep *step;

	while (head->len < 100 * 1024)
		g_string_append_printf(head, "X-Padding-%u: %0100u\r\n", (guint)head->len, 0);
	bytes = g_bytes_new(head->str, head->len);
	step = test_server_add_step(server, TEST_AFTER_HANG, 0, NULL);
	test_step_add(step, bytes);
	test_post(fixture->client, server, "{}", &fixture->result);
	g_assert_error(fixture->result.error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
	g_assert_cmpuint(relay_http_client_get_idle(fixture->client), ==, 0);
	g_assert_true(test_server_wait(server, &server->client_closed, 1, TEST_TIMEOUT_MS));
}

/* 10: Retry-After as the server gave it (trimmed), and none when there is none */
static void
test_retry_after(TestFixture *fixture, gconstpointer data)
{
	TestServer *server = fixture->server;

	test_server_add_step(server,
			     TEST_AFTER_KEEP,
			     0,
			     "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 120\r\n"
			     "Content-Length: 0\r\n\r\n",
			     NULL);
	test_server_add_step(server,
			     TEST_AFTER_KEEP,
			     0,
			     "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\n"
			     "retry-after:   Wed, 21 Oct 2026 07:28:00 GMT  \r\n\r\nbusy.",
			     NULL);
	test_server_add_step(server,
			     TEST_AFTER_KEEP,
			     0,
			     "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
			     NULL);
	test_post(fixture->client, server, "{}", &fixture->result);
	test_assert_status(&fixture->result, 429);
	g_assert_cmpstr(fixture->result.retry_after, ==, "120");
	test_post(fixture->client, server, "{}", &fixture->result);
	test_assert_status(&fixture->result, 503);
	g_assert_cmpstr(fixture->result.retry_after, ==, "Wed, 21 Oct 2026 07:28:00 GMT");
	test_post(fixture->client, server, "{}", &fixture->result);
	test_assert_status(&fixture->result, 500);
	g_assert_null(fixture->result.retry_after);
	g_assert_cmpuint(test_server_get(server, &server->accepted), ==, 1);
}

static gboolean
test_cancel_cb(gpointer user_data)
{
	g_cancellable_cancel(G_CANCELLABLE(user_data));
	return G_SOURCE_REMOVE;
}

/* 11: a server that never answers: cancelling ends the call at once */
static void
test_cancel(TestFixture *fixture, gconstpointer data)
{
	TestServer *server = fixture->server;
	g_autofree gchar *url = g_strdup_printf("%s/inbox", server->origin);
	g_autoptr(GBytes) body = g_bytes_new_static("{}", 2);
	g_autoptr(RelayHttpRequest) request = test_request_new(url, body);
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	g_autoptr(GCancellable) cancelled = g_cancellable_new();
	gint64 start_us;

	test_server_add_step(server, TEST_AFTER_HANG, 0, NULL);
	g_timeout_add_full(
		G_PRIORITY_DEFAULT, 200, test_cancel_cb, g_object_ref(cancellable), g_object_unref);
	start_us = g_get_monotonic_time();
	test_post_request(fixture->client, request, cancellable, &fixture->result);
	g_assert_error(fixture->result.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_assert_cmpint(g_get_monotonic_time() - start_us, <, G_USEC_PER_SEC);
	g_assert_cmpuint(test_server_get(server, &server->accepted), ==, 1);
	g_assert_cmpuint(relay_http_client_get_idle(fixture->client), ==, 0);
	/* the connection is closed, not left to the server */
	g_assert_true(test_server_wait(server, &server->client_closed, 1, TEST_TIMEOUT_MS));

	/* cancelled before it starts: no connection */
	g_cancellable_cancel(cancelled);
	test_post_request(fixture->client, request, cancelled, &fixture->result);
	g_assert_error(fixture->result.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_assert_cmpuint(relay_http_client_get_connections_opened(fixture->client), ==, 1);
}

/* 12: an idle connection is closed after the idle timeout */
static void
test_idle_timeout(TestFixture *fixture, gconstpointer data)
{
	TestServer *server = fixture->server;
	g_autoptr(RelayHttpClient) client = test_client_new(1, 8);
	gint64 start_us;

	test_server_add_step(server, TEST_AFTER_KEEP, 0, OK_202, NULL);
	test_post(client, server, "{}", &fixture->result);
	test_assert_status(&fixture->result, 202);
	g_assert_cmpuint(relay_http_client_get_idle(client), ==, 1);
	start_us = g_get_monotonic_time();
	g_assert_true(test_server_wait(server, &server->client_closed, 1, 3500));
	/* not at once: after about the timeout */
	g_assert_cmpint(g_get_monotonic_time() - start_us, >=, G_USEC_PER_SEC / 2);
	g_assert_cmpuint(relay_http_client_get_idle(client), ==, 0);
	g_assert_cmpuint(relay_http_client_get_connections_opened(client), ==, 1);
	g_assert_finalize_object(g_steal_pointer(&client));
}

/* 12: max-idle 1 over two hosts: the older idle connection is closed for the newer */
static void
test_max_idle(TestFixture *fixture, gconstpointer data)
{
	TestServer *first = fixture->server;
	g_autoptr(TestServer) second = test_server_new(0);
	g_autoptr(RelayHttpClient) client = test_client_new(30, 1);

	test_server_add_step(first, TEST_AFTER_KEEP, 0, OK_202, NULL);
	test_server_add_step(second, TEST_AFTER_KEEP, 0, OK_202, NULL);
	test_post(client, first, "{}", &fixture->result);
	test_assert_status(&fixture->result, 202);
	g_assert_cmpuint(relay_http_client_get_idle(client), ==, 1);
	test_post(client, second, "{}", &fixture->result);
	test_assert_status(&fixture->result, 202);
	g_assert_cmpuint(relay_http_client_get_idle(client), ==, 1);
	g_assert_true(test_server_wait(first, &first->client_closed, 1, TEST_TIMEOUT_MS));
	g_assert_cmpuint(test_server_get(second, &second->client_closed), ==, 0);

	/* the newer one is the one kept */
	test_post(client, second, "{}", &fixture->result);
	test_assert_status(&fixture->result, 202);
	g_assert_cmpuint(test_server_get(second, &second->accepted), ==, 1);
	test_post(client, first, "{}", &fixture->result);
	test_assert_status(&fixture->result, 202);
	g_assert_cmpuint(test_server_get(first, &first->accepted), ==, 2);
	g_assert_cmpuint(relay_http_client_get_connections_opened(client), ==, 3);
	g_assert_cmpuint(relay_http_client_get_idle(client), ==, 1);
	g_assert_finalize_object(g_steal_pointer(&client));
}

/* posts @size pseudo-random bytes and checks the server got them whole, by their SHA-256 */
static void
test_post_large(RelayHttpClient *client, TestServer *server, gsize size, TestResult *result)
{
	g_autofree guint8 *body = g_malloc(size);
	g_autoptr(GRand) rand = g_rand_new_with_seed((guint32)size);
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(RelayHttpRequest) request = NULL;
	g_autofree gchar *url = g_strdup_printf("%s/inbox", server->origin);
	g_autofree gchar *sent_sum = NULL;
	g_autofree gchar *received_sum = NULL;
	g_autofree gchar *content_length = g_strdup_printf("%" G_GSIZE_FORMAT, size);
	TestRequest *received;
	guint index;

	for (gsize i = 0; i < size; i += 4) {
		guint32 word = g_rand_int(rand);
		memcpy(body + i, &word, MIN(4, size - i));
	}
	bytes = g_bytes_new(body, size);
	request = test_request_new(url, bytes);
	g_mutex_lock(&server->mutex);
	index = server->requests->len;
	g_mutex_unlock(&server->mutex);

	test_post_request(client, request, NULL, result);
	test_assert_status(result, 202);
	received = test_server_request(server, index);
	test_assert_header(received, "Content-Length", content_length);
	g_assert_cmpuint(g_bytes_get_size(received->body), ==, size);
	sent_sum = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, bytes);
	received_sum = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, received->body);
	g_assert_cmpstr(received_sum, ==, sent_sum);
}

/* 13: large request bodies, to a server slow to read them with a small receive buffer, arrive
 * intact. On loopback Linux sizes the send buffer from the 64 KiB MSS (over a megabyte), so
 * 200 KiB goes out in one write; 4 MiB is what makes the client's writes meet WOULD_BLOCK */
static void
test_large_request(TestFixture *fixture, gconstpointer data)
{
	g_autoptr(TestServer) server = test_server_new(4096);

	server->body_read_delay_ms = 300;
	test_server_add_step(server, TEST_AFTER_KEEP, 0, OK_202, NULL);
	test_post_large(fixture->client, server, 200 * 1024, &fixture->result);
	test_post_large(fixture->client, server, 4 * 1024 * 1024 + 7, &fixture->result);

	/* framed exactly: the next request on the same connection reads right */
	server->body_read_delay_ms = 0;
	test_post(fixture->client, server, "{\"after\":true}", &fixture->result);
	test_assert_status(&fixture->result, 202);
	g_assert_cmpuint(test_server_get(server, &server->accepted), ==, 1);
	g_assert_cmpuint(relay_http_client_get_connections_opened(fixture->client), ==, 1);
	g_assert_cmpmem(g_bytes_get_data(test_server_request(server, 2)->body, NULL),
			g_bytes_get_size(test_server_request(server, 2)->body),
			"{\"after\":true}",
			14);
}

/* 14: nobody listens: an error, not a hang; and a URL that is not http(s) */
static void
test_refused(TestFixture *fixture, gconstpointer data)
{
	g_autofree gchar *url =
		g_strdup_printf("http://127.0.0.1:%u/inbox", relay_test_free_port());
	g_autoptr(GBytes) body = g_bytes_new_static("{}", 2);
	g_autoptr(RelayHttpRequest) request = test_request_new(url, body);
	g_autoptr(RelayHttpRequest) ftp = test_request_new("ftp://127.0.0.1/inbox", body);

	test_post_request(fixture->client, request, NULL, &fixture->result);
	g_assert_error(fixture->result.error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
	g_assert_false(fixture->result.ok);
	g_assert_cmpuint(relay_http_client_get_connections_opened(fixture->client), ==, 0);
	g_assert_cmpuint(relay_http_client_get_idle(fixture->client), ==, 0);

	test_post_request(fixture->client, ftp, NULL, &fixture->result);
	g_assert_error(fixture->result.error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func)                                                                            \
	g_test_add("/relay/http-client/" path,                                                     \
		   TestFixture,                                                                    \
		   NULL,                                                                           \
		   fixture_setup,                                                                  \
		   func,                                                                           \
		   fixture_teardown)
	ADD("keep-alive", test_keep_alive);
	ADD("content-length-body", test_content_length_body);
	ADD("chunked", test_chunked);
	ADD("chunked-malformed", test_chunked_malformed);
	ADD("connection-close", test_connection_close);
	ADD("body-to-close", test_body_to_close);
	ADD("continue", test_continue);
	ADD("keep-alive-race", test_keep_alive_race);
	ADD("keep-alive-stale", test_keep_alive_stale);
	ADD("keep-alive-race-twice", test_keep_alive_race_twice);
	ADD("closed-fresh", test_closed_fresh);
	ADD("long-body", test_long_body);
	ADD("garbage", test_garbage);
	ADD("garbage-greeting", test_garbage_greeting);
	ADD("long-head", test_long_head);
	ADD("retry-after", test_retry_after);
	ADD("cancel", test_cancel);
	ADD("idle-timeout", test_idle_timeout);
	ADD("max-idle", test_max_idle);
	ADD("large-request", test_large_request);
	ADD("refused", test_refused);
#undef ADD
	return g_test_run();
}
