/* audit: listeners + requirements → findings, for three commands. */
#include "audit.h"

#include <stdlib.h>
#include <string.h>

#include "listeners_report.h"
#include "owners.h"
#include "owners_walker.h"
#include "state.h"
#include "sysctl.h"
#include "util.h"

void audit_limits_from_profile(const struct profile *p, struct finding_limits *lim,
			       struct finding_port **ports)
{
	*ports = NULL;
	if (!p)
		return;
	lim->has_min_backlog = p->has_min_backlog;
	lim->min_backlog = p->min_backlog;
	*ports = xcalloc(p->nports, sizeof(**ports));
	for (size_t i = 0; i < p->nports; i++) {
		(*ports)[i].port = p->ports[i].port;
		(*ports)[i].backlog = p->ports[i].backlog;
	}
	lim->ports = *ports;
	lim->nports = p->nports;
	lim->ignore = p->ignore;
	lim->nignore = p->nignore;
}

void audit_prescan(struct qt_ctx *ctx)
{
	int r;

	/* The walker first: it need not hold a copy of the listeners. */
	if ((r = listeners_walker_start(ctx, &ctx->owners_walker)) < 0)
		diags_warn(&ctx->diags, "listeners: cannot start the owner walker: %s; owners unknown",
			   strerror(-r));
	ctx->owners_scan = xcalloc(1, sizeof(*ctx->owners_scan));
	ctx->owners_scan_result = listeners_dump(ctx, ctx->owners_scan, &ctx->diags);
	if (ctx->owners_scan_result < 0) {
		listeners_walker_stop(ctx->owners_walker);
		ctx->owners_walker = NULL;
	}
}

int audit_attribute(struct qt_ctx *ctx, struct listener_set *set, const bool *want)
{
	return listeners_attribute_some(ctx, ctx->owners_walker, set, want, &ctx->diags);
}

/* Which listeners of a need their owners looked up; *any says whether one
 * does. */
static bool *owners_wanted(const struct audit *a, enum audit_owners whom, bool *any)
{
	bool *want = xcalloc(a->set.n + 1, sizeof(*want));

	*any = false;
	for (size_t i = 0; i < a->set.n; i++)
		*any |= want[i] = whom == AUDIT_OWNERS_ALL;
	for (size_t k = 0; k < a->findings.n && whom == AUDIT_OWNERS_FLAGGED; k++)
		*any |= want[a->findings.v[k].listener] = true;
	return want;
}

/* The record, quietly: whoever acts on it (rollback, apply) says what is
 * wrong with it; a listener audit without one knows less, no more. */
static struct state *load_record(const struct qt_ctx *ctx)
{
	struct qt_diags quiet = { 0 };
	struct state *st = NULL;
	char *old = NULL;
	size_t len;

	if (state_load(ctx, &st, &old, &len, &quiet) < 0)
		st = NULL;
	free(old);
	diags_free(&quiet);
	return st;
}

void audit_record_clamped(struct qt_ctx *ctx, int64_t before, int64_t after,
			  struct state *st)
{
	struct listener_set *set = ctx->owners_scan;
	struct state *prev;
	struct clamp_record rec;
	bool *want;

	st->lists_sockets = set && ctx->owners_scan_result == 0;
	if (!st->lists_sockets)
		return;
	prev = load_record(ctx);
	state_clamp_record(prev, &rec);
	/* The owners of the sockets recorded, and only theirs: the owner's
	 * start time tells a restarted one later. */
	want = xcalloc(set->n + 1, sizeof(*want));
	for (size_t i = 0; i < set->n; i++)
		want[i] = (before >= 0 && after > before && (int64_t)set->v[i].backlog == before) ||
			  findings_recorded(&rec, set, &set->v[i]);
	audit_attribute(ctx, set, want);
	free(want);
	for (size_t i = 0; i < set->n; i++) {
		const struct listener *l = &set->v[i];
		const struct clamp_socket *kept = findings_recorded(&rec, set, l);
		struct clamp_socket c;

		if (before >= 0 && after > before && (int64_t)l->backlog == before) {
			findings_clamp_socket(set, l, &c);
			c.when = st->when;
			c.profile = NULL;       /* this apply's */
			state_add_socket(st, &c);
		} else if (kept && (after < 0 || kept->backlog < after)) {
			state_add_socket(st, kept);
		}
	}
	state_free(prev);
}

int audit_run(struct qt_ctx *ctx, const struct profile *p, int64_t somaxconn_before,
	      int64_t somaxconn_after, struct audit *a)
{
	return audit_run_owners(ctx, p, somaxconn_before, somaxconn_after, AUDIT_OWNERS_FLAGGED, a);
}

int audit_run_owners(struct qt_ctx *ctx, const struct profile *p, int64_t somaxconn_before,
		     int64_t somaxconn_after, enum audit_owners whom, struct audit *a)
{
	bool *want, any;
	int r;

	memset(a, 0, sizeof(*a));
	if (ctx->owners_scan) {
		r = ctx->owners_scan_result;
		a->set = *ctx->owners_scan;     /* moved: the scan is used once */
		free(ctx->owners_scan);
		ctx->owners_scan = NULL;
	} else {
		r = listeners_dump(ctx, &a->set, &ctx->diags);
	}
	if (r < 0)
		return r;
	sysctl_read_limits(ctx->procsys_fd, &a->kernel, &ctx->diags);
	audit_limits_from_profile(p, &a->limits, &a->ports);
	a->record = load_record(ctx);
	state_clamp_record(a->record, &a->clamps);
	a->limits.record = &a->clamps;
	a->limits.somaxconn_after = somaxconn_after >= 0 ? somaxconn_after
				    : a->kernel.have_somaxconn ? a->kernel.somaxconn : 0;
	a->limits.somaxconn_before = somaxconn_before >= 0 ? somaxconn_before
				     : a->kernel.have_somaxconn ? a->kernel.somaxconn : 0;
	/* Judged once without owners to learn who needs them, then again
	 * with them, for the advice that names them. */
	findings_build(&a->set, &a->limits, &a->findings);
	want = owners_wanted(a, whom, &any);
	if (ctx->owners_prewalked)
		listeners_owners_keep(&a->set, want);
	else
		audit_attribute(ctx, &a->set, want);
	if (any) {
		findings_free(&a->findings);
		findings_build(&a->set, &a->limits, &a->findings);
	}
	free(want);
	ctx->audit_findings = (long)a->findings.n;
	return 0;
}

static int inode_cmp(const void *a, const void *b)
{
	const struct listener *x = a, *y = b;

	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

int audit_resample(struct qt_ctx *ctx, struct audit *a)
{
	struct listener_set now = { 0 };
	struct listener_set before = { 0 };
	int r = listeners_dump(ctx, &now, &ctx->diags);

	if (r < 0)
		return r;
	double seconds = (double)(now.dumped_ns - a->set.dumped_ns) / 1e9;

	before.n = a->set.n;
	before.v = xcalloc(a->set.n ? a->set.n : 1, sizeof(*before.v));
	memcpy(before.v, a->set.v, a->set.n * sizeof(*before.v));
	qsort(now.v, now.n, sizeof(*now.v), inode_cmp);
	for (size_t i = 0; i < a->set.n; i++) {
		struct listener *l = &a->set.v[i];
		const struct listener *x = bsearch(l, now.v, now.n, sizeof(*now.v), inode_cmp);

		if (!x)
			continue;       /* closed meanwhile: its first sample stays */
		l->backlog = x->backlog;
		l->queued = x->queued;
		l->drops = x->drops;
		l->drops_known = x->drops_known;
		l->syn_recv = x->syn_recv;
	}
	findings_free(&a->findings);
	findings_build(&a->set, &a->limits, &a->findings);
	findings_dropping(&before, &a->set, seconds, &a->limits, &a->findings);
	a->set.dumped_ns = now.dumped_ns;
	/* A listener flagged only now (dropping, or its queue filled) gets
	 * its owners looked up for the advice; the others keep theirs. */
	bool *want = xcalloc(a->set.n + 1, sizeof(*want)), any = false;
	for (size_t k = 0; k < a->findings.n; k++) {
		size_t i = a->findings.v[k].listener;
		if (!a->set.v[i].owners_looked_up)
			any |= want[i] = true;
	}
	if (any) {
		audit_attribute(ctx, &a->set, want);
		findings_free(&a->findings);
		findings_build(&a->set, &a->limits, &a->findings);
		findings_dropping(&before, &a->set, seconds, &a->limits, &a->findings);
	}
	free(want);
	listener_set_free(&before);
	listener_set_free(&now);
	return 0;
}

enum qt_level audit_level(const struct audit *a)
{
	enum qt_level worst = QT_LEVEL_OK;

	for (size_t i = 0; i < a->findings.n; i++)
		if (a->findings.v[i].level > worst)
			worst = a->findings.v[i].level;
	return worst;
}

void audit_render_text(const struct qt_ctx *ctx, const struct audit *a)
{
	listeners_render_text(ctx, ctx->out, &a->set, &a->kernel, &a->findings);
}

void audit_render_json(struct jw *w, const struct audit *a)
{
	listeners_render_json(w, &a->set, &a->kernel, &a->findings);
}

void audit_free(struct audit *a)
{
	findings_free(&a->findings);
	listener_set_free(&a->set);
	free(a->ports);
	a->ports = NULL;
	state_free(a->record);
	a->record = NULL;
}
