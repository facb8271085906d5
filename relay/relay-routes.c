/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * The routes other servers read: network actors and their collections, the GET side of the
 * inboxes (which answers the actor: Mastodon and Misskey admins paste the inbox URL, and some
 * servers fetch it), WebFinger, host-meta and NodeInfo. Documents that never change while the
 * node runs (actors) are serialised once per network; the others are small and built per
 * request.
 */

#include "config.h"

#include <string.h>

#include "relay-actor.h"
#include "relay-blocklist.h"
#include "relay-discovery.h"
#include "relay-membership.h"
#include "relay-server-private.h"

#define RELAY_ROUTES_ACTIVITY_JSON "application/activity+json"
#define RELAY_ROUTES_LD_JSON                                                                       \
	"application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\""

/* ActivityPub clients ask for activity+json or ld+json with the AS profile: answer in kind */
static const gchar *
relay_routes_activity_content_type(SoupServerMessage *msg)
{
	const gchar *accept = soup_message_headers_get_list(
		soup_server_message_get_request_headers(msg), "Accept");

	if (accept != NULL && strstr(accept, "application/ld+json") != NULL &&
	    strstr(accept, "application/activity+json") == NULL)
		return RELAY_ROUTES_LD_JSON;
	return RELAY_ROUTES_ACTIVITY_JSON;
}

static void
relay_routes_set_bytes(SoupServerMessage *msg, const gchar *content_type, GBytes *body)
{
	soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
	soup_message_headers_replace(
		soup_server_message_get_response_headers(msg), "Cache-Control", "max-age=300");
	soup_server_message_set_response(msg,
					 content_type,
					 SOUP_MEMORY_COPY,
					 g_bytes_get_data(body, NULL),
					 g_bytes_get_size(body));
}

static void
relay_routes_set_node(SoupServerMessage *msg, const gchar *content_type, JsonNode *node)
{
	g_autoptr(GBytes) body = relay_json_to_bytes(node);
	relay_routes_set_bytes(msg, content_type, body);
}

static JsonNode *
relay_routes_empty_collection(const gchar *id)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "@context");
	json_builder_add_string_value(builder, "https://www.w3.org/ns/activitystreams");
	json_builder_set_member_name(builder, "id");
	json_builder_add_string_value(builder, id);
	json_builder_set_member_name(builder, "type");
	json_builder_add_string_value(builder, "OrderedCollection");
	json_builder_set_member_name(builder, "totalItems");
	json_builder_add_int_value(builder, 0);
	json_builder_set_member_name(builder, "orderedItems");
	json_builder_begin_array(builder);
	json_builder_end_array(builder);
	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}

/*
 * Serves what lies under a network's actor: "" (the actor), "inbox" (GET answers the actor),
 * "followers", "following" or "outbox"
 */
/* GET /networks/NAME/blocks: the domains a network blocks, for other operators */
typedef struct {
	RelayServerRequest *request;
	gchar *network;
	gboolean csv;
	GPtrArray *policies; /* (nullable): what storage had */
} RelayRoutesBlocks;

static void
relay_routes_blocks_free(RelayRoutesBlocks *blocks)
{
	relay_server_request_free(blocks->request);
	g_free(blocks->network);
	g_clear_pointer(&blocks->policies, g_ptr_array_unref);
	g_free(blocks);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayRoutesBlocks, relay_routes_blocks_free)

static void
relay_routes_blocks_run(RelayStore *store, GTask *task, gpointer data, GCancellable *cancellable)
{
	RelayRoutesBlocks *blocks = data;
	g_autoptr(GError) error = NULL;

	blocks->policies = relay_store_policy_list(store, cancellable, &error);
	if (blocks->policies == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

static gchar *
relay_routes_blocks_time(gint64 us)
{
	g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc(us / G_USEC_PER_SEC);
	return time != NULL ? g_date_time_format(time, "%Y-%m-%dT%H:%M:%SZ") : NULL;
}

static GBytes *
relay_routes_blocks_body(RelayRoutesBlocks *blocks)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GString) csv = g_string_new(RELAY_BLOCKLIST_HEADER "\n");
	gsize length = 0;
	gchar *text;

	json_builder_begin_array(builder);
	for (guint i = 0; i < blocks->policies->len; i++) {
		const RelayDomainPolicy *policy = g_ptr_array_index(blocks->policies, i);
		g_autofree gchar *since = NULL;
		/* only the operator's own decisions: blocks kept by a subscribed list are that
		 * list's to publish, and passing them on would let two nodes that subscribe to
		 * each other keep a domain blocked after both lists dropped it */
		if (policy->kind != RELAY_POLICY_KIND_BLOCK || policy->subscription != NULL ||
		    (policy->network != NULL && g_strcmp0(policy->network, blocks->network) != 0))
			continue;
		relay_blocklist_append_line(csv, policy->domain, "suspend", policy->reason);
		since = relay_routes_blocks_time(policy->created_at_us);
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "domain");
		json_builder_add_string_value(builder, policy->domain);
		json_builder_set_member_name(builder, "severity");
		json_builder_add_string_value(builder, "suspend");
		json_builder_set_member_name(builder, "reason");
		if (policy->reason != NULL)
			json_builder_add_string_value(builder, policy->reason);
		else
			json_builder_add_null_value(builder);
		json_builder_set_member_name(builder, "since");
		json_builder_add_string_value(builder, since);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
	if (blocks->csv) {
		length = csv->len;
		return g_bytes_new_take(g_string_free(g_steal_pointer(&csv), FALSE), length);
	}
	root = json_builder_get_root(builder);
	json_generator_set_root(generator, root);
	text = json_generator_to_data(generator, &length);
	return g_bytes_new_take(text, length);
}

static void
relay_routes_blocks_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(RelayRoutesBlocks) blocks = user_data;
	SoupServerMessage *msg = blocks->request->msg;
	SoupMessageHeaders *headers = soup_server_message_get_response_headers(msg);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) body = NULL;
	g_autofree gchar *hash = NULL;
	g_autofree gchar *etag = NULL;
	const gchar *if_none_match;

	if (!g_task_propagate_boolean(G_TASK(res), &error)) {
		g_autoptr(JsonBuilder) builder = json_builder_new();
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "error");
		json_builder_add_string_value(builder, "storage does not answer");
		json_builder_end_object(builder);
		relay_server_request_answer(
			blocks->request, SOUP_STATUS_SERVICE_UNAVAILABLE, builder);
		return;
	}
	body = relay_routes_blocks_body(blocks);
	/* subscribers ask again on a schedule: an ETag spares them an unchanged list */
	hash = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, body);
	etag = g_strdup_printf("\"%.32s\"", hash);
	soup_message_headers_replace(headers, "ETag", etag);
	soup_message_headers_replace(headers, "Vary", "Accept");
	soup_message_headers_replace(headers, "Cache-Control", "no-cache");
	if_none_match = soup_message_headers_get_one(soup_server_message_get_request_headers(msg),
						     "If-None-Match");
	if (if_none_match != NULL && strstr(if_none_match, etag) != NULL) {
		g_autoptr(GBytes) empty = g_bytes_new_static("", 0);
		relay_server_request_answer_bytes(
			blocks->request, SOUP_STATUS_NOT_MODIFIED, NULL, empty);
		return;
	}
	relay_server_request_answer_bytes(blocks->request,
					  SOUP_STATUS_OK,
					  blocks->csv ? "text/csv; charset=utf-8"
						      : "application/json",
					  body);
}

static void
relay_routes_blocks(RelayServer *self, SoupServerMessage *msg, RelayNetwork *network)
{
	const RelayNetworkConfig *config = relay_network_get_config(network);
	SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
	const gchar *accept = soup_message_headers_get_one(headers, "Accept");
	RelayRoutesBlocks *blocks;

	if (!config->publish_blocks) {
		relay_server_set_error(
			msg, SOUP_STATUS_NOT_FOUND, "this network does not publish its blocks");
		return;
	}
	if (!relay_server_require_get(msg))
		return;
	blocks = g_new0(RelayRoutesBlocks, 1);
	blocks->network = g_strdup(config->name);
	/* Mastodon's CSV when asked for it, JSON otherwise */
	blocks->csv = accept != NULL && strstr(accept, "text/csv") != NULL &&
		      strstr(accept, "application/json") == NULL;
	blocks->request = relay_server_request_new(self, msg);
	relay_store_run_async(self->store,
			      relay_routes_blocks_run,
			      blocks,
			      NULL,
			      relay_routes_blocks,
			      blocks->request->cancellable,
			      relay_routes_blocks_cb,
			      blocks);
}

static void
relay_routes_network(RelayServer *self,
		     SoupServerMessage *msg,
		     const gchar *name,
		     const gchar *rest)
{
	RelayNetwork *network = g_hash_table_lookup(self->networks, name);

	if (network == NULL) {
		relay_server_set_error(msg, SOUP_STATUS_NOT_FOUND, "no such network");
		return;
	}
	if (g_strcmp0(rest, "") == 0 || g_strcmp0(rest, "inbox") == 0) {
		if (g_strcmp0(rest, "inbox") == 0 &&
		    soup_server_message_get_method(msg) == SOUP_METHOD_POST) {
			if (self->inbox == NULL) {
				relay_server_set_error(msg,
						       SOUP_STATUS_SERVICE_UNAVAILABLE,
						       "the inbox is not ready");
				return;
			}
			relay_inbox_post(self->inbox, msg, network);
			return;
		}
		if (!relay_server_require_get(msg))
			return;
		relay_routes_set_bytes(msg,
				       relay_routes_activity_content_type(msg),
				       relay_network_get_actor_document(network));
		return;
	}
	if (g_strcmp0(rest, "blocks") == 0) {
		relay_routes_blocks(self, msg, network);
		return;
	}
	if (g_strcmp0(rest, "followers") == 0 || g_strcmp0(rest, "following") == 0 ||
	    g_strcmp0(rest, "outbox") == 0) {
		g_autofree gchar *id = relay_network_collection_url(network, rest);
		g_autoptr(JsonNode) collection = relay_routes_empty_collection(id);
		if (!relay_server_require_get(msg))
			return;
		relay_routes_set_node(msg, relay_routes_activity_content_type(msg), collection);
		return;
	}
	relay_server_set_error(msg, SOUP_STATUS_NOT_FOUND, "not found");
}

/* /actor, /actor/followers, ... and /inbox: the default network */
static void
relay_routes_default_network_cb(SoupServer *server,
				SoupServerMessage *msg,
				const char *path,
				GHashTable *query,
				gpointer user_data)
{
	RelayServer *self = RELAY_SERVER(user_data);

	if (g_strcmp0(path, "/inbox") == 0) {
		relay_routes_network(self, msg, RELAY_CONFIG_DEFAULT_NETWORK, "inbox");
		return;
	}
	if (g_strcmp0(path, "/actor") == 0) {
		relay_routes_network(self, msg, RELAY_CONFIG_DEFAULT_NETWORK, "");
		return;
	}
	if (g_str_has_prefix(path, "/actor/") && strchr(path + 7, '/') == NULL) {
		relay_routes_network(self, msg, RELAY_CONFIG_DEFAULT_NETWORK, path + 7);
		return;
	}
	relay_server_set_error(msg, SOUP_STATUS_NOT_FOUND, "not found");
}

/* /networks/NAME[/inbox|/followers|/following|/outbox] */
static void
relay_routes_networks_cb(SoupServer *server,
			 SoupServerMessage *msg,
			 const char *path,
			 GHashTable *query,
			 gpointer user_data)
{
	RelayServer *self = RELAY_SERVER(user_data);
	g_auto(GStrv) parts = NULL;

	if (!g_str_has_prefix(path, "/networks/")) {
		relay_server_set_error(msg, SOUP_STATUS_NOT_FOUND, "not found");
		return;
	}
	parts = g_strsplit(path + strlen("/networks/"), "/", 3);
	if (parts[0] == NULL || parts[0][0] == '\0' || (parts[1] != NULL && parts[2] != NULL)) {
		relay_server_set_error(msg, SOUP_STATUS_NOT_FOUND, "not found");
		return;
	}
	/* the default network has its own URLs; /networks/relay is not one of them, but for
	 * its published blocks */
	if (g_strcmp0(parts[0], RELAY_CONFIG_DEFAULT_NETWORK) == 0 &&
	    g_strcmp0(parts[1], "blocks") != 0) {
		relay_server_set_error(msg, SOUP_STATUS_NOT_FOUND, "no such network");
		return;
	}
	relay_routes_network(self, msg, parts[0], parts[1] != NULL ? parts[1] : "");
}

/* the network a WebFinger resource names, or NULL */
static RelayNetwork *
relay_routes_webfinger_network(RelayServer *self, const gchar *resource, GError **error)
{
	g_autofree gchar *user = NULL;
	g_autofree gchar *host = NULL;
	g_autofree gchar *url = NULL;
	GHashTableIter iter;
	gpointer value;

	if (!relay_webfinger_parse_resource(resource, &user, &host, &url, error))
		return NULL;
	g_hash_table_iter_init(&iter, self->networks);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		RelayNetwork *network = value;
		if (url != NULL) {
			if (g_strcmp0(url, relay_network_get_actor_url(network)) == 0 ||
			    g_strcmp0(url, relay_network_get_inbox_url(network)) == 0)
				return network;
			continue;
		}
		if (user != NULL && host != NULL) {
			g_autofree gchar *acct = g_strdup_printf("%s@%s", user, host);
			if (g_ascii_strcasecmp(acct, relay_network_get_acct(network)) == 0)
				return network;
		}
	}
	return NULL;
}

static void
relay_routes_webfinger_cb(SoupServer *server,
			  SoupServerMessage *msg,
			  const char *path,
			  GHashTable *query,
			  gpointer user_data)
{
	RelayServer *self = RELAY_SERVER(user_data);
	const gchar *resource = query != NULL ? g_hash_table_lookup(query, "resource") : NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) document = NULL;
	g_autofree gchar *subject = NULL;
	g_autofree gchar *status_url = NULL;
	RelayNetwork *network;

	if (g_strcmp0(path, "/.well-known/webfinger") != 0) {
		relay_server_set_error(msg, SOUP_STATUS_NOT_FOUND, "not found");
		return;
	}
	if (!relay_server_require_get(msg))
		return;
	if (resource == NULL || resource[0] == '\0') {
		relay_server_set_error(
			msg, SOUP_STATUS_BAD_REQUEST, "the resource parameter is missing");
		return;
	}
	network = relay_routes_webfinger_network(self, resource, &error);
	if (error != NULL) {
		relay_server_set_error(msg, SOUP_STATUS_BAD_REQUEST, error->message);
		return;
	}
	if (network == NULL) {
		relay_server_set_error(msg, SOUP_STATUS_NOT_FOUND, "no such account here");
		return;
	}
	subject = g_strdup_printf("acct:%s", relay_network_get_acct(network));
	status_url = g_strdup_printf("%s/", relay_config_get_public_url(self->config));
	document = relay_webfinger_document_new(
		subject, relay_network_get_actor_url(network), status_url);
	soup_message_headers_replace(
		soup_server_message_get_response_headers(msg), "Access-Control-Allow-Origin", "*");
	relay_routes_set_node(msg, RELAY_WEBFINGER_CONTENT_TYPE, document);
}

static void
relay_routes_host_meta_cb(SoupServer *server,
			  SoupServerMessage *msg,
			  const char *path,
			  GHashTable *query,
			  gpointer user_data)
{
	RelayServer *self = RELAY_SERVER(user_data);
	const gchar *origin = relay_config_get_public_url(self->config);

	if (!relay_server_require_get(msg))
		return;
	if (g_strcmp0(path, "/.well-known/host-meta") == 0) {
		g_autoptr(GBytes) xrd = relay_host_meta_xrd_new(origin);
		relay_routes_set_bytes(msg, RELAY_HOST_META_XRD_CONTENT_TYPE, xrd);
		return;
	}
	if (g_strcmp0(path, "/.well-known/host-meta.json") == 0) {
		g_autoptr(JsonNode) document = relay_host_meta_json_new(origin);
		relay_routes_set_node(msg, RELAY_HOST_META_JSON_CONTENT_TYPE, document);
		return;
	}
	relay_server_set_error(msg, SOUP_STATUS_NOT_FOUND, "not found");
}

static void
relay_routes_nodeinfo_links_cb(SoupServer *server,
			       SoupServerMessage *msg,
			       const char *path,
			       GHashTable *query,
			       gpointer user_data)
{
	RelayServer *self = RELAY_SERVER(user_data);
	g_autoptr(JsonNode) document = NULL;

	if (g_strcmp0(path, "/.well-known/nodeinfo") != 0) {
		relay_server_set_error(msg, SOUP_STATUS_NOT_FOUND, "not found");
		return;
	}
	if (!relay_server_require_get(msg))
		return;
	document = relay_nodeinfo_links_new(relay_config_get_public_url(self->config));
	relay_routes_set_node(msg, RELAY_NODEINFO_LINKS_CONTENT_TYPE, document);
}

typedef struct {
	gchar *schema_version;
	guint64 accepted;
	GPtrArray *domains;    /* (element-type utf8): accepted member domains, sorted, unique */
	GPtrArray *peer_links; /* (element-type RelayPeerLink) */
} RelayNodeInfoCounts;

static void
relay_nodeinfo_counts_free(RelayNodeInfoCounts *counts)
{
	g_free(counts->schema_version);
	g_clear_pointer(&counts->domains, g_ptr_array_unref);
	g_clear_pointer(&counts->peer_links, g_ptr_array_unref);
	g_free(counts);
}

/* runs on a store worker: counts the accepted members and their domains */
static void
relay_routes_nodeinfo_count_run(RelayStore *store,
				GTask *task,
				gpointer data,
				GCancellable *cancellable)
{
	g_autoptr(GPtrArray) members = NULL;
	g_autoptr(GHashTable) domains = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GError) error = NULL;
	RelayNodeInfoCounts *counts = g_new0(RelayNodeInfoCounts, 1);
	GHashTableIter iter;
	gpointer key;

	members = relay_store_member_list(
		store, NULL, RELAY_MEMBER_STATE_ACCEPTED, cancellable, &error);
	if (members != NULL)
		counts->peer_links = relay_peer_links_list(store, NULL, cancellable, &error);
	if (members == NULL || counts->peer_links == NULL) {
		relay_nodeinfo_counts_free(counts);
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	counts->schema_version = g_strdup(data);
	counts->domains = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < members->len; i++) {
		RelayMember *member = g_ptr_array_index(members, i);
		g_hash_table_add(domains, member->domain);
	}
	counts->accepted = members->len;
	g_hash_table_iter_init(&iter, domains);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		g_ptr_array_add(counts->domains, g_strdup(key));
	g_ptr_array_sort(counts->domains, (GCompareFunc)g_strcmp0);
	g_task_return_pointer(task, counts, (GDestroyNotify)relay_nodeinfo_counts_free);
}

static gint
relay_routes_compare_names(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar **)a, *(const gchar **)b);
}

static const gchar *
relay_routes_network_title(RelayNetwork *network)
{
	const RelayNetworkConfig *config = relay_network_get_config(network);
	return config->title != NULL && config->title[0] != '\0' ? config->title : config->name;
}

static JsonNode *
relay_routes_nodeinfo_metadata(RelayServer *self, GPtrArray *domains, GPtrArray *peer_links)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	GHashTableIter iter;
	gpointer key;

	g_hash_table_iter_init(&iter, self->networks);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		g_ptr_array_add(names, key);
	g_ptr_array_sort(names, relay_routes_compare_names);

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "nodeName");
	json_builder_add_string_value(builder,
				      relay_routes_network_title(g_hash_table_lookup(
					      self->networks, RELAY_CONFIG_DEFAULT_NETWORK)));
	json_builder_set_member_name(builder, "networks");
	json_builder_begin_array(builder);
	for (guint i = 0; i < names->len; i++) {
		RelayNetwork *network = g_hash_table_lookup(self->networks, names->pdata[i]);
		const RelayNetworkConfig *config = relay_network_get_config(network);
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "name");
		json_builder_add_string_value(builder, config->name);
		json_builder_set_member_name(builder, "title");
		json_builder_add_string_value(builder, relay_routes_network_title(network));
		json_builder_set_member_name(builder, "actor");
		json_builder_add_string_value(builder, relay_network_get_actor_url(network));
		json_builder_set_member_name(builder, "inbox");
		json_builder_add_string_value(builder, relay_network_get_inbox_url(network));
		json_builder_set_member_name(builder, "join");
		json_builder_add_string_value(builder, relay_join_policy_to_string(config->join));
		if (config->publish_blocks) {
			g_autofree gchar *blocks =
				g_strdup_printf("%s/networks/%s/blocks",
						relay_config_get_public_url(self->config),
						config->name);
			json_builder_set_member_name(builder, "blocks");
			json_builder_add_string_value(builder, blocks);
		}
		/* the networks of other nodes it is linked with (metadata.peers, below, are the
		 * domains of the members, as other relays publish them) */
		json_builder_set_member_name(builder, "peers");
		relay_peer_links_add_json(builder, peer_links, config->name);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
	json_builder_set_member_name(builder, "peers");
	json_builder_begin_array(builder);
	for (guint i = 0; i < domains->len; i++)
		json_builder_add_string_value(builder, g_ptr_array_index(domains, i));
	json_builder_end_array(builder);
	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}

static void
relay_routes_nodeinfo_counted_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(RelayServerRequest) request = user_data;
	RelayServer *self = request->server;
	RelayNodeInfoCounts *counts = g_task_propagate_pointer(G_TASK(res), NULL);
	g_autoptr(JsonNode) metadata = NULL;
	g_autoptr(JsonNode) document = NULL;
	g_autoptr(GBytes) body = NULL;
	const RelayNetworkConfig *default_config = relay_network_get_config(
		g_hash_table_lookup(self->networks, RELAY_CONFIG_DEFAULT_NETWORK));
	RelayNodeInfo info = {0};

	if (counts == NULL) {
		g_autoptr(JsonBuilder) builder = json_builder_new();
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "error");
		json_builder_add_string_value(builder, "storage does not answer");
		json_builder_end_object(builder);
		relay_server_request_answer(request, SOUP_STATUS_SERVICE_UNAVAILABLE, builder);
		return;
	}
	metadata = relay_routes_nodeinfo_metadata(self, counts->domains, counts->peer_links);
	info.software_version = PACKAGE_VERSION;
	info.open_registrations = default_config->join == RELAY_JOIN_POLICY_OPEN;
	info.users_total = (gint64)counts->accepted;
	info.active_month = -1;
	info.active_halfyear = -1;
	info.metadata = metadata;
	document = relay_nodeinfo_document_new(&info, counts->schema_version);
	body = relay_json_to_bytes(document);
	relay_server_request_answer_bytes(
		request, SOUP_STATUS_OK, relay_nodeinfo_content_type(counts->schema_version), body);
	relay_nodeinfo_counts_free(counts);
}

static void
relay_routes_nodeinfo_cb(SoupServer *server,
			 SoupServerMessage *msg,
			 const char *path,
			 GHashTable *query,
			 gpointer user_data)
{
	RelayServer *self = RELAY_SERVER(user_data);
	RelayServerRequest *request;
	const gchar *version;

	if (g_strcmp0(path, "/nodeinfo/2.0") == 0)
		version = "2.0";
	else if (g_strcmp0(path, "/nodeinfo/2.1") == 0)
		version = "2.1";
	else {
		relay_server_set_error(msg, SOUP_STATUS_NOT_FOUND, "not found");
		return;
	}
	if (!relay_server_require_get(msg))
		return;
	request = relay_server_request_new(self, msg);
	relay_store_run_async(self->store,
			      relay_routes_nodeinfo_count_run,
			      g_strdup(version),
			      g_free,
			      relay_routes_nodeinfo_cb,
			      request->cancellable,
			      relay_routes_nodeinfo_counted_cb,
			      request);
}

/**
 * relay_routes_register:
 *
 * Adds the ActivityPub and discovery routes to the server.
 */
void
relay_routes_register(RelayServer *self)
{
	relay_server_add_route(self, "/actor", relay_routes_default_network_cb);
	relay_server_add_route(self, "/inbox", relay_routes_default_network_cb);
	relay_server_add_route(self, "/networks", relay_routes_networks_cb);
	relay_server_add_route(self, "/.well-known/webfinger", relay_routes_webfinger_cb);
	relay_server_add_route(self, "/.well-known/host-meta", relay_routes_host_meta_cb);
	relay_server_add_route(self, "/.well-known/host-meta.json", relay_routes_host_meta_cb);
	relay_server_add_route(self, "/.well-known/nodeinfo", relay_routes_nodeinfo_links_cb);
	relay_server_add_route(self, "/nodeinfo", relay_routes_nodeinfo_cb);
}
