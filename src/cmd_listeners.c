/* cmd_listeners: `qtune listeners` — every TCP listener of the namespace
 * with its backlog, accept queue, SYN limit, owners and, without a profile,
 * the one finding that needs none: queue-full. A report, like ss: findings
 * do not change the exit status (that is `check`'s job). */
#include "commands.h"

#include "findings.h"
#include "listeners.h"
#include "listeners_report.h"
#include "output.h"

enum qt_level cmd_listeners(struct qt_ctx *ctx, int argc, char **argv)
{
	struct listener_set set = { 0 };
	struct listeners_kernel k;
	struct findings fs = { 0 };
	struct finding_limits lim = { 0 };

	if (argc > 1) {
		diags_error(&ctx->diags, "listeners: unexpected argument '%s' (the command takes none)",
			    argv[1]);
		return QT_LEVEL_ERROR;
	}
	if (listeners_dump(ctx, &set, &ctx->diags) < 0)
		return QT_LEVEL_ERROR;
	listeners_attribute(ctx, &set, &ctx->diags);
	listeners_kernel_read(ctx, &k, &ctx->diags);
	/* No profile: before == after, so nothing is clamped and nothing is
	 * below a minimum; the current somaxconn still shapes the advice. */
	lim.somaxconn_before = lim.somaxconn_after = k.have_somaxconn ? k.somaxconn : 0;
	findings_build(&set, &lim, &fs);
	if (ctx->output == QT_OUT_JSON) {
		struct jw w;

		jw_init(&w, ctx->out);
		jw_object_begin(&w);
		output_json_header(&w, ctx, "listeners");
		listeners_render_json(&w, &set, &k, &fs);
		output_json_diags(&w, &ctx->diags);
		jw_object_end(&w);
	} else {
		listeners_render_text(ctx, ctx->out, &set, &k, &fs);
	}
	findings_free(&fs);
	listener_set_free(&set);
	return QT_LEVEL_OK;
}
