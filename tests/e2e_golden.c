/* End-to-end: golden outputs (mandoc-style). Each case of
 * tests/golden/cases runs qtune in the source directory, in the sandbox's
 * namespace, and its stdout and stderr must be tests/golden/NAME.out and
 * NAME.err byte for byte (no .err: empty); a mismatch prints `diff -u`.
 * `make golden` regenerates them when a change of output is meant. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"
#include "util.h"

TestSuite(e2e_golden, .init = sandbox_enter, .fini = sandbox_leave);

#define GOLDEN_ARGS_MAX 32

/* The golden text at path ("" when the file does not exist); malloc'd. */
static char *golden_text(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return xstrdup("");
	FILE *m = open_memstream(&text, &len);
	cr_assert_not_null(m);
	for (int c; (c = fgetc(f)) != EOF;)
		fputc(c, m);
	fclose(f);
	fclose(m);
	return text;
}

/* Compares got with the golden file; on a difference prints diff -u. */
static bool same_as_golden(const char *name, const char *ext, const char *got)
{
	char *path = xasprintf("tests/golden/%s.%s", name, ext);
	char *want = golden_text(path);
	bool same = strcmp(want, got) == 0;

	if (!same) {
		char tmp[] = "/tmp/qtune-golden-XXXXXX";
		int fd = mkstemp(tmp);
		cr_assert_geq(fd, 0);
		FILE *f = fdopen(fd, "w");
		fputs(got, f);
		fclose(f);
		char *cmd = xasprintf("diff -u %s %s >&2", access(path, F_OK) == 0 ? path : "/dev/null", tmp);
		fprintf(stderr, "golden %s.%s differs (make golden regenerates it):\n", name, ext);
		(void)!system(cmd);
		free(cmd);
		unlink(tmp);
	}
	free(want);
	free(path);
	return same;
}

Test(e2e_golden, every_case_prints_its_golden_output)
{
	const char *src = getenv("QTUNE_SRCDIR");
	char line[4096];
	unsigned ncases = 0, bad = 0;

	cr_assert_not_null(src, "QTUNE_SRCDIR is not set (run the tests through make check)");
	cr_assert_eq(chdir(src), 0);
	FILE *cases = fopen("tests/golden/cases", "r");
	cr_assert_not_null(cases);
	while (fgets(line, sizeof(line), cases)) {
		const char *argv[GOLDEN_ARGS_MAX + 1];
		size_t argc = 0;
		char *save = NULL, *name, *rc_text, *out, *err;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		name = strtok_r(line, " \t\n", &save);
		rc_text = strtok_r(NULL, " \t\n", &save);
		cr_assert(name && rc_text, "tests/golden/cases: a case without NAME RC");
		while (argc < GOLDEN_ARGS_MAX && (argv[argc] = strtok_r(NULL, " \t\n", &save)))
			argc++;
		argv[argc] = NULL;
		int rc = sandbox_qtune(&out, &err, argv);
		ncases++;
		if (rc != atoi(rc_text)) {
			fprintf(stderr, "golden %s exits %d, not %s:\n%s%s", name, rc, rc_text, out, err);
			bad++;
		}
		bad += !same_as_golden(name, "out", out);
		bad += !same_as_golden(name, "err", err);
		free(out);
		free(err);
	}
	fclose(cases);
	cr_assert_geq(ncases, 5, "tests/golden/cases lost its cases");
	cr_assert_eq(bad, 0, "%u of %u golden cases differ (see the diffs above)", bad, ncases);
}
