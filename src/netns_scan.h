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

struct netns_entry {
	dev_t dev;
	uint64_t inode;
	char *path;             /* where it was found first: /run/netns/X, /proc/PID/ns/net,
				 * /proc/PID/task/TID/ns/net */
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

/* Opens e's namespace (O_RDONLY, for setns) and checks it is still e:
 * -ENOENT when it is gone, -ESTALE when its path names another namespace
 * now (a reused pid, a name bound again), else -errno. */
int netns_entry_open(const struct netns_entry *e, int *fd);

/* The --netns argument that is no path nor /run/netns name: the one
 * namespace whose label it matches (netns_label_matches). 0 with *path
 * set (caller frees), -ENOENT when none, -EEXIST when several match (each
 * named in a diagnostic). */
int netns_find_label(int proc_fd, const char *arg, char **path, struct qt_diags *d);

void netns_list_free(struct netns_list *l);

#endif
