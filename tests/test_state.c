/* state: the record as bytes on disk. The old sysctl.d file travels inside
 * it, whatever bytes it holds; a record too large to keep is refused before
 * anything changes; a record written before the old file moved inside
 * (persist.old beside it) still rolls back. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sandbox.h"
#include "state.h"
#include "util.h"

TestSuite(state, .init = sandbox_enter, .fini = sandbox_leave);

static struct qt_ctx state_ctx(void)
{
	struct qt_ctx ctx;

	sandbox_ctx(&ctx);
	ctx.root = sandbox_root;
	return ctx;
}

static void ctx_close(struct qt_ctx *ctx)
{
	close(ctx->procsys_fd);
	close(ctx->proc_fd);
	diags_free(&ctx->diags);
}

static struct state *persist_record(void)
{
	struct state *s = xcalloc(1, sizeof(*s));

	s->profile = xstrdup("/etc/qtune/profiles/web.yaml");
	s->checksum = xstrdup("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	s->persist_file = xstrdup("90-qtune-web.conf");
	s->persist_had_old = true;
	state_add_key(s, "net/core/somaxconn", "128", "4096");
	return s;
}

static const char *record_path(const struct qt_ctx *ctx)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/var/lib/qtune/state.netns-%llu", sandbox_root,
		 (unsigned long long)ctx->netns_inode);
	return path;
}

Test(state, the_old_file_travels_inside_the_record_whatever_its_bytes)
{
	struct qt_ctx ctx = state_ctx();
	struct state *s = persist_record(), *got = NULL;
	/* Lines the record itself uses, a NUL, no final newline. */
	static const char old[] = "net.core.somaxconn = 1\nend\nkey\tnet/x\t1\t2\n\0tail";
	char *back = NULL;
	size_t back_len = 0;

	cr_assert_eq(state_save(&ctx, s, old, sizeof(old) - 1, &ctx.diags), 0);
	cr_assert_eq(access(sandbox_path("var/lib/qtune/persist.old"), F_OK), -1,
		     "no file beside the record");
	cr_assert_eq(state_load(&ctx, &got, &back, &back_len, &ctx.diags), 0);
	cr_assert_eq(back_len, sizeof(old) - 1);
	cr_assert_eq(memcmp(back, old, back_len), 0);
	cr_assert_eq(got->n, 1);
	cr_assert_str_eq(got->persist_file, "90-qtune-web.conf");
	cr_assert(got->persist_had_old);
	free(back);
	state_free(got);
	state_free(s);
	ctx_close(&ctx);
}

Test(state, a_torn_record_with_an_old_file_is_refused_at_every_length)
{
	struct qt_ctx ctx = state_ctx();
	struct state *s = persist_record(), *got = NULL;
	char *bytes = NULL, *back = NULL;
	size_t len = 0, back_len;

	cr_assert_eq(state_save(&ctx, s, "a = 1\n", 6, &ctx.diags), 0);
	cr_assert_eq(util_read_file_at(AT_FDCWD, record_path(&ctx), 0, 65536, &bytes, &len), 0);
	for (size_t cut = 0; cut + 1 < len; cut++) {
		int fd = open(record_path(&ctx), O_WRONLY | O_TRUNC | O_CLOEXEC);
		cr_assert(fd >= 0);
		cr_assert_eq(util_write_all(fd, bytes, cut), 0);
		close(fd);
		int r = state_load(&ctx, &got, &back, &back_len, &ctx.diags);
		cr_assert_eq(r, -EBADMSG, "a record cut at %zu of %zu bytes: %d", cut, len, r);
		cr_assert_null(back);
	}
	free(bytes);
	state_free(s);
	ctx_close(&ctx);
}

Test(state, an_old_file_too_large_to_keep_is_refused_and_the_record_kept)
{
	struct qt_ctx ctx = state_ctx();
	struct state *s = persist_record(), *got = NULL;
	size_t big = STATE_OLD_FILE_MAX + 1;
	char *huge = xcalloc(1, big), *back = NULL;
	size_t back_len;

	memset(huge, '#', big);
	cr_assert_eq(state_save(&ctx, s, "a = 1\n", 6, &ctx.diags), 0);
	cr_assert_eq(state_save(&ctx, s, huge, big, &ctx.diags), -EFBIG);
	cr_assert_eq(state_load(&ctx, &got, &back, &back_len, &ctx.diags), 0);
	cr_assert_eq(back_len, 6, "the earlier record is intact");
	free(back);
	free(huge);
	state_free(got);
	state_free(s);
	ctx_close(&ctx);
}

/* The format before the old file moved inside the record, as the initial
 * namespace left it: state and persist.old. */
static void write_v1_record(const char *suffix)
{
	char name[128];

	snprintf(name, sizeof(name), "var/lib/qtune/state%s", suffix);
	sandbox_write(name, "qtune-state 1\nprofile\t/p/web.yaml\nchecksum\tabc\n"
		      "persist\t90-qtune-web.conf\t1\nkey\tnet/core/somaxconn\t128\t4096\nend\n", 0600);
	snprintf(name, sizeof(name), "var/lib/qtune/persist.old%s", suffix);
	sandbox_write(name, "old = 1\n", 0600);
}

Test(state, a_record_from_before_the_old_file_moved_inside_still_loads)
{
	struct qt_ctx ctx = state_ctx();
	struct state *got = NULL;
	struct state_snapshot none = { 0 };
	char *back = NULL;
	size_t back_len;

	ctx.netns_initial = 1;
	write_v1_record("");
	cr_assert_eq(state_load(&ctx, &got, &back, &back_len, &ctx.diags), 0);
	cr_assert_str_eq(back, "old = 1\n");
	cr_assert_str_eq(got->keys[0].old, "128");
	/* Clearing it removes the file beside it too. */
	cr_assert_eq(state_snapshot_put_back(&ctx, &none, &ctx.diags), 0);
	cr_assert_eq(access(sandbox_path("var/lib/qtune/persist.old"), F_OK), -1);
	free(back);
	state_free(got);
	ctx_close(&ctx);
}

static bool diags_mention(const struct qt_diags *d, const char *what)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->v[i].msg, what))
			return true;
	return false;
}

/* Outside the initial namespace an old record does not say whose it is,
 * and its name (the inode number) may be a gone namespace's. */
Test(state, an_old_record_of_a_namespace_by_inode_alone_is_refused)
{
	struct qt_ctx ctx = state_ctx();
	struct state *got = NULL;
	char suffix[64], *back = NULL;
	size_t back_len;

	snprintf(suffix, sizeof(suffix), ".netns-%llu", (unsigned long long)ctx.netns_inode);
	write_v1_record(suffix);
	cr_assert_eq(state_load(&ctx, &got, &back, &back_len, &ctx.diags), -ESTALE);
	cr_assert_null(got);
	cr_assert_null(back);
	cr_assert(diags_mention(&ctx.diags, "remove the file"));
	ctx_close(&ctx);
}

/* The same name, written by another namespace or another boot. */
Test(state, a_record_of_another_namespace_or_boot_is_refused)
{
	static const char *const owners[] = { "cookie:1 boot:00000000-0000-0000-0000-000000000000",
					      "inode:1 boot:00000000-0000-0000-0000-000000000000",
					      "initial" };
	struct qt_ctx ctx = state_ctx();
	struct state *s = persist_record(), *got = NULL;
	char boot[64], owner[128], *back = NULL, *bytes = NULL;
	size_t back_len, len;

	sandbox_sysctl_text("kernel/random/boot_id", boot, sizeof(boot));
	cr_assert_eq(state_save(&ctx, s, "a = 1\n", 6, &ctx.diags), 0);
	cr_assert_eq(util_read_file_at(AT_FDCWD, record_path(&ctx), 0, 65536, &bytes, &len), 0);
	snprintf(owner, sizeof(owner), "netns\tcookie:%llu boot:%s\n",
		 (unsigned long long)ctx.netns_cookie, boot);
	cr_assert(ctx.netns_cookie, "the kernel has SO_NETNS_COOKIE (5.14+)");
	cr_assert(strstr(bytes, owner), "the record names this namespace and boot: %s", bytes);
	cr_assert_eq(state_load(&ctx, &got, &back, &back_len, &ctx.diags), 0);
	state_free(got);
	free(back);
	for (size_t i = 0; i < sizeof(owners) / sizeof(owners[0]); i++) {
		char *other = xasprintf("qtune-state 2\nnetns\t%s\n%s", owners[i],
					strstr(bytes, "\nprofile\t") + 1);
		sandbox_write(record_path(&ctx) + strlen(sandbox_root), other, 0600);
		got = NULL;
		cr_assert_eq(state_load(&ctx, &got, &back, &back_len, &ctx.diags), -ESTALE, "%s", owners[i]);
		cr_assert_null(got);
		free(other);
	}
	cr_assert(diags_mention(&ctx.diags, "another boot"));
	cr_assert(diags_mention(&ctx.diags, "another network namespace"));
	free(bytes);
	state_free(s);
	ctx_close(&ctx);
}

/* Issue 15, defect 1: the sockets an apply found at the old ceiling travel
 * in the record, byte for byte, with its time; a version 2 record (before
 * them) still loads and says it lists none. */
Test(state, clamped_sockets_and_the_apply_time_round_trip)
{
	struct qt_ctx ctx = state_ctx();
	struct state *s = persist_record(), *got = NULL;
	char *back = NULL;
	size_t back_len = 0;
	struct clamp_socket c = { .inode = 4242, .family = AF_INET6, .port = 8080,
				  .start_time = 123456, .backlog = 4096, .when = 1764579600,
				  .profile = "/etc/qtune/profiles/lb.yaml" };
	struct clamp_record rec;

	memset(c.raw, 0, sizeof(c.raw));
	c.raw[15] = 1;                  /* ::1 */
	c.raw[0] = 0xfe;
	s->when = 1764583200;
	s->lists_sockets = true;
	state_add_socket(s, &c);
	c.inode = 4243;
	c.family = AF_INET;
	c.profile = NULL;               /* this apply's own */
	state_add_socket(s, &c);
	cr_assert_eq(state_save(&ctx, s, "a = 1\n", 6, &ctx.diags), 0);
	cr_assert_eq(state_load(&ctx, &got, &back, &back_len, &ctx.diags), 0);
	cr_assert_eq(got->when, 1764583200);
	cr_assert(got->lists_sockets);
	cr_assert_eq(got->nsockets, 2);
	cr_assert_eq(got->sockets[0].inode, 4242);
	cr_assert_eq(got->sockets[0].family, AF_INET6);
	cr_assert_eq(got->sockets[0].raw[0], 0xfe);
	cr_assert_eq(got->sockets[0].raw[15], 1);
	cr_assert_eq(got->sockets[0].port, 8080);
	cr_assert_eq(got->sockets[0].start_time, 123456);
	cr_assert_eq(got->sockets[0].backlog, 4096);
	cr_assert_eq(got->sockets[0].when, 1764579600);
	cr_assert_str_eq(got->sockets[0].profile, "/etc/qtune/profiles/lb.yaml");
	cr_assert_str_eq(got->sockets[1].profile, "/etc/qtune/profiles/web.yaml");
	state_clamp_record(got, &rec);
	cr_assert(rec.present && rec.lists_sockets);
	cr_assert_eq(rec.somaxconn_old, 128);
	cr_assert_eq(rec.somaxconn_new, 4096);
	cr_assert_eq(rec.n, 2);
	free(back);
	state_free(got);

	/* After a relisten the raised socket is forgotten, the other kept. */
	uint64_t raised = 4242;
	cr_assert_eq(state_forget_sockets(&ctx, &raised, 1, true, &ctx.diags), 0);
	cr_assert_eq(state_load(&ctx, &got, &back, &back_len, &ctx.diags), 0);
	cr_assert_eq(got->nsockets, 1);
	cr_assert_eq(got->sockets[0].inode, 4243);
	cr_assert_str_eq(back, "a = 1\n", "the rest of the record is kept");
	free(back);
	state_free(got);
	state_free(s);
	ctx_close(&ctx);
}

Test(state, a_damaged_socket_line_refuses_the_record)
{
	static const char *const bad[] = {
		"socket\t1\t2\t00000000000000000000000000000000\t80\t0\t128\t0\tp",      /* family 2 ok */
		"socket\t1\t7\t00000000000000000000000000000000\t80\t0\t128\t0\tp",      /* family 7 */
		"socket\t1\t2\t0000\t80\t0\t128\t0\tp",                                  /* short address */
		"socket\t1\t2\tzz000000000000000000000000000000\t80\t0\t128\t0\tp",      /* not hex */
		"socket\t1\t2\t00000000000000000000000000000000\t70000\t0\t128\t0\tp",   /* port */
		"socket\tx\t2\t00000000000000000000000000000000\t80\t0\t128\t0\tp",      /* inode */
		"socket\t1\t2\t00000000000000000000000000000000\t80\t0\t-1\t0\tp",       /* backlog */
		"time\t-5",
	};
	struct qt_ctx ctx = state_ctx();

	ctx.netns_initial = 1;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[1024];
		struct state *got = NULL;
		char *back = NULL;
		size_t back_len;

		snprintf(text, sizeof(text), "qtune-state 3\nnetns\tinitial\nprofile\t/p\nchecksum\tc\n"
			 "key\tnet/core/somaxconn\t128\t4096\n%s\nend\n", bad[i]);
		sandbox_write("var/lib/qtune/state", text, 0600);
		int r = state_load(&ctx, &got, &back, &back_len, &ctx.diags);
		if (i == 0) {
			cr_assert_eq(r, 0, "a well-formed line loads");
			cr_assert_eq(got->nsockets, 1);
		} else {
			cr_assert_eq(r, -EBADMSG, "%s", bad[i]);
		}
		state_free(got);
		free(back);
	}
	/* Version 2: no socket lines, loads, lists nothing. */
	sandbox_write("var/lib/qtune/state", "qtune-state 2\nnetns\tinitial\nprofile\t/p\nchecksum\tc\n"
		      "key\tnet/core/somaxconn\t128\t4096\nend\n", 0600);
	struct state *got = NULL;
	char *back = NULL;
	size_t back_len;
	cr_assert_eq(state_load(&ctx, &got, &back, &back_len, &ctx.diags), 0);
	cr_assert_not(got->lists_sockets);
	cr_assert_eq(got->nsockets, 0);
	state_free(got);
	ctx_close(&ctx);
}
