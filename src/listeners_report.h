/* listeners_report: the one rendering of listeners and their findings,
 * shared by `listeners`, `check` and `apply`: a text table aligned like
 * `ss -ltnp` (address, backlog, queued, SYN limit, owners, findings) with
 * the findings' messages below it and one advice line per distinct action
 * and owner, and JSON members for a document the caller has opened. Writes only; the data comes from listeners/findings. */
#ifndef QTUNE_LISTENERS_REPORT_H
#define QTUNE_LISTENERS_REPORT_H

#include <stdio.h>

#include "ctx.h"
#include "findings.h"
#include "queue_limits.h"
#include "listener_set.h"
#include "output.h"

/* "127.0.0.1:80", "[::1]:8080", "10.0.0.1%eth0:22" (as ss prints them). */
void listeners_format_endpoint(const struct listener *l, char *buf, size_t size);

/* The table, then one line per finding ("ADDRESS:PORT: KIND: message"),
 * then a note when owners could not all be seen. k may be NULL (no SYN
 * limit column values); fs may be NULL (no findings). */
void listeners_render_text(const struct qt_ctx *ctx, FILE *f, const struct listener_set *set,
			   const struct queue_limits *k, const struct findings *fs);

/* Members "kernel_limits" (the values the SYN limit is computed from),
 * "owners_complete" and "listeners" (the array documented in qtune.8) of
 * the object open in w. */
void listeners_render_json(struct jw *w, const struct listener_set *set,
			   const struct queue_limits *k, const struct findings *fs);

#endif
