/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * The delivery engine against fake inboxes ("sinks"): SoupServers on distinct loopback
 * addresses (127.0.0.2, 127.0.0.3, ...) that check the HTTP signature of every POST with the
 * network's public key and record what they got. A sink can be told to answer a status (a
 * script of them), a Retry-After, to answer late, to never answer, or to be down.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>

#include "relay-deliverer-private.h"
#include "relay-http-sig.h"
#include "relay-keys.h"
#include "relay-network.h"
#include "relay-store.h"
#include "relay-test-utils.h"

#define PUBLIC_URL "https://relay.example"
#define WAIT_MS	   60000

/* made once: RSA key generation is slow */
static RelayNetworkRecord *network_records[2];
static const gchar *const network_names[] = {"relay", "town"};
static GHashTable *network_keys; /* key id → EVP_PKEY */

/* requests in progress at all sinks together, and the most seen */
static guint global_concurrent;
static guint global_max_concurrent;

typedef struct {
	guint status;
	const gchar *retry_after; /* (nullable) */
} SinkAnswer;

typedef struct _Fixture Fixture;

typedef struct {
	Fixture *fixture;
	SoupServer *server;
	gchar *address;
	guint16 port;
	gboolean tls;
	gboolean up;
	gchar *origin;
	/* behaviour */
	GArray *script; /* (element-type SinkAnswer): answered first, in order */
	guint status;	/* then this */
	const gchar *retry_after;
	guint delay_ms;
	gboolean stall;
	/* records */
	guint requests;
	guint verified;
	guint refused;
	guint bad_content_type;
	GPtrArray *bodies;	  /* (element-type GBytes) */
	GPtrArray *paths;	  /* (element-type utf8) */
	GPtrArray *key_ids;	  /* (element-type utf8) */
	GArray *arrivals_us;	  /* (element-type gint64): monotonic */
	GArray *arrivals_real_us; /* (element-type gint64): wall clock, for HTTP dates */
	GHashTable *peers;	  /* remote ports, one per connection */
	guint concurrent;
	guint max_concurrent;
	GSList *stalled; /* (element-type SoupServerMessage) */
	GSList *delayed; /* (element-type SinkDelayed) */
} Sink;

typedef struct {
	Sink *sink;
	SoupServerMessage *msg;
	guint status;
	guint source_id;
} SinkDelayed;

struct _Fixture {
	gchar *tmpdir;
	RelayStore *store;
	GHashTable *networks;
	RelayDelivererOptions options;
	RelayDeliverer *deliverer;
	GPtrArray *sinks;
};

/* sinks */

static gboolean
sink_check_signature(Sink *sink, SoupServerMessage *msg, GBytes *body)
{
	g_autofree gchar *uri = g_uri_to_string(soup_server_message_get_uri(msg));
	g_autoptr(RelayHttpRequest) request =
		relay_http_request_new(soup_server_message_get_method(msg), uri);
	g_autoptr(RelayHttpSignature) signature = NULL;
	g_autoptr(GError) error = NULL;
	SoupMessageHeadersIter iter;
	const char *name;
	const char *value;
	EVP_PKEY *key;

	soup_message_headers_iter_init(&iter, soup_server_message_get_request_headers(msg));
	while (soup_message_headers_iter_next(&iter, &name, &value))
		relay_http_request_add_header(request, name, value);
	relay_http_request_set_body(request, body);
	signature = relay_http_signature_parse(request, &error);
	if (signature == NULL) {
		g_test_message("sink %s: %s", sink->address, error->message);
		return FALSE;
	}
	g_ptr_array_add(sink->key_ids, g_strdup(relay_http_signature_get_key_id(signature)));
	key = g_hash_table_lookup(network_keys, relay_http_signature_get_key_id(signature));
	if (key == NULL ||
	    !relay_http_signature_check(
		    signature, request, g_get_real_time() / G_USEC_PER_SEC, 300, &error) ||
	    !relay_http_signature_verify(signature, request, key, &error)) {
		g_test_message("sink %s: refused: %s",
			       sink->address,
			       error != NULL ? error->message : "unknown key");
		return FALSE;
	}
	return TRUE;
}

static gboolean
sink_delayed_cb(gpointer user_data)
{
	SinkDelayed *delayed = user_data;
	Sink *sink = delayed->sink;

	sink->concurrent--;
	global_concurrent--;
	soup_server_message_set_status(delayed->msg, delayed->status, NULL);
	soup_server_message_unpause(delayed->msg);
	sink->delayed = g_slist_remove(sink->delayed, delayed);
	g_object_unref(delayed->msg);
	g_free(delayed);
	return G_SOURCE_REMOVE;
}

static void
sink_cb(SoupServer *server,
	SoupServerMessage *msg,
	const char *path,
	GHashTable *query,
	gpointer user_data)
{
	Sink *sink = user_data;
	GSocketAddress *remote = soup_server_message_get_remote_address(msg);
	SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
	g_autoptr(GBytes) body = NULL;
	gint64 now_us = g_get_monotonic_time();
	gint64 real_us = g_get_real_time();
	SinkAnswer answer = {sink->status, sink->retry_after};

	sink->requests++;
	g_array_append_val(sink->arrivals_us, now_us);
	g_array_append_val(sink->arrivals_real_us, real_us);
	g_hash_table_add(
		sink->peers,
		GUINT_TO_POINTER(g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(remote))));
	body = soup_message_body_flatten(soup_server_message_get_request_body(msg));
	if (g_strcmp0(soup_message_headers_get_content_type(headers, NULL),
		      "application/activity+json") != 0)
		sink->bad_content_type++;
	if (sink_check_signature(sink, msg, body))
		sink->verified++;
	else
		sink->refused++;
	g_ptr_array_add(sink->bodies, g_bytes_ref(body));
	g_ptr_array_add(sink->paths, g_strdup(path));

	if (sink->script->len > 0) {
		answer = g_array_index(sink->script, SinkAnswer, 0);
		g_array_remove_index(sink->script, 0);
	}
	if (answer.retry_after != NULL)
		soup_message_headers_replace(soup_server_message_get_response_headers(msg),
					     "Retry-After",
					     answer.retry_after);
	if (sink->stall) {
		sink->stalled = g_slist_prepend(sink->stalled, g_object_ref(msg));
		soup_server_message_pause(msg);
		return;
	}
	if (sink->delay_ms > 0) {
		SinkDelayed *delayed = g_new0(SinkDelayed, 1);

		delayed->sink = sink;
		delayed->msg = g_object_ref(msg);
		delayed->status = answer.status;
		delayed->source_id = g_timeout_add(sink->delay_ms, sink_delayed_cb, delayed);
		sink->delayed = g_slist_prepend(sink->delayed, delayed);
		sink->concurrent++;
		sink->max_concurrent = MAX(sink->max_concurrent, sink->concurrent);
		global_concurrent++;
		global_max_concurrent = MAX(global_max_concurrent, global_concurrent);
		soup_server_message_pause(msg);
		return;
	}
	soup_server_message_set_status(msg, answer.status, NULL);
}

/* a port on @address nobody listens on now */
static guint16
sink_reserve_port(const gchar *address)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocket) socket = NULL;
	g_autoptr(GSocketAddress) any = g_inet_socket_address_new_from_string(address, 0);
	g_autoptr(GSocketAddress) bound = NULL;

	socket = g_socket_new(
		G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
	g_assert_no_error(error);
	g_socket_bind(socket, any, TRUE, &error);
	g_assert_no_error(error);
	bound = g_socket_get_local_address(socket, &error);
	g_assert_no_error(error);
	return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
}

static void
sink_up(Sink *sink)
{
	g_autoptr(GSocketAddress) address =
		g_inet_socket_address_new_from_string(sink->address, sink->port);
	g_autoptr(GError) error = NULL;

	soup_server_listen(sink->server, address, sink->tls ? SOUP_SERVER_LISTEN_HTTPS : 0, &error);
	g_assert_no_error(error);
	sink->up = TRUE;
}

static Sink *
sink_new(Fixture *fixture, const gchar *address, gboolean up, gboolean tls)
{
	Sink *sink = g_new0(Sink, 1);
	g_autoptr(GError) error = NULL;

	sink->fixture = fixture;
	sink->address = g_strdup(address);
	sink->tls = tls;
	sink->status = SOUP_STATUS_ACCEPTED;
	sink->script = g_array_new(FALSE, FALSE, sizeof(SinkAnswer));
	sink->bodies = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	sink->paths = g_ptr_array_new_with_free_func(g_free);
	sink->key_ids = g_ptr_array_new_with_free_func(g_free);
	sink->arrivals_us = g_array_new(FALSE, FALSE, sizeof(gint64));
	sink->arrivals_real_us = g_array_new(FALSE, FALSE, sizeof(gint64));
	sink->peers = g_hash_table_new(g_direct_hash, g_direct_equal);
	if (tls) {
		g_autofree gchar *path = relay_test_source_path("tests/data/deliverer-server.pem");
		g_autoptr(GTlsCertificate) certificate =
			g_tls_certificate_new_from_file(path, &error);
		g_assert_no_error(error);
		sink->server = soup_server_new("tls-certificate", certificate, NULL);
	} else {
		sink->server = soup_server_new(NULL, NULL);
	}
	soup_server_add_handler(sink->server, NULL, sink_cb, sink, NULL);
	sink->port = sink_reserve_port(address);
	sink->origin = g_strdup_printf("%s://%s:%u", tls ? "https" : "http", address, sink->port);
	if (up)
		sink_up(sink);
	g_ptr_array_add(fixture->sinks, sink);
	return sink;
}

static void
sink_script(Sink *sink, guint status, const gchar *retry_after)
{
	SinkAnswer answer = {status, retry_after};
	g_array_append_val(sink->script, answer);
}

static gchar *
sink_inbox(Sink *sink, const gchar *path)
{
	return g_strdup_printf("%s%s", sink->origin, path);
}

static void
sink_free(Sink *sink)
{
	for (GSList *l = sink->stalled; l != NULL; l = l->next) {
		soup_server_message_set_status(l->data, SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
		soup_server_message_unpause(l->data);
	}
	g_slist_free_full(sink->stalled, g_object_unref);
	while (sink->delayed != NULL) {
		SinkDelayed *delayed = sink->delayed->data;
		g_source_remove(delayed->source_id);
		sink_delayed_cb(delayed);
	}
	soup_server_disconnect(sink->server);
	g_object_unref(sink->server);
	g_array_unref(sink->script);
	g_ptr_array_unref(sink->bodies);
	g_ptr_array_unref(sink->paths);
	g_ptr_array_unref(sink->key_ids);
	g_array_unref(sink->arrivals_us);
	g_array_unref(sink->arrivals_real_us);
	g_hash_table_unref(sink->peers);
	g_free(sink->address);
	g_free(sink->origin);
	g_free(sink);
}

static gdouble
sink_gap_s(Sink *sink, guint index)
{
	return (gdouble)(g_array_index(sink->arrivals_us, gint64, index) -
			 g_array_index(sink->arrivals_us, gint64, index - 1)) /
	       G_USEC_PER_SEC;
}

/* the fixture */

static void
fixture_setup(Fixture *fixture, gconstpointer user_data)
{
	const gchar *backend = user_data;
	g_autofree gchar *path = NULL;
	g_autoptr(GError) error = NULL;

	fixture->tmpdir = relay_test_mkdtemp();
	path = g_build_filename(fixture->tmpdir, "relay.db", NULL);
	fixture->store =
		relay_store_new(backend, g_str_equal(backend, "sqlite") ? path : NULL, &error);
	g_assert_no_error(error);
	fixture->networks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
	for (guint i = 0; i < G_N_ELEMENTS(network_names); i++) {
		RelayNetworkConfig config = {
			.name = (gchar *)network_names[i],
			.title = (gchar *)"",
			.summary = (gchar *)"",
			.join = RELAY_JOIN_POLICY_OPEN,
		};
		RelayNetwork *network = NULL;

		g_assert_true(relay_store_network_create(
			fixture->store, network_records[i], NULL, NULL, &error));
		g_assert_no_error(error);
		network = relay_network_new(PUBLIC_URL, &config, network_records[i], &error);
		g_assert_no_error(error);
		g_hash_table_insert(fixture->networks, g_strdup(network_names[i]), network);
	}
	fixture->sinks = g_ptr_array_new_with_free_func((GDestroyNotify)sink_free);

	/* short delays keep the tests fast; the breaker and eviction stay out of the way */
	relay_deliverer_options_init(&fixture->options);
	fixture->options.retry_base_s = 1;
	fixture->options.retry_cap_s = 60;
	fixture->options.timeout_s = 2;
	fixture->options.breaker_failures = 1000;
	fixture->options.allow_private_addresses = TRUE;
	fixture->options.batch = 64;
	global_concurrent = 0;
	global_max_concurrent = 0;
}

static void
deliverer_stopped_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	gboolean *stopped = user_data;
	g_autoptr(GError) error = NULL;

	g_assert_true(relay_deliverer_stop_finish(RELAY_DELIVERER(source), res, &error));
	g_assert_no_error(error);
	*stopped = TRUE;
}

static gboolean
flag_set(gpointer user_data)
{
	return *(gboolean *)user_data;
}

static void
fixture_stop(Fixture *fixture)
{
	gboolean stopped = FALSE;

	if (fixture->deliverer == NULL)
		return;
	relay_deliverer_stop_async(fixture->deliverer, NULL, deliverer_stopped_cb, &stopped);
	g_assert_true(relay_test_wait_until(NULL, flag_set, &stopped, WAIT_MS));
	g_assert_finalize_object(g_steal_pointer(&fixture->deliverer));
}

static void
fixture_teardown(Fixture *fixture, gconstpointer user_data)
{
	fixture_stop(fixture);
	g_ptr_array_unref(fixture->sinks);
	g_hash_table_unref(fixture->networks);
	relay_store_close(fixture->store);
	g_assert_finalize_object(g_steal_pointer(&fixture->store));
	relay_test_rmdir(fixture->tmpdir);
	g_free(fixture->tmpdir);
}

static void
fixture_start(Fixture *fixture)
{
	g_autoptr(GError) error = NULL;

	fixture->deliverer = relay_deliverer_new(fixture->store, &fixture->options, &error);
	g_assert_no_error(error);
	relay_deliverer_set_networks(fixture->deliverer, fixture->networks);
	relay_deliverer_start(fixture->deliverer);
}

static GBytes *
activity_body(const gchar *network, guint index)
{
	gchar *text = g_strdup_printf("{\"@context\":\"https://www.w3.org/ns/activitystreams\","
				      "\"id\":\"%s/activities/%s-%u\",\"type\":\"Announce\","
				      "\"actor\":\"%s/actor\","
				      "\"object\":\"https://a.example/notes/%u\"}",
				      PUBLIC_URL,
				      network,
				      index,
				      PUBLIC_URL,
				      index);
	return g_bytes_new_take(text, strlen(text));
}

/* queues @body for @inboxes as if it arrived at @now_us (0: now), and wakes the engine */
static void
fixture_enqueue(
	Fixture *fixture, const gchar *network, GBytes *body, GPtrArray *inboxes, gint64 now_us)
{
	g_autoptr(GPtrArray) fanouts =
		g_ptr_array_new_with_free_func((GDestroyNotify)relay_fanout_free);
	RelayFanout *fanout = relay_fanout_new(network, body);
	g_autoptr(GError) error = NULL;

	for (guint i = 0; i < inboxes->len; i++)
		relay_fanout_add_inbox(fanout, g_ptr_array_index(inboxes, i));
	g_ptr_array_add(fanouts, fanout);
	g_assert_true(relay_store_delivery_enqueue(
		fixture->store, fanouts, now_us != 0 ? now_us : g_get_real_time(), NULL, &error));
	g_assert_no_error(error);
	if (fixture->deliverer != NULL)
		relay_deliverer_wake(fixture->deliverer);
}

static void
fixture_enqueue_one(Fixture *fixture, const gchar *network, GBytes *body, const gchar *inbox)
{
	g_autoptr(GPtrArray) inboxes = g_ptr_array_new();
	g_ptr_array_add(inboxes, (gpointer)inbox);
	fixture_enqueue(fixture, network, body, inboxes, 0);
}

static RelayQueueStats
fixture_stats(Fixture *fixture)
{
	RelayQueueStats stats = {0};
	g_autoptr(GError) error = NULL;

	g_assert_true(relay_store_delivery_stats(fixture->store, &stats, NULL, &error));
	g_assert_no_error(error);
	return stats;
}

static RelayDelivererCounters
fixture_counters(Fixture *fixture)
{
	RelayDelivererCounters counters;
	relay_deliverer_get_counters(fixture->deliverer, &counters);
	return counters;
}

/* waiting */

typedef struct {
	Fixture *fixture;
	guint64 want;
	guint outcome;
} Want;

static gboolean
queue_is_cb(gpointer user_data)
{
	Want *want = user_data;
	return fixture_stats(want->fixture).queued == want->want;
}

static void
wait_queue(Fixture *fixture, guint64 queued)
{
	Want want = {fixture, queued, 0};
	g_assert_true(relay_test_wait_until(NULL, queue_is_cb, &want, WAIT_MS));
}

static gboolean
outcomes_reach_cb(gpointer user_data)
{
	Want *want = user_data;
	return fixture_counters(want->fixture).outcomes[want->outcome] >= want->want;
}

static void
wait_outcomes(Fixture *fixture, RelayDeliveryOutcome outcome, guint64 count)
{
	Want want = {fixture, count, outcome};
	g_assert_true(relay_test_wait_until(NULL, outcomes_reach_cb, &want, WAIT_MS));
}

typedef struct {
	const guint *value;
	guint want;
} AtLeast;

static gboolean
at_least_cb(gpointer user_data)
{
	AtLeast *at_least = user_data;
	return *at_least->value >= at_least->want;
}

static void
wait_at_least(const guint *value, guint want)
{
	AtLeast at_least = {value, want};
	g_assert_true(relay_test_wait_until(NULL, at_least_cb, &at_least, WAIT_MS));
}

/* unit tests */

static void
test_retry_after(void)
{
	gint64 now_us = G_GINT64_CONSTANT(1700000000) * G_USEC_PER_SEC;
	gint64 delay_us = -1;
	g_autofree gchar *date = relay_http_date_format(1700000000 + 120);

	g_assert_true(relay_deliverer_parse_retry_after("2", now_us, &delay_us));
	g_assert_cmpint(delay_us, ==, 2 * G_USEC_PER_SEC);
	g_assert_true(relay_deliverer_parse_retry_after(" 30 ", now_us, &delay_us));
	g_assert_cmpint(delay_us, ==, 30 * G_USEC_PER_SEC);
	/* absurdly long values stay positive; the engine caps them */
	g_assert_true(relay_deliverer_parse_retry_after("99999999999999999999", now_us, &delay_us));
	g_assert_cmpint(delay_us, >, 0);
	g_assert_true(relay_deliverer_parse_retry_after(date, now_us, &delay_us));
	g_assert_cmpint(delay_us, ==, 120 * G_USEC_PER_SEC);
	g_assert_true(relay_deliverer_parse_retry_after(
		"Sun, 06 Nov 1994 08:49:37 GMT", now_us, &delay_us));
	g_assert_cmpint(delay_us, ==, 0);
	g_assert_false(relay_deliverer_parse_retry_after("", now_us, &delay_us));
	g_assert_false(relay_deliverer_parse_retry_after("-5", now_us, &delay_us));
	g_assert_false(relay_deliverer_parse_retry_after("12s", now_us, &delay_us));
	g_assert_false(relay_deliverer_parse_retry_after("tomorrow", now_us, &delay_us));
}

static void
test_backoff(void)
{
	for (guint i = 0; i < 100; i++) {
		gint64 first = relay_deliverer_retry_delay_us(30, 21600, 0);
		gint64 fourth = relay_deliverer_retry_delay_us(30, 21600, 3);
		gint64 capped = relay_deliverer_retry_delay_us(30, 21600, 20);
		gint64 huge = relay_deliverer_retry_delay_us(30, 21600, G_MAXUINT);

		g_assert_cmpint(first, >, 22 * G_USEC_PER_SEC);
		g_assert_cmpint(first, <=, 30 * G_USEC_PER_SEC);
		g_assert_cmpint(fourth, >, 180 * G_USEC_PER_SEC);
		g_assert_cmpint(fourth, <=, 240 * G_USEC_PER_SEC);
		g_assert_cmpint(capped, >, G_GINT64_CONSTANT(16200) * G_USEC_PER_SEC);
		g_assert_cmpint(capped, <=, G_GINT64_CONSTANT(21600) * G_USEC_PER_SEC);
		g_assert_cmpint(huge, <=, G_GINT64_CONSTANT(21600) * G_USEC_PER_SEC);
	}
}

static void
test_config(void)
{
	const gchar *data = "[relay]\n"
			    "public-url = https://relay.example\n"
			    "[federation]\n"
			    "allow-private-addresses = true\n"
			    "tls-ca-file = ca.pem\n"
			    "[delivery]\n"
			    "workers = 3\n"
			    "max-connections-per-host = 2\n"
			    "max-in-flight = 100\n"
			    "timeout = 5\n"
			    "retry-base = 10\n"
			    "retry-cap = 600\n"
			    "max-age = 3600\n"
			    "breaker-failures = 4\n"
			    "breaker-pause = 60\n"
			    "evict-after = 7200\n"
			    "batch = 50\n"
			    "lease = 120\n";
	g_autoptr(RelayConfig) config = NULL;
	g_autoptr(RelayConfig) plain = NULL;
	g_autoptr(GPtrArray) warnings = NULL;
	g_autoptr(GError) error = NULL;
	RelayDelivererOptions options;
	RelayDelivererOptions defaults;

	config = relay_config_new_from_data(data, -1, "/etc/relay/relay.conf", &warnings, &error);
	g_assert_no_error(error);
	g_assert_true(warnings == NULL || warnings->len == 0);
	relay_deliverer_options_from_config(&options, config);
	g_assert_cmpuint(options.workers, ==, 3);
	g_assert_cmpuint(options.max_connections_per_host, ==, 2);
	g_assert_cmpuint(options.max_in_flight, ==, 100);
	g_assert_cmpuint(options.timeout_s, ==, 5);
	g_assert_cmpuint(options.retry_base_s, ==, 10);
	g_assert_cmpuint(options.retry_cap_s, ==, 600);
	g_assert_cmpuint(options.max_age_s, ==, 3600);
	g_assert_cmpuint(options.breaker_failures, ==, 4);
	g_assert_cmpuint(options.breaker_pause_s, ==, 60);
	g_assert_cmpuint(options.evict_after_s, ==, 7200);
	g_assert_cmpuint(options.batch, ==, 50);
	g_assert_cmpuint(options.lease_s, ==, 120);
	g_assert_true(options.allow_private_addresses);
	g_assert_cmpstr(options.tls_ca_file, ==, "/etc/relay/ca.pem");

	/* the table's defaults are relay_deliverer_options_init()'s */
	plain = relay_config_new_from_data(
		"[relay]\npublic-url = https://relay.example\n", -1, NULL, NULL, &error);
	g_assert_no_error(error);
	relay_deliverer_options_from_config(&options, plain);
	relay_deliverer_options_init(&defaults);
	g_assert_cmpuint(options.workers, ==, defaults.workers);
	g_assert_cmpuint(options.max_connections_per_host, ==, defaults.max_connections_per_host);
	g_assert_cmpuint(options.max_in_flight, ==, defaults.max_in_flight);
	g_assert_cmpuint(options.timeout_s, ==, defaults.timeout_s);
	g_assert_cmpuint(options.retry_base_s, ==, defaults.retry_base_s);
	g_assert_cmpuint(options.retry_cap_s, ==, defaults.retry_cap_s);
	g_assert_cmpuint(options.max_age_s, ==, defaults.max_age_s);
	g_assert_cmpuint(options.breaker_failures, ==, defaults.breaker_failures);
	g_assert_cmpuint(options.breaker_pause_s, ==, defaults.breaker_pause_s);
	g_assert_cmpuint(options.evict_after_s, ==, defaults.evict_after_s);
	g_assert_cmpuint(options.batch, ==, defaults.batch);
	g_assert_cmpuint(options.lease_s, ==, defaults.lease_s);
	g_assert_null(options.tls_ca_file);
}

/* deliveries */

static gboolean
bytes_in(GPtrArray *array, GBytes *bytes)
{
	for (guint i = 0; i < array->len; i++) {
		if (g_bytes_equal(g_ptr_array_index(array, i), bytes))
			return TRUE;
	}
	return FALSE;
}

/* two networks, three inboxes each: signed by the right network, bodies byte-identical */
static void
test_fanout(Fixture *fixture, gconstpointer user_data)
{
	const gchar *addresses[] = {"127.0.0.2", "127.0.0.3", "127.0.0.4"};
	g_autoptr(GBytes) body_relay = activity_body("relay", 1);
	g_autoptr(GBytes) body_town = activity_body("town", 1);
	g_autoptr(GPtrArray) inboxes = g_ptr_array_new_with_free_func(g_free);
	RelayDelivererCounters counters;

	for (guint i = 0; i < G_N_ELEMENTS(addresses); i++) {
		Sink *sink = sink_new(fixture, addresses[i], TRUE, FALSE);
		g_ptr_array_add(inboxes, sink_inbox(sink, "/inbox"));
	}
	fixture_start(fixture);
	fixture_enqueue(fixture, "relay", body_relay, inboxes, 0);
	fixture_enqueue(fixture, "town", body_town, inboxes, 0);
	wait_outcomes(fixture, RELAY_DELIVERY_OUTCOME_DONE, 6);
	wait_queue(fixture, 0);

	for (guint i = 0; i < fixture->sinks->len; i++) {
		Sink *sink = g_ptr_array_index(fixture->sinks, i);

		g_assert_cmpuint(sink->requests, ==, 2);
		g_assert_cmpuint(sink->verified, ==, 2);
		g_assert_cmpuint(sink->bad_content_type, ==, 0);
		g_assert_true(bytes_in(sink->bodies, body_relay));
		g_assert_true(bytes_in(sink->bodies, body_town));
		/* each body was signed by its own network */
		for (guint j = 0; j < sink->bodies->len; j++) {
			gboolean town =
				g_bytes_equal(g_ptr_array_index(sink->bodies, j), body_town);
			g_assert_cmpstr(g_ptr_array_index(sink->key_ids, j),
					==,
					town ? PUBLIC_URL "/networks/town#main-key"
					     : PUBLIC_URL "/actor#main-key");
		}
	}
	counters = fixture_counters(fixture);
	g_assert_cmpuint(counters.outcomes[RELAY_DELIVERY_OUTCOME_DONE], ==, 6);
	g_assert_cmpuint(counters.outcomes[RELAY_DELIVERY_OUTCOME_RETRY], ==, 0);
	g_assert_cmpuint(counters.latency_count, ==, 6);
	g_assert_cmpuint(counters.latency_sum_us, >, 0);
}

/* 404, 410, 400 and 403 are final: one attempt each, the rows gone */
static void
test_permanent(Fixture *fixture, gconstpointer user_data)
{
	const struct {
		const gchar *address;
		guint status;
	} cases[] = {
		{"127.0.0.2", SOUP_STATUS_NOT_FOUND},
		{"127.0.0.3", SOUP_STATUS_GONE},
		{"127.0.0.4", SOUP_STATUS_BAD_REQUEST},
		{"127.0.0.5", SOUP_STATUS_FORBIDDEN},
	};
	g_autoptr(GBytes) body = activity_body("relay", 2);
	g_autoptr(GPtrArray) inboxes = g_ptr_array_new_with_free_func(g_free);
	RelayDelivererCounters counters;

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		Sink *sink = sink_new(fixture, cases[i].address, TRUE, FALSE);
		sink->status = cases[i].status;
		g_ptr_array_add(inboxes, sink_inbox(sink, "/inbox"));
	}
	fixture_start(fixture);
	fixture_enqueue(fixture, "relay", body, inboxes, 0);
	wait_outcomes(fixture, RELAY_DELIVERY_OUTCOME_FAILED, G_N_ELEMENTS(cases));
	wait_queue(fixture, 0);
	counters = fixture_counters(fixture);
	g_assert_cmpuint(counters.outcomes[RELAY_DELIVERY_OUTCOME_RETRY], ==, 0);
	g_assert_cmpuint(counters.outcomes[RELAY_DELIVERY_OUTCOME_DONE], ==, 0);
	for (guint i = 0; i < fixture->sinks->len; i++) {
		Sink *sink = g_ptr_array_index(fixture->sinks, i);
		g_assert_cmpuint(sink->requests, ==, 1);
	}
}

/* 500, then 503, then 202: retried after growing delays */
static void
test_retry(Fixture *fixture, gconstpointer user_data)
{
	Sink *sink = sink_new(fixture, "127.0.0.2", TRUE, FALSE);
	g_autoptr(GBytes) body = activity_body("relay", 3);
	g_autofree gchar *inbox = sink_inbox(sink, "/inbox");
	RelayDelivererCounters counters;

	sink_script(sink, SOUP_STATUS_INTERNAL_SERVER_ERROR, NULL);
	sink_script(sink, SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
	fixture_start(fixture);
	fixture_enqueue_one(fixture, "relay", body, inbox);
	wait_outcomes(fixture, RELAY_DELIVERY_OUTCOME_DONE, 1);
	wait_queue(fixture, 0);
	counters = fixture_counters(fixture);
	g_assert_cmpuint(counters.outcomes[RELAY_DELIVERY_OUTCOME_RETRY], ==, 2);
	g_assert_cmpuint(sink->requests, ==, 3);
	g_assert_cmpuint(sink->verified, ==, 3);
	/* base 1 s less at most a quarter, then 2 s less at most a quarter */
	g_assert_cmpfloat(sink_gap_s(sink, 1), >=, 0.75);
	g_assert_cmpfloat(sink_gap_s(sink, 2), >=, 1.5);
	g_test_message(
		"retried after %.2f s, then %.2f s", sink_gap_s(sink, 1), sink_gap_s(sink, 2));
}

/* 429 with Retry-After: 2 and 503 with an HTTP date: not retried before they say */
static void
test_retry_after_honoured(Fixture *fixture, gconstpointer user_data)
{
	Sink *seconds = sink_new(fixture, "127.0.0.2", TRUE, FALSE);
	Sink *date = sink_new(fixture, "127.0.0.3", TRUE, FALSE);
	g_autoptr(GBytes) body = activity_body("relay", 4);
	g_autoptr(GPtrArray) inboxes = g_ptr_array_new_with_free_func(g_free);
	gint64 when_s = g_get_real_time() / G_USEC_PER_SEC + 3;
	g_autofree gchar *when = relay_http_date_format(when_s);

	sink_script(seconds, 429, "2");
	sink_script(date, SOUP_STATUS_SERVICE_UNAVAILABLE, when);
	g_ptr_array_add(inboxes, sink_inbox(seconds, "/inbox"));
	g_ptr_array_add(inboxes, sink_inbox(date, "/inbox"));
	fixture_start(fixture);
	fixture_enqueue(fixture, "relay", body, inboxes, 0);
	wait_outcomes(fixture, RELAY_DELIVERY_OUTCOME_DONE, 2);
	g_assert_cmpuint(seconds->requests, ==, 2);
	g_assert_cmpuint(date->requests, ==, 2);
	g_assert_cmpfloat(sink_gap_s(seconds, 1), >=, 2.0);
	/* a date is a time, whole seconds, not a delay from the first answer */
	g_assert_cmpint(
		g_array_index(date->arrivals_real_us, gint64, 1), >=, when_s * G_USEC_PER_SEC);
	g_test_message("Retry-After: 2 honoured after %.2f s, a date after %.2f s",
		       sink_gap_s(seconds, 1),
		       sink_gap_s(date, 1));
}

/* a host that is down gets its backlog once it is up */
static void
test_down_then_up(Fixture *fixture, gconstpointer user_data)
{
	Sink *sink = sink_new(fixture, "127.0.0.2", FALSE, FALSE);
	g_autoptr(GPtrArray) inboxes = g_ptr_array_new_with_free_func(g_free);

	fixture_start(fixture);
	for (guint i = 0; i < 3; i++) {
		g_autoptr(GBytes) body = activity_body("relay", 10 + i);
		g_autofree gchar *inbox = sink_inbox(sink, "/inbox");
		fixture_enqueue_one(fixture, "relay", body, inbox);
	}
	wait_outcomes(fixture, RELAY_DELIVERY_OUTCOME_RETRY, 3);
	g_assert_cmpuint(fixture_stats(fixture).queued, ==, 3);
	sink_up(sink);
	wait_outcomes(fixture, RELAY_DELIVERY_OUTCOME_DONE, 3);
	wait_queue(fixture, 0);
	g_assert_cmpuint(sink->requests, ==, 3);
	g_assert_cmpuint(sink->verified, ==, 3);
}

static gboolean
paused_cb(gpointer user_data)
{
	Fixture *fixture = user_data;
	return fixture_counters(fixture).hosts_paused > 0;
}

static gboolean
deferred_cb(gpointer user_data)
{
	Want *want = user_data;
	return fixture_counters(want->fixture).deferred >= want->want;
}

/* three failures in a row pause the host: its rows wait, none is dropped or hammered */
static void
test_breaker(Fixture *fixture, gconstpointer user_data)
{
	Sink *sink = sink_new(fixture, "127.0.0.2", TRUE, FALSE);
	g_autoptr(GBytes) body = activity_body("relay", 20);
	g_autoptr(GPtrArray) inboxes = g_ptr_array_new_with_free_func(g_free);
	Want deferred = {fixture, 7, 0};
	RelayDelivererCounters counters;

	sink->status = SOUP_STATUS_SERVICE_UNAVAILABLE;
	fixture->options.breaker_failures = 3;
	fixture->options.breaker_pause_s = 2;
	fixture->options.max_connections_per_host = 1;
	for (guint i = 0; i < 10; i++)
		g_ptr_array_add(inboxes, g_strdup_printf("%s/inbox/%u", sink->origin, i));
	fixture_start(fixture);
	fixture_enqueue(fixture, "relay", body, inboxes, 0);
	g_assert_true(relay_test_wait_until(NULL, paused_cb, fixture, WAIT_MS));
	g_assert_true(relay_test_wait_until(NULL, deferred_cb, &deferred, WAIT_MS));
	/* one connection: exactly the three failures reached the host */
	g_assert_cmpuint(sink->requests, ==, 3);
	g_assert_cmpuint(fixture_stats(fixture).queued, ==, 10);

	sink->status = SOUP_STATUS_ACCEPTED;
	wait_outcomes(fixture, RELAY_DELIVERY_OUTCOME_DONE, 10);
	wait_queue(fixture, 0);
	counters = fixture_counters(fixture);
	g_assert_cmpuint(sink->requests, ==, 13);
	g_assert_cmpuint(counters.outcomes[RELAY_DELIVERY_OUTCOME_RETRY], ==, 3);
	/* skipped cheaply: about once each while paused, not in a loop */
	g_assert_cmpuint(counters.deferred, <=, 14);
	g_test_message("breaker: %" G_GUINT64_FORMAT " rows given back while paused",
		       counters.deferred);
}

static gboolean
settled_cb(gpointer user_data)
{
	Fixture *fixture = user_data;
	return fixture_stats(fixture).claimed == 0;
}

/* a paused host is shown as such, and resuming it (relay queue retry) delivers at once */
static void
test_resume_host(Fixture *fixture, gconstpointer user_data)
{
	Sink *sink = sink_new(fixture, "127.0.0.2", TRUE, FALSE);
	g_autoptr(GBytes) body = activity_body("relay", 21);
	g_autoptr(GPtrArray) inboxes = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) states = NULL;
	g_autofree gchar *host = g_strdup(sink->origin + strlen("http://"));
	g_autoptr(GError) error = NULL;
	Want deferred = {fixture, 7, 0};
	guint64 recent[RELAY_DELIVERY_OUTCOME_LAST];
	RelayDelivererHostState *state;
	guint64 rescheduled = 0;

	sink->status = SOUP_STATUS_SERVICE_UNAVAILABLE;
	fixture->options.breaker_failures = 3;
	fixture->options.breaker_pause_s = 600;
	fixture->options.max_connections_per_host = 1;
	for (guint i = 0; i < 10; i++)
		g_ptr_array_add(inboxes, g_strdup_printf("%s/inbox/%u", sink->origin, i));
	fixture_start(fixture);
	g_assert_false(relay_deliverer_resume_host(fixture->deliverer, host));
	fixture_enqueue(fixture, "relay", body, inboxes, 0);
	g_assert_true(relay_test_wait_until(NULL, paused_cb, fixture, WAIT_MS));
	g_assert_true(relay_test_wait_until(NULL, deferred_cb, &deferred, WAIT_MS));
	g_assert_true(relay_test_wait_until(NULL, settled_cb, fixture, WAIT_MS));

	states = relay_deliverer_get_host_states(fixture->deliverer);
	g_assert_cmpuint(states->len, ==, 1);
	state = g_ptr_array_index(states, 0);
	g_assert_cmpstr(state->host, ==, host);
	g_assert_cmpuint(state->consecutive_failures, ==, 3);
	g_assert_cmpint(state->failing_since_us, >, 0);
	g_assert_cmpint(state->paused_until_us, >, g_get_real_time() + 500 * G_USEC_PER_SEC);
	g_clear_pointer(&states, g_ptr_array_unref);
	relay_deliverer_get_recent_outcomes(fixture->deliverer, recent);
	g_assert_cmpuint(recent[RELAY_DELIVERY_OUTCOME_RETRY], ==, 3);
	g_assert_cmpuint(recent[RELAY_DELIVERY_OUTCOME_DONE], ==, 0);

	/* the host is back: without a resume its rows would wait ten minutes */
	sink->status = SOUP_STATUS_ACCEPTED;
	g_assert_true(relay_deliverer_resume_host(fixture->deliverer, host));
	g_assert_true(relay_store_delivery_reschedule_host(
		fixture->store, host, g_get_real_time(), &rescheduled, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(rescheduled, ==, 10);
	relay_deliverer_wake(fixture->deliverer);
	wait_outcomes(fixture, RELAY_DELIVERY_OUTCOME_DONE, 10);
	wait_queue(fixture, 0);
	states = relay_deliverer_get_host_states(fixture->deliverer);
	g_assert_cmpuint(states->len, ==, 0);
	relay_deliverer_get_recent_outcomes(fixture->deliverer, recent);
	g_assert_cmpuint(recent[RELAY_DELIVERY_OUTCOME_DONE], ==, 10);
	g_assert_cmpuint(recent[RELAY_DELIVERY_OUTCOME_RETRY], ==, 3);
}

/* a row older than max-age is expired at its next failure instead of retried */
static void
test_max_age(Fixture *fixture, gconstpointer user_data)
{
	Sink *sink = sink_new(fixture, "127.0.0.2", TRUE, FALSE);
	g_autoptr(GBytes) old = activity_body("relay", 30);
	g_autoptr(GBytes) fresh = activity_body("relay", 31);
	g_autoptr(GPtrArray) inboxes = g_ptr_array_new_with_free_func(g_free);
	RelayDelivererCounters counters;

	sink->status = SOUP_STATUS_SERVICE_UNAVAILABLE;
	fixture->options.max_age_s = 60;
	g_ptr_array_add(inboxes, sink_inbox(sink, "/inbox"));
	fixture_enqueue(fixture, "relay", old, inboxes, g_get_real_time() - 120 * G_USEC_PER_SEC);
	fixture_enqueue(fixture, "relay", fresh, inboxes, 0);
	fixture_start(fixture);
	wait_outcomes(fixture, RELAY_DELIVERY_OUTCOME_EXPIRED, 1);
	wait_outcomes(fixture, RELAY_DELIVERY_OUTCOME_RETRY, 1);
	wait_queue(fixture, 1);
	counters = fixture_counters(fixture);
	g_assert_cmpuint(counters.outcomes[RELAY_DELIVERY_OUTCOME_EXPIRED], ==, 1);
	g_assert_cmpuint(sink->requests, >=, 2);
}

static void
member_put(Fixture *fixture, const gchar *actor, const gchar *inbox, const gchar *shared_inbox)
{
	g_autoptr(RelayMember) member = relay_member_new("relay", actor, inbox);
	g_autoptr(GError) error = NULL;

	member->shared_inbox = g_strdup(shared_inbox);
	member->state = RELAY_MEMBER_STATE_ACCEPTED;
	g_assert_true(relay_store_member_put(fixture->store, member, NULL, &error));
	g_assert_no_error(error);
}

static gboolean
member_exists(Fixture *fixture, const gchar *actor)
{
	g_autoptr(RelayMember) member = NULL;
	g_autoptr(GError) error = NULL;

	member = relay_store_member_get(fixture->store, "relay", actor, NULL, &error);
	if (member == NULL)
		g_assert_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND);
	return member != NULL;
}

static gboolean
evicted_cb(gpointer user_data)
{
	Fixture *fixture = user_data;
	return fixture_counters(fixture).hosts_evicted > 0;
}

static void
host_evicted_cb(RelayDeliverer *deliverer, const gchar *host, guint removed, gpointer user_data)
{
	gchar **evicted = user_data;
	g_free(*evicted);
	*evicted = g_strdup_printf("%s %u", host, removed);
}

/* a host failing for longer than evict-after loses its members and its queued rows */
static void
test_evict(Fixture *fixture, gconstpointer user_data)
{
	Sink *dead = sink_new(fixture, "127.0.0.2", FALSE, FALSE);
	Sink *alive = sink_new(fixture, "127.0.0.3", TRUE, FALSE);
	g_autofree gchar *dead_inbox = sink_inbox(dead, "/users/a/inbox");
	g_autofree gchar *dead_shared = sink_inbox(dead, "/inbox");
	g_autofree gchar *dead_actor = sink_inbox(dead, "/users/a");
	g_autofree gchar *moved_actor = sink_inbox(alive, "/users/b");
	g_autofree gchar *moved_inbox = sink_inbox(alive, "/users/b/inbox");
	g_autofree gchar *alive_actor = sink_inbox(alive, "/users/c");
	g_autofree gchar *alive_inbox = sink_inbox(alive, "/users/c/inbox");
	g_autofree gchar *expected = g_strdup_printf("%s:%u 2", dead->address, dead->port);
	g_autofree gchar *evicted = NULL;
	g_autoptr(GBytes) body = activity_body("relay", 40);
	g_autoptr(GPtrArray) inboxes = g_ptr_array_new_with_free_func(g_free);

	member_put(fixture, dead_actor, dead_inbox, dead_shared);
	/* its inbox is alive, but its shared inbox is on the dead host */
	member_put(fixture, moved_actor, moved_inbox, dead_shared);
	member_put(fixture, alive_actor, alive_inbox, NULL);
	fixture->options.evict_after_s = 1;
	g_ptr_array_add(inboxes, g_strdup(dead_shared));
	g_ptr_array_add(inboxes, g_strdup(dead_inbox));
	fixture_start(fixture);
	g_signal_connect(fixture->deliverer, "host-evicted", G_CALLBACK(host_evicted_cb), &evicted);
	fixture_enqueue(fixture, "relay", body, inboxes, 0);
	g_assert_true(relay_test_wait_until(NULL, evicted_cb, fixture, WAIT_MS));
	wait_queue(fixture, 0);
	g_assert_cmpstr(evicted, ==, expected);
	g_assert_false(member_exists(fixture, dead_actor));
	g_assert_false(member_exists(fixture, moved_actor));
	g_assert_true(member_exists(fixture, alive_actor));
	g_assert_cmpuint(fixture_counters(fixture).outcomes[RELAY_DELIVERY_OUTCOME_EXPIRED], ==, 2);
}

/* under AddressSanitizer every allocation unwinds its stack: a smaller burst is enough */
#if defined(__SANITIZE_ADDRESS__)
#define KEEPALIVE_DELIVERIES 300
#else
#define KEEPALIVE_DELIVERIES 2000
#endif

/* many deliveries to one host reuse at most max-connections-per-host connections */
static void
test_keepalive(Fixture *fixture, gconstpointer user_data)
{
	const guint n = KEEPALIVE_DELIVERIES;
	Sink *sink = sink_new(fixture, "127.0.0.2", TRUE, FALSE);
	g_autoptr(GBytes) body = activity_body("relay", 50);
	g_autoptr(GPtrArray) inboxes = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(SoupSession) bare = NULL;
	gint64 started_us;
	gdouble elapsed_s;
	guint control_connections;

	fixture->options.batch = 256;
	for (guint i = 0; i < n; i++)
		g_ptr_array_add(inboxes, g_strdup_printf("%s/inbox/%u", sink->origin, i));
	fixture_start(fixture);
	started_us = g_get_monotonic_time();
	fixture_enqueue(fixture, "relay", body, inboxes, 0);
	wait_at_least(&sink->requests, n);
	elapsed_s = (gdouble)(g_get_monotonic_time() - started_us) / G_USEC_PER_SEC;
	wait_queue(fixture, 0);
	g_assert_cmpuint(sink->verified, ==, n);
	/* reuse: 4 connections (max-connections-per-host); on a machine so loaded that a POST
	 * times out, its connection is replaced, so a few more; without reuse it would be @n */
	g_assert_cmpuint(g_hash_table_size(sink->peers), <=, 8);
	g_test_message("%u deliveries to one sink in %.2f s (%.0f/s) over %u connections, "
		       "%" G_GUINT64_FORMAT " given back for later",
		       n,
		       elapsed_s,
		       n / elapsed_s,
		       g_hash_table_size(sink->peers),
		       fixture_counters(fixture).deferred);

	/* the cause, for the record: without SOUP_MESSAGE_IDEMPOTENT each POST connects anew */
	g_hash_table_remove_all(sink->peers);
	bare = soup_session_new_with_options("max-conns-per-host", 4, "proxy-resolver", NULL, NULL);
	for (guint i = 0; i < 20; i++) {
		g_autofree gchar *inbox = sink_inbox(sink, "/control");
		g_autoptr(SoupMessage) msg = soup_message_new(SOUP_METHOD_POST, inbox);
		g_autoptr(GBytes) answer = NULL;

		soup_message_set_request_body_from_bytes(msg, "application/activity+json", body);
		soup_session_send_and_read_async(bare, msg, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
	}
	wait_at_least(&sink->requests, n + 20);
	control_connections = g_hash_table_size(sink->peers);
	g_test_message("control: 20 plain libsoup POSTs used %u connections", control_connections);
	soup_session_abort(bare);
}

/* a slow host never has more than max-connections-per-host POSTs at once */
static void
test_host_limit(Fixture *fixture, gconstpointer user_data)
{
	Sink *sink = sink_new(fixture, "127.0.0.2", TRUE, FALSE);
	g_autoptr(GBytes) body = activity_body("relay", 60);
	g_autoptr(GPtrArray) inboxes = g_ptr_array_new_with_free_func(g_free);

	sink->delay_ms = 50;
	fixture->options.max_connections_per_host = 3;
	for (guint i = 0; i < 30; i++)
		g_ptr_array_add(inboxes, g_strdup_printf("%s/inbox/%u", sink->origin, i));
	fixture_start(fixture);
	fixture_enqueue(fixture, "relay", body, inboxes, 0);
	wait_outcomes(fixture, RELAY_DELIVERY_OUTCOME_DONE, 30);
	g_assert_cmpuint(sink->max_concurrent, ==, 3);
	g_assert_cmpuint(g_hash_table_size(sink->peers), <=, 3);
}

/* all hosts together never have more than max-in-flight POSTs at once */
static void
test_in_flight_limit(Fixture *fixture, gconstpointer user_data)
{
	const gchar *addresses[] = {"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"};
	g_autoptr(GBytes) body = activity_body("relay", 61);
	g_autoptr(GPtrArray) inboxes = g_ptr_array_new_with_free_func(g_free);

	fixture->options.max_in_flight = 5;
	for (guint i = 0; i < G_N_ELEMENTS(addresses); i++) {
		Sink *sink = sink_new(fixture, addresses[i], TRUE, FALSE);
		sink->delay_ms = 50;
		for (guint j = 0; j < 6; j++)
			g_ptr_array_add(inboxes, g_strdup_printf("%s/inbox/%u", sink->origin, j));
	}
	fixture_start(fixture);
	fixture_enqueue(fixture, "relay", body, inboxes, 0);
	wait_outcomes(fixture, RELAY_DELIVERY_OUTCOME_DONE, inboxes->len);
	wait_queue(fixture, 0);
	g_assert_cmpuint(global_max_concurrent, <=, 5);
	g_assert_cmpuint(global_max_concurrent, >=, 2);
}

typedef struct {
	GMutex mutex;
	GThread *main_thread;
	guint on_main;
	guint signed_count;
	GHashTable *threads;
} SignWatch;

static void
sign_hook(const RelayDelivery *delivery, gpointer user_data)
{
	SignWatch *watch = user_data;
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&watch->mutex);

	watch->signed_count++;
	if (g_thread_self() == watch->main_thread)
		watch->on_main++;
	g_hash_table_add(watch->threads, g_thread_self());
}

/* signatures are made on the worker threads, never on the main loop */
static void
test_sign_off_main(Fixture *fixture, gconstpointer user_data)
{
	Sink *sink = sink_new(fixture, "127.0.0.2", TRUE, FALSE);
	g_autoptr(GBytes) body = activity_body("relay", 70);
	g_autoptr(GPtrArray) inboxes = g_ptr_array_new_with_free_func(g_free);
	SignWatch watch = {0};

	g_mutex_init(&watch.mutex);
	watch.main_thread = g_thread_self();
	watch.threads = g_hash_table_new(g_direct_hash, g_direct_equal);
	fixture->options.workers = 2;
	for (guint i = 0; i < 200; i++)
		g_ptr_array_add(inboxes, g_strdup_printf("%s/inbox/%u", sink->origin, i));
	fixture->deliverer = relay_deliverer_new(fixture->store, &fixture->options, NULL);
	relay_deliverer_set_sign_hook(fixture->deliverer, sign_hook, &watch);
	relay_deliverer_set_networks(fixture->deliverer, fixture->networks);
	relay_deliverer_start(fixture->deliverer);
	fixture_enqueue(fixture, "relay", body, inboxes, 0);
	wait_outcomes(fixture, RELAY_DELIVERY_OUTCOME_DONE, 200);
	fixture_stop(fixture);
	/* a row given back after it was signed is signed again when it comes back */
	g_assert_cmpuint(watch.signed_count, >=, 200);
	g_assert_cmpuint(watch.on_main, ==, 0);
	g_assert_cmpuint(g_hash_table_size(watch.threads), >=, 1);
	g_assert_cmpuint(g_hash_table_size(watch.threads), <=, 2);
	g_test_message("signed on %u worker threads", g_hash_table_size(watch.threads));
	g_hash_table_unref(watch.threads);
	g_mutex_clear(&watch.mutex);
}

/* rows claimed by a node that crashed are delivered by the next one at once */
static void
test_restart(Fixture *fixture, gconstpointer user_data)
{
	Sink *sink = sink_new(fixture, "127.0.0.2", TRUE, FALSE);
	g_autoptr(GBytes) body = activity_body("relay", 80);
	g_autoptr(GPtrArray) inboxes = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) claimed = NULL;
	g_autoptr(GError) error = NULL;

	for (guint i = 0; i < 5; i++)
		g_ptr_array_add(inboxes, g_strdup_printf("%s/inbox/%u", sink->origin, i));
	fixture_enqueue(fixture, "relay", body, inboxes, 0);
	/* the crashed node held them for five minutes */
	claimed = relay_store_delivery_claim(fixture->store,
					     g_get_real_time(),
					     100,
					     300 * G_USEC_PER_SEC,
					     "crashed-node",
					     NULL,
					     &error);
	g_assert_no_error(error);
	g_assert_cmpuint(claimed->len, ==, 5);
	g_assert_cmpuint(fixture_stats(fixture).claimed, ==, 5);

	fixture_start(fixture);
	wait_outcomes(fixture, RELAY_DELIVERY_OUTCOME_DONE, 5);
	wait_queue(fixture, 0);
	g_assert_cmpuint(sink->requests, ==, 5);
}

static gboolean
paths_cover(Sink *sink, guint n)
{
	for (guint i = 0; i < n; i++) {
		g_autofree gchar *path = g_strdup_printf("/inbox/%u", i);
		if (!g_ptr_array_find_with_equal_func(sink->paths, path, g_str_equal, NULL))
			return FALSE;
	}
	return TRUE;
}

/* stopping with POSTs in flight loses nothing: finished ones are settled, the others stay */
static void
test_stop_in_flight(Fixture *fixture, gconstpointer user_data)
{
	Sink *slow = sink_new(fixture, "127.0.0.2", TRUE, FALSE);
	Sink *stalled = sink_new(fixture, "127.0.0.3", TRUE, FALSE);
	g_autoptr(GBytes) body = activity_body("relay", 90);
	g_autoptr(GPtrArray) inboxes = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *stalled_inbox = sink_inbox(stalled, "/inbox/0");
	RelayDelivererCounters counters;
	RelayQueueStats stats;
	guint64 done;

	slow->delay_ms = 300;
	stalled->stall = TRUE;
	fixture->options.max_connections_per_host = 2;
	/* the stalled POST must outlast the stop's grace, not time out before it */
	fixture->options.timeout_s = 10;
	for (guint i = 0; i < 10; i++)
		g_ptr_array_add(inboxes, g_strdup_printf("%s/inbox/%u", slow->origin, i));
	g_ptr_array_add(inboxes, g_strdup(stalled_inbox));
	fixture_start(fixture);
	fixture_enqueue(fixture, "relay", body, inboxes, 0);
	wait_at_least(&slow->requests, 2);
	wait_at_least(&stalled->requests, 1);

	fixture_stop(fixture);
	stats = fixture_stats(fixture);
	done = (guint64)slow->requests;
	/* every POST the slow sink got was answered within the grace and settled done */
	g_assert_cmpuint(stats.queued, ==, 11 - done);
	/* the stalled one did not finish: still claimed, back after its lease or a restart */
	g_assert_cmpuint(stats.claimed, ==, 1);

	stalled->stall = FALSE;
	fixture_start(fixture);
	wait_queue(fixture, 0);
	counters = fixture_counters(fixture);
	g_assert_cmpuint(counters.outcomes[RELAY_DELIVERY_OUTCOME_DONE], ==, 11 - done);
	g_assert_true(paths_cover(slow, 10));
	g_assert_cmpuint(stalled->requests, ==, 2);
}

/* HTTPS through GIO's TLS, trusting the test CA only when told to */
static void
test_tls(Fixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *ca_file = relay_test_source_path("tests/data/deliverer-ca.pem");
	g_autoptr(GBytes) body = activity_body("relay", 100);
	g_autofree gchar *inbox = NULL;
	Sink *sink;

	if (!g_tls_backend_supports_tls(g_tls_backend_get_default())) {
		g_test_skip("no TLS backend (glib-networking)");
		return;
	}
	sink = sink_new(fixture, "127.0.0.9", TRUE, TRUE);
	inbox = sink_inbox(sink, "/inbox");

	/* the system CAs do not know the test CA: a TLS error, retried */
	fixture_start(fixture);
	fixture_enqueue_one(fixture, "relay", body, inbox);
	wait_outcomes(fixture, RELAY_DELIVERY_OUTCOME_RETRY, 1);
	g_assert_cmpuint(sink->requests, ==, 0);
	fixture_stop(fixture);

	fixture->options.tls_ca_file = ca_file;
	fixture_start(fixture);
	wait_outcomes(fixture, RELAY_DELIVERY_OUTCOME_DONE, 1);
	wait_queue(fixture, 0);
	g_assert_cmpuint(sink->requests, ==, 1);
	g_assert_cmpuint(sink->verified, ==, 1);
}

/* a CA file that does not load is an error, not a silent fallback */
static void
test_tls_bad_ca(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayDeliverer) deliverer = NULL;

	fixture->options.tls_ca_file = "/nonexistent/ca.pem";
	deliverer = relay_deliverer_new(fixture->store, &fixture->options, &error);
	g_assert_null(deliverer);
	g_assert_nonnull(error);
	g_assert_nonnull(strstr(error->message, "/nonexistent/ca.pem"));
}

/* an https node refuses to start without a TLS backend, saying what to install */
static void
test_serve_needs_tls(void)
{
	g_autofree gchar *dir = relay_test_mkdtemp();
	g_autofree gchar *modules = g_build_filename(dir, "no-gio-modules", NULL);
	g_autofree gchar *config_path = g_build_filename(dir, "relay.conf", NULL);
	g_autofree gchar *config = g_strdup_printf("[relay]\n"
						   "public-url = https://relay.example\n"
						   "listen = 127.0.0.1:%u\n"
						   "[storage]\n"
						   "backend = memory\n",
						   relay_test_free_port());
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
		G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
	g_autoptr(GSubprocess) process = NULL;
	g_autofree gchar *output = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *binary = g_getenv("RELAY_BINARY");

	g_assert_nonnull(binary);
	g_assert_cmpint(g_mkdir(modules, 0700), ==, 0);
	g_assert_true(g_file_set_contents(config_path, config, -1, &error));
	/* GIO loads its modules, glib-networking among them, from here only */
	g_subprocess_launcher_setenv(launcher, "GIO_MODULE_DIR", modules, TRUE);
	process = g_subprocess_launcher_spawn(
		launcher, &error, binary, "serve", "-c", config_path, NULL);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_communicate_utf8(process, NULL, NULL, &output, NULL, &error));
	g_assert_no_error(error);
	g_assert_false(g_subprocess_get_successful(process));
	g_assert_nonnull(strstr(output, "no TLS backend"));
	g_assert_nonnull(strstr(output, "glib-networking"));
	relay_test_rmdir(dir);
}

static void
make_network_records(void)
{
	network_keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(network_names); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(EVP_PKEY) rsa = relay_keys_generate_rsa(2048, &error);
		g_autoptr(EVP_PKEY) ed25519 = relay_keys_generate_ed25519(&error);
		RelayNetworkRecord *record = relay_network_record_new(network_names[i]);
		g_autofree gchar *key_id = i == 0 ? g_strdup(PUBLIC_URL "/actor#main-key")
						  : g_strdup_printf("%s/networks/%s#main-key",
								    PUBLIC_URL,
								    network_names[i]);

		g_assert_no_error(error);
		record->rsa_private_pem = relay_keys_private_pem(rsa, &error);
		record->ed25519_private_pem = relay_keys_private_pem(ed25519, &error);
		g_assert_no_error(error);
		network_records[i] = record;
		/* the private key verifies as well as its public half */
		g_hash_table_insert(network_keys, g_steal_pointer(&key_id), g_steal_pointer(&rsa));
	}
}

static void
free_network_records(void)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, network_keys);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		EVP_PKEY_free(value);
	g_hash_table_unref(network_keys);
	for (guint i = 0; i < G_N_ELEMENTS(network_records); i++)
		relay_network_record_free(network_records[i]);
}

#define ADD(path, backend, func)                                                                   \
	g_test_add(                                                                                \
		"/relay/deliverer/" path, Fixture, backend, fixture_setup, func, fixture_teardown)

int
main(int argc, char **argv)
{
	gint status;

	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	make_network_records();
	g_test_add_func("/relay/deliverer/retry-after-parse", test_retry_after);
	g_test_add_func("/relay/deliverer/backoff", test_backoff);
	g_test_add_func("/relay/deliverer/config", test_config);
	g_test_add_func("/relay/deliverer/serve-needs-tls", test_serve_needs_tls);
	ADD("fanout/memory", "memory", test_fanout);
	ADD("fanout/sqlite", "sqlite", test_fanout);
	ADD("permanent", "memory", test_permanent);
	ADD("retry", "memory", test_retry);
	ADD("retry-after", "memory", test_retry_after_honoured);
	ADD("down-then-up", "memory", test_down_then_up);
	ADD("breaker", "memory", test_breaker);
	ADD("resume-host", "memory", test_resume_host);
	ADD("max-age", "memory", test_max_age);
	ADD("evict", "memory", test_evict);
	ADD("keepalive", "memory", test_keepalive);
	ADD("host-limit", "memory", test_host_limit);
	ADD("in-flight-limit", "memory", test_in_flight_limit);
	ADD("sign-off-main", "memory", test_sign_off_main);
	ADD("restart/memory", "memory", test_restart);
	ADD("restart/sqlite", "sqlite", test_restart);
	ADD("stop-in-flight/sqlite", "sqlite", test_stop_in_flight);
	ADD("tls", "memory", test_tls);
	ADD("tls-bad-ca", "memory", test_tls_bad_ca);
	status = g_test_run();
	free_network_records();
	return status;
}
