/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "relay-config.h"
#include "relay-signer.h"
#include "relay-store.h"

G_BEGIN_DECLS

#define RELAY_TYPE_NETWORK (relay_network_get_type())
G_DECLARE_FINAL_TYPE(RelayNetwork, relay_network, RELAY, NETWORK, GObject)

RelayNetwork *
relay_network_new(const gchar *public_url,
		  const RelayNetworkConfig *config,
		  const RelayNetworkRecord *record,
		  GError **error) G_GNUC_WARN_UNUSED_RESULT;
const gchar *
relay_network_get_name(RelayNetwork *self);
const RelayNetworkConfig *
relay_network_get_config(RelayNetwork *self);
const gchar *
relay_network_get_actor_url(RelayNetwork *self);
const gchar *
relay_network_get_inbox_url(RelayNetwork *self);
const gchar *
relay_network_get_acct(RelayNetwork *self);
GBytes *
relay_network_get_actor_document(RelayNetwork *self);
RelaySigner *
relay_network_get_signer(RelayNetwork *self);
RelaySigner *
relay_network_get_ed25519_signer(RelayNetwork *self);
gchar *
relay_network_collection_url(RelayNetwork *self, const gchar *collection);

gboolean
relay_network_record_ensure_keys(RelayStore *store,
				 const gchar *name,
				 RelayNetworkRecord **out_record,
				 GCancellable *cancellable,
				 GError **error) G_GNUC_WARN_UNUSED_RESULT;
void
relay_networks_load_async(RelayStore *store,
			  RelayConfig *config,
			  GCancellable *cancellable,
			  GAsyncReadyCallback callback,
			  gpointer user_data);
GHashTable *
relay_networks_load_finish(GAsyncResult *res, GError **error) G_GNUC_WARN_UNUSED_RESULT;
GHashTable *
relay_networks_actor_urls(GHashTable *networks);

G_END_DECLS
