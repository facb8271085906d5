/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * What the inbox and the admin commands both do to memberships, so that a member accepted by
 * an admin gets exactly what one accepted by an open network gets:
 *  - domain policies: a policy covers its domain and every subdomain, whatever the port;
 *  - accepting: the member is stored, then the Accept (and for LitePub our follow-back) is
 *    queued in one call; an admin's approval rebuilds the member's Follow from what storage
 *    keeps (its id, its actor, and its object: Public for Mastodon-style members, the network
 *    actor for LitePub ones), which is what Mastodon and Misskey check in an Accept;
 *  - ending: a Reject of the member's Follow (and for LitePub an Undo of our follow-back) is
 *    queued, then the member is removed or marked rejected;
 *  - blocking a domain (an operator's block, an import, a subscribed block list): the policy is
 *    stored, then the memberships it covers end for good.
 *
 * The functions that touch storage are sync: call them from a store job (relay_store_run_async),
 * never on the main context.
 */

#include "config.h"

#include <string.h>

#include "relay-activity.h"
#include "relay-actor.h"
#include "relay-json.h"
#include "relay-membership.h"

/**
 * relay_domain_matches:
 * @domain: (nullable): a host, maybe with ":PORT"
 * @policy_domain: the domain a policy names
 *
 * Returns: whether @domain is @policy_domain or one of its subdomains; a port does not make
 *	another domain
 */
gboolean
relay_domain_matches(const gchar *domain, const gchar *policy_domain)
{
	g_autofree gchar *host = NULL;
	const gchar *colon;
	gsize host_length;
	gsize policy_length;

	if (domain == NULL || policy_domain == NULL)
		return FALSE;
	policy_length = strlen(policy_domain);
	colon = strrchr(domain, ':');
	host = colon != NULL && strchr(domain, ']') == NULL
		       ? g_strndup(domain, (gsize)(colon - domain))
		       : g_strdup(domain);
	host_length = strlen(host);
	if (g_ascii_strcasecmp(host, policy_domain) == 0)
		return TRUE;
	return host_length > policy_length && host[host_length - policy_length - 1] == '.' &&
	       g_ascii_strcasecmp(host + host_length - policy_length, policy_domain) == 0;
}

/**
 * relay_policy_find:
 * @policies: (element-type RelayDomainPolicy): every policy
 * @network: the network asking
 * @domain: (nullable): the domain in question
 * @kind: block or allow
 *
 * Returns: (transfer none) (nullable): the policy of @kind that covers @domain in @network
 *	(or on the whole node), if any
 */
RelayDomainPolicy *
relay_policy_find(GPtrArray *policies,
		  const gchar *network,
		  const gchar *domain,
		  RelayPolicyKind kind)
{
	for (guint i = 0; i < policies->len; i++) {
		RelayDomainPolicy *policy = g_ptr_array_index(policies, i);
		if (policy->kind != kind)
			continue;
		if (policy->network != NULL && g_strcmp0(policy->network, network) != 0)
			continue;
		if (relay_domain_matches(domain, policy->domain))
			return policy;
	}
	return NULL;
}

/**
 * relay_membership_follow_new:
 * @member: a member
 * @network_actor: the actor of the member's network
 *
 * Returns: (transfer full): the member's Follow as storage remembers it: its id (when known),
 *	its actor, and its object by protocol
 */
JsonNode *
relay_membership_follow_new(const RelayMember *member, const gchar *network_actor)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "@context");
	json_builder_add_string_value(builder, RELAY_ACTIVITY_CONTEXT);
	if (member->follow_id != NULL) {
		json_builder_set_member_name(builder, "id");
		json_builder_add_string_value(builder, member->follow_id);
	}
	json_builder_set_member_name(builder, "type");
	json_builder_add_string_value(builder, "Follow");
	json_builder_set_member_name(builder, "actor");
	json_builder_add_string_value(builder, member->actor);
	json_builder_set_member_name(builder, "object");
	json_builder_add_string_value(builder,
				      member->protocol == RELAY_MEMBER_PROTOCOL_LITEPUB
					      ? network_actor
					      : RELAY_ACTIVITY_PUBLIC);
	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}

/**
 * relay_membership_accept:
 * @member: the member, with the state it gets
 * @accept: the Accept of its Follow
 * @follow_back: (nullable): our follow-back (LitePub)
 * @follow_back_id: (nullable): the id of @follow_back
 * @out_following_back: (out) (optional): whether @follow_back was queued
 *
 * Stores @member, then queues the Accept to its inbox, and @follow_back with it when the
 * member has no follow-back of ours yet (or this one) and is not accepted yet, in one enqueue.
 */
gboolean
relay_membership_accept(RelayStore *store,
			RelayMember *member,
			GBytes *accept,
			GBytes *follow_back,
			const gchar *follow_back_id,
			gint64 now_us,
			gboolean *out_following_back,
			GCancellable *cancellable,
			GError **error)
{
	g_autoptr(GPtrArray) fanouts =
		g_ptr_array_new_with_free_func((GDestroyNotify)relay_fanout_free);
	RelayFanout *fanout;

	if (follow_back != NULL && member->follow_back_id == NULL)
		member->follow_back_id = g_strdup(follow_back_id);
	if (!relay_store_member_put(store, member, cancellable, error))
		return FALSE;
	fanout = relay_fanout_new(member->network, accept);
	relay_fanout_add_inbox(fanout, member->inbox);
	g_ptr_array_add(fanouts, fanout);
	if (follow_back != NULL && g_strcmp0(member->follow_back_id, follow_back_id) == 0 &&
	    member->state != RELAY_MEMBER_STATE_ACCEPTED) {
		fanout = relay_fanout_new(member->network, follow_back);
		relay_fanout_add_inbox(fanout, member->inbox);
		g_ptr_array_add(fanouts, fanout);
	}
	if (!relay_store_delivery_enqueue(store, fanouts, now_us, cancellable, error))
		return FALSE;
	if (out_following_back != NULL)
		*out_following_back = fanouts->len > 1;
	return TRUE;
}

/**
 * relay_membership_approve:
 * @member: a member waiting for approval
 * @origin: the node's public URL, for new activity ids
 * @network_actor: the actor of the member's network
 * @out_following_back: (out) (optional): whether our follow-back was queued
 *
 * What an open network does with a Follow, for a member an admin approves: a Mastodon-style
 * member is accepted; a LitePub one stays pending until it accepts our follow-back.
 */
gboolean
relay_membership_approve(RelayStore *store,
			 RelayMember *member,
			 const gchar *origin,
			 const gchar *network_actor,
			 gint64 now_us,
			 gboolean *out_following_back,
			 GCancellable *cancellable,
			 GError **error)
{
	g_autoptr(JsonNode) follow = relay_membership_follow_new(member, network_actor);
	g_autofree gchar *accept_id = relay_activity_new_id(origin);
	g_autoptr(GBytes) accept = relay_activity_accept_new(accept_id, network_actor, follow);
	g_autofree gchar *follow_back_id = NULL;
	g_autoptr(GBytes) follow_back = NULL;

	if (member->protocol == RELAY_MEMBER_PROTOCOL_LITEPUB) {
		follow_back_id = relay_activity_new_id(origin);
		follow_back =
			relay_activity_follow_new(follow_back_id, network_actor, member->actor);
		member->state = RELAY_MEMBER_STATE_PENDING;
	} else {
		member->state = RELAY_MEMBER_STATE_ACCEPTED;
	}
	return relay_membership_accept(store,
				       member,
				       accept,
				       follow_back,
				       follow_back_id,
				       now_us,
				       out_following_back,
				       cancellable,
				       error);
}

/* @bytes parsed; they are JSON we built */
static JsonNode *
relay_membership_parse(GBytes *bytes)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	gsize size = 0;
	const gchar *data = g_bytes_get_data(bytes, &size);

	if (!json_parser_load_from_data(parser, data, (gssize)size, NULL))
		return NULL;
	return json_node_ref(json_parser_get_root(parser));
}

/**
 * relay_membership_end:
 * @member: a member
 * @origin: the node's public URL, for new activity ids
 * @network_actor: the actor of the member's network
 * @remove: remove the member; otherwise it stays, marked rejected
 * @out_undo_sent: (out) (optional): whether an Undo of our follow-back was queued
 *
 * Queues a Reject of the member's Follow, and for a member we follow back an Undo of that
 * follow, then removes the member or marks it rejected.
 */
gboolean
relay_membership_end(RelayStore *store,
		     RelayMember *member,
		     const gchar *origin,
		     const gchar *network_actor,
		     gboolean remove,
		     gint64 now_us,
		     gboolean *out_undo_sent,
		     GCancellable *cancellable,
		     GError **error)
{
	g_autoptr(JsonNode) follow = relay_membership_follow_new(member, network_actor);
	g_autofree gchar *reject_id = relay_activity_new_id(origin);
	g_autoptr(GBytes) reject = relay_activity_reject_new(reject_id, network_actor, follow);
	g_autoptr(GPtrArray) fanouts =
		g_ptr_array_new_with_free_func((GDestroyNotify)relay_fanout_free);
	RelayFanout *fanout;
	guint undo_index = 1;

	/* a peer that never followed us has no Follow to reject */
	if (!member->is_peer || member->follow_id != NULL) {
		fanout = relay_fanout_new(member->network, reject);
		relay_fanout_add_inbox(fanout, member->inbox);
		g_ptr_array_add(fanouts, fanout);
	} else {
		undo_index = 0;
	}
	if (member->follow_back_id != NULL) {
		/* our Follow of a peer network was of Public (relay_membership_peer_follow_new) */
		g_autoptr(GBytes) ours = relay_activity_follow_new(
			member->follow_back_id,
			network_actor,
			member->is_peer ? RELAY_ACTIVITY_PUBLIC : member->actor);
		g_autoptr(JsonNode) ours_node = relay_membership_parse(ours);
		g_autofree gchar *undo_id = relay_activity_new_id(origin);
		g_autoptr(GBytes) undo = relay_activity_undo_new(undo_id, network_actor, ours_node);

		fanout = relay_fanout_new(member->network, undo);
		relay_fanout_add_inbox(fanout, member->inbox);
		g_ptr_array_add(fanouts, fanout);
	}
	if (!relay_store_delivery_enqueue(store, fanouts, now_us, cancellable, error))
		return FALSE;
	if (out_undo_sent != NULL)
		*out_undo_sent = fanouts->len > undo_index;
	if (remove)
		return relay_store_member_remove(
			store, member->network, member->actor, cancellable, error);
	member->state = RELAY_MEMBER_STATE_REJECTED;
	g_clear_pointer(&member->follow_back_id, g_free);
	member->follow_back_state = RELAY_MEMBER_STATE_PENDING;
	return relay_store_member_put(store, member, cancellable, error);
}

/**
 * relay_membership_remove:
 * @member: a member
 * @origin: the node's public URL, for new activity ids
 * @network_actor: (nullable): the actor of the member's network; %NULL when that network is
 *	no longer configured
 * @out_queued: (out) (optional): whether a Reject (or an Undo) was queued
 *
 * Removes @member for good, as blocks do: a pending or accepted member of a network we still
 * have is told with relay_membership_end(); a rejected one, or one of a network gone, is
 * just forgotten.
 */
gboolean
relay_membership_remove(RelayStore *store,
			RelayMember *member,
			const gchar *origin,
			const gchar *network_actor,
			gint64 now_us,
			gboolean *out_queued,
			GCancellable *cancellable,
			GError **error)
{
	gboolean tell = network_actor != NULL && member->state != RELAY_MEMBER_STATE_REJECTED;

	if (out_queued != NULL)
		*out_queued = tell;
	if (!tell)
		return relay_store_member_remove(
			store, member->network, member->actor, cancellable, error);
	return relay_membership_end(
		store, member, origin, network_actor, TRUE, now_us, NULL, cancellable, error);
}

/**
 * relay_membership_block:
 * @policy: a block; network %NULL blocks on the whole node
 * @origin: the node's public URL, for new activity ids
 * @network_actors: (element-type utf8 utf8): each configured network's actor URL, by name
 * @removed_func: (nullable) (scope call): told of each member removed
 * @effects: (out caller-allocates): what the block did, added to what it holds
 *
 * Stores @policy, then removes every member it covers (on its domain or a subdomain; in its
 * network, or in every network for a node-wide block) with relay_membership_remove(). A
 * node-wide block also drops the deliveries queued for the domain's hosts, before the Rejects
 * are queued; a network's block leaves them, since they may be other networks' deliveries to
 * the same host.
 */
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
		       GError **error)
{
	g_autoptr(GPtrArray) members = NULL;

	if (!relay_store_policy_put(store, policy, cancellable, error))
		return FALSE;
	if (policy->network == NULL) {
		g_autoptr(GPtrArray) hosts =
			relay_store_delivery_pending_hosts(store, cancellable, error);
		if (hosts == NULL)
			return FALSE;
		for (guint i = 0; i < hosts->len; i++) {
			const RelayPendingHost *host = g_ptr_array_index(hosts, i);
			guint64 dropped = 0;
			if (!relay_domain_matches(host->host, policy->domain))
				continue;
			if (!relay_store_delivery_drop_host(
				    store, host->host, &dropped, cancellable, error))
				return FALSE;
			effects->dropped += dropped;
		}
	}
	members = relay_store_member_list(store, policy->network, -1, cancellable, error);
	if (members == NULL)
		return FALSE;
	for (guint i = 0; i < members->len; i++) {
		RelayMember *member = g_ptr_array_index(members, i);
		gboolean queued = FALSE;

		if (!relay_domain_matches(member->domain, policy->domain))
			continue;
		if (!relay_membership_remove(store,
					     member,
					     origin,
					     g_hash_table_lookup(network_actors, member->network),
					     now_us,
					     &queued,
					     cancellable,
					     error))
			return FALSE;
		effects->queued |= queued;
		effects->removed++;
		if (removed_func != NULL)
			removed_func(member, user_data);
	}
	return TRUE;
}

/**
 * relay_peer_state_to_string:
 * @member: a peer (is_peer set)
 *
 * Returns: where the peering stands: "pending" (our Follow is not answered yet), "one-way"
 *	(it accepted our Follow, so its posts come to us, but it does not follow us), "mutual"
 *	(both), or "rejected" (it refused our Follow)
 */
const gchar *
relay_peer_state_to_string(const RelayMember *member)
{
	if (member->follow_back_state == RELAY_MEMBER_STATE_REJECTED)
		return "rejected";
	if (member->follow_back_state != RELAY_MEMBER_STATE_ACCEPTED)
		return "pending";
	return relay_peer_follows_us(member) ? "mutual" : "one-way";
}

/**
 * relay_peer_follows_us:
 * @member: a member
 *
 * Returns: whether it follows our network and we accepted: it gets what our network relays
 */
gboolean
relay_peer_follows_us(const RelayMember *member)
{
	return member->state == RELAY_MEMBER_STATE_ACCEPTED && member->follow_id != NULL;
}

/**
 * relay_membership_peer_follow_new:
 * @id: the id of our Follow
 * @network_actor: the actor of our network
 *
 * Returns: (transfer full): our Follow of a peer network: Mastodon's relay Follow, of Public,
 *	to its inbox, so that it takes us as a member (and never follows back, LitePub-style)
 */
GBytes *
relay_membership_peer_follow_new(const gchar *id, const gchar *network_actor)
{
	return relay_activity_follow_new(id, network_actor, RELAY_ACTIVITY_PUBLIC);
}

void
relay_peer_link_free(RelayPeerLink *self)
{
	if (self == NULL)
		return;
	g_free(self->network);
	g_free(self->name);
	g_free(self->node);
	g_free(self->actor);
	g_free(self);
}

/* the remote network's name: its actor's preferredUsername as we fetched it, else the last
 * part of its URL */
static gchar *
relay_peer_link_name(RelayStore *store, const RelayMember *member, GCancellable *cancellable)
{
	g_autoptr(RelayCachedActor) cached =
		relay_store_actor_get(store, member->actor, cancellable, NULL);
	const gchar *slash = strrchr(member->actor, '/');

	if (cached != NULL && cached->document != NULL) {
		g_autoptr(GBytes) bytes = g_bytes_new(cached->document, strlen(cached->document));
		g_autoptr(JsonNode) document =
			relay_json_parse_object(bytes, RELAY_JSON_MAX_DEPTH, NULL);
		g_autoptr(RelayRemoteActor) actor =
			document != NULL ? relay_remote_actor_parse(document, NULL) : NULL;
		if (actor != NULL && actor->preferred_username != NULL)
			return g_strdup(actor->preferred_username);
	}
	return g_strdup(slash != NULL && slash[1] != '\0' ? slash + 1 : member->actor);
}

/**
 * relay_peer_links_list:
 * @network: (nullable): one network, or %NULL for all
 *
 * The links people may see: peers that accepted our Follow (one-way or mutual); a peering
 * not answered, or refused, is between the operators. Call on a store worker.
 *
 * Returns: (transfer full) (element-type RelayPeerLink): by network, then node
 */
GPtrArray *
relay_peer_links_list(RelayStore *store,
		      const gchar *network,
		      GCancellable *cancellable,
		      GError **error)
{
	g_autoptr(GPtrArray) members =
		relay_store_member_list(store, network, -1, cancellable, error);
	g_autoptr(GPtrArray) links = NULL;

	if (members == NULL)
		return NULL;
	links = g_ptr_array_new_with_free_func((GDestroyNotify)relay_peer_link_free);
	for (guint i = 0; i < members->len; i++) {
		const RelayMember *member = g_ptr_array_index(members, i);
		RelayPeerLink *link;

		if (!member->is_peer || member->follow_back_state != RELAY_MEMBER_STATE_ACCEPTED)
			continue;
		link = g_new0(RelayPeerLink, 1);
		link->network = g_strdup(member->network);
		link->name = relay_peer_link_name(store, member, cancellable);
		link->node = g_strdup(member->domain);
		link->actor = g_strdup(member->actor);
		link->mutual = relay_peer_follows_us(member);
		g_ptr_array_add(links, link);
	}
	return g_steal_pointer(&links);
}

/**
 * relay_peer_links_add_json:
 * @links: (element-type RelayPeerLink): from relay_peer_links_list()
 * @network: the network whose links are added
 *
 * Adds an array of {name, node, actor, mutual}: what the status page's JSON and NodeInfo show.
 */
void
relay_peer_links_add_json(JsonBuilder *builder, GPtrArray *links, const gchar *network)
{
	json_builder_begin_array(builder);
	for (guint i = 0; links != NULL && i < links->len; i++) {
		const RelayPeerLink *link = g_ptr_array_index(links, i);
		if (g_strcmp0(link->network, network) != 0)
			continue;
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "name");
		json_builder_add_string_value(builder, link->name);
		json_builder_set_member_name(builder, "node");
		json_builder_add_string_value(builder, link->node);
		json_builder_set_member_name(builder, "actor");
		json_builder_add_string_value(builder, link->actor);
		json_builder_set_member_name(builder, "mutual");
		json_builder_add_boolean_value(builder, link->mutual);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
}
