/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * The target URI is split by hand rather than with GUri: GUri may normalise the path (dot
 * segments, percent-encoding case) and signatures cover the bytes as sent. The split follows
 * RFC 3986 section 3: "scheme://authority" up to the first "/", "?" or "#"; the path up to "?" or
 * "#"; the query up to "#"; the fragment is dropped since it is never sent.
 */

#include "config.h"

#include <string.h>

#include "relay-http-request.h"

typedef struct {
	gchar *name;
	gchar *value;
} RelayHttpHeader;

struct _RelayHttpRequest {
	gchar *method;
	gchar *target_uri;
	gchar *scheme;	  /* (nullable): lower case; NULL for an origin-form target */
	gchar *authority; /* (nullable): as given; NULL for an origin-form target */
	gchar *path;
	gchar *query; /* (nullable): without the "?" */
	gchar *path_and_query;
	GPtrArray *headers; /* (element-type RelayHttpHeader) */
	GHashTable *joined; /* lower-case name -> values joined with ", ", filled on demand */
	GBytes *body;	    /* (nullable) */
};

static void
relay_http_header_free(RelayHttpHeader *header)
{
	g_free(header->name);
	g_free(header->value);
	g_free(header);
}

static gboolean
relay_http_is_scheme(const gchar *text, gsize len)
{
	if (len == 0 || !g_ascii_isalpha(text[0]))
		return FALSE;
	for (gsize i = 1; i < len; i++) {
		if (!g_ascii_isalnum(text[i]) && text[i] != '+' && text[i] != '-' && text[i] != '.')
			return FALSE;
	}
	return TRUE;
}

/**
 * relay_http_request_new:
 * @method: the request method, such as "POST"
 * @target_uri: the absolute target URI, scheme://authority/path?query; an origin-form target
 *	(/path?query) is accepted too, and then the authority comes from the Host header
 *
 * The path and query are kept exactly as given; a "#fragment" is dropped; an empty path of an
 * absolute URI becomes "/".
 *
 * Returns: (transfer full): a request with no headers and no body
 */
RelayHttpRequest *
relay_http_request_new(const gchar *method, const gchar *target_uri)
{
	RelayHttpRequest *self;
	const gchar *rest = target_uri;
	const gchar *separator;
	gsize path_len;

	g_return_val_if_fail(method != NULL, NULL);
	g_return_val_if_fail(target_uri != NULL, NULL);

	self = g_new0(RelayHttpRequest, 1);
	self->method = g_strdup(method);
	self->headers = g_ptr_array_new_with_free_func((GDestroyNotify)relay_http_header_free);
	self->joined = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

	separator = strstr(target_uri, "://");
	if (separator != NULL &&
	    relay_http_is_scheme(target_uri, (gsize)(separator - target_uri))) {
		gsize authority_len;
		const gchar *at;

		self->scheme = g_ascii_strdown(target_uri, separator - target_uri);
		rest = separator + 3;
		authority_len = strcspn(rest, "/?#");
		self->authority = g_strndup(rest, authority_len);
		/* userinfo is never part of the authority sent in Host */
		at = strrchr(self->authority, '@');
		if (at != NULL) {
			gchar *host = g_strdup(at + 1);
			g_free(self->authority);
			self->authority = host;
		}
		rest += authority_len;
	}
	path_len = strcspn(rest, "?#");
	if (path_len == 0 && self->scheme != NULL)
		self->path = g_strdup("/");
	else
		self->path = g_strndup(rest, path_len);
	rest += path_len;
	if (rest[0] == '?')
		self->query = g_strndup(rest + 1, strcspn(rest + 1, "#"));

	if (self->query != NULL)
		self->path_and_query = g_strdup_printf("%s?%s", self->path, self->query);
	else
		self->path_and_query = g_strdup(self->path);
	if (self->scheme != NULL)
		self->target_uri = g_strdup_printf(
			"%s://%s%s", self->scheme, self->authority, self->path_and_query);
	else
		self->target_uri = g_strdup(self->path_and_query);
	return self;
}

/**
 * relay_http_request_free:
 * @self: (transfer full) (nullable): a request
 */
void
relay_http_request_free(RelayHttpRequest *self)
{
	if (self == NULL)
		return;
	g_free(self->method);
	g_free(self->target_uri);
	g_free(self->scheme);
	g_free(self->authority);
	g_free(self->path);
	g_free(self->query);
	g_free(self->path_and_query);
	g_ptr_array_unref(self->headers);
	g_hash_table_unref(self->joined);
	if (self->body != NULL)
		g_bytes_unref(self->body);
	g_free(self);
}

/**
 * relay_http_request_get_method:
 * @self: a request
 *
 * Returns: (transfer none): the method as given
 */
const gchar *
relay_http_request_get_method(RelayHttpRequest *self)
{
	return self->method;
}

/**
 * relay_http_request_get_target_uri:
 * @self: a request
 *
 * Returns: (transfer none): scheme://authority/path?query (the scheme in lower case, the
 * fragment dropped), or the origin-form target as given
 */
const gchar *
relay_http_request_get_target_uri(RelayHttpRequest *self)
{
	return self->target_uri;
}

/**
 * relay_http_request_get_scheme:
 * @self: a request
 *
 * Returns: (transfer none) (nullable): the scheme in lower case, or %NULL for an origin-form
 * target
 */
const gchar *
relay_http_request_get_scheme(RelayHttpRequest *self)
{
	return self->scheme;
}

/**
 * relay_http_request_get_authority:
 * @self: a request
 *
 * Returns: (transfer none) (nullable): the authority (host[:port]) of the target URI as given,
 * or for an origin-form target the Host header, or %NULL
 */
const gchar *
relay_http_request_get_authority(RelayHttpRequest *self)
{
	if (self->authority != NULL)
		return self->authority;
	return relay_http_request_get_header(self, "Host");
}

/**
 * relay_http_request_get_path:
 * @self: a request
 *
 * Returns: (transfer none): the path exactly as given
 */
const gchar *
relay_http_request_get_path(RelayHttpRequest *self)
{
	return self->path;
}

/**
 * relay_http_request_get_query:
 * @self: a request
 *
 * Returns: (transfer none) (nullable): the query exactly as given, without the "?", or %NULL
 * when the target has no "?"
 */
const gchar *
relay_http_request_get_query(RelayHttpRequest *self)
{
	return self->query;
}

/**
 * relay_http_request_get_path_and_query:
 * @self: a request
 *
 * Returns: (transfer none): path?query, or the path when there is no query
 */
const gchar *
relay_http_request_get_path_and_query(RelayHttpRequest *self)
{
	return self->path_and_query;
}

static gboolean
relay_http_is_ows(gchar c)
{
	return c == ' ' || c == '\t';
}

/**
 * relay_http_request_add_header:
 * @self: a request
 * @name: the field name (compared without regard to case)
 * @value: the field value; leading and trailing spaces and tabs are dropped
 *
 * Appends a header line; earlier lines of the same name are kept.
 */
void
relay_http_request_add_header(RelayHttpRequest *self, const gchar *name, const gchar *value)
{
	RelayHttpHeader *header;
	gsize start = 0;
	gsize end;

	g_return_if_fail(self != NULL);
	g_return_if_fail(name != NULL);
	g_return_if_fail(value != NULL);

	end = strlen(value);
	while (start < end && relay_http_is_ows(value[start]))
		start++;
	while (end > start && relay_http_is_ows(value[end - 1]))
		end--;
	header = g_new0(RelayHttpHeader, 1);
	header->name = g_strdup(name);
	header->value = g_strndup(value + start, end - start);
	g_ptr_array_add(self->headers, header);
	g_hash_table_remove_all(self->joined);
}

/**
 * relay_http_request_remove_header:
 * @self: a request
 * @name: the field name (compared without regard to case)
 *
 * Returns: how many header lines were removed
 */
guint
relay_http_request_remove_header(RelayHttpRequest *self, const gchar *name)
{
	guint removed = 0;

	g_return_val_if_fail(self != NULL, 0);
	g_return_val_if_fail(name != NULL, 0);

	for (guint i = self->headers->len; i > 0; i--) {
		RelayHttpHeader *header = g_ptr_array_index(self->headers, i - 1);
		if (g_ascii_strcasecmp(header->name, name) == 0) {
			g_ptr_array_remove_index(self->headers, i - 1);
			removed++;
		}
	}
	g_hash_table_remove_all(self->joined);
	return removed;
}

/**
 * relay_http_request_get_header:
 * @self: a request
 * @name: the field name (compared without regard to case)
 *
 * Returns: (transfer none) (nullable): the value, the values of repeated lines joined with ", "
 * in order (RFC 9110 section 5.3), or %NULL when there is no such header
 */
const gchar *
relay_http_request_get_header(RelayHttpRequest *self, const gchar *name)
{
	g_autofree gchar *key = NULL;
	const gchar *cached;
	GString *joined = NULL;

	g_return_val_if_fail(self != NULL, NULL);
	g_return_val_if_fail(name != NULL, NULL);

	key = g_ascii_strdown(name, -1);
	cached = g_hash_table_lookup(self->joined, key);
	if (cached != NULL)
		return cached;
	for (guint i = 0; i < self->headers->len; i++) {
		RelayHttpHeader *header = g_ptr_array_index(self->headers, i);
		if (g_ascii_strcasecmp(header->name, name) != 0)
			continue;
		if (joined == NULL) {
			joined = g_string_new(header->value);
		} else {
			g_string_append(joined, ", ");
			g_string_append(joined, header->value);
		}
	}
	if (joined == NULL)
		return NULL;
	cached = joined->str;
	g_hash_table_insert(self->joined, g_steal_pointer(&key), g_string_free(joined, FALSE));
	return cached;
}

/**
 * relay_http_request_foreach_header:
 * @self: a request
 * @func: (scope call): called for each header line in order
 * @user_data: passed to @func
 *
 * @func must not change the request.
 */
void
relay_http_request_foreach_header(RelayHttpRequest *self,
				  RelayHttpHeaderFunc func,
				  gpointer user_data)
{
	g_return_if_fail(self != NULL);
	g_return_if_fail(func != NULL);

	for (guint i = 0; i < self->headers->len; i++) {
		RelayHttpHeader *header = g_ptr_array_index(self->headers, i);
		func(header->name, header->value, user_data);
	}
}

/**
 * relay_http_request_set_body:
 * @self: a request
 * @body: (nullable): the raw body bytes as sent (a new reference is taken), or %NULL for none
 */
void
relay_http_request_set_body(RelayHttpRequest *self, GBytes *body)
{
	g_return_if_fail(self != NULL);

	if (body != NULL)
		g_bytes_ref(body);
	if (self->body != NULL)
		g_bytes_unref(self->body);
	self->body = body;
}

/**
 * relay_http_request_get_body:
 * @self: a request
 *
 * Returns: (transfer none) (nullable): the body, or %NULL when there is none
 */
GBytes *
relay_http_request_get_body(RelayHttpRequest *self)
{
	return self->body;
}

/* dates, RFC 9110 section 5.6.7; the names are English whatever the locale */

static const gchar *const day_names[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const gchar *const day_names_long[] = {
	"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
static const gchar *const month_names[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/**
 * relay_http_date_format:
 * @time_s: seconds since the Unix epoch
 *
 * Returns: (transfer full): @time_s as an IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT"
 */
gchar *
relay_http_date_format(gint64 time_s)
{
	g_autoptr(GDateTime) date = g_date_time_new_from_unix_utc(time_s);

	g_return_val_if_fail(date != NULL, NULL);

	return g_strdup_printf("%s, %02d %s %04d %02d:%02d:%02d GMT",
			       day_names[g_date_time_get_day_of_week(date) - 1],
			       g_date_time_get_day_of_month(date),
			       month_names[g_date_time_get_month(date) - 1],
			       g_date_time_get_year(date),
			       g_date_time_get_hour(date),
			       g_date_time_get_minute(date),
			       g_date_time_get_second(date));
}

typedef struct {
	const gchar *text;
	gsize pos;
} RelayDateCursor;

static gboolean
relay_date_expect(RelayDateCursor *cursor, const gchar *literal)
{
	gsize len = strlen(literal);

	if (strncmp(cursor->text + cursor->pos, literal, len) != 0)
		return FALSE;
	cursor->pos += len;
	return TRUE;
}

/* exactly @digits decimal digits */
static gboolean
relay_date_number(RelayDateCursor *cursor, guint digits, gint *out_value)
{
	gint value = 0;

	for (guint i = 0; i < digits; i++) {
		gchar c = cursor->text[cursor->pos];
		if (!g_ascii_isdigit(c))
			return FALSE;
		value = value * 10 + (c - '0');
		cursor->pos++;
	}
	*out_value = value;
	return TRUE;
}

/* one of @names, compared without regard to case; the index in @out_index */
static gboolean
relay_date_name(RelayDateCursor *cursor, const gchar *const *names, guint n_names, guint *out_index)
{
	for (guint i = 0; i < n_names; i++) {
		gsize len = strlen(names[i]);
		if (g_ascii_strncasecmp(cursor->text + cursor->pos, names[i], len) == 0) {
			cursor->pos += len;
			*out_index = i;
			return TRUE;
		}
	}
	return FALSE;
}

/* hour ":" minute ":" second */
static gboolean
relay_date_time_of_day(RelayDateCursor *cursor, gint *hour, gint *minute, gint *second)
{
	return relay_date_number(cursor, 2, hour) && relay_date_expect(cursor, ":") &&
	       relay_date_number(cursor, 2, minute) && relay_date_expect(cursor, ":") &&
	       relay_date_number(cursor, 2, second);
}

static gboolean
relay_date_to_unix(
	gint year, gint month, gint day, gint hour, gint minute, gint second, gint64 *out_time_s)
{
	g_autoptr(GDateTime) date = NULL;

	/* RFC 9110 allows a leap second (60): count it as the next second */
	if (year < 1 || year > 9999 || hour > 23 || minute > 59 || second > 60)
		return FALSE;
	date = g_date_time_new_utc(year, month, day, hour, minute, MIN(second, 59));
	if (date == NULL)
		return FALSE;
	*out_time_s = g_date_time_to_unix(date) + (second == 60 ? 1 : 0);
	return TRUE;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT", after the day name */
static gboolean
relay_date_parse_imf_fixdate(RelayDateCursor *cursor, gint64 *out_time_s)
{
	gint day, year, hour, minute, second;
	guint month;

	if (!relay_date_expect(cursor, ", ") || !relay_date_number(cursor, 2, &day) ||
	    !relay_date_expect(cursor, " ") ||
	    !relay_date_name(cursor, month_names, G_N_ELEMENTS(month_names), &month) ||
	    !relay_date_expect(cursor, " ") || !relay_date_number(cursor, 4, &year) ||
	    !relay_date_expect(cursor, " ") ||
	    !relay_date_time_of_day(cursor, &hour, &minute, &second) ||
	    !relay_date_expect(cursor, " GMT"))
		return FALSE;
	return relay_date_to_unix(year, (gint)month + 1, day, hour, minute, second, out_time_s);
}

/* "Sunday, 06-Nov-94 08:49:37 GMT", after the day name */
static gboolean
relay_date_parse_rfc850(RelayDateCursor *cursor, gint64 *out_time_s)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	gint day, year, hour, minute, second;
	guint month;

	if (!relay_date_expect(cursor, ", ") || !relay_date_number(cursor, 2, &day) ||
	    !relay_date_expect(cursor, "-") ||
	    !relay_date_name(cursor, month_names, G_N_ELEMENTS(month_names), &month) ||
	    !relay_date_expect(cursor, "-") || !relay_date_number(cursor, 2, &year) ||
	    !relay_date_expect(cursor, " ") ||
	    !relay_date_time_of_day(cursor, &hour, &minute, &second) ||
	    !relay_date_expect(cursor, " GMT"))
		return FALSE;
	/* RFC 9110: a two-digit year more than 50 years ahead means the most recent past one */
	year += g_date_time_get_year(now) - g_date_time_get_year(now) % 100;
	if (year > g_date_time_get_year(now) + 50)
		year -= 100;
	return relay_date_to_unix(year, (gint)month + 1, day, hour, minute, second, out_time_s);
}

/* "Sun Nov  6 08:49:37 1994", after the day name */
static gboolean
relay_date_parse_asctime(RelayDateCursor *cursor, gint64 *out_time_s)
{
	gint day, year, hour, minute, second;
	guint month;

	if (!relay_date_expect(cursor, " ") ||
	    !relay_date_name(cursor, month_names, G_N_ELEMENTS(month_names), &month) ||
	    !relay_date_expect(cursor, " "))
		return FALSE;
	if (relay_date_expect(cursor, " ")) {
		if (!relay_date_number(cursor, 1, &day))
			return FALSE;
	} else if (!relay_date_number(cursor, 2, &day)) {
		return FALSE;
	}
	if (!relay_date_expect(cursor, " ") ||
	    !relay_date_time_of_day(cursor, &hour, &minute, &second) ||
	    !relay_date_expect(cursor, " ") || !relay_date_number(cursor, 4, &year))
		return FALSE;
	return relay_date_to_unix(year, (gint)month + 1, day, hour, minute, second, out_time_s);
}

/**
 * relay_http_date_parse:
 * @text: an HTTP date
 * @out_time_s: (out): seconds since the Unix epoch
 *
 * Parses the three forms RFC 9110 section 5.6.7 makes recipients accept: IMF-fixdate
 * ("Sun, 06 Nov 1994 08:49:37 GMT"), RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime
 * ("Sun Nov  6 08:49:37 1994"). Names are matched without regard to case; the day name is not
 * checked against the date. Surrounding spaces are allowed, nothing else.
 *
 * Returns: whether @text is a valid date
 */
gboolean
relay_http_date_parse(const gchar *text, gint64 *out_time_s)
{
	RelayDateCursor cursor = {text, 0};
	gint64 time_s = 0;
	guint day_name;
	gboolean ok;

	g_return_val_if_fail(text != NULL, FALSE);

	while (relay_http_is_ows(text[cursor.pos]))
		cursor.pos++;
	/* the long names start with the short ones: try them first */
	if (relay_date_name(&cursor, day_names_long, G_N_ELEMENTS(day_names_long), &day_name))
		ok = relay_date_parse_rfc850(&cursor, &time_s);
	else if (relay_date_name(&cursor, day_names, G_N_ELEMENTS(day_names), &day_name))
		ok = text[cursor.pos] == ',' ? relay_date_parse_imf_fixdate(&cursor, &time_s)
					     : relay_date_parse_asctime(&cursor, &time_s);
	else
		return FALSE;
	if (!ok)
		return FALSE;
	while (relay_http_is_ows(text[cursor.pos]))
		cursor.pos++;
	if (text[cursor.pos] != '\0')
		return FALSE;
	if (out_time_s != NULL)
		*out_time_s = time_s;
	return TRUE;
}
