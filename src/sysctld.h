/* sysctld: the sysctl.d configuration of a root directory, read as the
 * booted system would read it (sysctld_replay.h says what it means at
 * boot); and the one file qtune persists, written to
 * ROOT/etc/sysctl.d/NAME atomically, never through a symlink, so a failure
 * leaves the old file. */
#ifndef QTUNE_SYSCTLD_H
#define QTUNE_SYSCTLD_H

#include <stdbool.h>
#include <stddef.h>

#include "ctx.h"
#include "diag.h"
#include "sysctld_replay.h"

/* Bounds on what others may write. A file over SYSCTLD_FILE_MAX, a
 * directory with more than SYSCTLD_DIR_FILES_MAX *.conf names, or more than
 * SYSCTLD_ASSIGN_MAX lines in all is refused with an error and the replay
 * marked incomplete; a line longer than SYSCTLD_LINE_MAX is malformed. */
#define SYSCTLD_FILE_MAX (1024 * 1024)
#define SYSCTLD_LINE_MAX 4096
#define SYSCTLD_DIR_FILES_MAX 1024
#define SYSCTLD_ASSIGN_MAX 65536

/* Reads ROOT/etc/sysctl.d, ROOT/run/sysctl.d, ROOT/usr/local/lib/sysctl.d,
 * ROOT/usr/lib/sysctl.d, ROOT/lib/sysctl.d (a directory reached twice, as
 * /lib -> usr/lib, counts once) and ROOT/etc/sysctl.conf. Symlinks resolve
 * inside ROOT. Malformed lines are warnings (file, line, column) and are
 * skipped, as the real tools skip them; refused or unreadable files are
 * errors and clear ->complete. Returns 0 (diagnostics in d) or -errno when
 * ROOT itself cannot be opened. */
int sysctld_load(const struct qt_ctx *ctx, struct sysctld_config **out, struct qt_diags *d);

/* ---- persistence ---- */

struct sysctld_assign {
	const char *key;     /* dotted or slashed; written dotted where possible */
	const char *value;   /* no control characters; whitespace-normalised on output */
};

/* "# Written by qtune VERSION from profile NAME (PATH)\n# sha256 SUM\n
 * # Do not edit: qtune apply --persist rewrites this file.\n", control
 * characters in the arguments replaced by '?'. Caller frees. */
char *sysctld_header(const char *version, const char *profile_name, const char *profile_path,
		     const char *checksum);

/* The file's bytes: header (every line a '#' comment), then "key = value"
 * lines. -EINVAL (with a diagnostic) for a bad key, value or header. */
int sysctld_render(const char *header, const struct sysctld_assign *a, size_t n,
		   char **out, size_t *len, struct qt_diags *d);

/* Writes ROOT/etc/sysctl.d/file_name atomically (temporary file in the
 * same directory, O_EXCL|O_NOFOLLOW, mode 0644, fsync, rename, fsync of the
 * directory), creating ROOT/etc/sysctl.d when missing. Refuses with -ELOOP
 * when the directory or the target is a symlink, leaving the link and what
 * it points to untouched. On any failure before the rename the old file (or
 * its absence) is as it was and no temporary file is left; a failing fsync
 * of the directory after the rename is reported (the new file is in place).
 * 0 or -errno, with a diagnostic naming the file. */
int sysctld_persist(const struct qt_ctx *ctx, const char *file_name, const char *header,
		    const struct sysctld_assign *a, size_t n, struct qt_diags *d);

/* The bytes of ROOT/etc/sysctl.d/file_name, bounded by SYSCTLD_FILE_MAX,
 * never through a symlink: -ENOENT when absent, -ELOOP for a link. */
int sysctld_read_persisted(const struct qt_ctx *ctx, const char *file_name, char **content,
			   size_t *len);

/* Writes bytes already rendered (apply --persist) or recorded (rollback)
 * atomically as sysctld_persist does, or with content NULL removes the file
 * (absent already is success). */
int sysctld_replace(const struct qt_ctx *ctx, const char *file_name, const char *content,
		    size_t len, struct qt_diags *d);

#endif
