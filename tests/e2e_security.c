/* End-to-end: what a local user can plant for root to read, through the
 * qtune binary in a private network namespace: a unit name made up inside
 * a delegated cgroup, control bytes in names qtune prints, and a reading
 * command that tries to write /proc/sys under Landlock. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

static char cgroup_top[512];     /* the test's cgroup tree, removed in fini */
static pid_t holder = -1;        /* the process holding the listener */

static void remove_tree(const char *dir)
{
	char sub[1024];
	static const char *const below[] = {
		"/user-1000.slice/user@1000.service/app.slice/sshd.service",
		"/user-1000.slice/user@1000.service/app.slice",
		"/user-1000.slice/user@1000.service",
		"/user-1000.slice",
		"",
	};

	for (size_t i = 0; i < sizeof(below) / sizeof(below[0]); i++) {
		snprintf(sub, sizeof(sub), "%s%s", dir, below[i]);
		rmdir(sub);
	}
}

static void security_fini(void)
{
	if (holder > 0) {
		kill(holder, SIGKILL);
		waitpid(holder, NULL, 0);
		holder = -1;
	}
	if (cgroup_top[0]) {
		remove_tree(cgroup_top);
		struct stat st;
		cr_expect(stat(cgroup_top, &st) < 0, "test cgroup %s left behind", cgroup_top);
	}
	sandbox_leave();
}

TestSuite(e2e_security, .init = sandbox_enter, .fini = security_fini);

/* The cgroup2 mount point, from mountinfo (field 5, filesystem type after
 * the " - " separator), into buf. */
static void cgroup2_mount(char *buf, size_t size)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096];

	cr_assert(f);
	buf[0] = '\0';
	while (!buf[0] && fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");
		char mnt[1024];
		if (sep && strncmp(sep + 3, "cgroup2 ", 8) == 0 &&
		    sscanf(line, "%*s %*s %*s %*s %1023s", mnt) == 1)
			snprintf(buf, size, "%s", mnt);
	}
	fclose(f);
	cr_assert(buf[0], "no cgroup2 mount in /proc/self/mountinfo");
}

static void mkdir_owned(const char *path, uid_t uid)
{
	cr_assert(mkdir(path, 0755) == 0, "mkdir %s: %s", path, strerror(errno));
	cr_assert(chown(path, uid, uid) == 0);
}

/* Forks a process named comm that listens on 127.0.0.1 (backlog 4096) in
 * the sandbox's namespace and waits; when procs is not NULL it is first
 * moved into that cgroup.procs file. *port receives the port. */
static pid_t spawn_listener(const char *comm, const char *procs, uint16_t *port)
{
	int p[2];

	cr_assert(pipe(p) == 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		uint16_t bound = 0;
		close(p[0]);
		if (procs) {
			int fd = open(procs, O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, "0\n", 2) != 2)
				_exit(1);
			close(fd);
		}
		prctl(PR_SET_NAME, comm, 0, 0, 0);
		sandbox_listen("127.0.0.1", 0, 4096, &bound);
		if (write(p[1], &bound, sizeof(bound)) != sizeof(bound))
			_exit(1);
		close(p[1]);
		for (;;)
			pause();
	}
	close(p[1]);
	cr_assert_eq(read(p[0], port, sizeof(*port)), (ssize_t)sizeof(*port),
		     "the listener did not start");
	close(p[0]);
	return pid;
}

Test(e2e_security, a_unit_made_up_in_a_delegated_cgroup_is_not_a_system_unit)
{
	char mnt[1024], dir[1024], procs[1100], *out, *err;
	uint16_t port;

	/* Named as systemd names the top of a user's tree, so that only the
	 * delegation below user@1000.service tells it apart. */
	cgroup2_mount(mnt, sizeof(mnt));
	snprintf(cgroup_top, sizeof(cgroup_top), "%s/qtune-test-%d.slice", mnt, (int)getpid());
	mkdir_owned(cgroup_top, 0);
	snprintf(dir, sizeof(dir), "%s/user-1000.slice", cgroup_top);
	mkdir_owned(dir, 0);
	/* What systemd delegates to the user: the manager's cgroup and all
	 * below it are the user's, cgroup.procs included. */
	snprintf(dir, sizeof(dir), "%s/user-1000.slice/user@1000.service", cgroup_top);
	mkdir_owned(dir, 1000);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	cr_assert(chown(procs, 1000, 1000) == 0);
	strcat(dir, "/app.slice");
	mkdir_owned(dir, 1000);
	strcat(dir, "/sshd.service");
	mkdir_owned(dir, 1000);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	cr_assert(chown(procs, 1000, 1000) == 0);

	sandbox_sysctl_set("net/core/somaxconn", "128");
	holder = spawn_listener("sshd", procs, &port);

	int rc = sandbox_qtune_rooted(&out, &err, (const char *[]){ "listeners", NULL });
	cr_assert_eq(rc, 0, "stderr: %s", err);
	cr_assert(strstr(out, "sshd["), "the holder is listed: %s", out);
	cr_assert_not(strstr(out, "sshd.service"), "a user's made-up unit named as a system unit: %s", out);
	cr_assert(strstr(out, "user unit of uid 1000"), "%s", out);
	free(out);
	free(err);

	rc = sandbox_qtune_rooted(&out, &err, (const char *[]){ "--json", "listeners", NULL });
	cr_assert_eq(rc, 0, "stderr: %s", err);
	cr_assert_not(strstr(out, "sshd.service"), "%s", out);
	/* The sshd owner's own object says it: its unit follows its comm, with
	 * exe between them now, so one literal cannot span both. */
	const char *owner = strstr(out, "\"comm\":\"sshd\",");
	cr_assert(owner, "%s", out);
	const char *unit = strstr(owner, "\"unit\":");
	cr_assert(unit && (size_t)(unit - owner) < 256 &&
		  strncmp(unit, "\"unit\":null,\"user_unit_uid\":1000", 32) == 0, "%s", out);
	free(out);
	free(err);

	/* The advice after raising the ceiling names the process, not a unit. */
	sandbox_write("p/raise.yaml", "qtune: 1\nsysctl:\n  net.core.somaxconn: 4096\n", 0644);
	rc = sandbox_qtune_rooted(&out, &err, (const char *[]){ "apply", sandbox_path("p/raise.yaml"),
								  NULL });
	cr_assert_eq(rc, 0, "stderr: %s", err);
	cr_assert_not(strstr(out, "sshd.service"), "%s", out);
	cr_assert_not(strstr(err, "sshd.service"), "%s", err);
	char advice[128];
	snprintf(advice, sizeof(advice), "sshd (pid %d, a user unit of uid 1000)", (int)holder);
	cr_assert(strstr(out, advice) || strstr(err, advice), "no '%s' in:\n%s\n%s", advice, out, err);
	free(out);
	free(err);
}

/* $QTUNE_HOOKS_BIN (the binary built with the test hooks) with --root
 * SANDBOX, told to try a /proc/sys write once it is confined. */
static int run_probing(char **out, char **err, const char *const *args)
{
	const char *hooks = getenv("QTUNE_HOOKS_BIN");
	cr_assert(hooks, "QTUNE_HOOKS_BIN is not set (run the tests through make check)");
	char *bin = strdup(getenv("QTUNE_BIN"));

	setenv("QTUNE_BIN", hooks, 1);
	setenv("QTUNE_TEST_WRITE_PROBE", "net/core/somaxconn", 1);
	int rc = sandbox_qtune_rooted(out, err, args);
	unsetenv("QTUNE_TEST_WRITE_PROBE");
	setenv("QTUNE_BIN", bin, 1);
	free(bin);
	return rc;
}

Test(e2e_security, reading_commands_cannot_write_proc_sys)
{
	char *out, *err;
	const char *profile = sandbox_path("p/web.yaml");
	sandbox_write("p/web.yaml", "qtune: 1\nsysctl:\n  net.core.somaxconn: 8192\n", 0644);
	const char *const *runs[] = {
		(const char *[]){ "show", NULL },
		(const char *[]){ "show", "--boot", NULL },
		(const char *[]){ "check", profile, NULL },
		(const char *[]){ "listeners", NULL },
		(const char *[]){ "validate", profile, NULL },
		(const char *[]){ "profiles", NULL },
		(const char *[]){ "relisten", "--dry-run", NULL },
		(const char *[]){ "apply", "--dry-run", profile, NULL },
		(const char *[]){ "--output", "prometheus", "--textfile",
				  sandbox_path("metrics/q.prom"), "show", NULL },
	};

	sandbox_write("metrics/.keep", "", 0644);
	sandbox_sysctl_set("net/core/somaxconn", "1000");
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		run_probing(&out, &err, runs[i]);
		cr_assert(strstr(err, "test hook: writing net/core/somaxconn: Permission denied"),
			  "%s did not fail to write with EACCES: %s", runs[i][0], err);
		cr_assert_eq(sandbox_sysctl_get("net/core/somaxconn"), 1000, "%s changed the value", runs[i][0]);
		free(out);
		free(err);
	}
	/* The --textfile directory stays writable for its atomic replace. */
	struct stat st;
	cr_assert(stat(sandbox_path("metrics/q.prom"), &st) == 0, "the textfile was not written");
}

Test(e2e_security, apply_may_write_proc_sys_and_its_record)
{
	char *out, *err;

	/* The hook is real: where the ruleset allows it, the write happens. */
	sandbox_write("p/web.yaml", "qtune: 1\nsysctl:\n  net.core.somaxconn: 8192\n", 0644);
	sandbox_sysctl_set("net/core/somaxconn", "1000");
	int rc = run_probing(&out, &err, (const char *[]){ "apply", sandbox_path("p/web.yaml"), NULL });
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert(strstr(err, "test hook: writing net/core/somaxconn: done"), "%s", err);
	cr_assert_eq(sandbox_sysctl_get("net/core/somaxconn"), 8192);
	free(out);
	free(err);
	rc = sandbox_qtune_rooted(&out, &err, (const char *[]){ "rollback", NULL });
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_eq(sandbox_sysctl_get("net/core/somaxconn"), 4242, "rollback restores what the apply found");
	free(out);
	free(err);
}

Test(e2e_security, apply_and_rollback_narrow_to_the_keys_they_change)
{
	char *out, *err;

	/* Before the plan, all of /proc/sys (the first probe writes); once
	 * the plan is known only its keys (the second is refused). */
	sandbox_write("p/cookies.yaml", "qtune: 1\nsysctl:\n  net.ipv4.tcp_syncookies: 2\n", 0644);
	sandbox_sysctl_set("net/core/somaxconn", "1000");
	sandbox_sysctl_set("net/ipv4/tcp_syncookies", "1");
	int rc = run_probing(&out, &err, (const char *[]){ "apply", sandbox_path("p/cookies.yaml"), NULL });
	cr_assert_eq(rc, 0, "%s", err);
	const char *first = strstr(err, "test hook: writing net/core/somaxconn: done");
	cr_assert(first, "%s", err);
	cr_assert(strstr(first, "test hook: writing net/core/somaxconn: Permission denied"),
		  "the narrowed ruleset let another key be written: %s", err);
	cr_assert_eq(sandbox_sysctl_get("net/ipv4/tcp_syncookies"), 2, "the plan's key was written");
	cr_assert_eq(sandbox_sysctl_get("net/core/somaxconn"), 4242);
	free(out);
	free(err);

	sandbox_sysctl_set("net/core/somaxconn", "1000");
	rc = run_probing(&out, &err, (const char *[]){ "rollback", NULL });
	cr_assert_eq(rc, 0, "%s", err);
	first = strstr(err, "test hook: writing net/core/somaxconn: done");
	cr_assert(first && strstr(first, "test hook: writing net/core/somaxconn: Permission denied"),
		  "%s", err);
	cr_assert_eq(sandbox_sysctl_get("net/ipv4/tcp_syncookies"), 1, "rollback restored the key");
	cr_assert_eq(sandbox_sysctl_get("net/core/somaxconn"), 4242);
	free(out);
	free(err);
}

/* No byte 0x1b (ESC, which starts every terminal control sequence) nor
 * 0x07 (BEL, which ends an OSC title) in what qtune printed. */
static void assert_no_escape(const char *what, const char *text)
{
	cr_assert_not(strchr(text, '\033'), "%s: an ESC byte reached the output: %s", what, text);
	cr_assert_not(strchr(text, '\007'), "%s: a BEL byte reached the output: %s", what, text);
}

static void run_clean(const char *const *args, const char *needle)
{
	char *out, *err;

	sandbox_qtune_rooted(&out, &err, args);
	assert_no_escape("stdout", out);
	assert_no_escape("stderr", err);
	if (needle)
		cr_assert(strstr(out, needle) || strstr(err, needle), "no '%s' in:\n%s\n%s", needle,
			  out, err);
	free(out);
	free(err);
}

#define ESCAPES "\033]0;pwned\007"

Test(e2e_security, an_include_name_cannot_steer_the_terminal)
{
	/* The YAML escapes \e and \a put the raw bytes into the name. */
	sandbox_write("p/evil.yaml", "qtune: 1\ninclude: [\"\\e]0;pwned\\a\"]\n"
		      "sysctl:\n  net.core.somaxconn: 4096\n", 0644);
	sandbox_write("p/evil2.yaml", "qtune: 1\ninclude: [\"x\\e[2K.yaml\"]\n", 0644);
	const char *p = sandbox_path("p/evil.yaml"), *p2 = sandbox_path("p/evil2.yaml");

	run_clean((const char *[]){ "validate", p, NULL }, "pwned");
	run_clean((const char *[]){ "--json", "validate", p, NULL }, "pwned");
	run_clean((const char *[]){ "check", p, NULL }, "pwned");
	run_clean((const char *[]){ "validate", p2, NULL }, "[2K");
	run_clean((const char *[]){ "--json", "check", p2, NULL }, "[2K");
	run_clean((const char *[]){ "apply", "--dry-run", p2, NULL }, "[2K");
}

Test(e2e_security, a_sysctld_file_name_cannot_steer_the_terminal)
{
	sandbox_write("etc/sysctl.d/" ESCAPES "10-a.conf", "net.core.somaxconn = 100\n", 0644);
	sandbox_write("etc/sysctl.d/20-b\033[2K.conf", "net.ipv4.tcp_syncookies = 1\n"
		      "net.core.somaxconn = 200\n", 0644);
	sandbox_write("p/web.yaml", "qtune: 1\nsysctl:\n  net.core.somaxconn: 4096\n", 0644);
	const char *p = sandbox_path("p/web.yaml");

	run_clean((const char *[]){ "show", "--boot", NULL }, "20-b");
	run_clean((const char *[]){ "--json", "show", "--boot", NULL }, "20-b");
	run_clean((const char *[]){ "-v", "check", p, NULL }, "20-b");
	run_clean((const char *[]){ "--json", "check", p, NULL }, "20-b");
	run_clean((const char *[]){ "apply", "--dry-run", p, NULL }, NULL);
}

/* The UTS namespace of the test runner (the parent of this test's
 * process, which never left the machine's) and this process's own. */
static void uts_namespaces(struct stat *runner, struct stat *self)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/uts", (int)getppid());
	cr_assert_eq(stat(path, runner), 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(stat("/proc/self/ns/uts", self), 0, "%s", strerror(errno));
}

Test(e2e_security, a_kernel_value_cannot_steer_the_terminal)
{
	/* A value the kernel hands back with escapes in it. The sandbox has its
	 * own UTS namespace (CLONE_NEWUTS), so sethostname() changes only the
	 * sandbox's name, and no kernel.* file under /proc/sys is written. That
	 * the sandbox's UTS namespace is not the runner's is checked first. */
	const char *name = ESCAPES "h";
	struct stat runner, self;

	uts_namespaces(&runner, &self);
	cr_assert(runner.st_ino != self.st_ino, "the sandbox shares the machine's UTS namespace");
	cr_assert_eq(sethostname(name, strlen(name)), 0, "sethostname: %s", strerror(errno));
	sandbox_write("p/host.yaml", "qtune: 1\nsysctl:\n  kernel.hostname: plain\n", 0644);

	run_clean((const char *[]){ "check", sandbox_path("p/host.yaml"), NULL }, "pwned");
	run_clean((const char *[]){ "--json", "check", sandbox_path("p/host.yaml"), NULL }, "pwned");
}

Test(e2e_security, a_profile_file_name_cannot_steer_the_terminal)
{
	sandbox_write("etc/qtune/profiles/we" ESCAPES "b.yaml", "qtune: 1\n", 0644);
	sandbox_write("etc/qtune/profiles/ok.yaml", "qtune: 1\ndescription: \"a\\e[2Kb\"\n", 0644);

	/* Listed escaped, or not listed at all: either way not raw. */
	run_clean((const char *[]){ "profiles", NULL }, "ok");
	run_clean((const char *[]){ "--json", "profiles", NULL }, "\"ok\"");
	run_clean((const char *[]){ "validate", "ok", NULL }, NULL);
}

Test(e2e_security, a_process_name_cannot_steer_the_terminal)
{
	uint16_t port;
	char needle[32];

	sandbox_sysctl_set("net/core/somaxconn", "128");
	holder = spawn_listener(ESCAPES, NULL, &port);
	snprintf(needle, sizeof(needle), "%u", port);
	/* check names owners only of listeners with a finding: give it one. */
	sandbox_write("p/web.yaml", "qtune: 1\nsysctl:\n  net.core.somaxconn: 4096\n"
		      "listeners:\n  min_backlog: 1000\n", 0644);

	run_clean((const char *[]){ "listeners", NULL }, "pwned");
	run_clean((const char *[]){ "--json", "listeners", NULL }, "pwned");
	run_clean((const char *[]){ "--output", "prometheus", "listeners", NULL }, needle);
	run_clean((const char *[]){ "check", sandbox_path("p/web.yaml"), NULL }, "pwned");
	run_clean((const char *[]){ "apply", sandbox_path("p/web.yaml"), NULL }, "pwned");
}
