/* sandbox: private network and mount namespace per test. */
#include "sandbox.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctx.h"
#include "netns.h"
#include "sysctl.h"

char sandbox_root[256];

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void loopback_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0, "socket: %s", strerror(errno));
	strcpy(ifr.ifr_name, "lo");
	cr_assert(ioctl(fd, SIOCGIFFLAGS, &ifr) == 0, "SIOCGIFFLAGS: %s", strerror(errno));
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	cr_assert(ioctl(fd, SIOCSIFFLAGS, &ifr) == 0, "SIOCSIFFLAGS: %s", strerror(errno));
	close(fd);
}

void sandbox_enter(void)
{
	cr_assert(geteuid() == 0, "integration tests need root (they create namespaces)");
	cr_assert(unshare(CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS) == 0, "unshare: %s", strerror(errno));
	/* Nothing mounted here may propagate back to the machine. */
	cr_assert(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0,
		  "make-rprivate: %s", strerror(errno));
	loopback_up();
	snprintf(sandbox_root, sizeof(sandbox_root), "/tmp/qtune-test.XXXXXX");
	cr_assert(mkdtemp(sandbox_root), "mkdtemp: %s", strerror(errno));
	/* A tmpfs so the tree vanishes with the mount namespace even if the
	 * test crashes before sandbox_leave(). */
	cr_assert(mount("qtune-test", sandbox_root, "tmpfs", 0, "mode=0755,size=64m") == 0,
		  "tmpfs: %s", strerror(errno));
	/* qtune's lock is on the real /run whatever --root says: give the
	 * sandbox its own, so no test takes or leaves the machine's. */
	cr_assert(mount("qtune-test-run", "/run", "tmpfs", 0, "mode=0755,size=1m") == 0,
		  "tmpfs on /run: %s", strerror(errno));
}

/* Set once this worker's children go to a PID namespace of their own. */
static int left_pid_namespace;

/* LeakSanitizer's exit-time check clones a thread that traces the process;
 * once the PID namespace for this worker's children has lost its PID 1,
 * that clone fails and LeakSanitizer aborts the worker. So a worker that
 * left its PID namespace skips the check (the suite's qtune runs are
 * separate processes, still checked); every other worker keeps it. */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return left_pid_namespace;
}

pid_t sandbox_enter_pid_namespace(void)
{
	int ready[2];
	pid_t init_pid;
	char c;

	cr_assert(unshare(CLONE_NEWPID) == 0, "unshare(CLONE_NEWPID): %s", strerror(errno));
	left_pid_namespace = 1;
	cr_assert(pipe2(ready, O_CLOEXEC) == 0);
	init_pid = fork();
	cr_assert(init_pid >= 0);
	if (init_pid == 0) {
		close(ready[0]);
		if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(ready[1]);
	cr_assert(read(ready[0], &c, 1) == 1, "PID 1 could not mount /proc");
	close(ready[0]);
	return init_pid;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(p);
}

void sandbox_leave(void)
{
	if (!sandbox_root[0])
		return;
	umount2(sandbox_root, MNT_DETACH);
	nftw(sandbox_root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	sandbox_root[0] = '\0';
}

const char *sandbox_path(const char *relpath)
{
	static char buf[4][512];
	static unsigned slot;
	char *b = buf[slot++ % 4];

	snprintf(b, sizeof(buf[0]), "%s/%s", sandbox_root, relpath[0] == '/' ? relpath + 1 : relpath);
	return b;
}

static void mkdirs_for(const char *path)
{
	char tmp[512];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(tmp, 0755);
		*p = '/';
	}
}

void sandbox_mkdir(const char *relpath)
{
	const char *path = sandbox_path(relpath);

	mkdirs_for(path);
	cr_assert(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", path, strerror(errno));
}

void sandbox_symlink(const char *target, const char *relpath)
{
	const char *path = sandbox_path(relpath);

	mkdirs_for(path);
	cr_assert(symlink(target, path) == 0, "symlink %s: %s", path, strerror(errno));
}

void sandbox_write(const char *relpath, const char *content, mode_t mode)
{
	const char *path = sandbox_path(relpath);
	int fd;

	mkdirs_for(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	size_t len = strlen(content);
	cr_assert(write(fd, content, len) == (ssize_t)len);
	cr_assert(fchmod(fd, mode) == 0);
	close(fd);
}

static char *drain(int fd)
{
	size_t cap = 4096, n = 0;
	char *b = malloc(cap);

	for (;;) {
		if (n + 1 >= cap)
			b = realloc(b, cap *= 2);
		ssize_t r = read(fd, b + n, cap - n - 1);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	b[n] = '\0';
	return b;
}

/* Runs prog with args (args[0] included), stdin from /dev/null, capturing
 * stdout and stderr. */
static int run_captured(const char *prog, const char *const args[], char **out, char **err)
{
	int po[2], pe[2], status;
	pid_t pid;

	cr_assert(pipe2(po, O_CLOEXEC) == 0 && pipe2(pe, O_CLOEXEC) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		dup2(devnull, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execv(prog, (char *const *)args);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	/* stdout then stderr: outputs in tests are small enough that the
	 * child cannot block on a full stderr pipe while we read stdout. */
	char *o = drain(po[0]);
	char *e = drain(pe[0]);
	close(po[0]);
	close(pe[0]);
	cr_assert(waitpid(pid, &status, 0) == pid);
	if (out) *out = o; else free(o);
	if (err) *err = e; else free(e);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static size_t count_args(const char *const argv[])
{
	size_t n = 0;

	while (argv[n])
		n++;
	return n;
}

int sandbox_qtune(char **out, char **err, const char *const argv[])
{
	const char *bin = getenv("QTUNE_BIN");
	size_t argc = count_args(argv);
	const char **args = calloc(argc + 2, sizeof(*args));

	cr_assert(bin, "QTUNE_BIN is not set (run the tests through make check)");
	args[0] = "qtune";
	memcpy(args + 1, argv, argc * sizeof(*args));
	int rc = run_captured(bin, args, out, err);
	free(args);
	return rc;
}

int sandbox_qtune_traced(char **out, char **err, const char *const strace_args[],
			 const char *const argv[])
{
	/* LeakSanitizer cannot run under ptrace: a SANITIZE=1 build checks
	 * leaks in the untraced runs only. */
	static const char *const head[] = { "strace", "-f", "-qq", "-o", "/dev/null",
					    "-E", "ASAN_OPTIONS=detect_leaks=0" };
	const char *bin = getenv("QTUNE_BIN");
	size_t ns = count_args(strace_args), na = count_args(argv), h = ARRAY_LEN(head), i = 0;
	const char **args = calloc(h + ns + na + 4, sizeof(*args));
	int rc;

	cr_assert(bin, "QTUNE_BIN is not set (run the tests through make check)");
	memcpy(args, head, sizeof(head));
	i = h;
	memcpy(args + i, strace_args, ns * sizeof(*args));
	i += ns;
	args[i++] = bin;
	args[i++] = "--root";
	args[i++] = sandbox_root;
	memcpy(args + i, argv, na * sizeof(*args));
	rc = run_captured("/usr/bin/strace", args, out, err);
	free(args);
	/* strace reports a tracee killed by a signal as 128 + signal. */
	return rc > 128 ? -1 : rc;
}

int sandbox_qtune_rooted(char **out, char **err, const char *const argv[])
{
	const char *args[64] = { "--root", sandbox_root };
	size_t i = 0;

	while (argv[i] && i + 3 < (sizeof(args) / sizeof(args[0]))) {
		args[i + 2] = argv[i];
		i++;
	}
	args[i + 2] = NULL;
	return sandbox_qtune(out, err, args);
}

void sandbox_sysctl_text(const char *path, char *buf, size_t size)
{
	char full[512];
	FILE *f;

	snprintf(full, sizeof(full), "/proc/sys/%s", path);
	f = fopen(full, "re");
	cr_assert(f, "open %s: %s", full, strerror(errno));
	cr_assert(fgets(buf, (int)size, f));
	fclose(f);
	/* normalise: tabs to spaces, no trailing newline */
	for (char *p = buf; *p; p++)
		if (*p == '\t')
			*p = ' ';
	buf[strcspn(buf, "\n")] = '\0';
}

long long sandbox_sysctl_get(const char *path)
{
	char buf[256];

	sandbox_sysctl_text(path, buf, sizeof(buf));
	return strtoll(buf, NULL, 10);
}

void sandbox_sysctl_set(const char *path, const char *value)
{
	char full[512];
	int fd;

	snprintf(full, sizeof(full), "/proc/sys/%s", path);
	fd = open(full, O_WRONLY | O_CLOEXEC);
	cr_assert(fd >= 0, "open %s: %s", full, strerror(errno));
	cr_assert(write(fd, value, strlen(value)) == (ssize_t)strlen(value),
		  "write %s=%s: %s", path, value, strerror(errno));
	close(fd);
}

size_t sandbox_sockaddr(const char *addr, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (!strchr(addr, ':')) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		cr_assert(inet_pton(AF_INET, addr, &s4->sin_addr) == 1);
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	cr_assert(inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1);
	return sizeof(*s6);
}

int sandbox_listen(const char *addr, uint16_t port, int backlog, uint16_t *bound_port)
{
	struct sockaddr_storage ss;
	socklen_t len = (socklen_t)sandbox_sockaddr(addr, port, &ss);
	int fam = ss.ss_family;
	int fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	cr_assert(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert(bind(fd, (struct sockaddr *)&ss, len) == 0, "bind %s:%u: %s", addr, port, strerror(errno));
	cr_assert(listen(fd, backlog) == 0);
	if (bound_port) {
		len = sizeof(ss);
		cr_assert(getsockname(fd, (struct sockaddr *)&ss, &len) == 0);
		*bound_port = ntohs(fam == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						   : ((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	return fd;
}

void sandbox_ctx(struct qt_ctx *ctx)
{
	const char *how;

	memset(ctx, 0, sizeof(*ctx));
	ctx->root = "";
	ctx->out = stdout;
	cr_assert(sysctl_open_root(&ctx->procsys_fd) == 0);
	ctx->proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	cr_assert(ctx->proc_fd >= 0);
	/* inode, cookie and "not the initial one", as main() learns them */
	cr_assert(netns_identify(ctx, &how) == 0);
	cr_assert_eq(ctx->netns_initial, 0, "the sandbox is not the initial namespace (%s)", how);
}

void sandbox_enter_files(struct qt_ctx *ctx)
{
	sandbox_enter();
	memset(ctx, 0, sizeof(*ctx));
	ctx->root = sandbox_root;
	ctx->procsys_fd = -1;
	ctx->proc_fd = -1;
	umask(022);
	sandbox_mkdir("etc");
}

/* tmux on a socket of its own, in this namespace. */
char *sandbox_tmux(const char *args)
{
	char cmd[1024], *buf = NULL;
	size_t len = 0;
	FILE *p, *m = open_memstream(&buf, &len);
	int c;

	snprintf(cmd, sizeof(cmd), "tmux -L qtune-test-%d -f /dev/null %s", (int)getpid(), args);
	p = popen(cmd, "r");
	cr_assert(p && m);
	while ((c = fgetc(p)) != EOF)
		fputc(c, m);
	pclose(p);
	fclose(m);
	return buf;
}

void sandbox_tmux_shows(const char *format, const char *want, const char *what)
{
	char args[256], *s;

	snprintf(args, sizeof(args), "display -p '%s'", format);
	s = sandbox_tmux(args);
	cr_assert_str_eq(s, want, "%s: %s is %s", what, format, s);
	free(s);
}
