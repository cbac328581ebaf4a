/* persist: the rendered bytes of the persisted file (suite persist_render,
 * pure), its atomic replacement on real files (suite persist) and the
 * directory as apply --persist and rollback reach it through cmd_persist_*
 * (suite persist_dir). File tests run in their own mount namespace on a
 * tmpfs root (sandbox_enter), so read-only binds and tiny full filesystems
 * vanish with it. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd_common.h"
#include "ctx.h"
#include "persist.h"
#include "profile.h"
#include "sandbox.h"
#include "sysctld.h"
#include "util.h"

static struct qt_diags diags;

static const char header_text[] =
	"# Written by qtune 0.1.0 from profile web (/etc/qtune/profiles/web.yaml)\n"
	"# sha256 0123abcd\n"
	"# Do not edit: qtune apply --persist rewrites this file.\n";

static const struct persist_assign web[] = {
	{ "net/core/somaxconn", "4096" },
	{ "net.ipv4.ip_local_port_range", "1024\t65000" },
};

static const char web_content[] =
	"# Written by qtune 0.1.0 from profile web (/etc/qtune/profiles/web.yaml)\n"
	"# sha256 0123abcd\n"
	"# Do not edit: qtune apply --persist rewrites this file.\n"
	"net.core.somaxconn = 4096\n"
	"net.ipv4.ip_local_port_range = 1024 65000\n";

/* ---- the bytes ---- */

static void render_teardown(void)
{
	diags_free(&diags);
}

TestSuite(persist_render, .fini = render_teardown);

Test(persist_render, header_format)
{
	char *h = persist_header("0.1.0", "web", "/etc/qtune/profiles/web.yaml", "0123abcd");

	cr_assert_str_eq(h, header_text);
	free(h);
}

Test(persist_render, header_and_lines)
{
	char *h = persist_header("0.1.0", "web", "/etc/qtune/profiles/web.yaml", "0123abcd");
	char *out = NULL;
	size_t len = 0;

	cr_assert_eq(persist_render(h, web, 2, &out, &len, &diags), 0);
	cr_assert_str_eq(out, web_content);
	cr_assert_eq(len, strlen(web_content));
	cr_assert_eq(diags.n, 0);
	free(out);
	free(h);
}

Test(persist_render, header_cannot_smuggle_an_assignment)
{
	char *h = persist_header("0.1.0", "we\nb", "/tmp/x\nkernel.core_pattern = |/bin/sh", "s");
	char *out = NULL;
	size_t len;

	cr_assert_eq(strchr(h, '\n') - h, strcspn(h, "\n"));
	cr_assert_eq(persist_render(h, web, 1, &out, &len, &diags), 0);
	for (char *line = out; *line; line = strchr(line, '\n') + 1)
		cr_assert(line[0] == '#' || strncmp(line, "net.core.somaxconn = 4096\n", 26) == 0,
			  "unexpected line: %.40s", line);
	free(out);
	free(h);
	cr_assert_eq(persist_render("# ok\nnot a comment\n", web, 1, &out, &len, &diags), -EINVAL);
	cr_assert_null(out);
}

/* apply --persist renders before anything changes: a refusal here means
 * no file is ever written. */
Test(persist_render, refuses_values_that_would_inject_lines)
{
	const struct persist_assign inject[] = {
		{ "net.core.somaxconn", "1\nkernel.core_pattern = |/bin/sh" },
	};
	const struct persist_assign empty[] = { { "net.core.somaxconn", "  " } };
	const struct persist_assign badkey[] = { { "net/../kernel/x", "1" } };
	const struct persist_assign dash[] = { { "-net.core.somaxconn", "1" } };
	char *out = NULL;
	size_t len;

	cr_assert_eq(persist_render(NULL, inject, 1, &out, &len, &diags), -EINVAL);
	cr_assert_null(out);
	cr_assert_eq(persist_render(NULL, empty, 1, &out, &len, &diags), -EINVAL);
	cr_assert_null(out);
	cr_assert_eq(persist_render(NULL, badkey, 1, &out, &len, &diags), -EINVAL);
	cr_assert_null(out);
	cr_assert_eq(persist_render(NULL, dash, 1, &out, &len, &diags), -EINVAL);
	cr_assert_null(out);
	cr_assert_eq(persist_render("not a comment\n", web, 1, &out, &len, &diags), -EINVAL);
	cr_assert_null(out);
	cr_assert_eq(diags_count(&diags, QT_LEVEL_ERROR), 5);
}

Test(persist_render, slashed_key_with_a_dot_stays_slashed)
{
	const struct persist_assign vlan[] = { { "net/ipv4/conf/eth0.100/rp_filter", "2" } };
	char *out = NULL;
	size_t len;

	cr_assert_eq(persist_render(NULL, vlan, 1, &out, &len, &diags), 0);
	cr_assert_str_eq(out, "net/ipv4/conf/eth0.100/rp_filter = 2\n",
			 "dotted, the name eth0.100 would read as eth0/100");
	free(out);
}

/* ---- the file on disk ---- */

static struct qt_ctx ctx;
static struct sysctld_config *conf;
static int dfd = -1;
static const char *dir;

static void setup(void)
{
	sandbox_enter_files(&ctx);
	/* /etc is there; the directory itself is the tests'. */
	dir = strdup(sandbox_path("etc/sysctl.d"));
}

static void teardown(void)
{
	if (dfd >= 0)
		close(dfd);
	dfd = -1;
	free((char *)dir);
	sysctld_config_free(conf);
	conf = NULL;
	diags_free(&diags);
	diags_free(&ctx.diags);
	sandbox_leave();
}

TestSuite(persist, .init = setup, .fini = teardown);

/* The directory as the command hands it over (cmd_persist_*, trust.h
 * judge and open it; suite persist_dir below). */
static void open_dir(void)
{
	sandbox_mkdir("etc/sysctl.d");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(dfd, 0, "open %s: %s", dir, strerror(errno));
}

static int write_web(const char *name)
{
	return persist_write(dfd, dir, name, web_content, strlen(web_content), &diags);
}

static char *slurp(const char *rel)
{
	char *buf = NULL;
	size_t len;
	int r = util_read_file_at(AT_FDCWD, sandbox_path(rel), O_NOFOLLOW, 1 << 22, &buf, &len);

	cr_assert_eq(r, 0, "read %s: %s", rel, strerror(-r));
	return buf;
}

static void expect_content(const char *rel, const char *want)
{
	char *got = slurp(rel);

	cr_assert_str_eq(got, want, "%s", rel);
	free(got);
}

/* Names in a directory except "." and "..", sorted, joined by ' '. */
static char *listing(const char *rel)
{
	char names[64][256];
	size_t n = 0, off = 0;
	static char out[4096];
	struct dirent *de;
	DIR *d = opendir(sandbox_path(rel));

	cr_assert_not_null(d, "opendir %s: %s", rel, strerror(errno));
	while ((de = readdir(d)) && n < 64)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			snprintf(names[n++], sizeof(names[0]), "%s", de->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), (int (*)(const void *, const void *))strcmp);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%s", i ? " " : "", names[i]);
	return out;
}

static void expect_boot(const char *key, const char *value, const char *path, unsigned line)
{
	struct sysctld_value v;

	for (int t = 0; t < SYSCTLD_NTOOLS; t++) {
		cr_assert_eq(sysctld_lookup(conf, key, (enum sysctld_tool)t, &v), 1, "%s", key);
		cr_assert_str_eq(v.value, value, "%s", key);
		cr_assert_str_eq(v.file->path, path, "%s", key);
		cr_assert_eq(v.line, line, "%s", key);
	}
}

Test(persist, writes_the_file_with_mode_0644_and_boot_reads_it_back)
{
	struct stat st;

	umask(077);
	open_dir();
	cr_assert_eq(write_web("90-qtune-web.conf"), 0);
	expect_content("etc/sysctl.d/90-qtune-web.conf", web_content);
	cr_assert_eq(stat(sandbox_path("etc/sysctl.d/90-qtune-web.conf"), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0644, "mode %o", st.st_mode & 07777);
	cr_assert_str_eq(listing("etc/sysctl.d"), "90-qtune-web.conf", "a temporary file was left");
	cr_assert_eq(diags.n, 0);

	/* And the replay reads back what was written, lines after the header. */
	cr_assert_eq(sysctld_load(&ctx, &conf, &diags), 0);
	expect_boot("net.core.somaxconn", "4096", "/etc/sysctl.d/90-qtune-web.conf", 4);
	expect_boot("net.ipv4.ip_local_port_range", "1024 65000", "/etc/sysctl.d/90-qtune-web.conf", 5);
}

Test(persist, slashed_key_with_a_dot_round_trips)
{
	const struct persist_assign vlan[] = { { "net/ipv4/conf/eth0.100/rp_filter", "2" } };
	char *out = NULL;
	size_t len;

	cr_assert_eq(persist_render(NULL, vlan, 1, &out, &len, &diags), 0);
	open_dir();
	cr_assert_eq(persist_write(dfd, dir, "90-q.conf", out, len, &diags), 0);
	free(out);
	expect_content("etc/sysctl.d/90-q.conf", "net/ipv4/conf/eth0.100/rp_filter = 2\n");
	cr_assert_eq(sysctld_load(&ctx, &conf, &diags), 0);
	expect_boot("net/ipv4/conf/eth0.100/rp_filter", "2", "/etc/sysctl.d/90-q.conf", 1);
}

Test(persist, replaces_an_existing_file)
{
	sandbox_write("etc/sysctl.d/90-qtune-web.conf", "net.core.somaxconn = 1\n", 0600);
	sandbox_write("etc/sysctl.d/10-other.conf", "net.core.somaxconn = 2\n", 0644);
	open_dir();
	cr_assert_eq(write_web("90-qtune-web.conf"), 0);
	expect_content("etc/sysctl.d/90-qtune-web.conf", web_content);
	expect_content("etc/sysctl.d/10-other.conf", "net.core.somaxconn = 2\n");
	cr_assert_str_eq(listing("etc/sysctl.d"), "10-other.conf 90-qtune-web.conf");
}

Test(persist, refuses_a_symlink_at_the_target)
{
	sandbox_write("etc/victim.conf", "precious\n", 0644);
	sandbox_symlink("../victim.conf", "etc/sysctl.d/90-qtune-web.conf");
	open_dir();

	cr_assert_eq(write_web("90-qtune-web.conf"), -ELOOP);
	expect_content("etc/victim.conf", "precious\n");
	char target[64];
	ssize_t n = readlink(sandbox_path("etc/sysctl.d/90-qtune-web.conf"), target, sizeof(target) - 1);
	cr_assert_eq(n, 14);
	target[n] = '\0';
	cr_assert_str_eq(target, "../victim.conf");
	cr_assert_str_eq(listing("etc/sysctl.d"), "90-qtune-web.conf");
	cr_assert_eq(diags_count(&diags, QT_LEVEL_ERROR), 1);
	cr_assert_str_eq(diags.v[0].file, sandbox_path("etc/sysctl.d/90-qtune-web.conf"));
	cr_assert(strstr(diags.v[0].msg, "symlink"));
}

Test(persist, refuses_to_replace_what_is_not_a_regular_file)
{
	sandbox_mkdir("etc/sysctl.d/90-qtune-web.conf");
	open_dir();
	cr_assert_eq(write_web("90-qtune-web.conf"), -EINVAL);
	cr_assert_eq(persist_remove(dfd, dir, "90-qtune-web.conf", &diags), -EINVAL);
	cr_assert_eq(diags_count(&diags, QT_LEVEL_ERROR), 2);
	cr_assert_str_eq(listing("etc/sysctl.d/90-qtune-web.conf"), "");
}

Test(persist, into_a_read_only_directory_keeps_the_old_file)
{
	sandbox_write("etc/sysctl.d/90-qtune-web.conf", "net.core.somaxconn = 1\n", 0644);
	cr_assert_eq(mount(dir, dir, NULL, MS_BIND, NULL), 0, "bind: %s", strerror(errno));
	cr_assert_eq(mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL), 0,
		     "remount ro: %s", strerror(errno));
	open_dir();

	cr_assert_eq(write_web("90-qtune-web.conf"), -EROFS);
	expect_content("etc/sysctl.d/90-qtune-web.conf", "net.core.somaxconn = 1\n");
	cr_assert_str_eq(listing("etc/sysctl.d"), "90-qtune-web.conf");
	cr_assert_eq(diags_count(&diags, QT_LEVEL_ERROR), 1);
	cr_assert_eq(persist_remove(dfd, dir, "90-qtune-web.conf", &diags), -EROFS);
	expect_content("etc/sysctl.d/90-qtune-web.conf", "net.core.somaxconn = 1\n");
	cr_assert_eq(diags_count(&diags, QT_LEVEL_ERROR), 2);
}

Test(persist, into_a_full_directory_keeps_the_old_file)
{
	char block[4096];
	int fd;

	sandbox_mkdir("etc/sysctl.d");
	cr_assert_eq(mount("qtune-full", dir, "tmpfs", 0, "size=16k,mode=0755"), 0,
		     "tmpfs: %s", strerror(errno));
	sandbox_write("etc/sysctl.d/90-qtune-web.conf", "net.core.somaxconn = 1\n", 0644);
	fd = open(sandbox_path("etc/sysctl.d/filler"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0);
	memset(block, 'f', sizeof(block));
	while (write(fd, block, sizeof(block)) > 0)
		;
	cr_assert_eq(errno, ENOSPC);
	close(fd);
	open_dir();

	cr_assert_eq(write_web("90-qtune-web.conf"), -ENOSPC);
	expect_content("etc/sysctl.d/90-qtune-web.conf", "net.core.somaxconn = 1\n");
	cr_assert_str_eq(listing("etc/sysctl.d"), "90-qtune-web.conf filler",
			 "a temporary file was left");
}

Test(persist, restore_puts_back_the_old_file)
{
	char *old = NULL;
	size_t len = 0;

	sandbox_write("etc/sysctl.d/90-qtune-web.conf", "# mine\nnet.core.somaxconn = 1\n", 0644);
	open_dir();
	cr_assert_eq(persist_read(dfd, "90-qtune-web.conf", &old, &len), 0);
	cr_assert_eq(len, strlen("# mine\nnet.core.somaxconn = 1\n"));
	cr_assert_eq(write_web("90-qtune-web.conf"), 0);
	expect_content("etc/sysctl.d/90-qtune-web.conf", web_content);

	cr_assert_eq(persist_write(dfd, dir, "90-qtune-web.conf", old, len, &diags), 0);
	expect_content("etc/sysctl.d/90-qtune-web.conf", "# mine\nnet.core.somaxconn = 1\n");
	cr_assert_str_eq(listing("etc/sysctl.d"), "90-qtune-web.conf");
	free(old);
}

Test(persist, restore_removes_a_new_file)
{
	char *old = NULL;
	size_t len;

	open_dir();
	cr_assert_eq(persist_read(dfd, "90-qtune-web.conf", &old, &len), -ENOENT);
	cr_assert_null(old);
	cr_assert_eq(write_web("90-qtune-web.conf"), 0);
	cr_assert_eq(persist_remove(dfd, dir, "90-qtune-web.conf", &diags), 0);
	cr_assert_str_eq(listing("etc/sysctl.d"), "");
	/* A second rollback has nothing left to do. */
	cr_assert_eq(persist_remove(dfd, dir, "90-qtune-web.conf", &diags), 0);
	cr_assert_eq(diags.n, 0);
}

Test(persist, restore_refuses_to_remove_a_symlink)
{
	sandbox_write("etc/victim.conf", "precious\n", 0644);
	sandbox_symlink("../victim.conf", "etc/sysctl.d/90-qtune-web.conf");
	open_dir();
	cr_assert_eq(persist_remove(dfd, dir, "90-qtune-web.conf", &diags), -ELOOP);
	cr_assert_eq(persist_write(dfd, dir, "90-qtune-web.conf", "x\n", 2, &diags), -ELOOP);
	expect_content("etc/victim.conf", "precious\n");
	cr_assert_eq(readlink(sandbox_path("etc/sysctl.d/90-qtune-web.conf"), (char[64]){ 0 }, 63), 14,
		     "the link itself stays");
}

Test(persist, read_never_follows_a_link_and_is_bounded)
{
	char *buf = NULL;
	size_t len;

	sandbox_write("etc/victim.conf", "precious\n", 0644);
	sandbox_symlink("../victim.conf", "etc/sysctl.d/90-qtune-web.conf");
	open_dir();
	cr_assert_eq(persist_read(dfd, "90-qtune-web.conf", &buf, &len), -ELOOP);
	cr_assert_null(buf);
	cr_assert_eq(persist_read(dfd, "../victim.conf", &buf, &len), -EINVAL);
	cr_assert_null(buf);

	int fd = openat(dfd, "91-huge.conf", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, SYSCTLD_FILE_MAX + 1), 0);
	close(fd);
	cr_assert_eq(persist_read(dfd, "91-huge.conf", &buf, &len), -EFBIG);
	cr_assert_null(buf);
}

Test(persist, file_names_are_plain_conf_names)
{
	const char *bad[] = { "", "a/b.conf", "../x.conf", "x.txt", ".conf", ".hidden.conf",
			      "x .conf", "x\n.conf", "conf" };
	char *buf = NULL;
	size_t len;

	open_dir();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert(!profile_persist_name_valid(bad[i], NULL), "accepted \"%s\"", bad[i]);
		cr_assert_eq(write_web(bad[i]), -EINVAL, "persisted \"%s\"", bad[i]);
		cr_assert_eq(persist_remove(dfd, dir, bad[i], &diags), -EINVAL, "removed \"%s\"", bad[i]);
		cr_assert_eq(persist_read(dfd, bad[i], &buf, &len), -EINVAL, "read \"%s\"", bad[i]);
	}
	cr_assert_eq(diags_count(&diags, QT_LEVEL_ERROR), 2 * (sizeof(bad) / sizeof(bad[0])));
	cr_assert(profile_persist_name_valid("90-qtune-web.conf", NULL));
	cr_assert_eq(write_web("99-my_tune@host+1.conf"), -EINVAL, "'@' and '+' are refused");
	cr_assert_eq(diags_count(&diags, QT_LEVEL_ERROR), 2 * (sizeof(bad) / sizeof(bad[0])) + 1);
	cr_assert_str_eq(listing("etc/sysctl.d"), "", "nothing may be created");
	cr_assert_str_eq(listing("etc"), "sysctl.d", "nor beside it");
}

/* ---- the directory, as apply --persist and rollback reach it ---- */

TestSuite(persist_dir, .init = setup, .fini = teardown);

Test(persist_dir, created_0755_only_to_put_a_file_in_it)
{
	char *old = (char *)"x";
	size_t len = 1;
	struct stat st;

	umask(077);
	cr_assert_eq(cmd_persist_read(&ctx, "90-qtune-web.conf", &old, &len), 0);
	cr_assert_null(old, "no directory: nothing to replace");
	cr_assert_eq(len, 0);
	cr_assert_eq(cmd_persist_put(&ctx, "90-qtune-web.conf", NULL, 0), 0,
		     "removing from a missing directory has nothing to do");
	cr_assert_eq(ctx.diags.n, 0, "a missing directory is not an error to report");
	cr_assert_eq(stat(dir, &st), -1, "nothing may be created");

	cr_assert_eq(cmd_persist_put(&ctx, "90-qtune-web.conf", web_content, strlen(web_content)), 0);
	cr_assert_eq(stat(dir, &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0755, "created directory mode %o", st.st_mode & 07777);
	expect_content("etc/sysctl.d/90-qtune-web.conf", web_content);
	cr_assert_eq(cmd_persist_read(&ctx, "90-qtune-web.conf", &old, &len), 0);
	cr_assert_str_eq(old, web_content);
	free(old);
	cr_assert_eq(cmd_persist_put(&ctx, "90-qtune-web.conf", NULL, 0), 0);
	cr_assert_str_eq(listing("etc/sysctl.d"), "");
	cr_assert_eq(ctx.diags.n, 0);
}

Test(persist_dir, refuses_a_symlinked_directory)
{
	char *old = NULL;
	size_t len;

	sandbox_mkdir("elsewhere");
	sandbox_symlink("../elsewhere", "etc/sysctl.d");
	cr_assert_eq(cmd_persist_put(&ctx, "90-qtune-web.conf", web_content, strlen(web_content)),
		     -ELOOP);
	cr_assert_eq(cmd_persist_put(&ctx, "90-qtune-web.conf", NULL, 0), -ELOOP);
	cr_assert_eq(cmd_persist_read(&ctx, "90-qtune-web.conf", &old, &len), -ELOOP);
	cr_assert_null(old);
	cr_assert_str_eq(listing("elsewhere"), "");
	cr_assert_eq(diags_count(&ctx.diags, QT_LEVEL_ERROR), 3);
	cr_assert(strstr(ctx.diags.v[0].msg, "symlink"), "%s", ctx.diags.v[0].msg);
}

Test(persist_dir, refuses_a_file_where_the_directory_should_be)
{
	sandbox_write("etc/sysctl.d", "not a directory\n", 0644);
	cr_assert_lt(cmd_persist_put(&ctx, "90-qtune-web.conf", web_content, strlen(web_content)), 0);
	cr_assert_geq(diags_count(&ctx.diags, QT_LEVEL_ERROR), 1);
	expect_content("etc/sysctl.d", "not a directory\n");
}
