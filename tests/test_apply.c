/* apply: all-or-nothing under injected faults. The test build's hook makes
 * the Nth write to /proc/sys fail; for every position of a 5-key plan the
 * keys written before it must be put back. And the record an apply leaves
 * for rollback is never half-written, even on a full file system. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apply.h"
#include "plan.h"
#include "sandbox.h"
#include "state.h"
#include "sysctl.h"
#include "util.h"

TestSuite(apply, .init = sandbox_enter, .fini = sandbox_leave);

/* Per-namespace keys only: the sandbox's network namespace takes them. */
static const struct five_key {
	const char *key, *old, *new_value;
} five[] = {
	{ "net/core/somaxconn", "128", "4096" },
	{ "net/ipv4/tcp_max_syn_backlog", "256", "8192" },
	{ "net/ipv4/tcp_syncookies", "0", "1" },
	{ "net/ipv4/tcp_abort_on_overflow", "0", "1" },
	{ "net/ipv4/tcp_synack_retries", "5", "3" },
};
#define NFIVE (sizeof(five) / sizeof(five[0]))

/* The sandbox's namespace, with the sandbox's tree as --root. */
static struct qt_ctx apply_ctx(void)
{
	struct qt_ctx ctx;

	sandbox_ctx(&ctx);
	ctx.root = sandbox_root;
	return ctx;
}

/* The record's file name for the sandbox's (non-initial) namespace. */
static const char *record_name(const struct qt_ctx *ctx)
{
	static char name[64];

	snprintf(name, sizeof(name), "state.netns-%llu", (unsigned long long)ctx->netns_inode);
	return name;
}

static void set_old_values(void)
{
	for (size_t i = 0; i < NFIVE; i++)
		sandbox_sysctl_set(five[i].key, five[i].old);
}

static struct plan *five_key_plan(void)
{
	struct plan *plan = xcalloc(1, sizeof(*plan));

	for (size_t i = 0; i < NFIVE; i++)
		plan_add(plan, five[i].key, five[i].old, five[i].new_value);
	cr_assert_eq(plan->nchanges, NFIVE);
	return plan;
}

static bool diags_mention(const struct qt_diags *d, const char *a, const char *b)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->v[i].msg, a) && (!b || strstr(d->v[i].msg, b)))
			return true;
	return false;
}

static void ctx_close(struct qt_ctx *ctx)
{
	close(ctx->procsys_fd);
	close(ctx->proc_fd);
}

/* Applies plan with the nth write failing: -EIO, every key back at its
 * old value, and n - 1 values written, the failed one, then n - 1 put
 * back (the undo really wrote, it did not just find old values). */
static void apply_with_fault_at(const struct qt_ctx *ctx, const struct plan *plan, unsigned n,
				struct qt_diags *d)
{
	set_old_values();
	sysctl_fail_write_at = n;
	sysctl_writes_done = 0;
	int r = apply_execute(ctx, plan, d);
	sysctl_fail_write_at = 0;
	cr_assert_eq(r, -EIO, "fault at write %u: apply_execute returned %d", n, r);
	for (size_t i = 0; i < NFIVE; i++) {
		long long want = strtoll(five[i].old, NULL, 10);
		cr_assert_eq(sandbox_sysctl_get(five[i].key), want,
			     "fault at write %u: %s holds %lld, not its old value %lld",
			     n, five[i].key, sandbox_sysctl_get(five[i].key), want);
	}
	cr_assert_eq(sysctl_writes_done, 2 * n - 1, "fault at write %u: %u writes", n,
		     sysctl_writes_done);
}

Test(apply, a_failure_at_every_write_position_restores_every_key)
{
	struct qt_ctx ctx = apply_ctx();
	struct plan *plan = five_key_plan();
	char shown[KEY_PATH_MAX];

	for (unsigned n = 1; n <= NFIVE; n++) {
		struct qt_diags d = { 0 };

		apply_with_fault_at(&ctx, plan, n, &d);
		cr_assert_eq(diags_worst(&d), QT_LEVEL_ERROR);
		key_display(five[n - 1].key, shown, sizeof(shown));
		cr_assert(diags_mention(&d, shown, "refused"), "the failed key is named");
		cr_assert(diags_mention(&d, "nothing was changed", NULL));
		diags_free(&d);
	}

	/* No fault: every key takes its new value. */
	struct qt_diags d = { 0 };
	set_old_values();
	sysctl_fail_write_at = 0;
	sysctl_writes_done = 0;
	cr_assert_eq(apply_execute(&ctx, plan, &d), 0);
	cr_assert_eq(d.n, 0);
	for (size_t i = 0; i < NFIVE; i++)
		cr_assert_eq(sandbox_sysctl_get(five[i].key), strtoll(five[i].new_value, NULL, 10),
			     "%s", five[i].key);
	plan_free(plan);
	ctx_close(&ctx);
}

Test(apply, keys_already_at_their_target_are_neither_written_nor_restored)
{
	struct qt_ctx ctx = apply_ctx();
	struct plan *plan = xcalloc(1, sizeof(*plan));

	/* Items 2 and 4 already hold their targets: three write positions. */
	for (size_t i = 0; i < NFIVE; i++)
		plan_add(plan, five[i].key, five[i].old, i % 2 ? five[i].old : five[i].new_value);
	cr_assert_eq(plan->nchanges, 3);
	for (unsigned n = 1; n <= 3; n++) {
		struct qt_diags d = { 0 };

		apply_with_fault_at(&ctx, plan, n, &d);
		diags_free(&d);
	}
	plan_free(plan);
	ctx_close(&ctx);
}

Test(apply, a_restore_that_fails_too_is_fatal_and_names_the_key)
{
	struct qt_ctx ctx = apply_ctx();
	struct plan *plan = xcalloc(1, sizeof(*plan));
	struct qt_diags d = { 0 };

	sandbox_sysctl_set("net/core/somaxconn", "128");
	sandbox_sysctl_set("net/ipv4/tcp_syncookies", "0");
	sandbox_sysctl_set("net/ipv4/ip_local_port_range", "32768 60999");
	plan_add(plan, "net/core/somaxconn", "128", "4096");
	plan_add(plan, "net/ipv4/tcp_syncookies", "0", "1");
	/* Below ip_unprivileged_port_start: the kernel itself refuses it
	 * (write 3); the hook then fails the first restore (write 4). */
	plan_add(plan, "net/ipv4/ip_local_port_range", "32768 60999", "500 60000");
	sysctl_fail_write_at = 4;
	sysctl_writes_done = 0;
	cr_assert_eq(apply_execute(&ctx, plan, &d), -ENOTRECOVERABLE);
	sysctl_fail_write_at = 0;
	cr_assert_eq(diags_worst(&d), QT_LEVEL_FATAL);
	cr_assert(diags_mention(&d, "net.ipv4.tcp_syncookies left at \"1\"", "was \"0\""));
	cr_assert(!diags_mention(&d, "net.core.somaxconn left", NULL),
		  "somaxconn was restored and must not be reported as left over");
	cr_assert_eq(sandbox_sysctl_get("net/core/somaxconn"), 128);
	cr_assert_eq(sandbox_sysctl_get("net/ipv4/tcp_syncookies"), 1);
	diags_free(&d);
	plan_free(plan);
	ctx_close(&ctx);
}

Test(apply, preflight_refuses_a_host_wide_key_in_a_non_initial_namespace)
{
	struct qt_ctx ctx = apply_ctx();
	struct plan *plan = five_key_plan();
	struct qt_diags d = { 0 };

	cr_assert_eq(apply_preflight(&ctx, plan, false, false, &d), 0, "root may write every net.* key here");
	cr_assert_eq(d.n, 0);
	/* kernel.msgmax is IPC-scoped and the sandbox has its own IPC
	 * namespace; it is never written here anyway, only judged. */
	plan_add(plan, "kernel/msgmax", "8192", "9000");
	cr_assert_eq(apply_preflight(&ctx, plan, false, false, &d), -EPERM);
	cr_assert(diags_mention(&d, "kernel.msgmax is host-wide", "--allow-global"));
	cr_assert_eq(d.n, 1, "only the host-wide key is refused");
	diags_free(&d);
	plan_free(plan);
	ctx_close(&ctx);
}

/* ---- the record ---- */

static struct state *small_record(void)
{
	struct state *s = xcalloc(1, sizeof(*s));

	s->profile = xstrdup("/etc/qtune/profiles/web.yaml");
	s->checksum = xstrdup("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	for (size_t i = 0; i < 3; i++)
		state_add_key(s, five[i].key, five[i].old, five[i].new_value);
	return s;
}

/* Far more than the 16k file system holds. */
static struct state *big_record(void)
{
	struct state *s = xcalloc(1, sizeof(*s));
	char key[96];

	s->profile = xstrdup("/etc/qtune/profiles/big.yaml");
	s->checksum = xstrdup("fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210");
	for (size_t i = 0; i < 2000; i++) {
		snprintf(key, sizeof(key), "net/ipv4/conf/veth%zu/rp_filter", i);
		state_add_key(s, key, "0", "1");
	}
	return s;
}

static void assert_same_record(const struct state *a, const struct state *b)
{
	cr_assert_str_eq(a->profile, b->profile);
	cr_assert_str_eq(a->checksum, b->checksum);
	cr_assert_eq(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		cr_assert_str_eq(a->keys[i].key, b->keys[i].key);
		cr_assert_str_eq(a->keys[i].old, b->keys[i].old);
		cr_assert_str_eq(a->keys[i].new, b->keys[i].new);
	}
	cr_assert_eq(a->persist_file == NULL, b->persist_file == NULL);
}

/* Names in the state directory other than the record and the filler:
 * a temporary file left behind would be one. */
static size_t stray_files(const char *dir, const char *record)
{
	DIR *dh = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	cr_assert(dh, "%s: %s", dir, strerror(errno));
	while ((e = readdir(dh)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    strcmp(e->d_name, record) && strcmp(e->d_name, "filler"))
			n++;
	closedir(dh);
	return n;
}

static void mount_tiny_state_dir(void)
{
	const char *dir = sandbox_path("var/lib/qtune");

	sandbox_write("var/lib/.keep", "", 0644);
	cr_assert(mkdir(dir, 0700) == 0 || errno == EEXIST);
	cr_assert(mount("qtune-full", dir, "tmpfs", 0, "mode=0700,size=16k") == 0,
		  "tmpfs: %s", strerror(errno));
}

/* Takes what is left of the file system, page by page, up to pages. */
static void fill(const char *dir, unsigned pages)
{
	char path[512], page[4096];
	int fd;

	memset(page, 'x', sizeof(page));
	snprintf(path, sizeof(path), "%s/filler", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert(fd >= 0);
	for (unsigned i = 0; i < pages; i++)
		if (write(fd, page, sizeof(page)) != (ssize_t)sizeof(page))
			break;
	close(fd);
}

Test(apply, a_record_that_does_not_fit_leaves_the_old_one_intact)
{
	struct qt_ctx ctx = apply_ctx();
	struct state *old = small_record(), *big = big_record(), *got = NULL;
	const char *dir = sandbox_path("var/lib/qtune");
	char *persist_old;
	size_t persist_old_len;
	struct qt_diags d = { 0 };

	mount_tiny_state_dir();
	cr_assert_eq(state_save(&ctx, old, NULL, 0, &d), 0);
	/* From an empty file system to one with no page left. */
	for (unsigned pages = 0; pages <= 4; pages++) {
		fill(dir, pages);
		int r = state_save(&ctx, big, NULL, 0, &d);
		cr_assert_eq(r, -ENOSPC, "filler %u pages: state_save returned %d", pages, r);
		cr_assert_eq(state_load(&ctx, &got, &persist_old, &persist_old_len, &d), 0,
			     "filler %u pages: the old record must still load", pages);
		assert_same_record(got, old);
		cr_assert_null(persist_old);
		state_free(got);
		cr_assert_eq(stray_files(dir, record_name(&ctx)), 0, "a temporary file was left");
	}
	cr_assert(diags_mention(&d, "cannot record the old values", NULL));
	diags_free(&d);
	state_free(old);
	state_free(big);
	ctx_close(&ctx);
}

Test(apply, a_first_record_that_does_not_fit_leaves_none)
{
	struct qt_ctx ctx = apply_ctx();
	struct state *big = big_record(), *got = NULL;
	char *persist_old;
	size_t persist_old_len;
	struct qt_diags d = { 0 };

	mount_tiny_state_dir();
	cr_assert_eq(state_save(&ctx, big, NULL, 0, &d), -ENOSPC);
	cr_assert_eq(state_load(&ctx, &got, &persist_old, &persist_old_len, &d), -ENOENT);
	cr_assert_null(got);
	cr_assert_eq(stray_files(sandbox_path("var/lib/qtune"), record_name(&ctx)), 0);
	diags_free(&d);
	state_free(big);
	ctx_close(&ctx);
}

/* Should a record ever be cut short (a copy, a crash outside qtune's
 * atomic rename), every prefix is refused rather than half-trusted. */
Test(apply, a_torn_record_is_refused_at_every_length)
{
	struct qt_ctx ctx = apply_ctx();
	struct state *rec = small_record(), *got = NULL;
	char *bytes = NULL, *persist_old;
	size_t len = 0, persist_old_len;
	struct qt_diags d = { 0 };
	char file[512];

	snprintf(file, sizeof(file), "%s/var/lib/qtune/%s", sandbox_root, record_name(&ctx));
	cr_assert_eq(state_save(&ctx, rec, NULL, 0, &d), 0);
	cr_assert_eq(util_read_file_at(AT_FDCWD, file, 0, 65536, &bytes, &len), 0);
	for (size_t cut = 0; cut < len; cut++) {
		int fd = open(file, O_WRONLY | O_TRUNC | O_CLOEXEC);
		cr_assert(fd >= 0);
		cr_assert_eq(util_write_all(fd, bytes, cut), 0);
		close(fd);
		int r = state_load(&ctx, &got, &persist_old, &persist_old_len, &d);
		if (r == 0) {
			/* Only "...\nend" without its final newline is whole. */
			cr_assert_eq(cut, len - 1, "a record cut at %zu of %zu bytes was loaded", cut, len);
			assert_same_record(got, rec);
			state_free(got);
		} else {
			cr_assert_eq(r, -EBADMSG, "cut at %zu: %d", cut, r);
		}
	}
	cr_assert(diags_mention(&d, "the record is damaged", NULL));
	free(bytes);
	diags_free(&d);
	state_free(rec);
	ctx_close(&ctx);
}
