/* --all-netns end to end: fifty namespaces, named and unnamed, some with
 * listeners owned by processes in cgroups that imitate Docker, containerd,
 * Podman and Kubernetes, each found once, labelled, audited with its own
 * somaxconn; check naming the one that drifts; a namespace vanishing
 * between the scan and its audit; an unprivileged run; promtool on the
 * merged metrics. The test runs in a PID namespace of its own, with its
 * /proc, so that the host's other namespaces stay out of the count. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

#define NNS 50
#define ID64 "3f4e5d6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80"
#define POD_UID "1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901"
#define POD_SLICE "kubepods-burstable-pod1b2c3d4e_5f60_7182_93a4_b5c6d7e8f901.slice"

struct ns {
	char name[32];          /* under /run/netns; "" unnamed */
	const char *cgroup;     /* relative to the test cgroup; NULL: none */
	int somaxconn;          /* 0: the default */
	int listeners;
	bool process;           /* a process holds it (else only the bind mount) */
	unsigned long long inode;
	char label[128];        /* expected */
	pid_t pid;              /* as fork() said (the test's PID namespace) */
	int inner;              /* as qtune sees it, in the namespace's own /proc */
	int release;            /* write end the holder waits on */
};

static struct ns nss[NNS];
static char cgroot[256];
static pid_t init_pid;

static const char *const cgroups[] = {
	"system.slice/docker-" ID64 ".scope",
	"system.slice/cri-containerd-" ID64 ".scope",
	"machine.slice/libpod-" ID64 ".scope",
	"kubepods.slice/kubepods-burstable.slice/" POD_SLICE "/cri-containerd-" ID64 ".scope",
};
static const char *const cgroup_labels[] = {
	"docker 3f4e5d6a7b8c", "containerd 3f4e5d6a7b8c", "podman 3f4e5d6a7b8c", "pod " POD_UID,
};

/* The cgroup2 mount, from mountinfo. */
static void find_cgroup2(char *out, size_t size)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[1024];

	out[0] = '\0';
	cr_assert(f);
	while (fgets(line, sizeof(line), f)) {
		char mnt[200], *sep = strstr(line, " - cgroup2 ");
		if (sep && sscanf(line, "%*s %*s %*s %*s %199s", mnt) == 1) {
			snprintf(out, size, "%s", mnt);
			break;
		}
	}
	fclose(f);
	cr_assert(out[0], "no cgroup2 mount in /proc/self/mountinfo");
}

static void mkdir_p(const char *path)
{
	char tmp[700];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0755);
			*p = '/';
		}
	cr_assert(mkdir(tmp, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", tmp, strerror(errno));
}

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		_exit(100);
	close(fd);
}

/* The holder of namespace n: a new network namespace, its cgroup, its
 * somaxconn and listeners, the bind mount; then it waits for the end. */
static void holder(const struct ns *n, int ready, int release)
{
	char path[600];
	struct stat st;

	if (unshare(CLONE_NEWNET) < 0)
		_exit(101);
	if (n->cgroup) {
		snprintf(path, sizeof(path), "%s/%s/cgroup.procs", cgroot, n->cgroup);
		write_file(path, "0");
	}
	if (n->somaxconn) {
		snprintf(path, sizeof(path), "%d", n->somaxconn);
		write_file("/proc/sys/net/core/somaxconn", path);
	}
	for (int i = 0; i < n->listeners; i++)
		if (sandbox_listen("0.0.0.0", (uint16_t)(8000 + i), 64, NULL) < 0)
			_exit(102);
	if (n->name[0]) {
		snprintf(path, sizeof(path), "/run/netns/%s", n->name);
		int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0444);
		if (fd < 0 || mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0)
			_exit(103);
		close(fd);
	}
	if (stat("/proc/self/ns/net", &st) < 0)
		_exit(104);
	unsigned long long msg[2] = { (unsigned long long)st.st_ino, (unsigned long long)getpid() };
	if (write(ready, msg, sizeof(msg)) != sizeof(msg))
		_exit(105);
	close(ready);
	if (!n->process)
		_exit(0);
	char c;
	while (read(release, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

static void spawn(struct ns *n)
{
	int ready[2], rel[2];

	cr_assert(pipe2(ready, O_CLOEXEC) == 0 && pipe2(rel, O_CLOEXEC) == 0);
	n->pid = fork();
	cr_assert(n->pid >= 0);
	if (n->pid == 0) {
		close(ready[0]);
		close(rel[1]);
		holder(n, ready[1], rel[0]);
	}
	close(ready[1]);
	close(rel[0]);
	n->release = rel[1];
	unsigned long long msg[2];
	cr_assert(read(ready[0], msg, sizeof(msg)) == sizeof(msg), "holder of namespace %s did not start",
		  n->name);
	n->inode = msg[0];
	n->inner = (int)msg[1];
	close(ready[0]);
	if (!n->process) {
		waitpid(n->pid, NULL, 0);
		n->pid = 0;
	}
}


/* Fifty namespaces: every fifth named without a process; the cgroup
 * kinds on a few unnamed ones; a distinct somaxconn on every seventh. */
static void build(void)
{
	char path[600];

	snprintf(cgroot + strlen(cgroot), sizeof(cgroot) - strlen(cgroot), "/qtune-allnetns-%d", (int)getpid());
	for (size_t k = 0; k < sizeof(cgroups) / sizeof(cgroups[0]); k++) {
		snprintf(path, sizeof(path), "%s/%s", cgroot, cgroups[k]);
		mkdir_p(path);
	}
	mkdir("/run/netns", 0755);
	for (int i = 0; i < NNS; i++) {
		struct ns *n = &nss[i];

		memset(n, 0, sizeof(*n));
		n->process = true;
		if (i % 5 == 0) {
			snprintf(n->name, sizeof(n->name), "qt-named-%02d", i);
			n->process = i % 10 != 0;
			snprintf(n->label, sizeof(n->label), "%s", n->name);
		} else if (i < 20 && i % 5 <= 4 && (size_t)(i / 5) < sizeof(cgroups) / sizeof(cgroups[0]) &&
			   i % 5 == 1) {
			n->cgroup = cgroups[i / 5];
			snprintf(n->label, sizeof(n->label), "%s", cgroup_labels[i / 5]);
		}
		if (i % 7 == 3)
			n->somaxconn = 1000 + i;
		if (n->process)
			n->listeners = i % 4;
		spawn(n);
		if (!n->label[0])
			snprintf(n->label, sizeof(n->label), "pid %d (qtune-tests)", n->inner);
	}
}

static void teardown(void)
{
	char path[600];

	/* Every holder inherited the release pipes of those before it. */
	for (int i = 0; i < NNS; i++) {
		if (nss[i].release > 0)
			close(nss[i].release);
		if (nss[i].pid > 0) {
			kill(nss[i].pid, SIGKILL);
			waitpid(nss[i].pid, NULL, 0);
		}
	}
	kill(init_pid, SIGKILL);
	waitpid(init_pid, NULL, 0);
	for (int k = (int)(sizeof(cgroups) / sizeof(cgroups[0])) - 1; k >= 0; k--) {
		/* deepest first: every component of the path */
		snprintf(path, sizeof(path), "%s/%s", cgroot, cgroups[k]);
		while (strlen(path) > strlen(cgroot)) {
			rmdir(path);
			*strrchr(path, '/') = '\0';
		}
	}
	rmdir(cgroot);
}

static void setup(void)
{
	sandbox_enter();
	find_cgroup2(cgroot, sizeof(cgroot));
	init_pid = sandbox_enter_pid_namespace();
	build();
}

static void fini(void)
{
	teardown();
	sandbox_leave();
}

TestSuite(e2e_allnetns, .init = setup, .fini = fini, .timeout = 60);

/* The summary row of inode in text; NULL when absent. Counts rows. */
static const char *summary_row(const char *text, unsigned long long inode, int *count)
{
	const char *sum = strstr(text, "\nsummary: "), *hit = NULL;
	char key[32];

	*count = 0;
	cr_assert(sum, "no summary in:\n%s", text);
	snprintf(key, sizeof(key), "\n%llu ", inode);
	for (const char *p = sum; (p = strstr(p, key)); p++) {
		hit = p + 1;
		(*count)++;
	}
	return hit;
}

Test(e2e_allnetns, fifty_namespaces_found_once_labelled_and_audited)
{
	char *out, *err;
	int rc = sandbox_qtune((char **)&out, &err, (const char *[]){ "listeners", "--all-netns", NULL });

	cr_assert_eq(rc, 0, "rc %d\n%s\n%s", rc, err, out);
	for (int i = 0; i < NNS; i++) {
		const struct ns *n = &nss[i];
		char want[256], somax[16];
		int count;
		const char *row = summary_row(out, n->inode, &count);

		cr_assert_eq(count, 1, "namespace %s (%llu) is in the summary %d times:\n%s", n->label,
			     n->inode, count, out);
		snprintf(somax, sizeof(somax), "%d", n->somaxconn ? n->somaxconn : 4096);
		/* NETNS LABEL SOMAXCONN LISTENERS FINDINGS VERDICT, aligned */
		const char *eol = strchr(row, '\n');
		char line[512];
		snprintf(line, sizeof(line), "%.*s", (int)(eol ? eol - row : (long)strlen(row)), row);
		cr_assert(strstr(line, n->label), "namespace %d: label %s not in: %s", i, n->label, line);
		snprintf(want, sizeof(want), " %s ", somax);
		cr_assert(strstr(line, want), "namespace %d: somaxconn %s not in: %s", i, somax, line);
		snprintf(want, sizeof(want), " %d         0  ok", n->listeners);
		cr_assert(strstr(line, want), "namespace %d: %d listeners not in: %s", i, n->listeners, line);
		/* The section header, once. */
		snprintf(want, sizeof(want), "== network namespace %llu: %s ==", n->inode, n->label);
		cr_assert(strstr(out, want), "no header %s", want);
		cr_assert_null(strstr(strstr(out, want) + 1, want), "header %s twice", want);
	}
	/* The owners were named, by the one walk for all namespaces: the
	 * holder of the containerd namespace owns its listeners. */
	char owner[64];
	snprintf(owner, sizeof(owner), "qtune-tests[%d]", nss[6].inner);
	cr_assert(nss[6].listeners > 0 && strstr(out, owner), "no owner %s in:\n%s", owner, out);
	free(out);
	free(err);
}

Test(e2e_allnetns, json_document_holds_every_namespace_document)
{
	char *out, *err, cmd[1024];
	int rc = sandbox_qtune(&out, &err, (const char *[]){ "show", "--all-netns", "--json", NULL });

	cr_assert_eq(rc, 0, "%s", err);
	sandbox_write("all.json", out, 0644);
	/* One document per namespace, each with its label; the summary. */
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
		 "assert d[\"all_netns\"] is True; ns=d[\"namespaces\"]; "
		 "assert len(ns) == len(d[\"summary\"]) >= %d, len(ns); "
		 "assert all(n[\"command\"] == \"show\" and \"keys\" in n and n[\"netns\"][\"label\"] for n in ns); "
		 "assert len({n[\"netns\"][\"inode\"] for n in ns}) == len(ns)' '%s'",
		 NNS, sandbox_path("all.json"));
	cr_assert_eq(system(cmd), 0, "JSON document:\n%s", out);
	free(out);
	free(err);
}

static const char profile[] =
	"qtune: 1\n"
	"name: web\n"
	"sysctl:\n"
	"  net.ipv4.tcp_syncookies: 1\n"
	"  net.core.somaxconn: {min: 128}\n";

Test(e2e_allnetns, check_exits_1_and_names_the_one_namespace_that_drifts)
{
	char *out, *err, want[320];
	const struct ns *drifted = &nss[11];
	char path[64];
	int rc;

	sandbox_write("etc/qtune/profiles/web.yaml", profile, 0644);
	rc = sandbox_qtune_rooted(&out, &err, (const char *[]){ "check", "--all-netns", "web", NULL });
	cr_assert_eq(rc, 0, "all compliant, yet rc %d:\n%s\n%s", rc, err, out);
	free(out);
	free(err);
	/* One of fifty drifts: somaxconn 100 < 128. */
	/* This process is outside the PID namespace whose /proc is mounted:
	 * PID 1 there shares its network namespace. */
	snprintf(path, sizeof(path), "/proc/%d/ns/net", drifted->inner);
	int fd = open(path, O_RDONLY | O_CLOEXEC), self = open("/proc/1/ns/net", O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0 && self >= 0);
	cr_assert(setns(fd, CLONE_NEWNET) == 0);
	sandbox_sysctl_set("net/core/somaxconn", "100");
	cr_assert(setns(self, CLONE_NEWNET) == 0);
	close(fd);
	close(self);
	rc = sandbox_qtune_rooted(&out, &err, (const char *[]){ "check", "--all-netns", "web", NULL });
	cr_assert_eq(rc, 1, "rc %d:\n%s\n%s", rc, err, out);
	int count;
	const char *row = summary_row(out, drifted->inode, &count);
	cr_assert(row && strncmp(strchr(row, '\n') - 5, "drift", 5) == 0, "%s", out);
	snprintf(want, sizeof(want), "  drift\n");
	const char *first = strstr(strstr(out, "\nsummary: "), want);
	cr_assert(first && !strstr(first + 1, want), "more than one namespace drifts:\n%s", out);
	free(out);
	free(err);
	rc = sandbox_qtune_rooted(&out, &err, (const char *[]){ "check", "--all-netns", "--output", "prometheus", "web", NULL });
	cr_assert_eq(rc, 1, "%s", err);
	snprintf(want, sizeof(want), "qtune_check_exit_code{netns=\"%llu\",netns_label=\"%s\",profile=\"web\"} 1",
		 drifted->inode, drifted->label);
	cr_assert(strstr(out, want), "no %s in:\n%s", want, out);
	sandbox_write("all.prom", out, 0644);
	snprintf(path, sizeof(path), "promtool check metrics < %s", sandbox_path("all.prom"));
	if (system("command -v promtool >/dev/null 2>&1") == 0 || getenv("QTUNE_REQUIRE_TOOLS"))
		cr_assert_eq(system(path), 0, "promtool refused:\n%s", out);
	free(out);
	free(err);
}

Test(e2e_allnetns, a_namespace_vanishing_mid_run_is_reported_not_fatal)
{
	char *out, *err, want[128];
	const char *hooks = getenv("QTUNE_HOOKS_BIN");
	char *bin = strdup(getenv("QTUNE_BIN"));
	const struct ns *gone = &nss[0];   /* named, no process: the mount holds it */

	cr_assert(hooks);
	setenv("QTUNE_BIN", hooks, 1);
	setenv("QTUNE_TEST_VANISH", gone->name, 1);
	int rc = sandbox_qtune(&out, &err, (const char *[]){ "show", "--all-netns", NULL });
	unsetenv("QTUNE_TEST_VANISH");
	setenv("QTUNE_BIN", bin, 1);
	free(bin);
	cr_assert_eq(rc, 0, "rc %d\n%s", rc, err);
	snprintf(want, sizeof(want), "netns %llu (%s): vanished before it could be audited", gone->inode, gone->name);
	cr_assert(strstr(err, want), "no '%s' in:\n%s", want, err);
	int count;
	const char *row = summary_row(out, gone->inode, &count);
	cr_assert(count == 1 && strstr(row, "vanished"), "%s", out);
	/* The others were audited all the same. */
	row = summary_row(out, nss[1].inode, &count);
	cr_assert(count == 1 && strncmp(strchr(row, '\n') - 2, "ok", 2) == 0, "%s", out);
	free(out);
	free(err);
}

/* A namespace the scan finds first through process a (the lowest pid in
 * it) and that process b, a's child, keeps alive too: somaxconn 1777 and
 * one listener, which b inherits. */
struct pair {
	pid_t a;                /* as fork() said */
	int a_inner, b_inner;   /* in the test's PID namespace, as qtune sees them */
	unsigned long long inode;
	int release;            /* closed: both exit */
};

static void pair_wait(int release)
{
	char c;

	while (read(release, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

static void pair_spawn(struct pair *p)
{
	int ready[2], rel[2];
	unsigned long long msg[3];

	cr_assert(pipe2(ready, O_CLOEXEC) == 0 && pipe2(rel, O_CLOEXEC) == 0);
	p->a = fork();
	cr_assert(p->a >= 0);
	if (p->a == 0) {
		struct stat st;
		pid_t b;

		close(ready[0]);
		close(rel[1]);
		if (unshare(CLONE_NEWNET) < 0)
			_exit(101);
		write_file("/proc/sys/net/core/somaxconn", "1777");
		if (sandbox_listen("0.0.0.0", 8080, 64, NULL) < 0 || stat("/proc/self/ns/net", &st) < 0)
			_exit(102);
		if ((b = fork()) < 0)
			_exit(103);
		if (b == 0) {
			close(ready[1]);
			pair_wait(rel[0]);
		}
		msg[0] = (unsigned long long)st.st_ino;
		msg[1] = (unsigned long long)getpid();
		msg[2] = (unsigned long long)b;
		if (write(ready[1], msg, sizeof(msg)) != sizeof(msg))
			_exit(104);
		close(ready[1]);
		pair_wait(rel[0]);
	}
	close(ready[1]);
	close(rel[0]);
	p->release = rel[1];
	cr_assert(read(ready[0], msg, sizeof(msg)) == sizeof(msg), "the pair's first process did not start");
	close(ready[0]);
	p->inode = msg[0];
	p->a_inner = (int)msg[1];
	p->b_inner = (int)msg[2];
	/* a comes first in /proc order: the scan finds the namespace through it. */
	cr_assert_lt(p->a_inner, p->b_inner);
}

/* Reaps a, which must have been killed (by the hook, or the test). */
static void pair_reap_first(struct pair *p)
{
	int status;

	cr_assert_eq(waitpid(p->a, &status, 0), p->a);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the first process was not ended: %d",
		  status);
}

/* show --all-netns (the test build) with the processes pids killed
 * between the scan and the audits. */
static int show_with_pids_gone(char **out, char **err, const char *pids)
{
	char *bin = strdup(getenv("QTUNE_BIN"));
	int rc;

	cr_assert(getenv("QTUNE_HOOKS_BIN"));
	setenv("QTUNE_BIN", getenv("QTUNE_HOOKS_BIN"), 1);
	setenv("QTUNE_TEST_VANISH_PIDS", pids, 1);
	rc = sandbox_qtune(out, err, (const char *[]){ "show", "--all-netns", NULL });
	unsetenv("QTUNE_TEST_VANISH_PIDS");
	setenv("QTUNE_BIN", bin, 1);
	free(bin);
	return rc;
}

/* The process the namespace was found through exits before its audit; the
 * other still keeps it: audited with its own values, not "vanished" (a
 * short-lived process first in /proc order would otherwise hide the
 * namespace's drift from check). */
Test(e2e_allnetns, a_namespace_whose_first_process_exits_is_audited_through_another)
{
	struct pair p;
	char *out, *err, pids[16], line[512];
	int count, rc;

	pair_spawn(&p);
	snprintf(pids, sizeof(pids), "%d", p.a_inner);
	rc = show_with_pids_gone(&out, &err, pids);
	pair_reap_first(&p);
	close(p.release);   /* b exits */
	cr_assert_eq(rc, 0, "rc %d\n%s\n%s", rc, err, out);
	cr_assert_null(strstr(err, "vanished"), "%s", err);
	const char *row = summary_row(out, p.inode, &count);
	cr_assert(count == 1, "%s", out);
	snprintf(line, sizeof(line), "%.*s", (int)(strchr(row, '\n') - row), row);
	cr_assert(strstr(line, " 1777 ") && strstr(line, " 1 ") && strcmp(line + strlen(line) - 2, "ok") == 0,
		  "not audited with its values: %s\n%s", line, out);
	free(out);
	free(err);
}

/* Every process it was seen in exits before its audit: "vanished". */
Test(e2e_allnetns, a_namespace_whose_every_process_exits_is_reported_vanished)
{
	struct pair p;
	char *out, *err, pids[32], want[160];
	int count, rc;

	pair_spawn(&p);
	snprintf(pids, sizeof(pids), "%d,%d", p.a_inner, p.b_inner);
	rc = show_with_pids_gone(&out, &err, pids);
	pair_reap_first(&p);
	close(p.release);   /* b exits */
	cr_assert_eq(rc, 0, "rc %d\n%s\n%s", rc, err, out);
	snprintf(want, sizeof(want), "netns %llu (pid %d (qtune-tests)): vanished before it could be audited",
		 p.inode, p.a_inner);
	cr_assert(strstr(err, want), "no '%s' in:\n%s", want, err);
	const char *row = summary_row(out, p.inode, &count);
	cr_assert(count == 1 && strstr(row, "vanished"), "%s", out);
	free(out);
	free(err);
}

Test(e2e_allnetns, unprivileged_run_reports_each_namespace_it_cannot_enter)
{
	char *out, *err, cmd[1024];

	snprintf(cmd, sizeof(cmd), "setpriv --reuid=65534 --regid=65534 --clear-groups %s show --all-netns "
		 "> %s 2> %s", getenv("QTUNE_BIN"), sandbox_path("u.out"), sandbox_path("u.err"));
	int status = system(cmd);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status %d", status);
	FILE *f = fopen(sandbox_path("u.err"), "re");
	cr_assert(f);
	err = calloc(1, 1 << 16);
	cr_assert(fread(err, 1, (1 << 16) - 1, f) > 0);
	fclose(f);
	char want[128];
	snprintf(want, sizeof(want), "(%s): cannot enter: Operation not permitted (needs CAP_SYS_ADMIN)", nss[5].name);
	cr_assert(strstr(err, want), "no '%s' in:\n%s", want, err);
	out = NULL;
	free(out);
	free(err);
}

Test(e2e_allnetns, changing_commands_refuse_all_netns)
{
	char *out, *err;

	cr_assert_eq(sandbox_qtune_rooted(&out, &err, (const char *[]){ "apply", "--all-netns", "web", NULL }), 2);
	cr_assert(strstr(err, "apply does not take --all-netns"), "%s", err);
	free(out);
	free(err);
	cr_assert_eq(sandbox_qtune_rooted(&out, &err, (const char *[]){ "rollback", "--all-netns", NULL }), 2);
	cr_assert(strstr(err, "rollback does not take --all-netns"), "%s", err);
	free(out);
	free(err);
	cr_assert_eq(sandbox_qtune(&out, &err, (const char *[]){ "show", "--all-netns", "--netns", "x", NULL }), 2);
	cr_assert(strstr(err, "--all-netns and --netns exclude each other"), "%s", err);
	free(out);
	free(err);
}

/* apply --netns A,B: each namespace changed all-or-nothing and reported;
 * one that cannot be entered fails alone. */
static void named_namespace(const char *name, unsigned long long *inode)
{
	char path[128];
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), fd;
	struct stat st;

	mkdir("/run/netns", 0755);
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0444);
	cr_assert(fd >= 0 && self >= 0);
	close(fd);
	cr_assert(unshare(CLONE_NEWNET) == 0);
	cr_assert(mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) == 0, "%s", strerror(errno));
	cr_assert(stat(path, &st) == 0);
	*inode = (unsigned long long)st.st_ino;
	cr_assert(setns(self, CLONE_NEWNET) == 0);
	close(self);
}

static long long somaxconn_in(const char *name)
{
	char path[128];
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), fd;
	long long v;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0 && setns(fd, CLONE_NEWNET) == 0);
	v = sandbox_sysctl_get("net/core/somaxconn");
	cr_assert(setns(self, CLONE_NEWNET) == 0);
	close(fd);
	close(self);
	return v;
}

TestSuite(e2e_apply_netns, .init = sandbox_enter, .fini = sandbox_leave);

Test(e2e_apply_netns, several_namespaces_each_applied_and_reported)
{
	char *out, *err;
	unsigned long long a, b;

	named_namespace("blue", &a);
	named_namespace("green", &b);
	sandbox_write("etc/qtune/profiles/t.yaml", "qtune: 1\nname: t\nsysctl:\n  net.core.somaxconn: 3000\n", 0644);
	int rc = sandbox_qtune_rooted(&out, &err, (const char *[]){ "apply", "--netns", "blue,green", "t", NULL });
	cr_assert_eq(rc, 0, "%s\n%s", err, out);
	cr_assert(strstr(out, "== network namespace blue ==") && strstr(out, "== network namespace green =="), "%s", out);
	cr_assert_eq(somaxconn_in("blue"), 3000);
	cr_assert_eq(somaxconn_in("green"), 3000);
	cr_assert_eq(sandbox_sysctl_get("net/core/somaxconn"), 4096, "the caller's namespace was changed");
	free(out);
	free(err);
	/* A namespace that does not exist fails alone: the other is applied. */
	sandbox_write("etc/qtune/profiles/u.yaml", "qtune: 1\nname: u\nsysctl:\n  net.core.somaxconn: 3100\n", 0644);
	rc = sandbox_qtune_rooted(&out, &err, (const char *[]){ "apply", "--netns", "nosuch", "--netns", "blue", "u", NULL });
	cr_assert_eq(rc, 2, "%s", err);
	cr_assert(strstr(err, "/run/netns/nosuch"), "%s", err);
	cr_assert_eq(somaxconn_in("blue"), 3100);
	cr_assert_eq(somaxconn_in("green"), 3000);
	free(out);
	free(err);
	/* Reading commands take one. */
	rc = sandbox_qtune_rooted(&out, &err, (const char *[]){ "check", "--netns", "blue,green", "t", NULL });
	cr_assert_eq(rc, 2);
	cr_assert(strstr(err, "check takes one --netns"), "%s", err);
	free(out);
	free(err);
}

/* ------------------------------------------------------ watch --all-netns */

/* A namespace whose one listener (127.0.0.1:9000, backlog 1, never
 * accepting) drops connections all the time: its holder connects to it
 * without end, a non-blocking connect every 20 ms; once the accept queue
 * holds backlog + 1, every SYN is dropped (ListenOverflows, ListenDrops,
 * the socket's sk_drops). Named under /run/netns. */
static pid_t spawn_dropper(const char *name, unsigned long long *inode)
{
	int ready[2];
	pid_t pid;

	cr_assert(pipe2(ready, O_CLOEXEC) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9000),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		char path[128];
		struct stat st;

		close(ready[0]);
		if (unshare(CLONE_NEWNET) < 0 || system("ip link set lo up") != 0)
			_exit(101);
		if (sandbox_listen("127.0.0.1", 9000, 1, NULL) < 0)
			_exit(102);
		snprintf(path, sizeof(path), "/run/netns/%s", name);
		int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0444);
		if (fd < 0 || mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0 ||
		    stat("/proc/self/ns/net", &st) < 0)
			_exit(103);
		close(fd);
		unsigned long long ino = (unsigned long long)st.st_ino;
		if (write(ready[1], &ino, sizeof(ino)) != sizeof(ino))
			_exit(104);
		close(ready[1]);
		for (int n = 0; n < 900; n++) {
			int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
			if (s >= 0)
				connect(s, (struct sockaddr *)&to, sizeof(to));
			usleep(20000);
		}
		pause();
		_exit(0);
	}
	close(ready[1]);
	cr_assert(read(ready[0], inode, sizeof(*inode)) == sizeof(*inode), "the dropper did not start");
	close(ready[0]);
	return pid;
}

/* validate.py --strict docs/schema watch LINE for every line of file. */
static void validate_watch_lines(const char *file)
{
	char cmd[2048];
	const char *src = getenv("QTUNE_SRCDIR") && *getenv("QTUNE_SRCDIR") ? getenv("QTUNE_SRCDIR") : ".";

	if (system("/usr/bin/python3 -c 'import jsonschema' >/dev/null 2>&1") != 0) {
		cr_assert_null(getenv("QTUNE_REQUIRE_TOOLS"), "python3-jsonschema is required");
		return;
	}
	snprintf(cmd, sizeof(cmd),
		 "d=$(mktemp -d) && split -l 1 '%s' \"$d/l\" && set -- && for f in \"$d\"/l*; do "
		 "set -- \"$@\" watch \"$f\"; done && /usr/bin/python3 '%s/tests/json/validate.py' --strict "
		 "'%s/docs/schema' \"$@\" >/dev/null; r=$?; rm -rf \"$d\"; exit $r",
		 file, src, src);
	cr_assert_eq(system(cmd), 0, "a line of %s is not valid against watch.json", file);
}

Test(e2e_allnetns, watch_json_lines_hold_every_namespace_and_drops_rise_where_provoked)
{
	char *out, *err, cmd[4096], inodes[NNS * 24] = "";
	unsigned long long dropper_ino;
	pid_t dropper = spawn_dropper("qt-dropper", &dropper_ino);
	int rc;

	rc = sandbox_qtune(&out, &err, (const char *[]){ "watch", "--all-netns", "--count", "3", "--json", NULL });
	kill(dropper, SIGKILL);
	waitpid(dropper, NULL, 0);
	cr_assert_eq(rc, 0, "rc %d\n%s", rc, err);
	sandbox_write("watch.jsonl", out, 0644);
	for (int i = 0; i < NNS; i++)
		snprintf(inodes + strlen(inodes), sizeof(inodes) - strlen(inodes), "%s%llu", i ? "," : "",
			 nss[i].inode);
	/* Three samples and the summary; every sample holds every namespace
	 * once, as watch --netns would print it; the dropper's listener alone
	 * drops, more at each sample, and its namespace alone has a
	 * ListenDrops rate. */
	sandbox_write("check.py",
		      "import json, sys\n"
		      "lines = [json.loads(l) for l in open(sys.argv[1])]\n"
		      "dropper = int(sys.argv[2]); ours = set(map(int, sys.argv[3].split(',')))\n"
		      "assert len(lines) == 4, len(lines)\n"
		      "samples, summ = lines[:3], lines[3]\n"
		      "assert summ['type'] == 'summary' and summ['all_netns'] is True and summ['samples'] == 3\n"
		      "every = {r['inode'] for r in summ['summary']}\n"
		      "assert ours | {dropper} <= every, (ours | {dropper}) - every\n"
		      "prev = -1\n"
		      "for k, d in enumerate(samples, 1):\n"
		      "    assert d['all_netns'] is True and d['type'] == 'sample' and d['sample'] == k\n"
		      "    inos = [n['netns']['inode'] for n in d['namespaces']]\n"
		      "    assert len(inos) == len(set(inos)) and set(inos) == every, k\n"
		      "    for n in d['namespaces']:\n"
		      "        assert n['command'] == 'watch' and n['type'] == 'sample' and n['sample'] == k\n"
		      "        assert n['netns']['label']\n"
		      "        drops = sum(l['drops'] for l in n['listeners'])\n"
		      "        rate = n['tcpext_per_second']['ListenDrops']\n"
		      "        if n['netns']['inode'] == dropper:\n"
		      "            assert n['netns']['label'] == 'qt-dropper'\n"
		      "            assert drops > prev, (k, drops, prev)\n"
		      "            prev = drops\n"
		      "            if k > 1:\n"
		      "                assert rate > 0 and n['listeners'][0]['drops_per_second'] > 0, n\n"
		      "        elif n['netns']['inode'] in ours:\n"
		      "            assert drops == 0 and rate == 0, n\n"
		      "d = [n for n in summ['namespaces'] if n['netns']['inode'] == dropper][0]\n"
		      "assert d['type'] == 'summary' and d['listeners'][0]['window_drops'] > 0\n"
		      "assert d['listeners'][0]['advice'], d\n",
		      0644);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s %llu %s", sandbox_path("check.py"),
		 sandbox_path("watch.jsonl"), dropper_ino, inodes);
	cr_assert_eq(system(cmd), 0, "watch --all-netns --json:\n%.4000s", out);
	validate_watch_lines(sandbox_path("watch.jsonl"));
	free(out);
	free(err);
}

/* qtune in the background, its stdout into file: its pid. */
static pid_t qtune_background(const char *file, const char *const argv[])
{
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		size_t n = 0;
		const char *args[16] = { "qtune" };

		while (argv[n] && n < 14) {
			args[n + 1] = argv[n];
			n++;
		}
		if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
			_exit(127);
		execv(getenv("QTUNE_BIN"), (char *const *)args);
		_exit(127);
	}
	return pid;
}

/* How many lines file holds now. */
static int lines_in(const char *file)
{
	FILE *f = fopen(file, "re");
	int n = 0, c;

	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* Waits until file holds n lines (30 s at most). */
static void wait_for_lines(const char *file, int n)
{
	for (int i = 0; i < 600 && lines_in(file) < n; i++)
		usleep(50000);
	cr_assert_geq(lines_in(file), n, "%s: fewer than %d lines", file, n);
}

/* Reaps pid, which must have exited 0. */
static void reaped_ok(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
}

Test(e2e_allnetns, watch_reports_a_namespace_deleted_mid_watch_once_and_goes_on)
{
	const struct ns *gone = &nss[10];   /* named, no process: the mount holds it */
	char file[512], cmd[2048], path[128];
	pid_t pid;

	snprintf(file, sizeof(file), "%s", sandbox_path("vanish.jsonl"));
	pid = qtune_background(file, (const char *[]){ "watch", "--all-netns", "--count", "4",
							      "--interval", "1", "--json", NULL });

	wait_for_lines(file, 1);
	/* ip netns del: the name goes; qtune's child still holds it. */
	snprintf(path, sizeof(path), "/run/netns/%s", gone->name);
	cr_assert(umount2(path, MNT_DETACH) == 0 && unlink(path) == 0, "%s: %s", path, strerror(errno));
	reaped_ok(pid);
	/* In the first sample; in one later sample a document of its own
	 * saying it vanished; absent after; "vanished" in the summary. */
	sandbox_write("vanish.py",
		      "import json, sys\n"
		      "lines = [json.loads(l) for l in open(sys.argv[1])]\n"
		      "ino = int(sys.argv[2])\n"
		      "assert len(lines) == 5 and lines[-1]['type'] == 'summary', len(lines)\n"
		      "seen = [[n for n in d['namespaces'] if n['netns']['inode'] == ino] for d in lines[:4]]\n"
		      "assert all(len(s) <= 1 for s in seen) and seen[0] and seen[0][0]['type'] == 'sample'\n"
		      "told = [k for k, s in enumerate(seen) if s and 'type' not in s[0]]\n"
		      "assert len(told) == 1, seen\n"
		      "k = told[0]\n"
		      "assert any('vanished during the watch' in m['message'] for m in seen[k][0]['messages']), seen[k]\n"
		      "assert all(not s for s in seen[k + 1:]), seen\n"
		      "assert all(s and s[0]['type'] == 'sample' for s in seen[:k])\n"
		      "row = [r for r in lines[-1]['summary'] if r['inode'] == ino][0]\n"
		      "assert row['verdict'] == 'vanished' and row['audited'] is False, row\n"
		      "assert any('vanished during the watch' in m['message'] for m in lines[-1]['messages'])\n"
		      "assert all(len(d['namespaces']) >= 50 for d in lines[:k])\n",
		      0644);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s %llu", sandbox_path("vanish.py"), file, gone->inode);
	cr_assert_eq(system(cmd), 0, "see %s", file);
	validate_watch_lines(file);
}

/* The process the watch found a namespace through exits mid-watch; the
 * other keeps it: still watched to the end, never "vanished". */
Test(e2e_allnetns, watch_goes_on_with_a_namespace_whose_first_process_exits)
{
	struct pair p;
	char file[512], cmd[2048];
	pid_t pid;

	pair_spawn(&p);
	snprintf(file, sizeof(file), "%s", sandbox_path("first.jsonl"));
	pid = qtune_background(file, (const char *[]){ "watch", "--all-netns", "--count", "3",
							      "--interval", "1", "--json", NULL });
	wait_for_lines(file, 1);
	cr_assert(kill(p.a, SIGKILL) == 0);
	pair_reap_first(&p);   /* gone from /proc's view of namespaces; b stays */
	reaped_ok(pid);
	close(p.release);
	sandbox_write("first.py",
		      "import json, sys\n"
		      "lines = [json.loads(l) for l in open(sys.argv[1])]\n"
		      "ino = int(sys.argv[2])\n"
		      "assert len(lines) == 4 and lines[-1]['type'] == 'summary', len(lines)\n"
		      "for d in lines[:3]:\n"
		      "    s = [n for n in d['namespaces'] if n['netns']['inode'] == ino]\n"
		      "    assert len(s) == 1 and s[0]['type'] == 'sample', s\n"
		      "row = [r for r in lines[-1]['summary'] if r['inode'] == ino][0]\n"
		      "assert row['verdict'] == 'ok' and row['somaxconn'] == 1777, row\n"
		      "assert not any('vanished' in m['message'] for m in lines[-1]['messages'])\n",
		      0644);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s %llu", sandbox_path("first.py"), file, p.inode);
	cr_assert_eq(system(cmd), 0, "see %s", file);
	validate_watch_lines(file);
}

Test(e2e_allnetns, watch_text_has_a_labelled_section_per_namespace_and_the_summaries)
{
	char *out, *err, want[256];
	int rc = sandbox_qtune(&out, &err, (const char *[]){ "watch", "--all-netns", "--count", "2",
							     "--interval", "1", NULL });

	cr_assert_eq(rc, 0, "rc %d\n%s", rc, err);
	for (int i = 0; i < NNS; i++) {
		const char *p = out;
		int n = 0;

		snprintf(want, sizeof(want), "== network namespace %llu: %s ==", nss[i].inode, nss[i].label);
		while ((p = strstr(p, want))) {
			n++;
			p++;
		}
		/* a section in each of the two samples, and its summary */
		cr_assert_eq(n, 3, "%s: %d sections in:\n%.3000s", want, n, out);
	}
	cr_assert(strstr(out, "qtune watch: sample 2"), "%.2000s", out);
	cr_assert(strstr(out, "\nsummary of 2 samples"), "%.2000s", out);
	const char *sum = strstr(out, "\nsummary: ");
	cr_assert(sum && strstr(sum, "VERDICT"), "no summary table:\n%s", out);
	free(out);
	free(err);
}

Test(e2e_allnetns, watch_ends_on_sigint_with_every_namespace_summary)
{
	char file[512], cmd[1024];
	pid_t pid;

	snprintf(file, sizeof(file), "%s", sandbox_path("int.jsonl"));
	pid = qtune_background(file, (const char *[]){ "watch", "--all-netns", "--interval", "1", "--json", NULL });
	wait_for_lines(file, 2);
	/* ^C reaches the whole process group; the parent alone decides. */
	cr_assert(kill(pid, SIGINT) == 0);
	reaped_ok(pid);
	/* The last line is the summary, with a summary document for every
	 * namespace the samples held, and the window's sample count. */
	sandbox_write("int.py",
		      "import json, sys\n"
		      "lines = [json.loads(l) for l in open(sys.argv[1])]\n"
		      "last = lines[-1]\n"
		      "assert last['type'] == 'summary' and last['samples'] == len(lines) - 1 >= 2, last['samples']\n"
		      "inos = {n['netns']['inode'] for n in lines[-2]['namespaces']}\n"
		      "done = {n['netns']['inode'] for n in last['namespaces'] if n['type'] == 'summary'}\n"
		      "assert inos == done and len(done) > 50, (len(inos), len(done))\n"
		      "assert all(n['samples'] == last['samples'] for n in last['namespaces'])\n",
		      0644);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s", sandbox_path("int.py"), file);
	cr_assert_eq(system(cmd), 0, "see %s", file);
	validate_watch_lines(file);
}

/* On a terminal, one frame on the alternate screen and nothing scrolled,
 * however many namespaces: the sections that fit, then a line saying how
 * many did not; ^C gives the terminal back. */
Test(e2e_allnetns, watch_on_a_terminal_draws_what_fits_without_scrolling)
{
	char cmd[512], *s;
	const char *p;
	unsigned samples[64], n = 0;

	snprintf(cmd, sizeof(cmd), "new-session -d -x 160 -y 40 'TERM=xterm \"%s\" watch --all-netns; sleep 30'",
		 getenv("QTUNE_BIN"));
	free(sandbox_tmux(cmd));
	/* Until the third sample is drawn (a loaded machine is slow to start
	 * fifty children). */
	for (int i = 0; i < 60; i++) {
		s = sandbox_tmux("capture-pane -p");
		if (strstr(s, "qtune watch: sample 3"))
			break;
		free(s);
		s = NULL;
		usleep(500 * 1000);
	}
	cr_assert(s, "no third sample on the terminal");
	free(s);
	sandbox_tmux_shows("#{alternate_on} #{history_size}", "1 0\n", "on the alternate screen, nothing scrolled");
	s = sandbox_tmux("capture-pane -p");
	/* Several sections, all of one sample (the third or later), and the
	 * count of those below the screen. */
	for (p = s; (p = strstr(p, "qtune watch: sample ")) && n < 64; p++)
		samples[n++] = (unsigned)strtoul(p + strlen("qtune watch: sample "), NULL, 10);
	cr_assert_geq(n, 2, "%s", s);
	for (unsigned i = 0; i < n; i++)
		cr_assert(samples[i] == samples[0] && samples[0] >= 3, "%s", s);
	cr_assert(strstr(s, "more namespaces below"), "%s", s);
	free(s);
	free(sandbox_tmux("send-keys C-c"));
	usleep(1500 * 1000);
	sandbox_tmux_shows("#{alternate_on} #{cursor_flag}", "0 1\n", "normal screen and cursor back");
	s = sandbox_tmux("capture-pane -p -S -1000");   /* with what scrolled off */
	cr_assert(strstr(s, "VERDICT") && strstr(s, "summary of"),
		  "the summaries and the table are left on the terminal: %s", s);
	free(s);
	free(sandbox_tmux("kill-server"));
}
