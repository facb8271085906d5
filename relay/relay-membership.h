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
