/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * The admin commands of the `relay` binary: each finds the node's admin socket from relay.conf
 * (-c FILE), sends one request (see relay-admin.c), and prints the answer as a table for
 * people, or as the node's JSON with --json. Exit statuses: 0 done, 1 the node refused (the
 * message says why), 2 bad usage (or a file that cannot be read), 3 the node is not running.
 *
 * Every command is one row of the table below: its words, the request it sends, which
 * request argument each positional parameter fills, its options, and how its answer is shown.
 */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <gio/gunixsocketaddress.h>
#include <json-glib/json-glib.h>

#include "relay-cli.h"
#include "relay-config.h"

/* the longest a command waits for its node (an import of a long list takes a while) */
#define RELAY_CLI_TIMEOUT_S 600
/* the largest answer read */
#define RELAY_CLI_MAX_ANSWER_BYTES (256 * 1024 * 1024)

typedef enum {
	RELAY_CLI_OPTION_NETWORK = 1 << 0,
	RELAY_CLI_OPTION_STATE = 1 << 1,
	RELAY_CLI_OPTION_REASON = 1 << 2,
	RELAY_CLI_OPTION_MODE = 1 << 3,
	RELAY_CLI_OPTION_ADVICE = 1 << 4,
} RelayCliOption;

typedef struct {
	const gchar *words;	   /* as typed: "members approve" */
	const gchar *request;	   /* the admin API's command */
	const gchar *parameters;   /* the positional parameters, for the usage line */
	const gchar *arguments[3]; /* the request argument each positional parameter fills */
	guint options;		   /* RelayCliOption */
	const gchar *summary;
	const gchar *description;
	/* (nullable): adds what the parameters do not give to the request's arguments */
	gboolean (*prepare)(JsonObject *args, GError **error);
	void (*print)(JsonNode *data);
} RelayCliCommand;

static gchar *cli_config_path = NULL;
static gboolean cli_json = FALSE;
static gchar *cli_network = NULL;
static gchar *cli_state = NULL;
static gchar *cli_reason = NULL;
static gchar *cli_mode = NULL;
static gboolean cli_advice = FALSE;

/* text helpers */

static const gchar *
relay_cli_string(JsonObject *object, const gchar *member)
{
	JsonNode *node = object != NULL ? json_object_get_member(object, member) : NULL;
	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
	    json_node_get_value_type(node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(node);
}

static gint64
relay_cli_int(JsonObject *object, const gchar *member)
{
	JsonNode *node = object != NULL ? json_object_get_member(object, member) : NULL;
	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node))
		return 0;
	return json_node_get_int(node);
}

static gchar *
relay_cli_int_string(JsonObject *object, const gchar *member)
{
	return g_strdup_printf("%" G_GINT64_FORMAT, relay_cli_int(object, member));
}

/* "1 delivery", "2 deliveries" */
static gchar *
relay_cli_count(gint64 count, const gchar *one, const gchar *many)
{
	return g_strdup_printf("%" G_GINT64_FORMAT " %s", count, count == 1 ? one : many);
}

/* "3d 4h", "2h 5m", "5m 2s", "12s" */
static gchar *
relay_cli_duration(gint64 seconds)
{
	if (seconds < 0)
		seconds = 0;
	if (seconds >= 86400)
		return g_strdup_printf("%" G_GINT64_FORMAT "d %" G_GINT64_FORMAT "h",
				       seconds / 86400,
				       (seconds % 86400) / 3600);
	if (seconds >= 3600)
		return g_strdup_printf("%" G_GINT64_FORMAT "h %" G_GINT64_FORMAT "m",
				       seconds / 3600,
				       (seconds % 3600) / 60);
	if (seconds >= 60)
		return g_strdup_printf(
			"%" G_GINT64_FORMAT "m %" G_GINT64_FORMAT "s", seconds / 60, seconds % 60);
	return g_strdup_printf("%" G_GINT64_FORMAT "s", seconds);
}

/* seconds from now to an ISO 8601 time (negative: in the past); FALSE when there is none */
static gboolean
relay_cli_seconds_until(const gchar *iso, gint64 *out_seconds)
{
	g_autoptr(GDateTime) time = NULL;

	if (iso == NULL)
		return FALSE;
	time = g_date_time_new_from_iso8601(iso, NULL);
	if (time == NULL)
		return FALSE;
	*out_seconds = g_date_time_to_unix(time) - g_get_real_time() / G_USEC_PER_SEC;
	return TRUE;
}

/* "5m ago", "in 4m", or "-" */
static gchar *
relay_cli_relative(const gchar *iso)
{
	g_autofree gchar *duration = NULL;
	gint64 seconds = 0;

	if (!relay_cli_seconds_until(iso, &seconds))
		return g_strdup("-");
	if (seconds <= 0) {
		duration = relay_cli_duration(-seconds);
		return g_strdup_printf("%s ago", duration);
	}
	duration = relay_cli_duration(seconds);
	return g_strdup_printf("in %s", duration);
}

/* the day of an ISO 8601 time, or "-" */
static gchar *
relay_cli_day(const gchar *iso)
{
	if (iso == NULL || strlen(iso) < 10)
		return g_strdup("-");
	return g_strndup(iso, 10);
}

/* tables: aligned columns, two spaces apart, no colour, no trailing spaces */

typedef struct {
	guint n_columns;
	GPtrArray *rows; /* (element-type GStrv): the header first */
} RelayCliTable;

static RelayCliTable *
relay_cli_table_new(const gchar *first, ...)
{
	RelayCliTable *table = g_new0(RelayCliTable, 1);
	g_autoptr(GStrvBuilder) header = g_strv_builder_new();
	va_list args;

	va_start(args, first);
	for (const gchar *column = first; column != NULL; column = va_arg(args, const gchar *)) {
		g_strv_builder_add(header, column);
		table->n_columns++;
	}
	va_end(args);
	table->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
	g_ptr_array_add(table->rows, g_strv_builder_end(header));
	return table;
}

/* adds a row of n_columns strings, which it takes */
static void
relay_cli_table_add(RelayCliTable *table, ...)
{
	gchar **row = g_new0(gchar *, table->n_columns + 1);
	va_list args;

	va_start(args, table);
	for (guint i = 0; i < table->n_columns; i++) {
		gchar *cell = va_arg(args, gchar *);
		row[i] = cell != NULL ? cell : g_strdup("-");
	}
	va_end(args);
	g_ptr_array_add(table->rows, row);
}

static void
relay_cli_table_print(RelayCliTable *table)
{
	g_autofree gsize *widths = g_new0(gsize, table->n_columns);

	for (guint r = 0; r < table->rows->len; r++) {
		gchar **row = g_ptr_array_index(table->rows, r);
		for (guint c = 0; c < table->n_columns; c++)
			widths[c] = MAX(widths[c], (gsize)g_utf8_strlen(row[c], -1));
	}
	for (guint r = 0; r < table->rows->len; r++) {
		gchar **row = g_ptr_array_index(table->rows, r);
		g_autoptr(GString) line = g_string_new(NULL);
		for (guint c = 0; c < table->n_columns; c++) {
			g_string_append(line, row[c]);
			if (c + 1 < table->n_columns) {
				gsize pad = widths[c] - (gsize)g_utf8_strlen(row[c], -1) + 2;
				for (gsize i = 0; i < pad; i++)
					g_string_append_c(line, ' ');
			}
		}
		while (line->len > 0 && line->str[line->len - 1] == ' ')
			g_string_truncate(line, line->len - 1);
		g_print("%s\n", line->str);
	}
}

static void
relay_cli_table_free(RelayCliTable *table)
{
	g_ptr_array_unref(table->rows);
	g_free(table);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayCliTable, relay_cli_table_free)

/* printers: how the answer of each command is shown */

static void
relay_cli_print_message(JsonNode *data)
{
	const gchar *message = JSON_NODE_HOLDS_OBJECT(data)
				       ? relay_cli_string(json_node_get_object(data), "message")
				       : NULL;
	g_print("%s\n", message != NULL ? message : "done");
}

static gchar *
relay_cli_member_state(JsonObject *member)
{
	const gchar *waiting = relay_cli_string(member, "waiting_for");

	if (g_strcmp0(waiting, "approval") == 0)
		return g_strdup("pending (approval)");
	if (g_strcmp0(waiting, "their-accept") == 0)
		return g_strdup("pending (their Accept)");
	if (g_strcmp0(waiting, "their-follow") == 0)
		return g_strdup("pending (peer, their Follow)");
	return g_strdup(relay_cli_string(member, "state"));
}

static void
relay_cli_print_members(JsonNode *data)
{
	JsonArray *members = json_node_get_array(data);
	g_autoptr(RelayCliTable) table = relay_cli_table_new(
		"NETWORK", "ACTOR", "STATE", "DIRECTION", "PROTOCOL", "SINCE", "LAST SEEN", NULL);

	if (json_array_get_length(members) == 0) {
		g_print("no members\n");
		return;
	}
	for (guint i = 0; i < json_array_get_length(members); i++) {
		JsonObject *member = json_array_get_object_element(members, i);
		relay_cli_table_add(table,
				    g_strdup(relay_cli_string(member, "network")),
				    g_strdup(relay_cli_string(member, "actor")),
				    relay_cli_member_state(member),
				    g_strdup(relay_cli_string(member, "direction")),
				    g_strdup(relay_cli_string(member, "protocol")),
				    relay_cli_day(relay_cli_string(member, "created_at")),
				    relay_cli_relative(relay_cli_string(member, "last_seen_at")));
	}
	relay_cli_table_print(table);
}

static void
relay_cli_print_member_details(JsonNode *data)
{
	JsonArray *members = json_node_get_array(data);

	for (guint i = 0; i < json_array_get_length(members); i++) {
		JsonObject *member = json_array_get_object_element(members, i);
		g_autofree gchar *state = relay_cli_member_state(member);
		g_autofree gchar *seen =
			relay_cli_relative(relay_cli_string(member, "last_seen_at"));
		const gchar *shared = relay_cli_string(member, "shared_inbox");
		const gchar *follow_id = relay_cli_string(member, "follow_id");

		if (i > 0)
			g_print("\n");
		g_print("%s in network %s\n",
			relay_cli_string(member, "actor"),
			relay_cli_string(member, "network"));
		g_print("  state:          %s\n", state);
		g_print("  direction:      %s\n", relay_cli_string(member, "direction"));
		g_print("  protocol:       %s%s\n",
			relay_cli_string(member, "protocol"),
			json_object_get_boolean_member_with_default(member, "peer", FALSE)
				? ", peer relay"
				: "");
		g_print("  inbox:          %s\n", relay_cli_string(member, "inbox"));
		g_print("  shared inbox:   %s\n", shared != NULL ? shared : "-");
		g_print("  follow id:      %s\n", follow_id != NULL ? follow_id : "-");
		g_print("  following back: %s\n",
			json_object_get_boolean_member_with_default(member, "following_back", FALSE)
				? "yes"
				: "no");
		g_print("  member since:   %s\n", relay_cli_string(member, "created_at"));
		g_print("  last seen:      %s\n", seen);
	}
}

/* blocks list --advice: what the lists a network only takes advice from say */
static void
relay_cli_print_advice(JsonArray *advice)
{
	g_autoptr(RelayCliTable) table =
		relay_cli_table_new("DOMAIN", "NETWORK", "BLOCKED", "LIST", "REASON", NULL);

	if (json_array_get_length(advice) == 0) {
		g_print("no advice: no list in mode advise names a domain (see 'relay blocks "
			"subscriptions')\n");
		return;
	}
	for (guint i = 0; i < json_array_get_length(advice); i++) {
		JsonObject *entry = json_array_get_object_element(advice, i);
		relay_cli_table_add(table,
				    g_strdup(relay_cli_string(entry, "domain")),
				    g_strdup(relay_cli_string(entry, "network")),
				    g_strdup(json_object_get_boolean_member_with_default(
						     entry, "blocked", FALSE)
						     ? "yes"
						     : "no"),
				    g_strdup(relay_cli_string(entry, "url")),
				    g_strdup(relay_cli_string(entry, "reason")));
	}
	relay_cli_table_print(table);
}

static void
relay_cli_print_blocks(JsonNode *data)
{
	JsonArray *blocks = NULL;
	g_autoptr(RelayCliTable) table =
		relay_cli_table_new("DOMAIN", "SCOPE", "SINCE", "SOURCE", "REASON", NULL);

	if (JSON_NODE_HOLDS_OBJECT(data)) {
		JsonNode *advice = json_object_get_member(json_node_get_object(data), "advice");
		if (advice != NULL && JSON_NODE_HOLDS_ARRAY(advice))
			relay_cli_print_advice(json_node_get_array(advice));
		return;
	}
	blocks = json_node_get_array(data);

	if (json_array_get_length(blocks) == 0) {
		g_print("no blocked domains\n");
		return;
	}
	for (guint i = 0; i < json_array_get_length(blocks); i++) {
		JsonObject *block = json_array_get_object_element(blocks, i);
		const gchar *network = relay_cli_string(block, "network");
		const gchar *source = relay_cli_string(block, "source");
		relay_cli_table_add(table,
				    g_strdup(relay_cli_string(block, "domain")),
				    network != NULL ? g_strdup_printf("network %s", network)
						    : g_strdup("node"),
				    relay_cli_day(relay_cli_string(block, "created_at")),
				    g_strdup(source != NULL ? source : "admin"),
				    g_strdup(relay_cli_string(block, "reason")));
	}
	relay_cli_table_print(table);
}

static void
relay_cli_print_subscriptions(JsonNode *data)
{
	JsonArray *subscriptions = json_node_get_array(data);
	g_autoptr(RelayCliTable) table = relay_cli_table_new(
		"NETWORK", "URL", "MODE", "DOMAINS", "BLOCKS", "CHECKED", "LAST ERROR", NULL);

	if (json_array_get_length(subscriptions) == 0) {
		g_print("no block list subscriptions\n");
		return;
	}
	for (guint i = 0; i < json_array_get_length(subscriptions); i++) {
		JsonObject *subscription = json_array_get_object_element(subscriptions, i);
		JsonNode *count = json_object_get_member(subscription, "count");
		const gchar *failure = relay_cli_string(subscription, "last_error");
		relay_cli_table_add(
			table,
			g_strdup(relay_cli_string(subscription, "network")),
			g_strdup(relay_cli_string(subscription, "url")),
			g_strdup(relay_cli_string(subscription, "mode")),
			count != NULL && JSON_NODE_HOLDS_VALUE(count)
				? relay_cli_int_string(subscription, "count")
				: g_strdup("-"),
			relay_cli_int_string(subscription, "blocks"),
			relay_cli_string(subscription, "checked_at") != NULL
				? relay_cli_relative(relay_cli_string(subscription, "checked_at"))
				: g_strdup("never"),
			g_strdup(failure != NULL ? failure : "-"));
	}
	relay_cli_table_print(table);
}

static void
relay_cli_print_software(JsonNode *data)
{
	JsonArray *blocks = json_node_get_array(data);
	g_autoptr(RelayCliTable) table = relay_cli_table_new("SOFTWARE", "SINCE", "REASON", NULL);

	if (json_array_get_length(blocks) == 0) {
		g_print("no blocked software\n");
		return;
	}
	for (guint i = 0; i < json_array_get_length(blocks); i++) {
		JsonObject *block = json_array_get_object_element(blocks, i);
		relay_cli_table_add(table,
				    g_strdup(relay_cli_string(block, "domain")),
				    relay_cli_day(relay_cli_string(block, "created_at")),
				    g_strdup(relay_cli_string(block, "reason")));
	}
	relay_cli_table_print(table);
}

static void
relay_cli_print_export(JsonNode *data)
{
	const gchar *csv = relay_cli_string(json_node_get_object(data), "csv");
	fputs(csv != NULL ? csv : "", stdout);
}

static void
relay_cli_print_import(JsonNode *data)
{
	JsonObject *object = json_node_get_object(data);
	JsonArray *skipped = json_object_get_array_member(object, "skipped");

	g_print("%s\n", relay_cli_string(object, "message"));
	for (guint i = 0; skipped != NULL && i < json_array_get_length(skipped); i++) {
		JsonObject *entry = json_array_get_object_element(skipped, i);
		g_print("  skipped line %" G_GINT64_FORMAT ", %s: %s\n",
			relay_cli_int(entry, "line"),
			relay_cli_string(entry, "domain"),
			relay_cli_string(entry, "why"));
	}
}

static void
relay_cli_table_add_network(RelayCliTable *table, JsonObject *network)
{
	JsonObject *members = json_object_get_object_member(network, "members");
	relay_cli_table_add(table,
			    g_strdup(relay_cli_string(network, "name")),
			    g_strdup(relay_cli_string(network, "join")),
			    relay_cli_int_string(members, "accepted"),
			    relay_cli_int_string(members, "pending"),
			    relay_cli_int_string(members, "rejected"),
			    g_strdup(relay_cli_string(network, "inbox")));
}

static void
relay_cli_print_networks(JsonNode *data)
{
	JsonArray *networks = json_node_get_array(data);
	g_autoptr(RelayCliTable) table = relay_cli_table_new(
		"NETWORK", "JOIN", "ACCEPTED", "PENDING", "REJECTED", "INBOX", NULL);

	for (guint i = 0; i < json_array_get_length(networks); i++)
		relay_cli_table_add_network(table, json_array_get_object_element(networks, i));
	relay_cli_table_print(table);
}

static gchar *
relay_cli_join_strings(JsonObject *object, const gchar *member, const gchar *none)
{
	JsonArray *array = json_object_get_array_member(object, member);
	g_autoptr(GString) text = g_string_new(NULL);

	for (guint i = 0; array != NULL && i < json_array_get_length(array); i++)
		g_string_append_printf(
			text, "%s%s", i > 0 ? ", " : "", json_array_get_string_element(array, i));
	return text->len > 0 ? g_string_free(g_steal_pointer(&text), FALSE) : g_strdup(none);
}

static void
relay_cli_print_network(JsonNode *data)
{
	JsonObject *network = json_node_get_object(data);
	JsonObject *members = json_object_get_object_member(network, "members");
	JsonArray *allowed = json_object_get_array_member(network, "allowed");
	g_autofree gchar *hashtags = relay_cli_join_strings(network, "hashtags", "(any)");
	g_autofree gchar *languages = relay_cli_join_strings(network, "languages", "(any)");
	g_autofree gchar *deny = relay_cli_join_strings(network, "deny_keywords", "(none)");
	const gchar *summary = relay_cli_string(network, "summary");
	g_autoptr(GString) allow_list = g_string_new(NULL);

	for (guint i = 0; allowed != NULL && i < json_array_get_length(allowed); i++) {
		JsonObject *policy = json_array_get_object_element(allowed, i);
		g_string_append_printf(allow_list,
				       "%s%s%s",
				       i > 0 ? ", " : "",
				       relay_cli_string(policy, "domain"),
				       relay_cli_string(policy, "network") == NULL ? " (node-wide)"
										   : "");
	}
	g_print("%s: %s\n", relay_cli_string(network, "name"), relay_cli_string(network, "title"));
	g_print("  join:          %s\n", relay_cli_string(network, "join"));
	g_print("  actor:         %s\n", relay_cli_string(network, "actor"));
	g_print("  inbox:         %s\n", relay_cli_string(network, "inbox"));
	g_print("  members:       %" G_GINT64_FORMAT " accepted, %" G_GINT64_FORMAT
		" pending, %" G_GINT64_FORMAT " rejected\n",
		relay_cli_int(members, "accepted"),
		relay_cli_int(members, "pending"),
		relay_cli_int(members, "rejected"));
	g_print("  summary:       %s\n", summary != NULL && summary[0] != '\0' ? summary : "-");
	g_print("  hashtags:      %s\n", hashtags);
	g_print("  languages:     %s\n", languages);
	g_print("  deny keywords: %s\n", deny);
	g_print("  allow list:    %s\n", allow_list->len > 0 ? allow_list->str : "(empty)");
}

static void
relay_cli_print_status(JsonNode *data)
{
	JsonObject *status = json_node_get_object(data);
	JsonArray *networks = json_object_get_array_member(status, "networks");
	JsonObject *queue = json_object_get_object_member(status, "queue");
	JsonObject *recent = json_object_get_object_member(status, "deliveries_last_hour");
	g_autofree gchar *uptime = relay_cli_duration(relay_cli_int(status, "uptime_s"));
	g_autofree gchar *oldest = relay_cli_duration(relay_cli_int(queue, "oldest_age_s"));
	g_autoptr(RelayCliTable) table = relay_cli_table_new(
		"NETWORK", "JOIN", "ACCEPTED", "PENDING", "REJECTED", "INBOX", NULL);

	g_print("relay %s at %s, up %s (since %s)\n\n",
		relay_cli_string(status, "version"),
		relay_cli_string(status, "public_url"),
		uptime,
		relay_cli_string(status, "started_at"));
	for (guint i = 0; networks != NULL && i < json_array_get_length(networks); i++)
		relay_cli_table_add_network(table, json_array_get_object_element(networks, i));
	relay_cli_table_print(table);
	{
		g_autofree gchar *pending =
			relay_cli_count(relay_cli_int(queue, "pending"), "delivery", "deliveries");
		g_autofree gchar *paused =
			relay_cli_count(relay_cli_int(queue, "hosts_paused"), "host", "hosts");
		g_print("\nqueue: %s pending (%" G_GINT64_FORMAT " in flight)%s%s; %s paused, "
			"%" G_GINT64_FORMAT " failing\n",
			pending,
			relay_cli_int(queue, "in_flight"),
			relay_cli_int(queue, "pending") > 0 ? ", the oldest " : "",
			relay_cli_int(queue, "pending") > 0 ? oldest : "",
			paused,
			relay_cli_int(queue, "hosts_failing"));
	}
	g_print("deliveries in the last hour: %" G_GINT64_FORMAT " done, %" G_GINT64_FORMAT
		" retry, %" G_GINT64_FORMAT " failed, %" G_GINT64_FORMAT " expired\n",
		relay_cli_int(recent, "done"),
		relay_cli_int(recent, "retry"),
		relay_cli_int(recent, "failed"),
		relay_cli_int(recent, "expired"));
}

/* "12 in, 30 out" over the last hour */
static gchar *
relay_cli_peer_traffic(JsonObject *peer)
{
	return g_strdup_printf("%" G_GINT64_FORMAT " in, %" G_GINT64_FORMAT " out",
			       relay_cli_int(peer, "received_last_hour"),
			       relay_cli_int(peer, "sent_last_hour"));
}

static void
relay_cli_print_peers(JsonNode *data)
{
	JsonArray *peers = json_object_get_array_member(json_node_get_object(data), "peers");
	g_autoptr(RelayCliTable) table = relay_cli_table_new(
		"NETWORK", "PEER", "STATE", "LAST HOUR", "LAST SEEN", "SINCE", NULL);

	if (peers == NULL || json_array_get_length(peers) == 0) {
		g_print("no peers\n");
		return;
	}
	for (guint i = 0; i < json_array_get_length(peers); i++) {
		JsonObject *peer = json_array_get_object_element(peers, i);
		relay_cli_table_add(table,
				    g_strdup(relay_cli_string(peer, "network")),
				    g_strdup(relay_cli_string(peer, "actor")),
				    g_strdup(relay_cli_string(peer, "state")),
				    relay_cli_peer_traffic(peer),
				    relay_cli_relative(relay_cli_string(peer, "last_seen_at")),
				    relay_cli_day(relay_cli_string(peer, "created_at")));
	}
	relay_cli_table_print(table);
}

static void
relay_cli_print_queue(JsonNode *data)
{
	JsonObject *queue = json_node_get_object(data);
	JsonArray *hosts = json_object_get_array_member(queue, "hosts");
	g_autofree gchar *oldest = relay_cli_duration(relay_cli_int(queue, "oldest_age_s"));
	g_autoptr(RelayCliTable) table = relay_cli_table_new("HOST",
							     "PENDING",
							     "IN FLIGHT",
							     "OLDEST",
							     "NEXT ATTEMPT",
							     "FAILURES",
							     "PAUSED",
							     NULL);

	g_autofree gchar *pending =
		relay_cli_count(relay_cli_int(queue, "pending"), "delivery", "deliveries");
	g_autofree gchar *hosts_paused =
		relay_cli_count(relay_cli_int(queue, "hosts_paused"), "host", "hosts");

	if (relay_cli_int(queue, "pending") == 0)
		g_print("the queue is empty");
	else
		g_print("%s pending (%" G_GINT64_FORMAT " in flight), the oldest %s old",
			pending,
			relay_cli_int(queue, "in_flight"),
			oldest);
	g_print("; %s paused by the breaker\n", hosts_paused);
	if (hosts == NULL || json_array_get_length(hosts) == 0)
		return;
	for (guint i = 0; i < json_array_get_length(hosts); i++) {
		JsonObject *host = json_array_get_object_element(hosts, i);
		const gchar *paused = relay_cli_string(host, "paused_until");
		gint64 in = 0;
		relay_cli_table_add(
			table,
			g_strdup(relay_cli_string(host, "host")),
			relay_cli_int_string(host, "pending"),
			relay_cli_int_string(host, "in_flight"),
			relay_cli_duration(relay_cli_int(host, "oldest_age_s")),
			relay_cli_seconds_until(relay_cli_string(host, "next_attempt_at"), &in) &&
					in > 0
				? relay_cli_relative(relay_cli_string(host, "next_attempt_at"))
				: g_strdup(relay_cli_int(host, "pending") >
							   relay_cli_int(host, "in_flight")
						   ? "now"
						   : "-"),
			relay_cli_int_string(host, "failures"),
			paused != NULL ? g_strdup_printf("until %s", paused) : g_strdup("no"));
	}
	g_print("\n");
	relay_cli_table_print(table);
}

/* blocks import FILE: the file's text goes in the request, read here ('-' is stdin) */
static gboolean
relay_cli_read_file(JsonObject *args, GError **error)
{
	const gchar *file = json_object_get_string_member_with_default(args, "file", NULL);
	g_autofree gchar *contents = NULL;
	gsize length = 0;

	if (g_strcmp0(file, "-") == 0) {
		g_autoptr(GInputStream) input = g_unix_input_stream_new(0, FALSE);
		g_autoptr(GOutputStream) output = g_memory_output_stream_new_resizable();
		if (g_output_stream_splice(
			    output, input, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, error) < 0)
			return FALSE;
		length = g_memory_output_stream_get_data_size(G_MEMORY_OUTPUT_STREAM(output));
		contents = g_memory_output_stream_steal_data(G_MEMORY_OUTPUT_STREAM(output));
		contents = g_realloc(contents, length + 1);
		contents[length] = '\0';
		json_object_set_string_member(args, "file", "(stdin)");
	} else if (!g_file_get_contents(file, &contents, &length, error)) {
		return FALSE;
	}
	if (strlen(contents) != length || !g_utf8_validate(contents, -1, NULL)) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_INVALID_DATA,
			    "%s: not a text file (UTF-8)",
			    file);
		return FALSE;
	}
	json_object_set_string_member(args, "csv", contents);
	return TRUE;
}

/* blocks subscribe: a list is subscribed to by one network */
static gboolean
relay_cli_require_network(JsonObject *args, GError **error)
{
	if (json_object_has_member(args, "network"))
		return TRUE;
	g_set_error_literal(error,
			    G_OPTION_ERROR,
			    G_OPTION_ERROR_FAILED,
			    "which network subscribes? give --network NAME");
	return FALSE;
}

#define NETWORK_DEFAULT_NOTE                                                                       \
	" Without --network it acts in every network where the domain is a member."

static const RelayCliCommand cli_commands[] = {
	{"status",
	 "status",
	 "",
	 {NULL},
	 0,
	 "Show how the node is doing",
	 "Networks and their members by state, the delivery queue (pending, oldest, hosts paused "
	 "by the breaker), deliveries in the last hour by outcome (counted since the node "
	 "started, at most an hour back), uptime and version.",
	 NULL,
	 relay_cli_print_status},
	{"members list",
	 "members-list",
	 "",
	 {NULL},
	 RELAY_CLI_OPTION_NETWORK | RELAY_CLI_OPTION_STATE,
	 "List the members",
	 "Every membership, or those of one network (--network) or in one state (--state "
	 "pending, accepted or rejected). A pending member waits for an admin's approval, or (a "
	 "LitePub member) for its own Accept of the relay's follow-back.",
	 NULL,
	 relay_cli_print_members},
	{"members show",
	 "members-show",
	 "DOMAIN",
	 {"domain"},
	 0,
	 "Show the memberships of a domain",
	 "DOMAIN is an instance's domain (with :PORT when it has one, or without to match any "
	 "port) or its actor's URL.",
	 NULL,
	 relay_cli_print_member_details},
	{"members approve",
	 "members-approve",
	 "DOMAIN",
	 {"domain"},
	 RELAY_CLI_OPTION_NETWORK,
	 "Accept a member waiting for approval",
	 "Sends the Accept of its Follow (and for Pleroma, Akkoma, GoToSocial and Friendica the "
	 "relay's follow-back: they become members once they accept it), as an open network "
	 "would have." NETWORK_DEFAULT_NOTE,
	 NULL,
	 relay_cli_print_message},
	{"members reject",
	 "members-reject",
	 "DOMAIN",
	 {"domain"},
	 RELAY_CLI_OPTION_NETWORK,
	 "Reject a member",
	 "Sends a Reject of its Follow (and an Undo of the relay's follow-back) and keeps it "
	 "marked rejected; it may ask again with a new Follow." NETWORK_DEFAULT_NOTE,
	 NULL,
	 relay_cli_print_message},
	{"members remove",
	 "members-remove",
	 "DOMAIN",
	 {"domain"},
	 RELAY_CLI_OPTION_NETWORK,
	 "Remove a member",
	 "Sends a Reject of its Follow (and an Undo of the relay's follow-back) and forgets the "
	 "membership: nothing more is relayed to it or from it." NETWORK_DEFAULT_NOTE,
	 NULL,
	 relay_cli_print_message},
	{"members direction",
	 "members-direction",
	 "DOMAIN DIRECTION",
	 {"domain", "direction"},
	 RELAY_CLI_OPTION_NETWORK,
	 "Set what a member sends and receives: both, receive-only, publish-only",
	 "DIRECTION is both (it publishes and receives), receive-only (its posts are refused) or "
	 "publish-only (nothing is relayed to it)." NETWORK_DEFAULT_NOTE,
	 NULL,
	 relay_cli_print_message},
	{"block",
	 "block",
	 "DOMAIN",
	 {"domain"},
	 RELAY_CLI_OPTION_REASON,
	 "Block a domain on the whole node",
	 "The domain and its subdomains may not subscribe or publish. Their memberships end with "
	 "a Reject, and the deliveries queued for them are dropped. Blocking again updates the "
	 "reason.",
	 NULL,
	 relay_cli_print_message},
	{"unblock",
	 "unblock",
	 "DOMAIN",
	 {"domain"},
	 0,
	 "Lift a block",
	 "Its instances may subscribe again; the memberships the block ended are not restored.",
	 NULL,
	 relay_cli_print_message},
	{"blocks list",
	 "blocks-list",
	 "",
	 {NULL},
	 RELAY_CLI_OPTION_ADVICE,
	 "List the blocked domains",
	 "SOURCE is admin, 'import FILE', or 'subscription URL' for a block a subscribed list "
	 "keeps (lifted when the list drops the domain). With --advice: the domains of the lists "
	 "subscribed to in mode advise, and whether the network already blocks them.",
	 NULL,
	 relay_cli_print_blocks},
	{"blocks import",
	 "blocks-import",
	 "FILE",
	 {"file"},
	 0,
	 "Block the domains of a Mastodon domain block list (CSV)",
	 "FILE ('-' for standard input) is in Mastodon's format: #domain,#severity,"
	 "#reject_media,#reject_reports,#public_comment,#obfuscate (the header is optional). "
	 "suspend and silence block, noop and obfuscated domains are skipped, public_comment "
	 "becomes the reason. The whole file is checked first: any bad line (reported as "
	 "FILE:LINE) and nothing is blocked. Domains already blocked keep their reason; members "
	 "on new ones are removed as by 'relay block'.",
	 relay_cli_read_file,
	 relay_cli_print_import},
	{"blocks export",
	 "blocks-export",
	 "",
	 {NULL},
	 0,
	 "Print the node's blocks as a Mastodon domain block list (CSV)",
	 "Severity suspend, media and reports rejected, the reason as public_comment, not "
	 "obfuscated: Mastodon (Administration → Federation → Import) and 'relay blocks import' "
	 "read it.",
	 NULL,
	 relay_cli_print_export},
	{"blocks subscribe",
	 "blocks-subscribe",
	 "URL --network NAME",
	 {"url"},
	 RELAY_CLI_OPTION_NETWORK | RELAY_CLI_OPTION_MODE,
	 "Subscribe a network to another operator's domain block list",
	 "URL serves a block list: another relay's /networks/NAME/blocks (JSON), a Mastodon "
	 "domain block CSV, or a JSON array of domains. The node fetches it now, then every "
	 "[federation] blocklist-refresh seconds (signed, with If-None-Match). --network NAME "
	 "is required. --mode advise (the default, the safe one) blocks nothing: 'relay blocks "
	 "list --advice' shows the domains. --mode enforce blocks each listed domain in the "
	 "network, removing its members there as 'relay block' does, and unblocks a domain the "
	 "list drops; blocks of your own are never touched. A failed fetch keeps the last good "
	 "list. Subscribing again changes the mode.",
	 relay_cli_require_network,
	 relay_cli_print_message},
	{"blocks unsubscribe",
	 "blocks-unsubscribe",
	 "URL",
	 {"url"},
	 RELAY_CLI_OPTION_NETWORK,
	 "Stop reading a block list",
	 "Lifts the blocks the list made (unless another enforced list names the domain). "
	 "Without --network, in every network that subscribes to it.",
	 NULL,
	 relay_cli_print_message},
	{"blocks subscriptions",
	 "blocks-subscriptions",
	 "",
	 {NULL},
	 0,
	 "List the block lists the networks subscribe to",
	 "Each with its mode, how many domains its last good list has, how many blocks it keeps, "
	 "when it was last fetched and the error of the last fetch, if it failed.",
	 NULL,
	 relay_cli_print_subscriptions},
	{"software block",
	 "software-block",
	 "NAME",
	 {"name"},
	 RELAY_CLI_OPTION_REASON,
	 "Refuse the servers of a software",
	 "NAME is the software as NodeInfo names it (mastodon, misskey, pleroma...). Members "
	 "whose NodeInfo names it end with a Reject now; a server that joins later is removed "
	 "the same way once its NodeInfo is read, which the node does as it accepts it and "
	 "daily.",
	 NULL,
	 relay_cli_print_message},
	{"software unblock",
	 "software-unblock",
	 "NAME",
	 {"name"},
	 0,
	 "Lift a block on a software",
	 "Its servers may subscribe again; the memberships the block ended are not restored.",
	 NULL,
	 relay_cli_print_message},
	{"software list",
	 "software-list",
	 "",
	 {NULL},
	 0,
	 "List the blocked software",
	 NULL,
	 NULL,
	 relay_cli_print_software},
	{"allow",
	 "allow",
	 "DOMAIN",
	 {"domain"},
	 RELAY_CLI_OPTION_NETWORK,
	 "Let a domain join closed networks",
	 "Networks with join = closed accept Follows only from domains on their allow list. "
	 "Without --network the domain may join every network.",
	 NULL,
	 relay_cli_print_message},
	{"disallow",
	 "disallow",
	 "DOMAIN",
	 {"domain"},
	 RELAY_CLI_OPTION_NETWORK,
	 "Take a domain off the allow list",
	 "Without --network, the node-wide entry. Members stay (relay members remove ends "
	 "them).",
	 NULL,
	 relay_cli_print_message},
	{"networks list",
	 "networks-list",
	 "",
	 {NULL},
	 0,
	 "List the networks",
	 NULL,
	 NULL,
	 relay_cli_print_networks},
	{"networks show",
	 "networks-show",
	 "NAME",
	 {"name"},
	 0,
	 "Show a network",
	 "Its join policy, URLs (the inbox is what instance admins paste), members by state, "
	 "filters and allow list.",
	 NULL,
	 relay_cli_print_network},
	{"queue",
	 "queue",
	 "",
	 {NULL},
	 0,
	 "Show the delivery queue by host",
	 "Pending deliveries per host, the oldest, when each host is tried next, and the hosts "
	 "the breaker paused after failures in a row.",
	 NULL,
	 relay_cli_print_queue},
	{"queue retry",
	 "queue-retry",
	 "HOST",
	 {"host"},
	 0,
	 "Deliver to a host now",
	 "Makes the host's queued deliveries due now and closes its breaker, e.g. once it is "
	 "back up. HOST is named as in 'relay queue' (with :PORT when its inboxes name one).",
	 NULL,
	 relay_cli_print_message},
	{"peers add",
	 "peers-add",
	 "NETWORK URL",
	 {"network", "url"},
	 0,
	 "Link one of our networks with a network of another node",
	 "NETWORK is ours (relay for the default one); URL is the remote network's actor or "
	 "inbox. Our network follows it (a Follow of Public, signed by our network's key) and "
	 "trusts it to relay the posts of others into ours. Its operator does the same the other "
	 "way: until then our posts do not go to it, and 'relay peers list' says one-way.",
	 NULL,
	 relay_cli_print_message},
	{"peers list",
	 "peers-list",
	 "",
	 {NULL},
	 RELAY_CLI_OPTION_NETWORK,
	 "List the peers of our networks",
	 "Each peer's state (pending: our Follow is not answered; one-way: it accepted our "
	 "Follow, its posts come to us, but it does not follow us; mutual: both; rejected: it "
	 "refused our Follow), what went each way in the last hour (activities it relayed to us, "
	 "deliveries done to it; counted since the node started), and when it last relayed "
	 "something.",
	 NULL,
	 relay_cli_print_peers},
	{"peers remove",
	 "peers-remove",
	 "NETWORK URL",
	 {"network", "url"},
	 0,
	 "Cut the link with a peer",
	 "Sends an Undo of our Follow and a Reject of its Follow of us, drops what is queued for "
	 "it, and forgets it: from now on nothing is relayed to it, and what it relays is "
	 "refused.",
	 NULL,
	 relay_cli_print_message},
};

static guint
relay_cli_word_count(const gchar *words)
{
	guint count = 1;
	for (const gchar *p = words; *p != '\0'; p++) {
		if (*p == ' ')
			count++;
	}
	return count;
}

/* whether argv starts with the command's words */
static gboolean
relay_cli_matches(const RelayCliCommand *command, gint argc, gchar **argv)
{
	g_auto(GStrv) words = g_strsplit(command->words, " ", -1);
	guint n = g_strv_length(words);

	if ((guint)argc < n)
		return FALSE;
	for (guint i = 0; i < n; i++) {
		if (g_strcmp0(words[i], argv[i]) != 0)
			return FALSE;
	}
	return TRUE;
}

/* the command argv names, the one with the most words */
static const RelayCliCommand *
relay_cli_lookup(gint argc, gchar **argv)
{
	const RelayCliCommand *best = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(cli_commands); i++) {
		if (!relay_cli_matches(&cli_commands[i], argc, argv))
			continue;
		if (best == NULL ||
		    relay_cli_word_count(cli_commands[i].words) > relay_cli_word_count(best->words))
			best = &cli_commands[i];
	}
	return best;
}

/* "list, show, approve": the commands that start with @group */
static gchar *
relay_cli_group_words(const gchar *group)
{
	g_autoptr(GString) words = g_string_new(NULL);
	gsize length = strlen(group);

	for (guint i = 0; i < G_N_ELEMENTS(cli_commands); i++) {
		const gchar *command = cli_commands[i].words;
		if (strncmp(command, group, length) != 0 || command[length] != ' ')
			continue;
		g_string_append_printf(
			words, "%s%s", words->len > 0 ? ", " : "", command + length + 1);
	}
	return words->len > 0 ? g_string_free(g_steal_pointer(&words), FALSE) : NULL;
}

static GOptionContext *
relay_cli_context(const RelayCliCommand *command)
{
	const GOptionEntry common[] = {
		{"config",
		 'c',
		 0,
		 G_OPTION_ARG_FILENAME,
		 &cli_config_path,
		 "Configuration file, to find the node's admin socket "
		 "(default " RELAY_DEFAULT_CONFIG_PATH ")",
		 "FILE"},
		{"json",
		 0,
		 0,
		 G_OPTION_ARG_NONE,
		 &cli_json,
		 "Print the node's answer as JSON",
		 NULL},
		{NULL},
	};
	const GOptionEntry network[] = {
		{"network",
		 'n',
		 0,
		 G_OPTION_ARG_STRING,
		 &cli_network,
		 "Only in network NAME",
		 "NAME"},
		{NULL},
	};
	const GOptionEntry state[] = {
		{"state",
		 's',
		 0,
		 G_OPTION_ARG_STRING,
		 &cli_state,
		 "Only members in STATE: pending, accepted or rejected",
		 "STATE"},
		{NULL},
	};
	const GOptionEntry mode[] = {
		{"mode",
		 'm',
		 0,
		 G_OPTION_ARG_STRING,
		 &cli_mode,
		 "advise (the default: list the domains, block nothing) or enforce (block them)",
		 "MODE"},
		{NULL},
	};
	const GOptionEntry advice[] = {
		{"advice",
		 0,
		 0,
		 G_OPTION_ARG_NONE,
		 &cli_advice,
		 "The domains of the lists subscribed to in mode advise",
		 NULL},
		{NULL},
	};
	const GOptionEntry reason[] = {
		{"reason",
		 'r',
		 0,
		 G_OPTION_ARG_STRING,
		 &cli_reason,
		 "Why (kept with the block, exported as its public comment)",
		 "TEXT"},
		{NULL},
	};
	g_autofree gchar *parameter = g_strdup_printf("%s%s%s",
						      command->words,
						      command->parameters[0] != '\0' ? " " : "",
						      command->parameters);
	GOptionContext *context = g_option_context_new(parameter);
	g_autofree gchar *description = g_strdup_printf(
		"%s%sExit status: 0 done, 1 the node refused (the message says why), "
		"2 bad usage, 3 the node is not running.",
		command->description != NULL ? command->description : "",
		command->description != NULL ? "\n\n" : "");

	g_option_context_set_summary(context, command->summary);
	g_option_context_set_description(context, description);
	g_option_context_add_main_entries(context, common, NULL);
	if (command->options & RELAY_CLI_OPTION_NETWORK)
		g_option_context_add_main_entries(context, network, NULL);
	if (command->options & RELAY_CLI_OPTION_STATE)
		g_option_context_add_main_entries(context, state, NULL);
	if (command->options & RELAY_CLI_OPTION_REASON)
		g_option_context_add_main_entries(context, reason, NULL);
	if (command->options & RELAY_CLI_OPTION_MODE)
		g_option_context_add_main_entries(context, mode, NULL);
	if (command->options & RELAY_CLI_OPTION_ADVICE)
		g_option_context_add_main_entries(context, advice, NULL);
	return context;
}

/* the socket */

/* connects to the node's admin socket; prints why not and sets @out_status when it cannot */
static GSocketConnection *
relay_cli_connect(const gchar *config_path, gint *out_status)
{
	g_autoptr(RelayConfig) config = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocketClient) client = NULL;
	g_autoptr(GSocketAddress) address = NULL;
	GSocketConnection *connection;
	const gchar *path;

	/* warnings about the file are check-config's business */
	config = relay_config_new_from_file(config_path, NULL, &error);
	if (config == NULL) {
		g_printerr("relay: %s\n", error->message);
		*out_status = RELAY_CLI_EXIT_USAGE;
		return NULL;
	}
	path = relay_config_get_admin_socket(config);
	if (path[0] == '\0') {
		g_printerr("relay: the admin commands are off: %s sets [admin] socket empty\n",
			   config_path);
		*out_status = RELAY_CLI_EXIT_NOT_RUNNING;
		return NULL;
	}
	client = g_socket_client_new();
	g_socket_client_set_timeout(client, RELAY_CLI_TIMEOUT_S);
	address = g_unix_socket_address_new(path);
	connection = g_socket_client_connect(client, G_SOCKET_CONNECTABLE(address), NULL, &error);
	if (connection != NULL)
		return connection;
	*out_status = RELAY_CLI_EXIT_NOT_RUNNING;
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
	    g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
		g_printerr("relay: the node is not running: nothing listens on %s (from %s "
			   "[admin] socket)\n",
			   path,
			   config_path);
	else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
		g_printerr("relay: cannot connect to %s (from %s [admin] socket): permission "
			   "denied; run admin commands as the node's user or root\n",
			   path,
			   config_path);
	else
		g_printerr("relay: cannot connect to %s (from %s [admin] socket): %s\n",
			   path,
			   config_path,
			   error->message);
	return NULL;
}

/* sends one request line, reads the whole answer */
static gchar *
relay_cli_exchange(GSocketConnection *connection, const gchar *request, GError **error)
{
	GOutputStream *output = g_io_stream_get_output_stream(G_IO_STREAM(connection));
	GInputStream *input = g_io_stream_get_input_stream(G_IO_STREAM(connection));
	g_autoptr(GByteArray) answer = g_byte_array_new();
	g_autoptr(GError) error_write = NULL;

	/* a node that refuses at once (another user) answers before reading: read it anyway */
	if (!g_output_stream_write_all(
		    output, request, strlen(request), NULL, NULL, &error_write) ||
	    !g_output_stream_write_all(output, "\n", 1, NULL, NULL, &error_write))
		g_debug("sending the request: %s", error_write->message);
	for (;;) {
		g_autoptr(GBytes) bytes = g_input_stream_read_bytes(input, 65536, NULL, error);
		gsize size = 0;
		const guint8 *data;

		if (bytes == NULL)
			return NULL;
		data = g_bytes_get_data(bytes, &size);
		if (size == 0)
			break;
		g_byte_array_append(answer, data, (guint)size);
		if (memchr(data, '\n', size) != NULL)
			break;
		if (answer->len > RELAY_CLI_MAX_ANSWER_BYTES) {
			g_set_error_literal(error,
					    G_IO_ERROR,
					    G_IO_ERROR_MESSAGE_TOO_LARGE,
					    "answer too large");
			return NULL;
		}
	}
	if (answer->len == 0 && error_write != NULL) {
		g_propagate_error(error, g_steal_pointer(&error_write));
		return NULL;
	}
	g_byte_array_append(answer, (const guint8 *)"", 1);
	return (gchar *)g_byte_array_free(g_steal_pointer(&answer), FALSE);
}

static void
relay_cli_print_json(JsonNode *root)
{
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autofree gchar *text = NULL;

	json_generator_set_pretty(generator, TRUE);
	json_generator_set_indent(generator, 2);
	json_generator_set_root(generator, root);
	text = json_generator_to_data(generator, NULL);
	g_print("%s\n", text);
}

static void
relay_cli_reset_options(void)
{
	g_clear_pointer(&cli_config_path, g_free);
	g_clear_pointer(&cli_network, g_free);
	g_clear_pointer(&cli_state, g_free);
	g_clear_pointer(&cli_reason, g_free);
	g_clear_pointer(&cli_mode, g_free);
	cli_json = FALSE;
	cli_advice = FALSE;
}

static gint
relay_cli_run(const RelayCliCommand *command, gint argc, gchar **argv)
{
	g_autoptr(GOptionContext) context = relay_cli_context(command);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonNode) request_root = NULL;
	g_autoptr(JsonObject) args = json_object_new();
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GSocketConnection) connection = NULL;
	g_autofree gchar *request = NULL;
	g_autofree gchar *answer = NULL;
	g_autofree gchar *prgname = g_strdup_printf("relay %s", command->words);
	guint n_words = relay_cli_word_count(command->words);
	guint n_parameters = 0;
	gint status = RELAY_CLI_EXIT_OK;
	gint parse_argc;
	gchar **parse_argv;
	JsonObject *response;

	while (n_parameters < G_N_ELEMENTS(command->arguments) &&
	       command->arguments[n_parameters] != NULL)
		n_parameters++;
	/* the options parser sees "relay WORDS" as the program, then the rest */
	parse_argc = argc - (gint)n_words + 1;
	parse_argv = g_new0(gchar *, parse_argc + 1);
	parse_argv[0] = prgname;
	for (gint i = 1; i < parse_argc; i++)
		parse_argv[i] = argv[n_words - 1 + i];
	if (!g_option_context_parse(context, &parse_argc, &parse_argv, &error)) {
		g_printerr("relay %s: %s\nTry 'relay help %s'.\n",
			   command->words,
			   error->message,
			   command->words);
		g_free(parse_argv);
		return RELAY_CLI_EXIT_USAGE;
	}
	if ((guint)(parse_argc - 1) != n_parameters) {
		if ((guint)(parse_argc - 1) < n_parameters)
			g_printerr("relay %s: expected %s\n", command->words, command->parameters);
		else
			g_printerr("relay %s: unexpected argument '%s'\n",
				   command->words,
				   parse_argv[1 + n_parameters]);
		g_printerr("Try 'relay help %s'.\n", command->words);
		g_free(parse_argv);
		return RELAY_CLI_EXIT_USAGE;
	}
	for (guint i = 0; i < n_parameters; i++)
		json_object_set_string_member(args, command->arguments[i], parse_argv[1 + i]);
	g_free(parse_argv);
	if (cli_network != NULL)
		json_object_set_string_member(args, "network", cli_network);
	if (cli_state != NULL)
		json_object_set_string_member(args, "state", cli_state);
	if (cli_reason != NULL)
		json_object_set_string_member(args, "reason", cli_reason);
	if (cli_mode != NULL)
		json_object_set_string_member(args, "mode", cli_mode);
	if (cli_advice)
		json_object_set_boolean_member(args, "advice", TRUE);
	if (command->prepare != NULL && !command->prepare(args, &error)) {
		g_printerr("relay %s: %s\n", command->words, error->message);
		return RELAY_CLI_EXIT_USAGE;
	}

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "command");
	json_builder_add_string_value(builder, command->request);
	json_builder_set_member_name(builder, "args");
	json_builder_add_value(builder, json_node_init_object(json_node_alloc(), args));
	json_builder_end_object(builder);
	request_root = json_builder_get_root(builder);
	request = json_to_string(request_root, FALSE);

	connection = relay_cli_connect(
		cli_config_path != NULL ? cli_config_path : RELAY_DEFAULT_CONFIG_PATH, &status);
	if (connection == NULL)
		return status;
	answer = relay_cli_exchange(connection, request, &error);
	if (answer == NULL || !json_parser_load_from_data(parser, answer, -1, NULL) ||
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
		g_printerr("relay: the node did not answer: %s\n",
			   error != NULL ? error->message : "not an admin API answer");
		return RELAY_CLI_EXIT_NOT_RUNNING;
	}
	response = json_node_get_object(json_parser_get_root(parser));
	if (!json_object_get_boolean_member_with_default(response, "ok", FALSE)) {
		const gchar *message = relay_cli_string(response, "error");
		if (cli_json)
			relay_cli_print_json(json_parser_get_root(parser));
		g_printerr("relay %s: %s\n", command->words, message != NULL ? message : "refused");
		return RELAY_CLI_EXIT_REFUSED;
	}
	if (cli_json)
		relay_cli_print_json(json_parser_get_root(parser));
	else
		command->print(json_object_get_member(response, "data"));
	return RELAY_CLI_EXIT_OK;
}

/**
 * relay_cli_main:
 * @argc: the arguments after "relay"
 * @argv: (array length=argc): the command's words first
 *
 * Runs an admin command.
 *
 * Returns: its exit status, or -1 when @argv names no admin command
 */
gint
relay_cli_main(gint argc, gchar **argv)
{
	const RelayCliCommand *command = relay_cli_lookup(argc, argv);
	gint status;

	if (command == NULL) {
		g_autofree gchar *group = argc > 0 ? relay_cli_group_words(argv[0]) : NULL;
		if (group == NULL)
			return -1;
		if (argc > 1 && argv[1][0] != '-')
			g_printerr("relay: unknown command '%s %s'\n", argv[0], argv[1]);
		else
			g_printerr("relay %s: which one? %s\n", argv[0], group);
		g_printerr("Try 'relay help'.\n");
		return RELAY_CLI_EXIT_USAGE;
	}
	status = relay_cli_run(command, argc, argv);
	relay_cli_reset_options();
	return status;
}

/**
 * relay_cli_help:
 * @argc: the arguments after "help"
 * @argv: (array length=argc): the command's words
 *
 * Returns: 0 after printing the command's help, -1 when @argv names no admin command
 */
gint
relay_cli_help(gint argc, gchar **argv)
{
	const RelayCliCommand *command = relay_cli_lookup(argc, argv);
	g_autoptr(GOptionContext) context = NULL;
	g_autofree gchar *help = NULL;
	g_autofree gchar *group = NULL;

	if (command == NULL || (guint)argc != relay_cli_word_count(command->words)) {
		group = argc > 0 ? relay_cli_group_words(argv[0]) : NULL;
		if (group == NULL || argc != 1)
			return -1;
		g_print("relay %s: one of %s\nRun 'relay help %s COMMAND'.\n",
			argv[0],
			group,
			argv[0]);
		return RELAY_CLI_EXIT_OK;
	}
	context = relay_cli_context(command);
	help = g_option_context_get_help(context, FALSE, NULL);
	g_print("%s", help);
	return RELAY_CLI_EXIT_OK;
}

/**
 * relay_cli_print_commands:
 *
 * Lists the admin commands, for `relay help`.
 */
void
relay_cli_print_commands(void)
{
	g_print("\nAdmin commands (they talk to the running node through its [admin] socket, "
		"found with -c FILE; --json for scripts):\n");
	for (guint i = 0; i < G_N_ELEMENTS(cli_commands); i++) {
		g_autofree gchar *usage =
			g_strdup_printf("%s%s%s",
					cli_commands[i].words,
					cli_commands[i].parameters[0] != '\0' ? " " : "",
					cli_commands[i].parameters);
		g_print("  %-35s %s\n", usage, cli_commands[i].summary);
	}
}
