/* profiles: the profiles on the search path (profile_list), each loaded
 * to say whether it is valid. */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "output.h"
#include "profile.h"
#include "util.h"

struct found {
	char *description;
	bool valid;
};

enum qt_level cmd_profiles(struct qt_ctx *ctx, const struct cmd_args *args)
{
	struct profile_listing *l = NULL;
	struct found *v;
	size_t n = 0;
	int wname = 4;
	struct jw *w = ctx->json;

	profile_list(ctx->root, &l, &n);
	v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		struct qt_diags quiet = { 0 };
		struct profile *p = NULL;

		profile_load(ctx->root, l[i].path, QT_LEVEL_WARN, &p, &quiet);
		v[i].valid = p != NULL;
		v[i].description = p && p->description ? xstrdup(p->description) : NULL;
		profile_free(p);
		diags_free(&quiet);
	}
	for (size_t i = 0; i < n; i++)
		if ((int)strlen(l[i].name) > wname)
			wname = (int)strlen(l[i].name);
	if (ctx->output == QT_OUT_JSON) {
		jw_key(w, "profiles");
		jw_array_begin(w);
		for (size_t i = 0; i < n; i++) {
			jw_object_begin(w);
			jw_kstring(w, "name", l[i].name);
			jw_kstring(w, "path", l[i].path);
			jw_kstring(w, "description", v[i].description);
			jw_kbool(w, "valid", v[i].valid);
			jw_object_end(w);
		}
		jw_array_end(w);
	} else {
		for (size_t i = 0; i < n; i++) {
			/* File names and descriptions are anybody's text. */
			char name[256], desc[512];
			const char *d = v[i].description ? v[i].description : "";
			util_escape(name, sizeof(name), l[i].name, strlen(l[i].name));
			util_escape(desc, sizeof(desc), d, strlen(d));
			fprintf(ctx->out, "%-*s  %s%s\n", wname, name,
				v[i].valid ? "" : "(invalid: run qtune validate) ", desc);
		}
		if (n == 0 && ctx->verbosity >= 0)
			fprintf(ctx->out, "no profiles in %s or %s\n", PROFILE_DIR_ETC, PROFILE_DIR_USR);
	}
	for (size_t i = 0; i < n; i++)
		free(v[i].description);
	free(v);
	profile_list_free(l, n);
	return QT_LEVEL_OK;
}
