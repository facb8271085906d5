/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <string.h>

#include "relay-config.h"
#include "relay-error.h"
#include "relay-test-utils.h"

#define MINIMAL "[relay]\npublic-url = https://relay.example\n"

/* each row must fail with a message that contains @message */
static const struct {
	const gchar *name;
	const gchar *data;
	const gchar *message;
} error_cases[] = {
	{"public-url-missing",
	 "[storage]\nbackend = memory\n",
	 "[relay] public-url: required key is missing"},
	{"public-url-empty-file", "", "[relay] public-url: required key is missing"},
	{"public-url-path",
	 "[relay]\npublic-url = https://relay.example/relay\n",
	 "[relay] public-url: 'https://relay.example/relay' must not have a path"},
	{"public-url-query",
	 "[relay]\npublic-url = https://relay.example/?a=b\n",
	 "[relay] public-url: 'https://relay.example/?a=b' must not have a query"},
	{"public-url-fragment",
	 "[relay]\npublic-url = https://relay.example#top\n",
	 "[relay] public-url: 'https://relay.example#top' must not have a fragment"},
	{"public-url-userinfo",
	 "[relay]\npublic-url = https://admin:secret@relay.example\n",
	 "[relay] public-url: 'https://admin:secret@relay.example' must not contain a user"},
	{"public-url-ftp",
	 "[relay]\npublic-url = ftp://relay.example\n",
	 "[relay] public-url: 'ftp://relay.example' is not an http or https URL"},
	{"public-url-not-url",
	 "[relay]\npublic-url = relay.example\n",
	 "[relay] public-url: 'relay.example' is not an absolute http or https URL"},
	{"public-url-no-host",
	 "[relay]\npublic-url = https://\n",
	 "[relay] public-url: 'https://' has no host"},
	{"public-url-bad-host",
	 "[relay]\npublic-url = https://relay_example.org\n",
	 "[relay] public-url: 'https://relay_example.org' has an invalid host"},
	{"listen-bad-port",
	 MINIMAL "listen = 127.0.0.1:99999\n",
	 "[relay] listen: '127.0.0.1:99999': port must be 1 to 65535"},
	{"listen-port-zero",
	 MINIMAL "listen = 127.0.0.1:0\n",
	 "[relay] listen: '127.0.0.1:0': port must be 1 to 65535"},
	{"listen-port-not-number",
	 MINIMAL "listen = 127.0.0.1:http\n",
	 "[relay] listen: '127.0.0.1:http': port must be 1 to 65535"},
	{"listen-no-port",
	 MINIMAL "listen = 127.0.0.1\n",
	 "[relay] listen: '127.0.0.1': expected ADDRESS:PORT"},
	{"listen-ipv6-no-port",
	 MINIMAL "listen = [::1]\n",
	 "[relay] listen: '[::1]': expected [IPv6]:PORT"},
	{"listen-bad-address",
	 MINIMAL "listen = localhost:8080\n",
	 "[relay] listen: 'localhost:8080': 'localhost' is not an IPv4 address, [IPv6] address or "
	 "*"},
	{"listen-bad-ipv4",
	 MINIMAL "listen = 127.0.0.256:8080\n",
	 "[relay] listen: '127.0.0.256:8080': '127.0.0.256' is not an IPv4 address"},
	{"listen-bad-ipv6",
	 MINIMAL "listen = [127.0.0.1]:8080\n",
	 "[relay] listen: '[127.0.0.1]:8080': '127.0.0.1' is not an IPv6 address"},
	{"listen-ipv6-brackets",
	 MINIMAL "listen = ::1:8080\n",
	 "[relay] listen: '::1:8080': an IPv6 address goes in brackets"},
	{"listen-duplicate",
	 MINIMAL "listen = 127.0.0.1:8080, [::1]:8080, 127.0.0.1:8080\n",
	 "[relay] listen: '127.0.0.1:8080': duplicate of '127.0.0.1:8080'"},
	{"listen-duplicate-all",
	 MINIMAL "listen = *:8080, 0.0.0.0:8080\n",
	 "[relay] listen: '0.0.0.0:8080': duplicate of '*:8080'"},
	{"listen-empty", MINIMAL "listen =\n", "[relay] listen: give at least one ADDRESS:PORT"},
	{"backend-unknown",
	 MINIMAL "[storage]\nbackend = mysql\n",
	 "[storage] backend: 'mysql' is not one of sqlite, memory"},
	{"storage-path-empty", MINIMAL "[storage]\npath =\n", "[storage] path: must not be empty"},
	{"boolean-wrong-type",
	 MINIMAL "[federation]\nallow-private-addresses = maybe\n",
	 "[federation] allow-private-addresses: 'maybe' is not a boolean (true or false)"},
	{"int-wrong-type",
	 MINIMAL "[federation]\nmax-body-bytes = abc\n",
	 "[federation] max-body-bytes: 'abc' is not an integer"},
	{"int-suffix",
	 MINIMAL "[federation]\nmax-body-bytes = 256k\n",
	 "[federation] max-body-bytes: '256k' is not an integer"},
	{"int-too-small",
	 MINIMAL "[federation]\nmax-body-bytes = 10\n",
	 "[federation] max-body-bytes: 10 is out of range 1024 to 8388608"},
	{"int-too-large",
	 MINIMAL "[federation]\nmax-body-bytes = 99999999999999999999\n",
	 "[federation] max-body-bytes: 99999999999999999999 is out of range 1024 to 8388608"},
	{"log-level-bad",
	 MINIMAL "[log]\nlevel = verbose\n",
	 "[log] level: 'verbose' is not one of debug, info, message, warning"},
	{"network-bad-name",
	 MINIMAL "[network Foo!]\ntitle = Foo\n",
	 ": [network Foo!]: network name must match [a-z0-9][a-z0-9_-]{0,63}"},
	{"network-empty-name", MINIMAL "[network]\n", ": [network]: network name must match"},
	{"network-name-too-long",
	 MINIMAL "[network a1234567890123456789012345678901234567890123456789012345678901234]\n",
	 "network name must match"},
	{"network-join-bad",
	 MINIMAL "[network neighbourhood]\njoin = invite\n",
	 "[network neighbourhood] join: 'invite' is not one of open, approval, closed"},
	{"network-default-join-bad",
	 MINIMAL "[network relay]\njoin = never\n",
	 "[network relay] join: 'never' is not one of open, approval, closed"},
	{"string-bad-escape",
	 MINIMAL "[network relay]\ntitle = C:\\pub\n",
	 "[network relay] title: 'C:\\pub' contains an invalid escape sequence"},
	{"syntax-error", MINIMAL "this is not a key\n", "Key file contains line"},
	{"syntax-no-group", "public-url = https://relay.example\n", "does not start with a group"},
};

static RelayConfig *
load_data(const gchar *data, GPtrArray **warnings, GError **error)
{
	return relay_config_new_from_data(data, -1, "/etc/relay/relay.conf", warnings, error);
}

static void
test_config_error(gconstpointer user_data)
{
	guint index = GPOINTER_TO_UINT(user_data);
	g_autoptr(RelayConfig) config = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) warnings = NULL;

	config = load_data(error_cases[index].data, &warnings, &error);
	g_assert_error(error, RELAY_ERROR, RELAY_ERROR_CONFIG);
	g_assert_null(config);
	g_assert_nonnull(warnings);
	if (strstr(error->message, error_cases[index].message) == NULL) {
		g_test_fail_printf(
			"'%s' does not contain '%s'", error->message, error_cases[index].message);
		return;
	}
	/* every message names the file first */
	g_assert_true(g_str_has_prefix(error->message, "/etc/relay/relay.conf: "));
}

static void
test_config_defaults(void)
{
	g_autoptr(RelayConfig) config = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) warnings = NULL;
	const gchar *const *listen;
	const RelayNetworkConfig *network;
	GPtrArray *networks;

	config = load_data(MINIMAL, &warnings, &error);
	g_assert_no_error(error);
	g_assert_nonnull(config);
	g_assert_cmpuint(warnings->len, ==, 0);

	g_assert_cmpstr(relay_config_get_path(config), ==, "/etc/relay/relay.conf");
	g_assert_cmpstr(relay_config_get_public_url(config), ==, "https://relay.example");
	listen = relay_config_get_listen(config);
	g_assert_cmpuint(g_strv_length((gchar **)listen), ==, 1);
	g_assert_cmpstr(listen[0], ==, "127.0.0.1:8080");
	g_assert_cmpstr(relay_config_get_storage_backend(config), ==, "sqlite");
	g_assert_cmpstr(relay_config_get_storage_path(config), ==, "/var/lib/relay/relay.db");
	g_assert_cmpstr(relay_config_get_admin_socket(config), ==, "/run/relay/admin.sock");
	g_assert_false(relay_config_get_allow_private_addresses(config));
	g_assert_cmpint(relay_config_get_max_body_bytes(config), ==, 262144);
	g_assert_cmpint(relay_config_get_log_level(config), ==, G_LOG_LEVEL_MESSAGE);

	/* the generic accessors read the same values */
	g_assert_cmpstr(relay_config_get_string(config, "storage", "backend"), ==, "sqlite");
	g_assert_cmpstr(relay_config_get_string(config, "log", "level"), ==, "message");
	g_assert_false(relay_config_get_boolean(config, "federation", "allow-private-addresses"));
	g_assert_cmpint(relay_config_get_int(config, "federation", "max-body-bytes"), ==, 262144);
	g_assert_cmpstr(
		relay_config_get_string_list(config, "relay", "listen")[0], ==, "127.0.0.1:8080");

	/* the default network exists without a group */
	networks = relay_config_get_networks(config);
	g_assert_cmpuint(networks->len, ==, 1);
	network = g_ptr_array_index(networks, 0);
	g_assert_cmpstr(network->name, ==, RELAY_CONFIG_DEFAULT_NETWORK);
	g_assert_cmpstr(network->title, ==, "relay");
	g_assert_cmpstr(network->summary, ==, "");
	g_assert_cmpint(network->join, ==, RELAY_JOIN_POLICY_OPEN);
	g_assert_nonnull(network->hashtags);
	g_assert_cmpuint(g_strv_length(network->hashtags), ==, 0);
	g_assert_nonnull(network->languages);
	g_assert_cmpuint(g_strv_length(network->languages), ==, 0);
	g_assert_nonnull(network->deny_keywords);
	g_assert_cmpuint(g_strv_length(network->deny_keywords), ==, 0);
	g_assert_true(relay_config_get_network(config, "relay") == network);
	g_assert_null(relay_config_get_network(config, "neighbourhood"));
	g_assert_cmpstr(relay_config_get_string(config, "network relay", "title"), ==, "relay");
	g_assert_cmpstr(relay_config_get_string(config, "network relay", "join"), ==, "open");
}

static void
test_config_values(void)
{
	g_autoptr(RelayConfig) config = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) warnings = NULL;
	const gchar *const *listen;
	const gchar *data = "# a comment\n"
			    "[relay]\n"
			    "public-url = HTTPS://Relay.Example:443/\n"
			    "listen = 127.0.0.1:8080 , [::1]:8081,*:8082,, \n"
			    "[storage]\n"
			    "backend = Memory\n"
			    "path = /srv/relay/../relay/relay.db\n"
			    "[federation]\n"
			    "allow-private-addresses = YES\n"
			    "max-body-bytes = 1048576\n"
			    "[admin]\n"
			    "socket = /tmp/relay.sock\n"
			    "[log]\n"
			    "level = debug\n";

	config = load_data(data, &warnings, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(warnings->len, ==, 0);
	g_assert_cmpstr(relay_config_get_public_url(config), ==, "https://relay.example");
	listen = relay_config_get_listen(config);
	g_assert_cmpuint(g_strv_length((gchar **)listen), ==, 3);
	g_assert_cmpstr(listen[0], ==, "127.0.0.1:8080");
	g_assert_cmpstr(listen[1], ==, "[::1]:8081");
	g_assert_cmpstr(listen[2], ==, "*:8082");
	g_assert_cmpstr(relay_config_get_storage_backend(config), ==, "memory");
	g_assert_cmpstr(relay_config_get_storage_path(config), ==, "/srv/relay/relay.db");
	g_assert_cmpstr(relay_config_get_admin_socket(config), ==, "/tmp/relay.sock");
	g_assert_true(relay_config_get_allow_private_addresses(config));
	g_assert_cmpint(relay_config_get_max_body_bytes(config), ==, 1048576);
	g_assert_cmpint(relay_config_get_log_level(config), ==, G_LOG_LEVEL_DEBUG);
}

static const struct {
	const gchar *value;
	const gchar *expected;
} public_url_cases[] = {
	{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
	{"http://127.0.0.1:8080/", "http://127.0.0.1:8080"},
	{"https://relay.example:8443/", "https://relay.example:8443"},
	{"http://relay.example:80", "http://relay.example"},
	{"https://[::1]:8443", "https://[::1]:8443"},
};

static void
test_config_public_url(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(public_url_cases); i++) {
		g_autoptr(RelayConfig) config = NULL;
		g_autoptr(GError) error = NULL;
		g_autofree gchar *data =
			g_strdup_printf("[relay]\npublic-url = %s\n", public_url_cases[i].value);

		config = load_data(data, NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(
			relay_config_get_public_url(config), ==, public_url_cases[i].expected);
	}
}

static void
test_config_booleans(void)
{
	const gchar *yes[] = {"true", "True", "yes", "YES", "1"};
	const gchar *no[] = {"false", "FALSE", "no", "No", "0"};

	for (guint i = 0; i < G_N_ELEMENTS(yes); i++) {
		g_autoptr(RelayConfig) config_yes = NULL;
		g_autoptr(RelayConfig) config_no = NULL;
		g_autoptr(GError) error = NULL;
		g_autofree gchar *data_yes = g_strdup_printf(
			MINIMAL "[federation]\nallow-private-addresses = %s\n", yes[i]);
		g_autofree gchar *data_no = g_strdup_printf(
			MINIMAL "[federation]\nallow-private-addresses = %s\n", no[i]);

		config_yes = load_data(data_yes, NULL, &error);
		g_assert_no_error(error);
		g_assert_true(relay_config_get_allow_private_addresses(config_yes));
		config_no = load_data(data_no, NULL, &error);
		g_assert_no_error(error);
		g_assert_false(relay_config_get_allow_private_addresses(config_no));
	}
}

static void
test_config_relative_paths(void)
{
	g_autofree gchar *dir = relay_test_mkdtemp();
	g_autofree gchar *path = g_build_filename(dir, "relay.conf", NULL);
	g_autofree gchar *expected_db = g_build_filename(dir, "var", "relay.db", NULL);
	g_autofree gchar *expected_socket = g_build_filename(dir, "admin.sock", NULL);
	g_autoptr(RelayConfig) config = NULL;
	g_autoptr(RelayConfig) config_data = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *data = MINIMAL "[storage]\npath = var/relay.db\n"
				    "[admin]\nsocket = ./run/../admin.sock\n";

	g_file_set_contents(path, data, -1, &error);
	g_assert_no_error(error);
	config = relay_config_new_from_file(path, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(relay_config_get_path(config), ==, path);
	g_assert_cmpstr(relay_config_get_storage_path(config), ==, expected_db);
	g_assert_cmpstr(relay_config_get_admin_socket(config), ==, expected_socket);

	/* from data, the path given is only a name: relative paths still start at its directory */
	config_data = relay_config_new_from_data(data, -1, path, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(relay_config_get_storage_path(config_data), ==, expected_db);
	relay_test_rmdir(dir);
}

/* an empty admin socket turns the admin commands off; other paths must not be empty */
static void
test_config_admin_socket_off(void)
{
	g_autoptr(RelayConfig) config = NULL;
	g_autoptr(GError) error = NULL;

	config = load_data(MINIMAL "[admin]\nsocket =\n", NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(relay_config_get_admin_socket(config), ==, "");
}

static void
test_config_relative_config_path(void)
{
	g_autofree gchar *cwd = g_get_current_dir();
	g_autofree gchar *expected = g_build_filename(cwd, "etc", "relay.db", NULL);
	g_autoptr(RelayConfig) config = NULL;
	g_autoptr(GError) error = NULL;

	config = relay_config_new_from_data(
		MINIMAL "[storage]\npath = relay.db\n", -1, "etc/relay.conf", NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(relay_config_get_storage_path(config), ==, expected);
	g_assert_true(g_path_is_absolute(relay_config_get_admin_socket(config)));
}

static void
test_config_networks(void)
{
	g_autoptr(RelayConfig) config = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) warnings = NULL;
	const RelayNetworkConfig *network;
	GPtrArray *networks;
	const gchar *data = MINIMAL "[network zeta]\n"
				    "join = closed\n"
				    "[network neighbourhood]\n"
				    "title = Our Neighbourhood\n"
				    "summary = Posts from the street\\nand the square\n"
				    "join = approval\n"
				    "[network 1st_guild-x]\n";

	config = load_data(data, &warnings, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(warnings->len, ==, 0);
	networks = relay_config_get_networks(config);
	g_assert_cmpuint(networks->len, ==, 4);

	network = g_ptr_array_index(networks, 0);
	g_assert_cmpstr(network->name, ==, "relay");
	g_assert_cmpint(network->join, ==, RELAY_JOIN_POLICY_OPEN);

	network = g_ptr_array_index(networks, 1);
	g_assert_cmpstr(network->name, ==, "1st_guild-x");
	g_assert_cmpstr(network->title, ==, "1st_guild-x");
	g_assert_cmpstr(network->summary, ==, "");
	g_assert_cmpint(network->join, ==, RELAY_JOIN_POLICY_OPEN);

	network = g_ptr_array_index(networks, 2);
	g_assert_cmpstr(network->name, ==, "neighbourhood");
	g_assert_cmpstr(network->title, ==, "Our Neighbourhood");
	g_assert_cmpstr(network->summary, ==, "Posts from the street\nand the square");
	g_assert_cmpint(network->join, ==, RELAY_JOIN_POLICY_APPROVAL);
	g_assert_true(relay_config_get_network(config, "neighbourhood") == network);
	g_assert_cmpstr(
		relay_config_get_string(config, "network neighbourhood", "join"), ==, "approval");

	network = g_ptr_array_index(networks, 3);
	g_assert_cmpstr(network->name, ==, "zeta");
	g_assert_cmpstr(network->title, ==, "zeta");
	g_assert_cmpint(network->join, ==, RELAY_JOIN_POLICY_CLOSED);
}

static void
test_config_network_default(void)
{
	g_autoptr(RelayConfig) config = NULL;
	g_autoptr(GError) error = NULL;
	const RelayNetworkConfig *network;
	GPtrArray *networks;
	const gchar *data = MINIMAL "[network alpha]\n"
				    "[network relay]\n"
				    "title = Town Relay\n"
				    "summary = The town's relay\n"
				    "join = approval\n";

	config = load_data(data, NULL, &error);
	g_assert_no_error(error);
	networks = relay_config_get_networks(config);
	g_assert_cmpuint(networks->len, ==, 2);
	network = g_ptr_array_index(networks, 0);
	g_assert_cmpstr(network->name, ==, "relay");
	g_assert_cmpstr(network->title, ==, "Town Relay");
	g_assert_cmpstr(network->summary, ==, "The town's relay");
	g_assert_cmpint(network->join, ==, RELAY_JOIN_POLICY_APPROVAL);
	network = g_ptr_array_index(networks, 1);
	g_assert_cmpstr(network->name, ==, "alpha");
}

static void
assert_strv(gchar **list, const gchar *joined)
{
	g_autofree gchar *text = g_strjoinv("|", list);
	g_assert_cmpstr(text, ==, joined);
}

static void
test_config_network_filters(void)
{
	g_autoptr(RelayConfig) config = NULL;
	g_autoptr(RelayNetworkConfig) copy = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) warnings = NULL;
	const RelayNetworkConfig *network;
	const gchar *data = MINIMAL "[network pets]\n"
				    "rules = Be kind\\, always ,, No <b>spam</b>\n"
				    "contact = admin@pets.example \n"
				    "hashtags = #Cats, dogs ,, ##Birds, #, Caf\xc3\x89\n"
				    "languages = EN, pt-BR,fr\n"
				    "deny-keywords = Buy Now, crypto\\, scams, SPAM\n";

	config = load_data(data, &warnings, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(warnings->len, ==, 0);

	/* lower case, '#' stripped, empty items dropped */
	network = relay_config_get_network(config, "pets");
	assert_strv(network->hashtags, "cats|dogs|birds|caf\xc3\xa9");
	assert_strv(network->languages, "en|pt-br|fr");
	assert_strv(network->deny_keywords, "buy now|crypto, scams|spam");
	/* rules keep their case and text; "\," is a comma inside one */
	assert_strv(network->rules, "Be kind, always|No <b>spam</b>");
	g_assert_cmpstr(network->contact, ==, "admin@pets.example");

	/* the generic accessor gives the items as written */
	g_assert_cmpstr(
		relay_config_get_string_list(config, "network pets", "hashtags")[0], ==, "#Cats");

	/* the default network has none */
	network = relay_config_get_network(config, RELAY_CONFIG_DEFAULT_NETWORK);
	g_assert_cmpuint(g_strv_length(network->hashtags), ==, 0);
	g_assert_cmpuint(g_strv_length(network->rules), ==, 0);
	g_assert_cmpstr(network->contact, ==, "");

	/* copies are deep */
	copy = relay_network_config_copy(relay_config_get_network(config, "pets"));
	g_assert_true(copy->hashtags != relay_config_get_network(config, "pets")->hashtags);
	assert_strv(copy->hashtags, "cats|dogs|birds|caf\xc3\xa9");
	assert_strv(copy->languages, "en|pt-br|fr");
	assert_strv(copy->deny_keywords, "buy now|crypto, scams|spam");
	assert_strv(copy->rules, "Be kind, always|No <b>spam</b>");
	g_assert_cmpstr(copy->contact, ==, "admin@pets.example");
}

static void
test_config_join_policy(void)
{
	RelayJoinPolicy join = RELAY_JOIN_POLICY_LAST;

	for (guint i = 0; i < RELAY_JOIN_POLICY_LAST; i++) {
		const gchar *text = relay_join_policy_to_string(i);
		g_assert_nonnull(text);
		g_assert_true(relay_join_policy_from_string(text, &join));
		g_assert_cmpint(join, ==, i);
	}
	g_assert_cmpstr(relay_join_policy_to_string(RELAY_JOIN_POLICY_APPROVAL), ==, "approval");
	g_assert_false(relay_join_policy_from_string("invite", &join));
	g_assert_false(relay_join_policy_from_string(NULL, &join));
}

static gboolean
warnings_contain(GPtrArray *warnings, const gchar *text)
{
	for (guint i = 0; i < warnings->len; i++) {
		if (g_strcmp0(g_ptr_array_index(warnings, i), text) == 0)
			return TRUE;
	}
	return FALSE;
}

static void
dump_warnings(GPtrArray *warnings)
{
	for (guint i = 0; i < warnings->len; i++)
		g_test_message("warning: %s", (const gchar *)g_ptr_array_index(warnings, i));
}

static void
test_config_warnings(void)
{
	g_autoptr(RelayConfig) config = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) warnings = NULL;
	const gchar *data = MINIMAL "colour = blue\n"
				    "backend = memory\n"
				    "[paint]\n"
				    "colour = red\n"
				    "[network neighbourhood]\n"
				    "title[fr] = Le quartier\n"
				    "colour = green\n"
				    "[log]\n"
				    "level = info\n"
				    "level = debug\n";

	config = load_data(data, &warnings, &error);
	g_assert_no_error(error);
	g_assert_nonnull(config);
	dump_warnings(warnings);
	g_assert_true(warnings_contain(
		warnings, "/etc/relay/relay.conf: [relay] colour: unknown key, ignored"));
	g_assert_true(
		warnings_contain(warnings,
				 "/etc/relay/relay.conf: [relay] backend: unknown key, ignored "
				 "(it belongs in [storage])"));
	g_assert_true(warnings_contain(warnings,
				       "/etc/relay/relay.conf: [paint]: unknown group, ignored"));
	g_assert_true(warnings_contain(
		warnings,
		"/etc/relay/relay.conf: [network neighbourhood] colour: unknown key, ignored"));
	g_assert_true(warnings_contain(warnings,
				       "/etc/relay/relay.conf: [network neighbourhood] title[fr]: "
				       "translated values are not used, ignored"));
	g_assert_true(
		warnings_contain(warnings,
				 "/etc/relay/relay.conf: [log] level: set more than once, the "
				 "last value is used"));
	g_assert_cmpuint(warnings->len, ==, 6);

	/* the ignored keys changed nothing, and the last value won */
	g_assert_cmpstr(relay_config_get_storage_backend(config), ==, "sqlite");
	g_assert_cmpstr(
		relay_config_get_network(config, "neighbourhood")->title, ==, "neighbourhood");
	g_assert_cmpint(relay_config_get_log_level(config), ==, G_LOG_LEVEL_DEBUG);
}

static void
test_config_warnings_on_error(void)
{
	g_autoptr(RelayConfig) config = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) warnings = NULL;

	/* a misspelt required key: the warning explains the error */
	config = load_data("[relay]\npublic-uri = https://relay.example\n", &warnings, &error);
	g_assert_error(error, RELAY_ERROR, RELAY_ERROR_CONFIG);
	g_assert_cmpstr(error->message,
			==,
			"/etc/relay/relay.conf: [relay] public-url: required key is missing");
	g_assert_nonnull(warnings);
	g_assert_cmpuint(warnings->len, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(warnings, 0),
			==,
			"/etc/relay/relay.conf: [relay] public-uri: unknown key, ignored");
}

static void
test_config_exact_messages(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayConfig) config = NULL;

	config = relay_config_new_from_data(
		MINIMAL "[storage]\nbackend = mysql\n", -1, "/etc/relay/relay.conf", NULL, &error);
	g_assert_null(config);
	g_assert_error(error, RELAY_ERROR, RELAY_ERROR_CONFIG);
	g_assert_cmpstr(
		error->message,
		==,
		"/etc/relay/relay.conf: [storage] backend: 'mysql' is not one of sqlite, memory");
	g_clear_error(&error);

	config = relay_config_new_from_data("[relay]\n", -1, "relay.conf", NULL, &error);
	g_assert_null(config);
	g_assert_cmpstr(
		error->message, ==, "relay.conf: [relay] public-url: required key is missing");
}

static void
test_config_missing_file(void)
{
	g_autofree gchar *dir = relay_test_mkdtemp();
	g_autofree gchar *path = g_build_filename(dir, "nothing.conf", NULL);
	g_autofree gchar *expected = g_strdup_printf("%s: cannot read: ", path);
	g_autoptr(RelayConfig) config = NULL;
	g_autoptr(RelayConfig) config_dir = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) warnings = NULL;

	config = relay_config_new_from_file(path, &warnings, &error);
	g_assert_null(config);
	g_assert_error(error, RELAY_ERROR, RELAY_ERROR_CONFIG);
	g_assert_true(g_str_has_prefix(error->message, expected));
	g_assert_nonnull(strstr(error->message, g_strerror(ENOENT)));
	g_assert_nonnull(warnings);
	g_clear_error(&error);

	/* a directory opens but cannot be read */
	config_dir = relay_config_new_from_file(dir, NULL, &error);
	g_assert_null(config_dir);
	g_assert_error(error, RELAY_ERROR, RELAY_ERROR_CONFIG);
	g_assert_nonnull(strstr(error->message, ": cannot read: "));
	relay_test_rmdir(dir);
}

static void
test_config_to_data(void)
{
	g_autoptr(RelayConfig) config = NULL;
	g_autoptr(RelayConfig) again = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) warnings = NULL;
	g_autofree gchar *text = NULL;
	g_autofree gchar *text_again = NULL;
	const gchar *data = MINIMAL "listen = 127.0.0.1:8080, [::1]:8080\n"
				    "[network neighbourhood]\n"
				    "summary = line one\\nline two, with a comma\n"
				    "join = approval\n";

	config = relay_config_new_from_data(data, -1, "/etc/relay/relay.conf", NULL, &error);
	g_assert_no_error(error);
	text = relay_config_to_data(config);
	g_test_message("%s", text);
	again = relay_config_new_from_data(text, -1, "/etc/relay/relay.conf", &warnings, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(warnings->len, ==, 0);
	text_again = relay_config_to_data(again);
	g_assert_cmpstr(text, ==, text_again);
	g_assert_cmpstr(relay_config_get_network(again, "neighbourhood")->summary,
			==,
			"line one\nline two, with a comma");
	g_assert_cmpuint(g_strv_length((gchar **)relay_config_get_listen(again)), ==, 2);
}

static void
test_config_table(void)
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	g_assert_cmpuint(relay_config_key_count(), >, 0);
	for (guint i = 0; i < relay_config_key_count(); i++) {
		const RelayConfigKey *row = relay_config_key_at(i);
		g_autofree gchar *id = g_strdup_printf("%s %s", row->group, row->key);

		g_assert_nonnull(row->group);
		g_assert_nonnull(row->key);
		g_assert_nonnull(row->meaning);
		g_assert_true(g_hash_table_add(seen, g_steal_pointer(&id)));
		g_assert_true(relay_config_key_lookup(row->group, row->key) == row);
		if (row->type == RELAY_CONFIG_TYPE_ENUM)
			g_assert_nonnull(row->allowed);
		if (row->type == RELAY_CONFIG_TYPE_INT)
			g_assert_cmpint(row->min, <=, row->max);
	}
	g_assert_true(relay_config_key_lookup("network anything", "join") != NULL);
	g_assert_null(relay_config_key_lookup("relay", "colour"));
}

/* the lines under a group header of the sample, up to the next header */
static gboolean
sample_line_is_header(const gchar *line, const gchar *group)
{
	g_autofree gchar *header = NULL;

	if (line[0] == '#')
		line++;
	if (g_strcmp0(group, RELAY_CONFIG_NETWORK_GROUP) == 0)
		return g_str_has_prefix(line, "[" RELAY_CONFIG_NETWORK_GROUP " ") &&
		       g_str_has_suffix(line, "]");
	header = g_strdup_printf("[%s]", group);
	return g_strcmp0(line, header) == 0;
}

static gboolean
sample_line_is_any_header(const gchar *line)
{
	if (line[0] == '#')
		line++;
	return line[0] == '[' && g_str_has_suffix(line, "]");
}

static void
test_config_sample(void)
{
	g_autofree gchar *path = relay_test_source_path("relay.conf.sample");
	g_autofree gchar *contents = NULL;
	g_autofree gchar *dir = NULL;
	g_autofree gchar *expected_db = NULL;
	g_autoptr(RelayConfig) config = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) warnings = NULL;
	g_auto(GStrv) lines = NULL;

	config = relay_config_new_from_file(path, &warnings, &error);
	g_assert_no_error(error);
	g_assert_nonnull(config);
	dump_warnings(warnings);
	g_assert_cmpuint(warnings->len, ==, 0);
	g_assert_cmpstr(relay_config_get_public_url(config), ==, "http://127.0.0.1:8080");
	dir = g_path_get_dirname(path);
	expected_db = g_canonicalize_filename("var/relay.db", dir);
	g_assert_cmpstr(relay_config_get_storage_path(config), ==, expected_db);

	/* every key of the table, under its group, after a comment with its meaning; a commented
	 * key shows exactly its default */
	g_file_get_contents(path, &contents, NULL, &error);
	g_assert_no_error(error);
	lines = g_strsplit(contents, "\n", -1);
	for (guint i = 0; i < relay_config_key_count(); i++) {
		const RelayConfigKey *row = relay_config_key_at(i);
		g_autofree gchar *set = g_strdup_printf("%s =", row->key);
		g_autofree gchar *commented = g_strdup_printf("#%s =", row->key);
		g_autofree gchar *meaning = g_strdup_printf("# %s", row->meaning);
		gboolean in_group = FALSE;
		gboolean found = FALSE;

		for (guint j = 0; lines[j] != NULL && !found; j++) {
			const gchar *line = lines[j];

			if (sample_line_is_any_header(line)) {
				in_group = sample_line_is_header(line, row->group);
				continue;
			}
			if (!in_group)
				continue;
			if (g_str_has_prefix(line, commented)) {
				g_autofree gchar *exact = NULL;
				if (row->default_value == NULL || row->default_value[0] == '\0')
					exact = g_strdup(commented);
				else
					exact = g_strdup_printf(
						"%s %s", commented, row->default_value);
				if (g_strcmp0(line, exact) != 0)
					g_test_fail_printf(
						"sample has '%s', expected '%s'", line, exact);
				found = TRUE;
			} else if (g_str_has_prefix(line, set)) {
				found = TRUE;
			}
			if (found && (j == 0 || g_strcmp0(lines[j - 1], meaning) != 0))
				g_test_fail_printf("sample: '%s' must follow '%s'", line, meaning);
		}
		if (!found)
			g_test_fail_printf("sample lacks [%s] %s", row->group, row->key);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	for (guint i = 0; i < G_N_ELEMENTS(error_cases); i++) {
		g_autofree gchar *test_path =
			g_strdup_printf("/relay/config/error/%s", error_cases[i].name);
		g_test_add_data_func(test_path, GUINT_TO_POINTER(i), test_config_error);
	}
	g_test_add_func("/relay/config/defaults", test_config_defaults);
	g_test_add_func("/relay/config/values", test_config_values);
	g_test_add_func("/relay/config/public-url", test_config_public_url);
	g_test_add_func("/relay/config/booleans", test_config_booleans);
	g_test_add_func("/relay/config/relative-paths", test_config_relative_paths);
	g_test_add_func("/relay/config/relative-config-path", test_config_relative_config_path);
	g_test_add_func("/relay/config/admin-socket-off", test_config_admin_socket_off);
	g_test_add_func("/relay/config/networks", test_config_networks);
	g_test_add_func("/relay/config/network-default", test_config_network_default);
	g_test_add_func("/relay/config/network-filters", test_config_network_filters);
	g_test_add_func("/relay/config/join-policy", test_config_join_policy);
	g_test_add_func("/relay/config/warnings", test_config_warnings);
	g_test_add_func("/relay/config/warnings-on-error", test_config_warnings_on_error);
	g_test_add_func("/relay/config/exact-messages", test_config_exact_messages);
	g_test_add_func("/relay/config/missing-file", test_config_missing_file);
	g_test_add_func("/relay/config/to-data", test_config_to_data);
	g_test_add_func("/relay/config/table", test_config_table);
	g_test_add_func("/relay/config/sample", test_config_sample);
	return g_test_run();
}
