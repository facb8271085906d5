/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * Keys for HTTP signatures, through the OpenSSL 3 EVP, encoder and decoder APIs only (no RSA_*
 * calls). PEM in: PKCS#8 and PKCS#1 private keys, SPKI and PKCS#1 public keys, all through one
 * OSSL_DECODER. Multibase (FEP-521a Multikey): "z" + base58btc(varint multicodec + key), with
 * multicodec 0xed (Ed25519, 32 raw bytes) and 0x1205 (RSA, DER RSAPublicKey).
 */

#include "config.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "relay-keys.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OSSL_DECODER_CTX, OSSL_DECODER_CTX_free)

/* a PEM document larger than this is not a key we want to parse */
#define RELAY_KEYS_PEM_MAX_BYTES (64 * 1024)
/* an RSA-16384 DER public key is about 2 KiB; its base58 form about 2.8 KiB */
#define RELAY_KEYS_MULTIBASE_MAX_CHARS 4096

#define RELAY_KEYS_MULTICODEC_ED25519_PUB 0xed
#define RELAY_KEYS_MULTICODEC_RSA_PUB	  0x1205
#define RELAY_KEYS_ED25519_RAW_BYTES	  32

static const gchar base58_alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/**
 * relay_keys_openssl_errors:
 *
 * Drains the calling thread's OpenSSL error queue.
 *
 * Returns: (transfer full): the queued errors as one line ("reason (detail); ..."), or
 * "unknown OpenSSL error" when the queue was empty
 */
gchar *
relay_keys_openssl_errors(void)
{
	g_autoptr(GString) text = g_string_new(NULL);
	const gchar *data = NULL;
	gint flags = 0;
	gulong code;

	while ((code = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		const gchar *reason = ERR_reason_error_string(code);
		const gchar *lib = ERR_lib_error_string(code);

		if (text->len > 0)
			g_string_append(text, "; ");
		if (lib != NULL)
			g_string_append_printf(text, "%s: ", lib);
		if (reason != NULL)
			g_string_append(text, reason);
		else
			g_string_append_printf(text, "error %08lx", code);
		if (data != NULL && (flags & ERR_TXT_STRING) != 0 && data[0] != '\0')
			g_string_append_printf(text, " (%s)", data);
	}
	if (text->len == 0)
		g_string_append(text, "unknown OpenSSL error");
	return g_string_free(g_steal_pointer(&text), FALSE);
}

static void
relay_keys_set_openssl_error(GError **error, RelayFedError code, const gchar *what)
{
	g_autofree gchar *errors = relay_keys_openssl_errors();
	g_set_error(error, RELAY_FED_ERROR, code, "%s: %s", what, errors);
}

/**
 * relay_keys_is_rsa:
 * @key: a key
 *
 * Returns: whether @key is an RSA key (private or public)
 */
gboolean
relay_keys_is_rsa(EVP_PKEY *key)
{
	return key != NULL && EVP_PKEY_is_a(key, "RSA");
}

/**
 * relay_keys_is_ed25519:
 * @key: a key
 *
 * Returns: whether @key is an Ed25519 key (private or public)
 */
gboolean
relay_keys_is_ed25519(EVP_PKEY *key)
{
	return key != NULL && EVP_PKEY_is_a(key, "ED25519");
}

/**
 * relay_keys_generate_rsa:
 * @bits: the modulus size, between %RELAY_KEYS_RSA_MIN_BITS and %RELAY_KEYS_RSA_MAX_BITS
 * @error: return location for a #GError
 *
 * Makes a fresh RSA key pair with public exponent 65537. This takes tens to hundreds of
 * milliseconds: call it from a worker thread.
 *
 * Returns: (transfer full) (nullable): the key pair, or %NULL with @error set
 */
EVP_PKEY *
relay_keys_generate_rsa(guint bits, GError **error)
{
	EVP_PKEY *key;

	if (bits < RELAY_KEYS_RSA_MIN_BITS || bits > RELAY_KEYS_RSA_MAX_BITS) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_FAILED,
			    "RSA key size %u is outside %u..%u bits",
			    bits,
			    (guint)RELAY_KEYS_RSA_MIN_BITS,
			    (guint)RELAY_KEYS_RSA_MAX_BITS);
		return NULL;
	}
	key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	if (key == NULL) {
		relay_keys_set_openssl_error(
			error, RELAY_FED_ERROR_FAILED, "cannot generate an RSA key");
		return NULL;
	}
	return key;
}

/**
 * relay_keys_generate_ed25519:
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): a fresh Ed25519 key pair, or %NULL with @error set
 */
EVP_PKEY *
relay_keys_generate_ed25519(GError **error)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	if (key == NULL) {
		relay_keys_set_openssl_error(
			error, RELAY_FED_ERROR_FAILED, "cannot generate an Ed25519 key");
		return NULL;
	}
	return key;
}

static gchar *
relay_keys_bio_to_string(BIO *bio)
{
	gchar *data = NULL;
	glong len = BIO_get_mem_data(bio, &data);

	if (len <= 0 || data == NULL)
		return g_strdup("");
	return g_strndup(data, (gsize)len);
}

/**
 * relay_keys_private_pem:
 * @key: a key pair
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the private key as unencrypted PKCS#8 PEM
 * ("BEGIN PRIVATE KEY"), or %NULL with @error set (for instance when @key is public only).
 * Free it with g_free() after clearing it if it must not linger in memory.
 */
gchar *
relay_keys_private_pem(EVP_PKEY *key, GError **error)
{
	g_autoptr(BIO) bio = NULL;

	g_return_val_if_fail(key != NULL, NULL);

	/* secure memory is wiped when the BIO is freed */
	bio = BIO_new(BIO_s_secmem());
	if (bio == NULL) {
		relay_keys_set_openssl_error(error, RELAY_FED_ERROR_FAILED, "cannot make a BIO");
		return NULL;
	}
	if (!PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)) {
		relay_keys_set_openssl_error(
			error, RELAY_FED_ERROR_KEY_NOT_FOUND, "cannot write the private key");
		return NULL;
	}
	return relay_keys_bio_to_string(bio);
}

/**
 * relay_keys_public_pem:
 * @key: a key pair or a public key
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the public key as SPKI PEM ("BEGIN PUBLIC KEY"), or
 * %NULL with @error set
 */
gchar *
relay_keys_public_pem(EVP_PKEY *key, GError **error)
{
	g_autoptr(BIO) bio = NULL;

	g_return_val_if_fail(key != NULL, NULL);

	bio = BIO_new(BIO_s_mem());
	if (bio == NULL) {
		relay_keys_set_openssl_error(error, RELAY_FED_ERROR_FAILED, "cannot make a BIO");
		return NULL;
	}
	if (!PEM_write_bio_PUBKEY(bio, key)) {
		relay_keys_set_openssl_error(
			error, RELAY_FED_ERROR_KEY_NOT_FOUND, "cannot write the public key");
		return NULL;
	}
	return relay_keys_bio_to_string(bio);
}

static EVP_PKEY *
relay_keys_decode(const guint8 *data,
		  gsize data_len,
		  const gchar *input_type,
		  const gchar *structure,
		  const gchar *key_type,
		  gint selection,
		  gsize *out_remaining,
		  GError **error)
{
	g_autoptr(OSSL_DECODER_CTX) context = NULL;
	EVP_PKEY *key = NULL;
	const guint8 *cursor = data;
	gsize remaining = data_len;

	context = OSSL_DECODER_CTX_new_for_pkey(
		&key, input_type, structure, key_type, selection, NULL, NULL);
	if (context == NULL) {
		relay_keys_set_openssl_error(
			error, RELAY_FED_ERROR_FAILED, "cannot make a key decoder");
		return NULL;
	}
	if (!OSSL_DECODER_from_data(context, &cursor, &remaining) || key == NULL) {
		EVP_PKEY_free(key);
		relay_keys_set_openssl_error(
			error, RELAY_FED_ERROR_KEY_NOT_FOUND, "not a supported key");
		return NULL;
	}
	/* on success the queue may still hold errors from the decoders that were tried first */
	ERR_clear_error();
	if (out_remaining != NULL)
		*out_remaining = remaining;
	return key;
}

/**
 * relay_keys_from_pem:
 * @pem: a PEM document
 * @error: return location for a #GError
 *
 * Loads the first key of @pem: a private key (PKCS#8 "BEGIN PRIVATE KEY", PKCS#1
 * "BEGIN RSA PRIVATE KEY"; unencrypted) or a public key (SPKI "BEGIN PUBLIC KEY", PKCS#1
 * "BEGIN RSA PUBLIC KEY"). Text before the "-----BEGIN" line is ignored.
 *
 * Returns: (transfer full) (nullable): the key, or %NULL with %RELAY_FED_ERROR_KEY_NOT_FOUND
 */
EVP_PKEY *
relay_keys_from_pem(const gchar *pem, GError **error)
{
	const gchar *begin;
	gsize len;

	g_return_val_if_fail(pem != NULL, NULL);

	len = strlen(pem);
	if (len > RELAY_KEYS_PEM_MAX_BYTES) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_KEY_NOT_FOUND,
			    "PEM document of %" G_GSIZE_FORMAT " bytes is too large",
			    len);
		return NULL;
	}
	begin = strstr(pem, "-----BEGIN ");
	if (begin == NULL) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_KEY_NOT_FOUND,
				    "not a PEM document: no BEGIN line");
		return NULL;
	}
	return relay_keys_decode((const guint8 *)begin,
				 len - (gsize)(begin - pem),
				 "PEM",
				 NULL,
				 NULL,
				 0,
				 NULL,
				 error);
}

static gchar *
relay_keys_base58_encode(const guint8 *data, gsize len)
{
	g_autofree guint8 *digits = NULL;
	gsize zeros = 0;
	gsize size;
	gsize used = 0;
	GString *text;

	while (zeros < len && data[zeros] == 0)
		zeros++;
	/* log(256) / log(58) < 1.37 */
	size = (len - zeros) * 137 / 100 + 1;
	digits = g_malloc0(size);
	for (gsize i = zeros; i < len; i++) {
		guint carry = data[i];
		gsize j;

		for (j = 0; j < used || carry != 0; j++) {
			carry += (guint)digits[size - 1 - j] * 256;
			digits[size - 1 - j] = (guint8)(carry % 58);
			carry /= 58;
		}
		used = j;
	}
	text = g_string_sized_new(zeros + used + 1);
	for (gsize i = 0; i < zeros; i++)
		g_string_append_c(text, '1');
	for (gsize i = size - used; i < size; i++)
		g_string_append_c(text, base58_alphabet[digits[i]]);
	return g_string_free(text, FALSE);
}

static GBytes *
relay_keys_base58_decode(const gchar *text, GError **error)
{
	g_autofree guint8 *bytes = NULL;
	gsize len = strlen(text);
	gsize ones = 0;
	gsize size;
	gsize used = 0;
	guint8 *out;

	while (ones < len && text[ones] == '1')
		ones++;
	/* log(58) / log(256) < 0.733 */
	size = (len - ones) * 733 / 1000 + 1;
	bytes = g_malloc0(size);
	for (gsize i = ones; i < len; i++) {
		const gchar *found = text[i] != '\0' ? strchr(base58_alphabet, text[i]) : NULL;
		guint carry;
		gsize j;

		if (found == NULL) {
			g_set_error(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_KEY_NOT_FOUND,
				    "multibase: character %" G_GSIZE_FORMAT " is not base58btc",
				    i + 1);
			return NULL;
		}
		carry = (guint)(found - base58_alphabet);
		for (j = 0; j < used || carry != 0; j++) {
			carry += (guint)bytes[size - 1 - j] * 58;
			bytes[size - 1 - j] = (guint8)(carry & 0xff);
			carry >>= 8;
		}
		used = j;
	}
	out = g_malloc0(ones + used + 1);
	memcpy(out + ones, bytes + size - used, used);
	return g_bytes_new_take(out, ones + used);
}

/**
 * relay_keys_ed25519_multibase:
 * @key: an Ed25519 key pair or public key
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the FEP-521a Multikey `publicKeyMultibase` of @key:
 * "z" + base58btc(0xed 0x01 + the 32 raw public key bytes), or %NULL with
 * %RELAY_FED_ERROR_KEY_NOT_FOUND when @key is not an Ed25519 key
 */
gchar *
relay_keys_ed25519_multibase(EVP_PKEY *key, GError **error)
{
	guint8 buffer[2 + RELAY_KEYS_ED25519_RAW_BYTES] = {0xed, 0x01};
	gsize raw_len = RELAY_KEYS_ED25519_RAW_BYTES;
	g_autofree gchar *base58 = NULL;

	g_return_val_if_fail(key != NULL, NULL);

	if (!relay_keys_is_ed25519(key)) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_KEY_NOT_FOUND,
			    "a %s key has no Ed25519 multibase form",
			    EVP_PKEY_get0_type_name(key));
		return NULL;
	}
	if (!EVP_PKEY_get_raw_public_key(key, buffer + 2, &raw_len) ||
	    raw_len != RELAY_KEYS_ED25519_RAW_BYTES) {
		relay_keys_set_openssl_error(
			error, RELAY_FED_ERROR_FAILED, "cannot read the Ed25519 public key");
		return NULL;
	}
	base58 = relay_keys_base58_encode(buffer, sizeof(buffer));
	return g_strconcat("z", base58, NULL);
}

/* an unsigned LEB128 varint, as multicodec uses; at most 9 bytes */
static gboolean
relay_keys_read_varint(const guint8 *data, gsize len, guint64 *out_value, gsize *out_used)
{
	guint64 value = 0;

	for (gsize i = 0; i < len && i < 9; i++) {
		value |= (guint64)(data[i] & 0x7f) << (7 * i);
		if ((data[i] & 0x80) == 0) {
			/* minimal encoding only: no trailing zero groups */
			if (i > 0 && data[i] == 0)
				return FALSE;
			*out_value = value;
			*out_used = i + 1;
			return TRUE;
		}
	}
	return FALSE;
}

/**
 * relay_keys_from_multibase:
 * @multibase: a `publicKeyMultibase` value
 * @error: return location for a #GError
 *
 * Loads a FEP-521a Multikey public key: "z" + base58btc(varint multicodec + key bytes), where
 * the multicodec is 0xed (ed25519-pub: 32 raw bytes) or 0x1205 (rsa-pub: DER RSAPublicKey).
 *
 * Returns: (transfer full) (nullable): the public key, or %NULL with
 * %RELAY_FED_ERROR_KEY_NOT_FOUND
 */
EVP_PKEY *
relay_keys_from_multibase(const gchar *multibase, GError **error)
{
	g_autoptr(GBytes) decoded = NULL;
	const guint8 *data;
	gsize len;
	guint64 codec = 0;
	gsize used = 0;

	g_return_val_if_fail(multibase != NULL, NULL);

	if (multibase[0] != 'z') {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_KEY_NOT_FOUND,
				    "multibase: only base58btc (\"z\") is supported");
		return NULL;
	}
	if (strlen(multibase) > RELAY_KEYS_MULTIBASE_MAX_CHARS) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_KEY_NOT_FOUND,
				    "multibase: value too long");
		return NULL;
	}
	decoded = relay_keys_base58_decode(multibase + 1, error);
	if (decoded == NULL)
		return NULL;
	data = g_bytes_get_data(decoded, &len);
	if (!relay_keys_read_varint(data, len, &codec, &used)) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_KEY_NOT_FOUND,
				    "multibase: no multicodec prefix");
		return NULL;
	}
	data += used;
	len -= used;

	if (codec == RELAY_KEYS_MULTICODEC_ED25519_PUB) {
		EVP_PKEY *key;

		if (len != RELAY_KEYS_ED25519_RAW_BYTES) {
			g_set_error(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_KEY_NOT_FOUND,
				    "multibase: Ed25519 key of %" G_GSIZE_FORMAT
				    " bytes, expected 32",
				    len);
			return NULL;
		}
		key = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, data, len);
		if (key == NULL) {
			relay_keys_set_openssl_error(error,
						     RELAY_FED_ERROR_KEY_NOT_FOUND,
						     "multibase: not an Ed25519 key");
			return NULL;
		}
		return key;
	}
	if (codec == RELAY_KEYS_MULTICODEC_RSA_PUB) {
		g_autoptr(EVP_PKEY) key = NULL;
		gsize remaining = 0;

		if (len == 0) {
			g_set_error_literal(error,
					    RELAY_FED_ERROR,
					    RELAY_FED_ERROR_KEY_NOT_FOUND,
					    "multibase: empty RSA key");
			return NULL;
		}
		key = relay_keys_decode(data,
					len,
					"DER",
					"type-specific",
					"RSA",
					EVP_PKEY_PUBLIC_KEY,
					&remaining,
					error);
		if (key == NULL) {
			g_prefix_error(error, "multibase: ");
			return NULL;
		}
		if (remaining != 0) {
			g_set_error(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_KEY_NOT_FOUND,
				    "multibase: %" G_GSIZE_FORMAT " bytes after the RSA public key",
				    remaining);
			return NULL;
		}
		return g_steal_pointer(&key);
	}
	g_set_error(error,
		    RELAY_FED_ERROR,
		    RELAY_FED_ERROR_KEY_NOT_FOUND,
		    "multibase: multicodec 0x%" G_GINT64_MODIFIER "x is not a supported key type",
		    codec);
	return NULL;
}
