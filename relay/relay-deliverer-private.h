/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include "relay-deliverer.h"

G_BEGIN_DECLS

/* called on the signing thread after each delivery is signed; for tests */
typedef void (*RelayDelivererSignHook)(const RelayDelivery *delivery, gpointer user_data);

void
relay_deliverer_set_sign_hook(RelayDeliverer *self,
			      RelayDelivererSignHook hook,
			      gpointer user_data);
gint64
relay_deliverer_retry_delay_us(guint base_s, guint cap_s, guint attempts);
gboolean
relay_deliverer_parse_retry_after(const gchar *value, gint64 now_us, gint64 *out_delay_us);

G_END_DECLS
