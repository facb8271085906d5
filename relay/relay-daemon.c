/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * The node's lifecycle: open storage, make sure every configured network exists, listen, run
 * the main loop; SIGHUP reloads relay.conf (a bad file is refused and the running configuration
 * stays), SIGTERM and SIGINT stop accepting, let the work in flight finish, close storage and
 * return.
 *
 * Under systemd (Type=notify) every step is told to the service manager through $NOTIFY_SOCKET:
 * READY=1 once storage is open and the node listens, RELOADING=1 when a SIGHUP reload starts and
 * READY=1 again when it is done (taken or refused), STOPPING=1 when the drain starts.
 */

#include "config.h"

#include <errno.h>
#include <sys/resource.h>

#include <glib-unix.h>
#include <unistd.h>

#include "relay-actor-cache.h"
#include "relay-address-guard.h"
#include "relay-admin.h"
#include "relay-block-poller.h"
#include "relay-daemon.h"
#include "relay-deliverer.h"
#include "relay-error.h"
#include "relay-inbox.h"
#include "relay-log.h"
#include "relay-network.h"
#include "relay-sd-notify.h"
#include "relay-membership.h"
#include "relay-nodeinfo-refresher.h"
#include "relay-server.h"
#include "relay-store.h"

#define RELAY_DAEMON_DRAIN_TIMEOUT_MS 10000
#define RELAY_DAEMON_DRAIN_POLL_MS    20

struct _RelayDaemon {
	GObject parent_instance;
	RelayConfig *config;
	RelayStore *store;
	RelayServer *server;
	RelayAdmin *admin; /* (nullable): when [admin] socket is set */
	GMainLoop *loop;
	gboolean verbose;
	gboolean stopping;
	gboolean reloading; /* between RELOADING=1 and its READY=1 */
	gint64 drain_deadline_us;
	guint drain_id;
	guint sighup_id;
	guint sigterm_id;
	guint sigint_id;
	guint networks_pending;
	GHashTable *networks; /* (element-type utf8 RelayNetwork) */
	GError *networks_error;
	RelayFetcher *fetcher;
	RelayActorCache *actor_cache;
	RelayInbox *inbox;
	RelayDeliverer *deliverer;
	gboolean deliverer_stopped;
	RelayPeerTraffic *peer_traffic; /* what went to and from peers in the last hour */
	gchar *listening;		/* the addresses listened on, for STATUS= */
	RelayNodeinfoRefresher *nodeinfo;
	RelayBlockPoller *block_poller;
};

G_DEFINE_FINAL_TYPE(RelayDaemon, relay_daemon, G_TYPE_OBJECT)

static GLogLevelFlags
relay_daemon_log_level(RelayDaemon *self, RelayConfig *config)
{
	GLogLevelFlags level = relay_config_get_log_level(config);
	if (self->verbose && level < G_LOG_LEVEL_INFO)
		return G_LOG_LEVEL_INFO;
	return level;
}

/**
 * relay_daemon_new:
 * @config: the configuration to start with
 * @verbose: show info-level messages whatever [log] level says
 *
 * Returns: (transfer full): a daemon, not started
 */
RelayDaemon *
relay_daemon_new(RelayConfig *config, gboolean verbose)
{
	RelayDaemon *self = g_object_new(RELAY_TYPE_DAEMON, NULL);
	self->config = g_object_ref(config);
	self->verbose = verbose;
	return self;
}

/**
 * relay_daemon_get_config:
 *
 * Returns: (transfer none): the configuration in force
 */
RelayConfig *
relay_daemon_get_config(RelayDaemon *self)
{
	g_return_val_if_fail(RELAY_IS_DAEMON(self), NULL);
	return self->config;
}

/* tells the service manager about @state; nobody listening is fine, a failure only warns */
static void
relay_daemon_notify(RelayDaemon *self, const gchar *state)
{
	g_autoptr(GError) error = NULL;

	if (!relay_sd_notify(state, &error))
		g_warning("cannot notify the service manager: %s", error->message);
}

/* READY=1 with a STATUS= line that `systemctl status relay` shows; @note says what happened */
static void
relay_daemon_notify_ready(RelayDaemon *self, const gchar *note)
{
	g_autofree gchar *status = NULL;
	g_autofree gchar *state = NULL;

	if (!relay_sd_notify_enabled())
		return;
	status = g_strdup_printf("serving %s on %s%s%s",
				 relay_config_get_public_url(self->config),
				 self->listening != NULL ? self->listening : "(nothing)",
				 note != NULL ? "; " : "",
				 note != NULL ? note : "");
	/* one assignment per line: a line break inside a message would start a bogus one */
	g_strdelimit(status, "\r\n", ' ');
	state = g_strdup_printf(
		"READY=1\nSTATUS=%s\nMAINPID=%" G_PID_FORMAT, status, (GPid)getpid());
	relay_daemon_notify(self, state);
}

/* a reload is done once the networks it rebuilds are settled */
static void
relay_daemon_reload_done(RelayDaemon *self, const gchar *note)
{
	if (!self->reloading || self->networks_pending > 0)
		return;
	self->reloading = FALSE;
	/* after STOPPING=1 the service manager waits for the exit, not for readiness */
	if (self->stopping)
		return;
	relay_daemon_notify_ready(self, note);
}

static void
relay_daemon_networks_loaded_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(RelayDaemon) self = RELAY_DAEMON(user_data);
	g_autoptr(GHashTable) networks = NULL;
	g_autoptr(GError) error = NULL;

	self->networks_pending--;
	networks = relay_networks_load_finish(res, &error);
	if (networks == NULL) {
		/* at start the caller reports it; on a reload the running networks stay */
		g_warning("networks: %s", error->message);
		g_clear_error(&self->networks_error);
		self->networks_error = g_steal_pointer(&error);
		relay_daemon_reload_done(self, "networks not reloaded, see the log");
		return;
	}
	if (self->server != NULL)
		relay_server_set_networks(self->server, networks);
	if (self->deliverer != NULL)
		relay_deliverer_set_networks(self->deliverer, networks);
	if (self->admin != NULL)
		relay_admin_set_networks(self->admin, networks);
	if (self->block_poller != NULL)
		relay_block_poller_set_networks(self->block_poller, networks);
	g_clear_pointer(&self->networks, g_hash_table_unref);
	self->networks = g_steal_pointer(&networks);
	relay_daemon_reload_done(self, NULL);
}

/* (re)builds every configured network: rows and keys on first use, actor documents */
static void
relay_daemon_load_networks(RelayDaemon *self)
{
	self->networks_pending++;
	relay_networks_load_async(self->store,
				  self->config,
				  NULL,
				  relay_daemon_networks_loaded_cb,
				  g_object_ref(self));
}

static gboolean
relay_daemon_networks_settled(RelayDaemon *self)
{
	return self->networks_pending == 0;
}

static gboolean
relay_daemon_sighup_cb(gpointer user_data)
{
	relay_daemon_reload(RELAY_DAEMON(user_data));
	return G_SOURCE_CONTINUE;
}

static gboolean
relay_daemon_sigterm_cb(gpointer user_data)
{
	relay_daemon_shutdown(RELAY_DAEMON(user_data));
	return G_SOURCE_CONTINUE;
}

static RelayFetcher *
relay_daemon_fetcher_new(RelayConfig *config, GError **error)
{
	g_autofree gchar *user_agent = g_strdup_printf(
		"relay/%s (+%s/)", PACKAGE_VERSION, relay_config_get_public_url(config));
	RelayFetcherOptions options;

	relay_fetcher_options_init(&options);
	options.user_agent = user_agent;
	options.timeout_s = (guint)relay_config_get_int(config, "federation", "fetch-timeout");
	options.max_bytes = (gsize)relay_config_get_int(config, "federation", "fetch-max-bytes");
	options.max_redirects =
		(guint)relay_config_get_int(config, "federation", "fetch-max-redirects");
	options.allow_private_addresses = relay_config_get_allow_private_addresses(config);
	options.tls_ca_file = relay_config_get_string(config, "federation", "tls-ca-file");
	if (options.tls_ca_file != NULL && options.tls_ca_file[0] == '\0')
		options.tls_ca_file = NULL;
	return relay_fetcher_new(&options, error);
}

/* a connection kept alive to each member needs a file descriptor each: take what is allowed */
static void
relay_daemon_raise_file_limit(void)
{
	struct rlimit files = {0};

	if (getrlimit(RLIMIT_NOFILE, &files) != 0 || files.rlim_cur >= files.rlim_max)
		return;
	files.rlim_cur = files.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &files) != 0)
		g_debug("cannot raise the open files limit: %s", g_strerror(errno));
}

static void
relay_daemon_member_checked_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GError) error = NULL;

	/* the refresher logged the outcome; a failure is tried again at the next round */
	if (!relay_nodeinfo_refresher_refresh_member_finish(
		    RELAY_NODEINFO_REFRESHER(source), res, NULL, NULL, &error))
		g_debug("nodeinfo: %s", error->message);
}

/* a server whose NodeInfo names a blocked software: its memberships end with a Reject */
typedef struct {
	gchar *domain;
	gchar *software;
	gchar *origin;
	GHashTable *actors; /* (element-type utf8 utf8): network name -> its actor URL */
	guint ended;
} RelayDaemonSoftwareCheck;

static void
relay_daemon_software_check_free(RelayDaemonSoftwareCheck *check)
{
	g_free(check->domain);
	g_free(check->software);
	g_free(check->origin);
	g_hash_table_unref(check->actors);
	g_free(check);
}

static void
relay_daemon_software_check_run(RelayStore *store,
				GTask *task,
				gpointer data,
				GCancellable *cancellable)
{
	RelayDaemonSoftwareCheck *check = data;
	g_autoptr(GPtrArray) policies = NULL;
	g_autoptr(GPtrArray) members = NULL;
	g_autoptr(GError) error = NULL;
	gboolean blocked = FALSE;

	policies = relay_store_policy_list(store, cancellable, &error);
	if (policies == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	for (guint i = 0; i < policies->len && !blocked; i++) {
		const RelayDomainPolicy *policy = g_ptr_array_index(policies, i);
		blocked = policy->kind == RELAY_POLICY_KIND_SOFTWARE &&
			  g_strcmp0(policy->domain, check->software) == 0;
	}
	if (!blocked) {
		g_task_return_boolean(task, TRUE);
		return;
	}
	members = relay_store_member_list(store, NULL, -1, cancellable, &error);
	if (members == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	for (guint i = 0; i < members->len; i++) {
		RelayMember *member = g_ptr_array_index(members, i);
		const gchar *actor = g_hash_table_lookup(check->actors, member->network);

		if (g_ascii_strcasecmp(member->domain, check->domain) != 0)
			continue;
		if (!relay_membership_remove(store,
					     member,
					     check->origin,
					     actor,
					     g_get_real_time(),
					     NULL,
					     cancellable,
					     &error)) {
			g_task_return_error(task, g_steal_pointer(&error));
			return;
		}
		g_message("network %s: member %s removed, it runs %s, which is blocked",
			  member->network,
			  member->actor,
			  check->software);
		check->ended++;
	}
	g_task_return_boolean(task, TRUE);
}

static void
relay_daemon_software_check_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	RelayDaemon *self = RELAY_DAEMON(user_data);
	g_autoptr(GError) error = NULL;

	if (!g_task_propagate_boolean(G_TASK(res), &error))
		g_warning("software policy: %s", error->message);
	else if (self->deliverer != NULL)
		relay_deliverer_wake(self->deliverer);
	g_object_unref(self);
}

static void
relay_daemon_software_checked_cb(RelayNodeinfoRefresher *refresher,
				 const gchar *domain,
				 const gchar *software,
				 const gchar *version,
				 gpointer user_data)
{
	RelayDaemon *self = RELAY_DAEMON(user_data);
	RelayDaemonSoftwareCheck *check;

	if (software == NULL || self->stopping || self->networks == NULL)
		return;
	check = g_new0(RelayDaemonSoftwareCheck, 1);
	check->domain = g_strdup(domain);
	check->software = g_strdup(software);
	check->origin = g_strdup(relay_config_get_public_url(self->config));
	check->actors = relay_networks_actor_urls(self->networks);
	relay_store_run_async(self->store,
			      relay_daemon_software_check_run,
			      check,
			      (GDestroyNotify)relay_daemon_software_check_free,
			      relay_daemon_software_checked_cb,
			      NULL,
			      relay_daemon_software_check_cb,
			      g_object_ref(self));
}

/* a new member: learn which software it runs */
static void
relay_daemon_member_accepted_cb(const gchar *network, const gchar *actor, gpointer user_data)
{
	RelayDaemon *self = RELAY_DAEMON(user_data);

	if (self->stopping || self->nodeinfo == NULL)
		return;
	relay_nodeinfo_refresher_refresh_member_async(
		self->nodeinfo, actor, NULL, relay_daemon_member_checked_cb, NULL);
}

/**
 * relay_daemon_start:
 *
 * Opens storage (migrating it), then listens on every address. Call before the main loop
 * runs; each failure names the thing and the reason.
 */
gboolean
relay_daemon_start(RelayDaemon *self, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	GSList *uris;

	g_return_val_if_fail(RELAY_IS_DAEMON(self), FALSE);
	relay_log_set_level(relay_daemon_log_level(self, self->config));
	relay_daemon_raise_file_limit();

	/* delivery: an https node talks https to its peers, which needs GIO's TLS backend */
	if (g_str_has_prefix(relay_config_get_public_url(self->config), "https:") &&
	    !g_tls_backend_supports_tls(g_tls_backend_get_default())) {
		g_set_error_literal(error,
				    RELAY_ERROR,
				    RELAY_ERROR_FAILED,
				    "public-url is https but GIO has no TLS backend: install "
				    "glib-networking (Debian: apt install glib-networking)");
		return FALSE;
	}

	/* storage first: nothing listens before the database is usable */
	self->store = relay_store_new(relay_config_get_storage_backend(self->config),
				      relay_config_get_storage_path(self->config),
				      &error_local);
	if (self->store == NULL) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_STORAGE,
			    "storage (%s): %s",
			    relay_config_get_storage_backend(self->config),
			    error_local->message);
		return FALSE;
	}
	relay_address_guard_install(relay_config_get_allow_private_addresses(self->config));

	/* networks next: their actors must be servable before anything listens */
	relay_daemon_load_networks(self);
	while (!relay_daemon_networks_settled(self))
		g_main_context_iteration(NULL, TRUE);
	if (self->networks == NULL) {
		g_set_error(error,
			    RELAY_ERROR,
			    RELAY_ERROR_STORAGE,
			    "networks: %s",
			    self->networks_error->message);
		return FALSE;
	}
	/* what the inbox needs: signed fetches of remote actors and keys, kept in storage */
	self->fetcher = relay_daemon_fetcher_new(self->config, error);
	if (self->fetcher == NULL)
		return FALSE;
	self->actor_cache = relay_actor_cache_new(
		self->store,
		self->fetcher,
		relay_config_get_int(self->config, "federation", "key-cache-ttl"));
	self->inbox = relay_inbox_new(self->config, self->store, self->actor_cache);
	/* members' software: checked when they join, and again every nodeinfo-refresh */
	self->nodeinfo = relay_nodeinfo_refresher_new(
		self->store,
		self->fetcher,
		(guint)relay_config_get_int(self->config, "federation", "nodeinfo-refresh"));
	relay_inbox_set_accepted_func(self->inbox, relay_daemon_member_accepted_cb, self);
	/* a server running a software an admin blocked is removed once its NodeInfo says so */
	g_signal_connect_object(self->nodeinfo,
				"software-checked",
				G_CALLBACK(relay_daemon_software_checked_cb),
				self,
				0);

	/* deliveries: what the inbox queues goes out at once */
	{
		RelayDelivererOptions options;
		relay_deliverer_options_init(&options);
		relay_deliverer_options_from_config(&options, self->config);
		self->deliverer = relay_deliverer_new(self->store, &options, error);
		if (self->deliverer == NULL)
			return FALSE;
	}
	relay_deliverer_set_networks(self->deliverer, self->networks);
	self->peer_traffic = relay_peer_traffic_new();
	relay_inbox_set_peer_traffic(self->inbox, self->peer_traffic);
	relay_deliverer_set_done_func(self->deliverer,
				      (RelayDelivererDoneFunc)relay_peer_traffic_count_sent_cb,
				      self->peer_traffic);
	relay_inbox_set_wake_func(
		self->inbox, (RelayInboxWakeFunc)relay_deliverer_wake, self->deliverer);
	relay_inbox_set_holds_func(
		self->inbox, (RelayInboxHoldsFunc)relay_deliverer_dup_holds, self->deliverer);

	/* other operators' block lists the networks subscribe to: fetched every blocklist-refresh
	 */
	self->block_poller = relay_block_poller_new(
		self->store,
		self->fetcher,
		relay_config_get_public_url(self->config),
		(guint)relay_config_get_int(self->config, "federation", "blocklist-refresh"));
	relay_block_poller_set_networks(self->block_poller, self->networks);
	relay_block_poller_set_wake_func(self->block_poller,
					 (RelayBlockPollerWakeFunc)relay_deliverer_wake,
					 self->deliverer);

	/* the admin socket: refused when unsafe, before anything listens on the network */
	if (relay_config_get_admin_socket(self->config)[0] != '\0') {
		self->admin = relay_admin_new(self->config, self->store, self->deliverer);
		relay_admin_set_networks(self->admin, self->networks);
		relay_admin_set_block_poller(self->admin, self->block_poller);
		relay_admin_set_peer_sources(self->admin, self->actor_cache, self->peer_traffic);
		if (!relay_admin_listen(
			    self->admin, relay_config_get_admin_socket(self->config), error))
			return FALSE;
	} else {
		g_message("admin commands are off: [admin] socket is empty");
	}

	self->server = relay_server_new(self->config, self->store);
	relay_server_set_networks(self->server, self->networks);
	relay_server_set_inbox(self->server, self->inbox);
	relay_server_set_sources(self->server, self->deliverer, self->actor_cache);
	relay_server_set_block_poller(self->server, self->block_poller);
	if (!relay_server_listen(self->server, error))
		return FALSE;
	relay_deliverer_start(self->deliverer);
	relay_nodeinfo_refresher_start(self->nodeinfo);
	relay_block_poller_start(self->block_poller);

	self->sighup_id = g_unix_signal_add(SIGHUP, relay_daemon_sighup_cb, self);
	self->sigterm_id = g_unix_signal_add(SIGTERM, relay_daemon_sigterm_cb, self);
	self->sigint_id = g_unix_signal_add(SIGINT, relay_daemon_sigterm_cb, self);

	uris = relay_server_get_uris(self->server);
	{
		g_autoptr(GString) listening = g_string_new(NULL);
		for (GSList *l = uris; l != NULL; l = l->next) {
			g_autofree gchar *uri = g_uri_to_string(l->data);
			g_message("listening on %s", uri);
			g_string_append_printf(listening, "%s%s", l != uris ? ", " : "", uri);
		}
		g_free(self->listening);
		self->listening = g_string_free(g_steal_pointer(&listening), FALSE);
	}
	g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
	if (g_strcmp0(relay_store_get_backend_name(self->store), "memory") == 0 ||
	    relay_store_get_location(self->store) == NULL)
		g_message("relay %s serving %s with %s storage (nothing is kept on disk)",
			  PACKAGE_VERSION,
			  relay_config_get_public_url(self->config),
			  relay_store_get_backend_name(self->store));
	else
		g_message("relay %s serving %s with %s storage at %s",
			  PACKAGE_VERSION,
			  relay_config_get_public_url(self->config),
			  relay_store_get_backend_name(self->store),
			  relay_store_get_location(self->store));
	return TRUE;
}

static gboolean
relay_daemon_list_differs(const gchar *const *a, const gchar *const *b)
{
	guint n_a = a != NULL ? g_strv_length((gchar **)a) : 0;
	guint n_b = b != NULL ? g_strv_length((gchar **)b) : 0;

	if (n_a != n_b)
		return TRUE;
	for (guint i = 0; i < n_a; i++) {
		if (g_strcmp0(a[i], b[i]) != 0)
			return TRUE;
	}
	return FALSE;
}

/**
 * relay_daemon_reload:
 *
 * Reads the configuration file again and swaps it in; a file with errors is refused with a
 * warning and the running configuration stays in force. Listen addresses and storage are only
 * read at start: a change to them is reported as needing a restart.
 */
void
relay_daemon_reload(RelayDaemon *self)
{
	const gchar *path = relay_config_get_path(self->config);
	g_autoptr(GPtrArray) warnings = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayConfig) config = NULL;

	if (self->stopping)
		return;
	if (relay_sd_notify_enabled()) {
		g_autofree gchar *state =
			g_strdup_printf("RELOADING=1\nMONOTONIC_USEC=%" G_GINT64_FORMAT
					"\nSTATUS=reloading the configuration",
					relay_sd_notify_monotonic_usec());
		relay_daemon_notify(self, state);
	}
	self->reloading = TRUE;
	config = relay_config_new_from_file(path, &warnings, &error);
	for (guint i = 0; warnings != NULL && i < warnings->len; i++)
		g_warning("%s", (const gchar *)g_ptr_array_index(warnings, i));
	if (config == NULL) {
		g_autofree gchar *note = NULL;
		g_warning("configuration reload refused, the running configuration stays: %s",
			  error->message);
		note = g_strdup_printf("configuration reload refused: %s", error->message);
		relay_daemon_reload_done(self, note);
		return;
	}
	if (relay_daemon_list_differs(relay_config_get_listen(self->config),
				      relay_config_get_listen(config)))
		g_warning("%s: [relay] listen changed: restart relay to listen on the new "
			  "addresses",
			  path);
	if (g_strcmp0(relay_config_get_storage_backend(self->config),
		      relay_config_get_storage_backend(config)) != 0 ||
	    g_strcmp0(relay_config_get_storage_path(self->config),
		      relay_config_get_storage_path(config)) != 0)
		g_warning("%s: [storage] changed: restart relay to use the new storage", path);
	if (g_strcmp0(relay_config_get_admin_socket(self->config),
		      relay_config_get_admin_socket(config)) != 0)
		g_warning("%s: [admin] socket changed: restart relay to use the new socket", path);
	if (g_strcmp0(relay_config_get_public_url(self->config),
		      relay_config_get_public_url(config)) != 0)
		g_warning("%s: [relay] public-url changed: actor ids change with it, members "
			  "must subscribe again",
			  path);

	g_set_object(&self->config, config);
	relay_server_set_config(self->server, config);
	if (self->admin != NULL)
		relay_admin_set_config(self->admin, config);
	relay_inbox_set_config(self->inbox, config);
	relay_actor_cache_set_ttl(self->actor_cache,
				  relay_config_get_int(config, "federation", "key-cache-ttl"));
	relay_nodeinfo_refresher_set_interval(
		self->nodeinfo,
		(guint)relay_config_get_int(config, "federation", "nodeinfo-refresh"));
	relay_block_poller_set_interval(
		self->block_poller,
		(guint)relay_config_get_int(config, "federation", "blocklist-refresh"));
	{
		RelayDelivererOptions options;
		g_autoptr(GError) error_options = NULL;
		relay_deliverer_options_init(&options);
		relay_deliverer_options_from_config(&options, config);
		if (!relay_deliverer_set_options(self->deliverer, &options, &error_options))
			g_warning("[delivery]: %s; the previous delivery settings stay",
				  error_options->message);
	}
	relay_log_set_level(relay_daemon_log_level(self, config));
	relay_address_guard_install(relay_config_get_allow_private_addresses(config));
	/* READY=1 follows once the networks are rebuilt */
	relay_daemon_load_networks(self);
	g_message("configuration reloaded from %s", path);
}

static gboolean
relay_daemon_drain_cb(gpointer user_data)
{
	RelayDaemon *self = RELAY_DAEMON(user_data);
	guint requests = relay_server_get_in_flight(self->server);
	guint store_work = relay_store_get_pending(self->store);

	if ((requests > 0 || store_work > 0 || self->networks_pending > 0 ||
	     !self->deliverer_stopped) &&
	    g_get_monotonic_time() < self->drain_deadline_us)
		return G_SOURCE_CONTINUE;
	if (requests > 0 || store_work > 0)
		g_warning("stopping with %u requests and %u storage operations unfinished",
			  requests,
			  store_work);
	self->drain_id = 0;
	g_main_loop_quit(self->loop);
	return G_SOURCE_REMOVE;
}

static void
relay_daemon_deliverer_stopped_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(RelayDaemon) self = RELAY_DAEMON(user_data);
	g_autoptr(GError) error = NULL;

	if (!relay_deliverer_stop_finish(RELAY_DELIVERER(source), res, &error))
		g_warning("deliveries: %s", error->message);
	self->deliverer_stopped = TRUE;
}

/**
 * relay_daemon_shutdown:
 *
 * Stops accepting connections, waits (a bounded time) for the requests and storage work in
 * flight, then makes relay_daemon_run() return.
 */
void
relay_daemon_shutdown(RelayDaemon *self)
{
	if (self->stopping)
		return;
	self->stopping = TRUE;
	g_message("stopping: no new connections, finishing the work in flight");
	relay_daemon_notify(self, "STOPPING=1\nSTATUS=stopping: finishing the work in flight");
	if (self->admin != NULL)
		relay_admin_stop(self->admin);
	if (self->server != NULL)
		relay_server_disconnect(self->server);
	if (self->nodeinfo != NULL)
		relay_nodeinfo_refresher_stop(self->nodeinfo);
	if (self->block_poller != NULL)
		relay_block_poller_stop(self->block_poller);
	if (self->deliverer != NULL)
		relay_deliverer_stop_async(self->deliverer,
					   NULL,
					   relay_daemon_deliverer_stopped_cb,
					   g_object_ref(self));
	else
		self->deliverer_stopped = TRUE;
	if (self->loop == NULL)
		return;
	self->drain_deadline_us = g_get_monotonic_time() + RELAY_DAEMON_DRAIN_TIMEOUT_MS * 1000;
	self->drain_id = g_timeout_add(RELAY_DAEMON_DRAIN_POLL_MS, relay_daemon_drain_cb, self);
}

/**
 * relay_daemon_run:
 *
 * Runs the main loop until relay_daemon_shutdown(), then closes storage.
 *
 * Returns: the process exit status
 */
gint
relay_daemon_run(RelayDaemon *self)
{
	g_return_val_if_fail(RELAY_IS_DAEMON(self), 1);
	self->loop = g_main_loop_new(NULL, FALSE);
	/* storage is open and every address listens: what connects now is served */
	relay_daemon_notify_ready(self, NULL);
	g_main_loop_run(self->loop);
	g_clear_object(&self->server);
	/* let the last storage callbacks run so nothing still refers to the store */
	while (g_main_context_iteration(NULL, FALSE))
		;
	if (self->store != NULL)
		relay_store_close(self->store);
	g_message("stopped");
	return 0;
}

/**
 * relay_daemon_get_nodeinfo_refresher:
 *
 * Returns: (transfer none) (nullable): what checks the members' software, once started
 */
RelayNodeinfoRefresher *
relay_daemon_get_nodeinfo_refresher(RelayDaemon *self)
{
	g_return_val_if_fail(RELAY_IS_DAEMON(self), NULL);
	return self->nodeinfo;
}

static void
relay_daemon_dispose(GObject *object)
{
	RelayDaemon *self = RELAY_DAEMON(object);

	g_clear_handle_id(&self->drain_id, g_source_remove);
	g_clear_handle_id(&self->sighup_id, g_source_remove);
	g_clear_handle_id(&self->sigterm_id, g_source_remove);
	g_clear_handle_id(&self->sigint_id, g_source_remove);
	g_clear_object(&self->server);
	g_clear_object(&self->admin);
	g_clear_object(&self->inbox);
	g_clear_object(&self->deliverer);
	g_clear_object(&self->nodeinfo);
	g_clear_object(&self->block_poller);
	g_clear_object(&self->actor_cache);
	g_clear_object(&self->peer_traffic);
	g_clear_object(&self->fetcher);
	g_clear_object(&self->store);
	g_clear_object(&self->config);
	g_clear_pointer(&self->networks, g_hash_table_unref);
	g_clear_error(&self->networks_error);
	g_clear_pointer(&self->loop, g_main_loop_unref);
	g_clear_pointer(&self->listening, g_free);
	G_OBJECT_CLASS(relay_daemon_parent_class)->dispose(object);
}

static void
relay_daemon_init(RelayDaemon *self)
{
}

static void
relay_daemon_class_init(RelayDaemonClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = relay_daemon_dispose;
}
