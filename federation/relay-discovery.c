/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * WebFinger, host-meta and NodeInfo documents.
 *
 * The WebFinger resource is the one input from strangers here. It is read the way servers and
 * clients actually send it: `acct:user@host`, bare `user@host` (and `@user@host`), the '@'
 * percent-encoded as %40 when the query was encoded twice, or the actor's http(s) URL. Anything
 * else is refused with a message that says what was expected, which the server answers with 400.
 *
 * NodeInfo documents of other servers are read too, for the software name and version of each
 * member: the links document at /.well-known/nodeinfo names the schema versions the server
 * has, and the relay follows the highest one it knows. Both are untrusted: only strings of
 * the expected types are taken, and the text is bounded and stripped of control characters.
 *
 * host-meta's XRD is built with libxml2 rather than by pasting strings, so that an origin can
 * never break the markup. libxml2 escapes '&', '<' and '"' in attribute values and leaves the
 * braces of the `{uri}` template alone, which is what RFC 6415 clients substitute.
 */

#include "config.h"

#include <libxml/tree.h>
#include <string.h>

#include "relay-discovery.h"
#include "relay-fed-error.h"
#include "relay-json.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

#define RELAY_WEBFINGER_MAX_RESOURCE 1024

#define RELAY_XRD_NAMESPACE	  "http://docs.oasis-open.org/ns/xri/xrd-1.0"
#define RELAY_NODEINFO_REL_PREFIX "http://nodeinfo.diaspora.software/ns/schema/"
/* a few servers write the rel with https */
#define RELAY_NODEINFO_REL_PREFIX_HTTPS "https://nodeinfo.diaspora.software/ns/schema/"

/* ---- WebFinger ----------------------------------------------------------------------------- */

/* RFC 7565 userpart: unreserved / sub-delims (after percent-decoding) */
static gboolean
relay_webfinger_user_is_valid(const gchar *user)
{
	if (user[0] == '\0')
		return FALSE;
	for (const gchar *p = user; *p != '\0'; p++) {
		if (g_ascii_isalnum(*p))
			continue;
		if (strchr("-._~!$&'()*+,;=", *p) == NULL)
			return FALSE;
	}
	return TRUE;
}

/*
 * Normalises HOST or HOST:PORT (IPv6 in brackets): host names to lower-case ASCII (IDNA),
 * NULL when it is not one.
 */
static gchar *
relay_webfinger_normalize_host(const gchar *authority)
{
	g_autofree gchar *url = NULL;
	g_autofree gchar *ascii = NULL;
	g_autoptr(GUri) uri = NULL;
	const gchar *host;
	gint port;

	if (authority == NULL || authority[0] == '\0')
		return NULL;
	url = g_strconcat("https://", authority, "/", NULL);
	uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
	if (uri == NULL)
		return NULL;
	host = g_uri_get_host(uri);
	if (host == NULL || host[0] == '\0' || g_uri_get_userinfo(uri) != NULL ||
	    g_strcmp0(g_uri_get_path(uri), "/") != 0 || g_uri_get_query(uri) != NULL ||
	    g_uri_get_fragment(uri) != NULL)
		return NULL;
	port = g_uri_get_port(uri);

	if (g_hostname_is_ip_address(host)) {
		ascii = strchr(host, ':') != NULL ? g_strdup_printf("[%s]", host) : g_strdup(host);
	} else {
		g_autofree gchar *idna = g_hostname_to_ascii(host);
		if (idna == NULL)
			return NULL;
		ascii = g_ascii_strdown(idna, -1);
		for (const gchar *p = ascii; *p != '\0'; p++) {
			if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.')
				return NULL;
		}
		if (ascii[0] == '.' || ascii[0] == '-')
			return NULL;
	}
	if (port > 0)
		return g_strdup_printf("%s:%d", ascii, port);
	return g_steal_pointer(&ascii);
}

static gboolean
relay_webfinger_parse_url(
	const gchar *resource, gchar **out_user, gchar **out_host, gchar **out_url, GError **error)
{
	g_autoptr(GUri) uri = NULL;
	g_autofree gchar *authority = NULL;
	g_autofree gchar *host = NULL;
	const gchar *scheme;

	uri = g_uri_parse(resource, G_URI_FLAGS_NONE, NULL);
	if (uri == NULL || g_uri_get_host(uri) == NULL || g_uri_get_host(uri)[0] == '\0') {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_INVALID_DOCUMENT,
			    "resource '%s' is not a valid URL",
			    resource);
		return FALSE;
	}
	scheme = g_uri_get_scheme(uri);
	if (g_ascii_strcasecmp(scheme, "http") != 0 && g_ascii_strcasecmp(scheme, "https") != 0) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_INVALID_DOCUMENT,
			    "resource '%s' is not an http or https URL",
			    resource);
		return FALSE;
	}
	if (g_uri_get_userinfo(uri) != NULL) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_INVALID_DOCUMENT,
			    "resource '%s' must not contain a user",
			    resource);
		return FALSE;
	}
	if (g_uri_get_port(uri) > 0) {
		const gchar *uri_host = g_uri_get_host(uri);
		authority = strchr(uri_host, ':') != NULL
				    ? g_strdup_printf("[%s]:%d", uri_host, g_uri_get_port(uri))
				    : g_strdup_printf("%s:%d", uri_host, g_uri_get_port(uri));
	} else {
		authority = strchr(g_uri_get_host(uri), ':') != NULL
				    ? g_strdup_printf("[%s]", g_uri_get_host(uri))
				    : g_strdup(g_uri_get_host(uri));
	}
	host = relay_webfinger_normalize_host(authority);
	if (host == NULL) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_INVALID_DOCUMENT,
			    "resource '%s' has an invalid host",
			    resource);
		return FALSE;
	}

	if (out_user != NULL)
		*out_user = NULL;
	if (out_host != NULL)
		*out_host = g_steal_pointer(&host);
	if (out_url != NULL)
		*out_url = g_strdup(resource);
	return TRUE;
}

static gboolean
relay_webfinger_parse_acct(const gchar *resource,
			   const gchar *account,
			   gchar **out_user,
			   gchar **out_host,
			   gchar **out_url,
			   GError **error)
{
	g_autofree gchar *decoded = NULL;
	g_autofree gchar *host = NULL;
	const gchar *at;

	/* %40 for '@' when the query was encoded twice; g_uri_unescape_string refuses "%00" */
	decoded = g_uri_unescape_string(account, NULL);
	if (decoded == NULL || !g_utf8_validate(decoded, -1, NULL)) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_INVALID_DOCUMENT,
			    "resource '%s' has an invalid percent-encoding",
			    resource);
		return FALSE;
	}
	at = strchr(decoded, '@');
	if (at == NULL || strchr(at + 1, '@') != NULL) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_INVALID_DOCUMENT,
			    "resource '%s' is not acct:USER@HOST or an http(s) URL",
			    resource);
		return FALSE;
	}
	if (at == decoded) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_INVALID_DOCUMENT,
			    "resource '%s' has no user before the '@'",
			    resource);
		return FALSE;
	}
	if (at[1] == '\0') {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_INVALID_DOCUMENT,
			    "resource '%s' has no host after the '@'",
			    resource);
		return FALSE;
	}
	host = relay_webfinger_normalize_host(at + 1);
	if (host == NULL) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_INVALID_DOCUMENT,
			    "resource '%s' has an invalid host",
			    resource);
		return FALSE;
	}
	decoded[at - decoded] = '\0';
	if (!relay_webfinger_user_is_valid(decoded)) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_INVALID_DOCUMENT,
			    "resource '%s' has an invalid user",
			    resource);
		return FALSE;
	}

	if (out_user != NULL)
		*out_user = g_strdup(decoded);
	if (out_host != NULL)
		*out_host = g_steal_pointer(&host);
	if (out_url != NULL)
		*out_url = NULL;
	return TRUE;
}

/**
 * relay_webfinger_parse_resource:
 * @resource: (nullable): the `resource` query parameter, already form-decoded once
 * @out_user: (out) (optional) (transfer full) (nullable): the user of an acct resource, as
 *	given (case is kept); %NULL for a URL
 * @out_host: (out) (optional) (transfer full): the host, lower-case ASCII, with ":PORT" when
 *	one was given
 * @out_url: (out) (optional) (transfer full) (nullable): the URL as given; %NULL for an acct
 *	resource
 * @error: (nullable): a #GError
 *
 * Reads a WebFinger resource: `acct:USER@HOST`, `USER@HOST` or `@USER@HOST` without the
 * scheme, the '@' possibly written %40, or an http(s) URL. Which resource names a network is
 * for the caller to decide.
 *
 * Returns: %TRUE, or %FALSE with %RELAY_FED_ERROR_INVALID_DOCUMENT (a 400)
 */
gboolean
relay_webfinger_parse_resource(
	const gchar *resource, gchar **out_user, gchar **out_host, gchar **out_url, GError **error)
{
	const gchar *scheme;

	if (resource == NULL || resource[0] == '\0') {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_INVALID_DOCUMENT,
				    "the resource parameter is missing");
		return FALSE;
	}
	if (strlen(resource) > RELAY_WEBFINGER_MAX_RESOURCE) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_INVALID_DOCUMENT,
			    "the resource is longer than %d bytes",
			    RELAY_WEBFINGER_MAX_RESOURCE);
		return FALSE;
	}
	if (!g_utf8_validate(resource, -1, NULL)) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_INVALID_DOCUMENT,
				    "the resource is not valid UTF-8");
		return FALSE;
	}
	for (const gchar *p = resource; *p != '\0'; p++) {
		if ((guchar)*p <= ' ' || *p == 0x7f) {
			g_set_error_literal(error,
					    RELAY_FED_ERROR,
					    RELAY_FED_ERROR_INVALID_DOCUMENT,
					    "the resource contains spaces or control characters");
			return FALSE;
		}
	}

	/* interned and lower-case */
	scheme = g_uri_peek_scheme(resource);
	if (scheme == NULL) {
		const gchar *account = resource[0] == '@' ? resource + 1 : resource;
		return relay_webfinger_parse_acct(
			resource, account, out_user, out_host, out_url, error);
	}
	if (g_strcmp0(scheme, "acct") == 0) {
		return relay_webfinger_parse_acct(
			resource, resource + strlen("acct:"), out_user, out_host, out_url, error);
	}
	if (g_strcmp0(scheme, "http") == 0 || g_strcmp0(scheme, "https") == 0)
		return relay_webfinger_parse_url(resource, out_user, out_host, out_url, error);
	g_set_error(error,
		    RELAY_FED_ERROR,
		    RELAY_FED_ERROR_INVALID_DOCUMENT,
		    "resource '%s' has the unsupported scheme '%s:' (expected acct: or https:)",
		    resource,
		    scheme);
	return FALSE;
}

static void
relay_discovery_add_link(JsonBuilder *builder,
			 const gchar *rel,
			 const gchar *type,
			 const gchar *href,
			 const gchar *template)
{
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "rel");
	json_builder_add_string_value(builder, rel);
	if (type != NULL) {
		json_builder_set_member_name(builder, "type");
		json_builder_add_string_value(builder, type);
	}
	if (href != NULL) {
		json_builder_set_member_name(builder, "href");
		json_builder_add_string_value(builder, href);
	}
	if (template != NULL) {
		json_builder_set_member_name(builder, "template");
		json_builder_add_string_value(builder, template);
	}
	json_builder_end_object(builder);
}

/**
 * relay_webfinger_document_new:
 * @subject: `acct:NAME@HOST`
 * @actor_url: the network's actor
 * @status_url: (nullable): the status page, the profile page of the network
 *
 * Builds the JRD that answers a WebFinger query: the `self` link (type
 * `application/activity+json`) is what Mastodon, Misskey and Friendica follow to the actor.
 *
 * Returns: (transfer full): the JRD, a JSON object
 */
JsonNode *
relay_webfinger_document_new(const gchar *subject, const gchar *actor_url, const gchar *status_url)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();

	g_return_val_if_fail(subject != NULL, NULL);
	g_return_val_if_fail(actor_url != NULL, NULL);

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "subject");
	json_builder_add_string_value(builder, subject);
	json_builder_set_member_name(builder, "aliases");
	json_builder_begin_array(builder);
	json_builder_add_string_value(builder, actor_url);
	json_builder_end_array(builder);
	json_builder_set_member_name(builder, "links");
	json_builder_begin_array(builder);
	relay_discovery_add_link(builder, "self", "application/activity+json", actor_url, NULL);
	if (status_url != NULL) {
		relay_discovery_add_link(builder,
					 "http://webfinger.net/rel/profile-page",
					 "text/html",
					 status_url,
					 NULL);
	}
	json_builder_end_array(builder);
	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}

/* ---- host-meta ----------------------------------------------------------------------------- */

/* ORIGIN without trailing slashes */
static gchar *
relay_discovery_origin(const gchar *origin)
{
	gsize length = strlen(origin);
	while (length > 0 && origin[length - 1] == '/')
		length--;
	return g_strndup(origin, length);
}

static gchar *
relay_host_meta_template(const gchar *origin)
{
	g_autofree gchar *base = relay_discovery_origin(origin);
	return g_strconcat(base, "/.well-known/webfinger?resource={uri}", NULL);
}

/**
 * relay_host_meta_xrd_new:
 * @origin: the node's public URL
 *
 * Builds `/.well-known/host-meta`: an XRD document with the `lrdd` template that points at
 * WebFinger (older Friendica and GNU social discover WebFinger so).
 *
 * Returns: (transfer full): the UTF-8 XML text
 */
GBytes *
relay_host_meta_xrd_new(const gchar *origin)
{
	g_autoptr(xmlDoc) doc = NULL;
	g_autofree gchar *template = NULL;
	xmlNodePtr root;
	xmlNodePtr link;
	xmlNsPtr ns;
	xmlChar *text = NULL;
	int size = 0;
	GBytes *bytes;

	g_return_val_if_fail(origin != NULL, NULL);

	template = relay_host_meta_template(origin);
	doc = xmlNewDoc((const xmlChar *)"1.0");
	root = xmlNewNode(NULL, (const xmlChar *)"XRD");
	ns = xmlNewNs(root, (const xmlChar *)RELAY_XRD_NAMESPACE, NULL);
	xmlSetNs(root, ns);
	xmlDocSetRootElement(doc, root);
	link = xmlNewChild(root, ns, (const xmlChar *)"Link", NULL);
	/* xmlNewProp stores the value as text: no entity parsing, escaped on output */
	xmlNewProp(link, (const xmlChar *)"rel", (const xmlChar *)"lrdd");
	xmlNewProp(link, (const xmlChar *)"template", (const xmlChar *)template);

	xmlDocDumpFormatMemoryEnc(doc, &text, &size, "UTF-8", 1);
	if (text == NULL || size <= 0) {
		/* only when libxml2 cannot allocate, which GLib would have aborted on anyway */
		g_critical("libxml2 could not serialise the host-meta document");
		xmlFree(text);
		return g_bytes_new(NULL, 0);
	}
	bytes = g_bytes_new(text, (gsize)size);
	xmlFree(text);
	return bytes;
}

/**
 * relay_host_meta_json_new:
 * @origin: the node's public URL
 *
 * Builds `/.well-known/host-meta.json`, the JRD form of host-meta (RFC 6415 appendix A).
 *
 * Returns: (transfer full): the JRD, a JSON object
 */
JsonNode *
relay_host_meta_json_new(const gchar *origin)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autofree gchar *template = NULL;

	g_return_val_if_fail(origin != NULL, NULL);

	template = relay_host_meta_template(origin);
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "links");
	json_builder_begin_array(builder);
	relay_discovery_add_link(builder, "lrdd", NULL, NULL, template);
	json_builder_end_array(builder);
	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}

/* ---- NodeInfo ------------------------------------------------------------------------------ */

static gboolean
relay_nodeinfo_version_is_supported(const gchar *schema_version)
{
	return g_strcmp0(schema_version, "2.0") == 0 || g_strcmp0(schema_version, "2.1") == 0;
}

/**
 * relay_nodeinfo_links_new:
 * @origin: the node's public URL
 *
 * Builds `/.well-known/nodeinfo`: links to the 2.0 and 2.1 documents at `ORIGIN/nodeinfo/2.0`
 * and `ORIGIN/nodeinfo/2.1`. Clients follow the highest version they know.
 *
 * Returns: (transfer full): the JRD, a JSON object
 */
JsonNode *
relay_nodeinfo_links_new(const gchar *origin)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autofree gchar *base = NULL;
	const gchar *versions[] = {"2.0", "2.1"};

	g_return_val_if_fail(origin != NULL, NULL);

	base = relay_discovery_origin(origin);
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "links");
	json_builder_begin_array(builder);
	for (guint i = 0; i < G_N_ELEMENTS(versions); i++) {
		g_autofree gchar *rel = g_strconcat(RELAY_NODEINFO_REL_PREFIX, versions[i], NULL);
		g_autofree gchar *href = g_strconcat(base, "/nodeinfo/", versions[i], NULL);
		relay_discovery_add_link(builder, rel, NULL, href, NULL);
	}
	json_builder_end_array(builder);
	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}

static void
relay_nodeinfo_add_count(JsonBuilder *builder, const gchar *member, gint64 value)
{
	if (value < 0)
		return;
	json_builder_set_member_name(builder, member);
	json_builder_add_int_value(builder, value);
}

/**
 * relay_nodeinfo_document_new:
 * @info: what to publish
 * @schema_version: "2.0" or "2.1"
 *
 * Builds a NodeInfo document that validates against the schema of @schema_version: software
 * `relay` (with `repository` and `homepage` in 2.1 only), protocols `["activitypub"]`, no
 * services, the user counts that are not negative, and @info's metadata (an empty object when
 * %NULL). The metadata object is shared, not copied: do not change it afterwards.
 *
 * Returns: (transfer full) (nullable): the document, or %NULL when @schema_version is neither
 * "2.0" nor "2.1" (a 404 for the route)
 */
JsonNode *
relay_nodeinfo_document_new(const RelayNodeInfo *info, const gchar *schema_version)
{
	g_autoptr(JsonBuilder) builder = NULL;
	gboolean is_2_1;

	g_return_val_if_fail(info != NULL, NULL);
	g_return_val_if_fail(info->metadata == NULL || JSON_NODE_HOLDS_OBJECT(info->metadata),
			     NULL);

	if (!relay_nodeinfo_version_is_supported(schema_version))
		return NULL;
	is_2_1 = g_strcmp0(schema_version, "2.1") == 0;

	builder = json_builder_new();
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "version");
	json_builder_add_string_value(builder, schema_version);

	json_builder_set_member_name(builder, "software");
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "name");
	json_builder_add_string_value(builder, RELAY_NODEINFO_SOFTWARE_NAME);
	json_builder_set_member_name(builder, "version");
	json_builder_add_string_value(
		builder, info->software_version != NULL ? info->software_version : PACKAGE_VERSION);
	if (is_2_1 && info->repository != NULL) {
		json_builder_set_member_name(builder, "repository");
		json_builder_add_string_value(builder, info->repository);
	}
	if (is_2_1 && info->homepage != NULL) {
		json_builder_set_member_name(builder, "homepage");
		json_builder_add_string_value(builder, info->homepage);
	}
	json_builder_end_object(builder);

	json_builder_set_member_name(builder, "protocols");
	json_builder_begin_array(builder);
	json_builder_add_string_value(builder, "activitypub");
	json_builder_end_array(builder);

	json_builder_set_member_name(builder, "services");
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "inbound");
	json_builder_begin_array(builder);
	json_builder_end_array(builder);
	json_builder_set_member_name(builder, "outbound");
	json_builder_begin_array(builder);
	json_builder_end_array(builder);
	json_builder_end_object(builder);

	json_builder_set_member_name(builder, "openRegistrations");
	json_builder_add_boolean_value(builder, info->open_registrations);

	json_builder_set_member_name(builder, "usage");
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "users");
	json_builder_begin_object(builder);
	relay_nodeinfo_add_count(builder, "total", info->users_total);
	relay_nodeinfo_add_count(builder, "activeMonth", info->active_month);
	relay_nodeinfo_add_count(builder, "activeHalfyear", info->active_halfyear);
	json_builder_end_object(builder);
	json_builder_end_object(builder);

	json_builder_set_member_name(builder, "metadata");
	if (info->metadata != NULL) {
		json_builder_add_value(builder, json_node_copy(info->metadata));
	} else {
		json_builder_begin_object(builder);
		json_builder_end_object(builder);
	}

	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}

/**
 * relay_nodeinfo_content_type:
 * @schema_version: "2.0" or "2.1"
 *
 * The media type of a NodeInfo document, with the schema as its profile, as the protocol asks.
 *
 * Returns: (transfer none) (nullable): the Content-Type, or %NULL for another version
 */
const gchar *
relay_nodeinfo_content_type(const gchar *schema_version)
{
	if (g_strcmp0(schema_version, "2.0") == 0)
		return "application/json; profile=\"" RELAY_NODEINFO_REL_PREFIX "2.0#\"";
	if (g_strcmp0(schema_version, "2.1") == 0)
		return "application/json; profile=\"" RELAY_NODEINFO_REL_PREFIX "2.1#\"";
	return NULL;
}

/* the schema versions whose documents are followed, the preferred first */
static const gchar *const relay_nodeinfo_readable_versions[] = {"2.1", "2.0", "2.2"};

/* the rank of a link's rel in relay_nodeinfo_readable_versions, or -1 */
static gint
relay_nodeinfo_rel_rank(const gchar *rel)
{
	const gchar *version = NULL;

	if (rel == NULL)
		return -1;
	if (g_str_has_prefix(rel, RELAY_NODEINFO_REL_PREFIX))
		version = rel + strlen(RELAY_NODEINFO_REL_PREFIX);
	else if (g_str_has_prefix(rel, RELAY_NODEINFO_REL_PREFIX_HTTPS))
		version = rel + strlen(RELAY_NODEINFO_REL_PREFIX_HTTPS);
	else
		return -1;
	for (guint i = 0; i < G_N_ELEMENTS(relay_nodeinfo_readable_versions); i++) {
		if (g_strcmp0(version, relay_nodeinfo_readable_versions[i]) == 0)
			return (gint)i;
	}
	return -1;
}

/**
 * relay_nodeinfo_links_parse:
 * @links: a server's `/.well-known/nodeinfo` document
 * @base_url: the URL it came from, against which a relative href is resolved
 * @error: (nullable): a #GError
 *
 * Finds the NodeInfo document to read: the link to schema 2.1, else 2.0, else 2.2 (whose
 * software fields are the same), with an http or https href.
 *
 * Returns: (transfer full) (nullable): the document's absolute URL, or %NULL with
 * %RELAY_FED_ERROR_INVALID_DOCUMENT
 */
gchar *
relay_nodeinfo_links_parse(JsonNode *links, const gchar *base_url, GError **error)
{
	g_autoptr(GUri) base = NULL;
	JsonNode *array_node;
	JsonArray *array;
	const gchar *best_href = NULL;
	gint best_rank = G_MAXINT;

	if (links == NULL || !JSON_NODE_HOLDS_OBJECT(links)) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_INVALID_DOCUMENT,
				    "the NodeInfo links document is not an object");
		return NULL;
	}
	array_node = json_object_get_member(json_node_get_object(links), "links");
	if (array_node == NULL || !JSON_NODE_HOLDS_ARRAY(array_node)) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_INVALID_DOCUMENT,
				    "the NodeInfo links document has no links array");
		return NULL;
	}
	array = json_node_get_array(array_node);
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonNode *link = json_array_get_element(array, i);
		const gchar *href;
		gint rank;

		if (!JSON_NODE_HOLDS_OBJECT(link))
			continue;
		rank = relay_nodeinfo_rel_rank(
			relay_json_object_get_string(json_node_get_object(link), "rel"));
		href = relay_json_object_get_string(json_node_get_object(link), "href");
		if (rank < 0 || href == NULL || href[0] == '\0' || rank >= best_rank)
			continue;
		best_rank = rank;
		best_href = href;
	}
	if (best_href == NULL) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_INVALID_DOCUMENT,
				    "no link to a NodeInfo 2.0 or 2.1 document");
		return NULL;
	}

	base = base_url != NULL ? g_uri_parse(base_url, G_URI_FLAGS_ENCODED, NULL) : NULL;
	{
		g_autoptr(GUri) uri =
			base != NULL
				? g_uri_parse_relative(base, best_href, G_URI_FLAGS_ENCODED, NULL)
				: g_uri_parse(best_href, G_URI_FLAGS_ENCODED, NULL);
		const gchar *scheme = uri != NULL ? g_uri_get_scheme(uri) : NULL;

		if (uri == NULL || g_uri_get_host(uri) == NULL || g_uri_get_host(uri)[0] == '\0' ||
		    (g_strcmp0(scheme, "https") != 0 && g_strcmp0(scheme, "http") != 0)) {
			g_set_error_literal(error,
					    RELAY_FED_ERROR,
					    RELAY_FED_ERROR_INVALID_DOCUMENT,
					    "the NodeInfo link is not an http or https URL");
			return NULL;
		}
		return g_uri_to_string(uri);
	}
}

/* remote text made fit to keep and show: valid UTF-8, no control characters, no surrounding
 * space, at most @max_bytes (cut on a character boundary); NULL when nothing is left */
static gchar *
relay_nodeinfo_clean_text(const gchar *text, gsize max_bytes)
{
	g_autofree gchar *valid = NULL;
	g_autoptr(GString) clean = NULL;

	if (text == NULL)
		return NULL;
	valid = g_utf8_make_valid(text, -1);
	clean = g_string_new(NULL);
	for (const gchar *p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		gsize before = clean->len;

		if (g_unichar_iscntrl(c) || g_unichar_type(c) == G_UNICODE_FORMAT)
			continue;
		g_string_append_unichar(clean, c);
		if (clean->len > max_bytes) {
			g_string_truncate(clean, before);
			break;
		}
	}
	g_strstrip(clean->str);
	clean->len = strlen(clean->str);
	if (clean->len == 0)
		return NULL;
	return g_string_free(g_steal_pointer(&clean), FALSE);
}

/**
 * relay_nodeinfo_software_parse:
 * @document: a NodeInfo document (any 2.x schema)
 * @out_name: (out) (transfer full): software.name, in lower case
 * @out_version: (out) (transfer full) (nullable): software.version, %NULL when absent or empty
 * @error: (nullable): a #GError
 *
 * Reads which software a server runs. The schema asks for a lower-case name (`^[a-z0-9-]+$`);
 * the name is kept as given but for its case, which is folded so that names compare as the
 * schema means them. Both strings lose their control characters and surrounding space and are
 * cut at %RELAY_NODEINFO_SOFTWARE_MAX_BYTES bytes.
 *
 * Returns: %TRUE, or %FALSE with %RELAY_FED_ERROR_INVALID_DOCUMENT when there is no name
 */
gboolean
relay_nodeinfo_software_parse(JsonNode *document,
			      gchar **out_name,
			      gchar **out_version,
			      GError **error)
{
	JsonNode *software_node;
	JsonObject *software;
	g_autofree gchar *name = NULL;
	g_autofree gchar *version = NULL;

	if (document == NULL || !JSON_NODE_HOLDS_OBJECT(document)) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_INVALID_DOCUMENT,
				    "the NodeInfo document is not an object");
		return FALSE;
	}
	software_node = json_object_get_member(json_node_get_object(document), "software");
	if (software_node == NULL || !JSON_NODE_HOLDS_OBJECT(software_node)) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_INVALID_DOCUMENT,
				    "the NodeInfo document has no software object");
		return FALSE;
	}
	software = json_node_get_object(software_node);
	name = relay_nodeinfo_clean_text(relay_json_object_get_string(software, "name"),
					 RELAY_NODEINFO_SOFTWARE_MAX_BYTES);
	if (name == NULL) {
		g_set_error_literal(error,
				    RELAY_FED_ERROR,
				    RELAY_FED_ERROR_INVALID_DOCUMENT,
				    "the NodeInfo document has no software name");
		return FALSE;
	}
	version = relay_nodeinfo_clean_text(relay_json_object_get_string(software, "version"),
					    RELAY_NODEINFO_SOFTWARE_MAX_BYTES);
	*out_name = g_utf8_strdown(name, -1);
	*out_version = g_steal_pointer(&version);
	return TRUE;
}
