/* landlock: confines the process, with the kernel's Landlock LSM (raw
 * syscalls, no library), so that it can write, create, remove or execute
 * no file except beneath the grants it is given; reads stay allowed. Once
 * applied it holds for the rest of the process and cannot be lifted; a
 * second call can only narrow it further. Where the kernel has no Landlock
 * nothing is restricted and the caller is told so. */
#ifndef QTUNE_LANDLOCK_H
#define QTUNE_LANDLOCK_H

#include <stddef.h>
#include <stdio.h>

#include "diag.h"

enum landlock_right {
	/* Open existing files for writing (and truncate them): /proc/sys keys. */
	LANDLOCK_WRITE_FILES,
	/* That, plus create, replace and remove regular files (an atomic
	 * temp+rename): the state, persist and --textfile directories. */
	LANDLOCK_CREATE_FILES,
};

struct landlock_grant {
	int dirfd;                 /* AT_FDCWD, or the directory path is relative to */
	const char *path;          /* a directory (rights beneath it) or one file */
	enum landlock_right right;
	/* A directory that does not exist yet is granted at its nearest
	 * existing ancestor, with mkdir allowed too (only for AT_FDCWD and an
	 * absolute path; otherwise a missing path is skipped: nothing to write). */
};

/* Applies a ruleset handling every write-like access the kernel's Landlock
 * ABI knows (write, truncate, make and remove any kind of file, rename
 * across directories, device ioctls) and execute, allowing only the
 * grants. Needs no_new_privs (caps_restrict sets it) or CAP_SYS_ADMIN.
 * Returns the ABI version enforced (>= 1), 0 when the kernel has no
 * Landlock (ENOSYS, EOPNOTSUPP: nothing restricted), -errno with a
 * diagnostic otherwise. trace (NULL: quiet) receives one line per grant. */
int landlock_restrict(const struct landlock_grant *grants, size_t n, FILE *trace,
		      struct qt_diags *d);

#endif
