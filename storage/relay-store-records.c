/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "relay-store-records.h"

static const gchar *member_protocol_names[] = {"mastodon", "litepub"};
static const gchar *member_state_names[] = {"pending", "accepted", "rejected"};
static const gchar *member_direction_names[] = {"both", "receive-only", "publish-only"};
static const gchar *policy_kind_names[] = {"block", "allow", "software"};
static const gchar *delivery_outcome_names[] = {"done", "retry", "failed", "expired"};
static const gchar *block_mode_names[] = {"advise", "enforce"};

G_STATIC_ASSERT(G_N_ELEMENTS(member_protocol_names) == RELAY_MEMBER_PROTOCOL_LAST);
G_STATIC_ASSERT(G_N_ELEMENTS(member_state_names) == RELAY_MEMBER_STATE_LAST);
G_STATIC_ASSERT(G_N_ELEMENTS(member_direction_names) == RELAY_MEMBER_DIRECTION_LAST);
G_STATIC_ASSERT(G_N_ELEMENTS(policy_kind_names) == RELAY_POLICY_KIND_LAST);
G_STATIC_ASSERT(G_N_ELEMENTS(delivery_outcome_names) == RELAY_DELIVERY_OUTCOME_LAST);
G_STATIC_ASSERT(G_N_ELEMENTS(block_mode_names) == RELAY_BLOCK_MODE_LAST);

static gboolean
lookup_name(const gchar **names, guint n_names, const gchar *str, guint *value)
{
	if (str == NULL)
		return FALSE;
	for (guint i = 0; i < n_names; i++) {
		if (g_strcmp0(names[i], str) == 0) {
			*value = i;
			return TRUE;
		}
	}
	return FALSE;
}

const gchar *
relay_member_protocol_to_string(RelayMemberProtocol protocol)
{
	if (protocol >= RELAY_MEMBER_PROTOCOL_LAST)
		return NULL;
	return member_protocol_names[protocol];
}

gboolean
relay_member_protocol_from_string(const gchar *str, RelayMemberProtocol *protocol)
{
	guint value = 0;
	if (!lookup_name(member_protocol_names, RELAY_MEMBER_PROTOCOL_LAST, str, &value))
		return FALSE;
	*protocol = value;
	return TRUE;
}

const gchar *
relay_member_state_to_string(RelayMemberState state)
{
	if (state >= RELAY_MEMBER_STATE_LAST)
		return NULL;
	return member_state_names[state];
}

gboolean
relay_member_state_from_string(const gchar *str, RelayMemberState *state)
{
	guint value = 0;
	if (!lookup_name(member_state_names, RELAY_MEMBER_STATE_LAST, str, &value))
		return FALSE;
	*state = value;
	return TRUE;
}

const gchar *
relay_member_direction_to_string(RelayMemberDirection direction)
{
	if (direction >= RELAY_MEMBER_DIRECTION_LAST)
		return NULL;
	return member_direction_names[direction];
}

gboolean
relay_member_direction_from_string(const gchar *str, RelayMemberDirection *direction)
{
	guint value = 0;
	if (!lookup_name(member_direction_names, RELAY_MEMBER_DIRECTION_LAST, str, &value))
		return FALSE;
	*direction = value;
	return TRUE;
}

const gchar *
relay_block_mode_to_string(RelayBlockMode mode)
{
	if (mode >= RELAY_BLOCK_MODE_LAST)
		return NULL;
	return block_mode_names[mode];
}

gboolean
relay_block_mode_from_string(const gchar *str, RelayBlockMode *mode)
{
	guint value = 0;
	if (!lookup_name(block_mode_names, RELAY_BLOCK_MODE_LAST, str, &value))
		return FALSE;
	*mode = value;
	return TRUE;
}

const gchar *
relay_policy_kind_to_string(RelayPolicyKind kind)
{
	if (kind >= RELAY_POLICY_KIND_LAST)
		return NULL;
	return policy_kind_names[kind];
}

const gchar *
relay_delivery_outcome_to_string(RelayDeliveryOutcome outcome)
{
	if (outcome >= RELAY_DELIVERY_OUTCOME_LAST)
		return NULL;
	return delivery_outcome_names[outcome];
}

/**
 * relay_store_host_of_url:
 * @url: an absolute URL
 *
 * Returns: (transfer full) (nullable): the lower-case host of @url, with ":PORT" when the URL
 * names a port, or %NULL when @url does not parse
 */
gchar *
relay_store_host_of_url(const gchar *url)
{
	g_autoptr(GUri) uri = NULL;
	g_autofree gchar *host = NULL;

	if (url == NULL)
		return NULL;
	uri = g_uri_parse(url, G_URI_FLAGS_NON_DNS | G_URI_FLAGS_ENCODED, NULL);
	if (uri == NULL || g_uri_get_host(uri) == NULL)
		return NULL;
	host = g_ascii_strdown(g_uri_get_host(uri), -1);
	if (g_uri_get_port(uri) > 0)
		return g_strdup_printf("%s:%d", host, g_uri_get_port(uri));
	return g_steal_pointer(&host);
}

/**
 * relay_network_record_new:
 * @name: the network's name
 *
 * Returns: (transfer full): a record with no keys, created now
 */
RelayNetworkRecord *
relay_network_record_new(const gchar *name)
{
	RelayNetworkRecord *self = g_new0(RelayNetworkRecord, 1);
	self->name = g_strdup(name);
	self->created_at_us = g_get_real_time();
	return self;
}

/**
 * relay_network_record_copy:
 * @self: a record
 *
 * Returns: (transfer full): a deep copy
 */
RelayNetworkRecord *
relay_network_record_copy(const RelayNetworkRecord *self)
{
	RelayNetworkRecord *copy = g_new0(RelayNetworkRecord, 1);
	copy->name = g_strdup(self->name);
	copy->rsa_private_pem = g_strdup(self->rsa_private_pem);
	copy->ed25519_private_pem = g_strdup(self->ed25519_private_pem);
	copy->created_at_us = self->created_at_us;
	return copy;
}

void
relay_network_record_free(RelayNetworkRecord *self)
{
	if (self == NULL)
		return;
	g_free(self->name);
	if (self->rsa_private_pem != NULL)
		memset(self->rsa_private_pem, 0, strlen(self->rsa_private_pem));
	if (self->ed25519_private_pem != NULL)
		memset(self->ed25519_private_pem, 0, strlen(self->ed25519_private_pem));
	g_free(self->rsa_private_pem);
	g_free(self->ed25519_private_pem);
	g_free(self);
}

/**
 * relay_member_new:
 * @network: the network's name
 * @actor: the member's actor id
 * @inbox: the member's inbox
 *
 * Returns: (transfer full): a pending Mastodon-style member receiving and publishing, created
 * and last seen now; its domain is the host of @actor
 */
RelayMember *
relay_member_new(const gchar *network, const gchar *actor, const gchar *inbox)
{
	RelayMember *self = g_new0(RelayMember, 1);
	self->network = g_strdup(network);
	self->actor = g_strdup(actor);
	self->domain = relay_store_host_of_url(actor);
	if (self->domain == NULL)
		self->domain = g_strdup("");
	self->inbox = g_strdup(inbox);
	self->protocol = RELAY_MEMBER_PROTOCOL_MASTODON;
	self->state = RELAY_MEMBER_STATE_PENDING;
	self->direction = RELAY_MEMBER_DIRECTION_BOTH;
	self->created_at_us = g_get_real_time();
	self->last_seen_us = self->created_at_us;
	return self;
}

/**
 * relay_member_copy:
 * @self: a member
 *
 * Returns: (transfer full): a deep copy
 */
RelayMember *
relay_member_copy(const RelayMember *self)
{
	RelayMember *copy = g_new0(RelayMember, 1);
	*copy = *self;
	copy->network = g_strdup(self->network);
	copy->actor = g_strdup(self->actor);
	copy->domain = g_strdup(self->domain);
	copy->inbox = g_strdup(self->inbox);
	copy->shared_inbox = g_strdup(self->shared_inbox);
	copy->follow_id = g_strdup(self->follow_id);
	copy->follow_back_id = g_strdup(self->follow_back_id);
	copy->software_name = g_strdup(self->software_name);
	copy->software_version = g_strdup(self->software_version);
	return copy;
}

void
relay_member_free(RelayMember *self)
{
	if (self == NULL)
		return;
	g_free(self->network);
	g_free(self->actor);
	g_free(self->domain);
	g_free(self->inbox);
	g_free(self->shared_inbox);
	g_free(self->follow_id);
	g_free(self->follow_back_id);
	g_free(self->software_name);
	g_free(self->software_version);
	g_free(self);
}

/**
 * relay_domain_policy_new:
 * @network: (nullable): a network's name, or %NULL for the whole node
 * @domain: the domain (its subdomains are covered too)
 * @kind: block or allow
 *
 * Returns: (transfer full): a policy set by an admin now, with no reason
 */
RelayDomainPolicy *
relay_domain_policy_new(const gchar *network, const gchar *domain, RelayPolicyKind kind)
{
	RelayDomainPolicy *self = g_new0(RelayDomainPolicy, 1);
	self->network = g_strdup(network);
	self->domain = g_ascii_strdown(domain, -1);
	self->kind = kind;
	self->created_at_us = g_get_real_time();
	return self;
}

/**
 * relay_domain_policy_copy:
 * @self: a policy
 *
 * Returns: (transfer full): a deep copy
 */
RelayDomainPolicy *
relay_domain_policy_copy(const RelayDomainPolicy *self)
{
	RelayDomainPolicy *copy = g_new0(RelayDomainPolicy, 1);
	*copy = *self;
	copy->network = g_strdup(self->network);
	copy->domain = g_strdup(self->domain);
	copy->reason = g_strdup(self->reason);
	copy->source = g_strdup(self->source);
	copy->subscription = g_strdup(self->subscription);
	return copy;
}

void
relay_domain_policy_free(RelayDomainPolicy *self)
{
	if (self == NULL)
		return;
	g_free(self->network);
	g_free(self->domain);
	g_free(self->reason);
	g_free(self->source);
	g_free(self->subscription);
	g_free(self);
}

/**
 * relay_block_subscription_new:
 * @network: the subscribing network
 * @url: the block list's URL
 * @mode: advise or enforce
 *
 * Returns: (transfer full): a subscription made now, never fetched
 */
RelayBlockSubscription *
relay_block_subscription_new(const gchar *network, const gchar *url, RelayBlockMode mode)
{
	RelayBlockSubscription *self = g_new0(RelayBlockSubscription, 1);
	self->network = g_strdup(network);
	self->url = g_strdup(url);
	self->mode = mode;
	self->created_at_us = g_get_real_time();
	self->count = -1;
	return self;
}

/**
 * relay_block_subscription_copy:
 * @self: a subscription
 *
 * Returns: (transfer full): a deep copy
 */
RelayBlockSubscription *
relay_block_subscription_copy(const RelayBlockSubscription *self)
{
	RelayBlockSubscription *copy = g_new0(RelayBlockSubscription, 1);
	*copy = *self;
	copy->network = g_strdup(self->network);
	copy->url = g_strdup(self->url);
	copy->etag = g_strdup(self->etag);
	copy->last_error = g_strdup(self->last_error);
	return copy;
}

void
relay_block_subscription_free(RelayBlockSubscription *self)
{
	if (self == NULL)
		return;
	g_free(self->network);
	g_free(self->url);
	g_free(self->etag);
	g_free(self->last_error);
	g_free(self);
}

/**
 * relay_cached_actor_new:
 * @id: the actor's id
 * @document: (nullable): its JSON text
 *
 * Returns: (transfer full): a record fetched now
 */
RelayCachedActor *
relay_cached_actor_new(const gchar *id, const gchar *document)
{
	RelayCachedActor *self = g_new0(RelayCachedActor, 1);
	self->id = g_strdup(id);
	self->document = g_strdup(document);
	self->fetched_at_us = g_get_real_time();
	return self;
}

/**
 * relay_cached_actor_copy:
 * @self: a record
 *
 * Returns: (transfer full): a deep copy
 */
RelayCachedActor *
relay_cached_actor_copy(const RelayCachedActor *self)
{
	RelayCachedActor *copy = g_new0(RelayCachedActor, 1);
	*copy = *self;
	copy->id = g_strdup(self->id);
	copy->document = g_strdup(self->document);
	return copy;
}

void
relay_cached_actor_free(RelayCachedActor *self)
{
	if (self == NULL)
		return;
	g_free(self->id);
	g_free(self->document);
	g_free(self);
}

/**
 * relay_cached_key_new:
 * @id: the key's id
 * @owner: the actor owning it
 * @public_key_pem: the key, PEM
 *
 * Returns: (transfer full): a record fetched now
 */
RelayCachedKey *
relay_cached_key_new(const gchar *id, const gchar *owner, const gchar *public_key_pem)
{
	RelayCachedKey *self = g_new0(RelayCachedKey, 1);
	self->id = g_strdup(id);
	self->owner = g_strdup(owner);
	self->public_key_pem = g_strdup(public_key_pem);
	self->fetched_at_us = g_get_real_time();
	return self;
}

/**
 * relay_cached_key_copy:
 * @self: a record
 *
 * Returns: (transfer full): a deep copy
 */
RelayCachedKey *
relay_cached_key_copy(const RelayCachedKey *self)
{
	RelayCachedKey *copy = g_new0(RelayCachedKey, 1);
	*copy = *self;
	copy->id = g_strdup(self->id);
	copy->owner = g_strdup(self->owner);
	copy->public_key_pem = g_strdup(self->public_key_pem);
	return copy;
}

void
relay_cached_key_free(RelayCachedKey *self)
{
	if (self == NULL)
		return;
	g_free(self->id);
	g_free(self->owner);
	g_free(self->public_key_pem);
	g_free(self);
}

/**
 * relay_fanout_new:
 * @network: the network relaying it
 * @body: the exact bytes to POST
 *
 * Returns: (transfer full): a fan-out with no inboxes and nothing to mark seen
 */
RelayFanout *
relay_fanout_new(const gchar *network, GBytes *body)
{
	RelayFanout *self = g_new0(RelayFanout, 1);
	self->network = g_strdup(network);
	self->body = g_bytes_ref(body);
	self->inboxes = g_ptr_array_new_with_free_func(g_free);
	self->seen_ids = g_ptr_array_new_with_free_func(g_free);
	return self;
}

void
relay_fanout_add_inbox(RelayFanout *self, const gchar *inbox)
{
	g_ptr_array_add(self->inboxes, g_strdup(inbox));
}

void
relay_fanout_add_seen_id(RelayFanout *self, const gchar *id)
{
	g_ptr_array_add(self->seen_ids, g_strdup(id));
}

void
relay_fanout_free(RelayFanout *self)
{
	if (self == NULL)
		return;
	g_free(self->network);
	g_bytes_unref(self->body);
	g_ptr_array_unref(self->inboxes);
	g_ptr_array_unref(self->seen_ids);
	g_clear_pointer(&self->not_before, g_hash_table_unref);
	g_free(self);
}

/**
 * relay_fanout_due_us:
 * @host: (nullable): an inbox's host
 * @now_us: the enqueue time
 *
 * Returns: when the row for @host is first due: now, or the end of its host's pause
 */
gint64
relay_fanout_due_us(const RelayFanout *self, const gchar *host, gint64 now_us)
{
	const gint64 *until_us;

	if (self->not_before == NULL || host == NULL)
		return now_us;
	until_us = g_hash_table_lookup(self->not_before, host);
	return until_us != NULL ? MAX(now_us, *until_us) : now_us;
}

/**
 * relay_delivery_new:
 * @id: the queue row
 * @network: the network that signs it
 * @inbox: where it goes
 * @body: what to POST
 *
 * Returns: (transfer full): a claimed delivery; its host is derived from @inbox
 */
RelayDelivery *
relay_delivery_new(gint64 id, const gchar *network, const gchar *inbox, GBytes *body)
{
	RelayDelivery *self = g_new0(RelayDelivery, 1);
	self->id = id;
	self->network = g_strdup(network);
	self->inbox = g_strdup(inbox);
	self->host = relay_store_host_of_url(inbox);
	if (self->host == NULL)
		self->host = g_strdup("");
	self->body = g_bytes_ref(body);
	return self;
}

void
relay_delivery_free(RelayDelivery *self)
{
	if (self == NULL)
		return;
	g_free(self->network);
	g_free(self->inbox);
	g_free(self->host);
	g_bytes_unref(self->body);
	g_free(self);
}

/**
 * relay_host_queue_stats_new:
 * @host: the host, as in #RelayDelivery
 *
 * Returns: (transfer full): empty statistics of @host
 */
RelayHostQueueStats *
relay_host_queue_stats_new(const gchar *host)
{
	RelayHostQueueStats *self = g_new0(RelayHostQueueStats, 1);
	self->host = g_strdup(host);
	return self;
}

void
relay_host_queue_stats_free(RelayHostQueueStats *self)
{
	if (self == NULL)
		return;
	g_free(self->host);
	g_free(self);
}

/**
 * relay_counter_new:
 * @name: the counter's name, with labels if any
 * @value: a value or a delta
 *
 * Returns: (transfer full): a counter
 */
RelayCounter *
relay_counter_new(const gchar *name, gint64 value)
{
	RelayCounter *self = g_new0(RelayCounter, 1);
	self->name = g_strdup(name);
	self->value = value;
	return self;
}

void
relay_counter_free(RelayCounter *self)
{
	if (self == NULL)
		return;
	g_free(self->name);
	g_free(self);
}

/**
 * relay_pending_host_new:
 * @host: a delivery host
 *
 * Returns: (transfer full): the queue of @host, empty
 */
RelayPendingHost *
relay_pending_host_new(const gchar *host)
{
	RelayPendingHost *self = g_new0(RelayPendingHost, 1);
	self->host = g_strdup(host);
	return self;
}

void
relay_pending_host_free(RelayPendingHost *self)
{
	if (self == NULL)
		return;
	g_free(self->host);
	g_free(self);
}
