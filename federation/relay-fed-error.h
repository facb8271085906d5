/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RELAY_FED_ERROR (relay_fed_error_quark())

/**
 * RelayFedError:
 * @RELAY_FED_ERROR_FAILED: something failed
 */
typedef enum {
	RELAY_FED_ERROR_FAILED,
} RelayFedError;

GQuark
relay_fed_error_quark(void);

G_END_DECLS
