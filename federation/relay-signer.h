/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "relay-http-request.h"
#include "relay-keys.h"

G_BEGIN_DECLS

/* a key that signs outgoing requests: a network's actor key, shared between threads */
typedef struct _RelaySigner RelaySigner;

typedef enum {
	RELAY_SIGNER_SCHEME_CAVAGE,  /* draft-cavage rsa-sha256, Mastodon's shape */
	RELAY_SIGNER_SCHEME_RFC9421, /* RFC 9421 with Content-Digest */
} RelaySignerScheme;

RelaySigner *
relay_signer_new(const gchar *key_id, EVP_PKEY *key);
RelaySigner *
relay_signer_ref(RelaySigner *self);
void
relay_signer_unref(RelaySigner *self);
const gchar *
relay_signer_get_key_id(RelaySigner *self);
EVP_PKEY *
relay_signer_get_key(RelaySigner *self);
gboolean
relay_signer_sign_message(RelaySigner *self, SoupMessage *msg, GBytes *body, GError **error)
	G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_signer_sign_message_with(RelaySigner *self,
			       RelaySignerScheme scheme,
			       SoupMessage *msg,
			       GBytes *body,
			       GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_signer_sign_request(RelaySigner *self,
			  RelaySignerScheme scheme,
			  RelayHttpRequest *request,
			  GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelaySigner, relay_signer_unref)

G_END_DECLS
