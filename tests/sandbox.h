/* sandbox: the one fixture for integration tests. sandbox_enter() puts the
 * test process in a fresh network namespace (loopback up, kernel defaults),
 * a private mount namespace and a private IPC namespace (so that even an
 * IPC-scoped kernel.msg* key written by a test stays in the sandbox), and makes a temporary root directory for
 * the files qtune reads and writes (--root), and an empty /run of its own
 * (qtune's lock lives there whatever --root says). Nothing a test does reaches the
 * machine's own namespace. Criterion runs every test in its own process, so
 * each test starts from known kernel values. */
#ifndef QTUNE_TEST_SANDBOX_H
#define QTUNE_TEST_SANDBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

extern char sandbox_root[256];

/* Fresh netns + mountns + temporary root; aborts the test on failure. */
void sandbox_enter(void);
/* A context for calling library modules in-process in the sandbox's
 * namespace: /proc/sys and /proc opened, the namespace identified, root
 * "" (the real one), output to stdout. */
struct qt_ctx;
void sandbox_ctx(struct qt_ctx *ctx);

/* sandbox_enter(), then a context for modules that read and write only
 * files beneath the temporary root (sysctl.d, persistence): root is
 * sandbox_root, no /proc/sys or /proc fd, umask 022, and an /etc, which
 * every target system has. */
void sandbox_enter_files(struct qt_ctx *ctx);

/* After sandbox_enter: this process's children from now on are in a PID
 * namespace of their own, whose PID 1 (returned; the caller kills it at
 * the end) has mounted its /proc here, so that a --all-netns run sees the
 * test's namespaces only, not those of tests running beside it. */
pid_t sandbox_enter_pid_namespace(void);

/* Removes the temporary root. */
void sandbox_leave(void);

/* Writes a file under sandbox_root (directories created as needed). */
void sandbox_write(const char *relpath, const char *content, mode_t mode);
/* A directory under sandbox_root, 0755, its parents created as needed. */
void sandbox_mkdir(const char *relpath);
/* A symlink at relpath holding target (parents created as needed). */
void sandbox_symlink(const char *target, const char *relpath);
/* Full path of relpath under sandbox_root (static buffer, rotating). */
const char *sandbox_path(const char *relpath);

/* Runs $QTUNE_BIN with argv (NULL-terminated, without argv[0]), stdin
 * from /dev/null; captures stdout and stderr (malloc'd, NUL-terminated).
 * Returns the exit status, or -1 when it did not exit normally. */
int sandbox_qtune(char **out, char **err, const char *const argv[]);
/* Same, with --root sandbox_root prepended. */
int sandbox_qtune_rooted(char **out, char **err, const char *const argv[]);

/* Same as sandbox_qtune_rooted, run under strace with the given options
 * first (NULL-terminated), e.g. a fault to inject at the Nth rename:
 * { "-P", dir, "-e", "inject=renameat:error=ENOSPC:when=2", NULL }.
 * strace itself prints nothing. Returns -1 when qtune was killed. */
int sandbox_qtune_traced(char **out, char **err, const char *const strace_args[],
			 const char *const argv[]);

/* Reads a /proc/sys key (slashed path) as a long long. */
long long sandbox_sysctl_get(const char *path);
/* Writes a /proc/sys key in the sandbox namespace. */
void sandbox_sysctl_set(const char *path, const char *value);
/* Reads a key's whitespace-normalised text into buf. */
void sandbox_sysctl_text(const char *path, char *buf, size_t size);

/* addr ("127.0.0.1", "::1") and port as a socket address; its length. */
struct sockaddr_storage;
size_t sandbox_sockaddr(const char *addr, uint16_t port, struct sockaddr_storage *ss);

/* A TCP socket bound to addr:port ("127.0.0.1", "::1"), listening with
 * backlog. port 0 picks one; *bound_port receives it when not NULL. */
int sandbox_listen(const char *addr, uint16_t port, int backlog, uint16_t *bound_port);

/* tmux ARGS on a server of this process's own (a socket named for its
 * pid), in the sandbox's namespaces: what it printed (caller frees). */
char *sandbox_tmux(const char *args);
/* Asserts that tmux displays format ("#{alternate_on} #{cursor_flag}") as
 * want (with its newline); what says what that means. */
void sandbox_tmux_shows(const char *format, const char *want, const char *what);

#endif
