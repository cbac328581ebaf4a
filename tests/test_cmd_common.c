/* Tests for cmd_common's plan table: the columns fit their contents and
 * the headings say what the third column holds. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_common.h"

static char *buf;
static size_t len;

static void cleanup(void)
{
	free(buf);
	buf = NULL;
}

TestSuite(cmd_common, .fini = cleanup);

static const char *render(const struct plan *plan, enum plan_view view, bool color)
{
	struct qt_ctx ctx = { .color = color };

	ctx.out = open_memstream(&buf, &len);
	cr_assert(ctx.out);
	cmd_render_plan_text(&ctx, plan, view);
	fclose(ctx.out);
	return buf;
}

/* A rollback restores recorded values: no profile is involved, and a
 * multi-value key is wider than any heading. */
Test(cmd_common, rollback_table_heads_restore_and_fits_its_values)
{
	struct plan *plan = calloc(1, sizeof(*plan));

	plan_add(plan, "net/ipv4/ip_local_port_range", "16384 65535", "32768 60999");
	plan_add(plan, "net/core/somaxconn", "4096", "4096");
	cr_assert_str_eq(render(plan, PLAN_ROLLBACK, false),
			 "KEY                           RUNNING      RESTORE      STATUS\n"
			 "net.ipv4.ip_local_port_range  16384 65535  32768 60999  change\n"
			 "net.core.somaxconn            4096         4096         ok\n");
	plan_free(plan);
}

Test(cmd_common, check_says_drift_and_colours_end_with_reset)
{
	struct plan *plan = calloc(1, sizeof(*plan));

	plan_add(plan, "net/core/somaxconn", "128", "4096");
	plan_add(plan, "net/ipv4/tcp_syncookies", "1", "1");
	plan_add(plan, "net/ipv4/tcp_max_syn_backlog", "128", "8192");
	plan_add(plan, "net/ipv4/tcp_abort_on_overflow", "1", "0");
	plan_add(plan, "net/core/netdev_max_backlog", "1000", "1000");
	const char *t = render(plan, PLAN_CHECK, true);

	cr_assert(strstr(t, "\033[33mdrift\033[0m"), "%s", t);
	/* Every coloured row ends with the reset sequence. */
	size_t rows = 0;
	for (const char *l = strchr(t, '\n') + 1; *l; l = strchr(l, '\n') + 1, rows++) {
		const char *e = strchr(l, '\n');
		cr_assert(e - l > 4 && strncmp(e - 4, "\033[0m", 4) == 0, "row %zu: %.*s", rows,
			  (int)(e - l), l);
	}
	cr_assert_eq(rows, 5);
	plan_free(plan);
}
