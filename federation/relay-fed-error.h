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
 * @RELAY_FED_ERROR_FAILED: something else failed
 * @RELAY_FED_ERROR_MALFORMED_SIGNATURE: a Signature, Signature-Input or Digest header does not
 *	parse (401)
 * @RELAY_FED_ERROR_UNKNOWN_ALGORITHM: the signature algorithm is not supported, or does not
 *	fit the key (401)
 * @RELAY_FED_ERROR_MISSING_COMPONENT: a header or component that must be signed is not, or a
 *	signed header is absent from the request (401)
 * @RELAY_FED_ERROR_DIGEST_MISMATCH: the body does not match its Digest or Content-Digest (400)
 * @RELAY_FED_ERROR_STALE_DATE: Date, created or expires is outside the clock window (401)
 * @RELAY_FED_ERROR_BAD_SIGNATURE: the signature does not verify with the key (401)
 * @RELAY_FED_ERROR_KEY_NOT_FOUND: the key could not be found or is not usable (401)
 * @RELAY_FED_ERROR_UNSIGNED: the request carries no signature at all (401)
 * @RELAY_FED_ERROR_GONE: the remote document answered 410 Gone
 * @RELAY_FED_ERROR_NOT_FOUND: the remote document answered 404
 * @RELAY_FED_ERROR_FORBIDDEN_ADDRESS: the host resolves to a loopback, private, link-local,
 *	multicast or unspecified address, and those are not allowed
 * @RELAY_FED_ERROR_TOO_LARGE: a fetched document is larger than allowed
 * @RELAY_FED_ERROR_INVALID_DOCUMENT: a fetched or received document is not what it must be
 * @RELAY_FED_ERROR_TRANSIENT: a network error or a 408/429/5xx: worth retrying later
 * @RELAY_FED_ERROR_REFUSED: the remote answered a permanent 4xx
 */
typedef enum {
	RELAY_FED_ERROR_FAILED,
	RELAY_FED_ERROR_MALFORMED_SIGNATURE,
	RELAY_FED_ERROR_UNKNOWN_ALGORITHM,
	RELAY_FED_ERROR_MISSING_COMPONENT,
	RELAY_FED_ERROR_DIGEST_MISMATCH,
	RELAY_FED_ERROR_STALE_DATE,
	RELAY_FED_ERROR_BAD_SIGNATURE,
	RELAY_FED_ERROR_KEY_NOT_FOUND,
	RELAY_FED_ERROR_UNSIGNED,
	RELAY_FED_ERROR_GONE,
	RELAY_FED_ERROR_NOT_FOUND,
	RELAY_FED_ERROR_FORBIDDEN_ADDRESS,
	RELAY_FED_ERROR_TOO_LARGE,
	RELAY_FED_ERROR_INVALID_DOCUMENT,
	RELAY_FED_ERROR_TRANSIENT,
	RELAY_FED_ERROR_REFUSED,
} RelayFedError;

GQuark
relay_fed_error_quark(void);

G_END_DECLS
