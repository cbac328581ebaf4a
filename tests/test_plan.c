/* plan: profile + running values → changes. Pure: no root, no kernel. */
#include <criterion/criterion.h>
#include <string.h>

#include "plan.h"

static struct profile_entry exact(const char *key, const char *value)
{
	return (struct profile_entry){ .key = (char *)key, .info = key_lookup(key),
		.want = { .kind = WANT_EXACT, .value = (char *)value }, .file = "t.yaml", .line = 1 };
}

static struct profile_entry range(const char *key, bool has_min, int64_t min, bool has_max, int64_t max)
{
	return (struct profile_entry){ .key = (char *)key, .info = key_lookup(key),
		.want = { .kind = WANT_RANGE, .has_min = has_min, .min = min, .has_max = has_max, .max = max },
		.file = "t.yaml", .line = 2 };
}

static struct plan *build(struct profile_entry *e, size_t n, char **current)
{
	struct profile p = { .entries = e, .nentries = n };
	struct qt_diags d = { 0 };
	struct plan *plan = NULL;

	cr_assert_eq(plan_build(&p, current, &plan, &d), 0);
	cr_assert_eq(d.n, 0);
	return plan;
}

Test(plan, exact_values_change_only_when_different)
{
	struct profile_entry e[] = { exact("net/core/somaxconn", "4096"),
				     exact("net/ipv4/tcp_syncookies", "1") };
	char *cur[] = { "128", "1" };
	struct plan *plan = build(e, 2, cur);

	cr_assert_eq(plan->nchanges, 1);
	cr_assert(plan->items[0].change);
	cr_assert_str_eq(plan->items[0].target, "4096");
	cr_assert_str_eq(plan->items[0].current, "128");
	cr_assert_not(plan->items[1].change);
	plan_free(plan);
}

Test(plan, min_raises_a_lower_value_and_never_lowers_a_higher_one)
{
	struct profile_entry e[] = { range("net/ipv4/tcp_max_syn_backlog", true, 8192, false, 0),
				     range("net/core/somaxconn", true, 1024, false, 0) };
	char *cur[] = { "512", "65535" };
	struct plan *plan = build(e, 2, cur);

	cr_assert(plan->items[0].change);
	cr_assert_str_eq(plan->items[0].target, "8192");
	cr_assert_not(plan->items[1].change, "a higher value must be left alone");
	plan_free(plan);
}

Test(plan, max_lowers_and_range_keeps_values_inside)
{
	struct profile_entry e[] = { range("net/core/somaxconn", false, 0, true, 1000),
				     range("net/ipv4/tcp_synack_retries", true, 2, true, 5),
				     range("net/ipv4/tcp_syn_retries", true, 2, true, 5) };
	char *cur[] = { "4096", "3", "9" };
	struct plan *plan = build(e, 3, cur);

	cr_assert_str_eq(plan->items[0].target, "1000");
	cr_assert_not(plan->items[1].change);
	cr_assert_str_eq(plan->items[2].target, "5");
	cr_assert_eq(plan->nchanges, 2);
	plan_free(plan);
}

Test(plan, multi_value_and_string_keys_compare_normalised)
{
	struct profile_entry e[] = { exact("net/ipv4/ip_local_port_range", "32768 60999"),
				     exact("net/ipv4/tcp_congestion_control", "bbr") };
	char *cur[] = { "32768\t60999", "cubic" };
	struct plan *plan = build(e, 2, cur);

	cr_assert_not(plan->items[0].change, "tab-separated kernel text equals the profile's");
	cr_assert(plan->items[1].change);
	cr_assert_str_eq(plan->items[1].target, "bbr");
	plan_free(plan);
}

Test(plan, unreadable_or_non_integer_current_is_an_error)
{
	struct profile_entry e[] = { range("net/ipv4/tcp_congestion_control", true, 1, false, 0),
				     exact("net/core/somaxconn", "1") };
	char *cur[] = { "cubic", NULL };
	struct profile p = { .entries = e, .nentries = 2 };
	struct qt_diags d = { 0 };
	struct plan *plan = NULL;

	cr_assert_lt(plan_build(&p, cur, &plan, &d), 0);
	cr_assert_null(plan);
	cr_assert_eq(d.n, 2);
	cr_assert(strstr(d.v[0].msg, "not an integer"));
	cr_assert(strstr(d.v[1].msg, "cannot read"));
	diags_free(&d);
}

Test(plan, describe_wants)
{
	char buf[64];
	struct want a = { .kind = WANT_RANGE, .has_min = true, .min = 8192 };
	struct want b = { .kind = WANT_RANGE, .has_min = true, .min = 1, .has_max = true, .max = 5 };

	plan_describe_want(&a, buf, sizeof(buf));
	cr_assert_str_eq(buf, ">= 8192");
	plan_describe_want(&b, buf, sizeof(buf));
	cr_assert_str_eq(buf, "1..5");
}
