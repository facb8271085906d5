/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#include "config.h"

#include "relay-fed-error.h"

G_DEFINE_QUARK(relay - fed - error - quark, relay_fed_error)
