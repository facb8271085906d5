/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * The HTML builder of the status page. Member domains, software names and versions come from
 * other servers, titles and rules from the configuration: all of it is text, escaped the same
 * way in element content and in (double-quoted) attribute values: & < > " ' become entities,
 * invalid UTF-8 is replaced, and control characters other than tab and newline are dropped
 * (they are not allowed in HTML text). Open elements are tracked on a stack, so a page is
 * well nested by construction and relay_html_free_to_bytes() checks nothing is left open.
 */

#include "config.h"

#include <string.h>

#include "relay-html.h"

struct _RelayHtml {
	GString *out;
	GPtrArray *open; /* (element-type utf8): the tags open, innermost last (borrowed) */
};

/* the elements after whose tags a newline keeps the source readable */
static gboolean
relay_html_is_block(const gchar *tag)
{
	static const gchar *const blocks[] = {
		"html",	 "head",  "body",  "header",  "main",	 "footer", "section",
		"div",	 "table", "thead", "tbody",   "tr",	 "ul",	   "ol",
		"li",	 "dl",	  "p",	   "h1",      "h2",	 "h3",	   "meta",
		"title", "style", "link",  "details", "summary",
	};
	for (guint i = 0; i < G_N_ELEMENTS(blocks); i++) {
		if (g_strcmp0(tag, blocks[i]) == 0)
			return TRUE;
	}
	return FALSE;
}

/**
 * relay_html_append_escaped:
 * @out: where to append
 * @text: (nullable): any text, possibly invalid UTF-8
 *
 * Appends @text escaped for element content and double- or single-quoted attribute values.
 */
void
relay_html_append_escaped(GString *out, const gchar *text)
{
	g_autofree gchar *valid = NULL;

	if (text == NULL)
		return;
	valid = g_utf8_make_valid(text, -1);
	for (const gchar *p = valid; *p != '\0'; p++) {
		switch (*p) {
		case '&':
			g_string_append(out, "&amp;");
			break;
		case '<':
			g_string_append(out, "&lt;");
			break;
		case '>':
			g_string_append(out, "&gt;");
			break;
		case '"':
			g_string_append(out, "&quot;");
			break;
		case '\'':
			g_string_append(out, "&#39;");
			break;
		case '\t':
		case '\n':
			g_string_append_c(out, *p);
			break;
		default:
			/* C0 controls and DEL are not allowed in HTML text; bytes of UTF-8 pass */
			if ((guchar)*p < 0x20 || (guchar)*p == 0x7f)
				break;
			g_string_append_c(out, *p);
			break;
		}
	}
}

/**
 * relay_html_escape:
 * @text: (nullable): any text
 *
 * Returns: (transfer full): @text safe inside an element or a quoted attribute value
 */
gchar *
relay_html_escape(const gchar *text)
{
	GString *out = g_string_new(NULL);
	relay_html_append_escaped(out, text);
	return g_string_free(out, FALSE);
}

/**
 * relay_html_new:
 *
 * Returns: (transfer full): an empty document, starting with its doctype
 */
RelayHtml *
relay_html_new(void)
{
	RelayHtml *self = g_new0(RelayHtml, 1);
	self->out = g_string_new("<!DOCTYPE html>\n");
	self->open = g_ptr_array_new();
	return self;
}

void
relay_html_free(RelayHtml *self)
{
	if (self == NULL)
		return;
	g_string_free(self->out, TRUE);
	g_ptr_array_unref(self->open);
	g_free(self);
}

/**
 * relay_html_raw:
 * @markup: markup of our own, never text from elsewhere
 */
void
relay_html_raw(RelayHtml *self, const gchar *markup)
{
	g_string_append(self->out, markup);
}

/* writes "<tag a="v" ...>" from NULL-terminated name/value pairs; a NULL value is left out */
static void
relay_html_start_tag(RelayHtml *self, const gchar *tag, va_list args)
{
	const gchar *name;

	g_string_append_printf(self->out, "<%s", tag);
	while ((name = va_arg(args, const gchar *)) != NULL) {
		const gchar *value = va_arg(args, const gchar *);
		if (value == NULL)
			continue;
		g_string_append_printf(self->out, " %s=\"", name);
		relay_html_append_escaped(self->out, value);
		g_string_append_c(self->out, '"');
	}
	g_string_append_c(self->out, '>');
}

/**
 * relay_html_open:
 * @tag: the element's name
 * @...: attribute name and value pairs, then %NULL; a %NULL value leaves its attribute out
 *
 * Opens an element; close it with relay_html_close().
 */
void
relay_html_open(RelayHtml *self, const gchar *tag, ...)
{
	va_list args;

	va_start(args, tag);
	relay_html_start_tag(self, tag, args);
	va_end(args);
	g_ptr_array_add(self->open, (gpointer)tag);
	if (relay_html_is_block(tag))
		g_string_append_c(self->out, '\n');
}

/**
 * relay_html_void:
 * @tag: a void element's name: meta, link, br...
 * @...: attribute name and value pairs, then %NULL
 */
void
relay_html_void(RelayHtml *self, const gchar *tag, ...)
{
	va_list args;

	va_start(args, tag);
	relay_html_start_tag(self, tag, args);
	va_end(args);
	if (relay_html_is_block(tag))
		g_string_append_c(self->out, '\n');
}

/**
 * relay_html_close:
 * @tag: the innermost open element's name
 */
void
relay_html_close(RelayHtml *self, const gchar *tag)
{
	const gchar *innermost;

	g_return_if_fail(self->open->len > 0);
	innermost = g_ptr_array_index(self->open, self->open->len - 1);
	g_return_if_fail(g_strcmp0(innermost, tag) == 0);
	g_ptr_array_set_size(self->open, self->open->len - 1);
	g_string_append_printf(self->out, "</%s>", tag);
	if (relay_html_is_block(tag))
		g_string_append_c(self->out, '\n');
}

/**
 * relay_html_text:
 * @text: (nullable): text, escaped here
 */
void
relay_html_text(RelayHtml *self, const gchar *text)
{
	relay_html_append_escaped(self->out, text);
}

/**
 * relay_html_textf:
 *
 * Formats, then escapes the whole result as text.
 */
void
relay_html_textf(RelayHtml *self, const gchar *format, ...)
{
	g_autofree gchar *text = NULL;
	va_list args;

	va_start(args, format);
	text = g_strdup_vprintf(format, args);
	va_end(args);
	relay_html_append_escaped(self->out, text);
}

/**
 * relay_html_element:
 * @tag: the element's name
 * @text: (nullable): its content, as text
 * @...: attribute name and value pairs, then %NULL
 *
 * Writes a whole element with text content.
 */
void
relay_html_element(RelayHtml *self, const gchar *tag, const gchar *text, ...)
{
	va_list args;

	va_start(args, text);
	relay_html_start_tag(self, tag, args);
	va_end(args);
	relay_html_append_escaped(self->out, text);
	g_string_append_printf(self->out, "</%s>", tag);
	if (relay_html_is_block(tag))
		g_string_append_c(self->out, '\n');
}

/**
 * relay_html_get_depth:
 *
 * Returns: how many elements are open
 */
guint
relay_html_get_depth(RelayHtml *self)
{
	return self->open->len;
}

/**
 * relay_html_free_to_bytes:
 * @self: (transfer full): a document whose elements are all closed
 *
 * Returns: (transfer full): the document, UTF-8
 */
GBytes *
relay_html_free_to_bytes(RelayHtml *self)
{
	GBytes *bytes;

	if (self->open->len != 0)
		g_critical("HTML document with <%s> still open",
			   (const gchar *)g_ptr_array_index(self->open, self->open->len - 1));
	bytes = g_string_free_to_bytes(g_steal_pointer(&self->out));
	g_ptr_array_unref(self->open);
	g_free(self);
	return bytes;
}
