/* netns: enters the network namespace named by --netns (a name under
 * /run/netns or a path such as /proc/PID/ns/net) before anything is read
 * or written, and tells whether the namespace qtune works in is the
 * initial one — the line between keys a container may change and keys
 * that change the whole host. */
#ifndef QTUNE_NETNS_H
#define QTUNE_NETNS_H

#include "ctx.h"

#define NETNS_RUN_DIR "/run/netns"

/* setns() into the namespace: a name under /run/netns, a path, or a
 * label (netns_label.h) that names one namespace of the host; -errno with
 * a diagnostic on failure. */
int netns_enter(const char *name_or_path, struct qt_diags *d);

/* setns(fd, CLONE_NEWNET), or nothing when the caller is in that
 * namespace already. 0 or -errno. */
int netns_setns(int fd);

/* Fills ctx->netns_inode, ctx->netns_cookie (0 on kernels before 5.14)
 * and ctx->netns_initial. how receives a short explanation of the
 * decision, for -v. */
int netns_identify(struct qt_ctx *ctx, const char **how);

#endif
