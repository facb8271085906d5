/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * A strict reader of the Prometheus text exposition format (0.0.4), held to what the relay
 * promises on top: every name starts with relay_, counters end in _total, every family has
 * HELP and TYPE before its samples and its samples together, no series twice, histogram
 * buckets cumulative with +Inf equal to _count.
 *
 * Returns: (transfer full): series ("name{label="value",...}" as written) -> value, or NULL
 *	with @error saying which line breaks which rule
 */
GHashTable *
relay_test_prometheus_parse(const gchar *text, GError **error);
/* the value of @series in @samples, or NAN when absent */
gdouble
relay_test_prometheus_value(GHashTable *samples, const gchar *series);

G_END_DECLS
