/* trust: who could have written the files qtune acts on, judged on the fds
 * it then reads and writes through. */
#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static void owner_name(uid_t uid, char *buf, size_t size)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];

	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res)
		snprintf(buf, size, "%u (%s)", (unsigned)uid, pw.pw_name);
	else
		snprintf(buf, size, "%u", (unsigned)uid);
}

static bool owner_ok(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

const char *trust_judge(const struct stat *st)
{
	if (!owner_ok(st->st_uid))
		return "owned by another user";
	if (S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX))
		return NULL;
	if (st->st_mode & S_IWOTH)
		return "writable by everyone";
	if (st->st_mode & S_IWGRP)
		return "writable by its group";
	return NULL;
}

/* ---- the walk ---- */

struct walk {
	int cur;                /* the directory reached so far, judged */
	struct stat cur_st;
	char *shown;            /* its path, as walked */
	char *rest;             /* what is left of the path */
	size_t pos;
	unsigned links;
	bool follow;            /* follow symlinks (judged) or refuse them */
	bool pass_through;      /* directories on the way are not judged */
	bool beneath;           /* below a --root: openat2, no "..", no symlink */
	mode_t create;          /* 0, or the mode of the last directory to create */
	enum qt_level level;
	struct qt_diags *d;
};

static void report(struct walk *w, const char *shown, const char *why, const struct stat *st)
{
	char owner[300];
	bool refuse = w->level >= QT_LEVEL_ERROR;

	owner_name(st->st_uid, owner, sizeof(owner));
	diags_add(w->d, w->level, NULL, 0, 0, "%s %s is %s (owner uid %s, mode %04o): %s",
		  refuse ? "refusing" : "untrusted", shown, why, owner,
		  (unsigned)(st->st_mode & 07777),
		  refuse ? "make it writable by root only (chown root, chmod go-w)"
			 : "apply would refuse it");
}

/* 0 when st is fine or only warned about; -EPERM when refused. */
static int judge(struct walk *w, const char *shown, const struct stat *st)
{
	const char *why = w->level > QT_LEVEL_OK ? trust_judge(st) : NULL;

	if (!why)
		return 0;
	report(w, shown, why, st);
	return w->level >= QT_LEVEL_ERROR ? -EPERM : 0;
}

static char *join(const char *dir, const char *name)
{
	return xasprintf("%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", name);
}

static void walk_free(struct walk *w)
{
	if (w->cur >= 0)
		close(w->cur);
	w->cur = -1;
	free(w->shown);
	free(w->rest);
	w->shown = w->rest = NULL;
}

/* Makes fd (a directory, path shown, taken over) the current one once it
 * has been judged. */
static int walk_enter(struct walk *w, int fd, const struct stat *st, char *shown)
{
	int r = w->pass_through ? 0 : judge(w, shown, st);

	if (r < 0) {
		close(fd);
		free(shown);
		return r;
	}
	if (w->cur >= 0)
		close(w->cur);
	free(w->shown);
	w->cur = fd;
	w->cur_st = *st;
	w->shown = shown;
	return 0;
}

static int walk_root(struct walk *w)
{
	struct stat st;
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return walk_enter(w, fd, &st, xstrdup("/"));
}

static int walk_start(struct walk *w, int atfd, const char *atpath, const char *path)
{
	struct stat st;
	int r, fd;

	w->cur = -1;
	if (path[0] == '/' || atfd == AT_FDCWD) {
		if (path[0] != '/') {
			char *cwd = getcwd(NULL, 0);

			if (!cwd)
				return -errno;
			w->rest = join(cwd, path);
			free(cwd);
		} else {
			w->rest = xstrdup(path);
		}
		return walk_root(w);
	}
	w->rest = xstrdup(path);
	fd = fcntl(atfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (!S_ISDIR(st.st_mode)) {
		close(fd);
		return -ENOTDIR;
	}
	return walk_enter(w, fd, &st, xstrdup(atpath));
}

/* The next component of what is left, or NULL at the end; *last says
 * whether anything follows it. Empty components and "." are skipped. */
static char *next_component(struct walk *w, bool *last)
{
	for (;;) {
		char *s = w->rest + w->pos;
		size_t len;

		s += strspn(s, "/");
		if (!*s) {
			w->pos = (size_t)(s - w->rest);
			return NULL;
		}
		len = strcspn(s, "/");
		w->pos = (size_t)(s - w->rest) + len;
		if (len == 1 && s[0] == '.')
			continue;
		char *after = w->rest + w->pos;
		after += strspn(after, "/");
		*last = true;
		/* Only "." left after it is as good as nothing. */
		for (char *a = after; *a; ) {
			size_t l = strcspn(a, "/");
			if (!(l == 1 && a[0] == '.')) {
				*last = false;
				break;
			}
			a += l;
			a += strspn(a, "/");
		}
		return xstrndup(s, len);
	}
}

/* The symlink linkfd (named name in the current directory) is followed:
 * its target replaces it in what is left to walk. The directory holding
 * it was judged when entered; in a sticky one that others can write, the
 * link's owner could swap it, so it must be root's or ours. */
static int walk_link(struct walk *w, int linkfd, const struct stat *lst, const char *name)
{
	char target[PATH_MAX];
	char *shown = join(w->shown, name);
	ssize_t n;
	int r = 0;

	if (!w->follow) {
		diags_add(w->d, QT_LEVEL_ERROR, NULL, 0, 0,
			  "refusing %s: it is a symlink, and qtune follows none on this path", shown);
		r = -ELOOP;
		goto out;
	}
	if (++w->links > TRUST_MAX_LINKS) {
		diags_add(w->d, QT_LEVEL_ERROR, NULL, 0, 0,
			  "refusing %s: more than %d symlinks on the way", shown, TRUST_MAX_LINKS);
		r = -ELOOP;
		goto out;
	}
	if (w->level > QT_LEVEL_OK && (w->cur_st.st_mode & S_ISVTX) &&
	    (w->cur_st.st_mode & (S_IWGRP | S_IWOTH)) && !owner_ok(lst->st_uid)) {
		report(w, shown, "a symlink owned by another user in a directory others can write", lst);
		if (w->level >= QT_LEVEL_ERROR) {
			r = -EPERM;
			goto out;
		}
	}
	n = readlinkat(linkfd, "", target, sizeof(target));
	if (n < 0) {
		r = -errno;
		goto out;
	}
	if ((size_t)n == sizeof(target)) {
		r = -ENAMETOOLONG;
		goto out;
	}
	char *rest = xasprintf("%.*s/%s", (int)n, target, w->rest + w->pos);
	free(w->rest);
	w->rest = rest;
	w->pos = 0;
	if (target[0] == '/')
		r = walk_root(w);
out:
	free(shown);
	return r;
}

/* Opens one component of the path beneath the current directory, as an
 * O_PATH fd that is the symlink itself when it is one. Beneath a --root,
 * openat2 RESOLVE_IN_ROOT|RESOLVE_NO_SYMLINKS resolves it: a symlink there
 * is -ELOOP from the kernel, reported as one. */
static int open_component(struct walk *w, const char *comp, struct stat *st)
{
	int fd;

	if (w->beneath) {
		struct open_how how = {
			.flags = O_PATH,
			.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
		};

		fd = util_openat2(w->cur, comp, &how);
		if (fd == -ENOSYS)
			fd = openat(w->cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		else if (fd < 0)
			errno = -fd;
	} else {
		fd = openat(w->cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0 || fstat(fd, st) < 0) {
		int r = -errno;

		if (fd >= 0)
			close(fd);
		if (r == -ELOOP && w->beneath) {
			char *shown = join(w->shown, comp);

			diags_add(w->d, QT_LEVEL_ERROR, NULL, 0, 0,
				  "refusing %s: it is a symlink, and qtune follows none beneath --root", shown);
			free(shown);
		}
		return r;
	}
	return fd;
}

/* Makes the missing directory comp in the current one: 0755 on the way,
 * w->create for the last, exactly (whatever the umask). */
static int make_component(struct walk *w, const char *comp, bool last)
{
	mode_t mode = last ? w->create : 0755;
	int fd, r = 0;

	if (mkdirat(w->cur, comp, mode) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(w->cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Walks the directories of the path. With stop_before_last, the last
 * component is left for the caller (*leaf, malloc'd, its directory is
 * w->cur); otherwise every component is entered as a directory and *leaf
 * is NULL. */
static int walk_dirs(struct walk *w, bool stop_before_last, char **leaf)
{
	*leaf = NULL;
	for (;;) {
		struct stat st;
		bool last;
		char *comp = next_component(w, &last);
		int fd, r;

		if (!comp)
			return 0;
		if (last && stop_before_last) {
			*leaf = comp;
			return 0;
		}
		if (w->beneath && strcmp(comp, "..") == 0) {
			free(comp);
			return -EINVAL;
		}
		fd = open_component(w, comp, &st);
		if (fd == -ENOENT && w->create) {
			r = make_component(w, comp, last);
			fd = r < 0 ? r : open_component(w, comp, &st);
		}
		if (fd < 0) {
			free(comp);
			return fd;
		}
		if (S_ISLNK(st.st_mode)) {
			r = walk_link(w, fd, &st, comp);
			close(fd);
			free(comp);
			if (r < 0)
				return r;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			close(fd);
			free(comp);
			return -ENOTDIR;
		}
		char *shown;
		if (strcmp(comp, "..") == 0) {
			char *slash = strrchr(w->shown, '/');
			shown = !slash ? join(w->shown, comp) : slash == w->shown ? xstrdup("/")
			      : xstrndup(w->shown, (size_t)(slash - w->shown));
		} else {
			shown = join(w->shown, comp);
		}
		free(comp);
		r = walk_enter(w, fd, &st, shown);
		if (r < 0)
			return r;
	}
}

/* "." of the judged O_PATH fd: the same directory, no name looked up
 * again, readable (for fsync and for reading what is in it). */
static int walk_result_dir(struct walk *w, int *dirfd)
{
	int fd = openat(w->cur, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	*dirfd = fd;
	return 0;
}

int trust_open_file(int atfd, const char *atpath, const char *path, enum qt_level level,
		    struct qt_diags *d, struct trust_file *out)
{
	struct walk w = { .follow = true, .level = level, .d = d };
	struct stat pst;
	char *leaf = NULL, *shown = NULL;
	int pfd = -1, fd = -1, r;

	*out = (struct trust_file){ .fd = -1, .dirfd = -1 };
	r = walk_start(&w, atfd, atpath, path);
	for (; r == 0; ) {
		r = walk_dirs(&w, true, &leaf);
		if (r < 0)
			break;
		if (!leaf) {
			r = -EISDIR;
			break;
		}
		pfd = openat(w.cur, leaf, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (pfd < 0 || fstat(pfd, &pst) < 0) {
			r = -errno;
			break;
		}
		if (!S_ISLNK(pst.st_mode))
			break;
		r = walk_link(&w, pfd, &pst, leaf);
		close(pfd);
		pfd = -1;
		free(leaf);
		leaf = NULL;
	}
	if (r < 0)
		goto out;
	if (!S_ISREG(pst.st_mode)) {
		r = S_ISDIR(pst.st_mode) ? -EISDIR : -EINVAL;
		goto out;
	}
	/* The name is opened again for reading, and must still be the file
	 * just examined: a FIFO or a device is never opened at all. */
	fd = openat(w.cur, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &out->st) < 0) {
		r = -errno;
		goto out;
	}
	shown = join(w.shown, leaf);
	if (out->st.st_dev != pst.st_dev || out->st.st_ino != pst.st_ino) {
		diags_add(d, QT_LEVEL_ERROR, NULL, 0, 0,
			  "refusing %s: it was replaced while qtune opened it", shown);
		r = -EPERM;
		goto out;
	}
	r = judge(&w, shown, &out->st);
	if (r < 0)
		goto out;
	out->fd = fd;
	fd = -1;
	out->dirfd = w.cur;
	w.cur = -1;
	out->path = shown;
	shown = NULL;
	out->dir = w.shown;
	w.shown = NULL;
out:
	if (pfd >= 0)
		close(pfd);
	if (fd >= 0)
		close(fd);
	free(leaf);
	free(shown);
	walk_free(&w);
	return r;
}

void trust_file_close(struct trust_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->dirfd >= 0)
		close(f->dirfd);
	free(f->path);
	free(f->dir);
	*f = (struct trust_file){ .fd = -1, .dirfd = -1 };
}

/* Walks path (from atfd, or from "/") to a directory and hands over a
 * readable fd of it. A walk that passes through directories unjudged
 * still judges the one it reaches. */
static int walk_to_dir(struct walk *w, int atfd, const char *atpath, const char *path,
		       int *dirfd)
{
	char *leaf;
	int r = walk_start(w, atfd, atpath, path);

	if (r == 0)
		r = walk_dirs(w, false, &leaf);
	if (r == 0 && w->pass_through)
		r = judge(w, w->shown, &w->cur_st);
	if (r == 0)
		r = walk_result_dir(w, dirfd);
	walk_free(w);
	return r;
}

int trust_open_dir(const char *path, struct qt_diags *d, int *dirfd)
{
	struct walk w = { .follow = false, .pass_through = true, .level = QT_LEVEL_ERROR, .d = d };

	return walk_to_dir(&w, AT_FDCWD, NULL, path, dirfd);
}

int trust_open_root(const char *root, enum qt_level level, struct qt_diags *d, int *rootfd)
{
	struct walk w = { .follow = true, .level = level, .d = d };

	return walk_to_dir(&w, AT_FDCWD, NULL, root && *root ? root : "/", rootfd);
}

int root_open_dir(int rootfd, const char *rootpath, const char *rel, mode_t create_mode,
		  enum qt_level level, struct qt_diags *d, int *dirfd)
{
	struct walk w = { .beneath = true, .create = create_mode, .level = level, .d = d };

	return walk_to_dir(&w, rootfd, rootpath && *rootpath ? rootpath : "/",
			   rel[0] == '/' ? rel + 1 : rel, dirfd);
}

int trust_open_beneath(const char *root, const char *rel, mode_t create_mode,
		       enum qt_level level, struct qt_diags *d, int *dirfd)
{
	int rootfd, r = trust_open_root(root, level, d, &rootfd);

	if (r < 0)
		return r;
	r = root_open_dir(rootfd, root, rel, create_mode, level, d, dirfd);
	close(rootfd);
	return r;
}
