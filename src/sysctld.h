/* sysctld: the sysctl.d configuration of a root directory, read as the
 * booted system would read it: every directory both boot tools search,
 * symlinks resolved inside ROOT, hostile sizes refused, malformed lines
 * reported and skipped as the tools skip them. sysctld_replay.h says what
 * the lines mean at boot; persist.h writes qtune's own file. */
#ifndef QTUNE_SYSCTLD_H
#define QTUNE_SYSCTLD_H

#include <stdbool.h>
#include <stddef.h>

#include "ctx.h"
#include "diag.h"
#include "sysctld_replay.h"

/* The administrator's sysctl.d directory: first in precedence, and the one
 * apply --persist writes (under --root). */
#define SYSCTLD_ETC "/etc/sysctl.d"

/* Bounds on what others may write. A file over SYSCTLD_FILE_MAX, a
 * directory with more than SYSCTLD_DIR_FILES_MAX *.conf names, or more than
 * SYSCTLD_ASSIGN_MAX lines in all is refused with an error and the replay
 * marked incomplete. A line may be as long as systemd's own bound
 * (SYSCTLD_LINE_MAX, in sysctld_replay.h). */
#define SYSCTLD_FILE_MAX (1024 * 1024)
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

#endif
