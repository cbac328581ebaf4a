/* Tests for the profile loader: every bad input of issue 2 (message, line,
 * nothing returned), the hostile ones bounded in time and memory, and the
 * format itself (values, key forms, includes, listeners, persist, search
 * path). Pure parsing: procsys_fd is -1 except where a key's existence
 * under /proc/sys is the point (read-only). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "profile.h"
#include "sysctl.h"
#include "util.h"

static char tmp[64];

static void tmp_make(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/qtune-profile-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp), "mkdtemp: %s", strerror(errno));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void tmp_remove(void)
{
	if (tmp[0])
		nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(profile, .init = tmp_make, .fini = tmp_remove, .timeout = 20);

/* A path under the temporary directory (rotating buffers). */
static const char *tpath(const char *rel)
{
	static char bufs[8][PATH_MAX];
	static unsigned n;
	char *b = bufs[n++ % 8];

	snprintf(b, PATH_MAX, "%s/%s", tmp, rel);
	return b;
}

/* A fixture under tests/fixtures/profiles of the source tree. */
static const char *fixture(const char *rel)
{
	static char bufs[8][PATH_MAX];
	static unsigned n;
	const char *src = getenv("QTUNE_SRCDIR");
	char *b = bufs[n++ % 8];

	snprintf(b, PATH_MAX, "%s/tests/fixtures/profiles/%s", src && *src ? src : ".", rel);
	return b;
}

static void write_bytes(const char *rel, const void *buf, size_t len)
{
	char dir[PATH_MAX];
	const char *path = tpath(rel);

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *s = dir + strlen(tmp) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(dir, 0755);
		*s = '/';
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
	cr_assert_eq(util_write_all(fd, buf, len), 0);
	close(fd);
}

static const char *write_text(const char *rel, const char *text)
{
	write_bytes(rel, text, strlen(text));
	return tpath(rel);
}

static struct qt_ctx test_ctx(void)
{
	return (struct qt_ctx){ .root = tmp, .procsys_fd = -1, .proc_fd = -1 };
}

static int load(const char *path, struct profile **p, struct qt_diags *d)
{
	struct qt_ctx ctx = test_ctx();

	*p = (struct profile *)(uintptr_t)1;     /* must be overwritten */
	return profile_load(&ctx, path, p, d);
}

static void dump(const struct qt_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		cr_log_info("diag: %s:%u:%u: %s", d->v[i].file ? d->v[i].file : "-",
			    d->v[i].line, d->v[i].col, d->v[i].msg);
}

/* The error holding text, which must exist, be an error and name file. */
static const struct qt_diag *find(const struct qt_diags *d, const char *text)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->v[i].msg, text))
			return &d->v[i];
	dump(d);
	cr_assert_fail("no diagnostic holds \"%s\"", text);
	return NULL;
}

static void assert_diag(const struct qt_diags *d, const char *file, unsigned line,
			unsigned col, const char *text)
{
	const struct qt_diag *e = find(d, text);

	cr_assert_eq(e->level, QT_LEVEL_ERROR, "%s", e->msg);
	cr_assert_str_eq(e->file, file, "%s", e->msg);
	cr_assert_eq(e->line, line, "\"%s\" at line %u, want %u", e->msg, e->line, line);
	if (col)
		cr_assert_eq(e->col, col, "\"%s\" at column %u, want %u", e->msg, e->col, col);
}

/* Loads path expecting rejection and nothing returned; the caller checks
 * and frees the diagnostics. */
static struct qt_diags reject(const char *path)
{
	struct qt_diags d = { 0 };
	struct profile *p;

	cr_assert_eq(load(path, &p, &d), -EINVAL, "%s was accepted", path);
	cr_assert_null(p);
	return d;
}

/* Loads path, expects rejection with text at line:col (col 0: any). */
static void expect_reject(const char *path, unsigned line, unsigned col, const char *text)
{
	struct qt_diags d = reject(path);

	assert_diag(&d, path, line, col, text);
	diags_free(&d);
}

static void expect_reject_text(const char *text, unsigned line, unsigned col, const char *msg)
{
	expect_reject(write_text("p.yaml", text), line, col, msg);
}

static struct profile *expect_load(const char *path)
{
	struct qt_diags d = { 0 };
	struct profile *p;
	int r = load(path, &p, &d);

	if (r != 0)
		dump(&d);
	cr_assert_eq(r, 0, "%s rejected", path);
	cr_assert_not_null(p);
	cr_assert_eq(diags_count(&d, QT_LEVEL_WARN), 0);
	diags_free(&d);
	return p;
}

static const struct profile_entry *entry(const struct profile *p, const char *key)
{
	const struct profile_entry *e = profile_entry_for(p, key);

	cr_assert_not_null(e, "no entry %s", key);
	return e;
}

/* Peak memory of this process (Criterion runs each test in its own),
 * reset first through clear_refs so it measures only what follows. */
static long status_kb(const char *field)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, strlen(field)) == 0)
			v = strtol(line + strlen(field), NULL, 10);
	fclose(f);
	return v;
}

static long peak_reset(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "5", 1), 1);
	close(fd);
	return status_kb("VmRSS:");
}

static void assert_cheap(long rss_before)
{
	long grown = status_kb("VmHWM:") - rss_before;

	cr_assert_lt(grown, 16 * 1024, "loading took %ld kB more", grown);
}

/* ---- the bad inputs of issue 2, one test each ---- */

Test(profile, yaml_syntax_error)
{
	expect_reject(fixture("bad-syntax.yaml"), 5, 10,
		      "invalid YAML: did not find expected ',' or ']' "
		      "(while parsing a flow sequence at line 4, column 28)");
}

Test(profile, unknown_field)
{
	const char *path = fixture("bad-unknown-field.yaml");
	struct qt_diags d = reject(path);

	/* Both problems in one run: the top level and inside listeners. */
	assert_diag(&d, path, 3, 1, "unknown field sysctls (expected qtune, name, description, "
		    "include, sysctl, listeners or persist)");
	assert_diag(&d, path, 7, 3, "listeners: unknown field max_backlog");
	cr_assert_eq(diags_count(&d, QT_LEVEL_ERROR), 2);
	diags_free(&d);
}

Test(profile, unknown_field_in_persist_and_bounds)
{
	expect_reject_text("qtune: 1\npersist:\n  file: a.conf\n  mode: 0644\n", 4, 3,
			   "persist: unknown field mode (expected file)");
	expect_reject_text("qtune: 1\nsysctl:\n  net.core.somaxconn: {min: 1, most: 2}\n", 3, 32,
			   "net.core.somaxconn: unknown field most (expected min or max)");
}

Test(profile, wrong_type)
{
	expect_reject(fixture("bad-wrong-type.yaml"), 3, 3,
		      "sysctl: expected a mapping of key: value, got a list");
}

Test(profile, wrong_type_values)
{
	expect_reject_text("qtune: 1\nsysctl:\n  net.core.somaxconn: \"4096\"\n", 3, 23,
			   "net.core.somaxconn: expected an integer, got the quoted text \"4096\"");
	expect_reject_text("qtune: 1\nsysctl:\n  net.core.somaxconn: yes\n", 3, 23,
			   "expected an integer or {min, max}, got the boolean yes");
	expect_reject_text("qtune: 1\nsysctl:\n  net.core.somaxconn:\n", 3, 22,
			   "net.core.somaxconn: expected an integer or {min, max}, got null");
	expect_reject_text("qtune: 1\nsysctl:\n  net.core.somaxconn: [1]\n", 3, 23,
			   "got a list");
	expect_reject_text("qtune: 1\nsysctl:\n  net.ipv4.ip_local_port_range: {min: 1}\n", 3, 33,
			   "{min, max} applies only to integer keys");
	expect_reject_text("qtune: 1\nlisteners: [80]\n", 2, 12,
			   "listeners: expected a mapping (min_backlog, ports or ignore), got a list");
	expect_reject_text("qtune: 1\nlisteners:\n  ignore: 22\n", 3, 11,
			   "listeners.ignore: expected a list of ports, got \"22\"");
	expect_reject_text("qtune: 1\ndescription: [a]\n", 2, 14, "description: expected text");
	expect_reject_text("- qtune\n- 1\n", 1, 1, "a profile is a mapping of fields");
}

Test(profile, integers_are_strict)
{
	static const char *const bad[] = { "0x10", "1e3", "+5", "4096.0", "4_096", "0100", "--1" };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char text[128];

		snprintf(text, sizeof(text), "qtune: 1\nsysctl:\n  net.core.somaxconn: %s\n", bad[i]);
		expect_reject_text(text, 3, 23, "net.core.somaxconn: ");
	}
	expect_reject_text("qtune: 1\nsysctl:\n  net.core.somaxconn: 0x10\n", 3, 23,
			   "expected an integer, got \"0x10\"");
	expect_reject_text("qtune: 1\nsysctl:\n  net.core.somaxconn: 0100\n", 3, 23,
			   "0100: leading zeros are not allowed");
}

Test(profile, negative_integer)
{
	expect_reject(fixture("bad-negative.yaml"), 3, 23,
		      "net.core.somaxconn: -1 is negative (valid: 0..2147483647)");
	expect_reject_text("qtune: 1\nlisteners:\n  min_backlog: -5\n", 3, 16,
			   "listeners.min_backlog: backlog -5 is negative");
	expect_reject_text("qtune: 1\nlisteners:\n  ports: {80: -1}\n", 3, 15,
			   "listeners.ports.80: backlog -1 is negative");
}

Test(profile, overflowing_integer)
{
	const char *path = fixture("bad-overflow.yaml");
	struct qt_diags d = reject(path);

	assert_diag(&d, path, 3, 23, "net.core.somaxconn: integer 99999999999999999999 overflows");
	assert_diag(&d, path, 4, 33,
		    "net.ipv4.tcp_max_syn_backlog: 2147483648 is out of range (valid: 0..2147483647)");
	diags_free(&d);
	/* Also for keys qtune does not know, and for backlogs. */
	expect_reject_text("qtune: 1\nsysctl:\n  net.core.rmem_max: -99999999999999999999\n", 3, 22,
			   "net.core.rmem_max: integer -99999999999999999999 overflows");
	expect_reject_text("qtune: 1\nlisteners:\n  ports: {443: 2147483648}\n", 3, 16,
			   "listeners.ports.443: backlog 2147483648 is out of range");
}

Test(profile, min_greater_than_max)
{
	expect_reject(fixture("bad-min-max.yaml"), 3, 3,
		      "net.ipv4.tcp_max_syn_backlog: min 9000 is greater than max 100");
	expect_reject_text("qtune: 1\nsysctl:\n  net.ipv4.tcp_syncookies: {max: 5}\n", 3, 34,
			   "net.ipv4.tcp_syncookies.max: 5 is out of range (valid: 0..2)");
	expect_reject_text("qtune: 1\nsysctl:\n  net.core.somaxconn: {}\n", 3, 3,
			   "{min, max} needs min, max or both");
}

Test(profile, duplicate_key)
{
	/* Dotted and slashed forms of the same key are the same key. */
	expect_reject(fixture("bad-duplicate.yaml"), 5, 3,
		      "duplicate key net.core.somaxconn (first set at line 3, column 3)");
	expect_reject_text("qtune: 1\nsysctl:\n  a.b: 1\n  a.b: 2\n", 4, 3,
			   "duplicate key a.b (first set at line 3, column 3)");
	expect_reject_text("qtune: 1\nname: a\nqtune: 1\n", 3, 1,
			   "duplicate field qtune (first at line 1, column 1)");
	expect_reject_text("qtune: 1\nlisteners:\n  ports: {80: 1, 80: 2}\n", 3, 18,
			   "listeners.ports: duplicate port 80 (first at line 3, column 11)");
}

Test(profile, key_path_traversal)
{
	const char *path = fixture("bad-traversal.yaml");
	struct qt_diags d = reject(path);

	assert_diag(&d, path, 3, 3, "invalid key \"net/../../etc/passwd\": key escapes /proc/sys");
	assert_diag(&d, path, 4, 3, "invalid key \"/etc/passwd\": key must be relative to /proc/sys");
	assert_diag(&d, path, 5, 3, "invalid key \"net..core\": key has an empty segment");
	cr_assert_eq(diags_count(&d, QT_LEVEL_ERROR), 3);
	diags_free(&d);
	/* A NUL smuggled in through an escape cannot cut the key short. */
	expect_reject_text("qtune: 1\nsysctl:\n  \"net/core/somaxconn\\0/../x\": 1\n", 3, 3,
			   "invalid key: it holds a NUL character");
}

Test(profile, key_that_does_not_exist)
{
	struct qt_ctx ctx = test_ctx();
	struct qt_diags d = { 0 };
	struct profile *p = NULL;
	const char *path = fixture("bad-no-such-key.yaml");

	cr_assert_eq(sysctl_open_root(&ctx.procsys_fd), 0);
	cr_assert_eq(profile_load(&ctx, path, &p, &d), -EINVAL);
	cr_assert_null(p);
	assert_diag(&d, path, 4, 3,
		    "unknown key net.core.qtune_no_such_key: no such file under /proc/sys");
	/* The known key on line 3 is fine: one problem only. */
	cr_assert_eq(diags_count(&d, QT_LEVEL_ERROR), 1);
	diags_free(&d);

	/* An unknown key that exists is accepted (text or integer). */
	path = write_text("ok.yaml", "qtune: 1\nsysctl:\n  net.ipv4.tcp_rmem: 4096 131072 6291456\n"
				     "  net/core/rmem_max: 212992\n");
	cr_assert_eq(profile_load(&ctx, path, &p, &d), 0);
	cr_assert_str_eq(entry(p, "net.ipv4.tcp_rmem")->want.value, "4096 131072 6291456");
	cr_assert_null(entry(p, "net.ipv4.tcp_rmem")->info);
	cr_assert_str_eq(entry(p, "net.core.rmem_max")->want.value, "212992");
	profile_free(p);
	close(ctx.procsys_fd);
}

Test(profile, out_of_range_for_a_known_key)
{
	const char *path = fixture("bad-range.yaml");
	struct qt_diags d = reject(path);

	assert_diag(&d, path, 3, 28, "net.ipv4.tcp_syncookies: 3 is out of range (valid: 0..2)");
	assert_diag(&d, path, 4, 33,
		    "net.ipv4.ip_local_port_range: \"40000 1024\": range must be low then high");
	diags_free(&d);
	expect_reject_text("qtune: 1\nlisteners:\n  ports: {70000: 1}\n", 3, 11,
			   "listeners.ports: port 70000 is out of range (valid: 1..65535)");
	expect_reject_text("qtune: 1\nlisteners:\n  ignore: [0]\n", 3, 12,
			   "listeners.ignore: port 0 is out of range (valid: 1..65535)");
}

Test(profile, empty_file)
{
	expect_reject(fixture("bad-empty.yaml"), 1, 1, "empty profile");
	expect_reject_text("# only a comment\n\n", 1, 1, "empty profile");
	expect_reject_text("---\n", 2, 1, "empty profile");
}

Test(profile, not_a_text_file)
{
	static const unsigned char elf[] = "qtune: 1\n\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03";

	write_bytes("bin.yaml", elf, sizeof(elf));
	expect_reject(tpath("bin.yaml"), 2, 1, "not a text file (control character)");

	write_bytes("nul.yaml", "qtune: 1\nname: a\0b\n", 19);
	expect_reject(tpath("nul.yaml"), 2, 8, "not a text file (NUL byte)");

	write_bytes("latin1.yaml", "qtune: 1\ndescription: caf\xe9\n", 27);
	expect_reject(tpath("latin1.yaml"), 2, 17, "not a text file (invalid UTF-8)");

	/* Overlong encoding of '/', and a UTF-16 surrogate: both invalid. */
	write_bytes("overlong.yaml", "qtune: 1\n\xc0\xaf: 1\n", 15);
	expect_reject(tpath("overlong.yaml"), 2, 1, "not a text file (invalid UTF-8)");
	write_bytes("surrogate.yaml", "qtune: 1\n\xed\xa0\x80: 1\n", 16);
	expect_reject(tpath("surrogate.yaml"), 2, 1, "not a text file (invalid UTF-8)");
}

Test(profile, file_of_100_mb)
{
	const char *path = tpath("huge.yaml");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 100L * 1024 * 1024), 0);       /* sparse */
	close(fd);
	long rss = peak_reset();
	expect_reject(path, 0, 0, "profile too large (more than 262144 bytes)");
	assert_cheap(rss);

	/* One byte over the limit is refused too, under it is parsed. */
	char *big = xmalloc(PROFILE_MAX_BYTES + 1);
	memset(big, '#', PROFILE_MAX_BYTES + 1);
	write_bytes("over.yaml", big, PROFILE_MAX_BYTES + 1);
	expect_reject(tpath("over.yaml"), 0, 0, "profile too large");
	write_bytes("limit.yaml", big, PROFILE_MAX_BYTES);
	expect_reject(tpath("limit.yaml"), 1, 1, "empty profile");
	free(big);
}

Test(profile, deep_nesting)
{
	size_t n = 10000;
	char *text = xmalloc(n + 64);
	int len = snprintf(text, n + 64, "qtune: 1\nsysctl:\n  net.core.somaxconn: ");

	memset(text + len, '[', n);
	text[len + n] = '\0';
	write_text("deep.yaml", text);
	free(text);

	long rss = peak_reset();
	/* Depth 1 is the top mapping, 2 sysctl, then 3..9 are '[': the 7th
	 * bracket, at column 23 + 6, is one level too many. */
	expect_reject(tpath("deep.yaml"), 3, 29, "nesting deeper than 8 levels");
	assert_cheap(rss);

	/* Block style nests the same way. */
	expect_reject_text("qtune: 1\nsysctl:\n a:\n  b:\n   c:\n    d:\n     e:\n      f:\n"
			   "       g:\n        h: 1\n", 10, 9, "nesting deeper than 8 levels");
}

Test(profile, alias_expansion_bomb)
{
	long rss = peak_reset();

	/* Refused at the first anchor: nothing is ever expanded. */
	expect_reject(fixture("bad-alias-bomb.yaml"), 3, 23,
		      "anchor &a: YAML anchors and aliases are not allowed");
	assert_cheap(rss);
	expect_reject_text("qtune: 1\nsysctl:\n  net.core.somaxconn: *undefined\n", 3, 23,
			   "alias *undefined: YAML anchors and aliases are not allowed");
}

Test(profile, include_cycle)
{
	const char *a = fixture("cycle-a.yaml"), *b = fixture("cycle-b.yaml");
	struct qt_diags d = reject(a);
	char want[3 * PATH_MAX];

	/* Reported where the chain closes (b's include of ./cycle-a.yaml),
	 * naming every file of it. */
	snprintf(want, sizeof(want), "include cycle: %s -> %.*scycle-b.yaml -> %s",
		 a, (int)(strlen(a) - strlen("cycle-a.yaml")), a, a);
	assert_diag(&d, b, 4, 5, want);
	diags_free(&d);

	expect_reject_text("qtune: 1\ninclude: [p.yaml]\n", 2, 11, "include cycle: ");
}

/* ---- further strictness ---- */

Test(profile, missing_or_unsupported_version)
{
	expect_reject_text("name: x\nsysctl:\n  net.core.somaxconn: 4096\n", 1, 1,
			   "missing field qtune (the schema version)");
	expect_reject_text("qtune: 2\n", 1, 8, "qtune: unsupported schema version 2");
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

		cr_assert_eq(load(write_text("shadow", secrets[i]), &p, &d), -EINVAL);
		cr_assert_null(p);
		cr_assert_eq(d.n, 1, "one message, case %zu", i);
		cr_assert(strstr(d.v[0].msg, "not a qtune profile"), "%s", d.v[0].msg);
		cr_assert_null(strstr(d.v[0].msg, "secret"), "contents quoted: %s", d.v[0].msg);
		cr_assert_null(strstr(d.v[0].msg, "root"), "contents quoted: %s", d.v[0].msg);
		cr_assert_null(strstr(d.v[0].msg, "hunter2"), "contents quoted: %s", d.v[0].msg);
		diags_free(&d);
	}
}

Test(profile, documents_and_tags_refused)
{
	expect_reject_text("qtune: 1\n---\nqtune: 1\n", 2, 1,
			   "multiple YAML documents are not allowed");
	expect_reject_text("qtune: 1\nsysctl:\n  net.core.somaxconn: !!python/object:os.system 5\n",
			   3, 23, "YAML tags are not allowed (tag:yaml.org,2002:python/object:os.system)");
}

Test(profile, requirement_above_own_somaxconn)
{
	const char *path = write_text("p.yaml",
		"qtune: 1\n"
		"sysctl:\n"
		"  net.core.somaxconn: 1024\n"
		"listeners:\n"
		"  min_backlog: 2048\n"
		"  ports:\n"
		"    443: 4096\n"
		"    80: 1024\n");
	struct qt_diags d = reject(path);

	assert_diag(&d, path, 5, 3, "listeners.min_backlog: 2048 is above this profile's "
		    "net.core.somaxconn 1024");
	assert_diag(&d, path, 7, 5, "listeners.ports.443: backlog 4096 is above this profile's "
		    "net.core.somaxconn 1024");
	cr_assert_eq(diags_count(&d, QT_LEVEL_ERROR), 2);       /* 80: 1024 is fine */
	diags_free(&d);

	/* A {max} caps as well; a {min} does not. */
	expect_reject_text("qtune: 1\nsysctl:\n  net.core.somaxconn: {max: 100}\n"
			   "listeners:\n  ports: {22: 128}\n", 5, 11, "listeners.ports.22: backlog 128");
	write_text("min.yaml", "qtune: 1\nsysctl:\n  net.core.somaxconn: {min: 100}\n"
			       "listeners:\n  ports: {22: 128}\n");
	profile_free(expect_load(tpath("min.yaml")));
}

Test(profile, persist_file_name_checked)
{
	static const char *const bad[] = { "../x.conf", ".hidden.conf", "x.txt", "a/b.conf",
					   "sp ace.conf", ".conf" };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char text[128];

		snprintf(text, sizeof(text), "qtune: 1\npersist:\n  file: \"%s\"\n", bad[i]);
		expect_reject_text(text, 3, 9, "persist.file: ");
	}
	expect_reject_text("qtune: 1\nname: ../etc\n", 2, 7, "name: \"../etc\" must be");
	expect_reject_text("qtune: 1\npersist:\n  file: \"99-a@b.conf\"\n", 3, 9,
			   "persist.file: \"99-a@b.conf\": file name must be a plain name");
	/* A control byte is shown escaped, never raw. */
	expect_reject_text("qtune: 1\npersist:\n  file: \"a\\e[31m.conf\"\n", 3, 9,
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
	const char *path = write_text("p.yaml",
		"qtune: 1\n"
		"sysctl:\n"
		"  net.ipv4.tcp_syncookies: 7\n"
		"  net..x: 1\n"
		"  net.core.somaxconn: {min: 5, max: 1}\n"
		"listeners:\n"
		"  min_backlog: x\n"
		"color: blue\n");
	struct qt_diags d = reject(path);

	cr_assert_eq(diags_count(&d, QT_LEVEL_ERROR), 5);
	unsigned lines[] = { 3, 4, 5, 7, 8 };
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		cr_assert_eq(d.v[i].line, lines[i], "%s", d.v[i].msg);
	diags_free(&d);
}

Test(profile, too_many_keys_and_too_many_errors)
{
	size_t cap = 64 + 40 * (PROFILE_MAX_KEYS + 2);
	char *text = xmalloc(cap);
	size_t off = (size_t)snprintf(text, cap, "qtune: 1\nsysctl:\n");

	for (int i = 0; i <= PROFILE_MAX_KEYS; i++)
		off += (size_t)snprintf(text + off, cap - off, "  net.k%d: %d\n", i, i);
	expect_reject_text(text, 3 + PROFILE_MAX_KEYS, 3, "more than 512 keys");

	off = (size_t)snprintf(text, cap, "qtune: 1\n");
	for (int i = 0; i < 2 * PROFILE_MAX_ERRORS; i++)
		off += (size_t)snprintf(text + off, cap - off, "x%d: 1\n", i);
	struct qt_diags d = reject(write_text("p.yaml", text));

	cr_assert_eq(d.n, PROFILE_MAX_ERRORS + 1);
	cr_assert(strstr(d.v[PROFILE_MAX_ERRORS].msg, "too many problems"));
	diags_free(&d);
	free(text);
}

Test(profile, unreadable_profile)
{
	expect_reject(tpath("absent.yaml"), 0, 0, "cannot read profile: No such file or directory");
	mkdir(tpath("dir.yaml"), 0755);
	expect_reject(tpath("dir.yaml"), 0, 0, "cannot read profile: Is a directory");
	expect_reject_text("qtune: 1\ninclude: [nowhere.yaml]\n", 2, 11, "include: cannot read ");
	expect_reject_text("qtune: 1\ninclude: [no-such-profile]\n", 2, 11,
			   "include no-such-profile: no-such-profile.yaml is not in ");
	expect_reject_text("qtune: 1\ninclude: [/etc/passwd]\n", 2, 11,
			   "must be a profile name or a path relative to this file");
}

/* ---- the format ---- */

Test(profile, values_and_key_forms)
{
	struct profile *p = expect_load(fixture("full.yaml"));
	const struct profile_entry *e;

	cr_assert_str_eq(p->name, "full-test");
	cr_assert_str_eq(p->description, "Every field once");
	cr_assert_eq(p->nentries, 6);

	e = entry(p, "net.core.somaxconn");
	cr_assert_eq(e->want.kind, WANT_EXACT);
	cr_assert_str_eq(e->want.value, "4096");
	cr_assert_eq(e->info, key_lookup("net/core/somaxconn"));
	cr_assert_str_eq(e->file, fixture("full.yaml"));
	cr_assert_eq(e->line, 6);
	cr_assert_eq(e->col, 3);

	/* Written slashed, found either way, stored slashed. */
	e = entry(p, "net.ipv4.tcp_max_syn_backlog");
	cr_assert_eq(e, profile_entry_for(p, "net/ipv4/tcp_max_syn_backlog"));
	cr_assert_str_eq(e->key, "net/ipv4/tcp_max_syn_backlog");
	cr_assert_eq(e->want.kind, WANT_RANGE);
	cr_assert(e->want.has_min && !e->want.has_max);
	cr_assert_eq(e->want.min, 8192);

	e = entry(p, "net.ipv4.tcp_synack_retries");
	cr_assert(!e->want.has_min && e->want.has_max);
	cr_assert_eq(e->want.max, 5);

	e = entry(p, "net.ipv4.tcp_fin_timeout");
	cr_assert(e->want.has_min && e->want.has_max);
	cr_assert_eq(e->want.min, 10);
	cr_assert_eq(e->want.max, 60);

	/* Multi-value keys are stored whitespace-normalised. */
	cr_assert_str_eq(entry(p, "net.ipv4.ip_local_port_range")->want.value, "1024 65000");
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

/* The requirement a listener on port must meet, as check and apply judge it. */
static int64_t req(const struct profile *p, uint16_t port)
{
	struct finding_limits lim = { 0 };
	struct finding_port *ports;

	audit_limits_from_profile(p, &lim, &ports);
	int64_t r = findings_port_requirement(&lim, port);
	free(ports);
	return r;
}

Test(profile, port_requirement)
{
	struct profile *p = expect_load(fixture("full.yaml"));

	cr_assert_eq(req(p, 80), 4096);
	cr_assert_eq(req(p, 443), 2048);
	cr_assert_eq(req(p, 22), -1);
	cr_assert_eq(req(p, 8080), 511);
	p->has_min_backlog = false;
	cr_assert_eq(req(p, 8080), 0);
	profile_free(p);
}

Test(profile, includes_override_in_order)
{
	const char *top = fixture("incl/top.yaml");
	struct profile *p = expect_load(top);
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
	e = entry(p, "net.core.somaxconn");
	cr_assert_str_eq(e->want.value, "3000");
	cr_assert_str_eq(e->file, top);
	cr_assert_eq(e->line, 7);
	/* Only first sets it. */
	e = entry(p, "net.ipv4.tcp_max_syn_backlog");
	cr_assert_eq(e->want.min, 100);
	cr_assert_str_eq(e->file, first);
	/* first 0, then common 2 (second's include), then second 1. */
	e = entry(p, "net.ipv4.tcp_syncookies");
	cr_assert_str_eq(e->want.value, "1");
	cr_assert_str_eq(e->file, second);
	cr_assert_eq(e->line, 6);
	cr_assert_str_eq(entry(p, "net.ipv4.tcp_abort_on_overflow")->file, common);

	/* Listeners: min_backlog 10 then 20; port 80 100 then 200; second
	 * ignores 25, which first required; top adds 8080. */
	cr_assert_eq(p->min_backlog, 20);
	cr_assert_str_eq(p->min_backlog_file, second);
	cr_assert_eq(req(p, 80), 200);
	cr_assert_eq(req(p, 443), 300);
	cr_assert_eq(req(p, 8080), 64);
	cr_assert_eq(req(p, 25), -1);
	cr_assert_eq(req(p, 22), -1);
	cr_assert_eq(req(p, 9999), 20);
	cr_assert_eq(p->nports, 3);
	cr_assert_eq(p->ports[0].port, 80);     /* first assignment keeps its place */
	cr_assert_str_eq(p->ports[0].file, second);
	cr_assert_eq(p->ports[0].line, 10);
	cr_assert_str_eq(p->persist_file, "10-first.conf");
	profile_free(p);
}

/* The checksum is sha256sum(1) of the files' bytes, concatenated in load
 * order: an independent implementation is the reference. */
Test(profile, checksum_covers_every_file_in_order)
{
	struct profile *p = expect_load(fixture("incl/top.yaml"));
	const char *all = tpath("all-bytes");
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
	write_text("a.yaml", "qtune: 1\ninclude: [b.yaml]\n");
	write_text("b.yaml", "qtune: 1\nsysctl: {net.core.somaxconn: 4096}\n");
	p = expect_load(tpath("a.yaml"));
	char before[sizeof(p->checksum)];
	memcpy(before, p->checksum, sizeof(before));
	profile_free(p);
	write_text("b.yaml", "qtune: 1\nsysctl: {net.core.somaxconn: 4097}\n");
	p = expect_load(tpath("a.yaml"));
	cr_assert_str_neq(p->checksum, before);
	profile_free(p);
}

Test(profile, included_twice_loaded_once)
{
	write_text("base.yaml", "qtune: 1\nsysctl:\n  net.core.somaxconn: 100\n");
	write_text("a.yaml", "qtune: 1\ninclude: [base.yaml]\nsysctl:\n  net.core.somaxconn: 200\n");
	write_text("b.yaml", "qtune: 1\ninclude: [./base.yaml]\n");
	write_text("top.yaml", "qtune: 1\ninclude: [a.yaml, b.yaml]\n");

	struct profile *p = expect_load(tpath("top.yaml"));

	/* base is applied once, before a: a's 200 stands even though b
	 * includes base again. */
	cr_assert_eq(p->nfiles, 4);
	cr_assert_str_eq(entry(p, "net.core.somaxconn")->want.value, "200");
	profile_free(p);
}

Test(profile, include_by_name_on_the_search_path)
{
	write_text("etc/qtune/profiles/common.yaml",
		   "qtune: 1\nsysctl:\n  net.ipv4.tcp_syncookies: 1\n");
	write_text("usr/share/qtune/profiles/common.yaml",
		   "qtune: 1\nsysctl:\n  net.ipv4.tcp_syncookies: 2\n");
	write_text("usr/share/qtune/profiles/extra.yaml",
		   "qtune: 1\nsysctl:\n  net.ipv4.tcp_abort_on_overflow: 0\n");
	write_text("work/p.yaml", "qtune: 1\ninclude: [common, extra]\n");

	struct profile *p = expect_load(tpath("work/p.yaml"));

	cr_assert_str_eq(entry(p, "net.ipv4.tcp_syncookies")->want.value, "1");
	cr_assert_str_eq(entry(p, "net.ipv4.tcp_syncookies")->file,
			 tpath("etc/qtune/profiles/common.yaml"));
	cr_assert_str_eq(entry(p, "net.ipv4.tcp_abort_on_overflow")->file,
			 tpath("usr/share/qtune/profiles/extra.yaml"));
	cr_assert_eq(p->nfiles, 3);
	profile_free(p);
}

Test(profile, too_many_includes)
{
	struct qt_diags d;
	char name[32], text[128];

	/* A chain c0 -> c1 -> ...: c16 is the 17th file (the top one and 16
	 * includes), so its include of c17 is one too many. */
	for (int i = 0; i <= PROFILE_MAX_INCLUDES + 1; i++) {
		snprintf(name, sizeof(name), "c%d.yaml", i);
		snprintf(text, sizeof(text), "qtune: 1\ninclude: [c%d.yaml]\n", i + 1);
		write_text(name, text);
	}
	snprintf(name, sizeof(name), "c%d.yaml", PROFILE_MAX_INCLUDES);
	d = reject(tpath("c0.yaml"));
	assert_diag(&d, tpath(name), 2, 11, "too many included files (at most 16 per profile)");
	cr_assert_eq(diags_count(&d, QT_LEVEL_ERROR), 1);
	diags_free(&d);
}

Test(profile, profile_find)
{
	struct qt_ctx ctx = test_ctx();
	struct qt_diags d = { 0 };
	char *path = NULL;

	write_text("etc/qtune/profiles/web.yaml", "qtune: 1\n");
	write_text("usr/share/qtune/profiles/web.yaml", "qtune: 1\n");
	write_text("usr/share/qtune/profiles/database.yaml", "qtune: 1\n");

	/* /etc wins over /usr/share; /usr/share is the fallback. */
	cr_assert_eq(profile_find(&ctx, "web", &path, &d), 0);
	cr_assert_str_eq(path, tpath("etc/qtune/profiles/web.yaml"));
	free(path);
	cr_assert_eq(profile_find(&ctx, "database", &path, &d), 0);
	cr_assert_str_eq(path, tpath("usr/share/qtune/profiles/database.yaml"));
	free(path);

	/* A path is returned as it is, existing or not. */
	cr_assert_eq(profile_find(&ctx, "web.yaml", &path, &d), 0);
	cr_assert_str_eq(path, "web.yaml");
	free(path);
	cr_assert_eq(profile_find(&ctx, "./x", &path, &d), 0);
	cr_assert_str_eq(path, "./x");
	free(path);
	cr_assert_eq(d.n, 0);

	cr_assert_eq(profile_find(&ctx, "nosuch", &path, &d), -ENOENT);
	cr_assert_null(path);
	cr_assert_eq(d.n, 1);
	cr_assert(strstr(d.v[0].msg, "no profile nosuch: nosuch.yaml is not in"), "%s", d.v[0].msg);
	cr_assert(strstr(d.v[0].msg, tpath("etc/qtune/profiles")), "%s", d.v[0].msg);

	cr_assert_eq(profile_find(&ctx, ".hidden", &path, &d), -EINVAL);
	cr_assert_eq(profile_find(&ctx, "", &path, &d), -EINVAL);
	cr_assert_eq(d.n, 3);
	diags_free(&d);
}

Test(profile, default_name_and_persist_file)
{
	struct profile *p = expect_load(write_text("my-edge_1.yml", "qtune: 1\n"));
	char *persist = profile_persist_name(p);

	cr_assert_str_eq(p->name, "my-edge_1");
	cr_assert_null(p->persist_file);
	cr_assert_str_eq(persist, "90-qtune-my-edge_1.conf");
	cr_assert_null(p->description);
	cr_assert_eq(p->nentries, 0);
	free(persist);
	profile_free(p);

	expect_reject(write_text("bad name.yaml", "qtune: 1\n"), 0, 0,
		      "the file name \"bad name\" is not a valid profile name");
}

Test(profile, text_values_and_unknown_keys)
{
	struct profile *p = expect_load(write_text("p.yaml",
		"qtune: 1\n"
		"sysctl:\n"
		"  net.ipv4.ip_local_port_range: 1024 65000\n"   /* plain text is fine */
		"  net.ipv4.tcp_congestion_control: 'bbr'\n"
		"  net.ipv4.tcp_notsent_lowat: -1\n"              /* unknown: kernel judges */
		"  net.ipv6.conf.all.forwarding: {min: 0}\n"));

	cr_assert_str_eq(entry(p, "net.ipv4.ip_local_port_range")->want.value, "1024 65000");
	cr_assert_str_eq(entry(p, "net.ipv4.tcp_congestion_control")->want.value, "bbr");
	cr_assert_str_eq(entry(p, "net.ipv4.tcp_notsent_lowat")->want.value, "-1");
	cr_assert_eq(entry(p, "net/ipv6/conf/all/forwarding")->want.kind, WANT_RANGE);
	profile_free(p);

	expect_reject_text("qtune: 1\nsysctl:\n  net.ipv4.tcp_congestion_control: \"a\\nb = 1\"\n",
			   3, 36, "value holds a control character");
	expect_reject_text("qtune: 1\nsysctl:\n  net.x: on\n", 3, 10,
			   "quote it if you mean the text");
}

/* ---- the shipped profiles ---- */

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
		struct profile *p = expect_load(path);

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
	struct profile *p = expect_load(path);
	cr_assert_str_eq(entry(p, "net.core.somaxconn")->want.value, "4096");
	cr_assert_eq(entry(p, "net.ipv4.tcp_max_syn_backlog")->want.min, 8192);
	cr_assert_str_eq(entry(p, "net.ipv4.tcp_syncookies")->want.value, "1");
	cr_assert_str_eq(entry(p, "net.ipv4.tcp_abort_on_overflow")->want.value, "0");
	cr_assert_eq(req(p, 443), 4096);
	cr_assert_eq(req(p, 80), 4096);
	cr_assert_eq(req(p, 8080), 511);
	cr_assert_eq(p->nfiles, 2);             /* web and base */
	profile_free(p);
}
