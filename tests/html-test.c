/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/* The status page's HTML builder: escaping of untrusted text, nesting, attributes. */

#include "config.h"

#include <string.h>

#include "relay-html.h"

static const struct {
	const gchar *name;
	const gchar *text;
	const gchar *escaped;
} escape_cases[] = {
	{"plain", "mastodon 4.2.1", "mastodon 4.2.1"},
	{"markup", "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
	{"ampersand", "Tom & Jerry &amp;", "Tom &amp; Jerry &amp;amp;"},
	{"quotes", "a \"b\" 'c'", "a &quot;b&quot; &#39;c&#39;"},
	{"attribute-break", "\" onmouseover=\"x", "&quot; onmouseover=&quot;x"},
	{"controls", "a\x01\x1b[31mb\rc\x7f", "a[31mbc"},
	{"tab-newline", "a\tb\nc", "a\tb\nc"},
	{"utf8", "Caf\xc3\xa9 \xe2\x86\x92", "Caf\xc3\xa9 \xe2\x86\x92"},
	{"invalid-utf8", "a\xff<b", "a\xef\xbf\xbd&lt;b"},
	{"empty", "", ""},
};

static void
test_html_escape(gconstpointer user_data)
{
	guint i = GPOINTER_TO_UINT(user_data);
	g_autofree gchar *escaped = relay_html_escape(escape_cases[i].text);

	g_assert_cmpstr(escaped, ==, escape_cases[i].escaped);
	g_assert_true(g_utf8_validate(escaped, -1, NULL));
}

static void
test_html_escape_null(void)
{
	g_autofree gchar *escaped = relay_html_escape(NULL);
	g_assert_cmpstr(escaped, ==, "");
}

static void
test_html_document(void)
{
	g_autoptr(RelayHtml) html = relay_html_new();
	g_autoptr(GBytes) bytes = NULL;
	g_autofree gchar *text = NULL;

	relay_html_open(html, "html", "lang", "en", NULL);
	relay_html_open(html, "body", NULL);
	g_assert_cmpuint(relay_html_get_depth(html), ==, 2);
	/* a NULL value leaves the attribute out; values are escaped */
	relay_html_open(html, "p", "class", NULL, "title", "<\"x\">", NULL);
	relay_html_text(html, "a < b");
	relay_html_textf(html, " & %s", "<c>");
	relay_html_close(html, "p");
	relay_html_element(
		html, "a", "<b>bold?</b>", "href", "https://x.example/?a=1&b=\"2\"", NULL);
	relay_html_void(html, "meta", "name", "x", NULL);
	relay_html_raw(html, "<hr>");
	relay_html_close(html, "body");
	relay_html_close(html, "html");
	g_assert_cmpuint(relay_html_get_depth(html), ==, 0);
	bytes = relay_html_free_to_bytes(g_steal_pointer(&html));
	text = g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
	g_assert_cmpstr(text,
			==,
			"<!DOCTYPE html>\n"
			"<html lang=\"en\">\n"
			"<body>\n"
			"<p title=\"&lt;&quot;x&quot;&gt;\">\n"
			"a &lt; b &amp; &lt;c&gt;</p>\n"
			"<a href=\"https://x.example/?a=1&amp;b=&quot;2&quot;\">"
			"&lt;b&gt;bold?&lt;/b&gt;</a>"
			"<meta name=\"x\">\n"
			"<hr></body>\n"
			"</html>\n");
}

/* closing the wrong element is a programmer error, and leaves the document as it was */
static void
test_html_mismatch(void)
{
	g_autoptr(RelayHtml) html = relay_html_new();

	relay_html_open(html, "div", NULL);
	relay_html_open(html, "p", NULL);
	g_test_expect_message("relay", G_LOG_LEVEL_CRITICAL, "*assertion*failed*");
	relay_html_close(html, "div");
	g_test_assert_expected_messages();
	g_assert_cmpuint(relay_html_get_depth(html), ==, 2);
	relay_html_close(html, "p");
	relay_html_close(html, "div");
	g_assert_cmpuint(relay_html_get_depth(html), ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	for (guint i = 0; i < G_N_ELEMENTS(escape_cases); i++) {
		g_autofree gchar *path =
			g_strdup_printf("/relay/html/escape/%s", escape_cases[i].name);
		g_test_add_data_func(path, GUINT_TO_POINTER(i), test_html_escape);
	}
	g_test_add_func("/relay/html/escape-null", test_html_escape_null);
	g_test_add_func("/relay/html/document", test_html_document);
	g_test_add_func("/relay/html/mismatch", test_html_mismatch);
	return g_test_run();
}
