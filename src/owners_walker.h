/* owners_walker: the owners of a subset of a set's listeners, asked as an
 * inode and a uid per listener and merged into the set after what it holds;
 * answered by this process's walk (owners.h) or by the owner walker, a
 * child forked before Landlock that walks for its confined parent over a
 * socketpair, whose every answer is checked before it is used. */
#ifndef QTUNE_OWNERS_WALKER_H
#define QTUNE_OWNERS_WALKER_H

#include <stdbool.h>

#include "ctx.h"
#include "diag.h"
#include "listener_set.h"

/* A child that walks /proc for a confined parent (listeners_walker_start
 * forks it before Landlock: see owners_walker.c). */
struct owner_walker;

/* Attributes owners for a subset of set: the listeners whose want[i] is
 * true (want NULL: every one), each then owners_looked_up; the others keep
 * what they had (for a fresh dump: nothing, not looked up). Called again
 * with the listeners that appeared since (watch), it adds theirs: the
 * owners found earlier stay. With no listener wanted, no process is
 * looked at (set->fd_tables_read stays as it was). The walk sees every
 * process of the namespace however few listeners are wanted: a socket
 * shared by fork (nginx workers, a prefork server) is proven to have all
 * its owners only once every process was seen. walker NULL: this process
 * walks; else the walker does, and its answer is checked before use.
 * 0, or -errno when the walker failed (owners then not looked up). */
int listeners_attribute_some(const struct qt_ctx *ctx, struct owner_walker *walker,
			     struct listener_set *set, const bool *want, struct qt_diags *d);

/* Forks the walker (before confining; it keeps the privileges the process
 * has then). It walks only when asked; *out NULL on failure. */
int listeners_walker_start(const struct qt_ctx *ctx, struct owner_walker **out);

/* Hangs up and reaps it; NULL is fine. */
void listeners_walker_stop(struct owner_walker *w);

#endif
