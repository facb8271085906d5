/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/*
 * A fake fediverse instance on its own loopback address (127.0.0.N): it serves an instance
 * actor at /actor and users at /users/NAME (all with the instance's RSA key, each under its
 * own keyId), a shared inbox at /inbox and personal inboxes at /users/NAME/inbox. Every POST
 * it receives is recorded and its HTTP signature verified with the sender's key, fetched from
 * the keyId like a real server would. It signs what it sends (draft-cavage, Mastodon's shape).
 * It serves NodeInfo (/.well-known/nodeinfo linking to /nodeinfo/2.1) naming its software,
 * "mastodon" 4.3.0 unless told otherwise, and records the path of every GET.
 */
typedef struct _RelayTestInstance RelayTestInstance;

typedef struct {
	gchar *path;
	GBytes *body;
	JsonNode *json;	     /* the body parsed */
	gboolean verified;   /* the signature verified with the keyId's key */
	gchar *key_id;	     /* the keyId it was signed with */
	gchar *verify_error; /* (nullable): why it did not verify */
} RelayTestDelivery;

RelayTestInstance *
relay_test_instance_new(const gchar *address);
void
relay_test_instance_free(RelayTestInstance *self);
const gchar *
relay_test_instance_get_origin(RelayTestInstance *self);
const gchar *
relay_test_instance_get_host(RelayTestInstance *self);
gchar *
relay_test_instance_url(RelayTestInstance *self, const gchar *path);

/* answer every POST to our inboxes with @status (0: 202) */
void
relay_test_instance_set_status(RelayTestInstance *self, guint status);
/* answer every GET of an actor with 410 Gone, as a deleted account does */
void
relay_test_instance_set_gone(RelayTestInstance *self, gboolean gone);
/* answer the relay's follow-back (LitePub) with an Accept to @relay_inbox */
void
relay_test_instance_set_auto_accept(RelayTestInstance *self, const gchar *relay_inbox);
/* what NodeInfo says; @schema "2.0" or "2.1" is the one document linked */
void
relay_test_instance_set_software(RelayTestInstance *self,
				 const gchar *name,
				 const gchar *version,
				 const gchar *schema);
/* answer GET /.well-known/nodeinfo with @status (0: the links) */
void
relay_test_instance_set_nodeinfo_status(RelayTestInstance *self, guint status);
/* leave every GET /.well-known/nodeinfo unanswered (until the instance is freed) */
void
relay_test_instance_set_nodeinfo_stall(RelayTestInstance *self, gboolean stall);
/* how many GETs of @path were received */
guint
relay_test_instance_count_gets(RelayTestInstance *self, const gchar *path);

/* POSTs @body signed as @actor_path's key to @url; returns the HTTP status (0 on error) */
guint
relay_test_instance_post(RelayTestInstance *self,
			 const gchar *url,
			 const gchar *actor_path,
			 const gchar *body,
			 gchar **out_response);
/* the same with a body that is not what was signed (tampering) or no signature at all */
guint
relay_test_instance_post_raw(RelayTestInstance *self,
			     const gchar *url,
			     const gchar *actor_path,
			     const gchar *signed_body,
			     const gchar *sent_body,
			     gboolean sign);

/* waits until the POSTs the instance sends by itself (auto-accepts) are answered */
gboolean
relay_test_instance_wait_idle(RelayTestInstance *self, guint timeout_ms);
/* POSTs @body signed with this instance's key under someone else's keyId (a forgery) */
guint
relay_test_instance_post_forged(RelayTestInstance *self,
				const gchar *url,
				const gchar *key_id,
				const gchar *body);
GPtrArray *
relay_test_instance_get_deliveries(RelayTestInstance *self);
guint
relay_test_instance_count_type(RelayTestInstance *self, const gchar *type);
RelayTestDelivery *
relay_test_instance_find_type(RelayTestInstance *self, const gchar *type, guint index);
void
relay_test_instance_clear(RelayTestInstance *self);
/* waits until @count deliveries of @type arrived (or @timeout_ms passed) */
gboolean
relay_test_instance_wait_type(RelayTestInstance *self,
			      const gchar *type,
			      guint count,
			      guint timeout_ms);

/* a Follow of @object by /actor (its id in @out_id) */
gchar *
relay_test_instance_follow_json(RelayTestInstance *instance, const gchar *object, gchar **out_id);
/* a public note by /users/alice, LD-signed (forwarded as is) when @signed_ld */
gchar *
relay_test_instance_note_json(RelayTestInstance *instance, const gchar *text, gboolean signed_ld);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayTestInstance, relay_test_instance_free)

G_END_DECLS
