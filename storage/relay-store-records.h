/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The plain records that cross the storage interface. Every record owns its strings; each has
 * _new(), _copy() and _free() and an autoptr cleanup. Times are microseconds since the Unix
 * epoch (g_get_real_time()), always with a _us suffix.
 */

/* a network hosted by this node, with its key pairs (PEM, PKCS#8) */
typedef struct {
	gchar *name;
	gchar *rsa_private_pem;	    /* (nullable) */
	gchar *ed25519_private_pem; /* (nullable) */
	gint64 created_at_us;
} RelayNetworkRecord;

typedef enum {
	RELAY_MEMBER_PROTOCOL_MASTODON, /* Follow of as:Public to the inbox */
	RELAY_MEMBER_PROTOCOL_LITEPUB,	/* Follow of the network actor, then our follow-back */
	RELAY_MEMBER_PROTOCOL_LAST,
} RelayMemberProtocol;

typedef enum {
	RELAY_MEMBER_STATE_PENDING,
	RELAY_MEMBER_STATE_ACCEPTED,
	RELAY_MEMBER_STATE_REJECTED,
	RELAY_MEMBER_STATE_LAST,
} RelayMemberState;

typedef enum {
	RELAY_MEMBER_DIRECTION_BOTH,
	RELAY_MEMBER_DIRECTION_RECEIVE_ONLY,
	RELAY_MEMBER_DIRECTION_PUBLISH_ONLY,
	RELAY_MEMBER_DIRECTION_LAST,
} RelayMemberDirection;

/* a subscribed instance (or peer relay) of one network; (network, actor) is unique */
typedef struct {
	gchar *network;
	gchar *actor;
	gchar *domain; /* the actor's host, lower case */
	gchar *inbox;
	gchar *shared_inbox; /* (nullable) */
	RelayMemberProtocol protocol;
	RelayMemberState state;
	RelayMemberDirection direction;
	gchar *follow_id;      /* (nullable): the id of their Follow */
	gchar *follow_back_id; /* (nullable): the id of our Follow (LitePub, peers) */
	/* what became of our Follow: pending until the member answers it (peers: see
	 * relay-peers.c); LitePub members also become accepted when they accept it */
	RelayMemberState follow_back_state;
	gboolean is_peer; /* our admin linked this network to ours: it may forward others' posts */
	gint64 created_at_us;
	gint64 last_seen_us;
	guint failure_count;
	/* what its NodeInfo said at the last check, see relay_store_member_software_put() */
	gchar *software_name;	    /* (nullable): software.name, lower case as NodeInfo has it */
	gchar *software_version;    /* (nullable): software.version */
	gint64 nodeinfo_checked_us; /* the last check, failed or not; 0 when never checked */
} RelayMember;

typedef enum {
	RELAY_POLICY_KIND_BLOCK,
	RELAY_POLICY_KIND_ALLOW,
	RELAY_POLICY_KIND_SOFTWARE, /* node-wide: @domain holds a software name (NodeInfo) */
	RELAY_POLICY_KIND_LAST,
} RelayPolicyKind;

/* a rule about a domain and its subdomains; network NULL means every network of the node */
typedef struct {
	gchar *network; /* (nullable) */
	gchar *domain;
	RelayPolicyKind kind;
	gchar *reason; /* (nullable) */
	gchar *source; /* (nullable): where it came from, NULL when an admin set it */
	/* (nullable): the URL of the block list subscription that keeps this block, which lifts
	 * it when the list drops the domain; NULL for an operator's block (by hand or imported) */
	gchar *subscription;
	gint64 created_at_us;
} RelayDomainPolicy;

typedef enum {
	RELAY_BLOCK_MODE_ADVISE,  /* the list is kept for the operator to read, nothing blocked */
	RELAY_BLOCK_MODE_ENFORCE, /* each listed domain is blocked in the network */
	RELAY_BLOCK_MODE_LAST,
} RelayBlockMode;

/* a network's subscription to another operator's domain block list; (network, url) is unique */
typedef struct {
	gchar *network;
	gchar *url;
	RelayBlockMode mode;
	gchar *etag; /* (nullable): of the last list read, sent as If-None-Match */
	gint64 created_at_us;
	gint64 checked_at_us; /* the last fetch, good or not; 0 when never fetched */
	gint64 fetched_at_us; /* the last fetch that read a list (or heard it was unchanged) */
	gchar *last_error;    /* (nullable): why the last fetch failed; NULL when it did not */
	gint64 count;	      /* domains in the list kept; -1 before the first good fetch */
} RelayBlockSubscription;

/* a remote actor document as fetched */
typedef struct {
	gchar *id;
	gchar *document; /* (nullable): JSON text, NULL when gone */
	gboolean gone;	 /* the origin answered 410 */
	gint64 fetched_at_us;
} RelayCachedActor;

/* a remote public key as fetched */
typedef struct {
	gchar *id;
	gchar *owner;
	gchar *public_key_pem;
	gint64 fetched_at_us;
} RelayCachedKey;

/* one activity to queue for many inboxes, in one transaction with its seen-set entries */
typedef struct {
	gchar *network;
	GBytes *body;
	GPtrArray *inboxes;  /* (element-type utf8) */
	GPtrArray *seen_ids; /* (element-type utf8): marked seen with the enqueue */
	gint64 seen_expires_us;
	/* (nullable) (element-type utf8 gint64): per host, the earliest time its rows are due
	 * (hosts the delivery engine has paused: their rows wait in storage, untouched) */
	GHashTable *not_before;
	/* out: set by the store when one of seen_ids was already seen: nothing was queued */
	gboolean duplicate;
} RelayFanout;

/* one claimed delivery; deliveries of one activity share the same body */
typedef struct {
	gint64 id;
	gint64 activity_id;
	gchar *network;
	gchar *inbox;
	gchar *host;
	GBytes *body;
	guint attempts; /* attempts made before this one */
	gint64 created_at_us;
} RelayDelivery;

typedef enum {
	RELAY_DELIVERY_OUTCOME_DONE,	/* delivered: drop the row */
	RELAY_DELIVERY_OUTCOME_RETRY,	/* transient failure: try again at retry_at_us */
	RELAY_DELIVERY_OUTCOME_FAILED,	/* permanent failure: drop the row */
	RELAY_DELIVERY_OUTCOME_EXPIRED, /* gave up after too long: drop the row */
	RELAY_DELIVERY_OUTCOME_LAST,
} RelayDeliveryOutcome;

typedef struct {
	gint64 id;
	RelayDeliveryOutcome outcome;
	gint64 retry_at_us; /* only for RELAY_DELIVERY_OUTCOME_RETRY */
} RelayDeliveryResult;

typedef struct {
	guint64 queued;		  /* rows waiting, claimed ones included */
	guint64 claimed;	  /* rows claimed and not yet settled */
	guint64 activities;	  /* distinct bodies stored */
	gint64 oldest_created_us; /* 0 when the queue is empty */
} RelayQueueStats;

/* the queued deliveries of one host: the host of their inbox URL, with ":PORT" if any */
typedef struct {
	gchar *host;
	guint64 queued;		  /* rows waiting, claimed ones included */
	guint64 retrying;	  /* rows that failed at least once and wait for a retry */
	guint max_attempts;	  /* the most attempts made on one of its rows */
	gint64 oldest_created_us; /* when its oldest row was queued */
} RelayHostQueueStats;

typedef struct {
	gchar *name;
	gint64 value;
} RelayCounter;

const gchar *
relay_member_protocol_to_string(RelayMemberProtocol protocol);
gboolean
relay_member_protocol_from_string(const gchar *str, RelayMemberProtocol *protocol);
const gchar *
relay_member_state_to_string(RelayMemberState state);
gboolean
relay_member_state_from_string(const gchar *str, RelayMemberState *state);
const gchar *
relay_member_direction_to_string(RelayMemberDirection direction);
gboolean
relay_member_direction_from_string(const gchar *str, RelayMemberDirection *direction);
const gchar *
relay_policy_kind_to_string(RelayPolicyKind kind);
const gchar *
relay_delivery_outcome_to_string(RelayDeliveryOutcome outcome);
const gchar *
relay_block_mode_to_string(RelayBlockMode mode);
gboolean
relay_block_mode_from_string(const gchar *str, RelayBlockMode *mode);

gchar *
relay_store_host_of_url(const gchar *url);

RelayNetworkRecord *
relay_network_record_new(const gchar *name);
RelayNetworkRecord *
relay_network_record_copy(const RelayNetworkRecord *self);
void
relay_network_record_free(RelayNetworkRecord *self);

RelayMember *
relay_member_new(const gchar *network, const gchar *actor, const gchar *inbox);
RelayMember *
relay_member_copy(const RelayMember *self);
void
relay_member_free(RelayMember *self);

RelayDomainPolicy *
relay_domain_policy_new(const gchar *network, const gchar *domain, RelayPolicyKind kind);
RelayDomainPolicy *
relay_domain_policy_copy(const RelayDomainPolicy *self);
void
relay_domain_policy_free(RelayDomainPolicy *self);

RelayBlockSubscription *
relay_block_subscription_new(const gchar *network, const gchar *url, RelayBlockMode mode);
RelayBlockSubscription *
relay_block_subscription_copy(const RelayBlockSubscription *self);
void
relay_block_subscription_free(RelayBlockSubscription *self);

RelayCachedActor *
relay_cached_actor_new(const gchar *id, const gchar *document);
RelayCachedActor *
relay_cached_actor_copy(const RelayCachedActor *self);
void
relay_cached_actor_free(RelayCachedActor *self);

RelayCachedKey *
relay_cached_key_new(const gchar *id, const gchar *owner, const gchar *public_key_pem);
RelayCachedKey *
relay_cached_key_copy(const RelayCachedKey *self);
void
relay_cached_key_free(RelayCachedKey *self);

RelayFanout *
relay_fanout_new(const gchar *network, GBytes *body);
void
relay_fanout_add_inbox(RelayFanout *self, const gchar *inbox);
void
relay_fanout_add_seen_id(RelayFanout *self, const gchar *id);
void
relay_fanout_free(RelayFanout *self);
gint64
relay_fanout_due_us(const RelayFanout *self, const gchar *host, gint64 now_us);

RelayDelivery *
relay_delivery_new(gint64 id, const gchar *network, const gchar *inbox, GBytes *body);
void
relay_delivery_free(RelayDelivery *self);

RelayHostQueueStats *
relay_host_queue_stats_new(const gchar *host);
void
relay_host_queue_stats_free(RelayHostQueueStats *self);

RelayCounter *
relay_counter_new(const gchar *name, gint64 value);
void
relay_counter_free(RelayCounter *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayNetworkRecord, relay_network_record_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayMember, relay_member_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayDomainPolicy, relay_domain_policy_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayBlockSubscription, relay_block_subscription_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayCachedActor, relay_cached_actor_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayCachedKey, relay_cached_key_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayFanout, relay_fanout_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayDelivery, relay_delivery_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayHostQueueStats, relay_host_queue_stats_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayCounter, relay_counter_free)

/* the deliveries queued for one host, for `relay queue` */
typedef struct {
	gchar *host;		  /* as in RelayDelivery: lower case, with ":PORT" when named */
	guint64 queued;		  /* rows waiting, claimed ones included */
	guint64 claimed;	  /* rows claimed and not yet settled */
	gint64 oldest_created_us; /* creation of the oldest row */
	gint64 next_attempt_us;	  /* the earliest due time of a row not claimed; 0 if none */
} RelayPendingHost;

RelayPendingHost *
relay_pending_host_new(const gchar *host);
void
relay_pending_host_free(RelayPendingHost *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayPendingHost, relay_pending_host_free)

G_END_DECLS
