/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* the header Mastodon writes and reads (Administration → Federation → Export) */
#define RELAY_BLOCKLIST_HEADER                                                                     \
	"#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate"

/**
 * RelayBlocklistEntry:
 * @line: where the entry starts in the file (1 for the first line)
 * @domain: the domain, normalised (lower case, punycode, no trailing dot)
 * @severity: the severity as written (suspend when the field is empty)
 * @comment: (nullable): the public comment, which becomes the block's reason
 * @skip: (nullable): why the entry blocks nothing (noop, obfuscated, listed twice)
 *
 * One line of a domain block list in Mastodon's CSV format.
 */
typedef struct {
	guint line;
	gchar *domain;
	gchar *severity;
	gchar *comment;
	gchar *skip;
} RelayBlocklistEntry;

void
relay_blocklist_entry_free(RelayBlocklistEntry *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayBlocklistEntry, relay_blocklist_entry_free)

gboolean
relay_domain_normalize(const gchar *text, gboolean allow_port, gchar **out_domain, GError **error)
	G_GNUC_WARN_UNUSED_RESULT;

GPtrArray *
relay_blocklist_parse(const gchar *text, gsize length, const gchar *name, GError **error)
	G_GNUC_WARN_UNUSED_RESULT;

GPtrArray *
relay_blocklist_parse_json(GBytes *bytes,
			   const gchar *name,
			   GError **error) G_GNUC_WARN_UNUSED_RESULT;

void
relay_blocklist_append_line(GString *csv,
			    const gchar *domain,
			    const gchar *severity,
			    const gchar *comment);

G_END_DECLS
