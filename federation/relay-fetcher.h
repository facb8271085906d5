/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "relay-signer.h"

G_BEGIN_DECLS

/* what bounds a fetch; every field has a sane default in relay_fetcher_options_init() */
typedef struct {
	const gchar *user_agent;
	guint timeout_s;     /* the whole fetch, redirects included */
	gsize max_bytes;     /* largest document */
	guint max_redirects; /* redirects followed */
	gboolean allow_private_addresses;
	const gchar *tls_ca_file; /* (nullable): extra CA bundle to trust (tests) */
} RelayFetcherOptions;

#define RELAY_TYPE_FETCHER (relay_fetcher_get_type())
G_DECLARE_FINAL_TYPE(RelayFetcher, relay_fetcher, RELAY, FETCHER, GObject)

void
relay_fetcher_options_init(RelayFetcherOptions *options);
RelayFetcher *
relay_fetcher_new(const RelayFetcherOptions *options, GError **error) G_GNUC_WARN_UNUSED_RESULT;
void
relay_fetcher_fetch_json_async(RelayFetcher *self,
			       const gchar *url,
			       RelaySigner *signer,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data);
JsonNode *
relay_fetcher_fetch_json_finish(RelayFetcher *self,
				GAsyncResult *res,
				gchar **out_url,
				GError **error) G_GNUC_WARN_UNUSED_RESULT;

void
relay_fetcher_fetch_bytes_async(RelayFetcher *self,
				const gchar *url,
				const gchar *accept,
				const gchar *if_none_match,
				RelaySigner *signer,
				GCancellable *cancellable,
				GAsyncReadyCallback callback,
				gpointer user_data);
GBytes *
relay_fetcher_fetch_bytes_finish(RelayFetcher *self,
				 GAsyncResult *res,
				 gchar **out_content_type,
				 gchar **out_etag,
				 gboolean *out_not_modified,
				 GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
