/* netns_report: section headers and the summary table of --all-netns. */
#include "netns_report.h"

#include <inttypes.h>
#include <string.h>

#include "output.h"
#include "util.h"

void netns_render_header(FILE *f, bool color, const struct netns_row *r)
{
	fprintf(f, "%s== network namespace %" PRIu64 ": %s ==%s\n", output_color(color, OUT_BOLD),
		r->inode, *r->label ? r->label : "(no label)", output_color(color, OUT_RESET));
}

static void cell(char *buf, size_t size, int64_t v)
{
	if (v < 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%" PRId64, v);
}

void netns_render_summary(FILE *f, bool color, const struct netns_row *v, size_t n)
{
	int wl = 5;
	size_t bad = 0;

	for (size_t i = 0; i < n; i++) {
		int l = (int)strlen(v[i].label);
		wl = l > wl ? (l > 60 ? 60 : l) : wl;
		bad += v[i].exit_code != 0;
	}
	fprintf(f, "\n%ssummary%s: %zu network namespaces, %zu not compliant or not audited\n",
		output_color(color, OUT_BOLD), output_color(color, OUT_RESET), n, bad);
	fprintf(f, "%-12s  %-*s  %9s  %9s  %8s  %s\n", "NETNS", wl, "LABEL", "SOMAXCONN", "LISTENERS",
		"FINDINGS", "VERDICT");
	for (size_t i = 0; i < n; i++) {
		char s[24], l[24], fi[24];
		const char *c = v[i].exit_code == 0 ? OUT_GREEN : v[i].exit_code == 1 ? OUT_YELLOW : OUT_RED;

		cell(s, sizeof(s), v[i].somaxconn);
		cell(l, sizeof(l), v[i].listeners);
		cell(fi, sizeof(fi), v[i].findings);
		fprintf(f, "%-12" PRIu64 "  %-*.*s  %9s  %9s  %8s  %s%s%s\n", v[i].inode, wl, wl,
			*v[i].label ? v[i].label : "-", s, l, fi, output_color(color, c), v[i].verdict,
			output_color(color, OUT_RESET));
	}
}

void netns_render_summary_json(struct jw *w, const struct netns_row *v, size_t n)
{
	jw_key(w, "summary");
	jw_array_begin(w);
	for (size_t i = 0; i < n; i++) {
		jw_object_begin(w);
		jw_key(w, "inode");
		jw_uint(w, v[i].inode);
		jw_kstring(w, "label", v[i].label);
		jw_kbool(w, "initial", v[i].initial);
		jw_kbool(w, "audited", v[i].error == NULL);
		jw_kint(w, "somaxconn", v[i].somaxconn);
		jw_kint(w, "listeners", v[i].listeners);
		jw_kint(w, "findings", v[i].findings);
		jw_kint(w, "exit_code", v[i].exit_code);
		jw_kstring(w, "verdict", v[i].verdict);
		jw_object_end(w);
	}
	jw_array_end(w);
}
