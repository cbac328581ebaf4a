/* End-to-end: the boot replay as check and show --boot report it (issue
 * 16): no false drift from an inline comment, the line that decides named
 * when the default stays, host-wide keys said to be the host's, and no
 * spurious failure while renames race with openat2 resolution. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"

TestSuite(e2e_boot, .init = sandbox_enter, .fini = sandbox_leave);

static const char profile[] = "qtune: 1\nname: nginx\nsysctl:\n  net.core.somaxconn: 1024\n";

/* qtune --root SANDBOX ARGS..., which must exit want_rc; its stdout
 * (static until the next call). */
static const char *qtune_out(int want_rc, const char *const argv[])
{
	static char *out;
	char *err;

	free(out);
	int rc = sandbox_qtune_rooted(&out, &err, argv);
	cr_assert_eq(rc, want_rc, "%s exits %d, not %d:\n%s%s", argv[0], rc, want_rc, out, err);
	free(err);
	return out;
}

Test(e2e_boot, an_inline_comment_is_no_drift)
{
	sandbox_write("usr/lib/sysctl.d/10-a.conf", "net.core.somaxconn = 1024 # raised for nginx\n", 0644);
	sandbox_write("p/nginx.yaml", profile, 0644);
	sandbox_sysctl_set("net/core/somaxconn", "1024");
	/* the kernel stores 1024, as the profile wants */
	const char *out = qtune_out(0, (const char *[]){ "check", sandbox_path("p/nginx.yaml"), NULL });

	cr_assert(strstr(out, "net.core.somaxconn  1024     1024     ok       /usr/lib/sysctl.d/10-a.conf:1\n"),
		  "%s", out);
}

Test(e2e_boot, a_cancelled_key_names_the_line_that_cancels_it)
{
	sandbox_write("usr/lib/sysctl.d/10-a.conf", "net.core.somaxconn = 1024\n-net.core.somaxconn\n", 0644);
	sandbox_write("p/nginx.yaml", profile, 0644);
	sandbox_sysctl_set("net/core/somaxconn", "1024");
	/* not-set is no drift */
	const char *out = qtune_out(0, (const char *[]){ "check", sandbox_path("p/nginx.yaml"), NULL });

	cr_assert(strstr(out, "net.core.somaxconn  (kernel default)  1024     not-set  /usr/lib/sysctl.d/10-a.conf:2 "
			      "excludes it (-net.core.somaxconn)\n"), "%s", out);
	cr_assert(strstr(out, "\n                    1024                                sysctl --system: "
			      "/usr/lib/sysctl.d/10-a.conf:1\n"), "%s", out);
	out = qtune_out(0, (const char *[]){ "show", "--boot", NULL });
	cr_assert(strstr(out, "(kernel default)  /usr/lib/sysctl.d/10-a.conf:2 excludes it (-net.core.somaxconn)"),
		  "%s", out);
}

Test(e2e_boot, a_refused_value_keeps_the_columns_and_says_so)
{
	sandbox_write("usr/lib/sysctl.d/10-a.conf", "net.core.somaxconn =\nnet.ipv4.tcp_syncookies = 1 # on\n", 0644);
	const char *out = qtune_out(0, (const char *[]){ "show", "--boot", NULL });

	cr_assert(strstr(out, "net.core.somaxconn              (kernel default)  /usr/lib/sysctl.d/10-a.conf:1 sets "
			      "an empty value, which the kernel refuses\n"), "%s", out);
	cr_assert(strstr(out, "net.ipv4.tcp_syncookies         1                 /usr/lib/sysctl.d/10-a.conf:2\n"),
		  "%s", out);
}

Test(e2e_boot, a_host_wide_key_is_the_hosts_outside_the_initial_namespace)
{
	sandbox_write("usr/lib/sysctl.d/10-a.conf", "net.core.netdev_max_backlog = 5000\n", 0644);
	const char *out = qtune_out(0, (const char *[]){ "show", "--boot", NULL });

	cr_assert(strstr(out, "net.core.netdev_max_backlog     (host-wide)       not this namespace's: host-wide, "
			      "the host's boot sets it\n"), "%s", out);
	out = qtune_out(0, (const char *[]){ "--json", "show", "--boot", NULL });
	cr_assert(strstr(out, "{\"key\":\"net.core.netdev_max_backlog\",\"per_netns\":false,\"value\":null"), "%s", out);
}

/* Renames anywhere bump the kernel's rename sequence: an openat2
 * RESOLVE_IN_ROOT walk that crosses ".." (99-sysctl.conf -> ../sysctl.conf)
 * then fails with EAGAIN unless it is retried. */
static atomic_bool stop;

static void *rename_loop(void *arg)
{
	const char *dir = arg;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);

	while (dfd >= 0 && !atomic_load(&stop)) {
		renameat(dfd, "x", dfd, "y");
		renameat(dfd, "y", dfd, "x");
	}
	if (dfd >= 0)
		close(dfd);
	return NULL;
}

Test(e2e_boot, renames_racing_with_the_replay_never_fail_it, .timeout = 120)
{
	char dir[] = "/tmp/qtune-rename-XXXXXX";
	pthread_t t;
	unsigned failed = 0, runs = 0;

	sandbox_write("etc/sysctl.conf", "net.core.somaxconn = 1024\n", 0644);
	sandbox_mkdir("etc/sysctl.d");
	sandbox_symlink("../sysctl.conf", "etc/sysctl.d/99-sysctl.conf");
	cr_assert_not_null(mkdtemp(dir));
	char *x = malloc(strlen(dir) + 3);
	sprintf(x, "%s/x", dir);
	close(open(x, O_CREAT | O_WRONLY, 0600));
	cr_assert_eq(pthread_create(&t, NULL, rename_loop, dir), 0);
	for (; runs < 300; runs++) {
		char *out, *err;
		int rc = sandbox_qtune_rooted(&out, &err, (const char *[]){ "show", "--boot", NULL });

		if (rc != 0 || strstr(err, "Resource temporarily unavailable"))
			failed++;
		free(out);
		free(err);
	}
	atomic_store(&stop, true);
	pthread_join(t, NULL);
	unlink(x);
	sprintf(x, "%s/y", dir);
	unlink(x);
	rmdir(dir);
	free(x);
	cr_assert_eq(failed, 0, "%u of %u show --boot runs failed while renames raced", failed, runs);
}
