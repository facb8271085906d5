/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * What went between our networks and their peers in the last hour, for `relay peers list`:
 * activities a peer relayed to us (counted by the inbox, by the peer's actor) and deliveries
 * done to a peer (counted by the delivery engine, by inbox), in a ring of per-minute slots,
 * in memory only: the counts start again from zero with the process. The engine settles every
 * delivery, so only inboxes the inbox planned a peer delivery for are watched; everything
 * else costs a lookup. Safe from any thread: the inbox plans on store workers.
 */

#include "config.h"

#include <string.h>

#include "relay-peer-traffic.h"

typedef struct {
	guint64 counts[RELAY_PEER_TRAFFIC_MINUTES];
	gint64 minute_of_slot[RELAY_PEER_TRAFFIC_MINUTES];
	gint64 last_us; /* real time */
} RelayPeerTrafficRing;

struct _RelayPeerTraffic {
	GObject parent_instance;
	GMutex mutex;
	GHashTable *received; /* (element-type utf8 RelayPeerTrafficRing): "NETWORK ACTOR" */
	GHashTable *sent;     /* (element-type utf8 RelayPeerTrafficRing): "NETWORK INBOX" */
};

G_DEFINE_FINAL_TYPE(RelayPeerTraffic, relay_peer_traffic, G_TYPE_OBJECT)

static gint64
relay_peer_traffic_minute_now(void)
{
	return g_get_monotonic_time() / (60 * G_USEC_PER_SEC);
}

static void
relay_peer_traffic_ring_add(RelayPeerTrafficRing *ring)
{
	gint64 minute = relay_peer_traffic_minute_now();
	guint slot = (guint)(minute % RELAY_PEER_TRAFFIC_MINUTES);

	if (ring->minute_of_slot[slot] != minute) {
		ring->counts[slot] = 0;
		ring->minute_of_slot[slot] = minute;
	}
	ring->counts[slot]++;
	ring->last_us = g_get_real_time();
}

static guint64
relay_peer_traffic_ring_sum(const RelayPeerTrafficRing *ring)
{
	gint64 minute = relay_peer_traffic_minute_now();
	guint64 sum = 0;

	if (ring == NULL)
		return 0;
	for (guint slot = 0; slot < RELAY_PEER_TRAFFIC_MINUTES; slot++) {
		/* a slot of a minute older than the window is stale, whatever it holds */
		if (minute - ring->minute_of_slot[slot] < RELAY_PEER_TRAFFIC_MINUTES)
			sum += ring->counts[slot];
	}
	return sum;
}

static gchar *
relay_peer_traffic_key(const gchar *network, const gchar *url)
{
	return g_strdup_printf("%s %s", network, url);
}

/* the ring of @key in @table, made when @create */
static RelayPeerTrafficRing *
relay_peer_traffic_ring(GHashTable *table, const gchar *network, const gchar *url, gboolean create)
{
	g_autofree gchar *key = relay_peer_traffic_key(network, url);
	RelayPeerTrafficRing *ring = g_hash_table_lookup(table, key);

	if (ring == NULL && create) {
		ring = g_new0(RelayPeerTrafficRing, 1);
		g_hash_table_insert(table, g_steal_pointer(&key), ring);
	}
	return ring;
}

/**
 * relay_peer_traffic_watch:
 * @inbox: the inbox of a peer of @network
 *
 * Deliveries done to @inbox from @network are counted from now on.
 */
void
relay_peer_traffic_watch(RelayPeerTraffic *self, const gchar *network, const gchar *inbox)
{
	g_autoptr(GMutexLocker) locker = NULL;

	g_return_if_fail(RELAY_IS_PEER_TRAFFIC(self));
	locker = g_mutex_locker_new(&self->mutex);
	relay_peer_traffic_ring(self->sent, network, inbox, TRUE);
}

/**
 * relay_peer_traffic_count_received:
 * @actor: the actor of a peer of @network
 *
 * Counts one activity the peer relayed to @network.
 */
void
relay_peer_traffic_count_received(RelayPeerTraffic *self, const gchar *network, const gchar *actor)
{
	g_autoptr(GMutexLocker) locker = NULL;

	g_return_if_fail(RELAY_IS_PEER_TRAFFIC(self));
	locker = g_mutex_locker_new(&self->mutex);
	relay_peer_traffic_ring_add(relay_peer_traffic_ring(self->received, network, actor, TRUE));
}

/**
 * relay_peer_traffic_count_sent:
 * @inbox: where a delivery from @network was done
 *
 * Counts it when @inbox is watched (relay_peer_traffic_watch()).
 */
void
relay_peer_traffic_count_sent(RelayPeerTraffic *self, const gchar *network, const gchar *inbox)
{
	g_autoptr(GMutexLocker) locker = NULL;
	RelayPeerTrafficRing *ring;

	g_return_if_fail(RELAY_IS_PEER_TRAFFIC(self));
	locker = g_mutex_locker_new(&self->mutex);
	ring = relay_peer_traffic_ring(self->sent, network, inbox, FALSE);
	if (ring != NULL)
		relay_peer_traffic_ring_add(ring);
}

/**
 * relay_peer_traffic_count_sent_cb:
 * @user_data: a #RelayPeerTraffic
 *
 * relay_peer_traffic_count_sent() as a #RelayDelivererDoneFunc
 */
void
relay_peer_traffic_count_sent_cb(const gchar *network, const gchar *inbox, gpointer user_data)
{
	relay_peer_traffic_count_sent(RELAY_PEER_TRAFFIC(user_data), network, inbox);
}

/**
 * relay_peer_traffic_get:
 * @actor: a peer's actor
 * @inbox: (nullable): where we deliver to it
 * @stats: (out): its traffic in the last hour
 */
void
relay_peer_traffic_get(RelayPeerTraffic *self,
		       const gchar *network,
		       const gchar *actor,
		       const gchar *inbox,
		       RelayPeerTrafficStats *stats)
{
	g_autoptr(GMutexLocker) locker = NULL;
	RelayPeerTrafficRing *received;

	memset(stats, 0, sizeof(*stats));
	g_return_if_fail(RELAY_IS_PEER_TRAFFIC(self));
	locker = g_mutex_locker_new(&self->mutex);
	received = relay_peer_traffic_ring(self->received, network, actor, FALSE);
	stats->received = relay_peer_traffic_ring_sum(received);
	stats->last_received_us = received != NULL ? received->last_us : 0;
	if (inbox != NULL)
		stats->sent = relay_peer_traffic_ring_sum(
			relay_peer_traffic_ring(self->sent, network, inbox, FALSE));
}

/**
 * relay_peer_traffic_new:
 *
 * Returns: (transfer full): an empty account of peer traffic
 */
RelayPeerTraffic *
relay_peer_traffic_new(void)
{
	return g_object_new(RELAY_TYPE_PEER_TRAFFIC, NULL);
}

static void
relay_peer_traffic_finalize(GObject *object)
{
	RelayPeerTraffic *self = RELAY_PEER_TRAFFIC(object);

	g_hash_table_unref(self->received);
	g_hash_table_unref(self->sent);
	g_mutex_clear(&self->mutex);
	G_OBJECT_CLASS(relay_peer_traffic_parent_class)->finalize(object);
}

static void
relay_peer_traffic_init(RelayPeerTraffic *self)
{
	g_mutex_init(&self->mutex);
	self->received = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->sent = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

static void
relay_peer_traffic_class_init(RelayPeerTrafficClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = relay_peer_traffic_finalize;
}
