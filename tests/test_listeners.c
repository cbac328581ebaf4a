/* Tests for listeners: real sockets in a private network namespace, dumped
 * over sock_diag and attributed through /proc. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "findings.h"
#include "listeners.h"
#include "owners.h"
#include "owners_walker.h"
#include "sandbox.h"
#include "sysctl.h"
#include "util.h"

static struct qt_ctx ctx;
static struct listener_set set;
static struct qt_diags diags;
static pid_t child = -1;

static void setup(void)
{
	sandbox_enter();
	sandbox_ctx(&ctx);
}

static void teardown(void)
{
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		child = -1;
	}
	listener_set_free(&set);
	diags_free(&diags);
	close(ctx.procsys_fd);
	close(ctx.proc_fd);
	sandbox_leave();
}

TestSuite(listeners, .init = setup, .fini = teardown);

static void dump(void)
{
	cr_assert_eq(listeners_dump(&ctx, &set, &diags), 0);
}

static const struct listener *find(int family, uint16_t port)
{
	for (size_t i = 0; i < set.n; i++)
		if (set.v[i].family == family && set.v[i].port == port)
			return &set.v[i];
	return NULL;
}

static void my_comm(char *buf, size_t size)
{
	FILE *f = fopen("/proc/self/comm", "re");

	cr_assert(f);
	cr_assert(fgets(buf, (int)size, f));
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

/* A child that holds our fds and waits; ready once it has written to
 * the pipe. With new_netns it first moves to a network namespace of its
 * own (and listens there on port, when port is not 0). */
static pid_t spawn_holder(bool new_netns, uint16_t port)
{
	int p[2];
	char c;
	pid_t pid;

	cr_assert(pipe(p) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		/* Dies with the test even when an assertion ends it early. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		if (new_netns && unshare(CLONE_NEWNET) != 0)
			_exit(1);
		if (port) {
			struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
						  .sin_addr.s_addr = htonl(INADDR_ANY) };
			int fd = socket(AF_INET, SOCK_STREAM, 0);
			if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
			    listen(fd, 10) != 0)
				_exit(1);
		}
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	cr_assert_eq(read(p[0], &c, 1), 1, "holder child failed");
	close(p[0]);
	return pid;
}

Test(listeners, backlog_clamped_by_somaxconn_at_listen_time)
{
	char comm[64];
	uint16_t port;

	sandbox_sysctl_set("net/core/somaxconn", "128");
	sandbox_listen("127.0.0.1", 0, 4096, &port);
	sandbox_sysctl_set("net/core/somaxconn", "4096");
	dump();
	const struct listener *l = find(AF_INET, port);
	cr_assert_not_null(l, "listener on port %u not dumped", port);
	cr_assert_str_eq(l->addr, "127.0.0.1");
	cr_assert_eq(l->backlog, 128);
	cr_assert_eq(l->queued, 0);
	cr_assert_eq(l->uid, 0);
	cr_assert_neq(l->inode, 0);

	cr_assert_eq(listeners_attribute(&ctx, &set, &diags), 0);
	l = find(AF_INET, port);
	cr_assert(set.owners_complete);
	cr_assert(l->owners_known);
	cr_assert_eq(l->nowners, 1);
	my_comm(comm, sizeof(comm));
	cr_assert_eq(listener_owner_at(&set, l, 0)->pid, getpid());
	cr_assert_str_eq(listener_owner_at(&set, l, 0)->comm, comm);

	/* After raising somaxconn from 128 to 4096 the listener is clamped,
	 * and the finding names this process. */
	struct findings fs = { 0 };
	struct finding_limits lim = { .somaxconn_before = 128, .somaxconn_after = 4096 };
	char pidtext[64];
	findings_build(&set, &lim, &fs);
	cr_assert_eq(fs.n, 1);
	cr_assert_eq(fs.v[0].kind, FINDING_CLAMPED);
	snprintf(pidtext, sizeof(pidtext), "(pid %d", (int)getpid());
	cr_assert_eq(fs.nadvice, 1);
	cr_assert(strstr(fs.advice[0].text, pidtext), "%s", fs.advice[0].text);
	findings_free(&fs);
}

Test(listeners, ipv6_and_ipv4_are_both_seen)
{
	uint16_t p6, p4;

	sandbox_listen("::1", 0, 50, &p6);
	sandbox_listen("127.0.0.1", 0, 60, &p4);
	dump();
	const struct listener *l6 = find(AF_INET6, p6), *l4 = find(AF_INET, p4);
	cr_assert_not_null(l6);
	cr_assert_not_null(l4);
	cr_assert_str_eq(l6->addr, "::1");
	cr_assert_eq(l6->backlog, 50);
	cr_assert_eq(l4->backlog, 60);
	cr_assert_eq(set.n, 2, "only LISTEN sockets, nothing else: %zu", set.n);
}

/* A local process that knows the dump socket's port id sends it a
 * well-formed listener of its own making (port 1, in sequence). */
static int forged_errno = -1;

static int forge_to(uint32_t portid)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_msg m;
	} msg = {
		.h = { .nlmsg_len = sizeof(msg), .nlmsg_type = TCPDIAG_GETSOCK,
		       .nlmsg_flags = NLM_F_MULTI, .nlmsg_seq = 1, .nlmsg_pid = portid },
		.m = { .idiag_family = AF_INET, .idiag_state = TCP_LISTEN,
		       .id.idiag_sport = htons(1), .idiag_wqueue = 7, .idiag_inode = 4242 },
	};
	struct sockaddr_nl to = { .nl_family = AF_NETLINK, .nl_pid = portid };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	int e = 0;

	cr_assert(fd >= 0);
	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		e = errno;
	close(fd);
	return e;
}

static uint32_t portid_of(int fd)
{
	struct sockaddr_nl sa;
	socklen_t len = sizeof(sa);

	cr_assert(getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
	return sa.nl_pid;
}

static void forge_into_dump_socket(int fd)
{
	forged_errno = forge_to(portid_of(fd));
}

Test(listeners, forged_messages_from_other_processes_never_reach_the_dump)
{
	struct sockaddr_nl any = { .nl_family = AF_NETLINK };
	int victim = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_SOCK_DIAG);
	char buf[256];
	uint16_t port;

	/* The forger is real: an unconnected netlink socket takes its message. */
	cr_assert(victim >= 0);
	cr_assert(bind(victim, (struct sockaddr *)&any, sizeof(any)) == 0);
	cr_assert_eq(forge_to(portid_of(victim)), 0);
	cr_assert_eq(recv(victim, buf, sizeof(buf), 0), (ssize_t)sizeof(struct nlmsghdr) +
		     (ssize_t)sizeof(struct inet_diag_msg));
	close(victim);

	sandbox_listen("127.0.0.1", 0, 10, &port);
	listeners_dump_socket_hook = forge_into_dump_socket;
	dump();
	listeners_dump_socket_hook = NULL;
	cr_assert_eq(forged_errno, ECONNREFUSED, "the kernel should refuse the forger: %s",
		     strerror(forged_errno));
	cr_assert_eq(set.n, 1);
	cr_assert_eq(set.v[0].port, port);
	cr_assert_null(find(AF_INET, 1));
}

Test(listeners, connected_sockets_are_not_listeners)
{
	uint16_t port;
	int lfd = sandbox_listen("127.0.0.1", 0, 16, &port);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int c = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert(connect(c, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	int a = accept(lfd, NULL, NULL);
	cr_assert(a >= 0);
	dump();
	cr_assert_eq(set.n, 1);
	cr_assert_eq(set.v[0].port, port);
}

Test(listeners, full_accept_queue_is_queue_full)
{
	uint16_t port;
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	const struct listener *l = NULL;

	sandbox_listen("127.0.0.1", 0, 2, &port);
	sa.sin_port = htons(port);
	for (int i = 0; i < 3; i++) {
		int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		int r = connect(c, (struct sockaddr *)&sa, sizeof(sa));
		cr_assert(r == 0 || errno == EINPROGRESS, "connect: %s", strerror(errno));
	}
	/* Loopback handshakes complete in softirq; allow a moment anyway. */
	for (int tries = 0; tries < 100; tries++) {
		dump();
		l = find(AF_INET, port);
		if (l && l->queued == 3)
			break;
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
	cr_assert_not_null(l);
	cr_assert_eq(l->backlog, 2);
	cr_assert_eq(l->queued, 3, "queued %u", l->queued);

	struct findings fs = { 0 };
	struct finding_limits lim = { .somaxconn_before = 4096, .somaxconn_after = 4096 };
	listeners_attribute(&ctx, &set, &diags);
	findings_build(&set, &lim, &fs);
	cr_assert_eq(fs.n, 1);
	cr_assert_eq(fs.v[0].kind, FINDING_QUEUE_FULL);
	cr_assert_eq(fs.v[0].limit, 2);
	findings_free(&fs);
}

Test(listeners, forked_child_sharing_the_socket_is_a_second_owner)
{
	uint16_t port;

	sandbox_listen("127.0.0.1", 0, 10, &port);
	child = spawn_holder(false, 0);
	dump();
	cr_assert_eq(listeners_attribute(&ctx, &set, &diags), 0);
	const struct listener *l = find(AF_INET, port);
	cr_assert_eq(l->nowners, 2);
	pid_t a = listener_owner_at(&set, l, 0)->pid, b = listener_owner_at(&set, l, 1)->pid;
	cr_assert((a == getpid() && b == child) || (a == child && b == getpid()),
		  "owners %d %d, expected %d and %d", a, b, getpid(), child);
}

Test(listeners, owners_beyond_the_bound_are_flagged_not_kept)
{
	pid_t kids[LISTENERS_MAX_OWNERS + 1];
	uint16_t port;

	sandbox_listen("127.0.0.1", 0, 10, &port);
	for (size_t i = 0; i < ARRAY_SIZE(kids); i++)
		kids[i] = spawn_holder(false, 0);
	dump();
	listeners_attribute(&ctx, &set, &diags);
	const struct listener *l = find(AF_INET, port);
	cr_assert_eq(l->nowners, LISTENERS_MAX_OWNERS);
	cr_assert(l->owners_truncated);
	cr_assert(l->owners_known);
	for (size_t i = 0; i < ARRAY_SIZE(kids); i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
}

Test(listeners, same_socket_on_two_fds_is_one_owner)
{
	uint16_t port;
	int fd = sandbox_listen("127.0.0.1", 0, 10, &port);

	cr_assert(dup(fd) >= 0);
	cr_assert(dup(fd) >= 0);
	dump();
	listeners_attribute(&ctx, &set, &diags);
	cr_assert_eq(find(AF_INET, port)->nowners, 1);
}

Test(listeners, other_namespaces_are_neither_dumped_nor_scanned)
{
	uint16_t port;

	sandbox_listen("127.0.0.1", 0, 10, &port);
	/* The child inherits our listener's fd but lives in another network
	 * namespace, where it also listens on port 7777. */
	child = spawn_holder(true, 7777);
	dump();
	cr_assert_null(find(AF_INET, 7777), "a listener of another namespace was dumped");
	cr_assert_eq(listeners_attribute(&ctx, &set, &diags), 0);
	const struct listener *l = find(AF_INET, port);
	cr_assert_eq(l->nowners, 1);
	cr_assert_eq(listener_owner_at(&set, l, 0)->pid, getpid());
	/* Every process of the machine is in another namespace but us. */
	cr_assert_geq(set.pids_other_netns, 1);
	cr_assert(set.owners_complete);
}

Test(listeners, without_privilege_owners_are_unknown_not_an_error)
{
	uint16_t port;
	int status;
	pid_t pid;

	int fd = sandbox_listen("127.0.0.1", 0, 10, &port);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct listener_set s = { 0 };
		struct qt_diags d = { 0 };

		close(fd);      /* else this child would be an owner it can see */

		/* nobody, no capabilities: root's /proc/PID/fd is out of reach. */
		if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
		    setresuid(65534, 65534, 65534) != 0)
			_exit(10);
		if (listeners_dump(&ctx, &s, &d) != 0)
			_exit(11);
		if (listeners_attribute(&ctx, &s, &d) != 0)
			_exit(12);
		for (size_t i = 0; i < s.n; i++) {
			if (s.v[i].port != port)
				continue;
			if (s.v[i].owners_known || s.v[i].nowners != 0)
				_exit(13);
			if (s.owners_complete || s.pids_denied == 0)
				_exit(14);
			_exit(0);
		}
		_exit(15);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), 0, "child check %d failed", WEXITSTATUS(status));
}


/* ------------------------------------------------ owners of a subset */

/* The pids owning the listener on port, sorted, into pids (count). */
static size_t owner_pids(const struct listener_set *s, uint16_t port, pid_t *pids, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++) {
		const struct listener *l = &s->v[i];
		if (l->port != port)
			continue;
		for (size_t k = 0; k < l->nowners && n < max; k++)
			pids[n++] = listener_owner_at(s, l, k)->pid;
	}
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && pids[j - 1] > pids[j]; j--) {
			pid_t t = pids[j];
			pids[j] = pids[j - 1];
			pids[j - 1] = t;
		}
	return n;
}

Test(listeners, no_listener_wanted_reads_no_fd_table)
{
	sandbox_listen("127.0.0.1", 0, 10, NULL);
	sandbox_listen("127.0.0.1", 0, 10, NULL);
	dump();
	bool want[2] = { false, false };
	cr_assert_eq(set.n, 2);
	cr_assert_eq(listeners_attribute_some(&ctx, NULL, &set, want, &diags), 0);
	cr_assert_eq(set.fd_tables_read, 0, "%u fd tables read", set.fd_tables_read);
	cr_assert_eq(set.pids_scanned, 0);
	cr_assert(set.attributed);
	for (size_t i = 0; i < set.n; i++) {
		cr_assert_not(set.v[i].owners_looked_up);
		cr_assert_not(set.v[i].owners_known, "not looked up is not known");
		cr_assert_eq(set.v[i].nowners, 0);
	}
}

/* A socket shared by fork, as nginx's workers share the master's: the
 * subset walk reports every holder the full walk reports, and only for
 * the listener asked for. */
Test(listeners, a_subset_walk_keeps_every_forked_owner)
{
	uint16_t pa, pb;
	pid_t full[8], some[8], kids[3];

	sandbox_listen("127.0.0.1", 0, 10, &pa);
	sandbox_listen("127.0.0.1", 0, 10, &pb);
	for (size_t k = 0; k < ARRAY_SIZE(kids); k++)
		kids[k] = spawn_holder(false, 0);
	dump();
	cr_assert_eq(listeners_attribute(&ctx, &set, &diags), 0);
	size_t nfull = owner_pids(&set, pa, full, ARRAY_SIZE(full));
	cr_assert_eq(nfull, 4, "us and three forked holders, got %zu", nfull);
	unsigned full_reads = set.fd_tables_read;
	cr_assert_geq(full_reads, 4);

	dump();
	bool want[2];
	for (size_t i = 0; i < set.n; i++)
		want[i] = set.v[i].port == pa;
	cr_assert_eq(listeners_attribute_some(&ctx, NULL, &set, want, &diags), 0);
	cr_assert_eq(owner_pids(&set, pa, some, ARRAY_SIZE(some)), nfull);
	cr_assert_arr_eq(some, full, nfull * sizeof(*full));
	cr_assert_eq(owner_pids(&set, pb, some, ARRAY_SIZE(some)), 0, "not asked for");
	for (size_t i = 0; i < set.n; i++) {
		cr_assert_eq(set.v[i].owners_looked_up, set.v[i].port == pa);
		cr_assert_eq(set.v[i].owners_known, set.v[i].port == pa);
	}
	for (size_t k = 0; k < ARRAY_SIZE(kids); k++) {
		kill(kids[k], SIGKILL);
		waitpid(kids[k], NULL, 0);
	}
}

/* watch's way: owners of the first listeners, then of one that appeared
 * later; the first ones keep theirs. */
Test(listeners, a_later_subset_adds_to_the_owners_found)
{
	uint16_t pa, pb;
	pid_t got[4];

	sandbox_listen("127.0.0.1", 0, 10, &pa);
	sandbox_listen("127.0.0.1", 0, 10, &pb);
	dump();
	bool want[2];
	for (size_t i = 0; i < set.n; i++)
		want[i] = set.v[i].port == pa;
	cr_assert_eq(listeners_attribute_some(&ctx, NULL, &set, want, &diags), 0);
	for (size_t i = 0; i < set.n; i++)
		want[i] = !want[i];
	cr_assert_eq(listeners_attribute_some(&ctx, NULL, &set, want, &diags), 0);
	cr_assert_eq(owner_pids(&set, pa, got, ARRAY_SIZE(got)), 1);
	cr_assert_eq(got[0], getpid());
	cr_assert_eq(owner_pids(&set, pb, got, ARRAY_SIZE(got)), 1);
	cr_assert_eq(got[0], getpid());
	for (size_t i = 0; i < set.n; i++)
		cr_assert(set.v[i].owners_looked_up && set.v[i].owners_known);
}

/* The walker child answers as the in-process walk does, request after
 * request, and a hang-up ends it. */
Test(listeners, the_walker_answers_as_the_walk_does)
{
	struct owner_walker *w = NULL;
	uint16_t pa;
	pid_t got[4];

	/* Started first, as main starts it, so that it holds none of them. */
	cr_assert_eq(listeners_walker_start(&ctx, &w), 0);
	cr_assert_not_null(w);
	sandbox_listen("127.0.0.1", 0, 10, &pa);
	sandbox_listen("127.0.0.1", 0, 10, NULL);
	dump();
	bool want[2];
	for (size_t i = 0; i < set.n; i++)
		want[i] = set.v[i].port == pa;
	cr_assert_eq(listeners_attribute_some(&ctx, w, &set, want, &diags), 0);
	cr_assert_eq(owner_pids(&set, pa, got, ARRAY_SIZE(got)), 1);
	cr_assert_eq(got[0], getpid());
	cr_assert_geq(set.fd_tables_read, 1);
	const struct listener *l = find(AF_INET, pa);
	cr_assert_geq(listener_owner_fd(&set, l, 0), 0);
	cr_assert_str_neq(listener_owner_at(&set, l, 0)->comm, "");
	for (size_t i = 0; i < set.n; i++)
		want[i] = !want[i];
	cr_assert_eq(listeners_attribute_some(&ctx, w, &set, want, &diags), 0);
	for (size_t i = 0; i < set.n; i++)
		cr_assert(set.v[i].owners_looked_up && set.v[i].nowners == 1);
	listeners_walker_stop(w);
}

/* Issue 15, defect 7: a listener of this namespace held only by a process
 * of another one (it made the socket here and then unshared, as a process
 * that setns()s does; or it was handed the fd over a unix socket). ss -p
 * names that process; so must the owner walk, and qtune listeners. */
static pid_t hold_in_another_netns(int lfd, bool pass_over_unix, int *hangup)
{
	int ready[2], sp[2], done[2];
	char b = 0;
	pid_t pid;

	cr_assert_eq(pipe(ready), 0);
	cr_assert_eq(pipe(done), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { &b, 1 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };

		/* Only its own ends: the test's hang-up must reach it. */
		close(ready[0]);
		close(done[1]);
		close(sp[0]);
		if (pass_over_unix)
			close(lfd);     /* it will come back over sp */
		if (unshare(CLONE_NEWNET) != 0)
			_exit(1);
		if (pass_over_unix && recvmsg(sp[1], &m, 0) != 1)
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		(void)!read(done[0], &b, 1);  /* until the test hangs up */
		_exit(0);
	}
	if (pass_over_unix) {
		char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
		struct iovec iov = { &b, 1 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);

		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &lfd, sizeof(int));
		cr_assert_eq(sendmsg(sp[0], &m, 0), 1);
	}
	close(lfd);     /* from now on only the child holds it */
	cr_assert_eq(read(ready[0], &b, 1), 1, "the child is in its own namespace, holding the socket");
	close(ready[0]);
	close(ready[1]);
	close(sp[0]);
	close(sp[1]);
	close(done[0]);
	*hangup = done[1];
	return pid;
}

static void owner_found_across_namespaces(bool pass_over_unix)
{
	char *out, pid_json[48];
	uint16_t port;
	int hangup, lfd = sandbox_listen("127.0.0.1", 0, 10, &port);

	child = hold_in_another_netns(lfd, pass_over_unix, &hangup);
	dump();
	const struct listener *l = find(AF_INET, port);
	cr_assert_not_null(l);
	cr_assert_eq(listeners_attribute(&ctx, &set, &diags), 0);
	cr_assert_eq(l->nowners, 1, "its holder in the other namespace is its owner");
	cr_assert(l->owners_known);
	cr_assert_eq(listener_owner_at(&set, l, 0)->pid, child);

	/* The command says so too (its walker does the same walk). */
	cr_assert_eq(sandbox_qtune(&out, NULL, (const char *[]){ "--json", "listeners", NULL }), 0);
	snprintf(pid_json, sizeof(pid_json), "\"pid\":%d", (int)child);
	cr_assert(strstr(out, pid_json), "owner pid %d named: %s", (int)child, out);
	free(out);
	close(hangup);
	waitpid(child, NULL, 0);
	child = -1;
}

Test(listeners, a_socket_kept_across_unshare_is_owned_from_the_other_namespace)
{
	owner_found_across_namespaces(false);
}

Test(listeners, a_socket_passed_over_a_unix_socket_is_owned_from_the_other_namespace)
{
	owner_found_across_namespaces(true);
}

/* ------------------------------------------------------ parallel walk */

/* b found what a found: the same owners in the same order, every
 * listener's links and fds. (The host's other processes come and go
 * between two walks, other tests' among them: the processes seen, and the
 * fd tables read by a pass over the other namespaces, may differ.) */
static void same_attribution(const struct listener_set *a, const struct listener_set *b)
{
	cr_assert_eq(b->n, a->n);
	cr_assert_eq(b->nowners, a->nowners);
	cr_assert_eq(b->pids_denied, a->pids_denied);
	cr_assert_eq(b->owners_complete, a->owners_complete);
	for (size_t o = 0; o < a->nowners; o++) {
		cr_assert_eq(b->owners[o].pid, a->owners[o].pid, "owner %zu", o);
		cr_assert_eq(b->owners[o].ppid, a->owners[o].ppid);
		cr_assert_str_eq(b->owners[o].comm, a->owners[o].comm);
		cr_assert_str_eq(b->owners[o].exe, a->owners[o].exe);
	}
	cr_assert_eq(b->nlinks, a->nlinks);
	cr_assert_arr_eq(b->links, a->links, a->nlinks * sizeof(*a->links));
	cr_assert_arr_eq(b->link_fds, a->link_fds, a->nlinks * sizeof(*a->link_fds));
	for (size_t i = 0; i < a->n; i++) {
		cr_assert_eq(b->v[i].inode, a->v[i].inode);
		cr_assert_eq(b->v[i].owner_off, a->v[i].owner_off);
		cr_assert_eq(b->v[i].nowners, a->v[i].nowners);
		cr_assert_eq(b->v[i].owners_total, a->v[i].owners_total);
		cr_assert_eq(b->v[i].owners_known, a->v[i].owners_known);
	}
}

static void reap(pid_t *kids, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		kill(kids[k], SIGKILL);
		waitpid(kids[k], NULL, 0);
	}
}

/* The parallel walk merges in /proc's order: the owners, their order and
 * every listener's links are those of a walk by one thread; and the pass
 * over the other namespaces that follows the merge still finds the owner
 * of a listener held only from there. */
Test(listeners, a_parallel_walk_finds_what_one_thread_finds)
{
	struct listener_set one = { 0 };
	pid_t kids[4];
	uint16_t away;
	int hangup, lfd;

	for (int i = 0; i < 6; i++)
		sandbox_listen("127.0.0.1", 0, 10, NULL);
	for (size_t k = 0; k < ARRAY_SIZE(kids); k++)
		kids[k] = spawn_holder(false, 0);
	sandbox_listen("::1", 0, 10, NULL);        /* ours alone */
	lfd = sandbox_listen("127.0.0.1", 0, 10, &away);
	child = hold_in_another_netns(lfd, false, &hangup);
	ctx.owner_jobs = 1;
	cr_assert_eq(listeners_dump(&ctx, &one, &diags), 0);
	cr_assert_eq(listeners_attribute(&ctx, &one, &diags), 0);
	cr_assert_eq(owners_last_walk_threads, 1);
	ctx.owner_jobs = 2;
	dump();
	cr_assert_eq(listeners_attribute(&ctx, &set, &diags), 0);
	cr_assert_eq(owners_last_walk_threads, 2, "two threads walked");
	cr_assert_eq(set.nowners, 1 + ARRAY_SIZE(kids) + 1, "us, the holders, the one away");
	same_attribution(&one, &set);
	const struct listener *l = find(AF_INET, away);
	cr_assert(l && l->nowners == 1 && listener_owner_at(&set, l, 0)->pid == child);
	ctx.owner_jobs = 4;
	dump();
	cr_assert_eq(listeners_attribute(&ctx, &set, &diags), 0);
	cr_assert_eq(owners_last_walk_threads, 4);
	same_attribution(&one, &set);
	listener_set_free(&one);
	close(hangup);
	reap(kids, ARRAY_SIZE(kids));
}

/* --all-netns walks /proc once for every namespace: with two threads each
 * namespace's set is the one a single thread finds. */
Test(listeners, the_all_netns_walk_finds_the_same_with_one_thread_and_two)
{
	struct listener_set one[2] = { { 0 } }, two[2] = { { 0 } };
	uint64_t inodes[2];
	pid_t kids[3], away[2];
	struct stat st;
	int here, there;

	for (int i = 0; i < 4; i++)
		sandbox_listen("127.0.0.1", 0, 10, NULL);
	for (size_t k = 0; k < ARRAY_SIZE(kids); k++)
		kids[k] = spawn_holder(false, 0);
	away[0] = spawn_holder(true, 18301);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)away[0]);
	here = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	there = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(here >= 0 && there >= 0);
	cr_assert(fstat(here, &st) == 0);
	inodes[0] = st.st_ino;
	cr_assert(fstat(there, &st) == 0);
	inodes[1] = st.st_ino;
	cr_assert_neq(inodes[0], inodes[1]);
	/* A second owner there: a child of the first would be in its
	 * namespace; this one enters it and listens on nothing of its own. */
	cr_assert(setns(there, CLONE_NEWNET) == 0);
	away[1] = spawn_holder(false, 0);
	for (int round = 0; round < 2; round++) {
		struct listener_set *sets = round ? two : one;

		cr_assert(setns(here, CLONE_NEWNET) == 0);
		cr_assert_eq(listeners_dump(&ctx, &sets[0], &diags), 0);
		cr_assert(setns(there, CLONE_NEWNET) == 0);
		cr_assert_eq(listeners_dump(&ctx, &sets[1], &diags), 0);
		cr_assert_eq(sets[1].n, 1, "the listener of the other namespace");
		/* Back home, where this process's listeners are. */
		cr_assert(setns(here, CLONE_NEWNET) == 0);
		ctx.owner_jobs = round ? 2 : 1;
		cr_assert_eq(listeners_attribute_netns(&ctx, sets, inodes, 2, &diags), 0);
		cr_assert_eq(owners_last_walk_threads, round ? 2u : 1u);
	}
	cr_assert_eq(one[0].nowners, 1 + ARRAY_SIZE(kids));
	cr_assert_eq(one[1].nowners, 1, "the holder that listens; the other holds none of it");
	cr_assert_eq(one[1].owners[0].pid, away[0]);
	same_attribution(&one[0], &two[0]);
	same_attribution(&one[1], &two[1]);
	/* Every listener has an owner in its namespace: no pass over the
	 * others, so the fd tables read are those of the two namespaces. */
	cr_assert_eq(one[0].fd_tables_read, 1 + ARRAY_SIZE(kids));
	cr_assert_eq(two[0].fd_tables_read, 1 + ARRAY_SIZE(kids));
	cr_assert_eq(one[1].fd_tables_read, 2);
	cr_assert_eq(two[1].fd_tables_read, 2);
	for (int k = 0; k < 2; k++) {
		listener_set_free(&one[k]);
		listener_set_free(&two[k]);
	}
	close(here);
	close(there);
	reap(kids, ARRAY_SIZE(kids));
	reap(away, ARRAY_SIZE(away));
}

/* By default one thread per CPU the process may run on: taskset -c 0
 * means one. */
Test(listeners, by_default_one_cpu_walks_with_one_thread)
{
	cpu_set_t cpus, all;

	sandbox_listen("127.0.0.1", 0, 10, NULL);
	cr_assert(sched_getaffinity(0, sizeof(all), &all) == 0);
	CPU_ZERO(&cpus);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &all)) {
			CPU_SET(c, &cpus);
			break;
		}
	cr_assert(sched_setaffinity(0, sizeof(cpus), &cpus) == 0);
	ctx.owner_jobs = 0;
	dump();
	cr_assert_eq(listeners_attribute(&ctx, &set, &diags), 0);
	cr_assert_eq(owners_last_walk_threads, 1);
	cr_assert_eq(set.nowners, 1);
	cr_assert(sched_setaffinity(0, sizeof(all), &all) == 0);
	dump();
	cr_assert_eq(listeners_attribute(&ctx, &set, &diags), 0);
	cr_assert_leq(owners_last_walk_threads, CPU_COUNT(&all) < 8 ? (unsigned)CPU_COUNT(&all) : 8u);
	cr_assert_geq(owners_last_walk_threads, 1);
}

/* ------------------------------------------- the unit from the cgroup id */

#include <sys/statfs.h>
#include <linux/magic.h>
#include "unit.h"

static char cg_made[4][512];
static size_t cg_nmade;

static void cg_cleanup(void)
{
	while (cg_nmade > 0)
		rmdir(cg_made[--cg_nmade]);
}

/* A child moved into the cgroup at dir before it listens; its port. */
static pid_t listener_in_cgroup(const char *dir, uint16_t *port)
{
	int go[2], back[2];
	char path[600], num[16];
	pid_t pid;

	cr_assert(pipe(go) == 0 && pipe(back) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		char c;
		uint16_t p = 0;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		sandbox_listen("127.0.0.1", 0, 10, &p);
		if (write(back[1], &p, sizeof(p)) != sizeof(p))
			_exit(1);
		pause();
		_exit(0);
	}
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	snprintf(num, sizeof(num), "%d", (int)pid);
	FILE *f = fopen(path, "we");
	cr_assert(f, "%s: %s", path, strerror(errno));
	fputs(num, f);
	cr_assert_eq(fclose(f), 0, "moving %d into %s: %s", (int)pid, dir, strerror(errno));
	cr_assert_eq(write(go[1], "g", 1), 1);
	cr_assert_eq(read(back[0], port, sizeof(*port)), (ssize_t)sizeof(*port));
	close(go[0]);
	close(go[1]);
	close(back[0]);
	close(back[1]);
	return pid;
}

/* Real processes in test cgroups (made under the cgroup2 mount, removed
 * afterwards): the unit the dump's cgroup id names is the one the unit
 * rule reads from the process's own /proc/PID/cgroup, below a user's
 * manager too (no system unit). */
/* walk: without CAP_DAC_READ_SEARCH, so that no cgroup opens by its
 * handle and the cgroup2 tree is walked instead. */
static void unit_from_the_cgroup_id(bool walk)
{
	static const char *const mounts[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };
	const char *root = NULL;
	char slice[128], svc[128];
	struct statfs sf;

	for (size_t i = 0; i < ARRAY_SIZE(mounts) && !root; i++)
		if (statfs(mounts[i], &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
			root = mounts[i];
	if (!root)
		cr_skip_test("no cgroup2 mount");
	snprintf(slice, sizeof(slice), "qtune-test-%d.slice", (int)getpid());
	snprintf(svc, sizeof(svc), "qtune-test-%d.service", (int)getpid());
	snprintf(cg_made[0], sizeof(cg_made[0]), "%s/%s", root, slice);
	snprintf(cg_made[1], sizeof(cg_made[1]), "%s/%s/%s", root, slice, svc);
	snprintf(cg_made[2], sizeof(cg_made[2]), "%s/%s/user@4242.service", root, slice);
	snprintf(cg_made[3], sizeof(cg_made[3]), "%s/%s/user@4242.service/app.slice", root, slice);
	for (cg_nmade = 0; cg_nmade < 4; cg_nmade++)
		cr_assert(mkdir(cg_made[cg_nmade], 0755) == 0, "%s: %s", cg_made[cg_nmade], strerror(errno));

	uint16_t psvc, puser;
	pid_t a = listener_in_cgroup(cg_made[1], &psvc);
	pid_t b = listener_in_cgroup(cg_made[3], &puser);
	if (walk) {
		cap_t c = cap_get_proc();
		cap_value_t v = CAP_DAC_READ_SEARCH;

		cr_assert(c && cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_CLEAR) == 0 && cap_set_proc(c) == 0);
		cap_free(c);
	}
	dump();
	const struct listener *ls = find(AF_INET, psvc), *lu = find(AF_INET, puser);
	cr_assert(ls && lu);
	struct stat st;
	cr_assert(stat(cg_made[1], &st) == 0);
	cr_assert_eq(ls->cgroup_id, st.st_ino, "the id is the directory's inode");

	pid_t pids[2] = { a, b };
	const struct listener *l[2] = { ls, lu };
	for (int k = 0; k < 2; k++) {
		char path[64], *text = NULL, unit[LISTENERS_UNIT_MAX];
		uint32_t uid = 0;

		snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pids[k]);
		cr_assert(util_read_file_at(AT_FDCWD, path, 0, 65536, &text, NULL) == 0);
		enum unit_kind kind = unit_from_cgroup(text, unit, sizeof(unit), &uid);
		const char *got = listener_socket_unit(&set, l[k]);
		if (k == 0) {
			cr_assert_eq(kind, UNIT_SYSTEM, "%s", text);
			cr_assert_str_eq(unit, svc);
			cr_assert(got, "no unit from the cgroup id");
			cr_assert_str_eq(got, unit);
		} else {
			cr_assert_eq(kind, UNIT_USER, "%s", text);
			cr_assert_null(got, "below user@4242.service: %s", got);
		}
		free(text);
	}
	for (int k = 0; k < 2; k++) {
		kill(pids[k], SIGKILL);
		waitpid(pids[k], NULL, 0);
	}
	/* Gone from the cgroups before they can be removed. */
	for (int i = 0, busy = 1; i < 100 && busy; i++) {
		busy = 0;
		for (int k = 1; k <= 3; k += 2) {
			char procs[600], buf[64] = "";
			snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg_made[k]);
			FILE *f = fopen(procs, "re");
			busy |= f && fgets(buf, sizeof(buf), f);
			if (f)
				fclose(f);
		}
		if (busy)
			usleep(10000);
	}
}

Test(listeners, the_unit_from_the_cgroup_id_matches_proc_pid_cgroup, .fini = cg_cleanup)
{
	unit_from_the_cgroup_id(false);
}

Test(listeners, the_unit_from_the_cgroup_id_without_handles_walks_the_tree, .fini = cg_cleanup)
{
	unit_from_the_cgroup_id(true);
}
