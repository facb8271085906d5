/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#include "config.h"

#include <libsoup/soup.h>
#include <signal.h>

#include "relay-test-node.h"
#include "relay-test-utils.h"

#define RELAY_TEST_NODE_WAIT_MS 20000

static void
relay_test_node_stderr_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	RelayTestNode *self = user_data;
	g_autofree gchar *line = g_data_input_stream_read_line_finish_utf8(
		G_DATA_INPUT_STREAM(source), res, NULL, NULL);

	if (line == NULL) {
		self->stderr_closed = TRUE;
		return;
	}
	if (g_test_verbose())
		g_printerr("  %s| %s\n", self->address, line);
	g_string_append_printf(self->log, "%s\n", line);
	g_data_input_stream_read_line_async(
		self->stderr_stream, G_PRIORITY_DEFAULT, NULL, relay_test_node_stderr_cb, self);
}

static void
relay_test_node_exited_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	RelayTestNode *self = user_data;
	g_subprocess_wait_finish(G_SUBPROCESS(source), res, NULL);
	self->exited = TRUE;
}

static gboolean
relay_test_node_answers(gpointer user_data)
{
	RelayTestNode *self = user_data;
	g_autoptr(SoupSession) session = soup_session_new_with_options("timeout", 1, NULL);
	g_autofree gchar *url = g_strdup_printf("%s/healthz", self->origin);
	g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
	g_autoptr(GBytes) body = NULL;

	if (self->exited)
		return TRUE;
	body = soup_session_send_and_read(session, msg, NULL, NULL);
	return body != NULL && soup_message_get_status(msg) == 200;
}

/**
 * relay_test_node_new:
 * @address: the loopback address it listens on (127.0.0.N)
 * @extra_config: (nullable): more configuration, appended (whole groups)
 *
 * Returns: (transfer full): a node, not started; its [admin] socket is in its directory
 */
RelayTestNode *
relay_test_node_new(const gchar *address, const gchar *extra_config)
{
	RelayTestNode *self = g_new0(RelayTestNode, 1);
	g_autofree gchar *text = NULL;
	g_autoptr(GError) error = NULL;

	self->dir = relay_test_mkdtemp();
	self->config_path = g_build_filename(self->dir, "relay.conf", NULL);
	self->address = g_strdup(address);
	self->port = relay_test_free_port();
	self->origin = g_strdup_printf("http://%s:%u", address, self->port);
	self->inbox = g_strdup_printf("%s/inbox", self->origin);
	self->log = g_string_new(NULL);
	text = g_strdup_printf("[relay]\npublic-url = %s\nlisten = %s:%u\n"
			       "[storage]\nbackend = sqlite\npath = relay.db\n"
			       "[federation]\nallow-private-addresses = true\n"
			       "[delivery]\nretry-base = 1\n"
			       "[admin]\nsocket = admin.sock\n%s",
			       self->origin,
			       address,
			       self->port,
			       extra_config != NULL ? extra_config : "");
	g_file_set_contents(self->config_path, text, -1, &error);
	g_assert_no_error(error);
	return self;
}

/**
 * relay_test_node_start:
 *
 * Starts the node and waits until /healthz answers.
 */
void
relay_test_node_start(RelayTestNode *self)
{
	g_autoptr(GError) error = NULL;
	const gchar *argv[] = {
		g_getenv("RELAY_BINARY"), "serve", "-c", self->config_path, "--verbose", NULL};

	self->exited = FALSE;
	self->stderr_closed = FALSE;
	self->process = relay_test_spawn(G_SUBPROCESS_FLAGS_STDERR_PIPE, argv, &error);
	g_assert_no_error(error);
	self->stderr_stream = g_data_input_stream_new(g_subprocess_get_stderr_pipe(self->process));
	g_data_input_stream_read_line_async(
		self->stderr_stream, G_PRIORITY_DEFAULT, NULL, relay_test_node_stderr_cb, self);
	g_subprocess_wait_async(self->process, NULL, relay_test_node_exited_cb, self);
	g_assert_true(relay_test_wait_until(
		NULL, relay_test_node_answers, self, RELAY_TEST_NODE_WAIT_MS));
	if (self->exited)
		g_error("the relay on %s did not start:\n%s", self->address, self->log->str);
}

static gboolean
relay_test_node_gone(gpointer user_data)
{
	RelayTestNode *self = user_data;
	return self->exited && self->stderr_closed;
}

/**
 * relay_test_node_stop:
 *
 * Stops the node with SIGTERM; it must exit 0.
 */
void
relay_test_node_stop(RelayTestNode *self)
{
	if (self->process == NULL)
		return;
	g_subprocess_send_signal(self->process, SIGTERM);
	g_assert_true(
		relay_test_wait_until(NULL, relay_test_node_gone, self, RELAY_TEST_NODE_WAIT_MS));
	g_assert_true(g_subprocess_get_if_exited(self->process));
	g_assert_cmpint(g_subprocess_get_exit_status(self->process), ==, 0);
	g_clear_object(&self->stderr_stream);
	g_clear_object(&self->process);
}

void
relay_test_node_free(RelayTestNode *self)
{
	if (self == NULL)
		return;
	relay_test_node_stop(self);
	relay_test_rmdir(self->dir);
	g_free(self->dir);
	g_free(self->config_path);
	g_free(self->address);
	g_free(self->origin);
	g_free(self->inbox);
	g_string_free(self->log, TRUE);
	g_free(self);
}

typedef struct {
	RelayTestNode *node;
	const gchar *needle;
} RelayTestNodeLogWait;

static gboolean
relay_test_node_logged(gpointer user_data)
{
	RelayTestNodeLogWait *wait = user_data;
	return strstr(wait->node->log->str, wait->needle) != NULL;
}

gboolean
relay_test_node_wait_log(RelayTestNode *self, const gchar *needle, guint timeout_ms)
{
	RelayTestNodeLogWait wait = {self, needle};
	return relay_test_wait_until(NULL, relay_test_node_logged, &wait, timeout_ms);
}

/* running the `relay` command */

static void
relay_test_cli_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	RelayTestCli *cli = user_data;
	g_autoptr(GError) error = NULL;

	g_subprocess_communicate_utf8_finish(
		G_SUBPROCESS(source), res, &cli->out, &cli->err, &error);
	g_assert_no_error(error);
	cli->status = g_subprocess_get_exit_status(G_SUBPROCESS(source));
	cli->done = TRUE;
}

static gboolean
relay_test_cli_finished(gpointer user_data)
{
	return ((RelayTestCli *)user_data)->done;
}

/**
 * relay_test_cli_run:
 * @input: (nullable): what the command reads on its standard input
 * @args: (element-type utf8): the arguments after `relay`
 *
 * Runs `relay ARGS...`; the main loop runs meanwhile, so fake instances answer the relay.
 *
 * Returns: (transfer full): what it did
 */
RelayTestCli *
relay_test_cli_run(const gchar *input, GPtrArray *args)
{
	RelayTestCli *cli = g_new0(RelayTestCli, 1);
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GSubprocess) process = NULL;
	g_autoptr(GError) error = NULL;

	g_ptr_array_add(argv, (gpointer)g_getenv("RELAY_BINARY"));
	for (guint i = 0; i < args->len; i++)
		g_ptr_array_add(argv, g_ptr_array_index(args, i));
	g_ptr_array_add(argv, NULL);
	process = relay_test_spawn(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
					   G_SUBPROCESS_FLAGS_STDERR_PIPE,
				   (const gchar *const *)argv->pdata,
				   &error);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8_async(
		process, input != NULL ? input : "", NULL, relay_test_cli_done_cb, cli);
	g_assert_true(relay_test_wait_until(NULL, relay_test_cli_finished, cli, 60000));
	if (g_test_verbose())
		g_printerr("  $ relay %s → %d\n%s%s",
			   args->len > 0 ? (const gchar *)g_ptr_array_index(args, 0) : "",
			   cli->status,
			   cli->out,
			   cli->err);
	return cli;
}

/**
 * relay_test_node_cli_argv:
 * @words: (array zero-terminated=1): the command's words and options
 *
 * Returns: (transfer full): what `relay WORDS... -c CONFIG` did
 */
RelayTestCli *
relay_test_node_cli_argv(RelayTestNode *self, const gchar *const *words)
{
	g_autoptr(GPtrArray) args = g_ptr_array_new();

	for (guint i = 0; words[i] != NULL; i++)
		g_ptr_array_add(args, (gpointer)words[i]);
	g_ptr_array_add(args, (gpointer) "-c");
	g_ptr_array_add(args, self->config_path);
	return relay_test_cli_run(NULL, args);
}

/* the words of a %NULL-terminated argument list, %NULL-terminated */
static GPtrArray *
relay_test_words(const gchar *first, va_list ap)
{
	GPtrArray *words = g_ptr_array_new();

	for (const gchar *arg = first; arg != NULL; arg = va_arg(ap, const gchar *))
		g_ptr_array_add(words, (gpointer)arg);
	g_ptr_array_add(words, NULL);
	return words;
}

/**
 * relay_test_node_cli:
 * @first: the first word of the command, then the others, %NULL-terminated
 *
 * Returns: (transfer full): what `relay WORDS... -c CONFIG` did
 */
RelayTestCli *
relay_test_node_cli(RelayTestNode *self, const gchar *first, ...)
{
	g_autoptr(GPtrArray) words = NULL;
	va_list ap;

	va_start(ap, first);
	words = relay_test_words(first, ap);
	va_end(ap);
	return relay_test_node_cli_argv(self, (const gchar *const *)words->pdata);
}

/**
 * relay_test_node_run_ok:
 * @first: the first word of the command, then the others, %NULL-terminated
 *
 * Runs `relay WORDS... -c CONFIG`, which must succeed.
 */
void
relay_test_node_run_ok(RelayTestNode *self, const gchar *first, ...)
{
	g_autoptr(GPtrArray) words = NULL;
	g_autoptr(RelayTestCli) cli = NULL;
	va_list ap;

	va_start(ap, first);
	words = relay_test_words(first, ap);
	va_end(ap);
	cli = relay_test_node_cli_argv(self, (const gchar *const *)words->pdata);
	relay_test_cli_assert_ok(cli);
}

/* fails the test, showing what the command said, unless it exited 0 */
void
relay_test_cli_assert_ok(RelayTestCli *cli)
{
	if (cli->status != 0)
		g_error("relay exited with %d: %s%s", cli->status, cli->out, cli->err);
}

/**
 * relay_test_cli_data:
 *
 * Returns: (transfer full): the data of a --json answer, which must be a success
 */
JsonNode *
relay_test_cli_data(RelayTestCli *cli)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	JsonObject *root;

	relay_test_cli_assert_ok(cli);
	json_parser_load_from_data(parser, cli->out, -1, &error);
	g_assert_no_error(error);
	root = json_node_get_object(json_parser_get_root(parser));
	g_assert_true(json_object_get_boolean_member(root, "ok"));
	return json_node_copy(json_object_get_member(root, "data"));
}

void
relay_test_cli_free(RelayTestCli *cli)
{
	if (cli == NULL)
		return;
	g_free(cli->out);
	g_free(cli->err);
	g_free(cli);
}
