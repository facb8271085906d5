/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * Remote actors and their keys, fetched with signed GETs and kept in storage for a while.
 *
 * A keyId comes in several forms and all lead to an owner actor that lists the key:
 *  - ACTOR#main-key (Mastodon, Misskey, Pleroma): the fetched document is the actor itself;
 *  - a separate document (GoToSocial's ACTOR/main-key, old Mastodon Key documents): it names
 *    its owner, whose actor is fetched in turn and must list the same key;
 *  - a FEP-521a Multikey in the actor's assertionMethod, or an additionalPublicKeys entry.
 * The caller asks again with refresh set when a signature fails with the cached key (the key
 * may have rotated). A 410 Gone is reported as RELAY_FED_ERROR_GONE so that a Delete of that
 * actor can be accepted; the cache remembers the actor is gone.
 */

#include "config.h"

#include <string.h>

#include "relay-actor-cache.h"
#include "relay-fed-error.h"
#include "relay-json.h"
#include "relay-keys.h"

/* keys kept in memory, so that most inbox POSTs need no storage round trip for their key */
#define RELAY_ACTOR_CACHE_MEMORY_KEYS 4096

struct _RelayActorCache {
	GObject parent_instance;
	RelayStore *store;
	RelayFetcher *fetcher;
	gint64 ttl_us;
	GHashTable *keys;   /* (element-type utf8 RelayCachedKey): key id -> key, in memory */
	GHashTable *parsed; /* (element-type utf8 EVP_PKEY): PEM -> its decoded key */
	GQueue key_order;   /* (element-type utf8): the ids in @keys, oldest first */
	RelayActorCacheCounters counters;
};

G_DEFINE_FINAL_TYPE(RelayActorCache, relay_actor_cache, G_TYPE_OBJECT)

/**
 * relay_actor_cache_parse_key:
 * @key: a key as relay_actor_cache_get_key_finish() gave it
 *
 * Decoding a PEM with OpenSSL 3 costs more than verifying a signature (its decoder framework
 * takes locks and walks its providers), so decoded keys are kept, by PEM, as many as the keys
 * kept in memory.
 *
 * Returns: (transfer full): @key's public key, or %NULL with @error set
 */
EVP_PKEY *
relay_actor_cache_parse_key(RelayActorCache *self, const RelayCachedKey *key, GError **error)
{
	EVP_PKEY *parsed;

	g_return_val_if_fail(RELAY_IS_ACTOR_CACHE(self), NULL);
	g_return_val_if_fail(key != NULL && key->public_key_pem != NULL, NULL);
	parsed = g_hash_table_lookup(self->parsed, key->public_key_pem);
	if (parsed != NULL) {
		EVP_PKEY_up_ref(parsed);
		return parsed;
	}
	parsed = relay_keys_from_pem(key->public_key_pem, error);
	if (parsed == NULL)
		return NULL;
	if (g_hash_table_size(self->parsed) >= RELAY_ACTOR_CACHE_MEMORY_KEYS)
		g_hash_table_remove_all(self->parsed);
	EVP_PKEY_up_ref(parsed);
	g_hash_table_insert(self->parsed, g_strdup(key->public_key_pem), parsed);
	return parsed;
}

static gboolean
relay_actor_cache_key_fresh(RelayActorCache *self, const RelayCachedKey *key)
{
	return key->fetched_at_us + self->ttl_us > g_get_real_time();
}

/* remembers @key in memory (a copy), forgetting the oldest key when full */
static void
relay_actor_cache_remember_key(RelayActorCache *self, const RelayCachedKey *key)
{
	if (g_hash_table_replace(self->keys, g_strdup(key->id), relay_cached_key_copy(key)))
		g_queue_push_tail(&self->key_order, g_strdup(key->id));
	while (g_queue_get_length(&self->key_order) > RELAY_ACTOR_CACHE_MEMORY_KEYS) {
		g_autofree gchar *oldest = g_queue_pop_head(&self->key_order);
		g_hash_table_remove(self->keys, oldest);
	}
}

/**
 * relay_actor_cache_new:
 * @store: where fetched actors and keys are kept
 * @fetcher: how they are fetched
 * @ttl_s: how long a stored actor or key is used before it is fetched again
 *
 * Returns: (transfer full): a cache
 */
RelayActorCache *
relay_actor_cache_new(RelayStore *store, RelayFetcher *fetcher, gint64 ttl_s)
{
	RelayActorCache *self = g_object_new(RELAY_TYPE_ACTOR_CACHE, NULL);
	self->store = g_object_ref(store);
	self->fetcher = g_object_ref(fetcher);
	self->ttl_us = ttl_s * G_USEC_PER_SEC;
	return self;
}

void
relay_actor_cache_set_ttl(RelayActorCache *self, gint64 ttl_s)
{
	g_return_if_fail(RELAY_IS_ACTOR_CACHE(self));
	self->ttl_us = ttl_s * G_USEC_PER_SEC;
}

/* store work: everything runs on a store worker thread */

typedef struct {
	gchar *id;
	RelayCachedKey *key;	 /* (nullable): to store */
	RelayCachedActor *actor; /* (nullable): to store */
} RelayCacheStoreJob;

static void
relay_cache_store_job_free(RelayCacheStoreJob *job)
{
	g_free(job->id);
	g_clear_pointer(&job->key, relay_cached_key_free);
	g_clear_pointer(&job->actor, relay_cached_actor_free);
	g_free(job);
}

static void
relay_cache_key_get_run(RelayStore *store, GTask *task, gpointer data, GCancellable *cancellable)
{
	RelayCacheStoreJob *job = data;
	g_autoptr(GError) error = NULL;
	RelayCachedKey *key = relay_store_key_get(store, job->id, cancellable, &error);

	if (key == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_pointer(task, key, (GDestroyNotify)relay_cached_key_free);
}

static void
relay_cache_actor_get_run(RelayStore *store, GTask *task, gpointer data, GCancellable *cancellable)
{
	RelayCacheStoreJob *job = data;
	g_autoptr(GError) error = NULL;
	RelayCachedActor *actor = relay_store_actor_get(store, job->id, cancellable, &error);

	if (actor == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_pointer(task, actor, (GDestroyNotify)relay_cached_actor_free);
}

static void
relay_cache_put_run(RelayStore *store, GTask *task, gpointer data, GCancellable *cancellable)
{
	RelayCacheStoreJob *job = data;
	g_autoptr(GError) error = NULL;

	if ((job->actor != NULL &&
	     !relay_store_actor_put(store, job->actor, cancellable, &error)) ||
	    (job->key != NULL && !relay_store_key_put(store, job->key, cancellable, &error))) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

static RelayCacheStoreJob *
relay_cache_store_job_new(const gchar *id)
{
	RelayCacheStoreJob *job = g_new0(RelayCacheStoreJob, 1);
	job->id = g_strdup(id);
	return job;
}

/* a key lookup in flight */
typedef struct {
	gchar *key_id;
	RelaySigner *signer; /* (nullable) */
	gboolean refresh;
	gchar *key_pem;	     /* from a separate key document, waiting for its owner */
	gchar *owner;	     /* the owner to fetch */
	RelayCachedKey *key; /* the answer, once known */
} RelayKeyLookup;

static void
relay_key_lookup_free(RelayKeyLookup *lookup)
{
	g_free(lookup->key_id);
	g_clear_pointer(&lookup->signer, relay_signer_unref);
	g_free(lookup->key_pem);
	g_free(lookup->owner);
	g_clear_pointer(&lookup->key, relay_cached_key_free);
	g_free(lookup);
}

/* the PEM of @key_id in @actor: a legacy key, a Multikey, or the only key of an actor whose
 * id is the keyId itself */
static gchar *
relay_actor_cache_key_pem(RelayRemoteActor *actor, const gchar *key_id, GError **error)
{
	const gchar *pem = relay_remote_actor_find_key_pem(actor, key_id);
	const gchar *multibase;

	if (pem != NULL)
		return g_strdup(pem);
	multibase = relay_remote_actor_find_multikey(actor, key_id);
	if (multibase != NULL) {
		g_autoptr(EVP_PKEY) key = relay_keys_from_multibase(multibase, error);
		if (key == NULL)
			return NULL;
		return relay_keys_public_pem(key, error);
	}
	if (g_strcmp0(key_id, actor->id) == 0 && actor->public_key_pem != NULL &&
	    actor->public_keys->len == 1)
		return g_strdup(actor->public_key_pem);
	g_set_error(error,
		    RELAY_FED_ERROR,
		    RELAY_FED_ERROR_KEY_NOT_FOUND,
		    "actor %s does not list the key %s",
		    actor->id,
		    key_id);
	return NULL;
}

static void
relay_key_lookup_stored_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	RelayKeyLookup *lookup = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;

	/* a key that could not be kept is still the right key: say so and go on */
	if (!g_task_propagate_boolean(G_TASK(res), &error))
		g_warning("cannot keep key %s: %s", lookup->key_id, error->message);
	relay_actor_cache_remember_key(g_task_get_source_object(task), lookup->key);
	g_task_return_pointer(
		task, relay_cached_key_copy(lookup->key), (GDestroyNotify)relay_cached_key_free);
}

/* the key is known: keep it, with its owner's actor document, and answer */
static void
relay_key_lookup_found(GTask *task, JsonNode *actor_document, const gchar *owner, gchar *pem)
{
	RelayActorCache *self = g_task_get_source_object(task);
	RelayKeyLookup *lookup = g_task_get_task_data(task);
	RelayCacheStoreJob *job = relay_cache_store_job_new(lookup->key_id);
	g_autoptr(GBytes) document = relay_json_to_bytes(actor_document);

	lookup->key = relay_cached_key_new(lookup->key_id, owner, pem);
	job->key = relay_cached_key_copy(lookup->key);
	job->actor = relay_cached_actor_new(owner, NULL);
	job->actor->document =
		g_strndup(g_bytes_get_data(document, NULL), g_bytes_get_size(document));
	g_free(pem);
	relay_store_run_async(self->store,
			      relay_cache_put_run,
			      job,
			      (GDestroyNotify)relay_cache_store_job_free,
			      relay_key_lookup_found,
			      g_task_get_cancellable(task),
			      relay_key_lookup_stored_cb,
			      task);
}

static void
relay_key_lookup_owner_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	RelayKeyLookup *lookup = g_task_get_task_data(task);
	g_autoptr(JsonNode) document = NULL;
	g_autoptr(RelayRemoteActor) actor = NULL;
	g_autofree gchar *pem = NULL;
	g_autoptr(GError) error = NULL;

	document = relay_fetcher_fetch_json_finish(RELAY_FETCHER(source), res, NULL, &error);
	if (document != NULL)
		actor = relay_remote_actor_parse(document, &error);
	if (actor != NULL)
		pem = relay_actor_cache_key_pem(actor, lookup->key_id, &error);
	if (pem == NULL) {
		g_prefix_error(&error, "owner of key %s: ", lookup->key_id);
		g_task_return_error(task, g_steal_pointer(&error));
		g_object_unref(task);
		return;
	}
	/* the owner must vouch for the very key the key document gave */
	if (lookup->key_pem != NULL &&
	    g_strcmp0(g_strstrip(pem), g_strstrip(lookup->key_pem)) != 0) {
		g_task_return_new_error(task,
					RELAY_FED_ERROR,
					RELAY_FED_ERROR_KEY_NOT_FOUND,
					"actor %s lists another key as %s",
					actor->id,
					lookup->key_id);
		g_object_unref(task);
		return;
	}
	relay_key_lookup_found(task, document, actor->id, g_steal_pointer(&pem));
}

/* a key document names its owner; or a stub with an embedded publicKey does */
static gboolean
relay_key_lookup_parse_key_document(RelayKeyLookup *lookup, JsonNode *document, GError **error)
{
	g_autofree gchar *id = NULL;
	JsonObject *object = json_node_get_object(document);
	JsonNode *embedded = json_object_get_member(object, "publicKey");

	gboolean parsed =
		relay_key_document_parse(document, &id, &lookup->owner, &lookup->key_pem, NULL);

	if (!parsed && embedded != NULL && JSON_NODE_HOLDS_OBJECT(embedded))
		parsed = relay_key_document_parse(
			embedded, &id, &lookup->owner, &lookup->key_pem, NULL);
	if (!parsed || lookup->owner == NULL || lookup->key_pem == NULL) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_KEY_NOT_FOUND,
			    "%s is neither an actor nor a key with an owner",
			    lookup->key_id);
		return FALSE;
	}
	if (g_strcmp0(id, lookup->key_id) != 0) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_KEY_NOT_FOUND,
			    "%s describes another key (%s)",
			    lookup->key_id,
			    id);
		return FALSE;
	}
	return TRUE;
}

static void
relay_key_lookup_fetched_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	RelayActorCache *self = g_task_get_source_object(task);
	RelayKeyLookup *lookup = g_task_get_task_data(task);
	g_autoptr(JsonNode) document = NULL;
	g_autoptr(GError) error = NULL;
	JsonObject *object;

	document = relay_fetcher_fetch_json_finish(RELAY_FETCHER(source), res, NULL, &error);
	if (document == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		g_object_unref(task);
		return;
	}
	object = json_node_get_object(document);
	if (json_object_has_member(object, "inbox")) {
		g_autoptr(RelayRemoteActor) actor = relay_remote_actor_parse(document, &error);
		g_autofree gchar *pem = NULL;
		if (actor != NULL)
			pem = relay_actor_cache_key_pem(actor, lookup->key_id, &error);
		if (pem == NULL) {
			g_task_return_error(task, g_steal_pointer(&error));
			g_object_unref(task);
			return;
		}
		relay_key_lookup_found(task, document, actor->id, g_steal_pointer(&pem));
		return;
	}
	if (!relay_key_lookup_parse_key_document(lookup, document, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		g_object_unref(task);
		return;
	}
	relay_fetcher_fetch_json_async(self->fetcher,
				       lookup->owner,
				       lookup->signer,
				       g_task_get_cancellable(task),
				       relay_key_lookup_owner_cb,
				       task);
}

static void
relay_key_lookup_fetch(GTask *task)
{
	RelayActorCache *self = g_task_get_source_object(task);
	RelayKeyLookup *lookup = g_task_get_task_data(task);

	self->counters.key_fetches++;
	relay_fetcher_fetch_json_async(self->fetcher,
				       lookup->key_id,
				       lookup->signer,
				       g_task_get_cancellable(task),
				       relay_key_lookup_fetched_cb,
				       task);
}

static void
relay_key_lookup_cached_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	RelayActorCache *self = g_task_get_source_object(task);
	RelayCachedKey *key = g_task_propagate_pointer(G_TASK(res), NULL);

	if (key != NULL && relay_actor_cache_key_fresh(self, key)) {
		self->counters.key_store_hits++;
		relay_actor_cache_remember_key(self, key);
		g_task_return_pointer(task, key, (GDestroyNotify)relay_cached_key_free);
		g_object_unref(task);
		return;
	}
	g_clear_pointer(&key, relay_cached_key_free);
	relay_key_lookup_fetch(task);
}

/**
 * relay_actor_cache_get_key_async:
 * @key_id: the keyId of a signature
 * @signer: (nullable): signs the fetches (authorized fetch)
 * @refresh: fetch again even when a stored key is fresh
 *
 * Finds the public key @key_id and the actor that owns it.
 */
void
relay_actor_cache_get_key_async(RelayActorCache *self,
				const gchar *key_id,
				RelaySigner *signer,
				gboolean refresh,
				GCancellable *cancellable,
				GAsyncReadyCallback callback,
				gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	RelayKeyLookup *lookup = g_new0(RelayKeyLookup, 1);
	RelayCachedKey *remembered;

	g_task_set_source_tag(task, relay_actor_cache_get_key_async);
	g_task_set_task_data(task, lookup, (GDestroyNotify)relay_key_lookup_free);
	lookup->key_id = g_strdup(key_id);
	lookup->signer = signer != NULL ? relay_signer_ref(signer) : NULL;
	lookup->refresh = refresh;
	if (refresh) {
		g_hash_table_remove(self->keys, key_id);
		relay_key_lookup_fetch(task);
		return;
	}
	remembered = g_hash_table_lookup(self->keys, key_id);
	if (remembered != NULL && relay_actor_cache_key_fresh(self, remembered)) {
		self->counters.key_memory_hits++;
		g_task_return_pointer(task,
				      relay_cached_key_copy(remembered),
				      (GDestroyNotify)relay_cached_key_free);
		g_object_unref(task);
		return;
	}
	relay_store_run_async(self->store,
			      relay_cache_key_get_run,
			      relay_cache_store_job_new(key_id),
			      (GDestroyNotify)relay_cache_store_job_free,
			      relay_actor_cache_get_key_async,
			      cancellable,
			      relay_key_lookup_cached_cb,
			      task);
}

/**
 * relay_actor_cache_get_key_finish:
 *
 * Returns: (transfer full) (nullable): the key with its owner
 */
RelayCachedKey *
relay_actor_cache_get_key_finish(RelayActorCache *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

/* actor lookups */

typedef struct {
	gchar *actor_id;
	RelaySigner *signer;
	RelayRemoteActor *actor;
	GError *error; /* the answer, when it is an error to remember (gone) */
} RelayActorLookup;

static void
relay_actor_lookup_free(RelayActorLookup *lookup)
{
	g_free(lookup->actor_id);
	g_clear_pointer(&lookup->signer, relay_signer_unref);
	g_clear_pointer(&lookup->actor, relay_remote_actor_free);
	g_clear_error(&lookup->error);
	g_free(lookup);
}

static void
relay_actor_lookup_stored_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	RelayActorLookup *lookup = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;

	if (!g_task_propagate_boolean(G_TASK(res), &error))
		g_warning("cannot keep actor %s: %s", lookup->actor_id, error->message);
	if (lookup->error != NULL) {
		g_task_return_error(task, g_steal_pointer(&lookup->error));
		return;
	}
	g_task_return_pointer(
		task, g_steal_pointer(&lookup->actor), (GDestroyNotify)relay_remote_actor_free);
}

static void
relay_actor_lookup_fetched_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	RelayActorCache *self = g_task_get_source_object(task);
	RelayActorLookup *lookup = g_task_get_task_data(task);
	g_autoptr(JsonNode) document = NULL;
	g_autoptr(GError) error = NULL;
	RelayCacheStoreJob *job;

	document = relay_fetcher_fetch_json_finish(RELAY_FETCHER(source), res, NULL, &error);
	if (document != NULL)
		lookup->actor = relay_remote_actor_parse(document, &error);
	if (lookup->actor == NULL &&
	    !g_error_matches(error, RELAY_FED_ERROR, RELAY_FED_ERROR_GONE)) {
		g_task_return_error(task, g_steal_pointer(&error));
		g_object_unref(task);
		return;
	}
	job = relay_cache_store_job_new(lookup->actor_id);
	job->actor = relay_cached_actor_new(lookup->actor_id, NULL);
	if (lookup->actor != NULL) {
		g_autoptr(GBytes) bytes = relay_json_to_bytes(document);
		job->actor->document =
			g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
	} else {
		/* remember the actor is gone, and say so */
		job->actor->gone = TRUE;
		lookup->error = g_steal_pointer(&error);
	}
	relay_store_run_async(self->store,
			      relay_cache_put_run,
			      job,
			      (GDestroyNotify)relay_cache_store_job_free,
			      relay_actor_lookup_fetched_cb,
			      g_task_get_cancellable(task),
			      relay_actor_lookup_stored_cb,
			      task);
}

static void
relay_actor_lookup_fetch(GTask *task)
{
	RelayActorCache *self = g_task_get_source_object(task);
	RelayActorLookup *lookup = g_task_get_task_data(task);
	relay_fetcher_fetch_json_async(self->fetcher,
				       lookup->actor_id,
				       lookup->signer,
				       g_task_get_cancellable(task),
				       relay_actor_lookup_fetched_cb,
				       task);
}

static void
relay_actor_lookup_cached_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	RelayActorCache *self = g_task_get_source_object(task);
	RelayActorLookup *lookup = g_task_get_task_data(task);
	g_autoptr(RelayCachedActor) cached = g_task_propagate_pointer(G_TASK(res), NULL);
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(JsonNode) document = NULL;
	g_autoptr(GError) error = NULL;

	if (cached == NULL || cached->fetched_at_us + self->ttl_us <= g_get_real_time()) {
		relay_actor_lookup_fetch(task);
		return;
	}
	if (cached->gone) {
		g_task_return_new_error(
			task, RELAY_FED_ERROR, RELAY_FED_ERROR_GONE, "%s: gone", lookup->actor_id);
		g_object_unref(task);
		return;
	}
	bytes = g_bytes_new(cached->document, strlen(cached->document));
	document = relay_json_parse_object(bytes, RELAY_JSON_MAX_DEPTH, &error);
	if (document != NULL)
		lookup->actor = relay_remote_actor_parse(document, &error);
	if (lookup->actor == NULL) {
		/* a stored document we cannot read any more: fetch it again */
		relay_actor_lookup_fetch(task);
		return;
	}
	g_task_return_pointer(
		task, g_steal_pointer(&lookup->actor), (GDestroyNotify)relay_remote_actor_free);
	g_object_unref(task);
}

/**
 * relay_actor_cache_get_actor_async:
 * @actor_id: an actor's id
 * @signer: (nullable): signs the fetch (authorized fetch)
 * @refresh: fetch again even when a stored actor is fresh
 *
 * Finds a remote actor; a 410 answer is remembered and reported as %RELAY_FED_ERROR_GONE.
 */
void
relay_actor_cache_get_actor_async(RelayActorCache *self,
				  const gchar *actor_id,
				  RelaySigner *signer,
				  gboolean refresh,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	RelayActorLookup *lookup = g_new0(RelayActorLookup, 1);

	g_task_set_source_tag(task, relay_actor_cache_get_actor_async);
	g_task_set_task_data(task, lookup, (GDestroyNotify)relay_actor_lookup_free);
	lookup->actor_id = g_strdup(actor_id);
	lookup->signer = signer != NULL ? relay_signer_ref(signer) : NULL;
	if (refresh) {
		relay_actor_lookup_fetch(task);
		return;
	}
	relay_store_run_async(self->store,
			      relay_cache_actor_get_run,
			      relay_cache_store_job_new(actor_id),
			      (GDestroyNotify)relay_cache_store_job_free,
			      relay_actor_cache_get_actor_async,
			      cancellable,
			      relay_actor_lookup_cached_cb,
			      task);
}

/**
 * relay_actor_cache_get_actor_finish:
 *
 * Returns: (transfer full) (nullable): the actor
 */
RelayRemoteActor *
relay_actor_cache_get_actor_finish(RelayActorCache *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

static void
relay_actor_cache_dispose(GObject *object)
{
	RelayActorCache *self = RELAY_ACTOR_CACHE(object);
	g_clear_object(&self->store);
	g_clear_object(&self->fetcher);
	g_clear_pointer(&self->keys, g_hash_table_unref);
	g_clear_pointer(&self->parsed, g_hash_table_unref);
	g_queue_clear_full(&self->key_order, g_free);
	G_OBJECT_CLASS(relay_actor_cache_parent_class)->dispose(object);
}

static void
relay_actor_cache_init(RelayActorCache *self)
{
	self->keys = g_hash_table_new_full(
		g_str_hash, g_str_equal, g_free, (GDestroyNotify)relay_cached_key_free);
	g_queue_init(&self->key_order);
	self->parsed = g_hash_table_new_full(
		g_str_hash, g_str_equal, g_free, (GDestroyNotify)EVP_PKEY_free);
}

/**
 * relay_actor_cache_get_counters:
 * @counters: (out caller-allocates): filled with the lookups since the cache was made
 */
void
relay_actor_cache_get_counters(RelayActorCache *self, RelayActorCacheCounters *counters)
{
	g_return_if_fail(RELAY_IS_ACTOR_CACHE(self));
	*counters = self->counters;
}

static void
relay_actor_cache_class_init(RelayActorCacheClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = relay_actor_cache_dispose;
}
