/* qtune: tune and audit the TCP listen queues of a Linux host.
 * main() is the table of contents: parse the command line, enter the
 * target network namespace, open /proc/sys there, prepare what the
 * command's row asks for, run it, print the diagnostics, and map the
 * worst level seen to the exit status. Nothing below main() exits. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit.h"
#include "caps.h"
#include "cgroup.h"
#include "cmd_common.h"
#include "commands.h"
#include "ctx.h"
#include "diag.h"
#include "landlock.h"
#include "listeners.h"
#include "netns.h"
#include "netns_report.h"
#include "netns_scan.h"
#include "output.h"
#include "owners.h"
#include "prometheus.h"
#include "state.h"
#include "sysctl.h"
#include "sysctld.h"
#include "textfile.h"
#include "util.h"

enum {
	NEEDS_LOCK = 1 << 0,    /* serialised with other apply/rollback runs (not a --dry-run) */
	/* Writes /proc/sys, the state record and sysctl.d (not a --dry-run).
	 * Without it a command may write no file but the --textfile. */
	WRITES_SETTINGS = 1 << 1,
	/* Takes other processes' sockets (pidfd_getfd, not a --dry-run),
	 * which needs ptrace access that Landlock denies: not confined. */
	TAKES_SOCKETS = 1 << 2,
	/* --json: the command writes its own documents, one per line (JSON
	 * Lines), the last with the messages; main opens none for the run. */
	JSON_LINES = 1 << 3,
	/* Takes --all-netns: a reading command, run once per namespace.
	 * watch has none yet: its loop samples one namespace; a row that
	 * sets this flag gets the loop of run_all_netns. */
	ALL_NETNS = 1 << 4,
};

#define FORMAT(o) (1u << (o))
#define FORMATS_DOC (FORMAT(QT_OUT_TEXT) | FORMAT(QT_OUT_JSON))

/* Every command option, described once; a row lists the ones its command
 * takes. They are declared here rather than parsed by each command (git's
 * builtins do that) because global options may follow the command name
 * (`qtune check --output prometheus --textfile F web`), so one getopt pass
 * reads both, and because main must refuse an option the command does not
 * take before it enters a namespace, takes the lock or drops capabilities. */
struct option_desc {
	const char *name;
	int has_arg;            /* no_argument, optional_argument (--name=VALUE) or required_argument */
	const char *values;     /* the accepted arguments, "a|b"; NULL: any (the command judges) */
	const char *metavar;    /* required_argument: what the usage line calls the value */
};

static const struct option_desc option_descs[CMD_OPT_COUNT] = {
	[CMD_OPT_DRY_RUN] = { "dry-run", no_argument, NULL },
	[CMD_OPT_PERSIST] = { "persist", no_argument, NULL },
	[CMD_OPT_ALLOW_GLOBAL] = { "allow-global", no_argument, NULL },
	[CMD_OPT_BOOT] = { "boot", no_argument, NULL },
	[CMD_OPT_RELISTEN] = { "relisten", optional_argument, "clamped|all" },
	[CMD_OPT_ALL] = { "all", no_argument, NULL },
	[CMD_OPT_NO_OWNERS] = { "no-owners", no_argument, NULL },
	[CMD_OPT_INTERVAL] = { "interval", required_argument, NULL, "SECONDS" },
	[CMD_OPT_COUNT_N] = { "count", required_argument, NULL, "N" },
	[CMD_OPT_BACKLOG] = { "backlog", required_argument, NULL, "N" },
};

#define OPTIONS(...) ((const enum cmd_option[]){ __VA_ARGS__, CMD_OPT_COUNT })
#define NO_OPTIONS ((const enum cmd_option[]){ CMD_OPT_COUNT })

/* One row per command: everything main needs to know about it. */
struct command {
	const char *name;
	enum qt_level (*run)(struct qt_ctx *, const struct cmd_args *);
	unsigned flags;
	unsigned caps;          /* CAPS_* the command keeps; every other one is dropped */
	unsigned formats;       /* FORMAT(QT_OUT_*) of the outputs it renders */
	int min_args, max_args; /* max -1: unbounded */
	const char *args;       /* its arguments, for the usage line */
	const enum cmd_option *options; /* ends with CMD_OPT_COUNT */
};

static const struct command commands[] = {
	{ "show", cmd_show, ALL_NETNS, CAPS_READ, FORMATS_DOC | FORMAT(QT_OUT_PROMETHEUS), 0, 0, "",
	  OPTIONS(CMD_OPT_BOOT) },
	{ "check", cmd_check, ALL_NETNS, CAPS_OWNERS, FORMATS_DOC | FORMAT(QT_OUT_PROMETHEUS), 1, 1,
	  "PROFILE", OPTIONS(CMD_OPT_INTERVAL) },
	{ "apply", cmd_apply, NEEDS_LOCK | WRITES_SETTINGS, CAPS_OWNERS | CAPS_WRITE_NET, FORMATS_DOC, 1, 1, "PROFILE",
	  OPTIONS(CMD_OPT_DRY_RUN, CMD_OPT_PERSIST, CMD_OPT_ALLOW_GLOBAL, CMD_OPT_RELISTEN, CMD_OPT_BACKLOG) },
	{ "relisten", cmd_relisten, TAKES_SOCKETS, CAPS_OWNERS, FORMATS_DOC, 0, 1, "[PROFILE]",
	  OPTIONS(CMD_OPT_DRY_RUN, CMD_OPT_ALL, CMD_OPT_BACKLOG) },
	{ "listeners", cmd_listeners, ALL_NETNS, CAPS_OWNERS, FORMATS_DOC | FORMAT(QT_OUT_PROMETHEUS), 0, 1,
	  "[PROFILE]", OPTIONS(CMD_OPT_NO_OWNERS, CMD_OPT_INTERVAL) },
	{ "watch", cmd_watch, JSON_LINES, CAPS_OWNERS, FORMATS_DOC, 0, 1, "[PROFILE]",
	  OPTIONS(CMD_OPT_INTERVAL, CMD_OPT_COUNT_N) },
	{ "rollback", cmd_rollback, NEEDS_LOCK | WRITES_SETTINGS, CAPS_WRITE_NET, FORMATS_DOC, 0, 0, "",
	  OPTIONS(CMD_OPT_ALLOW_GLOBAL) },
	{ "validate", cmd_validate, 0, CAPS_READ, FORMATS_DOC, 1, -1, "PROFILE...", NO_OPTIONS },
	{ "profiles", cmd_profiles, 0, CAPS_READ, FORMATS_DOC, 0, 0, "", NO_OPTIONS },
};

static bool takes(const struct command *cmd, enum cmd_option o)
{
	for (const enum cmd_option *p = cmd->options; *p != CMD_OPT_COUNT; p++)
		if (*p == o)
			return true;
	return false;
}

/* "apply [--dry-run] ... PROFILE", from the row. */
static void print_usage_line(FILE *f, const struct command *cmd)
{
	fprintf(f, "qtune %s", cmd->name);
	for (const enum cmd_option *p = cmd->options; *p != CMD_OPT_COUNT; p++) {
		const struct option_desc *o = &option_descs[*p];

		if (o->metavar)
			fprintf(f, " [--%s %s]", o->name, o->metavar);
		else if (o->values)
			fprintf(f, " [--%s[=%s]]", o->name, o->values);
		else
			fprintf(f, " [--%s]", o->name);
	}
	fprintf(f, "%s%s\n", *cmd->args ? " " : "", cmd->args);
}

/* "check, show and listeners": the commands that render format o. */
static void print_commands_with(FILE *f, enum qt_output o)
{
	size_t n = 0, k = 0;

	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		n += (commands[i].formats & FORMAT(o)) != 0;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (!(commands[i].formats & FORMAT(o)))
			continue;
		k++;
		fprintf(f, "%s%s", commands[i].name, k + 1 == n ? " and " : k < n ? ", " : "");
	}
}

static void usage(FILE *f)
{
	fputs("usage: qtune [OPTIONS] COMMAND [ARGS]\n\ncommands:\n", f);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		fputs("  ", f);
		print_usage_line(f, &commands[i]);
	}
	fputs("\noptions:\n"
	      "  --output text|json|prometheus, --json\n"
	      "                               output format (default text); prometheus: ", f);
	print_commands_with(f, QT_OUT_PROMETHEUS);
	fputs("\n"
	      "  --textfile PATH              write the prometheus metrics atomically to PATH\n"
	      "  --netns NAME|PATH|LABEL      work in that network namespace\n"
	      "  --all-netns                  show, check, listeners: every network namespace of the host\n"
	      "  --root DIR                   treat DIR as / for the files qtune reads and writes\n"
	      "  -q, --quiet                  only errors on stderr\n"
	      "  -v, --verbose                say more\n"
	      "  --version, --help\n"
	      "\na command option is refused by every command whose line above does not show it\n"
	      "exit status: 0 ok, 1 drift (check), 2 trouble, 3 failed apply whose rollback failed\n"
	      "see qtune(8) and qtune-profile(5)\n", f);
}

/* What the command line says before the command's row is known. */
struct options {
	const char *netns;
	bool all_netns;
	/* every --netns given, a comma list split; apply takes several */
	char *netnses[64];
	size_t nnetns;
	const char *textfile;   /* --textfile: main delivers the metrics there */
	bool given[CMD_OPT_COUNT];
	const char *value[CMD_OPT_COUNT];
};

enum { O_OUTPUT = 256, O_JSON, O_NETNS, O_ALL_NETNS, O_ROOT, O_VERSION, O_HELP, O_TEXTFILE, O_CMD };

static const struct option global_options[] = {
	{ "output", required_argument, NULL, O_OUTPUT },
	{ "json", no_argument, NULL, O_JSON },
	{ "netns", required_argument, NULL, O_NETNS },
	{ "all-netns", no_argument, NULL, O_ALL_NETNS },
	{ "root", required_argument, NULL, O_ROOT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, O_VERSION },
	{ "help", no_argument, NULL, O_HELP },
	{ "textfile", required_argument, NULL, O_TEXTFILE },
};

/* The global options, then every command option (val O_CMD + its id). */
static void build_long_options(struct option *lo)
{
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(global_options); i++)
		lo[n++] = global_options[i];
	for (int i = 0; i < CMD_OPT_COUNT; i++)
		lo[n++] = (struct option){ option_descs[i].name, option_descs[i].has_arg, NULL, O_CMD + i };
	lo[n] = (struct option){ NULL, 0, NULL, 0 };
}

static bool value_allowed(const char *values, const char *v)
{
	size_t len = strlen(v);

	for (const char *p = values; *p;) {
		const char *bar = strchr(p, '|');
		size_t l = bar ? (size_t)(bar - p) : strlen(p);

		if (l == len && strncmp(p, v, l) == 0)
			return true;
		p += l + (bar != NULL);
	}
	return false;
}

/* The --netns arguments, split in place; they live for the run. */
static char *netns_copies[64];
static size_t ncopies;

/* 0 to go on, 1 to exit 0 (--help, --version), -1 to exit 2. A mistake
 * goes into ctx->diags and parsing goes on to the end, so that the command
 * is known and its --json document can say what was wrong. */
static int parse_options(int argc, char **argv, struct qt_ctx *ctx, struct options *o)
{
	struct option lo[ARRAY_SIZE(global_options) + CMD_OPT_COUNT + 1];
	size_t errors = ctx->diags.n;
	int c;

	build_long_options(lo);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "qv", lo, NULL)) != -1) {
		switch (c) {
		case O_OUTPUT:
			if (strcmp(optarg, "text") == 0) {
				ctx->output = QT_OUT_TEXT;
			} else if (strcmp(optarg, "json") == 0) {
				ctx->output = QT_OUT_JSON;
			} else if (strcmp(optarg, "prometheus") == 0) {
				ctx->output = QT_OUT_PROMETHEUS;
			} else {
				diags_error(&ctx->diags, "--output %s: expected text, json or prometheus", optarg);
			}
			break;
		case O_JSON: ctx->output = QT_OUT_JSON; break;
		case O_NETNS:
			netns_copies[ncopies < ARRAY_SIZE(netns_copies) ? ncopies++ : 0] = xstrdup(optarg);
			for (char *save = NULL, *copy = netns_copies[ncopies - 1], *t = strtok_r(copy, ",", &save); t;
			     t = strtok_r(NULL, ",", &save)) {
				if (o->nnetns == ARRAY_SIZE(o->netnses)) {
					diags_error(&ctx->diags, "--netns: at most %zu namespaces", ARRAY_SIZE(o->netnses));
					break;
				}
				o->netnses[o->nnetns++] = t;   /* copy lives as long as the run */
			}
			o->netns = o->nnetns ? o->netnses[0] : optarg;
			break;
		case O_ALL_NETNS: o->all_netns = true; break;
		case O_ROOT: ctx->root = optarg; break;
		case O_TEXTFILE: o->textfile = optarg; break;
		case 'q': ctx->verbosity = -1; break;
		case 'v': ctx->verbosity = ctx->verbosity < 0 ? 1 : ctx->verbosity + 1; break;
		case O_VERSION:
			if (ctx->diags.n > errors)
				break;
			printf("qtune %s\n", QTUNE_VERSION_STRING);
			return 1;
		case O_HELP:
			if (ctx->diags.n > errors)
				break;
			usage(stdout);
			return 1;
		default:
			if (c >= O_CMD && c < O_CMD + CMD_OPT_COUNT) {
				const struct option_desc *d = &option_descs[c - O_CMD];

				if (optarg && d->has_arg != required_argument &&
				    !(d->values && value_allowed(d->values, optarg))) {
					char expected[128] = "";

					/* "clamped|all" reads "clamped or all". */
					for (const char *v = d->values; v && *v; v++)
						snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected),
							 "%s", *v == '|' ? " or " : (char[]){ *v, '\0' });
					diags_error(&ctx->diags, "--%s=%s: expected %s", d->name, optarg, expected);
					break;
				}
				o->given[c - O_CMD] = true;
				o->value[c - O_CMD] = optarg;
				break;
			}
			if (optopt > 0 && optopt < 256)
				diags_error(&ctx->diags, "unknown option -%c; try 'qtune --help'", optopt);
			else
				diags_error(&ctx->diags, "unknown option or missing argument: %s; try 'qtune --help'",
					    argv[optind - 1]);
		}
	}
	return ctx->diags.n > errors ? -1 : 0;
}

/* What print(f, ...) writes, as a string (caller frees). */
static char *captured(void (*print)(FILE *, const void *), const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return xstrdup("");
	print(f, arg);
	fclose(f);
	if (len && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	return buf;
}

static void print_usage_of(FILE *f, const void *cmd) { print_usage_line(f, cmd); }
static void print_commands_with_of(FILE *f, const void *o)
{
	print_commands_with(f, *(const enum qt_output *)o);
}

/* Every command option given must be in the row: however many there
 * are, each one is judged. 0, or -1 with a diagnostic saying what. */
static int check_command_line(const struct command *cmd, const struct options *o,
			      enum qt_output output, int nargs, struct qt_diags *d)
{
	char *text;

	for (int i = 0; i < CMD_OPT_COUNT; i++) {
		if (o->given[i] && !takes(cmd, (enum cmd_option)i)) {
			diags_error(d, "%s does not take --%s", cmd->name, option_descs[i].name);
			return -1;
		}
	}
	if (o->all_netns && !(cmd->flags & ALL_NETNS)) {
		diags_error(d, "%s does not take --all-netns: %s", cmd->name,
			    (cmd->flags & WRITES_SETTINGS)
			    ? "a change names each namespace it makes (--netns A --netns B, or --netns A,B)"
			    : "only show, check and listeners audit every namespace");
		return -1;
	}
	if (o->nnetns > 1 && cmd->run != cmd_apply) {
		diags_error(d, "%s takes one --netns; only apply changes several namespaces in one run", cmd->name);
		return -1;
	}
	if (o->all_netns && o->netns) {
		diags_error(d, "--all-netns and --netns exclude each other");
		return -1;
	}
	if (nargs < cmd->min_args || (cmd->max_args >= 0 && nargs > cmd->max_args)) {
		text = captured(print_usage_of, cmd);
		diags_error(d, "usage: %s", text);
		free(text);
		return -1;
	}
	if (!(cmd->formats & FORMAT(output))) {
		text = captured(print_commands_with_of, &output);
		diags_error(d, "%s has no %s output (%s have)", cmd->name,
			    output == QT_OUT_PROMETHEUS ? "prometheus" : output == QT_OUT_JSON ? "json" : "text",
			    text);
		free(text);
		return -1;
	}
	if (o->textfile && output != QT_OUT_PROMETHEUS) {
		diags_error(d, "--textfile needs --output prometheus");
		return -1;
	}
	return 0;
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* Enters the namespace and opens /proc there. Order matters: every file
 * under /proc/sys/net and /proc/thread-self/net shows the namespace of the
 * thread that opens it. */
static int prepare_context(struct qt_ctx *ctx, const struct options *o)
{
	const char *how = "";
	int r;

	if (o->netns && netns_enter(o->netns, &ctx->diags) < 0)
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
static int confine(struct qt_ctx *ctx, const struct command *cmd, const struct cmd_args *args,
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
		return cmd_confine_settings(ctx, NULL, takes(cmd, CMD_OPT_PERSIST)
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

/* Prometheus metrics are rendered into memory and delivered whole: to
 * stdout, or atomically to the --textfile. A command that rendered nothing
 * (it failed first) leaves the old textfile alone. */
struct delivery {
	const char *textfile;
	FILE *stdout_f;
	char *buf;
	size_t len;
};

static int delivery_begin(struct qt_ctx *ctx, struct delivery *dv, const char *textfile)
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

static enum qt_level delivery_end(struct qt_ctx *ctx, struct delivery *dv, enum qt_level worst)
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
static void document_open(struct qt_ctx *ctx, struct jw *w, const struct command *cmd)
{
	if (ctx->output != QT_OUT_JSON)
		return;
	jw_init(w, ctx->out);
	jw_object_begin(w);
	output_json_header(w, cmd->name, ctx->kernel_release,
			   (struct output_netns){ ctx->netns_inode, ctx->netns_initial, ctx->netns_label });
	ctx->json = w;
}

static void document_close(struct qt_ctx *ctx)
{
	if (!ctx->json)
		return;
	output_json_diags(ctx->json, &ctx->diags);
	jw_object_end(ctx->json);
	ctx->json = NULL;
}

static int finish(struct qt_ctx *ctx, enum qt_level worst)
{
	document_close(ctx);
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

/* ------------------------------------------------------------ --all-netns
 *
 * Every namespace audited as --netns would audit it, in one run. The
 * parent keeps CAP_SYS_ADMIN (setns) and the owner-walk capabilities, and
 * does only what needs them: it finds the namespaces, enters each to dump
 * its listeners, walks /proc once for the owners of all of them, and
 * forks one child per namespace. The child enters it, drops every
 * capability its command's row does not keep, applies Landlock and runs
 * the command as a --netns run does, writing its section (text), its
 * document (JSON, into the parent's "namespaces" array) or its metrics
 * (into a pipe; the parent merges the families) and a short result for
 * the summary. The parent parses nothing but that result. */

/* What a child tells the parent besides its output. */
/* Sent whole over a pipe: no member leaves padding (the bytes written are
 * all initialised). */
struct ns_result {
	int64_t somaxconn;
	int64_t findings;
	int64_t exit_code;
};

struct ns_run {
	int fd;                 /* the namespace, open for setns; -1: not entered */
	int err;                /* why not: -errno */
	int dump;               /* listeners_dump's result there */
	struct qt_diags diags;  /* the parent's diagnostics there, for the child's document */
	char *prom;             /* the child's metrics */
	size_t prom_len;
};

static enum qt_level level_of_exit(int code)
{
	return code == 0 ? QT_LEVEL_OK : code == 1 ? QT_LEVEL_DRIFT : code == 3 ? QT_LEVEL_FATAL
	       : QT_LEVEL_ERROR;
}

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
	const struct options none = { 0 };
	struct delivery dv = { 0 };
	struct queue_limits k;
	struct qt_diags ignored = { 0 };
	enum qt_level worst;
	char kept[256];
	struct jw w;
	int r = prepare_context(c, &none);

	document_open(c, &w, cmd);
	if (r < 0)
		goto fail;
	if (sysctl_read_limits(c->procsys_fd, &k, &ignored) == 0 && k.have_somaxconn)
		res->somaxconn = k.somaxconn;
	diags_free(&ignored);
	if (caps_restrict(cmd->caps, kept, sizeof(kept), &c->diags) < 0 ||
	    confine(c, cmd, args, NULL) < 0 || delivery_begin(c, &dv, NULL) < 0)
		goto fail;
	worst = cmd->run(c, args);
	worst = delivery_end(c, &dv, worst);
	if (diags_worst(&c->diags) > worst)
		worst = diags_worst(&c->diags);
	res->findings = c->audit_findings;
	document_close(c);
	diags_prefix(&c->diags, c->netns_inode, c->netns_label);
	return finish(c, worst);
fail:
	document_close(c);
	diags_prefix(&c->diags, c->netns_inode, c->netns_label);
	return finish(c, QT_LEVEL_ERROR);
}

/* Forks the child of run i and collects what it reports in row. */
static void audit_netns(struct qt_ctx *ctx, const struct command *cmd, const struct cmd_args *args,
			const struct netns_list *list, struct ns_run *runs, struct listener_set *sets,
			bool walked, size_t i, struct netns_row *row)
{
	const struct netns_entry *e = &list->v[i];
	struct ns_run *run = &runs[i];
	struct ns_result res = { -1, -1, 2 };
	int out[2] = { -1, -1 }, rp[2], status = 0;
	pid_t pid;

	if (pipe2(rp, O_CLOEXEC) < 0 || (ctx->output == QT_OUT_PROMETHEUS && pipe2(out, O_CLOEXEC) < 0)) {
		diags_error(&ctx->diags, "netns %llu (%s): %s", (unsigned long long)e->inode,
			    e->label.text, strerror(errno));
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct qt_ctx c = { .root = ctx->root, .procsys_fd = -1, .proc_fd = -1,
				    .netns_initial = -1, .out = stdout, .output = ctx->output,
				    .verbosity = ctx->verbosity, .color = ctx->color, .audit_findings = -1,
				    .netns_label = e->label.text };
		int code;

		memcpy(c.kernel_release, ctx->kernel_release, sizeof(c.kernel_release));
		c.diags = run->diags;
		if ((code = netns_setns(run->fd)) < 0)
			diags_error(&c.diags, "cannot enter the namespace: %s", strerror(-code));
		for (size_t j = 0; j < list->n; j++)
			if (runs[j].fd >= 0)
				close(runs[j].fd);
		if (out[1] >= 0 && dup2(out[1], STDOUT_FILENO) < 0)
			_exit(2);
		if (diags_worst(&c.diags) < QT_LEVEL_ERROR && (cmd->caps & CAPS_OWNERS)) {
			c.owners_scan = xmalloc(sizeof(*c.owners_scan));
			*c.owners_scan = sets[i];
			c.owners_scan_result = run->dump;
			c.owners_prewalked = walked && run->dump == 0;
		}
		code = diags_worst(&c.diags) >= QT_LEVEL_ERROR ? 2 : run_in_netns(&c, cmd, args, &res);
		res.exit_code = code;
		util_write_all(rp[1], &res, sizeof(res));
		_exit(code);
	}
	close(rp[1]);
	if (out[1] >= 0)
		close(out[1]);
	if (pid < 0) {
		diags_error(&ctx->diags, "netns %llu (%s): cannot fork: %s", (unsigned long long)e->inode,
			    e->label.text, strerror(errno));
		close(rp[0]);
		if (out[0] >= 0)
			close(out[0]);
		return;
	}
	if (out[0] >= 0) {
		/* Bounded: the metrics of a namespace with LISTENERS_MAX listeners. */
		if (util_read_fd(out[0], 256u << 20, &run->prom, &run->prom_len) < 0)
			diags_error(&ctx->diags, "netns %llu (%s): its metrics could not be read",
				    (unsigned long long)e->inode, e->label.text);
		close(out[0]);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (read(rp[0], &res, sizeof(res)) != (ssize_t)sizeof(res) || res.exit_code < 0 || res.exit_code > 3)
		res = (struct ns_result){ -1, -1, 2 };
	close(rp[0]);
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

/* A namespace that could not be entered: reported, counted; a JSON
 * document of its own, as --netns would print for it. */
static enum qt_level report_unentered(struct qt_ctx *ctx, const struct command *cmd,
				      const struct netns_entry *e, int err, struct netns_row *row)
{
	bool vanished = err == -ENOENT || err == -ESTALE;
	enum qt_level level = vanished ? QT_LEVEL_WARN : QT_LEVEL_ERROR;
	struct qt_diags one = { 0 };

	row->verdict = vanished ? "vanished" : "not entered";
	row->exit_code = vanished ? 0 : 2;
	row->error = vanished ? "it vanished before it could be audited" : strerror(-err);
	diags_add(&one, level, NULL, 0, 0, "%s%s%s", vanished ? "vanished before it could be audited" : "cannot enter: ",
		  vanished ? "" : strerror(-err), err == -EPERM ? " (needs CAP_SYS_ADMIN)" : "");
	if (ctx->json) {
		struct jw *w = ctx->json;

		jw_object_begin(w);
		output_json_header(w, cmd->name, ctx->kernel_release,
				   (struct output_netns){ e->inode, e->initial, e->label.text });
		output_json_diags(w, &one);
		jw_object_end(w);
	} else if (ctx->output == QT_OUT_TEXT && ctx->verbosity >= 0) {
		fprintf(ctx->out, "not audited: %s\n\n", one.v[0].msg);
	}
	diags_add(&ctx->diags, level, NULL, 0, 0, "netns %llu (%s): %s", (unsigned long long)e->inode,
		  e->label.text, one.v[0].msg);
	diags_free(&one);
	return level;
}

#ifdef QTUNE_TEST_HOOKS
/* Test build only: a named namespace disappears between the scan and its
 * audit, as `ip netns del` would remove it. */
static void vanish_probe(void)
{
	const char *name = getenv("QTUNE_TEST_VANISH");
	char *path;

	if (!name)
		return;
	path = xasprintf("%s/%s", NETNS_RUN_DIR, name);
	umount2(path, MNT_DETACH);
	unlink(path);
	free(path);
}
#endif

static int run_all_netns(struct qt_ctx *ctx, const struct command *cmd, const struct cmd_args *args,
			 const struct options *o)
{
	struct netns_list list = { 0 };
	struct cgroup_map *cgroups = NULL;
	struct ns_run *runs = NULL;
	struct listener_set *sets = NULL;
	struct netns_row *rows = NULL;
	uint64_t *inodes = NULL;
	enum qt_level worst = QT_LEVEL_OK;
	struct delivery dv = { 0 };
	struct rlimit rl;
	char kept[256];
	bool walked = false;
	struct jw w;

	/* One fd per namespace, held from its dump to its audit. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	ctx->proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctx->proc_fd < 0) {
		diags_error(&ctx->diags, "/proc is not mounted or not readable: %s", strerror(errno));
		goto out;
	}
	/* Reading another process's ns/net is a ptrace-read check: the scan
	 * needs CAPS_OWNERS whatever the command. */
	if (caps_restrict(CAPS_SETNS | CAPS_OWNERS, kept, sizeof(kept), &ctx->diags) < 0 ||
	    netns_scan(ctx->proc_fd, &list, &ctx->diags) < 0)
		goto out;
	if (ctx->verbosity > 0)
		fprintf(stderr, "qtune: --all-netns: %zu network namespaces; the parent keeps %s\n",
			list.n, kept);
	ctx->netns_inode = list.v[0].inode;
	ctx->netns_initial = list.v[0].initial ? 1 : -1;
#ifdef QTUNE_TEST_HOOKS
	vanish_probe();
#endif
	runs = xcalloc(list.n, sizeof(*runs));
	sets = xcalloc(list.n, sizeof(*sets));
	rows = xcalloc(list.n, sizeof(*rows));
	inodes = xcalloc(list.n, sizeof(*inodes));
	ctx->cgroup_cache = &cgroups;
	for (size_t i = 0; i < list.n; i++) {
		struct qt_ctx here = *ctx;

		runs[i].fd = -1;
		runs[i].err = netns_entry_open(&list.v[i], &runs[i].fd);
		if (runs[i].err == 0 && (runs[i].err = netns_setns(runs[i].fd)) < 0) {
			close(runs[i].fd);
			runs[i].fd = -1;
		}
		rows[i] = (struct netns_row){ list.v[i].inode, list.v[i].label.text, list.v[i].initial,
					      -1, -1, -1, 2, "error", NULL };
		if (runs[i].err < 0)
			continue;
		here.netns_inode = list.v[i].inode;
		runs[i].dump = listeners_dump(&here, &sets[i], &runs[i].diags);
		if (runs[i].dump == 0) {
			inodes[i] = list.v[i].inode;
			rows[i].listeners = (int64_t)sets[i].n;
		}
	}
	if ((cmd->caps & CAPS_OWNERS) && !args->given[CMD_OPT_NO_OWNERS]) {
		listeners_attribute_netns(ctx, sets, inodes, list.n, &ctx->diags);
		walked = true;
	}
	if (ctx->output == QT_OUT_JSON) {
		document_open(ctx, &w, cmd);
		jw_kbool(&w, "all_netns", true);
		jw_key(&w, "namespaces");
		jw_array_begin(&w);
	}
	for (size_t i = 0; i < list.n; i++) {
		if (ctx->output == QT_OUT_TEXT && ctx->verbosity >= 0) {
			if (i)
				fputc('\n', ctx->out);
			netns_render_header(ctx->out, ctx->color, &rows[i]);
		}
		if (runs[i].err < 0) {
			enum qt_level l = report_unentered(ctx, cmd, &list.v[i], runs[i].err, &rows[i]);
			worst = l > worst ? l : worst;
			continue;
		}
		if (ctx->json)
			jw_external_element(ctx->json);
		audit_netns(ctx, cmd, args, &list, runs, sets, walked, i, &rows[i]);
		if (level_of_exit(rows[i].exit_code) > worst)
			worst = level_of_exit(rows[i].exit_code);
	}
	if (ctx->json) {
		jw_array_end(ctx->json);
		netns_render_summary_json(ctx->json, rows, list.n);
	} else if (ctx->output == QT_OUT_TEXT && ctx->verbosity >= 0) {
		netns_render_summary(ctx->out, ctx->color, rows, list.n);
	} else if (ctx->output == QT_OUT_PROMETHEUS && delivery_begin(ctx, &dv, o->textfile) == 0) {
		char **texts = xcalloc(list.n + 1, sizeof(*texts));
		size_t *lens = xcalloc(list.n + 1, sizeof(*lens));
		struct prom_netns *up = xcalloc(list.n, sizeof(*up));
		char *upbuf = NULL;
		size_t uplen = 0;
		FILE *f = open_memstream(&upbuf, &uplen);

		for (size_t i = 0; i < list.n; i++) {
			texts[i] = runs[i].prom ? runs[i].prom : (char *)"";
			lens[i] = runs[i].prom_len;
			up[i] = (struct prom_netns){ list.v[i].inode, list.v[i].label.text, runs[i].err == 0 };
		}
		if (f) {
			prom_render_netns(f, up, list.n);
			fclose(f);
		}
		texts[list.n] = upbuf ? upbuf : (char *)"";
		lens[list.n] = uplen;
		prom_merge(ctx->out, texts, lens, list.n + 1);
		worst = delivery_end(ctx, &dv, worst);
		free(upbuf);
		free(up);
		free(lens);
		free(texts);
	}
out:
	for (size_t i = 0; runs && i < list.n; i++) {
		if (runs[i].fd >= 0)
			close(runs[i].fd);
		diags_free(&runs[i].diags);
		free(runs[i].prom);
		listener_set_free(&sets[i]);
	}
	free(runs);
	free(sets);
	free(rows);
	free(inodes);
	ctx->cgroup_cache = NULL;
	cgroup_map_free(cgroups);
	netns_list_free(&list);
	if (ctx->output == QT_OUT_JSON && !ctx->json)
		document_open(ctx, &w, cmd);
	return finish(ctx, worst > diags_worst(&ctx->diags) ? worst : diags_worst(&ctx->diags));
}

/* The command in one namespace (or none named): main's own steps. */
static int run_command(struct qt_ctx *ctx, const struct command *cmd, const struct cmd_args *args,
		       const struct options *opts)
{
	struct delivery dv = { 0 };
	enum qt_level worst = QT_LEVEL_OK;
	struct jw w;
	int lockfd = -1, r;

	r = prepare_context(ctx, opts);
	if (r < 0 || !(cmd->flags & JSON_LINES))
		document_open(ctx, &w, cmd);
	if (r < 0)
		return finish(ctx, QT_LEVEL_ERROR);
	if ((cmd->flags & NEEDS_LOCK) && !args->given[CMD_OPT_DRY_RUN] &&
	    state_lock(ctx, &lockfd, &ctx->diags) < 0)
		return finish(ctx, QT_LEVEL_ERROR);
	/* The namespace is entered and the lock held: from here on only what
	 * the command's row asks for is kept. */
	char kept[256];
	if (caps_restrict(cmd->caps, kept, sizeof(kept), &ctx->diags) < 0)
		return finish(ctx, QT_LEVEL_ERROR);
	if (ctx->verbosity > 0)
		fprintf(stderr, "qtune: capabilities kept: %s; no_new_privs set\n", kept);
	if (confine(ctx, cmd, args, opts->textfile) < 0)
		return finish(ctx, QT_LEVEL_ERROR);
#ifdef QTUNE_TEST_HOOKS
	cmd_write_probe(ctx);
#endif

	if (delivery_begin(ctx, &dv, opts->textfile) < 0)
		return finish(ctx, QT_LEVEL_ERROR);
	worst = cmd->run(ctx, args);
	worst = delivery_end(ctx, &dv, worst);

	state_unlock(lockfd);
	if (diags_worst(&ctx->diags) > worst)
		worst = diags_worst(&ctx->diags);
	return finish(ctx, worst);
}

/* apply --netns A --netns B (or A,B): each namespace in turn, in a child
 * of its own, as `apply --netns A` would run — all-or-nothing per
 * namespace, each reported (a section each, or the documents of one
 * "namespaces" array); the exit status is the worst. A namespace's failure
 * does not stop the next: each is its own change. */
static int run_each_netns(struct qt_ctx *ctx, const struct command *cmd, const struct cmd_args *args,
			  const struct options *opts)
{
	enum qt_level worst = QT_LEVEL_OK;
	struct jw w;

	if (ctx->output == QT_OUT_JSON) {
		jw_init(&w, ctx->out);
		jw_object_begin(&w);
		output_json_header(&w, cmd->name, ctx->kernel_release, (struct output_netns){ 0, -1, NULL });
		jw_key(&w, "namespaces");
		jw_array_begin(&w);
	}
	for (size_t i = 0; i < opts->nnetns; i++) {
		struct options one = *opts;
		int status = 0, code;
		pid_t pid;

		one.netns = opts->netnses[i];
		one.nnetns = 1;
		if (ctx->output == QT_OUT_TEXT && ctx->verbosity >= 0)
			fprintf(ctx->out, "%s== network namespace %s ==%s\n", output_color(ctx->color, OUT_BOLD),
				one.netns, output_color(ctx->color, OUT_RESET));
		if (ctx->output == QT_OUT_JSON)
			jw_external_element(&w);
		fflush(stdout);
		pid = fork();
		if (pid == 0)
			_exit(run_command(ctx, cmd, args, &one));
		while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		code = pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : 2;
		if (pid < 0 || !WIFEXITED(status))
			diags_error(&ctx->diags, "--netns %s: the apply did not finish", one.netns);
		if (level_of_exit(code) > worst)
			worst = level_of_exit(code);
		if (ctx->output == QT_OUT_TEXT && ctx->verbosity >= 0)
			fputc('\n', ctx->out);
	}
	if (ctx->output == QT_OUT_JSON) {
		jw_array_end(&w);
		ctx->json = &w;
	}
	return finish(ctx, worst > diags_worst(&ctx->diags) ? worst : diags_worst(&ctx->diags));
}

int main(int argc, char **argv)
{
	struct qt_ctx ctx = { .root = "", .procsys_fd = -1, .proc_fd = -1,
			      .netns_initial = -1, .out = stdout, .audit_findings = -1 };
	struct options opts = { 0 };
	struct cmd_args args = { 0 };
	const struct command *cmd;
	struct utsname u;
	struct jw w;
	int r;

	if (uname(&u) == 0)
		snprintf(ctx.kernel_release, sizeof(ctx.kernel_release), "%s", u.release);
	r = parse_options(argc, argv, &ctx, &opts);
	if (r > 0)
		return output_finish(stdout) < 0 ? 2 : 0;
	cmd = optind < argc ? find_command(argv[optind]) : NULL;
	if (!cmd) {
		/* No command, so no document: nothing says which schema. */
		if (optind >= argc && r == 0)
			usage(stderr);
		else if (optind < argc)
			diags_error(&ctx.diags, "unknown command '%s'; try 'qtune --help'", argv[optind]);
		return finish(&ctx, QT_LEVEL_ERROR);
	}
	args.argc = argc - optind;
	args.argv = argv + optind;
	memcpy(args.given, opts.given, sizeof(args.given));
	memcpy(args.value, opts.value, sizeof(args.value));
	if (r < 0 || check_command_line(cmd, &opts, ctx.output, args.argc - 1, &ctx.diags) < 0) {
		document_open(&ctx, &w, cmd);
		return finish(&ctx, QT_LEVEL_ERROR);
	}
	ctx.color = output_use_color(ctx.output == QT_OUT_TEXT, ctx.out, getenv("NO_COLOR"));
	if (opts.all_netns)
		return run_all_netns(&ctx, cmd, &args, &opts);

	if (opts.nnetns > 1)
		return run_each_netns(&ctx, cmd, &args, &opts);
	return run_command(&ctx, cmd, &args, &opts);
}
