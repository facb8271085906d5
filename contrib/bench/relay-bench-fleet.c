/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "relay-bench-fleet.h"
#include "relay-bench-util.h"
#include "relay-http-request.h"
#include "relay-http-sig.h"
#include "relay-keys.h"

#define RELAY_BENCH_PUBLIC	   "https://www.w3.org/ns/activitystreams#Public"
#define RELAY_BENCH_CONTENT_TYPE   "application/activity+json"
#define RELAY_BENCH_PORT_ATTEMPTS  20
#define RELAY_BENCH_SIGNATURE_SKEW 300

/* a member key, shared by a few members (generating 10,000 RSA keys would take minutes) */
typedef struct {
	EVP_PKEY *key;
	gchar *pem_json; /* the public PEM as a JSON string body (escaped) */
} RelayBenchKey;

struct _RelayBenchFleet {
	RelayBenchNet *net;
	GPtrArray *keys;    /* (element-type RelayBenchKey) */
	GPtrArray *members; /* (element-type RelayBenchMember) */
	guint16 port;
	gchar *relay_origin;
	gchar *relay_inbox;
	guint16 relay_port;
	gchar *relay_key_id;
	EVP_PKEY *relay_key;
	gchar *ld_signature;	/* a made-up LD signature value: relays forward, never check it */
	GHashTable *activities; /* (element-type guint64 RelayBenchActivity) */
	guint64 next_seq;
	guint64 received;
	guint64 accepts;
	guint64 others;
	guint64 nodeinfo_requests;
	guint64 duplicates;
	gint64 first_receipt_us;
	guint sample_every;
	guint64 sampled;
	guint64 sample_failed;
	gchar *sample_error;
	/* subscribing */
	guint follows_answered;
	guint follows_refused;
	guint follow_status;
};

static void
relay_bench_key_free(RelayBenchKey *key)
{
	EVP_PKEY_free(key->key);
	g_free(key->pem_json);
	g_free(key);
}

/* a JSON string's body: the escapes a PEM needs */
static gchar *
relay_bench_json_escape(const gchar *text)
{
	GString *out = g_string_new(NULL);

	for (const gchar *p = text; *p != '\0'; p++) {
		if (*p == '\n')
			g_string_append(out, "\\n");
		else if (*p == '"' || *p == '\\')
			g_string_append_printf(out, "\\%c", *p);
		else
			g_string_append_c(out, *p);
	}
	return g_string_free(out, FALSE);
}

/**
 * relay_bench_keys_new:
 * @count: how many RSA-2048 keys
 *
 * Returns: (transfer full) (element-type RelayBenchKey) (nullable): keys for the members
 */
GPtrArray *
relay_bench_keys_new(guint count, GError **error)
{
	g_autoptr(GPtrArray) keys =
		g_ptr_array_new_with_free_func((GDestroyNotify)relay_bench_key_free);

	for (guint i = 0; i < count; i++) {
		RelayBenchKey *key = g_new0(RelayBenchKey, 1);
		g_autofree gchar *pem = NULL;

		g_ptr_array_add(keys, key);
		key->key = relay_keys_generate_rsa(2048, error);
		if (key->key == NULL)
			return NULL;
		pem = relay_keys_public_pem(key->key, error);
		if (pem == NULL)
			return NULL;
		key->pem_json = relay_bench_json_escape(pem);
	}
	return g_steal_pointer(&keys);
}

static void
relay_bench_member_free(RelayBenchMember *member)
{
	g_free(member->address);
	g_free(member->host);
	g_free(member->origin);
	g_free(member);
}

static void
relay_bench_activity_free(RelayBenchActivity *activity)
{
	g_free(activity->seen);
	g_free(activity);
}

/* documents */

/* @path is "/actor" (the instance actor, which subscribes) or "/users/bench" (who posts) */
static gchar *
relay_bench_actor_json(RelayBenchFleet *self, RelayBenchMember *member, const gchar *path)
{
	RelayBenchKey *key = g_ptr_array_index(self->keys, member->key_index);
	gboolean instance = g_str_equal(path, "/actor");
	GString *json = g_string_new(NULL);

	g_string_append_printf(json,
			       "{\"@context\":[\"https://www.w3.org/ns/activitystreams\","
			       "\"https://w3id.org/security/v1\"],"
			       "\"id\":\"%s%s\",\"type\":\"%s\",\"preferredUsername\":\"%s\","
			       "\"name\":\"bench member %u\",",
			       member->origin,
			       path,
			       instance ? "Application" : "Person",
			       instance ? member->address : "bench",
			       member->index);
	g_string_append_printf(json,
			       "\"inbox\":\"%s%s/inbox\",\"outbox\":\"%s%s/outbox\","
			       "\"followers\":\"%s%s/followers\",\"following\":\"%s%s/following\","
			       "\"endpoints\":{\"sharedInbox\":\"%s/inbox\"},",
			       member->origin,
			       path,
			       member->origin,
			       path,
			       member->origin,
			       path,
			       member->origin,
			       path,
			       member->origin);
	g_string_append_printf(json,
			       "\"publicKey\":{\"id\":\"%s%s#main-key\",\"owner\":\"%s%s\","
			       "\"publicKeyPem\":\"%s\"}}",
			       member->origin,
			       path,
			       member->origin,
			       path,
			       key->pem_json);
	return g_string_free(json, FALSE);
}

/* a public note as Mastodon sends it to relays: a Create with a Linked Data signature, which
 * relays forward byte-identical; about 2 KB */
static gchar *
relay_bench_create_json(RelayBenchFleet *self, RelayBenchMember *member, guint64 seq)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree gchar *published = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
	g_autofree gchar *user = g_strdup_printf("%s/users/bench", member->origin);
	g_autofree gchar *note = g_strdup_printf("%s/statuses/%" G_GUINT64_FORMAT, user, seq);
	const gchar *text =
		"<p>Relay bench note: the market on the square opens at eight on "
		"Saturdays, the bakery sells out of rye by ten, and the library has "
		"moved its reading hour to Wednesday evenings. Bring your own bags; "
		"the repair cafe takes bicycles and toasters alike. <a href=\\\"https://"
		"example.org/tags/neighbourhood\\\" class=\\\"mention hashtag\\\" rel="
		"\\\"tag\\\">#<span>neighbourhood</span></a></p>";
	GString *json = g_string_new(NULL);

	g_string_append_printf(
		json,
		"{\"@context\":[\"https://www.w3.org/ns/activitystreams\",{\"ostatus\":"
		"\"http://ostatus.org#\",\"atomUri\":\"ostatus:atomUri\",\"inReplyToAtomUri\":"
		"\"ostatus:inReplyToAtomUri\",\"conversation\":\"ostatus:conversation\","
		"\"sensitive\":\"as:sensitive\",\"toot\":\"http://joinmastodon.org/ns#\","
		"\"votersCount\":\"toot:votersCount\",\"Hashtag\":\"as:Hashtag\"}],"
		"\"id\":\"%s/activity\",\"type\":\"Create\",\"actor\":\"%s\",\"published\":\"%s\","
		"\"to\":[\"%s\"],\"cc\":[\"%s/followers\"],",
		note,
		user,
		published,
		RELAY_BENCH_PUBLIC,
		user);
	g_string_append_printf(
		json,
		"\"object\":{\"id\":\"%s\",\"type\":\"Note\",\"summary\":null,\"inReplyTo\":null,"
		"\"published\":\"%s\",\"url\":\"%s/@bench/%" G_GUINT64_FORMAT "\","
		"\"attributedTo\":\"%s\",\"to\":[\"%s\"],\"cc\":[\"%s/followers\"],"
		"\"sensitive\":false,\"atomUri\":\"%s\",\"inReplyToAtomUri\":null,"
		"\"conversation\":\"tag:%s,2026:objectId=%" G_GUINT64_FORMAT
		":objectType=Conversation\",\"content\":\"%s\",\"contentMap\":{\"en\":\"%s\"},"
		"\"attachment\":[],\"tag\":[{\"type\":\"Hashtag\",\"href\":"
		"\"https://example.org/tags/neighbourhood\",\"name\":\"#neighbourhood\"}]},",
		note,
		published,
		member->origin,
		seq,
		user,
		RELAY_BENCH_PUBLIC,
		user,
		note,
		member->host,
		seq,
		text,
		text);
	g_string_append_printf(json,
			       "\"signature\":{\"type\":\"RsaSignature2017\",\"creator\":"
			       "\"%s#main-key\",\"created\":\"%s\",\"signatureValue\":\"%s\"}}",
			       user,
			       published,
			       self->ld_signature);
	return g_string_free(json, FALSE);
}

static gchar *
relay_bench_follow_json(RelayBenchMember *member)
{
	g_autofree gchar *uuid = g_uuid_string_random();

	return g_strdup_printf("{\"@context\":\"https://www.w3.org/ns/activitystreams\","
			       "\"id\":\"%s/%s\",\"type\":\"Follow\",\"actor\":\"%s/actor\","
			       "\"object\":\"%s\"}",
			       member->origin,
			       uuid,
			       member->origin,
			       RELAY_BENCH_PUBLIC);
}

/* requests */

static void
relay_bench_append_header_cb(const gchar *name, const gchar *value, gpointer user_data)
{
	g_string_append_printf(user_data, "%s: %s\r\n", name, value);
}

/* @body signed by @actor_path's key of @member and posted to the relay's inbox, as written on
 * the wire; safe on any thread */
static GBytes *
relay_bench_fleet_sign(RelayBenchFleet *self,
		       RelayBenchMember *member,
		       const gchar *actor_path,
		       gchar *body)
{
	RelayBenchKey *key = g_ptr_array_index(self->keys, member->key_index);
	g_autoptr(RelayHttpRequest) request = relay_http_request_new("POST", self->relay_inbox);
	gsize body_len = strlen(body);
	g_autoptr(GBytes) bytes = g_bytes_new_take(body, body_len);
	g_autofree gchar *key_id = g_strdup_printf("%s%s#main-key", member->origin, actor_path);
	g_autoptr(GError) error = NULL;
	GString *wire = g_string_sized_new(body_len + 1024);

	relay_http_request_add_header(request, "Content-Type", RELAY_BENCH_CONTENT_TYPE);
	relay_http_request_set_body(request, bytes);
	if (!relay_http_sign_cavage(request, key_id, key->key, NULL, &error))
		g_error("signing a bench request: %s", error->message);
	g_string_append_printf(
		wire, "POST %s HTTP/1.1\r\n", relay_http_request_get_path_and_query(request));
	relay_http_request_foreach_header(request, relay_bench_append_header_cb, wire);
	g_string_append_printf(wire,
			       "Content-Length: %" G_GSIZE_FORMAT "\r\n"
			       "Accept: application/activity+json\r\n"
			       "User-Agent: relay-bench\r\n\r\n",
			       body_len);
	g_string_append_len(wire, g_bytes_get_data(bytes, NULL), (gssize)body_len);
	return g_string_free_to_bytes(wire);
}

/**
 * relay_bench_fleet_sign_post:
 *
 * Safe on any thread.
 *
 * Returns: (transfer full): the note @seq by @sender's user, ready to write to the relay
 */
GBytes *
relay_bench_fleet_sign_post(RelayBenchFleet *self, guint sender, guint64 seq)
{
	RelayBenchMember *member = g_ptr_array_index(self->members, sender);
	return relay_bench_fleet_sign(
		self, member, "/users/bench", relay_bench_create_json(self, member, seq));
}

/* signing on every core */

typedef struct {
	RelayBenchFleet *fleet;
	const guint *senders;
	guint64 first_seq; /* 0: Follows */
	guint count;
	gint next;
	GPtrArray *out;
} RelayBenchSignJob;

static gpointer
relay_bench_sign_thread(gpointer data)
{
	RelayBenchSignJob *job = data;

	for (;;) {
		gint i = g_atomic_int_add(&job->next, 1);
		GBytes *bytes;
		if (i >= (gint)job->count)
			return NULL;
		if (job->first_seq == 0) {
			RelayBenchMember *member =
				g_ptr_array_index(job->fleet->members, job->senders[i]);
			bytes = relay_bench_fleet_sign(
				job->fleet, member, "/actor", relay_bench_follow_json(member));
		} else {
			bytes = relay_bench_fleet_sign_post(
				job->fleet, job->senders[i], job->first_seq + (guint64)i);
		}
		g_ptr_array_index(job->out, i) = bytes;
	}
}

static GPtrArray *
relay_bench_fleet_sign_parallel(RelayBenchFleet *self,
				const guint *senders,
				guint64 first_seq,
				guint count)
{
	RelayBenchSignJob job = {self, senders, first_seq, count, 0, NULL};
	guint threads = MAX(g_get_num_processors(), 1);
	g_autoptr(GPtrArray) workers = g_ptr_array_new();

	job.out = g_ptr_array_new_full(count, (GDestroyNotify)g_bytes_unref);
	g_ptr_array_set_size(job.out, (gint)count);
	for (guint i = 0; i < threads; i++)
		g_ptr_array_add(workers, g_thread_new("bench-sign", relay_bench_sign_thread, &job));
	for (guint i = 0; i < workers->len; i++)
		g_thread_join(g_ptr_array_index(workers, i));
	return job.out;
}

/**
 * relay_bench_fleet_sign_posts:
 * @senders: (array length=count): who posts each note
 *
 * Signs notes @first_seq, @first_seq + 1, ... on every core.
 *
 * Returns: (transfer full) (element-type GBytes): the requests, in order
 */
GPtrArray *
relay_bench_fleet_sign_posts(RelayBenchFleet *self,
			     const guint *senders,
			     guint64 first_seq,
			     guint count)
{
	g_return_val_if_fail(first_seq > 0, NULL);
	return relay_bench_fleet_sign_parallel(self, senders, first_seq, count);
}

/* sinks */

/* the number after "/statuses/" in a delivery, 0 when there is none */
static guint64
relay_bench_parse_seq(const guint8 *body, gsize len)
{
	static const gchar marker[] = "/statuses/";
	const guint8 *found = memmem(body, len, marker, sizeof(marker) - 1);
	guint64 seq = 0;

	if (found == NULL)
		return 0;
	for (const guint8 *p = found + sizeof(marker) - 1; p < body + len && g_ascii_isdigit(*p);
	     p++)
		seq = seq * 10 + (guint64)(*p - '0');
	return seq;
}

static void
relay_bench_add_headers(RelayHttpRequest *request, const gchar *headers, gsize len)
{
	g_autofree gchar *text = g_strndup(headers, len);
	g_auto(GStrv) lines = g_strsplit(text, "\r\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		gchar *colon = strchr(lines[i], ':');
		if (colon == NULL)
			continue;
		*colon = '\0';
		relay_http_request_add_header(request, lines[i], g_strstrip(colon + 1));
	}
}

/* checks a delivery's signature with the relay's key, as a receiving server would */
static void
relay_bench_fleet_verify(RelayBenchFleet *self,
			 RelayBenchMember *member,
			 const RelayBenchRequest *request)
{
	g_autofree gchar *url = g_strdup_printf("%s%s", member->origin, request->path);
	g_autoptr(RelayHttpRequest) http = relay_http_request_new(request->method, url);
	g_autoptr(GBytes) body = g_bytes_new(request->body, request->body_len);
	g_autoptr(RelayHttpSignature) signature = NULL;
	g_autoptr(GError) error = NULL;

	self->sampled++;
	relay_bench_add_headers(http, request->headers, request->headers_len);
	relay_http_request_set_body(http, body);
	signature = relay_http_signature_parse(http, &error);
	if (signature != NULL &&
	    g_strcmp0(relay_http_signature_get_key_id(signature), self->relay_key_id) != 0)
		g_set_error(&error,
			    G_IO_ERROR,
			    G_IO_ERROR_FAILED,
			    "signed with %s, not the relay's key",
			    relay_http_signature_get_key_id(signature));
	if (signature != NULL && error == NULL &&
	    relay_http_signature_check(signature,
				       http,
				       g_get_real_time() / G_USEC_PER_SEC,
				       RELAY_BENCH_SIGNATURE_SKEW,
				       &error) &&
	    relay_http_signature_verify(signature, http, self->relay_key, &error))
		return;
	self->sample_failed++;
	if (self->sample_error == NULL)
		self->sample_error = g_strdup(error != NULL ? error->message : "no signature");
}

static void
relay_bench_fleet_receipt(RelayBenchFleet *self,
			  RelayBenchMember *member,
			  const RelayBenchRequest *request,
			  guint64 seq)
{
	RelayBenchActivity *activity = g_hash_table_lookup(self->activities, &seq);
	gint64 now_us = g_get_monotonic_time();

	self->received++;
	member->received++;
	if (self->first_receipt_us == 0)
		self->first_receipt_us = now_us;
	if (activity != NULL) {
		guint8 bit = (guint8)(1u << (member->index % 8));
		if ((activity->seen[member->index / 8] & bit) != 0) {
			activity->duplicates++;
			self->duplicates++;
		} else {
			activity->seen[member->index / 8] |= bit;
			activity->received++;
			if (activity->first_us == 0)
				activity->first_us = now_us;
			activity->last_us = now_us;
		}
	}
	if (self->relay_key != NULL && self->sample_every > 0 &&
	    self->received % self->sample_every == 1)
		relay_bench_fleet_verify(self, member, request);
}

static void
relay_bench_fleet_serve_cb(RelayBenchConn *conn,
			   const RelayBenchRequest *request,
			   gpointer listener_data,
			   gpointer user_data)
{
	RelayBenchFleet *self = user_data;
	RelayBenchMember *member = listener_data;
	guint64 seq;

	if (g_str_equal(request->method, "GET")) {
		g_autofree gchar *json = NULL;
		if (g_str_equal(request->path, "/.well-known/nodeinfo"))
			self->nodeinfo_requests++;
		if (!g_str_equal(request->path, "/actor") &&
		    !g_str_equal(request->path, "/users/bench")) {
			relay_bench_conn_respond(conn, 404, NULL, NULL, 0, TRUE);
			return;
		}
		/* each fetch on its own connection: a network of 10,000 members must not keep
		 * 10,000 idle sockets open here */
		json = relay_bench_actor_json(self, member, request->path);
		relay_bench_conn_respond(
			conn, 200, RELAY_BENCH_CONTENT_TYPE, json, strlen(json), TRUE);
		return;
	}
	if (!g_str_equal(request->method, "POST") || !g_str_has_suffix(request->path, "/inbox")) {
		relay_bench_conn_respond(conn, 404, NULL, NULL, 0, TRUE);
		return;
	}
	seq = relay_bench_parse_seq(request->body, request->body_len);
	if (seq == 0) {
		/* the Accept of our Follow, once per member: its connection is not kept either */
		if (memmem(request->body, request->body_len, "\"Accept\"", 8) != NULL) {
			member->accepts++;
			self->accepts++;
		} else {
			self->others++;
		}
		relay_bench_conn_respond(conn, 202, NULL, NULL, 0, TRUE);
		return;
	}
	relay_bench_fleet_receipt(self, member, request, seq);
	switch (member->mode) {
	case RELAY_BENCH_SINK_UP:
		relay_bench_conn_respond(conn, 202, NULL, NULL, 0, FALSE);
		break;
	case RELAY_BENCH_SINK_DOWN:
		relay_bench_conn_respond(conn, 503, NULL, NULL, 0, FALSE);
		break;
	case RELAY_BENCH_SINK_HOLD:
		break;
	}
}

/* the fleet */

static gboolean
relay_bench_fleet_listen(RelayBenchFleet *self, GError **error)
{
	for (guint attempt = 0; attempt < RELAY_BENCH_PORT_ATTEMPTS; attempt++) {
		g_autoptr(GError) error_local = NULL;
		gboolean ok = TRUE;

		self->port = (guint16)g_random_int_range(20000, 60000);
		self->net = relay_bench_net_new(relay_bench_fleet_serve_cb, self, error);
		if (self->net == NULL)
			return FALSE;
		for (guint i = 0; i < self->members->len && ok; i++) {
			RelayBenchMember *member = g_ptr_array_index(self->members, i);
			ok = relay_bench_net_listen(
				self->net, member->address, self->port, member, &error_local);
		}
		if (ok)
			break;
		g_clear_pointer(&self->net, relay_bench_net_free);
		if (!g_error_matches(error_local, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE) ||
		    attempt + 1 == RELAY_BENCH_PORT_ATTEMPTS) {
			g_propagate_error(error, g_steal_pointer(&error_local));
			return FALSE;
		}
	}
	for (guint i = 0; i < self->members->len; i++) {
		RelayBenchMember *member = g_ptr_array_index(self->members, i);
		member->host = g_strdup_printf("%s:%u", member->address, self->port);
		member->origin = g_strdup_printf("http://%s", member->host);
	}
	return TRUE;
}

/**
 * relay_bench_fleet_new:
 * @size: how many members, at most 62,500
 * @keys: (element-type RelayBenchKey): the keys the members share, in turn
 * @relay_origin: the relay under test, e.g. "http://127.0.0.1:8080"
 *
 * Returns: (transfer full) (nullable): members listening on 127.10.0.1, 127.10.0.2, ...
 */
RelayBenchFleet *
relay_bench_fleet_new(
	guint size, GPtrArray *keys, const gchar *relay_origin, guint16 relay_port, GError **error)
{
	g_autoptr(RelayBenchFleet) self = g_new0(RelayBenchFleet, 1);
	guint8 random_bytes[256];

	self->keys = g_ptr_array_ref(keys);
	self->members = g_ptr_array_new_with_free_func((GDestroyNotify)relay_bench_member_free);
	self->activities = g_hash_table_new_full(
		g_int64_hash, g_int64_equal, NULL, (GDestroyNotify)relay_bench_activity_free);
	self->relay_origin = g_strdup(relay_origin);
	self->relay_inbox = g_strdup_printf("%s/inbox", relay_origin);
	self->relay_port = relay_port;
	self->next_seq = 1;
	self->sample_every = 100;
	for (guint i = 0; i < sizeof(random_bytes); i++)
		random_bytes[i] = (guint8)g_random_int_range(0, 256);
	self->ld_signature = g_base64_encode(random_bytes, sizeof(random_bytes));
	for (guint i = 0; i < size; i++) {
		RelayBenchMember *member = g_new0(RelayBenchMember, 1);
		member->index = i;
		member->address = g_strdup_printf("127.10.%u.%u", i / 250, 1 + i % 250);
		member->key_index = i % keys->len;
		g_ptr_array_add(self->members, member);
	}
	if (!relay_bench_fleet_listen(self, error))
		return NULL;
	return g_steal_pointer(&self);
}

void
relay_bench_fleet_free(RelayBenchFleet *self)
{
	g_clear_pointer(&self->net, relay_bench_net_free);
	g_ptr_array_unref(self->members);
	g_ptr_array_unref(self->keys);
	g_hash_table_unref(self->activities);
	g_free(self->relay_origin);
	g_free(self->relay_inbox);
	g_free(self->relay_key_id);
	g_clear_pointer(&self->relay_key, EVP_PKEY_free);
	g_free(self->ld_signature);
	g_free(self->sample_error);
	g_free(self);
}

RelayBenchNet *
relay_bench_fleet_get_net(RelayBenchFleet *self)
{
	return self->net;
}

guint
relay_bench_fleet_get_size(RelayBenchFleet *self)
{
	return self->members->len;
}

RelayBenchMember *
relay_bench_fleet_get_member(RelayBenchFleet *self, guint index)
{
	return g_ptr_array_index(self->members, index);
}

void
relay_bench_fleet_set_mode(RelayBenchFleet *self, guint first, guint count, RelayBenchSinkMode mode)
{
	for (guint i = first; i < first + count && i < self->members->len; i++)
		((RelayBenchMember *)g_ptr_array_index(self->members, i))->mode = mode;
}

/**
 * relay_bench_fleet_set_relay_key:
 * @key: (transfer full): the relay's public key, to verify the sampled deliveries
 */
void
relay_bench_fleet_set_relay_key(RelayBenchFleet *self, const gchar *key_id, EVP_PKEY *key)
{
	g_free(self->relay_key_id);
	self->relay_key_id = g_strdup(key_id);
	g_clear_pointer(&self->relay_key, EVP_PKEY_free);
	self->relay_key = key;
}

/* verify one delivery in @every (1: all of them) */
void
relay_bench_fleet_set_sample_every(RelayBenchFleet *self, guint every)
{
	self->sample_every = every;
}

static void
relay_bench_fleet_follow_cb(RelayBenchClient *client,
			    guint status,
			    const guint8 *body,
			    gsize body_len,
			    gint64 latency_us,
			    gpointer tag,
			    gpointer user_data)
{
	RelayBenchFleet *self = user_data;

	self->follows_answered++;
	if (status != 202) {
		self->follows_refused++;
		self->follow_status = status;
	}
}

typedef struct {
	RelayBenchFleet *fleet;
	guint count;
} RelayBenchSubscribeWait;

static gboolean
relay_bench_fleet_subscribed(gpointer user_data)
{
	RelayBenchSubscribeWait *wait = user_data;
	RelayBenchFleet *self = wait->fleet;
	guint accepted = 0;

	if (self->follows_answered < wait->count)
		return FALSE;
	for (guint i = 0; i < wait->count; i++) {
		RelayBenchMember *member = g_ptr_array_index(self->members, i);
		if (member->accepts > 0)
			accepted++;
	}
	return accepted == wait->count || self->follows_refused > 0;
}

/**
 * relay_bench_fleet_subscribe:
 * @count: members 0 to @count - 1 subscribe
 * @concurrency: Follows in flight at once
 *
 * Each member sends a signed Follow of the public collection to the relay's inbox, as Mastodon
 * does; the relay fetches its actor for the key and inboxes, and sends an Accept. Waits for every
 * 202 and every Accept.
 */
gboolean
relay_bench_fleet_subscribe(
	RelayBenchFleet *self, guint count, guint concurrency, guint timeout_ms, GError **error)
{
	g_autofree guint *senders = g_new0(guint, count);
	g_autoptr(GPtrArray) follows = NULL;
	g_autoptr(RelayBenchClient) client = NULL;
	RelayBenchSubscribeWait wait = {self, count};

	for (guint i = 0; i < count; i++)
		senders[i] = i;
	follows = relay_bench_fleet_sign_parallel(self, senders, 0, count);
	self->follows_answered = 0;
	self->follows_refused = 0;
	client = relay_bench_client_new(self->net,
					"127.0.0.1",
					self->relay_port,
					NULL,
					concurrency,
					relay_bench_fleet_follow_cb,
					self);
	for (guint i = 0; i < count; i++)
		relay_bench_client_submit(client, g_ptr_array_index(follows, i), NULL);
	if (!relay_bench_wait_until(relay_bench_fleet_subscribed, &wait, timeout_ms)) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_TIMED_OUT,
			    "subscribing %u members: %u Follows answered, %" G_GUINT64_FORMAT
			    " Accepts received in %u ms",
			    count,
			    self->follows_answered,
			    self->accepts,
			    timeout_ms);
		return FALSE;
	}
	if (self->follows_refused > 0) {
		g_set_error(error,
			    G_IO_ERROR,
			    G_IO_ERROR_FAILED,
			    "subscribing: %u Follows refused (HTTP %u)",
			    self->follows_refused,
			    self->follow_status);
		return FALSE;
	}
	return TRUE;
}

/**
 * relay_bench_fleet_activity_new:
 * @expected: deliveries it should cause
 *
 * Returns: (transfer none): a new activity by @sender, tracked
 */
RelayBenchActivity *
relay_bench_fleet_activity_new(RelayBenchFleet *self, guint sender, guint expected)
{
	RelayBenchActivity *activity = g_new0(RelayBenchActivity, 1);

	activity->seq = self->next_seq++;
	activity->sender = sender;
	activity->expected = expected;
	activity->seen = g_new0(guint8, self->members->len / 8 + 1);
	g_hash_table_insert(self->activities, &activity->seq, activity);
	return activity;
}

/**
 * relay_bench_fleet_get_activity:
 *
 * Returns: (transfer none) (nullable): a tracked activity
 */
RelayBenchActivity *
relay_bench_fleet_get_activity(RelayBenchFleet *self, guint64 seq)
{
	return g_hash_table_lookup(self->activities, &seq);
}

/* numbers for @count activities that are not tracked: the first one */
guint64
relay_bench_fleet_reserve_seqs(RelayBenchFleet *self, guint count)
{
	guint64 first = self->next_seq;
	self->next_seq += count;
	return first;
}

guint64
relay_bench_fleet_get_received(RelayBenchFleet *self)
{
	return self->received;
}

guint64
relay_bench_fleet_get_accepts(RelayBenchFleet *self)
{
	return self->accepts;
}

/* the relay checks each new member's NodeInfo (answered 404 here) */
guint64
relay_bench_fleet_get_nodeinfo_requests(RelayBenchFleet *self)
{
	return self->nodeinfo_requests;
}

gint64
relay_bench_fleet_get_first_receipt_us(RelayBenchFleet *self)
{
	return self->first_receipt_us;
}

void
relay_bench_fleet_reset_first_receipt(RelayBenchFleet *self)
{
	self->first_receipt_us = 0;
}

guint64
relay_bench_fleet_get_duplicates(RelayBenchFleet *self)
{
	return self->duplicates;
}

void
relay_bench_fleet_get_verified(RelayBenchFleet *self,
			       guint64 *out_sampled,
			       guint64 *out_failed,
			       const gchar **out_error)
{
	*out_sampled = self->sampled;
	*out_failed = self->sample_failed;
	*out_error = self->sample_error;
}
