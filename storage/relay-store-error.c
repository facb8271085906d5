/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#include "config.h"

#include "relay-store-error.h"

G_DEFINE_QUARK(relay - store - error - quark, relay_store_error)
