/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

void
relay_log_setup(GLogLevelFlags level);
void
relay_log_set_level(GLogLevelFlags level);
GLogLevelFlags
relay_log_get_level(void);
const gchar *
relay_log_level_to_string(GLogLevelFlags level);
gchar *
relay_log_sanitize(const gchar *text, gsize max_chars);

G_END_DECLS
