/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * HTTP/1.1 on one epoll instance, for the bench only: keep-alive, Content-Length bodies (and
 * chunked answers on the client side), no TLS, no pipelining beyond reading what is buffered.
 * Every socket is level-triggered. A socket closed while the events of a dispatch are being
 * handled is freed at the end of that dispatch, so a later event of the same batch never
 * touches freed memory.
 */

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "relay-bench-net.h"

#define RELAY_BENCH_NET_BACKLOG	 4096
#define RELAY_BENCH_NET_EVENTS	 512
#define RELAY_BENCH_NET_READ	 65536
#define RELAY_BENCH_NET_MAX_HEAD (64 * 1024)

typedef enum {
	RELAY_BENCH_SOURCE_LISTENER,
	RELAY_BENCH_SOURCE_SERVER,
	RELAY_BENCH_SOURCE_CLIENT,
} RelayBenchSourceKind;

/* server connections kept alive at most, all listeners */
#define RELAY_BENCH_KEPT_CONNECTIONS 4096

/* the first member of everything registered with epoll */
typedef struct {
	RelayBenchSourceKind kind;
	gint fd;
	gboolean closed;
	guint32 events;
} RelayBenchSource;

struct _RelayBenchNet {
	gint epoll_fd;
	guint watch_id;
	RelayBenchServeFunc serve;
	gpointer user_data;
	GPtrArray *listeners; /* (element-type RelayBenchListener) */
	GHashTable *conns;    /* (element-type RelayBenchConn): server connections */
	GHashTable *held;     /* (element-type RelayBenchConn): holding a request */
	GHashTable *clients;  /* (element-type RelayBenchClient) */
	GPtrArray *dead;      /* (element-type RelayBenchSource): closed, freed after dispatch */
	guint busy;	      /* dispatching events or releasing: frees wait */
	guint64 accepted;
	gboolean accept_warned;
	guint8 *scratch;
};

typedef struct {
	RelayBenchSource source;
	gpointer data;
} RelayBenchListener;

struct _RelayBenchConn {
	RelayBenchSource source;
	RelayBenchNet *net;
	gpointer listener_data;
	GByteArray *in;
	GByteArray *out;
	gsize out_offset;
	gboolean held;
	gboolean answered;
	gboolean close_after;
};

typedef struct {
	GBytes *bytes;
	gpointer tag;
	gint64 started_us;
	guint attempts;
} RelayBenchClientRequest;

typedef struct {
	RelayBenchSource source;
	RelayBenchClient *client;
	gboolean connecting;
	gint connect_errno;
	gboolean reused;
	RelayBenchClientRequest *request; /* (nullable): in flight */
	gsize written;
	GByteArray *in;
} RelayBenchClientConn;

struct _RelayBenchClient {
	RelayBenchNet *net;
	gchar *address;
	guint16 port;
	gchar *source_address;
	guint max_connections;
	GQueue pending;		/* (element-type RelayBenchClientRequest) */
	GPtrArray *connections; /* (element-type RelayBenchClientConn) */
	RelayBenchResponseFunc func;
	gpointer user_data;
};

/* sockets */

static void
relay_bench_source_watch(RelayBenchNet *self, RelayBenchSource *source, guint32 events)
{
	struct epoll_event event = {.events = events, .data.ptr = source};

	if (source->closed || source->events == events)
		return;
	if (epoll_ctl(self->epoll_fd,
		      source->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD,
		      source->fd,
		      &event) != 0)
		g_warning("epoll_ctl: %s", g_strerror(errno));
	source->events = events;
}

static void
relay_bench_source_close(RelayBenchNet *self, RelayBenchSource *source)
{
	if (source->closed)
		return;
	source->closed = TRUE;
	if (source->fd >= 0) {
		epoll_ctl(self->epoll_fd, EPOLL_CTL_DEL, source->fd, NULL);
		close(source->fd);
		source->fd = -1;
	}
	g_ptr_array_add(self->dead, source);
}

static void
relay_bench_request_free(RelayBenchClientRequest *request)
{
	g_bytes_unref(request->bytes);
	g_free(request);
}

static void
relay_bench_source_free(RelayBenchSource *source)
{
	if (source->kind == RELAY_BENCH_SOURCE_SERVER) {
		RelayBenchConn *conn = (RelayBenchConn *)source;
		g_byte_array_unref(conn->in);
		g_byte_array_unref(conn->out);
	} else if (source->kind == RELAY_BENCH_SOURCE_CLIENT) {
		RelayBenchClientConn *conn = (RelayBenchClientConn *)source;
		g_clear_pointer(&conn->request, relay_bench_request_free);
		g_byte_array_unref(conn->in);
	}
	g_free(source);
}

/* frees what was closed, unless a dispatch is walking its events */
static void
relay_bench_net_reap(RelayBenchNet *self)
{
	if (self->busy > 0)
		return;
	for (guint i = 0; i < self->dead->len; i++)
		relay_bench_source_free(g_ptr_array_index(self->dead, i));
	g_ptr_array_set_size(self->dead, 0);
}

/* reads what is there into @buffer; FALSE at the end of the stream or on an error */
static gboolean
relay_bench_read_into(RelayBenchNet *self, gint fd, GByteArray *buffer)
{
	for (;;) {
		gssize n = read(fd, self->scratch, RELAY_BENCH_NET_READ);
		if (n > 0) {
			g_byte_array_append(buffer, self->scratch, (guint)n);
			if (n < RELAY_BENCH_NET_READ)
				return TRUE;
			continue;
		}
		if (n == 0)
			return FALSE;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK;
	}
}

static const gchar *
relay_bench_reason(guint status)
{
	switch (status) {
	case 200:
		return "OK";
	case 202:
		return "Accepted";
	case 404:
		return "Not Found";
	case 411:
		return "Length Required";
	case 503:
		return "Service Unavailable";
	default:
		return "Status";
	}
}

/* HTTP heads */

typedef struct {
	gsize head_len; /* up to and with the empty line */
	gsize line_len; /* the first line, without CRLF */
	const gchar *headers;
	gsize headers_len;
	gssize content_length; /* -1 when absent */
	gboolean chunked;
	gboolean close;
} RelayBenchHead;

static gboolean
relay_bench_header_is(const gchar *line, gsize len, const gchar *name, const gchar **out_value)
{
	gsize name_len = strlen(name);

	if (len <= name_len || line[name_len] != ':' ||
	    g_ascii_strncasecmp(line, name, name_len) != 0)
		return FALSE;
	*out_value = line + name_len + 1;
	while (*out_value < line + len && (**out_value == ' ' || **out_value == '\t'))
		(*out_value)++;
	return TRUE;
}

/* FALSE while the head is incomplete; @data is not NUL-terminated: only memmem() here */
static gboolean
relay_bench_head_parse(const guint8 *data, gsize len, RelayBenchHead *head)
{
	const gchar *text = (const gchar *)data;
	const gchar *end = memmem(text, MIN(len, RELAY_BENCH_NET_MAX_HEAD), "\r\n\r\n", 4);
	const gchar *line_end;
	const gchar *p;

	memset(head, 0, sizeof(*head));
	head->content_length = -1;
	if (end == NULL)
		return FALSE;
	head->head_len = (gsize)(end - text) + 4;
	/* the first CRLF is at @end at the latest, and so is every header's */
	line_end = memmem(text, head->head_len, "\r\n", 2);
	head->line_len = (gsize)(line_end - text);
	head->headers = line_end + 2;
	head->headers_len = (gsize)(end + 2 - head->headers);
	for (p = head->headers; p < end;) {
		const gchar *next = memmem(p, (gsize)(end + 2 - p), "\r\n", 2);
		gsize line_len = (gsize)(next - p);
		const gchar *value;

		if (relay_bench_header_is(p, line_len, "content-length", &value))
			head->content_length = (gssize)g_ascii_strtoull(value, NULL, 10);
		else if (relay_bench_header_is(p, line_len, "transfer-encoding", &value))
			head->chunked = g_ascii_strncasecmp(value, "chunked", 7) == 0;
		else if (relay_bench_header_is(p, line_len, "connection", &value))
			head->close = g_ascii_strncasecmp(value, "close", 5) == 0;
		p = next + 2;
	}
	return TRUE;
}

/* the members of a set, which may change while they are walked */
static GPtrArray *
relay_bench_set_items(GHashTable *set)
{
	GPtrArray *items = g_ptr_array_sized_new(g_hash_table_size(set));
	GHashTableIter iter;
	gpointer key;

	g_hash_table_iter_init(&iter, set);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		g_ptr_array_add(items, key);
	return items;
}

/* server side */

static void
relay_bench_conn_process(RelayBenchConn *conn);

static void
relay_bench_conn_flush(RelayBenchConn *conn)
{
	RelayBenchNet *self = conn->net;

	while (!conn->source.closed && conn->out_offset < conn->out->len) {
		gssize n = write(conn->source.fd,
				 conn->out->data + conn->out_offset,
				 conn->out->len - conn->out_offset);
		if (n > 0) {
			conn->out_offset += (gsize)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			relay_bench_source_watch(self, &conn->source, EPOLLIN | EPOLLOUT);
			return;
		}
		g_hash_table_remove(self->conns, conn);
		g_hash_table_remove(self->held, conn);
		relay_bench_source_close(self, &conn->source);
		return;
	}
	if (conn->source.closed)
		return;
	g_byte_array_set_size(conn->out, 0);
	conn->out_offset = 0;
	relay_bench_source_watch(self, &conn->source, EPOLLIN);
	if (conn->close_after) {
		g_hash_table_remove(self->conns, conn);
		g_hash_table_remove(self->held, conn);
		relay_bench_source_close(self, &conn->source);
	}
}

/**
 * relay_bench_conn_respond:
 * @close: close the connection once the answer is written
 *
 * Answers the request being served (or held).
 */
void
relay_bench_conn_respond(RelayBenchConn *conn,
			 guint status,
			 const gchar *content_type,
			 const gchar *body,
			 gsize body_len,
			 gboolean close)
{
	g_autofree gchar *head = NULL;

	conn->answered = TRUE;
	if (conn->source.closed)
		return;
	/* a server keeps only so many idle connections: past that it closes each after its answer,
	 * as real servers do (the relay keeps one to each of 10,000 members otherwise, and the
	 * listeners and those connections would take every file descriptor of the bench) */
	if (close || g_hash_table_size(conn->net->conns) > RELAY_BENCH_KEPT_CONNECTIONS)
		conn->close_after = TRUE;
	head = g_strdup_printf("HTTP/1.1 %u %s\r\nContent-Length: %" G_GSIZE_FORMAT
			       "\r\n%s%s%s%s\r\n",
			       status,
			       relay_bench_reason(status),
			       body_len,
			       content_type != NULL ? "Content-Type: " : "",
			       content_type != NULL ? content_type : "",
			       content_type != NULL ? "\r\n" : "",
			       conn->close_after ? "Connection: close\r\n" : "");
	g_byte_array_append(conn->out, (const guint8 *)head, (guint)strlen(head));
	if (body_len > 0)
		g_byte_array_append(conn->out, (const guint8 *)body, (guint)body_len);
	relay_bench_conn_flush(conn);
}

static void
relay_bench_conn_close(RelayBenchConn *conn)
{
	g_hash_table_remove(conn->net->conns, conn);
	g_hash_table_remove(conn->net->held, conn);
	relay_bench_source_close(conn->net, &conn->source);
}

/* serves every complete request buffered, until one is held */
static void
relay_bench_conn_process(RelayBenchConn *conn)
{
	RelayBenchNet *self = conn->net;

	while (!conn->source.closed && !conn->held) {
		RelayBenchHead head;
		RelayBenchRequest request = {0};
		g_auto(GStrv) words = NULL;
		g_autofree gchar *line = NULL;
		gsize total;

		if (!relay_bench_head_parse(conn->in->data, conn->in->len, &head)) {
			if (conn->in->len > RELAY_BENCH_NET_MAX_HEAD)
				relay_bench_conn_close(conn);
			return;
		}
		if (head.chunked) {
			relay_bench_conn_respond(conn, 411, NULL, NULL, 0, TRUE);
			return;
		}
		total = head.head_len + (gsize)MAX(head.content_length, 0);
		if (conn->in->len < total)
			return;
		line = g_strndup((const gchar *)conn->in->data, head.line_len);
		words = g_strsplit(line, " ", 3);
		if (g_strv_length(words) != 3) {
			relay_bench_conn_close(conn);
			return;
		}
		request.method = words[0];
		request.path = words[1];
		request.headers = head.headers;
		request.headers_len = head.headers_len;
		request.body = conn->in->data + head.head_len;
		request.body_len = (gsize)MAX(head.content_length, 0);
		conn->answered = FALSE;
		conn->close_after = head.close;
		self->serve(conn, &request, conn->listener_data, self->user_data);
		g_byte_array_remove_range(conn->in, 0, (guint)total);
		if (!conn->answered && !conn->source.closed) {
			conn->held = TRUE;
			g_hash_table_add(self->held, conn);
		}
	}
}

static void
relay_bench_conn_readable(RelayBenchConn *conn)
{
	if (!relay_bench_read_into(conn->net, conn->source.fd, conn->in)) {
		relay_bench_conn_close(conn);
		return;
	}
	relay_bench_conn_process(conn);
}

static void
relay_bench_listener_accept(RelayBenchNet *self, RelayBenchListener *listener)
{
	for (;;) {
		gint one = 1;
		RelayBenchConn *conn;
		gint fd = accept4(listener->source.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK && !self->accept_warned) {
				/* once: the listener stays readable, so this comes back at once */
				g_warning("accept: %s", g_strerror(errno));
				self->accept_warned = TRUE;
			}
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		self->accepted++;
		conn = g_new0(RelayBenchConn, 1);
		conn->source.kind = RELAY_BENCH_SOURCE_SERVER;
		conn->source.fd = fd;
		conn->net = self;
		conn->listener_data = listener->data;
		conn->in = g_byte_array_new();
		conn->out = g_byte_array_new();
		g_hash_table_add(self->conns, conn);
		relay_bench_source_watch(self, &conn->source, EPOLLIN);
	}
}

/**
 * relay_bench_net_listen:
 * @listener_data: given to the serve function with every request of this address
 *
 * Listens on @address:@port with a large backlog.
 */
gboolean
relay_bench_net_listen(RelayBenchNet *self,
		       const gchar *address,
		       guint16 port,
		       gpointer listener_data,
		       GError **error)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	RelayBenchListener *listener;
	gint one = 1;
	gint fd;

	if (inet_pton(AF_INET, address, &sin.sin_addr) != 1) {
		g_set_error(
			error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "bad address %s", address);
		return FALSE;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "socket: %s",
			    g_strerror(errno));
		return FALSE;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(fd, RELAY_BENCH_NET_BACKLOG) != 0) {
		gint saved = errno;
		close(fd);
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(saved),
			    "listening on %s:%u: %s",
			    address,
			    port,
			    g_strerror(saved));
		return FALSE;
	}
	listener = g_new0(RelayBenchListener, 1);
	listener->source.kind = RELAY_BENCH_SOURCE_LISTENER;
	listener->source.fd = fd;
	listener->data = listener_data;
	g_ptr_array_add(self->listeners, listener);
	relay_bench_source_watch(self, &listener->source, EPOLLIN);
	return TRUE;
}

/**
 * relay_bench_net_get_accepted:
 *
 * Returns: how many connections the listeners accepted so far
 */
guint64
relay_bench_net_get_accepted(RelayBenchNet *self)
{
	return self->accepted;
}

/**
 * relay_bench_net_get_held:
 *
 * Returns: how many requests are held
 */
guint
relay_bench_net_get_held(RelayBenchNet *self)
{
	return g_hash_table_size(self->held);
}

/**
 * relay_bench_net_release:
 * @status: the answer to every held request
 *
 * Returns: how many were released
 */
guint
relay_bench_net_release(RelayBenchNet *self, guint status)
{
	g_autoptr(GPtrArray) held = relay_bench_set_items(self->held);

	g_hash_table_remove_all(self->held);
	self->busy++;
	for (guint i = 0; i < held->len; i++) {
		RelayBenchConn *conn = g_ptr_array_index(held, i);
		conn->held = FALSE;
		relay_bench_conn_respond(conn, status, NULL, NULL, 0, FALSE);
		relay_bench_conn_process(conn);
	}
	self->busy--;
	relay_bench_net_reap(self);
	return held->len;
}

/* client side */

static void
relay_bench_client_pump(RelayBenchClient *self);

static void
relay_bench_client_conn_close(RelayBenchClientConn *conn)
{
	g_ptr_array_remove_fast(conn->client->connections, conn);
	relay_bench_source_close(conn->client->net, &conn->source);
}

/* the connection failed: its request goes again once if the connection had served before (the
 * server closed it while idle), else it fails */
static void
relay_bench_client_conn_fail(RelayBenchClientConn *conn)
{
	RelayBenchClient *self = conn->client;
	RelayBenchClientRequest *request = g_steal_pointer(&conn->request);
	gboolean retry =
		request != NULL && conn->reused && conn->in->len == 0 && request->attempts == 0;

	relay_bench_client_conn_close(conn);
	if (request != NULL && retry) {
		request->attempts++;
		g_queue_push_head(&self->pending, request);
	} else if (request != NULL) {
		self->func(self,
			   0,
			   NULL,
			   0,
			   g_get_monotonic_time() - request->started_us,
			   request->tag,
			   self->user_data);
		relay_bench_request_free(request);
	}
	relay_bench_client_pump(self);
}

static void
relay_bench_client_conn_write(RelayBenchClientConn *conn)
{
	RelayBenchNet *net = conn->client->net;
	gsize size;
	const guint8 *data;

	if (conn->request == NULL || conn->connecting)
		return;
	data = g_bytes_get_data(conn->request->bytes, &size);
	while (conn->written < size) {
		gssize n = write(conn->source.fd, data + conn->written, size - conn->written);
		if (n > 0) {
			conn->written += (gsize)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			relay_bench_source_watch(net, &conn->source, EPOLLIN | EPOLLOUT);
			return;
		}
		relay_bench_client_conn_fail(conn);
		return;
	}
	relay_bench_source_watch(net, &conn->source, EPOLLIN);
}

/* the end of a chunked body: its length in @body, or -1 while incomplete */
static gssize
relay_bench_chunked_end(const guint8 *data, gsize len, GByteArray *body)
{
	gsize at = 0;

	g_byte_array_set_size(body, 0);
	for (;;) {
		const gchar *line = (const gchar *)data + at;
		const gchar *end = memmem(line, len - at, "\r\n", 2);
		guint64 size;

		if (end == NULL)
			return -1;
		size = g_ascii_strtoull(line, NULL, 16);
		at += (gsize)(end - line) + 2;
		if (size == 0)
			return len - at >= 2 ? (gssize)(at + 2) : -1;
		if (len - at < size + 2)
			return -1;
		g_byte_array_append(body, data + at, (guint)size);
		at += size + 2;
	}
}

static void
relay_bench_client_conn_readable(RelayBenchClientConn *conn)
{
	RelayBenchClient *self = conn->client;
	RelayBenchHead head;
	g_autoptr(GByteArray) chunked = NULL;
	RelayBenchClientRequest *request;
	const guint8 *body;
	gsize body_len;
	gsize total;
	guint status;
	gboolean open = relay_bench_read_into(self->net, conn->source.fd, conn->in);

	if (conn->request == NULL) {
		/* an idle connection the server closed, or an answer nobody asked for */
		if (!open || conn->in->len > 0)
			relay_bench_client_conn_close(conn);
		return;
	}
	if (!relay_bench_head_parse(conn->in->data, conn->in->len, &head)) {
		if (!open)
			relay_bench_client_conn_fail(conn);
		return;
	}
	body = conn->in->data + head.head_len;
	if (head.chunked) {
		gssize end;
		chunked = g_byte_array_new();
		end = relay_bench_chunked_end(body, conn->in->len - head.head_len, chunked);
		if (end < 0) {
			if (!open)
				relay_bench_client_conn_fail(conn);
			return;
		}
		total = head.head_len + (gsize)end;
		body = chunked->data;
		body_len = chunked->len;
	} else {
		body_len = (gsize)MAX(head.content_length, 0);
		total = head.head_len + body_len;
		if (conn->in->len < total) {
			if (!open)
				relay_bench_client_conn_fail(conn);
			return;
		}
	}
	status = head.line_len >= 12
			 ? (guint)g_ascii_strtoull((const gchar *)conn->in->data + 9, NULL, 10)
			 : 0;
	request = g_steal_pointer(&conn->request);
	conn->reused = TRUE;
	self->func(self,
		   status,
		   body,
		   body_len,
		   g_get_monotonic_time() - request->started_us,
		   request->tag,
		   self->user_data);
	relay_bench_request_free(request);
	g_byte_array_remove_range(conn->in, 0, (guint)total);
	if (head.close || !open || conn->in->len > 0)
		relay_bench_client_conn_close(conn);
	relay_bench_client_pump(self);
}

static void
relay_bench_client_conn_connected(RelayBenchClientConn *conn, guint32 events)
{
	gint error = conn->connect_errno;
	socklen_t len = sizeof(error);

	if (error == 0 && getsockopt(conn->source.fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0)
		error = errno;
	if (error == 0 && (events & (EPOLLERR | EPOLLHUP)) != 0)
		error = ECONNRESET;
	if (error != 0) {
		relay_bench_client_conn_fail(conn);
		return;
	}
	conn->connecting = FALSE;
	relay_bench_source_watch(conn->client->net, &conn->source, EPOLLIN);
	relay_bench_client_conn_write(conn);
}

static RelayBenchClientConn *
relay_bench_client_conn_new(RelayBenchClient *self)
{
	RelayBenchClientConn *conn = g_new0(RelayBenchClientConn, 1);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(self->port)};
	gint one = 1;

	conn->source.kind = RELAY_BENCH_SOURCE_CLIENT;
	conn->client = self;
	conn->in = g_byte_array_new();
	conn->connecting = TRUE;
	conn->source.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	g_ptr_array_add(self->connections, conn);
	if (conn->source.fd < 0) {
		/* reported like a refused connection, from the dispatch */
		g_warning("socket: %s", g_strerror(errno));
		conn->source.fd = -1;
		conn->connect_errno = errno;
		return conn;
	}
	setsockopt(conn->source.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (self->source_address != NULL) {
		struct sockaddr_in local = {.sin_family = AF_INET};
		inet_pton(AF_INET, self->source_address, &local.sin_addr);
		if (bind(conn->source.fd, (struct sockaddr *)&local, sizeof(local)) != 0)
			conn->connect_errno = errno;
	}
	inet_pton(AF_INET, self->address, &sin.sin_addr);
	if (conn->connect_errno == 0 &&
	    connect(conn->source.fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 &&
	    errno != EINPROGRESS)
		conn->connect_errno = errno;
	/* even a failed connect is reported through epoll (HUP), never from here */
	relay_bench_source_watch(self->net, &conn->source, EPOLLIN | EPOLLOUT);
	return conn;
}

static void
relay_bench_client_pump(RelayBenchClient *self)
{
	for (guint i = 0; i < self->connections->len && !g_queue_is_empty(&self->pending); i++) {
		RelayBenchClientConn *conn = g_ptr_array_index(self->connections, i);
		if (conn->request != NULL || conn->source.closed)
			continue;
		conn->request = g_queue_pop_head(&self->pending);
		conn->written = 0;
		relay_bench_client_conn_write(conn);
	}
	while (!g_queue_is_empty(&self->pending) &&
	       self->connections->len < self->max_connections) {
		RelayBenchClientConn *conn = relay_bench_client_conn_new(self);
		conn->request = g_queue_pop_head(&self->pending);
		conn->written = 0;
		if (conn->source.fd < 0)
			relay_bench_client_conn_fail(conn);
	}
}

/**
 * relay_bench_client_new:
 * @source_address: (nullable): the local address connections come from
 * @max_connections: how many requests are in flight at most, each on its connection
 * @func: called with every answer or failure; it may submit, never free the client
 *
 * Returns: (transfer full): a client of @address:@port
 */
RelayBenchClient *
relay_bench_client_new(RelayBenchNet *net,
		       const gchar *address,
		       guint16 port,
		       const gchar *source_address,
		       guint max_connections,
		       RelayBenchResponseFunc func,
		       gpointer user_data)
{
	RelayBenchClient *self = g_new0(RelayBenchClient, 1);

	self->net = net;
	self->address = g_strdup(address);
	self->port = port;
	self->source_address = g_strdup(source_address);
	self->max_connections = MAX(max_connections, 1);
	self->func = func;
	self->user_data = user_data;
	self->connections = g_ptr_array_new();
	g_queue_init(&self->pending);
	g_hash_table_add(net->clients, self);
	return self;
}

/**
 * relay_bench_client_submit:
 * @request: the whole request as written on the wire
 * @tag: given back with its answer
 */
void
relay_bench_client_submit(RelayBenchClient *self, GBytes *request, gpointer tag)
{
	RelayBenchClientRequest *item = g_new0(RelayBenchClientRequest, 1);

	item->bytes = g_bytes_ref(request);
	item->tag = tag;
	item->started_us = g_get_monotonic_time();
	g_queue_push_tail(&self->pending, item);
	relay_bench_client_pump(self);
	relay_bench_net_reap(self->net);
}

/**
 * relay_bench_client_get_pending:
 *
 * Returns: the requests queued or in flight
 */
guint
relay_bench_client_get_pending(RelayBenchClient *self)
{
	guint count = g_queue_get_length(&self->pending);

	for (guint i = 0; i < self->connections->len; i++) {
		RelayBenchClientConn *conn = g_ptr_array_index(self->connections, i);
		if (conn->request != NULL)
			count++;
	}
	return count;
}

/* closes every connection and drops what is pending, without calling back */
void
relay_bench_client_free(RelayBenchClient *self)
{
	RelayBenchNet *net = self->net;

	while (self->connections->len > 0)
		relay_bench_client_conn_close(g_ptr_array_index(self->connections, 0));
	g_queue_clear_full(&self->pending, (GDestroyNotify)relay_bench_request_free);
	g_hash_table_remove(net->clients, self);
	g_ptr_array_unref(self->connections);
	g_free(self->address);
	g_free(self->source_address);
	g_free(self);
	relay_bench_net_reap(net);
}

/* dispatch */

static void
relay_bench_net_event(RelayBenchNet *self, RelayBenchSource *source, guint32 events)
{
	switch (source->kind) {
	case RELAY_BENCH_SOURCE_LISTENER:
		relay_bench_listener_accept(self, (RelayBenchListener *)source);
		break;
	case RELAY_BENCH_SOURCE_SERVER: {
		RelayBenchConn *conn = (RelayBenchConn *)source;
		if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0)
			relay_bench_conn_readable(conn);
		if (!source->closed && (events & EPOLLOUT) != 0)
			relay_bench_conn_flush(conn);
		break;
	}
	case RELAY_BENCH_SOURCE_CLIENT: {
		RelayBenchClientConn *conn = (RelayBenchClientConn *)source;
		if (conn->connecting) {
			relay_bench_client_conn_connected(conn, events);
			break;
		}
		if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0)
			relay_bench_client_conn_readable(conn);
		if (!source->closed && (events & EPOLLOUT) != 0)
			relay_bench_client_conn_write(conn);
		break;
	}
	}
}

static gboolean
relay_bench_net_dispatch_cb(gint fd, GIOCondition condition, gpointer user_data)
{
	RelayBenchNet *self = user_data;
	struct epoll_event events[RELAY_BENCH_NET_EVENTS];
	gint n = epoll_wait(self->epoll_fd, events, RELAY_BENCH_NET_EVENTS, 0);

	self->busy++;
	for (gint i = 0; i < n; i++) {
		RelayBenchSource *source = events[i].data.ptr;
		if (!source->closed)
			relay_bench_net_event(self, source, events[i].events);
	}
	self->busy--;
	relay_bench_net_reap(self);
	return G_SOURCE_CONTINUE;
}

/**
 * relay_bench_net_new:
 * @serve: answers every request received on the addresses listened to
 *
 * Returns: (transfer full) (nullable): an epoll instance watched by the thread-default
 * main context
 */
RelayBenchNet *
relay_bench_net_new(RelayBenchServeFunc serve, gpointer user_data, GError **error)
{
	RelayBenchNet *self;
	gint fd = epoll_create1(EPOLL_CLOEXEC);

	if (fd < 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "epoll_create1: %s",
			    g_strerror(errno));
		return NULL;
	}
	self = g_new0(RelayBenchNet, 1);
	self->epoll_fd = fd;
	self->serve = serve;
	self->user_data = user_data;
	self->listeners = g_ptr_array_new();
	self->conns = g_hash_table_new(NULL, NULL);
	self->held = g_hash_table_new(NULL, NULL);
	self->clients = g_hash_table_new(NULL, NULL);
	self->dead = g_ptr_array_new();
	self->scratch = g_malloc(RELAY_BENCH_NET_READ);
	self->watch_id = g_unix_fd_add(fd, G_IO_IN, relay_bench_net_dispatch_cb, self);
	return self;
}

/* closes every socket; the clients must have been freed */
void
relay_bench_net_free(RelayBenchNet *self)
{
	g_autoptr(GPtrArray) conns = NULL;

	g_return_if_fail(g_hash_table_size(self->clients) == 0);
	g_clear_handle_id(&self->watch_id, g_source_remove);
	conns = relay_bench_set_items(self->conns);
	for (guint i = 0; i < conns->len; i++)
		relay_bench_conn_close(g_ptr_array_index(conns, i));
	for (guint i = 0; i < self->listeners->len; i++)
		relay_bench_source_close(self, g_ptr_array_index(self->listeners, i));
	relay_bench_net_reap(self);
	close(self->epoll_fd);
	g_ptr_array_unref(self->listeners);
	g_hash_table_unref(self->conns);
	g_hash_table_unref(self->held);
	g_hash_table_unref(self->clients);
	g_ptr_array_unref(self->dead);
	g_free(self->scratch);
	g_free(self);
}
