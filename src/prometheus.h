/* prometheus: `--output prometheus` for check, show and listeners — metrics
 * in the Prometheus text exposition format (0.0.4) that node_exporter's
 * textfile collector reads, each family with HELP and TYPE, label values
 * escaped, every series unique. Written to ctx->out, or with --textfile
 * atomically to that file (temporary file in its directory, rename, mode
 * 0644), so a collector never reads half a file. */
#ifndef QTUNE_PROMETHEUS_H
#define QTUNE_PROMETHEUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "audit.h"
#include "boot.h"
#include "ctx.h"
#include "netstat.h"
#include "plan.h"
#include "profile.h"

/* What a check found. Anything it could not find is NULL: a check that
 * failed half-way still reports its exit code, so a monitoring system sees
 * the failure rather than an old file. */
struct prom_check {
	const char *profile;            /* profile name, or the argument when it did not load */
	const struct plan *plan;        /* the running values against the profile */
	const struct boot_item *boot;   /* nboot items (boot_audit) */
	size_t nboot;
	const struct audit *audit;      /* the listener audit */
	enum qt_level worst;            /* the check's verdict so far */
};

/* Each renders the command's metrics (check and listeners read the TcpExt
 * counters themselves) and returns the level of the run afterwards: worst unchanged, or QT_LEVEL_ERROR (with a diagnostic) when
 * the output could not be written. */
enum qt_level prom_render_check(struct qt_ctx *ctx, const struct prom_check *c);
/* show: the listen-queue keys, the limits of a new listener (accept_max,
 * syn_max: < 0 when unknown) and the TcpExt counters (NULL when unread). */
enum qt_level prom_render_show(struct qt_ctx *ctx, const struct netstat_counter *counters,
			       int64_t accept_max, int64_t syn_max);
/* listeners: every listener and its findings, and the TcpExt counters. */
enum qt_level prom_render_listeners(struct qt_ctx *ctx, const struct audit *a);

/* Exposed for tests. */
/* "ListenOverflows" → "listen_overflows", "TCPReqQFullDrop" →
 * "tcp_req_q_full_drop": snake case, acronyms kept together. */
void prom_snake_case(const char *camel, char *out, size_t size);
/* A label value as the exposition format wants it: backslash, double quote
 * and newline escaped; other control bytes and invalid UTF-8 become '?'. */
void prom_write_label_value(FILE *f, const char *s);

#endif
