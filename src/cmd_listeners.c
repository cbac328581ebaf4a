/* cmd_listeners: `qtune listeners [PROFILE]` — every TCP listener of the
 * namespace with its backlog, accept queue, SYN limit, owners and findings:
 * queue-full always, below-min against PROFILE when one is given; owners
 * of every listener unless --no-owners. A report,
 * like ss: findings do not change the exit status (that is `check`'s job). */
#include "audit.h"
#include "cmd_common.h"
#include "commands.h"
#include "output.h"
#include "prometheus.h"

enum qt_level cmd_listeners(struct qt_ctx *ctx, const struct cmd_args *args)
{
	struct profile *p = NULL;
	struct audit a;
	enum qt_level worst = QT_LEVEL_OK;
	int64_t interval = 0;

	if (cmd_option_count(ctx, args, CMD_OPT_INTERVAL, CMD_INTERVAL_MAX, &interval) < 0)
		return QT_LEVEL_ERROR;
	if (args->argc > 1 && cmd_load_profile(ctx, args->argv[1], QT_LEVEL_WARN, &p) < 0)
		return QT_LEVEL_ERROR;
	if (audit_run_owners(ctx, p, -1, -1,
			     args->given[CMD_OPT_NO_OWNERS] ? AUDIT_OWNERS_NONE : AUDIT_OWNERS_ALL, &a) < 0) {
		profile_free(p);
		return QT_LEVEL_ERROR;
	}
	if (interval && cmd_sleep((double)interval, NULL) >= 0 && audit_resample(ctx, &a) < 0) {
		audit_free(&a);
		profile_free(p);
		return QT_LEVEL_ERROR;
	}
	if (ctx->output == QT_OUT_PROMETHEUS) {
		struct prom_inputs in;

		cmd_prom_gather(ctx, &in);
		worst = prom_render_listeners(ctx, &a, &in);
		cmd_prom_inputs_free(&in);
	} else if (ctx->output == QT_OUT_JSON) {
		struct jw *w = ctx->json;

		jw_kstring(w, "profile", p ? p->path : NULL);
		audit_render_json(w, &a);
	} else {
		audit_render_text(ctx, &a);
	}
	audit_free(&a);
	profile_free(p);
	return worst;
}
