/* allnetns_watch: `watch --all-netns`, every namespace's listeners in one
 * live view. The parent gathers as for `listeners --all-netns` (the
 * namespaces, each one's dump, one owner walk for all), then forks one
 * confined child per namespace that runs watch there for the whole window
 * (owners of listeners that appear later looked up by its own walker, as
 * watch does), paced by the parent: every interval the parent asks each
 * child for a sample and prints the frames together, a section per
 * namespace under its label (text; redrawn in place on a terminal), or one
 * JSON line whose "namespaces" array holds each child's sample document.
 * A namespace that vanishes is reported once and dropped. At the end each
 * child prints its summary, the parent the summary table. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "allnetns.h"
#include "allnetns_int.h"
#include "cmd_common.h"
#include "netns_report.h"
#include "output.h"
#include "run.h"
#include "util.h"

#define ALT_SCREEN_ON "\033[?1049h\033[?25l"   /* as cmd_watch.c draws one namespace */
#define ALT_SCREEN_OFF "\033[?25h\033[?1049l"
#define FRAME_START "\033[H\033[J"
#define FRAME_MAX (64u << 20)                   /* bytes of one child's frame */

/* One namespace of the watch. */
struct member {
	struct ns_child ch;
	enum { M_IDLE, M_LIVE, M_GONE } state;  /* IDLE: never entered; GONE: reported, dropped */
	bool report_now;        /* unentered or vanished: reported in the next frame */
	int err;                /* why (-errno) */
	char *frame;            /* its latest frame (a sample, or at the end its summary) */
	size_t len, cap;
};

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Reads the child's next frame, up to the NUL that ends it: 1, or 0 at
 * end of file (what came before it is in m->frame: the summary), or
 * -errno. */
static int read_frame(struct member *m)
{
	m->len = 0;
	for (;;) {
		char *nul;
		ssize_t n;

		if (m->cap - m->len < 4096) {
			if (m->cap >= FRAME_MAX)
				return -EMSGSIZE;
			m->cap = m->cap ? m->cap * 2 : 16384;
			m->frame = xreallocarray(m->frame, m->cap, 1);
		}
		n = read(m->ch.out, m->frame + m->len, m->cap - m->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {
			m->frame[m->len] = '\0';
			return 0;
		}
		/* A child writes nothing after its NUL until it is paced again. */
		nul = memchr(m->frame + m->len, '\0', (size_t)n);
		m->len += (size_t)n;
		if (nul) {
			m->len = (size_t)(nul - m->frame);
			m->frame[m->len] = '\0';
			return 1;
		}
	}
}

static void stop_child(struct member *m);
static void drain_and_reap(struct qt_ctx *ctx, const struct command *cmd, struct allnetns *an,
			   size_t i, struct member *m);

/* The namespaces no way of the scan's reaches any more (their /run/netns
 * names, the runtime's bind mounts, every process and thread seen in
 * them: netns_entry_open): their child is told to stop and reaped, and
 * they are reported in the next frame. The child itself keeps the
 * namespace alive, so asking it would prove nothing. */
static void find_vanished(struct qt_ctx *ctx, const struct command *cmd, struct allnetns *an,
			  struct member *m)
{
	for (size_t i = 0; i < an->list.n; i++) {
		int fd, r;

		if (m[i].state != M_LIVE)
			continue;
		r = netns_entry_open(&an->list.v[i], &fd);
		if (r == 0) {
			close(fd);
			continue;
		}
		if (r != -ENOENT && r != -ESTALE)
			continue;
		stop_child(&m[i]);
		drain_and_reap(ctx, cmd, an, i, &m[i]);
		m[i].state = M_GONE;
		m[i].report_now = true;
		m[i].err = r;
	}
}

/* Asks every live child for a sample, then reads each one's frame. A
 * child that ends instead is reaped and reported. */
static void sample_all(struct qt_ctx *ctx, const struct command *cmd, struct allnetns *an,
		       struct member *m)
{
	for (size_t i = 0; i < an->list.n; i++)
		if (m[i].state == M_LIVE && write(m[i].ch.pace, "s", 1) != 1)
			m[i].len = 0;    /* it is gone: the read below says so */
	for (size_t i = 0; i < an->list.n; i++) {
		int r;

		if (m[i].state != M_LIVE || (r = read_frame(&m[i])) == 1)
			continue;
		diags_error(&ctx->diags, "netns %llu (%s): its watch ended early%s%s",
			    (unsigned long long)an->list.v[i].inode, an->list.v[i].label.text,
			    r < 0 ? ": " : "", r < 0 ? strerror(-r) : "");
		allnetns_reap(ctx, cmd, an, i, &m[i].ch);
		m[i].state = M_GONE;
	}
}

/* A frame's text without the newline that ends a JSON line. */
static size_t json_len(const struct member *m)
{
	size_t n = m->len;

	while (n && (m->frame[n - 1] == '\n'))
		n--;
	return n;
}

/* One JSON line: every live namespace's document, and those to report. */
static void render_json(struct qt_ctx *ctx, const struct command *cmd, struct allnetns *an,
			struct member *m, unsigned sample)
{
	struct jw w;

	jw_init(&w, ctx->out);
	jw_object_begin(&w);
	output_json_header(&w, cmd->name, ctx->kernel_release,
			   (struct output_netns){ ctx->netns_inode, ctx->netns_initial, NULL });
	jw_kbool(&w, "all_netns", true);
	jw_kstring(&w, "type", "sample");
	jw_kint(&w, "sample", sample);
	jw_key(&w, "namespaces");
	jw_array_begin(&w);
	for (size_t i = 0; i < an->list.n; i++) {
		if (m[i].state == M_LIVE) {
			jw_external_element(&w);
			fwrite(m[i].frame, 1, json_len(&m[i]), ctx->out);
		} else if (m[i].report_now) {
			ctx->json = &w;
			allnetns_report_unentered(ctx, cmd, &an->list.v[i], m[i].err, sample > 1,
						  &an->rows[i]);
			ctx->json = NULL;
			m[i].report_now = false;
		}
	}
	jw_array_end(&w);
	jw_object_end(&w);
}

/* Lines in n bytes of text. */
static size_t lines_of(const char *t, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += t[i] == '\n';
	return k;
}

/* A section per namespace: its header, its frame (or why it is not
 * there, once). rows > 0 (a terminal that tall): the sections that fit,
 * then a line saying how many did not, so that a redraw never scrolls;
 * a namespace reported meanwhile is counted all the same. */
static void render_text(struct qt_ctx *ctx, const struct command *cmd, struct allnetns *an,
			struct member *m, unsigned sample, size_t rows)
{
	size_t used = 0, hidden = 0;
	FILE *shown = ctx->out;

	for (size_t i = 0; i < an->list.n; i++) {
		size_t need;

		if (m[i].state != M_LIVE && !m[i].report_now)
			continue;
		need = (used ? 1 : 0) + 1 + (m[i].state == M_LIVE ? lines_of(m[i].frame, m[i].len) : 2);
		if (rows && used && (hidden || used + need + 1 > rows)) {
			FILE *sink = m[i].state == M_LIVE ? NULL : fopen("/dev/null", "we");

			hidden++;
			if (m[i].state == M_LIVE)
				continue;
			ctx->out = sink ? sink : shown;   /* reported and counted, not shown */
		} else {
			if (used)
				fputc('\n', ctx->out);
			used += need;
			netns_render_header(ctx->out, ctx->color, &an->rows[i]);
			if (m[i].state == M_LIVE) {
				fwrite(m[i].frame, 1, m[i].len, ctx->out);
				continue;
			}
		}
		allnetns_report_unentered(ctx, cmd, &an->list.v[i], m[i].err, sample > 1, &an->rows[i]);
		m[i].report_now = false;
		if (ctx->out != shown) {
			fclose(ctx->out);
			ctx->out = shown;
		}
	}
	if (hidden)
		fprintf(ctx->out, "(%zu more namespace%s below: a taller terminal shows them; --json has all)\n",
			hidden, hidden == 1 ? "" : "s");
}

/* The height of the terminal f is, 0 when unknown. */
static size_t terminal_rows(FILE *f)
{
	struct winsize ws;

	return ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 ? ws.ws_row : 0;
}

/* Tells the child of m the watch is over: its pace pipe closes. */
static void stop_child(struct member *m)
{
	if (m->ch.pace >= 0)
		close(m->ch.pace);
	m->ch.pace = -1;
}

/* Reads what it writes until it exits (its summary stays in m->frame;
 * a sample it took before it saw the end is superseded), then reaps it. */
static void drain_and_reap(struct qt_ctx *ctx, const struct command *cmd, struct allnetns *an,
			   size_t i, struct member *m)
{
	while (read_frame(m) == 1)
		;
	allnetns_reap(ctx, cmd, an, i, &m->ch);
}

/* Tells every live child the watch is over, all at once (they write
 * their summaries together), and reads each one's. */
static void collect_summaries(struct qt_ctx *ctx, const struct command *cmd, struct allnetns *an,
			      struct member *m)
{
	for (size_t i = 0; i < an->list.n; i++)
		if (m[i].state == M_LIVE)
			stop_child(&m[i]);
	for (size_t i = 0; i < an->list.n; i++)
		if (m[i].state == M_LIVE)
			drain_and_reap(ctx, cmd, an, i, &m[i]);
}

/* The last line (JSON) or the summaries and the table (text). */
static void render_summary(struct qt_ctx *ctx, const struct command *cmd, struct allnetns *an,
			   struct member *m, unsigned samples, struct jw *w)
{
	if (ctx->output == QT_OUT_JSON) {
		run_document_open(ctx, w, cmd);
		jw_kbool(w, "all_netns", true);
		jw_kstring(w, "type", "summary");
		jw_kint(w, "samples", samples);
		jw_key(w, "namespaces");
		jw_array_begin(w);
		for (size_t i = 0; m && i < an->list.n; i++) {
			if (m[i].state == M_LIVE && json_len(&m[i])) {
				jw_external_element(w);
				fwrite(m[i].frame, 1, json_len(&m[i]), ctx->out);
			}
		}
		jw_array_end(w);
		netns_render_summary_json(w, an->rows, an->list.n);
		return;
	}
	if (ctx->verbosity < 0 || !m)
		return;
	for (size_t i = 0; i < an->list.n; i++) {
		if (m[i].state != M_LIVE || !m[i].len)
			continue;
		fputc('\n', ctx->out);
		netns_render_header(ctx->out, ctx->color, &an->rows[i]);
		fwrite(m[i].frame, 1, m[i].len, ctx->out);
	}
	fputc('\n', ctx->out);
	netns_render_summary(ctx->out, ctx->color, an->rows, an->list.n);
}

/* Forks a watching child for every namespace that was entered. */
static void spawn_all(struct qt_ctx *ctx, const struct command *cmd, const struct cmd_args *args,
		      struct allnetns *an, struct member *m)
{
	for (size_t i = 0; i < an->list.n; i++) {
		m[i].ch = (struct ns_child){ -1, -1, -1, -1 };
		if (an->runs[i].err < 0) {
			m[i].state = M_IDLE;
			m[i].report_now = true;
			m[i].err = an->runs[i].err;
			continue;
		}
		m[i].state = allnetns_spawn(ctx, cmd, args, an, i, NS_CHILD_CAPTURE | NS_CHILD_PACED,
					    &m[i].ch) == 0 ? M_LIVE : M_GONE;
	}
}

/* Whether a namespace is still watched: with none left, the window ends
 * (every one vanished or could not be entered; each was reported). */
static bool any_live(const struct allnetns *an, const struct member *m)
{
	for (size_t i = 0; i < an->list.n; i++)
		if (m[i].state == M_LIVE)
			return true;
	return false;
}

/* The window: a frame every interval until the count, a signal, or no
 * namespace left to watch. */
static unsigned watch_window(struct qt_ctx *ctx, const struct command *cmd, struct allnetns *an,
			     struct member *m, double interval, int64_t count)
{
	bool tty = ctx->output == QT_OUT_TEXT && isatty(fileno(ctx->out));
	unsigned samples = 0;

	if (tty)
		fputs(ALT_SCREEN_ON, ctx->out);
	while (!stop_requested) {
		find_vanished(ctx, cmd, an, m);
		sample_all(ctx, cmd, an, m);
		samples++;
		if (ctx->output == QT_OUT_JSON) {
			render_json(ctx, cmd, an, m, samples);
		} else if (ctx->verbosity >= 0) {
			fputs(tty ? FRAME_START : samples > 1 ? "\n" : "", ctx->out);
			render_text(ctx, cmd, an, m, samples, tty ? terminal_rows(ctx->out) : 0);
		}
		fflush(ctx->out);
		if ((count && samples >= (uint64_t)count) || !any_live(an, m))
			break;
		cmd_sleep(interval, &stop_requested);
	}
	if (tty)
		fputs(ALT_SCREEN_OFF, ctx->out);
	return samples;
}

int allnetns_watch(struct qt_ctx *ctx, const struct command *cmd, const struct cmd_args *args)
{
	struct allnetns an = { 0 };
	struct member *m = NULL;
	struct sigaction sa, old_int, old_term, old_hup, old_quit, old_pipe;
	int64_t interval = 1, count = 0;
	enum qt_level worst = QT_LEVEL_OK;
	unsigned samples = 0;
	struct jw w;

	if (cmd_option_count(ctx, args, CMD_OPT_INTERVAL, CMD_INTERVAL_MAX, &interval) < 0 ||
	    cmd_option_count(ctx, args, CMD_OPT_COUNT_N, CMD_COUNT_MAX, &count) < 0 ||
	    allnetns_gather(ctx, cmd, args, &an) < 0) {
		worst = QT_LEVEL_ERROR;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;   /* no SA_RESTART: the sleep ends on ^C */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);   /* each gives the terminal back, as in cmd_watch.c */
	sigaction(SIGQUIT, &sa, &old_quit);
	sa.sa_handler = SIG_IGN;   /* a child that died: its write fails, its read ends */
	sigaction(SIGPIPE, &sa, &old_pipe);
	m = xcalloc(an.list.n, sizeof(*m));
	spawn_all(ctx, cmd, args, &an, m);
	samples = watch_window(ctx, cmd, &an, m, (double)interval, count);
	collect_summaries(ctx, cmd, &an, m);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	sigaction(SIGPIPE, &old_pipe, NULL);
	for (size_t i = 0; i < an.list.n; i++)
		if (m[i].state == M_LIVE && run_level_of_exit(an.rows[i].exit_code) > worst)
			worst = run_level_of_exit(an.rows[i].exit_code);
out:
	render_summary(ctx, cmd, &an, m, samples, &w);
	for (size_t i = 0; m && i < an.list.n; i++)
		free(m[i].frame);
	free(m);
	allnetns_free(&an);
	return run_finish(ctx, worst > diags_worst(&ctx->diags) ? worst : diags_worst(&ctx->diags));
}
