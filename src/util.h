/* util: the few helpers every module needs. Strict integer parsing (no
 * atoi, no silent overflow, no trailing garbage), allocation that never
 * returns NULL (out of memory aborts: a half-applied plan is worse), bounded
 * reads of files that others may write, and whitespace normalisation. */
#ifndef QTUNE_UTIL_H
#define QTUNE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Decimal only, optional leading '-', no blanks, no "0x", no trailing text.
 * Returns 0, -EINVAL (not a number) or -ERANGE (outside int64_t). */
int util_parse_i64(const char *s, int64_t *out);

/* Reads at most max bytes of fd into a NUL-terminated buffer. -EFBIG when
 * the file holds more than max bytes: nothing partial is ever returned. */
int util_read_fd(int fd, size_t max, char **buf, size_t *len);
/* openat(dirfd, path, O_RDONLY|O_CLOEXEC|O_NOCTTY|extra_flags), then as
 * util_read_fd. Refuses anything that is not a regular file (-EINVAL),
 * so a FIFO or a device cannot hang or flood the reader. */
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

#endif
