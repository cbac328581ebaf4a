/* fuzz_tree: scratch directory for the fuzz targets. */
#include "fuzz_tree.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

char fuzz_root[256];
FILE *fuzz_sink;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(p);
}

static void cleanup(void)
{
	if (fuzz_root[0])
		nftw(fuzz_root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void fuzz_tree_make(const char *what)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(fuzz_root, sizeof(fuzz_root), "%s/qtune-fuzz-%s.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp", what);
	if (!mkdtemp(fuzz_root))
		abort();
	atexit(cleanup);
	fuzz_sink = fopen("/dev/null", "we");
	if (!fuzz_sink)
		abort();
}

void fuzz_tree_put(const char *rel, const char *text)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", fuzz_root, rel);
	for (char *p = path + strlen(fuzz_root) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	fuzz_tree_write(path, text, strlen(text));
}

void fuzz_tree_write(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || util_write_all(fd, buf, len) < 0 || close(fd) < 0)
		abort();
}
