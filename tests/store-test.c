/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * The storage conformance suite: every case below runs against every backend, under
 * /relay/store/<backend>/<case>, on a fresh store in a fresh directory. Times are pinned (NOW_US)
 * so no case depends on the clock. The sqlite-only cases check migrations, refusal of foreign
 * files, persistence, and durability by killing a child process that writes to the store.
 */

#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "relay-store.h"
#include "relay-test-utils.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sqlite3, sqlite3_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sqlite3_stmt, sqlite3_finalize)

#define NOW_US	 G_GINT64_CONSTANT(1700000000000000)
#define LEASE_US (30 * G_USEC_PER_SEC)
#define DAY_US	 (G_GINT64_CONSTANT(86400) * G_USEC_PER_SEC)

/* the durability child reports this many deliveries before the parent kills it */
#define DURABILITY_ENQUEUE_INBOXES 10
#define DURABILITY_ENQUEUE_REPORTS 200
#define DURABILITY_CLAIM_FANOUTS   500
#define DURABILITY_CLAIM_BATCH	   10
#define DURABILITY_CLAIM_REPORTS   300

static const gchar *test_self_path = NULL;

typedef struct {
	gchar *tmpdir;
	gchar *location;
	RelayStore *store;
} StoreFixture;

static RelayStore *
test_store_open(const gchar *backend, const gchar *location)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayStore) store = relay_store_new(backend, location, &error);

	g_assert_no_error(error);
	g_assert_nonnull(store);
	return g_steal_pointer(&store);
}

static void
test_store_close(RelayStore **store)
{
	if (*store == NULL)
		return;
	relay_store_close(*store);
	g_assert_finalize_object(g_steal_pointer(store));
}

static void
fixture_setup_dir(StoreFixture *fixture, gconstpointer user_data)
{
	fixture->tmpdir = relay_test_mkdtemp();
	fixture->location = g_build_filename(fixture->tmpdir, "relay.db", NULL);
}

static void
fixture_setup(StoreFixture *fixture, gconstpointer user_data)
{
	const gchar *backend = user_data;

	fixture_setup_dir(fixture, user_data);
	fixture->store = test_store_open(backend, fixture->location);
}

static void
fixture_teardown(StoreFixture *fixture, gconstpointer user_data)
{
	test_store_close(&fixture->store);
	relay_test_rmdir(fixture->tmpdir);
	g_clear_pointer(&fixture->tmpdir, g_free);
	g_clear_pointer(&fixture->location, g_free);
}

/* helpers */

static void
test_put_network(RelayStore *store, const gchar *name)
{
	g_autoptr(RelayNetworkRecord) network = relay_network_record_new(name);
	g_autoptr(GError) error = NULL;

	network->created_at_us = NOW_US;
	g_assert_true(relay_store_network_put(store, network, NULL, &error));
	g_assert_no_error(error);
}

static GBytes *
test_body_new(const gchar *tag)
{
	gchar *text = g_strdup_printf("{\"type\":\"Announce\",\"id\":\"%s\"}", tag);
	return g_bytes_new_take(text, strlen(text));
}

/* a fan-out of @body_tag to @n_inboxes inboxes named after @inbox_tag */
static RelayFanout *
test_fanout_new(const gchar *network,
		const gchar *body_tag,
		guint n_inboxes,
		const gchar *inbox_tag)
{
	g_autoptr(GBytes) body = test_body_new(body_tag);
	RelayFanout *fanout = relay_fanout_new(network, body);

	for (guint i = 0; i < n_inboxes; i++) {
		g_autofree gchar *inbox =
			g_strdup_printf("https://%s-%u.example/inbox", inbox_tag, i);
		relay_fanout_add_inbox(fanout, inbox);
	}
	return fanout;
}

static GPtrArray *
test_fanouts_new(void)
{
	return g_ptr_array_new_with_free_func((GDestroyNotify)relay_fanout_free);
}

static void
test_enqueue(RelayStore *store, GPtrArray *fanouts, gint64 now_us)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(relay_store_delivery_enqueue(store, fanouts, now_us, NULL, &error));
	g_assert_no_error(error);
}

static void
test_enqueue_one(RelayStore *store,
		 const gchar *network,
		 const gchar *body_tag,
		 guint n_inboxes,
		 const gchar *inbox_tag,
		 gint64 now_us)
{
	g_autoptr(GPtrArray) fanouts = test_fanouts_new();

	g_ptr_array_add(fanouts, test_fanout_new(network, body_tag, n_inboxes, inbox_tag));
	test_enqueue(store, fanouts, now_us);
	g_assert_false(((RelayFanout *)g_ptr_array_index(fanouts, 0))->duplicate);
}

static GPtrArray *
test_claim(RelayStore *store, gint64 now_us, guint limit, gint64 lease_us, const gchar *claimer)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) deliveries =
		relay_store_delivery_claim(store, now_us, limit, lease_us, claimer, NULL, &error);

	g_assert_no_error(error);
	g_assert_nonnull(deliveries);
	g_assert_cmpuint(deliveries->len, <=, limit);
	return g_steal_pointer(&deliveries);
}

static void
test_settle_id(RelayStore *store, gint64 id, RelayDeliveryOutcome outcome, gint64 retry_at_us)
{
	g_autoptr(GArray) results = g_array_new(FALSE, TRUE, sizeof(RelayDeliveryResult));
	g_autoptr(GError) error = NULL;
	RelayDeliveryResult result = {.id = id, .outcome = outcome, .retry_at_us = retry_at_us};

	g_array_append_val(results, result);
	g_assert_true(relay_store_delivery_settle(store, results, NULL, &error));
	g_assert_no_error(error);
}

static void
test_settle_all(RelayStore *store,
		GPtrArray *deliveries,
		RelayDeliveryOutcome outcome,
		gint64 retry_at_us)
{
	g_autoptr(GArray) results = g_array_new(FALSE, TRUE, sizeof(RelayDeliveryResult));
	g_autoptr(GError) error = NULL;

	for (guint i = 0; i < deliveries->len; i++) {
		const RelayDelivery *delivery = g_ptr_array_index(deliveries, i);
		RelayDeliveryResult result = {
			.id = delivery->id,
			.outcome = outcome,
			.retry_at_us = retry_at_us,
		};
		g_array_append_val(results, result);
	}
	g_assert_true(relay_store_delivery_settle(store, results, NULL, &error));
	g_assert_no_error(error);
}

static void
test_assert_stats(RelayStore *store,
		  guint64 queued,
		  guint64 claimed,
		  guint64 activities,
		  gint64 oldest_created_us)
{
	g_autoptr(GError) error = NULL;
	RelayQueueStats stats = {0};

	g_assert_true(relay_store_delivery_stats(store, &stats, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(stats.queued, ==, queued);
	g_assert_cmpuint(stats.claimed, ==, claimed);
	g_assert_cmpuint(stats.activities, ==, activities);
	g_assert_cmpint(stats.oldest_created_us, ==, oldest_created_us);
}

static gboolean
test_seen(RelayStore *store, const gchar *id, gint64 now_us)
{
	g_autoptr(GError) error = NULL;
	gboolean seen = FALSE;

	g_assert_true(relay_store_seen_contains(store, id, now_us, &seen, NULL, &error));
	g_assert_no_error(error);
	return seen;
}

static void
test_assert_member_equal(const RelayMember *got, const RelayMember *expected)
{
	g_assert_cmpstr(got->network, ==, expected->network);
	g_assert_cmpstr(got->actor, ==, expected->actor);
	g_assert_cmpstr(got->domain, ==, expected->domain);
	g_assert_cmpstr(got->inbox, ==, expected->inbox);
	g_assert_cmpstr(got->shared_inbox, ==, expected->shared_inbox);
	g_assert_cmpint(got->protocol, ==, expected->protocol);
	g_assert_cmpint(got->state, ==, expected->state);
	g_assert_cmpint(got->direction, ==, expected->direction);
	g_assert_cmpstr(got->follow_id, ==, expected->follow_id);
	g_assert_cmpstr(got->follow_back_id, ==, expected->follow_back_id);
	g_assert_cmpint(got->is_peer, ==, expected->is_peer);
	g_assert_cmpint(got->follow_back_state, ==, expected->follow_back_state);
	g_assert_cmpint(got->created_at_us, ==, expected->created_at_us);
	g_assert_cmpint(got->last_seen_us, ==, expected->last_seen_us);
	g_assert_cmpuint(got->failure_count, ==, expected->failure_count);
	g_assert_cmpstr(got->software_name, ==, expected->software_name);
	g_assert_cmpstr(got->software_version, ==, expected->software_version);
	g_assert_cmpint(got->nodeinfo_checked_us, ==, expected->nodeinfo_checked_us);
}

static RelayMember *
test_member_new(const gchar *network, const gchar *actor, const gchar *inbox)
{
	RelayMember *member = relay_member_new(network, actor, inbox);
	member->created_at_us = NOW_US;
	member->last_seen_us = NOW_US;
	return member;
}

static void
test_put_member(RelayStore *store, const RelayMember *member)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(relay_store_member_put(store, member, NULL, &error));
	g_assert_no_error(error);
}

static GPtrArray *
test_member_list(RelayStore *store, const gchar *network, gint state)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) members = relay_store_member_list(store, network, state, NULL, &error);

	g_assert_no_error(error);
	g_assert_nonnull(members);
	return g_steal_pointer(&members);
}

static void
test_put_policy(RelayStore *store,
		const gchar *network,
		const gchar *domain,
		RelayPolicyKind kind,
		const gchar *reason,
		const gchar *source)
{
	g_autoptr(RelayDomainPolicy) policy = relay_domain_policy_new(network, domain, kind);
	g_autoptr(GError) error = NULL;

	g_free(policy->reason);
	policy->reason = g_strdup(reason);
	g_free(policy->source);
	policy->source = g_strdup(source);
	policy->created_at_us = NOW_US;
	g_assert_true(relay_store_policy_put(store, policy, NULL, &error));
	g_assert_no_error(error);
}

/* the policies as "network|domain|kind|reason" lines, node-wide shown as "*" */
static gchar *
test_policy_list_string(RelayStore *store)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) policies = relay_store_policy_list(store, NULL, &error);
	g_autoptr(GString) str = g_string_new(NULL);

	g_assert_no_error(error);
	g_assert_nonnull(policies);
	for (guint i = 0; i < policies->len; i++) {
		const RelayDomainPolicy *policy = g_ptr_array_index(policies, i);
		g_string_append_printf(str,
				       "%s|%s|%s|%s\n",
				       policy->network != NULL ? policy->network : "*",
				       policy->domain,
				       relay_policy_kind_to_string(policy->kind),
				       policy->reason != NULL ? policy->reason : "-");
	}
	return g_string_free(g_steal_pointer(&str), FALSE);
}

/* networks */

static void
test_networks(StoreFixture *fixture, gconstpointer user_data)
{
	RelayStore *store = fixture->store;
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayNetworkRecord) missing = NULL;
	g_autoptr(RelayNetworkRecord) alpha = relay_network_record_new("alpha");
	g_autoptr(RelayNetworkRecord) zeta = relay_network_record_new("zeta");
	g_autoptr(RelayNetworkRecord) got = NULL;
	g_autoptr(GPtrArray) list = NULL;

	missing = relay_store_network_get(store, "alpha", NULL, &error);
	g_assert_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND);
	g_assert_null(missing);
	g_clear_error(&error);

	list = relay_store_network_list(store, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(list);
	g_assert_cmpuint(list->len, ==, 0);
	g_clear_pointer(&list, g_ptr_array_unref);

	zeta->created_at_us = NOW_US + 1;
	g_assert_true(relay_store_network_put(store, zeta, NULL, &error));
	g_assert_no_error(error);
	alpha->created_at_us = NOW_US;
	alpha->rsa_private_pem =
		g_strdup("-----BEGIN PRIVATE KEY-----\nRSA\n-----END PRIVATE KEY-----\n");
	alpha->ed25519_private_pem =
		g_strdup("-----BEGIN PRIVATE KEY-----\nED\n-----END PRIVATE KEY-----\n");
	g_assert_true(relay_store_network_put(store, alpha, NULL, &error));
	g_assert_no_error(error);

	got = relay_store_network_get(store, "alpha", NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(got);
	g_assert_cmpstr(got->name, ==, "alpha");
	g_assert_cmpstr(got->rsa_private_pem, ==, alpha->rsa_private_pem);
	g_assert_cmpstr(got->ed25519_private_pem, ==, alpha->ed25519_private_pem);
	g_assert_cmpint(got->created_at_us, ==, NOW_US);
	g_clear_pointer(&got, relay_network_record_free);

	got = relay_store_network_get(store, "zeta", NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(got);
	g_assert_null(got->rsa_private_pem);
	g_assert_null(got->ed25519_private_pem);
	g_assert_cmpint(got->created_at_us, ==, NOW_US + 1);
	g_clear_pointer(&got, relay_network_record_free);

	/* the list is by name, whatever the order of insertion */
	list = relay_store_network_list(store, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(list);
	g_assert_cmpuint(list->len, ==, 2);
	g_assert_cmpstr(((RelayNetworkRecord *)g_ptr_array_index(list, 0))->name, ==, "alpha");
	g_assert_cmpstr(((RelayNetworkRecord *)g_ptr_array_index(list, 1))->name, ==, "zeta");
	g_clear_pointer(&list, g_ptr_array_unref);

	/* updating the keys replaces them, without a second row */
	zeta->rsa_private_pem = g_strdup("rsa-zeta");
	zeta->ed25519_private_pem = g_strdup("ed-zeta");
	g_assert_true(relay_store_network_put(store, zeta, NULL, &error));
	g_assert_no_error(error);
	got = relay_store_network_get(store, "zeta", NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(got);
	g_assert_cmpstr(got->rsa_private_pem, ==, "rsa-zeta");
	g_assert_cmpstr(got->ed25519_private_pem, ==, "ed-zeta");
	g_clear_pointer(&got, relay_network_record_free);

	g_clear_pointer(&alpha->ed25519_private_pem, g_free);
	g_free(alpha->rsa_private_pem);
	alpha->rsa_private_pem = g_strdup("rsa-alpha-2");
	g_assert_true(relay_store_network_put(store, alpha, NULL, &error));
	g_assert_no_error(error);
	got = relay_store_network_get(store, "alpha", NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(got);
	g_assert_cmpstr(got->rsa_private_pem, ==, "rsa-alpha-2");
	g_assert_null(got->ed25519_private_pem);
	g_clear_pointer(&got, relay_network_record_free);

	list = relay_store_network_list(store, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(list);
	g_assert_cmpuint(list->len, ==, 2);

	/* create inserts only what is missing and never touches an existing network's keys */
	{
		g_autoptr(RelayNetworkRecord) fresh = relay_network_record_new("alpha");
		g_autoptr(RelayNetworkRecord) other = relay_network_record_new("middle");
		gboolean created = TRUE;

		g_assert_true(relay_store_network_create(store, fresh, &created, NULL, &error));
		g_assert_no_error(error);
		g_assert_false(created);
		got = relay_store_network_get(store, "alpha", NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(got->rsa_private_pem, ==, "rsa-alpha-2");
		g_clear_pointer(&got, relay_network_record_free);
		g_assert_true(relay_store_network_create(store, other, &created, NULL, &error));
		g_assert_no_error(error);
		g_assert_true(created);
		g_clear_pointer(&list, g_ptr_array_unref);
		list = relay_store_network_list(store, NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(list->len, ==, 3);
	}

	/* callers own what they get */
	got = relay_store_network_get(store, "alpha", NULL, &error);
	g_assert_no_error(error);
	g_free(got->name);
	got->name = g_strdup("mangled");
	g_clear_pointer(&got, relay_network_record_free);
	got = relay_store_network_get(store, "alpha", NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(got);
	g_assert_cmpstr(got->name, ==, "alpha");
}

/* members */

static void
test_members(StoreFixture *fixture, gconstpointer user_data)
{
	RelayStore *store = fixture->store;
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayMember) b = NULL;
	g_autoptr(RelayMember) z = NULL;
	g_autoptr(RelayMember) a = NULL;
	g_autoptr(RelayMember) got = NULL;
	g_autoptr(GPtrArray) list = NULL;

	test_put_network(store, "alpha");
	test_put_network(store, "beta");

	got = relay_store_member_get(store, "alpha", "https://a.example/actor", NULL, &error);
	g_assert_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND);
	g_assert_null(got);
	g_clear_error(&error);

	b = test_member_new("beta", "https://b.example/actor", "https://b.example/inbox");
	z = test_member_new("alpha", "https://z.example/actor", "https://z.example/inbox");
	a = test_member_new("alpha", "https://a.example/actor", "https://a.example/inbox");
	a->state = RELAY_MEMBER_STATE_ACCEPTED;
	test_put_member(store, b);
	test_put_member(store, z);
	test_put_member(store, a);

	got = relay_store_member_get(store, "beta", "https://b.example/actor", NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(got);
	g_assert_cmpstr(got->domain, ==, "b.example");
	test_assert_member_equal(got, b);
	g_clear_pointer(&got, relay_member_free);

	/* the same actor in another network is another member */
	got = relay_store_member_get(store, "alpha", "https://b.example/actor", NULL, &error);
	g_assert_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND);
	g_assert_null(got);
	g_clear_error(&error);

	/* an upsert replaces every field */
	g_free(b->domain);
	b->domain = g_strdup("b.example");
	g_free(b->inbox);
	b->inbox = g_strdup("https://b.example/users/relay/inbox");
	b->shared_inbox = g_strdup("https://b.example/inbox");
	b->protocol = RELAY_MEMBER_PROTOCOL_LITEPUB;
	b->state = RELAY_MEMBER_STATE_REJECTED;
	b->direction = RELAY_MEMBER_DIRECTION_PUBLISH_ONLY;
	b->follow_id = g_strdup("https://b.example/follows/1");
	b->follow_back_id = g_strdup("https://relay.example/follows/2");
	b->follow_back_state = RELAY_MEMBER_STATE_REJECTED;
	b->is_peer = TRUE;
	b->created_at_us = NOW_US - 1000;
	b->last_seen_us = NOW_US + 5000;
	b->failure_count = 7;
	test_put_member(store, b);
	got = relay_store_member_get(store, "beta", "https://b.example/actor", NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(got);
	test_assert_member_equal(got, b);
	g_clear_pointer(&got, relay_member_free);

	/* and back: nullable fields become NULL again, flags clear */
	g_clear_pointer(&b->shared_inbox, g_free);
	g_clear_pointer(&b->follow_id, g_free);
	g_clear_pointer(&b->follow_back_id, g_free);
	b->protocol = RELAY_MEMBER_PROTOCOL_MASTODON;
	b->state = RELAY_MEMBER_STATE_ACCEPTED;
	b->direction = RELAY_MEMBER_DIRECTION_RECEIVE_ONLY;
	b->is_peer = FALSE;
	b->follow_back_state = RELAY_MEMBER_STATE_ACCEPTED;
	b->failure_count = 0;
	b->last_seen_us = NOW_US + 6000;
	test_put_member(store, b);
	got = relay_store_member_get(store, "beta", "https://b.example/actor", NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(got);
	test_assert_member_equal(got, b);
	g_clear_pointer(&got, relay_member_free);

	/* every member, by network then actor */
	list = test_member_list(store, NULL, -1);
	g_assert_cmpuint(list->len, ==, 3);
	test_assert_member_equal(g_ptr_array_index(list, 0), a);
	test_assert_member_equal(g_ptr_array_index(list, 1), z);
	test_assert_member_equal(g_ptr_array_index(list, 2), b);
	g_clear_pointer(&list, g_ptr_array_unref);

	list = test_member_list(store, "alpha", -1);
	g_assert_cmpuint(list->len, ==, 2);
	test_assert_member_equal(g_ptr_array_index(list, 0), a);
	test_assert_member_equal(g_ptr_array_index(list, 1), z);
	g_clear_pointer(&list, g_ptr_array_unref);

	list = test_member_list(store, NULL, RELAY_MEMBER_STATE_ACCEPTED);
	g_assert_cmpuint(list->len, ==, 2);
	test_assert_member_equal(g_ptr_array_index(list, 0), a);
	test_assert_member_equal(g_ptr_array_index(list, 1), b);
	g_clear_pointer(&list, g_ptr_array_unref);

	list = test_member_list(store, "alpha", RELAY_MEMBER_STATE_PENDING);
	g_assert_cmpuint(list->len, ==, 1);
	test_assert_member_equal(g_ptr_array_index(list, 0), z);
	g_clear_pointer(&list, g_ptr_array_unref);

	list = test_member_list(store, "beta", RELAY_MEMBER_STATE_REJECTED);
	g_assert_cmpuint(list->len, ==, 0);
	g_clear_pointer(&list, g_ptr_array_unref);

	list = test_member_list(store, "nosuch", -1);
	g_assert_cmpuint(list->len, ==, 0);
	g_clear_pointer(&list, g_ptr_array_unref);

	/* remove */
	g_assert_true(
		relay_store_member_remove(store, "alpha", "https://z.example/actor", NULL, &error));
	g_assert_no_error(error);
	got = relay_store_member_get(store, "alpha", "https://z.example/actor", NULL, &error);
	g_assert_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND);
	g_assert_null(got);
	g_clear_error(&error);
	g_assert_false(
		relay_store_member_remove(store, "alpha", "https://z.example/actor", NULL, &error));
	g_assert_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_false(
		relay_store_member_remove(store, "alpha", "https://b.example/actor", NULL, &error));
	g_assert_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND);
	g_clear_error(&error);

	list = test_member_list(store, NULL, -1);
	g_assert_cmpuint(list->len, ==, 2);
	test_assert_member_equal(g_ptr_array_index(list, 0), a);
	test_assert_member_equal(g_ptr_array_index(list, 1), b);
}

static RelayMember *
test_get_member(RelayStore *store, const gchar *network, const gchar *actor)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayMember) member = relay_store_member_get(store, network, actor, NULL, &error);

	g_assert_no_error(error);
	g_assert_nonnull(member);
	return g_steal_pointer(&member);
}

static void
test_software_put(RelayStore *store,
		  const gchar *domain,
		  const gchar *name,
		  const gchar *version,
		  gint64 checked_at_us,
		  guint expected_updated)
{
	g_autoptr(GError) error = NULL;
	guint updated = G_MAXUINT;

	g_assert_true(relay_store_member_software_put(
		store, domain, name, version, checked_at_us, &updated, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(updated, ==, expected_updated);
}

/* what NodeInfo says of a member's server: set by domain, kept across member_put */
static void
test_member_software(StoreFixture *fixture, gconstpointer user_data)
{
	RelayStore *store = fixture->store;
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayMember) a_alpha = NULL;
	g_autoptr(RelayMember) a_beta = NULL;
	g_autoptr(RelayMember) c = NULL;
	g_autoptr(RelayMember) fresh = NULL;
	g_autoptr(RelayMember) got = NULL;
	g_autoptr(GPtrArray) list = NULL;

	test_put_network(store, "alpha");
	test_put_network(store, "beta");
	a_alpha = test_member_new("alpha", "https://a.example/actor", "https://a.example/inbox");
	a_beta = test_member_new("beta", "https://a.example/actor", "https://a.example/inbox");
	c = test_member_new("alpha", "https://c.example:8443/actor", "https://c.example/inbox");
	test_put_member(store, a_alpha);
	test_put_member(store, a_beta);
	test_put_member(store, c);

	/* never checked */
	got = test_get_member(store, "alpha", "https://a.example/actor");
	g_assert_null(got->software_name);
	g_assert_null(got->software_version);
	g_assert_cmpint(got->nodeinfo_checked_us, ==, 0);
	g_clear_pointer(&got, relay_member_free);

	/* a check sets every member of the domain, in every network, and no other */
	test_software_put(store, "a.example", "mastodon", "4.2.1", NOW_US + 10, 2);
	for (guint i = 0; i < 2; i++) {
		got = test_get_member(store, i == 0 ? "alpha" : "beta", "https://a.example/actor");
		g_assert_cmpstr(got->software_name, ==, "mastodon");
		g_assert_cmpstr(got->software_version, ==, "4.2.1");
		g_assert_cmpint(got->nodeinfo_checked_us, ==, NOW_US + 10);
		g_clear_pointer(&got, relay_member_free);
	}
	got = test_get_member(store, "alpha", "https://c.example:8443/actor");
	test_assert_member_equal(got, c);
	g_clear_pointer(&got, relay_member_free);
	test_software_put(store, "c.example:8443", "gotosocial", NULL, NOW_US + 11, 1);
	got = test_get_member(store, "alpha", "https://c.example:8443/actor");
	g_assert_cmpstr(got->software_name, ==, "gotosocial");
	g_assert_null(got->software_version);
	g_clear_pointer(&got, relay_member_free);

	/* writing a member read before the check (a Follow again, say) keeps what it found */
	a_alpha->last_seen_us = NOW_US + 20;
	a_alpha->state = RELAY_MEMBER_STATE_ACCEPTED;
	test_put_member(store, a_alpha);
	got = test_get_member(store, "alpha", "https://a.example/actor");
	g_assert_cmpint(got->last_seen_us, ==, NOW_US + 20);
	g_assert_cmpint(got->state, ==, RELAY_MEMBER_STATE_ACCEPTED);
	g_assert_cmpstr(got->software_name, ==, "mastodon");
	g_assert_cmpstr(got->software_version, ==, "4.2.1");
	g_assert_cmpint(got->nodeinfo_checked_us, ==, NOW_US + 10);
	g_clear_pointer(&got, relay_member_free);

	/* a failed check records its time only */
	test_software_put(store, "a.example", NULL, NULL, NOW_US + 30, 2);
	got = test_get_member(store, "beta", "https://a.example/actor");
	g_assert_cmpstr(got->software_name, ==, "mastodon");
	g_assert_cmpstr(got->software_version, ==, "4.2.1");
	g_assert_cmpint(got->nodeinfo_checked_us, ==, NOW_US + 30);
	g_clear_pointer(&got, relay_member_free);

	/* a newer version replaces the old one */
	test_software_put(store, "a.example", "mastodon", "4.3.0", NOW_US + 40, 2);
	list = test_member_list(store, NULL, -1);
	g_assert_cmpuint(list->len, ==, 3);
	for (guint i = 0; i < list->len; i++) {
		const RelayMember *member = g_ptr_array_index(list, i);
		if (g_strcmp0(member->domain, "a.example") != 0)
			continue;
		g_assert_cmpstr(member->software_version, ==, "4.3.0");
		g_assert_cmpint(member->nodeinfo_checked_us, ==, NOW_US + 40);
	}
	g_clear_pointer(&list, g_ptr_array_unref);

	/* no member has the domain: nothing to do, and no error */
	test_software_put(store, "nobody.example", "misskey", "13", NOW_US, 0);
	g_assert_false(relay_store_member_software_put(
		store, NULL, "misskey", "13", NOW_US, NULL, NULL, &error));
	g_assert_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_INVALID);
	g_clear_error(&error);

	/* a new member takes the fields it is given; one removed and added again starts anew */
	fresh = test_member_new("beta", "https://f.example/actor", "https://f.example/inbox");
	fresh->software_name = g_strdup("akkoma");
	fresh->software_version = g_strdup("3.10");
	fresh->nodeinfo_checked_us = NOW_US + 50;
	test_put_member(store, fresh);
	got = test_get_member(store, "beta", "https://f.example/actor");
	test_assert_member_equal(got, fresh);
	g_clear_pointer(&got, relay_member_free);
	g_assert_true(
		relay_store_member_remove(store, "beta", "https://a.example/actor", NULL, &error));
	g_assert_no_error(error);
	test_put_member(store, a_beta);
	got = test_get_member(store, "beta", "https://a.example/actor");
	test_assert_member_equal(got, a_beta);
	g_assert_null(got->software_name);
}

/* policies */

static void
test_policies(StoreFixture *fixture, gconstpointer user_data)
{
	RelayStore *store = fixture->store;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *listed = NULL;
	g_autoptr(GPtrArray) policies = NULL;
	const RelayDomainPolicy *policy;

	test_put_network(store, "alpha");
	test_put_network(store, "beta");

	listed = test_policy_list_string(store);
	g_assert_cmpstr(listed, ==, "");
	g_clear_pointer(&listed, g_free);

	test_put_policy(store, "beta", "a.example", RELAY_POLICY_KIND_BLOCK, NULL, NULL);
	test_put_policy(store, "alpha", "z.example", RELAY_POLICY_KIND_BLOCK, "spam", NULL);
	test_put_policy(store, "alpha", "c.example", RELAY_POLICY_KIND_ALLOW, NULL, NULL);
	test_put_policy(store, "alpha", "c.example", RELAY_POLICY_KIND_BLOCK, "abuse", NULL);
	test_put_policy(store, NULL, "bad.example", RELAY_POLICY_KIND_ALLOW, NULL, NULL);
	test_put_policy(store, NULL, "bad.example", RELAY_POLICY_KIND_BLOCK, "spam", NULL);
	test_put_policy(store,
			NULL,
			"zzz.example",
			RELAY_POLICY_KIND_BLOCK,
			"listed",
			"https://blocklist.example/list.csv");

	/* node-wide first, then by network, domain, and kind (block before allow) */
	listed = test_policy_list_string(store);
	g_assert_cmpstr(listed,
			==,
			"*|bad.example|block|spam\n"
			"*|bad.example|allow|-\n"
			"*|zzz.example|block|listed\n"
			"alpha|c.example|block|abuse\n"
			"alpha|c.example|allow|-\n"
			"alpha|z.example|block|spam\n"
			"beta|a.example|block|-\n");
	g_clear_pointer(&listed, g_free);

	/* every field comes back */
	policies = relay_store_policy_list(store, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(policies);
	policy = g_ptr_array_index(policies, 2);
	g_assert_null(policy->network);
	g_assert_cmpstr(policy->domain, ==, "zzz.example");
	g_assert_cmpint(policy->kind, ==, RELAY_POLICY_KIND_BLOCK);
	g_assert_cmpstr(policy->reason, ==, "listed");
	g_assert_cmpstr(policy->source, ==, "https://blocklist.example/list.csv");
	g_assert_cmpint(policy->created_at_us, ==, NOW_US);
	policy = g_ptr_array_index(policies, 4);
	g_assert_cmpstr(policy->network, ==, "alpha");
	g_assert_null(policy->reason);
	g_assert_null(policy->source);
	g_clear_pointer(&policies, g_ptr_array_unref);

	/* replacing keeps one row per (network, domain, kind) */
	test_put_policy(
		store, NULL, "bad.example", RELAY_POLICY_KIND_BLOCK, "spam and abuse", NULL);
	test_put_policy(store, "alpha", "z.example", RELAY_POLICY_KIND_BLOCK, NULL, NULL);
	listed = test_policy_list_string(store);
	g_assert_cmpstr(listed,
			==,
			"*|bad.example|block|spam and abuse\n"
			"*|bad.example|allow|-\n"
			"*|zzz.example|block|listed\n"
			"alpha|c.example|block|abuse\n"
			"alpha|c.example|allow|-\n"
			"alpha|z.example|block|-\n"
			"beta|a.example|block|-\n");
	g_clear_pointer(&listed, g_free);

	/* remove matches network, domain and kind exactly */
	g_assert_true(relay_store_policy_remove(
		store, "alpha", "c.example", RELAY_POLICY_KIND_ALLOW, NULL, &error));
	g_assert_no_error(error);
	g_assert_false(relay_store_policy_remove(
		store, "alpha", "c.example", RELAY_POLICY_KIND_ALLOW, NULL, &error));
	g_assert_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_false(relay_store_policy_remove(
		store, NULL, "z.example", RELAY_POLICY_KIND_BLOCK, NULL, &error));
	g_assert_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_false(relay_store_policy_remove(
		store, "beta", "a.example", RELAY_POLICY_KIND_ALLOW, NULL, &error));
	g_assert_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_true(relay_store_policy_remove(
		store, NULL, "bad.example", RELAY_POLICY_KIND_ALLOW, NULL, &error));
	g_assert_no_error(error);

	listed = test_policy_list_string(store);
	g_assert_cmpstr(listed,
			==,
			"*|bad.example|block|spam and abuse\n"
			"*|zzz.example|block|listed\n"
			"alpha|c.example|block|abuse\n"
			"alpha|z.example|block|-\n"
			"beta|a.example|block|-\n");
}

/* block list subscriptions, their lists, and the blocks they keep */

static RelayDomainPolicy *
test_entry_new(const gchar *domain, const gchar *reason)
{
	RelayDomainPolicy *entry = relay_domain_policy_new(NULL, domain, RELAY_POLICY_KIND_BLOCK);
	entry->reason = g_strdup(reason);
	entry->created_at_us = NOW_US;
	return entry;
}

static gchar *
test_entries_string(RelayStore *store, const gchar *network)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) entries =
		relay_store_block_subscription_entries(store, network, NULL, &error);
	g_autoptr(GString) text = g_string_new(NULL);

	g_assert_no_error(error);
	g_assert_nonnull(entries);
	for (guint i = 0; i < entries->len; i++) {
		const RelayDomainPolicy *entry = g_ptr_array_index(entries, i);
		g_assert_cmpint(entry->kind, ==, RELAY_POLICY_KIND_BLOCK);
		g_assert_cmpint(entry->created_at_us, ==, NOW_US);
		g_string_append_printf(text,
				       "%s|%s|%s|%s\n",
				       entry->network,
				       entry->subscription,
				       entry->domain,
				       entry->reason != NULL ? entry->reason : "-");
	}
	return g_string_free(g_steal_pointer(&text), FALSE);
}

static void
test_block_subscriptions(StoreFixture *fixture, gconstpointer user_data)
{
	RelayStore *store = fixture->store;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) subscriptions = NULL;
	g_autoptr(GPtrArray) entries =
		g_ptr_array_new_with_free_func((GDestroyNotify)relay_domain_policy_free);
	g_autoptr(RelayBlockSubscription) one = relay_block_subscription_new(
		"alpha", "https://a.example/blocks", RELAY_BLOCK_MODE_ENFORCE);
	g_autoptr(RelayBlockSubscription) two = relay_block_subscription_new(
		"beta", "https://b.example/list.csv", RELAY_BLOCK_MODE_ADVISE);
	g_autoptr(RelayDomainPolicy) kept = NULL;
	g_autofree gchar *listed = NULL;
	const RelayBlockSubscription *got;

	test_put_network(store, "alpha");
	test_put_network(store, "beta");
	subscriptions = relay_store_block_subscription_list(store, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(subscriptions->len, ==, 0);
	g_clear_pointer(&subscriptions, g_ptr_array_unref);

	/* never fetched: no list, count -1 */
	one->created_at_us = NOW_US;
	two->created_at_us = NOW_US + 1;
	g_assert_true(relay_store_block_subscription_put(store, two, NULL, NULL, &error));
	g_assert_no_error(error);
	g_ptr_array_add(entries, test_entry_new("spam.example", "spam"));
	g_ptr_array_add(entries, test_entry_new("abuse.example", NULL));
	one->etag = g_strdup("\"v1\"");
	one->checked_at_us = NOW_US + 10;
	one->fetched_at_us = NOW_US + 10;
	one->count = 2;
	g_assert_true(relay_store_block_subscription_put(store, one, entries, NULL, &error));
	g_assert_no_error(error);

	/* by network and URL, every field back */
	subscriptions = relay_store_block_subscription_list(store, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(subscriptions->len, ==, 2);
	got = g_ptr_array_index(subscriptions, 0);
	g_assert_cmpstr(got->network, ==, "alpha");
	g_assert_cmpstr(got->url, ==, "https://a.example/blocks");
	g_assert_cmpint(got->mode, ==, RELAY_BLOCK_MODE_ENFORCE);
	g_assert_cmpstr(got->etag, ==, "\"v1\"");
	g_assert_cmpint(got->created_at_us, ==, NOW_US);
	g_assert_cmpint(got->checked_at_us, ==, NOW_US + 10);
	g_assert_cmpint(got->fetched_at_us, ==, NOW_US + 10);
	g_assert_null(got->last_error);
	g_assert_cmpint(got->count, ==, 2);
	got = g_ptr_array_index(subscriptions, 1);
	g_assert_cmpstr(got->network, ==, "beta");
	g_assert_cmpint(got->mode, ==, RELAY_BLOCK_MODE_ADVISE);
	g_assert_null(got->etag);
	g_assert_cmpint(got->checked_at_us, ==, 0);
	g_assert_cmpint(got->count, ==, -1);
	g_clear_pointer(&subscriptions, g_ptr_array_unref);

	listed = test_entries_string(store, NULL);
	g_assert_cmpstr(listed,
			==,
			"alpha|https://a.example/blocks|abuse.example|-\n"
			"alpha|https://a.example/blocks|spam.example|spam\n");
	g_clear_pointer(&listed, g_free);

	/* a failed fetch records its error and keeps the list (entries NULL) */
	one->checked_at_us = NOW_US + 20;
	one->last_error = g_strdup("HTTP 404 Not Found");
	g_assert_true(relay_store_block_subscription_put(store, one, NULL, NULL, &error));
	g_assert_no_error(error);
	listed = test_entries_string(store, "alpha");
	g_assert_cmpstr(listed,
			==,
			"alpha|https://a.example/blocks|abuse.example|-\n"
			"alpha|https://a.example/blocks|spam.example|spam\n");
	g_clear_pointer(&listed, g_free);
	subscriptions = relay_store_block_subscription_list(store, NULL, &error);
	got = g_ptr_array_index(subscriptions, 0);
	g_assert_cmpstr(got->last_error, ==, "HTTP 404 Not Found");
	g_assert_cmpint(got->checked_at_us, ==, NOW_US + 20);
	g_assert_cmpint(got->fetched_at_us, ==, NOW_US + 10);
	g_clear_pointer(&subscriptions, g_ptr_array_unref);

	/* a new list replaces the old one; other lists are untouched */
	g_ptr_array_set_size(entries, 0);
	g_ptr_array_add(entries, test_entry_new("new.example", "new"));
	g_assert_true(relay_store_block_subscription_put(store, two, entries, NULL, &error));
	g_assert_no_error(error);
	g_ptr_array_set_size(entries, 0);
	g_ptr_array_add(entries, test_entry_new("spam.example", "still spam"));
	g_assert_true(relay_store_block_subscription_put(store, one, entries, NULL, &error));
	g_assert_no_error(error);
	listed = test_entries_string(store, NULL);
	g_assert_cmpstr(listed,
			==,
			"alpha|https://a.example/blocks|spam.example|still spam\n"
			"beta|https://b.example/list.csv|new.example|new\n");
	g_clear_pointer(&listed, g_free);
	listed = test_entries_string(store, "beta");
	g_assert_cmpstr(listed, ==, "beta|https://b.example/list.csv|new.example|new\n");
	g_clear_pointer(&listed, g_free);

	/* a block kept by a subscription says which one */
	kept = relay_domain_policy_new("alpha", "spam.example", RELAY_POLICY_KIND_BLOCK);
	kept->subscription = g_strdup("https://a.example/blocks");
	kept->created_at_us = NOW_US;
	g_assert_true(relay_store_policy_put(store, kept, NULL, &error));
	g_assert_no_error(error);
	{
		g_autoptr(GPtrArray) policies = relay_store_policy_list(store, NULL, &error);
		const RelayDomainPolicy *policy;
		g_assert_no_error(error);
		g_assert_cmpuint(policies->len, ==, 1);
		policy = g_ptr_array_index(policies, 0);
		g_assert_cmpstr(policy->network, ==, "alpha");
		g_assert_cmpstr(policy->subscription, ==, "https://a.example/blocks");
		g_assert_null(policy->source);
	}

	/* remove takes the list with it, and only that one; the blocks stay for the caller */
	g_assert_true(relay_store_block_subscription_remove(
		store, "alpha", "https://a.example/blocks", NULL, &error));
	g_assert_no_error(error);
	g_assert_false(relay_store_block_subscription_remove(
		store, "alpha", "https://a.example/blocks", NULL, &error));
	g_assert_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_false(relay_store_block_subscription_remove(
		store, "alpha", "https://b.example/list.csv", NULL, &error));
	g_assert_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND);
	g_clear_error(&error);
	listed = test_entries_string(store, NULL);
	g_assert_cmpstr(listed, ==, "beta|https://b.example/list.csv|new.example|new\n");
	g_clear_pointer(&listed, g_free);
	subscriptions = relay_store_block_subscription_list(store, NULL, &error);
	g_assert_cmpuint(subscriptions->len, ==, 1);
	g_clear_pointer(&subscriptions, g_ptr_array_unref);
	listed = test_policy_list_string(store);
	g_assert_cmpstr(listed, ==, "alpha|spam.example|block|-\n");
}

/* actor and key cache */

static void
test_actor_cache(StoreFixture *fixture, gconstpointer user_data)
{
	RelayStore *store = fixture->store;
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayCachedActor) actor = NULL;
	g_autoptr(RelayCachedActor) got = NULL;
	const gchar *id = "https://a.example/users/alice";

	got = relay_store_actor_get(store, id, NULL, &error);
	g_assert_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND);
	g_assert_null(got);
	g_clear_error(&error);

	actor = relay_cached_actor_new(id, "{\"id\":\"https://a.example/users/alice\"}");
	actor->fetched_at_us = NOW_US;
	g_assert_true(relay_store_actor_put(store, actor, NULL, &error));
	g_assert_no_error(error);
	got = relay_store_actor_get(store, id, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(got);
	g_assert_cmpstr(got->id, ==, id);
	g_assert_cmpstr(got->document, ==, actor->document);
	g_assert_false(got->gone);
	g_assert_cmpint(got->fetched_at_us, ==, NOW_US);
	g_clear_pointer(&got, relay_cached_actor_free);

	/* a refetch replaces it */
	g_free(actor->document);
	actor->document = g_strdup("{\"id\":\"https://a.example/users/alice\",\"name\":\"A\"}");
	actor->fetched_at_us = NOW_US + 10;
	g_assert_true(relay_store_actor_put(store, actor, NULL, &error));
	g_assert_no_error(error);
	got = relay_store_actor_get(store, id, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(got);
	g_assert_cmpstr(got->document, ==, actor->document);
	g_assert_cmpint(got->fetched_at_us, ==, NOW_US + 10);
	g_clear_pointer(&got, relay_cached_actor_free);

	/* gone: the document is dropped */
	g_clear_pointer(&actor->document, g_free);
	actor->gone = TRUE;
	actor->fetched_at_us = NOW_US + 20;
	g_assert_true(relay_store_actor_put(store, actor, NULL, &error));
	g_assert_no_error(error);
	got = relay_store_actor_get(store, id, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(got);
	g_assert_null(got->document);
	g_assert_true(got->gone);
	g_assert_cmpint(got->fetched_at_us, ==, NOW_US + 20);
	g_clear_pointer(&got, relay_cached_actor_free);

	got = relay_store_actor_get(store, "https://a.example/users/bob", NULL, &error);
	g_assert_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND);
	g_assert_null(got);
}

static void
test_key_cache(StoreFixture *fixture, gconstpointer user_data)
{
	RelayStore *store = fixture->store;
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayCachedKey) key = NULL;
	g_autoptr(RelayCachedKey) got = NULL;
	const gchar *id = "https://a.example/users/alice#main-key";

	got = relay_store_key_get(store, id, NULL, &error);
	g_assert_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND);
	g_assert_null(got);
	g_clear_error(&error);

	key = relay_cached_key_new(id,
				   "https://a.example/users/alice",
				   "-----BEGIN PUBLIC KEY-----\nONE\n-----END PUBLIC KEY-----\n");
	key->fetched_at_us = NOW_US;
	g_assert_true(relay_store_key_put(store, key, NULL, &error));
	g_assert_no_error(error);
	got = relay_store_key_get(store, id, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(got);
	g_assert_cmpstr(got->id, ==, id);
	g_assert_cmpstr(got->owner, ==, key->owner);
	g_assert_cmpstr(got->public_key_pem, ==, key->public_key_pem);
	g_assert_cmpint(got->fetched_at_us, ==, NOW_US);
	g_clear_pointer(&got, relay_cached_key_free);

	/* a rotated key replaces the old one */
	g_free(key->public_key_pem);
	key->public_key_pem =
		g_strdup("-----BEGIN PUBLIC KEY-----\nTWO\n-----END PUBLIC KEY-----\n");
	g_free(key->owner);
	key->owner = g_strdup("https://a.example/users/alice2");
	key->fetched_at_us = NOW_US + 10;
	g_assert_true(relay_store_key_put(store, key, NULL, &error));
	g_assert_no_error(error);
	got = relay_store_key_get(store, id, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(got);
	g_assert_cmpstr(got->owner, ==, "https://a.example/users/alice2");
	g_assert_cmpstr(got->public_key_pem, ==, key->public_key_pem);
	g_assert_cmpint(got->fetched_at_us, ==, NOW_US + 10);
	g_clear_pointer(&got, relay_cached_key_free);

	got = relay_store_key_get(store, "https://a.example/users/bob#main-key", NULL, &error);
	g_assert_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND);
	g_assert_null(got);
}

/* seen-set */

static gboolean
test_seen_add(RelayStore *store, const gchar *id, gint64 now_us, gint64 expires_us)
{
	g_autoptr(GError) error = NULL;
	gboolean is_new = FALSE;

	g_assert_true(relay_store_seen_add(store, id, now_us, expires_us, &is_new, NULL, &error));
	g_assert_no_error(error);
	return is_new;
}

static void
test_seen_set(StoreFixture *fixture, gconstpointer user_data)
{
	RelayStore *store = fixture->store;
	g_autoptr(GError) error = NULL;
	guint64 removed = G_MAXUINT64;

	g_assert_false(test_seen(store, "https://o.example/a/1", NOW_US));
	g_assert_true(test_seen_add(store, "https://o.example/a/1", NOW_US, NOW_US + 10));
	g_assert_false(test_seen_add(store, "https://o.example/a/1", NOW_US, NOW_US + 10));
	g_assert_false(test_seen_add(store, "https://o.example/a/1", NOW_US + 9, NOW_US + 10));
	g_assert_true(test_seen_add(store, "https://o.example/a/2", NOW_US, NOW_US + 20));
	g_assert_true(test_seen_add(store, "https://o.example/a/3", NOW_US, NOW_US + 30));
	g_assert_true(test_seen_add(store, "https://o.example/a/4", NOW_US, NOW_US + 100));

	/* an entry counts until its expiry, not at it */
	g_assert_true(test_seen(store, "https://o.example/a/1", NOW_US));
	g_assert_true(test_seen(store, "https://o.example/a/1", NOW_US + 9));
	g_assert_false(test_seen(store, "https://o.example/a/1", NOW_US + 10));
	g_assert_true(test_seen(store, "https://o.example/a/3", NOW_US + 20));
	g_assert_false(test_seen(store, "https://o.example/a/5", NOW_US));

	/* adding again keeps the later expiry */
	g_assert_false(test_seen_add(store, "https://o.example/a/4", NOW_US + 1, NOW_US + 50));
	g_assert_true(test_seen(store, "https://o.example/a/4", NOW_US + 99));
	g_assert_false(test_seen_add(store, "https://o.example/a/3", NOW_US + 1, NOW_US + 40));
	g_assert_true(test_seen(store, "https://o.example/a/3", NOW_US + 39));
	g_assert_false(test_seen(store, "https://o.example/a/3", NOW_US + 40));

	/* an entry expired at the call's time is new again (it is not dropped yet) */
	g_assert_true(test_seen_add(store, "https://o.example/a/1", NOW_US + 10, NOW_US + 15));
	g_assert_true(test_seen(store, "https://o.example/a/1", NOW_US + 14));
	g_assert_false(test_seen(store, "https://o.example/a/1", NOW_US + 15));

	/* expire drops those at or before the time: a/1 (15) and a/2 (20) */
	g_assert_true(relay_store_seen_expire(store, NOW_US + 20, &removed, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(removed, ==, 2);
	g_assert_false(test_seen(store, "https://o.example/a/1", NOW_US));
	g_assert_false(test_seen(store, "https://o.example/a/2", NOW_US));
	g_assert_true(test_seen(store, "https://o.example/a/3", NOW_US));
	g_assert_true(test_seen(store, "https://o.example/a/4", NOW_US));

	g_assert_true(relay_store_seen_expire(store, NOW_US + 20, &removed, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(removed, ==, 0);
	g_assert_true(relay_store_seen_expire(store, NOW_US + 1000, NULL, NULL, &error));
	g_assert_no_error(error);
	g_assert_false(test_seen(store, "https://o.example/a/4", NOW_US));

	/* once expired away, an id is new again */
	g_assert_true(test_seen_add(store, "https://o.example/a/1", NOW_US, NOW_US + 10));
}

/* delivery queue */

static void
test_delivery_claim(StoreFixture *fixture, gconstpointer user_data)
{
	RelayStore *store = fixture->store;
	/* a body that is not text: NUL and 0xff bytes must survive */
	static const guint8 raw[] = {
		'{', '"', 'a', '"', ':', '1', '}', 0x00, 0xff, 0xc3, 0xa9, '\n'};
	g_autoptr(GBytes) body = g_bytes_new_static(raw, sizeof(raw));
	g_autoptr(RelayFanout) fanout = relay_fanout_new("alpha", body);
	g_autoptr(GPtrArray) fanouts = g_ptr_array_new();
	g_autoptr(GPtrArray) deliveries = NULL;
	g_autoptr(GPtrArray) again = NULL;
	g_autoptr(GHashTable) inboxes = g_hash_table_new(g_str_hash, g_str_equal);
	const RelayDelivery *first;

	test_put_network(store, "alpha");
	relay_fanout_add_inbox(fanout, "https://a.example/inbox");
	relay_fanout_add_inbox(fanout, "https://B.Example:8443/users/x/inbox");
	relay_fanout_add_inbox(fanout, "https://c.example/inbox");
	g_ptr_array_add(fanouts, fanout);
	test_enqueue(store, fanouts, NOW_US);
	g_assert_false(fanout->duplicate);
	test_assert_stats(store, 3, 0, 1, NOW_US);

	/* nothing is due before the enqueue time */
	again = test_claim(store, NOW_US - 1, 10, LEASE_US, "worker-1");
	g_assert_cmpuint(again->len, ==, 0);
	g_clear_pointer(&again, g_ptr_array_unref);

	deliveries = test_claim(store, NOW_US, 10, LEASE_US, "worker-1");
	g_assert_cmpuint(deliveries->len, ==, 3);
	first = g_ptr_array_index(deliveries, 0);
	for (guint i = 0; i < deliveries->len; i++) {
		const RelayDelivery *delivery = g_ptr_array_index(deliveries, i);
		g_autofree gchar *host = relay_store_host_of_url(delivery->inbox);

		g_assert_cmpstr(delivery->network, ==, "alpha");
		g_assert_cmpstr(delivery->host, ==, host);
		g_assert_cmpuint(delivery->attempts, ==, 0);
		g_assert_cmpint(delivery->created_at_us, ==, NOW_US);
		g_assert_cmpint(delivery->activity_id, ==, first->activity_id);
		g_assert_nonnull(delivery->body);
		g_assert_true(g_bytes_equal(delivery->body, body));
		/* one body for the fan-out, shared by its deliveries */
		g_assert_true(delivery->body == first->body);
		if (i > 0) {
			const RelayDelivery *previous = g_ptr_array_index(deliveries, i - 1);
			g_assert_cmpint(delivery->id, >, previous->id);
		}
		g_hash_table_add(inboxes, delivery->inbox);
	}
	g_assert_cmpuint(g_hash_table_size(inboxes), ==, 3);
	g_assert_true(g_hash_table_contains(inboxes, "https://a.example/inbox"));
	g_assert_true(g_hash_table_contains(inboxes, "https://B.Example:8443/users/x/inbox"));
	g_assert_true(g_hash_table_contains(inboxes, "https://c.example/inbox"));
	for (guint i = 0; i < deliveries->len; i++) {
		const RelayDelivery *delivery = g_ptr_array_index(deliveries, i);
		if (g_strcmp0(delivery->inbox, "https://B.Example:8443/users/x/inbox") == 0)
			g_assert_cmpstr(delivery->host, ==, "b.example:8443");
	}
	test_assert_stats(store, 3, 3, 1, NOW_US);

	/* claimed rows are not claimed twice */
	again = test_claim(store, NOW_US, 10, LEASE_US, "worker-2");
	g_assert_cmpuint(again->len, ==, 0);
}

/* 10,000 deliveries in one call, claimed in batches of 500: each exactly once */
static void
test_delivery_batch(StoreFixture *fixture, gconstpointer user_data)
{
	RelayStore *store = fixture->store;
	const guint n_fanouts = 20;
	const guint n_inboxes = 500;
	g_autoptr(GPtrArray) fanouts = test_fanouts_new();
	g_autoptr(GHashTable) ids =
		g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	g_autoptr(GHashTable) pairs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) per_body =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) activity_bodies =
		g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
	guint n_batches = 0;

	test_put_network(store, "alpha");
	for (guint i = 0; i < n_fanouts; i++) {
		g_autofree gchar *tag = g_strdup_printf("https://o.example/a/%u", i);
		g_ptr_array_add(fanouts, test_fanout_new("alpha", tag, n_inboxes, "host"));
	}
	test_enqueue(store, fanouts, NOW_US);
	test_assert_stats(store, n_fanouts * n_inboxes, 0, n_fanouts, NOW_US);

	while (TRUE) {
		g_autoptr(GPtrArray) batch =
			test_claim(store, NOW_US, 500, 300 * G_USEC_PER_SEC, "w");
		if (batch->len == 0)
			break;
		n_batches++;
		for (guint i = 0; i < batch->len; i++) {
			const RelayDelivery *delivery = g_ptr_array_index(batch, i);
			g_autofree gchar *text = g_strndup(g_bytes_get_data(delivery->body, NULL),
							   g_bytes_get_size(delivery->body));
			const gchar *known;
			guint count;

			g_assert_false(g_hash_table_contains(ids, &delivery->id));
			g_hash_table_add(ids, g_memdup2(&delivery->id, sizeof(delivery->id)));
			g_assert_true(g_hash_table_add(
				pairs, g_strdup_printf("%s %s", text, delivery->inbox)));
			count = GPOINTER_TO_UINT(g_hash_table_lookup(per_body, text));
			g_hash_table_insert(per_body, g_strdup(text), GUINT_TO_POINTER(count + 1));

			/* an activity id names one body */
			known = g_hash_table_lookup(activity_bodies, &delivery->activity_id);
			if (known == NULL) {
				g_hash_table_insert(activity_bodies,
						    g_memdup2(&delivery->activity_id,
							      sizeof(delivery->activity_id)),
						    g_strdup(text));
			} else {
				g_assert_cmpstr(known, ==, text);
			}
		}
	}
	g_assert_cmpuint(n_batches, ==, n_fanouts * n_inboxes / 500);
	g_assert_cmpuint(g_hash_table_size(ids), ==, n_fanouts * n_inboxes);
	g_assert_cmpuint(g_hash_table_size(pairs), ==, n_fanouts * n_inboxes);
	g_assert_cmpuint(g_hash_table_size(per_body), ==, n_fanouts);
	g_assert_cmpuint(g_hash_table_size(activity_bodies), ==, n_fanouts);
	for (guint i = 0; i < n_fanouts; i++) {
		g_autoptr(GBytes) body = NULL;
		g_autofree gchar *tag = g_strdup_printf("https://o.example/a/%u", i);
		g_autofree gchar *text = NULL;

		body = test_body_new(tag);
		text = g_strndup(g_bytes_get_data(body, NULL), g_bytes_get_size(body));
		g_assert_cmpuint(
			GPOINTER_TO_UINT(g_hash_table_lookup(per_body, text)), ==, n_inboxes);
	}
	test_assert_stats(store, n_fanouts * n_inboxes, n_fanouts * n_inboxes, n_fanouts, NOW_US);
}

/* rows for a host the delivery engine has paused are due only when the pause ends */
static void
test_delivery_not_before(StoreFixture *fixture, gconstpointer user_data)
{
	RelayStore *store = fixture->store;
	g_autoptr(GBytes) body = g_bytes_new_static("{}", 2);
	g_autoptr(RelayFanout) fanout = relay_fanout_new("alpha", body);
	g_autoptr(GPtrArray) fanouts = g_ptr_array_new();
	g_autoptr(GPtrArray) now = NULL;
	g_autoptr(GPtrArray) before = NULL;
	g_autoptr(GPtrArray) later = NULL;
	gint64 *until_us = g_new(gint64, 1);
	gint64 *past_us = g_new(gint64, 1);
	const RelayDelivery *delivery;

	test_put_network(store, "alpha");
	*until_us = NOW_US + (gint64)3600 * G_USEC_PER_SEC;
	*past_us = NOW_US - 1;
	fanout->not_before = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_hash_table_insert(fanout->not_before, g_strdup("paused.example"), until_us);
	g_hash_table_insert(fanout->not_before, g_strdup("over.example"), past_us);
	relay_fanout_add_inbox(fanout, "https://paused.example/inbox");
	relay_fanout_add_inbox(fanout, "https://over.example/inbox");
	relay_fanout_add_inbox(fanout, "https://fine.example/inbox");
	g_ptr_array_add(fanouts, fanout);
	test_enqueue(store, fanouts, NOW_US);
	test_assert_stats(store, 3, 0, 1, NOW_US);

	/* the two other hosts at once; the paused one not a microsecond before its time */
	now = test_claim(store, NOW_US, 10, LEASE_US, "worker-1");
	g_assert_cmpuint(now->len, ==, 2);
	for (guint i = 0; i < now->len; i++) {
		delivery = g_ptr_array_index(now, i);
		g_assert_cmpstr(delivery->host, !=, "paused.example");
	}
	/* (the two others come back as their leases end; the paused one does not) */
	before = test_claim(store, *until_us - 1, 10, LEASE_US, "worker-1");
	for (guint i = 0; i < before->len; i++) {
		delivery = g_ptr_array_index(before, i);
		g_assert_cmpstr(delivery->host, !=, "paused.example");
	}
	later = test_claim(store, *until_us, 10, LEASE_US, "worker-1");
	g_assert_cmpuint(later->len, ==, 1);
	delivery = g_ptr_array_index(later, 0);
	g_assert_cmpstr(delivery->host, ==, "paused.example");
	/* created when queued, not when due: max-age counts from then */
	g_assert_cmpint(delivery->created_at_us, ==, NOW_US);
	g_assert_cmpuint(delivery->attempts, ==, 0);
}

static void
test_delivery_limit(StoreFixture *fixture, gconstpointer user_data)
{
	RelayStore *store = fixture->store;
	g_autoptr(GPtrArray) batch = NULL;
	const guint expected[] = {0, 2, 2, 1, 0};
	const guint limits[] = {0, 2, 2, 2, 2};

	test_put_network(store, "alpha");
	test_enqueue_one(store, "alpha", "https://o.example/a/1", 5, "limit", NOW_US);
	for (guint i = 0; i < G_N_ELEMENTS(limits); i++) {
		batch = test_claim(store, NOW_US, limits[i], LEASE_US, NULL);
		g_assert_cmpuint(batch->len, ==, expected[i]);
		g_clear_pointer(&batch, g_ptr_array_unref);
	}
	test_assert_stats(store, 5, 5, 1, NOW_US);
}

/* the longest due first, then by id */
static void
test_delivery_order(StoreFixture *fixture, gconstpointer user_data)
{
	RelayStore *store = fixture->store;
	g_autoptr(GPtrArray) batch = NULL;
	const RelayDelivery *delivery;
	gint64 x_activity;
	gint64 y_activity;

	/* X is queued first (lower ids) but due later than Y */
	test_put_network(store, "alpha");
	test_enqueue_one(store, "alpha", "https://o.example/x", 2, "x", NOW_US + 100);
	test_enqueue_one(store, "alpha", "https://o.example/y", 2, "y", NOW_US + 50);

	batch = test_claim(store, NOW_US + 99, 10, LEASE_US, NULL);
	g_assert_cmpuint(batch->len, ==, 2);
	g_clear_pointer(&batch, g_ptr_array_unref);
	g_assert_true(relay_store_delivery_release(store, NULL, NOW_US + 50, NULL, NULL, NULL));

	batch = test_claim(store, NOW_US + 100, 3, LEASE_US, NULL);
	g_assert_cmpuint(batch->len, ==, 3);
	y_activity = ((RelayDelivery *)g_ptr_array_index(batch, 0))->activity_id;
	delivery = g_ptr_array_index(batch, 1);
	g_assert_cmpint(delivery->activity_id, ==, y_activity);
	g_assert_cmpint(delivery->id, >, ((RelayDelivery *)g_ptr_array_index(batch, 0))->id);
	g_assert_cmpint(delivery->created_at_us, ==, NOW_US + 50);
	delivery = g_ptr_array_index(batch, 2);
	x_activity = delivery->activity_id;
	g_assert_cmpint(x_activity, !=, y_activity);
	g_assert_cmpint(delivery->id, <, ((RelayDelivery *)g_ptr_array_index(batch, 0))->id);
	g_assert_cmpint(delivery->created_at_us, ==, NOW_US + 100);
	g_clear_pointer(&batch, g_ptr_array_unref);

	batch = test_claim(store, NOW_US + 100, 3, LEASE_US, NULL);
	g_assert_cmpuint(batch->len, ==, 1);
	g_assert_cmpint(
		((RelayDelivery *)g_ptr_array_index(batch, 0))->activity_id, ==, x_activity);
}

/* claims hold for the lease, then the rows are due again (a crashed claimer) */
static void
test_delivery_lease(StoreFixture *fixture, gconstpointer user_data)
{
	RelayStore *store = fixture->store;
	g_autoptr(GPtrArray) first = NULL;
	g_autoptr(GPtrArray) batch = NULL;

	test_put_network(store, "alpha");
	test_enqueue_one(store, "alpha", "https://o.example/a/1", 3, "lease", NOW_US);

	first = test_claim(store, NOW_US, 10, LEASE_US, "crashed");
	g_assert_cmpuint(first->len, ==, 3);
	batch = test_claim(store, NOW_US + LEASE_US - 1, 10, LEASE_US, "other");
	g_assert_cmpuint(batch->len, ==, 0);
	g_clear_pointer(&batch, g_ptr_array_unref);

	batch = test_claim(store, NOW_US + LEASE_US, 10, LEASE_US, "other");
	g_assert_cmpuint(batch->len, ==, 3);
	for (guint i = 0; i < batch->len; i++) {
		const RelayDelivery *delivery = g_ptr_array_index(batch, i);
		const RelayDelivery *before = g_ptr_array_index(first, i);
		g_assert_cmpint(delivery->id, ==, before->id);
		g_assert_true(g_bytes_equal(delivery->body, before->body));
	}
	test_assert_stats(store, 3, 3, 1, NOW_US);
	g_clear_pointer(&batch, g_ptr_array_unref);

	/* the new claim holds for its own lease */
	batch = test_claim(store, NOW_US + 2 * LEASE_US - 1, 10, LEASE_US, "third");
	g_assert_cmpuint(batch->len, ==, 0);
	g_clear_pointer(&batch, g_ptr_array_unref);
	batch = test_claim(store, NOW_US + 2 * LEASE_US, 10, LEASE_US, "third");
	g_assert_cmpuint(batch->len, ==, 3);
}

static const RelayDelivery *
test_find_delivery(GPtrArray *deliveries, gint64 id)
{
	for (guint i = 0; i < deliveries->len; i++) {
		const RelayDelivery *delivery = g_ptr_array_index(deliveries, i);
		if (delivery->id == id)
			return delivery;
	}
	return NULL;
}

static void
test_delivery_settle(StoreFixture *fixture, gconstpointer user_data)
{
	RelayStore *store = fixture->store;
	g_autoptr(GPtrArray) claimed = NULL;
	g_autoptr(GPtrArray) batch = NULL;
	g_autoptr(GArray) results = g_array_new(FALSE, TRUE, sizeof(RelayDeliveryResult));
	g_autoptr(GError) error = NULL;
	const RelayDeliveryOutcome outcomes[] = {
		RELAY_DELIVERY_OUTCOME_DONE,
		RELAY_DELIVERY_OUTCOME_FAILED,
		RELAY_DELIVERY_OUTCOME_EXPIRED,
		RELAY_DELIVERY_OUTCOME_RETRY,
	};
	RelayDeliveryResult unknown = {.id = G_MAXINT64, .outcome = RELAY_DELIVERY_OUTCOME_DONE};
	const RelayDelivery *retried;
	gint64 retried_id;

	test_put_network(store, "alpha");
	test_enqueue_one(store, "alpha", "https://o.example/a/1", 4, "settle", NOW_US);
	claimed = test_claim(store, NOW_US, 10, LEASE_US, "w");
	g_assert_cmpuint(claimed->len, ==, 4);

	/* one call settles all four; an unknown id is ignored */
	for (guint i = 0; i < G_N_ELEMENTS(outcomes); i++) {
		const RelayDelivery *delivery = g_ptr_array_index(claimed, i);
		RelayDeliveryResult result = {
			.id = delivery->id,
			.outcome = outcomes[i],
			.retry_at_us = NOW_US + 100,
		};
		g_array_append_val(results, result);
	}
	g_array_append_val(results, unknown);
	g_assert_true(relay_store_delivery_settle(store, results, NULL, &error));
	g_assert_no_error(error);
	retried_id = ((RelayDelivery *)g_ptr_array_index(claimed, 3))->id;
	test_assert_stats(store, 1, 0, 1, NOW_US);

	/* the retry is not due before its time, and is due at it, one attempt older */
	batch = test_claim(store, NOW_US + 99, 10, LEASE_US, "w");
	g_assert_cmpuint(batch->len, ==, 0);
	g_clear_pointer(&batch, g_ptr_array_unref);
	batch = test_claim(store, NOW_US + 100, 10, LEASE_US, "w");
	g_assert_cmpuint(batch->len, ==, 1);
	retried = g_ptr_array_index(batch, 0);
	g_assert_cmpint(retried->id, ==, retried_id);
	g_assert_cmpuint(retried->attempts, ==, 1);
	g_assert_cmpint(retried->created_at_us, ==, NOW_US);
	g_assert_true(g_bytes_equal(retried->body,
				    ((RelayDelivery *)g_ptr_array_index(claimed, 3))->body));
	g_assert_null(
		test_find_delivery(batch, ((RelayDelivery *)g_ptr_array_index(claimed, 0))->id));
	test_assert_stats(store, 1, 1, 1, NOW_US);

	/* a retry may be due earlier than the lease would end */
	test_settle_id(store, retried_id, RELAY_DELIVERY_OUTCOME_RETRY, NOW_US + 110);
	test_assert_stats(store, 1, 0, 1, NOW_US);
	g_clear_pointer(&batch, g_ptr_array_unref);
	batch = test_claim(store, NOW_US + 110, 10, LEASE_US, "w");
	g_assert_cmpuint(batch->len, ==, 1);
	retried = g_ptr_array_index(batch, 0);
	g_assert_cmpuint(retried->attempts, ==, 2);

	/* the first claim's ids again: three are gone and ignored, the retried one is done */
	test_settle_all(store, claimed, RELAY_DELIVERY_OUTCOME_DONE, 0);
	test_assert_stats(store, 0, 0, 0, 0);
	test_settle_all(store, batch, RELAY_DELIVERY_OUTCOME_RETRY, NOW_US);
	test_assert_stats(store, 0, 0, 0, 0);
	g_clear_pointer(&batch, g_ptr_array_unref);
	batch = test_claim(store, NOW_US + DAY_US, 10, LEASE_US, "w");
	g_assert_cmpuint(batch->len, ==, 0);
}

/* bodies leave with their last row */
static void
test_delivery_gc(StoreFixture *fixture, gconstpointer user_data)
{
	RelayStore *store = fixture->store;
	g_autoptr(GPtrArray) fanouts = test_fanouts_new();
	g_autoptr(GPtrArray) claimed = NULL;
	g_autoptr(GPtrArray) batch = NULL;
	gint64 a_activity;
	const RelayDelivery *b_last = NULL;

	test_put_network(store, "alpha");
	test_put_network(store, "beta");
	g_ptr_array_add(fanouts, test_fanout_new("alpha", "https://o.example/a", 2, "gc-a"));
	g_ptr_array_add(fanouts, test_fanout_new("beta", "https://o.example/b", 2, "gc-b"));
	test_enqueue(store, fanouts, NOW_US);
	test_assert_stats(store, 4, 0, 2, NOW_US);

	claimed = test_claim(store, NOW_US, 10, LEASE_US, "w");
	g_assert_cmpuint(claimed->len, ==, 4);
	a_activity = ((RelayDelivery *)g_ptr_array_index(claimed, 0))->activity_id;
	for (guint i = 0; i < claimed->len; i++) {
		const RelayDelivery *delivery = g_ptr_array_index(claimed, i);
		if (delivery->activity_id == a_activity) {
			g_assert_cmpstr(delivery->network, ==, "alpha");
			test_settle_id(store, delivery->id, RELAY_DELIVERY_OUTCOME_DONE, 0);
		} else {
			g_assert_cmpstr(delivery->network, ==, "beta");
			b_last = delivery;
		}
	}
	g_assert_nonnull(b_last);
	test_assert_stats(store, 2, 2, 1, NOW_US);

	/* one of B's rows fails for good, the other retries: the body stays for the retry */
	for (guint i = 0; i < claimed->len; i++) {
		const RelayDelivery *delivery = g_ptr_array_index(claimed, i);
		if (delivery->activity_id != a_activity && delivery != b_last)
			test_settle_id(store, delivery->id, RELAY_DELIVERY_OUTCOME_FAILED, 0);
	}
	test_settle_id(store, b_last->id, RELAY_DELIVERY_OUTCOME_RETRY, NOW_US + 10);
	test_assert_stats(store, 1, 0, 1, NOW_US);

	batch = test_claim(store, NOW_US + 10, 10, LEASE_US, "w");
	g_assert_cmpuint(batch->len, ==, 1);
	g_assert_true(
		g_bytes_equal(((RelayDelivery *)g_ptr_array_index(batch, 0))->body, b_last->body));
	test_settle_all(store, batch, RELAY_DELIVERY_OUTCOME_EXPIRED, 0);
	test_assert_stats(store, 0, 0, 0, 0);
}

static void
test_delivery_release(StoreFixture *fixture, gconstpointer user_data)
{
	RelayStore *store = fixture->store;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) w1 = NULL;
	g_autoptr(GPtrArray) w2 = NULL;
	g_autoptr(GPtrArray) batch = NULL;
	guint64 released = G_MAXUINT64;

	test_put_network(store, "alpha");
	test_enqueue_one(store, "alpha", "https://o.example/a/1", 4, "release", NOW_US);

	g_assert_true(relay_store_delivery_release(store, NULL, NOW_US, &released, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(released, ==, 0);

	w1 = test_claim(store, NOW_US, 2, LEASE_US, "w1");
	g_assert_cmpuint(w1->len, ==, 2);
	w2 = test_claim(store, NOW_US, 2, LEASE_US, "w2");
	g_assert_cmpuint(w2->len, ==, 2);
	test_assert_stats(store, 4, 4, 1, NOW_US);

	/* by claimer: only w1's rows come back, due at the given time */
	g_assert_true(
		relay_store_delivery_release(store, "w1", NOW_US + 1, &released, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(released, ==, 2);
	test_assert_stats(store, 4, 2, 1, NOW_US);
	g_assert_true(
		relay_store_delivery_release(store, "nobody", NOW_US + 1, &released, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(released, ==, 0);

	batch = test_claim(store, NOW_US, 10, LEASE_US, "w3");
	g_assert_cmpuint(batch->len, ==, 0);
	g_clear_pointer(&batch, g_ptr_array_unref);
	batch = test_claim(store, NOW_US + 1, 10, LEASE_US, "w3");
	g_assert_cmpuint(batch->len, ==, 2);
	for (guint i = 0; i < batch->len; i++) {
		const RelayDelivery *delivery = g_ptr_array_index(batch, i);
		g_assert_nonnull(test_find_delivery(w1, delivery->id));
		g_assert_cmpuint(delivery->attempts, ==, 0);
	}
	g_clear_pointer(&batch, g_ptr_array_unref);

	/* all claims: w2's and w3's */
	g_assert_true(
		relay_store_delivery_release(store, NULL, NOW_US + 2, &released, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(released, ==, 4);
	test_assert_stats(store, 4, 0, 1, NOW_US);
	batch = test_claim(store, NOW_US + 2, 10, LEASE_US, "w4");
	g_assert_cmpuint(batch->len, ==, 4);
	g_clear_pointer(&batch, g_ptr_array_unref);

	/* released without asking how many */
	g_assert_true(relay_store_delivery_release(store, "w4", NOW_US + 3, NULL, NULL, &error));
	g_assert_no_error(error);
	test_assert_stats(store, 4, 0, 1, NOW_US);
}

static void
test_delivery_stats(StoreFixture *fixture, gconstpointer user_data)
{
	RelayStore *store = fixture->store;
	g_autoptr(GPtrArray) batch = NULL;

	test_put_network(store, "alpha");
	test_assert_stats(store, 0, 0, 0, 0);

	test_enqueue_one(store, "alpha", "https://o.example/a", 2, "stats-a", NOW_US);
	test_enqueue_one(store, "alpha", "https://o.example/b", 3, "stats-b", NOW_US + 50);
	test_assert_stats(store, 5, 0, 2, NOW_US);

	/* A's rows are due first: claim and finish them, and B becomes the oldest */
	batch = test_claim(store, NOW_US + 60, 1, LEASE_US, "w");
	g_assert_cmpuint(batch->len, ==, 1);
	g_assert_cmpint(((RelayDelivery *)g_ptr_array_index(batch, 0))->created_at_us, ==, NOW_US);
	test_assert_stats(store, 5, 1, 2, NOW_US);
	test_settle_all(store, batch, RELAY_DELIVERY_OUTCOME_DONE, 0);
	test_assert_stats(store, 4, 0, 2, NOW_US);
	g_clear_pointer(&batch, g_ptr_array_unref);
	batch = test_claim(store, NOW_US + 60, 1, LEASE_US, "w");
	g_assert_cmpuint(batch->len, ==, 1);
	g_assert_cmpint(((RelayDelivery *)g_ptr_array_index(batch, 0))->created_at_us, ==, NOW_US);
	test_assert_stats(store, 4, 1, 2, NOW_US);
	test_settle_all(store, batch, RELAY_DELIVERY_OUTCOME_DONE, 0);
	test_assert_stats(store, 3, 0, 1, NOW_US + 50);
	g_clear_pointer(&batch, g_ptr_array_unref);

	batch = test_claim(store, NOW_US + 60, 10, LEASE_US, "w");
	g_assert_cmpuint(batch->len, ==, 3);
	test_assert_stats(store, 3, 3, 1, NOW_US + 50);
	test_settle_all(store, batch, RELAY_DELIVERY_OUTCOME_FAILED, 0);
	test_assert_stats(store, 0, 0, 0, 0);
}

static const RelayHostQueueStats *
test_find_host(GPtrArray *hosts, const gchar *host)
{
	for (guint i = 0; i < hosts->len; i++) {
		const RelayHostQueueStats *stats = g_ptr_array_index(hosts, i);
		if (g_strcmp0(stats->host, host) == 0)
			return stats;
	}
	return NULL;
}

static GPtrArray *
test_delivery_hosts(RelayStore *store)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) hosts = relay_store_delivery_hosts(store, NULL, &error);

	g_assert_no_error(error);
	g_assert_nonnull(hosts);
	return g_steal_pointer(&hosts);
}

/* the queue by host, for the status page */
static void
test_delivery_hosts_case(StoreFixture *fixture, gconstpointer user_data)
{
	RelayStore *store = fixture->store;
	g_autoptr(GPtrArray) hosts = NULL;
	g_autoptr(GPtrArray) fanouts = test_fanouts_new();
	g_autoptr(GPtrArray) batch = NULL;
	g_autoptr(GBytes) body_a = test_body_new("https://o.example/hosts/a");
	g_autoptr(GBytes) body_b = test_body_new("https://o.example/hosts/b");
	RelayFanout *fanout;
	const RelayHostQueueStats *stats;

	test_put_network(store, "alpha");
	hosts = test_delivery_hosts(store);
	g_assert_cmpuint(hosts->len, ==, 0);
	g_clear_pointer(&hosts, g_ptr_array_unref);

	fanout = relay_fanout_new("alpha", body_a);
	relay_fanout_add_inbox(fanout, "https://one.example/inbox");
	relay_fanout_add_inbox(fanout, "https://one.example/users/x/inbox");
	relay_fanout_add_inbox(fanout, "https://Two.example:8443/inbox");
	g_ptr_array_add(fanouts, fanout);
	test_enqueue(store, fanouts, NOW_US);
	g_ptr_array_set_size(fanouts, 0);
	fanout = relay_fanout_new("alpha", body_b);
	relay_fanout_add_inbox(fanout, "https://one.example/inbox");
	g_ptr_array_add(fanouts, fanout);
	test_enqueue(store, fanouts, NOW_US + 50);

	/* by host, with the port; the oldest row of each */
	hosts = test_delivery_hosts(store);
	g_assert_cmpuint(hosts->len, ==, 2);
	stats = g_ptr_array_index(hosts, 0);
	g_assert_cmpstr(stats->host, ==, "one.example");
	g_assert_cmpuint(stats->queued, ==, 3);
	g_assert_cmpuint(stats->retrying, ==, 0);
	g_assert_cmpuint(stats->max_attempts, ==, 0);
	g_assert_cmpint(stats->oldest_created_us, ==, NOW_US);
	stats = g_ptr_array_index(hosts, 1);
	g_assert_cmpstr(stats->host, ==, "two.example:8443");
	g_assert_cmpuint(stats->queued, ==, 1);
	g_clear_pointer(&hosts, g_ptr_array_unref);

	/* claimed rows still count; failed ones count as retrying; settled ones leave */
	batch = test_claim(store, NOW_US + 60, 10, LEASE_US, "w");
	g_assert_cmpuint(batch->len, ==, 4);
	hosts = test_delivery_hosts(store);
	g_assert_cmpuint(test_find_host(hosts, "one.example")->queued, ==, 3);
	g_clear_pointer(&hosts, g_ptr_array_unref);
	for (guint i = 0; i < batch->len; i++) {
		const RelayDelivery *delivery = g_ptr_array_index(batch, i);
		if (g_strcmp0(delivery->host, "two.example:8443") == 0)
			test_settle_id(store, delivery->id, RELAY_DELIVERY_OUTCOME_DONE, 0);
		else if (delivery->created_at_us == NOW_US)
			test_settle_id(
				store, delivery->id, RELAY_DELIVERY_OUTCOME_RETRY, NOW_US + 100);
	}
	hosts = test_delivery_hosts(store);
	g_assert_cmpuint(hosts->len, ==, 1);
	g_assert_null(test_find_host(hosts, "two.example:8443"));
	stats = test_find_host(hosts, "one.example");
	g_assert_nonnull(stats);
	g_assert_cmpuint(stats->queued, ==, 3);
	g_assert_cmpuint(stats->retrying, ==, 2);
	g_assert_cmpuint(stats->max_attempts, ==, 1);
	g_assert_cmpint(stats->oldest_created_us, ==, NOW_US);
	g_clear_pointer(&hosts, g_ptr_array_unref);

	/* all gone */
	test_settle_all(store, batch, RELAY_DELIVERY_OUTCOME_FAILED, 0);
	hosts = test_delivery_hosts(store);
	g_assert_cmpuint(hosts->len, ==, 0);
}

static void
test_delivery_seen(StoreFixture *fixture, gconstpointer user_data)
{
	RelayStore *store = fixture->store;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) fanouts = test_fanouts_new();
	g_autoptr(GPtrArray) batch = NULL;
	RelayFanout *f1;
	RelayFanout *f2;
	RelayFanout *f3;

	test_put_network(store, "alpha");
	g_assert_true(test_seen_add(store, "https://o.example/already", NOW_US, NOW_US + DAY_US));

	f1 = test_fanout_new("alpha", "https://o.example/1", 2, "seen-1");
	relay_fanout_add_seen_id(f1, "https://o.example/1");
	f1->seen_expires_us = NOW_US + DAY_US;
	f2 = test_fanout_new("alpha", "https://o.example/2", 3, "seen-2");
	relay_fanout_add_seen_id(f2, "https://o.example/2");
	relay_fanout_add_seen_id(f2, "https://o.example/already");
	f2->seen_expires_us = NOW_US + DAY_US;
	f3 = test_fanout_new("alpha", "https://o.example/3", 1, "seen-3");
	relay_fanout_add_seen_id(f3, "https://o.example/3");
	relay_fanout_add_seen_id(f3, "https://o.example/3/object");
	f3->seen_expires_us = NOW_US + 10;
	g_ptr_array_add(fanouts, f1);
	g_ptr_array_add(fanouts, f2);
	g_ptr_array_add(fanouts, f3);
	test_enqueue(store, fanouts, NOW_US);
	g_assert_false(f1->duplicate);
	g_assert_true(f2->duplicate);
	g_assert_false(f3->duplicate);
	test_assert_stats(store, 3, 0, 2, NOW_US);

	/* the queued fan-outs' ids are seen; the duplicate's new id was not added */
	g_assert_true(test_seen(store, "https://o.example/1", NOW_US));
	g_assert_true(test_seen(store, "https://o.example/3", NOW_US));
	g_assert_true(test_seen(store, "https://o.example/3/object", NOW_US));
	g_assert_false(test_seen(store, "https://o.example/2", NOW_US));
	g_assert_false(test_seen(store, "https://o.example/1", NOW_US + DAY_US));

	batch = test_claim(store, NOW_US, 10, LEASE_US, "w");
	g_assert_cmpuint(batch->len, ==, 3);
	for (guint i = 0; i < batch->len; i++) {
		const RelayDelivery *delivery = g_ptr_array_index(batch, i);
		g_assert_false(g_str_has_prefix(delivery->inbox, "https://seen-2-"));
	}
	g_clear_pointer(&batch, g_ptr_array_unref);

	/* a later call: 1 again is a duplicate, 2 now goes through, and 3 has expired at this
	 * call's time, so it is new again */
	g_ptr_array_set_size(fanouts, 0);
	f1 = test_fanout_new("alpha", "https://o.example/1", 2, "seen-1b");
	relay_fanout_add_seen_id(f1, "https://o.example/1");
	f1->seen_expires_us = NOW_US + DAY_US;
	f2 = test_fanout_new("alpha", "https://o.example/2", 3, "seen-2b");
	relay_fanout_add_seen_id(f2, "https://o.example/2");
	f2->seen_expires_us = NOW_US + DAY_US;
	f3 = test_fanout_new("alpha", "https://o.example/3", 1, "seen-3b");
	relay_fanout_add_seen_id(f3, "https://o.example/3");
	f3->seen_expires_us = NOW_US + DAY_US;
	g_ptr_array_add(fanouts, f1);
	g_ptr_array_add(fanouts, f2);
	g_ptr_array_add(fanouts, f3);
	test_enqueue(store, fanouts, NOW_US + 10);
	g_assert_true(f1->duplicate);
	g_assert_false(f2->duplicate);
	g_assert_false(f3->duplicate);
	test_assert_stats(store, 7, 3, 4, NOW_US);
	g_assert_true(test_seen(store, "https://o.example/3", NOW_US + DAY_US - 1));

	/* without seen ids, a fan-out is always queued */
	test_enqueue_one(store, "alpha", "https://o.example/1", 1, "seen-none", NOW_US + 20);
	test_assert_stats(store, 8, 3, 5, NOW_US);
}

/* a bad fan-out fails the whole call, and nothing of it is kept */
static void
test_delivery_invalid(StoreFixture *fixture, gconstpointer user_data)
{
	RelayStore *store = fixture->store;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) fanouts = test_fanouts_new();
	g_autoptr(GPtrArray) batch = NULL;
	RelayFanout *good;
	RelayFanout *bad;

	test_put_network(store, "alpha");
	good = test_fanout_new("alpha", "https://o.example/good", 3, "good");
	relay_fanout_add_seen_id(good, "https://o.example/good");
	good->seen_expires_us = NOW_US + DAY_US;
	bad = test_fanout_new("alpha", "https://o.example/bad", 2, "bad");
	g_ptr_array_add(bad->inboxes, NULL);
	g_ptr_array_add(fanouts, good);
	g_ptr_array_add(fanouts, bad);

	g_assert_false(relay_store_delivery_enqueue(store, fanouts, NOW_US, NULL, &error));
	g_assert_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_INVALID);
	test_assert_stats(store, 0, 0, 0, 0);
	g_assert_false(test_seen(store, "https://o.example/good", NOW_US));
	batch = test_claim(store, NOW_US, 10, LEASE_US, NULL);
	g_assert_cmpuint(batch->len, ==, 0);
}

static void
test_counters(StoreFixture *fixture, gconstpointer user_data)
{
	RelayStore *store = fixture->store;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) deltas =
		g_ptr_array_new_with_free_func((GDestroyNotify)relay_counter_free);
	g_autoptr(GPtrArray) counters = NULL;
	const RelayCounter *counter;

	counters = relay_store_counters_get(store, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(counters);
	g_assert_cmpuint(counters->len, ==, 0);
	g_clear_pointer(&counters, g_ptr_array_unref);

	g_ptr_array_add(deltas, relay_counter_new("relay_inbox_total", 1));
	g_ptr_array_add(deltas, relay_counter_new("relay_deliveries_total{outcome=\"done\"}", 3));
	g_assert_true(relay_store_counters_add(store, deltas, NULL, &error));
	g_assert_no_error(error);

	g_ptr_array_set_size(deltas, 0);
	g_ptr_array_add(deltas, relay_counter_new("relay_inbox_total", 2));
	g_ptr_array_add(deltas, relay_counter_new("a_gauge", -5));
	g_ptr_array_add(deltas, relay_counter_new("relay_inbox_total", 40));
	g_assert_true(relay_store_counters_add(store, deltas, NULL, &error));
	g_assert_no_error(error);

	counters = relay_store_counters_get(store, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(counters);
	g_assert_cmpuint(counters->len, ==, 3);
	counter = g_ptr_array_index(counters, 0);
	g_assert_cmpstr(counter->name, ==, "a_gauge");
	g_assert_cmpint(counter->value, ==, -5);
	counter = g_ptr_array_index(counters, 1);
	g_assert_cmpstr(counter->name, ==, "relay_deliveries_total{outcome=\"done\"}");
	g_assert_cmpint(counter->value, ==, 3);
	counter = g_ptr_array_index(counters, 2);
	g_assert_cmpstr(counter->name, ==, "relay_inbox_total");
	g_assert_cmpint(counter->value, ==, 43);
	g_clear_pointer(&counters, g_ptr_array_unref);

	/* large values do not wrap */
	g_ptr_array_set_size(deltas, 0);
	g_ptr_array_add(deltas, relay_counter_new("a_gauge", G_GINT64_CONSTANT(1) << 40));
	g_assert_true(relay_store_counters_add(store, deltas, NULL, &error));
	g_assert_no_error(error);
	counters = relay_store_counters_get(store, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(counters);
	counter = g_ptr_array_index(counters, 0);
	g_assert_cmpint(counter->value, ==, (G_GINT64_CONSTANT(1) << 40) - 5);
}

/* several threads claim from one queue: every row exactly once */
typedef struct {
	RelayStore *store;
	GMutex mutex;
	GHashTable *ids;
	guint duplicates;
	guint errors;
} TestClaimers;

static gpointer
test_claimer_thread(gpointer user_data)
{
	TestClaimers *claimers = user_data;
	g_autofree gchar *name = g_strdup_printf("thread-%p", (gpointer)g_thread_self());

	while (TRUE) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GPtrArray) batch = relay_store_delivery_claim(
			claimers->store, NOW_US, 37, LEASE_US, name, NULL, &error);
		g_autoptr(GMutexLocker) locker = NULL;

		locker = g_mutex_locker_new(&claimers->mutex);
		if (batch == NULL) {
			claimers->errors++;
			return NULL;
		}
		if (batch->len == 0)
			return NULL;
		for (guint i = 0; i < batch->len; i++) {
			const RelayDelivery *delivery = g_ptr_array_index(batch, i);
			if (!g_hash_table_add(claimers->ids,
					      g_memdup2(&delivery->id, sizeof(delivery->id))))
				claimers->duplicates++;
		}
	}
}

static void
test_delivery_threads(StoreFixture *fixture, gconstpointer user_data)
{
	TestClaimers claimers = {.store = fixture->store};
	g_autoptr(GPtrArray) fanouts = test_fanouts_new();
	GThread *threads[4];

	test_put_network(fixture->store, "alpha");
	for (guint i = 0; i < 20; i++) {
		g_autofree gchar *tag = g_strdup_printf("https://o.example/t/%u", i);
		g_ptr_array_add(fanouts, test_fanout_new("alpha", tag, 100, "threads"));
	}
	test_enqueue(fixture->store, fanouts, NOW_US);

	g_mutex_init(&claimers.mutex);
	claimers.ids = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
		threads[i] = g_thread_new("claimer", test_claimer_thread, &claimers);
	for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
		g_thread_join(threads[i]);
	g_assert_cmpuint(claimers.errors, ==, 0);
	g_assert_cmpuint(claimers.duplicates, ==, 0);
	g_assert_cmpuint(g_hash_table_size(claimers.ids), ==, 2000);
	test_assert_stats(fixture->store, 2000, 2000, 20, NOW_US);
	g_hash_table_unref(claimers.ids);
	g_mutex_clear(&claimers.mutex);
}

static GPtrArray *
test_pending_hosts(RelayStore *store)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) hosts = relay_store_delivery_pending_hosts(store, NULL, &error);

	g_assert_no_error(error);
	g_assert_nonnull(hosts);
	return g_steal_pointer(&hosts);
}

static void
test_assert_pending_host(GPtrArray *hosts,
			 guint index,
			 const gchar *host,
			 guint64 queued,
			 guint64 claimed,
			 gint64 oldest_created_us,
			 gint64 next_attempt_us)
{
	const RelayPendingHost *entry;

	g_assert_cmpuint(index, <, hosts->len);
	entry = g_ptr_array_index(hosts, index);
	g_assert_cmpstr(entry->host, ==, host);
	g_assert_cmpuint(entry->queued, ==, queued);
	g_assert_cmpuint(entry->claimed, ==, claimed);
	g_assert_cmpint(entry->oldest_created_us, ==, oldest_created_us);
	g_assert_cmpint(entry->next_attempt_us, ==, next_attempt_us);
}

/* the queue by host: counts, ages and due times, rescheduling a host, dropping a host */
static void
test_delivery_pending_hosts(StoreFixture *fixture, gconstpointer user_data)
{
	RelayStore *store = fixture->store;
	g_autoptr(GPtrArray) fanouts = test_fanouts_new();
	g_autoptr(GPtrArray) hosts = NULL;
	g_autoptr(GPtrArray) batch = NULL;
	g_autoptr(GBytes) body_a = test_body_new("https://o.example/hosts-a");
	g_autoptr(GBytes) body_b = test_body_new("https://o.example/hosts-b");
	g_autoptr(GError) error = NULL;
	RelayFanout *fanout;
	guint64 count = 99;

	test_put_network(store, "alpha");
	hosts = test_pending_hosts(store);
	g_assert_cmpuint(hosts->len, ==, 0);
	g_clear_pointer(&hosts, g_ptr_array_unref);

	/* A: two inboxes on h1, one on h2 with a port; B, later: one on h1 */
	fanout = relay_fanout_new("alpha", body_a);
	relay_fanout_add_inbox(fanout, "https://H1.example/inbox");
	relay_fanout_add_inbox(fanout, "https://h1.example/users/x/inbox");
	relay_fanout_add_inbox(fanout, "https://h2.example:8443/inbox");
	g_ptr_array_add(fanouts, fanout);
	test_enqueue(store, fanouts, NOW_US);
	g_ptr_array_set_size(fanouts, 0);
	fanout = relay_fanout_new("alpha", body_b);
	relay_fanout_add_inbox(fanout, "https://h1.example/inbox");
	g_ptr_array_add(fanouts, fanout);
	test_enqueue(store, fanouts, NOW_US + 10);

	hosts = test_pending_hosts(store);
	g_assert_cmpuint(hosts->len, ==, 2);
	test_assert_pending_host(hosts, 0, "h1.example", 3, 0, NOW_US, NOW_US);
	test_assert_pending_host(hosts, 1, "h2.example:8443", 1, 0, NOW_US, NOW_US);
	g_clear_pointer(&hosts, g_ptr_array_unref);

	/* a claimed row counts as queued and claimed, and its lease is not a due time */
	batch = test_claim(store, NOW_US + 20, 1, LEASE_US, "w");
	g_assert_cmpuint(batch->len, ==, 1);
	g_assert_cmpstr(((RelayDelivery *)g_ptr_array_index(batch, 0))->host, ==, "h1.example");
	hosts = test_pending_hosts(store);
	test_assert_pending_host(hosts, 0, "h1.example", 3, 1, NOW_US, NOW_US);
	g_clear_pointer(&hosts, g_ptr_array_unref);
	test_settle_all(store, batch, RELAY_DELIVERY_OUTCOME_RETRY, NOW_US + 1000);
	g_clear_pointer(&batch, g_ptr_array_unref);

	/* rescheduling moves the rows due later (the retry, and B's row), not the one due now */
	g_assert_true(relay_store_delivery_reschedule_host(
		store, "h1.example", NOW_US + 5, &count, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(count, ==, 2);
	batch = test_claim(store, NOW_US + 5, 10, LEASE_US, "w");
	g_assert_cmpuint(batch->len, ==, 4);
	hosts = test_pending_hosts(store);
	test_assert_pending_host(hosts, 0, "h1.example", 3, 3, NOW_US, 0);
	g_clear_pointer(&hosts, g_ptr_array_unref);

	/* claimed rows are not rescheduled; an unknown host has nothing to move */
	g_assert_true(relay_store_delivery_reschedule_host(
		store, "h1.example", NOW_US, &count, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(count, ==, 0);
	g_assert_true(relay_store_delivery_reschedule_host(
		store, "nowhere.example", NOW_US, NULL, NULL, &error));
	g_assert_no_error(error);

	/* dropping h1 takes its rows, claimed or not, and B's body with them */
	g_assert_true(relay_store_delivery_drop_host(store, "h1.example", &count, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(count, ==, 3);
	test_assert_stats(store, 1, 1, 1, NOW_US);
	hosts = test_pending_hosts(store);
	g_assert_cmpuint(hosts->len, ==, 1);
	test_assert_pending_host(hosts, 0, "h2.example:8443", 1, 1, NOW_US, 0);
	g_clear_pointer(&hosts, g_ptr_array_unref);
	g_assert_true(
		relay_store_delivery_drop_host(store, "nowhere.example", &count, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(count, ==, 0);

	/* settling the dropped rows later is harmless */
	test_settle_all(store, batch, RELAY_DELIVERY_OUTCOME_DONE, 0);
	test_assert_stats(store, 0, 0, 0, 0);
}

/* dropping one network's rows to one inbox leaves the other networks' and inboxes' rows */
static void
test_delivery_drop_inbox(StoreFixture *fixture, gconstpointer user_data)
{
	RelayStore *store = fixture->store;
	g_autoptr(GPtrArray) fanouts = test_fanouts_new();
	g_autoptr(GPtrArray) batch = NULL;
	g_autoptr(GBytes) body_a = test_body_new("https://o.example/drop-a");
	g_autoptr(GBytes) body_b = test_body_new("https://o.example/drop-b");
	g_autoptr(GError) error = NULL;
	RelayFanout *fanout;
	guint64 count = 99;

	test_put_network(store, "alpha");
	test_put_network(store, "beta");
	fanout = relay_fanout_new("alpha", body_a);
	relay_fanout_add_inbox(fanout, "https://peer.example/inbox");
	relay_fanout_add_inbox(fanout, "https://peer.example/networks/town/inbox");
	g_ptr_array_add(fanouts, fanout);
	fanout = relay_fanout_new("beta", body_b);
	relay_fanout_add_inbox(fanout, "https://peer.example/inbox");
	g_ptr_array_add(fanouts, fanout);
	test_enqueue(store, fanouts, NOW_US);
	/* alpha's first row is in flight: it goes too */
	batch = test_claim(store, NOW_US, 1, LEASE_US, "w");
	g_assert_cmpuint(batch->len, ==, 1);
	g_assert_cmpstr(((RelayDelivery *)g_ptr_array_index(batch, 0))->network, ==, "alpha");
	g_assert_cmpstr(((RelayDelivery *)g_ptr_array_index(batch, 0))->inbox,
			==,
			"https://peer.example/inbox");

	g_assert_true(relay_store_delivery_drop_inbox(
		store, "alpha", "https://peer.example/inbox", &count, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(count, ==, 1);
	test_assert_stats(store, 2, 0, 2, NOW_US);
	/* nothing left to drop; the last row of alpha's body takes the body with it */
	g_assert_true(relay_store_delivery_drop_inbox(
		store, "alpha", "https://peer.example/inbox", &count, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(count, ==, 0);
	g_assert_true(relay_store_delivery_drop_inbox(
		store, "alpha", "https://peer.example/networks/town/inbox", &count, NULL, &error));
	g_assert_cmpuint(count, ==, 1);
	test_settle_all(store, batch, RELAY_DELIVERY_OUTCOME_DONE, 0);
	test_assert_stats(store, 1, 0, 1, NOW_US);
}

/* the main-context wrappers */

typedef struct {
	RelayStore *store;
	guint n_done;
	gboolean ping_ok;
	GError *ping_error;
	RelayNetworkRecord *networks[2];
	gboolean stats_ok;
	RelayQueueStats stats;
} TestAsync;

static void
test_async_clear(TestAsync *data)
{
	g_clear_error(&data->ping_error);
	g_clear_pointer(&data->networks[0], relay_network_record_free);
	g_clear_pointer(&data->networks[1], relay_network_record_free);
}

typedef struct {
	TestAsync *data;
	guint n_done;
} TestAsyncWait;

static gboolean
test_async_done_cb(gpointer user_data)
{
	TestAsyncWait *wait = user_data;
	return wait->data->n_done >= wait->n_done;
}

static gboolean
test_async_idle_cb(gpointer user_data)
{
	RelayStore *store = user_data;
	return relay_store_get_pending(store) == 0;
}

/* runs the main context until @data has seen @n_done callbacks */
static void
test_async_wait(TestAsync *data, guint n_done)
{
	TestAsyncWait wait = {.data = data, .n_done = n_done};
	g_assert_true(relay_test_wait_until(NULL, test_async_done_cb, &wait, 10000));
}

static void
test_async_ping_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	TestAsync *data = user_data;

	g_assert_true(RELAY_STORE(source) == data->store);
	data->ping_ok = relay_store_ping_finish(RELAY_STORE(source), res, &data->ping_error);
	data->n_done++;
}

static void
test_async_ensure_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	TestAsync *data = user_data;
	g_autoptr(GError) error = NULL;
	RelayNetworkRecord *network =
		relay_store_network_ensure_finish(RELAY_STORE(source), res, &error);

	g_assert_no_error(error);
	g_assert_nonnull(network);
	if (data->networks[0] == NULL)
		data->networks[0] = network;
	else
		data->networks[1] = network;
	data->n_done++;
}

static void
test_async_stats_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	TestAsync *data = user_data;
	g_autoptr(GError) error = NULL;

	data->stats_ok =
		relay_store_delivery_stats_finish(RELAY_STORE(source), res, &data->stats, &error);
	g_assert_no_error(error);
	data->n_done++;
}

static void
test_async(StoreFixture *fixture, gconstpointer user_data)
{
	RelayStore *store = fixture->store;
	TestAsync data = {.store = store};

	relay_store_ping_async(store, NULL, test_async_ping_cb, &data);
	test_async_wait(&data, 1);
	g_assert_no_error(data.ping_error);
	g_assert_true(data.ping_ok);

	relay_store_network_ensure_async(store, "alpha", NULL, test_async_ensure_cb, &data);
	test_async_wait(&data, 2);
	relay_store_network_ensure_async(store, "alpha", NULL, test_async_ensure_cb, &data);
	test_async_wait(&data, 3);
	g_assert_cmpstr(data.networks[0]->name, ==, "alpha");
	g_assert_cmpstr(data.networks[1]->name, ==, "alpha");
	g_assert_cmpint(data.networks[0]->created_at_us, ==, data.networks[1]->created_at_us);

	test_enqueue_one(store, "alpha", "https://o.example/async", 3, "async", NOW_US);
	relay_store_delivery_stats_async(store, NULL, test_async_stats_cb, &data);
	test_async_wait(&data, 4);
	g_assert_true(data.stats_ok);
	g_assert_cmpuint(data.stats.queued, ==, 3);
	g_assert_cmpuint(data.stats.claimed, ==, 0);
	g_assert_cmpuint(data.stats.activities, ==, 1);
	g_assert_cmpint(data.stats.oldest_created_us, ==, NOW_US);

	/* several at once */
	relay_store_ping_async(store, NULL, test_async_ping_cb, &data);
	relay_store_delivery_stats_async(store, NULL, test_async_stats_cb, &data);
	relay_store_ping_async(store, NULL, test_async_ping_cb, &data);
	test_async_wait(&data, 7);
	g_assert_true(relay_test_wait_until(NULL, test_async_idle_cb, store, 10000));
	g_assert_cmpuint(relay_store_get_pending(store), ==, 0);
	test_async_clear(&data);
}

/* a closed store refuses work, sync and async */
static void
test_closed(StoreFixture *fixture, gconstpointer user_data)
{
	RelayStore *store = fixture->store;
	g_autoptr(GError) error = NULL;
	TestAsync data = {.store = store};
	g_autoptr(GPtrArray) batch = NULL;

	relay_store_close(store);
	g_assert_false(relay_store_ping(store, NULL, &error));
	g_assert_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_CLOSED);
	g_clear_error(&error);
	batch = relay_store_delivery_claim(store, NOW_US, 10, LEASE_US, NULL, NULL, &error);
	g_assert_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_CLOSED);
	g_assert_null(batch);

	relay_store_ping_async(store, NULL, test_async_ping_cb, &data);
	test_async_wait(&data, 1);
	g_assert_false(data.ping_ok);
	g_assert_error(data.ping_error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_CLOSED);
	g_assert_cmpuint(relay_store_get_pending(store), ==, 0);
	test_async_clear(&data);
}

/* sqlite only */

static gint
test_sqlite_user_version(const gchar *path)
{
	g_autoptr(sqlite3) db = NULL;
	g_autoptr(sqlite3_stmt) stmt = NULL;

	g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
	g_assert_cmpint(
		sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
	return sqlite3_column_int(stmt, 0);
}

static void
test_sqlite_exec_flags(const gchar *path, const gchar *sql, gint flags)
{
	g_autoptr(sqlite3) db = NULL;

	g_assert_cmpint(sqlite3_open_v2(path, &db, flags, NULL), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
}

static void
test_sqlite_exec(const gchar *path, const gchar *sql)
{
	test_sqlite_exec_flags(path, sql, SQLITE_OPEN_READWRITE);
}

/* the schema this binary writes */
#define TEST_SQLITE_SCHEMA_VERSION 4

static void
test_sqlite_migrations(StoreFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayNetworkRecord) network = NULL;

	test_put_network(fixture->store, "alpha");
	test_store_close(&fixture->store);
	g_assert_cmpint(
		test_sqlite_user_version(fixture->location), ==, TEST_SQLITE_SCHEMA_VERSION);

	/* reopening an up-to-date file migrates nothing and loses nothing */
	fixture->store = test_store_open("sqlite", fixture->location);
	network = relay_store_network_get(fixture->store, "alpha", NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(network);
	test_store_close(&fixture->store);
	g_assert_cmpint(
		test_sqlite_user_version(fixture->location), ==, TEST_SQLITE_SCHEMA_VERSION);
}

/* a database as schema version 1 left it, frozen here: its tables, and one row of each kind */
static const gchar test_sqlite_v1_database[] =
	"CREATE TABLE networks (name TEXT PRIMARY KEY, rsa_private_pem TEXT,"
	"  ed25519_private_pem TEXT, created_at INTEGER NOT NULL);"
	"CREATE TABLE members (network TEXT NOT NULL, actor TEXT NOT NULL, domain TEXT NOT NULL,"
	"  inbox TEXT NOT NULL, shared_inbox TEXT, protocol INTEGER NOT NULL,"
	"  state INTEGER NOT NULL, direction INTEGER NOT NULL, follow_id TEXT,"
	"  follow_back_id TEXT, is_peer INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,"
	"  last_seen_at INTEGER NOT NULL, failure_count INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (network, actor));"
	"CREATE INDEX members_domain ON members (domain);"
	"CREATE TABLE domain_policies (network TEXT NOT NULL, domain TEXT NOT NULL,"
	"  kind INTEGER NOT NULL, reason TEXT, source TEXT, created_at INTEGER NOT NULL,"
	"  PRIMARY KEY (network, domain, kind));"
	"CREATE TABLE actors (id TEXT PRIMARY KEY, document TEXT, gone INTEGER NOT NULL DEFAULT 0,"
	"  fetched_at INTEGER NOT NULL);"
	"CREATE TABLE keys (id TEXT PRIMARY KEY, owner TEXT NOT NULL,"
	"  public_key_pem TEXT NOT NULL, fetched_at INTEGER NOT NULL);"
	"CREATE TABLE seen (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX seen_expires ON seen (expires_at);"
	"CREATE TABLE activities (id INTEGER PRIMARY KEY, network TEXT NOT NULL,"
	"  body BLOB NOT NULL, created_at INTEGER NOT NULL);"
	"CREATE TABLE deliveries (id INTEGER PRIMARY KEY,"
	"  activity_id INTEGER NOT NULL REFERENCES activities (id), inbox TEXT NOT NULL,"
	"  host TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt_at INTEGER NOT NULL, claimer TEXT, created_at INTEGER NOT NULL);"
	"CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id);"
	"CREATE INDEX deliveries_activity ON deliveries (activity_id);"
	"CREATE INDEX deliveries_host ON deliveries (host);"
	"CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
	"INSERT INTO networks VALUES ('alpha', NULL, NULL, 1700000000000000);"
	"INSERT INTO members VALUES ('alpha', 'https://a.example/actor', 'a.example',"
	"  'https://a.example/actor/inbox', 'https://a.example/inbox', 1, 1, 2,"
	"  'https://a.example/follows/1', 'https://relay.example/follows/2', 0,"
	"  1700000000000000, 1700000000000500, 3);"
	"INSERT INTO activities VALUES (1, 'alpha', '{}', 1700000000000000);"
	"INSERT INTO deliveries VALUES (1, 1, 'https://b.example/inbox', 'b.example', 2,"
	"  1700000000000000, NULL, 1700000000000000);"
	"INSERT INTO counters VALUES ('deliveries_total{outcome=\"done\"}', 42);"
	"INSERT INTO domain_policies VALUES ('', 'spam.example', 0, 'spam', 'import list.csv',"
	"  1700000000000000);"
	"PRAGMA user_version = 1;";

/* a database of schema 1 is upgraded in place: members gain their NodeInfo columns */
static void
test_sqlite_upgrade_v1(StoreFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayMember) member = NULL;
	g_autoptr(GPtrArray) counters = NULL;
	g_autoptr(GPtrArray) hosts = NULL;
	RelayQueueStats stats = {0};

	test_sqlite_exec_flags(fixture->location,
			       test_sqlite_v1_database,
			       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	g_assert_cmpint(test_sqlite_user_version(fixture->location), ==, 1);

	fixture->store = test_store_open("sqlite", fixture->location);
	g_assert_cmpint(
		test_sqlite_user_version(fixture->location), ==, TEST_SQLITE_SCHEMA_VERSION);

	/* the member is whole, and never checked */
	member = test_get_member(fixture->store, "alpha", "https://a.example/actor");
	g_assert_cmpstr(member->domain, ==, "a.example");
	g_assert_cmpstr(member->inbox, ==, "https://a.example/actor/inbox");
	g_assert_cmpstr(member->shared_inbox, ==, "https://a.example/inbox");
	g_assert_cmpint(member->protocol, ==, RELAY_MEMBER_PROTOCOL_LITEPUB);
	g_assert_cmpint(member->state, ==, RELAY_MEMBER_STATE_ACCEPTED);
	g_assert_cmpint(member->direction, ==, RELAY_MEMBER_DIRECTION_PUBLISH_ONLY);
	g_assert_cmpstr(member->follow_id, ==, "https://a.example/follows/1");
	g_assert_cmpstr(member->follow_back_id, ==, "https://relay.example/follows/2");
	g_assert_cmpint(member->created_at_us, ==, NOW_US);
	g_assert_cmpint(member->last_seen_us, ==, NOW_US + 500);
	g_assert_cmpuint(member->failure_count, ==, 3);
	g_assert_null(member->software_name);
	g_assert_null(member->software_version);
	g_assert_cmpint(member->nodeinfo_checked_us, ==, 0);
	/* schema 4: an accepted LitePub member has accepted our follow-back */
	g_assert_cmpint(member->follow_back_state, ==, RELAY_MEMBER_STATE_ACCEPTED);
	g_assert_false(member->is_peer);
	g_clear_pointer(&member, relay_member_free);

	/* the queue and the counters are still there */
	g_assert_true(relay_store_delivery_stats(fixture->store, &stats, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(stats.queued, ==, 1);
	hosts = test_delivery_hosts(fixture->store);
	g_assert_cmpuint(hosts->len, ==, 1);
	g_assert_cmpuint(((RelayHostQueueStats *)g_ptr_array_index(hosts, 0))->max_attempts, ==, 2);
	counters = relay_store_counters_get(fixture->store, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(counters->len, ==, 1);
	g_assert_cmpint(((RelayCounter *)g_ptr_array_index(counters, 0))->value, ==, 42);

	/* the operator's block stays the operator's (schema 3: no subscription keeps it) */
	{
		g_autoptr(GPtrArray) policies =
			relay_store_policy_list(fixture->store, NULL, &error);
		const RelayDomainPolicy *policy;
		g_assert_no_error(error);
		g_assert_cmpuint(policies->len, ==, 1);
		policy = g_ptr_array_index(policies, 0);
		g_assert_null(policy->network);
		g_assert_cmpstr(policy->domain, ==, "spam.example");
		g_assert_cmpstr(policy->source, ==, "import list.csv");
		g_assert_null(policy->subscription);
	}
	{
		g_autoptr(GPtrArray) subscriptions =
			relay_store_block_subscription_list(fixture->store, NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(subscriptions->len, ==, 0);
	}

	/* the new columns work, and survive a reopen */
	test_software_put(fixture->store, "a.example", "akkoma", "3.10.2", NOW_US + 9, 1);
	test_store_close(&fixture->store);
	fixture->store = test_store_open("sqlite", fixture->location);
	member = test_get_member(fixture->store, "alpha", "https://a.example/actor");
	g_assert_cmpstr(member->software_name, ==, "akkoma");
	g_assert_cmpstr(member->software_version, ==, "3.10.2");
	g_assert_cmpint(member->nodeinfo_checked_us, ==, NOW_US + 9);
}

/* a migration that fails leaves the database as it was, at its old version */
static void
test_sqlite_upgrade_atomic(StoreFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayStore) store = NULL;

	test_sqlite_exec_flags(fixture->location,
			       test_sqlite_v1_database,
			       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	/* a column of that name already there makes the second ALTER TABLE fail */
	test_sqlite_exec(fixture->location, "ALTER TABLE members ADD COLUMN software_version TEXT");
	store = relay_store_new("sqlite", fixture->location, &error);
	g_assert_null(store);
	g_assert_nonnull(error);
	g_test_message("refused: %s", error->message);
	g_assert_nonnull(strstr(error->message, "schema 2"));
	g_clear_error(&error);
	g_assert_cmpint(test_sqlite_user_version(fixture->location), ==, 1);
	/* the first ALTER TABLE of the migration was rolled back with it */
	{
		g_autoptr(sqlite3) db = NULL;
		g_autoptr(sqlite3_stmt) stmt = NULL;
		g_assert_cmpint(sqlite3_open_v2(fixture->location, &db, SQLITE_OPEN_READONLY, NULL),
				==,
				SQLITE_OK);
		g_assert_cmpint(
			sqlite3_prepare_v2(db,
					   "SELECT count(*) FROM pragma_table_info('members') "
					   "WHERE name = 'software_name'",
					   -1,
					   &stmt,
					   NULL),
			==,
			SQLITE_OK);
		g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
		g_assert_cmpint(sqlite3_column_int(stmt, 0), ==, 0);
	}
}

/* a database a build with schema 4 but not 3 wrote (3 and 4 were made side by side) gets the
 * tables of 3 when opened, and keeps what it had */
static void
test_sqlite_repair_v3(StoreFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) subscriptions = NULL;
	g_autoptr(GPtrArray) policies = NULL;
	g_autoptr(RelayBlockSubscription) subscription = relay_block_subscription_new(
		"alpha", "https://a.example/blocks", RELAY_BLOCK_MODE_ADVISE);
	g_autoptr(RelayNetworkRecord) network = NULL;

	test_put_network(fixture->store, "alpha");
	test_put_policy(
		fixture->store, NULL, "spam.example", RELAY_POLICY_KIND_BLOCK, "spam", NULL);
	test_store_close(&fixture->store);
	test_sqlite_exec(fixture->location,
			 "DROP TABLE block_subscriptions;"
			 "DROP TABLE block_subscription_entries;"
			 "ALTER TABLE domain_policies DROP COLUMN subscription;");
	g_assert_cmpint(
		test_sqlite_user_version(fixture->location), ==, TEST_SQLITE_SCHEMA_VERSION);

	fixture->store = test_store_open("sqlite", fixture->location);
	network = relay_store_network_get(fixture->store, "alpha", NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(network);
	g_assert_true(relay_store_block_subscription_put(
		fixture->store, subscription, NULL, NULL, &error));
	g_assert_no_error(error);
	subscriptions = relay_store_block_subscription_list(fixture->store, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(subscriptions->len, ==, 1);
	policies = relay_store_policy_list(fixture->store, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(policies->len, ==, 1);
	g_assert_null(((RelayDomainPolicy *)g_ptr_array_index(policies, 0))->subscription);
	g_assert_cmpint(
		test_sqlite_user_version(fixture->location), ==, TEST_SQLITE_SCHEMA_VERSION);
}

static void
test_sqlite_too_new(StoreFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayStore) store = NULL;

	test_store_close(&fixture->store);
	test_sqlite_exec(fixture->location, "PRAGMA user_version = 999");

	store = relay_store_new("sqlite", fixture->location, &error);
	g_assert_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_TOO_NEW);
	g_assert_null(store);
	g_test_message("refused: %s", error->message);
	g_assert_nonnull(strstr(error->message, fixture->location));
	/* and left alone */
	g_assert_cmpint(test_sqlite_user_version(fixture->location), ==, 999);
}

static void
test_sqlite_not_sqlite(StoreFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayStore) store = NULL;
	g_autoptr(GString) garbage = g_string_new(NULL);
	g_autofree gchar *contents = NULL;
	gsize length = 0;

	for (guint i = 0; i < 4096; i++)
		g_string_append_c(garbage, (gchar)((i * 131 + 7) % 251));
	g_assert_true(g_file_set_contents(fixture->location, garbage->str, garbage->len, &error));
	g_assert_no_error(error);

	store = relay_store_new("sqlite", fixture->location, &error);
	g_assert_null(store);
	g_assert_nonnull(error);
	g_test_message("refused: %s", error->message);
	g_assert_true(error->domain == RELAY_STORE_ERROR);
	g_clear_error(&error);

	/* and not overwritten */
	g_assert_true(g_file_get_contents(fixture->location, &contents, &length, &error));
	g_assert_no_error(error);
	g_assert_cmpmem(contents, length, garbage->str, garbage->len);
}

static void
test_sqlite_persist(StoreFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayMember) member = NULL;
	g_autoptr(RelayMember) got = NULL;
	g_autoptr(GPtrArray) claimed = NULL;
	g_autoptr(GPtrArray) batch = NULL;
	g_autoptr(GPtrArray) deltas =
		g_ptr_array_new_with_free_func((GDestroyNotify)relay_counter_free);
	g_autoptr(GPtrArray) counters = NULL;
	g_autoptr(GPtrArray) policies = NULL;
	g_autoptr(GBytes) body = test_body_new("https://o.example/persist");
	guint64 released = 0;

	test_put_network(fixture->store, "alpha");
	member = test_member_new("alpha", "https://a.example/actor", "https://a.example/inbox");
	member->state = RELAY_MEMBER_STATE_ACCEPTED;
	member->follow_id = g_strdup("https://a.example/follows/1");
	member->failure_count = 3;
	test_put_member(fixture->store, member);
	test_put_policy(fixture->store, NULL, "bad.example", RELAY_POLICY_KIND_BLOCK, "spam", NULL);
	g_ptr_array_add(deltas, relay_counter_new("relay_inbox_total", 5));
	g_assert_true(relay_store_counters_add(fixture->store, deltas, NULL, &error));
	g_assert_no_error(error);
	g_assert_true(test_seen_add(
		fixture->store, "https://o.example/persist", NOW_US, NOW_US + DAY_US));
	test_enqueue_one(
		fixture->store, "alpha", "https://o.example/persist", 3, "persist", NOW_US);
	claimed = test_claim(fixture->store, NOW_US, 1, LEASE_US, "w1");
	g_assert_cmpuint(claimed->len, ==, 1);
	test_store_close(&fixture->store);

	fixture->store = test_store_open("sqlite", fixture->location);
	got = relay_store_member_get(
		fixture->store, "alpha", "https://a.example/actor", NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(got);
	test_assert_member_equal(got, member);
	policies = relay_store_policy_list(fixture->store, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(policies);
	g_assert_cmpuint(policies->len, ==, 1);
	counters = relay_store_counters_get(fixture->store, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(counters);
	g_assert_cmpuint(counters->len, ==, 1);
	g_assert_cmpint(((RelayCounter *)g_ptr_array_index(counters, 0))->value, ==, 5);
	g_assert_true(test_seen(fixture->store, "https://o.example/persist", NOW_US));

	/* the queue, claim and lease included */
	test_assert_stats(fixture->store, 3, 1, 1, NOW_US);
	batch = test_claim(fixture->store, NOW_US, 10, LEASE_US, "w2");
	g_assert_cmpuint(batch->len, ==, 2);
	g_assert_null(
		test_find_delivery(batch, ((RelayDelivery *)g_ptr_array_index(claimed, 0))->id));
	g_clear_pointer(&batch, g_ptr_array_unref);
	g_assert_true(relay_store_delivery_release(
		fixture->store, NULL, NOW_US, &released, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(released, ==, 3);
	batch = test_claim(fixture->store, NOW_US, 10, LEASE_US, "w3");
	g_assert_cmpuint(batch->len, ==, 3);
	for (guint i = 0; i < batch->len; i++) {
		const RelayDelivery *delivery = g_ptr_array_index(batch, i);
		g_assert_true(g_bytes_equal(delivery->body, body));
		g_assert_cmpstr(delivery->network, ==, "alpha");
		g_assert_cmpint(delivery->created_at_us, ==, NOW_US);
	}
}

/* durability: a child writes to the store until it is killed; what it reported must be there */

static gint
test_durability_enqueue_child(const gchar *location)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayStore) store = relay_store_new("sqlite", location, &error);
	g_autoptr(RelayNetworkRecord) network = relay_network_record_new("alpha");
	guint64 reported = 0;

	if (store == NULL || !relay_store_network_put(store, network, NULL, &error)) {
		g_printerr("durability child: %s\n", error->message);
		return 1;
	}
	/* bounded, in case the parent is gone; it normally kills us long before */
	for (guint i = 0; i < 20000; i++) {
		g_autoptr(GPtrArray) fanouts = test_fanouts_new();
		g_autofree gchar *tag = g_strdup_printf("https://o.example/d/%u", i);

		g_ptr_array_add(
			fanouts,
			test_fanout_new("alpha", tag, DURABILITY_ENQUEUE_INBOXES, "durable"));
		if (!relay_store_delivery_enqueue(store, fanouts, NOW_US + i, NULL, &error)) {
			g_printerr("durability child: %s\n", error->message);
			return 1;
		}
		reported += DURABILITY_ENQUEUE_INBOXES;
		fprintf(stdout, "%" G_GUINT64_FORMAT "\n", reported);
		fflush(stdout);
	}
	return 0;
}

static gint
test_durability_claim_child(const gchar *location)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayStore) store = relay_store_new("sqlite", location, &error);
	guint64 reported = 0;

	if (store == NULL) {
		g_printerr("durability child: %s\n", error->message);
		return 1;
	}
	while (TRUE) {
		g_autoptr(GPtrArray) batch = relay_store_delivery_claim(
			store, NOW_US, DURABILITY_CLAIM_BATCH, LEASE_US, "child", NULL, &error);
		g_autoptr(GArray) results = g_array_new(FALSE, TRUE, sizeof(RelayDeliveryResult));

		if (batch == NULL) {
			g_printerr("durability child: %s\n", error->message);
			return 1;
		}
		/* done before the parent killed us: wait for the kill, bounded */
		if (batch->len == 0) {
			g_usleep(60 * G_USEC_PER_SEC);
			return 0;
		}
		for (guint i = 0; i < batch->len; i++) {
			const RelayDelivery *delivery = g_ptr_array_index(batch, i);
			RelayDeliveryResult result = {.id = delivery->id,
						      .outcome = RELAY_DELIVERY_OUTCOME_DONE};
			g_array_append_val(results, result);
		}
		if (!relay_store_delivery_settle(store, results, NULL, &error)) {
			g_printerr("durability child: %s\n", error->message);
			return 1;
		}
		reported += batch->len;
		fprintf(stdout, "%" G_GUINT64_FORMAT "\n", reported);
		fflush(stdout);
	}
}

static gint
test_durability_child(const gchar *mode, const gchar *dir)
{
	g_autofree gchar *location = g_build_filename(dir, "relay.db", NULL);

	if (g_strcmp0(mode, "enqueue") == 0)
		return test_durability_enqueue_child(location);
	if (g_strcmp0(mode, "claim") == 0)
		return test_durability_claim_child(location);
	g_printerr("durability child: unknown mode %s\n", mode);
	return 1;
}

/* starts the child, reads its reports until one reaches @kill_at, kills it and reads the
 * reports it wrote before dying; returns the last one */
static guint64
test_durability_run(const gchar *mode, const gchar *dir, guint64 kill_at)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocess) subprocess = NULL;
	g_autoptr(GDataInputStream) stream = NULL;
	const gchar *argv[] = {test_self_path, "--durability-child", mode, dir, NULL};
	guint64 last = 0;

	g_assert_nonnull(test_self_path);
	subprocess = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
	g_assert_no_error(error);
	stream = g_data_input_stream_new(g_subprocess_get_stdout_pipe(subprocess));
	while (last < kill_at) {
		g_autofree gchar *line = g_data_input_stream_read_line(stream, NULL, NULL, &error);
		g_assert_no_error(error);
		/* EOF: the child failed or finished before it was killed */
		g_assert_nonnull(line);
		last = g_ascii_strtoull(line, NULL, 10);
	}
	g_subprocess_send_signal(subprocess, SIGKILL);
	g_assert_true(g_subprocess_wait(subprocess, NULL, &error));
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_signaled(subprocess));
	g_assert_cmpint(g_subprocess_get_term_sig(subprocess), ==, SIGKILL);
	while (TRUE) {
		g_autofree gchar *line = g_data_input_stream_read_line(stream, NULL, NULL, &error);
		g_assert_no_error(error);
		if (line == NULL)
			break;
		last = g_ascii_strtoull(line, NULL, 10);
	}
	g_test_message("the child reported %" G_GUINT64_FORMAT " before it was killed", last);
	return last;
}

static void
test_sqlite_durability_enqueue(StoreFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	RelayQueueStats stats = {0};
	guint64 reported;

	reported = test_durability_run("enqueue",
				       fixture->tmpdir,
				       DURABILITY_ENQUEUE_REPORTS * DURABILITY_ENQUEUE_INBOXES);

	fixture->store = test_store_open("sqlite", fixture->location);
	g_assert_true(relay_store_delivery_stats(fixture->store, &stats, NULL, &error));
	g_assert_no_error(error);
	g_test_message("queued after the crash: %" G_GUINT64_FORMAT, stats.queued);
	/* every reported delivery is there; at most the one unreported call beyond */
	g_assert_cmpuint(stats.queued, >=, reported);
	g_assert_cmpuint(stats.queued, <=, reported + DURABILITY_ENQUEUE_INBOXES);
	/* and fan-outs are whole */
	g_assert_cmpuint(stats.queued % DURABILITY_ENQUEUE_INBOXES, ==, 0);
	g_assert_cmpuint(stats.activities, ==, stats.queued / DURABILITY_ENQUEUE_INBOXES);
	g_assert_cmpuint(stats.claimed, ==, 0);
	g_assert_cmpint(stats.oldest_created_us, ==, NOW_US);
}

static void
test_sqlite_durability_claim(StoreFixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) fanouts = test_fanouts_new();
	g_autoptr(GPtrArray) batch = NULL;
	const guint64 total = DURABILITY_CLAIM_FANOUTS * 10;
	RelayQueueStats stats = {0};
	guint64 released = 0;
	guint64 settled;

	test_put_network(fixture->store, "alpha");
	for (guint i = 0; i < DURABILITY_CLAIM_FANOUTS; i++) {
		g_autofree gchar *tag = g_strdup_printf("https://o.example/c/%u", i);
		g_ptr_array_add(fanouts, test_fanout_new("alpha", tag, 10, "claim"));
	}
	test_enqueue(fixture->store, fanouts, NOW_US);
	test_store_close(&fixture->store);

	settled = test_durability_run("claim", fixture->tmpdir, DURABILITY_CLAIM_REPORTS);

	fixture->store = test_store_open("sqlite", fixture->location);
	g_assert_true(relay_store_delivery_stats(fixture->store, &stats, NULL, &error));
	g_assert_no_error(error);
	g_test_message("queued after the crash: %" G_GUINT64_FORMAT ", claimed %" G_GUINT64_FORMAT,
		       stats.queued,
		       stats.claimed);
	/* every reported settle stuck; at most one unreported batch beyond */
	g_assert_cmpuint(stats.queued, <=, total - settled);
	g_assert_cmpuint(stats.queued + DURABILITY_CLAIM_BATCH, >=, total - settled);
	g_assert_cmpuint(stats.claimed, <=, DURABILITY_CLAIM_BATCH);

	/* the crashed claimer's rows come back on release, and the rest are all there */
	g_assert_true(relay_store_delivery_release(
		fixture->store, "child", NOW_US, &released, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(released, ==, stats.claimed);
	batch = test_claim(fixture->store, NOW_US, (guint)total, LEASE_US, "parent");
	g_assert_cmpuint(batch->len, ==, stats.queued);
	test_settle_all(fixture->store, batch, RELAY_DELIVERY_OUTCOME_DONE, 0);
	test_assert_stats(fixture->store, 0, 0, 0, 0);
}

typedef void (*StoreTestFunc)(StoreFixture *fixture, gconstpointer user_data);

static const struct {
	const gchar *name;
	StoreTestFunc func;
} common_cases[] = {
	{"networks", test_networks},
	{"members", test_members},
	{"member-software", test_member_software},
	{"policies", test_policies},
	{"block-subscriptions", test_block_subscriptions},
	{"actor-cache", test_actor_cache},
	{"key-cache", test_key_cache},
	{"seen", test_seen_set},
	{"delivery-claim", test_delivery_claim},
	{"delivery-batch", test_delivery_batch},
	{"delivery-limit", test_delivery_limit},
	{"delivery-not-before", test_delivery_not_before},
	{"delivery-order", test_delivery_order},
	{"delivery-lease", test_delivery_lease},
	{"delivery-settle", test_delivery_settle},
	{"delivery-gc", test_delivery_gc},
	{"delivery-release", test_delivery_release},
	{"delivery-stats", test_delivery_stats},
	{"delivery-hosts", test_delivery_hosts_case},
	{"delivery-seen", test_delivery_seen},
	{"delivery-invalid", test_delivery_invalid},
	{"delivery-threads", test_delivery_threads},
	{"delivery-pending-hosts", test_delivery_pending_hosts},
	{"delivery-drop-inbox", test_delivery_drop_inbox},
	{"counters", test_counters},
	{"async", test_async},
	{"closed", test_closed},
};

static const struct {
	const gchar *name;
	StoreTestFunc setup;
	StoreTestFunc func;
} sqlite_cases[] = {
	{"migrations", fixture_setup, test_sqlite_migrations},
	{"upgrade-v1", fixture_setup_dir, test_sqlite_upgrade_v1},
	{"upgrade-atomic", fixture_setup_dir, test_sqlite_upgrade_atomic},
	{"repair-v3", fixture_setup, test_sqlite_repair_v3},
	{"too-new", fixture_setup, test_sqlite_too_new},
	{"not-sqlite", fixture_setup_dir, test_sqlite_not_sqlite},
	{"persist", fixture_setup, test_sqlite_persist},
	{"durability-enqueue", fixture_setup_dir, test_sqlite_durability_enqueue},
	{"durability-claim", fixture_setup, test_sqlite_durability_claim},
};

static const gchar *const test_backends[] = {"sqlite", "memory"};

int
main(int argc, char **argv)
{
	g_autofree gchar *self_path = NULL;

	/* the durability cases run this binary again as the process they kill */
	if (argc == 4 && g_strcmp0(argv[1], "--durability-child") == 0)
		return test_durability_child(argv[2], argv[3]);

	self_path = g_find_program_in_path(argv[0]);
	test_self_path = self_path;
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	for (guint i = 0; i < G_N_ELEMENTS(test_backends); i++) {
		for (guint j = 0; j < G_N_ELEMENTS(common_cases); j++) {
			g_autofree gchar *path = g_strdup_printf(
				"/relay/store/%s/%s", test_backends[i], common_cases[j].name);
			g_test_add(path,
				   StoreFixture,
				   test_backends[i],
				   fixture_setup,
				   common_cases[j].func,
				   fixture_teardown);
		}
	}
	for (guint i = 0; i < G_N_ELEMENTS(sqlite_cases); i++) {
		g_autofree gchar *path =
			g_strdup_printf("/relay/store/sqlite/%s", sqlite_cases[i].name);
		g_test_add(path,
			   StoreFixture,
			   "sqlite",
			   sqlite_cases[i].setup,
			   sqlite_cases[i].func,
			   fixture_teardown);
	}
	return g_test_run();
}
