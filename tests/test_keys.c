/* keys: the key gate, value checks and value comparison. Pure. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "keys.h"

static int canon(const char *text, char *out)
{
	return key_canonicalize(text, out, KEY_PATH_MAX, NULL);
}

Test(keys, dotted_and_slashed_forms_meet)
{
	char a[KEY_PATH_MAX], b[KEY_PATH_MAX];

	cr_assert_eq(canon("net.core.somaxconn", a), 0);
	cr_assert_eq(canon("net/core/somaxconn", b), 0);
	cr_assert_str_eq(a, "net/core/somaxconn");
	cr_assert_str_eq(a, b);
}

Test(keys, slashed_form_keeps_dots_in_names)
{
	char p[KEY_PATH_MAX], shown[KEY_PATH_MAX];

	cr_assert_eq(canon("net/ipv4/conf/eth0.100/rp_filter", p), 0);
	cr_assert_str_eq(p, "net/ipv4/conf/eth0.100/rp_filter");
	cr_assert_eq(canon("net.ipv4.conf.eth0/100.rp_filter", p), 0);
	cr_assert_str_eq(p, "net/ipv4/conf/eth0.100/rp_filter", "dotted form: '/' is a dot in a name");
	key_display(p, shown, sizeof(shown));
	cr_assert_str_eq(shown, "net/ipv4/conf/eth0.100/rp_filter");
	key_display("net/core/somaxconn", shown, sizeof(shown));
	cr_assert_str_eq(shown, "net.core.somaxconn");
}

Test(keys, traversal_and_junk_are_refused)
{
	static const char *const bad[] = {
		"", "/etc/passwd", "net/../../etc/passwd", "net..core", "net.core.",
		".net.core", "net/core//somaxconn", "net/./core", "net core", "net.core.s*",
		"net\ncore", "../kernel", "net/core/somaxconn\\",
	};
	char p[KEY_PATH_MAX];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;
		cr_expect_lt(key_canonicalize(bad[i], p, sizeof(p), &why), 0, "accepted '%s'", bad[i]);
		cr_expect_not_null(why, "no reason for '%s'", bad[i]);
	}
	char longkey[KEY_PATH_MAX + 10];
	memset(longkey, 'a', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	cr_assert_eq(key_canonicalize(longkey, p, sizeof(p), NULL), -ENAMETOOLONG);
}

Test(keys, table_knows_the_listen_queue_keys)
{
	static const char *const must[] = {
		"net/core/somaxconn", "net/ipv4/tcp_max_syn_backlog", "net/ipv4/tcp_syncookies",
		"net/ipv4/tcp_abort_on_overflow", "net/ipv4/tcp_synack_retries",
		"net/core/netdev_max_backlog", "net/ipv4/ip_local_port_range",
	};
	for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++)
		cr_expect_not_null(key_lookup(must[i]), "%s missing", must[i]);
	cr_assert_null(key_lookup("net/core/nonexistent"));
}

Test(keys, scope_of_keys)
{
	cr_assert(key_is_per_netns("net/core/somaxconn"));
	cr_assert(key_is_per_netns("net/ipv4/tcp_rmem"));
	cr_assert_not(key_is_per_netns("net/core/netdev_max_backlog"));
	cr_assert_not(key_is_per_netns("kernel/msgmax"));
	cr_assert_not(key_is_per_netns("vm/swappiness"));
}

Test(keys, values_checked_against_the_table)
{
	char c[KEY_VALUE_MAX];
	const char *why;
	const struct key_info *cookies = key_lookup("net/ipv4/tcp_syncookies");
	const struct key_info *range = key_lookup("net/ipv4/ip_local_port_range");
	const struct key_info *somax = key_lookup("net/core/somaxconn");

	cr_assert_eq(key_check_value(cookies, "2", c, sizeof(c), &why), 0);
	cr_assert_eq(key_check_value(cookies, "3", c, sizeof(c), &why), -ERANGE);
	cr_assert_eq(key_check_value(somax, "0x10", c, sizeof(c), &why), -EINVAL);
	cr_assert_eq(key_check_value(somax, "-1", c, sizeof(c), &why), -ERANGE);
	cr_assert_eq(key_check_value(somax, "2147483648", c, sizeof(c), &why), -ERANGE);
	cr_assert_eq(key_check_value(somax, "99999999999999999999999", c, sizeof(c), &why), -ERANGE);
	cr_assert_eq(key_check_value(somax, "0100", c, sizeof(c), &why), 0);
	cr_assert_str_eq(c, "100");
	cr_assert_eq(key_check_value(range, "1024\t 65000 ", c, sizeof(c), &why), 0);
	cr_assert_str_eq(c, "1024 65000");
	cr_assert_eq(key_check_value(range, "40000 1024", c, sizeof(c), &why), -EINVAL);
	cr_assert_eq(key_check_value(range, "1024", c, sizeof(c), &why), -EINVAL);
	cr_assert_eq(key_check_value(range, "0 100", c, sizeof(c), &why), -ERANGE);
	cr_assert_eq(key_check_value(NULL, "a\nb = 1", c, sizeof(c), &why), -EINVAL,
		     "a newline would smuggle a line into sysctl.d");
	cr_assert_eq(key_check_value(NULL, "  free   text ", c, sizeof(c), &why), 0);
	cr_assert_str_eq(c, "free text");
}

Test(keys, values_equal_numerically_for_known_integer_keys)
{
	const struct key_info *somax = key_lookup("net/core/somaxconn");
	const struct key_info *range = key_lookup("net/ipv4/ip_local_port_range");

	cr_assert(key_values_equal(somax, "0100", "100"));
	cr_assert(key_values_equal(somax, " 4096", "4096\n"));
	cr_assert_not(key_values_equal(somax, "4096", "4097"));
	cr_assert(key_values_equal(range, "1024\t65000", "1024 65000"));
	cr_assert(key_values_equal(range, "01024 65000", "1024  065000"));
	cr_assert_not(key_values_equal(range, "1024 65000", "1024 65001"));
	cr_assert_not(key_values_equal(range, "1024 65000", "1024"),
		      "a different count of integers is a different value");
	/* Not numbers after all: compared as text, blanks normalised. */
	cr_assert(key_values_equal(somax, "abc  def", "abc def"));
	cr_assert_not(key_values_equal(somax, "abc", "0"));
}

Test(keys, values_equal_as_text_for_unknown_keys)
{
	cr_assert(key_values_equal(NULL, "  a \t b ", "a b"));
	cr_assert_not(key_values_equal(NULL, "0100", "100"), "unknown keys are not assumed numeric");
	cr_assert_not(key_values_equal(NULL, "a", "b"));
	cr_assert(key_values_equal(NULL, "", ""));
}

/* What the kernel stores for a boot tool's write, as proc_dointvec parses
 * it (each case probed on 6.18 in a private namespace). */
static void stores(const char *path, const char *value, int want, const char *stored)
{
	char out[64] = "";
	int r = key_kernel_store(path, value, out, sizeof(out));

	cr_assert_eq(r, want, "%s = \"%s\": %d, want %d", path, value, r, want);
	if (want == 1)
		cr_assert_str_eq(out, stored, "%s = \"%s\"", path, value);
}

Test(keys, kernel_store_parses_as_the_kernel_does)
{
	stores("net/core/somaxconn", "1024 # raised for nginx", 1, "1024");
	stores("net/core/somaxconn", " 7 ", 1, "7");
	stores("net/core/somaxconn", "5 6", 1, "5");
	stores("net/core/somaxconn", "1000 = 5", 1, "1000");
	stores("net/core/somaxconn", "0x10", 1, "16");
	stores("net/core/somaxconn", "010", 1, "8");
	stores("net/core/somaxconn", "04096", 0, NULL);       /* octal, then '9' */
	stores("net/core/somaxconn", "5#x", 0, NULL);
	stores("net/core/somaxconn", "1024\rnet.x = 1", 0, NULL);
	stores("net/core/somaxconn", "", 0, NULL);
	stores("net/core/somaxconn", "abc", 0, NULL);
	stores("net/core/somaxconn", "+5", 0, NULL);
	stores("net/core/somaxconn", "-1", 0, NULL);
	stores("net/core/somaxconn", "2147483648", 0, NULL);
	stores("net/ipv4/tcp_max_syn_backlog", "-1", 1, "-1");
	stores("net/ipv4/tcp_syncookies", "255", 1, "255");   /* the kernel's range, not the profile's */
	stores("net/ipv4/tcp_syncookies", "256", 0, NULL);
	stores("net/ipv4/tcp_tw_reuse", "3", 0, NULL);
	stores("net/ipv4/tcp_fin_timeout", "8589935", 0, NULL);
	stores("net/ipv4/ip_local_port_range", "20000\t30000 # c", 1, "20000 30000");
	stores("net/ipv4/ip_local_port_range", "60000 1000", 0, NULL);
	stores("net/ipv4/ip_local_port_range", "1000 2000", 0, NULL);
	stores("net/ipv4/ip_local_port_range", "5000", -ENOENT, NULL);   /* high keeps its value */
	stores("net/ipv6/conf/lo/hop_limit", "0", 0, NULL);
	stores("net/ipv6/conf/eth0.100/hop_limit", "33 # c", 1, "33");
	stores("net/ipv4/conf/all/rp_filter", "-1", 1, "-1");
	stores("net/ipv4/tcp_congestion_control", "cubic", -ENOENT, NULL);
}
