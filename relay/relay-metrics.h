/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include "relay-server.h"

G_BEGIN_DECLS

void
relay_metrics_register(RelayServer *self);

G_END_DECLS
