/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <glib.h>
#include <openssl/evp.h>

#include "relay-fed-error.h"
#include "relay-http-request.h"
#include "relay-keys.h"

G_BEGIN_DECLS

/*
 * HTTP signatures: draft-cavage-http-signatures-12 (as Mastodon, Misskey, Pleroma, PeerTube and
 * GoToSocial use it) and RFC 9421 (as Fedify and Mastodon 4.4+ use it), verified in three steps
 * so the caller can fetch the key between them:
 *
 *   sig = relay_http_signature_parse(request, &error);       no I/O: which key, which algorithm
 *   ...fetch relay_http_signature_get_key_id(sig)...
 *   relay_http_signature_check(sig, request, now_s, window_s, &error);   coverage, clock, digest
 *   relay_http_signature_verify(sig, request, key, &error);  the cryptographic check
 *
 * check() and verify() are both mandatory; neither implies the other. Binding the key to the
 * activity's actor is the caller's business. Errors are RELAY_FED_ERROR_* codes, one per kind of
 * failure, with a message that names what is wrong (never a key or a signature value).
 *
 * Supported algorithms. Draft-cavage: rsa-sha256, rsa-sha512, hs2019 (RSA PKCS#1 v1.5 SHA-256
 * for RSA keys, Ed25519 for Ed25519 keys), ed25519 and ed25519-sha512 (Misskey's and Joyent's
 * name for Ed25519). RFC 9421: rsa-v1_5-sha256, rsa-pss-sha512, ed25519. Without an algorithm,
 * the key type decides (RSA: PKCS#1 v1.5 SHA-256).
 *
 * All functions are thread-safe on distinct objects; signing and verifying are CPU-bound and
 * belong on a worker thread.
 */
typedef struct _RelayHttpSignature RelayHttpSignature;

typedef enum {
	RELAY_HTTP_SIGNATURE_FORMAT_CAVAGE,  /* a Signature (or Authorization: Signature) header */
	RELAY_HTTP_SIGNATURE_FORMAT_RFC9421, /* Signature-Input and Signature */
} RelayHttpSignatureFormat;

RelayHttpSignature *
relay_http_signature_parse(RelayHttpRequest *request, GError **error) G_GNUC_WARN_UNUSED_RESULT;
void
relay_http_signature_free(RelayHttpSignature *self);

RelayHttpSignatureFormat
relay_http_signature_get_format(RelayHttpSignature *self);
const gchar *
relay_http_signature_get_key_id(RelayHttpSignature *self);
const gchar *
relay_http_signature_get_algorithm(RelayHttpSignature *self);
const gchar *
relay_http_signature_get_label(RelayHttpSignature *self);
const gchar *const *
relay_http_signature_get_components(RelayHttpSignature *self);
gboolean
relay_http_signature_get_created(RelayHttpSignature *self, gint64 *out_created_s);

gchar *
relay_http_signature_build_base(RelayHttpSignature *self,
				RelayHttpRequest *request,
				GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_http_signature_check(RelayHttpSignature *self,
			   RelayHttpRequest *request,
			   gint64 now_s,
			   gint64 window_s,
			   GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_http_signature_verify(RelayHttpSignature *self,
			    RelayHttpRequest *request,
			    EVP_PKEY *key,
			    GError **error) G_GNUC_WARN_UNUSED_RESULT;

gboolean
relay_http_sign_cavage(RelayHttpRequest *request,
		       const gchar *key_id,
		       EVP_PKEY *key,
		       const gchar *const *headers,
		       GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_http_sign_rfc9421(RelayHttpRequest *request,
			const gchar *key_id,
			EVP_PKEY *key,
			const gchar *const *components,
			gint64 created,
			GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayHttpSignature, relay_http_signature_free)

G_END_DECLS
