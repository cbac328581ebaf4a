/* netstat: listen-queue overflow counters from /proc/net/netstat. */
#include "netstat.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Each meaning is what the kernel counts, read in its source (net/ipv4/
 * tcp_input.c tcp_conn_request and tcp_syn_flood_action, tcp_ipv4.c
 * tcp_v4_syn_recv_sock, tcp_minisocks.c tcp_check_req, syncookies.c
 * cookie_v4_check, tcp.c __tcp_close, include/net/tcp.h tcp_listendrop and
 * cookie_init_sequence) and provoked by tests/e2e_counters.c. */
static const struct { const char *name, *meaning; } counters_known[] = {
	{ "ListenOverflows", "a SYN, or the segment completing a handshake, reached a listener whose "
			     "accept queue was full (more than its backlog) and was dropped" },
	{ "ListenDrops", "a SYN or handshake-completing segment dropped at a listener, for any reason: "
			 "every ListenOverflows and TCPReqQFullDrop, and the tcp_max_syn_backlog rule" },
	{ "TCPReqQFullDrop", "a SYN dropped because the listener's SYN queue was full and "
			     "tcp_syncookies is 0" },
	{ "TCPReqQFullDoCookies", "a SYN answered with a cookie because the SYN queue was full "
				  "(every SYN when tcp_syncookies is 2)" },
	{ "SyncookiesSent", "SYN-ACKs sent carrying a SYN cookie" },
	{ "SyncookiesRecv", "ACKs that brought a valid SYN cookie back (each becomes a connection "
			    "unless the accept queue is full)" },
	{ "SyncookiesFailed", "ACKs matching no request at a listener that sent cookies in the last "
			      "two minutes, and no valid cookie" },
	{ "TCPAbortOnData", "connections reset because of data: closed with SO_LINGER 0, or data "
			    "arriving after their program shut down reading; not tcp_abort_on_overflow" },
	{ "EmbryonicRsts", "half-open requests dropped with a reset: an RST or bad SYN from the peer, "
			   "or tcp_abort_on_overflow 1 refusing a completion the full accept queue could not take" },
};
const size_t netstat_count = ARRAY_SIZE(counters_known);
_Static_assert(ARRAY_SIZE(counters_known) == NETSTAT_COUNTERS, "NETSTAT_COUNTERS out of date");

#define NETSTAT_MAX_BYTES (64 * 1024)

int netstat_parse(const char *text, struct netstat_counter *c, size_t n)
{
	const char *p = text;

	for (size_t i = 0; i < n && i < netstat_count; i++) {
		c[i].name = counters_known[i].name;
		c[i].meaning = counters_known[i].meaning;
		c[i].present = false;
		c[i].value = 0;
	}
	/* The file is pairs of lines: "TcpExt: Name Name ..." then
	 * "TcpExt: 1 2 ...". */
	while (*p) {
		const char *e1 = strchr(p, '\n');
		if (!e1)
			break;
		const char *l2 = e1 + 1, *e2 = strchr(l2, '\n');
		if (!e2)
			e2 = l2 + strlen(l2);
		if (strncmp(p, "TcpExt:", 7) == 0 && strncmp(l2, "TcpExt:", 7) == 0) {
			char *names = xstrndup(p + 7, (size_t)(e1 - p - 7));
			char *vals = xstrndup(l2 + 7, (size_t)(e2 - l2 - 7));
			char *s1 = NULL, *s2 = NULL;
			char *nm = strtok_r(names, " ", &s1), *vl = strtok_r(vals, " ", &s2);

			for (; nm && vl; nm = strtok_r(NULL, " ", &s1), vl = strtok_r(NULL, " ", &s2)) {
				int64_t v;
				for (size_t i = 0; i < n && i < netstat_count; i++) {
					if (strcmp(nm, c[i].name) == 0 && util_parse_i64(vl, &v) == 0 && v >= 0) {
						c[i].present = true;
						c[i].value = (uint64_t)v;
					}
				}
			}
			free(names);
			free(vals);
			return 0;
		}
		p = *e2 ? e2 + 1 : e2;
	}
	return -ENOENT;
}

int netstat_read(const struct qt_ctx *ctx, struct netstat_counter *counters)
{
	char *text = NULL;
	/* thread-self: the namespace this thread entered with --netns. */
	int r = util_read_file_at(ctx->proc_fd, "thread-self/net/netstat", 0,
				  NETSTAT_MAX_BYTES, &text, NULL);

	if (r < 0)
		return r;
	r = netstat_parse(text, counters, netstat_count);
	free(text);
	return r;
}
