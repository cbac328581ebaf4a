/* run: the steps main takes around a command, in the order it takes them,
 * shared by a run in one namespace (main.c) and by each namespace's child
 * of an --all-netns run (allnetns.c): enter the namespace and open /proc and
 * /proc/sys there, confine with Landlock, frame the --json document, deliver
 * Prometheus metrics whole, and finish (the diagnostics, output errors, the
 * exit status main or the child returns). Nothing here exits. */
#ifndef QTUNE_RUN_H
#define QTUNE_RUN_H

#include <stddef.h>
#include <stdio.h>

#include "commands.h"
#include "ctx.h"
#include "diag.h"

struct jw;

/* Enters netns (NULL: stay), opens /proc and /proc/sys there and tells
 * which namespace it is. 0, or -1 with a diagnostic. */
int run_prepare(struct qt_ctx *ctx, const char *netns);

/* Landlock for the command's row (owners looked up first where the row
 * keeps CAPS_OWNERS); textfile: the --textfile the run may replace. 0 or
 * -errno with a diagnostic. */
int run_confine(struct qt_ctx *ctx, const struct command *cmd, const struct cmd_args *args,
		const char *textfile);

/* Prometheus metrics are rendered into memory and delivered whole: to
 * stdout, or atomically to the --textfile. */
struct run_delivery {
	const char *textfile;
	FILE *stdout_f;
	char *buf;
	size_t len;
};

int run_delivery_begin(struct qt_ctx *ctx, struct run_delivery *dv, const char *textfile);
/* The level worst, or an error when the metrics could not be delivered. */
enum qt_level run_delivery_end(struct qt_ctx *ctx, struct run_delivery *dv, enum qt_level worst);

/* --json: the document's header (w becomes ctx->json), and, at the close,
 * its "messages"; nothing for other outputs. */
void run_document_open(struct qt_ctx *ctx, struct jw *w, const struct command *cmd);
void run_document_close(struct qt_ctx *ctx);

/* Closes the document, flushes stdout (an output error is an error),
 * prints the diagnostics, frees what ctx holds; the exit status of worst. */
int run_finish(struct qt_ctx *ctx, enum qt_level worst);

/* The level an exit status stands for (a child's, or a namespace's). */
enum qt_level run_level_of_exit(int code);

#endif
