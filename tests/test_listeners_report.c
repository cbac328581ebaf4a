/* Tests for listeners_report: the table and the JSON of a hand-made set.
 * The expected texts are the interface; change them only on purpose. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_listeners.h"
#include "findings.h"
#include "listeners_report.h"

static struct listener_set set;
static struct findings fs;
static char *text;
static size_t text_len;

static void cleanup(void)
{
	findings_free(&fs);
	listener_set_free(&set);
	free(text);
	text = NULL;
}

TestSuite(listeners_report, .fini = cleanup);

static void build(void)
{
	size_t web = fake_listener(&set, "0.0.0.0", 80, 128, 0);
	size_t v6 = fake_listener(&set, "::1", 8080, 4096, 4097);
	fake_listener(&set, "127.0.0.1", 5432, 244, 0);
	fake_owner(&set, web, 123, "nginx", "nginx.service");
	fake_owner(&set, web, 124, "nginx", "nginx.service");
	fake_owner(&set, v6, 77, "app", "");
	set.v[2].uid = 105;
	/* Drops: none, some (marked), and a kernel that did not say. */
	set.v[0].drops_known = true;
	set.v[1].drops_known = true;
	set.v[1].drops = 18;
	set.v[1].syn_recv = 3;
	fake_attribute(&set, false);
	struct finding_limits lim = { .somaxconn_before = 128, .somaxconn_after = 4096 };
	findings_build(&set, &lim, &fs);
}

static const struct queue_limits kernel = {
	.have_somaxconn = true, .have_max_syn_backlog = true, .have_syncookies = true,
	.somaxconn = 4096, .max_syn_backlog = 256, .syncookies = 1,
};

static void render_text(const struct queue_limits *k)
{
	struct qt_ctx ctx = { .root = "", .verbosity = 0, .color = false };
	FILE *f = open_memstream(&text, &text_len);

	cr_assert(f);
	listeners_render_text(&ctx, f, &set, k, &fs);
	cr_assert_eq(fclose(f), 0);
}

Test(listeners_report, text_table)
{
	build();
	render_text(&kernel);
	cr_assert_str_eq(text,
		"Local Address:Port  Backlog  Queued  SYN limit  Half-open  Drops  Owner(s)                               Findings\n"
		"0.0.0.0:80              128       0        129          0      0  nginx[123],nginx[124] (nginx.service)  clamped\n"
		"[::1]:8080             4096    4097       4097          3    18!  app[77]                                queue-full\n"
		"127.0.0.1:5432          244       0        245          0      ?  owner unknown (needs root)             -\n"
		"\n"
		"0.0.0.0:80: clamped: backlog 128 is the somaxconn in force before (128): it keeps it, "
		"not 4096, until listen() is called on it again\n"
		"[::1]:8080: queue-full: accept queue holds 4097 connections, more than its backlog "
		"4096: it is full (it admits backlog + 1), and new SYNs and completing ACKs are dropped "
		"while it stays so (ListenOverflows) (app (pid 77))\n"
		"\n"
		"advice:\n"
		"  0.0.0.0:80: run `qtune relisten` to raise it live to 4096, no restart "
		"(nginx.service (pid 123 nginx, pid 124 nginx); its own setting: `listen ... "
		"backlog=4096;` in nginx's configuration)\n"
		"  [::1]:8080: app (pid 77) accepts too slowly: its backlog 4096 is already large and "
		"its accept queue still fills; add workers or make accepting cheaper rather than raise "
		"the limit\n"
		"\n"
		"SYN limit: SYN requests queued, then SYN cookies (tcp_syncookies=1: backlog + 1; "
		"Linux 2025+, older kernels one less)\n"
		"Drops: connections the kernel dropped at the socket since it started listening (!: some); "
		"a count, not a rate: `check --interval` tells whether it is dropping now\n"
		"note: some processes could not be inspected; run as root to see every owner\n",
		"got:\n%s", text);
}

Test(listeners_report, text_with_unknown_kernel_values)
{
	build();
	render_text(NULL);
	cr_assert(strstr(text, "0.0.0.0:80              128       0          ?  "), "%s", text);
	cr_assert_null(strstr(text, "SYN limit: SYN"));
}

Test(listeners_report, endpoint_format)
{
	char buf[96];
	size_t i = fake_listener(&set, "fe80::1", 22, 1, 0);
	size_t j = fake_listener(&set, "10.0.0.1", 22, 1, 0);

	snprintf(set.v[i].ifname, sizeof(set.v[i].ifname), "eth0");
	listeners_format_endpoint(&set.v[i], buf, sizeof(buf));
	cr_assert_str_eq(buf, "[fe80::1]%eth0:22");
	snprintf(set.v[j].ifname, sizeof(set.v[j].ifname), "lo");
	listeners_format_endpoint(&set.v[j], buf, sizeof(buf));
	cr_assert_str_eq(buf, "10.0.0.1%lo:22");
}

Test(listeners_report, json_members)
{
	struct jw w;
	FILE *f = open_memstream(&text, &text_len);

	build();
	jw_init(&w, f);
	jw_object_begin(&w);
	listeners_render_json(&w, &set, &kernel, &fs);
	jw_object_end(&w);
	cr_assert_eq(fclose(f), 0);
	cr_assert(strstr(text, "\"kernel_limits\":{\"somaxconn\":4096,\"tcp_max_syn_backlog\":256,"
			       "\"tcp_syncookies\":1,"), "%s", text);
	cr_assert(strstr(text, "\"owners_complete\":false,\"listeners\":[{\"family\":\"ipv4\","
			       "\"address\":\"0.0.0.0\",\"port\":80,\"interface\":null,\"backlog\":128,"
			       "\"queued\":0,\"syn_recv\":0,\"drops\":0,\"syn_queue_limit\":129,\"syn_cookies\":true,\"uid\":0,"
			       "\"inode\":1000,\"socket_unit\":\"nginx.service\",\"owners_looked_up\":true,\"owners_known\":true,\"owners_total\":2,"
			       "\"owners_truncated\":false,\"owners\":[{\"pid\":123,\"ppid\":null,"
			       "\"comm\":\"nginx\",\"exe\":null,\"unit\":\"nginx.service\",\"user_unit_uid\":null},"
			       "{\"pid\":124,\"ppid\":null,"
			       "\"comm\":\"nginx\",\"exe\":null,\"unit\":\"nginx.service\",\"user_unit_uid\":null}],\"findings\":[{"
			       "\"kind\":\"clamped\",\"level\":\"warning\",\"limit\":4096,\"message\":"),
		  "%s", text);
	cr_assert(strstr(text, "\"address\":\"127.0.0.1\",\"port\":5432,\"interface\":null,"
			       "\"backlog\":244,\"queued\":0,\"syn_recv\":0,\"drops\":null,\"syn_queue_limit\":245,\"syn_cookies\":true,"
			       "\"uid\":105,\"inode\":1002,\"socket_unit\":null,\"owners_looked_up\":true,\"owners_known\":false,\"owners_total\":0,"
			       "\"owners_truncated\":false,\"owners\":[],\"findings\":[],\"advice\":null}"),
		  "%s", text);
	cr_assert(strstr(text, "{\"pid\":77,\"ppid\":null,\"comm\":\"app\",\"exe\":null,\"unit\":null,"
			       "\"user_unit_uid\":null}"), "%s", text);
	/* One advice per listener with findings: its action, its target. */
	cr_assert(strstr(text, "\"advice\":{\"action\":\"relisten\",\"backlog\":4096,\"text\":"
			       "\"run `qtune relisten` to raise it live to 4096"), "%s", text);
	cr_assert(strstr(text, "\"advice\":{\"action\":\"accept\",\"backlog\":null,"), "%s", text);
	cr_assert(strstr(text, "\"kind\":\"queue-full\",\"level\":\"warning\",\"limit\":4096,"), "%s",
		  text);
}
