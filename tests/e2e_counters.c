/* e2e_counters: the kernel experiments behind every TcpExt counter `show`
 * explains and behind the queue-full threshold. Each test provokes one
 * listen-queue event in a private network namespace (real sockets, and raw
 * SYNs from 10.9.0.2, an address whose replies leave through a veth whose
 * peer is down, so they go nowhere) and asserts which counters moved, by
 * how much, and that every other counter of the table did not. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctx.h"
#include "netstat.h"
#include "sandbox.h"

#define SINK_LOCAL "10.9.0.1"   /* ours: listeners bind it */
#define SINK_PEER  "10.9.0.2"   /* nobody's: what is sent to it is lost */

TestSuite(e2e_counters, .init = sandbox_enter, .fini = sandbox_leave);

struct snap {
	uint64_t v[NETSTAT_COUNTERS];
};

static void snap(struct snap *s)
{
	struct netstat_counter c[NETSTAT_COUNTERS];
	struct qt_ctx ctx;

	sandbox_ctx(&ctx);
	cr_assert_eq(netstat_read(&ctx, c), 0);
	for (size_t i = 0; i < netstat_count; i++) {
		cr_assert(c[i].present, "the kernel prints no %s", c[i].name);
		s->v[i] = c[i].value;
	}
	close(ctx.procsys_fd);
	close(ctx.proc_fd);
}

static size_t index_of(const char *name)
{
	struct netstat_counter c[NETSTAT_COUNTERS];

	netstat_parse("", c, netstat_count);
	for (size_t i = 0; i < netstat_count; i++)
		if (strcmp(c[i].name, name) == 0)
			return i;
	cr_assert_fail("%s is not a counter show explains", name);
	return 0;
}

static uint64_t moved(const struct snap *a, const struct snap *b, const char *name)
{
	size_t i = index_of(name);

	return b->v[i] - a->v[i];
}

/* What one experiment expects: these counters moved by [min, max]; every
 * other counter of the table did not move at all. */
struct expect {
	const char *name;
	uint64_t min, max;
};

static void assert_moves(const struct snap *a, const struct snap *b,
			 const struct expect *e, size_t n)
{
	struct netstat_counter c[NETSTAT_COUNTERS];

	/* A counter an experiment moves is one show explains. */
	for (size_t k = 0; k < n; k++)
		index_of(e[k].name);
	netstat_parse("", c, netstat_count);
	for (size_t i = 0; i < netstat_count; i++) {
		uint64_t d = b->v[i] - a->v[i], lo = 0, hi = 0;

		for (size_t k = 0; k < n; k++)
			if (strcmp(e[k].name, c[i].name) == 0) {
				lo = e[k].min;
				hi = e[k].max;
			}
		cr_assert(d >= lo && d <= hi, "%s moved by %llu, expected %llu..%llu", c[i].name,
			  (unsigned long long)d, (unsigned long long)lo, (unsigned long long)hi);
	}
}

/* Counters settle once the softirq has run: read until two reads 30 ms
 * apart agree. */
static void settle(struct snap *s)
{
	struct snap t;

	snap(s);
	for (int i = 0; i < 50; i++) {
		usleep(30 * 1000);
		snap(&t);
		if (memcmp(&t, s, sizeof(t)) == 0)
			return;
		*s = t;
	}
}

/* 10.9.0.1 on a veth whose peer is down, 10.9.0.2 a fixed neighbour on
 * it: routes to the peer exist (the kernel answers SYNs), packets to it
 * are dropped. */
static void sink_setup(void)
{
	int rc = system("ip link add qv0 type veth peer name qv1 && ip link set qv0 up && "
			"ip addr add " SINK_LOCAL "/24 dev qv0 && "
			"ip neigh add " SINK_PEER " lladdr 02:00:00:00:00:02 dev qv0 nud permanent");

	cr_assert_eq(rc, 0, "ip link/addr/neigh failed");
}

static uint16_t csum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		sum += (uint32_t)(p[0] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* One TCP segment from SINK_PEER:sport to SINK_LOCAL:dport, as a peer
 * that exists nowhere would send it. */
static void raw_send(uint8_t flags, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack)
{
	struct {
		struct iphdr ip;
		struct tcphdr tcp;
		uint8_t mss[4];
	} __attribute__((packed)) pkt = { 0 };
	struct {
		uint32_t src, dst;
		uint8_t zero, proto;
		uint16_t len;
		struct tcphdr tcp;
		uint8_t mss[4];
	} __attribute__((packed)) pseudo = { 0 };
	struct sockaddr_in to = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);

	cr_assert(fd >= 0, "raw socket: %s", strerror(errno));
	inet_pton(AF_INET, SINK_LOCAL, &to.sin_addr);
	pkt.ip.version = 4;
	pkt.ip.ihl = 5;
	pkt.ip.ttl = 64;
	pkt.ip.protocol = IPPROTO_TCP;
	pkt.ip.tot_len = htons(sizeof(pkt));
	inet_pton(AF_INET, SINK_PEER, &pkt.ip.saddr);
	pkt.ip.daddr = to.sin_addr.s_addr;
	pkt.tcp.source = htons(sport);
	pkt.tcp.dest = htons(dport);
	pkt.tcp.seq = htonl(seq);
	pkt.tcp.ack_seq = htonl(ack);
	pkt.tcp.doff = (sizeof(pkt.tcp) + sizeof(pkt.mss)) / 4;
	pkt.tcp.syn = !!(flags & TH_SYN);
	pkt.tcp.ack = !!(flags & TH_ACK);
	pkt.tcp.rst = !!(flags & TH_RST);
	pkt.tcp.window = htons(65535);
	memcpy(pkt.mss, (uint8_t[]){ 2, 4, 0x05, 0xb4 }, 4);   /* MSS 1460 */
	pseudo.src = pkt.ip.saddr;
	pseudo.dst = pkt.ip.daddr;
	pseudo.proto = IPPROTO_TCP;
	pseudo.len = htons(sizeof(pkt.tcp) + sizeof(pkt.mss));
	pseudo.tcp = pkt.tcp;
	memcpy(pseudo.mss, pkt.mss, 4);
	pkt.tcp.check = htons(csum(&pseudo, sizeof(pseudo), 0));
	cr_assert_eq(sendto(fd, &pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)),
		     (ssize_t)sizeof(pkt), "sendto: %s", strerror(errno));
	close(fd);
}

/* n SYNs from distinct ports of the peer: n half-open requests asked for. */
static void syn_flood(uint16_t port, int n)
{
	for (int i = 0; i < n; i++)
		raw_send(TH_SYN, (uint16_t)(40000 + i), port, 1000u * (uint32_t)(i + 1), 0);
}

static int connect_nb(const char *addr, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0);
	inet_pton(AF_INET, addr, &sa.sin_addr);
	int r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	cr_assert(r == 0 || errno == EINPROGRESS, "connect: %s", strerror(errno));
	return fd;
}

/* Whether the handshake of fd completed within ms. */
static bool established_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int err = -1;
	socklen_t len = sizeof(err);

	if (poll(&p, 1, ms) != 1 || !(p.revents & POLLOUT))
		return false;
	cr_assert_eq(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	return err == 0;
}

/* The JSON of listener port (up to the next listener) from `qtune --json
 * listeners`, into buf. */
static void listener_json(uint16_t port, char *buf, size_t size)
{
	char *out, needle[32];

	cr_assert_eq(sandbox_qtune(&out, NULL, (const char *[]){ "--json", "listeners", NULL }), 0);
	snprintf(needle, sizeof(needle), "\"port\":%u,", port);
	const char *l = strstr(out, needle);
	cr_assert(l, "no listener on %u: %s", port, out);
	const char *end = strstr(l + 1, "\"port\":");
	size_t n = end ? (size_t)(end - l) : strlen(l);
	snprintf(buf, size, "%.*s", (int)(n < size ? n : size - 1), l);
	free(out);
}

/* Defect 8's kernel truth: backlog 4 admits 5 completed connections with
 * no overflow; the 6th SYN is dropped (ListenOverflows, ListenDrops) and its
 * handshake never completes. qtune says "one slot left" (info) at 4 and
 * "full" (warning) at 5. */
Test(e2e_counters, accept_queue_admits_backlog_plus_one)
{
	struct snap a, b;
	char l[4096];
	uint16_t port;
	int c[6];

	cr_assert(sandbox_listen("127.0.0.1", 0, 4, &port) >= 0);
	snap(&a);
	for (int i = 0; i < 4; i++) {
		c[i] = connect_nb("127.0.0.1", port);
		cr_assert(established_within(c[i], 1000), "connection %d", i + 1);
	}
	listener_json(port, l, sizeof(l));
	cr_assert(strstr(l, "\"queued\":4"), "%s", l);
	cr_assert(strstr(l, "\"kind\":\"queue-full\",\"level\":\"info\""), "%s", l);
	cr_assert(strstr(l, "one slot left"), "%s", l);
	c[4] = connect_nb("127.0.0.1", port);
	cr_assert(established_within(c[4], 1000), "the 5th connection completes");
	settle(&b);
	assert_moves(&a, &b, NULL, 0);
	listener_json(port, l, sizeof(l));
	cr_assert(strstr(l, "\"queued\":5"), "%s", l);
	cr_assert(strstr(l, "\"kind\":\"queue-full\",\"level\":\"warning\""), "%s", l);
	cr_assert(strstr(l, "it is full"), "%s", l);

	c[5] = connect_nb("127.0.0.1", port);
	cr_assert_not(established_within(c[5], 300), "the 6th handshake must not complete");
	settle(&b);
	/* Its SYN (and any retransmission) is dropped by tcp_conn_request(). */
	assert_moves(&a, &b, (const struct expect[]){ { "ListenOverflows", 1, 3 },
						       { "ListenDrops", 1, 3 } }, 2);
	cr_assert_eq(moved(&a, &b, "ListenDrops"), moved(&a, &b, "ListenOverflows"));
	for (int i = 0; i < 6; i++)
		close(c[i]);
}

/* tcp_syncookies 0, SYN queue full (inet_csk_reqsk_queue_is_full, qlen >
 * backlog on current kernels): the SYN is dropped by tcp_conn_request(),
 * counted by tcp_syn_flood_action() as TCPReqQFullDrop and by
 * tcp_listendrop() as ListenDrops. The accept queue is empty: no
 * ListenOverflows. */
Test(e2e_counters, syn_queue_full_without_cookies_is_req_q_full_drop)
{
	struct snap a, b;
	uint16_t port;

	sink_setup();
	sandbox_sysctl_set("net/ipv4/tcp_syncookies", "0");
	cr_assert(sandbox_listen(SINK_LOCAL, 0, 4, &port) >= 0);
	snap(&a);
	syn_flood(port, 12);
	settle(&b);
	/* 5 requests queued (4 on kernels before the 2025 change), the rest dropped. */
	assert_moves(&a, &b, (const struct expect[]){ { "TCPReqQFullDrop", 7, 8 },
						       { "ListenDrops", 7, 8 } }, 2);
	cr_assert_eq(moved(&a, &b, "ListenDrops"), moved(&a, &b, "TCPReqQFullDrop"));
}

/* tcp_syncookies 1 (the default), SYN queue full: answered with a cookie,
 * counted by tcp_syn_flood_action() (TCPReqQFullDoCookies) and
 * cookie_init_sequence() (SyncookiesSent); nothing is dropped. */
Test(e2e_counters, syn_queue_full_with_cookies_sends_cookies)
{
	struct snap a, b;
	uint16_t port;

	sink_setup();
	cr_assert_eq(sandbox_sysctl_get("net/ipv4/tcp_syncookies"), 1);
	cr_assert(sandbox_listen(SINK_LOCAL, 0, 4, &port) >= 0);
	snap(&a);
	syn_flood(port, 12);
	settle(&b);
	assert_moves(&a, &b, (const struct expect[]){ { "TCPReqQFullDoCookies", 7, 8 },
						       { "SyncookiesSent", 7, 8 } }, 2);
	cr_assert_eq(moved(&a, &b, "SyncookiesSent"), moved(&a, &b, "TCPReqQFullDoCookies"));
}

/* tcp_syncookies 0 and tcp_max_syn_backlog M = 8 with a roomy backlog: a
 * SYN from a peer not proven alive is dropped once fewer than M/4 slots of
 * M remain (tcp_conn_request's "last quarter" rule). That is ListenDrops
 * alone: no specific counter, not TCPReqQFullDrop. */
Test(e2e_counters, max_syn_backlog_drops_are_listen_drops_only)
{
	struct snap a, b;
	uint16_t port;

	sink_setup();
	sandbox_sysctl_set("net/ipv4/tcp_syncookies", "0");
	sandbox_sysctl_set("net/ipv4/tcp_max_syn_backlog", "8");
	cr_assert(sandbox_listen(SINK_LOCAL, 0, 100, &port) >= 0);
	snap(&a);
	syn_flood(port, 12);
	settle(&b);
	/* min(B, M - M/4) + 1 = 7 requests queued, 5 dropped. */
	assert_moves(&a, &b, (const struct expect[]){ { "ListenDrops", 5, 5 } }, 1);
}

/* tcp_syncookies 2: every SYN is answered with a cookie, queue full or not
 * (tcp_conn_request calls tcp_syn_flood_action for each); the client's ACK
 * carries a valid cookie (cookie_v4_check: SyncookiesRecv) and becomes a
 * connection. Then an ACK that is no cookie reaches the listener, which
 * sent cookies in the last two minutes: SyncookiesFailed. */
Test(e2e_counters, cookies_always_then_a_valid_and_an_invalid_cookie)
{
	struct snap a, b, c;
	uint16_t port;

	sink_setup();
	sandbox_sysctl_set("net/ipv4/tcp_syncookies", "2");
	int lfd = sandbox_listen(SINK_LOCAL, 0, 16, &port);
	snap(&a);
	int fd = connect_nb(SINK_LOCAL, port);
	cr_assert(established_within(fd, 1000));
	int acc = accept(lfd, NULL, NULL);
	cr_assert(acc >= 0, "the cookie became a connection: %s", strerror(errno));
	settle(&b);
	assert_moves(&a, &b, (const struct expect[]){ { "TCPReqQFullDoCookies", 1, 1 },
						       { "SyncookiesSent", 1, 1 },
						       { "SyncookiesRecv", 1, 1 } }, 3);
	raw_send(TH_ACK, 45000, port, 777, 12345);
	settle(&c);
	assert_moves(&b, &c, (const struct expect[]){ { "SyncookiesFailed", 1, 1 } }, 1);
	close(acc);
	close(fd);
}

/* A half-open request reset by its peer (an RST in window): tcp_check_req
 * drops it and counts EmbryonicRsts. */
Test(e2e_counters, reset_half_open_request_is_embryonic_rsts)
{
	struct snap a, b;
	uint16_t port;

	sink_setup();
	cr_assert(sandbox_listen(SINK_LOCAL, 0, 16, &port) >= 0);
	raw_send(TH_SYN, 41000, port, 5000, 0);
	settle(&a);
	raw_send(TH_RST, 41000, port, 5001, 0);
	settle(&b);
	assert_moves(&a, &b, (const struct expect[]){ { "EmbryonicRsts", 1, 1 } }, 1);
}

/* Three handshakes held as requests by TCP_DEFER_ACCEPT (their bare ACKs
 * are dropped), the backlog then lowered to 1, and each client sends data:
 * the first two become connections (backlog + 1), the third completes
 * while the accept queue is full. tcp_v4_syn_recv_sock counts it as
 * ListenOverflows (and ListenDrops) — an overflow at the completing
 * segment, not a SYN. Returns the third client; abort says what
 * tcp_abort_on_overflow is. */
static int overflow_at_completion(const char *abort, struct snap *a, struct snap *b)
{
	uint16_t port;
	int lfd, c[3], secs = 30;

	sandbox_sysctl_set("net/ipv4/tcp_abort_on_overflow", abort);
	lfd = sandbox_listen("127.0.0.1", 0, 8, &port);
	cr_assert_eq(setsockopt(lfd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof(secs)), 0);
	for (int i = 0; i < 3; i++) {
		c[i] = connect_nb("127.0.0.1", port);
		cr_assert(established_within(c[i], 1000), "client %d", i + 1);
	}
	cr_assert_eq(listen(lfd, 1), 0);
	settle(a);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(send(c[i], "x", 1, 0), 1);
		usleep(20 * 1000);
	}
	usleep(100 * 1000);
	snap(b);
	close(c[0]);
	close(c[1]);
	return c[2];
}

/* tcp_abort_on_overflow 1: tcp_check_req answers the overflowing completion
 * with a reset and counts it as EmbryonicRsts. TCPAbortOnData does not move:
 * it is no counter of abort_on_overflow. */
Test(e2e_counters, abort_on_overflow_resets_are_embryonic_rsts_not_abort_on_data)
{
	struct snap a, b;
	struct pollfd p;
	char x;

	int fd = overflow_at_completion("1", &a, &b);
	assert_moves(&a, &b, (const struct expect[]){ { "ListenOverflows", 1, 1 },
						       { "ListenDrops", 1, 1 },
						       { "EmbryonicRsts", 1, 1 } }, 3);
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 1000), 1);
	cr_assert_eq(recv(fd, &x, 1, 0), -1);
	cr_assert_eq(errno, ECONNRESET, "the client was reset: %s", strerror(errno));
	close(fd);
}

/* tcp_abort_on_overflow 0: the completing segment is dropped and the
 * request kept for a retry; no reset, so no EmbryonicRsts. */
Test(e2e_counters, overflow_without_abort_drops_the_completion_quietly)
{
	struct snap a, b;
	struct pollfd p;

	int fd = overflow_at_completion("0", &a, &b);
	assert_moves(&a, &b, (const struct expect[]){ { "ListenOverflows", 1, 2 },
						       { "ListenDrops", 1, 2 } }, 2);
	cr_assert_eq(moved(&a, &b, "ListenDrops"), moved(&a, &b, "ListenOverflows"));
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 100), 0, "no reset reached the client");
	close(fd);
}

/* A connected pair on loopback: *client, *server. */
static void pair(int *client, int *server)
{
	static int lfd = -1;
	static uint16_t port;

	if (lfd < 0)
		lfd = sandbox_listen("127.0.0.1", 0, 16, &port);
	*client = connect_nb("127.0.0.1", port);
	cr_assert(established_within(*client, 1000));
	*server = accept(lfd, NULL, NULL);
	cr_assert(*server >= 0);
}

/* TCPAbortOnData counts connections aborted because of data: closed by
 * their program with SO_LINGER 0 (__tcp_close), or receiving data after
 * their program shut down reading (tcp_rcv_state_process, FIN-WAIT and
 * CLOSE-WAIT states). A close() with unread data is TCPAbortOnClose, not
 * this counter. */
Test(e2e_counters, abort_on_data_is_zero_linger_closes_and_data_after_shutdown)
{
	struct snap a, b;
	struct linger zero = { .l_onoff = 1, .l_linger = 0 };
	int c, s;
	char buf[8];

	pair(&c, &s);
	settle(&a);
	cr_assert_eq(setsockopt(c, SOL_SOCKET, SO_LINGER, &zero, sizeof(zero)), 0);
	close(c);
	settle(&b);
	assert_moves(&a, &b, (const struct expect[]){ { "TCPAbortOnData", 1, 1 } }, 1);
	close(s);

	pair(&c, &s);
	cr_assert_eq(shutdown(c, SHUT_RDWR), 0);
	cr_assert_eq(recv(s, buf, sizeof(buf), 0), 0, "the server saw the FIN");
	settle(&a);
	cr_assert_eq(send(s, "late", 4, 0), 4);
	settle(&b);
	assert_moves(&a, &b, (const struct expect[]){ { "TCPAbortOnData", 1, 1 } }, 1);
	close(c);
	close(s);

	pair(&c, &s);
	cr_assert_eq(send(s, "unread", 6, 0), 6);
	usleep(50 * 1000);
	settle(&a);
	close(c);
	settle(&b);
	assert_moves(&a, &b, NULL, 0);
	close(s);
}

/* What show prints for them: every counter with the meaning from the
 * kernel source, EmbryonicRsts among them. */
Test(e2e_counters, show_explains_every_counter)
{
	char *out;

	cr_assert_eq(sandbox_qtune(&out, NULL, (const char *[]){ "show", NULL }), 0);
	cr_assert(strstr(out, "EmbryonicRsts"), "%s", out);
	cr_assert(strstr(out, "tcp_abort_on_overflow"), "%s", out);
	cr_assert(strstr(out, "SO_LINGER"), "%s", out);
	free(out);
}
