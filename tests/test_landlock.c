/* landlock: a forked child applies the ruleset for real and tries to
 * write; the parent judges from the child's exit code and from what is on
 * disk afterwards. /proc/sys writes are tried only in the sandbox's own
 * network namespace (sandbox_enter: unshare(CLONE_NEWNET)). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "landlock.h"
#include "sandbox.h"

TestSuite(landlock, .init = sandbox_enter, .fini = sandbox_leave);

#define SOMAXCONN "net/core/somaxconn"

static bool kernel_has_landlock(void)
{
	return syscall(SYS_landlock_create_ruleset, NULL, 0, 1U /* VERSION */) >= 1;
}

/* Child exit codes: 0 what was expected happened, 10+errno a write was
 * refused with that errno, 1 the ruleset could not be applied. */
static int open_write(const char *path, int flags)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | flags, 0600);

	if (fd < 0)
		return errno;
	ssize_t w = write(fd, "4242\n", 5);
	int e = w < 0 ? errno : 0;
	close(fd);
	return e;
}

/* Runs attempt() in a child confined by grants; returns its exit code. */
static int confined(const struct landlock_grant *g, size_t n, int (*attempt)(void))
{
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (pid == 0) {
		struct qt_diags d = { 0 };
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || landlock_restrict(g, n, NULL, &d) < 1)
			_exit(1);
		_exit(attempt());
	}
	int status;
	cr_assert(waitpid(pid, &status, 0) == pid);
	cr_assert(WIFEXITED(status), "child did not exit: %d", status);
	return WEXITSTATUS(status);
}

static int try_denied_file(void)
{
	int e = open_write(sandbox_path("denied/new"), O_CREAT | O_EXCL);
	if (e != EACCES)
		return 10 + e;
	/* An existing file cannot be opened for writing, nor removed. */
	e = open_write(sandbox_path("denied/old"), 0);
	if (e != EACCES)
		return 60 + e;
	if (unlink(sandbox_path("denied/old")) == 0 || errno != EACCES)
		return 110;
	if (mkdir(sandbox_path("denied/sub"), 0700) == 0 || errno != EACCES)
		return 111;
	return 0;
}

static int try_allowed_dir(void)
{
	/* The atomic temp+rename that util_write_atomic does. */
	int e = open_write(sandbox_path("allowed/.tmp"), O_CREAT | O_EXCL);
	if (e)
		return 10 + e;
	if (rename(sandbox_path("allowed/.tmp"), sandbox_path("allowed/old")) < 0)
		return 60 + errno;
	return 0;
}

Test(landlock, denies_writes_outside_the_grant_and_allows_the_granted_dir)
{
	cr_assert(kernel_has_landlock(), "this machine's kernel has Landlock; the test needs it");
	sandbox_write("denied/old", "old\n", 0600);
	sandbox_write("allowed/old", "old\n", 0600);
	const struct landlock_grant g[] = {
		{ AT_FDCWD, sandbox_path("allowed"), LANDLOCK_CREATE_FILES },
	};

	cr_assert_eq(confined(g, 1, try_denied_file), 0, "a write outside the grant was not refused with EACCES");
	cr_assert_eq(confined(g, 1, try_allowed_dir), 0, "the granted directory was not writable");

	struct stat st;
	cr_assert(stat(sandbox_path("denied/new"), &st) < 0 && errno == ENOENT);
	cr_assert(stat(sandbox_path("denied/old"), &st) == 0 && st.st_size == 4);
	cr_assert(stat(sandbox_path("allowed/old"), &st) == 0 && st.st_size == 5,
		  "the rename did not replace the file");
}

static int try_somaxconn(void)
{
	int e = open_write("/proc/sys/" SOMAXCONN, 0);
	return e == EACCES ? 0 : 10 + e;
}

static int try_somaxconn_allowed(void)
{
	return open_write("/proc/sys/" SOMAXCONN, 0);
}

Test(landlock, procsys_write_denied_without_a_rule)
{
	cr_assert(kernel_has_landlock());
	const struct landlock_grant g[] = {
		{ AT_FDCWD, sandbox_path("."), LANDLOCK_CREATE_FILES },
	};

	/* Without the ruleset the same write goes through (root, private netns):
	 * what stops it below is Landlock, not a missing privilege. */
	cr_assert_eq(try_somaxconn_allowed(), 0);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 4242);
	sandbox_sysctl_set(SOMAXCONN, "1000");
	cr_assert_eq(confined(g, 1, try_somaxconn), 0, "a /proc/sys write was not refused with EACCES");
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 1000, "the value changed");
}

Test(landlock, procsys_write_allowed_by_a_directory_or_a_key_rule)
{
	cr_assert(kernel_has_landlock());
	int procsys = open("/proc/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);
	cr_assert(procsys >= 0);
	const struct landlock_grant dir[] = { { AT_FDCWD, "/proc/sys/net", LANDLOCK_WRITE_FILES } };
	const struct landlock_grant key[] = { { procsys, SOMAXCONN, LANDLOCK_WRITE_FILES } };
	const struct landlock_grant other[] = {
		{ procsys, "net/ipv4/tcp_syncookies", LANDLOCK_WRITE_FILES },
	};

	sandbox_sysctl_set(SOMAXCONN, "1000");
	cr_assert_eq(confined(dir, 1, try_somaxconn_allowed), 0, "/proc/sys/net rule did not allow the write");
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 4242);
	sandbox_sysctl_set(SOMAXCONN, "1000");
	cr_assert_eq(confined(key, 1, try_somaxconn_allowed), 0, "a per-key rule did not allow the write");
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 4242);
	/* A rule for another key does not cover this one. */
	sandbox_sysctl_set(SOMAXCONN, "1000");
	cr_assert_eq(confined(other, 1, try_somaxconn), 0, "a rule for another key allowed the write");
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 1000);
	close(procsys);
}

static int try_make_dir_below_missing(void)
{
	if (mkdir(sandbox_path("var/lib"), 0755) < 0 || mkdir(sandbox_path("var/lib/qtune"), 0700) < 0)
		return 10 + errno;
	int e = open_write(sandbox_path("var/lib/qtune/state"), O_CREAT | O_EXCL);
	if (e)
		return 60 + e;
	/* Beside it, still nothing. */
	e = open_write(sandbox_path("denied/x"), O_CREAT);
	return e == EACCES ? 0 : 110;
}

Test(landlock, missing_directory_is_granted_at_its_nearest_ancestor)
{
	cr_assert(kernel_has_landlock());
	sandbox_write("var/.keep", "", 0600);
	sandbox_write("denied/.keep", "", 0600);
	const struct landlock_grant g[] = {
		{ AT_FDCWD, sandbox_path("var/lib/qtune"), LANDLOCK_CREATE_FILES },
	};

	cr_assert_eq(confined(g, 1, try_make_dir_below_missing), 0);
}

static int try_nothing(void)
{
	return 0;
}

Test(landlock, a_missing_key_is_skipped_not_an_error)
{
	cr_assert(kernel_has_landlock());
	int procsys = open("/proc/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);
	const struct landlock_grant g[] = { { procsys, "net/ipv4/no_such_key", LANDLOCK_WRITE_FILES } };

	cr_assert_eq(confined(g, 1, try_nothing), 0);
	close(procsys);
}

static int try_exec(void)
{
	execl("/bin/true", "true", (char *)NULL);
	return errno == EACCES ? 0 : 10 + errno;
}

Test(landlock, exec_is_refused)
{
	cr_assert(kernel_has_landlock());
	cr_assert_eq(confined(NULL, 0, try_exec), 0, "exec was not refused");
}

/* A kernel without Landlock, as seccomp makes it look: every landlock_*
 * call fails with ENOSYS. Then nothing is restricted, and 0 says so. */
static int without_landlock(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_landlock_create_ruleset, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	struct qt_diags d = { 0 };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return 1;
	if (landlock_restrict(NULL, 0, NULL, &d) != 0 || d.n != 0)
		return 2;
	return open_write(sandbox_path("file"), O_CREAT) == 0 ? 0 : 3;
}

Test(landlock, no_landlock_in_the_kernel_restricts_nothing)
{
	pid_t pid = fork();
	int status;

	cr_assert(pid >= 0);
	if (pid == 0)
		_exit(without_landlock());
	cr_assert(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), 0, "step %d failed", WEXITSTATUS(status));
}
