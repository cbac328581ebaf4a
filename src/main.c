/* qtune: tune and audit the TCP listen queues of a Linux host.
 * main() is the table of contents: the command table, the command line
 * parsed and judged against the command's row, then the dispatch: one
 * namespace (run.h: enter it, prepare what the row asks for, run the
 * command, finish), each --netns of an apply in turn, or every namespace
 * (allnetns.h). The exit status is the worst level seen, mapped once;
 * nothing below main() exits. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "allnetns.h"
#include "caps.h"
#include "cmd_common.h"
#include "commands.h"
#include "ctx.h"
#include "diag.h"
#include "output.h"
#include "run.h"
#include "state.h"
#include "util.h"

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
	{ "watch", cmd_watch, JSON_LINES | ALL_NETNS, CAPS_OWNERS, FORMATS_DOC, 0, 1, "[PROFILE]",
	  OPTIONS(CMD_OPT_INTERVAL, CMD_OPT_COUNT_N) },
	{ "rollback", cmd_rollback, NEEDS_LOCK | WRITES_SETTINGS, CAPS_WRITE_NET, FORMATS_DOC, 0, 0, "",
	  OPTIONS(CMD_OPT_ALLOW_GLOBAL) },
	{ "validate", cmd_validate, 0, CAPS_READ, FORMATS_DOC, 1, -1, "PROFILE...", NO_OPTIONS },
	{ "profiles", cmd_profiles, 0, CAPS_READ, FORMATS_DOC, 0, 0, "", NO_OPTIONS },
};

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
	      "  --all-netns                  show, check, listeners, watch: every network namespace of the host\n"
	      "  --root DIR                   treat DIR as / for the files qtune reads and writes\n"
	      "  --jobs N                     threads that look up owners, 1 to 64 (default: one per CPU, at most 8)\n"
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

enum { O_OUTPUT = 256, O_JSON, O_NETNS, O_ALL_NETNS, O_ROOT, O_VERSION, O_HELP, O_TEXTFILE, O_JOBS, O_CMD };

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
	{ "jobs", required_argument, NULL, O_JOBS },
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
		case O_JOBS: {
			int64_t v;

			if (util_parse_i64(optarg, &v) < 0 || v < 1 || v > 64)
				diags_error(&ctx->diags, "--jobs %s: expected a number of threads from 1 to 64", optarg);
			else
				ctx->owner_jobs = (unsigned)v;
			break;
		}
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
		if (o->given[i] && !command_takes(cmd, (enum cmd_option)i)) {
			diags_error(d, "%s does not take --%s", cmd->name, option_descs[i].name);
			return -1;
		}
	}
	if (o->all_netns && !(cmd->flags & ALL_NETNS)) {
		diags_error(d, "%s does not take --all-netns: %s", cmd->name,
			    (cmd->flags & WRITES_SETTINGS)
			    ? "a change names each namespace it makes (--netns A --netns B, or --netns A,B)"
			    : "only show, check, listeners and watch take every namespace");
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

/* The command in one namespace (or none named): main's own steps. */
static int run_command(struct qt_ctx *ctx, const struct command *cmd, const struct cmd_args *args,
		       const struct options *opts)
{
	struct run_delivery dv = { 0 };
	enum qt_level worst = QT_LEVEL_OK;
	struct jw w;
	int lockfd = -1, r;

	r = run_prepare(ctx, opts->netns);
	if (r < 0 || !(cmd->flags & JSON_LINES))
		run_document_open(ctx, &w, cmd);
	if (r < 0)
		return run_finish(ctx, QT_LEVEL_ERROR);
	if ((cmd->flags & NEEDS_LOCK) && !args->given[CMD_OPT_DRY_RUN] &&
	    state_lock(ctx, &lockfd, &ctx->diags) < 0)
		return run_finish(ctx, QT_LEVEL_ERROR);
	/* The namespace is entered and the lock held: from here on only what
	 * the command's row asks for is kept. */
	char kept[256];
	if (caps_restrict(cmd->caps, kept, sizeof(kept), &ctx->diags) < 0)
		return run_finish(ctx, QT_LEVEL_ERROR);
	if (ctx->verbosity > 0)
		fprintf(stderr, "qtune: capabilities kept: %s; no_new_privs set\n", kept);
	if (run_confine(ctx, cmd, args, opts->textfile) < 0)
		return run_finish(ctx, QT_LEVEL_ERROR);
#ifdef QTUNE_TEST_HOOKS
	cmd_write_probe(ctx);
#endif

	if (run_delivery_begin(ctx, &dv, opts->textfile) < 0)
		return run_finish(ctx, QT_LEVEL_ERROR);
	worst = cmd->run(ctx, args);
	worst = run_delivery_end(ctx, &dv, worst);

	state_unlock(lockfd);
	if (diags_worst(&ctx->diags) > worst)
		worst = diags_worst(&ctx->diags);
	return run_finish(ctx, worst);
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
		if (run_level_of_exit(code) > worst)
			worst = run_level_of_exit(code);
		if (ctx->output == QT_OUT_TEXT && ctx->verbosity >= 0)
			fputc('\n', ctx->out);
	}
	if (ctx->output == QT_OUT_JSON) {
		jw_array_end(&w);
		ctx->json = &w;
	}
	return run_finish(ctx, worst > diags_worst(&ctx->diags) ? worst : diags_worst(&ctx->diags));
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
		return run_finish(&ctx, QT_LEVEL_ERROR);
	}
	args.argc = argc - optind;
	args.argv = argv + optind;
	memcpy(args.given, opts.given, sizeof(args.given));
	memcpy(args.value, opts.value, sizeof(args.value));
	if (r < 0 || check_command_line(cmd, &opts, ctx.output, args.argc - 1, &ctx.diags) < 0) {
		run_document_open(&ctx, &w, cmd);
		return run_finish(&ctx, QT_LEVEL_ERROR);
	}
	ctx.color = output_use_color(ctx.output == QT_OUT_TEXT, ctx.out, getenv("NO_COLOR"));
	/* A command that samples over time (watch) watches every namespace
	 * at once; the others audit each in turn. */
	if (opts.all_netns)
		return (cmd->flags & JSON_LINES) ? allnetns_watch(&ctx, cmd, &args)
						 : allnetns_run(&ctx, cmd, &args, opts.textfile);

	if (opts.nnetns > 1)
		return run_each_netns(&ctx, cmd, &args, &opts);
	return run_command(&ctx, cmd, &args, &opts);
}
