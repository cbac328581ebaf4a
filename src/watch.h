/* watch: what `qtune watch` has seen so far, as plain data: per listener
 * (the same socket, by inode) its queues now and at their peak, its drop
 * rate over the last interval and its drops over the window, and the
 * namespace's TcpExt rates; and the advice its window calls for. Pure: the
 * samples come in as listener sets and counter values, nothing is read. */
#ifndef QTUNE_WATCH_H
#define QTUNE_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "findings.h"
#include "listener_set.h"

/* The namespace counters watch shows as rates, in this order. */
enum { WATCH_LISTEN_OVERFLOWS, WATCH_LISTEN_DROPS, WATCH_SYNCOOKIES_SENT, WATCH_TCPEXT };
extern const char *const watch_tcpext_names[WATCH_TCPEXT];   /* the TcpExt field names */

struct watch_row {
	struct listener l;              /* the latest sample (owner_off, nowners mean nothing) */
	bool owners_looked_up;          /* watch_set_owners() was called for it */
	bool owners_known;
	uint16_t nowners;
	struct listener_owner owner;    /* the first owner, when nowners > 0 */
	uint32_t peak_queued, peak_syn_recv;
	uint32_t first_drops;           /* its count when it was first seen */
	uint64_t window_drops;          /* drops since then */
	double drops_rate;              /* drops/s over the last interval; 0 on the first */
	bool filled;                    /* its accept queue was full in some sample
					 * (findings_accept_queue_full) */
};

struct watch_state {
	struct watch_row *rows;         /* in the latest sample's order (port, family, address) */
	size_t n;
	unsigned samples;
	uint64_t first_ns, last_ns;     /* CLOCK_MONOTONIC of the first and latest dump */
	double interval;                /* seconds between the last two samples */
	bool have_tcpext;
	uint64_t tcpext_first[WATCH_TCPEXT], tcpext_now[WATCH_TCPEXT];
	double tcpext_rate[WATCH_TCPEXT];
	int64_t somaxconn;              /* for the advice; 0 when unknown */
};

/* Takes one sample: rows of listeners seen before keep their peaks and
 * totals; a listener not in set is gone (its drops with it); a new one
 * starts a row whose owners are not looked up yet. tcpext: the counters
 * in enum order, or NULL when they could not be read. */
void watch_update(struct watch_state *w, const struct listener_set *set, const uint64_t *tcpext);

/* Records the owners found for row i (set holds the row's listener at li,
 * attributed). */
void watch_set_owners(struct watch_state *w, size_t i, const struct listener_set *set, size_t li);

/* What to change about row r over the window, or NULL when it dropped
 * nothing. */
const char *watch_advice(const struct watch_state *w, const struct watch_row *r);

void watch_state_free(struct watch_state *w);

#endif
