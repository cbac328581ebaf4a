/* sysctl: reads and writes /proc/sys of the target network namespace.
 * Every path is a key that passed key_canonicalize(), and is opened beneath
 * a directory fd of /proc/sys without following any symlink
 * (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, or an O_NOFOLLOW walk on
 * kernels without openat2). A write counts only once the value read back
 * is the one asked for. */
#ifndef QTUNE_SYSCTL_H
#define QTUNE_SYSCTL_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "keys.h"
#include "queue_limits.h"

/* Opens /proc/sys as an O_PATH directory. The namespace it shows is the one
 * the calling thread is in when a file beneath it is opened. */
int sysctl_open_root(int *fd);

/* Reads a key; value is whitespace-normalised ("32768 60999").
 * -ENOENT when the key does not exist. */
int sysctl_read(int procsys_fd, const char *path, char *value, size_t size);

/* Writes value and reads it back. -EIO when the kernel kept another value
 * (then *readback holds what it kept, when readback is not NULL). */
int sysctl_write(int procsys_fd, const char *path, const char *value,
		 char *readback, size_t readback_size);

/* 0 when the key exists as a regular file, -errno otherwise. */
int sysctl_exists(int procsys_fd, const char *path);

/* The kernel's own answer to "may I write this?", without writing:
 * faccessat(W_OK, AT_EACCESS). 0 or -EACCES/-EPERM/-ENOENT. */
int sysctl_writable(int procsys_fd, const char *path);

/* The kernel's queue limits, read beneath procsys_fd: the one reader of
 * them. A key that cannot be read, or is not an integer, is left unknown
 * (have_X false) with a warning naming it. Returns 0. */
int sysctl_read_limits(int procsys_fd, struct queue_limits *l, struct qt_diags *d);

#ifdef QTUNE_TEST_HOOKS
/* Test build only: make the Nth write (1-based) fail with -EIO, 0 = never. */
extern unsigned sysctl_fail_write_at;
extern unsigned sysctl_writes_done;
#endif

#endif
