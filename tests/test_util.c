/* util: strict integers, bounded reads, atomic writes. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
