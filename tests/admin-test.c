/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * The admin commands end to end: the `relay` binary serves a node with its admin socket in a
 * temporary directory, fake instances on 127.0.0.x subscribe and post, and every command runs
 * as an operator runs it (`relay COMMAND ... -c relay.conf`), its output, --json and exit
 * status checked, bad input included; what a change does shows at the instances (Accept,
 * Reject, Undo received, nothing more delivered), and in the relay's log (the audit line with
 * our uid).
 */

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gunixsocketaddress.h>

#include "relay-test-instance.h"
#include "relay-test-node.h"
#include "relay-test-utils.h"

#define PUBLIC	   "https://www.w3.org/ns/activitystreams#Public"
#define WAIT_MS	   20000
#define QUIET_MS   1500
#define CSV_HEADER "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n"

typedef struct {
	RelayTestNode *node; /* on 127.0.0.1 */
	gchar *socket_path;
	gchar *actor;
	RelayTestInstance *a; /* Mastodon-style */
	RelayTestInstance *b; /* LitePub-style */
	RelayTestInstance *c; /* Mastodon-style */
	RelayTestInstance *d;
} AdminFixture;

static gchar *
config_text(guint16 port, const gchar *socket, const gchar *extra)
{
	return g_strdup_printf("[relay]\npublic-url = http://127.0.0.1:%u\nlisten = 127.0.0.1:%u\n"
			       "[storage]\nbackend = sqlite\npath = relay.db\n"
			       "[federation]\nallow-private-addresses = true\n"
			       "[delivery]\nretry-base = 1\n"
			       "[admin]\nsocket = %s\n%s",
			       port,
			       port,
			       socket,
			       extra != NULL ? extra : "");
}

/* the fixture's data: extra configuration, and whether to start the relay ("!" first: not) */
static void
fixture_setup(AdminFixture *fixture, gconstpointer user_data)
{
	const gchar *extra = user_data;
	gboolean start = extra == NULL || extra[0] != '!';

	fixture->node = relay_test_node_new("127.0.0.1", start ? extra : extra + 1);
	fixture->socket_path = g_build_filename(fixture->node->dir, "admin.sock", NULL);
	fixture->actor = g_strdup_printf("%s/actor", fixture->node->origin);
	fixture->a = relay_test_instance_new("127.0.0.2");
	fixture->b = relay_test_instance_new("127.0.0.3");
	fixture->c = relay_test_instance_new("127.0.0.4");
	fixture->d = relay_test_instance_new("127.0.0.5");
	if (start)
		relay_test_node_start(fixture->node);
}

static void
fixture_teardown(AdminFixture *fixture, gconstpointer user_data)
{
	g_clear_pointer(&fixture->node, relay_test_node_free);
	g_clear_pointer(&fixture->a, relay_test_instance_free);
	g_clear_pointer(&fixture->b, relay_test_instance_free);
	g_clear_pointer(&fixture->c, relay_test_instance_free);
	g_clear_pointer(&fixture->d, relay_test_instance_free);
	g_free(fixture->socket_path);
	g_free(fixture->actor);
}

/* running the `relay` command */

/* `relay ARGS... -c CONFIG` */
#define cli(fixture, ...) relay_test_node_cli((fixture)->node, __VA_ARGS__)

static void
assert_refused(RelayTestCli *result, const gchar *message)
{
	if (result->status != 1)
		g_error("relay exited with %d, not 1: %s%s",
			result->status,
			result->out,
			result->err);
	relay_test_assert_contains(result->err, message);
}

static const gchar *
string_member(JsonNode *node, const gchar *member)
{
	return json_object_get_string_member_with_default(json_node_get_object(node), member, NULL);
}

/* the members of `relay members show DOMAIN --json` */
static JsonArray *
members_show(AdminFixture *fixture, const gchar *domain)
{
	g_autoptr(RelayTestCli) result = cli(fixture, "members", "show", domain, "--json", NULL);
	g_autoptr(JsonNode) data = relay_test_cli_data(result);
	return json_array_ref(json_node_get_array(data));
}

static const gchar *
member_field(JsonArray *members, guint index, const gchar *field)
{
	return json_object_get_string_member(json_array_get_object_element(members, index), field);
}

/* waits until the relay's log has @needle: it is read as it comes */
static void
assert_logged(AdminFixture *fixture, const gchar *needle)
{
	if (!relay_test_node_wait_log(fixture->node, needle, WAIT_MS))
		g_error("expected '%s' in the relay's log:\n%s", needle, fixture->node->log->str);
}

/* the audit line of a change by us */
static void
assert_audited(AdminFixture *fixture, const gchar *what)
{
	g_autofree gchar *line = g_strdup_printf("admin uid %u: %s", (guint)getuid(), what);
	g_autofree gchar *field = g_strdup_printf("RELAY_ADMIN_UID=%u", (guint)getuid());

	assert_logged(fixture, line);
	assert_logged(fixture, field);
}

/* fake instances */

static gchar *
instance_domain(RelayTestInstance *instance)
{
	const gchar *host = relay_test_instance_get_host(instance);
	return g_strndup(host, (gsize)(strrchr(host, ':') - host));
}

static guint
follow(AdminFixture *fixture, RelayTestInstance *instance, const gchar *object, gchar **out_id)
{
	g_autofree gchar *body = relay_test_instance_follow_json(instance, object, out_id);
	return relay_test_instance_post(instance, fixture->node->inbox, "/actor", body, NULL);
}

static guint
post_note(AdminFixture *fixture, RelayTestInstance *instance, const gchar *text, gboolean signed_ld)
{
	g_autofree gchar *body = relay_test_instance_note_json(instance, text, signed_ld);
	return relay_test_instance_post(instance, fixture->node->inbox, "/users/alice", body, NULL);
}

static void
subscribe_mastodon(AdminFixture *fixture, RelayTestInstance *instance)
{
	guint accepts = relay_test_instance_count_type(instance, "Accept");

	g_assert_cmpuint(follow(fixture, instance, PUBLIC, NULL), ==, 202);
	g_assert_true(relay_test_instance_wait_type(instance, "Accept", accepts + 1, WAIT_MS));
}

/* the object of the @index-th delivery of @type */
static JsonObject *
delivered_object(RelayTestInstance *instance, const gchar *type, guint index)
{
	RelayTestDelivery *delivery = relay_test_instance_find_type(instance, type, index);

	g_assert_nonnull(delivery);
	if (!delivery->verified)
		g_error("the %s did not verify: %s", type, delivery->verify_error);
	return json_object_get_object_member(json_node_get_object(delivery->json), "object");
}

/* the cases */

/* the socket is 0600, status answers, and once the node stops the command says so */
static void
test_socket_and_status(AdminFixture *fixture, gconstpointer user_data)
{
	g_autoptr(RelayTestCli) status = NULL;
	g_autoptr(RelayTestCli) json = NULL;
	g_autoptr(RelayTestCli) stopped = NULL;
	g_autoptr(JsonNode) data = NULL;
	g_autofree gchar *not_running = NULL;
	JsonArray *networks;
	struct stat st;

	g_assert_cmpint(g_lstat(fixture->socket_path, (GStatBuf *)&st), ==, 0);
	g_assert_true(S_ISSOCK(st.st_mode));
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	assert_logged(fixture, "admin commands on");

	status = cli(fixture, "status", NULL);
	relay_test_cli_assert_ok(status);
	relay_test_assert_contains(status->out, "relay " PACKAGE_VERSION " at http://127.0.0.1:");
	relay_test_assert_contains(status->out,
				   "NETWORK  JOIN  ACCEPTED  PENDING  REJECTED  INBOX");
	relay_test_assert_contains(status->out, "queue: 0 deliveries pending");
	relay_test_assert_contains(status->out, "deliveries in the last hour: 0 done");

	json = cli(fixture, "status", "--json", NULL);
	data = relay_test_cli_data(json);
	g_assert_cmpstr(string_member(data, "version"), ==, PACKAGE_VERSION);
	g_assert_cmpstr(string_member(data, "public_url"), ==, fixture->node->origin);
	g_assert_cmpint(json_object_get_int_member(json_node_get_object(data), "uptime_s"), >=, 0);
	networks = json_object_get_array_member(json_node_get_object(data), "networks");
	g_assert_cmpuint(json_array_get_length(networks), ==, 1);
	g_assert_cmpstr(
		json_object_get_string_member(json_array_get_object_element(networks, 0), "name"),
		==,
		"relay");

	/* a clean stop removes the socket; the command then says the node is not running */
	relay_test_node_stop(fixture->node);
	g_assert_false(g_file_test(fixture->socket_path, G_FILE_TEST_EXISTS));
	stopped = cli(fixture, "status", NULL);
	g_assert_cmpint(stopped->status, ==, 3);
	not_running = g_strdup_printf(
		"relay: the node is not running: nothing listens on %s (from %s [admin] socket)",
		fixture->socket_path,
		fixture->node->config_path);
	relay_test_assert_contains(stopped->err, not_running);
	g_assert_cmpstr(stopped->out, ==, "");
}

/* `relay serve` with @config_text written to @dir/relay.conf: exits with 1, saying @expected */
static void
assert_serve_refused(const gchar *dir, const gchar *text, const gchar *expected)
{
	g_autofree gchar *path = g_build_filename(dir, "refused.conf", NULL);
	g_autoptr(GPtrArray) args = g_ptr_array_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayTestCli) result = NULL;

	g_file_set_contents(path, text, -1, &error);
	g_assert_no_error(error);
	g_ptr_array_add(args, (gpointer) "serve");
	g_ptr_array_add(args, (gpointer) "-c");
	g_ptr_array_add(args, path);
	result = relay_test_cli_run(NULL, args);
	if (result->status != 1 || strstr(result->err, expected) == NULL)
		g_error("relay serve exited with %d, expected 1 and '%s':\n%s",
			result->status,
			expected,
			result->err);
}

/* unsafe socket paths are refused at start, naming the path; a stale socket is replaced */
static void
test_unsafe_paths(AdminFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *open_dir = g_build_filename(fixture->node->dir, "open", NULL);
	g_autofree gchar *open_socket = g_build_filename(open_dir, "admin.sock", NULL);
	g_autofree gchar *file_socket = g_build_filename(fixture->node->dir, "file.sock", NULL);
	g_autofree gchar *missing =
		g_build_filename(fixture->node->dir, "nowhere", "admin.sock", NULL);
	g_autofree gchar *stale_socket = g_build_filename(fixture->node->dir, "stale.sock", NULL);
	g_autofree gchar *text = NULL;
	g_autofree gchar *expected = NULL;
	g_autofree gchar *second_dir = NULL;
	g_autofree gchar *contents = NULL;
	g_autoptr(GSocket) stale = NULL;
	g_autoptr(GSocketAddress) address = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayTestCli) status = NULL;

	/* a directory others may write to */
	g_assert_cmpint(g_mkdir(open_dir, 0700), ==, 0);
	g_assert_cmpint(g_chmod(open_dir, 0777), ==, 0);
	text = config_text(relay_test_free_port(), open_socket, NULL);
	expected = g_strdup_printf(
		"admin socket %s: directory %s is writable by other users", open_socket, open_dir);
	assert_serve_refused(fixture->node->dir, text, expected);
	g_clear_pointer(&text, g_free);
	g_clear_pointer(&expected, g_free);

	/* a regular file where the socket goes: refused, and left alone */
	g_file_set_contents(file_socket, "precious", -1, &error);
	g_assert_no_error(error);
	text = config_text(relay_test_free_port(), "file.sock", NULL);
	expected = g_strdup_printf("admin socket %s: the path exists and is not a socket",
				   file_socket);
	assert_serve_refused(fixture->node->dir, text, expected);
	g_file_get_contents(file_socket, &contents, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(contents, ==, "precious");
	g_clear_pointer(&text, g_free);
	g_clear_pointer(&expected, g_free);

	/* a directory that does not exist */
	text = config_text(relay_test_free_port(), missing, NULL);
	assert_serve_refused(fixture->node->dir, text, "nowhere: does not exist");
	g_clear_pointer(&text, g_free);

	/* the live socket of another node: refused, and that node still answers */
	relay_test_node_start(fixture->node);
	second_dir = relay_test_mkdtemp();
	text = config_text(relay_test_free_port(), fixture->socket_path, NULL);
	expected = g_strdup_printf(
		"admin socket %s: another relay node is running and listening on it",
		fixture->socket_path);
	assert_serve_refused(second_dir, text, expected);
	relay_test_rmdir(second_dir);
	status = cli(fixture, "status", NULL);
	relay_test_cli_assert_ok(status);
	relay_test_node_stop(fixture->node);
	g_clear_pointer(&text, g_free);
	g_clear_pointer(&expected, g_free);
	g_clear_pointer(&status, relay_test_cli_free);

	/* a stale socket, left by a node that was killed: replaced */
	stale = g_socket_new(
		G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, &error);
	g_assert_no_error(error);
	address = g_unix_socket_address_new(stale_socket);
	g_assert_true(g_socket_bind(stale, address, FALSE, &error));
	g_assert_no_error(error);
	g_socket_close(stale, NULL);
	g_assert_true(g_file_test(stale_socket, G_FILE_TEST_EXISTS));
	text = config_text(fixture->node->port, "stale.sock", NULL);
	g_file_set_contents(fixture->node->config_path, text, -1, &error);
	g_assert_no_error(error);
	relay_test_node_start(fixture->node);
	assert_logged(fixture, "removed a stale socket");
	status = cli(fixture, "status", NULL);
	relay_test_cli_assert_ok(status);
}

/* the socket can be turned off; the commands then say so */
static void
test_disabled(AdminFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *text = config_text(fixture->node->port, "", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayTestCli) status = NULL;

	g_file_set_contents(fixture->node->config_path, text, -1, &error);
	g_assert_no_error(error);
	relay_test_node_start(fixture->node);
	assert_logged(fixture, "admin commands are off");
	g_assert_false(g_file_test(fixture->socket_path, G_FILE_TEST_EXISTS));
	status = cli(fixture, "status", NULL);
	g_assert_cmpint(status->status, ==, 3);
	relay_test_assert_contains(status->err, "the admin commands are off");
}

/* join = approval: approve sends the Accept of the member's own Follow, and for LitePub the
 * follow-back; bad input is refused and changes nothing */
static void
test_approve(AdminFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *a_domain = instance_domain(fixture->a);
	g_autofree gchar *b_domain = instance_domain(fixture->b);
	g_autofree gchar *a_actor = relay_test_instance_url(fixture->a, "/actor");
	g_autofree gchar *b_actor = relay_test_instance_url(fixture->b, "/actor");
	g_autofree gchar *a_follow_id = NULL;
	g_autofree gchar *b_follow_id = NULL;
	g_autofree gchar *audit = NULL;
	g_autoptr(RelayTestCli) pending = NULL;
	g_autoptr(RelayTestCli) pending_json = NULL;
	g_autoptr(RelayTestCli) approve_a = NULL;
	g_autoptr(RelayTestCli) approve_b = NULL;
	g_autoptr(RelayTestCli) again = NULL;
	g_autoptr(RelayTestCli) unknown = NULL;
	g_autoptr(RelayTestCli) bad_network = NULL;
	g_autoptr(RelayTestCli) bad_state = NULL;
	g_autoptr(JsonNode) pending_data = NULL;
	g_autoptr(JsonArray) a_members = NULL;
	g_autoptr(JsonArray) b_members = NULL;
	JsonObject *object;
	RelayTestDelivery *follow_back;

	relay_test_instance_set_auto_accept(fixture->b, fixture->node->inbox);
	g_assert_cmpuint(follow(fixture, fixture->a, PUBLIC, &a_follow_id), ==, 202);
	g_assert_cmpuint(follow(fixture, fixture->b, fixture->actor, &b_follow_id), ==, 202);

	pending = cli(fixture, "members", "list", "--state", "pending", NULL);
	relay_test_cli_assert_ok(pending);
	relay_test_assert_contains(pending->out, "NETWORK  ACTOR");
	relay_test_assert_contains(pending->out, a_actor);
	relay_test_assert_contains(pending->out, b_actor);
	relay_test_assert_contains(pending->out, "pending (approval)");
	pending_json = cli(fixture, "members", "list", "--state", "pending", "--json", NULL);
	pending_data = relay_test_cli_data(pending_json);
	g_assert_cmpuint(json_array_get_length(json_node_get_array(pending_data)), ==, 2);

	/* refusals first: nothing changes */
	unknown = cli(fixture, "members", "approve", "nobody.example", NULL);
	assert_refused(unknown, "relay members approve: no member on nobody.example");
	bad_network = cli(fixture, "members", "approve", a_domain, "--network", "nope", NULL);
	assert_refused(bad_network, "no network named 'nope' (this node has: relay)");
	bad_state = cli(fixture, "members", "list", "--state", "asleep", NULL);
	assert_refused(bad_state, "unknown state 'asleep' (pending, accepted or rejected)");
	relay_test_instance_wait_type(fixture->a, "Accept", 1, QUIET_MS);
	g_assert_cmpuint(relay_test_instance_count_type(fixture->a, "Accept"), ==, 0);

	/* Mastodon-style: the Accept embeds its Follow as it was sent */
	approve_a = cli(fixture, "members", "approve", a_domain, NULL);
	relay_test_cli_assert_ok(approve_a);
	relay_test_assert_contains(approve_a->out, "approved ");
	relay_test_assert_contains(approve_a->out, "Accept queued");
	g_assert_true(relay_test_instance_wait_type(fixture->a, "Accept", 1, WAIT_MS));
	object = delivered_object(fixture->a, "Accept", 0);
	g_assert_cmpstr(json_object_get_string_member(object, "id"), ==, a_follow_id);
	g_assert_cmpstr(json_object_get_string_member(object, "type"), ==, "Follow");
	g_assert_cmpstr(json_object_get_string_member(object, "actor"), ==, a_actor);
	g_assert_cmpstr(json_object_get_string_member(object, "object"), ==, PUBLIC);
	g_assert_cmpstr(
		relay_test_instance_find_type(fixture->a, "Accept", 0)->path, ==, "/actor/inbox");
	a_members = members_show(fixture, a_domain);
	g_assert_cmpstr(member_field(a_members, 0, "state"), ==, "accepted");
	audit = g_strdup_printf("members approve %s: approved %s in relay", a_domain, a_actor);
	assert_audited(fixture, audit);

	/* LitePub: the Accept of a Follow of the relay actor, then our follow-back */
	approve_b = cli(fixture, "members", "approve", b_domain, "--network", "relay", NULL);
	relay_test_cli_assert_ok(approve_b);
	relay_test_assert_contains(approve_b->out, "follow-back");
	g_assert_true(relay_test_instance_wait_type(fixture->b, "Accept", 1, WAIT_MS));
	object = delivered_object(fixture->b, "Accept", 0);
	g_assert_cmpstr(json_object_get_string_member(object, "id"), ==, b_follow_id);
	g_assert_cmpstr(json_object_get_string_member(object, "object"), ==, fixture->actor);
	g_assert_true(relay_test_instance_wait_type(fixture->b, "Follow", 1, WAIT_MS));
	follow_back = relay_test_instance_find_type(fixture->b, "Follow", 0);
	g_assert_true(follow_back->verified);
	g_assert_cmpstr(string_member(follow_back->json, "object"), ==, b_actor);
	/* B accepts our follow (auto-accept): B is a member and gets A's posts */
	g_assert_true(relay_test_instance_wait_idle(fixture->b, WAIT_MS));
	b_members = members_show(fixture, b_domain);
	g_assert_cmpstr(member_field(b_members, 0, "state"), ==, "accepted");
	g_assert_cmpuint(post_note(fixture, fixture->a, "hello b", TRUE), ==, 202);
	g_assert_true(relay_test_instance_wait_type(fixture->b, "Announce", 1, WAIT_MS));

	/* approving again is refused: there is nothing waiting */
	again = cli(fixture, "members", "approve", a_domain, NULL);
	assert_refused(again, "has nothing waiting for approval (accepted in relay)");
	g_assert_cmpuint(relay_test_instance_count_type(fixture->a, "Accept"), ==, 1);
}

/* reject keeps the member marked rejected; remove forgets it, and for LitePub undoes our
 * follow-back; nothing is relayed to a removed member */
static void
test_reject_remove(AdminFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *b_domain = instance_domain(fixture->b);
	g_autofree gchar *c_domain = instance_domain(fixture->c);
	g_autofree gchar *a_domain = instance_domain(fixture->a);
	g_autofree gchar *c_follow_id = NULL;
	g_autoptr(RelayTestCli) reject = NULL;
	g_autoptr(RelayTestCli) rejected = NULL;
	g_autoptr(RelayTestCli) again = NULL;
	g_autoptr(RelayTestCli) remove_c = NULL;
	g_autoptr(RelayTestCli) gone = NULL;
	g_autoptr(RelayTestCli) approve = NULL;
	g_autoptr(RelayTestCli) remove_b = NULL;
	g_autoptr(RelayTestCli) unknown = NULL;
	g_autoptr(JsonNode) rejected_data = NULL;
	g_autoptr(JsonArray) b_members = NULL;
	JsonObject *object;
	JsonObject *undone;
	RelayTestDelivery *follow_back;

	/* C asks, and is rejected */
	g_assert_cmpuint(follow(fixture, fixture->c, PUBLIC, &c_follow_id), ==, 202);
	reject = cli(fixture, "members", "reject", c_domain, NULL);
	relay_test_cli_assert_ok(reject);
	relay_test_assert_contains(reject->out, "Reject queued");
	g_assert_true(relay_test_instance_wait_type(fixture->c, "Reject", 1, WAIT_MS));
	object = delivered_object(fixture->c, "Reject", 0);
	g_assert_cmpstr(json_object_get_string_member(object, "id"), ==, c_follow_id);
	rejected = cli(fixture, "members", "list", "--state", "rejected", "--json", NULL);
	rejected_data = relay_test_cli_data(rejected);
	g_assert_cmpuint(json_array_get_length(json_node_get_array(rejected_data)), ==, 1);
	again = cli(fixture, "members", "reject", c_domain, NULL);
	assert_refused(again, "is already rejected");

	/* removing a rejected member forgets it without another Reject */
	remove_c = cli(fixture, "members", "remove", c_domain, NULL);
	relay_test_cli_assert_ok(remove_c);
	gone = cli(fixture, "members", "show", c_domain, NULL);
	assert_refused(gone, "no member on");
	relay_test_instance_wait_type(fixture->c, "Reject", 2, QUIET_MS);
	g_assert_cmpuint(relay_test_instance_count_type(fixture->c, "Reject"), ==, 1);

	/* B (LitePub) and A become members; removing B sends a Reject and an Undo of our follow */
	relay_test_instance_set_auto_accept(fixture->b, fixture->node->inbox);
	g_assert_cmpuint(follow(fixture, fixture->b, fixture->actor, NULL), ==, 202);
	g_assert_cmpuint(follow(fixture, fixture->a, PUBLIC, NULL), ==, 202);
	approve = cli(fixture, "members", "approve", b_domain, NULL);
	relay_test_cli_assert_ok(approve);
	g_clear_pointer(&approve, relay_test_cli_free);
	approve = cli(fixture, "members", "approve", a_domain, NULL);
	relay_test_cli_assert_ok(approve);
	g_assert_true(relay_test_instance_wait_type(fixture->b, "Follow", 1, WAIT_MS));
	g_assert_true(relay_test_instance_wait_idle(fixture->b, WAIT_MS));
	b_members = members_show(fixture, b_domain);
	g_assert_cmpstr(member_field(b_members, 0, "state"), ==, "accepted");
	follow_back = relay_test_instance_find_type(fixture->b, "Follow", 0);

	remove_b = cli(fixture, "members", "remove", b_domain, NULL);
	relay_test_cli_assert_ok(remove_b);
	relay_test_assert_contains(remove_b->out, "Undo of our follow-back");
	g_assert_true(relay_test_instance_wait_type(fixture->b, "Reject", 1, WAIT_MS));
	g_assert_true(relay_test_instance_wait_type(fixture->b, "Undo", 1, WAIT_MS));
	undone = delivered_object(fixture->b, "Undo", 0);
	g_assert_cmpstr(json_object_get_string_member(undone, "type"), ==, "Follow");
	g_assert_cmpstr(json_object_get_string_member(undone, "id"),
			==,
			string_member(follow_back->json, "id"));
	assert_audited(fixture, "members remove ");

	/* nothing more for B */
	g_assert_cmpuint(post_note(fixture, fixture->a, "after b left", TRUE), ==, 202);
	relay_test_instance_wait_type(fixture->b, "Announce", 1, QUIET_MS);
	g_assert_cmpuint(relay_test_instance_count_type(fixture->b, "Announce"), ==, 0);

	unknown = cli(fixture, "members", "remove", "nobody.example", NULL);
	assert_refused(unknown, "no member on nobody.example");
}

/* members direction, with bad input refused and nothing changed */
static void
test_direction(AdminFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *c_domain = instance_domain(fixture->c);
	g_autoptr(RelayTestCli) set = NULL;
	g_autoptr(RelayTestCli) bad = NULL;
	g_autoptr(RelayTestCli) bad_network = NULL;
	g_autoptr(RelayTestCli) unknown = NULL;
	g_autoptr(JsonArray) members = NULL;

	subscribe_mastodon(fixture, fixture->a);
	subscribe_mastodon(fixture, fixture->c);
	set = cli(fixture, "members", "direction", c_domain, "receive-only", NULL);
	relay_test_cli_assert_ok(set);
	relay_test_assert_contains(set->out, "direction receive-only (was both)");
	g_assert_cmpuint(post_note(fixture, fixture->c, "from c", TRUE), ==, 403);
	g_assert_cmpuint(post_note(fixture, fixture->a, "from a", TRUE), ==, 202);
	g_assert_true(relay_test_instance_wait_type(fixture->c, "Create", 1, WAIT_MS));

	bad = cli(fixture, "members", "direction", c_domain, "sideways", NULL);
	assert_refused(bad, "unknown direction 'sideways' (both, receive-only or publish-only)");
	bad_network = cli(fixture, "members", "direction", c_domain, "both", "-n", "nope", NULL);
	assert_refused(bad_network, "no network named 'nope'");
	unknown = cli(fixture, "members", "direction", "nobody.example", "both", NULL);
	assert_refused(unknown, "no member on nobody.example");
	members = members_show(fixture, c_domain);
	g_assert_cmpstr(member_field(members, 0, "direction"), ==, "receive-only");
}

/* block: the member goes with a Reject and gets nothing more; unblock; bad input */
static void
test_block(AdminFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *c_domain = instance_domain(fixture->c);
	g_autofree gchar *audit = NULL;
	g_autoptr(RelayTestCli) block = NULL;
	g_autoptr(RelayTestCli) list = NULL;
	g_autoptr(RelayTestCli) list_json = NULL;
	g_autoptr(RelayTestCli) bad = NULL;
	g_autoptr(RelayTestCli) list_after_bad = NULL;
	g_autoptr(RelayTestCli) gone = NULL;
	g_autoptr(RelayTestCli) unblock = NULL;
	g_autoptr(RelayTestCli) unblock_again = NULL;
	g_autoptr(RelayTestCli) empty = NULL;
	g_autoptr(JsonNode) blocks = NULL;
	g_autoptr(JsonNode) blocks_after_bad = NULL;
	JsonObject *entry;

	subscribe_mastodon(fixture, fixture->a);
	subscribe_mastodon(fixture, fixture->c);
	block = cli(fixture, "block", c_domain, "--reason", "spam, lots of it", NULL);
	relay_test_cli_assert_ok(block);
	relay_test_assert_contains(block->out, "1 membership ended with a Reject");
	g_assert_true(relay_test_instance_wait_type(fixture->c, "Reject", 1, WAIT_MS));
	gone = cli(fixture, "members", "show", c_domain, NULL);
	assert_refused(gone, "no member on");
	audit = g_strdup_printf("block %s (reason: spam, lots of it)", c_domain);
	assert_audited(fixture, audit);

	list = cli(fixture, "blocks", "list", NULL);
	relay_test_cli_assert_ok(list);
	relay_test_assert_contains(list->out, "DOMAIN");
	relay_test_assert_contains(list->out, c_domain);
	relay_test_assert_contains(list->out, "spam, lots of it");
	list_json = cli(fixture, "blocks", "list", "--json", NULL);
	blocks = relay_test_cli_data(list_json);
	g_assert_cmpuint(json_array_get_length(json_node_get_array(blocks)), ==, 1);
	entry = json_array_get_object_element(json_node_get_array(blocks), 0);
	g_assert_cmpstr(json_object_get_string_member(entry, "domain"), ==, c_domain);
	g_assert_cmpstr(json_object_get_string_member(entry, "reason"), ==, "spam, lots of it");
	g_assert_true(json_object_get_null_member(entry, "network"));

	/* nothing more for C, and it cannot subscribe again */
	g_assert_cmpuint(post_note(fixture, fixture->a, "after the block", TRUE), ==, 202);
	relay_test_instance_wait_type(fixture->c, "Create", 1, QUIET_MS);
	g_assert_cmpuint(relay_test_instance_count_type(fixture->c, "Create"), ==, 0);
	g_assert_cmpuint(follow(fixture, fixture->c, PUBLIC, NULL), ==, 403);

	/* a bad domain changes nothing */
	bad = cli(fixture, "block", "not a domain", NULL);
	assert_refused(bad, "relay block: 'not a domain' is not a domain name");
	list_after_bad = cli(fixture, "blocks", "list", "--json", NULL);
	blocks_after_bad = relay_test_cli_data(list_after_bad);
	g_assert_cmpuint(json_array_get_length(json_node_get_array(blocks_after_bad)), ==, 1);

	unblock = cli(fixture, "unblock", c_domain, NULL);
	relay_test_cli_assert_ok(unblock);
	empty = cli(fixture, "blocks", "list", NULL);
	relay_test_cli_assert_ok(empty);
	relay_test_assert_contains(empty->out, "no blocked domains");
	unblock_again = cli(fixture, "unblock", c_domain, NULL);
	assert_refused(unblock_again, "is not blocked");
	subscribe_mastodon(fixture, fixture->c);
}

typedef struct {
	AdminFixture *fixture;
	const gchar *domain;
	const gchar *software; /* NULL: no member on the domain */
} MemberWait;

static gboolean
member_software_is(gpointer user_data)
{
	MemberWait *wait = user_data;
	g_autoptr(RelayTestCli) result =
		cli(wait->fixture, "members", "show", wait->domain, "--json", NULL);
	g_autoptr(JsonNode) data = NULL;
	JsonArray *members;

	if (result->status != 0)
		return wait->software == NULL;
	data = relay_test_cli_data(result);
	members = json_node_get_array(data);
	return wait->software != NULL && json_array_get_length(members) > 0 &&
	       g_strcmp0(member_field(members, 0, "software"), wait->software) == 0;
}

static gboolean
wait_member_software(AdminFixture *fixture, const gchar *domain, const gchar *software)
{
	MemberWait wait = {fixture, domain, software};
	return relay_test_wait_until(NULL, member_software_is, &wait, WAIT_MS);
}

static gboolean
wait_no_member(AdminFixture *fixture, const gchar *domain)
{
	return wait_member_software(fixture, domain, NULL);
}

/* software block: members whose NodeInfo names it end with a Reject, now and when they join */
static void
test_software(AdminFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *a_domain = instance_domain(fixture->a);
	g_autofree gchar *c_domain = instance_domain(fixture->c);
	g_autoptr(RelayTestCli) block = NULL;
	g_autoptr(RelayTestCli) list = NULL;
	g_autoptr(RelayTestCli) list_json = NULL;
	g_autoptr(RelayTestCli) bad = NULL;
	g_autoptr(RelayTestCli) gone = NULL;
	g_autoptr(RelayTestCli) unblock = NULL;
	g_autoptr(RelayTestCli) unblock_again = NULL;
	g_autoptr(RelayTestCli) empty = NULL;
	g_autoptr(JsonNode) blocks = NULL;

	relay_test_instance_set_software(fixture->a, "mastodon", "4.3.2", "2.1");
	relay_test_instance_set_software(fixture->c, "misskey", "2025.1.0", "2.0");
	subscribe_mastodon(fixture, fixture->a);
	subscribe_mastodon(fixture, fixture->c);
	/* both NodeInfo documents are read once the members are accepted */
	g_assert_true(wait_member_software(fixture, c_domain, "misskey"));

	block = cli(fixture, "software", "block", "MissKey", "--reason", "too noisy", NULL);
	relay_test_cli_assert_ok(block);
	relay_test_assert_contains(block->out,
				   "blocked software misskey: 1 membership ended with a Reject");
	g_assert_true(relay_test_instance_wait_type(fixture->c, "Reject", 1, WAIT_MS));
	gone = cli(fixture, "members", "show", c_domain, NULL);
	assert_refused(gone, "no member on");
	assert_audited(fixture,
		       "software block MissKey (reason: too noisy): blocked software misskey");
	/* A runs mastodon: it stays */
	g_assert_true(wait_member_software(fixture, a_domain, "mastodon"));

	list = cli(fixture, "software", "list", NULL);
	relay_test_cli_assert_ok(list);
	relay_test_assert_contains(list->out, "SOFTWARE");
	relay_test_assert_contains(list->out, "misskey");
	relay_test_assert_contains(list->out, "too noisy");
	list_json = cli(fixture, "software", "list", "--json", NULL);
	blocks = relay_test_cli_data(list_json);
	g_assert_cmpuint(json_array_get_length(json_node_get_array(blocks)), ==, 1);

	/* joining again: accepted, then removed once its NodeInfo is read */
	g_assert_cmpuint(follow(fixture, fixture->c, PUBLIC, NULL), ==, 202);
	g_assert_true(relay_test_instance_wait_type(fixture->c, "Reject", 2, WAIT_MS));
	g_assert_true(wait_no_member(fixture, c_domain));

	/* a bad name changes nothing */
	bad = cli(fixture, "software", "block", "not a name", NULL);
	assert_refused(bad, "is not a software name");

	unblock = cli(fixture, "software", "unblock", "misskey", NULL);
	relay_test_cli_assert_ok(unblock);
	empty = cli(fixture, "software", "list", NULL);
	relay_test_cli_assert_ok(empty);
	relay_test_assert_contains(empty->out, "no blocked software");
	unblock_again = cli(fixture, "software", "unblock", "misskey", NULL);
	assert_refused(unblock_again, "software misskey is not blocked");
	subscribe_mastodon(fixture, fixture->c);
}

/* GET @path of the node with @accept and @if_none_match (both nullable) */
static GBytes *
http_get(AdminFixture *fixture,
	 const gchar *path,
	 const gchar *accept,
	 const gchar *if_none_match,
	 SoupMessage **out_msg)
{
	g_autoptr(SoupSession) session = soup_session_new_with_options("timeout", 10, NULL);
	g_autofree gchar *url = g_strdup_printf("%s%s", fixture->node->origin, path);
	g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
	g_autoptr(GError) error = NULL;
	GBytes *body;

	if (accept != NULL)
		soup_message_headers_replace(
			soup_message_get_request_headers(msg), "Accept", accept);
	if (if_none_match != NULL)
		soup_message_headers_replace(
			soup_message_get_request_headers(msg), "If-None-Match", if_none_match);
	body = soup_session_send_and_read(session, msg, NULL, &error);
	g_assert_no_error(error);
	*out_msg = g_steal_pointer(&msg);
	return body;
}

/* a network with publish-blocks shows its blocks (node-wide ones included) as JSON or as
 * Mastodon's CSV, with an ETag; one without answers 404; NodeInfo links the list */
static void
test_published_blocks(AdminFixture *fixture, gconstpointer user_data)
{
	g_autoptr(RelayTestCli) block =
		cli(fixture, "block", "spam.example", "--reason", "spam, lots", NULL);
	g_autoptr(SoupMessage) json_msg = NULL;
	g_autoptr(SoupMessage) csv_msg = NULL;
	g_autoptr(SoupMessage) again_msg = NULL;
	g_autoptr(SoupMessage) quiet_msg = NULL;
	g_autoptr(SoupMessage) nodeinfo_msg = NULL;
	g_autoptr(GBytes) json = NULL;
	g_autoptr(GBytes) csv = NULL;
	g_autoptr(GBytes) again = NULL;
	g_autoptr(GBytes) quiet = NULL;
	g_autoptr(GBytes) nodeinfo = NULL;
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *csv_text = NULL;
	g_autofree gchar *nodeinfo_text = NULL;
	g_autofree gchar *blocks_url = NULL;
	JsonObject *entry;
	const gchar *etag;

	relay_test_cli_assert_ok(block);
	json = http_get(fixture, "/networks/relay/blocks", NULL, NULL, &json_msg);
	g_assert_cmpuint(soup_message_get_status(json_msg), ==, 200);
	json_parser_load_from_data(
		parser, g_bytes_get_data(json, NULL), (gssize)g_bytes_get_size(json), &error);
	g_assert_no_error(error);
	g_assert_cmpuint(
		json_array_get_length(json_node_get_array(json_parser_get_root(parser))), ==, 1);
	entry = json_array_get_object_element(json_node_get_array(json_parser_get_root(parser)), 0);
	g_assert_cmpstr(json_object_get_string_member(entry, "domain"), ==, "spam.example");
	g_assert_cmpstr(json_object_get_string_member(entry, "reason"), ==, "spam, lots");
	g_assert_cmpstr(json_object_get_string_member(entry, "severity"), ==, "suspend");

	csv = http_get(fixture, "/networks/relay/blocks", "text/csv", NULL, &csv_msg);
	g_assert_cmpuint(soup_message_get_status(csv_msg), ==, 200);
	csv_text = g_strndup(g_bytes_get_data(csv, NULL), g_bytes_get_size(csv));
	relay_test_assert_contains(
		csv_text, "#domain,#severity,#reject_media,#reject_reports,#public_comment");
	relay_test_assert_contains(csv_text, "spam.example,suspend,");
	relay_test_assert_contains(csv_text, "\"spam, lots\"");

	etag = soup_message_headers_get_one(soup_message_get_response_headers(json_msg), "ETag");
	g_assert_nonnull(etag);
	again = http_get(fixture, "/networks/relay/blocks", NULL, etag, &again_msg);
	g_assert_cmpuint(soup_message_get_status(again_msg), ==, 304);

	quiet = http_get(fixture, "/networks/quiet/blocks", NULL, NULL, &quiet_msg);
	g_assert_cmpuint(soup_message_get_status(quiet_msg), ==, 404);

	nodeinfo = http_get(fixture, "/nodeinfo/2.1", NULL, NULL, &nodeinfo_msg);
	nodeinfo_text = g_strndup(g_bytes_get_data(nodeinfo, NULL), g_bytes_get_size(nodeinfo));
	blocks_url =
		g_strdup_printf("\"blocks\":\"%s/networks/relay/blocks\"", fixture->node->origin);
	relay_test_assert_contains(nodeinfo_text, blocks_url);
}

static gchar *
write_file(AdminFixture *fixture, const gchar *name, const gchar *contents)
{
	gchar *path = g_build_filename(fixture->node->dir, name, NULL);
	g_autoptr(GError) error = NULL;

	g_file_set_contents(path, contents, -1, &error);
	g_assert_no_error(error);
	return path;
}

/* Mastodon's domain block CSV: a bad line and nothing is imported; a good file blocks (members
 * go), skips noop and obfuscated lines; export writes the same format back */
static void
test_blocks_import_export(AdminFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *c_domain = instance_domain(fixture->c);
	g_autofree gchar *good_text =
		g_strdup_printf(CSV_HEADER "%s,suspend,true,true,\"spam, and more\",false\n"
					   "loud.example,silence,false,false,,false\n"
					   "fine.example,noop,false,false,,false\n"
					   "ex*mple.com,suspend,true,true,,true\n",
				c_domain);
	g_autofree gchar *bad_text =
		g_strdup_printf("%sbad.example,limit,,,,\nnot a domain\n", good_text);
	g_autofree gchar *bad = write_file(fixture, "bad.csv", bad_text);
	g_autofree gchar *good = write_file(fixture, "good.csv", good_text);
	g_autofree gchar *bad_line_6 =
		g_strdup_printf("%s:6: unknown severity 'limit' (suspend, silence or noop)", bad);
	g_autofree gchar *bad_line_7 =
		g_strdup_printf("%s:7: 'not a domain' is not a domain name", bad);
	g_autofree gchar *expected_export =
		g_strdup_printf(CSV_HEADER "%s,suspend,true,true,\"spam, and more\",false\n"
					   "loud.example,suspend,true,true,,false\n",
				c_domain);
	g_autofree gchar *exported = NULL;
	g_autoptr(GPtrArray) stdin_args = g_ptr_array_new();
	g_autoptr(RelayTestCli) refused = NULL;
	g_autoptr(RelayTestCli) none = NULL;
	g_autoptr(RelayTestCli) still_member = NULL;
	g_autoptr(RelayTestCli) imported = NULL;
	g_autoptr(RelayTestCli) list = NULL;
	g_autoptr(RelayTestCli) export = NULL;
	g_autoptr(RelayTestCli) unblock = NULL;
	g_autoptr(RelayTestCli) round_trip = NULL;
	g_autoptr(RelayTestCli) again = NULL;
	g_autoptr(RelayTestCli) from_stdin = NULL;
	g_autoptr(RelayTestCli) missing = NULL;
	g_autoptr(JsonNode) none_data = NULL;
	g_autoptr(JsonNode) blocks = NULL;
	JsonObject *first;

	subscribe_mastodon(fixture, fixture->a);
	subscribe_mastodon(fixture, fixture->c);

	/* one bad file: every problem named by file and line, nothing imported */
	refused = cli(fixture, "blocks", "import", bad, NULL);
	assert_refused(refused, bad_line_6);
	relay_test_assert_contains(refused->err, bad_line_7);
	none = cli(fixture, "blocks", "list", "--json", NULL);
	none_data = relay_test_cli_data(none);
	g_assert_cmpuint(json_array_get_length(json_node_get_array(none_data)), ==, 0);
	still_member = cli(fixture, "members", "show", c_domain, NULL);
	relay_test_cli_assert_ok(still_member);

	imported = cli(fixture, "blocks", "import", good, NULL);
	relay_test_cli_assert_ok(imported);
	relay_test_assert_contains(imported->out,
				   "2 domains blocked, 0 already blocked, 2 skipped");
	relay_test_assert_contains(imported->out,
				   "skipped line 4, fine.example: severity noop blocks nothing");
	relay_test_assert_contains(imported->out, "skipped line 5, ex*mple.com: obfuscated");
	g_assert_true(relay_test_instance_wait_type(fixture->c, "Reject", 1, WAIT_MS));
	list = cli(fixture, "blocks", "list", "--json", NULL);
	blocks = relay_test_cli_data(list);
	g_assert_cmpuint(json_array_get_length(json_node_get_array(blocks)), ==, 2);
	first = json_array_get_object_element(json_node_get_array(blocks), 0);
	g_assert_cmpstr(json_object_get_string_member(first, "domain"), ==, c_domain);
	g_assert_cmpstr(json_object_get_string_member(first, "reason"), ==, "spam, and more");
	g_assert_true(g_str_has_prefix(json_object_get_string_member(first, "source"), "import "));

	export = cli(fixture, "blocks", "export", NULL);
	relay_test_cli_assert_ok(export);
	g_assert_cmpstr(export->out, ==, expected_export);

	/* what was exported imports again */
	exported = write_file(fixture, "exported.csv", export->out);
	unblock = cli(fixture, "unblock", "loud.example", NULL);
	relay_test_cli_assert_ok(unblock);
	round_trip = cli(fixture, "blocks", "import", exported, NULL);
	relay_test_cli_assert_ok(round_trip);
	relay_test_assert_contains(round_trip->out,
				   "1 domain blocked, 1 already blocked, 0 skipped");
	again = cli(fixture, "blocks", "import", exported, "--json", NULL);
	relay_test_cli_assert_ok(again);
	relay_test_assert_contains(again->out, "\"already_blocked\"");

	/* from standard input */
	g_ptr_array_add(stdin_args, (gpointer) "blocks");
	g_ptr_array_add(stdin_args, (gpointer) "import");
	g_ptr_array_add(stdin_args, (gpointer) "-");
	g_ptr_array_add(stdin_args, (gpointer) "-c");
	g_ptr_array_add(stdin_args, fixture->node->config_path);
	from_stdin = relay_test_cli_run("piped.example\n", stdin_args);
	relay_test_cli_assert_ok(from_stdin);
	relay_test_assert_contains(from_stdin->out, "imported (stdin): 1 domain blocked");

	/* a file that cannot be read is a usage error */
	missing = cli(fixture, "blocks", "import", "/nonexistent/list.csv", NULL);
	g_assert_cmpint(missing->status, ==, 2);
	relay_test_assert_contains(missing->err, "/nonexistent/list.csv");
}

/* join = closed: the allow list lets a domain in, node-wide or for one network */
static void
test_allow(AdminFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *a_domain = instance_domain(fixture->a);
	g_autofree gchar *c_domain = instance_domain(fixture->c);
	g_autoptr(RelayTestCli) allow = NULL;
	g_autoptr(RelayTestCli) allow_c = NULL;
	g_autoptr(RelayTestCli) disallow = NULL;
	g_autoptr(RelayTestCli) disallow_again = NULL;
	g_autoptr(RelayTestCli) bad_network = NULL;
	g_autoptr(RelayTestCli) bad_domain = NULL;
	g_autoptr(RelayTestCli) show = NULL;

	g_assert_cmpuint(follow(fixture, fixture->a, PUBLIC, NULL), ==, 202);
	g_assert_true(relay_test_instance_wait_type(fixture->a, "Reject", 1, WAIT_MS));

	allow = cli(fixture, "allow", a_domain, NULL);
	relay_test_cli_assert_ok(allow);
	relay_test_assert_contains(allow->out, "every network");
	subscribe_mastodon(fixture, fixture->a);
	allow_c = cli(fixture, "allow", c_domain, "--network", "relay", NULL);
	relay_test_cli_assert_ok(allow_c);
	subscribe_mastodon(fixture, fixture->c);
	show = cli(fixture, "networks", "show", "relay", NULL);
	relay_test_cli_assert_ok(show);
	relay_test_assert_contains(show->out, "allow list:");
	relay_test_assert_contains(show->out, a_domain);

	bad_network = cli(fixture, "allow", "x.example", "--network", "nope", NULL);
	assert_refused(bad_network, "no network named 'nope'");
	bad_domain = cli(fixture, "allow", "x.example/path", NULL);
	assert_refused(bad_domain, "is not a domain name");

	disallow = cli(fixture, "disallow", a_domain, NULL);
	relay_test_cli_assert_ok(disallow);
	disallow_again = cli(fixture, "disallow", a_domain, NULL);
	assert_refused(disallow_again, "is not on the allow list of the whole node");
}

static void
test_networks(AdminFixture *fixture, gconstpointer user_data)
{
	g_autoptr(RelayTestCli) list = NULL;
	g_autoptr(RelayTestCli) list_json = NULL;
	g_autoptr(RelayTestCli) show = NULL;
	g_autoptr(RelayTestCli) show_json = NULL;
	g_autoptr(RelayTestCli) unknown = NULL;
	g_autoptr(RelayTestCli) missing = NULL;
	g_autoptr(JsonNode) networks = NULL;
	g_autoptr(JsonNode) town = NULL;
	g_autofree gchar *town_inbox =
		g_strdup_printf("%s/networks/town/inbox", fixture->node->origin);

	list = cli(fixture, "networks", "list", NULL);
	relay_test_cli_assert_ok(list);
	relay_test_assert_contains(list->out, "NETWORK  JOIN      ACCEPTED");
	relay_test_assert_contains(list->out, "town     approval");
	relay_test_assert_contains(list->out, town_inbox);
	list_json = cli(fixture, "networks", "list", "--json", NULL);
	networks = relay_test_cli_data(list_json);
	g_assert_cmpuint(json_array_get_length(json_node_get_array(networks)), ==, 2);

	show = cli(fixture, "networks", "show", "town", NULL);
	relay_test_cli_assert_ok(show);
	relay_test_assert_contains(show->out, "town: Town");
	relay_test_assert_contains(show->out, "join:          approval");
	relay_test_assert_contains(show->out, "hashtags:      cats");
	show_json = cli(fixture, "networks", "show", "town", "--json", NULL);
	town = relay_test_cli_data(show_json);
	g_assert_cmpstr(string_member(town, "join"), ==, "approval");
	g_assert_cmpstr(string_member(town, "inbox"), ==, town_inbox);

	unknown = cli(fixture, "networks", "show", "nope", NULL);
	assert_refused(unknown, "no network named 'nope' (this node has: relay, town)");
	missing = cli(fixture, "networks", "show", NULL);
	g_assert_cmpint(missing->status, ==, 2);
}

typedef struct {
	AdminFixture *fixture;
	const gchar *host;
} HostWait;

/* the host as `relay queue --json` shows it, or NULL */
static JsonObject *
queue_host(AdminFixture *fixture, const gchar *host, JsonNode **out_data)
{
	g_autoptr(RelayTestCli) queue = cli(fixture, "queue", "--json", NULL);
	JsonNode *data = relay_test_cli_data(queue);
	JsonArray *hosts = json_object_get_array_member(json_node_get_object(data), "hosts");

	*out_data = data;
	for (guint i = 0; i < json_array_get_length(hosts); i++) {
		JsonObject *entry = json_array_get_object_element(hosts, i);
		if (g_strcmp0(json_object_get_string_member(entry, "host"), host) == 0)
			return entry;
	}
	return NULL;
}

static gboolean
host_paused(gpointer user_data)
{
	HostWait *wait = user_data;
	g_autoptr(JsonNode) data = NULL;
	JsonObject *host = queue_host(wait->fixture, wait->host, &data);
	return host != NULL && !json_object_get_null_member(host, "paused_until");
}

static gboolean
queue_empty(gpointer user_data)
{
	HostWait *wait = user_data;
	g_autoptr(JsonNode) data = NULL;
	queue_host(wait->fixture, wait->host, &data);
	return json_object_get_int_member(json_node_get_object(data), "pending") == 0;
}

/* the breaker pauses a failing host; relay queue shows it; relay queue retry sends at once */
static void
test_queue(AdminFixture *fixture, gconstpointer user_data)
{
	const gchar *c_host = relay_test_instance_get_host(fixture->c);
	HostWait wait = {fixture, c_host};
	g_autoptr(RelayTestCli) table = NULL;
	g_autoptr(RelayTestCli) status = NULL;
	g_autoptr(RelayTestCli) retry = NULL;
	g_autoptr(RelayTestCli) unknown = NULL;
	g_autoptr(RelayTestCli) status_after = NULL;
	g_autoptr(JsonNode) status_data = NULL;
	g_autoptr(JsonNode) after_data = NULL;
	JsonObject *queue;

	subscribe_mastodon(fixture, fixture->a);
	subscribe_mastodon(fixture, fixture->c);
	relay_test_instance_set_status(fixture->c, SOUP_STATUS_SERVICE_UNAVAILABLE);
	g_assert_cmpuint(post_note(fixture, fixture->a, "to c, eventually", TRUE), ==, 202);
	g_assert_true(relay_test_wait_until(NULL, host_paused, &wait, WAIT_MS));

	table = cli(fixture, "queue", NULL);
	relay_test_cli_assert_ok(table);
	relay_test_assert_contains(table->out, "1 delivery pending (0 in flight)");
	relay_test_assert_contains(table->out, "1 host paused by the breaker");
	relay_test_assert_contains(table->out, "HOST");
	relay_test_assert_contains(table->out, c_host);
	relay_test_assert_contains(table->out, "until ");
	status = cli(fixture, "status", "--json", NULL);
	status_data = relay_test_cli_data(status);
	queue = json_object_get_object_member(json_node_get_object(status_data), "queue");
	g_assert_cmpint(json_object_get_int_member(queue, "hosts_paused"), ==, 1);
	g_assert_cmpint(json_object_get_int_member(queue, "pending"), ==, 1);
	g_assert_cmpint(json_object_get_int_member(
				json_object_get_object_member(json_node_get_object(status_data),
							      "deliveries_last_hour"),
				"retry"),
			>=,
			2);

	/* C is back: without a retry it would wait ten minutes */
	relay_test_instance_set_status(fixture->c, 0);
	retry = cli(fixture, "queue", "retry", c_host, NULL);
	relay_test_cli_assert_ok(retry);
	relay_test_assert_contains(retry->out, "1 delivery due now, its failures forgotten");
	g_assert_true(relay_test_instance_wait_type(fixture->c, "Create", 3, WAIT_MS));
	g_assert_true(relay_test_wait_until(NULL, queue_empty, &wait, WAIT_MS));
	status_after = cli(fixture, "status", "--json", NULL);
	after_data = relay_test_cli_data(status_after);
	g_assert_cmpint(json_object_get_int_member(
				json_object_get_object_member(json_node_get_object(after_data),
							      "deliveries_last_hour"),
				"done"),
			>=,
			1);

	unknown = cli(fixture, "queue", "retry", "nohost.example", NULL);
	assert_refused(unknown, "nothing is queued for nohost.example and it is not paused");
}

/* usage errors exit 2 and say how to get help; help lists every command */
static void
test_usage(AdminFixture *fixture, gconstpointer user_data)
{
	const struct {
		const gchar *args[5];
		const gchar *message;
	} cases[] = {
		{{"members", NULL}, "relay members: which one? list, show, approve"},
		{{"members", "frobnicate", NULL}, "relay: unknown command 'members frobnicate'"},
		{{"members", "approve", NULL}, "relay members approve: expected DOMAIN"},
		{{"block", "a.example", "b.example", NULL}, "unexpected argument 'b.example'"},
		{{"block", "--colour", "a.example", NULL}, "Unknown option --colour"},
		{{"status", "-c", "/nonexistent/relay.conf", NULL}, "/nonexistent/relay.conf"},
	};
	g_autoptr(GPtrArray) help_args = g_ptr_array_new();
	g_autoptr(GPtrArray) command_help_args = g_ptr_array_new();
	g_autoptr(RelayTestCli) help = NULL;
	g_autoptr(RelayTestCli) command_help = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GPtrArray) args = g_ptr_array_new();
		g_autoptr(RelayTestCli) result = NULL;
		for (guint j = 0; cases[i].args[j] != NULL; j++)
			g_ptr_array_add(args, (gpointer)cases[i].args[j]);
		result = relay_test_cli_run(NULL, args);
		g_assert_cmpint(result->status, ==, 2);
		relay_test_assert_contains(result->err, cases[i].message);
	}
	g_ptr_array_add(help_args, (gpointer) "help");
	help = relay_test_cli_run(NULL, help_args);
	relay_test_cli_assert_ok(help);
	relay_test_assert_contains(help->out, "members approve DOMAIN");
	relay_test_assert_contains(help->out, "members direction DOMAIN DIRECTION");
	relay_test_assert_contains(help->out, "blocks import FILE");
	relay_test_assert_contains(help->out, "queue retry HOST");
	g_ptr_array_add(command_help_args, (gpointer) "help");
	g_ptr_array_add(command_help_args, (gpointer) "members");
	g_ptr_array_add(command_help_args, (gpointer) "approve");
	command_help = relay_test_cli_run(NULL, command_help_args);
	relay_test_cli_assert_ok(command_help);
	relay_test_assert_contains(command_help->out, "relay [OPTION…] members approve DOMAIN");
	relay_test_assert_contains(command_help->out, "--network=NAME");
	relay_test_assert_contains(command_help->out, "every network where the domain is a member");
	relay_test_assert_contains(command_help->out, "3 the node is not running");
}

/* another user (not root) is refused by the node even when it can reach the socket */
static void
relay_test_become_nobody(gpointer user_data)
{
	if (setgid(65534) != 0 || setuid(65534) != 0)
		_exit(99);
}

static void
test_forbidden(AdminFixture *fixture, gconstpointer user_data)
{
	g_autofree gchar *other_dir = NULL;
	g_autofree gchar *other_config = NULL;
	g_autofree gchar *text = NULL;
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GSubprocess) process = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *out = NULL;
	g_autofree gchar *err = NULL;

	if (getuid() != 0) {
		g_test_skip("needs root, to run a command as another user");
		return;
	}
	/* let nobody reach the socket, as a careless chmod would */
	g_assert_cmpint(g_chmod(fixture->node->dir, 0711), ==, 0);
	g_assert_cmpint(g_chmod(fixture->socket_path, 0666), ==, 0);
	other_dir = relay_test_mkdtemp();
	g_assert_cmpint(g_chmod(other_dir, 0755), ==, 0);
	other_config = g_build_filename(other_dir, "relay.conf", NULL);
	text = config_text(fixture->node->port, fixture->socket_path, NULL);
	g_file_set_contents(other_config, text, -1, &error);
	g_assert_no_error(error);
	g_assert_cmpint(g_chmod(other_config, 0644), ==, 0);

	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE |
					     G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_subprocess_launcher_set_child_setup(launcher, relay_test_become_nobody, NULL, NULL);
	process = g_subprocess_launcher_spawn(
		launcher, &error, g_getenv("RELAY_BINARY"), "status", "-c", other_config, NULL);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8(process, NULL, NULL, &out, &err, &error);
	g_assert_no_error(error);
	if (g_subprocess_get_exit_status(process) == 99 ||
	    strstr(err, "Permission denied") != NULL) {
		relay_test_rmdir(other_dir);
		g_test_skip("cannot run the relay binary as uid 65534 here");
		return;
	}
	if (g_subprocess_get_exit_status(process) != 1)
		g_error("relay status as uid 65534 exited with %d: %s",
			g_subprocess_get_exit_status(process),
			err);
	relay_test_assert_contains(err, "uid 65534 may not run admin commands on this node");
	assert_logged(fixture, "admin: refused a connection: uid 65534");
	relay_test_rmdir(other_dir);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, data, func)                                                                      \
	g_test_add("/relay/admin/" path, AdminFixture, data, fixture_setup, func, fixture_teardown)
	ADD("socket-and-status", NULL, test_socket_and_status);
	ADD("unsafe-paths", "!", test_unsafe_paths);
	ADD("disabled", "!", test_disabled);
	ADD("approve", "[network relay]\njoin = approval\n", test_approve);
	ADD("reject-remove", "[network relay]\njoin = approval\n", test_reject_remove);
	ADD("direction", NULL, test_direction);
	ADD("block", NULL, test_block);
	ADD("software", NULL, test_software);
	ADD("published-blocks",
	    "[network relay]\npublish-blocks = true\n[network quiet]\n",
	    test_published_blocks);
	ADD("blocks-import-export", NULL, test_blocks_import_export);
	ADD("allow", "[network relay]\njoin = closed\n", test_allow);
	ADD("networks",
	    "[network town]\ntitle = Town\njoin = approval\nhashtags = cats\n",
	    test_networks);
	ADD("queue", "[delivery]\nbreaker-failures = 2\nbreaker-pause = 600\n", test_queue);
	ADD("usage", "!", test_usage);
	ADD("forbidden", NULL, test_forbidden);
#undef ADD
	return g_test_run();
}
