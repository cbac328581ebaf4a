/* owners_walker: the owners of a subset of listeners, as queries (an
 * inode and a uid each) answered by this process's walk or by the owner
 * walker, a child forked before Landlock that serves its confined parent
 * over a socketpair; each answer checked, then merged into the set. */
#include "owners_walker.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "owners_int.h"
#include "util.h"

/* ------------------------------------------------------ queries, answers */

/* What a walk is asked about one listener: only what it needs. */
struct owner_query {
	uint32_t inode, uid;
};

/* What it answers about that listener: its run of links. No padding:
 * it crosses the walker's socket whole. */
struct owner_run {
	uint32_t inode, owner_off, owners_total;
	uint16_t nowners;
	uint8_t truncated, known;
};

/* The owners of the listeners asked about, in the order asked. */
struct owner_answer {
	struct owner_run *runs;
	size_t n;
	struct listener_owner *owners;
	size_t nowners;
	uint32_t *links;
	int *link_fds;
	size_t nlinks;
	bool owners_complete, viewer_root;
	unsigned pids_scanned, pids_other_netns, pids_denied, fd_tables_read;
};

static void answer_free(struct owner_answer *a)
{
	free(a->runs);
	free(a->owners);
	free(a->links);
	free(a->link_fds);
	memset(a, 0, sizeof(*a));
}

/* The walk for n queries, here: a set of just those listeners, walked,
 * and its attribution moved into the answer. */
static void answer_queries(const struct qt_ctx *ctx, const struct owner_query *q, size_t n,
			   struct owner_answer *a, struct qt_diags *d)
{
	struct listener_set mini = { 0 };

	memset(a, 0, sizeof(*a));
	mini.v = xcalloc(n + 1, sizeof(*mini.v));
	mini.n = mini.cap = n;
	for (size_t i = 0; i < n; i++) {
		mini.v[i].inode = q[i].inode;
		mini.v[i].uid = q[i].uid;
	}
	owners_attribute_all(ctx, &mini, d);
	a->n = n;
	a->runs = xcalloc(n + 1, sizeof(*a->runs));
	for (size_t i = 0; i < n; i++) {
		const struct listener *l = &mini.v[i];

		a->runs[i] = (struct owner_run){ l->inode, l->owner_off, l->owners_total, l->nowners,
						 l->owners_truncated, l->owners_known };
	}
	a->owners = mini.owners;
	a->nowners = mini.nowners;
	a->links = mini.links;
	a->link_fds = mini.link_fds;
	a->nlinks = mini.nlinks;
	mini.owners = NULL;
	mini.links = NULL;
	mini.link_fds = NULL;
	a->owners_complete = mini.owners_complete;
	a->viewer_root = mini.viewer_root;
	a->pids_scanned = mini.pids_scanned;
	a->pids_other_netns = mini.pids_other_netns;
	a->pids_denied = mini.pids_denied;
	a->fd_tables_read = mini.fd_tables_read;
	listener_set_free(&mini);
}

/* --------------------------------------------------------- owner walker */

/* The owner walk needs ptrace access to other processes, which Landlock
 * takes away from a confined process. The walker is a child forked before
 * the rules: it is never confined, parses nothing but its parent's
 * requests (an inode and a uid per listener), writes no file, and answers
 * each request with the attribution of those listeners. So the confined
 * command decides which listeners need owners once it has read the
 * profile, and the walk happens only for those. Request and answer carry
 * nothing of a listener the walk does not read or write: the parent holds
 * no copy of its listeners for the walker, however many there are. */
struct owner_walker {
	pid_t pid;
	int fd;
};

/* What the walker sends before the arrays of an answer; no padding. */
struct walker_head {
	uint32_t n, nowners, nlinks, ndiags;
	uint32_t owners_complete, viewer_root;
	uint32_t pids_scanned, pids_other_netns, pids_denied, fd_tables_read;
};

static int read_exact(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_diags(int fd, const struct qt_diags *d)
{
	int r = 0;

	for (size_t i = 0; i < d->n && r == 0; i++) {
		uint32_t hdr[2] = { (uint32_t)d->v[i].level, (uint32_t)strlen(d->v[i].msg) };

		r = util_write_all(fd, hdr, sizeof(hdr));
		if (r == 0)
			r = util_write_all(fd, d->v[i].msg, hdr[1]);
	}
	return r;
}

static int walker_answer(int fd, const struct qt_ctx *ctx, const struct owner_query *q, size_t n)
{
	struct qt_diags d = { 0 };
	struct owner_answer a;
	struct walker_head h;
	int r;

	answer_queries(ctx, q, n, &a, &d);
	h = (struct walker_head){ (uint32_t)a.n, (uint32_t)a.nowners, (uint32_t)a.nlinks,
				  (uint32_t)d.n, a.owners_complete, a.viewer_root, a.pids_scanned,
				  a.pids_other_netns, a.pids_denied, a.fd_tables_read };
	r = util_write_all(fd, &h, sizeof(h));
	if (r == 0)
		r = send_diags(fd, &d);
	if (r == 0)
		r = util_write_all(fd, a.runs, a.n * sizeof(*a.runs));
	if (r == 0 && a.nowners)
		r = util_write_all(fd, a.owners, a.nowners * sizeof(*a.owners));
	if (r == 0 && a.nlinks)
		r = util_write_all(fd, a.links, a.nlinks * sizeof(*a.links));
	if (r == 0 && a.nlinks)
		r = util_write_all(fd, a.link_fds, a.nlinks * sizeof(*a.link_fds));
	answer_free(&a);
	diags_free(&d);
	return r;
}

/* The walker's life: one answer per request until its parent hangs up. */
static void walker_serve(int fd, const struct qt_ctx *ctx)
{
	for (;;) {
		struct owner_query *q;
		uint32_t n;
		int r;

		if (read_exact(fd, &n, sizeof(n)) < 0 || n == 0 || n > LISTENERS_MAX)
			return;
		q = xreallocarray(NULL, n, sizeof(*q));
		r = read_exact(fd, q, n * sizeof(*q));
		if (r == 0)
			r = walker_answer(fd, ctx, q, n);
		free(q);
		if (r < 0)
			return;
	}
}

/* Closes every descriptor but stdio, a and b: the walker holds neither
 * the lock of an apply nor anything else its parent opened. */
static void keep_only(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;

	if (lo > 3)
		close_range(3, (unsigned)lo - 1, 0);
	if (hi > lo + 1)
		close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
	close_range((unsigned)hi + 1, ~0u, 0);
}

int listeners_walker_start(const struct qt_ctx *ctx, struct owner_walker **out)
{
	struct owner_walker *w;
	int sv[2];
	pid_t pid;

	*out = NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	/* The child must not inherit output still buffered (main has written
	 * the JSON header by now): whatever ends it, nothing is written twice. */
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int r = -errno;
		close(sv[0]);
		close(sv[1]);
		return r;
	}
	if (pid == 0) {
		keep_only(sv[1], ctx->proc_fd);
		/* Dies with its parent, whatever killed it. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == 0 && getppid() != 1)
			walker_serve(sv[1], ctx);
		_exit(0);
	}
	close(sv[1]);
	w = xmalloc(sizeof(*w));
	w->pid = pid;
	w->fd = sv[0];
	*out = w;
	return 0;
}

void listeners_walker_stop(struct owner_walker *w)
{
	if (!w)
		return;
	close(w->fd);
	while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
		;
	free(w);
}

/* Reads the answer to the n queries q into a, checking that it is about
 * those listeners, in their order, and that every link is in bounds. */
static int walker_read(int fd, const struct owner_query *q, size_t n, struct owner_answer *a,
		       struct qt_diags *d)
{
	struct walker_head h;
	uint64_t total = 0;
	int r = read_exact(fd, &h, sizeof(h));

	memset(a, 0, sizeof(*a));
	if (r < 0)
		return r;
	if (h.n != n || h.nlinks > h.n * (uint64_t)LISTENERS_MAX_OWNERS || h.nowners > h.nlinks ||
	    h.ndiags > 64)
		return -EBADMSG;
	for (uint32_t i = 0; i < h.ndiags; i++) {
		uint32_t hdr[2];
		char *msg;

		if ((r = read_exact(fd, hdr, sizeof(hdr))) < 0)
			return r;
		if (hdr[1] > 4096 || hdr[0] > QT_LEVEL_ERROR)
			return -EBADMSG;
		msg = xcalloc(1, hdr[1] + 1);
		if ((r = read_exact(fd, msg, hdr[1])) == 0)
			diags_add(d, (enum qt_level)hdr[0], NULL, 0, 0, "%s", msg);
		free(msg);
		if (r < 0)
			return r;
	}
	a->n = h.n;
	a->runs = xreallocarray(NULL, h.n + 1, sizeof(*a->runs));
	a->owners = xreallocarray(NULL, h.nowners + 1, sizeof(*a->owners));
	a->links = xreallocarray(NULL, h.nlinks + 1, sizeof(*a->links));
	a->link_fds = xreallocarray(NULL, h.nlinks + 1, sizeof(*a->link_fds));
	a->nowners = h.nowners;
	a->nlinks = h.nlinks;
	if ((r = read_exact(fd, a->runs, h.n * sizeof(*a->runs))) < 0 ||
	    (r = read_exact(fd, a->owners, h.nowners * sizeof(*a->owners))) < 0 ||
	    (r = read_exact(fd, a->links, h.nlinks * sizeof(*a->links))) < 0 ||
	    (r = read_exact(fd, a->link_fds, h.nlinks * sizeof(*a->link_fds))) < 0)
		goto bad;
	r = -EBADMSG;
	for (uint32_t i = 0; i < h.n; i++) {
		const struct owner_run *x = &a->runs[i];

		if (x->inode != q[i].inode || x->nowners > LISTENERS_MAX_OWNERS ||
		    x->owner_off > h.nlinks || x->nowners > h.nlinks - x->owner_off ||
		    x->owners_total < x->nowners || x->truncated > 1 || x->known > 1)
			goto bad;
		total += x->nowners;
	}
	if (total != h.nlinks)
		goto bad;
	for (uint32_t k = 0; k < h.nlinks; k++)
		if (a->links[k] >= h.nowners)
			goto bad;
	for (uint32_t k = 0; k < h.nowners; k++) {
		a->owners[k].comm[LISTENERS_COMM_MAX - 1] = '\0';
		a->owners[k].unit[LISTENERS_UNIT_MAX - 1] = '\0';
		a->owners[k].exe[LISTENERS_COMM_MAX - 1] = '\0';
	}
	a->owners_complete = h.owners_complete != 0;
	a->viewer_root = h.viewer_root != 0;
	a->pids_scanned = h.pids_scanned;
	a->pids_other_netns = h.pids_other_netns;
	a->pids_denied = h.pids_denied;
	a->fd_tables_read = h.fd_tables_read;
	return 0;
bad:
	answer_free(a);
	return r;
}

static int walker_ask(struct owner_walker *w, const struct owner_query *q, size_t n,
		      struct owner_answer *a, struct qt_diags *d)
{
	uint32_t n32 = (uint32_t)n;
	int r = util_write_all(w->fd, &n32, sizeof(n32));

	if (r == 0)
		r = util_write_all(w->fd, q, n * sizeof(*q));
	if (r == 0)
		r = walker_read(w->fd, q, n, a, d);
	if (r < 0)
		diags_warn(d, "listeners: the owner walker failed: %s; owners unknown", strerror(-r));
	return r;
}

/* ------------------------------------------------------ owners of a subset */

/* Appends the answer about the wanted listeners of set (in order) to set:
 * the owners and links after set's own, each listener's run of them. */
static void merge(struct listener_set *set, const bool *want, const struct owner_answer *a)
{
	size_t owners0 = set->nowners, links0 = set->nlinks, j = 0;

	set->owners = xreallocarray(set->owners, owners0 + a->nowners + 1, sizeof(*set->owners));
	if (a->nowners)
		memcpy(set->owners + owners0, a->owners, a->nowners * sizeof(*set->owners));
	set->links = xreallocarray(set->links, links0 + a->nlinks + 1, sizeof(*set->links));
	set->link_fds = xreallocarray(set->link_fds, links0 + a->nlinks + 1, sizeof(*set->link_fds));
	for (size_t k = 0; k < a->nlinks; k++) {
		set->links[links0 + k] = a->links[k] + (uint32_t)owners0;
		set->link_fds[links0 + k] = a->link_fds ? a->link_fds[k] : -1;
	}
	set->nowners += a->nowners;
	set->nlinks += a->nlinks;
	for (size_t i = 0; i < set->n; i++) {
		struct listener *l = &set->v[i];
		const struct owner_run *x;

		if (want && !want[i])
			continue;
		x = &a->runs[j++];
		l->owner_off = x->owner_off + (uint32_t)links0;
		l->nowners = x->nowners;
		l->owners_total = x->owners_total;
		l->owners_truncated = x->truncated;
		l->owners_known = x->known;
		l->owners_looked_up = true;
	}
	set->owners_complete = (set->attributed ? set->owners_complete : true) && a->owners_complete;
	set->attributed = true;
	set->viewer_root = a->viewer_root;
	set->pids_scanned += a->pids_scanned;
	set->pids_other_netns += a->pids_other_netns;
	set->pids_denied += a->pids_denied;
	set->fd_tables_read += a->fd_tables_read;
}

int listeners_attribute_some(const struct qt_ctx *ctx, struct owner_walker *walker,
			     struct listener_set *set, const bool *want, struct qt_diags *d)
{
	struct owner_answer a = { 0 };
	struct owner_query *q;
	size_t n = 0;
	int r = 0;

	for (size_t i = 0; i < set->n; i++)
		n += !want || want[i];
	if (n == 0) {
		/* Nothing asked: no walk at all. Owners of the others stay
		 * as they were (not looked up, for a fresh dump). */
		if (!set->attributed) {
			set->attributed = true;
			set->owners_complete = true;
			set->viewer_root = geteuid() == 0;
		}
		return 0;
	}
	q = xreallocarray(NULL, n, sizeof(*q));
	for (size_t i = 0, j = 0; i < set->n; i++)
		if (!want || want[i])
			q[j++] = (struct owner_query){ set->v[i].inode, set->v[i].uid };
	if (walker)
		r = walker_ask(walker, q, n, &a, d);
	else
		answer_queries(ctx, q, n, &a, d);
	if (r == 0)
		merge(set, want, &a);
	answer_free(&a);
	free(q);
	return r;
}
