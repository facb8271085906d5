/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "relay-config.h"
#include "relay-store.h"

G_BEGIN_DECLS

/**
 * RelayDelivererOptions:
 * @workers: signing threads; 0 means one per core
 * @max_connections_per_host: POSTs in flight to one host at once, and libsoup's connection cap
 * @max_in_flight: rows held at once (being signed, posted, or waiting for their host)
 * @timeout_s: the whole of one POST: waiting for a connection, connecting, sending, receiving
 * @retry_base_s: the first retry delay; each failure doubles it
 * @retry_cap_s: the longest retry delay, also the most a Retry-After is honoured
 * @max_age_s: a row older than this is expired instead of retried
 * @breaker_failures: consecutive failures that pause a host
 * @breaker_pause_s: how long a host stays paused
 * @evict_after_s: a host failing for this long has its members removed
 * @batch: rows claimed from storage at once
 * @lease_s: how long a claim holds before the rows are due again for anyone
 * @allow_private_addresses: let deliveries reach loopback and private addresses (tests)
 * @tls_ca_file: (nullable): CA bundle (PEM) trusted instead of the system's, for tests
 * @user_agent: (nullable): the User-Agent header
 *
 * What bounds the delivery engine; relay_deliverer_options_init() fills the defaults of the
 * `[delivery]` table of relay.conf, relay_deliverer_options_from_config() the configured values.
 * The strings are borrowed: they must outlive the call they are passed to.
 */
typedef struct {
	guint workers;
	guint max_connections_per_host;
	guint max_in_flight;
	guint timeout_s;
	guint retry_base_s;
	guint retry_cap_s;
	guint max_age_s;
	guint breaker_failures;
	guint breaker_pause_s;
	guint evict_after_s;
	guint batch;
	guint lease_s;
	gboolean allow_private_addresses;
	const gchar *tls_ca_file;
	const gchar *user_agent;
} RelayDelivererOptions;

/**
 * RelayDelivererHostState:
 * @host: the host, as in #RelayDelivery
 * @consecutive_failures: failures in a row since its last answer
 * @failing_since_us: the first of those failures, 0 when healthy
 * @paused_until_us: its rows are held until then (breaker or Retry-After), 0 when not paused
 * @in_flight: POSTs to it in flight now
 *
 * What the engine knows of a host in trouble, for `relay queue`; in memory only.
 */
typedef struct {
	gchar *host;
	guint consecutive_failures;
	gint64 failing_since_us;
	gint64 paused_until_us;
	guint in_flight;
} RelayDelivererHostState;

void
relay_deliverer_host_state_free(RelayDelivererHostState *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayDelivererHostState, relay_deliverer_host_state_free)

/* how far back relay_deliverer_get_recent_outcomes() counts, in minutes */
#define RELAY_DELIVERER_RECENT_MINUTES 60

/**
 * RelayDelivererCounters:
 * @outcomes: deliveries settled, by #RelayDeliveryOutcome (done, retry, failed, expired)
 * @deferred: rows given back unattempted: their host was paused or busy, or the engine stopping
 * @latency_count: deliveries done
 * @latency_sum_us: the sum over them of the time from the row's creation to done
 * @latency_buckets: how many of them took at most relay_deliverer_latency_bounds_s[i]
 *	(and more than the bound before: not cumulative)
 * @hosts_evicted: hosts whose members were removed for failing too long
 * @in_flight: POSTs in flight now
 * @held: rows claimed and not yet settled now: being signed, waiting for a connection, posted
 * @hosts_paused: hosts whose breaker is open now
 *
 * The engine's counters since it was created, for /metrics; the totals are also added to the
 * store's counters (deliveries_total{outcome="done"}, ...) every few seconds and at stop.
 */
#define RELAY_DELIVERER_LATENCY_BUCKETS 16
extern const gdouble relay_deliverer_latency_bounds_s[RELAY_DELIVERER_LATENCY_BUCKETS];

typedef struct {
	guint64 outcomes[RELAY_DELIVERY_OUTCOME_LAST];
	guint64 deferred;
	guint64 latency_count;
	guint64 latency_sum_us;
	guint64 latency_buckets[RELAY_DELIVERER_LATENCY_BUCKETS];
	guint64 hosts_evicted;
	guint in_flight;
	guint held;
	guint hosts_paused;
} RelayDelivererCounters;

/**
 * RelayDelivererHostHealth:
 * @consecutive_failures: failures since the host's last success
 * @failing_since_us: the first of them, 0 when the last POST succeeded
 * @paused_until_us: until when its rows wait (breaker open, or a Retry-After), 0 if they do not
 */
typedef struct {
	guint consecutive_failures;
	gint64 failing_since_us;
	gint64 paused_until_us;
} RelayDelivererHostHealth;

#define RELAY_TYPE_DELIVERER (relay_deliverer_get_type())
G_DECLARE_FINAL_TYPE(RelayDeliverer, relay_deliverer, RELAY, DELIVERER, GObject)

void
relay_deliverer_options_init(RelayDelivererOptions *options);
void
relay_deliverer_options_from_config(RelayDelivererOptions *options, RelayConfig *config);

RelayDeliverer *
relay_deliverer_new(RelayStore *store,
		    const RelayDelivererOptions *options,
		    GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_deliverer_set_options(RelayDeliverer *self,
			    const RelayDelivererOptions *options,
			    GError **error) G_GNUC_WARN_UNUSED_RESULT;
void
relay_deliverer_set_networks(RelayDeliverer *self, GHashTable *networks);
typedef void (*RelayDelivererDoneFunc)(const gchar *network,
				       const gchar *inbox,
				       gpointer user_data);
void
relay_deliverer_set_done_func(RelayDeliverer *self,
			      RelayDelivererDoneFunc func,
			      gpointer user_data);
const gchar *
relay_deliverer_get_claimer(RelayDeliverer *self);
void
relay_deliverer_start(RelayDeliverer *self);
void
relay_deliverer_wake(RelayDeliverer *self);
GHashTable *
relay_deliverer_dup_holds(RelayDeliverer *self);
void
relay_deliverer_get_recent_outcomes(RelayDeliverer *self,
				    guint64 outcomes[RELAY_DELIVERY_OUTCOME_LAST]);
GPtrArray *
relay_deliverer_get_host_states(RelayDeliverer *self);
gboolean
relay_deliverer_resume_host(RelayDeliverer *self, const gchar *host);
void
relay_deliverer_get_counters(RelayDeliverer *self, RelayDelivererCounters *counters);
gboolean
relay_deliverer_get_host_health(RelayDeliverer *self,
				const gchar *host,
				RelayDelivererHostHealth *health);
void
relay_deliverer_stop_async(RelayDeliverer *self,
			   GCancellable *cancellable,
			   GAsyncReadyCallback callback,
			   gpointer user_data);
gboolean
relay_deliverer_stop_finish(RelayDeliverer *self,
			    GAsyncResult *res,
			    GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
