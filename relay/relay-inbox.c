/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * The inbox: every POST to a network's inbox goes through the same chain.
 *
 *   1. the signature is parsed and checked (coverage, clock, digest) and the activity parsed:
 *      no I/O, answered at once when wrong (401, 400);
 *   2. the key is found (storage, else a signed GET by the network's key) and the signature
 *      verified; when it fails with a cached key, the key is fetched once more (rotation);
 *      the key's owner must be the activity's actor;
 *   3. the activity is decided and acted on in one job on a store worker: subscriptions
 *      (Follow, Undo, Accept and Reject of our follow-back), or relaying (Create, Announce,
 *      Update, Delete, Move, Undo of Announce) to the other members;
 *   4. the answer is 202 only once everything the activity causes is durably queued; a storage
 *      failure answers 503 and queues nothing.
 *
 * Relaying follows DESIGN.md: only accepted members publish (by the domain of their actor);
 * signed activities (LD signature or FEP-8b32 proof) go byte-identical to Mastodon-style
 * members, everything else that can be wrapped goes as an Announce by the network actor, and
 * LitePub members always get the Announce; unsigned Update, Delete and Move are dropped since
 * receivers could not verify them. Never back to the sender's host nor the object's origin
 * host, one delivery per shared inbox, and each activity (and each wrapped object) once.
 */

#include "config.h"

#include <json-glib/json-glib.h>

#include "relay-activity.h"
#include "relay-filter.h"
#include "relay-http-sig.h"
#include "relay-inbox.h"
#include "relay-log.h"
#include "relay-membership.h"
#include "relay-peer-traffic.h"

/* how long activity ids stay in the seen-set */
#define RELAY_INBOX_SEEN_TTL_US ((gint64)G_USEC_PER_SEC * 3600 * 24 * 7)
/* what a sender is told to wait when a key cannot be fetched right now */
#define RELAY_INBOX_RETRY_AFTER_S 120

/* activities written to storage together (see relay_inbox_batch_start) */
typedef struct _RelayInboxBatch RelayInboxBatch;
typedef struct _RelayInboxBatchItem RelayInboxBatchItem;
static void
relay_inbox_batch_item_free(RelayInboxBatchItem *item);

struct _RelayInbox {
	GObject parent_instance;
	RelayConfig *config;
	RelayStore *store;
	RelayActorCache *cache;
	RelayInboxWakeFunc wake;
	gpointer wake_data;
	RelayInboxHoldsFunc holds;
	gpointer holds_data;
	RelayInboxAcceptedFunc accepted;
	gpointer accepted_data;
	RelayPeerTraffic *traffic; /* (nullable) */
	guint in_flight;
	GHashTable *requests; /* (element-type utf8 guint64): "NETWORK STATUS" -> requests */
	guint64 signature_failures[RELAY_INBOX_SIGNATURE_FAILURE_LAST];
	GPtrArray *batch_waiting;	/* (element-type RelayInboxBatchItem): the next batch */
	RelayInboxBatch *batch_running; /* (nullable): the batch storage is writing */
};

G_DEFINE_FINAL_TYPE(RelayInbox, relay_inbox, G_TYPE_OBJECT)

/* one POST being processed; answered exactly once */
typedef struct {
	RelayInbox *inbox;	/* (owned) */
	SoupServerMessage *msg; /* (owned) */
	RelayNetwork *network;	/* (owned) */
	GCancellable *cancellable;
	gulong finished_id;
	gboolean answered;
	gint64 started_us;
	GBytes *body;
	RelayHttpRequest *request;
	RelayHttpSignature *signature;
	RelayActivity *activity;
	RelayCachedKey *key;
	gboolean refreshed;
	gchar *sender_host;
	gchar *forwarder; /* (nullable): the signer, when it relays someone else's activity */
} RelayInboxPost;

static void
relay_inbox_post_finished_cb(SoupServerMessage *msg, gpointer user_data)
{
	RelayInboxPost *post = user_data;
	post->answered = TRUE;
	g_cancellable_cancel(post->cancellable);
}

static void
relay_inbox_post_free(RelayInboxPost *post)
{
	post->inbox->in_flight--;
	post->finished_id = 0;
	g_signal_handlers_disconnect_by_data(post->msg, post);
	g_object_unref(post->cancellable);
	g_object_unref(post->msg);
	g_object_unref(post->network);
	g_object_unref(post->inbox);
	g_clear_pointer(&post->body, g_bytes_unref);
	g_clear_pointer(&post->request, relay_http_request_free);
	g_clear_pointer(&post->signature, relay_http_signature_free);
	g_clear_pointer(&post->activity, relay_activity_free);
	g_clear_pointer(&post->key, relay_cached_key_free);
	g_free(post->sender_host);
	g_free(post->forwarder);
	g_free(post);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayInboxPost, relay_inbox_post_free)

/* one info line per request: network, what came, from whom, and what became of it */
static void
relay_inbox_post_log(RelayInboxPost *post, guint status, const gchar *reason)
{
	g_autofree gchar *id = NULL;
	g_autofree gchar *actor = NULL;
	g_autofree gchar *why = relay_log_sanitize(reason, 200);
	const gchar *type = "-";

	if (post->activity != NULL) {
		id = relay_log_sanitize(post->activity->id, 200);
		actor = relay_log_sanitize(post->activity->actor, 200);
		if (post->activity->types != NULL && post->activity->types[0] != NULL)
			type = post->activity->types[0];
	}
	g_autofree gchar *status_text = g_strdup_printf("%u", status);

	g_log_structured(G_LOG_DOMAIN,
			 G_LOG_LEVEL_INFO,
			 "RELAY_NETWORK",
			 relay_network_get_name(post->network),
			 "RELAY_STATUS",
			 status_text,
			 "MESSAGE",
			 "inbox %s: %u %s %s from %s: %s (%" G_GINT64_FORMAT " ms)",
			 relay_network_get_name(post->network),
			 status,
			 type,
			 id != NULL ? id : "-",
			 actor != NULL ? actor : "-",
			 why,
			 (g_get_monotonic_time() - post->started_us) / 1000);
}

static void
relay_inbox_count(RelayInbox *self, const gchar *network, guint status)
{
	g_autofree gchar *key = g_strdup_printf("%s %u", network, status);
	guint64 *count = g_hash_table_lookup(self->requests, key);

	if (count == NULL) {
		count = g_new0(guint64, 1);
		g_hash_table_insert(self->requests, g_steal_pointer(&key), count);
	}
	(*count)++;
}

/* answers the POST once, if its client is still there; consumes @post */
static void
relay_inbox_post_answer(RelayInboxPost *post, guint status, const gchar *reason)
{
	g_autoptr(RelayInboxPost) owned = post;
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autoptr(JsonNode) root = NULL;
	gchar *body;
	gsize length = 0;

	relay_inbox_post_log(post, status, reason);
	relay_inbox_count(post->inbox, relay_network_get_name(post->network), status);
	if (post->answered)
		return;
	post->answered = TRUE;
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, status < 300 ? "status" : "error");
	json_builder_add_string_value(builder, reason);
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	json_generator_set_root(generator, root);
	body = json_generator_to_data(generator, &length);
	soup_server_message_set_status(post->msg, status, NULL);
	if (status == SOUP_STATUS_SERVICE_UNAVAILABLE) {
		g_autofree gchar *retry = g_strdup_printf("%d", RELAY_INBOX_RETRY_AFTER_S);
		soup_message_headers_replace(
			soup_server_message_get_response_headers(post->msg), "Retry-After", retry);
	}
	soup_server_message_set_response(
		post->msg, "application/json", SOUP_MEMORY_TAKE, body, length);
	soup_server_message_unpause(post->msg);
}

/* which kind of signature failure @error is; LAST when it is none (storage, transient) */
static RelayInboxSignatureFailure
relay_inbox_signature_failure_of(const GError *error)
{
	if (error == NULL || error->domain != RELAY_FED_ERROR)
		return RELAY_INBOX_SIGNATURE_FAILURE_LAST;
	switch (error->code) {
	case RELAY_FED_ERROR_UNSIGNED:
		return RELAY_INBOX_SIGNATURE_FAILURE_UNSIGNED;
	case RELAY_FED_ERROR_MALFORMED_SIGNATURE:
		return RELAY_INBOX_SIGNATURE_FAILURE_MALFORMED;
	case RELAY_FED_ERROR_UNKNOWN_ALGORITHM:
		return RELAY_INBOX_SIGNATURE_FAILURE_UNKNOWN_ALGORITHM;
	case RELAY_FED_ERROR_MISSING_COMPONENT:
		return RELAY_INBOX_SIGNATURE_FAILURE_MISSING_COMPONENT;
	case RELAY_FED_ERROR_DIGEST_MISMATCH:
		return RELAY_INBOX_SIGNATURE_FAILURE_DIGEST_MISMATCH;
	case RELAY_FED_ERROR_STALE_DATE:
		return RELAY_INBOX_SIGNATURE_FAILURE_STALE_DATE;
	case RELAY_FED_ERROR_BAD_SIGNATURE:
		return RELAY_INBOX_SIGNATURE_FAILURE_BAD_SIGNATURE;
	case RELAY_FED_ERROR_TRANSIENT:
		return RELAY_INBOX_SIGNATURE_FAILURE_LAST;
	default:
		return RELAY_INBOX_SIGNATURE_FAILURE_KEY_NOT_FOUND;
	}
}

static void
relay_inbox_count_signature_failure(RelayInbox *self, RelayInboxSignatureFailure failure)
{
	if (failure < RELAY_INBOX_SIGNATURE_FAILURE_LAST)
		self->signature_failures[failure]++;
}

static guint
relay_inbox_status_for_error(const GError *error)
{
	if (g_error_matches(error, RELAY_FED_ERROR, RELAY_FED_ERROR_DIGEST_MISMATCH) ||
	    g_error_matches(error, RELAY_FED_ERROR, RELAY_FED_ERROR_INVALID_DOCUMENT))
		return SOUP_STATUS_BAD_REQUEST;
	if (g_error_matches(error, RELAY_FED_ERROR, RELAY_FED_ERROR_TRANSIENT))
		return SOUP_STATUS_SERVICE_UNAVAILABLE;
	if (error->domain == RELAY_STORE_ERROR)
		return SOUP_STATUS_SERVICE_UNAVAILABLE;
	return SOUP_STATUS_UNAUTHORIZED;
}

/*
 * The store jobs. Each runs on a store worker thread with everything it needs copied in, and
 * answers a RelayInboxVerdict.
 */
typedef enum {
	RELAY_INBOX_JOB_FOLLOW,
	RELAY_INBOX_JOB_UNDO_FOLLOW,
	RELAY_INBOX_JOB_ACCEPT,
	RELAY_INBOX_JOB_REJECT,
	RELAY_INBOX_JOB_REMOVE_ACTOR,
	RELAY_INBOX_JOB_RELAY,
} RelayInboxJobKind;

typedef struct {
	RelayInboxJobKind kind;
	gchar *network;
	RelayJoinPolicy join;
	gchar *actor;
	gchar *sender_host;
	gchar *object_host; /* (nullable) */
	gchar *activity_id; /* (nullable) */
	gchar *object_id;   /* (nullable) */
	gchar *forwarder; /* (nullable): the signer when it is not the actor (a peer, or refused) */
	gchar *forwarder_host; /* (nullable) */
	/* follows */
	gchar *inbox;
	gchar *shared_inbox;
	RelayMemberProtocol protocol;
	GBytes *accept;	     /* (nullable) */
	GBytes *reject;	     /* (nullable) */
	GBytes *follow_back; /* (nullable) */
	gchar *follow_back_id;
	/* relaying */
	GBytes *raw;	  /* (nullable): forward as is to Mastodon-style members */
	GBytes *announce; /* (nullable): the Announce form */
	gint64 now_us;
} RelayInboxJob;

typedef struct {
	guint status;
	gchar *reason;
	gboolean queued;	 /* something was enqueued: wake the deliverer */
	gchar *accepted_network; /* (nullable): a member became accepted... */
	gchar *accepted_actor;	 /* ...this one */
	gchar *peer_actor;	 /* (nullable): the peer that relayed it to us, for its traffic */
	gboolean actor_mismatch; /* refused: signed by someone who may not relay others' posts */
} RelayInboxVerdict;

static void
relay_inbox_job_free(RelayInboxJob *job)
{
	g_free(job->network);
	g_free(job->actor);
	g_free(job->sender_host);
	g_free(job->object_host);
	g_free(job->activity_id);
	g_free(job->object_id);
	g_free(job->forwarder);
	g_free(job->forwarder_host);
	g_free(job->inbox);
	g_free(job->shared_inbox);
	g_clear_pointer(&job->accept, g_bytes_unref);
	g_clear_pointer(&job->reject, g_bytes_unref);
	g_clear_pointer(&job->follow_back, g_bytes_unref);
	g_free(job->follow_back_id);
	g_clear_pointer(&job->raw, g_bytes_unref);
	g_clear_pointer(&job->announce, g_bytes_unref);
	g_free(job);
}

static void
relay_inbox_verdict_free(RelayInboxVerdict *verdict)
{
	g_free(verdict->reason);
	g_free(verdict->accepted_network);
	g_free(verdict->accepted_actor);
	g_free(verdict->peer_actor);
	g_free(verdict);
}

static void
relay_inbox_job_return(GTask *task, guint status, gboolean queued, const gchar *format, ...)
	G_GNUC_PRINTF(4, 5);

static void
relay_inbox_job_return(GTask *task, guint status, gboolean queued, const gchar *format, ...)
{
	RelayInboxVerdict *verdict = g_new0(RelayInboxVerdict, 1);
	va_list args;

	va_start(args, format);
	verdict->reason = g_strdup_vprintf(format, args);
	va_end(args);
	verdict->status = status;
	verdict->queued = queued;
	g_task_return_pointer(task, verdict, (GDestroyNotify)relay_inbox_verdict_free);
}

/* the same, telling the main loop that @member has just become accepted */
static void
relay_inbox_job_return_accepted(
	GTask *task, const RelayMember *member, gboolean queued, const gchar *format, ...)
	G_GNUC_PRINTF(4, 5);

static void
relay_inbox_job_return_accepted(
	GTask *task, const RelayMember *member, gboolean queued, const gchar *format, ...)
{
	RelayInboxVerdict *verdict = g_new0(RelayInboxVerdict, 1);
	va_list args;

	va_start(args, format);
	verdict->reason = g_strdup_vprintf(format, args);
	va_end(args);
	verdict->status = SOUP_STATUS_ACCEPTED;
	verdict->queued = queued;
	verdict->accepted_network = g_strdup(member->network);
	verdict->accepted_actor = g_strdup(member->actor);
	g_task_return_pointer(task, verdict, (GDestroyNotify)relay_inbox_verdict_free);
}

/* queues one document to one inbox, with no seen-set entry */
static gboolean
relay_inbox_enqueue_one(RelayStore *store,
			const gchar *network,
			GBytes *body,
			const gchar *inbox,
			gint64 now_us,
			GCancellable *cancellable,
			GError **error)
{
	g_autoptr(GPtrArray) fanouts =
		g_ptr_array_new_with_free_func((GDestroyNotify)relay_fanout_free);
	RelayFanout *fanout = relay_fanout_new(network, body);

	relay_fanout_add_inbox(fanout, inbox);
	g_ptr_array_add(fanouts, fanout);
	return relay_store_delivery_enqueue(store, fanouts, now_us, cancellable, error);
}

static void
relay_inbox_follow_run(RelayStore *store,
		       RelayInboxJob *job,
		       GTask *task,
		       GCancellable *cancellable)
{
	g_autoptr(GPtrArray) policies = NULL;
	g_autoptr(RelayMember) existing = NULL;
	g_autoptr(RelayMember) member = NULL;
	g_autoptr(GError) error = NULL;
	RelayDomainPolicy *block;
	gboolean following_back = FALSE;
	gboolean peer;

	policies = relay_store_policy_list(store, cancellable, &error);
	if (policies == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	existing = relay_store_member_get(store, job->network, job->actor, cancellable, NULL);
	/* a network our admin peered with is in, whatever the join policy (blocks still hold) */
	peer = existing != NULL && existing->is_peer;
	block = relay_policy_find(
		policies, job->network, job->sender_host, RELAY_POLICY_KIND_BLOCK);
	if (block != NULL ||
	    (job->join == RELAY_JOIN_POLICY_CLOSED && !peer &&
	     relay_policy_find(policies, job->network, job->sender_host, RELAY_POLICY_KIND_ALLOW) ==
		     NULL)) {
		if (!relay_inbox_enqueue_one(store,
					     job->network,
					     job->reject,
					     job->inbox,
					     job->now_us,
					     cancellable,
					     &error)) {
			g_task_return_error(task, g_steal_pointer(&error));
			return;
		}
		/* a member whose domain got blocked leaves with the Reject (none: nothing to do) */
		if (block != NULL &&
		    !relay_store_member_remove(store, job->network, job->actor, cancellable, NULL))
			g_debug("%s was not a member", job->actor);
		if (block != NULL) {
			relay_inbox_job_return(task,
					       SOUP_STATUS_FORBIDDEN,
					       TRUE,
					       "domain %s is blocked: Reject queued",
					       block->domain);
			return;
		}
		relay_inbox_job_return(
			task, SOUP_STATUS_ACCEPTED, TRUE, "the network is closed: Reject queued");
		return;
	}

	member = relay_member_new(job->network, job->actor, job->inbox);
	if (existing != NULL) {
		/* a duplicate Follow keeps what the member had, and is accepted again */
		member->created_at_us = existing->created_at_us;
		member->direction = existing->direction;
		member->is_peer = existing->is_peer;
		member->state = existing->state;
		member->follow_back_id = g_strdup(existing->follow_back_id);
		member->follow_back_state = existing->follow_back_state;
	}
	g_free(member->shared_inbox);
	member->shared_inbox = g_strdup(job->shared_inbox);
	member->protocol = job->protocol;
	member->follow_id = g_strdup(job->activity_id);
	member->last_seen_us = job->now_us;
	if (peer) {
		/* we follow it already: no follow-back, and no approval to wait for */
		member->state = RELAY_MEMBER_STATE_ACCEPTED;
		g_clear_pointer(&job->follow_back, g_bytes_unref);
	} else if (existing == NULL || existing->state == RELAY_MEMBER_STATE_REJECTED) {
		if (job->join == RELAY_JOIN_POLICY_APPROVAL)
			member->state = RELAY_MEMBER_STATE_PENDING;
		else if (job->protocol == RELAY_MEMBER_PROTOCOL_LITEPUB)
			member->state =
				RELAY_MEMBER_STATE_PENDING; /* until they accept our follow */
		else
			member->state = RELAY_MEMBER_STATE_ACCEPTED;
	}
	if (member->state == RELAY_MEMBER_STATE_PENDING &&
	    job->join == RELAY_JOIN_POLICY_APPROVAL &&
	    (existing == NULL || existing->state != RELAY_MEMBER_STATE_ACCEPTED)) {
		if (!relay_store_member_put(store, member, cancellable, &error)) {
			g_task_return_error(task, g_steal_pointer(&error));
			return;
		}
		relay_inbox_job_return(
			task, SOUP_STATUS_ACCEPTED, FALSE, "waiting for the admin's approval");
		return;
	}
	/* the Accept, and for LitePub our follow-back, as an admin's approval sends them */
	if (!relay_membership_accept(store,
				     member,
				     job->accept,
				     job->follow_back,
				     job->follow_back_id,
				     job->now_us,
				     &following_back,
				     cancellable,
				     &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	if (member->state == RELAY_MEMBER_STATE_ACCEPTED &&
	    (existing == NULL || existing->state != RELAY_MEMBER_STATE_ACCEPTED)) {
		relay_inbox_job_return_accepted(
			task, member, TRUE, "%s", existing != NULL ? "accepted again" : "accepted");
		return;
	}
	relay_inbox_job_return(task,
			       SOUP_STATUS_ACCEPTED,
			       TRUE,
			       "%s%s",
			       existing != NULL ? "accepted again" : "accepted",
			       following_back ? ", following back" : "");
}

/* the member @job->actor of @job->network, when @job->object_id names its Follow (ours or
 * theirs), or when no id was given */
static RelayMember *
relay_inbox_member_for(RelayStore *store,
		       RelayInboxJob *job,
		       gboolean ours,
		       GCancellable *cancellable)
{
	g_autoptr(RelayMember) member =
		relay_store_member_get(store, job->network, job->actor, cancellable, NULL);
	const gchar *follow_id;

	if (member == NULL)
		return NULL;
	follow_id = ours ? member->follow_back_id : member->follow_id;
	if (job->object_id != NULL && follow_id != NULL &&
	    g_strcmp0(job->object_id, follow_id) != 0)
		return NULL;
	return g_steal_pointer(&member);
}

static void
relay_inbox_membership_run(RelayStore *store,
			   RelayInboxJob *job,
			   GTask *task,
			   GCancellable *cancellable)
{
	gboolean ours = job->kind == RELAY_INBOX_JOB_ACCEPT || job->kind == RELAY_INBOX_JOB_REJECT;
	g_autoptr(RelayMember) member = NULL;
	g_autoptr(GError) error = NULL;

	if (job->kind == RELAY_INBOX_JOB_REMOVE_ACTOR)
		member = relay_store_member_get(store, job->network, job->actor, cancellable, NULL);
	else
		member = relay_inbox_member_for(store, job, ours, cancellable);
	if (member == NULL) {
		relay_inbox_job_return(task, SOUP_STATUS_ACCEPTED, FALSE, "no such membership");
		return;
	}
	if (job->kind == RELAY_INBOX_JOB_ACCEPT) {
		gboolean newly_accepted = FALSE;
		if (member->follow_back_id != NULL)
			member->follow_back_state = RELAY_MEMBER_STATE_ACCEPTED;
		/* a peer's own membership is its Follow of us, not its answer to ours */
		if (member->state == RELAY_MEMBER_STATE_PENDING && member->follow_back_id != NULL &&
		    !member->is_peer) {
			member->state = RELAY_MEMBER_STATE_ACCEPTED;
			newly_accepted = TRUE;
		}
		member->last_seen_us = job->now_us;
		if (!relay_store_member_put(store, member, cancellable, &error)) {
			g_task_return_error(task, g_steal_pointer(&error));
			return;
		}
		if (newly_accepted) {
			relay_inbox_job_return_accepted(
				task, member, FALSE, "our follow is accepted: member accepted");
			return;
		}
		if (member->is_peer) {
			relay_inbox_job_return(task,
					       SOUP_STATUS_ACCEPTED,
					       FALSE,
					       "our follow is accepted: peering %s",
					       relay_peer_state_to_string(member));
			return;
		}
		relay_inbox_job_return(task,
				       SOUP_STATUS_ACCEPTED,
				       FALSE,
				       "our follow is accepted: member %s",
				       relay_member_state_to_string(member->state));
		return;
	}
	/* a peer stays one until our admin removes it: it only stops following us, or refuses
	 * our Follow, and `relay peers list` says so */
	if (member->is_peer &&
	    (job->kind == RELAY_INBOX_JOB_REJECT || job->kind == RELAY_INBOX_JOB_UNDO_FOLLOW)) {
		if (job->kind == RELAY_INBOX_JOB_REJECT) {
			member->follow_back_state = RELAY_MEMBER_STATE_REJECTED;
		} else {
			g_clear_pointer(&member->follow_id, g_free);
			member->state = RELAY_MEMBER_STATE_PENDING;
		}
		member->last_seen_us = job->now_us;
		if (!relay_store_member_put(store, member, cancellable, &error)) {
			g_task_return_error(task, g_steal_pointer(&error));
			return;
		}
		relay_inbox_job_return(task,
				       SOUP_STATUS_ACCEPTED,
				       FALSE,
				       "%s: peering %s",
				       job->kind == RELAY_INBOX_JOB_REJECT
					       ? "our follow is rejected"
					       : "the peer unfollowed us",
				       relay_peer_state_to_string(member));
		return;
	}
	if (!relay_store_member_remove(store, job->network, job->actor, cancellable, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	relay_inbox_job_return(task, SOUP_STATUS_ACCEPTED, FALSE, "member removed");
}

/*
 * Relaying is batched: the activities that arrive while storage writes one batch are written
 * together in the next, in one transaction (one sync to disk), and each POST is answered once
 * its batch is committed. Under load many POSTs share a commit; alone, a POST waits for no one.
 */
struct _RelayInboxBatchItem {
	RelayInboxPost *post;	    /* (owned) */
	RelayInboxJob *job;	    /* (owned) */
	RelayFanout *raw;	    /* (nullable) (unowned): in the batch's fanouts */
	RelayFanout *announce;	    /* (nullable) (unowned): in the batch's fanouts */
	RelayInboxVerdict *verdict; /* (nullable): the answer, once known */
	gchar *peer_actor;	    /* (nullable): the peer that relayed it */
};

struct _RelayInboxBatch {
	GPtrArray *items;	   /* (element-type RelayInboxBatchItem) */
	GPtrArray *fanouts;	   /* (element-type RelayFanout) */
	GHashTable *holds;	   /* (nullable): hosts whose rows are due later, see RelayFanout */
	RelayPeerTraffic *traffic; /* (nullable) (owned) */
};

static void
relay_inbox_batch_item_free(RelayInboxBatchItem *item)
{
	if (item->post != NULL)
		relay_inbox_post_free(item->post);
	relay_inbox_job_free(item->job);
	g_clear_pointer(&item->verdict, relay_inbox_verdict_free);
	g_free(item->peer_actor);
	g_free(item);
}

static void
relay_inbox_batch_free(RelayInboxBatch *batch)
{
	g_ptr_array_unref(batch->items);
	g_ptr_array_unref(batch->fanouts);
	g_clear_pointer(&batch->holds, g_hash_table_unref);
	g_clear_object(&batch->traffic);
	g_free(batch);
}

static RelayInboxVerdict *
relay_inbox_verdict_new(guint status, gboolean queued, const gchar *format, ...)
	G_GNUC_PRINTF(3, 4);

static RelayInboxVerdict *
relay_inbox_verdict_new(guint status, gboolean queued, const gchar *format, ...)
{
	RelayInboxVerdict *verdict = g_new0(RelayInboxVerdict, 1);
	va_list args;

	va_start(args, format);
	verdict->reason = g_strdup_vprintf(format, args);
	va_end(args);
	verdict->status = status;
	verdict->queued = queued;
	return verdict;
}

/* the member who relays @job to us: a peer by its actor (the signer), else an accepted member
 * by the domain of the activity's actor; %NULL when it is neither */
static RelayMember *
relay_inbox_relay_sender(RelayInboxJob *job, GPtrArray *members)
{
	const gchar *signer = job->forwarder != NULL ? job->forwarder : job->actor;

	for (guint i = 0; i < members->len; i++) {
		RelayMember *member = g_ptr_array_index(members, i);
		if (member->is_peer && g_strcmp0(member->actor, signer) == 0)
			return member;
	}
	/* only a peer may relay someone else's activity */
	if (job->forwarder != NULL)
		return NULL;
	for (guint i = 0; i < members->len; i++) {
		RelayMember *member = g_ptr_array_index(members, i);
		if (member->state == RELAY_MEMBER_STATE_ACCEPTED &&
		    g_ascii_strcasecmp(member->domain, job->sender_host) == 0)
			return member;
	}
	return NULL;
}

/* the first of the domains @job involves that @network blocks: its actor's, the peer's that
 * relays it, the object's origin */
static RelayDomainPolicy *
relay_inbox_relay_block(RelayInboxJob *job, GPtrArray *policies)
{
	const gchar *domains[] = {job->sender_host, job->forwarder_host, job->object_host};

	for (guint i = 0; i < G_N_ELEMENTS(domains); i++) {
		RelayDomainPolicy *block;
		if (domains[i] == NULL)
			continue;
		block = relay_policy_find(
			policies, job->network, domains[i], RELAY_POLICY_KIND_BLOCK);
		if (block != NULL)
			return block;
	}
	return NULL;
}

/* whether @member is one of the hosts @job came from: never send it back there */
static gboolean
relay_inbox_relay_is_origin(RelayInboxJob *job, const RelayMember *member)
{
	const gchar *hosts[] = {job->sender_host, job->forwarder_host, job->object_host};

	for (guint i = 0; i < G_N_ELEMENTS(hosts); i++) {
		if (hosts[i] != NULL && g_ascii_strcasecmp(member->domain, hosts[i]) == 0)
			return TRUE;
	}
	return FALSE;
}

/* adds @item's fan-outs to @fanouts, or gives it its verdict when it is refused; @members
 * are the network's members in every state */
static void
relay_inbox_relay_plan(RelayPeerTraffic *traffic,
		       RelayInboxBatchItem *item,
		       GPtrArray *policies,
		       GPtrArray *members,
		       GPtrArray *fanouts,
		       GHashTable *blocked)
{
	RelayInboxJob *job = item->job;
	g_autoptr(GHashTable) inboxes = g_hash_table_new(g_str_hash, g_str_equal);
	RelayMember *sender = relay_inbox_relay_sender(job, members);
	RelayDomainPolicy *block;

	if (sender == NULL && job->forwarder != NULL) {
		item->verdict = relay_inbox_verdict_new(
			SOUP_STATUS_UNAUTHORIZED,
			FALSE,
			"signed by %s, but the actor is %s (only a peer of this network may relay "
			"others' activities)",
			job->forwarder,
			job->actor);
		item->verdict->actor_mismatch = TRUE;
		return;
	}
	block = relay_inbox_relay_block(job, policies);
	if (block != NULL) {
		item->verdict = relay_inbox_verdict_new(
			SOUP_STATUS_FORBIDDEN, FALSE, "domain %s is blocked", block->domain);
		return;
	}
	if (sender == NULL) {
		item->verdict =
			relay_inbox_verdict_new(SOUP_STATUS_FORBIDDEN,
						FALSE,
						"%s is not an accepted member of this network",
						job->sender_host);
		return;
	}
	if (sender->direction == RELAY_MEMBER_DIRECTION_RECEIVE_ONLY) {
		item->verdict = relay_inbox_verdict_new(SOUP_STATUS_FORBIDDEN,
							FALSE,
							"%s only receives in this network",
							sender->domain);
		return;
	}
	if (sender->is_peer) {
		item->peer_actor = g_strdup(sender->actor);
		if (job->forwarder_host == NULL)
			job->forwarder_host = g_strdup(sender->domain);
	}

	if (job->raw != NULL) {
		item->raw = relay_fanout_new(job->network, job->raw);
		item->raw->seen_expires_us = job->now_us + RELAY_INBOX_SEEN_TTL_US;
		relay_fanout_add_seen_id(item->raw, job->activity_id);
		g_ptr_array_add(fanouts, item->raw);
	}
	if (job->announce != NULL) {
		g_autofree gchar *form_key = g_strdup_printf("announce:%s", job->activity_id);
		g_autofree gchar *object_key = g_strdup_printf("object:%s", job->object_id);
		item->announce = relay_fanout_new(job->network, job->announce);
		item->announce->seen_expires_us = job->now_us + RELAY_INBOX_SEEN_TTL_US;
		relay_fanout_add_seen_id(item->announce, form_key);
		relay_fanout_add_seen_id(item->announce, object_key);
		g_ptr_array_add(fanouts, item->announce);
	}
	for (guint i = 0; i < members->len; i++) {
		RelayMember *member = g_ptr_array_index(members, i);
		const gchar *target =
			member->shared_inbox != NULL ? member->shared_inbox : member->inbox;
		if (member->state != RELAY_MEMBER_STATE_ACCEPTED ||
		    member->direction == RELAY_MEMBER_DIRECTION_PUBLISH_ONLY)
			continue;
		/* never back to the sender, the peer that relayed it, nor where the object comes
		 * from */
		if (relay_inbox_relay_is_origin(job, member))
			continue;
		if (relay_policy_find(
			    policies, job->network, member->domain, RELAY_POLICY_KIND_BLOCK) !=
		    NULL) {
			g_hash_table_add(blocked, member);
			continue;
		}
		if (!g_hash_table_add(inboxes, (gpointer)target))
			continue;
		if (member->is_peer && traffic != NULL)
			relay_peer_traffic_watch(traffic, job->network, target);
		if (member->protocol == RELAY_MEMBER_PROTOCOL_MASTODON && item->raw != NULL)
			relay_fanout_add_inbox(item->raw, target);
		else if (item->announce != NULL)
			relay_fanout_add_inbox(item->announce, target);
	}
}

/* once the batch is committed: what @item's POST is told */
static RelayInboxVerdict *
relay_inbox_relay_verdict(RelayInboxBatchItem *item)
{
	RelayFanout *raw = item->raw;
	RelayFanout *announce = item->announce;
	guint raw_inboxes = raw != NULL && !raw->duplicate ? raw->inboxes->len : 0;
	guint announce_inboxes =
		announce != NULL && !announce->duplicate ? announce->inboxes->len : 0;

	if ((raw == NULL || raw->duplicate) && (announce == NULL || announce->duplicate))
		return relay_inbox_verdict_new(SOUP_STATUS_ACCEPTED, FALSE, "already relayed");
	return relay_inbox_verdict_new(SOUP_STATUS_ACCEPTED,
				       TRUE,
				       "relayed to %u inboxes (%u as is, %u as Announce)",
				       raw_inboxes + announce_inboxes,
				       raw_inboxes,
				       announce_inboxes);
}

static void
relay_inbox_batch_run(RelayStore *store, GTask *task, gpointer data, GCancellable *cancellable)
{
	RelayInboxBatch *batch = data;

	g_autoptr(GPtrArray) policies = NULL;
	g_autoptr(GHashTable) members = g_hash_table_new_full(
		g_str_hash, g_str_equal, NULL, (GDestroyNotify)g_ptr_array_unref);
	g_autoptr(GHashTable) blocked = g_hash_table_new(NULL, NULL);
	g_autoptr(GError) error = NULL;
	GHashTableIter iter;
	gpointer member;

	policies = relay_store_policy_list(store, cancellable, &error);
	if (policies == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	for (guint i = 0; i < batch->items->len; i++) {
		RelayInboxBatchItem *item = g_ptr_array_index(batch->items, i);
		GPtrArray *network_members = g_hash_table_lookup(members, item->job->network);
		if (network_members == NULL) {
			/* every state: a peer relays to us before it follows us */
			network_members = relay_store_member_list(
				store, item->job->network, -1, cancellable, &error);
			if (network_members == NULL) {
				g_task_return_error(task, g_steal_pointer(&error));
				return;
			}
			g_hash_table_insert(members, item->job->network, network_members);
		}
		relay_inbox_relay_plan(
			batch->traffic, item, policies, network_members, batch->fanouts, blocked);
	}
	for (guint i = 0; batch->holds != NULL && i < batch->fanouts->len; i++) {
		RelayFanout *fanout = g_ptr_array_index(batch->fanouts, i);
		fanout->not_before = g_hash_table_ref(batch->holds);
	}
	if (batch->fanouts->len > 0 &&
	    !relay_store_delivery_enqueue(
		    store, batch->fanouts, g_get_real_time(), cancellable, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	for (guint i = 0; i < batch->items->len; i++) {
		RelayInboxBatchItem *item = g_ptr_array_index(batch->items, i);
		if (item->verdict == NULL)
			item->verdict = relay_inbox_relay_verdict(item);
	}
	/* a member whose domain was blocked since it joined is a member no more */
	g_hash_table_iter_init(&iter, blocked);
	while (g_hash_table_iter_next(&iter, &member, NULL)) {
		RelayMember *gone = member;
		g_autoptr(GError) error_remove = NULL;
		if (!relay_store_member_remove(
			    store, gone->network, gone->actor, cancellable, &error_remove))
			g_warning("cannot remove blocked member %s: %s",
				  gone->actor,
				  error_remove->message);
		else
			g_message("network %s: member %s removed, its domain is blocked",
				  gone->network,
				  gone->actor);
	}
	g_task_return_boolean(task, TRUE);
}

static void
relay_inbox_batch_start(RelayInbox *self);

static void
relay_inbox_batch_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	RelayInbox *self = RELAY_INBOX(user_data);
	RelayInboxBatch *batch = self->batch_running;
	g_autoptr(GError) error = NULL;
	gboolean queued = FALSE;

	self->batch_running = NULL;
	if (!g_task_propagate_boolean(G_TASK(res), &error))
		g_warning("inbox: storage failed, nothing queued for %u activities: %s",
			  batch->items->len,
			  error->message);
	for (guint i = 0; i < batch->items->len; i++) {
		RelayInboxBatchItem *item = g_ptr_array_index(batch->items, i);
		RelayInboxPost *post = g_steal_pointer(&item->post);
		if (error != NULL) {
			relay_inbox_post_answer(post,
						SOUP_STATUS_SERVICE_UNAVAILABLE,
						"storage is not available, try again later");
			continue;
		}
		queued |= item->verdict->queued;
		if (item->verdict->actor_mismatch)
			relay_inbox_count_signature_failure(
				self, RELAY_INBOX_SIGNATURE_FAILURE_ACTOR_MISMATCH);
		if (item->peer_actor != NULL && self->traffic != NULL)
			relay_peer_traffic_count_received(
				self->traffic, item->job->network, item->peer_actor);
		relay_inbox_post_answer(post, item->verdict->status, item->verdict->reason);
	}
	if (queued && self->wake != NULL)
		self->wake(self->wake_data);
	relay_inbox_batch_free(batch);
	relay_inbox_batch_start(self);
	g_object_unref(self);
}

/* writes the waiting activities, unless a batch is being written: then they wait for it */
static void
relay_inbox_batch_start(RelayInbox *self)
{
	RelayInboxBatch *batch;

	if (self->batch_running != NULL || self->batch_waiting->len == 0)
		return;
	batch = g_new0(RelayInboxBatch, 1);
	batch->items = g_steal_pointer(&self->batch_waiting);
	batch->fanouts = g_ptr_array_new_with_free_func((GDestroyNotify)relay_fanout_free);
	if (self->holds != NULL)
		batch->holds = self->holds(self->holds_data);
	if (self->traffic != NULL)
		batch->traffic = g_object_ref(self->traffic);
	self->batch_waiting =
		g_ptr_array_new_with_free_func((GDestroyNotify)relay_inbox_batch_item_free);
	self->batch_running = batch;
	relay_store_run_async(self->store,
			      relay_inbox_batch_run,
			      batch,
			      NULL,
			      relay_inbox_batch_start,
			      NULL,
			      relay_inbox_batch_done_cb,
			      g_object_ref(self));
}

static void
relay_inbox_job_run(RelayStore *store, GTask *task, gpointer data, GCancellable *cancellable)
{
	RelayInboxJob *job = data;

	switch (job->kind) {
	case RELAY_INBOX_JOB_FOLLOW:
		relay_inbox_follow_run(store, job, task, cancellable);
		break;
	default:
		relay_inbox_membership_run(store, job, task, cancellable);
		break;
	}
}

static void
relay_inbox_job_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	RelayInboxPost *post = user_data;
	RelayInbox *self = post->inbox;
	g_autoptr(GError) error = NULL;
	RelayInboxVerdict *verdict = g_task_propagate_pointer(G_TASK(res), &error);

	if (verdict == NULL) {
		g_warning("inbox %s: storage failed, nothing queued: %s",
			  relay_network_get_name(post->network),
			  error->message);
		relay_inbox_post_answer(post,
					SOUP_STATUS_SERVICE_UNAVAILABLE,
					"storage is not available, try again later");
		return;
	}
	if (verdict->queued && self->wake != NULL)
		self->wake(self->wake_data);
	if (verdict->accepted_actor != NULL && self->accepted != NULL)
		self->accepted(
			verdict->accepted_network, verdict->accepted_actor, self->accepted_data);
	relay_inbox_post_answer(post, verdict->status, verdict->reason);
	relay_inbox_verdict_free(verdict);
}

static RelayInboxJob *
relay_inbox_job_new(RelayInboxPost *post, RelayInboxJobKind kind)
{
	RelayInboxJob *job = g_new0(RelayInboxJob, 1);
	const RelayNetworkConfig *config = relay_network_get_config(post->network);

	job->kind = kind;
	job->network = g_strdup(config->name);
	job->join = config->join;
	job->actor = g_strdup(post->activity->actor);
	job->sender_host = g_strdup(post->sender_host);
	job->activity_id = g_strdup(post->activity->id);
	job->object_id = g_strdup(post->activity->object_id);
	if (post->forwarder != NULL) {
		job->forwarder = g_strdup(post->forwarder);
		job->forwarder_host = relay_activity_host_of(post->forwarder);
	}
	job->now_us = g_get_real_time();
	return job;
}

static void
relay_inbox_run_job(RelayInboxPost *post, RelayInboxJob *job)
{
	if (job->kind == RELAY_INBOX_JOB_RELAY) {
		RelayInboxBatchItem *item = g_new0(RelayInboxBatchItem, 1);
		RelayInbox *self = post->inbox;
		item->post = post;
		item->job = job;
		g_ptr_array_add(self->batch_waiting, item);
		relay_inbox_batch_start(self);
		return;
	}
	relay_store_run_async(post->inbox->store,
			      relay_inbox_job_run,
			      job,
			      (GDestroyNotify)relay_inbox_job_free,
			      relay_inbox_run_job,
			      post->cancellable,
			      relay_inbox_job_done_cb,
			      post);
}

/* Follow: the follower's actor gives its inboxes */
static void
relay_inbox_follower_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	RelayInboxPost *post = user_data;
	RelayInbox *self = post->inbox;
	const gchar *origin = relay_config_get_public_url(self->config);
	const gchar *network_actor = relay_network_get_actor_url(post->network);
	g_autoptr(RelayRemoteActor) actor = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *accept_id = relay_activity_new_id(origin);
	g_autofree gchar *reject_id = relay_activity_new_id(origin);
	RelayInboxJob *job;

	actor = relay_actor_cache_get_actor_finish(RELAY_ACTOR_CACHE(source), res, &error);
	if (actor == NULL) {
		g_autofree gchar *reason =
			g_strdup_printf("cannot get the follower's actor: %s", error->message);
		relay_inbox_post_answer(post, relay_inbox_status_for_error(error), reason);
		return;
	}
	job = relay_inbox_job_new(post, RELAY_INBOX_JOB_FOLLOW);
	job->inbox = g_strdup(actor->inbox);
	job->shared_inbox = g_strdup(actor->shared_inbox);
	job->accept = relay_activity_accept_new(accept_id, network_actor, post->activity->root);
	job->reject = relay_activity_reject_new(reject_id, network_actor, post->activity->root);
	if (g_strcmp0(post->activity->object_id, network_actor) == 0) {
		job->protocol = RELAY_MEMBER_PROTOCOL_LITEPUB;
		job->follow_back_id = relay_activity_new_id(origin);
		job->follow_back =
			relay_activity_follow_new(job->follow_back_id, network_actor, actor->id);
	} else {
		job->protocol = RELAY_MEMBER_PROTOCOL_MASTODON;
	}
	relay_inbox_run_job(post, job);
}

/*
 * Pleroma and Akkoma publish through a relay with an Announce by their relay actor addressed
 * to the relay actor and their own relay's followers, not to Public (Relay.publish, which they
 * call for public posts only): such an Announce counts as public.
 */
static gboolean
relay_inbox_is_litepub_publication(RelayInboxPost *post)
{
	g_autofree gchar *followers = relay_network_collection_url(post->network, "followers");

	return relay_activity_has_type(post->activity, "Announce") &&
	       (relay_activity_is_addressed_to(post->activity,
					       relay_network_get_actor_url(post->network)) ||
		relay_activity_is_addressed_to(post->activity, followers));
}

/* what a peer may relay for others: the relayed types, an Undo only of an Announce */
static gboolean
relay_inbox_may_be_forwarded(RelayActivity *activity)
{
	if (relay_activity_has_type(activity, "Undo"))
		return relay_activity_object_has_type(activity, "Announce");
	return relay_activity_has_type(activity, "Create") ||
	       relay_activity_has_type(activity, "Announce") ||
	       relay_activity_has_type(activity, "Update") ||
	       relay_activity_has_type(activity, "Delete") ||
	       relay_activity_has_type(activity, "Move");
}

/* the activity is verified and its actor signed it (or a relay did, post->forwarder): act on
 * it; what is forwarded is only ever relayed, never taken as a membership change */
static void
relay_inbox_dispatch(RelayInboxPost *post)
{
	RelayInbox *self = post->inbox;
	RelayActivity *activity = post->activity;
	const gchar *network_actor = relay_network_get_actor_url(post->network);
	const RelayNetworkConfig *config = relay_network_get_config(post->network);
	g_autofree gchar *reason = NULL;
	gboolean signed_payload = activity->has_ld_signature || activity->has_proof;
	RelayInboxJob *job;

	if (post->forwarder == NULL && relay_activity_has_type(activity, "Follow")) {
		if (!relay_activity_is_public_address(activity->object_id) &&
		    g_strcmp0(activity->object_id, network_actor) != 0) {
			relay_inbox_post_answer(
				post, SOUP_STATUS_ACCEPTED, "ignored: a Follow of something else");
			return;
		}
		relay_actor_cache_get_actor_async(self->cache,
						  activity->actor,
						  relay_network_get_signer(post->network),
						  FALSE,
						  post->cancellable,
						  relay_inbox_follower_cb,
						  post);
		return;
	}
	if (post->forwarder == NULL && relay_activity_has_type(activity, "Undo") &&
	    relay_activity_object_has_type(activity, "Announce") == FALSE &&
	    (relay_activity_object_has_type(activity, "Follow") ||
	     activity->object_types == NULL)) {
		relay_inbox_run_job(post, relay_inbox_job_new(post, RELAY_INBOX_JOB_UNDO_FOLLOW));
		return;
	}
	if (post->forwarder == NULL && relay_activity_has_type(activity, "Accept")) {
		relay_inbox_run_job(post, relay_inbox_job_new(post, RELAY_INBOX_JOB_ACCEPT));
		return;
	}
	if (post->forwarder == NULL && relay_activity_has_type(activity, "Reject")) {
		relay_inbox_run_job(post, relay_inbox_job_new(post, RELAY_INBOX_JOB_REJECT));
		return;
	}
	if (post->forwarder == NULL && relay_activity_has_type(activity, "Delete") &&
	    g_strcmp0(activity->object_id, activity->actor) == 0 && !signed_payload) {
		/* an actor deleted itself: it leaves the network */
		relay_inbox_run_job(post, relay_inbox_job_new(post, RELAY_INBOX_JOB_REMOVE_ACTOR));
		return;
	}

	if (!relay_activity_has_type(activity, "Create") &&
	    !relay_activity_has_type(activity, "Announce") &&
	    !relay_activity_has_type(activity, "Update") &&
	    !relay_activity_has_type(activity, "Delete") &&
	    !relay_activity_has_type(activity, "Move") &&
	    !relay_activity_has_type(activity, "Undo")) {
		relay_inbox_post_answer(post, SOUP_STATUS_ACCEPTED, "ignored: not relayed");
		return;
	}
	if (activity->id == NULL) {
		relay_inbox_post_answer(post, SOUP_STATUS_BAD_REQUEST, "the activity has no id");
		return;
	}
	if (!activity->is_public && !relay_inbox_is_litepub_publication(post)) {
		relay_inbox_post_answer(post, SOUP_STATUS_ACCEPTED, "dropped: not public");
		return;
	}
	if (relay_filter_check(config, activity, &reason) != RELAY_FILTER_PASS) {
		g_autofree gchar *dropped = g_strdup_printf("dropped: %s", reason);
		relay_inbox_post_answer(post, SOUP_STATUS_ACCEPTED, dropped);
		return;
	}

	job = relay_inbox_job_new(post, RELAY_INBOX_JOB_RELAY);
	job->object_host = activity->object_actor != NULL
				   ? relay_activity_host_of(activity->object_actor)
				   : relay_activity_host_of(activity->object_id);
	if (signed_payload)
		job->raw = g_bytes_ref(post->body);
	if ((relay_activity_has_type(activity, "Create") ||
	     relay_activity_has_type(activity, "Announce")) &&
	    activity->object_id != NULL) {
		const gchar *origin = relay_config_get_public_url(self->config);
		g_autofree gchar *announce_id = relay_activity_new_id(origin);
		g_autofree gchar *followers =
			relay_network_collection_url(post->network, "followers");
		job->announce = relay_activity_announce_new(announce_id,
							    network_actor,
							    activity->object_id,
							    followers,
							    g_get_real_time() / G_USEC_PER_SEC);
	}
	if (job->raw == NULL && job->announce == NULL) {
		relay_inbox_job_free(job);
		relay_inbox_post_answer(post,
					SOUP_STATUS_ACCEPTED,
					"dropped: unsigned, receivers could not verify it");
		return;
	}
	relay_inbox_run_job(post, job);
}

static void
relay_inbox_key_cb(GObject *source, GAsyncResult *res, gpointer user_data);

static void
relay_inbox_get_key(RelayInboxPost *post, gboolean refresh)
{
	relay_actor_cache_get_key_async(post->inbox->cache,
					relay_http_signature_get_key_id(post->signature),
					relay_network_get_signer(post->network),
					refresh,
					post->cancellable,
					relay_inbox_key_cb,
					post);
}

static void
relay_inbox_key_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	RelayInboxPost *post = user_data;
	RelayActivity *activity = post->activity;
	g_autoptr(GError) error = NULL;
	g_autoptr(EVP_PKEY) key = NULL;

	g_clear_pointer(&post->key, relay_cached_key_free);
	post->key = relay_actor_cache_get_key_finish(RELAY_ACTOR_CACHE(source), res, &error);
	if (post->key == NULL) {
		g_autofree gchar *reason = NULL;
		/* the actor is gone (410): its own Delete is all there is to accept */
		if (g_error_matches(error, RELAY_FED_ERROR, RELAY_FED_ERROR_GONE) &&
		    relay_activity_has_type(activity, "Delete") &&
		    g_strcmp0(activity->object_id, activity->actor) == 0) {
			relay_inbox_run_job(
				post, relay_inbox_job_new(post, RELAY_INBOX_JOB_REMOVE_ACTOR));
			return;
		}
		reason = g_strdup_printf("cannot get the signing key: %s", error->message);
		relay_inbox_count_signature_failure(post->inbox,
						    relay_inbox_signature_failure_of(error));
		relay_inbox_post_answer(post, relay_inbox_status_for_error(error), reason);
		return;
	}
	key = relay_actor_cache_parse_key(post->inbox->cache, post->key, &error);
	if (key == NULL ||
	    !relay_http_signature_verify(post->signature, post->request, key, &error)) {
		g_autofree gchar *reason = NULL;
		/* the key may have rotated: fetch it once more before refusing */
		if (!post->refreshed) {
			post->refreshed = TRUE;
			relay_inbox_get_key(post, TRUE);
			return;
		}
		reason = g_strdup_printf("signature: %s", error->message);
		relay_inbox_count_signature_failure(
			post->inbox,
			key == NULL ? RELAY_INBOX_SIGNATURE_FAILURE_KEY_NOT_FOUND
				    : relay_inbox_signature_failure_of(error));
		relay_inbox_post_answer(post, SOUP_STATUS_UNAUTHORIZED, reason);
		return;
	}
	if (g_strcmp0(post->key->owner, activity->actor) != 0 &&
	    relay_inbox_may_be_forwarded(activity)) {
		/* a peer relaying someone else's activity: the relay job checks it is one */
		post->forwarder = g_strdup(post->key->owner);
	} else if (g_strcmp0(post->key->owner, activity->actor) != 0) {
		g_autofree gchar *reason = g_strdup_printf(
			"signed by %s, but the actor is %s", post->key->owner, activity->actor);
		relay_inbox_count_signature_failure(post->inbox,
						    RELAY_INBOX_SIGNATURE_FAILURE_ACTOR_MISMATCH);
		relay_inbox_post_answer(post, SOUP_STATUS_UNAUTHORIZED, reason);
		return;
	}
	relay_inbox_dispatch(post);
}

/* the request as it was signed: the public URL the sender posted to, with the raw path */
static RelayHttpRequest *
relay_inbox_build_request(RelayInbox *self, SoupServerMessage *msg, GBytes *body)
{
	GUri *uri = soup_server_message_get_uri(msg);
	g_autofree gchar *target =
		g_strdup_printf("%s%s%s%s",
				relay_config_get_public_url(self->config),
				g_uri_get_path(uri),
				g_uri_get_query(uri) != NULL ? "?" : "",
				g_uri_get_query(uri) != NULL ? g_uri_get_query(uri) : "");
	RelayHttpRequest *request =
		relay_http_request_new(soup_server_message_get_method(msg), target);
	SoupMessageHeadersIter iter;
	const char *name;
	const char *value;

	soup_message_headers_iter_init(&iter, soup_server_message_get_request_headers(msg));
	while (soup_message_headers_iter_next(&iter, &name, &value))
		relay_http_request_add_header(request, name, value);
	relay_http_request_set_body(request, body);
	return request;
}

/**
 * relay_inbox_post:
 * @msg: a POST to a network's inbox, body read
 * @network: the network whose inbox it is
 *
 * Takes the request over: pauses it and answers it when done.
 */
void
relay_inbox_post(RelayInbox *self, SoupServerMessage *msg, RelayNetwork *network)
{
	RelayInboxPost *post = g_new0(RelayInboxPost, 1);
	g_autoptr(GError) error = NULL;

	post->inbox = g_object_ref(self);
	post->msg = g_object_ref(msg);
	post->network = g_object_ref(network);
	post->cancellable = g_cancellable_new();
	post->started_us = g_get_monotonic_time();
	post->finished_id =
		g_signal_connect(msg, "finished", G_CALLBACK(relay_inbox_post_finished_cb), post);
	/* the node stopping closes connections with paused POSTs: they do not finish */
	g_signal_connect(msg, "disconnected", G_CALLBACK(relay_inbox_post_finished_cb), post);
	self->in_flight++;
	soup_server_message_pause(msg);

	post->body = soup_message_body_flatten(soup_server_message_get_request_body(msg));
	post->request = relay_inbox_build_request(self, msg, post->body);
	post->signature = relay_http_signature_parse(post->request, &error);
	if (post->signature == NULL ||
	    !relay_http_signature_check(
		    post->signature,
		    post->request,
		    g_get_real_time() / G_USEC_PER_SEC,
		    relay_config_get_int(self->config, "federation", "signature-window"),
		    &error)) {
		g_autofree gchar *reason = g_strdup_printf("signature: %s", error->message);
		relay_inbox_count_signature_failure(self, relay_inbox_signature_failure_of(error));
		relay_inbox_post_answer(post, relay_inbox_status_for_error(error), reason);
		return;
	}
	post->activity = relay_activity_parse(post->body, &error);
	if (post->activity == NULL) {
		g_autofree gchar *reason = g_strdup_printf("activity: %s", error->message);
		relay_inbox_post_answer(post, SOUP_STATUS_BAD_REQUEST, reason);
		return;
	}
	post->sender_host = relay_activity_host_of(post->activity->actor);
	if (post->sender_host == NULL) {
		relay_inbox_post_answer(
			post, SOUP_STATUS_BAD_REQUEST, "activity: the actor is not a URL");
		return;
	}
	relay_inbox_get_key(post, FALSE);
}

/**
 * relay_inbox_get_in_flight:
 *
 * Returns: how many POSTs are being processed
 */
guint
relay_inbox_get_in_flight(RelayInbox *self)
{
	g_return_val_if_fail(RELAY_IS_INBOX(self), 0);
	return self->in_flight;
}

/**
 * relay_inbox_signature_failure_to_string:
 *
 * Returns: the label of @failure in /metrics, e.g. "bad_signature"
 */
const gchar *
relay_inbox_signature_failure_to_string(RelayInboxSignatureFailure failure)
{
	static const gchar *names[RELAY_INBOX_SIGNATURE_FAILURE_LAST] = {
		"unsigned",
		"malformed",
		"unknown_algorithm",
		"missing_component",
		"digest_mismatch",
		"stale_date",
		"key_not_found",
		"bad_signature",
		"actor_mismatch",
	};
	g_return_val_if_fail(failure < RELAY_INBOX_SIGNATURE_FAILURE_LAST, NULL);
	return names[failure];
}

/**
 * relay_inbox_get_signature_failures:
 *
 * Returns: how many POSTs were refused for @failure since the inbox was made
 */
guint64
relay_inbox_get_signature_failures(RelayInbox *self, RelayInboxSignatureFailure failure)
{
	g_return_val_if_fail(RELAY_IS_INBOX(self), 0);
	g_return_val_if_fail(failure < RELAY_INBOX_SIGNATURE_FAILURE_LAST, 0);
	return self->signature_failures[failure];
}

/**
 * relay_inbox_foreach_requests:
 * @func: called with each network, status and count
 *
 * Walks the counts of answered POSTs, for /metrics.
 */
void
relay_inbox_foreach_requests(RelayInbox *self, RelayInboxRequestsFunc func, gpointer user_data)
{
	GHashTableIter iter;
	gpointer key;
	gpointer value;

	g_return_if_fail(RELAY_IS_INBOX(self));
	g_hash_table_iter_init(&iter, self->requests);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		const gchar *space = strrchr(key, ' ');
		g_autofree gchar *network = g_strndup(key, (gsize)(space - (const gchar *)key));
		func(network,
		     (guint)g_ascii_strtoull(space + 1, NULL, 10),
		     *(guint64 *)value,
		     user_data);
	}
}

/**
 * relay_inbox_get_requests:
 * @network: a network's name
 * @status: an HTTP status the inbox answered
 *
 * Returns: how many POSTs to @network's inbox were answered @status since the start
 */
guint64
relay_inbox_get_requests(RelayInbox *self, const gchar *network, guint status)
{
	g_autofree gchar *key = g_strdup_printf("%s %u", network, status);
	guint64 *count;

	g_return_val_if_fail(RELAY_IS_INBOX(self), 0);
	count = g_hash_table_lookup(self->requests, key);
	return count != NULL ? *count : 0;
}

/**
 * relay_inbox_new:
 * @config: the configuration in force
 * @store: the node's storage
 * @cache: where keys and actors are found
 *
 * Returns: (transfer full): an inbox
 */
RelayInbox *
relay_inbox_new(RelayConfig *config, RelayStore *store, RelayActorCache *cache)
{
	RelayInbox *self = g_object_new(RELAY_TYPE_INBOX, NULL);
	self->config = g_object_ref(config);
	self->store = g_object_ref(store);
	self->cache = g_object_ref(cache);
	return self;
}

void
relay_inbox_set_config(RelayInbox *self, RelayConfig *config)
{
	g_return_if_fail(RELAY_IS_INBOX(self));
	g_set_object(&self->config, config);
}

/**
 * relay_inbox_set_holds_func:
 * @func: (nullable): tells which hosts the delivery engine has paused
 *
 * Rows queued for a paused host are due when its pause ends, not at once.
 */
void
relay_inbox_set_holds_func(RelayInbox *self, RelayInboxHoldsFunc func, gpointer user_data)
{
	g_return_if_fail(RELAY_IS_INBOX(self));
	self->holds = func;
	self->holds_data = user_data;
}

/**
 * relay_inbox_set_wake_func:
 * @func: (nullable): called after every enqueue
 */
void
relay_inbox_set_wake_func(RelayInbox *self, RelayInboxWakeFunc func, gpointer user_data)
{
	g_return_if_fail(RELAY_IS_INBOX(self));
	self->wake = func;
	self->wake_data = user_data;
}

/**
 * relay_inbox_set_accepted_func:
 * @func: (nullable): called on the main loop when a member becomes accepted
 */
void
relay_inbox_set_accepted_func(RelayInbox *self, RelayInboxAcceptedFunc func, gpointer user_data)
{
	g_return_if_fail(RELAY_IS_INBOX(self));
	self->accepted = func;
	self->accepted_data = user_data;
}

/**
 * relay_inbox_set_peer_traffic:
 * @traffic: (nullable): where what peers relay to us is counted
 */
void
relay_inbox_set_peer_traffic(RelayInbox *self, RelayPeerTraffic *traffic)
{
	g_return_if_fail(RELAY_IS_INBOX(self));
	g_set_object(&self->traffic, traffic);
}

static void
relay_inbox_dispose(GObject *object)
{
	RelayInbox *self = RELAY_INBOX(object);
	g_clear_object(&self->traffic);
	g_clear_object(&self->config);
	g_clear_object(&self->store);
	g_clear_object(&self->cache);
	g_clear_pointer(&self->requests, g_hash_table_unref);
	g_clear_pointer(&self->batch_waiting, g_ptr_array_unref);
	G_OBJECT_CLASS(relay_inbox_parent_class)->dispose(object);
}

static void
relay_inbox_init(RelayInbox *self)
{
	self->requests = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->batch_waiting =
		g_ptr_array_new_with_free_func((GDestroyNotify)relay_inbox_batch_item_free);
}

static void
relay_inbox_class_init(RelayInboxClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = relay_inbox_dispose;
}
