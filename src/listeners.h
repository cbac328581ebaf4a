/* listeners: every TCP socket in LISTEN state of the current network
 * namespace, as the kernel reports it over NETLINK_SOCK_DIAG (the state
 * filter is applied by the kernel), with its half-open requests and the
 * unit of its cgroup. Plain data out (listener_set.h); the processes that
 * own each are owners.h's, and nothing here decides what is wrong
 * (findings). */
#ifndef QTUNE_LISTENERS_H
#define QTUNE_LISTENERS_H

#include "ctx.h"
#include "diag.h"
#include "listener_set.h"

/* Dumps the TCP listeners (IPv4 and IPv6) of the calling thread's network
 * namespace into out (zeroed, or a set to be replaced), sorted by port,
 * family, address. 0 or -errno, with a diagnostic. Netlink answers for the
 * namespace the caller is in, which main() has made the target one. Each
 * listener's cgroup id (Linux 5.7+) names its unit without the owner walk:
 * the cgroup2 tree beneath ctx->proc_fd's self/mountinfo is walked once
 * for their paths (cgroup.h), judged by unit.h's rule. The one
 * sock_diag reader of qtune (relisten reads its backlogs back with it):
 * libmnl runs the dump and validates every message and attribute, and the
 * socket is connected to the kernel, so no other process can add to it. */
int listeners_dump(const struct qt_ctx *ctx, struct listener_set *out, struct qt_diags *d);

#ifdef QTUNE_TEST_HOOKS
/* Test build only: called with the dump socket once it is bound and
 * connected, before the first request (a test plays a forger there). */
extern void (*listeners_dump_socket_hook)(int fd);
/* Test build only: listeners compared while half-open requests are
 * matched to their listener, summed over every dump since it was zeroed. */
extern unsigned long listeners_request_probes;
#endif

#endif
