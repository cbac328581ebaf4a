/* relisten: raise the backlogs of the sockets the last apply recorded at
 * the somaxconn it replaced (with --all, maybe-clamped ones and those
 * below a PROFILE's requirement too; --backlog N: to N) without
 * restarting their services: listen() again on a duplicate of the socket
 * taken with pidfd_getfd (relisten.c). */
#include "audit.h"
#include "cmd_common.h"
#include "commands.h"
#include "output.h"
#include "util.h"

enum qt_level cmd_relisten(struct qt_ctx *ctx, const struct cmd_args *args)
{
	bool dry_run = args->given[CMD_OPT_DRY_RUN], all = args->given[CMD_OPT_ALL];
	struct profile *p = NULL;
	struct relisten_run run = { 0 };
	struct audit a = { 0 };
	enum qt_level worst = QT_LEVEL_OK;
	int64_t backlog;

	if (cmd_parse_backlog(ctx, args->value[CMD_OPT_BACKLOG], &backlog) < 0)
		return QT_LEVEL_ERROR;
	if (args->argc > 1 &&
	    cmd_load_profile(ctx, args->argv[1], dry_run ? QT_LEVEL_WARN : QT_LEVEL_ERROR, &p) < 0)
		return QT_LEVEL_ERROR;
	if (audit_run(ctx, p, -1, -1, &a) < 0 ||
	    cmd_relisten_run(ctx, p, &a, all ? RELISTEN_ALL : RELISTEN_CLAMPED, backlog, dry_run,
			     &run) < 0) {
		worst = QT_LEVEL_ERROR;
		goto out;
	}
	cmd_relisten_forget(ctx, &run, true);
	if (ctx->output == QT_OUT_JSON) {
		struct jw *w = ctx->json;

		jw_kstring(w, "profile", p ? p->path : NULL);
		jw_kbool(w, "dry_run", dry_run);
		jw_kbool(w, "changed", run.results.nraised > 0);
		cmd_render_relisten_json(w, &run, &a);
		audit_render_json(w, &a);
	} else {
		cmd_render_relisten_text(ctx, &run, &a);
	}
out:
	relisten_run_free(&run);
	audit_free(&a);
	profile_free(p);
	return worst;
}
