/* Tests for the profile schema: every bad input of issue 2 (message, line,
 * nothing returned), the fields and their values, key forms, listeners,
 * persist.file and the one persist-name rule, the shipped profiles. Pure
 * parsing: no root, no /proc/sys. */
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

TestSuite(profile, .init = pt_tmp_make, .fini = pt_tmp_remove, .timeout = 20);

Test(profile, unknown_field)
{
	const char *path = pt_fixture("bad-unknown-field.yaml");
	struct qt_diags d = pt_reject(path);

	/* Both problems in one run: the top level and inside listeners. */
	pt_assert_diag(&d, path, 3, 1, "unknown field sysctls (expected qtune, name, description, "
		    "include, sysctl, listeners or persist)");
	pt_assert_diag(&d, path, 7, 3, "listeners: unknown field max_backlog");
	cr_assert_eq(diags_count(&d, QT_LEVEL_ERROR), 2);
	diags_free(&d);
}

Test(profile, unknown_field_in_persist_and_bounds)
{
	pt_expect_reject_text("qtune: 1\npersist:\n  file: a.conf\n  mode: 0644\n", 4, 3,
			   "persist: unknown field mode (expected file)");
	pt_expect_reject_text("qtune: 1\nsysctl:\n  net.core.somaxconn: {min: 1, most: 2}\n", 3, 32,
			   "net.core.somaxconn: unknown field most (expected min or max)");
}

Test(profile, wrong_type)
{
	pt_expect_reject(pt_fixture("bad-wrong-type.yaml"), 3, 3,
		      "sysctl: expected a mapping of key: value, got a list");
}

Test(profile, wrong_type_values)
{
	pt_expect_reject_text("qtune: 1\nsysctl:\n  net.core.somaxconn: \"4096\"\n", 3, 23,
			   "net.core.somaxconn: expected an integer, got the quoted text \"4096\"");
	pt_expect_reject_text("qtune: 1\nsysctl:\n  net.core.somaxconn: yes\n", 3, 23,
			   "expected an integer or {min, max}, got the boolean yes");
	pt_expect_reject_text("qtune: 1\nsysctl:\n  net.core.somaxconn:\n", 3, 22,
			   "net.core.somaxconn: expected an integer or {min, max}, got null");
	pt_expect_reject_text("qtune: 1\nsysctl:\n  net.core.somaxconn: [1]\n", 3, 23,
			   "got a list");
	pt_expect_reject_text("qtune: 1\nsysctl:\n  net.ipv4.ip_local_port_range: {min: 1}\n", 3, 33,
			   "{min, max} applies only to integer keys");
	pt_expect_reject_text("qtune: 1\nlisteners: [80]\n", 2, 12,
			   "listeners: expected a mapping (min_backlog, ports or ignore), got a list");
	pt_expect_reject_text("qtune: 1\nlisteners:\n  ignore: 22\n", 3, 11,
			   "listeners.ignore: expected a list of ports, got \"22\"");
	pt_expect_reject_text("qtune: 1\ndescription: [a]\n", 2, 14, "description: expected text");
	pt_expect_reject_text("- qtune\n- 1\n", 1, 1, "a profile is a mapping of fields");
}

Test(profile, min_greater_than_max)
{
	pt_expect_reject(pt_fixture("bad-min-max.yaml"), 3, 3,
		      "net.ipv4.tcp_max_syn_backlog: min 9000 is greater than max 100");
	pt_expect_reject_text("qtune: 1\nsysctl:\n  net.ipv4.tcp_syncookies: {max: 5}\n", 3, 34,
			   "net.ipv4.tcp_syncookies.max: 5 is out of range (valid: 0..2)");
	pt_expect_reject_text("qtune: 1\nsysctl:\n  net.core.somaxconn: {}\n", 3, 3,
			   "{min, max} needs min, max or both");
}

Test(profile, duplicate_key)
{
	/* Dotted and slashed forms of the same key are the same key. */
	pt_expect_reject(pt_fixture("bad-duplicate.yaml"), 5, 3,
		      "duplicate key net.core.somaxconn (first set at line 3, column 3)");
	pt_expect_reject_text("qtune: 1\nsysctl:\n  a.b: 1\n  a.b: 2\n", 4, 3,
			   "duplicate key a.b (first set at line 3, column 3)");
	pt_expect_reject_text("qtune: 1\nname: a\nqtune: 1\n", 3, 1,
			   "duplicate field qtune (first at line 1, column 1)");
	pt_expect_reject_text("qtune: 1\nlisteners:\n  ports: {80: 1, 80: 2}\n", 3, 18,
			   "listeners.ports: duplicate port 80 (first at line 3, column 11)");
}

Test(profile, key_path_traversal)
{
	const char *path = pt_fixture("bad-traversal.yaml");
	struct qt_diags d = pt_reject(path);

	pt_assert_diag(&d, path, 3, 3, "invalid key \"net/../../etc/passwd\": key escapes /proc/sys");
	pt_assert_diag(&d, path, 4, 3, "invalid key \"/etc/passwd\": key must be relative to /proc/sys");
	pt_assert_diag(&d, path, 5, 3, "invalid key \"net..core\": key has an empty segment");
	cr_assert_eq(diags_count(&d, QT_LEVEL_ERROR), 3);
	diags_free(&d);
	/* A NUL smuggled in through an escape cannot cut the key short. */
	pt_expect_reject_text("qtune: 1\nsysctl:\n  \"net/core/somaxconn\\0/../x\": 1\n", 3, 3,
			   "invalid key: it holds a NUL character");
}

Test(profile, out_of_range_for_a_known_key)
{
	const char *path = pt_fixture("bad-range.yaml");
	struct qt_diags d = pt_reject(path);

	pt_assert_diag(&d, path, 3, 28, "net.ipv4.tcp_syncookies: 3 is out of range (valid: 0..2)");
	pt_assert_diag(&d, path, 4, 33,
		    "net.ipv4.ip_local_port_range: \"40000 1024\": range must be low then high");
	diags_free(&d);
	pt_expect_reject_text("qtune: 1\nlisteners:\n  ports: {70000: 1}\n", 3, 11,
			   "listeners.ports: port 70000 is out of range (valid: 1..65535)");
	pt_expect_reject_text("qtune: 1\nlisteners:\n  ignore: [0]\n", 3, 12,
			   "listeners.ignore: port 0 is out of range (valid: 1..65535)");
}

Test(profile, empty_file)
{
	pt_expect_reject(pt_fixture("bad-empty.yaml"), 1, 1, "empty profile");
	pt_expect_reject_text("# only a comment\n\n", 1, 1, "empty profile");
	pt_expect_reject_text("---\n", 2, 1, "empty profile");
}

Test(profile, missing_or_unsupported_version)
{
	pt_expect_reject_text("name: x\nsysctl:\n  net.core.somaxconn: 4096\n", 1, 1,
			   "missing field qtune (the schema version)");
	pt_expect_reject_text("qtune: 2\n", 1, 8, "qtune: unsupported schema version 2");
}

/* A file that is not a profile at all (/etc/shadow handed to a qtune that
 * someone may run through sudo) is refused without quoting its contents. */
Test(profile, not_a_profile_is_not_echoed)
{
	static const char *const secrets[] = {
		"root:$6$secretsalt$hash:20228:0:99999:7:::\nuser:$6$x$y:1:2:3:4:::\n",
		"secret-token-abc123\n",
		"api_key: secret-token-abc123\npassword: hunter2\n",
	};

	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		struct qt_diags d = { 0 };
		struct profile *p;

		cr_assert_eq(pt_load(pt_write_text("shadow", secrets[i]), &p, &d), -EINVAL);
		cr_assert_null(p);
		cr_assert_eq(d.n, 1, "one message, case %zu", i);
		cr_assert(strstr(d.v[0].msg, "not a qtune profile"), "%s", d.v[0].msg);
		cr_assert_null(strstr(d.v[0].msg, "secret"), "contents quoted: %s", d.v[0].msg);
		cr_assert_null(strstr(d.v[0].msg, "root"), "contents quoted: %s", d.v[0].msg);
		cr_assert_null(strstr(d.v[0].msg, "hunter2"), "contents quoted: %s", d.v[0].msg);
		diags_free(&d);
	}
}

Test(profile, requirement_above_own_somaxconn)
{
	const char *path = pt_write_text("p.yaml",
		"qtune: 1\n"
		"sysctl:\n"
		"  net.core.somaxconn: 1024\n"
		"listeners:\n"
		"  min_backlog: 2048\n"
		"  ports:\n"
		"    443: 4096\n"
		"    80: 1024\n");
	struct qt_diags d = pt_reject(path);

	pt_assert_diag(&d, path, 5, 3, "listeners.min_backlog: 2048 is above this profile's "
		    "net.core.somaxconn 1024");
	pt_assert_diag(&d, path, 7, 5, "listeners.ports.443: backlog 4096 is above this profile's "
		    "net.core.somaxconn 1024");
	cr_assert_eq(diags_count(&d, QT_LEVEL_ERROR), 2);       /* 80: 1024 is fine */
	diags_free(&d);

	/* A {max} caps as well; a {min} does not. */
	pt_expect_reject_text("qtune: 1\nsysctl:\n  net.core.somaxconn: {max: 100}\n"
			   "listeners:\n  ports: {22: 128}\n", 5, 11, "listeners.ports.22: backlog 128");
	pt_write_text("min.yaml", "qtune: 1\nsysctl:\n  net.core.somaxconn: {min: 100}\n"
			       "listeners:\n  ports: {22: 128}\n");
	profile_free(pt_expect_load(pt_tpath("min.yaml")));
}

Test(profile, persist_file_name_checked)
{
	static const char *const bad[] = { "../x.conf", ".hidden.conf", "x.txt", "a/b.conf",
					   "sp ace.conf", ".conf" };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char text[128];

		snprintf(text, sizeof(text), "qtune: 1\npersist:\n  file: \"%s\"\n", bad[i]);
		pt_expect_reject_text(text, 3, 9, "persist.file: ");
	}
	pt_expect_reject_text("qtune: 1\nname: ../etc\n", 2, 7, "name: \"../etc\" must be");
	pt_expect_reject_text("qtune: 1\npersist:\n  file: \"99-a@b.conf\"\n", 3, 9,
			   "persist.file: \"99-a@b.conf\": file name must be a plain name");
	/* A control byte is shown escaped, never raw. */
	pt_expect_reject_text("qtune: 1\npersist:\n  file: \"a\\e[31m.conf\"\n", 3, 9,
			   "persist.file: \"a\\x1b[31m.conf\"");
}

/* One rule for every sysctl.d name qtune writes or reads back. */
Test(profile, persist_name_rule)
{
	static const char *const bad[] = {
		"", "a/b.conf", "../x.conf", "x.txt", ".conf", ".hidden.conf", "x .conf",
		"x\n.conf", "x\x1b.conf", "conf", "99-my@host.conf", "a+b.conf", "a\xc3\xa9.conf",
	};
	static const char *const good[] = { "90-qtune-web.conf", "a.conf", "A_b.c-9.conf" };
	char name[PROFILE_PERSIST_NAME_MAX + 2];
	const char *why;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		why = NULL;
		cr_assert(!profile_persist_name_valid(bad[i], &why), "accepted \"%s\"", bad[i]);
		cr_assert_not_null(why);
	}
	cr_assert(!profile_persist_name_valid(NULL, NULL));
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		cr_assert(profile_persist_name_valid(good[i], NULL), "refused \"%s\"", good[i]);
	memset(name, 'a', sizeof(name));
	strcpy(name + PROFILE_PERSIST_NAME_MAX - 5, ".conf");
	cr_assert(profile_persist_name_valid(name, NULL), "200 bytes is the limit");
	strcpy(name + PROFILE_PERSIST_NAME_MAX - 4, ".conf");
	cr_assert(!profile_persist_name_valid(name, &why));
	cr_assert(strstr(why, "longer than 200"), "%s", why);
	/* The default name of every valid profile name follows the rule. */
	struct profile p = { .name = name };
	memset(name, 'z', PROFILE_NAME_MAX);
	name[PROFILE_NAME_MAX] = '\0';
	cr_assert(profile_name_ok(name));
	char *def = profile_persist_name(&p);
	cr_assert(profile_persist_name_valid(def, NULL), "%s", def);
	free(def);
}

Test(profile, every_problem_reported)
{
	const char *path = pt_write_text("p.yaml",
		"qtune: 1\n"
		"sysctl:\n"
		"  net.ipv4.tcp_syncookies: 7\n"
		"  net..x: 1\n"
		"  net.core.somaxconn: {min: 5, max: 1}\n"
		"listeners:\n"
		"  min_backlog: x\n"
		"color: blue\n");
	struct qt_diags d = pt_reject(path);

	cr_assert_eq(diags_count(&d, QT_LEVEL_ERROR), 5);
	unsigned lines[] = { 3, 4, 5, 7, 8 };
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		cr_assert_eq(d.v[i].line, lines[i], "%s", d.v[i].msg);
	diags_free(&d);
}

Test(profile, values_and_key_forms)
{
	struct profile *p = pt_expect_load(pt_fixture("full.yaml"));
	const struct profile_entry *e;

	cr_assert_str_eq(p->name, "full-test");
	cr_assert_str_eq(p->description, "Every field once");
	cr_assert_eq(p->nentries, 6);

	e = pt_entry(p, "net.core.somaxconn");
	cr_assert_eq(e->want.kind, WANT_EXACT);
	cr_assert_str_eq(e->want.value, "4096");
	cr_assert_eq(e->info, key_lookup("net/core/somaxconn"));
	cr_assert_str_eq(e->file, pt_fixture("full.yaml"));
	cr_assert_eq(e->line, 6);
	cr_assert_eq(e->col, 3);

	/* Written slashed, found either way, stored slashed. */
	e = pt_entry(p, "net.ipv4.tcp_max_syn_backlog");
	cr_assert_eq(e, profile_entry_for(p, "net/ipv4/tcp_max_syn_backlog"));
	cr_assert_str_eq(e->key, "net/ipv4/tcp_max_syn_backlog");
	cr_assert_eq(e->want.kind, WANT_RANGE);
	cr_assert(e->want.has_min && !e->want.has_max);
	cr_assert_eq(e->want.min, 8192);

	e = pt_entry(p, "net.ipv4.tcp_synack_retries");
	cr_assert(!e->want.has_min && e->want.has_max);
	cr_assert_eq(e->want.max, 5);

	e = pt_entry(p, "net.ipv4.tcp_fin_timeout");
	cr_assert(e->want.has_min && e->want.has_max);
	cr_assert_eq(e->want.min, 10);
	cr_assert_eq(e->want.max, 60);

	/* Multi-value keys are stored whitespace-normalised. */
	cr_assert_str_eq(pt_entry(p, "net.ipv4.ip_local_port_range")->want.value, "1024 65000");
	cr_assert_null(profile_entry_for(p, "net.core.netdev_max_backlog"));
	cr_assert_null(profile_entry_for(p, "../x"));

	cr_assert(p->has_min_backlog);
	cr_assert_eq(p->min_backlog, 511);
	cr_assert_eq(p->nports, 2);
	cr_assert_eq(p->ports[0].port, 80);
	cr_assert_eq(p->ports[0].backlog, 4096);
	cr_assert_eq(p->ports[0].line, 15);
	cr_assert_eq(p->ports[1].port, 443);
	cr_assert_eq(p->nignore, 2);
	cr_assert_str_eq(p->persist_file, "80-full.conf");

	char *persist = profile_persist_name(p);
	cr_assert_str_eq(persist, "80-full.conf");
	free(persist);
	profile_free(p);
}

Test(profile, port_requirement)
{
	struct profile *p = pt_expect_load(pt_fixture("full.yaml"));

	cr_assert_eq(pt_req(p, 80), 4096);
	cr_assert_eq(pt_req(p, 443), 2048);
	cr_assert_eq(pt_req(p, 22), -1);
	cr_assert_eq(pt_req(p, 8080), 511);
	p->has_min_backlog = false;
	cr_assert_eq(pt_req(p, 8080), 0);
	profile_free(p);
}

Test(profile, default_name_and_persist_file)
{
	struct profile *p = pt_expect_load(pt_write_text("my-edge_1.yml", "qtune: 1\n"));
	char *persist = profile_persist_name(p);

	cr_assert_str_eq(p->name, "my-edge_1");
	cr_assert_null(p->persist_file);
	cr_assert_str_eq(persist, "90-qtune-my-edge_1.conf");
	cr_assert_null(p->description);
	cr_assert_eq(p->nentries, 0);
	free(persist);
	profile_free(p);

	pt_expect_reject(pt_write_text("bad name.yaml", "qtune: 1\n"), 0, 0,
		      "the file name \"bad name\" is not a valid profile name");
}

Test(profile, text_values_and_unknown_keys)
{
	struct profile *p = pt_expect_load(pt_write_text("p.yaml",
		"qtune: 1\n"
		"sysctl:\n"
		"  net.ipv4.ip_local_port_range: 1024 65000\n"   /* plain text is fine */
		"  net.ipv4.tcp_congestion_control: 'bbr'\n"
		"  net.ipv4.tcp_notsent_lowat: -1\n"              /* unknown: kernel judges */
		"  net.ipv6.conf.all.forwarding: {min: 0}\n"));

	cr_assert_str_eq(pt_entry(p, "net.ipv4.ip_local_port_range")->want.value, "1024 65000");
	cr_assert_str_eq(pt_entry(p, "net.ipv4.tcp_congestion_control")->want.value, "bbr");
	cr_assert_str_eq(pt_entry(p, "net.ipv4.tcp_notsent_lowat")->want.value, "-1");
	cr_assert_eq(pt_entry(p, "net/ipv6/conf/all/forwarding")->want.kind, WANT_RANGE);
	profile_free(p);

	pt_expect_reject_text("qtune: 1\nsysctl:\n  net.ipv4.tcp_congestion_control: \"a\\nb = 1\"\n",
			   3, 36, "value holds a control character");
	pt_expect_reject_text("qtune: 1\nsysctl:\n  net.x: on\n", 3, 10,
			   "quote it if you mean the text");
}

Test(profile, shipped_profiles_load)
{
	const char *src = getenv("QTUNE_SRCDIR");
	char dir[PATH_MAX], path[PATH_MAX + 256];
	static const char *const expected[] = {
		"base", "database", "kernel-defaults", "loadbalancer", "web",
	};
	unsigned seen = 0, count = 0;
	struct dirent *de;
	DIR *dh;

	snprintf(dir, sizeof(dir), "%s/profiles", src && *src ? src : ".");
	dh = opendir(dir);
	cr_assert_not_null(dh, "%s: %s", dir, strerror(errno));
	while ((de = readdir(dh))) {
		if (!util_has_suffix(de->d_name, ".yaml"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		struct profile *p = pt_expect_load(path);

		count++;
		for (size_t i = 0; i < ARRAY_SIZE(expected); i++)
			if (strcmp(p->name, expected[i]) == 0)
				seen |= 1u << i;
		/* Shipped profiles touch only keys of the network namespace. */
		for (size_t i = 0; i < p->nentries; i++)
			cr_assert(key_is_per_netns(p->entries[i].key), "%s sets %s",
				  de->d_name, p->entries[i].key);
		profile_free(p);
	}
	closedir(dh);
	cr_assert_eq(seen, (1u << ARRAY_SIZE(expected)) - 1, "missing a shipped profile");
	cr_assert_geq(count, ARRAY_SIZE(expected));

	/* web is what its comments promise. */
	snprintf(path, sizeof(path), "%s/web.yaml", dir);
	struct profile *p = pt_expect_load(path);
	cr_assert_str_eq(pt_entry(p, "net.core.somaxconn")->want.value, "4096");
	cr_assert_eq(pt_entry(p, "net.ipv4.tcp_max_syn_backlog")->want.min, 8192);
	cr_assert_str_eq(pt_entry(p, "net.ipv4.tcp_syncookies")->want.value, "1");
	cr_assert_str_eq(pt_entry(p, "net.ipv4.tcp_abort_on_overflow")->want.value, "0");
	cr_assert_eq(pt_req(p, 443), 4096);
	cr_assert_eq(pt_req(p, 80), 4096);
	cr_assert_eq(pt_req(p, 8080), 511);
	cr_assert_eq(p->nfiles, 2);             /* web and base */
	profile_free(p);
}
