/* profiles: the profiles on the search path, local ones first; a local
 * profile masks a shipped one of the same name, as profile_find() does. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "output.h"
#include "profile.h"
#include "util.h"

#define PROFILES_MAX 1024

struct found {
	char *name;
	char *path;
	char *description;
	bool valid;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct found *)a)->name, ((const struct found *)b)->name);
}

static bool seen(const struct found *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return true;
	return false;
}

/* Adds DIR's NAME.yaml files not already found; bounded. */
static size_t scan(struct qt_ctx *ctx, const char *dir, struct found *v, size_t n)
{
	char *full = util_rooted(ctx->root, dir);
	DIR *dh = opendir(full);
	struct dirent *de;

	while (dh && (de = readdir(dh)) && n < PROFILES_MAX) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || !util_has_suffix(de->d_name, ".yaml") || len <= 5)
			continue;
		char *name = xstrndup(de->d_name, len - 5);
		if (seen(v, n, name)) {
			free(name);
			continue;
		}
		struct qt_diags quiet = { 0 };
		struct profile *p = NULL;
		char *path = xasprintf("%s/%s", full, de->d_name);

		profile_load(ctx, path, &p, &quiet);
		v[n].name = name;
		v[n].path = path;
		v[n].valid = p != NULL;
		v[n].description = p && p->description ? xstrdup(p->description) : NULL;
		n++;
		profile_free(p);
		diags_free(&quiet);
	}
	if (dh)
		closedir(dh);
	free(full);
	return n;
}

enum qt_level cmd_profiles(struct qt_ctx *ctx, const struct cmd_args *args)
{
	struct found *v = xcalloc(PROFILES_MAX, sizeof(*v));
	size_t n = scan(ctx, PROFILE_DIR_ETC, v, 0);
	int wname = 4;
	struct jw *w = ctx->json;

	n = scan(ctx, PROFILE_DIR_USR, v, n);
	qsort(v, n, sizeof(*v), by_name);
	for (size_t i = 0; i < n; i++)
		if ((int)strlen(v[i].name) > wname)
			wname = (int)strlen(v[i].name);
	if (ctx->output == QT_OUT_JSON) {
		jw_key(w, "profiles");
		jw_array_begin(w);
		for (size_t i = 0; i < n; i++) {
			jw_object_begin(w);
			jw_kstring(w, "name", v[i].name);
			jw_kstring(w, "path", v[i].path);
			jw_kstring(w, "description", v[i].description);
			jw_kbool(w, "valid", v[i].valid);
			jw_object_end(w);
		}
		jw_array_end(w);
	} else {
		for (size_t i = 0; i < n; i++)
			fprintf(ctx->out, "%-*s  %s%s%s\n", wname, v[i].name,
				v[i].valid ? "" : "(invalid: run qtune validate) ",
				v[i].description ? v[i].description : "", "");
		if (n == 0 && ctx->verbosity >= 0)
			fprintf(ctx->out, "no profiles in %s or %s\n", PROFILE_DIR_ETC, PROFILE_DIR_USR);
	}
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].path);
		free(v[i].description);
	}
	free(v);
	return QT_LEVEL_OK;
}
