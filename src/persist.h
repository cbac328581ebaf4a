/* persist: the one sysctl.d file qtune writes, and putting back what it
 * replaced. Renders a '#' header and "key = value" lines that read back as
 * written, and replaces NAME in a directory the caller opened and judged
 * (which directory, and whether it may be created, is the command's
 * policy): a temporary file (O_EXCL|O_NOFOLLOW, mode 0644), fsync, rename,
 * fsync of the directory. Never acts through a symlink; a failure before
 * the rename leaves the old file (or its absence) exactly as it was. */
#ifndef QTUNE_PERSIST_H
#define QTUNE_PERSIST_H

#include <stddef.h>

#include "diag.h"

struct persist_assign {
	const char *key;     /* dotted or slashed; written dotted where possible */
	const char *value;   /* no control characters; whitespace-normalised on output */
};

/* "# Written by qtune VERSION from profile NAME (PATH)\n# sha256 SUM\n
 * # Do not edit: qtune apply --persist rewrites this file.\n", control
 * characters in the arguments replaced by '?'. Caller frees. */
char *persist_header(const char *version, const char *profile_name, const char *profile_path,
		     const char *checksum);

/* The file's bytes: header (every line a '#' comment; NULL for none), then
 * "key = value" lines. -EINVAL (with a diagnostic) for a bad key, value or
 * header, and *out stays NULL. */
int persist_render(const char *header, const struct persist_assign *a, size_t n,
		   char **out, size_t *len, struct qt_diags *d);

/* The bytes of dfd/name, bounded by SYSCTLD_FILE_MAX, never through a
 * symlink: -ENOENT when absent, -ELOOP for a link, -EINVAL for a name
 * that is not a persist file name. Caller frees *content. */
int persist_read(int dfd, const char *name, char **content, size_t *len);

/* Replaces dfd/name with content atomically (see the top). dir is the
 * directory's path, for diagnostics. 0 or -errno with a diagnostic naming
 * the file; -ELOOP when name is a symlink, -EINVAL when it is not a
 * regular file or not a persist file name. A directory that will not
 * sync after the rename is a warning and 0: the new file is in place. */
int persist_write(int dfd, const char *dir, const char *name, const char *content, size_t len,
		  struct qt_diags *d);

/* Removes dfd/name (rollback of a file the apply created) and syncs the
 * directory; absent already is success. Refuses a symlink (-ELOOP) or
 * anything but a regular file, leaving it untouched. */
int persist_remove(int dfd, const char *dir, const char *name, struct qt_diags *d);

#endif
