/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * The `relay` command: parses the command line, loads relay.conf and hands over to the daemon
 * or to one admin command (relay-cli.c). Nothing else lives here.
 */

#include "config.h"

#include <libxml/parser.h>
#include <locale.h>
#include <openssl/crypto.h>
#include <stdio.h>

#include "relay-cli.h"
#include "relay-config.h"
#include "relay-daemon.h"
#include "relay-error.h"
#include "relay-log.h"

typedef struct {
	const gchar *name;
	const gchar *parameters;
	const gchar *summary;
	const gchar *description;
	gint (*run)(gint argc, gchar **argv);
} RelayCommand;

static gint
relay_command_serve(gint argc, gchar **argv);
static gint
relay_command_check_config(gint argc, gchar **argv);
static gint
relay_command_help(gint argc, gchar **argv);

static const RelayCommand commands[] = {
	{"serve",
	 "",
	 "Run the relay node",
	 "Runs the node in the foreground: opens storage, listens on every [relay] listen "
	 "address and serves until SIGTERM or SIGINT. SIGHUP reloads the configuration file; a "
	 "file with errors is refused and the running configuration stays in force. Logs go to "
	 "the journal under systemd, to standard error otherwise.",
	 relay_command_serve},
	{"check-config",
	 "",
	 "Check a configuration file",
	 "Reads the configuration file and reports every problem by file, group and key. Exits "
	 "with 0 when the file is good (unknown keys only warn), 1 otherwise.",
	 relay_command_check_config},
	{"help",
	 "[COMMAND]",
	 "Show help for a command",
	 "Shows the list of commands, or the options of one command.",
	 relay_command_help},
};

static const RelayCommand *
relay_command_lookup(const gchar *name)
{
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
		if (g_strcmp0(commands[i].name, name) == 0)
			return &commands[i];
	}
	return NULL;
}

static gchar *config_path = NULL;
static gboolean verbose = FALSE;

static const GOptionEntry config_entries[] = {
	{"config",
	 'c',
	 0,
	 G_OPTION_ARG_FILENAME,
	 &config_path,
	 "Configuration file (default " RELAY_DEFAULT_CONFIG_PATH ")",
	 "FILE"},
	{NULL},
};

static const GOptionEntry serve_entries[] = {
	{"verbose",
	 'v',
	 0,
	 G_OPTION_ARG_NONE,
	 &verbose,
	 "Log one line per request and delivery (info level)",
	 NULL},
	{NULL},
};

static GOptionContext *
relay_command_context(const RelayCommand *command)
{
	g_autofree gchar *parameter = NULL;
	GOptionContext *context;

	parameter = g_strdup_printf("%s%s%s",
				    command->name,
				    command->parameters[0] != '\0' ? " " : "",
				    command->parameters);
	context = g_option_context_new(parameter);
	g_option_context_set_summary(context, command->summary);
	g_option_context_set_description(context, command->description);
	if (command->run != relay_command_help)
		g_option_context_add_main_entries(context, config_entries, NULL);
	if (command->run == relay_command_serve)
		g_option_context_add_main_entries(context, serve_entries, NULL);
	return context;
}

/* parses the options of @command; prints the problem and returns FALSE on bad usage */
static gboolean
relay_command_parse(const RelayCommand *command, gint *argc, gchar ***argv)
{
	g_autoptr(GOptionContext) context = relay_command_context(command);
	g_autoptr(GError) error = NULL;

	if (!g_option_context_parse(context, argc, argv, &error)) {
		g_printerr("relay %s: %s\nTry 'relay help %s'.\n",
			   command->name,
			   error->message,
			   command->name);
		return FALSE;
	}
	return TRUE;
}

static const gchar *
relay_config_path(void)
{
	return config_path != NULL ? config_path : RELAY_DEFAULT_CONFIG_PATH;
}

/* loads the configuration; prints every warning, and the error, to stderr */
static RelayConfig *
relay_load_config(void)
{
	g_autoptr(GPtrArray) warnings = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayConfig) config = NULL;

	config = relay_config_new_from_file(relay_config_path(), &warnings, &error);
	for (guint i = 0; warnings != NULL && i < warnings->len; i++)
		g_printerr("relay: warning: %s\n", (const gchar *)g_ptr_array_index(warnings, i));
	if (config == NULL) {
		g_printerr("relay: %s\n", error->message);
		return NULL;
	}
	return g_steal_pointer(&config);
}

static gint
relay_command_serve(gint argc, gchar **argv)
{
	g_autoptr(RelayConfig) config = NULL;
	g_autoptr(RelayDaemon) daemon = NULL;
	g_autoptr(GError) error = NULL;

	if (!relay_command_parse(relay_command_lookup("serve"), &argc, &argv))
		return 2;
	if (argc > 1) {
		g_printerr("relay serve: unexpected argument '%s'\n", argv[1]);
		return 2;
	}
	config = relay_load_config();
	if (config == NULL)
		return 1;
	daemon = relay_daemon_new(config, verbose);
	if (!relay_daemon_start(daemon, &error)) {
		g_printerr("relay: %s\n", error->message);
		return 1;
	}
	return relay_daemon_run(daemon);
}

static gint
relay_command_check_config(gint argc, gchar **argv)
{
	g_autoptr(RelayConfig) config = NULL;
	g_autoptr(GString) networks = g_string_new(NULL);
	GPtrArray *network_list;
	g_autofree gchar *listen = NULL;

	if (!relay_command_parse(relay_command_lookup("check-config"), &argc, &argv))
		return 2;
	if (argc > 1) {
		g_printerr("relay check-config: unexpected argument '%s'\n", argv[1]);
		return 2;
	}
	config = relay_load_config();
	if (config == NULL)
		return 1;
	network_list = relay_config_get_networks(config);
	for (guint i = 0; i < network_list->len; i++) {
		const RelayNetworkConfig *network = g_ptr_array_index(network_list, i);
		g_string_append_printf(networks,
				       "%s%s (%s)",
				       i > 0 ? ", " : "",
				       network->name,
				       relay_join_policy_to_string(network->join));
	}
	listen = g_strjoinv(", ", (gchar **)relay_config_get_listen(config));
	g_print("%s: OK\n", relay_config_path());
	g_print("  public url: %s\n", relay_config_get_public_url(config));
	g_print("  listen:     %s\n", listen);
	g_print("  storage:    %s at %s\n",
		relay_config_get_storage_backend(config),
		relay_config_get_storage_path(config));
	g_print("  networks:   %s\n", networks->str);
	g_print("  admin:      %s\n",
		relay_config_get_admin_socket(config)[0] != '\0'
			? relay_config_get_admin_socket(config)
			: "off ([admin] socket is empty)");
	return 0;
}

static void
relay_print_commands(void)
{
	g_print("Usage:\n  relay COMMAND [OPTION…]\n\nCommands:\n");
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
		g_print("  %-14s %s\n", commands[i].name, commands[i].summary);
	relay_cli_print_commands();
	g_print("\nOptions:\n"
		"  -h, --help     Show this help\n"
		"  --version      Show the version\n"
		"\nRun 'relay help COMMAND' for the options of one command.\n");
}

static gint
relay_command_help(gint argc, gchar **argv)
{
	const RelayCommand *command;
	g_autoptr(GOptionContext) context = NULL;
	g_autofree gchar *help = NULL;

	if (argc < 2) {
		relay_print_commands();
		return 0;
	}
	command = relay_command_lookup(argv[1]);
	if (command == NULL) {
		gint status = relay_cli_help(argc - 1, argv + 1);
		if (status >= 0)
			return status;
		g_printerr("relay: unknown command '%s'\nTry 'relay help'.\n", argv[1]);
		return 2;
	}
	context = relay_command_context(command);
	help = g_option_context_get_help(context, FALSE, NULL);
	g_print("%s", help);
	return 0;
}

int
main(int argc, char **argv)
{
	const RelayCommand *command;

	setlocale(LC_ALL, "");
	/* the usage lines of `relay help COMMAND` start with it */
	g_set_prgname("relay");
	relay_log_setup(G_LOG_LEVEL_MESSAGE);
	/* OpenSSL frees its global state from an atexit() handler, while threads of GLib's
	 * pools may still be parked or ending: `relay serve` crashed now and then on its way out,
	 * after a clean stop (SIGSEGV in libcrypto's exit-time cleanup, seen in the kernel log of
	 * a test run). The system reclaims that memory anyway */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
	/* libxml2 must be initialised once, before any thread uses it */
	xmlInitParser();

	if (argc < 2 || g_strcmp0(argv[1], "--help") == 0 || g_strcmp0(argv[1], "-h") == 0) {
		relay_print_commands();
		return argc < 2 ? 2 : 0;
	}
	if (g_strcmp0(argv[1], "--version") == 0 || g_strcmp0(argv[1], "version") == 0) {
		g_print("relay %s\n", PACKAGE_VERSION);
		return 0;
	}
	command = relay_command_lookup(argv[1]);
	if (command == NULL) {
		/* an admin command: relay status, relay members list, ... */
		gint status = relay_cli_main(argc - 1, argv + 1);
		if (status >= 0)
			return status;
		g_printerr("relay: unknown command '%s'\nTry 'relay help'.\n", argv[1]);
		return 2;
	}
	/* the command sees itself as argv[0] */
	return command->run(argc - 1, argv + 1);
}
