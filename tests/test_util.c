/* util: strict integers, bounded reads, atomic writes. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

Test(util, strict_integers)
{
	int64_t v;

	cr_assert_eq(util_parse_i64("4096", &v), 0);
	cr_assert_eq(v, 4096);
	cr_assert_eq(util_parse_i64("-9223372036854775808", &v), 0);
	cr_assert_eq(v, INT64_MIN);
	cr_assert_eq(util_parse_i64("9223372036854775807", &v), 0);
	cr_assert_eq(v, INT64_MAX);
	cr_assert_eq(util_parse_i64("9223372036854775808", &v), -ERANGE);
	cr_assert_eq(util_parse_i64("-9223372036854775809", &v), -ERANGE);
	cr_assert_eq(util_parse_i64("0x10", &v), -EINVAL);
	cr_assert_eq(util_parse_i64(" 1", &v), -EINVAL);
	cr_assert_eq(util_parse_i64("1 ", &v), -EINVAL);
	cr_assert_eq(util_parse_i64("1e3", &v), -EINVAL);
	cr_assert_eq(util_parse_i64("", &v), -EINVAL);
	cr_assert_eq(util_parse_i64("-", &v), -EINVAL);
	/* No '+': the header says decimal with an optional '-' only. */
	v = 7;
	cr_assert_eq(util_parse_i64("+5", &v), -EINVAL);
	cr_assert_eq(util_parse_i64("+", &v), -EINVAL);
	cr_assert_eq(util_parse_i64("-+5", &v), -EINVAL);
	cr_assert_eq(v, 7, "nothing stored on refusal");
}

/* xasprintf measures, then formats into a buffer of the text's size: the
 * text is whole, empty or long, and takes no more than it needs. */
Test(util, a_formatted_text_is_whole_in_the_bytes_it_needs)
{
	char *s = xasprintf("backlog %u is below %lld (%s): it is the program's own backlog "
			    "(somaxconn %lld did not cut it)", 511u, 8192LL, "listeners.min_backlog",
			    4096LL);
	char *e = xasprintf("%s", "");
	char *big = xasprintf("%5000d|%s", 7, "end");

	cr_assert_str_eq(s, "backlog 511 is below 8192 (listeners.min_backlog): it is the program's "
			    "own backlog (somaxconn 4096 did not cut it)");
	cr_assert_leq(malloc_usable_size(s), strlen(s) + 1 + 2 * sizeof(void *), "%zu bytes for %zu",
		      malloc_usable_size(s), strlen(s) + 1);
	cr_assert_str_eq(e, "");
	cr_assert_eq(strlen(big), 5004);
	cr_assert_str_eq(big + 5000, "|end");
	cr_assert_leq(malloc_usable_size(big), 5005 + 2 * sizeof(void *));
	free(s);
	free(e);
	free(big);
}

/* The same text added again is the one kept: one copy, the new one freed
 * (ASan and valgrind see no leak); different texts stay apart, through
 * the table's growth. */
Test(util, a_text_is_kept_once)
{
	struct util_texts t = { 0 };
	const char *a = util_texts_keep(&t, xstrdup("set listen()'s backlog, then restart nginx"));
	const char *b = util_texts_keep(&t, xstrdup("set listen()'s backlog, then restart nginx"));
	const char *c = util_texts_keep(&t, xstrdup("set listen()'s backlog, then restart redis"));
	const char *many[1000];

	cr_assert_eq(a, b, "one copy of one text");
	cr_assert_neq(a, c);
	cr_assert_str_eq(c, "set listen()'s backlog, then restart redis");
	for (int i = 0; i < 1000; i++)
		many[i] = util_texts_keep(&t, xasprintf("backlog %d", i));
	cr_assert_eq(t.n, 1002);
	cr_assert_leq(2 * t.n, t.cap);
	for (int i = 0; i < 1000; i++) {
		char *again = xasprintf("backlog %d", i);

		cr_assert_eq(util_texts_keep(&t, again), many[i], "text %d found again", i);
	}
	cr_assert_eq(t.n, 1002);
	cr_assert_eq(util_texts_keep(&t, xstrdup("set listen()'s backlog, then restart nginx")), a);
	cr_assert_str_eq(util_texts_keep(&t, xstrdup("")), "");
	util_texts_free(&t);
	cr_assert_null(t.slot);
	cr_assert_eq(t.n, 0);
}

Test(util, utf8_sequences)
{
	static const struct { const char *s; size_t len; } cases[] = {
		{ "a", 1 }, { "\xc3\xa9", 2 }, { "\xe2\x82\xac", 3 }, { "\xf0\x9f\x98\x80", 4 },
		{ "\xf4\x8f\xbf\xbf", 4 },             /* U+10FFFF */
		{ "\xc0\xaf", 0 }, { "\xe0\x80\xaf", 0 },  /* overlong */
		{ "\xed\xa0\x80", 0 },                  /* surrogate */
		{ "\xf4\x90\x80\x80", 0 },             /* above U+10FFFF */
		{ "\x80", 0 }, { "\xff", 0 }, { "\xc3(", 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		cr_assert_eq(util_utf8_len((const unsigned char *)cases[i].s, strlen(cases[i].s)),
			     cases[i].len, "case %zu", i);
	/* A sequence cut by the end of the buffer is invalid. */
	cr_assert_eq(util_utf8_len((const unsigned char *)"\xe2\x82\xac", 2), 0);
	cr_assert_eq(util_utf8_len((const unsigned char *)"a", 0), 0);
}

Test(util, control_bytes)
{
	const char s[] = "ok\tline\nx\x7f";

	for (unsigned c = 0; c < 256; c++)
		cr_assert_eq(util_is_control((unsigned char)c), c < 0x20 || c == 0x7f, "byte %u", c);
	cr_assert_eq(util_find_control(s, strlen(s), NULL), s + 2);
	cr_assert_eq(util_find_control(s, strlen(s), "\t"), s + 7);
	cr_assert_eq(util_find_control(s, strlen(s), "\t\n"), s + 9);
	cr_assert_null(util_find_control(s, 9, "\t\n"));
	/* An embedded NUL is control even though "allowed" ends in one. */
	const char nul[] = "a\0b";
	cr_assert_eq(util_find_control(nul, 3, "\t"), nul + 1);
}

Test(util, escaping_makes_control_and_invalid_bytes_visible)
{
	const char in[] = "caf\xc3\xa9 \x1b[31mred\\\n\xff\x7f";
	char buf[128], *mem = NULL;
	size_t memlen = 0;
	FILE *f;

	cr_assert_str_eq(util_escape(buf, sizeof(buf), in, strlen(in)),
			 "caf\xc3\xa9 \\x1b[31mred\\\\\\x0a\\xff\\x7f");
	/* Truncated at a character boundary, never inside "\x1b" or a
	 * UTF-8 sequence, and marked. */
	cr_assert_str_eq(util_escape(buf, 9, "abcdef\x1bgh", 9), "abcde...");
	cr_assert_str_eq(util_escape(buf, 10, "abc\x1b" "defgh", 9), "abc...");
	cr_assert_str_eq(util_escape(buf, 8, "ab\xc3\xa9\xc3\xa9\xc3\xa9", 8), "ab\xc3\xa9...");
	cr_assert_str_eq(util_escape(buf, 8, "abcdefg", 7), "abcdefg", "fits exactly");
	cr_assert_str_eq(util_escape(buf, 8, "abcdefgh", 8), "abcd...");
	cr_assert_str_eq(util_escape(buf, 4, "", 0), "");

	f = open_memstream(&mem, &memlen);
	cr_assert_not_null(f);
	cr_assert_eq(util_fputs_escaped(f, in, strlen(in), 0), 0);
	cr_assert_eq(fclose(f), 0);
	cr_assert_str_eq(mem, "caf\xc3\xa9 \\x1b[31mred\\\\\\x0a\\xff\\x7f");
	free(mem);
	/* Text that holds escapes already is left as it is: escaping is
	 * idempotent in this form, and control bytes still never pass. */
	f = open_memstream(&mem, &memlen);
	cr_assert_not_null(f);
	cr_assert_eq(util_fputs_escaped(f, "a\\x1b b\033c", 9, UTIL_ESCAPE_KEEP_BACKSLASH), 0);
	cr_assert_eq(fclose(f), 0);
	cr_assert_str_eq(mem, "a\\x1b b\\x1bc");
	free(mem);
	f = fopen("/dev/full", "w");
	cr_assert_not_null(f);
	setvbuf(f, NULL, _IONBF, 0);
	cr_assert_eq(util_fputs_escaped(f, "x", 1, 0), -EIO);
	fclose(f);
}

Test(util, whitespace_normalised)
{
	char s[] = "\t32768\t\t60999 \n";

	util_normalize_ws(s);
	cr_assert_str_eq(s, "32768 60999");
}

Test(util, rooted_paths)
{
	char *a = util_rooted("", "/etc/x"), *b = util_rooted("/tmp/r/", "/etc/x");

	cr_assert_str_eq(a, "/etc/x");
	cr_assert_str_eq(b, "/tmp/r/etc/x");
	free(a);
	free(b);
}

static int tmpdir(char *buf)
{
	strcpy(buf, "/tmp/qtune-util.XXXXXX");
	cr_assert(mkdtemp(buf));
	return open(buf, O_RDONLY | O_DIRECTORY);
}

Test(util, bounded_read_refuses_big_and_special_files)
{
	char dir[64], *buf = NULL;
	int dfd = tmpdir(dir);
	int fd = openat(dfd, "big", O_WRONLY | O_CREAT, 0600);

	cr_assert(ftruncate(fd, 100 * 1024 * 1024) == 0);  /* sparse: costs nothing */
	close(fd);
	cr_assert_eq(util_read_file_at(dfd, "big", 0, 1024, &buf, NULL), -EFBIG);
	cr_assert_eq(util_read_file_at(dfd, ".", 0, 1024, &buf, NULL), -EISDIR);
	cr_assert(mkfifoat(dfd, "fifo", 0600) == 0);
	cr_assert_eq(util_read_file_at(dfd, "fifo", 0, 1024, &buf, NULL), -EINVAL,
		     "a FIFO must be refused, not block");
	unlinkat(dfd, "big", 0);
	unlinkat(dfd, "fifo", 0);
	close(dfd);
	rmdir(dir);
}

Test(util, atomic_write_replaces_and_refuses_symlinks)
{
	char dir[64], *buf = NULL;
	int dfd = tmpdir(dir);
	struct stat st;

	cr_assert_eq(util_write_atomic(dfd, "f", "one\n", 4, 0644), 0);
	cr_assert_eq(util_write_atomic(dfd, "f", "two\n", 4, 0644), 0);
	cr_assert_eq(util_read_file_at(dfd, "f", 0, 100, &buf, NULL), 0);
	cr_assert_str_eq(buf, "two\n");
	free(buf);
	cr_assert(fstatat(dfd, "f", &st, 0) == 0);
	cr_assert_eq(st.st_mode & 07777, 0644);

	cr_assert(symlinkat("f", dfd, "link") == 0);
	cr_assert_eq(util_write_atomic(dfd, "link", "evil", 4, 0644), -ELOOP);
	cr_assert_eq(util_read_file_at(dfd, "f", 0, 100, &buf, NULL), 0);
	cr_assert_str_eq(buf, "two\n", "the symlink's target must stay untouched");
	free(buf);
	unlinkat(dfd, "link", 0);
	unlinkat(dfd, "f", 0);
	close(dfd);
	cr_assert(rmdir(dir) == 0, "a temporary file was left behind");
}

struct renamer {
	int dfd;
	atomic_bool stop;
	unsigned long renames;
};

/* Renames anywhere bump the kernel's rename sequence, which is what makes
 * a RESOLVE_BENEATH walk through ".." answer EAGAIN. */
static void *rename_loop(void *arg)
{
	struct renamer *r = arg;

	while (!atomic_load(&r->stop)) {
		if (renameat(r->dfd, "x", r->dfd, "y") == 0 && renameat(r->dfd, "y", r->dfd, "x") == 0)
			r->renames += 2;
	}
	return NULL;
}

Test(util, openat2_retries_when_a_rename_races, .timeout = 60)
{
	char dir[64];
	int dfd = tmpdir(dir), fd;
	struct renamer rn = { .dfd = dfd };
	unsigned long raw_eagain = 0;
	pthread_t t;
	const unsigned rounds = 20000;

	cr_assert_geq(dfd, 0);
	cr_assert_eq(mkdirat(dfd, "a", 0700), 0);
	cr_assert_eq(mkdirat(dfd, "a/b", 0700), 0);
	cr_assert_eq(mkdirat(dfd, "x", 0700), 0);
	fd = openat(dfd, "a/b/c", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(pthread_create(&t, NULL, rename_loop, &rn), 0);
	for (unsigned i = 0; i < rounds; i++) {
		struct open_how how = { .flags = O_RDONLY, .resolve = RESOLVE_BENEATH };
		struct open_how raw = { .flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_BENEATH };
		long rfd = syscall(SYS_openat2, dfd, "a/../a/b/../b/../../a/b/c", &raw, sizeof(raw));

		if (rfd >= 0)
			close((int)rfd);
		else if (errno == EAGAIN)
			raw_eagain++;
		else
			cr_assert_fail("raw openat2: %s", strerror(errno));
		fd = util_openat2(dfd, "a/../a/b/../b/../../a/b/c", &how);
		cr_assert_geq(fd, 0, "round %u: %s", i, strerror(-fd));
		cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		close(fd);
	}
	atomic_store(&rn.stop, true);
	pthread_join(t, NULL);
	cr_log_info("%u opens, %lu renames, %lu EAGAIN without retry", rounds, rn.renames,
		    raw_eagain);
	cr_assert_gt(rn.renames, 0);
	/* Not a test seam: the escape it guards against stays refused. */
	struct open_how how = { .flags = O_RDONLY, .resolve = RESOLVE_BENEATH };
	cr_assert_eq(util_openat2(dfd, "a/../../etc/passwd", &how), -EXDEV);
	unlinkat(dfd, "a/b/c", 0);
	unlinkat(dfd, "a/b", AT_REMOVEDIR);
	unlinkat(dfd, "a", AT_REMOVEDIR);
	unlinkat(dfd, "x", AT_REMOVEDIR);
	close(dfd);
	rmdir(dir);
}
