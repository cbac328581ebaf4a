/* listener_set: the accessors and the free of a listener set. Pure. */
#include "listener_set.h"

#include <stdlib.h>
#include <string.h>

const struct listener_owner *listener_owner_at(const struct listener_set *set,
					       const struct listener *l, size_t k)
{
	return &set->owners[set->links[l->owner_off + k]];
}

int listener_owner_fd(const struct listener_set *set, const struct listener *l, size_t k)
{
	return set->link_fds ? set->link_fds[l->owner_off + k] : -1;
}

const char *listener_socket_unit(const struct listener_set *set, const struct listener *l)
{
	if (l->cgroup_id == 0) {
		const char *u = l->owners_looked_up && l->nowners ? listener_owner_at(set, l, 0)->unit : "";
		return *u ? u : NULL;
	}
	for (size_t lo = 0, hi = set->ncgroup_units; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;
		const struct listener_cgroup_unit *c = &set->cgroup_units[mid];

		if (c->cgroup_id == l->cgroup_id)
			return c->unit[0] ? c->unit : NULL;
		if (c->cgroup_id < l->cgroup_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void listener_set_free(struct listener_set *set)
{
	if (!set)
		return;
	free(set->cgroup_units);
	free(set->v);
	free(set->owners);
	free(set->links);
	free(set->link_fds);
	memset(set, 0, sizeof(*set));
}
