/* relisten_report: the one rendering of a relisten run, shared by
 * `relisten` and `apply --relisten`: a line per listener with what was
 * done (or would be) and a summary (text), or the "relisten" member of a
 * document (JSON). Writes only; the data comes from relisten.c. */
#ifndef QTUNE_RELISTEN_REPORT_H
#define QTUNE_RELISTEN_REPORT_H

#include <stdio.h>

#include "ctx.h"
#include "listener_set.h"
#include "output.h"
#include "relisten.h"

/* One line per listener ("127.0.0.1:80  raised 128 -> 4096 (pid 12 nginx)",
 * "...  not raised: REASON; ADVICE") and a summary; with -q only the
 * listeners not raised. set is the one the results index. */
void relisten_render_text(const struct qt_ctx *ctx, FILE *f, const struct listener_set *set,
			  const struct relisten_results *r);

/* Member "relisten" of the object open in w: counts, dry_run, cap and
 * ptrace_scope, and a "listeners" array (address, port, inode, result,
 * backlog_before, backlog_target, backlog_after, pid, comm, reason,
 * advice). */
void relisten_render_json(struct jw *w, const struct listener_set *set,
			  const struct relisten_results *r);

#endif
