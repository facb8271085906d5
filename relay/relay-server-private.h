/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "relay-block-poller.h"
#include "relay-deliverer.h"
#include "relay-inbox.h"
#include "relay-network.h"
#include "relay-rate-limit.h"
#include "relay-server.h"

G_BEGIN_DECLS

struct _RelayServer {
	GObject parent_instance;
	SoupServer *soup;
	RelayConfig *config;
	RelayStore *store;
	guint in_flight;      /* paused messages waiting on storage */
	GHashTable *idle;     /* (element-type GSocket RelayServerIdle): kept-alive connections */
	GHashTable *networks; /* (element-type utf8 RelayNetwork) */
	RelayInbox *inbox;    /* (nullable) */
	RelayDeliverer *deliverer;	/* (nullable): /metrics, the status page */
	RelayActorCache *cache;		/* (nullable): /metrics, the status page */
	RelayBlockPoller *block_poller; /* (nullable): /metrics */
	gint64 started_us;		/* wall clock */
	RelayRateLimit *rate_limit;	/* inbox POSTs per remote address */
	guint64 rate_limited;		/* POSTs answered 429 */
};

/* a paused request waiting for an answer from elsewhere; answered exactly once */
typedef struct {
	RelayServer *server;	/* (owned) */
	SoupServerMessage *msg; /* (owned) */
	GCancellable *cancellable;
	gulong finished_id;
	guint timeout_id;
	gboolean answered;
} RelayServerRequest;

RelayServerRequest *
relay_server_request_new(RelayServer *self, SoupServerMessage *msg);
void
relay_server_request_free(RelayServerRequest *request);
void
relay_server_request_answer(RelayServerRequest *request, guint status, JsonBuilder *builder);
void
relay_server_request_answer_bytes(RelayServerRequest *request,
				  guint status,
				  const gchar *content_type,
				  GBytes *body);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayServerRequest, relay_server_request_free)

void
relay_server_set_json(SoupServerMessage *msg, guint status, JsonBuilder *builder);
void
relay_server_set_error(SoupServerMessage *msg, guint status, const gchar *reason);
gboolean
relay_server_require_get(SoupServerMessage *msg);
void
relay_server_add_route(RelayServer *self, const gchar *path, SoupServerCallback callback);

/* relay-routes.c: ActivityPub actors and discovery */
void
relay_routes_register(RelayServer *self);

/* relay-status.c: the status page and its JSON twin */
void
relay_status_register(RelayServer *self);

G_END_DECLS
