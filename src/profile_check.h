/* profile_check: the checks of a loaded profile that need the target
 * system. Today one: every key qtune does not know must exist under the
 * target namespace's /proc/sys (a typo must not pass as an unknown key).
 * Reads only; each problem is reported at the entry's FILE:LINE:COL. */
#ifndef QTUNE_PROFILE_CHECK_H
#define QTUNE_PROFILE_CHECK_H

#include "diag.h"
#include "profile.h"

/* 0, or -EINVAL when a key is missing, is a directory or cannot be checked
 * (each reported to d). procsys_fd: /proc/sys of the target namespace. */
int profile_check_keys(const struct profile *p, int procsys_fd, struct qt_diags *d);

#endif
