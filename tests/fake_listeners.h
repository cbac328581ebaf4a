/* fake_listeners: builds a struct listener_set by hand, owners included,
 * for the tests of the pure modules that consume one (findings, the
 * listener report). The set is laid out exactly as listeners_attribute()
 * leaves it, so listener_owner_at() and listener_set_free() work on it. */
#ifndef QTUNE_TEST_FAKE_LISTENERS_H
#define QTUNE_TEST_FAKE_LISTENERS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "listener_set.h"

/* Appends a listener ("127.0.0.1", "::1"); returns its index. */
size_t fake_listener(struct listener_set *s, const char *addr, uint16_t port,
		     uint32_t backlog, uint32_t queued);
/* Records that pid (comm, unit or "") owns listener ix. */
void fake_owner(struct listener_set *s, size_t ix, pid_t pid, const char *comm, const char *unit);
/* Lays the owners out as listeners_attribute() does; complete is
 * owners_complete (false: listeners without owners are "unknown"). */
void fake_attribute(struct listener_set *s, bool complete);

#endif
