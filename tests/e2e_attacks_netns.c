/* End-to-end: what a local unprivileged user, root inside user and network
 * namespaces of its own (Debian 12 allows them), could try against root's
 * --all-netns runs and the listener dump: passing its namespace off as
 * another container, making the dump's cost grow with the square of what
 * it creates. Each attack is made for real (uid NOBODY, real cgroups,
 * real sockets) in the sandbox's namespaces. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"

#define NOBODY 65534
/* Not e2e_allnetns's id: its suite may run beside this one. */
#define VICTIM_ID "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
#define VICTIM_LABEL "docker a1b2c3d4e5f6"

TestSuite(e2e_attacks_netns, .init = sandbox_enter, .fini = sandbox_leave, .timeout = 120);

/* ---- a label taken from below a delegated cgroup ---- */

static char cgroot[512];

/* The unified hierarchy's mount point (/sys/fs/cgroup, or .../unified). */
static void find_cgroup2(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[1024], mnt[256];

	cgroot[0] = '\0';
	cr_assert(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " - cgroup2 ") && sscanf(line, "%*s %*s %*s %*s %255s", mnt) == 1) {
			snprintf(cgroot, sizeof(cgroot), "%s/qtune-attacks-%d", mnt, (int)getpid());
			break;
		}
	fclose(f);
	cr_assert(cgroot[0], "no cgroup2 mount");
}

static const char *cg(const char *rel)
{
	static char path[4][1024];
	static int next;
	char *p = path[next++ % 4];

	snprintf(p, sizeof(path[0]), "%s%s%s", cgroot, *rel ? "/" : "", rel);
	return p;
}

/* mkdir -p below cgroot. */
static void cg_mkdir(const char *rel)
{
	char tmp[1024];

	snprintf(tmp, sizeof(tmp), "%s", cg(rel));
	for (char *p = tmp + strlen(cgroot) - 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0755);
			*p = '/';
		}
	cr_assert(mkdir(tmp, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", tmp, strerror(errno));
}

static int write_text(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = -1;

	if (fd >= 0) {
		r = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
		close(fd);
	}
	return r;
}

/* Removes rel and every directory below it (cgroups: rmdir only). */
static void cg_rmtree(const char *rel)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "find '%s' -depth -type d -exec rmdir {} + 2>/dev/null", cg(rel));
	if (system(cmd) != 0)
		cr_log_warn("some test cgroups are left in %s", cgroot);
}

/* A network namespace held by a process in cgroup rel (root's), with
 * somaxconn set in it; the inode is *inode. */
struct holder {
	pid_t pid;
	unsigned long long inode;
};

static void holder_wait(struct holder *h, int ready)
{
	unsigned long long ino = 0;
	int status = 0;

	if (read(ready, &ino, sizeof(ino)) != sizeof(ino)) {
		waitpid(h->pid, &status, 0);
		cr_assert_fail("the holder did not start: exit %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	close(ready);
	h->inode = ino;
}

static void report_ready(int ready)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st) < 0)
		_exit(104);
	unsigned long long ino = (unsigned long long)st.st_ino;
	if (write(ready, &ino, sizeof(ino)) != sizeof(ino))
		_exit(105);
	close(ready);
	for (;;)
		pause();
}

static void victim_container(struct holder *h)
{
	int p[2];

	cg_mkdir("system.slice/docker-" VICTIM_ID ".scope");
	cr_assert(pipe2(p, O_CLOEXEC) == 0);
	h->pid = fork();
	cr_assert(h->pid >= 0);
	if (h->pid == 0) {
		close(p[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (write_text(cg("system.slice/docker-" VICTIM_ID ".scope/cgroup.procs"), "0") < 0 ||
		    unshare(CLONE_NEWNET) < 0)
			_exit(101);
		report_ready(p[1]);
	}
	close(p[1]);
	holder_wait(h, p[0]);
}

/* What systemd does for user@UID.service (Delegate=yes): the unit's
 * cgroup and its cgroup.procs, cgroup.subtree_control and cgroup.threads
 * belong to the user, and the user's manager runs in it. */
#define USER_MANAGER "user.slice/user-65534.slice/user@65534.service"

static void delegate_to_nobody(void)
{
	static const char *const files[] = { "", "/cgroup.procs", "/cgroup.subtree_control", "/cgroup.threads" };

	cg_mkdir(USER_MANAGER);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char rel[256];

		snprintf(rel, sizeof(rel), USER_MANAGER "%s", files[i]);
		cr_assert(chown(cg(rel), NOBODY, NOBODY) == 0, "chown %s: %s", cg(rel), strerror(errno));
	}
}

/* The attacker: a process of the user's manager (root puts it there, as
 * systemd starts the user's processes there), then uid NOBODY, which makes
 * a cgroup named like the victim's container in its delegated subtree,
 * moves itself into it, enters user and network namespaces of its own and
 * sets somaxconn there to what root's profile calls drift. */
static void attacker(struct holder *h)
{
	int p[2];

	cr_assert(pipe2(p, O_CLOEXEC) == 0);
	h->pid = fork();
	cr_assert(h->pid >= 0);
	if (h->pid == 0) {
		close(p[0]);
		if (write_text(cg(USER_MANAGER "/cgroup.procs"), "0") < 0)
			_exit(100);
		if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
		    setresuid(NOBODY, NOBODY, NOBODY) < 0)
			_exit(101);
		/* As a login's processes are: its own /proc files, its maps;
		 * the change of uid cleared the death signal. */
		prctl(PR_SET_DUMPABLE, 1);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (mkdir(cg(USER_MANAGER "/docker-" VICTIM_ID ".scope"), 0755) < 0 ||
		    write_text(cg(USER_MANAGER "/docker-" VICTIM_ID ".scope/cgroup.procs"), "0") < 0)
			_exit(102);
		if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0 ||
		    write_text("/proc/self/setgroups", "deny") < 0 ||
		    write_text("/proc/self/uid_map", "0 65534 1") < 0 ||
		    write_text("/proc/self/gid_map", "0 65534 1") < 0)
			_exit(103);
		if (write_text("/proc/sys/net/core/somaxconn", "100") < 0)
			_exit(106);
		report_ready(p[1]);
	}
	close(p[1]);
	holder_wait(h, p[0]);
}

static struct holder victim, evil;

/* Whatever the test's outcome: the holders gone, the cgroups removed. */
static void label_fini(void)
{
	struct holder *hs[] = { &evil, &victim };

	for (size_t i = 0; i < 2; i++)
		if (hs[i]->pid > 0) {
			kill(hs[i]->pid, SIGKILL);
			waitpid(hs[i]->pid, NULL, 0);
		}
	if (cgroot[0])
		cg_rmtree("");
	sandbox_leave();
}

/* The summary line of the namespace of inode in the text of a
 * --all-netns run (static buffer); "" when absent. */
static const char *summary_line(const char *out, unsigned long long inode)
{
	static char line[512];
	char key[32];
	const char *sum = strstr(out, "\nsummary: "), *p;

	line[0] = '\0';
	snprintf(key, sizeof(key), "\n%llu ", inode);
	if (sum && (p = strstr(sum, key))) {
		const char *eol = strchr(p + 1, '\n');
		snprintf(line, sizeof(line), "%.*s", (int)(eol ? eol - p - 1 : (long)strlen(p + 1)), p + 1);
	}
	return line;
}

/* A user whose subtree systemd delegated (every user@UID.service) names a
 * cgroup docker-<id>.scope after another's container and moves its own
 * namespace's process there: its drift must not be reported as that
 * container's, nor its namespace answer to the container's label. */
Test(e2e_attacks_netns, container_label_spoofed_from_a_delegated_cgroup, .fini = label_fini)
{
	char *out, *err;

	find_cgroup2();
	victim_container(&victim);
	delegate_to_nobody();
	attacker(&evil);
	sandbox_write("etc/qtune/profiles/web.yaml",
		      "qtune: 1\nname: web\nsysctl:\n  net.core.somaxconn: {min: 128}\n", 0644);
	int rc = sandbox_qtune_rooted(&out, &err, (const char *[]){ "check", "--all-netns", "web", NULL });
	const char *line = summary_line(out, evil.inode);

	cr_assert(rc == 1 || rc == 2, "the attacker's namespace drifts: rc %d\n%s\n%s", rc, err, out);
	cr_assert(strstr(line, "drift"), "the attacker's namespace is audited: '%s'\n%s", line, out);
	cr_assert_null(strstr(line, VICTIM_LABEL), "the attacker's drift is reported as the victim "
		       "container's: %s", line);
	cr_assert(strstr(summary_line(out, victim.inode), VICTIM_LABEL), "the victim keeps its label:\n%s", out);
	free(out);
	free(err);
	/* Its label names the victim alone. */
	rc = sandbox_qtune(&out, &err, (const char *[]){ "show", "--netns", "docker:a1b2c3d4e5f6", NULL });
	cr_assert_eq(rc, 0, "--netns docker:ID is the victim's alone: rc %d\n%s", rc, err);
	free(out);
	free(err);
}
