/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * relay.conf: a GKeyFile read through one table of keys, like redis's standardConfig. Each row
 * gives the group, key, type, default (NULL when the key is required), bounds, allowed words and
 * a one-line meaning; relay.conf.sample lists every row and config-test checks that it does.
 *
 * Loading runs in three passes: every group and key of the file is checked against the table
 * (unknown ones only warn, bad network names fail), then every row of the fixed groups is parsed
 * from the file or from its default, then every network. Every message has the shape
 * "FILE: [GROUP] KEY: PROBLEM" so an operator can go straight to the line.
 *
 * A RelayConfig never changes once loaded, so any thread may read it; SIGHUP builds a new one.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "relay-config.h"
#include "relay-error.h"
#include "relay-store.h"

/* a configuration file is a few kilobytes; this only stops us reading a device by mistake */
#define RELAY_CONFIG_MAX_FILE_BYTES   (1024 * 1024)
#define RELAY_CONFIG_NETWORK_PREFIX   RELAY_CONFIG_NETWORK_GROUP " "
#define RELAY_CONFIG_NETWORK_NAME_MAX 64

static const gchar *const relay_config_log_level_words[] = {
	"debug", "info", "message", "warning", NULL};
static const GLogLevelFlags relay_config_log_level_flags[] = {
	G_LOG_LEVEL_DEBUG, G_LOG_LEVEL_INFO, G_LOG_LEVEL_MESSAGE, G_LOG_LEVEL_WARNING};
G_STATIC_ASSERT(G_N_ELEMENTS(relay_config_log_level_words) ==
		G_N_ELEMENTS(relay_config_log_level_flags) + 1);

static const gchar *const relay_join_policy_words[] = {"open", "approval", "closed", NULL};
G_STATIC_ASSERT(G_N_ELEMENTS(relay_join_policy_words) == RELAY_JOIN_POLICY_LAST + 1);

static const gchar *const *
relay_config_log_levels(void)
{
	return relay_config_log_level_words;
}

static const gchar *const *
relay_config_join_policies(void)
{
	return relay_join_policy_words;
}

/* the one table of keys; the defaults live here and nowhere else */
static const RelayConfigKey relay_config_keys[] = {
	{"relay",
	 "public-url",
	 RELAY_CONFIG_TYPE_STRING,
	 NULL,
	 0,
	 0,
	 NULL,
	 "origin used in every actor id: http or https, a host, an optional port, no path",
	 RELAY_CONFIG_CHECK_URL},
	{"relay",
	 "listen",
	 RELAY_CONFIG_TYPE_STRING_LIST,
	 "127.0.0.1:8080",
	 0,
	 0,
	 NULL,
	 "where to accept HTTP, comma-separated ADDRESS:PORT; ADDRESS is IPv4, [IPv6] or * for all",
	 RELAY_CONFIG_CHECK_LISTEN},
	{"relay",
	 "trusted-proxies",
	 RELAY_CONFIG_TYPE_STRING_LIST,
	 "127.0.0.1, ::1",
	 0,
	 0,
	 NULL,
	 "addresses of reverse proxies whose X-Forwarded-For names the real client (rate limits)",
	 RELAY_CONFIG_CHECK_ADDRESSES},
	{"storage",
	 "backend",
	 RELAY_CONFIG_TYPE_ENUM,
	 "sqlite",
	 0,
	 0,
	 relay_store_backend_names,
	 "where members, queues and keys are kept: sqlite (a file) or memory (lost on exit)",
	 RELAY_CONFIG_CHECK_NONE},
	{"storage",
	 "path",
	 RELAY_CONFIG_TYPE_STRING,
	 "/var/lib/relay/relay.db",
	 0,
	 0,
	 NULL,
	 "database file of the sqlite backend; relative to the directory of this file",
	 RELAY_CONFIG_CHECK_PATH},
	{"federation",
	 "allow-private-addresses",
	 RELAY_CONFIG_TYPE_BOOLEAN,
	 "false",
	 0,
	 0,
	 NULL,
	 "let fetches and deliveries reach loopback and private addresses; for tests only",
	 RELAY_CONFIG_CHECK_NONE},
	{"federation",
	 "max-body-bytes",
	 RELAY_CONFIG_TYPE_INT,
	 "262144",
	 1024,
	 8388608,
	 NULL,
	 "largest request body accepted, in bytes; larger ones are answered 413",
	 RELAY_CONFIG_CHECK_NONE},
	{"federation",
	 "inbox-rate",
	 RELAY_CONFIG_TYPE_INT,
	 "50",
	 0,
	 1000000,
	 NULL,
	 "inbox POSTs a second allowed from one remote address (token bucket); more get 429; "
	 "0: no limit",
	 RELAY_CONFIG_CHECK_NONE},
	{"federation",
	 "inbox-burst",
	 RELAY_CONFIG_TYPE_INT,
	 "500",
	 1,
	 10000000,
	 NULL,
	 "inbox POSTs one remote address may send at once above inbox-rate",
	 RELAY_CONFIG_CHECK_NONE},
	{"federation",
	 "signature-window",
	 RELAY_CONFIG_TYPE_INT,
	 "3600",
	 60,
	 86400,
	 NULL,
	 "how far a signed request's Date or created may be from now, in seconds",
	 RELAY_CONFIG_CHECK_NONE},
	{"federation",
	 "fetch-timeout",
	 RELAY_CONFIG_TYPE_INT,
	 "10",
	 1,
	 120,
	 NULL,
	 "total time allowed to fetch a remote actor or key, in seconds",
	 RELAY_CONFIG_CHECK_NONE},
	{"federation",
	 "fetch-max-bytes",
	 RELAY_CONFIG_TYPE_INT,
	 "1048576",
	 16384,
	 16777216,
	 NULL,
	 "largest remote document fetched, in bytes",
	 RELAY_CONFIG_CHECK_NONE},
	{"federation",
	 "fetch-max-redirects",
	 RELAY_CONFIG_TYPE_INT,
	 "3",
	 0,
	 10,
	 NULL,
	 "how many redirects a fetch follows",
	 RELAY_CONFIG_CHECK_NONE},
	{"federation",
	 "key-cache-ttl",
	 RELAY_CONFIG_TYPE_INT,
	 "86400",
	 60,
	 2592000,
	 NULL,
	 "how long fetched actors and keys are used before being fetched again, in seconds",
	 RELAY_CONFIG_CHECK_NONE},
	{"federation",
	 "tls-ca-file",
	 RELAY_CONFIG_TYPE_STRING,
	 "",
	 0,
	 0,
	 NULL,
	 "CA bundle (PEM) trusted instead of the system CAs for outgoing HTTPS when set; for tests",
	 RELAY_CONFIG_CHECK_PATH},
	{"federation",
	 "nodeinfo-refresh",
	 RELAY_CONFIG_TYPE_INT,
	 "86400",
	 1,
	 2592000,
	 NULL,
	 "how often each member's NodeInfo (its software and version) is read again, in seconds",
	 RELAY_CONFIG_CHECK_NONE},
	{"federation",
	 "blocklist-refresh",
	 RELAY_CONFIG_TYPE_INT,
	 "3600",
	 1,
	 604800,
	 NULL,
	 "how often each subscribed block list (relay blocks subscribe) is fetched again, in "
	 "seconds",
	 RELAY_CONFIG_CHECK_NONE},
	{"delivery",
	 "workers",
	 RELAY_CONFIG_TYPE_INT,
	 "0",
	 0,
	 64,
	 NULL,
	 "threads that sign deliveries; 0 means one per CPU core",
	 RELAY_CONFIG_CHECK_NONE},
	{"delivery",
	 "max-connections-per-host",
	 RELAY_CONFIG_TYPE_INT,
	 "4",
	 1,
	 64,
	 NULL,
	 "deliveries in flight to one host at once, each on a reused keep-alive connection",
	 RELAY_CONFIG_CHECK_NONE},
	{"delivery",
	 "max-in-flight",
	 RELAY_CONFIG_TYPE_INT,
	 "256",
	 1,
	 10000,
	 NULL,
	 "deliveries being signed, sent or waiting for their host at once, all hosts together",
	 RELAY_CONFIG_CHECK_NONE},
	{"delivery",
	 "timeout",
	 RELAY_CONFIG_TYPE_INT,
	 "10",
	 1,
	 300,
	 NULL,
	 "time allowed for one delivery: connecting, sending and receiving the answer, in seconds",
	 RELAY_CONFIG_CHECK_NONE},
	{"delivery",
	 "retry-base",
	 RELAY_CONFIG_TYPE_INT,
	 "30",
	 1,
	 3600,
	 NULL,
	 "delay before the first retry, doubled after each failure, less a random quarter, in "
	 "seconds",
	 RELAY_CONFIG_CHECK_NONE},
	{"delivery",
	 "retry-cap",
	 RELAY_CONFIG_TYPE_INT,
	 "21600",
	 60,
	 604800,
	 NULL,
	 "longest delay between two retries, and the longest Retry-After honoured, in seconds",
	 RELAY_CONFIG_CHECK_NONE},
	{"delivery",
	 "max-age",
	 RELAY_CONFIG_TYPE_INT,
	 "172800",
	 60,
	 2592000,
	 NULL,
	 "a delivery that fails when its activity is older than this is given up, in seconds",
	 RELAY_CONFIG_CHECK_NONE},
	{"delivery",
	 "breaker-failures",
	 RELAY_CONFIG_TYPE_INT,
	 "10",
	 1,
	 1000,
	 NULL,
	 "failures in a row after which deliveries to a host pause (they stay queued)",
	 RELAY_CONFIG_CHECK_NONE},
	{"delivery",
	 "breaker-pause",
	 RELAY_CONFIG_TYPE_INT,
	 "300",
	 1,
	 86400,
	 NULL,
	 "how long deliveries to a paused host wait before it is tried again, in seconds",
	 RELAY_CONFIG_CHECK_NONE},
	{"delivery",
	 "evict-after",
	 RELAY_CONFIG_TYPE_INT,
	 "604800",
	 3600,
	 31536000,
	 NULL,
	 "a host failing without a single success for this long loses its members, in seconds",
	 RELAY_CONFIG_CHECK_NONE},
	{"delivery",
	 "batch",
	 RELAY_CONFIG_TYPE_INT,
	 "256",
	 1,
	 10000,
	 NULL,
	 "deliveries taken from the queue at once",
	 RELAY_CONFIG_CHECK_NONE},
	{"delivery",
	 "lease",
	 RELAY_CONFIG_TYPE_INT,
	 "300",
	 10,
	 86400,
	 NULL,
	 "seconds taken deliveries stay reserved; a crashed node's come back after it; at least "
	 "6 x timeout",
	 RELAY_CONFIG_CHECK_NONE},
	{"admin",
	 "socket",
	 RELAY_CONFIG_TYPE_STRING,
	 "/run/relay/admin.sock",
	 0,
	 0,
	 NULL,
	 "Unix socket of the admin commands (mode 0600); relative to the directory of this file; "
	 "empty turns the admin commands off",
	 RELAY_CONFIG_CHECK_OPTIONAL_PATH},
	{"log",
	 "level",
	 RELAY_CONFIG_TYPE_ENUM,
	 "message",
	 0,
	 0,
	 relay_config_log_levels,
	 "least important messages logged: debug, info (one line per request), message or warning",
	 RELAY_CONFIG_CHECK_NONE},
	{RELAY_CONFIG_NETWORK_GROUP,
	 "title",
	 RELAY_CONFIG_TYPE_STRING,
	 "",
	 0,
	 0,
	 NULL,
	 "display name of the network actor; empty means the network's NAME",
	 RELAY_CONFIG_CHECK_NONE},
	{RELAY_CONFIG_NETWORK_GROUP,
	 "summary",
	 RELAY_CONFIG_TYPE_STRING,
	 "",
	 0,
	 0,
	 NULL,
	 "description shown on the network actor and the status page",
	 RELAY_CONFIG_CHECK_NONE},
	{RELAY_CONFIG_NETWORK_GROUP,
	 "rules",
	 RELAY_CONFIG_TYPE_STRING_LIST,
	 "",
	 0,
	 0,
	 NULL,
	 "the network's rules, shown on the status page, comma-separated; write \\, for a comma",
	 RELAY_CONFIG_CHECK_NONE},
	{RELAY_CONFIG_NETWORK_GROUP,
	 "contact",
	 RELAY_CONFIG_TYPE_STRING,
	 "",
	 0,
	 0,
	 NULL,
	 "how to reach the network's admins (an address, a URL, an account), for the status page",
	 RELAY_CONFIG_CHECK_NONE},
	{RELAY_CONFIG_NETWORK_GROUP,
	 "publish-blocks",
	 RELAY_CONFIG_TYPE_BOOLEAN,
	 "false",
	 0,
	 0,
	 NULL,
	 "publish the domains this network blocks at /networks/NAME/blocks (JSON, or Mastodon's "
	 "CSV), for other operators",
	 RELAY_CONFIG_CHECK_NONE},
	{RELAY_CONFIG_NETWORK_GROUP,
	 "join",
	 RELAY_CONFIG_TYPE_ENUM,
	 "open",
	 0,
	 0,
	 relay_config_join_policies,
	 "how a Follow is answered: open accepts, approval waits for the admin, closed rejects",
	 RELAY_CONFIG_CHECK_NONE},
	{RELAY_CONFIG_NETWORK_GROUP,
	 "hashtags",
	 RELAY_CONFIG_TYPE_STRING_LIST,
	 "",
	 0,
	 0,
	 NULL,
	 "relay only posts carrying one of these hashtags, without #, case-insensitive; empty "
	 "relays all",
	 RELAY_CONFIG_CHECK_NONE},
	{RELAY_CONFIG_NETWORK_GROUP,
	 "languages",
	 RELAY_CONFIG_TYPE_STRING_LIST,
	 "",
	 0,
	 0,
	 NULL,
	 "relay only posts in one of these languages (BCP 47 primary tags like en, fr); empty "
	 "relays all",
	 RELAY_CONFIG_CHECK_NONE},
	{RELAY_CONFIG_NETWORK_GROUP,
	 "deny-keywords",
	 RELAY_CONFIG_TYPE_STRING_LIST,
	 "",
	 0,
	 0,
	 NULL,
	 "drop posts whose text contains one of these words or phrases, case-insensitive",
	 RELAY_CONFIG_CHECK_NONE},
};

/* one parsed value; string holds the text of strings and enums (the canonical word) */
typedef struct {
	const RelayConfigKey *row;
	gchar *string;
	gchar **list;
	gint64 integer;
	gboolean boolean;
} RelayConfigValue;

struct _RelayConfig {
	GObject parent_instance;
	gchar *path;	     /* (nullable): as given, for messages and reloads */
	gchar *display_path; /* the FILE of every message */
	gchar *base_dir;     /* absolute: where relative paths start */
	GHashTable *groups;  /* group name → (row key → RelayConfigValue) */
	GPtrArray *networks; /* (element-type RelayNetworkConfig): default first, then by name */
	GPtrArray *warnings; /* (element-type utf8): collected while loading */
};

G_DEFINE_TYPE(RelayConfig, relay_config, G_TYPE_OBJECT)

static void
relay_config_value_free(RelayConfigValue *value)
{
	g_free(value->string);
	g_strfreev(value->list);
	g_free(value);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayConfigValue, relay_config_value_free)

/**
 * relay_join_policy_to_string:
 * @join: a #RelayJoinPolicy
 *
 * Returns: (transfer none): the word used in relay.conf, e.g. "approval"
 */
const gchar *
relay_join_policy_to_string(RelayJoinPolicy join)
{
	g_return_val_if_fail(join < RELAY_JOIN_POLICY_LAST, NULL);
	return relay_join_policy_words[join];
}

/**
 * relay_join_policy_from_string:
 * @text: a word such as "open"
 * @out_join: (out) (optional): the policy
 *
 * Returns: %TRUE if @text names a policy
 */
gboolean
relay_join_policy_from_string(const gchar *text, RelayJoinPolicy *out_join)
{
	if (text == NULL)
		return FALSE;
	for (guint i = 0; i < RELAY_JOIN_POLICY_LAST; i++) {
		if (g_ascii_strcasecmp(text, relay_join_policy_words[i]) != 0)
			continue;
		if (out_join != NULL)
			*out_join = (RelayJoinPolicy)i;
		return TRUE;
	}
	return FALSE;
}

/**
 * relay_network_config_copy:
 * @self: a #RelayNetworkConfig
 *
 * Returns: (transfer full): a deep copy of @self
 */
RelayNetworkConfig *
relay_network_config_copy(const RelayNetworkConfig *self)
{
	RelayNetworkConfig *copy;

	g_return_val_if_fail(self != NULL, NULL);
	copy = g_new0(RelayNetworkConfig, 1);
	copy->name = g_strdup(self->name);
	copy->title = g_strdup(self->title);
	copy->summary = g_strdup(self->summary);
	copy->rules = g_strdupv(self->rules);
	copy->contact = g_strdup(self->contact);
	copy->publish_blocks = self->publish_blocks;
	copy->join = self->join;
	copy->hashtags = g_strdupv(self->hashtags);
	copy->languages = g_strdupv(self->languages);
	copy->deny_keywords = g_strdupv(self->deny_keywords);
	return copy;
}

/**
 * relay_network_config_free:
 * @self: (nullable) (transfer full): a #RelayNetworkConfig
 */
void
relay_network_config_free(RelayNetworkConfig *self)
{
	if (self == NULL)
		return;
	g_free(self->name);
	g_free(self->title);
	g_free(self->summary);
	g_strfreev(self->rules);
	g_free(self->contact);
	g_strfreev(self->hashtags);
	g_strfreev(self->languages);
	g_strfreev(self->deny_keywords);
	g_free(self);
}

/**
 * relay_config_key_count:
 *
 * Returns: the number of rows in the table of keys
 */
guint
relay_config_key_count(void)
{
	return G_N_ELEMENTS(relay_config_keys);
}

/**
 * relay_config_key_at:
 * @index: a row number below relay_config_key_count()
 *
 * Returns: (transfer none): the row
 */
const RelayConfigKey *
relay_config_key_at(guint index)
{
	g_return_val_if_fail(index < G_N_ELEMENTS(relay_config_keys), NULL);
	return &relay_config_keys[index];
}

/* "network foo" → "network", so the rows of every network group are found */
static const gchar *
relay_config_table_group(const gchar *group)
{
	if (g_str_has_prefix(group, RELAY_CONFIG_NETWORK_PREFIX))
		return RELAY_CONFIG_NETWORK_GROUP;
	return group;
}

/**
 * relay_config_key_lookup:
 * @group: a group such as "storage" or "network foo"
 * @key: a key
 *
 * Returns: (transfer none) (nullable): the row of the table, or %NULL for an unknown key
 */
const RelayConfigKey *
relay_config_key_lookup(const gchar *group, const gchar *key)
{
	const gchar *table_group;

	g_return_val_if_fail(group != NULL, NULL);
	g_return_val_if_fail(key != NULL, NULL);
	table_group = relay_config_table_group(group);
	for (guint i = 0; i < G_N_ELEMENTS(relay_config_keys); i++) {
		const RelayConfigKey *row = &relay_config_keys[i];
		if (g_strcmp0(row->group, table_group) == 0 && g_strcmp0(row->key, key) == 0)
			return row;
	}
	return NULL;
}

static gboolean
relay_config_is_fixed_group(const gchar *group)
{
	if (g_strcmp0(group, RELAY_CONFIG_NETWORK_GROUP) == 0)
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(relay_config_keys); i++) {
		if (g_strcmp0(relay_config_keys[i].group, group) == 0)
			return TRUE;
	}
	return FALSE;
}

/* formats "FILE: [GROUP] KEY: PROBLEM" (or "FILE: [GROUP]: PROBLEM"), valid UTF-8 whatever the
 * file held */
static gchar *
relay_config_format_message(
	RelayConfig *self, const gchar *group, const gchar *key, const gchar *format, va_list args)
	G_GNUC_PRINTF(4, 0);

static gchar *
relay_config_format_message(
	RelayConfig *self, const gchar *group, const gchar *key, const gchar *format, va_list args)
{
	g_autofree gchar *problem = g_strdup_vprintf(format, args);
	g_autofree gchar *message = NULL;

	if (key != NULL)
		message =
			g_strdup_printf("%s: [%s] %s: %s", self->display_path, group, key, problem);
	else
		message = g_strdup_printf("%s: [%s]: %s", self->display_path, group, problem);
	if (!g_utf8_validate(message, -1, NULL))
		return g_utf8_make_valid(message, -1);
	return g_steal_pointer(&message);
}

static void
relay_config_set_error(RelayConfig *self,
		       GError **error,
		       const gchar *group,
		       const gchar *key,
		       const gchar *format,
		       ...) G_GNUC_PRINTF(5, 6);

static void
relay_config_set_error(RelayConfig *self,
		       GError **error,
		       const gchar *group,
		       const gchar *key,
		       const gchar *format,
		       ...)
{
	va_list args;
	g_autofree gchar *message = NULL;

	va_start(args, format);
	message = relay_config_format_message(self, group, key, format, args);
	va_end(args);
	g_set_error_literal(error, RELAY_ERROR, RELAY_ERROR_CONFIG, message);
}

static void
relay_config_add_warning(
	RelayConfig *self, const gchar *group, const gchar *key, const gchar *format, ...)
	G_GNUC_PRINTF(4, 5);

static void
relay_config_add_warning(
	RelayConfig *self, const gchar *group, const gchar *key, const gchar *format, ...)
{
	va_list args;

	va_start(args, format);
	g_ptr_array_add(self->warnings,
			relay_config_format_message(self, group, key, format, args));
	va_end(args);
}

/* for a message: the value as written, never invalid UTF-8 */
static gchar *
relay_config_quote(const gchar *text)
{
	return g_utf8_make_valid(text, -1);
}

static gboolean
relay_config_network_name_is_valid(const gchar *name)
{
	gsize length = strlen(name);

	if (length == 0 || length > RELAY_CONFIG_NETWORK_NAME_MAX)
		return FALSE;
	if (!g_ascii_islower(name[0]) && !g_ascii_isdigit(name[0]))
		return FALSE;
	for (gsize i = 1; i < length; i++) {
		gchar c = name[i];
		if (!g_ascii_islower(c) && !g_ascii_isdigit(c) && c != '_' && c != '-')
			return FALSE;
	}
	return TRUE;
}

/* listen items: ADDRESS:PORT with an IPv4 literal, a bracketed IPv6 literal, or * */
static gboolean
relay_config_parse_port(const gchar *text, guint16 *out_port)
{
	guint64 port = 0;

	if (!g_ascii_string_to_unsigned(text, 10, 1, G_MAXUINT16, &port, NULL))
		return FALSE;
	*out_port = (guint16)port;
	return TRUE;
}

/**
 * relay_config_parse_listen:
 * @item: one item of `[relay] listen`, such as "127.0.0.1:8080", "[::1]:8080" or "*:8080"
 * @out_address: (out) (optional) (transfer full) (nullable): the address to bind, or %NULL for
 *	every address ("*" or "0.0.0.0")
 * @out_port: (out) (optional): the port, 1 to 65535
 * @error: (nullable): a #GError; the message starts with the quoted item
 *
 * Returns: %TRUE if @item is a valid listen address
 */
gboolean
relay_config_parse_listen(const gchar *item,
			  GInetAddress **out_address,
			  guint16 *out_port,
			  GError **error)
{
	g_autofree gchar *quoted = NULL;
	g_autofree gchar *host = NULL;
	g_autoptr(GInetAddress) address = NULL;
	const gchar *port_text;
	guint16 port = 0;

	g_return_val_if_fail(item != NULL, FALSE);
	quoted = relay_config_quote(item);
	if (item[0] == '[') {
		const gchar *end = strchr(item, ']');
		if (end == NULL || end[1] != ':') {
			g_set_error(error,
				    RELAY_ERROR,
				    RELAY_ERROR_CONFIG,
				    "'%s': expected [IPv6]:PORT",
				    quoted);
			return FALSE;
		}
		host = g_strndup(item + 1, end - item - 1);
		port_text = end + 2;
		address = g_inet_address_new_from_string(host);
		if (address == NULL || g_inet_address_get_family(address) != G_SOCKET_FAMILY_IPV6) {
			g_set_error(error,
				    RELAY_ERROR,
				    RELAY_ERROR_CONFIG,
				    "'%s': '%s' is not an IPv6 address",
				    quoted,
				    host);
			return FALSE;
		}
	} else {
		const gchar *colon = strrchr(item, ':');
		if (colon == NULL) {
			g_set_error(error,
				    RELAY_ERROR,
				    RELAY_ERROR_CONFIG,
				    "'%s': expected ADDRESS:PORT",
				    quoted);
			return FALSE;
		}
		host = g_strndup(item, colon - item);
		port_text = colon + 1;
		if (strchr(host, ':') != NULL) {
			g_set_error(error,
				    RELAY_ERROR,
				    RELAY_ERROR_CONFIG,
				    "'%s': an IPv6 address goes in brackets, e.g. [::1]:8080",
				    quoted);
			return FALSE;
		}
		if (g_strcmp0(host, "*") != 0 && g_strcmp0(host, "0.0.0.0") != 0) {
			address = g_inet_address_new_from_string(host);
			if (address == NULL ||
			    g_inet_address_get_family(address) != G_SOCKET_FAMILY_IPV4) {
				g_autofree gchar *quoted_host = relay_config_quote(host);
				g_set_error(
					error,
					RELAY_ERROR,
					RELAY_ERROR_CONFIG,
					"'%s': '%s' is not an IPv4 address, [IPv6] address or *",
					quoted,
					quoted_host);
				return FALSE;
			}
		}
	}
	if (!relay_config_parse_port(port_text, &port)) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_CONFIG,
			    "'%s': port must be 1 to 65535",
			    quoted);
		return FALSE;
	}
	if (out_address != NULL)
		*out_address = g_steal_pointer(&address);
	if (out_port != NULL)
		*out_port = port;
	return TRUE;
}

/* every item valid, at least one, none twice (compared by address, so *:80 = 0.0.0.0:80) */
/* each item is an IPv4 or IPv6 address */
static gboolean
relay_config_check_addresses(gchar **items, GError **error)
{
	for (guint i = 0; items[i] != NULL; i++) {
		g_autoptr(GInetAddress) address = g_inet_address_new_from_string(items[i]);
		if (address == NULL) {
			g_set_error(error,
				    RELAY_ERROR,
				    RELAY_ERROR_CONFIG,
				    "'%s' is not an IP address",
				    items[i]);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
relay_config_check_listen(gchar **items, GError **error)
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	if (items == NULL || items[0] == NULL) {
		g_set_error_literal(
			error, RELAY_ERROR, RELAY_ERROR_CONFIG, "give at least one ADDRESS:PORT");
		return FALSE;
	}
	for (guint i = 0; items[i] != NULL; i++) {
		g_autoptr(GInetAddress) address = NULL;
		g_autofree gchar *address_text = NULL;
		g_autofree gchar *canonical = NULL;
		const gchar *first;
		guint16 port = 0;

		if (!relay_config_parse_listen(items[i], &address, &port, error))
			return FALSE;
		address_text = address != NULL ? g_inet_address_to_string(address) : g_strdup("*");
		canonical = g_strdup_printf("%s %u", address_text, port);
		first = g_hash_table_lookup(seen, canonical);
		if (first != NULL) {
			g_autofree gchar *quoted = relay_config_quote(items[i]);
			g_autofree gchar *quoted_first = relay_config_quote(first);
			g_set_error(error,
				    RELAY_ERROR,
				    RELAY_ERROR_CONFIG,
				    "'%s': duplicate of '%s'",
				    quoted,
				    quoted_first);
			return FALSE;
		}
		g_hash_table_insert(seen, g_steal_pointer(&canonical), items[i]);
	}
	return TRUE;
}

static gboolean
relay_config_host_is_valid(const gchar *host)
{
	if (g_hostname_is_ip_address(host))
		return TRUE;
	if (host[0] == '\0' || host[0] == '.' || host[0] == '-')
		return FALSE;
	for (const gchar *p = host; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.')
			return FALSE;
	}
	return TRUE;
}

/* an http or https origin, returned as scheme://host[:port] in lower case, without the default
 * port or a trailing slash, because every actor id starts with it */
static gchar *
relay_config_check_url(const gchar *text, GError **error)
{
	g_autoptr(GUri) uri = NULL;
	g_autofree gchar *quoted = relay_config_quote(text);
	g_autofree gchar *scheme = NULL;
	g_autofree gchar *host = NULL;
	const gchar *path;
	gint port;

	uri = g_uri_parse(text, G_URI_FLAGS_NONE, NULL);
	if (uri == NULL) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_CONFIG,
			    "'%s' is not an absolute http or https URL",
			    quoted);
		return NULL;
	}
	scheme = g_ascii_strdown(g_uri_get_scheme(uri), -1);
	if (g_strcmp0(scheme, "http") != 0 && g_strcmp0(scheme, "https") != 0) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_CONFIG,
			    "'%s' is not an http or https URL",
			    quoted);
		return NULL;
	}
	if (g_uri_get_host(uri) == NULL || g_uri_get_host(uri)[0] == '\0') {
		g_set_error(error, RELAY_ERROR, RELAY_ERROR_CONFIG, "'%s' has no host", quoted);
		return NULL;
	}
	if (g_uri_get_userinfo(uri) != NULL) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_CONFIG,
			    "'%s' must not contain a user or password",
			    quoted);
		return NULL;
	}
	if (g_uri_get_query(uri) != NULL) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_CONFIG,
			    "'%s' must not have a query",
			    quoted);
		return NULL;
	}
	if (g_uri_get_fragment(uri) != NULL) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_CONFIG,
			    "'%s' must not have a fragment",
			    quoted);
		return NULL;
	}
	path = g_uri_get_path(uri);
	if (path[0] != '\0' && g_strcmp0(path, "/") != 0) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_CONFIG,
			    "'%s' must not have a path: the relay serves the root of its host",
			    quoted);
		return NULL;
	}
	host = g_ascii_strdown(g_uri_get_host(uri), -1);
	if (!relay_config_host_is_valid(host)) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_CONFIG,
			    "'%s' has an invalid host (write an international name in its "
			    "xn-- form)",
			    quoted);
		return NULL;
	}
	port = g_uri_get_port(uri);
	if (port == 0) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_CONFIG,
			    "'%s': port must be 1 to 65535",
			    quoted);
		return NULL;
	}
	if ((g_strcmp0(scheme, "http") == 0 && port == 80) ||
	    (g_strcmp0(scheme, "https") == 0 && port == 443))
		port = -1;
	return g_uri_join(G_URI_FLAGS_NONE, scheme, NULL, host, port, "", NULL, NULL);
}

/* a file name; relative ones start at the directory of the configuration file */
static gchar *
relay_config_check_path(RelayConfig *self, const gchar *text, GError **error)
{
	if (text[0] == '\0') {
		g_set_error_literal(error, RELAY_ERROR, RELAY_ERROR_CONFIG, "must not be empty");
		return NULL;
	}
	return g_canonicalize_filename(text, self->base_dir);
}

static gboolean
relay_config_parse_boolean(const gchar *text, gboolean *out_value)
{
	const gchar *yes[] = {"true", "yes", "1"};
	const gchar *no[] = {"false", "no", "0"};

	for (guint i = 0; i < G_N_ELEMENTS(yes); i++) {
		if (g_ascii_strcasecmp(text, yes[i]) == 0) {
			*out_value = TRUE;
			return TRUE;
		}
		if (g_ascii_strcasecmp(text, no[i]) == 0) {
			*out_value = FALSE;
			return TRUE;
		}
	}
	return FALSE;
}

/* GKeyFile refused a string: say why in our words, with the value as written */
static void
relay_config_set_error_unreadable(RelayConfig *self,
				  GKeyFile *keyfile,
				  const gchar *group,
				  const RelayConfigKey *row,
				  GError **error)
{
	g_autofree gchar *raw = g_key_file_get_value(keyfile, group, row->key, NULL);
	g_autofree gchar *quoted = NULL;

	if (raw == NULL || !g_utf8_validate(raw, -1, NULL)) {
		relay_config_set_error(self, error, group, row->key, "not valid UTF-8");
		return;
	}
	quoted = relay_config_quote(g_strstrip(raw));
	relay_config_set_error(self,
			       error,
			       group,
			       row->key,
			       "'%s' contains an invalid escape sequence "
			       "(write \\\\ for a backslash)",
			       quoted);
}

/* reads the text of @row in @group: the file's value, or the default, or NULL if missing */
static gboolean
relay_config_read_text(RelayConfig *self,
		       GKeyFile *keyfile,
		       const gchar *group,
		       const RelayConfigKey *row,
		       gchar **out_text,
		       GError **error)
{
	g_autofree gchar *raw = NULL;
	g_autofree gchar *text = NULL;
	g_autoptr(GError) error_local = NULL;

	raw = g_key_file_get_value(keyfile, group, row->key, NULL);
	if (raw == NULL) {
		*out_text = g_strdup(row->default_value);
		return TRUE;
	}
	if (row->type != RELAY_CONFIG_TYPE_STRING) {
		*out_text = g_strdup(g_strstrip(raw));
		return TRUE;
	}

	/* strings go through GKeyFile's escapes (\n, \t, \s, \\); an invalid escape sets the
	 * error yet still returns the text */
	text = g_key_file_get_string(keyfile, group, row->key, &error_local);
	if (text == NULL || error_local != NULL) {
		relay_config_set_error_unreadable(self, keyfile, group, row, error);
		return FALSE;
	}
	*out_text = g_strdup(g_strstrip(text));
	return TRUE;
}

/* reads the items of a list row, trimmed, without empty ones */
static gboolean
relay_config_read_list(RelayConfig *self,
		       GKeyFile *keyfile,
		       const gchar *group,
		       const RelayConfigKey *row,
		       gchar ***out_list,
		       GError **error)
{
	g_auto(GStrv) items = NULL;
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();

	if (g_key_file_has_key(keyfile, group, row->key, NULL)) {
		items = g_key_file_get_string_list(keyfile, group, row->key, NULL, NULL);
		if (items == NULL) {
			relay_config_set_error_unreadable(self, keyfile, group, row, error);
			return FALSE;
		}
	} else if (row->default_value != NULL) {
		items = g_strsplit(row->default_value, ",", -1);
	} else {
		*out_list = NULL;
		return TRUE;
	}
	for (guint i = 0; items[i] != NULL; i++) {
		g_strstrip(items[i]);
		if (items[i][0] != '\0')
			g_strv_builder_add(builder, items[i]);
	}
	*out_list = g_strv_builder_end(builder);
	return TRUE;
}

/* parses @row of @group from @keyfile (or its default) into a value */
static RelayConfigValue *
relay_config_parse_row(RelayConfig *self,
		       GKeyFile *keyfile,
		       const gchar *group,
		       const RelayConfigKey *row,
		       GError **error)
{
	g_autoptr(RelayConfigValue) value = g_new0(RelayConfigValue, 1);
	g_autoptr(GError) error_local = NULL;
	g_autofree gchar *text = NULL;
	g_autofree gchar *quoted = NULL;

	value->row = row;
	if (row->type == RELAY_CONFIG_TYPE_STRING_LIST) {
		if (!relay_config_read_list(self, keyfile, group, row, &value->list, error))
			return NULL;
		if (value->list == NULL) {
			relay_config_set_error(
				self, error, group, row->key, "required key is missing");
			return NULL;
		}
		if (row->check == RELAY_CONFIG_CHECK_ADDRESSES &&
		    !relay_config_check_addresses(value->list, &error_local)) {
			relay_config_set_error(
				self, error, group, row->key, "%s", error_local->message);
			return NULL;
		}
		if (row->check == RELAY_CONFIG_CHECK_LISTEN &&
		    !relay_config_check_listen(value->list, &error_local)) {
			relay_config_set_error(
				self, error, group, row->key, "%s", error_local->message);
			return NULL;
		}
		value->string = g_strjoinv(",", value->list);
		return g_steal_pointer(&value);
	}

	if (!relay_config_read_text(self, keyfile, group, row, &text, error))
		return NULL;
	if (text == NULL) {
		relay_config_set_error(self, error, group, row->key, "required key is missing");
		return NULL;
	}
	quoted = relay_config_quote(text);

	switch (row->type) {
	case RELAY_CONFIG_TYPE_INT: {
		gint64 integer = 0;
		if (!g_ascii_string_to_signed(
			    text, 10, G_MININT64, G_MAXINT64, &integer, &error_local) &&
		    !g_error_matches(error_local,
				     G_NUMBER_PARSER_ERROR,
				     G_NUMBER_PARSER_ERROR_OUT_OF_BOUNDS)) {
			relay_config_set_error(
				self, error, group, row->key, "'%s' is not an integer", quoted);
			return NULL;
		}
		if (error_local != NULL || integer < row->min || integer > row->max) {
			relay_config_set_error(self,
					       error,
					       group,
					       row->key,
					       "%s is out of range %" G_GINT64_FORMAT
					       " to %" G_GINT64_FORMAT,
					       quoted,
					       row->min,
					       row->max);
			return NULL;
		}
		value->integer = integer;
		value->string = g_strdup_printf("%" G_GINT64_FORMAT, integer);
		break;
	}
	case RELAY_CONFIG_TYPE_BOOLEAN:
		if (!relay_config_parse_boolean(text, &value->boolean)) {
			relay_config_set_error(self,
					       error,
					       group,
					       row->key,
					       "'%s' is not a boolean (true or false)",
					       quoted);
			return NULL;
		}
		value->string = g_strdup(value->boolean ? "true" : "false");
		break;
	case RELAY_CONFIG_TYPE_ENUM: {
		const gchar *const *allowed = row->allowed();
		for (guint i = 0; allowed[i] != NULL && value->string == NULL; i++) {
			if (g_ascii_strcasecmp(text, allowed[i]) == 0)
				value->string = g_strdup(allowed[i]);
		}
		if (value->string == NULL) {
			g_autofree gchar *words = g_strjoinv(", ", (gchar **)allowed);
			relay_config_set_error(self,
					       error,
					       group,
					       row->key,
					       "'%s' is not one of %s",
					       quoted,
					       words);
			return NULL;
		}
		break;
	}
	case RELAY_CONFIG_TYPE_STRING:
		if (row->check == RELAY_CONFIG_CHECK_URL)
			value->string = relay_config_check_url(text, &error_local);
		else if ((row->check == RELAY_CONFIG_CHECK_PATH ||
			  row->check == RELAY_CONFIG_CHECK_OPTIONAL_PATH) &&
			 !(text[0] == '\0' && (g_strcmp0(row->default_value, "") == 0 ||
					       row->check == RELAY_CONFIG_CHECK_OPTIONAL_PATH)))
			/* an empty path is allowed where it is the default: "not set" */
			value->string = relay_config_check_path(self, text, &error_local);
		else
			value->string = g_steal_pointer(&text);
		if (value->string == NULL) {
			relay_config_set_error(
				self, error, group, row->key, "%s", error_local->message);
			return NULL;
		}
		break;
	case RELAY_CONFIG_TYPE_STRING_LIST:
	default:
		g_assert_not_reached();
	}
	return g_steal_pointer(&value);
}

/* parses every row of @table_group into the values of @group */
static gboolean
relay_config_parse_group(RelayConfig *self,
			 GKeyFile *keyfile,
			 const gchar *group,
			 const gchar *table_group,
			 GError **error)
{
	GHashTable *values = g_hash_table_new_full(
		g_str_hash, g_str_equal, NULL, (GDestroyNotify)relay_config_value_free);

	g_hash_table_insert(self->groups, g_strdup(group), values);
	for (guint i = 0; i < G_N_ELEMENTS(relay_config_keys); i++) {
		const RelayConfigKey *row = &relay_config_keys[i];
		RelayConfigValue *value;

		if (g_strcmp0(row->group, table_group) != 0)
			continue;
		value = relay_config_parse_row(self, keyfile, group, row, error);
		if (value == NULL)
			return FALSE;
		g_hash_table_insert(values, (gpointer)row->key, value);
	}
	return TRUE;
}

/* checks the keys of one known group against the table: unknown ones only warn */
static void
relay_config_check_keys(RelayConfig *self, GKeyFile *keyfile, const gchar *group)
{
	g_auto(GStrv) keys = g_key_file_get_keys(keyfile, group, NULL, NULL);
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		const gchar *key = keys[i];
		g_autofree gchar *quoted = relay_config_quote(key);
		const gchar *other_group = NULL;

		/* GKeyFile lists a key once per line that sets it and keeps the last value */
		if (!g_hash_table_add(seen, (gpointer)key)) {
			relay_config_add_warning(
				self, group, quoted, "set more than once, the last value is used");
			continue;
		}
		if (strchr(key, '[') != NULL) {
			relay_config_add_warning(
				self, group, quoted, "translated values are not used, ignored");
			continue;
		}
		if (relay_config_key_lookup(group, key) != NULL)
			continue;
		for (guint j = 0; j < G_N_ELEMENTS(relay_config_keys); j++) {
			if (g_strcmp0(relay_config_keys[j].key, key) == 0) {
				other_group = relay_config_keys[j].group;
				break;
			}
		}
		if (g_strcmp0(other_group, RELAY_CONFIG_NETWORK_GROUP) == 0) {
			relay_config_add_warning(
				self,
				group,
				quoted,
				"unknown key, ignored (it belongs in [network NAME])");
		} else if (other_group != NULL) {
			relay_config_add_warning(self,
						 group,
						 quoted,
						 "unknown key, ignored (it belongs in [%s])",
						 other_group);
		} else {
			relay_config_add_warning(self, group, quoted, "unknown key, ignored");
		}
	}
}

static gint
relay_config_network_compare(gconstpointer a, gconstpointer b)
{
	const RelayNetworkConfig *network_a = *(const RelayNetworkConfig **)a;
	const RelayNetworkConfig *network_b = *(const RelayNetworkConfig **)b;
	gboolean default_a = g_strcmp0(network_a->name, RELAY_CONFIG_DEFAULT_NETWORK) == 0;
	gboolean default_b = g_strcmp0(network_b->name, RELAY_CONFIG_DEFAULT_NETWORK) == 0;

	if (default_a != default_b)
		return default_a ? -1 : 1;
	return g_strcmp0(network_a->name, network_b->name);
}

static GHashTable *
relay_config_get_group(RelayConfig *self, const gchar *group)
{
	return g_hash_table_lookup(self->groups, group);
}

static RelayConfigValue *
relay_config_lookup(RelayConfig *self, const gchar *group, const gchar *key)
{
	GHashTable *values = relay_config_get_group(self, group);

	if (values == NULL)
		return NULL;
	return g_hash_table_lookup(values, key);
}

/* a filter list of a network group, lower case, without leading '#' when @strip_hash is set */
static gchar **
relay_config_network_list(RelayConfig *self,
			  const gchar *group,
			  const gchar *key,
			  gboolean strip_hash)
{
	RelayConfigValue *value = relay_config_lookup(self, group, key);
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();

	for (guint i = 0; value->list[i] != NULL; i++) {
		const gchar *item = value->list[i];
		g_autofree gchar *lower = NULL;
		while (strip_hash && item[0] == '#')
			item++;
		if (item[0] == '\0')
			continue;
		lower = g_utf8_strdown(item, -1);
		g_strv_builder_add(builder, lower);
	}
	return g_strv_builder_end(builder);
}

/* builds the RelayNetworkConfig of one network whose group is parsed already */
static RelayNetworkConfig *
relay_config_build_network(RelayConfig *self, const gchar *group, const gchar *name)
{
	RelayNetworkConfig *network = g_new0(RelayNetworkConfig, 1);
	RelayConfigValue *title = relay_config_lookup(self, group, "title");
	RelayConfigValue *join = relay_config_lookup(self, group, "join");

	/* the default title is the network's name, which the table cannot spell */
	if (title->string[0] == '\0') {
		g_free(title->string);
		title->string = g_strdup(name);
	}
	network->name = g_strdup(name);
	network->title = g_strdup(title->string);
	network->summary = g_strdup(relay_config_lookup(self, group, "summary")->string);
	/* rules as written: trimmed, empty ones dropped */
	network->rules = g_strdupv(relay_config_lookup(self, group, "rules")->list);
	network->contact = g_strdup(relay_config_lookup(self, group, "contact")->string);
	network->publish_blocks = relay_config_lookup(self, group, "publish-blocks")->boolean;
	network->hashtags = relay_config_network_list(self, group, "hashtags", TRUE);
	network->languages = relay_config_network_list(self, group, "languages", FALSE);
	network->deny_keywords = relay_config_network_list(self, group, "deny-keywords", FALSE);
	if (!relay_join_policy_from_string(join->string, &network->join))
		g_assert_not_reached();
	return network;
}

static gboolean
relay_config_load(RelayConfig *self, const gchar *data, gsize length, GError **error)
{
	g_autoptr(GKeyFile) keyfile = g_key_file_new();
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) groups = NULL;

	/* translations are kept so that a title[fr] warns whatever the locale */
	g_key_file_set_list_separator(keyfile, ',');
	if (!g_key_file_load_from_data(
		    keyfile, data, length, G_KEY_FILE_KEEP_TRANSLATIONS, &error_local)) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_CONFIG,
			    "%s: %s",
			    self->display_path,
			    error_local->message);
		return FALSE;
	}

	/* every group and key of the file against the table */
	groups = g_key_file_get_groups(keyfile, NULL);
	for (guint i = 0; groups[i] != NULL; i++) {
		const gchar *group = groups[i];
		g_autofree gchar *quoted = relay_config_quote(group);

		if (g_str_has_prefix(group, RELAY_CONFIG_NETWORK_PREFIX) ||
		    g_strcmp0(group, RELAY_CONFIG_NETWORK_GROUP) == 0) {
			const gchar *name = group + strlen(RELAY_CONFIG_NETWORK_GROUP);
			if (name[0] == ' ')
				name++;
			if (!relay_config_network_name_is_valid(name)) {
				relay_config_set_error(self,
						       error,
						       quoted,
						       NULL,
						       "network name must match "
						       "[a-z0-9][a-z0-9_-]{0,63}");
				return FALSE;
			}
			relay_config_check_keys(self, keyfile, group);
			g_ptr_array_add(names, g_strdup(name));
			continue;
		}
		if (!relay_config_is_fixed_group(group)) {
			relay_config_add_warning(self, quoted, NULL, "unknown group, ignored");
			continue;
		}
		relay_config_check_keys(self, keyfile, group);
	}

	/* the fixed groups, in the order of the table */
	for (guint i = 0; i < G_N_ELEMENTS(relay_config_keys); i++) {
		const gchar *group = relay_config_keys[i].group;
		if (g_strcmp0(group, RELAY_CONFIG_NETWORK_GROUP) == 0)
			continue;
		if (relay_config_get_group(self, group) != NULL)
			continue;
		if (!relay_config_parse_group(self, keyfile, group, group, error))
			return FALSE;
	}

	/* the networks: the default one always exists */
	if (!g_ptr_array_find_with_equal_func(
		    names, RELAY_CONFIG_DEFAULT_NETWORK, g_str_equal, NULL))
		g_ptr_array_add(names, g_strdup(RELAY_CONFIG_DEFAULT_NETWORK));
	for (guint i = 0; i < names->len; i++) {
		const gchar *name = g_ptr_array_index(names, i);
		g_autofree gchar *group = g_strdup_printf(RELAY_CONFIG_NETWORK_PREFIX "%s", name);

		if (!relay_config_parse_group(
			    self, keyfile, group, RELAY_CONFIG_NETWORK_GROUP, error))
			return FALSE;
		g_ptr_array_add(self->networks, relay_config_build_network(self, group, name));
	}
	g_ptr_array_sort(self->networks, relay_config_network_compare);
	return TRUE;
}

/* reads a whole file; the error is only the reason, e.g. "No such file or directory" */
static gchar *
relay_config_read_file(const gchar *path, gsize *out_length, GError **error)
{
	g_autoptr(GByteArray) contents = g_byte_array_new();
	gint fd = g_open(path, O_RDONLY | O_CLOEXEC, 0);
	gint saved_errno;

	if (fd < 0) {
		saved_errno = errno;
		g_set_error_literal(error,
				    G_FILE_ERROR,
				    g_file_error_from_errno(saved_errno),
				    g_strerror(saved_errno));
		return NULL;
	}
	for (;;) {
		guint8 buffer[8192];
		gssize count = read(fd, buffer, sizeof(buffer));
		if (count < 0 && errno == EINTR)
			continue;
		if (count < 0) {
			saved_errno = errno;
			g_close(fd, NULL);
			g_set_error_literal(error,
					    G_FILE_ERROR,
					    g_file_error_from_errno(saved_errno),
					    g_strerror(saved_errno));
			return NULL;
		}
		if (count == 0)
			break;
		if (contents->len + count > RELAY_CONFIG_MAX_FILE_BYTES) {
			g_close(fd, NULL);
			g_set_error_literal(
				error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "larger than 1 MiB");
			return NULL;
		}
		g_byte_array_append(contents, buffer, count);
	}
	g_close(fd, NULL);
	*out_length = contents->len;
	g_byte_array_append(contents, (const guint8 *)"", 1);
	return (gchar *)g_byte_array_free(g_steal_pointer(&contents), FALSE);
}

static RelayConfig *
relay_config_new(const gchar *path)
{
	RelayConfig *self = g_object_new(RELAY_TYPE_CONFIG, NULL);
	g_autofree gchar *dir = NULL;

	self->path = g_strdup(path);
	self->display_path = g_strdup(path != NULL ? path : "(configuration)");
	if (!g_utf8_validate(self->display_path, -1, NULL)) {
		g_autofree gchar *invalid = g_steal_pointer(&self->display_path);
		self->display_path = g_utf8_make_valid(invalid, -1);
	}
	dir = path != NULL ? g_path_get_dirname(path) : g_get_current_dir();
	self->base_dir = g_canonicalize_filename(dir, NULL);
	return self;
}

static void
relay_config_steal_warnings(RelayConfig *self, GPtrArray **warnings)
{
	if (warnings == NULL)
		return;
	*warnings = g_steal_pointer(&self->warnings);
	self->warnings = g_ptr_array_new_with_free_func(g_free);
}

/**
 * relay_config_new_from_data:
 * @data: the text of a relay.conf
 * @length: the length of @data, or -1 if it is nul-terminated
 * @path: (nullable): the file @data came from: the FILE of every message, and the directory
 *	relative paths start from (%NULL: the current directory)
 * @warnings: (out) (optional) (transfer full) (element-type utf8): unknown groups and keys; set
 *	even when loading fails, so they can be shown beside the error
 * @error: (nullable): a #GError, %RELAY_ERROR_CONFIG naming the file, group and key
 *
 * Parses and validates a configuration.
 *
 * Returns: (transfer full) (nullable): the configuration, or %NULL
 */
RelayConfig *
relay_config_new_from_data(
	const gchar *data, gssize length, const gchar *path, GPtrArray **warnings, GError **error)
{
	g_autoptr(RelayConfig) self = NULL;

	g_return_val_if_fail(data != NULL, NULL);
	self = relay_config_new(path);
	if (!relay_config_load(self, data, length < 0 ? strlen(data) : (gsize)length, error)) {
		relay_config_steal_warnings(self, warnings);
		return NULL;
	}
	relay_config_steal_warnings(self, warnings);
	return g_steal_pointer(&self);
}

/**
 * relay_config_new_from_file:
 * @path: a relay.conf; relative paths in it start from its directory
 * @warnings: (out) (optional) (transfer full) (element-type utf8): unknown groups and keys; set
 *	even when loading fails, so they can be shown beside the error
 * @error: (nullable): a #GError, %RELAY_ERROR_CONFIG naming the file, group and key
 *
 * Reads, parses and validates a configuration file.
 *
 * Returns: (transfer full) (nullable): the configuration, or %NULL
 */
RelayConfig *
relay_config_new_from_file(const gchar *path, GPtrArray **warnings, GError **error)
{
	g_autofree gchar *data = NULL;
	g_autoptr(GError) error_local = NULL;
	gsize length = 0;

	g_return_val_if_fail(path != NULL, NULL);
	data = relay_config_read_file(path, &length, &error_local);
	if (data == NULL) {
		g_autofree gchar *quoted = relay_config_quote(path);
		if (warnings != NULL)
			*warnings = g_ptr_array_new_with_free_func(g_free);
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_CONFIG,
			    "%s: cannot read: %s",
			    quoted,
			    error_local->message);
		return NULL;
	}
	return relay_config_new_from_data(data, length, path, warnings, error);
}

/**
 * relay_config_get_path:
 * @self: a #RelayConfig
 *
 * Returns: (transfer none) (nullable): the file as given when loading, to reload it on SIGHUP
 */
const gchar *
relay_config_get_path(RelayConfig *self)
{
	g_return_val_if_fail(RELAY_IS_CONFIG(self), NULL);
	return self->path;
}

static RelayConfigValue *
relay_config_lookup_typed(RelayConfig *self,
			  const gchar *group,
			  const gchar *key,
			  RelayConfigType type)
{
	RelayConfigValue *value;

	g_return_val_if_fail(RELAY_IS_CONFIG(self), NULL);
	g_return_val_if_fail(group != NULL, NULL);
	g_return_val_if_fail(key != NULL, NULL);
	value = relay_config_lookup(self, group, key);
	if (value == NULL) {
		g_critical("no configuration key [%s] %s", group, key);
		return NULL;
	}
	if (value->row->type != type &&
	    !(type == RELAY_CONFIG_TYPE_STRING && value->row->type == RELAY_CONFIG_TYPE_ENUM)) {
		g_critical("configuration key [%s] %s has another type", group, key);
		return NULL;
	}
	return value;
}

/**
 * relay_config_get_string:
 * @self: a #RelayConfig
 * @group: a group, such as "relay" or "network foo"
 * @key: a string or enum key of that group
 *
 * Returns: (transfer none): the value, or its default; paths are absolute, enums the canonical
 *	word
 */
const gchar *
relay_config_get_string(RelayConfig *self, const gchar *group, const gchar *key)
{
	RelayConfigValue *value =
		relay_config_lookup_typed(self, group, key, RELAY_CONFIG_TYPE_STRING);
	return value != NULL ? value->string : NULL;
}

/**
 * relay_config_get_string_list:
 * @self: a #RelayConfig
 * @group: a group
 * @key: a string list key of that group
 *
 * Returns: (transfer none) (array zero-terminated=1): the items, trimmed, never empty strings
 */
const gchar *const *
relay_config_get_string_list(RelayConfig *self, const gchar *group, const gchar *key)
{
	RelayConfigValue *value =
		relay_config_lookup_typed(self, group, key, RELAY_CONFIG_TYPE_STRING_LIST);
	return value != NULL ? (const gchar *const *)value->list : NULL;
}

/**
 * relay_config_get_int:
 * @self: a #RelayConfig
 * @group: a group
 * @key: an int key of that group
 *
 * Returns: the value, within the bounds of the table
 */
gint64
relay_config_get_int(RelayConfig *self, const gchar *group, const gchar *key)
{
	RelayConfigValue *value =
		relay_config_lookup_typed(self, group, key, RELAY_CONFIG_TYPE_INT);
	return value != NULL ? value->integer : 0;
}

/**
 * relay_config_get_boolean:
 * @self: a #RelayConfig
 * @group: a group
 * @key: a boolean key of that group
 *
 * Returns: the value
 */
gboolean
relay_config_get_boolean(RelayConfig *self, const gchar *group, const gchar *key)
{
	RelayConfigValue *value =
		relay_config_lookup_typed(self, group, key, RELAY_CONFIG_TYPE_BOOLEAN);
	return value != NULL ? value->boolean : FALSE;
}

/**
 * relay_config_get_public_url:
 * @self: a #RelayConfig
 *
 * Returns: (transfer none): the origin, e.g. "https://relay.example", lower case, without a
 *	default port or a trailing slash
 */
const gchar *
relay_config_get_public_url(RelayConfig *self)
{
	return relay_config_get_string(self, "relay", "public-url");
}

/**
 * relay_config_get_listen:
 * @self: a #RelayConfig
 *
 * Returns: (transfer none) (array zero-terminated=1): at least one ADDRESS:PORT, as written;
 *	see relay_config_parse_listen()
 */
const gchar *const *
relay_config_get_listen(RelayConfig *self)
{
	return relay_config_get_string_list(self, "relay", "listen");
}

/**
 * relay_config_get_storage_backend:
 * @self: a #RelayConfig
 *
 * Returns: (transfer none): a name from relay_store_backend_names()
 */
const gchar *
relay_config_get_storage_backend(RelayConfig *self)
{
	return relay_config_get_string(self, "storage", "backend");
}

/**
 * relay_config_get_storage_path:
 * @self: a #RelayConfig
 *
 * Returns: (transfer none): the absolute path of the database file
 */
const gchar *
relay_config_get_storage_path(RelayConfig *self)
{
	return relay_config_get_string(self, "storage", "path");
}

/**
 * relay_config_get_admin_socket:
 * @self: a #RelayConfig
 *
 * Returns: (transfer none): the absolute path of the admin socket, or "" when the admin
 *	socket is turned off
 */
const gchar *
relay_config_get_admin_socket(RelayConfig *self)
{
	return relay_config_get_string(self, "admin", "socket");
}

/**
 * relay_config_get_allow_private_addresses:
 * @self: a #RelayConfig
 *
 * Returns: %TRUE if fetches and deliveries may reach loopback and private addresses
 */
gboolean
relay_config_get_allow_private_addresses(RelayConfig *self)
{
	return relay_config_get_boolean(self, "federation", "allow-private-addresses");
}

/**
 * relay_config_get_max_body_bytes:
 * @self: a #RelayConfig
 *
 * Returns: the largest request body accepted, in bytes
 */
gint64
relay_config_get_max_body_bytes(RelayConfig *self)
{
	return relay_config_get_int(self, "federation", "max-body-bytes");
}

/**
 * relay_config_get_log_level:
 * @self: a #RelayConfig
 *
 * Returns: the least important level that is logged: %G_LOG_LEVEL_DEBUG, %G_LOG_LEVEL_INFO,
 *	%G_LOG_LEVEL_MESSAGE or %G_LOG_LEVEL_WARNING
 */
GLogLevelFlags
relay_config_get_log_level(RelayConfig *self)
{
	const gchar *level = relay_config_get_string(self, "log", "level");

	for (guint i = 0; i < G_N_ELEMENTS(relay_config_log_level_flags); i++) {
		if (g_strcmp0(level, relay_config_log_level_words[i]) == 0)
			return relay_config_log_level_flags[i];
	}
	return G_LOG_LEVEL_MESSAGE;
}

/**
 * relay_config_get_networks:
 * @self: a #RelayConfig
 *
 * Returns: (transfer none) (element-type RelayNetworkConfig): every network, the default one
 *	("relay") first, then by name
 */
GPtrArray *
relay_config_get_networks(RelayConfig *self)
{
	g_return_val_if_fail(RELAY_IS_CONFIG(self), NULL);
	return self->networks;
}

/**
 * relay_config_get_network:
 * @self: a #RelayConfig
 * @name: a network name
 *
 * Returns: (transfer none) (nullable): the network, or %NULL if there is none of that name
 */
const RelayNetworkConfig *
relay_config_get_network(RelayConfig *self, const gchar *name)
{
	g_return_val_if_fail(RELAY_IS_CONFIG(self), NULL);
	g_return_val_if_fail(name != NULL, NULL);
	for (guint i = 0; i < self->networks->len; i++) {
		const RelayNetworkConfig *network = g_ptr_array_index(self->networks, i);
		if (g_strcmp0(network->name, name) == 0)
			return network;
	}
	return NULL;
}

static void
relay_config_group_to_keyfile(RelayConfig *self, GKeyFile *keyfile, const gchar *group)
{
	const gchar *table_group = relay_config_table_group(group);

	for (guint i = 0; i < G_N_ELEMENTS(relay_config_keys); i++) {
		const RelayConfigKey *row = &relay_config_keys[i];
		RelayConfigValue *value;

		if (g_strcmp0(row->group, table_group) != 0)
			continue;
		value = relay_config_lookup(self, group, row->key);
		if (row->type == RELAY_CONFIG_TYPE_STRING_LIST) {
			g_key_file_set_string_list(keyfile,
						   group,
						   row->key,
						   (const gchar *const *)value->list,
						   g_strv_length(value->list));
		} else if (row->type == RELAY_CONFIG_TYPE_STRING) {
			g_key_file_set_string(keyfile, group, row->key, value->string);
		} else {
			g_key_file_set_value(keyfile, group, row->key, value->string);
		}
	}
}

/**
 * relay_config_to_data:
 * @self: a #RelayConfig
 *
 * The effective configuration, every default written out, for `relay check-config`. Loading it
 * gives the same values.
 *
 * Returns: (transfer full): the text of a relay.conf
 */
gchar *
relay_config_to_data(RelayConfig *self)
{
	g_autoptr(GKeyFile) keyfile = g_key_file_new();

	g_return_val_if_fail(RELAY_IS_CONFIG(self), NULL);
	g_key_file_set_list_separator(keyfile, ',');
	for (guint i = 0; i < G_N_ELEMENTS(relay_config_keys); i++) {
		const gchar *group = relay_config_keys[i].group;
		if (g_strcmp0(group, RELAY_CONFIG_NETWORK_GROUP) == 0)
			continue;
		relay_config_group_to_keyfile(self, keyfile, group);
	}
	for (guint i = 0; i < self->networks->len; i++) {
		const RelayNetworkConfig *network = g_ptr_array_index(self->networks, i);
		g_autofree gchar *group =
			g_strdup_printf(RELAY_CONFIG_NETWORK_PREFIX "%s", network->name);
		relay_config_group_to_keyfile(self, keyfile, group);
	}
	return g_key_file_to_data(keyfile, NULL, NULL);
}

static void
relay_config_finalize(GObject *object)
{
	RelayConfig *self = RELAY_CONFIG(object);

	g_free(self->path);
	g_free(self->display_path);
	g_free(self->base_dir);
	g_clear_pointer(&self->groups, g_hash_table_unref);
	g_clear_pointer(&self->networks, g_ptr_array_unref);
	g_clear_pointer(&self->warnings, g_ptr_array_unref);
	G_OBJECT_CLASS(relay_config_parent_class)->finalize(object);
}

static void
relay_config_class_init(RelayConfigClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->finalize = relay_config_finalize;
}

static void
relay_config_init(RelayConfig *self)
{
	self->groups = g_hash_table_new_full(
		g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_hash_table_unref);
	self->networks = g_ptr_array_new_with_free_func((GDestroyNotify)relay_network_config_free);
	self->warnings = g_ptr_array_new_with_free_func(g_free);
}
