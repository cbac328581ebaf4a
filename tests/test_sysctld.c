/* Tests for sysctld and sysctld_replay: loading the sysctl.d directories
 * of a root and replaying them as systemd-sysctl and procps do. Every test
 * runs in its own mount namespace on a tmpfs root (sandbox_enter), so the
 * trees vanish with it. test_persist.c covers the file qtune writes. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sandbox.h"
#include "sysctld.h"
#include "util.h"

static struct qt_ctx ctx;
static struct qt_diags diags;
static struct sysctld_config *conf;

static void setup(void)
{
	sandbox_enter_files(&ctx);
}

static void teardown(void)
{
	sysctld_config_free(conf);
	conf = NULL;
	diags_free(&diags);
	sandbox_leave();
}

TestSuite(sysctld, .init = setup, .fini = teardown);

/* ---- helpers ---- */

static void load(void)
{
	sysctld_config_free(conf);
	conf = NULL;
	cr_assert_eq(sysctld_load(&ctx, &conf, &diags), 0);
	cr_assert_not_null(conf);
}

/* value NULL: the tool leaves the key alone; path NULL: no line concerns it. */
static void expect(const char *key, enum sysctld_tool tool, const char *value, const char *path,
		   unsigned line)
{
	const char *name = tool == SYSCTLD_SYSTEMD ? "systemd" : "procps";
	struct sysctld_value v;
	int r = sysctld_lookup(conf, key, tool, &v);

	cr_assert_geq(r, 0, "%s: lookup failed: %d", key, r);
	if (value) {
		cr_assert_eq(r, 1, "%s (%s): expected %s, the tool sets nothing", key, name, value);
		cr_assert_str_eq(v.value, value, "%s (%s)", key, name);
	} else {
		cr_assert_eq(r, 0, "%s (%s): expected unset, got %s", key, name, v.value);
		cr_assert_null(v.value);
	}
	if (!path) {
		cr_assert_null(v.file, "%s (%s): expected no line, got %s:%u", key, name,
			       v.file->path, v.line);
		return;
	}
	cr_assert_not_null(v.file, "%s (%s): expected %s:%u, got no line", key, name, path, line);
	cr_assert_str_eq(v.file->path, path, "%s (%s)", key, name);
	cr_assert_eq(v.line, line, "%s (%s): line %u, expected %u", key, name, v.line, line);
}

static void expect_both(const char *key, const char *value, const char *path, unsigned line)
{
	expect(key, SYSCTLD_SYSTEMD, value, path, line);
	expect(key, SYSCTLD_PROCPS, value, path, line);
}

static const struct sysctld_file *file_named(const char *path)
{
	for (size_t i = 0; i < conf->nfiles; i++)
		if (strcmp(conf->files[i].path, path) == 0)
			return &conf->files[i];
	cr_assert_fail("no file %s in the config", path);
	return NULL;
}

static const char *order_name(enum sysctld_tool tool, size_t i)
{
	cr_assert_lt(i, conf->norder[tool]);
	return conf->files[conf->order[tool][i]].path;
}

/* The diagnostic at file:line, or NULL. */
static const struct qt_diag *diag_at(const char *rel, unsigned line)
{
	const char *file = sandbox_path(rel);

	for (size_t i = 0; i < diags.n; i++)
		if (diags.v[i].file && strcmp(diags.v[i].file, file) == 0 && diags.v[i].line == line)
			return &diags.v[i];
	return NULL;
}

/* ---- resolver: files and directories ---- */

Test(sysctld, name_in_earlier_directory_masks_later_ones)
{
	sandbox_write("usr/lib/sysctl.d/50-a.conf", "net.core.somaxconn = 100\n", 0644);
	sandbox_write("usr/local/lib/sysctl.d/50-a.conf", "net.core.somaxconn = 150\n", 0644);
	sandbox_write("run/sysctl.d/50-a.conf", "net.core.somaxconn = 200\n", 0644);
	sandbox_write("etc/sysctl.d/50-a.conf", "# local\nnet.core.somaxconn = 300\n", 0644);
	sandbox_write("usr/lib/sysctl.d/60-b.conf", "net.ipv4.tcp_syncookies = 1\n", 0644);
	load();

	expect_both("net.core.somaxconn", "300", "/etc/sysctl.d/50-a.conf", 2);
	expect_both("net.ipv4.tcp_syncookies", "1", "/usr/lib/sysctl.d/60-b.conf", 1);
	const struct sysctld_file *winner = file_named("/etc/sysctl.d/50-a.conf");
	const struct sysctld_file *run = file_named("/run/sysctl.d/50-a.conf");
	const struct sysctld_file *usr = file_named("/usr/lib/sysctl.d/50-a.conf");
	cr_assert_eq(winner->state, SYSCTLD_FILE_READ);
	cr_assert_eq(run->state, SYSCTLD_FILE_SHADOWED);
	cr_assert_eq(usr->state, SYSCTLD_FILE_SHADOWED);
	cr_assert_eq(&conf->files[run->shadowed_by], winner);
	cr_assert_eq(conf->norder[SYSCTLD_SYSTEMD], 2);
	cr_assert_str_eq(winner->disk_path, sandbox_path("etc/sysctl.d/50-a.conf"));
	cr_assert_eq(diags.n, 0);
	cr_assert(conf->complete);
}

Test(sysctld, run_masks_usr_lib)
{
	sandbox_write("usr/lib/sysctl.d/50-a.conf", "net.core.somaxconn = 100\n", 0644);
	sandbox_write("run/sysctl.d/50-a.conf", "\n\nnet.core.somaxconn = 200\n", 0644);
	load();
	expect_both("net.core.somaxconn", "200", "/run/sysctl.d/50-a.conf", 3);
}

Test(sysctld, link_to_dev_null_masks_and_sets_nothing)
{
	sandbox_write("usr/lib/sysctl.d/50-a.conf", "net.core.somaxconn = 100\n", 0644);
	sandbox_symlink("/dev/null", "etc/sysctl.d/50-a.conf");
	load();

	expect_both("net.core.somaxconn", NULL, NULL, 0);
	cr_assert_eq(file_named("/etc/sysctl.d/50-a.conf")->state, SYSCTLD_FILE_MASKED);
	cr_assert_str_eq(file_named("/etc/sysctl.d/50-a.conf")->link, "/dev/null");
	cr_assert_eq(file_named("/usr/lib/sysctl.d/50-a.conf")->state, SYSCTLD_FILE_SHADOWED);
	cr_assert_eq(diags.n, 0);
}

Test(sysctld, indirect_link_to_dev_null_masks)
{
	/* Not the text "/dev/null": recognised by what it opens to. */
	sandbox_mkdir("dev");
	cr_assert_eq(mknod(sandbox_path("dev/null"), S_IFCHR | 0666, makedev(1, 3)), 0,
		     "mknod: %s", strerror(errno));
	sandbox_write("usr/lib/sysctl.d/50-a.conf", "net.core.somaxconn = 100\n", 0644);
	sandbox_symlink("../../dev/null", "etc/sysctl.d/50-a.conf");
	load();
	expect_both("net.core.somaxconn", NULL, NULL, 0);
	cr_assert_eq(file_named("/etc/sysctl.d/50-a.conf")->state, SYSCTLD_FILE_MASKED);
	cr_assert_eq(diags.n, 0);
}

Test(sysctld, empty_file_takes_the_name_too)
{
	/* Both tools read the earlier file by name and find nothing in it. */
	sandbox_write("usr/lib/sysctl.d/50-a.conf", "net.core.somaxconn = 100\n", 0644);
	sandbox_write("etc/sysctl.d/50-a.conf", "", 0644);
	load();
	expect_both("net.core.somaxconn", NULL, NULL, 0);
	cr_assert_eq(file_named("/etc/sysctl.d/50-a.conf")->state, SYSCTLD_FILE_READ);
}

Test(sysctld, dangling_link_and_directory_mask_with_a_warning)
{
	sandbox_write("usr/lib/sysctl.d/50-a.conf", "net.core.somaxconn = 100\n", 0644);
	sandbox_write("usr/lib/sysctl.d/60-b.conf", "net.ipv4.tcp_syncookies = 0\n", 0644);
	sandbox_symlink("/nonexistent.conf", "etc/sysctl.d/50-a.conf");
	sandbox_mkdir("etc/sysctl.d/60-b.conf");
	load();

	expect_both("net.core.somaxconn", NULL, NULL, 0);
	expect_both("net.ipv4.tcp_syncookies", NULL, NULL, 0);
	cr_assert_eq(file_named("/etc/sysctl.d/50-a.conf")->state, SYSCTLD_FILE_UNREADABLE);
	cr_assert_eq(file_named("/etc/sysctl.d/60-b.conf")->state, SYSCTLD_FILE_UNREADABLE);
	cr_assert_eq(diags_count(&diags, QT_LEVEL_WARN), 2);
	cr_assert_eq(diags_count(&diags, QT_LEVEL_ERROR), 0);
	cr_assert(conf->complete, "the real tools read nothing there either");
}

Test(sysctld, lexical_order_across_directories)
{
	sandbox_write("usr/lib/sysctl.d/50-a.conf", "net.core.somaxconn = 100\n", 0644);
	sandbox_write("etc/sysctl.d/10-b.conf", "net.core.somaxconn = 200\n", 0644);
	sandbox_write("run/sysctl.d/30-c.conf", "net.core.somaxconn = 300\n", 0644);
	load();

	expect_both("net.core.somaxconn", "100", "/usr/lib/sysctl.d/50-a.conf", 1);
	cr_assert_str_eq(order_name(SYSCTLD_SYSTEMD, 0), "/etc/sysctl.d/10-b.conf");
	cr_assert_str_eq(order_name(SYSCTLD_SYSTEMD, 1), "/run/sysctl.d/30-c.conf");
	cr_assert_str_eq(order_name(SYSCTLD_SYSTEMD, 2), "/usr/lib/sysctl.d/50-a.conf");
}

Test(sysctld, order_is_strcmp_not_locale)
{
	sandbox_write("etc/sysctl.d/a.conf", "net.core.somaxconn = 1\n", 0644);
	sandbox_write("etc/sysctl.d/B.conf", "net.core.somaxconn = 2\n", 0644);
	load();
	/* 'B' (0x42) sorts before 'a' (0x61). */
	expect_both("net.core.somaxconn", "1", "/etc/sysctl.d/a.conf", 1);
}

Test(sysctld, lib_symlink_to_usr_lib_counts_once)
{
	sandbox_write("usr/lib/sysctl.d/50-a.conf", "net.core.somaxconn = 100\n", 0644);
	sandbox_symlink("usr/lib", "lib");
	load();

	cr_assert_eq(conf->nfiles, 1, "the same directory must not be read twice");
	cr_assert_eq(conf->norder[SYSCTLD_SYSTEMD], 1);
	expect_both("net.core.somaxconn", "100", "/usr/lib/sysctl.d/50-a.conf", 1);
}

Test(sysctld, split_lib_directory_is_read)
{
	sandbox_write("lib/sysctl.d/40-x.conf", "net.core.somaxconn = 40\n", 0644);
	sandbox_write("usr/lib/sysctl.d/40-x.conf", "net.core.somaxconn = 41\n", 0644);
	load();
	expect_both("net.core.somaxconn", "41", "/usr/lib/sysctl.d/40-x.conf", 1);
	cr_assert_eq(file_named("/lib/sysctl.d/40-x.conf")->state, SYSCTLD_FILE_SHADOWED);
}

Test(sysctld, only_conf_names_are_read)
{
	sandbox_write("etc/sysctl.d/README.sysctl", "net.core.somaxconn = 1\n", 0644);
	sandbox_write("etc/sysctl.d/10-a.conf.dpkg-old", "net.core.somaxconn = 2\n", 0644);
	sandbox_write("etc/sysctl.d/10-a.conf~", "net.core.somaxconn = 3\n", 0644);
	sandbox_write("etc/sysctl.d/conf", "net.core.somaxconn = 4\n", 0644);
	load();
	cr_assert_eq(conf->nfiles, 0);
	expect_both("net.core.somaxconn", NULL, NULL, 0);
}

Test(sysctld, hidden_names_are_read_by_procps_only)
{
	sandbox_write("etc/sysctl.d/.local.conf", "net.core.somaxconn = 5\n", 0644);
	load();
	expect("net.core.somaxconn", SYSCTLD_SYSTEMD, NULL, NULL, 0);
	expect("net.core.somaxconn", SYSCTLD_PROCPS, "5", "/etc/sysctl.d/.local.conf", 1);

	struct sysctld_resolved res;
	cr_assert_eq(sysctld_resolve(conf, "net.core.somaxconn", &res), 0);
	cr_assert(res.disagree);
}

/* ---- resolver: /etc/sysctl.conf ---- */

Test(sysctld, sysctl_conf_is_read_last_by_procps_only)
{
	sandbox_write("etc/sysctl.conf", "net.core.somaxconn = 300\n", 0644);
	sandbox_write("etc/sysctl.d/10-b.conf", "net.core.somaxconn = 200\n", 0644);
	load();

	expect("net.core.somaxconn", SYSCTLD_SYSTEMD, "200", "/etc/sysctl.d/10-b.conf", 1);
	expect("net.core.somaxconn", SYSCTLD_PROCPS, "300", "/etc/sysctl.conf", 1);
	cr_assert_eq(conf->norder[SYSCTLD_SYSTEMD], 1);
	cr_assert_eq(conf->norder[SYSCTLD_PROCPS], 2);
	cr_assert_str_eq(order_name(SYSCTLD_PROCPS, 1), "/etc/sysctl.conf");

	struct sysctld_resolved res;
	cr_assert_eq(sysctld_resolve(conf, "net/core/somaxconn", &res), 0);
	cr_assert(res.disagree);
	cr_assert_str_eq(res.by[SYSCTLD_SYSTEMD].value, "200");
	cr_assert_str_eq(res.by[SYSCTLD_PROCPS].value, "300");
}

Test(sysctld, debian_99_sysctl_link)
{
	sandbox_write("etc/sysctl.conf", "# Debian\nnet.core.somaxconn = 300\n", 0644);
	sandbox_symlink("../sysctl.conf", "etc/sysctl.d/99-sysctl.conf");
	load();

	/* systemd reads it through the link, procps twice: same answer. */
	expect("net.core.somaxconn", SYSCTLD_SYSTEMD, "300", "/etc/sysctl.d/99-sysctl.conf", 2);
	expect("net.core.somaxconn", SYSCTLD_PROCPS, "300", "/etc/sysctl.conf", 2);
	cr_assert_str_eq(file_named("/etc/sysctl.d/99-sysctl.conf")->link, "../sysctl.conf");
	struct sysctld_resolved res;
	cr_assert_eq(sysctld_resolve(conf, "net.core.somaxconn", &res), 0);
	cr_assert_not(res.disagree);

	/* A file sorting after 99-sysctl.conf wins for systemd only. */
	sandbox_write("etc/sysctl.d/99-z.conf", "net.core.somaxconn = 400\n", 0644);
	load();
	expect("net.core.somaxconn", SYSCTLD_SYSTEMD, "400", "/etc/sysctl.d/99-z.conf", 1);
	expect("net.core.somaxconn", SYSCTLD_PROCPS, "300", "/etc/sysctl.conf", 2);
	cr_assert_eq(sysctld_resolve(conf, "net.core.somaxconn", &res), 0);
	cr_assert(res.disagree);
}

Test(sysctld, absolute_links_resolve_inside_root)
{
	/* Resolved against the real "/", this link would read the host's
	 * /etc/sysctl.conf; the booted image sees its own. */
	sandbox_write("etc/sysctl.conf", "net.core.somaxconn = 321\n", 0644);
	sandbox_symlink("/etc/sysctl.conf", "etc/sysctl.d/99-sysctl.conf");
	load();
	expect("net.core.somaxconn", SYSCTLD_SYSTEMD, "321", "/etc/sysctl.d/99-sysctl.conf", 1);
}

Test(sysctld, sysctl_conf_link_to_dev_null_is_skipped)
{
	sandbox_symlink("/dev/null", "etc/sysctl.conf");
	sandbox_write("etc/sysctl.d/10-b.conf", "net.core.somaxconn = 200\n", 0644);
	load();
	cr_assert_eq(conf->norder[SYSCTLD_PROCPS], 1);
	expect_both("net.core.somaxconn", "200", "/etc/sysctl.d/10-b.conf", 1);
}

/* ---- resolver: lines ---- */

Test(sysctld, comments_and_ignore_failure_prefix)
{
	sandbox_write("etc/sysctl.d/10-a.conf",
		      "# net.core.somaxconn = 1\n"
		      "; net.core.somaxconn = 2\n"
		      "   # indented comment = 3\n"
		      "\n"
		      "-net.core.somaxconn = 512\n"
		      "  -  net.ipv4.tcp_syncookies=0\n"
		      "net.ipv4.tcp_abort_on_overflow = 1 # not a comment\n",
		      0644);
	load();

	expect_both("net.core.somaxconn", "512", "/etc/sysctl.d/10-a.conf", 5);
	/* systemd strips the blank after '-'; procps asks for "/proc/sys/ net..." */
	expect("net.ipv4.tcp_syncookies", SYSCTLD_SYSTEMD, "0", "/etc/sysctl.d/10-a.conf", 6);
	expect("net.ipv4.tcp_syncookies", SYSCTLD_PROCPS, NULL, NULL, 0);
	/* '#' only starts a comment at the start of a line; the kernel stops
	 * reading an integer at the blank, so 1 is what it stores. */
	expect_both("net.ipv4.tcp_abort_on_overflow", "1", "/etc/sysctl.d/10-a.conf", 7);

	struct sysctld_value v;
	cr_assert_eq(sysctld_lookup(conf, "net.core.somaxconn", SYSCTLD_SYSTEMD, &v), 1);
	cr_assert(v.ignore_failure);
	cr_assert_eq(sysctld_lookup(conf, "net.ipv4.tcp_abort_on_overflow", SYSCTLD_SYSTEMD, &v), 1);
	cr_assert_not(v.ignore_failure);
	cr_assert_eq(conf->nentries, 3);
	cr_assert_eq(diags.n, 1, "procps skipping line 6 is said");
	cr_assert_eq(diags.v[0].line, 6);
}

Test(sysctld, dotted_and_slashed_keys)
{
	sandbox_write("etc/sysctl.d/10-a.conf",
		      "net/core/somaxconn=700\n"
		      "net.ipv4.conf.eth0/100.rp_filter = 1\n"
		      "net/ipv4/conf/eth0.200/rp_filter = 2\n"
		      "net.ipv4.tcp_syncookies\t=\t2\n"
		      "net.core..netdev_max_backlog = 9\n",
		      0644);
	load();

	expect_both("net.core.somaxconn", "700", "/etc/sysctl.d/10-a.conf", 1);
	expect_both("net/core/somaxconn", "700", "/etc/sysctl.d/10-a.conf", 1);
	/* First separator '.': a '/' is a dot inside a name (VLAN eth0.100). */
	cr_assert_str_eq(conf->entries[1].key, "net/ipv4/conf/eth0.100/rp_filter");
	expect_both("net/ipv4/conf/eth0.100/rp_filter", "1", "/etc/sysctl.d/10-a.conf", 2);
	expect_both("net.ipv4.conf.eth0/100.rp_filter", "1", "/etc/sysctl.d/10-a.conf", 2);
	expect_both("net/ipv4/conf/eth0.200/rp_filter", "2", "/etc/sysctl.d/10-a.conf", 3);
	expect_both("net/ipv4/conf/eth0/100/rp_filter", NULL, NULL, 0);
	expect_both("net.ipv4.tcp_syncookies", "2", "/etc/sysctl.d/10-a.conf", 4);
	/* Repeated separators collapse, as both tools open the same file. */
	expect_both("net.core.netdev_max_backlog", "9", "/etc/sysctl.d/10-a.conf", 5);
	cr_assert_eq(diags.n, 0);
}

Test(sysctld, values_are_whitespace_normalised)
{
	sandbox_write("etc/sysctl.d/10-a.conf",
		      "net.ipv4.ip_local_port_range =  1024\t \t65000  \r\n"
		      "net.core.somaxconn=4096", /* no final newline */
		      0644);
	load();
	expect_both("net.ipv4.ip_local_port_range", "1024 65000", "/etc/sysctl.d/10-a.conf", 1);
	expect_both("net.core.somaxconn", "4096", "/etc/sysctl.d/10-a.conf", 2);
}

Test(sysctld, later_assignment_overrides_earlier)
{
	sandbox_write("etc/sysctl.d/10-a.conf",
		      "net.core.somaxconn = 1\nnet.core.somaxconn = 2\n", 0644);
	sandbox_write("etc/sysctl.d/20-b.conf", "net.core.somaxconn = 3\n", 0644);
	sandbox_write("etc/sysctl.d/30-c.conf", "net.ipv4.tcp_syncookies = 1\n", 0644);
	load();
	expect_both("net.core.somaxconn", "3", "/etc/sysctl.d/20-b.conf", 1);

	const struct sysctld_entry *h[8];
	int n = sysctld_history(conf, "net.core.somaxconn", SYSCTLD_SYSTEMD, h, 8);
	cr_assert_eq(n, 3);
	cr_assert_eq(h[0]->line, 1);
	cr_assert_eq(h[1]->line, 2);
	cr_assert_str_eq(conf->files[h[2]->file].name, "20-b.conf");
	/* max bounds what is stored, not what is counted */
	cr_assert_eq(sysctld_history(conf, "net.core.somaxconn", SYSCTLD_PROCPS, h, 1), 3);
}

Test(sysctld, explicit_key_beats_glob_and_exclusion_keeps_glob_off)
{
	sandbox_write("etc/sysctl.d/10-a.conf", "net.ipv4.conf.all.rp_filter = 1\n", 0644);
	sandbox_write("usr/lib/sysctl.d/50-g.conf",
		      "net.ipv4.conf.*.rp_filter = 2\n"
		      "-net.ipv4.conf.lo.rp_filter\n", 0644);
	load();

	expect_both("net.ipv4.conf.eth0.rp_filter", "2", "/usr/lib/sysctl.d/50-g.conf", 1);
	/* Explicit wins although the glob is read later. */
	expect_both("net.ipv4.conf.all.rp_filter", "1", "/etc/sysctl.d/10-a.conf", 1);
	/* The exclusion is what decides lo. */
	expect_both("net.ipv4.conf.lo.rp_filter", NULL, "/usr/lib/sysctl.d/50-g.conf", 2);
	/* A wildcard never spans a '/'. */
	expect_both("net/ipv4/conf/eth0/x/rp_filter", NULL, NULL, 0);
	expect_both("net.ipv4.conf.eth0.forwarding", NULL, NULL, 0);

	struct sysctld_value v;
	cr_assert_eq(sysctld_lookup(conf, "net.ipv4.conf.eth0.rp_filter", SYSCTLD_SYSTEMD, &v), 1);
	cr_assert(v.from_glob);
	cr_assert_str_eq(v.entry->key, "net/ipv4/conf/*/rp_filter");
	cr_assert_eq(diags.n, 0);
}

Test(sysctld, exclusion_semantics_differ_between_tools)
{
	sandbox_write("etc/sysctl.d/50-g.conf",
		      "net.ipv4.conf.*.rp_filter = 2\n"
		      "-net.ipv4.conf.e*.rp_filter\n", 0644);
	sandbox_write("etc/sysctl.d/60-x.conf", "net.core.somaxconn = 100\n", 0644);
	sandbox_write("etc/sysctl.d/70-y.conf", "-net.core.somaxconn\n", 0644);
	load();

	/* systemd: an exclusion is a concrete key set to nothing, so a
	 * pattern after '-' excludes nothing, and "-KEY" cancels KEY = v. */
	expect("net.ipv4.conf.eth0.rp_filter", SYSCTLD_SYSTEMD, "2", "/etc/sysctl.d/50-g.conf", 1);
	expect("net.core.somaxconn", SYSCTLD_SYSTEMD, NULL, "/etc/sysctl.d/70-y.conf", 1);
	/* procps 4.0.2: exclusions only keep globs off, and only an exact
	 * "-KEY" (glob exclusions arrived in 4.0.5); explicit lines are
	 * written. */
	expect("net.ipv4.conf.eth0.rp_filter", SYSCTLD_PROCPS, "2", "/etc/sysctl.d/50-g.conf", 1);
	expect("net.core.somaxconn", SYSCTLD_PROCPS, "100", "/etc/sysctl.d/60-x.conf", 1);
	expect_both("net.ipv4.conf.lo.rp_filter", "2", "/etc/sysctl.d/50-g.conf", 1);

	struct sysctld_resolved res;
	cr_assert_eq(sysctld_resolve(conf, "net.core.somaxconn", &res), 0);
	cr_assert(res.disagree);
	cr_assert_eq(sysctld_resolve(conf, "net.ipv4.conf.lo.rp_filter", &res), 0);
	cr_assert_not(res.disagree);
}

Test(sysctld, systemd_glob_keeps_its_place_when_reassigned_the_same_value)
{
	sandbox_write("etc/sysctl.d/10-a.conf", "net.ipv4.conf.*.rp_filter = 1\n", 0644);
	sandbox_write("etc/sysctl.d/20-b.conf", "net.ipv4.conf.e*.rp_filter = 2\n", 0644);
	sandbox_write("etc/sysctl.d/30-c.conf", "net.ipv4.conf.*.rp_filter = 1\n", 0644);
	load();
	/* systemd's ordered map: "*" = 1 again keeps its first place, so
	 * "e*" (placed after it) is applied last; procps simply writes in
	 * order. */
	expect("net.ipv4.conf.eth0.rp_filter", SYSCTLD_SYSTEMD, "2", "/etc/sysctl.d/20-b.conf", 1);
	expect("net.ipv4.conf.eth0.rp_filter", SYSCTLD_PROCPS, "1", "/etc/sysctl.d/30-c.conf", 1);

	/* With another value the pattern moves to the end of the map. */
	sandbox_write("etc/sysctl.d/30-c.conf", "net.ipv4.conf.*.rp_filter = 3\n", 0644);
	load();
	expect_both("net.ipv4.conf.eth0.rp_filter", "3", "/etc/sysctl.d/30-c.conf", 1);
}

Test(sysctld, malformed_lines_are_reported_and_skipped)
{
	sandbox_write("etc/sysctl.d/50-bad.conf",
		      "net.core.somaxconn = 128\n"          /* 1 */
		      "this is not an assignment\n"         /* 2 */
		      "= 5\n"                               /* 3 */
		      "net.co re.x = 1\n"                   /* 4 */
		      "net/../kernel/core_pattern = |/x\n"  /* 5 */
		      "net.ipv4.tcp_syncookies = 2\n"       /* 6 */
		      "   bad again\n"                      /* 7 */
		      "-\n"                                 /* 8 */
		      "/net/core/x$ = 1\n"                  /* 9 */
		      "net.ipv4.tcp_fin_timeout =\n",       /* 10: empty value, kept */
		      0644);
	load();

	expect_both("net.core.somaxconn", "128", "/etc/sysctl.d/50-bad.conf", 1);
	expect_both("net.ipv4.tcp_syncookies", "2", "/etc/sysctl.d/50-bad.conf", 6);
	/* an empty value is written, refused, and named as the reason */
	expect_both("net.ipv4.tcp_fin_timeout", NULL, "/etc/sysctl.d/50-bad.conf", 10);
	/* systemd refuses "..", procps follows it (and is warned about) */
	expect("kernel.core_pattern", SYSCTLD_SYSTEMD, NULL, NULL, 0);
	expect("kernel.core_pattern", SYSCTLD_PROCPS, "|/x", "/etc/sysctl.d/50-bad.conf", 5);
	const unsigned bad[] = { 2, 3, 4, 5, 7, 8, 9, 10 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct qt_diag *g = diag_at("etc/sysctl.d/50-bad.conf", bad[i]);

		cr_assert_not_null(g, "no diagnostic for line %u", bad[i]);
		cr_assert_eq(g->level, QT_LEVEL_WARN, "line %u", bad[i]);
	}
	cr_assert_eq(diag_at("etc/sysctl.d/50-bad.conf", 7)->col, 4);
	cr_assert_eq(diags.n, 9, "line 5 has one warning per tool");
	cr_assert_eq(conf->nentries, 4);
	cr_assert(conf->complete);
}

Test(sysctld, a_long_line_is_read_as_systemd_reads_it)
{
	size_t pad = 20000;
	char *text = xmalloc(pad + 200);
	size_t off = 0;

	/* Longer than a page, padded with blanks: both tools set it
	 * (systemd's bound is 1 MiB, procps has none). */
	off += (size_t)sprintf(text + off, "net.core.somaxconn = ");
	memset(text + off, ' ', pad);
	off += pad;
	off += (size_t)sprintf(text + off, "777\nnet.ipv4.tcp_syncookies = 1\n");
	text[off] = '\0';
	sandbox_write("etc/sysctl.d/10-long.conf", text, 0644);
	free(text);
	load();

	cr_assert_eq(diags.n, 0);
	expect_both("net.core.somaxconn", "777", "/etc/sysctl.d/10-long.conf", 1);
	expect_both("net.ipv4.tcp_syncookies", "1", "/etc/sysctl.d/10-long.conf", 2);
}

Test(sysctld, huge_file_is_refused_and_marks_the_replay_incomplete)
{
	size_t n = SYSCTLD_FILE_MAX + 1;
	char *big = xmalloc(n + 1);

	memset(big, '#', n);
	big[n - 1] = '\n';
	big[n] = '\0';
	sandbox_write("etc/sysctl.d/10-huge.conf", big, 0644);
	free(big);
	sandbox_write("etc/sysctl.d/20-ok.conf", "net.core.somaxconn = 1024\n", 0644);
	load();

	cr_assert_eq(file_named("/etc/sysctl.d/10-huge.conf")->state, SYSCTLD_FILE_REFUSED);
	cr_assert_not(conf->complete);
	cr_assert_eq(diags_count(&diags, QT_LEVEL_ERROR), 1);
	cr_assert_str_eq(diags.v[0].file, sandbox_path("etc/sysctl.d/10-huge.conf"));
	expect_both("net.core.somaxconn", "1024", "/etc/sysctl.d/20-ok.conf", 1);
}

Test(sysctld, too_many_files_in_a_directory)
{
	for (int i = 0; i <= SYSCTLD_DIR_FILES_MAX; i++) {
		char name[64];

		snprintf(name, sizeof(name), "etc/sysctl.d/%05d.conf", i);
		sandbox_write(name, "", 0644);
	}
	load();
	cr_assert_not(conf->complete);
	cr_assert_eq(diags_count(&diags, QT_LEVEL_ERROR), 1);
	cr_assert_str_eq(diags.v[0].file, sandbox_path("etc/sysctl.d"));
}

Test(sysctld, files_others_can_write_are_warned_about)
{
	sandbox_write("etc/sysctl.d/10-a.conf", "net.core.somaxconn = 1\n", 0666);
	load();
	cr_assert_eq(diags_count(&diags, QT_LEVEL_WARN), 1);
	cr_assert(strstr(diags.v[0].msg, "everyone"), "%s", diags.v[0].msg);
	expect_both("net.core.somaxconn", "1", "/etc/sysctl.d/10-a.conf", 1);
}

Test(sysctld, lookup_refuses_what_is_not_a_key)
{
	struct sysctld_value v;

	load();
	cr_assert_eq(sysctld_lookup(conf, "net/../kernel/x", SYSCTLD_SYSTEMD, &v), -EINVAL);
	cr_assert_eq(sysctld_lookup(conf, "net.*.x", SYSCTLD_PROCPS, &v), -EINVAL);
	cr_assert_eq(sysctld_lookup(conf, "", SYSCTLD_PROCPS, &v), -EINVAL);
	cr_assert_eq(sysctld_lookup(conf, "net.core.somaxconn", SYSCTLD_PROCPS, &v), 0);
	cr_assert_null(v.file);
}

Test(sysctld, missing_root_is_an_error)
{
	struct qt_ctx bad = ctx;

	bad.root = "/nonexistent/qtune-root";
	cr_assert_eq(sysctld_load(&bad, &conf, &diags), -ENOENT);
	cr_assert_null(conf);
	cr_assert_eq(diags_count(&diags, QT_LEVEL_ERROR), 1);
}
