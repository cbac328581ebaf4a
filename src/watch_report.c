/* watch_report: frames, JSON Lines and the summary of `qtune watch`. */
#include "watch_report.h"

#include <string.h>
#include <sys/socket.h>

#include "listeners_report.h"
#include "util.h"

void watch_format_bar(uint32_t queued, uint32_t backlog, char *buf, size_t size)
{
	char bar[WATCH_BAR_WIDTH + 3];
	unsigned fill = queued == 0 ? 0
		      : findings_accept_queue_full(queued, backlog) ? WATCH_BAR_WIDTH
		      : (unsigned)((uint64_t)queued * WATCH_BAR_WIDTH / backlog);

	/* A queue that holds anything shows at least one mark; every mark
	 * only when it is full (the kernel's rule: over the backlog), so one
	 * left slot does not look like drops. */
	if (queued && fill == 0)
		fill = 1;
	if (fill == WATCH_BAR_WIDTH && !findings_accept_queue_full(queued, backlog))
		fill = WATCH_BAR_WIDTH - 1;
	bar[0] = '[';
	for (unsigned i = 0; i < WATCH_BAR_WIDTH; i++)
		bar[1 + i] = i < fill ? '#' : '.';
	bar[WATCH_BAR_WIDTH + 1] = ']';
	bar[WATCH_BAR_WIDTH + 2] = '\0';
	snprintf(buf, size, "%s", bar);
}

static double elapsed(const struct watch_state *w)
{
	return (double)(w->last_ns - w->first_ns) / 1e9;
}

static void owner_cell(const struct watch_row *r, char *buf, size_t size)
{
	if (!r->owners_known)
		snprintf(buf, size, "owner unknown");
	else if (!r->nowners)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%s[%d]%s%s", r->owner.comm, (int)r->owner.pid,
			 r->nowners > 1 ? ",+" : "", r->nowners > 1 ? "more" : "");
}

/* The cells of a row as they are printed; the columns are as wide as the
 * widest cell of this sample (or the heading), as listeners_report sizes
 * its table, so 65535/65535 lines up as well as 0/128. */
struct watch_cells {
	char ep[INET6_ADDRSTRLEN + IF_NAMESIZE + 16];
	char bar[WATCH_BAR_WIDTH + 3];
	char q[24], peak[12], half[24], rate[32];
	char own[LISTENERS_COMM_MAX + 32];
};

enum { COL_EP, COL_BAR, COL_Q, COL_PEAK, COL_HALF, COL_RATE, COL_OWN, NCOLS };
static const char *const watch_heads[NCOLS] = {
	"Local Address:Port", "Accept queue", "now/backlog", "peak", "half-open", "drops/s", "Owner",
};

static void row_cells(const struct watch_row *r, struct watch_cells *c)
{
	listeners_format_endpoint(&r->l, c->ep, sizeof(c->ep));
	watch_format_bar(r->l.queued, r->l.backlog, c->bar, sizeof(c->bar));
	snprintf(c->q, sizeof(c->q), "%u/%u", r->l.queued, r->l.backlog);
	snprintf(c->peak, sizeof(c->peak), "%u", r->peak_queued);
	snprintf(c->half, sizeof(c->half), "%u (%u)", r->l.syn_recv, r->peak_syn_recv);
	snprintf(c->rate, sizeof(c->rate), "%.1f", r->drops_rate);
	owner_cell(r, c->own, sizeof(c->own));
}

static void widen(int *w, const char *cell)
{
	int n = (int)strlen(cell);

	if (n > *w)
		*w = n;
}

void watch_render_text(const struct qt_ctx *ctx, FILE *f, const struct watch_state *w)
{
	const char *yellow = output_color(ctx->color, OUT_YELLOW), *reset = output_color(ctx->color, OUT_RESET);
	struct watch_cells c;
	int wd[NCOLS];

	fprintf(f, "qtune watch: sample %u, %.1f s", w->samples, elapsed(w));
	if (w->have_tcpext)
		fprintf(f, "; namespace: ListenOverflows %.1f/s, ListenDrops %.1f/s, SyncookiesSent %.1f/s",
			w->tcpext_rate[WATCH_LISTEN_OVERFLOWS], w->tcpext_rate[WATCH_LISTEN_DROPS],
			w->tcpext_rate[WATCH_SYNCOOKIES_SENT]);
	fputc('\n', f);
	for (int k = 0; k < NCOLS; k++)
		wd[k] = (int)strlen(watch_heads[k]);
	wd[COL_BAR] = WATCH_BAR_WIDTH + 2 > wd[COL_BAR] ? WATCH_BAR_WIDTH + 2 : wd[COL_BAR];
	/* Two passes over the rows: one for the column widths, one to print. */
	for (size_t i = 0; i < w->n; i++) {
		row_cells(&w->rows[i], &c);
		widen(&wd[COL_EP], c.ep);
		widen(&wd[COL_Q], c.q);
		widen(&wd[COL_PEAK], c.peak);
		widen(&wd[COL_HALF], c.half);
		widen(&wd[COL_RATE], c.rate);
	}
	fprintf(f, "%-*s  %-*s  %*s  %*s  %*s  %*s  %s\n", wd[COL_EP], watch_heads[COL_EP],
		wd[COL_BAR], watch_heads[COL_BAR], wd[COL_Q], watch_heads[COL_Q], wd[COL_PEAK],
		watch_heads[COL_PEAK], wd[COL_HALF], watch_heads[COL_HALF], wd[COL_RATE],
		watch_heads[COL_RATE], watch_heads[COL_OWN]);
	for (size_t i = 0; i < w->n; i++) {
		const struct watch_row *r = &w->rows[i];
		bool hot = r->drops_rate > 0;

		row_cells(r, &c);
		fprintf(f, "%-*s  %-*s  %*s  %*s  %*s  %s%*s%s  %s\n", wd[COL_EP], c.ep, wd[COL_BAR],
			c.bar, wd[COL_Q], c.q, wd[COL_PEAK], c.peak, wd[COL_HALF], c.half,
			hot ? yellow : "", wd[COL_RATE], c.rate, hot ? reset : "", c.own);
	}
}

static void listener_members(struct jw *jw, const struct watch_row *r)
{
	jw_kstring(jw, "family", r->l.family == AF_INET6 ? "ipv6" : "ipv4");
	jw_kstring(jw, "address", r->l.addr);
	jw_kint(jw, "port", r->l.port);
	jw_kstring(jw, "interface", r->l.ifname[0] ? r->l.ifname : NULL);
	jw_kint(jw, "inode", r->l.inode);
	jw_kint(jw, "backlog", r->l.backlog);
	jw_kint(jw, "queued", r->l.queued);
	jw_kint(jw, "queued_peak", r->peak_queued);
	jw_kint(jw, "syn_recv", r->l.syn_recv);
	jw_kint(jw, "syn_recv_peak", r->peak_syn_recv);
	jw_key(jw, "drops");
	if (r->l.drops_known)
		jw_int(jw, r->l.drops);
	else
		jw_null(jw);
	jw_kint(jw, "window_drops", (int64_t)r->window_drops);
	jw_key(jw, "drops_per_second");
	jw_double(jw, r->drops_rate);
	jw_key(jw, "owner");
	if (r->owners_known && r->nowners) {
		jw_object_begin(jw);
		jw_kint(jw, "pid", r->owner.pid);
		jw_kstring(jw, "comm", r->owner.comm);
		jw_kstring(jw, "unit", r->owner.unit[0] ? r->owner.unit : NULL);
		jw_object_end(jw);
	} else {
		jw_null(jw);
	}
}

static void tcpext_members(struct jw *jw, const struct watch_state *w)
{
	jw_key(jw, "tcpext_per_second");
	if (!w->have_tcpext) {
		jw_null(jw);
		return;
	}
	jw_object_begin(jw);
	for (int k = 0; k < WATCH_TCPEXT; k++) {
		jw_key(jw, watch_tcpext_names[k]);
		jw_double(jw, w->tcpext_rate[k]);
	}
	jw_object_end(jw);
}

void watch_render_json_line(const struct qt_ctx *ctx, FILE *f, const struct watch_state *w)
{
	struct jw jw;

	jw_init(&jw, f);
	jw_object_begin(&jw);
	output_json_header(&jw, "watch", ctx->kernel_release,
			   (struct output_netns){ ctx->netns_inode, ctx->netns_initial, ctx->netns_label });
	jw_kstring(&jw, "type", "sample");
	jw_kint(&jw, "sample", w->samples);
	jw_key(&jw, "elapsed_seconds");
	jw_double(&jw, elapsed(w));
	tcpext_members(&jw, w);
	jw_key(&jw, "listeners");
	jw_array_begin(&jw);
	for (size_t i = 0; i < w->n; i++) {
		jw_object_begin(&jw);
		listener_members(&jw, &w->rows[i]);
		jw_object_end(&jw);
	}
	jw_array_end(&jw);
	jw_object_end(&jw);      /* the outermost end writes the newline */
	fflush(f);
}

void watch_render_summary_text(const struct qt_ctx *ctx, FILE *f, const struct watch_state *w)
{
	char ep[INET6_ADDRSTRLEN + IF_NAMESIZE + 16];
	size_t dropping = 0;

	fprintf(f, "\nsummary of %u samples over %.1f s", w->samples, elapsed(w));
	if (w->have_tcpext && w->samples > 1)
		fprintf(f, "; namespace ListenOverflows +%llu, ListenDrops +%llu, SyncookiesSent +%llu",
			(unsigned long long)(w->tcpext_now[0] - w->tcpext_first[0]),
			(unsigned long long)(w->tcpext_now[1] - w->tcpext_first[1]),
			(unsigned long long)(w->tcpext_now[2] - w->tcpext_first[2]));
	fputs(":\n", f);
	for (size_t i = 0; i < w->n; i++) {
		const struct watch_row *r = &w->rows[i];
		const char *advice = watch_advice(w, r);

		listeners_format_endpoint(&r->l, ep, sizeof(ep));
		fprintf(f, "%s: peak queue %u of backlog %u, peak half-open %u, %llu dropped%s%s\n", ep,
			r->peak_queued, r->l.backlog, r->peak_syn_recv,
			(unsigned long long)r->window_drops, advice ? ": " : "", advice ? advice : "");
		dropping += advice != NULL;
	}
	if (!dropping)
		fputs("no listener dropped a connection during the window\n", f);
	(void)ctx;
}

void watch_render_summary_json(struct jw *jw, const struct watch_state *w)
{
	jw_kstring(jw, "type", "summary");
	jw_kint(jw, "samples", w->samples);
	jw_key(jw, "elapsed_seconds");
	jw_double(jw, elapsed(w));
	jw_key(jw, "listeners");
	jw_array_begin(jw);
	for (size_t i = 0; i < w->n; i++) {
		const struct watch_row *r = &w->rows[i];

		jw_object_begin(jw);
		listener_members(jw, r);
		jw_kstring(jw, "advice", watch_advice(w, r));
		jw_object_end(jw);
	}
	jw_array_end(jw);
}
