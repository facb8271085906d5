/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/*
 * A relay node run as operators run it: the `relay` binary ($RELAY_BINARY) serving a
 * configuration of its own in a temporary directory, on one loopback address, with its admin
 * socket there too; its log is kept, and the admin commands run against it.
 */
typedef struct {
	gchar *dir;
	gchar *config_path;
	gchar *address;
	guint16 port;
	gchar *origin; /* http://ADDRESS:PORT */
	gchar *inbox;  /* the default network's */
	GSubprocess *process;
	GDataInputStream *stderr_stream;
	GString *log;
	gboolean stderr_closed;
	gboolean exited;
} RelayTestNode;

/* what `relay COMMAND ... -c CONFIG` did */
typedef struct {
	gint status;
	gchar *out;
	gchar *err;
	gboolean done;
} RelayTestCli;

RelayTestNode *
relay_test_node_new(const gchar *address, const gchar *extra_config);
void
relay_test_node_free(RelayTestNode *self);
void
relay_test_node_start(RelayTestNode *self);
void
relay_test_node_stop(RelayTestNode *self);
RelayTestCli *
relay_test_cli_run(const gchar *input, GPtrArray *args);
RelayTestCli *
relay_test_node_cli_argv(RelayTestNode *self, const gchar *const *words);
RelayTestCli *
relay_test_node_cli(RelayTestNode *self, const gchar *first, ...) G_GNUC_NULL_TERMINATED;
void
relay_test_node_run_ok(RelayTestNode *self, const gchar *first, ...) G_GNUC_NULL_TERMINATED;
void
relay_test_cli_assert_ok(RelayTestCli *cli);
JsonNode *
relay_test_cli_data(RelayTestCli *cli);
void
relay_test_cli_free(RelayTestCli *cli);
/* waits until the node's log has a line containing @needle; FALSE at the deadline */
gboolean
relay_test_node_wait_log(RelayTestNode *self, const gchar *needle, guint timeout_ms);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayTestNode, relay_test_node_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayTestCli, relay_test_cli_free)

G_END_DECLS
