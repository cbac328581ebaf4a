/* validate: parse and validate profiles; changes nothing. */
#include <stdlib.h>

#include "cmd_common.h"
#include "commands.h"
#include "output.h"

enum qt_level cmd_validate(struct qt_ctx *ctx, const struct cmd_args *args)
{
	enum qt_level worst = QT_LEVEL_OK;
	struct jw *w = ctx->json;

	if (ctx->output == QT_OUT_JSON) {
		jw_key(w, "profiles");
		jw_array_begin(w);
	}
	for (int i = 1; i < args->argc; i++) {
		struct profile *p = NULL;
		size_t before = diags_count(&ctx->diags, QT_LEVEL_ERROR);
		int r = cmd_load_profile(ctx, args->argv[i], QT_LEVEL_WARN, &p);

		if (r < 0 || diags_count(&ctx->diags, QT_LEVEL_ERROR) > before)
			worst = QT_LEVEL_ERROR;
		if (p)
			cmd_warn_global_keys(ctx, p);
		if (ctx->output == QT_OUT_JSON) {
			jw_object_begin(w);
			jw_kstring(w, "profile", p ? p->path : args->argv[i]);
			jw_kbool(w, "valid", p != NULL);
			if (p) {
				jw_kstring(w, "name", p->name);
				jw_kint(w, "keys", (int64_t)p->nentries);
				jw_kstring(w, "sha256", p->checksum);
			}
			jw_object_end(w);
		} else if (p && ctx->verbosity >= 0) {
			fprintf(ctx->out, "%s: valid (%zu keys)\n", p->path, p->nentries);
		}
		profile_free(p);
	}
	if (ctx->output == QT_OUT_JSON) {
		jw_array_end(w);
	}
	return worst;
}
