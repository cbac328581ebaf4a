/* End-to-end: the listener audit through the qtune binary, with real
 * sockets in a private network namespace. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sandbox.h"

TestSuite(e2e_listeners, .init = sandbox_enter, .fini = sandbox_leave);

/* The JSON object of the listener on port, as text (up to its findings). */
static const char *listener_json(const char *doc, uint16_t port)
{
	char needle[32];

	snprintf(needle, sizeof(needle), "\"port\":%u,", port);
	return strstr(doc, needle);
}

Test(e2e_listeners, clamped_listener_flagged_after_apply_with_its_pid)
{
	char *out, *err, pid[32];
	uint16_t port;

	sandbox_sysctl_set("net/core/somaxconn", "128");
	int fd = sandbox_listen("127.0.0.1", 0, 4096, &port);
	sandbox_write("p/raise.yaml", "qtune: 1\nsysctl:\n  net.core.somaxconn: 4096\n", 0644);
	int rc = sandbox_qtune_rooted(&out, &err, (const char *[]){ "--json", "apply",
						sandbox_path("p/raise.yaml"), NULL });
	cr_assert_eq(rc, 0, "stderr: %s", err);
	const char *l = listener_json(out, port);
	cr_assert(l, "listener on %u missing: %s", port, out);
	cr_assert(strstr(l, "\"backlog\":128"), "%s", l);
	cr_assert(strstr(l, "\"kind\":\"clamped\""), "%s", l);
	snprintf(pid, sizeof(pid), "\"pid\":%d", (int)getpid());
	cr_assert(strstr(l, pid), "owner pid named: %s", l);
	free(out);
	free(err);

	/* Until the listener calls listen() again, check keeps saying so. */
	rc = sandbox_qtune_rooted(&out, NULL, (const char *[]){ "check", sandbox_path("p/raise.yaml"), NULL });
	cr_assert_eq(rc, 1, "%s", out);
	cr_assert(strstr(out, "clamped"), "%s", out);
	free(out);
	cr_assert_eq(listen(fd, 4096), 0);
	rc = sandbox_qtune_rooted(&out, NULL, (const char *[]){ "check", sandbox_path("p/raise.yaml"), NULL });
	cr_assert_eq(rc, 0, "after listen() again it complies: %s", out);
	free(out);
	close(fd);
}

Test(e2e_listeners, below_min_flagged_and_ignored_port_never)
{
	char *out, buf[256];
	uint16_t small, ignored;
	int a = sandbox_listen("127.0.0.1", 0, 64, &small);
	int b = sandbox_listen("127.0.0.1", 0, 64, &ignored);

	snprintf(buf, sizeof(buf), "qtune: 1\nsysctl:\n  net.core.somaxconn: {min: 1}\n"
		 "listeners:\n  min_backlog: 1024\n  ignore: [%u]\n", ignored);
	sandbox_write("p/min.yaml", buf, 0644);
	int rc = sandbox_qtune_rooted(&out, NULL, (const char *[]){ "--json", "check", sandbox_path("p/min.yaml"), NULL });
	cr_assert_eq(rc, 1, "%s", out);
	const char *l = listener_json(out, small);
	cr_assert(l && strstr(l, "below-min"), "%s", out);
	l = listener_json(out, ignored);
	if (l) {
		const char *next = strstr(l + 1, "\"port\":");
		const char *hit = strstr(l, "below-min");
		cr_assert(!hit || (next && hit > next), "ignored port flagged: %s", out);
	}
	free(out);
	close(a);
	close(b);
}

Test(e2e_listeners, ipv6_listeners_are_seen)
{
	char *out;
	uint16_t port;
	int fd = sandbox_listen("::1", 0, 77, &port);

	cr_assert_eq(sandbox_qtune(&out, NULL, (const char *[]){ "--json", "listeners", NULL }), 0);
	const char *l = listener_json(out, port);
	cr_assert(l, "%s", out);
	cr_assert(strstr(out, "\"address\":\"::1\""), "%s", out);
	cr_assert(strstr(l, "\"backlog\":77"), "%s", l);
	free(out);
	close(fd);
}

Test(e2e_listeners, full_accept_queue_flagged_queue_full)
{
	char *out;
	uint16_t port;
	int fd = sandbox_listen("127.0.0.1", 0, 1, &port), c[3];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	/* Never accepted: backlog 1 holds 2, the third waits in SYN-RECV. */
	for (int i = 0; i < 3; i++) {
		c[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(c[i], (struct sockaddr *)&sa, sizeof(sa));
	}
	usleep(200 * 1000);
	cr_assert_eq(sandbox_qtune(&out, NULL, (const char *[]){ "listeners", NULL }), 0);
	cr_assert(strstr(out, "queue-full"), "%s", out);
	free(out);
	for (int i = 0; i < 3; i++)
		close(c[i]);
	close(fd);
}
