/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * The memory backend: every table lives in this process under one mutex, for tests and for
 * ephemeral nodes. Nothing survives the process.
 *
 * The delivery queue is built to stay cheap with a million rows:
 *  - each fan-out's body is one RelayStoreMemoryActivity holding one GBytes; its rows point at it
 *    and claims hand out references to the same GBytes, so no row copies a body;
 *  - inboxes, hosts, networks and claimers are interned GRefStrings, shared by every row naming
 *    them;
 *  - rows sit in a GTree ordered by (due time, id), so a claim walks only the rows it returns,
 *    and in a set hashed by id for settling;
 *  - a claimed row is due again at the end of its lease, which is how a crashed claimer's rows
 *    come back without a sweep;
 *  - activities sit in a GTree ordered by (created time, id), so the oldest one is the first.
 */

#include "config.h"

#include "relay-store-private.h"

struct _RelayStoreMemory {
	RelayStore parent_instance;
	GMutex mutex;
	GTree *networks;      /* name → RelayNetworkRecord */
	GTree *members;	      /* RelayMember (by network, actor) → itself */
	GTree *policies;      /* RelayDomainPolicy (by network, domain, kind) → itself */
	GTree *subscriptions; /* RelayBlockSubscription (by network, url) → itself */
	GTree *entries;	      /* RelayDomainPolicy (by network, subscription, domain) → itself */
	GHashTable *actors;   /* id → RelayCachedActor */
	GHashTable *keys;     /* id → RelayCachedKey */
	GHashTable *seen;     /* id → gint64 expiry */
	GTree *activities;    /* RelayStoreMemoryActivity (by created, id) → itself */
	GTree *rows_due;      /* RelayStoreMemoryRow (by due, id) → itself */
	GHashTable *rows;     /* RelayStoreMemoryRow (by id), owns the rows */
	GHashTable *claimed;  /* RelayStoreMemoryRow, the rows claimed and not settled */
	GTree *counters;      /* name → gint64 */
	gint64 next_row_id;
	gint64 next_activity_id;
};

G_DECLARE_FINAL_TYPE(RelayStoreMemory, relay_store_memory, RELAY, STORE_MEMORY, RelayStore)
G_DEFINE_FINAL_TYPE(RelayStoreMemory, relay_store_memory, RELAY_TYPE_STORE)

/* one stored body, shared by the rows of one fan-out */
typedef struct {
	gint64 id;
	gint64 created_at_us;
	gchar *network; /* interned */
	GBytes *body;
	guint n_rows;
} RelayStoreMemoryActivity;

/* one queued delivery */
typedef struct {
	gint64 id;
	gint64 due_us; /* the next attempt: enqueue time, retry time or end of the lease */
	RelayStoreMemoryActivity *activity;
	gchar *inbox;	/* interned */
	gchar *host;	/* interned */
	gchar *claimer; /* (nullable): interned, only while claimed */
	guint attempts;
	gboolean claimed;
} RelayStoreMemoryRow;

static gchar *
relay_store_memory_intern(const gchar *str)
{
	if (str == NULL)
		return NULL;
	return g_ref_string_new_intern(str);
}

static void
relay_store_memory_release(gchar *str)
{
	if (str != NULL)
		g_ref_string_release(str);
}

static void
relay_store_memory_activity_free(RelayStoreMemoryActivity *activity)
{
	relay_store_memory_release(activity->network);
	g_bytes_unref(activity->body);
	g_free(activity);
}

static void
relay_store_memory_row_free(RelayStoreMemoryRow *row)
{
	relay_store_memory_release(row->inbox);
	relay_store_memory_release(row->host);
	relay_store_memory_release(row->claimer);
	g_free(row);
}

static gint
relay_store_memory_int64_cmp(gint64 a, gint64 b)
{
	if (a < b)
		return -1;
	if (a > b)
		return 1;
	return 0;
}

static gint
relay_store_memory_str_cmp_cb(gconstpointer a, gconstpointer b, gpointer user_data)
{
	return g_strcmp0(a, b);
}

static gint
relay_store_memory_member_cmp_cb(gconstpointer a, gconstpointer b, gpointer user_data)
{
	const RelayMember *member_a = a;
	const RelayMember *member_b = b;
	gint rc = g_strcmp0(member_a->network, member_b->network);
	if (rc != 0)
		return rc;
	return g_strcmp0(member_a->actor, member_b->actor);
}

/* node-wide policies (network NULL) sort first: g_strcmp0() puts NULL before any string */
static gint
relay_store_memory_policy_cmp_cb(gconstpointer a, gconstpointer b, gpointer user_data)
{
	const RelayDomainPolicy *policy_a = a;
	const RelayDomainPolicy *policy_b = b;
	gint rc = g_strcmp0(policy_a->network, policy_b->network);
	if (rc != 0)
		return rc;
	rc = g_strcmp0(policy_a->domain, policy_b->domain);
	if (rc != 0)
		return rc;
	return relay_store_memory_int64_cmp(policy_a->kind, policy_b->kind);
}

static gint
relay_store_memory_activity_cmp_cb(gconstpointer a, gconstpointer b, gpointer user_data)
{
	const RelayStoreMemoryActivity *activity_a = a;
	const RelayStoreMemoryActivity *activity_b = b;
	gint rc =
		relay_store_memory_int64_cmp(activity_a->created_at_us, activity_b->created_at_us);
	if (rc != 0)
		return rc;
	return relay_store_memory_int64_cmp(activity_a->id, activity_b->id);
}

static gint
relay_store_memory_row_due_cmp_cb(gconstpointer a, gconstpointer b, gpointer user_data)
{
	const RelayStoreMemoryRow *row_a = a;
	const RelayStoreMemoryRow *row_b = b;
	gint rc = relay_store_memory_int64_cmp(row_a->due_us, row_b->due_us);
	if (rc != 0)
		return rc;
	return relay_store_memory_int64_cmp(row_a->id, row_b->id);
}

static guint
relay_store_memory_row_hash(gconstpointer key)
{
	const RelayStoreMemoryRow *row = key;
	return g_int64_hash(&row->id);
}

static gboolean
relay_store_memory_row_equal(gconstpointer a, gconstpointer b)
{
	const RelayStoreMemoryRow *row_a = a;
	const RelayStoreMemoryRow *row_b = b;
	return row_a->id == row_b->id;
}

static void
relay_store_memory_set_not_found(GError **error, const gchar *what, const gchar *name)
{
	g_set_error(error,
		    RELAY_STORE_ERROR,
		    RELAY_STORE_ERROR_NOT_FOUND,
		    "no %s '%s'",
		    what,
		    name != NULL ? name : "(null)");
}

static gboolean
relay_store_memory_check_string(const gchar *value, const gchar *what, GError **error)
{
	if (value != NULL)
		return TRUE;
	g_set_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_INVALID, "%s is missing", what);
	return FALSE;
}

static gint
relay_store_memory_subscription_cmp_cb(gconstpointer a, gconstpointer b, gpointer user_data)
{
	const RelayBlockSubscription *subscription_a = a;
	const RelayBlockSubscription *subscription_b = b;
	gint rc = g_strcmp0(subscription_a->network, subscription_b->network);
	if (rc != 0)
		return rc;
	return g_strcmp0(subscription_a->url, subscription_b->url);
}

static gint
relay_store_memory_entry_cmp_cb(gconstpointer a, gconstpointer b, gpointer user_data)
{
	const RelayDomainPolicy *entry_a = a;
	const RelayDomainPolicy *entry_b = b;
	gint rc = g_strcmp0(entry_a->network, entry_b->network);
	if (rc != 0)
		return rc;
	rc = g_strcmp0(entry_a->subscription, entry_b->subscription);
	if (rc != 0)
		return rc;
	return g_strcmp0(entry_a->domain, entry_b->domain);
}

/* allocates the tables; called from init, and from open after a close */
static void
relay_store_memory_create_tables(RelayStoreMemory *self)
{
	if (self->networks != NULL)
		return;
	self->networks = g_tree_new_full(relay_store_memory_str_cmp_cb,
					 NULL,
					 g_free,
					 (GDestroyNotify)relay_network_record_free);
	/* the record is its own key: no key destroy, and g_tree_replace() to swap both */
	self->members = g_tree_new_full(
		relay_store_memory_member_cmp_cb, NULL, NULL, (GDestroyNotify)relay_member_free);
	self->policies = g_tree_new_full(relay_store_memory_policy_cmp_cb,
					 NULL,
					 NULL,
					 (GDestroyNotify)relay_domain_policy_free);
	self->subscriptions = g_tree_new_full(relay_store_memory_subscription_cmp_cb,
					      NULL,
					      NULL,
					      (GDestroyNotify)relay_block_subscription_free);
	self->entries = g_tree_new_full(relay_store_memory_entry_cmp_cb,
					NULL,
					NULL,
					(GDestroyNotify)relay_domain_policy_free);
	self->actors = g_hash_table_new_full(
		g_str_hash, g_str_equal, g_free, (GDestroyNotify)relay_cached_actor_free);
	self->keys = g_hash_table_new_full(
		g_str_hash, g_str_equal, g_free, (GDestroyNotify)relay_cached_key_free);
	self->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->activities = g_tree_new_full(relay_store_memory_activity_cmp_cb,
					   NULL,
					   NULL,
					   (GDestroyNotify)relay_store_memory_activity_free);
	self->rows_due = g_tree_new_full(relay_store_memory_row_due_cmp_cb, NULL, NULL, NULL);
	self->rows = g_hash_table_new_full(relay_store_memory_row_hash,
					   relay_store_memory_row_equal,
					   (GDestroyNotify)relay_store_memory_row_free,
					   NULL);
	self->claimed = g_hash_table_new(g_direct_hash, g_direct_equal);
	self->counters = g_tree_new_full(relay_store_memory_str_cmp_cb, NULL, g_free, g_free);
	self->next_row_id = 1;
	self->next_activity_id = 1;
}

static void
relay_store_memory_clear_tables(RelayStoreMemory *self)
{
	/* the row indexes first: the rows are owned by self->rows */
	g_clear_pointer(&self->claimed, g_hash_table_unref);
	g_clear_pointer(&self->rows_due, g_tree_unref);
	g_clear_pointer(&self->rows, g_hash_table_unref);
	g_clear_pointer(&self->activities, g_tree_unref);
	g_clear_pointer(&self->networks, g_tree_unref);
	g_clear_pointer(&self->members, g_tree_unref);
	g_clear_pointer(&self->policies, g_tree_unref);
	g_clear_pointer(&self->subscriptions, g_tree_unref);
	g_clear_pointer(&self->entries, g_tree_unref);
	g_clear_pointer(&self->actors, g_hash_table_unref);
	g_clear_pointer(&self->keys, g_hash_table_unref);
	g_clear_pointer(&self->seen, g_hash_table_unref);
	g_clear_pointer(&self->counters, g_tree_unref);
}

static gboolean
relay_store_memory_open(RelayStore *store, GCancellable *cancellable, GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);

	/* the location is ignored: there is nothing to open */
	relay_store_memory_create_tables(self);
	return TRUE;
}

static void
relay_store_memory_close(RelayStore *store)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);

	relay_store_memory_clear_tables(self);
}

/* every call but open and close runs with the tables present: the base class refuses calls on
 * a closed store, but a caller racing close() must not crash us */
static gboolean
relay_store_memory_check_open(RelayStoreMemory *self, GError **error)
{
	if (self->networks != NULL)
		return TRUE;
	g_set_error_literal(
		error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_CLOSED, "the store is closed");
	return FALSE;
}

static gboolean
relay_store_memory_ping(RelayStore *store, GCancellable *cancellable, GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);

	return relay_store_memory_check_open(self, error);
}

/* networks */

static gboolean
relay_store_memory_network_put(RelayStore *store,
			       const RelayNetworkRecord *network,
			       GCancellable *cancellable,
			       GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);

	if (!relay_store_memory_check_open(self, error))
		return FALSE;
	if (network == NULL ||
	    !relay_store_memory_check_string(network->name, "network name", error))
		return FALSE;
	g_tree_replace(self->networks, g_strdup(network->name), relay_network_record_copy(network));
	return TRUE;
}

static gboolean
relay_store_memory_network_create(RelayStore *store,
				  const RelayNetworkRecord *network,
				  gboolean *out_created,
				  GCancellable *cancellable,
				  GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	gboolean created;

	if (!relay_store_memory_check_open(self, error))
		return FALSE;
	if (network == NULL ||
	    !relay_store_memory_check_string(network->name, "network name", error))
		return FALSE;
	created = g_tree_lookup(self->networks, network->name) == NULL;
	if (created)
		g_tree_insert(self->networks,
			      g_strdup(network->name),
			      relay_network_record_copy(network));
	if (out_created != NULL)
		*out_created = created;
	return TRUE;
}

static RelayNetworkRecord *
relay_store_memory_network_get(RelayStore *store,
			       const gchar *name,
			       GCancellable *cancellable,
			       GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	const RelayNetworkRecord *network;

	if (!relay_store_memory_check_open(self, error))
		return NULL;
	network = name != NULL ? g_tree_lookup(self->networks, name) : NULL;
	if (network == NULL) {
		relay_store_memory_set_not_found(error, "network", name);
		return NULL;
	}
	return relay_network_record_copy(network);
}

static gboolean
relay_store_memory_network_list_cb(gpointer key, gpointer value, gpointer user_data)
{
	GPtrArray *array = user_data;
	g_ptr_array_add(array, relay_network_record_copy(value));
	return FALSE;
}

static GPtrArray *
relay_store_memory_network_list(RelayStore *store, GCancellable *cancellable, GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(GPtrArray) array = NULL;

	if (!relay_store_memory_check_open(self, error))
		return NULL;
	array = g_ptr_array_new_with_free_func((GDestroyNotify)relay_network_record_free);
	g_tree_foreach(self->networks, relay_store_memory_network_list_cb, array);
	return g_steal_pointer(&array);
}

/* members */

static gboolean
relay_store_memory_member_put(RelayStore *store,
			      const RelayMember *member,
			      GCancellable *cancellable,
			      GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	const RelayMember *existing;
	RelayMember *copy;

	if (!relay_store_memory_check_open(self, error))
		return FALSE;
	if (member == NULL ||
	    !relay_store_memory_check_string(member->network, "member network", error) ||
	    !relay_store_memory_check_string(member->actor, "member actor", error) ||
	    !relay_store_memory_check_string(member->domain, "member domain", error) ||
	    !relay_store_memory_check_string(member->inbox, "member inbox", error))
		return FALSE;
	if ((guint)member->protocol >= RELAY_MEMBER_PROTOCOL_LAST ||
	    (guint)member->state >= RELAY_MEMBER_STATE_LAST ||
	    (guint)member->direction >= RELAY_MEMBER_DIRECTION_LAST) {
		g_set_error(error,
			    RELAY_STORE_ERROR,
			    RELAY_STORE_ERROR_INVALID,
			    "member %s: bad protocol, state or direction",
			    member->actor);
		return FALSE;
	}
	copy = relay_member_copy(member);
	existing = g_tree_lookup(self->members, member);
	if (existing != NULL) {
		/* an existing member keeps its NodeInfo fields: see relay_store_member_put() */
		g_free(copy->software_name);
		g_free(copy->software_version);
		copy->software_name = g_strdup(existing->software_name);
		copy->software_version = g_strdup(existing->software_version);
		copy->nodeinfo_checked_us = existing->nodeinfo_checked_us;
	}
	g_tree_replace(self->members, copy, copy);
	return TRUE;
}

static RelayMember *
relay_store_memory_member_get(RelayStore *store,
			      const gchar *network,
			      const gchar *actor,
			      GCancellable *cancellable,
			      GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	RelayMember key = {.network = (gchar *)network, .actor = (gchar *)actor};
	const RelayMember *member;

	if (!relay_store_memory_check_open(self, error))
		return NULL;
	member = g_tree_lookup(self->members, &key);
	if (member == NULL) {
		relay_store_memory_set_not_found(error, "member", actor);
		return NULL;
	}
	return relay_member_copy(member);
}

static gboolean
relay_store_memory_member_remove(RelayStore *store,
				 const gchar *network,
				 const gchar *actor,
				 GCancellable *cancellable,
				 GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	RelayMember key = {.network = (gchar *)network, .actor = (gchar *)actor};

	if (!relay_store_memory_check_open(self, error))
		return FALSE;
	if (!g_tree_remove(self->members, &key)) {
		relay_store_memory_set_not_found(error, "member", actor);
		return FALSE;
	}
	return TRUE;
}

static GPtrArray *
relay_store_memory_member_list(RelayStore *store,
			       const gchar *network,
			       gint state,
			       GCancellable *cancellable,
			       GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(GPtrArray) array = NULL;
	GTreeNode *node;

	if (!relay_store_memory_check_open(self, error))
		return NULL;
	array = g_ptr_array_new_with_free_func((GDestroyNotify)relay_member_free);
	if (network != NULL) {
		/* "" sorts before every actor, so this is the network's first member */
		RelayMember key = {.network = (gchar *)network, .actor = (gchar *)""};
		node = g_tree_lower_bound(self->members, &key);
	} else {
		node = g_tree_node_first(self->members);
	}
	for (; node != NULL; node = g_tree_node_next(node)) {
		const RelayMember *member = g_tree_node_value(node);
		if (network != NULL && g_strcmp0(member->network, network) != 0)
			break;
		if (state >= 0 && (gint)member->state != state)
			continue;
		g_ptr_array_add(array, relay_member_copy(member));
	}
	return g_steal_pointer(&array);
}

typedef struct {
	const gchar *domain;
	const gchar *software_name;
	const gchar *software_version;
	gint64 checked_at_us;
	guint updated;
} RelayStoreMemorySoftware;

static gboolean
relay_store_memory_member_software_cb(gpointer key, gpointer value, gpointer user_data)
{
	RelayMember *member = value;
	RelayStoreMemorySoftware *software = user_data;

	if (g_strcmp0(member->domain, software->domain) != 0)
		return FALSE;
	member->nodeinfo_checked_us = software->checked_at_us;
	/* a failed check (no name) keeps what the last good one found */
	if (software->software_name != NULL) {
		g_free(member->software_name);
		g_free(member->software_version);
		member->software_name = g_strdup(software->software_name);
		member->software_version = g_strdup(software->software_version);
	}
	software->updated++;
	return FALSE;
}

static gboolean
relay_store_memory_member_software_put(RelayStore *store,
				       const gchar *domain,
				       const gchar *software_name,
				       const gchar *software_version,
				       gint64 checked_at_us,
				       guint *out_updated,
				       GCancellable *cancellable,
				       GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	RelayStoreMemorySoftware software = {
		domain, software_name, software_version, checked_at_us, 0};

	if (!relay_store_memory_check_open(self, error))
		return FALSE;
	g_tree_foreach(self->members, relay_store_memory_member_software_cb, &software);
	if (out_updated != NULL)
		*out_updated = software.updated;
	return TRUE;
}

/* policies */

static gboolean
relay_store_memory_policy_put(RelayStore *store,
			      const RelayDomainPolicy *policy,
			      GCancellable *cancellable,
			      GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	RelayDomainPolicy *copy;

	if (!relay_store_memory_check_open(self, error))
		return FALSE;
	if (policy == NULL ||
	    !relay_store_memory_check_string(policy->domain, "policy domain", error))
		return FALSE;
	if ((guint)policy->kind >= RELAY_POLICY_KIND_LAST) {
		g_set_error(error,
			    RELAY_STORE_ERROR,
			    RELAY_STORE_ERROR_INVALID,
			    "policy %s: bad kind %d",
			    policy->domain,
			    (gint)policy->kind);
		return FALSE;
	}
	copy = relay_domain_policy_copy(policy);
	g_tree_replace(self->policies, copy, copy);
	return TRUE;
}

static gboolean
relay_store_memory_policy_remove(RelayStore *store,
				 const gchar *network,
				 const gchar *domain,
				 RelayPolicyKind kind,
				 GCancellable *cancellable,
				 GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	RelayDomainPolicy key = {
		.network = (gchar *)network, .domain = (gchar *)domain, .kind = kind};

	if (!relay_store_memory_check_open(self, error))
		return FALSE;
	if (!g_tree_remove(self->policies, &key)) {
		relay_store_memory_set_not_found(error, "policy for", domain);
		return FALSE;
	}
	return TRUE;
}

static gboolean
relay_store_memory_policy_list_cb(gpointer key, gpointer value, gpointer user_data)
{
	GPtrArray *array = user_data;
	g_ptr_array_add(array, relay_domain_policy_copy(value));
	return FALSE;
}

static GPtrArray *
relay_store_memory_policy_list(RelayStore *store, GCancellable *cancellable, GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(GPtrArray) array = NULL;

	if (!relay_store_memory_check_open(self, error))
		return NULL;
	array = g_ptr_array_new_with_free_func((GDestroyNotify)relay_domain_policy_free);
	g_tree_foreach(self->policies, relay_store_memory_policy_list_cb, array);
	return g_steal_pointer(&array);
}

/* block list subscriptions */

typedef struct {
	const gchar *network; /* (nullable): every network */
	const gchar *url;     /* (nullable): every list */
	GPtrArray *found;     /* (element-type RelayDomainPolicy): borrowed, or copies */
} RelayStoreMemoryEntryWalk;

static gboolean
relay_store_memory_entries_walk_cb(gpointer key, gpointer value, gpointer user_data)
{
	RelayStoreMemoryEntryWalk *walk = user_data;
	const RelayDomainPolicy *entry = value;

	if ((walk->network == NULL || g_strcmp0(walk->network, entry->network) == 0) &&
	    (walk->url == NULL || g_strcmp0(walk->url, entry->subscription) == 0))
		g_ptr_array_add(walk->found, (gpointer)entry);
	return FALSE;
}

/* the entries of one list, borrowed from the tree */
static GPtrArray *
relay_store_memory_entries_of(RelayStoreMemory *self, const gchar *network, const gchar *url)
{
	RelayStoreMemoryEntryWalk walk = {network, url, g_ptr_array_new()};
	g_tree_foreach(self->entries, relay_store_memory_entries_walk_cb, &walk);
	return walk.found;
}

static void
relay_store_memory_entries_clear(RelayStoreMemory *self, const gchar *network, const gchar *url)
{
	g_autoptr(GPtrArray) old = relay_store_memory_entries_of(self, network, url);
	for (guint i = 0; i < old->len; i++)
		g_tree_remove(self->entries, g_ptr_array_index(old, i));
}

static gboolean
relay_store_memory_block_subscription_put(RelayStore *store,
					  const RelayBlockSubscription *subscription,
					  GPtrArray *entries,
					  GCancellable *cancellable,
					  GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	RelayBlockSubscription *copy;

	if (!relay_store_memory_check_open(self, error))
		return FALSE;
	if (subscription == NULL || subscription->network == NULL || subscription->url == NULL) {
		g_set_error_literal(error,
				    RELAY_STORE_ERROR,
				    RELAY_STORE_ERROR_INVALID,
				    "a block list subscription needs a network and a URL");
		return FALSE;
	}
	copy = relay_block_subscription_copy(subscription);
	g_tree_replace(self->subscriptions, copy, copy);
	if (entries == NULL)
		return TRUE;
	relay_store_memory_entries_clear(self, subscription->network, subscription->url);
	for (guint i = 0; i < entries->len; i++) {
		const RelayDomainPolicy *entry = g_ptr_array_index(entries, i);
		RelayDomainPolicy *stored = relay_domain_policy_new(
			subscription->network, entry->domain, RELAY_POLICY_KIND_BLOCK);
		stored->reason = g_strdup(entry->reason);
		stored->subscription = g_strdup(subscription->url);
		stored->created_at_us = entry->created_at_us;
		g_tree_replace(self->entries, stored, stored);
	}
	return TRUE;
}

static gboolean
relay_store_memory_block_subscription_remove(RelayStore *store,
					     const gchar *network,
					     const gchar *url,
					     GCancellable *cancellable,
					     GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	RelayBlockSubscription key = {.network = (gchar *)network, .url = (gchar *)url};

	if (!relay_store_memory_check_open(self, error))
		return FALSE;
	if (network == NULL || url == NULL || !g_tree_remove(self->subscriptions, &key)) {
		relay_store_memory_set_not_found(
			error, "block list subscription", url != NULL ? url : "(null)");
		return FALSE;
	}
	relay_store_memory_entries_clear(self, network, url);
	return TRUE;
}

static gboolean
relay_store_memory_subscription_list_cb(gpointer key, gpointer value, gpointer user_data)
{
	g_ptr_array_add(user_data, relay_block_subscription_copy(value));
	return FALSE;
}

static GPtrArray *
relay_store_memory_block_subscription_list(RelayStore *store,
					   GCancellable *cancellable,
					   GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(GPtrArray) array = NULL;

	if (!relay_store_memory_check_open(self, error))
		return NULL;
	array = g_ptr_array_new_with_free_func((GDestroyNotify)relay_block_subscription_free);
	g_tree_foreach(self->subscriptions, relay_store_memory_subscription_list_cb, array);
	return g_steal_pointer(&array);
}

static GPtrArray *
relay_store_memory_block_subscription_entries(RelayStore *store,
					      const gchar *network,
					      GCancellable *cancellable,
					      GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(GPtrArray) found = NULL;
	GPtrArray *array;

	if (!relay_store_memory_check_open(self, error))
		return NULL;
	found = relay_store_memory_entries_of(self, network, NULL);
	array = g_ptr_array_new_full(found->len, (GDestroyNotify)relay_domain_policy_free);
	for (guint i = 0; i < found->len; i++)
		g_ptr_array_add(array, relay_domain_policy_copy(g_ptr_array_index(found, i)));
	return array;
}

/* actor and key cache */

static gboolean
relay_store_memory_actor_put(RelayStore *store,
			     const RelayCachedActor *actor,
			     GCancellable *cancellable,
			     GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);

	if (!relay_store_memory_check_open(self, error))
		return FALSE;
	if (actor == NULL || !relay_store_memory_check_string(actor->id, "actor id", error))
		return FALSE;
	g_hash_table_replace(self->actors, g_strdup(actor->id), relay_cached_actor_copy(actor));
	return TRUE;
}

static RelayCachedActor *
relay_store_memory_actor_get(RelayStore *store,
			     const gchar *id,
			     GCancellable *cancellable,
			     GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	const RelayCachedActor *actor;

	if (!relay_store_memory_check_open(self, error))
		return NULL;
	actor = id != NULL ? g_hash_table_lookup(self->actors, id) : NULL;
	if (actor == NULL) {
		relay_store_memory_set_not_found(error, "cached actor", id);
		return NULL;
	}
	return relay_cached_actor_copy(actor);
}

static gboolean
relay_store_memory_key_put(RelayStore *store,
			   const RelayCachedKey *key,
			   GCancellable *cancellable,
			   GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);

	if (!relay_store_memory_check_open(self, error))
		return FALSE;
	if (key == NULL || !relay_store_memory_check_string(key->id, "key id", error) ||
	    !relay_store_memory_check_string(key->owner, "key owner", error) ||
	    !relay_store_memory_check_string(key->public_key_pem, "public key", error))
		return FALSE;
	g_hash_table_replace(self->keys, g_strdup(key->id), relay_cached_key_copy(key));
	return TRUE;
}

static RelayCachedKey *
relay_store_memory_key_get(RelayStore *store,
			   const gchar *id,
			   GCancellable *cancellable,
			   GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	const RelayCachedKey *key;

	if (!relay_store_memory_check_open(self, error))
		return NULL;
	key = id != NULL ? g_hash_table_lookup(self->keys, id) : NULL;
	if (key == NULL) {
		relay_store_memory_set_not_found(error, "cached key", id);
		return NULL;
	}
	return relay_cached_key_copy(key);
}

/* seen-set */

/* whether @id is in the seen-set and its entry has not expired at @now_us; the mutex is held */
static gboolean
relay_store_memory_seen_live(RelayStoreMemory *self, const gchar *id, gint64 now_us)
{
	const gint64 *expires_us = g_hash_table_lookup(self->seen, id);
	return expires_us != NULL && *expires_us > now_us;
}

/* adds @id, or extends its expiry (an entry keeps the later one); the mutex is held */
static void
relay_store_memory_seen_set(RelayStoreMemory *self, const gchar *id, gint64 expires_us)
{
	gint64 *value = g_hash_table_lookup(self->seen, id);
	if (value == NULL) {
		value = g_new(gint64, 1);
		*value = expires_us;
		g_hash_table_insert(self->seen, g_strdup(id), value);
		return;
	}
	*value = MAX(*value, expires_us);
}

static gboolean
relay_store_memory_seen_add(RelayStore *store,
			    const gchar *id,
			    gint64 now_us,
			    gint64 expires_us,
			    gboolean *out_new,
			    GCancellable *cancellable,
			    GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	gboolean is_new;

	if (!relay_store_memory_check_open(self, error))
		return FALSE;
	if (!relay_store_memory_check_string(id, "seen id", error))
		return FALSE;
	is_new = !relay_store_memory_seen_live(self, id, now_us);
	relay_store_memory_seen_set(self, id, expires_us);
	if (out_new != NULL)
		*out_new = is_new;
	return TRUE;
}

static gboolean
relay_store_memory_seen_contains(RelayStore *store,
				 const gchar *id,
				 gint64 now_us,
				 gboolean *out_seen,
				 GCancellable *cancellable,
				 GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);

	if (!relay_store_memory_check_open(self, error))
		return FALSE;
	if (!relay_store_memory_check_string(id, "seen id", error))
		return FALSE;
	if (out_seen != NULL)
		*out_seen = relay_store_memory_seen_live(self, id, now_us);
	return TRUE;
}

static gboolean
relay_store_memory_seen_expire_cb(gpointer key, gpointer value, gpointer user_data)
{
	const gint64 *expires_us = value;
	const gint64 *now_us = user_data;
	return *expires_us <= *now_us;
}

static gboolean
relay_store_memory_seen_expire(RelayStore *store,
			       gint64 now_us,
			       guint64 *out_removed,
			       GCancellable *cancellable,
			       GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	guint removed;

	if (!relay_store_memory_check_open(self, error))
		return FALSE;
	removed =
		g_hash_table_foreach_remove(self->seen, relay_store_memory_seen_expire_cb, &now_us);
	if (out_removed != NULL)
		*out_removed = removed;
	return TRUE;
}

/* delivery queue */

static gboolean
relay_store_memory_check_fanout(const RelayFanout *fanout, guint index, GError **error)
{
	if (fanout == NULL || fanout->network == NULL || fanout->body == NULL ||
	    fanout->inboxes == NULL) {
		g_set_error(error,
			    RELAY_STORE_ERROR,
			    RELAY_STORE_ERROR_INVALID,
			    "fan-out %u: network, body or inboxes missing",
			    index);
		return FALSE;
	}
	for (guint i = 0; i < fanout->inboxes->len; i++) {
		if (g_ptr_array_index(fanout->inboxes, i) == NULL) {
			g_set_error(error,
				    RELAY_STORE_ERROR,
				    RELAY_STORE_ERROR_INVALID,
				    "fan-out %u: inbox %u is missing",
				    index,
				    i);
			return FALSE;
		}
	}
	for (guint i = 0; fanout->seen_ids != NULL && i < fanout->seen_ids->len; i++) {
		if (g_ptr_array_index(fanout->seen_ids, i) == NULL) {
			g_set_error(error,
				    RELAY_STORE_ERROR,
				    RELAY_STORE_ERROR_INVALID,
				    "fan-out %u: seen id %u is missing",
				    index,
				    i);
			return FALSE;
		}
	}
	return TRUE;
}

/* whether any of the fan-out's ids is live in the seen-set; the mutex is held */
static gboolean
relay_store_memory_fanout_seen(RelayStoreMemory *self, const RelayFanout *fanout, gint64 now_us)
{
	for (guint i = 0; fanout->seen_ids != NULL && i < fanout->seen_ids->len; i++) {
		if (relay_store_memory_seen_live(
			    self, g_ptr_array_index(fanout->seen_ids, i), now_us))
			return TRUE;
	}
	return FALSE;
}

/* queues one validated fan-out; the mutex is held */
static void
relay_store_memory_fanout_queue(RelayStoreMemory *self, const RelayFanout *fanout, gint64 now_us)
{
	RelayStoreMemoryActivity *activity;

	for (guint i = 0; fanout->seen_ids != NULL && i < fanout->seen_ids->len; i++)
		relay_store_memory_seen_set(
			self, g_ptr_array_index(fanout->seen_ids, i), fanout->seen_expires_us);
	/* a body no row refers to is not kept */
	if (fanout->inboxes->len == 0)
		return;

	activity = g_new0(RelayStoreMemoryActivity, 1);
	activity->id = self->next_activity_id++;
	activity->created_at_us = now_us;
	activity->network = relay_store_memory_intern(fanout->network);
	activity->body = g_bytes_ref(fanout->body);
	g_tree_insert(self->activities, activity, activity);

	for (guint i = 0; i < fanout->inboxes->len; i++) {
		const gchar *inbox = g_ptr_array_index(fanout->inboxes, i);
		g_autofree gchar *host = relay_store_host_of_url(inbox);
		RelayStoreMemoryRow *row = g_new0(RelayStoreMemoryRow, 1);

		row->id = self->next_row_id++;
		row->due_us = relay_fanout_due_us(fanout, host, now_us);
		row->activity = activity;
		row->inbox = relay_store_memory_intern(inbox);
		row->host = relay_store_memory_intern(host != NULL ? host : "");
		activity->n_rows++;
		g_hash_table_add(self->rows, row);
		g_tree_insert(self->rows_due, row, row);
	}
}

static gboolean
relay_store_memory_delivery_enqueue(RelayStore *store,
				    GPtrArray *fanouts,
				    gint64 now_us,
				    GCancellable *cancellable,
				    GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);

	if (!relay_store_memory_check_open(self, error))
		return FALSE;
	if (fanouts == NULL) {
		g_set_error_literal(error,
				    RELAY_STORE_ERROR,
				    RELAY_STORE_ERROR_INVALID,
				    "no fan-outs to queue");
		return FALSE;
	}

	/* validate everything first: after this, nothing can fail, so the call is atomic */
	for (guint i = 0; i < fanouts->len; i++) {
		if (!relay_store_memory_check_fanout(g_ptr_array_index(fanouts, i), i, error))
			return FALSE;
	}

	/* in order, so a later fan-out of the call sees the ids an earlier one added */
	for (guint i = 0; i < fanouts->len; i++) {
		RelayFanout *fanout = g_ptr_array_index(fanouts, i);
		fanout->duplicate = relay_store_memory_fanout_seen(self, fanout, now_us);
		if (fanout->duplicate)
			continue;
		relay_store_memory_fanout_queue(self, fanout, now_us);
	}
	return TRUE;
}

static RelayDelivery *
relay_store_memory_row_to_delivery(const RelayStoreMemoryRow *row)
{
	RelayDelivery *delivery = g_new0(RelayDelivery, 1);

	/* built by hand: relay_delivery_new() would parse the inbox again for its host */
	delivery->id = row->id;
	delivery->activity_id = row->activity->id;
	delivery->network = g_strdup(row->activity->network);
	delivery->inbox = g_strdup(row->inbox);
	delivery->host = g_strdup(row->host);
	delivery->body = g_bytes_ref(row->activity->body);
	delivery->attempts = row->attempts;
	delivery->created_at_us = row->activity->created_at_us;
	return delivery;
}

/* moves a row in the due order; the mutex is held */
static void
relay_store_memory_row_reschedule(RelayStoreMemory *self, RelayStoreMemoryRow *row, gint64 due_us)
{
	g_tree_remove(self->rows_due, row);
	row->due_us = due_us;
	g_tree_insert(self->rows_due, row, row);
}

/* clears a row's claim; the mutex is held */
static void
relay_store_memory_row_unclaim(RelayStoreMemory *self, RelayStoreMemoryRow *row)
{
	g_hash_table_remove(self->claimed, row);
	row->claimed = FALSE;
	g_clear_pointer(&row->claimer, relay_store_memory_release);
}

/* drops a settled row, and its body when it was the last row; the mutex is held */
static void
relay_store_memory_row_drop(RelayStoreMemory *self, RelayStoreMemoryRow *row)
{
	RelayStoreMemoryActivity *activity = row->activity;

	g_hash_table_remove(self->claimed, row);
	g_tree_remove(self->rows_due, row);
	g_hash_table_remove(self->rows, row); /* frees the row */
	activity->n_rows--;
	if (activity->n_rows == 0)
		g_tree_remove(self->activities, activity); /* frees the activity */
}

static GPtrArray *
relay_store_memory_delivery_claim(RelayStore *store,
				  gint64 now_us,
				  guint limit,
				  gint64 lease_us,
				  const gchar *claimer,
				  GCancellable *cancellable,
				  GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GPtrArray) deliveries = NULL;

	if (!relay_store_memory_check_open(self, error))
		return NULL;

	/* collect first: rescheduling moves rows within the tree being walked */
	rows = g_ptr_array_new();
	for (GTreeNode *node = g_tree_node_first(self->rows_due); node != NULL && rows->len < limit;
	     node = g_tree_node_next(node)) {
		RelayStoreMemoryRow *row = g_tree_node_key(node);
		if (row->due_us > now_us)
			break;
		g_ptr_array_add(rows, row);
	}

	deliveries = g_ptr_array_new_full(rows->len, (GDestroyNotify)relay_delivery_free);
	for (guint i = 0; i < rows->len; i++) {
		RelayStoreMemoryRow *row = g_ptr_array_index(rows, i);
		g_ptr_array_add(deliveries, relay_store_memory_row_to_delivery(row));
		relay_store_memory_row_reschedule(self, row, now_us + MAX(lease_us, 0));
		g_clear_pointer(&row->claimer, relay_store_memory_release);
		row->claimer = relay_store_memory_intern(claimer);
		row->claimed = TRUE;
		g_hash_table_add(self->claimed, row);
	}
	return g_steal_pointer(&deliveries);
}

static gboolean
relay_store_memory_delivery_settle(RelayStore *store,
				   GArray *results,
				   GCancellable *cancellable,
				   GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);

	if (!relay_store_memory_check_open(self, error))
		return FALSE;
	if (results == NULL) {
		g_set_error_literal(error,
				    RELAY_STORE_ERROR,
				    RELAY_STORE_ERROR_INVALID,
				    "no results to settle");
		return FALSE;
	}

	/* validate first, so a bad outcome settles nothing */
	for (guint i = 0; i < results->len; i++) {
		const RelayDeliveryResult *result = &g_array_index(results, RelayDeliveryResult, i);
		if ((guint)result->outcome >= RELAY_DELIVERY_OUTCOME_LAST) {
			g_set_error(error,
				    RELAY_STORE_ERROR,
				    RELAY_STORE_ERROR_INVALID,
				    "delivery %" G_GINT64_FORMAT ": bad outcome %d",
				    result->id,
				    (gint)result->outcome);
			return FALSE;
		}
	}

	for (guint i = 0; i < results->len; i++) {
		const RelayDeliveryResult *result = &g_array_index(results, RelayDeliveryResult, i);
		RelayStoreMemoryRow key = {.id = result->id};
		RelayStoreMemoryRow *row = g_hash_table_lookup(self->rows, &key);

		if (row == NULL)
			continue;
		if (result->outcome == RELAY_DELIVERY_OUTCOME_RETRY) {
			relay_store_memory_row_unclaim(self, row);
			relay_store_memory_row_reschedule(self, row, result->retry_at_us);
			row->attempts++;
			continue;
		}
		relay_store_memory_row_drop(self, row);
	}
	return TRUE;
}

static gboolean
relay_store_memory_delivery_release(RelayStore *store,
				    const gchar *claimer,
				    gint64 now_us,
				    guint64 *out_released,
				    GCancellable *cancellable,
				    GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	GHashTableIter iter;
	gpointer key = NULL;
	guint64 released = 0;

	if (!relay_store_memory_check_open(self, error))
		return FALSE;
	g_hash_table_iter_init(&iter, self->claimed);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		RelayStoreMemoryRow *row = key;
		if (claimer != NULL && g_strcmp0(row->claimer, claimer) != 0)
			continue;
		g_hash_table_iter_remove(&iter);
		row->claimed = FALSE;
		g_clear_pointer(&row->claimer, relay_store_memory_release);
		relay_store_memory_row_reschedule(self, row, now_us);
		released++;
	}
	if (out_released != NULL)
		*out_released = released;
	return TRUE;
}

static gboolean
relay_store_memory_delivery_stats(RelayStore *store,
				  RelayQueueStats *stats,
				  GCancellable *cancellable,
				  GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	GTreeNode *oldest;

	if (!relay_store_memory_check_open(self, error))
		return FALSE;
	oldest = g_tree_node_first(self->activities);
	stats->queued = g_hash_table_size(self->rows);
	stats->claimed = g_hash_table_size(self->claimed);
	stats->activities = (guint64)g_tree_nnodes(self->activities);
	stats->oldest_created_us = 0;
	if (oldest != NULL) {
		const RelayStoreMemoryActivity *activity = g_tree_node_key(oldest);
		stats->oldest_created_us = activity->created_at_us;
	}
	return TRUE;
}

static gboolean
relay_store_memory_delivery_hosts_cb(gpointer key, gpointer value, gpointer user_data)
{
	GPtrArray *array = user_data;
	g_ptr_array_add(array, g_steal_pointer(&value));
	return FALSE;
}

static GPtrArray *
relay_store_memory_delivery_hosts(RelayStore *store, GCancellable *cancellable, GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(GTree) hosts = NULL;
	g_autoptr(GPtrArray) array = NULL;
	GHashTableIter iter;
	gpointer key;

	if (!relay_store_memory_check_open(self, error))
		return NULL;
	/* host (interned, borrowed) → its stats, sorted by host */
	hosts = g_tree_new_full(relay_store_memory_str_cmp_cb, NULL, NULL, NULL);
	g_hash_table_iter_init(&iter, self->rows);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		const RelayStoreMemoryRow *row = key;
		RelayHostQueueStats *stats = g_tree_lookup(hosts, row->host);

		if (stats == NULL) {
			stats = relay_host_queue_stats_new(row->host);
			stats->oldest_created_us = row->activity->created_at_us;
			g_tree_insert(hosts, row->host, stats);
		}
		stats->queued++;
		if (row->attempts > 0)
			stats->retrying++;
		stats->max_attempts = MAX(stats->max_attempts, row->attempts);
		stats->oldest_created_us =
			MIN(stats->oldest_created_us, row->activity->created_at_us);
	}
	array = g_ptr_array_new_with_free_func((GDestroyNotify)relay_host_queue_stats_free);
	g_tree_foreach(hosts, relay_store_memory_delivery_hosts_cb, array);
	return g_steal_pointer(&array);
}

/* counters */

static gboolean
relay_store_memory_counters_add(RelayStore *store,
				GPtrArray *deltas,
				GCancellable *cancellable,
				GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);

	if (!relay_store_memory_check_open(self, error))
		return FALSE;
	if (deltas == NULL) {
		g_set_error_literal(
			error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_INVALID, "no counters to add");
		return FALSE;
	}
	for (guint i = 0; i < deltas->len; i++) {
		const RelayCounter *delta = g_ptr_array_index(deltas, i);
		if (delta == NULL || delta->name == NULL) {
			g_set_error(error,
				    RELAY_STORE_ERROR,
				    RELAY_STORE_ERROR_INVALID,
				    "counter %u has no name",
				    i);
			return FALSE;
		}
	}
	for (guint i = 0; i < deltas->len; i++) {
		const RelayCounter *delta = g_ptr_array_index(deltas, i);
		gint64 *value = g_tree_lookup(self->counters, delta->name);
		if (value == NULL) {
			value = g_new0(gint64, 1);
			g_tree_insert(self->counters, g_strdup(delta->name), value);
		}
		*value += delta->value;
	}
	return TRUE;
}

static gboolean
relay_store_memory_counters_get_cb(gpointer key, gpointer value, gpointer user_data)
{
	GPtrArray *array = user_data;
	const gint64 *counter_value = value;
	g_ptr_array_add(array, relay_counter_new(key, *counter_value));
	return FALSE;
}

static GPtrArray *
relay_store_memory_counters_get(RelayStore *store, GCancellable *cancellable, GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(GPtrArray) array = NULL;

	if (!relay_store_memory_check_open(self, error))
		return NULL;
	array = g_ptr_array_new_with_free_func((GDestroyNotify)relay_counter_free);
	g_tree_foreach(self->counters, relay_store_memory_counters_get_cb, array);
	return g_steal_pointer(&array);
}

/* the queue by host, for the admin commands */

static gint
relay_store_memory_pending_host_cmp(gconstpointer a, gconstpointer b)
{
	const RelayPendingHost *host_a = *(const RelayPendingHost *const *)a;
	const RelayPendingHost *host_b = *(const RelayPendingHost *const *)b;

	if (host_a->queued != host_b->queued)
		return host_a->queued > host_b->queued ? -1 : 1;
	return g_strcmp0(host_a->host, host_b->host);
}

static GPtrArray *
relay_store_memory_delivery_pending_hosts(RelayStore *store,
					  GCancellable *cancellable,
					  GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(GHashTable) by_host = NULL;
	g_autoptr(GPtrArray) hosts = NULL;
	GHashTableIter iter;
	gpointer key;

	if (!relay_store_memory_check_open(self, error))
		return NULL;
	hosts = g_ptr_array_new_with_free_func((GDestroyNotify)relay_pending_host_free);
	by_host = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_iter_init(&iter, self->rows);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		const RelayStoreMemoryRow *row = key;
		RelayPendingHost *host = g_hash_table_lookup(by_host, row->host);

		if (host == NULL) {
			host = relay_pending_host_new(row->host);
			host->oldest_created_us = row->activity->created_at_us;
			g_ptr_array_add(hosts, host);
			g_hash_table_insert(by_host, row->host, host);
		}
		host->queued++;
		host->oldest_created_us =
			MIN(host->oldest_created_us, row->activity->created_at_us);
		if (row->claimed) {
			host->claimed++;
			continue;
		}
		if (host->next_attempt_us == 0 || row->due_us < host->next_attempt_us)
			host->next_attempt_us = row->due_us;
	}
	g_ptr_array_sort(hosts, relay_store_memory_pending_host_cmp);
	return g_steal_pointer(&hosts);
}

/* the rows of @host; the mutex is held */
static GPtrArray *
relay_store_memory_host_rows(RelayStoreMemory *self, const gchar *host)
{
	GPtrArray *rows = g_ptr_array_new();
	GHashTableIter iter;
	gpointer key;

	g_hash_table_iter_init(&iter, self->rows);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		RelayStoreMemoryRow *row = key;
		if (g_strcmp0(row->host, host) == 0)
			g_ptr_array_add(rows, row);
	}
	return rows;
}

static gboolean
relay_store_memory_delivery_reschedule_host(RelayStore *store,
					    const gchar *host,
					    gint64 due_us,
					    guint64 *out_rescheduled,
					    GCancellable *cancellable,
					    GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(GPtrArray) rows = NULL;
	guint64 rescheduled = 0;

	if (!relay_store_memory_check_open(self, error) ||
	    !relay_store_memory_check_string(host, "the host", error))
		return FALSE;
	rows = relay_store_memory_host_rows(self, host);
	for (guint i = 0; i < rows->len; i++) {
		RelayStoreMemoryRow *row = g_ptr_array_index(rows, i);
		if (row->claimed || row->due_us <= due_us)
			continue;
		relay_store_memory_row_reschedule(self, row, due_us);
		rescheduled++;
	}
	if (out_rescheduled != NULL)
		*out_rescheduled = rescheduled;
	return TRUE;
}

static gboolean
relay_store_memory_delivery_drop_host(RelayStore *store,
				      const gchar *host,
				      guint64 *out_dropped,
				      GCancellable *cancellable,
				      GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(GPtrArray) rows = NULL;

	if (!relay_store_memory_check_open(self, error) ||
	    !relay_store_memory_check_string(host, "the host", error))
		return FALSE;
	rows = relay_store_memory_host_rows(self, host);
	for (guint i = 0; i < rows->len; i++)
		relay_store_memory_row_drop(self, g_ptr_array_index(rows, i));
	if (out_dropped != NULL)
		*out_dropped = rows->len;
	return TRUE;
}

static gboolean
relay_store_memory_delivery_drop_inbox(RelayStore *store,
				       const gchar *network,
				       const gchar *inbox,
				       guint64 *out_dropped,
				       GCancellable *cancellable,
				       GError **error)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(GPtrArray) rows = g_ptr_array_new();
	GHashTableIter iter;
	gpointer key;

	if (!relay_store_memory_check_open(self, error) ||
	    !relay_store_memory_check_string(network, "the network", error) ||
	    !relay_store_memory_check_string(inbox, "the inbox", error))
		return FALSE;
	g_hash_table_iter_init(&iter, self->rows);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		RelayStoreMemoryRow *row = key;
		if (g_strcmp0(row->inbox, inbox) == 0 &&
		    g_strcmp0(row->activity->network, network) == 0)
			g_ptr_array_add(rows, row);
	}
	for (guint i = 0; i < rows->len; i++)
		relay_store_memory_row_drop(self, g_ptr_array_index(rows, i));
	if (out_dropped != NULL)
		*out_dropped = rows->len;
	return TRUE;
}

static void
relay_store_memory_finalize(GObject *object)
{
	RelayStoreMemory *self = RELAY_STORE_MEMORY(object);

	/* the parent's finalize closes the store, which takes the mutex: chain up first */
	G_OBJECT_CLASS(relay_store_memory_parent_class)->finalize(object);
	relay_store_memory_clear_tables(self);
	g_mutex_clear(&self->mutex);
}

static void
relay_store_memory_init(RelayStoreMemory *self)
{
	g_mutex_init(&self->mutex);
	relay_store_memory_create_tables(self);
}

static void
relay_store_memory_class_init(RelayStoreMemoryClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	RelayStoreClass *store_class = RELAY_STORE_CLASS(klass);

	object_class->finalize = relay_store_memory_finalize;
	/* the mutex serialises the calls; a second worker lets one wait while another runs */
	store_class->max_workers = 2;
	store_class->open = relay_store_memory_open;
	store_class->close = relay_store_memory_close;
	store_class->ping = relay_store_memory_ping;
	store_class->network_put = relay_store_memory_network_put;
	store_class->network_create = relay_store_memory_network_create;
	store_class->network_get = relay_store_memory_network_get;
	store_class->network_list = relay_store_memory_network_list;
	store_class->member_put = relay_store_memory_member_put;
	store_class->member_get = relay_store_memory_member_get;
	store_class->member_remove = relay_store_memory_member_remove;
	store_class->member_list = relay_store_memory_member_list;
	store_class->member_software_put = relay_store_memory_member_software_put;
	store_class->policy_put = relay_store_memory_policy_put;
	store_class->policy_remove = relay_store_memory_policy_remove;
	store_class->policy_list = relay_store_memory_policy_list;
	store_class->block_subscription_put = relay_store_memory_block_subscription_put;
	store_class->block_subscription_remove = relay_store_memory_block_subscription_remove;
	store_class->block_subscription_list = relay_store_memory_block_subscription_list;
	store_class->block_subscription_entries = relay_store_memory_block_subscription_entries;
	store_class->actor_put = relay_store_memory_actor_put;
	store_class->actor_get = relay_store_memory_actor_get;
	store_class->key_put = relay_store_memory_key_put;
	store_class->key_get = relay_store_memory_key_get;
	store_class->seen_add = relay_store_memory_seen_add;
	store_class->seen_contains = relay_store_memory_seen_contains;
	store_class->seen_expire = relay_store_memory_seen_expire;
	store_class->delivery_enqueue = relay_store_memory_delivery_enqueue;
	store_class->delivery_claim = relay_store_memory_delivery_claim;
	store_class->delivery_settle = relay_store_memory_delivery_settle;
	store_class->delivery_release = relay_store_memory_delivery_release;
	store_class->delivery_stats = relay_store_memory_delivery_stats;
	store_class->delivery_hosts = relay_store_memory_delivery_hosts;
	store_class->counters_add = relay_store_memory_counters_add;
	store_class->counters_get = relay_store_memory_counters_get;
	store_class->delivery_pending_hosts = relay_store_memory_delivery_pending_hosts;
	store_class->delivery_reschedule_host = relay_store_memory_delivery_reschedule_host;
	store_class->delivery_drop_host = relay_store_memory_delivery_drop_host;
	store_class->delivery_drop_inbox = relay_store_memory_delivery_drop_inbox;
}
