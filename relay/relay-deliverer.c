/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * The delivery engine: it takes the rows the inbox queued in storage and POSTs them to the
 * members' inboxes, signed by the network that relays them.
 *
 * The loop runs on the main context and never blocks it:
 *  - claim: a store worker claims up to [delivery] batch due rows with a lease, as this process's
 *    claimer; the rows stay in storage until settled, so nothing is lost to a crash (at least
 *    once: a row in flight at a crash is sent again once its lease ends, or at once when a
 *    single-node relay restarts, see relay_deliverer_start());
 *  - route: each row goes to its host; a host takes at most max-connections-per-host POSTs at
 *    once, a few more rows wait in memory for a free slot, and the rest are given back (settled
 *    RETRY, unattempted) at the time the host should be able to take them;
 *  - sign: on a pool of worker threads (one per core by default), because an RSA-2048
 *    signature costs as much CPU as a whole keep-alive POST;
 *  - POST: through the delivery client (federation/relay-http-client.c): per-host kept-alive
 *    connections, head and body (the row's bytes, no copy) in one writev, one total deadline;
 *  - settle: outcomes are grouped and settled in one store call whenever the previous one is
 *    done, so the settle batch grows with the load (group commit).
 *
 * Keep-alive: every POST to a host goes on a connection kept from the last one when there is
 * one (tests/deliverer-test.c counts them); a POST that meets a connection the server closed
 * while idle is sent once more on a new connection (deliveries are safe to repeat: receivers
 * deduplicate by activity id, and the queue is at-least-once anyway). The idle timeout is kept
 * below the usual server keep-alive timeouts to make that race rare. libsoup is not used here:
 * per POST it cost as much CPU as the signature (see relay-http-client.c).
 *
 * Outcomes: 2xx done; 400/401/403/404/410/422 and every other 3xx/4xx but 408/429 failed for
 * good; 408, 429, 5xx and transport errors retried after an exponential backoff with jitter,
 * capped, and never sooner than a Retry-After (itself capped); a row older than max-age is
 * expired instead of retried.
 *
 * Hosts: consecutive transport failures and 408/429/5xx of a host open its breaker: for
 * breaker-pause seconds its rows are given back unattempted at the reopen time. A host that has
 * failed without a single success for evict-after is evicted: its members are removed from
 * storage and its queued rows (those created before) expire. This state lives in memory only;
 * a restarted node learns it again.
 */

#include "config.h"

#include <sys/resource.h>

#include <string.h>
#include <unistd.h>

#include <libsoup/soup.h>

#include "relay-address-guard.h"
#include "relay-deliverer-private.h"
#include "relay-fed-error.h"
#include "relay-http-client.h"
#include "relay-http-request.h"
#include "relay-log.h"
#include "relay-network.h"

#define RELAY_DELIVERER_CONTENT_TYPE "application/activity+json"
/* the longest wait between two claims when nothing is known to be due sooner */
#define RELAY_DELIVERER_POLL_US (1 * G_USEC_PER_SEC)
/* how often the counters are added to the store's */
#define RELAY_DELIVERER_FLUSH_MS 10000
/* outcomes settled together once this many wait, or after this long */
#define RELAY_DELIVERER_SETTLE_BATCH   64
#define RELAY_DELIVERER_SETTLE_WAIT_MS 10
/* how long stop waits for the POSTs in flight before cancelling them */
#define RELAY_DELIVERER_STOP_GRACE_S 5
/* below the keep-alive timeouts of common servers (Puma 20 s, nginx 75 s) */
#define RELAY_DELIVERER_IDLE_TIMEOUT_S 15
/* rows held for a host (signed ahead of a free connection): at most this much of its work... */
#define RELAY_DELIVERER_BACKLOG_US (2 * G_USEC_PER_SEC)
/* ...estimated from the host's pace (its time per row), first assumed this: a slow host is
 * trimmed to size at its first answer, at most a timeout later */
#define RELAY_DELIVERER_FIRST_ROW_US (12 * 1000)
/* rows beyond what a host not measured yet may hold come back this soon */
#define RELAY_DELIVERER_PROBE_US (250 * 1000)
/* a lease covers the wait for a slot and the POST: (backlog + 2) deadlines at least */
#define RELAY_DELIVERER_LEASE_TIMEOUTS 6
/* a healthy idle host is forgotten after this long */
#define RELAY_DELIVERER_HOST_IDLE_US (600 * G_USEC_PER_SEC)
/* retries due sooner than this are polled for at their time; later ones by the 1 s poll */
#define RELAY_DELIVERER_RETRY_TRACK_US (60 * G_USEC_PER_SEC)
/* how many digits of a Retry-After in seconds are read (more is capped anyway) */
#define RELAY_DELIVERER_RETRY_AFTER_DIGITS 9

struct _RelayDeliverer {
	GObject parent_instance;
	RelayStore *store;
	RelayDelivererOptions options; /* strings owned below */
	gchar *tls_ca_file;
	gchar *user_agent;
	gchar *claimer;
	GHashTable *networks;	 /* (nullable) (element-type utf8 RelayNetwork) */
	RelayHttpClient *client; /* kept-alive connections to the members' hosts */
	GThreadPool *sign_pool;
	GMainContext *context;
	/* jobs the signing threads are done with, handed back to the main context in batches:
	 * one wake-up for all that were signed since the last one */
	GMutex signed_lock;
	GQueue signed_jobs; /* (element-type RelayDelivererJob) */
	gboolean signed_scheduled;
	/* POSTs in flight by deadline, earliest first, and one timer for the earliest */
	GQueue deadlines; /* (element-type RelayDelivererJob) */
	GSource *deadline_source;
	RelayDelivererSignHook sign_hook;
	gpointer sign_hook_data;
	RelayDelivererDoneFunc done_func; /* (nullable): told of each delivery done */
	gpointer done_data;
	GHashTable *hosts; /* (element-type utf8 RelayDelivererHost) */
	/* (element-type utf8 gint64): hosts paused (breaker, Retry-After), till when; may hold
	 * pauses already over, dropped by relay_deliverer_dup_holds() */
	GHashTable *holds;
	GHashTable *jobs; /* (element-type RelayDelivererJob): the rows held, signing to posted */
	guint sending;	  /* POSTs in flight, all hosts */
	gboolean started;
	gboolean stopping;
	gboolean releasing;
	gboolean claiming;
	guint claim_limit; /* of the claim running */
	gboolean claim_wanted;
	gboolean queue_more; /* the last claim filled its batch: more rows are due */
	GTree *retry_times;  /* (element-type gint64 none): retries due within the next minute */
	guint poll_id;
	gint64 poll_at_us;	/* when the poll armed fires */
	GArray *settle_pending; /* (element-type RelayDeliveryResult) */
	gboolean settling;
	guint settle_timer_id;
	guint flush_id;
	gboolean flushing;
	gboolean final_flush; /* the one flush of stop was started */
	guint evicting;
	RelayDelivererCounters counters;
	RelayDelivererCounters flushed; /* the part of the counters already in storage */
	/* outcomes per minute over the last hour, a ring indexed by minute (monotonic clock) */
	guint64 minute_outcomes[RELAY_DELIVERER_RECENT_MINUTES][RELAY_DELIVERY_OUTCOME_LAST];
	gint64 minute_of_slot[RELAY_DELIVERER_RECENT_MINUTES];
	GTask *stop_task;
	guint stop_grace_id;
};

G_DEFINE_FINAL_TYPE(RelayDeliverer, relay_deliverer, G_TYPE_OBJECT)

enum { SIGNAL_HOST_EVICTED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = {0};

/* from a few milliseconds on loopback to the hours of retries of a host that was down */
const gdouble relay_deliverer_latency_bounds_s[RELAY_DELIVERER_LATENCY_BUCKETS] = {
	0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600};

/* what the engine knows of one host; hosts without rows and trouble are forgotten */
typedef struct {
	gchar *name;
	guint signing; /* rows being signed */
	GQueue ready;  /* (element-type RelayDelivererJob): signed, waiting for a connection */
	guint sending; /* POSTs in flight: at most max-connections-per-host */
	guint consecutive_failures;
	gint64 failing_since_us; /* the first failure since the last success, 0 when healthy */
	gint64 hold_until_us;	 /* breaker open or Retry-After: rows are given back till then */
	gint64 evicted_at_us;	 /* rows created before this expire */
	gboolean evicting;
	gint64 row_us;	     /* moving average of the time the host takes per row, when busy */
	gboolean row_known;  /* one POST was measured */
	gint64 last_done_us; /* monotonic: the last POST that finished */
	gint64 next_slot_us; /* when the next row given back for being busy should come */
	gint64 last_used_us;
} RelayDelivererHost;

typedef enum {
	RELAY_DELIVERER_JOB_SIGNING,
	RELAY_DELIVERER_JOB_READY,
	RELAY_DELIVERER_JOB_SENDING,
} RelayDelivererJobState;

/* one row held by the engine: being signed, signed and waiting for a connection, or posted */
typedef struct {
	RelayDeliverer *self;
	RelayDelivererJobState state;
	RelayDelivery *delivery;
	RelayNetwork *network;
	RelayHttpClient *client;
	RelayHttpRequest *request; /* signed on a worker, then posted */
	GCancellable *cancellable;
	gint64 deadline_us;  /* monotonic */
	GList deadline_link; /* in RelayDeliverer.deadlines while posted */
	gboolean timed_out;
	gboolean aborted;      /* cancelled by stop: no outcome, the row stays claimed */
	gboolean local;	       /* failed before the POST, for reasons of ours */
	gboolean refused;      /* failed before the POST, for good */
	guint status;	       /* 0 until the response headers came */
	gint64 retry_after_us; /* -1 without a Retry-After */
	gint64 sent_us;	       /* monotonic, when the POST started */
	GError *error;
} RelayDelivererJob;

static void
relay_deliverer_claim_maybe(RelayDeliverer *self);
static void
relay_deliverer_settle_flush(RelayDeliverer *self);
static void
relay_deliverer_settle_start(RelayDeliverer *self);
static void
relay_deliverer_check_stopped(RelayDeliverer *self);
static void
relay_deliverer_host_pump(RelayDeliverer *self, RelayDelivererHost *host);
static void
relay_deliverer_defer(RelayDeliverer *self, RelayDelivery *delivery, gint64 due_us);
static void
relay_deliverer_poll_arm(RelayDeliverer *self);

/* options */

/**
 * relay_deliverer_options_init:
 * @options: options to fill with the defaults of relay.conf's [delivery] group
 */
void
relay_deliverer_options_init(RelayDelivererOptions *options)
{
	memset(options, 0, sizeof(*options));
	options->workers = 0;
	options->max_connections_per_host = 4;
	options->max_in_flight = 256;
	options->timeout_s = 10;
	options->retry_base_s = 30;
	options->retry_cap_s = 21600;
	options->max_age_s = 172800;
	options->breaker_failures = 10;
	options->breaker_pause_s = 300;
	options->evict_after_s = 604800;
	options->batch = 256;
	options->lease_s = 300;
	options->user_agent = "relay/" PACKAGE_VERSION;
}

static guint
relay_deliverer_config_uint(RelayConfig *config, const gchar *key)
{
	return (guint)relay_config_get_int(config, "delivery", key);
}

/**
 * relay_deliverer_options_from_config:
 * @options: options to fill
 * @config: the configuration; @options borrows its strings
 *
 * Reads the [delivery] group, [federation] allow-private-addresses and tls-ca-file.
 */
void
relay_deliverer_options_from_config(RelayDelivererOptions *options, RelayConfig *config)
{
	const gchar *ca_file = relay_config_get_string(config, "federation", "tls-ca-file");

	relay_deliverer_options_init(options);
	options->workers = relay_deliverer_config_uint(config, "workers");
	options->max_connections_per_host =
		relay_deliverer_config_uint(config, "max-connections-per-host");
	options->max_in_flight = relay_deliverer_config_uint(config, "max-in-flight");
	options->timeout_s = relay_deliverer_config_uint(config, "timeout");
	options->retry_base_s = relay_deliverer_config_uint(config, "retry-base");
	options->retry_cap_s = relay_deliverer_config_uint(config, "retry-cap");
	options->max_age_s = relay_deliverer_config_uint(config, "max-age");
	options->breaker_failures = relay_deliverer_config_uint(config, "breaker-failures");
	options->breaker_pause_s = relay_deliverer_config_uint(config, "breaker-pause");
	options->evict_after_s = relay_deliverer_config_uint(config, "evict-after");
	options->batch = relay_deliverer_config_uint(config, "batch");
	options->lease_s = relay_deliverer_config_uint(config, "lease");
	options->allow_private_addresses = relay_config_get_allow_private_addresses(config);
	options->tls_ca_file = ca_file != NULL && ca_file[0] != '\0' ? ca_file : NULL;
}

static guint
relay_deliverer_workers(const RelayDelivererOptions *options)
{
	if (options->workers > 0)
		return options->workers;
	return MAX(g_get_num_processors(), 1);
}

static gint64
relay_deliverer_lease_us(RelayDeliverer *self)
{
	guint lease_s = MAX(self->options.lease_s,
			    RELAY_DELIVERER_LEASE_TIMEOUTS * MAX(self->options.timeout_s, 1));
	return (gint64)lease_s * G_USEC_PER_SEC;
}

/* a delivery client, or %NULL when the CA file does not load */
static RelayHttpClient *
relay_deliverer_client_new(const RelayDelivererOptions *options, GError **error)
{
	struct rlimit files = {0};
	guint max_idle = 65536;

	/* a relay delivers to every member in turn, so keep-alive only works when every member's
	 * connection can stay open: idle connections may take half the file descriptors */
	if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY)
		max_idle = (guint)MIN(files.rlim_cur / 2, 65536);
	return relay_http_client_new(options->user_agent,
				     options->tls_ca_file,
				     MAX(options->timeout_s, 1),
				     RELAY_DELIVERER_IDLE_TIMEOUT_S,
				     MAX(max_idle, options->max_in_flight),
				     error);
}

/* retry arithmetic */

/**
 * relay_deliverer_retry_delay_us:
 * @base_s: the first delay
 * @cap_s: the longest delay
 * @attempts: the failed attempts before this one
 *
 * Returns: @base_s doubled @attempts times, at most @cap_s, less a random quarter (jitter, so
 * rows that failed together do not come back together)
 */
gint64
relay_deliverer_retry_delay_us(guint base_s, guint cap_s, guint attempts)
{
	gint64 cap_us = (gint64)MAX(cap_s, 1) * G_USEC_PER_SEC;
	gint64 delay_us = (gint64)MAX(base_s, 1) * G_USEC_PER_SEC;
	gint64 jitter_us;

	for (guint i = 0; i < attempts && delay_us < cap_us; i++)
		delay_us *= 2;
	delay_us = MIN(delay_us, cap_us);
	jitter_us = delay_us / 4;
	if (jitter_us > 0)
		delay_us -= (gint64)(g_random_double() * (gdouble)jitter_us);
	return delay_us;
}

/**
 * relay_deliverer_parse_retry_after:
 * @value: a Retry-After header: seconds, or an HTTP date
 * @now_us: the current time
 * @out_delay_us: (out): how long from @now_us it asks to wait, 0 for a date in the past
 *
 * Returns: whether @value is valid
 */
gboolean
relay_deliverer_parse_retry_after(const gchar *value, gint64 now_us, gint64 *out_delay_us)
{
	g_autofree gchar *text = g_strstrip(g_strdup(value != NULL ? value : ""));
	gint64 time_s = 0;

	if (text[0] == '\0')
		return FALSE;
	if (g_ascii_isdigit(text[0])) {
		gint64 seconds = 0;
		for (const gchar *p = text; *p != '\0'; p++) {
			if (!g_ascii_isdigit(*p))
				return FALSE;
			/* anything this long is past every cap */
			if (p - text < RELAY_DELIVERER_RETRY_AFTER_DIGITS)
				seconds = seconds * 10 + (*p - '0');
		}
		*out_delay_us = seconds * G_USEC_PER_SEC;
		return TRUE;
	}
	if (!relay_http_date_parse(text, &time_s))
		return FALSE;
	*out_delay_us = MAX(time_s * G_USEC_PER_SEC - now_us, 0);
	return TRUE;
}

/* hosts */

static void
relay_deliverer_host_free(RelayDelivererHost *host)
{
	g_queue_clear(&host->ready); /* the jobs belong to the engine */
	g_free(host->name);
	g_free(host);
}

static RelayDelivererHost *
relay_deliverer_host_get(RelayDeliverer *self, const gchar *name)
{
	RelayDelivererHost *host = g_hash_table_lookup(self->hosts, name);

	if (host != NULL)
		return host;
	host = g_new0(RelayDelivererHost, 1);
	host->name = g_strdup(name);
	g_queue_init(&host->ready);
	host->row_us = RELAY_DELIVERER_FIRST_ROW_US;
	host->last_used_us = g_get_real_time();
	g_hash_table_insert(self->hosts, host->name, host);
	return host;
}

/* the rows the engine holds for the host */
static guint
relay_deliverer_host_jobs(RelayDelivererHost *host)
{
	return host->signing + g_queue_get_length(&host->ready) + host->sending;
}

/* a host with nothing to remember can go; evicted ones stay until their old rows have expired */
static gboolean
relay_deliverer_host_forgettable(RelayDeliverer *self, RelayDelivererHost *host, gint64 now_us)
{
	if (relay_deliverer_host_jobs(host) > 0 || host->evicting ||
	    host->consecutive_failures > 0 || host->hold_until_us > now_us)
		return FALSE;
	if (host->evicted_at_us != 0 &&
	    now_us - host->evicted_at_us < (gint64)self->options.max_age_s * G_USEC_PER_SEC)
		return FALSE;
	return now_us - host->last_used_us > RELAY_DELIVERER_HOST_IDLE_US;
}

static guint
relay_deliverer_host_slots(RelayDeliverer *self)
{
	return MAX(self->options.max_connections_per_host, 1);
}

/*
 * How many rows the engine may hold for a host (signed ahead, waiting for a connection): about
 * two seconds of the host's work. A fast host may hold every row (it is done with them quickly);
 * a slow one only a few, so it cannot take max-in-flight while the other hosts' rows wait in
 * storage, nor keep rows past their lease or signatures long after their Date.
 */
static guint
relay_deliverer_host_backlog(RelayDeliverer *self, RelayDelivererHost *host)
{
	gint64 slots = relay_deliverer_host_slots(self);
	gint64 rows = RELAY_DELIVERER_BACKLOG_US / MAX(host->row_us, 1);

	return (guint)CLAMP(rows, slots, MAX((gint64)self->options.max_in_flight, slots));
}

/* gives a row back for when its busy host should have worked through what it holds */
static void
relay_deliverer_defer_busy(RelayDeliverer *self, RelayDelivererHost *host, RelayDelivery *delivery)
{
	gint64 now_us = g_get_real_time();
	gint64 step_us = MAX(host->row_us, 100);
	gint64 held = relay_deliverer_host_jobs(host);

	/* its pace is not known yet: look again once its first answers came */
	if (!host->row_known) {
		relay_deliverer_defer(self, delivery, now_us + RELAY_DELIVERER_PROBE_US);
		return;
	}
	host->next_slot_us = MAX(host->next_slot_us, now_us + held * step_us);
	relay_deliverer_defer(self, delivery, host->next_slot_us);
	host->next_slot_us += step_us;
}

/* settling */

static void
relay_deliverer_result_add(RelayDeliverer *self,
			   const RelayDelivery *delivery,
			   RelayDeliveryOutcome outcome,
			   gint64 retry_at_us)
{
	RelayDeliveryResult result = {
		.id = delivery->id,
		.outcome = outcome,
		.retry_at_us = retry_at_us,
	};

	g_array_append_val(self->settle_pending, result);
	if (outcome != RELAY_DELIVERY_OUTCOME_RETRY ||
	    retry_at_us - g_get_real_time() > RELAY_DELIVERER_RETRY_TRACK_US)
		return;
	g_tree_insert(self->retry_times, g_memdup2(&retry_at_us, sizeof(gint64)), NULL);
	/* due before the next poll: poll then instead */
	if (self->poll_id != 0 && retry_at_us < self->poll_at_us)
		relay_deliverer_poll_arm(self);
}

/* gives a row back unattempted, due at @due_us */
static void
relay_deliverer_defer(RelayDeliverer *self, RelayDelivery *delivery, gint64 due_us)
{
	relay_deliverer_result_add(self, delivery, RELAY_DELIVERY_OUTCOME_RETRY, due_us);
	self->counters.deferred++;
	g_debug("delivery %" G_GINT64_FORMAT " to %s: given back until %" G_GINT64_FORMAT,
		delivery->id,
		delivery->host,
		due_us);
	relay_delivery_free(delivery);
}

static void
relay_deliverer_log_outcome(const RelayDelivery *delivery,
			    const gchar *what,
			    RelayDeliveryOutcome outcome,
			    gint64 delay_us,
			    gint64 elapsed_us)
{
	g_autofree gchar *retry = NULL;
	g_autofree gchar *id = g_strdup_printf("%" G_GINT64_FORMAT, delivery->id);
	g_autofree gchar *activity = g_strdup_printf("%" G_GINT64_FORMAT, delivery->activity_id);

	if (outcome == RELAY_DELIVERY_OUTCOME_RETRY)
		retry = g_strdup_printf(", again in %" G_GINT64_FORMAT " s",
					(delay_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
	/* only MESSAGE is a format: the other values are plain strings */
	g_log_structured(G_LOG_DOMAIN,
			 G_LOG_LEVEL_INFO,
			 "RELAY_PEER",
			 delivery->host,
			 "RELAY_NETWORK",
			 delivery->network,
			 "RELAY_DELIVERY",
			 id,
			 "RELAY_ACTIVITY",
			 activity,
			 "RELAY_OUTCOME",
			 relay_delivery_outcome_to_string(outcome),
			 "MESSAGE",
			 "delivery %s to %s (network %s, activity %s, attempt %u): %s: %s%s "
			 "(%" G_GINT64_FORMAT " ms)",
			 id,
			 delivery->host,
			 delivery->network,
			 activity,
			 delivery->attempts + 1,
			 what,
			 relay_delivery_outcome_to_string(outcome),
			 retry != NULL ? retry : "",
			 elapsed_us / 1000);
}

static gint64
relay_deliverer_minute_now(void)
{
	return g_get_monotonic_time() / (60 * G_USEC_PER_SEC);
}

/* adds one outcome to the current minute's slot of the ring */
static void
relay_deliverer_count_recent(RelayDeliverer *self, RelayDeliveryOutcome outcome)
{
	gint64 minute = relay_deliverer_minute_now();
	guint slot = (guint)(minute % RELAY_DELIVERER_RECENT_MINUTES);

	if (self->minute_of_slot[slot] != minute) {
		memset(self->minute_outcomes[slot], 0, sizeof(self->minute_outcomes[slot]));
		self->minute_of_slot[slot] = minute;
	}
	self->minute_outcomes[slot][outcome]++;
}

/* records an outcome and logs it; takes @delivery */
static void
relay_deliverer_settle_one(RelayDeliverer *self,
			   RelayDelivery *delivery,
			   const gchar *what,
			   RelayDeliveryOutcome outcome,
			   gint64 retry_at_us,
			   gint64 elapsed_us)
{
	gint64 now_us = g_get_real_time();

	relay_deliverer_result_add(self, delivery, outcome, retry_at_us);
	self->counters.outcomes[outcome]++;
	relay_deliverer_count_recent(self, outcome);
	if (outcome == RELAY_DELIVERY_OUTCOME_DONE && self->done_func != NULL)
		self->done_func(delivery->network, delivery->inbox, self->done_data);
	if (outcome == RELAY_DELIVERY_OUTCOME_DONE) {
		gint64 latency_us = MAX(now_us - delivery->created_at_us, 0);
		self->counters.latency_count++;
		self->counters.latency_sum_us += (guint64)latency_us;
		for (guint i = 0; i < RELAY_DELIVERER_LATENCY_BUCKETS; i++) {
			if ((gdouble)latency_us <=
			    relay_deliverer_latency_bounds_s[i] * G_USEC_PER_SEC) {
				self->counters.latency_buckets[i]++;
				break;
			}
		}
	}
	relay_deliverer_log_outcome(delivery, what, outcome, retry_at_us - now_us, elapsed_us);
	relay_delivery_free(delivery);
}

static void
relay_deliverer_settle_run(RelayStore *store, GTask *task, gpointer data, GCancellable *cancellable)
{
	GArray *results = data;
	g_autoptr(GError) error = NULL;

	if (!relay_store_delivery_settle(store, results, cancellable, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

static void
relay_deliverer_settle_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(RelayDeliverer) self = RELAY_DELIVERER(user_data);
	g_autoptr(GError) error = NULL;

	self->settling = FALSE;
	if (!g_task_propagate_boolean(G_TASK(res), &error)) {
		/* the rows stay claimed: they come back when their lease ends */
		g_warning("deliveries: settling failed, the rows come back after their lease: %s",
			  error->message);
	}
	relay_deliverer_settle_flush(self);
	relay_deliverer_check_stopped(self);
}

static gboolean
relay_deliverer_settle_timer_cb(gpointer user_data)
{
	RelayDeliverer *self = user_data;

	self->settle_timer_id = 0;
	relay_deliverer_settle_start(self);
	return G_SOURCE_REMOVE;
}

/* settles everything pending in one store call, unless one is running (it calls again); a
 * few outcomes wait a little for more, so that a busy engine settles in batches */
static void
relay_deliverer_settle_flush(RelayDeliverer *self)
{
	if (self->settling || self->settle_pending->len == 0)
		return;
	if (self->settle_pending->len < RELAY_DELIVERER_SETTLE_BATCH && !self->stopping) {
		if (self->settle_timer_id == 0)
			self->settle_timer_id = g_timeout_add(RELAY_DELIVERER_SETTLE_WAIT_MS,
							      relay_deliverer_settle_timer_cb,
							      self);
		return;
	}
	relay_deliverer_settle_start(self);
}

static void
relay_deliverer_settle_start(RelayDeliverer *self)
{
	g_autoptr(GArray) results = NULL;

	g_clear_handle_id(&self->settle_timer_id, g_source_remove);
	if (self->settling || self->settle_pending->len == 0)
		return;
	results = g_steal_pointer(&self->settle_pending);
	self->settle_pending = g_array_new(FALSE, FALSE, sizeof(RelayDeliveryResult));
	self->settling = TRUE;
	relay_store_run_async(self->store,
			      relay_deliverer_settle_run,
			      g_steal_pointer(&results),
			      (GDestroyNotify)g_array_unref,
			      relay_deliverer_settle_flush,
			      NULL,
			      relay_deliverer_settle_cb,
			      g_object_ref(self));
}

/* eviction */

/* owned by the callback, which always runs, so the store job does not free it */
typedef struct {
	RelayDeliverer *self;
	gchar *host;
	gint64 failing_since_us; /* restored if the eviction fails */
	guint removed;
} RelayDelivererEviction;

static void
relay_deliverer_eviction_free(RelayDelivererEviction *eviction)
{
	g_object_unref(eviction->self);
	g_free(eviction->host);
	g_free(eviction);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayDelivererEviction, relay_deliverer_eviction_free)

static gboolean
relay_deliverer_url_on_host(const gchar *url, const gchar *host)
{
	g_autofree gchar *url_host = relay_store_host_of_url(url);
	return url_host != NULL && g_strcmp0(url_host, host) == 0;
}

static void
relay_deliverer_evict_run(RelayStore *store, GTask *task, gpointer data, GCancellable *cancellable)
{
	RelayDelivererEviction *eviction = data;
	g_autoptr(GPtrArray) members = NULL;
	g_autoptr(GError) error = NULL;

	members = relay_store_member_list(store, NULL, -1, cancellable, &error);
	if (members == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	for (guint i = 0; i < members->len; i++) {
		const RelayMember *member = g_ptr_array_index(members, i);

		if (!relay_deliverer_url_on_host(member->inbox, eviction->host) &&
		    !relay_deliverer_url_on_host(member->shared_inbox, eviction->host))
			continue;
		if (!relay_store_member_remove(
			    store, member->network, member->actor, cancellable, &error)) {
			/* gone already: someone else removed it */
			if (!g_error_matches(
				    error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND)) {
				g_task_return_error(task, g_steal_pointer(&error));
				return;
			}
			g_clear_error(&error);
			continue;
		}
		eviction->removed++;
	}
	g_task_return_boolean(task, TRUE);
}

static void
relay_deliverer_evict_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(RelayDelivererEviction) eviction = user_data;
	RelayDeliverer *self = eviction->self;
	RelayDelivererHost *host = NULL;
	g_autoptr(GError) error = NULL;

	self->evicting--;
	host = g_hash_table_lookup(self->hosts, eviction->host);
	if (host != NULL)
		host->evicting = FALSE;
	if (!g_task_propagate_boolean(G_TASK(res), &error)) {
		g_warning("host %s: eviction failed, will try again: %s",
			  eviction->host,
			  error->message);
		if (host != NULL) {
			host->evicted_at_us = 0;
			if (host->failing_since_us == 0)
				host->failing_since_us = eviction->failing_since_us;
		}
		relay_deliverer_check_stopped(self);
		return;
	}
	g_message("host %s: unreachable for more than %u s, evicted: %u members removed",
		  eviction->host,
		  self->options.evict_after_s,
		  eviction->removed);
	self->counters.hosts_evicted++;
	g_signal_emit(self, signals[SIGNAL_HOST_EVICTED], 0, eviction->host, eviction->removed);
	relay_deliverer_check_stopped(self);
}

/* removes the host's members; its rows created until now expire as they are claimed */
static void
relay_deliverer_evict(RelayDeliverer *self, RelayDelivererHost *host, gint64 now_us)
{
	RelayDelivererEviction *eviction = g_new0(RelayDelivererEviction, 1);

	eviction->self = g_object_ref(self);
	eviction->host = g_strdup(host->name);
	eviction->failing_since_us = host->failing_since_us;
	host->evicting = TRUE;
	host->evicted_at_us = now_us;
	/* a member that subscribes again starts with a clean slate */
	host->consecutive_failures = 0;
	host->failing_since_us = 0;
	host->hold_until_us = 0;
	g_hash_table_remove(self->holds, host->name);
	self->evicting++;
	relay_store_run_async(self->store,
			      relay_deliverer_evict_run,
			      eviction,
			      NULL,
			      relay_deliverer_evict,
			      NULL,
			      relay_deliverer_evict_cb,
			      eviction);
}

/* host health */

static void
relay_deliverer_host_answered(RelayDelivererHost *host)
{
	host->consecutive_failures = 0;
	host->failing_since_us = 0;
}

/* pauses @host till @until_us (or longer, when it already is) */
static void
relay_deliverer_host_hold(RelayDeliverer *self, RelayDelivererHost *host, gint64 until_us)
{
	gint64 *value;

	if (until_us <= host->hold_until_us)
		return;
	host->hold_until_us = until_us;
	value = g_new(gint64, 1);
	*value = until_us;
	g_hash_table_replace(self->holds, g_strdup(host->name), value);
}

/**
 * relay_deliverer_dup_holds:
 *
 * The hosts paused now and till when, for the inbox: rows it queues for them are due only
 * then, instead of being claimed and given back at once (see relay_fanout_due_us()).
 *
 * Returns: (transfer full) (nullable) (element-type utf8 gint64): a copy, %NULL when no host
 *   is paused
 */
GHashTable *
relay_deliverer_dup_holds(RelayDeliverer *self)
{
	GHashTable *copy = NULL;
	GHashTableIter iter;
	gpointer key;
	gpointer value;
	gint64 now_us = g_get_real_time();

	g_hash_table_iter_init(&iter, self->holds);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		gint64 *until_us;

		if (*(gint64 *)value <= now_us) {
			g_hash_table_iter_remove(&iter);
			continue;
		}
		if (copy == NULL)
			copy = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
		until_us = g_new(gint64, 1);
		*until_us = *(gint64 *)value;
		g_hash_table_insert(copy, g_strdup(key), until_us);
	}
	return copy;
}

static void
relay_deliverer_host_failed(RelayDeliverer *self, RelayDelivererHost *host, gint64 now_us)
{
	if (host->consecutive_failures++ == 0)
		host->failing_since_us = now_us;
	if (host->consecutive_failures >= self->options.breaker_failures &&
	    host->hold_until_us <= now_us) {
		relay_deliverer_host_hold(self,
					  host,
					  now_us + (gint64)self->options.breaker_pause_s *
							   G_USEC_PER_SEC);
		g_info("host %s: %u failures in a row, paused for %u s",
		       host->name,
		       host->consecutive_failures,
		       self->options.breaker_pause_s);
	}
	if (!host->evicting && host->failing_since_us != 0 &&
	    now_us - host->failing_since_us >= (gint64)self->options.evict_after_s * G_USEC_PER_SEC)
		relay_deliverer_evict(self, host, now_us);
}

/* jobs */

/* deadlines */

/* g_source_set_ready_time() wakes the context up (a write() each time): the timer is only
 * moved sooner, or at its firing; firing early for a deadline already gone costs less */
static void
relay_deliverer_deadline_arm(RelayDeliverer *self, gboolean fired)
{
	RelayDelivererJob *first = g_queue_peek_head(&self->deadlines);
	gint64 ready_us;

	if (self->deadline_source == NULL)
		return;
	ready_us = g_source_get_ready_time(self->deadline_source);
	if (first == NULL) {
		if (fired && ready_us != -1)
			g_source_set_ready_time(self->deadline_source, -1);
		return;
	}
	if (fired || ready_us == -1 || ready_us > first->deadline_us)
		g_source_set_ready_time(self->deadline_source, first->deadline_us);
}

static void
relay_deliverer_deadline_remove(RelayDeliverer *self, RelayDelivererJob *job)
{
	if (job->deadline_link.data == NULL)
		return;
	/* a later earliest deadline only makes the timer fire early, for nothing */
	g_queue_unlink(&self->deadlines, &job->deadline_link);
	job->deadline_link.data = NULL;
}

static void
relay_deliverer_deadline_add(RelayDeliverer *self, RelayDelivererJob *job, gint64 deadline_us)
{
	GList *after = self->deadlines.tail;

	job->deadline_us = deadline_us;
	job->deadline_link.data = job;
	/* deadlines come in order unless the timeout was changed: from the tail, mostly at once */
	while (after != NULL && ((RelayDelivererJob *)after->data)->deadline_us > deadline_us)
		after = after->prev;
	if (after == NULL)
		g_queue_push_head_link(&self->deadlines, &job->deadline_link);
	else
		g_queue_insert_after_link(&self->deadlines, after, &job->deadline_link);
	if (self->deadlines.head == &job->deadline_link)
		relay_deliverer_deadline_arm(self, FALSE);
}

static gboolean
relay_deliverer_deadline_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
	return callback(user_data);
}

static GSourceFuncs relay_deliverer_deadline_funcs = {
	.dispatch = relay_deliverer_deadline_dispatch,
};

/* cancels the POSTs past their deadline */
static gboolean
relay_deliverer_deadline_cb(gpointer user_data)
{
	RelayDeliverer *self = user_data;
	gint64 now_us = g_get_monotonic_time();
	RelayDelivererJob *job;

	while ((job = g_queue_peek_head(&self->deadlines)) != NULL && job->deadline_us <= now_us) {
		relay_deliverer_deadline_remove(self, job);
		job->timed_out = TRUE;
		g_cancellable_cancel(job->cancellable);
	}
	relay_deliverer_deadline_arm(self, TRUE);
	return G_SOURCE_CONTINUE;
}

/* jobs */

static void
relay_deliverer_job_free(RelayDelivererJob *job)
{
	relay_deliverer_deadline_remove(job->self, job);
	g_clear_pointer(&job->delivery, relay_delivery_free);
	g_clear_object(&job->network);
	g_clear_object(&job->client);
	g_clear_pointer(&job->request, relay_http_request_free);
	g_clear_object(&job->cancellable);
	g_clear_error(&job->error);
	g_clear_object(&job->self);
	g_free(job);
}

static gboolean
relay_deliverer_status_is_permanent(guint status)
{
	if (status == SOUP_STATUS_REQUEST_TIMEOUT || status == 429 /* Too Many Requests */)
		return FALSE;
	/* 400/401/403/404/410/422 and the rest of 3xx and 4xx: redirects are not followed */
	return status >= 300 && status < 500;
}

/* decides the outcome of a finished job; takes its delivery */
static void
relay_deliverer_job_decide(RelayDeliverer *self, RelayDelivererJob *job, RelayDelivererHost *host)
{
	RelayDelivery *delivery = g_steal_pointer(&job->delivery);
	gint64 now_us = g_get_real_time();
	gint64 elapsed_us = job->sent_us != 0 ? g_get_monotonic_time() - job->sent_us : 0;
	gint64 cap_us = (gint64)self->options.retry_cap_s * G_USEC_PER_SEC;
	gint64 delay_us;
	g_autofree gchar *what = NULL;
	g_autofree gchar *reason = NULL;

	if (job->status != 0) {
		what = g_strdup_printf("HTTP %u", job->status);
		if (SOUP_STATUS_IS_SUCCESSFUL(job->status)) {
			relay_deliverer_host_answered(host);
			relay_deliverer_settle_one(
				self, delivery, what, RELAY_DELIVERY_OUTCOME_DONE, 0, elapsed_us);
			return;
		}
		if (relay_deliverer_status_is_permanent(job->status)) {
			relay_deliverer_host_answered(host);
			relay_deliverer_settle_one(
				self, delivery, what, RELAY_DELIVERY_OUTCOME_FAILED, 0, elapsed_us);
			return;
		}
	} else {
		reason = relay_log_sanitize(job->error != NULL ? job->error->message : "failed",
					    200);
		what = g_strdup(job->timed_out ? "no answer in time" : reason);
		if (job->refused || g_error_matches(job->error,
						    RELAY_FED_ERROR,
						    RELAY_FED_ERROR_FORBIDDEN_ADDRESS)) {
			relay_deliverer_settle_one(
				self, delivery, what, RELAY_DELIVERY_OUTCOME_FAILED, 0, elapsed_us);
			return;
		}
	}

	/* transient: the host's fault unless we failed before the POST */
	if (!job->local)
		relay_deliverer_host_failed(self, host, now_us);
	if (job->retry_after_us >= 0)
		relay_deliverer_host_hold(self, host, now_us + MIN(job->retry_after_us, cap_us));
	if (host->evicted_at_us != 0 && delivery->created_at_us < host->evicted_at_us) {
		relay_deliverer_settle_one(
			self, delivery, what, RELAY_DELIVERY_OUTCOME_EXPIRED, 0, elapsed_us);
		return;
	}
	if (now_us - delivery->created_at_us >= (gint64)self->options.max_age_s * G_USEC_PER_SEC) {
		relay_deliverer_settle_one(
			self, delivery, what, RELAY_DELIVERY_OUTCOME_EXPIRED, 0, elapsed_us);
		return;
	}
	delay_us = relay_deliverer_retry_delay_us(
		self->options.retry_base_s, self->options.retry_cap_s, delivery->attempts);
	if (job->retry_after_us >= 0)
		delay_us = MAX(delay_us, MIN(job->retry_after_us, cap_us));
	if (!job->local)
		delay_us = MAX(delay_us, host->hold_until_us - now_us);
	relay_deliverer_settle_one(
		self, delivery, what, RELAY_DELIVERY_OUTCOME_RETRY, now_us + delay_us, elapsed_us);
}

/*
 * The host's pace: the time between two POSTs finishing while it had more to do, which counts
 * what it can take in parallel and how busy the main loop is; before that, a first POST's time
 * shared among the host's connections.
 */
static void
relay_deliverer_host_measure(RelayDeliverer *self, RelayDelivererHost *host, RelayDelivererJob *job)
{
	gint64 now_us = g_get_monotonic_time();
	gboolean busy = host->sending > 0 || !g_queue_is_empty(&host->ready);

	if (!host->row_known) {
		host->row_us = (now_us - job->sent_us) / relay_deliverer_host_slots(self);
		host->row_known = TRUE;
	} else if (busy && host->last_done_us != 0) {
		host->row_us = (host->row_us * 7 +
				MIN(now_us - host->last_done_us, now_us - job->sent_us)) /
			       8;
	}
	host->last_done_us = now_us;
}

static void
relay_deliverer_job_complete(RelayDelivererJob *job)
{
	RelayDeliverer *self = g_object_ref(job->self);
	RelayDelivererHost *host = relay_deliverer_host_get(self, job->delivery->host);

	relay_deliverer_deadline_remove(self, job);
	if (job->state == RELAY_DELIVERER_JOB_SENDING) {
		host->sending--;
		self->sending--;
	} else {
		g_assert(job->state == RELAY_DELIVERER_JOB_SIGNING);
		host->signing--;
	}
	host->last_used_us = g_get_real_time();
	if (job->sent_us != 0 && job->status != 0)
		relay_deliverer_host_measure(self, host, job);
	if (job->aborted) {
		/* cancelled by stop: the row stays claimed and comes back when its lease ends */
		g_info("delivery %" G_GINT64_FORMAT " to %s: cancelled by shutdown, back after its "
		       "lease",
		       job->delivery->id,
		       job->delivery->host);
	} else {
		relay_deliverer_job_decide(self, job, host);
	}
	g_hash_table_remove(self->jobs, job); /* frees it */
	relay_deliverer_host_pump(self, host);
	relay_deliverer_settle_flush(self);
	relay_deliverer_claim_maybe(self);
	relay_deliverer_check_stopped(self);
	g_object_unref(self);
}

static void
relay_deliverer_job_sent_cb(GObject *source, GAsyncResult *res, gpointer user_data);

static void
relay_deliverer_job_send(RelayDelivererJob *job)
{
	relay_http_client_post_async(
		job->client, job->request, job->cancellable, relay_deliverer_job_sent_cb, job);
}

static void
relay_deliverer_job_sent_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	RelayDelivererJob *job = user_data;
	GError *error = NULL;
	g_autofree gchar *retry_after = NULL;

	if (!relay_http_client_post_finish(
		    RELAY_HTTP_CLIENT(source), res, &job->status, &retry_after, &error)) {
		job->status = 0;
		job->error = error;
		relay_deliverer_job_complete(job);
		return;
	}
	if (retry_after == NULL || !relay_deliverer_parse_retry_after(
					   retry_after, g_get_real_time(), &job->retry_after_us))
		job->retry_after_us = -1;
	relay_deliverer_job_complete(job);
}

/* a signed job (or one that failed to sign) waits for a free connection to its host */
static void
relay_deliverer_job_signed(RelayDeliverer *self, RelayDelivererJob *job)
{
	RelayDelivererHost *host;

	if (job->error != NULL) {
		g_prefix_error(&job->error, "signing: ");
		job->local = TRUE;
		relay_deliverer_job_complete(job);
		return;
	}
	if (job->aborted) {
		relay_deliverer_job_complete(job);
		return;
	}
	host = relay_deliverer_host_get(self, job->delivery->host);
	host->signing--;
	job->state = RELAY_DELIVERER_JOB_READY;
	g_queue_push_tail(&host->ready, job);
	relay_deliverer_host_pump(self, host);
}

/* on the main context: takes every job signed since the last call */
static gboolean
relay_deliverer_signed_cb(gpointer user_data)
{
	RelayDeliverer *self = user_data;
	GQueue jobs = G_QUEUE_INIT;
	RelayDelivererJob *job;

	g_mutex_lock(&self->signed_lock);
	jobs = self->signed_jobs;
	g_queue_init(&self->signed_jobs);
	self->signed_scheduled = FALSE;
	g_mutex_unlock(&self->signed_lock);
	while ((job = g_queue_pop_head(&jobs)) != NULL)
		relay_deliverer_job_signed(self, job);
	relay_deliverer_settle_flush(self);
	relay_deliverer_claim_maybe(self);
	relay_deliverer_check_stopped(self);
	return G_SOURCE_REMOVE;
}

/* on a signing thread: hands @job back to the main context */
static void
relay_deliverer_signed_push(RelayDeliverer *self, RelayDelivererJob *job)
{
	gboolean wake;

	g_mutex_lock(&self->signed_lock);
	g_queue_push_tail(&self->signed_jobs, job);
	wake = !self->signed_scheduled;
	self->signed_scheduled = TRUE;
	g_mutex_unlock(&self->signed_lock);
	if (wake) {
		/* the job holds the engine, so it is alive here; the source holds it from now on */
		g_autoptr(GSource) source = g_idle_source_new();
		g_source_set_priority(source, G_PRIORITY_DEFAULT);
		g_source_set_callback(
			source, relay_deliverer_signed_cb, g_object_ref(self), g_object_unref);
		g_source_attach(source, self->context);
	}
}

/* runs on a signing thread: the request is touched by nobody else until it is handed back */
static void
relay_deliverer_sign_worker_cb(gpointer data, gpointer user_data)
{
	RelayDelivererJob *job = data;
	RelayDeliverer *self = job->self;
	RelaySigner *signer = relay_network_get_signer(job->network);

	if (relay_signer_sign_request(
		    signer, RELAY_SIGNER_SCHEME_CAVAGE, job->request, &job->error) &&
	    self->sign_hook != NULL)
		self->sign_hook(job->delivery, self->sign_hook_data);
	relay_deliverer_signed_push(self, job);
}

/* checks the inbox URL: %FALSE with @error when it can never be delivered to */
static GUri *
relay_deliverer_inbox_uri(RelayDeliverer *self, const gchar *inbox, GError **error)
{
	g_autoptr(GUri) uri = g_uri_parse(inbox, SOUP_HTTP_URI_FLAGS, NULL);
	const gchar *scheme;

	if (uri == NULL || g_uri_get_host(uri) == NULL || g_uri_get_host(uri)[0] == '\0') {
		g_set_error_literal(
			error, RELAY_FED_ERROR, RELAY_FED_ERROR_REFUSED, "the inbox is not a URL");
		return NULL;
	}
	scheme = g_uri_get_scheme(uri);
	if (g_strcmp0(scheme, "https") != 0 && g_strcmp0(scheme, "http") != 0) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_REFUSED,
				    "only http and https inboxes are delivered to");
		return NULL;
	}
	/* IP literals here; names are checked by the guarded resolver the daemon installs */
	if (!relay_address_guard_check_host(
		    g_uri_get_host(uri), self->options.allow_private_addresses, error))
		return NULL;
	return g_steal_pointer(&uri);
}

static gboolean
relay_deliverer_job_fail_cb(gpointer user_data)
{
	relay_deliverer_job_complete(user_data);
	return G_SOURCE_REMOVE;
}

/* completes a job that failed before its POST; later, as routing must not re-enter itself */
static void
relay_deliverer_job_fail(RelayDelivererJob *job, GError *error)
{
	job->error = error;
	g_idle_add(relay_deliverer_job_fail_cb, job);
}

/* starts signing a row, which then waits for a connection to its host; takes @delivery */
static void
relay_deliverer_job_start(RelayDeliverer *self, RelayDelivererHost *host, RelayDelivery *delivery)
{
	RelayDelivererJob *job = g_new0(RelayDelivererJob, 1);
	g_autoptr(GUri) uri = NULL;
	g_autofree gchar *target = NULL;
	g_autoptr(GError) error = NULL;
	RelayNetwork *network = NULL;

	job->self = g_object_ref(self);
	job->delivery = delivery;
	job->client = g_object_ref(self->client);
	job->cancellable = g_cancellable_new();
	job->retry_after_us = -1;
	job->state = RELAY_DELIVERER_JOB_SIGNING;
	g_hash_table_add(self->jobs, job);
	host->signing++;

	if (self->networks != NULL)
		network = g_hash_table_lookup(self->networks, delivery->network);
	if (network == NULL) {
		/* kept, in case the network comes back with the next configuration */
		job->local = TRUE;
		relay_deliverer_job_fail(job,
					 g_error_new(RELAY_FED_ERROR,
						     RELAY_FED_ERROR_FAILED,
						     "network %s is not configured",
						     delivery->network));
		return;
	}
	job->network = g_object_ref(network);
	uri = relay_deliverer_inbox_uri(self, delivery->inbox, &error);
	if (uri == NULL) {
		job->refused = TRUE;
		relay_deliverer_job_fail(job, g_steal_pointer(&error));
		return;
	}
	target = g_uri_to_string(uri);
	job->request = relay_http_request_new("POST", target);
	relay_http_request_add_header(job->request, "Content-Type", RELAY_DELIVERER_CONTENT_TYPE);
	relay_http_request_add_header(job->request, "Accept", RELAY_DELIVERER_CONTENT_TYPE);
	/* the body is the row's GBytes: written from there, without a copy */
	relay_http_request_set_body(job->request, delivery->body);
	if (!g_thread_pool_push(self->sign_pool, job, &error)) {
		job->local = TRUE;
		relay_deliverer_job_fail(job, g_steal_pointer(&error));
	}
}

/* routing */

typedef enum {
	RELAY_DELIVERER_HOLD_NONE,
	RELAY_DELIVERER_HOLD_EXPIRE, /* the host was evicted, or is paused past the row's max-age */
	RELAY_DELIVERER_HOLD_DEFER,  /* paused, or the engine stopping: give the row back */
} RelayDelivererHold;

/* whether a row may go to its host now; if not, what becomes of it */
static RelayDelivererHold
relay_deliverer_hold(RelayDeliverer *self,
		     RelayDelivererHost *host,
		     const RelayDelivery *delivery,
		     gint64 *out_due_us,
		     const gchar **out_what)
{
	gint64 now_us = g_get_real_time();

	if (host->evicted_at_us != 0 && delivery->created_at_us < host->evicted_at_us) {
		*out_what = "host evicted";
		return RELAY_DELIVERER_HOLD_EXPIRE;
	}
	if (self->stopping) {
		*out_due_us = now_us;
		return RELAY_DELIVERER_HOLD_DEFER;
	}
	if (host->hold_until_us <= now_us)
		return RELAY_DELIVERER_HOLD_NONE;
	if (now_us - delivery->created_at_us >= (gint64)self->options.max_age_s * G_USEC_PER_SEC) {
		*out_what = "host paused";
		return RELAY_DELIVERER_HOLD_EXPIRE;
	}
	/* paused: skipped cheaply, due again when the host reopens (a little spread) */
	*out_due_us = host->hold_until_us + g_random_int_range(0, G_USEC_PER_SEC);
	return RELAY_DELIVERER_HOLD_DEFER;
}

/* settles a row that does not go to its host; takes @delivery */
static void
relay_deliverer_hold_settle(RelayDeliverer *self,
			    RelayDelivery *delivery,
			    RelayDelivererHold hold,
			    gint64 due_us,
			    const gchar *what)
{
	if (hold == RELAY_DELIVERER_HOLD_EXPIRE)
		relay_deliverer_settle_one(
			self, delivery, what, RELAY_DELIVERY_OUTCOME_EXPIRED, 0, 0);
	else
		relay_deliverer_defer(self, delivery, due_us);
}

/* drops a signed job that is not sent after all, handing back its row */
static RelayDelivery *
relay_deliverer_job_drop(RelayDeliverer *self, RelayDelivererJob *job)
{
	RelayDelivery *delivery = g_steal_pointer(&job->delivery);

	g_hash_table_remove(self->jobs, job); /* frees it */
	return delivery;
}

/* starts a signed job's POST */
static void
relay_deliverer_job_post(RelayDeliverer *self, RelayDelivererHost *host, RelayDelivererJob *job)
{
	job->state = RELAY_DELIVERER_JOB_SENDING;
	host->sending++;
	self->sending++;
	job->sent_us = g_get_monotonic_time();
	relay_deliverer_deadline_add(self,
				     job,
				     job->sent_us + (gint64)MIN(self->options.timeout_s, 3600) *
							    G_USEC_PER_SEC);
	relay_deliverer_job_send(job);
}

/* posts the host's signed jobs as far as its connections allow, or gives them back */
static void
relay_deliverer_host_pump(RelayDeliverer *self, RelayDelivererHost *host)
{
	RelayDelivererJob *job;

	while ((job = g_queue_peek_head(&host->ready)) != NULL) {
		RelayDelivererHold hold;
		const gchar *what = NULL;
		gint64 due_us = 0;

		hold = relay_deliverer_hold(self, host, job->delivery, &due_us, &what);
		if (hold == RELAY_DELIVERER_HOLD_NONE &&
		    host->sending >= relay_deliverer_host_slots(self))
			break;
		g_queue_pop_head(&host->ready);
		if (hold == RELAY_DELIVERER_HOLD_NONE) {
			relay_deliverer_job_post(self, host, job);
			continue;
		}
		relay_deliverer_hold_settle(
			self, relay_deliverer_job_drop(self, job), hold, due_us, what);
	}
	/* the host proved slower than assumed: give back what it cannot take soon */
	while (!g_queue_is_empty(&host->ready) &&
	       relay_deliverer_host_jobs(host) > relay_deliverer_host_backlog(self, host)) {
		job = g_queue_pop_tail(&host->ready);
		relay_deliverer_defer_busy(self, host, relay_deliverer_job_drop(self, job));
	}
}

/* a claimed row: signed now (then posted when its host has a free connection), expired, or
 * given back for later */
static void
relay_deliverer_dispatch(RelayDeliverer *self, RelayDelivery *delivery)
{
	RelayDelivererHost *host = relay_deliverer_host_get(self, delivery->host);
	RelayDelivererHold hold;
	const gchar *what = NULL;
	gint64 due_us = 0;

	host->last_used_us = g_get_real_time();
	hold = relay_deliverer_hold(self, host, delivery, &due_us, &what);
	if (hold != RELAY_DELIVERER_HOLD_NONE) {
		relay_deliverer_hold_settle(self, delivery, hold, due_us, what);
		return;
	}
	if (relay_deliverer_host_jobs(host) >= relay_deliverer_host_backlog(self, host)) {
		relay_deliverer_defer_busy(self, host, delivery);
		return;
	}
	relay_deliverer_job_start(self, host, delivery);
}

/* claiming */

typedef struct {
	gchar *claimer;
	guint limit;
	gint64 lease_us;
} RelayDelivererClaim;

static void
relay_deliverer_claim_free(RelayDelivererClaim *claim)
{
	g_free(claim->claimer);
	g_free(claim);
}

static void
relay_deliverer_claim_run(RelayStore *store, GTask *task, gpointer data, GCancellable *cancellable)
{
	RelayDelivererClaim *claim = data;
	g_autoptr(GError) error = NULL;
	GPtrArray *rows = relay_store_delivery_claim(store,
						     g_get_real_time(),
						     claim->limit,
						     claim->lease_us,
						     claim->claimer,
						     cancellable,
						     &error);

	if (rows == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_pointer(task, rows, (GDestroyNotify)g_ptr_array_unref);
}

static gboolean
relay_deliverer_poll_cb(gpointer user_data)
{
	RelayDeliverer *self = RELAY_DELIVERER(user_data);

	self->poll_id = 0;
	self->claim_wanted = TRUE;
	relay_deliverer_claim_maybe(self);
	return G_SOURCE_REMOVE;
}

/* the next claim: at the earliest retry known, at the latest in a second */
static void
relay_deliverer_poll_arm(RelayDeliverer *self)
{
	gint64 now_us = g_get_real_time();
	gint64 delay_us = RELAY_DELIVERER_POLL_US;
	GTreeNode *first = g_tree_node_first(self->retry_times);

	if (self->stopping)
		return;
	if (first != NULL)
		delay_us = CLAMP(
			*(gint64 *)g_tree_node_key(first) - now_us, 0, RELAY_DELIVERER_POLL_US);
	g_clear_handle_id(&self->poll_id, g_source_remove);
	self->poll_at_us = now_us + delay_us;
	self->poll_id =
		g_timeout_add((guint)((delay_us + 999) / 1000), relay_deliverer_poll_cb, self);
}

static void
relay_deliverer_claim_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(RelayDeliverer) self = RELAY_DELIVERER(user_data);
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GError) error = NULL;

	self->claiming = FALSE;
	rows = g_task_propagate_pointer(G_TASK(res), &error);
	if (rows == NULL) {
		g_warning("deliveries: claiming failed: %s", error->message);
		self->queue_more = FALSE;
		relay_deliverer_poll_arm(self);
		relay_deliverer_check_stopped(self);
		return;
	}
	self->queue_more = rows->len >= self->claim_limit;
	if (self->queue_more)
		self->claim_wanted = TRUE;
	/* steal the rows: dispatch takes each */
	g_ptr_array_set_free_func(rows, NULL);
	for (guint i = 0; i < rows->len; i++)
		relay_deliverer_dispatch(self, g_ptr_array_index(rows, i));
	relay_deliverer_settle_flush(self);
	relay_deliverer_poll_arm(self);
	relay_deliverer_claim_maybe(self);
	relay_deliverer_check_stopped(self);
}

static void
relay_deliverer_retry_times_prune(RelayDeliverer *self, gint64 now_us)
{
	GTreeNode *first;

	while ((first = g_tree_node_first(self->retry_times)) != NULL &&
	       *(gint64 *)g_tree_node_key(first) <= now_us)
		g_tree_remove(self->retry_times, g_tree_node_key(first));
}

/* claims when a claim is wanted and there is room, without claiming a row at a time */
static void
relay_deliverer_claim_maybe(RelayDeliverer *self)
{
	RelayDelivererClaim *claim;
	guint held = g_hash_table_size(self->jobs);
	guint max_in_flight = MAX(self->options.max_in_flight, 1);
	guint batch = MAX(MIN(self->options.batch, max_in_flight), 1);
	guint room;

	if (!self->started || self->stopping || self->releasing || self->claiming ||
	    !self->claim_wanted || self->networks == NULL)
		return;
	room = held < max_in_flight ? max_in_flight - held : 0;
	if (room == 0 || (held > 0 && room < MAX(batch / 2, 1)))
		return;
	claim = g_new0(RelayDelivererClaim, 1);
	claim->claimer = g_strdup(self->claimer);
	claim->limit = MIN(batch, room);
	claim->lease_us = relay_deliverer_lease_us(self);
	self->claiming = TRUE;
	self->claim_limit = claim->limit;
	self->claim_wanted = FALSE;
	/* this claim takes every row due by now: forget those retry times */
	relay_deliverer_retry_times_prune(self, g_get_real_time());
	relay_store_run_async(self->store,
			      relay_deliverer_claim_run,
			      claim,
			      (GDestroyNotify)relay_deliverer_claim_free,
			      relay_deliverer_claim_maybe,
			      NULL,
			      relay_deliverer_claim_cb,
			      g_object_ref(self));
}

/* counters */

/* owned by the callback, which always runs */
typedef struct {
	RelayDeliverer *self;
	GPtrArray *deltas; /* (element-type RelayCounter) */
	RelayDelivererCounters counters;
} RelayDelivererFlush;

static void
relay_deliverer_flush_free(RelayDelivererFlush *flush)
{
	g_object_unref(flush->self);
	g_ptr_array_unref(flush->deltas);
	g_free(flush);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayDelivererFlush, relay_deliverer_flush_free)

static void
relay_deliverer_flush_run(RelayStore *store, GTask *task, gpointer data, GCancellable *cancellable)
{
	RelayDelivererFlush *flush = data;
	g_autoptr(GError) error = NULL;

	if (!relay_store_counters_add(store, flush->deltas, cancellable, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

static void
relay_deliverer_flush_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(RelayDelivererFlush) flush = user_data;
	RelayDeliverer *self = flush->self;
	g_autoptr(GError) error = NULL;

	self->flushing = FALSE;
	if (!g_task_propagate_boolean(G_TASK(res), &error))
		g_warning("deliveries: saving the counters failed: %s", error->message);
	else
		self->flushed = flush->counters;
	relay_deliverer_check_stopped(self);
}

static void
relay_deliverer_delta_add(GPtrArray *deltas, const gchar *name, guint64 now, guint64 before)
{
	if (now > before)
		g_ptr_array_add(deltas, relay_counter_new(name, (gint64)(now - before)));
}

/* adds what the counters gained since the last time to the store's; %FALSE if nothing to do */
static gboolean
relay_deliverer_flush(RelayDeliverer *self)
{
	RelayDelivererFlush *flush;
	const RelayDelivererCounters *now = &self->counters;
	const RelayDelivererCounters *before = &self->flushed;
	g_autoptr(GPtrArray) deltas = NULL;

	if (self->flushing)
		return TRUE;
	deltas = g_ptr_array_new_with_free_func((GDestroyNotify)relay_counter_free);
	for (guint i = 0; i < RELAY_DELIVERY_OUTCOME_LAST; i++) {
		g_autofree gchar *name = g_strdup_printf("deliveries_total{outcome=\"%s\"}",
							 relay_delivery_outcome_to_string(i));
		relay_deliverer_delta_add(deltas, name, now->outcomes[i], before->outcomes[i]);
	}
	relay_deliverer_delta_add(
		deltas, "deliveries_deferred_total", now->deferred, before->deferred);
	relay_deliverer_delta_add(
		deltas, "delivery_latency_us_sum", now->latency_sum_us, before->latency_sum_us);
	relay_deliverer_delta_add(
		deltas, "delivery_latency_count", now->latency_count, before->latency_count);
	relay_deliverer_delta_add(
		deltas, "delivery_hosts_evicted_total", now->hosts_evicted, before->hosts_evicted);
	if (deltas->len == 0)
		return FALSE;
	flush = g_new0(RelayDelivererFlush, 1);
	flush->self = g_object_ref(self);
	flush->deltas = g_steal_pointer(&deltas);
	flush->counters = self->counters;
	self->flushing = TRUE;
	relay_store_run_async(self->store,
			      relay_deliverer_flush_run,
			      flush,
			      NULL,
			      relay_deliverer_flush,
			      NULL,
			      relay_deliverer_flush_cb,
			      flush);
	return TRUE;
}

static gboolean
relay_deliverer_flush_timer_cb(gpointer user_data)
{
	RelayDeliverer *self = RELAY_DELIVERER(user_data);
	gint64 now_us = g_get_real_time();
	GHashTableIter iter;
	gpointer value;

	relay_deliverer_flush(self);
	/* forget the hosts with nothing to remember */
	g_hash_table_iter_init(&iter, self->hosts);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		if (relay_deliverer_host_forgettable(self, value, now_us))
			g_hash_table_iter_remove(&iter);
	}
	return G_SOURCE_CONTINUE;
}

/* lifecycle */

/**
 * relay_deliverer_new:
 * @store: the node's storage
 * @options: the engine's bounds
 * @error: (nullable): a #GError
 *
 * Creates the engine, stopped; relay_deliverer_set_networks() and relay_deliverer_start()
 * set it going. Call on the main context, which the engine then uses.
 *
 * Returns: (transfer full) (nullable): the engine, or %NULL when the TLS CA file does not load
 */
RelayDeliverer *
relay_deliverer_new(RelayStore *store, const RelayDelivererOptions *options, GError **error)
{
	g_autoptr(RelayDeliverer) self = g_object_new(RELAY_TYPE_DELIVERER, NULL);

	g_return_val_if_fail(RELAY_IS_STORE(store), NULL);
	self->store = g_object_ref(store);
	self->claimer =
		g_strdup_printf("%s:%d:%08x", g_get_host_name(), (gint)getpid(), g_random_int());
	self->sign_pool = g_thread_pool_new(relay_deliverer_sign_worker_cb,
					    self,
					    (gint)relay_deliverer_workers(options),
					    TRUE,
					    error);
	if (self->sign_pool == NULL)
		return NULL;
	if (!relay_deliverer_set_options(self, options, error))
		return NULL;
	return g_steal_pointer(&self);
}

/**
 * relay_deliverer_set_options:
 * @options: the new bounds
 * @error: (nullable): a #GError
 *
 * Applies new bounds, e.g. after a reload. POSTs in flight finish under the old ones.
 *
 * Returns: %FALSE (and the old options stay) when the TLS CA file does not load
 */
gboolean
relay_deliverer_set_options(RelayDeliverer *self,
			    const RelayDelivererOptions *options,
			    GError **error)
{
	g_autoptr(RelayHttpClient) client = NULL;

	g_return_val_if_fail(RELAY_IS_DELIVERER(self), FALSE);
	client = relay_deliverer_client_new(options, error);
	if (client == NULL)
		return FALSE;
	if (self->client != NULL)
		relay_http_client_close_idle(self->client);
	g_set_object(&self->client, client);
	self->options = *options;
	g_free(self->tls_ca_file);
	self->tls_ca_file = g_strdup(options->tls_ca_file);
	self->options.tls_ca_file = self->tls_ca_file;
	g_free(self->user_agent);
	self->user_agent = g_strdup(options->user_agent);
	self->options.user_agent = self->user_agent;
	if (!g_thread_pool_set_max_threads(
		    self->sign_pool, (gint)relay_deliverer_workers(options), error))
		return FALSE;
	relay_deliverer_claim_maybe(self);
	return TRUE;
}

/**
 * relay_deliverer_set_networks:
 * @networks: (element-type utf8 RelayNetwork): the networks by name, whose keys sign
 *
 * Sets the networks that sign deliveries, at start and after each reload. A row of a network
 * that is not (or no longer) there is retried later.
 */
void
relay_deliverer_set_networks(RelayDeliverer *self, GHashTable *networks)
{
	g_return_if_fail(RELAY_IS_DELIVERER(self));
	g_clear_pointer(&self->networks, g_hash_table_unref);
	if (networks != NULL)
		self->networks = g_hash_table_ref(networks);
	relay_deliverer_claim_maybe(self);
}

/**
 * relay_deliverer_set_done_func:
 * @func: (nullable): called on the main context with the network and inbox of each delivery
 *	done (2xx), e.g. to count the traffic to peers
 */
void
relay_deliverer_set_done_func(RelayDeliverer *self, RelayDelivererDoneFunc func, gpointer user_data)
{
	g_return_if_fail(RELAY_IS_DELIVERER(self));
	self->done_func = func;
	self->done_data = user_data;
}

/**
 * relay_deliverer_get_claimer:
 *
 * Returns: (transfer none): the id this process claims rows under
 */
const gchar *
relay_deliverer_get_claimer(RelayDeliverer *self)
{
	g_return_val_if_fail(RELAY_IS_DELIVERER(self), NULL);
	return self->claimer;
}

/**
 * relay_deliverer_set_sign_hook:
 * @hook: (nullable): called on the signing thread after each signature
 *
 * For tests. Set it before relay_deliverer_start().
 */
void
relay_deliverer_set_sign_hook(RelayDeliverer *self, RelayDelivererSignHook hook, gpointer user_data)
{
	g_return_if_fail(RELAY_IS_DELIVERER(self));
	self->sign_hook = hook;
	self->sign_hook_data = user_data;
}

static void
relay_deliverer_release_run(RelayStore *store,
			    GTask *task,
			    gpointer data,
			    GCancellable *cancellable)
{
	g_autoptr(GError) error = NULL;
	guint64 released = 0;

	if (!relay_store_delivery_release(
		    store, NULL, g_get_real_time(), &released, cancellable, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_int(task, (gssize)released);
}

static void
relay_deliverer_release_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(RelayDeliverer) self = RELAY_DELIVERER(user_data);
	g_autoptr(GError) error = NULL;
	gssize released = g_task_propagate_int(G_TASK(res), &error);

	self->releasing = FALSE;
	if (released < 0)
		g_warning("deliveries: releasing old claims failed, they come back after their "
			  "lease: %s",
			  error->message);
	else if (released > 0)
		g_message("deliveries: %" G_GSSIZE_FORMAT " in flight when the node last stopped, "
			  "sending them again",
			  released);
	self->claim_wanted = TRUE;
	relay_deliverer_claim_maybe(self);
	relay_deliverer_poll_arm(self);
	relay_deliverer_check_stopped(self);
}

/**
 * relay_deliverer_start:
 *
 * Starts claiming and delivering. Claiming waits for relay_deliverer_set_networks().
 */
void
relay_deliverer_start(RelayDeliverer *self)
{
	g_return_if_fail(RELAY_IS_DELIVERER(self));
	if (self->started || self->stopping)
		return;
	self->started = TRUE;
	self->flush_id =
		g_timeout_add(RELAY_DELIVERER_FLUSH_MS, relay_deliverer_flush_timer_cb, self);

	/*
	 * Single-node storage (sqlite, memory) has only this process as a claimer, so every claim
	 * still held belongs to a previous run of this node that crashed or was stopped with POSTs
	 * in flight: release them now rather than wait for their leases, so a restart delivers at
	 * once. With storage shared by several nodes (postgres) the other claims may be alive:
	 * their leases bring them back instead.
	 */
	if (g_strcmp0(relay_store_get_backend_name(self->store), "postgres") != 0) {
		self->releasing = TRUE;
		relay_store_run_async(self->store,
				      relay_deliverer_release_run,
				      NULL,
				      NULL,
				      relay_deliverer_start,
				      NULL,
				      relay_deliverer_release_cb,
				      g_object_ref(self));
		return;
	}
	self->claim_wanted = TRUE;
	relay_deliverer_claim_maybe(self);
	relay_deliverer_poll_arm(self);
}

/**
 * relay_deliverer_wake:
 *
 * Claims at once: the inbox calls it after each enqueue. Call on the main context.
 */
void
relay_deliverer_wake(RelayDeliverer *self)
{
	g_return_if_fail(RELAY_IS_DELIVERER(self));
	self->claim_wanted = TRUE;
	relay_deliverer_claim_maybe(self);
}

/**
 * relay_deliverer_get_recent_outcomes:
 * @outcomes: (out caller-allocates): deliveries settled in the last
 *	%RELAY_DELIVERER_RECENT_MINUTES minutes, by #RelayDeliveryOutcome
 *
 * Counted in memory by minute: they start again from zero with the process.
 */
void
relay_deliverer_get_recent_outcomes(RelayDeliverer *self,
				    guint64 outcomes[RELAY_DELIVERY_OUTCOME_LAST])
{
	gint64 minute = relay_deliverer_minute_now();

	g_return_if_fail(RELAY_IS_DELIVERER(self));
	memset(outcomes, 0, sizeof(guint64) * RELAY_DELIVERY_OUTCOME_LAST);
	for (guint slot = 0; slot < RELAY_DELIVERER_RECENT_MINUTES; slot++) {
		/* a slot of a minute older than the window is stale, whatever it holds */
		if (minute - self->minute_of_slot[slot] >= RELAY_DELIVERER_RECENT_MINUTES)
			continue;
		for (guint i = 0; i < RELAY_DELIVERY_OUTCOME_LAST; i++)
			outcomes[i] += self->minute_outcomes[slot][i];
	}
}

void
relay_deliverer_host_state_free(RelayDelivererHostState *self)
{
	if (self == NULL)
		return;
	g_free(self->host);
	g_free(self);
}

static gint
relay_deliverer_host_state_cmp(gconstpointer a, gconstpointer b)
{
	const RelayDelivererHostState *state_a = *(const RelayDelivererHostState *const *)a;
	const RelayDelivererHostState *state_b = *(const RelayDelivererHostState *const *)b;
	return g_strcmp0(state_a->host, state_b->host);
}

/**
 * relay_deliverer_get_host_states:
 *
 * Returns: (transfer container) (element-type RelayDelivererHostState): the hosts failing or
 *	paused now, by name
 */
GPtrArray *
relay_deliverer_get_host_states(RelayDeliverer *self)
{
	gint64 now_us = g_get_real_time();
	g_autoptr(GPtrArray) states = NULL;
	GHashTableIter iter;
	gpointer value;

	g_return_val_if_fail(RELAY_IS_DELIVERER(self), NULL);
	states = g_ptr_array_new_with_free_func((GDestroyNotify)relay_deliverer_host_state_free);
	g_hash_table_iter_init(&iter, self->hosts);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		RelayDelivererHost *host = value;
		RelayDelivererHostState *state;

		if (host->consecutive_failures == 0 && host->hold_until_us <= now_us)
			continue;
		state = g_new0(RelayDelivererHostState, 1);
		state->host = g_strdup(host->name);
		state->consecutive_failures = host->consecutive_failures;
		state->failing_since_us = host->failing_since_us;
		state->paused_until_us = host->hold_until_us > now_us ? host->hold_until_us : 0;
		state->in_flight = host->sending;
		g_ptr_array_add(states, state);
	}
	g_ptr_array_sort(states, relay_deliverer_host_state_cmp);
	return g_steal_pointer(&states);
}

/**
 * relay_deliverer_resume_host:
 * @host: a host, as in #RelayDelivery
 *
 * Forgets the host's failures and closes its breaker, so its rows go at once when they are
 * due (`relay queue retry`); then claims. Its eviction clock starts again too.
 *
 * Returns: whether the host was failing or paused
 */
gboolean
relay_deliverer_resume_host(RelayDeliverer *self, const gchar *host)
{
	RelayDelivererHost *state;
	gboolean troubled;

	g_return_val_if_fail(RELAY_IS_DELIVERER(self), FALSE);
	state = g_hash_table_lookup(self->hosts, host);
	if (state == NULL)
		troubled = FALSE;
	else
		troubled =
			state->consecutive_failures > 0 || state->hold_until_us > g_get_real_time();
	if (state != NULL) {
		state->consecutive_failures = 0;
		state->failing_since_us = 0;
		state->hold_until_us = 0;
		g_hash_table_remove(self->holds, host);
		state->next_slot_us = 0;
	}
	relay_deliverer_wake(self);
	return troubled;
}

/**
 * relay_deliverer_get_counters:
 * @counters: (out caller-allocates): filled with the counters
 */
void
relay_deliverer_get_counters(RelayDeliverer *self, RelayDelivererCounters *counters)
{
	gint64 now_us = g_get_real_time();
	GHashTableIter iter;
	gpointer value;

	g_return_if_fail(RELAY_IS_DELIVERER(self));
	*counters = self->counters;
	counters->in_flight = self->sending;
	counters->held = g_hash_table_size(self->jobs);
	counters->hosts_paused = 0;
	g_hash_table_iter_init(&iter, self->hosts);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		if (((RelayDelivererHost *)value)->hold_until_us > now_us)
			counters->hosts_paused++;
	}
}

/**
 * relay_deliverer_get_host_health:
 * @host: a host as in #RelayDelivery (lower case, ":PORT" when the URL had one)
 * @health: (out caller-allocates): what the engine knows of it now
 *
 * For the status page. The engine forgets healthy idle hosts, and all of it at a restart.
 *
 * Returns: %TRUE when the engine knows @host; @health is zeroed otherwise
 */
gboolean
relay_deliverer_get_host_health(RelayDeliverer *self,
				const gchar *host,
				RelayDelivererHostHealth *health)
{
	const RelayDelivererHost *known;

	g_return_val_if_fail(RELAY_IS_DELIVERER(self), FALSE);
	memset(health, 0, sizeof(*health));
	known = host != NULL ? g_hash_table_lookup(self->hosts, host) : NULL;
	if (known == NULL)
		return FALSE;
	health->consecutive_failures = known->consecutive_failures;
	health->failing_since_us = known->failing_since_us;
	if (known->hold_until_us > g_get_real_time())
		health->paused_until_us = known->hold_until_us;
	return TRUE;
}

static gboolean
relay_deliverer_stop_grace_cb(gpointer user_data)
{
	RelayDeliverer *self = RELAY_DELIVERER(user_data);
	GHashTableIter iter;
	gpointer key;

	self->stop_grace_id = 0;
	if (self->sending > 0)
		g_message("deliveries: %u still in flight at shutdown, they come back after their "
			  "lease",
			  self->sending);
	g_hash_table_iter_init(&iter, self->jobs);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		RelayDelivererJob *job = key;
		if (job->state != RELAY_DELIVERER_JOB_SENDING)
			continue;
		job->aborted = TRUE;
		g_cancellable_cancel(job->cancellable);
	}
	return G_SOURCE_REMOVE;
}

static void
relay_deliverer_check_stopped(RelayDeliverer *self)
{
	g_autoptr(GTask) task = NULL;

	if (self->stop_task == NULL)
		return;
	if (g_hash_table_size(self->jobs) > 0 || self->claiming || self->releasing ||
	    self->settling || self->settle_pending->len > 0 || self->evicting > 0 || self->flushing)
		return;
	/* the last counters (once, so a failing store cannot keep us here), then done */
	if (!self->final_flush) {
		self->final_flush = TRUE;
		if (relay_deliverer_flush(self))
			return;
	}
	g_clear_handle_id(&self->stop_grace_id, g_source_remove);
	task = g_steal_pointer(&self->stop_task);
	g_task_return_boolean(task, TRUE);
}

/**
 * relay_deliverer_stop_async:
 * @cancellable: (nullable): a #GCancellable
 *
 * Stops claiming, gives back the rows waiting for a connection, lets the POSTs in flight finish for
 * a few seconds at most and settles them, then saves the counters. POSTs still in flight after that
 * are cancelled: their rows stay claimed and come back when their lease ends (or at once when a
 * single-node relay starts again).
 */
void
relay_deliverer_stop_async(RelayDeliverer *self,
			   GCancellable *cancellable,
			   GAsyncReadyCallback callback,
			   gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	GHashTableIter iter;
	gpointer value;

	g_task_set_source_tag(task, relay_deliverer_stop_async);
	if (self->stop_task != NULL) {
		g_task_return_new_error(
			task, G_IO_ERROR, G_IO_ERROR_PENDING, "the deliverer is already stopping");
		return;
	}
	self->stopping = TRUE;
	g_clear_handle_id(&self->poll_id, g_source_remove);
	g_clear_handle_id(&self->flush_id, g_source_remove);
	/* the signed rows waiting for a connection go back (those being signed, once signed) */
	g_hash_table_iter_init(&iter, self->hosts);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		relay_deliverer_host_pump(self, value);
	self->stop_task = g_steal_pointer(&task);
	self->stop_grace_id = g_timeout_add_seconds(
		MIN(MAX(self->options.timeout_s, 1), RELAY_DELIVERER_STOP_GRACE_S),
		relay_deliverer_stop_grace_cb,
		self);
	relay_deliverer_settle_flush(self);
	relay_deliverer_check_stopped(self);
}

/**
 * relay_deliverer_stop_finish:
 *
 * Returns: %TRUE once stopped
 */
gboolean
relay_deliverer_stop_finish(RelayDeliverer *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

static void
relay_deliverer_dispose(GObject *object)
{
	RelayDeliverer *self = RELAY_DELIVERER(object);

	g_clear_handle_id(&self->poll_id, g_source_remove);
	g_clear_handle_id(&self->flush_id, g_source_remove);
	g_clear_handle_id(&self->settle_timer_id, g_source_remove);
	g_clear_handle_id(&self->stop_grace_id, g_source_remove);
	if (self->sign_pool != NULL)
		g_thread_pool_free(g_steal_pointer(&self->sign_pool), FALSE, TRUE);
	if (self->deadline_source != NULL) {
		g_source_destroy(self->deadline_source);
		g_clear_pointer(&self->deadline_source, g_source_unref);
	}
	if (self->client != NULL)
		relay_http_client_close_idle(self->client);
	g_clear_object(&self->client);
	g_clear_pointer(&self->networks, g_hash_table_unref);
	G_OBJECT_CLASS(relay_deliverer_parent_class)->dispose(object);
}

static void
relay_deliverer_finalize(GObject *object)
{
	RelayDeliverer *self = RELAY_DELIVERER(object);

	g_hash_table_unref(self->jobs);
	g_hash_table_unref(self->hosts);
	g_hash_table_unref(self->holds);
	g_array_unref(self->settle_pending);
	g_tree_unref(self->retry_times);
	g_clear_object(&self->store);
	g_free(self->claimer);
	g_free(self->tls_ca_file);
	g_free(self->user_agent);
	g_mutex_clear(&self->signed_lock);
	g_main_context_unref(self->context);
	G_OBJECT_CLASS(relay_deliverer_parent_class)->finalize(object);
}

static gint
relay_deliverer_time_cmp(gconstpointer a, gconstpointer b, gpointer user_data)
{
	gint64 time_a = *(const gint64 *)a;
	gint64 time_b = *(const gint64 *)b;
	return time_a < time_b ? -1 : time_a > time_b ? 1 : 0;
}

static void
relay_deliverer_init(RelayDeliverer *self)
{
	self->hosts = g_hash_table_new_full(
		g_str_hash, g_str_equal, NULL, (GDestroyNotify)relay_deliverer_host_free);
	self->holds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	self->jobs = g_hash_table_new_full(
		g_direct_hash, g_direct_equal, (GDestroyNotify)relay_deliverer_job_free, NULL);
	self->settle_pending = g_array_new(FALSE, FALSE, sizeof(RelayDeliveryResult));
	self->retry_times = g_tree_new_full(relay_deliverer_time_cmp, NULL, g_free, NULL);
	relay_deliverer_options_init(&self->options);
	self->context = g_main_context_ref_thread_default();
	g_mutex_init(&self->signed_lock);
	g_queue_init(&self->signed_jobs);
	g_queue_init(&self->deadlines);
	/* the source does not hold the engine: dispose destroys it */
	self->deadline_source = g_source_new(&relay_deliverer_deadline_funcs, sizeof(GSource));
	g_source_set_callback(self->deadline_source, relay_deliverer_deadline_cb, self, NULL);
	g_source_set_ready_time(self->deadline_source, -1);
	g_source_attach(self->deadline_source, self->context);
}

static void
relay_deliverer_class_init(RelayDelivererClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = relay_deliverer_dispose;
	object_class->finalize = relay_deliverer_finalize;

	/**
	 * RelayDeliverer::host-evicted:
	 * @host: the host, with ":PORT" when its inboxes name one
	 * @removed: how many members were removed
	 *
	 * A host failed for longer than evict-after and its members were removed from storage;
	 * caches of members must forget them.
	 */
	signals[SIGNAL_HOST_EVICTED] = g_signal_new("host-evicted",
						    G_TYPE_FROM_CLASS(klass),
						    G_SIGNAL_RUN_LAST,
						    0,
						    NULL,
						    NULL,
						    NULL,
						    G_TYPE_NONE,
						    2,
						    G_TYPE_STRING,
						    G_TYPE_UINT);
}
