/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * HTTP signatures, draft-cavage-http-signatures-12 and RFC 9421.
 *
 * Parsing never splits on ",": the draft-cavage parameters are an RFC 9110 auth-param list
 * (tokens, quoted strings with quoted-pairs, optional whitespace around "=", empty list elements
 * allowed), and RFC 9421's Signature-Input, Signature and Content-Digest are RFC 8941 dictionaries,
 * parsed by the small structured-field parser below (RFC 8941 section 4.2). Duplicate parameters
 * and duplicate dictionary keys are refused rather than resolved: no honest signer sends them.
 *
 * The RFC 9421 "@signature-params" line is the Signature-Input member exactly as received, so a
 * signer that serialised it differently from us still verifies.
 *
 * Verification uses EVP_DigestVerify() one-shot: RSA PKCS#1 v1.5 (SHA-256, SHA-512), RSA-PSS
 * SHA-512 (salt 64, MGF1 SHA-512, RFC 9421 section 3.3.1) and Ed25519 (pure, over the signing
 * string; "ed25519-sha512" is the same algorithm under Misskey's and Joyent's name).
 */

#include "config.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/rsa.h>

#include "relay-http-sig.h"

/* RSA keys outside these sizes are refused: too weak, or too slow to verify */
#define RELAY_HTTP_SIG_RSA_MIN_BITS 1024
#define RELAY_HTTP_SIG_RSA_MAX_BITS 16384
/* RFC 9421 section 3.3.1: RSASSA-PSS with SHA-512 uses a 64-byte salt */
#define RELAY_HTTP_SIG_PSS_SALT_BYTES 64
/* RFC 8941: integers have at most 15 digits */
#define RELAY_SF_INTEGER_MAX_DIGITS 15

typedef enum {
	RELAY_HTTP_SIG_ALG_RSA_PKCS1_SHA256,
	RELAY_HTTP_SIG_ALG_RSA_PKCS1_SHA512,
	RELAY_HTTP_SIG_ALG_RSA_PSS_SHA512,
	RELAY_HTTP_SIG_ALG_ED25519,
} RelayHttpSigAlg;

/* the algorithm names each format accepts; NULL alg: decided by the key type */
typedef struct {
	const gchar *name;
	gboolean for_rsa;
	RelayHttpSigAlg alg;
} RelayHttpSigAlgName;

static const RelayHttpSigAlgName cavage_algorithms[] = {
	{"rsa-sha256", TRUE, RELAY_HTTP_SIG_ALG_RSA_PKCS1_SHA256},
	{"rsa-sha512", TRUE, RELAY_HTTP_SIG_ALG_RSA_PKCS1_SHA512},
	{"hs2019", TRUE, RELAY_HTTP_SIG_ALG_RSA_PKCS1_SHA256},
	{"hs2019", FALSE, RELAY_HTTP_SIG_ALG_ED25519},
	{"ed25519", FALSE, RELAY_HTTP_SIG_ALG_ED25519},
	{"ed25519-sha512", FALSE, RELAY_HTTP_SIG_ALG_ED25519},
};

static const RelayHttpSigAlgName rfc9421_algorithms[] = {
	{"rsa-v1_5-sha256", TRUE, RELAY_HTTP_SIG_ALG_RSA_PKCS1_SHA256},
	{"rsa-pss-sha512", TRUE, RELAY_HTTP_SIG_ALG_RSA_PSS_SHA512},
	{"ed25519", FALSE, RELAY_HTTP_SIG_ALG_ED25519},
};

/* the RFC 9421 derived components we can compute for a request */
static const gchar *const rfc9421_derived[] = {
	"@method",
	"@target-uri",
	"@authority",
	"@scheme",
	"@request-target",
	"@path",
	"@query",
};

struct _RelayHttpSignature {
	RelayHttpSignatureFormat format;
	gchar *key_id;
	gchar *algorithm;      /* (nullable): lower case */
	gchar *label;	       /* (nullable): RFC 9421 only */
	GPtrArray *components; /* (element-type utf8): NULL-terminated, lower case */
	GBytes *signature;
	gboolean has_created;
	gint64 created;
	gchar *created_text; /* as received: draft-cavage's "(created)" line repeats it */
	gboolean has_expires;
	gint64 expires;
	gchar *expires_text;
	gchar *params_text; /* (nullable): RFC 9421 "@signature-params" value as received */
};

static RelayHttpSignature *
relay_http_signature_new(RelayHttpSignatureFormat format)
{
	RelayHttpSignature *self = g_new0(RelayHttpSignature, 1);
	self->format = format;
	self->components = g_ptr_array_new_null_terminated(8, g_free, TRUE);
	return self;
}

/**
 * relay_http_signature_free:
 * @self: (transfer full) (nullable): a signature
 */
void
relay_http_signature_free(RelayHttpSignature *self)
{
	if (self == NULL)
		return;
	g_free(self->key_id);
	g_free(self->algorithm);
	g_free(self->label);
	g_ptr_array_unref(self->components);
	if (self->signature != NULL)
		g_bytes_unref(self->signature);
	g_free(self->created_text);
	g_free(self->expires_text);
	g_free(self->params_text);
	g_free(self);
}

static gboolean
relay_http_signature_has(RelayHttpSignature *self, const gchar *component)
{
	for (guint i = 0; i < self->components->len; i++) {
		if (g_strcmp0(g_ptr_array_index(self->components, i), component) == 0)
			return TRUE;
	}
	return FALSE;
}

/* base64 (RFC 4648 section 4) */

static gint
relay_base64_value(gchar c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Strict base64, unlike g_base64_decode() which skips what it does not know: every character
 * must be in the alphabet, "=" padding may be left out but when present must be right.
 */
static GBytes *
relay_base64_decode_strict(const gchar *text, gsize len)
{
	g_autoptr(GByteArray) out = NULL;
	gsize padding = 0;
	guint32 accumulator = 0;
	guint bits = 0;

	while (padding < 2 && padding < len && text[len - 1 - padding] == '=')
		padding++;
	if (padding > 0 && len % 4 != 0)
		return NULL;
	len -= padding;
	if (len == 0 || len % 4 == 1)
		return NULL;
	out = g_byte_array_sized_new((guint)(len * 3 / 4 + 1));
	for (gsize i = 0; i < len; i++) {
		gint value = relay_base64_value(text[i]);
		if (value < 0)
			return NULL;
		accumulator = (accumulator << 6) | (guint32)value;
		bits += 6;
		if (bits >= 8) {
			guint8 byte;

			bits -= 8;
			byte = (guint8)((accumulator >> bits) & 0xff);
			g_byte_array_append(out, &byte, 1);
		}
	}
	return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

/* HTTP tokens (RFC 9110 section 5.6.2) */

static gboolean
relay_http_is_tchar(gchar c)
{
	return g_ascii_isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static gboolean
relay_http_is_ows(gchar c)
{
	return c == ' ' || c == '\t';
}

/* RFC 8941 structured fields, the subset of section 4.2 that signatures use */

typedef enum {
	RELAY_SF_INTEGER,
	RELAY_SF_DECIMAL,
	RELAY_SF_STRING,
	RELAY_SF_TOKEN,
	RELAY_SF_BYTES,
	RELAY_SF_BOOLEAN,
	RELAY_SF_INNER_LIST,
} RelaySfType;

typedef struct _RelaySfItem RelaySfItem;

typedef struct {
	gchar *key;
	RelaySfItem *value; /* a bare item */
} RelaySfParam;

struct _RelaySfItem {
	RelaySfType type;
	gint64 integer;	   /* INTEGER, BOOLEAN */
	gchar *text;	   /* STRING (unescaped), TOKEN, DECIMAL (as written) */
	GBytes *bytes;	   /* BYTES */
	GPtrArray *items;  /* INNER_LIST: (element-type RelaySfItem) */
	GPtrArray *params; /* (element-type RelaySfParam) */
};

typedef struct {
	gchar *key;
	RelaySfItem *value;
	gsize value_start; /* the member value as written, parameters included */
	gsize value_end;
} RelaySfMember;

static void
relay_sf_item_free(RelaySfItem *item)
{
	if (item == NULL)
		return;
	g_free(item->text);
	if (item->bytes != NULL)
		g_bytes_unref(item->bytes);
	if (item->items != NULL)
		g_ptr_array_unref(item->items);
	if (item->params != NULL)
		g_ptr_array_unref(item->params);
	g_free(item);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelaySfItem, relay_sf_item_free)

static void
relay_sf_param_free(RelaySfParam *param)
{
	g_free(param->key);
	relay_sf_item_free(param->value);
	g_free(param);
}

static void
relay_sf_member_free(RelaySfMember *member)
{
	g_free(member->key);
	relay_sf_item_free(member->value);
	g_free(member);
}

static RelaySfItem *
relay_sf_item_new(RelaySfType type)
{
	RelaySfItem *item = g_new0(RelaySfItem, 1);
	item->type = type;
	item->params = g_ptr_array_new_with_free_func((GDestroyNotify)relay_sf_param_free);
	return item;
}

static RelaySfItem *
relay_sf_item_get_param(RelaySfItem *item, const gchar *key)
{
	for (guint i = 0; i < item->params->len; i++) {
		RelaySfParam *param = g_ptr_array_index(item->params, i);
		if (g_strcmp0(param->key, key) == 0)
			return param->value;
	}
	return NULL;
}

typedef struct {
	const gchar *field; /* the header name, for messages */
	const gchar *text;
	gsize pos;
} RelaySfParser;

static void
relay_sf_fail(RelaySfParser *parser, GError **error, const gchar *what)
{
	g_set_error(error,
		    RELAY_FED_ERROR,
		    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
		    "%s: %s at character %" G_GSIZE_FORMAT,
		    parser->field,
		    what,
		    parser->pos + 1);
}

static gchar
relay_sf_peek(RelaySfParser *parser)
{
	return parser->text[parser->pos];
}

static void
relay_sf_skip_sp(RelaySfParser *parser)
{
	while (relay_sf_peek(parser) == ' ')
		parser->pos++;
}

static gchar *
relay_sf_parse_key(RelaySfParser *parser, GError **error)
{
	gsize start = parser->pos;
	gchar c = relay_sf_peek(parser);

	if (!g_ascii_islower(c) && c != '*') {
		relay_sf_fail(parser, error, "expected a key");
		return NULL;
	}
	for (;;) {
		c = relay_sf_peek(parser);
		if (!g_ascii_islower(c) && !g_ascii_isdigit(c) && c != '_' && c != '-' &&
		    c != '.' && c != '*')
			break;
		parser->pos++;
	}
	return g_strndup(parser->text + start, parser->pos - start);
}

static RelaySfItem *
relay_sf_parse_number(RelaySfParser *parser, GError **error)
{
	g_autoptr(RelaySfItem) item = relay_sf_item_new(RELAY_SF_INTEGER);
	g_autoptr(GString) digits = g_string_new(NULL);
	gboolean negative = FALSE;
	gboolean decimal = FALSE;
	gsize dot = 0;

	if (relay_sf_peek(parser) == '-') {
		negative = TRUE;
		parser->pos++;
	}
	if (!g_ascii_isdigit(relay_sf_peek(parser))) {
		relay_sf_fail(parser, error, "expected a digit");
		return NULL;
	}
	for (;;) {
		gchar c = relay_sf_peek(parser);

		if (g_ascii_isdigit(c)) {
			g_string_append_c(digits, c);
		} else if (c == '.' && !decimal) {
			if (digits->len > 12) {
				relay_sf_fail(parser, error, "decimal too large");
				return NULL;
			}
			decimal = TRUE;
			dot = digits->len;
			g_string_append_c(digits, c);
		} else {
			break;
		}
		parser->pos++;
		if ((!decimal && digits->len > RELAY_SF_INTEGER_MAX_DIGITS) ||
		    (decimal && digits->len > 16)) {
			relay_sf_fail(parser, error, "number too long");
			return NULL;
		}
	}
	if (!decimal) {
		item->integer = (gint64)g_ascii_strtoull(digits->str, NULL, 10);
		if (negative)
			item->integer = -item->integer;
		return g_steal_pointer(&item);
	}
	if (dot + 1 == digits->len || digits->len - dot - 1 > 3) {
		relay_sf_fail(parser, error, "a decimal needs 1 to 3 fractional digits");
		return NULL;
	}
	item->type = RELAY_SF_DECIMAL;
	item->text = g_strdup_printf("%s%s", negative ? "-" : "", digits->str);
	return g_steal_pointer(&item);
}

static RelaySfItem *
relay_sf_parse_string(RelaySfParser *parser, GError **error)
{
	g_autoptr(RelaySfItem) item = relay_sf_item_new(RELAY_SF_STRING);
	g_autoptr(GString) text = g_string_new(NULL);

	parser->pos++; /* the opening DQUOTE */
	for (;;) {
		gchar c = relay_sf_peek(parser);

		if (c == '\0') {
			relay_sf_fail(parser, error, "unterminated string");
			return NULL;
		}
		if (c == '"') {
			parser->pos++;
			break;
		}
		if (c == '\\') {
			parser->pos++;
			c = relay_sf_peek(parser);
			if (c != '"' && c != '\\') {
				relay_sf_fail(parser, error, "bad escape in a string");
				return NULL;
			}
		} else if ((guchar)c < 0x20 || (guchar)c > 0x7e) {
			relay_sf_fail(parser, error, "character not allowed in a string");
			return NULL;
		}
		g_string_append_c(text, c);
		parser->pos++;
	}
	item->text = g_string_free(g_steal_pointer(&text), FALSE);
	return g_steal_pointer(&item);
}

static RelaySfItem *
relay_sf_parse_token(RelaySfParser *parser, GError **error)
{
	RelaySfItem *item;
	gsize start = parser->pos;

	parser->pos++; /* ALPHA or "*", checked by the caller */
	while (relay_http_is_tchar(relay_sf_peek(parser)) || relay_sf_peek(parser) == ':' ||
	       relay_sf_peek(parser) == '/')
		parser->pos++;
	item = relay_sf_item_new(RELAY_SF_TOKEN);
	item->text = g_strndup(parser->text + start, parser->pos - start);
	return item;
}

static RelaySfItem *
relay_sf_parse_bytes(RelaySfParser *parser, GError **error)
{
	g_autoptr(RelaySfItem) item = relay_sf_item_new(RELAY_SF_BYTES);
	const gchar *start = parser->text + parser->pos + 1;
	const gchar *end = strchr(start, ':');

	parser->pos++; /* the opening ":" */
	if (end == NULL) {
		relay_sf_fail(parser, error, "unterminated byte sequence");
		return NULL;
	}
	if (end == start) {
		item->bytes = g_bytes_new(NULL, 0);
	} else {
		item->bytes = relay_base64_decode_strict(start, (gsize)(end - start));
		if (item->bytes == NULL) {
			relay_sf_fail(parser, error, "byte sequence is not base64");
			return NULL;
		}
	}
	parser->pos += (gsize)(end - start) + 1;
	return g_steal_pointer(&item);
}

static RelaySfItem *
relay_sf_parse_bare_item(RelaySfParser *parser, GError **error)
{
	gchar c = relay_sf_peek(parser);

	if (c == '-' || g_ascii_isdigit(c))
		return relay_sf_parse_number(parser, error);
	if (c == '"')
		return relay_sf_parse_string(parser, error);
	if (c == ':')
		return relay_sf_parse_bytes(parser, error);
	if (g_ascii_isalpha(c) || c == '*')
		return relay_sf_parse_token(parser, error);
	if (c == '?') {
		RelaySfItem *item;

		parser->pos++;
		c = relay_sf_peek(parser);
		if (c != '0' && c != '1') {
			relay_sf_fail(parser, error, "expected ?0 or ?1");
			return NULL;
		}
		parser->pos++;
		item = relay_sf_item_new(RELAY_SF_BOOLEAN);
		item->integer = c == '1';
		return item;
	}
	relay_sf_fail(parser, error, "expected an item");
	return NULL;
}

static gboolean
relay_sf_parse_parameters(RelaySfParser *parser, RelaySfItem *item, GError **error)
{
	while (relay_sf_peek(parser) == ';') {
		g_autofree gchar *key = NULL;
		RelaySfItem *value;
		RelaySfParam *param;

		parser->pos++;
		relay_sf_skip_sp(parser);
		key = relay_sf_parse_key(parser, error);
		if (key == NULL)
			return FALSE;
		if (relay_sf_item_get_param(item, key) != NULL) {
			relay_sf_fail(parser, error, "duplicate parameter");
			return FALSE;
		}
		if (relay_sf_peek(parser) == '=') {
			parser->pos++;
			value = relay_sf_parse_bare_item(parser, error);
			if (value == NULL)
				return FALSE;
		} else {
			value = relay_sf_item_new(RELAY_SF_BOOLEAN);
			value->integer = TRUE;
		}
		param = g_new0(RelaySfParam, 1);
		param->key = g_steal_pointer(&key);
		param->value = value;
		g_ptr_array_add(item->params, param);
	}
	return TRUE;
}

static RelaySfItem *
relay_sf_parse_item(RelaySfParser *parser, GError **error)
{
	g_autoptr(RelaySfItem) item = relay_sf_parse_bare_item(parser, error);

	if (item == NULL)
		return NULL;
	if (!relay_sf_parse_parameters(parser, item, error))
		return NULL;
	return g_steal_pointer(&item);
}

static RelaySfItem *
relay_sf_parse_inner_list(RelaySfParser *parser, GError **error)
{
	g_autoptr(RelaySfItem) list = relay_sf_item_new(RELAY_SF_INNER_LIST);

	list->items = g_ptr_array_new_with_free_func((GDestroyNotify)relay_sf_item_free);
	parser->pos++; /* "(" */
	for (;;) {
		RelaySfItem *item;
		gchar c;

		relay_sf_skip_sp(parser);
		if (relay_sf_peek(parser) == ')') {
			parser->pos++;
			if (!relay_sf_parse_parameters(parser, list, error))
				return NULL;
			return g_steal_pointer(&list);
		}
		item = relay_sf_parse_item(parser, error);
		if (item == NULL)
			return NULL;
		g_ptr_array_add(list->items, item);
		c = relay_sf_peek(parser);
		if (c != ' ' && c != ')') {
			relay_sf_fail(parser, error, "expected a space or ')' in an inner list");
			return NULL;
		}
	}
}

/* Returns: (element-type RelaySfMember): the members in order */
static GPtrArray *
relay_sf_parse_dictionary(const gchar *field, const gchar *text, GError **error)
{
	g_autoptr(GPtrArray) members =
		g_ptr_array_new_with_free_func((GDestroyNotify)relay_sf_member_free);
	RelaySfParser parser = {field, text, 0};

	relay_sf_skip_sp(&parser);
	while (relay_sf_peek(&parser) != '\0') {
		g_autofree gchar *key = relay_sf_parse_key(&parser, error);
		RelaySfMember *member;
		RelaySfItem *value;
		gsize start;

		if (key == NULL)
			return NULL;
		for (guint i = 0; i < members->len; i++) {
			RelaySfMember *other = g_ptr_array_index(members, i);
			if (g_strcmp0(other->key, key) == 0) {
				relay_sf_fail(&parser, error, "duplicate key");
				return NULL;
			}
		}
		start = parser.pos;
		if (relay_sf_peek(&parser) == '=') {
			parser.pos++;
			start = parser.pos;
			if (relay_sf_peek(&parser) == '(')
				value = relay_sf_parse_inner_list(&parser, error);
			else
				value = relay_sf_parse_item(&parser, error);
			if (value == NULL)
				return NULL;
		} else {
			value = relay_sf_item_new(RELAY_SF_BOOLEAN);
			value->integer = TRUE;
			if (!relay_sf_parse_parameters(&parser, value, error)) {
				relay_sf_item_free(value);
				return NULL;
			}
		}
		member = g_new0(RelaySfMember, 1);
		member->key = g_steal_pointer(&key);
		member->value = value;
		member->value_start = start;
		member->value_end = parser.pos;
		g_ptr_array_add(members, member);

		while (relay_http_is_ows(relay_sf_peek(&parser)))
			parser.pos++;
		if (relay_sf_peek(&parser) == '\0')
			break;
		if (relay_sf_peek(&parser) != ',') {
			relay_sf_fail(&parser, error, "expected ','");
			return NULL;
		}
		parser.pos++;
		while (relay_http_is_ows(relay_sf_peek(&parser)))
			parser.pos++;
		if (relay_sf_peek(&parser) == '\0') {
			relay_sf_fail(&parser, error, "trailing ','");
			return NULL;
		}
	}
	return g_steal_pointer(&members);
}

static RelaySfMember *
relay_sf_dictionary_get(GPtrArray *members, const gchar *key)
{
	for (guint i = 0; i < members->len; i++) {
		RelaySfMember *member = g_ptr_array_index(members, i);
		if (g_strcmp0(member->key, key) == 0)
			return member;
	}
	return NULL;
}

/* parsing */

/* "123" or "123.456": draft-cavage allows subsecond precision */
static gboolean
relay_http_parse_timestamp(const gchar *text, gint64 *out_value)
{
	gsize digits = 0;
	gsize i = 0;

	while (g_ascii_isdigit(text[i])) {
		i++;
		digits++;
	}
	if (digits == 0 || digits > RELAY_SF_INTEGER_MAX_DIGITS)
		return FALSE;
	if (text[i] == '.') {
		gsize fraction = 0;

		i++;
		while (g_ascii_isdigit(text[i])) {
			i++;
			fraction++;
		}
		if (fraction == 0 || fraction > 9)
			return FALSE;
	}
	if (text[i] != '\0')
		return FALSE;
	*out_value = (gint64)g_ascii_strtoull(text, NULL, 10);
	return TRUE;
}

static gboolean
relay_http_cavage_component_valid(const gchar *name)
{
	if (g_strcmp0(name, "(request-target)") == 0 || g_strcmp0(name, "(created)") == 0 ||
	    g_strcmp0(name, "(expires)") == 0)
		return TRUE;
	if (name[0] == '\0')
		return FALSE;
	for (const gchar *c = name; *c != '\0'; c++) {
		if (!relay_http_is_tchar(*c))
			return FALSE;
	}
	return TRUE;
}

/* "name" or "@derived", lower case, as RFC 9421 section 2 requires */
static gboolean
relay_http_rfc9421_component_valid(const gchar *name, GError **error)
{
	if (name[0] == '@') {
		for (guint i = 0; i < G_N_ELEMENTS(rfc9421_derived); i++) {
			if (g_strcmp0(name, rfc9421_derived[i]) == 0)
				return TRUE;
		}
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
			    "derived component %s is not supported",
			    name);
		return FALSE;
	}
	if (name[0] == '\0') {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
				    "empty component name");
		return FALSE;
	}
	for (const gchar *c = name; *c != '\0'; c++) {
		if (!relay_http_is_tchar(*c) || g_ascii_isupper(*c)) {
			g_set_error(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
				    "component \"%s\" is not a lower-case field name",
				    name);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
relay_http_algorithm_known(RelayHttpSignatureFormat format, const gchar *name)
{
	const RelayHttpSigAlgName *table = cavage_algorithms;
	guint n_table = G_N_ELEMENTS(cavage_algorithms);

	if (format == RELAY_HTTP_SIGNATURE_FORMAT_RFC9421) {
		table = rfc9421_algorithms;
		n_table = G_N_ELEMENTS(rfc9421_algorithms);
	}
	for (guint i = 0; i < n_table; i++) {
		if (g_strcmp0(table[i].name, name) == 0)
			return TRUE;
	}
	return FALSE;
}

/* a quoted-string (RFC 9110 section 5.6.4) at text[*pos], unescaped */
static gchar *
relay_http_parse_quoted_string(const gchar *text, gsize *pos)
{
	g_autoptr(GString) value = g_string_new(NULL);
	gsize i = *pos + 1;

	for (;;) {
		guchar c = (guchar)text[i];

		if (c == '\0')
			return NULL;
		if (c == '"')
			break;
		if (c == '\\') {
			i++;
			c = (guchar)text[i];
			if (c == '\0' || (c < 0x20 && c != '\t') || c == 0x7f)
				return NULL;
		} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
			return NULL;
		}
		g_string_append_c(value, (gchar)c);
		i++;
	}
	*pos = i + 1;
	return g_string_free(g_steal_pointer(&value), FALSE);
}

static void
relay_http_cavage_fail(GError **error, const gchar *field, const gchar *what, gsize pos)
{
	g_set_error(error,
		    RELAY_FED_ERROR,
		    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
		    "%s: %s at character %" G_GSIZE_FORMAT,
		    field,
		    what,
		    pos + 1);
}

static gboolean
relay_http_cavage_set_timestamp(const gchar *name,
				gchar **value,
				gboolean *out_has,
				gint64 *out_value,
				gchar **out_text,
				GError **error)
{
	if (!relay_http_parse_timestamp(*value, out_value)) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
			    "Signature: %s is not a Unix timestamp",
			    name);
		return FALSE;
	}
	*out_has = TRUE;
	*out_text = g_steal_pointer(value);
	return TRUE;
}

/* the auth-param list of draft-cavage section 4.1, in @field (for messages) */
static RelayHttpSignature *
relay_http_signature_parse_cavage(const gchar *field, const gchar *text, GError **error)
{
	g_autoptr(RelayHttpSignature) self =
		relay_http_signature_new(RELAY_HTTP_SIGNATURE_FORMAT_CAVAGE);
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autofree gchar *headers = NULL;
	g_autofree gchar *signature = NULL;
	g_auto(GStrv) names = NULL;
	gsize pos = 0;

	for (;;) {
		g_autofree gchar *name = NULL;
		g_autofree gchar *value = NULL;
		gsize start;

		while (relay_http_is_ows(text[pos]) || text[pos] == ',')
			pos++; /* RFC 9110 section 5.6.1: empty list elements are allowed */
		if (text[pos] == '\0')
			break;
		start = pos;
		while (relay_http_is_tchar(text[pos]))
			pos++;
		if (pos == start) {
			relay_http_cavage_fail(error, field, "expected a parameter name", pos);
			return NULL;
		}
		name = g_ascii_strdown(text + start, (gssize)(pos - start));
		while (relay_http_is_ows(text[pos]))
			pos++;
		if (text[pos] != '=') {
			relay_http_cavage_fail(error, field, "expected '='", pos);
			return NULL;
		}
		pos++;
		while (relay_http_is_ows(text[pos]))
			pos++;
		if (text[pos] == '"') {
			value = relay_http_parse_quoted_string(text, &pos);
			if (value == NULL) {
				relay_http_cavage_fail(error, field, "bad quoted string", pos);
				return NULL;
			}
		} else {
			start = pos;
			while (relay_http_is_tchar(text[pos]))
				pos++;
			if (pos == start) {
				relay_http_cavage_fail(error, field, "expected a value", pos);
				return NULL;
			}
			value = g_strndup(text + start, pos - start);
		}
		while (relay_http_is_ows(text[pos]))
			pos++;
		if (text[pos] != '\0' && text[pos] != ',') {
			relay_http_cavage_fail(error, field, "expected ','", pos);
			return NULL;
		}
		if (!g_hash_table_add(seen, g_strdup(name))) {
			g_set_error(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
				    "%s: duplicate parameter %s",
				    field,
				    name);
			return NULL;
		}
		if (g_strcmp0(name, "keyid") == 0) {
			self->key_id = g_steal_pointer(&value);
		} else if (g_strcmp0(name, "algorithm") == 0) {
			self->algorithm = g_ascii_strdown(value, -1);
		} else if (g_strcmp0(name, "headers") == 0) {
			headers = g_steal_pointer(&value);
		} else if (g_strcmp0(name, "signature") == 0) {
			signature = g_steal_pointer(&value);
		} else if (g_strcmp0(name, "created") == 0) {
			if (!relay_http_cavage_set_timestamp("created",
							     &value,
							     &self->has_created,
							     &self->created,
							     &self->created_text,
							     error))
				return NULL;
		} else if (g_strcmp0(name, "expires") == 0) {
			if (!relay_http_cavage_set_timestamp("expires",
							     &value,
							     &self->has_expires,
							     &self->expires,
							     &self->expires_text,
							     error))
				return NULL;
		}
		/* other parameters are ignored, as draft-cavage section 2.1 says */
	}

	if (self->key_id == NULL || self->key_id[0] == '\0') {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
			    "%s: no keyId",
			    field);
		return NULL;
	}
	if (signature == NULL) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
			    "%s: no signature",
			    field);
		return NULL;
	}
	self->signature = relay_base64_decode_strict(signature, strlen(signature));
	if (self->signature == NULL) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
			    "%s: signature is not base64",
			    field);
		return NULL;
	}
	if (self->algorithm != NULL &&
	    !relay_http_algorithm_known(RELAY_HTTP_SIGNATURE_FORMAT_CAVAGE, self->algorithm)) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_UNKNOWN_ALGORITHM,
			    "%s: algorithm %s is not supported",
			    field,
			    self->algorithm);
		return NULL;
	}

	/* draft-cavage section 2.1.6: without headers, only (created) is signed */
	names = g_strsplit_set(headers != NULL ? headers : "(created)", " \t", -1);
	for (guint i = 0; names[i] != NULL; i++) {
		g_autofree gchar *component = NULL;

		if (names[i][0] == '\0')
			continue;
		component = g_ascii_strdown(names[i], -1);
		if (!relay_http_cavage_component_valid(component)) {
			g_set_error(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
				    "%s: headers names \"%s\", which is not a header",
				    field,
				    component);
			return NULL;
		}
		g_ptr_array_add(self->components, g_steal_pointer(&component));
	}
	if (self->components->len == 0) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
			    "%s: headers is empty",
			    field);
		return NULL;
	}
	for (guint i = 0; i < 2; i++) {
		const gchar *pseudo = i == 0 ? "(created)" : "(expires)";
		gboolean has = i == 0 ? self->has_created : self->has_expires;

		if (!relay_http_signature_has(self, pseudo))
			continue;
		/* draft-cavage sections 2.3 and 2.1.4: not with rsa-, hmac- or ecdsa- names */
		if (self->algorithm != NULL && g_str_has_prefix(self->algorithm, "rsa")) {
			g_set_error(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
				    "%s: %s cannot be signed with algorithm %s",
				    field,
				    pseudo,
				    self->algorithm);
			return NULL;
		}
		if (!has) {
			g_set_error(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
				    "%s: headers names %s but the parameter is missing",
				    field,
				    pseudo);
			return NULL;
		}
	}
	return g_steal_pointer(&self);
}

static gboolean
relay_http_rfc9421_get_integer(
	RelaySfItem *list, const gchar *name, gint64 *out_value, gboolean *out_has, GError **error)
{
	RelaySfItem *param = relay_sf_item_get_param(list, name);

	if (param == NULL)
		return TRUE;
	if (param->type != RELAY_SF_INTEGER || param->integer < 0) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
			    "Signature-Input: %s is not a non-negative integer",
			    name);
		return FALSE;
	}
	*out_value = param->integer;
	*out_has = TRUE;
	return TRUE;
}

static RelayHttpSignature *
relay_http_signature_parse_rfc9421(const gchar *input, const gchar *signature, GError **error)
{
	g_autoptr(RelayHttpSignature) self =
		relay_http_signature_new(RELAY_HTTP_SIGNATURE_FORMAT_RFC9421);
	g_autoptr(GPtrArray) inputs = NULL;
	g_autoptr(GPtrArray) signatures = NULL;
	RelaySfMember *chosen = NULL;
	RelaySfMember *value = NULL;
	RelaySfItem *param;

	inputs = relay_sf_parse_dictionary("Signature-Input", input, error);
	if (inputs == NULL)
		return NULL;
	for (guint i = 0; i < inputs->len; i++) {
		RelaySfMember *member = g_ptr_array_index(inputs, i);

		if (member->value->type != RELAY_SF_INNER_LIST) {
			g_set_error(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
				    "Signature-Input: %s is not an inner list",
				    member->key);
			return NULL;
		}
		if (chosen == NULL && relay_sf_item_get_param(member->value, "keyid") != NULL)
			chosen = member;
	}
	if (chosen == NULL) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
				    "Signature-Input: no signature has a keyid");
		return NULL;
	}
	self->label = g_strdup(chosen->key);

	param = relay_sf_item_get_param(chosen->value, "keyid");
	if (param->type != RELAY_SF_STRING || param->text[0] == '\0') {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
			    "Signature-Input: keyid of %s is not a string",
			    self->label);
		return NULL;
	}
	self->key_id = g_strdup(param->text);
	param = relay_sf_item_get_param(chosen->value, "alg");
	if (param != NULL) {
		if (param->type != RELAY_SF_STRING) {
			g_set_error(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
				    "Signature-Input: alg of %s is not a string",
				    self->label);
			return NULL;
		}
		if (!relay_http_algorithm_known(RELAY_HTTP_SIGNATURE_FORMAT_RFC9421, param->text)) {
			g_set_error(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_UNKNOWN_ALGORITHM,
				    "Signature-Input: alg %s is not supported",
				    param->text);
			return NULL;
		}
		self->algorithm = g_strdup(param->text);
	}
	if (!relay_http_rfc9421_get_integer(
		    chosen->value, "created", &self->created, &self->has_created, error))
		return NULL;
	if (!relay_http_rfc9421_get_integer(
		    chosen->value, "expires", &self->expires, &self->has_expires, error))
		return NULL;

	for (guint i = 0; i < chosen->value->items->len; i++) {
		RelaySfItem *item = g_ptr_array_index(chosen->value->items, i);

		if (item->type != RELAY_SF_STRING) {
			g_set_error(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
				    "Signature-Input: component %u of %s is not a string",
				    i + 1,
				    self->label);
			return NULL;
		}
		if (item->params->len > 0) {
			g_set_error(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
				    "Signature-Input: component parameters (\"%s\";%s) are not "
				    "supported",
				    item->text,
				    ((RelaySfParam *)g_ptr_array_index(item->params, 0))->key);
			return NULL;
		}
		if (!relay_http_rfc9421_component_valid(item->text, error)) {
			g_prefix_error(error, "Signature-Input: ");
			return NULL;
		}
		if (relay_http_signature_has(self, item->text)) {
			g_set_error(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
				    "Signature-Input: component %s is listed twice",
				    item->text);
			return NULL;
		}
		g_ptr_array_add(self->components, g_strdup(item->text));
	}
	self->params_text =
		g_strndup(input + chosen->value_start, chosen->value_end - chosen->value_start);

	if (signature == NULL) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
				    "Signature-Input without a Signature header");
		return NULL;
	}
	signatures = relay_sf_parse_dictionary("Signature", signature, error);
	if (signatures == NULL)
		return NULL;
	value = relay_sf_dictionary_get(signatures, self->label);
	if (value == NULL) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
			    "Signature: no %s member",
			    self->label);
		return NULL;
	}
	if (value->value->type != RELAY_SF_BYTES || g_bytes_get_size(value->value->bytes) == 0) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
			    "Signature: %s is not a byte sequence",
			    self->label);
		return NULL;
	}
	self->signature = g_bytes_ref(value->value->bytes);
	return g_steal_pointer(&self);
}

/**
 * relay_http_signature_parse:
 * @request: a received request
 * @error: return location for a #GError
 *
 * Reads the signature of @request, without checking anything but its syntax and algorithm
 * name: RFC 9421 when there is a Signature-Input header (the first signature with a keyid), else
 * draft-cavage from the Signature header or from "Authorization: Signature ...".
 *
 * Returns: (transfer full) (nullable): the signature, or %NULL with
 * %RELAY_FED_ERROR_UNSIGNED (no signature at all), %RELAY_FED_ERROR_MALFORMED_SIGNATURE or
 * %RELAY_FED_ERROR_UNKNOWN_ALGORITHM
 */
RelayHttpSignature *
relay_http_signature_parse(RelayHttpRequest *request, GError **error)
{
	const gchar *input;
	const gchar *signature;
	const gchar *authorization;

	g_return_val_if_fail(request != NULL, NULL);

	input = relay_http_request_get_header(request, "Signature-Input");
	signature = relay_http_request_get_header(request, "Signature");
	if (input != NULL)
		return relay_http_signature_parse_rfc9421(input, signature, error);
	if (signature != NULL)
		return relay_http_signature_parse_cavage("Signature", signature, error);
	authorization = relay_http_request_get_header(request, "Authorization");
	if (authorization != NULL && g_ascii_strncasecmp(authorization, "Signature", 9) == 0 &&
	    relay_http_is_ows(authorization[9])) {
		const gchar *params = authorization + 9;
		while (relay_http_is_ows(*params))
			params++;
		return relay_http_signature_parse_cavage("Authorization", params, error);
	}
	g_set_error_literal(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_UNSIGNED,
			    "the request has no Signature, Signature-Input or "
			    "Authorization: Signature header");
	return NULL;
}

/**
 * relay_http_signature_get_format:
 * @self: a signature
 *
 * Returns: draft-cavage or RFC 9421
 */
RelayHttpSignatureFormat
relay_http_signature_get_format(RelayHttpSignature *self)
{
	return self->format;
}

/**
 * relay_http_signature_get_key_id:
 * @self: a signature
 *
 * Returns: (transfer none): the keyId (draft-cavage) or keyid (RFC 9421), never empty
 */
const gchar *
relay_http_signature_get_key_id(RelayHttpSignature *self)
{
	return self->key_id;
}

/**
 * relay_http_signature_get_algorithm:
 * @self: a signature
 *
 * Returns: (transfer none) (nullable): the algorithm name in lower case, or %NULL when the
 * signature names none (the key type decides)
 */
const gchar *
relay_http_signature_get_algorithm(RelayHttpSignature *self)
{
	return self->algorithm;
}

/**
 * relay_http_signature_get_label:
 * @self: a signature
 *
 * Returns: (transfer none) (nullable): the RFC 9421 label ("sig1"), or %NULL for draft-cavage
 */
const gchar *
relay_http_signature_get_label(RelayHttpSignature *self)
{
	return self->label;
}

/**
 * relay_http_signature_get_components:
 * @self: a signature
 *
 * Returns: (transfer none) (array zero-terminated=1): the covered components in order: lower
 * case header names and "(request-target)", "(created)", "(expires)" for draft-cavage; header
 * names and "@method" and the like for RFC 9421
 */
const gchar *const *
relay_http_signature_get_components(RelayHttpSignature *self)
{
	return (const gchar *const *)self->components->pdata;
}

/**
 * relay_http_signature_get_created:
 * @self: a signature
 * @out_created_s: (out) (optional): the created parameter, in seconds since the Unix epoch
 *
 * Returns: whether the signature has a created parameter that it covers (RFC 9421 always
 * covers its parameters; draft-cavage only with "(created)" in headers)
 */
gboolean
relay_http_signature_get_created(RelayHttpSignature *self, gint64 *out_created_s)
{
	if (!self->has_created)
		return FALSE;
	if (self->format == RELAY_HTTP_SIGNATURE_FORMAT_CAVAGE &&
	    !relay_http_signature_has(self, "(created)"))
		return FALSE;
	if (out_created_s != NULL)
		*out_created_s = self->created;
	return TRUE;
}

/* the signing string */

/* @authority of RFC 9421 section 2.2.3: lower case, without the scheme's default port */
static gchar *
relay_http_normalized_authority(RelayHttpRequest *request)
{
	const gchar *authority = relay_http_request_get_authority(request);
	const gchar *scheme = relay_http_request_get_scheme(request);
	g_autofree gchar *lower = NULL;

	if (authority == NULL || authority[0] == '\0')
		return NULL;
	lower = g_ascii_strdown(authority, -1);
	if ((g_strcmp0(scheme, "https") == 0 && g_str_has_suffix(lower, ":443")) ||
	    (g_strcmp0(scheme, "http") == 0 && g_str_has_suffix(lower, ":80")))
		*strrchr(lower, ':') = '\0';
	return g_steal_pointer(&lower);
}

static const gchar *
relay_http_request_header_for(RelayHttpRequest *request, const gchar *name, GError **error)
{
	const gchar *value = relay_http_request_get_header(request, name);

	if (value == NULL) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_MISSING_COMPONENT,
			    "signed header %s is absent from the request",
			    name);
		return NULL;
	}
	return value;
}

static gboolean
relay_http_cavage_append(RelayHttpSignature *self,
			 RelayHttpRequest *request,
			 const gchar *component,
			 gboolean with_query,
			 GString *base,
			 GError **error)
{
	const gchar *value;

	if (g_strcmp0(component, "(request-target)") == 0) {
		g_autofree gchar *method =
			g_ascii_strdown(relay_http_request_get_method(request), -1);
		g_string_append_printf(base,
				       "(request-target): %s %s",
				       method,
				       with_query ? relay_http_request_get_path_and_query(request)
						  : relay_http_request_get_path(request));
		return TRUE;
	}
	if (g_strcmp0(component, "(created)") == 0 || g_strcmp0(component, "(expires)") == 0) {
		value = g_strcmp0(component, "(created)") == 0 ? self->created_text
							       : self->expires_text;
		if (value == NULL) {
			g_set_error(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
				    "%s is signed but the signature has no such parameter",
				    component);
			return FALSE;
		}
		g_string_append_printf(base, "%s: %s", component, value);
		return TRUE;
	}
	value = relay_http_request_header_for(request, component, error);
	if (value == NULL)
		return FALSE;
	g_string_append_printf(base, "%s: %s", component, value);
	return TRUE;
}

static gboolean
relay_http_rfc9421_append(RelayHttpRequest *request,
			  const gchar *component,
			  GString *base,
			  GError **error)
{
	const gchar *scheme = relay_http_request_get_scheme(request);
	g_autofree gchar *derived = NULL;
	const gchar *value = NULL;

	if (g_strcmp0(component, "@method") == 0) {
		value = relay_http_request_get_method(request);
	} else if (g_strcmp0(component, "@target-uri") == 0 ||
		   g_strcmp0(component, "@scheme") == 0) {
		if (scheme == NULL) {
			g_set_error(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_MISSING_COMPONENT,
				    "%s is signed but the request target has no scheme",
				    component);
			return FALSE;
		}
		if (g_strcmp0(component, "@scheme") == 0)
			value = scheme;
		else
			value = relay_http_request_get_target_uri(request);
	} else if (g_strcmp0(component, "@authority") == 0) {
		derived = relay_http_normalized_authority(request);
		if (derived == NULL) {
			g_set_error_literal(
				error,
				RELAY_FED_ERROR,
				RELAY_FED_ERROR_MISSING_COMPONENT,
				"@authority is signed but the request has no authority");
			return FALSE;
		}
		value = derived;
	} else if (g_strcmp0(component, "@request-target") == 0) {
		value = relay_http_request_get_path_and_query(request);
	} else if (g_strcmp0(component, "@path") == 0) {
		value = relay_http_request_get_path(request);
	} else if (g_strcmp0(component, "@query") == 0) {
		/* RFC 9421 section 2.2.7: "?" alone when there is no query */
		const gchar *query = relay_http_request_get_query(request);
		derived = g_strconcat("?", query != NULL ? query : "", NULL);
		value = derived;
	} else if (component[0] == '@') {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
			    "derived component %s is not supported",
			    component);
		return FALSE;
	} else {
		value = relay_http_request_header_for(request, component, error);
		if (value == NULL)
			return FALSE;
	}
	g_string_append_printf(base, "\"%s\": %s\n", component, value);
	return TRUE;
}

static gchar *
relay_http_signature_base(RelayHttpSignature *self,
			  RelayHttpRequest *request,
			  gboolean with_query,
			  GError **error)
{
	g_autoptr(GString) base = g_string_new(NULL);

	for (guint i = 0; i < self->components->len; i++) {
		const gchar *component = g_ptr_array_index(self->components, i);

		if (self->format == RELAY_HTTP_SIGNATURE_FORMAT_RFC9421) {
			if (!relay_http_rfc9421_append(request, component, base, error))
				return NULL;
			continue;
		}
		if (i > 0)
			g_string_append_c(base, '\n');
		if (!relay_http_cavage_append(self, request, component, with_query, base, error))
			return NULL;
	}
	if (self->format == RELAY_HTTP_SIGNATURE_FORMAT_RFC9421)
		g_string_append_printf(base, "\"@signature-params\": %s", self->params_text);
	return g_string_free(g_steal_pointer(&base), FALSE);
}

/**
 * relay_http_signature_build_base:
 * @self: a signature
 * @request: the request it signs
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the draft-cavage signing string (with the query in
 * "(request-target)") or the RFC 9421 signature base, as relay_http_signature_verify() checks
 * it first; %NULL with %RELAY_FED_ERROR_MISSING_COMPONENT when a signed header is absent
 */
gchar *
relay_http_signature_build_base(RelayHttpSignature *self, RelayHttpRequest *request, GError **error)
{
	g_return_val_if_fail(self != NULL, NULL);
	g_return_val_if_fail(request != NULL, NULL);

	return relay_http_signature_base(self, request, TRUE, error);
}

/* check */

static gboolean
relay_http_signature_check_coverage(RelayHttpSignature *self,
				    RelayHttpRequest *request,
				    GError **error)
{
	const gchar *method = relay_http_request_get_method(request);
	GBytes *body = relay_http_request_get_body(request);
	gboolean target, host, date, digest;
	gboolean needs_digest;

	if (self->format == RELAY_HTTP_SIGNATURE_FORMAT_CAVAGE) {
		target = relay_http_signature_has(self, "(request-target)");
		host = relay_http_signature_has(self, "host");
		date = relay_http_signature_has(self, "date") ||
		       relay_http_signature_has(self, "(created)");
	} else {
		/* @target-uri carries the authority as well as the path */
		target = relay_http_signature_has(self, "@method") &&
			 (relay_http_signature_has(self, "@target-uri") ||
			  relay_http_signature_has(self, "@path") ||
			  relay_http_signature_has(self, "@request-target"));
		host = relay_http_signature_has(self, "@authority") ||
		       relay_http_signature_has(self, "host") ||
		       relay_http_signature_has(self, "@target-uri");
		date = relay_http_signature_has(self, "date") || self->has_created;
	}
	digest = relay_http_signature_has(self, "digest") ||
		 relay_http_signature_has(self, "content-digest");
	needs_digest = g_ascii_strcasecmp(method, "POST") == 0 ||
		       g_ascii_strcasecmp(method, "PUT") == 0 ||
		       g_ascii_strcasecmp(method, "PATCH") == 0 ||
		       (body != NULL && g_bytes_get_size(body) > 0);

	if (!target) {
		g_set_error_literal(
			error,
			RELAY_FED_ERROR,
			RELAY_FED_ERROR_MISSING_COMPONENT,
			self->format == RELAY_HTTP_SIGNATURE_FORMAT_CAVAGE
				? "the signature does not cover (request-target)"
				: "the signature does not cover @method with @target-uri "
				  "or @path");
		return FALSE;
	}
	if (!host) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_MISSING_COMPONENT,
				    self->format == RELAY_HTTP_SIGNATURE_FORMAT_CAVAGE
					    ? "the signature does not cover host"
					    : "the signature does not cover @authority or host");
		return FALSE;
	}
	if (!date) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_MISSING_COMPONENT,
				    self->format == RELAY_HTTP_SIGNATURE_FORMAT_CAVAGE
					    ? "the signature covers neither date nor (created)"
					    : "the signature has no created parameter and does not "
					      "cover date");
		return FALSE;
	}
	if (needs_digest && !digest) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_MISSING_COMPONENT,
			    "the signature of a %s covers neither digest nor content-digest",
			    method);
		return FALSE;
	}
	return TRUE;
}

static gboolean
relay_http_check_time(
	const gchar *what, gint64 time_s, gint64 now_s, gint64 window_s, GError **error)
{
	if (time_s < now_s - window_s) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_STALE_DATE,
			    "%s is %" G_GINT64_FORMAT " s old, more than the %" G_GINT64_FORMAT
			    " s allowed",
			    what,
			    now_s - time_s,
			    window_s);
		return FALSE;
	}
	if (time_s > now_s + window_s) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_STALE_DATE,
			    "%s is %" G_GINT64_FORMAT
			    " s in the future, more than the %" G_GINT64_FORMAT " s allowed",
			    what,
			    time_s - now_s,
			    window_s);
		return FALSE;
	}
	return TRUE;
}

static gboolean
relay_http_signature_check_clock(RelayHttpSignature *self,
				 RelayHttpRequest *request,
				 gint64 now_s,
				 gint64 window_s,
				 GError **error)
{
	gboolean cavage = self->format == RELAY_HTTP_SIGNATURE_FORMAT_CAVAGE;
	gint64 created_s = 0;

	/* an unsigned Date or created proves nothing, so only signed ones are checked */
	if (relay_http_signature_has(self, "date")) {
		const gchar *date = relay_http_request_get_header(request, "Date");
		gint64 date_s = 0;

		if (date == NULL || !relay_http_date_parse(date, &date_s)) {
			g_set_error_literal(error,
					    RELAY_FED_ERROR,
					    RELAY_FED_ERROR_STALE_DATE,
					    "the Date header is not an HTTP date");
			return FALSE;
		}
		if (!relay_http_check_time("Date", date_s, now_s, window_s, error))
			return FALSE;
	}
	if (relay_http_signature_get_created(self, &created_s) &&
	    !relay_http_check_time("created", created_s, now_s, window_s, error))
		return FALSE;
	if (self->has_expires && (!cavage || relay_http_signature_has(self, "(expires)")) &&
	    self->expires < now_s) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_STALE_DATE,
			    "the signature expired %" G_GINT64_FORMAT " s ago",
			    now_s - self->expires);
		return FALSE;
	}
	return TRUE;
}

typedef struct {
	const gchar *name; /* lower case, as Content-Digest writes it */
	GChecksumType type;
} RelayHttpDigestAlg;

static const RelayHttpDigestAlg digest_algorithms[] = {
	{"sha-256", G_CHECKSUM_SHA256},
	{"sha-512", G_CHECKSUM_SHA512},
};

static GBytes *
relay_http_digest_compute(GChecksumType type, GBytes *body)
{
	g_autoptr(GChecksum) checksum = g_checksum_new(type);
	guint8 digest[64];
	gsize digest_len = sizeof(digest);
	gsize len = 0;
	gconstpointer data = body != NULL ? g_bytes_get_data(body, &len) : NULL;

	if (len > 0)
		g_checksum_update(checksum, data, (gssize)len);
	g_checksum_get_digest(checksum, digest, &digest_len);
	return g_bytes_new(digest, digest_len);
}

static const RelayHttpDigestAlg *
relay_http_digest_alg_find(const gchar *name, gsize len)
{
	for (guint i = 0; i < G_N_ELEMENTS(digest_algorithms); i++) {
		if (strlen(digest_algorithms[i].name) == len &&
		    g_ascii_strncasecmp(digest_algorithms[i].name, name, len) == 0)
			return &digest_algorithms[i];
	}
	return NULL;
}

static gboolean
relay_http_digest_compare(const gchar *field,
			  const RelayHttpDigestAlg *alg,
			  GBytes *body,
			  GBytes *expected,
			  GError **error)
{
	g_autoptr(GBytes) digest = relay_http_digest_compute(alg->type, body);

	if (!g_bytes_equal(digest, expected)) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_DIGEST_MISMATCH,
			    "the body does not match its %s (%s)",
			    field,
			    alg->name);
		return FALSE;
	}
	return TRUE;
}

/* RFC 3230 Digest: "SHA-256=base64, SHA-512=base64", algorithm names in any case */
static gboolean
relay_http_check_digest(const gchar *header, GBytes *body, GError **error)
{
	g_auto(GStrv) elements = g_strsplit(header, ",", -1);
	guint supported = 0;

	for (guint i = 0; elements[i] != NULL; i++) {
		g_autoptr(GBytes) expected = NULL;
		const RelayHttpDigestAlg *alg;
		gchar *element = g_strstrip(elements[i]);
		const gchar *equals = strchr(element, '=');

		if (element[0] == '\0')
			continue;
		if (equals == NULL || equals == element) {
			g_set_error_literal(error,
					    RELAY_FED_ERROR,
					    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
					    "Digest: expected algorithm=value");
			return FALSE;
		}
		alg = relay_http_digest_alg_find(element, (gsize)(equals - element));
		if (alg == NULL)
			continue;
		expected = relay_base64_decode_strict(equals + 1, strlen(equals + 1));
		if (expected == NULL) {
			g_set_error(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
				    "Digest: the %s value is not base64",
				    alg->name);
			return FALSE;
		}
		if (!relay_http_digest_compare("Digest", alg, body, expected, error))
			return FALSE;
		supported++;
	}
	if (supported == 0) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_UNKNOWN_ALGORITHM,
				    "Digest has no SHA-256 or SHA-512 value");
		return FALSE;
	}
	return TRUE;
}

/* RFC 9530 Content-Digest: an RFC 8941 dictionary of byte sequences */
static gboolean
relay_http_check_content_digest(const gchar *header, GBytes *body, GError **error)
{
	g_autoptr(GPtrArray) members = relay_sf_parse_dictionary("Content-Digest", header, error);
	guint supported = 0;

	if (members == NULL)
		return FALSE;
	for (guint i = 0; i < members->len; i++) {
		RelaySfMember *member = g_ptr_array_index(members, i);
		const RelayHttpDigestAlg *alg =
			relay_http_digest_alg_find(member->key, strlen(member->key));

		if (alg == NULL)
			continue;
		if (member->value->type != RELAY_SF_BYTES) {
			g_set_error(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
				    "Content-Digest: %s is not a byte sequence",
				    alg->name);
			return FALSE;
		}
		if (!relay_http_digest_compare(
			    "Content-Digest", alg, body, member->value->bytes, error))
			return FALSE;
		supported++;
	}
	if (supported == 0) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_UNKNOWN_ALGORITHM,
				    "Content-Digest has no sha-256 or sha-512 value");
		return FALSE;
	}
	return TRUE;
}

/**
 * relay_http_signature_check:
 * @self: a signature
 * @request: the request it came with, with its raw body
 * @now_s: the current time, in seconds since the Unix epoch
 * @window_s: how far Date and created may be from @now_s, either way
 * @error: return location for a #GError
 *
 * The checks every signature must pass besides the cryptographic one, in this order:
 * - coverage: the request target, the host, Date or created, and on POST, PUT and PATCH (and any
 *   request with a body) Digest or Content-Digest must be signed
 *   (%RELAY_FED_ERROR_MISSING_COMPONENT);
 * - every signed header is in the request (%RELAY_FED_ERROR_MISSING_COMPONENT);
 * - the signed Date and created are within @window_s of @now_s, and expires is not past
 *   (%RELAY_FED_ERROR_STALE_DATE);
 * - every Digest and Content-Digest value of a supported algorithm (SHA-256, SHA-512) matches
 *   the body, and there is at least one (%RELAY_FED_ERROR_DIGEST_MISMATCH,
 *   %RELAY_FED_ERROR_UNKNOWN_ALGORITHM, %RELAY_FED_ERROR_MALFORMED_SIGNATURE).
 *
 * Returns: whether @self passes
 */
gboolean
relay_http_signature_check(RelayHttpSignature *self,
			   RelayHttpRequest *request,
			   gint64 now_s,
			   gint64 window_s,
			   GError **error)
{
	g_autofree gchar *base = NULL;
	GBytes *body;
	const gchar *digest;
	const gchar *content_digest;

	g_return_val_if_fail(self != NULL, FALSE);
	g_return_val_if_fail(request != NULL, FALSE);

	if (!relay_http_signature_check_coverage(self, request, error))
		return FALSE;
	base = relay_http_signature_base(self, request, TRUE, error);
	if (base == NULL)
		return FALSE;
	if (!relay_http_signature_check_clock(self, request, now_s, window_s, error))
		return FALSE;

	body = relay_http_request_get_body(request);
	digest = relay_http_request_get_header(request, "Digest");
	content_digest = relay_http_request_get_header(request, "Content-Digest");
	if (digest != NULL && !relay_http_check_digest(digest, body, error))
		return FALSE;
	if (content_digest != NULL && !relay_http_check_content_digest(content_digest, body, error))
		return FALSE;
	return TRUE;
}

/* the cryptography */

static const gchar *
relay_http_sig_alg_to_string(RelayHttpSigAlg alg)
{
	switch (alg) {
	case RELAY_HTTP_SIG_ALG_RSA_PKCS1_SHA256:
		return "RSA PKCS#1 v1.5 SHA-256";
	case RELAY_HTTP_SIG_ALG_RSA_PKCS1_SHA512:
		return "RSA PKCS#1 v1.5 SHA-512";
	case RELAY_HTTP_SIG_ALG_RSA_PSS_SHA512:
		return "RSA-PSS SHA-512";
	case RELAY_HTTP_SIG_ALG_ED25519:
		return "Ed25519";
	default:
		return "unknown";
	}
}

/* which algorithm @self asks for with @key, given the key type */
static gboolean
relay_http_signature_resolve(RelayHttpSignature *self,
			     EVP_PKEY *key,
			     RelayHttpSigAlg *out_alg,
			     GError **error)
{
	const RelayHttpSigAlgName *table = cavage_algorithms;
	guint n_table = G_N_ELEMENTS(cavage_algorithms);
	gboolean is_rsa = relay_keys_is_rsa(key);

	if (!is_rsa && !relay_keys_is_ed25519(key)) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_UNKNOWN_ALGORITHM,
			    "%s keys are not supported",
			    EVP_PKEY_get0_type_name(key));
		return FALSE;
	}
	if (is_rsa && (EVP_PKEY_get_bits(key) < RELAY_HTTP_SIG_RSA_MIN_BITS ||
		       EVP_PKEY_get_bits(key) > RELAY_HTTP_SIG_RSA_MAX_BITS)) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_KEY_NOT_FOUND,
			    "RSA key of %d bits is outside %d..%d",
			    EVP_PKEY_get_bits(key),
			    RELAY_HTTP_SIG_RSA_MIN_BITS,
			    RELAY_HTTP_SIG_RSA_MAX_BITS);
		return FALSE;
	}
	if (self->algorithm == NULL) {
		*out_alg =
			is_rsa ? RELAY_HTTP_SIG_ALG_RSA_PKCS1_SHA256 : RELAY_HTTP_SIG_ALG_ED25519;
		return TRUE;
	}
	if (self->format == RELAY_HTTP_SIGNATURE_FORMAT_RFC9421) {
		table = rfc9421_algorithms;
		n_table = G_N_ELEMENTS(rfc9421_algorithms);
	}
	for (guint i = 0; i < n_table; i++) {
		if (g_strcmp0(table[i].name, self->algorithm) == 0 && table[i].for_rsa == is_rsa) {
			*out_alg = table[i].alg;
			return TRUE;
		}
	}
	g_set_error(error,
		    RELAY_FED_ERROR,
		    RELAY_FED_ERROR_UNKNOWN_ALGORITHM,
		    "algorithm %s does not fit the %s key",
		    self->algorithm,
		    EVP_PKEY_get0_type_name(key));
	return FALSE;
}

static gboolean
relay_http_sig_init(EVP_MD_CTX *context, RelayHttpSigAlg alg, EVP_PKEY *key, gboolean sign)
{
	EVP_PKEY_CTX *key_context = NULL;
	const EVP_MD *md = NULL;

	if (alg == RELAY_HTTP_SIG_ALG_RSA_PKCS1_SHA256)
		md = EVP_sha256();
	else if (alg == RELAY_HTTP_SIG_ALG_RSA_PKCS1_SHA512 ||
		 alg == RELAY_HTTP_SIG_ALG_RSA_PSS_SHA512)
		md = EVP_sha512();
	if (sign) {
		if (EVP_DigestSignInit(context, &key_context, md, NULL, key) != 1)
			return FALSE;
	} else {
		if (EVP_DigestVerifyInit(context, &key_context, md, NULL, key) != 1)
			return FALSE;
	}
	if (alg == RELAY_HTTP_SIG_ALG_RSA_PSS_SHA512) {
		if (EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PSS_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(key_context, RELAY_HTTP_SIG_PSS_SALT_BYTES) !=
			    1 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(key_context, EVP_sha512()) != 1)
			return FALSE;
	}
	return TRUE;
}

/* Returns: FALSE with @error when OpenSSL cannot even try; else *out_valid tells */
static gboolean
relay_http_sig_verify_bytes(EVP_PKEY *key,
			    RelayHttpSigAlg alg,
			    const gchar *data,
			    GBytes *signature,
			    gboolean *out_valid,
			    GError **error)
{
	g_autoptr(EVP_MD_CTX) context = EVP_MD_CTX_new();
	gsize signature_len = 0;
	const guint8 *signature_data = g_bytes_get_data(signature, &signature_len);

	if (context == NULL || !relay_http_sig_init(context, alg, key, FALSE)) {
		g_autofree gchar *errors = relay_keys_openssl_errors();
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_KEY_NOT_FOUND,
			    "the key cannot verify %s: %s",
			    relay_http_sig_alg_to_string(alg),
			    errors);
		return FALSE;
	}
	*out_valid = EVP_DigestVerify(context,
				      signature_data,
				      signature_len,
				      (const guint8 *)data,
				      strlen(data)) == 1;
	/* a wrong signature leaves reasons on the queue: they are not ours to keep */
	ERR_clear_error();
	return TRUE;
}

/**
 * relay_http_signature_verify:
 * @self: a signature
 * @request: the request it came with
 * @key: the public key of the signature's keyId
 * @error: return location for a #GError
 *
 * Checks the signature itself over the signing string of @request. For draft-cavage, when
 * "(request-target)" is signed and the target has a query, the signing string without the
 * query is tried too, as Mastodon does (some signers drop the query).
 *
 * Returns: whether the signature verifies; %FALSE with %RELAY_FED_ERROR_UNKNOWN_ALGORITHM when
 * the algorithm does not fit the key type, %RELAY_FED_ERROR_MISSING_COMPONENT when a signed
 * header is absent, %RELAY_FED_ERROR_KEY_NOT_FOUND when the key is unusable, or
 * %RELAY_FED_ERROR_BAD_SIGNATURE
 */
gboolean
relay_http_signature_verify(RelayHttpSignature *self,
			    RelayHttpRequest *request,
			    EVP_PKEY *key,
			    GError **error)
{
	g_autofree gchar *base = NULL;
	RelayHttpSigAlg alg = RELAY_HTTP_SIG_ALG_RSA_PKCS1_SHA256;
	gboolean valid = FALSE;

	g_return_val_if_fail(self != NULL, FALSE);
	g_return_val_if_fail(request != NULL, FALSE);
	g_return_val_if_fail(key != NULL, FALSE);

	if (!relay_http_signature_resolve(self, key, &alg, error))
		return FALSE;
	base = relay_http_signature_base(self, request, TRUE, error);
	if (base == NULL)
		return FALSE;
	if (!relay_http_sig_verify_bytes(key, alg, base, self->signature, &valid, error))
		return FALSE;
	if (valid)
		return TRUE;

	if (self->format == RELAY_HTTP_SIGNATURE_FORMAT_CAVAGE &&
	    relay_http_request_get_query(request) != NULL &&
	    relay_http_signature_has(self, "(request-target)")) {
		g_autofree gchar *base_without_query =
			relay_http_signature_base(self, request, FALSE, error);
		if (base_without_query == NULL)
			return FALSE;
		if (!relay_http_sig_verify_bytes(
			    key, alg, base_without_query, self->signature, &valid, error))
			return FALSE;
		if (valid)
			return TRUE;
	}
	g_set_error(error,
		    RELAY_FED_ERROR,
		    RELAY_FED_ERROR_BAD_SIGNATURE,
		    "the %s signature does not verify with the key of %s",
		    relay_http_sig_alg_to_string(alg),
		    self->key_id);
	return FALSE;
}

/* signing */

static GBytes *
relay_http_sig_sign_bytes(EVP_PKEY *key, RelayHttpSigAlg alg, const gchar *data, GError **error)
{
	g_autoptr(EVP_MD_CTX) context = EVP_MD_CTX_new();
	g_autofree guint8 *signature = NULL;
	gsize signature_len = 0;

	if (context == NULL || !relay_http_sig_init(context, alg, key, TRUE) ||
	    EVP_DigestSign(context, NULL, &signature_len, (const guint8 *)data, strlen(data)) !=
		    1) {
		g_autofree gchar *errors = relay_keys_openssl_errors();
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_KEY_NOT_FOUND,
			    "the key cannot sign %s: %s",
			    relay_http_sig_alg_to_string(alg),
			    errors);
		return NULL;
	}
	signature = g_malloc(signature_len);
	if (EVP_DigestSign(
		    context, signature, &signature_len, (const guint8 *)data, strlen(data)) != 1) {
		g_autofree gchar *errors = relay_keys_openssl_errors();
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_KEY_NOT_FOUND,
			    "the key cannot sign %s: %s",
			    relay_http_sig_alg_to_string(alg),
			    errors);
		return NULL;
	}
	return g_bytes_new_take(g_steal_pointer(&signature), signature_len);
}

static gchar *
relay_http_digest_base64(GBytes *body)
{
	g_autoptr(GBytes) digest = relay_http_digest_compute(G_CHECKSUM_SHA256, body);
	return g_base64_encode(g_bytes_get_data(digest, NULL), g_bytes_get_size(digest));
}

/* adds Host when missing, from the target's authority */
static gboolean
relay_http_sign_add_host(RelayHttpRequest *request, GError **error)
{
	g_autofree gchar *authority = NULL;

	if (relay_http_request_get_header(request, "Host") != NULL)
		return TRUE;
	authority = relay_http_normalized_authority(request);
	if (authority == NULL) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_MISSING_COMPONENT,
				    "the request has neither an absolute target nor a Host header");
		return FALSE;
	}
	relay_http_request_add_header(request, "Host", authority);
	return TRUE;
}

static gboolean
relay_http_sign_key_alg(RelayHttpSignatureFormat format,
			EVP_PKEY *key,
			const gchar **out_name,
			RelayHttpSigAlg *out_alg,
			GError **error)
{
	gboolean cavage = format == RELAY_HTTP_SIGNATURE_FORMAT_CAVAGE;

	if (relay_keys_is_rsa(key)) {
		*out_name = cavage ? "rsa-sha256" : "rsa-v1_5-sha256";
		*out_alg = RELAY_HTTP_SIG_ALG_RSA_PKCS1_SHA256;
		return TRUE;
	}
	if (relay_keys_is_ed25519(key)) {
		*out_name = cavage ? "hs2019" : "ed25519";
		*out_alg = RELAY_HTTP_SIG_ALG_ED25519;
		return TRUE;
	}
	g_set_error(error,
		    RELAY_FED_ERROR,
		    RELAY_FED_ERROR_UNKNOWN_ALGORITHM,
		    "cannot sign with a %s key",
		    EVP_PKEY_get0_type_name(key));
	return FALSE;
}

/* key ids go into quoted strings: printable ASCII only, escaped */
static gchar *
relay_http_quote(const gchar *text, GError **error)
{
	g_autoptr(GString) quoted = g_string_new("\"");

	for (const gchar *c = text; *c != '\0'; c++) {
		if ((guchar)*c < 0x20 || (guchar)*c > 0x7e) {
			g_set_error_literal(error,
					    RELAY_FED_ERROR,
					    RELAY_FED_ERROR_FAILED,
					    "a key id must be printable ASCII");
			return NULL;
		}
		if (*c == '"' || *c == '\\')
			g_string_append_c(quoted, '\\');
		g_string_append_c(quoted, *c);
	}
	g_string_append_c(quoted, '"');
	return g_string_free(g_steal_pointer(&quoted), FALSE);
}

/**
 * relay_http_sign_cavage:
 * @request: an outgoing request, with its body if it has one
 * @key_id: the keyId, such as "https://relay.example/actor#main-key"
 * @key: the private key
 * @headers: (nullable) (array zero-terminated=1): the headers to sign, in order, or %NULL for
 *	"(request-target) host date digest content-type" with a body (content-type only when the
 *	request has one) and "(request-target) host date" without
 * @error: return location for a #GError
 *
 * Signs @request the draft-cavage way, as Mastodon does. Adds Host (from the target) when
 * missing, Date (now) when missing, and "Digest: SHA-256=..." when there is a body and no
 * Digest; then replaces any Signature header with
 * keyId="...",algorithm="...",headers="...",signature="...", where algorithm is "rsa-sha256"
 * for RSA keys and "hs2019" for Ed25519 keys. "(created)" (set to now) may be signed with
 * Ed25519 keys only, as draft-cavage requires.
 *
 * Returns: whether @request is signed
 */
gboolean
relay_http_sign_cavage(RelayHttpRequest *request,
		       const gchar *key_id,
		       EVP_PKEY *key,
		       const gchar *const *headers,
		       GError **error)
{
	g_autoptr(RelayHttpSignature) self =
		relay_http_signature_new(RELAY_HTTP_SIGNATURE_FORMAT_CAVAGE);
	g_autoptr(GBytes) signature = NULL;
	g_autoptr(GString) header = g_string_new(NULL);
	g_autofree gchar *quoted_key_id = NULL;
	g_autofree gchar *base = NULL;
	g_autofree gchar *encoded = NULL;
	g_autofree gchar *names = NULL;
	GBytes *body;
	const gchar *algorithm = NULL;
	RelayHttpSigAlg alg = RELAY_HTTP_SIG_ALG_RSA_PKCS1_SHA256;

	g_return_val_if_fail(request != NULL, FALSE);
	g_return_val_if_fail(key_id != NULL, FALSE);
	g_return_val_if_fail(key != NULL, FALSE);

	body = relay_http_request_get_body(request);
	if (!relay_http_sign_key_alg(self->format, key, &algorithm, &alg, error))
		return FALSE;
	quoted_key_id = relay_http_quote(key_id, error);
	if (quoted_key_id == NULL)
		return FALSE;

	if (headers != NULL) {
		for (guint i = 0; headers[i] != NULL; i++)
			g_ptr_array_add(self->components, g_ascii_strdown(headers[i], -1));
	} else {
		g_ptr_array_add(self->components, g_strdup("(request-target)"));
		g_ptr_array_add(self->components, g_strdup("host"));
		g_ptr_array_add(self->components, g_strdup("date"));
		if (body != NULL) {
			g_ptr_array_add(self->components, g_strdup("digest"));
			if (relay_http_request_get_header(request, "Content-Type") != NULL)
				g_ptr_array_add(self->components, g_strdup("content-type"));
		}
	}
	if (self->components->len == 0) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_MISSING_COMPONENT,
				    "nothing to sign");
		return FALSE;
	}
	for (guint i = 0; i < self->components->len; i++) {
		const gchar *component = g_ptr_array_index(self->components, i);

		if (!relay_http_cavage_component_valid(component) ||
		    g_strcmp0(component, "(expires)") == 0) {
			g_set_error(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_MISSING_COMPONENT,
				    "cannot sign \"%s\"",
				    component);
			return FALSE;
		}
		if (g_strcmp0(component, "(created)") == 0) {
			if (alg != RELAY_HTTP_SIG_ALG_ED25519) {
				g_set_error(error,
					    RELAY_FED_ERROR,
					    RELAY_FED_ERROR_UNKNOWN_ALGORITHM,
					    "(created) cannot be signed with %s",
					    algorithm);
				return FALSE;
			}
			self->has_created = TRUE;
			self->created = g_get_real_time() / G_USEC_PER_SEC;
			self->created_text = g_strdup_printf("%" G_GINT64_FORMAT, self->created);
		}
	}

	if (!relay_http_sign_add_host(request, error))
		return FALSE;
	if (relay_http_request_get_header(request, "Date") == NULL) {
		g_autofree gchar *date = relay_http_date_format(g_get_real_time() / G_USEC_PER_SEC);
		relay_http_request_add_header(request, "Date", date);
	}
	if (body != NULL && relay_http_request_get_header(request, "Digest") == NULL) {
		g_autofree gchar *digest = relay_http_digest_base64(body);
		g_autofree gchar *value = g_strconcat("SHA-256=", digest, NULL);
		relay_http_request_add_header(request, "Digest", value);
	}

	base = relay_http_signature_base(self, request, TRUE, error);
	if (base == NULL)
		return FALSE;
	signature = relay_http_sig_sign_bytes(key, alg, base, error);
	if (signature == NULL)
		return FALSE;
	encoded = g_base64_encode(g_bytes_get_data(signature, NULL), g_bytes_get_size(signature));
	names = g_strjoinv(" ", (gchar **)self->components->pdata);
	g_string_append_printf(header, "keyId=%s,algorithm=\"%s\",", quoted_key_id, algorithm);
	if (self->has_created)
		g_string_append_printf(header, "created=%s,", self->created_text);
	g_string_append_printf(header, "headers=\"%s\",signature=\"%s\"", names, encoded);
	relay_http_request_remove_header(request, "Signature");
	relay_http_request_add_header(request, "Signature", header->str);
	return TRUE;
}

/**
 * relay_http_sign_rfc9421:
 * @request: an outgoing request, with its body if it has one
 * @key_id: the keyid
 * @key: the private key
 * @components: (nullable) (array zero-terminated=1): the components to sign, lower case, in
 *	order, or %NULL for "@method" "@target-uri" "@authority", plus "content-digest" when there
 *	is a body
 * @created: the created parameter, in seconds since the Unix epoch, or 0 for now
 * @error: return location for a #GError
 *
 * Signs @request the RFC 9421 way, as Fedify does. Adds Host when missing, Date (at @created)
 * when "date" is signed and missing, and "Content-Digest: sha-256=:...:" when there is a body
 * and no Content-Digest; then replaces any Signature-Input and Signature headers with one
 * signature labelled "sig1", its parameters in Fedify's order: alg ("rsa-v1_5-sha256" for RSA
 * keys, "ed25519" for Ed25519 keys), keyid, created.
 *
 * Returns: whether @request is signed
 */
gboolean
relay_http_sign_rfc9421(RelayHttpRequest *request,
			const gchar *key_id,
			EVP_PKEY *key,
			const gchar *const *components,
			gint64 created,
			GError **error)
{
	g_autoptr(RelayHttpSignature) self =
		relay_http_signature_new(RELAY_HTTP_SIGNATURE_FORMAT_RFC9421);
	g_autoptr(GBytes) signature = NULL;
	g_autoptr(GString) params = g_string_new("(");
	g_autofree gchar *quoted_key_id = NULL;
	g_autofree gchar *base = NULL;
	g_autofree gchar *encoded = NULL;
	g_autofree gchar *input = NULL;
	g_autofree gchar *value = NULL;
	GBytes *body;
	const gchar *algorithm = NULL;
	RelayHttpSigAlg alg = RELAY_HTTP_SIG_ALG_RSA_PKCS1_SHA256;

	g_return_val_if_fail(request != NULL, FALSE);
	g_return_val_if_fail(key_id != NULL, FALSE);
	g_return_val_if_fail(key != NULL, FALSE);

	body = relay_http_request_get_body(request);
	if (!relay_http_sign_key_alg(self->format, key, &algorithm, &alg, error))
		return FALSE;
	quoted_key_id = relay_http_quote(key_id, error);
	if (quoted_key_id == NULL)
		return FALSE;
	if (created <= 0)
		created = g_get_real_time() / G_USEC_PER_SEC;

	if (components != NULL) {
		for (guint i = 0; components[i] != NULL; i++) {
			if (!relay_http_rfc9421_component_valid(components[i], error))
				return FALSE;
			if (relay_http_signature_has(self, components[i])) {
				g_set_error(error,
					    RELAY_FED_ERROR,
					    RELAY_FED_ERROR_MALFORMED_SIGNATURE,
					    "component %s is listed twice",
					    components[i]);
				return FALSE;
			}
			g_ptr_array_add(self->components, g_strdup(components[i]));
		}
	} else {
		g_ptr_array_add(self->components, g_strdup("@method"));
		g_ptr_array_add(self->components, g_strdup("@target-uri"));
		g_ptr_array_add(self->components, g_strdup("@authority"));
		if (body != NULL)
			g_ptr_array_add(self->components, g_strdup("content-digest"));
	}

	if (!relay_http_sign_add_host(request, error))
		return FALSE;
	if (relay_http_signature_has(self, "date") &&
	    relay_http_request_get_header(request, "Date") == NULL) {
		g_autofree gchar *date = relay_http_date_format(created);
		relay_http_request_add_header(request, "Date", date);
	}
	if (body != NULL && relay_http_request_get_header(request, "Content-Digest") == NULL) {
		g_autofree gchar *digest = relay_http_digest_base64(body);
		g_autofree gchar *header = g_strdup_printf("sha-256=:%s:", digest);
		relay_http_request_add_header(request, "Content-Digest", header);
	}

	for (guint i = 0; i < self->components->len; i++) {
		if (i > 0)
			g_string_append_c(params, ' ');
		g_string_append_printf(
			params, "\"%s\"", (const gchar *)g_ptr_array_index(self->components, i));
	}
	g_string_append_printf(params,
			       ");alg=\"%s\";keyid=%s;created=%" G_GINT64_FORMAT,
			       algorithm,
			       quoted_key_id,
			       created);
	self->label = g_strdup("sig1");
	self->params_text = g_strdup(params->str);

	base = relay_http_signature_base(self, request, TRUE, error);
	if (base == NULL)
		return FALSE;
	signature = relay_http_sig_sign_bytes(key, alg, base, error);
	if (signature == NULL)
		return FALSE;
	encoded = g_base64_encode(g_bytes_get_data(signature, NULL), g_bytes_get_size(signature));
	input = g_strdup_printf("%s=%s", self->label, self->params_text);
	value = g_strdup_printf("%s=:%s:", self->label, encoded);
	relay_http_request_remove_header(request, "Signature-Input");
	relay_http_request_remove_header(request, "Signature");
	relay_http_request_add_header(request, "Signature-Input", input);
	relay_http_request_add_header(request, "Signature", value);
	return TRUE;
}
