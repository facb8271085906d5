/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * Which software each member runs, from its NodeInfo, for the status page and for policies on
 * software (a block of some software's servers, later).
 *
 * A check of a domain GETs ORIGIN/.well-known/nodeinfo, follows its link to the 2.1 (else 2.0)
 * document and reads software.name and software.version. Both GETs go through the fetcher:
 * bounded in time, size and redirects, http(s) only, past the SSRF guard like every fetch. The
 * result is stored on every member of the domain, in every network; a failed check stores only
 * its time, so the members keep what the last good check found and the failure is tried again
 * at the next round, never sooner. Checks are unsigned: NodeInfo is public everywhere.
 *
 * When: the daemon asks for a check when a member becomes accepted (the inbox tells it), and a
 * timer on the main loop sweeps every [federation] nodeinfo-refresh seconds' worth of members:
 * it wakes 24 times per interval (at most once an hour), lists the accepted members whose
 * domain was last checked an interval ago or never (members approved by an admin, members of
 * a database from before schema 2), and checks those domains oldest first, at most two at a
 * time, one started per pacing step so that a thousand members are not fetched at once.
 */

#include "config.h"

#include <string.h>

#include "relay-discovery.h"
#include "relay-fed-error.h"
#include "relay-log.h"
#include "relay-nodeinfo-refresher.h"

#define RELAY_NODEINFO_WELL_KNOWN	     "/.well-known/nodeinfo"
#define RELAY_NODEINFO_SWEEP_MAX_CHECKS	     2
#define RELAY_NODEINFO_SWEEPS_PER_INTERVAL   24
#define RELAY_NODEINFO_SWEEP_MAX_PERIOD_S    3600
#define RELAY_NODEINFO_FIRST_SWEEP_MAX_S     30
#define RELAY_NODEINFO_PACE_MIN_MS	     20
#define RELAY_NODEINFO_PACE_MAX_MS	     1000
#define RELAY_NODEINFO_LOGGED_ERROR_CHARS    200
#define RELAY_NODEINFO_LOGGED_SOFTWARE_CHARS 64

struct _RelayNodeinfoRefresher {
	GObject parent_instance;
	RelayStore *store;
	RelayFetcher *fetcher;
	guint interval_s;
	gboolean started;
	guint sweep_id;	    /* the next sweep */
	guint pace_id;	    /* the next check a sweep starts */
	gboolean listing;   /* a sweep is listing the members that are due */
	GQueue due;	    /* (element-type RelayNodeinfoTarget): what the sweep checks next */
	GHashTable *active; /* (element-type utf8): domains the sweep has queued or is checking */
	guint sweep_checks; /* checks of the sweep running */
	guint in_flight;    /* every check running */
	GCancellable *cancellable;
};

G_DEFINE_FINAL_TYPE(RelayNodeinfoRefresher, relay_nodeinfo_refresher, G_TYPE_OBJECT)

enum { SIGNAL_SOFTWARE_CHECKED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = {0};

/* a domain to check, and the origin its NodeInfo is under */
typedef struct {
	gchar *domain;
	gchar *origin;
	gint64 checked_us; /* the last check; sweeps check the oldest first */
} RelayNodeinfoTarget;

static void
relay_nodeinfo_target_free(RelayNodeinfoTarget *target)
{
	if (target == NULL)
		return;
	g_free(target->domain);
	g_free(target->origin);
	g_free(target);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayNodeinfoTarget, relay_nodeinfo_target_free)

/* the target of the member whose actor is @actor; NULL when it is not an http(s) URL */
static RelayNodeinfoTarget *
relay_nodeinfo_target_new(const gchar *actor)
{
	g_autoptr(GUri) uri = actor != NULL ? g_uri_parse(actor, G_URI_FLAGS_ENCODED, NULL) : NULL;
	RelayNodeinfoTarget *target;
	const gchar *scheme;

	if (uri == NULL || g_uri_get_host(uri) == NULL || g_uri_get_host(uri)[0] == '\0')
		return NULL;
	scheme = g_uri_get_scheme(uri);
	if (g_strcmp0(scheme, "https") != 0 && g_strcmp0(scheme, "http") != 0)
		return NULL;
	target = g_new0(RelayNodeinfoTarget, 1);
	/* the domain as the store has it: the same function made the members' */
	target->domain = relay_store_host_of_url(actor);
	/* brackets an IPv6 literal again */
	target->origin = g_uri_join(G_URI_FLAGS_ENCODED,
				    scheme,
				    NULL,
				    g_uri_get_host(uri),
				    g_uri_get_port(uri),
				    "",
				    NULL,
				    NULL);
	return target;
}

/* one check of one domain */
typedef struct {
	RelayNodeinfoTarget *target;
	gchar *software_name;	 /* (nullable): what the check found */
	gchar *software_version; /* (nullable) */
	GError *failure;	 /* (nullable): why the check failed */
	gint64 checked_at_us;
	guint updated; /* members of the domain */
} RelayNodeinfoCheck;

static void
relay_nodeinfo_check_free(RelayNodeinfoCheck *check)
{
	relay_nodeinfo_target_free(check->target);
	g_free(check->software_name);
	g_free(check->software_version);
	g_clear_error(&check->failure);
	g_free(check);
}

static void
relay_nodeinfo_check_done(GTask *task, GError *error)
{
	RelayNodeinfoRefresher *self = g_task_get_source_object(task);

	self->in_flight--;
	if (error != NULL)
		g_task_return_error(task, error);
	else
		g_task_return_boolean(task, TRUE);
}

/* runs on a store worker */
static void
relay_nodeinfo_record_run(RelayStore *store, GTask *task, gpointer data, GCancellable *cancellable)
{
	RelayNodeinfoCheck *check = data;
	g_autoptr(GError) error = NULL;

	if (!relay_store_member_software_put(store,
					     check->target->domain,
					     check->software_name,
					     check->software_version,
					     check->checked_at_us,
					     &check->updated,
					     cancellable,
					     &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

static void
relay_nodeinfo_recorded_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	RelayNodeinfoRefresher *self = g_task_get_source_object(task);
	RelayNodeinfoCheck *check = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;

	if (!g_task_propagate_boolean(G_TASK(res), &error)) {
		g_prefix_error(&error, "nodeinfo of %s: ", check->target->domain);
		relay_nodeinfo_check_done(task, g_steal_pointer(&error));
		return;
	}
	if (check->failure != NULL) {
		g_autofree gchar *reason = relay_log_sanitize(check->failure->message,
							      RELAY_NODEINFO_LOGGED_ERROR_CHARS);
		g_message("nodeinfo: %s: %s; checked again in the next round",
			  check->target->domain,
			  reason);
	} else {
		g_autofree gchar *name = relay_log_sanitize(check->software_name,
							    RELAY_NODEINFO_LOGGED_SOFTWARE_CHARS);
		g_autofree gchar *version = relay_log_sanitize(
			check->software_version != NULL ? check->software_version : "(no version)",
			RELAY_NODEINFO_LOGGED_SOFTWARE_CHARS);
		g_info("nodeinfo: %s runs %s %s (%u members)",
		       check->target->domain,
		       name,
		       version,
		       check->updated);
	}
	g_signal_emit(self,
		      signals[SIGNAL_SOFTWARE_CHECKED],
		      0,
		      check->target->domain,
		      check->software_name,
		      check->software_version);
	relay_nodeinfo_check_done(task,
				  check->failure != NULL ? g_error_copy(check->failure) : NULL);
}

/* stores the outcome of the check, found or failed */
static void
relay_nodeinfo_record(GTask *task)
{
	RelayNodeinfoRefresher *self = g_task_get_source_object(task);
	RelayNodeinfoCheck *check = g_task_get_task_data(task);

	check->checked_at_us = g_get_real_time();
	relay_store_run_async(self->store,
			      relay_nodeinfo_record_run,
			      check,
			      NULL,
			      relay_nodeinfo_record,
			      NULL,
			      relay_nodeinfo_recorded_cb,
			      task);
}

static void
relay_nodeinfo_failed(GTask *task, GError *error)
{
	RelayNodeinfoCheck *check = g_task_get_task_data(task);

	/* stopping: nothing was learnt, nothing is recorded */
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		relay_nodeinfo_check_done(task, error);
		g_object_unref(task);
		return;
	}
	check->failure = error;
	relay_nodeinfo_record(task);
}

static void
relay_nodeinfo_document_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	RelayNodeinfoCheck *check = g_task_get_task_data(task);
	g_autoptr(JsonNode) document = NULL;
	GError *error = NULL;

	document = relay_fetcher_fetch_json_finish(RELAY_FETCHER(source), res, NULL, &error);
	if (document == NULL ||
	    !relay_nodeinfo_software_parse(
		    document, &check->software_name, &check->software_version, &error)) {
		relay_nodeinfo_failed(task, error);
		return;
	}
	relay_nodeinfo_record(task);
}

static void
relay_nodeinfo_links_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GTask *task = G_TASK(user_data);
	RelayNodeinfoRefresher *self = g_task_get_source_object(task);
	g_autoptr(JsonNode) links = NULL;
	g_autofree gchar *links_url = NULL;
	g_autofree gchar *document_url = NULL;
	GError *error = NULL;

	links = relay_fetcher_fetch_json_finish(RELAY_FETCHER(source), res, &links_url, &error);
	if (links != NULL)
		document_url = relay_nodeinfo_links_parse(links, links_url, &error);
	if (document_url == NULL) {
		relay_nodeinfo_failed(task, error);
		return;
	}
	relay_fetcher_fetch_json_async(self->fetcher,
				       document_url,
				       NULL,
				       g_task_get_cancellable(task),
				       relay_nodeinfo_document_cb,
				       task);
}

/* checks @target (taken) for @task, which owns the check and returns a boolean */
static void
relay_nodeinfo_check_start(RelayNodeinfoRefresher *self, GTask *task, RelayNodeinfoTarget *target)
{
	RelayNodeinfoCheck *check = g_new0(RelayNodeinfoCheck, 1);
	g_autofree gchar *url = g_strconcat(target->origin, RELAY_NODEINFO_WELL_KNOWN, NULL);

	check->target = target;
	g_task_set_task_data(task, check, (GDestroyNotify)relay_nodeinfo_check_free);
	self->in_flight++;
	relay_fetcher_fetch_json_async(self->fetcher,
				       url,
				       NULL,
				       g_task_get_cancellable(task),
				       relay_nodeinfo_links_cb,
				       task);
}

/**
 * relay_nodeinfo_refresher_refresh_member_async:
 * @actor: a member's actor id
 * @cancellable: (nullable): a #GCancellable; %NULL: the check stops with the refresher
 *
 * Checks the NodeInfo of @actor's domain now and stores what it says on every member of that
 * domain, in every network (a failed check stores only its time). The result is logged and
 * emitted as #RelayNodeinfoRefresher::software-checked too.
 */
void
relay_nodeinfo_refresher_refresh_member_async(RelayNodeinfoRefresher *self,
					      const gchar *actor,
					      GCancellable *cancellable,
					      GAsyncReadyCallback callback,
					      gpointer user_data)
{
	GTask *task;
	RelayNodeinfoTarget *target;

	g_return_if_fail(RELAY_IS_NODEINFO_REFRESHER(self));
	task = g_task_new(
		self, cancellable != NULL ? cancellable : self->cancellable, callback, user_data);
	g_task_set_source_tag(task, relay_nodeinfo_refresher_refresh_member_async);
	target = relay_nodeinfo_target_new(actor);
	if (target == NULL) {
		g_task_return_new_error(task,
					RELAY_FED_ERROR,
					RELAY_FED_ERROR_INVALID_DOCUMENT,
					"'%s' is not an http or https actor id",
					actor != NULL ? actor : "(null)");
		g_object_unref(task);
		return;
	}
	relay_nodeinfo_check_start(self, task, target);
}

/**
 * relay_nodeinfo_refresher_refresh_member_finish:
 * @out_software_name: (out) (optional) (transfer full): software.name, lower case
 * @out_software_version: (out) (optional) (transfer full) (nullable): software.version
 *
 * Returns: %TRUE when the check found the software (and stored it)
 */
gboolean
relay_nodeinfo_refresher_refresh_member_finish(RelayNodeinfoRefresher *self,
					       GAsyncResult *res,
					       gchar **out_software_name,
					       gchar **out_software_version,
					       GError **error)
{
	RelayNodeinfoCheck *check;

	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	if (!g_task_propagate_boolean(G_TASK(res), error))
		return FALSE;
	check = g_task_get_task_data(G_TASK(res));
	if (out_software_name != NULL)
		*out_software_name = g_strdup(check->software_name);
	if (out_software_version != NULL)
		*out_software_version = g_strdup(check->software_version);
	return TRUE;
}

/* ---- sweeps -------------------------------------------------------------------------------- */

static guint
relay_nodeinfo_sweep_period_s(RelayNodeinfoRefresher *self)
{
	return CLAMP(self->interval_s / RELAY_NODEINFO_SWEEPS_PER_INTERVAL,
		     1,
		     RELAY_NODEINFO_SWEEP_MAX_PERIOD_S);
}

static void
relay_nodeinfo_sweep_pump(RelayNodeinfoRefresher *self);

static gboolean
relay_nodeinfo_pace_cb(gpointer user_data)
{
	RelayNodeinfoRefresher *self = RELAY_NODEINFO_REFRESHER(user_data);
	self->pace_id = 0;
	relay_nodeinfo_sweep_pump(self);
	return G_SOURCE_REMOVE;
}

static void
relay_nodeinfo_sweep_checked_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	RelayNodeinfoRefresher *self = RELAY_NODEINFO_REFRESHER(source);
	g_autofree gchar *domain = user_data;
	g_autoptr(GError) error = NULL;

	/* the outcome is logged where it is stored */
	if (!g_task_propagate_boolean(G_TASK(res), &error))
		g_debug("nodeinfo sweep: %s: %s", domain, error->message);
	self->sweep_checks--;
	if (self->active != NULL)
		g_hash_table_remove(self->active, domain);
	relay_nodeinfo_sweep_pump(self);
}

/* starts the next queued check, then waits a pacing step before the one after */
static void
relay_nodeinfo_sweep_pump(RelayNodeinfoRefresher *self)
{
	guint pace_ms;
	RelayNodeinfoTarget *target;
	GTask *task;

	if (!self->started || self->pace_id != 0 || g_queue_is_empty(&self->due) ||
	    self->sweep_checks >= RELAY_NODEINFO_SWEEP_MAX_CHECKS)
		return;
	target = g_queue_pop_head(&self->due);
	task = g_task_new(
		self, self->cancellable, relay_nodeinfo_sweep_checked_cb, g_strdup(target->domain));
	g_task_set_source_tag(task, relay_nodeinfo_sweep_pump);
	self->sweep_checks++;
	relay_nodeinfo_check_start(self, task, target);
	if (g_queue_is_empty(&self->due))
		return;
	/* the round's checks spread over half a sweep period, within bounds */
	pace_ms = relay_nodeinfo_sweep_period_s(self) * 1000 / 2 /
		  (g_queue_get_length(&self->due) + 1);
	pace_ms = CLAMP(pace_ms, RELAY_NODEINFO_PACE_MIN_MS, RELAY_NODEINFO_PACE_MAX_MS);
	self->pace_id = g_timeout_add(pace_ms, relay_nodeinfo_pace_cb, self);
}

static gint
relay_nodeinfo_target_compare(gconstpointer a, gconstpointer b)
{
	const RelayNodeinfoTarget *target_a = *(const RelayNodeinfoTarget **)a;
	const RelayNodeinfoTarget *target_b = *(const RelayNodeinfoTarget **)b;

	if (target_a->checked_us != target_b->checked_us)
		return target_a->checked_us < target_b->checked_us ? -1 : 1;
	return g_strcmp0(target_a->domain, target_b->domain);
}

/* runs on a store worker: the domains of accepted members due for a check, oldest first */
static void
relay_nodeinfo_list_due_run(RelayStore *store,
			    GTask *task,
			    gpointer data,
			    GCancellable *cancellable)
{
	gint64 interval_us = *(gint64 *)data;
	gint64 now_us = g_get_real_time();
	g_autoptr(GPtrArray) members = NULL;
	g_autoptr(GHashTable) domains = g_hash_table_new_full(
		g_str_hash, g_str_equal, NULL, (GDestroyNotify)relay_nodeinfo_target_free);
	g_autoptr(GPtrArray) due =
		g_ptr_array_new_with_free_func((GDestroyNotify)relay_nodeinfo_target_free);
	g_autoptr(GError) error = NULL;
	GHashTableIter iter;
	gpointer value;

	members = relay_store_member_list(
		store, NULL, RELAY_MEMBER_STATE_ACCEPTED, cancellable, &error);
	if (members == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	for (guint i = 0; i < members->len; i++) {
		const RelayMember *member = g_ptr_array_index(members, i);
		RelayNodeinfoTarget *target = g_hash_table_lookup(domains, member->domain);

		if (target == NULL) {
			target = relay_nodeinfo_target_new(member->actor);
			if (target == NULL)
				continue;
			target->checked_us = member->nodeinfo_checked_us;
			g_hash_table_insert(domains, target->domain, target);
		}
		/* a member that joined since the last check of its domain has never been checked */
		target->checked_us = MIN(target->checked_us, member->nodeinfo_checked_us);
	}
	g_hash_table_iter_init(&iter, domains);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		RelayNodeinfoTarget *target = value;
		if (target->checked_us != 0 && now_us - target->checked_us < interval_us)
			continue;
		g_hash_table_iter_steal(&iter);
		g_ptr_array_add(due, target);
	}
	g_ptr_array_sort(due, relay_nodeinfo_target_compare);
	g_task_return_pointer(task, g_steal_pointer(&due), (GDestroyNotify)g_ptr_array_unref);
}

static void
relay_nodeinfo_listed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(RelayNodeinfoRefresher) self = RELAY_NODEINFO_REFRESHER(user_data);
	g_autoptr(GPtrArray) due = NULL;
	g_autoptr(GError) error = NULL;
	guint queued = 0;

	self->listing = FALSE;
	due = g_task_propagate_pointer(G_TASK(res), &error);
	if (due == NULL) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			g_message("nodeinfo: cannot list the members: %s; trying again in the "
				  "next round",
				  error->message);
		return;
	}
	if (!self->started)
		return;
	for (guint i = 0; i < due->len; i++) {
		RelayNodeinfoTarget *target = g_ptr_array_index(due, i);
		if (g_hash_table_contains(self->active, target->domain))
			continue;
		g_hash_table_add(self->active, g_strdup(target->domain));
		/* the array keeps a NULL, which its free function skips */
		g_queue_push_tail(&self->due, g_steal_pointer(&due->pdata[i]));
		queued++;
	}
	if (queued > 0)
		g_debug("nodeinfo: %u domains to check this round", queued);
	relay_nodeinfo_sweep_pump(self);
}

static void
relay_nodeinfo_sweep_arm(RelayNodeinfoRefresher *self, guint delay_s);

static gboolean
relay_nodeinfo_sweep_cb(gpointer user_data)
{
	RelayNodeinfoRefresher *self = RELAY_NODEINFO_REFRESHER(user_data);
	gint64 *interval_us;

	self->sweep_id = 0;
	relay_nodeinfo_sweep_arm(self, relay_nodeinfo_sweep_period_s(self));
	/* a round still going (a long queue) goes on; the next sweep picks up what it misses */
	if (self->listing || !g_queue_is_empty(&self->due))
		return G_SOURCE_REMOVE;
	self->listing = TRUE;
	interval_us = g_new(gint64, 1);
	*interval_us = (gint64)self->interval_s * G_USEC_PER_SEC;
	relay_store_run_async(self->store,
			      relay_nodeinfo_list_due_run,
			      interval_us,
			      g_free,
			      relay_nodeinfo_sweep_cb,
			      self->cancellable,
			      relay_nodeinfo_listed_cb,
			      g_object_ref(self));
	return G_SOURCE_REMOVE;
}

static void
relay_nodeinfo_sweep_arm(RelayNodeinfoRefresher *self, guint delay_s)
{
	g_clear_handle_id(&self->sweep_id, g_source_remove);
	self->sweep_id = g_timeout_add_seconds(delay_s, relay_nodeinfo_sweep_cb, self);
}

/**
 * relay_nodeinfo_refresher_start:
 *
 * Starts the sweeps: the first one soon (within half a minute), then one per sweep period.
 */
void
relay_nodeinfo_refresher_start(RelayNodeinfoRefresher *self)
{
	g_return_if_fail(RELAY_IS_NODEINFO_REFRESHER(self));
	if (self->started)
		return;
	self->started = TRUE;
	if (g_cancellable_is_cancelled(self->cancellable)) {
		g_object_unref(self->cancellable);
		self->cancellable = g_cancellable_new();
	}
	relay_nodeinfo_sweep_arm(
		self, MIN(relay_nodeinfo_sweep_period_s(self), RELAY_NODEINFO_FIRST_SWEEP_MAX_S));
}

/**
 * relay_nodeinfo_refresher_stop:
 *
 * Stops the sweeps and cancels every check in flight; nothing more is stored.
 */
void
relay_nodeinfo_refresher_stop(RelayNodeinfoRefresher *self)
{
	g_return_if_fail(RELAY_IS_NODEINFO_REFRESHER(self));
	self->started = FALSE;
	g_clear_handle_id(&self->sweep_id, g_source_remove);
	g_clear_handle_id(&self->pace_id, g_source_remove);
	g_queue_clear_full(&self->due, (GDestroyNotify)relay_nodeinfo_target_free);
	g_hash_table_remove_all(self->active);
	g_cancellable_cancel(self->cancellable);
}

/**
 * relay_nodeinfo_refresher_set_interval:
 * @interval_s: how old a check may get before the sweeps check the domain again
 */
void
relay_nodeinfo_refresher_set_interval(RelayNodeinfoRefresher *self, guint interval_s)
{
	g_return_if_fail(RELAY_IS_NODEINFO_REFRESHER(self));
	interval_s = MAX(interval_s, 1);
	if (interval_s == self->interval_s)
		return;
	self->interval_s = interval_s;
	if (self->started)
		relay_nodeinfo_sweep_arm(self, relay_nodeinfo_sweep_period_s(self));
}

guint
relay_nodeinfo_refresher_get_interval(RelayNodeinfoRefresher *self)
{
	g_return_val_if_fail(RELAY_IS_NODEINFO_REFRESHER(self), 0);
	return self->interval_s;
}

/**
 * relay_nodeinfo_refresher_get_in_flight:
 *
 * Returns: how many checks are running
 */
guint
relay_nodeinfo_refresher_get_in_flight(RelayNodeinfoRefresher *self)
{
	g_return_val_if_fail(RELAY_IS_NODEINFO_REFRESHER(self), 0);
	return self->in_flight;
}

/**
 * relay_nodeinfo_refresher_new:
 * @store: where the members are
 * @fetcher: what fetches the documents
 * @interval_s: [federation] nodeinfo-refresh
 *
 * Returns: (transfer full): a refresher, its sweeps not started
 */
RelayNodeinfoRefresher *
relay_nodeinfo_refresher_new(RelayStore *store, RelayFetcher *fetcher, guint interval_s)
{
	RelayNodeinfoRefresher *self = g_object_new(RELAY_TYPE_NODEINFO_REFRESHER, NULL);
	self->store = g_object_ref(store);
	self->fetcher = g_object_ref(fetcher);
	self->interval_s = MAX(interval_s, 1);
	return self;
}

static void
relay_nodeinfo_refresher_dispose(GObject *object)
{
	RelayNodeinfoRefresher *self = RELAY_NODEINFO_REFRESHER(object);

	if (self->active != NULL)
		relay_nodeinfo_refresher_stop(self);
	g_clear_pointer(&self->active, g_hash_table_unref);
	g_clear_object(&self->cancellable);
	g_clear_object(&self->fetcher);
	g_clear_object(&self->store);
	G_OBJECT_CLASS(relay_nodeinfo_refresher_parent_class)->dispose(object);
}

static void
relay_nodeinfo_refresher_init(RelayNodeinfoRefresher *self)
{
	g_queue_init(&self->due);
	self->active = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	self->cancellable = g_cancellable_new();
}

static void
relay_nodeinfo_refresher_class_init(RelayNodeinfoRefresherClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = relay_nodeinfo_refresher_dispose;

	/**
	 * RelayNodeinfoRefresher::software-checked:
	 * @domain: the members' domain
	 * @software_name: (nullable): what NodeInfo says, lower case; %NULL when the check failed
	 * @software_version: (nullable): its version
	 *
	 * A check of @domain was stored on its members: where a policy on software hooks in.
	 */
	signals[SIGNAL_SOFTWARE_CHECKED] = g_signal_new("software-checked",
							G_TYPE_FROM_CLASS(klass),
							G_SIGNAL_RUN_LAST,
							0,
							NULL,
							NULL,
							NULL,
							G_TYPE_NONE,
							3,
							G_TYPE_STRING,
							G_TYPE_STRING,
							G_TYPE_STRING);
}
