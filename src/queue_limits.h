/* queue_limits: the values of the running kernel that bound a listener's
 * queues (net.core.somaxconn, net.ipv4.tcp_max_syn_backlog,
 * net.ipv4.tcp_syncookies), as plain data. sysctl_read_limits() is their
 * one reader; findings, the reports and show take them as this struct. The
 * name keeps clear of <limits.h>, which -Isrc would otherwise shadow. */
#ifndef QTUNE_QUEUE_LIMITS_H
#define QTUNE_QUEUE_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

/* have_X false: X could not be read, and its value means nothing. */
struct queue_limits {
	bool have_somaxconn, have_max_syn_backlog, have_syncookies;
	int64_t somaxconn, max_syn_backlog, syncookies;
};

#endif
