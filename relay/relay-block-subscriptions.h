/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include "relay-membership.h"

G_BEGIN_DECLS

/* the Accept header of a block list fetch: the JSON we publish, or Mastodon's CSV */
#define RELAY_BLOCK_SUBSCRIPTION_ACCEPT "application/json, text/csv;q=0.9, */*;q=0.1"

/* what bringing a network's blocks in line with its subscriptions did */
typedef struct {
	guint added;		   /* blocks made */
	guint lifted;		   /* blocks lifted: no enforced list names their domain now */
	RelayBlockEffects effects; /* of the blocks made */
} RelayBlockSubscriptionsApplied;

gchar *
relay_block_subscription_source(const gchar *url);
GPtrArray *
relay_block_subscription_entries_from_list(GPtrArray *list, gint64 now_us);
gboolean
relay_block_subscriptions_apply(RelayStore *store,
				const gchar *network,
				const gchar *origin,
				GHashTable *network_actors,
				gint64 now_us,
				RelayMemberRemovedFunc removed_func,
				gpointer user_data,
				RelayBlockSubscriptionsApplied *applied,
				GCancellable *cancellable,
				GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
