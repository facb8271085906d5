/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * The embedded default backend: one SQLite file in WAL mode, one connection serialised by a
 * mutex (SQLite writes are serial anyway), prepared statements cached for the life of the
 * connection. synchronous=FULL: a commit is on disk before a call reports success, so an inbox
 * POST answered 202 survives a power cut, not only a crash.
 *
 * Schema versions (PRAGMA user_version), each applied in its own transaction:
 *   1: networks, members, domain_policies, actors, keys, seen, activities, deliveries, counters
 *   2: members.software_name, software_version, nodeinfo_checked_at (what NodeInfo says)
 *   3: block_subscriptions, block_subscription_entries (other operators' block lists a network
 *      reads), domain_policies.subscription (the list that keeps a block; NULL: the operator's)
 *   4: members.follow_back_state (what became of our Follow: peers, LitePub follow-backs)
 */

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "relay-store-private.h"

#define RELAY_STORE_SQLITE_SCHEMA_VERSION 4

struct _RelayStoreSqlite {
	RelayStore parent_instance;
	GMutex mutex;
	sqlite3 *db;
	GHashTable *statements; /* (element-type utf8 sqlite3_stmt): SQL text -> statement */
};

G_DECLARE_FINAL_TYPE(RelayStoreSqlite, relay_store_sqlite, RELAY, STORE_SQLITE, RelayStore)
G_DEFINE_FINAL_TYPE(RelayStoreSqlite, relay_store_sqlite, RELAY_TYPE_STORE)

/* a cached statement borrowed for one use: the cleanup resets it, it is never finalized here */
typedef sqlite3_stmt RelaySqliteStmt;

static void
relay_sqlite_stmt_release(RelaySqliteStmt *stmt)
{
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RelaySqliteStmt, relay_sqlite_stmt_release)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sqlite3_stmt, sqlite3_finalize)

static gint
relay_store_sqlite_error_code(gint rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return RELAY_STORE_ERROR_BUSY;
	default:
		return RELAY_STORE_ERROR_FAILED;
	}
}

static void
relay_store_sqlite_set_error(RelayStoreSqlite *self, gint rc, GError **error)
{
	g_set_error(error,
		    RELAY_STORE_ERROR,
		    relay_store_sqlite_error_code(rc),
		    "%s: %s",
		    relay_store_get_location(RELAY_STORE(self)),
		    self->db != NULL ? sqlite3_errmsg(self->db) : sqlite3_errstr(rc));
}

static gboolean
relay_store_sqlite_exec(RelayStoreSqlite *self, const gchar *sql, GError **error)
{
	gint rc = sqlite3_exec(self->db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		relay_store_sqlite_set_error(self, rc, error);
		return FALSE;
	}
	return TRUE;
}

/* borrows the cached statement for @sql; call with the mutex held */
static RelaySqliteStmt *
relay_store_sqlite_prepare(RelayStoreSqlite *self, const gchar *sql, GError **error)
{
	sqlite3_stmt *stmt = g_hash_table_lookup(self->statements, sql);
	gint rc;

	if (stmt != NULL)
		return stmt;
	rc = sqlite3_prepare_v3(self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
	if (rc != SQLITE_OK) {
		relay_store_sqlite_set_error(self, rc, error);
		return NULL;
	}
	g_hash_table_insert(self->statements, (gpointer)sql, stmt);
	return stmt;
}

/* steps a statement that returns no row */
static gboolean
relay_store_sqlite_step_done(RelayStoreSqlite *self, sqlite3_stmt *stmt, GError **error)
{
	gint rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		relay_store_sqlite_set_error(self, rc, error);
		return FALSE;
	}
	return TRUE;
}

static void
bind_text(sqlite3_stmt *stmt, gint index, const gchar *text)
{
	if (text == NULL)
		sqlite3_bind_null(stmt, index);
	else
		sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
}

static gchar *
column_text(sqlite3_stmt *stmt, gint index)
{
	return g_strdup((const gchar *)sqlite3_column_text(stmt, index));
}

static gboolean
relay_store_sqlite_begin(RelayStoreSqlite *self, GError **error)
{
	return relay_store_sqlite_exec(self, "BEGIN IMMEDIATE", error);
}

static gboolean
relay_store_sqlite_commit(RelayStoreSqlite *self, GError **error)
{
	return relay_store_sqlite_exec(self, "COMMIT", error);
}

static void
relay_store_sqlite_rollback(RelayStoreSqlite *self)
{
	if (!sqlite3_get_autocommit(self->db))
		sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
	/* after a relaxed transaction (harmless after the others) */
	sqlite3_exec(self->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
}

/*
 * The delivery engine's bookkeeping (claims, outcomes, counters) commits without waiting for
 * the disk: in WAL mode with synchronous = NORMAL a commit survives the relay's own crash or
 * kill (the WAL is written, only not synced), and only a power loss or kernel crash can undo
 * the last ones, which at-least-once delivery absorbs: a claim undone is claimed again, an
 * outcome undone is a delivery made again or retried sooner. What the inbox accepts (the 202
 * promise), members and policies keep synchronous = FULL, which also syncs whatever relaxed
 * commits came before. Sparing a sync per claim and per settle lets the inbox's own commits
 * through sooner.
 */
static gboolean
relay_store_sqlite_begin_relaxed(RelayStoreSqlite *self, GError **error)
{
	return relay_store_sqlite_exec(self, "PRAGMA synchronous = NORMAL", error) &&
	       relay_store_sqlite_begin(self, error);
}

static gboolean
relay_store_sqlite_commit_relaxed(RelayStoreSqlite *self, GError **error)
{
	return relay_store_sqlite_commit(self, error) &&
	       relay_store_sqlite_exec(self, "PRAGMA synchronous = FULL", error);
}

/* schema migrations: one function per version, each run in its own transaction */

static gboolean
relay_store_sqlite_migrate_v1(RelayStoreSqlite *self, GError **error)
{
	return relay_store_sqlite_exec(
		self,
		"CREATE TABLE networks ("
		"  name TEXT PRIMARY KEY,"
		"  rsa_private_pem TEXT,"
		"  ed25519_private_pem TEXT,"
		"  created_at INTEGER NOT NULL);"
		"CREATE TABLE members ("
		"  network TEXT NOT NULL,"
		"  actor TEXT NOT NULL,"
		"  domain TEXT NOT NULL,"
		"  inbox TEXT NOT NULL,"
		"  shared_inbox TEXT,"
		"  protocol INTEGER NOT NULL,"
		"  state INTEGER NOT NULL,"
		"  direction INTEGER NOT NULL,"
		"  follow_id TEXT,"
		"  follow_back_id TEXT,"
		"  is_peer INTEGER NOT NULL DEFAULT 0,"
		"  created_at INTEGER NOT NULL,"
		"  last_seen_at INTEGER NOT NULL,"
		"  failure_count INTEGER NOT NULL DEFAULT 0,"
		"  PRIMARY KEY (network, actor));"
		"CREATE INDEX members_domain ON members (domain);"
		"CREATE TABLE domain_policies ("
		"  network TEXT NOT NULL," /* '' for the whole node */
		"  domain TEXT NOT NULL,"
		"  kind INTEGER NOT NULL,"
		"  reason TEXT,"
		"  source TEXT,"
		"  created_at INTEGER NOT NULL,"
		"  PRIMARY KEY (network, domain, kind));"
		"CREATE TABLE actors ("
		"  id TEXT PRIMARY KEY,"
		"  document TEXT,"
		"  gone INTEGER NOT NULL DEFAULT 0,"
		"  fetched_at INTEGER NOT NULL);"
		"CREATE TABLE keys ("
		"  id TEXT PRIMARY KEY,"
		"  owner TEXT NOT NULL,"
		"  public_key_pem TEXT NOT NULL,"
		"  fetched_at INTEGER NOT NULL);"
		"CREATE TABLE seen ("
		"  id TEXT PRIMARY KEY,"
		"  expires_at INTEGER NOT NULL) WITHOUT ROWID;"
		"CREATE INDEX seen_expires ON seen (expires_at);"
		"CREATE TABLE activities ("
		"  id INTEGER PRIMARY KEY,"
		"  network TEXT NOT NULL,"
		"  body BLOB NOT NULL,"
		"  created_at INTEGER NOT NULL);"
		/* a claimed row is not due until its lease ends: next_attempt_at holds the lease */
		"CREATE TABLE deliveries ("
		"  id INTEGER PRIMARY KEY,"
		"  activity_id INTEGER NOT NULL REFERENCES activities (id),"
		"  inbox TEXT NOT NULL,"
		"  host TEXT NOT NULL,"
		"  attempts INTEGER NOT NULL DEFAULT 0,"
		"  next_attempt_at INTEGER NOT NULL,"
		"  claimer TEXT,"
		"  created_at INTEGER NOT NULL);"
		"CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id);"
		"CREATE INDEX deliveries_activity ON deliveries (activity_id);"
		"CREATE INDEX deliveries_host ON deliveries (host);"
		"CREATE TABLE counters ("
		"  name TEXT PRIMARY KEY,"
		"  value INTEGER NOT NULL) WITHOUT ROWID;",
		error);
}

/* each member's software, from its NodeInfo; existing members are checked at the next round */
static gboolean
relay_store_sqlite_migrate_v2(RelayStoreSqlite *self, GError **error)
{
	return relay_store_sqlite_exec(
		self,
		"ALTER TABLE members ADD COLUMN software_name TEXT;"
		"ALTER TABLE members ADD COLUMN software_version TEXT;"
		"ALTER TABLE members ADD COLUMN nodeinfo_checked_at INTEGER NOT NULL DEFAULT 0;",
		error);
}

/* block lists other operators publish, which a network subscribes to */
static gboolean
relay_store_sqlite_migrate_v3(RelayStoreSqlite *self, GError **error)
{
	return relay_store_sqlite_exec(self,
				       "ALTER TABLE domain_policies ADD COLUMN subscription TEXT;"
				       "CREATE TABLE block_subscriptions ("
				       "  network TEXT NOT NULL,"
				       "  url TEXT NOT NULL,"
				       "  mode INTEGER NOT NULL,"
				       "  etag TEXT,"
				       "  created_at INTEGER NOT NULL,"
				       "  checked_at INTEGER NOT NULL DEFAULT 0,"
				       "  fetched_at INTEGER NOT NULL DEFAULT 0,"
				       "  last_error TEXT,"
				       "  count INTEGER NOT NULL DEFAULT -1,"
				       "  PRIMARY KEY (network, url));"
				       "CREATE TABLE block_subscription_entries ("
				       "  network TEXT NOT NULL,"
				       "  url TEXT NOT NULL,"
				       "  domain TEXT NOT NULL,"
				       "  reason TEXT,"
				       "  created_at INTEGER NOT NULL,"
				       "  PRIMARY KEY (network, url, domain));",
				       error);
}

/*
 * whether a remote network accepted our Follow (peering, relay-peers.c): 0 pending, 1 accepted,
 * 2 rejected (RelayMemberState); a LitePub member we follow back and have accepted has its
 * follow accepted, everyone else waits for an answer that is not needed
 */
static gboolean
relay_store_sqlite_migrate_v4(RelayStoreSqlite *self, GError **error)
{
	return relay_store_sqlite_exec(
		self,
		"ALTER TABLE members ADD COLUMN follow_back_state INTEGER NOT NULL DEFAULT 0;"
		"UPDATE members SET follow_back_state = 1 "
		"WHERE follow_back_id IS NOT NULL AND state = 1;",
		error);
}

static const struct {
	gint version;
	gboolean (*migrate)(RelayStoreSqlite *self, GError **error);
} migrations[] = {
	{1, relay_store_sqlite_migrate_v1},
	{2, relay_store_sqlite_migrate_v2},
	{3, relay_store_sqlite_migrate_v3},
	{4, relay_store_sqlite_migrate_v4},
};

static gboolean
relay_store_sqlite_has_table(RelayStoreSqlite *self, const gchar *name, GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = NULL;
	gint rc = sqlite3_prepare_v2(
		self->db,
		"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
		-1,
		&stmt,
		NULL);

	if (rc == SQLITE_OK) {
		bind_text(stmt, 1, name);
		rc = sqlite3_step(stmt);
	}
	if (rc != SQLITE_ROW) {
		relay_store_sqlite_set_error(self, rc, error);
		return FALSE;
	}
	return sqlite3_column_int(stmt, 0) > 0;
}

/*
 * Schemas 3 and 4 were made on parallel branches, and a build that had 4 without 3 took
 * databases to version 4 without 3's tables; migration 3 runs on those once, in its own
 * transaction. A database migrated in order has them and is left alone.
 */
static gboolean
relay_store_sqlite_repair_v3(RelayStoreSqlite *self, gint version_before, GError **error)
{
	g_autoptr(GError) error_local = NULL;

	if (version_before < 3)
		return TRUE;
	if (relay_store_sqlite_has_table(self, "block_subscriptions", &error_local))
		return TRUE;
	if (error_local != NULL) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return FALSE;
	}
	if (!relay_store_sqlite_begin(self, error))
		return FALSE;
	if (!relay_store_sqlite_migrate_v3(self, error) ||
	    !relay_store_sqlite_commit(self, error)) {
		relay_store_sqlite_rollback(self);
		g_prefix_error(
			error, "adding schema 3 to a database of schema %d: ", version_before);
		return FALSE;
	}
	g_message("%s: added the tables of schema 3 (block list subscriptions), which a build of "
		  "schema %d without them had left out",
		  relay_store_get_location(RELAY_STORE(self)),
		  version_before);
	return TRUE;
}

static gint
relay_store_sqlite_user_version(RelayStoreSqlite *self, GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = NULL;
	gint rc = sqlite3_prepare_v2(self->db, "PRAGMA user_version", -1, &stmt, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		relay_store_sqlite_set_error(self, rc, error);
		return -1;
	}
	return sqlite3_column_int(stmt, 0);
}

static gboolean
relay_store_sqlite_migrate(RelayStoreSqlite *self, GError **error)
{
	gint version = relay_store_sqlite_user_version(self, error);

	if (version < 0)
		return FALSE;
	if (version > RELAY_STORE_SQLITE_SCHEMA_VERSION) {
		g_set_error(error,
			    RELAY_STORE_ERROR,
			    RELAY_STORE_ERROR_TOO_NEW,
			    "%s: database schema version %d is newer than this relay supports "
			    "(%d); run a newer relay",
			    relay_store_get_location(RELAY_STORE(self)),
			    version,
			    RELAY_STORE_SQLITE_SCHEMA_VERSION);
		return FALSE;
	}
	for (guint i = 0; i < G_N_ELEMENTS(migrations); i++) {
		g_autofree gchar *set_version = NULL;

		if (migrations[i].version <= version)
			continue;
		if (!relay_store_sqlite_begin(self, error))
			return FALSE;
		set_version = g_strdup_printf("PRAGMA user_version = %d", migrations[i].version);
		if (!migrations[i].migrate(self, error) ||
		    !relay_store_sqlite_exec(self, set_version, error) ||
		    !relay_store_sqlite_commit(self, error)) {
			relay_store_sqlite_rollback(self);
			g_prefix_error(error, "migrating to schema %d: ", migrations[i].version);
			return FALSE;
		}
		g_debug("%s: migrated to schema version %d",
			relay_store_get_location(RELAY_STORE(self)),
			migrations[i].version);
	}
	return relay_store_sqlite_repair_v3(self, version, error);
}

static gboolean
relay_store_sqlite_open(RelayStore *store, GCancellable *cancellable, GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	const gchar *location = relay_store_get_location(store);
	g_autofree gchar *dir = NULL;
	gint rc;

	if (location == NULL || location[0] == '\0') {
		g_set_error_literal(error,
				    RELAY_STORE_ERROR,
				    RELAY_STORE_ERROR_INVALID,
				    "the sqlite backend needs a database path");
		return FALSE;
	}
	dir = g_path_get_dirname(location);
	if (g_mkdir_with_parents(dir, 0750) != 0) {
		gint errsv = errno;
		g_set_error(error,
			    RELAY_STORE_ERROR,
			    RELAY_STORE_ERROR_FAILED,
			    "%s: cannot create directory %s: %s",
			    location,
			    dir,
			    g_strerror(errsv));
		return FALSE;
	}
	rc = sqlite3_open_v2(location,
			     &self->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		g_set_error(error,
			    RELAY_STORE_ERROR,
			    RELAY_STORE_ERROR_FAILED,
			    "%s: cannot open database: %s",
			    location,
			    self->db != NULL ? sqlite3_errmsg(self->db) : sqlite3_errstr(rc));
		g_clear_pointer(&self->db, sqlite3_close);
		return FALSE;
	}
	sqlite3_extended_result_codes(self->db, 1);
	sqlite3_busy_timeout(self->db, 5000);
	if (!relay_store_sqlite_exec(self,
				     "PRAGMA journal_mode = WAL;"
				     "PRAGMA synchronous = FULL;"
				     "PRAGMA foreign_keys = ON;",
				     error) ||
	    !relay_store_sqlite_migrate(self, error)) {
		if (error != NULL && *error != NULL &&
		    !g_str_has_prefix((*error)->message, location))
			g_prefix_error(error, "%s: ", location);
		g_clear_pointer(&self->db, sqlite3_close);
		return FALSE;
	}
	return TRUE;
}

static void
relay_store_sqlite_close(RelayStore *store)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_mutex_lock(&self->mutex);
	g_hash_table_remove_all(self->statements);
	if (self->db != NULL) {
		/* fold the WAL back into the main file so the database is one file at rest */
		sqlite3_exec(self->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
		sqlite3_close(self->db);
		self->db = NULL;
	}
	g_mutex_unlock(&self->mutex);
}

static gboolean
relay_store_sqlite_ping(RelayStore *store, GCancellable *cancellable, GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt =
		relay_store_sqlite_prepare(self, "SELECT count(*) FROM networks", error);
	if (stmt == NULL)
		return FALSE;
	return relay_store_sqlite_step_done(self, stmt, error);
}

static gboolean
relay_store_sqlite_not_found(GError **error, const gchar *what, const gchar *id)
{
	g_set_error(error, RELAY_STORE_ERROR, RELAY_STORE_ERROR_NOT_FOUND, "no %s %s", what, id);
	return FALSE;
}

/* networks */

static gboolean
relay_store_sqlite_network_put(RelayStore *store,
			       const RelayNetworkRecord *network,
			       GCancellable *cancellable,
			       GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self,
		"INSERT INTO networks (name, rsa_private_pem, ed25519_private_pem, created_at) "
		"VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name) DO UPDATE SET "
		"rsa_private_pem = ?2, ed25519_private_pem = ?3, created_at = ?4",
		error);
	if (stmt == NULL)
		return FALSE;
	bind_text(stmt, 1, network->name);
	bind_text(stmt, 2, network->rsa_private_pem);
	bind_text(stmt, 3, network->ed25519_private_pem);
	sqlite3_bind_int64(stmt, 4, network->created_at_us);
	return relay_store_sqlite_step_done(self, stmt, error);
}

static gboolean
relay_store_sqlite_network_create(RelayStore *store,
				  const RelayNetworkRecord *network,
				  gboolean *out_created,
				  GCancellable *cancellable,
				  GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self,
		"INSERT INTO networks (name, rsa_private_pem, ed25519_private_pem, created_at) "
		"VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name) DO NOTHING",
		error);
	if (stmt == NULL)
		return FALSE;
	bind_text(stmt, 1, network->name);
	bind_text(stmt, 2, network->rsa_private_pem);
	bind_text(stmt, 3, network->ed25519_private_pem);
	sqlite3_bind_int64(stmt, 4, network->created_at_us);
	if (!relay_store_sqlite_step_done(self, stmt, error))
		return FALSE;
	if (out_created != NULL)
		*out_created = sqlite3_changes(self->db) > 0;
	return TRUE;
}

static RelayNetworkRecord *
network_from_row(sqlite3_stmt *stmt)
{
	RelayNetworkRecord *network = g_new0(RelayNetworkRecord, 1);
	network->name = column_text(stmt, 0);
	network->rsa_private_pem = column_text(stmt, 1);
	network->ed25519_private_pem = column_text(stmt, 2);
	network->created_at_us = sqlite3_column_int64(stmt, 3);
	return network;
}

#define NETWORK_COLUMNS "name, rsa_private_pem, ed25519_private_pem, created_at"

static RelayNetworkRecord *
relay_store_sqlite_network_get(RelayStore *store,
			       const gchar *name,
			       GCancellable *cancellable,
			       GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self, "SELECT " NETWORK_COLUMNS " FROM networks WHERE name = ?1", error);
	gint rc;

	if (stmt == NULL)
		return NULL;
	bind_text(stmt, 1, name);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		return network_from_row(stmt);
	if (rc != SQLITE_DONE) {
		relay_store_sqlite_set_error(self, rc, error);
		return NULL;
	}
	relay_store_sqlite_not_found(error, "network", name);
	return NULL;
}

/* runs a query and collects one record per row */
static GPtrArray *
relay_store_sqlite_collect(RelayStoreSqlite *self,
			   sqlite3_stmt *stmt,
			   gpointer (*from_row)(sqlite3_stmt *stmt),
			   GDestroyNotify free_func,
			   GError **error)
{
	g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(free_func);
	gint rc;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		g_ptr_array_add(rows, from_row(stmt));
	if (rc != SQLITE_DONE) {
		relay_store_sqlite_set_error(self, rc, error);
		return NULL;
	}
	return g_steal_pointer(&rows);
}

static GPtrArray *
relay_store_sqlite_network_list(RelayStore *store, GCancellable *cancellable, GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self, "SELECT " NETWORK_COLUMNS " FROM networks ORDER BY name", error);
	if (stmt == NULL)
		return NULL;
	return relay_store_sqlite_collect(self,
					  stmt,
					  (gpointer)network_from_row,
					  (GDestroyNotify)relay_network_record_free,
					  error);
}

/* members */

#define MEMBER_COLUMNS                                                                             \
	"network, actor, domain, inbox, shared_inbox, protocol, state, direction, follow_id, "     \
	"follow_back_id, is_peer, created_at, last_seen_at, failure_count, software_name, "        \
	"software_version, nodeinfo_checked_at, follow_back_state"

static RelayMember *
member_from_row(sqlite3_stmt *stmt)
{
	RelayMember *member = g_new0(RelayMember, 1);
	member->network = column_text(stmt, 0);
	member->actor = column_text(stmt, 1);
	member->domain = column_text(stmt, 2);
	member->inbox = column_text(stmt, 3);
	member->shared_inbox = column_text(stmt, 4);
	member->protocol = sqlite3_column_int(stmt, 5);
	member->state = sqlite3_column_int(stmt, 6);
	member->direction = sqlite3_column_int(stmt, 7);
	member->follow_id = column_text(stmt, 8);
	member->follow_back_id = column_text(stmt, 9);
	member->is_peer = sqlite3_column_int(stmt, 10) != 0;
	member->created_at_us = sqlite3_column_int64(stmt, 11);
	member->last_seen_us = sqlite3_column_int64(stmt, 12);
	member->failure_count = (guint)sqlite3_column_int64(stmt, 13);
	member->software_name = column_text(stmt, 14);
	member->software_version = column_text(stmt, 15);
	member->nodeinfo_checked_us = sqlite3_column_int64(stmt, 16);
	member->follow_back_state = sqlite3_column_int(stmt, 17);
	return member;
}

static gboolean
relay_store_sqlite_member_put(RelayStore *store,
			      const RelayMember *member,
			      GCancellable *cancellable,
			      GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self,
		/* an existing member keeps its NodeInfo columns: see relay_store_member_put() */
		"INSERT INTO members (" MEMBER_COLUMNS ") "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
		"?17, ?18) "
		"ON CONFLICT (network, actor) DO UPDATE SET domain = ?3, inbox = ?4, "
		"shared_inbox = ?5, protocol = ?6, state = ?7, direction = ?8, follow_id = ?9, "
		"follow_back_id = ?10, is_peer = ?11, created_at = ?12, last_seen_at = ?13, "
		"failure_count = ?14, follow_back_state = ?18",
		error);

	if (stmt == NULL)
		return FALSE;
	if (member->network == NULL || member->actor == NULL || member->inbox == NULL) {
		g_set_error_literal(error,
				    RELAY_STORE_ERROR,
				    RELAY_STORE_ERROR_INVALID,
				    "a member needs a network, an actor and an inbox");
		return FALSE;
	}
	bind_text(stmt, 1, member->network);
	bind_text(stmt, 2, member->actor);
	bind_text(stmt, 3, member->domain != NULL ? member->domain : "");
	bind_text(stmt, 4, member->inbox);
	bind_text(stmt, 5, member->shared_inbox);
	sqlite3_bind_int(stmt, 6, member->protocol);
	sqlite3_bind_int(stmt, 7, member->state);
	sqlite3_bind_int(stmt, 8, member->direction);
	bind_text(stmt, 9, member->follow_id);
	bind_text(stmt, 10, member->follow_back_id);
	sqlite3_bind_int(stmt, 11, member->is_peer ? 1 : 0);
	sqlite3_bind_int64(stmt, 12, member->created_at_us);
	sqlite3_bind_int64(stmt, 13, member->last_seen_us);
	sqlite3_bind_int64(stmt, 14, member->failure_count);
	bind_text(stmt, 15, member->software_name);
	bind_text(stmt, 16, member->software_version);
	sqlite3_bind_int64(stmt, 17, member->nodeinfo_checked_us);
	sqlite3_bind_int(stmt, 18, member->follow_back_state);
	return relay_store_sqlite_step_done(self, stmt, error);
}

static RelayMember *
relay_store_sqlite_member_get(RelayStore *store,
			      const gchar *network,
			      const gchar *actor,
			      GCancellable *cancellable,
			      GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self,
		"SELECT " MEMBER_COLUMNS " FROM members WHERE network = ?1 AND actor = ?2",
		error);
	gint rc;

	if (stmt == NULL)
		return NULL;
	bind_text(stmt, 1, network);
	bind_text(stmt, 2, actor);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		return member_from_row(stmt);
	if (rc != SQLITE_DONE) {
		relay_store_sqlite_set_error(self, rc, error);
		return NULL;
	}
	relay_store_sqlite_not_found(error, "member", actor);
	return NULL;
}

static gboolean
relay_store_sqlite_member_remove(RelayStore *store,
				 const gchar *network,
				 const gchar *actor,
				 GCancellable *cancellable,
				 GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self, "DELETE FROM members WHERE network = ?1 AND actor = ?2", error);

	if (stmt == NULL)
		return FALSE;
	bind_text(stmt, 1, network);
	bind_text(stmt, 2, actor);
	if (!relay_store_sqlite_step_done(self, stmt, error))
		return FALSE;
	if (sqlite3_changes(self->db) == 0)
		return relay_store_sqlite_not_found(error, "member", actor);
	return TRUE;
}

static GPtrArray *
relay_store_sqlite_member_list(RelayStore *store,
			       const gchar *network,
			       gint state,
			       GCancellable *cancellable,
			       GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self,
		"SELECT " MEMBER_COLUMNS " FROM members "
		"WHERE (?1 IS NULL OR network = ?1) AND (?2 < 0 OR state = ?2) "
		"ORDER BY network, actor",
		error);
	if (stmt == NULL)
		return NULL;
	bind_text(stmt, 1, network);
	sqlite3_bind_int(stmt, 2, state);
	return relay_store_sqlite_collect(
		self, stmt, (gpointer)member_from_row, (GDestroyNotify)relay_member_free, error);
}

static gboolean
relay_store_sqlite_member_software_put(RelayStore *store,
				       const gchar *domain,
				       const gchar *software_name,
				       const gchar *software_version,
				       gint64 checked_at_us,
				       guint *out_updated,
				       GCancellable *cancellable,
				       GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self,
		/* a failed check (no name) keeps what the last good one found */
		"UPDATE members SET nodeinfo_checked_at = ?4, "
		"software_name = CASE WHEN ?2 IS NULL THEN software_name ELSE ?2 END, "
		"software_version = CASE WHEN ?2 IS NULL THEN software_version ELSE ?3 END "
		"WHERE domain = ?1",
		error);

	if (stmt == NULL)
		return FALSE;
	bind_text(stmt, 1, domain);
	bind_text(stmt, 2, software_name);
	bind_text(stmt, 3, software_version);
	sqlite3_bind_int64(stmt, 4, checked_at_us);
	if (!relay_store_sqlite_step_done(self, stmt, error))
		return FALSE;
	if (out_updated != NULL)
		*out_updated = (guint)sqlite3_changes(self->db);
	return TRUE;
}

/* domain policies: the whole node is stored as network '' so the primary key holds */

static gboolean
relay_store_sqlite_policy_put(RelayStore *store,
			      const RelayDomainPolicy *policy,
			      GCancellable *cancellable,
			      GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self,
		"INSERT OR REPLACE INTO domain_policies (network, domain, kind, reason, source, "
		"created_at, subscription) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
		error);

	if (stmt == NULL)
		return FALSE;
	bind_text(stmt, 1, policy->network != NULL ? policy->network : "");
	bind_text(stmt, 2, policy->domain);
	sqlite3_bind_int(stmt, 3, policy->kind);
	bind_text(stmt, 4, policy->reason);
	bind_text(stmt, 5, policy->source);
	sqlite3_bind_int64(stmt, 6, policy->created_at_us);
	bind_text(stmt, 7, policy->subscription);
	return relay_store_sqlite_step_done(self, stmt, error);
}

static gboolean
relay_store_sqlite_policy_remove(RelayStore *store,
				 const gchar *network,
				 const gchar *domain,
				 RelayPolicyKind kind,
				 GCancellable *cancellable,
				 GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self,
		"DELETE FROM domain_policies WHERE network = ?1 AND domain = ?2 AND kind = ?3",
		error);

	if (stmt == NULL)
		return FALSE;
	bind_text(stmt, 1, network != NULL ? network : "");
	bind_text(stmt, 2, domain);
	sqlite3_bind_int(stmt, 3, kind);
	if (!relay_store_sqlite_step_done(self, stmt, error))
		return FALSE;
	if (sqlite3_changes(self->db) == 0)
		return relay_store_sqlite_not_found(error, "domain policy for", domain);
	return TRUE;
}

static RelayDomainPolicy *
policy_from_row(sqlite3_stmt *stmt)
{
	RelayDomainPolicy *policy = g_new0(RelayDomainPolicy, 1);
	const gchar *network = (const gchar *)sqlite3_column_text(stmt, 0);
	policy->network = network != NULL && network[0] != '\0' ? g_strdup(network) : NULL;
	policy->domain = column_text(stmt, 1);
	policy->kind = sqlite3_column_int(stmt, 2);
	policy->reason = column_text(stmt, 3);
	policy->source = column_text(stmt, 4);
	policy->created_at_us = sqlite3_column_int64(stmt, 5);
	policy->subscription = column_text(stmt, 6);
	return policy;
}

static GPtrArray *
relay_store_sqlite_policy_list(RelayStore *store, GCancellable *cancellable, GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self,
		"SELECT network, domain, kind, reason, source, created_at, subscription "
		"FROM domain_policies ORDER BY network, domain, kind",
		error);
	if (stmt == NULL)
		return NULL;
	return relay_store_sqlite_collect(self,
					  stmt,
					  (gpointer)policy_from_row,
					  (GDestroyNotify)relay_domain_policy_free,
					  error);
}

/* block list subscriptions */

/* runs @sql, a statement on one subscription's rows (?1 network, ?2 url); call with the mutex
 * held */
static gboolean
relay_store_sqlite_subscription_rows(RelayStoreSqlite *self,
				     const gchar *sql,
				     const gchar *network,
				     const gchar *url,
				     gint *out_changes,
				     GError **error)
{
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(self, sql, error);

	if (stmt == NULL)
		return FALSE;
	bind_text(stmt, 1, network);
	bind_text(stmt, 2, url);
	if (!relay_store_sqlite_step_done(self, stmt, error))
		return FALSE;
	if (out_changes != NULL)
		*out_changes = sqlite3_changes(self->db);
	return TRUE;
}

static gboolean
relay_store_sqlite_block_subscription_write(RelayStoreSqlite *self,
					    const RelayBlockSubscription *subscription,
					    GPtrArray *entries,
					    GError **error)
{
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self,
		"INSERT OR REPLACE INTO block_subscriptions (network, url, mode, etag, created_at, "
		"checked_at, fetched_at, last_error, count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
		"?8, "
		"?9)",
		error);

	if (stmt == NULL)
		return FALSE;
	bind_text(stmt, 1, subscription->network);
	bind_text(stmt, 2, subscription->url);
	sqlite3_bind_int(stmt, 3, subscription->mode);
	bind_text(stmt, 4, subscription->etag);
	sqlite3_bind_int64(stmt, 5, subscription->created_at_us);
	sqlite3_bind_int64(stmt, 6, subscription->checked_at_us);
	sqlite3_bind_int64(stmt, 7, subscription->fetched_at_us);
	bind_text(stmt, 8, subscription->last_error);
	sqlite3_bind_int64(stmt, 9, subscription->count);
	if (!relay_store_sqlite_step_done(self, stmt, error))
		return FALSE;
	if (entries == NULL)
		return TRUE;
	if (!relay_store_sqlite_subscription_rows(
		    self,
		    "DELETE FROM block_subscription_entries WHERE network = ?1 AND url = ?2",
		    subscription->network,
		    subscription->url,
		    NULL,
		    error))
		return FALSE;
	for (guint i = 0; i < entries->len; i++) {
		const RelayDomainPolicy *entry = g_ptr_array_index(entries, i);
		g_autoptr(RelaySqliteStmt) insert = relay_store_sqlite_prepare(
			self,
			"INSERT OR REPLACE INTO block_subscription_entries (network, url, domain, "
			"reason, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
			error);
		if (insert == NULL)
			return FALSE;
		bind_text(insert, 1, subscription->network);
		bind_text(insert, 2, subscription->url);
		bind_text(insert, 3, entry->domain);
		bind_text(insert, 4, entry->reason);
		sqlite3_bind_int64(insert, 5, entry->created_at_us);
		if (!relay_store_sqlite_step_done(self, insert, error))
			return FALSE;
	}
	return TRUE;
}

static gboolean
relay_store_sqlite_block_subscription_put(RelayStore *store,
					  const RelayBlockSubscription *subscription,
					  GPtrArray *entries,
					  GCancellable *cancellable,
					  GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);

	if (subscription == NULL || subscription->network == NULL || subscription->url == NULL) {
		g_set_error_literal(error,
				    RELAY_STORE_ERROR,
				    RELAY_STORE_ERROR_INVALID,
				    "a block list subscription needs a network and a URL");
		return FALSE;
	}
	if (!relay_store_sqlite_begin(self, error))
		return FALSE;
	if (!relay_store_sqlite_block_subscription_write(self, subscription, entries, error) ||
	    !relay_store_sqlite_commit(self, error)) {
		relay_store_sqlite_rollback(self);
		return FALSE;
	}
	return TRUE;
}

static gboolean
relay_store_sqlite_block_subscription_remove(RelayStore *store,
					     const gchar *network,
					     const gchar *url,
					     GCancellable *cancellable,
					     GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	gint changes = 0;

	if (!relay_store_sqlite_begin(self, error))
		return FALSE;
	if (!relay_store_sqlite_subscription_rows(
		    self,
		    "DELETE FROM block_subscriptions WHERE network = ?1 AND url = ?2",
		    network,
		    url,
		    &changes,
		    error) ||
	    !relay_store_sqlite_subscription_rows(
		    self,
		    "DELETE FROM block_subscription_entries WHERE network = ?1 AND url = ?2",
		    network,
		    url,
		    NULL,
		    error) ||
	    !relay_store_sqlite_commit(self, error)) {
		relay_store_sqlite_rollback(self);
		return FALSE;
	}
	if (changes == 0)
		return relay_store_sqlite_not_found(error, "block list subscription", url);
	return TRUE;
}

static RelayBlockSubscription *
block_subscription_from_row(sqlite3_stmt *stmt)
{
	RelayBlockSubscription *subscription = g_new0(RelayBlockSubscription, 1);
	subscription->network = column_text(stmt, 0);
	subscription->url = column_text(stmt, 1);
	subscription->mode = sqlite3_column_int(stmt, 2);
	subscription->etag = column_text(stmt, 3);
	subscription->created_at_us = sqlite3_column_int64(stmt, 4);
	subscription->checked_at_us = sqlite3_column_int64(stmt, 5);
	subscription->fetched_at_us = sqlite3_column_int64(stmt, 6);
	subscription->last_error = column_text(stmt, 7);
	subscription->count = sqlite3_column_int64(stmt, 8);
	return subscription;
}

static GPtrArray *
relay_store_sqlite_block_subscription_list(RelayStore *store,
					   GCancellable *cancellable,
					   GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self,
		"SELECT network, url, mode, etag, created_at, checked_at, fetched_at, last_error, "
		"count FROM block_subscriptions ORDER BY network, url",
		error);
	if (stmt == NULL)
		return NULL;
	return relay_store_sqlite_collect(self,
					  stmt,
					  (gpointer)block_subscription_from_row,
					  (GDestroyNotify)relay_block_subscription_free,
					  error);
}

static RelayDomainPolicy *
block_subscription_entry_from_row(sqlite3_stmt *stmt)
{
	RelayDomainPolicy *entry = g_new0(RelayDomainPolicy, 1);
	entry->network = column_text(stmt, 0);
	entry->subscription = column_text(stmt, 1);
	entry->domain = column_text(stmt, 2);
	entry->reason = column_text(stmt, 3);
	entry->created_at_us = sqlite3_column_int64(stmt, 4);
	entry->kind = RELAY_POLICY_KIND_BLOCK;
	return entry;
}

static GPtrArray *
relay_store_sqlite_block_subscription_entries(RelayStore *store,
					      const gchar *network,
					      GCancellable *cancellable,
					      GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self,
		"SELECT network, url, domain, reason, created_at FROM block_subscription_entries "
		"WHERE ?1 IS NULL OR network = ?1 ORDER BY network, url, domain",
		error);
	if (stmt == NULL)
		return NULL;
	bind_text(stmt, 1, network);
	return relay_store_sqlite_collect(self,
					  stmt,
					  (gpointer)block_subscription_entry_from_row,
					  (GDestroyNotify)relay_domain_policy_free,
					  error);
}

/* remote actor and key cache */

static gboolean
relay_store_sqlite_actor_put(RelayStore *store,
			     const RelayCachedActor *actor,
			     GCancellable *cancellable,
			     GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt =
		relay_store_sqlite_prepare(self,
					   "INSERT OR REPLACE INTO actors (id, document, gone, "
					   "fetched_at) VALUES (?1, ?2, ?3, ?4)",
					   error);

	if (stmt == NULL)
		return FALSE;
	bind_text(stmt, 1, actor->id);
	bind_text(stmt, 2, actor->document);
	sqlite3_bind_int(stmt, 3, actor->gone ? 1 : 0);
	sqlite3_bind_int64(stmt, 4, actor->fetched_at_us);
	return relay_store_sqlite_step_done(self, stmt, error);
}

static RelayCachedActor *
relay_store_sqlite_actor_get(RelayStore *store,
			     const gchar *id,
			     GCancellable *cancellable,
			     GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self, "SELECT id, document, gone, fetched_at FROM actors WHERE id = ?1", error);
	RelayCachedActor *actor;
	gint rc;

	if (stmt == NULL)
		return NULL;
	bind_text(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		relay_store_sqlite_not_found(error, "cached actor", id);
		return NULL;
	}
	if (rc != SQLITE_ROW) {
		relay_store_sqlite_set_error(self, rc, error);
		return NULL;
	}
	actor = g_new0(RelayCachedActor, 1);
	actor->id = column_text(stmt, 0);
	actor->document = column_text(stmt, 1);
	actor->gone = sqlite3_column_int(stmt, 2) != 0;
	actor->fetched_at_us = sqlite3_column_int64(stmt, 3);
	return actor;
}

static gboolean
relay_store_sqlite_key_put(RelayStore *store,
			   const RelayCachedKey *key,
			   GCancellable *cancellable,
			   GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self,
		"INSERT OR REPLACE INTO keys (id, owner, public_key_pem, fetched_at) "
		"VALUES (?1, ?2, ?3, ?4)",
		error);

	if (stmt == NULL)
		return FALSE;
	bind_text(stmt, 1, key->id);
	bind_text(stmt, 2, key->owner);
	bind_text(stmt, 3, key->public_key_pem);
	sqlite3_bind_int64(stmt, 4, key->fetched_at_us);
	return relay_store_sqlite_step_done(self, stmt, error);
}

static RelayCachedKey *
relay_store_sqlite_key_get(RelayStore *store,
			   const gchar *id,
			   GCancellable *cancellable,
			   GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self,
		"SELECT id, owner, public_key_pem, fetched_at FROM keys WHERE id = ?1",
		error);
	RelayCachedKey *key;
	gint rc;

	if (stmt == NULL)
		return NULL;
	bind_text(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		relay_store_sqlite_not_found(error, "cached key", id);
		return NULL;
	}
	if (rc != SQLITE_ROW) {
		relay_store_sqlite_set_error(self, rc, error);
		return NULL;
	}
	key = g_new0(RelayCachedKey, 1);
	key->id = column_text(stmt, 0);
	key->owner = column_text(stmt, 1);
	key->public_key_pem = column_text(stmt, 2);
	key->fetched_at_us = sqlite3_column_int64(stmt, 3);
	return key;
}

/* seen-set; call with the mutex held */

static gboolean
relay_store_sqlite_seen_lookup(
	RelayStoreSqlite *self, const gchar *id, gint64 now_us, gboolean *out_seen, GError **error)
{
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self, "SELECT 1 FROM seen WHERE id = ?1 AND expires_at > ?2", error);
	gint rc;

	if (stmt == NULL)
		return FALSE;
	bind_text(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, now_us);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		relay_store_sqlite_set_error(self, rc, error);
		return FALSE;
	}
	*out_seen = rc == SQLITE_ROW;
	return TRUE;
}

/* a new entry (or one that had expired) takes @expires_us; a live one keeps the later expiry */
static gboolean
relay_store_sqlite_seen_insert(RelayStoreSqlite *self,
			       const gchar *id,
			       gint64 expires_us,
			       gboolean replace,
			       GError **error)
{
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self,
		replace ? "INSERT OR REPLACE INTO seen (id, expires_at) VALUES (?1, ?2)"
			: "INSERT INTO seen (id, expires_at) VALUES (?1, ?2) ON CONFLICT (id) DO "
			  "UPDATE SET expires_at = max(expires_at, excluded.expires_at)",
		error);

	if (stmt == NULL)
		return FALSE;
	bind_text(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, expires_us);
	return relay_store_sqlite_step_done(self, stmt, error);
}

static gboolean
relay_store_sqlite_seen_add(RelayStore *store,
			    const gchar *id,
			    gint64 now_us,
			    gint64 expires_us,
			    gboolean *out_new,
			    GCancellable *cancellable,
			    GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	gboolean seen = FALSE;

	if (!relay_store_sqlite_begin(self, error))
		return FALSE;
	if (!relay_store_sqlite_seen_lookup(self, id, now_us, &seen, error) ||
	    !relay_store_sqlite_seen_insert(self, id, expires_us, !seen, error) ||
	    !relay_store_sqlite_commit(self, error)) {
		relay_store_sqlite_rollback(self);
		return FALSE;
	}
	if (out_new != NULL)
		*out_new = !seen;
	return TRUE;
}

static gboolean
relay_store_sqlite_seen_contains(RelayStore *store,
				 const gchar *id,
				 gint64 now_us,
				 gboolean *out_seen,
				 GCancellable *cancellable,
				 GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	return relay_store_sqlite_seen_lookup(self, id, now_us, out_seen, error);
}

static gboolean
relay_store_sqlite_seen_expire(RelayStore *store,
			       gint64 now_us,
			       guint64 *out_removed,
			       GCancellable *cancellable,
			       GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt =
		relay_store_sqlite_prepare(self, "DELETE FROM seen WHERE expires_at <= ?1", error);

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, now_us);
	if (!relay_store_sqlite_step_done(self, stmt, error))
		return FALSE;
	if (out_removed != NULL)
		*out_removed = (guint64)sqlite3_changes64(self->db);
	return TRUE;
}

/* delivery queue */

/* call inside a transaction with the mutex held */
static gboolean
relay_store_sqlite_enqueue_one(RelayStoreSqlite *self,
			       RelayFanout *fanout,
			       gint64 now_us,
			       GError **error)
{
	gint64 activity_id;

	fanout->duplicate = FALSE;
	for (guint i = 0; i < fanout->seen_ids->len; i++) {
		gboolean seen = FALSE;
		if (!relay_store_sqlite_seen_lookup(
			    self, g_ptr_array_index(fanout->seen_ids, i), now_us, &seen, error))
			return FALSE;
		if (seen) {
			fanout->duplicate = TRUE;
			return TRUE;
		}
	}
	for (guint i = 0; i < fanout->seen_ids->len; i++) {
		if (!relay_store_sqlite_seen_insert(self,
						    g_ptr_array_index(fanout->seen_ids, i),
						    fanout->seen_expires_us,
						    TRUE,
						    error))
			return FALSE;
	}
	if (fanout->inboxes->len == 0)
		return TRUE;

	{
		g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
			self,
			"INSERT INTO activities (network, body, created_at) VALUES (?1, ?2, ?3)",
			error);
		gsize body_size = 0;
		gconstpointer body = g_bytes_get_data(fanout->body, &body_size);

		if (stmt == NULL)
			return FALSE;
		bind_text(stmt, 1, fanout->network);
		sqlite3_bind_blob64(stmt, 2, body != NULL ? body : "", body_size, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 3, now_us);
		if (!relay_store_sqlite_step_done(self, stmt, error))
			return FALSE;
		activity_id = sqlite3_last_insert_rowid(self->db);
	}
	for (guint i = 0; i < fanout->inboxes->len; i++) {
		const gchar *inbox = g_ptr_array_index(fanout->inboxes, i);
		g_autofree gchar *host = relay_store_host_of_url(inbox);
		g_autoptr(RelaySqliteStmt) stmt =
			relay_store_sqlite_prepare(self,
						   "INSERT INTO deliveries (activity_id, inbox, "
						   "host, next_attempt_at, created_at) "
						   "VALUES (?1, ?2, ?3, ?4, ?5)",
						   error);

		if (stmt == NULL)
			return FALSE;
		sqlite3_bind_int64(stmt, 1, activity_id);
		bind_text(stmt, 2, inbox);
		bind_text(stmt, 3, host != NULL ? host : "");
		sqlite3_bind_int64(stmt, 4, relay_fanout_due_us(fanout, host, now_us));
		sqlite3_bind_int64(stmt, 5, now_us);
		if (!relay_store_sqlite_step_done(self, stmt, error))
			return FALSE;
	}
	return TRUE;
}

static gboolean
relay_store_sqlite_fanouts_valid(GPtrArray *fanouts, GError **error)
{
	for (guint i = 0; i < fanouts->len; i++) {
		RelayFanout *fanout = g_ptr_array_index(fanouts, i);
		if (fanout == NULL || fanout->network == NULL || fanout->body == NULL) {
			g_set_error_literal(error,
					    RELAY_STORE_ERROR,
					    RELAY_STORE_ERROR_INVALID,
					    "a fan-out needs a network and a body");
			return FALSE;
		}
		for (guint j = 0; j < fanout->inboxes->len; j++) {
			if (g_ptr_array_index(fanout->inboxes, j) == NULL) {
				g_set_error_literal(error,
						    RELAY_STORE_ERROR,
						    RELAY_STORE_ERROR_INVALID,
						    "a fan-out has no inbox");
				return FALSE;
			}
		}
	}
	return TRUE;
}

static gboolean
relay_store_sqlite_delivery_enqueue(RelayStore *store,
				    GPtrArray *fanouts,
				    gint64 now_us,
				    GCancellable *cancellable,
				    GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);

	if (!relay_store_sqlite_fanouts_valid(fanouts, error))
		return FALSE;
	if (!relay_store_sqlite_begin(self, error))
		return FALSE;
	for (guint i = 0; i < fanouts->len; i++) {
		if (!relay_store_sqlite_enqueue_one(
			    self, g_ptr_array_index(fanouts, i), now_us, error)) {
			relay_store_sqlite_rollback(self);
			return FALSE;
		}
	}
	if (!relay_store_sqlite_commit(self, error)) {
		relay_store_sqlite_rollback(self);
		return FALSE;
	}
	return TRUE;
}

/* loads the body of an activity, once per claim; call with the mutex held */
static GBytes *
relay_store_sqlite_activity_body(RelayStoreSqlite *self,
				 gint64 activity_id,
				 gchar **out_network,
				 GError **error)
{
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self, "SELECT network, body FROM activities WHERE id = ?1", error);
	gint rc;

	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, activity_id);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			g_set_error(error,
				    RELAY_STORE_ERROR,
				    RELAY_STORE_ERROR_FAILED,
				    "queued activity %" G_GINT64_FORMAT " has no body",
				    activity_id);
		else
			relay_store_sqlite_set_error(self, rc, error);
		return NULL;
	}
	*out_network = column_text(stmt, 0);
	return g_bytes_new(sqlite3_column_blob(stmt, 1), (gsize)sqlite3_column_bytes(stmt, 1));
}

typedef struct {
	GBytes *body;
	gchar *network;
} RelaySqliteBody;

static void
relay_sqlite_body_free(RelaySqliteBody *body)
{
	g_bytes_unref(body->body);
	g_free(body->network);
	g_free(body);
}

static GPtrArray *
relay_store_sqlite_claim_locked(RelayStoreSqlite *self,
				gint64 now_us,
				guint limit,
				gint64 lease_us,
				const gchar *claimer,
				GError **error)
{
	g_autoptr(GPtrArray) claimed =
		g_ptr_array_new_with_free_func((GDestroyNotify)relay_delivery_free);
	g_autoptr(GHashTable) bodies = g_hash_table_new_full(
		g_int64_hash, g_int64_equal, g_free, (GDestroyNotify)relay_sqlite_body_free);
	g_autoptr(RelaySqliteStmt) select = relay_store_sqlite_prepare(
		self,
		"SELECT id, activity_id, inbox, attempts, created_at FROM deliveries "
		"WHERE next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?2",
		error);
	g_autoptr(RelaySqliteStmt) update = NULL;
	gint rc;

	if (select == NULL)
		return NULL;
	sqlite3_bind_int64(select, 1, now_us);
	sqlite3_bind_int64(select, 2, limit);
	while ((rc = sqlite3_step(select)) == SQLITE_ROW) {
		gint64 activity_id = sqlite3_column_int64(select, 1);
		RelaySqliteBody *body = g_hash_table_lookup(bodies, &activity_id);
		RelayDelivery *delivery;

		if (body == NULL) {
			body = g_new0(RelaySqliteBody, 1);
			body->body = relay_store_sqlite_activity_body(
				self, activity_id, &body->network, error);
			if (body->body == NULL) {
				g_free(body);
				return NULL;
			}
			g_hash_table_insert(bodies, g_memdup2(&activity_id, sizeof(gint64)), body);
		}
		delivery = relay_delivery_new(sqlite3_column_int64(select, 0),
					      body->network,
					      (const gchar *)sqlite3_column_text(select, 2),
					      body->body);
		delivery->activity_id = activity_id;
		delivery->attempts = (guint)sqlite3_column_int64(select, 3);
		delivery->created_at_us = sqlite3_column_int64(select, 4);
		g_ptr_array_add(claimed, delivery);
	}
	if (rc != SQLITE_DONE) {
		relay_store_sqlite_set_error(self, rc, error);
		return NULL;
	}
	update = relay_store_sqlite_prepare(
		self,
		"UPDATE deliveries SET next_attempt_at = ?1, claimer = ?2 WHERE id = ?3",
		error);
	if (update == NULL)
		return NULL;
	for (guint i = 0; i < claimed->len; i++) {
		RelayDelivery *delivery = g_ptr_array_index(claimed, i);
		sqlite3_bind_int64(update, 1, now_us + lease_us);
		bind_text(update, 2, claimer != NULL ? claimer : "");
		sqlite3_bind_int64(update, 3, delivery->id);
		if (!relay_store_sqlite_step_done(self, update, error))
			return NULL;
		sqlite3_reset(update);
	}
	return g_steal_pointer(&claimed);
}

static GPtrArray *
relay_store_sqlite_delivery_claim(RelayStore *store,
				  gint64 now_us,
				  guint limit,
				  gint64 lease_us,
				  const gchar *claimer,
				  GCancellable *cancellable,
				  GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(GPtrArray) claimed = NULL;

	if (!relay_store_sqlite_begin_relaxed(self, error)) {
		relay_store_sqlite_rollback(self);
		return NULL;
	}
	claimed = relay_store_sqlite_claim_locked(self, now_us, limit, lease_us, claimer, error);
	if (claimed == NULL || !relay_store_sqlite_commit_relaxed(self, error)) {
		relay_store_sqlite_rollback(self);
		return NULL;
	}
	return g_steal_pointer(&claimed);
}

static gboolean
relay_store_sqlite_settle_locked(RelayStoreSqlite *self, GArray *results, GError **error)
{
	g_autoptr(GHashTable) activities =
		g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	g_autoptr(RelaySqliteStmt) retry =
		relay_store_sqlite_prepare(self,
					   "UPDATE deliveries SET next_attempt_at = ?1, attempts = "
					   "attempts + 1, claimer = NULL "
					   "WHERE id = ?2",
					   error);
	g_autoptr(RelaySqliteStmt) drop = NULL;
	g_autoptr(RelaySqliteStmt) collect = NULL;
	GHashTableIter iter;
	gpointer key;

	if (retry == NULL)
		return FALSE;
	drop = relay_store_sqlite_prepare(
		self, "DELETE FROM deliveries WHERE id = ?1 RETURNING activity_id", error);
	if (drop == NULL)
		return FALSE;
	for (guint i = 0; i < results->len; i++) {
		RelayDeliveryResult *result = &g_array_index(results, RelayDeliveryResult, i);
		gint rc;

		if (result->outcome == RELAY_DELIVERY_OUTCOME_RETRY) {
			sqlite3_bind_int64(retry, 1, result->retry_at_us);
			sqlite3_bind_int64(retry, 2, result->id);
			if (!relay_store_sqlite_step_done(self, retry, error))
				return FALSE;
			sqlite3_reset(retry);
			continue;
		}
		sqlite3_bind_int64(drop, 1, result->id);
		rc = sqlite3_step(drop);
		if (rc == SQLITE_ROW) {
			gint64 activity_id = sqlite3_column_int64(drop, 0);
			g_hash_table_add(activities, g_memdup2(&activity_id, sizeof(gint64)));
			rc = sqlite3_step(drop);
		}
		if (rc != SQLITE_DONE) {
			relay_store_sqlite_set_error(self, rc, error);
			return FALSE;
		}
		sqlite3_reset(drop);
	}

	/* drop the bodies no row refers to any more */
	collect = relay_store_sqlite_prepare(
		self,
		"DELETE FROM activities WHERE id = ?1 AND "
		"NOT EXISTS (SELECT 1 FROM deliveries WHERE activity_id = ?1)",
		error);
	if (collect == NULL)
		return FALSE;
	g_hash_table_iter_init(&iter, activities);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		sqlite3_bind_int64(collect, 1, *(gint64 *)key);
		if (!relay_store_sqlite_step_done(self, collect, error))
			return FALSE;
		sqlite3_reset(collect);
	}
	return TRUE;
}

static gboolean
relay_store_sqlite_delivery_settle(RelayStore *store,
				   GArray *results,
				   GCancellable *cancellable,
				   GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);

	for (guint i = 0; i < results->len; i++) {
		if (g_array_index(results, RelayDeliveryResult, i).outcome >=
		    RELAY_DELIVERY_OUTCOME_LAST) {
			g_set_error_literal(error,
					    RELAY_STORE_ERROR,
					    RELAY_STORE_ERROR_INVALID,
					    "unknown delivery outcome");
			return FALSE;
		}
	}
	if (results->len == 0)
		return TRUE;
	if (!relay_store_sqlite_begin_relaxed(self, error)) {
		relay_store_sqlite_rollback(self);
		return FALSE;
	}
	if (!relay_store_sqlite_settle_locked(self, results, error) ||
	    !relay_store_sqlite_commit_relaxed(self, error)) {
		relay_store_sqlite_rollback(self);
		return FALSE;
	}
	return TRUE;
}

static gboolean
relay_store_sqlite_delivery_release(RelayStore *store,
				    const gchar *claimer,
				    gint64 now_us,
				    guint64 *out_released,
				    GCancellable *cancellable,
				    GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self,
		"UPDATE deliveries SET next_attempt_at = ?1, claimer = NULL "
		"WHERE claimer IS NOT NULL AND (?2 IS NULL OR claimer = ?2)",
		error);

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, now_us);
	bind_text(stmt, 2, claimer);
	if (!relay_store_sqlite_step_done(self, stmt, error))
		return FALSE;
	if (out_released != NULL)
		*out_released = (guint64)sqlite3_changes64(self->db);
	return TRUE;
}

static gboolean
relay_store_sqlite_delivery_stats(RelayStore *store,
				  RelayQueueStats *stats,
				  GCancellable *cancellable,
				  GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self,
		"SELECT (SELECT count(*) FROM deliveries), "
		"(SELECT count(*) FROM deliveries WHERE claimer IS NOT NULL), "
		"(SELECT count(*) FROM activities), "
		"(SELECT created_at FROM deliveries ORDER BY id LIMIT 1)",
		error);
	gint rc;

	if (stmt == NULL)
		return FALSE;
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		relay_store_sqlite_set_error(self, rc, error);
		return FALSE;
	}
	stats->queued = (guint64)sqlite3_column_int64(stmt, 0);
	stats->claimed = (guint64)sqlite3_column_int64(stmt, 1);
	stats->activities = (guint64)sqlite3_column_int64(stmt, 2);
	stats->oldest_created_us = sqlite3_column_int64(stmt, 3);
	return TRUE;
}

static RelayHostQueueStats *
host_stats_from_row(sqlite3_stmt *stmt)
{
	RelayHostQueueStats *stats =
		relay_host_queue_stats_new((const gchar *)sqlite3_column_text(stmt, 0));
	stats->queued = (guint64)sqlite3_column_int64(stmt, 1);
	stats->retrying = (guint64)sqlite3_column_int64(stmt, 2);
	stats->max_attempts = (guint)sqlite3_column_int64(stmt, 3);
	stats->oldest_created_us = sqlite3_column_int64(stmt, 4);
	return stats;
}

static GPtrArray *
relay_store_sqlite_delivery_hosts(RelayStore *store, GCancellable *cancellable, GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self,
		"SELECT host, count(*), sum(attempts > 0), max(attempts), min(created_at) "
		"FROM deliveries GROUP BY host ORDER BY host",
		error);
	if (stmt == NULL)
		return NULL;
	return relay_store_sqlite_collect(self,
					  stmt,
					  (gpointer)host_stats_from_row,
					  (GDestroyNotify)relay_host_queue_stats_free,
					  error);
}

/* counters */

static gboolean
relay_store_sqlite_counters_add(RelayStore *store,
				GPtrArray *deltas,
				GCancellable *cancellable,
				GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self,
		"INSERT INTO counters (name, value) VALUES (?1, ?2) "
		"ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
		error);

	if (stmt == NULL)
		return FALSE;
	if (!relay_store_sqlite_begin_relaxed(self, error)) {
		relay_store_sqlite_rollback(self);
		return FALSE;
	}
	for (guint i = 0; i < deltas->len; i++) {
		RelayCounter *counter = g_ptr_array_index(deltas, i);
		bind_text(stmt, 1, counter->name);
		sqlite3_bind_int64(stmt, 2, counter->value);
		if (!relay_store_sqlite_step_done(self, stmt, error)) {
			relay_store_sqlite_rollback(self);
			return FALSE;
		}
		sqlite3_reset(stmt);
	}
	if (!relay_store_sqlite_commit_relaxed(self, error)) {
		relay_store_sqlite_rollback(self);
		return FALSE;
	}
	return TRUE;
}

static RelayCounter *
counter_from_row(sqlite3_stmt *stmt)
{
	return relay_counter_new((const gchar *)sqlite3_column_text(stmt, 0),
				 sqlite3_column_int64(stmt, 1));
}

static GPtrArray *
relay_store_sqlite_counters_get(RelayStore *store, GCancellable *cancellable, GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self, "SELECT name, value FROM counters ORDER BY name", error);
	if (stmt == NULL)
		return NULL;
	return relay_store_sqlite_collect(
		self, stmt, (gpointer)counter_from_row, (GDestroyNotify)relay_counter_free, error);
}

/* the queue by host, for the admin commands */

static RelayPendingHost *
pending_host_from_row(sqlite3_stmt *stmt)
{
	RelayPendingHost *host =
		relay_pending_host_new((const gchar *)sqlite3_column_text(stmt, 0));
	host->queued = (guint64)sqlite3_column_int64(stmt, 1);
	host->claimed = (guint64)sqlite3_column_int64(stmt, 2);
	host->oldest_created_us = sqlite3_column_int64(stmt, 3);
	host->next_attempt_us = sqlite3_column_int64(stmt, 4); /* NULL reads as 0 */
	return host;
}

static GPtrArray *
relay_store_sqlite_delivery_pending_hosts(RelayStore *store,
					  GCancellable *cancellable,
					  GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self,
		"SELECT host, count(*), sum(claimer IS NOT NULL), min(created_at), "
		"min(CASE WHEN claimer IS NULL THEN next_attempt_at END) "
		"FROM deliveries GROUP BY host ORDER BY count(*) DESC, host",
		error);
	if (stmt == NULL)
		return NULL;
	return relay_store_sqlite_collect(self,
					  stmt,
					  (gpointer)pending_host_from_row,
					  (GDestroyNotify)relay_pending_host_free,
					  error);
}

static gboolean
relay_store_sqlite_delivery_reschedule_host(RelayStore *store,
					    const gchar *host,
					    gint64 due_us,
					    guint64 *out_rescheduled,
					    GCancellable *cancellable,
					    GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) stmt = relay_store_sqlite_prepare(
		self,
		"UPDATE deliveries SET next_attempt_at = ?2 "
		"WHERE host = ?1 AND claimer IS NULL AND next_attempt_at > ?2",
		error);

	if (stmt == NULL)
		return FALSE;
	bind_text(stmt, 1, host);
	sqlite3_bind_int64(stmt, 2, due_us);
	if (!relay_store_sqlite_step_done(self, stmt, error))
		return FALSE;
	if (out_rescheduled != NULL)
		*out_rescheduled = (guint64)sqlite3_changes64(self->db);
	return TRUE;
}

/* runs @drop, a bound DELETE of deliveries RETURNING activity_id, and drops the bodies left
 * without rows; in a transaction, mutex held */
static gboolean
relay_store_sqlite_drop_locked(RelayStoreSqlite *self,
			       sqlite3_stmt *drop,
			       guint64 *out_dropped,
			       GError **error)
{
	g_autoptr(GHashTable) activities =
		g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	g_autoptr(RelaySqliteStmt) collect = NULL;
	GHashTableIter iter;
	gpointer key;
	guint64 dropped = 0;
	gint rc;

	while ((rc = sqlite3_step(drop)) == SQLITE_ROW) {
		gint64 activity_id = sqlite3_column_int64(drop, 0);
		g_hash_table_add(activities, g_memdup2(&activity_id, sizeof(gint64)));
		dropped++;
	}
	if (rc != SQLITE_DONE) {
		relay_store_sqlite_set_error(self, rc, error);
		return FALSE;
	}
	collect = relay_store_sqlite_prepare(
		self,
		"DELETE FROM activities WHERE id = ?1 AND "
		"NOT EXISTS (SELECT 1 FROM deliveries WHERE activity_id = ?1)",
		error);
	if (collect == NULL)
		return FALSE;
	g_hash_table_iter_init(&iter, activities);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		sqlite3_bind_int64(collect, 1, *(gint64 *)key);
		if (!relay_store_sqlite_step_done(self, collect, error))
			return FALSE;
		sqlite3_reset(collect);
	}
	if (out_dropped != NULL)
		*out_dropped = dropped;
	return TRUE;
}

/* drops the rows of @host and the bodies left without rows; in a transaction, mutex held */
static gboolean
relay_store_sqlite_drop_host_locked(RelayStoreSqlite *self,
				    const gchar *host,
				    guint64 *out_dropped,
				    GError **error)
{
	g_autoptr(RelaySqliteStmt) drop = relay_store_sqlite_prepare(
		self, "DELETE FROM deliveries WHERE host = ?1 RETURNING activity_id", error);

	if (drop == NULL)
		return FALSE;
	bind_text(drop, 1, host);
	return relay_store_sqlite_drop_locked(self, drop, out_dropped, error);
}

static gboolean
relay_store_sqlite_delivery_drop_inbox(RelayStore *store,
				       const gchar *network,
				       const gchar *inbox,
				       guint64 *out_dropped,
				       GCancellable *cancellable,
				       GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
	g_autoptr(RelaySqliteStmt) drop = NULL;

	if (!relay_store_sqlite_begin(self, error))
		return FALSE;
	drop = relay_store_sqlite_prepare(
		self,
		"DELETE FROM deliveries WHERE inbox = ?1 AND activity_id IN "
		"(SELECT id FROM activities WHERE network = ?2) "
		"RETURNING activity_id",
		error);
	if (drop != NULL) {
		bind_text(drop, 1, inbox);
		bind_text(drop, 2, network);
	}
	if (drop == NULL || !relay_store_sqlite_drop_locked(self, drop, out_dropped, error) ||
	    !relay_store_sqlite_commit(self, error)) {
		relay_store_sqlite_rollback(self);
		return FALSE;
	}
	return TRUE;
}

static gboolean
relay_store_sqlite_delivery_drop_host(RelayStore *store,
				      const gchar *host,
				      guint64 *out_dropped,
				      GCancellable *cancellable,
				      GError **error)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(store);
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);

	if (!relay_store_sqlite_begin(self, error))
		return FALSE;
	if (!relay_store_sqlite_drop_host_locked(self, host, out_dropped, error) ||
	    !relay_store_sqlite_commit(self, error)) {
		relay_store_sqlite_rollback(self);
		return FALSE;
	}
	return TRUE;
}

static void
relay_store_sqlite_finalize(GObject *object)
{
	RelayStoreSqlite *self = RELAY_STORE_SQLITE(object);

	/* the parent's finalize closes the store, and needs the statements table */
	G_OBJECT_CLASS(relay_store_sqlite_parent_class)->finalize(object);
	g_hash_table_unref(self->statements);
	g_mutex_clear(&self->mutex);
}

static void
relay_sqlite_stmt_finalize(gpointer stmt)
{
	sqlite3_finalize(stmt);
}

static void
relay_store_sqlite_init(RelayStoreSqlite *self)
{
	g_mutex_init(&self->mutex);
	self->statements =
		g_hash_table_new_full(g_str_hash, g_str_equal, NULL, relay_sqlite_stmt_finalize);
}

static void
relay_store_sqlite_class_init(RelayStoreSqliteClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	RelayStoreClass *store_class = RELAY_STORE_CLASS(klass);

	object_class->finalize = relay_store_sqlite_finalize;
	store_class->max_workers = 1;
	store_class->open = relay_store_sqlite_open;
	store_class->close = relay_store_sqlite_close;
	store_class->ping = relay_store_sqlite_ping;
	store_class->network_put = relay_store_sqlite_network_put;
	store_class->network_create = relay_store_sqlite_network_create;
	store_class->network_get = relay_store_sqlite_network_get;
	store_class->network_list = relay_store_sqlite_network_list;
	store_class->member_put = relay_store_sqlite_member_put;
	store_class->member_get = relay_store_sqlite_member_get;
	store_class->member_remove = relay_store_sqlite_member_remove;
	store_class->member_list = relay_store_sqlite_member_list;
	store_class->member_software_put = relay_store_sqlite_member_software_put;
	store_class->policy_put = relay_store_sqlite_policy_put;
	store_class->policy_remove = relay_store_sqlite_policy_remove;
	store_class->policy_list = relay_store_sqlite_policy_list;
	store_class->block_subscription_put = relay_store_sqlite_block_subscription_put;
	store_class->block_subscription_remove = relay_store_sqlite_block_subscription_remove;
	store_class->block_subscription_list = relay_store_sqlite_block_subscription_list;
	store_class->block_subscription_entries = relay_store_sqlite_block_subscription_entries;
	store_class->actor_put = relay_store_sqlite_actor_put;
	store_class->actor_get = relay_store_sqlite_actor_get;
	store_class->key_put = relay_store_sqlite_key_put;
	store_class->key_get = relay_store_sqlite_key_get;
	store_class->seen_add = relay_store_sqlite_seen_add;
	store_class->seen_contains = relay_store_sqlite_seen_contains;
	store_class->seen_expire = relay_store_sqlite_seen_expire;
	store_class->delivery_enqueue = relay_store_sqlite_delivery_enqueue;
	store_class->delivery_claim = relay_store_sqlite_delivery_claim;
	store_class->delivery_settle = relay_store_sqlite_delivery_settle;
	store_class->delivery_release = relay_store_sqlite_delivery_release;
	store_class->delivery_stats = relay_store_sqlite_delivery_stats;
	store_class->delivery_hosts = relay_store_sqlite_delivery_hosts;
	store_class->counters_add = relay_store_sqlite_counters_add;
	store_class->counters_get = relay_store_sqlite_counters_get;
	store_class->delivery_pending_hosts = relay_store_sqlite_delivery_pending_hosts;
	store_class->delivery_reschedule_host = relay_store_sqlite_delivery_reschedule_host;
	store_class->delivery_drop_host = relay_store_sqlite_delivery_drop_host;
	store_class->delivery_drop_inbox = relay_store_sqlite_delivery_drop_inbox;
}
