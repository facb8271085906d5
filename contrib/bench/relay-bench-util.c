/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#include "config.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "relay-bench-util.h"

static gboolean
relay_bench_deadline_cb(gpointer user_data)
{
	*(gboolean *)user_data = TRUE;
	return G_SOURCE_REMOVE;
}

static gboolean
relay_bench_tick_cb(gpointer user_data)
{
	return G_SOURCE_CONTINUE;
}

/* the predicate is checked after every event and at least every 5 ms, since some look at other
 * processes */
gboolean
relay_bench_wait_until(RelayBenchPredicate predicate, gpointer user_data, guint timeout_ms)
{
	gboolean expired = FALSE;
	g_autoptr(GSource) deadline = g_timeout_source_new(timeout_ms);
	g_autoptr(GSource) tick = g_timeout_source_new(5);
	gboolean ok;

	g_source_set_callback(deadline, relay_bench_deadline_cb, &expired, NULL);
	g_source_attach(deadline, NULL);
	g_source_set_callback(tick, relay_bench_tick_cb, NULL, NULL);
	g_source_attach(tick, NULL);
	while (!(ok = predicate(user_data)) && !expired)
		g_main_context_iteration(NULL, TRUE);
	g_source_destroy(tick);
	g_source_destroy(deadline);
	return ok;
}

static gboolean
relay_bench_never(gpointer user_data)
{
	return FALSE;
}

void
relay_bench_sleep_ms(guint ms)
{
	relay_bench_wait_until(relay_bench_never, NULL, ms);
}

static gint
relay_bench_compare_gint64(gconstpointer a, gconstpointer b)
{
	gint64 x = *(const gint64 *)a;
	gint64 y = *(const gint64 *)b;
	return x < y ? -1 : x > y ? 1 : 0;
}

gint64
relay_bench_percentile(GArray *values, gdouble fraction)
{
	gdouble rank;

	if (values->len == 0)
		return 0;
	g_array_sort(values, relay_bench_compare_gint64);
	/* nearest rank: the smallest value with at least @fraction of the values at or below it */
	rank = ceil(fraction * (gdouble)values->len - 1e-9);
	rank = CLAMP(rank, 1, (gdouble)values->len);
	return g_array_index(values, gint64, (guint)rank - 1);
}

gboolean
relay_bench_proc_memory(gint pid, guint64 *out_rss_kib, guint64 *out_peak_kib)
{
	g_autofree gchar *path = g_strdup_printf("/proc/%d/status", pid);
	g_autofree gchar *text = NULL;
	g_auto(GStrv) lines = NULL;

	*out_rss_kib = 0;
	*out_peak_kib = 0;
	if (!g_file_get_contents(path, &text, NULL, NULL))
		return FALSE;
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (g_str_has_prefix(lines[i], "VmRSS:"))
			*out_rss_kib = g_ascii_strtoull(lines[i] + 6, NULL, 10);
		else if (g_str_has_prefix(lines[i], "VmHWM:"))
			*out_peak_kib = g_ascii_strtoull(lines[i] + 6, NULL, 10);
	}
	return *out_rss_kib > 0;
}

static gdouble
relay_bench_stat_cpu_s(const gchar *path)
{
	g_autofree gchar *text = NULL;
	g_auto(GStrv) fields = NULL;
	const gchar *after;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return -1;
	/* the name may hold spaces: fields start after its closing parenthesis, at field 3 */
	after = strrchr(text, ')');
	if (after == NULL)
		return -1;
	fields = g_strsplit(after + 2, " ", -1);
	if (g_strv_length(fields) < 13)
		return -1;
	/* utime and stime: fields 14 and 15 */
	return (gdouble)(g_ascii_strtoull(fields[11], NULL, 10) +
			 g_ascii_strtoull(fields[12], NULL, 10)) /
	       (gdouble)sysconf(_SC_CLK_TCK);
}

gdouble
relay_bench_proc_cpu_s(gint pid)
{
	g_autofree gchar *path = g_strdup_printf("/proc/%d/stat", pid);
	return relay_bench_stat_cpu_s(path);
}

gdouble
relay_bench_thread_cpu_s(gint pid, gint tid)
{
	g_autofree gchar *path = g_strdup_printf("/proc/%d/task/%d/stat", pid, tid);
	return relay_bench_stat_cpu_s(path);
}

gdouble
relay_bench_self_cpu_s(void)
{
	struct rusage usage;

	getrusage(RUSAGE_SELF, &usage);
	return (gdouble)usage.ru_utime.tv_sec + (gdouble)usage.ru_utime.tv_usec / 1e6 +
	       (gdouble)usage.ru_stime.tv_sec + (gdouble)usage.ru_stime.tv_usec / 1e6;
}

guint16
relay_bench_free_port(const gchar *address)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	guint16 port = 0;
	gint fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return 0;
	inet_pton(AF_INET, address, &sin.sin_addr);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

void
relay_bench_rmdir(const gchar *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const gchar *name;

	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *child = g_build_filename(path, name, NULL);
		if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
		    !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
			relay_bench_rmdir(child);
		else
			g_unlink(child);
	}
	g_rmdir(path);
}
