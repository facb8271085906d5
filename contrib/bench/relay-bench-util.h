/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef gboolean (*RelayBenchPredicate)(gpointer user_data);

/* iterates the default main context until @predicate holds; FALSE at the deadline */
gboolean
relay_bench_wait_until(RelayBenchPredicate predicate, gpointer user_data, guint timeout_ms);
/* iterates the default main context for @ms */
void
relay_bench_sleep_ms(guint ms);

/* the @fraction-quantile (0..1) of @values (element-type gint64), sorted in place; 0 when empty */
gint64
relay_bench_percentile(GArray *values, gdouble fraction);

/* resident and peak resident memory of a process, in KiB */
gboolean
relay_bench_proc_memory(gint pid, guint64 *out_rss_kib, guint64 *out_peak_kib);
/* CPU time (user and system) a process used so far, in seconds; -1 when unknown */
gdouble
relay_bench_proc_cpu_s(gint pid);
/* the same for one thread of a process: its main thread when @tid is @pid */
gdouble
relay_bench_thread_cpu_s(gint pid, gint tid);
/* CPU time this process used so far, every thread, in seconds */
gdouble
relay_bench_self_cpu_s(void);

/* removes @path and everything under it */
void
relay_bench_rmdir(const gchar *path);

/* a TCP port nobody listens on now at @address */
guint16
relay_bench_free_port(const gchar *address);

G_END_DECLS
