/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * GET /metrics: the node's counters in the Prometheus text format (version 0.0.4). Every name
 * starts with relay_; counters end in _total, durations are in seconds, and every family has
 * its HELP and TYPE before its samples. What storage knows (queue, members) is read on a store
 * thread; the rest comes from the inbox, the delivery engine and the actor cache, on the main
 * loop.
 */

#include "config.h"

#include "relay-metrics.h"

#include "relay-server-private.h"

/* ---- the text format ----------------------------------------------------------------------- */

static void
relay_metrics_family(GString *out, const gchar *name, const gchar *type, const gchar *help)
{
	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* a label value: backslash, double quote and newline are escaped */
static void
relay_metrics_append_label_value(GString *out, const gchar *value)
{
	for (const gchar *p = value; *p != '\0'; p++) {
		if (*p == '\\')
			g_string_append(out, "\\\\");
		else if (*p == '"')
			g_string_append(out, "\\\"");
		else if (*p == '\n')
			g_string_append(out, "\\n");
		else
			g_string_append_c(out, *p);
	}
}

/* one sample; the labels are NULL-terminated name, value pairs */
static void
relay_metrics_sample(GString *out, const gchar *name, gdouble value, ...)
{
	va_list args;
	const gchar *label;
	gboolean first = TRUE;

	g_string_append(out, name);
	va_start(args, value);
	while ((label = va_arg(args, const gchar *)) != NULL) {
		const gchar *label_value = va_arg(args, const gchar *);
		g_string_append(out, first ? "{" : ",");
		g_string_append_printf(out, "%s=\"", label);
		relay_metrics_append_label_value(out, label_value);
		g_string_append_c(out, '"');
		first = FALSE;
	}
	va_end(args);
	if (!first)
		g_string_append_c(out, '}');
	/* integers as integers, the rest in the shortest form that reads back the same */
	if (value == (gdouble)(gint64)value && ABS(value) < 1e15) {
		g_string_append_printf(out, " %" G_GINT64_FORMAT "\n", (gint64)value);
	} else {
		gchar buffer[G_ASCII_DTOSTR_BUF_SIZE];
		g_string_append_printf(out, " %s\n", g_ascii_dtostr(buffer, sizeof(buffer), value));
	}
}

/* ---- what storage knows -------------------------------------------------------------------- */

typedef struct {
	GPtrArray *networks; /* (element-type utf8) */
	RelayQueueStats queue;
	GArray *members; /* (element-type guint): networks->len x RELAY_MEMBER_STATE_LAST counts */
} RelayMetricsStored;

static void
relay_metrics_stored_free(RelayMetricsStored *stored)
{
	g_clear_pointer(&stored->networks, g_ptr_array_unref);
	g_clear_pointer(&stored->members, g_array_unref);
	g_free(stored);
}

static void
relay_metrics_stored_run(RelayStore *store, GTask *task, gpointer data, GCancellable *cancellable)
{
	RelayMetricsStored *stored = data;
	g_autoptr(GError) error = NULL;

	if (!relay_store_delivery_stats(store, &stored->queue, cancellable, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	for (guint i = 0; i < stored->networks->len; i++) {
		for (guint state = 0; state < RELAY_MEMBER_STATE_LAST; state++) {
			g_autoptr(GPtrArray) members =
				relay_store_member_list(store,
							g_ptr_array_index(stored->networks, i),
							(gint)state,
							cancellable,
							&error);
			guint count;
			if (members == NULL) {
				g_task_return_error(task, g_steal_pointer(&error));
				return;
			}
			count = members->len;
			g_array_append_val(stored->members, count);
		}
	}
	g_task_return_boolean(task, TRUE);
}

/* ---- the page ------------------------------------------------------------------------------ */

static const gchar *
relay_metrics_outcome_of_status(guint status)
{
	if (status < 300)
		return "accepted";
	if (status >= 500)
		return "unavailable";
	return "refused";
}

static void
relay_metrics_inbox_request_cb(const gchar *network,
			       guint status,
			       guint64 count,
			       gpointer user_data)
{
	GString *out = user_data;
	g_autofree gchar *code = g_strdup_printf("%u", status);

	relay_metrics_sample(out,
			     "relay_inbox_requests_total",
			     (gdouble)count,
			     "network",
			     network,
			     "code",
			     code,
			     "outcome",
			     relay_metrics_outcome_of_status(status),
			     NULL);
}

static void
relay_metrics_append_inbox(GString *out, RelayInbox *inbox)
{
	relay_metrics_family(
		out,
		"relay_inbox_requests_total",
		"counter",
		"POSTs to the networks' inboxes, by network, HTTP status and outcome.");
	if (inbox != NULL)
		relay_inbox_foreach_requests(inbox, relay_metrics_inbox_request_cb, out);
	relay_metrics_family(
		out,
		"relay_signature_failures_total",
		"counter",
		"Inbox POSTs refused because their HTTP signature did not hold, by reason.");
	for (guint i = 0; i < RELAY_INBOX_SIGNATURE_FAILURE_LAST; i++) {
		relay_metrics_sample(
			out,
			"relay_signature_failures_total",
			inbox != NULL ? (gdouble)relay_inbox_get_signature_failures(inbox, i) : 0,
			"reason",
			relay_inbox_signature_failure_to_string(i),
			NULL);
	}
}

static void
relay_metrics_append_deliveries(GString *out, RelayDeliverer *deliverer)
{
	RelayDelivererCounters counters = {0};
	guint64 cumulative = 0;

	if (deliverer != NULL)
		relay_deliverer_get_counters(deliverer, &counters);
	relay_metrics_family(
		out,
		"relay_deliveries_total",
		"counter",
		"Delivery attempts settled, by outcome (done, retry, failed, expired).");
	for (guint i = 0; i < RELAY_DELIVERY_OUTCOME_LAST; i++) {
		relay_metrics_sample(out,
				     "relay_deliveries_total",
				     (gdouble)counters.outcomes[i],
				     "outcome",
				     relay_delivery_outcome_to_string(i),
				     NULL);
	}
	relay_metrics_family(out,
			     "relay_deliveries_deferred_total",
			     "counter",
			     "Deliveries given back unattempted: their host was paused or busy.");
	relay_metrics_sample(
		out, "relay_deliveries_deferred_total", (gdouble)counters.deferred, NULL);
	relay_metrics_family(out,
			     "relay_delivery_latency_seconds",
			     "histogram",
			     "Time from an activity's acceptance to its delivery to one inbox, "
			     "retries included.");
	for (guint i = 0; i < RELAY_DELIVERER_LATENCY_BUCKETS; i++) {
		gchar le[G_ASCII_DTOSTR_BUF_SIZE];
		cumulative += counters.latency_buckets[i];
		g_ascii_dtostr(le, sizeof(le), relay_deliverer_latency_bounds_s[i]);
		relay_metrics_sample(out,
				     "relay_delivery_latency_seconds_bucket",
				     (gdouble)cumulative,
				     "le",
				     le,
				     NULL);
	}
	relay_metrics_sample(out,
			     "relay_delivery_latency_seconds_bucket",
			     (gdouble)counters.latency_count,
			     "le",
			     "+Inf",
			     NULL);
	relay_metrics_sample(out,
			     "relay_delivery_latency_seconds_sum",
			     (gdouble)counters.latency_sum_us / G_USEC_PER_SEC,
			     NULL);
	relay_metrics_sample(
		out, "relay_delivery_latency_seconds_count", (gdouble)counters.latency_count, NULL);
	relay_metrics_family(
		out, "relay_deliveries_in_flight", "gauge", "POSTs to members' inboxes under way.");
	relay_metrics_sample(out, "relay_deliveries_in_flight", counters.in_flight, NULL);
	relay_metrics_family(out,
			     "relay_delivery_hosts_paused",
			     "gauge",
			     "Hosts whose breaker is open after repeated failures.");
	relay_metrics_sample(out, "relay_delivery_hosts_paused", counters.hosts_paused, NULL);
	relay_metrics_family(out,
			     "relay_delivery_hosts_evicted_total",
			     "counter",
			     "Hosts whose members were removed for being unreachable too long.");
	relay_metrics_sample(
		out, "relay_delivery_hosts_evicted_total", (gdouble)counters.hosts_evicted, NULL);
}

static void
relay_metrics_append_stored(GString *out, RelayMetricsStored *stored)
{
	gint64 now_us = g_get_real_time();
	gdouble oldest_s = 0;

	relay_metrics_family(out,
			     "relay_queue_deliveries",
			     "gauge",
			     "Deliveries waiting in storage, those being attempted included.");
	relay_metrics_sample(out, "relay_queue_deliveries", (gdouble)stored->queue.queued, NULL);
	relay_metrics_family(
		out, "relay_queue_activities", "gauge", "Distinct activity bodies in the queue.");
	relay_metrics_sample(
		out, "relay_queue_activities", (gdouble)stored->queue.activities, NULL);
	if (stored->queue.oldest_created_us > 0)
		oldest_s =
			(gdouble)MAX(now_us - stored->queue.oldest_created_us, 0) / G_USEC_PER_SEC;
	relay_metrics_family(out,
			     "relay_queue_oldest_age_seconds",
			     "gauge",
			     "Age of the oldest delivery in the queue (0 when it is empty).");
	relay_metrics_sample(out, "relay_queue_oldest_age_seconds", oldest_s, NULL);
	relay_metrics_family(out, "relay_members", "gauge", "Members by network and state.");
	for (guint i = 0; i < stored->networks->len; i++) {
		for (guint state = 0; state < RELAY_MEMBER_STATE_LAST; state++) {
			guint count = g_array_index(
				stored->members, guint, i * RELAY_MEMBER_STATE_LAST + state);
			relay_metrics_sample(out,
					     "relay_members",
					     count,
					     "network",
					     g_ptr_array_index(stored->networks, i),
					     "state",
					     relay_member_state_to_string(state),
					     NULL);
		}
	}
}

static void
relay_metrics_append_cache(GString *out, RelayActorCache *cache)
{
	RelayActorCacheCounters counters = {0};

	if (cache != NULL)
		relay_actor_cache_get_counters(cache, &counters);
	relay_metrics_family(
		out,
		"relay_key_cache_lookups_total",
		"counter",
		"Signing keys looked up: found in memory, found in storage, or fetched.");
	relay_metrics_sample(out,
			     "relay_key_cache_lookups_total",
			     (gdouble)counters.key_memory_hits,
			     "result",
			     "memory_hit",
			     NULL);
	relay_metrics_sample(out,
			     "relay_key_cache_lookups_total",
			     (gdouble)counters.key_store_hits,
			     "result",
			     "storage_hit",
			     NULL);
	relay_metrics_sample(out,
			     "relay_key_cache_lookups_total",
			     (gdouble)counters.key_fetches,
			     "result",
			     "miss",
			     NULL);
}

static void
relay_metrics_append_block_lists(GString *out, RelayBlockPoller *poller)
{
	relay_metrics_family(
		out,
		"relay_blocklist_fetches_total",
		"counter",
		"Fetches of subscribed block lists: read, unchanged (304), or failed.");
	for (guint i = 0; i < RELAY_BLOCK_FETCH_LAST; i++)
		relay_metrics_sample(
			out,
			"relay_blocklist_fetches_total",
			poller != NULL ? (gdouble)relay_block_poller_get_fetches(poller, i) : 0,
			"outcome",
			relay_block_fetch_outcome_to_string(i),
			NULL);
}

static gchar *
relay_metrics_render(RelayServer *self, RelayMetricsStored *stored, gsize *length)
{
	GString *out = g_string_sized_new(8192);

	relay_metrics_family(out, "relay_build_info", "gauge", "The relay's version, as a label.");
	relay_metrics_sample(out, "relay_build_info", 1, "version", PACKAGE_VERSION, NULL);
	relay_metrics_family(out,
			     "relay_start_time_seconds",
			     "gauge",
			     "When the node started, in seconds since the Unix epoch.");
	relay_metrics_sample(out,
			     "relay_start_time_seconds",
			     (gdouble)(self->started_us / G_USEC_PER_SEC),
			     NULL);
	relay_metrics_append_inbox(out, self->inbox);
	relay_metrics_family(out,
			     "relay_inbox_rate_limited_total",
			     "counter",
			     "POSTs answered 429 because their address sent more than inbox-rate.");
	relay_metrics_sample(
		out, "relay_inbox_rate_limited_total", (gdouble)self->rate_limited, NULL);
	relay_metrics_append_deliveries(out, self->deliverer);
	relay_metrics_append_stored(out, stored);
	relay_metrics_append_cache(out, self->cache);
	relay_metrics_append_block_lists(out, self->block_poller);
	*length = out->len;
	return g_string_free(out, FALSE);
}

/* a scrape waiting for storage; owns what the store thread fills */
typedef struct {
	RelayServerRequest *request;
	RelayMetricsStored *stored;
} RelayMetricsScrape;

static void
relay_metrics_scrape_free(RelayMetricsScrape *scrape)
{
	relay_server_request_free(scrape->request);
	relay_metrics_stored_free(scrape->stored);
	g_free(scrape);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayMetricsScrape, relay_metrics_scrape_free)

static gint
relay_metrics_compare_names(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

static void
relay_metrics_stored_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(RelayMetricsScrape) scrape = user_data;
	RelayServerRequest *request = scrape->request;
	RelayMetricsStored *stored = scrape->stored;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) body = NULL;
	gchar *text;
	gsize length = 0;

	if (!g_task_propagate_boolean(G_TASK(res), &error)) {
		g_autoptr(JsonBuilder) builder = json_builder_new();
		g_warning("metrics: storage does not answer: %s", error->message);
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "error");
		json_builder_add_string_value(builder, "storage does not answer");
		json_builder_end_object(builder);
		relay_server_request_answer(request, SOUP_STATUS_SERVICE_UNAVAILABLE, builder);
		return;
	}
	text = relay_metrics_render(request->server, stored, &length);
	body = g_bytes_new_take(text, length);
	soup_message_headers_replace(soup_server_message_get_response_headers(request->msg),
				     "Cache-Control",
				     "no-store");
	relay_server_request_answer_bytes(
		request, SOUP_STATUS_OK, "text/plain; version=0.0.4; charset=utf-8", body);
}

static void
relay_metrics_cb(SoupServer *server,
		 SoupServerMessage *msg,
		 const char *path,
		 GHashTable *query,
		 gpointer user_data)
{
	RelayServer *self = RELAY_SERVER(user_data);
	RelayMetricsScrape *scrape;
	RelayMetricsStored *stored;
	GHashTableIter iter;
	gpointer name;

	if (g_strcmp0(path, "/metrics") != 0) {
		relay_server_set_error(msg, SOUP_STATUS_NOT_FOUND, "no such page");
		return;
	}
	if (!relay_server_require_get(msg))
		return;
	stored = g_new0(RelayMetricsStored, 1);
	stored->networks = g_ptr_array_new_with_free_func(g_free);
	stored->members = g_array_new(FALSE, TRUE, sizeof(guint));
	if (self->networks != NULL) {
		g_hash_table_iter_init(&iter, self->networks);
		while (g_hash_table_iter_next(&iter, &name, NULL))
			g_ptr_array_add(stored->networks, g_strdup(name));
	}
	g_ptr_array_sort(stored->networks, (GCompareFunc)relay_metrics_compare_names);
	scrape = g_new0(RelayMetricsScrape, 1);
	scrape->request = relay_server_request_new(self, msg);
	scrape->stored = stored;
	relay_store_run_async(self->store,
			      relay_metrics_stored_run,
			      stored,
			      NULL,
			      relay_metrics_cb,
			      scrape->request->cancellable,
			      relay_metrics_stored_cb,
			      scrape);
}

/**
 * relay_metrics_register:
 *
 * Adds GET /metrics to @self.
 */
void
relay_metrics_register(RelayServer *self)
{
	relay_server_add_route(self, "/metrics", relay_metrics_cb);
}
