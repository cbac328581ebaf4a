/* findings: listeners + limits → findings (pure). */
#include "findings.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* "nginx.service (pid 123 nginx, pid 124 nginx)", "redis-server (pid 77)",
 * owners grouped by unit in the order they were found. */
static void owners_phrase(const struct listener_set *set, const struct listener *l,
			  struct sbuf *b)
{
	bool done[LISTENERS_MAX_OWNERS] = { false };
	bool first_group = true;

	if (!l->owners_known || l->nowners == 0) {
		sb_add(b, "the process owning it");
		return;
	}
	for (size_t k = 0; k < l->nowners; k++) {
		const struct listener_owner *o = listener_owner_at(set, l, k);

		if (done[k])
			continue;
		sb_add(b, "%s", first_group ? "" : " and ");
		first_group = false;
		if (!o->unit[0]) {
			/* A user's unit is named by that user: never advised by name. */
			sb_add(b, "%s (pid %d", o->comm[0] ? o->comm : "?", (int)o->pid);
			if (o->user_unit)
				sb_add(b, ", a user unit of uid %u", (unsigned)o->user_uid);
			sb_add(b, ")");
			continue;
		}
		sb_add(b, "%s (", o->unit);
		for (size_t j = k; j < l->nowners; j++) {
			const struct listener_owner *p = listener_owner_at(set, l, j);
			if (done[j] || strcmp(p->unit, o->unit) != 0)
				continue;
			done[j] = true;
			sb_add(b, "%spid %d %s", j == k ? "" : ", ", (int)p->pid, p->comm);
		}
		sb_add(b, ")");
	}
	if (l->owners_truncated)
		sb_add(b, " and more");
}

/* Why the owner is not named, when it is not. */
static const char *owners_note(const struct listener_set *set, const struct listener *l)
{
	if (!l->owners_known)
		return set->viewer_root ? "; owner unknown (its process could not be inspected)"
					: "; owner unknown (needs root)";
	if (l->nowners == 0)
		return "; no process of this network namespace holds it";
	return "";
}

void findings_restart_advice(const struct listener_set *set, const struct listener *l,
			     char *buf, size_t size)
{
	struct sbuf b = { buf, size, 0 };

	if (!size)
		return;
	buf[0] = '\0';
	sb_add(&b, "restart ");
	owners_phrase(set, l, &b);
	sb_add(&b, "%s", owners_note(set, l));
}

const char *finding_kind_name(enum finding_kind kind)
{
	switch (kind) {
	case FINDING_CLAMPED: return "clamped";
	case FINDING_BELOW_MIN: return "below-min";
	case FINDING_QUEUE_FULL: return "queue-full";
	case FINDING_DROPPING: return "dropping";
	}
	return "?";
}

static const struct finding_port *port_entry(const struct finding_limits *lim, uint16_t port)
{
	for (size_t i = 0; i < lim->nports; i++)
		if (lim->ports[i].port == port)
			return &lim->ports[i];
	return NULL;
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

static void add(struct findings *out, size_t listener, enum finding_kind kind,
		int64_t limit, char *message)
{
	if (out->n == out->cap) {
		out->cap = out->cap ? out->cap * 2 : 16;
		out->v = xreallocarray(out->v, out->cap, sizeof(*out->v));
	}
	out->v[out->n++] = (struct finding){
		.listener = listener, .kind = kind, .level = QT_LEVEL_DRIFT,
		.limit = limit, .message = message,
	};
}

size_t findings_build(const struct listener_set *set, const struct finding_limits *lim,
		      struct findings *out)
{
	size_t before = out->n;

	for (size_t i = 0; i < set->n; i++) {
		const struct listener *l = &set->v[i];
		int64_t req = findings_port_requirement(lim, l->port);
		char advice[ADVICE_MAX], who[ADVICE_MAX];
		struct sbuf wb = { who, sizeof(who), 0 };
		bool clamped = lim->somaxconn_after > lim->somaxconn_before &&
			       (int64_t)l->backlog == lim->somaxconn_before;
		bool below = req > 0 && (int64_t)l->backlog < req;
		/* sk_acceptq_is_full() is queued > backlog: the queue admits
		 * backlog + 1. Only then are SYNs and completing ACKs dropped
		 * (ListenOverflows); at queued == backlog one slot is left,
		 * worth telling (info) but not drift. */
		bool full = l->queued > l->backlog;
		bool last_slot = l->queued > 0 && l->queued == l->backlog;

		if (req < 0 || !(clamped || below || full || last_slot))
			continue;
		findings_restart_advice(set, l, advice, sizeof(advice));
		who[0] = '\0';
		owners_phrase(set, l, &wb);
		if (clamped)
			add(out, i, FINDING_CLAMPED, lim->somaxconn_after,
			    xasprintf("backlog %u is the somaxconn in force before (%lld): it keeps "
				      "it, not %lld, until its process calls listen() again; %s",
				      l->backlog, (long long)lim->somaxconn_before,
				      (long long)lim->somaxconn_after, advice));
		if (below) {
			const char *src = port_entry(lim, l->port)
					  ? "listeners.ports" : "listeners.min_backlog";
			if (lim->somaxconn_after > 0 && req > lim->somaxconn_after)
				add(out, i, FINDING_BELOW_MIN, req,
				    xasprintf("backlog %u is below %lld (%s) and net.core.somaxconn "
					      "%lld caps it: raise somaxconn, then %s",
					      l->backlog, (long long)req, src,
					      (long long)lim->somaxconn_after, advice));
			else
				add(out, i, FINDING_BELOW_MIN, req,
				    xasprintf("backlog %u is below %lld (%s): configure a listen() "
					      "backlog of at least %lld in the program, then %s",
					      l->backlog, (long long)req, src, (long long)req, advice));
		}
		if (full)
			add(out, i, FINDING_QUEUE_FULL, l->backlog,
			    xasprintf("accept queue holds %u connections, more than its backlog %u: "
				      "it is full (it admits backlog + 1), and new SYNs and completing "
				      "ACKs are dropped while it stays so (ListenOverflows); check that %s "
				      "accepts fast enough, or give it a larger backlog%s",
				      l->queued, l->backlog, who, owners_note(set, l)));
		if (last_slot) {
			add(out, i, FINDING_QUEUE_FULL, l->backlog,
			    xasprintf("accept queue holds %u connections, as many as its backlog %u: "
				      "one slot left (it admits backlog + 1), nothing dropped yet; check "
				      "that %s accepts fast enough%s",
				      l->queued, l->backlog, who, owners_note(set, l)));
			out->v[out->n - 1].level = QT_LEVEL_OK;
		}
	}
	return out->n - before;
}

void findings_free(struct findings *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].message);
	free(f->v);
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
		/* One sample cannot show a queue that filled and emptied again:
		 * a full queue now, or a backlog the SYN queue cannot exceed,
		 * is what the sample says. */
		enum drop_remedy r = findings_drop_remedy(l->backlog, lim->somaxconn_after,
							  l->queued >= l->backlog);
		who[0] = '\0';
		owners_phrase(now, l, &wb);
		add(out, i, FINDING_DROPPING, d,
		    xasprintf("dropped %u connections in %.1f s (%.1f/s); accept queue %u of backlog %u, "
			      "%u half-open; owned by %s: %s%s", d, seconds, rate, l->queued,
			      l->backlog, l->syn_recv, who, findings_drop_remedy_text(r),
			      owners_note(now, l)));
		out->v[out->n - 1].rate = rate;
		added++;
	}
	free(ix);
	if (added)
		qsort(out->v, out->n, sizeof(*out->v), finding_order);
	return added;
}
