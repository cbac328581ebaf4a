/* caps: drops, right after the namespace is entered, every capability the
 * command does not need — from the effective, permitted, inheritable,
 * ambient and bounding sets — and sets no_new_privs, so nothing exec'd or
 * exploited later can regain them. The kernel keeps judging write access
 * itself (faccessat in apply_preflight); caps only narrows what is kept. */
#ifndef QTUNE_CAPS_H
#define QTUNE_CAPS_H

#include <stddef.h>

#include "diag.h"

enum caps_need {
	CAPS_READ = 1 << 0,        /* read /proc/sys: nothing */
	CAPS_OWNERS = 1 << 1,      /* see other users' sockets: SYS_PTRACE, DAC_READ_SEARCH */
	CAPS_WRITE_NET = 1 << 2,   /* write net.* as a non-root uid: NET_ADMIN */
	/* --all-netns's parent: setns() into each namespace (SYS_ADMIN), and
	 * SETPCAP so that each child narrows its bounding set as --netns does. */
	CAPS_SETNS = 1 << 3,
};

/* Keeps only what needs asks for (and only what the process holds).
 * kept receives a printable list for -v. 0 or -errno. */
int caps_restrict(unsigned needs, char *kept, size_t kept_size, struct qt_diags *d);

#endif
