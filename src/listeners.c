/* listeners: the sock_diag dump of TCP listeners, their half-open
 * requests counted against them, and the units of their cgroups. The
 * owners of each are found by owners.c. */
#include "listeners.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cgroup.h"
#include "unit.h"
#include "util.h"

/* The kernel fills a dump skb up to 32 KiB (netlink caps max_recvmsg_len
 * there) and expects a buffer at least that large; twice that leaves room
 * for min_dump_alloc growth without ever truncating. */
#define DUMP_BUF_SIZE (64 * 1024)
#define DUMP_RCVBUF (1024 * 1024)

/* ------------------------------------------------------------------ dump */

#ifdef QTUNE_TEST_HOOKS
void (*listeners_dump_socket_hook)(int fd);
unsigned long listeners_request_probes;
#endif

/* The attributes the kernel sends after an inet_diag_msg without being asked
 * (and those an idiag_ext adds), with the type each must have. Each is
 * checked, so a message whose attributes do not add up is refused as a
 * whole rather than read half-way; INET_DIAG_SKMEMINFO and INET_DIAG_CGROUP_ID are read. */
static const enum mnl_attr_data_type diag_attr_types[INET_DIAG_MAX + 1] = {
	[INET_DIAG_SHUTDOWN] = MNL_TYPE_U8,
	[INET_DIAG_TOS] = MNL_TYPE_U8,
	[INET_DIAG_TCLASS] = MNL_TYPE_U8,
	[INET_DIAG_SKV6ONLY] = MNL_TYPE_U8,
	[INET_DIAG_MARK] = MNL_TYPE_U32,
	[INET_DIAG_CLASS_ID] = MNL_TYPE_U32,
	[INET_DIAG_CGROUP_ID] = MNL_TYPE_U64,
	[INET_DIAG_CONG] = MNL_TYPE_NUL_STRING,
	[INET_DIAG_SKMEMINFO] = MNL_TYPE_BINARY,
};

/* TCP_NEW_SYN_RECV, the state of a request socket (include/net/tcp_states.h),
 * is not in the user-space headers. The kernel reports such a socket with
 * idiag_state TCP_SYN_RECV (inet_req_diag_fill). */
#define QT_TCP_NEW_SYN_RECV 12

/* The local end of one half-open request, to be counted against its
 * listener once the listeners are sorted. */
struct request_key {
	uint8_t family;
	uint16_t port;
	uint8_t raw[16];
	uint32_t ifindex;
};

struct dump {
	struct listener_set *set;
	struct request_key *reqs;       /* half-open requests seen, any order */
	size_t nreqs, capreqs;
	uint32_t cache_index;           /* if_indextoname() of the last index seen */
	char cache_name[IF_NAMESIZE];
};

/* The attributes of one message that the dump reads. */
struct diag_attrs {
	const struct nlattr *meminfo, *cgroup;
};

/* data: the message's diag_attrs, filled with those it has. */
static int dump_attr_check(const struct nlattr *a, void *data)
{
	struct diag_attrs *at = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type < ARRAY_SIZE(diag_attr_types) && diag_attr_types[type] != MNL_TYPE_UNSPEC &&
	    mnl_attr_validate(a, diag_attr_types[type]) < 0)
		return MNL_CB_ERROR;    /* errno: EINVAL or ERANGE */
	if (type == INET_DIAG_SKMEMINFO) {
		/* An array of u32 that grows at its end: older kernels send
		 * fewer members, and one without the drops counter says so. */
		if (mnl_attr_get_payload_len(a) < (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t)) {
			errno = ERANGE;
			return MNL_CB_ERROR;
		}
		at->meminfo = a;
	}
	if (type == INET_DIAG_CGROUP_ID)
		at->cgroup = a;
	return MNL_CB_OK;
}

static void set_ifname(struct listener *l, struct dump *dp)
{
	if (l->ifindex == 0) {
		l->ifname[0] = '\0';
		return;
	}
	if (dp->cache_index != l->ifindex) {
		char name[IF_NAMESIZE];

		char shown[4 * IF_NAMESIZE];

		/* The interface may be gone while the socket stays bound to
		 * its index: show the number rather than nothing. So too for
		 * a name escaping would change: root of a namespace names its
		 * interfaces with any byte but '/', ':' and blanks. */
		if (!if_indextoname(l->ifindex, name) ||
		    strcmp(util_escape(shown, sizeof(shown), name, strlen(name)), name) != 0)
			snprintf(name, sizeof(name), "if%u", l->ifindex);
		memcpy(dp->cache_name, name, IF_NAMESIZE);
		dp->cache_index = l->ifindex;
	}
	memcpy(l->ifname, dp->cache_name, IF_NAMESIZE);
}

/* Keeps the local end of a half-open request for counting. */
static void dump_add_request(struct dump *dp, const struct inet_diag_msg *m)
{
	struct request_key *k;

	if (dp->nreqs == dp->capreqs) {
		if (dp->capreqs >= LISTENERS_MAX) {
			dp->set->syn_recv_truncated = true;
			return;
		}
		dp->capreqs = dp->capreqs ? dp->capreqs * 2 : 64;
		dp->reqs = xreallocarray(dp->reqs, dp->capreqs, sizeof(*dp->reqs));
	}
	k = &dp->reqs[dp->nreqs++];
	memset(k, 0, sizeof(*k));
	k->family = m->idiag_family;
	k->port = ntohs(m->id.idiag_sport);
	memcpy(k->raw, m->id.idiag_src, k->family == AF_INET ? 4 : 16);
	k->ifindex = m->id.idiag_if;
}

/* Adds one listener (or half-open request) from a sock_diag message. */
static void dump_add(struct dump *dp, const struct inet_diag_msg *m, const struct diag_attrs *at)
{
	const struct nlattr *meminfo = at->meminfo;
	struct listener_set *set = dp->set;
	struct listener *l;

	if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)
		return;
	if (m->idiag_state == TCP_SYN_RECV) {
		dump_add_request(dp, m);
		return;
	}
	if (m->idiag_state != TCP_LISTEN)
		return;
	if (set->n == set->cap) {
		if (set->cap >= LISTENERS_MAX) {
			set->truncated = true;
			return;
		}
		set->cap = set->cap ? set->cap * 2 : 256;
		if (set->cap > LISTENERS_MAX)
			set->cap = LISTENERS_MAX;
		set->v = xreallocarray(set->v, set->cap, sizeof(*set->v));
	}
	l = &set->v[set->n++];
	memset(l, 0, sizeof(*l));
	l->family = m->idiag_family;
	l->port = ntohs(m->id.idiag_sport);
	memcpy(l->raw, m->id.idiag_src, l->family == AF_INET ? 4 : 16);
	if (!inet_ntop(l->family, l->raw, l->addr, sizeof(l->addr)))
		snprintf(l->addr, sizeof(l->addr), "?");
	l->ifindex = m->id.idiag_if;
	set_ifname(l, dp);
	l->backlog = m->idiag_wqueue;
	l->queued = m->idiag_rqueue;
	l->uid = m->idiag_uid;
	l->inode = m->idiag_inode;
	if (meminfo) {
		const uint32_t *mem = mnl_attr_get_payload(meminfo);
		uint32_t drops;

		memcpy(&drops, &mem[SK_MEMINFO_DROPS], sizeof(drops));
		l->drops = drops;
		l->drops_known = true;
	}
	/* Linux 5.7+ sends it with every socket, unasked (inet_diag_msg_attrs_fill). */
	if (at->cgroup)
		l->cgroup_id = mnl_attr_get_u64(at->cgroup);
}

/* mnl_cb_run's callback for each message of the dump. */
static int dump_msg(const struct nlmsghdr *h, void *data)
{
	struct dump *dp = data;
	struct diag_attrs at = { NULL, NULL };

	if (h->nlmsg_type != TCPDIAG_GETSOCK)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(h) < sizeof(struct inet_diag_msg)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (mnl_attr_parse(h, sizeof(struct inet_diag_msg), dump_attr_check, &at) < 0)
		return MNL_CB_ERROR;
	/* Past the bound the dump is still drained to its end, so the next
	 * request on this socket starts clean. */
	if (!dp->set->truncated)
		dump_add(dp, mnl_nlmsg_get_payload(h), &at);
	return MNL_CB_OK;
}

/* libmnl's NLMSG_DONE handler ends the dump and ignores its payload; a dump
 * that failed half-way says so there. */
static int dump_done(const struct nlmsghdr *h, void *data)
{
	int e;

	(void)data;
	if (mnl_nlmsg_get_payload_len(h) >= sizeof(e)) {
		memcpy(&e, mnl_nlmsg_get_payload(h), sizeof(e));
		if (e < 0) {
			errno = -e;
			return MNL_CB_ERROR;
		}
	}
	return MNL_CB_STOP;
}

/* One dump of both families: the request of the original interface
 * (TCPDIAG_GETSOCK, struct inet_diag_req) leaves the family unspecified
 * (inet_diag_dump_compat sets AF_UNSPEC), so the kernel walks its TCP hash
 * tables once for IPv4 and IPv6 together, where SOCK_DIAG_BY_FAMILY needs
 * a request, and a walk of the host-wide tables, per family. The replies
 * carry the request's type; their payload is the same inet_diag_msg. */
static int dump_both_families(struct mnl_socket *nl, uint32_t seq, char *buf, struct dump *dp)
{
	/* libmnl takes the array as non-const; it only reads it. */
	static mnl_cb_t ctl[] = { [NLMSG_DONE] = dump_done };
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
	struct inet_diag_req *req;
	uint32_t portid = mnl_socket_get_portid(nl);
	int r;

	h->nlmsg_type = TCPDIAG_GETSOCK;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	h->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(h, sizeof(*req));
	/* The kernel filters on the state: it walks the listening hash for
	 * the listeners, and the established hash for the half-open requests
	 * (they live there), copying only those; the established connections
	 * of a busy host never reach us. One request does both walks, so the
	 * SYN queues cost one more hash walk, not one more round trip. The
	 * memory counters (sk_drops) come with each listener's message. */
	req->idiag_states = 1u << TCP_LISTEN | 1u << QT_TCP_NEW_SYN_RECV;
	req->idiag_ext = 1u << (INET_DIAG_SKMEMINFO - 1);
	if (mnl_socket_sendto(nl, h, h->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t len = mnl_socket_recvfrom(nl, buf, DUMP_BUF_SIZE);

		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0)
			return errno == ENOSPC ? -EMSGSIZE : -errno;   /* ENOSPC: MSG_TRUNC */
		if (len == 0)
			return -EIO;
		errno = 0;
		r = mnl_cb_run2(buf, (size_t)len, seq, portid, dump_msg, dp, ctl, ARRAY_SIZE(ctl));
		if (r == MNL_CB_STOP)
			return 0;
		if (r < 0)
			return errno ? -errno : -EIO;
	}
}

/* A sock_diag socket that only the kernel can write to: a connected netlink
 * socket refuses unicasts from any other sender (netlink_getsockbyportid),
 * so another local process cannot slip forged listeners into the dump. */
static int dump_socket(struct mnl_socket **out)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	int rcvbuf = DUMP_RCVBUF;
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	int r;

	*out = NULL;
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    connect(mnl_socket_get_fd(nl), (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		r = -errno;
		mnl_socket_close(nl);
		return r;
	}
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
#ifdef QTUNE_TEST_HOOKS
	if (listeners_dump_socket_hook)
		listeners_dump_socket_hook(mnl_socket_get_fd(nl));
#endif
	*out = nl;
	return 0;
}

static int listener_cmp(const void *a, const void *b)
{
	const struct listener *x = a, *y = b;
	int c;

	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	if (x->family != y->family)
		return x->family == AF_INET ? -1 : 1;
	c = memcmp(x->raw, y->raw, sizeof(x->raw));
	if (c)
		return c;
	if (x->ifindex != y->ifindex)
		return x->ifindex < y->ifindex ? -1 : 1;
	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

/* The first listener of port, family, raw and ifindex (listener_cmp's
 * order, which sorted set), or SIZE_MAX: a binary search, so a request
 * costs the logarithm of the listeners, however many share its port. */
static size_t first_with(const struct listener_set *set, uint16_t port, uint8_t family,
			 const uint8_t raw[16], uint32_t ifindex)
{
	struct listener key = { .port = port, .family = family, .ifindex = ifindex };
	size_t lo = 0, hi = set->n;

	memcpy(key.raw, raw, sizeof(key.raw));
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

#ifdef QTUNE_TEST_HOOKS
		listeners_request_probes++;
#endif
		if (listener_cmp(&set->v[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < set->n && set->v[lo].port == port && set->v[lo].family == family &&
	    memcmp(set->v[lo].raw, raw, sizeof(key.raw)) == 0 && set->v[lo].ifindex == ifindex)
		return lo;
	return SIZE_MAX;
}

/* The first listener bound to this address that takes a request arriving
 * on ifindex: one bound to no device sorts before one bound to it. */
static size_t first_taking(const struct listener_set *set, uint16_t port, uint8_t family,
			   const uint8_t raw[16], uint32_t ifindex)
{
	size_t i = first_with(set, port, family, raw, 0);

	return i == SIZE_MAX && ifindex ? first_with(set, port, family, raw, ifindex) : i;
}

/* Counts each half-open request against the listener that receives it, the
 * best of its port: its own address, else its family's wildcard, else (an
 * IPv4 request) an IPv6 listener's v4-mapped address, else the IPv6
 * wildcard (a v4 request to a dual-stack listener is an AF_INET socket). A
 * listener bound to a device takes only requests that arrived on it. With
 * SO_REUSEPORT several listeners share an address and port, and the kernel
 * does not say which one a request belongs to (a request's diag message
 * has no inode): they are counted against the first. */
static void count_requests(struct listener_set *set, const struct request_key *reqs, size_t n)
{
	static const uint8_t any[16];

	for (size_t r = 0; r < n; r++) {
		const struct request_key *k = &reqs[r];
		size_t best = first_taking(set, k->port, k->family, k->raw, k->ifindex);

		if (best == SIZE_MAX)
			best = first_taking(set, k->port, k->family, any, k->ifindex);
		if (best == SIZE_MAX && k->family == AF_INET) {
			uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff };

			memcpy(mapped + 12, k->raw, 4);
			best = first_taking(set, k->port, AF_INET6, mapped, k->ifindex);
			if (best == SIZE_MAX)
				best = first_taking(set, k->port, AF_INET6, any, k->ifindex);
		}
		if (best != SIZE_MAX)
			set->v[best].syn_recv++;
	}
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The unit of each cgroup the listeners' sockets were created in, by the
 * one unit rule (unit.h) applied to the cgroup's path, as if it were the
 * unified line of a /proc/PID/cgroup. The cgroup2 tree is walked once,
 * and only when the kernel gave an id. */
static void cgroup_units(const struct qt_ctx *ctx, struct listener_set *set)
{
	struct cgroup_map *local = NULL, **map = ctx->cgroup_cache ? ctx->cgroup_cache : &local;
	uint64_t *ids = xreallocarray(NULL, set->n + 1, sizeof(*ids));
	size_t n = 0;

	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].cgroup_id)
			ids[n++] = set->v[i].cgroup_id;
	qsort(ids, n, sizeof(*ids), u64_cmp);
	for (size_t i = 0; i < n; i++) {
		struct listener_cgroup_unit *c;
		char path[4096], *line;

		if (i > 0 && ids[i] == ids[i - 1])
			continue;
		set->cgroup_units = xreallocarray(set->cgroup_units, set->ncgroup_units + 1,
						  sizeof(*set->cgroup_units));
		c = &set->cgroup_units[set->ncgroup_units++];
		memset(c, 0, sizeof(*c));
		c->cgroup_id = ids[i];
		if (cgroup_path(map, ctx->proc_fd, ids[i], path, sizeof(path)) < 0)
			continue;
		line = xasprintf("0::%s\n", path);
		c->user_unit = unit_from_cgroup(line, c->unit, sizeof(c->unit), &c->user_uid) == UNIT_USER;
		free(line);
	}
	cgroup_map_free(local);
	free(ids);
}

int listeners_dump(const struct qt_ctx *ctx, struct listener_set *out, struct qt_diags *d)
{
	struct dump dp = { .set = out };
	struct mnl_socket *nl;
	char *buf = NULL;
	int r;

	listener_set_free(out);
	r = dump_socket(&nl);
	if (r < 0) {
		diags_error(d, "listeners: cannot open a sock_diag netlink socket: %s", strerror(-r));
		return r;
	}
	buf = xmalloc(DUMP_BUF_SIZE);
	r = dump_both_families(nl, 1, buf, &dp);
	if (r < 0) {
		diags_error(d, "listeners: sock_diag dump of TCP sockets failed: %s", strerror(-r));
		listener_set_free(out);
		goto out;
	}
	if (out->truncated)
		diags_warn(d, "listeners: more than %u listeners, only the first %u are shown",
			   LISTENERS_MAX, LISTENERS_MAX);
	if (out->syn_recv_truncated)
		diags_warn(d, "listeners: more than %u half-open requests, only the first %u are counted",
			   LISTENERS_MAX, LISTENERS_MAX);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), listener_cmp);
	cgroup_units(ctx, out);
	count_requests(out, dp.reqs, dp.nreqs);
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	out->dumped_ns = (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
out:
	free(dp.reqs);
	free(buf);
	mnl_socket_close(nl);
	return r;
}
