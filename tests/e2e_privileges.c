/* End-to-end: qtune as the kernel judges its privileges. The tests run as
 * root and change identity and capabilities in the forked child before
 * qtune starts (setpriv from util-linux): uid 65534 with nothing, uid
 * 65534 with only CAP_NET_ADMIN, and root — whose running apply is
 * inspected in /proc to prove what it kept. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

TestSuite(e2e_privileges, .init = sandbox_enter, .fini = sandbox_leave);

#define SETPRIV "/usr/bin/setpriv"
#define NOBODY "65534"
#define SOMAXCONN "net/core/somaxconn"
#define COOKIES "net/ipv4/tcp_syncookies"

enum who {
	ROOT,              /* the test's own identity: uid 0, every capability */
	NOBODY_BARE,       /* uid 65534, no capability at all */
	NOBODY_NET_ADMIN,  /* uid 65534, CAP_NET_ADMIN only, as an ambient capability */
};

static const char *const setpriv_bare[] = {
	"--reuid=" NOBODY, "--regid=" NOBODY, "--clear-groups",
	"--inh-caps=-all", "--bounding-set=-all", NULL,
};
static const char *const setpriv_net_admin[] = {
	"--reuid=" NOBODY, "--regid=" NOBODY, "--clear-groups",
	"--inh-caps=-all,+net_admin", "--ambient-caps=+net_admin",
	"--bounding-set=-all,+net_admin", NULL,
};

/* qtune --root SANDBOX args..., as who. For uid 65534 the child runs
 * setpriv, which changes identity and capabilities, then execs
 * $QTUNE_BIN (a valgrind wrapper works as well as the binary). */
static int run_as(enum who who, char **out, char **err, const char *const *args)
{
	const char *const *opts = who == NOBODY_BARE ? setpriv_bare : setpriv_net_admin;
	const char *argv[64];
	size_t n = 0;

	if (who == ROOT)
		return sandbox_qtune_rooted(out, err, args);
	cr_assert(access(SETPRIV, X_OK) == 0, SETPRIV " (util-linux) is needed: %s", strerror(errno));
	cr_assert(getenv("QTUNE_BIN"), "QTUNE_BIN is not set (run the tests through make check)");
	char *bin = strdup(getenv("QTUNE_BIN"));
	for (size_t i = 0; opts[i]; i++)
		argv[n++] = opts[i];
	argv[n++] = bin;
	argv[n++] = "--root";
	argv[n++] = sandbox_root;
	for (size_t i = 0; args[i] && n + 1 < sizeof(argv) / sizeof(argv[0]); i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	/* sandbox_qtune() runs $QTUNE_BIN: point it at setpriv for this run. */
	setenv("QTUNE_BIN", SETPRIV, 1);
	int rc = sandbox_qtune(out, err, argv);
	setenv("QTUNE_BIN", bin, 1);
	free(bin);
	return rc;
}

/* The lock (on the sandbox's own /run, where qtune looks whatever --root
 * says) and the state directory in --root, owned by uid 65534 so that the
 * privilege under test is the only thing missing. */
static void lock_for_nobody(void)
{
	int fd = open("/run/qtune.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	cr_assert(fd >= 0, "/run/qtune.lock: %s", strerror(errno));
	cr_assert(fchown(fd, 65534, 65534) == 0);
	close(fd);
}

static void dirs_for_nobody(void)
{
	lock_for_nobody();
	sandbox_write("var/lib/qtune/.keep", "", 0600);
	unlink(sandbox_path("var/lib/qtune/.keep"));
	cr_assert(chmod(sandbox_path("var/lib/qtune"), 0700) == 0);
	cr_assert(chown(sandbox_path("var/lib/qtune"), 65534, 65534) == 0);
}

/* Number of entries in a sandbox directory (the state directory holds
 * nothing until an apply records something). */
static size_t entries(const char *rel)
{
	DIR *dh = opendir(sandbox_path(rel));
	struct dirent *e;
	size_t n = 0;

	if (!dh)
		return 0;
	while ((e = readdir(dh)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(dh);
	return n;
}

static void start_values(void)
{
	sandbox_sysctl_set(SOMAXCONN, "128");
	sandbox_sysctl_set(COOKIES, "1");
}

/* uid 65534 with CAP_NET_ADMIN undoes the last apply. */
static void rollback_as_net_admin_restores_start_values(void)
{
	char *err;

	int rc = run_as(NOBODY_NET_ADMIN, NULL, &err, (const char *[]){ "rollback", NULL });
	cr_assert_eq(rc, 0, "stderr: %s", err);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 128);
	cr_assert_eq(sandbox_sysctl_get(COOKIES), 1);
	free(err);
}

static const char net_profile[] =
	"qtune: 1\nsysctl:\n  net.core.somaxconn: 1000\n  net.ipv4.tcp_syncookies: 0\n";

Test(e2e_privileges, nobody_without_capabilities_is_refused_and_nothing_changes)
{
	char *out, *err;

	start_values();
	dirs_for_nobody();
	sandbox_write("p/net.yaml", net_profile, 0644);
	int rc = run_as(NOBODY_BARE, &out, &err, (const char *[]){ "apply", sandbox_path("p/net.yaml"), NULL });
	cr_assert_eq(rc, 2, "stderr: %s", err);
	cr_assert(strstr(err, "cannot write net.core.somaxconn"), "%s", err);
	cr_assert(strstr(err, "cannot write net.ipv4.tcp_syncookies"), "every key is named: %s", err);
	cr_assert(strstr(err, "run as root, or grant CAP_NET_ADMIN"), "%s", err);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 128);
	cr_assert_eq(sandbox_sysctl_get(COOKIES), 1);
	cr_assert_eq(entries("var/lib/qtune"), 0, "a refused apply records nothing");
	free(out);
	free(err);

	/* A dry run needs no privilege: it previews and warns. */
	rc = run_as(NOBODY_BARE, &out, &err,
		    (const char *[]){ "apply", "--dry-run", sandbox_path("p/net.yaml"), NULL });
	cr_assert_eq(rc, 0, "stderr: %s", err);
	cr_assert(strstr(err, "warning") && strstr(err, "CAP_NET_ADMIN"), "%s", err);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 128);
	free(out);
	free(err);
}

Test(e2e_privileges, nobody_on_a_root_owned_tree_is_told_to_run_as_root)
{
	char *err;

	/* As on a real host: /run and /var/lib belong to root. */
	start_values();
	sandbox_write("p/net.yaml", net_profile, 0644);
	int rc = run_as(NOBODY_BARE, NULL, &err, (const char *[]){ "apply", sandbox_path("p/net.yaml"), NULL });
	cr_assert_eq(rc, 2, "stderr: %s", err);
	cr_assert(strstr(err, "run as root"), "%s", err);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 128);
	free(err);
}

Test(e2e_privileges, nobody_with_cap_net_admin_applies_and_rolls_back_a_net_profile)
{
	char *out, *err;

	start_values();
	dirs_for_nobody();
	sandbox_write("p/net.yaml", net_profile, 0644);
	int rc = run_as(NOBODY_NET_ADMIN, &out, &err,
			(const char *[]){ "-v", "apply", sandbox_path("p/net.yaml"), NULL });
	cr_assert_eq(rc, 0, "stderr: %s", err);
	cr_assert(strstr(out, "apply: changed"), "%s", out);
	cr_assert(strstr(err, "capabilities kept: cap_net_admin;"), "only what it holds and needs: %s", err);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 1000);
	cr_assert_eq(sandbox_sysctl_get(COOKIES), 0);
	cr_assert_eq(entries("var/lib/qtune"), 1, "the record of the apply");
	free(out);
	free(err);
	rollback_as_net_admin_restores_start_values();
}

Test(e2e_privileges, nobody_with_cap_net_admin_is_refused_a_host_wide_key_before_any_change)
{
	char *err, msgmax[64], msgmax_after[64];

	start_values();
	dirs_for_nobody();
	/* kernel.msgmax is IPC-scoped and the sandbox has its own IPC
	 * namespace; vm.swappiness is host-wide, but uid 65534 without
	 * CAP_DAC_OVERRIDE could not write it even if qtune tried. */
	sandbox_sysctl_text("kernel/msgmax", msgmax, sizeof(msgmax));
	long long target = strtoll(msgmax, NULL, 10) + 1000;
	char text[512];
	snprintf(text, sizeof(text),
		 "qtune: 1\nsysctl:\n  net.core.somaxconn: 1000\n  kernel.msgmax: %lld\n", target);
	sandbox_write("p/kernel.yaml", text, 0644);
	sandbox_write("p/vm.yaml", "qtune: 1\nsysctl:\n  net.core.somaxconn: 1000\n"
		      "  vm.swappiness: 1\n", 0644);

	/* In a non-initial network namespace: host-wide, refused as such. */
	int rc = run_as(NOBODY_NET_ADMIN, NULL, &err, (const char *[]){ "apply", sandbox_path("p/kernel.yaml"), NULL });
	cr_assert_eq(rc, 2, "stderr: %s", err);
	cr_assert(strstr(err, "kernel.yaml:4:3: kernel.msgmax is host-wide"), "%s", err);
	cr_assert(strstr(err, "--allow-global"), "%s", err);
	free(err);
	rc = run_as(NOBODY_NET_ADMIN, NULL, &err, (const char *[]){ "apply", sandbox_path("p/vm.yaml"), NULL });
	cr_assert_eq(rc, 2, "stderr: %s", err);
	cr_assert(strstr(err, "vm.swappiness is host-wide"), "%s", err);
	free(err);

	/* Allowed on purpose: then the kernel's own answer refuses it. */
	rc = run_as(NOBODY_NET_ADMIN, NULL, &err,
		    (const char *[]){ "apply", "--allow-global", sandbox_path("p/kernel.yaml"), NULL });
	cr_assert_eq(rc, 2, "stderr: %s", err);
	cr_assert(strstr(err, "kernel.yaml:4:3: cannot write kernel.msgmax"), "%s", err);
	cr_assert(strstr(err, "(run as root)"), "%s", err);
	cr_assert(!strstr(err, "somaxconn"), "the net.* key is allowed: %s", err);
	free(err);

	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 128, "nothing may change before the refusal");
	sandbox_sysctl_text("kernel/msgmax", msgmax_after, sizeof(msgmax_after));
	cr_assert_str_eq(msgmax_after, msgmax);
	cr_assert_eq(entries("var/lib/qtune"), 0);
}

Test(e2e_privileges, rollback_preflights_too)
{
	char *err;

	start_values();
	sandbox_write("p/net.yaml", net_profile, 0644);
	cr_assert_eq(run_as(ROOT, NULL, NULL, (const char *[]){ "apply", sandbox_path("p/net.yaml"), NULL }), 0);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 1000);
	/* Hand the lock and the record to uid 65534. */
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "chown -R 65534:65534 %s", sandbox_path("var/lib/qtune"));
	cr_assert_eq(system(cmd), 0);
	lock_for_nobody();

	int rc = run_as(NOBODY_BARE, NULL, &err, (const char *[]){ "rollback", NULL });
	cr_assert_eq(rc, 2, "stderr: %s", err);
	cr_assert(strstr(err, "cannot write net.core.somaxconn"), "%s", err);
	cr_assert(strstr(err, "CAP_NET_ADMIN"), "%s", err);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 1000, "a refused rollback changes nothing");
	cr_assert_eq(entries("var/lib/qtune"), 1, "and keeps the record");
	free(err);
	rollback_as_net_admin_restores_start_values();
}

Test(e2e_privileges, check_and_listeners_as_nobody_say_what_they_could_not_see)
{
	char *out, *err, mine[32];
	uint16_t port;

	start_values();
	/* A listener owned by root (this test process). */
	int fd = sandbox_listen("127.0.0.1", 0, 16, &port);
	char row[32];
	snprintf(row, sizeof(row), "127.0.0.1:%u", port);
	sandbox_write("p/net.yaml", "qtune: 1\nsysctl:\n  net.core.somaxconn: 128\n"
		      "listeners:\n  min_backlog: 64\n", 0644);

	int rc = run_as(NOBODY_BARE, &out, &err, (const char *[]){ "listeners", NULL });
	cr_assert(rc == 0 || rc == 1, "exit %d, stderr: %s", rc, err);
	char *line = strstr(out, row);
	cr_assert(line, "the listener is listed: %s", out);
	cr_assert(strstr(line, "owner unknown (needs root)"), "%s", out);
	cr_assert(strstr(out, "run as root to see every owner"), "%s", out);
	free(out);
	free(err);

	rc = run_as(NOBODY_BARE, &out, &err, (const char *[]){ "--json", "listeners", NULL });
	cr_assert(rc == 0 || rc == 1, "exit %d, stderr: %s", rc, err);
	cr_assert(strstr(out, "\"owners_complete\":false"), "%s", out);
	cr_assert(strstr(out, "\"owners_known\":false"), "%s", out);
	free(out);
	free(err);

	/* check: the sysctl part complies, the listener is below min_backlog;
	 * drift (1), not trouble (2), with the owner it could not see. */
	rc = run_as(NOBODY_BARE, &out, &err, (const char *[]){ "check", sandbox_path("p/net.yaml"), NULL });
	cr_assert_eq(rc, 1, "stderr: %s", err);
	cr_assert(strstr(out, "below-min"), "%s", out);
	cr_assert(strstr(out, "owner unknown (needs root)"), "%s", out);
	free(out);
	free(err);

	/* Root sees the owner: the difference is the privilege, nothing else. */
	rc = run_as(ROOT, &out, &err, (const char *[]){ "listeners", NULL });
	cr_assert(rc == 0 || rc == 1, "exit %d, stderr: %s", rc, err);
	snprintf(mine, sizeof(mine), "[%d]", (int)getpid());
	line = strstr(out, row);
	cr_assert(line && strstr(line, mine), "root sees pid %d: %s", (int)getpid(), out);
	cr_assert(!strstr(out, "owner unknown"), "%s", out);
	free(out);
	free(err);
	close(fd);
}

/* The capabilities the -v line says a command kept, as root. */
static void assert_kept(const char *const *args, const char *expect)
{
	char *err, want[128];

	int rc = run_as(ROOT, NULL, &err, args);
	cr_assert(rc == 0 || rc == 1, "%s: exit %d, stderr: %s", args[1], rc, err);
	snprintf(want, sizeof(want), "capabilities kept: %s; no_new_privs set", expect);
	cr_assert(strstr(err, want), "%s: expected '%s' in: %s", args[1], want, err);
	free(err);
}

Test(e2e_privileges, each_command_keeps_only_what_its_row_asks_for)
{
	start_values();
	sandbox_write("p/net.yaml", net_profile, 0644);
	assert_kept((const char *[]){ "-v", "show", NULL }, "none");
	assert_kept((const char *[]){ "-v", "validate", sandbox_path("p/net.yaml"), NULL }, "none");
	assert_kept((const char *[]){ "-v", "profiles", NULL }, "none");
	assert_kept((const char *[]){ "-v", "listeners", NULL }, "cap_sys_ptrace,cap_dac_read_search");
	assert_kept((const char *[]){ "-v", "check", sandbox_path("p/net.yaml"), NULL },
		    "cap_sys_ptrace,cap_dac_read_search");
	assert_kept((const char *[]){ "-v", "apply", sandbox_path("p/net.yaml"), NULL },
		    "cap_sys_ptrace,cap_dac_read_search,cap_net_admin");
	assert_kept((const char *[]){ "-v", "rollback", NULL }, "cap_net_admin");
}

/* ---- a running apply, seen from /proc ---- */

/* A profile with hundreds of keys: somaxconn changes, and every
 * per-interface key of lo/all/default is asked to stay as it is, so that
 * `apply -v` prints a plan far longer than a pipe holds. */
static size_t write_long_profile(const char *rel)
{
	static const char *const dirs[] = {
		"net/ipv4/conf/lo", "net/ipv4/conf/all", "net/ipv4/conf/default",
		"net/ipv6/conf/lo", "net/ipv6/conf/all", "net/ipv6/conf/default",
	};
	char *text = NULL, path[512], value[256];
	size_t len = 0, n = 0;
	FILE *m = open_memstream(&text, &len);

	fprintf(m, "qtune: 1\nsysctl:\n  net.core.somaxconn: 1000\n");
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && n < 400; i++) {
		snprintf(path, sizeof(path), "/proc/sys/%s", dirs[i]);
		DIR *dh = opendir(path);
		struct dirent *e;

		if (!dh)
			continue;
		while ((e = readdir(dh)) && n < 400) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/sys/%s/%s", dirs[i], e->d_name);
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			ssize_t r = fd < 0 ? -1 : read(fd, value, sizeof(value) - 1);
			if (fd >= 0)
				close(fd);
			if (r <= 0)
				continue;
			value[r] = '\0';
			for (char *p = value; *p; p++)
				if (*p == '\t' || *p == '\n')
					*p = ' ';
			while (r > 0 && value[r - 1] == ' ')
				value[--r] = '\0';
			if (!value[0] || strpbrk(value, "\"\\"))
				continue;
			fprintf(m, "  %s/%s: \"%s\"\n", dirs[i], e->d_name, value);
			n++;
		}
		closedir(dh);
	}
	fclose(m);
	sandbox_write(rel, text, 0644);
	free(text);
	return n;
}

static unsigned long long status_hex(const char *status, const char *field)
{
	const char *p = strstr(status, field);

	cr_assert(p, "no %s in /proc/PID/status", field);
	return strtoull(p + strlen(field), NULL, 16);
}

Test(e2e_privileges, a_running_apply_holds_only_the_capabilities_it_needs)
{
	const char *bin = getenv("QTUNE_BIN");
	const unsigned long long want = (1ULL << 2) | (1ULL << 12) | (1ULL << 19);
	char status[4096], buf[4096], *err = NULL;
	int out[2], status_fd, wstatus;
	size_t total = 0, errlen = 0;
	pid_t pid;

	cr_assert(bin);
	start_values();
	cr_assert_gt(write_long_profile("p/long.yaml"), 60);
	cr_assert(pipe2(out, O_CLOEXEC) == 0);
	/* One page: the report fills it and qtune blocks writing, alive,
	 * after it has dropped what it does not need. */
	cr_assert(fcntl(out[0], F_SETPIPE_SZ, 4096) >= 4096);
	int errfd = open(sandbox_path("stderr.txt"), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert(errfd >= 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		dup2(devnull, 0);
		dup2(out[1], 1);
		dup2(errfd, 2);
		execl(bin, "qtune", "-v", "--root", sandbox_root, "apply",
		      sandbox_path("p/long.yaml"), (char *)NULL);
		_exit(127);
	}
	close(out[1]);

	int queued = 0;
	for (int i = 0; i < 3000 && queued < 4096; i++) {
		cr_assert_eq(waitpid(pid, &wstatus, WNOHANG), 0,
			     "qtune exited before its report filled the pipe");
		cr_assert_eq(ioctl(out[0], FIONREAD, &queued), 0);
		if (queued < 4096)
			usleep(10 * 1000);
	}
	cr_assert_geq(queued, 4096, "the pipe never filled");

	snprintf(buf, sizeof(buf), "/proc/%d/status", (int)pid);
	status_fd = open(buf, O_RDONLY | O_CLOEXEC);
	cr_assert(status_fd >= 0);
	ssize_t n = read(status_fd, status, sizeof(status) - 1);
	close(status_fd);
	cr_assert_gt(n, 0);
	status[n] = '\0';

	/* Drain the report, then judge: a failed assertion must not leave
	 * qtune blocked. */
	for (ssize_t r; (r = read(out[0], buf, sizeof(buf))) > 0;)
		total += (size_t)r;
	close(out[0]);
	cr_assert_eq(waitpid(pid, &wstatus, 0), pid);

	const char *state = strstr(status, "State:\t");
	cr_assert(state && strchr("RSD", state[7]), "qtune was not running: %s", status);
	cr_assert_eq(status_hex(status, "CapEff:\t"), want, "%s", status);
	cr_assert_eq(status_hex(status, "CapPrm:\t"), want, "%s", status);
	cr_assert_eq(status_hex(status, "CapBnd:\t"), want, "%s", status);
	cr_assert_eq(status_hex(status, "CapInh:\t"), 0, "%s", status);
	cr_assert_eq(status_hex(status, "CapAmb:\t"), 0, "%s", status);
	cr_assert(strstr(status, "NoNewPrivs:\t1\n"), "%s", status);

	cr_assert(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0, "status %d", wstatus);
	cr_assert_gt(total, 8192, "the report was long enough to block");
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 1000);
	FILE *ef = fdopen(errfd, "r");
	rewind(ef);
	cr_assert(getdelim(&err, &errlen, '\0', ef) > 0);
	fclose(ef);
	cr_assert(strstr(err, "capabilities kept: cap_sys_ptrace,cap_dac_read_search,cap_net_admin;"),
		  "%s", err);
	free(err);
}
