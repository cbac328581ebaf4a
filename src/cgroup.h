/* cgroup: the path of a cgroup v2 id. On cgroup v2 a cgroup's id (what
 * inet_diag reports as INET_DIAG_CGROUP_ID) is the inode number of its
 * directory and its kernfs file handle: the cgroup is opened by that
 * handle (open_by_handle_at, CAP_DAC_READ_SEARCH) beneath the cgroup2
 * mount (from /proc/self/mountinfo: /sys/fs/cgroup, or .../unified on a
 * hybrid host) and its path read back, so a lookup costs the same however
 * many cgroups others made. Without the capability the mount is walked
 * once instead, bounded (in cgroups and depth; each name held once, not
 * each path). Reads only. */
#ifndef QTUNE_CGROUP_H
#define QTUNE_CGROUP_H

#include <stddef.h>
#include <stdint.h>

#define CGROUP_MAX_DIRS 65536   /* cgroups looked at */
#define CGROUP_MAX_DEPTH 32

struct cgroup_map;

/* The path of cgroup id below the cgroup2 root ("/system.slice/x.service",
 * "/" for the root) into path. *m is made on the first call (NULL
 * before), which decides handles or the walk; later calls only read it,
 * from any thread. 0, -ENOENT when no cgroup has that id (or there is no cgroup2
 * mount), -ENAMETOOLONG. */
int cgroup_path(struct cgroup_map **m, int proc_fd, uint64_t id, char *path, size_t size);

void cgroup_map_free(struct cgroup_map *m);

#endif
