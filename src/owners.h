/* owners: the processes that hold each listener of a set (listeners.h
 * dumps it), found by reading /proc/PID/fd beneath ctx->proc_fd: of the
 * processes in the set's namespace and, for a listener none of them holds,
 * of the processes of the other namespaces. Bounded, and never failing for
 * lack of privilege: what it cannot see it marks unknown (owners_known,
 * owners_complete). The walk runs in this process or in the owner walker
 * (owners_walker.h: a child forked before Landlock that answers over a
 * socket), on ctx->owner_jobs threads (0: one per CPU the process may run
 * on, at most 8, and no more than one per 32 processes): whatever their
 * number, the result is the one a single thread finds, and they are joined
 * before any function returns, so the caller is single-threaded again for
 * its setns() and fork(). */
#ifndef QTUNE_OWNERS_H
#define QTUNE_OWNERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctx.h"
#include "diag.h"
#include "listener_set.h"

/* Bounds of the owner scan, so that a hostile or runaway host cannot make
 * qtune scan without end. Past a bound the result says it is incomplete. */
#define LISTENERS_SCAN_MAX_PIDS (1u << 22)  /* /proc entries looked at (pid_max limit) */
#define LISTENERS_SCAN_MAX_FDS (1u << 20)   /* fds looked at per process (fs.nr_open default) */
#define LISTENERS_CGROUP_MAX (64 * 1024)    /* bytes of /proc/PID/cgroup read */

/* Finds the owners of every listener of set: /proc/PID/fd of every process
 * whose /proc/PID/ns/net is ctx->netns_inode, beneath ctx->proc_fd; then,
 * for the listeners still without one, of the processes of other
 * namespaces (a socket kept across setns or passed over a unix socket).
 * Never fails for lack of privilege: what it cannot see it marks unknown. */
int listeners_attribute(const struct qt_ctx *ctx, struct listener_set *set, struct qt_diags *d);

/* The owners of every listener of n namespaces in one walk over /proc
 * (qtune --all-netns): sets[i] holds the listeners dumped in the namespace
 * of inode netns[i] (0: none, it could not be entered), each set is
 * attributed as listeners_attribute() would attribute it there. The walk
 * reads each process's ns/net once and scans the fds only of processes in
 * one of the namespaces. 0. */
int listeners_attribute_netns(const struct qt_ctx *ctx, struct listener_set *sets,
			      const uint64_t *netns, size_t n, struct qt_diags *d);

/* Forgets the owners of the listeners whose want[i] is false (they read
 * "not looked up" again): a set walked for every listener, by
 * listeners_attribute_netns, reports only those a command asked for. */
void listeners_owners_keep(struct listener_set *set, const bool *want);

#ifdef QTUNE_TEST_HOOKS
/* Test build only: the threads the last walk of this process ran on, the
 * calling one included. */
extern unsigned owners_last_walk_threads;
#endif

#endif
