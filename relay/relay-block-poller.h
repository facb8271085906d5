/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "relay-fetcher.h"
#include "relay-store.h"

G_BEGIN_DECLS

typedef enum {
	RELAY_BLOCK_FETCH_FETCHED,   /* a list was read (200) */
	RELAY_BLOCK_FETCH_UNCHANGED, /* the list had not changed (304) */
	RELAY_BLOCK_FETCH_FAILED,    /* network error, HTTP error or a bad list: nothing changed */
	RELAY_BLOCK_FETCH_LAST,
} RelayBlockFetchOutcome;

/* called on the main context when blocks changed and Rejects were queued */
typedef void (*RelayBlockPollerWakeFunc)(gpointer user_data);

#define RELAY_TYPE_BLOCK_POLLER (relay_block_poller_get_type())
G_DECLARE_FINAL_TYPE(RelayBlockPoller, relay_block_poller, RELAY, BLOCK_POLLER, GObject)

RelayBlockPoller *
relay_block_poller_new(RelayStore *store,
		       RelayFetcher *fetcher,
		       const gchar *origin,
		       guint interval_s);
void
relay_block_poller_set_networks(RelayBlockPoller *self, GHashTable *networks);
void
relay_block_poller_set_interval(RelayBlockPoller *self, guint interval_s);
void
relay_block_poller_set_wake_func(RelayBlockPoller *self,
				 RelayBlockPollerWakeFunc func,
				 gpointer user_data);
void
relay_block_poller_start(RelayBlockPoller *self);
void
relay_block_poller_stop(RelayBlockPoller *self);
void
relay_block_poller_poll_now(RelayBlockPoller *self);
guint
relay_block_poller_get_in_flight(RelayBlockPoller *self);
guint64
relay_block_poller_get_fetches(RelayBlockPoller *self, RelayBlockFetchOutcome outcome);
const gchar *
relay_block_fetch_outcome_to_string(RelayBlockFetchOutcome outcome);

G_END_DECLS
