/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * A minimal HTTP/1.1 server and client on one epoll instance, dispatched from the GLib main
 * context. The bench's sinks listen on thousands of loopback addresses and take thousands of
 * deliveries a second: GLib's poll()-based loop walks every descriptor at each iteration, epoll
 * only the ready ones, so the bench leaves the CPU to the relay it measures.
 */
typedef struct _RelayBenchNet RelayBenchNet;
typedef struct _RelayBenchConn RelayBenchConn;
typedef struct _RelayBenchClient RelayBenchClient;

/* a request received; every pointer is valid during the callback only */
typedef struct {
	const gchar *method;
	const gchar *path;
	const gchar *headers; /* the header lines, "Name: value\r\n" each */
	gsize headers_len;
	const guint8 *body;
	gsize body_len;
} RelayBenchRequest;

/* answers with relay_bench_conn_respond() before returning, or returns without answering to
 * hold the request: the connection then reads nothing more until relay_bench_net_release() */
typedef void (*RelayBenchServeFunc)(RelayBenchConn *conn,
				    const RelayBenchRequest *request,
				    gpointer listener_data,
				    gpointer user_data);

/* @status is 0 when the request failed without an answer */
typedef void (*RelayBenchResponseFunc)(RelayBenchClient *client,
				       guint status,
				       const guint8 *body,
				       gsize body_len,
				       gint64 latency_us,
				       gpointer tag,
				       gpointer user_data);

RelayBenchNet *
relay_bench_net_new(RelayBenchServeFunc serve, gpointer user_data, GError **error);
void
relay_bench_net_free(RelayBenchNet *self);
gboolean
relay_bench_net_listen(RelayBenchNet *self,
		       const gchar *address,
		       guint16 port,
		       gpointer listener_data,
		       GError **error);
guint64
relay_bench_net_get_accepted(RelayBenchNet *self);
guint
relay_bench_net_get_held(RelayBenchNet *self);
guint
relay_bench_net_release(RelayBenchNet *self, guint status);

void
relay_bench_conn_respond(RelayBenchConn *conn,
			 guint status,
			 const gchar *content_type,
			 const gchar *body,
			 gsize body_len,
			 gboolean close);

RelayBenchClient *
relay_bench_client_new(RelayBenchNet *net,
		       const gchar *address,
		       guint16 port,
		       const gchar *source_address,
		       guint max_connections,
		       RelayBenchResponseFunc func,
		       gpointer user_data);
void
relay_bench_client_free(RelayBenchClient *self);
void
relay_bench_client_submit(RelayBenchClient *self, GBytes *request, gpointer tag);
guint
relay_bench_client_get_pending(RelayBenchClient *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayBenchNet, relay_bench_net_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayBenchClient, relay_bench_client_free)

G_END_DECLS
