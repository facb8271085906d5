/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "relay-actor-cache.h"
#include "relay-config.h"
#include "relay-network.h"
#include "relay-peer-traffic.h"
#include "relay-store.h"

G_BEGIN_DECLS

#define RELAY_TYPE_INBOX (relay_inbox_get_type())
G_DECLARE_FINAL_TYPE(RelayInbox, relay_inbox, RELAY, INBOX, GObject)

/* why a signed POST was refused, for /metrics */
typedef enum {
	RELAY_INBOX_SIGNATURE_FAILURE_UNSIGNED,
	RELAY_INBOX_SIGNATURE_FAILURE_MALFORMED,
	RELAY_INBOX_SIGNATURE_FAILURE_UNKNOWN_ALGORITHM,
	RELAY_INBOX_SIGNATURE_FAILURE_MISSING_COMPONENT,
	RELAY_INBOX_SIGNATURE_FAILURE_DIGEST_MISMATCH,
	RELAY_INBOX_SIGNATURE_FAILURE_STALE_DATE,
	RELAY_INBOX_SIGNATURE_FAILURE_KEY_NOT_FOUND,
	RELAY_INBOX_SIGNATURE_FAILURE_BAD_SIGNATURE,
	RELAY_INBOX_SIGNATURE_FAILURE_ACTOR_MISMATCH,
	RELAY_INBOX_SIGNATURE_FAILURE_LAST,
} RelayInboxSignatureFailure;

typedef void (*RelayInboxRequestsFunc)(const gchar *network,
				       guint status,
				       guint64 count,
				       gpointer user_data);

/* called after every successful enqueue so deliveries start at once */
typedef void (*RelayInboxWakeFunc)(gpointer user_data);
/* which hosts' deliveries are paused, till when: (element-type utf8 gint64), or %NULL */
typedef GHashTable *(*RelayInboxHoldsFunc)(gpointer user_data);
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
relay_inbox_set_holds_func(RelayInbox *self, RelayInboxHoldsFunc func, gpointer user_data);
void
relay_inbox_set_accepted_func(RelayInbox *self, RelayInboxAcceptedFunc func, gpointer user_data);
void
relay_inbox_set_peer_traffic(RelayInbox *self, RelayPeerTraffic *traffic);
void
relay_inbox_post(RelayInbox *self, SoupServerMessage *msg, RelayNetwork *network);
guint
relay_inbox_get_in_flight(RelayInbox *self);
guint64
relay_inbox_get_requests(RelayInbox *self, const gchar *network, guint status);
void
relay_inbox_foreach_requests(RelayInbox *self, RelayInboxRequestsFunc func, gpointer user_data);
const gchar *
relay_inbox_signature_failure_to_string(RelayInboxSignatureFailure failure);
guint64
relay_inbox_get_signature_failures(RelayInbox *self, RelayInboxSignatureFailure failure);

G_END_DECLS
