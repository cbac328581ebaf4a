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

#include "caps.h"
#include "commands.h"
#include "ctx.h"
#include "diag.h"
#include "netns.h"
#include "output.h"
#include "prometheus.h"
#include "state.h"
#include "sysctl.h"
#include "util.h"

enum {
	NEEDS_LOCK = 1 << 0,    /* serialised with other apply/rollback runs */
};

/* Which command accepts which command-specific option. */
enum {
	OPT_CMD_APPLY = 1 << 0,
	OPT_CMD_ROLLBACK = 1 << 1,
	OPT_CMD_SHOW = 1 << 2,
	OPT_CMD_RELISTEN = 1 << 3,
};

struct command {
	const char *name;
	enum qt_level (*run)(struct qt_ctx *, int, char **);
	unsigned flags;
	unsigned caps;          /* CAPS_* the command keeps; every other one is dropped */
	unsigned optmask;       /* OPT_CMD_* bit of this command */
	int min_args, max_args; /* max -1: unbounded */
	const char *usage;
};

static const struct command commands[] = {
	{ "show", cmd_show, 0, CAPS_READ, OPT_CMD_SHOW, 0, 0, "show [--boot]" },
	{ "check", cmd_check, 0, CAPS_OWNERS, 0, 1, 1, "check PROFILE" },
	{ "apply", cmd_apply, NEEDS_LOCK, CAPS_OWNERS | CAPS_WRITE_NET, OPT_CMD_APPLY, 1, 1,
	  "apply [--dry-run] [--persist] [--allow-global] [--relisten[=clamped|all]] PROFILE" },
	{ "relisten", cmd_relisten, 0, CAPS_OWNERS, OPT_CMD_RELISTEN, 0, 1,
	  "relisten [--dry-run] [--all] [PROFILE]" },
	{ "listeners", cmd_listeners, 0, CAPS_OWNERS, 0, 0, 1, "listeners [PROFILE]" },
	{ "rollback", cmd_rollback, NEEDS_LOCK, CAPS_WRITE_NET, OPT_CMD_ROLLBACK, 0, 0,
	  "rollback [--allow-global]" },
	{ "validate", cmd_validate, 0, CAPS_READ, 0, 1, -1, "validate PROFILE..." },
	{ "profiles", cmd_profiles, 0, CAPS_READ, 0, 0, 0, "profiles" },
};

static void usage(FILE *f)
{
	fputs("usage: qtune [OPTIONS] COMMAND [ARGS]\n\ncommands:\n", f);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  qtune %s\n", commands[i].usage);
	fputs("\noptions:\n"
	      "  --output text|json|prometheus, --json\n"
	      "                               output format (default text); prometheus:\n"
	      "                               check, show and listeners\n"
	      "  --textfile PATH              write the prometheus metrics atomically to PATH\n"
	      "  --netns NAME|PATH            work in that network namespace\n"
	      "  --root DIR                   treat DIR as / for the files qtune reads and writes\n"
	      "  -q, --quiet                  only errors on stderr\n"
	      "  -v, --verbose                say more\n"
	      "  --version, --help\n"
	      "\nexit status: 0 ok, 1 drift (check), 2 trouble, 3 failed apply whose rollback failed\n"
	      "see qtune(8) and qtune-profile(5)\n", f);
}

struct options {
	const char *netns;
	/* Command-specific options given: each with the OPT_CMD_* bits of
	 * the commands that accept it. */
	struct { const char *name; unsigned allowed; } cmd_opts[8];
	size_t ncmd_opts;
};

enum { O_OUTPUT = 256, O_JSON, O_NETNS, O_ROOT, O_VERSION, O_HELP, O_DRY_RUN,
       O_PERSIST, O_ALLOW_GLOBAL, O_BOOT, O_RELISTEN, O_ALL, O_TEXTFILE };

static const struct option long_options[] = {
	{ "output", required_argument, NULL, O_OUTPUT },
	{ "json", no_argument, NULL, O_JSON },
	{ "netns", required_argument, NULL, O_NETNS },
	{ "root", required_argument, NULL, O_ROOT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, O_VERSION },
	{ "help", no_argument, NULL, O_HELP },
	{ "dry-run", no_argument, NULL, O_DRY_RUN },
	{ "persist", no_argument, NULL, O_PERSIST },
	{ "allow-global", no_argument, NULL, O_ALLOW_GLOBAL },
	{ "boot", no_argument, NULL, O_BOOT },
	{ "relisten", optional_argument, NULL, O_RELISTEN },
	{ "all", no_argument, NULL, O_ALL },
	{ "textfile", required_argument, NULL, O_TEXTFILE },
	{ NULL, 0, NULL, 0 },
};

static void cmd_option(struct options *o, unsigned allowed, const char *name)
{
	if (o->ncmd_opts < ARRAY_SIZE(o->cmd_opts)) {
		o->cmd_opts[o->ncmd_opts].name = name;
		o->cmd_opts[o->ncmd_opts++].allowed = allowed;
	}
}

/* 0 to go on, 1 to exit 0 (--help, --version), -1 to exit 2. */
static int parse_options(int argc, char **argv, struct qt_ctx *ctx, struct options *o)
{
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "qv", long_options, NULL)) != -1) {
		switch (c) {
		case O_OUTPUT:
			if (strcmp(optarg, "text") == 0) {
				ctx->output = QT_OUT_TEXT;
			} else if (strcmp(optarg, "json") == 0) {
				ctx->output = QT_OUT_JSON;
			} else if (strcmp(optarg, "prometheus") == 0) {
				ctx->output = QT_OUT_PROMETHEUS;
			} else {
				fprintf(stderr, "qtune: --output %s: expected text, json or prometheus\n", optarg);
				return -1;
			}
			break;
		case O_JSON: ctx->output = QT_OUT_JSON; break;
		case O_NETNS: o->netns = optarg; break;
		case O_ROOT: ctx->root = optarg; break;
		case O_TEXTFILE: ctx->textfile = optarg; break;
		case 'q': ctx->verbosity = -1; break;
		case 'v': ctx->verbosity = ctx->verbosity < 0 ? 1 : ctx->verbosity + 1; break;
		case O_VERSION: printf("qtune %s\n", QTUNE_VERSION_STRING); return 1;
		case O_HELP: usage(stdout); return 1;
		case O_DRY_RUN:
			ctx->dry_run = true;
			cmd_option(o, OPT_CMD_APPLY | OPT_CMD_RELISTEN, "--dry-run");
			break;
		case O_RELISTEN:
			ctx->relisten = true;
			if (optarg && strcmp(optarg, "all") == 0) {
				ctx->relisten_all = true;
			} else if (optarg && strcmp(optarg, "clamped") != 0) {
				fprintf(stderr, "qtune: --relisten=%s: expected clamped or all\n", optarg);
				return -1;
			}
			cmd_option(o, OPT_CMD_APPLY, "--relisten");
			break;
		case O_ALL: ctx->relisten_all = true; cmd_option(o, OPT_CMD_RELISTEN, "--all"); break;
		case O_PERSIST: ctx->persist = true; cmd_option(o, OPT_CMD_APPLY, "--persist"); break;
		case O_ALLOW_GLOBAL:
			ctx->allow_global = true;
			cmd_option(o, OPT_CMD_APPLY | OPT_CMD_ROLLBACK, "--allow-global");
			break;
		case O_BOOT: ctx->boot = true; cmd_option(o, OPT_CMD_SHOW, "--boot"); break;
		default:
			if (optopt)
				fprintf(stderr, "qtune: unknown option -%c\n", optopt);
			else
				fprintf(stderr, "qtune: unknown option or missing argument: %s\n",
					argv[optind - 1]);
			fputs("qtune: try 'qtune --help'\n", stderr);
			return -1;
		}
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
	struct utsname u;
	const char *how = "";
	int r;

	if (o->netns && netns_enter(o->netns, &ctx->diags) < 0)
		return -1;
	ctx->proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctx->proc_fd < 0 || (r = sysctl_open_root(&ctx->procsys_fd)) < 0) {
		diags_error(&ctx->diags, "/proc is not mounted or not readable: %s", strerror(errno));
		return -1;
	}
	if (uname(&u) == 0)
		snprintf(ctx->kernel_release, sizeof(ctx->kernel_release), "%s", u.release);
	if (netns_identify(ctx, &how) < 0) {
		diags_error(&ctx->diags, "cannot identify the network namespace: %s", strerror(errno));
		return -1;
	}
	if (ctx->verbosity > 0)
		fprintf(stderr, "qtune: network namespace %llu is %s (%s)\n",
			(unsigned long long)ctx->netns_inode,
			ctx->netns_initial ? "the initial one" : "not the initial one", how);
	return 0;
}

static int finish(struct qt_ctx *ctx, enum qt_level worst)
{
	if (output_finish(stdout) < 0) {
		diags_error(&ctx->diags, "cannot write the output: %s", strerror(errno ? errno : EIO));
		worst = QT_LEVEL_ERROR > worst ? QT_LEVEL_ERROR : worst;
	}
	diags_print(stderr, &ctx->diags, ctx->verbosity < 0 ? QT_LEVEL_ERROR : QT_LEVEL_WARN);
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
	const struct command *cmd;
	enum qt_level worst = QT_LEVEL_OK;
	int lockfd = -1, r, nargs;

	r = parse_options(argc, argv, &ctx, &opts);
	if (r != 0)
		return r > 0 ? (output_finish(stdout) < 0 ? 2 : 0) : 2;
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = find_command(argv[optind]);
	if (!cmd) {
		fprintf(stderr, "qtune: unknown command '%s'; try 'qtune --help'\n", argv[optind]);
		return 2;
	}
	for (size_t i = 0; i < opts.ncmd_opts; i++) {
		if (!(opts.cmd_opts[i].allowed & cmd->optmask)) {
			fprintf(stderr, "qtune: %s does not take %s\n", cmd->name, opts.cmd_opts[i].name);
			return 2;
		}
	}
	nargs = argc - optind - 1;
	if (nargs < cmd->min_args || (cmd->max_args >= 0 && nargs > cmd->max_args)) {
		fprintf(stderr, "qtune: usage: qtune %s\n", cmd->usage);
		return 2;
	}
	if (ctx.output == QT_OUT_PROMETHEUS && !prom_command_supported(cmd->name)) {
		fprintf(stderr, "qtune: %s has no prometheus output (check, show and listeners have)\n", cmd->name);
		return 2;
	}
	if (ctx.textfile && ctx.output != QT_OUT_PROMETHEUS) {
		fputs("qtune: --textfile needs --output prometheus\n", stderr);
		return 2;
	}
	output_setup_color(&ctx, getenv("NO_COLOR"));

	if (prepare_context(&ctx, &opts) < 0)
		return finish(&ctx, QT_LEVEL_ERROR);
	if ((cmd->flags & NEEDS_LOCK) && !ctx.dry_run &&
	    state_lock(&ctx, &lockfd, &ctx.diags) < 0)
		return finish(&ctx, QT_LEVEL_ERROR);
	/* The namespace is entered and the lock held: from here on only what
	 * the command's row asks for is kept. */
	char kept[256];
	if (caps_restrict(cmd->caps, kept, sizeof(kept), &ctx.diags) < 0)
		return finish(&ctx, QT_LEVEL_ERROR);
	if (ctx.verbosity > 0)
		fprintf(stderr, "qtune: capabilities kept: %s; no_new_privs set\n", kept);

	worst = cmd->run(&ctx, nargs + 1, argv + optind);

	state_unlock(lockfd);
	if (diags_worst(&ctx.diags) > worst)
		worst = diags_worst(&ctx.diags);
	return finish(&ctx, worst);
}
