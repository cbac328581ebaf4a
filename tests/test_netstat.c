/* netstat: parsing the text of /proc/net/netstat, from fixture strings.
 * Pure: runs as any user. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "netstat.h"

/* The shape the kernel prints: a names line and a values line per
 * section (values lines end in a space), TcpExt first, IpExt after. */
static const char kernel_text[] =
	"TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed EmbryonicRsts "
	"ListenOverflows ListenDrops TCPAbortOnData TCPReqQFullDoCookies TCPReqQFullDrop\n"
	"TcpExt: 3 2 1 9 17 19 5 4 6 \n"
	"IpExt: InNoRoutes InTruncatedPkts ListenOverflows\n"
	"IpExt: 0 0 999 \n";

static struct netstat_counter c[NETSTAT_COUNTERS];

static const struct netstat_counter *counter(const char *name)
{
	for (size_t i = 0; i < netstat_count; i++)
		if (c[i].name && strcmp(c[i].name, name) == 0)
			return &c[i];
	cr_assert_fail("no counter %s", name);
	return NULL;
}

static void assert_value(const char *name, uint64_t want)
{
	const struct netstat_counter *x = counter(name);

	cr_assert(x->present, "%s should be present", name);
	cr_assert_eq(x->value, want, "%s: %llu, want %llu", name,
		     (unsigned long long)x->value, (unsigned long long)want);
}

Test(netstat, every_counter_is_named_and_explained)
{
	cr_assert_eq(netstat_count, NETSTAT_COUNTERS);
	cr_assert_eq(netstat_parse("", c, netstat_count), -ENOENT);
	for (size_t i = 0; i < netstat_count; i++) {
		cr_assert(c[i].name && c[i].name[0]);
		cr_assert(c[i].meaning && c[i].meaning[0], "%s has no meaning", c[i].name);
		cr_assert_not(c[i].present);
	}
}

Test(netstat, tcpext_counters_from_the_kernel_layout)
{
	cr_assert_eq(netstat_parse(kernel_text, c, netstat_count), 0);
	assert_value("ListenOverflows", 17);
	assert_value("ListenDrops", 19);
	assert_value("TCPReqQFullDrop", 6);
	assert_value("TCPReqQFullDoCookies", 4);
	assert_value("SyncookiesSent", 3);
	assert_value("SyncookiesRecv", 2);
	assert_value("SyncookiesFailed", 1);
	assert_value("TCPAbortOnData", 5);
	assert_value("EmbryonicRsts", 9);
}

static const char *meaning(const char *name)
{
	netstat_parse("", c, netstat_count);
	return counter(name)->meaning;
}

/* The meanings as the kernel source has them (tests/e2e_counters.c
 * provokes each): the two that were wrong stay right. */
Test(netstat, meanings_follow_the_kernel_source)
{
	/* tcp_conn_request drops SYNs at a full accept queue too. */
	cr_assert(strstr(meaning("ListenOverflows"), "a SYN, or the segment completing a handshake"));
	/* __tcp_close with SO_LINGER 0, data after shutdown: not abort_on_overflow. */
	cr_assert(strstr(meaning("TCPAbortOnData"), "SO_LINGER 0"));
	cr_assert(strstr(meaning("TCPAbortOnData"), "not tcp_abort_on_overflow"));
	/* tcp_check_req's embryonic_reset is where abort_on_overflow resets go. */
	cr_assert(strstr(meaning("EmbryonicRsts"), "tcp_abort_on_overflow 1"));
	cr_assert(strstr(meaning("TCPReqQFullDoCookies"), "tcp_syncookies is 2"));
}

Test(netstat, a_name_in_another_section_is_not_a_tcpext_counter)
{
	static const char text[] =
		"IpExt: ListenOverflows\n"
		"IpExt: 999\n"
		"TcpExt: ListenDrops\n"
		"TcpExt: 8\n";

	cr_assert_eq(netstat_parse(text, c, netstat_count), 0);
	cr_assert_not(counter("ListenOverflows")->present);
	assert_value("ListenDrops", 8);
}

Test(netstat, counters_the_kernel_does_not_print_are_absent_not_zero)
{
	/* An older kernel: no TCPReqQFull* counters yet. */
	static const char text[] = "TcpExt: ListenOverflows ListenDrops\nTcpExt: 1 2\n";

	cr_assert_eq(netstat_parse(text, c, netstat_count), 0);
	assert_value("ListenOverflows", 1);
	cr_assert_not(counter("TCPReqQFullDrop")->present);
	cr_assert_eq(counter("TCPReqQFullDrop")->value, 0);
}

Test(netstat, garbage_and_negative_values_are_not_counted)
{
	static const char text[] =
		"TcpExt: ListenOverflows ListenDrops SyncookiesSent SyncookiesRecv\n"
		"TcpExt: 12x -3 4 7\n";

	cr_assert_eq(netstat_parse(text, c, netstat_count), 0);
	cr_assert_not(counter("ListenOverflows")->present);
	cr_assert_not(counter("ListenDrops")->present);
	assert_value("SyncookiesRecv", 7);
}

Test(netstat, fewer_values_than_names_pairs_only_what_is_there)
{
	static const char text[] = "TcpExt: ListenOverflows ListenDrops\nTcpExt: 5\n";

	cr_assert_eq(netstat_parse(text, c, netstat_count), 0);
	assert_value("ListenOverflows", 5);
	cr_assert_not(counter("ListenDrops")->present);
}

Test(netstat, last_line_without_newline_is_read)
{
	static const char text[] = "TcpExt: ListenDrops\nTcpExt: 42";

	cr_assert_eq(netstat_parse(text, c, netstat_count), 0);
	assert_value("ListenDrops", 42);
}

Test(netstat, no_tcpext_section_is_enoent)
{
	cr_assert_eq(netstat_parse("IpExt: InNoRoutes\nIpExt: 0\n", c, netstat_count), -ENOENT);
	/* A names line with no values line after it is no section either. */
	cr_assert_eq(netstat_parse("TcpExt: ListenDrops\n", c, netstat_count), -ENOENT);
	cr_assert_eq(netstat_parse("TcpExt: ListenDrops", c, netstat_count), -ENOENT);
	for (size_t i = 0; i < netstat_count; i++)
		cr_assert_not(c[i].present);
}

Test(netstat, a_shorter_array_is_filled_only_as_far_as_it_goes)
{
	struct netstat_counter two[3] = { [2] = { .name = "untouched", .value = 77 } };

	cr_assert_eq(netstat_parse(kernel_text, two, 2), 0);
	cr_assert(two[0].present && two[1].present);
	cr_assert_str_eq(two[2].name, "untouched");
	cr_assert_eq(two[2].value, 77);
}
