/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/*
 * Discovery documents: WebFinger (RFC 7033), host-meta (RFC 6415, XRD and JSON) and NodeInfo
 * 2.0/2.1. Pure builders and parsers; every URL comes from the caller. An `origin` is the
 * node's public URL without a path ("https://relay.example"; a trailing '/' is ignored).
 * FEP-ae0c makes WebFinger a MUST for relays; Misskey refused to federate with a relay that
 * had no NodeInfo (research/relays.md pitfall 7).
 */

#define RELAY_WEBFINGER_CONTENT_TYPE	  "application/jrd+json; charset=utf-8"
#define RELAY_HOST_META_XRD_CONTENT_TYPE  "application/xrd+xml; charset=utf-8"
#define RELAY_HOST_META_JSON_CONTENT_TYPE "application/json; charset=utf-8"
#define RELAY_NODEINFO_LINKS_CONTENT_TYPE "application/json; charset=utf-8"

/* NodeInfo's software.name, which must match ^[a-z0-9-]+$ */
#define RELAY_NODEINFO_SOFTWARE_NAME "relay"

gboolean
relay_webfinger_parse_resource(const gchar *resource,
			       gchar **out_user,
			       gchar **out_host,
			       gchar **out_url,
			       GError **error) G_GNUC_WARN_UNUSED_RESULT;
JsonNode *
relay_webfinger_document_new(const gchar *subject, const gchar *actor_url, const gchar *status_url);

GBytes *
relay_host_meta_xrd_new(const gchar *origin);
JsonNode *
relay_host_meta_json_new(const gchar *origin);

typedef struct {
	const gchar *software_version; /* (nullable): this build's version when NULL */
	const gchar *repository;       /* (nullable): software.repository, 2.1 only */
	const gchar *homepage;	       /* (nullable): software.homepage, 2.1 only */
	gboolean open_registrations;
	gint64 users_total;	/* negative: omitted */
	gint64 active_month;	/* negative: omitted */
	gint64 active_halfyear; /* negative: omitted */
	JsonNode *metadata;	/* (nullable): an object, caller-built: networks, peers, approval */
} RelayNodeInfo;

JsonNode *
relay_nodeinfo_links_new(const gchar *origin);
JsonNode *
relay_nodeinfo_document_new(const RelayNodeInfo *info, const gchar *schema_version);
const gchar *
relay_nodeinfo_content_type(const gchar *schema_version);

/* what a remote server's NodeInfo says; see relay_nodeinfo_software_parse() */
#define RELAY_NODEINFO_SOFTWARE_MAX_BYTES 64

gchar *
relay_nodeinfo_links_parse(JsonNode *links,
			   const gchar *base_url,
			   GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_nodeinfo_software_parse(JsonNode *document,
			      gchar **out_name,
			      gchar **out_version,
			      GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
