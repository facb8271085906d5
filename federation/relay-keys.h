/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <glib.h>
#include <openssl/bio.h>
#include <openssl/evp.h>

#include "relay-fed-error.h"

G_BEGIN_DECLS

/*
 * Key pairs and public keys for HTTP signatures: RSA and Ed25519 through the OpenSSL 3 EVP API.
 * Every function is thread-safe (no shared state). Failures carry the OpenSSL error queue in the
 * message; no key material is ever logged or put into an error message.
 *
 * Error codes: RELAY_FED_ERROR_KEY_NOT_FOUND when the input is not a usable key (bad PEM, bad
 * multibase, wrong key type), RELAY_FED_ERROR_FAILED when OpenSSL fails on a valid key.
 */

G_DEFINE_AUTOPTR_CLEANUP_FUNC(EVP_PKEY, EVP_PKEY_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(EVP_PKEY_CTX, EVP_PKEY_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(EVP_MD_CTX, EVP_MD_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BIO, BIO_free)

/* the smallest and largest RSA modulus relay_keys_generate_rsa() makes */
#define RELAY_KEYS_RSA_MIN_BITS 2048
#define RELAY_KEYS_RSA_MAX_BITS 8192

EVP_PKEY *
relay_keys_generate_rsa(guint bits, GError **error) G_GNUC_WARN_UNUSED_RESULT;
EVP_PKEY *
relay_keys_generate_ed25519(GError **error) G_GNUC_WARN_UNUSED_RESULT;

gchar *
relay_keys_private_pem(EVP_PKEY *key, GError **error) G_GNUC_WARN_UNUSED_RESULT;
gchar *
relay_keys_public_pem(EVP_PKEY *key, GError **error) G_GNUC_WARN_UNUSED_RESULT;
EVP_PKEY *
relay_keys_from_pem(const gchar *pem, GError **error) G_GNUC_WARN_UNUSED_RESULT;

gchar *
relay_keys_ed25519_multibase(EVP_PKEY *key, GError **error) G_GNUC_WARN_UNUSED_RESULT;
EVP_PKEY *
relay_keys_from_multibase(const gchar *multibase, GError **error) G_GNUC_WARN_UNUSED_RESULT;

gboolean
relay_keys_is_rsa(EVP_PKEY *key);
gboolean
relay_keys_is_ed25519(EVP_PKEY *key);
gchar *
relay_keys_openssl_errors(void) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
