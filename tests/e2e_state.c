/* End-to-end: the record an apply leaves for rollback, under the faults a
 * real machine has. strace injects them into the shipped binary at each
 * rename of the state directory (a full disk, a SIGKILL); afterwards
 * rollback must restore one consistent moment: the sysctl.d file and the
 * values as they were together, never the file of one apply with the
 * values of another. */
#include <criterion/criterion.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

TestSuite(e2e_state, .init = sandbox_enter, .fini = sandbox_leave);

#define CONF "etc/sysctl.d/90-qtune-web.conf"
#define SOMAXCONN "net/core/somaxconn"
#define COOKIES "net/ipv4/tcp_syncookies"

/* The administrator's own file, which qtune's first apply replaces. */
static const char original[] = "# the administrator's own\nnet.core.somaxconn = 128\n";
static const char web_a[] = "qtune: 1\nname: web\nsysctl:\n  net.core.somaxconn: 4096\n";
static const char web_b[] = "qtune: 1\nname: web\nsysctl:\n  net.core.somaxconn: 5000\n"
			    "  net.ipv4.tcp_syncookies: 1\n";

static char *slurp(const char *rel)
{
	FILE *f = fopen(sandbox_path(rel), "re");
	char *buf = calloc(1, 8192);

	if (f) {
		buf[fread(buf, 1, 8191, f)] = '\0';
		fclose(f);
	}
	return buf;
}

/* Fresh values, the administrator's file, no record. */
static void reset(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", sandbox_path("var/lib/qtune"));
	cr_assert_eq(system(cmd), 0);
	sandbox_sysctl_set(SOMAXCONN, "128");
	sandbox_sysctl_set(COOKIES, "0");
	sandbox_write(CONF, original, 0644);
}

static int apply(const char *profile_rel, char **err)
{
	return sandbox_qtune_rooted(NULL, err, (const char *[]){ "apply", "--persist",
						     sandbox_path(profile_rel), NULL });
}

/* What is there now, as the moment it matches: "before A" (the
 * administrator's file and values), "after A", or "mixed". */
static const char *moment(void)
{
	char *conf = slurp(CONF);
	long long s = sandbox_sysctl_get(SOMAXCONN), c = sandbox_sysctl_get(COOKIES);
	const char *m = "mixed";

	if (strcmp(conf, original) == 0 && s == 128 && c == 0)
		m = "before A";
	else if (strstr(conf, "net.core.somaxconn = 4096\n") && !strstr(conf, "tcp_syncookies") &&
		 s == 4096 && c == 0)
		m = "after A";
	free(conf);
	return m;
}

/* Apply A over the administrator's file, then apply B with a fault at the
 * Nth rename in the state directory, then rollback. */
static void fault_at_rename(const char *fault, unsigned n, char **b_err, int *b_rc,
			    const char **after_rollback)
{
	char inject[128], *err;

	reset();
	sandbox_write("p/a.yaml", web_a, 0644);
	sandbox_write("p/b.yaml", web_b, 0644);
	cr_assert_eq(apply("p/a.yaml", &err), 0, "%s", err);
	free(err);
	cr_assert_str_eq(moment(), "after A");
	snprintf(inject, sizeof(inject), "inject=renameat,renameat2:%s:when=%u", fault, n);
	*b_rc = sandbox_qtune_traced(NULL, b_err,
				     (const char *[]){ "-P", sandbox_path("var/lib/qtune"),
						       "-e", "trace=renameat,renameat2", "-e", inject, NULL },
				     (const char *[]){ "apply", "--persist", sandbox_path("p/b.yaml"), NULL });
	int rc = sandbox_qtune_rooted(NULL, &err, (const char *[]){ "rollback", NULL });
	cr_assert_eq(rc, 0, "%s at rename %u: rollback exit %d: %s", fault, n, rc, err);
	free(err);
	*after_rollback = moment();
}

Test(e2e_state, a_full_disk_at_each_rename_of_the_record_loses_nothing)
{
	for (unsigned n = 1; n <= 3; n++) {
		const char *m;
		char *err;
		int rc;

		fault_at_rename("error=ENOSPC", n, &err, &rc, &m);
		/* Wherever the disk filled up, B either failed having changed
		 * nothing, so rollback undoes A, or (a rename after B's record
		 * was safe) B stands and rollback undoes B. */
		if (rc != 0) {
			cr_expect_eq(rc, 2, "rename %u: exit %d", n, rc);
			cr_expect(strstr(err, "nothing was changed") || strstr(err, "cannot record"),
				  "rename %u: %s", n, err);
			cr_expect_str_eq(m, "before A", "rename %u: B failed, so rollback must restore the administrator's file and values (stderr of B: %s)", n, err);
		} else {
			cr_expect_str_eq(m, "after A", "rename %u: B succeeded, so rollback undoes B", n);
		}
		free(err);
	}
}

Test(e2e_state, a_kill_at_each_rename_of_the_record_leaves_a_consistent_rollback)
{
	for (unsigned n = 1; n <= 3; n++) {
		const char *m;
		char *err;
		int rc;

		fault_at_rename("signal=SIGKILL", n, &err, &rc, &m);
		/* Killed before B's record landed: rollback undoes A; after:
		 * it undoes B. Never A's values with B's idea of the old file. */
		cr_expect(strcmp(m, "before A") == 0 || strcmp(m, "after A") == 0,
			  "SIGKILL at rename %u (exit %d): rollback left a %s state: file %s", n, rc, m,
			  slurp(CONF));
		if (n == 1)
			cr_expect_str_eq(m, "before A", "killed at the first rename nothing of B was safe yet");
		free(err);
	}
}

/* fsync of a directory failing after the rename: the file is replaced (and
 * may not survive a crash). Whatever qtune then says must be true, and a
 * rollback must still find what it needs to restore the administrator's
 * file and values. */
Test(e2e_state, a_failed_directory_sync_is_reported_truthfully_and_rollback_still_restores)
{
	static const char *const dirs[] = { "etc/sysctl.d", "var/lib/qtune" };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char *err, *conf;
		int rc;

		reset();
		mkdir(sandbox_path("var/lib/qtune"), 0700);
		sandbox_write("p/a.yaml", web_a, 0644);
		rc = sandbox_qtune_traced(NULL, &err,
					  (const char *[]){ "-P", sandbox_path(dirs[i]), "-e", "trace=fsync",
							    "-e", "inject=fsync:error=EIO", NULL },
					  (const char *[]){ "apply", "--persist", sandbox_path("p/a.yaml"), NULL });
		conf = slurp(CONF);
		bool replaced = strcmp(conf, original) != 0;
		cr_expect(!(strstr(err, "nothing was changed") && replaced),
			  "%s: says nothing was changed, but the file was replaced: %s", dirs[i], err);
		if (rc != 0)
			cr_expect_str_eq(moment(), "before A", "%s: exit %d but something changed: %s",
					 dirs[i], rc, err);
		else
			cr_expect(strstr(err, "sync"), "%s: the failed sync must be reported: %s", dirs[i], err);
		free(conf);
		free(err);
		rc = sandbox_qtune_rooted(NULL, &err, (const char *[]){ "rollback", NULL });
		cr_expect_eq(rc, 0, "%s: rollback: %s", dirs[i], err);
		cr_expect_str_eq(moment(), "before A", "%s: rollback must restore the administrator's file and values", dirs[i]);
		free(err);
	}
}

/* A namespace held by a child, which answers "what is somaxconn" on
 * request, so the test can read it from outside. */
struct held_ns {
	pid_t pid;
	int ask, answer;
	unsigned long long inode;
	char path[64];
};

static void held_ns_start(struct held_ns *h, const char *somaxconn)
{
	int q[2], a[2];

	cr_assert(pipe(q) == 0 && pipe(a) == 0);
	h->pid = fork();
	cr_assert(h->pid >= 0);
	if (h->pid == 0) {
		char c, v[64];
		struct stat st;

		close(q[1]);
		close(a[0]);
		if (unshare(CLONE_NEWNET) != 0 || stat("/proc/self/ns/net", &st) != 0)
			_exit(1);
		if (somaxconn)
			sandbox_sysctl_set(SOMAXCONN, somaxconn);
		int n = snprintf(v, sizeof(v), "%llu\n", (unsigned long long)st.st_ino);
		if (write(a[1], v, (size_t)n) != n)
			_exit(1);
		while (read(q[0], &c, 1) == 1) {
			n = snprintf(v, sizeof(v), "%lld\n", sandbox_sysctl_get(SOMAXCONN));
			if (write(a[1], v, (size_t)n) != n)
				_exit(1);
		}
		_exit(0);
	}
	close(q[0]);
	close(a[1]);
	h->ask = q[1];
	h->answer = a[0];
	char buf[64] = { 0 };
	cr_assert(read(h->answer, buf, sizeof(buf) - 1) > 0);
	h->inode = strtoull(buf, NULL, 10);
	snprintf(h->path, sizeof(h->path), "/proc/%d/ns/net", (int)h->pid);
}

static long long held_ns_somaxconn(struct held_ns *h)
{
	char buf[64] = { 0 };

	cr_assert(write(h->ask, "?", 1) == 1);
	cr_assert(read(h->answer, buf, sizeof(buf) - 1) > 0);
	return strtoll(buf, NULL, 10);
}

static void held_ns_stop(struct held_ns *h)
{
	close(h->ask);
	close(h->answer);
	kill(h->pid, SIGKILL);
	waitpid(h->pid, NULL, 0);
}

Test(e2e_state, a_new_namespace_reusing_a_gone_ones_number_does_not_get_its_rollback)
{
	struct held_ns old, fresh;
	char *err;
	int rc;

	sandbox_write("p/one.yaml", "qtune: 1\nsysctl:\n  net.core.somaxconn: 777\n", 0644);
	held_ns_start(&old, "1000");
	rc = sandbox_qtune_rooted(NULL, &err, (const char *[]){ "--netns", old.path, "apply",
						      sandbox_path("p/one.yaml"), NULL });
	cr_assert_eq(rc, 0, "%s", err);
	free(err);
	cr_assert_eq(held_ns_somaxconn(&old), 777);
	unsigned long long gone = old.inode;
	held_ns_stop(&old);

	/* The kernel hands the number out again once the namespace is freed
	 * (asynchronously): create namespaces until one gets it. Tests running
	 * in parallel take numbers too; when none comes back in time, the
	 * record is moved to the new namespace's number, which is what the
	 * reuse amounts to. */
	bool reused = false;
	for (unsigned tries = 0; tries < 100 && !reused; tries++) {
		held_ns_start(&fresh, NULL);
		reused = fresh.inode == gone;
		if (!reused && tries < 99) {
			held_ns_stop(&fresh);
			usleep(5 * 1000);
		}
	}
	if (!reused) {
		char from[128], to[128];

		snprintf(from, sizeof(from), "var/lib/qtune/state.netns-%llu", gone);
		snprintf(to, sizeof(to), "var/lib/qtune/state.netns-%llu", fresh.inode);
		cr_assert(rename(sandbox_path(from), sandbox_path(to)) == 0, "%s: %s", from, strerror(errno));
	}
	long long before = held_ns_somaxconn(&fresh);
	rc = sandbox_qtune_rooted(NULL, &err, (const char *[]){ "--netns", fresh.path, "rollback", NULL });
	cr_expect_eq(rc, 2, "rollback in the new namespace must refuse: exit %d, %s", rc, err);
	cr_expect(strstr(err, "another network namespace") && strstr(err, "remove the file"),
		  "the refusal says why and what to do: %s", err);
	cr_expect_eq(held_ns_somaxconn(&fresh), before,
		     "the gone namespace's old value (1000) must not be written here");
	free(err);
	held_ns_stop(&fresh);
}

/* ---- signals between the writes of an apply ---- */

#define SYNBACKLOG "net/ipv4/tcp_max_syn_backlog"
#define ABORT "net/ipv4/tcp_abort_on_overflow"
static const char *const four_keys[] = { SOMAXCONN, SYNBACKLOG, COOKIES, ABORT };
static const char four[] = "qtune: 1\nsysctl:\n  net.core.somaxconn: 4096\n"
			   "  net.ipv4.tcp_max_syn_backlog: 8192\n  net.ipv4.tcp_syncookies: 1\n"
			   "  net.ipv4.tcp_abort_on_overflow: 1\n";

static void four_old(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", sandbox_path("var/lib/qtune"));
	cr_assert_eq(system(cmd), 0);
	sandbox_sysctl_set(SOMAXCONN, "128");
	sandbox_sysctl_set(SYNBACKLOG, "512");
	sandbox_sysctl_set(COOKIES, "0");
	sandbox_sysctl_set(ABORT, "0");
	sandbox_write("p/four.yaml", four, 0644);
}

/* How many of the four keys hold the profile's values. */
static unsigned four_new(void)
{
	return (sandbox_sysctl_get(SOMAXCONN) == 4096) + (sandbox_sysctl_get(SYNBACKLOG) == 8192) +
	       (sandbox_sysctl_get(COOKIES) == 1) + (sandbox_sysctl_get(ABORT) == 1);
}

/* Runs apply with sig delivered on entering the nth write to one of the
 * four keys' files. */
static int apply_signalled(const char *sig, unsigned n, char **err)
{
	char inject[96];
	const char *sargs[16];
	size_t i = 0;
	static char paths[4][96];

	for (size_t k = 0; k < 4; k++) {
		snprintf(paths[k], sizeof(paths[k]), "/proc/sys/%s", four_keys[k]);
		sargs[i++] = "-P";
		sargs[i++] = paths[k];
	}
	snprintf(inject, sizeof(inject), "inject=write:signal=%s:when=%u", sig, n);
	sargs[i++] = "-e";
	sargs[i++] = "trace=write";
	sargs[i++] = "-e";
	sargs[i++] = inject;
	sargs[i] = NULL;
	return sandbox_qtune_traced(NULL, err, sargs,
				    (const char *[]){ "apply", sandbox_path("p/four.yaml"), NULL });
}

Test(e2e_state, a_termination_signal_at_each_write_leaves_all_old_or_all_new_with_a_record)
{
	static const char *const sigs[] = { "SIGTERM", "SIGINT", "SIGHUP" };

	for (size_t s = 0; s < 3; s++) {
		for (unsigned n = 1; n <= 4; n++) {
			char *err;

			if (s > 0 && n != 2)
				continue;       /* SIGINT, SIGHUP: between the first two writes */
			four_old();
			int rc = apply_signalled(sigs[s], n, &err);
			unsigned changed = four_new();
			cr_expect(changed == 0 || changed == 4,
				  "%s at write %u: %u of 4 keys changed (exit %d): %s", sigs[s], n, changed, rc, err);
			if (changed == 4) {
				cr_expect_eq(rc, 2, "%s at write %u: the stop is an error", sigs[s], n);
				cr_expect(strstr(err, sigs[s]), "%s at write %u: says so: %s", sigs[s], n, err);
				free(err);
				/* ... with the record that undoes it. */
				rc = sandbox_qtune_rooted(NULL, &err, (const char *[]){ "rollback", NULL });
				cr_expect_eq(rc, 0, "%s", err);
				cr_expect_eq(four_new(), 0, "%s at write %u: rollback restores all four", sigs[s], n);
			}
			free(err);
		}
	}
}

Test(e2e_state, after_a_kill_between_writes_check_apply_and_rollback_say_so_and_rollback_restores)
{
	char *out, *err;
	int rc;

	four_old();
	rc = apply_signalled("SIGKILL", 3, &err);
	free(err);
	cr_assert_eq(rc, -1, "killed");
	unsigned changed = four_new();
	cr_assert(changed > 0 && changed < 4, "killed half-way: %u of 4 changed", changed);

	rc = sandbox_qtune_rooted(&out, &err, (const char *[]){ "check", sandbox_path("p/four.yaml"), NULL });
	cr_expect(strstr(err, "interrupted") && strstr(err, "rollback'"),
		  "check says the apply was interrupted and what to run: %s", err);
	free(out);
	free(err);

	rc = sandbox_qtune_rooted(NULL, &err, (const char *[]){ "apply", sandbox_path("p/four.yaml"), NULL });
	cr_expect_eq(rc, 2, "apply over an interrupted one refuses: %s", err);
	cr_expect(strstr(err, "interrupted") && strstr(err, "rollback'"), "%s", err);
	cr_expect_eq(four_new(), changed, "the refused apply changed nothing");
	free(err);

	rc = sandbox_qtune_rooted(NULL, &err, (const char *[]){ "rollback", NULL });
	cr_expect_eq(rc, 0, "%s", err);
	cr_expect(strstr(err, "interrupted"), "rollback says what it undoes: %s", err);
	cr_expect(!strstr(err, "was changed since the apply"),
		  "keys the apply never reached are not someone else's change: %s", err);
	cr_expect_eq(four_new(), 0, "rollback restores every key");
	free(err);
}

Test(e2e_state, a_termination_signal_during_rollback_leaves_all_restored_or_the_record_kept)
{
	for (unsigned n = 1; n <= 4; n++) {
		char *err;
		int rc;

		four_old();
		cr_assert_eq(sandbox_qtune_rooted(NULL, NULL, (const char *[]){ "apply", sandbox_path("p/four.yaml"), NULL }), 0);
		cr_assert_eq(four_new(), 4);
		char inject[96];
		snprintf(inject, sizeof(inject), "inject=write:signal=SIGTERM:when=%u", n);
		rc = sandbox_qtune_traced(NULL, &err,
					  (const char *[]){ "-P", "/proc/sys/" SOMAXCONN, "-P", "/proc/sys/" SYNBACKLOG,
							    "-P", "/proc/sys/" COOKIES, "-P", "/proc/sys/" ABORT,
							    "-e", "trace=write", "-e", inject, NULL },
					  (const char *[]){ "rollback", NULL });
		unsigned left = four_new();
		cr_expect(left == 0 || left == 4, "SIGTERM at restore %u: %u of 4 keys still new (exit %d): %s",
			  n, left, rc, err);
		cr_expect_eq(rc, 2, "SIGTERM at restore %u: the stop is an error: %s", n, err);
		free(err);
		/* Whatever happened, a rollback now ends with all four old. */
		rc = sandbox_qtune_rooted(NULL, &err, (const char *[]){ "rollback", NULL });
		cr_expect_eq(rc, 0, "%s", err);
		cr_expect_eq(four_new(), 0);
		free(err);
	}
}

Test(e2e_state, verbose_says_what_the_record_is_bound_to)
{
	char *err;

	sandbox_write("p/four.yaml", four, 0644);
	cr_assert_eq(sandbox_qtune_rooted(NULL, &err, (const char *[]){ "-v", "validate", sandbox_path("p/four.yaml"), NULL }), 0, "%s", err);
	cr_expect(strstr(err, "its cookie is ") && strstr(err, "bound to it and to this boot"),
		  "-v names the key of the record (this kernel has SO_NETNS_COOKIE): %s", err);
	free(err);
}

/* The record decides what rollback writes as root: a record another user
 * can write is refused from its own fd, however trusted its directory. */
Test(e2e_state, a_record_another_user_could_write_is_refused_and_nothing_restored)
{
	char cmd[1200], *err, *rec;
	int rc;

	reset();
	sandbox_write("p/web.yaml", web_a, 0644);
	cr_assert_eq(apply("p/web.yaml", &err), 0, "%s", err);
	free(err);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 4096);

	/* A user is handed the record (a restored backup, a wrong chown) and
	 * puts 7777 where the old value was (written here by root on their
	 * behalf: the sandbox's root directory is 0700, so uid 65534 cannot
	 * reach it; the file's owner is what qtune must judge). */
	snprintf(cmd, sizeof(cmd),
		 "cd %s && f=$(ls state.netns-*) && chown 65534 \"$f\" && chmod 0644 \"$f\" && "
		 "sed 's|^\\(key\tnet/core/somaxconn\t\\)128\t|\\17777\t|' \"$f\" > /tmp/edit && "
		 "cat /tmp/edit > \"$f\"",
		 sandbox_path("var/lib/qtune"));
	cr_assert_eq(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "grep -q 7777 %s/state.netns-*", sandbox_path("var/lib/qtune"));
	cr_assert_eq(system(cmd), 0, "the user's edit did not reach the record");
	rec = slurp(CONF);

	rc = sandbox_qtune_rooted(NULL, &err, (const char *[]){ "rollback", NULL });
	cr_assert_eq(rc, 2, "rollback of a user-writable record: exit %d\n%s", rc, err);
	cr_assert(strstr(err, "owned by another user"), "%s", err);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 4096, "rollback acted on the record");
	char *after = slurp(CONF);
	cr_assert_str_eq(after, rec, "rollback rewrote the sysctl.d file");
	free(err);
	free(after);
	free(rec);

	/* A group- or world-writable record of root is refused the same way. */
	snprintf(cmd, sizeof(cmd), "cd %s && chown 0 state.netns-* && chmod 0666 state.netns-*",
		 sandbox_path("var/lib/qtune"));
	cr_assert_eq(system(cmd), 0);
	rc = sandbox_qtune_rooted(NULL, &err, (const char *[]){ "rollback", NULL });
	cr_assert_eq(rc, 2, "%s", err);
	cr_assert(strstr(err, "writable by"), "%s", err);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 4096);
	free(err);
}
