/* trust: qtune turns files into kernel settings as root, so, as doas and
 * sshd do with their configuration, a file it is about to act on — and
 * every directory above it — must be writable by nobody but root and
 * qtune's own effective uid. A sticky directory (like /tmp) is fine: others
 * can write into it but cannot replace what root owns there. */
#ifndef QTUNE_TRUST_H
#define QTUNE_TRUST_H

#include "diag.h"

/* Checks path (resolved through symlinks) and its ancestors. Each problem
 * is added at level (QT_LEVEL_ERROR to refuse, QT_LEVEL_WARN to warn),
 * naming the file, its owner and its mode. Returns 0 or -EPERM. */
int trust_check_file(const char *path, enum qt_level level, struct qt_diags *d);

#endif
