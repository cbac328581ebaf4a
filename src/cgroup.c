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

/* One cgroup: its directory's name and its parent, not its path, so that
 * the map costs what the names cost (a path of 32 names of 255 bytes each
 * is 8 KiB; the names a user creates below a delegated unit would cost
 * their depth times over). */
struct cg_entry {
	uint32_t parent;        /* index in v; the root is its own parent */
	char *name;             /* "" for the root */
};

struct cg_index {
	uint64_t ino;
	uint32_t ix;
};

struct cgroup_map {
	struct cg_entry *v;
	struct cg_index *byino; /* sorted by inode */
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

static uint32_t add(struct cgroup_map *m, uint64_t ino, uint32_t parent, const char *name)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->v = xreallocarray(m->v, m->cap, sizeof(*m->v));
		m->byino = xreallocarray(m->byino, m->cap, sizeof(*m->byino));
	}
	m->v[m->n] = (struct cg_entry){ parent, xstrdup(name) };
	m->byino[m->n] = (struct cg_index){ ino, (uint32_t)m->n };
	return (uint32_t)m->n++;
}

/* dirfd is the cgroup of index self (closed here). */
static void walk(struct cgroup_map *m, int dirfd, uint32_t self, int depth)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *e;

	if (!d) {
		close(dirfd);
		return;
	}
	while ((e = readdir(d)) && m->n < CGROUP_MAX_DIRS) {
		uint32_t sub;
		int fd;

		if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		/* kernfs: the directory entry's inode is the cgroup id. */
		sub = add(m, e->d_ino, self, e->d_name);
		if (depth < CGROUP_MAX_DEPTH &&
		    (fd = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0)
			walk(m, fd, sub, depth + 1);
	}
	closedir(d);
}

static int index_cmp(const void *a, const void *b)
{
	const struct cg_index *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static struct cgroup_map *map_build(int proc_fd)
{
	struct cgroup_map *m = xcalloc(1, sizeof(*m));
	char *mnt = cgroup2_mount(proc_fd);
	struct stat st;
	int fd;

	if (mnt && (fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		/* The root is entry 0, every top cgroup's parent. */
		add(m, fstat(fd, &st) == 0 ? st.st_ino : 0, 0, "");
		walk(m, fd, 0, 1);
		qsort(m->byino, m->n, sizeof(*m->byino), index_cmp);
	}
	free(mnt);
	return m;
}

int cgroup_path(struct cgroup_map **m, int proc_fd, uint64_t id, char *path, size_t size)
{
	struct cg_index key = { id, 0 };
	const struct cg_index *hit;
	size_t len = 0, at;

	if (!*m)
		*m = map_build(proc_fd);
	hit = bsearch(&key, (*m)->byino, (*m)->n, sizeof(*(*m)->byino), index_cmp);
	if (!hit || size < 2)
		return hit ? -ENAMETOOLONG : -ENOENT;
	/* "/a/b" from b up: its length first, then the names from the end. */
	for (uint32_t i = hit->ix; i != 0; i = (*m)->v[i].parent)
		len += 1 + strlen((*m)->v[i].name);
	if (len >= size)
		return -ENAMETOOLONG;
	if (len == 0) {
		strcpy(path, "/");
		return 0;
	}
	path[len] = '\0';
	at = len;
	for (uint32_t i = hit->ix; i != 0; i = (*m)->v[i].parent) {
		size_t nl = strlen((*m)->v[i].name);

		at -= nl;
		memcpy(path + at, (*m)->v[i].name, nl);
		path[--at] = '/';
	}
	return 0;
}

void cgroup_map_free(struct cgroup_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].name);
	free(m->v);
	free(m->byino);
	free(m);
}
