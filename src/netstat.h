/* netstat: the TcpExt counters of /proc/net/netstat that tell whether
 * listen queues overflow, with one line of meaning each. netstat_parse is
 * pure (text in, counters out); netstat_read reads the file, which shows
 * the network namespace of the reading thread. */
#ifndef QTUNE_NETSTAT_H
#define QTUNE_NETSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctx.h"

struct netstat_counter {
	const char *name;       /* TcpExt field name */
	const char *meaning;
	bool present;
	uint64_t value;
};

/* Fills the first n counters (at most netstat_count; each gets its name and
 * meaning, in qtune's fixed order) from the text of the file: the values of
 * its first TcpExt section (a names line, then a values line). A counter
 * the kernel does not print, or whose value is not a non-negative integer,
 * is left absent (present false). 0, or -ENOENT when there is no TcpExt
 * section. */
int netstat_parse(const char *text, struct netstat_counter *counters, size_t n);
/* Reads ctx->proc_fd's thread-self/net/netstat and parses it. counters must
 * hold netstat_count entries. */
int netstat_read(const struct qt_ctx *ctx, struct netstat_counter *counters);

/* How many counters qtune reads: callers size their arrays with it. */
#define NETSTAT_COUNTERS 9
extern const size_t netstat_count;

#endif
