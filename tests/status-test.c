/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * What the node tells about itself and its members: the `relay` binary with fake instances on
 * their own loopback addresses, each serving NodeInfo. The relay reads each member's software
 * when it joins and again every nodeinfo-refresh seconds, and shows its networks and accepted
 * members on the status page (GET /) and as JSON (GET /api/v1/networks). The browser case has
 * Debian's chromium render the page headless, as a visitor's browser would.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "relay-store.h"
#include "relay-test-instance.h"
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
	RelayTestInstance *a;
	RelayTestInstance *b;
	RelayTestInstance *c;
	RelayTestInstance *d;
} StatusFixture;

static gboolean
relay_answers(gpointer user_data)
{
	StatusFixture *fixture = user_data;
	g_autoptr(SoupSession) session = soup_session_new_with_options("timeout", 1, NULL);
	g_autofree gchar *url = g_strdup_printf("%s/healthz", fixture->origin);
	g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
	g_autoptr(GBytes) body = soup_session_send_and_read(session, msg, NULL, NULL);
	return body != NULL && soup_message_get_status(msg) == 200;
}

static void
fixture_start_relay(StatusFixture *fixture)
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
fixture_stop_relay(StatusFixture *fixture)
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
fixture_setup(StatusFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *text = NULL;

	fixture->dir = relay_test_mkdtemp();
	fixture->config_path = g_build_filename(fixture->dir, "relay.conf", NULL);
	fixture->port = relay_test_free_port();
	fixture->origin = g_strdup_printf("http://127.0.0.1:%u", fixture->port);
	fixture->inbox = g_strdup_printf("%s/inbox", fixture->origin);
	fixture->actor = g_strdup_printf("%s/actor", fixture->origin);
	text = g_strdup_printf(
		"[relay]\npublic-url = %s\nlisten = 127.0.0.1:%u\n"
		"[storage]\nbackend = sqlite\npath = relay.db\n[admin]\nsocket = admin.sock\n"
		"[federation]\nallow-private-addresses = true\n"
		"nodeinfo-refresh = 2\n"
		"[delivery]\nretry-base = 1\n%s",
		fixture->origin,
		fixture->port,
		user_data != NULL ? (const gchar *)user_data : "");
	g_file_set_contents(fixture->config_path, text, -1, &error);
	g_assert_no_error(error);
	fixture->a = relay_test_instance_new("127.0.0.2");
	fixture->b = relay_test_instance_new("127.0.0.3");
	fixture->c = relay_test_instance_new("127.0.0.4");
	fixture->d = relay_test_instance_new("127.0.0.5");
	fixture_start_relay(fixture);
}

static void
fixture_teardown(StatusFixture *fixture, gconstpointer user_data)
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

static RelayStore *
fixture_open_store(StatusFixture *fixture)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path = g_build_filename(fixture->dir, "relay.db", NULL);
	RelayStore *store = relay_store_new("sqlite", path, &error);
	g_assert_no_error(error);
	return store;
}

/* the member @instance's /actor of @network, as stored now */
static RelayMember *
fixture_member(StatusFixture *fixture, const gchar *network, RelayTestInstance *instance)
{
	g_autoptr(RelayStore) store = fixture_open_store(fixture);
	g_autofree gchar *actor = relay_test_instance_url(instance, "/actor");
	g_autoptr(GError) error = NULL;
	RelayMember *member = relay_store_member_get(store, network, actor, NULL, &error);

	g_assert_no_error(error);
	relay_store_close(store);
	return member;
}

/* a Follow as Mastodon (object Public) or Pleroma (object the network actor) sends it */
static gchar *
follow_json(RelayTestInstance *instance, const gchar *object)
{
	g_autofree gchar *uuid = g_uuid_string_random();
	g_autofree gchar *actor = relay_test_instance_url(instance, "/actor");

	return g_strdup_printf("{\"@context\":\"https://www.w3.org/ns/activitystreams\","
			       "\"id\":\"%s/activities/follow-relay/%s\",\"type\":\"Follow\","
			       "\"actor\":\"%s\",\"object\":\"%s\"}",
			       relay_test_instance_get_origin(instance),
			       uuid,
			       actor,
			       object);
}

/* subscribes @instance Mastodon-style to the inbox @inbox and waits for the Accept */
static void
subscribe_mastodon(RelayTestInstance *instance, const gchar *inbox)
{
	g_autofree gchar *follow = follow_json(instance, PUBLIC);
	guint accepts = relay_test_instance_count_type(instance, "Accept");

	g_assert_cmpuint(
		relay_test_instance_post(instance, inbox, "/actor", follow, NULL), ==, 202);
	g_assert_true(relay_test_instance_wait_type(instance, "Accept", accepts + 1, 20000));
}

/* subscribes @instance LitePub-style to the network @actor and accepts its follow-back */
static void
subscribe_litepub(RelayTestInstance *instance, const gchar *actor, const gchar *inbox)
{
	g_autofree gchar *follow = follow_json(instance, actor);

	relay_test_instance_set_auto_accept(instance, inbox);
	g_assert_cmpuint(
		relay_test_instance_post(instance, inbox, "/actor", follow, NULL), ==, 202);
	g_assert_true(relay_test_instance_wait_type(instance, "Follow", 1, 20000));
	g_assert_true(relay_test_instance_wait_idle(instance, 20000));
}

typedef struct {
	StatusFixture *fixture;
	const gchar *network;
	RelayTestInstance *instance;
	const gchar *software; /* NULL: only wait for a check */
	const gchar *version;  /* NULL: any */
	gint64 polled_us;
} SoftwareWait;

/* looks in storage at most every 100 ms: the instances must be served meanwhile */
static gboolean
member_software_is(gpointer user_data)
{
	SoftwareWait *wait = user_data;
	g_autoptr(RelayMember) member = NULL;

	if (g_get_monotonic_time() - wait->polled_us < 100000)
		return FALSE;
	wait->polled_us = g_get_monotonic_time();
	member = fixture_member(wait->fixture, wait->network, wait->instance);
	if (wait->software == NULL)
		return member->nodeinfo_checked_us != 0;
	return g_strcmp0(member->software_name, wait->software) == 0 &&
	       (wait->version == NULL || g_strcmp0(member->software_version, wait->version) == 0);
}

/* waits until the stored member shows @software @version (or, when NULL, has been checked) */
static gboolean
wait_member_software(StatusFixture *fixture,
		     const gchar *network,
		     RelayTestInstance *instance,
		     const gchar *software,
		     const gchar *version)
{
	SoftwareWait wait = {fixture, network, instance, software, version, 0};
	return relay_test_wait_until(NULL, member_software_is, &wait, 20000);
}

/* a member's software is read when it joins, both ways of joining, 2.0 and 2.1 documents */
static void
test_nodeinfo_on_join(StatusFixture *fixture, gconstpointer user_data)
{
	g_autoptr(RelayMember) a = NULL;
	g_autoptr(RelayMember) b = NULL;
	gint64 before = g_get_real_time();

	relay_test_instance_set_software(fixture->a, "mastodon", "4.2.1", "2.0");
	relay_test_instance_set_software(fixture->b, "akkoma", "3.10.4", "2.1");
	subscribe_mastodon(fixture->a, fixture->inbox);
	subscribe_litepub(fixture->b, fixture->actor, fixture->inbox);

	g_assert_true(wait_member_software(fixture, "relay", fixture->a, "mastodon", NULL));
	g_assert_true(wait_member_software(fixture, "relay", fixture->b, "akkoma", NULL));
	a = fixture_member(fixture, "relay", fixture->a);
	g_assert_cmpstr(a->software_version, ==, "4.2.1");
	g_assert_cmpint(a->nodeinfo_checked_us, >=, before);
	g_assert_cmpint(a->nodeinfo_checked_us, <=, g_get_real_time());
	b = fixture_member(fixture, "relay", fixture->b);
	g_assert_cmpstr(b->software_version, ==, "3.10.4");
	g_assert_cmpuint(
		relay_test_instance_count_gets(fixture->a, "/.well-known/nodeinfo"), >=, 1);
	g_assert_cmpuint(relay_test_instance_count_gets(fixture->a, "/nodeinfo/2.0"), >=, 1);
	g_assert_cmpuint(relay_test_instance_count_gets(fixture->b, "/nodeinfo/2.1"), >=, 1);
}

typedef struct {
	RelayTestInstance *instance;
	const gchar *path;
	guint count;
} GetWait;

static gboolean
instance_got(gpointer user_data)
{
	GetWait *wait = user_data;
	return relay_test_instance_count_gets(wait->instance, wait->path) >= wait->count;
}

static gboolean
wait_gets(RelayTestInstance *instance, const gchar *path, guint count, guint timeout_ms)
{
	GetWait wait = {instance, path, count};
	return relay_test_wait_until(NULL, instance_got, &wait, timeout_ms);
}

/* a failed check is logged and tried again at the next round (nodeinfo-refresh = 2 s) */
static void
test_nodeinfo_retry(StatusFixture *fixture, gconstpointer user_data)
{
	g_autoptr(RelayMember) member = NULL;
	gint64 failed_at;

	relay_test_instance_set_software(fixture->a, "misskey", "2024.11.0", "2.1");
	relay_test_instance_set_nodeinfo_status(fixture->a, 503);
	subscribe_mastodon(fixture->a, fixture->inbox);
	g_assert_true(wait_member_software(fixture, "relay", fixture->a, NULL, NULL));
	member = fixture_member(fixture, "relay", fixture->a);
	g_assert_null(member->software_name);
	g_assert_null(member->software_version);
	failed_at = member->nodeinfo_checked_us;
	g_clear_pointer(&member, relay_member_free);
	g_assert_cmpuint(relay_test_instance_count_gets(fixture->a, "/nodeinfo/2.1"), ==, 0);

	/* the relay lives on, and reads it once the member answers */
	relay_test_instance_set_nodeinfo_status(fixture->a, 0);
	g_assert_true(wait_member_software(fixture, "relay", fixture->a, "misskey", NULL));
	member = fixture_member(fixture, "relay", fixture->a);
	g_assert_cmpstr(member->software_version, ==, "2024.11.0");
	/* not before its round: the interval since the failed check has passed */
	g_assert_cmpint(member->nodeinfo_checked_us - failed_at, >=, 2 * G_USEC_PER_SEC);
	g_clear_pointer(&member, relay_member_free);
	g_assert_true(relay_answers(fixture));

	/* and again at every round, with what it says now */
	relay_test_instance_set_software(fixture->a, "misskey", "2025.1.0", "2.1");
	g_assert_true(wait_gets(fixture->a, "/nodeinfo/2.1", 2, 20000));
	g_assert_true(wait_member_software(fixture, "relay", fixture->a, "misskey", "2025.1.0"));
}

/* members accepted by other means (here: by hand in storage, as an admin approves) are found
 * by the next sweep */
static void
test_nodeinfo_sweep(StatusFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *guild_inbox = g_strdup_printf("%s/networks/guild/inbox", fixture->origin);
	g_autoptr(RelayStore) store = NULL;
	g_autoptr(RelayMember) member = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *follow = follow_json(fixture->c, PUBLIC);

	relay_test_instance_set_software(fixture->c, "gotosocial", "0.17.3", "2.0");
	g_assert_cmpuint(
		relay_test_instance_post(fixture->c, guild_inbox, "/actor", follow, NULL), ==, 202);
	member = fixture_member(fixture, "guild", fixture->c);
	g_assert_cmpint(member->state, ==, RELAY_MEMBER_STATE_PENDING);

	/* pending: never checked, whatever the rounds */
	g_assert_false(wait_gets(fixture->c, "/.well-known/nodeinfo", 1, 3000));

	store = fixture_open_store(fixture);
	member->state = RELAY_MEMBER_STATE_ACCEPTED;
	g_assert_true(relay_store_member_put(store, member, NULL, &error));
	g_assert_no_error(error);
	relay_store_close(store);
	g_assert_true(wait_member_software(fixture, "guild", fixture->c, "gotosocial", "0.17.3"));
	g_clear_pointer(&member, relay_member_free);
	member = fixture_member(fixture, "guild", fixture->c);
	g_assert_cmpstr(member->software_version, ==, "0.17.3");
}

/* ---- the status page and the JSON ---------------------------------------------------------- */

/* a network whose configured text is hostile, and one that needs approval */
#define PAGE_CONFIG                                                                                \
	"[network relay]\n"                                                                        \
	"title = Town <script>alert(1)</script> & co\n"                                            \
	"summary = Neighbours \"linked\" up\n"                                                     \
	"rules = Be kind\\, always, No <b>spam</b>\n"                                              \
	"contact = admin@town.example\n"                                                           \
	"[network guild]\n"                                                                        \
	"title = Guild of Bakers\n"                                                                \
	"join = approval\n"

typedef struct {
	guint status;
	gchar *content_type;
	gchar *body;
	gsize length;
} HttpAnswer;

static void
http_answer_clear(HttpAnswer *answer)
{
	g_clear_pointer(&answer->content_type, g_free);
	g_clear_pointer(&answer->body, g_free);
}

typedef struct {
	GBytes *body;
	gboolean done;
} HttpWait;

static void
http_sent_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	HttpWait *wait = user_data;
	wait->body = soup_session_send_and_read_finish(SOUP_SESSION(source), res, NULL);
	wait->done = TRUE;
}

static gboolean
http_done(gpointer user_data)
{
	return ((HttpWait *)user_data)->done;
}

/* @method @path of the relay, without blocking the loop the instances are served by */
static void
fixture_http(StatusFixture *fixture, const gchar *method, const gchar *path, HttpAnswer *answer)
{
	g_autoptr(SoupSession) session = soup_session_new_with_options("timeout", 20, NULL);
	g_autofree gchar *url = g_strdup_printf("%s%s", fixture->origin, path);
	g_autoptr(SoupMessage) msg = soup_message_new(method, url);
	HttpWait wait = {NULL, FALSE};

	if (g_str_equal(method, "POST")) {
		g_autoptr(GBytes) body = g_bytes_new_static("x", 1);
		soup_message_set_request_body_from_bytes(msg, "text/plain", body);
	}
	soup_session_send_and_read_async(
		session, msg, G_PRIORITY_DEFAULT, NULL, http_sent_cb, &wait);
	g_assert_true(relay_test_wait_until(NULL, http_done, &wait, 30000));
	g_assert_nonnull(wait.body);
	answer->status = soup_message_get_status(msg);
	answer->content_type = g_strdup(soup_message_headers_get_one(
		soup_message_get_response_headers(msg), "Content-Type"));
	answer->body = g_strndup(g_bytes_get_data(wait.body, NULL), g_bytes_get_size(wait.body));
	answer->length = g_bytes_get_size(wait.body);
	g_bytes_unref(wait.body);
}

static JsonNode *
fixture_api(StatusFixture *fixture)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	HttpAnswer answer = {0};

	fixture_http(fixture, "GET", "/api/v1/networks", &answer);
	g_assert_cmpuint(answer.status, ==, 200);
	g_assert_cmpstr(answer.content_type, ==, "application/json; charset=utf-8");
	json_parser_load_from_data(parser, answer.body, -1, &error);
	g_assert_no_error(error);
	http_answer_clear(&answer);
	return json_node_ref(json_parser_get_root(parser));
}

static JsonObject *
api_network(JsonNode *api, const gchar *name)
{
	JsonArray *networks = json_object_get_array_member(json_node_get_object(api), "networks");
	for (guint i = 0; i < json_array_get_length(networks); i++) {
		JsonObject *network = json_array_get_object_element(networks, i);
		if (g_strcmp0(json_object_get_string_member(network, "name"), name) == 0)
			return network;
	}
	return NULL;
}

static JsonObject *
api_member(JsonNode *api, const gchar *network, RelayTestInstance *instance)
{
	JsonObject *object = api_network(api, network);
	JsonArray *members =
		object != NULL ? json_object_get_array_member(object, "members") : NULL;
	for (guint i = 0; members != NULL && i < json_array_get_length(members); i++) {
		JsonObject *member = json_array_get_object_element(members, i);
		if (g_strcmp0(json_object_get_string_member(member, "domain"),
			      relay_test_instance_get_host(instance)) == 0)
			return member;
	}
	return NULL;
}

typedef struct {
	StatusFixture *fixture;
	const gchar *network;
	RelayTestInstance *instance;
	const gchar *member;   /* a member of the member, or of its "delivery" when prefixed */
	const gchar *expected; /* its string value */
	gint64 polled_us;
} ApiWait;

static gboolean
api_shows(gpointer user_data)
{
	ApiWait *wait = user_data;
	g_autoptr(JsonNode) api = NULL;
	JsonObject *member;
	const gchar *name = wait->member;

	if (g_get_monotonic_time() - wait->polled_us < 100000)
		return FALSE;
	wait->polled_us = g_get_monotonic_time();
	api = fixture_api(wait->fixture);
	member = api_member(api, wait->network, wait->instance);
	if (member == NULL)
		return FALSE;
	if (g_str_has_prefix(name, "delivery.")) {
		member = json_object_get_object_member(member, "delivery");
		name += strlen("delivery.");
	}
	return g_strcmp0(json_object_get_string_member_with_default(member, name, NULL),
			 wait->expected) == 0;
}

/* waits until the JSON shows @member = @expected for @instance in @network */
static gboolean
wait_api(StatusFixture *fixture,
	 const gchar *network,
	 RelayTestInstance *instance,
	 const gchar *member,
	 const gchar *expected)
{
	ApiWait wait = {fixture, network, instance, member, expected, 0};
	return relay_test_wait_until(NULL, api_shows, &wait, 20000);
}

/* four instances: A (Mastodon) and B (Akkoma, LitePub) join the open network; C waits for
 * approval in the guild; D is approved by hand, and its NodeInfo version is hostile */
static void
fixture_populate(StatusFixture *fixture)
{
	g_autofree gchar *guild_inbox = g_strdup_printf("%s/networks/guild/inbox", fixture->origin);
	g_autofree gchar *follow_c = follow_json(fixture->c, PUBLIC);
	g_autofree gchar *follow_d = follow_json(fixture->d, PUBLIC);
	g_autoptr(RelayMember) d = NULL;
	g_autoptr(RelayStore) store = NULL;
	g_autoptr(GError) error = NULL;

	relay_test_instance_set_software(fixture->a, "mastodon", "4.2.1", "2.0");
	relay_test_instance_set_software(fixture->b, "akkoma", "3.10.4", "2.1");
	relay_test_instance_set_software(fixture->c, "misskey", "2024.11.0", "2.1");
	relay_test_instance_set_software(
		fixture->d, "gotosocial", "0.17 <script>x</script>", "2.1");
	subscribe_mastodon(fixture->a, fixture->inbox);
	subscribe_litepub(fixture->b, fixture->actor, fixture->inbox);
	g_assert_cmpuint(
		relay_test_instance_post(fixture->c, guild_inbox, "/actor", follow_c, NULL),
		==,
		202);
	g_assert_cmpuint(
		relay_test_instance_post(fixture->d, guild_inbox, "/actor", follow_d, NULL),
		==,
		202);
	d = fixture_member(fixture, "guild", fixture->d);
	d->state = RELAY_MEMBER_STATE_ACCEPTED;
	store = fixture_open_store(fixture);
	g_assert_true(relay_store_member_put(store, d, NULL, &error));
	g_assert_no_error(error);
	relay_store_close(store);

	g_assert_true(wait_api(fixture, "relay", fixture->a, "software", "mastodon"));
	g_assert_true(wait_api(fixture, "relay", fixture->b, "software", "akkoma"));
	g_assert_true(wait_api(fixture, "guild", fixture->d, "software", "gotosocial"));
}

static gchar *
string_of(JsonObject *object, const gchar *member)
{
	return g_strdup(json_object_get_string_member_with_default(object, member, NULL));
}

static void
test_status_api(StatusFixture *fixture, gconstpointer user_data)
{
	g_autoptr(JsonNode) api = NULL;
	g_autofree gchar *guild_actor = g_strdup_printf("%s/networks/guild", fixture->origin);
	g_autofree gchar *guild_inbox = g_strdup_printf("%s/inbox", guild_actor);
	JsonObject *root;
	JsonObject *relay;
	JsonObject *guild;
	JsonObject *member;
	JsonArray *rules;
	HttpAnswer answer = {0};

	fixture_populate(fixture);
	api = fixture_api(fixture);
	root = json_node_get_object(api);
	g_assert_cmpstr(json_object_get_string_member(root, "url"), ==, fixture->origin);
	g_assert_cmpstr(json_object_get_string_member(
				json_object_get_object_member(root, "software"), "name"),
			==,
			"relay");
	g_assert_cmpstr(json_object_get_string_member(
				json_object_get_object_member(root, "software"), "version"),
			==,
			PACKAGE_VERSION);
	g_assert_cmpint(json_object_get_int_member(json_object_get_object_member(root, "totals"),
						   "networks"),
			==,
			2);
	g_assert_cmpint(json_object_get_int_member(json_object_get_object_member(root, "totals"),
						   "members"),
			==,
			3);
	g_assert_true(json_object_has_member(json_object_get_object_member(root, "totals"),
					     "deliveries_queued"));

	/* the default network first, its text as configured (JSON needs no escaping of HTML) */
	relay = json_array_get_object_element(json_object_get_array_member(root, "networks"), 0);
	g_assert_cmpstr(json_object_get_string_member(relay, "name"), ==, "relay");
	g_assert_cmpstr(json_object_get_string_member(relay, "title"),
			==,
			"Town <script>alert(1)</script> & co");
	g_assert_cmpstr(
		json_object_get_string_member(relay, "summary"), ==, "Neighbours \"linked\" up");
	rules = json_object_get_array_member(relay, "rules");
	g_assert_cmpuint(json_array_get_length(rules), ==, 2);
	g_assert_cmpstr(json_array_get_string_element(rules, 0), ==, "Be kind, always");
	g_assert_cmpstr(json_array_get_string_element(rules, 1), ==, "No <b>spam</b>");
	g_assert_cmpstr(json_object_get_string_member(relay, "contact"), ==, "admin@town.example");
	g_assert_cmpstr(json_object_get_string_member(relay, "join"), ==, "open");
	g_assert_cmpstr(json_object_get_string_member(relay, "actor"), ==, fixture->actor);
	g_assert_cmpstr(json_object_get_string_member(relay, "inbox"), ==, fixture->inbox);
	g_assert_cmpint(json_object_get_int_member(relay, "member_count"), ==, 2);
	member = api_member(api, "relay", fixture->a);
	g_assert_nonnull(member);
	g_assert_cmpstr(json_object_get_string_member(member, "software"), ==, "mastodon");
	g_assert_cmpstr(json_object_get_string_member(member, "version"), ==, "4.2.1");
	{
		g_autofree gchar *since = string_of(member, "since");
		g_autofree gchar *last_seen = string_of(member, "last_seen");
		g_autoptr(GDateTime) parsed = g_date_time_new_from_iso8601(since, NULL);
		g_assert_nonnull(parsed);
		g_assert_true(g_str_has_suffix(since, "Z"));
		g_assert_nonnull(last_seen);
		g_assert_cmpint(
			g_date_time_to_unix(parsed), <=, g_get_real_time() / G_USEC_PER_SEC);
		g_assert_cmpint(
			g_date_time_to_unix(parsed), >=, g_get_real_time() / G_USEC_PER_SEC - 600);
	}
	g_assert_cmpstr(json_object_get_string_member(
				json_object_get_object_member(member, "delivery"), "state"),
			==,
			"ok");
	member = api_member(api, "relay", fixture->b);
	g_assert_nonnull(member);
	g_assert_cmpstr(json_object_get_string_member(member, "version"), ==, "3.10.4");

	/* the approval network: its pending member is nowhere, its accepted one is there */
	guild = api_network(api, "guild");
	g_assert_nonnull(guild);
	g_assert_cmpstr(json_object_get_string_member(guild, "title"), ==, "Guild of Bakers");
	g_assert_cmpstr(json_object_get_string_member(guild, "join"), ==, "approval");
	g_assert_true(json_object_get_null_member(guild, "contact"));
	g_assert_cmpuint(
		json_array_get_length(json_object_get_array_member(guild, "rules")), ==, 0);
	g_assert_cmpstr(json_object_get_string_member(guild, "actor"), ==, guild_actor);
	g_assert_cmpstr(json_object_get_string_member(guild, "inbox"), ==, guild_inbox);
	g_assert_cmpint(json_object_get_int_member(guild, "member_count"), ==, 1);
	g_assert_null(api_member(api, "guild", fixture->c));
	member = api_member(api, "guild", fixture->d);
	g_assert_nonnull(member);
	g_assert_cmpstr(
		json_object_get_string_member(member, "version"), ==, "0.17 <script>x</script>");

	/* HEAD answers the headers only; other methods are refused */
	fixture_http(fixture, "HEAD", "/api/v1/networks", &answer);
	g_assert_cmpuint(answer.status, ==, 200);
	g_assert_cmpstr(answer.content_type, ==, "application/json; charset=utf-8");
	g_assert_cmpuint(answer.length, ==, 0);
	http_answer_clear(&answer);
	fixture_http(fixture, "POST", "/api/v1/networks", &answer);
	g_assert_cmpuint(answer.status, ==, 405);
	http_answer_clear(&answer);
	fixture_http(fixture, "GET", "/api/v1/networks/relay", &answer);
	g_assert_cmpuint(answer.status, ==, 404);
	http_answer_clear(&answer);
}

static void
assert_lacks(const gchar *haystack, const gchar *needle)
{
	if (strstr(haystack, needle) != NULL)
		g_error("the page has '%s'", needle);
}

/* what every rendering of the populated page must show, and must not */
static void
assert_page_content(StatusFixture *fixture, const gchar *page)
{
	g_autofree gchar *guild_actor = g_strdup_printf("%s/networks/guild", fixture->origin);
	g_autofree gchar *guild_inbox = g_strdup_printf("%s/inbox", guild_actor);
	g_autofree gchar *pleroma = g_strdup_printf("pleroma_ctl relay follow %s", fixture->actor);
	g_autofree gchar *friendica = g_strdup_printf("bin/console relay add %s", fixture->actor);
	g_autofree gchar *guild_friendica =
		g_strdup_printf("bin/console relay add %s", guild_actor);
	g_autofree gchar *inbox_code = g_strdup_printf("<code>%s</code>", fixture->inbox);
	g_autofree gchar *guild_inbox_code = g_strdup_printf("<code>%s</code>", guild_inbox);
	g_autofree gchar *actor_code = g_strdup_printf("<code>%s</code>", fixture->actor);

	/* the node, the networks and their text, escaped */
	relay_test_assert_contains(page, fixture->origin);
	relay_test_assert_contains(page, "Town &lt;script&gt;alert(1)&lt;/script&gt; &amp; co");
	relay_test_assert_contains(page, "Guild of Bakers");
	relay_test_assert_contains(page, "No &lt;b&gt;spam&lt;/b&gt;");
	relay_test_assert_contains(page, "Be kind, always");
	relay_test_assert_contains(page, "admin@town.example");
	relay_test_assert_contains(page, "approval");
	/* the members, their software; the pending one is not there */
	relay_test_assert_contains(page, relay_test_instance_get_host(fixture->a));
	relay_test_assert_contains(page, relay_test_instance_get_host(fixture->b));
	relay_test_assert_contains(page, relay_test_instance_get_host(fixture->d));
	assert_lacks(page, relay_test_instance_get_host(fixture->c));
	assert_lacks(page, "misskey 2024");
	relay_test_assert_contains(page, "mastodon 4.2.1");
	relay_test_assert_contains(page, "akkoma 3.10.4");
	relay_test_assert_contains(page, "gotosocial 0.17 &lt;script&gt;x&lt;/script&gt;");
	/* how to join, from each family of servers */
	relay_test_assert_contains(page, inbox_code);
	relay_test_assert_contains(page, guild_inbox_code);
	relay_test_assert_contains(page, actor_code);
	relay_test_assert_contains(page, pleroma);
	relay_test_assert_contains(page, friendica);
	relay_test_assert_contains(page, guild_friendica);
	relay_test_assert_contains(page, "Mastodon");
	relay_test_assert_contains(page, "Misskey");
	relay_test_assert_contains(page, "Akkoma");
	relay_test_assert_contains(page, "GoToSocial");
	/* nothing hostile became markup: there is no script at all */
	assert_lacks(page, "<script");
	assert_lacks(page, "<b>spam");
}

static void
test_status_page(StatusFixture *fixture, gconstpointer user_data)
{
	HttpAnswer answer = {0};
	HttpAnswer head = {0};

	fixture_populate(fixture);
	fixture_http(fixture, "GET", "/", &answer);
	g_assert_cmpuint(answer.status, ==, 200);
	g_assert_cmpstr(answer.content_type, ==, "text/html; charset=utf-8");
	g_assert_true(g_utf8_validate(answer.body, (gssize)answer.length, NULL));
	g_assert_true(g_str_has_prefix(answer.body, "<!DOCTYPE html>"));
	relay_test_assert_contains(answer.body, "<meta name=\"viewport\"");
	relay_test_assert_contains(answer.body, "<style>");
	assert_page_content(fixture, answer.body);
	relay_test_assert_contains(answer.body, "<a href=\"mailto:admin@town.example\">");
	if (g_test_verbose())
		g_test_message("%s", answer.body);

	/* HEAD: the same headers, no body */
	fixture_http(fixture, "HEAD", "/", &head);
	g_assert_cmpuint(head.status, ==, 200);
	g_assert_cmpstr(head.content_type, ==, "text/html; charset=utf-8");
	g_assert_cmpuint(head.length, ==, 0);
	http_answer_clear(&head);
	http_answer_clear(&answer);

	/* "/" is no catch-all */
	fixture_http(fixture, "GET", "/nothing/here", &answer);
	g_assert_cmpuint(answer.status, ==, 404);
	http_answer_clear(&answer);
	fixture_http(fixture, "POST", "/", &answer);
	g_assert_cmpuint(answer.status, ==, 405);
	http_answer_clear(&answer);
}

/* a member whose server fails shows as failing, with its deliveries queued */
static void
test_status_health(StatusFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *note =
		relay_test_instance_note_json(fixture->a, "is anyone there?", TRUE);
	g_autoptr(JsonNode) api = NULL;
	JsonObject *delivery;

	subscribe_mastodon(fixture->a, fixture->inbox);
	subscribe_mastodon(fixture->b, fixture->inbox);
	relay_test_instance_set_status(fixture->b, 503);
	g_assert_cmpuint(
		relay_test_instance_post(fixture->a, fixture->inbox, "/users/alice", note, NULL),
		==,
		202);
	g_assert_true(relay_test_instance_wait_type(fixture->b, "Create", 1, 20000));
	g_assert_true(wait_api(fixture, "relay", fixture->b, "delivery.state", "failing"));
	api = fixture_api(fixture);
	delivery = json_object_get_object_member(api_member(api, "relay", fixture->b), "delivery");
	g_assert_cmpint(json_object_get_int_member(delivery, "queued"), >=, 1);
	g_assert_false(json_object_get_null_member(delivery, "failing_since"));
	delivery = json_object_get_object_member(api_member(api, "relay", fixture->a), "delivery");
	g_assert_cmpstr(json_object_get_string_member(delivery, "state"), ==, "ok");
	g_assert_cmpint(json_object_get_int_member(delivery, "queued"), ==, 0);
	g_assert_cmpint(json_object_get_int_member(
				json_object_get_object_member(json_node_get_object(api), "totals"),
				"deliveries_queued"),
			>=,
			1);

	/* and recovers */
	relay_test_instance_set_status(fixture->b, 0);
	g_assert_true(wait_api(fixture, "relay", fixture->b, "delivery.state", "ok"));
}

/* ---- in a browser --------------------------------------------------------------------------- */

#define CHROMIUM_TIMEOUT_S 120

typedef struct {
	gchar *stdout_text;
	gchar *stderr_text;
	gboolean done;
	gboolean timed_out;
	GError *error;
} ChromiumRun;

static void
chromium_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	ChromiumRun *run = user_data;
	g_subprocess_communicate_utf8_finish(
		G_SUBPROCESS(source), res, &run->stdout_text, &run->stderr_text, &run->error);
	run->done = TRUE;
}

static gboolean
chromium_finished(gpointer user_data)
{
	return ((ChromiumRun *)user_data)->done;
}

/*
 * Runs Debian's chromium headless on @url with @extra (NULL-terminated), a profile of its own
 * and nothing that would reach beyond loopback; returns its standard output. Fails clearly
 * when it does not end in time (slow under load or sanitizers).
 */
static gchar *
run_chromium(const gchar *chromium,
	     const gchar *profile,
	     const gchar *const *extra,
	     const gchar *url)
{
	g_autofree gchar *user_data_dir = g_strdup_printf("--user-data-dir=%s", profile);
	const gchar *fixed[] = {chromium,
				"--headless=new",
				"--no-sandbox",
				"--disable-gpu",
				"--disable-dev-shm-usage",
				"--disable-background-networking",
				"--disable-component-update",
				"--disable-default-apps",
				"--disable-extensions",
				"--disable-sync",
				"--disable-breakpad",
				"--disable-features=Translate,MediaRouter,OptimizationHints",
				"--no-first-run",
				"--no-default-browser-check",
				"--no-pings",
				"--no-proxy-server",
				"--dns-prefetch-disable",
				"--hide-scrollbars",
				"--force-device-scale-factor=1",
				"--timeout=15000",
				user_data_dir};
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autofree gchar *shown = NULL;
	static const gchar *const unset[] = {"G_DEBUG",
					     "G_SLICE",
					     "MALLOC_PERTURB_",
					     "ASAN_OPTIONS",
					     "LSAN_OPTIONS",
					     "UBSAN_OPTIONS"};
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GSubprocess) process = NULL;
	g_autoptr(GError) error = NULL;
	ChromiumRun run = {0};

	for (guint i = 0; i < G_N_ELEMENTS(fixed); i++)
		g_ptr_array_add(argv, (gpointer)fixed[i]);
	for (guint i = 0; extra[i] != NULL; i++)
		g_ptr_array_add(argv, (gpointer)extra[i]);
	g_ptr_array_add(argv, (gpointer)url);
	g_ptr_array_add(argv, NULL);
	shown = g_strjoinv(" ", (gchar **)extra);

	/* chromium uses GLib too: the tests' G_DEBUG=fatal-criticals would make a critical of its
	 * own (no GSettings schemas here) kill it, and the sanitizers' settings are not for it */
	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE |
					     G_SUBPROCESS_FLAGS_STDERR_PIPE);
	for (guint i = 0; i < G_N_ELEMENTS(unset); i++)
		g_subprocess_launcher_unsetenv(launcher, unset[i]);
	process = relay_test_spawn_with(launcher, (const gchar *const *)argv->pdata, &error);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8_async(process, NULL, NULL, chromium_done_cb, &run);
	if (!relay_test_wait_until(NULL, chromium_finished, &run, CHROMIUM_TIMEOUT_S * 1000)) {
		g_subprocess_force_exit(process);
		relay_test_wait_until(NULL, chromium_finished, &run, 5000);
		g_error("chromium %s did not finish within %u s: the machine is too slow, or "
			"chromium hangs",
			shown,
			CHROMIUM_TIMEOUT_S);
	}
	g_assert_no_error(run.error);
	if (!g_subprocess_get_if_exited(process) || g_subprocess_get_exit_status(process) != 0)
		g_error("chromium %s failed:\n%s", shown, run.stderr_text);
	if (g_test_verbose())
		g_test_message("chromium %s said:\n%s", shown, run.stderr_text);
	g_free(run.stderr_text);
	return run.stdout_text;
}

/* a PNG of @width x @height pixels, and more than a blank page */
static void
assert_png(const gchar *path, guint32 width, guint32 height)
{
	static const guchar signature[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	g_autofree gchar *contents = NULL;
	g_autoptr(GError) error = NULL;
	const guchar *bytes;
	gsize length = 0;
	guint32 png_width;
	guint32 png_height;

	g_file_get_contents(path, &contents, &length, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(length, >, 24);
	bytes = (const guchar *)contents;
	g_assert_cmpmem(bytes, sizeof(signature), signature, sizeof(signature));
	g_assert_cmpmem(bytes + 12, 4, "IHDR", 4);
	png_width = (guint32)bytes[16] << 24 | (guint32)bytes[17] << 16 | (guint32)bytes[18] << 8 |
		    bytes[19];
	png_height = (guint32)bytes[20] << 24 | (guint32)bytes[21] << 16 | (guint32)bytes[22] << 8 |
		     bytes[23];
	g_test_message(
		"%s: %u x %u, %" G_GSIZE_FORMAT " bytes", path, png_width, png_height, length);
	g_assert_cmpuint(png_width, ==, width);
	g_assert_cmpuint(png_height, ==, height);
	/* a page of text, tables and colours compresses to well over this; a blank one does not */
	g_assert_cmpuint(length, >, 20000);
}

static void
test_status_browser(StatusFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *chromium = g_find_program_in_path("chromium");
	g_autofree gchar *profile = NULL;
	g_autofree gchar *url = NULL;
	g_autofree gchar *dom = NULL;
	const gchar *build_dir = g_getenv("G_TEST_BUILDDIR");
	const gchar *dump[] = {"--dump-dom", NULL};
	const struct {
		const gchar *name;
		guint width;
		guint height;
	} shots[] = {
		{"status-page-phone.png", 412, 915},
		/* the whole page on a phone, to review the members' cards */
		{"status-page-phone-long.png", 412, 2400},
		{"status-page-desktop.png", 1280, 1000},
	};

	if (chromium == NULL) {
		g_test_skip("chromium is not installed (contrib/install-deps.sh test installs it)");
		return;
	}
	fixture_populate(fixture);
	profile = g_build_filename(fixture->dir, "chromium-profile", NULL);
	url = g_strdup_printf("%s/", fixture->origin);

	/* the DOM as the browser built it lists the members, their software and how to join */
	dom = run_chromium(chromium, profile, dump, url);
	assert_page_content(fixture, dom);
	relay_test_assert_contains(dom, "<table class=\"members\">");

	/* a phone-sized and a desktop-sized screenshot, kept in the build directory for review */
	for (guint i = 0; i < G_N_ELEMENTS(shots); i++) {
		g_autofree gchar *path = g_build_filename(
			build_dir != NULL ? build_dir : fixture->dir, shots[i].name, NULL);
		g_autofree gchar *screenshot = g_strdup_printf("--screenshot=%s", path);
		g_autofree gchar *size =
			g_strdup_printf("--window-size=%u,%u", shots[i].width, shots[i].height);
		const gchar *extra[] = {screenshot, size, NULL};

		g_unlink(path);
		g_free(run_chromium(chromium, profile, extra, url));
		assert_png(path, shots[i].width, shots[i].height);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add("/relay/status/nodeinfo-on-join",
		   StatusFixture,
		   NULL,
		   fixture_setup,
		   test_nodeinfo_on_join,
		   fixture_teardown);
	g_test_add("/relay/status/nodeinfo-retry",
		   StatusFixture,
		   NULL,
		   fixture_setup,
		   test_nodeinfo_retry,
		   fixture_teardown);
	g_test_add("/relay/status/nodeinfo-sweep",
		   StatusFixture,
		   "[network guild]\njoin = approval\n",
		   fixture_setup,
		   test_nodeinfo_sweep,
		   fixture_teardown);
	g_test_add("/relay/status/api",
		   StatusFixture,
		   PAGE_CONFIG,
		   fixture_setup,
		   test_status_api,
		   fixture_teardown);
	g_test_add("/relay/status/page",
		   StatusFixture,
		   PAGE_CONFIG,
		   fixture_setup,
		   test_status_page,
		   fixture_teardown);
	g_test_add("/relay/status/health",
		   StatusFixture,
		   NULL,
		   fixture_setup,
		   test_status_health,
		   fixture_teardown);
	g_test_add("/relay/status/browser",
		   StatusFixture,
		   PAGE_CONFIG,
		   fixture_setup,
		   test_status_browser,
		   fixture_teardown);
	return g_test_run();
}
