/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * Token buckets, one per remote address, for the inbox: each request takes a token; tokens come
 * back at a steady rate up to the burst. Buckets that refilled completely are forgotten when
 * the table grows, so an address that stopped sending costs nothing.
 */

#include "relay-rate-limit.h"

/* past this many buckets, full ones are dropped */
#define RELAY_RATE_LIMIT_PRUNE_AT 4096

typedef struct {
	gdouble tokens;
	gint64 updated_us;
} RelayRateBucket;

struct _RelayRateLimit {
	guint rate;	     /* tokens a second; 0: no limit */
	guint burst;	     /* the most tokens a bucket holds */
	GHashTable *buckets; /* (element-type utf8 RelayRateBucket) */
	guint prune_at;
};

RelayRateLimit *
relay_rate_limit_new(guint rate, guint burst)
{
	RelayRateLimit *self = g_new0(RelayRateLimit, 1);

	self->buckets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->prune_at = RELAY_RATE_LIMIT_PRUNE_AT;
	relay_rate_limit_set(self, rate, burst);
	return self;
}

void
relay_rate_limit_free(RelayRateLimit *self)
{
	g_hash_table_unref(self->buckets);
	g_free(self);
}

/* new limits apply to the next request; saved tokens above the new burst are dropped then */
void
relay_rate_limit_set(RelayRateLimit *self, guint rate, guint burst)
{
	self->rate = rate;
	self->burst = MAX(burst, 1);
}

static void
relay_rate_limit_refill(RelayRateLimit *self, RelayRateBucket *bucket, gint64 now_us)
{
	gdouble elapsed_s = (gdouble)MAX(now_us - bucket->updated_us, 0) / G_USEC_PER_SEC;

	bucket->tokens = MIN((gdouble)self->burst, bucket->tokens + elapsed_s * self->rate);
	bucket->updated_us = now_us;
}

static void
relay_rate_limit_prune(RelayRateLimit *self, gint64 now_us)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, self->buckets);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		relay_rate_limit_refill(self, value, now_us);
		if (((RelayRateBucket *)value)->tokens >= self->burst)
			g_hash_table_iter_remove(&iter);
	}
	/* what is left is busy: look again once the table doubled */
	self->prune_at = MAX(RELAY_RATE_LIMIT_PRUNE_AT, g_hash_table_size(self->buckets) * 2);
}

/**
 * relay_rate_limit_take:
 * @key: who asks (a remote address)
 * @now_us: the monotonic time
 * @out_retry_after_s: (out) (optional): when refused, the seconds until a token is back
 *
 * Returns: %TRUE if @key may go on (a token was taken)
 */
gboolean
relay_rate_limit_take(RelayRateLimit *self,
		      const gchar *key,
		      gint64 now_us,
		      guint *out_retry_after_s)
{
	RelayRateBucket *bucket;

	if (self->rate == 0)
		return TRUE;
	bucket = g_hash_table_lookup(self->buckets, key);
	if (bucket == NULL) {
		if (g_hash_table_size(self->buckets) >= self->prune_at)
			relay_rate_limit_prune(self, now_us);
		bucket = g_new0(RelayRateBucket, 1);
		bucket->tokens = self->burst;
		bucket->updated_us = now_us;
		g_hash_table_insert(self->buckets, g_strdup(key), bucket);
	}
	relay_rate_limit_refill(self, bucket, now_us);
	if (bucket->tokens >= 1) {
		bucket->tokens -= 1;
		return TRUE;
	}
	if (out_retry_after_s != NULL) {
		gdouble wait_s = (1 - bucket->tokens) / self->rate;
		guint whole_s = (guint)wait_s;
		*out_retry_after_s = MAX(1, whole_s < wait_s ? whole_s + 1 : whole_s);
	}
	return FALSE;
}

/* how many addresses have a bucket now */
guint
relay_rate_limit_get_size(RelayRateLimit *self)
{
	return g_hash_table_size(self->buckets);
}
