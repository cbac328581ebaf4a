/* trust: qtune turns files into kernel settings as root, so, as doas and
 * sshd do with their configuration, a file it acts on — and every directory
 * it passes through to reach it — must be writable by nobody but root and
 * qtune's own effective uid. Files are opened by walking their path one
 * component at a time from "/" (or from an fd already judged), judging each
 * directory's fd as it is entered and each symlink before it is followed;
 * the fd returned is the one that was judged, so what is read is what was
 * judged. A sticky directory (like /tmp) is fine, but not another user's
 * entry in it. */
#ifndef QTUNE_TRUST_H
#define QTUNE_TRUST_H

#include <stdbool.h>
#include <sys/stat.h>

#include "diag.h"

/* Symlinks followed in one walk, as the kernel's ELOOP limit. */
#define TRUST_MAX_LINKS 40

/* The one rule: what is wrong with a file or directory as qtune's input or
 * output ("owned by another user", "writable by everyone", "writable by its
 * group"), or NULL when only root and qtune's effective uid could change
 * it. A sticky directory is fine. */
const char *trust_judge(const struct stat *st);

/* A file opened by trust_open_file. */
struct trust_file {
	int fd;                 /* O_RDONLY, the regular file that was judged */
	int dirfd;              /* O_PATH fd of the directory holding it (judged) */
	char *path;             /* the path walked, symlinks resolved (for messages) */
	char *dir;              /* the path of dirfd */
	struct stat st;         /* fstat of fd */
};

/* The diagnostics of every walk below: each problem is added at level
 * (QT_LEVEL_ERROR refuses: the walk stops and -EPERM is returned;
 * QT_LEVEL_WARN warns and the walk goes on; QT_LEVEL_OK judges nothing, for
 * tests of parsing and fuzzing), naming the path, its owner and its mode. A refused symlink and a loop are reported too (-ELOOP). Other
 * failures (-ENOENT, -EACCES, -ENOTDIR, -EISDIR, -EINVAL for a file that
 * is not a regular one) are returned without a diagnostic: the caller says
 * what it was opening. */

/* Opens path for reading. An absolute path is walked from "/"; a relative
 * one from atfd (whose path is atpath, for messages: an include beside the
 * file that names it), or, with atfd AT_FDCWD, from the working directory's
 * path walked from "/". Symlinks are followed after judging the directory
 * that holds them (and, in a sticky directory, their owner); an absolute
 * target restarts at "/". On success *out holds open fds (release them
 * with trust_file_close). */
int trust_open_file(int atfd, const char *atpath, const char *path, enum qt_level level,
		    struct qt_diags *d, struct trust_file *out);
void trust_file_close(struct trust_file *f);

/* Opens the directory path (absolute, or relative to the working directory)
 * for writing an output into that qtune never reads back (--textfile): no
 * component may be a symlink, and the directory itself is judged at
 * QT_LEVEL_ERROR. The directories above it are not: with no symlink
 * followed, whoever can change one of them can only lead the walk to a
 * directory already in their reach, and the one reached is judged. Returns
 * an O_RDONLY directory fd in *dirfd. */
int trust_open_dir(const char *path, struct qt_diags *d, int *dirfd);

/* Opens the --root directory (root "" or NULL is "/") to write beneath
 * (or read back what qtune wrote there): walked as a profile is, and
 * judged itself, so that at QT_LEVEL_ERROR a root another user owns or
 * could write is refused. An O_RDONLY directory fd in *rootfd. */
int trust_open_root(const char *root, enum qt_level level, struct qt_diags *d, int *rootfd);

/* Opens rel (qtune's own path, like "var/lib/qtune": no "..") beneath
 * rootfd (whose path is rootpath, for messages), one component at a time
 * with openat2 RESOLVE_IN_ROOT|RESOLVE_NO_SYMLINKS, so nothing beneath the
 * root is reached through a symlink (-ELOOP) and nothing outside it at
 * all; each directory is judged at level. create_mode 0 leaves a missing
 * directory -ENOENT, without a diagnostic; otherwise what is missing is
 * made, 0755 on the way and create_mode for the last, each judged as it
 * is entered. An O_RDONLY directory fd in *dirfd. */
int root_open_dir(int rootfd, const char *rootpath, const char *rel, mode_t create_mode,
		  enum qt_level level, struct qt_diags *d, int *dirfd);

/* trust_open_root then root_open_dir: one directory beneath --root. */
int trust_open_beneath(const char *root, const char *rel, mode_t create_mode,
		       enum qt_level level, struct qt_diags *d, int *dirfd);

#endif
