/* End-to-end: the qtune binary applying, checking and rolling back real
 * profiles inside a private network namespace, and refusing bad ones with
 * nothing changed. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

TestSuite(e2e_apply, .init = sandbox_enter, .fini = sandbox_leave);

#define SOMAXCONN "net/core/somaxconn"
#define SYNBACKLOG "net/ipv4/tcp_max_syn_backlog"
#define COOKIES "net/ipv4/tcp_syncookies"
#define PORTS "net/ipv4/ip_local_port_range"

static const char web[] =
	"qtune: 1\n"
	"name: web\n"
	"sysctl:\n"
	"  net.core.somaxconn: 4096\n"
	"  net.ipv4.tcp_max_syn_backlog: {min: 8192}\n"
	"  net/ipv4/tcp_syncookies: 1\n"
	"  net.ipv4.ip_local_port_range: \"10000 60000\"\n";

static void start_values(void)
{
	sandbox_sysctl_set(SOMAXCONN, "128");
	sandbox_sysctl_set(SYNBACKLOG, "512");
	sandbox_sysctl_set(COOKIES, "0");
	sandbox_sysctl_set(PORTS, "32768 60999");
}

/* The four keys as one comparable string. */
static void snapshot(char *buf, size_t size)
{
	char a[64], b[64], c[64], d[64];

	sandbox_sysctl_text(SOMAXCONN, a, sizeof(a));
	sandbox_sysctl_text(SYNBACKLOG, b, sizeof(b));
	sandbox_sysctl_text(COOKIES, c, sizeof(c));
	sandbox_sysctl_text(PORTS, d, sizeof(d));
	snprintf(buf, size, "%s|%s|%s|%s", a, b, c, d);
}

static int run(char **out, char **err, const char *const *argv)
{
	return sandbox_qtune_rooted(out, err, argv);
}

Test(e2e_apply, apply_writes_every_key_and_a_second_apply_changes_nothing)
{
	char *out, *err;

	start_values();
	sandbox_write("p/web.yaml", web, 0644);
	int rc = run(&out, &err, (const char *[]){ "--json", "apply", sandbox_path("p/web.yaml"), NULL });
	cr_assert_eq(rc, 0, "stderr: %s", err);
	cr_assert(strstr(out, "\"changed\":true"), "%s", out);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 4096);
	cr_assert_eq(sandbox_sysctl_get(SYNBACKLOG), 8192);
	cr_assert_eq(sandbox_sysctl_get(COOKIES), 1);
	char ports[64];
	sandbox_sysctl_text(PORTS, ports, sizeof(ports));
	cr_assert_str_eq(ports, "10000 60000");
	free(out);
	free(err);

	rc = run(&out, &err, (const char *[]){ "--json", "apply", sandbox_path("p/web.yaml"), NULL });
	cr_assert_eq(rc, 0, "stderr: %s", err);
	cr_assert(strstr(out, "\"changed\":false"), "%s", out);
	free(out);
	free(err);
}

Test(e2e_apply, min_never_lowers_a_higher_value)
{
	start_values();
	sandbox_sysctl_set(SYNBACKLOG, "20000");
	sandbox_write("p/web.yaml", web, 0644);
	cr_assert_eq(run(NULL, NULL, (const char *[]){ "apply", sandbox_path("p/web.yaml"), NULL }), 0);
	cr_assert_eq(sandbox_sysctl_get(SYNBACKLOG), 20000);
}

Test(e2e_apply, kernel_rejecting_the_second_key_restores_the_first)
{
	char *err, before[256], after[256];

	start_values();
	/* ip_local_port_range below ip_unprivileged_port_start (1024) is
	 * refused by the kernel itself: a failure qtune cannot foresee. */
	sandbox_write("p/bad.yaml",
		      "qtune: 1\nsysctl:\n  net.core.somaxconn: 1000\n"
		      "  net.ipv4.ip_local_port_range: \"500 60000\"\n  net.ipv4.tcp_syncookies: 2\n", 0644);
	snapshot(before, sizeof(before));
	int rc = run(NULL, &err, (const char *[]){ "apply", sandbox_path("p/bad.yaml"), NULL });
	cr_assert_eq(rc, 2, "stderr: %s", err);
	cr_assert(strstr(err, "ip_local_port_range"), "%s", err);
	cr_assert(strstr(err, "restored"), "%s", err);
	snapshot(after, sizeof(after));
	cr_assert_str_eq(after, before);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 128);
	free(err);
}

Test(e2e_apply, dry_run_changes_nothing)
{
	char *out, before[256], after[256];

	start_values();
	sandbox_write("p/web.yaml", web, 0644);
	snapshot(before, sizeof(before));
	cr_assert_eq(run(&out, NULL, (const char *[]){ "apply", "--dry-run", sandbox_path("p/web.yaml"), NULL }), 0);
	snapshot(after, sizeof(after));
	cr_assert_str_eq(after, before);
	cr_assert(strstr(out, "4096"), "the plan names the new value: %s", out);
	cr_assert(strstr(out, "nothing written"), "%s", out);
	free(out);
}

Test(e2e_apply, check_exits_1_on_drift_and_0_when_compliant)
{
	char *out;

	start_values();
	sandbox_write("p/web.yaml", web, 0644);
	cr_assert_eq(run(&out, NULL, (const char *[]){ "check", sandbox_path("p/web.yaml"), NULL }), 1);
	cr_assert(strstr(out, "drift"), "%s", out);
	free(out);
	cr_assert_eq(run(NULL, NULL, (const char *[]){ "-q", "apply", sandbox_path("p/web.yaml"), NULL }), 0);
	cr_assert_eq(run(&out, NULL, (const char *[]){ "--json", "check", sandbox_path("p/web.yaml"), NULL }), 0);
	cr_assert(strstr(out, "\"compliant\":true"), "%s", out);
	free(out);
}

Test(e2e_apply, rollback_restores_the_values_from_before_the_apply)
{
	char before[256], after[256], *out;

	start_values();
	snapshot(before, sizeof(before));
	sandbox_write("p/web.yaml", web, 0644);
	cr_assert_eq(run(NULL, NULL, (const char *[]){ "apply", sandbox_path("p/web.yaml"), NULL }), 0);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 4096);
	cr_assert_eq(run(NULL, NULL, (const char *[]){ "rollback", NULL }), 0);
	snapshot(after, sizeof(after));
	cr_assert_str_eq(after, before);
	/* A second rollback has nothing left to undo. */
	cr_assert_eq(run(&out, NULL, (const char *[]){ "--json", "rollback", NULL }), 0);
	cr_assert(strstr(out, "\"changed\":false"), "%s", out);
	free(out);
}

Test(e2e_apply, bare_profile_name_found_on_the_search_path)
{
	start_values();
	sandbox_write("usr/share/qtune/profiles/web.yaml", web, 0644);
	sandbox_write("etc/qtune/profiles/web.yaml",
		      "qtune: 1\nsysctl:\n  net.core.somaxconn: 2048\n", 0644);
	cr_assert_eq(run(NULL, NULL, (const char *[]){ "apply", "web", NULL }), 0);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 2048, "/etc/qtune/profiles comes first");
	cr_assert_neq(run(NULL, NULL, (const char *[]){ "apply", "nosuch", NULL }), 0);
}

/* Every bad input of issue 2: exit 2, a FILE:LINE message, nothing changed. */
static const struct bad_case {
	const char *name, *text, *expect;
} bad_cases[] = {
	{ "syntax", "qtune: 1\nsysctl: [\n", "bad.yaml:" },
	{ "unknown-field", "qtune: 1\nfrobnicate: 1\nsysctl:\n  net.core.somaxconn: 1\n", "bad.yaml:2:" },
	{ "wrong-type", "qtune: 1\nsysctl: [1, 2]\n", "bad.yaml:2:" },
	{ "negative", "qtune: 1\nsysctl:\n  net.core.somaxconn: -5\n", "bad.yaml:3:" },
	{ "overflow", "qtune: 1\nsysctl:\n  net.core.somaxconn: 99999999999999999999\n", "bad.yaml:3:" },
	{ "min-gt-max", "qtune: 1\nsysctl:\n  net.core.somaxconn: {min: 10, max: 5}\n", "bad.yaml:3:" },
	{ "duplicate", "qtune: 1\nsysctl:\n  net.core.somaxconn: 1\n  net/core/somaxconn: 2\n", "bad.yaml:4:" },
	{ "traversal", "qtune: 1\nsysctl:\n  net/../../etc/passwd: 1\n", "bad.yaml:3:" },
	{ "no-such-key", "qtune: 1\nsysctl:\n  net.core.no_such_key: 1\n", "bad.yaml:3:" },
	{ "out-of-range", "qtune: 1\nsysctl:\n  net.ipv4.tcp_syncookies: 3\n", "bad.yaml:3:" },
	{ "empty", "", "bad.yaml" },
	{ "not-text", "qtune: 1\n\x01\x02\xff\xfe\n", "bad.yaml" },
	{ "alias", "qtune: 1\na: &x [1]\nsysctl: *x\n", "bad.yaml:" },
};

Test(e2e_apply, bad_profiles_are_refused_and_nothing_changes)
{
	char before[256], after[256], *err;

	start_values();
	snapshot(before, sizeof(before));
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		/* A good key first: it must not be written either. */
		sandbox_write("p/bad.yaml", bad_cases[i].text, 0644);
		int rc = run(NULL, &err, (const char *[]){ "apply", sandbox_path("p/bad.yaml"), NULL });
		cr_expect_eq(rc, 2, "%s: exit %d, stderr: %s", bad_cases[i].name, rc, err);
		cr_expect(strstr(err, bad_cases[i].expect), "%s: stderr lacks '%s': %s",
			  bad_cases[i].name, bad_cases[i].expect, err);
		snapshot(after, sizeof(after));
		cr_expect_str_eq(after, before, "%s changed something", bad_cases[i].name);
		free(err);
	}
}

Test(e2e_apply, include_cycle_is_refused)
{
	char *err;

	start_values();
	sandbox_write("p/a.yaml", "qtune: 1\ninclude: [b.yaml]\nsysctl:\n  net.core.somaxconn: 1000\n", 0644);
	sandbox_write("p/b.yaml", "qtune: 1\ninclude: [a.yaml]\n", 0644);
	cr_assert_eq(run(NULL, &err, (const char *[]){ "apply", sandbox_path("p/a.yaml"), NULL }), 2);
	cr_assert(strstr(err, "cycle"), "%s", err);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 128);
	free(err);
}

Test(e2e_apply, netns_option_targets_another_namespace)
{
	int ready[2];
	char nspath[64], c;
	pid_t child;

	start_values();
	cr_assert(pipe(ready) == 0);
	child = fork();
	cr_assert(child >= 0);
	if (child == 0) {
		/* A second namespace, held open by this child. */
		if (unshare(CLONE_NEWNET) != 0)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	cr_assert_eq(read(ready[0], &c, 1), 1);
	snprintf(nspath, sizeof(nspath), "/proc/%d/ns/net", (int)child);
	sandbox_write("p/one.yaml", "qtune: 1\nsysctl:\n  net.core.somaxconn: 777\n", 0644);
	int rc = run(NULL, NULL, (const char *[]){ "--netns", nspath, "apply", sandbox_path("p/one.yaml"), NULL });
	cr_assert_eq(rc, 0);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 128, "our own namespace must be untouched");

	/* Read it from inside the target: a check there reports compliance,
	 * while the same check here reports drift. */
	rc = run(NULL, NULL, (const char *[]){ "--netns", nspath, "check", sandbox_path("p/one.yaml"), NULL });
	cr_assert_eq(rc, 0, "the other namespace holds 777");
	rc = run(NULL, NULL, (const char *[]){ "check", sandbox_path("p/one.yaml"), NULL });
	cr_assert_eq(rc, 1);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

/* The lock serialises changes to the namespace's values, so it is the same
 * lock whatever --root says: on the real /run (the sandbox's own tmpfs
 * there), never a run/ made inside the root. */
Test(e2e_apply, applies_with_and_without_root_are_serialised_by_one_lock)
{
	int fd, status;
	pid_t rooted, plain;

	start_values();
	sandbox_write("p/one.yaml", "qtune: 1\nsysctl:\n  net.core.somaxconn: 999\n", 0644);
	sandbox_write("p/two.yaml", "qtune: 1\nsysctl:\n  net.ipv4.tcp_syncookies: 1\n", 0644);
	/* Without --root the record goes to /var/lib/qtune: a tmpfs of this
	 * test's mount namespace, not the machine's. */
	cr_assert(mount("qtune-var-lib", "/var/lib", "tmpfs", 0, "mode=0755") == 0,
		  "tmpfs on /var/lib: %s", strerror(errno));
	fd = open("/run/qtune.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	cr_assert(fd >= 0, "/run/qtune.lock: %s", strerror(errno));
	cr_assert(flock(fd, LOCK_EX) == 0);
	/* flock belongs to the open file: the children must not hold it. */
	rooted = fork();
	if (rooted == 0 && close(fd) == 0)
		_exit(run(NULL, NULL, (const char *[]){ "apply", sandbox_path("p/one.yaml"), NULL }));
	plain = fork();
	if (plain == 0 && close(fd) == 0)
		_exit(sandbox_qtune(NULL, NULL, (const char *[]){ "apply", sandbox_path("p/two.yaml"), NULL }));
	usleep(300 * 1000);
	cr_expect_eq(sandbox_sysctl_get(SOMAXCONN), 128, "apply --root ran while another held the lock");
	cr_expect_eq(sandbox_sysctl_get(COOKIES), 0, "apply ran while another held the lock");
	close(fd);
	cr_assert_eq(waitpid(rooted, &status, 0), rooted);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_eq(waitpid(plain, &status, 0), plain);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_expect_eq(sandbox_sysctl_get(SOMAXCONN), 999);
	cr_expect_eq(sandbox_sysctl_get(COOKIES), 1);
	cr_expect(access(sandbox_path("run"), F_OK) < 0 && errno == ENOENT,
		  "qtune created run/ inside --root for a lock that is not there");
	umount2("/var/lib", MNT_DETACH);
}

Test(e2e_apply, output_errors_are_errors)
{
	const char *bin = getenv("QTUNE_BIN");
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "%s show > /dev/full 2>/dev/null", bin);
	int st = system(cmd);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2, "qtune show > /dev/full must exit 2");
}

Test(e2e_apply, usage_errors_exit_2)
{
	cr_assert_eq(sandbox_qtune(NULL, NULL, (const char *[]){ "frobnicate", NULL }), 2);
	cr_assert_eq(sandbox_qtune(NULL, NULL, (const char *[]){ "apply", NULL }), 2);
	cr_assert_eq(sandbox_qtune(NULL, NULL, (const char *[]){ "show", "--dry-run", NULL }), 2);
	cr_assert_eq(sandbox_qtune(NULL, NULL, (const char *[]){ "--output", "xml", "show", NULL }), 2);
	cr_assert_eq(sandbox_qtune(NULL, NULL, (const char *[]){ "--version", NULL }), 0);
}
