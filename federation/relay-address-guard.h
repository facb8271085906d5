/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define RELAY_TYPE_GUARDED_RESOLVER (relay_guarded_resolver_get_type())
G_DECLARE_FINAL_TYPE(
	RelayGuardedResolver, relay_guarded_resolver, RELAY, GUARDED_RESOLVER, GResolver)

gboolean
relay_address_is_public(GInetAddress *address);
gboolean
relay_address_guard_check_host(const gchar *host,
			       gboolean allow_private,
			       GError **error) G_GNUC_WARN_UNUSED_RESULT;
GResolver *
relay_guarded_resolver_new(GResolver *inner, gboolean allow_private);
void
relay_guarded_resolver_set_allow_private(RelayGuardedResolver *self, gboolean allow_private);
RelayGuardedResolver *
relay_address_guard_install(gboolean allow_private);

G_END_DECLS
