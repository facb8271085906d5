/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef gboolean (*RelayTestPredicate)(gpointer user_data);

/* iterates @context (NULL: the thread default) until @predicate holds; FALSE at the deadline */
gboolean
relay_test_wait_until(GMainContext *context,
		      RelayTestPredicate predicate,
		      gpointer user_data,
		      guint timeout_ms);

/* a fresh temporary directory, removed with its contents by relay_test_rmdir() */
gchar *
relay_test_mkdtemp(void);
void
relay_test_rmdir(const gchar *path);

/* the path of a file relative to the project's source root */
gchar *
relay_test_source_path(const gchar *relative);

/* starts a process that is killed when the test process dies, even by an assertion */
GSubprocess *
relay_test_spawn(GSubprocessFlags flags, const gchar *const *argv, GError **error);
/* the same, with @env (KEY=VALUE strings, nullable) added to the test's environment */
GSubprocess *
relay_test_spawn_with_env(GSubprocessFlags flags,
			  const gchar *const *argv,
			  const gchar *const *env,
			  GError **error);
GSubprocess *
relay_test_spawn_with(GSubprocessLauncher *launcher, const gchar *const *argv, GError **error);

/* a loopback TCP port nobody listens on now */
guint16
relay_test_free_port(void);

/* fails the test, showing @haystack, when @needle is not in it */
void
relay_test_assert_contains(const gchar *haystack, const gchar *needle);

G_END_DECLS
