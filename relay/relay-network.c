/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * A network hosted by this node: its configuration, its URLs, its key pairs and its actor
 * document. The default network "relay" lives at the URLs every admin knows (/actor, /inbox,
 * acct:relay@HOST); the others at /networks/NAME. Each network gets an RSA-2048 key (the one
 * every server can verify) and an Ed25519 key (advertised as a Multikey, FEP-521a) the first
 * time the node starts with it; both are stored and stay the same across restarts, because
 * Pleroma and Akkoma stop trusting a relay whose key changes.
 */

#include "config.h"

#include "relay-actor.h"
#include "relay-error.h"
#include "relay-keys.h"
#include "relay-network.h"

struct _RelayNetwork {
	GObject parent_instance;
	RelayNetworkConfig *config;
	gchar *actor_url;
	gchar *inbox_url;
	gchar *acct;
	GBytes *actor_document;
	RelaySigner *signer;
	RelaySigner *ed25519_signer; /* (nullable) */
};

G_DEFINE_FINAL_TYPE(RelayNetwork, relay_network, G_TYPE_OBJECT)

static gboolean
relay_network_is_default(const gchar *name)
{
	return g_strcmp0(name, RELAY_CONFIG_DEFAULT_NETWORK) == 0;
}

/**
 * relay_network_new:
 * @public_url: the node's origin, no trailing slash
 * @config: the network's configuration
 * @record: the network's stored row, with its keys
 * @error: (nullable): a #GError
 *
 * Returns: (transfer full) (nullable): the network, or %NULL when its keys do not load
 */
RelayNetwork *
relay_network_new(const gchar *public_url,
		  const RelayNetworkConfig *config,
		  const RelayNetworkRecord *record,
		  GError **error)
{
	g_autoptr(RelayNetwork) self = g_object_new(RELAY_TYPE_NETWORK, NULL);
	g_autoptr(EVP_PKEY) rsa = NULL;
	g_autoptr(EVP_PKEY) ed25519 = NULL;
	g_autoptr(JsonNode) document = NULL;
	g_autoptr(GUri) origin = NULL;
	g_autofree gchar *public_pem = NULL;
	g_autofree gchar *multibase = NULL;
	g_autofree gchar *key_id = NULL;
	g_autofree gchar *outbox = NULL;
	g_autofree gchar *followers = NULL;
	g_autofree gchar *following = NULL;
	g_autofree gchar *status_url = NULL;
	RelayActorInfo info = {0};

	if (record->rsa_private_pem == NULL) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_STORAGE,
			    "network %s has no key",
			    config->name);
		return NULL;
	}
	rsa = relay_keys_from_pem(record->rsa_private_pem, error);
	if (rsa == NULL) {
		g_prefix_error(error, "network %s: RSA key: ", config->name);
		return NULL;
	}
	if (record->ed25519_private_pem != NULL) {
		ed25519 = relay_keys_from_pem(record->ed25519_private_pem, error);
		if (ed25519 == NULL) {
			g_prefix_error(error, "network %s: Ed25519 key: ", config->name);
			return NULL;
		}
		multibase = relay_keys_ed25519_multibase(ed25519, error);
		if (multibase == NULL)
			return NULL;
	}
	public_pem = relay_keys_public_pem(rsa, error);
	if (public_pem == NULL)
		return NULL;

	self->config = relay_network_config_copy(config);
	if (relay_network_is_default(config->name)) {
		self->actor_url = g_strdup_printf("%s/actor", public_url);
		self->inbox_url = g_strdup_printf("%s/inbox", public_url);
	} else {
		self->actor_url = g_strdup_printf("%s/networks/%s", public_url, config->name);
		self->inbox_url = g_strdup_printf("%s/inbox", self->actor_url);
	}
	origin = g_uri_parse(public_url, G_URI_FLAGS_NONE, NULL);
	if (origin != NULL && g_uri_get_port(origin) > 0)
		self->acct = g_strdup_printf(
			"%s@%s:%d", config->name, g_uri_get_host(origin), g_uri_get_port(origin));
	else
		self->acct = g_strdup_printf(
			"%s@%s", config->name, origin != NULL ? g_uri_get_host(origin) : "");

	key_id = g_strdup_printf("%s#main-key", self->actor_url);
	self->signer = relay_signer_new(key_id, rsa);
	if (ed25519 != NULL) {
		g_autofree gchar *ed25519_key_id =
			g_strdup_printf("%s#ed25519-key", self->actor_url);
		self->ed25519_signer = relay_signer_new(ed25519_key_id, ed25519);
	}

	outbox = relay_network_collection_url(self, "outbox");
	followers = relay_network_collection_url(self, "followers");
	following = relay_network_collection_url(self, "following");
	status_url = g_strdup_printf("%s/", public_url);
	info.id = self->actor_url;
	info.inbox = self->inbox_url;
	info.outbox = outbox;
	info.followers = followers;
	info.following = following;
	info.preferred_username = config->name;
	info.name =
		config->title != NULL && config->title[0] != '\0' ? config->title : config->name;
	info.summary = config->summary != NULL ? config->summary : "";
	info.url = status_url;
	info.manually_approves_followers = config->join != RELAY_JOIN_POLICY_OPEN;
	info.public_key_pem = public_pem;
	info.ed25519_multibase = multibase;
	info.published_us = record->created_at_us;
	document = relay_actor_document_new(&info);
	self->actor_document = relay_json_to_bytes(document);
	return g_steal_pointer(&self);
}

const gchar *
relay_network_get_name(RelayNetwork *self)
{
	g_return_val_if_fail(RELAY_IS_NETWORK(self), NULL);
	return self->config->name;
}

/**
 * relay_network_get_config:
 *
 * Returns: (transfer none): the network's settings
 */
const RelayNetworkConfig *
relay_network_get_config(RelayNetwork *self)
{
	g_return_val_if_fail(RELAY_IS_NETWORK(self), NULL);
	return self->config;
}

const gchar *
relay_network_get_actor_url(RelayNetwork *self)
{
	g_return_val_if_fail(RELAY_IS_NETWORK(self), NULL);
	return self->actor_url;
}

const gchar *
relay_network_get_inbox_url(RelayNetwork *self)
{
	g_return_val_if_fail(RELAY_IS_NETWORK(self), NULL);
	return self->inbox_url;
}

/**
 * relay_network_get_acct:
 *
 * Returns: (transfer none): the WebFinger account, NAME@HOST, without "acct:"
 */
const gchar *
relay_network_get_acct(RelayNetwork *self)
{
	g_return_val_if_fail(RELAY_IS_NETWORK(self), NULL);
	return self->acct;
}

/**
 * relay_network_get_actor_document:
 *
 * Returns: (transfer none): the actor document, serialised once
 */
GBytes *
relay_network_get_actor_document(RelayNetwork *self)
{
	g_return_val_if_fail(RELAY_IS_NETWORK(self), NULL);
	return self->actor_document;
}

/**
 * relay_network_get_signer:
 *
 * Returns: (transfer none): the RSA key that signs the network's requests, ACTOR#main-key
 */
RelaySigner *
relay_network_get_signer(RelayNetwork *self)
{
	g_return_val_if_fail(RELAY_IS_NETWORK(self), NULL);
	return self->signer;
}

/**
 * relay_network_get_ed25519_signer:
 *
 * Returns: (transfer none) (nullable): the Ed25519 key, ACTOR#ed25519-key
 */
RelaySigner *
relay_network_get_ed25519_signer(RelayNetwork *self)
{
	g_return_val_if_fail(RELAY_IS_NETWORK(self), NULL);
	return self->ed25519_signer;
}

/**
 * relay_network_collection_url:
 * @collection: "followers", "following" or "outbox"
 *
 * Returns: (transfer full): the collection's URL under the actor
 */
gchar *
relay_network_collection_url(RelayNetwork *self, const gchar *collection)
{
	return g_strdup_printf("%s/%s", self->actor_url, collection);
}

static gboolean
relay_network_generate_keys(RelayNetworkRecord *record, GError **error)
{
	if (record->rsa_private_pem == NULL) {
		g_autoptr(EVP_PKEY) rsa = relay_keys_generate_rsa(2048, error);
		if (rsa == NULL)
			return FALSE;
		record->rsa_private_pem = relay_keys_private_pem(rsa, error);
		if (record->rsa_private_pem == NULL)
			return FALSE;
	}
	if (record->ed25519_private_pem == NULL) {
		g_autoptr(EVP_PKEY) ed25519 = relay_keys_generate_ed25519(error);
		if (ed25519 == NULL)
			return FALSE;
		record->ed25519_private_pem = relay_keys_private_pem(ed25519, error);
		if (record->ed25519_private_pem == NULL)
			return FALSE;
	}
	return TRUE;
}

/**
 * relay_network_record_ensure_keys:
 * @store: the node's storage
 * @name: a network's name
 * @out_record: (out) (transfer full): the stored row, with its keys
 *
 * Gets the network's row, creating it and its keys the first time. Blocks: call from a worker
 * thread. When two nodes race to create a network, the first row written wins and both use it.
 */
gboolean
relay_network_record_ensure_keys(RelayStore *store,
				 const gchar *name,
				 RelayNetworkRecord **out_record,
				 GCancellable *cancellable,
				 GError **error)
{
	g_autoptr(RelayNetworkRecord) record = NULL;
	g_autoptr(GError) error_local = NULL;

	record = relay_store_network_get(store, name, cancellable, &error_local);
	if (record == NULL) {
		if (!g_error_matches(error_local, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND)) {
			g_propagate_error(error, g_steal_pointer(&error_local));
			return FALSE;
		}
		record = relay_network_record_new(name);
		if (!relay_network_generate_keys(record, error) ||
		    !relay_store_network_create(store, record, NULL, cancellable, error))
			return FALSE;
		g_clear_pointer(&record, relay_network_record_free);
		record = relay_store_network_get(store, name, cancellable, error);
		if (record == NULL)
			return FALSE;
		g_message("network %s: created, with new keys", name);
	}
	if (record->rsa_private_pem == NULL || record->ed25519_private_pem == NULL) {
		if (!relay_network_generate_keys(record, error) ||
		    !relay_store_network_put(store, record, cancellable, error))
			return FALSE;
		g_message("network %s: new keys made", name);
	}
	*out_record = g_steal_pointer(&record);
	return TRUE;
}

static void
relay_networks_load_thread(GTask *task,
			   gpointer source_object,
			   gpointer task_data,
			   GCancellable *cancellable)
{
	RelayStore *store = RELAY_STORE(source_object);
	RelayConfig *config = RELAY_CONFIG(task_data);
	GPtrArray *configs = relay_config_get_networks(config);
	g_autoptr(GHashTable) networks =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);

	for (guint i = 0; i < configs->len; i++) {
		const RelayNetworkConfig *network_config = g_ptr_array_index(configs, i);
		g_autoptr(RelayNetworkRecord) record = NULL;
		g_autoptr(GError) error = NULL;
		RelayNetwork *network;

		if (!relay_network_record_ensure_keys(
			    store, network_config->name, &record, cancellable, &error)) {
			g_task_return_error(task, g_steal_pointer(&error));
			return;
		}
		network = relay_network_new(
			relay_config_get_public_url(config), network_config, record, &error);
		if (network == NULL) {
			g_task_return_error(task, g_steal_pointer(&error));
			return;
		}
		g_hash_table_insert(networks, g_strdup(network_config->name), network);
	}
	g_task_return_pointer(task, g_steal_pointer(&networks), (GDestroyNotify)g_hash_table_unref);
}

/**
 * relay_networks_load_async:
 * @store: the node's storage
 * @config: the configuration that lists the networks
 *
 * Makes a #RelayNetwork of every configured network, creating rows and keys on first use. Key
 * generation and storage run on a worker thread.
 */
void
relay_networks_load_async(RelayStore *store,
			  RelayConfig *config,
			  GCancellable *cancellable,
			  GAsyncReadyCallback callback,
			  gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(store, cancellable, callback, user_data);
	g_task_set_source_tag(task, relay_networks_load_async);
	g_task_set_task_data(task, g_object_ref(config), g_object_unref);
	g_task_run_in_thread(task, relay_networks_load_thread);
}

/**
 * relay_networks_load_finish:
 *
 * Returns: (transfer full) (element-type utf8 RelayNetwork): the networks by name
 */
GHashTable *
relay_networks_load_finish(GAsyncResult *res, GError **error)
{
	return g_task_propagate_pointer(G_TASK(res), error);
}

static void
relay_network_finalize(GObject *object)
{
	RelayNetwork *self = RELAY_NETWORK(object);

	relay_network_config_free(self->config);
	g_free(self->actor_url);
	g_free(self->inbox_url);
	g_free(self->acct);
	g_bytes_unref(self->actor_document);
	g_clear_pointer(&self->signer, relay_signer_unref);
	g_clear_pointer(&self->ed25519_signer, relay_signer_unref);
	G_OBJECT_CLASS(relay_network_parent_class)->finalize(object);
}

static void
relay_network_init(RelayNetwork *self)
{
}

static void
relay_network_class_init(RelayNetworkClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->finalize = relay_network_finalize;
}

/**
 * relay_networks_actor_urls:
 * @networks: (nullable) (element-type utf8 RelayNetwork): the networks by name
 *
 * Returns: (transfer full) (element-type utf8 utf8): each network's actor URL by name, copied,
 *	for work on a store thread (relay_membership_block(), relay_membership_remove())
 */
GHashTable *
relay_networks_actor_urls(GHashTable *networks)
{
	GHashTable *actors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	GHashTableIter iter;
	gpointer name;
	gpointer network;

	if (networks == NULL)
		return actors;
	g_hash_table_iter_init(&iter, networks);
	while (g_hash_table_iter_next(&iter, &name, &network))
		g_hash_table_insert(
			actors, g_strdup(name), g_strdup(relay_network_get_actor_url(network)));
	return actors;
}
