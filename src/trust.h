/* trust: qtune turns files into kernel settings as root, so, as doas and
 * sshd do with their configuration, a file it is about to act on — and
 * every directory above it — must be writable by nobody but root and
 * qtune's own effective uid. A sticky directory (like /tmp) is fine: others
 * can write into it but cannot replace what root owns there. */
#ifndef QTUNE_TRUST_H
#define QTUNE_TRUST_H

#include <sys/stat.h>

#include "diag.h"

/* The one rule: what is wrong with a file or directory as qtune's input or
 * output ("owned by another user", "writable by everyone", "writable by its
 * group"), or NULL when only root and qtune's effective uid could change
 * it. A sticky directory is fine. */
const char *trust_judge(const struct stat *st);

/* Checks path (resolved through symlinks) and its ancestors. Each problem
 * is added at level (QT_LEVEL_ERROR to refuse, QT_LEVEL_WARN to warn),
 * naming the file, its owner and its mode. Returns 0 or -EPERM. */
int trust_check_file(const char *path, enum qt_level level, struct qt_diags *d);

#endif
