/* findings: listeners + limits → findings (pure). */
#include "findings.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "programs.h"
#include "util.h"

#define ADVICE_MAX 512

/* Appends to a bounded buffer; once full, the text ends in "...". */
struct sbuf {
	char *p;
	size_t size, len;
};

__attribute__((format(printf, 2, 3)))
static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->len + 1 >= b->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->size - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= b->size - b->len) {
		b->len = b->size - 1;
		if (b->size > 4)
			memcpy(b->p + b->size - 4, "...", 4);
		return;
	}
	b->len += (size_t)n;
}

/* The topmost owners of l: those whose parent holds no share of the
 * socket (a master, not its workers). Returns how many indexes (k) went
 * into roots. */
static size_t owner_roots(const struct listener_set *set, const struct listener *l,
			  size_t *roots, size_t max)
{
	size_t n = 0;

	for (size_t k = 0; k < l->nowners && n < max; k++) {
		const struct listener_owner *o = listener_owner_at(set, l, k);
		bool parent_holds = false;

		for (size_t j = 0; j < l->nowners && o->ppid > 0; j++)
			if (j != k && listener_owner_at(set, l, j)->pid == o->ppid)
				parent_holds = true;
		if (!parent_holds)
			roots[n++] = k;
	}
	return n;
}

#define ROOTS_NAMED 3

/* "nginx.service (master pid 123 nginx, 2 workers)", "redis-server (pid
 * 77)", "sshd (pid 300, a user unit of uid 1000)", "app.service (pid 5
 * app, pid 6 app)": the topmost owners, those of one unit together; roots
 * past three and workers are counted ("and 64 more"). */
static void owners_phrase(const struct listener_set *set, const struct listener *l,
			  struct sbuf *b)
{
	size_t roots[LISTENERS_MAX_OWNERS], nroots, named = 0;
	bool done[LISTENERS_MAX_OWNERS] = { false };
	uint32_t total = l->owners_total > l->nowners ? l->owners_total : l->nowners;
	uint32_t workers;

	if (!l->owners_known || l->nowners == 0) {
		sb_add(b, "the process owning it");
		return;
	}
	nroots = owner_roots(set, l, roots, ARRAY_SIZE(roots));
	if (nroots == 0)        /* a cycle of parents cannot happen; be safe */
		roots[nroots++] = 0;
	workers = total > nroots ? total - (uint32_t)nroots : 0;
	for (size_t r = 0; r < nroots && named < ROOTS_NAMED; r++) {
		const struct listener_owner *o = listener_owner_at(set, l, roots[r]);
		const char *master = nroots == 1 && workers ? "master " : "";

		if (done[r])
			continue;
		sb_add(b, "%s", r ? " and " : "");
		if (!o->unit[0]) {
			/* A user's unit is named by that user: never advised by name. */
			named++;
			sb_add(b, "%s (%spid %d", o->comm[0] ? o->comm : "?", master, (int)o->pid);
			if (o->user_unit)
				sb_add(b, ", a user unit of uid %u", (unsigned)o->user_uid);
		} else {
			sb_add(b, "%s (%s", o->unit, master);
			for (size_t q = r, k = 0; q < nroots && named < ROOTS_NAMED; q++) {
				const struct listener_owner *p = listener_owner_at(set, l, roots[q]);
				if (done[q] || strcmp(p->unit, o->unit) != 0)
					continue;
				done[q] = true;
				named++;
				sb_add(b, "%spid %d %s", k++ ? ", " : "", (int)p->pid, p->comm);
			}
		}
		if (nroots == 1 && workers)
			sb_add(b, ", %u worker%s", (unsigned)workers, workers == 1 ? "" : "s");
		sb_add(b, ")");
	}
	if (nroots > 1 && total > named)
		sb_add(b, " and %u more", (unsigned)(total - named));
}

/* Why the owner is not named, when it is not: one reason, the true one.
 * Owners not asked for (listeners --no-owners) come first: whoever ran
 * qtune, privileges have nothing to do with it. */
static const char *owners_unknown_reason(const struct listener_set *set, const struct listener *l)
{
	if (!l->owners_looked_up)
		return "its owners were not looked up: run `qtune listeners` without --no-owners "
		       "to name them";
	if (!l->owners_known)
		return set->viewer_root
		       ? "its owner is unknown: its process could not be inspected (qtune needs "
			 "CAP_SYS_PTRACE over it; a security module or a user namespace can deny that)"
		       : "its owner is unknown: run qtune as root to name it";
	if (l->nowners == 0)
		return "no process of this network namespace holds it";
	return NULL;
}

void findings_restart_advice(const struct listener_set *set, const struct listener *l,
			     char *buf, size_t size)
{
	struct sbuf b = { buf, size, 0 };
	const char *unknown = owners_unknown_reason(set, l);

	if (!size)
		return;
	buf[0] = '\0';
	if (unknown) {
		sb_add(&b, "%s", unknown);
		return;
	}
	sb_add(&b, "restart ");
	owners_phrase(set, l, &b);
}

static const struct listener_owner *top_owner(const struct listener_set *set,
					      const struct listener *l)
{
	size_t root;

	if (!l->owners_known || l->nowners == 0)
		return NULL;
	if (owner_roots(set, l, &root, 1) == 0)
		root = 0;
	return listener_owner_at(set, l, root);
}

static const struct program *program_of(const struct listener_set *set, const struct listener *l)
{
	const struct listener_owner *o = top_owner(set, l);

	return o ? programs_identify(o->exe, o->comm, (int)o->pid) : NULL;
}

void findings_program_setting(const struct listener_set *set, const struct listener *l,
			      int64_t n, char *buf, size_t size)
{
	programs_setting(program_of(set, l), n, buf, size);
}

const char *finding_kind_name(enum finding_kind kind)
{
	switch (kind) {
	case FINDING_CLAMPED: return "clamped";
	case FINDING_MAYBE_CLAMPED: return "maybe-clamped";
	case FINDING_BELOW_MIN: return "below-min";
	case FINDING_QUEUE_FULL: return "queue-full";
	case FINDING_DROPPING: return "dropping";
	}
	return "?";
}

const char *advice_action_name(enum advice_action action)
{
	switch (action) {
	case ADVICE_RELISTEN: return "relisten";
	case ADVICE_RELISTEN_ALL: return "relisten-all";
	case ADVICE_SOMAXCONN: return "somaxconn";
	case ADVICE_PROGRAM: return "program";
	case ADVICE_ACCEPT: return "accept";
	case ADVICE_OWNER_UNKNOWN: return "owner-unknown";
	}
	return "?";
}

/* Where listener i's advice is, or would go: the advice is in listener
 * order, so a binary search (a linear one made 10,000 flagged listeners
 * cost check 10,000 * 10,000 steps, twice). */
static size_t advice_slot(const struct findings *f, size_t i)
{
	size_t lo = 0, hi = f->nadvice;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->advice[mid].listener < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct finding_advice *findings_advice_of(const struct findings *f, size_t i)
{
	size_t k = f ? advice_slot(f, i) : 0;

	return f && k < f->nadvice && f->advice[k].listener == i ? &f->advice[k] : NULL;
}

static const struct finding_port *port_entry(const struct finding_limits *lim, uint16_t port)
{
	for (size_t i = 0; i < lim->nports; i++)
		if (lim->ports[i].port == port)
			return &lim->ports[i];
	return NULL;
}

int64_t findings_accept_queue_holds(int64_t backlog)
{
	return (backlog < 0 ? 0 : backlog) + 1;
}

bool findings_accept_queue_full(uint32_t queued, uint32_t backlog)
{
	return (int64_t)queued >= findings_accept_queue_holds(backlog);
}

int64_t findings_port_requirement(const struct finding_limits *lim, uint16_t port)
{
	const struct finding_port *own = port_entry(lim, port);

	for (size_t i = 0; i < lim->nignore; i++)
		if (lim->ignore[i] == port)
			return -1;
	if (own)
		return own->backlog;
	return lim->has_min_backlog ? lim->min_backlog : 0;
}

void findings_clamp_socket(const struct listener_set *set, const struct listener *l,
			   struct clamp_socket *out)
{
	const struct listener_owner *o = top_owner(set, l);

	memset(out, 0, sizeof(*out));
	out->inode = l->inode;
	out->family = l->family;
	memcpy(out->raw, l->raw, sizeof(out->raw));
	out->port = l->port;
	out->start_time = o ? o->start_time : 0;
	out->backlog = l->backlog;
}

/* The same socket: inode, address and port, and (when both are known) an
 * owner started when the recorded one was: a restarted service has a new
 * socket, and its inode number may be the old one's again. */
static bool same_socket(const struct clamp_socket *c, const struct listener_set *set,
			const struct listener *l)
{
	bool started_then = c->start_time == 0 || !l->owners_known || l->nowners == 0;

	if (c->inode != l->inode || c->port != l->port || c->family != l->family ||
	    memcmp(c->raw, l->raw, sizeof(c->raw)) != 0)
		return false;
	for (size_t k = 0; !started_then && k < l->nowners; k++)
		started_then = listener_owner_at(set, l, k)->start_time == c->start_time;
	return started_then;
}

const struct clamp_socket *findings_recorded(const struct clamp_record *rec,
					     const struct listener_set *set,
					     const struct listener *l)
{
	for (size_t i = 0; rec && rec->lists_sockets && i < rec->n; i++)
		if (same_socket(&rec->v[i], set, l))
			return rec->v[i].backlog == (int64_t)l->backlog ? &rec->v[i] : NULL;
	return NULL;
}

static void add(struct findings *out, size_t listener, enum finding_kind kind,
		enum qt_level level, int64_t limit, char *message)
{
	if (out->n == out->cap) {
		out->cap = out->cap ? out->cap * 2 : 16;
		out->v = xreallocarray(out->v, out->cap, sizeof(*out->v));
	}
	out->v[out->n++] = (struct finding){
		.listener = listener, .kind = kind, .level = level,
		.limit = limit, .message = util_texts_keep(&out->texts, message),
	};
}

/* "web at 2026-12-01 09:05 UTC": which apply a finding comes from. */
static void apply_phrase(const struct clamp_socket *c, char *buf, size_t size)
{
	char when[32] = "";
	time_t t = (time_t)c->when;
	struct tm tm;

	if (c->when > 0 && gmtime_r(&t, &tm))
		strftime(when, sizeof(when), " at %Y-%m-%d %H:%M UTC", &tm);
	snprintf(buf, size, "the apply of %s%s", c->profile && c->profile[0] ? c->profile : "?",
		 when);
}

/* What a listener is judged on, worked out once. */
struct verdict {
	const struct clamp_socket *recorded;
	bool predicted;         /* an apply now raises somaxconn from its backlog */
	bool maybe;
	bool below, full, last_slot;
	int64_t req, now;
};

/* A kernel default somaxconn (or the value an older record says it
 * replaced) below today's, with nothing recorded about this socket. */
static bool maybe_clamped(const struct finding_limits *lim, const struct listener *l)
{
	const struct clamp_record *rec = lim->record;
	int64_t b = l->backlog;

	if (lim->somaxconn_after <= b)
		return false;
	/* A record that names its sockets and made today's somaxconn knows
	 * which sockets it cut: any other is not clamped by it. */
	if (rec && rec->present && rec->lists_sockets && rec->somaxconn_new == lim->somaxconn_after &&
	    rec->somaxconn_old >= 0)
		return false;
	if (rec && rec->present && !rec->lists_sockets && rec->somaxconn_old == b)
		return true;
	return b == FINDINGS_OLD_DEFAULT_SOMAXCONN || b == FINDINGS_DEFAULT_SOMAXCONN;
}

static void judge(const struct listener_set *set, const struct finding_limits *lim,
		  const struct listener *l, struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->req = findings_port_requirement(lim, l->port);
	v->now = lim->somaxconn_after;
	if (v->now > (int64_t)l->backlog)
		v->recorded = findings_recorded(lim->record, set, l);
	v->predicted = !v->recorded && lim->somaxconn_after > lim->somaxconn_before &&
		       (int64_t)l->backlog == lim->somaxconn_before;
	v->maybe = !v->recorded && !v->predicted && maybe_clamped(lim, l);
	v->below = v->req > 0 && (int64_t)l->backlog < v->req;
	/* One slot left is worth telling (info) but is not drift. */
	v->full = findings_accept_queue_full(l->queued, l->backlog);
	v->last_slot = !v->full && l->queued > 0 && l->queued == l->backlog;
}

static void messages(const struct listener_set *set, const struct finding_limits *lim,
		     size_t i, const struct verdict *v, struct findings *out)
{
	const struct listener *l = &set->v[i];
	char from[256], who[ADVICE_MAX];
	struct sbuf wb = { who, sizeof(who), 0 };

	who[0] = '\0';
	owners_phrase(set, l, &wb);
	if (v->recorded) {
		apply_phrase(v->recorded, from, sizeof(from));
		add(out, i, FINDING_CLAMPED, QT_LEVEL_DRIFT, v->now,
		    xasprintf("backlog %u is the somaxconn %s replaced: this socket was cut to it when "
			      "it listened and keeps it, not %lld, until listen() is called on it again",
			      l->backlog, from, (long long)v->now));
	} else if (v->predicted) {
		add(out, i, FINDING_CLAMPED, QT_LEVEL_DRIFT, v->now,
		    xasprintf("backlog %u is the somaxconn in force before (%lld): it keeps it, not "
			      "%lld, until listen() is called on it again",
			      l->backlog, (long long)lim->somaxconn_before, (long long)v->now));
	} else if (v->maybe) {
		add(out, i, FINDING_MAYBE_CLAMPED, QT_LEVEL_OK, v->now,
		    xasprintf("backlog %u is %s and below net.core.somaxconn %lld: it may have been "
			      "cut to that ceiling when it listened (no recorded apply says so)",
			      l->backlog,
			      l->backlog == FINDINGS_OLD_DEFAULT_SOMAXCONN
			      ? "the kernel's default somaxconn before Linux 5.4"
			      : l->backlog == FINDINGS_DEFAULT_SOMAXCONN
			      ? "the kernel's default somaxconn since Linux 5.4"
			      : "the somaxconn the recorded apply replaced",
			      (long long)v->now));
	}
	if (v->below) {
		const char *src = port_entry(lim, l->port) ? "listeners.ports" : "listeners.min_backlog";
		bool cut = v->recorded || v->predicted || v->maybe;

		/* The true cause: a ceiling cuts only a backlog equal to it. */
		if (cut)
			add(out, i, FINDING_BELOW_MIN, QT_LEVEL_DRIFT, v->req,
			    xasprintf("backlog %u is below %lld (%s): the ceiling in force when it "
				      "listened cut it (%s)", l->backlog, (long long)v->req, src,
				      v->maybe ? "maybe-clamped" : "clamped"));
		else if (v->now > 0 && (int64_t)l->backlog == v->now)
			add(out, i, FINDING_BELOW_MIN, QT_LEVEL_DRIFT, v->req,
			    xasprintf("backlog %u is below %lld (%s): net.core.somaxconn %lld caps it, "
				      "and is itself below the requirement", l->backlog,
				      (long long)v->req, src, (long long)v->now));
		else
			add(out, i, FINDING_BELOW_MIN, QT_LEVEL_DRIFT, v->req,
			    xasprintf("backlog %u is below %lld (%s): it is the program's own backlog "
				      "(somaxconn %lld did not cut it)", l->backlog, (long long)v->req,
				      src, (long long)v->now));
	}
	if (v->full)
		add(out, i, FINDING_QUEUE_FULL, QT_LEVEL_DRIFT, l->backlog,
		    xasprintf("accept queue holds %u connections, more than its backlog %u: it is "
			      "full (it admits backlog + 1), and new SYNs and completing ACKs are "
			      "dropped while it stays so (ListenOverflows) (%s)",
			      l->queued, l->backlog, who));
	if (v->last_slot)
		add(out, i, FINDING_QUEUE_FULL, QT_LEVEL_OK, l->backlog,
		    xasprintf("accept queue holds %u connections, as many as its backlog %u: one "
			      "slot left (it admits backlog + 1), nothing dropped yet (%s)",
			      l->queued, l->backlog, who));
}

/* Replaces listener i's advice, or adds it: one per listener, kept in
 * listener order. */
static void set_advice(struct findings *out, size_t i, enum advice_action action, int64_t target,
		       char *text)
{
	size_t k = advice_slot(out, i);

	/* A text replaced stays among the texts until findings_free. */
	if (k == out->nadvice || out->advice[k].listener != i) {
		out->advice = xreallocarray(out->advice, out->nadvice + 1, sizeof(*out->advice));
		memmove(&out->advice[k + 1], &out->advice[k],
			(out->nadvice - k) * sizeof(*out->advice));
		out->nadvice++;
	}
	out->advice[k] = (struct finding_advice){
		.listener = i, .action = action, .target = target,
		.text = util_texts_keep(&out->texts, text),
	};
}

/* What the queues call for, once the accept queue is full now (or drops
 * are counted): findings_drop_remedy() in words that name the owner. */
static void advise_queues(const struct listener_set *set, size_t i, const struct verdict *v,
			  enum drop_remedy r, const char *who, const char *restart,
			  struct findings *out)
{
	const struct listener *l = &set->v[i];
	char setting[256];
	int64_t larger = v->now > (int64_t)l->backlog ? v->now : 2 * (int64_t)l->backlog;

	switch (r) {
	case DROP_REMEDY_ADD_WORKERS:
		set_advice(out, i, ADVICE_ACCEPT, 0,
			   xasprintf("%s accepts too slowly: its backlog %u is already large and its "
				     "accept queue still fills; add workers or make accepting cheaper "
				     "rather than raise the limit", who, l->backlog));
		return;
	case DROP_REMEDY_RAISE_SOMAXCONN:
		set_advice(out, i, ADVICE_SOMAXCONN, v->req > v->now ? v->req : 0,
			   xasprintf("its accept queue overflows at backlog %u, which net.core.somaxconn "
				     "%lld caps: raise net.core.somaxconn, apply, then run `qtune relisten "
				     "--all` (%s)", l->backlog, (long long)v->now, who));
		return;
	case DROP_REMEDY_RAISE_BACKLOG:
		findings_program_setting(set, l, larger, setting, sizeof(setting));
		set_advice(out, i, ADVICE_PROGRAM, larger,
			   xasprintf("its accept queue overflows at backlog %u: set %s, then %s",
				     l->backlog, setting, restart));
		return;
	case DROP_REMEDY_SYN_QUEUE:
		findings_program_setting(set, l, larger, setting, sizeof(setting));
		set_advice(out, i, ADVICE_PROGRAM, 0,
			   xasprintf("its SYN queue overflows while its accept queue does not: enable "
				     "net.ipv4.tcp_syncookies, or set %s (the SYN queue follows the "
				     "backlog), then %s", setting, restart));
		return;
	}
}

/* The one best action for listener i. Dropping now (drops rose between
 * two samples) outranks what one sample shows: the advice is what the
 * drops call for, unless a live relisten to a higher ceiling is what the
 * socket lacks. A full accept queue without such a cause is judged as
 * drops are (a large backlog that fills: the program accepts too slowly). */
static void advise(const struct listener_set *set, size_t i, const struct verdict *v,
		   bool dropping, struct findings *out)
{
	const struct listener *l = &set->v[i];
	const char *unknown = owners_unknown_reason(set, l);
	char restart[ADVICE_MAX], setting[256], who[ADVICE_MAX];
	struct sbuf wb = { who, sizeof(who), 0 };
	bool cut = v->recorded || v->predicted || v->maybe;
	bool full = findings_accept_queue_full(l->queued, l->backlog);
	enum drop_remedy r = findings_drop_remedy(l->backlog, v->now, full);

	if (unknown) {
		set_advice(out, i, ADVICE_OWNER_UNKNOWN, 0,
			   dropping ? xasprintf("%s; %s", findings_drop_remedy_text(r), unknown)
				    : xstrdup(unknown));
		return;
	}
	owners_phrase(set, l, &wb);
	findings_restart_advice(set, l, restart, sizeof(restart));
	if (dropping && !(cut && l->inode && r == DROP_REMEDY_RAISE_BACKLOG)) {
		advise_queues(set, i, v, r, who, restart, out);
		return;
	}
	if (cut && l->inode) {
		/* Live, no restart: the relisten that reaches the ceiling. */
		int64_t target = v->now;
		bool all = v->maybe;

		findings_program_setting(set, l, v->req > 0 ? v->req : target, setting, sizeof(setting));
		set_advice(out, i, all ? ADVICE_RELISTEN_ALL : ADVICE_RELISTEN, target,
			   xasprintf("run `qtune relisten%s` to raise it live to %lld, no restart (%s%s"
				     "; its own setting: %s)", all ? " --all" : "", (long long)target,
				     who, all ? ", if it asked for more than its backlog" : "", setting));
		return;
	}
	if (v->below && v->now > 0 && v->req > v->now && (int64_t)l->backlog == v->now) {
		set_advice(out, i, ADVICE_SOMAXCONN, v->req,
			   xasprintf("raise net.core.somaxconn to at least %lld (the profile asks a "
				     "backlog above its own somaxconn), apply, then run `qtune relisten "
				     "--all PROFILE` (%s)", (long long)v->req, who));
		return;
	}
	if (v->below) {
		findings_program_setting(set, l, v->req, setting, sizeof(setting));
		if (v->now > 0 && v->req > v->now)
			set_advice(out, i, ADVICE_PROGRAM, v->req,
				   xasprintf("set %s and raise net.core.somaxconn to at least %lld (it is "
					     "%lld), then %s", setting, (long long)v->req,
					     (long long)v->now, restart));
		else
			set_advice(out, i, ADVICE_PROGRAM, v->req,
				   xasprintf("set %s, then %s", setting, restart));
		return;
	}
	if (full) {
		advise_queues(set, i, v, r, who, restart, out);
		return;
	}
	/* One slot left: nothing dropped yet. */
	findings_program_setting(set, l, v->now > (int64_t)l->backlog ? v->now : 2 * (int64_t)l->backlog,
				 setting, sizeof(setting));
	set_advice(out, i, ADVICE_ACCEPT, 0,
		   l->backlog >= FINDINGS_LARGE_BACKLOG
		   ? xasprintf("check that %s accepts fast enough: its backlog %u is already large "
			       "(add workers or make accepting cheaper rather than raise the limit)",
			       who, l->backlog)
		   : xasprintf("check that %s accepts fast enough, or give it a larger backlog (%s)",
			       who, setting));
}

size_t findings_build(const struct listener_set *set, const struct finding_limits *lim,
		      struct findings *out)
{
	size_t before = out->n;

	for (size_t i = 0; i < set->n; i++) {
		struct verdict v;

		judge(set, lim, &set->v[i], &v);
		if (v.req < 0 || !(v.recorded || v.predicted || v.maybe || v.below || v.full ||
				   v.last_slot))
			continue;
		messages(set, lim, i, &v, out);
		advise(set, i, &v, false, out);
	}
	return out->n - before;
}

void findings_free(struct findings *f)
{
	if (!f)
		return;
	free(f->v);
	free(f->advice);
	util_texts_free(&f->texts);
	memset(f, 0, sizeof(*f));
}

struct syn_queue_limit findings_syn_queue_limit(int64_t backlog, int64_t max_syn_backlog,
						int64_t syncookies)
{
	struct syn_queue_limit r = { 0, 0, false };
	int64_t b = backlog < 0 ? 0 : backlog, m = max_syn_backlog;

	if (syncookies == 2) {
		r.cookies = true;
		return r;
	}
	r.proven_peers = b + 1;
	if (syncookies != 0) {
		r.new_peers = b + 1;
		r.cookies = true;
		return r;
	}
	/* The kernel drops an unproven peer's SYN when
	 * M - qlen < (M >> 2): floor division, as the shift does. */
	int64_t quarter = m / 4 - (m % 4 < 0 ? 1 : 0);
	int64_t cap = m - quarter;
	r.new_peers = cap < 0 ? 0 : (b < cap ? b : cap) + 1;
	return r;
}

enum drop_remedy findings_drop_remedy(uint32_t backlog, int64_t somaxconn, bool accept_queue_filled)
{
	if (!accept_queue_filled)
		return DROP_REMEDY_SYN_QUEUE;
	if (backlog >= FINDINGS_LARGE_BACKLOG)
		return DROP_REMEDY_ADD_WORKERS;
	if (somaxconn > 0 && (int64_t)backlog >= somaxconn)
		return DROP_REMEDY_RAISE_SOMAXCONN;
	return DROP_REMEDY_RAISE_BACKLOG;
}

const char *findings_drop_remedy_text(enum drop_remedy r)
{
	switch (r) {
	case DROP_REMEDY_RAISE_BACKLOG:
		return "raise the backlog the program passes to listen(), then restart it";
	case DROP_REMEDY_RAISE_SOMAXCONN:
		return "net.core.somaxconn caps the backlog: raise it, then relisten (qtune relisten)";
	case DROP_REMEDY_ADD_WORKERS:
		return "the backlog is already large and still fills: the program accepts too slowly; "
		       "add workers (or make accepting cheaper) rather than raise the limit";
	case DROP_REMEDY_SYN_QUEUE:
		return "the SYN queue overflows while the accept queue does not: enable "
		       "net.ipv4.tcp_syncookies, or raise the backlog (the SYN queue follows it)";
	}
	return "?";
}

struct inode_drops {
	uint32_t inode, drops;
};

static int inode_drops_cmp(const void *a, const void *b)
{
	const struct inode_drops *x = a, *y = b;

	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

static int finding_order(const void *a, const void *b)
{
	const struct finding *x = a, *y = b;

	if (x->listener != y->listener)
		return x->listener < y->listener ? -1 : 1;
	return x->kind < y->kind ? -1 : x->kind > y->kind;
}

size_t findings_dropping(const struct listener_set *before, const struct listener_set *now,
			 double seconds, const struct finding_limits *lim, struct findings *out)
{
	struct inode_drops *ix = xcalloc(before->n ? before->n : 1, sizeof(*ix));
	size_t nix = 0, added = 0;

	for (size_t i = 0; i < before->n; i++)
		if (before->v[i].drops_known)
			ix[nix++] = (struct inode_drops){ before->v[i].inode, before->v[i].drops };
	qsort(ix, nix, sizeof(*ix), inode_drops_cmp);
	for (size_t i = 0; i < now->n; i++) {
		const struct listener *l = &now->v[i];
		struct inode_drops key = { l->inode, 0 };
		const struct inode_drops *was;
		char who[ADVICE_MAX];
		struct sbuf wb = { who, sizeof(who), 0 };

		if (!l->drops_known || findings_port_requirement(lim, l->port) < 0)
			continue;
		was = bsearch(&key, ix, nix, sizeof(*ix), inode_drops_cmp);
		/* The counter is a u32 that only grows while the socket lives. */
		if (!was || l->drops == was->drops)
			continue;
		uint32_t d = l->drops - was->drops;
		double rate = seconds > 0 ? d / seconds : 0;
		struct verdict v;

		judge(now, lim, l, &v);
		who[0] = '\0';
		owners_phrase(now, l, &wb);
		add(out, i, FINDING_DROPPING, QT_LEVEL_DRIFT, d,
		    xasprintf("dropped %u connections in %.1f s (%.1f/s); accept queue %u of backlog %u%s, "
			      "%u half-open (%s)", d, seconds, rate, l->queued, l->backlog,
			      findings_accept_queue_full(l->queued, l->backlog) ? " (full)" : "",
			      l->syn_recv, who));
		/* Its advice becomes the one the drops call for. One sample
		 * cannot show a queue that filled and emptied again: a full
		 * queue now is what the sample says. */
		advise(now, i, &v, true, out);
		out->v[out->n - 1].rate = rate;
		added++;
	}
	free(ix);
	if (added)
		qsort(out->v, out->n, sizeof(*out->v), finding_order);
	return added;
}
