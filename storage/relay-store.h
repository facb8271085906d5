/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "relay-store-error.h"
#include "relay-store-records.h"

G_BEGIN_DECLS

#define RELAY_TYPE_STORE (relay_store_get_type())
G_DECLARE_DERIVABLE_TYPE(RelayStore, relay_store, RELAY, STORE, GObject)

/*
 * RelayStore is the storage interface: an abstract class whose backends (sqlite, memory, later
 * postgres) implement the sync virtual functions below. Every vfunc must be safe to call from any
 * thread (backends serialise internally); the base class runs them on a private worker pool for
 * the main context through relay_store_run_async() and the typed _async/_finish pairs, so the main
 * loop never blocks on storage.
 */
struct _RelayStoreClass {
	GObjectClass parent_class;
	guint max_workers; /* how many vfunc calls may run at once: sqlite 1 */

	gboolean (*open)(RelayStore *self, GCancellable *cancellable, GError **error);
	void (*close)(RelayStore *self);
	gboolean (*ping)(RelayStore *self, GCancellable *cancellable, GError **error);

	gboolean (*network_put)(RelayStore *self,
				const RelayNetworkRecord *network,
				GCancellable *cancellable,
				GError **error);
	gboolean (*network_create)(RelayStore *self,
				   const RelayNetworkRecord *network,
				   gboolean *out_created,
				   GCancellable *cancellable,
				   GError **error);
	RelayNetworkRecord *(*network_get)(RelayStore *self,
					   const gchar *name,
					   GCancellable *cancellable,
					   GError **error);
	GPtrArray *(*network_list)(RelayStore *self, GCancellable *cancellable, GError **error);

	gboolean (*member_put)(RelayStore *self,
			       const RelayMember *member,
			       GCancellable *cancellable,
			       GError **error);
	RelayMember *(*member_get)(RelayStore *self,
				   const gchar *network,
				   const gchar *actor,
				   GCancellable *cancellable,
				   GError **error);
	gboolean (*member_remove)(RelayStore *self,
				  const gchar *network,
				  const gchar *actor,
				  GCancellable *cancellable,
				  GError **error);
	GPtrArray *(*member_list)(RelayStore *self,
				  const gchar *network,
				  gint state,
				  GCancellable *cancellable,
				  GError **error);
	gboolean (*member_software_put)(RelayStore *self,
					const gchar *domain,
					const gchar *software_name,
					const gchar *software_version,
					gint64 checked_at_us,
					guint *out_updated,
					GCancellable *cancellable,
					GError **error);

	gboolean (*policy_put)(RelayStore *self,
			       const RelayDomainPolicy *policy,
			       GCancellable *cancellable,
			       GError **error);
	gboolean (*policy_remove)(RelayStore *self,
				  const gchar *network,
				  const gchar *domain,
				  RelayPolicyKind kind,
				  GCancellable *cancellable,
				  GError **error);
	GPtrArray *(*policy_list)(RelayStore *self, GCancellable *cancellable, GError **error);

	/* block list subscriptions (schema 3) */
	gboolean (*block_subscription_put)(RelayStore *self,
					   const RelayBlockSubscription *subscription,
					   GPtrArray *entries,
					   GCancellable *cancellable,
					   GError **error);
	gboolean (*block_subscription_remove)(RelayStore *self,
					      const gchar *network,
					      const gchar *url,
					      GCancellable *cancellable,
					      GError **error);
	GPtrArray *(*block_subscription_list)(RelayStore *self,
					      GCancellable *cancellable,
					      GError **error);
	GPtrArray *(*block_subscription_entries)(RelayStore *self,
						 const gchar *network,
						 GCancellable *cancellable,
						 GError **error);

	gboolean (*actor_put)(RelayStore *self,
			      const RelayCachedActor *actor,
			      GCancellable *cancellable,
			      GError **error);
	RelayCachedActor *(*actor_get)(RelayStore *self,
				       const gchar *id,
				       GCancellable *cancellable,
				       GError **error);
	gboolean (*key_put)(RelayStore *self,
			    const RelayCachedKey *key,
			    GCancellable *cancellable,
			    GError **error);
	RelayCachedKey *(*key_get)(RelayStore *self,
				   const gchar *id,
				   GCancellable *cancellable,
				   GError **error);

	gboolean (*seen_add)(RelayStore *self,
			     const gchar *id,
			     gint64 now_us,
			     gint64 expires_us,
			     gboolean *out_new,
			     GCancellable *cancellable,
			     GError **error);
	gboolean (*seen_contains)(RelayStore *self,
				  const gchar *id,
				  gint64 now_us,
				  gboolean *out_seen,
				  GCancellable *cancellable,
				  GError **error);
	gboolean (*seen_expire)(RelayStore *self,
				gint64 now_us,
				guint64 *out_removed,
				GCancellable *cancellable,
				GError **error);

	gboolean (*delivery_enqueue)(RelayStore *self,
				     GPtrArray *fanouts,
				     gint64 now_us,
				     GCancellable *cancellable,
				     GError **error);
	GPtrArray *(*delivery_claim)(RelayStore *self,
				     gint64 now_us,
				     guint limit,
				     gint64 lease_us,
				     const gchar *claimer,
				     GCancellable *cancellable,
				     GError **error);
	gboolean (*delivery_settle)(RelayStore *self,
				    GArray *results,
				    GCancellable *cancellable,
				    GError **error);
	gboolean (*delivery_release)(RelayStore *self,
				     const gchar *claimer,
				     gint64 now_us,
				     guint64 *out_released,
				     GCancellable *cancellable,
				     GError **error);
	gboolean (*delivery_stats)(RelayStore *self,
				   RelayQueueStats *stats,
				   GCancellable *cancellable,
				   GError **error);
	GPtrArray *(*delivery_hosts)(RelayStore *self, GCancellable *cancellable, GError **error);

	gboolean (*counters_add)(RelayStore *self,
				 GPtrArray *deltas,
				 GCancellable *cancellable,
				 GError **error);
	GPtrArray *(*counters_get)(RelayStore *self, GCancellable *cancellable, GError **error);

	/* the queue by host, for the admin commands */
	GPtrArray *(*delivery_pending_hosts)(RelayStore *self,
					     GCancellable *cancellable,
					     GError **error);
	gboolean (*delivery_reschedule_host)(RelayStore *self,
					     const gchar *host,
					     gint64 due_us,
					     guint64 *out_rescheduled,
					     GCancellable *cancellable,
					     GError **error);
	gboolean (*delivery_drop_host)(RelayStore *self,
				       const gchar *host,
				       guint64 *out_dropped,
				       GCancellable *cancellable,
				       GError **error);
	gboolean (*delivery_drop_inbox)(RelayStore *self,
					const gchar *network,
					const gchar *inbox,
					guint64 *out_dropped,
					GCancellable *cancellable,
					GError **error);

	gpointer padding[7];
};

/* a unit of work for a store worker thread: it must return a result through @task */
typedef void (*RelayStoreFunc)(RelayStore *self,
			       GTask *task,
			       gpointer data,
			       GCancellable *cancellable);

/* the backends compiled in, in the order of preference */
const gchar *const *
relay_store_backend_names(void);
RelayStore *
relay_store_new(const gchar *backend,
		const gchar *location,
		GError **error) G_GNUC_WARN_UNUSED_RESULT;

const gchar *
relay_store_get_backend_name(RelayStore *self);
const gchar *
relay_store_get_location(RelayStore *self);
guint
relay_store_get_pending(RelayStore *self);
void
relay_store_close(RelayStore *self);

void
relay_store_run_async(RelayStore *self,
		      RelayStoreFunc func,
		      gpointer data,
		      GDestroyNotify data_free,
		      gpointer source_tag,
		      GCancellable *cancellable,
		      GAsyncReadyCallback callback,
		      gpointer user_data);

/* sync API: each calls the backend's vfunc on the calling thread; never call on the main loop */
gboolean
relay_store_open(RelayStore *self,
		 GCancellable *cancellable,
		 GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_store_ping(RelayStore *self,
		 GCancellable *cancellable,
		 GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_store_network_put(RelayStore *self,
			const RelayNetworkRecord *network,
			GCancellable *cancellable,
			GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_store_network_create(RelayStore *self,
			   const RelayNetworkRecord *network,
			   gboolean *out_created,
			   GCancellable *cancellable,
			   GError **error) G_GNUC_WARN_UNUSED_RESULT;
RelayNetworkRecord *
relay_store_network_get(RelayStore *self,
			const gchar *name,
			GCancellable *cancellable,
			GError **error) G_GNUC_WARN_UNUSED_RESULT;
GPtrArray *
relay_store_network_list(RelayStore *self,
			 GCancellable *cancellable,
			 GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_store_member_put(RelayStore *self,
		       const RelayMember *member,
		       GCancellable *cancellable,
		       GError **error) G_GNUC_WARN_UNUSED_RESULT;
RelayMember *
relay_store_member_get(RelayStore *self,
		       const gchar *network,
		       const gchar *actor,
		       GCancellable *cancellable,
		       GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_store_member_remove(RelayStore *self,
			  const gchar *network,
			  const gchar *actor,
			  GCancellable *cancellable,
			  GError **error) G_GNUC_WARN_UNUSED_RESULT;
GPtrArray *
relay_store_member_list(RelayStore *self,
			const gchar *network,
			gint state,
			GCancellable *cancellable,
			GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_store_member_software_put(RelayStore *self,
				const gchar *domain,
				const gchar *software_name,
				const gchar *software_version,
				gint64 checked_at_us,
				guint *out_updated,
				GCancellable *cancellable,
				GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_store_policy_put(RelayStore *self,
		       const RelayDomainPolicy *policy,
		       GCancellable *cancellable,
		       GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_store_policy_remove(RelayStore *self,
			  const gchar *network,
			  const gchar *domain,
			  RelayPolicyKind kind,
			  GCancellable *cancellable,
			  GError **error) G_GNUC_WARN_UNUSED_RESULT;
GPtrArray *
relay_store_policy_list(RelayStore *self,
			GCancellable *cancellable,
			GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_store_block_subscription_put(RelayStore *self,
				   const RelayBlockSubscription *subscription,
				   GPtrArray *entries,
				   GCancellable *cancellable,
				   GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_store_block_subscription_remove(RelayStore *self,
				      const gchar *network,
				      const gchar *url,
				      GCancellable *cancellable,
				      GError **error) G_GNUC_WARN_UNUSED_RESULT;
GPtrArray *
relay_store_block_subscription_list(RelayStore *self,
				    GCancellable *cancellable,
				    GError **error) G_GNUC_WARN_UNUSED_RESULT;
GPtrArray *
relay_store_block_subscription_entries(RelayStore *self,
				       const gchar *network,
				       GCancellable *cancellable,
				       GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_store_actor_put(RelayStore *self,
		      const RelayCachedActor *actor,
		      GCancellable *cancellable,
		      GError **error) G_GNUC_WARN_UNUSED_RESULT;
RelayCachedActor *
relay_store_actor_get(RelayStore *self, const gchar *id, GCancellable *cancellable, GError **error)
	G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_store_key_put(RelayStore *self,
		    const RelayCachedKey *key,
		    GCancellable *cancellable,
		    GError **error) G_GNUC_WARN_UNUSED_RESULT;
RelayCachedKey *
relay_store_key_get(RelayStore *self, const gchar *id, GCancellable *cancellable, GError **error)
	G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_store_seen_add(RelayStore *self,
		     const gchar *id,
		     gint64 now_us,
		     gint64 expires_us,
		     gboolean *out_new,
		     GCancellable *cancellable,
		     GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_store_seen_contains(RelayStore *self,
			  const gchar *id,
			  gint64 now_us,
			  gboolean *out_seen,
			  GCancellable *cancellable,
			  GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_store_seen_expire(RelayStore *self,
			gint64 now_us,
			guint64 *out_removed,
			GCancellable *cancellable,
			GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_store_delivery_enqueue(RelayStore *self,
			     GPtrArray *fanouts,
			     gint64 now_us,
			     GCancellable *cancellable,
			     GError **error) G_GNUC_WARN_UNUSED_RESULT;
GPtrArray *
relay_store_delivery_claim(RelayStore *self,
			   gint64 now_us,
			   guint limit,
			   gint64 lease_us,
			   const gchar *claimer,
			   GCancellable *cancellable,
			   GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_store_delivery_settle(RelayStore *self,
			    GArray *results,
			    GCancellable *cancellable,
			    GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_store_delivery_release(RelayStore *self,
			     const gchar *claimer,
			     gint64 now_us,
			     guint64 *out_released,
			     GCancellable *cancellable,
			     GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_store_delivery_stats(RelayStore *self,
			   RelayQueueStats *stats,
			   GCancellable *cancellable,
			   GError **error) G_GNUC_WARN_UNUSED_RESULT;
GPtrArray *
relay_store_delivery_hosts(RelayStore *self,
			   GCancellable *cancellable,
			   GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_store_counters_add(RelayStore *self,
			 GPtrArray *deltas,
			 GCancellable *cancellable,
			 GError **error) G_GNUC_WARN_UNUSED_RESULT;
GPtrArray *
relay_store_counters_get(RelayStore *self,
			 GCancellable *cancellable,
			 GError **error) G_GNUC_WARN_UNUSED_RESULT;
GPtrArray *
relay_store_delivery_pending_hosts(RelayStore *self,
				   GCancellable *cancellable,
				   GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_store_delivery_reschedule_host(RelayStore *self,
				     const gchar *host,
				     gint64 due_us,
				     guint64 *out_rescheduled,
				     GCancellable *cancellable,
				     GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_store_delivery_drop_host(RelayStore *self,
			       const gchar *host,
			       guint64 *out_dropped,
			       GCancellable *cancellable,
			       GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean
relay_store_delivery_drop_inbox(RelayStore *self,
				const gchar *network,
				const gchar *inbox,
				guint64 *out_dropped,
				GCancellable *cancellable,
				GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* main-context API */
void
relay_store_ping_async(RelayStore *self,
		       GCancellable *cancellable,
		       GAsyncReadyCallback callback,
		       gpointer user_data);
gboolean
relay_store_ping_finish(RelayStore *self,
			GAsyncResult *res,
			GError **error) G_GNUC_WARN_UNUSED_RESULT;
void
relay_store_network_ensure_async(RelayStore *self,
				 const gchar *name,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data);
RelayNetworkRecord *
relay_store_network_ensure_finish(RelayStore *self,
				  GAsyncResult *res,
				  GError **error) G_GNUC_WARN_UNUSED_RESULT;
void
relay_store_delivery_stats_async(RelayStore *self,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data);
gboolean
relay_store_delivery_stats_finish(RelayStore *self,
				  GAsyncResult *res,
				  RelayQueueStats *stats,
				  GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
