/* util: the few helpers every module needs, one copy of each. Strict
 * integer parsing (no atoi, no silent overflow, no trailing garbage),
 * allocation that never returns NULL (out of memory aborts: a half-applied
 * plan is worse), bounded reads of files that others may write, one UTF-8
 * validator, one control-byte rule and the escaping built on them, and one
 * openat2 call that survives concurrent renames. */
#ifndef QTUNE_UTIL_H
#define QTUNE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

struct open_how;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Texts kept once each, however often the same one is added: a run that
 * words 10,000 listeners alike keeps one copy of the words. Zeroed: empty. */
struct util_texts {
	char **slot;            /* open addressing by hash; NULL: free */
	size_t cap, n;          /* cap a power of two, at most half full */
};
/* Takes s (malloc'd) and returns the kept text equal to it: s itself, or
 * the one kept before (s is freed then). Valid until util_texts_free. */
const char *util_texts_keep(struct util_texts *t, char *s);
void util_texts_free(struct util_texts *t);

/* Decimal only, optional leading '-' (no '+'), no blanks, no "0x", no
 * trailing text. Returns 0, -EINVAL (not a number) or -ERANGE (outside
 * int64_t). */
int util_parse_i64(const char *s, int64_t *out);

/* Reads at most max bytes of fd into a NUL-terminated buffer. -EFBIG when
 * the file holds more than max bytes: nothing partial is ever returned. */
int util_read_fd(int fd, size_t max, char **buf, size_t *len);
/* openat(dirfd, path, O_RDONLY|O_CLOEXEC|O_NOCTTY|O_NONBLOCK|extra_flags)
 * and fstat into st: the fd, or -errno. Refuses anything that is not a
 * regular file (-EISDIR a directory, else -EINVAL), so a FIFO or a device
 * cannot hang or flood the reader. Whoever judges the file judges st. */
int util_open_regular_at(int dirfd, const char *path, int extra_flags, struct stat *st);
/* The fd util_open_regular_at gave (st its fstat), read as util_read_fd:
 * -EFBIG at once when st says it holds more than max bytes. */
int util_read_regular(int fd, const struct stat *st, size_t max, char **buf, size_t *len);
/* util_open_regular_at, then util_read_regular, then close. */
int util_read_file_at(int dirfd, const char *path, int extra_flags, size_t max,
		      char **buf, size_t *len);

/* Collapses every run of blanks (space, tab, newline) to one space and
 * trims both ends, in place: "32768\t60999\n" → "32768 60999". */
void util_normalize_ws(char *s);

/* root + path, where root "" or NULL means the real "/". */
char *util_rooted(const char *root, const char *path);

/* Writes all of buf to fd, retrying short writes. 0 or -errno. */
int util_write_all(int fd, const void *buf, size_t len);

/* True when s ends with suffix. */
bool util_has_suffix(const char *s, const char *suffix);

/* Replaces dirfd/name with buf atomically: a temporary file in the same
 * directory (O_CREAT|O_EXCL|O_NOFOLLOW), fsync, rename over name, fsync of
 * the directory. Never writes through a symlink: -ELOOP when name is one.
 * 0 when done; -errno when it failed, and then the old file (or its
 * absence) is exactly as it was and no temporary file is left; a positive
 * errno when the rename happened but the directory would not sync: the new
 * file is in place and may not survive a crash. */
int util_write_atomic(int dirfd, const char *name, const void *buf, size_t len,
		      mode_t mode);

/* ---- text from files, processes and the kernel ---- */

/* Length of the well-formed UTF-8 sequence at p (shortest form, no
 * surrogates, at most U+10FFFF, all of it within left bytes), or 0. */
size_t util_utf8_len(const unsigned char *p, size_t left);

/* A C0 control byte (tab and newline included) or DEL: a byte that can
 * steer a terminal, end a line of a line-based file early or hide text.
 * The one rule every refusal and every replacement of such bytes uses. */
bool util_is_control(unsigned char c);

/* The first byte of s[0..len) that util_is_control calls control and that
 * allowed (a string such as "\t\n", or NULL) does not list; NULL if none. */
const char *util_find_control(const char *s, size_t len, const char *allowed);

/* Writes s[0..len) so that it can be printed as is: valid UTF-8 other than
 * control bytes and backslash passes through, a backslash becomes "\\",
 * every control byte and every byte of invalid UTF-8 becomes "\xHH". The
 * result is NUL-terminated within size; when it does not fit it is cut at a
 * character boundary and ends in "...". Returns dst. size >= 4. */
char *util_escape(char *dst, size_t size, const char *s, size_t len);

/* The same escaping onto a stream, without a length limit. 0 or -EIO.
 * With UTIL_ESCAPE_KEEP_BACKSLASH a backslash passes through: for text
 * such as a diagnostic that may hold values util_escape made safe already,
 * so that escaping twice changes nothing. */
#define UTIL_ESCAPE_KEEP_BACKSLASH 1u
int util_fputs_escaped(FILE *f, const char *s, size_t len, unsigned flags);

/* openat2(2) (how->flags gets O_CLOEXEC, and O_NOCTTY unless O_PATH), retried
 * a bounded number of times on EAGAIN: with RESOLVE_IN_ROOT or
 * RESOLVE_BENEATH the kernel answers EAGAIN when a rename anywhere on the
 * system raced with resolving "..", and openat2(2) says callers may retry.
 * Returns the fd or -errno (-ENOSYS before Linux 5.6: the caller falls
 * back). */
int util_openat2(int dirfd, const char *path, struct open_how *how);

#endif
