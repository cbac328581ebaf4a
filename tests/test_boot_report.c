/* boot_report: the text lines and the JSON "boot" array rendered from
 * verdicts built in memory. Pure: writes to a memory stream, needs no root. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot_report.h"
#include "keys.h"

static struct sysctld_file etc = { .name = "90-qtune-web.conf",
				   .path = "/etc/sysctl.d/90-qtune-web.conf" };
static struct sysctld_file hidden = { .name = ".local.conf", .path = "/etc/sysctl.d/.local.conf" };
static struct profile_entry somax = {
	.key = "net/core/somaxconn", .want = { .kind = WANT_EXACT, .value = "4096" } };
static struct profile_entry backlog = {
	.key = "net/ipv4/tcp_max_syn_backlog", .want = { .kind = WANT_RANGE, .has_min = true, .min = 8192 } };

static char *buf;
static size_t len;
static FILE *mem;
static struct qt_ctx ctx;

static void setup(void)
{
	mem = open_memstream(&buf, &len);
	cr_assert_not_null(mem);
	ctx = (struct qt_ctx){ .out = mem, .procsys_fd = -1, .proc_fd = -1 };
}

static const char *output(void)
{
	cr_assert_eq(fclose(mem), 0);
	mem = NULL;
	return buf;
}

static void teardown(void)
{
	if (mem)
		fclose(mem);
	free(buf);
	buf = NULL;
}

TestSuite(boot_report, .init = setup, .fini = teardown);

/* One of each verdict: met, missed (and sysctl --system would leave
 * something else), not set at all. */
static void three_items(struct boot_item v[3])
{
	memset(v, 0, 3 * sizeof(*v));
	v[0].entry = &somax;
	v[0].status = BOOT_OK;
	v[0].res.by[SYSCTLD_SYSTEMD] = (struct sysctld_value){ .value = "4096", .file = &etc, .line = 4 };
	v[0].res.by[SYSCTLD_PROCPS] = v[0].res.by[SYSCTLD_SYSTEMD];
	v[1].entry = &backlog;
	v[1].status = BOOT_DIFFERS;
	v[1].res.by[SYSCTLD_SYSTEMD] = (struct sysctld_value){ .value = "512", .file = &etc, .line = 5 };
	v[1].res.by[SYSCTLD_PROCPS] = (struct sysctld_value){ .value = "128", .file = &hidden, .line = 1 };
	v[1].res.disagree = true;
	v[1].procps_differs = true;
	v[2].entry = &somax;
	v[2].status = BOOT_NOT_SET;
}

Test(boot_report, source_names_file_and_line_or_a_dash)
{
	struct sysctld_value set = { .value = "1", .file = &etc, .line = 7 }, none = { 0 };
	char src[600];

	boot_source(&set, src, sizeof(src));
	cr_assert_str_eq(src, "/etc/sysctl.d/90-qtune-web.conf:7");
	boot_source(&none, src, sizeof(src));
	cr_assert_str_eq(src, "-");
}

Test(boot_report, text_is_a_table_with_a_row_per_key_and_one_per_disagreement)
{
	struct boot_item v[3];

	three_items(v);
	boot_render_text(&ctx, v, 3);
	cr_assert_str_eq(output(),
		"\nnext boot (sysctl.d as systemd-sysctl applies it):\n"
		"KEY                           AT BOOT           PROFILE  STATUS   DECIDED BY\n"
		"net.core.somaxconn            4096              4096     ok       /etc/sysctl.d/90-qtune-web.conf:4\n"
		"net.ipv4.tcp_max_syn_backlog  512               >= 8192  differs  /etc/sysctl.d/90-qtune-web.conf:5\n"
		"                              128                                 sysctl --system: /etc/sysctl.d/.local.conf:1\n"
		"net.core.somaxconn            (kernel default)  4096     not-set  no sysctl.d file sets it\n"
		"not-set: the kernel default applies at boot; qtune apply --persist writes the profile's values to sysctl.d\n");
}

/* Issue 15, defect 12: four keys no file sets are four aligned rows and
 * one hint, not four unaligned lines each ending in the hint. */
Test(boot_report, four_unset_keys_are_aligned_and_the_hint_is_said_once)
{
	static struct profile_entry e[4] = {
		{ .key = "net/core/somaxconn", .want = { .kind = WANT_EXACT, .value = "4096" } },
		{ .key = "net/ipv4/tcp_max_syn_backlog", .want = { .kind = WANT_RANGE, .has_min = true, .min = 8192 } },
		{ .key = "net/ipv4/tcp_syncookies", .want = { .kind = WANT_EXACT, .value = "1" } },
		{ .key = "net/ipv4/tcp_abort_on_overflow", .want = { .kind = WANT_EXACT, .value = "0" } },
	};
	struct boot_item v[4];
	const char *p, *verdict = NULL;
	int rows = 0, hints = 0;

	memset(v, 0, sizeof(v));
	for (int i = 0; i < 4; i++) {
		v[i].entry = &e[i];
		v[i].status = BOOT_NOT_SET;
	}
	boot_render_text(&ctx, v, 4);
	const char *out = output();

	for (p = out; (p = strstr(p, "qtune apply --persist")); p++)
		hints++;
	cr_assert_eq(hints, 1, "%s", out);
	/* Every row's status starts in the header's STATUS column. */
	const char *header = strstr(out, "\nKEY ");
	cr_assert(header, "%s", out);
	header++;
	size_t col = (size_t)(strstr(header, "STATUS") - header);
	for (p = strchr(header, '\n') + 1; *p && strncmp(p, "not-set:", 8) != 0; p = strchr(p, '\n') + 1) {
		verdict = p + col;
		cr_assert(strncmp(verdict, "not-set  no sysctl.d file sets it\n", 34) == 0, "row %d: %s", rows, out);
		rows++;
	}
	cr_assert_eq(rows, 4, "%s", out);
}

Test(boot_report, json_names_both_tools_for_every_key)
{
	struct boot_item v[3];
	struct jw w;

	three_items(v);
	jw_init(&w, mem);
	jw_object_begin(&w);
	boot_render_json(&w, v, 3);
	jw_object_end(&w);
	const char *out = output();

	cr_assert(strstr(out, "\"key\":\"net.core.somaxconn\",\"status\":\"ok\","
			      "\"systemd\":{\"value\":\"4096\",\"file\":\"/etc/sysctl.d/90-qtune-web.conf\",\"line\":4,"
			      "\"excluded\":false,\"refused\":null}"),
		  "%s", out);
	cr_assert(strstr(out, "\"status\":\"differs\""), "%s", out);
	cr_assert(strstr(out, "\"procps\":{\"value\":\"128\",\"file\":\"/etc/sysctl.d/.local.conf\",\"line\":1,"
			      "\"excluded\":false,\"refused\":null},\"tools_disagree\":true"), "%s", out);
	cr_assert(strstr(out, "\"status\":\"not-set\",\"systemd\":{\"value\":null,\"file\":null,\"line\":0,"
			      "\"excluded\":false,\"refused\":null}"), "%s", out);
}

/* The line that decides is named when the kernel default stays: the
 * exclusion (not as if it set the default), or the value the kernel
 * refuses; and a refused write after the deciding one is said too. */
Test(boot_report, what_decides_is_said_when_the_default_stays)
{
	struct sysctld_entry excl = { .key = "net/core/somaxconn", .line = 2 };
	struct sysctld_entry bad = { .key = "net/core/somaxconn", .value = "abc", .line = 1 };
	struct sysctld_entry empty = { .key = "net/core/somaxconn", .value = "", .line = 3 };
	struct sysctld_value ex = { .file = &etc, .entry = &excl, .line = 2, .excluded = true };
	struct sysctld_value rf = { .file = &hidden, .entry = &bad, .line = 1, .refused = &bad,
				    .refused_file = &hidden };
	struct sysctld_value later = { .value = "1024", .file = &etc, .line = 4, .refused = &empty,
				       .refused_file = &hidden };
	char why[1400];

	boot_explain(&ex, why, sizeof(why));
	cr_assert_str_eq(why, "/etc/sysctl.d/90-qtune-web.conf:2 excludes it (-net.core.somaxconn)");
	boot_explain(&rf, why, sizeof(why));
	cr_assert_str_eq(why, "/etc/sysctl.d/.local.conf:1 sets a value the kernel refuses");
	boot_explain(&later, why, sizeof(why));
	cr_assert_str_eq(why, "/etc/sysctl.d/90-qtune-web.conf:4; later, /etc/sysctl.d/.local.conf:3 sets "
			      "an empty value, which the kernel refuses");
}

/* show --boot: columns hold whatever the widest cell is, and a host-wide
 * key outside the initial namespace is said to be the host's. */
Test(boot_report, table_keeps_its_columns_and_names_host_wide_keys)
{
	struct boot_row rows[2] = {
		{ .key = "net/ipv4/tcp_max_syn_backlog" },
		{ .key = "net/core/netdev_max_backlog", .foreign = true },
	};
	const char *long_value = "an unknown key's value, as written";

	rows[0].res.by[SYSCTLD_SYSTEMD] = (struct sysctld_value){ .value = long_value, .file = &etc, .line = 5 };
	rows[0].res.by[SYSCTLD_PROCPS] = rows[0].res.by[SYSCTLD_SYSTEMD];
	boot_render_table(mem, rows, 2);
	cr_assert_str_eq(output(),
		"KEY                             AT BOOT                             SET BY (systemd-sysctl)\n"
		"net.ipv4.tcp_max_syn_backlog    an unknown key's value, as written  /etc/sysctl.d/90-qtune-web.conf:5\n"
		"net.core.netdev_max_backlog     (host-wide)                         not this namespace's: host-wide, the host's boot sets it\n");
}
