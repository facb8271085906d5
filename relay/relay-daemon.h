/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "relay-config.h"
#include "relay-nodeinfo-refresher.h"

G_BEGIN_DECLS

#define RELAY_TYPE_DAEMON (relay_daemon_get_type())
G_DECLARE_FINAL_TYPE(RelayDaemon, relay_daemon, RELAY, DAEMON, GObject)

RelayDaemon *
relay_daemon_new(RelayConfig *config, gboolean verbose);
gboolean
relay_daemon_start(RelayDaemon *self, GError **error) G_GNUC_WARN_UNUSED_RESULT;
gint
relay_daemon_run(RelayDaemon *self);
void
relay_daemon_reload(RelayDaemon *self);
void
relay_daemon_shutdown(RelayDaemon *self);
RelayConfig *
relay_daemon_get_config(RelayDaemon *self);
RelayNodeinfoRefresher *
relay_daemon_get_nodeinfo_refresher(RelayDaemon *self);

G_END_DECLS
