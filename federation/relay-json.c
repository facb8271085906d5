/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * JSON from the network: bounded before json-glib sees it. json-glib 1.6 recurses once per
 * nesting level, so a document of a million '[' would exhaust the stack; the depth is counted
 * first, outside strings, in one pass over the bytes.
 */

#include "config.h"

#include "relay-fed-error.h"
#include "relay-json.h"

static gboolean
relay_json_check_depth(const gchar *data, gsize size, guint max_depth, GError **error)
{
	guint depth = 0;
	gboolean in_string = FALSE;

	for (gsize i = 0; i < size; i++) {
		gchar c = data[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = FALSE;
			continue;
		}
		if (c == '"') {
			in_string = TRUE;
		} else if (c == '{' || c == '[') {
			if (++depth > max_depth) {
				g_set_error(error,
					    RELAY_FED_ERROR,
					    RELAY_FED_ERROR_INVALID_DOCUMENT,
					    "JSON nested deeper than %u levels",
					    max_depth);
				return FALSE;
			}
		} else if ((c == '}' || c == ']') && depth > 0) {
			depth--;
		}
	}
	return TRUE;
}

/**
 * relay_json_parse:
 * @bytes: JSON text from the network
 * @max_depth: how deep objects and arrays may nest
 * @error: (nullable): a #GError
 *
 * Returns: (transfer full) (nullable): the document, any JSON value, or %NULL with
 * %RELAY_FED_ERROR_INVALID_DOCUMENT
 */
JsonNode *
relay_json_parse(GBytes *bytes, guint max_depth, GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new_immutable();
	g_autoptr(GError) error_local = NULL;
	gsize size = 0;
	const gchar *data = g_bytes_get_data(bytes, &size);
	JsonNode *root;

	if (data == NULL || size == 0) {
		g_set_error_literal(
			error, RELAY_FED_ERROR, RELAY_FED_ERROR_INVALID_DOCUMENT, "empty document");
		return NULL;
	}
	if (!relay_json_check_depth(data, size, max_depth, error))
		return NULL;
	if (!json_parser_load_from_data(parser, data, (gssize)size, &error_local)) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_INVALID_DOCUMENT,
			    "not JSON: %s",
			    error_local->message);
		return NULL;
	}
	root = json_parser_get_root(parser);
	if (root == NULL) {
		g_set_error_literal(
			error, RELAY_FED_ERROR, RELAY_FED_ERROR_INVALID_DOCUMENT, "empty document");
		return NULL;
	}
	return json_node_ref(root);
}

/**
 * relay_json_parse_object:
 * @bytes: JSON text from the network
 * @max_depth: how deep objects and arrays may nest
 * @error: (nullable): a #GError
 *
 * Returns: (transfer full) (nullable): the document, which is a JSON object, or %NULL with
 * %RELAY_FED_ERROR_INVALID_DOCUMENT
 */
JsonNode *
relay_json_parse_object(GBytes *bytes, guint max_depth, GError **error)
{
	g_autoptr(JsonNode) root = relay_json_parse(bytes, max_depth, error);

	if (root == NULL)
		return NULL;
	if (!JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_INVALID_DOCUMENT,
				    "the document is not a JSON object");
		return NULL;
	}
	return g_steal_pointer(&root);
}

/**
 * relay_json_object_get_string:
 * @object: a JSON object
 * @member: a member name
 *
 * Returns: (transfer none) (nullable): the member when it is a string, %NULL otherwise
 */
const gchar *
relay_json_object_get_string(JsonObject *object, const gchar *member)
{
	JsonNode *node = json_object_get_member(object, member);
	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
	    json_node_get_value_type(node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(node);
}
