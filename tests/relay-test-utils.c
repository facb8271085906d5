/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/prctl.h>

#include "relay-test-utils.h"

typedef struct {
	gboolean expired;
} RelayTestDeadline;

static gboolean
relay_test_deadline_cb(gpointer user_data)
{
	RelayTestDeadline *deadline = user_data;
	deadline->expired = TRUE;
	return G_SOURCE_REMOVE;
}

static gboolean
relay_test_tick_cb(gpointer user_data)
{
	return G_SOURCE_CONTINUE;
}

/* the predicate is checked after every event, and at least every 10 ms: some predicates look
 * at things outside this process (another process's files or sockets) that raise no event */
gboolean
relay_test_wait_until(GMainContext *context,
		      RelayTestPredicate predicate,
		      gpointer user_data,
		      guint timeout_ms)
{
	RelayTestDeadline deadline = {FALSE};
	g_autoptr(GSource) source = g_timeout_source_new(timeout_ms);
	g_autoptr(GSource) tick = g_timeout_source_new(10);
	gboolean ok;

	if (context == NULL)
		context = g_main_context_get_thread_default();
	if (context == NULL)
		context = g_main_context_default();
	g_source_set_callback(source, relay_test_deadline_cb, &deadline, NULL);
	g_source_attach(source, context);
	g_source_set_callback(tick, relay_test_tick_cb, NULL, NULL);
	g_source_attach(tick, context);
	while (!(ok = predicate(user_data)) && !deadline.expired)
		g_main_context_iteration(context, TRUE);
	g_source_destroy(tick);
	g_source_destroy(source);
	return ok;
}

gchar *
relay_test_mkdtemp(void)
{
	g_autoptr(GError) error = NULL;
	gchar *path = g_dir_make_tmp("relay-test-XXXXXX", &error);
	g_assert_no_error(error);
	return path;
}

void
relay_test_rmdir(const gchar *path)
{
	g_autoptr(GFile) dir = NULL;
	g_autoptr(GFileEnumerator) enumerator = NULL;

	if (path == NULL)
		return;
	dir = g_file_new_for_path(path);
	enumerator = g_file_enumerate_children(dir,
					       G_FILE_ATTRIBUTE_STANDARD_NAME
					       "," G_FILE_ATTRIBUTE_STANDARD_TYPE,
					       G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
					       NULL,
					       NULL);
	while (enumerator != NULL) {
		GFileInfo *info = g_file_enumerator_next_file(enumerator, NULL, NULL);
		g_autofree gchar *child = NULL;
		if (info == NULL)
			break;
		child = g_build_filename(path, g_file_info_get_name(info), NULL);
		if (g_file_info_get_file_type(info) == G_FILE_TYPE_DIRECTORY)
			relay_test_rmdir(child);
		else
			g_unlink(child);
		g_object_unref(info);
	}
	g_rmdir(path);
}

gchar *
relay_test_source_path(const gchar *relative)
{
	const gchar *root = g_getenv("RELAY_SOURCE_ROOT");
	g_assert_nonnull(root);
	return g_build_filename(root, relative, NULL);
}

static void
relay_test_child_setup(gpointer user_data)
{
	/* a failed assertion aborts the test: its relay must not live on holding a port */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

GSubprocess *
relay_test_spawn(GSubprocessFlags flags, const gchar *const *argv, GError **error)
{
	return relay_test_spawn_with_env(flags, argv, NULL, error);
}

GSubprocess *
relay_test_spawn_with_env(GSubprocessFlags flags,
			  const gchar *const *argv,
			  const gchar *const *env,
			  GError **error)
{
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(flags);

	for (guint i = 0; env != NULL && env[i] != NULL; i++) {
		g_auto(GStrv) pair = g_strsplit(env[i], "=", 2);
		g_assert_cmpuint(g_strv_length(pair), ==, 2);
		g_subprocess_launcher_setenv(launcher, pair[0], pair[1], TRUE);
	}
	return relay_test_spawn_with(launcher, argv, error);
}

/* the same with a launcher of the caller's (its environment, say) */
GSubprocess *
relay_test_spawn_with(GSubprocessLauncher *launcher, const gchar *const *argv, GError **error)
{
	g_subprocess_launcher_set_child_setup(launcher, relay_test_child_setup, NULL, NULL);
	return g_subprocess_launcher_spawnv(launcher, argv, error);
}

guint16
relay_test_free_port(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocket) socket = NULL;
	g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) any = g_inet_socket_address_new(loopback, 0);
	g_autoptr(GSocketAddress) bound = NULL;

	socket = g_socket_new(
		G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
	g_assert_no_error(error);
	g_socket_bind(socket, any, FALSE, &error);
	g_assert_no_error(error);
	bound = g_socket_get_local_address(socket, &error);
	g_assert_no_error(error);
	return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
}

void
relay_test_assert_contains(const gchar *haystack, const gchar *needle)
{
	if (haystack == NULL || strstr(haystack, needle) == NULL)
		g_error("expected '%s' in:\n%s", needle, haystack != NULL ? haystack : "(null)");
}
