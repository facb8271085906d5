/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* how far back relay_peer_traffic_get() counts, in minutes */
#define RELAY_PEER_TRAFFIC_MINUTES 60

/**
 * RelayPeerTrafficStats:
 * @received: activities the peer relayed to us in the last hour
 * @sent: deliveries to the peer done in the last hour
 * @last_received_us: when it last relayed something to us (real time), 0 if not since start
 */
typedef struct {
	guint64 received;
	guint64 sent;
	gint64 last_received_us;
} RelayPeerTrafficStats;

#define RELAY_TYPE_PEER_TRAFFIC (relay_peer_traffic_get_type())
G_DECLARE_FINAL_TYPE(RelayPeerTraffic, relay_peer_traffic, RELAY, PEER_TRAFFIC, GObject)

RelayPeerTraffic *
relay_peer_traffic_new(void);
void
relay_peer_traffic_watch(RelayPeerTraffic *self, const gchar *network, const gchar *inbox);
void
relay_peer_traffic_count_received(RelayPeerTraffic *self, const gchar *network, const gchar *actor);
void
relay_peer_traffic_count_sent(RelayPeerTraffic *self, const gchar *network, const gchar *inbox);
void
relay_peer_traffic_count_sent_cb(const gchar *network, const gchar *inbox, gpointer user_data);
void
relay_peer_traffic_get(RelayPeerTraffic *self,
		       const gchar *network,
		       const gchar *actor,
		       const gchar *inbox,
		       RelayPeerTrafficStats *stats);

G_END_DECLS
