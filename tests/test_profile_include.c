/* Tests for the files of a profile: includes in order and once each,
 * cycles, limits on files and bytes, the checksum over every byte read, the
 * search path (profile_find, profile_list). Pure parsing: no root. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "profile.h"
#include "profile_fixture.h"
#include "util.h"

TestSuite(profile_include, .init = pt_tmp_make, .fini = pt_tmp_remove, .timeout = 20);

Test(profile_include, file_of_100_mb)
{
	const char *path = pt_tpath("huge.yaml");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 100L * 1024 * 1024), 0);       /* sparse */
	close(fd);
	long rss = pt_peak_reset();
	pt_expect_reject(path, 0, 0, "profile too large (more than 262144 bytes)");
	pt_assert_cheap(rss);

	/* One byte over the limit is refused too, under it is parsed. */
	char *big = xmalloc(PROFILE_MAX_BYTES + 1);
	memset(big, '#', PROFILE_MAX_BYTES + 1);
	pt_write_bytes("over.yaml", big, PROFILE_MAX_BYTES + 1);
	pt_expect_reject(pt_tpath("over.yaml"), 0, 0, "profile too large");
	pt_write_bytes("limit.yaml", big, PROFILE_MAX_BYTES);
	pt_expect_reject(pt_tpath("limit.yaml"), 1, 1, "empty profile");
	free(big);
}

Test(profile_include, include_cycle)
{
	const char *a = pt_fixture("cycle-a.yaml"), *b = pt_fixture("cycle-b.yaml");
	struct qt_diags d = pt_reject(a);
	char want[3 * PATH_MAX];

	/* Reported where the chain closes (b's include of ./cycle-a.yaml),
	 * naming every file of it. */
	snprintf(want, sizeof(want), "include cycle: %s -> %.*scycle-b.yaml -> %s",
		 a, (int)(strlen(a) - strlen("cycle-a.yaml")), a, a);
	pt_assert_diag(&d, b, 4, 5, want);
	diags_free(&d);

	pt_expect_reject_text("qtune: 1\ninclude: [p.yaml]\n", 2, 11, "include cycle: ");
}

Test(profile_include, unreadable_profile)
{
	pt_expect_reject(pt_tpath("absent.yaml"), 0, 0, "cannot read profile: No such file or directory");
	mkdir(pt_tpath("dir.yaml"), 0755);
	pt_expect_reject(pt_tpath("dir.yaml"), 0, 0, "cannot read profile: Is a directory");
	pt_expect_reject_text("qtune: 1\ninclude: [nowhere.yaml]\n", 2, 11, "include: cannot read ");
	pt_expect_reject_text("qtune: 1\ninclude: [no-such-profile]\n", 2, 11,
			   "include no-such-profile: no-such-profile.yaml is not in ");
	pt_expect_reject_text("qtune: 1\ninclude: [/etc/passwd]\n", 2, 11,
			   "must be a profile name or a path relative to this file");
}

Test(profile_include, includes_override_in_order)
{
	const char *top = pt_fixture("incl/top.yaml");
	struct profile *p = pt_expect_load(top);
	const struct profile_entry *e;
	char first[PATH_MAX], second[PATH_MAX], common[PATH_MAX];
	int dir = (int)(strlen(top) - strlen("top.yaml"));

	snprintf(first, sizeof(first), "%.*sfirst.yaml", dir, top);
	snprintf(second, sizeof(second), "%.*ssub/second.yaml", dir, top);
	snprintf(common, sizeof(common), "%.*ssub/../common.yaml", dir, top);

	/* Read order: the including file first, then its includes depth first. */
	cr_assert_eq(p->nfiles, 4);
	cr_assert_str_eq(p->files[0], top);
	cr_assert_str_eq(p->files[1], first);
	cr_assert_str_eq(p->files[2], second);
	cr_assert_str_eq(p->files[3], common);

	/* Name and description belong to the top file (named after it). */
	cr_assert_str_eq(p->name, "top");
	cr_assert_str_eq(p->description, "later includes and this file win");

	/* first 1000 < second 2000 < top 3000. */
	e = pt_entry(p, "net.core.somaxconn");
	cr_assert_str_eq(e->want.value, "3000");
	cr_assert_str_eq(e->file, top);
	cr_assert_eq(e->line, 7);
	/* Only first sets it. */
	e = pt_entry(p, "net.ipv4.tcp_max_syn_backlog");
	cr_assert_eq(e->want.min, 100);
	cr_assert_str_eq(e->file, first);
	/* first 0, then common 2 (second's include), then second 1. */
	e = pt_entry(p, "net.ipv4.tcp_syncookies");
	cr_assert_str_eq(e->want.value, "1");
	cr_assert_str_eq(e->file, second);
	cr_assert_eq(e->line, 6);
	cr_assert_str_eq(pt_entry(p, "net.ipv4.tcp_abort_on_overflow")->file, common);

	/* Listeners: min_backlog 10 then 20; port 80 100 then 200; second
	 * ignores 25, which first required; top adds 8080. */
	cr_assert_eq(p->min_backlog, 20);
	cr_assert_str_eq(p->min_backlog_file, second);
	cr_assert_eq(pt_req(p, 80), 200);
	cr_assert_eq(pt_req(p, 443), 300);
	cr_assert_eq(pt_req(p, 8080), 64);
	cr_assert_eq(pt_req(p, 25), -1);
	cr_assert_eq(pt_req(p, 22), -1);
	cr_assert_eq(pt_req(p, 9999), 20);
	cr_assert_eq(p->nports, 3);
	cr_assert_eq(p->ports[0].port, 80);     /* first assignment keeps its place */
	cr_assert_str_eq(p->ports[0].file, second);
	cr_assert_eq(p->ports[0].line, 10);
	cr_assert_str_eq(p->persist_file, "10-first.conf");
	profile_free(p);
}

/* The checksum is sha256sum(1) of the files' bytes, concatenated in load
 * order: an independent implementation is the reference. */
Test(profile_include, checksum_covers_every_file_in_order)
{
	struct profile *p = pt_expect_load(pt_fixture("incl/top.yaml"));
	const char *all = pt_tpath("all-bytes");
	char want[sizeof(p->checksum)] = "", cmd[PATH_MAX + 32];
	int fd = open(all, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f;

	cr_assert_geq(fd, 0);
	cr_assert_gt(p->nfiles, 1, "the fixture has includes");
	for (size_t i = 0; i < p->nfiles; i++) {
		char *buf;
		size_t len;

		cr_assert_eq(util_read_file_at(AT_FDCWD, p->files[i], 0, PROFILE_MAX_BYTES,
					       &buf, &len), 0);
		cr_assert_eq(util_write_all(fd, buf, len), 0);
		free(buf);
	}
	close(fd);
	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", all);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%64s", want), 1);
	cr_assert_eq(pclose(f), 0);
	cr_assert_eq(strlen(want), 64);
	cr_assert_str_eq(p->checksum, want);
	profile_free(p);

	/* One byte changed anywhere changes it. */
	pt_write_text("a.yaml", "qtune: 1\ninclude: [b.yaml]\n");
	pt_write_text("b.yaml", "qtune: 1\nsysctl: {net.core.somaxconn: 4096}\n");
	p = pt_expect_load(pt_tpath("a.yaml"));
	char before[sizeof(p->checksum)];
	memcpy(before, p->checksum, sizeof(before));
	profile_free(p);
	pt_write_text("b.yaml", "qtune: 1\nsysctl: {net.core.somaxconn: 4097}\n");
	p = pt_expect_load(pt_tpath("a.yaml"));
	cr_assert_str_neq(p->checksum, before);
	profile_free(p);
}

Test(profile_include, included_twice_loaded_once)
{
	pt_write_text("base.yaml", "qtune: 1\nsysctl:\n  net.core.somaxconn: 100\n");
	pt_write_text("a.yaml", "qtune: 1\ninclude: [base.yaml]\nsysctl:\n  net.core.somaxconn: 200\n");
	pt_write_text("b.yaml", "qtune: 1\ninclude: [./base.yaml]\n");
	pt_write_text("top.yaml", "qtune: 1\ninclude: [a.yaml, b.yaml]\n");

	struct profile *p = pt_expect_load(pt_tpath("top.yaml"));

	/* base is applied once, before a: a's 200 stands even though b
	 * includes base again. */
	cr_assert_eq(p->nfiles, 4);
	cr_assert_str_eq(pt_entry(p, "net.core.somaxconn")->want.value, "200");
	profile_free(p);
}

Test(profile_include, include_by_name_on_the_search_path)
{
	pt_write_text("etc/qtune/profiles/common.yaml",
		   "qtune: 1\nsysctl:\n  net.ipv4.tcp_syncookies: 1\n");
	pt_write_text("usr/share/qtune/profiles/common.yaml",
		   "qtune: 1\nsysctl:\n  net.ipv4.tcp_syncookies: 2\n");
	pt_write_text("usr/share/qtune/profiles/extra.yaml",
		   "qtune: 1\nsysctl:\n  net.ipv4.tcp_abort_on_overflow: 0\n");
	pt_write_text("work/p.yaml", "qtune: 1\ninclude: [common, extra]\n");

	struct profile *p = pt_expect_load(pt_tpath("work/p.yaml"));

	cr_assert_str_eq(pt_entry(p, "net.ipv4.tcp_syncookies")->want.value, "1");
	cr_assert_str_eq(pt_entry(p, "net.ipv4.tcp_syncookies")->file,
			 pt_tpath("etc/qtune/profiles/common.yaml"));
	cr_assert_str_eq(pt_entry(p, "net.ipv4.tcp_abort_on_overflow")->file,
			 pt_tpath("usr/share/qtune/profiles/extra.yaml"));
	cr_assert_eq(p->nfiles, 3);
	profile_free(p);
}

Test(profile_include, too_many_includes)
{
	struct qt_diags d;
	char name[32], text[128];

	/* A chain c0 -> c1 -> ...: c16 is the 17th file (the top one and 16
	 * includes), so its include of c17 is one too many. */
	for (int i = 0; i <= PROFILE_MAX_INCLUDES + 1; i++) {
		snprintf(name, sizeof(name), "c%d.yaml", i);
		snprintf(text, sizeof(text), "qtune: 1\ninclude: [c%d.yaml]\n", i + 1);
		pt_write_text(name, text);
	}
	snprintf(name, sizeof(name), "c%d.yaml", PROFILE_MAX_INCLUDES);
	d = pt_reject(pt_tpath("c0.yaml"));
	pt_assert_diag(&d, pt_tpath(name), 2, 11, "too many included files (at most 16 per profile)");
	cr_assert_eq(diags_count(&d, QT_LEVEL_ERROR), 1);
	diags_free(&d);
}

Test(profile_include, profile_find)
{
	struct qt_diags d = { 0 };
	char *path = NULL;

	pt_write_text("etc/qtune/profiles/web.yaml", "qtune: 1\n");
	pt_write_text("usr/share/qtune/profiles/web.yaml", "qtune: 1\n");
	pt_write_text("usr/share/qtune/profiles/database.yaml", "qtune: 1\n");

	/* /etc wins over /usr/share; /usr/share is the fallback. */
	cr_assert_eq(profile_find(pt_tmp, "web", &path, &d), 0);
	cr_assert_str_eq(path, pt_tpath("etc/qtune/profiles/web.yaml"));
	free(path);
	cr_assert_eq(profile_find(pt_tmp, "database", &path, &d), 0);
	cr_assert_str_eq(path, pt_tpath("usr/share/qtune/profiles/database.yaml"));
	free(path);

	/* A path is returned as it is, existing or not. */
	cr_assert_eq(profile_find(pt_tmp, "web.yaml", &path, &d), 0);
	cr_assert_str_eq(path, "web.yaml");
	free(path);
	cr_assert_eq(profile_find(pt_tmp, "./x", &path, &d), 0);
	cr_assert_str_eq(path, "./x");
	free(path);
	cr_assert_eq(d.n, 0);

	cr_assert_eq(profile_find(pt_tmp, "nosuch", &path, &d), -ENOENT);
	cr_assert_null(path);
	cr_assert_eq(d.n, 1);
	cr_assert(strstr(d.v[0].msg, "no profile nosuch: nosuch.yaml is not in"), "%s", d.v[0].msg);
	cr_assert(strstr(d.v[0].msg, pt_tpath("etc/qtune/profiles")), "%s", d.v[0].msg);

	cr_assert_eq(profile_find(pt_tmp, ".hidden", &path, &d), -EINVAL);
	cr_assert_eq(profile_find(pt_tmp, "", &path, &d), -EINVAL);
	cr_assert_eq(d.n, 3);
	diags_free(&d);
}

/* profile_list walks the same path in the same order: a local profile
 * masks the shipped one, names profile_find would refuse are not listed. */
Test(profile_include, profile_list)
{
	struct profile_listing *v = NULL;
	size_t n = 99;

	cr_assert_eq(profile_list(pt_tmp, &v, &n), 0);
	cr_assert_eq(n, 0, "no directories: nothing listed");
	profile_list_free(v, n);

	pt_write_text("etc/qtune/profiles/web.yaml", "qtune: 1\n");
	pt_write_text("etc/qtune/profiles/.hidden.yaml", "qtune: 1\n");
	pt_write_text("etc/qtune/profiles/notes.txt", "x\n");
	pt_write_text("usr/share/qtune/profiles/web.yaml", "qtune: 1\n");
	pt_write_text("usr/share/qtune/profiles/database.yaml", "qtune: 1\n");
	pt_write_text("usr/share/qtune/profiles/bad name.yaml", "qtune: 1\n");
	cr_assert_eq(profile_list(pt_tmp, &v, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(v[0].name, "database");
	cr_assert_str_eq(v[0].path, pt_tpath("usr/share/qtune/profiles/database.yaml"));
	cr_assert_str_eq(v[1].name, "web");
	cr_assert_str_eq(v[1].path, pt_tpath("etc/qtune/profiles/web.yaml"));
	for (size_t i = 0; i < n; i++) {
		char *found = NULL;
		struct qt_diags d = { 0 };

		cr_assert_eq(profile_find(pt_tmp, v[i].name, &found, &d), 0);
		cr_assert_str_eq(found, v[i].path, "profile_find and profile_list agree");
		free(found);
		diags_free(&d);
	}
	profile_list_free(v, n);
}
