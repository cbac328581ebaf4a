/* findings: what is wrong with each listener under given limits — clamped
 * (a socket an apply recorded at the old somaxconn, still there),
 * maybe-clamped (at a kernel default somaxconn below today's, no record),
 * below-min (under the profile's requirement, with its true cause),
 * queue-full (accept queue over its backlog now, the kernel's full; at
 * it, one slot left, at info level), dropping (its drop count rose
 * between two samples) — each with a message on what is wrong; one line
 * of advice per listener (the single best action: relisten when it can
 * be done live, else the program's own setting and a restart of its unit
 * or master; for a listener dropping now, what its drops call for); the
 * one rule for a full accept queue; and the SYN-queue limit the kernel
 * applies to a listener.
 * Pure: data in, data out, no I/O. The limits are plain values so this
 * module does not depend on profiles. */
#ifndef QTUNE_FINDINGS_H
#define QTUNE_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "listener_set.h"
#include "util.h"

enum finding_kind {
	FINDING_CLAMPED,
	FINDING_MAYBE_CLAMPED,  /* info level: likely, not known */
	FINDING_BELOW_MIN,
	FINDING_QUEUE_FULL,
	FINDING_DROPPING,       /* its drop count rose between two samples */
};

/* The kernel's default net.core.somaxconn before Linux 5.4 and since: a
 * listener at one of them may have been cut by it. */
#define FINDINGS_OLD_DEFAULT_SOMAXCONN 128
#define FINDINGS_DEFAULT_SOMAXCONN 4096

/* A socket an apply found at the somaxconn it replaced (the ceiling that
 * cut it): clamped while this very socket exists with that backlog. The
 * inode alone is reused by the kernel; address, port and the start time
 * of its owner make it this socket. */
struct clamp_socket {
	uint64_t inode;
	uint8_t family;
	uint8_t raw[16];
	uint16_t port;
	uint64_t start_time;    /* its topmost owner's (listener_owner); 0 unknown */
	int64_t backlog;        /* the old ceiling it was at */
	int64_t when;           /* that apply, seconds since the epoch; 0 unknown */
	const char *profile;    /* that apply's profile (owned by the record) */
};

/* What the state record says about clamped sockets. */
struct clamp_record {
	bool present;           /* an apply is recorded */
	bool lists_sockets;     /* it names its sockets (records before did not) */
	int64_t somaxconn_old, somaxconn_new;   /* -1: it did not change somaxconn */
	const struct clamp_socket *v;
	size_t n;
};

struct finding_port {
	uint16_t port;
	int64_t backlog;
};

struct finding_limits {
	/* somaxconn in force now (after an apply, or the value a dry run
	 * would set; 0 when unknown) and, for an apply, the one it replaces:
	 * a listener at that old value is clamped by this apply (the sockets
	 * an apply records). Commands with nothing to predict pass the
	 * current value twice and learn clamped sockets from record. */
	int64_t somaxconn_before, somaxconn_after;
	const struct clamp_record *record;  /* NULL: none */
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
	enum qt_level level;    /* QT_LEVEL_DRIFT: a warning, `check` exits 1;
				 * QT_LEVEL_OK: information (maybe-clamped) */
	int64_t limit;          /* clamped, maybe-clamped: somaxconn now;
				 * below-min: the requirement; queue-full: the backlog */
	const char *message;    /* what is wrong, and why (the true cause); in texts */
	double rate;            /* dropping: drops per second over the interval (else 0) */
};

/* The single best action for a listener with findings. */
enum advice_action {
	ADVICE_RELISTEN,        /* qtune relisten raises it live */
	ADVICE_RELISTEN_ALL,    /* qtune relisten --all (maybe-clamped, below-min) */
	ADVICE_SOMAXCONN,       /* the profile's somaxconn is below its own requirement */
	ADVICE_PROGRAM,         /* the program's own setting, then restart */
	ADVICE_ACCEPT,          /* it accepts too slowly: the program, not a limit */
	ADVICE_OWNER_UNKNOWN,   /* nothing can be said about whom to act on */
};

struct finding_advice {
	size_t listener;
	enum advice_action action;
	int64_t target;         /* the backlog the action gives; 0 none */
	const char *text;       /* one line, naming the owner; the same text for
				 * the same owner and action (grouped by it); in texts */
};

/* In listener order (v[i].listener ascending), kinds in enum order;
 * advice: one per listener with findings, in listener order. */
struct findings {
	struct finding *v;
	size_t n, cap;
	struct finding_advice *advice;
	size_t nadvice;
	struct util_texts texts;        /* the messages and advice, each text once */
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
 * taken seconds earlier; ignored ports never. Its advice becomes the one
 * the drops call for (dropping now outranks what one sample shows; still
 * one advice per listener, in listener order). Keeps out in listener
 * order, kinds in enum order. Returns the number added. */
size_t findings_dropping(const struct listener_set *before, const struct listener_set *now,
			 double seconds, const struct finding_limits *lim, struct findings *out);

/* The one rule for a full accept queue, the kernel's sk_acceptq_is_full():
 * sk_ack_backlog > sk_max_ack_backlog, queued > backlog. A listener with
 * backlog B holds B + 1 connections (backlog 0 holds one); only beyond
 * that are SYNs and completing ACKs dropped (ListenOverflows). At queued
 * == backlog one slot is left. */
bool findings_accept_queue_full(uint32_t queued, uint32_t backlog);
/* How many connections the accept queue of a listener with backlog B
 * holds before it is full by that rule: B + 1 (`show`'s accept queue). */
int64_t findings_accept_queue_holds(int64_t backlog);

/* The backlog port must reach: its own requirement, else min_backlog, else
 * 0 (none); -1 when the port is ignored. */
int64_t findings_port_requirement(const struct finding_limits *lim, uint16_t port);

/* "clamped", "maybe-clamped", "below-min", "queue-full". */
const char *finding_kind_name(enum finding_kind kind);
/* "relisten", "relisten-all", "somaxconn", "program", "accept", "owner-unknown". */
const char *advice_action_name(enum advice_action action);

/* The advice of listener i, or NULL. */
const struct finding_advice *findings_advice_of(const struct findings *f, size_t i);

/* Whom to restart, by process tree: the topmost owners (whose parent
 * holds no share of the socket), with their unit, and how many workers
 * beneath them: "restart nginx.service (master pid 123 nginx, 2
 * workers)", "restart redis-server (pid 77)", or the one reason the owner
 * is not known. Truncated to size. */
void findings_restart_advice(const struct listener_set *set, const struct listener *l,
			     char *buf, size_t size);

/* Where l's program sets its backlog, for a backlog of n: the program
 * table's setting for its topmost owner ("`tcp-backlog 1024` in
 * redis.conf"), else the generic listen() text. */
void findings_program_setting(const struct listener_set *set, const struct listener *l,
			      int64_t n, char *buf, size_t size);

/* The clamp_socket entry for l as it is now (for the record an apply
 * writes): identity from l and its topmost owner. */
void findings_clamp_socket(const struct listener_set *set, const struct listener *l,
			   struct clamp_socket *out);
/* The entry of rec that is l, still at its recorded backlog; NULL when l
 * is another socket (restarted), was raised, or is not recorded. */
const struct clamp_socket *findings_recorded(const struct clamp_record *rec,
					     const struct listener_set *set,
					     const struct listener *l);

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
