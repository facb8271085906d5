/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#include "config.h"

#include "relay-error.h"

G_DEFINE_QUARK(relay - error - quark, relay_error)
