/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <glib.h>
#include <openssl/evp.h>

#include "relay-bench-net.h"

G_BEGIN_DECLS

/* the relay under test: a `relay serve` child process with its own configuration, database
 * and log in a directory of the bench, listening on 127.0.0.1 and a free port */
typedef struct _RelayBenchRelay RelayBenchRelay;

RelayBenchRelay *
relay_bench_relay_new(const gchar *binary,
		      const gchar *dir,
		      const gchar *backend,
		      const gchar *delivery_extra,
		      GError **error);
void
relay_bench_relay_free(RelayBenchRelay *self);

gboolean
relay_bench_relay_spawn(RelayBenchRelay *self, GError **error);
gboolean
relay_bench_relay_wait_healthy(RelayBenchRelay *self,
			       RelayBenchNet *net,
			       guint timeout_ms,
			       GError **error);
gboolean
relay_bench_relay_stop(RelayBenchRelay *self, guint timeout_ms, GError **error);
gboolean
relay_bench_relay_is_running(RelayBenchRelay *self);

gint64
relay_bench_relay_get_spawned_us(RelayBenchRelay *self);
gint64
relay_bench_relay_get_healthy_us(RelayBenchRelay *self);
gint64
relay_bench_relay_get_stop_us(RelayBenchRelay *self);
gint
relay_bench_relay_get_pid(RelayBenchRelay *self);
guint16
relay_bench_relay_get_port(RelayBenchRelay *self);
const gchar *
relay_bench_relay_get_origin(RelayBenchRelay *self);
const gchar *
relay_bench_relay_get_log_path(RelayBenchRelay *self);

EVP_PKEY *
relay_bench_relay_fetch_key(RelayBenchRelay *self,
			    RelayBenchNet *net,
			    gchar **out_key_id,
			    GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayBenchRelay, relay_bench_relay_free)

G_END_DECLS
