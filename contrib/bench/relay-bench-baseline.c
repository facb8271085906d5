/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * Baselines measured in the same run as the figures, so that each figure is a ratio that holds
 * from one machine to another: the rate of a libsoup server that does nothing (what the relay's
 * HTTP stack allows at best), and the RSA-2048 signing rate of every core (what deliveries cost
 * at least: each one is signed).
 */

#include "config.h"

#include <libsoup/soup.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "relay-bench-baseline.h"
#include "relay-keys.h"

#define RELAY_BENCH_TRIVIAL_BACKLOG 4096

struct _RelayBenchTrivialServer {
	GThread *thread;
	GMainContext *context;
	GMainLoop *loop;
	GMutex mutex;
	GCond cond;
	gboolean ready;
	guint16 port;
	GError *error;
	gint requests;
};

static void
relay_bench_trivial_cb(SoupServer *server,
		       SoupServerMessage *msg,
		       const char *path,
		       GHashTable *query,
		       gpointer user_data)
{
	RelayBenchTrivialServer *self = user_data;

	g_atomic_int_inc(&self->requests);
	soup_server_message_set_status(msg, SOUP_STATUS_ACCEPTED, NULL);
}

static GSocket *
relay_bench_trivial_socket(GError **error)
{
	g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, 0);
	g_autoptr(GSocket) socket = g_socket_new(
		G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);

	if (socket == NULL || !g_socket_bind(socket, address, TRUE, error))
		return NULL;
	g_socket_set_listen_backlog(socket, RELAY_BENCH_TRIVIAL_BACKLOG);
	if (!g_socket_listen(socket, error))
		return NULL;
	return g_steal_pointer(&socket);
}

static gpointer
relay_bench_trivial_thread(gpointer data)
{
	RelayBenchTrivialServer *self = data;
	g_autoptr(SoupServer) server = NULL;
	g_autoptr(GSocket) socket = NULL;
	g_autoptr(GSocketAddress) local = NULL;
	g_autoptr(GError) error = NULL;

	g_main_context_push_thread_default(self->context);
	server = soup_server_new(NULL, NULL);
	soup_server_add_handler(server, NULL, relay_bench_trivial_cb, self, NULL);
	socket = relay_bench_trivial_socket(&error);
	if (socket != NULL && soup_server_listen_socket(server, socket, 0, &error))
		local = g_socket_get_local_address(socket, &error);
	g_mutex_lock(&self->mutex);
	if (local != NULL)
		self->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
	else
		self->error = g_steal_pointer(&error);
	self->ready = TRUE;
	g_cond_signal(&self->cond);
	g_mutex_unlock(&self->mutex);
	if (local != NULL)
		g_main_loop_run(self->loop);
	soup_server_disconnect(server);
	g_clear_object(&server);
	while (g_main_context_iteration(self->context, FALSE))
		;
	g_main_context_pop_thread_default(self->context);
	return NULL;
}

/**
 * relay_bench_trivial_server_new:
 *
 * Returns: (transfer full) (nullable): a server listening on 127.0.0.1 and a free port
 */
RelayBenchTrivialServer *
relay_bench_trivial_server_new(GError **error)
{
	g_autoptr(RelayBenchTrivialServer) self = g_new0(RelayBenchTrivialServer, 1);

	g_mutex_init(&self->mutex);
	g_cond_init(&self->cond);
	self->context = g_main_context_new();
	self->loop = g_main_loop_new(self->context, FALSE);
	self->thread = g_thread_new("bench-trivial", relay_bench_trivial_thread, self);
	g_mutex_lock(&self->mutex);
	while (!self->ready)
		g_cond_wait(&self->cond, &self->mutex);
	g_mutex_unlock(&self->mutex);
	if (self->error != NULL) {
		g_propagate_error(error, g_steal_pointer(&self->error));
		return NULL;
	}
	return g_steal_pointer(&self);
}

guint16
relay_bench_trivial_server_get_port(RelayBenchTrivialServer *self)
{
	return self->port;
}

guint64
relay_bench_trivial_server_get_requests(RelayBenchTrivialServer *self)
{
	return (guint64)g_atomic_int_get(&self->requests);
}

static gboolean
relay_bench_trivial_quit_cb(gpointer user_data)
{
	g_main_loop_quit(user_data);
	return G_SOURCE_REMOVE;
}

void
relay_bench_trivial_server_free(RelayBenchTrivialServer *self)
{
	if (self->thread != NULL) {
		g_main_context_invoke(self->context, relay_bench_trivial_quit_cb, self->loop);
		g_thread_join(self->thread);
	}
	g_main_loop_unref(self->loop);
	g_main_context_unref(self->context);
	g_clear_error(&self->error);
	g_mutex_clear(&self->mutex);
	g_cond_clear(&self->cond);
	g_free(self);
}

/* RSA signing rate */

typedef struct {
	EVP_PKEY *key;
	gint64 deadline_us;
	gint started; /* threads at the line */
	gint threads;
	gint signatures; /* every thread's, added at the end */
	gint failed;
} RelayBenchSignRace;

static gpointer
relay_bench_sign_race_thread(gpointer data)
{
	RelayBenchSignRace *race = data;
	/* what a delivery signs: a draft-cavage signing string of about 300 bytes */
	static const gchar message[] =
		"(request-target): post /inbox\nhost: 127.10.0.1:40000\n"
		"date: Tue, 01 Dec 2026 10:00:00 GMT\n"
		"digest: SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
		"content-type: application/activity+json\n"
		"user-agent: relay/0.1.0 (+http://127.0.0.1:8080/)";
	guint8 signature[512];
	gint count = 0;

	/* start together, so the rate is that of every core busy at once */
	g_atomic_int_inc(&race->started);
	while (g_atomic_int_get(&race->started) < race->threads)
		g_thread_yield();
	while (g_get_monotonic_time() < race->deadline_us) {
		g_autoptr(EVP_MD_CTX) context = EVP_MD_CTX_new();
		gsize length = sizeof(signature);
		if (context == NULL ||
		    EVP_DigestSignInit(context, NULL, EVP_sha256(), NULL, race->key) != 1 ||
		    EVP_DigestSign(context,
				   signature,
				   &length,
				   (const guint8 *)message,
				   sizeof(message) - 1) != 1) {
			g_atomic_int_set(&race->failed, 1);
			break;
		}
		count++;
	}
	g_atomic_int_add(&race->signatures, count);
	return NULL;
}

/**
 * relay_bench_rsa_sign_rate:
 *
 * Returns: signatures per second, all threads together; 0 on error
 */
gdouble
relay_bench_rsa_sign_rate(guint threads, gdouble seconds, GError **error)
{
	g_autoptr(EVP_PKEY) key = relay_keys_generate_rsa(2048, error);
	g_autoptr(GPtrArray) workers = g_ptr_array_new();
	RelayBenchSignRace race = {0};
	gint64 started_us;

	if (key == NULL)
		return 0;
	race.key = key;
	race.threads = (gint)MAX(threads, 1);
	started_us = g_get_monotonic_time();
	race.deadline_us = started_us + (gint64)(seconds * G_USEC_PER_SEC);
	for (gint i = 0; i < race.threads; i++)
		g_ptr_array_add(workers,
				g_thread_new("bench-rsa", relay_bench_sign_race_thread, &race));
	for (guint i = 0; i < workers->len; i++)
		g_thread_join(g_ptr_array_index(workers, i));
	if (race.failed) {
		g_autofree gchar *detail = relay_keys_openssl_errors();
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "RSA signing: %s", detail);
		return 0;
	}
	return (gdouble)race.signatures /
	       ((gdouble)(g_get_monotonic_time() - started_us) / G_USEC_PER_SEC);
}
