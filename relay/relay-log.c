/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * The log writer: GLib structured logging filtered by the configured level. Under systemd
 * (stderr connected to the journal) every field goes to journald as it is; otherwise one line
 * per message on stderr: "TIME LEVEL DOMAIN: MESSAGE [RELAY_KEY=value ...]".
 * G_MESSAGES_DEBUG=DOMAIN still shows that domain's debug messages, as in any GLib program.
 */

#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "relay-log.h"

static gint relay_log_level = G_LOG_LEVEL_MESSAGE; /* atomic: the least severe level shown */

static gboolean
relay_log_domain_forced(const gchar *domain)
{
	const gchar *debug = g_getenv("G_MESSAGES_DEBUG");
	g_auto(GStrv) domains = NULL;

	if (debug == NULL || debug[0] == '\0')
		return FALSE;
	if (g_strcmp0(debug, "all") == 0)
		return TRUE;
	if (domain == NULL)
		return FALSE;
	domains = g_strsplit_set(debug, " ,", -1);
	return g_strv_contains((const gchar *const *)domains, domain);
}

const gchar *
relay_log_level_to_string(GLogLevelFlags level)
{
	if (level & G_LOG_LEVEL_ERROR)
		return "ERROR";
	if (level & G_LOG_LEVEL_CRITICAL)
		return "CRITICAL";
	if (level & G_LOG_LEVEL_WARNING)
		return "WARNING";
	if (level & G_LOG_LEVEL_MESSAGE)
		return "MESSAGE";
	if (level & G_LOG_LEVEL_INFO)
		return "INFO";
	return "DEBUG";
}

/* levels are bit flags, the most severe the lowest bit */
static gboolean
relay_log_level_shown(GLogLevelFlags level, const gchar *domain)
{
	GLogLevelFlags threshold = (GLogLevelFlags)g_atomic_int_get(&relay_log_level);
	if ((level & G_LOG_LEVEL_MASK) <= threshold)
		return TRUE;
	return relay_log_domain_forced(domain);
}

static GLogWriterOutput
relay_log_writer_cb(GLogLevelFlags log_level,
		    const GLogField *fields,
		    gsize n_fields,
		    gpointer user_data)
{
	const gchar *domain = NULL;
	const gchar *message = NULL;
	g_autoptr(GString) line = NULL;
	g_autoptr(GDateTime) now = NULL;
	g_autofree gchar *stamp = NULL;

	for (gsize i = 0; i < n_fields; i++) {
		if (g_strcmp0(fields[i].key, "GLIB_DOMAIN") == 0)
			domain = fields[i].value;
		else if (g_strcmp0(fields[i].key, "MESSAGE") == 0)
			message = fields[i].value;
	}
	if (!relay_log_level_shown(log_level, domain))
		return G_LOG_WRITER_HANDLED;
	if (g_log_writer_is_journald(fileno(stderr)) &&
	    g_log_writer_journald(log_level, fields, n_fields, user_data) == G_LOG_WRITER_HANDLED)
		return G_LOG_WRITER_HANDLED;

	now = g_date_time_new_now_utc();
	stamp = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S");
	line = g_string_new(NULL);
	g_string_append_printf(line,
			       "%s.%03dZ %s %s: %s",
			       stamp,
			       g_date_time_get_microsecond(now) / 1000,
			       relay_log_level_to_string(log_level),
			       domain != NULL ? domain : "relay",
			       message != NULL ? message : "");
	for (gsize i = 0; i < n_fields; i++) {
		if (!g_str_has_prefix(fields[i].key, "RELAY_") || fields[i].length >= 0)
			continue;
		g_string_append_printf(
			line, " %s=%s", fields[i].key, (const gchar *)fields[i].value);
	}
	g_string_append_c(line, '\n');
	fputs(line->str, stderr);
	fflush(stderr);
	return G_LOG_WRITER_HANDLED;
}

/**
 * relay_log_setup:
 * @level: the least severe level to show
 *
 * Installs the writer; call once, early in main().
 */
void
relay_log_setup(GLogLevelFlags level)
{
	relay_log_set_level(level);
	g_log_set_writer_func(relay_log_writer_cb, NULL, NULL);
}

/**
 * relay_log_set_level:
 * @level: the least severe level to show
 *
 * Safe to call from any thread, e.g. on a configuration reload.
 */
void
relay_log_set_level(GLogLevelFlags level)
{
	g_atomic_int_set(&relay_log_level, (gint)(level & G_LOG_LEVEL_MASK));
}

GLogLevelFlags
relay_log_get_level(void)
{
	return (GLogLevelFlags)g_atomic_int_get(&relay_log_level);
}

/**
 * relay_log_sanitize:
 * @text: (nullable): text from a remote party
 * @max_chars: keep at most this many characters
 *
 * Returns: (transfer full): @text fit for one log line: control characters (CR, LF...)
 * replaced by '?', invalid UTF-8 replaced, cut at @max_chars with an ellipsis
 */
gchar *
relay_log_sanitize(const gchar *text, gsize max_chars)
{
	g_autofree gchar *valid = NULL;
	g_autoptr(GString) out = g_string_new(NULL);
	gsize count = 0;

	if (text == NULL)
		return g_strdup("(null)");
	valid = g_utf8_make_valid(text, -1);
	for (const gchar *p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (count == max_chars) {
			g_string_append(out, "…");
			break;
		}
		if (g_unichar_iscntrl(c))
			g_string_append_c(out, '?');
		else
			g_string_append_unichar(out, c);
		count++;
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}
