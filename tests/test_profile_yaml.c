/* Tests for the YAML event reader under the profile loader: syntax errors
 * with their position, strict integers, bytes that are not text, and the
 * hostile inputs (deep nesting, alias bombs, tags, floods of errors)
 * refused at the first sign, bounded in time and memory. Pure parsing: no
 * root, no /proc/sys. */
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

TestSuite(profile_yaml, .init = pt_tmp_make, .fini = pt_tmp_remove, .timeout = 20);

Test(profile_yaml, yaml_syntax_error)
{
	pt_expect_reject(pt_fixture("bad-syntax.yaml"), 5, 10,
		      "invalid YAML: did not find expected ',' or ']' "
		      "(while parsing a flow sequence at line 4, column 28)");
}

Test(profile_yaml, integers_are_strict)
{
	static const char *const bad[] = { "0x10", "1e3", "+5", "4096.0", "4_096", "0100", "--1" };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char text[128];

		snprintf(text, sizeof(text), "qtune: 1\nsysctl:\n  net.core.somaxconn: %s\n", bad[i]);
		pt_expect_reject_text(text, 3, 23, "net.core.somaxconn: ");
	}
	pt_expect_reject_text("qtune: 1\nsysctl:\n  net.core.somaxconn: 0x10\n", 3, 23,
			   "expected an integer, got \"0x10\"");
	pt_expect_reject_text("qtune: 1\nsysctl:\n  net.core.somaxconn: 0100\n", 3, 23,
			   "0100: leading zeros are not allowed");
}

Test(profile_yaml, negative_integer)
{
	pt_expect_reject(pt_fixture("bad-negative.yaml"), 3, 23,
		      "net.core.somaxconn: -1 is negative (valid: 0..2147483647)");
	pt_expect_reject_text("qtune: 1\nlisteners:\n  min_backlog: -5\n", 3, 16,
			   "listeners.min_backlog: backlog -5 is negative");
	pt_expect_reject_text("qtune: 1\nlisteners:\n  ports: {80: -1}\n", 3, 15,
			   "listeners.ports.80: backlog -1 is negative");
}

Test(profile_yaml, overflowing_integer)
{
	const char *path = pt_fixture("bad-overflow.yaml");
	struct qt_diags d = pt_reject(path);

	pt_assert_diag(&d, path, 3, 23, "net.core.somaxconn: integer 99999999999999999999 overflows");
	pt_assert_diag(&d, path, 4, 33,
		    "net.ipv4.tcp_max_syn_backlog: 2147483648 is out of range (valid: 0..2147483647)");
	diags_free(&d);
	/* Also for keys qtune does not know, and for backlogs. */
	pt_expect_reject_text("qtune: 1\nsysctl:\n  net.core.rmem_max: -99999999999999999999\n", 3, 22,
			   "net.core.rmem_max: integer -99999999999999999999 overflows");
	pt_expect_reject_text("qtune: 1\nlisteners:\n  ports: {443: 2147483648}\n", 3, 16,
			   "listeners.ports.443: backlog 2147483648 is out of range");
}

Test(profile_yaml, not_a_text_file)
{
	static const unsigned char elf[] = "qtune: 1\n\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03";

	pt_write_bytes("bin.yaml", elf, sizeof(elf));
	pt_expect_reject(pt_tpath("bin.yaml"), 2, 1, "not a text file (control character)");

	pt_write_bytes("nul.yaml", "qtune: 1\nname: a\0b\n", 19);
	pt_expect_reject(pt_tpath("nul.yaml"), 2, 8, "not a text file (NUL byte)");

	pt_write_bytes("latin1.yaml", "qtune: 1\ndescription: caf\xe9\n", 27);
	pt_expect_reject(pt_tpath("latin1.yaml"), 2, 17, "not a text file (invalid UTF-8)");

	/* Overlong encoding of '/', and a UTF-16 surrogate: both invalid. */
	pt_write_bytes("overlong.yaml", "qtune: 1\n\xc0\xaf: 1\n", 15);
	pt_expect_reject(pt_tpath("overlong.yaml"), 2, 1, "not a text file (invalid UTF-8)");
	pt_write_bytes("surrogate.yaml", "qtune: 1\n\xed\xa0\x80: 1\n", 16);
	pt_expect_reject(pt_tpath("surrogate.yaml"), 2, 1, "not a text file (invalid UTF-8)");
}

Test(profile_yaml, deep_nesting)
{
	size_t n = 10000;
	char *text = xmalloc(n + 64);
	int len = snprintf(text, n + 64, "qtune: 1\nsysctl:\n  net.core.somaxconn: ");

	memset(text + len, '[', n);
	text[len + n] = '\0';
	pt_write_text("deep.yaml", text);
	free(text);

	long rss = pt_peak_reset();
	/* Depth 1 is the top mapping, 2 sysctl, then 3..9 are '[': the 7th
	 * bracket, at column 23 + 6, is one level too many. */
	pt_expect_reject(pt_tpath("deep.yaml"), 3, 29, "nesting deeper than 8 levels");
	pt_assert_cheap(rss);

	/* Block style nests the same way. */
	pt_expect_reject_text("qtune: 1\nsysctl:\n a:\n  b:\n   c:\n    d:\n     e:\n      f:\n"
			   "       g:\n        h: 1\n", 10, 9, "nesting deeper than 8 levels");
}

Test(profile_yaml, alias_expansion_bomb)
{
	long rss = pt_peak_reset();

	/* Refused at the first anchor: nothing is ever expanded. */
	pt_expect_reject(pt_fixture("bad-alias-bomb.yaml"), 3, 23,
		      "anchor &a: YAML anchors and aliases are not allowed");
	pt_assert_cheap(rss);
	pt_expect_reject_text("qtune: 1\nsysctl:\n  net.core.somaxconn: *undefined\n", 3, 23,
			   "alias *undefined: YAML anchors and aliases are not allowed");
}

Test(profile_yaml, documents_and_tags_refused)
{
	pt_expect_reject_text("qtune: 1\n---\nqtune: 1\n", 2, 1,
			   "multiple YAML documents are not allowed");
	pt_expect_reject_text("qtune: 1\nsysctl:\n  net.core.somaxconn: !!python/object:os.system 5\n",
			   3, 23, "YAML tags are not allowed (tag:yaml.org,2002:python/object:os.system)");
}

Test(profile_yaml, too_many_keys_and_too_many_errors)
{
	size_t cap = 64 + 40 * (PROFILE_MAX_KEYS + 2);
	char *text = xmalloc(cap);
	size_t off = (size_t)snprintf(text, cap, "qtune: 1\nsysctl:\n");

	for (int i = 0; i <= PROFILE_MAX_KEYS; i++)
		off += (size_t)snprintf(text + off, cap - off, "  net.k%d: %d\n", i, i);
	pt_expect_reject_text(text, 3 + PROFILE_MAX_KEYS, 3, "more than 512 keys");

	off = (size_t)snprintf(text, cap, "qtune: 1\n");
	for (int i = 0; i < 2 * PROFILE_MAX_ERRORS; i++)
		off += (size_t)snprintf(text + off, cap - off, "x%d: 1\n", i);
	struct qt_diags d = pt_reject(pt_write_text("p.yaml", text));

	cr_assert_eq(d.n, PROFILE_MAX_ERRORS + 1);
	cr_assert(strstr(d.v[PROFILE_MAX_ERRORS].msg, "too many problems"));
	diags_free(&d);
	free(text);
}
