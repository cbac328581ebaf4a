/* fuzz_tree: the scratch --root directory a fuzz target works in. Made
 * once per process under $TMPDIR (or /tmp), removed at exit; nothing here
 * ever touches the real /etc. Any failure aborts: a target that cannot set
 * up its files would otherwise fuzz nothing and report success. */
#ifndef QTUNE_FUZZ_TREE_H
#define QTUNE_FUZZ_TREE_H

#include <stddef.h>
#include <stdio.h>

extern char fuzz_root[256];
/* /dev/null, for rendering diagnostics nobody reads. */
extern FILE *fuzz_sink;

/* Creates fuzz_root ("qtune-fuzz-WHAT.XXXXXX") and fuzz_sink. */
void fuzz_tree_make(const char *what);
/* Writes text to fuzz_root/rel, creating the directories on the way. */
void fuzz_tree_put(const char *rel, const char *text);
/* Replaces the file at path with len bytes of buf. */
void fuzz_tree_write(const char *path, const void *buf, size_t len);

#endif
