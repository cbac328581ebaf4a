/* Tests for the check of a loaded profile against /proc/sys: a key qtune
 * does not know must exist there, reported at its FILE:LINE:COL. Reads
 * /proc/sys only (any user may). */
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
#include "profile_check.h"
#include "profile_fixture.h"
#include "sysctl.h"
#include "util.h"

TestSuite(profile_check, .init = pt_tmp_make, .fini = pt_tmp_remove, .timeout = 20);

/* The parser judges no key by the running kernel: a key it does not know
 * loads, and the check pass is what refuses it, at its position. */
Test(profile_check, key_that_does_not_exist)
{
	struct qt_diags d = { 0 };
	const char *path = pt_fixture("bad-no-such-key.yaml");
	struct profile *p = pt_expect_load(path);
	int procsys;

	cr_assert_null(pt_entry(p, "net.core.qtune_no_such_key")->info);
	cr_assert_eq(sysctl_open_root(&procsys), 0);
	cr_assert_eq(profile_check_keys(p, procsys, &d), -EINVAL);
	pt_assert_diag(&d, path, 4, 3,
		       "unknown key net.core.qtune_no_such_key: no such file under /proc/sys");
	/* The known key on line 3 is fine: one problem only. */
	cr_assert_eq(diags_count(&d, QT_LEVEL_ERROR), 1);
	diags_free(&d);
	profile_free(p);

	/* An unknown key that exists is accepted (text or integer). */
	path = pt_write_text("ok.yaml", "qtune: 1\nsysctl:\n  net.ipv4.tcp_rmem: 4096 131072 6291456\n"
					"  net/core/rmem_max: 212992\n");
	p = pt_expect_load(path);
	cr_assert_eq(profile_check_keys(p, procsys, &d), 0);
	cr_assert_eq(d.n, 0);
	cr_assert_str_eq(pt_entry(p, "net.ipv4.tcp_rmem")->want.value, "4096 131072 6291456");
	cr_assert_null(pt_entry(p, "net.ipv4.tcp_rmem")->info);
	cr_assert_str_eq(pt_entry(p, "net.core.rmem_max")->want.value, "212992");
	profile_free(p);
	close(procsys);
}

/* A directory is not a key; the position is the winning assignment's,
 * in the included file that made it. */
Test(profile_check, directory_key_reported_where_it_was_set)
{
	struct qt_diags d = { 0 };
	struct profile *p;
	int procsys;

	pt_write_text("inc.yaml", "qtune: 1\nsysctl:\n  net.core.qtune_missing: 1\n");
	p = pt_expect_load(pt_write_text("top.yaml",
		"qtune: 1\ninclude: [inc.yaml]\nsysctl:\n  net.ipv4.conf: x\n"));
	cr_assert_eq(sysctl_open_root(&procsys), 0);
	cr_assert_eq(profile_check_keys(p, procsys, &d), -EINVAL);
	pt_assert_diag(&d, pt_tpath("top.yaml"), 4, 3,
		       "unknown key net.ipv4.conf: a directory under /proc/sys, not a key");
	pt_assert_diag(&d, pt_tpath("inc.yaml"), 3, 3,
		       "unknown key net.core.qtune_missing: no such file under /proc/sys");
	cr_assert_eq(diags_count(&d, QT_LEVEL_ERROR), 2);
	diags_free(&d);
	profile_free(p);
	close(procsys);
}

/* Keys of the table are never probed: a bad fd shows that nothing is read
 * for them. */
Test(profile_check, known_keys_are_not_probed)
{
	struct qt_diags d = { 0 };
	struct profile *p = pt_expect_load(pt_write_text("p.yaml",
		"qtune: 1\nsysctl:\n  net.core.somaxconn: 4096\n  net.ipv4.tcp_max_syn_backlog: 4096\n"));

	cr_assert_eq(profile_check_keys(p, -1, &d), 0);
	cr_assert_eq(d.n, 0);
	profile_free(p);
}
