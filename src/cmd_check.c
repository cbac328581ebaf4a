/* check: compare a profile with the running kernel and with what the next
 * boot applies; exit 1 on drift. */
#include <stdlib.h>

#include "audit.h"
#include "boot_report.h"
#include "cmd_common.h"
#include "commands.h"
#include "keys.h"
#include "output.h"
#include "prometheus.h"
#include "state.h"
#include "sysctld.h"

/* Boot-time drift: differing keys are drift; keys where only
 * `sysctl --system` would miss the profile are warned about. */
static enum qt_level boot_level(struct qt_ctx *ctx, const struct boot_item *items, size_t n)
{
	enum qt_level worst = QT_LEVEL_OK;
	char shown[KEY_PATH_MAX], src[600];

	for (size_t i = 0; i < n; i++) {
		if (items[i].status == BOOT_DIFFERS)
			worst = QT_LEVEL_DRIFT;
		else if (items[i].procps_differs) {
			key_display(items[i].entry->key, shown, sizeof(shown));
			boot_source(&items[i].res.by[SYSCTLD_PROCPS], src, sizeof(src));
			diags_warn(&ctx->diags, "%s: `sysctl --system` would leave %s (%s), which the profile does not accept",
				   shown, items[i].res.by[SYSCTLD_PROCPS].value, src);
		}
	}
	return worst;
}

enum qt_level cmd_check(struct qt_ctx *ctx, const struct cmd_args *args)
{
	struct profile *p = NULL;
	struct plan *plan = NULL;
	struct sysctld_config *boot = NULL;
	struct boot_item *items = NULL;
	struct audit a = { 0 };
	enum qt_level worst = QT_LEVEL_OK, b;
	struct jw *w = ctx->json;
	int64_t interval = 0;

	if (cmd_option_count(ctx, args, CMD_OPT_INTERVAL, CMD_INTERVAL_MAX, &interval) < 0 ||
	    cmd_load_profile(ctx, args->argv[1], QT_LEVEL_WARN, &p) < 0) {
		worst = QT_LEVEL_ERROR;
		goto out;
	}
	cmd_warn_global_keys(ctx, p);
	state_note_interrupted(ctx, &ctx->diags);
	if (cmd_build_plan(ctx, p, &plan) < 0 ||
	    sysctld_load(ctx, &boot, &ctx->diags) < 0 || !boot->complete ||
	    boot_audit(boot, p, &items) < 0 ||
	    audit_run(ctx, p, -1, -1, &a) < 0 ||
	    (interval && cmd_sleep((double)interval, NULL) >= 0 && audit_resample(ctx, &a) < 0)) {
		worst = QT_LEVEL_ERROR;
		goto out;
	}
	if (plan->nchanges)
		worst = QT_LEVEL_DRIFT;
	b = boot_level(ctx, items, p->nentries);
	if (b > worst)
		worst = b;
	if (audit_level(&a) > worst)
		worst = audit_level(&a);

	if (ctx->output == QT_OUT_PROMETHEUS) {
		/* below, after out: a check that failed reports its exit code too */
	} else if (ctx->output == QT_OUT_JSON) {
		jw_kstring(w, "profile", p->path);
		jw_kbool(w, "compliant", worst < QT_LEVEL_DRIFT);
		cmd_render_plan_json(w, plan);
		boot_render_json(w, items, p->nentries);
		audit_render_json(w, &a);
	} else if (ctx->verbosity >= 0 || worst >= QT_LEVEL_DRIFT) {
		cmd_render_plan_text(ctx, plan, PLAN_CHECK);
		boot_render_text(ctx, items, p->nentries);
		fputc('\n', ctx->out);
		audit_render_text(ctx, &a);
		fprintf(ctx->out, "\n%s: %s\n", p->path,
			worst < QT_LEVEL_DRIFT ? "compliant"
			: plan->nchanges ? "drift: the running kernel differs from the profile"
			: b >= QT_LEVEL_DRIFT ? "drift: the next boot would not apply the profile"
			: "drift: listeners do not meet the profile");
	}
out:
	if (ctx->output == QT_OUT_PROMETHEUS) {
		bool ok = worst < QT_LEVEL_ERROR;
		struct prom_check pc = { .profile = p ? p->name : args->argv[1], .plan = ok ? plan : NULL,
					 .boot = ok ? items : NULL, .nboot = p ? p->nentries : 0,
					 .audit = ok ? &a : NULL, .worst = worst };
		struct prom_inputs in;

		cmd_prom_gather(ctx, &in);
		worst = prom_render_check(ctx, &pc, &in);
		cmd_prom_inputs_free(&in);
	}
	audit_free(&a);
	free(items);
	sysctld_config_free(boot);
	plan_free(plan);
	profile_free(p);
	return worst;
}
