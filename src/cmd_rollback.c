/* rollback: put back the values (and the sysctl.d file) that the last
 * apply which changed something replaced, from its record; the record goes
 * once everything is back. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "cmd_common.h"
#include "commands.h"
#include "keys.h"
#include "output.h"
#include "state.h"
#include "sysctl.h"
#include "sysctld.h"
#include "util.h"

/* profile and plan are NULL when nothing was recorded. */
static void report(struct qt_ctx *ctx, const char *profile, const struct plan *plan, bool changed)
{
	struct jw *w = ctx->json;

	if (ctx->output == QT_OUT_JSON) {
		jw_kstring(w, "profile", profile);
		jw_kbool(w, "dry_run", false);
		jw_kbool(w, "changed", changed);
		if (plan)
			cmd_render_plan_json(w, plan);
		return;
	}
	if (ctx->verbosity < 0)
		return;
	if (plan && (plan->nchanges || ctx->verbosity > 0))
		cmd_render_plan_text(ctx, plan, PLAN_ROLLBACK);
	fprintf(ctx->out, "rollback: %s\n", changed ? "changed" : "nothing to change");
}

/* Each recorded key: its value now, to be put back to the recorded one. A
 * key changed by someone else since is restored all the same, with a
 * warning. */
static int plan_restore(struct qt_ctx *ctx, const struct state *st, struct plan *plan)
{
	char now[KEY_VALUE_MAX], shown[KEY_PATH_MAX];

	for (size_t i = 0; i < st->n; i++) {
		int r;

		key_display(st->keys[i].key, shown, sizeof(shown));
		r = sysctl_read(ctx->procsys_fd, st->keys[i].key, now, sizeof(now));
		if (r < 0) {
			diags_error(&ctx->diags, "%s: %s", shown, strerror(-r));
			return r;
		}
		/* An apply that was interrupted never reached some keys. */
		if (!key_values_equal(key_lookup(st->keys[i].key), now, st->keys[i].new) &&
		    !(st->in_progress && key_values_equal(key_lookup(st->keys[i].key), now, st->keys[i].old)))
			diags_warn(&ctx->diags, "%s was changed since the apply (now \"%s\", applied \"%s\"); restoring \"%s\" anyway",
				   shown, now, st->keys[i].new, st->keys[i].old);
		plan_add(plan, st->keys[i].key, now, st->keys[i].old);
	}
	return 0;
}

enum qt_level cmd_rollback(struct qt_ctx *ctx, const struct cmd_args *args)
{
	struct state *st = NULL;
	struct plan *plan = xcalloc(1, sizeof(*plan));
	char *old_persist = NULL;
	size_t old_persist_len = 0;
	enum qt_level worst = QT_LEVEL_OK;
	sigset_t held;
	int r;

	apply_signals_hold(&held);
	r = state_load(ctx, &st, &old_persist, &old_persist_len, &ctx->diags);
	if (r == -ENOENT) {
		report(ctx, NULL, NULL, false);
		goto out;
	}
	if (r < 0 || plan_restore(ctx, st, plan) < 0 ||
	    apply_preflight(ctx, plan, args->given[CMD_OPT_ALLOW_GLOBAL], false, &ctx->diags) < 0 ||
	    cmd_confine_settings(ctx, plan, true) < 0) {
		worst = QT_LEVEL_ERROR;
		goto out;
	}
	r = apply_execute(ctx, plan, &ctx->diags);
	if (r < 0) {
		worst = r == -ENOTRECOVERABLE ? QT_LEVEL_FATAL : QT_LEVEL_ERROR;
		goto out;
	}
	if (st->persist_file &&
	    cmd_persist_put(ctx, st->persist_file, st->persist_had_old ? old_persist : NULL,
			    old_persist_len) < 0) {
		diags_error(&ctx->diags, "the running values were restored, but %s/%s was not; the record is kept, run rollback again",
			    SYSCTLD_ETC, st->persist_file);
		worst = QT_LEVEL_ERROR;
		goto out;
	}
	if (state_clear(ctx, &ctx->diags) < 0)
		diags_warn(&ctx->diags, "values restored, but the record could not be removed");
	report(ctx, st->profile, plan, plan->nchanges > 0 || st->persist_file);
out:
	apply_signals_release(&held, "rollback", &ctx->diags);
	plan_free(plan);
	free(old_persist);
	state_free(st);
	return worst;
}
