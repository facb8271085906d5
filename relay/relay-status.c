/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * The status page, GET /, and its JSON twin for directories, GET /api/v1/networks: the node's
 * URL and totals, then each network with its title, summary, rules, contact, join policy, how
 * to subscribe from each family of servers, and its members with their software (from their
 * NodeInfo) and how deliveries to them go.
 *
 * Only accepted members are shown, here and in the JSON: a pending or rejected subscription is
 * between a server and the admins, and publishing it would tell the world who asked to join
 * and was turned down (Mastodon shows its relays' followers the same way, accepted only).
 *
 * Everything shown comes from storage in one job on a store worker (the accepted members, the
 * queue and the queue by host) and from the delivery engine's view of each host; the page is
 * built per request (no script, one style sheet inline) with the escaping HTML builder, since
 * member domains, software names and the configuration's text are all untrusted. A strict
 * Content-Security-Policy (no script at all) backs the escaping up.
 */

#include "config.h"

#include <string.h>

#include "relay-actor.h"
#include "relay-discovery.h"
#include "relay-html.h"
#include "relay-membership.h"
#include "relay-server-private.h"

#define RELAY_STATUS_HTML_TYPE "text/html; charset=utf-8"
#define RELAY_STATUS_JSON_TYPE "application/json; charset=utf-8"
#define RELAY_STATUS_CSP                                                                           \
	"default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; "         \
	"form-action 'none'; frame-ancestors 'none'"

/* the style sheet: readable on a phone first, tables become cards on narrow screens */
static const gchar relay_status_css[] =
	":root{color-scheme:light dark;--fg:#1d1f23;--bg:#fff;--card:#f5f6f8;--line:#d8dbe0;"
	"--muted:#5b616b;--accent:#2456c7;--ok:#1c7a36;--warn:#935a00;--bad:#b42318}\n"
	"@media (prefers-color-scheme:dark){:root{--fg:#e7e9ec;--bg:#111317;--card:#1b1e23;"
	"--line:#343840;--muted:#a2a8b1;--accent:#8ab4f8;--ok:#7fd08f;--warn:#f3c969;"
	"--bad:#f49a8f}}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;"
	"color:var(--fg);background:var(--bg);overflow-wrap:anywhere}\n"
	"header,main,footer{max-width:62rem;margin:0 auto;padding:1rem}\n"
	"h1{font-size:1.6rem;line-height:1.25;margin:.25rem 0}\n"
	"h2{font-size:1.3rem;line-height:1.3;margin:0}\n"
	"h3{font-size:1.05rem;margin:1.25rem 0 .5rem}\n"
	"a{color:var(--accent)}\n"
	"p{margin:.5rem 0}\n"
	".muted{color:var(--muted)}\n"
	".totals{display:flex;gap:.5rem;margin:1rem 0 0}\n"
	".totals div{flex:1 1 0;min-width:0;display:flex;flex-direction:column;"
	"justify-content:space-between;background:var(--card);border:1px solid var(--line);"
	"border-radius:.5rem;padding:.5rem .75rem}\n"
	".totals dt{font-size:.85rem;color:var(--muted)}\n"
	".totals dd{margin:0;font-size:1.5rem;font-weight:600}\n"
	".network{background:var(--card);border:1px solid var(--line);border-radius:.75rem;"
	"padding:1rem;margin:0 0 1.5rem}\n"
	".network>p.policy{margin:.25rem 0 .75rem}\n"
	".badge{display:inline-block;font-size:.8rem;font-weight:600;padding:0 .5rem;"
	"border:1px solid currentColor;border-radius:1rem;vertical-align:middle}\n"
	"ol.rules{padding-left:1.5rem;margin:.25rem 0}\n"
	"dl.join{margin:0}\n"
	"dl.join dt{font-weight:600;margin-top:.6rem}\n"
	"dl.join dd{margin:.1rem 0 0}\n"
	"code{font-family:ui-monospace,\"DejaVu Sans Mono\",monospace;font-size:.9em;"
	"background:var(--bg);border:1px solid var(--line);border-radius:.3rem;"
	"padding:.05rem .3rem;user-select:all}\n"
	"table{width:100%;border-collapse:collapse}\n"
	"th,td{text-align:left;vertical-align:top;padding:.45rem .5rem;"
	"border-bottom:1px solid var(--line)}\n"
	"th{font-size:.85rem;color:var(--muted);font-weight:600}\n"
	".ok{color:var(--ok)}\n"
	".paused{color:var(--warn)}\n"
	".failing{color:var(--bad)}\n"
	"footer{font-size:.9rem;color:var(--muted)}\n"
	"@media (max-width:40rem){\n"
	"header,main,footer{padding:.75rem}\n"
	".network{padding:.75rem}\n"
	".totals div{padding:.4rem .5rem}\n"
	".totals dd{font-size:1.25rem}\n"
	"table.members thead{display:none}\n"
	"table.members tr{display:block;background:var(--bg);border:1px solid var(--line);"
	"border-radius:.5rem;margin:0 0 .6rem;padding:.35rem .6rem}\n"
	"table.members td{display:flex;justify-content:space-between;gap:1rem;border:0;"
	"padding:.15rem 0;text-align:right}\n"
	"table.members td::before{content:attr(data-label);color:var(--muted);"
	"font-size:.85rem;text-align:left}\n"
	"table.members td.domain{font-weight:600;font-size:1.05rem;text-align:left}\n"
	"table.members td.domain::before{content:none}\n"
	"}\n";

/* what one store job reads for a page */
typedef struct {
	GPtrArray *members; /* (element-type RelayMember): accepted, every network */
	RelayQueueStats queue;
	GHashTable *hosts;     /* (element-type utf8 RelayHostQueueStats): the queue by host */
	GPtrArray *peer_links; /* (element-type RelayPeerLink): networks linked to ours */
} RelayStatusSnapshot;

static void
relay_status_snapshot_free(RelayStatusSnapshot *snapshot)
{
	g_clear_pointer(&snapshot->members, g_ptr_array_unref);
	g_clear_pointer(&snapshot->hosts, g_hash_table_unref);
	g_clear_pointer(&snapshot->peer_links, g_ptr_array_unref);
	g_free(snapshot);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayStatusSnapshot, relay_status_snapshot_free)

/* runs on a store worker */
static void
relay_status_snapshot_run(RelayStore *store, GTask *task, gpointer data, GCancellable *cancellable)
{
	g_autoptr(RelayStatusSnapshot) snapshot = g_new0(RelayStatusSnapshot, 1);
	g_autoptr(GPtrArray) hosts = NULL;
	g_autoptr(GError) error = NULL;

	snapshot->members = relay_store_member_list(
		store, NULL, RELAY_MEMBER_STATE_ACCEPTED, cancellable, &error);
	if (snapshot->members == NULL ||
	    (snapshot->peer_links = relay_peer_links_list(store, NULL, cancellable, &error)) ==
		    NULL ||
	    !relay_store_delivery_stats(store, &snapshot->queue, cancellable, &error) ||
	    (hosts = relay_store_delivery_hosts(store, cancellable, &error)) == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	snapshot->hosts = g_hash_table_new_full(
		g_str_hash, g_str_equal, NULL, (GDestroyNotify)relay_host_queue_stats_free);
	for (guint i = 0; i < hosts->len; i++) {
		RelayHostQueueStats *stats = g_steal_pointer(&hosts->pdata[i]);
		g_hash_table_replace(snapshot->hosts, stats->host, stats);
	}
	g_task_return_pointer(
		task, g_steal_pointer(&snapshot), (GDestroyNotify)relay_status_snapshot_free);
}

/* ---- the view: what the page and the JSON show ---------------------------------------------- */

typedef enum {
	RELAY_STATUS_HEALTH_OK,
	RELAY_STATUS_HEALTH_PAUSED,
	RELAY_STATUS_HEALTH_FAILING,
} RelayStatusHealth;

static const gchar *const relay_status_health_words[] = {"ok", "paused", "failing"};

typedef struct {
	const RelayMember *member; /* (unowned): in the snapshot */
	guint64 queued;		   /* deliveries waiting for its inbox's host */
	guint64 retrying;	   /* of which failed before */
	RelayStatusHealth health;
	gint64 failing_since_us; /* 0 when unknown or healthy */
} RelayStatusMember;

typedef struct {
	RelayNetwork *network; /* (unowned) */
	GPtrArray *members;    /* (element-type RelayStatusMember) by domain */
	GPtrArray *peer_links; /* (element-type RelayPeerLink) (unowned): every network's */
} RelayStatusNetwork;

typedef struct {
	RelayStatusSnapshot *snapshot;
	GPtrArray
		*networks; /* (element-type RelayStatusNetwork): the default first, then by name */
	guint64 members;
} RelayStatusView;

static void
relay_status_network_free(RelayStatusNetwork *network)
{
	g_ptr_array_unref(network->members);
	g_free(network);
}

static void
relay_status_view_free(RelayStatusView *view)
{
	g_clear_pointer(&view->networks, g_ptr_array_unref);
	g_clear_pointer(&view->snapshot, relay_status_snapshot_free);
	g_free(view);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayStatusView, relay_status_view_free)

/* how deliveries to @member go: what the engine knows of its inbox's host now, else what the
 * queue says (rows that failed before and wait for a retry) */
static void
relay_status_member_health(RelayServer *self,
			   RelayStatusSnapshot *snapshot,
			   RelayStatusMember *view)
{
	const RelayMember *member = view->member;
	g_autofree gchar *host = relay_store_host_of_url(
		member->shared_inbox != NULL ? member->shared_inbox : member->inbox);
	const RelayHostQueueStats *stats =
		host != NULL ? g_hash_table_lookup(snapshot->hosts, host) : NULL;
	RelayDelivererHostHealth health = {0};
	gboolean known = FALSE;

	if (stats != NULL) {
		view->queued = stats->queued;
		view->retrying = stats->retrying;
	}
	if (self->deliverer != NULL && host != NULL)
		known = relay_deliverer_get_host_health(self->deliverer, host, &health);
	view->health = RELAY_STATUS_HEALTH_OK;
	if (known) {
		if (health.paused_until_us != 0)
			view->health = RELAY_STATUS_HEALTH_PAUSED;
		else if (health.consecutive_failures > 0)
			view->health = RELAY_STATUS_HEALTH_FAILING;
		view->failing_since_us = health.failing_since_us;
	} else if (view->retrying > 0 || member->failure_count > 0) {
		view->health = RELAY_STATUS_HEALTH_FAILING;
	}
}

static gint
relay_status_member_compare(gconstpointer a, gconstpointer b)
{
	const RelayStatusMember *member_a = *(const RelayStatusMember **)a;
	const RelayStatusMember *member_b = *(const RelayStatusMember **)b;
	gint rc = g_strcmp0(member_a->member->domain, member_b->member->domain);
	if (rc != 0)
		return rc;
	return g_strcmp0(member_a->member->actor, member_b->member->actor);
}

static RelayStatusView *
relay_status_view_new(RelayServer *self, RelayStatusSnapshot *snapshot)
{
	RelayStatusView *view = g_new0(RelayStatusView, 1);
	GPtrArray *configs = relay_config_get_networks(self->config);
	g_autoptr(GHashTable) by_name = g_hash_table_new(g_str_hash, g_str_equal);

	view->snapshot = snapshot;
	view->networks = g_ptr_array_new_with_free_func((GDestroyNotify)relay_status_network_free);
	/* the configuration's order; a network still being loaded after a reload is left out */
	for (guint i = 0; i < configs->len; i++) {
		const RelayNetworkConfig *config = g_ptr_array_index(configs, i);
		RelayNetwork *network = g_hash_table_lookup(self->networks, config->name);
		RelayStatusNetwork *entry;

		if (network == NULL)
			continue;
		entry = g_new0(RelayStatusNetwork, 1);
		entry->network = network;
		entry->members = g_ptr_array_new_with_free_func(g_free);
		entry->peer_links = snapshot->peer_links;
		g_ptr_array_add(view->networks, entry);
		g_hash_table_insert(by_name, (gpointer)relay_network_get_name(network), entry);
	}
	for (guint i = 0; i < snapshot->members->len; i++) {
		const RelayMember *member = g_ptr_array_index(snapshot->members, i);
		RelayStatusNetwork *entry = g_hash_table_lookup(by_name, member->network);
		RelayStatusMember *member_view;

		if (entry == NULL)
			continue;
		member_view = g_new0(RelayStatusMember, 1);
		member_view->member = member;
		relay_status_member_health(self, snapshot, member_view);
		g_ptr_array_add(entry->members, member_view);
		view->members++;
	}
	for (guint i = 0; i < view->networks->len; i++) {
		RelayStatusNetwork *entry = g_ptr_array_index(view->networks, i);
		g_ptr_array_sort(entry->members, relay_status_member_compare);
	}
	return view;
}

/* ---- times ---------------------------------------------------------------------------------- */

/* @format of the UTC time @us, NULL for 0 (never) */
static gchar *
relay_status_format_time(gint64 us, const gchar *format)
{
	g_autoptr(GDateTime) time = NULL;

	if (us <= 0)
		return NULL;
	time = g_date_time_new_from_unix_utc(us / G_USEC_PER_SEC);
	if (time == NULL)
		return NULL;
	return g_date_time_format(time, format);
}

#define RELAY_STATUS_ISO_FORMAT	   "%Y-%m-%dT%H:%M:%SZ"
#define RELAY_STATUS_DAY_FORMAT	   "%Y-%m-%d"
#define RELAY_STATUS_MINUTE_FORMAT "%Y-%m-%d %H:%M UTC"

/* ---- the page ------------------------------------------------------------------------------- */

static const gchar *
relay_status_network_title(RelayNetwork *network)
{
	const RelayNetworkConfig *config = relay_network_get_config(network);
	return config->title != NULL && config->title[0] != '\0' ? config->title : config->name;
}

static const gchar *
relay_status_node_name(RelayServer *self)
{
	RelayNetwork *network = g_hash_table_lookup(self->networks, RELAY_CONFIG_DEFAULT_NETWORK);
	return network != NULL ? relay_status_network_title(network) : "relay";
}

/* <time datetime="ISO">shown</time>, or a muted "never" */
static void
relay_status_html_time(RelayHtml *html, gint64 us, const gchar *format)
{
	g_autofree gchar *iso = relay_status_format_time(us, RELAY_STATUS_ISO_FORMAT);
	g_autofree gchar *shown = relay_status_format_time(us, format);

	if (iso == NULL) {
		relay_html_element(html, "span", "never", "class", "muted", NULL);
		return;
	}
	relay_html_element(html, "time", shown, "datetime", iso, NULL);
}

static void
relay_status_html_total(RelayHtml *html, const gchar *label, guint64 value)
{
	g_autofree gchar *number = g_strdup_printf("%" G_GUINT64_FORMAT, value);

	relay_html_open(html, "div", NULL);
	relay_html_element(html, "dt", label, NULL);
	relay_html_element(html, "dd", number, NULL);
	relay_html_close(html, "div");
}

/* an address or a URL becomes a link; anything else stays text */
static void
relay_status_html_contact(RelayHtml *html, const gchar *contact)
{
	gboolean has_space = strpbrk(contact, " \t\n") != NULL;

	if (!has_space && (g_ascii_strncasecmp(contact, "https://", 8) == 0 ||
			   g_ascii_strncasecmp(contact, "http://", 7) == 0)) {
		relay_html_element(html, "a", contact, "href", contact, "rel", "nofollow", NULL);
		return;
	}
	if (!has_space && contact[0] != '@' && strchr(contact, '@') != NULL &&
	    strchr(contact, '@') == strrchr(contact, '@') && strpbrk(contact, ":/?<>\"") == NULL) {
		g_autofree gchar *mailto = g_strconcat("mailto:", contact, NULL);
		relay_html_element(html, "a", contact, "href", mailto, NULL);
		return;
	}
	relay_html_text(html, contact);
}

/* one way of subscribing: <dt>software</dt><dd>where, then the text to paste or run</dd>;
 * @other_where and @other_code, when set, give a variant */
static void
relay_status_html_join_step(RelayHtml *html,
			    const gchar *software,
			    const gchar *where,
			    const gchar *code,
			    const gchar *other_where,
			    const gchar *other_code)
{
	relay_html_element(html, "dt", software, NULL);
	relay_html_open(html, "dd", NULL);
	relay_html_textf(html, "%s: ", where);
	relay_html_element(html, "code", code, NULL);
	if (other_where != NULL) {
		relay_html_textf(html, "; %s: ", other_where);
		relay_html_element(html, "code", other_code, NULL);
	}
	relay_html_close(html, "dd");
}

static void
relay_status_html_join(RelayHtml *html, RelayNetwork *network)
{
	const RelayNetworkConfig *config = relay_network_get_config(network);
	const gchar *actor = relay_network_get_actor_url(network);
	const gchar *inbox = relay_network_get_inbox_url(network);
	g_autofree gchar *pleroma = g_strdup_printf("pleroma_ctl relay follow %s", actor);
	g_autofree gchar *akkoma = g_strdup_printf("./bin/pleroma_ctl relay follow %s", actor);
	g_autofree gchar *friendica = g_strdup_printf("bin/console relay add %s", actor);

	relay_html_element(html, "h3", "How to join", NULL);
	switch (config->join) {
	case RELAY_JOIN_POLICY_APPROVAL:
		relay_html_element(html,
				   "p",
				   "Subscriptions wait until an admin of this network approves "
				   "them.",
				   NULL);
		break;
	case RELAY_JOIN_POLICY_CLOSED:
		relay_html_element(html,
				   "p",
				   "This network is closed: only servers its admins have allowed "
				   "can subscribe. Ask them first.",
				   NULL);
		break;
	case RELAY_JOIN_POLICY_OPEN:
	default:
		relay_html_element(
			html, "p", "Every server that subscribes is accepted at once.", NULL);
		break;
	}
	relay_html_open(html, "dl", "class", "join", NULL);
	relay_status_html_join_step(
		html,
		"Mastodon",
		"Preferences → Administration → Relays → Add new relay, and paste",
		inbox,
		NULL,
		NULL);
	relay_status_html_join_step(html,
				    "Misskey, Sharkey, Iceshrimp",
				    "Control panel → Relays → Add relay, and paste",
				    inbox,
				    NULL,
				    NULL);
	relay_status_html_join_step(html,
				    "Pleroma, Akkoma",
				    "On the server, run",
				    pleroma,
				    "Akkoma installed from source",
				    akkoma);
	relay_status_html_join_step(
		html,
		"GoToSocial",
		"Settings → Administration → Relay subscriptions, with the actor URI",
		actor,
		NULL,
		NULL);
	relay_status_html_join_step(html, "Friendica", "On the server, run", friendica, NULL, NULL);
	relay_html_close(html, "dl");
}

static void
relay_status_html_member(RelayHtml *html, const RelayStatusMember *view)
{
	const RelayMember *member = view->member;
	g_autofree gchar *software = NULL;
	g_autofree gchar *queued = NULL;

	relay_html_open(html, "tr", NULL);
	relay_html_element(
		html, "td", member->domain, "class", "domain", "data-label", "Server", NULL);

	relay_html_open(html, "td", "data-label", "Software", NULL);
	if (member->software_name != NULL) {
		software = member->software_version != NULL
				   ? g_strdup_printf("%s %s",
						     member->software_name,
						     member->software_version)
				   : g_strdup(member->software_name);
		relay_html_text(html, software);
	} else {
		relay_html_element(html, "span", "unknown", "class", "muted", NULL);
	}
	relay_html_close(html, "td");

	relay_html_open(html, "td", "data-label", "Member since", NULL);
	relay_status_html_time(html, member->created_at_us, RELAY_STATUS_DAY_FORMAT);
	relay_html_close(html, "td");

	relay_html_open(html, "td", "data-label", "Last seen", NULL);
	relay_status_html_time(html, member->last_seen_us, RELAY_STATUS_MINUTE_FORMAT);
	relay_html_close(html, "td");

	relay_html_open(html, "td", "data-label", "Deliveries", NULL);
	relay_html_element(html,
			   "span",
			   relay_status_health_words[view->health],
			   "class",
			   relay_status_health_words[view->health],
			   NULL);
	if (view->health == RELAY_STATUS_HEALTH_FAILING && view->failing_since_us != 0) {
		relay_html_text(html, " since ");
		relay_status_html_time(html, view->failing_since_us, RELAY_STATUS_MINUTE_FORMAT);
	}
	if (view->queued > 0) {
		queued = g_strdup_printf(", %" G_GUINT64_FORMAT " queued", view->queued);
		relay_html_text(html, queued);
	}
	relay_html_close(html, "td");
	relay_html_close(html, "tr");
}

/* the networks of other nodes this one is linked with: name, node, and whether both ways */
static void
relay_status_html_peers(RelayHtml *html, RelayStatusNetwork *entry)
{
	const gchar *name = relay_network_get_name(entry->network);
	g_autoptr(GPtrArray) links = g_ptr_array_new();
	g_autofree gchar *title = NULL;

	for (guint i = 0; i < entry->peer_links->len; i++) {
		RelayPeerLink *link = g_ptr_array_index(entry->peer_links, i);
		if (g_strcmp0(link->network, name) == 0)
			g_ptr_array_add(links, link);
	}
	if (links->len == 0)
		return;
	title = g_strdup_printf("Linked networks (%u)", links->len);
	relay_html_element(html, "h3", title, NULL);
	relay_html_open(html, "ul", "class", "peers", NULL);
	for (guint i = 0; i < links->len; i++) {
		const RelayPeerLink *link = g_ptr_array_index(links, i);
		relay_html_open(html, "li", NULL);
		relay_html_element(
			html, "a", link->name, "href", link->actor, "rel", "nofollow", NULL);
		relay_html_text(html, " on ");
		relay_html_element(html, "span", link->node, "class", "domain", NULL);
		relay_html_text(html, " ");
		relay_html_element(html,
				   "span",
				   link->mutual ? "both ways" : "their posts come here",
				   "class",
				   "badge",
				   NULL);
		relay_html_close(html, "li");
	}
	relay_html_close(html, "ul");
}

static void
relay_status_html_network(RelayHtml *html, RelayStatusNetwork *entry)
{
	RelayNetwork *network = entry->network;
	const RelayNetworkConfig *config = relay_network_get_config(network);
	g_autofree gchar *id = g_strdup_printf("network-%s", config->name);
	g_autofree gchar *members_title = g_strdup_printf("Members (%u)", entry->members->len);
	const gchar *join = relay_join_policy_to_string(config->join);

	relay_html_open(html, "section", "class", "network", "id", id, NULL);
	relay_html_element(html, "h2", relay_status_network_title(network), NULL);
	relay_html_open(html, "p", "class", "policy", NULL);
	relay_html_element(html, "span", join, "class", "badge", NULL);
	relay_html_text(html, " ");
	relay_html_element(html, "span", relay_network_get_acct(network), "class", "muted", NULL);
	relay_html_close(html, "p");
	if (config->summary != NULL && config->summary[0] != '\0')
		relay_html_element(html, "p", config->summary, "class", "summary", NULL);

	if (config->rules != NULL && config->rules[0] != NULL) {
		relay_html_element(html, "h3", "Rules", NULL);
		relay_html_open(html, "ol", "class", "rules", NULL);
		for (guint i = 0; config->rules[i] != NULL; i++)
			relay_html_element(html, "li", config->rules[i], NULL);
		relay_html_close(html, "ol");
	}
	if (config->contact != NULL && config->contact[0] != '\0') {
		relay_html_open(html, "p", "class", "contact", NULL);
		relay_html_text(html, "Contact: ");
		relay_status_html_contact(html, config->contact);
		relay_html_close(html, "p");
	}

	relay_status_html_join(html, network);

	relay_html_element(html, "h3", members_title, NULL);
	if (entry->members->len == 0) {
		relay_html_element(html, "p", "No members yet.", "class", "muted", NULL);
	} else {
		relay_html_open(html, "table", "class", "members", NULL);
		relay_html_open(html, "thead", NULL);
		relay_html_open(html, "tr", NULL);
		relay_html_element(html, "th", "Server", "scope", "col", NULL);
		relay_html_element(html, "th", "Software", "scope", "col", NULL);
		relay_html_element(html, "th", "Member since", "scope", "col", NULL);
		relay_html_element(html, "th", "Last seen", "scope", "col", NULL);
		relay_html_element(html, "th", "Deliveries", "scope", "col", NULL);
		relay_html_close(html, "tr");
		relay_html_close(html, "thead");
		relay_html_open(html, "tbody", NULL);
		for (guint i = 0; i < entry->members->len; i++)
			relay_status_html_member(html, g_ptr_array_index(entry->members, i));
		relay_html_close(html, "tbody");
		relay_html_close(html, "table");
	}
	relay_status_html_peers(html, entry);
	relay_html_close(html, "section");
}

/* the start of every page, up to an open <body> */
static void
relay_status_html_head(RelayHtml *html, const gchar *title)
{
	relay_html_open(html, "html", "lang", "en", NULL);
	relay_html_open(html, "head", NULL);
	relay_html_void(html, "meta", "charset", "utf-8", NULL);
	relay_html_void(html,
			"meta",
			"name",
			"viewport",
			"content",
			"width=device-width, initial-scale=1",
			NULL);
	relay_html_void(html, "meta", "name", "color-scheme", "content", "light dark", NULL);
	relay_html_element(html, "title", title, NULL);
	relay_html_open(html, "style", NULL);
	relay_html_raw(html, relay_status_css);
	relay_html_close(html, "style");
	relay_html_close(html, "head");
	relay_html_open(html, "body", NULL);
}

static void
relay_status_html_footer(RelayHtml *html)
{
	relay_html_open(html, "footer", NULL);
	relay_html_open(html, "p", NULL);
	relay_html_textf(html, "relay %s · ", PACKAGE_VERSION);
	relay_html_element(html, "a", "the same as JSON", "href", "/api/v1/networks", NULL);
	relay_html_text(html, " · ");
	relay_html_element(html, "a", "NodeInfo", "href", "/nodeinfo/2.1", NULL);
	relay_html_close(html, "p");
	relay_html_close(html, "footer");
}

static GBytes *
relay_status_page_new(RelayServer *self, RelayStatusView *view)
{
	g_autoptr(RelayHtml) html = relay_html_new();
	const gchar *public_url = relay_config_get_public_url(self->config);
	g_autofree gchar *home = g_strdup_printf("%s/", public_url);
	const gchar *name = relay_status_node_name(self);

	relay_status_html_head(html, name);
	relay_html_open(html, "header", NULL);
	relay_html_element(html, "h1", name, NULL);
	relay_html_open(html, "p", NULL);
	relay_html_text(html, "An ActivityPub relay at ");
	relay_html_element(html, "a", public_url, "href", home, NULL);
	relay_html_close(html, "p");
	relay_html_open(html, "dl", "class", "totals", NULL);
	relay_status_html_total(html, "Networks", view->networks->len);
	relay_status_html_total(html, "Members", view->members);
	relay_status_html_total(html, "Deliveries queued", view->snapshot->queue.queued);
	relay_html_close(html, "dl");
	relay_html_close(html, "header");

	relay_html_open(html, "main", NULL);
	for (guint i = 0; i < view->networks->len; i++)
		relay_status_html_network(html, g_ptr_array_index(view->networks, i));
	relay_html_close(html, "main");

	relay_status_html_footer(html);
	relay_html_close(html, "body");
	relay_html_close(html, "html");
	return relay_html_free_to_bytes(g_steal_pointer(&html));
}

static GBytes *
relay_status_error_page_new(RelayServer *self, const gchar *reason)
{
	g_autoptr(RelayHtml) html = relay_html_new();

	relay_status_html_head(html, relay_status_node_name(self));
	relay_html_open(html, "main", NULL);
	relay_html_element(html, "h1", relay_status_node_name(self), NULL);
	relay_html_element(html, "p", reason, NULL);
	relay_html_close(html, "main");
	relay_html_close(html, "body");
	relay_html_close(html, "html");
	return relay_html_free_to_bytes(g_steal_pointer(&html));
}

/* ---- the JSON ------------------------------------------------------------------------------- */

static void
relay_status_json_string(JsonBuilder *builder, const gchar *member, const gchar *value)
{
	json_builder_set_member_name(builder, member);
	if (value != NULL)
		json_builder_add_string_value(builder, value);
	else
		json_builder_add_null_value(builder);
}

static void
relay_status_json_time(JsonBuilder *builder, const gchar *member, gint64 us)
{
	g_autofree gchar *iso = relay_status_format_time(us, RELAY_STATUS_ISO_FORMAT);
	relay_status_json_string(builder, member, iso);
}

static void
relay_status_json_member(JsonBuilder *builder, const RelayStatusMember *view)
{
	const RelayMember *member = view->member;

	json_builder_begin_object(builder);
	relay_status_json_string(builder, "domain", member->domain);
	relay_status_json_string(builder, "software", member->software_name);
	relay_status_json_string(builder, "version", member->software_version);
	relay_status_json_time(builder, "since", member->created_at_us);
	relay_status_json_time(builder, "last_seen", member->last_seen_us);
	json_builder_set_member_name(builder, "delivery");
	json_builder_begin_object(builder);
	relay_status_json_string(builder, "state", relay_status_health_words[view->health]);
	json_builder_set_member_name(builder, "queued");
	json_builder_add_int_value(builder, (gint64)view->queued);
	json_builder_set_member_name(builder, "retrying");
	json_builder_add_int_value(builder, (gint64)view->retrying);
	relay_status_json_time(builder, "failing_since", view->failing_since_us);
	json_builder_end_object(builder);
	json_builder_end_object(builder);
}

static void
relay_status_json_network(JsonBuilder *builder, RelayStatusNetwork *entry)
{
	RelayNetwork *network = entry->network;
	const RelayNetworkConfig *config = relay_network_get_config(network);

	json_builder_begin_object(builder);
	relay_status_json_string(builder, "name", config->name);
	relay_status_json_string(builder, "title", relay_status_network_title(network));
	relay_status_json_string(
		builder, "summary", config->summary != NULL ? config->summary : "");
	json_builder_set_member_name(builder, "rules");
	json_builder_begin_array(builder);
	for (guint i = 0; config->rules != NULL && config->rules[i] != NULL; i++)
		json_builder_add_string_value(builder, config->rules[i]);
	json_builder_end_array(builder);
	relay_status_json_string(
		builder,
		"contact",
		config->contact != NULL && config->contact[0] != '\0' ? config->contact : NULL);
	relay_status_json_string(builder, "join", relay_join_policy_to_string(config->join));
	relay_status_json_string(builder, "actor", relay_network_get_actor_url(network));
	relay_status_json_string(builder, "inbox", relay_network_get_inbox_url(network));
	relay_status_json_string(builder, "account", relay_network_get_acct(network));
	json_builder_set_member_name(builder, "member_count");
	json_builder_add_int_value(builder, entry->members->len);
	json_builder_set_member_name(builder, "members");
	json_builder_begin_array(builder);
	for (guint i = 0; i < entry->members->len; i++)
		relay_status_json_member(builder, g_ptr_array_index(entry->members, i));
	json_builder_end_array(builder);
	json_builder_set_member_name(builder, "peers");
	relay_peer_links_add_json(builder, entry->peer_links, config->name);
	json_builder_end_object(builder);
}

static JsonBuilder *
relay_status_json_new(RelayServer *self, RelayStatusView *view)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();

	json_builder_begin_object(builder);
	relay_status_json_string(builder, "url", relay_config_get_public_url(self->config));
	relay_status_json_string(builder, "name", relay_status_node_name(self));
	json_builder_set_member_name(builder, "software");
	json_builder_begin_object(builder);
	relay_status_json_string(builder, "name", RELAY_NODEINFO_SOFTWARE_NAME);
	relay_status_json_string(builder, "version", PACKAGE_VERSION);
	json_builder_end_object(builder);
	json_builder_set_member_name(builder, "totals");
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "networks");
	json_builder_add_int_value(builder, view->networks->len);
	json_builder_set_member_name(builder, "members");
	json_builder_add_int_value(builder, (gint64)view->members);
	json_builder_set_member_name(builder, "deliveries_queued");
	json_builder_add_int_value(builder, (gint64)view->snapshot->queue.queued);
	json_builder_end_object(builder);
	json_builder_set_member_name(builder, "networks");
	json_builder_begin_array(builder);
	for (guint i = 0; i < view->networks->len; i++)
		relay_status_json_network(builder, g_ptr_array_index(view->networks, i));
	json_builder_end_array(builder);
	json_builder_end_object(builder);
	return g_steal_pointer(&builder);
}

/* ---- routes --------------------------------------------------------------------------------- */

typedef enum {
	RELAY_STATUS_FORMAT_HTML,
	RELAY_STATUS_FORMAT_JSON,
} RelayStatusFormat;

static void
relay_status_set_headers(SoupServerMessage *msg, RelayStatusFormat format)
{
	SoupMessageHeaders *headers = soup_server_message_get_response_headers(msg);

	/* members come and go: always ask again, but a proxy may keep it while it is fresh */
	soup_message_headers_replace(headers, "Cache-Control", "no-cache");
	soup_message_headers_replace(headers, "X-Content-Type-Options", "nosniff");
	if (format == RELAY_STATUS_FORMAT_HTML) {
		soup_message_headers_replace(headers, "Content-Security-Policy", RELAY_STATUS_CSP);
		soup_message_headers_replace(headers, "Referrer-Policy", "no-referrer");
	} else {
		soup_message_headers_replace(headers, "Access-Control-Allow-Origin", "*");
	}
}

static void
relay_status_snapshot_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(RelayServerRequest) request = user_data;
	RelayServer *self = request->server;
	RelayStatusFormat format =
		GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(request->msg), "relay-status-format"));
	g_autoptr(GError) error = NULL;
	g_autoptr(RelayStatusSnapshot) snapshot = g_task_propagate_pointer(G_TASK(res), &error);
	g_autoptr(RelayStatusView) view = NULL;
	g_autoptr(GBytes) body = NULL;

	if (request->answered)
		return;
	relay_status_set_headers(request->msg, format);
	if (snapshot == NULL) {
		g_warning("status page: storage does not answer: %s", error->message);
		if (format == RELAY_STATUS_FORMAT_HTML) {
			body = relay_status_error_page_new(
				self,
				"The status is not available right now: storage does not "
				"answer. Try again in a moment.");
			relay_server_request_answer_bytes(request,
							  SOUP_STATUS_SERVICE_UNAVAILABLE,
							  RELAY_STATUS_HTML_TYPE,
							  body);
		} else {
			g_autoptr(JsonBuilder) builder = json_builder_new();
			json_builder_begin_object(builder);
			json_builder_set_member_name(builder, "error");
			json_builder_add_string_value(builder, "storage does not answer");
			json_builder_end_object(builder);
			relay_server_request_answer(
				request, SOUP_STATUS_SERVICE_UNAVAILABLE, builder);
		}
		return;
	}
	view = relay_status_view_new(self, g_steal_pointer(&snapshot));
	if (format == RELAY_STATUS_FORMAT_HTML) {
		body = relay_status_page_new(self, view);
		relay_server_request_answer_bytes(
			request, SOUP_STATUS_OK, RELAY_STATUS_HTML_TYPE, body);
	} else {
		g_autoptr(JsonBuilder) builder = relay_status_json_new(self, view);
		g_autoptr(JsonNode) root = json_builder_get_root(builder);
		body = relay_json_to_bytes(root);
		relay_server_request_answer_bytes(
			request, SOUP_STATUS_OK, RELAY_STATUS_JSON_TYPE, body);
	}
}

static void
relay_status_start(RelayServer *self, SoupServerMessage *msg, RelayStatusFormat format)
{
	RelayServerRequest *request;

	if (!relay_server_require_get(msg))
		return;
	g_object_set_data(G_OBJECT(msg), "relay-status-format", GUINT_TO_POINTER(format));
	request = relay_server_request_new(self, msg);
	relay_store_run_async(self->store,
			      relay_status_snapshot_run,
			      NULL,
			      NULL,
			      relay_status_start,
			      request->cancellable,
			      relay_status_snapshot_cb,
			      request);
}

/* "/" is also the prefix every unknown path falls back to */
static void
relay_status_page_cb(SoupServer *server,
		     SoupServerMessage *msg,
		     const char *path,
		     GHashTable *query,
		     gpointer user_data)
{
	if (g_strcmp0(path, "/") != 0) {
		relay_server_set_error(msg, SOUP_STATUS_NOT_FOUND, "not found");
		return;
	}
	relay_status_start(RELAY_SERVER(user_data), msg, RELAY_STATUS_FORMAT_HTML);
}

static void
relay_status_api_cb(SoupServer *server,
		    SoupServerMessage *msg,
		    const char *path,
		    GHashTable *query,
		    gpointer user_data)
{
	if (g_strcmp0(path, "/api/v1/networks") != 0) {
		relay_server_set_error(msg, SOUP_STATUS_NOT_FOUND, "not found");
		return;
	}
	relay_status_start(RELAY_SERVER(user_data), msg, RELAY_STATUS_FORMAT_JSON);
}

/**
 * relay_status_register:
 *
 * Adds GET / (the status page) and GET /api/v1/networks (the same, as JSON).
 */
void
relay_status_register(RelayServer *self)
{
	relay_server_add_route(self, "/", relay_status_page_cb);
	relay_server_add_route(self, "/api/v1/networks", relay_status_api_cb);
}
