/* owners_int: what the owner walk (owners.c) gives the walker module
 * (owners_walker.c) and nothing else includes: the walk of one set, for
 * the listeners of a query answered here or in the walker child. */
#ifndef QTUNE_OWNERS_INT_H
#define QTUNE_OWNERS_INT_H

#include "ctx.h"
#include "diag.h"
#include "listener_set.h"

/* The owners of every listener of set, found by one walk of /proc for
 * ctx->netns_inode (then the other namespaces); set holds no attribution
 * yet (a fresh set, or attribution_reset()). */
void owners_attribute_all(const struct qt_ctx *ctx, struct listener_set *set, struct qt_diags *d);

#endif
