/* plan: decide, per profile entry, whether and to what a key changes. */
#include "plan.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void plan_add(struct plan *plan, const char *key, const char *current,
	      const char *target)
{
	struct plan_item *it;

	plan->items = xreallocarray(plan->items, plan->n + 1, sizeof(*plan->items));
	it = &plan->items[plan->n++];
	memset(it, 0, sizeof(*it));
	it->key = xstrdup(key);
	it->info = key_lookup(key);
	it->current = xstrdup(current);
	it->target = xstrdup(target);
	it->change = !key_values_equal(it->info, current, target);
	if (it->change)
		plan->nchanges++;
}

bool plan_satisfies(const struct profile_entry *e, const char *value)
{
	int64_t v;

	if (e->want.kind == WANT_EXACT)
		return key_values_equal(e->info, value, e->want.value);
	if (util_parse_i64(value, &v) < 0)
		return false;
	return !(e->want.has_min && v < e->want.min) && !(e->want.has_max && v > e->want.max);
}

/* The value a range asks for: the nearest bound when outside, else none. */
static int range_target(const struct profile_entry *e, const char *current,
			char *buf, size_t size, struct qt_diags *d)
{
	char shown[KEY_PATH_MAX];
	int64_t v;

	if (util_parse_i64(current, &v) < 0) {
		key_display(e->key, shown, sizeof(shown));
		diags_add(d, QT_LEVEL_ERROR, e->file, e->line, e->col,
			  "%s: running value \"%s\" is not an integer, so min/max cannot apply",
			  shown, current);
		return -EINVAL;
	}
	if (e->want.has_min && v < e->want.min)
		v = e->want.min;
	else if (e->want.has_max && v > e->want.max)
		v = e->want.max;
	snprintf(buf, size, "%" PRId64, v);
	return 0;
}

int plan_build(const struct profile *p, char *const *current, struct plan **out,
	       struct qt_diags *d)
{
	struct plan *plan = xcalloc(1, sizeof(*plan));
	char shown[KEY_PATH_MAX], target[KEY_VALUE_MAX];
	int r = 0;

	for (size_t i = 0; i < p->nentries; i++) {
		const struct profile_entry *e = &p->entries[i];

		if (!current[i]) {
			key_display(e->key, shown, sizeof(shown));
			diags_add(d, QT_LEVEL_ERROR, e->file, e->line, e->col,
				  "%s: cannot read the running value", shown);
			r = -EINVAL;
			continue;
		}
		if (e->want.kind == WANT_RANGE) {
			if (range_target(e, current[i], target, sizeof(target), d) < 0) {
				r = -EINVAL;
				continue;
			}
		} else {
			snprintf(target, sizeof(target), "%s", e->want.value);
		}
		plan_add(plan, e->key, current[i], target);
		plan->items[plan->n - 1].entry = e;
	}
	if (r < 0) {
		plan_free(plan);
		return r;
	}
	*out = plan;
	return 0;
}

void plan_describe_want(const struct want *w, char *buf, size_t size)
{
	if (w->kind == WANT_EXACT)
		snprintf(buf, size, "%s", w->value);
	else if (w->has_min && w->has_max)
		snprintf(buf, size, "%" PRId64 "..%" PRId64, w->min, w->max);
	else if (w->has_min)
		snprintf(buf, size, ">= %" PRId64, w->min);
	else
		snprintf(buf, size, "<= %" PRId64, w->max);
}

void plan_free(struct plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->n; i++) {
		free(plan->items[i].key);
		free(plan->items[i].current);
		free(plan->items[i].target);
	}
	free(plan->items);
	free(plan);
}
