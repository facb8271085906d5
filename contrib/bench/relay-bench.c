/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * relay-bench: the relay's performance figures, each measured against a baseline taken in the
 * same run on the same machine, so that a figure is a ratio and holds from one machine to the
 * next. Everything runs on loopback: the relay under test is the `relay` binary, started with a
 * configuration of our own; its members are fake instances on 127.10.X.Y served by this
 * process's sinks (see relay-bench-fleet.c), which subscribe with real signed Follows and post
 * real signed activities through the relay's inbox.
 *
 *  1 ingest   inbox POSTs accepted (202) per second from 10 members, against a libsoup server
 *             that answers 202 and does nothing
 *  2 fan-out  deliveries per second to a network of 1,000 members, against RSA-2048 signatures
 *             per second on every core
 *  3 latency  100 members, 20 posts a second: from the 202 to the last member's receipt
 *  4 memory   resident memory with 10,000 members, then with 1,000,000 deliveries queued
 *  5 restart  with that queue: start to /healthz 200 and to the first delivery
 *  6 storage  fan-out with the sqlite and memory backends
 *
 * Benchmarks are not tests: `--quick` runs every figure small, in seconds, to check the bench
 * still works (the `bench-smoke` test), and its numbers mean little.
 */

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>

#include "relay-bench-baseline.h"
#include "relay-bench-fleet.h"
#include "relay-bench-relay.h"
#include "relay-bench-util.h"

/* posts sent one at a time before the latency figure's stream */
#define RELAY_BENCH_IDLE_POSTS 5

/* how big each figure is */
typedef struct {
	gdouble rsa_seconds;
	guint keys;
	guint ingest_members;
	guint ingest_connections;
	guint ingest_probe;
	guint ingest_min;
	guint ingest_max;
	gdouble ingest_seconds;
	gdouble trivial_seconds;
	guint fanout_members;
	gdouble fanout_warmup_seconds;
	gdouble fanout_seconds;
	guint latency_members;
	gdouble latency_rate;
	gdouble latency_seconds;
	guint memory_members;
	guint queue_target;
	gdouble drain_seconds;
} RelayBenchSizes;

static const RelayBenchSizes relay_bench_full = {
	.rsa_seconds = 3,
	.keys = 4,
	.ingest_members = 10,
	.ingest_connections = 4,
	.ingest_probe = 400,
	.ingest_min = 2000,
	.ingest_max = 30000,
	.ingest_seconds = 10,
	.trivial_seconds = 5,
	.fanout_members = 1000,
	.fanout_warmup_seconds = 3,
	.fanout_seconds = 15,
	.latency_members = 100,
	.latency_rate = 20,
	.latency_seconds = 15,
	.memory_members = 10000,
	.queue_target = 1000000,
	.drain_seconds = 5,
};

static const RelayBenchSizes relay_bench_quick = {
	.rsa_seconds = 0.3,
	.keys = 2,
	.ingest_members = 10,
	.ingest_connections = 2,
	.ingest_probe = 40,
	.ingest_min = 100,
	.ingest_max = 300,
	.ingest_seconds = 0.5,
	.trivial_seconds = 0.3,
	.fanout_members = 20,
	.fanout_warmup_seconds = 0.3,
	.fanout_seconds = 0.7,
	.latency_members = 10,
	.latency_rate = 20,
	.latency_seconds = 1,
	.memory_members = 50,
	.queue_target = 2000,
	.drain_seconds = 0.3,
};

/* one row of the report */
typedef struct {
	gchar *id;
	gchar *title;
	gboolean measured;
	gdouble value;
	gchar *measured_text;
	gchar *baseline_text;
	gdouble ratio; /* < 0: none */
	gchar *target_text;
	gint pass; /* 1, 0, or -1 when there is no target */
	gchar *error;
	JsonObject *json;
} RelayBenchResult;

typedef struct {
	gboolean quick;
	gchar **only;
	gchar *relay_binary;
	gchar *perf_path;
	gchar *delivery_extra; /* (nullable): more [delivery] lines for every relay */
	gboolean keep;
	const RelayBenchSizes *sizes;
	guint cores;
	gchar *dir;
	GPtrArray *keys;
	gdouble rsa_rate;     /* signatures per second, every core busy */
	gdouble rsa_rate_one; /* one core */
	GPtrArray *results;   /* (element-type RelayBenchResult) */
	gint64 started_us;
	gdouble fanout_sqlite;
	gdouble fanout_memory;
} RelayBench;

static void
relay_bench_result_free(RelayBenchResult *result)
{
	g_free(result->id);
	g_free(result->title);
	g_free(result->measured_text);
	g_free(result->baseline_text);
	g_free(result->target_text);
	g_free(result->error);
	json_object_unref(result->json);
	g_free(result);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayBenchResult, relay_bench_result_free)

static RelayBenchResult *
relay_bench_result_new(const gchar *id, const gchar *title)
{
	RelayBenchResult *result = g_new0(RelayBenchResult, 1);

	result->id = g_strdup(id);
	result->title = g_strdup(title);
	result->ratio = -1;
	result->pass = -1;
	result->json = json_object_new();
	json_object_set_string_member(result->json, "bench", "relay");
	json_object_set_string_member(result->json, "figure", id);
	return result;
}

static void
relay_bench_progress(RelayBench *self, const gchar *format, ...) G_GNUC_PRINTF(2, 3);

static void
relay_bench_progress(RelayBench *self, const gchar *format, ...)
{
	g_autofree gchar *text = NULL;
	va_list args;

	va_start(args, format);
	text = g_strdup_vprintf(format, args);
	va_end(args);
	fprintf(stderr,
		"[%6.1f s] %s\n",
		(gdouble)(g_get_monotonic_time() - self->started_us) / G_USEC_PER_SEC,
		text);
}

static gboolean
relay_bench_wants(RelayBench *self, const gchar *figure)
{
	return self->only == NULL || g_strv_contains((const gchar *const *)self->only, figure);
}

/* phases: a relay, its members, subscribed */

typedef struct {
	gchar *dir;
	RelayBenchRelay *relay;
	RelayBenchFleet *fleet;
	gint64 subscribe_us;
} RelayBenchPhase;

static void
relay_bench_phase_clear(RelayBench *self, RelayBenchPhase *phase)
{
	if (phase->relay != NULL) {
		g_autoptr(GError) error = NULL;
		if (!relay_bench_relay_stop(phase->relay, 30000, &error))
			relay_bench_progress(self, "warning: %s", error->message);
		g_clear_pointer(&phase->relay, relay_bench_relay_free);
	}
	g_clear_pointer(&phase->fleet, relay_bench_fleet_free);
	g_free(phase->dir);
	phase->dir = NULL;
}

/* starts a relay and @members members listening, waits for the relay; nobody subscribed yet */
static gboolean
relay_bench_phase_open(RelayBench *self,
		       RelayBenchPhase *phase,
		       const gchar *name,
		       const gchar *backend,
		       guint members,
		       GError **error)
{
	g_autofree gchar *key_id = NULL;
	EVP_PKEY *key;

	phase->dir = g_build_filename(self->dir, name, NULL);
	if (g_mkdir_with_parents(phase->dir, 0700) != 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "%s: %s",
			    phase->dir,
			    g_strerror(errno));
		return FALSE;
	}
	phase->relay = relay_bench_relay_new(
		self->relay_binary, phase->dir, backend, self->delivery_extra, error);
	if (phase->relay == NULL)
		return FALSE;
	phase->fleet = relay_bench_fleet_new(members,
					     self->keys,
					     relay_bench_relay_get_origin(phase->relay),
					     relay_bench_relay_get_port(phase->relay),
					     error);
	if (phase->fleet == NULL)
		return FALSE;
	if (!relay_bench_relay_spawn(phase->relay, error) ||
	    !relay_bench_relay_wait_healthy(
		    phase->relay, relay_bench_fleet_get_net(phase->fleet), 30000, error))
		return FALSE;
	key = relay_bench_relay_fetch_key(
		phase->relay, relay_bench_fleet_get_net(phase->fleet), &key_id, error);
	if (key == NULL)
		return FALSE;
	relay_bench_fleet_set_relay_key(phase->fleet, key_id, key);
	return TRUE;
}

static gboolean
relay_bench_phase_nodeinfo_checked(gpointer user_data)
{
	RelayBenchPhase *phase = user_data;
	return relay_bench_fleet_get_nodeinfo_requests(phase->fleet) >=
	       relay_bench_fleet_get_size(phase->fleet);
}

static gboolean
relay_bench_phase_subscribe(RelayBench *self, RelayBenchPhase *phase, GError **error)
{
	guint members = relay_bench_fleet_get_size(phase->fleet);
	gint64 started_us = g_get_monotonic_time();

	if (!relay_bench_fleet_subscribe(phase->fleet, members, 32, 60000 + members * 30, error))
		return FALSE;
	phase->subscribe_us = g_get_monotonic_time() - started_us;
	relay_bench_progress(self,
			     "%u members subscribed in %.1f s",
			     members,
			     (gdouble)phase->subscribe_us / G_USEC_PER_SEC);
	return TRUE;
}

static gboolean
relay_bench_phase_start(RelayBench *self,
			RelayBenchPhase *phase,
			const gchar *name,
			const gchar *backend,
			guint members,
			GError **error)
{
	gint64 started_us;

	relay_bench_progress(
		self, "%s: starting a relay (%s) and %u members", name, backend, members);
	if (!relay_bench_phase_open(self, phase, name, backend, members, error) ||
	    !relay_bench_phase_subscribe(self, phase, error))
		return FALSE;
	/* the relay checks each new member's NodeInfo once: figures are taken after that, in the
	 * steady state (a check not asked for in time is only reported) */
	started_us = g_get_monotonic_time();
	if (!relay_bench_wait_until(
		    relay_bench_phase_nodeinfo_checked, phase, 30000 + members * 10))
		relay_bench_progress(self,
				     "only %" G_GUINT64_FORMAT " of %u NodeInfo checks came",
				     relay_bench_fleet_get_nodeinfo_requests(phase->fleet),
				     members);
	else
		relay_bench_progress(self,
				     "%u NodeInfo checks in %.1f s",
				     members,
				     (gdouble)(g_get_monotonic_time() - started_us) /
					     G_USEC_PER_SEC);
	return TRUE;
}

/* posting tracked activities */

static void
relay_bench_post_cb(RelayBenchClient *client,
		    guint status,
		    const guint8 *body,
		    gsize body_len,
		    gint64 latency_us,
		    gpointer tag,
		    gpointer user_data)
{
	RelayBenchActivity *activity = tag;

	activity->status = status;
	activity->answered_us = g_get_monotonic_time();
}

static RelayBenchActivity *
relay_bench_post(RelayBenchPhase *phase, RelayBenchClient *client, guint sender)
{
	guint members = relay_bench_fleet_get_size(phase->fleet);
	RelayBenchActivity *activity =
		relay_bench_fleet_activity_new(phase->fleet, sender, members - 1);
	g_autoptr(GBytes) request =
		relay_bench_fleet_sign_post(phase->fleet, sender, activity->seq);

	activity->submitted_us = g_get_monotonic_time();
	relay_bench_client_submit(client, request, activity);
	return activity;
}

typedef struct {
	GPtrArray *activities; /* (element-type RelayBenchActivity) */
} RelayBenchActivitiesWait;

static gboolean
relay_bench_activities_done(gpointer user_data)
{
	RelayBenchActivitiesWait *wait = user_data;

	for (guint i = 0; i < wait->activities->len; i++) {
		RelayBenchActivity *activity = g_ptr_array_index(wait->activities, i);
		if (activity->status == 0)
			return FALSE;
		if (activity->status == 202 && activity->received < activity->expected)
			return FALSE;
	}
	return TRUE;
}

static gboolean
relay_bench_activities_check(GPtrArray *activities, GError **error)
{
	for (guint i = 0; i < activities->len; i++) {
		RelayBenchActivity *activity = g_ptr_array_index(activities, i);
		if (activity->status != 202) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_FAILED,
				    "a post was answered HTTP %u",
				    activity->status);
			return FALSE;
		}
		if (activity->received < activity->expected) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_TIMED_OUT,
				    "a post reached %u of %u members",
				    activity->received,
				    activity->expected);
			return FALSE;
		}
	}
	return TRUE;
}

/* every member in @senders posts once and waits for all deliveries: keys fetched, connections
 * open */
static gboolean
relay_bench_warm_up(RelayBenchPhase *phase, GPtrArray *clients, guint timeout_ms, GError **error)
{
	g_autoptr(GPtrArray) activities = g_ptr_array_new();
	RelayBenchActivitiesWait wait = {activities};

	for (guint i = 0; i < clients->len; i++)
		g_ptr_array_add(activities,
				relay_bench_post(phase, g_ptr_array_index(clients, i), i));
	relay_bench_wait_until(relay_bench_activities_done, &wait, timeout_ms);
	if (!relay_bench_activities_check(activities, error)) {
		g_prefix_error(error, "warming up: ");
		return FALSE;
	}
	return TRUE;
}

static GPtrArray *
relay_bench_member_clients(RelayBenchPhase *phase,
			   guint count,
			   guint16 port,
			   guint connections,
			   RelayBenchResponseFunc func,
			   gpointer user_data)
{
	GPtrArray *clients =
		g_ptr_array_new_with_free_func((GDestroyNotify)relay_bench_client_free);

	for (guint i = 0; i < count; i++) {
		RelayBenchMember *member = relay_bench_fleet_get_member(phase->fleet, i);
		g_ptr_array_add(clients,
				relay_bench_client_new(relay_bench_fleet_get_net(phase->fleet),
						       "127.0.0.1",
						       port,
						       member->address,
						       connections,
						       func,
						       user_data));
	}
	return clients;
}

static gboolean
relay_bench_verified(RelayBenchPhase *phase, JsonObject *json, GError **error)
{
	guint64 sampled = 0;
	guint64 failed = 0;
	const gchar *message = NULL;

	relay_bench_fleet_get_verified(phase->fleet, &sampled, &failed, &message);
	json_object_set_int_member(json, "signatures_verified", (gint64)(sampled - failed));
	json_object_set_int_member(json, "signatures_failed", (gint64)failed);
	if (failed > 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_FAILED,
			    "%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
			    " sampled deliveries did not verify: %s",
			    failed,
			    sampled,
			    message);
		return FALSE;
	}
	return TRUE;
}

/* 1: ingest */

/* a closed loop: each lane (a member) keeps its connections busy with its own requests */
typedef struct {
	GPtrArray *requests; /* (element-type GBytes) */
	guint lanes;
	guint *cursor; /* per lane: the next request index */
	gboolean cyclic;
	gint64 deadline_us;
	guint submitted;
	guint answered;
	guint accepted;
	guint failed;
	guint failed_status;
	GArray *latencies; /* (element-type gint64) */
	gint64 started_us;
	gint64 finished_us;
} RelayBenchLoad;

static gboolean
relay_bench_load_submit(RelayBenchLoad *load, RelayBenchClient *client, guint lane)
{
	guint index = load->cursor[lane];

	if (g_get_monotonic_time() >= load->deadline_us)
		return FALSE;
	if (index >= load->requests->len) {
		if (!load->cyclic)
			return FALSE;
		index = lane;
	}
	load->cursor[lane] = index + load->lanes;
	load->submitted++;
	relay_bench_client_submit(
		client, g_ptr_array_index(load->requests, index), GUINT_TO_POINTER(lane));
	return TRUE;
}

static void
relay_bench_load_cb(RelayBenchClient *client,
		    guint status,
		    const guint8 *body,
		    gsize body_len,
		    gint64 latency_us,
		    gpointer tag,
		    gpointer user_data)
{
	RelayBenchLoad *load = user_data;

	load->answered++;
	load->finished_us = g_get_monotonic_time();
	if (status == 202) {
		load->accepted++;
		g_array_append_val(load->latencies, latency_us);
	} else {
		load->failed++;
		load->failed_status = status;
	}
	relay_bench_load_submit(load, client, GPOINTER_TO_UINT(tag));
}

static gboolean
relay_bench_load_done(gpointer user_data)
{
	RelayBenchLoad *load = user_data;
	return load->answered == load->submitted;
}

/* runs @requests (request i from lane i % lanes) through @clients until they are all answered
 * or @seconds passed; @clients were made with relay_bench_load_cb and @load */
static void
relay_bench_load_run(RelayBenchLoad *load,
		     GPtrArray *clients,
		     GPtrArray *requests,
		     guint connections,
		     gboolean cyclic,
		     gdouble seconds)
{
	g_autofree guint *cursor = g_new0(guint, clients->len);

	load->requests = requests;
	load->lanes = clients->len;
	load->cursor = cursor;
	load->cyclic = cyclic;
	load->submitted = load->answered = load->accepted = load->failed = 0;
	g_array_set_size(load->latencies, 0);
	load->started_us = g_get_monotonic_time();
	load->finished_us = load->started_us;
	load->deadline_us = load->started_us + (gint64)(seconds * G_USEC_PER_SEC);
	for (guint lane = 0; lane < clients->len; lane++) {
		cursor[lane] = lane;
		for (guint c = 0; c < connections; c++)
			relay_bench_load_submit(load, g_ptr_array_index(clients, lane), lane);
	}
	relay_bench_wait_until(relay_bench_load_done, load, (guint)(seconds * 1000) + 60000);
	load->cursor = NULL;
}

static gdouble
relay_bench_load_rate(RelayBenchLoad *load)
{
	gdouble seconds = (gdouble)(load->finished_us - load->started_us) / G_USEC_PER_SEC;
	return seconds > 0 ? load->accepted / seconds : 0;
}

static gdouble
relay_bench_ms(gint64 us)
{
	return (gdouble)us / 1000.0;
}

/* the CPU a relay and the bench used over a stretch of time, in percent of one core */
typedef struct {
	gint pid;
	gint64 started_us;
	gdouble relay_s;
	gdouble main_s;
	gdouble bench_s;
} RelayBenchCpu;

static void
relay_bench_cpu_start(RelayBenchCpu *cpu, RelayBenchRelay *relay)
{
	cpu->pid = relay_bench_relay_get_pid(relay);
	cpu->started_us = g_get_monotonic_time();
	cpu->relay_s = relay_bench_proc_cpu_s(cpu->pid);
	cpu->main_s = relay_bench_thread_cpu_s(cpu->pid, cpu->pid);
	cpu->bench_s = relay_bench_self_cpu_s();
}

static void
relay_bench_cpu_stop(RelayBenchCpu *cpu, JsonObject *json)
{
	gdouble seconds = (gdouble)(g_get_monotonic_time() - cpu->started_us) / G_USEC_PER_SEC;
	gdouble relay_s = relay_bench_proc_cpu_s(cpu->pid) - cpu->relay_s;
	gdouble main_s = relay_bench_thread_cpu_s(cpu->pid, cpu->pid) - cpu->main_s;
	gdouble bench_s = relay_bench_self_cpu_s() - cpu->bench_s;

	if (seconds <= 0)
		return;
	json_object_set_double_member(json, "relay_cpu_percent", 100.0 * relay_s / seconds);
	/* the main loop's share: HTTP in and out, routing; signing and storage have threads */
	json_object_set_double_member(
		json, "relay_main_thread_cpu_percent", 100.0 * main_s / seconds);
	json_object_set_double_member(json, "bench_cpu_percent", 100.0 * bench_s / seconds);
}

static void
relay_bench_ingest_senders(guint *senders, guint count, guint members)
{
	for (guint i = 0; i < count; i++)
		senders[i] = i % members;
}

static GPtrArray *
relay_bench_ingest_requests(RelayBenchPhase *phase, guint count, guint members)
{
	g_autofree guint *senders = g_new0(guint, count);
	guint64 first = relay_bench_fleet_reserve_seqs(phase->fleet, count);

	relay_bench_ingest_senders(senders, count, members);
	return relay_bench_fleet_sign_posts(phase->fleet, senders, first, count);
}

/* a perf profile of the relay for @seconds, into PREFIX.NAME.data (see --perf) */
static GSubprocess *
relay_bench_perf_start(RelayBench *self, RelayBenchRelay *relay, const gchar *name, gdouble seconds)
{
	g_autofree gchar *pid = g_strdup_printf("%d", relay_bench_relay_get_pid(relay));
	g_autofree gchar *duration = g_strdup_printf("%.1f", seconds);
	g_autofree gchar *path = g_strdup_printf("%s.%s.data", self->perf_path, name);
	const gchar *argv[] = {"perf",
			       "record",
			       "-F",
			       "999",
			       "-g",
			       "-o",
			       path,
			       "-p",
			       pid,
			       "--",
			       "sleep",
			       duration,
			       NULL};
	g_autoptr(GError) error = NULL;
	GSubprocess *perf = g_subprocess_newv(argv,
					      G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
						      G_SUBPROCESS_FLAGS_STDERR_SILENCE,
					      &error);

	if (perf == NULL)
		relay_bench_progress(self, "warning: perf: %s", error->message);
	else
		relay_bench_progress(self, "recording a perf profile of the relay into %s", path);
	return perf;
}

static gboolean
relay_bench_subprocess_exited(gpointer user_data)
{
	return g_subprocess_get_identifier(user_data) == NULL;
}

/* waits for perf to write its file */
static void
relay_bench_perf_finish(GSubprocess **perf)
{
	if (*perf == NULL)
		return;
	if (!relay_bench_wait_until(relay_bench_subprocess_exited, *perf, 60000))
		g_subprocess_force_exit(*perf);
	g_clear_object(perf);
}

static gboolean
relay_bench_ingest_run(RelayBench *self,
		       RelayBenchPhase *phase,
		       RelayBenchLoad *load,
		       RelayBenchResult *result,
		       GError **error)
{
	const RelayBenchSizes *sizes = self->sizes;
	guint members = sizes->ingest_members;
	guint connections = sizes->ingest_connections;
	guint16 relay_port;
	g_autoptr(GPtrArray) warm = NULL;
	g_autoptr(GPtrArray) relay_clients = NULL;
	g_autoptr(GPtrArray) trivial_clients = NULL;
	g_autoptr(RelayBenchTrivialServer) trivial = NULL;
	g_autoptr(GPtrArray) probe = NULL;
	g_autoptr(GPtrArray) requests = NULL;
	g_autoptr(GSubprocess) perf = NULL;
	RelayBenchCpu cpu;
	JsonObject *json = result->json;
	gdouble trivial_rate;
	gdouble probe_rate;
	gdouble rate;
	gdouble p50_ms;
	gdouble p99_ms;
	guint count;

	if (!relay_bench_phase_start(self, phase, "ingest", "sqlite", members, error))
		return FALSE;
	relay_port = relay_bench_relay_get_port(phase->relay);

	/* each member posts once: its key is fetched and cached before the clock runs */
	warm = relay_bench_member_clients(phase, members, relay_port, 1, relay_bench_post_cb, NULL);
	if (!relay_bench_warm_up(phase, warm, 30000, error))
		return FALSE;
	g_clear_pointer(&warm, g_ptr_array_unref);
	/* the inbox path only: the members answer what they are sent 503, so the relay's breaker
	 * parks their deliveries (10 failures a host, then 300 s) and the delivery engine (figure
	 * 2) neither signs nor churns the queue while the inbox is measured */
	relay_bench_fleet_set_mode(phase->fleet, 0, members, RELAY_BENCH_SINK_DOWN);
	probe = relay_bench_ingest_requests(phase, sizes->ingest_probe, members);

	/* the baseline: the same requests, from the same addresses, to a server doing nothing */
	trivial = relay_bench_trivial_server_new(error);
	if (trivial == NULL)
		return FALSE;
	trivial_clients = relay_bench_member_clients(phase,
						     members,
						     relay_bench_trivial_server_get_port(trivial),
						     connections,
						     relay_bench_load_cb,
						     load);
	relay_bench_load_run(
		load, trivial_clients, probe, connections, TRUE, sizes->trivial_seconds);
	trivial_rate = relay_bench_load_rate(load);
	json_object_set_double_member(json,
				      "baseline_p50_ms",
				      relay_bench_ms(relay_bench_percentile(load->latencies, 0.5)));
	json_object_set_double_member(
		json,
		"baseline_p99_ms",
		relay_bench_ms(relay_bench_percentile(load->latencies, 0.99)));
	g_clear_pointer(&trivial_clients, g_ptr_array_unref);
	g_clear_pointer(&trivial, relay_bench_trivial_server_free);
	if (load->accepted == 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_FAILED,
			    "the trivial server answered nothing");
		return FALSE;
	}
	relay_bench_progress(self, "trivial libsoup server: %.0f POST/s", trivial_rate);

	/* a first round gives the relay's pace, to sign about enough requests for the real one */
	relay_clients = relay_bench_member_clients(
		phase, members, relay_port, connections, relay_bench_load_cb, load);
	relay_bench_load_run(load, relay_clients, probe, connections, FALSE, 60);
	if (load->accepted == 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_FAILED,
			    "the relay accepted none of %u posts (HTTP %u)",
			    load->submitted,
			    load->failed_status);
		return FALSE;
	}
	probe_rate = relay_bench_load_rate(load);
	count = (guint)CLAMP(
		probe_rate * sizes->ingest_seconds * 1.5, sizes->ingest_min, sizes->ingest_max);
	relay_bench_progress(
		self, "relay warm-up: %.0f POST/s; signing %u unique posts", probe_rate, count);
	requests = relay_bench_ingest_requests(phase, count, members);

	relay_bench_cpu_start(&cpu, phase->relay);
	if (self->perf_path != NULL)
		perf = relay_bench_perf_start(self, phase->relay, "ingest", sizes->ingest_seconds);
	relay_bench_load_run(
		load, relay_clients, requests, connections, FALSE, sizes->ingest_seconds);
	relay_bench_cpu_stop(&cpu, json);
	relay_bench_perf_finish(&perf);
	rate = relay_bench_load_rate(load);
	p50_ms = relay_bench_ms(relay_bench_percentile(load->latencies, 0.5));
	p99_ms = relay_bench_ms(relay_bench_percentile(load->latencies, 0.99));
	g_clear_pointer(&relay_clients, g_ptr_array_unref);

	result->measured = load->accepted > 0;
	result->value = rate;
	result->ratio = rate / trivial_rate;
	result->pass = result->ratio >= 0.5;
	result->measured_text =
		g_strdup_printf("%.0f POST/s (p50 %.1f ms, p99 %.1f ms)", rate, p50_ms, p99_ms);
	result->baseline_text = g_strdup_printf("%.0f POST/s trivial libsoup", trivial_rate);
	result->target_text = g_strdup("ratio >= 0.5");
	json_object_set_double_member(json, "value", rate);
	json_object_set_string_member(json, "unit", "POST/s");
	json_object_set_double_member(json, "baseline", trivial_rate);
	json_object_set_string_member(json, "baseline_what", "libsoup 202 handler, same requests");
	json_object_set_double_member(json, "p50_ms", p50_ms);
	json_object_set_double_member(json, "p99_ms", p99_ms);
	json_object_set_int_member(json, "accepted", load->accepted);
	json_object_set_int_member(json, "refused", load->failed);
	json_object_set_double_member(
		json, "seconds", (gdouble)(load->finished_us - load->started_us) / G_USEC_PER_SEC);
	json_object_set_int_member(json, "members", members);
	json_object_set_int_member(json, "connections", members * connections);
	if (load->failed > 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_FAILED,
			    "%u posts refused (last HTTP %u)",
			    load->failed,
			    load->failed_status);
		return FALSE;
	}

	return TRUE;
}

static void
relay_bench_ingest(RelayBench *self, RelayBenchResult *result, GError **error)
{
	RelayBenchPhase phase = {0};
	RelayBenchLoad load = {0};

	load.latencies = g_array_new(FALSE, FALSE, sizeof(gint64));
	relay_bench_ingest_run(self, &phase, &load, result, error);
	relay_bench_phase_clear(self, &phase);
	g_array_unref(load.latencies);
}

/* 2 and 6: fan-out */

typedef struct {
	RelayBench *bench;
	RelayBenchPhase *phase;
	RelayBenchClient *client;
	GPtrArray *activities;
	guint expected;
	guint backlog;
	guint64 received_before;
	gint64 window_start_us;
	gint64 window_end_us;
	gboolean started;
	guint64 received_start;
	guint64 received_end;
	guint64 accepted_start;
	guint64 accepted_end;
	gint64 started_us;
	gint64 ended_us;
	RelayBenchCpu cpu;
	gboolean profile;
	GSubprocess *perf;
} RelayBenchStream;

static gboolean
relay_bench_stream_step(gpointer user_data)
{
	RelayBenchStream *stream = user_data;
	RelayBenchFleet *fleet = stream->phase->fleet;
	gint64 now_us = g_get_monotonic_time();
	guint64 received = relay_bench_fleet_get_received(fleet) - stream->received_before;
	guint64 wanted = (guint64)stream->activities->len * stream->expected;

	/* keep a few posts' deliveries queued: the relay never waits for work */
	if (wanted < received + (guint64)stream->backlog * stream->expected &&
	    relay_bench_client_get_pending(stream->client) < 2)
		g_ptr_array_add(stream->activities,
				relay_bench_post(stream->phase, stream->client, 0));
	if (!stream->started && now_us >= stream->window_start_us) {
		stream->started = TRUE;
		stream->started_us = now_us;
		stream->received_start = relay_bench_fleet_get_received(fleet);
		stream->accepted_start =
			relay_bench_net_get_accepted(relay_bench_fleet_get_net(fleet));
		relay_bench_cpu_start(&stream->cpu, stream->phase->relay);
		if (stream->profile)
			stream->perf = relay_bench_perf_start(stream->bench,
							      stream->phase->relay,
							      "fanout",
							      stream->bench->sizes->fanout_seconds);
	}
	if (stream->started && now_us >= stream->window_end_us) {
		stream->ended_us = now_us;
		stream->received_end = relay_bench_fleet_get_received(fleet);
		stream->accepted_end =
			relay_bench_net_get_accepted(relay_bench_fleet_get_net(fleet));
		return TRUE;
	}
	return !relay_bench_relay_is_running(stream->phase->relay);
}

static gboolean
relay_bench_client_idle(gpointer user_data)
{
	return relay_bench_client_get_pending(user_data) == 0;
}

static gboolean
relay_bench_fanout_run(RelayBench *self,
		       RelayBenchPhase *phase,
		       RelayBenchStream *stream,
		       const gchar *backend,
		       RelayBenchResult *result,
		       GError **error)
{
	const RelayBenchSizes *sizes = self->sizes;
	guint members = sizes->fanout_members;
	g_autofree gchar *name = g_strdup_printf("fanout-%s", backend);
	g_autoptr(GPtrArray) warm = NULL;
	JsonObject *json = result->json;
	gdouble seconds;
	gdouble rate;
	guint complete = 0;

	if (!relay_bench_phase_start(self, phase, name, backend, members, error))
		return FALSE;
	warm = g_ptr_array_new_with_free_func((GDestroyNotify)relay_bench_client_free);
	stream->client =
		relay_bench_client_new(relay_bench_fleet_get_net(phase->fleet),
				       "127.0.0.1",
				       relay_bench_relay_get_port(phase->relay),
				       relay_bench_fleet_get_member(phase->fleet, 0)->address,
				       2,
				       relay_bench_post_cb,
				       NULL);
	g_ptr_array_add(warm, stream->client);
	if (!relay_bench_warm_up(phase, warm, 60000, error))
		return FALSE;

	stream->bench = self;
	stream->phase = phase;
	stream->profile = self->perf_path != NULL && g_str_equal(backend, "sqlite");
	stream->activities = g_ptr_array_new();
	stream->expected = members - 1;
	stream->backlog = MAX(3, 3000 / stream->expected);
	stream->received_before = relay_bench_fleet_get_received(phase->fleet);
	stream->window_start_us =
		g_get_monotonic_time() + (gint64)(sizes->fanout_warmup_seconds * G_USEC_PER_SEC);
	stream->window_end_us =
		stream->window_start_us + (gint64)(sizes->fanout_seconds * G_USEC_PER_SEC);
	relay_bench_wait_until(
		relay_bench_stream_step,
		stream,
		(guint)((sizes->fanout_warmup_seconds + sizes->fanout_seconds) * 1000) + 10000);
	if (stream->ended_us == 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_FAILED,
			    "the relay stopped during the fan-out (see %s)",
			    relay_bench_relay_get_log_path(phase->relay));
		return FALSE;
	}
	relay_bench_cpu_stop(&stream->cpu, json);
	/* stop with no request of ours in flight: the relay is measured, not its shutdown */
	relay_bench_wait_until(relay_bench_client_idle, stream->client, 30000);
	relay_bench_perf_finish(&stream->perf);
	seconds = (gdouble)(stream->ended_us - stream->started_us) / G_USEC_PER_SEC;
	rate = (gdouble)(stream->received_end - stream->received_start) / seconds;
	for (guint i = 0; i < stream->activities->len; i++) {
		RelayBenchActivity *activity = g_ptr_array_index(stream->activities, i);
		if (activity->status != 0 && activity->status != 202) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_FAILED,
				    "a post was answered HTTP %u",
				    activity->status);
			return FALSE;
		}
		if (activity->received == activity->expected)
			complete++;
	}
	relay_bench_progress(self, "fan-out (%s): %.0f deliveries/s", backend, rate);

	result->measured = TRUE;
	result->value = rate;
	json_object_set_double_member(json, "value", rate);
	json_object_set_string_member(json, "unit", "deliveries/s");
	json_object_set_string_member(json, "backend", backend);
	json_object_set_int_member(json, "members", members);
	json_object_set_int_member(json, "posts", stream->activities->len);
	json_object_set_int_member(json, "posts_complete", complete);
	json_object_set_int_member(
		json, "deliveries", (gint64)(stream->received_end - stream->received_start));
	json_object_set_double_member(json, "seconds", seconds);
	/* keep-alive at work: close to 0 when the relay reuses its connections */
	json_object_set_int_member(json,
				   "connections_opened",
				   (gint64)(stream->accepted_end - stream->accepted_start));
	json_object_set_int_member(
		json, "duplicates", (gint64)relay_bench_fleet_get_duplicates(phase->fleet));
	json_object_set_double_member(
		json, "subscribe_seconds", (gdouble)phase->subscribe_us / G_USEC_PER_SEC);
	return relay_bench_verified(phase, json, error);
}

static gdouble
relay_bench_fanout(RelayBench *self, const gchar *backend, RelayBenchResult *result, GError **error)
{
	RelayBenchPhase phase = {0};
	RelayBenchStream stream = {0};
	gboolean ok = relay_bench_fanout_run(self, &phase, &stream, backend, result, error);

	/* the client belongs to the warm-up array, freed already */
	if (stream.perf != NULL) {
		g_subprocess_force_exit(stream.perf);
		g_clear_object(&stream.perf);
	}
	g_clear_pointer(&stream.activities, g_ptr_array_unref);
	relay_bench_phase_clear(self, &phase);
	return ok ? result->value : 0;
}

/* 3: latency */

typedef struct {
	RelayBenchPhase *phase;
	GPtrArray *clients;
	GPtrArray *activities;
	gint64 next_us;
	gint64 interval_us;
	gint64 end_us;
	guint next_sender;
} RelayBenchOpenLoop;

static gboolean
relay_bench_open_loop_step(gpointer user_data)
{
	RelayBenchOpenLoop *loop = user_data;
	gint64 now_us = g_get_monotonic_time();

	while (now_us >= loop->next_us && now_us < loop->end_us) {
		guint sender = loop->next_sender++ % loop->clients->len;
		g_ptr_array_add(loop->activities,
				relay_bench_post(loop->phase,
						 g_ptr_array_index(loop->clients, sender),
						 sender));
		loop->next_us += loop->interval_us;
	}
	return now_us >= loop->end_us;
}

static gboolean
relay_bench_latency_run(RelayBench *self,
			RelayBenchPhase *phase,
			RelayBenchResult *result,
			GError **error)
{
	const RelayBenchSizes *sizes = self->sizes;
	guint members = sizes->latency_members;
	g_autoptr(GPtrArray) clients = NULL;
	g_autoptr(GPtrArray) activities = g_ptr_array_new();
	g_autoptr(GArray) latencies = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_autoptr(GArray) idle = g_array_new(FALSE, FALSE, sizeof(gint64));
	gdouble idle_ms;
	RelayBenchOpenLoop loop = {0};
	RelayBenchActivitiesWait wait = {activities};
	JsonObject *json = result->json;
	RelayBenchCpu cpu;
	gdouble floor_ms;
	gdouble p50_ms;
	gdouble p99_ms;
	gdouble max_ms;
	guint incomplete = 0;
	guint early = 0;

	if (!relay_bench_phase_start(self, phase, "latency", "sqlite", members, error))
		return FALSE;
	clients = relay_bench_member_clients(phase,
					     members,
					     relay_bench_relay_get_port(phase->relay),
					     2,
					     relay_bench_post_cb,
					     NULL);
	if (!relay_bench_warm_up(phase, clients, 120000, error))
		return FALSE;

	/* one post at a time first: how long the pipeline takes when nothing waits */
	for (guint i = 0; i < RELAY_BENCH_IDLE_POSTS; i++) {
		g_autoptr(GPtrArray) one = g_ptr_array_new();
		RelayBenchActivitiesWait one_wait = {one};
		RelayBenchActivity *activity = relay_bench_post(
			phase, g_ptr_array_index(clients, i % members), i % members);

		g_ptr_array_add(one, activity);
		relay_bench_wait_until(relay_bench_activities_done, &one_wait, 30000);
		if (activity->status == 202 && activity->received == activity->expected) {
			gint64 latency_us = MAX(activity->last_us - activity->answered_us, 0);
			g_array_append_val(idle, latency_us);
		}
	}
	idle_ms = relay_bench_ms(relay_bench_percentile(idle, 0.5));

	loop.phase = phase;
	loop.clients = clients;
	loop.activities = activities;
	loop.interval_us = (gint64)(G_USEC_PER_SEC / sizes->latency_rate);
	loop.next_us = g_get_monotonic_time();
	loop.end_us = loop.next_us + (gint64)(sizes->latency_seconds * G_USEC_PER_SEC);
	relay_bench_cpu_start(&cpu, phase->relay);
	relay_bench_wait_until(
		relay_bench_open_loop_step, &loop, (guint)(sizes->latency_seconds * 1000) + 5000);
	relay_bench_wait_until(relay_bench_activities_done, &wait, 60000);
	relay_bench_cpu_stop(&cpu, json);
	for (guint i = 0; i < activities->len; i++) {
		RelayBenchActivity *activity = g_ptr_array_index(activities, i);
		gint64 latency_us;
		if (activity->status != 202 || activity->received < activity->expected) {
			incomplete++;
			continue;
		}
		latency_us = activity->last_us - activity->answered_us;
		if (latency_us < 0)
			early++;
		latency_us = MAX(latency_us, 0);
		g_array_append_val(latencies, latency_us);
	}
	if (latencies->len == 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "no post reached every member");
		return FALSE;
	}
	p50_ms = relay_bench_ms(relay_bench_percentile(latencies, 0.5));
	p99_ms = relay_bench_ms(relay_bench_percentile(latencies, 0.99));
	max_ms = relay_bench_ms(relay_bench_percentile(latencies, 1.0));
	/* the least it can take: signing one post's deliveries on every core */
	floor_ms = 1000.0 * (members - 1) / self->rsa_rate;

	result->measured = TRUE;
	result->value = p99_ms;
	result->ratio = p99_ms / floor_ms;
	result->pass = p99_ms <= 100;
	result->measured_text = g_strdup_printf(
		"p99 %.0f ms (p50 %.0f ms; a post alone %.0f ms)", p99_ms, p50_ms, idle_ms);
	result->baseline_text =
		g_strdup_printf("%.1f ms to sign %u deliveries", floor_ms, members - 1);
	result->target_text = g_strdup("p99 <= 100 ms");
	json_object_set_double_member(json, "value", p99_ms);
	json_object_set_string_member(json, "unit", "ms");
	json_object_set_double_member(json, "p50_ms", p50_ms);
	json_object_set_double_member(json, "p99_ms", p99_ms);
	json_object_set_double_member(json, "max_ms", max_ms);
	json_object_set_double_member(json, "alone_ms", idle_ms);
	json_object_set_double_member(json, "baseline", floor_ms);
	json_object_set_string_member(
		json, "baseline_what", "RSA signing of one post's deliveries on every core");
	json_object_set_int_member(json, "members", members);
	json_object_set_double_member(json, "posts_per_second", sizes->latency_rate);
	json_object_set_int_member(json, "posts", activities->len);
	json_object_set_int_member(json, "incomplete", incomplete);
	json_object_set_int_member(json, "delivered_before_202", early);
	json_object_set_double_member(
		json, "offered_deliveries_per_second", sizes->latency_rate * (members - 1));
	relay_bench_progress(self,
			     "latency: p50 %.1f ms, p99 %.1f ms over %u posts",
			     p50_ms,
			     p99_ms,
			     activities->len);
	if (incomplete > 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_TIMED_OUT,
			    "%u of %u posts did not reach every member within 60 s",
			    incomplete,
			    activities->len);
		return FALSE;
	}
	return relay_bench_verified(phase, json, error);
}

static void
relay_bench_latency(RelayBench *self, RelayBenchResult *result, GError **error)
{
	RelayBenchPhase phase = {0};

	relay_bench_latency_run(self, &phase, result, error);
	relay_bench_phase_clear(self, &phase);
}

/* 4 and 5: memory and restart with a large queue */

typedef struct {
	RelayBenchRelay *relay;
	RelayBenchFleet *fleet;
} RelayBenchFirstWait;

static gboolean
relay_bench_first_delivery(gpointer user_data)
{
	RelayBenchFirstWait *wait = user_data;
	return relay_bench_fleet_get_first_receipt_us(wait->fleet) != 0 ||
	       !relay_bench_relay_is_running(wait->relay);
}

static gboolean
relay_bench_posts_answered(gpointer user_data)
{
	RelayBenchActivitiesWait *wait = user_data;

	for (guint i = 0; i < wait->activities->len; i++) {
		if (((RelayBenchActivity *)g_ptr_array_index(wait->activities, i))->status == 0)
			return FALSE;
	}
	return TRUE;
}

typedef struct {
	gint64 subscribe_us;
	guint64 idle_kib;
	gint64 fresh_start_us;
	guint64 members_kib;
	guint64 queue_kib;
	guint64 peak_kib;
	guint64 queued;
	gdouble queue_seconds;
	gint64 stop_us;
	gint64 healthy_us;
	gint64 first_us;
	gdouble drain_rate;
	gboolean memory_done;
} RelayBenchQueue;

static gboolean
relay_bench_queue_run(RelayBench *self,
		      RelayBenchPhase *phase,
		      RelayBenchQueue *queue,
		      JsonObject *json,
		      GError **error)
{
	const RelayBenchSizes *sizes = self->sizes;
	guint members = sizes->memory_members;
	guint posts = (sizes->queue_target + members - 2) / (members - 1);
	g_autoptr(GPtrArray) clients =
		g_ptr_array_new_with_free_func((GDestroyNotify)relay_bench_client_free);
	g_autoptr(GPtrArray) requests = NULL;
	g_autofree guint *senders = g_new0(guint, posts);
	g_autoptr(GPtrArray) activities = g_ptr_array_new();
	RelayBenchActivitiesWait wait = {activities};
	RelayBenchFirstWait first = {0};
	RelayBenchClient *client;
	RelayBenchNet *net;
	guint64 received;
	gint64 started_us;
	guint64 peak_kib;

	relay_bench_progress(self, "memory: starting a relay (sqlite) and %u members", members);
	if (!relay_bench_phase_open(self, phase, "queue", "sqlite", members, error))
		return FALSE;
	first.relay = phase->relay;
	first.fleet = phase->fleet;
	net = relay_bench_fleet_get_net(phase->fleet);
	queue->fresh_start_us = relay_bench_relay_get_healthy_us(phase->relay) -
				relay_bench_relay_get_spawned_us(phase->relay);
	relay_bench_proc_memory(
		relay_bench_relay_get_pid(phase->relay), &queue->idle_kib, &peak_kib);
	if (!relay_bench_phase_subscribe(self, phase, error))
		return FALSE;
	/* let the connections of the subscriptions close */
	relay_bench_sleep_ms(self->quick ? 200 : 3000);
	relay_bench_proc_memory(
		relay_bench_relay_get_pid(phase->relay), &queue->members_kib, &peak_kib);
	relay_bench_progress(
		self, "%u members: %.1f MiB resident", members, queue->members_kib / 1024.0);
	queue->subscribe_us = phase->subscribe_us;

	/* the queue: member 0 posts, every other member holds what it is sent (down), so the
	 * relay keeps (members - 1) deliveries per post queued */
	client = relay_bench_client_new(net,
					"127.0.0.1",
					relay_bench_relay_get_port(phase->relay),
					relay_bench_fleet_get_member(phase->fleet, 0)->address,
					4,
					relay_bench_post_cb,
					NULL);
	g_ptr_array_add(clients, client);
	relay_bench_fleet_set_mode(phase->fleet, 1, members - 1, RELAY_BENCH_SINK_HOLD);
	for (guint i = 0; i < posts; i++) {
		RelayBenchActivity *activity =
			relay_bench_fleet_activity_new(phase->fleet, 0, members - 1);
		g_ptr_array_add(activities, activity);
	}
	requests = relay_bench_fleet_sign_posts(
		phase->fleet,
		senders,
		((RelayBenchActivity *)g_ptr_array_index(activities, 0))->seq,
		posts);
	started_us = g_get_monotonic_time();
	for (guint i = 0; i < posts; i++) {
		RelayBenchActivity *activity = g_ptr_array_index(activities, i);
		activity->submitted_us = started_us;
		relay_bench_client_submit(client, g_ptr_array_index(requests, i), activity);
	}
	relay_bench_wait_until(relay_bench_posts_answered, &wait, 1800000);
	queue->queue_seconds = (gdouble)(g_get_monotonic_time() - started_us) / G_USEC_PER_SEC;
	for (guint i = 0; i < posts; i++) {
		RelayBenchActivity *activity = g_ptr_array_index(activities, i);
		if (activity->status != 202) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_FAILED,
				    "queueing: a post was answered HTTP %u",
				    activity->status);
			return FALSE;
		}
	}
	queue->queued = (guint64)posts * (members - 1);
	relay_bench_progress(self,
			     "%" G_GUINT64_FORMAT
			     " deliveries queued through the inbox in %.1f s (%u posts)",
			     queue->queued,
			     queue->queue_seconds,
			     posts);
	relay_bench_sleep_ms(self->quick ? 200 : 3000);
	relay_bench_proc_memory(
		relay_bench_relay_get_pid(phase->relay), &queue->queue_kib, &queue->peak_kib);
	queue->memory_done = TRUE;
	relay_bench_progress(self,
			     "%" G_GUINT64_FORMAT
			     " deliveries queued: %.1f MiB resident (peak %.1f MiB)",
			     queue->queued,
			     queue->queue_kib / 1024.0,
			     queue->peak_kib / 1024.0);
	json_object_set_int_member(json, "held_deliveries", relay_bench_net_get_held(net));
	json_object_set_int_member(
		json, "attempted_while_down", (gint64)relay_bench_fleet_get_received(phase->fleet));

	/* restart: stop (the held deliveries fail first), the members come back up */
	relay_bench_fleet_set_mode(phase->fleet, 0, members, RELAY_BENCH_SINK_DOWN);
	relay_bench_net_release(net, 503);
	if (!relay_bench_relay_stop(phase->relay, 60000, error))
		return FALSE;
	queue->stop_us = relay_bench_relay_get_stop_us(phase->relay);
	relay_bench_fleet_set_mode(phase->fleet, 0, members, RELAY_BENCH_SINK_UP);
	relay_bench_fleet_reset_first_receipt(phase->fleet);
	if (!relay_bench_relay_spawn(phase->relay, error) ||
	    !relay_bench_relay_wait_healthy(phase->relay, net, 60000, error))
		return FALSE;
	queue->healthy_us = relay_bench_relay_get_healthy_us(phase->relay) -
			    relay_bench_relay_get_spawned_us(phase->relay);
	if (!relay_bench_wait_until(relay_bench_first_delivery, &first, 60000) ||
	    relay_bench_fleet_get_first_receipt_us(phase->fleet) == 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_TIMED_OUT,
			    "no delivery within 60 s of the restart (see %s)",
			    relay_bench_relay_get_log_path(phase->relay));
		return FALSE;
	}
	queue->first_us = relay_bench_fleet_get_first_receipt_us(phase->fleet) -
			  relay_bench_relay_get_spawned_us(phase->relay);
	relay_bench_progress(self,
			     "restart: /healthz after %.0f ms, first delivery after %.0f ms",
			     relay_bench_ms(queue->healthy_us),
			     relay_bench_ms(queue->first_us));
	/* how fast the queue drains afterwards, for information */
	received = relay_bench_fleet_get_received(phase->fleet);
	started_us = g_get_monotonic_time();
	relay_bench_sleep_ms((guint)(sizes->drain_seconds * 1000));
	queue->drain_rate = (gdouble)(relay_bench_fleet_get_received(phase->fleet) - received) /
			    ((gdouble)(g_get_monotonic_time() - started_us) / G_USEC_PER_SEC);
	return relay_bench_verified(phase, json, error);
}

static void
relay_bench_queue(RelayBench *self,
		  RelayBenchResult *memory,
		  RelayBenchResult *restart,
		  GError **error)
{
	RelayBenchPhase phase = {0};
	RelayBenchQueue queue = {0};
	g_autoptr(GError) error_local = NULL;
	gboolean ok = relay_bench_queue_run(self, &phase, &queue, restart->json, &error_local);
	guint members = self->sizes->memory_members;

	relay_bench_phase_clear(self, &phase);
	if (queue.memory_done) {
		gdouble members_mib = queue.members_kib / 1024.0;
		gdouble queue_mib = queue.queue_kib / 1024.0;
		gdouble idle_mib = queue.idle_kib / 1024.0;
		gdouble worst_mib = MAX(members_mib, queue_mib);
		JsonObject *json = memory->json;

		memory->measured = TRUE;
		memory->value = worst_mib;
		memory->ratio = idle_mib > 0 ? worst_mib / idle_mib : -1;
		memory->pass = members_mib <= 100 && queue_mib <= 100;
		memory->measured_text = g_strdup_printf(
			"%.1f MiB (%u members), %.1f MiB (%" G_GUINT64_FORMAT " queued)",
			members_mib,
			members,
			queue_mib,
			queue.queued);
		memory->baseline_text = g_strdup_printf("%.1f MiB idle relay", idle_mib);
		memory->target_text = g_strdup("<= 100 MiB each");
		json_object_set_double_member(json, "value", worst_mib);
		json_object_set_string_member(json, "unit", "MiB");
		json_object_set_double_member(json, "members_mib", members_mib);
		json_object_set_double_member(json, "queue_mib", queue_mib);
		json_object_set_double_member(json, "peak_mib", queue.peak_kib / 1024.0);
		json_object_set_double_member(json, "baseline", idle_mib);
		json_object_set_string_member(
			json, "baseline_what", "resident memory of the relay just started, empty");
		json_object_set_int_member(json, "members", members);
		json_object_set_double_member(
			json, "subscribe_seconds", (gdouble)queue.subscribe_us / G_USEC_PER_SEC);
		json_object_set_int_member(json, "queued", (gint64)queue.queued);
		json_object_set_double_member(json, "queue_seconds", queue.queue_seconds);
		json_object_set_double_member(
			json,
			"queued_per_second",
			queue.queue_seconds > 0 ? queue.queued / queue.queue_seconds : 0);
	}
	if (ok) {
		gdouble healthy_s = (gdouble)queue.healthy_us / G_USEC_PER_SEC;
		gdouble first_s = (gdouble)queue.first_us / G_USEC_PER_SEC;
		gdouble fresh_s = (gdouble)queue.fresh_start_us / G_USEC_PER_SEC;
		gdouble worst_s = MAX(healthy_s, first_s);
		JsonObject *json = restart->json;

		restart->measured = TRUE;
		restart->value = worst_s;
		restart->ratio = fresh_s > 0 ? worst_s / fresh_s : -1;
		restart->pass = worst_s <= 2.0;
		restart->measured_text = g_strdup_printf(
			"%.2f s to /healthz, %.2f s to 1st delivery", healthy_s, first_s);
		restart->baseline_text = g_strdup_printf("%.2f s to /healthz, empty", fresh_s);
		restart->target_text = g_strdup("<= 2 s both");
		json_object_set_double_member(json, "value", worst_s);
		json_object_set_string_member(json, "unit", "s");
		json_object_set_double_member(json, "healthz_seconds", healthy_s);
		json_object_set_double_member(json, "first_delivery_seconds", first_s);
		json_object_set_double_member(json, "baseline", fresh_s);
		json_object_set_string_member(
			json,
			"baseline_what",
			"start of the same relay with empty storage, to /healthz 200");
		json_object_set_double_member(
			json, "stop_seconds", (gdouble)queue.stop_us / G_USEC_PER_SEC);
		json_object_set_int_member(json, "queued", (gint64)queue.queued);
		json_object_set_double_member(
			json, "drain_deliveries_per_second", queue.drain_rate);
	}
	if (error_local != NULL)
		g_propagate_error(error, g_steal_pointer(&error_local));
}

/* the report */

/* one line of JSON: a flat object, numbers with 6 significant digits rather than 17 */
static gchar *
relay_bench_json_line(JsonObject *object)
{
	g_autoptr(GList) names = json_object_get_members(object);
	GString *line = g_string_new("{");

	for (GList *l = names; l != NULL; l = l->next) {
		JsonNode *value = json_object_get_member(object, l->data);
		g_autoptr(JsonNode) name = json_node_init_string(json_node_alloc(), l->data);
		g_autofree gchar *name_json = json_to_string(name, FALSE);

		if (l != names)
			g_string_append_c(line, ',');
		g_string_append_printf(line, "%s:", name_json);
		if (JSON_NODE_HOLDS_VALUE(value) &&
		    json_node_get_value_type(value) == G_TYPE_DOUBLE) {
			gchar number[G_ASCII_DTOSTR_BUF_SIZE];
			g_string_append(line,
					g_ascii_formatd(number,
							sizeof(number),
							"%.6g",
							json_node_get_double(value)));
		} else {
			g_autofree gchar *text = json_to_string(value, FALSE);
			g_string_append(line, text);
		}
	}
	g_string_append_c(line, '}');
	return g_string_free(line, FALSE);
}

static void
relay_bench_fanout_result(RelayBench *self, RelayBenchResult *result)
{
	JsonObject *json = result->json;

	result->ratio = result->value / self->rsa_rate;
	result->pass = result->ratio >= 0.8;
	result->measured_text = g_strdup_printf("%.0f deliveries/s", result->value);
	result->baseline_text =
		g_strdup_printf("%.0f RSA-2048 signs/s (%u cores)", self->rsa_rate, self->cores);
	result->target_text = g_strdup("ratio >= 0.8");
	json_object_set_double_member(json, "baseline", self->rsa_rate);
	json_object_set_string_member(
		json, "baseline_what", "RSA-2048 SHA-256 signatures per second, every core");
}

static void
relay_bench_storage_result(RelayBench *self, RelayBenchResult *result)
{
	JsonObject *json = result->json;

	result->measured = self->fanout_sqlite > 0 && self->fanout_memory > 0;
	if (!result->measured)
		return;
	result->value = self->fanout_sqlite;
	result->ratio = self->fanout_sqlite / self->fanout_memory;
	result->measured_text = g_strdup_printf("sqlite %.0f deliveries/s", self->fanout_sqlite);
	result->baseline_text = g_strdup_printf("memory %.0f deliveries/s", self->fanout_memory);
	result->target_text = g_strdup("(side by side)");
	json_object_set_double_member(json, "value", self->fanout_sqlite);
	json_object_set_string_member(json, "unit", "deliveries/s");
	json_object_set_double_member(json, "sqlite", self->fanout_sqlite);
	json_object_set_double_member(json, "memory", self->fanout_memory);
	json_object_set_double_member(
		json, "sqlite_ratio_to_rsa", self->fanout_sqlite / self->rsa_rate);
	json_object_set_double_member(
		json, "memory_ratio_to_rsa", self->fanout_memory / self->rsa_rate);
	json_object_set_double_member(json, "baseline", self->fanout_memory);
	json_object_set_string_member(
		json, "baseline_what", "the same fan-out with the memory backend");
}

static void
relay_bench_report(RelayBench *self)
{
	const gchar *headers[] = {
		"figure", "measured", "baseline (same run)", "ratio", "target", "result", NULL};
	const guint columns = G_N_ELEMENTS(headers) - 1;
	guint widths[G_N_ELEMENTS(headers)] = {0};
	g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);

	g_ptr_array_add(rows, g_strdupv((gchar **)headers));
	for (guint i = 0; i < self->results->len; i++) {
		RelayBenchResult *result = g_ptr_array_index(self->results, i);
		gchar **row = g_new0(gchar *, columns + 1);
		row[0] = g_strdup(result->title);
		if (!result->measured) {
			row[1] = g_strdup_printf("(no figure: %s)",
						 result->error != NULL ? result->error
								       : "not measured");
			row[2] = g_strdup("");
			row[3] = g_strdup("");
			row[4] = g_strdup("");
			row[5] = g_strdup("ERROR");
		} else {
			row[1] = g_strdup(result->measured_text);
			row[2] = g_strdup(result->baseline_text != NULL ? result->baseline_text
									: "");
			row[3] = result->ratio >= 0 ? g_strdup_printf("%.2f", result->ratio)
						    : g_strdup("");
			row[4] = g_strdup(result->target_text != NULL ? result->target_text : "");
			row[5] = g_strdup(result->error != NULL ? "ERROR"
					  : result->pass == 1	? "pass"
					  : result->pass == 0	? "MISS"
								: "-");
		}
		g_ptr_array_add(rows, row);
	}
	for (guint r = 0; r < rows->len; r++) {
		gchar **row = g_ptr_array_index(rows, r);
		for (guint c = 0; c < columns; c++)
			widths[c] = MAX(widths[c], (guint)g_utf8_strlen(row[c], -1));
	}
	printf("\nrelay-bench%s: %u cores; relay %s\n",
	       self->quick ? " --quick (numbers not meaningful)" : "",
	       self->cores,
	       self->relay_binary);
	printf("RSA-2048 signing: %.0f/s on one core, %.0f/s on %u cores at once\n\n",
	       self->rsa_rate_one,
	       self->rsa_rate,
	       self->cores);
	for (guint r = 0; r < rows->len; r++) {
		gchar **row = g_ptr_array_index(rows, r);
		for (guint c = 0; c < columns; c++)
			printf("%-*s%s", (gint)widths[c], row[c], c + 1 < columns ? "  " : "\n");
	}
	printf("\n");
	{
		g_autoptr(JsonObject) machine = json_object_new();
		g_autofree gchar *line = NULL;
		json_object_set_string_member(machine, "bench", "relay");
		json_object_set_string_member(machine, "figure", "machine");
		json_object_set_int_member(machine, "cores", self->cores);
		json_object_set_double_member(
			machine, "rsa2048_signs_per_second_one_core", self->rsa_rate_one);
		json_object_set_double_member(
			machine, "rsa2048_signs_per_second_all_cores", self->rsa_rate);
		json_object_set_boolean_member(machine, "quick", self->quick);
		line = relay_bench_json_line(machine);
		printf("%s\n", line);
	}
	for (guint i = 0; i < self->results->len; i++) {
		RelayBenchResult *result = g_ptr_array_index(self->results, i);
		g_autoptr(JsonObject) json = json_object_new();
		g_autoptr(GList) names = json_object_get_members(result->json);
		g_autofree gchar *line = NULL;
		const gchar *first[] = {"bench", "figure", "value", "unit", "baseline", NULL};

		/* the main fields first, then the details in the order they were measured */
		for (guint f = 0; first[f] != NULL; f++) {
			if (json_object_has_member(result->json, first[f]))
				json_object_set_member(
					json,
					first[f],
					json_object_dup_member(result->json, first[f]));
		}
		if (result->ratio >= 0)
			json_object_set_double_member(json, "ratio", result->ratio);
		if (result->target_text != NULL)
			json_object_set_string_member(json, "target", result->target_text);
		if (result->pass >= 0 && result->measured)
			json_object_set_boolean_member(json, "pass", result->pass == 1);
		json_object_set_boolean_member(json, "measured", result->measured);
		if (result->error != NULL)
			json_object_set_string_member(json, "error", result->error);
		json_object_set_int_member(json, "cores", self->cores);
		for (GList *l = names; l != NULL; l = l->next) {
			if (!json_object_has_member(json, l->data))
				json_object_set_member(
					json,
					l->data,
					json_object_dup_member(result->json, l->data));
		}
		line = relay_bench_json_line(json);
		printf("%s\n", line);
	}
	fflush(stdout);
}

static RelayBenchResult *
relay_bench_add_result(RelayBench *self, const gchar *id, const gchar *title)
{
	RelayBenchResult *result = relay_bench_result_new(id, title);
	g_ptr_array_add(self->results, result);
	return result;
}

static void
relay_bench_set_error(RelayBench *self, RelayBenchResult *result, GError *error)
{
	if (error == NULL)
		return;
	relay_bench_progress(self, "%s: %s", result->id, error->message);
	g_free(result->error);
	result->error = g_strdup(error->message);
}

static gboolean
relay_bench_check_only(RelayBench *self, GError **error)
{
	static const gchar *figures[] = {
		"ingest", "fanout", "latency", "memory", "restart", "storage", NULL};

	for (guint i = 0; self->only != NULL && self->only[i] != NULL; i++) {
		if (!g_strv_contains(figures, self->only[i])) {
			g_set_error(error,
				    G_OPTION_ERROR,
				    G_OPTION_ERROR_BAD_VALUE,
				    "--only: no figure %s (one of ingest, fanout, latency, memory, "
				    "restart, storage)",
				    self->only[i]);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
relay_bench_run(RelayBench *self, GError **error)
{
	relay_bench_progress(self,
			     "generating member keys, measuring RSA-2048 signing on %u cores",
			     self->cores);
	self->keys = relay_bench_keys_new(self->sizes->keys, error);
	if (self->keys == NULL)
		return FALSE;
	self->rsa_rate_one = relay_bench_rsa_sign_rate(1, self->sizes->rsa_seconds / 2, error);
	if (self->rsa_rate_one <= 0)
		return FALSE;
	self->rsa_rate = relay_bench_rsa_sign_rate(self->cores, self->sizes->rsa_seconds, error);
	if (self->rsa_rate <= 0)
		return FALSE;
	relay_bench_progress(self,
			     "RSA-2048: %.0f signs/s on one core, %.0f on %u",
			     self->rsa_rate_one,
			     self->rsa_rate,
			     self->cores);

	if (relay_bench_wants(self, "ingest")) {
		RelayBenchResult *result = relay_bench_add_result(self, "ingest", "1 ingest");
		g_autoptr(GError) error_local = NULL;
		relay_bench_ingest(self, result, &error_local);
		relay_bench_set_error(self, result, error_local);
	}
	if (relay_bench_wants(self, "fanout") || relay_bench_wants(self, "storage")) {
		RelayBenchResult *result = relay_bench_add_result(self, "fanout", "2 fan-out");
		g_autoptr(GError) error_local = NULL;
		self->fanout_sqlite = relay_bench_fanout(self, "sqlite", result, &error_local);
		relay_bench_set_error(self, result, error_local);
		if (result->measured)
			relay_bench_fanout_result(self, result);
	}
	if (relay_bench_wants(self, "latency")) {
		RelayBenchResult *result = relay_bench_add_result(self, "latency", "3 latency");
		g_autoptr(GError) error_local = NULL;
		relay_bench_latency(self, result, &error_local);
		relay_bench_set_error(self, result, error_local);
	}
	if (relay_bench_wants(self, "memory") || relay_bench_wants(self, "restart")) {
		RelayBenchResult *memory = relay_bench_add_result(self, "memory", "4 memory");
		RelayBenchResult *restart = relay_bench_add_result(self, "restart", "5 restart");
		g_autoptr(GError) error_local = NULL;
		relay_bench_queue(self, memory, restart, &error_local);
		relay_bench_set_error(self, restart, error_local);
		if (!memory->measured)
			relay_bench_set_error(self, memory, error_local);
	}
	if (relay_bench_wants(self, "storage")) {
		RelayBenchResult *result = relay_bench_add_result(self, "storage", "6 storage");
		g_autoptr(RelayBenchResult) memory = relay_bench_result_new("fanout-memory", "");
		g_autoptr(GError) error_local = NULL;
		self->fanout_memory = relay_bench_fanout(self, "memory", memory, &error_local);
		relay_bench_set_error(self, result, error_local);
		relay_bench_storage_result(self, result);
	}
	return TRUE;
}

static gchar *
relay_bench_default_binary(const gchar *argv0)
{
	g_autofree gchar *self_path = g_file_read_link("/proc/self/exe", NULL);
	g_autofree gchar *dir = NULL;
	g_autofree gchar *build = NULL;

	/* contrib/bench/relay-bench in a build directory: relay/relay in the same one */
	if (self_path == NULL)
		self_path = g_strdup(argv0);
	dir = g_path_get_dirname(self_path);
	build = g_build_filename(dir, "..", "..", "relay", "relay", NULL);
	return g_canonicalize_filename(build, NULL);
}

/* each member is a socket here and in the relay, plus connections */
static void
relay_bench_raise_fd_limit(RelayBench *self)
{
	struct rlimit limit;

	if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max)
		return;
	limit.rlim_cur = limit.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
		relay_bench_progress(
			self, "warning: cannot raise the open file limit: %s", g_strerror(errno));
}

int
main(int argc, char **argv)
{
	RelayBench self = {0};
	gboolean quick = FALSE;
	gboolean keep = FALSE;
	g_autofree gchar *only = NULL;
	g_autofree gchar *relay_binary = NULL;
	g_autofree gchar *perf_path = NULL;
	g_auto(GStrv) delivery = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GOptionContext) context =
		g_option_context_new("- the relay's performance figures");
	const GOptionEntry entries[] = {
		{"quick",
		 0,
		 0,
		 G_OPTION_ARG_NONE,
		 &quick,
		 "Every figure, small: seconds in all (a smoke test)",
		 NULL},
		{"only",
		 0,
		 0,
		 G_OPTION_ARG_STRING,
		 &only,
		 "Only these figures: ingest, fanout, latency, memory, restart, storage "
		 "(comma-separated)",
		 "FIGURES"},
		{"relay",
		 0,
		 0,
		 G_OPTION_ARG_FILENAME,
		 &relay_binary,
		 "The relay binary (default: relay/relay of this build, or $RELAY_BINARY)",
		 "PATH"},
		{"perf",
		 0,
		 0,
		 G_OPTION_ARG_FILENAME,
		 &perf_path,
		 "Record perf profiles of the relay during the ingest and the fan-out (sqlite) "
		 "into PREFIX.ingest.data and PREFIX.fanout.data",
		 "PREFIX"},
		{"delivery",
		 0,
		 0,
		 G_OPTION_ARG_STRING_ARRAY,
		 &delivery,
		 "A [delivery] setting for every relay, e.g. max-in-flight=1024 (repeatable; the "
		 "figures of README use none)",
		 "KEY=VALUE"},
		{"keep",
		 0,
		 0,
		 G_OPTION_ARG_NONE,
		 &keep,
		 "Keep the relays' directories (configuration, database, logs)",
		 NULL},
		{NULL},
	};
	gboolean measured = TRUE;

	setlocale(LC_ALL, "");
	signal(SIGPIPE, SIG_IGN);
	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("relay-bench: %s\n", error->message);
		return 2;
	}
	self.started_us = g_get_monotonic_time();
	self.quick = quick;
	self.keep = keep;
	self.sizes = quick ? &relay_bench_quick : &relay_bench_full;
	self.only = only != NULL ? g_strsplit(only, ",", -1) : NULL;
	self.perf_path = g_steal_pointer(&perf_path);
	if (!relay_bench_check_only(&self, &error)) {
		g_printerr("relay-bench: %s\n", error->message);
		g_strfreev(self.only);
		g_free(self.perf_path);
		return 2;
	}
	if (delivery != NULL) {
		g_autofree gchar *lines = g_strjoinv("\n", delivery);
		self.delivery_extra = g_strdup_printf("%s\n", lines);
	}
	/* absolute: each relay runs in a directory of its own */
	if (relay_binary != NULL)
		self.relay_binary = g_canonicalize_filename(relay_binary, NULL);
	else if (g_getenv("RELAY_BINARY") != NULL)
		self.relay_binary = g_canonicalize_filename(g_getenv("RELAY_BINARY"), NULL);
	else
		self.relay_binary = relay_bench_default_binary(argv[0]);
	if (!g_file_test(self.relay_binary, G_FILE_TEST_IS_EXECUTABLE)) {
		g_printerr("relay-bench: %s is not a relay binary (use --relay PATH)\n",
			   self.relay_binary);
		return 2;
	}
	g_setenv("GIO_USE_PROXY_RESOLVER", "dummy", FALSE);
	self.cores = g_get_num_processors();
	self.results = g_ptr_array_new_with_free_func((GDestroyNotify)relay_bench_result_free);
	self.dir = g_dir_make_tmp("relay-bench-XXXXXX", &error);
	if (self.dir == NULL) {
		g_printerr("relay-bench: %s\n", error->message);
		return 1;
	}
	relay_bench_raise_fd_limit(&self);
	if (!relay_bench_run(&self, &error)) {
		g_printerr("relay-bench: %s\n", error->message);
		measured = FALSE;
	}
	relay_bench_report(&self);
	for (guint i = 0; i < self.results->len; i++) {
		RelayBenchResult *result = g_ptr_array_index(self.results, i);
		if (!result->measured || result->error != NULL)
			measured = FALSE;
	}
	relay_bench_progress(&self, "done%s", measured ? "" : ": some figures have no number");
	if (self.keep) {
		g_printerr("relay-bench: kept %s\n", self.dir);
	} else {
		relay_bench_rmdir(self.dir);
	}
	g_strfreev(self.only);
	g_free(self.relay_binary);
	g_free(self.perf_path);
	g_free(self.delivery_extra);
	g_free(self.dir);
	g_clear_pointer(&self.keys, g_ptr_array_unref);
	g_ptr_array_unref(self.results);
	return measured ? 0 : 1;
}
