/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RELAY_STORE_ERROR (relay_store_error_quark())

/**
 * RelayStoreError:
 * @RELAY_STORE_ERROR_FAILED: the backend failed (I/O, SQL, constraint)
 * @RELAY_STORE_ERROR_NOT_FOUND: the row asked for does not exist
 * @RELAY_STORE_ERROR_BUSY: the database is locked by somebody else
 * @RELAY_STORE_ERROR_TOO_NEW: the database was written by a newer relay
 * @RELAY_STORE_ERROR_INVALID: bad arguments or configuration
 * @RELAY_STORE_ERROR_CLOSED: the store is shutting down
 */
typedef enum {
	RELAY_STORE_ERROR_FAILED,
	RELAY_STORE_ERROR_NOT_FOUND,
	RELAY_STORE_ERROR_BUSY,
	RELAY_STORE_ERROR_TOO_NEW,
	RELAY_STORE_ERROR_INVALID,
	RELAY_STORE_ERROR_CLOSED,
} RelayStoreError;

GQuark
relay_store_error_quark(void);

G_END_DECLS
