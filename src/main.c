/* qtune: tune and audit the TCP listen queues of a Linux host.
 * main() is the table of contents: parse the command line, enter the
 * target network namespace, open /proc/sys there, prepare what the
 * command's row asks for, run it, print the diagnostics, and map the
 * worst level seen to the exit status. Nothing below main() exits. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "audit.h"
#include "caps.h"
#include "cmd_common.h"
#include "commands.h"
#include "ctx.h"
#include "diag.h"
#include "landlock.h"
#include "listeners.h"
#include "netns.h"
#include "output.h"
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
	{ "show", cmd_show, 0, CAPS_READ, FORMATS_DOC | FORMAT(QT_OUT_PROMETHEUS), 0, 0, "",
	  OPTIONS(CMD_OPT_BOOT) },
	{ "check", cmd_check, 0, CAPS_OWNERS, FORMATS_DOC | FORMAT(QT_OUT_PROMETHEUS), 1, 1,
	  "PROFILE", OPTIONS(CMD_OPT_INTERVAL) },
	{ "apply", cmd_apply, NEEDS_LOCK | WRITES_SETTINGS, CAPS_OWNERS | CAPS_WRITE_NET, FORMATS_DOC, 1, 1, "PROFILE",
	  OPTIONS(CMD_OPT_DRY_RUN, CMD_OPT_PERSIST, CMD_OPT_ALLOW_GLOBAL, CMD_OPT_RELISTEN) },
	{ "relisten", cmd_relisten, TAKES_SOCKETS, CAPS_OWNERS, FORMATS_DOC, 0, 1, "[PROFILE]",
	  OPTIONS(CMD_OPT_DRY_RUN, CMD_OPT_ALL, CMD_OPT_BACKLOG) },
	{ "listeners", cmd_listeners, 0, CAPS_OWNERS, FORMATS_DOC | FORMAT(QT_OUT_PROMETHEUS), 0, 1,
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
	      "  --netns NAME|PATH            work in that network namespace\n"
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
	const char *textfile;   /* --textfile: main delivers the metrics there */
	bool given[CMD_OPT_COUNT];
	const char *value[CMD_OPT_COUNT];
};

enum { O_OUTPUT = 256, O_JSON, O_NETNS, O_ROOT, O_VERSION, O_HELP, O_TEXTFILE, O_CMD };

static const struct option global_options[] = {
	{ "output", required_argument, NULL, O_OUTPUT },
	{ "json", no_argument, NULL, O_JSON },
	{ "netns", required_argument, NULL, O_NETNS },
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
		case O_NETNS: o->netns = optarg; break;
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
	/* Landlock also denies reading other processes' fds: owners first. */
	if (cmd->caps & CAPS_OWNERS)
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
			   (struct output_netns){ ctx->netns_inode, ctx->netns_initial });
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

int main(int argc, char **argv)
{
	struct qt_ctx ctx = { .root = "", .procsys_fd = -1, .proc_fd = -1,
			      .netns_initial = -1, .out = stdout };
	struct options opts = { 0 };
	struct cmd_args args = { 0 };
	struct delivery dv = { 0 };
	const struct command *cmd;
	enum qt_level worst = QT_LEVEL_OK;
	struct utsname u;
	struct jw w;
	int lockfd = -1, r;

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

	r = prepare_context(&ctx, &opts);
	if (r < 0 || !(cmd->flags & JSON_LINES))
		document_open(&ctx, &w, cmd);
	if (r < 0)
		return finish(&ctx, QT_LEVEL_ERROR);
	if ((cmd->flags & NEEDS_LOCK) && !args.given[CMD_OPT_DRY_RUN] &&
	    state_lock(&ctx, &lockfd, &ctx.diags) < 0)
		return finish(&ctx, QT_LEVEL_ERROR);
	/* The namespace is entered and the lock held: from here on only what
	 * the command's row asks for is kept. */
	char kept[256];
	if (caps_restrict(cmd->caps, kept, sizeof(kept), &ctx.diags) < 0)
		return finish(&ctx, QT_LEVEL_ERROR);
	if (ctx.verbosity > 0)
		fprintf(stderr, "qtune: capabilities kept: %s; no_new_privs set\n", kept);
	if (confine(&ctx, cmd, &args, opts.textfile) < 0)
		return finish(&ctx, QT_LEVEL_ERROR);
#ifdef QTUNE_TEST_HOOKS
	cmd_write_probe(&ctx);
#endif

	if (delivery_begin(&ctx, &dv, opts.textfile) < 0)
		return finish(&ctx, QT_LEVEL_ERROR);
	worst = cmd->run(&ctx, &args);
	worst = delivery_end(&ctx, &dv, worst);

	state_unlock(lockfd);
	if (diags_worst(&ctx.diags) > worst)
		worst = diags_worst(&ctx.diags);
	return finish(&ctx, worst);
}
