/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

/*
 * The SSRF guard. Every outbound connection of the relay (fetches and deliveries) resolves its
 * host through RelayGuardedResolver, installed as the process's default GResolver: it asks the
 * system resolver, then drops the loopback, private, link-local, multicast, reserved and
 * unspecified addresses, and fails when nothing public is left. The connection is made to the
 * very addresses that were checked, so a name that resolves differently a second time (DNS
 * rebinding) gains nothing. Hosts written as IP literals, and "localhost", never reach a
 * resolver: callers check them with relay_address_guard_check_host() before connecting.
 */

#include "config.h"

#include <string.h>

#include "relay-address-guard.h"
#include "relay-fed-error.h"

struct _RelayGuardedResolver {
	GResolver parent_instance;
	GResolver *inner;
	gint allow_private; /* atomic */
};

G_DEFINE_FINAL_TYPE(RelayGuardedResolver, relay_guarded_resolver, G_TYPE_RESOLVER)

typedef struct {
	guint8 prefix[16];
	guint bits;
} RelayAddressRange;

/* IPv4 ranges that are not the public internet (RFC 6890 and friends) */
static const RelayAddressRange ipv4_blocked[] = {
	{{0, 0, 0, 0}, 8},	 /* "this" network, 0.0.0.0 */
	{{10, 0, 0, 0}, 8},	 /* private */
	{{100, 64, 0, 0}, 10},	 /* shared address space (carrier-grade NAT) */
	{{127, 0, 0, 0}, 8},	 /* loopback */
	{{169, 254, 0, 0}, 16},	 /* link-local, cloud metadata services */
	{{172, 16, 0, 0}, 12},	 /* private */
	{{192, 0, 0, 0}, 24},	 /* IETF protocol assignments */
	{{192, 0, 2, 0}, 24},	 /* documentation */
	{{192, 88, 99, 0}, 24},	 /* 6to4 relay anycast */
	{{192, 168, 0, 0}, 16},	 /* private */
	{{198, 18, 0, 0}, 15},	 /* benchmarking */
	{{198, 51, 100, 0}, 24}, /* documentation */
	{{203, 0, 113, 0}, 24},	 /* documentation */
	{{224, 0, 0, 0}, 4},	 /* multicast */
	{{240, 0, 0, 0}, 4},	 /* reserved, broadcast */
};

static const RelayAddressRange ipv6_blocked[] = {
	{{0}, 128},						 /* unspecified */
	{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128}, /* loopback */
	{{0x01, 0x00}, 64},					 /* discard-only */
	{{0x20, 0x01, 0x0d, 0xb8}, 32},				 /* documentation */
	{{0xfc}, 7},						 /* unique local */
	{{0xfe, 0x80}, 10},					 /* link-local */
	{{0xfe, 0xc0}, 10},					 /* site-local */
	{{0xff}, 8},						 /* multicast */
};

static gboolean
relay_address_in_range(const guint8 *bytes, const RelayAddressRange *range)
{
	guint whole = range->bits / 8;
	guint rest = range->bits % 8;

	if (memcmp(bytes, range->prefix, whole) != 0)
		return FALSE;
	if (rest == 0)
		return TRUE;
	return (bytes[whole] & (0xff << (8 - rest))) ==
	       (range->prefix[whole] & (0xff << (8 - rest)));
}

static gboolean
relay_address_ipv4_is_public(const guint8 *bytes)
{
	for (guint i = 0; i < G_N_ELEMENTS(ipv4_blocked); i++) {
		if (relay_address_in_range(bytes, &ipv4_blocked[i]))
			return FALSE;
	}
	return TRUE;
}

/**
 * relay_address_is_public:
 * @address: an IP address
 *
 * Returns: %TRUE when @address is a unicast address of the public internet; %FALSE for
 * loopback, private, shared, link-local, multicast, documentation, reserved and unspecified
 * addresses, and for IPv6 addresses that embed such an IPv4 address (mapped, NAT64, 6to4)
 */
gboolean
relay_address_is_public(GInetAddress *address)
{
	const guint8 *bytes = g_inet_address_to_bytes(address);
	static const guint8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const guint8 nat64[12] = {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
	static const guint8 compatible[12] = {0};

	if (g_inet_address_get_family(address) == G_SOCKET_FAMILY_IPV4)
		return relay_address_ipv4_is_public(bytes);
	for (guint i = 0; i < G_N_ELEMENTS(ipv6_blocked); i++) {
		if (relay_address_in_range(bytes, &ipv6_blocked[i]))
			return FALSE;
	}
	/* an IPv4 address in IPv6 clothing is judged as IPv4 */
	if (memcmp(bytes, mapped, 12) == 0 || memcmp(bytes, nat64, 12) == 0 ||
	    memcmp(bytes, compatible, 12) == 0)
		return relay_address_ipv4_is_public(bytes + 12);
	if (bytes[0] == 0x20 && bytes[1] == 0x02) /* 6to4: 2002:AABB:CCDD::/48 */
		return relay_address_ipv4_is_public(bytes + 2);
	return TRUE;
}

/**
 * relay_address_guard_check_host:
 * @host: a URL's host, possibly an IP literal (IPv6 with or without brackets)
 * @allow_private: whether private addresses are allowed
 * @error: (nullable): a #GError
 *
 * Refuses a host written as an IP literal that is not public. Names pass: the guarded resolver
 * checks what they resolve to.
 *
 * Returns: %FALSE with %RELAY_FED_ERROR_FORBIDDEN_ADDRESS when @host may not be contacted
 */
gboolean
relay_address_guard_check_host(const gchar *host, gboolean allow_private, GError **error)
{
	g_autofree gchar *literal = NULL;
	g_autoptr(GInetAddress) address = NULL;
	gsize length;

	if (host == NULL || allow_private)
		return TRUE;
	/* GIO answers "localhost" and "*.localhost" itself, with loopback, never asking a resolver
	 * (RFC 6761): refuse them by name */
	if (g_ascii_strcasecmp(host, "localhost") == 0 || g_str_has_suffix(host, ".localhost") ||
	    g_str_has_suffix(host, ".localhost.")) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_FORBIDDEN_ADDRESS,
			    "%s is a loopback name",
			    host);
		return FALSE;
	}
	length = strlen(host);
	if (length > 2 && host[0] == '[' && host[length - 1] == ']')
		literal = g_strndup(host + 1, length - 2);
	else
		literal = g_strdup(host);
	address = g_inet_address_new_from_string(literal);
	if (address == NULL || relay_address_is_public(address))
		return TRUE;
	g_set_error(error,
		    RELAY_FED_ERROR,
		    RELAY_FED_ERROR_FORBIDDEN_ADDRESS,
		    "%s is not a public address",
		    host);
	return FALSE;
}

/* keeps the public addresses of @addresses; fails when there is none */
static GList *
relay_guarded_resolver_filter(RelayGuardedResolver *self,
			      const gchar *hostname,
			      GList *addresses,
			      GError **error)
{
	GList *kept = NULL;

	if (g_atomic_int_get(&self->allow_private))
		return addresses;
	for (GList *l = addresses; l != NULL; l = l->next) {
		GInetAddress *address = l->data;
		if (relay_address_is_public(address))
			kept = g_list_prepend(kept, g_object_ref(address));
	}
	g_resolver_free_addresses(addresses);
	if (kept == NULL) {
		g_set_error(error,
			    RELAY_FED_ERROR,
			    RELAY_FED_ERROR_FORBIDDEN_ADDRESS,
			    "%s resolves only to addresses that are not public",
			    hostname);
		return NULL;
	}
	return g_list_reverse(kept);
}

static GList *
relay_guarded_resolver_lookup_by_name(GResolver *resolver,
				      const gchar *hostname,
				      GCancellable *cancellable,
				      GError **error)
{
	RelayGuardedResolver *self = RELAY_GUARDED_RESOLVER(resolver);
	GList *addresses = g_resolver_lookup_by_name(self->inner, hostname, cancellable, error);
	if (addresses == NULL)
		return NULL;
	return relay_guarded_resolver_filter(self, hostname, addresses, error);
}

static GList *
relay_guarded_resolver_lookup_by_name_with_flags(GResolver *resolver,
						 const gchar *hostname,
						 GResolverNameLookupFlags flags,
						 GCancellable *cancellable,
						 GError **error)
{
	RelayGuardedResolver *self = RELAY_GUARDED_RESOLVER(resolver);
	GList *addresses = g_resolver_lookup_by_name_with_flags(
		self->inner, hostname, flags, cancellable, error);
	if (addresses == NULL)
		return NULL;
	return relay_guarded_resolver_filter(self, hostname, addresses, error);
}

static void
relay_guarded_resolver_lookup_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	RelayGuardedResolver *self = g_task_get_source_object(task);
	const gchar *hostname = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	GList *addresses;

	addresses = g_resolver_lookup_by_name_with_flags_finish(G_RESOLVER(source), res, &error);
	if (addresses != NULL)
		addresses = relay_guarded_resolver_filter(self, hostname, addresses, &error);
	if (addresses == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_pointer(task, addresses, (GDestroyNotify)g_resolver_free_addresses);
}

static void
relay_guarded_resolver_lookup_by_name_with_flags_async(GResolver *resolver,
						       const gchar *hostname,
						       GResolverNameLookupFlags flags,
						       GCancellable *cancellable,
						       GAsyncReadyCallback callback,
						       gpointer user_data)
{
	RelayGuardedResolver *self = RELAY_GUARDED_RESOLVER(resolver);
	GTask *task = g_task_new(self, cancellable, callback, user_data);

	g_task_set_source_tag(task, relay_guarded_resolver_lookup_by_name_with_flags_async);
	g_task_set_task_data(task, g_strdup(hostname), g_free);
	g_resolver_lookup_by_name_with_flags_async(
		self->inner, hostname, flags, cancellable, relay_guarded_resolver_lookup_cb, task);
}

static GList *
relay_guarded_resolver_lookup_by_name_with_flags_finish(GResolver *resolver,
							GAsyncResult *res,
							GError **error)
{
	return g_task_propagate_pointer(G_TASK(res), error);
}

static void
relay_guarded_resolver_lookup_by_name_async(GResolver *resolver,
					    const gchar *hostname,
					    GCancellable *cancellable,
					    GAsyncReadyCallback callback,
					    gpointer user_data)
{
	relay_guarded_resolver_lookup_by_name_with_flags_async(resolver,
							       hostname,
							       G_RESOLVER_NAME_LOOKUP_FLAGS_DEFAULT,
							       cancellable,
							       callback,
							       user_data);
}

static GList *
relay_guarded_resolver_lookup_by_name_finish(GResolver *resolver, GAsyncResult *res, GError **error)
{
	return g_task_propagate_pointer(G_TASK(res), error);
}

/* reverse and service lookups are not used to connect: the inner resolver answers them */

static gchar *
relay_guarded_resolver_lookup_by_address(GResolver *resolver,
					 GInetAddress *address,
					 GCancellable *cancellable,
					 GError **error)
{
	RelayGuardedResolver *self = RELAY_GUARDED_RESOLVER(resolver);
	return g_resolver_lookup_by_address(self->inner, address, cancellable, error);
}

static GList *
relay_guarded_resolver_lookup_records(GResolver *resolver,
				      const gchar *rrname,
				      GResolverRecordType record_type,
				      GCancellable *cancellable,
				      GError **error)
{
	RelayGuardedResolver *self = RELAY_GUARDED_RESOLVER(resolver);
	return g_resolver_lookup_records(self->inner, rrname, record_type, cancellable, error);
}

static void
relay_guarded_resolver_address_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(GError) error = NULL;
	gchar *name = g_resolver_lookup_by_address_finish(G_RESOLVER(source), res, &error);

	if (name == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_pointer(task, name, g_free);
}

static void
relay_guarded_resolver_lookup_by_address_async(GResolver *resolver,
					       GInetAddress *address,
					       GCancellable *cancellable,
					       GAsyncReadyCallback callback,
					       gpointer user_data)
{
	RelayGuardedResolver *self = RELAY_GUARDED_RESOLVER(resolver);
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	g_resolver_lookup_by_address_async(
		self->inner, address, cancellable, relay_guarded_resolver_address_cb, task);
}

static gchar *
relay_guarded_resolver_lookup_by_address_finish(GResolver *resolver,
						GAsyncResult *res,
						GError **error)
{
	return g_task_propagate_pointer(G_TASK(res), error);
}

static void
relay_guarded_resolver_records_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(GError) error = NULL;
	GList *records = g_resolver_lookup_records_finish(G_RESOLVER(source), res, &error);

	if (error != NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_pointer(task, records, NULL);
}

static void
relay_guarded_resolver_lookup_records_async(GResolver *resolver,
					    const gchar *rrname,
					    GResolverRecordType record_type,
					    GCancellable *cancellable,
					    GAsyncReadyCallback callback,
					    gpointer user_data)
{
	RelayGuardedResolver *self = RELAY_GUARDED_RESOLVER(resolver);
	GTask *task = g_task_new(self, cancellable, callback, user_data);
	g_resolver_lookup_records_async(self->inner,
					rrname,
					record_type,
					cancellable,
					relay_guarded_resolver_records_cb,
					task);
}

static GList *
relay_guarded_resolver_lookup_records_finish(GResolver *resolver, GAsyncResult *res, GError **error)
{
	return g_task_propagate_pointer(G_TASK(res), error);
}

/**
 * relay_guarded_resolver_new:
 * @inner: the resolver that really resolves, usually the system's
 * @allow_private: whether to let non-public addresses through
 *
 * Returns: (transfer full): a resolver that refuses non-public addresses
 */
GResolver *
relay_guarded_resolver_new(GResolver *inner, gboolean allow_private)
{
	RelayGuardedResolver *self = g_object_new(RELAY_TYPE_GUARDED_RESOLVER, NULL);
	self->inner = g_object_ref(inner);
	self->allow_private = allow_private ? 1 : 0;
	return G_RESOLVER(self);
}

/**
 * relay_guarded_resolver_set_allow_private:
 *
 * Safe from any thread; takes effect for the next lookup.
 */
void
relay_guarded_resolver_set_allow_private(RelayGuardedResolver *self, gboolean allow_private)
{
	g_return_if_fail(RELAY_IS_GUARDED_RESOLVER(self));
	g_atomic_int_set(&self->allow_private, allow_private ? 1 : 0);
}

/**
 * relay_address_guard_install:
 * @allow_private: whether to let non-public addresses through
 *
 * Makes the guarded resolver the process's default (once; later calls update the setting).
 *
 * Returns: (transfer none): the guarded resolver in force
 */
RelayGuardedResolver *
relay_address_guard_install(gboolean allow_private)
{
	g_autoptr(GResolver) current = g_resolver_get_default();
	g_autoptr(GResolver) guarded = NULL;

	if (RELAY_IS_GUARDED_RESOLVER(current)) {
		relay_guarded_resolver_set_allow_private(RELAY_GUARDED_RESOLVER(current),
							 allow_private);
		return RELAY_GUARDED_RESOLVER(current);
	}
	guarded = relay_guarded_resolver_new(current, allow_private);
	g_resolver_set_default(guarded);
	/* the default resolver keeps its own reference */
	return RELAY_GUARDED_RESOLVER(guarded);
}

static void
relay_guarded_resolver_finalize(GObject *object)
{
	RelayGuardedResolver *self = RELAY_GUARDED_RESOLVER(object);
	g_clear_object(&self->inner);
	G_OBJECT_CLASS(relay_guarded_resolver_parent_class)->finalize(object);
}

static void
relay_guarded_resolver_init(RelayGuardedResolver *self)
{
}

static void
relay_guarded_resolver_class_init(RelayGuardedResolverClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GResolverClass *resolver_class = G_RESOLVER_CLASS(klass);

	object_class->finalize = relay_guarded_resolver_finalize;
	resolver_class->lookup_by_name = relay_guarded_resolver_lookup_by_name;
	resolver_class->lookup_by_name_async = relay_guarded_resolver_lookup_by_name_async;
	resolver_class->lookup_by_name_finish = relay_guarded_resolver_lookup_by_name_finish;
	resolver_class->lookup_by_name_with_flags =
		relay_guarded_resolver_lookup_by_name_with_flags;
	resolver_class->lookup_by_name_with_flags_async =
		relay_guarded_resolver_lookup_by_name_with_flags_async;
	resolver_class->lookup_by_name_with_flags_finish =
		relay_guarded_resolver_lookup_by_name_with_flags_finish;
	resolver_class->lookup_by_address = relay_guarded_resolver_lookup_by_address;
	resolver_class->lookup_by_address_async = relay_guarded_resolver_lookup_by_address_async;
	resolver_class->lookup_by_address_finish = relay_guarded_resolver_lookup_by_address_finish;
	resolver_class->lookup_records = relay_guarded_resolver_lookup_records;
	resolver_class->lookup_records_async = relay_guarded_resolver_lookup_records_async;
	resolver_class->lookup_records_finish = relay_guarded_resolver_lookup_records_finish;
}
