/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "relay-fetcher.h"
#include "relay-store.h"

G_BEGIN_DECLS

#define RELAY_TYPE_NODEINFO_REFRESHER (relay_nodeinfo_refresher_get_type())
G_DECLARE_FINAL_TYPE(
	RelayNodeinfoRefresher, relay_nodeinfo_refresher, RELAY, NODEINFO_REFRESHER, GObject)

RelayNodeinfoRefresher *
relay_nodeinfo_refresher_new(RelayStore *store, RelayFetcher *fetcher, guint interval_s);
void
relay_nodeinfo_refresher_set_interval(RelayNodeinfoRefresher *self, guint interval_s);
guint
relay_nodeinfo_refresher_get_interval(RelayNodeinfoRefresher *self);
void
relay_nodeinfo_refresher_start(RelayNodeinfoRefresher *self);
void
relay_nodeinfo_refresher_stop(RelayNodeinfoRefresher *self);
guint
relay_nodeinfo_refresher_get_in_flight(RelayNodeinfoRefresher *self);

void
relay_nodeinfo_refresher_refresh_member_async(RelayNodeinfoRefresher *self,
					      const gchar *actor,
					      GCancellable *cancellable,
					      GAsyncReadyCallback callback,
					      gpointer user_data);
gboolean
relay_nodeinfo_refresher_refresh_member_finish(RelayNodeinfoRefresher *self,
					       GAsyncResult *res,
					       gchar **out_software_name,
					       gchar **out_software_version,
					       GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
