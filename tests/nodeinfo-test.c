/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * RelayNodeinfoRefresher in this process, against fake instances on loopback: the public
 * refresh_member API that policies on software will use, its signal, what is stored, failures
 * and the SSRF guard.
 */

#include "config.h"

#include "relay-fed-error.h"
#include "relay-nodeinfo-refresher.h"
#include "relay-test-instance.h"
#include "relay-test-utils.h"

typedef struct {
	RelayStore *store;
	RelayFetcher *fetcher;
	RelayNodeinfoRefresher *refresher;
	RelayTestInstance *a;
	RelayTestInstance *b;
	GPtrArray *signals; /* (element-type utf8): "domain name version" per signal */
} NodeinfoFixture;

static void
software_checked_cb(RelayNodeinfoRefresher *refresher,
		    const gchar *domain,
		    const gchar *name,
		    const gchar *version,
		    gpointer user_data)
{
	NodeinfoFixture *fixture = user_data;
	g_ptr_array_add(fixture->signals,
			g_strdup_printf("%s %s %s",
					domain,
					name != NULL ? name : "(null)",
					version != NULL ? version : "(null)"));
}

static void
fixture_put_member(NodeinfoFixture *fixture, const gchar *network, RelayTestInstance *instance)
{
	g_autofree gchar *actor = relay_test_instance_url(instance, "/actor");
	g_autofree gchar *inbox = relay_test_instance_url(instance, "/inbox");
	g_autoptr(RelayMember) member = relay_member_new(network, actor, inbox);
	g_autoptr(GError) error = NULL;

	member->state = RELAY_MEMBER_STATE_ACCEPTED;
	g_assert_true(relay_store_member_put(fixture->store, member, NULL, &error));
	g_assert_no_error(error);
}

static void
fixture_setup(NodeinfoFixture *fixture, gconstpointer user_data)
{
	gboolean allow_private = GPOINTER_TO_INT(user_data) == 0;
	g_autoptr(GError) error = NULL;
	RelayFetcherOptions options;

	fixture->store = relay_store_new("memory", NULL, &error);
	g_assert_no_error(error);
	relay_fetcher_options_init(&options);
	options.allow_private_addresses = allow_private;
	options.timeout_s = 5;
	fixture->fetcher = relay_fetcher_new(&options, &error);
	g_assert_no_error(error);
	fixture->refresher = relay_nodeinfo_refresher_new(fixture->store, fixture->fetcher, 86400);
	fixture->signals = g_ptr_array_new_with_free_func(g_free);
	g_signal_connect(
		fixture->refresher, "software-checked", G_CALLBACK(software_checked_cb), fixture);
	fixture->a = relay_test_instance_new("127.0.0.2");
	fixture->b = relay_test_instance_new("127.0.0.3");
	fixture_put_member(fixture, "relay", fixture->a);
	fixture_put_member(fixture, "guild", fixture->a);
	fixture_put_member(fixture, "relay", fixture->b);
}

static void
fixture_teardown(NodeinfoFixture *fixture, gconstpointer user_data)
{
	relay_nodeinfo_refresher_stop(fixture->refresher);
	g_assert_finalize_object(g_steal_pointer(&fixture->refresher));
	g_clear_object(&fixture->fetcher);
	relay_store_close(fixture->store);
	g_assert_finalize_object(g_steal_pointer(&fixture->store));
	g_clear_pointer(&fixture->a, relay_test_instance_free);
	g_clear_pointer(&fixture->b, relay_test_instance_free);
	g_ptr_array_unref(fixture->signals);
}

typedef struct {
	gboolean done;
	gboolean ok;
	gchar *name;
	gchar *version;
	GError *error;
} RefreshResult;

static void
refresh_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	RefreshResult *result = user_data;
	result->ok =
		relay_nodeinfo_refresher_refresh_member_finish(RELAY_NODEINFO_REFRESHER(source),
							       res,
							       &result->name,
							       &result->version,
							       &result->error);
	result->done = TRUE;
}

static gboolean
refresh_done(gpointer user_data)
{
	return ((RefreshResult *)user_data)->done;
}

static void
refresh_result_clear(RefreshResult *result)
{
	g_clear_pointer(&result->name, g_free);
	g_clear_pointer(&result->version, g_free);
	g_clear_error(&result->error);
	result->done = FALSE;
	result->ok = FALSE;
}

static void
refresh(NodeinfoFixture *fixture, const gchar *actor, RefreshResult *result)
{
	relay_nodeinfo_refresher_refresh_member_async(
		fixture->refresher, actor, NULL, refresh_cb, result);
	g_assert_true(relay_test_wait_until(NULL, refresh_done, result, 20000));
}

static gboolean
instance_got_nodeinfo(gpointer user_data)
{
	return relay_test_instance_count_gets(user_data, "/.well-known/nodeinfo") > 0;
}

static RelayMember *
fixture_member(NodeinfoFixture *fixture, const gchar *network, RelayTestInstance *instance)
{
	g_autofree gchar *actor = relay_test_instance_url(instance, "/actor");
	g_autoptr(GError) error = NULL;
	RelayMember *member = relay_store_member_get(fixture->store, network, actor, NULL, &error);

	g_assert_no_error(error);
	return member;
}

/* a check names the software, stores it on every member of the domain, and says so */
static void
test_refresh_member(NodeinfoFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *actor = relay_test_instance_url(fixture->a, "/users/anyone");
	g_autofree gchar *expected_signal = NULL;
	g_autoptr(RelayMember) relay = NULL;
	g_autoptr(RelayMember) guild = NULL;
	g_autoptr(RelayMember) other = NULL;
	RefreshResult result = {0};

	relay_test_instance_set_software(fixture->a, "Pleroma", "2.7.0", "2.0");
	refresh(fixture, actor, &result);
	g_assert_no_error(result.error);
	g_assert_true(result.ok);
	g_assert_cmpstr(result.name, ==, "pleroma");
	g_assert_cmpstr(result.version, ==, "2.7.0");
	relay = fixture_member(fixture, "relay", fixture->a);
	guild = fixture_member(fixture, "guild", fixture->a);
	other = fixture_member(fixture, "relay", fixture->b);
	g_assert_cmpstr(relay->software_name, ==, "pleroma");
	g_assert_cmpstr(guild->software_version, ==, "2.7.0");
	g_assert_cmpint(guild->nodeinfo_checked_us, >, 0);
	g_assert_null(other->software_name);
	g_assert_cmpint(other->nodeinfo_checked_us, ==, 0);
	g_assert_cmpuint(fixture->signals->len, ==, 1);
	expected_signal =
		g_strdup_printf("%s pleroma 2.7.0", relay_test_instance_get_host(fixture->a));
	g_assert_cmpstr(g_ptr_array_index(fixture->signals, 0), ==, expected_signal);
	g_assert_cmpuint(relay_nodeinfo_refresher_get_in_flight(fixture->refresher), ==, 0);
	refresh_result_clear(&result);
}

/* a failed check is an error for the caller, and stores its time only */
static void
test_refresh_failure(NodeinfoFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *actor = relay_test_instance_url(fixture->b, "/actor");
	g_autoptr(RelayMember) member = NULL;
	RefreshResult result = {0};
	gint64 first_check;

	refresh(fixture, actor, &result);
	g_assert_true(result.ok);
	refresh_result_clear(&result);
	member = fixture_member(fixture, "relay", fixture->b);
	first_check = member->nodeinfo_checked_us;
	g_clear_pointer(&member, relay_member_free);

	relay_test_instance_set_nodeinfo_status(fixture->b, 500);
	refresh(fixture, actor, &result);
	g_assert_false(result.ok);
	g_assert_error(result.error, RELAY_FED_ERROR, RELAY_FED_ERROR_TRANSIENT);
	g_test_message("failed: %s", result.error->message);
	member = fixture_member(fixture, "relay", fixture->b);
	g_assert_cmpstr(member->software_name, ==, "mastodon");
	g_assert_cmpstr(member->software_version, ==, "4.3.0");
	g_assert_cmpint(member->nodeinfo_checked_us, >=, first_check);
	g_assert_cmpuint(fixture->signals->len, ==, 2);
	g_assert_true(g_str_has_suffix(g_ptr_array_index(fixture->signals, 1), " (null) (null)"));
	refresh_result_clear(&result);

	/* a links document without a 2.x link, and a document without a name */
	relay_test_instance_set_nodeinfo_status(fixture->b, 0);
	relay_test_instance_set_software(fixture->b, "mastodon", "4.3.0", "1.0");
	refresh(fixture, actor, &result);
	g_assert_error(result.error, RELAY_FED_ERROR, RELAY_FED_ERROR_INVALID_DOCUMENT);
	refresh_result_clear(&result);
	relay_test_instance_set_software(fixture->b, "", "4.3.0", "2.1");
	refresh(fixture, actor, &result);
	g_assert_error(result.error, RELAY_FED_ERROR, RELAY_FED_ERROR_INVALID_DOCUMENT);
	refresh_result_clear(&result);

	/* not an actor id one can fetch from */
	refresh(fixture, "ftp://files.example/actor", &result);
	g_assert_error(result.error, RELAY_FED_ERROR, RELAY_FED_ERROR_INVALID_DOCUMENT);
	refresh_result_clear(&result);
}

/* NodeInfo is fetched like everything else: never from a private address unless allowed */
static void
test_refresh_ssrf(NodeinfoFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *actor = relay_test_instance_url(fixture->a, "/actor");
	g_autoptr(RelayMember) member = NULL;
	RefreshResult result = {0};

	refresh(fixture, actor, &result);
	g_assert_false(result.ok);
	g_assert_error(result.error, RELAY_FED_ERROR, RELAY_FED_ERROR_FORBIDDEN_ADDRESS);
	g_assert_cmpuint(
		relay_test_instance_count_gets(fixture->a, "/.well-known/nodeinfo"), ==, 0);
	member = fixture_member(fixture, "relay", fixture->a);
	g_assert_null(member->software_name);
	g_assert_cmpint(member->nodeinfo_checked_us, >, 0);
	refresh_result_clear(&result);
}

/* stopping with a check in flight cancels it: the caller hears so, and nothing is stored */
static void
test_stop_in_flight(NodeinfoFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *actor = relay_test_instance_url(fixture->a, "/actor");
	g_autoptr(RelayMember) member = NULL;
	RefreshResult result = {0};

	relay_test_instance_set_nodeinfo_stall(fixture->a, TRUE);
	relay_nodeinfo_refresher_start(fixture->refresher);
	relay_nodeinfo_refresher_refresh_member_async(
		fixture->refresher, actor, NULL, refresh_cb, &result);
	g_assert_true(relay_test_wait_until(NULL, instance_got_nodeinfo, fixture->a, 20000));
	g_assert_cmpuint(relay_nodeinfo_refresher_get_in_flight(fixture->refresher), ==, 1);
	relay_nodeinfo_refresher_stop(fixture->refresher);
	g_assert_true(relay_test_wait_until(NULL, refresh_done, &result, 20000));
	g_assert_error(result.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_assert_cmpuint(relay_nodeinfo_refresher_get_in_flight(fixture->refresher), ==, 0);
	member = fixture_member(fixture, "relay", fixture->a);
	g_assert_cmpint(member->nodeinfo_checked_us, ==, 0);
	g_assert_cmpuint(fixture->signals->len, ==, 0);
	refresh_result_clear(&result);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add("/relay/nodeinfo/refresh-member",
		   NodeinfoFixture,
		   GINT_TO_POINTER(0),
		   fixture_setup,
		   test_refresh_member,
		   fixture_teardown);
	g_test_add("/relay/nodeinfo/refresh-failure",
		   NodeinfoFixture,
		   GINT_TO_POINTER(0),
		   fixture_setup,
		   test_refresh_failure,
		   fixture_teardown);
	g_test_add("/relay/nodeinfo/refresh-ssrf",
		   NodeinfoFixture,
		   GINT_TO_POINTER(1),
		   fixture_setup,
		   test_refresh_ssrf,
		   fixture_teardown);
	g_test_add("/relay/nodeinfo/stop-in-flight",
		   NodeinfoFixture,
		   GINT_TO_POINTER(0),
		   fixture_setup,
		   test_stop_in_flight,
		   fixture_teardown);
	return g_test_run();
}
