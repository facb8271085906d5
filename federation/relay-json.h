/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define RELAY_JSON_MAX_DEPTH 64

JsonNode *
relay_json_parse(GBytes *bytes, guint max_depth, GError **error) G_GNUC_WARN_UNUSED_RESULT;
JsonNode *
relay_json_parse_object(GBytes *bytes, guint max_depth, GError **error) G_GNUC_WARN_UNUSED_RESULT;
const gchar *
relay_json_object_get_string(JsonObject *object, const gchar *member);

G_END_DECLS
