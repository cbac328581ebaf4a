/* boot: verdicts per profile key against a sysctl.d configuration built
 * in memory (the data sysctld_load() would return). Pure: no files, no
 * /proc/sys, no root. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "keys.h"
#include "util.h"

/* ---- a configuration as the loader leaves it, and a profile ---- */

static struct sysctld_file files[4];
static struct sysctld_entry entries[16];
static size_t order_systemd[4], order_procps[4];
static struct sysctld_config conf;
static struct profile_entry pentries[4];
static struct profile prof = { .path = "/p/web.yaml", .name = "web", .entries = pentries };

/* path names a file; hidden ones (".x.conf") only procps reads. */
static size_t file(const char *path)
{
	size_t fi = conf.nfiles++;
	const char *name = strrchr(path, '/') + 1;

	files[fi] = (struct sysctld_file){
		.name = (char *)name, .path = (char *)path, .disk_path = (char *)path,
		.state = SYSCTLD_FILE_READ, .hidden = name[0] == '.', .first = conf.nentries,
	};
	if (!files[fi].hidden)
		conf.order[SYSCTLD_SYSTEMD][conf.norder[SYSCTLD_SYSTEMD]++] = fi;
	conf.order[SYSCTLD_PROCPS][conf.norder[SYSCTLD_PROCPS]++] = fi;
	return fi;
}

/* value NULL: an exclusion line "-KEY". Lines of a file must be added
 * before the next file. */
static void line(size_t fi, unsigned lineno, const char *key, const char *value)
{
	entries[conf.nentries++] = (struct sysctld_entry){
		.key = (char *)key, .value = (char *)value, .file = fi, .line = lineno,
		.glob = strpbrk(key, "*?[") != NULL, .tools = SYSCTLD_BOTH_TOOLS, .raw_spelled = true,
	};
	files[fi].count++;
}

static void setup(void)
{
	prof.nentries = 0;
	memset(files, 0, sizeof(files));
	memset(entries, 0, sizeof(entries));
	conf = (struct sysctld_config){
		.files = files, .entries = entries, .complete = true,
		.order = { order_systemd, order_procps },
	};
}

TestSuite(boot, .init = setup);

static void want_exact(const char *key, const char *value)
{
	pentries[prof.nentries++] = (struct profile_entry){
		.key = (char *)key, .info = key_lookup(key),
		.want = { .kind = WANT_EXACT, .value = (char *)value },
	};
}

static void want_min(const char *key, int64_t min)
{
	pentries[prof.nentries++] = (struct profile_entry){
		.key = (char *)key, .info = key_lookup(key),
		.want = { .kind = WANT_RANGE, .has_min = true, .min = min },
	};
}

static struct boot_item *audit(void)
{
	struct boot_item *items = NULL;

	cr_assert_eq(boot_audit(&conf, &prof, &items), 0);
	cr_assert_not_null(items);
	return items;
}

Test(boot, a_file_that_sets_the_profile_value_is_ok)
{
	size_t f = file("/etc/sysctl.d/90-qtune-web.conf");

	line(f, 4, "net/core/somaxconn", "4096");
	want_exact("net/core/somaxconn", "4096");
	struct boot_item *b = audit();

	cr_assert_eq(b[0].status, BOOT_OK);
	cr_assert_eq(b[0].entry, &pentries[0]);
	cr_assert_str_eq(b[0].res.by[SYSCTLD_SYSTEMD].value, "4096");
	cr_assert_str_eq(b[0].res.by[SYSCTLD_SYSTEMD].file->path, "/etc/sysctl.d/90-qtune-web.conf");
	cr_assert_eq(b[0].res.by[SYSCTLD_SYSTEMD].line, 4);
	cr_assert_not(b[0].procps_differs);
	cr_assert_not(b[0].res.disagree);
	free(b);
}

Test(boot, a_later_file_with_another_value_is_drift)
{
	size_t a = file("/etc/sysctl.d/90-qtune-web.conf");

	line(a, 4, "net/core/somaxconn", "4096");
	size_t z = file("/etc/sysctl.d/99-local.conf");
	line(z, 2, "net/core/somaxconn", "128");
	want_exact("net/core/somaxconn", "4096");
	struct boot_item *b = audit();

	cr_assert_eq(b[0].status, BOOT_DIFFERS);
	cr_assert_str_eq(b[0].res.by[SYSCTLD_SYSTEMD].value, "128");
	cr_assert_str_eq(b[0].res.by[SYSCTLD_SYSTEMD].file->path, "/etc/sysctl.d/99-local.conf");
	cr_assert_eq(b[0].res.by[SYSCTLD_SYSTEMD].line, 2);
	cr_assert(b[0].procps_differs, "procps reads the same files and misses the profile too");
	free(b);
}

Test(boot, no_line_for_the_key_is_not_set)
{
	size_t f = file("/usr/lib/sysctl.d/50-default.conf");

	line(f, 1, "net/ipv4/tcp_syncookies", "1");
	want_exact("net/core/somaxconn", "4096");
	struct boot_item *b = audit();

	cr_assert_eq(b[0].status, BOOT_NOT_SET);
	cr_assert_null(b[0].res.by[SYSCTLD_SYSTEMD].value);
	cr_assert_null(b[0].res.by[SYSCTLD_SYSTEMD].file);
	cr_assert_not(b[0].procps_differs, "procps leaves it alone too: nothing to warn about");
	free(b);
}

Test(boot, an_exclusion_alone_leaves_the_key_unset)
{
	size_t f = file("/etc/sysctl.d/10-x.conf");

	line(f, 3, "net/core/somaxconn", NULL);
	want_exact("net/core/somaxconn", "4096");
	struct boot_item *b = audit();

	cr_assert_eq(b[0].status, BOOT_NOT_SET);
	cr_assert_not_null(b[0].res.by[SYSCTLD_SYSTEMD].entry, "the exclusion is named");
	cr_assert_eq(b[0].res.by[SYSCTLD_SYSTEMD].line, 3);
	free(b);
}

Test(boot, ranges_accept_any_value_inside_the_bounds)
{
	size_t f = file("/etc/sysctl.d/90-qtune-web.conf");

	line(f, 1, "net/ipv4/tcp_max_syn_backlog", "16384");
	line(f, 2, "net/core/somaxconn", "512");
	want_min("net/ipv4/tcp_max_syn_backlog", 8192);
	want_min("net/core/somaxconn", 1024);
	struct boot_item *b = audit();

	cr_assert_eq(b[0].status, BOOT_OK);
	cr_assert_eq(b[1].status, BOOT_DIFFERS);
	cr_assert_eq(b[1].entry, &pentries[1], "items follow profile order");
	free(b);
}

Test(boot, values_compare_as_the_kernel_reads_them)
{
	size_t f = file("/etc/sysctl.d/90-qtune-web.conf");

	line(f, 1, "net/core/somaxconn", "0x1000 # raised");
	line(f, 2, "net/ipv4/ip_local_port_range", "1024\t65000");
	line(f, 3, "net/ipv4/tcp_max_syn_backlog", "04096");
	want_exact("net/core/somaxconn", "4096");
	want_exact("net/ipv4/ip_local_port_range", "1024 65000");
	want_exact("net/ipv4/tcp_max_syn_backlog", "4096");
	struct boot_item *b = audit();

	cr_assert_eq(b[0].status, BOOT_OK, "\"0x1000 # raised\" stores 4096");
	cr_assert_str_eq(b[0].res.by[SYSCTLD_SYSTEMD].value, "4096", "shown as the kernel stores it");
	cr_assert_eq(b[1].status, BOOT_OK);
	/* base 0: a leading 0 is octal, and '9' ends the number badly */
	cr_assert_eq(b[2].status, BOOT_NOT_SET, "the kernel refuses \"04096\"");
	cr_assert_eq(b[2].res.by[SYSCTLD_SYSTEMD].refused, &entries[2]);
	free(b);
}

Test(boot, only_procps_missing_the_profile_is_flagged_apart)
{
	size_t f = file("/etc/sysctl.d/90-qtune-web.conf");

	line(f, 1, "net/core/somaxconn", "4096");
	size_t h = file("/etc/sysctl.d/.local.conf");
	line(h, 1, "net/core/somaxconn", "128");
	want_exact("net/core/somaxconn", "4096");
	struct boot_item *b = audit();

	cr_assert_eq(b[0].status, BOOT_OK, "systemd-sysctl skips the hidden name");
	cr_assert(b[0].procps_differs);
	cr_assert(b[0].res.disagree);
	cr_assert_str_eq(b[0].res.by[SYSCTLD_PROCPS].value, "128");
	cr_assert_str_eq(b[0].res.by[SYSCTLD_PROCPS].file->path, "/etc/sysctl.d/.local.conf");
	free(b);
}

Test(boot, procps_meeting_a_range_differently_is_no_warning)
{
	size_t f = file("/etc/sysctl.d/90-qtune-web.conf");

	line(f, 1, "net/core/somaxconn", "4096");
	size_t h = file("/etc/sysctl.d/.local.conf");
	line(h, 1, "net/core/somaxconn", "8192");
	want_min("net/core/somaxconn", 1024);
	struct boot_item *b = audit();

	cr_assert_eq(b[0].status, BOOT_OK);
	cr_assert(b[0].res.disagree, "the tools leave different values");
	cr_assert_not(b[0].procps_differs, "both values meet the profile");
	free(b);
}

Test(boot, an_entry_that_is_not_a_key_fails_the_audit)
{
	struct boot_item *items = NULL;

	want_exact("net/core/somaxconn", "4096");
	want_exact("net/core/../../etc", "1");
	cr_assert_eq(boot_audit(&conf, &prof, &items), -EINVAL);
	cr_assert_null(items);
}

Test(boot, an_empty_profile_has_no_items)
{
	struct boot_item *items = NULL;

	cr_assert_eq(boot_audit(&conf, &prof, &items), 0);
	free(items);
}

Test(boot, status_names_are_the_json_spelling)
{
	cr_assert_str_eq(boot_status_name(BOOT_OK), "ok");
	cr_assert_str_eq(boot_status_name(BOOT_DIFFERS), "differs");
	cr_assert_str_eq(boot_status_name(BOOT_NOT_SET), "not-set");
}
