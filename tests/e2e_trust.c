/* End-to-end: the two boundaries of issue 10. Host-wide keys are refused in
 * a non-initial network namespace unless --allow-global; files that others
 * can write are refused by apply and only warned about by validate. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox.h"

TestSuite(e2e_trust, .init = sandbox_enter, .fini = sandbox_leave);

#define SOMAXCONN "net/core/somaxconn"
/* kernel.msgmax belongs to the IPC namespace, which sandbox_enter() made
 * private: the one host-wide-looking key a test may really write. */
#define MSGMAX "kernel/msgmax"

static const char mixed[] =
	"qtune: 1\nsysctl:\n  net.core.somaxconn: 2000\n  kernel.msgmax: 9000\n";

Test(e2e_trust, host_wide_key_refused_in_a_non_initial_namespace)
{
	char *err;
	long long msgmax = sandbox_sysctl_get(MSGMAX);

	sandbox_sysctl_set(SOMAXCONN, "128");
	sandbox_write("p/mixed.yaml", mixed, 0644);
	int rc = sandbox_qtune_rooted(NULL, &err, (const char *[]){ "apply", sandbox_path("p/mixed.yaml"), NULL });
	cr_assert_eq(rc, 2, "stderr: %s", err);
	cr_assert(strstr(err, "kernel.msgmax"), "the key is named: %s", err);
	cr_assert(strstr(err, "--allow-global"), "the way out is named: %s", err);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 128, "nothing changed");
	cr_assert_eq(sandbox_sysctl_get(MSGMAX), msgmax);
	free(err);
}

Test(e2e_trust, allow_global_applies_both)
{
	char *err;

	sandbox_sysctl_set(SOMAXCONN, "128");
	sandbox_write("p/mixed.yaml", mixed, 0644);
	int rc = sandbox_qtune_rooted(NULL, &err, (const char *[]){ "apply", "--allow-global",
							sandbox_path("p/mixed.yaml"), NULL });
	cr_assert_eq(rc, 0, "stderr: %s", err);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 2000);
	cr_assert_eq(sandbox_sysctl_get(MSGMAX), 9000);
	free(err);
}

Test(e2e_trust, validate_and_check_only_warn_about_host_wide_keys)
{
	char *err;

	sandbox_write("p/mixed.yaml", mixed, 0644);
	int rc = sandbox_qtune_rooted(NULL, &err, (const char *[]){ "validate", sandbox_path("p/mixed.yaml"), NULL });
	cr_assert_eq(rc, 0, "stderr: %s", err);
	cr_assert(strstr(err, "warning") && strstr(err, "kernel.msgmax"), "%s", err);
	free(err);
}

/* Each case: a tree set up by the test, then apply must refuse it naming the
 * file, its owner and its mode, and validate must warn and exit 0. */
static void expect_refused(const char *profile, const char *named, const char *mode)
{
	char *err;

	sandbox_sysctl_set(SOMAXCONN, "128");
	int rc = sandbox_qtune_rooted(NULL, &err, (const char *[]){ "apply", profile, NULL });
	cr_assert_eq(rc, 2, "apply must refuse; stderr: %s", err);
	cr_assert(strstr(err, named), "names %s: %s", named, err);
	cr_assert(strstr(err, "owner uid"), "names the owner: %s", err);
	cr_assert(strstr(err, mode), "names the mode %s: %s", mode, err);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 128, "nothing changed");
	free(err);

	rc = sandbox_qtune_rooted(NULL, &err, (const char *[]){ "validate", profile, NULL });
	cr_assert_eq(rc, 0, "validate only warns; stderr: %s", err);
	cr_assert(strstr(err, "warning"), "%s", err);
	free(err);
}

static const char good[] = "qtune: 1\nsysctl:\n  net.core.somaxconn: 3000\n";

Test(e2e_trust, world_writable_profile_refused)
{
	sandbox_write("p/w.yaml", good, 0666);
	chmod(sandbox_path("p/w.yaml"), 0666);
	expect_refused(sandbox_path("p/w.yaml"), "w.yaml", "0666");
}

Test(e2e_trust, group_writable_include_refused)
{
	sandbox_write("p/base.yaml", good, 0644);
	chmod(sandbox_path("p/base.yaml"), 0664);
	sandbox_write("p/top.yaml", "qtune: 1\ninclude: [base.yaml]\n", 0644);
	expect_refused(sandbox_path("p/top.yaml"), "base.yaml", "0664");
}

Test(e2e_trust, profile_in_world_writable_non_sticky_directory_refused)
{
	sandbox_write("open/p.yaml", good, 0644);
	chmod(sandbox_path("open"), 0777);
	expect_refused(sandbox_path("open/p.yaml"), "open", "0777");
}

Test(e2e_trust, profile_owned_by_another_user_refused)
{
	sandbox_write("p/other.yaml", good, 0644);
	cr_assert(chown(sandbox_path("p/other.yaml"), 65534, 65534) == 0);
	expect_refused(sandbox_path("p/other.yaml"), "other.yaml", "0644");
}

Test(e2e_trust, sticky_directory_is_fine)
{
	char *err;

	sandbox_sysctl_set(SOMAXCONN, "128");
	sandbox_write("sticky/p.yaml", good, 0644);
	chmod(sandbox_path("sticky"), 01777);
	int rc = sandbox_qtune_rooted(NULL, &err, (const char *[]){ "apply", sandbox_path("sticky/p.yaml"), NULL });
	cr_assert_eq(rc, 0, "stderr: %s", err);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 3000);
	free(err);
}

Test(e2e_trust, state_directory_writable_by_others_refused)
{
	char *err;

	sandbox_sysctl_set(SOMAXCONN, "128");
	sandbox_write("p/good.yaml", good, 0644);
	sandbox_write("var/lib/qtune/.keep", "", 0644);
	chmod(sandbox_path("var/lib/qtune"), 0777);
	int rc = sandbox_qtune_rooted(NULL, &err, (const char *[]){ "apply", sandbox_path("p/good.yaml"), NULL });
	cr_assert_eq(rc, 2, "stderr: %s", err);
	cr_assert(strstr(err, "var/lib/qtune") && strstr(err, "0777"), "%s", err);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 128, "nothing changed");
	free(err);
}

Test(e2e_trust, sysctl_d_writable_by_others_refused_for_persist)
{
	char *err;

	sandbox_sysctl_set(SOMAXCONN, "128");
	sandbox_write("p/good.yaml", good, 0644);
	sandbox_write("etc/sysctl.d/.keep", "", 0644);
	chmod(sandbox_path("etc/sysctl.d"), 0777);
	int rc = sandbox_qtune_rooted(NULL, &err, (const char *[]){ "apply", "--persist",
						 sandbox_path("p/good.yaml"), NULL });
	cr_assert_eq(rc, 2, "stderr: %s", err);
	cr_assert(strstr(err, "etc/sysctl.d") && strstr(err, "0777"), "%s", err);
	cr_assert_eq(sandbox_sysctl_get(SOMAXCONN), 128, "nothing changed");
	free(err);
}
