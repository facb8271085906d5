/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "relay-actor-cache.h"
#include "relay-config.h"
#include "relay-network.h"
#include "relay-store.h"

G_BEGIN_DECLS

#define RELAY_TYPE_INBOX (relay_inbox_get_type())
G_DECLARE_FINAL_TYPE(RelayInbox, relay_inbox, RELAY, INBOX, GObject)

/* called after every successful enqueue so deliveries start at once */
typedef void (*RelayInboxWakeFunc)(gpointer user_data);
/* called when a member of @network becomes accepted (not when an accepted one follows again) */
typedef void (*RelayInboxAcceptedFunc)(const gchar *network,
				       const gchar *actor,
				       gpointer user_data);

RelayInbox *
relay_inbox_new(RelayConfig *config, RelayStore *store, RelayActorCache *cache);
void
relay_inbox_set_config(RelayInbox *self, RelayConfig *config);
void
relay_inbox_set_wake_func(RelayInbox *self, RelayInboxWakeFunc func, gpointer user_data);
void
relay_inbox_set_accepted_func(RelayInbox *self, RelayInboxAcceptedFunc func, gpointer user_data);
void
relay_inbox_post(RelayInbox *self, SoupServerMessage *msg, RelayNetwork *network);
guint
relay_inbox_get_in_flight(RelayInbox *self);
guint64
relay_inbox_get_requests(RelayInbox *self, const gchar *network, guint status);

G_END_DECLS
