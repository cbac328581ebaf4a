/* apply: plan, record, write all-or-nothing, persist, report. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "audit.h"
#include "cmd_common.h"
#include "commands.h"
#include "output.h"
#include "persist.h"
#include "state.h"
#include "sysctld.h"
#include "trust.h"
#include "util.h"

/* The sysctl.d file an apply --persist writes, prepared before anything
 * changes so that every reason to refuse comes first. */
struct persist_job {
	char *name;
	char *content;          /* the bytes to write */
	size_t len;
	char *old;              /* the bytes it replaces; NULL when absent */
	size_t old_len;
	bool differs;           /* writing would change the file */
};

static void persist_job_free(struct persist_job *j)
{
	free(j->name);
	free(j->content);
	free(j->old);
}

/* The directory must be ours alone, all the way from the root, and
 * writable as the kernel judges it; when it does not exist yet, what
 * exists of the way to it has been judged, and apply creates the rest. */
static int persist_dir_ok(struct qt_ctx *ctx)
{
	int dfd, r;

	r = trust_open_beneath(ctx->root, SYSCTLD_ETC, 0, QT_LEVEL_ERROR, &ctx->diags, &dfd);
	if (r == -ENOENT)
		return 0;
	if (r == 0 && faccessat(dfd, ".", W_OK, AT_EACCESS) < 0)
		r = -errno;
	if (r < 0 && r != -EPERM && r != -ELOOP) {
		char *disk = util_rooted(ctx->root, SYSCTLD_ETC);

		diags_error(&ctx->diags, "--persist: cannot write %s: %s%s", disk, strerror(-r),
			    r == -EACCES ? " (run as root)" : "");
		free(disk);
	}
	if (r == 0)
		close(dfd);
	return r;
}

static int persist_prepare(struct qt_ctx *ctx, const struct profile *p,
			   const struct plan *plan, struct persist_job *j)
{
	struct persist_assign *a;
	char *header = NULL;
	int r;

	/* The host's sysctl.d configures the initial namespace at boot: from
	 * a container's namespace, persist only into that container's tree. */
	if (ctx->netns_initial != 1 && !(ctx->root && *ctx->root)) {
		diags_error(&ctx->diags, "--persist from a non-initial network namespace would make the host apply these values at boot; give --root with the container's root directory");
		return -EPERM;
	}
	a = xcalloc(plan->n, sizeof(*a));
	j->name = profile_persist_name(p);
	r = persist_dir_ok(ctx);
	if (r < 0)
		goto out;
	/* The values in force after the apply: each key's target. */
	for (size_t i = 0; i < plan->n; i++) {
		a[i].key = plan->items[i].key;
		a[i].value = plan->items[i].target;
	}
	header = persist_header(QTUNE_VERSION_STRING, p->name, p->path, p->checksum);
	r = persist_render(header, a, plan->n, &j->content, &j->len, &ctx->diags);
	if (r < 0)
		goto out;
	r = cmd_persist_read(ctx, j->name, &j->old, &j->old_len);
	if (r < 0)
		goto out;
	j->differs = !j->old || j->old_len != j->len || memcmp(j->old, j->content, j->len) != 0;
out:
	free(header);
	free(a);
	return r;
}

/* apply's options, from its command line. */
struct apply_opts {
	bool dry_run, persist, allow_global;
	bool relisten;
	enum relisten_mode relisten_mode;       /* --relisten=all: below-min too */
	int64_t backlog;                        /* --backlog N: relisten to N; 0 not given */
};

static void report(struct qt_ctx *ctx, const struct apply_opts *o, const char *profile,
		   const struct plan *plan, const struct persist_job *job,
		   const struct audit *audit, const struct relisten_run *run, bool changed)
{
	struct jw *w = ctx->json;

	if (ctx->output == QT_OUT_JSON) {
		jw_kstring(w, "profile", profile);
		jw_kbool(w, "dry_run", o->dry_run);
		jw_kbool(w, "changed", changed);
		if (plan)
			cmd_render_plan_json(w, plan);
		if (job && job->name) {
			jw_key(w, "persist");
			jw_object_begin(w);
			jw_kstring(w, "file", job->name);
			jw_kstring(w, "directory", SYSCTLD_ETC);
			jw_kbool(w, "changed", job->differs);
			jw_object_end(w);
		}
		if (audit)
			audit_render_json(w, audit);
		if (run && audit)
			cmd_render_relisten_json(w, run, audit);
		return;
	}
	if (ctx->verbosity < 0)
		return;
	if (plan && (plan->nchanges || ctx->verbosity > 0 || o->dry_run))
		cmd_render_plan_text(ctx, plan, PLAN_APPLY);
	if (job && job->name && job->differs)
		fprintf(ctx->out, "%s %s/%s\n", o->dry_run ? "would write" : "persisted to",
			SYSCTLD_ETC, job->name);
	if (job && job->name && o->dry_run && ctx->verbosity > 0)
		fwrite(job->content, 1, job->len, ctx->out);
	if (run && run->ran && audit) {
		fputc('\n', ctx->out);
		cmd_render_relisten_text(ctx, run, audit);
	}
	if (audit && (audit->findings.n || ctx->verbosity > 0)) {
		fputc('\n', ctx->out);
		audit_render_text(ctx, audit);
		fputc('\n', ctx->out);
	}
	if (o->dry_run)
		fprintf(ctx->out, "dry run: %zu change%s planned, nothing written\n",
			plan ? plan->nchanges : 0, plan && plan->nchanges == 1 ? "" : "s");
	else
		fprintf(ctx->out, "apply: %s\n", changed ? "changed" : "nothing to change");
}

/* somaxconn before and after the plan (-1 when the plan leaves it alone):
 * the listeners that called listen() under the old value keep it. */
static void plan_somaxconn(const struct plan *plan, int64_t *before, int64_t *after)
{
	*before = *after = -1;
	for (size_t i = 0; i < plan->n; i++) {
		if (strcmp(plan->items[i].key, "net/core/somaxconn") != 0)
			continue;
		if (util_parse_i64(plan->items[i].current, before) < 0 ||
		    util_parse_i64(plan->items[i].target, after) < 0)
			*before = *after = -1;
	}
}

/* Records the old values (and the old persisted file), then writes the
 * values, then the file. The record comes first so that a crash half-way
 * leaves something rollback can use; a failing file write undoes the
 * values, so the run changes everything or nothing. */
static enum qt_level record_and_write(struct qt_ctx *ctx, const struct profile *p,
				      const struct plan *plan, const struct persist_job *job)
{
	struct state *st = xcalloc(1, sizeof(*st));
	struct state_snapshot previous = { 0 };
	enum qt_level worst = QT_LEVEL_ERROR;
	sigset_t held;
	int r;

	int64_t before, after;

	st->profile = xstrdup(p->path);
	st->checksum = xstrdup(p->checksum);
	st->when = (int64_t)time(NULL);
	plan_somaxconn(plan, &before, &after);
	audit_record_clamped(ctx, before, after, st);
	for (size_t i = 0; i < plan->n; i++)
		if (plan->items[i].change)
			state_add_key(st, plan->items[i].key, plan->items[i].current,
				      plan->items[i].target);
	if (job->differs) {
		st->persist_file = xstrdup(job->name);
		st->persist_had_old = job->old != NULL;
	}
	/* From the record to its end, a SIGTERM waits; a SIGKILL leaves a
	 * record that says the apply is in progress. */
	apply_signals_hold(&held);
	st->in_progress = true;
	if (state_snapshot_take(ctx, &previous, &ctx->diags) < 0 ||
	    state_save(ctx, st, job->old, job->old_len, &ctx->diags) < 0)
		goto out;
	r = apply_execute(ctx, plan, &ctx->diags);
	if (r == 0 && job->differs &&
	    cmd_persist_put(ctx, job->name, job->content, job->len) < 0) {
		r = apply_revert(ctx, plan, &ctx->diags);
		if (r == 0) {
			diags_error(&ctx->diags, "nothing was changed: the running values were restored");
			r = -EIO;
		}
	}
	if (r == -ENOTRECOVERABLE) {
		/* Keep this record: it is what rollback needs now. */
		worst = QT_LEVEL_FATAL;
		goto out;
	}
	if (r < 0) {
		/* Nothing changed, so the apply before this one is still the
		 * last that did something: its record goes back. */
		state_snapshot_put_back(ctx, &previous, &ctx->diags);
		goto out;
	}
	worst = QT_LEVEL_OK;
	/* Done: the record stops saying "in progress". If it cannot, the
	 * apply still stands, and its record still undoes it. */
	st->in_progress = false;
	struct qt_diags finishing = { 0 };
	if (state_save(ctx, st, job->old, job->old_len, &finishing) < 0)
		diags_warn(&ctx->diags, "the apply finished, but its record could not be marked so (%s): check will call it interrupted and the next apply will refuse until rollback has run",
			   finishing.n ? finishing.v[0].msg : "unknown error");
	diags_free(&finishing);
out:
	apply_signals_release(&held, "apply", &ctx->diags);
	state_snapshot_free(&previous);
	state_free(st);
	return worst;
}

enum qt_level cmd_apply(struct qt_ctx *ctx, const struct cmd_args *args)
{
	const char *rv = args->value[CMD_OPT_RELISTEN];
	struct apply_opts o = {
		.dry_run = args->given[CMD_OPT_DRY_RUN],
		.persist = args->given[CMD_OPT_PERSIST],
		.allow_global = args->given[CMD_OPT_ALLOW_GLOBAL],
		.relisten = args->given[CMD_OPT_RELISTEN],
		.relisten_mode = rv && strcmp(rv, "all") == 0 ? RELISTEN_ALL : RELISTEN_CLAMPED,
	};
	struct profile *p = NULL;
	struct plan *plan = NULL;
	struct persist_job job = { 0 };
	struct audit audit = { 0 };
	struct relisten_run run = { 0 };
	bool audited = false;
	enum qt_level worst = QT_LEVEL_OK;
	bool changed = false;
	int64_t before, after;

	/* Refused before anything is read or changed: --backlog is the
	 * target of the relisten, which only --relisten runs. */
	if (cmd_parse_backlog(ctx, args->value[CMD_OPT_BACKLOG], &o.backlog) < 0)
		return QT_LEVEL_ERROR;
	if (o.backlog && !o.relisten) {
		diags_error(&ctx->diags, "--backlog %s: only with --relisten (it is the backlog the "
			    "relisten gives)", args->value[CMD_OPT_BACKLOG]);
		return QT_LEVEL_ERROR;
	}
	if (cmd_load_profile(ctx, args->argv[1], o.dry_run ? QT_LEVEL_WARN : QT_LEVEL_ERROR, &p) < 0)
		return QT_LEVEL_ERROR;
	if (cmd_build_plan(ctx, p, &plan) < 0 || apply_preflight(ctx, plan, o.allow_global, o.dry_run, &ctx->diags) < 0 ||
	    (o.persist && persist_prepare(ctx, p, plan, &job) < 0)) {
		worst = QT_LEVEL_ERROR;
		goto out;
	}
	changed = plan->nchanges > 0 || job.differs;
	/* An apply that changes nothing keeps the previous record, so
	 * rollback still undoes the last apply that did something. */
	/* The keys are known now: only they stay writable (--relisten runs
	 * unconfined: main says why). */
	if (!o.dry_run && changed && !o.relisten && cmd_confine_settings(ctx, plan, o.persist) < 0) {
		worst = QT_LEVEL_ERROR;
		goto out;
	}
	if (!o.dry_run && changed)
		worst = record_and_write(ctx, p, plan, &job);
	/* Afterwards (or, for a dry run, as it would be): the listeners
	 * against the new limits. Their findings inform; the apply stands. */
	if (worst < QT_LEVEL_ERROR) {
		size_t mark = ctx->diags.n;

		plan_somaxconn(plan, &before, &after);
		audited = audit_run(ctx, p, before, o.dry_run ? after : -1, &audit) == 0;
		if (audited && o.relisten) {
			cmd_relisten_run(ctx, p, &audit, o.relisten_mode, o.backlog, o.dry_run, &run);
			cmd_relisten_forget(ctx, &run, false);      /* apply holds the lock */
		}
		/* The values are in place: a listener audit that fails must not
		 * turn the run into "nothing was changed". */
		for (size_t i = mark; i < ctx->diags.n; i++)
			if (ctx->diags.v[i].level >= QT_LEVEL_ERROR)
				ctx->diags.v[i].level = QT_LEVEL_WARN;
	}
out:
	if (worst < QT_LEVEL_ERROR)
		report(ctx, &o, p->path, plan, &job, audited ? &audit : NULL, &run,
		       !o.dry_run && (changed || run.results.nraised));
	else if (ctx->output == QT_OUT_JSON)
		report(ctx, &o, p ? p->path : args->argv[1], NULL, NULL, NULL, NULL, false);
	relisten_run_free(&run);
	audit_free(&audit);
	persist_job_free(&job);
	plan_free(plan);
	profile_free(p);
	return worst;
}
