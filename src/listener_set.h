/* listener_set: the TCP listeners of a namespace and the processes that
 * own them, as plain data: what listeners_dump() and listeners_attribute()
 * fill (listeners.h, owners.h), and what findings, the reports and relisten read.
 * Pure: no I/O, so whoever only consumes a set needs no system header. */
#ifndef QTUNE_LISTENER_SET_H
#define QTUNE_LISTENER_SET_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Bounds, so that a hostile or runaway host cannot make qtune allocate
 * without end. Past a bound the set says it is incomplete. */
#define LISTENERS_MAX (1u << 20)            /* listeners kept from the dump */
#define LISTENERS_MAX_OWNERS 16             /* owners kept per socket */
#define LISTENERS_COMM_MAX 64               /* TASK_COMM_LEN is 16; room for longer ones */
#define LISTENERS_UNIT_MAX 256              /* systemd's UNIT_NAME_MAX */

/* A process owning at least one listener. comm is escaped (util_escape:
 * control bytes and invalid UTF-8 as \xHH) and unit holds only systemd's
 * unit name characters: both are chosen by whoever runs the process and
 * end up on a root terminal and in JSON. */
struct listener_owner {
	pid_t pid;
	char comm[LISTENERS_COMM_MAX];
	char unit[LISTENERS_UNIT_MAX];   /* a system unit, "nginx.service"; "" when none */
	bool user_unit;                  /* beneath user@UID.service: a user's own unit */
	uint32_t user_uid;               /* that UID (unit is "" then: see unit.h) */
	pid_t ppid;                      /* its parent (/proc/PID/stat); 0 unknown */
	uint64_t start_time;             /* clock ticks after boot (/proc/PID/stat); 0 unknown */
	char exe[LISTENERS_COMM_MAX];    /* basename of /proc/PID/exe; "" unreadable */
};

/* The unit of one cgroup a listener's socket was created in. */
struct listener_cgroup_unit {
	uint64_t cgroup_id;
	char unit[LISTENERS_UNIT_MAX];   /* a system unit; "" when none */
	bool user_unit;                  /* beneath user@UID.service */
	uint32_t user_uid;
};

struct listener {
	uint8_t family;                  /* AF_INET or AF_INET6 */
	/* owners_looked_up: the command asked for its owners (every listener
	 * for `listeners`, only those with a finding for check and apply).
	 * owners_known: looked up, and every owner found (none missed for
	 * lack of privilege); false when not looked up. */
	bool owners_looked_up;
	bool owners_known;
	bool owners_truncated;           /* more than LISTENERS_MAX_OWNERS owners */
	uint16_t port;
	uint8_t raw[16];                 /* address, network order (4 bytes for AF_INET) */
	char addr[INET6_ADDRSTRLEN];     /* "127.0.0.1", "::1" */
	char ifname[IF_NAMESIZE];        /* bound device (idiag_if), "" when none; "ifN" when
					  * gone or its name needs escaping */
	uint32_t ifindex;
	uint32_t backlog;                /* idiag_wqueue: sk_max_ack_backlog */
	uint32_t queued;                 /* idiag_rqueue: accept queue length now */
	/* SK_MEMINFO_DROPS: every connection the kernel dropped at this socket
	 * since it started listening (tcp_listendrop(): accept queue full, SYN
	 * queue full, no memory); gone with the socket. */
	uint32_t drops;
	bool drops_known;                /* the kernel sent INET_DIAG_SKMEMINFO */
	uint32_t syn_recv;               /* half-open requests (TCP_NEW_SYN_RECV) for it now */
	uint32_t uid;
	uint32_t inode;
	uint32_t owner_off;              /* first index into listener_set.links */
	uint16_t nowners;
	uint32_t owners_total;           /* owners found, kept or not (>= nowners) */
	uint64_t cgroup_id;              /* INET_DIAG_CGROUP_ID (5.7+): the cgroup v2 id of the
					  * socket's creator, the inode of its directory; 0: none */
};

struct listener_set {
	struct listener *v;              /* sorted by port, family, address */
	size_t n, cap;
	bool truncated;                  /* more than LISTENERS_MAX listeners */
	bool syn_recv_truncated;         /* more than LISTENERS_MAX half-open requests counted */
	uint64_t dumped_ns;              /* CLOCK_MONOTONIC when the dump ended: rates between samples */
	/* Set by listeners_attribute(). owners_complete is false when some
	 * process could not be inspected (permissions, a bound reached). */
	bool attributed;
	bool owners_complete;
	bool viewer_root;       /* the scan ran as euid 0: "needs root" would be wrong */
	struct listener_owner *owners;   /* one per owning process */
	size_t nowners;
	uint32_t *links;                 /* owners of v[i]: links[v[i].owner_off ..+ v[i].nowners] */
	int *link_fds;                   /* parallel to links: an fd number in that owner that
					  * referred to the socket when scanned (relisten) */
	size_t nlinks;
	/* What the scan saw, for -v and for tests. */
	unsigned pids_scanned, pids_other_netns, pids_denied;
	unsigned fd_tables_read;         /* /proc/PID/fd directories opened */
	/* The units of the cgroups the listeners' sockets were created in,
	 * one per cgroup id, sorted by it (listeners_dump). */
	struct listener_cgroup_unit *cgroup_units;
	size_t ncgroup_units;
};

/* The kth owner of l (k < l->nowners). */
const struct listener_owner *listener_owner_at(const struct listener_set *set,
					       const struct listener *l, size_t k);

/* An fd number in the kth owner of l that referred to the socket when the
 * owners were scanned; -1 when unknown. It may have been closed or reused
 * since: whoever uses it checks the socket's inode first. */
int listener_owner_fd(const struct listener_set *set, const struct listener *l, size_t k);

/* The systemd unit of l without the owner walk: that of the cgroup its
 * socket was created in (INET_DIAG_CGROUP_ID), or, where the kernel does
 * not say (before 5.7, cgroup v1 only), its first owner's when its owners
 * were looked up. NULL: no system unit known (none, a user's unit, a
 * container's cgroup). */
const char *listener_socket_unit(const struct listener_set *set, const struct listener *l);

void listener_set_free(struct listener_set *set);

#endif
