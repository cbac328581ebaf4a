/* End-to-end: the command line as main() reads it from the command table.
 * A command option is refused (exit 2, nothing done) by every command
 * whose row does not list it, however many options come first; global
 * options work before and after the command name. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sandbox.h"

TestSuite(e2e_cmdline, .init = sandbox_enter, .fini = sandbox_leave);

#define SOMAXCONN "net/core/somaxconn"

/* The bug this replaces: main remembered only eight command options, so
 * a ninth --dry-run on rollback was accepted, ignored, and the rollback
 * really ran. */
Test(e2e_cmdline, a_ninth_option_is_still_judged_and_nothing_runs)
{
	char *err = NULL;

	sandbox_sysctl_set(SOMAXCONN, "128");
	sandbox_write("p/web.yaml", "qtune: 1\nsysctl:\n  net.core.somaxconn: 4096\n", 0644);
	cr_assert_eq(sandbox_qtune_rooted(NULL, NULL, (const char *[]){ "apply", sandbox_path("p/web.yaml"), NULL }), 0);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 4096);

	const char *argv[] = { "rollback", "--allow-global", "--allow-global", "--allow-global",
			       "--allow-global", "--allow-global", "--allow-global", "--allow-global",
			       "--allow-global", "--allow-global", "--allow-global", "--dry-run", NULL };
	cr_assert_eq(sandbox_qtune_rooted(NULL, &err, argv), 2);
	cr_assert(strstr(err, "qtune: rollback does not take --dry-run"), "%s", err);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 4096, "the refused rollback changed nothing");
	free(err);
	/* The record is still there: a real rollback restores. */
	cr_assert_eq(sandbox_qtune_rooted(NULL, NULL, (const char *[]){ "rollback", NULL }), 0);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 128);
}

/* Each command with each option it does not take, after nine it does take
 * (or, for commands without options, nine global ones). */
Test(e2e_cmdline, every_command_refuses_every_option_it_does_not_take)
{
	static const struct { const char *cmd, *own, *arg; const char *refused[6]; } rows[] = {
		{ "show", "--boot", NULL, { "--dry-run", "--persist", "--allow-global", "--relisten", "--all", NULL } },
		{ "check", "-q", "web", { "--dry-run", "--persist", "--allow-global", "--boot", "--relisten", "--all" } },
		{ "apply", "--dry-run", "web", { "--boot", "--all", NULL } },
		{ "relisten", "--dry-run", NULL, { "--persist", "--allow-global", "--boot", "--relisten", NULL } },
		{ "listeners", "-v", NULL, { "--dry-run", "--persist", "--allow-global", "--boot", "--relisten", "--all" } },
		{ "rollback", "--allow-global", NULL, { "--dry-run", "--persist", "--boot", "--relisten", "--all", NULL } },
		{ "validate", "-q", "web", { "--dry-run", "--persist", "--allow-global", "--boot", "--relisten", "--all" } },
		{ "profiles", "-q", NULL, { "--dry-run", "--persist", "--allow-global", "--boot", "--relisten", "--all" } },
	};
	char want[128];

	sandbox_sysctl_set(SOMAXCONN, "128");
	sandbox_write("etc/qtune/profiles/web.yaml", "qtune: 1\nsysctl:\n  net.core.somaxconn: 4096\n", 0644);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		for (size_t j = 0; j < 6 && rows[i].refused[j]; j++) {
			const char *argv[16];
			size_t n = 0;
			char *out = NULL, *err = NULL;

			argv[n++] = rows[i].cmd;
			for (int k = 0; k < 9; k++)
				argv[n++] = rows[i].own;
			argv[n++] = rows[i].refused[j];
			if (rows[i].arg)
				argv[n++] = rows[i].arg;
			argv[n] = NULL;
			cr_assert_eq(sandbox_qtune_rooted(&out, &err, argv), 2, "%s %s", rows[i].cmd,
				     rows[i].refused[j]);
			snprintf(want, sizeof(want), "qtune: %s does not take %s\n", rows[i].cmd,
				 rows[i].refused[j]);
			cr_assert_str_eq(err, want);
			cr_assert_str_empty(out, "%s: a refused command line prints nothing", rows[i].cmd);
			free(out);
			free(err);
		}
	}
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 128, "no refused apply changed anything");
}

Test(e2e_cmdline, option_values_and_global_options_in_either_position)
{
	char *out = NULL, *err = NULL;

	sandbox_sysctl_set(SOMAXCONN, "128");
	sandbox_write("etc/qtune/profiles/web.yaml", "qtune: 1\nsysctl:\n  net.core.somaxconn: 4096\n", 0644);
	cr_assert_eq(sandbox_qtune_rooted(NULL, &err, (const char *[]){ "apply", "--relisten=bogus", "web", NULL }), 2);
	cr_assert(strstr(err, "--relisten=bogus: expected clamped or all"), "%s", err);
	free(err);
	cr_assert_eq(sandbox_qtune_rooted(NULL, &err, (const char *[]){ "apply", "--dry-run=yes", "web", NULL }), 2);
	free(err);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 128, "no refused command line applied anything");

	/* Global options after the command name, as the systemd unit uses them. */
	cr_assert_eq(sandbox_qtune_rooted(&out, NULL, (const char *[]){ "show", "--json", NULL }), 0);
	cr_assert(out[0] == '{' && strstr(out, "\"command\":\"show\""), "%s", out);
	free(out);
	cr_assert_eq(sandbox_qtune_rooted(&out, NULL, (const char *[]){ "check", "--output", "prometheus", "web", NULL }), 1);
	cr_assert(strstr(out, "qtune_check_exit_code{profile=\"web\"} 1"), "%s", out);
	free(out);
	/* Command options before the command name, as today. */
	cr_assert_eq(sandbox_qtune_rooted(&out, NULL, (const char *[]){ "--dry-run", "apply", "web", NULL }), 0);
	cr_assert(strstr(out, "dry run: 1 change planned, nothing written"), "%s", out);
	free(out);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 128);
	/* The usage line comes from the row. */
	cr_assert_eq(sandbox_qtune_rooted(NULL, &err, (const char *[]){ "relisten", "a", "b", NULL }), 2);
	cr_assert_str_eq(err, "qtune: usage: qtune relisten [--dry-run] [--all] [--backlog N] [PROFILE]\n");
	free(err);
}

/* --netns names a namespace file: a FIFO (or a device) there is refused
 * without blocking on it or opening it for real. */
Test(e2e_cmdline, a_netns_path_to_a_fifo_is_refused_without_blocking, .timeout = 20)
{
	char *err;
	int rc;

	sandbox_mkdir("tmp");
	cr_assert_eq(mkfifo(sandbox_path("tmp/ff"), 0600), 0, "mkfifo: %s", strerror(errno));
	rc = sandbox_qtune(NULL, &err, (const char *[]){ "--netns", sandbox_path("tmp/ff"), "show",
						 NULL });
	cr_assert_eq(rc, 2, "%s", err);
	cr_assert(strstr(err, "not a namespace"), "%s", err);
	free(err);
}
