/* netns_scan: the namespaces of the host, deduplicated by identity. */
#include "netns_scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "netns.h"
#include "util.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

/* The directories container runtimes bind-mount namespaces in, beside
 * ip's /run/netns (where containerd's CRI, Podman and CNI put theirs).
 * The label says which runtime. */
static const struct { const char *dir, *runtime; } runtime_dirs[] = {
	{ "/run/docker/netns", "docker" },
	{ "/var/run/docker/netns", "docker" },
};

/* What the scan learnt of one namespace before labelling it. */
struct found {
	char *name, *runtime_file;
	const char *runtime;
	pid_t pid;
};

struct scan {
	struct netns_list *list;
	struct found *found;    /* parallel to list->v */
	size_t max;             /* NETNS_SCAN_MAX (the test build may lower it) */
};

/* Whether the list is full: then the namespace not yet known is left out,
 * and the list says so. */
static bool full(struct scan *s)
{
	if (s->list->n < s->max)
		return false;
	s->list->truncated = true;
	return true;
}

static struct netns_entry *lookup(struct scan *s, dev_t dev, uint64_t ino, size_t *ix)
{
	for (size_t i = 0; i < s->list->n; i++)
		if (s->list->v[i].dev == dev && s->list->v[i].inode == ino) {
			*ix = i;
			return &s->list->v[i];
		}
	return NULL;
}

/* Adds the namespace at path (stat st) unless it is known; its index. */
static size_t add(struct scan *s, const struct stat *st, const char *path)
{
	struct netns_list *l = s->list;
	size_t ix;

	if (lookup(s, st->st_dev, st->st_ino, &ix))
		return ix;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 32;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
		s->found = xreallocarray(s->found, l->cap, sizeof(*s->found));
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	memset(&s->found[l->n], 0, sizeof(s->found[0]));
	l->v[l->n].dev = st->st_dev;
	l->v[l->n].inode = (uint64_t)st->st_ino;
	return l->n++;
}

/* One more path namespace e is reached at. */
static void add_path(struct netns_entry *e, const char *path)
{
	e->paths = xreallocarray(e->paths, e->npaths + 1, sizeof(*e->paths));
	e->paths[e->npaths++] = xstrdup(path);
	e->path = e->paths[0];
}

/* One more process or thread namespace e is reached through; a thread in
 * its process's namespace adds nothing (the process reaches it). */
static void add_task(struct netns_entry *e, int64_t pid, int64_t tid)
{
	if (e->ntasks && e->tasks[e->ntasks - 1].pid == pid)
		return;
	if (e->ntasks == e->tasks_cap) {
		e->tasks_cap = e->tasks_cap ? e->tasks_cap * 2 : 4;
		e->tasks = xreallocarray(e->tasks, e->tasks_cap, sizeof(*e->tasks));
	}
	e->tasks[e->ntasks++] = (struct netns_task){ (int32_t)pid, (int32_t)tid };
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The namespace files of a directory, in name order. A bind-mounted
 * namespace is an nsfs file; anything else there is not one. */
static void scan_dir(struct scan *s, const char *dir, const char *runtime)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (!dp)
		return;
	while ((e = readdir(dp)) && (n < NETNS_SCAN_MAX || !(s->list->truncated = true))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = xreallocarray(names, cap, sizeof(*names));
		}
		names[n++] = xstrdup(e->d_name);
	}
	closedir(dp);
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);
		struct statfs sfs;
		struct stat st;

		if (statfs(path, &sfs) == 0 && sfs.f_type == NSFS_MAGIC && stat(path, &st) == 0 &&
		    (lookup(s, st.st_dev, st.st_ino, &(size_t){ 0 }) || !full(s))) {
			size_t ix = add(s, &st, path);
			struct found *f = &s->found[ix];

			add_path(&s->list->v[ix], path);

			if (!runtime && !f->name)
				f->name = xstrdup(names[i]);
			else if (runtime && !f->runtime_file) {
				f->runtime = runtime;
				f->runtime_file = xstrdup(names[i]);
			}
		}
		free(path);
		free(names[i]);
	}
	free(names);
}

/* Every process's ns/net: the namespaces nobody named, and for each
 * namespace its first process (the lowest pid, usually the container's
 * init), whose cgroup names the container. */
/* The namespace at path (beneath proc_fd, stat st), found in thread tid
 * (0: the process) of process pid: added unless known, with pid as its
 * process when it is the lowest, and pid (tid) as one more way to it.
 * false when the list is full (the bound is said). */
static bool found_in(struct scan *s, const struct stat *st, const char *path, int64_t pid, int64_t tid)
{
	size_t ix;

	if (!lookup(s, st->st_dev, st->st_ino, &ix)) {
		if (full(s))
			return false;
		ix = add(s, st, path);
		add_path(&s->list->v[ix], path);
	}
	if (!s->found[ix].pid || pid < s->found[ix].pid)
		s->found[ix].pid = (pid_t)pid;
	add_task(&s->list->v[ix], pid, tid);
	return true;
}

/* A thread may be in a namespace of its own (unshare(CLONE_NEWNET) in a
 * thread moves that thread alone): the other threads of pid, when it has
 * any (its task directory's link count is 2 + its threads). */
static bool scan_threads(struct scan *s, int proc_fd, int64_t pid)
{
	char path[96];
	struct stat st;
	struct dirent *e;
	DIR *dp;
	int fd;
	bool room = true;

	snprintf(path, sizeof(path), "%d/task", (int)pid);
	if (fstatat(proc_fd, path, &st, 0) < 0 || st.st_nlink <= 3 ||
	    (fd = openat(proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return true;
	if (!(dp = fdopendir(fd))) {
		close(fd);
		return true;
	}
	while (room && (e = readdir(dp))) {
		int64_t tid;

		if (e->d_name[0] < '1' || e->d_name[0] > '9' || util_parse_i64(e->d_name, &tid) < 0 ||
		    tid == pid || tid > INT32_MAX)
			continue;
		snprintf(path, sizeof(path), "%d/task/%d/ns/net", (int)pid, (int)tid);
		if (fstatat(proc_fd, path, &st, 0) < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/ns/net", (int)pid, (int)tid);
		room = found_in(s, &st, path, pid, tid);
	}
	closedir(dp);
	return room;
}

static void scan_procs(struct scan *s, int proc_fd)
{
	DIR *dp;
	struct dirent *e;
	unsigned pids = 0;
	int fd = openat(proc_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || !(dp = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(dp)) && (++pids <= NETNS_SCAN_MAX_PIDS || !(s->list->truncated = true))) {
		char path[64];
		struct stat st;
		int64_t pid;

		if (e->d_name[0] < '1' || e->d_name[0] > '9' || util_parse_i64(e->d_name, &pid) < 0 ||
		    pid > INT32_MAX)
			continue;
		snprintf(path, sizeof(path), "%d/ns/net", (int)pid);
		if (fstatat(proc_fd, path, &st, 0) < 0) {
			if (errno != ENOENT && errno != ESRCH)
				s->list->pids_denied++;
			continue;
		}
		/* Past the bound, the processes after are not looked at: the
		 * namespaces they alone are in stay out, as said. */
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
		if (!found_in(s, &st, path, pid, 0) || !scan_threads(s, proc_fd, pid))
			break;
	}
	closedir(dp);
}

static char *read_small(int proc_fd, pid_t pid, const char *what, size_t max)
{
	char path[64], *text = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "%d/%s", (int)pid, what);
	if (util_read_file_at(proc_fd, path, O_NOFOLLOW, max, &text, &len) < 0)
		return NULL;
	while (len > 0 && text[len - 1] == '\n')
		text[--len] = '\0';
	return text;
}

static void label(struct scan *s, int proc_fd, size_t i)
{
	struct netns_entry *e = &s->list->v[i];
	struct found *f = &s->found[i];
	char *cgroup = f->pid ? read_small(proc_fd, f->pid, "cgroup", 64 * 1024) : NULL;
	char *comm = f->pid ? read_small(proc_fd, f->pid, "comm", 256) : NULL;

	netns_label_make(&(struct netns_label_source){
		.initial = e->initial, .name = f->name, .runtime = f->runtime,
		.runtime_file = f->runtime_file, .cgroup = cgroup, .pid = f->pid, .comm = comm }, &e->label);
	free(cgroup);
	free(comm);
	free(f->name);
	free(f->runtime_file);
}

int netns_scan(int proc_fd, struct netns_list *out, struct qt_diags *d)
{
	struct scan s = { .list = out, .max = NETNS_SCAN_MAX };
	struct stat st;
	size_t first;
#ifdef QTUNE_TEST_HOOKS
	/* Test build only: a bound a test can reach with a few namespaces. */
	const char *max = getenv("QTUNE_TEST_NETNS_MAX");
	int64_t v;

	if (max && util_parse_i64(max, &v) == 0 && v > 0 && v < NETNS_SCAN_MAX)
		s.max = (size_t)v;
#endif

	memset(out, 0, sizeof(*out));
	/* The initial namespace is PID 1's; without access to it (not root),
	 * ours stands first, and says so. */
	if (fstatat(proc_fd, "1/ns/net", &st, 0) == 0) {
		struct stat self, nd;

		first = add(&s, &st, "/proc/1/ns/net");
		add_path(&out->v[first], "/proc/1/ns/net");
		/* PID 1 of a container's PID namespace shares the container's
		 * network namespace: when it is ours, the kernel says whether
		 * it is the initial one (netns_identify's rule). */
		out->v[0].initial = fstatat(proc_fd, "thread-self/ns/net", &self, 0) < 0 ||
				    self.st_ino != st.st_ino || self.st_dev != st.st_dev ||
				    fstatat(proc_fd, "sys/net/core/netdev_max_backlog", &nd, 0) == 0;
	} else if (fstatat(proc_fd, "thread-self/ns/net", &st, 0) == 0) {
		struct stat nd;

		first = add(&s, &st, "/proc/thread-self/ns/net");
		add_path(&out->v[first], "/proc/thread-self/ns/net");
		/* As netns_identify judges it: only the initial namespace has
		 * net.core.netdev_max_backlog. */
		out->v[0].initial = fstatat(proc_fd, "sys/net/core/netdev_max_backlog", &nd, 0) == 0;
		if (!out->v[0].initial)
			diags_warn(d, "--all-netns: PID 1's namespace is not visible and this is not the initial one; "
				   "namespaces outside this one's reach are not seen");
	} else {
		int r = -errno;
		diags_error(d, "--all-netns: cannot see this process's network namespace: %s", strerror(-r));
		return r;
	}
	scan_dir(&s, NETNS_RUN_DIR, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(runtime_dirs); i++)
		scan_dir(&s, runtime_dirs[i].dir, runtime_dirs[i].runtime);
	scan_procs(&s, proc_fd);
	for (size_t i = 0; i < out->n; i++)
		label(&s, proc_fd, i);
	free(s.found);
	if (out->pids_denied)
		diags_warn(d, "--all-netns: the namespaces of %u processes could not be seen (needs root)",
			   out->pids_denied);
	/* Namespaces left out are not audited: never a silent "compliant". */
	if (out->truncated)
		diags_error(d, "--all-netns: more than %zu network namespaces (or %u processes); only the first "
			    "%zu found are audited (the initial one, the named ones, then by lowest pid)",
			    s.max, NETNS_SCAN_MAX_PIDS, out->n);
	return 0;
}

/* Opens path and checks it is e's namespace: -ENOENT when it reaches
 * none, -ESTALE when it reaches another now. */
static int open_way(const struct netns_entry *e, const char *path, int *fd)
{
	struct statfs sfs;
	struct stat st;

	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return errno == ESRCH ? -ENOENT : -errno;
	if (fstatfs(*fd, &sfs) == 0 && sfs.f_type == NSFS_MAGIC && fstat(*fd, &st) == 0 &&
	    st.st_dev == e->dev && (uint64_t)st.st_ino == e->inode)
		return 0;
	close(*fd);
	*fd = -1;
	return -ESTALE;
}

int netns_entry_open(struct netns_entry *e, int *fd)
{
	int first_err = 0;

	*fd = -1;
	for (size_t k = e->gone; k < e->npaths + e->ntasks; k++) {
		char buf[64];
		const char *path = buf;
		int r;

		if (k < e->npaths) {
			path = e->paths[k];
		} else {
			const struct netns_task *t = &e->tasks[k - e->npaths];

			if (t->tid)
				snprintf(buf, sizeof(buf), "/proc/%d/task/%d/ns/net", (int)t->pid, (int)t->tid);
			else
				snprintf(buf, sizeof(buf), "/proc/%d/ns/net", (int)t->pid);
		}
		r = open_way(e, path, fd);
		if (r == 0)
			return 0;
		/* A way gone stays gone: a later open starts past it. */
		if (r == -ENOENT || r == -ESTALE) {
			if (k == e->gone)
				e->gone++;
		} else if (!first_err) {
			first_err = r;
		}
	}
	return first_err ? first_err : -ENOENT;
}

int netns_find_label(int proc_fd, const char *arg, char **path, struct qt_diags *d)
{
	struct netns_list l;
	struct qt_diags scan_diags = { 0 };
	size_t hit = 0, hits = 0;
	int r;

	*path = NULL;
	r = netns_scan(proc_fd, &l, &scan_diags);
	diags_free(&scan_diags);
	if (r < 0)
		return r;
	for (size_t i = 0; i < l.n; i++)
		if (netns_label_matches(&l.v[i].label, arg)) {
			hit = i;
			hits++;
		}
	if (hits == 1) {
		*path = xstrdup(l.v[hit].path);
	} else if (hits > 1) {
		for (size_t i = 0; i < l.n; i++)
			if (netns_label_matches(&l.v[i].label, arg))
				diags_error(d, "--netns %s: matches %s (inode %llu)", arg, l.v[i].label.text,
					    (unsigned long long)l.v[i].inode);
	}
	netns_list_free(&l);
	return hits == 1 ? 0 : hits ? -EEXIST : -ENOENT;
}

void netns_list_free(struct netns_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		for (size_t k = 0; k < l->v[i].npaths; k++)
			free(l->v[i].paths[k]);
		free(l->v[i].paths);
		free(l->v[i].tasks);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}
