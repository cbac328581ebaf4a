/* allnetns_int: what the --all-netns runs share and nothing else includes:
 * the parent's gathering (the namespaces, each one's dump, the one owner
 * walk), the child that runs a command in one namespace confined, and the
 * report of a namespace that could not be entered. allnetns.c runs show,
 * check and listeners with them, allnetns_watch.c runs watch. */
#ifndef QTUNE_ALLNETNS_INT_H
#define QTUNE_ALLNETNS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "commands.h"
#include "ctx.h"
#include "diag.h"
#include "listener_set.h"
#include "netns_report.h"
#include "netns_scan.h"

struct cgroup_map;

struct ns_run {
	int fd;                 /* the namespace, open for setns; -1: not entered */
	int err;                /* why not: -errno */
	int dump;               /* listeners_dump's result there */
	struct qt_diags diags;  /* the parent's diagnostics there, for the child's document */
	char *prom;             /* the child's metrics */
	size_t prom_len;
};

/* One --all-netns run: what the parent gathered, by namespace (the
 * arrays are parallel to list.v). */
struct allnetns {
	struct netns_list list;
	struct cgroup_map *cgroups;     /* walked once for every dump */
	struct ns_run *runs;
	struct listener_set *sets;      /* each namespace's dump */
	struct netns_row *rows;         /* the summary */
	uint64_t *inodes;               /* the dumped namespaces' inodes, 0 for the others */
	bool walked;                    /* one owner walk covered every set */
};

/* Finds every namespace, enters each to dump its listeners (its fd stays
 * open for its child) and, when the row keeps CAPS_OWNERS, walks /proc
 * once for the owners of all of them. 0, or -1 with a diagnostic. */
int allnetns_gather(struct qt_ctx *ctx, const struct command *cmd, const struct cmd_args *args,
		    struct allnetns *an);
void allnetns_free(struct allnetns *an);

/* A child running the command in one namespace. */
struct ns_child {
	pid_t pid;              /* -1: none */
	int out;                /* its stdout, when captured; -1: it writes to ours */
	int result;             /* the pipe it reports its summary row on */
	int pace;               /* watch: the write end that paces its samples; -1 */
};

enum {
	NS_CHILD_CAPTURE = 1 << 0,      /* its output comes back through ch->out */
	NS_CHILD_PACED = 1 << 1,        /* watch: the parent paces its samples (ch->pace) */
};

/* Forks the child of namespace i: it enters the namespace, drops every
 * capability the row does not keep, applies Landlock and runs the command
 * as a --netns run does. 0, or -errno with a diagnostic (ch->pid -1). */
int allnetns_spawn(struct qt_ctx *ctx, const struct command *cmd, const struct cmd_args *args,
		   struct allnetns *an, size_t i, unsigned how, struct ns_child *ch);

/* Waits for it (its captured output read first, or already) and fills
 * an->rows[i] from what it reported; closes ch's fds. */
void allnetns_reap(struct qt_ctx *ctx, const struct command *cmd, struct allnetns *an, size_t i,
		   struct ns_child *ch);

/* A namespace that could not be entered, or that vanished (err -ENOENT,
 * -ESTALE; before its audit, or during_watch): reported in a line of
 * text, or with --json in a document of its own (into ctx->json) as
 * --netns would print for it; counted in its row and ctx->diags. The
 * level it counts as. */
enum qt_level allnetns_report_unentered(struct qt_ctx *ctx, const struct command *cmd,
					const struct netns_entry *e, int err, bool during_watch,
					struct netns_row *row);

#endif
