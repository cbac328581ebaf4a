/* netstat: the TcpExt counters of /proc/net/netstat that tell whether
 * listen queues overflow, with one line of meaning each. The file shows
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

/* Fills counters (in the fixed order of netstat_names) from the file text. */
int netstat_parse(const char *text, struct netstat_counter *counters, size_t n);
/* Reads ctx->proc_fd net/netstat and parses it. counters must hold
 * netstat_count entries. */
int netstat_read(const struct qt_ctx *ctx, struct netstat_counter *counters);

/* How many counters qtune reads: callers size their arrays with it. */
#define NETSTAT_COUNTERS 8
extern const size_t netstat_count;

#endif
