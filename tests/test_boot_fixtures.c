/* boot fixtures: the minimal sysctl.d tree of each rule where
 * systemd-sysctl 252 and procps 4.0.2 were seen to differ from a naive
 * replay (issue 16), loaded from tests/fixtures/sysctld/RULE/root and
 * checked against RULE/expected: what each tool leaves, and whether qtune
 * says they disagree. make check-boot checks the same files against the
 * real tools, so a failure here names the rule qtune broke. No root. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "diag.h"
#include "sysctld.h"
#include "util.h"

static void check_fixture(const char *rule)
{
	const char *src = getenv("QTUNE_SRCDIR");
	char *dir = xasprintf("%s/tests/fixtures/sysctld/%s", src ? src : ".", rule);
	char *root = xasprintf("%s/root", dir), *exp = xasprintf("%s/expected", dir);
	struct qt_ctx ctx = { .root = root, .out = stdout };
	struct qt_diags diags = { 0 };
	struct sysctld_config *conf = NULL;
	char line[512];
	unsigned checks = 0;
	FILE *f;

	cr_assert_eq(sysctld_load(&ctx, &conf, &diags), 0, "%s: cannot load %s", rule, root);
	cr_assert(conf->complete, "%s: replay incomplete", rule);
	f = fopen(exp, "r");
	cr_assert_not_null(f, "%s: no %s", rule, exp);
	while (fgets(line, sizeof(line), f)) {
		char tool[16], key[256], want[256];
		struct sysctld_resolved res;

		if (line[0] == '#' || sscanf(line, "%15s %255s %255s", tool, key, want) != 3)
			continue;
		cr_assert_eq(sysctld_resolve(conf, key, &res), 0, "%s: %s is not a key", rule, key);
		checks++;
		if (strcmp(tool, "flag") == 0) {
			cr_assert_eq(res.disagree, strcmp(want, "disagree") == 0,
				     "rule %s: %s: the tools %s, qtune says they %s", rule, key, want,
				     res.disagree ? "disagree" : "agree");
			continue;
		}
		enum sysctld_tool t = strcmp(tool, "systemd") == 0 ? SYSCTLD_SYSTEMD : SYSCTLD_PROCPS;
		const char *got = res.by[t].value;

		cr_assert(strcmp(tool, "systemd") == 0 || strcmp(tool, "procps") == 0,
			  "%s: unknown tool %s", rule, tool);
		if (strcmp(want, "-") == 0)
			cr_assert_null(got, "rule %s: %s leaves %s at its default, qtune predicts %s",
				       rule, tool, key, got);
		else
			cr_assert(got && strcmp(got, want) == 0,
				  "rule %s: %s leaves %s = %s, qtune predicts %s", rule, tool, key, want,
				  got ? got : "the kernel default");
	}
	fclose(f);
	cr_assert_gt(checks, 0, "%s: %s checks nothing", rule, exp);
	sysctld_config_free(conf);
	diags_free(&diags);
	free(dir);
	free(root);
	free(exp);
}

Test(boot_fixtures, inline_comment) { check_fixture("inline-comment"); }
Test(boot_fixtures, refused_value) { check_fixture("refused-value"); }
Test(boot_fixtures, glob_exclusion) { check_fixture("glob-exclusion"); }
Test(boot_fixtures, dash_blank) { check_fixture("dash-blank"); }
Test(boot_fixtures, lone_cr_nul) { check_fixture("lone-cr-nul"); }
Test(boot_fixtures, trailing_separator) { check_fixture("trailing-separator"); }
Test(boot_fixtures, dot_segment) { check_fixture("dot-segment"); }
Test(boot_fixtures, dot_dot) { check_fixture("dot-dot"); }
Test(boot_fixtures, long_line) { check_fixture("long-line"); }
Test(boot_fixtures, raw_spelling) { check_fixture("raw-spelling"); }
Test(boot_fixtures, disagree_flag) { check_fixture("disagree-flag"); }
