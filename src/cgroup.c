/* cgroup: cgroup v2 id → path, by one walk of the cgroup2 mount. */
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

struct cg_entry {
	uint64_t ino;
	char *path;
};

struct cgroup_map {
	struct cg_entry *v;
	size_t n, cap;
};

/* mountinfo escapes blanks and backslashes as \ooo. */
static void unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* The mount point of the first cgroup2 file system (caller frees). */
static char *cgroup2_mount(int proc_fd)
{
	char *text = NULL, *found = NULL, *save = NULL;

	if (util_read_file_at(proc_fd, "self/mountinfo", 0, 4 << 20, &text, NULL) < 0)
		return NULL;
	for (char *line = strtok_r(text, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
		char *sep = strstr(line, " - "), *f[5], *p = line, *ws = NULL;

		if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		*sep = '\0';
		for (int i = 0; i < 5; i++, p = NULL)
			if (!(f[i] = strtok_r(p, " ", &ws)))
				break;
		if (f[4]) {
			unescape(f[4]);
			found = xstrdup(f[4]);
		}
	}
	free(text);
	return found;
}

static void add(struct cgroup_map *m, uint64_t ino, const char *path)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->v = xreallocarray(m->v, m->cap, sizeof(*m->v));
	}
	m->v[m->n++] = (struct cg_entry){ ino, xstrdup(path) };
}

/* dirfd is the cgroup at path (closed here). */
static void walk(struct cgroup_map *m, int dirfd, const char *path, int depth)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *e;

	if (!d) {
		close(dirfd);
		return;
	}
	while ((e = readdir(d)) && m->n < CGROUP_MAX_DIRS) {
		char *sub;
		int fd;

		if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		sub = xasprintf("%s/%s", strcmp(path, "/") == 0 ? "" : path, e->d_name);
		/* kernfs: the directory entry's inode is the cgroup id. */
		add(m, e->d_ino, sub);
		if (depth < CGROUP_MAX_DEPTH &&
		    (fd = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0)
			walk(m, fd, sub, depth + 1);
		free(sub);
	}
	closedir(d);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct cg_entry *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static struct cgroup_map *map_build(int proc_fd)
{
	struct cgroup_map *m = xcalloc(1, sizeof(*m));
	char *mnt = cgroup2_mount(proc_fd);
	struct stat st;
	int fd;

	if (mnt && (fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (fstat(fd, &st) == 0)
			add(m, st.st_ino, "/");
		walk(m, fd, "/", 1);
		qsort(m->v, m->n, sizeof(*m->v), entry_cmp);
	}
	free(mnt);
	return m;
}

int cgroup_path(struct cgroup_map **m, int proc_fd, uint64_t id, char *path, size_t size)
{
	struct cg_entry key = { id, NULL };
	const struct cg_entry *hit;

	if (!*m)
		*m = map_build(proc_fd);
	hit = bsearch(&key, (*m)->v, (*m)->n, sizeof(*(*m)->v), entry_cmp);
	if (!hit)
		return -ENOENT;
	if (strlen(hit->path) >= size)
		return -ENAMETOOLONG;
	strcpy(path, hit->path);
	return 0;
}

void cgroup_map_free(struct cgroup_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	free(m);
}
