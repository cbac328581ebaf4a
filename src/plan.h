/* plan: profile + the values running now → the list of changes an apply
 * would make. Pure: no I/O, so it is tested without root. The same list
 * type carries a rollback (target = the recorded old value). */
#ifndef QTUNE_PLAN_H
#define QTUNE_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "keys.h"
#include "profile.h"

struct plan_item {
	char *key;                      /* slashed path */
	const struct key_info *info;    /* NULL for keys not in the table */
	char *current;                  /* running value, normalised */
	char *target;                   /* value to write (equals current when !change) */
	bool change;
	const struct profile_entry *entry;  /* where the profile asked; NULL for rollback */
};

struct plan {
	struct plan_item *items;
	size_t n;
	size_t nchanges;
};

/* current[i] is the running value of p->entries[i] (NULL when unreadable:
 * an error naming the key). Returns 0 or -EINVAL with diagnostics. */
int plan_build(const struct profile *p, char *const *current, struct plan **out,
	       struct qt_diags *d);

/* Whether value (running, or what the next boot sets) meets what the
 * entry asks for: equal for an exact value, inside the bounds for a range. */
bool plan_satisfies(const struct profile_entry *e, const char *value);

/* Appends an item; used to build a rollback plan from the state file. */
void plan_add(struct plan *plan, const char *key, const char *current,
	      const char *target);

/* A description of what the profile wants, for reports: "4096", ">= 8192",
 * "1024..65535". Written to buf. */
void plan_describe_want(const struct want *w, char *buf, size_t size);

void plan_free(struct plan *plan);

#endif
