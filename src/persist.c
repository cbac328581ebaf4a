/* persist: rendering and the atomic replacement of the persisted file. */
#include "persist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys.h"
#include "profile.h"
#include "sysctld.h"
#include "util.h"

/* ---- the file's bytes ---- */

static char *sanitized(const char *s)
{
	char *r = xstrdup(s ? s : "-");

	for (char *p = r; *p; p++)
		if (util_is_control((unsigned char)*p))
			*p = '?';
	return r;
}

char *persist_header(const char *version, const char *profile_name, const char *profile_path,
		     const char *checksum)
{
	/* A newline in a profile path would end the comment and let the
	 * rest of the path be read as an assignment at boot. */
	char *v = sanitized(version), *n = sanitized(profile_name);
	char *p = sanitized(profile_path), *c = sanitized(checksum);
	char *h = xasprintf("# Written by qtune %s from profile %s (%s)\n"
			    "# sha256 %s\n"
			    "# Do not edit: qtune apply --persist rewrites this file.\n",
			    v, n, p, c);

	free(v);
	free(n);
	free(p);
	free(c);
	return h;
}

static int check_header(const char *header, struct qt_diags *d)
{
	bool line_start = true;

	for (const char *p = header; *p; p++) {
		if (line_start && *p != '#' && *p != '\n') {
			diags_error(d, "sysctl.d header: every line must be a '#' comment");
			return -EINVAL;
		}
		if (util_is_control((unsigned char)*p) && *p != '\n' && *p != '\t') {
			diags_error(d, "sysctl.d header holds a control character");
			return -EINVAL;
		}
		line_start = *p == '\n';
	}
	return 0;
}

int persist_render(const char *header, const struct persist_assign *a, size_t n,
		   char **out, size_t *len, struct qt_diags *d)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f;
	int r = 0;

	*out = NULL;
	if (header && (r = check_header(header, d)) < 0)
		return r;
	f = open_memstream(&buf, &size);
	if (!f)
		return -errno;
	if (header && *header)
		fprintf(f, "%s%s", header, util_has_suffix(header, "\n") ? "" : "\n");
	for (size_t i = 0; i < n; i++) {
		char path[KEY_PATH_MAX], shown[KEY_PATH_MAX], value[KEY_VALUE_MAX];
		const char *why = NULL;

		if (key_canonicalize(a[i].key, path, sizeof(path), &why) < 0) {
			diags_error(d, "cannot persist key: %s", why);
			r = -EINVAL;
			break;
		}
		key_display(path, shown, sizeof(shown));
		if (shown[0] == '-') {
			diags_error(d, "cannot persist %s: a leading '-' reads as \"ignore failure\"", shown);
			r = -EINVAL;
			break;
		}
		/* key_check_value with no key info: no control characters (a
		 * newline would start another assignment), bounded, blanks
		 * normalised. */
		if (!a[i].value || key_check_value(NULL, a[i].value, value, sizeof(value), &why) < 0 ||
		    !*value) {
			diags_error(d, "cannot persist %s: %s", shown, why ? why : "empty value");
			r = -EINVAL;
			break;
		}
		fprintf(f, "%s = %s\n", shown, value);
	}
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(buf);
		return r;
	}
	*out = buf;
	if (len)
		*len = size;
	return 0;
}

/* ---- the file on disk ---- */

/* Whether dir/name may be replaced or removed: a persist file name, and
 * nothing or a regular file there. *shown is "DIR/NAME" for messages. */
static int check_target(int dfd, const char *dir, const char *name, char **shown,
			struct qt_diags *d)
{
	const char *why;
	struct stat st;

	if (!profile_persist_name_valid(name, &why)) {
		diags_add(d, QT_LEVEL_ERROR, dir, 0, 0, "persist file %s: %s", name ? name : "(none)",
			  why);
		return -EINVAL;
	}
	*shown = xasprintf("%s/%s", dir, name);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		int r = -errno;

		if (r == -ENOENT)
			return 0;
		diags_add(d, QT_LEVEL_ERROR, *shown, 0, 0, "cannot examine: %s", strerror(-r));
		return r;
	}
	if (S_ISLNK(st.st_mode)) {
		diags_add(d, QT_LEVEL_ERROR, *shown, 0, 0,
			  "is a symlink: refusing to write through it (remove it or choose another persist.file)");
		return -ELOOP;
	}
	if (!S_ISREG(st.st_mode)) {
		diags_add(d, QT_LEVEL_ERROR, *shown, 0, 0, "is not a regular file: refusing to replace it");
		return -EINVAL;
	}
	return 0;
}

int persist_read(int dfd, const char *name, char **content, size_t *len)
{
	*content = NULL;
	if (!profile_persist_name_valid(name, NULL))
		return -EINVAL;
	return util_read_file_at(dfd, name, O_NOFOLLOW, SYSCTLD_FILE_MAX, content, len);
}

int persist_write(int dfd, const char *dir, const char *name, const char *content, size_t len,
		  struct qt_diags *d)
{
	char *shown = NULL;
	int r = check_target(dfd, dir, name, &shown, d);

	if (r == 0) {
		r = util_write_atomic(dfd, name, content, len, 0644);
		if (r < 0)
			diags_add(d, QT_LEVEL_ERROR, shown, 0, 0, "cannot write: %s", strerror(-r));
		/* The rename happened: the file is replaced, say so. */
		if (r > 0)
			diags_add(d, QT_LEVEL_WARN, shown, 0, 0,
				  "written, but the directory would not sync (%s): the file may not survive a crash; run sync and check the disk",
				  strerror(r));
		r = r > 0 ? 0 : r;
	}
	free(shown);
	return r;
}

int persist_remove(int dfd, const char *dir, const char *name, struct qt_diags *d)
{
	char *shown = NULL;
	int r = check_target(dfd, dir, name, &shown, d);

	if (r < 0)
		goto out;
	if (unlinkat(dfd, name, 0) < 0) {
		if (errno != ENOENT) {
			r = -errno;
			diags_add(d, QT_LEVEL_ERROR, shown, 0, 0, "cannot remove: %s", strerror(-r));
		}
		goto out;
	}
	/* The removal is durable only once the directory is. */
	if (fsync(dfd) < 0) {
		r = -errno;
		diags_add(d, QT_LEVEL_ERROR, dir, 0, 0, "cannot sync the directory: %s", strerror(-r));
	}
out:
	free(shown);
	return r;
}
