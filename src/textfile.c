/* textfile: atomic replacement of a --textfile PATH. */
#include "textfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trust.h"
#include "util.h"

int textfile_write(const char *path, const char *buf, size_t len, struct qt_diags *d)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
	const char *name = slash ? slash + 1 : path;
	int dfd, r;

	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		diags_error(d, "--textfile %s: not a file name", path);
		free(dir);
		return -EINVAL;
	}
	if (!util_has_suffix(name, ".prom"))
		diags_warn(d, "--textfile %s: node_exporter reads only files ending in .prom", path);
	/* Root writes here: no symlink on the way, and no directory that
	 * anybody else could swap for another. */
	r = trust_open_dir(dir, d, &dfd);
	if (r < 0) {
		if (r == -EPERM || r == -ELOOP)
			diags_error(d, "--textfile %s: not written", path);
		else
			diags_error(d, "--textfile %s: cannot open %s: %s", path, dir, strerror(-r));
		free(dir);
		return r;
	}
	r = util_write_atomic(dfd, name, buf, len, 0644);
	if (r < 0)
		diags_error(d, "--textfile %s: %s", path,
			    r == -ELOOP ? "refusing to write through a symlink" : strerror(-r));
	close(dfd);
	free(dir);
	return r;
}
