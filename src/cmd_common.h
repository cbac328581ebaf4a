/* cmd_common: the steps the commands share — find and load a profile,
 * read the running value of each of its keys, build the plan, raise
 * listeners live (apply --relisten, relisten) — and the one rendering of a
 * plan as a table or as JSON. */
#ifndef QTUNE_CMD_COMMON_H
#define QTUNE_CMD_COMMON_H

#include "audit.h"
#include "commands.h"
#include "ctx.h"
#include "output.h"
#include "plan.h"
#include "profile.h"
#include "prometheus.h"
#include "relisten.h"

/* The file apply --persist writes and rollback restores: NAME in
 * SYSCTLD_ETC under ctx->root. The directory is reached through no symlink
 * beneath the root and judged all the way (trust_open_beneath: a root
 * another user owns is refused), and created (0755) only to put a file in it. Reading an absent
 * file (or directory) gives 0 and *old NULL; putting content NULL removes
 * the file (absent already is success). 0 or -errno with a diagnostic. */
int cmd_persist_read(struct qt_ctx *ctx, const char *name, char **old, size_t *len);
int cmd_persist_put(struct qt_ctx *ctx, const char *name, const char *content, size_t len);

/* profile_find + profile_load, each file opened by the trust walk at
 * trust_level: QT_LEVEL_ERROR refuses (commands about to change something),
 * QT_LEVEL_WARN only warns (reading commands); then the unknown keys
 * against /proc/sys. Diagnostics go to ctx->diags; on refusal *out is NULL
 * and -EPERM is returned. */
int cmd_load_profile(struct qt_ctx *ctx, const char *text, enum qt_level trust_level,
		     struct profile **out);

/* Reads every key of the profile and builds the plan. */
int cmd_build_plan(struct qt_ctx *ctx, const struct profile *p, struct plan **out);

/* Warns about keys that are host-wide when the target namespace is not the
 * initial one (validate, check); apply refuses them in apply_preflight(). */
void cmd_warn_global_keys(struct qt_ctx *ctx, const struct profile *p);

/* The view selects the words: check says drift, apply and rollback say
 * change; rollback heads its third column RESTORE (the recorded value). */
enum plan_view { PLAN_CHECK, PLAN_APPLY, PLAN_ROLLBACK };
void cmd_render_plan_text(const struct qt_ctx *ctx, const struct plan *plan, enum plan_view view);
void cmd_render_plan_json(struct jw *w, const struct plan *plan);

/* apply --relisten and `qtune relisten`: raise the flagged listeners of an
 * audit live (relisten.c); commands act, the audit only judges. results
 * index the set they were made on: after a real relisten that set moves to
 * run->made_on and *a is audited afresh, so the report shows the new
 * backlogs. */
struct relisten_run {
	bool ran;
	struct relisten_results results;
	struct audit made_on;
	bool moved;
};

/* The value of --backlog (relisten, apply --relisten): 1 to INT_MAX, as
 * listen() takes it; NULL (not given) is 0. 0 or -EINVAL with the error
 * in ctx's diagnostics. */
int cmd_parse_backlog(struct qt_ctx *ctx, const char *value, int64_t *backlog);
/* backlog > 0: the explicit target (--backlog N), capped at somaxconn. */
int cmd_relisten_run(struct qt_ctx *ctx, const struct profile *p, struct audit *a,
		     enum relisten_mode mode, int64_t backlog, bool dry_run, struct relisten_run *run);
/* Raised sockets are no longer clamped by the recorded apply: the record
 * forgets them. take_lock: the command does not hold the lock already. */
void cmd_relisten_forget(struct qt_ctx *ctx, const struct relisten_run *run, bool take_lock);
void cmd_render_relisten_text(const struct qt_ctx *ctx, const struct relisten_run *run,
			       const struct audit *a);
void cmd_render_relisten_json(struct jw *w, const struct relisten_run *run,
			       const struct audit *a);
void relisten_run_free(struct relisten_run *run);

/* What --output prometheus shows beside a command's own data: the TcpExt
 * counters (a warning when /proc/net/netstat cannot be read), the running
 * integer listen-queue keys, the time. The renderer reads nothing itself. */
void cmd_prom_gather(struct qt_ctx *ctx, struct prom_inputs *in);
void cmd_prom_inputs_free(struct prom_inputs *in);

/* Landlock for apply and rollback: they may write the plan's keys that
 * change (plan NULL: all of /proc/sys, before the plan is known), the
 * state directory and, when sysctld, ROOT/etc/sysctl.d. Called by main
 * with NULL before parsing, then with the plan: each call narrows. 0 or
 * -errno with a diagnostic. */
int cmd_confine_settings(struct qt_ctx *ctx, const struct plan *plan, bool sysctld);

/* With -v: what landlock_restrict's result r (n grants) means. */
void cmd_landlock_say(const struct qt_ctx *ctx, int r, size_t n);

#ifdef QTUNE_TEST_HOOKS
/* Test build only: QTUNE_TEST_WRITE_PROBE=KEY makes a command try to write
 * KEY each time it is confined, as a memory bug could, and say what
 * happened. */
void cmd_write_probe(const struct qt_ctx *ctx);
#endif

#define CMD_INTERVAL_MAX 3600   /* an hour: longer is a cron job's work */
#define CMD_COUNT_MAX 1000000000

/* --interval SECONDS (and --count N): a whole number from 1 to max, or
 * an error naming the option. 0 when the option was not given (*out
 * untouched), 1 when it was, -1 on a bad value. */
int cmd_option_count(struct qt_ctx *ctx, const struct cmd_args *args, enum cmd_option o,
		     int64_t max, int64_t *out);
/* Sleeps for seconds of the monotonic clock, through signals that do not
 * stop the run (*stop set by a handler ends the sleep early). Returns the
 * seconds that did pass. */
double cmd_sleep(double seconds, const volatile int *stop);
/* The monotonic clock, in seconds. */
double cmd_now(void);

#endif
