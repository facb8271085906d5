/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * The relay engine end to end: the `relay` binary, and fake instances on their own loopback
 * addresses that subscribe, post, and check everything the relay sends them (every delivery's
 * signature is verified with the relay's key, fetched from its keyId).
 */

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>

#include "relay-store.h"
#include "relay-test-instance.h"
#include "relay-test-prometheus.h"
#include "relay-test-utils.h"

#define PUBLIC "https://www.w3.org/ns/activitystreams#Public"

typedef struct {
	gchar *dir;
	gchar *config_path;
	guint16 port;
	gchar *origin; /* the relay: http://127.0.0.1:PORT */
	gchar *inbox;
	gchar *actor;
	GSubprocess *relay;
	RelayTestInstance *a; /* Mastodon-style */
	RelayTestInstance *b; /* LitePub-style */
	RelayTestInstance *c; /* Mastodon-style */
	RelayTestInstance *d; /* never subscribes */
} InboxFixture;

static gboolean
relay_answers(gpointer user_data)
{
	InboxFixture *fixture = user_data;
	g_autoptr(SoupSession) session = soup_session_new_with_options("timeout", 1, NULL);
	g_autofree gchar *url = g_strdup_printf("%s/healthz", fixture->origin);
	g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
	g_autoptr(GBytes) body = soup_session_send_and_read(session, msg, NULL, NULL);
	return body != NULL && soup_message_get_status(msg) == 200;
}

static void
fixture_start_relay(InboxFixture *fixture)
{
	g_autoptr(GError) error = NULL;
	const gchar *binary = g_getenv("RELAY_BINARY");

	const gchar *argv[] = {binary,
			       "serve",
			       "-c",
			       fixture->config_path,
			       g_test_verbose() ? "--verbose" : NULL,
			       NULL};

	fixture->relay = relay_test_spawn(G_SUBPROCESS_FLAGS_NONE, argv, &error);
	g_assert_no_error(error);
	g_assert_true(relay_test_wait_until(NULL, relay_answers, fixture, 20000));
}

static void
fixture_stop_relay(InboxFixture *fixture)
{
	g_autoptr(GError) error = NULL;

	if (fixture->relay == NULL)
		return;
	g_subprocess_send_signal(fixture->relay, SIGTERM);
	g_subprocess_wait(fixture->relay, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(fixture->relay));
	g_assert_cmpint(g_subprocess_get_exit_status(fixture->relay), ==, 0);
	g_clear_object(&fixture->relay);
}

static void
fixture_write_config(InboxFixture *fixture, const gchar *extra)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *text = g_strdup_printf("[relay]\npublic-url = %s\nlisten = 127.0.0.1:%u\n"
						 "[storage]\nbackend = sqlite\npath = relay.db\n"
						 "[admin]\nsocket = admin.sock\n"
						 "[federation]\nallow-private-addresses = true\n"
						 "[delivery]\nretry-base = 1\n%s",
						 fixture->origin,
						 fixture->port,
						 extra != NULL ? extra : "");
	g_file_set_contents(fixture->config_path, text, -1, &error);
	g_assert_no_error(error);
}

/* GET /metrics, parsed strictly */
static GHashTable *
fetch_metrics(InboxFixture *fixture)
{
	g_autofree gchar *url = g_strdup_printf("%s/metrics", fixture->origin);
	g_autoptr(SoupSession) session = soup_session_new();
	g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
	g_autoptr(GBytes) body = soup_session_send_and_read(session, msg, NULL, NULL);
	g_autofree gchar *text = NULL;
	g_autoptr(GError) error = NULL;
	GHashTable *samples;

	g_assert_nonnull(body);
	g_assert_cmpuint(soup_message_get_status(msg), ==, 200);
	text = g_strndup(g_bytes_get_data(body, NULL), g_bytes_get_size(body));
	samples = relay_test_prometheus_parse(text, &error);
	g_assert_no_error(error);
	return samples;
}

typedef struct {
	InboxFixture *fixture;
	const gchar *series;
	gdouble at_least;
	gdouble at_most;
} MetricWait;

static gboolean
metric_reached(gpointer user_data)
{
	MetricWait *wait = user_data;
	g_autoptr(GHashTable) samples = fetch_metrics(wait->fixture);
	gdouble value = relay_test_prometheus_value(samples, wait->series);
	return value >= wait->at_least && value <= wait->at_most;
}

static void
wait_until_metric(InboxFixture *fixture, const gchar *series, gdouble at_least)
{
	MetricWait wait = {fixture, series, at_least, G_MAXDOUBLE};
	g_assert_true(relay_test_wait_until(NULL, metric_reached, &wait, 20000));
}

/* outcomes are counted when known and settled in storage a little later, in batches */
static void
wait_until_metric_at_most(InboxFixture *fixture, const gchar *series, gdouble at_most)
{
	MetricWait wait = {fixture, series, -G_MAXDOUBLE, at_most};
	g_assert_true(relay_test_wait_until(NULL, metric_reached, &wait, 20000));
}

static void
fixture_setup(InboxFixture *fixture, gconstpointer user_data)
{
	fixture->dir = relay_test_mkdtemp();
	fixture->config_path = g_build_filename(fixture->dir, "relay.conf", NULL);
	fixture->port = relay_test_free_port();
	fixture->origin = g_strdup_printf("http://127.0.0.1:%u", fixture->port);
	fixture->inbox = g_strdup_printf("%s/inbox", fixture->origin);
	fixture->actor = g_strdup_printf("%s/actor", fixture->origin);
	fixture_write_config(fixture, user_data);
	fixture->a = relay_test_instance_new("127.0.0.2");
	fixture->b = relay_test_instance_new("127.0.0.3");
	fixture->c = relay_test_instance_new("127.0.0.4");
	fixture->d = relay_test_instance_new("127.0.0.5");
	fixture_start_relay(fixture);
}

static void
fixture_teardown(InboxFixture *fixture, gconstpointer user_data)
{
	fixture_stop_relay(fixture);
	g_clear_pointer(&fixture->a, relay_test_instance_free);
	g_clear_pointer(&fixture->b, relay_test_instance_free);
	g_clear_pointer(&fixture->c, relay_test_instance_free);
	g_clear_pointer(&fixture->d, relay_test_instance_free);
	relay_test_rmdir(fixture->dir);
	g_free(fixture->dir);
	g_free(fixture->config_path);
	g_free(fixture->origin);
	g_free(fixture->inbox);
	g_free(fixture->actor);
}

/* a Follow as Mastodon (object Public) or Pleroma (object the relay actor) sends it */
static gchar *
follow_json(RelayTestInstance *instance, const gchar *object, gchar **out_id)
{
	g_autofree gchar *uuid = g_uuid_string_random();
	g_autofree gchar *id = g_strdup_printf(
		"%s/activities/follow-relay/%s", relay_test_instance_get_origin(instance), uuid);
	g_autofree gchar *actor = relay_test_instance_url(instance, "/actor");
	gchar *json = g_strdup_printf("{\"@context\":\"https://www.w3.org/ns/activitystreams\","
				      "\"id\":\"%s\",\"type\":\"Follow\",\"actor\":\"%s\","
				      "\"object\":\"%s\"}",
				      id,
				      actor,
				      object);
	if (out_id != NULL)
		*out_id = g_steal_pointer(&id);
	return json;
}

/* a public note by /users/alice of @instance, with an LD signature when @signed_ld */
static gchar *
create_json(RelayTestInstance *instance, const gchar *text, gboolean signed_ld, gchar **out_id)
{
	g_autofree gchar *uuid = g_uuid_string_random();
	g_autofree gchar *actor = relay_test_instance_url(instance, "/users/alice");
	g_autofree gchar *note =
		g_strdup_printf("%s/statuses/%s", relay_test_instance_get_origin(instance), uuid);
	g_autofree gchar *id = g_strdup_printf("%s/activity", note);
	gchar *json = g_strdup_printf(
		"{\"@context\":[\"https://www.w3.org/ns/activitystreams\"],"
		"\"id\":\"%s\",\"type\":\"Create\",\"actor\":\"%s\","
		"\"published\":\"2026-11-25T10:00:00Z\",\"to\":[\"%s\"],\"cc\":[\"%s/followers\"],"
		"\"object\":{\"id\":\"%s\",\"type\":\"Note\",\"attributedTo\":\"%s\","
		"\"content\":\"<p>%s</p>\",\"to\":[\"%s\"]}%s}",
		id,
		actor,
		PUBLIC,
		actor,
		note,
		actor,
		text,
		PUBLIC,
		signed_ld ? ",\"signature\":{\"type\":\"RsaSignature2017\",\"creator\":\"x#main-"
			    "key\","
			    "\"created\":\"2026-11-25T10:00:00Z\",\"signatureValue\":\"AAAA\"}"
			  : "");
	if (out_id != NULL)
		*out_id = g_steal_pointer(&note);
	return json;
}

static const gchar *
string_member(JsonNode *node, const gchar *member)
{
	return json_object_get_string_member_with_default(json_node_get_object(node), member, NULL);
}

/* subscribes @instance Mastodon-style and waits for the Accept */
static void
subscribe_mastodon(InboxFixture *fixture, RelayTestInstance *instance)
{
	g_autofree gchar *follow_id = NULL;
	g_autofree gchar *follow = follow_json(instance, PUBLIC, &follow_id);
	guint accepts = relay_test_instance_count_type(instance, "Accept");

	g_assert_cmpuint(relay_test_instance_post(instance, fixture->inbox, "/actor", follow, NULL),
			 ==,
			 202);
	g_assert_true(relay_test_instance_wait_type(instance, "Accept", accepts + 1, 20000));
}

/* Mastodon and Misskey: Follow of Public, answered by an Accept that embeds the Follow */
static void
test_subscribe_mastodon(InboxFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *follow_id = NULL;
	g_autofree gchar *follow = follow_json(fixture->a, PUBLIC, &follow_id);
	g_autofree gchar *a_actor = relay_test_instance_url(fixture->a, "/actor");
	g_autofree gchar *response = NULL;
	RelayTestDelivery *accept;
	RelayTestDelivery *again;
	JsonObject *object;

	g_assert_cmpuint(
		relay_test_instance_post(fixture->a, fixture->inbox, "/actor", follow, &response),
		==,
		202);
	g_assert_true(relay_test_instance_wait_type(fixture->a, "Accept", 1, 20000));
	accept = relay_test_instance_find_type(fixture->a, "Accept", 0);
	if (!accept->verified)
		g_error("the Accept did not verify: %s", accept->verify_error);
	g_assert_true(g_str_has_prefix(accept->key_id, fixture->actor));
	g_assert_true(g_str_has_suffix(accept->key_id, "#main-key"));
	g_assert_cmpstr(string_member(accept->json, "actor"), ==, fixture->actor);
	g_assert_nonnull(string_member(accept->json, "id"));
	/* Misskey resolves the object as a Follow by its own relay actor with its own id */
	object = json_object_get_object_member(json_node_get_object(accept->json), "object");
	g_assert_nonnull(object);
	g_assert_cmpstr(json_object_get_string_member(object, "id"), ==, follow_id);
	g_assert_cmpstr(json_object_get_string_member(object, "actor"), ==, a_actor);
	g_assert_cmpstr(json_object_get_string_member(object, "type"), ==, "Follow");
	/* it went to the follower's inbox */
	g_assert_cmpstr(accept->path, ==, "/actor/inbox");

	/* a duplicate Follow is accepted again, with a fresh Accept id */
	g_assert_cmpuint(
		relay_test_instance_post(fixture->a, fixture->inbox, "/actor", follow, NULL),
		==,
		202);
	g_assert_true(relay_test_instance_wait_type(fixture->a, "Accept", 2, 20000));
	again = relay_test_instance_find_type(fixture->a, "Accept", 1);
	g_assert_cmpstr(string_member(again->json, "id"), !=, string_member(accept->json, "id"));
	g_assert_cmpuint(relay_test_instance_count_type(fixture->a, "Reject"), ==, 0);
}

/* Pleroma, Akkoma, GoToSocial, Friendica: Follow of the relay actor, then our follow-back */
static void
test_subscribe_litepub(InboxFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *follow = follow_json(fixture->b, fixture->actor, NULL);
	g_autofree gchar *b_actor = relay_test_instance_url(fixture->b, "/actor");
	g_autofree gchar *unsigned_post = NULL;
	RelayTestDelivery *follow_back;

	relay_test_instance_set_auto_accept(fixture->b, fixture->inbox);
	g_assert_cmpuint(
		relay_test_instance_post(fixture->b, fixture->inbox, "/actor", follow, NULL),
		==,
		202);
	g_assert_true(relay_test_instance_wait_type(fixture->b, "Accept", 1, 20000));
	g_assert_true(relay_test_instance_wait_type(fixture->b, "Follow", 1, 20000));
	follow_back = relay_test_instance_find_type(fixture->b, "Follow", 0);
	g_assert_true(follow_back->verified);
	g_assert_cmpstr(string_member(follow_back->json, "actor"), ==, fixture->actor);
	g_assert_cmpstr(string_member(follow_back->json, "object"), ==, b_actor);

	/* once B accepted our follow, B is a member: an unsigned note from A reaches B as an
	 * Announce (A subscribes Mastodon-style first) */
	g_assert_true(relay_test_instance_wait_idle(fixture->b, 20000));
	subscribe_mastodon(fixture, fixture->a);
	unsigned_post = create_json(fixture->a, "hello from a", FALSE, NULL);
	g_assert_cmpuint(relay_test_instance_post(
				 fixture->a, fixture->inbox, "/users/alice", unsigned_post, NULL),
			 ==,
			 202);
	g_assert_true(relay_test_instance_wait_type(fixture->b, "Announce", 1, 20000));
}

/* raw to Mastodon-style members when signed, Announce to LitePub; never back to the sender */
static void
test_forward_forms(InboxFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *note_id = NULL;
	g_autofree gchar *signed_note = NULL;
	g_autofree gchar *unsigned_note_id = NULL;
	g_autofree gchar *unsigned_note = NULL;
	g_autofree gchar *follow = follow_json(fixture->b, fixture->actor, NULL);
	g_autofree gchar *followers = g_strdup_printf("%s/followers", fixture->actor);
	RelayTestDelivery *raw;
	RelayTestDelivery *announce;
	JsonArray *to;

	subscribe_mastodon(fixture, fixture->a);
	subscribe_mastodon(fixture, fixture->c);
	relay_test_instance_set_auto_accept(fixture->b, fixture->inbox);
	g_assert_cmpuint(
		relay_test_instance_post(fixture->b, fixture->inbox, "/actor", follow, NULL),
		==,
		202);
	g_assert_true(relay_test_instance_wait_type(fixture->b, "Follow", 1, 20000));
	/* B's Accept of our follow has landed */
	g_assert_true(relay_test_instance_wait_idle(fixture->b, 20000));

	signed_note = create_json(fixture->a, "signed hello", TRUE, &note_id);
	g_assert_cmpuint(relay_test_instance_post(
				 fixture->a, fixture->inbox, "/users/alice", signed_note, NULL),
			 ==,
			 202);
	g_assert_true(relay_test_instance_wait_type(fixture->c, "Create", 1, 20000));
	raw = relay_test_instance_find_type(fixture->c, "Create", 0);
	g_assert_true(raw->verified);
	/* byte-identical, signed by the relay */
	g_assert_cmpmem(g_bytes_get_data(raw->body, NULL),
			g_bytes_get_size(raw->body),
			signed_note,
			strlen(signed_note));
	g_assert_cmpstr(raw->path, ==, "/inbox");
	g_assert_true(relay_test_instance_wait_type(fixture->b, "Announce", 1, 20000));
	announce = relay_test_instance_find_type(fixture->b, "Announce", 0);
	g_assert_true(announce->verified);
	g_assert_cmpstr(string_member(announce->json, "actor"), ==, fixture->actor);
	g_assert_cmpstr(string_member(announce->json, "object"), ==, note_id);
	to = json_object_get_array_member(json_node_get_object(announce->json), "to");
	g_assert_cmpstr(json_array_get_string_element(to, 0), ==, PUBLIC);
	g_assert_cmpstr(
		json_array_get_string_element(
			json_object_get_array_member(json_node_get_object(announce->json), "cc"),
			0),
		==,
		followers);
	g_assert_true(g_str_has_prefix(string_member(announce->json, "id"), fixture->origin));

	/* unsigned: an Announce for everyone */
	unsigned_note = create_json(fixture->a, "unsigned hello", FALSE, &unsigned_note_id);
	g_assert_cmpuint(relay_test_instance_post(
				 fixture->a, fixture->inbox, "/users/alice", unsigned_note, NULL),
			 ==,
			 202);
	g_assert_true(relay_test_instance_wait_type(fixture->c, "Announce", 1, 20000));
	g_assert_cmpstr(
		string_member(relay_test_instance_find_type(fixture->c, "Announce", 0)->json,
			      "object"),
		==,
		unsigned_note_id);

	/* the same activity again is not relayed twice */
	g_assert_cmpuint(relay_test_instance_post(
				 fixture->a, fixture->inbox, "/users/alice", signed_note, NULL),
			 ==,
			 202);

	/* nothing ever went back to the sender */
	g_assert_cmpuint(relay_test_instance_count_type(fixture->a, "Create"), ==, 0);
	g_assert_cmpuint(relay_test_instance_count_type(fixture->a, "Announce"), ==, 0);
	/* let anything duplicated arrive, then count */
	relay_test_instance_wait_type(fixture->c, "Create", 2, 1500);
	g_assert_cmpuint(relay_test_instance_count_type(fixture->c, "Create"), ==, 1);
}

/*
 * Pleroma and Akkoma publish with an Announce by their relay actor addressed to the relay and
 * to their own followers, not to Public (captured announce-lp.json): it is relayed. The same
 * Announce addressed to its followers only is not.
 */
static void
test_litepub_publish(InboxFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *follow = follow_json(fixture->b, fixture->actor, NULL);
	g_autofree gchar *b_actor = relay_test_instance_url(fixture->b, "/actor");
	g_autofree gchar *note = relay_test_instance_url(fixture->b, "/objects/1");
	g_autofree gchar *private_note = relay_test_instance_url(fixture->b, "/objects/2");
	g_autofree gchar *announce = g_strdup_printf(
		"{\"@context\":[\"https://www.w3.org/ns/activitystreams\",{\"@language\":\"und\"}],"
		"\"actor\":\"%s\",\"bto\":[],\"cc\":[],\"id\":\"%s/activities/1\","
		"\"object\":\"%s\",\"published\":\"2023-02-25T17:37:46.363511Z\","
		"\"to\":[\"%s/followers\",\"%s\"],\"type\":\"Announce\"}",
		b_actor,
		relay_test_instance_get_origin(fixture->b),
		note,
		b_actor,
		fixture->actor);
	g_autofree gchar *followers_only =
		g_strdup_printf("{\"actor\":\"%s\",\"id\":\"%s/activities/2\",\"object\":\"%s\","
				"\"to\":[\"%s/followers\"],\"type\":\"Announce\"}",
				b_actor,
				relay_test_instance_get_origin(fixture->b),
				private_note,
				b_actor);
	g_autofree gchar *response = NULL;
	RelayTestDelivery *relayed;

	subscribe_mastodon(fixture, fixture->a);
	relay_test_instance_set_auto_accept(fixture->b, fixture->inbox);
	g_assert_cmpuint(
		relay_test_instance_post(fixture->b, fixture->inbox, "/actor", follow, NULL),
		==,
		202);
	g_assert_true(relay_test_instance_wait_type(fixture->b, "Follow", 1, 20000));
	g_assert_true(relay_test_instance_wait_idle(fixture->b, 20000));

	g_assert_cmpuint(
		relay_test_instance_post(fixture->b, fixture->inbox, "/actor", announce, &response),
		==,
		202);
	g_assert_nonnull(strstr(response, "relayed to 1 inboxes"));
	g_assert_true(relay_test_instance_wait_type(fixture->a, "Announce", 1, 20000));
	relayed = relay_test_instance_find_type(fixture->a, "Announce", 0);
	g_assert_true(relayed->verified);
	g_assert_cmpstr(string_member(relayed->json, "actor"), ==, fixture->actor);
	g_assert_cmpstr(string_member(relayed->json, "object"), ==, note);

	g_clear_pointer(&response, g_free);
	g_assert_cmpuint(relay_test_instance_post(
				 fixture->b, fixture->inbox, "/actor", followers_only, &response),
			 ==,
			 202);
	g_assert_nonnull(strstr(response, "not public"));
	relay_test_instance_wait_type(fixture->a, "Announce", 2, 1000);
	g_assert_cmpuint(relay_test_instance_count_type(fixture->a, "Announce"), ==, 1);
}

/* every refusal has its status and reason, and nothing refused is relayed */
static void
test_refusals(InboxFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *note = NULL;
	g_autofree gchar *other = NULL;
	g_autofree gchar *response = NULL;
	g_autofree gchar *big = NULL;
	GString *large = g_string_new(NULL);

	subscribe_mastodon(fixture, fixture->a);
	subscribe_mastodon(fixture, fixture->c);
	note = create_json(fixture->a, "hello", TRUE, NULL);
	other = create_json(fixture->a, "something else", TRUE, NULL);

	/* not signed at all */
	g_assert_cmpuint(relay_test_instance_post_raw(
				 fixture->a, fixture->inbox, "/users/alice", note, note, FALSE),
			 ==,
			 401);
	/* the body is not what was signed */
	g_assert_cmpuint(relay_test_instance_post_raw(
				 fixture->a, fixture->inbox, "/users/alice", note, other, TRUE),
			 ==,
			 400);
	/* signed by a key that is not the actor's: D signs a note claiming to be A's alice */
	g_assert_cmpuint(relay_test_instance_post(
				 fixture->d, fixture->inbox, "/users/alice", note, &response),
			 ==,
			 401);
	/* a non-member */
	g_free(note);
	note = create_json(fixture->d, "not a member", TRUE, NULL);
	g_assert_cmpuint(
		relay_test_instance_post(fixture->d, fixture->inbox, "/users/alice", note, NULL),
		==,
		403);
	/* too large, refused before reading */
	g_string_append(large, "{\"type\":\"Create\",\"x\":\"");
	for (guint i = 0; i < 300000; i++)
		g_string_append_c(large, 'x');
	g_string_append(large, "\"}");
	big = g_string_free(large, FALSE);
	g_assert_cmpuint(
		relay_test_instance_post(fixture->a, fixture->inbox, "/users/alice", big, NULL),
		==,
		413);

	relay_test_instance_wait_type(fixture->c, "Create", 1, 1500);
	g_assert_cmpuint(relay_test_instance_count_type(fixture->c, "Create"), ==, 0);
}

/* Undo of the Follow ends the membership: nothing more is delivered to or from it */
static void
test_unsubscribe(InboxFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *follow_id = NULL;
	g_autofree gchar *follow = follow_json(fixture->c, PUBLIC, &follow_id);
	g_autofree gchar *c_actor = relay_test_instance_url(fixture->c, "/actor");
	g_autofree gchar *undo = NULL;
	g_autofree gchar *note = NULL;
	g_autofree gchar *later = NULL;

	subscribe_mastodon(fixture, fixture->a);
	g_assert_cmpuint(
		relay_test_instance_post(fixture->c, fixture->inbox, "/actor", follow, NULL),
		==,
		202);
	g_assert_true(relay_test_instance_wait_type(fixture->c, "Accept", 1, 20000));
	note = create_json(fixture->a, "before", TRUE, NULL);
	g_assert_cmpuint(
		relay_test_instance_post(fixture->a, fixture->inbox, "/users/alice", note, NULL),
		==,
		202);
	g_assert_true(relay_test_instance_wait_type(fixture->c, "Create", 1, 20000));

	undo = g_strdup_printf("{\"@context\":\"https://www.w3.org/ns/activitystreams\","
			       "\"id\":\"%s#undo\",\"type\":\"Undo\",\"actor\":\"%s\","
			       "\"object\":%s}",
			       follow_id,
			       c_actor,
			       follow);
	g_assert_cmpuint(relay_test_instance_post(fixture->c, fixture->inbox, "/actor", undo, NULL),
			 ==,
			 202);
	later = create_json(fixture->a, "after", TRUE, NULL);
	g_assert_cmpuint(
		relay_test_instance_post(fixture->a, fixture->inbox, "/users/alice", later, NULL),
		==,
		202);
	relay_test_instance_wait_type(fixture->c, "Create", 2, 1500);
	g_assert_cmpuint(relay_test_instance_count_type(fixture->c, "Create"), ==, 1);
}

/* the relay's database, opened beside the running relay (SQLite in WAL mode allows it) */
static RelayStore *
fixture_open_store(InboxFixture *fixture)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path = g_build_filename(fixture->dir, "relay.db", NULL);
	RelayStore *store = relay_store_new("sqlite", path, &error);
	g_assert_no_error(error);
	return store;
}

static void
fixture_add_policy(InboxFixture *fixture,
		   const gchar *network,
		   const gchar *domain,
		   RelayPolicyKind kind)
{
	g_autoptr(RelayStore) store = fixture_open_store(fixture);
	g_autoptr(RelayDomainPolicy) policy = relay_domain_policy_new(network, domain, kind);
	g_autoptr(GError) error = NULL;

	policy->reason = g_strdup("test");
	g_assert_true(relay_store_policy_put(store, policy, NULL, &error));
	g_assert_no_error(error);
	relay_store_close(store);
}

/* changes a member's direction in the relay's database, as the admin command will */
static void
fixture_set_direction(InboxFixture *fixture, const gchar *actor, RelayMemberDirection direction)
{
	g_autoptr(RelayStore) store = fixture_open_store(fixture);
	g_autoptr(RelayMember) member = NULL;
	g_autoptr(GError) error = NULL;

	member = relay_store_member_get(store, "relay", actor, NULL, &error);
	g_assert_no_error(error);
	member->direction = direction;
	g_assert_true(relay_store_member_put(store, member, NULL, &error));
	g_assert_no_error(error);
	relay_store_close(store);
}

/* the host of an instance without its port: what domain policies name */
static gchar *
instance_domain(RelayTestInstance *instance)
{
	const gchar *host = relay_test_instance_get_host(instance);
	return g_strndup(host, (gsize)(strrchr(host, ':') - host));
}

/* join = closed: Reject, unless the domain is on the allow list */
static void
test_join_closed(InboxFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *follow_a = follow_json(fixture->a, PUBLIC, NULL);
	g_autofree gchar *follow_c = follow_json(fixture->c, PUBLIC, NULL);
	g_autofree gchar *c_domain = instance_domain(fixture->c);
	RelayTestDelivery *reject;

	fixture_add_policy(fixture, "relay", c_domain, RELAY_POLICY_KIND_ALLOW);
	g_assert_cmpuint(
		relay_test_instance_post(fixture->a, fixture->inbox, "/actor", follow_a, NULL),
		==,
		202);
	g_assert_true(relay_test_instance_wait_type(fixture->a, "Reject", 1, 20000));
	reject = relay_test_instance_find_type(fixture->a, "Reject", 0);
	g_assert_true(reject->verified);
	g_assert_cmpuint(relay_test_instance_count_type(fixture->a, "Accept"), ==, 0);

	g_assert_cmpuint(
		relay_test_instance_post(fixture->c, fixture->inbox, "/actor", follow_c, NULL),
		==,
		202);
	g_assert_true(relay_test_instance_wait_type(fixture->c, "Accept", 1, 20000));
}

/* join = approval: the member waits, and cannot publish meanwhile */
static void
test_join_approval(InboxFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *follow = follow_json(fixture->a, PUBLIC, NULL);
	g_autofree gchar *note = create_json(fixture->a, "too early", TRUE, NULL);
	g_autofree gchar *a_actor = relay_test_instance_url(fixture->a, "/actor");
	g_autoptr(RelayStore) store = NULL;
	g_autoptr(RelayMember) member = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_cmpuint(
		relay_test_instance_post(fixture->a, fixture->inbox, "/actor", follow, NULL),
		==,
		202);
	store = fixture_open_store(fixture);
	member = relay_store_member_get(store, "relay", a_actor, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpint(member->state, ==, RELAY_MEMBER_STATE_PENDING);
	relay_store_close(store);
	g_assert_cmpuint(
		relay_test_instance_post(fixture->a, fixture->inbox, "/users/alice", note, NULL),
		==,
		403);
	relay_test_instance_wait_type(fixture->a, "Accept", 1, 1000);
	g_assert_cmpuint(relay_test_instance_count_type(fixture->a, "Accept"), ==, 0);
}

/* a blocked domain gets 403 and a Reject, and never receives anything; a member whose domain
 * gets blocked is removed */
static void
test_blocked_domain(InboxFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *follow = follow_json(fixture->d, PUBLIC, NULL);
	g_autofree gchar *d_domain = instance_domain(fixture->d);
	g_autofree gchar *c_domain = instance_domain(fixture->c);
	g_autofree gchar *c_actor = relay_test_instance_url(fixture->c, "/actor");
	g_autofree gchar *note = NULL;
	g_autoptr(RelayStore) store = NULL;
	g_autoptr(RelayMember) member = NULL;
	g_autoptr(GError) error = NULL;

	subscribe_mastodon(fixture, fixture->c);
	fixture_add_policy(fixture, NULL, c_domain, RELAY_POLICY_KIND_BLOCK);
	fixture_add_policy(fixture, NULL, d_domain, RELAY_POLICY_KIND_BLOCK);
	g_assert_cmpuint(
		relay_test_instance_post(fixture->d, fixture->inbox, "/actor", follow, NULL),
		==,
		403);
	g_assert_true(relay_test_instance_wait_type(fixture->d, "Reject", 1, 20000));
	subscribe_mastodon(fixture, fixture->a);
	note = create_json(fixture->a, "hello", TRUE, NULL);
	g_assert_cmpuint(
		relay_test_instance_post(fixture->a, fixture->inbox, "/users/alice", note, NULL),
		==,
		202);
	relay_test_instance_wait_type(fixture->d, "Create", 1, 1000);
	g_assert_cmpuint(relay_test_instance_count_type(fixture->d, "Create"), ==, 0);
	g_assert_cmpuint(relay_test_instance_count_type(fixture->c, "Create"), ==, 0);
	store = fixture_open_store(fixture);
	member = relay_store_member_get(store, "relay", c_actor, NULL, &error);
	g_assert_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND);
	relay_store_close(store);
}

/* hashtag, language and keyword filters apply before fan-out */
static void
test_filters(InboxFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *plain = create_json(fixture->a, "no tag here", TRUE, NULL);
	g_autofree gchar *tagged = create_json(fixture->a, "I love #cats", TRUE, NULL);
	g_autofree gchar *denied = create_json(fixture->a, "#cats and spam offers", TRUE, NULL);

	subscribe_mastodon(fixture, fixture->a);
	subscribe_mastodon(fixture, fixture->c);
	g_assert_cmpuint(
		relay_test_instance_post(fixture->a, fixture->inbox, "/users/alice", plain, NULL),
		==,
		202);
	g_assert_cmpuint(
		relay_test_instance_post(fixture->a, fixture->inbox, "/users/alice", denied, NULL),
		==,
		202);
	g_assert_cmpuint(
		relay_test_instance_post(fixture->a, fixture->inbox, "/users/alice", tagged, NULL),
		==,
		202);
	g_assert_true(relay_test_instance_wait_type(fixture->c, "Create", 1, 20000));
	relay_test_instance_wait_type(fixture->c, "Create", 2, 1000);
	g_assert_cmpuint(relay_test_instance_count_type(fixture->c, "Create"), ==, 1);
	g_assert_nonnull(g_strstr_len(
		g_bytes_get_data(relay_test_instance_find_type(fixture->c, "Create", 0)->body,
				 NULL),
		-1,
		"I love #cats"));
}

/* a member that only publishes receives nothing; one that only receives cannot publish */
static void
test_direction(InboxFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *c_actor = relay_test_instance_url(fixture->c, "/actor");
	g_autofree gchar *from_a = create_json(fixture->a, "from a", TRUE, NULL);
	g_autofree gchar *from_c = create_json(fixture->c, "from c", TRUE, NULL);

	subscribe_mastodon(fixture, fixture->a);
	subscribe_mastodon(fixture, fixture->c);
	fixture_set_direction(fixture, c_actor, RELAY_MEMBER_DIRECTION_RECEIVE_ONLY);

	g_assert_cmpuint(
		relay_test_instance_post(fixture->c, fixture->inbox, "/users/alice", from_c, NULL),
		==,
		403);
	g_assert_cmpuint(
		relay_test_instance_post(fixture->a, fixture->inbox, "/users/alice", from_a, NULL),
		==,
		202);
	g_assert_true(relay_test_instance_wait_type(fixture->c, "Create", 1, 20000));
}

/* several members behind one shared inbox get one delivery */
static void
test_shared_inbox(InboxFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *note = create_json(fixture->a, "once", TRUE, NULL);
	g_autofree gchar *bot = relay_test_instance_url(fixture->c, "/users/relaybot");
	g_autofree gchar *follow = NULL;

	subscribe_mastodon(fixture, fixture->a);
	subscribe_mastodon(fixture, fixture->c);
	follow = g_strdup_printf("{\"@context\":\"https://www.w3.org/ns/activitystreams\","
				 "\"id\":\"%s/follows/1\",\"type\":\"Follow\",\"actor\":\"%s\","
				 "\"object\":\"%s\"}",
				 bot,
				 bot,
				 PUBLIC);
	g_assert_cmpuint(relay_test_instance_post(
				 fixture->c, fixture->inbox, "/users/relaybot", follow, NULL),
			 ==,
			 202);
	g_assert_true(relay_test_instance_wait_type(fixture->c, "Accept", 2, 20000));
	g_assert_cmpuint(
		relay_test_instance_post(fixture->a, fixture->inbox, "/users/alice", note, NULL),
		==,
		202);
	g_assert_true(relay_test_instance_wait_type(fixture->c, "Create", 1, 20000));
	relay_test_instance_wait_type(fixture->c, "Create", 2, 1000);
	g_assert_cmpuint(relay_test_instance_count_type(fixture->c, "Create"), ==, 1);
}

typedef struct {
	RelayTestInstance *instance;
	guint expected;
} DistinctInboxes;

static guint
count_distinct_paths(RelayTestInstance *instance, const gchar *type)
{
	g_autoptr(GHashTable) paths = g_hash_table_new(g_str_hash, g_str_equal);
	GPtrArray *deliveries = relay_test_instance_get_deliveries(instance);

	for (guint i = 0; i < deliveries->len; i++) {
		RelayTestDelivery *delivery = g_ptr_array_index(deliveries, i);
		if (delivery->json == NULL ||
		    g_strcmp0(string_member(delivery->json, "type"), type) != 0)
			continue;
		g_hash_table_add(paths, delivery->path);
	}
	return g_hash_table_size(paths);
}

static gboolean
distinct_inboxes_reached(gpointer user_data)
{
	DistinctInboxes *data = user_data;
	return count_distinct_paths(data->instance, "Create") >= data->expected;
}

/* kill -9 in the middle of a fan-out of 1,000 deliveries: after a restart, all arrive */
static void
test_sigkill_fanout(InboxFixture *fixture, gconstpointer user_data)
{
	g_autoptr(RelayStore) store = fixture_open_store(fixture);
	g_autofree gchar *note = create_json(fixture->a, "to a thousand", TRUE, NULL);
	g_autoptr(GError) error = NULL;
	DistinctInboxes data = {fixture->c, 1000};

	subscribe_mastodon(fixture, fixture->a);
	/* 1,000 members on C, each with an inbox of its own and no shared inbox */
	for (guint i = 0; i < 1000; i++) {
		g_autofree gchar *path = g_strdup_printf("/users/m%u", i);
		g_autofree gchar *actor = relay_test_instance_url(fixture->c, path);
		g_autofree gchar *inbox = g_strdup_printf("%s/inbox", actor);
		g_autoptr(RelayMember) member = relay_member_new("relay", actor, inbox);
		member->state = RELAY_MEMBER_STATE_ACCEPTED;
		g_assert_true(relay_store_member_put(store, member, NULL, &error));
		g_assert_no_error(error);
	}
	relay_store_close(store);

	relay_test_instance_set_status(fixture->c, SOUP_STATUS_ACCEPTED);
	g_assert_cmpuint(
		relay_test_instance_post(fixture->a, fixture->inbox, "/users/alice", note, NULL),
		==,
		202);
	/* some have arrived, most have not: kill the node without warning */
	relay_test_instance_wait_type(fixture->c, "Create", 50, 20000);
	g_subprocess_force_exit(fixture->relay);
	g_subprocess_wait(fixture->relay, NULL, NULL);
	g_clear_object(&fixture->relay);
	g_test_message("%u of 1000 delivered before the kill",
		       count_distinct_paths(fixture->c, "Create"));

	fixture_start_relay(fixture);
	if (!relay_test_wait_until(NULL, distinct_inboxes_reached, &data, 120000))
		g_error("only %u of 1000 inboxes got the note after the restart",
			count_distinct_paths(fixture->c, "Create"));
}

/* Undo by id (Misskey sends the Follow embedded, others only its id) */
static void
test_unsubscribe_by_id(InboxFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *follow_id = NULL;
	g_autofree gchar *follow = follow_json(fixture->c, PUBLIC, &follow_id);
	g_autofree gchar *c_actor = relay_test_instance_url(fixture->c, "/actor");
	g_autofree gchar *undo = NULL;
	g_autoptr(RelayStore) store = NULL;
	g_autoptr(RelayMember) member = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_cmpuint(
		relay_test_instance_post(fixture->c, fixture->inbox, "/actor", follow, NULL),
		==,
		202);
	g_assert_true(relay_test_instance_wait_type(fixture->c, "Accept", 1, 20000));
	undo = g_strdup_printf("{\"@context\":\"https://www.w3.org/ns/activitystreams\","
			       "\"id\":\"%s#undo\",\"type\":\"Undo\",\"actor\":\"%s\","
			       "\"object\":\"%s\"}",
			       follow_id,
			       c_actor,
			       follow_id);
	g_assert_cmpuint(relay_test_instance_post(fixture->c, fixture->inbox, "/actor", undo, NULL),
			 ==,
			 202);
	store = fixture_open_store(fixture);
	member = relay_store_member_get(store, "relay", c_actor, NULL, &error);
	g_assert_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND);
	g_assert_null(member);
	relay_store_close(store);
}

/* an actor that deletes itself leaves the network */
static void
test_delete_actor(InboxFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *c_actor = relay_test_instance_url(fixture->c, "/actor");
	g_autofree gchar *delete = NULL;
	g_autoptr(RelayStore) store = NULL;
	g_autoptr(RelayMember) member = NULL;
	g_autoptr(GError) error = NULL;

	subscribe_mastodon(fixture, fixture->c);
	delete = g_strdup_printf("{\"@context\":\"https://www.w3.org/ns/activitystreams\","
				 "\"id\":\"%s#delete\",\"type\":\"Delete\",\"actor\":\"%s\","
				 "\"object\":\"%s\",\"to\":[\"%s\"]}",
				 c_actor,
				 c_actor,
				 c_actor,
				 PUBLIC);
	g_assert_cmpuint(
		relay_test_instance_post(fixture->c, fixture->inbox, "/actor", delete, NULL),
		==,
		202);
	store = fixture_open_store(fixture);
	member = relay_store_member_get(store, "relay", c_actor, NULL, &error);
	g_assert_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND);
	relay_store_close(store);
}

/* a deleted account's Delete: its key fetch answers 410, which is all there is to know */
static void
test_delete_actor_gone(InboxFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *c_actor = relay_test_instance_url(fixture->c, "/actor");
	g_autofree gchar *key_id = relay_test_instance_url(fixture->c, "/actor#deleted-key");
	g_autofree gchar *delete = NULL;
	g_autoptr(RelayStore) store = NULL;
	g_autoptr(RelayMember) member = NULL;
	g_autoptr(GError) error = NULL;

	subscribe_mastodon(fixture, fixture->c);
	relay_test_instance_set_gone(fixture->c, TRUE);
	delete = g_strdup_printf("{\"@context\":\"https://www.w3.org/ns/activitystreams\","
				 "\"id\":\"%s#delete\",\"type\":\"Delete\",\"actor\":\"%s\","
				 "\"object\":\"%s\",\"to\":[\"%s\"]}",
				 c_actor,
				 c_actor,
				 c_actor,
				 PUBLIC);
	g_assert_cmpuint(
		relay_test_instance_post_forged(fixture->c, fixture->inbox, key_id, delete),
		==,
		202);
	store = fixture_open_store(fixture);
	member = relay_store_member_get(store, "relay", c_actor, NULL, &error);
	g_assert_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND);
	relay_store_close(store);
}

/* a boost by A of C's post: C, where the object comes from, does not get it back */
static void
test_object_origin(InboxFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *a_alice = relay_test_instance_url(fixture->a, "/users/alice");
	g_autofree gchar *c_post = relay_test_instance_url(fixture->c, "/users/bob/statuses/1");
	g_autofree gchar *boost = NULL;
	g_autofree gchar *follow = follow_json(fixture->b, PUBLIC, NULL);

	subscribe_mastodon(fixture, fixture->a);
	subscribe_mastodon(fixture, fixture->b);
	subscribe_mastodon(fixture, fixture->c);
	boost = g_strdup_printf("{\"@context\":\"https://www.w3.org/ns/activitystreams\","
				"\"id\":\"%s/boosts/1\",\"type\":\"Announce\",\"actor\":\"%s\","
				"\"object\":\"%s\",\"to\":[\"%s\"]}",
				a_alice,
				a_alice,
				c_post,
				PUBLIC);
	g_assert_cmpuint(
		relay_test_instance_post(fixture->a, fixture->inbox, "/users/alice", boost, NULL),
		==,
		202);
	g_assert_true(relay_test_instance_wait_type(fixture->b, "Announce", 1, 20000));
	g_assert_cmpstr(
		string_member(relay_test_instance_find_type(fixture->b, "Announce", 0)->json,
			      "object"),
		==,
		c_post);
	relay_test_instance_wait_type(fixture->c, "Announce", 1, 1000);
	g_assert_cmpuint(relay_test_instance_count_type(fixture->c, "Announce"), ==, 0);
}

/* languages: only posts in one of the network's languages */
static void
test_filter_language(InboxFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *uuid = g_uuid_string_random();
	g_autofree gchar *alice = relay_test_instance_url(fixture->a, "/users/alice");
	g_autofree gchar *german = NULL;
	g_autofree gchar *french = NULL;

	subscribe_mastodon(fixture, fixture->a);
	subscribe_mastodon(fixture, fixture->c);
	german = g_strdup_printf(
		"{\"@context\":\"https://www.w3.org/ns/activitystreams\",\"id\":\"%s/de/%s\","
		"\"type\":\"Create\",\"actor\":\"%s\",\"to\":[\"%s\"],\"object\":{\"id\":"
		"\"%s/notes/de/%s\",\"type\":\"Note\",\"attributedTo\":\"%s\","
		"\"contentMap\":{\"de\":\"Hallo\"},\"content\":\"Hallo\"},"
		"\"signature\":{\"type\":\"RsaSignature2017\"}}",
		alice,
		uuid,
		alice,
		PUBLIC,
		alice,
		uuid,
		alice);
	french = g_strdup_printf(
		"{\"@context\":\"https://www.w3.org/ns/activitystreams\",\"id\":\"%s/fr/%s\","
		"\"type\":\"Create\",\"actor\":\"%s\",\"to\":[\"%s\"],\"object\":{\"id\":"
		"\"%s/notes/fr/%s\",\"type\":\"Note\",\"attributedTo\":\"%s\","
		"\"contentMap\":{\"fr-FR\":\"Bonjour\"},\"content\":\"Bonjour\"},"
		"\"signature\":{\"type\":\"RsaSignature2017\"}}",
		alice,
		uuid,
		alice,
		PUBLIC,
		alice,
		uuid,
		alice);
	g_assert_cmpuint(
		relay_test_instance_post(fixture->a, fixture->inbox, "/users/alice", german, NULL),
		==,
		202);
	g_assert_cmpuint(
		relay_test_instance_post(fixture->a, fixture->inbox, "/users/alice", french, NULL),
		==,
		202);
	g_assert_true(relay_test_instance_wait_type(fixture->c, "Create", 1, 20000));
	relay_test_instance_wait_type(fixture->c, "Create", 2, 1000);
	g_assert_cmpuint(relay_test_instance_count_type(fixture->c, "Create"), ==, 1);
	g_assert_nonnull(g_strstr_len(
		g_bytes_get_data(relay_test_instance_find_type(fixture->c, "Create", 0)->body,
				 NULL),
		-1,
		"Bonjour"));
}

/* publish-only: the member posts, but receives nothing */
static void
test_direction_publish_only(InboxFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *c_actor = relay_test_instance_url(fixture->c, "/actor");
	g_autofree gchar *from_a = create_json(fixture->a, "from a", TRUE, NULL);
	g_autofree gchar *from_c = create_json(fixture->c, "from c", TRUE, NULL);

	subscribe_mastodon(fixture, fixture->a);
	subscribe_mastodon(fixture, fixture->c);
	fixture_set_direction(fixture, c_actor, RELAY_MEMBER_DIRECTION_PUBLISH_ONLY);

	g_assert_cmpuint(
		relay_test_instance_post(fixture->c, fixture->inbox, "/users/alice", from_c, NULL),
		==,
		202);
	g_assert_true(relay_test_instance_wait_type(fixture->a, "Create", 1, 20000));
	g_assert_cmpuint(
		relay_test_instance_post(fixture->a, fixture->inbox, "/users/alice", from_a, NULL),
		==,
		202);
	relay_test_instance_wait_type(fixture->c, "Create", 1, 1000);
	g_assert_cmpuint(relay_test_instance_count_type(fixture->c, "Create"), ==, 0);
}

/* a forged signature: D signs with its own key under A's keyId */
static void
test_forged_signature(InboxFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *note = create_json(fixture->a, "forged", TRUE, NULL);
	g_autofree gchar *key_id = relay_test_instance_url(fixture->a, "/users/alice#main-key");

	subscribe_mastodon(fixture, fixture->a);
	subscribe_mastodon(fixture, fixture->c);
	g_assert_cmpuint(
		relay_test_instance_post_forged(fixture->d, fixture->inbox, key_id, note), ==, 401);
	relay_test_instance_wait_type(fixture->c, "Create", 1, 1000);
	g_assert_cmpuint(relay_test_instance_count_type(fixture->c, "Create"), ==, 0);
}

/* GET /metrics: the Prometheus text format, strictly, and counters that follow what happened */
static void
test_metrics(InboxFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *note = create_json(fixture->a, "counted", TRUE, NULL);
	g_autofree gchar *forged = create_json(fixture->a, "forged", TRUE, NULL);
	g_autofree gchar *key_id = relay_test_instance_url(fixture->a, "/users/alice#main-key");
	g_autofree gchar *url = g_strdup_printf("%s/metrics", fixture->origin);
	g_autofree gchar *build_info =
		g_strdup_printf("relay_build_info{version=\"%s\"}", PACKAGE_VERSION);
	g_autoptr(SoupSession) session = soup_session_new();
	g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
	g_autoptr(SoupMessage) post = soup_message_new("POST", url);
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GHashTable) samples = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *text = NULL;
	gdouble done;

	subscribe_mastodon(fixture, fixture->a);
	subscribe_mastodon(fixture, fixture->c);
	g_assert_cmpuint(
		relay_test_instance_post(fixture->a, fixture->inbox, "/users/alice", note, NULL),
		==,
		202);
	g_assert_cmpuint(
		relay_test_instance_post_forged(fixture->d, fixture->inbox, key_id, forged),
		==,
		401);
	g_assert_true(relay_test_instance_wait_type(fixture->c, "Create", 1, 20000));
	/* the Accepts and the Create are settled once the sinks answered */
	g_assert_true(relay_test_instance_wait_idle(fixture->c, 20000));

	body = soup_session_send_and_read(session, msg, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(soup_message_get_status(msg), ==, 200);
	g_assert_cmpstr(
		soup_message_headers_get_content_type(soup_message_get_response_headers(msg), NULL),
		==,
		"text/plain");
	text = g_strndup(g_bytes_get_data(body, NULL), g_bytes_get_size(body));
	samples = relay_test_prometheus_parse(text, &error);
	if (samples == NULL)
		g_test_message("%s", text);
	g_assert_no_error(error);

	g_assert_cmpfloat(relay_test_prometheus_value(samples, build_info), ==, 1);
	g_assert_cmpfloat(
		relay_test_prometheus_value(samples,
					    "relay_inbox_requests_total{network=\"relay\",code="
					    "\"202\",outcome=\"accepted\"}"),
		==,
		3);
	g_assert_cmpfloat(
		relay_test_prometheus_value(samples,
					    "relay_inbox_requests_total{network=\"relay\",code="
					    "\"401\",outcome=\"refused\"}"),
		==,
		1);
	g_assert_cmpfloat(
		relay_test_prometheus_value(
			samples, "relay_signature_failures_total{reason=\"bad_signature\"}"),
		==,
		1);
	g_assert_cmpfloat(relay_test_prometheus_value(
				  samples, "relay_signature_failures_total{reason=\"stale_date\"}"),
			  ==,
			  0);
	g_assert_cmpfloat(relay_test_prometheus_value(
				  samples, "relay_members{network=\"relay\",state=\"accepted\"}"),
			  ==,
			  2);
	g_assert_cmpfloat(relay_test_prometheus_value(
				  samples, "relay_members{network=\"relay\",state=\"pending\"}"),
			  ==,
			  0);
	/* two Accepts and the Create */
	wait_until_metric(fixture, "relay_deliveries_total{outcome=\"done\"}", 3);
	wait_until_metric_at_most(fixture, "relay_queue_deliveries", 0);
	g_clear_pointer(&samples, g_hash_table_unref);
	samples = fetch_metrics(fixture);
	done = relay_test_prometheus_value(samples, "relay_deliveries_total{outcome=\"done\"}");
	g_assert_cmpfloat(done, ==, 3);
	g_assert_cmpfloat(
		relay_test_prometheus_value(samples, "relay_delivery_latency_seconds_count"),
		==,
		done);
	g_assert_cmpfloat(relay_test_prometheus_value(
				  samples, "relay_delivery_latency_seconds_bucket{le=\"+Inf\"}"),
			  ==,
			  done);
	g_assert_cmpfloat(relay_test_prometheus_value(samples, "relay_queue_deliveries"), ==, 0);
	g_assert_cmpfloat(
		relay_test_prometheus_value(samples, "relay_queue_oldest_age_seconds"), ==, 0);
	/* the forged POST found alice's key in memory, then fetched it again before refusing */
	g_assert_cmpfloat(relay_test_prometheus_value(
				  samples, "relay_key_cache_lookups_total{result=\"memory_hit\"}"),
			  >=,
			  1);
	g_assert_cmpfloat(relay_test_prometheus_value(
				  samples, "relay_key_cache_lookups_total{result=\"miss\"}"),
			  >=,
			  3);

	/* only GET */
	g_clear_pointer(&body, g_bytes_unref);
	body = soup_session_send_and_read(session, post, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(soup_message_get_status(post), ==, 405);
}

/* LitePub: a Reject of our follow-back ends the membership */
static void
test_follow_back_rejected(InboxFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *follow = follow_json(fixture->b, fixture->actor, NULL);
	g_autofree gchar *b_actor = relay_test_instance_url(fixture->b, "/actor");
	g_autofree gchar *reject = NULL;
	g_autofree gchar *follow_back = NULL;
	g_autoptr(RelayStore) store = NULL;
	g_autoptr(RelayMember) member = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_cmpuint(
		relay_test_instance_post(fixture->b, fixture->inbox, "/actor", follow, NULL),
		==,
		202);
	g_assert_true(relay_test_instance_wait_type(fixture->b, "Follow", 1, 20000));
	follow_back =
		json_to_string(relay_test_instance_find_type(fixture->b, "Follow", 0)->json, FALSE);
	reject = g_strdup_printf("{\"@context\":\"https://www.w3.org/ns/activitystreams\","
				 "\"id\":\"%s/rejects/1\",\"type\":\"Reject\",\"actor\":\"%s\","
				 "\"object\":%s}",
				 b_actor,
				 b_actor,
				 follow_back);
	g_assert_cmpuint(
		relay_test_instance_post(fixture->b, fixture->inbox, "/actor", reject, NULL),
		==,
		202);
	store = fixture_open_store(fixture);
	member = relay_store_member_get(store, "relay", b_actor, NULL, &error);
	g_assert_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND);
	relay_store_close(store);
}

/* one post to a network of 1,000 members on 4 hosts: the rate is reported, not asserted */
static void
test_fanout_rate(InboxFixture *fixture, gconstpointer user_data)
{
	g_autoptr(RelayStore) store = fixture_open_store(fixture);
	g_autoptr(GError) error = NULL;
	RelayTestInstance *hosts[] = {fixture->b, fixture->c, fixture->d};
	DistinctInboxes done[3];
	gint64 started;
	gdouble seconds;

	subscribe_mastodon(fixture, fixture->a);
	for (guint i = 0; i < 999; i++) {
		RelayTestInstance *host = hosts[i % 3];
		g_autofree gchar *path = g_strdup_printf("/users/m%u", i);
		g_autofree gchar *actor = relay_test_instance_url(host, path);
		g_autofree gchar *inbox = g_strdup_printf("%s/inbox", actor);
		g_autoptr(RelayMember) member = relay_member_new("relay", actor, inbox);
		member->state = RELAY_MEMBER_STATE_ACCEPTED;
		g_assert_true(relay_store_member_put(store, member, NULL, &error));
		g_assert_no_error(error);
	}
	relay_store_close(store);

	for (guint round = 0; round < 2; round++) {
		g_autofree gchar *note = create_json(fixture->a, "to many", TRUE, NULL);
		for (guint h = 0; h < 3; h++) {
			relay_test_instance_clear(hosts[h]);
			done[h].instance = hosts[h];
			done[h].expected = 333;
		}
		started = g_get_monotonic_time();
		g_assert_cmpuint(relay_test_instance_post(
					 fixture->a, fixture->inbox, "/users/alice", note, NULL),
				 ==,
				 202);
		for (guint h = 0; h < 3; h++)
			g_assert_true(relay_test_wait_until(
				NULL, distinct_inboxes_reached, &done[h], 120000));
		seconds = (gdouble)(g_get_monotonic_time() - started) / G_USEC_PER_SEC;
		g_test_message("fan-out %u: 999 signed deliveries in %.2f s: %.0f deliveries/s "
			       "(%u cores, receivers verifying every signature in this process)",
			       round,
			       seconds,
			       999 / seconds,
			       g_get_num_processors());
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func) g_test_add(path, InboxFixture, NULL, fixture_setup, func, fixture_teardown)
	ADD("/relay/inbox/subscribe-mastodon", test_subscribe_mastodon);
	ADD("/relay/inbox/subscribe-litepub", test_subscribe_litepub);
	ADD("/relay/inbox/forward-forms", test_forward_forms);
	ADD("/relay/inbox/litepub-publish", test_litepub_publish);
	ADD("/relay/inbox/refusals", test_refusals);
	ADD("/relay/inbox/unsubscribe", test_unsubscribe);
	ADD("/relay/inbox/blocked-domain", test_blocked_domain);
	ADD("/relay/inbox/shared-inbox", test_shared_inbox);
	ADD("/relay/inbox/direction", test_direction);
	ADD("/relay/inbox/sigkill-fanout", test_sigkill_fanout);
	ADD("/relay/inbox/unsubscribe-by-id", test_unsubscribe_by_id);
	ADD("/relay/inbox/delete-actor", test_delete_actor);
	ADD("/relay/inbox/delete-actor-gone", test_delete_actor_gone);
	ADD("/relay/inbox/object-origin", test_object_origin);
	ADD("/relay/inbox/direction-publish-only", test_direction_publish_only);
	ADD("/relay/inbox/forged-signature", test_forged_signature);
	ADD("/relay/inbox/metrics", test_metrics);
	ADD("/relay/inbox/follow-back-rejected", test_follow_back_rejected);
	ADD("/relay/inbox/fanout-rate", test_fanout_rate);
#undef ADD
	g_test_add("/relay/inbox/filter-language",
		   InboxFixture,
		   "[network relay]\nlanguages = fr, en\n",
		   fixture_setup,
		   test_filter_language,
		   fixture_teardown);
	g_test_add("/relay/inbox/join-closed",
		   InboxFixture,
		   "[network relay]\njoin = closed\n",
		   fixture_setup,
		   test_join_closed,
		   fixture_teardown);
	g_test_add("/relay/inbox/join-approval",
		   InboxFixture,
		   "[network relay]\njoin = approval\n",
		   fixture_setup,
		   test_join_approval,
		   fixture_teardown);
	g_test_add("/relay/inbox/filters",
		   InboxFixture,
		   "[network relay]\nhashtags = cats\ndeny-keywords = spam offers\n",
		   fixture_setup,
		   test_filters,
		   fixture_teardown);
	return g_test_run();
}
