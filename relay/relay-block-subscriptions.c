/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * Shared moderation: a network subscribes to other operators' domain block lists (`relay
 * blocks subscribe`), which the poller (relay-block-poller.c) fetches on a schedule and
 * storage keeps (the last good list of each, see relay_store_block_subscription_put()).
 *
 * What a list does depends on its mode. advise: nothing; its domains are shown to the operator
 * (`relay blocks list --advice`). enforce: each domain it lists is blocked in the subscribing
 * network, as a block of that network that names the list in its `subscription`, and a domain
 * that no enforced list names any more is unblocked. relay_block_subscriptions_apply() brings a
 * network's blocks in line with its enforced lists; it is idempotent, and every change to a
 * subscription (a fetch, a new mode, an unsubscribe) runs it. Its rules:
 *  - a block without a subscription is the operator's (by hand, or imported) and is never
 *    touched; a listed domain the operator already blocks (node-wide or in the network) gets
 *    no block of the list's, so lifting the list's entry leaves the operator's block alone;
 *  - a domain two lists name keeps one block, owned by one of them; when that list drops it
 *    the other takes it over, and only when no enforced list names it is it lifted;
 *  - a new block removes the network's members on the domain as an operator's block does
 *    (relay_membership_block());
 *  - a failed fetch changes no list, so it never lifts anything.
 *
 * Everything here is sync: call it from a store job, never on the main context.
 */

#include "config.h"

#include "relay-block-subscriptions.h"
#include "relay-blocklist.h"

/**
 * relay_block_subscription_source:
 * @url: a block list's URL
 *
 * Returns: (transfer full): the `source` its blocks show in `relay blocks list`
 */
gchar *
relay_block_subscription_source(const gchar *url)
{
	return g_strdup_printf("subscription %s", url);
}

/**
 * relay_block_subscription_entries_from_list:
 * @list: (element-type RelayBlocklistEntry): what relay_blocklist_parse() or
 *	relay_blocklist_parse_json() read
 * @now_us: when it was read
 *
 * Returns: (transfer container) (element-type RelayDomainPolicy): the entries that block, as
 *	relay_store_block_subscription_put() keeps them
 */
GPtrArray *
relay_block_subscription_entries_from_list(GPtrArray *list, gint64 now_us)
{
	GPtrArray *entries =
		g_ptr_array_new_with_free_func((GDestroyNotify)relay_domain_policy_free);

	for (guint i = 0; i < list->len; i++) {
		const RelayBlocklistEntry *item = g_ptr_array_index(list, i);
		RelayDomainPolicy *entry;

		if (item->skip != NULL)
			continue;
		entry = relay_domain_policy_new(NULL, item->domain, RELAY_POLICY_KIND_BLOCK);
		entry->reason = g_strdup(item->comment);
		entry->created_at_us = now_us;
		g_ptr_array_add(entries, entry);
	}
	return entries;
}

/* the first entry of an enforced list of @network for each domain, and each (url, domain) */
static void
relay_block_subscriptions_wanted(GPtrArray *subscriptions,
				 GPtrArray *entries,
				 const gchar *network,
				 GHashTable *by_domain,
				 GHashTable *by_list)
{
	g_autoptr(GHashTable) enforced = g_hash_table_new(g_str_hash, g_str_equal);

	for (guint i = 0; i < subscriptions->len; i++) {
		const RelayBlockSubscription *subscription = g_ptr_array_index(subscriptions, i);
		if (subscription->mode == RELAY_BLOCK_MODE_ENFORCE &&
		    g_strcmp0(subscription->network, network) == 0)
			g_hash_table_add(enforced, subscription->url);
	}
	for (guint i = 0; i < entries->len; i++) {
		RelayDomainPolicy *entry = g_ptr_array_index(entries, i);
		if (g_strcmp0(entry->network, network) != 0 ||
		    !g_hash_table_contains(enforced, entry->subscription))
			continue;
		if (!g_hash_table_contains(by_domain, entry->domain))
			g_hash_table_insert(by_domain, entry->domain, entry);
		g_hash_table_insert(
			by_list, g_strconcat(entry->subscription, " ", entry->domain, NULL), entry);
	}
}

/**
 * relay_block_subscriptions_apply:
 * @network: the subscribing network
 * @origin: the node's public URL, for new activity ids
 * @network_actors: (element-type utf8 utf8): each configured network's actor URL, by name
 * @removed_func: (nullable) (scope call): told of each member a new block removes
 * @applied: (out caller-allocates): what changed, added to what it holds
 *
 * Brings @network's blocks in line with its enforced lists, as the top of this file says.
 */
gboolean
relay_block_subscriptions_apply(RelayStore *store,
				const gchar *network,
				const gchar *origin,
				GHashTable *network_actors,
				gint64 now_us,
				RelayMemberRemovedFunc removed_func,
				gpointer user_data,
				RelayBlockSubscriptionsApplied *applied,
				GCancellable *cancellable,
				GError **error)
{
	g_autoptr(GPtrArray) subscriptions = NULL;
	g_autoptr(GPtrArray) entries = NULL;
	g_autoptr(GPtrArray) policies = NULL;
	g_autoptr(GHashTable) by_domain = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GHashTable) by_list =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) covered = g_hash_table_new(g_str_hash, g_str_equal);
	GHashTableIter iter;
	gpointer value;

	subscriptions = relay_store_block_subscription_list(store, cancellable, error);
	if (subscriptions == NULL)
		return FALSE;
	entries = relay_store_block_subscription_entries(store, network, cancellable, error);
	if (entries == NULL)
		return FALSE;
	policies = relay_store_policy_list(store, cancellable, error);
	if (policies == NULL)
		return FALSE;
	relay_block_subscriptions_wanted(subscriptions, entries, network, by_domain, by_list);

	/* the blocks lists keep: lifted, handed over, or kept (with the list's reason) */
	for (guint i = 0; i < policies->len; i++) {
		RelayDomainPolicy *policy = g_ptr_array_index(policies, i);
		g_autofree gchar *key = NULL;
		const RelayDomainPolicy *owner;
		const RelayDomainPolicy *wanted;

		if (policy->kind != RELAY_POLICY_KIND_BLOCK)
			continue;
		/* the operator's blocks, here or node-wide, cover their domain */
		if (policy->subscription == NULL) {
			if (policy->network == NULL || g_strcmp0(policy->network, network) == 0)
				g_hash_table_add(covered, policy->domain);
			continue;
		}
		if (g_strcmp0(policy->network, network) != 0)
			continue;
		g_hash_table_add(covered, policy->domain);
		wanted = g_hash_table_lookup(by_domain, policy->domain);
		if (wanted == NULL) {
			if (!relay_store_policy_remove(store,
						       network,
						       policy->domain,
						       RELAY_POLICY_KIND_BLOCK,
						       cancellable,
						       error))
				return FALSE;
			applied->lifted++;
			continue;
		}
		key = g_strconcat(policy->subscription, " ", policy->domain, NULL);
		owner = g_hash_table_lookup(by_list, key);
		if (owner == NULL)
			owner = wanted;
		if (g_strcmp0(owner->subscription, policy->subscription) == 0 &&
		    g_strcmp0(owner->reason, policy->reason) == 0)
			continue;
		g_free(policy->subscription);
		policy->subscription = g_strdup(owner->subscription);
		g_free(policy->source);
		policy->source = relay_block_subscription_source(owner->subscription);
		g_free(policy->reason);
		policy->reason = g_strdup(owner->reason);
		if (!relay_store_policy_put(store, policy, cancellable, error))
			return FALSE;
	}

	/* the domains no block covers yet */
	g_hash_table_iter_init(&iter, by_domain);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		const RelayDomainPolicy *entry = value;
		g_autoptr(RelayDomainPolicy) policy = NULL;

		if (g_hash_table_contains(covered, entry->domain))
			continue;
		policy = relay_domain_policy_new(network, entry->domain, RELAY_POLICY_KIND_BLOCK);
		policy->reason = g_strdup(entry->reason);
		policy->source = relay_block_subscription_source(entry->subscription);
		policy->subscription = g_strdup(entry->subscription);
		policy->created_at_us = now_us;
		if (!relay_membership_block(store,
					    policy,
					    origin,
					    network_actors,
					    now_us,
					    removed_func,
					    user_data,
					    &applied->effects,
					    cancellable,
					    error))
			return FALSE;
		applied->added++;
	}
	return TRUE;
}
