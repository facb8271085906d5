/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#include "relay-test-prometheus.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

typedef struct {
	gchar *name;
	gchar *type;
	gboolean has_help;
	/* histograms: le -> cumulative count, in order, and the +Inf and _count values */
	gdouble last_bucket;
	gboolean seen_inf;
	gdouble inf;
} Family;

static void
family_free(Family *family)
{
	g_free(family->name);
	g_free(family->type);
	g_free(family);
}

static gboolean
valid_name(const gchar *name, gboolean label)
{
	if (name[0] == '\0' ||
	    !(g_ascii_isalpha(name[0]) || name[0] == '_' || (!label && name[0] == ':')))
		return FALSE;
	for (const gchar *p = name; *p != '\0'; p++) {
		if (!(g_ascii_isalnum(*p) || *p == '_' || (!label && *p == ':')))
			return FALSE;
	}
	return !(label && g_str_has_prefix(name, "__"));
}

static gboolean
parse_value(const gchar *text, gdouble *value)
{
	gchar *end = NULL;

	if (g_strcmp0(text, "+Inf") == 0) {
		*value = INFINITY;
		return TRUE;
	}
	if (g_strcmp0(text, "-Inf") == 0) {
		*value = -INFINITY;
		return TRUE;
	}
	if (g_strcmp0(text, "NaN") == 0) {
		*value = NAN;
		return TRUE;
	}
	*value = g_ascii_strtod(text, &end);
	return end != text && *end == '\0';
}

/* the family a sample name belongs to: name, or name without _bucket/_sum/_count */
static Family *
family_of(GHashTable *families, const gchar *name, const gchar **suffix)
{
	static const gchar *suffixes[] = {"_bucket", "_sum", "_count"};
	Family *family = g_hash_table_lookup(families, name);

	*suffix = "";
	if (family != NULL)
		return family;
	for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		if (g_str_has_suffix(name, suffixes[i])) {
			g_autofree gchar *base =
				g_strndup(name, strlen(name) - strlen(suffixes[i]));
			family = g_hash_table_lookup(families, base);
			if (family != NULL && g_strcmp0(family->type, "histogram") == 0) {
				*suffix = suffixes[i];
				return family;
			}
		}
	}
	return NULL;
}

/* parses {a="b",c="d"} at *p; returns the le label's value when asked */
static gboolean
parse_labels(const gchar **p, gchar **out_le, GError **error)
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	(*p)++; /* { */
	while (**p != '}') {
		g_autoptr(GString) label = g_string_new(NULL);
		g_autoptr(GString) value = g_string_new(NULL);
		while (**p != '=' && **p != '\0')
			g_string_append_c(label, *(*p)++);
		if (**p != '=' || !valid_name(label->str, TRUE)) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_INVALID_DATA,
				    "bad label name '%s'",
				    label->str);
			return FALSE;
		}
		(*p)++;
		if (**p != '"') {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_INVALID_DATA,
				    "label %s: no opening quote",
				    label->str);
			return FALSE;
		}
		(*p)++;
		while (**p != '"') {
			if (**p == '\0' || **p == '\n') {
				g_set_error(error,
					    G_IO_ERROR,
					    G_IO_ERROR_INVALID_DATA,
					    "label %s: unterminated value",
					    label->str);
				return FALSE;
			}
			if (**p == '\\') {
				(*p)++;
				if (**p == 'n')
					g_string_append_c(value, '\n');
				else if (**p == '\\' || **p == '"')
					g_string_append_c(value, **p);
				else {
					g_set_error(error,
						    G_IO_ERROR,
						    G_IO_ERROR_INVALID_DATA,
						    "label %s: bad escape",
						    label->str);
					return FALSE;
				}
				(*p)++;
				continue;
			}
			g_string_append_c(value, *(*p)++);
		}
		(*p)++;
		if (!g_utf8_validate(value->str, -1, NULL) ||
		    !g_hash_table_add(seen, g_strdup(label->str))) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_INVALID_DATA,
				    "label %s twice or not UTF-8",
				    label->str);
			return FALSE;
		}
		if (g_strcmp0(label->str, "le") == 0 && out_le != NULL)
			*out_le = g_strdup(value->str);
		if (**p == ',')
			(*p)++;
		else if (**p != '}') {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_INVALID_DATA,
				    "expected , or } after label %s",
				    label->str);
			return FALSE;
		}
	}
	(*p)++;
	return TRUE;
}

static gboolean
parse_line(const gchar *line,
	   GHashTable *families,
	   Family **current,
	   GHashTable *samples,
	   GError **error)
{
	g_autofree gchar *le = NULL;
	g_autofree gchar *name = NULL;
	g_autofree gchar *series = NULL;
	const gchar *p = line;
	const gchar *suffix;
	gdouble value;
	Family *family;

	if (g_str_has_prefix(line, "# HELP ") || g_str_has_prefix(line, "# TYPE ")) {
		g_auto(GStrv) parts = g_strsplit(line + 7, " ", 2);
		gboolean help = line[2] == 'H';
		if (parts[0] == NULL || parts[1] == NULL || !valid_name(parts[0], FALSE)) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "bad comment");
			return FALSE;
		}
		if (!g_str_has_prefix(parts[0], "relay_")) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_INVALID_DATA,
				    "%s: not relay_",
				    parts[0]);
			return FALSE;
		}
		family = g_hash_table_lookup(families, parts[0]);
		if (family == NULL) {
			family = g_new0(Family, 1);
			family->name = g_strdup(parts[0]);
			family->last_bucket = -1;
			g_hash_table_insert(families, family->name, family);
		} else if (*current != family) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_INVALID_DATA,
				    "%s: comments apart",
				    parts[0]);
			return FALSE;
		}
		*current = family;
		if (help) {
			if (family->has_help || family->type != NULL) {
				g_set_error(error,
					    G_IO_ERROR,
					    G_IO_ERROR_INVALID_DATA,
					    "%s: HELP twice or after TYPE",
					    parts[0]);
				return FALSE;
			}
			family->has_help = TRUE;
			return TRUE;
		}
		if (family->type != NULL ||
		    !g_strv_contains(
			    (const gchar *const[]){
				    "counter", "gauge", "histogram", "summary", "untyped", NULL},
			    parts[1])) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_INVALID_DATA,
				    "%s: TYPE twice or unknown",
				    parts[0]);
			return FALSE;
		}
		if (g_strcmp0(parts[1], "counter") == 0 && !g_str_has_suffix(parts[0], "_total")) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_INVALID_DATA,
				    "counter %s: no _total",
				    parts[0]);
			return FALSE;
		}
		family->type = g_strdup(parts[1]);
		return TRUE;
	}
	if (line[0] == '#') {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "unexpected comment");
		return FALSE;
	}

	while (*p != '{' && *p != ' ' && *p != '\0')
		p++;
	name = g_strndup(line, (gsize)(p - line));
	if (!valid_name(name, FALSE)) {
		g_set_error(
			error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "bad metric name '%s'", name);
		return FALSE;
	}
	family = family_of(families, name, &suffix);
	if (family == NULL || family->type == NULL || !family->has_help) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_INVALID_DATA,
			    "%s: no HELP and TYPE before it",
			    name);
		return FALSE;
	}
	if (family != *current) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_INVALID_DATA,
			    "%s: samples apart from its family",
			    name);
		return FALSE;
	}
	if (*p == '{' && !parse_labels(&p, &le, error))
		return FALSE;
	series = g_strndup(line, (gsize)(p - line));
	if (*p != ' ' || !parse_value(p + 1, &value)) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_INVALID_DATA,
			    "%s: bad value '%s'",
			    series,
			    p);
		return FALSE;
	}
	if (g_hash_table_contains(samples, series)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s twice", series);
		return FALSE;
	}
	if (g_strcmp0(family->type, "counter") == 0 && (value < 0 || isnan(value))) {
		g_set_error(
			error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: counter below 0", series);
		return FALSE;
	}
	if (g_strcmp0(suffix, "_bucket") == 0) {
		if (le == NULL || value < family->last_bucket) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_INVALID_DATA,
				    "%s: no le, or not cumulative",
				    series);
			return FALSE;
		}
		family->last_bucket = value;
		if (g_strcmp0(le, "+Inf") == 0) {
			family->seen_inf = TRUE;
			family->inf = value;
		}
	} else if (g_strcmp0(suffix, "_count") == 0) {
		if (!family->seen_inf || family->inf != value) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_INVALID_DATA,
				    "%s: not the +Inf bucket",
				    series);
			return FALSE;
		}
	}
	g_hash_table_insert(samples, g_steal_pointer(&series), g_memdup2(&value, sizeof(value)));
	return TRUE;
}

GHashTable *
relay_test_prometheus_parse(const gchar *text, GError **error)
{
	g_autoptr(GHashTable) samples =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_autoptr(GHashTable) families =
		g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)family_free);
	g_auto(GStrv) lines = NULL;
	Family *current = NULL;
	guint count;

	if (!g_str_has_suffix(text, "\n")) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_INVALID_DATA,
			    "the text does not end with a newline");
		return NULL;
	}
	lines = g_strsplit(text, "\n", -1);
	count = g_strv_length(lines) - 1;
	for (guint i = 0; i < count; i++) {
		if (!parse_line(lines[i], families, &current, samples, error)) {
			g_prefix_error(error, "line %u: ", i + 1);
			return NULL;
		}
	}
	return g_steal_pointer(&samples);
}

gdouble
relay_test_prometheus_value(GHashTable *samples, const gchar *series)
{
	gdouble *value = g_hash_table_lookup(samples, series);
	return value != NULL ? *value : NAN;
}
