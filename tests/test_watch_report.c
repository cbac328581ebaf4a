/* Tests for watch_report's frame: pure, no root, no sockets. The bar
 * itself is tested with watch's state in test_watch.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "fake_listeners.h"
#include "watch.h"
#include "watch_report.h"

static struct listener_set set;
static struct watch_state w;
static char *text;

static void cleanup(void)
{
	watch_state_free(&w);
	listener_set_free(&set);
	free(text);
}

TestSuite(watch_report, .fini = cleanup);

static void render(void)
{
	struct qt_ctx ctx = { 0 };
	size_t len;
	FILE *f = open_memstream(&text, &len);

	cr_assert(f);
	watch_render_text(&ctx, f, &w);
	cr_assert_eq(fclose(f), 0);
}

/* Line n (0: the sample line) of text, in a static buffer. */
static const char *line(int n)
{
	static char buf[512];
	const char *p = text;

	for (int i = 0; i < n && p; i++)
		p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL;
	cr_assert(p && *p, "no line %d in:\n%s", n, text);
	size_t k = strcspn(p, "\n");
	cr_assert_lt(k, sizeof(buf));
	memcpy(buf, p, k);
	buf[k] = '\0';
	return buf;
}

/* Where the column whose heading is head ends on the heading line, and
 * where cell ends on line n: right-aligned columns end together. */
static size_t end_of(const char *l, const char *cell)
{
	const char *at = strstr(l, cell);

	cr_assert(at, "no %s in: %s", cell, l);
	return (size_t)(at - l) + strlen(cell);
}

/* Columns are as wide as this sample's widest cell: with the largest
 * values a listener can show (a backlog at INT_MAX, 65535 half-open, a
 * flood's rate) every row lines up under its heading. */
Test(watch_report, columns_are_sized_from_the_sample)
{
	size_t small = fake_listener(&set, "127.0.0.1", 80, 128, 0);
	size_t big = fake_listener(&set, "127.0.0.1", 443, 65535, 65535);
	size_t huge = fake_listener(&set, "127.0.0.1", 8443, 2147483647, 4000000);
	set.v[big].syn_recv = 65535;
	set.v[huge].syn_recv = 123456;
	set.dumped_ns = 1000000000u;
	watch_update(&w, &set, NULL);
	w.rows[big].peak_syn_recv = 65535;
	w.rows[huge].peak_queued = 2147483647;
	w.rows[huge].drops_rate = 123456789.5;
	render();

	const char *head = line(1);
	size_t q = end_of(head, "now/backlog"), peak = end_of(head, "peak"),
	       half = end_of(head, "half-open"), rate = end_of(head, "drops/s");
	size_t owner = strlen(head) - strlen("Owner");
	char h[512];
	snprintf(h, sizeof(h), "%s", head);

	cr_assert_eq(end_of(line(2 + small), "0/128"), q, "%s\n%s", h, line(2 + small));
	cr_assert_eq(end_of(line(2 + big), "65535/65535"), q, "%s\n%s", h, line(2 + big));
	cr_assert_eq(end_of(line(2 + huge), "4000000/2147483647"), q, "%s\n%s", h, line(2 + huge));
	cr_assert_eq(end_of(line(2 + huge), "  2147483647  ") - 2, peak, "%s\n%s", h, line(2 + huge));
	cr_assert_eq(end_of(line(2 + big), "  65535  ") - 2, peak, "%s\n%s", h, line(2 + big));
	cr_assert_eq(end_of(line(2 + big), "65535 (65535)"), half, "%s\n%s", h, line(2 + big));
	cr_assert_eq(end_of(line(2 + huge), "123456789.5"), rate, "%s\n%s", h, line(2 + huge));
	for (size_t i = 0; i < set.n; i++)
		cr_assert_eq(strlen(line(2 + (int)i)) - strlen("owner unknown"), owner,
			     "the owner column starts under its heading:\n%s\n%s", h, line(2 + (int)i));
}
