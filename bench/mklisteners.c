/* mklisteners: the population the listener benchmark runs against. It
 * first moves into a network namespace of its own (so it can never touch
 * the machine's), brings lo up, raises somaxconn there, opens N listening
 * sockets on 127.0.0.1 and C established loopback connections (both ends
 * open, accepted), then runs COMMAND in that namespace and holds every
 * socket until COMMAND exits. Its exit status is COMMAND's.
 *
 *   mklisteners [-l LISTENERS] [-c CONNECTIONS] -- COMMAND [ARG...]
 *
 * RLIMIT_NOFILE's hard limit may be below the fds a population needs and
 * raising it needs CAP_SYS_RESOURCE, so no process holds more than about
 * 10,000: the listeners live in holder processes of up to 10,000 each
 * (127.0.0.1, 127.0.0.2, ...: 10,000 ports per address), the connections
 * in worker processes of the first holder (as a pre-forked server's
 * would), each with both ends of up to 5,000 connections. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define PORT_BASE 20000          /* below the ephemeral range (32768-60999) */
#define CONN_TARGETS 100         /* connections go to the first 100 listeners */
#define FD_SLACK 64
#define PER_ADDR 10000           /* listeners per loopback address: ports 20000-29999 */
#define HOLDER_MAX 10000         /* listeners per holder process */
#define MAX_HOLDERS 10
#define MAX_WORKERS 64

static void die(const char *what)
{
	fprintf(stderr, "mklisteners: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void loopback_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		die("SIOCGIFFLAGS lo");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		die("SIOCSIFFLAGS lo");
	close(fd);
}

/* Only ever called after unshare(CLONE_NEWNET): this namespace's value. */
static void set_somaxconn(const char *value)
{
	int fd = open("/proc/sys/net/core/somaxconn", O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, value, strlen(value)) != (ssize_t)strlen(value))
		die("net.core.somaxconn");
	close(fd);
}

static struct sockaddr_in loopback(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	return sa;
}

/* Listener i: 127.0.0.(1 + i / PER_ADDR), port PORT_BASE + i % PER_ADDR. */
static struct sockaddr_in listener_addr(unsigned i)
{
	struct sockaddr_in sa = loopback((uint16_t)(PORT_BASE + i % PER_ADDR));

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK + i / PER_ADDR);
	return sa;
}

/* A worker: drops its copies of the listeners it does not connect to,
 * makes its share of connections, accepts them, drops the rest, and waits
 * to be killed. */
static void worker(const int *lfd, unsigned nlisten, unsigned first, unsigned count, int ready)
{
	unsigned targets = nlisten < CONN_TARGETS ? nlisten : CONN_TARGETS;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (unsigned i = targets; i < nlisten; i++)
		close(lfd[i]);
	for (unsigned i = first; i < first + count; i++) {
		unsigned t = i % targets;
		struct sockaddr_in sa = listener_addr(t);
		int c = socket(AF_INET, SOCK_STREAM, 0);

		if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			die("connect");
		if (accept(lfd[t], NULL, NULL) < 0)
			die("accept");
	}
	for (unsigned i = 0; i < targets; i++)
		close(lfd[i]);
	if (write(ready, "r", 1) != 1)
		die("ready");
	close(ready);
	for (;;)
		pause();
}

/* A holder: listeners [first, first + n) in a process of its own (at most
 * HOLDER_MAX fds each, so that no rlimit needs raising); the first one
 * also forks the workers that make the nconn connections. */
static void holder(unsigned first, unsigned n, unsigned nconn, unsigned per_worker, int ready)
{
	int *lfd = calloc(n, sizeof(*lfd)), p[2];
	unsigned nworkers = 0;
	char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (unsigned i = 0; i < n; i++) {
		struct sockaddr_in sa = listener_addr(first + i);
		int one = 1;

		lfd[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (lfd[i] < 0)
			die("socket");
		setsockopt(lfd[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(lfd[i], (struct sockaddr *)&sa, sizeof(sa)) < 0)
			die("bind");
		/* A mix of backlogs, as a real host has. */
		if (listen(lfd[i], (first + i) % 3 == 0 ? 511 : 4096) < 0)
			die("listen");
	}
	if (pipe(p) < 0)
		die("pipe");
	for (unsigned f = 0; first == 0 && f < nconn; f += per_worker) {
		unsigned count = nconn - f < per_worker ? nconn - f : per_worker;
		pid_t pid;

		if (++nworkers > MAX_WORKERS) {
			fprintf(stderr, "mklisteners: too many connections for the fd limit\n");
			exit(2);
		}
		pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			close(p[0]);
			worker(lfd, n, f, count, p[1]);
		}
		/* One at a time: the accept queues stay short. */
		if (read(p[0], &c, 1) != 1) {
			fprintf(stderr, "mklisteners: a worker failed\n");
			exit(2);
		}
	}
	close(p[0]);
	close(p[1]);
	if (write(ready, "r", 1) != 1)
		die("ready");
	close(ready);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	unsigned nlisten = 10000, nconn = 20000, per_worker, nholders = 0;
	struct rlimit rl;
	pid_t holders[MAX_HOLDERS], cmd;
	int opt, p[2], status;

	while ((opt = getopt(argc, argv, "+l:c:")) != -1) {
		if (opt == 'l')
			nlisten = (unsigned)strtoul(optarg, NULL, 10);
		else if (opt == 'c')
			nconn = (unsigned)strtoul(optarg, NULL, 10);
		else
			return 2;
	}
	if (optind >= argc || nlisten == 0 || nlisten > MAX_HOLDERS * HOLDER_MAX) {
		fprintf(stderr, "usage: mklisteners [-l N<=%u] [-c C] -- COMMAND [ARG...]\n",
			MAX_HOLDERS * HOLDER_MAX);
		return 2;
	}
	if (unshare(CLONE_NEWNET) < 0)
		die("unshare(CLONE_NEWNET) (run as root)");
	loopback_up();
	set_somaxconn("4096");
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit");
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("setrlimit");
	if (rl.rlim_cur < HOLDER_MAX + FD_SLACK) {
		fprintf(stderr, "mklisteners: RLIMIT_NOFILE %llu is below %u\n",
			(unsigned long long)rl.rlim_cur, HOLDER_MAX + FD_SLACK);
		return 2;
	}
	/* A worker holds CONN_TARGETS listeners and both ends of each of
	 * its connections: about 10,000 fds. */
	per_worker = (unsigned)((rl.rlim_cur - CONN_TARGETS - FD_SLACK) / 2);
	if (per_worker > 5000)
		per_worker = 5000;

	if (pipe(p) < 0)
		die("pipe");
	for (unsigned first = 0; first < nlisten; first += HOLDER_MAX) {
		unsigned n = nlisten - first < HOLDER_MAX ? nlisten - first : HOLDER_MAX;
		pid_t pid = fork();
		char c;

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			close(p[0]);
			holder(first, n, nconn, per_worker, p[1]);
		}
		holders[nholders++] = pid;
		if (read(p[0], &c, 1) != 1) {
			fprintf(stderr, "mklisteners: a holder failed\n");
			return 2;
		}
	}
	close(p[0]);
	close(p[1]);
	fprintf(stderr, "mklisteners: %u listeners in %u holders, %u connections in %u workers; running %s\n",
		nlisten, nholders, nconn, (nconn + per_worker - 1) / per_worker, argv[optind]);
	fflush(stderr);

	cmd = fork();
	if (cmd < 0)
		die("fork");
	if (cmd == 0) {
		execvp(argv[optind], argv + optind);
		die(argv[optind]);
	}
	if (waitpid(cmd, &status, 0) < 0)
		die("waitpid");
	/* The workers die with their holder (PR_SET_PDEATHSIG). */
	for (unsigned i = 0; i < nholders; i++) {
		kill(holders[i], SIGKILL);
		waitpid(holders[i], NULL, 0);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}
