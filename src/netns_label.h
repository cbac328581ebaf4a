/* netns_label: the name a person recognises for a network namespace — its
 * `ip netns` name, the container or pod it belongs to (from the cgroup
 * path of a process inside it: Docker, containerd/CRI, Podman, CRI-O,
 * Kubernetes pods), or "pid N (comm)" of a process in it — and whether a
 * --netns argument names it. Pure: text in, label out. */
#ifndef QTUNE_NETNS_LABEL_H
#define QTUNE_NETNS_LABEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum netns_kind {
	NETNS_KIND_NONE,        /* nothing known but the inode */
	NETNS_KIND_INITIAL,     /* the host's own */
	NETNS_KIND_NAMED,       /* a name under /run/netns */
	NETNS_KIND_DOCKER,      /* docker-<id>.scope, or /docker/<id> */
	NETNS_KIND_CONTAINERD,  /* cri-containerd-<id>.scope */
	NETNS_KIND_PODMAN,      /* libpod-<id>.scope */
	NETNS_KIND_CRIO,        /* crio-<id>.scope */
	NETNS_KIND_POD,         /* a Kubernetes pod: kubepods…pod<uid> */
	NETNS_KIND_RUNTIME,     /* a runtime's bind mount (/run/docker/netns/X), no process seen */
	NETNS_KIND_PROCESS,     /* only a process: pid N (comm) */
};

#define NETNS_ID_MAX 72         /* a pod UID (36), a 64-hex id, a file name escaped */
#define NETNS_LABEL_MAX 160

struct netns_label {
	enum netns_kind kind;
	char id[NETNS_ID_MAX];  /* name, short container id (12), pod UID, runtime file, pid */
	char text[NETNS_LABEL_MAX];     /* "web", "docker 3f4e5d6a7b8c", "pod 1b2c…", "pid 42 (nginx)" */
};

/* What is known of a namespace, from the scan; any member may be empty. */
struct netns_label_source {
	bool initial;
	const char *name;               /* its name under /run/netns */
	const char *runtime;            /* a runtime's bind-mount directory ("docker") */
	const char *runtime_file;       /* and the file in it */
	const char *cgroup;             /* /proc/PID/cgroup of a process in it */
	int pid;                        /* that process (0: none) */
	const char *comm;               /* its comm */
};

/* The container or pod a cgroup text (/proc/PID/cgroup) names; kind
 * NETNS_KIND_NONE when it names none. A pod wins over its container: the
 * containers of a pod share the pod's namespace. Only the part of the path
 * the system named counts (unit_named_len): a user names what lies below
 * user@UID.service. */
void netns_label_from_cgroup(const char *cgroup, struct netns_label *out);

/* The label: initial, else the /run/netns name, else the container or pod,
 * else the runtime's file, else the process. Names from files and
 * processes are escaped (no control bytes reach a terminal). */
void netns_label_make(const struct netns_label_source *src, struct netns_label *out);

/* Whether a --netns argument names the labelled namespace: its whole
 * text ("docker 3f4e5d6a7b8c"), its id alone, or "KIND:ID"
 * ("docker:3f4e5d6a7b8c", "pod:UID", "pid:42"); a container id also by a
 * prefix of at least 4 characters of its short id. */
bool netns_label_matches(const struct netns_label *l, const char *arg);

/* "docker", "pod", ...: the KIND of "KIND:ID" (and of the JSON). */
const char *netns_kind_name(enum netns_kind k);

#endif
