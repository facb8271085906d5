/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/*
 * A network's actor document, as the big servers need it (research/relays.md sections 3, 4(c)):
 *
 *   field                       who needs it, and why
 *   type: Application           Friendica: `relay add` refuses anything but Application/Service,
 *                               and APContact::isRelay() matches "Application, nick relay, path
 *                               /actor"; Mastodon shows it as a bot; GoToSocial needs an
 *                               accountable type
 *   id                          everyone; Misskey compares its host with the HTTP signer's host
 *   preferredUsername           Mastodon (username regex, so network names stay [a-z0-9_]),
 *                               Misskey, GoToSocial, Fedify clients; Friendica's isRelay wants
 *                               "relay"; WebFinger acct:NAME@HOST must agree with it
 *   inbox                       exactly the URL admins paste: Mastodon accepts relay Announces only
 *                               when Relay.find_by(inbox_url: actor.inbox) is enabled, Misskey's
 *                               isRelayActor compares inbox or sharedInbox (pitfall 1)
 *   endpoints.sharedInbox       the same URL (Mastodon, Misskey, Pleroma deliver to it)
 *   followers, following        Pleroma/Akkoma refuse a relay actor without them (pub-relay #8/#14)
 *   outbox                      GoToSocial and Friendica read it (counts); FEP-ae0c
 *   publicKey {id: ID#main-key, owner: ID, publicKeyPem}
 *                               everyone verifies our signed Accepts/Announces/GETs with it;
 *                               Pleroma/Akkoma expect the `#main-key` form (S-H-G PR #99),
 *                               GoToSocial and Misskey require owner == id and the key on the
 *                               actor's host
 *   manuallyApprovesFollowers   Mastodon/Misskey show "pending" honestly for approval networks
 *   discoverable: false         a relay is no one to suggest in Mastodon's profile directory;
 *                               Friendica reads it as toot:discoverable (hence the context term),
 *                               but its "undiscoverable Application" rule also wants no
 *                               followers/following, so the nick + /actor rule is what matches
 *   name, summary, url          display only (url is the status page; Friendica keeps it as alias)
 *   published                   Mastodon and GoToSocial show it; ISO 8601 UTC, no fraction
 *   assertionMethod [Multikey]  FEP-521a (Mitra, Fedify, Misskey forks): the Ed25519 key that
 *                               signs FEP-8b32 proofs and RFC 9421 requests; only when given,
 *                               with data-integrity/v1 and multikey/v1 in the @context
 *
 * Friendica recognises only the default network (nick "relay" at /actor) as a relay by its
 * heuristics; named networks at /networks/NAME still subscribe through `relay add`.
 */
typedef struct {
	const gchar *id;	/* https://HOST/actor or https://HOST/networks/NAME */
	const gchar *inbox;	/* https://HOST/inbox or https://HOST/networks/NAME/inbox */
	const gchar *outbox;	/* (nullable): ID/outbox when NULL */
	const gchar *followers; /* (nullable): ID/followers when NULL */
	const gchar *following; /* (nullable): ID/following when NULL */
	const gchar *preferred_username; /* "relay" for the default network, NAME otherwise */
	const gchar *name;		 /* (nullable): the title; preferred_username when NULL */
	const gchar *summary;		 /* (nullable): may be empty */
	const gchar *url;		 /* (nullable): the status page */
	gboolean manually_approves_followers; /* join = approval or closed */
	const gchar *public_key_pem;	      /* RSA SPKI PEM */
	const gchar *ed25519_multibase;	      /* (nullable): FEP-521a Multikey "z6Mk..." */
	gint64 published_us;		      /* when the network was created; 0 or less: omitted */
} RelayActorInfo;

JsonNode *
relay_actor_document_new(const RelayActorInfo *info);
GBytes *
relay_json_to_bytes(JsonNode *node);

/* a legacy key (publicKey, additionalPublicKeys, a Key document) */
typedef struct {
	gchar *id;
	gchar *owner; /* (nullable) */
	gchar *pem;
} RelayActorKey;

/* a FEP-521a Multikey from assertionMethod */
typedef struct {
	gchar *id;
	gchar *controller;
	gchar *multibase; /* "z..." */
} RelayActorMultikey;

/*
 * What the relay needs from a remote actor. Keys are kept only when their id is an http(s) URL
 * on the actor's host and their owner (or controller) is absent or the actor itself; a key id
 * listed twice with different material is dropped. public_key_* repeat the first kept key.
 */
typedef struct {
	gchar *id;
	gchar *type;		   /* (nullable): the first actor type when `type` is a list */
	gchar *preferred_username; /* (nullable) */
	gchar *inbox;
	gchar *shared_inbox;	 /* (nullable): endpoints.sharedInbox */
	gchar *followers;	 /* (nullable) */
	gchar *public_key_id;	 /* (nullable) */
	gchar *public_key_owner; /* (nullable) */
	gchar *public_key_pem;	 /* (nullable) */
	GPtrArray *public_keys; /* (element-type RelayActorKey): publicKey + additionalPublicKeys */
	GPtrArray *multikeys;	/* (element-type RelayActorMultikey): assertionMethod */
} RelayRemoteActor;

/* more than this many keys of one kind make the document invalid (Misskey's bounds) */
#define RELAY_REMOTE_ACTOR_MAX_KEYS	 32
#define RELAY_REMOTE_ACTOR_MAX_MULTIKEYS 16

void
relay_actor_key_free(RelayActorKey *self);
void
relay_actor_multikey_free(RelayActorMultikey *self);
void
relay_remote_actor_free(RelayRemoteActor *self);

RelayRemoteActor *
relay_remote_actor_parse(JsonNode *document, GError **error) G_GNUC_WARN_UNUSED_RESULT;
const gchar *
relay_remote_actor_find_key_pem(RelayRemoteActor *self, const gchar *key_id);
const gchar *
relay_remote_actor_find_multikey(RelayRemoteActor *self, const gchar *key_id);
gboolean
relay_key_document_parse(JsonNode *document,
			 gchar **out_id,
			 gchar **out_owner,
			 gchar **out_pem,
			 GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayActorKey, relay_actor_key_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayActorMultikey, relay_actor_multikey_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayRemoteActor, relay_remote_actor_free)

G_END_DECLS
