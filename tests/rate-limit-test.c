/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#include "relay-rate-limit.h"

#define SECOND G_USEC_PER_SEC

/* a burst, then one token a 1/rate seconds, each address on its own */
static void
test_rate_limit_bucket(void)
{
	g_autoptr(RelayRateLimit) limit = relay_rate_limit_new(2, 3);
	guint retry = 0;

	for (guint i = 0; i < 3; i++)
		g_assert_true(relay_rate_limit_take(limit, "a", 0, NULL));
	g_assert_false(relay_rate_limit_take(limit, "a", 0, &retry));
	g_assert_cmpuint(retry, ==, 1);
	g_assert_true(relay_rate_limit_take(limit, "b", 0, NULL));
	/* half a second gives one token back at 2 a second */
	g_assert_true(relay_rate_limit_take(limit, "a", SECOND / 2, NULL));
	g_assert_false(relay_rate_limit_take(limit, "a", SECOND / 2, NULL));
	/* never more than the burst saved up */
	for (guint i = 0; i < 3; i++)
		g_assert_true(relay_rate_limit_take(limit, "a", 100 * SECOND, NULL));
	g_assert_false(relay_rate_limit_take(limit, "a", 100 * SECOND, NULL));
}

/* Retry-After rounds up to whole seconds */
static void
test_rate_limit_retry_after(void)
{
	g_autoptr(RelayRateLimit) limit = relay_rate_limit_new(1, 1);
	guint retry = 0;

	g_assert_true(relay_rate_limit_take(limit, "a", 0, NULL));
	g_assert_false(relay_rate_limit_take(limit, "a", SECOND / 10, &retry));
	g_assert_cmpuint(retry, ==, 1);
	/* 0: no limit at all */
	relay_rate_limit_set(limit, 0, 1);
	for (guint i = 0; i < 100; i++)
		g_assert_true(relay_rate_limit_take(limit, "a", 0, NULL));
}

/* addresses that stopped sending are forgotten once their bucket is full again */
static void
test_rate_limit_prune(void)
{
	g_autoptr(RelayRateLimit) limit = relay_rate_limit_new(10, 10);

	for (guint i = 0; i < 4096; i++) {
		g_autofree gchar *key = g_strdup_printf("198.51.100.%u/%u", i % 256, i);
		g_assert_true(relay_rate_limit_take(limit, key, 0, NULL));
	}
	g_assert_cmpuint(relay_rate_limit_get_size(limit), ==, 4096);
	/* a second later every bucket refilled: the next new address prunes them all */
	g_assert_true(relay_rate_limit_take(limit, "203.0.113.1", SECOND, NULL));
	g_assert_cmpuint(relay_rate_limit_get_size(limit), ==, 1);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/relay/rate-limit/bucket", test_rate_limit_bucket);
	g_test_add_func("/relay/rate-limit/retry-after", test_rate_limit_retry_after);
	g_test_add_func("/relay/rate-limit/prune", test_rate_limit_prune);
	return g_test_run();
}
