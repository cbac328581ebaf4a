/* fake_listeners: hand-made listener sets for pure tests. */
#include "fake_listeners.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"

/* (listener, owner) pairs recorded until fake_attribute() lays them out;
 * one set at a time is plenty for a test. */
static struct { size_t listener; uint32_t owner; } pairs[256];
static size_t npairs;

size_t fake_listener(struct listener_set *s, const char *addr, uint16_t port,
		     uint32_t backlog, uint32_t queued)
{
	struct listener *l;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
	}
	l = &s->v[s->n];
	memset(l, 0, sizeof(*l));
	l->family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	cr_assert(inet_pton(l->family, addr, l->raw) == 1, "bad address %s", addr);
	snprintf(l->addr, sizeof(l->addr), "%s", addr);
	l->port = port;
	l->backlog = backlog;
	l->queued = queued;
	l->inode = 1000 + (uint32_t)s->n;
	if (s->n == 0)
		npairs = 0;
	return s->n++;
}

void fake_owner(struct listener_set *s, size_t ix, pid_t pid, const char *comm, const char *unit)
{
	size_t o;

	for (o = 0; o < s->nowners && s->owners[o].pid != pid; o++)
		;
	if (o == s->nowners) {
		s->owners = xreallocarray(s->owners, s->nowners + 1, sizeof(*s->owners));
		memset(&s->owners[o], 0, sizeof(s->owners[o]));
		s->owners[o].pid = pid;
		snprintf(s->owners[o].comm, sizeof(s->owners[o].comm), "%s", comm);
		snprintf(s->owners[o].unit, sizeof(s->owners[o].unit), "%s", unit);
		s->nowners++;
	}
	cr_assert(npairs < sizeof(pairs) / sizeof(pairs[0]));
	pairs[npairs].listener = ix;
	pairs[npairs++].owner = (uint32_t)o;
}

void fake_attribute(struct listener_set *s, bool complete)
{
	size_t total = 0;

	free(s->links);
	s->links = xcalloc(npairs, sizeof(*s->links));
	for (size_t i = 0; i < s->n; i++) {
		struct listener *l = &s->v[i];

		l->owner_off = (uint32_t)total;
		l->nowners = 0;
		l->owners_total = 0;
		for (size_t k = 0; k < npairs; k++) {
			if (pairs[k].listener != i)
				continue;
			l->owners_total++;
			if (l->nowners < LISTENERS_MAX_OWNERS)
				s->links[total + l->nowners++] = pairs[k].owner;
		}
		total += l->nowners;
		l->owners_looked_up = true;
		l->owners_known = l->nowners > 0 || complete;
	}
	s->nlinks = total;
	s->attributed = true;
	s->owners_complete = complete;
}
