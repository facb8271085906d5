/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * Domain block lists in Mastodon's CSV format, and domain names as admins type them:
 * table-driven, one case per row.
 */

#include "config.h"

#include <string.h>

#include "relay-blocklist.h"
#include "relay-error.h"

/* entries as "LINE DOMAIN SEVERITY [COMMENT] [(skip: WHY)]", joined by "|" */
static gchar *
entries_to_string(GPtrArray *entries)
{
	g_autoptr(GString) out = g_string_new(NULL);

	for (guint i = 0; i < entries->len; i++) {
		RelayBlocklistEntry *entry = g_ptr_array_index(entries, i);
		g_string_append_printf(out,
				       "%s%u %s %s",
				       i > 0 ? "|" : "",
				       entry->line,
				       entry->domain,
				       entry->severity);
		if (entry->comment != NULL)
			g_string_append_printf(out, " [%s]", entry->comment);
		if (entry->skip != NULL)
			g_string_append_printf(out, " (skip: %s)", entry->skip);
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}

static const struct {
	const gchar *name;
	const gchar *csv;
	const gchar *expected; /* entries_to_string(), or the error message */
	gboolean valid;
} parse_cases[] = {
	{"plain-list", "a.example\nb.example\n", "1 a.example suspend|2 b.example suspend", TRUE},
	{"no-final-newline", "a.example", "1 a.example suspend", TRUE},
	{"empty", "", "", TRUE},
	{"header-only", RELAY_BLOCKLIST_HEADER "\n", "", TRUE},
	{"mastodon-export",
	 RELAY_BLOCKLIST_HEADER
	 "\n"
	 "spam.example,suspend,true,true,\"spam, and \"\"offers\"\"\",false\n"
	 "loud.example,silence,false,false,,false\n"
	 "fine.example,noop,false,false,,false\n",
	 "2 spam.example suspend [spam, and \"offers\"]|3 loud.example silence|"
	 "4 fine.example noop (skip: severity noop blocks nothing)",
	 TRUE},
	{"multi-line-comment",
	 RELAY_BLOCKLIST_HEADER "\n"
				"a.example,suspend,true,true,\"first line\nsecond line\",false\n"
				"b.example,suspend,true,true,,false\n",
	 "2 a.example suspend [first line\nsecond line]|4 b.example suspend",
	 TRUE},
	{"crlf-bom-blank-lines",
	 "\xef\xbb\xbf" RELAY_BLOCKLIST_HEADER "\r\n\r\na.example,suspend,true,true,x,false\r\n",
	 "3 a.example suspend [x]",
	 TRUE},
	{"header-any-order",
	 "#severity,#public_comment,#domain\nsilence,bots,a.example\n",
	 "2 a.example silence [bots]",
	 TRUE},
	{"header-without-hash",
	 "domain,severity\na.example,suspend\n",
	 "2 a.example suspend",
	 TRUE},
	{"empty-severity-is-suspend", "a.example,,,\n", "1 a.example suspend", TRUE},
	{"normalised",
	 " Bücher.Example. \nSPAM.example\n",
	 "1 xn--bcher-kva.example suspend|2 spam.example suspend",
	 TRUE},
	{"obfuscated",
	 RELAY_BLOCKLIST_HEADER "\nex*mple.com,suspend,true,true,,true\n",
	 "2 ex*mple.com suspend (skip: obfuscated: the domain is not known)",
	 TRUE},
	{"twice",
	 "a.example\nb.example\nA.example\n",
	 "1 a.example suspend|2 b.example suspend|3 a.example suspend (skip: listed before, line "
	 "1)",
	 TRUE},
	{"bad-severity",
	 RELAY_BLOCKLIST_HEADER "\na.example,suspend,true,true,,false\nb.example,limit,,,,\n",
	 "list.csv:3: unknown severity 'limit' (suspend, silence or noop)",
	 FALSE},
	{"bad-boolean",
	 RELAY_BLOCKLIST_HEADER "\na.example,suspend,yes,true,,false\n",
	 "list.csv:2: #reject_media is 'yes', not true or false",
	 FALSE},
	{"bad-domain",
	 "a.example\nnot a domain\n",
	 "list.csv:2: 'not a domain' is not a domain name",
	 FALSE},
	{"wildcard-not-obfuscated",
	 "*.example,suspend\n",
	 "list.csv:1: '*.example' is not a domain name",
	 FALSE},
	{"port", "a.example:443\n", "list.csv:1: 'a.example:443' is not a domain name", FALSE},
	{"empty-domain", "a.example\n,suspend\n", "list.csv:2: the domain is empty", FALSE},
	{"several-errors",
	 "a.example,bad\nb.example\nc..example\n",
	 "list.csv:1: unknown severity 'bad' (suspend, silence or noop)\n"
	 "list.csv:3: 'c..example' is not a domain name",
	 FALSE},
	{"unclosed-quote",
	 "a.example\nb.example,suspend,true,true,\"never closed\n",
	 "list.csv:2: a quoted field is not closed",
	 FALSE},
	{"text-after-quote",
	 "a.example,suspend,true,true,\"x\"y,false\n",
	 "list.csv:1: text after the closing quote of a field",
	 FALSE},
	{"quote-inside",
	 "a.exa\"mple\n",
	 "list.csv:1: a quote inside a field that does not start with one",
	 FALSE},
};

static void
test_parse(gconstpointer data)
{
	guint index = GPOINTER_TO_UINT(data);
	const gchar *csv = parse_cases[index].csv;
	g_autoptr(GPtrArray) entries = NULL;
	g_autoptr(GError) error = NULL;

	entries = relay_blocklist_parse(csv, strlen(csv), "list.csv", &error);
	if (parse_cases[index].valid) {
		g_autofree gchar *got = NULL;
		g_assert_no_error(error);
		got = entries_to_string(entries);
		g_assert_cmpstr(got, ==, parse_cases[index].expected);
		return;
	}
	g_assert_null(entries);
	g_assert_error(error, RELAY_ERROR, RELAY_ERROR_INVALID_ARGUMENT);
	g_assert_cmpstr(error->message, ==, parse_cases[index].expected);
}

/* JSON lists: ours, Mastodon's API, plain domains */
static const struct {
	const gchar *name;
	const gchar *json;
	const gchar *expected; /* entries_to_string(), or the error message */
	gboolean valid;
} json_cases[] = {
	{"ours",
	 "[{\"domain\":\"spam.example\",\"severity\":\"suspend\",\"reason\":\"spam\","
	 "\"since\":\"2026-11-25T06:19:03Z\"},{\"domain\":\"Loud.Example.\",\"severity\":"
	 "\"suspend\",\"reason\":null}]",
	 "1 spam.example suspend [spam]|2 loud.example suspend",
	 TRUE},
	{"mastodon-api",
	 "[{\"domain\":\"a.example\",\"digest\":\"00\",\"severity\":\"silence\",\"comment\":"
	 "\"loud\"},{\"domain\":\"b*.example\",\"severity\":\"suspend\"},{\"domain\":"
	 "\"c.example\",\"severity\":\"noop\"}]",
	 "1 a.example silence [loud]|2 b*.example suspend (skip: obfuscated: the domain is not "
	 "known)|3 c.example noop (skip: severity noop blocks nothing)",
	 TRUE},
	{"strings",
	 "[\"a.example\", \"a.example\"]",
	 "1 a.example suspend|2 a.example suspend (skip: listed before, entry 1)",
	 TRUE},
	{"empty", "[]", "", TRUE},
	{"object", "{\"domain\":\"a.example\"}", "blocks.json: not a JSON array of blocks", FALSE},
	{"not-json", "a.example\n", NULL, FALSE},
	{"bad-entries",
	 "[\"a.example\", 3, {\"domain\":\"b.example\",\"severity\":\"limit\"}, \"not a "
	 "domain\"]",
	 NULL,
	 FALSE},
};

static void
test_parse_json(gconstpointer data)
{
	guint index = GPOINTER_TO_UINT(data);
	const gchar *json = json_cases[index].json;
	g_autoptr(GBytes) bytes = g_bytes_new_static(json, strlen(json));
	g_autoptr(GPtrArray) entries = NULL;
	g_autoptr(GError) error = NULL;

	entries = relay_blocklist_parse_json(bytes, "blocks.json", &error);
	if (json_cases[index].valid) {
		g_autofree gchar *got = NULL;
		g_assert_no_error(error);
		got = entries_to_string(entries);
		g_assert_cmpstr(got, ==, json_cases[index].expected);
		return;
	}
	g_assert_null(entries);
	g_assert_error(error, RELAY_ERROR, RELAY_ERROR_INVALID_ARGUMENT);
	g_test_message("refused: %s", error->message);
	g_assert_true(g_str_has_prefix(error->message, "blocks.json: "));
	if (json_cases[index].expected != NULL)
		g_assert_cmpstr(error->message, ==, json_cases[index].expected);
	if (g_strcmp0(json_cases[index].name, "bad-entries") == 0) {
		/* every bad entry is named, the good ones are not */
		g_assert_nonnull(strstr(error->message, "entry 2: "));
		g_assert_nonnull(strstr(error->message, "entry 3: unknown severity 'limit'"));
		g_assert_nonnull(strstr(error->message, "entry 4: "));
		g_assert_null(strstr(error->message, "entry 1:"));
	}
}

static void
test_not_text(void)
{
	const gchar binary[] = "a.example\n\0\xff";
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) entries =
		relay_blocklist_parse(binary, sizeof(binary), "list.csv", &error);

	g_assert_null(entries);
	g_assert_cmpstr(error->message, ==, "list.csv: not a text file (UTF-8)");
}

static void
test_many_errors(void)
{
	g_autoptr(GString) csv = g_string_new(NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) entries = NULL;

	for (guint i = 0; i < 25; i++)
		g_string_append(csv, "bad domain\n");
	entries = relay_blocklist_parse(csv->str, csv->len, "list.csv", &error);
	g_assert_null(entries);
	g_assert_true(g_str_has_prefix(error->message, "list.csv:1: "));
	g_assert_true(g_str_has_suffix(error->message, "\n(and 15 more)"));
}

/* what we write reads back as it was */
static void
test_write_read(void)
{
	g_autoptr(GString) csv = g_string_new(RELAY_BLOCKLIST_HEADER "\n");
	g_autoptr(GPtrArray) entries = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *got = NULL;

	relay_blocklist_append_line(csv, "a.example", "suspend", NULL);
	relay_blocklist_append_line(csv, "b.example", "suspend", "spam, \"lots\"");
	relay_blocklist_append_line(csv, "c.example", "suspend", " spaced ");
	g_assert_cmpstr(csv->str,
			==,
			RELAY_BLOCKLIST_HEADER
			"\n"
			"a.example,suspend,true,true,,false\n"
			"b.example,suspend,true,true,\"spam, \"\"lots\"\"\",false\n"
			"c.example,suspend,true,true,\" spaced \",false\n");
	entries = relay_blocklist_parse(csv->str, csv->len, "export.csv", &error);
	g_assert_no_error(error);
	got = entries_to_string(entries);
	g_assert_cmpstr(got,
			==,
			"2 a.example suspend|3 b.example suspend [spam, \"lots\"]|"
			"4 c.example suspend [ spaced ]");
}

static const struct {
	const gchar *text;
	gboolean allow_port;
	const gchar *expected; /* NULL: refused */
} domain_cases[] = {
	{"example.com", FALSE, "example.com"},
	{"Example.COM.", FALSE, "example.com"},
	{"  mastodon.social ", FALSE, "mastodon.social"},
	{"bücher.example", FALSE, "xn--bcher-kva.example"},
	{"127.0.0.4", FALSE, "127.0.0.4"},
	{"127.0.0.4:8080", TRUE, "127.0.0.4:8080"},
	{"127.0.0.4:8080", FALSE, NULL},
	{"a.example:0", TRUE, NULL},
	{"a.example:99999", TRUE, NULL},
	{"", FALSE, NULL},
	{"a..example", FALSE, NULL},
	{"-a.example", FALSE, NULL},
	{"a_b.example", FALSE, NULL},
	{"https://a.example/", FALSE, NULL},
	{"a.example/path", FALSE, NULL},
	{"*.example", FALSE, NULL},
	{"user@example.com", FALSE, NULL},
};

static void
test_domain(gconstpointer data)
{
	guint index = GPOINTER_TO_UINT(data);
	g_autofree gchar *domain = NULL;
	g_autoptr(GError) error = NULL;
	gboolean ok = relay_domain_normalize(
		domain_cases[index].text, domain_cases[index].allow_port, &domain, &error);

	if (domain_cases[index].expected == NULL) {
		g_assert_false(ok);
		g_assert_error(error, RELAY_ERROR, RELAY_ERROR_INVALID_ARGUMENT);
		return;
	}
	g_assert_no_error(error);
	g_assert_cmpstr(domain, ==, domain_cases[index].expected);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(parse_cases); i++) {
		g_autofree gchar *path =
			g_strdup_printf("/relay/blocklist/parse/%s", parse_cases[i].name);
		g_test_add_data_func(path, GUINT_TO_POINTER(i), test_parse);
	}
	for (guint i = 0; i < G_N_ELEMENTS(json_cases); i++) {
		g_autofree gchar *path =
			g_strdup_printf("/relay/blocklist/parse-json/%s", json_cases[i].name);
		g_test_add_data_func(path, GUINT_TO_POINTER(i), test_parse_json);
	}
	g_test_add_func("/relay/blocklist/not-text", test_not_text);
	g_test_add_func("/relay/blocklist/many-errors", test_many_errors);
	g_test_add_func("/relay/blocklist/write-read", test_write_read);
	for (guint i = 0; i < G_N_ELEMENTS(domain_cases); i++) {
		g_autofree gchar *path = g_strdup_printf("/relay/blocklist/domain/%u", i);
		g_test_add_data_func(path, GUINT_TO_POINTER(i), test_domain);
	}
	return g_test_run();
}
