/* relisten: raises the backlog of TCP listeners that already exist, without
 * restarting their processes. listen() on a socket that is already listening
 * only changes its backlog (queued connections stay, the owner keeps
 * serving), so qtune takes a duplicate of the socket from an owning process
 * (pidfd_open + pidfd_getfd: ptrace rights over that process, Linux 5.6+),
 * checks by inode and socket options that it is that very TCP listener,
 * calls listen() on the duplicate, closes it and reads the backlog back over
 * sock_diag. relisten_plan is pure; relisten_execute changes nothing but the
 * backlog of the sockets it was given, and only ever raises it. */
#ifndef QTUNE_RELISTEN_H
#define QTUNE_RELISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "ctx.h"
#include "diag.h"
#include "findings.h"
#include "listeners.h"
#include "relisten_result.h"

enum relisten_mode {
	RELISTEN_CLAMPED,       /* listeners with a clamped finding (the default) */
	RELISTEN_ALL,           /* and those with a below-min finding */
};

/* One socket to raise. Every socket appears once, however many processes
 * share it (fork) and whatever SO_REUSEPORT group it is in (each socket of a
 * group is its own inode, its own target). */
struct relisten_target {
	size_t listener;        /* index into listener_set.v */
	uint64_t inode;         /* the socket; 0: the kernel gave none, left alone */
	int64_t old_backlog;    /* its backlog in the set */
	int64_t new_backlog;    /* what listen() gets; == old_backlog: nothing to do */
	bool clamped, below_min;        /* which findings asked for it */
};

/* Turns the findings of set into targets, in listener order:
 *  - clamped: the new somaxconn (the finding's limit), as a restart calling
 *    listen(fd, SOMAXCONN) would — the program asked for at least the old
 *    somaxconn, how much more nobody can tell;
 *  - below-min (mode RELISTEN_ALL): its port's requirement, else
 *    min_backlog (the finding's limit);
 *  - both: the larger; then never above somaxconn_now (the value in force
 *    when listen() is called; <= 0 when unknown: the kernel clamps anyway)
 *    and never below the current backlog.
 * f must have been built from set (findings_build). Pure. *out is
 * malloc'd (NULL when *n is 0); returns 0. */
int relisten_plan(const struct listener_set *set, const struct findings *f,
		  enum relisten_mode mode, int64_t somaxconn_now,
		  struct relisten_target **out, size_t *n);

/* For each target: tries its owners in turn (pid and fd number from
 * listeners_attribute), pidfd_open(pid), pidfd_getfd(fd), and uses the
 * duplicate only when fstat() gives the target's inode and it is a
 * listening TCP socket of the listener's family and port; reads its
 * backlog (TCP_INFO) and, when lower than asked, calls listen(dup,
 * new_backlog); closes it. Then one sock_diag dump confirms every raised
 * backlog. A socket that cannot be taken is reported, with the reason
 * (permission: CAP_SYS_PTRACE, Yama's ptrace_scope; process gone; owner
 * unknown) and the restart advice, and the others go on. dry_run: reports
 * what would be done and touches nothing. set must be attributed.
 *
 * The one window it cannot close: an owner that shuts its listener down
 * between the check and listen() would see it listening again. out is
 * replaced; returns 0 (diagnostics only for what is not per listener). */
int relisten_execute(const struct qt_ctx *ctx, const struct listener_set *set,
		     const struct relisten_target *t, size_t n, bool dry_run,
		     struct relisten_results *out, struct qt_diags *d);

#endif
