/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * Domain block lists in Mastodon's CSV format, so that operators share lists with each other
 * and with Mastodon admins:
 *
 *   #domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate
 *   spam.example,suspend,true,true,"spam, and a lot of it",false
 *
 * Reading is lenient where lists in the wild differ and strict where a mistake would block the
 * wrong thing: the header is optional (without one the columns are in Mastodon's order, so a
 * plain list of domains works), a header may name its columns in any order and with or without
 * '#', fields may be quoted ("" for a quote, commas and line breaks inside), blank lines are
 * skipped. A relay has no "limited" state, so suspend and silence both block; noop blocks
 * nothing and is skipped, as are obfuscated domains (Mastodon's export writes "ex*mple.com")
 * and a domain listed twice. Anything else that is wrong is an error naming the file and line,
 * and the caller applies nothing.
 */

#include "config.h"

#include <string.h>

#include "relay-blocklist.h"
#include "relay-error.h"
#include "relay-json.h"

/* errors listed before "and N more" */
#define RELAY_BLOCKLIST_MAX_ERRORS 10

enum {
	COLUMN_DOMAIN,
	COLUMN_SEVERITY,
	COLUMN_REJECT_MEDIA,
	COLUMN_REJECT_REPORTS,
	COLUMN_PUBLIC_COMMENT,
	COLUMN_OBFUSCATE,
	COLUMN_LAST,
};

static const gchar *column_names[COLUMN_LAST] = {
	"domain",
	"severity",
	"reject_media",
	"reject_reports",
	"public_comment",
	"obfuscate",
};

void
relay_blocklist_entry_free(RelayBlocklistEntry *self)
{
	if (self == NULL)
		return;
	g_free(self->domain);
	g_free(self->severity);
	g_free(self->comment);
	g_free(self->skip);
	g_free(self);
}

static gboolean
relay_domain_label_valid(const gchar *label)
{
	gsize length = strlen(label);

	if (length == 0 || length > 63 || label[0] == '-' || label[length - 1] == '-')
		return FALSE;
	for (const gchar *p = label; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-')
			return FALSE;
	}
	return TRUE;
}

static gboolean
relay_domain_invalid(const gchar *text, GError **error)
{
	g_set_error(error,
		    RELAY_ERROR,
		    RELAY_ERROR_INVALID_ARGUMENT,
		    "'%s' is not a domain name",
		    text);
	return FALSE;
}

/**
 * relay_domain_normalize:
 * @text: a domain as an admin wrote it, maybe in Unicode
 * @allow_port: accept a ":PORT" suffix (members on a non-default port)
 * @out_domain: (out) (transfer full): the domain in lower case and punycode, without a
 *	trailing dot
 *
 * Returns: whether @text is a domain name (or an IPv4 address)
 */
gboolean
relay_domain_normalize(const gchar *text, gboolean allow_port, gchar **out_domain, GError **error)
{
	g_autofree gchar *trimmed = g_strstrip(g_strdup(text != NULL ? text : ""));
	g_autofree gchar *ascii = NULL;
	g_autofree gchar *host = NULL;
	g_auto(GStrv) labels = NULL;
	const gchar *port = NULL;
	gchar *colon;
	gsize length;

	if (trimmed[0] == '\0') {
		g_set_error_literal(
			error, RELAY_ERROR, RELAY_ERROR_INVALID_ARGUMENT, "the domain is empty");
		return FALSE;
	}
	ascii = g_hostname_to_ascii(trimmed);
	if (ascii == NULL)
		return relay_domain_invalid(trimmed, error);
	host = g_ascii_strdown(ascii, -1);
	colon = strchr(host, ':');
	if (colon != NULL) {
		guint64 number = 0;
		*colon = '\0';
		port = colon + 1;
		if (!allow_port || !g_ascii_string_to_unsigned(port, 10, 1, 65535, &number, NULL))
			return relay_domain_invalid(trimmed, error);
	}
	length = strlen(host);
	if (length > 0 && host[length - 1] == '.')
		host[--length] = '\0';
	if (length == 0 || length > 253)
		return relay_domain_invalid(trimmed, error);
	labels = g_strsplit(host, ".", -1);
	for (guint i = 0; labels[i] != NULL; i++) {
		if (!relay_domain_label_valid(labels[i]))
			return relay_domain_invalid(trimmed, error);
	}
	*out_domain = port != NULL ? g_strdup_printf("%s:%s", host, port) : g_strdup(host);
	return TRUE;
}

/* the CSV reader: records of fields, each record with the line it starts on */

typedef struct {
	guint line;
	GPtrArray *fields; /* (element-type utf8) */
} RelayCsvRecord;

static void
relay_csv_record_free(RelayCsvRecord *record)
{
	g_ptr_array_unref(record->fields);
	g_free(record);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayCsvRecord, relay_csv_record_free)

typedef struct {
	const gchar *p;
	const gchar *end;
	guint line;
} RelayCsvReader;

static gboolean
relay_csv_at_eol(RelayCsvReader *reader)
{
	return reader->p >= reader->end || *reader->p == '\n' ||
	       (*reader->p == '\r' && (reader->p + 1 >= reader->end || reader->p[1] == '\n'));
}

/* moves past the end of line the reader is at, if any */
static void
relay_csv_skip_eol(RelayCsvReader *reader)
{
	if (reader->p < reader->end && *reader->p == '\r')
		reader->p++;
	if (reader->p < reader->end && *reader->p == '\n') {
		reader->p++;
		reader->line++;
	}
}

/* reads one field; the reader stops at the separator or end of line after it */
static gchar *
relay_csv_read_field(RelayCsvReader *reader, const gchar *name, GError **error)
{
	g_autoptr(GString) field = g_string_new(NULL);

	if (reader->p < reader->end && *reader->p == '"') {
		guint start_line = reader->line;
		reader->p++;
		for (;;) {
			if (reader->p >= reader->end) {
				g_set_error(error,
					    RELAY_ERROR,
					    RELAY_ERROR_INVALID_ARGUMENT,
					    "%s:%u: a quoted field is not closed",
					    name,
					    start_line);
				return NULL;
			}
			if (*reader->p == '"') {
				if (reader->p + 1 < reader->end && reader->p[1] == '"') {
					g_string_append_c(field, '"');
					reader->p += 2;
					continue;
				}
				reader->p++;
				break;
			}
			if (*reader->p == '\n')
				reader->line++;
			g_string_append_c(field, *reader->p++);
		}
		if (!relay_csv_at_eol(reader) && *reader->p != ',') {
			g_set_error(error,
				    RELAY_ERROR,
				    RELAY_ERROR_INVALID_ARGUMENT,
				    "%s:%u: text after the closing quote of a field",
				    name,
				    reader->line);
			return NULL;
		}
		return g_string_free(g_steal_pointer(&field), FALSE);
	}
	while (!relay_csv_at_eol(reader) && *reader->p != ',') {
		if (*reader->p == '"') {
			g_set_error(error,
				    RELAY_ERROR,
				    RELAY_ERROR_INVALID_ARGUMENT,
				    "%s:%u: a quote inside a field that does not start with one",
				    name,
				    reader->line);
			return NULL;
		}
		g_string_append_c(field, *reader->p++);
	}
	return g_strstrip(g_string_free(g_steal_pointer(&field), FALSE));
}

/* reads one record, up to and past its end of line; NULL at the end, or on error */
static RelayCsvRecord *
relay_csv_read_record(RelayCsvReader *reader, const gchar *name, GError **error)
{
	g_autoptr(RelayCsvRecord) record = g_new0(RelayCsvRecord, 1);

	record->line = reader->line;
	record->fields = g_ptr_array_new_with_free_func(g_free);
	for (;;) {
		gchar *field = relay_csv_read_field(reader, name, error);
		if (field == NULL)
			return NULL;
		g_ptr_array_add(record->fields, field);
		if (reader->p < reader->end && *reader->p == ',') {
			reader->p++;
			continue;
		}
		break;
	}
	relay_csv_skip_eol(reader);
	return g_steal_pointer(&record);
}

static gboolean
relay_csv_record_blank(RelayCsvRecord *record)
{
	return record->fields->len == 1 &&
	       ((const gchar *)g_ptr_array_index(record->fields, 0))[0] == '\0';
}

static const gchar *
relay_csv_field(RelayCsvRecord *record, const gint *columns, guint column)
{
	gint index = columns[column];
	if (index < 0 || (guint)index >= record->fields->len)
		return "";
	return g_ptr_array_index(record->fields, index);
}

/* a header names a domain column, "#domain" (Mastodon) or "domain", anywhere */
static gboolean
relay_csv_record_is_header(RelayCsvRecord *record)
{
	for (guint i = 0; i < record->fields->len; i++) {
		const gchar *field = g_ptr_array_index(record->fields, i);
		if (field[0] == '#')
			field++;
		if (g_ascii_strcasecmp(field, "domain") == 0)
			return TRUE;
	}
	return FALSE;
}

static void
relay_blocklist_columns_from_header(RelayCsvRecord *header, gint *columns)
{
	for (guint i = 0; i < COLUMN_LAST; i++)
		columns[i] = -1;
	for (guint i = 0; i < header->fields->len; i++) {
		const gchar *name = g_ptr_array_index(header->fields, i);
		if (name[0] == '#')
			name++;
		for (guint c = 0; c < COLUMN_LAST; c++) {
			if (columns[c] < 0 && g_ascii_strcasecmp(name, column_names[c]) == 0)
				columns[c] = (gint)i;
		}
	}
}

static gboolean
relay_blocklist_boolean(const gchar *text, gboolean *out_value)
{
	if (text[0] == '\0' || g_ascii_strcasecmp(text, "false") == 0) {
		*out_value = FALSE;
		return TRUE;
	}
	if (g_ascii_strcasecmp(text, "true") == 0) {
		*out_value = TRUE;
		return TRUE;
	}
	return FALSE;
}

/*
 * Fills @entry from its fields, in either format: an empty severity is suspend; an obfuscated
 * domain ("ex*mple.com") and severity noop block nothing. FALSE with a message (without the
 * file and line) when a field is wrong.
 */
static gboolean
relay_blocklist_entry_fill(RelayBlocklistEntry *entry,
			   const gchar *domain,
			   const gchar *severity,
			   const gchar *comment,
			   gboolean obfuscated,
			   gchar **out_problem)
{
	g_autoptr(GError) error = NULL;

	if (severity == NULL || severity[0] == '\0')
		severity = "suspend";
	if (g_strcmp0(severity, "suspend") != 0 && g_strcmp0(severity, "silence") != 0 &&
	    g_strcmp0(severity, "noop") != 0) {
		*out_problem = g_strdup_printf("unknown severity '%s' (suspend, silence or noop)",
					       severity);
		return FALSE;
	}
	entry->severity = g_strdup(severity);
	entry->comment = comment != NULL && comment[0] != '\0' ? g_strdup(comment) : NULL;
	if (obfuscated) {
		entry->domain = g_strdup(domain);
		entry->skip = g_strdup("obfuscated: the domain is not known");
		return TRUE;
	}
	if (!relay_domain_normalize(domain, FALSE, &entry->domain, &error)) {
		*out_problem = g_strdup(error->message);
		return FALSE;
	}
	if (g_strcmp0(severity, "noop") == 0)
		entry->skip = g_strdup("severity noop blocks nothing");
	return TRUE;
}

/* one record to an entry, or a message (without the file and line) saying what is wrong */
static RelayBlocklistEntry *
relay_blocklist_entry_from_record(RelayCsvRecord *record, const gint *columns, gchar **out_problem)
{
	g_autoptr(RelayBlocklistEntry) entry = g_new0(RelayBlocklistEntry, 1);
	const gchar *domain = relay_csv_field(record, columns, COLUMN_DOMAIN);
	const gchar *severity = relay_csv_field(record, columns, COLUMN_SEVERITY);
	const gchar *comment = relay_csv_field(record, columns, COLUMN_PUBLIC_COMMENT);
	gboolean obfuscate = FALSE;
	gboolean ignored = FALSE;

	entry->line = record->line;
	for (guint c = COLUMN_REJECT_MEDIA; c <= COLUMN_OBFUSCATE; c++) {
		const gchar *value;
		if (c == COLUMN_PUBLIC_COMMENT)
			continue;
		value = relay_csv_field(record, columns, c);
		if (!relay_blocklist_boolean(value,
					     c == COLUMN_OBFUSCATE ? &obfuscate : &ignored)) {
			*out_problem = g_strdup_printf(
				"#%s is '%s', not true or false", column_names[c], value);
			return NULL;
		}
	}
	if (!relay_blocklist_entry_fill(entry,
					domain,
					severity,
					comment,
					obfuscate && strchr(domain, '*') != NULL,
					out_problem))
		return NULL;
	return g_steal_pointer(&entry);
}

/*
 * What both formats gather while reading a list: the entries (a domain listed again is
 * skipped, naming where it came first), and every problem, one per line, each with @name and
 * where it is ("NAME:3: " for a CSV line, "NAME: entry 3: " for a JSON element).
 */
typedef struct {
	const gchar *name;
	gboolean json;
	GPtrArray *entries;
	GHashTable *first; /* (element-type utf8 RelayBlocklistEntry): domain → its first entry */
	GString *problems;
	guint n_problems;
} RelayBlocklistCollector;

static void
relay_blocklist_collector_init(RelayBlocklistCollector *self, const gchar *name, gboolean json)
{
	self->name = name;
	self->json = json;
	self->entries = g_ptr_array_new_with_free_func((GDestroyNotify)relay_blocklist_entry_free);
	self->first = g_hash_table_new(g_str_hash, g_str_equal);
	self->problems = g_string_new(NULL);
	self->n_problems = 0;
}

static void
relay_blocklist_collector_clear(RelayBlocklistCollector *self)
{
	g_clear_pointer(&self->entries, g_ptr_array_unref);
	g_clear_pointer(&self->first, g_hash_table_unref);
	if (self->problems != NULL)
		g_string_free(g_steal_pointer(&self->problems), TRUE);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(RelayBlocklistCollector, relay_blocklist_collector_clear)

/* @entry (taken), or the @problem at @where when @entry is NULL */
static void
relay_blocklist_collector_add(RelayBlocklistCollector *self,
			      RelayBlocklistEntry *entry,
			      guint where,
			      const gchar *problem)
{
	RelayBlocklistEntry *earlier;

	if (entry == NULL) {
		if (self->n_problems++ < RELAY_BLOCKLIST_MAX_ERRORS)
			g_string_append_printf(self->problems,
					       "%s%s%s%u: %s",
					       self->problems->len > 0 ? "\n" : "",
					       self->name,
					       self->json ? ": entry " : ":",
					       where,
					       problem);
		return;
	}
	earlier = entry->skip == NULL ? g_hash_table_lookup(self->first, entry->domain) : NULL;
	if (earlier != NULL)
		entry->skip = g_strdup_printf(
			"listed before, %s %u", self->json ? "entry" : "line", earlier->line);
	else if (entry->skip == NULL)
		g_hash_table_insert(self->first, entry->domain, entry);
	g_ptr_array_add(self->entries, entry);
}

/* the entries, or NULL with every problem */
static GPtrArray *
relay_blocklist_collector_finish(RelayBlocklistCollector *self, GError **error)
{
	if (self->n_problems > RELAY_BLOCKLIST_MAX_ERRORS)
		g_string_append_printf(self->problems,
				       "\n(and %u more)",
				       self->n_problems - RELAY_BLOCKLIST_MAX_ERRORS);
	if (self->n_problems > 0) {
		g_set_error_literal(
			error, RELAY_ERROR, RELAY_ERROR_INVALID_ARGUMENT, self->problems->str);
		return NULL;
	}
	return g_steal_pointer(&self->entries);
}

/**
 * relay_blocklist_parse:
 * @text: the file's contents
 * @length: its length in bytes
 * @name: the file's name, for messages
 * @error: (nullable): every problem, one per line as "NAME:LINE: PROBLEM"
 *	(%RELAY_ERROR_INVALID_ARGUMENT)
 *
 * Returns: (transfer container) (element-type RelayBlocklistEntry) (nullable): every entry, in
 *	the order of the file, or %NULL when anything is wrong
 */
GPtrArray *
relay_blocklist_parse(const gchar *text, gsize length, const gchar *name, GError **error)
{
	g_auto(RelayBlocklistCollector) collector = {0};
	RelayCsvReader reader = {text, text + length, 1};
	gint columns[COLUMN_LAST];
	gboolean first = TRUE;

	relay_blocklist_collector_init(&collector, name, FALSE);
	if (!g_utf8_validate_len(text, length, NULL) || memchr(text, '\0', length) != NULL) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_INVALID_ARGUMENT,
			    "%s: not a text file (UTF-8)",
			    name);
		return NULL;
	}
	if (length >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		reader.p += 3;
	for (guint c = 0; c < COLUMN_LAST; c++)
		columns[c] = (gint)c;

	while (reader.p < reader.end) {
		g_autoptr(RelayCsvRecord) record = relay_csv_read_record(&reader, name, error);
		g_autofree gchar *problem = NULL;
		RelayBlocklistEntry *entry;

		if (record == NULL)
			return NULL; /* the file's structure is broken: nothing after it means much
				      */
		if (relay_csv_record_blank(record))
			continue;
		if (first && relay_csv_record_is_header(record)) {
			first = FALSE;
			relay_blocklist_columns_from_header(record, columns);
			continue;
		}
		first = FALSE;
		entry = relay_blocklist_entry_from_record(record, columns, &problem);
		relay_blocklist_collector_add(&collector, entry, record->line, problem);
	}
	return relay_blocklist_collector_finish(&collector, error);
}

/* one element of a JSON list to an entry, or a message saying what is wrong */
static RelayBlocklistEntry *
relay_blocklist_entry_from_json(JsonNode *node, guint index, gchar **out_problem)
{
	g_autoptr(RelayBlocklistEntry) entry = g_new0(RelayBlocklistEntry, 1);
	const gchar *domain = NULL;
	const gchar *severity = NULL;
	const gchar *comment = NULL;

	entry->line = index + 1;
	if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING) {
		domain = json_node_get_string(node);
	} else if (JSON_NODE_HOLDS_OBJECT(node)) {
		JsonObject *object = json_node_get_object(node);
		domain = relay_json_object_get_string(object, "domain");
		severity = relay_json_object_get_string(object, "severity");
		/* ours says reason; Mastodon's API says comment, its CSV public_comment */
		comment = relay_json_object_get_string(object, "reason");
		if (comment == NULL)
			comment = relay_json_object_get_string(object, "comment");
		if (comment == NULL)
			comment = relay_json_object_get_string(object, "public_comment");
	}
	if (domain == NULL) {
		*out_problem = g_strdup("not a domain, nor an object with a \"domain\" string");
		return NULL;
	}
	/* Mastodon's public list hides some domains as "ex*mple.com" */
	if (!relay_blocklist_entry_fill(
		    entry, domain, severity, comment, strchr(domain, '*') != NULL, out_problem))
		return NULL;
	return g_steal_pointer(&entry);
}

/**
 * relay_blocklist_parse_json:
 * @bytes: a JSON document
 * @name: where it comes from, for messages
 * @error: (nullable): every problem, as "NAME: entry N: PROBLEM"
 *	(%RELAY_ERROR_INVALID_ARGUMENT)
 *
 * Reads a domain block list as JSON: what `/networks/NAME/blocks` serves (an array of
 * {"domain", "severity", "reason"}), Mastodon's `/api/v1/instance/domain_blocks` (an array of
 * {"domain", "severity", "comment"}), or an array of domain strings. Severities and skips are
 * as in relay_blocklist_parse(); element N is reported as line N.
 *
 * Returns: (transfer container) (element-type RelayBlocklistEntry) (nullable): every entry, in
 *	order, or %NULL when anything is wrong
 */
GPtrArray *
relay_blocklist_parse_json(GBytes *bytes, const gchar *name, GError **error)
{
	g_auto(RelayBlocklistCollector) collector = {0};
	g_autoptr(GError) error_local = NULL;
	g_autoptr(JsonNode) root = relay_json_parse(bytes, RELAY_JSON_MAX_DEPTH, &error_local);
	JsonArray *array;

	if (root == NULL || !JSON_NODE_HOLDS_ARRAY(root)) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_INVALID_ARGUMENT,
			    "%s: %s",
			    name,
			    root == NULL ? error_local->message : "not a JSON array of blocks");
		return NULL;
	}
	array = json_node_get_array(root);
	relay_blocklist_collector_init(&collector, name, TRUE);
	for (guint i = 0; i < json_array_get_length(array); i++) {
		g_autofree gchar *problem = NULL;
		RelayBlocklistEntry *entry = relay_blocklist_entry_from_json(
			json_array_get_element(array, i), i, &problem);
		relay_blocklist_collector_add(&collector, entry, i + 1, problem);
	}
	return relay_blocklist_collector_finish(&collector, error);
}

/* appends @value as one CSV field, quoted when it must be */
static void
relay_blocklist_append_field(GString *csv, const gchar *value)
{
	if (value == NULL)
		return;
	if (strpbrk(value, ",\"\r\n") == NULL && !g_ascii_isspace(value[0]) &&
	    (value[0] == '\0' || !g_ascii_isspace(value[strlen(value) - 1]))) {
		g_string_append(csv, value);
		return;
	}
	g_string_append_c(csv, '"');
	for (const gchar *p = value; *p != '\0'; p++) {
		if (*p == '"')
			g_string_append_c(csv, '"');
		g_string_append_c(csv, *p);
	}
	g_string_append_c(csv, '"');
}

/**
 * relay_blocklist_append_line:
 * @csv: the file being written, after its header (%RELAY_BLOCKLIST_HEADER)
 * @domain: the blocked domain
 * @severity: suspend (what a relay's block is)
 * @comment: (nullable): the block's reason
 *
 * Appends one line in Mastodon's format: media and reports rejected, not obfuscated.
 */
void
relay_blocklist_append_line(GString *csv,
			    const gchar *domain,
			    const gchar *severity,
			    const gchar *comment)
{
	relay_blocklist_append_field(csv, domain);
	g_string_append_printf(csv, ",%s,true,true,", severity);
	relay_blocklist_append_field(csv, comment);
	g_string_append(csv, ",false\n");
}
