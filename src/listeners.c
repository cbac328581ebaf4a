/* listeners: sock_diag dump of TCP listeners, inode → process attribution. */
#include "listeners.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "util.h"

/* The kernel fills a dump skb up to 32 KiB (netlink caps max_recvmsg_len
 * there) and expects a buffer at least that large; twice that leaves room
 * for min_dump_alloc growth without ever truncating. */
#define DUMP_BUF_SIZE (64 * 1024)
#define DUMP_RCVBUF (1024 * 1024)
/* getdents64 buffer: /proc/PID/fd of a process with 50,000 fds is ~1.2 MB
 * of entries, read in a few dozen calls. */
#define DENTS_BUF_SIZE (64 * 1024)

/* ------------------------------------------------------------------ dump */

#ifdef QTUNE_TEST_HOOKS
void (*listeners_dump_socket_hook)(int fd);
#endif

/* The attributes the kernel sends after an inet_diag_msg without being asked
 * (and those an idiag_ext would add), with the type each must have. None is
 * used today; each is still checked, so a message whose attributes do not
 * add up is refused as a whole rather than read half-way. */
static const enum mnl_attr_data_type diag_attr_types[INET_DIAG_MAX + 1] = {
	[INET_DIAG_SHUTDOWN] = MNL_TYPE_U8,
	[INET_DIAG_TOS] = MNL_TYPE_U8,
	[INET_DIAG_TCLASS] = MNL_TYPE_U8,
	[INET_DIAG_SKV6ONLY] = MNL_TYPE_U8,
	[INET_DIAG_MARK] = MNL_TYPE_U32,
	[INET_DIAG_CLASS_ID] = MNL_TYPE_U32,
	[INET_DIAG_CGROUP_ID] = MNL_TYPE_U64,
	[INET_DIAG_CONG] = MNL_TYPE_NUL_STRING,
};

struct dump {
	struct listener_set *set;
	uint32_t cache_index;           /* if_indextoname() of the last index seen */
	char cache_name[IF_NAMESIZE];
};

static int dump_attr_check(const struct nlattr *a, void *data)
{
	uint16_t type = mnl_attr_get_type(a);

	(void)data;
	if (type < ARRAY_SIZE(diag_attr_types) && diag_attr_types[type] != MNL_TYPE_UNSPEC &&
	    mnl_attr_validate(a, diag_attr_types[type]) < 0)
		return MNL_CB_ERROR;    /* errno: EINVAL or ERANGE */
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

		/* The interface may be gone while the socket stays bound to
		 * its index: show the number rather than nothing. */
		if (!if_indextoname(l->ifindex, name))
			snprintf(name, sizeof(name), "if%u", l->ifindex);
		memcpy(dp->cache_name, name, IF_NAMESIZE);
		dp->cache_index = l->ifindex;
	}
	memcpy(l->ifname, dp->cache_name, IF_NAMESIZE);
}

/* Adds one listener from a sock_diag message. */
static void dump_add(struct dump *dp, const struct inet_diag_msg *m)
{
	struct listener_set *set = dp->set;
	struct listener *l;

	if (m->idiag_state != TCP_LISTEN ||
	    (m->idiag_family != AF_INET && m->idiag_family != AF_INET6))
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
}

/* mnl_cb_run's callback for each message of the dump. */
static int dump_msg(const struct nlmsghdr *h, void *data)
{
	struct dump *dp = data;

	if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(h) < sizeof(struct inet_diag_msg)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (mnl_attr_parse(h, sizeof(struct inet_diag_msg), dump_attr_check, NULL) < 0)
		return MNL_CB_ERROR;
	/* Past the bound the dump is still drained to its end, so the next
	 * request on this socket starts clean. */
	if (!dp->set->truncated)
		dump_add(dp, mnl_nlmsg_get_payload(h));
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

static int dump_family(struct mnl_socket *nl, uint8_t family, uint32_t seq, char *buf,
		       struct listener_set *set)
{
	/* libmnl takes the array as non-const; it only reads it. */
	static mnl_cb_t ctl[] = { [NLMSG_DONE] = dump_done };
	struct dump dp = { .set = set };
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
	struct inet_diag_req_v2 *req;
	uint32_t portid = mnl_socket_get_portid(nl);
	int r;

	h->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	h->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(h, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = IPPROTO_TCP;
	/* The kernel walks only the listening hash for this state set: the
	 * established connections of a busy host are never copied to us. */
	req->idiag_states = 1u << TCP_LISTEN;
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
		r = mnl_cb_run2(buf, (size_t)len, seq, portid, dump_msg, &dp, ctl, ARRAY_SIZE(ctl));
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

int listeners_dump(const struct qt_ctx *ctx, struct listener_set *out, struct qt_diags *d)
{
	static const uint8_t families[] = { AF_INET, AF_INET6 };
	struct mnl_socket *nl;
	char *buf = NULL;
	int r;

	(void)ctx;
	listener_set_free(out);
	r = dump_socket(&nl);
	if (r < 0) {
		diags_error(d, "listeners: cannot open a sock_diag netlink socket: %s", strerror(-r));
		return r;
	}
	buf = xmalloc(DUMP_BUF_SIZE);
	for (size_t i = 0; i < ARRAY_SIZE(families); i++) {
		r = dump_family(nl, families[i], (uint32_t)i + 1, buf, out);
		/* A kernel without IPv6 (ipv6.disable=1) has no inet6 handler:
		 * no IPv6 listeners, not an error. */
		if (r < 0 && families[i] == AF_INET6 && (r == -ENOENT || r == -EAFNOSUPPORT)) {
			r = 0;
			continue;
		}
		if (r < 0) {
			diags_error(d, "listeners: sock_diag dump of %s TCP sockets failed: %s",
				    families[i] == AF_INET ? "IPv4" : "IPv6", strerror(-r));
			listener_set_free(out);
			goto out;
		}
	}
	if (out->truncated)
		diags_warn(d, "listeners: more than %u listeners, only the first %u are shown",
			   LISTENERS_MAX, LISTENERS_MAX);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), listener_cmp);
out:
	free(buf);
	mnl_socket_close(nl);
	return r;
}

/* ----------------------------------------------------------- attribution */

struct ino_ix {
	uint32_t ino, ix;
};

struct link_pair {
	uint32_t listener, owner;
	int fd;
};

struct scan {
	struct listener_set *set;
	uint64_t netns;
	struct ino_ix *index;         /* sorted by inode */
	size_t nindex;
	uint32_t *last_owner;         /* per listener: owner index that last claimed it */
	struct link_pair *pairs;
	size_t npairs, cappairs;
	size_t capowners;
	char *dents;                  /* getdents buffer for fd directories */
	uint64_t netdev_ino;          /* inode of our /proc/PID/net/dev, 0 unknown */
	bool bound_hit;
};

static int ino_ix_cmp(const void *a, const void *b)
{
	const struct ino_ix *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* "PREFIX[NUMBER]" → NUMBER, for "socket:[123]" and "net:[4026531840]". */
static bool parse_bracketed(const char *s, size_t len, const char *prefix, uint64_t *out)
{
	size_t pl = strlen(prefix);
	char digits[24];
	int64_t v;

	if (len <= pl + 1 || len - pl - 1 >= sizeof(digits) || memcmp(s, prefix, pl) != 0 ||
	    s[len - 1] != ']')
		return false;
	memcpy(digits, s + pl, len - pl - 1);
	digits[len - pl - 1] = '\0';
	if (digits[0] < '0' || digits[0] > '9' || util_parse_i64(digits, &v) < 0 || v < 0)
		return false;
	*out = (uint64_t)v;
	return true;
}

/* The inode of the namespace link at dirfd/path ("ns/net"): readlink
 * tells it without following the link. */
static int netns_of(int dirfd, const char *path, uint64_t *ino)
{
	char lnk[64];
	ssize_t n = readlinkat(dirfd, path, lnk, sizeof(lnk));

	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(lnk) || !parse_bracketed(lnk, (size_t)n, "net:[", ino))
		return -EINVAL;
	return 0;
}

/* The inode of net/dev as the target namespace shows it, when the calling
 * thread is in that namespace (else 0: no fallback). */
static uint64_t netdev_reference(int proc_fd, uint64_t netns)
{
	struct stat st;
	uint64_t mine;

	if (netns_of(proc_fd, "thread-self/ns/net", &mine) < 0 || mine != netns ||
	    fstatat(proc_fd, "thread-self/net/dev", &st, 0) < 0)
		return 0;
	return st.st_ino;
}

static void owner_describe(int piddir, struct listener_owner *o)
{
	char *text = NULL;
	size_t len = 0;

	o->comm[0] = '\0';
	o->unit[0] = '\0';
	if (util_read_file_at(piddir, "comm", O_NOFOLLOW, 4 * LISTENERS_COMM_MAX, &text, &len) == 0) {
		while (len > 0 && text[len - 1] == '\n')
			len--;
		/* Chosen by whoever runs the process, printed by root. */
		util_escape(o->comm, sizeof(o->comm), text, len);
		free(text);
	}
	if (util_read_file_at(piddir, "cgroup", O_NOFOLLOW, LISTENERS_CGROUP_MAX, &text, NULL) == 0) {
		o->user_unit = unit_from_cgroup(text, o->unit, sizeof(o->unit), &o->user_uid) == UNIT_USER;
		free(text);
	}
}

static uint32_t owner_new(struct scan *s, pid_t pid)
{
	struct listener_set *set = s->set;

	if (set->nowners == s->capowners) {
		s->capowners = s->capowners ? s->capowners * 2 : 16;
		set->owners = xreallocarray(set->owners, s->capowners, sizeof(*set->owners));
	}
	memset(&set->owners[set->nowners], 0, sizeof(set->owners[0]));
	set->owners[set->nowners].pid = pid;
	return (uint32_t)set->nowners++;
}

static void pair_add(struct scan *s, uint32_t listener, uint32_t owner, int fd)
{
	if (s->last_owner[listener] == owner)
		return;       /* the same socket on several fds of one process */
	s->last_owner[listener] = owner;
	if (s->npairs == s->cappairs) {
		s->cappairs = s->cappairs ? s->cappairs * 2 : 64;
		s->pairs = xreallocarray(s->pairs, s->cappairs, sizeof(*s->pairs));
	}
	s->pairs[s->npairs++] = (struct link_pair){ listener, owner, fd };
}

static bool gone(int err)
{
	return err == -ENOENT || err == -ESRCH;
}

/* Scans one process's fd table; 0, or -errno when it could not. */
static int scan_fds(struct scan *s, int piddir, pid_t pid, uint32_t *owner)
{
	int fdd = openat(piddir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	unsigned seen = 0;
	int r = 0;

	if (fdd < 0)
		return -errno;
	for (;;) {
		ssize_t n = getdents64(fdd, s->dents, DENTS_BUF_SIZE);

		if (n < 0) {
			r = gone(-errno) ? 0 : -errno;
			break;
		}
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			struct dirent64 *e = (struct dirent64 *)(s->dents + off);
			char lnk[32];
			uint64_t ino;
			int64_t fdnum;
			ssize_t ll;

			off += e->d_reclen;
			if (e->d_name[0] == '.')
				continue;
			if (++seen > LISTENERS_SCAN_MAX_FDS) {
				s->bound_hit = true;
				goto out;
			}
			ll = readlinkat(fdd, e->d_name, lnk, sizeof(lnk));
			/* Closed meanwhile, or a long path: not a socket. */
			if (ll <= 0 || (size_t)ll >= sizeof(lnk) ||
			    !parse_bracketed(lnk, (size_t)ll, "socket:[", &ino) || ino > UINT32_MAX)
				continue;
			struct ino_ix key = { (uint32_t)ino, 0 };
			const struct ino_ix *hit = bsearch(&key, s->index, s->nindex,
							   sizeof(*s->index), ino_ix_cmp);
			if (!hit)
				continue;
			if (*owner == UINT32_MAX)
				*owner = owner_new(s, pid);
			if (util_parse_i64(e->d_name, &fdnum) < 0 || fdnum < 0 || fdnum > INT32_MAX)
				fdnum = -1;
			pair_add(s, hit->ix, *owner, (int)fdnum);
		}
	}
out:
	close(fdd);
	return r;
}

static void scan_pid(struct scan *s, int procdir, const char *name)
{
	struct listener_set *set = s->set;
	uint32_t owner = UINT32_MAX;
	uint64_t ns;
	int64_t pid;
	int piddir, r;

	if (util_parse_i64(name, &pid) < 0 || pid <= 0 || pid > INT32_MAX)
		return;
	piddir = openat(procdir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (piddir < 0)
		return;       /* exited meanwhile */
	set->pids_scanned++;
	r = netns_of(piddir, "ns/net", &ns);
	if (r < 0 && !gone(r) && s->netdev_ino) {
		/* ns/net needs ptrace access, /proc/PID/net does not: its
		 * entries are the namespace's own, so a process whose net/dev
		 * is not ours is in another namespace, and no concern. */
		struct stat st;
		if (fstatat(piddir, "net/dev", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_ino != s->netdev_ino) {
			set->pids_other_netns++;
			goto out;
		}
	}
	if (r < 0) {
		/* Cannot tell its namespace, or it is ours and we may not read
		 * its fds: skip it, and say the answer may be incomplete
		 * unless it simply exited. */
		if (!gone(r)) {
			set->pids_denied++;
			set->owners_complete = false;
		}
		goto out;
	}
	if (ns != s->netns) {
		set->pids_other_netns++;
		goto out;
	}
	r = scan_fds(s, piddir, (pid_t)pid, &owner);
	if (r < 0 && !gone(r)) {
		set->pids_denied++;
		set->owners_complete = false;
	}
	if (owner != UINT32_MAX)
		owner_describe(piddir, &set->owners[owner]);
out:
	close(piddir);
}

/* Turns the (listener, owner) pairs into per-listener runs of links. */
static void links_build(struct scan *s)
{
	struct listener_set *set = s->set;
	size_t total = 0;

	for (size_t i = 0; i < set->n; i++)
		set->v[i].nowners = 0;
	for (size_t k = 0; k < s->npairs; k++) {
		struct listener *l = &set->v[s->pairs[k].listener];
		if (l->nowners < LISTENERS_MAX_OWNERS)
			l->nowners++;
		else
			l->owners_truncated = true;
	}
	for (size_t i = 0; i < set->n; i++) {
		set->v[i].owner_off = (uint32_t)total;
		total += set->v[i].nowners;
		s->last_owner[i] = 0;       /* now: links filled so far */
	}
	set->links = xcalloc(total, sizeof(*set->links));
	set->link_fds = xcalloc(total, sizeof(*set->link_fds));
	set->nlinks = total;
	for (size_t k = 0; k < s->npairs; k++) {
		uint32_t li = s->pairs[k].listener;
		struct listener *l = &set->v[li];
		if (s->last_owner[li] < l->nowners) {
			set->link_fds[l->owner_off + s->last_owner[li]] = s->pairs[k].fd;
			set->links[l->owner_off + s->last_owner[li]++] = s->pairs[k].owner;
		}
	}
}

static void attribution_reset(struct listener_set *set)
{
	free(set->owners);
	free(set->links);
	free(set->link_fds);
	set->owners = NULL;
	set->links = NULL;
	set->link_fds = NULL;
	set->nowners = set->nlinks = 0;
	set->pids_scanned = set->pids_other_netns = set->pids_denied = 0;
	for (size_t i = 0; i < set->n; i++) {
		set->v[i].nowners = 0;
		set->v[i].owner_off = 0;
		set->v[i].owners_truncated = false;
		set->v[i].owners_known = false;
	}
}

int listeners_attribute(const struct qt_ctx *ctx, struct listener_set *set, struct qt_diags *d)
{
	struct scan s = { .set = set, .netns = ctx->netns_inode };
	char *dents = NULL;
	unsigned pids = 0;
	int procdir = -1;
	uid_t me = geteuid();

	attribution_reset(set);
	set->attributed = true;
	set->owners_complete = true;
	set->viewer_root = geteuid() == 0;
	if (set->n == 0)
		return 0;
	if (s.netns == 0 && netns_of(ctx->proc_fd, "thread-self/ns/net", &s.netns) < 0) {
		diags_warn(d, "listeners: cannot tell which network namespace this is; owners unknown");
		set->owners_complete = false;
		goto done;
	}
	s.netdev_ino = netdev_reference(ctx->proc_fd, s.netns);
	procdir = openat(ctx->proc_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (procdir < 0) {
		diags_warn(d, "listeners: cannot list /proc: %s; owners unknown", strerror(errno));
		set->owners_complete = false;
		goto done;
	}
	s.nindex = set->n;
	s.index = xreallocarray(NULL, set->n, sizeof(*s.index));
	for (size_t i = 0; i < set->n; i++)
		s.index[i] = (struct ino_ix){ set->v[i].inode, (uint32_t)i };
	qsort(s.index, s.nindex, sizeof(*s.index), ino_ix_cmp);
	s.last_owner = xreallocarray(NULL, set->n, sizeof(*s.last_owner));
	memset(s.last_owner, 0xff, set->n * sizeof(*s.last_owner));
	s.dents = xmalloc(DENTS_BUF_SIZE);
	dents = xmalloc(DENTS_BUF_SIZE);
	for (;;) {
		ssize_t n = getdents64(procdir, dents, DENTS_BUF_SIZE);

		if (n < 0) {
			diags_warn(d, "listeners: reading /proc: %s; owners may be incomplete",
				   strerror(errno));
			set->owners_complete = false;
			break;
		}
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			struct dirent64 *e = (struct dirent64 *)(dents + off);

			off += e->d_reclen;
			if (e->d_name[0] < '1' || e->d_name[0] > '9')
				continue;
			if (++pids > LISTENERS_SCAN_MAX_PIDS) {
				s.bound_hit = true;
				goto scanned;
			}
			scan_pid(&s, procdir, e->d_name);
		}
	}
scanned:
	if (s.bound_hit) {
		diags_warn(d, "listeners: stopped scanning at %u processes or %u fds per process; "
			   "owners may be incomplete", LISTENERS_SCAN_MAX_PIDS, LISTENERS_SCAN_MAX_FDS);
		set->owners_complete = false;
	}
	links_build(&s);
done:
	/* With /proc mounted hidepid=, other users' processes are not even
	 * listed: a listener of another uid with no owner found may well have
	 * one we cannot see. */
	for (size_t i = 0; i < set->n && me != 0; i++)
		if (set->v[i].nowners == 0 && set->v[i].uid != me)
			set->owners_complete = false;
	for (size_t i = 0; i < set->n; i++)
		set->v[i].owners_known = set->v[i].nowners > 0 || set->owners_complete;
	if (procdir >= 0)
		close(procdir);
	free(dents);
	free(s.dents);
	free(s.index);
	free(s.last_owner);
	free(s.pairs);
	return 0;
}
