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

void listener_set_free(struct listener_set *set)
{
	if (!set)
		return;
	free(set->v);
	free(set->owners);
	free(set->links);
	free(set->link_fds);
	memset(set, 0, sizeof(*set));
}
