/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * An HTTP request as HTTP signatures see it, independent of libsoup: the method, the target URI
 * with its path and query exactly as they were sent (no decoding, no normalisation), the header
 * lines in order, and the raw body. The relay builds one from a received SoupServerMessage
 * (created with "raw-paths") or from an outgoing SoupMessage, and after signing copies the
 * headers back with relay_http_request_foreach_header().
 *
 * Not thread-safe: one thread uses a request at a time. Strings returned by the getters belong
 * to the request and stay valid until the next call that changes it.
 */
typedef struct _RelayHttpRequest RelayHttpRequest;

/* called once per header line, in order, with the name as it was added */
typedef void (*RelayHttpHeaderFunc)(const gchar *name, const gchar *value, gpointer user_data);

RelayHttpRequest *
relay_http_request_new(const gchar *method, const gchar *target_uri);
void
relay_http_request_free(RelayHttpRequest *self);

const gchar *
relay_http_request_get_method(RelayHttpRequest *self);
const gchar *
relay_http_request_get_target_uri(RelayHttpRequest *self);
const gchar *
relay_http_request_get_scheme(RelayHttpRequest *self);
const gchar *
relay_http_request_get_authority(RelayHttpRequest *self);
const gchar *
relay_http_request_get_path(RelayHttpRequest *self);
const gchar *
relay_http_request_get_query(RelayHttpRequest *self);
const gchar *
relay_http_request_get_path_and_query(RelayHttpRequest *self);

void
relay_http_request_add_header(RelayHttpRequest *self, const gchar *name, const gchar *value);
guint
relay_http_request_remove_header(RelayHttpRequest *self, const gchar *name);
const gchar *
relay_http_request_get_header(RelayHttpRequest *self, const gchar *name);
void
relay_http_request_foreach_header(RelayHttpRequest *self,
				  RelayHttpHeaderFunc func,
				  gpointer user_data);

void
relay_http_request_set_body(RelayHttpRequest *self, GBytes *body);
GBytes *
relay_http_request_get_body(RelayHttpRequest *self);

gchar *
relay_http_date_format(gint64 time_s) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_http_date_parse(const gchar *text, gint64 *out_time_s) G_GNUC_WARN_UNUSED_RESULT;

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayHttpRequest, relay_http_request_free)

G_END_DECLS
