/* apply: preflight, then write every change; undo on the first failure. */
#include "apply.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "keys.h"
#include "sysctl.h"
#include "util.h"

static void termination_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
}

void apply_signals_hold(sigset_t *saved)
{
	sigset_t set;

	termination_signals(&set);
	sigprocmask(SIG_BLOCK, &set, saved);
}

void apply_signals_release(const sigset_t *saved, const char *what, struct qt_diags *d)
{
	const struct timespec now = { 0 };
	sigset_t set;
	int sig, first = 0;

	termination_signals(&set);
	/* Take every pending one, so that unblocking cannot kill us before
	 * the report says what was done. */
	while ((sig = sigtimedwait(&set, NULL, &now)) > 0)
		if (!first)
			first = sig;
	sigprocmask(SIG_SETMASK, saved, NULL);
	if (first)
		diags_error(d, "SIG%s arrived during the %s and waited until the values and the record agreed; stopping here",
			    sigabbrev_np(first), what);
}

static void item_where(const struct plan_item *it, const char **file, unsigned *line,
		       unsigned *col)
{
	*file = it->entry ? it->entry->file : NULL;
	*line = it->entry ? it->entry->line : 0;
	*col = it->entry ? it->entry->col : 0;
}

int apply_preflight(const struct qt_ctx *ctx, const struct plan *plan, bool allow_global,
		    bool preview, struct qt_diags *d)
{
	char shown[KEY_PATH_MAX];
	const char *file;
	unsigned line, col;
	int r = 0;

	for (size_t i = 0; i < plan->n; i++) {
		const struct plan_item *it = &plan->items[i];

		if (!it->change)
			continue;
		key_display(it->key, shown, sizeof(shown));
		item_where(it, &file, &line, &col);
		if (ctx->netns_initial != 1 && !allow_global && !key_is_per_netns(it->key)) {
			diags_add(d, QT_LEVEL_ERROR, file, line, col,
				  "%s is host-wide: changing it from %s network namespace would change the whole machine; use --allow-global to do it on purpose",
				  shown, ctx->netns_initial == 0 ? "a non-initial" : "a possibly non-initial");
			r = -EPERM;
			continue;
		}
		int w = sysctl_writable(ctx->procsys_fd, it->key);
		if (w < 0) {
			/* A dry run only reports it: previewing needs no privilege. */
			diags_add(d, preview ? QT_LEVEL_WARN : QT_LEVEL_ERROR, file, line, col,
				  "cannot write %s: %s (%s)",
				  shown, strerror(-w),
				  strncmp(it->key, "net/", 4) == 0
				  ? "run as root, or grant CAP_NET_ADMIN over the network namespace"
				  : "run as root");
			if (!preview)
				r = -EPERM;
		}
	}
	return r;
}

/* Puts items [0, upto] back to their value before the apply, newest
 * first. Returns the number of keys that could not be restored. */
static size_t undo(const struct qt_ctx *ctx, const struct plan *plan, size_t upto,
		   struct qt_diags *d)
{
	char now[KEY_VALUE_MAX], shown[KEY_PATH_MAX];
	size_t failed = 0;

	for (size_t j = upto + 1; j-- > 0;) {
		const struct plan_item *it = &plan->items[j];

		if (!it->change)
			continue;
		/* A write that failed may or may not have changed the value:
		 * ask the kernel rather than guess. */
		if (sysctl_read(ctx->procsys_fd, it->key, now, sizeof(now)) == 0 &&
		    key_values_equal(it->info, now, it->current))
			continue;
		int r = sysctl_write(ctx->procsys_fd, it->key, it->current, now, sizeof(now));
		if (r < 0) {
			key_display(it->key, shown, sizeof(shown));
			diags_add(d, QT_LEVEL_FATAL, NULL, 0, 0,
				  "%s left at \"%s\" (was \"%s\"): restoring failed: %s",
				  shown, now, it->current, strerror(-r));
			failed++;
		}
	}
	return failed;
}

int apply_execute(const struct qt_ctx *ctx, const struct plan *plan, struct qt_diags *d)
{
	char back[KEY_VALUE_MAX], shown[KEY_PATH_MAX];
	const char *file;
	unsigned line, col;

	for (size_t i = 0; i < plan->n; i++) {
		const struct plan_item *it = &plan->items[i];

		if (!it->change)
			continue;
		back[0] = '\0';
		int r = sysctl_write(ctx->procsys_fd, it->key, it->target, back, sizeof(back));
		if (r == 0)
			continue;
		key_display(it->key, shown, sizeof(shown));
		item_where(it, &file, &line, &col);
		if (r == -EIO && back[0])
			diags_add(d, QT_LEVEL_ERROR, file, line, col,
				  "%s: wrote \"%s\" but the kernel kept \"%s\"", shown, it->target, back);
		else
			diags_add(d, QT_LEVEL_ERROR, file, line, col,
				  "%s: the kernel refused \"%s\": %s", shown, it->target, strerror(-r));
		if (undo(ctx, plan, i, d) > 0) {
			diags_add(d, QT_LEVEL_FATAL, NULL, 0, 0,
				  "rollback failed: the keys above are in a state nobody asked for");
			return -ENOTRECOVERABLE;
		}
		diags_add(d, QT_LEVEL_ERROR, NULL, 0, 0,
			  "nothing was changed: every value written before the failure was restored");
		return -EIO;
	}
	return 0;
}

int apply_revert(const struct qt_ctx *ctx, const struct plan *plan, struct qt_diags *d)
{
	if (plan->n == 0 || undo(ctx, plan, plan->n - 1, d) == 0)
		return 0;
	diags_add(d, QT_LEVEL_FATAL, NULL, 0, 0,
		  "rollback failed: the keys above are in a state nobody asked for");
	return -ENOTRECOVERABLE;
}
