/* findings: what is wrong with each listener under given limits — clamped
 * (kept the old somaxconn), below-min (under the profile's requirement),
 * queue-full (accept queue over its backlog now, the kernel's full; at
 * it, one slot left, at info level), dropping (its drop count rose
 * between two samples) — each with a
 * message naming the owning processes and what to do; and the SYN-queue
 * limit the kernel applies to a listener. Pure: data in, data out, no I/O.
 * The limits are plain values so this module does not depend on profiles. */
#ifndef QTUNE_FINDINGS_H
#define QTUNE_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "listener_set.h"

enum finding_kind {
	FINDING_CLAMPED,
	FINDING_BELOW_MIN,
	FINDING_QUEUE_FULL,
	FINDING_DROPPING,       /* its drop count rose between two samples */
};

struct finding_port {
	uint16_t port;
	int64_t backlog;
};

struct finding_limits {
	/* somaxconn in force when the listeners called listen() (before an
	 * apply) and now (after it). clamped is reported only when after is
	 * higher; `listeners` and `check` pass the current value twice. after
	 * also shapes the advice of below-min (raise somaxconn or the
	 * program's own backlog); 0 when unknown. */
	int64_t somaxconn_before, somaxconn_after;
	bool has_min_backlog;
	int64_t min_backlog;
	const struct finding_port *ports;   /* per-port requirements; win over min_backlog */
	size_t nports;
	const uint16_t *ignore;             /* ports never reported at all */
	size_t nignore;
};

struct finding {
	size_t listener;        /* index into listener_set.v */
	enum finding_kind kind;
	enum qt_level level;    /* QT_LEVEL_DRIFT: a warning, `check` exits 1 */
	int64_t limit;          /* clamped: the new somaxconn; below-min: the
				 * requirement; queue-full: the backlog */
	char *message;          /* what is wrong; what to do, naming the owners */
	double rate;            /* dropping: drops per second over the interval (else 0) */
};

/* In listener order (v[i].listener ascending), kinds in enum order. */
struct findings {
	struct finding *v;
	size_t n, cap;
};

/* Appends the findings of every listener of set to out. Returns the
 * number added. */
size_t findings_build(const struct listener_set *set, const struct finding_limits *lim,
		      struct findings *out);
void findings_free(struct findings *f);

/* What to change about a listener that drops connections, from what its
 * queues showed: the accept queue filled while the backlog is already
 * large (LARGE_BACKLOG or more) says the program accepts too slowly, and a
 * larger queue would only delay the drops; a small backlog is raised in the
 * program, or by somaxconn and a relisten when somaxconn is what cut it;
 * drops while the accept queue never filled are the SYN queue's. */
#define FINDINGS_LARGE_BACKLOG 4096
enum drop_remedy {
	DROP_REMEDY_RAISE_BACKLOG,      /* the program's listen() backlog */
	DROP_REMEDY_RAISE_SOMAXCONN,    /* somaxconn caps it: raise it, then relisten */
	DROP_REMEDY_ADD_WORKERS,        /* the program accepts too slowly */
	DROP_REMEDY_SYN_QUEUE,          /* SYN queue: SYN cookies, or a larger backlog */
};
enum drop_remedy findings_drop_remedy(uint32_t backlog, int64_t somaxconn, bool accept_queue_filled);
/* One sentence saying what to do, for the remedy. */
const char *findings_drop_remedy_text(enum drop_remedy r);

/* Appends a `dropping` finding (warning level) for each listener of now
 * whose drop count rose since before, the same socket (inode) a sample
 * taken seconds earlier; ignored ports never. Keeps out in listener order,
 * kinds in enum order. Returns the number added. */
size_t findings_dropping(const struct listener_set *before, const struct listener_set *now,
			 double seconds, const struct finding_limits *lim, struct findings *out);

/* The backlog port must reach: its own requirement, else min_backlog, else
 * 0 (none); -1 when the port is ignored. */
int64_t findings_port_requirement(const struct finding_limits *lim, uint16_t port);

/* "clamped", "below-min", "queue-full". */
const char *finding_kind_name(enum finding_kind kind);

/* What to do, naming the owners: "restart nginx.service (pid 123 nginx)",
 * "restart pid 77 (redis-server)", or "restart the process owning it;
 * owner unknown (needs root)". Truncated to size. */
void findings_restart_advice(const struct listener_set *set, const struct listener *l,
			     char *buf, size_t size);

/* The effective SYN (request) queue of a listener with backlog B, as the
 * running kernel combines it with tcp_max_syn_backlog M and tcp_syncookies
 * S (tcp_conn_request(); queue full at qlen > B, the rule since the 2025
 * change — older kernels stop one earlier):
 *   S == 0: min(B, M - floor(M/4)) + 1 for peers not proven alive, B + 1
 *           for proven peers (a tcp_metrics entry); beyond: dropped;
 *   S == 2: nothing is queued, every SYN is answered with a cookie;
 *   other:  B + 1, then SYN cookies (M plays no part). */
struct syn_queue_limit {
	int64_t new_peers;
	int64_t proven_peers;
	bool cookies;           /* beyond the limit SYNs get cookies, not drops */
};
struct syn_queue_limit findings_syn_queue_limit(int64_t backlog, int64_t max_syn_backlog,
						int64_t syncookies);

#endif
