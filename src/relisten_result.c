/* relisten_result: the results of a relisten run as plain data. */
#include "relisten_result.h"

#include <stdlib.h>
#include <string.h>

const char *relisten_status_name(enum relisten_status status)
{
	switch (status) {
	case RELISTEN_RAISED: return "raised";
	case RELISTEN_WOULD_RAISE: return "would-raise";
	case RELISTEN_ALREADY_FINE: return "already-fine";
	case RELISTEN_FAILED: return "failed";
	}
	return "?";
}

void relisten_results_free(struct relisten_results *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].reason);
		free(r->v[i].advice);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}
