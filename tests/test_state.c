/* state: the record as bytes on disk. The old sysctl.d file travels inside
 * it, whatever bytes it holds; a record too large to keep is refused before
 * anything changes; a record written before the old file moved inside
 * (persist.old beside it) still rolls back. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

Test(state, a_record_from_before_the_old_file_moved_inside_still_loads)
{
	struct qt_ctx ctx = state_ctx();
	struct state *got = NULL;
	struct state_snapshot none = { 0 };
	char name[128], *back = NULL;
	size_t back_len;

	snprintf(name, sizeof(name), "var/lib/qtune/state.netns-%llu",
		 (unsigned long long)ctx.netns_inode);
	sandbox_write(name, "qtune-state 1\nprofile\t/p/web.yaml\nchecksum\tabc\n"
		      "persist\t90-qtune-web.conf\t1\nkey\tnet/core/somaxconn\t128\t4096\nend\n", 0600);
	snprintf(name, sizeof(name), "var/lib/qtune/persist.old.netns-%llu",
		 (unsigned long long)ctx.netns_inode);
	sandbox_write(name, "old = 1\n", 0600);
	cr_assert_eq(state_load(&ctx, &got, &back, &back_len, &ctx.diags), 0);
	cr_assert_str_eq(back, "old = 1\n");
	cr_assert_str_eq(got->keys[0].old, "128");
	/* Clearing it removes the file beside it too. */
	cr_assert_eq(state_snapshot_put_back(&ctx, &none, &ctx.diags), 0);
	cr_assert_eq(access(sandbox_path(name), F_OK), -1);
	free(back);
	state_free(got);
	ctx_close(&ctx);
}
