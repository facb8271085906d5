/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * The base class of every storage backend. It owns the worker pool on which the backends' sync
 * vfuncs run for the main context (like GIO's g_input_stream_real_read_async() wraps a sync
 * read), the backend's name and location, and a count of work in flight so the daemon can
 * drain the store before it exits.
 */

#include "config.h"

#include "relay-store-private.h"

typedef struct {
	gchar *backend_name;
	gchar *location;
	GThreadPool *pool;
	gint pending; /* atomic */
	gboolean opened;
	gboolean closed;
} RelayStorePrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE(RelayStore, relay_store, G_TYPE_OBJECT)
#define GET_PRIVATE(o) ((RelayStorePrivate *)relay_store_get_instance_private(o))

enum { PROP_0, PROP_LOCATION, PROP_LAST };

static const struct {
	const gchar *name;
	GType (*get_type)(void);
} backends[] = {
	{"sqlite", relay_store_sqlite_get_type},
	{"memory", relay_store_memory_get_type},
};

typedef struct {
	RelayStoreFunc func;
	gpointer data;
	GDestroyNotify data_free;
} RelayStoreJob;

static void
relay_store_job_free(RelayStoreJob *job)
{
	if (job->data_free != NULL && job->data != NULL)
		job->data_free(job->data);
	g_free(job);
}

/**
 * relay_store_backend_names:
 *
 * Returns: (transfer none) (array zero-terminated=1): the backends this binary has
 */
const gchar *const *
relay_store_backend_names(void)
{
	static const gchar *names[G_N_ELEMENTS(backends) + 1] = {NULL};
	if (names[0] == NULL) {
		for (guint i = 0; i < G_N_ELEMENTS(backends); i++)
			names[i] = backends[i].name;
	}
	return names;
}

/**
 * relay_store_new:
 * @backend: a name from relay_store_backend_names()
 * @location: (nullable): the backend's location: a file for sqlite, a DSN for postgres
 * @error: (nullable): a #GError
 *
 * Creates the store, opens it and migrates its schema to this binary's version.
 *
 * Returns: (transfer full) (nullable): the store, or %NULL
 */
RelayStore *
relay_store_new(const gchar *backend, const gchar *location, GError **error)
{
	for (guint i = 0; i < G_N_ELEMENTS(backends); i++) {
		g_autoptr(RelayStore) self = NULL;
		RelayStorePrivate *priv;

		if (g_strcmp0(backends[i].name, backend) != 0)
			continue;
		self = g_object_new(backends[i].get_type(), "location", location, NULL);
		priv = GET_PRIVATE(self);
		g_free(priv->backend_name);
		priv->backend_name = g_strdup(backends[i].name);
		if (!relay_store_open(self, NULL, error))
			return NULL;
		return g_steal_pointer(&self);
	}
	g_set_error(error,
		    RELAY_STORE_ERROR,
		    RELAY_STORE_ERROR_INVALID,
		    "unknown storage backend '%s'",
		    backend);
	return NULL;
}

const gchar *
relay_store_get_backend_name(RelayStore *self)
{
	g_return_val_if_fail(RELAY_IS_STORE(self), NULL);
	return GET_PRIVATE(self)->backend_name;
}

const gchar *
relay_store_get_location(RelayStore *self)
{
	g_return_val_if_fail(RELAY_IS_STORE(self), NULL);
	return GET_PRIVATE(self)->location;
}

/**
 * relay_store_get_pending:
 * @self: a store
 *
 * Returns: how many relay_store_run_async() calls have not yet returned their result
 */
guint
relay_store_get_pending(RelayStore *self)
{
	g_return_val_if_fail(RELAY_IS_STORE(self), 0);
	return (guint)g_atomic_int_get(&GET_PRIVATE(self)->pending);
}

static gboolean
relay_store_check_usable(RelayStore *self, GError **error)
{
	RelayStorePrivate *priv = GET_PRIVATE(self);
	if (priv->closed) {
		g_set_error_literal(
			error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_CLOSED, "the store is closed");
		return FALSE;
	}
	return TRUE;
}

static void
relay_store_worker_cb(gpointer data, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(data);
	RelayStore *self = RELAY_STORE(g_task_get_source_object(task));
	RelayStoreJob *job = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;

	if (g_task_return_error_if_cancelled(task))
		return;
	if (!relay_store_check_usable(self, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	job->func(self, task, job->data, g_task_get_cancellable(task));
}

static void
relay_store_job_done_cb(GObject *source, GParamSpec *pspec, gpointer user_data)
{
	RelayStore *self = RELAY_STORE(user_data);
	g_atomic_int_dec_and_test(&GET_PRIVATE(self)->pending);
}

/**
 * relay_store_run_async:
 * @self: a store
 * @func: the work, run on a store worker thread; it returns a result through its task
 * @data: (nullable): passed to @func
 * @data_free: (nullable): frees @data once the task is finalized
 * @source_tag: the task's source tag, for _finish() checks
 * @cancellable: (nullable): a #GCancellable
 * @callback: called on the thread-default main context of the caller
 * @user_data: for @callback
 *
 * Runs @func on the store's worker pool. At most the class's max_workers run at once.
 */
void
relay_store_run_async(RelayStore *self,
		      RelayStoreFunc func,
		      gpointer data,
		      GDestroyNotify data_free,
		      gpointer source_tag,
		      GCancellable *cancellable,
		      GAsyncReadyCallback callback,
		      gpointer user_data)
{
	RelayStorePrivate *priv = GET_PRIVATE(self);
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	g_autoptr(GError) error = NULL;
	RelayStoreJob *job = g_new0(RelayStoreJob, 1);

	job->func = func;
	job->data = data;
	job->data_free = data_free;
	g_task_set_source_tag(task, source_tag);
	g_task_set_task_data(task, job, (GDestroyNotify)relay_store_job_free);
	if (priv->pool == NULL || priv->closed) {
		g_task_return_new_error(
			task, RELAY_STORE_ERROR, RELAY_STORE_ERROR_CLOSED, "the store is closed");
		return;
	}
	g_atomic_int_inc(&priv->pending);
	g_signal_connect_object(
		task, "notify::completed", G_CALLBACK(relay_store_job_done_cb), self, 0);
	if (!g_thread_pool_push(priv->pool, g_object_ref(task), &error)) {
		g_object_unref(task);
		g_task_return_error(task, g_steal_pointer(&error));
	}
}

/**
 * relay_store_close:
 * @self: a store
 *
 * Waits for the work already queued, then closes the backend. Later calls fail with
 * %RELAY_STORE_ERROR_CLOSED. Results of queued work are still delivered to their callbacks
 * when the caller's main context next runs.
 */
void
relay_store_close(RelayStore *self)
{
	RelayStorePrivate *priv = GET_PRIVATE(self);
	RelayStoreClass *klass = RELAY_STORE_GET_CLASS(self);

	if (priv->closed)
		return;
	if (priv->pool != NULL)
		g_thread_pool_free(g_steal_pointer(&priv->pool), FALSE, TRUE);
	priv->closed = TRUE;
	if (priv->opened && klass->close != NULL)
		klass->close(self);
}

gboolean
relay_store_open(RelayStore *self, GCancellable *cancellable, GError **error)
{
	RelayStorePrivate *priv = GET_PRIVATE(self);
	RelayStoreClass *klass = RELAY_STORE_GET_CLASS(self);

	g_return_val_if_fail(RELAY_IS_STORE(self), FALSE);
	if (priv->opened)
		return TRUE;
	if (!relay_store_check_usable(self, error))
		return FALSE;
	if (klass->open != NULL && !klass->open(self, cancellable, error))
		return FALSE;
	priv->pool = g_thread_pool_new(
		relay_store_worker_cb, self, (gint)MAX(klass->max_workers, 1), TRUE, error);
	if (priv->pool == NULL) {
		if (klass->close != NULL)
			klass->close(self);
		return FALSE;
	}
	priv->opened = TRUE;
	return TRUE;
}

/* every sync entry point checks the store is open and the backend implements the call */
#define RELAY_STORE_VFUNC_CHECK(self, vfunc, error, failed)                                        \
	G_STMT_START                                                                               \
	{                                                                                          \
		g_return_val_if_fail(RELAY_IS_STORE(self), failed);                                \
		if (!relay_store_check_usable(self, error))                                        \
			return failed;                                                             \
		if (RELAY_STORE_GET_CLASS(self)->vfunc == NULL) {                                  \
			g_set_error(error,                                                         \
				    RELAY_STORE_ERROR,                                             \
				    RELAY_STORE_ERROR_INVALID,                                     \
				    "the %s backend does not implement " #vfunc,                   \
				    G_OBJECT_TYPE_NAME(self));                                     \
			return failed;                                                             \
		}                                                                                  \
	}                                                                                          \
	G_STMT_END

gboolean
relay_store_ping(RelayStore *self, GCancellable *cancellable, GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, ping, error, FALSE);
	return RELAY_STORE_GET_CLASS(self)->ping(self, cancellable, error);
}

gboolean
relay_store_network_put(RelayStore *self,
			const RelayNetworkRecord *network,
			GCancellable *cancellable,
			GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, network_put, error, FALSE);
	return RELAY_STORE_GET_CLASS(self)->network_put(self, network, cancellable, error);
}

/**
 * relay_store_network_create:
 * @out_created: (out) (optional): %TRUE when the network did not exist before
 *
 * Inserts the network unless one of the same name exists, which is then left as it is.
 */
gboolean
relay_store_network_create(RelayStore *self,
			   const RelayNetworkRecord *network,
			   gboolean *out_created,
			   GCancellable *cancellable,
			   GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, network_create, error, FALSE);
	return RELAY_STORE_GET_CLASS(self)->network_create(
		self, network, out_created, cancellable, error);
}

/**
 * relay_store_network_get:
 *
 * Returns: (transfer full) (nullable): the network, or %NULL with
 * %RELAY_STORE_ERROR_NOT_FOUND
 */
RelayNetworkRecord *
relay_store_network_get(RelayStore *self,
			const gchar *name,
			GCancellable *cancellable,
			GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, network_get, error, NULL);
	return RELAY_STORE_GET_CLASS(self)->network_get(self, name, cancellable, error);
}

/**
 * relay_store_network_list:
 *
 * Returns: (transfer container) (element-type RelayNetworkRecord): every network, by name
 */
GPtrArray *
relay_store_network_list(RelayStore *self, GCancellable *cancellable, GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, network_list, error, NULL);
	return RELAY_STORE_GET_CLASS(self)->network_list(self, cancellable, error);
}

/**
 * relay_store_member_put:
 *
 * Inserts the member, or replaces the fields of the member with the same network and actor.
 * The NodeInfo fields (software name and version, time of the last check) are taken from
 * @member for a new member only: an existing member keeps its own, which only
 * relay_store_member_software_put() changes, so that writing a member read before a NodeInfo
 * check does not undo the check.
 */
gboolean
relay_store_member_put(RelayStore *self,
		       const RelayMember *member,
		       GCancellable *cancellable,
		       GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, member_put, error, FALSE);
	return RELAY_STORE_GET_CLASS(self)->member_put(self, member, cancellable, error);
}

/**
 * relay_store_member_get:
 *
 * Returns: (transfer full) (nullable): the member, or %NULL with %RELAY_STORE_ERROR_NOT_FOUND
 */
RelayMember *
relay_store_member_get(RelayStore *self,
		       const gchar *network,
		       const gchar *actor,
		       GCancellable *cancellable,
		       GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, member_get, error, NULL);
	return RELAY_STORE_GET_CLASS(self)->member_get(self, network, actor, cancellable, error);
}

/**
 * relay_store_member_remove:
 *
 * Fails with %RELAY_STORE_ERROR_NOT_FOUND when there was no such member.
 */
gboolean
relay_store_member_remove(RelayStore *self,
			  const gchar *network,
			  const gchar *actor,
			  GCancellable *cancellable,
			  GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, member_remove, error, FALSE);
	return RELAY_STORE_GET_CLASS(self)->member_remove(self, network, actor, cancellable, error);
}

/**
 * relay_store_member_list:
 * @network: (nullable): one network, or %NULL for all
 * @state: a #RelayMemberState, or -1 for any
 *
 * Returns: (transfer container) (element-type RelayMember): members ordered by network, then
 * actor
 */
GPtrArray *
relay_store_member_list(RelayStore *self,
			const gchar *network,
			gint state,
			GCancellable *cancellable,
			GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, member_list, error, NULL);
	return RELAY_STORE_GET_CLASS(self)->member_list(self, network, state, cancellable, error);
}

/**
 * relay_store_member_software_put:
 * @domain: a member domain, as in #RelayMember (lower case, with ":PORT" if any)
 * @software_name: (nullable): NodeInfo's software.name, or %NULL when the check failed
 * @software_version: (nullable): NodeInfo's software.version
 * @checked_at_us: when NodeInfo was checked
 * @out_updated: (out) (optional): how many members have @domain
 *
 * Records a NodeInfo check of @domain on every member of every network whose domain it is.
 * A check that found the software (@software_name set) replaces the name and the version; a
 * failed one records only its time, and the members keep what the last good check found.
 */
gboolean
relay_store_member_software_put(RelayStore *self,
				const gchar *domain,
				const gchar *software_name,
				const gchar *software_version,
				gint64 checked_at_us,
				guint *out_updated,
				GCancellable *cancellable,
				GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, member_software_put, error, FALSE);
	if (out_updated != NULL)
		*out_updated = 0;
	if (domain == NULL) {
		g_set_error_literal(
			error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_INVALID, "no domain given");
		return FALSE;
	}
	return RELAY_STORE_GET_CLASS(self)->member_software_put(self,
								domain,
								software_name,
								software_version,
								checked_at_us,
								out_updated,
								cancellable,
								error);
}

/**
 * relay_store_policy_put:
 *
 * Inserts the policy, or replaces the one with the same network, domain and kind.
 */
gboolean
relay_store_policy_put(RelayStore *self,
		       const RelayDomainPolicy *policy,
		       GCancellable *cancellable,
		       GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, policy_put, error, FALSE);
	return RELAY_STORE_GET_CLASS(self)->policy_put(self, policy, cancellable, error);
}

/**
 * relay_store_policy_remove:
 * @network: (nullable): the network, or %NULL for a node-wide policy
 *
 * Fails with %RELAY_STORE_ERROR_NOT_FOUND when there was no such policy.
 */
gboolean
relay_store_policy_remove(RelayStore *self,
			  const gchar *network,
			  const gchar *domain,
			  RelayPolicyKind kind,
			  GCancellable *cancellable,
			  GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, policy_remove, error, FALSE);
	return RELAY_STORE_GET_CLASS(self)->policy_remove(
		self, network, domain, kind, cancellable, error);
}

/**
 * relay_store_policy_list:
 *
 * Returns: (transfer container) (element-type RelayDomainPolicy): every policy, node-wide ones
 * first, then by network, domain and kind
 */
GPtrArray *
relay_store_policy_list(RelayStore *self, GCancellable *cancellable, GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, policy_list, error, NULL);
	return RELAY_STORE_GET_CLASS(self)->policy_list(self, cancellable, error);
}

/**
 * relay_store_block_subscription_put:
 * @subscription: the subscription, with what its last fetch found
 * @entries: (nullable) (element-type RelayDomainPolicy): the list the fetch read (domain and
 *	reason of each entry); %NULL keeps the list stored
 *
 * Inserts the subscription, or replaces the one with the same network and URL; with @entries,
 * replaces its list too, in one transaction.
 */
gboolean
relay_store_block_subscription_put(RelayStore *self,
				   const RelayBlockSubscription *subscription,
				   GPtrArray *entries,
				   GCancellable *cancellable,
				   GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, block_subscription_put, error, FALSE);
	return RELAY_STORE_GET_CLASS(self)->block_subscription_put(
		self, subscription, entries, cancellable, error);
}

/**
 * relay_store_block_subscription_remove:
 *
 * Removes the subscription and its list (not the blocks it made: the caller lifts those).
 * Fails with %RELAY_STORE_ERROR_NOT_FOUND when there was no such subscription.
 */
gboolean
relay_store_block_subscription_remove(RelayStore *self,
				      const gchar *network,
				      const gchar *url,
				      GCancellable *cancellable,
				      GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, block_subscription_remove, error, FALSE);
	return RELAY_STORE_GET_CLASS(self)->block_subscription_remove(
		self, network, url, cancellable, error);
}

/**
 * relay_store_block_subscription_list:
 *
 * Returns: (transfer container) (element-type RelayBlockSubscription): every subscription, by
 *	network and URL
 */
GPtrArray *
relay_store_block_subscription_list(RelayStore *self, GCancellable *cancellable, GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, block_subscription_list, error, NULL);
	return RELAY_STORE_GET_CLASS(self)->block_subscription_list(self, cancellable, error);
}

/**
 * relay_store_block_subscription_entries:
 * @network: (nullable): one network's subscriptions, or %NULL for all
 *
 * Returns: (transfer container) (element-type RelayDomainPolicy): the lists kept, as blocks of
 *	the subscribing network with the list's URL as @subscription, by network, URL and domain
 */
GPtrArray *
relay_store_block_subscription_entries(RelayStore *self,
				       const gchar *network,
				       GCancellable *cancellable,
				       GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, block_subscription_entries, error, NULL);
	return RELAY_STORE_GET_CLASS(self)->block_subscription_entries(
		self, network, cancellable, error);
}

gboolean
relay_store_actor_put(RelayStore *self,
		      const RelayCachedActor *actor,
		      GCancellable *cancellable,
		      GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, actor_put, error, FALSE);
	return RELAY_STORE_GET_CLASS(self)->actor_put(self, actor, cancellable, error);
}

/**
 * relay_store_actor_get:
 *
 * Returns: (transfer full) (nullable): the cached actor, or %NULL with
 * %RELAY_STORE_ERROR_NOT_FOUND
 */
RelayCachedActor *
relay_store_actor_get(RelayStore *self, const gchar *id, GCancellable *cancellable, GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, actor_get, error, NULL);
	return RELAY_STORE_GET_CLASS(self)->actor_get(self, id, cancellable, error);
}

gboolean
relay_store_key_put(RelayStore *self,
		    const RelayCachedKey *key,
		    GCancellable *cancellable,
		    GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, key_put, error, FALSE);
	return RELAY_STORE_GET_CLASS(self)->key_put(self, key, cancellable, error);
}

/**
 * relay_store_key_get:
 *
 * Returns: (transfer full) (nullable): the cached key, or %NULL with
 * %RELAY_STORE_ERROR_NOT_FOUND
 */
RelayCachedKey *
relay_store_key_get(RelayStore *self, const gchar *id, GCancellable *cancellable, GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, key_get, error, NULL);
	return RELAY_STORE_GET_CLASS(self)->key_get(self, id, cancellable, error);
}

/**
 * relay_store_seen_add:
 * @now_us: the current time
 * @expires_us: when the entry expires
 * @out_new: (out): %TRUE when @id was not in the seen-set, or its entry had expired at @now_us
 *
 * Adds @id to the seen-set until @expires_us (an entry already there keeps the later expiry).
 */
gboolean
relay_store_seen_add(RelayStore *self,
		     const gchar *id,
		     gint64 now_us,
		     gint64 expires_us,
		     gboolean *out_new,
		     GCancellable *cancellable,
		     GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, seen_add, error, FALSE);
	return RELAY_STORE_GET_CLASS(self)->seen_add(
		self, id, now_us, expires_us, out_new, cancellable, error);
}

/**
 * relay_store_seen_contains:
 * @out_seen: (out): %TRUE when @id is in the seen-set and its entry has not expired at @now_us
 */
gboolean
relay_store_seen_contains(RelayStore *self,
			  const gchar *id,
			  gint64 now_us,
			  gboolean *out_seen,
			  GCancellable *cancellable,
			  GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, seen_contains, error, FALSE);
	return RELAY_STORE_GET_CLASS(self)->seen_contains(
		self, id, now_us, out_seen, cancellable, error);
}

/**
 * relay_store_seen_expire:
 * @out_removed: (out) (optional): how many entries expired
 *
 * Drops the entries whose expiry is at or before @now_us.
 */
gboolean
relay_store_seen_expire(RelayStore *self,
			gint64 now_us,
			guint64 *out_removed,
			GCancellable *cancellable,
			GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, seen_expire, error, FALSE);
	return RELAY_STORE_GET_CLASS(self)->seen_expire(
		self, now_us, out_removed, cancellable, error);
}

/**
 * relay_store_delivery_enqueue:
 * @fanouts: (element-type RelayFanout): what to queue
 *
 * Queues every fan-out in one transaction: each body is stored once, with one row per inbox,
 * due at @now_us. A fan-out with seen ids is queued only if none of them was seen (its
 * duplicate flag is set otherwise); its ids are added to the seen-set in the same transaction.
 * When this returns %TRUE, the rows are durable; when it fails, nothing was queued.
 */
gboolean
relay_store_delivery_enqueue(RelayStore *self,
			     GPtrArray *fanouts,
			     gint64 now_us,
			     GCancellable *cancellable,
			     GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, delivery_enqueue, error, FALSE);
	return RELAY_STORE_GET_CLASS(self)->delivery_enqueue(
		self, fanouts, now_us, cancellable, error);
}

/**
 * relay_store_delivery_claim:
 * @now_us: the current time
 * @limit: at most this many rows
 * @lease_us: how long the claim holds; unsettled rows are due again after it
 * @claimer: (nullable): who claims, for relay_store_delivery_release()
 *
 * Claims the rows due at @now_us, the longest due first.
 *
 * Returns: (transfer container) (element-type RelayDelivery): the claimed deliveries
 */
GPtrArray *
relay_store_delivery_claim(RelayStore *self,
			   gint64 now_us,
			   guint limit,
			   gint64 lease_us,
			   const gchar *claimer,
			   GCancellable *cancellable,
			   GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, delivery_claim, error, NULL);
	return RELAY_STORE_GET_CLASS(self)->delivery_claim(
		self, now_us, limit, lease_us, claimer, cancellable, error);
}

/**
 * relay_store_delivery_settle:
 * @results: (element-type RelayDeliveryResult): outcomes of claimed rows
 *
 * Settles rows in one transaction: retries become due at their retry time, the others leave the
 * queue, and bodies no row refers to any more are dropped. Unknown ids are ignored.
 */
gboolean
relay_store_delivery_settle(RelayStore *self,
			    GArray *results,
			    GCancellable *cancellable,
			    GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, delivery_settle, error, FALSE);
	return RELAY_STORE_GET_CLASS(self)->delivery_settle(self, results, cancellable, error);
}

/**
 * relay_store_delivery_release:
 * @claimer: (nullable): release the claims of this claimer, or of all when %NULL
 * @out_released: (out) (optional): how many rows were released
 *
 * Makes claimed rows due at @now_us, as when a node restarts after a crash.
 */
gboolean
relay_store_delivery_release(RelayStore *self,
			     const gchar *claimer,
			     gint64 now_us,
			     guint64 *out_released,
			     GCancellable *cancellable,
			     GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, delivery_release, error, FALSE);
	return RELAY_STORE_GET_CLASS(self)->delivery_release(
		self, claimer, now_us, out_released, cancellable, error);
}

gboolean
relay_store_delivery_stats(RelayStore *self,
			   RelayQueueStats *stats,
			   GCancellable *cancellable,
			   GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, delivery_stats, error, FALSE);
	memset(stats, 0, sizeof(*stats));
	return RELAY_STORE_GET_CLASS(self)->delivery_stats(self, stats, cancellable, error);
}

/**
 * relay_store_delivery_hosts:
 *
 * The queue by host, for the status page: which hosts have deliveries waiting, and whether
 * they failed before.
 *
 * Returns: (transfer container) (element-type RelayHostQueueStats): one entry per host with
 * queued rows, by host
 */
GPtrArray *
relay_store_delivery_hosts(RelayStore *self, GCancellable *cancellable, GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, delivery_hosts, error, NULL);
	return RELAY_STORE_GET_CLASS(self)->delivery_hosts(self, cancellable, error);
}

/**
 * relay_store_counters_add:
 * @deltas: (element-type RelayCounter): amounts to add, by counter name
 */
gboolean
relay_store_counters_add(RelayStore *self,
			 GPtrArray *deltas,
			 GCancellable *cancellable,
			 GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, counters_add, error, FALSE);
	return RELAY_STORE_GET_CLASS(self)->counters_add(self, deltas, cancellable, error);
}

/**
 * relay_store_counters_get:
 *
 * Returns: (transfer container) (element-type RelayCounter): every counter, by name
 */
GPtrArray *
relay_store_counters_get(RelayStore *self, GCancellable *cancellable, GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, counters_get, error, NULL);
	return RELAY_STORE_GET_CLASS(self)->counters_get(self, cancellable, error);
}

/**
 * relay_store_delivery_pending_hosts:
 *
 * The queue grouped by the host of each row's inbox, the longest queue first (then by host).
 *
 * Returns: (transfer container) (element-type RelayPendingHost): one entry per host with rows
 */
GPtrArray *
relay_store_delivery_pending_hosts(RelayStore *self, GCancellable *cancellable, GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, delivery_pending_hosts, error, NULL);
	return RELAY_STORE_GET_CLASS(self)->delivery_pending_hosts(self, cancellable, error);
}

/**
 * relay_store_delivery_reschedule_host:
 * @host: a delivery host, as in #RelayDelivery
 * @due_us: the new due time
 * @out_rescheduled: (out) (optional): how many rows were moved
 *
 * Makes the rows of @host that are not claimed and due after @due_us due at @due_us, e.g. to
 * retry a host now instead of at its backoff time. Claimed rows are left alone.
 */
gboolean
relay_store_delivery_reschedule_host(RelayStore *self,
				     const gchar *host,
				     gint64 due_us,
				     guint64 *out_rescheduled,
				     GCancellable *cancellable,
				     GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, delivery_reschedule_host, error, FALSE);
	if (out_rescheduled != NULL)
		*out_rescheduled = 0;
	return RELAY_STORE_GET_CLASS(self)->delivery_reschedule_host(
		self, host, due_us, out_rescheduled, cancellable, error);
}

/**
 * relay_store_delivery_drop_host:
 * @host: a delivery host, as in #RelayDelivery
 * @out_dropped: (out) (optional): how many rows were dropped
 *
 * Drops every row of @host, claimed ones included (a POST in flight still ends, but its row is
 * not retried), in one transaction, and the bodies no row refers to any more.
 */
gboolean
relay_store_delivery_drop_host(RelayStore *self,
			       const gchar *host,
			       guint64 *out_dropped,
			       GCancellable *cancellable,
			       GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, delivery_drop_host, error, FALSE);
	if (out_dropped != NULL)
		*out_dropped = 0;
	return RELAY_STORE_GET_CLASS(self)->delivery_drop_host(
		self, host, out_dropped, cancellable, error);
}

/**
 * relay_store_delivery_drop_inbox:
 * @network: the network the deliveries relay
 * @inbox: their target inbox
 * @out_dropped: (out) (optional): how many rows were dropped
 *
 * Drops every row of @network to @inbox, claimed ones included, as
 * relay_store_delivery_drop_host() does for a host: what was queued for a peer that is no
 * longer one.
 */
gboolean
relay_store_delivery_drop_inbox(RelayStore *self,
				const gchar *network,
				const gchar *inbox,
				guint64 *out_dropped,
				GCancellable *cancellable,
				GError **error)
{
	RELAY_STORE_VFUNC_CHECK(self, delivery_drop_inbox, error, FALSE);
	if (out_dropped != NULL)
		*out_dropped = 0;
	return RELAY_STORE_GET_CLASS(self)->delivery_drop_inbox(
		self, network, inbox, out_dropped, cancellable, error);
}

/* main-context wrappers */

static void
relay_store_ping_run(RelayStore *self, GTask *task, gpointer data, GCancellable *cancellable)
{
	g_autoptr(GError) error = NULL;
	if (!relay_store_ping(self, cancellable, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

void
relay_store_ping_async(RelayStore *self,
		       GCancellable *cancellable,
		       GAsyncReadyCallback callback,
		       gpointer user_data)
{
	relay_store_run_async(self,
			      relay_store_ping_run,
			      NULL,
			      NULL,
			      relay_store_ping_async,
			      cancellable,
			      callback,
			      user_data);
}

gboolean
relay_store_ping_finish(RelayStore *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

static void
relay_store_network_ensure_run(RelayStore *self,
			       GTask *task,
			       gpointer data,
			       GCancellable *cancellable)
{
	const gchar *name = data;
	g_autoptr(RelayNetworkRecord) fresh = relay_network_record_new(name);
	g_autoptr(RelayNetworkRecord) network = NULL;
	g_autoptr(GError) error = NULL;

	if (relay_store_network_create(self, fresh, NULL, cancellable, &error))
		network = relay_store_network_get(self, name, cancellable, &error);
	if (network == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_pointer(
		task, g_steal_pointer(&network), (GDestroyNotify)relay_network_record_free);
}

/**
 * relay_store_network_ensure_async:
 * @name: the network's name
 *
 * Gets the network, creating it (with no keys) when it does not exist yet.
 */
void
relay_store_network_ensure_async(RelayStore *self,
				 const gchar *name,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data)
{
	relay_store_run_async(self,
			      relay_store_network_ensure_run,
			      g_strdup(name),
			      g_free,
			      relay_store_network_ensure_async,
			      cancellable,
			      callback,
			      user_data);
}

/**
 * relay_store_network_ensure_finish:
 *
 * Returns: (transfer full) (nullable): the network
 */
RelayNetworkRecord *
relay_store_network_ensure_finish(RelayStore *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

static void
relay_store_delivery_stats_run(RelayStore *self,
			       GTask *task,
			       gpointer data,
			       GCancellable *cancellable)
{
	g_autofree RelayQueueStats *stats = g_new0(RelayQueueStats, 1);
	g_autoptr(GError) error = NULL;

	if (!relay_store_delivery_stats(self, stats, cancellable, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_pointer(task, g_steal_pointer(&stats), g_free);
}

void
relay_store_delivery_stats_async(RelayStore *self,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data)
{
	relay_store_run_async(self,
			      relay_store_delivery_stats_run,
			      NULL,
			      NULL,
			      relay_store_delivery_stats_async,
			      cancellable,
			      callback,
			      user_data);
}

gboolean
relay_store_delivery_stats_finish(RelayStore *self,
				  GAsyncResult *res,
				  RelayQueueStats *stats,
				  GError **error)
{
	g_autofree RelayQueueStats *result = NULL;

	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	result = g_task_propagate_pointer(G_TASK(res), error);
	if (result == NULL)
		return FALSE;
	*stats = *result;
	return TRUE;
}

static void
relay_store_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	RelayStorePrivate *priv = GET_PRIVATE(RELAY_STORE(object));
	switch (prop_id) {
	case PROP_LOCATION:
		g_value_set_string(value, priv->location);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
relay_store_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
	RelayStorePrivate *priv = GET_PRIVATE(RELAY_STORE(object));
	switch (prop_id) {
	case PROP_LOCATION:
		g_free(priv->location);
		priv->location = g_value_dup_string(value);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
relay_store_finalize(GObject *object)
{
	RelayStore *self = RELAY_STORE(object);
	RelayStorePrivate *priv = GET_PRIVATE(self);

	relay_store_close(self);
	g_free(priv->backend_name);
	g_free(priv->location);
	G_OBJECT_CLASS(relay_store_parent_class)->finalize(object);
}

static void
relay_store_init(RelayStore *self)
{
	RelayStorePrivate *priv = GET_PRIVATE(self);
	priv->backend_name = g_strdup(G_OBJECT_TYPE_NAME(self));
}

static void
relay_store_class_init(RelayStoreClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->get_property = relay_store_get_property;
	object_class->set_property = relay_store_set_property;
	object_class->finalize = relay_store_finalize;
	klass->max_workers = 1;

	g_object_class_install_property(object_class,
					PROP_LOCATION,
					g_param_spec_string("location",
							    NULL,
							    NULL,
							    NULL,
							    G_PARAM_READWRITE |
								    G_PARAM_CONSTRUCT_ONLY |
								    G_PARAM_STATIC_STRINGS));
}
