/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * The delivery client (see relay-http-client.h). Why not libsoup: a SoupSession costs, per
 * POST, a message object with its header tables and signals, and at each send a walk of its
 * connections with a recv() on the idle ones; GLib then polls a source on every idle kept-alive
 * connection at every loop iteration. With a thousand members that was as much CPU as the RSA
 * signature each delivery needs (README, Performance). Here a POST costs one writev, one read
 * for a small answer, and idle connections cost nothing until reused:
 *
 *  - idle connections wait in a per-host stack (the most recently used first) and in one list
 *    by age, with no source attached; a sweep closes those idle past idle-timeout, and the
 *    oldest is closed when more than max-idle wait;
 *  - one idle for over a second is checked before reuse (readable means the server closed it);
 *  - a request that meets a closed kept-alive connection before any byte of an answer (the
 *    keep-alive race: the server closed it while it was idle) is sent once more on a new one;
 *  - the answer's body is read and dropped (Content-Length, chunked, or up to the close); one
 *    longer than 64 KiB costs its connection, not the answer's status.
 */

#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "relay-http-client.h"

/* what an answer's status line and headers may take */
#define RELAY_HTTP_CLIENT_MAX_HEAD (64 * 1024)
/* what of an answer's body is read before the connection is given up instead */
#define RELAY_HTTP_CLIENT_MAX_BODY   (64 * 1024)
#define RELAY_HTTP_CLIENT_READ_CHUNK 8192
/* an idle connection older than this is checked for a close before reuse */
#define RELAY_HTTP_CLIENT_CHECK_IDLE_US (1 * G_USEC_PER_SEC)

typedef struct {
	RelayHttpClient *client; /* unowned: the client closes its idle connections first */
	gchar *key;		 /* scheme://host:port */
	GIOStream *stream;
	GSocket *socket; /* (unowned): the stream's */
	gboolean tls;
	GPollableInputStream *in;
	GPollableOutputStream *out;
	gint64 idle_since_us;
	GList host_link; /* in the host's stack of idle connections */
	GList age_link;	 /* in the client's list of idle connections, newest first */
} RelayHttpConn;

struct _RelayHttpClient {
	GObject parent_instance;
	gchar *user_agent;
	GSocketClient *plain;
	GSocketClient *tls;
	GTlsDatabase *tls_database; /* (nullable): from tls-ca-file */
	GMainContext *context;
	guint idle_timeout_s;
	guint max_idle;
	GHashTable *idle; /* (element-type utf8 GQueue): per host key, RelayHttpConn */
	GQueue idle_by_age;
	GSource *sweep;
	guint64 connections_opened;
};

G_DEFINE_FINAL_TYPE(RelayHttpClient, relay_http_client, G_TYPE_OBJECT)

typedef enum {
	RELAY_HTTP_BODY_NONE,
	RELAY_HTTP_BODY_LENGTH,
	RELAY_HTTP_BODY_CHUNKED,
	RELAY_HTTP_BODY_CLOSE,
} RelayHttpBodyMode;

typedef enum {
	RELAY_HTTP_CHUNK_SIZE,
	RELAY_HTTP_CHUNK_DATA,
	RELAY_HTTP_CHUNK_DATA_END,
	RELAY_HTTP_CHUNK_TRAILER,
} RelayHttpChunkState;

/* one POST */
typedef struct {
	RelayHttpClient *client;
	GTask *task; /* (unowned): the op is its task data */
	gchar *uri;
	gchar *key;
	gchar *head;
	GBytes *body;
	gsize written;
	RelayHttpConn *conn;
	gboolean reused;
	gboolean retried;
	GSource *source;
	GByteArray *in;
	gsize received;
	gboolean head_done;
	guint status;
	gchar *retry_after;
	gboolean keep_alive;
	RelayHttpBodyMode body_mode;
	RelayHttpChunkState chunk_state;
	guint64 left; /* of the body (LENGTH) or of the chunk (CHUNKED) */
	gsize body_seen;
} RelayHttpOp;

static void
relay_http_op_write(RelayHttpOp *op);
static void
relay_http_op_read(RelayHttpOp *op);
static void
relay_http_op_connect(RelayHttpOp *op);

/* connections */

static void
relay_http_conn_free(RelayHttpConn *conn)
{
	if (conn->stream != NULL) {
		if (conn->tls)
			/* sends close_notify without blocking; the call holds the stream */
			g_io_stream_close_async(conn->stream, G_PRIORITY_LOW, NULL, NULL, NULL);
		else
			g_io_stream_close(conn->stream, NULL, NULL);
	}
	g_clear_object(&conn->stream);
	g_free(conn->key);
	g_free(conn);
}

static RelayHttpConn *
relay_http_conn_new(RelayHttpClient *self, const gchar *key, GSocketConnection *connection)
{
	RelayHttpConn *conn = g_new0(RelayHttpConn, 1);

	conn->client = self;
	conn->key = g_strdup(key);
	conn->host_link.data = conn;
	conn->age_link.data = conn;
	/* with TLS, GSocketClient wraps the TLS stream in a GTcpWrapperConnection */
	conn->tls = G_IS_TCP_WRAPPER_CONNECTION(connection);
	conn->socket = g_socket_connection_get_socket(connection);
	/* requests go out whole in one write: no reason to hold back a last segment */
	g_socket_set_option(conn->socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
	conn->stream = g_object_ref(G_IO_STREAM(connection));
	conn->in = G_POLLABLE_INPUT_STREAM(g_io_stream_get_input_stream(conn->stream));
	conn->out = G_POLLABLE_OUTPUT_STREAM(g_io_stream_get_output_stream(conn->stream));
	self->connections_opened++;
	return conn;
}

static void
relay_http_client_unlink_idle(RelayHttpClient *self, RelayHttpConn *conn)
{
	GQueue *stack = g_hash_table_lookup(self->idle, conn->key);

	g_queue_unlink(stack, &conn->host_link);
	if (g_queue_is_empty(stack))
		g_hash_table_remove(self->idle, conn->key);
	g_queue_unlink(&self->idle_by_age, &conn->age_link);
}

static gboolean
relay_http_client_sweep_cb(gpointer user_data);

static void
relay_http_client_sweep_arm(RelayHttpClient *self)
{
	if (self->sweep != NULL || g_queue_is_empty(&self->idle_by_age))
		return;
	self->sweep = g_timeout_source_new_seconds(MAX(self->idle_timeout_s / 2, 1));
	g_source_set_callback(self->sweep, relay_http_client_sweep_cb, self, NULL);
	g_source_attach(self->sweep, self->context);
}

/* closes the connections idle past the idle timeout: the oldest are at the tail */
static gboolean
relay_http_client_sweep_cb(gpointer user_data)
{
	RelayHttpClient *self = user_data;
	gint64 limit_us = g_get_monotonic_time() - (gint64)self->idle_timeout_s * G_USEC_PER_SEC;
	GList *link;

	while ((link = g_queue_peek_tail_link(&self->idle_by_age)) != NULL) {
		RelayHttpConn *conn = link->data;
		if (conn->idle_since_us > limit_us)
			break;
		relay_http_client_unlink_idle(self, conn);
		relay_http_conn_free(conn);
	}
	g_source_destroy(self->sweep);
	g_clear_pointer(&self->sweep, g_source_unref);
	relay_http_client_sweep_arm(self);
	return G_SOURCE_REMOVE;
}

/* keeps @conn for the next POST to its host */
static void
relay_http_client_put_idle(RelayHttpClient *self, RelayHttpConn *conn)
{
	GQueue *stack = g_hash_table_lookup(self->idle, conn->key);

	if (stack == NULL) {
		stack = g_queue_new();
		g_hash_table_insert(self->idle, g_strdup(conn->key), stack);
	}
	conn->idle_since_us = g_get_monotonic_time();
	g_queue_push_head_link(stack, &conn->host_link);
	g_queue_push_head_link(&self->idle_by_age, &conn->age_link);
	while (self->idle_by_age.length > self->max_idle) {
		RelayHttpConn *oldest = g_queue_peek_tail(&self->idle_by_age);
		relay_http_client_unlink_idle(self, oldest);
		relay_http_conn_free(oldest);
	}
	relay_http_client_sweep_arm(self);
}

/* an idle connection to @key that still looks open, or %NULL */
static RelayHttpConn *
relay_http_client_take_idle(RelayHttpClient *self, const gchar *key)
{
	GQueue *stack;
	RelayHttpConn *conn;
	gint64 now_us = g_get_monotonic_time();

	while ((stack = g_hash_table_lookup(self->idle, key)) != NULL) {
		conn = g_queue_peek_head(stack);
		relay_http_client_unlink_idle(self, conn);
		/* an idle connection has nothing to read: if it has, the server closed it */
		if (now_us - conn->idle_since_us > RELAY_HTTP_CLIENT_CHECK_IDLE_US &&
		    g_socket_condition_check(conn->socket, G_IO_IN | G_IO_HUP | G_IO_ERR) != 0) {
			relay_http_conn_free(conn);
			continue;
		}
		return conn;
	}
	return NULL;
}

/* ops */

static void
relay_http_op_free(RelayHttpOp *op)
{
	if (op->source != NULL) {
		g_source_destroy(op->source);
		g_source_unref(op->source);
	}
	if (op->conn != NULL)
		relay_http_conn_free(op->conn);
	g_free(op->uri);
	g_free(op->key);
	g_free(op->head);
	g_clear_pointer(&op->body, g_bytes_unref);
	g_clear_pointer(&op->in, g_byte_array_unref);
	g_free(op->retry_after);
	g_clear_object(&op->client);
	g_free(op);
}

static void
relay_http_op_clear_source(RelayHttpOp *op)
{
	if (op->source == NULL)
		return;
	g_source_destroy(op->source);
	g_clear_pointer(&op->source, g_source_unref);
}

/* ends the op with its answer; the connection goes back to the idle ones when it can */
static void
relay_http_op_done(RelayHttpOp *op)
{
	GTask *task = op->task;

	relay_http_op_clear_source(op);
	if (op->keep_alive && op->conn != NULL)
		relay_http_client_put_idle(op->client, g_steal_pointer(&op->conn));
	g_clear_pointer(&op->conn, relay_http_conn_free);
	g_task_return_boolean(task, TRUE);
	g_object_unref(task);
}

static void
relay_http_op_fail(RelayHttpOp *op, GError *error)
{
	GTask *task = op->task;

	relay_http_op_clear_source(op);
	g_clear_pointer(&op->conn, relay_http_conn_free);
	g_task_return_error(task, error);
	g_object_unref(task);
}

/* a kept-alive connection closed before any answer: once, on a new connection */
static gboolean
relay_http_op_maybe_retry(RelayHttpOp *op, const GError *error)
{
	if (!op->reused || op->retried || op->received > 0 ||
	    g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return FALSE;
	g_debug("%s: a kept-alive connection was closed (%s), sending again",
		op->key,
		error != NULL ? error->message : "end of stream");
	relay_http_op_clear_source(op);
	g_clear_pointer(&op->conn, relay_http_conn_free);
	op->retried = TRUE;
	op->reused = FALSE;
	op->written = 0;
	relay_http_op_connect(op);
	return TRUE;
}

static gboolean
relay_http_op_source_cb(GObject *stream, gpointer user_data)
{
	RelayHttpOp *op = user_data;
	gboolean reading = G_IS_INPUT_STREAM(stream);

	relay_http_op_clear_source(op);
	if (reading)
		relay_http_op_read(op);
	else
		relay_http_op_write(op);
	return G_SOURCE_REMOVE;
}

static void
relay_http_op_wait(RelayHttpOp *op, gboolean reading)
{
	GCancellable *cancellable = g_task_get_cancellable(op->task);

	if (reading)
		op->source = g_pollable_input_stream_create_source(op->conn->in, cancellable);
	else
		op->source = g_pollable_output_stream_create_source(op->conn->out, cancellable);
	g_source_set_callback(op->source, G_SOURCE_FUNC(relay_http_op_source_cb), op, NULL);
	g_source_attach(op->source, op->client->context);
}

static void
relay_http_op_write(RelayHttpOp *op)
{
	gsize head_len = strlen(op->head);
	gsize body_len = op->body != NULL ? g_bytes_get_size(op->body) : 0;
	GCancellable *cancellable = g_task_get_cancellable(op->task);

	while (op->written < head_len + body_len) {
		GOutputVector vectors[2];
		gsize n_vectors = 0;
		gsize written = 0;
		GPollableReturn ret;
		GError *error = NULL;

		if (op->written < head_len) {
			vectors[n_vectors].buffer = op->head + op->written;
			vectors[n_vectors].size = head_len - op->written;
			n_vectors++;
		}
		if (body_len > 0) {
			gsize from = op->written > head_len ? op->written - head_len : 0;
			vectors[n_vectors].buffer =
				(const guint8 *)g_bytes_get_data(op->body, NULL) + from;
			vectors[n_vectors].size = body_len - from;
			n_vectors++;
		}
		ret = g_pollable_output_stream_writev_nonblocking(
			op->conn->out, vectors, n_vectors, &written, cancellable, &error);
		if (ret == G_POLLABLE_RETURN_WOULD_BLOCK) {
			relay_http_op_wait(op, FALSE);
			return;
		}
		if (ret == G_POLLABLE_RETURN_FAILED) {
			if (!relay_http_op_maybe_retry(op, error))
				relay_http_op_fail(op, error);
			else
				g_error_free(error);
			return;
		}
		op->written += written;
	}
	/* the answer cannot be there yet: wait for it rather than try a read */
	relay_http_op_wait(op, TRUE);
}

static gboolean
relay_http_header_has_token(const gchar *value, const gchar *token)
{
	g_auto(GStrv) parts = g_strsplit(value, ",", -1);

	for (guint i = 0; parts[i] != NULL; i++) {
		if (g_ascii_strcasecmp(g_strstrip(parts[i]), token) == 0)
			return TRUE;
	}
	return FALSE;
}

/* parses the status line and headers in @text (without the blank line) */
static gboolean
relay_http_op_parse_head(RelayHttpOp *op, gchar *text, GError **error)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	gboolean http10;
	gboolean close = FALSE;
	gboolean keep_alive_header = FALSE;
	gboolean chunked = FALSE;
	gboolean have_length = FALSE;
	guint64 length = 0;
	guint status;
	gchar *end = NULL;

	for (guint i = 0; lines[i] != NULL; i++)
		g_strchomp(lines[i]);
	if (lines[0] == NULL || (!g_str_has_prefix(lines[0], "HTTP/1.1 ") &&
				 !g_str_has_prefix(lines[0], "HTTP/1.0 "))) {
		g_set_error_literal(
			error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the answer is not HTTP/1.x");
		return FALSE;
	}
	http10 = lines[0][7] == '0';
	status = (guint)g_ascii_strtoull(lines[0] + 9, &end, 10);
	if (end != lines[0] + 12 || status < 100 || status > 599 || (*end != ' ' && *end != '\0')) {
		g_set_error_literal(error,
				    G_IO_ERROR,
				    G_IO_ERROR_INVALID_DATA,
				    "the answer's status is invalid");
		return FALSE;
	}
	op->status = status;
	g_clear_pointer(&op->retry_after, g_free);
	for (guint i = 1; lines[i] != NULL; i++) {
		gchar *colon = strchr(lines[i], ':');
		gchar *value;

		if (colon == NULL)
			continue;
		*colon = '\0';
		value = g_strstrip(colon + 1);
		if (g_ascii_strcasecmp(lines[i], "Content-Length") == 0) {
			guint64 parsed;
			if (!g_ascii_string_to_unsigned(value, 10, 0, G_MAXINT64, &parsed, NULL) ||
			    (have_length && parsed != length)) {
				g_set_error_literal(error,
						    G_IO_ERROR,
						    G_IO_ERROR_INVALID_DATA,
						    "the answer's Content-Length is invalid");
				return FALSE;
			}
			have_length = TRUE;
			length = parsed;
		} else if (g_ascii_strcasecmp(lines[i], "Transfer-Encoding") == 0) {
			chunked = relay_http_header_has_token(value, "chunked");
		} else if (g_ascii_strcasecmp(lines[i], "Connection") == 0) {
			close = close || relay_http_header_has_token(value, "close");
			keep_alive_header = keep_alive_header ||
					    relay_http_header_has_token(value, "keep-alive");
		} else if (g_ascii_strcasecmp(lines[i], "Retry-After") == 0) {
			g_free(op->retry_after);
			op->retry_after = g_strdup(value);
		}
	}
	op->keep_alive = http10 ? keep_alive_header && !close : !close;
	if (status < 200 || status == 204 || status == 304) {
		op->body_mode = RELAY_HTTP_BODY_NONE;
	} else if (chunked) {
		op->body_mode = RELAY_HTTP_BODY_CHUNKED;
		op->chunk_state = RELAY_HTTP_CHUNK_SIZE;
	} else if (have_length) {
		op->body_mode = length > 0 ? RELAY_HTTP_BODY_LENGTH : RELAY_HTTP_BODY_NONE;
		op->left = length;
	} else {
		op->body_mode = RELAY_HTTP_BODY_CLOSE;
		op->keep_alive = FALSE;
	}
	return TRUE;
}

/* the offset just past the blank line that ends the head in @data, or 0 */
static gsize
relay_http_find_head_end(const guint8 *data, gsize len)
{
	for (gsize i = 0; i + 1 < len; i++) {
		if (data[i] != '\n')
			continue;
		if (data[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && data[i + 1] == '\r' && data[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* the offset just past the first line ending in @data, or 0 */
static gsize
relay_http_find_line_end(const guint8 *data, gsize len)
{
	const guint8 *nl = memchr(data, '\n', len);
	return nl != NULL ? (gsize)(nl - data) + 1 : 0;
}

typedef enum {
	RELAY_HTTP_PARSE_MORE, /* needs more bytes */
	RELAY_HTTP_PARSE_DONE, /* the answer is complete */
	RELAY_HTTP_PARSE_ERROR,
} RelayHttpParse;

/* consumes what it can of op->in */
static RelayHttpParse
relay_http_op_parse(RelayHttpOp *op, GError **error)
{
	while (TRUE) {
		guint8 *data = op->in->data;
		gsize len = op->in->len;
		gsize used;

		if (!op->head_done) {
			g_autofree gchar *text = NULL;

			/* known from the first bytes: a service that greets and waits for the
			 * client (SSH, SMTP) would otherwise hold the POST till the timeout */
			if (memcmp(data, "HTTP/1.", MIN(len, strlen("HTTP/1."))) != 0) {
				g_set_error_literal(error,
						    G_IO_ERROR,
						    G_IO_ERROR_INVALID_DATA,
						    "the answer is not HTTP/1.x");
				return RELAY_HTTP_PARSE_ERROR;
			}
			used = relay_http_find_head_end(data, len);
			if (used == 0) {
				if (len > RELAY_HTTP_CLIENT_MAX_HEAD) {
					g_set_error_literal(error,
							    G_IO_ERROR,
							    G_IO_ERROR_INVALID_DATA,
							    "the answer's headers are too long");
					return RELAY_HTTP_PARSE_ERROR;
				}
				return RELAY_HTTP_PARSE_MORE;
			}
			text = g_strndup((const gchar *)data, used);
			g_byte_array_remove_range(op->in, 0, (guint)used);
			if (!relay_http_op_parse_head(op, text, error))
				return RELAY_HTTP_PARSE_ERROR;
			/* 1xx answers (100 Continue sent anyway) come before the real one */
			if (op->status >= 200)
				op->head_done = TRUE;
			continue;
		}
		if (op->body_seen > RELAY_HTTP_CLIENT_MAX_BODY) {
			/* the status is known: the rest of this body is not worth reading */
			op->keep_alive = FALSE;
			return RELAY_HTTP_PARSE_DONE;
		}
		switch (op->body_mode) {
		case RELAY_HTTP_BODY_NONE:
			/* nothing may follow an answer we have not asked for */
			if (len > 0)
				op->keep_alive = FALSE;
			return RELAY_HTTP_PARSE_DONE;
		case RELAY_HTTP_BODY_CLOSE:
			op->body_seen += len;
			g_byte_array_set_size(op->in, 0);
			return RELAY_HTTP_PARSE_MORE;
		case RELAY_HTTP_BODY_LENGTH:
			used = (gsize)MIN((guint64)len, op->left);
			op->left -= used;
			op->body_seen += used;
			g_byte_array_remove_range(op->in, 0, (guint)used);
			if (op->left == 0) {
				op->body_mode = RELAY_HTTP_BODY_NONE;
				continue;
			}
			return RELAY_HTTP_PARSE_MORE;
		case RELAY_HTTP_BODY_CHUNKED:
			break;
		}
		/* chunked */
		if (op->chunk_state == RELAY_HTTP_CHUNK_DATA) {
			used = (gsize)MIN((guint64)len, op->left);
			op->left -= used;
			op->body_seen += used;
			g_byte_array_remove_range(op->in, 0, (guint)used);
			if (op->left > 0)
				return RELAY_HTTP_PARSE_MORE;
			op->chunk_state = RELAY_HTTP_CHUNK_DATA_END;
			continue;
		}
		used = relay_http_find_line_end(data, len);
		if (used == 0) {
			if (len > 4096) {
				g_set_error_literal(error,
						    G_IO_ERROR,
						    G_IO_ERROR_INVALID_DATA,
						    "the answer's chunked body is malformed");
				return RELAY_HTTP_PARSE_ERROR;
			}
			return RELAY_HTTP_PARSE_MORE;
		}
		if (op->chunk_state == RELAY_HTTP_CHUNK_SIZE) {
			g_autofree gchar *line = g_strndup((const gchar *)data, used);
			gchar *end = NULL;
			guint64 size = g_ascii_strtoull(line, &end, 16);

			if (end == line || (*end != ';' && *end != '\r' && *end != '\n' &&
					    *end != ' ' && *end != '\t')) {
				g_set_error_literal(error,
						    G_IO_ERROR,
						    G_IO_ERROR_INVALID_DATA,
						    "the answer's chunked body is malformed");
				return RELAY_HTTP_PARSE_ERROR;
			}
			op->left = size;
			op->chunk_state =
				size > 0 ? RELAY_HTTP_CHUNK_DATA : RELAY_HTTP_CHUNK_TRAILER;
		} else if (op->chunk_state == RELAY_HTTP_CHUNK_DATA_END) {
			op->chunk_state = RELAY_HTTP_CHUNK_SIZE;
		} else {
			/* trailers, up to a blank line */
			gboolean blank = used == 1 || (used == 2 && data[0] == '\r');
			if (blank) {
				g_byte_array_remove_range(op->in, 0, (guint)used);
				op->body_mode = RELAY_HTTP_BODY_NONE;
				continue;
			}
		}
		g_byte_array_remove_range(op->in, 0, (guint)used);
	}
}

static void
relay_http_op_read(RelayHttpOp *op)
{
	GCancellable *cancellable = g_task_get_cancellable(op->task);

	while (TRUE) {
		GError *error = NULL;
		gssize got;
		guint old_len = op->in->len;
		RelayHttpParse parsed;

		g_byte_array_set_size(op->in, old_len + RELAY_HTTP_CLIENT_READ_CHUNK);
		got = g_pollable_input_stream_read_nonblocking(op->conn->in,
							       op->in->data + old_len,
							       RELAY_HTTP_CLIENT_READ_CHUNK,
							       cancellable,
							       &error);
		g_byte_array_set_size(op->in, old_len + (got > 0 ? (guint)got : 0));
		if (got < 0) {
			if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
				g_error_free(error);
				relay_http_op_wait(op, TRUE);
				return;
			}
			if (op->head_done) {
				/* the status came: a body cut short only costs the connection */
				g_error_free(error);
				op->keep_alive = FALSE;
				relay_http_op_done(op);
			} else if (relay_http_op_maybe_retry(op, error)) {
				g_error_free(error);
			} else {
				relay_http_op_fail(op, error);
			}
			return;
		}
		if (got == 0) {
			if (op->head_done) {
				op->keep_alive = FALSE;
				relay_http_op_done(op);
			} else if (!relay_http_op_maybe_retry(op, NULL)) {
				relay_http_op_fail(op,
						   g_error_new_literal(G_IO_ERROR,
								       G_IO_ERROR_CONNECTION_CLOSED,
								       "the connection was closed "
								       "before an answer"));
			}
			return;
		}
		op->received += (gsize)got;
		parsed = relay_http_op_parse(op, &error);
		if (parsed == RELAY_HTTP_PARSE_ERROR) {
			relay_http_op_fail(op, error);
			return;
		}
		if (parsed == RELAY_HTTP_PARSE_DONE) {
			if (op->in->len > 0)
				op->keep_alive = FALSE;
			relay_http_op_done(op);
			return;
		}
	}
}

static void
relay_http_op_connected_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	RelayHttpOp *op = user_data;
	GError *error = NULL;
	g_autoptr(GSocketConnection) connection =
		g_socket_client_connect_to_uri_finish(G_SOCKET_CLIENT(source), res, &error);

	if (connection == NULL) {
		relay_http_op_fail(op, error);
		return;
	}
	op->conn = relay_http_conn_new(op->client, op->key, connection);
	relay_http_op_write(op);
}

static void
relay_http_op_connect(RelayHttpOp *op)
{
	gboolean https = g_str_has_prefix(op->uri, "https:");

	g_socket_client_connect_to_uri_async(https ? op->client->tls : op->client->plain,
					     op->uri,
					     https ? 443 : 80,
					     g_task_get_cancellable(op->task),
					     relay_http_op_connected_cb,
					     op);
}

/* client */

typedef struct {
	GString *head;
	gboolean has_user_agent;
} RelayHttpHeadBuilder;

static void
relay_http_client_add_header_cb(const gchar *name, const gchar *value, gpointer user_data)
{
	RelayHttpHeadBuilder *builder = user_data;

	/* the client frames the body itself */
	if (g_ascii_strcasecmp(name, "Content-Length") == 0 ||
	    g_ascii_strcasecmp(name, "Transfer-Encoding") == 0 ||
	    g_ascii_strcasecmp(name, "Connection") == 0)
		return;
	if (g_ascii_strcasecmp(name, "User-Agent") == 0)
		builder->has_user_agent = TRUE;
	g_string_append(builder->head, name);
	g_string_append_len(builder->head, ": ", 2);
	g_string_append(builder->head, value);
	g_string_append_len(builder->head, "\r\n", 2);
}

/**
 * relay_http_client_post_async:
 * @request: an absolute http(s) target, its headers (Host included: signed requests have it)
 *   and body
 *
 * Sends @request on a kept-alive connection to its host, or a new one. Cancelling
 * @cancellable is the only deadline: the caller sets its own.
 */
void
relay_http_client_post_async(RelayHttpClient *self,
			     RelayHttpRequest *request,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data)
{
	RelayHttpOp *op = g_new0(RelayHttpOp, 1);
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	GBytes *body = relay_http_request_get_body(request);
	const gchar *scheme = relay_http_request_get_scheme(request);
	const gchar *authority = relay_http_request_get_authority(request);
	RelayHttpHeadBuilder builder = {NULL, FALSE};
	const gchar *path = relay_http_request_get_path_and_query(request);

	g_task_set_source_tag(task, relay_http_client_post_async);
	g_task_set_task_data(task, op, (GDestroyNotify)relay_http_op_free);
	op->client = g_object_ref(self);
	op->task = task; /* the op holds it till it returns */
	op->uri = g_strdup(relay_http_request_get_target_uri(request));
	op->key = g_strdup_printf("%s://%s", scheme != NULL ? scheme : "", authority);
	op->body = body != NULL ? g_bytes_ref(body) : NULL;
	op->in = g_byte_array_sized_new(RELAY_HTTP_CLIENT_READ_CHUNK);

	builder.head = g_string_sized_new(1024);
	g_string_append_printf(builder.head,
			       "%s %s HTTP/1.1\r\n",
			       relay_http_request_get_method(request),
			       path != NULL && path[0] != '\0' ? path : "/");
	if (relay_http_request_get_header(request, "Host") == NULL)
		g_string_append_printf(builder.head, "Host: %s\r\n", authority);
	relay_http_request_foreach_header(request, relay_http_client_add_header_cb, &builder);
	if (!builder.has_user_agent && self->user_agent != NULL)
		g_string_append_printf(builder.head, "User-Agent: %s\r\n", self->user_agent);
	g_string_append_printf(builder.head,
			       "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n",
			       body != NULL ? g_bytes_get_size(body) : 0);
	op->head = g_string_free(builder.head, FALSE);

	if (scheme == NULL || authority == NULL ||
	    (g_strcmp0(scheme, "http") != 0 && g_strcmp0(scheme, "https") != 0)) {
		relay_http_op_fail(op,
				   g_error_new(G_IO_ERROR,
					       G_IO_ERROR_INVALID_ARGUMENT,
					       "not an http or https URL: %s",
					       op->uri));
		return;
	}
	op->conn = relay_http_client_take_idle(self, op->key);
	if (op->conn != NULL) {
		op->reused = TRUE;
		relay_http_op_write(op);
		return;
	}
	relay_http_op_connect(op);
}

/**
 * relay_http_client_post_finish:
 * @out_status: (out): the answer's status
 * @out_retry_after: (out) (optional) (transfer full) (nullable): its Retry-After
 *
 * Returns: %TRUE when an answer came, whatever its status; %FALSE with @error when none did
 */
gboolean
relay_http_client_post_finish(RelayHttpClient *self,
			      GAsyncResult *res,
			      guint *out_status,
			      gchar **out_retry_after,
			      GError **error)
{
	RelayHttpOp *op;

	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	if (!g_task_propagate_boolean(G_TASK(res), error))
		return FALSE;
	op = g_task_get_task_data(G_TASK(res));
	*out_status = op->status;
	if (out_retry_after != NULL)
		*out_retry_after = g_steal_pointer(&op->retry_after);
	return TRUE;
}

/**
 * relay_http_client_get_connections_opened:
 *
 * Returns: the connections opened so far (keep-alive keeps this low)
 */
guint64
relay_http_client_get_connections_opened(RelayHttpClient *self)
{
	return self->connections_opened;
}

/**
 * relay_http_client_get_idle:
 *
 * Returns: the kept-alive connections waiting for a POST
 */
guint
relay_http_client_get_idle(RelayHttpClient *self)
{
	return self->idle_by_age.length;
}

/**
 * relay_http_client_close_idle:
 *
 * Closes every idle connection (at stop).
 */
void
relay_http_client_close_idle(RelayHttpClient *self)
{
	RelayHttpConn *conn;

	while ((conn = g_queue_peek_tail(&self->idle_by_age)) != NULL) {
		relay_http_client_unlink_idle(self, conn);
		relay_http_conn_free(conn);
	}
	if (self->sweep != NULL) {
		g_source_destroy(self->sweep);
		g_clear_pointer(&self->sweep, g_source_unref);
	}
}

static void
relay_http_client_tls_event_cb(GSocketClient *client,
			       GSocketClientEvent event,
			       GSocketConnectable *connectable,
			       GIOStream *connection,
			       gpointer user_data)
{
	RelayHttpClient *self = user_data;

	if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING && self->tls_database != NULL &&
	    G_IS_TLS_CONNECTION(connection))
		g_tls_connection_set_database(G_TLS_CONNECTION(connection), self->tls_database);
}

static void
relay_http_client_finalize(GObject *object)
{
	RelayHttpClient *self = RELAY_HTTP_CLIENT(object);

	relay_http_client_close_idle(self);
	g_hash_table_unref(self->idle);
	g_clear_object(&self->plain);
	g_clear_object(&self->tls);
	g_clear_object(&self->tls_database);
	g_clear_pointer(&self->context, g_main_context_unref);
	g_free(self->user_agent);
	G_OBJECT_CLASS(relay_http_client_parent_class)->finalize(object);
}

static void
relay_http_client_class_init(RelayHttpClientClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = relay_http_client_finalize;
}

static void
relay_http_client_init(RelayHttpClient *self)
{
	self->idle = g_hash_table_new_full(
		g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_queue_free);
	g_queue_init(&self->idle_by_age);
}

static GSocketClient *
relay_http_client_socket_client_new(guint connect_timeout_s, gboolean tls)
{
	GSocketClient *client = g_socket_client_new();

	/* no proxy: the SSRF guard checks the addresses connected to */
	g_socket_client_set_enable_proxy(client, FALSE);
	g_socket_client_set_timeout(client, connect_timeout_s);
	g_socket_client_set_tls(client, tls);
	return client;
}

/**
 * relay_http_client_new:
 * @user_agent: (nullable): sent unless a request has its own
 * @tls_ca_file: (nullable): a PEM file of the CAs to trust instead of the system's
 * @connect_timeout_s: how long a connection (and its TLS handshake) may take; also the
 *   longest a blocked read or write of an open connection waits
 * @idle_timeout_s: how long a kept-alive connection waits for its next POST
 * @max_idle: how many kept-alive connections wait at most, all hosts
 *
 * Returns: (transfer full): a client, or %NULL when @tls_ca_file does not load
 */
RelayHttpClient *
relay_http_client_new(const gchar *user_agent,
		      const gchar *tls_ca_file,
		      guint connect_timeout_s,
		      guint idle_timeout_s,
		      guint max_idle,
		      GError **error)
{
	g_autoptr(RelayHttpClient) self = g_object_new(RELAY_TYPE_HTTP_CLIENT, NULL);

	if (tls_ca_file != NULL) {
		self->tls_database = g_tls_file_database_new(tls_ca_file, error);
		if (self->tls_database == NULL) {
			g_prefix_error(error, "tls-ca-file %s: ", tls_ca_file);
			return NULL;
		}
	}
	self->user_agent = g_strdup(user_agent);
	self->context = g_main_context_ref_thread_default();
	self->idle_timeout_s = MAX(idle_timeout_s, 1);
	self->max_idle = MAX(max_idle, 1);
	self->plain = relay_http_client_socket_client_new(connect_timeout_s, FALSE);
	self->tls = relay_http_client_socket_client_new(connect_timeout_s, TRUE);
	g_signal_connect(self->tls, "event", G_CALLBACK(relay_http_client_tls_event_cb), self);
	return g_steal_pointer(&self);
}
