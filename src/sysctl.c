/* sysctl: /proc/sys access beneath a directory fd, no symlinks. */
#include "sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#ifdef QTUNE_TEST_HOOKS
unsigned sysctl_fail_write_at;
unsigned sysctl_writes_done;
#endif

int sysctl_open_root(int *fd)
{
	int f = open("/proc/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (f < 0)
		return -errno;
	*fd = f;
	return 0;
}

/* Opens path beneath dirfd refusing symlinks anywhere on the way. */
static int open_beneath(int dirfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)flags,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = util_openat2(dirfd, path, &how);

	if (fd != -ENOSYS)
		return fd;

	/* Before Linux 5.6: walk one component at a time with O_NOFOLLOW. */
	char buf[KEY_PATH_MAX];
	int cur = dirfd, r;
	char *save = NULL, *seg, *next;

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	seg = strtok_r(buf, "/", &save);
	while (seg) {
		next = strtok_r(NULL, "/", &save);
		int f = openat(cur, seg, next ? (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
					      : (flags | O_NOFOLLOW | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY)));
		r = f < 0 ? -errno : f;
		if (cur != dirfd)
			close(cur);
		if (r < 0)
			return r;
		cur = f;
		seg = next;
	}
	return cur == dirfd ? -EINVAL : cur;
}

int sysctl_read(int procsys_fd, const char *path, char *value, size_t size)
{
	char *buf = NULL;
	size_t len;
	int fd, r;

	fd = open_beneath(procsys_fd, path, O_RDONLY);
	if (fd < 0)
		return fd;
	r = util_read_fd(fd, KEY_VALUE_MAX, &buf, &len);
	close(fd);
	if (r < 0)
		return r == -EFBIG ? -E2BIG : r;
	util_normalize_ws(buf);
	if (strlen(buf) >= size)
		r = -E2BIG;
	else
		strcpy(value, buf);
	free(buf);
	return r;
}

int sysctl_write(int procsys_fd, const char *path, const char *value,
		 char *readback, size_t readback_size)
{
	char back[KEY_VALUE_MAX];
	int fd, r;

#ifdef QTUNE_TEST_HOOKS
	if (sysctl_fail_write_at && ++sysctl_writes_done == sysctl_fail_write_at)
		return -EIO;
#endif
	fd = open_beneath(procsys_fd, path, O_WRONLY);
	if (fd < 0)
		return fd;
	/* One write() call: /proc/sys handlers parse a single buffer. */
	ssize_t w = write(fd, value, strlen(value));
	r = w < 0 ? -errno : (size_t)w != strlen(value) ? -EIO : 0;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		return r;

	r = sysctl_read(procsys_fd, path, back, sizeof(back));
	if (r < 0)
		return r;
	if (readback)
		snprintf(readback, readback_size, "%s", back);
	return key_values_equal(key_lookup(path), value, back) ? 0 : -EIO;
}

int sysctl_exists(int procsys_fd, const char *path)
{
	struct stat st;
	int fd = open_beneath(procsys_fd, path, O_PATH);

	if (fd < 0)
		return fd;
	int r = fstat(fd, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : -EISDIR;
	close(fd);
	return r;
}

int sysctl_writable(int procsys_fd, const char *path)
{
	int fd = open_beneath(procsys_fd, path, O_PATH);

	if (fd < 0)
		return fd;
	/* AT_EMPTY_PATH on an O_PATH fd asks about that very file. */
	int r = faccessat(fd, "", W_OK, AT_EACCESS | AT_EMPTY_PATH) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static void read_limit(int procsys_fd, const char *path, bool *have, int64_t *val,
		       struct qt_diags *d)
{
	char buf[64], shown[KEY_PATH_MAX];
	int r = sysctl_read(procsys_fd, path, buf, sizeof(buf));

	*have = r == 0 && util_parse_i64(buf, val) == 0;
	if (*have)
		return;
	*val = 0;
	key_display(path, shown, sizeof(shown));
	diags_warn(d, "cannot read %s: %s", shown, r < 0 ? strerror(-r) : "not an integer");
}

int sysctl_read_limits(int procsys_fd, struct queue_limits *l, struct qt_diags *d)
{
	read_limit(procsys_fd, "net/core/somaxconn", &l->have_somaxconn, &l->somaxconn, d);
	read_limit(procsys_fd, "net/ipv4/tcp_max_syn_backlog", &l->have_max_syn_backlog,
		   &l->max_syn_backlog, d);
	read_limit(procsys_fd, "net/ipv4/tcp_syncookies", &l->have_syncookies, &l->syncookies, d);
	return 0;
}
