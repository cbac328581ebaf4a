/* sysctld: reading the sysctl.d directories and parsing their lines.
 *
 * Files are read as the booted system would see them: symlinks resolve
 * inside ROOT (openat2 RESOLVE_IN_ROOT), so an image mounted elsewhere is
 * audited correctly and a link cannot lead the reader out of it. Lines are
 * parsed as systemd-sysctl parses them; what they mean at boot is
 * sysctld_replay.c. */
#include "sysctld.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "keys.h"
#include "trust.h"
#include "util.h"

/* In precedence order: a name in an earlier directory masks the same name
 * in every later one. */
static const char *const sysctld_dirs[] = {
	SYSCTLD_ETC,
	"/run/sysctl.d",
	"/usr/local/lib/sysctl.d",
	"/usr/lib/sysctl.d",
	"/lib/sysctl.d",
};
#define SYSCTLD_NDIRS (sizeof(sysctld_dirs) / sizeof(sysctld_dirs[0]))
#define SYSCTL_CONF "/etc/sysctl.conf"

/* ---- loading ---- */

struct loader {
	struct sysctld_config *c;
	struct qt_diags *d;
	const char *root;
	int rootfd;
	size_t cap_files, cap_entries;
	bool entries_full;
};

struct candidate {
	char *name;
	size_t dir;
};

/* Opens path (absolute, as the target system sees it) with every symlink
 * resolved inside rootfd, as it would resolve on the booted system. */
static int open_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY)),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	while (*path == '/')
		path++;
	fd = util_openat2(rootfd, path, &how);
	if (fd != -ENOSYS)
		return fd;
	/* Before Linux 5.6: links resolve as the kernel sees them, which is
	 * exact only when ROOT is "/". */
	fd = openat(rootfd, path, (int)how.flags);
	return fd < 0 ? -errno : (int)fd;
}

/* Reading commands only warn (DESIGN, Trust): a sysctl.d file or directory
 * that another user can change decides what root applies at boot. */
static void warn_if_others_can_write(struct loader *L, const struct stat *st, const char *what)
{
	const char *why = trust_judge(st);

	if (why)
		diags_add(L->d, QT_LEVEL_WARN, what, 0, 0,
			  "%s (owner uid %u, mode %04o): they can change what the next boot applies",
			  why, (unsigned)st->st_uid, (unsigned)(st->st_mode & 07777));
}

static struct sysctld_file *add_file(struct loader *L, const char *name, const char *path)
{
	struct sysctld_config *c = L->c;

	if (c->nfiles == L->cap_files) {
		L->cap_files = L->cap_files ? 2 * L->cap_files : 16;
		c->files = xreallocarray(c->files, L->cap_files, sizeof(*c->files));
	}
	struct sysctld_file *f = &c->files[c->nfiles++];
	*f = (struct sysctld_file){
		.name = xstrdup(name),
		.path = xstrdup(path),
		.disk_path = util_rooted(L->root, path),
		.hidden = name[0] == '.',
		.first = c->nentries,
	};
	return f;
}

static void add_entry(struct loader *L, size_t fi, unsigned line, const struct sysctld_line *r,
		      unsigned tools)
{
	struct sysctld_config *c = L->c;

	if (c->nentries == SYSCTLD_ASSIGN_MAX) {
		if (!L->entries_full)
			diags_add(L->d, QT_LEVEL_ERROR, c->files[fi].disk_path, line, r->col,
				  "more than %d assignments in all: the rest is not read",
				  SYSCTLD_ASSIGN_MAX);
		L->entries_full = true;
		c->complete = false;
		return;
	}
	if (c->nentries == L->cap_entries) {
		L->cap_entries = L->cap_entries ? 2 * L->cap_entries : 64;
		c->entries = xreallocarray(c->entries, L->cap_entries, sizeof(*c->entries));
	}
	c->entries[c->nentries++] = (struct sysctld_entry){
		.key = xstrdup(r->key),
		.value = r->value ? xstrdup(r->value) : NULL,
		.file = fi,
		.line = line,
		.tools = tools,
		.glob = r->glob,
		.ignore_failure = r->ignore_failure,
		.raw_spelled = r->raw_spelled,
	};
	c->files[fi].count++;
}

static bool has_control(const char *s)
{
	return util_find_control(s, strlen(s), NULL) != NULL;
}

static const char *const tool_names[SYSCTLD_NTOOLS] = {
	[SYSCTLD_SYSTEMD] = "systemd-sysctl",
	[SYSCTLD_PROCPS] = "sysctl --system",
};

static bool same_reading(const struct sysctld_line *a, const struct sysctld_line *b)
{
	return strcmp(a->key, b->key) == 0 && a->glob == b->glob &&
	       a->ignore_failure == b->ignore_failure &&
	       ((!a->value && !b->value) || (a->value && b->value && strcmp(a->value, b->value) == 0));
}

/* n bytes of text, one line as the tools in `tools` see it
 * (sysctld_read_line() says how each reads it). A line both read alike is
 * one entry; otherwise each tool gets its own. Offending text is not
 * echoed: it may hold anything, and the position says where to look. */
static void parse_text(struct loader *L, size_t fi, unsigned lineno, const char *text, size_t n,
		       unsigned tools)
{
	const char *file = L->c->files[fi].disk_path, *why[SYSCTLD_NTOOLS] = { 0 };
	struct sysctld_line r[SYSCTLD_NTOOLS];
	char *copy[SYSCTLD_NTOOLS] = { 0 };
	int got[SYSCTLD_NTOOLS] = { 0 };
	const struct sysctld_line *valued = NULL;

	for (size_t t = 0; t < SYSCTLD_NTOOLS; t++) {
		if (!(tools & SYSCTLD_TOOL_BIT(t)))
			continue;
		copy[t] = xmalloc(n + 1);
		memcpy(copy[t], text, n);
		copy[t][n] = '\0';
		got[t] = sysctld_read_line((enum sysctld_tool)t, copy[t], &r[t], &why[t]);
	}
	if (tools == SYSCTLD_BOTH_TOOLS && got[0] == 1 && got[1] == 1 && same_reading(&r[0], &r[1])) {
		r[0].raw_spelled = r[SYSCTLD_PROCPS].raw_spelled;
		add_entry(L, fi, lineno, &r[0], SYSCTLD_BOTH_TOOLS);
		valued = &r[0];
	} else if (tools == SYSCTLD_BOTH_TOOLS && got[0] < 0 && got[1] < 0 && strcmp(why[0], why[1]) == 0) {
		diags_add(L->d, QT_LEVEL_WARN, file, lineno, r[0].col, "%s, line ignored", why[0]);
	} else {
		for (size_t t = 0; t < SYSCTLD_NTOOLS; t++) {
			if (got[t] == 1) {
				add_entry(L, fi, lineno, &r[t], SYSCTLD_TOOL_BIT(t));
				valued = valued ? valued : &r[t];
			} else if (got[t] < 0) {
				diags_add(L->d, QT_LEVEL_WARN, file, lineno, r[t].col,
					  "%s ignores the line: %s", tool_names[t], why[t]);
			}
		}
	}
	if (got[SYSCTLD_PROCPS] == 1 && r[SYSCTLD_PROCPS].dotdot) {
		char shown[KEY_PATH_MAX];

		key_display(r[SYSCTLD_PROCPS].key, shown, sizeof(shown));
		diags_add(L->d, QT_LEVEL_WARN, file, lineno, r[SYSCTLD_PROCPS].col,
			  "sysctl --system follows \"..\" in the key: the line sets %s", shown);
	}
	if (valued && valued->value && !*valued->value)
		diags_add(L->d, QT_LEVEL_WARN, file, lineno, valued->col,
			  "empty value: the kernel refuses it, and the key keeps what it held");
	else if (valued && valued->value && has_control(valued->value))
		diags_add(L->d, QT_LEVEL_WARN, file, lineno, valued->col,
			  "value holds a control character");
	for (size_t t = 0; t < SYSCTLD_NTOOLS; t++)
		free(copy[t]);
}

/* One line up to its "\n". procps reads it up to a NUL; systemd's line
 * reader also ends lines at a NUL and at a lone "\r" ("\r\n" is one line
 * end), so where those occur each tool reads its own lines. */
static void parse_line(struct loader *L, size_t fi, unsigned lineno, const char *p, size_t n)
{
	const char *nul = memchr(p, '\0', n);
	bool split = nul != NULL;

	for (size_t i = 0; i + 1 < n && !split; i++)
		split = p[i] == '\r';
	if (!split) {
		parse_text(L, fi, lineno, p, n, SYSCTLD_BOTH_TOOLS);
		return;
	}
	parse_text(L, fi, lineno, p, nul ? (size_t)(nul - p) : n, SYSCTLD_TOOL_BIT(SYSCTLD_PROCPS));
	for (size_t start = 0, i = 0; i <= n; i++) {
		if (i < n && p[i] != '\0' && p[i] != '\r')
			continue;
		parse_text(L, fi, lineno, p + start, i - start, SYSCTLD_TOOL_BIT(SYSCTLD_SYSTEMD));
		start = i + 1;
	}
}

static void parse_buffer(struct loader *L, size_t fi, const char *buf, size_t len)
{
	const char *file = L->c->files[fi].disk_path;
	unsigned lineno = 0;
	const char *p = buf, *end = buf + len;

	while (p < end && !L->entries_full) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		lineno++;
		if (n > SYSCTLD_LINE_MAX) {
			diags_add(L->d, QT_LEVEL_WARN, file, lineno, 1,
				  "line longer than %d bytes: systemd-sysctl reads no further in the file",
				  SYSCTLD_LINE_MAX);
			return;
		}
		parse_line(L, fi, lineno, p, n);
		p = nl ? nl + 1 : end;
	}
}

static char *read_link_at(int dirfd, const char *name)
{
	char buf[PATH_MAX];
	ssize_t n = readlinkat(dirfd, name, buf, sizeof(buf));

	if (n < 0 || (size_t)n >= sizeof(buf))
		return NULL;
	buf[n] = '\0';
	return xstrdup(buf);
}

/* Decides what the file that won its name contributes, and parses it. The
 * real tools open whatever holds the name: a link to /dev/null, an empty
 * file, a dangling link or a directory all yield no line, and mask the name
 * all the same. parent is the directory holding the entry. */
static void examine_file(struct loader *L, size_t fi, int parent)
{
	struct sysctld_file *f = &L->c->files[fi];
	char proc[64], *buf = NULL;
	struct stat st;
	size_t len = 0;
	int fd, r;

	if (fstatat(parent, f->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
		f->link = read_link_at(parent, f->name);
		if (f->link && strcmp(f->link, "/dev/null") == 0) {
			f->state = SYSCTLD_FILE_MASKED;
			return;
		}
	}
	/* O_PATH first: opening a device or a FIFO for reading could block
	 * or have effects; only a regular file is then opened for real. */
	fd = open_in_root(L->rootfd, f->path, O_PATH);
	if (fd < 0) {
		f->state = SYSCTLD_FILE_UNREADABLE;
		if (fd == -ENOENT || fd == -ELOOP) {
			diags_add(L->d, QT_LEVEL_WARN, f->disk_path, 0, 0,
				  "dangling or looping link: masks the name, sets nothing");
		} else {
			diags_add(L->d, QT_LEVEL_ERROR, f->disk_path, 0, 0, "cannot open: %s",
				  strerror(-fd));
			L->c->complete = false;
		}
		return;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto unreadable;
	}
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)) {
		f->state = SYSCTLD_FILE_MASKED;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		f->state = SYSCTLD_FILE_UNREADABLE;
		diags_add(L->d, QT_LEVEL_WARN, f->disk_path, 0, 0,
			  "not a regular file: masks the name, sets nothing");
		goto out;
	}
	warn_if_others_can_write(L, &st, f->disk_path);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	r = util_read_file_at(AT_FDCWD, proc, 0, SYSCTLD_FILE_MAX, &buf, &len);
	if (r == -EFBIG) {
		f->state = SYSCTLD_FILE_REFUSED;
		L->c->complete = false;
		diags_add(L->d, QT_LEVEL_ERROR, f->disk_path, 0, 0,
			  "larger than %d bytes: not read, the boot-time values are incomplete",
			  SYSCTLD_FILE_MAX);
		goto out;
	}
	if (r < 0)
		goto unreadable;
	f->state = SYSCTLD_FILE_READ;
	parse_buffer(L, fi, buf, len);
	goto out;

unreadable:
	f->state = SYSCTLD_FILE_UNREADABLE;
	L->c->complete = false;
	diags_add(L->d, QT_LEVEL_ERROR, f->disk_path, 0, 0, "cannot read: %s", strerror(-r));
out:
	free(buf);
	close(fd);
}

static int candidate_cmp(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	return r ? r : (x->dir > y->dir) - (x->dir < y->dir);
}

/* Lists the *.conf names of one directory. */
static void scan_dir(struct loader *L, size_t di, DIR *dir, struct candidate **cands,
		     size_t *n, size_t *cap)
{
	size_t here = 0;
	struct dirent *de;

	errno = 0;
	while ((de = readdir(dir))) {
		if (!util_has_suffix(de->d_name, ".conf"))
			continue;
		if (++here > SYSCTLD_DIR_FILES_MAX) {
			char *disk = util_rooted(L->root, sysctld_dirs[di]);

			diags_add(L->d, QT_LEVEL_ERROR, disk, 0, 0,
				  "more than %d *.conf files: not read, the boot-time values are incomplete",
				  SYSCTLD_DIR_FILES_MAX);
			free(disk);
			L->c->complete = false;
			return;
		}
		if (*n == *cap) {
			*cap = *cap ? 2 * *cap : 32;
			*cands = xreallocarray(*cands, *cap, sizeof(**cands));
		}
		(*cands)[(*n)++] = (struct candidate){ xstrdup(de->d_name), di };
		errno = 0;
	}
	if (errno) {
		char *disk = util_rooted(L->root, sysctld_dirs[di]);

		diags_add(L->d, QT_LEVEL_ERROR, disk, 0, 0, "cannot list: %s", strerror(errno));
		free(disk);
		L->c->complete = false;
	}
}

/* Opens the directories, skipping one already reached under another name
 * (/lib -> usr/lib on merged-/usr systems: systemd resolves and dedupes
 * them; counting it twice would only repeat every file). */
static void open_dirs(struct loader *L, DIR *dirs[SYSCTLD_NDIRS])
{
	struct stat seen[SYSCTLD_NDIRS];
	size_t nseen = 0;

	for (size_t i = 0; i < SYSCTLD_NDIRS; i++) {
		struct stat st;
		bool dup = false;
		int fd;

		dirs[i] = NULL;
		fd = open_in_root(L->rootfd, sysctld_dirs[i], O_RDONLY | O_DIRECTORY);
		if (fd == -ENOENT || fd == -ENOTDIR)
			continue;
		if (fd < 0 || fstat(fd, &st) < 0) {
			char *disk = util_rooted(L->root, sysctld_dirs[i]);

			diags_add(L->d, QT_LEVEL_ERROR, disk, 0, 0, "cannot open: %s",
				  strerror(fd < 0 ? -fd : errno));
			free(disk);
			L->c->complete = false;
			if (fd >= 0)
				close(fd);
			continue;
		}
		for (size_t j = 0; j < nseen; j++)
			dup |= seen[j].st_dev == st.st_dev && seen[j].st_ino == st.st_ino;
		if (dup) {
			close(fd);
			continue;
		}
		seen[nseen++] = st;
		char *disk = util_rooted(L->root, sysctld_dirs[i]);
		warn_if_others_can_write(L, &st, disk);
		free(disk);
		dirs[i] = fdopendir(fd);
		if (!dirs[i])
			close(fd);
	}
}

/* procps reads /etc/sysctl.conf last when it is a regular file (through
 * links); systemd-sysctl never reads it by that name. */
static void add_sysctl_conf(struct loader *L)
{
	struct stat st;
	int fd = open_in_root(L->rootfd, SYSCTL_CONF, O_PATH);

	if (fd < 0)
		return;
	bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	close(fd);
	if (!regular)
		return;
	int etc = open_in_root(L->rootfd, "/etc", O_PATH | O_DIRECTORY);
	if (etc < 0)
		return;
	add_file(L, "sysctl.conf", SYSCTL_CONF);
	examine_file(L, L->c->nfiles - 1, etc);
	close(etc);
	L->c->order[SYSCTLD_PROCPS][L->c->norder[SYSCTLD_PROCPS]++] = L->c->nfiles - 1;
}

int sysctld_load(const struct qt_ctx *ctx, struct sysctld_config **out, struct qt_diags *d)
{
	struct loader L = { .d = d, .root = ctx->root };
	struct candidate *cands = NULL;
	size_t ncands = 0, capc = 0;
	DIR *dirs[SYSCTLD_NDIRS];
	char *rootpath;

	*out = NULL;
	rootpath = util_rooted(ctx->root, "/");
	L.rootfd = open(rootpath, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (L.rootfd < 0) {
		int r = -errno;

		diags_add(d, QT_LEVEL_ERROR, rootpath, 0, 0, "cannot open the root directory: %s",
			  strerror(-r));
		free(rootpath);
		return r;
	}
	free(rootpath);

	L.c = xcalloc(1, sizeof(*L.c));
	L.c->complete = true;
	open_dirs(&L, dirs);
	for (size_t i = 0; i < SYSCTLD_NDIRS; i++)
		if (dirs[i])
			scan_dir(&L, i, dirs[i], &cands, &ncands, &capc);
	if (ncands)
		qsort(cands, ncands, sizeof(*cands), candidate_cmp);

	for (size_t t = 0; t < SYSCTLD_NTOOLS; t++)
		L.c->order[t] = xcalloc(ncands + 1, sizeof(size_t));

	size_t winner = 0;
	for (size_t i = 0; i < ncands; i++) {
		char *path = xasprintf("%s/%s", sysctld_dirs[cands[i].dir], cands[i].name);
		struct sysctld_file *f = add_file(&L, cands[i].name, path);
		size_t fi = L.c->nfiles - 1;

		free(path);
		if (i > 0 && strcmp(cands[i].name, cands[i - 1].name) == 0) {
			f->state = SYSCTLD_FILE_SHADOWED;
			f->shadowed_by = winner;
			continue;
		}
		winner = fi;
		examine_file(&L, fi, dirfd(dirs[cands[i].dir]));
		f = &L.c->files[fi];
		if (!f->hidden)
			L.c->order[SYSCTLD_SYSTEMD][L.c->norder[SYSCTLD_SYSTEMD]++] = fi;
		L.c->order[SYSCTLD_PROCPS][L.c->norder[SYSCTLD_PROCPS]++] = fi;
	}
	add_sysctl_conf(&L);

	for (size_t i = 0; i < ncands; i++)
		free(cands[i].name);
	free(cands);
	for (size_t i = 0; i < SYSCTLD_NDIRS; i++)
		if (dirs[i])
			closedir(dirs[i]);
	close(L.rootfd);
	*out = L.c;
	return 0;
}
