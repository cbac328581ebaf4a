/* allnetns: `show`, `check` and `listeners` with --all-netns: every
 * network namespace of the host audited as --netns would audit it, in one
 * run and one output: find them, dump each one's listeners, one owner walk
 * over /proc for all, a confined child per namespace that runs the command
 * there, the merged output and the summary, the worst exit status.
 *
 * The parent keeps CAP_SYS_ADMIN (setns) and the owner-walk capabilities,
 * and does only what needs them: it finds the namespaces, enters each to
 * dump its listeners, walks /proc once for the owners of all of them, and
 * forks one child per namespace. The child enters it, drops every
 * capability its command's row does not keep, applies Landlock and runs
 * the command as a --netns run does, writing its section (text), its
 * document (JSON, into the parent's "namespaces" array) or its metrics
 * (into a pipe; the parent merges the families) and a short result for
 * the summary. The parent parses nothing but that result.
 *
 * Where the time goes (bench/allnetns.sh, 100 namespaces): each dump is
 * the kernel walking the host-wide TCP hash tables (~1.3 ms a namespace,
 * whatever it holds, mostly the established hash walked for the half-open
 * requests), then a child per namespace (~0.8 ms: fork, privilege drop,
 * Landlock, render, exit). The dumps run on every CPU (threads: setns is
 * per thread), and the children run as many at once as there are CPUs,
 * their output read back through a pipe and printed in the scan's order.
 * A child per namespace stays: it is what drops every privilege before
 * anything of that namespace is parsed or rendered (its sysctls, the
 * profile of check, the owners' names), and a child can enter only one
 * namespace, since entering another needs the CAP_SYS_ADMIN it gave up. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "allnetns.h"
#include "allnetns_int.h"
#include "caps.h"
#include "cgroup.h"
#include "listeners.h"
#include "netns.h"
#include "netns_report.h"
#include "netns_scan.h"
#include "output.h"
#include "owners.h"
#include "owners_walker.h"
#include "prometheus.h"
#include "run.h"
#include "sysctl.h"
#include "util.h"

/* What a child tells the parent besides its output. */
/* Sent whole over a pipe: no member leaves padding (the bytes written are
 * all initialised). */
struct ns_result {
	int64_t somaxconn;
	int64_t findings;
	int64_t exit_code;
};

static const char *verdict_of(const struct command *cmd, int code)
{
	switch (code) {
	case 0: return cmd->run == cmd_check ? "compliant" : "ok";
	case 1: return "drift";
	case 3: return "fatal";
	}
	return "error";
}

/* The diagnostics of one namespace's run say which one on stderr. */
static void diags_prefix(struct qt_diags *d, uint64_t inode, const char *label)
{
	for (size_t i = 0; i < d->n; i++) {
		char *m = xasprintf("netns %llu (%s): %s", (unsigned long long)inode, label, d->v[i].msg);

		free(d->v[i].msg);
		d->v[i].msg = m;
	}
}

/* The child: main's own steps, in the namespace the parent opened. */
static int run_in_netns(struct qt_ctx *c, const struct command *cmd, const struct cmd_args *args,
			struct ns_result *res)
{
	struct run_delivery dv = { 0 };
	struct queue_limits k;
	struct qt_diags ignored = { 0 };
	enum qt_level worst;
	char kept[256];
	struct jw w;
	int r = run_prepare(c, NULL);

	if (r < 0 || !(cmd->flags & JSON_LINES))
		run_document_open(c, &w, cmd);
	if (r < 0)
		goto fail;
	if (sysctl_read_limits(c->procsys_fd, &k, &ignored) == 0 && k.have_somaxconn)
		res->somaxconn = k.somaxconn;
	diags_free(&ignored);
	if (caps_restrict(cmd->caps, kept, sizeof(kept), &c->diags) < 0)
		goto fail;
	/* A watch names the owners of the listeners that appear later as a
	 * watch does: through a walker forked before Landlock. */
	if (c->watch_paced && (cmd->caps & CAPS_OWNERS))
		listeners_walker_start(c, &c->owners_walker);
	if (run_confine(c, cmd, args, NULL) < 0 || run_delivery_begin(c, &dv, NULL) < 0)
		goto fail;
	worst = cmd->run(c, args);
	worst = run_delivery_end(c, &dv, worst);
	if (diags_worst(&c->diags) > worst)
		worst = diags_worst(&c->diags);
	res->findings = c->audit_findings;
	run_document_close(c);
	diags_prefix(&c->diags, c->netns_inode, c->netns_label);
	return run_finish(c, worst);
fail:
	run_document_close(c);
	diags_prefix(&c->diags, c->netns_inode, c->netns_label);
	return run_finish(c, QT_LEVEL_ERROR);
}

static void child_ctx(const struct qt_ctx *ctx, const struct netns_entry *e, struct qt_ctx *c)
{
	*c = (struct qt_ctx){ .root = ctx->root, .procsys_fd = -1, .proc_fd = -1, .netns_initial = -1,
			      .out = stdout, .output = ctx->output, .verbosity = ctx->verbosity,
			      .color = ctx->color, .audit_findings = -1, .netns_label = e->label.text,
			      .owner_jobs = ctx->owner_jobs };
	memcpy(c->kernel_release, ctx->kernel_release, sizeof(c->kernel_release));
}

/* Closes every descriptor above stderr but a and b (-1: none). */
static void keep_only(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;

	if (lo < 0)
		lo = hi;
	if (lo < 0) {
		close_range(3, ~0u, 0);
		return;
	}
	if (lo > 3)
		close_range(3, (unsigned)lo - 1, 0);
	if (hi > lo + 1)
		close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
	close_range((unsigned)hi + 1, ~0u, 0);
}

/* In the child: enter, take the parent's dump, run; never returns. */
static void child_main(struct qt_ctx *ctx, const struct command *cmd, const struct cmd_args *args,
		       struct allnetns *an, size_t i, int out, int pace, int result)
{
	struct ns_run *run = &an->runs[i];
	struct ns_result res = { -1, -1, 2 };
	struct qt_ctx c;
	int code;

	child_ctx(ctx, &an->list.v[i], &c);
	c.diags = run->diags;
	if ((code = netns_setns(run->fd)) < 0)
		diags_error(&c.diags, "cannot enter the namespace: %s", strerror(-code));
	if (out >= 0 && dup2(out, STDOUT_FILENO) < 0)
		_exit(2);
	/* Nothing of the parent's stays: no other namespace, and no pipe of
	 * another child (a watch ends each child by closing its pace pipe,
	 * which a sibling holding a copy would keep open). */
	keep_only(pace, result);
	if (pace >= 0) {
		/* The parent ends the watch, for every namespace at once: the
		 * terminal's ^C is its to handle. */
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGQUIT, SIG_IGN);
		c.watch_paced = true;
		c.watch_pace_fd = pace;
	}
	if (diags_worst(&c.diags) < QT_LEVEL_ERROR && (cmd->caps & CAPS_OWNERS)) {
		c.owners_scan = xmalloc(sizeof(*c.owners_scan));
		*c.owners_scan = an->sets[i];
		c.owners_scan_result = run->dump;
		c.owners_prewalked = an->walked && run->dump == 0;
	}
	code = diags_worst(&c.diags) >= QT_LEVEL_ERROR ? 2 : run_in_netns(&c, cmd, args, &res);
	res.exit_code = code;
	util_write_all(result, &res, sizeof(res));
	_exit(code);
}

int allnetns_spawn(struct qt_ctx *ctx, const struct command *cmd, const struct cmd_args *args,
		   struct allnetns *an, size_t i, unsigned how, struct ns_child *ch)
{
	const struct netns_entry *e = &an->list.v[i];
	int out[2] = { -1, -1 }, pace[2] = { -1, -1 }, rp[2] = { -1, -1 }, r;

	*ch = (struct ns_child){ -1, -1, -1, -1 };
	if (pipe2(rp, O_CLOEXEC) < 0 || ((how & NS_CHILD_CAPTURE) && pipe2(out, O_CLOEXEC) < 0) ||
	    ((how & NS_CHILD_PACED) && pipe2(pace, O_CLOEXEC) < 0)) {
		r = -errno;
		diags_error(&ctx->diags, "netns %llu (%s): %s", (unsigned long long)e->inode,
			    e->label.text, strerror(-r));
		goto fail;
	}
	fflush(stdout);
	ch->pid = fork();
	if (ch->pid == 0) {
		close(rp[0]);
		if (out[0] >= 0)
			close(out[0]);
		if (pace[1] >= 0)
			close(pace[1]);
		child_main(ctx, cmd, args, an, i, out[1], pace[0], rp[1]);
	}
	if (ch->pid < 0) {
		r = -errno;
		diags_error(&ctx->diags, "netns %llu (%s): cannot fork: %s", (unsigned long long)e->inode,
			    e->label.text, strerror(-r));
		goto fail;
	}
	close(rp[1]);
	if (out[1] >= 0)
		close(out[1]);
	if (pace[0] >= 0)
		close(pace[0]);
	ch->result = rp[0];
	ch->out = out[0];
	ch->pace = pace[1];
	return 0;
fail:
	for (int k = 0; k < 2; k++) {
		if (rp[k] >= 0)
			close(rp[k]);
		if (out[k] >= 0)
			close(out[k]);
		if (pace[k] >= 0)
			close(pace[k]);
	}
	ch->pid = -1;
	return r;
}

void allnetns_reap(struct qt_ctx *ctx, const struct command *cmd, struct allnetns *an, size_t i,
		   struct ns_child *ch)
{
	const struct netns_entry *e = &an->list.v[i];
	struct netns_row *row = &an->rows[i];
	struct ns_result res = { -1, -1, 2 };
	int status = 0;

	if (ch->pace >= 0)
		close(ch->pace);
	if (ch->out >= 0)
		close(ch->out);
	while (waitpid(ch->pid, &status, 0) < 0 && errno == EINTR)
		;
	if (read(ch->result, &res, sizeof(res)) != (ssize_t)sizeof(res) || res.exit_code < 0 ||
	    res.exit_code > 3)
		res = (struct ns_result){ -1, -1, 2 };
	close(ch->result);
	*ch = (struct ns_child){ -1, -1, -1, -1 };
	if (!WIFEXITED(status) || WEXITSTATUS(status) != res.exit_code) {
		diags_error(&ctx->diags, "netns %llu (%s): its audit ended abnormally (%s %d)",
			    (unsigned long long)e->inode, e->label.text,
			    WIFSIGNALED(status) ? "signal" : "status",
			    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		res.exit_code = 2;
	}
	row->somaxconn = res.somaxconn;
	row->findings = res.findings;
	row->exit_code = res.exit_code;
	row->verdict = verdict_of(cmd, res.exit_code);
}

/* What the child of namespace i printed, read back (bounded: the output
 * of a namespace with LISTENERS_MAX listeners) and kept (metrics, merged
 * at the end) or printed in its place; then its row. */
static void collect(struct qt_ctx *ctx, const struct command *cmd, struct allnetns *an, size_t i,
		    struct ns_child *ch)
{
	const struct netns_entry *e = &an->list.v[i];
	struct ns_run *run = &an->runs[i];
	char *buf = NULL;
	size_t len = 0;

	if (util_read_fd(ch->out, 256u << 20, &buf, &len) < 0)
		diags_error(&ctx->diags, "netns %llu (%s): its output could not be read",
			    (unsigned long long)e->inode, e->label.text);
	if (ctx->output == QT_OUT_PROMETHEUS) {
		run->prom = buf;
		run->prom_len = len;
		buf = NULL;
	} else if (len && fwrite(buf, 1, len, ctx->out) != len) {
		diags_error(&ctx->diags, "cannot write the output: %s", strerror(errno ? errno : EIO));
	}
	free(buf);
	allnetns_reap(ctx, cmd, an, i, ch);
}

enum qt_level allnetns_report_unentered(struct qt_ctx *ctx, const struct command *cmd,
					const struct netns_entry *e, int err, bool during_watch,
					struct netns_row *row)
{
	bool vanished = err == -ENOENT || err == -ESTALE;
	enum qt_level level = vanished ? QT_LEVEL_WARN : QT_LEVEL_ERROR;
	const char *gone = during_watch ? "vanished during the watch; dropped from it"
			 : "vanished before it could be audited";
	struct qt_diags one = { 0 };

	row->verdict = vanished ? "vanished" : "not entered";
	row->exit_code = vanished ? 0 : 2;
	row->error = !vanished ? strerror(-err) : during_watch ? "it vanished during the watch"
		     : "it vanished before it could be audited";
	diags_add(&one, level, NULL, 0, 0, "%s%s%s", vanished ? gone : "cannot enter: ",
		  vanished ? "" : strerror(-err), err == -EPERM ? " (needs CAP_SYS_ADMIN)" : "");
	if (ctx->json) {
		struct jw *w = ctx->json;

		jw_object_begin(w);
		output_json_header(w, cmd->name, ctx->kernel_release,
				   (struct output_netns){ e->inode, e->initial, e->label.text });
		output_json_diags(w, &one);
		jw_object_end(w);
	} else if (ctx->output == QT_OUT_TEXT && ctx->verbosity >= 0) {
		fprintf(ctx->out, "%s: %s\n\n", during_watch ? "not watched" : "not audited", one.v[0].msg);
	}
	diags_add(&ctx->diags, level, NULL, 0, 0, "netns %llu (%s): %s", (unsigned long long)e->inode,
		  e->label.text, one.v[0].msg);
	diags_free(&one);
	return level;
}

#ifdef QTUNE_TEST_HOOKS
/* Test build only: between the scan and the audits a named namespace
 * disappears, as `ip netns del` would remove it (QTUNE_TEST_VANISH), and
 * processes the scan saw exit (QTUNE_TEST_VANISH_PIDS, comma-separated),
 * each gone from /proc's view of namespaces before the audits begin. */
static void vanish_probe(void)
{
	const char *name = getenv("QTUNE_TEST_VANISH"), *pids = getenv("QTUNE_TEST_VANISH_PIDS");
	char *path;

	if (name) {
		path = xasprintf("%s/%s", NETNS_RUN_DIR, name);
		umount2(path, MNT_DETACH);
		unlink(path);
		free(path);
	}
	for (const char *p = pids; p && *p; p += strcspn(p, ","), p += *p == ',') {
		char one[16], ns[48];
		int64_t pid;
		int fd;

		snprintf(one, sizeof(one), "%.*s", (int)strcspn(p, ","), p);
		if (util_parse_i64(one, &pid) < 0 || pid <= 1 || pid > INT32_MAX || kill((pid_t)pid, SIGKILL) < 0)
			continue;
		snprintf(ns, sizeof(ns), "/proc/%d/ns/net", (int)pid);
		for (int tries = 0; tries < 500 && (fd = open(ns, O_RDONLY | O_CLOEXEC)) >= 0; tries++) {
			close(fd);
			usleep(10000);
		}
	}
}
#endif

/* Finds the namespaces, with the privileges the parent keeps for the
 * run. 0, or -1 with a diagnostic. */
static int enumerate(struct qt_ctx *ctx, struct allnetns *an)
{
	struct rlimit rl;
	char kept[256];

	/* One fd per namespace, held from its dump to its audit. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	ctx->proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctx->proc_fd < 0) {
		diags_error(&ctx->diags, "/proc is not mounted or not readable: %s", strerror(errno));
		return -1;
	}
	/* Reading another process's ns/net is a ptrace-read check: the scan
	 * needs CAPS_OWNERS whatever the command. */
	if (caps_restrict(CAPS_SETNS | CAPS_OWNERS, kept, sizeof(kept), &ctx->diags) < 0 ||
	    netns_scan(ctx->proc_fd, &an->list, &ctx->diags) < 0)
		return -1;
	if (ctx->verbosity > 0)
		fprintf(stderr, "qtune: --all-netns: %zu network namespaces; the parent keeps %s\n",
			an->list.n, kept);
	ctx->netns_inode = an->list.v[0].inode;
	ctx->netns_initial = an->list.v[0].initial ? 1 : -1;
#ifdef QTUNE_TEST_HOOKS
	vanish_probe();
#endif
	an->runs = xcalloc(an->list.n, sizeof(*an->runs));
	an->sets = xcalloc(an->list.n, sizeof(*an->sets));
	an->rows = xcalloc(an->list.n, sizeof(*an->rows));
	an->inodes = xcalloc(an->list.n, sizeof(*an->inodes));
	return 0;
}

/* Enters namespace i on this thread (its fd stays open for its child) and
 * dumps its listeners; one that cannot be entered keeps its error for the
 * report. */
static void dump_one(const struct qt_ctx *ctx, struct allnetns *an, size_t i)
{
	struct netns_entry *e = &an->list.v[i];
	struct ns_run *run = &an->runs[i];
	struct qt_ctx here = *ctx;

	run->fd = -1;
	run->err = netns_entry_open(e, &run->fd);
	if (run->err == 0 && (run->err = netns_setns(run->fd)) < 0) {
		close(run->fd);
		run->fd = -1;
	}
	an->rows[i] = (struct netns_row){ e->inode, e->label.text, e->initial, -1, -1, -1, 2, "error", NULL };
	if (run->err < 0)
		return;
	here.netns_inode = e->inode;
	run->dump = listeners_dump(&here, &an->sets[i], &run->diags);
	if (run->dump == 0) {
		an->inodes[i] = e->inode;
		an->rows[i].listeners = (int64_t)an->sets[i].n;
	}
}

struct dumper {
	const struct qt_ctx *ctx;
	struct allnetns *an;
	atomic_size_t *next;    /* the next namespace to dump */
};

static void *dumper_main(void *arg)
{
	struct dumper *d = arg;
	size_t i;

	while ((i = atomic_fetch_add(d->next, 1)) < d->an->list.n)
		dump_one(d->ctx, d->an, i);
	return NULL;
}

/* One per CPU this process may run on, at most 8, and none for a handful
 * of namespaces (a thread costs more than a dump there). */
static unsigned dump_threads(size_t n)
{
	cpu_set_t cpus;
	unsigned t = sched_getaffinity(0, sizeof(cpus), &cpus) == 0 ? (unsigned)CPU_COUNT(&cpus) : 1;

	if (t > 8)
		t = 8;
	if (t > n / 16 + 1)
		t = (unsigned)(n / 16 + 1);
	return t ? t : 1;
}

/* Every namespace's dump. Each is the kernel walking the host-wide TCP
 * hash tables bucket by bucket (the listening hash, and the established
 * one for the half-open requests), whatever the namespace holds: on a
 * host of many namespaces it is most of the run, and it is CPU work, so
 * the dumps are spread over threads, each taking the next namespace.
 * Entering a network namespace is per thread (setns); this thread takes
 * its share too and ends in one of them, as the one loop did (each child
 * enters its own). Each namespace's results go to its own slots. */
static void dump_each(struct qt_ctx *ctx, struct allnetns *an)
{
	unsigned nthreads = dump_threads(an->list.n), started = 0;
	pthread_t tids[8];
	atomic_size_t next = 0;
	struct dumper d = { ctx, an, &next };
	char ignored[8];

	ctx->cgroup_cache = &an->cgroups;
	/* The cgroup2 tree is walked once for every dump, before they start
	 * (it is built on first use, which threads would race for). */
	if (nthreads > 1)
		cgroup_path(&an->cgroups, ctx->proc_fd, 0, ignored, sizeof(ignored));
	for (; started + 1 < nthreads; started++)
		if (pthread_create(&tids[started], NULL, dumper_main, &d) != 0)
			break;
	dumper_main(&d);
	for (unsigned k = 0; k < started; k++)
		pthread_join(tids[k], NULL);
	ctx->cgroup_cache = NULL;
}

int allnetns_gather(struct qt_ctx *ctx, const struct command *cmd, const struct cmd_args *args,
		    struct allnetns *an)
{
	if (enumerate(ctx, an) < 0)
		return -1;
	dump_each(ctx, an);
	if ((cmd->caps & CAPS_OWNERS) && !args->given[CMD_OPT_NO_OWNERS]) {
		listeners_attribute_netns(ctx, an->sets, an->inodes, an->list.n, &ctx->diags);
		an->walked = true;
	}
	return 0;
}

/* Each namespace's section, document or metrics, in the scan's order;
 * the worst level over them. */
/* How many children run at once: as many as there are CPUs to run them
 * (dump_threads' rule), so that while the parent prints one namespace's
 * section the next ones are audited. */
static unsigned children_at_once(size_t n)
{
	unsigned k = dump_threads(n);

	return k < 2 && n > 1 ? 2 : k;
}

static enum qt_level audit_each(struct qt_ctx *ctx, const struct command *cmd,
				const struct cmd_args *args, struct allnetns *an)
{
	enum qt_level worst = QT_LEVEL_OK;
	size_t n = an->list.n, started = 0, ahead = children_at_once(n);
	struct ns_child *ch = xcalloc(n ? n : 1, sizeof(*ch));

	for (size_t i = 0; i < n; i++) {
		enum qt_level l;

		/* The children of the next namespaces start before this one's
		 * output is read: each runs while the parent prints another. */
		for (; started < n && started < i + ahead; started++) {
			ch[started] = (struct ns_child){ -1, -1, -1, -1 };
			if (an->runs[started].err == 0)
				allnetns_spawn(ctx, cmd, args, an, started, NS_CHILD_CAPTURE, &ch[started]);
		}
		if (ctx->output == QT_OUT_TEXT && ctx->verbosity >= 0) {
			if (i)
				fputc('\n', ctx->out);
			netns_render_header(ctx->out, ctx->color, &an->rows[i]);
		}
		if (an->runs[i].err < 0) {
			l = allnetns_report_unentered(ctx, cmd, &an->list.v[i], an->runs[i].err, false,
						      &an->rows[i]);
		} else {
			if (ctx->json)
				jw_external_element(ctx->json);
			if (ch[i].pid > 0)
				collect(ctx, cmd, an, i, &ch[i]);
			l = run_level_of_exit(an->rows[i].exit_code);
		}
		worst = l > worst ? l : worst;
	}
	free(ch);
	return worst;
}

/* The children's metrics and the parent's per-namespace "up" family,
 * merged family by family and delivered whole. */
static enum qt_level deliver_metrics(struct qt_ctx *ctx, struct allnetns *an, const char *textfile,
				     enum qt_level worst)
{
	size_t n = an->list.n;
	struct run_delivery dv = { 0 };
	char **texts, *upbuf = NULL;
	size_t *lens, uplen = 0;
	struct prom_netns *up;
	FILE *f;

	if (run_delivery_begin(ctx, &dv, textfile) < 0)
		return worst;
	texts = xcalloc(n + 1, sizeof(*texts));
	lens = xcalloc(n + 1, sizeof(*lens));
	up = xcalloc(n, sizeof(*up));
	for (size_t i = 0; i < n; i++) {
		texts[i] = an->runs[i].prom ? an->runs[i].prom : (char *)"";
		lens[i] = an->runs[i].prom_len;
		up[i] = (struct prom_netns){ an->list.v[i].inode, an->list.v[i].label.text, an->runs[i].err == 0 };
	}
	if ((f = open_memstream(&upbuf, &uplen))) {
		prom_render_netns(f, up, n);
		fclose(f);
	}
	texts[n] = upbuf ? upbuf : (char *)"";
	lens[n] = uplen;
	prom_merge(ctx->out, texts, lens, n + 1);
	worst = run_delivery_end(ctx, &dv, worst);
	free(upbuf);
	free(up);
	free(lens);
	free(texts);
	return worst;
}

/* The closing summary table, the "summary" array, or the metrics. */
static enum qt_level summarise(struct qt_ctx *ctx, struct allnetns *an, const char *textfile,
			       enum qt_level worst)
{
	if (ctx->json) {
		jw_array_end(ctx->json);
		netns_render_summary_json(ctx->json, an->rows, an->list.n);
	} else if (ctx->output == QT_OUT_TEXT && ctx->verbosity >= 0) {
		netns_render_summary(ctx->out, ctx->color, an->rows, an->list.n);
	} else if (ctx->output == QT_OUT_PROMETHEUS) {
		worst = deliver_metrics(ctx, an, textfile, worst);
	}
	return worst;
}

void allnetns_free(struct allnetns *an)
{
	for (size_t i = 0; an->runs && i < an->list.n; i++) {
		if (an->runs[i].fd >= 0)
			close(an->runs[i].fd);
		diags_free(&an->runs[i].diags);
		free(an->runs[i].prom);
		listener_set_free(&an->sets[i]);
	}
	free(an->runs);
	free(an->sets);
	free(an->rows);
	free(an->inodes);
	cgroup_map_free(an->cgroups);
	netns_list_free(&an->list);
}

int allnetns_run(struct qt_ctx *ctx, const struct command *cmd, const struct cmd_args *args,
		 const char *textfile)
{
	struct allnetns an = { 0 };
	enum qt_level worst = QT_LEVEL_OK;
	struct jw w;

	if (allnetns_gather(ctx, cmd, args, &an) < 0)
		goto out;
	if (ctx->output == QT_OUT_JSON) {
		run_document_open(ctx, &w, cmd);
		jw_kbool(&w, "all_netns", true);
		jw_key(&w, "namespaces");
		jw_array_begin(&w);
	}
	worst = audit_each(ctx, cmd, args, &an);
	worst = summarise(ctx, &an, textfile, worst);
out:
	allnetns_free(&an);
	if (ctx->output == QT_OUT_JSON && !ctx->json)
		run_document_open(ctx, &w, cmd);
	return run_finish(ctx, worst > diags_worst(&ctx->diags) ? worst : diags_worst(&ctx->diags));
}
