/* relisten: raise existing listeners' backlogs through pidfd_getfd + listen(). */
#include "relisten.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sysctl.h"
#include "util.h"

/* Headers older than Linux 5.6 lack them; the numbers are the same on
 * every architecture that has the unified syscall table. */
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

#define ADVICE_MAX 512

const char *relisten_status_name(enum relisten_status status)
{
	switch (status) {
	case RELISTEN_RAISED: return "raised";
	case RELISTEN_WOULD_RAISE: return "would-raise";
	case RELISTEN_ALREADY_FINE: return "already-fine";
	case RELISTEN_FAILED: return "failed";
	}
	return "?";
}

const char *relisten_choice_text(enum relisten_choice choice)
{
	switch (choice) {
	case RELISTEN_TO_CEILING: return "the ceiling: the program's own request is unknown";
	case RELISTEN_TO_REQUIREMENT: return "the profile's requirement";
	case RELISTEN_TO_EXPLICIT: return "the --backlog asked for";
	}
	return "?";
}

const char *relisten_choice_name(enum relisten_choice choice)
{
	switch (choice) {
	case RELISTEN_TO_CEILING: return "ceiling";
	case RELISTEN_TO_REQUIREMENT: return "requirement";
	case RELISTEN_TO_EXPLICIT: return "explicit";
	}
	return "?";
}

/* ------------------------------------------------------------------ plan */

static int target_by_inode(const void *a, const void *b)
{
	const struct relisten_target *x = a, *y = b;

	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	return x->listener < y->listener ? -1 : x->listener > y->listener;
}

static int target_by_listener(const void *a, const void *b)
{
	const struct relisten_target *x = a, *y = b;

	return x->listener < y->listener ? -1 : x->listener > y->listener;
}

/* One target per socket, when the set lists a socket twice. That happens
 * when the dump races a listen(): inet_diag resumes a half-sent bucket of
 * the listening hash by position, so a socket inserted at the bucket's head
 * between two netlink batches (a new SO_REUSEPORT worker joins its group's
 * bucket) shifts the rest, and the socket at the batch boundary comes twice;
 * listeners_dump keeps both. Not from the two families: one walk lists each
 * socket once, under its own family (a dual-stack socket is
 * AF_INET6), and each socket of an SO_REUSEPORT group has its own inode. A
 * socket without an inode is never merged: nothing says two are the same. */
static size_t merge_same_inode(struct relisten_target *v, size_t n)
{
	size_t w = 0;

	qsort(v, n, sizeof(*v), target_by_inode);
	for (size_t i = 0; i < n; i++) {
		struct relisten_target *prev = w ? &v[w - 1] : NULL;

		if (prev && v[i].inode != 0 && prev->inode == v[i].inode) {
			prev->clamped |= v[i].clamped;
			prev->maybe_clamped |= v[i].maybe_clamped;
			prev->below_min |= v[i].below_min;
			if (v[i].old_backlog > prev->old_backlog)
				prev->old_backlog = v[i].old_backlog;
			if (v[i].new_backlog > prev->new_backlog)
				prev->new_backlog = v[i].new_backlog;
			continue;
		}
		v[w++] = v[i];
	}
	qsort(v, w, sizeof(*v), target_by_listener);
	return w;
}

int relisten_plan(const struct listener_set *set, const struct findings *f,
		  enum relisten_mode mode, int64_t somaxconn_now, int64_t backlog,
		  struct relisten_target **out, size_t *n)
{
	struct relisten_target *v = NULL;
	size_t *slot = NULL, nv = 0;

	*out = NULL;
	*n = 0;
	if (set->n == 0 || !f || f->n == 0)
		return 0;
	slot = xreallocarray(NULL, set->n, sizeof(*slot));
	for (size_t i = 0; i < set->n; i++)
		slot[i] = SIZE_MAX;
	for (size_t j = 0; j < f->n; j++) {
		const struct finding *x = &f->v[j];
		bool clamped = x->kind == FINDING_CLAMPED;
		bool maybe = mode == RELISTEN_ALL && x->kind == FINDING_MAYBE_CLAMPED;
		bool below = mode == RELISTEN_ALL && x->kind == FINDING_BELOW_MIN;
		enum relisten_choice choice = below ? RELISTEN_TO_REQUIREMENT : RELISTEN_TO_CEILING;
		int64_t want = x->limit;
		bool capped = false;

		if ((!clamped && !maybe && !below) || x->listener >= set->n)
			continue;
		if (backlog > 0) {
			want = backlog;
			choice = RELISTEN_TO_EXPLICIT;
		}
		if (somaxconn_now > 0 && want > somaxconn_now) {
			want = somaxconn_now;
			capped = true;
		}
		if (slot[x->listener] == SIZE_MAX) {
			const struct listener *l = &set->v[x->listener];

			/* At most one target per listener: nv <= set->n. */
			if (!v)
				v = xcalloc(set->n, sizeof(*v));
			slot[x->listener] = nv;
			v[nv] = (struct relisten_target){
				.listener = x->listener, .inode = l->inode,
				.old_backlog = l->backlog, .new_backlog = l->backlog,
				.choice = choice,
			};
			findings_program_setting(set, l, somaxconn_now > 0 ? somaxconn_now : want,
						 v[nv].setting, sizeof(v[nv].setting));
			nv++;
		}
		struct relisten_target *t = &v[slot[x->listener]];
		t->clamped |= clamped;
		t->maybe_clamped |= maybe;
		t->below_min |= below;
		/* Starting from the current backlog, this only ever raises it. */
		if (want > t->new_backlog) {
			t->new_backlog = want;
			t->choice = choice;
			t->capped = capped;
		}
	}
	free(slot);
	if (nv == 0) {
		free(v);
		return 0;
	}
	*out = v;
	nv = merge_same_inode(v, nv);
	*n = nv;
	return 0;
}

/* --------------------------------------------------------------- execute */

/* What the run may explain failures with. */
struct env {
	bool cap_sys_ptrace;
	int ptrace_scope;
};

static int read_ptrace_scope(const struct qt_ctx *ctx)
{
	char buf[32];
	int64_t v;

	/* Only read: kernel.* is host-wide, qtune never writes it here. */
	if (ctx->procsys_fd < 0 ||
	    sysctl_read(ctx->procsys_fd, "kernel/yama/ptrace_scope", buf, sizeof(buf)) < 0 ||
	    util_parse_i64(buf, &v) < 0 || v < 0 || v > INT_MAX)
		return -1;
	return (int)v;
}

static bool have_effective(cap_value_t c)
{
	cap_flag_value_t v = CAP_CLEAR;
	cap_t caps = cap_get_proc();

	if (caps) {
		cap_get_flag(caps, c, CAP_EFFECTIVE, &v);
		cap_free(caps);
	}
	return v == CAP_SET;
}

/* A duplicate of fd number fd of process pid, or -errno. The pidfd comes
 * first, so that an owner that exited says so; without a known fd number
 * there is nothing to take from a live one (-ESTALE: try another owner). */
static int take(pid_t pid, int fd, int *dup)
{
	int pidfd, r = 0;

	*dup = -1;
	if (pid <= 0)
		return -ESRCH;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -errno;
	if (fd < 0) {
		close(pidfd);
		return -ESTALE;
	}
	/* The duplicate comes with O_CLOEXEC set. */
	*dup = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (*dup < 0) {
		r = -errno;
		*dup = -1;
	}
	close(pidfd);
	/* The fd number is closed by now: the owner no longer holds it there. */
	return r == -EBADF ? -ESTALE : r;
}

static bool sockopt_is(int fd, int level, int name, int want)
{
	int v = 0;
	socklen_t len = sizeof(v);

	return getsockopt(fd, level, name, &v, &len) == 0 && len == sizeof(v) && v == want;
}

static uint16_t bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

/* The duplicate is the socket sock_diag named — same inode, a listening
 * TCP socket of the same family and port — or -ESTALE: the fd number was
 * reused, or the pid is another process now. *backlog: its backlog as the
 * socket says it now (TCP_INFO aliases sk_max_ack_backlog as tcpi_sacked
 * for a listener). */
static int verify(int fd, const struct listener *l, uint64_t inode, int64_t *backlog)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode) || (uint64_t)st.st_ino != inode)
		return -ESTALE;
	if (!sockopt_is(fd, SOL_SOCKET, SO_DOMAIN, l->family) ||
	    !sockopt_is(fd, SOL_SOCKET, SO_TYPE, SOCK_STREAM) ||
	    !sockopt_is(fd, SOL_SOCKET, SO_PROTOCOL, IPPROTO_TCP) ||
	    !sockopt_is(fd, SOL_SOCKET, SO_ACCEPTCONN, 1) || bound_port(fd) != l->port)
		return -ESTALE;
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return -errno;
	if (ti.tcpi_state != TCP_LISTEN)
		return -ESTALE;
	*backlog = ti.tcpi_sacked;
	return 0;
}

/* Which error explains a failure best when several owners were tried. */
static int error_rank(int e)
{
	switch (e) {
	case 0: return 0;
	case -ESRCH: return 1;
	case -ESTALE: return 2;
	case -EPERM: case -EACCES: return 4;
	case -ENOSYS: return 5;
	default: return 3;
	}
}

static char *permission_reason(const struct env *env, const struct listener_owner *o)
{
	const char *why;

	if (env->ptrace_scope >= 3)
		why = "kernel.yama.ptrace_scope is 3: no process may take another's file descriptors, "
		      "whatever its privileges";
	else if (!env->cap_sys_ptrace && env->ptrace_scope == 2)
		why = "needs CAP_SYS_PTRACE over the owner (kernel.yama.ptrace_scope is 2: "
		      "nothing less will do)";
	else if (!env->cap_sys_ptrace && env->ptrace_scope == 1)
		why = "needs CAP_SYS_PTRACE over the owner (kernel.yama.ptrace_scope is 1: "
		      "without it only the owner's ancestors may)";
	else if (!env->cap_sys_ptrace)
		why = "needs CAP_SYS_PTRACE over the owner";
	else
		why = "denied although qtune holds CAP_SYS_PTRACE: a security module (AppArmor, "
		      "SELinux) or the owner's user namespace forbids it";
	return xasprintf("not permitted to take the socket from pid %d (%s): %s",
			 (int)o->pid, o->comm[0] ? o->comm : "?", why);
}

static char *failure_reason(const struct env *env, int e, const struct listener_owner *o)
{
	switch (e) {
	case -EPERM:
	case -EACCES:
		return permission_reason(env, o);
	case -ENOSYS:
		return xstrdup("this kernel cannot duplicate another process's file descriptors "
			       "(pidfd_getfd needs Linux 5.6 or later)");
	case -ESRCH:
		return xasprintf("its process exited meanwhile (pid %d)", (int)o->pid);
	case -ESTALE:
		return xasprintf("pid %d (%s) no longer holds it where it was found; run again",
				 (int)o->pid, o->comm[0] ? o->comm : "?");
	default:
		return xasprintf("cannot take the socket from pid %d (%s): %s", (int)o->pid,
				 o->comm[0] ? o->comm : "?", strerror(-e));
	}
}

static void fail(struct relisten_result *r, const struct listener_set *set,
		 const struct listener *l, int e, char *reason)
{
	char advice[ADVICE_MAX];

	r->status = RELISTEN_FAILED;
	r->err = e;
	free(r->reason);
	free(r->advice);
	r->reason = reason;
	r->advice = NULL;
	/* An unknown owner is the reason itself: nothing more to say. */
	if (l->owners_known && l->nowners > 0) {
		findings_restart_advice(set, l, advice, sizeof(advice));
		r->advice = xstrdup(advice);
	}
}

static void name_owner(struct relisten_result *r, const struct listener_owner *o)
{
	r->pid = o->pid;
	snprintf(r->comm, sizeof(r->comm), "%s", o->comm);
}

/* Tries the owners of l in turn until one lends the socket. */
static void raise_one(const struct env *env, const struct listener_set *set,
		      const struct listener *l, struct relisten_result *r)
{
	int best = 0;
	size_t bestk = 0;

	for (size_t k = 0; k < l->nowners; k++) {
		const struct listener_owner *o = listener_owner_at(set, l, k);
		int64_t now = 0;
		int dup, e;

		e = take(o->pid, listener_owner_fd(set, l, k), &dup);
		if (e == 0)
			e = verify(dup, l, r->inode, &now);
		if (e == 0) {
			name_owner(r, o);
			r->old_backlog = now;
			/* Raised meanwhile (a restart, the program itself): never
			 * lower what is there. */
			if (now >= r->new_backlog)
				r->status = RELISTEN_ALREADY_FINE;
			else if (listen(dup, (int)(r->new_backlog > INT_MAX ? INT_MAX : r->new_backlog)) < 0) {
				e = -errno;
				fail(r, set, l, e, xasprintf("listen() on the socket of pid %d (%s) "
							     "failed: %s", (int)o->pid, o->comm,
							     strerror(-e)));
			} else {
				r->status = RELISTEN_RAISED;
			}
			close(dup);
			return;
		}
		if (dup >= 0)
			close(dup);
		if (error_rank(e) > error_rank(best)) {
			best = e;
			bestk = k;
		}
		if (e == -ENOSYS)
			break;
	}
	const struct listener_owner *o = listener_owner_at(set, l, bestk);
	name_owner(r, o);
	fail(r, set, l, best, failure_reason(env, best, o));
}

/* Why nothing can be tried for l, or NULL. */
static char *untouchable(const struct env *env, const struct listener_set *set,
			 const struct listener *l, uint64_t inode, int *err)
{
	if (inode == 0) {
		*err = -ENOENT;
		return xstrdup("the kernel gives no inode for it, so it cannot be identified; "
			       "left alone");
	}
	if (!l->owners_known || l->nowners == 0) {
		char why[ADVICE_MAX];

		/* The one wording of this cause, the findings' own. */
		*err = l->owners_known ? -ESRCH : -EACCES;
		findings_restart_advice(set, l, why, sizeof(why));
		return xstrdup(why);
	}
	if (env->ptrace_scope >= 3) {
		*err = -EPERM;
		return permission_reason(env, listener_owner_at(set, l, 0));
	}
	return NULL;
}

struct ino_backlog {
	uint64_t inode;
	int64_t backlog;
};

static int ino_backlog_cmp(const void *a, const void *b)
{
	const struct ino_backlog *x = a, *y = b;

	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

/* One sock_diag dump for all: the kernel's own word on each backlog. */
static void confirm(const struct qt_ctx *ctx, const struct listener_set *set,
		    struct relisten_results *out, struct qt_diags *d)
{
	struct listener_set now = { 0 };
	struct qt_diags tmp = { 0 };
	struct ino_backlog *ix = NULL;

	/* A failed read-back does not undo what was done: a warning, and
	 * the results stay unconfirmed. */
	if (listeners_dump(ctx, &now, &tmp) < 0) {
		diags_warn(d, "relisten: the new backlogs could not be read back%s%s",
			   tmp.n ? ": " : "", tmp.n ? tmp.v[0].msg : "");
		goto out;
	}
	if (now.n)
		ix = xreallocarray(NULL, now.n, sizeof(*ix));
	for (size_t i = 0; i < now.n; i++)
		ix[i] = (struct ino_backlog){ now.v[i].inode, now.v[i].backlog };
	qsort(ix, now.n, sizeof(*ix), ino_backlog_cmp);
	for (size_t i = 0; i < out->n; i++) {
		struct relisten_result *r = &out->v[i];
		struct ino_backlog key = { r->inode, 0 };
		const struct ino_backlog *hit;

		if ((r->status != RELISTEN_RAISED && r->status != RELISTEN_ALREADY_FINE) ||
		    r->inode == 0)
			continue;
		hit = now.n ? bsearch(&key, ix, now.n, sizeof(*ix), ino_backlog_cmp) : NULL;
		if (hit)
			r->backlog_now = hit->backlog;
		if (r->status != RELISTEN_RAISED)
			continue;
		if (!hit && !now.truncated)
			fail(r, set, &set->v[r->listener], -ENOENT,
			     xstrdup("listen() was called, but the socket is gone now (its owner "
				     "closed it)"));
		else if (hit && hit->backlog < r->new_backlog)
			fail(r, set, &set->v[r->listener], -EIO,
			     xasprintf("listen() was called, but its backlog reads %lld, not %lld "
				       "(was net.core.somaxconn lowered meanwhile?)",
				       (long long)hit->backlog, (long long)r->new_backlog));
	}
	out->confirmed = true;
out:
	free(ix);
	listener_set_free(&now);
	diags_free(&tmp);
}

int relisten_execute(const struct qt_ctx *ctx, const struct listener_set *set,
		     const struct relisten_target *t, size_t n, bool dry_run,
		     struct relisten_results *out, struct qt_diags *d)
{
	struct env env = { .cap_sys_ptrace = have_effective(CAP_SYS_PTRACE),
			   .ptrace_scope = read_ptrace_scope(ctx) };
	size_t raised = 0;

	relisten_results_free(out);
	out->dry_run = dry_run;
	out->cap_sys_ptrace = env.cap_sys_ptrace;
	out->ptrace_scope = env.ptrace_scope;
	out->v = n ? xcalloc(n, sizeof(*out->v)) : NULL;
	for (size_t i = 0; i < n; i++) {
		struct relisten_result *r = &out->v[out->n];
		const struct listener *l;
		char *why;
		int e = 0;

		if (t[i].listener >= set->n)
			continue;       /* not a target of this set */
		out->n++;
		l = &set->v[t[i].listener];
		*r = (struct relisten_result){
			.listener = t[i].listener, .inode = t[i].inode,
			.clamped = t[i].clamped, .maybe_clamped = t[i].maybe_clamped,
			.below_min = t[i].below_min, .choice = t[i].choice, .capped = t[i].capped,
			.old_backlog = t[i].old_backlog, .new_backlog = t[i].new_backlog,
			.backlog_now = -1,
		};
		memcpy(r->setting, t[i].setting, sizeof(r->setting));
		if (r->new_backlog <= r->old_backlog) {
			r->status = RELISTEN_ALREADY_FINE;
			continue;
		}
		why = untouchable(&env, set, l, r->inode, &e);
		if (why) {
			if (l->owners_known && l->nowners > 0)
				name_owner(r, listener_owner_at(set, l, 0));
			fail(r, set, l, e, why);
			continue;
		}
		if (dry_run) {
			name_owner(r, listener_owner_at(set, l, 0));
			r->status = RELISTEN_WOULD_RAISE;
			continue;
		}
		raise_one(&env, set, l, r);
		raised += r->status == RELISTEN_RAISED;
	}
	if (raised)
		confirm(ctx, set, out, d);
	for (size_t i = 0; i < out->n; i++) {
		switch (out->v[i].status) {
		case RELISTEN_RAISED: out->nraised++; break;
		case RELISTEN_WOULD_RAISE: out->nwould++; break;
		case RELISTEN_ALREADY_FINE: out->nfine++; break;
		case RELISTEN_FAILED: out->nfailed++; break;
		}
	}
	return 0;
}

void relisten_results_free(struct relisten_results *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].reason);
		free(r->v[i].advice);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}
