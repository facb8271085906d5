/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * What the node tells about its members: the `relay` binary with fake instances on their own
 * loopback addresses, each serving NodeInfo. The relay reads each member's software when it
 * joins and again every nodeinfo-refresh seconds.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>

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
	text = g_strdup_printf("[relay]\npublic-url = %s\nlisten = 127.0.0.1:%u\n"
			       "[storage]\nbackend = sqlite\npath = relay.db\n"
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
	return g_test_run();
}
