/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * Shared moderation end to end: two relay nodes on two loopback addresses, node A publishing
 * its blocks (`publish-blocks`) and node B subscribing to them with `relay blocks subscribe`
 * (blocklist-refresh = 1 s), fake instances as B's members; and a Mastodon CSV list served by
 * a small libsoup server in the test. What is checked is what operators and instances see: the
 * admin commands' answers, the Reject a blocked member receives, the 403 its posts get, B's
 * /metrics (304s counted), and the requests the CSV server received (signed, If-None-Match).
 * Nothing sleeps: every wait polls a condition with a deadline.
 */

#include "config.h"

#include <libsoup/soup.h>

#include "relay-test-instance.h"
#include "relay-test-node.h"
#include "relay-test-prometheus.h"
#include "relay-test-utils.h"

#define PUBLIC	"https://www.w3.org/ns/activitystreams#Public"
#define WAIT_MS 20000
#define POLL_MS 200

typedef struct {
	RelayTestNode *a;     /* publishes its blocks */
	RelayTestNode *b;     /* subscribes, refreshes every second */
	RelayTestInstance *m; /* member of B whose domain A blocks */
	RelayTestInstance *n; /* member of B that stays */
	gchar *list_url;      /* A's list */
} BlocksubFixture;

static void
fixture_setup(BlocksubFixture *fixture, gconstpointer user_data)
{
	fixture->a = relay_test_node_new("127.0.0.31", "[network relay]\npublish-blocks = true\n");
	fixture->b = relay_test_node_new(
		"127.0.0.32",
		"[federation]\nblocklist-refresh = 1\n[network relay]\npublish-blocks = true\n");
	relay_test_node_start(fixture->a);
	relay_test_node_start(fixture->b);
	fixture->m = relay_test_instance_new("127.0.0.33");
	fixture->n = relay_test_instance_new("127.0.0.34");
	fixture->list_url = g_strdup_printf("%s/networks/relay/blocks", fixture->a->origin);
}

static void
fixture_teardown(BlocksubFixture *fixture, gconstpointer user_data)
{
	g_clear_pointer(&fixture->b, relay_test_node_free);
	g_clear_pointer(&fixture->a, relay_test_node_free);
	g_clear_pointer(&fixture->m, relay_test_instance_free);
	g_clear_pointer(&fixture->n, relay_test_instance_free);
	g_free(fixture->list_url);
}

/* helpers */

static gchar *
instance_domain(RelayTestInstance *instance)
{
	const gchar *host = relay_test_instance_get_host(instance);
	return g_strndup(host, (gsize)(strrchr(host, ':') - host));
}

static void
subscribe_member(RelayTestNode *node, RelayTestInstance *instance)
{
	g_autofree gchar *body = relay_test_instance_follow_json(instance, PUBLIC, NULL);
	guint accepts = relay_test_instance_count_type(instance, "Accept");

	g_assert_cmpuint(
		relay_test_instance_post(instance, node->inbox, "/actor", body, NULL), ==, 202);
	g_assert_true(relay_test_instance_wait_type(instance, "Accept", accepts + 1, WAIT_MS));
}

static guint
post_note(RelayTestNode *node, RelayTestInstance *instance, const gchar *text)
{
	g_autofree gchar *body = relay_test_instance_note_json(instance, text, TRUE);
	return relay_test_instance_post(instance, node->inbox, "/users/alice", body, NULL);
}

static gint
compare_lines(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

/* `relay blocks list --json` as "SCOPE DOMAIN SOURCE" lines, sorted */
static gchar *
blocks_of(RelayTestNode *node)
{
	g_autoptr(RelayTestCli) cli = relay_test_node_cli(node, "blocks", "list", "--json", NULL);
	g_autoptr(JsonNode) data = relay_test_cli_data(cli);
	g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GString) text = g_string_new(NULL);
	JsonArray *array = json_node_get_array(data);

	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonObject *block = json_array_get_object_element(array, i);
		const gchar *network =
			json_object_get_string_member_with_default(block, "network", NULL);
		const gchar *source =
			json_object_get_string_member_with_default(block, "source", NULL);
		g_ptr_array_add(lines,
				g_strdup_printf("%s %s %s",
						network != NULL ? network : "*",
						json_object_get_string_member(block, "domain"),
						source != NULL ? source : "admin"));
	}
	g_ptr_array_sort(lines, compare_lines);
	for (guint i = 0; i < lines->len; i++)
		g_string_append_printf(text, "%s\n", (const gchar *)g_ptr_array_index(lines, i));
	return g_string_free(g_steal_pointer(&text), FALSE);
}

/* the first subscription of `relay blocks subscriptions --json` */
static JsonObject *
subscription_of(RelayTestNode *node, JsonNode **out_data)
{
	g_autoptr(RelayTestCli) cli =
		relay_test_node_cli(node, "blocks", "subscriptions", "--json", NULL);
	JsonArray *array;

	*out_data = relay_test_cli_data(cli);
	array = json_node_get_array(*out_data);
	if (json_array_get_length(array) == 0)
		return NULL;
	return json_array_get_object_element(array, 0);
}

/* polling a condition that needs a command or a request: checked every POLL_MS */
typedef gboolean (*Check)(BlocksubFixture *fixture, gconstpointer data);

typedef struct {
	BlocksubFixture *fixture;
	gconstpointer data;
	Check check;
	gint64 next_us;
} Poll;

static gboolean
poll_cb(gpointer user_data)
{
	Poll *poll = user_data;

	if (g_get_monotonic_time() < poll->next_us)
		return FALSE;
	poll->next_us = g_get_monotonic_time() + POLL_MS * 1000;
	return poll->check(poll->fixture, poll->data);
}

static gboolean
poll_until(BlocksubFixture *fixture, Check check, gconstpointer data)
{
	Poll poll = {fixture, data, check, 0};
	return relay_test_wait_until(NULL, poll_cb, &poll, WAIT_MS);
}

/* `relay blocks subscribe URL --network relay --mode enforce` on B */
static RelayTestCli *
enforce_list(BlocksubFixture *fixture, const gchar *url)
{
	return relay_test_node_cli(fixture->b,
				   "blocks",
				   "subscribe",
				   url,
				   "--network",
				   "relay",
				   "--mode",
				   "enforce",
				   NULL);
}

static gboolean
b_blocks(BlocksubFixture *fixture, gconstpointer data)
{
	g_autofree gchar *blocks = blocks_of(fixture->b);
	return g_strcmp0(blocks, data) == 0;
}

static void
assert_b_blocks(BlocksubFixture *fixture, const gchar *expected)
{
	if (!poll_until(fixture, b_blocks, expected)) {
		g_autofree gchar *blocks = blocks_of(fixture->b);
		g_error("B's blocks are\n%sexpected\n%s", blocks, expected);
	}
}

static gboolean
b_subscription_failed(BlocksubFixture *fixture, gconstpointer data)
{
	g_autoptr(JsonNode) subscriptions = NULL;
	JsonObject *subscription = subscription_of(fixture->b, &subscriptions);
	const gchar *failure = subscription != NULL ? json_object_get_string_member_with_default(
							      subscription, "last_error", NULL)
						    : NULL;
	return failure != NULL && (data == NULL || strstr(failure, data) != NULL);
}

static gboolean
b_subscription_good(BlocksubFixture *fixture, gconstpointer data)
{
	g_autoptr(JsonNode) subscriptions = NULL;
	JsonObject *subscription = subscription_of(fixture->b, &subscriptions);
	return subscription != NULL && json_object_get_null_member(subscription, "last_error") &&
	       !json_object_get_null_member(subscription, "count") &&
	       json_object_get_int_member(subscription, "count") == GPOINTER_TO_INT(data);
}

/* B's /metrics, read with the strict reader */
static gdouble
b_metric(BlocksubFixture *fixture, const gchar *series)
{
	g_autoptr(SoupSession) session = soup_session_new_with_options("timeout", 5, NULL);
	g_autofree gchar *url = g_strdup_printf("%s/metrics", fixture->b->origin);
	g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
	g_autoptr(GBytes) body = soup_session_send_and_read(session, msg, NULL, NULL);
	g_autofree gchar *text = NULL;
	g_autoptr(GHashTable) samples = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_nonnull(body);
	g_assert_cmpuint(soup_message_get_status(msg), ==, 200);
	text = g_strndup(g_bytes_get_data(body, NULL), g_bytes_get_size(body));
	samples = relay_test_prometheus_parse(text, &error);
	g_assert_no_error(error);
	return relay_test_prometheus_value(samples, series);
}

static gboolean
b_got_304(BlocksubFixture *fixture, gconstpointer data)
{
	return b_metric(fixture, "relay_blocklist_fetches_total{outcome=\"unchanged\"}") >= 1;
}

/* the body of GET @path on @node */
static gchar *
http_get_text(RelayTestNode *node, const gchar *path)
{
	g_autoptr(SoupSession) session = soup_session_new_with_options("timeout", 5, NULL);
	g_autofree gchar *url = g_strdup_printf("%s%s", node->origin, path);
	g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
	g_autoptr(GBytes) body = soup_session_send_and_read(session, msg, NULL, NULL);

	g_assert_nonnull(body);
	g_assert_cmpuint(soup_message_get_status(msg), ==, 200);
	return g_strndup(g_bytes_get_data(body, NULL), g_bytes_get_size(body));
}

/* the cases */

/* enforce: A's blocks apply in B's network and remove B's member there, follow A's changes,
 * cost a 304 when unchanged, never touch B's own blocks, survive A going down, and go with
 * the unsubscribe */
static void
test_enforce(BlocksubFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *m_domain = instance_domain(fixture->m);
	g_autofree gchar *n_domain = instance_domain(fixture->n);
	g_autofree gchar *source = g_strdup_printf("subscription %s", fixture->list_url);
	g_autofree gchar *expected = NULL;
	g_autoptr(RelayTestCli) subscribe = NULL;
	g_autoptr(RelayTestCli) list = NULL;
	g_autoptr(RelayTestCli) subscriptions = NULL;
	g_autoptr(RelayTestCli) unblock = NULL;
	g_autoptr(RelayTestCli) unsubscribe = NULL;
	g_autoptr(RelayTestCli) members = NULL;
	g_autoptr(JsonNode) subscription_data = NULL;
	g_autofree gchar *published = NULL;
	JsonObject *subscription;

	subscribe_member(fixture->b, fixture->m);
	subscribe_member(fixture->b, fixture->n);
	relay_test_node_run_ok(fixture->a, "block", m_domain, "--reason", "spam from m", NULL);
	relay_test_node_run_ok(fixture->a, "block", "spam.example", NULL);
	relay_test_node_run_ok(fixture->a, "block", "shared.example", NULL);
	/* B's own block on a domain A lists too */
	relay_test_node_run_ok(fixture->b, "block", "shared.example", "--reason", "ours", NULL);

	subscribe = enforce_list(fixture, fixture->list_url);
	relay_test_cli_assert_ok(subscribe);
	relay_test_assert_contains(subscribe->out, "network relay subscribes to");
	relay_test_assert_contains(subscribe->out, "mode enforce");

	/* the list applies: m's membership ends with a Reject; B's own block stays B's */
	expected = g_strdup_printf("* shared.example admin\n"
				   "relay %s %s\n"
				   "relay spam.example %s\n",
				   m_domain,
				   source,
				   source);
	assert_b_blocks(fixture, expected);
	g_assert_true(relay_test_instance_wait_type(fixture->m, "Reject", 1, WAIT_MS));
	members = relay_test_node_cli(fixture->b, "members", "list", NULL);
	relay_test_cli_assert_ok(members);
	g_assert_null(strstr(members->out, m_domain));
	relay_test_assert_contains(members->out, n_domain);
	g_assert_cmpuint(post_note(fixture->b, fixture->m, "still here?"), ==, 403);
	g_assert_cmpuint(post_note(fixture->b, fixture->n, "hello"), ==, 202);
	list = relay_test_node_cli(fixture->b, "blocks", "list", NULL);
	relay_test_cli_assert_ok(list);
	relay_test_assert_contains(list->out, "network relay");
	relay_test_assert_contains(list->out, source);
	relay_test_assert_contains(list->out, "spam from m");

	/* B publishes its own decisions, not A's: no loop between nodes that read each other */
	published = http_get_text(fixture->b, "/networks/relay/blocks");
	relay_test_assert_contains(published, "shared.example");
	g_assert_null(strstr(published, m_domain));
	g_assert_null(strstr(published, "spam.example"));

	/* unchanged lists cost a 304 */
	g_assert_true(poll_until(fixture, b_got_304, NULL));

	/* what A lifts, B lifts; B's own block of a domain A drops stays */
	relay_test_node_run_ok(fixture->a, "unblock", "spam.example", NULL);
	relay_test_node_run_ok(fixture->a, "unblock", "shared.example", NULL);
	g_clear_pointer(&expected, g_free);
	expected = g_strdup_printf("* shared.example admin\nrelay %s %s\n", m_domain, source);
	assert_b_blocks(fixture, expected);
	/* an operator cannot lift a list's block by hand: it is the list's */
	unblock = relay_test_node_cli(fixture->b, "unblock", m_domain, NULL);
	g_assert_cmpint(unblock->status, ==, 1);
	relay_test_assert_contains(unblock->err, "is blocked in network relay by the block list");

	/* A goes down: B records the error and keeps the blocks */
	relay_test_node_stop(fixture->a);
	g_assert_true(poll_until(fixture, b_subscription_failed, NULL));
	assert_b_blocks(fixture, expected);
	subscription = subscription_of(fixture->b, &subscription_data);
	g_assert_cmpint(json_object_get_int_member(subscription, "count"), ==, 1);
	g_assert_cmpint(json_object_get_int_member(subscription, "blocks"), ==, 1);
	g_assert_cmpstr(json_object_get_string_member(subscription, "mode"), ==, "enforce");
	subscriptions = relay_test_node_cli(fixture->b, "blocks", "subscriptions", NULL);
	relay_test_cli_assert_ok(subscriptions);
	relay_test_assert_contains(subscriptions->out, "LAST ERROR");
	relay_test_assert_contains(subscriptions->out, fixture->list_url);
	relay_test_assert_contains(subscriptions->out, "enforce");
	g_assert_true(relay_test_node_wait_log(fixture->b, "stays in force", WAIT_MS));

	/* unsubscribing lifts the list's blocks, not B's own */
	unsubscribe =
		relay_test_node_cli(fixture->b, "blocks", "unsubscribe", fixture->list_url, NULL);
	relay_test_cli_assert_ok(unsubscribe);
	relay_test_assert_contains(unsubscribe->out, "1 block lifted");
	assert_b_blocks(fixture, "* shared.example admin\n");
}

static gboolean
b_advice_lists(BlocksubFixture *fixture, gconstpointer data)
{
	g_autoptr(RelayTestCli) cli =
		relay_test_node_cli(fixture->b, "blocks", "list", "--advice", "--json", NULL);
	g_autoptr(JsonNode) advice = relay_test_cli_data(cli);
	JsonArray *array = json_object_get_array_member(json_node_get_object(advice), "advice");

	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonObject *entry = json_array_get_object_element(array, i);
		if (g_strcmp0(json_object_get_string_member(entry, "domain"), data) == 0)
			return TRUE;
	}
	return FALSE;
}

/* advise, the default: the domains are listed, nothing is blocked, members stay; switching to
 * enforce applies them */
static void
test_advise(BlocksubFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *m_domain = instance_domain(fixture->m);
	g_autofree gchar *source = g_strdup_printf("subscription %s", fixture->list_url);
	g_autofree gchar *expected = NULL;
	g_autoptr(RelayTestCli) subscribe = NULL;
	g_autoptr(RelayTestCli) advice = NULL;
	g_autoptr(RelayTestCli) members = NULL;
	g_autoptr(RelayTestCli) enforce = NULL;

	subscribe_member(fixture->b, fixture->m);
	relay_test_node_run_ok(fixture->a, "block", m_domain, "--reason", "noisy", NULL);
	subscribe = relay_test_node_cli(
		fixture->b, "blocks", "subscribe", fixture->list_url, "--network", "relay", NULL);
	relay_test_cli_assert_ok(subscribe);
	relay_test_assert_contains(subscribe->out, "mode advise");
	relay_test_assert_contains(subscribe->out, "nothing is blocked");

	g_assert_true(poll_until(fixture, b_advice_lists, m_domain));
	advice = relay_test_node_cli(fixture->b, "blocks", "list", "--advice", NULL);
	relay_test_cli_assert_ok(advice);
	relay_test_assert_contains(advice->out, "BLOCKED");
	relay_test_assert_contains(advice->out, m_domain);
	relay_test_assert_contains(advice->out, "noisy");
	assert_b_blocks(fixture, "");
	members = relay_test_node_cli(fixture->b, "members", "list", NULL);
	relay_test_cli_assert_ok(members);
	relay_test_assert_contains(members->out, m_domain);
	g_assert_cmpuint(relay_test_instance_count_type(fixture->m, "Reject"), ==, 0);
	g_assert_cmpuint(post_note(fixture->b, fixture->m, "allowed"), ==, 202);

	/* subscribing again changes the mode */
	enforce = enforce_list(fixture, fixture->list_url);
	relay_test_cli_assert_ok(enforce);
	relay_test_assert_contains(enforce->out, "now enforces");
	relay_test_assert_contains(enforce->out, "1 membership ended");
	expected = g_strdup_printf("relay %s %s\n", m_domain, source);
	assert_b_blocks(fixture, expected);
	g_assert_true(relay_test_instance_wait_type(fixture->m, "Reject", 1, WAIT_MS));
}

/* bad input: a clear message and the right status, nothing changed */
static void
test_usage(BlocksubFixture *fixture, gconstpointer user_data)
{
	g_autoptr(RelayTestCli) no_network =
		relay_test_node_cli(fixture->b, "blocks", "subscribe", fixture->list_url, NULL);
	g_autoptr(RelayTestCli) bad_mode = relay_test_node_cli(fixture->b,
							       "blocks",
							       "subscribe",
							       fixture->list_url,
							       "--network",
							       "relay",
							       "--mode",
							       "block",
							       NULL);
	g_autoptr(RelayTestCli) bad_url = relay_test_node_cli(
		fixture->b, "blocks", "subscribe", "ftp://x.example/l", "--network", "relay", NULL);
	g_autoptr(RelayTestCli) bad_network = relay_test_node_cli(
		fixture->b, "blocks", "subscribe", fixture->list_url, "--network", "nope", NULL);
	g_autoptr(RelayTestCli) unknown = relay_test_node_cli(
		fixture->b, "blocks", "unsubscribe", "https://x.example/list", NULL);
	g_autoptr(RelayTestCli) none =
		relay_test_node_cli(fixture->b, "blocks", "subscriptions", NULL);
	g_autoptr(RelayTestCli) help = NULL;
	const gchar *argv[] = {g_getenv("RELAY_BINARY"), "help", "blocks", "subscribe", NULL};
	g_autoptr(GSubprocess) process = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *help_out = NULL;

	g_assert_cmpint(no_network->status, ==, 2);
	relay_test_assert_contains(no_network->err, "--network");
	g_assert_cmpint(bad_mode->status, ==, 1);
	relay_test_assert_contains(bad_mode->err, "unknown mode 'block' (advise or enforce)");
	g_assert_cmpint(bad_url->status, ==, 1);
	relay_test_assert_contains(bad_url->err, "is not an http or https URL");
	g_assert_cmpint(bad_network->status, ==, 1);
	relay_test_assert_contains(bad_network->err, "no network named 'nope'");
	g_assert_cmpint(unknown->status, ==, 1);
	relay_test_assert_contains(unknown->err, "no network subscribes to https://x.example/list");
	relay_test_cli_assert_ok(none);
	relay_test_assert_contains(none->out, "no block list subscriptions");

	/* the help says which mode is the default, and why */
	process = relay_test_spawn(G_SUBPROCESS_FLAGS_STDOUT_PIPE, argv, &error);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8(process, NULL, NULL, &help_out, NULL, &error);
	g_assert_no_error(error);
	relay_test_assert_contains(help_out, "--mode advise (the default, the safe one)");
}

/* serves @path on 127.0.0.36 with @callback; returns its URL */
static gchar *
serve_list(SoupServer *server, const gchar *path, SoupServerCallback callback, gpointer data)
{
	g_autoptr(GSocketAddress) address = g_inet_socket_address_new_from_string("127.0.0.36", 0);
	g_autoptr(GError) error = NULL;
	GSList *uris;
	gchar *url;

	soup_server_add_handler(server, path, callback, data, NULL);
	g_assert_true(soup_server_listen(server, address, 0, &error));
	g_assert_no_error(error);
	uris = soup_server_get_uris(server);
	url = g_strdup_printf("http://127.0.0.36:%d%s", g_uri_get_port(uris->data), path);
	g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
	return url;
}

/* a Mastodon CSV list served by the test */

typedef struct {
	guint status; /* 0: the list */
	const gchar *body;
	guint requests;
	guint conditional; /* requests with our ETag in If-None-Match */
	guint unsigned_requests;
	guint not_modified;
} CsvServer;

#define CSV_ETAG "\"csv-1\""

static void
csv_server_cb(SoupServer *server,
	      SoupServerMessage *msg,
	      const char *path,
	      GHashTable *query,
	      gpointer user_data)
{
	CsvServer *csv = user_data;
	SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
	const gchar *if_none_match = soup_message_headers_get_one(headers, "If-None-Match");

	csv->requests++;
	if (soup_message_headers_get_one(headers, "Signature") == NULL)
		csv->unsigned_requests++;
	relay_test_assert_contains(soup_message_headers_get_one(headers, "Accept"), "text/csv");
	if (csv->status != 0) {
		soup_server_message_set_status(msg, csv->status, NULL);
		return;
	}
	soup_message_headers_replace(
		soup_server_message_get_response_headers(msg), "ETag", CSV_ETAG);
	if (g_strcmp0(if_none_match, CSV_ETAG) == 0) {
		csv->conditional++;
		csv->not_modified++;
		soup_server_message_set_status(msg, SOUP_STATUS_NOT_MODIFIED, NULL);
		return;
	}
	soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
	soup_server_message_set_response(
		msg, "text/csv; charset=utf-8", SOUP_MEMORY_COPY, csv->body, strlen(csv->body));
}

static gboolean
csv_not_modified(BlocksubFixture *fixture, gconstpointer data)
{
	return ((const CsvServer *)data)->not_modified >= 1;
}

/* Mastodon's export format: suspend and silence block, noop does not; the ETag is used; a 404
 * is recorded as an error and keeps the blocks, and the error goes once the list is back */
static void
test_csv(BlocksubFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *m_domain = instance_domain(fixture->m);
	g_autofree gchar *body = g_strdup_printf(
		"#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n"
		"%s,suspend,true,true,\"spam, lots\",false\n"
		"loud.example,silence,false,false,,false\n"
		"fine.example,noop,false,false,,false\n",
		m_domain);
	CsvServer csv = {0, body};
	g_autoptr(SoupServer) server = soup_server_new(NULL, NULL);
	g_autofree gchar *url = serve_list(server, "/blocks.csv", csv_server_cb, &csv);
	g_autoptr(RelayTestCli) subscribe = NULL;
	g_autofree gchar *source = NULL;
	g_autofree gchar *expected = NULL;

	source = g_strdup_printf("subscription %s", url);

	subscribe_member(fixture->b, fixture->m);
	subscribe = enforce_list(fixture, url);
	relay_test_cli_assert_ok(subscribe);
	expected =
		g_strdup_printf("relay %s %s\nrelay loud.example %s\n", m_domain, source, source);
	assert_b_blocks(fixture, expected);
	g_assert_true(relay_test_instance_wait_type(fixture->m, "Reject", 1, WAIT_MS));
	g_assert_true(poll_until(fixture, b_subscription_good, GINT_TO_POINTER(2)));

	/* unchanged: asked with the ETag, answered 304; every GET signed */
	g_assert_true(poll_until(fixture, csv_not_modified, &csv));
	g_assert_cmpuint(csv.conditional, >=, 1);
	g_assert_cmpuint(csv.unsigned_requests, ==, 0);

	/* gone (404), then a list with a bad line: errors, and the blocks stay */
	csv.status = SOUP_STATUS_NOT_FOUND;
	g_assert_true(poll_until(fixture, b_subscription_failed, "404"));
	assert_b_blocks(fixture, expected);
	/* back: the ETag of the list kept is still sent, a 304 clears the error */
	csv.status = 0;
	g_assert_true(poll_until(fixture, b_subscription_good, GINT_TO_POINTER(2)));
	assert_b_blocks(fixture, expected);
	soup_server_disconnect(server);
}

/* a bad list (no ETag, so the body is read each time) is an error and keeps the blocks */
static void
bad_list_cb(SoupServer *server,
	    SoupServerMessage *msg,
	    const char *path,
	    GHashTable *query,
	    gpointer user_data)
{
	const gchar **body = user_data;

	soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
	soup_server_message_set_response(msg, "text/csv", SOUP_MEMORY_COPY, *body, strlen(*body));
}

static void
test_bad_list(BlocksubFixture *fixture, gconstpointer user_data)
{
	const gchar *body = "good.example\nother.example\n";
	g_autoptr(SoupServer) server = soup_server_new(NULL, NULL);
	g_autofree gchar *url = serve_list(server, "/list", bad_list_cb, &body);
	g_autoptr(RelayTestCli) subscribe = NULL;
	g_autofree gchar *source = NULL;
	g_autofree gchar *expected = NULL;

	source = g_strdup_printf("subscription %s", url);

	subscribe = enforce_list(fixture, url);
	relay_test_cli_assert_ok(subscribe);
	expected =
		g_strdup_printf("relay good.example %s\nrelay other.example %s\n", source, source);
	assert_b_blocks(fixture, expected);

	/* one bad line and nothing of the list is taken; the last good one stands */
	body = "good.example\nbad.example,obliterate\n";
	g_assert_true(poll_until(fixture, b_subscription_failed, "unknown severity 'obliterate'"));
	assert_b_blocks(fixture, expected);

	/* fixed: the list drops other.example, which is lifted */
	body = "good.example\n";
	g_assert_true(poll_until(fixture, b_subscription_good, GINT_TO_POINTER(1)));
	g_clear_pointer(&expected, g_free);
	expected = g_strdup_printf("relay good.example %s\n", source);
	assert_b_blocks(fixture, expected);
	soup_server_disconnect(server);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	if (g_getenv("RELAY_BINARY") == NULL) {
		g_printerr("RELAY_BINARY must name the relay binary\n");
		return 1;
	}
	g_test_add("/relay/blocksub/enforce",
		   BlocksubFixture,
		   NULL,
		   fixture_setup,
		   test_enforce,
		   fixture_teardown);
	g_test_add("/relay/blocksub/advise",
		   BlocksubFixture,
		   NULL,
		   fixture_setup,
		   test_advise,
		   fixture_teardown);
	g_test_add("/relay/blocksub/usage",
		   BlocksubFixture,
		   NULL,
		   fixture_setup,
		   test_usage,
		   fixture_teardown);
	g_test_add("/relay/blocksub/csv",
		   BlocksubFixture,
		   NULL,
		   fixture_setup,
		   test_csv,
		   fixture_teardown);
	g_test_add("/relay/blocksub/bad-list",
		   BlocksubFixture,
		   NULL,
		   fixture_setup,
		   test_bad_list,
		   fixture_teardown);
	return g_test_run();
}
