/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * The sd_notify(3) protocol without libsystemd: one datagram of "KEY=value" lines sent to the
 * AF_UNIX socket named by $NOTIFY_SOCKET, a file system path or, when the name starts with '@',
 * an abstract socket name (the '@' stands for the leading NUL byte). systemd sets the variable
 * for Type=notify services; without it nothing is sent, so `relay serve` run by hand or by
 * another supervisor behaves the same.
 *
 * The protocol is small enough that a dependency is not worth it: systemd reads the sender's
 * credentials from the socket itself (SO_PASSCRED), so a plain sendto() is the whole client.
 */

#include "config.h"

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <sys/un.h>
#include <time.h>

#include "relay-error.h"
#include "relay-sd-notify.h"

/* how long a send may wait for room in the receiver's queue; libsystemd blocks too */
#define RELAY_SD_NOTIFY_TIMEOUT_S 5

#define RELAY_SD_NOTIFY_SUN_PATH_SIZE sizeof(((struct sockaddr_un *)NULL)->sun_path)

/* NOTIFY_SOCKET as systemd writes it: "/path" or "@abstract" */
static GSocketAddress *
relay_sd_notify_address(const gchar *socket_name, GError **error)
{
	gsize length = strlen(socket_name);

	if (socket_name[0] == '@') {
		/* the abstract name fills sun_path after its NUL byte, not NUL-terminated */
		if (length < 2 || length > RELAY_SD_NOTIFY_SUN_PATH_SIZE) {
			g_set_error(error,
				    RELAY_ERROR,
				    RELAY_ERROR_INVALID_ARGUMENT,
				    "NOTIFY_SOCKET '%s': an abstract name has 1 to %u bytes",
				    socket_name,
				    (guint)RELAY_SD_NOTIFY_SUN_PATH_SIZE - 1);
			return NULL;
		}
		return g_unix_socket_address_new_with_type(
			socket_name + 1, (gint)length - 1, G_UNIX_SOCKET_ADDRESS_ABSTRACT);
	}
	if (socket_name[0] != '/') {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_INVALID_ARGUMENT,
			    "NOTIFY_SOCKET '%s' is neither an absolute path nor an abstract name "
			    "(@NAME)",
			    socket_name);
		return NULL;
	}
	if (length >= RELAY_SD_NOTIFY_SUN_PATH_SIZE) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_INVALID_ARGUMENT,
			    "NOTIFY_SOCKET '%s': a socket path has at most %u bytes",
			    socket_name,
			    (guint)RELAY_SD_NOTIFY_SUN_PATH_SIZE - 1);
		return NULL;
	}
	return g_unix_socket_address_new(socket_name);
}

/**
 * relay_sd_notify_to:
 * @socket_name: a socket path, or an abstract name starting with '@'
 * @state: newline-separated assignments, such as "READY=1\nSTATUS=serving"
 *
 * Sends @state in one datagram. Blocks at most a few seconds when the receiver's queue is full.
 *
 * Returns: %TRUE when the whole datagram was sent
 */
gboolean
relay_sd_notify_to(const gchar *socket_name, const gchar *state, GError **error)
{
	g_autoptr(GSocketAddress) address = NULL;
	g_autoptr(GSocket) socket = NULL;
	gsize length;
	gssize sent;

	g_return_val_if_fail(socket_name != NULL, FALSE);
	g_return_val_if_fail(state != NULL, FALSE);

	address = relay_sd_notify_address(socket_name, error);
	if (address == NULL)
		return FALSE;
	socket = g_socket_new(
		G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_DEFAULT, error);
	if (socket == NULL) {
		g_prefix_error(error, "NOTIFY_SOCKET %s: ", socket_name);
		return FALSE;
	}
	g_socket_set_timeout(socket, RELAY_SD_NOTIFY_TIMEOUT_S);
	length = strlen(state);
	sent = g_socket_send_to(socket, address, state, length, NULL, error);
	if (sent < 0) {
		g_prefix_error(error, "NOTIFY_SOCKET %s: ", socket_name);
		return FALSE;
	}
	if ((gsize)sent != length) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_FAILED,
			    "NOTIFY_SOCKET %s: sent %" G_GSSIZE_FORMAT " of %" G_GSIZE_FORMAT
			    " bytes",
			    socket_name,
			    sent,
			    length);
		return FALSE;
	}
	return TRUE;
}

/**
 * relay_sd_notify_enabled:
 *
 * Returns: %TRUE when $NOTIFY_SOCKET is set, i.e. a service manager listens
 */
gboolean
relay_sd_notify_enabled(void)
{
	const gchar *socket_name = g_getenv("NOTIFY_SOCKET");
	return socket_name != NULL && socket_name[0] != '\0';
}

/**
 * relay_sd_notify:
 * @state: newline-separated assignments, such as "READY=1\nSTATUS=serving"
 *
 * Tells the service manager named by $NOTIFY_SOCKET about @state; does nothing, successfully,
 * when the variable is unset or empty. The variable is left in place: the node notifies again
 * on every reload and at its stop.
 *
 * Returns: %TRUE when @state was sent or there is nobody to send it to
 */
gboolean
relay_sd_notify(const gchar *state, GError **error)
{
	if (!relay_sd_notify_enabled())
		return TRUE;
	return relay_sd_notify_to(g_getenv("NOTIFY_SOCKET"), state, error);
}

/**
 * relay_sd_notify_monotonic_usec:
 *
 * Returns: CLOCK_MONOTONIC in microseconds, the clock of MONOTONIC_USEC= in a RELOADING=1
 * notification
 */
gint64
relay_sd_notify_monotonic_usec(void)
{
	struct timespec now;

	/* explicit rather than g_get_monotonic_time(), whose clock is not promised */
	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
		return g_get_monotonic_time();
	return (gint64)now.tv_sec * G_USEC_PER_SEC + now.tv_nsec / 1000;
}
