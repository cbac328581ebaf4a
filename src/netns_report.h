/* netns_report: the frame of a --all-netns run in text and JSON: the
 * one-line header of each namespace's section and the closing summary
 * (namespace, label, somaxconn, listeners, findings, verdict). A renderer:
 * the rows come from allnetns.c, which audited each namespace. */
#ifndef QTUNE_NETNS_REPORT_H
#define QTUNE_NETNS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct jw;

struct netns_row {
	uint64_t inode;
	const char *label;
	bool initial;
	int64_t somaxconn;      /* -1: not read */
	int64_t listeners;      /* -1: not dumped */
	int64_t findings;       /* -1: no audit ran */
	int exit_code;          /* the namespace's run, as --netns exits */
	const char *verdict;    /* "compliant", "drift", "error", "vanished", ... */
	const char *error;      /* why it was not audited; NULL when it was */
};

/* "── network namespace 4026532281: docker 3f4e5d6a7b8c ──" */
void netns_render_header(FILE *f, bool color, const struct netns_row *r);
void netns_render_summary(FILE *f, bool color, const struct netns_row *v, size_t n);
/* The "summary" array of the document. */
void netns_render_summary_json(struct jw *w, const struct netns_row *v, size_t n);

#endif
