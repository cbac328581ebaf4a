/* cmd_watch: `qtune watch [PROFILE]` — the listeners' queues and drops,
 * sampled every --interval seconds (default 1) until interrupted or
 * --count samples, then the summary of the window. On a terminal each frame
 * is redrawn in place on the alternate screen with plain ANSI sequences (a
 * table needs home, clear and cursor visibility, not curses: no new
 * dependency, no terminfo lookups) and the terminal is restored on SIGINT,
 * SIGTERM, SIGHUP and SIGQUIT; elsewhere one block per sample; with --json one document
 * per line. Owners are looked up once per listener: on the first sample,
 * then only for listeners that appear later, by the owner walker main
 * forked before Landlock (audit_prescan), so watch runs confined.
 * Under --all-netns (allnetns_watch.c) the parent paces the samples of
 * every namespace's watch and frames their output (ctx->watch_paced), and
 * the first sample is the parent's dump, whose owners its one walk for
 * every namespace found. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "cmd_common.h"
#include "commands.h"
#include "listeners.h"
#include "netstat.h"
#include "output.h"
#include "sysctl.h"
#include "util.h"
#include "watch.h"
#include "watch_report.h"

#define ALT_SCREEN_ON "\033[?1049h\033[?25l"   /* alternate screen, cursor hidden */
#define ALT_SCREEN_OFF "\033[?25h\033[?1049l"
#define FRAME_START "\033[H\033[J"               /* home, clear to the end */

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Every signal that ends watch by default from a terminal or a manager:
 * each must give the terminal back (a hangup, ^\\, as well as ^C). */
static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

/* Handlers without SA_RESTART, so a sleep or a read ends on the signal. */
static void catch_stop_signals(struct sigaction old[])
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(stop_signals); i++)
		sigaction(stop_signals[i], &sa, &old[i]);
}

/* Drops the listeners on ports the profile ignores. */
static void drop_ignored(struct listener_set *set, const struct profile *p)
{
	size_t k = 0;

	if (!p || !p->nignore)
		return;
	for (size_t i = 0; i < set->n; i++) {
		bool ignored = false;

		for (size_t j = 0; j < p->nignore; j++)
			ignored |= p->ignore[j] == set->v[i].port;
		if (!ignored)
			set->v[k++] = set->v[i];
	}
	set->n = k;
}

/* The owners of the rows not looked up yet: one walk for all of them,
 * over a set that holds only those listeners. */
static void attribute_new(struct qt_ctx *ctx, struct watch_state *w)
{
	struct listener_set fresh = { 0 };
	size_t *row = xcalloc(w->n ? w->n : 1, sizeof(*row));

	fresh.v = xcalloc(w->n ? w->n : 1, sizeof(*fresh.v));
	for (size_t i = 0; i < w->n; i++) {
		if (w->rows[i].owners_looked_up)
			continue;
		row[fresh.n] = i;
		fresh.v[fresh.n++] = w->rows[i].l;
	}
	fresh.cap = fresh.n;
	if (fresh.n && audit_attribute(ctx, &fresh, NULL) == 0)
		for (size_t k = 0; k < fresh.n; k++)
			watch_set_owners(w, row[k], &fresh, k);
	listener_set_free(&fresh);
	free(row);
}

/* The first sample of an --all-netns watch: the parent's dump, with the
 * owners its walk found (NULL otherwise: watch dumps its own). */
static struct listener_set *prewalked(struct qt_ctx *ctx)
{
	struct listener_set *set = ctx->owners_scan;

	if (!set || !ctx->owners_prewalked || ctx->owners_scan_result < 0)
		return NULL;
	ctx->owners_scan = NULL;
	return set;
}

static int take_sample(struct qt_ctx *ctx, const struct profile *p, struct watch_state *w)
{
	struct listener_set set = { 0 }, *first = prewalked(ctx);
	struct netstat_counter c[NETSTAT_COUNTERS];
	uint64_t tcpext[WATCH_TCPEXT];
	bool have = netstat_read(ctx, c) == 0;
	int r = 0;

	if (first) {
		set = *first;
		free(first);
	} else {
		r = listeners_dump(ctx, &set, &ctx->diags);
	}
	if (r < 0)
		return r;
	for (int k = 0; k < WATCH_TCPEXT; k++) {
		bool found = false;

		for (size_t j = 0; j < netstat_count; j++)
			if (strcmp(c[j].name, watch_tcpext_names[k]) == 0 && c[j].present) {
				tcpext[k] = c[j].value;
				found = true;
			}
		have &= found;
	}
	drop_ignored(&set, p);
	watch_update(w, &set, have ? tcpext : NULL);
	for (size_t i = 0; i < set.n; i++)
		if (set.v[i].owners_looked_up)
			watch_set_owners(w, i, &set, i);
	listener_set_free(&set);
	attribute_new(ctx, w);
	return 0;
}

/* Waits for the parent's go for the next sample: false when it says the
 * watch is over (end of file, or an error: it is gone). */
static bool paced_go(struct qt_ctx *ctx)
{
	char c;
	ssize_t n;

	while ((n = read(ctx->watch_pace_fd, &c, 1)) < 0 && errno == EINTR)
		;
	return n == 1;
}

enum qt_level cmd_watch(struct qt_ctx *ctx, const struct cmd_args *args)
{
	struct profile *p = NULL;
	struct watch_state w = { 0 };
	struct queue_limits k;
	struct sigaction old_stop[ARRAY_SIZE(stop_signals)];
	int64_t interval = 1, count = 0;
	enum qt_level worst = QT_LEVEL_OK;
	bool json = ctx->output == QT_OUT_JSON;
	bool tty = !json && isatty(fileno(ctx->out));
	struct jw jw;

	if (cmd_option_count(ctx, args, CMD_OPT_INTERVAL, CMD_INTERVAL_MAX, &interval) < 0 ||
	    cmd_option_count(ctx, args, CMD_OPT_COUNT_N, CMD_COUNT_MAX, &count) < 0 ||
	    (args->argc > 1 && cmd_load_profile(ctx, args->argv[1], QT_LEVEL_WARN, &p) < 0)) {
		worst = QT_LEVEL_ERROR;
		goto summary;
	}
	/* main's dump before confining: watch takes its own samples (but
	 * the first of an --all-netns watch, see prewalked). */
	if (ctx->owners_scan && !ctx->owners_prewalked) {
		listener_set_free(ctx->owners_scan);
		free(ctx->owners_scan);
		ctx->owners_scan = NULL;
	}
	sysctl_read_limits(ctx->procsys_fd, &k, &ctx->diags);
	w.somaxconn = k.have_somaxconn ? k.somaxconn : 0;
	stop_requested = 0;
	if (!ctx->watch_paced)
		catch_stop_signals(old_stop);
	if (tty)
		fputs(ALT_SCREEN_ON, ctx->out);
	while (!stop_requested) {
		if (ctx->watch_paced && !paced_go(ctx))
			break;
		if (take_sample(ctx, p, &w) < 0) {
			worst = QT_LEVEL_ERROR;
			break;
		}
		if (json) {
			watch_render_json_line(ctx, ctx->out, &w);
		} else {
			if (tty)
				fputs(FRAME_START, ctx->out);
			else if (w.samples > 1 && !ctx->watch_paced)
				fputc('\n', ctx->out);
			watch_render_text(ctx, ctx->out, &w);
		}
		if (ctx->watch_paced) {
			fputc('\0', ctx->out);   /* the parent counts the samples */
			fflush(ctx->out);
			continue;
		}
		fflush(ctx->out);
		if (count && w.samples >= (uint64_t)count)
			break;
		cmd_sleep((double)interval, &stop_requested);
	}
	if (tty)
		fputs(ALT_SCREEN_OFF, ctx->out);
	if (!ctx->watch_paced) {
		for (size_t i = 0; i < ARRAY_SIZE(stop_signals); i++)
			sigaction(stop_signals[i], &old_stop[i], NULL);
	}
summary:
	/* The run's own document (main opens none for watch): the summary,
	 * with the messages, as the last line. */
	if (json) {
		jw_init(&jw, ctx->out);
		jw_object_begin(&jw);
		output_json_header(&jw, "watch", ctx->kernel_release,
				   (struct output_netns){ ctx->netns_inode, ctx->netns_initial, ctx->netns_label });
		watch_render_summary_json(&jw, &w);
		output_json_diags(&jw, &ctx->diags);
		jw_object_end(&jw);
	} else if (w.samples) {
		watch_render_summary_text(ctx, ctx->out, &w);
	}
	watch_state_free(&w);
	profile_free(p);
	return worst;
}
