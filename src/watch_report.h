/* watch_report: the one rendering of `qtune watch`: a frame per sample
 * (text: the namespace's TcpExt rates, then per listener its accept queue
 * as a bar against its backlog with the peak, half-open now and peak,
 * drops/s; JSON: one document per line), and the summary of the window.
 * Writes only; the data is watch.h's. */
#ifndef QTUNE_WATCH_REPORT_H
#define QTUNE_WATCH_REPORT_H

#include <stdio.h>

#include "ctx.h"
#include "output.h"
#include "watch.h"

#define WATCH_BAR_WIDTH 20

/* "[#######.............]": filled in proportion of queued to backlog,
 * every mark only when the queue is full (findings_accept_queue_full:
 * over the backlog). buf holds at least WATCH_BAR_WIDTH + 3. */
void watch_format_bar(uint32_t queued, uint32_t backlog, char *buf, size_t size);

/* One frame, ending in a newline; rows with nothing to show are kept so a
 * redraw has the same height. */
void watch_render_text(const struct qt_ctx *ctx, FILE *f, const struct watch_state *w);

/* One sample as a complete JSON document on one line (JSON Lines). */
void watch_render_json_line(const struct qt_ctx *ctx, FILE *f, const struct watch_state *w);

/* The summary: per listener the peak queue, the window's drops and what
 * to change. Text, or the members of the JSON document open in jw. */
void watch_render_summary_text(const struct qt_ctx *ctx, FILE *f, const struct watch_state *w);
void watch_render_summary_json(struct jw *jw, const struct watch_state *w);

#endif
