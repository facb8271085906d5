/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * Peering across nodes, end to end: three `relay` processes, A, B and C, on 127.0.0.41, .42
 * and .43, each in its own directory with its own database and admin socket, each with
 * fake member instances of its own (127.0.41.x, 127.0.42.x, 127.0.43.x) subscribed
 * Mastodon-style. Operators link the networks with `relay peers add` run as they run it,
 * and the members check what reaches them: every delivery's HTTP signature is verified with
 * the key of the node that sent it.
 *
 * "Exactly once" is counted after the flow is over: a witness delivery shows a post left,
 * then every node's queue must be empty twice in a row (a node answers a peer only once what
 * it relays on is queued, so an empty queue everywhere means nothing is still travelling).
 */

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>

#include "relay-test-instance.h"
#include "relay-test-utils.h"

#define PUBLIC	"https://www.w3.org/ns/activitystreams#Public"
#define WAIT_MS 20000
#define N_NODES 3
#define N_USERS 2

typedef struct {
	const gchar *name; /* "A" */
	gchar *address;	   /* 127.0.0.41 */
	gchar *dir;
	gchar *config_path;
	guint16 port;
	gchar *origin;
	gchar *inbox;
	gchar *actor;
	GSubprocess *process;
	RelayTestInstance *members[N_USERS];
} Node;

typedef struct {
	Node nodes[N_NODES];
} PeeringFixture;

static gchar *
node_get(Node *node, const gchar *path, guint *out_status)
{
	g_autoptr(SoupSession) session = soup_session_new_with_options("timeout", 5, NULL);
	g_autofree gchar *url = g_strdup_printf("%s%s", node->origin, path);
	g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
	g_autoptr(GBytes) body = NULL;

	soup_message_headers_append(
		soup_message_get_request_headers(msg), "Accept", "application/json");
	body = soup_session_send_and_read(session, msg, NULL, NULL);
	if (out_status != NULL)
		*out_status = body != NULL ? soup_message_get_status(msg) : 0;
	if (body == NULL)
		return NULL;
	return g_strndup(g_bytes_get_data(body, NULL), g_bytes_get_size(body));
}

static gboolean
node_answers(gpointer user_data)
{
	guint status = 0;
	g_autofree gchar *body = node_get(user_data, "/healthz", &status);
	return status == 200;
}

static void
node_start(Node *node)
{
	g_autoptr(GError) error = NULL;
	const gchar *argv[] = {g_getenv("RELAY_BINARY"),
			       "serve",
			       "-c",
			       node->config_path,
			       g_test_verbose() ? "--verbose" : NULL,
			       NULL};

	node->process = relay_test_spawn(G_SUBPROCESS_FLAGS_NONE, argv, &error);
	g_assert_no_error(error);
	g_assert_true(relay_test_wait_until(NULL, node_answers, node, WAIT_MS));
}

static void
node_stop(Node *node)
{
	g_autoptr(GError) error = NULL;

	if (node->process == NULL)
		return;
	g_subprocess_send_signal(node->process, SIGTERM);
	g_subprocess_wait(node->process, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(node->process));
	g_assert_cmpint(g_subprocess_get_exit_status(node->process), ==, 0);
	g_clear_object(&node->process);
}

static const gchar *const node_names[N_NODES] = {"A", "B", "C"};

/* polls that ask the nodes (a process, an HTTP request) do so every 100 ms at most */
static gboolean
poll_due(gint64 *next_us)
{
	gint64 now_us = g_get_monotonic_time();

	if (now_us < *next_us)
		return FALSE;
	*next_us = now_us + 100 * 1000;
	return TRUE;
}

static void
fixture_setup(PeeringFixture *fixture, gconstpointer user_data)
{
	for (guint n = 0; n < N_NODES; n++) {
		Node *node = &fixture->nodes[n];
		g_autoptr(GError) error = NULL;
		g_autofree gchar *text = NULL;

		node->name = node_names[n];
		node->address = g_strdup_printf("127.0.0.%u", 41 + n);
		node->dir = relay_test_mkdtemp();
		node->config_path = g_build_filename(node->dir, "relay.conf", NULL);
		node->port = relay_test_free_port();
		node->origin = g_strdup_printf("http://%s:%u", node->address, node->port);
		node->inbox = g_strdup_printf("%s/inbox", node->origin);
		node->actor = g_strdup_printf("%s/actor", node->origin);
		/* retries come fast, and a peer that is down is never paused for long */
		text = g_strdup_printf("[relay]\npublic-url = %s\nlisten = %s:%u\n"
				       "[storage]\nbackend = sqlite\npath = relay.db\n"
				       "[admin]\nsocket = %s/admin.sock\n"
				       "[federation]\nallow-private-addresses = true\n"
				       "[delivery]\nretry-base = 1\nretry-cap = 60\n"
				       "breaker-failures = 1000\n",
				       node->origin,
				       node->address,
				       node->port,
				       node->dir);
		g_file_set_contents(node->config_path, text, -1, &error);
		g_assert_no_error(error);
		for (guint m = 0; m < N_USERS; m++) {
			g_autofree gchar *address = g_strdup_printf("127.0.%u.%u", 41 + n, m + 1);
			node->members[m] = relay_test_instance_new(address);
		}
		node_start(node);
	}
}

static void
fixture_teardown(PeeringFixture *fixture, gconstpointer user_data)
{
	for (guint n = 0; n < N_NODES; n++) {
		Node *node = &fixture->nodes[n];
		node_stop(node);
		for (guint m = 0; m < N_USERS; m++)
			g_clear_pointer(&node->members[m], relay_test_instance_free);
		relay_test_rmdir(node->dir);
		g_free(node->address);
		g_free(node->dir);
		g_free(node->config_path);
		g_free(node->origin);
		g_free(node->inbox);
		g_free(node->actor);
	}
}

/* the `relay` command, as operators run it; the main loop runs meanwhile, so that the members
 * answer the nodes */

typedef struct {
	gint status;
	gchar *out;
	gchar *err;
	gboolean done;
} Cli;

static void
cli_free(Cli *cli)
{
	g_free(cli->out);
	g_free(cli->err);
	g_free(cli);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Cli, cli_free)

static void
cli_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Cli *cli = user_data;
	g_autoptr(GError) error = NULL;

	g_subprocess_communicate_utf8_finish(
		G_SUBPROCESS(source), res, &cli->out, &cli->err, &error);
	g_assert_no_error(error);
	cli->status = g_subprocess_get_exit_status(G_SUBPROCESS(source));
	cli->done = TRUE;
}

static gboolean
cli_finished(gpointer user_data)
{
	return ((Cli *)user_data)->done;
}

/* runs `relay ARGS... -c NODE's relay.conf` */
static Cli *
cli(Node *node, const gchar *first, ...)
{
	Cli *result = g_new0(Cli, 1);
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GSubprocess) process = NULL;
	g_autoptr(GError) error = NULL;
	va_list ap;

	g_ptr_array_add(argv, (gpointer)g_getenv("RELAY_BINARY"));
	va_start(ap, first);
	for (const gchar *arg = first; arg != NULL; arg = va_arg(ap, const gchar *))
		g_ptr_array_add(argv, (gpointer)arg);
	va_end(ap);
	g_ptr_array_add(argv, (gpointer) "-c");
	g_ptr_array_add(argv, node->config_path);
	g_ptr_array_add(argv, NULL);
	process = relay_test_spawn(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
				   (const gchar *const *)argv->pdata,
				   &error);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8_async(process, NULL, NULL, cli_done_cb, result);
	g_assert_true(relay_test_wait_until(NULL, cli_finished, result, 60000));
	if (g_test_verbose())
		g_printerr("  %s$ relay %s → %d\n%s%s",
			   node->name,
			   first,
			   result->status,
			   result->out,
			   result->err);
	return result;
}

static void
assert_cli_ok(Cli *result)
{
	if (result->status != 0)
		g_error("relay exited %d: %s%s", result->status, result->out, result->err);
}

/* `relay peers list --json`: the "data" of the answer */
static JsonNode *
peers_list(Node *node)
{
	g_autoptr(Cli) result = cli(node, "peers", "list", "--json", NULL);
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	JsonObject *root;

	assert_cli_ok(result);
	json_parser_load_from_data(parser, result->out, -1, &error);
	g_assert_no_error(error);
	root = json_node_get_object(json_parser_get_root(parser));
	g_assert_true(json_object_get_boolean_member(root, "ok"));
	return json_node_copy(json_object_get_member(root, "data"));
}

/* the peer @actor of @node's default network as `relay peers list --json` has it */
static JsonObject *
peer_find(JsonNode *list, const gchar *actor)
{
	JsonArray *peers = json_object_get_array_member(json_node_get_object(list), "peers");

	for (guint i = 0; i < json_array_get_length(peers); i++) {
		JsonObject *peer = json_array_get_object_element(peers, i);
		if (g_strcmp0(json_object_get_string_member(peer, "actor"), actor) == 0)
			return peer;
	}
	return NULL;
}

typedef struct {
	Node *node;
	const gchar *actor;
	const gchar *state;
	gint64 next_us;
} PeerStateWait;

static gboolean
peer_state_is(gpointer user_data)
{
	PeerStateWait *wait = user_data;
	g_autoptr(JsonNode) list = NULL;
	JsonObject *peer;

	if (!poll_due(&wait->next_us))
		return FALSE;
	list = peers_list(wait->node);
	peer = peer_find(list, wait->actor);
	return peer != NULL &&
	       g_strcmp0(json_object_get_string_member(peer, "state"), wait->state) == 0;
}

static void
wait_peer_state(Node *node, Node *peer, const gchar *state)
{
	PeerStateWait wait = {node, peer->actor, state, 0};
	if (!relay_test_wait_until(NULL, peer_state_is, &wait, WAIT_MS))
		g_error("%s never saw %s as %s", node->name, peer->name, state);
}

/* the operator of @node links its default network with @peer's, giving its inbox URL */
static void
peer_add(Node *node, Node *peer)
{
	g_autoptr(Cli) result = cli(node, "peers", "add", "relay", peer->inbox, NULL);
	assert_cli_ok(result);
}

/* both operators add each other, and wait until both sides say mutual */
static void
peer_link(Node *x, Node *y)
{
	peer_add(x, y);
	peer_add(y, x);
	wait_peer_state(x, y, "mutual");
	wait_peer_state(y, x, "mutual");
}

/* members */

static gchar *
follow_json(RelayTestInstance *instance)
{
	g_autofree gchar *uuid = g_uuid_string_random();
	g_autofree gchar *actor = relay_test_instance_url(instance, "/actor");

	return g_strdup_printf("{\"@context\":\"https://www.w3.org/ns/activitystreams\","
			       "\"id\":\"%s/follows/%s\",\"type\":\"Follow\",\"actor\":\"%s\","
			       "\"object\":\"%s\"}",
			       relay_test_instance_get_origin(instance),
			       uuid,
			       actor,
			       PUBLIC);
}

/* every member of every node subscribes to its own node, Mastodon-style */
static void
subscribe_members(PeeringFixture *fixture)
{
	for (guint n = 0; n < N_NODES; n++) {
		Node *node = &fixture->nodes[n];
		for (guint m = 0; m < N_USERS; m++) {
			RelayTestInstance *member = node->members[m];
			g_autofree gchar *follow = follow_json(member);
			g_assert_cmpuint(relay_test_instance_post(
						 member, node->inbox, "/actor", follow, NULL),
					 ==,
					 202);
		}
	}
	for (guint n = 0; n < N_NODES; n++) {
		for (guint m = 0; m < N_USERS; m++) {
			RelayTestInstance *member = fixture->nodes[n].members[m];
			g_assert_true(relay_test_instance_wait_type(member, "Accept", 1, WAIT_MS));
			relay_test_instance_clear(member);
		}
	}
}

/* a public note by /users/alice of @instance, with an LD signature when @signed_ld */
static gchar *
create_json(RelayTestInstance *instance, gboolean signed_ld, gchar **out_note)
{
	g_autofree gchar *uuid = g_uuid_string_random();
	g_autofree gchar *actor = relay_test_instance_url(instance, "/users/alice");
	g_autofree gchar *note =
		g_strdup_printf("%s/statuses/%s", relay_test_instance_get_origin(instance), uuid);
	gchar *json = g_strdup_printf(
		"{\"@context\":[\"https://www.w3.org/ns/activitystreams\"],"
		"\"id\":\"%s/activity\",\"type\":\"Create\",\"actor\":\"%s\","
		"\"published\":\"2026-11-25T10:00:00Z\",\"to\":[\"%s\"],\"cc\":[\"%s/followers\"],"
		"\"object\":{\"id\":\"%s\",\"type\":\"Note\",\"attributedTo\":\"%s\","
		"\"content\":\"<p>hello</p>\",\"to\":[\"%s\"]}%s}",
		note,
		actor,
		PUBLIC,
		actor,
		note,
		actor,
		PUBLIC,
		signed_ld
			? ",\"signature\":{\"type\":\"RsaSignature2017\",\"creator\":\"x#main-"
			  "key\",\"created\":\"2026-11-25T10:00:00Z\",\"signatureValue\":\"AAAA\"}"
			: "");
	if (out_note != NULL)
		*out_note = g_steal_pointer(&note);
	return json;
}

/* @member posts to its node; returns the post's body */
static gchar *
post(Node *node, RelayTestInstance *member, gboolean signed_ld, gchar **out_note)
{
	gchar *body = create_json(member, signed_ld, out_note);
	g_assert_cmpuint(
		relay_test_instance_post(member, node->inbox, "/users/alice", body, NULL), ==, 202);
	return body;
}

/* the queue of @node, from /metrics */
static gint64
node_queue_length(Node *node)
{
	g_autofree gchar *metrics = node_get(node, "/metrics", NULL);
	const gchar *line;

	g_assert_nonnull(metrics);
	line = strstr(metrics, "\nrelay_queue_deliveries ");
	g_assert_nonnull(line);
	return g_ascii_strtoll(line + strlen("\nrelay_queue_deliveries "), NULL, 10);
}

typedef struct {
	Node *node;
	gint64 length;
	gint64 next_us;
} QueueWait;

static gboolean
queue_length_is(gpointer user_data)
{
	QueueWait *wait = user_data;
	return poll_due(&wait->next_us) && node_queue_length(wait->node) == wait->length;
}

/* waits until @node's queue holds @length deliveries (those settled are gone) */
static void
wait_queue_length(Node *node, gint64 length)
{
	QueueWait wait = {node, length, 0};
	g_assert_true(relay_test_wait_until(NULL, queue_length_is, &wait, WAIT_MS));
}

typedef struct {
	PeeringFixture *fixture;
	guint empty_rounds;
	gint64 next_us;
} DrainWait;

static gboolean
all_queues_empty(gpointer user_data)
{
	DrainWait *wait = user_data;

	if (!poll_due(&wait->next_us))
		return FALSE;
	for (guint n = 0; n < N_NODES; n++) {
		if (wait->fixture->nodes[n].process != NULL &&
		    node_queue_length(&wait->fixture->nodes[n]) != 0) {
			wait->empty_rounds = 0;
			return FALSE;
		}
	}
	return ++wait->empty_rounds >= 2;
}

/* waits until nothing travels any more between the nodes */
static void
wait_drained(PeeringFixture *fixture)
{
	DrainWait wait = {fixture, 0, 0};
	g_assert_true(relay_test_wait_until(NULL, all_queues_empty, &wait, WAIT_MS));
}

/* how many deliveries to @member are about @note: raw Creates of it, or Announces of it */
static guint
count_about(RelayTestInstance *member, const gchar *note)
{
	GPtrArray *deliveries = relay_test_instance_get_deliveries(member);
	guint count = 0;

	for (guint i = 0; i < deliveries->len; i++) {
		RelayTestDelivery *delivery = g_ptr_array_index(deliveries, i);
		JsonObject *object = json_node_get_object(delivery->json);
		JsonNode *inner = json_object_get_member(object, "object");
		const gchar *id = NULL;

		if (inner != NULL && JSON_NODE_HOLDS_OBJECT(inner))
			id = json_object_get_string_member_with_default(
				json_node_get_object(inner), "id", NULL);
		else if (inner != NULL && JSON_NODE_HOLDS_VALUE(inner))
			id = json_node_get_string(inner);
		if (g_strcmp0(id, note) == 0)
			count++;
	}
	return count;
}

typedef struct {
	RelayTestInstance *member;
	const gchar *note;
} NoteWait;

static gboolean
note_arrived(gpointer user_data)
{
	NoteWait *wait = user_data;
	return count_about(wait->member, wait->note) > 0;
}

static void
wait_note(RelayTestInstance *member, const gchar *note)
{
	NoteWait wait = {member, note};
	if (!relay_test_wait_until(NULL, note_arrived, &wait, WAIT_MS))
		g_error("%s never got %s", relay_test_instance_get_host(member), note);
}

/* every delivery @member got verified with the key of the node @from, which it names */
static void
assert_all_verified(RelayTestInstance *member, Node *from)
{
	GPtrArray *deliveries = relay_test_instance_get_deliveries(member);

	for (guint i = 0; i < deliveries->len; i++) {
		RelayTestDelivery *delivery = g_ptr_array_index(deliveries, i);
		if (!delivery->verified)
			g_error("a delivery to %s did not verify: %s",
				relay_test_instance_get_host(member),
				delivery->verify_error);
		g_assert_true(g_str_has_prefix(delivery->key_id, from->actor));
	}
}

/* @member got @note exactly once, as @body byte for byte (raw) or, when @body is NULL, as
 * an Announce by the actor of its own node @home */
static void
assert_got_once(RelayTestInstance *member, Node *home, const gchar *note, const gchar *body)
{
	RelayTestDelivery *delivery;

	g_assert_cmpuint(count_about(member, note), ==, 1);
	assert_all_verified(member, home);
	if (body != NULL) {
		delivery = relay_test_instance_find_type(member, "Create", 0);
		g_assert_nonnull(delivery);
		g_assert_cmpmem(g_bytes_get_data(delivery->body, NULL),
				g_bytes_get_size(delivery->body),
				body,
				strlen(body));
		return;
	}
	delivery = relay_test_instance_find_type(member, "Announce", 0);
	g_assert_nonnull(delivery);
	g_assert_cmpstr(
		json_object_get_string_member(json_node_get_object(delivery->json), "actor"),
		==,
		home->actor);
	g_assert_cmpstr(
		json_object_get_string_member(json_node_get_object(delivery->json), "object"),
		==,
		note);
}

static void
clear_members(PeeringFixture *fixture)
{
	for (guint n = 0; n < N_NODES; n++) {
		for (guint m = 0; m < N_USERS; m++)
			relay_test_instance_clear(fixture->nodes[n].members[m]);
	}
}

/*
 * A post from one member reaches every other member of every node exactly once: raw (the
 * same bytes) when it carries an LD signature, re-wrapped by each node's own actor when not,
 * and never back to its author.
 */
static void
assert_flow_everywhere(PeeringFixture *fixture, guint from_node, gboolean signed_ld)
{
	Node *origin = &fixture->nodes[from_node];
	RelayTestInstance *author = origin->members[0];
	g_autofree gchar *note = NULL;
	g_autofree gchar *body = post(origin, author, signed_ld, &note);

	/* the witness: the farthest member has it */
	for (guint n = 0; n < N_NODES; n++)
		wait_note(fixture->nodes[n].members[1], note);
	wait_drained(fixture);
	for (guint n = 0; n < N_NODES; n++) {
		Node *node = &fixture->nodes[n];
		for (guint m = 0; m < N_USERS; m++) {
			if (node->members[m] == author) {
				g_assert_cmpuint(count_about(author, note), ==, 0);
				continue;
			}
			assert_got_once(node->members[m], node, note, signed_ld ? body : NULL);
		}
	}
	clear_members(fixture);
}

/* the peers of @node's default network as @path (/api/v1/networks, /nodeinfo/2.1) shows them */
static JsonArray *
public_peers(Node *node, const gchar *path, JsonParser *parser)
{
	guint status = 0;
	g_autofree gchar *body = node_get(node, path, &status);
	g_autoptr(GError) error = NULL;
	JsonObject *root;
	JsonArray *networks;

	g_assert_cmpuint(status, ==, 200);
	json_parser_load_from_data(parser, body, -1, &error);
	g_assert_no_error(error);
	root = json_node_get_object(json_parser_get_root(parser));
	if (json_object_has_member(root, "metadata"))
		root = json_object_get_object_member(root, "metadata");
	networks = json_object_get_array_member(root, "networks");
	return json_object_get_array_member(json_array_get_object_element(networks, 0), "peers");
}

/* @peers names the default network of @peer on its node, mutual or not */
static void
assert_public_peer(JsonArray *peers, Node *peer, gboolean mutual)
{
	g_autofree gchar *node = g_strdup_printf("%s:%u", peer->address, peer->port);

	for (guint i = 0; i < json_array_get_length(peers); i++) {
		JsonObject *entry = json_array_get_object_element(peers, i);
		if (g_strcmp0(json_object_get_string_member(entry, "actor"), peer->actor) != 0)
			continue;
		g_assert_cmpstr(json_object_get_string_member(entry, "name"), ==, "relay");
		g_assert_cmpstr(json_object_get_string_member(entry, "node"), ==, node);
		g_assert_cmpint(json_object_get_boolean_member(entry, "mutual"), ==, mutual);
		return;
	}
	g_error("%s is not among the peers shown", peer->actor);
}

/* A–B–C: posts cross two hops, signed or not; B's block holds for what comes through A */
static void
test_chain(PeeringFixture *fixture, gconstpointer user_data)
{
	Node *a = &fixture->nodes[0];
	Node *b = &fixture->nodes[1];
	Node *c = &fixture->nodes[2];
	g_autofree gchar *blocked_domain = NULL;
	g_autofree gchar *note = NULL;
	g_autofree gchar *body = NULL;
	g_autoptr(Cli) block = NULL;
	g_autoptr(JsonNode) list = NULL;
	JsonObject *peer;

	subscribe_members(fixture);
	/* bad input: a clear message, status 1 (2 for bad usage), nothing changed */
	{
		g_autofree gchar *nobody = g_strdup_printf("http://127.0.0.44:%u/actor", a->port);
		const struct {
			const gchar *network;
			const gchar *url;
			const gchar *message;
		} bad[] = {
			{"nowhere", b->inbox, "no network named 'nowhere'"},
			{"relay", "not a url", "is not the URL of a network"},
			{"relay", a->actor, "is network relay of this node"},
			{"relay", nobody, "cannot get the network at"},
		};
		g_autoptr(Cli) usage = cli(a, "peers", "add", "relay", NULL);
		g_autoptr(JsonNode) none = NULL;

		g_assert_cmpint(usage->status, ==, 2);
		for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
			g_autoptr(Cli) refused =
				cli(a, "peers", "add", bad[i].network, bad[i].url, NULL);
			g_assert_cmpint(refused->status, ==, 1);
			if (strstr(refused->err, bad[i].message) == NULL)
				g_error("peers add %s: %s", bad[i].url, refused->err);
		}
		none = peers_list(a);
		g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
					 json_node_get_object(none), "peers")),
				 ==,
				 0);
	}
	/* A adds B by its inbox URL, B adds A by its actor URL */
	peer_add(a, b);
	{
		g_autoptr(Cli) result = cli(b, "peers", "add", "relay", a->actor, NULL);
		assert_cli_ok(result);
		g_assert_nonnull(strstr(result->out, "is a peer of relay"));
	}
	wait_peer_state(a, b, "mutual");
	wait_peer_state(b, a, "mutual");
	peer_link(b, c);

	assert_flow_everywhere(fixture, 0, TRUE);
	assert_flow_everywhere(fixture, 2, FALSE);
	assert_flow_everywhere(fixture, 1, FALSE);

	/* how the micro-networks are linked, for everyone: B's status JSON, page and NodeInfo */
	{
		g_autoptr(JsonParser) parser = json_parser_new();
		g_autoptr(JsonParser) nodeinfo = json_parser_new();
		JsonArray *shown = public_peers(b, "/api/v1/networks", parser);
		g_autofree gchar *page = node_get(b, "/", NULL);

		g_assert_cmpuint(json_array_get_length(shown), ==, 2);
		assert_public_peer(shown, a, TRUE);
		assert_public_peer(shown, c, TRUE);
		shown = public_peers(b, "/nodeinfo/2.1", nodeinfo);
		g_assert_cmpuint(json_array_get_length(shown), ==, 2);
		assert_public_peer(shown, a, TRUE);
		g_assert_nonnull(strstr(page, "Linked networks (2)"));
		g_assert_nonnull(strstr(page, c->actor));
	}

	/* the traffic of the last hour, each way, and when B last relayed something to A */
	list = peers_list(a);
	peer = peer_find(list, b->actor);
	g_assert_nonnull(peer);
	g_assert_cmpint(json_object_get_int_member(peer, "received_last_hour"), >=, 2);
	g_assert_cmpint(json_object_get_int_member(peer, "sent_last_hour"), >=, 1);
	g_assert_true(json_object_get_boolean_member(peer, "follows_us"));
	g_assert_nonnull(json_object_get_string_member(peer, "last_seen_at"));
	{
		g_autoptr(Cli) table = cli(a, "peers", "list", NULL);
		assert_cli_ok(table);
		g_assert_nonnull(strstr(table->out, b->actor));
		g_assert_nonnull(strstr(table->out, "mutual"));
	}

	/* a domain B blocks never reaches B's members, nor what is beyond B, even through A */
	blocked_domain = g_strdup(relay_test_instance_get_host(a->members[1]));
	*strrchr(blocked_domain, ':') = '\0';
	block = cli(b, "block", blocked_domain, NULL);
	assert_cli_ok(block);
	body = post(a, a->members[1], TRUE, &note);
	wait_note(a->members[0], note);
	wait_drained(fixture);
	for (guint m = 0; m < N_USERS; m++) {
		g_assert_cmpuint(count_about(b->members[m], note), ==, 0);
		g_assert_cmpuint(count_about(c->members[m], note), ==, 0);
	}
	/* the same post unsigned: A's Announce of it is refused too (the object's origin) */
	g_clear_pointer(&note, g_free);
	g_clear_pointer(&body, g_free);
	body = post(a, a->members[1], FALSE, &note);
	wait_note(a->members[0], note);
	wait_drained(fixture);
	for (guint m = 0; m < N_USERS; m++) {
		g_assert_cmpuint(count_about(b->members[m], note), ==, 0);
		g_assert_cmpuint(count_about(c->members[m], note), ==, 0);
	}
}

/* A–B–C–A: every post arrives once; the loop dies on the seen-set and never-send-back */
static void
test_triangle(PeeringFixture *fixture, gconstpointer user_data)
{
	Node *a = &fixture->nodes[0];
	Node *b = &fixture->nodes[1];
	Node *c = &fixture->nodes[2];

	subscribe_members(fixture);
	peer_link(a, b);
	peer_link(b, c);
	peer_link(c, a);
	for (guint n = 0; n < N_NODES; n++) {
		assert_flow_everywhere(fixture, n, TRUE);
		assert_flow_everywhere(fixture, n, FALSE);
	}
}

/* only A's operator adds B: B's posts come to A's members, A's do not go to B's */
static void
test_one_way(PeeringFixture *fixture, gconstpointer user_data)
{
	Node *a = &fixture->nodes[0];
	Node *b = &fixture->nodes[1];
	g_autofree gchar *note_b = NULL;
	g_autofree gchar *body_b = NULL;
	g_autofree gchar *note_a = NULL;
	g_autofree gchar *body_a = NULL;
	g_autoptr(JsonNode) list = NULL;

	subscribe_members(fixture);
	{
		g_autoptr(JsonNode) pending = NULL;
		peer_add(a, b);
		pending = peers_list(b);
		/* B's operator did nothing: A is an ordinary member there */
		g_assert_null(peer_find(pending, a->actor));
	}
	wait_peer_state(a, b, "one-way");
	list = peers_list(a);
	g_assert_false(json_object_get_boolean_member(peer_find(list, b->actor), "follows_us"));

	body_b = post(b, b->members[0], TRUE, &note_b);
	wait_note(a->members[1], note_b);
	body_a = post(a, a->members[0], TRUE, &note_a);
	wait_note(a->members[1], note_a);
	wait_drained(fixture);
	for (guint m = 0; m < N_USERS; m++) {
		assert_got_once(a->members[m], a, note_b, body_b);
		g_assert_cmpuint(count_about(b->members[m], note_a), ==, 0);
	}
	{
		g_autoptr(JsonParser) parser = json_parser_new();
		JsonArray *shown = public_peers(a, "/api/v1/networks", parser);
		g_assert_cmpuint(json_array_get_length(shown), ==, 1);
		assert_public_peer(shown, b, FALSE);
	}
	/* an ordinary member may not relay someone else's post: B's member signs a1's note */
	{
		g_autofree gchar *foreign = create_json(a->members[0], TRUE, NULL);
		g_assert_cmpuint(
			relay_test_instance_post(b->members[1], b->inbox, "/actor", foreign, NULL),
			==,
			401);
	}

	/* once B's operator adds A too, posts go both ways */
	clear_members(fixture);
	peer_add(b, a);
	wait_peer_state(a, b, "mutual");
	wait_peer_state(b, a, "mutual");
	g_clear_pointer(&note_a, g_free);
	g_clear_pointer(&body_a, g_free);
	body_a = post(a, a->members[0], TRUE, &note_a);
	wait_note(b->members[1], note_a);
	wait_drained(fixture);
	g_assert_cmpuint(count_about(b->members[0], note_a), ==, 1);

	/* A's direction for B holds for what B relays: receive-only, B's posts stop at A */
	{
		g_autofree gchar *b_domain = g_strdup_printf("%s:%u", b->address, b->port);
		g_autoptr(Cli) direction =
			cli(a, "members", "direction", b_domain, "receive-only", NULL);
		assert_cli_ok(direction);
	}
	g_clear_pointer(&note_b, g_free);
	g_clear_pointer(&body_b, g_free);
	body_b = post(b, b->members[0], FALSE, &note_b);
	wait_note(b->members[1], note_b);
	wait_drained(fixture);
	for (guint m = 0; m < N_USERS; m++)
		g_assert_cmpuint(count_about(a->members[m], note_b), ==, 0);
}

/* B's operator cuts the link: from that moment nothing crosses, either way */
static void
test_remove(PeeringFixture *fixture, gconstpointer user_data)
{
	Node *a = &fixture->nodes[0];
	Node *b = &fixture->nodes[1];
	g_autofree gchar *note_a = NULL;
	g_autofree gchar *body_a = NULL;
	g_autofree gchar *note_b = NULL;
	g_autofree gchar *body_b = NULL;
	g_autofree gchar *queued_note = NULL;
	g_autofree gchar *queued_body = NULL;
	g_autoptr(Cli) removed = NULL;
	g_autoptr(Cli) again = NULL;
	g_autoptr(JsonNode) list = NULL;

	subscribe_members(fixture);
	peer_link(a, b);

	/* A is down while B's operator cuts the link: back up, A still takes B for a peer
	 * until B's Undo and Reject reach it at their next retry */
	node_stop(a);
	/* what B queued for A meanwhile is dropped with the link */
	queued_body = post(b, b->members[0], TRUE, &queued_note);
	wait_note(b->members[1], queued_note);
	wait_queue_length(b, 1);
	removed = cli(b, "peers", "remove", "relay", a->actor, NULL);
	assert_cli_ok(removed);
	g_assert_nonnull(strstr(removed->out, "no longer a peer"));
	g_assert_nonnull(strstr(removed->out, "1 queued delivery dropped"));
	node_start(a);
	body_a = post(a, a->members[0], TRUE, &note_a);
	body_b = post(b, b->members[0], FALSE, &note_b);
	wait_note(a->members[1], note_a);
	wait_note(b->members[1], note_b);
	wait_drained(fixture);
	for (guint m = 0; m < N_USERS; m++) {
		g_assert_cmpuint(count_about(b->members[m], note_a), ==, 0);
		g_assert_cmpuint(count_about(a->members[m], note_b), ==, 0);
		g_assert_cmpuint(count_about(a->members[m], queued_note), ==, 0);
	}
	/* A heard: B refused A's Follow and stopped following A */
	wait_peer_state(a, b, "rejected");
	list = peers_list(b);
	g_assert_null(peer_find(list, a->actor));
	g_clear_pointer(&list, json_node_unref);
	list = peers_list(a);
	g_assert_false(json_object_get_boolean_member(peer_find(list, b->actor), "follows_us"));
	/* removing again: not a peer any more */
	again = cli(b, "peers", "remove", "relay", a->actor, NULL);
	g_assert_cmpint(again->status, ==, 1);
}

typedef struct {
	Node *node;
	const gchar *series;
	gint64 next_us;
} MetricWait;

static gboolean
metric_positive(gpointer user_data)
{
	MetricWait *wait = user_data;
	g_autofree gchar *metrics = NULL;
	g_autofree gchar *needle = g_strdup_printf("\n%s ", wait->series);
	const gchar *line;

	if (!poll_due(&wait->next_us))
		return FALSE;
	metrics = node_get(wait->node, "/metrics", NULL);
	line = metrics != NULL ? strstr(metrics, needle) : NULL;
	return line != NULL && g_ascii_strtod(line + strlen(needle), NULL) > 0;
}

/* B goes down; what A relayed meanwhile reaches B's members once B is back */
static void
test_backlog(PeeringFixture *fixture, gconstpointer user_data)
{
	Node *a = &fixture->nodes[0];
	Node *b = &fixture->nodes[1];
	g_autofree gchar *note = NULL;
	g_autofree gchar *body = NULL;
	MetricWait retried = {a, "relay_deliveries_total{outcome=\"retry\"}", 0};

	subscribe_members(fixture);
	peer_link(a, b);
	node_stop(b);
	body = post(a, a->members[0], TRUE, &note);
	wait_note(a->members[1], note);
	/* A tried B and failed: the delivery waits in A's queue */
	g_assert_true(relay_test_wait_until(NULL, metric_positive, &retried, WAIT_MS));
	g_assert_cmpint(node_queue_length(a), >=, 1);
	node_start(b);
	for (guint m = 0; m < N_USERS; m++)
		wait_note(b->members[m], note);
	wait_drained(fixture);
	for (guint m = 0; m < N_USERS; m++)
		assert_got_once(b->members[m], b, note, body);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/relay/peering/chain",
		   PeeringFixture,
		   NULL,
		   fixture_setup,
		   test_chain,
		   fixture_teardown);
	g_test_add("/relay/peering/triangle",
		   PeeringFixture,
		   NULL,
		   fixture_setup,
		   test_triangle,
		   fixture_teardown);
	g_test_add("/relay/peering/one-way",
		   PeeringFixture,
		   NULL,
		   fixture_setup,
		   test_one_way,
		   fixture_teardown);
	g_test_add("/relay/peering/remove",
		   PeeringFixture,
		   NULL,
		   fixture_setup,
		   test_remove,
		   fixture_teardown);
	g_test_add("/relay/peering/backlog",
		   PeeringFixture,
		   NULL,
		   fixture_setup,
		   test_backlog,
		   fixture_teardown);
	return g_test_run();
}
