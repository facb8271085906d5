/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* the network every node hosts, at the conventional /actor and /inbox URLs */
#define RELAY_CONFIG_DEFAULT_NETWORK "relay"

/* the table's group for the keys of every [network NAME] group */
#define RELAY_CONFIG_NETWORK_GROUP "network"

/**
 * RelayConfigType:
 * @RELAY_CONFIG_TYPE_STRING: any UTF-8 text (GKeyFile escapes apply)
 * @RELAY_CONFIG_TYPE_INT: a decimal integer between the row's min and max
 * @RELAY_CONFIG_TYPE_BOOLEAN: true/false, yes/no or 1/0, in any case
 * @RELAY_CONFIG_TYPE_ENUM: one of the row's allowed words
 * @RELAY_CONFIG_TYPE_STRING_LIST: items separated by commas, trimmed
 */
typedef enum {
	RELAY_CONFIG_TYPE_STRING,
	RELAY_CONFIG_TYPE_INT,
	RELAY_CONFIG_TYPE_BOOLEAN,
	RELAY_CONFIG_TYPE_ENUM,
	RELAY_CONFIG_TYPE_STRING_LIST,
} RelayConfigType;

/**
 * RelayConfigCheck:
 * @RELAY_CONFIG_CHECK_NONE: the type says it all
 * @RELAY_CONFIG_CHECK_URL: an http or https origin; stored without a trailing slash
 * @RELAY_CONFIG_CHECK_LISTEN: each item is ADDRESS:PORT, no duplicates, at least one
 * @RELAY_CONFIG_CHECK_PATH: a file name; a relative one is resolved against the directory of
 *	the configuration file
 * @RELAY_CONFIG_CHECK_ADDRESSES: each item is an IPv4 or IPv6 address
 * @RELAY_CONFIG_CHECK_OPTIONAL_PATH: as %RELAY_CONFIG_CHECK_PATH, or empty for none
 */
typedef enum {
	RELAY_CONFIG_CHECK_NONE,
	RELAY_CONFIG_CHECK_URL,
	RELAY_CONFIG_CHECK_LISTEN,
	RELAY_CONFIG_CHECK_PATH,
	RELAY_CONFIG_CHECK_ADDRESSES,
	RELAY_CONFIG_CHECK_OPTIONAL_PATH,
} RelayConfigCheck;

/**
 * RelayConfigKey:
 * @group: the group; %RELAY_CONFIG_NETWORK_GROUP stands for every `[network NAME]` group
 * @key: the key
 * @type: how the value is parsed
 * @default_value: (nullable): the default as it would be written in the file; %NULL marks a
 *	required key
 * @min: the smallest value of an int
 * @max: the largest value of an int
 * @allowed: (nullable): the allowed words of an enum, as a %NULL-terminated array
 * @meaning: what the key does, in one line
 * @check: extra validation on top of @type
 *
 * One row of the table of keys (see relay_config_key_at()). Defaults live only in this table.
 */
typedef struct {
	const gchar *group;
	const gchar *key;
	RelayConfigType type;
	const gchar *default_value;
	gint64 min;
	gint64 max;
	const gchar *const *(*allowed)(void);
	const gchar *meaning;
	RelayConfigCheck check;
} RelayConfigKey;

/**
 * RelayJoinPolicy:
 * @RELAY_JOIN_POLICY_OPEN: every Follow is accepted
 * @RELAY_JOIN_POLICY_APPROVAL: a Follow waits for the admin to approve or reject it
 * @RELAY_JOIN_POLICY_CLOSED: every Follow is rejected
 */
typedef enum {
	RELAY_JOIN_POLICY_OPEN,
	RELAY_JOIN_POLICY_APPROVAL,
	RELAY_JOIN_POLICY_CLOSED,
	RELAY_JOIN_POLICY_LAST,
} RelayJoinPolicy;

/* the configuration of one network, from its [network NAME] group or the defaults */
typedef struct {
	gchar *name;
	gchar *title;
	gchar *summary;
	gchar **rules;		 /* NULL-terminated, possibly empty: shown on the status page */
	gchar *contact;		 /* how to reach the admins; empty when not set */
	gboolean publish_blocks; /* its blocks are public at /networks/NAME/blocks */
	RelayJoinPolicy join;
	/* content filters (see relay-filter.c); NULL-terminated, possibly empty, lower case */
	gchar **hashtags;      /* without the leading '#' */
	gchar **languages;     /* BCP 47 tags as written, e.g. "en", "pt-br" */
	gchar **deny_keywords; /* words or phrases */
} RelayNetworkConfig;

const gchar *
relay_join_policy_to_string(RelayJoinPolicy join);
gboolean
relay_join_policy_from_string(const gchar *text, RelayJoinPolicy *out_join);

RelayNetworkConfig *
relay_network_config_copy(const RelayNetworkConfig *self);
void
relay_network_config_free(RelayNetworkConfig *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelayNetworkConfig, relay_network_config_free)

#define RELAY_TYPE_CONFIG (relay_config_get_type())
G_DECLARE_FINAL_TYPE(RelayConfig, relay_config, RELAY, CONFIG, GObject)

RelayConfig *
relay_config_new_from_file(const gchar *path,
			   GPtrArray **warnings,
			   GError **error) G_GNUC_WARN_UNUSED_RESULT;
RelayConfig *
relay_config_new_from_data(const gchar *data,
			   gssize length,
			   const gchar *path,
			   GPtrArray **warnings,
			   GError **error) G_GNUC_WARN_UNUSED_RESULT;

const gchar *
relay_config_get_path(RelayConfig *self);
const gchar *
relay_config_get_public_url(RelayConfig *self);
const gchar *const *
relay_config_get_listen(RelayConfig *self);
const gchar *
relay_config_get_storage_backend(RelayConfig *self);
const gchar *
relay_config_get_storage_path(RelayConfig *self);
const gchar *
relay_config_get_admin_socket(RelayConfig *self);
gboolean
relay_config_get_allow_private_addresses(RelayConfig *self);
gint64
relay_config_get_max_body_bytes(RelayConfig *self);
GLogLevelFlags
relay_config_get_log_level(RelayConfig *self);
GPtrArray *
relay_config_get_networks(RelayConfig *self);
const RelayNetworkConfig *
relay_config_get_network(RelayConfig *self, const gchar *name);

/* generic accessors; @group and @key must name a row of the table (or a [network NAME] group) */
const gchar *
relay_config_get_string(RelayConfig *self, const gchar *group, const gchar *key);
const gchar *const *
relay_config_get_string_list(RelayConfig *self, const gchar *group, const gchar *key);
gint64
relay_config_get_int(RelayConfig *self, const gchar *group, const gchar *key);
gboolean
relay_config_get_boolean(RelayConfig *self, const gchar *group, const gchar *key);

gchar *
relay_config_to_data(RelayConfig *self);

/* the table of keys, for `relay check-config` and the tests */
guint
relay_config_key_count(void);
const RelayConfigKey *
relay_config_key_at(guint index);
const RelayConfigKey *
relay_config_key_lookup(const gchar *group, const gchar *key);

/* the parts of one `listen` item; *out_address is %NULL for all addresses ("*" or 0.0.0.0) */
gboolean
relay_config_parse_listen(const gchar *item,
			  GInetAddress **out_address,
			  guint16 *out_port,
			  GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
