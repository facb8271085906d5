/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include "relay-actor.h"
#include "relay-fetcher.h"
#include "relay-keys.h"
#include "relay-store.h"

G_BEGIN_DECLS

/**
 * RelayActorCacheCounters:
 * @key_memory_hits: keys found fresh in memory
 * @key_store_hits: keys found fresh in storage
 * @key_fetches: keys fetched from their origin (not cached, stale, or refreshed)
 */
typedef struct {
	guint64 key_memory_hits;
	guint64 key_store_hits;
	guint64 key_fetches;
} RelayActorCacheCounters;

#define RELAY_TYPE_ACTOR_CACHE (relay_actor_cache_get_type())
G_DECLARE_FINAL_TYPE(RelayActorCache, relay_actor_cache, RELAY, ACTOR_CACHE, GObject)

RelayActorCache *
relay_actor_cache_new(RelayStore *store, RelayFetcher *fetcher, gint64 ttl_s);
void
relay_actor_cache_set_ttl(RelayActorCache *self, gint64 ttl_s);
void
relay_actor_cache_get_counters(RelayActorCache *self, RelayActorCacheCounters *counters);
EVP_PKEY *
relay_actor_cache_parse_key(RelayActorCache *self,
			    const RelayCachedKey *key,
			    GError **error) G_GNUC_WARN_UNUSED_RESULT;
void
relay_actor_cache_get_key_async(RelayActorCache *self,
				const gchar *key_id,
				RelaySigner *signer,
				gboolean refresh,
				GCancellable *cancellable,
				GAsyncReadyCallback callback,
				gpointer user_data);
RelayCachedKey *
relay_actor_cache_get_key_finish(RelayActorCache *self,
				 GAsyncResult *res,
				 GError **error) G_GNUC_WARN_UNUSED_RESULT;
void
relay_actor_cache_get_actor_async(RelayActorCache *self,
				  const gchar *actor_id,
				  RelaySigner *signer,
				  gboolean refresh,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data);
RelayRemoteActor *
relay_actor_cache_get_actor_finish(RelayActorCache *self,
				   GAsyncResult *res,
				   GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
