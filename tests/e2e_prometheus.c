/* End-to-end: `--output prometheus` of check, show and listeners from the
 * real binary in a private network namespace with real listeners, fed to
 * promtool (Debian's prometheus package) and checked line by line; and
 * --textfile, which replaces the file atomically or not at all. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

TestSuite(e2e_prometheus, .init = sandbox_enter, .fini = sandbox_leave);

/* Per-namespace keys only; min_backlog makes a listener of 10 drift. */
static const char front[] =
	"qtune: 1\n"
	"name: front\n"
	"listeners:\n"
	"  min_backlog: 100\n"
	"sysctl:\n"
	"  net.ipv4.ip_local_port_range: \"15000 55000\"\n"
	"  net.ipv4.tcp_max_syn_backlog: {min: 4000}\n"
	"  net.core.somaxconn: 2048\n";

static int run(char **out, char **err, const char *const *argv)
{
	return sandbox_qtune_rooted(out, err, argv);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *b;
	long n;

	cr_assert(f, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	b = calloc(1, (size_t)n + 1);
	cr_assert(fread(b, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	return b;
}

/* text holds line as a whole line. */
static void assert_line(const char *text, const char *line)
{
	size_t len = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && (p[len] == '\n' || p[len] == '\0'))
			return;
	cr_assert_fail("line not found: %s\nin:\n%s", line, text);
}

static void assert_no_line_starting(const char *text, const char *prefix)
{
	for (const char *p = text; (p = strstr(p, prefix)); p++)
		cr_assert(!(p == text || p[-1] == '\n'), "unexpected %s in:\n%s", prefix, text);
}

/* promtool check metrics on text: no errors and no lint problems. Skipped
 * without promtool unless QTUNE_REQUIRE_TOOLS is set (CI sets it). */
static bool promtool_available(void)
{
	if (system("command -v promtool >/dev/null 2>&1") == 0)
		return true;
	cr_assert_null(getenv("QTUNE_REQUIRE_TOOLS"),
		       "QTUNE_REQUIRE_TOOLS is set but promtool is missing (apt-get install prometheus)");
	return false;
}

static void assert_promtool_accepts(const char *text, const char *what)
{
	char cmd[1024], *report;

	sandbox_write("promtool-in.prom", text, 0644);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < '%s' > '%s' 2>&1",
		 sandbox_path("promtool-in.prom"), sandbox_path("promtool-out.txt"));
	int status = system(cmd);
	report = slurp(sandbox_path("promtool-out.txt"));
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "promtool check metrics refused %s (exit %d):\n%s\n--- input:\n%s", what,
		  WEXITSTATUS(status), report, text);
	free(report);
}

static char *listener_line(const char *metric, uint16_t port, const char *extra, const char *value)
{
	static char buf[4][256];
	static unsigned slot;
	char *b = buf[slot++ % 4];

	snprintf(b, sizeof(buf[0]),
		 "%s{address=\"127.0.0.1\",port=\"%u\",family=\"ipv4\",interface=\"\",socket=\"0\"%s} %s",
		 metric, port, extra, value);
	return b;
}

static int connect_to(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	cr_assert(c >= 0);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	int r = connect(c, (struct sockaddr *)&sa, sizeof(sa));
	cr_assert(r == 0 || errno == EINPROGRESS, "connect: %s", strerror(errno));
	return c;
}

/* Only NAME (no temporary file) is left in the directory. */
static void assert_dir_holds_only(const char *dir, const char *name)
{
	DIR *dh = opendir(dir);
	struct dirent *e;

	cr_assert(dh);
	while ((e = readdir(dh))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		cr_assert_str_eq(e->d_name, name, "left behind in %s: %s", dir, e->d_name);
	}
	closedir(dh);
}

Test(e2e_prometheus, check_with_drift_still_writes_the_textfile_and_exits_1)
{
	char *out, *err, *text, dir[512], file[600];
	uint16_t port;
	struct stat st;

	sandbox_sysctl_set("net/core/somaxconn", "128");
	sandbox_sysctl_set("net/ipv4/tcp_max_syn_backlog", "512");
	sandbox_sysctl_set("net/ipv4/tcp_syncookies", "1");
	sandbox_write("etc/qtune/profiles/front.yaml", front, 0644);
	cr_assert(sandbox_listen("127.0.0.1", 0, 4096, &port) >= 0);   /* clamped to 128 */
	cr_assert(sandbox_listen("127.0.0.1", 0, 10, NULL) >= 0);      /* below min_backlog */
	snprintf(dir, sizeof(dir), "%s", sandbox_path("textfile"));
	cr_assert(mkdir(dir, 0755) == 0);
	snprintf(file, sizeof(file), "%s/qtune.prom", dir);

	int rc = run(&out, &err, (const char *[]){ "--output", "prometheus", "--textfile", file,
						   "check", "front", NULL });
	cr_assert_eq(rc, 1, "drift is exit 1; stderr: %s", err);
	cr_assert_str_empty(out, "with --textfile nothing goes to stdout");
	cr_assert(stat(file, &st) == 0);
	cr_assert_eq(st.st_mode & 07777, 0644);
	assert_dir_holds_only(dir, "qtune.prom");
	text = slurp(file);
	assert_line(text, "# TYPE qtune_check_exit_code gauge");
	assert_line(text, "qtune_check_exit_code{profile=\"front\"} 1");
	assert_line(text, "qtune_check_compliant{profile=\"front\"} 0");
	assert_line(text, "qtune_sysctl_value{key=\"net.core.somaxconn\"} 128");
	assert_line(text, "qtune_sysctl_value{key=\"net.ipv4.tcp_max_syn_backlog\"} 512");
	assert_no_line_starting(text, "qtune_sysctl_value{key=\"net.ipv4.ip_local_port_range\"");
	assert_line(text, "qtune_sysctl_compliant{key=\"net.core.somaxconn\",profile=\"front\"} 0");
	assert_line(text, "qtune_sysctl_compliant{key=\"net.ipv4.ip_local_port_range\",profile=\"front\"} 0");
	assert_line(text, "qtune_boot_compliant{key=\"net.core.somaxconn\",profile=\"front\"} 1");
	assert_line(text, "qtune_boot_set{key=\"net.core.somaxconn\",profile=\"front\"} 0");
	assert_line(text, listener_line("qtune_listener_backlog", port, "", "128"));
	assert_line(text, listener_line("qtune_listener_queued", port, "", "0"));
	assert_line(text, listener_line("qtune_listener_syn_queue_limit", port, "", "129"));
	assert_line(text, "# TYPE qtune_listener_finding gauge");
	assert_line(text, "# TYPE qtune_tcpext_listen_overflows_total counter");
	assert_line(text, "qtune_tcpext_listen_overflows_total 0");
	assert_line(text, "# TYPE qtune_last_run_timestamp_seconds gauge");
	cr_assert(strstr(text, "\nqtune_info{version=\""), "%s", text);
	if (promtool_available())
		assert_promtool_accepts(text, "check with drift");
	free(text);
	free(out);
	free(err);

	/* Compliant after an apply: the same file is replaced. */
	cr_assert_eq(run(NULL, NULL, (const char *[]){ "-q", "apply", "front", NULL }), 0);
	rc = run(&out, &err, (const char *[]){ "--output", "prometheus", "--textfile", file,
					       "check", "front", NULL });
	text = slurp(file);
	/* The listeners still hold their old backlogs: below-min on the one
	 * with 10. Its finding keeps the check at 1. */
	cr_assert_eq(rc, 1, "stderr: %s\n%s", err, text);
	assert_line(text, "qtune_sysctl_compliant{key=\"net.core.somaxconn\",profile=\"front\"} 1");
	assert_line(text, "qtune_sysctl_value{key=\"net.core.somaxconn\"} 2048");
	assert_line(text, listener_line("qtune_listener_finding", port, ",kind=\"clamped\"", "1"));
	assert_dir_holds_only(dir, "qtune.prom");
	free(text);
	free(out);
	free(err);
}

Test(e2e_prometheus, compliant_check_reports_exit_code_0)
{
	char *out, *err;

	sandbox_write("etc/qtune/profiles/front.yaml", front, 0644);
	cr_assert_eq(run(NULL, NULL, (const char *[]){ "-q", "apply", "front", NULL }), 0);
	int rc = run(&out, &err, (const char *[]){ "--output", "prometheus", "check", "front", NULL });
	cr_assert_eq(rc, 0, "stderr: %s\n%s", err, out);
	assert_line(out, "qtune_check_exit_code{profile=\"front\"} 0");
	assert_line(out, "qtune_check_compliant{profile=\"front\"} 1");
	assert_line(out, "qtune_sysctl_compliant{key=\"net.ipv4.tcp_max_syn_backlog\",profile=\"front\"} 1");
	if (promtool_available())
		assert_promtool_accepts(out, "compliant check");
	free(out);
	free(err);
}

Test(e2e_prometheus, listeners_report_queue_full_and_overflows)
{
	char *out, *err;
	uint16_t port;
	int c[3];

	cr_assert(sandbox_listen("127.0.0.1", 0, 1, &port) >= 0);
	/* backlog 1 holds 2; the third SYN overflows (ListenOverflows). */
	for (int i = 0; i < 3; i++)
		c[i] = connect_to(port);
	usleep(200 * 1000);
	int rc = run(&out, &err, (const char *[]){ "--output", "prometheus", "listeners", NULL });
	cr_assert_eq(rc, 0, "listeners reports; stderr: %s", err);
	assert_line(out, listener_line("qtune_listener_backlog", port, "", "1"));
	assert_line(out, listener_line("qtune_listener_queued", port, "", "2"));
	assert_line(out, listener_line("qtune_listener_finding", port, ",kind=\"queue-full\"", "1"));
	cr_assert(strstr(out, "\nqtune_tcpext_listen_overflows_total ") &&
		  !strstr(out, "\nqtune_tcpext_listen_overflows_total 0\n"),
		  "the overflow is counted:\n%s", out);
	assert_no_line_starting(out, "qtune_check_");
	if (promtool_available())
		assert_promtool_accepts(out, "listeners");
	for (int i = 0; i < 3; i++)
		close(c[i]);
	free(out);
	free(err);
}

Test(e2e_prometheus, reuseport_sockets_get_distinct_series)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(7070) };
	char *out;
	int one = 1;

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	for (int i = 0; i < 2; i++) {
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		cr_assert(setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == 0);
		cr_assert(bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0, "%s", strerror(errno));
		cr_assert(listen(s, 16 + i) == 0);
	}
	cr_assert(sandbox_listen("::1", 7070, 8, NULL) >= 0);
	cr_assert_eq(run(&out, NULL, (const char *[]){ "--output", "prometheus", "listeners", NULL }), 0);
	assert_line(out, "qtune_listener_backlog{address=\"127.0.0.1\",port=\"7070\",family=\"ipv4\",interface=\"\",socket=\"0\"} 16");
	assert_line(out, "qtune_listener_backlog{address=\"127.0.0.1\",port=\"7070\",family=\"ipv4\",interface=\"\",socket=\"1\"} 17");
	assert_line(out, "qtune_listener_backlog{address=\"::1\",port=\"7070\",family=\"ipv6\",interface=\"\",socket=\"0\"} 8");
	if (promtool_available())
		assert_promtool_accepts(out, "reuseport listeners");
	free(out);
}

Test(e2e_prometheus, show_has_values_limits_and_counters)
{
	char *out, *err;

	sandbox_sysctl_set("net/core/somaxconn", "1000");
	sandbox_sysctl_set("net/ipv4/tcp_max_syn_backlog", "256");
	sandbox_sysctl_set("net/ipv4/tcp_syncookies", "0");
	cr_assert_eq(run(&out, &err, (const char *[]){ "--output", "prometheus", "show", NULL }), 0,
		     "%s", err);
	assert_line(out, "# HELP qtune_sysctl_value running value of an integer sysctl key in this network namespace");
	assert_line(out, "qtune_sysctl_value{key=\"net.core.somaxconn\"} 1000");
	assert_line(out, "qtune_sysctl_value{key=\"net.ipv4.tcp_syncookies\"} 0");
	assert_line(out, "qtune_new_listener_accept_queue_limit 1001");
	/* cookies off: min(1000, 256 - 64) + 1 */
	assert_line(out, "qtune_new_listener_syn_queue_limit 193");
	assert_line(out, "# TYPE qtune_tcpext_tcp_req_q_full_drop_total counter");
	/* Host-wide keys are not readable outside the initial namespace. */
	assert_no_line_starting(out, "qtune_sysctl_value{key=\"net.core.netdev_max_backlog\"");
	if (promtool_available())
		assert_promtool_accepts(out, "show");
	free(out);
	free(err);
}

Test(e2e_prometheus, failed_check_writes_exit_code_2_with_escaped_label)
{
	char *out, *err, *text, file[600];
	/* A path holding a quote and a backslash: both escaped in the label. */
	const char *profile = sandbox_path("p/we\"ird\\name.yaml");

	snprintf(file, sizeof(file), "%s", sandbox_path("qtune.prom"));
	int rc = run(&out, &err, (const char *[]){ "--output", "prometheus", "--textfile", file,
						   "check", profile, NULL });
	cr_assert_eq(rc, 2, "stderr: %s", err);
	cr_assert(strstr(err, "cannot read profile"), "%s", err);
	text = slurp(file);
	char want[800];
	snprintf(want, sizeof(want), "qtune_check_exit_code{profile=\"%s/p/we\\\"ird\\\\name.yaml\"} 2",
		 sandbox_root);
	assert_line(text, want);
	assert_no_line_starting(text, "qtune_check_compliant");
	if (promtool_available())
		assert_promtool_accepts(text, "failed check");
	free(text);
	free(out);
	free(err);
}

Test(e2e_prometheus, textfile_is_never_written_through_a_symlink)
{
	char *err, link[600], target[600], *text;

	snprintf(target, sizeof(target), "%s", sandbox_path("target"));
	snprintf(link, sizeof(link), "%s", sandbox_path("qtune.prom"));
	sandbox_write("target", "precious\n", 0600);
	cr_assert(symlink(target, link) == 0);
	int rc = run(NULL, &err, (const char *[]){ "--output", "prometheus", "--textfile", link,
						   "show", NULL });
	cr_assert_eq(rc, 2, "stderr: %s", err);
	cr_assert(strstr(err, "symlink"), "%s", err);
	text = slurp(target);
	cr_assert_str_eq(text, "precious\n");
	free(text);
	free(err);

	rc = run(NULL, &err, (const char *[]){ "--output", "prometheus", "--textfile",
					       sandbox_path("no/such/dir/qtune.prom"), "show", NULL });
	cr_assert_eq(rc, 2);
	cr_assert(strstr(err, "no/such/dir"), "%s", err);
	free(err);
}

Test(e2e_prometheus, misuse_is_refused)
{
	char *err;

	cr_assert_eq(run(NULL, &err, (const char *[]){ "--json", "--textfile", "/tmp/x.prom", "show", NULL }), 2);
	cr_assert(strstr(err, "--textfile needs --output prometheus"), "%s", err);
	free(err);
	cr_assert_eq(run(NULL, &err, (const char *[]){ "--output", "prometheus", "validate", "x", NULL }), 2);
	cr_assert(strstr(err, "no prometheus output"), "%s", err);
	free(err);
	cr_assert_eq(run(NULL, &err, (const char *[]){ "--output", "prometheus", "show", "--boot", NULL }), 2);
	cr_assert(strstr(err, "--boot"), "%s", err);
	free(err);
	cr_assert_eq(run(NULL, &err, (const char *[]){ "--output", "openmetrics", "show", NULL }), 2);
	free(err);
}

Test(e2e_prometheus, output_that_cannot_be_written_is_exit_2)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "'%s' --output prometheus show > /dev/full 2>/dev/null",
		 getenv("QTUNE_BIN"));
	int status = system(cmd);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status %d", status);
}
