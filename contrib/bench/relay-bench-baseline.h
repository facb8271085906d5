/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* the ingest baseline: a libsoup server answering 202 to everything, doing nothing else, on
 * a thread of its own, listening like the relay (its own socket, a large backlog) */
typedef struct _RelayBenchTrivialServer RelayBenchTrivialServer;

RelayBenchTrivialServer *
relay_bench_trivial_server_new(GError **error);
guint16
relay_bench_trivial_server_get_port(RelayBenchTrivialServer *self);
guint64
relay_bench_trivial_server_get_requests(RelayBenchTrivialServer *self);
void
relay_bench_trivial_server_free(RelayBenchTrivialServer *self);

/* the fan-out baseline: RSA-2048 signatures (SHA-256, PKCS#1 v1.5, what every delivery
 * costs) per second, on @threads threads at once for @seconds */
gdouble
relay_bench_rsa_sign_rate(guint threads, gdouble seconds, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayBenchTrivialServer, relay_bench_trivial_server_free)

G_END_DECLS
