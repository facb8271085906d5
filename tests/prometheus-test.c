/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/* the strict Prometheus text reader the /metrics test relies on: it must refuse what breaks */

#include <gio/gio.h>
#include <math.h>

#include "relay-test-prometheus.h"

#define FAMILY(name, type) "# HELP " name " Something.\n# TYPE " name " " type "\n"

static const gchar *const good =
	FAMILY("relay_a_total", "counter") "relay_a_total{x=\"q\\\"uote\\\\\\n\"} 3\n" FAMILY(
		"relay_g",
		"gauge") "relay_g 1.5\nrelay_g{n=\"b\"} -2\n" FAMILY("relay_h_seconds",
								     "histogram") "relay_h_seconds_"
										  "bucket{le=\"0."
										  "1\"} "
										  "1\nrelay_h_"
										  "seconds_bucket{"
										  "le=\"+Inf\"} 2\n"
										  "relay_h_seconds_"
										  "sum "
										  "0.3\nrelay_h_"
										  "seconds_count "
										  "2\n";

static const struct {
	const gchar *why;
	const gchar *text;
} bad[] = {
	{"no final newline", FAMILY("relay_g", "gauge") "relay_g 1"},
	{"no TYPE", "# HELP relay_g x\nrelay_g 1\n"},
	{"no HELP", "# TYPE relay_g gauge\nrelay_g 1\n"},
	{"not relay_", FAMILY("other_g", "gauge") "other_g 1\n"},
	{"counter without _total", FAMILY("relay_c", "counter") "relay_c 1\n"},
	{"negative counter", FAMILY("relay_c_total", "counter") "relay_c_total -1\n"},
	{"twice", FAMILY("relay_g", "gauge") "relay_g 1\nrelay_g 2\n"},
	{"family apart",
	 FAMILY("relay_g", "gauge") "relay_g 1\n" FAMILY(
		 "relay_f", "gauge") "relay_f 1\nrelay_g{a=\"b\"} 1\n"},
	{"bad value", FAMILY("relay_g", "gauge") "relay_g one\n"},
	{"bad escape", FAMILY("relay_g", "gauge") "relay_g{a=\"\\t\"} 1\n"},
	{"unterminated label", FAMILY("relay_g", "gauge") "relay_g{a=\"b} 1\n"},
	{"reserved label", FAMILY("relay_g", "gauge") "relay_g{__a=\"b\"} 1\n"},
	{"not cumulative",
	 FAMILY("relay_h", "histogram") "relay_h_bucket{le=\"1\"} 2\n"
					"relay_h_bucket{le=\"+Inf\"} 1\nrelay_h_count 1\n"},
	{"count is not +Inf",
	 FAMILY("relay_h", "histogram") "relay_h_bucket{le=\"+Inf\"} 2\n"
					"relay_h_count 3\n"},
	{"unknown type", FAMILY("relay_g", "meter") "relay_g 1\n"},
};

static void
test_prometheus_good(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GHashTable) samples = relay_test_prometheus_parse(good, &error);

	g_assert_no_error(error);
	g_assert_cmpfloat(
		relay_test_prometheus_value(samples, "relay_a_total{x=\"q\\\"uote\\\\\\n\"}"),
		==,
		3);
	g_assert_cmpfloat(relay_test_prometheus_value(samples, "relay_g{n=\"b\"}"), ==, -2);
	g_assert_cmpfloat(relay_test_prometheus_value(samples, "relay_h_seconds_count"), ==, 2);
	g_assert_true(isnan(relay_test_prometheus_value(samples, "relay_missing")));
}

static void
test_prometheus_bad(gconstpointer data)
{
	guint i = GPOINTER_TO_UINT(data);
	g_autoptr(GError) error = NULL;
	g_autoptr(GHashTable) samples = relay_test_prometheus_parse(bad[i].text, &error);

	g_assert_null(samples);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
	g_test_message("%s: %s", bad[i].why, error->message);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/relay/prometheus/good", test_prometheus_good);
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree gchar *path = g_strdup_printf("/relay/prometheus/bad/%u", i);
		g_test_add_data_func(path, GUINT_TO_POINTER(i), test_prometheus_bad);
	}
	return g_test_run();
}
