/* Tests for relisten: the plan (pure, on hand-made sets) and the execution
 * against real listeners of other processes in a private network namespace:
 * a clamped listener is raised live and its owner keeps serving, shared and
 * SO_REUSEPORT sockets are each handled once, a dry run touches nothing,
 * and without CAP_SYS_PTRACE the listener is reported, not raised. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_listeners.h"
#include "findings.h"
#include "listeners.h"
#include "output.h"
#include "owners.h"
#include "relisten_report.h"
#include "relisten.h"
#include "sandbox.h"
#include "sysctl.h"
#include "util.h"

#define MAX_SOCKS 4

static struct qt_ctx ctx;
static struct listener_set set;
static struct findings fs;
static struct relisten_target *targets;
static size_t ntargets;
static struct relisten_results results;
static struct qt_diags diags;

/* A process that listens, and accepts one connection when told to. */
struct server {
	pid_t pid;
	int cmd;                /* write: 'a', index → accept one on that socket */
	int status;             /* read: the ports, then 'A' (or 'E') per accept */
	uint16_t port[MAX_SOCKS];
};

struct server_opts {
	int nsock;              /* sockets, 1..MAX_SOCKS */
	bool reuseport;         /* all on one port, SO_REUSEPORT */
	int backlog;
	bool sharer;            /* a second process (fork) holds the same sockets */
	bool nobody;            /* then runs as uid 65534, keeping the sockets */
};

static struct server servers[2];
static size_t nservers;

static void setup(void)
{
	sandbox_enter();
	sandbox_ctx(&ctx);
}

static void teardown(void)
{
	for (size_t i = 0; i < nservers; i++) {
		kill(servers[i].pid, SIGKILL);
		waitpid(servers[i].pid, NULL, 0);
		close(servers[i].cmd);
		close(servers[i].status);
	}
	nservers = 0;
	relisten_results_free(&results);
	free(targets);
	findings_free(&fs);
	listener_set_free(&set);
	diags_free(&diags);
	close(ctx.procsys_fd);
	close(ctx.proc_fd);
	sandbox_leave();
}

TestSuite(relisten, .init = setup, .fini = teardown);

/* ------------------------------------------------------------- helpers */

static int listen_on(uint16_t port, bool reuseport, int backlog, uint16_t *bound)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	struct timeval tv = { .tv_sec = 5 };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, backlog) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
		return -1;
	/* accept() gives up after 5 s, so a broken test fails, not hangs. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	*bound = ntohs(sa.sin_port);
	return fd;
}

static void become_nobody(void)
{
	if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
	    setresuid(65534, 65534, 65534) != 0)
		_exit(20);
	/* A credential change clears the parent-death signal. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* The server's body: never returns into Criterion. */
static void server_main(const struct server_opts *o, int cmd, int st)
{
	uint16_t ports[MAX_SOCKS] = { 0 };
	int fds[MAX_SOCKS];

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (int i = 0; i < o->nsock; i++) {
		fds[i] = listen_on(o->reuseport && i ? ports[0] : 0, o->reuseport, o->backlog,
				   &ports[i]);
		if (fds[i] < 0)
			_exit(10);
	}
	if (o->sharer) {
		int p[2];
		char c;
		pid_t pid;

		if (pipe(p) != 0 || (pid = fork()) < 0)
			_exit(11);
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			close(p[0]);
			close(cmd);
			if (write(p[1], "r", 1) != 1)
				_exit(12);
			for (;;)
				pause();
		}
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(13);
		close(p[0]);
	}
	if (o->nobody)
		become_nobody();
	if (write(st, ports, sizeof(ports)) != (ssize_t)sizeof(ports))
		_exit(14);
	for (;;) {
		unsigned char c[2];
		int a;

		if (read(cmd, c, 2) != 2)
			_exit(0);
		a = c[1] < o->nsock ? accept(fds[c[1]], NULL, NULL) : -1;
		if (a >= 0 && write(a, "ok", 2) == 2) {
			close(a);
			if (write(st, "A", 1) != 1)
				_exit(15);
		} else if (write(st, "E", 1) != 1) {
			_exit(16);
		}
	}
}

static struct server *server_start(const struct server_opts *o)
{
	struct server *s = &servers[nservers];
	int c[2], st[2];

	cr_assert(nservers < ARRAY_SIZE(servers));
	cr_assert(pipe2(c, O_CLOEXEC) == 0 && pipe2(st, O_CLOEXEC) == 0);
	s->pid = fork();
	cr_assert(s->pid >= 0);
	if (s->pid == 0) {
		close(c[1]);
		close(st[0]);
		server_main(o, c[0], st[1]);
		_exit(0);
	}
	nservers++;
	close(c[0]);
	close(st[1]);
	s->cmd = c[1];
	s->status = st[0];
	cr_assert_eq(read(s->status, s->port, sizeof(s->port)), (ssize_t)sizeof(s->port),
		     "server failed to start");
	return s;
}

static int client_connect(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cr_assert(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect: %s",
		  strerror(errno));
	return fd;
}

/* The server accepts the next connection on socket idx, and the client
 * reads what it sent there: the owner is still serving. */
static void server_serves(struct server *s, int idx, int client)
{
	unsigned char c[2] = { 'a', (unsigned char)idx };
	char r = 0, buf[2];

	cr_assert_eq(write(s->cmd, c, 2), 2);
	cr_assert_eq(read(s->status, &r, 1), 1);
	cr_assert_eq(r, 'A', "the server could not accept");
	cr_assert_eq(read(client, buf, 2), 2, "the client got nothing: %s", strerror(errno));
	cr_assert(memcmp(buf, "ok", 2) == 0);
	close(client);
}

static void dump(void)
{
	cr_assert_eq(listeners_dump(&ctx, &set, &diags), 0);
	cr_assert_eq(listeners_attribute(&ctx, &set, &diags), 0);
}

static const struct listener *find_port(const struct listener_set *s, uint16_t port, size_t nth)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].port == port && nth-- == 0)
			return &s->v[i];
	return NULL;
}

/* The backlog of the socket with this inode, read afresh over sock_diag. */
static long long backlog_now(uint64_t inode)
{
	struct listener_set now = { 0 };
	long long b = -1;

	cr_assert_eq(listeners_dump(&ctx, &now, &diags), 0);
	for (size_t i = 0; i < now.n; i++)
		if (now.v[i].inode == inode)
			b = now.v[i].backlog;
	listener_set_free(&now);
	return b;
}

static size_t count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	size_t n = 0;

	cr_assert(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Findings under lim, then the plan for mode at somaxconn_now. */
static void plan(const struct finding_limits *lim, enum relisten_mode mode, int64_t somaxconn_now)
{
	findings_free(&fs);
	free(targets);
	findings_build(&set, lim, &fs);
	cr_assert_eq(relisten_plan(&set, &fs, mode, somaxconn_now, 0, &targets, &ntargets), 0);
}

static void execute(bool dry_run)
{
	cr_assert_eq(relisten_execute(&ctx, &set, targets, ntargets, dry_run, &results, &diags), 0);
	cr_assert_eq(results.n, ntargets);
}

static const struct relisten_result *result_for(uint64_t inode)
{
	const struct relisten_result *hit = NULL;

	for (size_t i = 0; i < results.n; i++) {
		if (results.v[i].inode != inode)
			continue;
		cr_assert_null(hit, "inode %llu reported twice", (unsigned long long)inode);
		hit = &results.v[i];
	}
	return hit;
}

static char *render_text(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert(f);
	relisten_render_text(&ctx, f, &set, &results);
	cr_assert(fclose(f) == 0);
	return text;
}

static const struct finding_limits raise_128_to_4096 = {
	.somaxconn_before = 128, .somaxconn_after = 4096,
};

/* A server of opts listening under somaxconn 128, which is then raised to
 * 4096: its sockets are clamped. */
static struct server *clamped_server(const struct server_opts *o)
{
	sandbox_sysctl_set("net/core/somaxconn", "128");
	struct server *s = server_start(o);
	sandbox_sysctl_set("net/core/somaxconn", "4096");
	return s;
}

/* The same, dumped and attributed: the listener of its first socket. */
static const struct listener *clamped_listener(const struct server_opts *o, struct server **s)
{
	*s = clamped_server(o);
	dump();
	const struct listener *l = find_port(&set, (*s)->port[0], 0);
	cr_assert_not_null(l);
	return l;
}

/* ------------------------------------------------------- live relisten */

Test(relisten, clamped_listener_is_raised_and_its_owner_keeps_serving)
{
	struct server *s;
	const struct listener *l = clamped_listener(&(struct server_opts){ .nsock = 1,
								 .backlog = 4096 }, &s);
	/* A connection waiting in the accept queue across the change. */
	int early = client_connect(s->port[0]);

	cr_assert_eq(l->backlog, 128, "listen() clamped to the somaxconn of its time");
	cr_assert_eq(l->nowners, 1);
	cr_assert_eq(listener_owner_at(&set, l, 0)->pid, s->pid);

	plan(&raise_128_to_4096, RELISTEN_CLAMPED, 4096);
	cr_assert_eq(ntargets, 1);
	cr_assert_eq(targets[0].inode, l->inode);
	cr_assert_eq(targets[0].old_backlog, 128);
	cr_assert_eq(targets[0].new_backlog, 4096);
	cr_assert(targets[0].clamped);
	cr_assert_not(targets[0].below_min);

	size_t fds = count_fds();
	execute(false);
	cr_assert_eq(count_fds(), fds, "the duplicate was not closed");
	const struct relisten_result *r = result_for(l->inode);
	cr_assert_not_null(r);
	cr_assert_eq(r->status, RELISTEN_RAISED, "%s", r->reason ? r->reason : "");
	cr_assert_eq(r->old_backlog, 128);
	cr_assert_eq(r->backlog_now, 4096);
	cr_assert_eq(r->pid, s->pid);
	cr_assert_null(r->reason);
	cr_assert(results.confirmed);
	cr_assert_eq(results.nraised, 1);
	cr_assert_eq(results.nfailed, 0);
	cr_assert_eq(backlog_now(l->inode), 4096);

	/* The queued connection survived, and a new one is served. */
	int late = client_connect(s->port[0]);
	server_serves(s, 0, early);
	server_serves(s, 0, late);

	char *text = render_text(), want[128];
	snprintf(want, sizeof(want), "raised 128 -> 4096, the ceiling: the program's own request is "
		 "unknown (pid %d ", (int)s->pid);
	cr_assert(strstr(text, want), "%s", text);
	cr_assert(strstr(text, "relisten: 1 raised, 0 already fine, 0 not raised"), "%s", text);
	free(text);
}

Test(relisten, forked_pair_sharing_one_socket_is_raised_once)
{
	struct server *s;
	const struct listener *l = clamped_listener(&(struct server_opts){
		.nsock = 1, .backlog = 4096, .sharer = true }, &s);

	cr_assert_eq(l->nowners, 2, "both processes own it");
	cr_assert_null(find_port(&set, s->port[0], 1), "one socket, one listener");

	plan(&raise_128_to_4096, RELISTEN_CLAMPED, 4096);
	cr_assert_eq(ntargets, 1);
	execute(false);
	const struct relisten_result *r = result_for(l->inode);
	cr_assert_eq(r->status, RELISTEN_RAISED);
	cr_assert(r->pid == listener_owner_at(&set, l, 0)->pid ||
		  r->pid == listener_owner_at(&set, l, 1)->pid);
	cr_assert_eq(backlog_now(l->inode), 4096);
	server_serves(s, 0, client_connect(s->port[0]));
}

Test(relisten, reuseport_sockets_are_each_raised_once)
{
	struct server *s = clamped_server(&(struct server_opts){
		.nsock = 2, .reuseport = true, .backlog = 4096 });

	cr_assert_eq(s->port[0], s->port[1]);
	dump();
	const struct listener *a = find_port(&set, s->port[0], 0), *b = find_port(&set, s->port[0], 1);
	cr_assert_not_null(a);
	cr_assert_not_null(b);
	cr_assert_neq(a->inode, b->inode);

	plan(&raise_128_to_4096, RELISTEN_CLAMPED, 4096);
	cr_assert_eq(ntargets, 2);
	cr_assert_neq(targets[0].inode, targets[1].inode);
	execute(false);
	cr_assert_eq(result_for(a->inode)->status, RELISTEN_RAISED);
	cr_assert_eq(result_for(b->inode)->status, RELISTEN_RAISED);
	cr_assert_eq(results.nraised, 2);
	cr_assert_eq(backlog_now(a->inode), 4096);
	cr_assert_eq(backlog_now(b->inode), 4096);
}

Test(relisten, dry_run_touches_nothing)
{
	struct server *s;
	const struct listener *l = clamped_listener(&(struct server_opts){ .nsock = 1,
								 .backlog = 4096 }, &s);

	plan(&raise_128_to_4096, RELISTEN_CLAMPED, 4096);
	size_t fds = count_fds();
	execute(true);
	cr_assert_eq(count_fds(), fds);
	const struct relisten_result *r = result_for(l->inode);
	cr_assert_eq(r->status, RELISTEN_WOULD_RAISE);
	cr_assert_eq(r->pid, s->pid);
	cr_assert_eq(r->backlog_now, -1);
	cr_assert(results.dry_run);
	cr_assert_not(results.confirmed);
	cr_assert_eq(results.nwould, 1);
	cr_assert_eq(backlog_now(l->inode), 128, "a dry run changed the backlog");

	char *text = render_text();
	cr_assert(strstr(text, "would raise 128 -> 4096"), "%s", text);
	cr_assert(strstr(text, "relisten (dry run): 1 would be raised"), "%s", text);
	free(text);
}

Test(relisten, listener_not_flagged_is_left_alone)
{
	uint16_t small_port;

	sandbox_sysctl_set("net/core/somaxconn", "128");
	/* 64 is what its program asked for, not a clamp. */
	int fd = listen_on(0, false, 64, &small_port);
	cr_assert(fd >= 0);
	struct server *s = clamped_server(&(struct server_opts){ .nsock = 1, .backlog = 4096 });

	dump();
	const struct listener *small = find_port(&set, small_port, 0);
	const struct listener *clamped = find_port(&set, s->port[0], 0);
	plan(&raise_128_to_4096, RELISTEN_CLAMPED, 4096);
	cr_assert_eq(ntargets, 1);
	cr_assert_eq(targets[0].inode, clamped->inode);
	execute(false);
	cr_assert_null(result_for(small->inode));
	cr_assert_eq(backlog_now(small->inode), 64);
	cr_assert_eq(backlog_now(clamped->inode), 4096);
	close(fd);
}

Test(relisten, target_already_reached_is_already_fine_and_never_lowered)
{
	uint16_t port;

	sandbox_sysctl_set("net/core/somaxconn", "128");
	int fd = listen_on(0, false, 4096, &port);
	sandbox_sysctl_set("net/core/somaxconn", "4096");
	dump();
	const struct listener *l = find_port(&set, port, 0);
	cr_assert_eq(l->backlog, 128);
	plan(&raise_128_to_4096, RELISTEN_CLAMPED, 4096);
	cr_assert_eq(ntargets, 1);
	cr_assert_eq(targets[0].new_backlog, 4096);

	/* Between plan and execution its program listened again, higher. */
	sandbox_sysctl_set("net/core/somaxconn", "8192");
	cr_assert(listen(fd, 8192) == 0);
	execute(false);
	const struct relisten_result *r = result_for(l->inode);
	cr_assert_eq(r->status, RELISTEN_ALREADY_FINE, "status %s", relisten_status_name(r->status));
	cr_assert_eq(r->old_backlog, 8192, "the socket's own backlog at execution");
	cr_assert_eq(r->pid, getpid());
	cr_assert_eq(backlog_now(l->inode), 8192, "relisten lowered a backlog");
	close(fd);
}

Test(relisten, below_min_is_raised_to_the_requirement_capped_at_somaxconn)
{
	uint16_t pa, pb, pc;

	sandbox_sysctl_set("net/core/somaxconn", "4096");
	int a = listen_on(0, false, 100, &pa);
	int b = listen_on(0, false, 100, &pb);
	int c = listen_on(0, false, 4096, &pc);
	cr_assert(a >= 0 && b >= 0 && c >= 0);
	dump();
	struct finding_port ports[] = { { pb, 8192 }, { pc, 8192 } };
	struct finding_limits lim = {
		.somaxconn_before = 4096, .somaxconn_after = 4096,
		.has_min_backlog = true, .min_backlog = 1024,
		.ports = ports, .nports = ARRAY_SIZE(ports),
	};
	const struct listener *la = find_port(&set, pa, 0), *lb = find_port(&set, pb, 0),
			      *lc = find_port(&set, pc, 0);

	/* Not clamped: the default mode leaves them alone. */
	plan(&lim, RELISTEN_CLAMPED, 4096);
	cr_assert_eq(ntargets, 0);
	cr_assert_null(targets);

	plan(&lim, RELISTEN_ALL, 4096);
	cr_assert_eq(ntargets, 3);
	execute(false);
	const struct relisten_result *ra = result_for(la->inode), *rb = result_for(lb->inode),
				     *rc = result_for(lc->inode);
	cr_assert_eq(ra->status, RELISTEN_RAISED);
	cr_assert_eq(ra->new_backlog, 1024, "min_backlog");
	cr_assert(ra->below_min && !ra->clamped);
	cr_assert_eq(rb->status, RELISTEN_RAISED);
	cr_assert_eq(rb->new_backlog, 4096, "the port's 8192, capped at somaxconn");
	/* Already at the cap: nothing more can be done live. */
	cr_assert_eq(rc->status, RELISTEN_ALREADY_FINE);
	cr_assert_eq(backlog_now(la->inode), 1024);
	cr_assert_eq(backlog_now(lb->inode), 4096);
	cr_assert_eq(backlog_now(lc->inode), 4096);
	cr_assert_eq(results.nraised, 2);
	cr_assert_eq(results.nfine, 1);

	char *text = render_text();
	cr_assert(strstr(text, "already fine: backlog 4096 reaches 4096"), "%s", text);
	free(text);
	close(a);
	close(b);
	close(c);
}

Test(relisten, a_reused_fd_number_is_never_touched)
{
	uint16_t pa, pb;

	sandbox_sysctl_set("net/core/somaxconn", "128");
	int a = listen_on(0, false, 4096, &pa);
	int b = listen_on(0, false, 10, &pb);
	sandbox_sysctl_set("net/core/somaxconn", "4096");
	dump();
	const struct listener *la = find_port(&set, pa, 0), *lb = find_port(&set, pb, 0);
	plan(&raise_128_to_4096, RELISTEN_CLAMPED, 4096);
	cr_assert_eq(ntargets, 1);

	/* After the scan the socket moves to another fd number, and another
	 * listener takes its old one: the number found now names b. */
	int moved = dup(a);
	cr_assert(moved >= 0);
	cr_assert_eq(dup2(b, a), a);
	execute(false);
	const struct relisten_result *r = result_for(la->inode);
	cr_assert_eq(r->status, RELISTEN_FAILED);
	cr_assert_eq(r->err, -ESTALE);
	cr_assert(strstr(r->reason, "no longer holds it where it was found"), "%s", r->reason);
	cr_assert_eq(backlog_now(lb->inode), 10, "the socket now at that number was touched");
	cr_assert_eq(backlog_now(la->inode), 128);
	close(moved);
	close(b);
	close(a);
}

/* ------------------------------------------- without CAP_SYS_PTRACE */

/* Everything but CAP_SYS_PTRACE, euid 0 kept: root that may write net.*
 * but may not reach into another uid's process. 0 or an exit code. */
static int drop_sys_ptrace(void)
{
	cap_value_t v = CAP_SYS_PTRACE, na = CAP_NET_ADMIN;
	cap_flag_value_t has = CAP_CLEAR;
	cap_t c = cap_get_proc();
	int r = 0;

	if (!c || cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_CLEAR) < 0 ||
	    cap_set_flag(c, CAP_PERMITTED, 1, &v, CAP_CLEAR) < 0 ||
	    cap_set_flag(c, CAP_INHERITABLE, 1, &v, CAP_CLEAR) < 0 || cap_set_proc(c) < 0)
		r = 30;
	cap_free(c);
	c = cap_get_proc();
	if (r == 0 && (!c || cap_get_flag(c, CAP_SYS_PTRACE, CAP_EFFECTIVE, &has) < 0 ||
		       has == CAP_SET))
		r = 31;
	if (r == 0 && (cap_get_flag(c, na, CAP_EFFECTIVE, &has) < 0 || has != CAP_SET))
		r = 32;
	cap_free(c);
	return r;
}

static void write_all_or_die(int fd, const char *s)
{
	if (util_write_all(fd, s, strlen(s)) < 0)
		_exit(40);
}

/* Runs body in a child without CAP_SYS_PTRACE; what it writes to its fd
 * (one line per result: STATUS|REASON|ADVICE) comes back malloc'd. */
static char *without_sys_ptrace(void (*body)(int fd))
{
	int p[2], status;
	char *out = NULL;
	size_t len = 0;
	pid_t pid;

	cr_assert(pipe2(p, O_CLOEXEC) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int r;

		close(p[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		r = drop_sys_ptrace();
		if (r)
			_exit(r);
		body(p[1]);
		_exit(0);
	}
	close(p[1]);
	cr_assert_eq(util_read_fd(p[0], 64 * 1024, &out, &len), 0);
	close(p[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed with %d",
		  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return out;
}

static void report_results(int fd)
{
	for (size_t i = 0; i < results.n; i++) {
		char *line = xasprintf("%s|%s|%s\n", relisten_status_name(results.v[i].status),
				       results.v[i].reason ? results.v[i].reason : "",
				       results.v[i].advice ? results.v[i].advice : "");
		write_all_or_die(fd, line);
		free(line);
	}
}

/* The owners were found with full privileges; the taking is done without. */
static void execute_and_report(int fd)
{
	if (relisten_execute(&ctx, &set, targets, ntargets, false, &results, &diags) != 0)
		_exit(41);
	if (results.cap_sys_ptrace)
		_exit(42);
	report_results(fd);
}

Test(relisten, without_cap_sys_ptrace_another_uids_listener_is_reported_not_raised)
{
	struct server *s;
	const struct listener *l = clamped_listener(&(struct server_opts){
		.nsock = 1, .backlog = 4096, .nobody = true }, &s);

	cr_assert_eq(l->nowners, 1);
	plan(&raise_128_to_4096, RELISTEN_CLAMPED, 4096);
	cr_assert_eq(ntargets, 1);

	char *out = without_sys_ptrace(execute_and_report), want[64];
	cr_assert(strncmp(out, "failed|", 7) == 0, "%s", out);
	cr_assert(strstr(out, "not permitted to take the socket from pid"), "%s", out);
	cr_assert(strstr(out, "needs CAP_SYS_PTRACE over the owner"), "%s", out);
	snprintf(want, sizeof(want), "|restart ");
	cr_assert(strstr(out, want), "no restart advice: %s", out);
	snprintf(want, sizeof(want), "pid %d", (int)s->pid);
	cr_assert(strstr(out, want), "the advice does not name the owner: %s", out);
	cr_assert_eq(backlog_now(l->inode), 128, "raised without the privilege");
	free(out);
	/* It still serves, untouched. */
	server_serves(s, 0, client_connect(s->port[0]));
}

/* The whole run without CAP_SYS_PTRACE, as `apply --relisten` would do it:
 * the values are written (CAP_NET_ADMIN), the owner cannot even be seen. */
static void whole_run(int fd)
{
	char buf[32];

	if (sysctl_write(ctx.procsys_fd, "net/core/somaxconn", "4096", buf, sizeof(buf)) != 0)
		_exit(50);
	if (listeners_dump(&ctx, &set, &diags) != 0 || listeners_attribute(&ctx, &set, &diags) != 0)
		_exit(51);
	findings_build(&set, &raise_128_to_4096, &fs);
	if (relisten_plan(&set, &fs, RELISTEN_CLAMPED, 4096, 0, &targets, &ntargets) != 0 ||
	    ntargets != 1)
		_exit(52);
	execute_and_report(fd);
}

Test(relisten, without_cap_sys_ptrace_the_values_apply_and_the_listener_is_reported)
{
	sandbox_sysctl_set("net/core/somaxconn", "128");
	struct server *s = server_start(&(struct server_opts){
		.nsock = 1, .backlog = 4096, .nobody = true });

	char *out = without_sys_ptrace(whole_run);
	cr_assert_eq(sandbox_sysctl_get("net/core/somaxconn"), 4096, "the value was not applied");
	cr_assert(strncmp(out, "failed|", 7) == 0, "%s", out);
	cr_assert(strstr(out, "its owner is unknown"), "%s", out);
	cr_assert(strstr(out, "CAP_SYS_PTRACE"), "%s", out);
	/* Defect 10: one reason, said once; no advice repeating it. */
	cr_assert_null(strstr(strstr(out, "CAP_SYS_PTRACE") + 1, "CAP_SYS_PTRACE"), "said twice: %s", out);
	cr_assert_null(strstr(out, "restart the process owning it"), "%s", out);
	cr_assert_null(strstr(out, "owner unknown ("), "%s", out);
	free(out);
	dump();
	cr_assert_eq(find_port(&set, s->port[0], 0)->backlog, 128);
}

/* ------------------------------------------------------- pure: the plan */

Test(relisten, plan_merges_findings_caps_and_never_lowers)
{
	size_t both = fake_listener(&set, "127.0.0.1", 80, 128, 0);
	size_t high = fake_listener(&set, "127.0.0.1", 81, 128, 0);
	size_t ok = fake_listener(&set, "::1", 82, 2048, 0);
	fake_attribute(&set, true);
	struct finding_port ports[] = { { 80, 2048 }, { 81, 9000 }, { 82, 9000 } };
	struct finding_limits lim = { .somaxconn_before = 128, .somaxconn_after = 1024,
				      .ports = ports, .nports = ARRAY_SIZE(ports) };

	/* Port 82 listened at 2048 under an older, higher somaxconn; the
	 * cap of 1024 now must not lower it. */
	plan(&lim, RELISTEN_ALL, 1024);
	cr_assert_eq(ntargets, 3);
	cr_assert_eq(targets[0].listener, both);
	cr_assert(targets[0].clamped && targets[0].below_min);
	cr_assert_eq(targets[0].new_backlog, 1024, "clamped and below-min: the larger, capped");
	cr_assert_eq(targets[1].listener, high);
	cr_assert_eq(targets[1].new_backlog, 1024);
	cr_assert_eq(targets[2].listener, ok);
	cr_assert_eq(targets[2].new_backlog, 2048, "never lower than the current backlog");

	/* somaxconn unknown (0): no cap, the kernel clamps at listen(). */
	plan(&lim, RELISTEN_ALL, 0);
	cr_assert_eq(targets[1].new_backlog, 9000);

	/* Clamped only. */
	plan(&lim, RELISTEN_CLAMPED, 1024);
	cr_assert_eq(ntargets, 2);
	cr_assert(targets[0].clamped && !targets[0].below_min);
	cr_assert_eq(targets[0].new_backlog, 1024);
}

Test(relisten, plan_takes_each_inode_once)
{
	size_t a = fake_listener(&set, "127.0.0.1", 80, 128, 0);
	size_t b = fake_listener(&set, "::1", 80, 128, 0);
	fake_attribute(&set, true);
	/* Two entries for one socket: what a dump racing a listen() into the
	 * same listening-hash bucket returns (see merge_same_inode). */
	set.v[b].inode = set.v[a].inode;
	plan(&raise_128_to_4096, RELISTEN_CLAMPED, 4096);
	cr_assert_eq(fs.n, 2);
	cr_assert_eq(ntargets, 1);
	cr_assert_eq(targets[0].listener, a);
}

Test(relisten, ignored_port_and_queue_full_are_not_targets)
{
	fake_listener(&set, "127.0.0.1", 22, 128, 0);
	fake_listener(&set, "127.0.0.1", 80, 10, 11);
	fake_attribute(&set, true);
	uint16_t ignore[] = { 22 };
	struct finding_limits lim = raise_128_to_4096;
	lim.ignore = ignore;
	lim.nignore = 1;
	plan(&lim, RELISTEN_ALL, 4096);
	cr_assert_eq(fs.n, 1, "only queue-full on port 80");
	cr_assert_eq(ntargets, 0);
}

Test(relisten, sockets_that_cannot_be_identified_or_owned_are_left_alone)
{
	size_t noino = fake_listener(&set, "127.0.0.1", 80, 128, 0);
	size_t unknown = fake_listener(&set, "127.0.0.1", 81, 128, 0);
	fake_attribute(&set, false);
	set.v[noino].inode = 0;
	plan(&raise_128_to_4096, RELISTEN_CLAMPED, 4096);
	cr_assert_eq(ntargets, 2);
	execute(false);
	cr_assert_eq(results.nfailed, 2);
	cr_assert_eq(results.v[0].listener, noino);
	cr_assert_eq(results.v[0].status, RELISTEN_FAILED);
	cr_assert(strstr(results.v[0].reason, "cannot be identified"), "%s", results.v[0].reason);
	cr_assert_eq(results.v[1].listener, unknown);
	cr_assert(strstr(results.v[1].reason, "owner is unknown"), "%s", results.v[1].reason);
	/* The unknown owner is the reason; there is no advice to repeat it. */
	cr_assert_null(results.v[1].advice, "%s", results.v[1].advice);
	cr_assert_not(results.confirmed, "nothing raised, nothing to read back");
}

Test(relisten, owner_that_exited_is_reported)
{
	size_t l = fake_listener(&set, "127.0.0.1", 80, 128, 0);
	pid_t gone = fork();

	cr_assert(gone >= 0);
	if (gone == 0)
		_exit(0);
	cr_assert_eq(waitpid(gone, NULL, 0), gone);
	fake_owner(&set, l, gone, "server", "");
	fake_attribute(&set, true);
	plan(&raise_128_to_4096, RELISTEN_CLAMPED, 4096);
	execute(false);
	cr_assert_eq(results.v[0].status, RELISTEN_FAILED);
	cr_assert(strstr(results.v[0].reason, "exited meanwhile"), "%s", results.v[0].reason);
	cr_assert(strstr(results.v[0].advice, "restart server"), "%s", results.v[0].advice);
}

Test(relisten, json_names_every_result)
{
	char *text = NULL;
	size_t len = 0;
	struct jw w;

	fake_listener(&set, "127.0.0.1", 80, 128, 0);
	fake_attribute(&set, false);
	plan(&raise_128_to_4096, RELISTEN_CLAMPED, 4096);
	execute(true);
	FILE *f = open_memstream(&text, &len);
	jw_init(&w, f);
	jw_object_begin(&w);
	relisten_render_json(&w, &set, &results);
	jw_object_end(&w);
	cr_assert(fclose(f) == 0);
	cr_assert(strstr(text, "\"relisten\":{\"dry_run\":true,"), "%s", text);
	cr_assert(strstr(text, "\"result\":\"failed\""), "%s", text);
	cr_assert(strstr(text, "\"why\":[\"clamped\"]"), "%s", text);
	cr_assert(strstr(text, "\"backlog_before\":128,\"backlog_target\":4096,"
			       "\"backlog_after\":null,\"pid\":null"), "%s", text);
	cr_assert(strstr(text, "\"reason\":\"its owner is unknown: run qtune as root to name it\","
			       "\"advice\":null,\"target_choice\":\"ceiling\""), "%s", text);
	free(text);
}
