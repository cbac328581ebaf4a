/* run: main's steps around a command, which each namespace's child of an
 * --all-netns run takes too (see run.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "caps.h"
#include "cmd_common.h"
#include "landlock.h"
#include "listeners.h"
#include "netns.h"
#include "output.h"
#include "owners_walker.h"
#include "run.h"
#include "sysctl.h"
#include "textfile.h"
#include "util.h"

/* Enters the namespace and opens /proc there. Order matters: every file
 * under /proc/sys/net and /proc/thread-self/net shows the namespace of the
 * thread that opens it. */
int run_prepare(struct qt_ctx *ctx, const char *netns)
{
	const char *how = "";
	int r;

	if (netns && netns_enter(netns, &ctx->diags) < 0)
		return -1;
	ctx->proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctx->proc_fd < 0 || (r = sysctl_open_root(&ctx->procsys_fd)) < 0) {
		diags_error(&ctx->diags, "/proc is not mounted or not readable: %s", strerror(errno));
		return -1;
	}
	if (netns_identify(ctx, &how) < 0) {
		diags_error(&ctx->diags, "cannot identify the network namespace: %s", strerror(errno));
		return -1;
	}
	if (ctx->verbosity > 0) {
		fprintf(stderr, "qtune: network namespace %llu is %s (%s)\n",
			(unsigned long long)ctx->netns_inode,
			ctx->netns_initial ? "the initial one" : "not the initial one", how);
		if (ctx->netns_cookie)
			fprintf(stderr, "qtune: its cookie is %llu; the state record is bound to it and to this boot\n",
				(unsigned long long)ctx->netns_cookie);
		else
			fprintf(stderr, "qtune: the kernel has no SO_NETNS_COOKIE (before 5.14): the state record is bound to the namespace's inode number, which a later namespace may reuse, and to this boot\n");
	}
	return 0;
}

/* Landlock, before anything is parsed: a reading command (and a dry run)
 * may write no file but beneath the --textfile's directory; apply and
 * rollback only /proc/sys, the state directory and, when they may touch
 * it, sysctl.d (cmd_confine_settings; they narrow it to their keys once
 * the plan is known). The lock is open already. */
int run_confine(struct qt_ctx *ctx, const struct command *cmd, const struct cmd_args *args,
		const char *textfile)
{
	struct landlock_grant g[1];
	char *dir = NULL;
	size_t n = 0;
	int r;

	if (!args->given[CMD_OPT_DRY_RUN] &&
	    ((cmd->flags & TAKES_SOCKETS) || args->given[CMD_OPT_RELISTEN])) {
		if (ctx->verbosity > 0)
			fputs("qtune: not confined by Landlock: taking a listener from its process "
			      "(pidfd_getfd) needs the ptrace access Landlock denies\n", stderr);
		return 0;
	}
	/* Landlock also denies reading other processes' fds: owners first
	 * (--all-netns: the parent dumped and walked already). */
	if ((cmd->caps & CAPS_OWNERS) && !ctx->owners_scan)
		audit_prescan(ctx);
	/* apply writes sysctl.d with --persist; rollback puts back whatever
	 * an apply persisted. */
	if ((cmd->flags & WRITES_SETTINGS) && !args->given[CMD_OPT_DRY_RUN])
		return cmd_confine_settings(ctx, NULL, command_takes(cmd, CMD_OPT_PERSIST)
						       ? args->given[CMD_OPT_PERSIST] : true);
	if (textfile) {
		const char *slash = strrchr(textfile, '/');
		dir = slash ? xstrndup(textfile, slash == textfile ? 1 : (size_t)(slash - textfile))
			    : xstrdup(".");
		g[n++] = (struct landlock_grant){ AT_FDCWD, dir, LANDLOCK_CREATE_FILES };
	}
	r = landlock_restrict(g, n, ctx->verbosity > 0 ? stderr : NULL, &ctx->diags);
	cmd_landlock_say(ctx, r, n);
	free(dir);
	return r < 0 ? r : 0;
}

/* A command that rendered nothing (it failed first) leaves the old
 * textfile alone. */
int run_delivery_begin(struct qt_ctx *ctx, struct run_delivery *dv, const char *textfile)
{
	dv->textfile = textfile;
	dv->stdout_f = ctx->out;
	if (ctx->output != QT_OUT_PROMETHEUS)
		return 0;
	ctx->out = open_memstream(&dv->buf, &dv->len);
	if (!ctx->out) {
		ctx->out = dv->stdout_f;
		diags_error(&ctx->diags, "cannot render the metrics: %s", strerror(errno));
		return -1;
	}
	return 0;
}

enum qt_level run_delivery_end(struct qt_ctx *ctx, struct run_delivery *dv, enum qt_level worst)
{
	int r = 0;

	if (ctx->out == dv->stdout_f)
		return worst;
	if (fclose(ctx->out) != 0) {
		r = -errno;
		diags_error(&ctx->diags, "cannot render the metrics: %s", strerror(-r));
	}
	ctx->out = dv->stdout_f;
	if (r == 0 && dv->len > 0) {
		if (dv->textfile)
			r = textfile_write(dv->textfile, dv->buf, dv->len, &ctx->diags);
		else if (fwrite(dv->buf, 1, dv->len, ctx->out) != dv->len)
			r = -EIO;   /* finish() reports it */
	}
	free(dv->buf);
	dv->buf = NULL;
	return r < 0 && worst < QT_LEVEL_ERROR ? QT_LEVEL_ERROR : worst;
}

/* With --json, main writes the document's frame: the header before the
 * command runs, "messages" after it, so that every run of a known command
 * prints one document, whatever failed and wherever. */
void run_document_open(struct qt_ctx *ctx, struct jw *w, const struct command *cmd)
{
	if (ctx->output != QT_OUT_JSON)
		return;
	jw_init(w, ctx->out);
	jw_object_begin(w);
	output_json_header(w, cmd->name, ctx->kernel_release,
			   (struct output_netns){ ctx->netns_inode, ctx->netns_initial, ctx->netns_label });
	ctx->json = w;
}

void run_document_close(struct qt_ctx *ctx)
{
	if (!ctx->json)
		return;
	output_json_diags(ctx->json, &ctx->diags);
	jw_object_end(ctx->json);
	ctx->json = NULL;
}

int run_finish(struct qt_ctx *ctx, enum qt_level worst)
{
	run_document_close(ctx);
	if (output_finish(stdout) < 0) {
		diags_error(&ctx->diags, "cannot write the output: %s", strerror(errno ? errno : EIO));
		worst = QT_LEVEL_ERROR > worst ? QT_LEVEL_ERROR : worst;
	}
	diags_print(stderr, &ctx->diags, ctx->verbosity < 0 ? QT_LEVEL_ERROR : QT_LEVEL_WARN);
	listeners_walker_stop(ctx->owners_walker);
	if (ctx->owners_scan)
		listener_set_free(ctx->owners_scan);
	free(ctx->owners_scan);
	diags_free(&ctx->diags);
	if (ctx->procsys_fd >= 0)
		close(ctx->procsys_fd);
	if (ctx->proc_fd >= 0)
		close(ctx->proc_fd);
	return diag_exit_status(worst);
}

enum qt_level run_level_of_exit(int code)
{
	return code == 0 ? QT_LEVEL_OK : code == 1 ? QT_LEVEL_DRIFT : code == 3 ? QT_LEVEL_FATAL
	       : QT_LEVEL_ERROR;
}
