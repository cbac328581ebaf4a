/* netns_scan: every network namespace of the host, for --all-netns: the
 * initial one first, then the names under /run/netns, the bind mounts a
 * container runtime keeps (/run/docker/netns), and the ns/net of every
 * process and thread — each namespace once, known by its identity (the nsfs device
 * and inode), never by the path it was found at — each with its label
 * (netns_label.h). Opening one again checks it is still the namespace the
 * scan saw. */
#ifndef QTUNE_NETNS_SCAN_H
#define QTUNE_NETNS_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "diag.h"
#include "netns_label.h"

/* Bounds, so that a host with a runaway number of processes or namespaces
 * cannot make the scan endless. */
#define NETNS_SCAN_MAX_PIDS (1u << 22)
#define NETNS_SCAN_MAX (1u << 16)

/* A process (tid 0) or a thread the scan saw in a namespace. */
struct netns_task {
	int32_t pid, tid;
};

/* Every way the scan reached a namespace is remembered, so that one that
 * goes (the process it was first seen in exits, a name is deleted) leaves
 * the others to open it by: it has vanished only when none reaches it. */
struct netns_entry {
	dev_t dev;
	uint64_t inode;
	char *path;             /* where it was found first (paths[0]): /run/netns/X,
				 * /proc/PID/ns/net, /proc/PID/task/TID/ns/net */
	char **paths;           /* every path it was found at, in the scan's order */
	size_t npaths;
	struct netns_task *tasks;       /* every process and thread seen in it, /proc order */
	size_t ntasks, tasks_cap;
	size_t gone;            /* ways (paths, then tasks) before this one are gone */
	bool initial;
	struct netns_label label;
};

struct netns_list {
	struct netns_entry *v;
	size_t n, cap;
	unsigned pids_denied;   /* processes whose ns/net could not be read (not root) */
	bool truncated;         /* a bound was reached: namespaces were left out (an error) */
};

/* Scans /proc beneath proc_fd and the namespace directories. 0 or -errno
 * (only when not even the initial namespace can be seen). */
int netns_scan(int proc_fd, struct netns_list *out, struct qt_diags *d);

/* Opens e's namespace (O_RDONLY, for setns) through the first of its ways
 * that still reaches it, judging each open fd by its identity (a reused
 * pid, a name bound again name another namespace now, and are passed
 * over): -ENOENT when none reaches it any more (it vanished; the ways
 * found gone are not tried again), else the first other -errno. */
int netns_entry_open(struct netns_entry *e, int *fd);

/* The --netns argument that is no path nor /run/netns name: the one
 * namespace whose label it matches (netns_label_matches). 0 with *path
 * set (caller frees), -ENOENT when none, -EEXIST when several match (each
 * named in a diagnostic). */
int netns_find_label(int proc_fd, const char *arg, char **path, struct qt_diags *d);

void netns_list_free(struct netns_list *l);

#endif
