/* End-to-end: the advice qtune gives for a listener, as the command line
 * prints it, in a private network namespace with a real socket: what it
 * says when the owners were not looked up (listeners --no-owners), and that
 * the commands that look them up name them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"

TestSuite(e2e_advice, .init = sandbox_enter, .fini = sandbox_leave, .timeout = 30);

static const char not_looked_up[] =
	"its owners were not looked up: run `qtune listeners` without --no-owners to name them";

/* A listener at 128, the kernel's default somaxconn before 5.4, under this
 * namespace's 4096: maybe-clamped, so it gets advice. Run as root, which
 * --no-owners must never tell to run as root. */
Test(e2e_advice, no_owners_says_the_owners_were_not_looked_up)
{
	uint16_t port;
	int fd = sandbox_listen("127.0.0.1", 0, 128, &port);
	char *out, *err, line[160];

	cr_assert_eq(getuid(), 0);
	cr_assert_eq(sandbox_sysctl_get("net/core/somaxconn"), 4096);
	cr_assert_eq(sandbox_qtune(&out, &err, (const char *[]){ "--no-owners", "listeners", NULL }), 0,
		     "%s", err);
	snprintf(line, sizeof(line), "\n  127.0.0.1:%u: %s\n", port, not_looked_up);
	cr_assert(strstr(out, line), "%s", out);
	cr_assert_null(strstr(out, "as root"), "%s", out);
	free(out);
	free(err);

	cr_assert_eq(sandbox_qtune(&out, &err, (const char *[]){ "--json", "listeners", "--no-owners", NULL }),
		     0, "%s", err);
	cr_assert(strstr(out, "\"owners_looked_up\":false,\"owners_known\":false"), "%s", out);
	snprintf(line, sizeof(line), "\"advice\":{\"action\":\"owner-unknown\",\"backlog\":null,"
		 "\"text\":\"%s\"}", not_looked_up);
	cr_assert(strstr(out, line), "%s", out);
	cr_assert_null(strstr(out, "as root"), "%s", out);
	free(out);
	free(err);

	/* Looked up, the owner is named and the action is the real one. */
	cr_assert_eq(sandbox_qtune(&out, &err, (const char *[]){ "--json", "listeners", NULL }), 0, "%s", err);
	cr_assert(strstr(out, "\"owners_looked_up\":true,\"owners_known\":true"), "%s", out);
	cr_assert(strstr(out, "\"advice\":{\"action\":\"relisten-all\",\"backlog\":4096"), "%s", out);
	cr_assert_null(strstr(out, "not looked up"), "%s", out);
	free(out);
	free(err);

	/* check looks up the owners of what it flags: named, never "not
	 * looked up" nor "as root". */
	sandbox_write("p/web.yaml", "qtune: 1\nsysctl:\n  net.core.somaxconn: 4096\n", 0644);
	int rc = sandbox_qtune_rooted(&out, &err, (const char *[]){ "--json", "check",
						 sandbox_path("p/web.yaml"), NULL });
	cr_assert(rc == 0 || rc == 1, "%d %s", rc, err);
	cr_assert(strstr(out, "\"action\":\"relisten-all\""), "%s", out);
	cr_assert_null(strstr(out, "not looked up"), "%s", out);
	cr_assert_null(strstr(out, "as root"), "%s", out);
	free(out);
	free(err);
	close(fd);
}
