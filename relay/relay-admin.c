/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * The admin API: the running node listens on a Unix socket ([admin] socket, mode 0600) and the
 * `relay` command talks to it (relay-cli.c), so that nothing edits the database behind the
 * node's back.
 *
 * Protocol: one request per connection, one line of JSON each way:
 *   → {"command":"members-approve","args":{"domain":"a.example","network":"relay"}}
 *   ← {"ok":true,"data":{...}}  or  {"ok":false,"error":"clear message","code":"not-found"}
 * Codes: not-found, invalid (a value is wrong), unknown-command, bad-request (not our
 * protocol), forbidden (a peer that is neither the node's user nor root), too-large, storage,
 * failed. A change (data.message says what was done) is logged at message level with the
 * peer's uid: "admin uid 1000: block spam.example (reason: spam): ..."; a read at info level.
 *
 * Every command is a row of the table at the bottom: an optional main-context step before the
 * store job (prepare), the job itself on a store worker (all storage work, through the sync API,
 * never on the main loop), and an optional main-context step that adds what only the process
 * knows (finish: the engine's breakers, uptime). The socket is created safely: its directory
 * must exist, be a directory, and be writable by nobody but its owner (the node's user or
 * root) unless it is root's sticky directory; an existing socket is replaced only when nothing
 * answers on it (a stale one), never when another node listens; anything else at the path is
 * refused. The socket is bound under umask 077, checked to be mode 0600, and removed at a clean
 * stop (only if it is still ours).
 */

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gio/gunixsocketaddress.h>
#include <json-glib/json-glib.h>

#include "relay-activity.h"
#include "relay-admin.h"
#include "relay-block-subscriptions.h"
#include "relay-blocklist.h"
#include "relay-error.h"
#include "relay-log.h"
#include "relay-membership.h"
#include "relay-network.h"

/* a client that sends nothing for this long is dropped */
#define RELAY_ADMIN_TIMEOUT_S  60
#define RELAY_ADMIN_READ_CHUNK (64 * 1024)

struct _RelayAdmin {
	GObject parent_instance;
	RelayConfig *config;
	RelayStore *store;
	RelayDeliverer *deliverer;
	RelayBlockPoller *block_poller; /* (nullable): fetches subscribed block lists */
	GHashTable *networks;		/* (nullable) (element-type utf8 RelayNetwork) */
	RelayActorCache *actor_cache;	/* (nullable): peers add fetches the remote network */
	RelayPeerTraffic *peer_traffic; /* (nullable): peers list shows it */
	GSocketService *service;
	gchar *path;
	dev_t socket_dev;
	ino_t socket_ino;
	gint64 started_us; /* real time */
	gint64 started_monotonic_us;
};

G_DEFINE_FINAL_TYPE(RelayAdmin, relay_admin, G_TYPE_OBJECT)

/* a network as the store jobs see it: copied, so the job needs nothing from the main context */
typedef struct {
	gchar *name;
	gchar *actor;
	gchar *inbox;
	RelayNetworkConfig *config;
} RelayAdminNetwork;

static void
relay_admin_network_free(RelayAdminNetwork *network)
{
	g_free(network->name);
	g_free(network->actor);
	g_free(network->inbox);
	relay_network_config_free(network->config);
	g_free(network);
}

typedef struct _RelayAdminJob RelayAdminJob;

/* runs on a store worker; returns the response's data, or %NULL with @error */
typedef JsonNode *(*RelayAdminJobFunc)(RelayStore *store,
				       RelayAdminJob *job,
				       GCancellable *cancellable,
				       GError **error);

/* what a store job gets (copies of the request's arguments) and gives back */
struct _RelayAdminJob {
	/* in */
	gchar *domain;
	gchar *network;
	gchar *state;
	gchar *direction;
	gchar *reason;
	gchar *host;
	gchar *name;
	gchar *csv;
	gchar *file;
	gchar *url;
	gchar *mode;
	gboolean advice;	/* blocks list --advice */
	RelayRemoteActor *peer; /* (nullable): peers add: the remote network's actor, fetched */
	GPtrArray *networks;	/* (element-type RelayAdminNetwork): default network first */
	gchar *origin;
	gint64 now_us;
	gboolean troubled;     /* queue retry: the engine knew the host as failing or paused */
	RelayAdminJobFunc run; /* the command's step */
	/* out */
	gboolean queued; /* deliveries were queued: wake the engine */
	gchar *summary;	 /* what changed, for the audit log */
};

static void
relay_admin_job_free(RelayAdminJob *job)
{
	g_free(job->domain);
	g_free(job->network);
	g_free(job->state);
	g_free(job->direction);
	g_free(job->reason);
	g_free(job->host);
	g_free(job->name);
	g_free(job->csv);
	g_free(job->file);
	g_free(job->url);
	g_free(job->mode);
	g_clear_pointer(&job->peer, relay_remote_actor_free);
	g_clear_pointer(&job->networks, g_ptr_array_unref);
	g_free(job->origin);
	g_free(job->summary);
	g_free(job);
}

typedef struct _RelayAdminRequest RelayAdminRequest;

typedef struct {
	const gchar *name;
	gboolean changes; /* an admin's change: logged at message level */
	void (*prepare)(RelayAdminRequest *request);
	RelayAdminJobFunc run;
	void (*finish)(RelayAdminRequest *request, JsonObject *data);
	/* (nullable): a main-context step before the job that needs the network (a fetch); it
	 * ends with relay_admin_request_run_job() or a refusal */
	void (*fetch)(RelayAdminRequest *request);
} RelayAdminCommand;

struct _RelayAdminRequest {
	RelayAdmin *admin;
	GSocketConnection *connection;
	GCancellable *cancellable;
	GByteArray *buffer;
	guint timeout_id;
	guint uid;
	const RelayAdminCommand *command;
	gchar *what; /* the request as the audit log tells it */
	RelayAdminJob *job;
	gchar *response;
};

static void
relay_admin_request_free(RelayAdminRequest *request)
{
	g_clear_handle_id(&request->timeout_id, g_source_remove);
	g_object_unref(request->connection);
	g_object_unref(request->cancellable);
	g_byte_array_unref(request->buffer);
	g_free(request->what);
	g_clear_pointer(&request->job, relay_admin_job_free);
	g_free(request->response);
	g_object_unref(request->admin);
	g_free(request);
}

/* errors and JSON helpers */

static const gchar *
relay_admin_error_code(const GError *error)
{
	if (g_error_matches(error, RELAY_ERROR, RELAY_ERROR_NOT_FOUND))
		return "not-found";
	if (g_error_matches(error, RELAY_ERROR, RELAY_ERROR_INVALID_ARGUMENT))
		return "invalid";
	if (error->domain == RELAY_STORE_ERROR)
		return "storage";
	return "failed";
}

/* an ISO 8601 UTC time, or NULL for 0 */
static gchar *
relay_admin_time_string(gint64 time_us)
{
	g_autoptr(GDateTime) time = NULL;

	if (time_us <= 0)
		return NULL;
	time = g_date_time_new_from_unix_utc(time_us / G_USEC_PER_SEC);
	if (time == NULL)
		return NULL;
	return g_date_time_format(time, "%Y-%m-%dT%H:%M:%SZ");
}

static void
relay_admin_add_string(JsonBuilder *builder, const gchar *name, const gchar *value)
{
	json_builder_set_member_name(builder, name);
	if (value != NULL)
		json_builder_add_string_value(builder, value);
	else
		json_builder_add_null_value(builder);
}

static void
relay_admin_add_int(JsonBuilder *builder, const gchar *name, gint64 value)
{
	json_builder_set_member_name(builder, name);
	json_builder_add_int_value(builder, value);
}

static void
relay_admin_add_time(JsonBuilder *builder, const gchar *name, gint64 time_us)
{
	g_autofree gchar *text = relay_admin_time_string(time_us);
	relay_admin_add_string(builder, name, text);
}

static void
relay_admin_add_strv(JsonBuilder *builder, const gchar *name, gchar **values)
{
	json_builder_set_member_name(builder, name);
	json_builder_begin_array(builder);
	for (guint i = 0; values != NULL && values[i] != NULL; i++)
		json_builder_add_string_value(builder, values[i]);
	json_builder_end_array(builder);
}

/* what a pending member waits for: the admin, its own Accept of our follow-back, or (a peer)
 * its Follow of us */
static const gchar *
relay_admin_member_waiting_for(const RelayMember *member)
{
	if (member->state != RELAY_MEMBER_STATE_PENDING)
		return NULL;
	if (member->is_peer)
		return "their-follow";
	return member->follow_back_id != NULL ? "their-accept" : "approval";
}

static void
relay_admin_add_member(JsonBuilder *builder, const RelayMember *member)
{
	json_builder_begin_object(builder);
	relay_admin_add_string(builder, "network", member->network);
	relay_admin_add_string(builder, "domain", member->domain);
	relay_admin_add_string(builder, "actor", member->actor);
	relay_admin_add_string(builder, "state", relay_member_state_to_string(member->state));
	relay_admin_add_string(builder, "waiting_for", relay_admin_member_waiting_for(member));
	relay_admin_add_string(
		builder, "direction", relay_member_direction_to_string(member->direction));
	relay_admin_add_string(
		builder, "protocol", relay_member_protocol_to_string(member->protocol));
	json_builder_set_member_name(builder, "peer");
	json_builder_add_boolean_value(builder, member->is_peer);
	relay_admin_add_string(builder, "inbox", member->inbox);
	relay_admin_add_string(builder, "shared_inbox", member->shared_inbox);
	relay_admin_add_string(builder, "follow_id", member->follow_id);
	relay_admin_add_string(builder, "software", member->software_name);
	relay_admin_add_string(builder, "software_version", member->software_version);
	json_builder_set_member_name(builder, "following_back");
	json_builder_add_boolean_value(builder, member->follow_back_id != NULL);
	relay_admin_add_time(builder, "created_at", member->created_at_us);
	relay_admin_add_time(builder, "last_seen_at", member->last_seen_us);
	json_builder_end_object(builder);
}

/* the data of a change: what was done, in words, and the details */
static JsonNode *
relay_admin_change_data(RelayAdminJob *job, JsonBuilder *builder)
{
	relay_admin_add_string(builder, "message", job->summary);
	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}

/* networks */

static const RelayAdminNetwork *
relay_admin_job_find_network(RelayAdminJob *job, const gchar *name)
{
	for (guint i = 0; i < job->networks->len; i++) {
		const RelayAdminNetwork *network = g_ptr_array_index(job->networks, i);
		if (g_strcmp0(network->name, name) == 0)
			return network;
	}
	return NULL;
}

/* the network named in the request, if one is: a name that is not configured is an error */
static gboolean
relay_admin_job_check_network(RelayAdminJob *job, const gchar *name, GError **error)
{
	g_autoptr(GString) names = g_string_new(NULL);

	if (name == NULL || relay_admin_job_find_network(job, name) != NULL)
		return TRUE;
	for (guint i = 0; i < job->networks->len; i++) {
		const RelayAdminNetwork *network = g_ptr_array_index(job->networks, i);
		g_string_append_printf(names, "%s%s", i > 0 ? ", " : "", network->name);
	}
	g_set_error(error,
		    RELAY_ERROR,
		    RELAY_ERROR_NOT_FOUND,
		    "no network named '%s' (this node has: %s)",
		    name,
		    names->str);
	return FALSE;
}

/* members */

/* a member is named by its domain (with or without its port) or by its actor's URL */
static gboolean
relay_admin_member_matches(const RelayMember *member, const gchar *target)
{
	const gchar *colon;

	if (g_str_has_prefix(target, "https://") || g_str_has_prefix(target, "http://"))
		return g_strcmp0(member->actor, target) == 0;
	if (g_ascii_strcasecmp(member->domain, target) == 0)
		return TRUE;
	colon = strrchr(member->domain, ':');
	return strchr(target, ':') == NULL && colon != NULL &&
	       (gsize)(colon - member->domain) == strlen(target) &&
	       g_ascii_strncasecmp(member->domain, target, strlen(target)) == 0;
}

/* the request's DOMAIN, checked: a domain (a port allowed) or an actor URL */
static gchar *
relay_admin_job_member_target(RelayAdminJob *job, GError **error)
{
	gchar *domain = NULL;

	if (job->domain == NULL) {
		g_set_error_literal(
			error, RELAY_ERROR, RELAY_ERROR_INVALID_ARGUMENT, "a domain is needed");
		return NULL;
	}
	if (g_str_has_prefix(job->domain, "https://") || g_str_has_prefix(job->domain, "http://"))
		return g_strdup(job->domain);
	if (!relay_domain_normalize(job->domain, TRUE, &domain, error))
		return NULL;
	return domain;
}

/*
 * The memberships the request names: its domain in its network, or in every configured
 * network when it names none. None is an error that says where it looked.
 */
static GPtrArray *
relay_admin_job_members(RelayStore *store,
			RelayAdminJob *job,
			GCancellable *cancellable,
			GError **error)
{
	g_autofree gchar *target = relay_admin_job_member_target(job, error);
	g_autoptr(GPtrArray) members = NULL;
	g_autoptr(GPtrArray) matched = NULL;

	if (target == NULL || !relay_admin_job_check_network(job, job->network, error))
		return NULL;
	members = relay_store_member_list(store, job->network, -1, cancellable, error);
	if (members == NULL)
		return NULL;
	matched = g_ptr_array_new_with_free_func((GDestroyNotify)relay_member_free);
	for (guint i = 0; i < members->len; i++) {
		RelayMember *member = g_ptr_array_index(members, i);
		if (!relay_admin_member_matches(member, target) ||
		    relay_admin_job_find_network(job, member->network) == NULL)
			continue;
		g_ptr_array_add(matched, relay_member_copy(member));
	}
	if (matched->len == 0) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_NOT_FOUND,
			    "no member on %s%s%s",
			    target,
			    job->network != NULL ? " in network " : "",
			    job->network != NULL ? job->network : "");
		return NULL;
	}
	return g_steal_pointer(&matched);
}

/* "accepted in relay, pending in town": where the memberships stand, for refusals */
static gchar *
relay_admin_members_states(GPtrArray *members)
{
	g_autoptr(GString) text = g_string_new(NULL);

	for (guint i = 0; i < members->len; i++) {
		const RelayMember *member = g_ptr_array_index(members, i);
		g_string_append_printf(text,
				       "%s%s in %s",
				       i > 0 ? ", " : "",
				       relay_member_state_to_string(member->state),
				       member->network);
	}
	return g_string_free(g_steal_pointer(&text), FALSE);
}

static void
relay_admin_summary_add(GString *summary, const gchar *format, ...) G_GNUC_PRINTF(2, 3);

static void
relay_admin_summary_add(GString *summary, const gchar *format, ...)
{
	va_list args;

	if (summary->len > 0)
		g_string_append(summary, "\n");
	va_start(args, format);
	g_string_append_vprintf(summary, format, args);
	va_end(args);
}

static JsonNode *
relay_admin_members_list_run(RelayStore *store,
			     RelayAdminJob *job,
			     GCancellable *cancellable,
			     GError **error)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(GPtrArray) members = NULL;
	RelayMemberState state = RELAY_MEMBER_STATE_LAST;

	if (!relay_admin_job_check_network(job, job->network, error))
		return NULL;
	if (job->state != NULL && !relay_member_state_from_string(job->state, &state)) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_INVALID_ARGUMENT,
			    "unknown state '%s' (pending, accepted or rejected)",
			    job->state);
		return NULL;
	}
	members = relay_store_member_list(
		store, job->network, job->state != NULL ? (gint)state : -1, cancellable, error);
	if (members == NULL)
		return NULL;
	json_builder_begin_array(builder);
	for (guint i = 0; i < members->len; i++)
		relay_admin_add_member(builder, g_ptr_array_index(members, i));
	json_builder_end_array(builder);
	return json_builder_get_root(builder);
}

static JsonNode *
relay_admin_members_show_run(RelayStore *store,
			     RelayAdminJob *job,
			     GCancellable *cancellable,
			     GError **error)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(GPtrArray) members = relay_admin_job_members(store, job, cancellable, error);

	if (members == NULL)
		return NULL;
	json_builder_begin_array(builder);
	for (guint i = 0; i < members->len; i++)
		relay_admin_add_member(builder, g_ptr_array_index(members, i));
	json_builder_end_array(builder);
	return json_builder_get_root(builder);
}

/* approve, reject, remove and direction answer with the memberships they changed */
static JsonBuilder *
relay_admin_changed_members_begin(void)
{
	JsonBuilder *builder = json_builder_new();
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "members");
	json_builder_begin_array(builder);
	return builder;
}

static JsonNode *
relay_admin_members_approve_run(RelayStore *store,
				RelayAdminJob *job,
				GCancellable *cancellable,
				GError **error)
{
	g_autoptr(GPtrArray) members = relay_admin_job_members(store, job, cancellable, error);
	g_autoptr(JsonBuilder) builder = NULL;
	g_autoptr(GString) summary = g_string_new(NULL);

	if (members == NULL)
		return NULL;
	builder = relay_admin_changed_members_begin();
	for (guint i = 0; i < members->len; i++) {
		RelayMember *member = g_ptr_array_index(members, i);
		const RelayAdminNetwork *network =
			relay_admin_job_find_network(job, member->network);
		gboolean following_back = FALSE;

		if (g_strcmp0(relay_admin_member_waiting_for(member), "approval") != 0)
			continue;
		if (!relay_membership_approve(store,
					      member,
					      job->origin,
					      network->actor,
					      job->now_us,
					      &following_back,
					      cancellable,
					      error))
			return NULL;
		job->queued = TRUE;
		relay_admin_add_member(builder, member);
		relay_admin_summary_add(summary,
					"approved %s in %s: Accept queued%s",
					member->actor,
					member->network,
					following_back ? ", and our follow-back (it becomes a "
							 "member when it accepts it)"
						       : "");
	}
	if (summary->len == 0) {
		g_autofree gchar *states = relay_admin_members_states(members);
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_INVALID_ARGUMENT,
			    "%s has nothing waiting for approval (%s)",
			    job->domain,
			    states);
		return NULL;
	}
	json_builder_end_array(builder);
	job->summary = g_string_free(g_steal_pointer(&summary), FALSE);
	return relay_admin_change_data(job, builder);
}

/* reject (the member stays, marked rejected) and remove */
static JsonNode *
relay_admin_members_end(RelayStore *store,
			RelayAdminJob *job,
			gboolean remove,
			GCancellable *cancellable,
			GError **error)
{
	g_autoptr(GPtrArray) members = relay_admin_job_members(store, job, cancellable, error);
	g_autoptr(JsonBuilder) builder = NULL;
	g_autoptr(GString) summary = g_string_new(NULL);

	if (members == NULL)
		return NULL;
	builder = relay_admin_changed_members_begin();
	for (guint i = 0; i < members->len; i++) {
		RelayMember *member = g_ptr_array_index(members, i);
		const RelayAdminNetwork *network =
			relay_admin_job_find_network(job, member->network);
		gboolean undo = FALSE;

		if (member->state == RELAY_MEMBER_STATE_REJECTED) {
			/* it had its Reject already */
			if (!remove)
				continue;
			if (!relay_store_member_remove(
				    store, member->network, member->actor, cancellable, error))
				return NULL;
			relay_admin_add_member(builder, member);
			relay_admin_summary_add(
				summary, "removed %s from %s", member->actor, member->network);
			continue;
		}
		if (!relay_membership_end(store,
					  member,
					  job->origin,
					  network->actor,
					  remove,
					  job->now_us,
					  &undo,
					  cancellable,
					  error))
			return NULL;
		job->queued = TRUE;
		relay_admin_add_member(builder, member);
		relay_admin_summary_add(summary,
					"%s %s %s %s: Reject queued%s",
					remove ? "removed" : "rejected",
					member->actor,
					remove ? "from" : "in",
					member->network,
					undo ? ", and an Undo of our follow-back" : "");
	}
	if (summary->len == 0) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_INVALID_ARGUMENT,
			    "%s is already rejected",
			    job->domain);
		return NULL;
	}
	json_builder_end_array(builder);
	job->summary = g_string_free(g_steal_pointer(&summary), FALSE);
	return relay_admin_change_data(job, builder);
}

static JsonNode *
relay_admin_members_reject_run(RelayStore *store,
			       RelayAdminJob *job,
			       GCancellable *cancellable,
			       GError **error)
{
	return relay_admin_members_end(store, job, FALSE, cancellable, error);
}

static JsonNode *
relay_admin_members_remove_run(RelayStore *store,
			       RelayAdminJob *job,
			       GCancellable *cancellable,
			       GError **error)
{
	return relay_admin_members_end(store, job, TRUE, cancellable, error);
}

static JsonNode *
relay_admin_members_direction_run(RelayStore *store,
				  RelayAdminJob *job,
				  GCancellable *cancellable,
				  GError **error)
{
	g_autoptr(GPtrArray) members = NULL;
	g_autoptr(JsonBuilder) builder = NULL;
	g_autoptr(GString) summary = g_string_new(NULL);
	RelayMemberDirection direction = RELAY_MEMBER_DIRECTION_BOTH;

	if (job->direction == NULL ||
	    !relay_member_direction_from_string(job->direction, &direction)) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_INVALID_ARGUMENT,
			    "unknown direction '%s' (both, receive-only or publish-only)",
			    job->direction != NULL ? job->direction : "");
		return NULL;
	}
	members = relay_admin_job_members(store, job, cancellable, error);
	if (members == NULL)
		return NULL;
	builder = relay_admin_changed_members_begin();
	for (guint i = 0; i < members->len; i++) {
		RelayMember *member = g_ptr_array_index(members, i);
		RelayMemberDirection before = member->direction;

		member->direction = direction;
		if (!relay_store_member_put(store, member, cancellable, error))
			return NULL;
		relay_admin_add_member(builder, member);
		relay_admin_summary_add(summary,
					"%s in %s: direction %s (was %s)",
					member->actor,
					member->network,
					relay_member_direction_to_string(direction),
					relay_member_direction_to_string(before));
	}
	json_builder_end_array(builder);
	job->summary = g_string_free(g_steal_pointer(&summary), FALSE);
	return relay_admin_change_data(job, builder);
}

/* domain policies */

/* the request's domain for a policy: a domain name, no port, no URL */
static gchar *
relay_admin_job_policy_domain(RelayAdminJob *job, GError **error)
{
	gchar *domain = NULL;

	if (!relay_domain_normalize(job->domain, FALSE, &domain, error))
		return NULL;
	return domain;
}

static RelayDomainPolicy *
relay_admin_policy_lookup(GPtrArray *policies,
			  const gchar *network,
			  const gchar *domain,
			  RelayPolicyKind kind)
{
	for (guint i = 0; i < policies->len; i++) {
		RelayDomainPolicy *policy = g_ptr_array_index(policies, i);
		if (policy->kind == kind && g_strcmp0(policy->network, network) == 0 &&
		    g_strcmp0(policy->domain, domain) == 0)
			return policy;
	}
	return NULL;
}

/* each configured network's actor URL, by name, for relay_membership_block() */
static GHashTable *
relay_admin_job_actors(RelayAdminJob *job)
{
	GHashTable *actors = g_hash_table_new(g_str_hash, g_str_equal);

	for (guint i = 0; job->networks != NULL && i < job->networks->len; i++) {
		const RelayAdminNetwork *network = g_ptr_array_index(job->networks, i);
		g_hash_table_insert(actors, network->name, network->actor);
	}
	return actors;
}

static void
relay_admin_member_removed_cb(const RelayMember *member, gpointer user_data)
{
	JsonBuilder *removed = user_data;

	json_builder_begin_object(removed);
	relay_admin_add_string(removed, "network", member->network);
	relay_admin_add_string(removed, "actor", member->actor);
	json_builder_end_object(removed);
}

/* a software block removes @member (see relay_membership_remove) and lists it in @removed */
static gboolean
relay_admin_remove_member(RelayStore *store,
			  RelayAdminJob *job,
			  RelayMember *member,
			  JsonBuilder *removed,
			  GCancellable *cancellable,
			  GError **error)
{
	const RelayAdminNetwork *network = relay_admin_job_find_network(job, member->network);
	gboolean queued = FALSE;

	if (!relay_membership_remove(store,
				     member,
				     job->origin,
				     network != NULL ? network->actor : NULL,
				     job->now_us,
				     &queued,
				     cancellable,
				     error))
		return FALSE;
	job->queued |= queued;
	relay_admin_member_removed_cb(member, removed);
	return TRUE;
}

/*
 * Blocks @domain on the whole node (@network NULL) or in one network, as `relay block` says:
 * see relay_membership_block(); each member removed is listed in @removed.
 */
static gboolean
relay_admin_block_domain(RelayStore *store,
			 RelayAdminJob *job,
			 const gchar *network,
			 const gchar *domain,
			 const gchar *reason,
			 const gchar *source,
			 const gchar *subscription,
			 JsonBuilder *removed,
			 RelayBlockEffects *result,
			 GCancellable *cancellable,
			 GError **error)
{
	g_autoptr(RelayDomainPolicy) policy =
		relay_domain_policy_new(network, domain, RELAY_POLICY_KIND_BLOCK);
	g_autoptr(GHashTable) actors = relay_admin_job_actors(job);

	policy->reason = g_strdup(reason);
	policy->source = g_strdup(source);
	policy->subscription = g_strdup(subscription);
	policy->created_at_us = job->now_us;
	if (!relay_membership_block(store,
				    policy,
				    job->origin,
				    actors,
				    job->now_us,
				    relay_admin_member_removed_cb,
				    removed,
				    result,
				    cancellable,
				    error))
		return FALSE;
	job->queued |= result->queued;
	return TRUE;
}

static gchar *
relay_admin_block_effects(const RelayBlockEffects *result)
{
	return g_strdup_printf("%u membership%s ended with a Reject, %" G_GUINT64_FORMAT
			       " queued deliver%s dropped",
			       result->removed,
			       result->removed == 1 ? "" : "s",
			       result->dropped,
			       result->dropped == 1 ? "y" : "ies");
}

static JsonNode *
relay_admin_block_run(RelayStore *store,
		      RelayAdminJob *job,
		      GCancellable *cancellable,
		      GError **error)
{
	g_autofree gchar *domain = relay_admin_job_policy_domain(job, error);
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(GPtrArray) policies = NULL;
	g_autofree gchar *effects = NULL;
	RelayDomainPolicy *existing;
	RelayBlockEffects result = {0};
	const gchar *reason;

	if (domain == NULL)
		return NULL;
	policies = relay_store_policy_list(store, cancellable, error);
	if (policies == NULL)
		return NULL;
	existing = relay_admin_policy_lookup(policies, NULL, domain, RELAY_POLICY_KIND_BLOCK);
	/* blocking again without a reason keeps the reason given before */
	reason = job->reason != NULL || existing == NULL ? job->reason : existing->reason;
	json_builder_begin_object(builder);
	relay_admin_add_string(builder, "domain", domain);
	relay_admin_add_string(builder, "reason", reason);
	json_builder_set_member_name(builder, "already_blocked");
	json_builder_add_boolean_value(builder, existing != NULL);
	json_builder_set_member_name(builder, "removed");
	json_builder_begin_array(builder);
	if (!relay_admin_block_domain(store,
				      job,
				      NULL,
				      domain,
				      reason,
				      existing != NULL ? existing->source : NULL,
				      NULL,
				      builder,
				      &result,
				      cancellable,
				      error))
		return NULL;
	json_builder_end_array(builder);
	relay_admin_add_int(builder, "deliveries_dropped", (gint64)result.dropped);
	effects = relay_admin_block_effects(&result);
	job->summary = g_strdup_printf("%s %s%s%s%s: %s",
				       existing != NULL ? "still blocked" : "blocked",
				       domain,
				       reason != NULL ? " (reason: " : "",
				       reason != NULL ? reason : "",
				       reason != NULL ? ")" : "",
				       effects);
	return relay_admin_change_data(job, builder);
}

static void
relay_admin_add_policy(JsonBuilder *builder, const RelayDomainPolicy *policy);

/* lifts a node-wide policy; "WHAT@subject is not blocked" when there is none */
static gboolean
relay_admin_remove_policy(RelayStore *store,
			  const gchar *subject,
			  RelayPolicyKind kind,
			  const gchar *what,
			  GCancellable *cancellable,
			  GError **error)
{
	g_autoptr(GError) error_local = NULL;

	if (relay_store_policy_remove(store, NULL, subject, kind, cancellable, &error_local))
		return TRUE;
	if (!g_error_matches(error_local, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND)) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return FALSE;
	}
	g_set_error(
		error, RELAY_ERROR, RELAY_ERROR_NOT_FOUND, "%s%s is not blocked", what, subject);
	return FALSE;
}

/* a software name as NodeInfo 2.x allows it: lower case letters, digits and - */
static gchar *
relay_admin_job_software(RelayAdminJob *job, GError **error)
{
	g_autofree gchar *name = g_ascii_strdown(job->name != NULL ? job->name : "", -1);

	g_strstrip(name);
	if (name[0] == '\0' || strlen(name) > 64 ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_.") != strlen(name)) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_INVALID_ARGUMENT,
			    "'%s' is not a software name as NodeInfo gives it (letters, digits, -)",
			    job->name != NULL ? job->name : "");
		return NULL;
	}
	return g_steal_pointer(&name);
}

/* ends every membership of a server whose NodeInfo names @name; the count ended */
static gboolean
relay_admin_end_software(RelayStore *store,
			 RelayAdminJob *job,
			 const gchar *name,
			 JsonBuilder *removed,
			 guint *out_removed,
			 GCancellable *cancellable,
			 GError **error)
{
	g_autoptr(GPtrArray) members = relay_store_member_list(store, NULL, -1, cancellable, error);

	if (members == NULL)
		return FALSE;
	for (guint i = 0; i < members->len; i++) {
		RelayMember *member = g_ptr_array_index(members, i);

		if (g_strcmp0(member->software_name, name) != 0)
			continue;
		if (!relay_admin_remove_member(store, job, member, removed, cancellable, error))
			return FALSE;
		(*out_removed)++;
	}
	return TRUE;
}

static JsonNode *
relay_admin_software_block_run(RelayStore *store,
			       RelayAdminJob *job,
			       GCancellable *cancellable,
			       GError **error)
{
	g_autofree gchar *name = relay_admin_job_software(job, error);
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(RelayDomainPolicy) policy = NULL;
	g_autoptr(GPtrArray) policies = NULL;
	RelayDomainPolicy *existing;
	guint removed = 0;

	if (name == NULL)
		return NULL;
	policies = relay_store_policy_list(store, cancellable, error);
	if (policies == NULL)
		return NULL;
	existing = relay_admin_policy_lookup(policies, NULL, name, RELAY_POLICY_KIND_SOFTWARE);
	policy = relay_domain_policy_new(NULL, name, RELAY_POLICY_KIND_SOFTWARE);
	policy->reason =
		g_strdup(job->reason != NULL || existing == NULL ? job->reason : existing->reason);
	policy->created_at_us = existing != NULL ? existing->created_at_us : job->now_us;
	if (!relay_store_policy_put(store, policy, cancellable, error))
		return NULL;
	json_builder_begin_object(builder);
	relay_admin_add_string(builder, "software", name);
	relay_admin_add_string(builder, "reason", policy->reason);
	json_builder_set_member_name(builder, "already_blocked");
	json_builder_add_boolean_value(builder, existing != NULL);
	json_builder_set_member_name(builder, "removed");
	json_builder_begin_array(builder);
	if (!relay_admin_end_software(store, job, name, builder, &removed, cancellable, error))
		return NULL;
	json_builder_end_array(builder);
	job->summary = g_strdup_printf("%s software %s: %u membership%s ended with a Reject",
				       existing != NULL ? "still blocked" : "blocked",
				       name,
				       removed,
				       removed == 1 ? "" : "s");
	return relay_admin_change_data(job, builder);
}

static JsonNode *
relay_admin_software_unblock_run(RelayStore *store,
				 RelayAdminJob *job,
				 GCancellable *cancellable,
				 GError **error)
{
	g_autofree gchar *name = relay_admin_job_software(job, error);
	g_autoptr(JsonBuilder) builder = json_builder_new();

	if (name == NULL)
		return NULL;
	if (!relay_admin_remove_policy(
		    store, name, RELAY_POLICY_KIND_SOFTWARE, "software ", cancellable, error))
		return NULL;
	json_builder_begin_object(builder);
	relay_admin_add_string(builder, "software", name);
	job->summary =
		g_strdup_printf("unblocked software %s: its servers may subscribe again", name);
	return relay_admin_change_data(job, builder);
}

static JsonNode *
relay_admin_list_policies(RelayStore *store,
			  RelayPolicyKind kind,
			  GCancellable *cancellable,
			  GError **error);

static JsonNode *
relay_admin_software_list_run(RelayStore *store,
			      RelayAdminJob *job,
			      GCancellable *cancellable,
			      GError **error)
{
	return relay_admin_list_policies(store, RELAY_POLICY_KIND_SOFTWARE, cancellable, error);
}

/* "not blocked" for a domain a subscribed list blocks: say which list, and what to do */
static void
relay_admin_explain_listed(RelayStore *store,
			   const gchar *domain,
			   GError **error,
			   GCancellable *cancellable)
{
	g_autoptr(GPtrArray) policies = NULL;

	if (error == NULL || !g_error_matches(*error, RELAY_ERROR, RELAY_ERROR_NOT_FOUND))
		return;
	policies = relay_store_policy_list(store, cancellable, NULL);
	for (guint i = 0; policies != NULL && i < policies->len; i++) {
		const RelayDomainPolicy *policy = g_ptr_array_index(policies, i);
		if (policy->kind != RELAY_POLICY_KIND_BLOCK || policy->subscription == NULL ||
		    g_strcmp0(policy->domain, domain) != 0)
			continue;
		g_clear_error(error);
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_NOT_FOUND,
			    "%s is blocked in network %s by the block list %s, not by you: it is "
			    "lifted when the list drops it, or with 'relay blocks unsubscribe %s' "
			    "(or subscribe again with --mode advise)",
			    domain,
			    policy->network,
			    policy->subscription,
			    policy->subscription);
		return;
	}
}

static JsonNode *
relay_admin_unblock_run(RelayStore *store,
			RelayAdminJob *job,
			GCancellable *cancellable,
			GError **error)
{
	g_autofree gchar *domain = relay_admin_job_policy_domain(job, error);
	g_autoptr(JsonBuilder) builder = json_builder_new();

	if (domain == NULL)
		return NULL;
	if (!relay_admin_remove_policy(
		    store, domain, RELAY_POLICY_KIND_BLOCK, "", cancellable, error)) {
		relay_admin_explain_listed(store, domain, error, cancellable);
		return NULL;
	}
	json_builder_begin_object(builder);
	relay_admin_add_string(builder, "domain", domain);
	job->summary = g_strdup_printf(
		"unblocked %s: its instances may subscribe again (members removed by the block "
		"are not restored)",
		domain);
	return relay_admin_change_data(job, builder);
}

static void
relay_admin_add_policy(JsonBuilder *builder, const RelayDomainPolicy *policy)
{
	json_builder_begin_object(builder);
	relay_admin_add_string(builder, "domain", policy->domain);
	relay_admin_add_string(builder, "network", policy->network);
	relay_admin_add_string(builder, "kind", relay_policy_kind_to_string(policy->kind));
	relay_admin_add_string(builder, "reason", policy->reason);
	relay_admin_add_string(builder, "source", policy->source);
	relay_admin_add_time(builder, "created_at", policy->created_at_us);
	json_builder_end_object(builder);
}

/* the node's policies of one kind, as a JSON array */
static JsonNode *
relay_admin_list_policies(RelayStore *store,
			  RelayPolicyKind kind,
			  GCancellable *cancellable,
			  GError **error)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(GPtrArray) policies = relay_store_policy_list(store, cancellable, error);

	if (policies == NULL)
		return NULL;
	json_builder_begin_array(builder);
	for (guint i = 0; i < policies->len; i++) {
		const RelayDomainPolicy *policy = g_ptr_array_index(policies, i);
		if (policy->kind == kind)
			relay_admin_add_policy(builder, policy);
	}
	json_builder_end_array(builder);
	return json_builder_get_root(builder);
}

static JsonNode *
relay_admin_blocks_advice(RelayStore *store, GCancellable *cancellable, GError **error);

static JsonNode *
relay_admin_blocks_list_run(RelayStore *store,
			    RelayAdminJob *job,
			    GCancellable *cancellable,
			    GError **error)
{
	if (job->advice)
		return relay_admin_blocks_advice(store, cancellable, error);
	return relay_admin_list_policies(store, RELAY_POLICY_KIND_BLOCK, cancellable, error);
}

static JsonNode *
relay_admin_blocks_import_run(RelayStore *store,
			      RelayAdminJob *job,
			      GCancellable *cancellable,
			      GError **error)
{
	const gchar *name = job->file != NULL ? job->file : "(import)";
	g_autofree gchar *source = g_strdup_printf("import %s", name);
	g_autoptr(GPtrArray) entries = NULL;
	g_autoptr(GPtrArray) policies = NULL;
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonBuilder) removed = json_builder_new();
	g_autoptr(JsonNode) removed_root = NULL;
	g_autofree gchar *effects = NULL;
	RelayBlockEffects result = {0};
	guint added = 0;
	guint already = 0;
	guint skipped = 0;

	if (job->csv == NULL) {
		g_set_error_literal(
			error, RELAY_ERROR, RELAY_ERROR_INVALID_ARGUMENT, "no CSV text to import");
		return NULL;
	}
	/* everything is checked before anything is applied */
	entries = relay_blocklist_parse(job->csv, strlen(job->csv), name, error);
	if (entries == NULL)
		return NULL;
	policies = relay_store_policy_list(store, cancellable, error);
	if (policies == NULL)
		return NULL;

	json_builder_begin_array(removed);
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "added");
	json_builder_begin_array(builder);
	for (guint i = 0; i < entries->len; i++) {
		const RelayBlocklistEntry *entry = g_ptr_array_index(entries, i);
		if (entry->skip != NULL ||
		    relay_admin_policy_lookup(
			    policies, NULL, entry->domain, RELAY_POLICY_KIND_BLOCK) != NULL)
			continue;
		if (!relay_admin_block_domain(store,
					      job,
					      NULL,
					      entry->domain,
					      entry->comment,
					      source,
					      NULL,
					      removed,
					      &result,
					      cancellable,
					      error))
			return NULL;
		json_builder_add_string_value(builder, entry->domain);
		added++;
	}
	json_builder_end_array(builder);
	json_builder_set_member_name(builder, "already_blocked");
	json_builder_begin_array(builder);
	for (guint i = 0; i < entries->len; i++) {
		const RelayBlocklistEntry *entry = g_ptr_array_index(entries, i);
		if (entry->skip == NULL &&
		    relay_admin_policy_lookup(
			    policies, NULL, entry->domain, RELAY_POLICY_KIND_BLOCK) != NULL) {
			json_builder_add_string_value(builder, entry->domain);
			already++;
		}
	}
	json_builder_end_array(builder);
	json_builder_set_member_name(builder, "skipped");
	json_builder_begin_array(builder);
	for (guint i = 0; i < entries->len; i++) {
		const RelayBlocklistEntry *entry = g_ptr_array_index(entries, i);
		if (entry->skip == NULL)
			continue;
		json_builder_begin_object(builder);
		relay_admin_add_int(builder, "line", entry->line);
		relay_admin_add_string(builder, "domain", entry->domain);
		relay_admin_add_string(builder, "why", entry->skip);
		json_builder_end_object(builder);
		skipped++;
	}
	json_builder_end_array(builder);
	json_builder_end_array(removed);
	removed_root = json_builder_get_root(removed);
	json_builder_set_member_name(builder, "removed");
	json_builder_add_value(builder, g_steal_pointer(&removed_root));
	relay_admin_add_int(builder, "deliveries_dropped", (gint64)result.dropped);
	effects = relay_admin_block_effects(&result);
	job->summary = g_strdup_printf("imported %s: %u domain%s blocked, %u already blocked, "
				       "%u skipped; %s",
				       name,
				       added,
				       added == 1 ? "" : "s",
				       already,
				       skipped,
				       effects);
	return relay_admin_change_data(job, builder);
}

/* block list subscriptions: see relay-block-subscriptions.c */

/* the request's block list URL: http or https, with a host */
static gchar *
relay_admin_job_block_list_url(RelayAdminJob *job, GError **error)
{
	g_autofree gchar *url = g_strstrip(g_strdup(job->url != NULL ? job->url : ""));
	g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_ENCODED, NULL);

	if (uri == NULL ||
	    (g_strcmp0(g_uri_get_scheme(uri), "https") != 0 &&
	     g_strcmp0(g_uri_get_scheme(uri), "http") != 0) ||
	    g_uri_get_host(uri) == NULL || g_uri_get_host(uri)[0] == '\0') {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_INVALID_ARGUMENT,
			    "'%s' is not an http or https URL",
			    url);
		return NULL;
	}
	return g_steal_pointer(&url);
}

static RelayBlockSubscription *
relay_admin_subscription_lookup(GPtrArray *subscriptions, const gchar *network, const gchar *url)
{
	for (guint i = 0; i < subscriptions->len; i++) {
		RelayBlockSubscription *subscription = g_ptr_array_index(subscriptions, i);
		if (g_strcmp0(subscription->network, network) == 0 &&
		    g_strcmp0(subscription->url, url) == 0)
			return subscription;
	}
	return NULL;
}

/* brings @network's blocks in line with its lists; the members removed go in @removed */
static gboolean
relay_admin_apply_subscriptions(RelayStore *store,
				RelayAdminJob *job,
				const gchar *network,
				JsonBuilder *removed,
				RelayBlockSubscriptionsApplied *applied,
				GCancellable *cancellable,
				GError **error)
{
	g_autoptr(GHashTable) actors = relay_admin_job_actors(job);

	if (!relay_block_subscriptions_apply(store,
					     network,
					     job->origin,
					     actors,
					     job->now_us,
					     relay_admin_member_removed_cb,
					     removed,
					     applied,
					     cancellable,
					     error))
		return FALSE;
	job->queued |= applied->effects.queued;
	return TRUE;
}

static JsonNode *
relay_admin_blocks_subscribe_run(RelayStore *store,
				 RelayAdminJob *job,
				 GCancellable *cancellable,
				 GError **error)
{
	g_autofree gchar *url = relay_admin_job_block_list_url(job, error);
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(GPtrArray) subscriptions = NULL;
	g_autoptr(RelayBlockSubscription) created = NULL;
	RelayBlockSubscriptionsApplied applied = {0};
	RelayBlockSubscription *subscription;
	RelayBlockMode mode = RELAY_BLOCK_MODE_ADVISE;
	gboolean existed;
	RelayBlockMode before = RELAY_BLOCK_MODE_ADVISE;

	if (url == NULL)
		return NULL;
	if (job->network == NULL) {
		g_set_error_literal(error,
				    RELAY_ERROR,
				    RELAY_ERROR_INVALID_ARGUMENT,
				    "which network subscribes? give --network NAME");
		return NULL;
	}
	if (!relay_admin_job_check_network(job, job->network, error))
		return NULL;
	if (job->mode != NULL && !relay_block_mode_from_string(job->mode, &mode)) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_INVALID_ARGUMENT,
			    "unknown mode '%s' (advise or enforce)",
			    job->mode);
		return NULL;
	}
	subscriptions = relay_store_block_subscription_list(store, cancellable, error);
	if (subscriptions == NULL)
		return NULL;
	subscription = relay_admin_subscription_lookup(subscriptions, job->network, url);
	existed = subscription != NULL;
	if (existed) {
		before = subscription->mode;
	} else {
		created = relay_block_subscription_new(job->network, url, mode);
		created->created_at_us = job->now_us;
		subscription = created;
	}
	subscription->mode = mode;
	if (!relay_store_block_subscription_put(store, subscription, NULL, cancellable, error))
		return NULL;
	json_builder_begin_object(builder);
	relay_admin_add_string(builder, "network", job->network);
	relay_admin_add_string(builder, "url", url);
	relay_admin_add_string(builder, "mode", relay_block_mode_to_string(mode));
	json_builder_set_member_name(builder, "already_subscribed");
	json_builder_add_boolean_value(builder, existed);
	json_builder_set_member_name(builder, "removed");
	json_builder_begin_array(builder);
	if (!relay_admin_apply_subscriptions(
		    store, job, job->network, builder, &applied, cancellable, error))
		return NULL;
	json_builder_end_array(builder);
	relay_admin_add_int(builder, "blocked", applied.added);
	relay_admin_add_int(builder, "unblocked", applied.lifted);
	if (existed && before == mode)
		job->summary = g_strdup_printf("network %s already subscribes to %s (mode %s)",
					       job->network,
					       url,
					       relay_block_mode_to_string(mode));
	else if (existed)
		job->summary = g_strdup_printf(
			"network %s now %s %s: %u domains blocked, %u unblocked, %u membership%s "
			"ended",
			job->network,
			mode == RELAY_BLOCK_MODE_ENFORCE ? "enforces" : "only takes advice from",
			url,
			applied.added,
			applied.lifted,
			applied.effects.removed,
			applied.effects.removed == 1 ? "" : "s");
	else
		job->summary = g_strdup_printf(
			"network %s subscribes to %s in mode %s (%s); it is fetched now, then "
			"every [federation] blocklist-refresh",
			job->network,
			url,
			relay_block_mode_to_string(mode),
			mode == RELAY_BLOCK_MODE_ENFORCE
				? "each domain it lists is blocked in the network"
				: "nothing is blocked, 'relay blocks list --advice' shows its "
				  "domains");
	return relay_admin_change_data(job, builder);
}

/* subscribe: fetch the list now rather than at the next round */
static void
relay_admin_blocks_subscribe_finish(RelayAdminRequest *request, JsonObject *data)
{
	if (request->admin->block_poller != NULL)
		relay_block_poller_poll_now(request->admin->block_poller);
}

/* the networks that subscribe to @url (or only @network), and those with blocks it left (a
 * remove whose apply failed half-way): each once, sorted */
static GPtrArray *
relay_admin_subscribed_networks(GPtrArray *subscriptions,
				GPtrArray *policies,
				const gchar *url,
				const gchar *network)
{
	GPtrArray *networks = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < subscriptions->len + policies->len; i++) {
		const gchar *name = NULL;

		if (i < subscriptions->len) {
			const RelayBlockSubscription *subscription =
				g_ptr_array_index(subscriptions, i);
			if (g_strcmp0(subscription->url, url) == 0)
				name = subscription->network;
		} else {
			const RelayDomainPolicy *policy =
				g_ptr_array_index(policies, i - subscriptions->len);
			if (g_strcmp0(policy->subscription, url) == 0)
				name = policy->network;
		}
		if (name == NULL || (network != NULL && g_strcmp0(name, network) != 0) ||
		    g_ptr_array_find_with_equal_func(networks, name, g_str_equal, NULL))
			continue;
		g_ptr_array_add(networks, g_strdup(name));
	}
	return networks;
}

static JsonNode *
relay_admin_blocks_unsubscribe_run(RelayStore *store,
				   RelayAdminJob *job,
				   GCancellable *cancellable,
				   GError **error)
{
	g_autofree gchar *url = relay_admin_job_block_list_url(job, error);
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(GPtrArray) subscriptions = NULL;
	g_autoptr(GPtrArray) policies = NULL;
	g_autoptr(GPtrArray) networks = NULL;
	g_autofree gchar *names = NULL;
	RelayBlockSubscriptionsApplied applied = {0};
	guint count;

	if (url == NULL)
		return NULL;
	subscriptions = relay_store_block_subscription_list(store, cancellable, error);
	if (subscriptions == NULL)
		return NULL;
	policies = relay_store_policy_list(store, cancellable, error);
	if (policies == NULL)
		return NULL;
	networks = relay_admin_subscribed_networks(subscriptions, policies, url, job->network);
	if (networks->len == 0) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_NOT_FOUND,
			    "no network subscribes to %s%s%s",
			    url,
			    job->network != NULL ? " in network " : "",
			    job->network != NULL ? job->network : "");
		return NULL;
	}
	json_builder_begin_object(builder);
	relay_admin_add_string(builder, "url", url);
	json_builder_set_member_name(builder, "removed");
	json_builder_begin_array(builder);
	for (guint i = 0; i < networks->len; i++) {
		const gchar *network = g_ptr_array_index(networks, i);
		g_autoptr(GError) error_local = NULL;

		/* gone already when only its blocks were left */
		if (!relay_store_block_subscription_remove(
			    store, network, url, cancellable, &error_local) &&
		    !g_error_matches(error_local, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND)) {
			g_propagate_error(error, g_steal_pointer(&error_local));
			return NULL;
		}
		if (!relay_admin_apply_subscriptions(
			    store, job, network, builder, &applied, cancellable, error))
			return NULL;
	}
	json_builder_end_array(builder);
	relay_admin_add_int(builder, "unblocked", applied.lifted);
	count = networks->len;
	g_ptr_array_add(networks, NULL);
	names = g_strjoinv(", ", (gchar **)networks->pdata);
	job->summary = g_strdup_printf("unsubscribed network%s %s from %s: %u block%s lifted",
				       count == 1 ? "" : "s",
				       names,
				       url,
				       applied.lifted,
				       applied.lifted == 1 ? "" : "s");
	return relay_admin_change_data(job, builder);
}

static JsonNode *
relay_admin_blocks_subscriptions_run(RelayStore *store,
				     RelayAdminJob *job,
				     GCancellable *cancellable,
				     GError **error)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(GPtrArray) subscriptions =
		relay_store_block_subscription_list(store, cancellable, error);
	g_autoptr(GPtrArray) policies = NULL;

	if (subscriptions == NULL)
		return NULL;
	policies = relay_store_policy_list(store, cancellable, error);
	if (policies == NULL)
		return NULL;
	json_builder_begin_array(builder);
	for (guint i = 0; i < subscriptions->len; i++) {
		const RelayBlockSubscription *subscription = g_ptr_array_index(subscriptions, i);
		guint enforced = 0;

		for (guint j = 0; j < policies->len; j++) {
			const RelayDomainPolicy *policy = g_ptr_array_index(policies, j);
			if (g_strcmp0(policy->subscription, subscription->url) == 0 &&
			    g_strcmp0(policy->network, subscription->network) == 0)
				enforced++;
		}
		json_builder_begin_object(builder);
		relay_admin_add_string(builder, "network", subscription->network);
		relay_admin_add_string(builder, "url", subscription->url);
		relay_admin_add_string(
			builder, "mode", relay_block_mode_to_string(subscription->mode));
		relay_admin_add_time(builder, "created_at", subscription->created_at_us);
		relay_admin_add_time(builder, "checked_at", subscription->checked_at_us);
		relay_admin_add_time(builder, "fetched_at", subscription->fetched_at_us);
		json_builder_set_member_name(builder, "count");
		if (subscription->count >= 0)
			json_builder_add_int_value(builder, subscription->count);
		else
			json_builder_add_null_value(builder);
		relay_admin_add_int(builder, "blocks", enforced);
		relay_admin_add_string(builder, "etag", subscription->etag);
		relay_admin_add_string(builder, "last_error", subscription->last_error);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
	return json_builder_get_root(builder);
}

/* blocks list --advice: the domains of the lists a network only takes advice from */
static JsonNode *
relay_admin_blocks_advice(RelayStore *store, GCancellable *cancellable, GError **error)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(GPtrArray) subscriptions =
		relay_store_block_subscription_list(store, cancellable, error);
	g_autoptr(GPtrArray) entries = NULL;
	g_autoptr(GPtrArray) policies = NULL;

	if (subscriptions == NULL)
		return NULL;
	entries = relay_store_block_subscription_entries(store, NULL, cancellable, error);
	if (entries == NULL)
		return NULL;
	policies = relay_store_policy_list(store, cancellable, error);
	if (policies == NULL)
		return NULL;
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "advice");
	json_builder_begin_array(builder);
	for (guint i = 0; i < entries->len; i++) {
		const RelayDomainPolicy *entry = g_ptr_array_index(entries, i);
		const RelayBlockSubscription *subscription = relay_admin_subscription_lookup(
			subscriptions, entry->network, entry->subscription);
		const RelayDomainPolicy *block;

		if (subscription == NULL || subscription->mode != RELAY_BLOCK_MODE_ADVISE)
			continue;
		block = relay_policy_find(
			policies, entry->network, entry->domain, RELAY_POLICY_KIND_BLOCK);
		json_builder_begin_object(builder);
		relay_admin_add_string(builder, "domain", entry->domain);
		relay_admin_add_string(builder, "network", entry->network);
		relay_admin_add_string(builder, "url", entry->subscription);
		relay_admin_add_string(builder, "reason", entry->reason);
		json_builder_set_member_name(builder, "blocked");
		json_builder_add_boolean_value(builder, block != NULL);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}

static gint
relay_admin_policy_domain_cmp(gconstpointer a, gconstpointer b)
{
	const RelayDomainPolicy *policy_a = *(const RelayDomainPolicy *const *)a;
	const RelayDomainPolicy *policy_b = *(const RelayDomainPolicy *const *)b;
	return g_strcmp0(policy_a->domain, policy_b->domain);
}

static JsonNode *
relay_admin_blocks_export_run(RelayStore *store,
			      RelayAdminJob *job,
			      GCancellable *cancellable,
			      GError **error)
{
	g_autoptr(GPtrArray) policies = relay_store_policy_list(store, cancellable, error);
	g_autoptr(GPtrArray) blocks = g_ptr_array_new();
	g_autoptr(GString) csv = g_string_new(RELAY_BLOCKLIST_HEADER "\n");
	g_autoptr(JsonBuilder) builder = json_builder_new();

	if (policies == NULL)
		return NULL;
	for (guint i = 0; i < policies->len; i++) {
		RelayDomainPolicy *policy = g_ptr_array_index(policies, i);
		if (policy->kind == RELAY_POLICY_KIND_BLOCK && policy->network == NULL)
			g_ptr_array_add(blocks, policy);
	}
	g_ptr_array_sort(blocks, relay_admin_policy_domain_cmp);
	for (guint i = 0; i < blocks->len; i++) {
		const RelayDomainPolicy *policy = g_ptr_array_index(blocks, i);
		relay_blocklist_append_line(csv, policy->domain, "suspend", policy->reason);
	}
	json_builder_begin_object(builder);
	relay_admin_add_int(builder, "count", blocks->len);
	relay_admin_add_string(builder, "csv", csv->str);
	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}

/* allow and disallow: the allow list of closed networks, one network's or the whole node's */
static JsonNode *
relay_admin_allow_change(RelayStore *store,
			 RelayAdminJob *job,
			 gboolean allow,
			 GCancellable *cancellable,
			 GError **error)
{
	g_autofree gchar *domain = NULL;
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autofree gchar *scope = job->network != NULL ? g_strdup_printf("network %s", job->network)
						       : g_strdup("every network");

	if (!relay_admin_job_check_network(job, job->network, error))
		return NULL;
	domain = relay_admin_job_policy_domain(job, error);
	if (domain == NULL)
		return NULL;
	if (allow) {
		g_autoptr(RelayDomainPolicy) policy =
			relay_domain_policy_new(job->network, domain, RELAY_POLICY_KIND_ALLOW);
		policy->created_at_us = job->now_us;
		policy->reason = g_strdup(job->reason);
		if (!relay_store_policy_put(store, policy, cancellable, error))
			return NULL;
		job->summary = g_strdup_printf(
			"allowed %s to join %s (where join = closed)", domain, scope);
	} else {
		g_autoptr(GError) error_local = NULL;
		if (!relay_store_policy_remove(store,
					       job->network,
					       domain,
					       RELAY_POLICY_KIND_ALLOW,
					       cancellable,
					       &error_local)) {
			if (!g_error_matches(
				    error_local, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND)) {
				g_propagate_error(error, g_steal_pointer(&error_local));
				return NULL;
			}
			g_set_error(error,
				    RELAY_ERROR,
				    RELAY_ERROR_NOT_FOUND,
				    "%s is not on the allow list of %s",
				    domain,
				    job->network != NULL ? job->network : "the whole node");
			return NULL;
		}
		job->summary =
			g_strdup_printf("%s is off the allow list of %s (its members "
					"stay; remove them with relay members remove)",
					domain,
					job->network != NULL ? job->network : "the whole node");
	}
	json_builder_begin_object(builder);
	relay_admin_add_string(builder, "domain", domain);
	relay_admin_add_string(builder, "network", job->network);
	return relay_admin_change_data(job, builder);
}

static JsonNode *
relay_admin_allow_run(RelayStore *store,
		      RelayAdminJob *job,
		      GCancellable *cancellable,
		      GError **error)
{
	return relay_admin_allow_change(store, job, TRUE, cancellable, error);
}

static JsonNode *
relay_admin_disallow_run(RelayStore *store,
			 RelayAdminJob *job,
			 GCancellable *cancellable,
			 GError **error)
{
	return relay_admin_allow_change(store, job, FALSE, cancellable, error);
}

/* networks and status */

/* counts[network index * RELAY_MEMBER_STATE_LAST + state] */
static guint64 *
relay_admin_count_members(RelayStore *store,
			  RelayAdminJob *job,
			  GCancellable *cancellable,
			  GError **error)
{
	g_autoptr(GPtrArray) members = relay_store_member_list(store, NULL, -1, cancellable, error);
	guint64 *counts;

	if (members == NULL)
		return NULL;
	counts = g_new0(guint64, (job->networks->len + 1) * RELAY_MEMBER_STATE_LAST);
	for (guint i = 0; i < members->len; i++) {
		const RelayMember *member = g_ptr_array_index(members, i);
		for (guint n = 0; n < job->networks->len; n++) {
			const RelayAdminNetwork *network = g_ptr_array_index(job->networks, n);
			if (g_strcmp0(network->name, member->network) == 0 &&
			    member->state < RELAY_MEMBER_STATE_LAST)
				counts[n * RELAY_MEMBER_STATE_LAST + member->state]++;
		}
	}
	return counts;
}

static void
relay_admin_add_counts(JsonBuilder *builder, const guint64 *counts)
{
	json_builder_set_member_name(builder, "members");
	json_builder_begin_object(builder);
	for (guint state = 0; state < RELAY_MEMBER_STATE_LAST; state++)
		relay_admin_add_int(
			builder, relay_member_state_to_string(state), (gint64)counts[state]);
	json_builder_end_object(builder);
}

static void
relay_admin_add_network(JsonBuilder *builder,
			const RelayAdminNetwork *network,
			const guint64 *counts,
			gboolean details)
{
	const RelayNetworkConfig *config = network->config;

	json_builder_begin_object(builder);
	relay_admin_add_string(builder, "name", network->name);
	relay_admin_add_string(builder,
			       "title",
			       config->title != NULL && config->title[0] != '\0' ? config->title
										 : network->name);
	relay_admin_add_string(builder, "join", relay_join_policy_to_string(config->join));
	relay_admin_add_string(builder, "actor", network->actor);
	relay_admin_add_string(builder, "inbox", network->inbox);
	relay_admin_add_counts(builder, counts);
	if (details) {
		relay_admin_add_string(builder, "summary", config->summary);
		relay_admin_add_strv(builder, "hashtags", config->hashtags);
		relay_admin_add_strv(builder, "languages", config->languages);
		relay_admin_add_strv(builder, "deny_keywords", config->deny_keywords);
	}
	json_builder_end_object(builder);
}

static JsonNode *
relay_admin_networks_list_run(RelayStore *store,
			      RelayAdminJob *job,
			      GCancellable *cancellable,
			      GError **error)
{
	g_autofree guint64 *counts = relay_admin_count_members(store, job, cancellable, error);
	g_autoptr(JsonBuilder) builder = json_builder_new();

	if (counts == NULL)
		return NULL;
	json_builder_begin_array(builder);
	for (guint n = 0; n < job->networks->len; n++)
		relay_admin_add_network(builder,
					g_ptr_array_index(job->networks, n),
					counts + n * RELAY_MEMBER_STATE_LAST,
					FALSE);
	json_builder_end_array(builder);
	return json_builder_get_root(builder);
}

static JsonNode *
relay_admin_networks_show_run(RelayStore *store,
			      RelayAdminJob *job,
			      GCancellable *cancellable,
			      GError **error)
{
	g_autofree guint64 *counts = NULL;
	g_autoptr(GPtrArray) policies = NULL;
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonNode) network_node = NULL;
	JsonObject *object;
	JsonArray *allowed;
	guint index = 0;

	if (job->name == NULL || !relay_admin_job_check_network(job, job->name, error))
		return NULL;
	for (guint n = 0; n < job->networks->len; n++) {
		const RelayAdminNetwork *network = g_ptr_array_index(job->networks, n);
		if (g_strcmp0(network->name, job->name) == 0)
			index = n;
	}
	counts = relay_admin_count_members(store, job, cancellable, error);
	if (counts == NULL)
		return NULL;
	policies = relay_store_policy_list(store, cancellable, error);
	if (policies == NULL)
		return NULL;
	relay_admin_add_network(builder,
				g_ptr_array_index(job->networks, index),
				counts + index * RELAY_MEMBER_STATE_LAST,
				TRUE);
	network_node = json_builder_get_root(builder);
	object = json_node_get_object(network_node);
	allowed = json_array_new();
	for (guint i = 0; i < policies->len; i++) {
		const RelayDomainPolicy *policy = g_ptr_array_index(policies, i);
		g_autoptr(JsonBuilder) policy_builder = NULL;
		if (policy->kind != RELAY_POLICY_KIND_ALLOW ||
		    (policy->network != NULL && g_strcmp0(policy->network, job->name) != 0))
			continue;
		policy_builder = json_builder_new();
		relay_admin_add_policy(policy_builder, policy);
		json_array_add_element(allowed, json_builder_get_root(policy_builder));
	}
	json_object_set_array_member(object, "allowed", allowed);
	return g_steal_pointer(&network_node);
}

static JsonNode *
relay_admin_status_run(RelayStore *store,
		       RelayAdminJob *job,
		       GCancellable *cancellable,
		       GError **error)
{
	g_autofree guint64 *counts = relay_admin_count_members(store, job, cancellable, error);
	g_autoptr(JsonBuilder) builder = json_builder_new();
	guint64 totals[RELAY_MEMBER_STATE_LAST] = {0};
	RelayQueueStats stats = {0};

	if (counts == NULL || !relay_store_delivery_stats(store, &stats, cancellable, error))
		return NULL;
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "networks");
	json_builder_begin_array(builder);
	for (guint n = 0; n < job->networks->len; n++) {
		relay_admin_add_network(builder,
					g_ptr_array_index(job->networks, n),
					counts + n * RELAY_MEMBER_STATE_LAST,
					FALSE);
		for (guint state = 0; state < RELAY_MEMBER_STATE_LAST; state++)
			totals[state] += counts[n * RELAY_MEMBER_STATE_LAST + state];
	}
	json_builder_end_array(builder);
	relay_admin_add_counts(builder, totals);
	json_builder_set_member_name(builder, "queue");
	json_builder_begin_object(builder);
	relay_admin_add_int(builder, "pending", (gint64)stats.queued);
	relay_admin_add_int(builder, "in_flight", (gint64)stats.claimed);
	relay_admin_add_int(builder,
			    "oldest_age_s",
			    stats.oldest_created_us > 0
				    ? MAX(job->now_us - stats.oldest_created_us, 0) / G_USEC_PER_SEC
				    : 0);
	json_builder_end_object(builder);
	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}

/* the queue */

static JsonNode *
relay_admin_queue_run(RelayStore *store,
		      RelayAdminJob *job,
		      GCancellable *cancellable,
		      GError **error)
{
	g_autoptr(GPtrArray) hosts = relay_store_delivery_pending_hosts(store, cancellable, error);
	g_autoptr(JsonBuilder) builder = json_builder_new();
	RelayQueueStats stats = {0};

	if (hosts == NULL || !relay_store_delivery_stats(store, &stats, cancellable, error))
		return NULL;
	json_builder_begin_object(builder);
	relay_admin_add_int(builder, "pending", (gint64)stats.queued);
	relay_admin_add_int(builder, "in_flight", (gint64)stats.claimed);
	relay_admin_add_int(builder,
			    "oldest_age_s",
			    stats.oldest_created_us > 0
				    ? MAX(job->now_us - stats.oldest_created_us, 0) / G_USEC_PER_SEC
				    : 0);
	json_builder_set_member_name(builder, "hosts");
	json_builder_begin_array(builder);
	for (guint i = 0; i < hosts->len; i++) {
		const RelayPendingHost *host = g_ptr_array_index(hosts, i);
		json_builder_begin_object(builder);
		relay_admin_add_string(builder, "host", host->host);
		relay_admin_add_int(builder, "pending", (gint64)host->queued);
		relay_admin_add_int(builder, "in_flight", (gint64)host->claimed);
		relay_admin_add_int(builder,
				    "oldest_age_s",
				    MAX(job->now_us - host->oldest_created_us, 0) / G_USEC_PER_SEC);
		relay_admin_add_time(builder, "next_attempt_at", host->next_attempt_us);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}

static JsonNode *
relay_admin_queue_retry_run(RelayStore *store,
			    RelayAdminJob *job,
			    GCancellable *cancellable,
			    GError **error)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(GPtrArray) hosts = NULL;
	guint64 rescheduled = 0;
	guint64 queued = 0;

	if (job->host == NULL || job->host[0] == '\0') {
		g_set_error_literal(
			error, RELAY_ERROR, RELAY_ERROR_INVALID_ARGUMENT, "a host is needed");
		return NULL;
	}
	hosts = relay_store_delivery_pending_hosts(store, cancellable, error);
	if (hosts == NULL)
		return NULL;
	for (guint i = 0; i < hosts->len; i++) {
		const RelayPendingHost *host = g_ptr_array_index(hosts, i);
		if (g_strcmp0(host->host, job->host) == 0)
			queued = host->queued;
	}
	if (queued == 0 && !job->troubled) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_NOT_FOUND,
			    "nothing is queued for %s and it is not paused (hosts are named as in "
			    "relay queue)",
			    job->host);
		return NULL;
	}
	if (!relay_store_delivery_reschedule_host(
		    store, job->host, job->now_us, &rescheduled, cancellable, error))
		return NULL;
	job->queued = TRUE;
	json_builder_begin_object(builder);
	relay_admin_add_string(builder, "host", job->host);
	relay_admin_add_int(builder, "rescheduled", (gint64)rescheduled);
	json_builder_set_member_name(builder, "was_paused");
	json_builder_add_boolean_value(builder, job->troubled);
	job->summary = g_strdup_printf(
		"%s: %" G_GUINT64_FORMAT " deliver%s due now%s",
		job->host,
		rescheduled,
		rescheduled == 1 ? "y" : "ies",
		job->troubled ? ", its failures forgotten and its breaker closed" : "");
	return relay_admin_change_data(job, builder);
}

/* main-context steps */

static void
relay_admin_status_finish(RelayAdminRequest *request, JsonObject *data)
{
	RelayAdmin *self = request->admin;
	g_autoptr(GPtrArray) states = relay_deliverer_get_host_states(self->deliverer);
	g_autofree gchar *started = relay_admin_time_string(self->started_us);
	JsonObject *queue = json_object_get_object_member(data, "queue");
	JsonObject *recent = json_object_new();
	guint64 outcomes[RELAY_DELIVERY_OUTCOME_LAST];
	guint paused = 0;

	json_object_set_string_member(data, "version", PACKAGE_VERSION);
	json_object_set_string_member(
		data, "public_url", relay_config_get_public_url(self->config));
	json_object_set_string_member(data, "started_at", started);
	json_object_set_int_member(data,
				   "uptime_s",
				   (g_get_monotonic_time() - self->started_monotonic_us) /
					   G_USEC_PER_SEC);
	relay_deliverer_get_recent_outcomes(self->deliverer, outcomes);
	for (guint i = 0; i < RELAY_DELIVERY_OUTCOME_LAST; i++)
		json_object_set_int_member(
			recent, relay_delivery_outcome_to_string(i), (gint64)outcomes[i]);
	json_object_set_object_member(data, "deliveries_last_hour", recent);
	for (guint i = 0; i < states->len; i++) {
		const RelayDelivererHostState *state = g_ptr_array_index(states, i);
		if (state->paused_until_us > 0)
			paused++;
	}
	json_object_set_int_member(queue, "hosts_paused", paused);
	json_object_set_int_member(queue, "hosts_failing", states->len);
}

static void
relay_admin_queue_finish(RelayAdminRequest *request, JsonObject *data)
{
	RelayAdmin *self = request->admin;
	g_autoptr(GPtrArray) states = relay_deliverer_get_host_states(self->deliverer);
	JsonArray *hosts = json_object_get_array_member(data, "hosts");
	guint paused = 0;

	for (guint i = 0; i < json_array_get_length(hosts); i++) {
		JsonObject *host = json_array_get_object_element(hosts, i);
		json_object_set_int_member(host, "failures", 0);
		json_object_set_null_member(host, "paused_until");
	}
	for (guint s = 0; s < states->len; s++) {
		const RelayDelivererHostState *state = g_ptr_array_index(states, s);
		g_autofree gchar *until = relay_admin_time_string(state->paused_until_us);
		JsonObject *host = NULL;

		for (guint i = 0; i < json_array_get_length(hosts) && host == NULL; i++) {
			JsonObject *candidate = json_array_get_object_element(hosts, i);
			if (g_strcmp0(json_object_get_string_member(candidate, "host"),
				      state->host) == 0)
				host = candidate;
		}
		if (host == NULL) {
			/* paused with nothing queued any more */
			host = json_object_new();
			json_object_set_string_member(host, "host", state->host);
			json_object_set_int_member(host, "pending", 0);
			json_object_set_int_member(host, "in_flight", 0);
			json_object_set_int_member(host, "oldest_age_s", 0);
			json_object_set_null_member(host, "next_attempt_at");
			json_array_add_object_element(hosts, host);
		}
		json_object_set_int_member(host, "failures", state->consecutive_failures);
		if (until != NULL) {
			json_object_set_string_member(host, "paused_until", until);
			paused++;
		} else {
			json_object_set_null_member(host, "paused_until");
		}
	}
	json_object_set_int_member(data, "hosts_paused", paused);
}

/* queue retry: the breaker first, so that rows claimed from now on go out */
static void
relay_admin_queue_retry_prepare(RelayAdminRequest *request)
{
	RelayAdminJob *job = request->job;
	if (job->host != NULL)
		job->troubled = relay_deliverer_resume_host(request->admin->deliverer, job->host);
}

/* peers: networks of other nodes linked to ours (see README, Linking networks) */

static void
relay_admin_request_log(RelayAdminRequest *request, const gchar *outcome);
static void
relay_admin_request_refuse(RelayAdminRequest *request, const gchar *code, const gchar *message);
static void
relay_admin_request_run_job(RelayAdminRequest *request);

/* the network the request names (NETWORK of peers add and remove), which must exist */
static const RelayAdminNetwork *
relay_admin_job_peer_network(RelayAdminJob *job, GError **error)
{
	if (job->network == NULL) {
		g_set_error_literal(error,
				    RELAY_ERROR,
				    RELAY_ERROR_INVALID_ARGUMENT,
				    "a network is needed (relay for the default one)");
		return NULL;
	}
	if (!relay_admin_job_check_network(job, job->network, error))
		return NULL;
	return relay_admin_job_find_network(job, job->network);
}

/* the request's URL, which must be an http(s) URL */
static gboolean
relay_admin_job_check_url(RelayAdminJob *job, GError **error)
{
	if (job->url == NULL ||
	    (!g_str_has_prefix(job->url, "https://") && !g_str_has_prefix(job->url, "http://")) ||
	    !g_uri_is_valid(job->url, G_URI_FLAGS_NONE, NULL)) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_INVALID_ARGUMENT,
			    "'%s' is not the URL of a network's actor or inbox",
			    job->url != NULL ? job->url : "");
		return FALSE;
	}
	return TRUE;
}

static void
relay_admin_add_peer(JsonBuilder *builder, const RelayMember *member)
{
	json_builder_begin_object(builder);
	relay_admin_add_string(builder, "network", member->network);
	relay_admin_add_string(builder, "actor", member->actor);
	relay_admin_add_string(builder, "domain", member->domain);
	relay_admin_add_string(builder, "inbox", member->inbox);
	relay_admin_add_string(builder, "state", relay_peer_state_to_string(member));
	relay_admin_add_string(
		builder, "our_follow", relay_member_state_to_string(member->follow_back_state));
	json_builder_set_member_name(builder, "follows_us");
	json_builder_add_boolean_value(builder, relay_peer_follows_us(member));
	relay_admin_add_string(
		builder, "direction", relay_member_direction_to_string(member->direction));
	relay_admin_add_time(builder, "created_at", member->created_at_us);
	relay_admin_add_time(builder, "last_seen_at", member->last_seen_us);
	json_builder_end_object(builder);
}

/*
 * peers add: our network follows the remote one (a Follow of Public, signed by our network)
 * and trusts it to relay others' activities; a Follow of ours it has waiting for approval is
 * accepted, since our admin wants the link. Adding again sends our Follow again when it was
 * not answered or refused.
 */
static JsonNode *
relay_admin_peers_add_run(RelayStore *store,
			  RelayAdminJob *job,
			  GCancellable *cancellable,
			  GError **error)
{
	const RelayAdminNetwork *network = relay_admin_job_peer_network(job, error);
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(GPtrArray) policies = NULL;
	g_autoptr(GPtrArray) fanouts =
		g_ptr_array_new_with_free_func((GDestroyNotify)relay_fanout_free);
	g_autoptr(RelayMember) existing = NULL;
	g_autoptr(RelayMember) member = NULL;
	g_autoptr(GString) summary = g_string_new(NULL);
	RelayDomainPolicy *block;
	RelayFanout *fanout;

	if (network == NULL)
		return NULL;
	g_return_val_if_fail(job->peer != NULL, NULL);
	for (guint i = 0; i < job->networks->len; i++) {
		const RelayAdminNetwork *ours = g_ptr_array_index(job->networks, i);
		if (g_strcmp0(ours->actor, job->peer->id) == 0) {
			g_set_error(error,
				    RELAY_ERROR,
				    RELAY_ERROR_INVALID_ARGUMENT,
				    "%s is network %s of this node",
				    job->peer->id,
				    ours->name);
			return NULL;
		}
	}
	policies = relay_store_policy_list(store, cancellable, error);
	if (policies == NULL)
		return NULL;
	member = relay_member_new(network->name, job->peer->id, job->peer->inbox);
	block = relay_policy_find(policies, network->name, member->domain, RELAY_POLICY_KIND_BLOCK);
	if (block != NULL) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_INVALID_ARGUMENT,
			    "%s is blocked (%s): unblock it first",
			    member->domain,
			    block->domain);
		return NULL;
	}
	existing = relay_store_member_get(store, network->name, job->peer->id, cancellable, NULL);
	if (existing != NULL) {
		g_clear_pointer(&member, relay_member_free);
		member = relay_member_copy(existing);
		g_free(member->inbox);
		member->inbox = g_strdup(job->peer->inbox);
	}
	g_free(member->shared_inbox);
	member->shared_inbox = g_strdup(job->peer->shared_inbox);
	member->is_peer = TRUE;
	member->last_seen_us = job->now_us;
	g_string_append_printf(summary, "%s is a peer of %s", member->actor, network->name);

	/* its own Follow of us: one waiting for approval is accepted, a refused one is gone */
	if (existing != NULL && existing->state == RELAY_MEMBER_STATE_PENDING &&
	    existing->follow_id != NULL) {
		g_autoptr(JsonNode) follow = relay_membership_follow_new(member, network->actor);
		g_autofree gchar *accept_id = relay_activity_new_id(job->origin);
		g_autoptr(GBytes) accept =
			relay_activity_accept_new(accept_id, network->actor, follow);
		fanout = relay_fanout_new(network->name, accept);
		relay_fanout_add_inbox(fanout, member->inbox);
		g_ptr_array_add(fanouts, fanout);
		member->state = RELAY_MEMBER_STATE_ACCEPTED;
		g_string_append(summary, ": its Follow of us is accepted");
	} else if (existing == NULL || existing->state != RELAY_MEMBER_STATE_ACCEPTED) {
		g_clear_pointer(&member->follow_id, g_free);
		member->state = RELAY_MEMBER_STATE_PENDING;
	}

	/* our Follow, unless it is accepted already */
	if (member->follow_back_id == NULL || existing == NULL || !existing->is_peer ||
	    member->follow_back_state != RELAY_MEMBER_STATE_ACCEPTED) {
		g_autofree gchar *follow_id = NULL;
		g_autoptr(GBytes) follow = NULL;

		/* a Follow not answered yet goes again with its id; a new peering gets a new one */
		if (existing == NULL || !existing->is_peer || member->follow_back_id == NULL ||
		    member->follow_back_state == RELAY_MEMBER_STATE_REJECTED) {
			g_free(member->follow_back_id);
			member->follow_back_id = relay_activity_new_id(job->origin);
		}
		member->follow_back_state = RELAY_MEMBER_STATE_PENDING;
		follow_id = g_strdup(member->follow_back_id);
		follow = relay_membership_peer_follow_new(follow_id, network->actor);
		fanout = relay_fanout_new(network->name, follow);
		relay_fanout_add_inbox(fanout, member->inbox);
		g_ptr_array_add(fanouts, fanout);
		g_string_append_printf(summary,
				       "%sour Follow is queued (the link is pending until it "
				       "accepts; mutual once it adds %s as a peer too)",
				       fanouts->len > 1 ? ", " : ": ",
				       network->actor);
	} else {
		g_string_append_printf(
			summary, " already (%s)", relay_peer_state_to_string(member));
	}
	if (!relay_store_member_put(store, member, cancellable, error))
		return NULL;
	if (fanouts->len > 0) {
		if (!relay_store_delivery_enqueue(store, fanouts, job->now_us, cancellable, error))
			return NULL;
		job->queued = TRUE;
	}
	job->summary = g_string_free(g_steal_pointer(&summary), FALSE);
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "peer");
	relay_admin_add_peer(builder, member);
	return relay_admin_change_data(job, builder);
}

static void
relay_admin_peers_add_fetched_cb(GObject *source, GAsyncResult *res, gpointer user_data);

/* a peers add refused before its job: logged as a refused change, as the job's would be */
static void
relay_admin_peers_add_refuse(RelayAdminRequest *request, const gchar *code, const gchar *message)
{
	g_autofree gchar *refused = g_strdup_printf("refused: %s", message);
	relay_admin_request_log(request, refused);
	relay_admin_request_refuse(request, code, message);
}

/* fetches the actor at @url for peers add, signed by the network that peers */
static void
relay_admin_peers_add_fetch_url(RelayAdminRequest *request, const gchar *url)
{
	RelayAdmin *self = request->admin;
	RelayNetwork *network = g_hash_table_lookup(self->networks, request->job->network);

	relay_actor_cache_get_actor_async(self->actor_cache,
					  url,
					  relay_network_get_signer(network),
					  TRUE,
					  request->cancellable,
					  relay_admin_peers_add_fetched_cb,
					  request);
}

static void
relay_admin_peers_add_fetched_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	RelayAdminRequest *request = user_data;
	RelayAdminJob *job = request->job;
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayRemoteActor) actor =
		relay_actor_cache_get_actor_finish(RELAY_ACTOR_CACHE(source), res, &error);

	if (actor == NULL) {
		g_autofree gchar *message = g_strdup_printf(
			"cannot get the network at %s: %s", job->url, error->message);
		relay_admin_peers_add_refuse(request, "failed", message);
		return;
	}
	/* the inbox URL answers the actor: its id is where the actor really is, fetched once
	 * more from there so that the document is its own */
	if (job->peer == NULL && g_strcmp0(actor->id, job->url) != 0) {
		job->peer = g_steal_pointer(&actor);
		relay_admin_peers_add_fetch_url(request, job->peer->id);
		return;
	}
	if (job->peer != NULL && g_strcmp0(actor->id, job->peer->id) != 0) {
		g_autofree gchar *message =
			g_strdup_printf("%s names its actor %s, which says it is %s",
					job->url,
					job->peer->id,
					actor->id);
		relay_admin_peers_add_refuse(request, "failed", message);
		return;
	}
	g_clear_pointer(&job->peer, relay_remote_actor_free);
	job->peer = g_steal_pointer(&actor);
	relay_admin_request_run_job(request);
}

static void
relay_admin_peers_add_fetch(RelayAdminRequest *request)
{
	RelayAdmin *self = request->admin;
	RelayAdminJob *job = request->job;
	g_autoptr(GError) error = NULL;

	if (relay_admin_job_peer_network(job, &error) == NULL ||
	    !relay_admin_job_check_url(job, &error)) {
		relay_admin_peers_add_refuse(
			request, relay_admin_error_code(error), error->message);
		return;
	}
	if (self->actor_cache == NULL || self->networks == NULL ||
	    g_hash_table_lookup(self->networks, job->network) == NULL) {
		relay_admin_peers_add_refuse(request, "failed", "the node cannot fetch right now");
		return;
	}
	relay_admin_peers_add_fetch_url(request, job->url);
}

/* the peer of the request's network whose actor or inbox is its URL */
static RelayMember *
relay_admin_job_peer(RelayStore *store,
		     RelayAdminJob *job,
		     GCancellable *cancellable,
		     GError **error)
{
	const RelayAdminNetwork *network = relay_admin_job_peer_network(job, error);
	g_autoptr(GPtrArray) members = NULL;

	if (network == NULL || !relay_admin_job_check_url(job, error))
		return NULL;
	members = relay_store_member_list(store, network->name, -1, cancellable, error);
	if (members == NULL)
		return NULL;
	for (guint i = 0; i < members->len; i++) {
		RelayMember *member = g_ptr_array_index(members, i);
		if (member->is_peer && (g_strcmp0(member->actor, job->url) == 0 ||
					g_strcmp0(member->inbox, job->url) == 0 ||
					g_strcmp0(member->shared_inbox, job->url) == 0))
			return relay_member_copy(member);
	}
	g_set_error(error,
		    RELAY_ERROR,
		    RELAY_ERROR_NOT_FOUND,
		    "%s is not a peer of network %s",
		    job->url,
		    network->name);
	return NULL;
}

/*
 * peers remove: the deliveries queued for the peer go, then a Reject of its Follow of us and an
 * Undo of ours are queued and the peer is forgotten: nothing is relayed to or from it from now
 * on.
 */
static JsonNode *
relay_admin_peers_remove_run(RelayStore *store,
			     RelayAdminJob *job,
			     GCancellable *cancellable,
			     GError **error)
{
	g_autoptr(RelayMember) peer = relay_admin_job_peer(store, job, cancellable, error);
	g_autoptr(JsonBuilder) builder = json_builder_new();
	const RelayAdminNetwork *network;
	guint64 dropped = 0;
	gboolean undo = FALSE;

	if (peer == NULL)
		return NULL;
	network = relay_admin_job_find_network(job, peer->network);
	for (guint i = 0; i < 2; i++) {
		const gchar *inbox = i == 0 ? peer->inbox : peer->shared_inbox;
		guint64 count = 0;
		if (inbox == NULL || (i == 1 && g_strcmp0(inbox, peer->inbox) == 0))
			continue;
		if (!relay_store_delivery_drop_inbox(
			    store, peer->network, inbox, &count, cancellable, error))
			return NULL;
		dropped += count;
	}
	if (!relay_membership_end(store,
				  peer,
				  job->origin,
				  network->actor,
				  TRUE,
				  job->now_us,
				  &undo,
				  cancellable,
				  error))
		return NULL;
	job->queued = TRUE;
	job->summary =
		g_strdup_printf("%s is no longer a peer of %s: %s%s%s queued, %" G_GUINT64_FORMAT
				" queued deliver%s dropped",
				peer->actor,
				peer->network,
				peer->follow_id != NULL ? "a Reject of its Follow" : "",
				peer->follow_id != NULL && undo ? " and " : "",
				undo ? "an Undo of our Follow" : "",
				dropped,
				dropped == 1 ? "y" : "ies");
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "peer");
	relay_admin_add_peer(builder, peer);
	relay_admin_add_int(builder, "deliveries_dropped", (gint64)dropped);
	return relay_admin_change_data(job, builder);
}

static JsonNode *
relay_admin_peers_list_run(RelayStore *store,
			   RelayAdminJob *job,
			   GCancellable *cancellable,
			   GError **error)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(GPtrArray) members = NULL;

	if (!relay_admin_job_check_network(job, job->network, error))
		return NULL;
	members = relay_store_member_list(store, job->network, -1, cancellable, error);
	if (members == NULL)
		return NULL;
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "peers");
	json_builder_begin_array(builder);
	for (guint i = 0; i < members->len; i++) {
		const RelayMember *member = g_ptr_array_index(members, i);
		if (member->is_peer && relay_admin_job_find_network(job, member->network) != NULL)
			relay_admin_add_peer(builder, member);
	}
	json_builder_end_array(builder);
	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}

/* what only the process knows: the traffic of the last hour, and when a peer last relayed */
static void
relay_admin_peers_list_finish(RelayAdminRequest *request, JsonObject *data)
{
	RelayAdmin *self = request->admin;
	JsonArray *peers = json_object_get_array_member(data, "peers");

	for (guint i = 0; i < json_array_get_length(peers); i++) {
		JsonObject *peer = json_array_get_object_element(peers, i);
		RelayPeerTrafficStats stats = {0};
		g_autofree gchar *last = NULL;

		if (self->peer_traffic != NULL)
			relay_peer_traffic_get(self->peer_traffic,
					       json_object_get_string_member(peer, "network"),
					       json_object_get_string_member(peer, "actor"),
					       json_object_get_string_member(peer, "inbox"),
					       &stats);
		json_object_set_int_member(peer, "received_last_hour", (gint64)stats.received);
		json_object_set_int_member(peer, "sent_last_hour", (gint64)stats.sent);
		last = relay_admin_time_string(stats.last_received_us);
		if (last != NULL)
			json_object_set_string_member(peer, "last_seen_at", last);
	}
}

/*
 * The commands. `relay software block|unblock NAME` (after the status-page merge) is one row
 * here and one in relay-cli.c.
 */
static const RelayAdminCommand relay_admin_commands[] = {
	{"status", FALSE, NULL, relay_admin_status_run, relay_admin_status_finish},
	{"members-list", FALSE, NULL, relay_admin_members_list_run, NULL},
	{"members-show", FALSE, NULL, relay_admin_members_show_run, NULL},
	{"members-approve", TRUE, NULL, relay_admin_members_approve_run, NULL},
	{"members-reject", TRUE, NULL, relay_admin_members_reject_run, NULL},
	{"members-remove", TRUE, NULL, relay_admin_members_remove_run, NULL},
	{"members-direction", TRUE, NULL, relay_admin_members_direction_run, NULL},
	{"block", TRUE, NULL, relay_admin_block_run, NULL},
	{"unblock", TRUE, NULL, relay_admin_unblock_run, NULL},
	{"blocks-list", FALSE, NULL, relay_admin_blocks_list_run, NULL},
	{"software-block", TRUE, NULL, relay_admin_software_block_run, NULL},
	{"software-unblock", TRUE, NULL, relay_admin_software_unblock_run, NULL},
	{"software-list", FALSE, NULL, relay_admin_software_list_run, NULL},
	{"blocks-import", TRUE, NULL, relay_admin_blocks_import_run, NULL},
	{"blocks-export", FALSE, NULL, relay_admin_blocks_export_run, NULL},
	{"blocks-subscribe",
	 TRUE,
	 NULL,
	 relay_admin_blocks_subscribe_run,
	 relay_admin_blocks_subscribe_finish},
	{"blocks-unsubscribe", TRUE, NULL, relay_admin_blocks_unsubscribe_run, NULL},
	{"blocks-subscriptions", FALSE, NULL, relay_admin_blocks_subscriptions_run, NULL},
	{"allow", TRUE, NULL, relay_admin_allow_run, NULL},
	{"disallow", TRUE, NULL, relay_admin_disallow_run, NULL},
	{"networks-list", FALSE, NULL, relay_admin_networks_list_run, NULL},
	{"networks-show", FALSE, NULL, relay_admin_networks_show_run, NULL},
	{"queue", FALSE, NULL, relay_admin_queue_run, relay_admin_queue_finish},
	{"queue-retry", TRUE, relay_admin_queue_retry_prepare, relay_admin_queue_retry_run, NULL},
	{"peers-add", TRUE, NULL, relay_admin_peers_add_run, NULL, relay_admin_peers_add_fetch},
	{"peers-list", FALSE, NULL, relay_admin_peers_list_run, relay_admin_peers_list_finish},
	{"peers-remove", TRUE, NULL, relay_admin_peers_remove_run, NULL},
};

static const RelayAdminCommand *
relay_admin_command_lookup(const gchar *name)
{
	for (guint i = 0; i < G_N_ELEMENTS(relay_admin_commands); i++) {
		if (g_strcmp0(relay_admin_commands[i].name, name) == 0)
			return &relay_admin_commands[i];
	}
	return NULL;
}

/* requests */

static void
relay_admin_request_closed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	RelayAdminRequest *request = user_data;
	g_io_stream_close_finish(G_IO_STREAM(source), res, NULL);
	relay_admin_request_free(request);
}

static void
relay_admin_request_written_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	RelayAdminRequest *request = user_data;
	g_autoptr(GError) error = NULL;

	if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), res, NULL, &error))
		g_debug("admin: the client left before its answer: %s", error->message);
	g_io_stream_close_async(G_IO_STREAM(request->connection),
				G_PRIORITY_DEFAULT,
				NULL,
				relay_admin_request_closed_cb,
				request);
}

/* sends @root (the whole response) and ends the request */
static void
relay_admin_request_send(RelayAdminRequest *request, JsonNode *root)
{
	g_autoptr(JsonGenerator) generator = json_generator_new();
	GOutputStream *output = g_io_stream_get_output_stream(G_IO_STREAM(request->connection));
	g_autofree gchar *text = NULL;

	g_clear_handle_id(&request->timeout_id, g_source_remove);
	json_generator_set_root(generator, root);
	text = json_generator_to_data(generator, NULL);
	request->response = g_strdup_printf("%s\n", text);
	g_output_stream_write_all_async(output,
					request->response,
					strlen(request->response),
					G_PRIORITY_DEFAULT,
					NULL,
					relay_admin_request_written_cb,
					request);
}

static void
relay_admin_request_reply(RelayAdminRequest *request, JsonNode *data)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonNode) root = NULL;

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "ok");
	json_builder_add_boolean_value(builder, TRUE);
	json_builder_set_member_name(builder, "data");
	if (data != NULL)
		json_builder_add_value(builder, data);
	else
		json_builder_add_null_value(builder);
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	relay_admin_request_send(request, root);
}

static void
relay_admin_request_refuse(RelayAdminRequest *request, const gchar *code, const gchar *message)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonNode) root = NULL;

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "ok");
	json_builder_add_boolean_value(builder, FALSE);
	relay_admin_add_string(builder, "error", message);
	relay_admin_add_string(builder, "code", code);
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	relay_admin_request_send(request, root);
}

/* the audit log: every change with the peer's uid; reads at info level */
static void
relay_admin_request_log(RelayAdminRequest *request, const gchar *outcome)
{
	g_autofree gchar *uid = g_strdup_printf("%u", request->uid);
	g_autofree gchar *safe_outcome = relay_log_sanitize(outcome, 1000);
	gboolean changes = request->command != NULL && request->command->changes;

	g_log_structured(G_LOG_DOMAIN,
			 changes ? G_LOG_LEVEL_MESSAGE : G_LOG_LEVEL_INFO,
			 "RELAY_ADMIN_UID",
			 uid,
			 "RELAY_ADMIN_COMMAND",
			 request->command != NULL ? request->command->name : "-",
			 "MESSAGE",
			 "admin uid %s: %s%s%s",
			 uid,
			 request->what != NULL ? request->what : "-",
			 outcome != NULL ? ": " : "",
			 outcome != NULL ? safe_outcome : "");
}

static void
relay_admin_job_run_cb(RelayStore *store, GTask *task, gpointer data, GCancellable *cancellable)
{
	RelayAdminJob *job = data;
	GError *error = NULL;
	JsonNode *node = job->run(store, job, cancellable, &error);

	if (node == NULL) {
		g_task_return_error(task, error);
		return;
	}
	g_task_return_pointer(task, node, (GDestroyNotify)json_node_unref);
}

static void
relay_admin_job_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	RelayAdminRequest *request = user_data;
	RelayAdmin *self = request->admin;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) data = g_task_propagate_pointer(G_TASK(res), &error);

	if (request->job->queued)
		relay_deliverer_wake(self->deliverer);
	if (data == NULL) {
		g_autofree gchar *refused = g_strdup_printf("refused: %s", error->message);
		if (error->domain == RELAY_STORE_ERROR)
			g_warning("admin: %s: storage failed: %s", request->what, error->message);
		relay_admin_request_log(request, request->command->changes ? refused : NULL);
		relay_admin_request_refuse(request, relay_admin_error_code(error), error->message);
		return;
	}
	if (request->command->finish != NULL && JSON_NODE_HOLDS_OBJECT(data))
		request->command->finish(request, json_node_get_object(data));
	relay_admin_request_log(request, request->command->changes ? request->job->summary : NULL);
	relay_admin_request_reply(request, g_steal_pointer(&data));
}

/* the networks of the node, default first, as the jobs see them */
static GPtrArray *
relay_admin_networks_snapshot(RelayAdmin *self)
{
	GPtrArray *networks =
		g_ptr_array_new_with_free_func((GDestroyNotify)relay_admin_network_free);
	g_autoptr(GList) names = NULL;

	if (self->networks == NULL)
		return networks;
	names = g_list_sort(g_hash_table_get_keys(self->networks), (GCompareFunc)g_strcmp0);
	for (GList *l = names; l != NULL; l = l->next) {
		RelayNetwork *network = g_hash_table_lookup(self->networks, l->data);
		RelayAdminNetwork *copy = g_new0(RelayAdminNetwork, 1);

		copy->name = g_strdup(relay_network_get_name(network));
		copy->actor = g_strdup(relay_network_get_actor_url(network));
		copy->inbox = g_strdup(relay_network_get_inbox_url(network));
		copy->config = relay_network_config_copy(relay_network_get_config(network));
		if (g_strcmp0(copy->name, RELAY_CONFIG_DEFAULT_NETWORK) == 0)
			g_ptr_array_insert(networks, 0, copy);
		else
			g_ptr_array_add(networks, copy);
	}
	return networks;
}

/* the argument @name when it is a value of @type; NULL when absent, an error when not */
static JsonNode *
relay_admin_arg_value(
	JsonObject *args, const gchar *name, GType type, const gchar *expected, GError **error)
{
	JsonNode *node = args != NULL ? json_object_get_member(args, name) : NULL;

	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return NULL;
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != type) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_INVALID_ARGUMENT,
			    "argument '%s' must be %s",
			    name,
			    expected);
		return NULL;
	}
	return node;
}

/* a string argument, or an error when it is there but not a string */
static gboolean
relay_admin_arg(JsonObject *args, const gchar *name, gchar **out_value, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	JsonNode *node = relay_admin_arg_value(args, name, G_TYPE_STRING, "a string", &error_local);

	if (error_local != NULL) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return FALSE;
	}
	if (node != NULL)
		*out_value = g_strdup(json_node_get_string(node));
	return TRUE;
}

/* a boolean argument, or an error when it is there but not a boolean */
static gboolean
relay_admin_arg_boolean(JsonObject *args, const gchar *name, gboolean *out_value, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	JsonNode *node =
		relay_admin_arg_value(args, name, G_TYPE_BOOLEAN, "true or false", &error_local);

	if (error_local != NULL) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return FALSE;
	}
	if (node != NULL)
		*out_value = json_node_get_boolean(node);
	return TRUE;
}

/* "members approve a.example --network town": the request as the log tells it */
static gchar *
relay_admin_describe(const RelayAdminCommand *command, RelayAdminJob *job)
{
	g_autoptr(GString) text = g_string_new(command->name);
	const gchar *positional[] = {job->domain, job->name, job->host, job->direction, job->url};

	/* members-approve → members approve */
	g_strdelimit(text->str, "-", ' ');
	for (guint i = 0; i < G_N_ELEMENTS(positional); i++) {
		if (positional[i] != NULL)
			g_string_append_printf(text, " %s", positional[i]);
	}
	if (job->network != NULL)
		g_string_append_printf(text, " --network %s", job->network);
	if (job->state != NULL)
		g_string_append_printf(text, " --state %s", job->state);
	if (job->mode != NULL)
		g_string_append_printf(text, " --mode %s", job->mode);
	if (job->advice)
		g_string_append(text, " --advice");
	if (job->file != NULL)
		g_string_append_printf(text, " %s", job->file);
	if (job->csv != NULL)
		g_string_append_printf(text, " (%zu bytes)", strlen(job->csv));
	if (job->reason != NULL)
		g_string_append_printf(text, " (reason: %s)", job->reason);
	return relay_log_sanitize(text->str, 500);
}

/* the request line is complete: parse it and run its command */
static void
relay_admin_request_dispatch(RelayAdminRequest *request)
{
	RelayAdmin *self = request->admin;
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	RelayAdminJob *job;
	JsonObject *object;
	JsonObject *args = NULL;
	const gchar *name;

	/* the request is in: the deadline was for sending it */
	g_clear_handle_id(&request->timeout_id, g_source_remove);
	if (!json_parser_load_from_data(
		    parser, (const gchar *)request->buffer->data, request->buffer->len, &error) ||
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
		relay_admin_request_refuse(
			request, "bad-request", "a request is one line of JSON: {\"command\":...}");
		return;
	}
	object = json_node_get_object(json_parser_get_root(parser));
	name = json_object_get_string_member_with_default(object, "command", NULL);
	if (json_object_has_member(object, "args")) {
		JsonNode *node = json_object_get_member(object, "args");
		if (JSON_NODE_HOLDS_OBJECT(node))
			args = json_node_get_object(node);
	}
	request->command = relay_admin_command_lookup(name);
	if (request->command == NULL) {
		g_autofree gchar *message =
			g_strdup_printf("unknown command '%s' (this node runs relay %s)",
					name != NULL ? name : "",
					PACKAGE_VERSION);
		relay_admin_request_refuse(request, "unknown-command", message);
		return;
	}

	job = request->job = g_new0(RelayAdminJob, 1);
	if (!relay_admin_arg(args, "domain", &job->domain, &error) ||
	    !relay_admin_arg(args, "network", &job->network, &error) ||
	    !relay_admin_arg(args, "state", &job->state, &error) ||
	    !relay_admin_arg(args, "direction", &job->direction, &error) ||
	    !relay_admin_arg(args, "reason", &job->reason, &error) ||
	    !relay_admin_arg(args, "host", &job->host, &error) ||
	    !relay_admin_arg(args, "name", &job->name, &error) ||
	    !relay_admin_arg(args, "csv", &job->csv, &error) ||
	    !relay_admin_arg(args, "file", &job->file, &error) ||
	    !relay_admin_arg(args, "url", &job->url, &error) ||
	    !relay_admin_arg(args, "mode", &job->mode, &error) ||
	    !relay_admin_arg_boolean(args, "advice", &job->advice, &error)) {
		relay_admin_request_refuse(request, "invalid", error->message);
		return;
	}
	if (job->host != NULL) {
		gchar *lower = g_ascii_strdown(job->host, -1);
		g_free(job->host);
		job->host = g_strstrip(lower);
	}
	if (job->reason != NULL && job->reason[0] == '\0')
		g_clear_pointer(&job->reason, g_free);
	job->networks = relay_admin_networks_snapshot(self);
	job->origin = g_strdup(relay_config_get_public_url(self->config));
	job->now_us = g_get_real_time();
	request->what = relay_admin_describe(request->command, job);
	if (request->command->prepare != NULL)
		request->command->prepare(request);
	if (request->command->fetch != NULL) {
		request->command->fetch(request);
		return;
	}
	relay_admin_request_run_job(request);
}

/* runs the request's command on a store worker, and answers */
static void
relay_admin_request_run_job(RelayAdminRequest *request)
{
	RelayAdmin *self = request->admin;
	RelayAdminJob *job = request->job;

	/* no cancellable: a change runs to its end even if the client goes away */
	job->run = request->command->run;
	relay_store_run_async(self->store,
			      relay_admin_job_run_cb,
			      job,
			      NULL,
			      relay_admin_request_run_job,
			      NULL,
			      relay_admin_job_done_cb,
			      request);
}

static void
relay_admin_request_read(RelayAdminRequest *request);

static void
relay_admin_request_read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	RelayAdminRequest *request = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) bytes =
		g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), res, &error);
	const guint8 *data;
	const guint8 *newline;
	gsize size = 0;

	if (bytes == NULL) {
		g_debug("admin: reading a request failed: %s", error->message);
		g_io_stream_close_async(G_IO_STREAM(request->connection),
					G_PRIORITY_DEFAULT,
					NULL,
					relay_admin_request_closed_cb,
					request);
		return;
	}
	data = g_bytes_get_data(bytes, &size);
	if (size == 0) {
		/* the client closed its side: what came is the request */
		if (request->buffer->len == 0) {
			g_io_stream_close_async(G_IO_STREAM(request->connection),
						G_PRIORITY_DEFAULT,
						NULL,
						relay_admin_request_closed_cb,
						request);
			return;
		}
		relay_admin_request_dispatch(request);
		return;
	}
	newline = memchr(data, '\n', size);
	g_byte_array_append(
		request->buffer, data, newline != NULL ? (guint)(newline - data) : size);
	if (request->buffer->len > RELAY_ADMIN_MAX_REQUEST_BYTES) {
		g_autofree gchar *message = g_strdup_printf("the request is larger than %u bytes",
							    RELAY_ADMIN_MAX_REQUEST_BYTES);
		relay_admin_request_refuse(request, "too-large", message);
		return;
	}
	if (newline != NULL) {
		relay_admin_request_dispatch(request);
		return;
	}
	relay_admin_request_read(request);
}

static void
relay_admin_request_read(RelayAdminRequest *request)
{
	GInputStream *input = g_io_stream_get_input_stream(G_IO_STREAM(request->connection));
	g_input_stream_read_bytes_async(input,
					RELAY_ADMIN_READ_CHUNK,
					G_PRIORITY_DEFAULT,
					request->cancellable,
					relay_admin_request_read_cb,
					request);
}

static gboolean
relay_admin_request_timeout_cb(gpointer user_data)
{
	RelayAdminRequest *request = user_data;

	request->timeout_id = 0;
	g_debug("admin: a client sent no request in %d s", RELAY_ADMIN_TIMEOUT_S);
	g_cancellable_cancel(request->cancellable);
	return G_SOURCE_REMOVE;
}

static gboolean
relay_admin_incoming_cb(GSocketService *service,
			GSocketConnection *connection,
			GObject *source_object,
			gpointer user_data)
{
	RelayAdmin *self = RELAY_ADMIN(user_data);
	RelayAdminRequest *request = g_new0(RelayAdminRequest, 1);
	GSocket *socket = g_socket_connection_get_socket(connection);
	g_autoptr(GCredentials) credentials = NULL;
	g_autoptr(GError) error = NULL;
	uid_t uid = (uid_t)-1;

	request->admin = g_object_ref(self);
	request->connection = g_object_ref(connection);
	request->cancellable = g_cancellable_new();
	request->buffer = g_byte_array_new();
	request->timeout_id = g_timeout_add_seconds(
		RELAY_ADMIN_TIMEOUT_S, relay_admin_request_timeout_cb, request);

	/* the socket is mode 0600, and the peer must be our user or root all the same */
	credentials = g_socket_get_credentials(socket, &error);
	if (credentials != NULL)
		uid = g_credentials_get_unix_user(credentials, &error);
	request->uid = (guint)uid;
	if (uid == (uid_t)-1 || (uid != getuid() && uid != 0)) {
		g_autofree gchar *message = NULL;
		if (uid == (uid_t)-1)
			message = g_strdup_printf("cannot tell who is asking: %s", error->message);
		else
			message = g_strdup_printf("uid %u may not run admin commands on this node "
						  "(it runs as uid %u; root may too)",
						  (guint)uid,
						  (guint)getuid());
		g_warning("admin: refused a connection: %s", message);
		relay_admin_request_refuse(request, "forbidden", message);
		return TRUE;
	}
	relay_admin_request_read(request);
	return TRUE;
}

/* the socket */

static gboolean
relay_admin_check_directory(const gchar *path, GError **error)
{
	g_autofree gchar *dir = g_path_get_dirname(path);
	struct stat st;

	if (stat(dir, &st) != 0) {
		gint saved = errno;
		g_set_error(
			error,
			RELAY_ERROR,
			RELAY_ERROR_LISTEN,
			"admin socket %s: directory %s: %s; create it, owned by the node's user "
			"and writable by it only, or set [admin] socket (empty turns the admin "
			"commands off)",
			path,
			dir,
			saved == ENOENT ? "does not exist" : g_strerror(saved));
		return FALSE;
	}
	if (!S_ISDIR(st.st_mode)) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_LISTEN,
			    "admin socket %s: %s is not a directory",
			    path,
			    dir);
		return FALSE;
	}
	if (st.st_uid != getuid() && st.st_uid != 0) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_LISTEN,
			    "admin socket %s: directory %s belongs to uid %u, neither the node's "
			    "user (uid %u) nor root: its owner could replace the socket",
			    path,
			    dir,
			    (guint)st.st_uid,
			    (guint)getuid());
		return FALSE;
	}
	/* root's sticky directories (/tmp) keep others from replacing what is ours */
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
	    !(st.st_uid == 0 && (st.st_mode & S_ISVTX) != 0)) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_LISTEN,
			    "admin socket %s: directory %s is writable by other users (mode %04o): "
			    "they could replace the socket; use a directory only the node's user "
			    "can write",
			    path,
			    dir,
			    (guint)(st.st_mode & 07777));
		return FALSE;
	}
	return TRUE;
}

/* what is at the path already: nothing, or a stale socket (removed); anything else refused */
static gboolean
relay_admin_clear_path(const gchar *path, GError **error)
{
	g_autoptr(GSocket) probe = NULL;
	g_autoptr(GSocketAddress) address = NULL;
	g_autoptr(GError) error_local = NULL;
	struct stat st;

	if (lstat(path, &st) != 0) {
		gint saved = errno;
		if (saved == ENOENT)
			return TRUE;
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_LISTEN,
			    "admin socket %s: %s",
			    path,
			    g_strerror(saved));
		return FALSE;
	}
	if (!S_ISSOCK(st.st_mode)) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_LISTEN,
			    "admin socket %s: the path exists and is not a socket; refusing to "
			    "replace it (remove it, or set another [admin] socket)",
			    path);
		return FALSE;
	}
	probe = g_socket_new(
		G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, error);
	if (probe == NULL)
		return FALSE;
	address = g_unix_socket_address_new(path);
	if (g_socket_connect(probe, address, NULL, &error_local)) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_LISTEN,
			    "admin socket %s: another relay node is running and listening on it; "
			    "stop it first, or give this node another [admin] socket",
			    path);
		return FALSE;
	}
	if (!g_error_matches(error_local, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED)) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_LISTEN,
			    "admin socket %s: cannot tell whether a node listens on it: %s",
			    path,
			    error_local->message);
		return FALSE;
	}
	if (unlink(path) != 0) {
		gint saved = errno;
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_LISTEN,
			    "admin socket %s: cannot remove the stale socket: %s",
			    path,
			    g_strerror(saved));
		return FALSE;
	}
	g_message("admin socket %s: removed a stale socket nothing listened on", path);
	return TRUE;
}

/**
 * relay_admin_listen:
 * @path: an absolute path, from [admin] socket
 *
 * Checks that @path is safe, creates the socket there (mode 0600) and serves admin commands
 * on the main context. Every refusal names the path and the reason.
 */
gboolean
relay_admin_listen(RelayAdmin *self, const gchar *path, GError **error)
{
	g_autoptr(GSocket) socket = NULL;
	g_autoptr(GSocketAddress) address = NULL;
	g_autoptr(GError) error_local = NULL;
	struct sockaddr_un sockaddr;
	struct stat st;
	mode_t old_umask;
	gboolean bound;

	g_return_val_if_fail(RELAY_IS_ADMIN(self), FALSE);
	g_return_val_if_fail(self->service == NULL, FALSE);
	if (strlen(path) >= sizeof(sockaddr.sun_path)) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_LISTEN,
			    "admin socket %s: the path is too long for a Unix socket (at most %zu "
			    "bytes)",
			    path,
			    sizeof(sockaddr.sun_path) - 1);
		return FALSE;
	}
	if (!relay_admin_check_directory(path, error) || !relay_admin_clear_path(path, error))
		return FALSE;

	socket = g_socket_new(
		G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, error);
	if (socket == NULL)
		return FALSE;
	address = g_unix_socket_address_new(path);
	/* never a moment with looser permissions: the socket is created 0600 */
	old_umask = umask(0077);
	bound = g_socket_bind(socket, address, FALSE, &error_local);
	umask(old_umask);
	if (!bound) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_LISTEN,
			    "admin socket %s: %s",
			    path,
			    error_local->message);
		return FALSE;
	}
	if (chmod(path, 0600) != 0 || lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode) ||
	    (st.st_mode & 0777) != 0600) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_LISTEN,
			    "admin socket %s: cannot make it mode 0600",
			    path);
		unlink(path);
		return FALSE;
	}
	self->socket_dev = st.st_dev;
	self->socket_ino = st.st_ino;
	self->path = g_strdup(path);
	g_socket_set_listen_backlog(socket, 64);
	self->service = g_socket_service_new();
	if (!g_socket_listen(socket, &error_local) ||
	    !g_socket_listener_add_socket(
		    G_SOCKET_LISTENER(self->service), socket, NULL, &error_local)) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_LISTEN,
			    "admin socket %s: %s",
			    path,
			    error_local->message);
		relay_admin_stop(self);
		return FALSE;
	}
	g_signal_connect(self->service, "incoming", G_CALLBACK(relay_admin_incoming_cb), self);
	g_socket_service_start(self->service);
	g_message("admin commands on %s", path);
	return TRUE;
}

/**
 * relay_admin_get_path:
 *
 * Returns: (nullable): the socket's path, while listening
 */
const gchar *
relay_admin_get_path(RelayAdmin *self)
{
	g_return_val_if_fail(RELAY_IS_ADMIN(self), NULL);
	return self->path;
}

/**
 * relay_admin_stop:
 *
 * Stops listening and removes the socket, if it is still the one this node made. Requests
 * being served finish.
 */
void
relay_admin_stop(RelayAdmin *self)
{
	struct stat st;

	g_return_if_fail(RELAY_IS_ADMIN(self));
	if (self->service != NULL) {
		g_socket_service_stop(self->service);
		g_socket_listener_close(G_SOCKET_LISTENER(self->service));
		g_signal_handlers_disconnect_by_data(self->service, self);
		g_clear_object(&self->service);
	}
	if (self->path != NULL && lstat(self->path, &st) == 0 && st.st_dev == self->socket_dev &&
	    st.st_ino == self->socket_ino)
		unlink(self->path);
	g_clear_pointer(&self->path, g_free);
}

/**
 * relay_admin_new:
 * @config: the configuration in force
 * @store: the node's storage
 * @deliverer: the delivery engine (breakers, recent outcomes)
 *
 * Returns: (transfer full): the admin API, not listening yet
 */
RelayAdmin *
relay_admin_new(RelayConfig *config, RelayStore *store, RelayDeliverer *deliverer)
{
	RelayAdmin *self = g_object_new(RELAY_TYPE_ADMIN, NULL);
	self->config = g_object_ref(config);
	self->store = g_object_ref(store);
	self->deliverer = g_object_ref(deliverer);
	return self;
}

void
relay_admin_set_config(RelayAdmin *self, RelayConfig *config)
{
	g_return_if_fail(RELAY_IS_ADMIN(self));
	g_set_object(&self->config, config);
}

/**
 * relay_admin_set_block_poller:
 * @poller: (nullable): fetches subscribed block lists; a new subscription asks it for a round
 */
void
relay_admin_set_block_poller(RelayAdmin *self, RelayBlockPoller *poller)
{
	g_return_if_fail(RELAY_IS_ADMIN(self));
	g_set_object(&self->block_poller, poller);
}

/**
 * relay_admin_set_peer_sources:
 * @cache: fetches remote networks for `relay peers add`
 * @traffic: (nullable): what `relay peers list` shows of the last hour
 */
void
relay_admin_set_peer_sources(RelayAdmin *self, RelayActorCache *cache, RelayPeerTraffic *traffic)
{
	g_return_if_fail(RELAY_IS_ADMIN(self));
	g_set_object(&self->actor_cache, cache);
	g_set_object(&self->peer_traffic, traffic);
}

/**
 * relay_admin_set_networks:
 * @networks: (element-type utf8 RelayNetwork): the networks by name
 */
void
relay_admin_set_networks(RelayAdmin *self, GHashTable *networks)
{
	g_return_if_fail(RELAY_IS_ADMIN(self));
	g_clear_pointer(&self->networks, g_hash_table_unref);
	if (networks != NULL)
		self->networks = g_hash_table_ref(networks);
}

static void
relay_admin_dispose(GObject *object)
{
	RelayAdmin *self = RELAY_ADMIN(object);

	relay_admin_stop(self);
	g_clear_object(&self->config);
	g_clear_object(&self->store);
	g_clear_object(&self->deliverer);
	g_clear_object(&self->block_poller);
	g_clear_object(&self->actor_cache);
	g_clear_object(&self->peer_traffic);
	g_clear_pointer(&self->networks, g_hash_table_unref);
	G_OBJECT_CLASS(relay_admin_parent_class)->dispose(object);
}

static void
relay_admin_init(RelayAdmin *self)
{
	self->started_us = g_get_real_time();
	self->started_monotonic_us = g_get_monotonic_time();
}

static void
relay_admin_class_init(RelayAdminClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = relay_admin_dispose;
}
