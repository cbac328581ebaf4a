/* Tests for watch (the state behind `qtune watch`) and watch_report's bar:
 * pure, no root, no sockets. */
#include <criterion/criterion.h>
#include <string.h>

#include "fake_listeners.h"
#include "watch.h"
#include "watch_report.h"

static struct listener_set set;
static struct watch_state w;

static void cleanup(void)
{
	watch_state_free(&w);
	listener_set_free(&set);
}

TestSuite(watch, .fini = cleanup);

static void sample(uint64_t t_ms, const uint64_t *tcpext)
{
	set.dumped_ns = t_ms * 1000000u;
	watch_update(&w, &set, tcpext);
}

Test(watch, peaks_rates_and_window_totals_per_socket)
{
	size_t a = fake_listener(&set, "127.0.0.1", 80, 8, 2);
	size_t b = fake_listener(&set, "127.0.0.1", 81, 128, 0);
	uint64_t c1[WATCH_TCPEXT] = { 10, 10, 0 }, c2[WATCH_TCPEXT] = { 30, 40, 0 };

	set.v[a].drops = 5;
	sample(1000, c1);
	cr_assert_eq(w.samples, 1);
	cr_assert_eq(w.n, 2);
	cr_assert_float_eq(w.rows[a].drops_rate, 0, 1e-9, "no rate from one sample");
	cr_assert_not(w.rows[a].owners_looked_up, "a new row waits for its owners");

	set.v[a].queued = 9;          /* over its backlog */
	set.v[a].drops = 25;
	set.v[b].syn_recv = 4;
	sample(3000, c2);
	cr_assert_float_eq(w.interval, 2.0, 1e-9);
	cr_assert_float_eq(w.rows[a].drops_rate, 10.0, 1e-9);
	cr_assert_eq(w.rows[a].window_drops, 20, "drops before watch started are not the window's");
	cr_assert_eq(w.rows[a].peak_queued, 9);
	cr_assert(w.rows[a].filled);
	cr_assert_eq(w.rows[b].peak_syn_recv, 4);
	cr_assert_float_eq(w.tcpext_rate[WATCH_LISTEN_DROPS], 15.0, 1e-9);
	cr_assert_float_eq(w.tcpext_rate[WATCH_LISTEN_OVERFLOWS], 10.0, 1e-9);

	set.v[a].queued = 0;
	sample(4000, c2);
	cr_assert_eq(w.rows[a].peak_queued, 9, "the peak stays");
	cr_assert_float_eq(w.rows[a].drops_rate, 0, 1e-9);
	w.somaxconn = 4096;
	cr_assert(strstr(watch_advice(&w, &w.rows[a]), "raise the backlog"), "%s", watch_advice(&w, &w.rows[a]));
	cr_assert_null(watch_advice(&w, &w.rows[b]), "no drops, no advice");
}

Test(watch, a_socket_that_goes_and_one_that_comes)
{
	fake_listener(&set, "127.0.0.1", 80, 8, 0);
	fake_listener(&set, "127.0.0.1", 81, 8, 0);
	sample(1000, NULL);
	cr_assert_not(w.have_tcpext);
	w.rows[0].owners_looked_up = w.rows[1].owners_looked_up = true;
	/* Port 80's socket is closed and another takes its place: a new row,
	 * whose owners are looked up again; port 81 keeps its row. */
	set.v[0].inode = 9999;
	set.v[0].drops = 3;
	sample(2000, NULL);
	cr_assert_eq(w.n, 2);
	cr_assert_not(w.rows[0].owners_looked_up);
	cr_assert_eq(w.rows[0].window_drops, 0);
	cr_assert(w.rows[1].owners_looked_up);
}

Test(watch, bar_against_the_backlog)
{
	char bar[WATCH_BAR_WIDTH + 3];

	watch_format_bar(0, 128, bar, sizeof(bar));
	cr_assert_str_eq(bar, "[....................]");
	watch_format_bar(1, 128, bar, sizeof(bar));
	cr_assert_str_eq(bar, "[#...................]", "a queue that holds anything shows");
	watch_format_bar(64, 128, bar, sizeof(bar));
	cr_assert_str_eq(bar, "[##########..........]");
	watch_format_bar(128, 128, bar, sizeof(bar));
	cr_assert_str_eq(bar, "[###################.]", "at its backlog one slot is left");
	watch_format_bar(0, 0, bar, sizeof(bar));
	cr_assert_str_eq(bar, "[....................]");
	watch_format_bar(129, 128, bar, sizeof(bar));
	cr_assert_str_eq(bar, "[####################]");
	watch_format_bar(1, 0, bar, sizeof(bar));
	cr_assert_str_eq(bar, "[####################]", "backlog 0 is full with one");
}
