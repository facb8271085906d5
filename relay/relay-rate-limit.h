/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* a token bucket per key (a remote address): @rate tokens a second, at most @burst saved up */
typedef struct _RelayRateLimit RelayRateLimit;

RelayRateLimit *
relay_rate_limit_new(guint rate, guint burst);
void
relay_rate_limit_free(RelayRateLimit *self);
void
relay_rate_limit_set(RelayRateLimit *self, guint rate, guint burst);
gboolean
relay_rate_limit_take(RelayRateLimit *self,
		      const gchar *key,
		      gint64 now_us,
		      guint *out_retry_after_s);
guint
relay_rate_limit_get_size(RelayRateLimit *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayRateLimit, relay_rate_limit_free)

G_END_DECLS
