/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * Fetching remote ActivityPub documents: GET with the ActivityPub Accept header, signed by a
 * network's key when a signer is given (authorized fetch, GoToSocial), bounded in time (the
 * whole fetch, redirects included), in size (read no further than the limit) and in redirects
 * (followed by hand so each hop is checked and signed again). Only http and https; IP literals
 * that are not public are refused here, names are checked by the guarded resolver. HTTP
 * outcomes map to RELAY_FED_ERROR codes: 404 NOT_FOUND, 410 GONE, 408/429/5xx and network
 * errors TRANSIENT, other 4xx REFUSED. relay_fetcher_fetch_bytes_async() fetches any other
 * document (a block list) the same way, with the caller's Accept and If-None-Match.
 */

#include "config.h"

#include <string.h>

#include "relay-address-guard.h"
#include "relay-fed-error.h"
#include "relay-fetcher.h"
#include "relay-json.h"

#define RELAY_FETCHER_ACCEPT                                                                       \
	"application/activity+json, "                                                              \
	"application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\";q=0.9, "           \
	"application/json;q=0.5"
#define RELAY_FETCHER_CHUNK 16384
/* how long one libsoup session takes new fetches (see relay_fetcher_session_get()) */
#define RELAY_FETCHER_SESSION_US (5 * G_USEC_PER_SEC)

struct _RelayFetcher {
	GObject parent_instance;
	SoupSession *session;
	gint64 session_since_us;
	guint session_timer_id; /* drops an old session when no fetch asks for one */
	gchar *user_agent;
	GTlsDatabase *tls_database; /* (nullable) */
	guint timeout_s;
	gsize max_bytes;
	guint max_redirects;
	gboolean allow_private_addresses;
};

G_DEFINE_FINAL_TYPE(RelayFetcher, relay_fetcher, G_TYPE_OBJECT)

typedef struct {
	gchar *url;	     /* the current hop */
	RelaySigner *signer; /* (nullable) */
	guint redirects;
	SoupSession *session;	   /* the fetch's, till it ends (sessions are replaced) */
	GCancellable *cancellable; /* ours: cancelled by the caller's or by the deadline */
	GCancellable *caller_cancellable;
	gulong caller_handler;
	guint deadline_id;
	gboolean timed_out;
	SoupMessage *msg;
	GInputStream *stream;
	GByteArray *buffer;
	/* a fetch of bytes (relay_fetcher_fetch_bytes_async) rather than of a JSON object */
	gboolean raw;
	gchar *accept;	      /* (nullable): the Accept header; the ActivityPub one when NULL */
	gchar *if_none_match; /* (nullable) */
	gboolean not_modified;
	gchar *content_type; /* (nullable): of the answer */
	gchar *etag;	     /* (nullable): of the answer */
} RelayFetch;

static void
relay_fetch_free(RelayFetch *fetch)
{
	g_clear_handle_id(&fetch->deadline_id, g_source_remove);
	if (fetch->caller_handler != 0)
		g_cancellable_disconnect(fetch->caller_cancellable, fetch->caller_handler);
	g_clear_object(&fetch->caller_cancellable);
	g_clear_object(&fetch->cancellable);
	g_clear_object(&fetch->msg);
	g_clear_object(&fetch->stream);
	g_clear_object(&fetch->session);
	g_clear_pointer(&fetch->buffer, g_byte_array_unref);
	g_clear_pointer(&fetch->signer, relay_signer_unref);
	g_free(fetch->url);
	g_free(fetch->accept);
	g_free(fetch->if_none_match);
	g_free(fetch->content_type);
	g_free(fetch->etag);
	g_free(fetch);
}

/**
 * relay_fetcher_options_init:
 * @options: options to fill with the defaults
 */
void
relay_fetcher_options_init(RelayFetcherOptions *options)
{
	memset(options, 0, sizeof(*options));
	options->user_agent = "relay/" PACKAGE_VERSION;
	options->timeout_s = 10;
	options->max_bytes = 1024 * 1024;
	options->max_redirects = 3;
}

/*
 * The session fetches go through, replaced by a new one every few seconds: libsoup 3.2 keeps a
 * five-minute timeout source for every host it has connected to, and GLib's main loop looks at
 * every source at each iteration, so a relay that had fetched the actors and NodeInfo of a
 * thousand new members spent a third of its main thread on those timers. Fetches in flight
 * keep the old session until they end; its hosts and their timers go with it. A timer drops
 * an old session that no fetch replaced.
 */
static gboolean
relay_fetcher_session_timer_cb(gpointer user_data)
{
	RelayFetcher *self = user_data;

	if (self->session != NULL &&
	    g_get_monotonic_time() - self->session_since_us >= RELAY_FETCHER_SESSION_US)
		g_clear_object(&self->session);
	if (self->session != NULL)
		return G_SOURCE_CONTINUE;
	self->session_timer_id = 0;
	return G_SOURCE_REMOVE;
}

static SoupSession *
relay_fetcher_session_get(RelayFetcher *self)
{
	gint64 now_us = g_get_monotonic_time();

	if (self->session != NULL && now_us - self->session_since_us < RELAY_FETCHER_SESSION_US)
		return self->session;
	g_clear_object(&self->session);
	/* no proxy: connections go to the addresses the SSRF guard checked, and GIO does not ask
	 * desktop settings (dconf) what proxy to use */
	self->session = soup_session_new_with_options("user-agent",
						      self->user_agent,
						      "timeout",
						      self->timeout_s,
						      "idle-timeout",
						      60,
						      "max-conns-per-host",
						      4,
						      "proxy-resolver",
						      NULL,
						      NULL);
	if (self->tls_database != NULL)
		soup_session_set_tls_database(self->session, self->tls_database);
	self->session_since_us = now_us;
	if (self->session_timer_id == 0)
		self->session_timer_id =
			g_timeout_add_seconds((guint)(RELAY_FETCHER_SESSION_US / G_USEC_PER_SEC),
					      relay_fetcher_session_timer_cb,
					      self);
	return self->session;
}

/**
 * relay_fetcher_new:
 * @options: the bounds of every fetch
 * @error: (nullable): a #GError
 *
 * Returns: (transfer full) (nullable): a fetcher, or %NULL when the CA file cannot be read
 */
RelayFetcher *
relay_fetcher_new(const RelayFetcherOptions *options, GError **error)
{
	g_autoptr(RelayFetcher) self = g_object_new(RELAY_TYPE_FETCHER, NULL);

	self->timeout_s = options->timeout_s;
	self->max_bytes = options->max_bytes;
	self->max_redirects = options->max_redirects;
	self->allow_private_addresses = options->allow_private_addresses;
	self->user_agent = g_strdup(options->user_agent);
	if (options->tls_ca_file != NULL) {
		self->tls_database = g_tls_file_database_new(options->tls_ca_file, error);
		if (self->tls_database == NULL) {
			g_prefix_error(error, "tls-ca-file %s: ", options->tls_ca_file);
			return NULL;
		}
	}
	relay_fetcher_session_get(self);
	return g_steal_pointer(&self);
}

static gboolean
relay_fetch_deadline_cb(gpointer user_data)
{
	RelayFetch *fetch = user_data;
	fetch->deadline_id = 0;
	fetch->timed_out = TRUE;
	g_cancellable_cancel(fetch->cancellable);
	return G_SOURCE_REMOVE;
}

static void
relay_fetch_caller_cancelled_cb(GCancellable *caller, gpointer user_data)
{
	GCancellable *ours = user_data;
	g_cancellable_cancel(ours);
}

/* turns a transport error into the fetch's own error */
static void
relay_fetch_return_error(GTask *task, GError *error)
{
	RelayFetcher *self = g_task_get_source_object(task);
	RelayFetch *fetch = g_task_get_task_data(task);

	if (fetch->timed_out) {
		g_task_return_new_error(task,
					RELAY_FED_ERROR,
					RELAY_FED_ERROR_TRANSIENT,
					"%s: no answer within %u s",
					fetch->url,
					self->timeout_s);
		g_error_free(error);
		return;
	}
	if (error->domain == RELAY_FED_ERROR ||
	    g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		g_task_return_error(task, error);
		return;
	}
	g_task_return_new_error(task,
				RELAY_FED_ERROR,
				RELAY_FED_ERROR_TRANSIENT,
				"%s: %s",
				fetch->url,
				error->message);
	g_error_free(error);
}

static GError *
relay_fetch_status_error(const gchar *url, guint status)
{
	gint code;

	if (status == SOUP_STATUS_NOT_FOUND)
		code = RELAY_FED_ERROR_NOT_FOUND;
	else if (status == SOUP_STATUS_GONE)
		code = RELAY_FED_ERROR_GONE;
	else if (status == SOUP_STATUS_REQUEST_TIMEOUT || status == 429 /* Too Many Requests */ ||
		 status >= 500)
		code = RELAY_FED_ERROR_TRANSIENT;
	else
		code = RELAY_FED_ERROR_REFUSED;
	return g_error_new(RELAY_FED_ERROR,
			   code,
			   "%s: HTTP %u %s",
			   url,
			   status,
			   soup_status_get_phrase(status));
}

static void
relay_fetch_send(GTask *task);

static void
relay_fetch_read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	RelayFetcher *self = g_task_get_source_object(task);
	RelayFetch *fetch = g_task_get_task_data(task);
	g_autoptr(GBytes) chunk = NULL;
	g_autoptr(GBytes) document = NULL;
	GError *error = NULL;
	JsonNode *root;

	chunk = g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), res, &error);
	if (chunk == NULL) {
		relay_fetch_return_error(task, error);
		return;
	}
	if (g_bytes_get_size(chunk) > 0) {
		if (fetch->buffer->len + g_bytes_get_size(chunk) > self->max_bytes) {
			g_task_return_new_error(task,
						RELAY_FED_ERROR,
						RELAY_FED_ERROR_TOO_LARGE,
						"%s: the document is larger than %" G_GSIZE_FORMAT
						" bytes",
						fetch->url,
						self->max_bytes);
			return;
		}
		g_byte_array_append(fetch->buffer,
				    g_bytes_get_data(chunk, NULL),
				    (guint)g_bytes_get_size(chunk));
		g_input_stream_read_bytes_async(fetch->stream,
						RELAY_FETCHER_CHUNK,
						G_PRIORITY_DEFAULT,
						fetch->cancellable,
						relay_fetch_read_cb,
						g_steal_pointer(&task));
		return;
	}
	g_input_stream_close(fetch->stream, NULL, NULL);
	document = g_byte_array_free_to_bytes(g_steal_pointer(&fetch->buffer));
	if (fetch->raw) {
		g_task_return_pointer(
			task, g_steal_pointer(&document), (GDestroyNotify)g_bytes_unref);
		return;
	}
	root = relay_json_parse_object(document, RELAY_JSON_MAX_DEPTH, &error);
	if (root == NULL) {
		g_prefix_error(&error, "%s: ", fetch->url);
		g_task_return_error(task, error);
		return;
	}
	g_task_return_pointer(task, root, (GDestroyNotify)json_node_unref);
}

static gboolean
relay_fetch_follow_redirect(GTask *task)
{
	RelayFetcher *self = g_task_get_source_object(task);
	RelayFetch *fetch = g_task_get_task_data(task);
	const gchar *location = soup_message_headers_get_one(
		soup_message_get_response_headers(fetch->msg), "Location");
	g_autoptr(GUri) base = NULL;
	g_autoptr(GUri) next = NULL;

	if (location == NULL) {
		g_task_return_new_error(task,
					RELAY_FED_ERROR,
					RELAY_FED_ERROR_INVALID_DOCUMENT,
					"%s: redirect without a Location",
					fetch->url);
		return FALSE;
	}
	if (fetch->redirects >= self->max_redirects) {
		g_task_return_new_error(task,
					RELAY_FED_ERROR,
					RELAY_FED_ERROR_REFUSED,
					"%s: more than %u redirects",
					fetch->url,
					self->max_redirects);
		return FALSE;
	}
	base = g_uri_parse(fetch->url, G_URI_FLAGS_ENCODED, NULL);
	next = base != NULL ? g_uri_parse_relative(base, location, G_URI_FLAGS_ENCODED, NULL)
			    : NULL;
	if (next == NULL) {
		g_task_return_new_error(task,
					RELAY_FED_ERROR,
					RELAY_FED_ERROR_INVALID_DOCUMENT,
					"%s: bad redirect location",
					fetch->url);
		return FALSE;
	}
	fetch->redirects++;
	g_free(fetch->url);
	fetch->url = g_uri_to_string(next);
	return TRUE;
}

static void
relay_fetch_sent_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	RelayFetcher *self = g_task_get_source_object(task);
	RelayFetch *fetch = g_task_get_task_data(task);
	GError *error = NULL;
	guint status;
	goffset length;

	fetch->stream = soup_session_send_finish(SOUP_SESSION(source), res, &error);
	if (fetch->stream == NULL) {
		relay_fetch_return_error(task, error);
		return;
	}
	status = soup_message_get_status(fetch->msg);
	if (fetch->raw && status == SOUP_STATUS_NOT_MODIFIED && fetch->if_none_match != NULL) {
		g_input_stream_close(fetch->stream, NULL, NULL);
		fetch->not_modified = TRUE;
		g_task_return_pointer(
			task, g_bytes_new_static("", 0), (GDestroyNotify)g_bytes_unref);
		return;
	}
	if (SOUP_STATUS_IS_REDIRECTION(status) && status != SOUP_STATUS_NOT_MODIFIED) {
		g_input_stream_close(fetch->stream, NULL, NULL);
		g_clear_object(&fetch->stream);
		if (relay_fetch_follow_redirect(task))
			relay_fetch_send(g_steal_pointer(&task));
		return;
	}
	if (!SOUP_STATUS_IS_SUCCESSFUL(status)) {
		g_input_stream_close(fetch->stream, NULL, NULL);
		g_task_return_error(task, relay_fetch_status_error(fetch->url, status));
		return;
	}
	fetch->content_type = g_strdup(soup_message_headers_get_content_type(
		soup_message_get_response_headers(fetch->msg), NULL));
	fetch->etag = g_strdup(soup_message_headers_get_one(
		soup_message_get_response_headers(fetch->msg), "ETag"));
	length = soup_message_headers_get_content_length(
		soup_message_get_response_headers(fetch->msg));
	if (length > 0 && (gsize)length > self->max_bytes) {
		g_input_stream_close(fetch->stream, NULL, NULL);
		g_task_return_new_error(task,
					RELAY_FED_ERROR,
					RELAY_FED_ERROR_TOO_LARGE,
					"%s: the document is %" G_GOFFSET_FORMAT
					" bytes, more than %" G_GSIZE_FORMAT,
					fetch->url,
					length,
					self->max_bytes);
		return;
	}
	fetch->buffer = g_byte_array_new();
	g_input_stream_read_bytes_async(fetch->stream,
					RELAY_FETCHER_CHUNK,
					G_PRIORITY_DEFAULT,
					fetch->cancellable,
					relay_fetch_read_cb,
					g_steal_pointer(&task));
}

/* sends the current hop */
static void
relay_fetch_send(GTask *task)
{
	RelayFetcher *self = g_task_get_source_object(task);
	RelayFetch *fetch = g_task_get_task_data(task);
	g_autoptr(GUri) uri = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *scheme;

	uri = g_uri_parse(fetch->url, G_URI_FLAGS_ENCODED, &error);
	if (uri == NULL) {
		g_task_return_new_error(task,
					RELAY_FED_ERROR,
					RELAY_FED_ERROR_INVALID_DOCUMENT,
					"'%s' is not a URL",
					fetch->url);
		g_object_unref(task);
		return;
	}
	scheme = g_uri_get_scheme(uri);
	if (g_strcmp0(scheme, "https") != 0 && g_strcmp0(scheme, "http") != 0) {
		g_task_return_new_error(task,
					RELAY_FED_ERROR,
					RELAY_FED_ERROR_REFUSED,
					"%s: only http and https URLs are fetched",
					fetch->url);
		g_object_unref(task);
		return;
	}
	if (!relay_address_guard_check_host(
		    g_uri_get_host(uri), self->allow_private_addresses, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		g_object_unref(task);
		return;
	}
	g_clear_object(&fetch->msg);
	fetch->msg = soup_message_new_from_uri(SOUP_METHOD_GET, uri);
	soup_message_add_flags(fetch->msg, SOUP_MESSAGE_NO_REDIRECT);
	soup_message_headers_replace(soup_message_get_request_headers(fetch->msg),
				     "Accept",
				     fetch->accept != NULL ? fetch->accept : RELAY_FETCHER_ACCEPT);
	if (fetch->if_none_match != NULL)
		soup_message_headers_replace(soup_message_get_request_headers(fetch->msg),
					     "If-None-Match",
					     fetch->if_none_match);
	if (fetch->signer != NULL &&
	    !relay_signer_sign_message(fetch->signer, fetch->msg, NULL, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		g_object_unref(task);
		return;
	}
	g_set_object(&fetch->session, relay_fetcher_session_get(self));
	soup_session_send_async(fetch->session,
				fetch->msg,
				G_PRIORITY_DEFAULT,
				fetch->cancellable,
				relay_fetch_sent_cb,
				task);
}

static RelayFetch *
relay_fetch_start(RelayFetcher *self,
		  const gchar *url,
		  RelaySigner *signer,
		  GCancellable *cancellable,
		  GTask *task)
{
	RelayFetch *fetch = g_new0(RelayFetch, 1);
	const gchar *fragment = strchr(url, '#');

	g_task_set_task_data(task, fetch, (GDestroyNotify)relay_fetch_free);
	fetch->url = fragment != NULL ? g_strndup(url, (gsize)(fragment - url)) : g_strdup(url);
	fetch->signer = signer != NULL ? relay_signer_ref(signer) : NULL;
	fetch->cancellable = g_cancellable_new();
	if (cancellable != NULL) {
		fetch->caller_cancellable = g_object_ref(cancellable);
		fetch->caller_handler =
			g_cancellable_connect(cancellable,
					      G_CALLBACK(relay_fetch_caller_cancelled_cb),
					      g_object_ref(fetch->cancellable),
					      g_object_unref);
	}
	fetch->deadline_id = g_timeout_add_seconds(self->timeout_s, relay_fetch_deadline_cb, fetch);
	return fetch;
}

/**
 * relay_fetcher_fetch_json_async:
 * @url: an http or https URL (a fragment is dropped)
 * @signer: (nullable): signs the GET (authorized fetch)
 * @cancellable: (nullable): a #GCancellable
 *
 * Fetches a JSON object.
 */
void
relay_fetcher_fetch_json_async(RelayFetcher *self,
			       const gchar *url,
			       RelaySigner *signer,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);

	g_task_set_source_tag(task, relay_fetcher_fetch_json_async);
	relay_fetch_start(self, url, signer, cancellable, task);
	relay_fetch_send(task);
}

/**
 * relay_fetcher_fetch_bytes_async:
 * @url: an http or https URL (a fragment is dropped)
 * @accept: the Accept header to send
 * @if_none_match: (nullable): an ETag seen before: a 304 answer is "not modified"
 * @signer: (nullable): signs the GET
 * @cancellable: (nullable): a #GCancellable
 *
 * Fetches a document of any type, with the same bounds and guard as a JSON fetch.
 */
void
relay_fetcher_fetch_bytes_async(RelayFetcher *self,
				const gchar *url,
				const gchar *accept,
				const gchar *if_none_match,
				RelaySigner *signer,
				GCancellable *cancellable,
				GAsyncReadyCallback callback,
				gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	RelayFetch *fetch;

	g_task_set_source_tag(task, relay_fetcher_fetch_bytes_async);
	fetch = relay_fetch_start(self, url, signer, cancellable, task);
	fetch->raw = TRUE;
	fetch->accept = g_strdup(accept);
	fetch->if_none_match = g_strdup(if_none_match);
	relay_fetch_send(task);
}

/**
 * relay_fetcher_fetch_bytes_finish:
 * @out_content_type: (out) (optional) (nullable) (transfer full): the answer's media type
 * @out_etag: (out) (optional) (nullable) (transfer full): the answer's ETag
 * @out_not_modified: (out) (optional): the server answered 304 to If-None-Match; the bytes
 *	are then empty
 *
 * Returns: (transfer full) (nullable): the document
 */
GBytes *
relay_fetcher_fetch_bytes_finish(RelayFetcher *self,
				 GAsyncResult *res,
				 gchar **out_content_type,
				 gchar **out_etag,
				 gboolean *out_not_modified,
				 GError **error)
{
	RelayFetch *fetch;
	GBytes *bytes;

	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	bytes = g_task_propagate_pointer(G_TASK(res), error);
	fetch = g_task_get_task_data(G_TASK(res));
	if (bytes == NULL)
		return NULL;
	if (out_content_type != NULL)
		*out_content_type = g_strdup(fetch->content_type);
	if (out_etag != NULL)
		*out_etag = g_strdup(fetch->etag);
	if (out_not_modified != NULL)
		*out_not_modified = fetch->not_modified;
	return bytes;
}

/**
 * relay_fetcher_fetch_json_finish:
 * @out_url: (out) (optional): the URL the document came from, after redirects
 *
 * Returns: (transfer full) (nullable): the document, a JSON object
 */
JsonNode *
relay_fetcher_fetch_json_finish(RelayFetcher *self,
				GAsyncResult *res,
				gchar **out_url,
				GError **error)
{
	RelayFetch *fetch;
	JsonNode *root;

	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	root = g_task_propagate_pointer(G_TASK(res), error);
	fetch = g_task_get_task_data(G_TASK(res));
	if (root != NULL && out_url != NULL)
		*out_url = g_strdup(fetch->url);
	return root;
}

static void
relay_fetcher_dispose(GObject *object)
{
	RelayFetcher *self = RELAY_FETCHER(object);
	if (self->session != NULL)
		soup_session_abort(self->session);
	g_clear_object(&self->session);
	g_clear_handle_id(&self->session_timer_id, g_source_remove);
	g_clear_object(&self->tls_database);
	g_clear_pointer(&self->user_agent, g_free);
	G_OBJECT_CLASS(relay_fetcher_parent_class)->dispose(object);
}

static void
relay_fetcher_init(RelayFetcher *self)
{
}

static void
relay_fetcher_class_init(RelayFetcherClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = relay_fetcher_dispose;
}
