/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "relay-actor-cache.h"
#include "relay-block-poller.h"
#include "relay-config.h"
#include "relay-deliverer.h"
#include "relay-peer-traffic.h"
#include "relay-store.h"

G_BEGIN_DECLS

/* the largest request read from the admin socket (a block list to import is the big one) */
#define RELAY_ADMIN_MAX_REQUEST_BYTES (16 * 1024 * 1024)

#define RELAY_TYPE_ADMIN (relay_admin_get_type())
G_DECLARE_FINAL_TYPE(RelayAdmin, relay_admin, RELAY, ADMIN, GObject)

RelayAdmin *
relay_admin_new(RelayConfig *config, RelayStore *store, RelayDeliverer *deliverer);
void
relay_admin_set_config(RelayAdmin *self, RelayConfig *config);
void
relay_admin_set_block_poller(RelayAdmin *self, RelayBlockPoller *poller);
void
relay_admin_set_networks(RelayAdmin *self, GHashTable *networks);
void
relay_admin_set_peer_sources(RelayAdmin *self, RelayActorCache *cache, RelayPeerTraffic *traffic);
gboolean
relay_admin_listen(RelayAdmin *self, const gchar *path, GError **error) G_GNUC_WARN_UNUSED_RESULT;
const gchar *
relay_admin_get_path(RelayAdmin *self);
void
relay_admin_stop(RelayAdmin *self);

G_END_DECLS
