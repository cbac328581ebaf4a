/* commands: one handler per command, each in its own cmd_*.c. A handler
 * gets the prepared context (namespace entered, /proc/sys open, lock held
 * when the command table asks for it) and its own arguments and options,
 * writes its report to ctx->out, adds diagnostics to ctx->diags, and
 * returns the worst level it saw. main() maps that level to the exit
 * status and prints the diagnostics. */
#ifndef QTUNE_COMMANDS_H
#define QTUNE_COMMANDS_H

#include <stdbool.h>

#include "ctx.h"
#include "diag.h"

/* The command options. Each is described once, in main.c's option table;
 * a command's row lists the ones it takes, and main refuses every other
 * one before anything is prepared. */
enum cmd_option {
	CMD_OPT_DRY_RUN,        /* apply, relisten: preview, change nothing */
	CMD_OPT_PERSIST,        /* apply: also write the sysctl.d file */
	CMD_OPT_ALLOW_GLOBAL,   /* apply, rollback: host-wide keys from a non-initial netns */
	CMD_OPT_BOOT,           /* show: the values the next boot applies */
	CMD_OPT_RELISTEN,       /* apply: raise clamped listeners (=all: below-min too) */
	CMD_OPT_ALL,            /* relisten: maybe-clamped and below-min listeners too */
	CMD_OPT_NO_OWNERS,      /* listeners: do not look up the owning processes */
	CMD_OPT_INTERVAL,       /* check, listeners, watch: seconds between two samples */
	CMD_OPT_COUNT_N,        /* watch: stop after N samples */
	CMD_OPT_BACKLOG,        /* relisten: the target backlog N (capped at somaxconn) */
	CMD_OPT_COUNT
};

/* What the command line gave one command: only options its row lists
 * can be set here. */
struct cmd_args {
	int argc;
	char **argv;                            /* argv[0] is the command name */
	bool given[CMD_OPT_COUNT];
	const char *value[CMD_OPT_COUNT];       /* an option's argument, or NULL */
};

/* What main prepares for a command (the flags of its row). */
enum {
	NEEDS_LOCK = 1 << 0,    /* serialised with other apply/rollback runs (not a --dry-run) */
	/* Writes /proc/sys, the state record and sysctl.d (not a --dry-run).
	 * Without it a command may write no file but the --textfile. */
	WRITES_SETTINGS = 1 << 1,
	/* Takes other processes' sockets (pidfd_getfd, not a --dry-run),
	 * which needs ptrace access that Landlock denies: not confined. */
	TAKES_SOCKETS = 1 << 2,
	/* --json: the command writes its own documents, one per line (JSON
	 * Lines), the last with the messages; main opens none for the run. */
	JSON_LINES = 1 << 3,
	/* Takes --all-netns: a reading command, run once per namespace
	 * (allnetns.h). */
	ALL_NETNS = 1 << 4,
};

/* One row of main's command table: everything main needs to know about
 * a command (the --all-netns run reads it too). */
struct command {
	const char *name;
	enum qt_level (*run)(struct qt_ctx *, const struct cmd_args *);
	unsigned flags;
	unsigned caps;          /* CAPS_* the command keeps; every other one is dropped */
	unsigned formats;       /* FORMAT(QT_OUT_*) of the outputs it renders */
	int min_args, max_args; /* max -1: unbounded */
	const char *args;       /* its arguments, for the usage line */
	const enum cmd_option *options; /* ends with CMD_OPT_COUNT */
};

/* Whether the row lists option o. */
static inline bool command_takes(const struct command *cmd, enum cmd_option o)
{
	for (const enum cmd_option *p = cmd->options; *p != CMD_OPT_COUNT; p++)
		if (*p == o)
			return true;
	return false;
}

enum qt_level cmd_show(struct qt_ctx *ctx, const struct cmd_args *a);
enum qt_level cmd_validate(struct qt_ctx *ctx, const struct cmd_args *a);
enum qt_level cmd_check(struct qt_ctx *ctx, const struct cmd_args *a);
enum qt_level cmd_apply(struct qt_ctx *ctx, const struct cmd_args *a);
enum qt_level cmd_rollback(struct qt_ctx *ctx, const struct cmd_args *a);
enum qt_level cmd_listeners(struct qt_ctx *ctx, const struct cmd_args *a);
enum qt_level cmd_relisten(struct qt_ctx *ctx, const struct cmd_args *a);
enum qt_level cmd_profiles(struct qt_ctx *ctx, const struct cmd_args *a);
enum qt_level cmd_watch(struct qt_ctx *ctx, const struct cmd_args *a);

#endif
