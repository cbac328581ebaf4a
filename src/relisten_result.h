/* relisten_result: what a relisten run did (or, dry, would do) to each
 * socket, as plain data: what relisten_execute() fills (relisten.h) and
 * relisten_report renders. Pure: naming a status and freeing, no I/O. */
#ifndef QTUNE_RELISTEN_RESULT_H
#define QTUNE_RELISTEN_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "listener_set.h"

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
	bool clamped, below_min;
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

void relisten_results_free(struct relisten_results *r);

/* "raised", "would-raise", "already-fine", "failed". */
const char *relisten_status_name(enum relisten_status status);

#endif
