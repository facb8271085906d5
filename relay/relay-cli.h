/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RELAY_DEFAULT_CONFIG_PATH "/etc/relay/relay.conf"

/* the exit statuses of the admin commands, which scripts may rely on */
typedef enum {
	RELAY_CLI_EXIT_OK = 0,
	RELAY_CLI_EXIT_REFUSED = 1,	/* the node said no: not found, invalid, ... */
	RELAY_CLI_EXIT_USAGE = 2,	/* the command line (or the file it names) is wrong */
	RELAY_CLI_EXIT_NOT_RUNNING = 3, /* no node answers on the admin socket */
} RelayCliExit;

gint
relay_cli_main(gint argc, gchar **argv);
gint
relay_cli_help(gint argc, gchar **argv);
void
relay_cli_print_commands(void);

G_END_DECLS
