/* audit: the listener audit that listeners, check, apply and relisten
 * share — dump the listeners, look up the owners of those the command asks
 * for (every one for listeners, only the flagged ones for check and apply),
 * judge them against a profile's requirements and the somaxconn in force
 * before and after a change, and fill the result (struct audit, plain data
 * in audit_result.h). The judging itself is findings.c and the rendering
 * listeners_report.c. It changes nothing: raising listeners is the
 * commands' job. */
#ifndef QTUNE_AUDIT_H
#define QTUNE_AUDIT_H

#include "ctx.h"
#include "findings.h"
#include "queue_limits.h"
#include "listeners.h"
#include "output.h"
#include "profile.h"

/* The record (state.h, a system header): only pointed to here, so that the
 * renderers that read an audit do not reach it. */
struct state;

struct audit {
	struct listener_set set;
	struct queue_limits kernel;
	struct findings findings;
	struct finding_port *ports;    /* storage behind limits.ports */
	struct finding_limits limits;
	struct state *record;          /* this namespace's record (NULL: none), */
	struct clamp_record clamps;    /* and its clamped sockets, behind limits.record */
};

/* The profile's listener requirements as plain limits (p may be NULL).
 * ports receives storage the caller frees. */
void audit_limits_from_profile(const struct profile *p, struct finding_limits *lim,
			       struct finding_port **ports);

/* Dumps now, into ctx->owners_scan, and forks the owner walker
 * (ctx->owners_walker), for a later audit_run: naming owners reads other
 * processes' fds, which a Landlock-confined process may not (the kernel
 * lets it trace only processes confined more than itself), so main does
 * this before confining. The walker walks only when audit_run asks. */
void audit_prescan(struct qt_ctx *ctx);

/* Whose owners an audit looks up. The walk is most of a run's cost, so a
 * command asks only for what it reports: check, apply and relisten name
 * the owners of listeners with a finding (none: no walk), `listeners`
 * every one unless --no-owners. */
enum audit_owners {
	AUDIT_OWNERS_FLAGGED,
	AUDIT_OWNERS_ALL,
	AUDIT_OWNERS_NONE,
};

/* Dumps (or takes ctx->owners_scan), attributes and judges, with the
 * clamped sockets this namespace's record names. somaxconn_before is,
 * for an apply, the value it replaces (listeners at it are clamped by
 * it), somaxconn_after the one in force now (or, for a dry run, the one
 * the apply would set); < 0 means the running value. 0 or -errno (dump
 * failed: an error). */
int audit_run(struct qt_ctx *ctx, const struct profile *p, int64_t somaxconn_before,
	      int64_t somaxconn_after, struct audit *a);

/* audit_run, naming the owners of whom (audit_run: AUDIT_OWNERS_FLAGGED). */
int audit_run_owners(struct qt_ctx *ctx, const struct profile *p, int64_t somaxconn_before,
		     int64_t somaxconn_after, enum audit_owners whom, struct audit *a);

/* Looks up the owners of the listeners of set whose want[i] is true,
 * through ctx's walker when there is one (listeners_attribute_some). */
int audit_attribute(struct qt_ctx *ctx, struct listener_set *set, const bool *want);

/* The second sample of an --interval run, after the first (audit_run; the
 * rate is over the time between the two dumps): dumps again, takes each listener's queues and drop count
 * from it (the same socket, by inode; owners stay those of the first
 * sample, and a listener that appeared meanwhile is not shown), and judges
 * again, `dropping` included. 0 or -errno (dump failed). */
int audit_resample(struct qt_ctx *ctx, struct audit *a);

/* Before an apply records st: the sockets of ctx->owners_scan at the
 * somaxconn it replaces (before, raised to after), and those the previous
 * record named that are still the same sockets, still cut (kept with the
 * apply that found them). st->lists_sockets says the scan worked. */
void audit_record_clamped(struct qt_ctx *ctx, int64_t before, int64_t after,
			  struct state *st);

/* QT_LEVEL_DRIFT when any finding was made, else QT_LEVEL_OK. */
enum qt_level audit_level(const struct audit *a);

/* The table and findings (text), or the listener members (JSON). */
void audit_render_text(const struct qt_ctx *ctx, const struct audit *a);
void audit_render_json(struct jw *w, const struct audit *a);

void audit_free(struct audit *a);

#endif
