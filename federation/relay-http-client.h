/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "relay-http-request.h"

G_BEGIN_DECLS

/*
 * An HTTP/1.1 client for POSTs that go to many hosts, many times: the deliveries. It keeps
 * connections alive per host (scheme, host and port), writes each request with one writev and
 * reads the answer's status and headers, dropping the body. It does what deliveries need and no
 * more: no redirects, no cookies, no proxies, no HTTP/2, no request bodies streamed.
 *
 * It runs on the main context that was the thread default when it was made. Names resolve with
 * the default resolver (the daemon installs the SSRF guard there); https goes through GIO's TLS
 * backend.
 */

#define RELAY_TYPE_HTTP_CLIENT (relay_http_client_get_type())
G_DECLARE_FINAL_TYPE(RelayHttpClient, relay_http_client, RELAY, HTTP_CLIENT, GObject)

RelayHttpClient *
relay_http_client_new(const gchar *user_agent,
		      const gchar *tls_ca_file,
		      guint connect_timeout_s,
		      guint idle_timeout_s,
		      guint max_idle,
		      GError **error) G_GNUC_WARN_UNUSED_RESULT;

void
relay_http_client_post_async(RelayHttpClient *self,
			     RelayHttpRequest *request,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data);
gboolean
relay_http_client_post_finish(RelayHttpClient *self,
			      GAsyncResult *res,
			      guint *out_status,
			      gchar **out_retry_after,
			      GError **error) G_GNUC_WARN_UNUSED_RESULT;

guint64
relay_http_client_get_connections_opened(RelayHttpClient *self);
guint
relay_http_client_get_idle(RelayHttpClient *self);
void
relay_http_client_close_idle(RelayHttpClient *self);

G_END_DECLS
