/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * A small HTML builder: elements are opened and closed in order (a mismatch is a programmer
 * error), and every text and attribute value goes through relay_html_escape(). Tag and
 * attribute names are literals of our own; only relay_html_raw() takes markup as is, for
 * constants such as the style sheet.
 */
typedef struct _RelayHtml RelayHtml;

gchar *
relay_html_escape(const gchar *text);
void
relay_html_append_escaped(GString *out, const gchar *text);

RelayHtml *
relay_html_new(void);
void
relay_html_free(RelayHtml *self);
void
relay_html_raw(RelayHtml *self, const gchar *markup);
void
relay_html_open(RelayHtml *self, const gchar *tag, ...) G_GNUC_NULL_TERMINATED;
void
relay_html_void(RelayHtml *self, const gchar *tag, ...) G_GNUC_NULL_TERMINATED;
void
relay_html_close(RelayHtml *self, const gchar *tag);
void
relay_html_text(RelayHtml *self, const gchar *text);
void
relay_html_textf(RelayHtml *self, const gchar *format, ...) G_GNUC_PRINTF(2, 3);
void
relay_html_element(RelayHtml *self, const gchar *tag, const gchar *text, ...)
	G_GNUC_NULL_TERMINATED;
guint
relay_html_get_depth(RelayHtml *self);
GBytes *
relay_html_free_to_bytes(RelayHtml *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayHtml, relay_html_free)

G_END_DECLS
