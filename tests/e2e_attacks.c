/* End-to-end: what a local unprivileged user could try against root's
 * qtune (issue 14). An attacker process (uid NOBODY, forked and dropped with
 * setresuid) owns a directory qtune passes through and changes it while
 * root runs qtune in the sandbox's network namespace: no run may apply the
 * attacker's value, and nothing may be written outside the --root given. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"

TestSuite(e2e_attacks, .init = sandbox_enter, .fini = sandbox_leave);

/* Each attack below succeeded on the tree these tests were written against
 * (commit 2cc62b5: all of them fail with its qtune); each was enabled by the change
 * that stops it. */

#define NOBODY 65534
#define SOMAXCONN "net/core/somaxconn"
#define RACE_RUNS 200
#define RACE_SECONDS 20

static const char benign[] = "qtune: 1\nsysctl:\n  net.core.somaxconn: 3333\n";

/* The attacker's profile: a value root did not ask for, padded so that
 * reading and parsing it takes long enough for a check-after-read to look
 * at something else. */
static char *evil_profile(void)
{
	size_t cap = 200 * 1024, n;
	char *s = malloc(cap);

	cr_assert(s);
	n = (size_t)snprintf(s, cap, "qtune: 1\nsysctl:\n  net.core.somaxconn: 6666\n");
	while (n + 80 < cap)
		n += (size_t)snprintf(s + n, cap - n, "# %076d\n", 0);
	return s;
}

static void become_nobody(void)
{
	if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
	    setresuid(NOBODY, NOBODY, NOBODY) < 0)
		_exit(127);
}

static void chown_nobody(const char *rel)
{
	cr_assert(lchown(sandbox_path(rel), NOBODY, NOBODY) == 0, "chown %s: %s", rel, strerror(errno));
}

/* Swaps dir/a and dir/b (RENAME_EXCHANGE, so the name always exists) as
 * fast as it can, as uid NOBODY, until killed. */
static pid_t attacker_exchange(const char *a, const char *b)
{
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (pid == 0) {
		become_nobody();
		for (;;)
			if (renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) < 0)
				_exit(126);
	}
	return pid;
}

static void attacker_stop(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	cr_assert(waitpid(pid, &status, 0) == pid);
	cr_assert(WIFSIGNALED(status), "the attacker stopped by itself (status %d): its swap failed", status);
}

/* Runs apply on path until RACE_RUNS runs or RACE_SECONDS: each run must
 * refuse (exit 2, value untouched) or apply the benign value. */
static void race_apply(const char *path, unsigned *refused, unsigned *applied)
{
	time_t end = time(NULL) + RACE_SECONDS;

	*refused = *applied = 0;
	for (unsigned i = 0; i < RACE_RUNS && time(NULL) < end; i++) {
		char *err;

		sandbox_sysctl_set(SOMAXCONN, "128");
		int rc = sandbox_qtune_rooted(NULL, &err, (const char *[]){ "apply", path, NULL });
		long long v = sandbox_sysctl_get(SOMAXCONN);

		cr_assert_neq(v, 6666, "run %u applied the attacker's profile (exit %d): %s", i, rc, err);
		if (rc == 0) {
			cr_assert_eq(v, 3333, "run %u: %s", i, err);
			(*applied)++;
		} else {
			cr_assert_eq(rc, 2, "run %u: %s", i, err);
			cr_assert_eq(v, 128, "run %u refused but changed the value", i);
			(*refused)++;
		}
		free(err);
	}
}

/* The attacker swaps a and b while root applies path: every run must be
 * refused (each swap leaves something another user controls on the way),
 * none may apply the attacker's value. */
static void race(const char *a, const char *b, const char *path)
{
	unsigned refused, applied;
	pid_t pid = attacker_exchange(sandbox_path(a), sandbox_path(b));

	race_apply(sandbox_path(path), &refused, &applied);
	attacker_stop(pid);
	cr_assert_eq(applied, 0, "%u runs applied through what another user controls", applied);
	cr_assert_gt(refused, 0);
}

/* The attacker owns a directory that only holds a symlink on the path: the
 * link flips between root's profile and the attacker's. */
Test(e2e_attacks, raced_symlink_in_a_directory_another_user_owns)
{
	char *evil = evil_profile();

	sandbox_write("trusted/benign.yaml", benign, 0644);
	sandbox_write("u/evil.yaml", evil, 0644);
	free(evil);
	chown_nobody("u/evil.yaml");
	chown_nobody("u");
	cr_assert(symlink(sandbox_path("trusted/benign.yaml"), sandbox_path("u/link")) == 0);
	cr_assert(symlink(sandbox_path("u/evil.yaml"), sandbox_path("u/other")) == 0);
	chown_nobody("u/link");
	chown_nobody("u/other");

	/* u is judged though it only holds the link. */
	race("u/link", "u/other", "u/link");
}

/* Sticky /tmp: the attacker's own entry in it flips between a directory
 * holding the attacker's profile and a symlink to root's directory. */
Test(e2e_attacks, raced_directory_and_symlink_in_a_sticky_directory)
{
	char *evil = evil_profile();

	sandbox_write("trusted/p.yaml", benign, 0644);
	sandbox_write("tmp/d/p.yaml", evil, 0644);
	free(evil);
	cr_assert(chmod(sandbox_path("tmp"), 01777) == 0);
	chown_nobody("tmp/d/p.yaml");
	chown_nobody("tmp/d");
	cr_assert(symlink(sandbox_path("trusted"), sandbox_path("tmp/alt")) == 0);
	chown_nobody("tmp/alt");

	race("tmp/d", "tmp/alt", "tmp/d/p.yaml");
}

/* An include beside a trusted profile goes through a directory the
 * attacker owns: the include is walked from the including file's
 * directory fd, and u is judged on the way. */
Test(e2e_attacks, raced_symlink_on_the_way_to_an_include)
{
	char *evil = evil_profile();

	sandbox_write("trusted/top.yaml", "qtune: 1\ninclude: [../u/link.yaml]\n", 0644);
	sandbox_write("trusted/inc.yaml", benign, 0644);
	sandbox_write("u/evil.yaml", evil, 0644);
	free(evil);
	chown_nobody("u/evil.yaml");
	chown_nobody("u");
	cr_assert(symlink("../trusted/inc.yaml", sandbox_path("u/link.yaml")) == 0);
	cr_assert(symlink("evil.yaml", sandbox_path("u/other")) == 0);
	chown_nobody("u/link.yaml");
	chown_nobody("u/other");
	race("u/link.yaml", "u/other", "trusted/top.yaml");
}

/* ---- writes under --root ---- */

/* A listing of a tree: every entry's path, type, owner, mode and bytes,
 * so that "unchanged" means unchanged. */
static char *listing;
static size_t listing_len;
static FILE *listing_f;

static int list_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)flag; (void)ftw;
	fprintf(listing_f, "%s %o %u", p, (unsigned)st->st_mode, (unsigned)st->st_uid);
	if (S_ISREG(st->st_mode)) {
		FILE *f = fopen(p, "re");
		int c;

		cr_assert(f, "%s: %s", p, strerror(errno));
		fputc(' ', listing_f);
		while ((c = fgetc(f)) != EOF)
			fputc(c, listing_f);
		fclose(f);
	} else if (S_ISLNK(st->st_mode)) {
		char t[512];
		ssize_t n = readlink(p, t, sizeof(t) - 1);

		cr_assert(n >= 0);
		fprintf(listing_f, " -> %.*s", (int)n, t);
	}
	fputc('\n', listing_f);
	return 0;
}

static char *tree(const char *rel)
{
	listing = NULL;
	listing_f = open_memstream(&listing, &listing_len);
	cr_assert(listing_f);
	cr_assert(nftw(sandbox_path(rel), list_one, 16, FTW_PHYS) == 0);
	fclose(listing_f);
	return listing;
}

static void assert_tree(const char *rel, char *before, const char *what)
{
	char *now = tree(rel);

	cr_assert_str_eq(now, before, "%s", what);
	free(now);
	free(before);
}

static const char web[] = "qtune: 1\nname: web\nsysctl:\n  net.core.somaxconn: 4096\n";

/* "outside" stands in for the host's /etc and /var: a sysctl.d with a
 * file of the administrator's and a /var/lib. */
static void host_tree(void)
{
	sandbox_write("outside/etc/sysctl.d/10-admin.conf", "net.core.somaxconn = 1024\n", 0644);
	cr_assert(mkdir(sandbox_path("outside/var"), 0755) == 0);
	cr_assert(mkdir(sandbox_path("outside/var/lib"), 0755) == 0);
	sandbox_write("p/web.yaml", web, 0644);
}

/* IMG/etc and IMG/var are symlinks to the host's directories. */
static void image_with_symlinks(uid_t owner)
{
	cr_assert(mkdir(sandbox_path("img"), 0755) == 0);
	cr_assert(symlink(sandbox_path("outside/etc"), sandbox_path("img/etc")) == 0);
	cr_assert(symlink(sandbox_path("outside/var"), sandbox_path("img/var")) == 0);
	cr_assert(lchown(sandbox_path("img/etc"), owner, owner) == 0);
	cr_assert(lchown(sandbox_path("img/var"), owner, owner) == 0);
	cr_assert(chown(sandbox_path("img"), owner, owner) == 0);
}

static int qtune_in(const char *root, char **err, const char *cmd, const char *arg1,
		    const char *arg2)
{
	return sandbox_qtune(NULL, err, (const char *[]){ "--root", sandbox_path(root), cmd, arg1,
							   arg2, NULL });
}

static void expect_persist_refused(uid_t owner)
{
	char *err, *host, *img;

	sandbox_sysctl_set(SOMAXCONN, "128");
	host_tree();
	image_with_symlinks(owner);
	host = tree("outside");
	img = tree("img");
	int rc = qtune_in("img", &err, "apply", "--persist", sandbox_path("p/web.yaml"));
	cr_assert_eq(rc, 2, "apply --persist --root IMG must refuse: %s", err);
	assert_tree("outside", host, "apply --persist --root IMG wrote outside IMG");
	/* Inside a root it trusts qtune may make what it needs; inside one
	 * another user owns, nothing. */
	if (owner != 0)
		assert_tree("img", img, "apply --persist --root IMG changed IMG");
	else
		free(img);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 128, "nothing applied");
	free(err);
}

Test(e2e_attacks, root_owned_by_a_user_with_etc_and_var_symlinked_out_persist)
{
	expect_persist_refused(NOBODY);
}

Test(e2e_attacks, root_of_roots_with_etc_and_var_symlinked_out_persist)
{
	expect_persist_refused(0);
}

/* The host has a record (an apply --persist on the host); the image's
 * var and etc point at the host's: rollback --root IMG must not touch
 * them, nor the values. */
static void expect_rollback_refused(uid_t owner)
{
	char *err, *host;

	sandbox_sysctl_set(SOMAXCONN, "128");
	host_tree();
	cr_assert_eq(qtune_in("outside", &err, "apply", "--persist", sandbox_path("p/web.yaml")), 0,
		     "%s", err);
	free(err);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 4096);
	image_with_symlinks(owner);
	host = tree("outside");
	int rc = sandbox_qtune(NULL, &err, (const char *[]){ "--root", sandbox_path("img"),
							      "rollback", NULL });
	cr_assert_eq(rc, 2, "rollback --root IMG must refuse: %s", err);
	assert_tree("outside", host, "rollback --root IMG changed files outside IMG");
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 4096, "rollback --root IMG restored the host's values");
	free(err);
}

Test(e2e_attacks, rollback_through_an_image_owned_by_a_user)
{
	expect_rollback_refused(NOBODY);
}

Test(e2e_attacks, rollback_through_symlinks_in_an_image_of_roots)
{
	expect_rollback_refused(0);
}

/* An image a user owns, with no symlinks at all: refused for writing,
 * and qtune creates nothing in it (no run/, no var/lib/qtune). */
Test(e2e_attacks, nothing_created_in_a_root_owned_by_a_user)
{
	char *err, *img;

	sandbox_sysctl_set(SOMAXCONN, "128");
	sandbox_write("p/web.yaml", web, 0644);
	cr_assert(mkdir(sandbox_path("img"), 0755) == 0);
	chown_nobody("img");
	img = tree("img");
	int rc = qtune_in("img", &err, "apply", sandbox_path("p/web.yaml"), NULL);
	cr_assert_eq(rc, 2, "apply --root IMG owned by a user must refuse: %s", err);
	cr_assert(strstr(err, "owned by another user"), "says why: %s", err);
	assert_tree("img", img, "qtune created something in IMG");
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 128, "nothing applied");
	free(err);
}

/* ---- --textfile ---- */

/* The owner of u, above the textfile's directory, points u/link at a
 * directory of root's: root must not create a file there. */
Test(e2e_attacks, textfile_directory_swapped_by_the_owner_of_a_directory_above)
{
	char *err, *victim;
	char path[512];

	sandbox_write("p/web.yaml", web, 0644);
	sandbox_write("victim/keep", "x\n", 0644);
	cr_assert(mkdir(sandbox_path("u"), 0755) == 0);
	cr_assert(symlink(sandbox_path("victim"), sandbox_path("u/link")) == 0);
	chown_nobody("u/link");
	chown_nobody("u");
	victim = tree("victim");
	snprintf(path, sizeof(path), "%s", sandbox_path("u/link/qtune.prom"));
	int rc = sandbox_qtune_rooted(NULL, &err, (const char *[]){ "--output", "prometheus",
				      "--textfile", path, "check", sandbox_path("p/web.yaml"), NULL });
	cr_assert_eq(rc, 2, "must refuse: %s", err);
	cr_assert(strstr(err, "--textfile"), "names the option: %s", err);
	assert_tree("victim", victim, "root created a file in the victim directory");
	cr_assert(access(sandbox_path("u/qtune.prom"), F_OK) < 0 && errno == ENOENT);
	free(err);
}
