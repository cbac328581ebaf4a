/* prometheus: `--output prometheus` for check, show and listeners — metrics
 * in the Prometheus text exposition format (0.0.4) that node_exporter's
 * textfile collector reads, each family with HELP and TYPE, label values
 * escaped, every series unique. A renderer: it takes what the command
 * gathered (prom_inputs, cmd_prom_gather) and writes to ctx->out; main
 * delivers the result whole, to stdout or atomically to --textfile. */
#ifndef QTUNE_PROMETHEUS_H
#define QTUNE_PROMETHEUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

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

/* The running value of one integer key (slashed path). */
struct prom_sysctl {
	const char *path;
	int64_t value;
};

/* What every command's metrics hold besides its own data, gathered by the
 * command: the TcpExt counters, the listen-queue keys, the time. */
struct prom_inputs {
	struct netstat_counter counters[NETSTAT_COUNTERS];
	bool have_counters;             /* /proc/net/netstat could be read */
	struct prom_sysctl *values;     /* the readable integer listen-queue keys */
	size_t nvalues;
	struct timespec now;
};

/* Each renders the command's metrics and returns the level of the run:
 * check's verdict (c->worst), or QT_LEVEL_OK. */
enum qt_level prom_render_check(struct qt_ctx *ctx, const struct prom_check *c,
				const struct prom_inputs *in);
/* show: the listen-queue keys, the limits of a new listener (accept_max,
 * syn_max: < 0 when unknown) and the TcpExt counters. */
enum qt_level prom_render_show(struct qt_ctx *ctx, const struct prom_inputs *in,
			       int64_t accept_max, int64_t syn_max);
/* listeners: every listener and its findings, and the TcpExt counters. */
enum qt_level prom_render_listeners(struct qt_ctx *ctx, const struct audit *a,
				    const struct prom_inputs *in);

/* --all-netns: one series per namespace, 1 when it was audited. */
struct prom_netns {
	uint64_t inode;
	const char *label;
	bool up;
};
void prom_render_netns(FILE *f, const struct prom_netns *v, size_t n);

/* The metrics of several runs (one per namespace, each series labelled
 * with its netns) as one exposition: every family's HELP and TYPE once,
 * then its samples from each text in order, as the format requires. */
void prom_merge(FILE *out, char *const *texts, const size_t *lens, size_t n);

/* Exposed for tests. */
/* "ListenOverflows" → "listen_overflows", "TCPReqQFullDrop" →
 * "tcp_req_q_full_drop": snake case, acronyms kept together. */
void prom_snake_case(const char *camel, char *out, size_t size);
/* A label value as the exposition format wants it: backslash, double quote
 * and newline escaped; other control bytes and invalid UTF-8 become '?'. */
void prom_write_label_value(FILE *f, const char *s);

#endif
