/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "relay-store.h"

G_BEGIN_DECLS

gboolean
relay_domain_matches(const gchar *domain, const gchar *policy_domain);
RelayDomainPolicy *
relay_policy_find(GPtrArray *policies,
		  const gchar *network,
		  const gchar *domain,
		  RelayPolicyKind kind);

JsonNode *
relay_membership_follow_new(const RelayMember *member, const gchar *network_actor);
gboolean
relay_membership_accept(RelayStore *store,
			RelayMember *member,
			GBytes *accept,
			GBytes *follow_back,
			const gchar *follow_back_id,
			gint64 now_us,
			gboolean *out_following_back,
			GCancellable *cancellable,
			GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_membership_approve(RelayStore *store,
			 RelayMember *member,
			 const gchar *origin,
			 const gchar *network_actor,
			 gint64 now_us,
			 gboolean *out_following_back,
			 GCancellable *cancellable,
			 GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_membership_end(RelayStore *store,
		     RelayMember *member,
		     const gchar *origin,
		     const gchar *network_actor,
		     gboolean remove,
		     gint64 now_us,
		     gboolean *out_undo_sent,
		     GCancellable *cancellable,
		     GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_membership_remove(RelayStore *store,
			RelayMember *member,
			const gchar *origin,
			const gchar *network_actor,
			gint64 now_us,
			gboolean *out_queued,
			GCancellable *cancellable,
			GError **error) G_GNUC_WARN_UNUSED_RESULT;

const gchar *
relay_peer_state_to_string(const RelayMember *member);
gboolean
relay_peer_follows_us(const RelayMember *member);
GBytes *
relay_membership_peer_follow_new(const gchar *id, const gchar *network_actor);

/* a link between one of our networks and a peer network, as people may see it */
typedef struct {
	gchar *network; /* ours */
	gchar *name;	/* the peer network's name (its preferredUsername) */
	gchar *node;	/* its node: the host of its actor */
	gchar *actor;
	gboolean mutual; /* it follows us too; otherwise only its posts come to us */
} RelayPeerLink;

void
relay_peer_link_free(RelayPeerLink *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayPeerLink, relay_peer_link_free)
GPtrArray *
relay_peer_links_list(RelayStore *store,
		      const gchar *network,
		      GCancellable *cancellable,
		      GError **error) G_GNUC_WARN_UNUSED_RESULT;
void
relay_peer_links_add_json(JsonBuilder *builder, GPtrArray *links, const gchar *network);

/* what a block did */
typedef struct {
	guint removed;	 /* memberships ended */
	guint64 dropped; /* queued deliveries dropped */
	gboolean queued; /* Rejects (or Undos) were queued: wake the delivery engine */
} RelayBlockEffects;

typedef void (*RelayMemberRemovedFunc)(const RelayMember *member, gpointer user_data);

gboolean
relay_membership_block(RelayStore *store,
		       const RelayDomainPolicy *policy,
		       const gchar *origin,
		       GHashTable *network_actors,
		       gint64 now_us,
		       RelayMemberRemovedFunc removed_func,
		       gpointer user_data,
		       RelayBlockEffects *effects,
		       GCancellable *cancellable,
		       GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
