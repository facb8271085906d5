/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean
relay_sd_notify_to(const gchar *socket_name,
		   const gchar *state,
		   GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_sd_notify(const gchar *state, GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_sd_notify_enabled(void);
gint64
relay_sd_notify_monotonic_usec(void);

G_END_DECLS
