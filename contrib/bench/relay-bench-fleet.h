/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <glib.h>
#include <openssl/evp.h>

#include "relay-bench-net.h"

G_BEGIN_DECLS

/*
 * The members of the network under test: fake Mastodon-style instances, each on its own loopback
 * address (127.10.X.Y) and one port shared by all, served by the bench's sinks. Each serves its
 * instance actor (/actor, which subscribes) and one user (/users/bench, who posts), both with a
 * public key, and takes deliveries at /inbox (its shared inbox). Sinks answer deliveries without
 * checking them, except a sample whose signatures are verified with the relay's key.
 */
typedef struct _RelayBenchFleet RelayBenchFleet;

typedef enum {
	RELAY_BENCH_SINK_UP,   /* deliveries answered 202 */
	RELAY_BENCH_SINK_HOLD, /* deliveries never answered: the relay waits for its timeout */
	RELAY_BENCH_SINK_DOWN, /* deliveries answered 503 */
} RelayBenchSinkMode;

typedef struct {
	guint index;
	gchar *address;
	gchar *host;
	gchar *origin;
	guint key_index;
	RelayBenchSinkMode mode;
	guint accepts;
	guint64 received;
} RelayBenchMember;

/* one activity posted through the relay, and its deliveries */
typedef struct {
	guint64 seq;
	guint sender;
	guint expected; /* deliveries it should cause */
	gint64 submitted_us;
	gint64 answered_us;
	guint status; /* the relay's answer, 0 until then */
	guint received;
	guint duplicates;
	gint64 first_us;
	gint64 last_us;
	guint8 *seen; /* (array): a bit per member */
} RelayBenchActivity;

RelayBenchFleet *
relay_bench_fleet_new(
	guint size, GPtrArray *keys, const gchar *relay_origin, guint16 relay_port, GError **error);
void
relay_bench_fleet_free(RelayBenchFleet *self);

RelayBenchNet *
relay_bench_fleet_get_net(RelayBenchFleet *self);
guint
relay_bench_fleet_get_size(RelayBenchFleet *self);
RelayBenchMember *
relay_bench_fleet_get_member(RelayBenchFleet *self, guint index);
void
relay_bench_fleet_set_mode(RelayBenchFleet *self,
			   guint first,
			   guint count,
			   RelayBenchSinkMode mode);
void
relay_bench_fleet_set_relay_key(RelayBenchFleet *self, const gchar *key_id, EVP_PKEY *key);
void
relay_bench_fleet_set_sample_every(RelayBenchFleet *self, guint every);

gboolean
relay_bench_fleet_subscribe(
	RelayBenchFleet *self, guint count, guint concurrency, guint timeout_ms, GError **error);

RelayBenchActivity *
relay_bench_fleet_activity_new(RelayBenchFleet *self, guint sender, guint expected);
RelayBenchActivity *
relay_bench_fleet_get_activity(RelayBenchFleet *self, guint64 seq);
guint64
relay_bench_fleet_reserve_seqs(RelayBenchFleet *self, guint count);
GBytes *
relay_bench_fleet_sign_post(RelayBenchFleet *self, guint sender, guint64 seq);
GPtrArray *
relay_bench_fleet_sign_posts(RelayBenchFleet *self,
			     const guint *senders,
			     guint64 first_seq,
			     guint count);

guint64
relay_bench_fleet_get_received(RelayBenchFleet *self);
guint64
relay_bench_fleet_get_accepts(RelayBenchFleet *self);
guint64
relay_bench_fleet_get_nodeinfo_requests(RelayBenchFleet *self);
gint64
relay_bench_fleet_get_first_receipt_us(RelayBenchFleet *self);
void
relay_bench_fleet_reset_first_receipt(RelayBenchFleet *self);
guint64
relay_bench_fleet_get_duplicates(RelayBenchFleet *self);
void
relay_bench_fleet_get_verified(RelayBenchFleet *self,
			       guint64 *out_sampled,
			       guint64 *out_failed,
			       const gchar **out_error);

GPtrArray *
relay_bench_keys_new(guint count, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayBenchFleet, relay_bench_fleet_free)

G_END_DECLS
