/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <string.h>

#include "relay-store.h"

G_BEGIN_DECLS

/* the backends, each in its own file */
GType
relay_store_sqlite_get_type(void);
GType
relay_store_memory_get_type(void);

G_END_DECLS
