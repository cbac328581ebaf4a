/* ctx: what every module that touches the system is handed instead of
 * globals: where "/" is for the files qtune reads and writes (tests and
 * mounted images point it elsewhere), the /proc/sys of the target network
 * namespace, how to render, and the diagnostics collected so far. A
 * command's own options are not here: they stay with the command
 * (commands.h), and library code gets what it needs as parameters. */
#ifndef QTUNE_CTX_H
#define QTUNE_CTX_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"

struct jw;

#define QTUNE_VERSION_STRING QTUNE_VERSION

enum qt_output {
	QT_OUT_TEXT,
	QT_OUT_JSON,
	QT_OUT_PROMETHEUS,      /* node_exporter textfile metrics (prometheus.h) */
};

struct listener_set;
struct owner_walker;
struct cgroup_map;

struct qt_ctx {
	const char *root;       /* "" means the real "/"; never applies to /proc */
	int procsys_fd;         /* O_PATH directory fd of /proc/sys in the target netns */
	int proc_fd;            /* O_PATH directory fd of /proc */
	enum qt_output output;
	int verbosity;          /* -1 with -q, 0 by default, 1+ with -v */
	bool color;             /* text output may use colour */
	uint64_t netns_inode;   /* the target namespace's inode (reused once it is gone) */
	uint64_t netns_cookie;  /* SO_NETNS_COOKIE, never reused within a boot; 0: kernel has none */
	int netns_initial;      /* 1 initial, 0 not, -1 could not tell */
	char kernel_release[65];
	FILE *out;
	struct jw *json;        /* --json: the document main opened; a command adds its members */
	struct qt_diags diags;
	/* The listeners and their owners, scanned before Landlock forbade
	 * reading other processes' fds (audit_prescan); audit_run takes it. */
	struct listener_set *owners_scan;
	int owners_scan_result; /* what listeners_dump returned for it */
	/* The child that walks /proc for owners once the command knows which
	 * listeners need them (forked before Landlock; NULL: walk in-process). */
	struct owner_walker *owners_walker;
	unsigned owner_jobs;    /* --jobs: threads of the owner walk; 0: one per CPU (capped) */
	/* --all-netns: the label of the namespace this run audits (NULL
	 * otherwise), whether owners_scan was walked for every listener
	 * already (the one walk for all namespaces), and how many findings
	 * the audit made (-1: none ran), for the closing summary. */
	const char *netns_label;
	/* --all-netns: the cgroup2 tree walked once for every namespace's
	 * dump (cgroup.h); NULL: each dump walks its own. */
	struct cgroup_map **cgroup_cache;
	bool owners_prewalked;
	long audit_findings;
	/* watch --all-netns: the parent paces the samples. A byte on
	 * watch_pace_fd asks for one, end of file ends the watch; each
	 * sample's output ends with a NUL byte, so the parent can cut the
	 * stream into samples and frame them. */
	bool watch_paced;
	int watch_pace_fd;
};

#endif
