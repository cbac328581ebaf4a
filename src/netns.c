/* netns: entering and identifying the target network namespace. */
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "netns_scan.h"
#include "sysctl.h"
#include "util.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif
#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

int netns_setns(int fd)
{
	struct stat want, here;

	/* Already there (the caller's own namespace): no setns, which would
	 * need CAP_SYS_ADMIN even for that. */
	if (fstat(fd, &want) == 0 && stat("/proc/thread-self/ns/net", &here) == 0 &&
	    want.st_dev == here.st_dev && want.st_ino == here.st_ino)
		return 0;
	return setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
}

/* A bare argument that is no name under /run/netns may be a label. */
static char *label_path(const char *arg, struct qt_diags *d)
{
	char *path = NULL;
	int64_t pid;

	/* pid:N is any process's namespace, not only the one a label names. */
	if (strncmp(arg, "pid:", 4) == 0 && util_parse_i64(arg + 4, &pid) == 0 && pid > 0 && pid <= INT32_MAX)
		return xasprintf("/proc/%lld/ns/net", (long long)pid);
	int proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r = proc < 0 ? -errno : netns_find_label(proc, arg, &path, d);

	if (proc >= 0)
		close(proc);
	if (r == -EEXIST)
		diags_error(d, "--netns %s: names several namespaces; give one of their labels in full, or a path", arg);
	return r == 0 ? path : NULL;
}

#define NS_OPEN_FLAGS (O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)

int netns_enter(const char *name_or_path, struct qt_diags *d)
{
	char *path;
	struct statfs sfs;
	int fd, r = 0;

	if (strchr(name_or_path, '/')) {
		path = xstrdup(name_or_path);
	} else {
		/* A bare name must be a plain file name under /run/netns. */
		if (!*name_or_path || strcmp(name_or_path, ".") == 0 ||
		    strcmp(name_or_path, "..") == 0 || strlen(name_or_path) > 255) {
			diags_error(d, "--netns %s: not a namespace name", name_or_path);
			return -EINVAL;
		}
		path = xasprintf("%s/%s", NETNS_RUN_DIR, name_or_path);
	}
	/* O_NONBLOCK, O_NOCTTY: a FIFO or a device named here must neither block
	 * nor act before the check below refuses it. */
	fd = open(path, NS_OPEN_FLAGS);
	if (fd < 0 && errno == ENOENT && !strchr(name_or_path, '/')) {
		char *found = label_path(name_or_path, d);

		if (found) {
			free(path);
			path = found;
			fd = open(path, NS_OPEN_FLAGS);
		} else if (diags_worst(d) >= QT_LEVEL_ERROR) {
			r = -EEXIST;
			goto out;
		} else {
			errno = ENOENT;
		}
	}
	if (fd < 0) {
		r = -errno;
		diags_error(d, "--netns: %s: %s", path, strerror(-r));
		goto out;
	}
	if (fstatfs(fd, &sfs) < 0 || sfs.f_type != NSFS_MAGIC) {
		r = -EINVAL;
		diags_error(d, "--netns: %s is not a namespace file", path);
	} else if ((r = netns_setns(fd)) < 0) {
		diags_error(d, "--netns: cannot enter %s: %s%s", path, strerror(-r),
			    r == -EPERM ? " (needs CAP_SYS_ADMIN)" : "");
	}
	close(fd);
out:
	free(path);
	return r;
}

/* The namespace's cookie, asked of a socket created in it (Linux 5.14+);
 * 0 when the kernel has none. */
static uint64_t netns_cookie(void)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0 || len != sizeof(cookie))
		cookie = 0;
	close(fd);
	return cookie;
}

int netns_identify(struct qt_ctx *ctx, const char **how)
{
	struct stat self, init;

	if (stat("/proc/thread-self/ns/net", &self) < 0)
		return -errno;
	ctx->netns_inode = (uint64_t)self.st_ino;
	ctx->netns_cookie = netns_cookie();
	if (stat("/proc/1/ns/net", &init) == 0) {
		ctx->netns_initial = self.st_ino == init.st_ino && self.st_dev == init.st_dev;
		*how = "compared with the namespace of PID 1";
		return 0;
	}
	/* Without access to PID 1 (unprivileged, hidepid): the initial
	 * namespace is the only one with net.core.netdev_max_backlog, which
	 * the kernel registers for init_net alone. */
	ctx->netns_initial = sysctl_exists(ctx->procsys_fd, "net/core/netdev_max_backlog") == 0;
	*how = "PID 1 not visible; judged by net.core.netdev_max_backlog, which exists only in the initial namespace";
	return 0;
}
