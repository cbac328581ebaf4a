/* owners: which processes hold each listener of a set: one walk of
 * /proc/PID/fd for the processes of the listeners' namespace, on threads
 * merged in /proc's order (and, for a listener none of them holds, of the
 * other namespaces). Where it runs, here or in the owner walker child,
 * and how a subset is asked of it, is owners_walker.c's. */
#include "owners.h"
#include "owners_int.h"
#include "owners_walker.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "util.h"

/* getdents64 buffer: /proc/PID/fd of a process with 50,000 fds is ~1.2 MB
 * of entries, read in a few dozen calls. */
#define DENTS_BUF_SIZE (64 * 1024)

/* ------------------------------------------------------------------ walk */

struct ino_ix {
	uint32_t ino, ix;
};

struct link_pair {
	uint32_t listener, owner;
	int fd;
};

/* What a walk found for one scan: one thread's share of it, or the whole
 * of it once merged (and the other namespaces' pass adds to that). */
struct tally {
	struct listener_owner *owners;
	uint32_t *owner_pos;          /* per owner: its process's place in /proc's listing */
	size_t nowners, capowners;
	struct link_pair *pairs;      /* in the order found: by process, then fd */
	size_t npairs, cappairs;
	uint32_t *last_owner;         /* per listener: owner index that last claimed it */
	unsigned pids_scanned, pids_other_netns, pids_denied, fd_tables_read;
	bool denied;                  /* a process of the namespace could not be inspected */
	bool bound_hit;               /* a process had more than LISTENERS_SCAN_MAX_FDS fds */
};

/* The walk of one namespace's listeners: what every thread reads (the
 * inode index, never written during the walk), and what it found. */
struct scan {
	struct listener_set *set;
	uint64_t netns;
	struct ino_ix *index;         /* sorted by inode */
	size_t nindex;
	uint64_t netdev_ino;          /* inode of our /proc/PID/net/dev, 0 unknown */
	struct tally found;
};

static int ino_ix_cmp(const void *a, const void *b)
{
	const struct ino_ix *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* "PREFIX[NUMBER]" → NUMBER, for "socket:[123]" and "net:[4026531840]". */
static bool parse_bracketed(const char *s, size_t len, const char *prefix, uint64_t *out)
{
	size_t pl = strlen(prefix);
	char digits[24];
	int64_t v;

	if (len <= pl + 1 || len - pl - 1 >= sizeof(digits) || memcmp(s, prefix, pl) != 0 ||
	    s[len - 1] != ']')
		return false;
	memcpy(digits, s + pl, len - pl - 1);
	digits[len - pl - 1] = '\0';
	if (digits[0] < '0' || digits[0] > '9' || util_parse_i64(digits, &v) < 0 || v < 0)
		return false;
	*out = (uint64_t)v;
	return true;
}

/* The inode of the namespace link at dirfd/path ("ns/net"): readlink
 * tells it without following the link. */
static int netns_of(int dirfd, const char *path, uint64_t *ino)
{
	char lnk[64];
	ssize_t n = readlinkat(dirfd, path, lnk, sizeof(lnk));

	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(lnk) || !parse_bracketed(lnk, (size_t)n, "net:[", ino))
		return -EINVAL;
	return 0;
}

/* The inode of net/dev as the target namespace shows it, when the calling
 * thread is in that namespace (else 0: no fallback). */
static uint64_t netdev_reference(int proc_fd, uint64_t netns)
{
	struct stat st;
	uint64_t mine;

	if (netns_of(proc_fd, "thread-self/ns/net", &mine) < 0 || mine != netns ||
	    fstatat(proc_fd, "thread-self/net/dev", &st, 0) < 0)
		return 0;
	return st.st_ino;
}

/* ppid and start time from /proc/PID/stat: the fields after the comm,
 * which ends at the last ')'. The process tree groups owners (a master and
 * its workers); the start time tells a restarted owner from the old one. */
static void owner_stat(int piddir, struct listener_owner *o)
{
	char *text = NULL, *p, *save = NULL;
	int64_t v;

	if (util_read_file_at(piddir, "stat", O_NOFOLLOW, 4096, &text, NULL) < 0)
		return;
	p = strrchr(text, ')');
	/* Fields 3.. : state ppid ... starttime is field 22. */
	for (int field = 3; p && (p = strtok_r(field == 3 ? p + 1 : NULL, " ", &save)); field++) {
		if (field == 4 && util_parse_i64(p, &v) == 0 && v > 0 && v <= INT32_MAX)
			o->ppid = (pid_t)v;
		if (field == 22) {
			if (util_parse_i64(p, &v) == 0 && v > 0)
				o->start_time = (uint64_t)v;
			break;
		}
	}
	free(text);
}

static void owner_describe(int piddir, struct listener_owner *o)
{
	char *text = NULL, exe[PATH_MAX];
	size_t len = 0;
	ssize_t n;

	o->comm[0] = '\0';
	o->unit[0] = '\0';
	if (util_read_file_at(piddir, "comm", O_NOFOLLOW, 4 * LISTENERS_COMM_MAX, &text, &len) == 0) {
		while (len > 0 && text[len - 1] == '\n')
			len--;
		/* Chosen by whoever runs the process, printed by root. */
		util_escape(o->comm, sizeof(o->comm), text, len);
		free(text);
	}
	if (util_read_file_at(piddir, "cgroup", O_NOFOLLOW, LISTENERS_CGROUP_MAX, &text, NULL) == 0) {
		o->user_unit = unit_from_cgroup(text, o->unit, sizeof(o->unit), &o->user_uid) == UNIT_USER;
		free(text);
	}
	owner_stat(piddir, o);
	/* The program, for advice that names its own setting. */
	n = readlinkat(piddir, "exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		const char *base;

		exe[n] = '\0';
		base = strrchr(exe, '/');
		base = base ? base + 1 : exe;
		util_escape(o->exe, sizeof(o->exe), base, strlen(base));
	}
}

/* A tally for the n listeners of a set, nothing found yet. */
static void tally_init(struct tally *t, size_t n)
{
	memset(t, 0, sizeof(*t));
	t->last_owner = xreallocarray(NULL, n + 1, sizeof(*t->last_owner));
	memset(t->last_owner, 0xff, (n + 1) * sizeof(*t->last_owner));
}

static void tally_free(struct tally *t)
{
	free(t->owners);
	free(t->owner_pos);
	free(t->pairs);
	free(t->last_owner);
	memset(t, 0, sizeof(*t));
}

/* pos: the process's place in /proc's listing, by which the threads'
 * tallies are merged. */
static uint32_t owner_new(struct tally *t, pid_t pid, uint32_t pos)
{
	if (t->nowners == t->capowners) {
		t->capowners = t->capowners ? t->capowners * 2 : 16;
		t->owners = xreallocarray(t->owners, t->capowners, sizeof(*t->owners));
		t->owner_pos = xreallocarray(t->owner_pos, t->capowners, sizeof(*t->owner_pos));
	}
	memset(&t->owners[t->nowners], 0, sizeof(t->owners[0]));
	t->owners[t->nowners].pid = pid;
	t->owner_pos[t->nowners] = pos;
	return (uint32_t)t->nowners++;
}

static void pair_add(struct tally *t, uint32_t listener, uint32_t owner, int fd)
{
	if (t->last_owner[listener] == owner)
		return;       /* the same socket on several fds of one process */
	t->last_owner[listener] = owner;
	if (t->npairs == t->cappairs) {
		t->cappairs = t->cappairs ? t->cappairs * 2 : 64;
		t->pairs = xreallocarray(t->pairs, t->cappairs, sizeof(*t->pairs));
	}
	t->pairs[t->npairs++] = (struct link_pair){ listener, owner, fd };
}

static bool gone(int err)
{
	return err == -ENOENT || err == -ESRCH;
}

/* Scans one process's fd table (the pos'th of /proc's listing) for the
 * sockets of s into t, with dents as the getdents buffer; 0, or -errno
 * when it could not. */
static int scan_fds(const struct scan *s, struct tally *t, char *dents, int piddir, pid_t pid,
		    uint32_t pos, uint32_t *owner)
{
	int fdd = openat(piddir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	unsigned seen = 0;
	int r = 0;

	if (fdd < 0)
		return -errno;
	t->fd_tables_read++;
	for (;;) {
		ssize_t n = getdents64(fdd, dents, DENTS_BUF_SIZE);

		if (n < 0) {
			r = gone(-errno) ? 0 : -errno;
			break;
		}
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			struct dirent64 *e = (struct dirent64 *)(dents + off);
			char lnk[32];
			uint64_t ino;
			int64_t fdnum;
			ssize_t ll;

			off += e->d_reclen;
			if (e->d_name[0] == '.')
				continue;
			if (++seen > LISTENERS_SCAN_MAX_FDS) {
				t->bound_hit = true;
				goto out;
			}
			ll = readlinkat(fdd, e->d_name, lnk, sizeof(lnk));
			/* Closed meanwhile, or a long path: not a socket. */
			if (ll <= 0 || (size_t)ll >= sizeof(lnk) ||
			    !parse_bracketed(lnk, (size_t)ll, "socket:[", &ino) || ino > UINT32_MAX)
				continue;
			struct ino_ix key = { (uint32_t)ino, 0 };
			const struct ino_ix *hit = bsearch(&key, s->index, s->nindex,
							   sizeof(*s->index), ino_ix_cmp);
			if (!hit)
				continue;
			if (*owner == UINT32_MAX)
				*owner = owner_new(t, pid, pos);
			if (util_parse_i64(e->d_name, &fdnum) < 0 || fdnum < 0 || fdnum > INT32_MAX)
				fdnum = -1;
			pair_add(t, hit->ix, *owner, (int)fdnum);
		}
	}
out:
	close(fdd);
	return r;
}

/* The scan of the namespace ns among n (the one walk serves every
 * namespace of --all-netns); n when none is wanted. */
static size_t scan_for(const struct scan *scans, size_t n, uint64_t ns)
{
	for (size_t i = 0; i < n; i++)
		if (scans[i].netns == ns)
			return i;
	return n;
}

/* One process of the walk, the pos'th of /proc's listing, into tallies
 * (one per scan: the calling thread's). */
static void scan_pid(const struct scan *scans, struct tally *tallies, size_t nscans, char *dents,
		     int procdir, pid_t pid, uint32_t pos)
{
	uint32_t owner = UINT32_MAX;
	char name[16];
	uint64_t ns;
	size_t k;
	int piddir, r;

	snprintf(name, sizeof(name), "%d", (int)pid);
	piddir = openat(procdir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (piddir < 0)
		return;       /* exited meanwhile */
	for (size_t i = 0; i < nscans; i++)
		tallies[i].pids_scanned++;
	r = netns_of(piddir, "ns/net", &ns);
	if (r < 0 && !gone(r) && nscans == 1 && scans[0].netdev_ino) {
		/* ns/net needs ptrace access, /proc/PID/net does not: its
		 * entries are the namespace's own, so a process whose net/dev
		 * is not ours is in another namespace, and no concern. */
		struct stat st;
		if (fstatat(piddir, "net/dev", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_ino != scans[0].netdev_ino) {
			tallies[0].pids_other_netns++;
			goto out;
		}
	}
	if (r < 0) {
		/* Cannot tell its namespace, or it is ours and we may not read
		 * its fds: skip it, and say the answer may be incomplete
		 * unless it simply exited. */
		for (size_t i = 0; i < nscans && !gone(r); i++) {
			tallies[i].pids_denied++;
			tallies[i].denied = true;
		}
		goto out;
	}
	k = scan_for(scans, nscans, ns);
	for (size_t i = 0; i < nscans; i++)
		tallies[i].pids_other_netns += i != k;
	if (k == nscans)
		goto out;
	r = scan_fds(&scans[k], &tallies[k], dents, piddir, pid, pos, &owner);
	if (r < 0 && !gone(r)) {
		tallies[k].pids_denied++;
		tallies[k].denied = true;
	}
	if (owner != UINT32_MAX)
		owner_describe(piddir, &tallies[k].owners[owner]);
out:
	close(piddir);
}

/* A socket is held in another network namespace when its process moved
 * there after creating it (setns, unshare) or received it over a unix
 * socket: ss -p names that process, and so do we. Only when the walk of
 * this namespace left listeners without an owner, the processes of every
 * other namespace are looked at, for those listeners only (one thread:
 * this is rare). Socket inodes are one number space for the whole host,
 * so they match across namespaces. What cannot be read here changes no
 * completeness: the walk of this namespace already said what it saw. */
static void other_netns_owners(struct scan *s, int procdir, char *dents)
{
	struct listener_set *set = s->set;
	struct tally *t = &s->found;
	bool *owned = xcalloc(set->n, sizeof(*owned));
	unsigned pids = 0;
	struct dirent *e;
	DIR *dir;
	int dfd;

	s->nindex = 0;
	for (size_t k = 0; k < t->npairs; k++)
		owned[t->pairs[k].listener] = true;
	for (size_t i = 0; i < set->n; i++)
		if (!owned[i])
			s->index[s->nindex++] = (struct ino_ix){ set->v[i].inode, (uint32_t)i };
	free(owned);
	if (s->nindex == 0 || t->bound_hit || (dfd = openat(procdir, ".", O_RDONLY | O_DIRECTORY |
							     O_CLOEXEC)) < 0)
		return;
	qsort(s->index, s->nindex, sizeof(*s->index), ino_ix_cmp);
	dir = fdopendir(dfd);
	if (!dir) {
		close(dfd);
		return;
	}
	while ((e = readdir(dir)) && ++pids <= LISTENERS_SCAN_MAX_PIDS) {
		uint32_t owner = UINT32_MAX;
		uint64_t ns;
		int64_t pid;
		int piddir;

		if (util_parse_i64(e->d_name, &pid) < 0 || pid <= 0 || pid > INT32_MAX ||
		    (piddir = openat(procdir, e->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW |
				     O_CLOEXEC)) < 0)
			continue;
		/* This namespace's processes were walked; a process whose
		 * namespace we may not read has fds we may not read either. */
		if (netns_of(piddir, "ns/net", &ns) == 0 && ns != s->netns &&
		    scan_fds(s, t, dents, piddir, (pid_t)pid, UINT32_MAX, &owner) >= 0 &&
		    owner != UINT32_MAX)
			owner_describe(piddir, &t->owners[owner]);
		close(piddir);
	}
	closedir(dir);
}

/* Turns the (listener, owner) pairs into per-listener runs of links. */
static void links_build(struct scan *s)
{
	struct listener_set *set = s->set;
	struct tally *t = &s->found;
	size_t total = 0;

	for (size_t i = 0; i < set->n; i++)
		set->v[i].nowners = 0;
	for (size_t k = 0; k < t->npairs; k++) {
		struct listener *l = &set->v[t->pairs[k].listener];
		l->owners_total++;
		if (l->nowners < LISTENERS_MAX_OWNERS)
			l->nowners++;
		else
			l->owners_truncated = true;
	}
	for (size_t i = 0; i < set->n; i++) {
		set->v[i].owner_off = (uint32_t)total;
		total += set->v[i].nowners;
		t->last_owner[i] = 0;       /* now: links filled so far */
	}
	set->links = xcalloc(total, sizeof(*set->links));
	set->link_fds = xcalloc(total, sizeof(*set->link_fds));
	set->nlinks = total;
	for (size_t k = 0; k < t->npairs; k++) {
		uint32_t li = t->pairs[k].listener;
		struct listener *l = &set->v[li];
		if (t->last_owner[li] < l->nowners) {
			set->link_fds[l->owner_off + t->last_owner[li]] = t->pairs[k].fd;
			set->links[l->owner_off + t->last_owner[li]++] = t->pairs[k].owner;
		}
	}
	/* The owners are the set's now. */
	set->owners = t->owners;
	set->nowners = t->nowners;
	t->owners = NULL;
	t->nowners = t->capowners = 0;
}

static void attribution_reset(struct listener_set *set)
{
	free(set->owners);
	free(set->links);
	free(set->link_fds);
	set->owners = NULL;
	set->links = NULL;
	set->link_fds = NULL;
	set->nowners = set->nlinks = 0;
	set->pids_scanned = set->pids_other_netns = set->pids_denied = 0;
	set->fd_tables_read = 0;
	for (size_t i = 0; i < set->n; i++) {
		set->v[i].nowners = 0;
		set->v[i].owners_total = 0;
		set->v[i].owner_off = 0;
		set->v[i].owners_truncated = false;
		set->v[i].owners_known = false;
		set->v[i].owners_looked_up = false;
	}
}

/* Prepares the scan of one set (attribution_reset() already): false when
 * it needs no walk (no listener, or its namespace is unknown). */
static bool scan_begin(struct scan *s, const struct qt_ctx *ctx, struct listener_set *set,
		       uint64_t netns, struct qt_diags *d)
{
	memset(s, 0, sizeof(*s));
	s->set = set;
	s->netns = netns;
	set->attributed = true;
	set->owners_complete = true;
	set->viewer_root = geteuid() == 0;
	if (set->n == 0)
		return false;
	if (s->netns == 0 && netns_of(ctx->proc_fd, "thread-self/ns/net", &s->netns) < 0) {
		diags_warn(d, "listeners: cannot tell which network namespace this is; owners unknown");
		set->owners_complete = false;
		return false;
	}
	s->netdev_ino = netdev_reference(ctx->proc_fd, s->netns);
	s->nindex = set->n;
	s->index = xreallocarray(NULL, set->n, sizeof(*s->index));
	for (size_t i = 0; i < set->n; i++)
		s->index[i] = (struct ino_ix){ set->v[i].inode, (uint32_t)i };
	qsort(s->index, s->nindex, sizeof(*s->index), ino_ix_cmp);
	return true;
}

static void scan_end(struct scan *s, bool walked)
{
	struct listener_set *set = s->set;
	uid_t me = geteuid();

	if (walked) {
		links_build(s);
		set->pids_scanned = s->found.pids_scanned;
		set->pids_other_netns = s->found.pids_other_netns;
		set->pids_denied = s->found.pids_denied;
		set->fd_tables_read = s->found.fd_tables_read;
	}
	/* With /proc mounted hidepid=, other users' processes are not even
	 * listed: a listener of another uid with no owner found may well have
	 * one we cannot see. */
	for (size_t i = 0; i < set->n && me != 0; i++)
		if (set->v[i].nowners == 0 && set->v[i].uid != me)
			set->owners_complete = false;
	for (size_t i = 0; i < set->n; i++) {
		set->v[i].owners_known = set->v[i].nowners > 0 || set->owners_complete;
		set->v[i].owners_looked_up = true;
	}
	free(s->index);
	tally_free(&s->found);
}

static void incomplete(struct scan *scans, size_t n)
{
	for (size_t i = 0; i < n; i++)
		scans[i].set->owners_complete = false;
}

/* ------------------------------------------------------- parallel walk */

/* The fd tables are read by several threads, each with tallies of its own
 * (owners, pairs, the claim array, counters) and its own getdents buffer;
 * they share only the scans' inode indexes, which nobody writes while they
 * run. They take the processes of /proc's listing one at a time from a
 * shared counter, and their tallies are merged by the place of each
 * process in the listing, so the result is the one a single thread gets. */
#define WALK_THREADS_DEFAULT_MAX 8
#define WALK_PIDS_PER_THREAD 32         /* fewer per thread: not worth starting one */
#define WALK_THREAD_STACK (256 * 1024)  /* scan_pid needs a few KiB (a PATH_MAX buffer) */

#ifdef QTUNE_TEST_HOOKS
unsigned owners_last_walk_threads;
#endif

struct walk_thread {
	const struct scan *scans;
	size_t nscans;
	struct tally *tallies;        /* one per scan */
	char *dents;
	int procdir;
	const pid_t *pids;            /* /proc's listing */
	size_t npids;
	atomic_size_t *next;          /* the next process to take */
};

static void *walk_thread_run(void *arg)
{
	struct walk_thread *w = arg;

	for (size_t i; (i = atomic_fetch_add(w->next, 1)) < w->npids;)
		scan_pid(w->scans, w->tallies, w->nscans, w->dents, w->procdir, w->pids[i], (uint32_t)i);
	return NULL;
}

/* How many threads: jobs when given (no more than there are processes),
 * else one per CPU this process may run on (sched_getaffinity: taskset
 * counts), capped, and one per WALK_PIDS_PER_THREAD processes at most. */
static unsigned walk_threads(unsigned jobs, size_t npids)
{
	if (jobs == 0) {
		cpu_set_t cpus;

		jobs = sched_getaffinity(0, sizeof(cpus), &cpus) == 0 ? (unsigned)CPU_COUNT(&cpus) : 1;
		if (jobs > WALK_THREADS_DEFAULT_MAX)
			jobs = WALK_THREADS_DEFAULT_MAX;
		if (jobs > npids / WALK_PIDS_PER_THREAD)
			jobs = (unsigned)(npids / WALK_PIDS_PER_THREAD);
	}
	if (jobs > npids)
		jobs = (unsigned)npids;
	return jobs ? jobs : 1;
}

struct pos_ref {
	uint32_t pos, thread, ix;     /* an owner (or pair) ix of thread, whose process is at pos */
};

static int pos_ref_cmp(const void *a, const void *b)
{
	const struct pos_ref *x = a, *y = b;

	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	return x->ix < y->ix ? -1 : x->ix > y->ix;
}

/* The tallies of scan k in each of n threads, merged into s->found: the
 * owners in the order of their processes in /proc's listing, the pairs in
 * the order of their owners (each process's in the order its thread found
 * them, which is its fd listing's), as one thread would have them. One
 * thread's tally is taken as it is. */
static void tallies_merge(struct scan *s, struct walk_thread *w, unsigned n, size_t k)
{
	struct tally *all = &s->found;
	struct pos_ref *refs;
	uint32_t **renumber;
	size_t nowners = 0, npairs = 0, m = 0;

	if (n == 1) {
		*all = w[0].tallies[k];
		memset(&w[0].tallies[k], 0, sizeof(w[0].tallies[k]));
		return;
	}
	/* A fresh claim array: the other namespaces' pass claims with owner
	 * numbers of the merged tally. */
	tally_init(all, s->set->n);
	for (unsigned t = 0; t < n; t++) {
		const struct tally *x = &w[t].tallies[k];

		nowners += x->nowners;
		npairs += x->npairs;
		all->pids_scanned += x->pids_scanned;
		all->pids_other_netns += x->pids_other_netns;
		all->pids_denied += x->pids_denied;
		all->fd_tables_read += x->fd_tables_read;
		all->denied |= x->denied;
		all->bound_hit |= x->bound_hit;
	}
	refs = xreallocarray(NULL, (nowners > npairs ? nowners : npairs) + 1, sizeof(*refs));
	renumber = xcalloc(n, sizeof(*renumber));
	for (unsigned t = 0; t < n; t++)
		for (size_t o = 0; o < w[t].tallies[k].nowners; o++)
			refs[m++] = (struct pos_ref){ w[t].tallies[k].owner_pos[o], t, (uint32_t)o };
	qsort(refs, m, sizeof(*refs), pos_ref_cmp);
	all->owners = xreallocarray(NULL, nowners + 1, sizeof(*all->owners));
	all->owner_pos = xreallocarray(NULL, nowners + 1, sizeof(*all->owner_pos));
	all->nowners = all->capowners = nowners;
	for (unsigned t = 0; t < n; t++)
		renumber[t] = xreallocarray(NULL, w[t].tallies[k].nowners + 1, sizeof(**renumber));
	for (size_t o = 0; o < m; o++) {
		all->owners[o] = w[refs[o].thread].tallies[k].owners[refs[o].ix];
		all->owner_pos[o] = refs[o].pos;
		renumber[refs[o].thread][refs[o].ix] = (uint32_t)o;
	}
	m = 0;
	for (unsigned t = 0; t < n; t++) {
		const struct tally *x = &w[t].tallies[k];

		for (size_t p = 0; p < x->npairs; p++)
			refs[m++] = (struct pos_ref){ x->owner_pos[x->pairs[p].owner], t, (uint32_t)p };
	}
	qsort(refs, m, sizeof(*refs), pos_ref_cmp);
	all->pairs = xreallocarray(NULL, npairs + 1, sizeof(*all->pairs));
	all->npairs = all->cappairs = npairs;
	for (size_t p = 0; p < m; p++) {
		struct link_pair lp = w[refs[p].thread].tallies[k].pairs[refs[p].ix];

		lp.owner = renumber[refs[p].thread][lp.owner];
		all->pairs[p] = lp;
	}
	for (unsigned t = 0; t < n; t++)
		free(renumber[t]);
	free(renumber);
	free(refs);
}

/* Scans the processes pids (in /proc's listing order) for every scan with
 * up to jobs threads, the calling one among them, into each scan's found. */
static void walk_pids(struct scan *scans, size_t nscans, int procdir, const pid_t *pids,
		      size_t npids, unsigned jobs)
{
	unsigned n = walk_threads(jobs, npids);
	struct walk_thread *w = xcalloc(n, sizeof(*w));
	pthread_t *th = xcalloc(n, sizeof(*th));
	bool *running = xcalloc(n, sizeof(*running));
	atomic_size_t next = 0;
	pthread_attr_t attr;
	bool attr_ok = pthread_attr_init(&attr) == 0;

	if (attr_ok)
		pthread_attr_setstacksize(&attr, WALK_THREAD_STACK);
	for (unsigned t = 0; t < n; t++) {
		w[t] = (struct walk_thread){ scans, nscans, xcalloc(nscans, sizeof(struct tally)),
					     xmalloc(DENTS_BUF_SIZE), procdir, pids, npids, &next };
		for (size_t k = 0; k < nscans; k++)
			tally_init(&w[t].tallies[k], scans[k].set->n);
	}
	/* A thread that cannot start leaves its share to the others: the
	 * counter hands every process to whoever asks next. */
	for (unsigned t = 1; t < n; t++)
		running[t] = pthread_create(&th[t], attr_ok ? &attr : NULL, walk_thread_run, &w[t]) == 0;
	walk_thread_run(&w[0]);
#ifdef QTUNE_TEST_HOOKS
	owners_last_walk_threads = 1;
#endif
	for (unsigned t = 1; t < n; t++)
		if (running[t]) {
			pthread_join(th[t], NULL);
#ifdef QTUNE_TEST_HOOKS
			owners_last_walk_threads++;
#endif
		}
	if (attr_ok)
		pthread_attr_destroy(&attr);
	for (size_t k = 0; k < nscans; k++)
		tallies_merge(&scans[k], w, n, k);
	for (unsigned t = 0; t < n; t++) {
		for (size_t k = 0; k < nscans; k++)
			tally_free(&w[t].tallies[k]);
		free(w[t].tallies);
		free(w[t].dents);
	}
	free(running);
	free(th);
	free(w);
}

/* The walk itself: /proc's listing, then its processes for the n scans,
 * then the other namespaces for the listeners nobody there holds. */
static void walk(const struct qt_ctx *ctx, struct scan *scans, size_t n, struct qt_diags *d)
{
	char *dents = NULL;
	pid_t *pids = NULL;
	size_t npids = 0, cappids = 0;
	unsigned listed = 0;
	bool bound_hit = false;
	int procdir = openat(ctx->proc_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (procdir < 0) {
		diags_warn(d, "listeners: cannot list /proc: %s; owners unknown", strerror(errno));
		incomplete(scans, n);
		for (size_t i = 0; i < n; i++)
			tally_init(&scans[i].found, scans[i].set->n);
		return;
	}
	dents = xmalloc(DENTS_BUF_SIZE);
	for (;;) {
		ssize_t got = getdents64(procdir, dents, DENTS_BUF_SIZE);

		if (got < 0) {
			diags_warn(d, "listeners: reading /proc: %s; owners may be incomplete",
				   strerror(errno));
			incomplete(scans, n);
			break;
		}
		if (got == 0)
			break;
		for (ssize_t off = 0; off < got;) {
			struct dirent64 *e = (struct dirent64 *)(dents + off);
			int64_t pid;

			off += e->d_reclen;
			if (e->d_name[0] < '1' || e->d_name[0] > '9')
				continue;
			if (++listed > LISTENERS_SCAN_MAX_PIDS) {
				bound_hit = true;
				goto listed;
			}
			if (util_parse_i64(e->d_name, &pid) < 0 || pid <= 0 || pid > INT32_MAX)
				continue;
			if (npids == cappids) {
				cappids = cappids ? cappids * 2 : 1024;
				pids = xreallocarray(pids, cappids, sizeof(*pids));
			}
			pids[npids++] = (pid_t)pid;
		}
	}
listed:
	walk_pids(scans, n, procdir, pids, npids, ctx->owner_jobs);
	free(pids);
	for (size_t i = 0; i < n; i++) {
		bound_hit |= scans[i].found.bound_hit;
		if (scans[i].found.denied)
			scans[i].set->owners_complete = false;
	}
	if (bound_hit) {
		diags_warn(d, "listeners: stopped scanning at %u processes or %u fds per process; "
			   "owners may be incomplete", LISTENERS_SCAN_MAX_PIDS, LISTENERS_SCAN_MAX_FDS);
		incomplete(scans, n);
	}
	/* A listener its namespace's processes do not hold: another walk
	 * for that namespace's unowned ones (rare: fd passing, setns). */
	for (size_t i = 0; i < n; i++)
		other_netns_owners(&scans[i], procdir, dents);
	close(procdir);
	free(dents);
}

/* The owners of every listener of set, which is attribution_reset() already. */
void owners_attribute_all(const struct qt_ctx *ctx, struct listener_set *set, struct qt_diags *d)
{
	struct scan s;
	bool walked = scan_begin(&s, ctx, set, ctx->netns_inode, d);

	if (walked)
		walk(ctx, &s, 1, d);
	scan_end(&s, walked);
}

int listeners_attribute_netns(const struct qt_ctx *ctx, struct listener_set *sets,
			      const uint64_t *netns, size_t n, struct qt_diags *d)
{
	struct scan *scans = xcalloc(n + 1, sizeof(*scans));
	bool *walked = xcalloc(n + 1, sizeof(*walked));
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		attribution_reset(&sets[i]);
		if (netns[i] == 0) {
			/* Not dumped (it could not be entered): nothing to find. */
			sets[i].attributed = true;
			continue;
		}
		walked[i] = scan_begin(&scans[k], ctx, &sets[i], netns[i], d);
		if (walked[i])
			k++;
	}
	if (k)
		walk(ctx, scans, k, d);
	for (size_t i = 0, j = 0; i < n; i++)
		if (walked[i])
			scan_end(&scans[j++], true);
		else if (netns[i])
			scan_end(&(struct scan){ .set = &sets[i] }, false);
	free(scans);
	free(walked);
	return 0;
}

/* ---------------------------------------------------------- a set's owners */

void listeners_owners_keep(struct listener_set *set, const bool *want)
{
	for (size_t i = 0; i < set->n; i++) {
		if (want[i])
			continue;
		set->v[i].nowners = 0;
		set->v[i].owner_off = 0;
		set->v[i].owners_truncated = false;
		set->v[i].owners_known = false;
		set->v[i].owners_looked_up = false;
	}
}

int listeners_attribute(const struct qt_ctx *ctx, struct listener_set *set, struct qt_diags *d)
{
	attribution_reset(set);
	set->attributed = false;
	return listeners_attribute_some(ctx, NULL, set, NULL, d);
}
