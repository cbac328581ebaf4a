/* cgroup: the path of a cgroup v2 id. On cgroup v2 a cgroup's id (what
 * inet_diag reports as INET_DIAG_CGROUP_ID) is the inode number of its
 * directory, so the path is found by walking the cgroup2 mount (from
 * /proc/self/mountinfo: /sys/fs/cgroup, or /sys/fs/cgroup/unified on a
 * hybrid host) once, the first time an id is looked up. Bounded (in
 * cgroups and depth; each name is held once, not each path, so a user's
 * deep subtree costs what its names cost); reads only. */
#ifndef QTUNE_CGROUP_H
#define QTUNE_CGROUP_H

#include <stddef.h>
#include <stdint.h>

#define CGROUP_MAX_DIRS 65536   /* cgroups looked at */
#define CGROUP_MAX_DEPTH 32

struct cgroup_map;

/* The path of cgroup id below the cgroup2 root ("/system.slice/x.service",
 * "/" for the root) into path. *m is built on the first call (NULL
 * before); 0, -ENOENT when no cgroup has that id (or there is no cgroup2
 * mount), -ENAMETOOLONG. */
int cgroup_path(struct cgroup_map **m, int proc_fd, uint64_t id, char *path, size_t size);

void cgroup_map_free(struct cgroup_map *m);

#endif
