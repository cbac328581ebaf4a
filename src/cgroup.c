/* cgroup: cgroup v2 id → path, by the id as a file handle, else by one
 * walk of the cgroup2 mount. */
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <limits.h>

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
	char *mnt;              /* the cgroup2 mount point; NULL: none */
	int mnt_fd;
	bool no_handles;        /* open_by_handle_at is refused (no CAP_DAC_READ_SEARCH): walked */
	struct cg_entry *v;
	struct cg_index *byino; /* sorted by inode */
	size_t n, cap;
};

/* kernfs's file handle (include/linux/exportfs.h): the 64-bit id, which is
 * the cgroup id INET_DIAG_CGROUP_ID reports. */
#define QT_FILEID_KERNFS 0xfe

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

/* The walk, where a handle cannot be used. */
static void map_walk(struct cgroup_map *m)
{
	struct stat st;
	int fd;

	if (!m->mnt || (fd = open(m->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return;
	/* The root is entry 0, every top cgroup's parent. */
	add(m, fstat(fd, &st) == 0 ? st.st_ino : 0, 0, "");
	walk(m, fd, 0, 1);
	qsort(m->byino, m->n, sizeof(*m->byino), index_cmp);
}

/* The cgroup of id opened by its handle (CAP_DAC_READ_SEARCH), its path
 * read back from /proc/self/fd: one lookup per id, whatever the tree
 * holds, so nobody's cgroups cost a run anything. -ENOENT when no cgroup
 * has the id; another -errno when handles cannot be used here. */
static int path_by_handle(struct cgroup_map *m, int proc_fd, uint64_t id, char *path, size_t size)
{
	union {
		struct file_handle fh;
		char bytes[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h;
	char link[32], target[PATH_MAX];
	size_t ml = strlen(m->mnt);
	ssize_t n;
	int fd;

	h.fh.handle_bytes = sizeof(id);
	h.fh.handle_type = QT_FILEID_KERNFS;
	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(m->mnt_fd, &h.fh, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return errno == ESTALE ? -ENOENT : -errno;
	snprintf(link, sizeof(link), "self/fd/%d", fd);
	n = readlinkat(proc_fd, link, target, sizeof(target) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	/* The path in this mount namespace, beneath the mount point. */
	if (strncmp(target, m->mnt, ml) != 0 || (target[ml] != '/' && target[ml] != '\0'))
		return -ENOENT;
	if (strlen(target[ml] ? target + ml : "/") >= size)
		return -ENAMETOOLONG;
	strcpy(path, target[ml] ? target + ml : "/");
	return 0;
}

/* Decided once, when the map is made, so that later lookups only read it
 * (--all-netns looks up from several threads): handles if the mount's
 * own root opens by its id, else the walk, made now. */
static struct cgroup_map *map_open(int proc_fd)
{
	struct cgroup_map *m = xcalloc(1, sizeof(*m));
	struct stat st;
	char root[2];

	m->mnt = cgroup2_mount(proc_fd);
	m->mnt_fd = m->mnt ? open(m->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	m->no_handles = m->mnt_fd < 0 || fstat(m->mnt_fd, &st) < 0 ||
			path_by_handle(m, proc_fd, (uint64_t)st.st_ino, root, sizeof(root)) < 0;
	if (m->no_handles)
		map_walk(m);
	return m;
}

int cgroup_path(struct cgroup_map **m, int proc_fd, uint64_t id, char *path, size_t size)
{
	struct cg_index key = { id, 0 };
	const struct cg_index *hit;
	size_t len = 0, at;

	if (!*m)
		*m = map_open(proc_fd);
	if (!(*m)->no_handles)
		return path_by_handle(*m, proc_fd, id, path, size);
	/* No cgroup2 mount: an empty map, whose NULL array bsearch may not be given. */
	hit = (*m)->n ? bsearch(&key, (*m)->byino, (*m)->n, sizeof(*(*m)->byino), index_cmp) : NULL;
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
	free(m->mnt);
	if (m->mnt_fd >= 0)
		close(m->mnt_fd);
	free(m);
}
