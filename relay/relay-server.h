/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "relay-config.h"
#include "relay-block-poller.h"
#include "relay-deliverer.h"
#include "relay-inbox.h"
#include "relay-store.h"

G_BEGIN_DECLS

#define RELAY_TYPE_SERVER (relay_server_get_type())
G_DECLARE_FINAL_TYPE(RelayServer, relay_server, RELAY, SERVER, GObject)

RelayServer *
relay_server_new(RelayConfig *config, RelayStore *store);
void
relay_server_set_config(RelayServer *self, RelayConfig *config);
void
relay_server_set_networks(RelayServer *self, GHashTable *networks);
void
relay_server_set_inbox(RelayServer *self, RelayInbox *inbox);
void
relay_server_set_sources(RelayServer *self, RelayDeliverer *deliverer, RelayActorCache *cache);
void
relay_server_set_block_poller(RelayServer *self, RelayBlockPoller *poller);
gboolean
relay_server_listen(RelayServer *self, GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_server_listen_address(RelayServer *self,
			    const gchar *item,
			    GError **error) G_GNUC_WARN_UNUSED_RESULT;
void
relay_server_disconnect(RelayServer *self);
guint
relay_server_get_in_flight(RelayServer *self);
guint
relay_server_get_idle_connections(RelayServer *self);
GSList *
relay_server_get_uris(RelayServer *self);

G_END_DECLS
