/* apply: executes a plan all-or-nothing. Before any write, every key to be
 * changed is checked: writable as the kernel judges it (faccessat, no
 * write), and not host-wide when the target namespace is not the initial
 * one (unless allowed). Then each change is written and read back;
 * on the first failure every key already touched is put back, newest
 * first. The same executor runs rollbacks. */
#ifndef QTUNE_APPLY_H
#define QTUNE_APPLY_H

#include <signal.h>

#include "ctx.h"
#include "plan.h"

/* The termination signals (SIGTERM, SIGINT, SIGHUP, SIGQUIT) wait while an
 * apply or a rollback changes values, the sysctl.d file and the record, so
 * that those change together or not at all. Hold before the first write;
 * release once they agree: a signal that arrived in between is consumed
 * and reported as an error naming it and what (e.g. "apply") it waited
 * for. SIGKILL cannot wait: the record says an apply is in progress. */
void apply_signals_hold(sigset_t *saved);
void apply_signals_release(const sigset_t *saved, const char *what, struct qt_diags *d);

/* 0, or -EPERM with one diagnostic per key that may not be changed.
 * allow_global: host-wide keys may be changed from a non-initial
 * namespace. preview (a dry run): missing write permission is only a
 * warning. */
int apply_preflight(const struct qt_ctx *ctx, const struct plan *plan, bool allow_global,
		    bool preview, struct qt_diags *d);

/* 0 when every change holds; -EIO when one failed and everything was
 * restored (level ERROR); -ENOTRECOVERABLE when restoring failed too
 * (level FATAL, each key left in a state nobody asked for named). */
int apply_execute(const struct qt_ctx *ctx, const struct plan *plan, struct qt_diags *d);

/* Puts every changed key of a plan that apply_execute() completed back
 * to its old value (a later step, such as persisting, failed). 0 or
 * -ENOTRECOVERABLE as above. */
int apply_revert(const struct qt_ctx *ctx, const struct plan *plan, struct qt_diags *d);

#endif
