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
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
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

#include "ctx.h"
#include "diag.h"
#include "listeners.h"
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

	/* -delete: unlinkat beneath each directory, for paths longer than PATH_MAX */
	snprintf(cmd, sizeof(cmd), "find '%s' -depth -type d -delete 2>/dev/null", cg(rel));
	/* A killed process leaves its cgroup a moment after it is reaped. */
	for (int i = 0; system(cmd) != 0; i++) {
		if (i == 50) {
			cr_log_warn("some test cgroups are left in %s", cgroot);
			break;
		}
		usleep(20 * 1000);
	}
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
static pid_t label_init;        /* PID 1 of the test's PID namespace, if any */

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
	/* Last: once it is gone, nothing more can be forked (the removal's
	 * shell is a child in its PID namespace). */
	if (label_init > 0) {
		kill(label_init, SIGKILL);
		waitpid(label_init, NULL, 0);
	}
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
	/* Only this test's namespaces: not those of tests running beside it. */
	label_init = sandbox_enter_pid_namespace();
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

/* ---- half-open requests against many listeners of one port ---- */

#define SPREAD_PORT 8080

#define SPREAD_CHUNK 4000    /* sockets pairs per holder: 8000 fds, below any hard limit */

static pid_t spread_holders[64];
static int nspread_holders, nspread;

static void spread_fini(void)
{
	for (int i = 0; i < nspread_holders; i++) {
		kill(spread_holders[i], SIGKILL);
		waitpid(spread_holders[i], NULL, 0);
	}
	sandbox_leave();
}

/* n more listeners on SPREAD_PORT, one per address 127.1.x.y, each holding
 * one half-open request (TCP_DEFER_ACCEPT keeps a completed handshake in
 * the SYN queue): what root in a network namespace of its own can make
 * with 2n descriptors, in processes of SPREAD_CHUNK each. */
static void listeners_with_a_request_each(int n)
{
	int defer = 600;        /* longer than any run: every request stays half-open */

	for (int first = nspread; first < nspread + n; first += SPREAD_CHUNK) {
		int p[2], last = first + SPREAD_CHUNK < nspread + n ? first + SPREAD_CHUNK : nspread + n;
		char c;

		cr_assert(pipe2(p, O_CLOEXEC) == 0 && nspread_holders < 64);
		pid_t pid = fork();
		cr_assert(pid >= 0);
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (int i = first; i < last; i++) {
				struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(SPREAD_PORT),
							 .sin_addr.s_addr = htonl(0x7f010000u + (uint32_t)i) };
				int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
				int cl = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

				if (l < 0 || cl < 0 ||
				    setsockopt(l, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer)) < 0 ||
				    bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 4) < 0 ||
				    (connect(cl, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS))
					_exit(1);
			}
			if (write(p[1], "x", 1) != 1)
				_exit(1);
			for (;;)
				pause();
		}
		spread_holders[nspread_holders++] = pid;
		close(p[1]);
		cr_assert(read(p[0], &c, 1) == 1, "the holder of sockets %d..%d failed", first, last);
		close(p[0]);
	}
	nspread += n;
	usleep(500 * 1000);
}

/* Each half-open request is matched against the listeners of its port:
 * one by one, n requests to n listeners of one port cost n * n
 * comparisons, and a user with 2n descriptors made every root run (check,
 * listeners, each watch sample) take minutes (40,000 sockets: 18.7 s). The
 * matching is a binary search: counted, not timed (a timed test measures
 * the machine), at most four searches of log2(n) + 2 probes per request,
 * where the walk over the port's listeners made n / 2 on average. Each
 * request is still counted against its own listener. */
Test(e2e_attacks_netns, half_open_requests_spread_over_listeners_of_one_port, .fini = spread_fini)
{
	const int n = 2000;
	struct qt_ctx ctx = { .procsys_fd = -1, .proc_fd = -1 };
	struct listener_set set = { 0 };
	struct qt_diags d = { 0 };
	size_t mine = 0, ones = 0;
	unsigned long bound = 4ul * n * 13;   /* log2(2000) + 2 < 13 */

	listeners_with_a_request_each(n);
	listeners_request_probes = 0;
	cr_assert_eq(listeners_dump(&ctx, &set, &d), 0);
	for (size_t i = 0; i < set.n; i++) {
		if (set.v[i].port != SPREAD_PORT)
			continue;
		mine++;
		ones += set.v[i].syn_recv == 1;
	}
	cr_assert_eq(mine, (size_t)n, "%zu listeners on port %d", mine, SPREAD_PORT);
	cr_assert_eq(ones, (size_t)n, "%zu of %d listeners with their one request", ones, n);
	cr_log_info("%d requests matched in %lu probes", n, listeners_request_probes);
	cr_assert_leq(listeners_request_probes, bound, "%d requests took %lu probes (a walk: about %lu)", n,
		      listeners_request_probes, (unsigned long)n * n / 2);
	listener_set_free(&set);
	diags_free(&d);
}

/* A listener with TCP_DEFER_ACCEPT (and SO_REUSEPORT, so that an address
 * and its wildcard listen together) at addr:port; an IPv6 one takes IPv4
 * too (net.ipv6.bindv6only is 0 in a new namespace). */
static int deferring_listener(const char *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = (socklen_t)sandbox_sockaddr(addr, port, &ss);
	int one = 1, defer = 30, fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0);
	cr_assert(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == 0 &&
		  setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer)) == 0);
	cr_assert(bind(fd, (struct sockaddr *)&ss, len) == 0 && listen(fd, 16) == 0, "%s port %u: %s", addr,
		  port, strerror(errno));
	return fd;
}

static void connect_v4(const char *addr, uint16_t port, int n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	cr_assert(inet_pton(AF_INET, addr, &a.sin_addr) == 1);
	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		cr_assert(fd >= 0);
		cr_assert(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 || errno == EINPROGRESS);
	}
}

/* syn_recv of the listener at "addr" port in a listeners --json document. */
static long syn_recv_of(const char *doc, const char *addr, uint16_t port)
{
	char key[96];
	const char *p;

	snprintf(key, sizeof(key), "\"address\":\"%s\",\"port\":%u,", addr, port);
	p = strstr(doc, key);
	cr_assert(p, "no %s in %s", key, doc);
	p = strstr(p, "\"syn_recv\":");
	cr_assert(p);
	return strtol(p + strlen("\"syn_recv\":"), NULL, 10);
}

/* The binary search finds what the walk over a port's listeners found: a
 * request's own address first, then its family's wildcard, then an IPv6
 * listener's v4-mapped address, then the dual-stack wildcard. */
Test(e2e_attacks_netns, half_open_requests_go_to_the_best_listener_of_their_port)
{
	char *out, *err;

	deferring_listener("0.0.0.0", 9001);
	deferring_listener("127.0.0.1", 9001);
	deferring_listener("::", 9002);
	deferring_listener("::ffff:127.0.0.1", 9003);
	deferring_listener("::", 9003);
	connect_v4("127.0.0.1", 9001, 1);
	connect_v4("127.0.0.2", 9001, 2);
	connect_v4("127.0.0.1", 9002, 3);
	connect_v4("127.0.0.1", 9003, 4);
	usleep(300 * 1000);
	int rc = sandbox_qtune(&out, &err, (const char *[]){ "--json", "listeners", "--no-owners", NULL });
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_eq(syn_recv_of(out, "127.0.0.1", 9001), 1, "%s", out);
	cr_assert_eq(syn_recv_of(out, "0.0.0.0", 9001), 2, "%s", out);
	cr_assert_eq(syn_recv_of(out, "::", 9002), 3, "%s", out);
	cr_assert_eq(syn_recv_of(out, "::ffff:127.0.0.1", 9003), 4, "%s", out);
	cr_assert_eq(syn_recv_of(out, "::", 9003), 0, "%s", out);
	free(out);
	free(err);
}

/* ---- cgroups a user may create, as deep and as long-named as allowed ---- */

#define DEEP_LEVELS 25      /* with the 5 above, within the walk's CGROUP_MAX_DEPTH */
#define DEEP_LEAVES 1000

/* In its delegated subtree the user makes a chain of DEEP_LEVELS cgroups
 * with 250-byte names and DEEP_LEAVES more at its bottom: each path is
 * some 6.3 KiB, all of them 6.3 MiB, which kernfs holds in a twenty-fifth
 * of that (each name once). (With 20,000 leaves qtune listeners took
 * 155 MiB; the bound of 65,536 cgroups would let it take 500.) */
static void deep_cgroups_of_nobody(void)
{
	pid_t pid;
	int status;

	delegate_to_nobody();
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		char name[251];
		int fd;

		if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
		    setresuid(NOBODY, NOBODY, NOBODY) < 0 ||
		    (fd = open(cg(USER_MANAGER), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			_exit(1);
		memset(name, 'x', 250);
		name[250] = '\0';
		for (int i = 0; i < DEEP_LEVELS; i++) {
			int sub;

			if (mkdirat(fd, name, 0755) < 0 ||
			    (sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
				_exit(2);
			close(fd);
			fd = sub;
		}
		for (int i = 0; i < DEEP_LEAVES; i++) {
			memcpy(name, "00000", 5);
			for (int k = 4, v = i; k >= 0; k--, v /= 10)
				name[k] = (char)('0' + v % 10);
			if (mkdirat(fd, name, 0755) < 0)
				_exit(3);
		}
		_exit(0);
	}
	cr_assert(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "the user could not make its cgroups (status %d)", status);
}

/* The cgroup walk that names a listener's unit from its cgroup id holds
 * each cgroup's name once, not its whole path: what the user created must
 * not cost root's run more memory than it cost the kernel. */
Test(e2e_attacks_netns, deep_long_named_cgroups_of_a_user_stay_cheap, .fini = label_fini)
{
	struct rusage before, after;
	char *out, *err;

#if defined(__SANITIZE_ADDRESS__)
	/* ASan's shadow and quarantine are the peak there, not qtune's map;
	 * natively only, as e2e_owners/check_memory_* (and not under valgrind). */
	cr_skip_test("peak RSS under ASan is ASan's");
#endif
	int l = sandbox_listen("127.0.0.1", 0, 16, NULL);

	find_cgroup2();
	cr_assert_eq(sandbox_qtune(&out, &err, (const char *[]){ "listeners", "--no-owners", NULL }), 0, "%s", err);
	free(out);
	free(err);
	cr_assert_eq(getrusage(RUSAGE_CHILDREN, &before), 0);
	deep_cgroups_of_nobody();
	int rc = sandbox_qtune(&out, &err, (const char *[]){ "listeners", "--no-owners", NULL });
	cr_assert_eq(rc, 0, "%s", err);
	/* The largest child's peak: this run's, if it grew past the first. */
	cr_assert_eq(getrusage(RUSAGE_CHILDREN, &after), 0);
	long grew = after.ru_maxrss - before.ru_maxrss;
	cr_log_info("listeners with %d cgroups %d levels deep: peak RSS %ld KiB, %ld more", DEEP_LEAVES,
		    DEEP_LEVELS, after.ru_maxrss, grew);
	cr_assert_lt(grew, 2048, "qtune listeners took %ld KiB more for %d cgroups of the user's", grew,
		     DEEP_LEAVES);
	free(out);
	free(err);
	close(l);
}

/* ---- interface names ---- */

/* Root in a network namespace of its own names its interfaces, and the
 * kernel allows any byte but '/', ':' and blanks: an escape sequence
 * there, with a listener bound to the interface, reached root's terminal
 * in every text view of the listener (listeners, check, watch, relisten).
 * A name that cannot be shown as it is is shown by its index. */
Test(e2e_attacks_netns, interface_name_with_terminal_escapes)
{
	static const char steering[] = "\033[2J\033]0;x\a";
	char *out, *err, cmd[256], want[32];
	unsigned idx;

	snprintf(cmd, sizeof(cmd), "ip link add \"$(printf '\\033[2J\\033]0;x\\a')\" type veth peer name qt-peer && "
		 "ip link set \"$(printf '\\033[2J\\033]0;x\\a')\" up");
	cr_assert_eq(system(cmd), 0, "ip link add");
	idx = if_nametoindex(steering);
	cr_assert_gt(idx, 0);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9100) };
	cr_assert(fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, steering, sizeof(steering)) == 0,
		  "SO_BINDTODEVICE: %s", strerror(errno));
	cr_assert(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(fd, 8) == 0);
	int rc = sandbox_qtune(&out, &err, (const char *[]){ "listeners", "--no-owners", NULL });
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_null(strchr(out, '\033'), "an escape sequence reached the terminal:\n%s", out);
	snprintf(want, sizeof(want), "0.0.0.0%%if%u:9100", idx);
	cr_assert(strstr(out, want), "the listener is shown with its interface's index (%s):\n%s", want, out);
	free(out);
	free(err);
	close(fd);
}

/* ---- more namespaces than the scan keeps ---- */

/* A user makes network namespaces without end (unshare -Urn in as many
 * processes as it may run): past NETNS_SCAN_MAX the scan stopped in
 * silence, and check --all-netns said "compliant" of a host whose later
 * namespaces (the containers started after the user's processes, by pid)
 * it never looked at. Now it says where it stopped and fails. The test
 * build lowers the bound to 2 so that three namespaces reach it. */
Test(e2e_attacks_netns, more_namespaces_than_the_scan_bound_is_an_error_not_silence, .fini = spread_fini)
{
	char *out, *err;

	for (int i = 0; i < 3; i++) {
		int p[2];
		char c;

		cr_assert(pipe2(p, O_CLOEXEC) == 0);
		pid_t pid = fork();
		cr_assert(pid >= 0);
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (unshare(CLONE_NEWNET) < 0 || write(p[1], "x", 1) != 1)
				_exit(1);
			for (;;)
				pause();
		}
		spread_holders[nspread_holders++] = pid;
		close(p[1]);
		cr_assert(read(p[0], &c, 1) == 1);
		close(p[0]);
	}
	const char *bin = getenv("QTUNE_BIN");
	char *saved = strdup(bin);
	setenv("QTUNE_BIN", getenv("QTUNE_HOOKS_BIN"), 1);
	setenv("QTUNE_TEST_NETNS_MAX", "2", 1);
	int rc = sandbox_qtune(&out, &err, (const char *[]){ "show", "--all-netns", NULL });
	unsetenv("QTUNE_TEST_NETNS_MAX");
	setenv("QTUNE_BIN", saved, 1);
	free(saved);
	cr_assert_eq(rc, 2, "rc %d\n%s\n%s", rc, err, out);
	cr_assert(strstr(err, "more than 2 network namespaces") && strstr(err, "only the first 2 found are audited"),
		  "%s", err);
	cr_assert(strstr(out, "summary: 2 network namespaces"), "%s", out);
	free(out);
	free(err);
}

/* Nor does a run look at them at all: a listener's cgroup is opened by its
 * id, so the cgroups a user makes (up to the walk's bound of 65,536, which
 * would also have pushed the system's own out of the map) cost nothing,
 * every run and every watch sample. */
Test(e2e_attacks_netns, cgroups_of_a_user_are_not_walked, .fini = label_fini)
{
	char *out, *err, *trace = NULL, path[600];
	int l = sandbox_listen("127.0.0.1", 0, 16, NULL);
	size_t len = 0, opened = 0;

	find_cgroup2();
	deep_cgroups_of_nobody();
	snprintf(path, sizeof(path), "%s", sandbox_path("strace.out"));
	int rc = sandbox_qtune_traced(&out, &err, (const char *[]){ "-o", path, "-e", "trace=openat", NULL },
				      (const char *[]){ "listeners", "--no-owners", NULL });
	cr_assert_eq(rc, 0, "%s", err);
	FILE *f = fopen(path, "re");
	cr_assert(f);
	while (getline(&trace, &len, f) > 0)
		opened += strstr(trace, "xxxxxxxxxxxxxxxx") != NULL;
	fclose(f);
	free(trace);
	cr_assert_eq(opened, 0, "%zu of the user's cgroups were opened", opened);
	cr_assert(strstr(out, "127.0.0.1:"), "%s", out);
	free(out);
	free(err);
	close(l);
}

/* ---- a namespace only a thread is in ---- */

static int thread_ready = -1;

/* unshare(CLONE_NEWNET) in a thread moves that thread alone: its listener
 * lives in a namespace no process's ns/net names. */
static void *thread_in_its_own_namespace(void *arg)
{
	(void)arg;
	struct stat st;

	if (unshare(CLONE_NEWNET) < 0 || sandbox_listen("127.0.0.1", 7777, 8, NULL) < 0 ||
	    stat("/proc/thread-self/ns/net", &st) < 0)
		_exit(1);
	unsigned long long ino = (unsigned long long)st.st_ino;
	if (write(thread_ready, &ino, sizeof(ino)) != sizeof(ino))
		_exit(1);
	for (;;)
		pause();
	return NULL;
}

/* A user who listens from such a thread had its listener, and the whole
 * namespace, left out of every --all-netns run. */
Test(e2e_attacks_netns, namespace_of_a_thread_alone_is_audited, .fini = label_fini)
{
	char *out, *err;
	int p[2];

	label_init = sandbox_enter_pid_namespace();
	cr_assert(pipe2(p, O_CLOEXEC) == 0);
	evil.pid = fork();
	cr_assert(evil.pid >= 0);
	if (evil.pid == 0) {
		pthread_t t;

		close(p[0]);
		thread_ready = p[1];
		if (pthread_create(&t, NULL, thread_in_its_own_namespace, NULL) != 0)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	holder_wait(&evil, p[0]);
	int rc = sandbox_qtune(&out, &err, (const char *[]){ "listeners", "--all-netns", NULL });
	cr_assert_eq(rc, 0, "%s\n%s", err, out);
	cr_assert(summary_line(out, evil.inode)[0], "the thread's namespace %llu is not audited:\n%s",
		  evil.inode, out);
	cr_assert(strstr(out, "127.0.0.1:7777"), "its listener is not listed:\n%s", out);
	free(out);
	free(err);
}
