/* watch: samples → per-listener peaks, rates and totals (pure). */
#include "watch.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *const watch_tcpext_names[WATCH_TCPEXT] = {
	[WATCH_LISTEN_OVERFLOWS] = "ListenOverflows",
	[WATCH_LISTEN_DROPS] = "ListenDrops",
	[WATCH_SYNCOOKIES_SENT] = "SyncookiesSent",
};

static int row_inode_cmp(const void *a, const void *b)
{
	const struct watch_row *const *x = a, *const *y = b;

	return (*x)->l.inode < (*y)->l.inode ? -1 : (*x)->l.inode > (*y)->l.inode;
}

void watch_update(struct watch_state *w, const struct listener_set *set, const uint64_t *tcpext)
{
	struct watch_row *rows = xcalloc(set->n ? set->n : 1, sizeof(*rows));
	struct watch_row **byino = xcalloc(w->n ? w->n : 1, sizeof(*byino));
	double dt = w->samples ? (double)(set->dumped_ns - w->last_ns) / 1e9 : 0;

	for (size_t i = 0; i < w->n; i++)
		byino[i] = &w->rows[i];
	qsort(byino, w->n, sizeof(*byino), row_inode_cmp);
	for (size_t i = 0; i < set->n; i++) {
		const struct listener *l = &set->v[i];
		struct watch_row key, *kp = &key, **hit, *r = &rows[i];

		key.l.inode = l->inode;
		hit = bsearch(&kp, byino, w->n, sizeof(*byino), row_inode_cmp);
		if (hit) {
			*r = **hit;
			uint32_t d = l->drops - r->l.drops;   /* u32 that only grows */
			r->drops_rate = dt > 0 ? d / dt : 0;
			r->window_drops += d;
		} else {
			memset(r, 0, sizeof(*r));
			r->first_drops = l->drops;
		}
		r->l = *l;
		if (l->queued > r->peak_queued)
			r->peak_queued = l->queued;
		if (l->syn_recv > r->peak_syn_recv)
			r->peak_syn_recv = l->syn_recv;
		if (findings_accept_queue_full(l->queued, l->backlog))
			r->filled = true;
	}
	free(byino);
	free(w->rows);
	w->rows = rows;
	w->n = set->n;
	if (tcpext) {
		for (int k = 0; k < WATCH_TCPEXT; k++) {
			if (!w->have_tcpext || !w->samples)
				w->tcpext_first[k] = tcpext[k];
			w->tcpext_rate[k] = dt > 0 && w->have_tcpext && tcpext[k] >= w->tcpext_now[k]
					    ? (double)(tcpext[k] - w->tcpext_now[k]) / dt : 0;
			w->tcpext_now[k] = tcpext[k];
		}
	}
	w->have_tcpext = tcpext != NULL;
	if (!w->samples)
		w->first_ns = set->dumped_ns;
	w->last_ns = set->dumped_ns;
	w->interval = dt;
	w->samples++;
}

void watch_set_owners(struct watch_state *w, size_t i, const struct listener_set *set, size_t li)
{
	struct watch_row *r = &w->rows[i];
	const struct listener *l = &set->v[li];

	r->owners_looked_up = true;
	r->owners_known = l->owners_looked_up && l->owners_known;
	r->nowners = l->nowners;
	if (l->nowners)
		r->owner = *listener_owner_at(set, l, 0);
}

const char *watch_advice(const struct watch_state *w, const struct watch_row *r)
{
	if (!r->window_drops)
		return NULL;
	return findings_drop_remedy_text(findings_drop_remedy(r->l.backlog, w->somaxconn, r->filled));
}

void watch_state_free(struct watch_state *w)
{
	free(w->rows);
	memset(w, 0, sizeof(*w));
}
