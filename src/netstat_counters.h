/* netstat_counters: the TcpExt overflow counters as plain data: what
 * netstat_read() fills (netstat.h) and show, watch and the metrics read. */
#ifndef QTUNE_NETSTAT_COUNTERS_H
#define QTUNE_NETSTAT_COUNTERS_H

#include <stdbool.h>
#include <stdint.h>

struct netstat_counter {
	const char *name;       /* TcpExt field name */
	const char *meaning;
	bool present;
	uint64_t value;
};

/* How many counters qtune reads: callers size their arrays with it. */
#define NETSTAT_COUNTERS 9

#endif
