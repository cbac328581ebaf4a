/* allnetns: `show`, `check`, `listeners` and `watch` with --all-netns: every network
 * namespace of the host audited as --netns would audit it, each in a
 * confined child, in one run: sections and a summary table (text), one
 * document with a "namespaces" array (JSON), or the metrics merged with
 * netns labels (Prometheus). The exit status is the worst over them. */
#ifndef QTUNE_ALLNETNS_H
#define QTUNE_ALLNETNS_H

#include "commands.h"
#include "ctx.h"

/* The whole run for a row with ALL_NETNS, as main would run the command
 * once (it ends with run_finish): the exit status. textfile: --textfile. */
int allnetns_run(struct qt_ctx *ctx, const struct command *cmd, const struct cmd_args *args,
		 const char *textfile);

/* watch --all-netns (allnetns_watch.c): every namespace watched at once,
 * in one live view, a confined child each, paced by the parent; the
 * summaries at the end. The exit status. */
int allnetns_watch(struct qt_ctx *ctx, const struct command *cmd, const struct cmd_args *args);

#endif
