/* End-to-end: apply --persist, boot-time replay in check, rollback of the
 * persisted file, and the failures that must leave everything as it was. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox.h"

TestSuite(e2e_persist, .init = sandbox_enter, .fini = sandbox_leave);

#define CONF "etc/sysctl.d/90-qtune-web.conf"

static const char web[] = "qtune: 1\nname: web\nsysctl:\n  net.core.somaxconn: 4096\n"
			  "  net.ipv4.tcp_max_syn_backlog: {min: 8192}\n";

static char *slurp(const char *rel)
{
	FILE *f = fopen(sandbox_path(rel), "re");
	static char buf[4096];

	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void setup(void)
{
	sandbox_sysctl_set("net/core/somaxconn", "128");
	sandbox_sysctl_set("net/ipv4/tcp_max_syn_backlog", "512");
	sandbox_write("p/web.yaml", web, 0644);
	mkdir(sandbox_path("etc"), 0755);
}

static int apply_persist(char **err)
{
	return sandbox_qtune_rooted(NULL, err, (const char *[]){ "apply", "--persist",
						     sandbox_path("p/web.yaml"), NULL });
}

Test(e2e_persist, writes_the_file_and_check_sees_it_at_boot)
{
	char *err, *out;
	struct stat st;

	setup();
	cr_assert_eq(apply_persist(&err), 0, "%s", err);
	free(err);
	char *c = slurp(CONF);
	cr_assert(c, "no file written");
	cr_assert(strstr(c, "# Written by qtune"), "%s", c);
	cr_assert(strstr(c, "# sha256 "), "%s", c);
	cr_assert(strstr(c, "\nnet.core.somaxconn = 4096\n"), "%s", c);
	cr_assert(strstr(c, "\nnet.ipv4.tcp_max_syn_backlog = 8192\n"), "values in force after the apply: %s", c);
	cr_assert(stat(sandbox_path(CONF), &st) == 0);
	cr_assert_eq(st.st_mode & 07777, 0644);
	/* No temporary file left beside it. */
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "test \"$(ls -A %s)\" = 90-qtune-web.conf", sandbox_path("etc/sysctl.d"));
	cr_assert_eq(system(cmd), 0, "a temporary file was left in etc/sysctl.d");

	cr_assert_eq(sandbox_qtune_rooted(&out, NULL, (const char *[]){ "check", sandbox_path("p/web.yaml"), NULL }), 0, "%s", out);
	cr_assert(strstr(out, "/etc/sysctl.d/90-qtune-web.conf:"), "names the file: %s", out);
	free(out);
	/* A second identical apply --persist changes nothing. */
	cr_assert_eq(sandbox_qtune_rooted(&out, NULL, (const char *[]){ "--json", "apply", "--persist",
						 sandbox_path("p/web.yaml"), NULL }), 0);
	cr_assert(strstr(out, "\"changed\":false"), "%s", out);
	free(out);
}

Test(e2e_persist, check_names_the_file_and_line_that_wins_at_boot)
{
	char *out;

	setup();
	sandbox_sysctl_set("net/core/somaxconn", "4096");
	sandbox_sysctl_set("net/ipv4/tcp_max_syn_backlog", "9000");
	sandbox_write("usr/lib/sysctl.d/50-vendor.conf", "# vendor\nnet.core.somaxconn = 1024\n", 0644);
	int rc = sandbox_qtune_rooted(&out, NULL, (const char *[]){ "check", sandbox_path("p/web.yaml"), NULL });
	cr_assert_eq(rc, 1, "boot-time drift: %s", out);
	cr_assert(strstr(out, "/usr/lib/sysctl.d/50-vendor.conf:2"), "%s", out);
	free(out);
	/* A later file in /etc fixes it. */
	sandbox_write("etc/sysctl.d/60-local.conf", "net.core.somaxconn=4096\n", 0644);
	rc = sandbox_qtune_rooted(&out, NULL, (const char *[]){ "show", "--boot", NULL });
	cr_assert_eq(rc, 0);
	cr_assert(strstr(out, "/etc/sysctl.d/60-local.conf:1"), "%s", out);
	free(out);
}

Test(e2e_persist, symlink_at_the_target_is_refused_and_its_target_untouched)
{
	char *err;

	setup();
	sandbox_write("victim", "precious\n", 0644);
	mkdir(sandbox_path("etc/sysctl.d"), 0755);
	cr_assert(symlink(sandbox_path("victim"), sandbox_path(CONF)) == 0);
	cr_assert_eq(apply_persist(&err), 2, "%s", err);
	cr_assert(strstr(err, "symlink"), "%s", err);
	cr_assert_str_eq(slurp("victim"), "precious\n");
	cr_assert_eq(sandbox_sysctl_get("net/core/somaxconn"), 128, "nothing changed");
	free(err);
}

static void failing_directory(const char *opts)
{
	char *err;

	setup();
	mkdir(sandbox_path("etc/sysctl.d"), 0755);
	sandbox_write(CONF, "# old file\nnet.core.somaxconn = 1000\n", 0644);
	if (strstr(opts, "ro")) {
		cr_assert(mount(sandbox_path("etc/sysctl.d"), sandbox_path("etc/sysctl.d"), NULL, MS_BIND, NULL) == 0);
		cr_assert(mount(NULL, sandbox_path("etc/sysctl.d"), NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) == 0);
	} else {
		/* A tiny tmpfs holding only the old file and a filler. */
		cr_assert(mount("full", sandbox_path("etc/sysctl.d"), "tmpfs", 0, "size=8k,mode=0755") == 0);
		sandbox_write(CONF, "# old file\nnet.core.somaxconn = 1000\n", 0644);
		char cmd[512];
		snprintf(cmd, sizeof(cmd), "dd if=/dev/zero of=%s bs=1k count=64 2>/dev/null; true",
			 sandbox_path("etc/sysctl.d/.filler"));
		cr_assert_eq(system(cmd), 0);
	}
	int rc = apply_persist(&err);
	cr_assert_eq(rc, 2, "%s", err);
	cr_assert_str_eq(slurp(CONF), "# old file\nnet.core.somaxconn = 1000\n", "old file intact");
	cr_assert_eq(sandbox_sysctl_get("net/core/somaxconn"), 128, "running values rolled back: %s", err);
	cr_assert_eq(sandbox_sysctl_get("net/ipv4/tcp_max_syn_backlog"), 512);
	free(err);
}

Test(e2e_persist, read_only_directory_leaves_everything_as_it_was)
{
	failing_directory("ro");
}

Test(e2e_persist, full_directory_leaves_everything_as_it_was)
{
	failing_directory("full");
}

Test(e2e_persist, rollback_restores_the_previous_file_or_removes_the_new_one)
{
	char *err;

	setup();
	cr_assert_eq(apply_persist(&err), 0, "%s", err);
	free(err);
	cr_assert_eq(sandbox_qtune_rooted(NULL, NULL, (const char *[]){ "rollback", NULL }), 0);
	cr_assert_null(slurp(CONF), "the new file is removed");
	cr_assert_eq(sandbox_sysctl_get("net/core/somaxconn"), 128);

	sandbox_write(CONF, "# hand-written\nnet.core.somaxconn = 2000\n", 0644);
	cr_assert_eq(apply_persist(&err), 0, "%s", err);
	free(err);
	cr_assert(strstr(slurp(CONF), "4096"));
	cr_assert_eq(sandbox_qtune_rooted(NULL, NULL, (const char *[]){ "rollback", NULL }), 0);
	cr_assert_str_eq(slurp(CONF), "# hand-written\nnet.core.somaxconn = 2000\n", "previous file restored");
}

Test(e2e_persist, persist_from_a_container_namespace_needs_its_root)
{
	char *err;

	setup();
	/* Without --root, from a non-initial namespace: refused. */
	int rc = sandbox_qtune(NULL, &err, (const char *[]){ "apply", "--persist", sandbox_path("p/web.yaml"), NULL });
	cr_assert_eq(rc, 2, "%s", err);
	cr_assert(strstr(err, "--root"), "%s", err);
	cr_assert_eq(sandbox_sysctl_get("net/core/somaxconn"), 128);
	free(err);
}
