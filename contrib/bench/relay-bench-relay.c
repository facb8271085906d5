/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#include "config.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "relay-bench-relay.h"
#include "relay-bench-util.h"
#include "relay-keys.h"

#define RELAY_BENCH_RELAY_POLL_MS 5

struct _RelayBenchRelay {
	gchar *binary;
	gchar *dir;
	gchar *config_path;
	gchar *log_path;
	gchar *origin;
	guint16 port;
	guint spawns;
	GSubprocess *process;
	gboolean exited;
	gint64 spawned_us;
	gint64 healthy_us;
	gint64 stop_us;
};

/**
 * relay_bench_relay_new:
 * @binary: the `relay` program
 * @dir: an existing directory for the configuration, the database and the logs
 * @backend: "sqlite" or "memory"
 * @delivery_extra: (nullable): more `[delivery]` lines
 *
 * Writes the configuration; nothing runs yet.
 *
 * Returns: (transfer full) (nullable): the relay
 */
RelayBenchRelay *
relay_bench_relay_new(const gchar *binary,
		      const gchar *dir,
		      const gchar *backend,
		      const gchar *delivery_extra,
		      GError **error)
{
	g_autoptr(RelayBenchRelay) self = g_new0(RelayBenchRelay, 1);
	g_autofree gchar *text = NULL;

	self->binary = g_strdup(binary);
	self->dir = g_strdup(dir);
	self->config_path = g_build_filename(dir, "relay.conf", NULL);
	self->port = relay_bench_free_port("127.0.0.1");
	self->origin = g_strdup_printf("http://127.0.0.1:%u", self->port);
	text = g_strdup_printf("[relay]\npublic-url = %s\nlisten = 127.0.0.1:%u\n"
			       "[storage]\nbackend = %s\npath = relay.db\n"
			       "[federation]\nallow-private-addresses = true\n"
			       /* capacity is measured, not the per-address limit (relays
				* before it warn about the key and go on) */
			       "inbox-rate = 0\n"
			       "[delivery]\nretry-base = 1\n%s"
			       "[admin]\nsocket = admin.sock\n"
			       "[log]\nlevel = message\n",
			       self->origin,
			       self->port,
			       backend,
			       delivery_extra != NULL ? delivery_extra : "");
	if (!g_file_set_contents(self->config_path, text, -1, error))
		return NULL;
	return g_steal_pointer(&self);
}

static void
relay_bench_relay_exited_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	RelayBenchRelay *self = user_data;

	g_subprocess_wait_finish(G_SUBPROCESS(source), res, NULL);
	/* a stale callback of an earlier process finds another one here */
	if (self->process == G_SUBPROCESS(source))
		self->exited = TRUE;
}

static void
relay_bench_relay_child_setup(gpointer user_data)
{
	/* a bench that dies must not leave its relay holding a port */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/**
 * relay_bench_relay_spawn:
 *
 * Starts `relay serve`; its standard error goes to a log of its own.
 */
gboolean
relay_bench_relay_spawn(RelayBenchRelay *self, GError **error)
{
	g_autoptr(GSubprocessLauncher) launcher =
		g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_INHERIT);
	const gchar *argv[] = {self->binary, "serve", "-c", self->config_path, NULL};

	g_return_val_if_fail(self->process == NULL, FALSE);
	self->spawns++;
	g_free(self->log_path);
	self->log_path = g_strdup_printf("%s/relay-%u.log", self->dir, self->spawns);
	g_subprocess_launcher_set_stderr_file_path(launcher, self->log_path);
	g_subprocess_launcher_set_stdout_file_path(launcher, self->log_path);
	g_subprocess_launcher_set_cwd(launcher, self->dir);
	g_subprocess_launcher_setenv(launcher, "GIO_USE_PROXY_RESOLVER", "dummy", FALSE);
	g_subprocess_launcher_set_child_setup(launcher, relay_bench_relay_child_setup, NULL, NULL);
	self->spawned_us = g_get_monotonic_time();
	self->healthy_us = 0;
	self->exited = FALSE;
	self->process = g_subprocess_launcher_spawnv(launcher, argv, error);
	if (self->process == NULL)
		return FALSE;
	/* the relay outlives its processes: relay_bench_relay_free() waits for the last one */
	g_subprocess_wait_async(self->process, NULL, relay_bench_relay_exited_cb, self);
	return TRUE;
}

typedef struct {
	guint status;
	gboolean answered;
	GBytes *body;
} RelayBenchGet;

static void
relay_bench_get_cb(RelayBenchClient *client,
		   guint status,
		   const guint8 *body,
		   gsize body_len,
		   gint64 latency_us,
		   gpointer tag,
		   gpointer user_data)
{
	RelayBenchGet *get = user_data;

	get->status = status;
	get->answered = TRUE;
	g_clear_pointer(&get->body, g_bytes_unref);
	get->body = g_bytes_new(body, body_len);
}

static gboolean
relay_bench_get_done(gpointer user_data)
{
	return ((RelayBenchGet *)user_data)->answered;
}

/* GET @path on a fresh connection; the status, 0 when there was no answer */
static guint
relay_bench_relay_get(RelayBenchRelay *self,
		      RelayBenchNet *net,
		      const gchar *path,
		      GBytes **out_body)
{
	RelayBenchGet get = {0};
	g_autoptr(RelayBenchClient) client = relay_bench_client_new(
		net, "127.0.0.1", self->port, NULL, 1, relay_bench_get_cb, &get);
	g_autofree gchar *text =
		g_strdup_printf("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
				"Accept: application/activity+json\r\nConnection: close\r\n\r\n",
				path,
				self->port);
	g_autoptr(GBytes) request = g_bytes_new(text, strlen(text));

	relay_bench_client_submit(client, request, NULL);
	relay_bench_wait_until(relay_bench_get_done, &get, 10000);
	if (out_body != NULL)
		*out_body = g_steal_pointer(&get.body);
	g_clear_pointer(&get.body, g_bytes_unref);
	return get.status;
}

static gboolean
relay_bench_relay_exited(gpointer user_data)
{
	return ((RelayBenchRelay *)user_data)->exited;
}

/**
 * relay_bench_relay_wait_healthy:
 *
 * Polls `/healthz` every few milliseconds, each time on a new connection, until it answers 200.
 */
gboolean
relay_bench_relay_wait_healthy(RelayBenchRelay *self,
			       RelayBenchNet *net,
			       guint timeout_ms,
			       GError **error)
{
	gint64 deadline_us = self->spawned_us + (gint64)timeout_ms * 1000;

	while (g_get_monotonic_time() < deadline_us) {
		if (relay_bench_relay_get(self, net, "/healthz", NULL) == 200) {
			self->healthy_us = g_get_monotonic_time();
			return TRUE;
		}
		if (self->exited) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_FAILED,
				    "the relay exited at start (see %s)",
				    self->log_path);
			return FALSE;
		}
		relay_bench_wait_until(relay_bench_relay_exited, self, RELAY_BENCH_RELAY_POLL_MS);
	}
	g_set_error(error,
		    G_IO_ERROR,
		    G_IO_ERROR_TIMED_OUT,
		    "the relay did not answer /healthz within %u ms (see %s)",
		    timeout_ms,
		    self->log_path);
	return FALSE;
}

/**
 * relay_bench_relay_stop:
 *
 * Sends SIGTERM and waits for the process to exit, killing it at @timeout_ms.
 */
gboolean
relay_bench_relay_stop(RelayBenchRelay *self, guint timeout_ms, GError **error)
{
	gint64 started_us = g_get_monotonic_time();
	gboolean clean;

	if (self->process == NULL)
		return TRUE;
	if (!self->exited)
		g_subprocess_send_signal(self->process, SIGTERM);
	clean = relay_bench_wait_until(relay_bench_relay_exited, self, timeout_ms);
	if (!clean) {
		g_subprocess_force_exit(self->process);
		relay_bench_wait_until(relay_bench_relay_exited, self, 5000);
	}
	self->stop_us = g_get_monotonic_time() - started_us;
	clean = clean && g_subprocess_get_if_exited(self->process) &&
		g_subprocess_get_exit_status(self->process) == 0;
	g_clear_object(&self->process);
	if (!clean) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_FAILED,
			    "the relay did not stop cleanly (see %s)",
			    self->log_path);
		return FALSE;
	}
	return TRUE;
}

gboolean
relay_bench_relay_is_running(RelayBenchRelay *self)
{
	return self->process != NULL && !self->exited;
}

gint64
relay_bench_relay_get_spawned_us(RelayBenchRelay *self)
{
	return self->spawned_us;
}

gint64
relay_bench_relay_get_healthy_us(RelayBenchRelay *self)
{
	return self->healthy_us;
}

gint64
relay_bench_relay_get_stop_us(RelayBenchRelay *self)
{
	return self->stop_us;
}

gint
relay_bench_relay_get_pid(RelayBenchRelay *self)
{
	const gchar *id;

	if (self->process == NULL || self->exited)
		return 0;
	id = g_subprocess_get_identifier(self->process);
	return id != NULL ? atoi(id) : 0;
}

guint16
relay_bench_relay_get_port(RelayBenchRelay *self)
{
	return self->port;
}

const gchar *
relay_bench_relay_get_origin(RelayBenchRelay *self)
{
	return self->origin;
}

const gchar *
relay_bench_relay_get_log_path(RelayBenchRelay *self)
{
	return self->log_path;
}

/**
 * relay_bench_relay_fetch_key:
 * @out_key_id: (out): the key's id
 *
 * Reads the default network's actor for the key every delivery is signed with.
 *
 * Returns: (transfer full) (nullable): the public key
 */
EVP_PKEY *
relay_bench_relay_fetch_key(RelayBenchRelay *self,
			    RelayBenchNet *net,
			    gchar **out_key_id,
			    GError **error)
{
	g_autoptr(GBytes) body = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonObject *actor;
	JsonObject *public_key;
	guint status = relay_bench_relay_get(self, net, "/actor", &body);

	if (status != 200 || body == NULL) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "GET /actor: HTTP %u", status);
		return NULL;
	}
	if (!json_parser_load_from_data(
		    parser, g_bytes_get_data(body, NULL), (gssize)g_bytes_get_size(body), error))
		return NULL;
	actor = json_node_get_object(json_parser_get_root(parser));
	public_key = actor != NULL && json_object_has_member(actor, "publicKey")
			     ? json_object_get_object_member(actor, "publicKey")
			     : NULL;
	if (public_key == NULL || !json_object_has_member(public_key, "publicKeyPem")) {
		g_set_error_literal(
			error, G_IO_ERROR, G_IO_ERROR_FAILED, "GET /actor: no publicKeyPem");
		return NULL;
	}
	*out_key_id = g_strdup(json_object_get_string_member(public_key, "id"));
	return relay_keys_from_pem(json_object_get_string_member(public_key, "publicKeyPem"),
				   error);
}

void
relay_bench_relay_free(RelayBenchRelay *self)
{
	if (self->process != NULL && !self->exited) {
		g_subprocess_force_exit(self->process);
		relay_bench_wait_until(relay_bench_relay_exited, self, 5000);
	}
	g_clear_object(&self->process);
	g_free(self->binary);
	g_free(self->dir);
	g_free(self->config_path);
	g_free(self->log_path);
	g_free(self->origin);
	g_free(self);
}
