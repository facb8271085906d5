/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * The sd_notify protocol as systemd sees it: the test plays the service manager, binds the
 * datagram socket that NOTIFY_SOCKET names (a path, or an abstract '@' name), starts the relay
 * binary and reads what it says at start, on SIGHUP and on SIGTERM. The relay's log goes to the
 * test's standard error, which meson keeps in the test log.
 */

#include "config.h"

#include <gio/gunixsocketaddress.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <time.h>

#include "relay-error.h"
#include "relay-sd-notify.h"
#include "relay-test-utils.h"

#define NOTIFY_TIMEOUT_MS 20000

typedef struct {
	gchar *dir;
	gchar *config_path;
	gchar *socket_name; /* what NOTIFY_SOCKET says */
	guint16 port;
	GSocket *socket;
	GPtrArray *messages; /* (element-type utf8): every datagram received, in order */
	GSubprocess *relay;
	gboolean exited;
} NotifyFixture;

/* takes every datagram waiting on the socket */
static void
notify_fixture_drain(NotifyFixture *fixture)
{
	gchar buffer[4096];

	for (;;) {
		g_autoptr(GError) error = NULL;
		gssize received =
			g_socket_receive(fixture->socket, buffer, sizeof(buffer), NULL, &error);
		if (received < 0) {
			g_assert_error(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
			return;
		}
		g_ptr_array_add(fixture->messages, g_strndup(buffer, (gsize)received));
		if (g_test_verbose())
			g_printerr("  notify| %s\n",
				   (const gchar *)g_ptr_array_index(fixture->messages,
								    fixture->messages->len - 1));
	}
}

typedef struct {
	NotifyFixture *fixture;
	guint count;
} NotifyWait;

static gboolean
notify_fixture_has(gpointer user_data)
{
	NotifyWait *wait = user_data;
	notify_fixture_drain(wait->fixture);
	return wait->fixture->messages->len >= wait->count || wait->fixture->exited;
}

/* waits for the datagram number @index (from 0) and returns it */
static const gchar *
notify_fixture_expect(NotifyFixture *fixture, guint index)
{
	NotifyWait wait = {fixture, index + 1};

	relay_test_wait_until(NULL, notify_fixture_has, &wait, NOTIFY_TIMEOUT_MS);
	if (fixture->messages->len <= index)
		g_error("expected notification %u from relay, got %u%s",
			index + 1,
			fixture->messages->len,
			fixture->exited ? " before it exited" : "");
	return g_ptr_array_index(fixture->messages, index);
}

/* the value of KEY in one notification, or NULL */
static gchar *
notify_value(const gchar *message, const gchar *key)
{
	g_auto(GStrv) lines = g_strsplit(message, "\n", -1);
	g_autofree gchar *prefix = g_strdup_printf("%s=", key);

	for (guint i = 0; lines[i] != NULL; i++) {
		if (g_str_has_prefix(lines[i], prefix))
			return g_strdup(lines[i] + strlen(prefix));
	}
	return NULL;
}

static void
notify_fixture_bind(NotifyFixture *fixture, gboolean abstract)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocketAddress) address = NULL;

	if (abstract) {
		g_autofree gchar *name = g_strdup_printf(
			"relay-test-notify-%d-%08x", (gint)getpid(), g_random_int());
		fixture->socket_name = g_strdup_printf("@%s", name);
		address = g_unix_socket_address_new_with_type(
			name, -1, G_UNIX_SOCKET_ADDRESS_ABSTRACT);
	} else {
		fixture->socket_name = g_build_filename(fixture->dir, "notify.sock", NULL);
		address = g_unix_socket_address_new(fixture->socket_name);
	}
	fixture->socket = g_socket_new(
		G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_DEFAULT, &error);
	g_assert_no_error(error);
	g_socket_bind(fixture->socket, address, FALSE, &error);
	g_assert_no_error(error);
	g_socket_set_blocking(fixture->socket, FALSE);
}

static void
notify_fixture_write_config(NotifyFixture *fixture, const gchar *extra)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *text = g_strdup_printf("[relay]\n"
						 "public-url = https://relay.example\n"
						 "listen = 127.0.0.1:%u\n"
						 "[storage]\n"
						 "path = data/relay.db\n"
						 "[admin]\n"
						 "socket = admin.sock\n"
						 "%s",
						 fixture->port,
						 extra != NULL ? extra : "");
	g_file_set_contents(fixture->config_path, text, -1, &error);
	g_assert_no_error(error);
}

static void
notify_fixture_setup(NotifyFixture *fixture, gconstpointer user_data)
{
	fixture->dir = relay_test_mkdtemp();
	fixture->config_path = g_build_filename(fixture->dir, "relay.conf", NULL);
	fixture->port = relay_test_free_port();
	fixture->messages = g_ptr_array_new_with_free_func(g_free);
	notify_fixture_bind(fixture, GPOINTER_TO_INT(user_data));
	notify_fixture_write_config(fixture, NULL);
}

static gboolean
notify_fixture_exited(gpointer user_data)
{
	return ((NotifyFixture *)user_data)->exited;
}

static void
notify_fixture_teardown(NotifyFixture *fixture, gconstpointer user_data)
{
	if (fixture->relay != NULL) {
		if (!fixture->exited) {
			g_subprocess_force_exit(fixture->relay);
			relay_test_wait_until(NULL, notify_fixture_exited, fixture, 10000);
		}
		g_clear_object(&fixture->relay);
	}
	g_clear_object(&fixture->socket);
	g_clear_pointer(&fixture->messages, g_ptr_array_unref);
	relay_test_rmdir(fixture->dir);
	g_free(fixture->dir);
	g_free(fixture->config_path);
	g_free(fixture->socket_name);
}

static void
notify_fixture_wait_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	NotifyFixture *fixture = user_data;
	g_subprocess_wait_finish(G_SUBPROCESS(source), res, NULL);
	fixture->exited = TRUE;
}

/* `relay serve` with NOTIFY_SOCKET set; its log goes to our stderr, its stdout nowhere */
static void
notify_fixture_start(NotifyFixture *fixture)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *variable = g_strdup_printf("NOTIFY_SOCKET=%s", fixture->socket_name);
	const gchar *env[] = {variable, NULL};
	const gchar *argv[] = {g_getenv("RELAY_BINARY"), "serve", "-c", fixture->config_path, NULL};

	g_assert_nonnull(argv[0]);
	fixture->relay =
		relay_test_spawn_with_env(G_SUBPROCESS_FLAGS_STDOUT_SILENCE, argv, env, &error);
	g_assert_no_error(error);
	g_subprocess_wait_async(fixture->relay, NULL, notify_fixture_wait_cb, fixture);
}

/* a blocking GET: the relay is another process, so the test may block */
static guint
notify_fixture_healthz(NotifyFixture *fixture)
{
	g_autoptr(SoupSession) session = soup_session_new_with_options("timeout", 10, NULL);
	g_autofree gchar *url = g_strdup_printf("http://127.0.0.1:%u/healthz", fixture->port);
	g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GError) error = NULL;

	body = soup_session_send_and_read(session, msg, NULL, &error);
	if (error != NULL)
		return 0;
	return soup_message_get_status(msg);
}

static gint64
monotonic_usec(void)
{
	struct timespec now;
	g_assert_cmpint(clock_gettime(CLOCK_MONOTONIC, &now), ==, 0);
	return (gint64)now.tv_sec * G_USEC_PER_SEC + now.tv_nsec / 1000;
}

/* RELOADING=1 whose MONOTONIC_USEC= lies between @before_us and now */
static void
assert_reloading(const gchar *message, gint64 before_us)
{
	g_autofree gchar *reloading = notify_value(message, "RELOADING");
	g_autofree gchar *usec_text = notify_value(message, "MONOTONIC_USEC");
	guint64 usec = 0;
	g_autoptr(GError) error = NULL;

	g_assert_cmpstr(reloading, ==, "1");
	g_assert_nonnull(usec_text);
	g_ascii_string_to_unsigned(usec_text, 10, 1, G_MAXINT64, &usec, &error);
	g_assert_no_error(error);
	g_assert_cmpint((gint64)usec, >=, before_us);
	g_assert_cmpint((gint64)usec, <=, monotonic_usec());
	g_assert_null(notify_value(message, "READY"));
}

static void
assert_ready(const gchar *message)
{
	g_autofree gchar *ready = notify_value(message, "READY");
	g_autofree gchar *status = notify_value(message, "STATUS");

	g_assert_cmpstr(ready, ==, "1");
	g_assert_nonnull(status);
	g_assert_nonnull(strstr(status, "https://relay.example"));
}

static void
test_notify_lifecycle(NotifyFixture *fixture, gconstpointer user_data)
{
	const gchar *message;
	g_autofree gchar *main_pid = NULL;
	g_autofree gchar *status = NULL;
	g_autofree gchar *stopping = NULL;
	g_autofree gchar *expected_listen = NULL;
	gint64 before_us;

	notify_fixture_start(fixture);

	/* the first word is READY=1, and by then storage is open and /healthz answers at once */
	message = notify_fixture_expect(fixture, 0);
	g_assert_cmpuint(notify_fixture_healthz(fixture), ==, 200);
	assert_ready(message);
	main_pid = notify_value(message, "MAINPID");
	g_assert_cmpstr(main_pid, ==, g_subprocess_get_identifier(fixture->relay));
	status = notify_value(message, "STATUS");
	expected_listen = g_strdup_printf("127.0.0.1:%u", fixture->port);
	g_assert_nonnull(strstr(status, expected_listen));
	{
		g_autofree gchar *db = g_build_filename(fixture->dir, "data", "relay.db", NULL);
		g_assert_true(g_file_test(db, G_FILE_TEST_EXISTS));
	}

	/* SIGHUP: RELOADING=1 with the monotonic clock, then READY=1 */
	before_us = monotonic_usec();
	g_subprocess_send_signal(fixture->relay, SIGHUP);
	assert_reloading(notify_fixture_expect(fixture, 1), before_us);
	assert_ready(notify_fixture_expect(fixture, 2));
	g_assert_cmpuint(notify_fixture_healthz(fixture), ==, 200);

	/* a refused reload ends with READY=1 too, and says so */
	notify_fixture_write_config(fixture, "[log]\nlevel = chatty\n");
	before_us = monotonic_usec();
	g_subprocess_send_signal(fixture->relay, SIGHUP);
	assert_reloading(notify_fixture_expect(fixture, 3), before_us);
	message = notify_fixture_expect(fixture, 4);
	assert_ready(message);
	g_clear_pointer(&status, g_free);
	status = notify_value(message, "STATUS");
	g_assert_nonnull(strstr(status, "reload refused"));
	g_assert_nonnull(strstr(status, "[log] level"));
	g_assert_cmpuint(notify_fixture_healthz(fixture), ==, 200);

	/* SIGTERM: STOPPING=1, then the exit, and nothing after */
	g_subprocess_send_signal(fixture->relay, SIGTERM);
	message = notify_fixture_expect(fixture, 5);
	stopping = notify_value(message, "STOPPING");
	g_assert_cmpstr(stopping, ==, "1");
	g_assert_true(relay_test_wait_until(NULL, notify_fixture_exited, fixture, 15000));
	g_assert_true(g_subprocess_get_if_exited(fixture->relay));
	g_assert_cmpint(g_subprocess_get_exit_status(fixture->relay), ==, 0);
	notify_fixture_drain(fixture);
	g_assert_cmpuint(fixture->messages->len, ==, 6);
}

/* a node that cannot start says nothing: the service manager sees the exit */
static void
test_notify_start_failure(NotifyFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;

	g_file_set_contents(fixture->config_path, "[relay]\nlisten = 127.0.0.1:1\n", -1, &error);
	g_assert_no_error(error);
	notify_fixture_start(fixture);
	g_assert_true(relay_test_wait_until(NULL, notify_fixture_exited, fixture, 15000));
	g_assert_cmpint(g_subprocess_get_exit_status(fixture->relay), ==, 1);
	notify_fixture_drain(fixture);
	g_assert_cmpuint(fixture->messages->len, ==, 0);
}

/* the client alone: what NOTIFY_SOCKET may name, and nothing sent without it */
static void
test_notify_client(NotifyFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *long_name = g_strnfill(200, 'x');
	g_autofree gchar *long_path = g_strdup_printf("/%s", long_name);
	g_autofree gchar *long_abstract = g_strdup_printf("@%s", long_name);
	g_autofree gchar *missing = g_build_filename(fixture->dir, "missing.sock", NULL);
	const gchar *refused[] = {"relative.sock", "@", long_path, long_abstract, ""};

	g_assert_true(relay_sd_notify_to(fixture->socket_name, "READY=1\nSTATUS=hello", &error));
	g_assert_no_error(error);
	g_assert_cmpstr(notify_fixture_expect(fixture, 0), ==, "READY=1\nSTATUS=hello");

	for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
		g_assert_false(relay_sd_notify_to(refused[i], "READY=1", &error));
		g_assert_error(error, RELAY_ERROR, RELAY_ERROR_INVALID_ARGUMENT);
		g_clear_error(&error);
	}
	g_assert_false(relay_sd_notify_to(missing, "READY=1", &error));
	g_assert_nonnull(error);
	g_assert_nonnull(strstr(error->message, missing));
	g_clear_error(&error);

	/* without NOTIFY_SOCKET: success, and nothing sent */
	g_assert_false(relay_sd_notify_enabled());
	g_assert_true(relay_sd_notify("READY=1", &error));
	g_assert_no_error(error);
	notify_fixture_drain(fixture);
	g_assert_cmpuint(fixture->messages->len, ==, 1);
}

int
main(int argc, char **argv)
{
	/* this process plays the service manager: it is not run by one */
	g_unsetenv("NOTIFY_SOCKET");
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add("/relay/notify/path",
		   NotifyFixture,
		   GINT_TO_POINTER(FALSE),
		   notify_fixture_setup,
		   test_notify_lifecycle,
		   notify_fixture_teardown);
	g_test_add("/relay/notify/abstract",
		   NotifyFixture,
		   GINT_TO_POINTER(TRUE),
		   notify_fixture_setup,
		   test_notify_lifecycle,
		   notify_fixture_teardown);
	g_test_add("/relay/notify/start-failure",
		   NotifyFixture,
		   GINT_TO_POINTER(FALSE),
		   notify_fixture_setup,
		   test_notify_start_failure,
		   notify_fixture_teardown);
	g_test_add("/relay/notify/client/path",
		   NotifyFixture,
		   GINT_TO_POINTER(FALSE),
		   notify_fixture_setup,
		   test_notify_client,
		   notify_fixture_teardown);
	g_test_add("/relay/notify/client/abstract",
		   NotifyFixture,
		   GINT_TO_POINTER(TRUE),
		   notify_fixture_setup,
		   test_notify_client,
		   notify_fixture_teardown);
	return g_test_run();
}
