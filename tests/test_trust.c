/* trust: the walk on real directory trees (owners and modes set with chown
 * and chmod as root) in the sandbox's private tmpfs. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox.h"
#include "trust.h"
#include "util.h"

TestSuite(trust, .init = sandbox_enter, .fini = sandbox_leave);

#define NOBODY 65534

static struct qt_diags d;

static void own(const char *rel, uid_t uid)
{
	cr_assert(lchown(sandbox_path(rel), uid, uid) == 0, "chown %s: %s", rel, strerror(errno));
}

static void link_to(const char *target, const char *rel)
{
	cr_assert(symlink(target, sandbox_path(rel)) == 0, "symlink %s: %s", rel, strerror(errno));
}

/* The diagnostics joined, for strstr. */
static char *said(void)
{
	static char buf[4096];

	buf[0] = '\0';
	for (size_t i = 0; i < d.n; i++) {
		strncat(buf, d.v[i].msg, sizeof(buf) - strlen(buf) - 2);
		strcat(buf, "\n");
	}
	return buf;
}

/* Opens rel at level and returns the file's bytes (malloc'd), or NULL with
 * *rc set. */
static char *open_read(const char *rel, enum qt_level level, int *rc, struct trust_file *keep)
{
	struct trust_file f;
	char *buf = NULL;
	size_t len;

	*rc = trust_open_file(AT_FDCWD, NULL, sandbox_path(rel), level, &d, &f);
	if (*rc < 0)
		return NULL;
	cr_assert_eq(util_read_fd(f.fd, 4096, &buf, &len), 0);
	if (keep)
		*keep = f;
	else
		trust_file_close(&f);
	return buf;
}

static void expect_refused(const char *rel, const char *named, const char *why)
{
	int rc;
	char *buf = open_read(rel, QT_LEVEL_ERROR, &rc, NULL);

	cr_assert_null(buf, "opened %s", rel);
	cr_assert_eq(rc, -EPERM, "rc %d: %s", rc, said());
	cr_assert(strstr(said(), named) && strstr(said(), why), "names %s and %s: %s", named, why, said());
	cr_assert(strstr(said(), "refusing") && strstr(said(), "owner uid"), "%s", said());
	cr_assert_eq(diags_worst(&d), QT_LEVEL_ERROR);
	diags_free(&d);

	/* Reading commands: the same walk warns and hands the file over. */
	buf = open_read(rel, QT_LEVEL_WARN, &rc, NULL);
	cr_assert_eq(rc, 0, "warn level opens it: %d %s", rc, said());
	cr_assert_not_null(buf);
	cr_assert(strstr(said(), named), "%s", said());
	cr_assert_eq(diags_worst(&d), QT_LEVEL_WARN);
	free(buf);
	diags_free(&d);
}

Test(trust, a_trusted_file_is_read_through_the_fd_that_was_judged)
{
	struct trust_file f;
	int rc;

	sandbox_write("p/a.yaml", "one\n", 0644);
	char *buf = open_read("p/a.yaml", QT_LEVEL_ERROR, &rc, &f);
	cr_assert_eq(rc, 0, "%s", said());
	cr_assert_str_eq(buf, "one\n");
	cr_assert_str_eq(f.path, sandbox_path("p/a.yaml"));
	cr_assert_str_eq(f.dir, sandbox_path("p"));
	cr_assert(S_ISREG(f.st.st_mode));
	cr_assert_eq(d.n, 0, "%s", said());
	trust_file_close(&f);
	free(buf);
}

Test(trust, a_relative_path_is_walked_from_root_through_the_working_directory)
{
	struct trust_file f;

	sandbox_write("p/a.yaml", "one\n", 0644);
	cr_assert(chdir(sandbox_path("p")) == 0);
	cr_assert_eq(trust_open_file(AT_FDCWD, NULL, "./a.yaml", QT_LEVEL_ERROR, &d, &f), 0, "%s", said());
	cr_assert_str_eq(f.path, sandbox_path("p/a.yaml"));
	trust_file_close(&f);
	/* The working directory's own parent is judged too. */
	cr_assert(chmod(sandbox_root, 0777) == 0);
	cr_assert_eq(trust_open_file(AT_FDCWD, NULL, "a.yaml", QT_LEVEL_ERROR, &d, &f), -EPERM);
	cr_assert(strstr(said(), "writable by everyone"), "%s", said());
	cr_assert(chmod(sandbox_root, 0755) == 0);
	diags_free(&d);
}

Test(trust, world_writable_file)
{
	sandbox_write("p/w.yaml", "x\n", 0666);
	expect_refused("p/w.yaml", "p/w.yaml", "writable by everyone");
}

Test(trust, group_writable_directory_on_the_way)
{
	sandbox_write("g/p.yaml", "x\n", 0644);
	cr_assert(chmod(sandbox_path("g"), 0775) == 0);
	expect_refused("g/p.yaml", sandbox_path("g "), "writable by its group");
}

Test(trust, file_owned_by_another_user)
{
	sandbox_write("p/o.yaml", "x\n", 0644);
	own("p/o.yaml", NOBODY);
	expect_refused("p/o.yaml", "p/o.yaml", "owned by another user");
}

Test(trust, a_directory_that_only_holds_a_symlink_is_judged)
{
	sandbox_write("trusted/p.yaml", "benign\n", 0644);
	cr_assert(mkdir(sandbox_path("u"), 0755) == 0);
	link_to(sandbox_path("trusted/p.yaml"), "u/link");
	own("u/link", NOBODY);
	own("u", NOBODY);
	expect_refused("u/link", sandbox_path("u "), "owned by another user");
}

Test(trust, symlinks_in_trusted_directories_are_followed)
{
	struct trust_file f;
	int rc;

	sandbox_write("real/dir/p.yaml", "real\n", 0644);
	link_to("real/dir", "rel");                     /* relative, from the link's directory */
	link_to(sandbox_path("rel"), "abs");            /* absolute, restarts at / */
	link_to("../real/dir/p.yaml", "real/up");       /* ".." from the link's directory */
	char *buf = open_read("abs/p.yaml", QT_LEVEL_ERROR, &rc, &f);
	cr_assert_eq(rc, 0, "%s", said());
	cr_assert_str_eq(buf, "real\n");
	cr_assert_str_eq(f.path, sandbox_path("real/dir/p.yaml"), "the path walked: %s", f.path);
	trust_file_close(&f);
	free(buf);
	buf = open_read("real/up", QT_LEVEL_ERROR, &rc, &f);
	cr_assert_eq(rc, 0, "%s", said());
	cr_assert_str_eq(f.path, sandbox_path("real/dir/p.yaml"));
	trust_file_close(&f);
	free(buf);
	cr_assert_eq(d.n, 0, "%s", said());
}

Test(trust, an_absolute_target_is_judged_from_root_on)
{
	sandbox_write("bad/p.yaml", "x\n", 0644);
	cr_assert(chmod(sandbox_path("bad"), 0757) == 0);
	link_to(sandbox_path("bad/p.yaml"), "link");
	expect_refused("link", sandbox_path("bad "), "writable by everyone");
}

Test(trust, sticky_directory_is_fine_for_roots_entries)
{
	struct trust_file f;
	int rc;

	sandbox_write("tmp/p.yaml", "ok\n", 0644);
	sandbox_write("trusted/q.yaml", "q\n", 0644);
	link_to(sandbox_path("trusted/q.yaml"), "tmp/link");
	cr_assert(chmod(sandbox_path("tmp"), 01777) == 0);
	char *buf = open_read("tmp/p.yaml", QT_LEVEL_ERROR, &rc, &f);
	cr_assert_eq(rc, 0, "%s", said());
	trust_file_close(&f);
	free(buf);
	buf = open_read("tmp/link", QT_LEVEL_ERROR, &rc, &f);
	cr_assert_eq(rc, 0, "root's symlink in a sticky directory: %s", said());
	cr_assert_str_eq(buf, "q\n");
	trust_file_close(&f);
	free(buf);
}

/* In /tmp a user can replace their own entries at will: neither their
 * symlink nor their directory may be on the way. */
Test(trust, another_users_symlink_in_a_sticky_directory)
{
	sandbox_write("trusted/q.yaml", "q\n", 0644);
	cr_assert(mkdir(sandbox_path("tmp"), 01777) == 0);
	cr_assert(chmod(sandbox_path("tmp"), 01777) == 0);
	link_to(sandbox_path("trusted"), "tmp/d");
	own("tmp/d", NOBODY);
	expect_refused("tmp/d/q.yaml", "tmp/d ", "a symlink owned by another user");
}

Test(trust, another_users_directory_in_a_sticky_directory)
{
	sandbox_write("tmp/d/q.yaml", "q\n", 0644);
	cr_assert(chmod(sandbox_path("tmp"), 01777) == 0);
	own("tmp/d", NOBODY);
	expect_refused("tmp/d/q.yaml", "tmp/d ", "owned by another user");
}

Test(trust, a_symlink_loop_stops)
{
	int rc;

	link_to("b", "a");
	link_to("a", "b");
	cr_assert_null(open_read("a", QT_LEVEL_ERROR, &rc, NULL));
	cr_assert_eq(rc, -ELOOP);
	cr_assert(strstr(said(), "more than 40 symlinks"), "%s", said());
	diags_free(&d);
}

Test(trust, what_is_not_a_regular_file_is_never_opened)
{
	int rc;

	cr_assert(mkfifo(sandbox_path("fifo"), 0644) == 0);
	cr_assert_null(open_read("fifo", QT_LEVEL_ERROR, &rc, NULL));
	cr_assert_eq(rc, -EINVAL, "a FIFO: %d", rc);
	cr_assert(mkdir(sandbox_path("dir"), 0755) == 0);
	cr_assert_null(open_read("dir", QT_LEVEL_ERROR, &rc, NULL));
	cr_assert_eq(rc, -EISDIR);
	cr_assert_null(open_read("missing/p.yaml", QT_LEVEL_ERROR, &rc, NULL));
	cr_assert_eq(rc, -ENOENT);
	sandbox_write("file", "x\n", 0644);
	cr_assert_null(open_read("file/p.yaml", QT_LEVEL_ERROR, &rc, NULL));
	cr_assert_eq(rc, -ENOTDIR);
	cr_assert_eq(d.n, 0, "plain failures are the caller's to word: %s", said());
}

Test(trust, an_include_is_opened_from_the_including_files_directory)
{
	struct trust_file top, inc;
	char *buf;
	size_t len;

	sandbox_write("p/top.yaml", "top\n", 0644);
	sandbox_write("p/base.yaml", "base\n", 0644);
	sandbox_write("common/c.yaml", "c\n", 0644);
	cr_assert_eq(trust_open_file(AT_FDCWD, NULL, sandbox_path("p/top.yaml"), QT_LEVEL_ERROR, &d, &top), 0);
	cr_assert_eq(trust_open_file(top.dirfd, top.dir, "base.yaml", QT_LEVEL_ERROR, &d, &inc), 0, "%s", said());
	cr_assert_eq(util_read_fd(inc.fd, 100, &buf, &len), 0);
	cr_assert_str_eq(buf, "base\n");
	cr_assert_str_eq(inc.path, sandbox_path("p/base.yaml"));
	free(buf);
	trust_file_close(&inc);
	cr_assert_eq(trust_open_file(top.dirfd, top.dir, "../common/c.yaml", QT_LEVEL_ERROR, &d, &inc), 0, "%s", said());
	cr_assert_str_eq(inc.path, sandbox_path("common/c.yaml"));
	trust_file_close(&inc);
	/* The directory fd is the one that was judged: renaming the directory
	 * away does not redirect the include. */
	cr_assert(rename(sandbox_path("p"), sandbox_path("moved")) == 0);
	cr_assert_eq(trust_open_file(top.dirfd, top.dir, "base.yaml", QT_LEVEL_ERROR, &d, &inc), 0);
	trust_file_close(&inc);
	/* An include in a directory someone else could write is refused. */
	sandbox_write("moved/base2.yaml", "b\n", 0646);
	cr_assert_eq(trust_open_file(top.dirfd, top.dir, "base2.yaml", QT_LEVEL_ERROR, &d, &inc), -EPERM);
	cr_assert(strstr(said(), "base2.yaml is writable by everyone"), "%s", said());
	trust_file_close(&top);
	diags_free(&d);
}

Test(trust, a_directory_to_write_into_is_reached_without_any_symlink)
{
	int fd;

	cr_assert(mkdir(sandbox_path("out"), 0755) == 0);
	cr_assert(mkdir(sandbox_path("real"), 0755) == 0);
	link_to(sandbox_path("real"), "out/link");
	cr_assert_eq(trust_open_dir(sandbox_path("out"), &d, &fd), 0, "%s", said());
	/* A real fd: it can be written into and synced. */
	cr_assert_eq(util_write_atomic(fd, "m.prom", "x\n", 2, 0644), 0);
	close(fd);
	cr_assert(access(sandbox_path("out/m.prom"), F_OK) == 0);
	cr_assert_eq(trust_open_dir(sandbox_path("out/link"), &d, &fd), -ELOOP);
	cr_assert(strstr(said(), "out/link: it is a symlink"), "%s", said());
	diags_free(&d);
	own("out", NOBODY);
	cr_assert_eq(trust_open_dir(sandbox_path("out"), &d, &fd), -EPERM);
	cr_assert(strstr(said(), "owned by another user"), "%s", said());
	diags_free(&d);
	/* Above it, another user's directory can only lead to what is in
	 * their reach already (Debian's /var/lib/prometheus is prometheus's,
	 * its node-exporter root's). */
	cr_assert(mkdir(sandbox_path("out/root"), 0755) == 0);
	cr_assert_eq(trust_open_dir(sandbox_path("out/root"), &d, &fd), 0, "%s", said());
	close(fd);
	cr_assert(chmod(sandbox_path("out/root"), 0775) == 0);
	cr_assert_eq(trust_open_dir(sandbox_path("out/root"), &d, &fd), -EPERM);
	cr_assert(strstr(said(), "writable by its group"), "%s", said());
	diags_free(&d);
}

/* ---- beneath --root ---- */

static int root_dir(const char *root_rel, const char *rel, mode_t create, int *fd)
{
	int rootfd, r = trust_open_root(sandbox_path(root_rel), QT_LEVEL_ERROR, &d, &rootfd);

	if (r < 0)
		return r;
	r = root_open_dir(rootfd, sandbox_path(root_rel), rel, create, QT_LEVEL_ERROR, &d, fd);
	close(rootfd);
	return r;
}

Test(trust, beneath_a_root_what_is_missing_is_made_and_judged)
{
	struct stat st;
	int fd;

	cr_assert(mkdir(sandbox_path("img"), 0755) == 0);
	umask(077);
	cr_assert_eq(root_dir("img", "var/lib/qtune", 0, &fd), -ENOENT);
	cr_assert_eq(d.n, 0, "missing is no diagnostic: %s", said());
	cr_assert_eq(root_dir("img", "var/lib/qtune", 0700, &fd), 0, "%s", said());
	cr_assert_eq(util_write_atomic(fd, "state", "x\n", 2, 0600), 0, "a real fd to write in");
	close(fd);
	cr_assert(stat(sandbox_path("img/var/lib"), &st) == 0);
	cr_assert_eq(st.st_mode & 07777, 0755, "on the way: 0755 whatever the umask");
	cr_assert(stat(sandbox_path("img/var/lib/qtune"), &st) == 0);
	cr_assert_eq(st.st_mode & 07777, 0700);
	cr_assert(access(sandbox_path("img/var/lib/qtune/state"), F_OK) == 0);
	cr_assert_eq(root_dir("img", "/var/lib/qtune", 0, &fd), 0, "a leading / is the root's");
	close(fd);
	cr_assert_eq(root_dir("img", "var/../../x", 0755, &fd), -EINVAL, "no .. beneath a root");
}

Test(trust, beneath_a_root_no_symlink_is_followed)
{
	int fd;

	cr_assert(mkdir(sandbox_path("img"), 0755) == 0);
	cr_assert(mkdir(sandbox_path("outside"), 0755) == 0);
	link_to(sandbox_path("outside"), "img/var");
	link_to("/etc", "img/etc");
	cr_assert_eq(root_dir("img", "var/lib/qtune", 0700, &fd), -ELOOP);
	cr_assert(strstr(said(), "img/var: it is a symlink"), "%s", said());
	cr_assert_eq(root_dir("img", "etc/sysctl.d", 0, &fd), -ELOOP, "even one that would stay inside");
	diags_free(&d);
	cr_assert(access(sandbox_path("outside/lib"), F_OK) < 0, "nothing made outside");
}

Test(trust, a_root_another_user_owns_or_could_write_is_refused)
{
	int fd;

	cr_assert(mkdir(sandbox_path("img"), 0755) == 0);
	own("img", NOBODY);
	cr_assert_eq(root_dir("img", "var/lib/qtune", 0700, &fd), -EPERM);
	cr_assert(strstr(said(), "img is owned by another user"), "%s", said());
	cr_assert(access(sandbox_path("img/var"), F_OK) < 0, "nothing made in it");
	diags_free(&d);
	own("img", 0);
	cr_assert(mkdir(sandbox_path("img/var"), 0777) == 0);
	cr_assert(chmod(sandbox_path("img/var"), 0777) == 0);
	cr_assert_eq(root_dir("img", "var/lib/qtune", 0700, &fd), -EPERM);
	cr_assert(strstr(said(), "img/var is writable by everyone"), "%s", said());
	cr_assert(access(sandbox_path("img/var/lib"), F_OK) < 0, "nothing made below it");
	diags_free(&d);
	/* The way to the root is judged as a profile's is. */
	cr_assert(chmod(sandbox_path("img/var"), 0755) == 0);
	cr_assert(mkdir(sandbox_path("u"), 0755) == 0);
	link_to(sandbox_path("img"), "u/img");
	own("u", NOBODY);
	cr_assert_eq(root_dir("u/img", "var", 0, &fd), -EPERM);
	cr_assert(strstr(said(), "/u is owned by another user"), "%s", said());
	diags_free(&d);
}
