/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * Fetches the block lists networks subscribe to (see relay-block-subscriptions.c for what they
 * do) every [federation] blocklist-refresh seconds.
 *
 * A timer on the main loop wakes every refresh period (at most once a minute), lists the
 * subscriptions from storage and fetches those not checked for a period (a new one at once:
 * `relay blocks subscribe` also asks for a round). Each fetch is a GET through the fetcher —
 * bounded in time, size and redirects, past the guard against private addresses like every
 * fetch — signed by the subscribing network's key (a node that wants authorized fetch gets it),
 * with `Accept` for the JSON we publish and Mastodon's CSV, and `If-None-Match` with the ETag of
 * the list kept, so an unchanged list costs a 304. The body is read as JSON when it says so (or
 * starts like JSON), as CSV otherwise; the whole list must be good.
 *
 * The outcome is stored on the subscription on a store worker, and the network's blocks are
 * brought in line in the same job: a list read replaces the one kept; a 304 keeps it; a
 * failure (network error, 404, a bad body) keeps it too and records the error, which
 * `relay blocks subscriptions` shows and the log tells at warning level, so a source that is
 * down or broken never lifts the blocks it made.
 */

#include "config.h"

#include <string.h>

#include "relay-block-poller.h"
#include "relay-block-subscriptions.h"
#include "relay-blocklist.h"
#include "relay-log.h"
#include "relay-network.h"

#define RELAY_BLOCK_POLLER_MAX_PERIOD_S 60
#define RELAY_BLOCK_POLLER_ERROR_CHARS	300
#define RELAY_BLOCK_POLLER_LOGGED_CHARS 200

static const gchar *fetch_outcome_names[] = {"fetched", "unchanged", "failed"};
G_STATIC_ASSERT(G_N_ELEMENTS(fetch_outcome_names) == RELAY_BLOCK_FETCH_LAST);

struct _RelayBlockPoller {
	GObject parent_instance;
	RelayStore *store;
	RelayFetcher *fetcher;
	gchar *origin;
	GHashTable *networks; /* (nullable) (element-type utf8 RelayNetwork) */
	guint interval_s;
	gboolean started;
	guint tick_id;
	gboolean listing;   /* a round is listing the subscriptions */
	gboolean again;	    /* a round was asked for while listing */
	GHashTable *active; /* (element-type utf8): "NETWORK URL" of the fetches running */
	GCancellable *cancellable;
	RelayBlockPollerWakeFunc wake_func;
	gpointer wake_data;
	guint64 fetches[RELAY_BLOCK_FETCH_LAST];
};

G_DEFINE_FINAL_TYPE(RelayBlockPoller, relay_block_poller, G_TYPE_OBJECT)

/**
 * relay_block_fetch_outcome_to_string:
 *
 * Returns: (transfer none): fetched, unchanged or failed
 */
const gchar *
relay_block_fetch_outcome_to_string(RelayBlockFetchOutcome outcome)
{
	if (outcome >= RELAY_BLOCK_FETCH_LAST)
		return NULL;
	return fetch_outcome_names[outcome];
}

/* one fetch of one list, then what storing it did */
typedef struct {
	RelayBlockPoller *poller; /* (owned) */
	gchar *key;		  /* "NETWORK URL" */
	gchar *network;
	gchar *url;
	gchar *origin;
	GHashTable *actors; /* (element-type utf8 utf8): network name -> actor URL */
	gint64 now_us;
	/* what the fetch got */
	RelayBlockFetchOutcome outcome;
	GBytes *body;	     /* (nullable) */
	gchar *content_type; /* (nullable) */
	gchar *etag;	     /* (nullable) */
	gchar *failure;	     /* (nullable): why it failed */
	/* what storing it did */
	gboolean gone; /* unsubscribed while fetching: nothing stored */
	RelayBlockMode mode;
	gint64 count;
	RelayBlockSubscriptionsApplied applied;
} RelayBlockPoll;

static void
relay_block_poll_free(RelayBlockPoll *poll)
{
	g_clear_object(&poll->poller);
	g_free(poll->key);
	g_free(poll->network);
	g_free(poll->url);
	g_free(poll->origin);
	g_clear_pointer(&poll->actors, g_hash_table_unref);
	g_clear_pointer(&poll->body, g_bytes_unref);
	g_free(poll->content_type);
	g_free(poll->etag);
	g_free(poll->failure);
	g_free(poll);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayBlockPoll, relay_block_poll_free)

/* JSON when the server says so or the body looks like it; Mastodon's CSV otherwise */
static GPtrArray *
relay_block_poll_parse(RelayBlockPoll *poll, GError **error)
{
	gsize size = 0;
	const gchar *data = g_bytes_get_data(poll->body, &size);
	gboolean json = poll->content_type != NULL && strstr(poll->content_type, "json") != NULL;

	if (!json && (poll->content_type == NULL || strstr(poll->content_type, "csv") == NULL)) {
		gsize i = 0;
		while (i < size && g_ascii_isspace(data[i]))
			i++;
		json = i < size && (data[i] == '[' || data[i] == '{');
	}
	if (json)
		return relay_blocklist_parse_json(poll->body, poll->url, error);
	return relay_blocklist_parse(data != NULL ? data : "", size, poll->url, error);
}

/* runs on a store worker: records the fetch on the subscription, then applies the lists */
static void
relay_block_poll_record_run(RelayStore *store,
			    GTask *task,
			    gpointer data,
			    GCancellable *cancellable)
{
	RelayBlockPoll *poll = data;
	g_autoptr(GPtrArray) subscriptions = NULL;
	g_autoptr(GPtrArray) list = NULL;
	g_autoptr(GPtrArray) entries = NULL;
	g_autoptr(GError) error = NULL;
	RelayBlockSubscription *subscription = NULL;

	subscriptions = relay_store_block_subscription_list(store, cancellable, &error);
	if (subscriptions == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	for (guint i = 0; i < subscriptions->len && subscription == NULL; i++) {
		RelayBlockSubscription *candidate = g_ptr_array_index(subscriptions, i);
		if (g_strcmp0(candidate->network, poll->network) == 0 &&
		    g_strcmp0(candidate->url, poll->url) == 0)
			subscription = candidate;
	}
	if (subscription == NULL) {
		poll->gone = TRUE;
		g_task_return_boolean(task, TRUE);
		return;
	}
	if (poll->outcome == RELAY_BLOCK_FETCH_FETCHED) {
		g_autoptr(GError) parse_error = NULL;
		list = relay_block_poll_parse(poll, &parse_error);
		if (list == NULL) {
			poll->outcome = RELAY_BLOCK_FETCH_FAILED;
			poll->failure = g_strdup(parse_error->message);
		}
	}
	subscription->checked_at_us = poll->now_us;
	g_clear_pointer(&subscription->last_error, g_free);
	if (poll->outcome == RELAY_BLOCK_FETCH_FAILED) {
		subscription->last_error = g_utf8_substring(
			poll->failure,
			0,
			MIN(g_utf8_strlen(poll->failure, -1), RELAY_BLOCK_POLLER_ERROR_CHARS));
	} else {
		subscription->fetched_at_us = poll->now_us;
	}
	if (list != NULL) {
		entries = relay_block_subscription_entries_from_list(list, poll->now_us);
		subscription->count = entries->len;
		g_free(subscription->etag);
		subscription->etag = g_strdup(poll->etag);
	}
	poll->mode = subscription->mode;
	poll->count = subscription->count;
	if (!relay_store_block_subscription_put(
		    store, subscription, entries, cancellable, &error) ||
	    !relay_block_subscriptions_apply(store,
					     poll->network,
					     poll->origin,
					     poll->actors,
					     poll->now_us,
					     NULL,
					     NULL,
					     &poll->applied,
					     cancellable,
					     &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

static void
relay_block_poll_log(RelayBlockPoll *poll)
{
	g_autofree gchar *url = relay_log_sanitize(poll->url, RELAY_BLOCK_POLLER_LOGGED_CHARS);
	const RelayBlockSubscriptionsApplied *applied = &poll->applied;

	if (poll->outcome == RELAY_BLOCK_FETCH_FAILED) {
		g_autofree gchar *reason =
			relay_log_sanitize(poll->failure, RELAY_BLOCK_POLLER_LOGGED_CHARS);
		if (poll->count >= 0)
			g_warning("block list %s (network %s): %s; the last good list "
				  "(%" G_GINT64_FORMAT " domains) stays in force",
				  url,
				  poll->network,
				  reason,
				  poll->count);
		else
			g_warning("block list %s (network %s): %s; nothing read yet",
				  url,
				  poll->network,
				  reason);
	} else if (applied->added > 0 || applied->lifted > 0) {
		g_message("block list %s (network %s, %s): %" G_GINT64_FORMAT
			  " domains; %u blocked, %u unblocked, %u membership%s ended",
			  url,
			  poll->network,
			  relay_block_mode_to_string(poll->mode),
			  poll->count,
			  applied->added,
			  applied->lifted,
			  applied->effects.removed,
			  applied->effects.removed == 1 ? "" : "s");
	} else {
		g_info("block list %s (network %s, %s): %s, %" G_GINT64_FORMAT " domains",
		       url,
		       poll->network,
		       relay_block_mode_to_string(poll->mode),
		       poll->outcome == RELAY_BLOCK_FETCH_UNCHANGED ? "unchanged" : "read",
		       poll->count);
	}
}

static void
relay_block_poll_recorded_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(RelayBlockPoll) poll = user_data;
	RelayBlockPoller *self = poll->poller;
	g_autoptr(GError) error = NULL;

	if (self->active != NULL)
		g_hash_table_remove(self->active, poll->key);
	if (!g_task_propagate_boolean(G_TASK(res), &error)) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			g_warning("block list %s (network %s): cannot store it: %s",
				  poll->url,
				  poll->network,
				  error->message);
		return;
	}
	if (poll->gone)
		return;
	self->fetches[poll->outcome]++;
	relay_block_poll_log(poll);
	if (poll->applied.effects.queued && self->wake_func != NULL)
		self->wake_func(self->wake_data);
}

static void
relay_block_poll_fetched_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(RelayBlockPoll) poll = user_data;
	RelayBlockPoller *self = poll->poller;
	g_autoptr(GError) error = NULL;
	gboolean not_modified = FALSE;

	poll->body = relay_fetcher_fetch_bytes_finish(RELAY_FETCHER(source),
						      res,
						      &poll->content_type,
						      &poll->etag,
						      &not_modified,
						      &error);
	if (poll->body == NULL) {
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
			if (self->active != NULL)
				g_hash_table_remove(self->active, poll->key);
			return;
		}
		poll->outcome = RELAY_BLOCK_FETCH_FAILED;
		poll->failure = g_strdup(error->message);
	} else {
		poll->outcome =
			not_modified ? RELAY_BLOCK_FETCH_UNCHANGED : RELAY_BLOCK_FETCH_FETCHED;
	}
	poll->now_us = g_get_real_time();
	relay_store_run_async(self->store,
			      relay_block_poll_record_run,
			      poll,
			      NULL,
			      relay_block_poll_fetched_cb,
			      self->cancellable,
			      relay_block_poll_recorded_cb,
			      poll);
	g_steal_pointer(&poll);
}

static void
relay_block_poller_fetch(RelayBlockPoller *self, const RelayBlockSubscription *subscription)
{
	RelayNetwork *network = self->networks != NULL
					? g_hash_table_lookup(self->networks, subscription->network)
					: NULL;
	RelayBlockPoll *poll = g_new0(RelayBlockPoll, 1);

	poll->poller = g_object_ref(self);
	poll->key = g_strconcat(subscription->network, " ", subscription->url, NULL);
	poll->network = g_strdup(subscription->network);
	poll->url = g_strdup(subscription->url);
	poll->origin = g_strdup(self->origin);
	poll->actors = relay_networks_actor_urls(self->networks);
	poll->count = subscription->count;
	poll->mode = subscription->mode;
	g_hash_table_add(self->active, g_strdup(poll->key));
	/* no list kept (never read, or the last one was bad): ask for the whole list */
	relay_fetcher_fetch_bytes_async(self->fetcher,
					subscription->url,
					RELAY_BLOCK_SUBSCRIPTION_ACCEPT,
					subscription->count >= 0 ? subscription->etag : NULL,
					network != NULL ? relay_network_get_signer(network) : NULL,
					self->cancellable,
					relay_block_poll_fetched_cb,
					poll);
}

/* runs on a store worker */
static void
relay_block_poller_list_run(RelayStore *store,
			    GTask *task,
			    gpointer data,
			    GCancellable *cancellable)
{
	g_autoptr(GError) error = NULL;
	GPtrArray *subscriptions = relay_store_block_subscription_list(store, cancellable, &error);

	if (subscriptions == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_pointer(task, subscriptions, (GDestroyNotify)g_ptr_array_unref);
}

static void
relay_block_poller_round(RelayBlockPoller *self);

static void
relay_block_poller_listed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(RelayBlockPoller) self = RELAY_BLOCK_POLLER(user_data);
	g_autoptr(GPtrArray) subscriptions = NULL;
	g_autoptr(GError) error = NULL;
	gint64 now_us = g_get_real_time();
	gint64 interval_us = (gint64)self->interval_s * G_USEC_PER_SEC;

	self->listing = FALSE;
	subscriptions = g_task_propagate_pointer(G_TASK(res), &error);
	if (subscriptions == NULL) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			g_message("block lists: cannot list the subscriptions: %s; trying again in "
				  "the next round",
				  error->message);
		return;
	}
	if (!self->started)
		return;
	for (guint i = 0; i < subscriptions->len; i++) {
		const RelayBlockSubscription *subscription = g_ptr_array_index(subscriptions, i);
		g_autofree gchar *key =
			g_strconcat(subscription->network, " ", subscription->url, NULL);

		if (g_hash_table_contains(self->active, key))
			continue;
		/* a little early is on time: a round must not miss a list by a few ms */
		if (subscription->checked_at_us != 0 &&
		    now_us - subscription->checked_at_us < interval_us - G_USEC_PER_SEC / 10)
			continue;
		relay_block_poller_fetch(self, subscription);
	}
	if (self->again) {
		self->again = FALSE;
		relay_block_poller_round(self);
	}
}

/* lists the subscriptions and fetches those that are due */
static void
relay_block_poller_round(RelayBlockPoller *self)
{
	if (!self->started)
		return;
	if (self->listing) {
		self->again = TRUE;
		return;
	}
	self->listing = TRUE;
	relay_store_run_async(self->store,
			      relay_block_poller_list_run,
			      NULL,
			      NULL,
			      relay_block_poller_round,
			      self->cancellable,
			      relay_block_poller_listed_cb,
			      g_object_ref(self));
}

static gboolean
relay_block_poller_tick_cb(gpointer user_data)
{
	relay_block_poller_round(RELAY_BLOCK_POLLER(user_data));
	return G_SOURCE_CONTINUE;
}

static void
relay_block_poller_arm(RelayBlockPoller *self)
{
	g_clear_handle_id(&self->tick_id, g_source_remove);
	self->tick_id =
		g_timeout_add_seconds(MIN(self->interval_s, RELAY_BLOCK_POLLER_MAX_PERIOD_S),
				      relay_block_poller_tick_cb,
				      self);
}

/**
 * relay_block_poller_start:
 *
 * Starts the rounds: one now, then one every refresh period (at most a minute apart).
 */
void
relay_block_poller_start(RelayBlockPoller *self)
{
	g_return_if_fail(RELAY_IS_BLOCK_POLLER(self));
	if (self->started)
		return;
	self->started = TRUE;
	if (g_cancellable_is_cancelled(self->cancellable)) {
		g_object_unref(self->cancellable);
		self->cancellable = g_cancellable_new();
	}
	relay_block_poller_arm(self);
	relay_block_poller_round(self);
}

/**
 * relay_block_poller_stop:
 *
 * Stops the rounds and cancels the fetches in flight; nothing more is stored.
 */
void
relay_block_poller_stop(RelayBlockPoller *self)
{
	g_return_if_fail(RELAY_IS_BLOCK_POLLER(self));
	self->started = FALSE;
	self->again = FALSE;
	g_clear_handle_id(&self->tick_id, g_source_remove);
	g_cancellable_cancel(self->cancellable);
}

/**
 * relay_block_poller_poll_now:
 *
 * Starts a round now: fetches the subscriptions never fetched (a new one) and those due.
 */
void
relay_block_poller_poll_now(RelayBlockPoller *self)
{
	g_return_if_fail(RELAY_IS_BLOCK_POLLER(self));
	relay_block_poller_round(self);
}

/**
 * relay_block_poller_set_networks:
 * @networks: (element-type utf8 RelayNetwork): the configured networks, whose keys sign the
 *	fetches and whose actors tell removed members
 */
void
relay_block_poller_set_networks(RelayBlockPoller *self, GHashTable *networks)
{
	g_return_if_fail(RELAY_IS_BLOCK_POLLER(self));
	g_clear_pointer(&self->networks, g_hash_table_unref);
	self->networks = networks != NULL ? g_hash_table_ref(networks) : NULL;
}

/**
 * relay_block_poller_set_interval:
 * @interval_s: [federation] blocklist-refresh
 */
void
relay_block_poller_set_interval(RelayBlockPoller *self, guint interval_s)
{
	g_return_if_fail(RELAY_IS_BLOCK_POLLER(self));
	interval_s = MAX(interval_s, 1);
	if (interval_s == self->interval_s)
		return;
	self->interval_s = interval_s;
	if (self->started)
		relay_block_poller_arm(self);
}

/**
 * relay_block_poller_set_wake_func:
 * @func: (nullable): called when new blocks queued Rejects
 */
void
relay_block_poller_set_wake_func(RelayBlockPoller *self,
				 RelayBlockPollerWakeFunc func,
				 gpointer user_data)
{
	g_return_if_fail(RELAY_IS_BLOCK_POLLER(self));
	self->wake_func = func;
	self->wake_data = user_data;
}

/**
 * relay_block_poller_get_in_flight:
 *
 * Returns: how many lists are being fetched or stored
 */
guint
relay_block_poller_get_in_flight(RelayBlockPoller *self)
{
	g_return_val_if_fail(RELAY_IS_BLOCK_POLLER(self), 0);
	return g_hash_table_size(self->active) + (self->listing ? 1 : 0);
}

/**
 * relay_block_poller_get_fetches:
 *
 * Returns: how many fetches ended with @outcome since the start
 */
guint64
relay_block_poller_get_fetches(RelayBlockPoller *self, RelayBlockFetchOutcome outcome)
{
	g_return_val_if_fail(RELAY_IS_BLOCK_POLLER(self), 0);
	g_return_val_if_fail(outcome < RELAY_BLOCK_FETCH_LAST, 0);
	return self->fetches[outcome];
}

/**
 * relay_block_poller_new:
 * @store: where the subscriptions are
 * @fetcher: what fetches the lists
 * @origin: the node's public URL
 * @interval_s: [federation] blocklist-refresh
 *
 * Returns: (transfer full): a poller, not started
 */
RelayBlockPoller *
relay_block_poller_new(RelayStore *store,
		       RelayFetcher *fetcher,
		       const gchar *origin,
		       guint interval_s)
{
	RelayBlockPoller *self = g_object_new(RELAY_TYPE_BLOCK_POLLER, NULL);
	self->store = g_object_ref(store);
	self->fetcher = g_object_ref(fetcher);
	self->origin = g_strdup(origin);
	self->interval_s = MAX(interval_s, 1);
	return self;
}

static void
relay_block_poller_dispose(GObject *object)
{
	RelayBlockPoller *self = RELAY_BLOCK_POLLER(object);

	if (self->cancellable != NULL)
		relay_block_poller_stop(self);
	g_clear_pointer(&self->active, g_hash_table_unref);
	g_clear_pointer(&self->networks, g_hash_table_unref);
	g_clear_object(&self->cancellable);
	g_clear_object(&self->fetcher);
	g_clear_object(&self->store);
	G_OBJECT_CLASS(relay_block_poller_parent_class)->dispose(object);
}

static void
relay_block_poller_finalize(GObject *object)
{
	RelayBlockPoller *self = RELAY_BLOCK_POLLER(object);
	g_free(self->origin);
	G_OBJECT_CLASS(relay_block_poller_parent_class)->finalize(object);
}

static void
relay_block_poller_init(RelayBlockPoller *self)
{
	self->active = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->cancellable = g_cancellable_new();
}

static void
relay_block_poller_class_init(RelayBlockPollerClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = relay_block_poller_dispose;
	object_class->finalize = relay_block_poller_finalize;
}
