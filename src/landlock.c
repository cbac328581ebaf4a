/* landlock: a write-nothing-but-the-grants ruleset with the raw syscalls. */
#include "landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

/* Debian 12's headers stop at ABI 2; the kernels qtune meets go further.
 * The values are the kernel's ABI and never change. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)    /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)   /* ABI 5 */
#endif

#define FS_WRITE_BITS (LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE)
#define FS_CREATE_BITS (FS_WRITE_BITS | LANDLOCK_ACCESS_FS_MAKE_REG | \
			LANDLOCK_ACCESS_FS_REMOVE_FILE)

/* What a ruleset of this ABI handles: every access that changes a file
 * or the tree, and execute. Reads are not handled, so they stay allowed. */
static uint64_t handled_for(int abi)
{
	uint64_t h = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
		     LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
		     LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
		     LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
		     LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
		     LANDLOCK_ACCESS_FS_MAKE_SYM;

	if (abi >= 2)
		h |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		h |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		h |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return h;
}

/* Opens what a grant names, O_PATH and without following a symlink at
 * the end. A missing absolute directory falls back to its nearest
 * existing ancestor (*widened set). 0, -ENOENT (skip) or -errno. */
static int grant_open(const struct landlock_grant *g, int *fd, char **shown, int *widened)
{
	char *p = xstrdup(g->path);

	*widened = 0;
	for (;;) {
		int f = openat(g->dirfd, p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (f >= 0) {
			*fd = f;
			*shown = p;
			return 0;
		}
		int r = -errno;
		char *slash = strrchr(p, '/');
		if (r != -ENOENT || g->dirfd != AT_FDCWD || p[0] != '/' ||
		    g->right != LANDLOCK_CREATE_FILES || !slash) {
			free(p);
			return r;
		}
		slash[slash == p ? 1 : 0] = '\0';
		*widened = 1;
	}
}

static int add_rule(int ruleset, int fd, uint64_t allowed)
{
	struct landlock_path_beneath_attr pb = { .allowed_access = allowed, .parent_fd = fd };

	return syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0
		? -errno : 0;
}

int landlock_restrict(const struct landlock_grant *grants, size_t n, FILE *trace,
		      struct qt_diags *d)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	if (abi < 0) {
		int e = errno;
		/* Not built in, or built in and disabled at boot (lsm=). */
		if (e == ENOSYS || e == EOPNOTSUPP)
			return 0;
		diags_error(d, "cannot ask the kernel for Landlock: %s", strerror(e));
		return -e;
	}

	uint64_t handled = handled_for((int)abi);
	struct landlock_ruleset_attr attr = { .handled_access_fs = handled };
	int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	int r = 0;

	if (ruleset < 0) {
		r = -errno;
		diags_error(d, "cannot create a Landlock ruleset: %s", strerror(-r));
		return r;
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		const struct landlock_grant *g = &grants[i];
		char *shown = NULL;
		int fd = -1, widened = 0;
		struct stat st;

		r = grant_open(g, &fd, &shown, &widened);
		if (r == -ENOENT) {
			r = 0;      /* nothing there to write */
			continue;
		}
		if (r < 0) {
			diags_error(d, "%s: cannot open for the Landlock ruleset: %s", g->path,
				    strerror(-r));
			break;
		}
		uint64_t allowed = g->right == LANDLOCK_CREATE_FILES ? FS_CREATE_BITS : FS_WRITE_BITS;
		if (widened)
			allowed |= LANDLOCK_ACCESS_FS_MAKE_DIR;
		/* A rule on a file may carry only the rights that apply to files. */
		if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
			allowed &= FS_WRITE_BITS;
		r = add_rule(ruleset, fd, allowed & handled);
		if (r < 0)
			diags_error(d, "%s: cannot add a Landlock rule: %s", shown, strerror(-r));
		else if (trace)
			fprintf(trace, "qtune: landlock: %s %s%s\n",
				allowed & LANDLOCK_ACCESS_FS_MAKE_REG ? "create and write files beneath"
								      : "write",
				shown, widened ? " (the nearest existing directory)" : "");
		close(fd);
		free(shown);
	}
	if (r == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) < 0) {
		r = -errno;
		diags_error(d, "cannot enforce the Landlock ruleset: %s", strerror(-r));
	}
	close(ruleset);
	return r < 0 ? r : (int)abi;
}
