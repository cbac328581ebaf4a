/* fuzz_profile: libFuzzer target for the profile loader (YAML → struct
 * profile, includes, validation, diagnostics). Each input becomes
 * ROOT/p/fuzz.yaml in a scratch tree that also holds a few profiles to
 * include, by relative path and by bare name (ROOT is --root); the loader
 * reads no /proc/sys (that is profile_check's, not fuzzed). Whatever the
 * input, the loader must return 0 or -EINVAL with a reason, and every
 * message it leaves must render. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "diag.h"
#include "fuzz_tree.h"
#include "plan.h"
#include "profile.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fz_input[300];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* What seeds include: base.yaml next to them, first.yaml and
	 * sub/second.yaml (which reaches ../common.yaml), and "base" by name. */
	static const char base[] =
		"qtune: 1\nname: base\nsysctl:\n  net.core.somaxconn: {min: 4096}\n"
		"  net.ipv4.tcp_syncookies: 1\nlisteners:\n  ignore: [22]\n";

	(void)argc; (void)argv;
	fuzz_tree_make("profile");
	fuzz_tree_put("p/base.yaml", base);
	fuzz_tree_put("etc/qtune/profiles/base.yaml", base);
	fuzz_tree_put("p/first.yaml", "qtune: 1\nsysctl:\n  net.core.somaxconn: 1000\n"
		      "listeners:\n  ports:\n    80: 100\n");
	fuzz_tree_put("p/sub/second.yaml", "qtune: 1\ninclude: [../common.yaml]\nsysctl:\n"
		      "  net/core/somaxconn: 2000\n");
	fuzz_tree_put("p/common.yaml", "qtune: 1\nsysctl:\n  net.ipv4.tcp_abort_on_overflow: 0\n");
	snprintf(fz_input, sizeof(fz_input), "%s/p/fuzz.yaml", fuzz_root);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qt_diags d = { 0 };
	struct profile *p = NULL;
	char want[128];
	int r;

	fuzz_tree_write(fz_input, data, size);
	r = profile_load(fuzz_root, fz_input, QT_LEVEL_OK, &p, &d);
	if (r != 0 && r != -EINVAL)
		abort();
	if ((r == 0) != (p != NULL) || (r < 0 && diags_count(&d, QT_LEVEL_ERROR) == 0))
		abort();        /* a refusal always says why; success hands a profile */
	if (p) {
		char *persist = profile_persist_name(p);

		if (!profile_persist_name_valid(persist, NULL))
			abort();        /* whatever loads names a file qtune may write */
		free(persist);
		for (size_t i = 0; i < p->nentries; i++) {
			plan_describe_want(&p->entries[i].want, want, sizeof(want));
			if (profile_entry_for(p, p->entries[i].key) != &p->entries[i])
				abort();        /* keys are unique after the merge */
		}
	}
	diags_print(fuzz_sink, &d, QT_LEVEL_OK);
	diags_free(&d);
	profile_free(p);
	return 0;
}
