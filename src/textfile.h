/* textfile: delivers rendered metrics to `--textfile PATH` for
 * node_exporter's textfile collector: PATH is replaced atomically
 * (util_write_atomic: temporary file in its directory, rename, mode 0644),
 * so a collector never reads half a file. Its directory is reached through
 * no symlink and must be writable by root (and qtune's uid) alone
 * (trust_open_dir), so nobody can redirect root's write elsewhere. */
#ifndef QTUNE_TEXTFILE_H
#define QTUNE_TEXTFILE_H

#include <stddef.h>

#include "diag.h"

/* 0 or -errno, with a diagnostic naming PATH. A name that does not end in
 * .prom is written, with a warning: node_exporter would ignore it. */
int textfile_write(const char *path, const char *buf, size_t len, struct qt_diags *d);

#endif
