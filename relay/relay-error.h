/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RELAY_ERROR (relay_error_quark())

/**
 * RelayError:
 * @RELAY_ERROR_FAILED: something failed
 * @RELAY_ERROR_CONFIG: the configuration is wrong (message names file, group and key)
 * @RELAY_ERROR_NOT_FOUND: no such thing
 * @RELAY_ERROR_INVALID_ARGUMENT: a command-line argument is wrong
 * @RELAY_ERROR_LISTEN: a listen address cannot be used
 * @RELAY_ERROR_STORAGE: the storage cannot be used
 */
typedef enum {
	RELAY_ERROR_FAILED,
	RELAY_ERROR_CONFIG,
	RELAY_ERROR_NOT_FOUND,
	RELAY_ERROR_INVALID_ARGUMENT,
	RELAY_ERROR_LISTEN,
	RELAY_ERROR_STORAGE,
} RelayError;

GQuark
relay_error_quark(void);

G_END_DECLS
