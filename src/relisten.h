/* relisten: raises the backlog of TCP listeners that already exist, without
 * restarting their processes. listen() on a socket that is already listening
 * only changes its backlog (queued connections stay, the owner keeps
 * serving), so qtune takes a duplicate of the socket from an owning process
 * (pidfd_open + pidfd_getfd: ptrace rights over that process, Linux 5.6+),
 * checks by inode and socket options that it is that very TCP listener,
 * calls listen() on the duplicate, closes it and reads the backlog back over
 * sock_diag. relisten_plan is pure; relisten_execute changes nothing but the
 * backlog of the sockets it was given, and only ever raises it. */
#ifndef QTUNE_RELISTEN_H
#define QTUNE_RELISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "ctx.h"
#include "diag.h"
#include "findings.h"
#include "listeners.h"

enum relisten_mode {
	RELISTEN_CLAMPED,       /* listeners with a clamped finding (the default) */
	RELISTEN_ALL,           /* and those maybe-clamped or below-min */
};

/* Why a target is what it is: the kernel keeps only the cut backlog, not
 * what the program asked for, so a target is a choice and is shown as one. */
enum relisten_choice {
	RELISTEN_TO_CEILING,    /* somaxconn: what listen(fd, -1) gives */
	RELISTEN_TO_REQUIREMENT,/* the profile's requirement (below-min) */
	RELISTEN_TO_EXPLICIT,   /* --backlog N */
};

/* "the ceiling: the program's own request is unknown", ... */
const char *relisten_choice_text(enum relisten_choice choice);
const char *relisten_choice_name(enum relisten_choice choice);

/* One socket to raise. Every socket appears once, however many processes
 * share it (fork) and whatever SO_REUSEPORT group it is in (each socket of a
 * group is its own inode, its own target). */
struct relisten_target {
	size_t listener;        /* index into listener_set.v */
	uint64_t inode;         /* the socket; 0: the kernel gave none, left alone */
	int64_t old_backlog;    /* its backlog in the set */
	int64_t new_backlog;    /* what listen() gets; == old_backlog: nothing to do */
	bool clamped, maybe_clamped, below_min;    /* which findings asked for it */
	enum relisten_choice choice;
	bool capped;            /* the choice was above somaxconn_now: cut to it */
	char setting[256];      /* where the program sets its own backlog (findings) */
};

/* Turns the findings of set into targets, in listener order:
 *  - clamped (and, mode RELISTEN_ALL, maybe-clamped): the new somaxconn
 *    (the finding's limit), as a restart calling listen(fd, -1) would —
 *    the program asked for at least the old somaxconn, how much more
 *    nobody can tell;
 *  - below-min (mode RELISTEN_ALL): its port's requirement, else
 *    min_backlog (the finding's limit);
 *  - both: the larger;
 *  - backlog > 0 (--backlog N): N instead, for every listener flagged;
 *  then never above somaxconn_now (the value in force when listen() is
 *  called; <= 0 when unknown: the kernel clamps anyway) and never below
 *  the current backlog.
 * f must have been built from set (findings_build). Pure. *out is
 * malloc'd (NULL when *n is 0); returns 0. */
int relisten_plan(const struct listener_set *set, const struct findings *f,
		  enum relisten_mode mode, int64_t somaxconn_now, int64_t backlog,
		  struct relisten_target **out, size_t *n);

enum relisten_status {
	RELISTEN_RAISED,        /* listen() called; sock_diag shows backlog_now */
	RELISTEN_WOULD_RAISE,   /* dry run: would call listen() */
	RELISTEN_ALREADY_FINE,  /* its backlog already reaches the target: untouched */
	RELISTEN_FAILED,        /* not raised (dry run: would not be): reason, advice */
};

struct relisten_result {
	size_t listener;        /* index into the set given to relisten_execute */
	uint64_t inode;
	enum relisten_status status;
	bool clamped, maybe_clamped, below_min;
	enum relisten_choice choice;
	bool capped;
	char setting[256];      /* the program's own setting, "" unknown */
	int64_t old_backlog;    /* before (as the socket itself said, when taken) */
	int64_t new_backlog;    /* asked for */
	int64_t backlog_now;    /* read back over sock_diag afterwards; -1 unknown */
	pid_t pid;              /* the owner whose descriptor was (or would be) used; 0 none */
	char comm[LISTENERS_COMM_MAX];
	int err;                /* failed: -errno of the cause */
	char *reason;           /* failed: why, for people; else NULL */
	char *advice;           /* failed: what to do instead (restart ...); else NULL */
};

struct relisten_results {
	struct relisten_result *v;      /* in target order */
	size_t n;
	size_t nraised, nwould, nfine, nfailed;
	bool dry_run;
	bool confirmed;                 /* the sock_diag read-back happened */
	bool cap_sys_ptrace;            /* qtune held CAP_SYS_PTRACE (effective) */
	int ptrace_scope;               /* kernel.yama.ptrace_scope; -1 without Yama */
};

/* For each target: tries its owners in turn (pid and fd number from
 * listeners_attribute), pidfd_open(pid), pidfd_getfd(fd), and uses the
 * duplicate only when fstat() gives the target's inode and it is a
 * listening TCP socket of the listener's family and port; reads its
 * backlog (TCP_INFO) and, when lower than asked, calls listen(dup,
 * new_backlog); closes it. Then one sock_diag dump confirms every raised
 * backlog. A socket that cannot be taken is reported, with the reason
 * (permission: CAP_SYS_PTRACE, Yama's ptrace_scope; process gone; owner
 * unknown) and the restart advice, and the others go on. dry_run: reports
 * what would be done and touches nothing. set must be attributed.
 *
 * The one window it cannot close: an owner that shuts its listener down
 * between the check and listen() would see it listening again. out is
 * replaced; returns 0 (diagnostics only for what is not per listener). */
int relisten_execute(const struct qt_ctx *ctx, const struct listener_set *set,
		     const struct relisten_target *t, size_t n, bool dry_run,
		     struct relisten_results *out, struct qt_diags *d);

void relisten_results_free(struct relisten_results *r);

/* "raised", "would-raise", "already-fine", "failed". */
const char *relisten_status_name(enum relisten_status status);

#endif
