/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "relay-fed-error.h"

G_BEGIN_DECLS

/* the public collection, as the relay writes it (to/cc of Announces, object of peering Follows) */
#define RELAY_ACTIVITY_PUBLIC "https://www.w3.org/ns/activitystreams#Public"

/* the @context of every document the relay builds */
#define RELAY_ACTIVITY_CONTEXT "https://www.w3.org/ns/activitystreams"

/*
 * An activity received from the network, read as leniently as real servers require
 * (research/relays.md pitfall 8): `type` as a string or a list, `actor` and `object` as a string
 * or an embedded object, to/cc as a string or a list, the public collection in any spelling.
 * Only the JSON mechanics: what is relayed, and to whom, is decided in relay/.
 *
 * Every field is owned by the struct; JSON nodes are immutable (shared with @root).
 */
typedef struct {
	JsonNode *root;	    /* the whole document (an object) */
	gchar *id;	    /* (nullable): the string id; absent or null gives NULL */
	GStrv types;	    /* `type` as a string or a list: at least one string */
	gchar *actor;	    /* actor as a string, or the id of an embedded actor object */
	JsonNode *object;   /* (nullable): the `object` member as it is; null gives NULL */
	gchar *object_id;   /* (nullable): object as a string, or the id of the embedded object */
	GStrv object_types; /* (nullable): types of an embedded object */
	/* (nullable): attributedTo (string, object or first of a list), else actor, of the
	 * embedded object */
	gchar *object_actor;
	/* to/cc (string or list) of the activity, or else of the embedded object of a Create,
	 * contain as:Public in any spelling: "https://www.w3.org/ns/activitystreams#Public",
	 * "as:Public", "Public" */
	gboolean is_public;
	gboolean has_ld_signature; /* a `signature` object (e.g. RsaSignature2017) */
	gboolean has_proof;	   /* a `proof` (FEP-8b32), object or non-empty list */
	gint64 published_s; /* published of the activity, else of the embedded object; 0 if none */
} RelayActivity;

RelayActivity *
relay_activity_parse(GBytes *body, GError **error) G_GNUC_WARN_UNUSED_RESULT;
void
relay_activity_free(RelayActivity *self);
gboolean
relay_activity_has_type(RelayActivity *self, const gchar *type);
gboolean
relay_activity_object_has_type(RelayActivity *self, const gchar *type);
gboolean
relay_activity_is_addressed_to(RelayActivity *self, const gchar *address);
JsonObject *
relay_activity_get_embedded_object(RelayActivity *self);
const gchar *
relay_activity_object_get_string_member(RelayActivity *self, const gchar *member);

gchar *
relay_activity_host_of(const gchar *url);
gboolean
relay_activity_is_public_address(const gchar *address);
gboolean
relay_activity_json_has_type(JsonObject *object, const gchar *type);

gchar *
relay_activity_new_id(const gchar *origin);
GBytes *
relay_activity_accept_new(const gchar *id, const gchar *actor, JsonNode *follow);
GBytes *
relay_activity_reject_new(const gchar *id, const gchar *actor, JsonNode *follow);
GBytes *
relay_activity_follow_new(const gchar *id, const gchar *actor, const gchar *object);
GBytes *
relay_activity_undo_new(const gchar *id, const gchar *actor, JsonNode *object);
GBytes *
relay_activity_announce_new(const gchar *id,
			    const gchar *actor,
			    const gchar *object_id,
			    const gchar *followers,
			    gint64 published_s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayActivity, relay_activity_free)

G_END_DECLS
