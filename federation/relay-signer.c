/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * Signing outgoing libsoup messages with a network's key. The key is only read once loaded, so
 * one signer may sign on several threads at once (deliveries sign on worker threads).
 */

#include "config.h"

#include "relay-http-sig.h"
#include "relay-signer.h"

struct _RelaySigner {
	gint ref_count; /* atomic */
	gchar *key_id;
	EVP_PKEY *key;
};

/* the headers a signature adds; libsoup writes Host itself, from the same URI */
static const gchar *const signed_headers[] = {
	"Date",
	"Digest",
	"Content-Digest",
	"Signature",
	"Signature-Input",
};

/**
 * relay_signer_new:
 * @key_id: the keyId receivers fetch, ACTOR#main-key
 * @key: a private key (a reference is taken)
 *
 * Returns: (transfer full): a signer
 */
RelaySigner *
relay_signer_new(const gchar *key_id, EVP_PKEY *key)
{
	RelaySigner *self = g_new0(RelaySigner, 1);
	self->ref_count = 1;
	self->key_id = g_strdup(key_id);
	EVP_PKEY_up_ref(key);
	self->key = key;
	return self;
}

/**
 * relay_signer_ref:
 *
 * Returns: (transfer full): @self
 */
RelaySigner *
relay_signer_ref(RelaySigner *self)
{
	g_atomic_int_inc(&self->ref_count);
	return self;
}

void
relay_signer_unref(RelaySigner *self)
{
	if (!g_atomic_int_dec_and_test(&self->ref_count))
		return;
	g_free(self->key_id);
	EVP_PKEY_free(self->key);
	g_free(self);
}

const gchar *
relay_signer_get_key_id(RelaySigner *self)
{
	return self->key_id;
}

/**
 * relay_signer_get_key:
 *
 * Returns: (transfer none): the private key
 */
EVP_PKEY *
relay_signer_get_key(RelaySigner *self)
{
	return self->key;
}

static void
relay_signer_copy_header(const gchar *name, const gchar *value, gpointer user_data)
{
	SoupMessageHeaders *headers = user_data;
	for (guint i = 0; i < G_N_ELEMENTS(signed_headers); i++) {
		if (g_ascii_strcasecmp(name, signed_headers[i]) == 0) {
			soup_message_headers_replace(headers, signed_headers[i], value);
			return;
		}
	}
}

static void
relay_signer_add_existing(const char *name, const char *value, gpointer user_data)
{
	relay_http_request_add_header(user_data, name, value);
}

/**
 * relay_signer_sign_message_with:
 * @scheme: draft-cavage (what every server verifies) or RFC 9421
 * @msg: a request about to be sent
 * @body: (nullable): its body, for the digest
 *
 * Signs @msg: adds Date (unless set), the body digest, and the signature headers. Safe to call
 * from any thread for messages no other thread touches.
 */
gboolean
relay_signer_sign_message_with(
	RelaySigner *self, RelaySignerScheme scheme, SoupMessage *msg, GBytes *body, GError **error)
{
	g_autofree gchar *uri = g_uri_to_string(soup_message_get_uri(msg));
	g_autoptr(RelayHttpRequest) request =
		relay_http_request_new(soup_message_get_method(msg), uri);
	SoupMessageHeaders *headers = soup_message_get_request_headers(msg);

	soup_message_headers_foreach(headers, relay_signer_add_existing, request);
	if (body != NULL)
		relay_http_request_set_body(request, body);
	if (!relay_signer_sign_request(self, scheme, request, error))
		return FALSE;
	relay_http_request_foreach_header(request, relay_signer_copy_header, headers);
	return TRUE;
}

/**
 * relay_signer_sign_request:
 * @scheme: draft-cavage (what every server verifies) or RFC 9421
 * @request: a request about to be sent, with its body
 *
 * Signs @request in place: adds Host and Date (unless set), the body digest, and the signature
 * headers. Safe to call from any thread for requests no other thread touches.
 */
gboolean
relay_signer_sign_request(RelaySigner *self,
			  RelaySignerScheme scheme,
			  RelayHttpRequest *request,
			  GError **error)
{
	if (scheme == RELAY_SIGNER_SCHEME_RFC9421)
		return relay_http_sign_rfc9421(request,
					       self->key_id,
					       self->key,
					       NULL,
					       g_get_real_time() / G_USEC_PER_SEC,
					       error);
	return relay_http_sign_cavage(request, self->key_id, self->key, NULL, error);
}

/**
 * relay_signer_sign_message:
 *
 * Signs @msg with draft-cavage, rsa-sha256 for RSA keys (Mastodon's shape).
 */
gboolean
relay_signer_sign_message(RelaySigner *self, SoupMessage *msg, GBytes *body, GError **error)
{
	return relay_signer_sign_message_with(self, RELAY_SIGNER_SCHEME_CAVAGE, msg, body, error);
}
