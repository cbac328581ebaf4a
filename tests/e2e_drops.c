/* End-to-end: per-listener drops and half-open requests, the `dropping`
 * finding of check --interval, watch (JSON Lines and on a terminal), and
 * the metrics through node_exporter, with real sockets in a private
 * network namespace: drops are made to happen on one listener while an
 * idle one beside it shows none. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

TestSuite(e2e_drops, .init = sandbox_enter, .fini = sandbox_leave, .timeout = 30);

/* The namespace's TcpExt counter name (this process is in the sandbox). */
static long long tcpext(const char *name)
{
	char names[8192], values[8192];
	FILE *f = fopen("/proc/net/netstat", "r");
	long long v = -1;

	cr_assert(f);
	while (fgets(names, sizeof(names), f) && fgets(values, sizeof(values), f)) {
		if (strncmp(names, "TcpExt:", 7) != 0)
			continue;
		char *sn, *sv, *n = strtok_r(names, " \n", &sn), *x = strtok_r(values, " \n", &sv);
		for (; n && x; n = strtok_r(NULL, " \n", &sn), x = strtok_r(NULL, " \n", &sv))
			if (strcmp(n, name) == 0)
				v = atoll(x);
	}
	fclose(f);
	cr_assert_geq(v, 0, "no TcpExt %s", name);
	return v;
}

/* n connects to 127.0.0.1:port that nobody waits for. */
static void connect_n(uint16_t port, int n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		cr_assert_geq(fd, 0);
		int r = connect(fd, (struct sockaddr *)&a, sizeof(a));
		cr_assert(r == 0 || errno == EINPROGRESS, "connect: %s", strerror(errno));
		/* left open: the SYN is retransmitted, the drops go on */
	}
}

/* A child connecting to port every 50 ms for ms milliseconds. */
static pid_t flood(uint16_t port, int ms)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		for (int t = 0; t < ms; t += 50) {
			connect_n(port, 1);
			usleep(50000);
		}
		_exit(0);
	}
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Where text first occurs in the JSON object of the listener on port
 * (up to the next listener's "port"), or NULL. */
static const char *in_listener(const char *doc, uint16_t port, const char *text)
{
	char needle[48];
	const char *l, *next, *hit;

	snprintf(needle, sizeof(needle), "\"port\":%u,", port);
	l = strstr(doc, needle);
	cr_assert(l, "no listener on %u: %s", port, doc);
	next = strstr(l + 1, "\"port\":");
	hit = strstr(l, text);
	return hit && (!next || hit < next) ? hit : NULL;
}

/* The value of "member": in the JSON object of the listener on port. */
static long long member_of(const char *doc, uint16_t port, const char *member)
{
	char key[48];
	const char *m;

	snprintf(key, sizeof(key), "\"%s\":", member);
	m = in_listener(doc, port, key);
	cr_assert(m, "no %s for %u: %s", member, port, doc);
	return atoll(m + strlen(key));
}

/* The level of the listener on port's finding of kind ("info",
 * "warning"), or NULL when it has none. */
static const char *finding_level(const char *doc, uint16_t port, const char *kind)
{
	char k[48];
	const char *hit, *lv;

	snprintf(k, sizeof(k), "\"kind\":\"%s\"", kind);
	if (!(hit = in_listener(doc, port, k)))
		return NULL;
	lv = strstr(hit, "\"level\":\"");
	cr_assert(lv);
	return strncmp(lv + 9, "warning", 7) == 0 ? "warning" : "info";
}

/* Whether the listener on port has a finding of kind. */
static bool has_finding(const char *doc, uint16_t port, const char *kind)
{
	return finding_level(doc, port, kind) != NULL;
}

/* The listener on port as qtune sees it, once its accept queue holds
 * queued (loopback handshakes complete in softirq; allow a moment). */
static char *listeners_at(uint16_t port, long long queued)
{
	char *out = NULL;

	for (int tries = 0; tries < 100; tries++) {
		free(out);
		cr_assert_eq(sandbox_qtune(&out, NULL, (const char *[]){ "--json", "listeners", NULL }), 0);
		if (member_of(out, port, "queued") == queued)
			break;
		usleep(10 * 1000);
	}
	cr_assert_eq(member_of(out, port, "queued"), queued, "%s", out);
	return out;
}

static const char *profile(void)
{
	sandbox_write("p/drops.yaml", "qtune: 1\nsysctl:\n  net.core.somaxconn: {min: 1}\n", 0644);
	return sandbox_path("p/drops.yaml");
}

Test(e2e_drops, accept_queue_overflow_counted_on_its_socket_and_adds_up)
{
	uint16_t full, idle;
	int a = sandbox_listen("127.0.0.1", 0, 1, &full);
	int b = sandbox_listen("127.0.0.1", 0, 16, &idle);
	char *out;

	connect_n(full, 8);
	usleep(300 * 1000);
	long long before = tcpext("ListenDrops");
	int rc = sandbox_qtune(&out, NULL, (const char *[]){ "--json", "listeners", NULL });
	long long after = tcpext("ListenDrops");
	cr_assert_eq(rc, 0, "%s", out);
	long long d = member_of(out, full, "drops");
	cr_assert_gt(d, 0, "%s", out);
	cr_assert_eq(member_of(out, idle, "drops"), 0, "%s", out);
	/* Every drop of the namespace happened at these two sockets, none of
	 * them closed: the per-socket counts are the namespace's. */
	cr_assert(d >= before && d <= after, "drops %lld, ListenDrops %lld..%lld", d, before, after);
	free(out);

	rc = sandbox_qtune(&out, NULL, (const char *[]){ "listeners", NULL });
	cr_assert_eq(rc, 0);
	cr_assert(strstr(out, "Drops") && strstr(out, "!  "), "the dropping listener is marked: %s", out);
	free(out);
	close(a);
	close(b);
}

/* The kernel's full (sk_acceptq_is_full(): queued > backlog), seen from
 * outside: backlog B takes B + 1 connections, drops nothing; qtune calls
 * B queued one slot left (info), B + 1 full (warning); the next connect
 * is dropped at that socket and counted as an overflow. */
Test(e2e_drops, backlog_b_admits_b_plus_one_then_drops)
{
	const int B = 3;
	uint16_t port;
	int a = sandbox_listen("127.0.0.1", 0, B, &port);
	char *out;

	connect_n(port, B);
	out = listeners_at(port, B);
	cr_assert_eq(member_of(out, port, "drops"), 0, "%s", out);
	cr_assert_str_eq(finding_level(out, port, "queue-full"), "info", "%s", out);
	free(out);

	long long overflows = tcpext("ListenOverflows");
	connect_n(port, 1);
	out = listeners_at(port, B + 1);
	cr_assert_eq(member_of(out, port, "drops"), 0, "B + 1 fit: %s", out);
	cr_assert_eq(tcpext("ListenOverflows"), overflows);
	cr_assert_str_eq(finding_level(out, port, "queue-full"), "warning", "%s", out);
	free(out);

	connect_n(port, 1);
	usleep(200 * 1000);
	out = listeners_at(port, B + 1);
	cr_assert_gt(member_of(out, port, "drops"), 0, "the next one is dropped: %s", out);
	cr_assert_gt(tcpext("ListenOverflows"), overflows);
	free(out);
	close(a);
}

Test(e2e_drops, syn_queue_overflow_without_cookies)
{
	uint16_t port, idle;
	int one = 5;
	char *out;

	sandbox_sysctl_set("net/ipv4/tcp_syncookies", "0");
	int a = sandbox_listen("127.0.0.1", 0, 4, &port);
	int b = sandbox_listen("127.0.0.1", 0, 4, &idle);
	/* The handshake's last ACK is ignored until data comes: each
	 * connection stays a half-open request in the SYN queue. */
	cr_assert_eq(setsockopt(a, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one, sizeof(one)), 0);
	long long overflows = tcpext("ListenOverflows");
	connect_n(port, 12);
	usleep(300 * 1000);
	long long before = tcpext("ListenDrops");
	int rc = sandbox_qtune(&out, NULL, (const char *[]){ "--json", "listeners", NULL });
	long long after = tcpext("ListenDrops");
	cr_assert_eq(rc, 0, "%s", out);
	long long half = member_of(out, port, "syn_recv"), d = member_of(out, port, "drops");
	cr_assert_geq(half, 4, "%s", out);
	cr_assert_gt(d, 0, "%s", out);
	cr_assert_eq(member_of(out, idle, "drops"), 0, "%s", out);
	cr_assert_eq(member_of(out, idle, "syn_recv"), 0, "%s", out);
	/* Where the two differ: the socket also counts the segments it
	 * discards, here the bare handshake ACKs TCP_DEFER_ACCEPT ignores,
	 * which ListenDrops does not; every ListenDrops is this socket's. */
	cr_assert(d >= after && before > 0, "drops %lld, ListenDrops %lld..%lld", d, before, after);
	/* SYN-queue drops are ListenDrops, never ListenOverflows. */
	cr_assert_eq(tcpext("ListenOverflows"), overflows);
	free(out);
	close(a);
	close(b);
}

Test(e2e_drops, check_interval_reports_dropping_for_the_dropping_listener_only)
{
	uint16_t full, idle;
	int a = sandbox_listen("127.0.0.1", 0, 1, &full);
	int b = sandbox_listen("127.0.0.1", 0, 16, &idle);
	char *out, *err;

	connect_n(full, 4);
	usleep(200 * 1000);
	/* Without an interval the count is shown, and is not drift. */
	int rc = sandbox_qtune_rooted(&out, &err, (const char *[]){ "--json", "check", profile(), NULL });
	cr_assert_gt(member_of(out, full, "drops"), 0, "%s", out);
	cr_assert(!has_finding(out, full, "dropping"), "%s", out);
	free(out);
	free(err);

	pid_t f = flood(full, 3000);
	rc = sandbox_qtune_rooted(&out, &err, (const char *[]){ "--json", "check", "--interval", "1",
							  profile(), NULL });
	reap(f);
	cr_assert_eq(rc, 1, "%s %s", out, err);
	cr_assert(has_finding(out, full, "dropping"), "%s", out);
	cr_assert(!has_finding(out, idle, "dropping"), "%s", out);
	cr_assert(strstr(out, "\"drops_per_second\":"), "%s", out);
	/* One advice, the one the drops call for: backlog 1, full. */
	const char *adv = in_listener(out, full, "\"advice\":{\"action\":\"program\"");
	cr_assert(adv, "%s", out);
	cr_assert(strstr(adv, "its accept queue overflows at backlog 1"), "%s", adv);
	free(out);
	free(err);

	/* In text too: one advice line for it, no remedy beside it. */
	f = flood(full, 3000);
	rc = sandbox_qtune_rooted(&out, &err, (const char *[]){ "check", "--interval", "1", profile(), NULL });
	reap(f);
	cr_assert_eq(rc, 1, "%s %s", out, err);
	char needle[32];
	int lines = 0;
	snprintf(needle, sizeof(needle), "  127.0.0.1:%u: ", full);
	for (const char *p = strstr(out, "\nadvice:\n"); p && (p = strstr(p, needle)); p++)
		lines++;
	cr_assert_eq(lines, 1, "%s", out);
	cr_assert_null(strstr(out, "raise the backlog the program passes"), "%s", out);
	free(out);
	free(err);

	rc = sandbox_qtune_rooted(&out, &err, (const char *[]){ "check", "--interval", "0", profile(), NULL });
	cr_assert_eq(rc, 2);
	cr_assert(strstr(err, "--interval 0: expected a whole number from 1 to 3600"), "%s", err);
	free(out);
	free(err);
	close(a);
	close(b);
}

Test(e2e_drops, watch_json_lines_with_rising_drops)
{
	uint16_t full, idle;
	int a = sandbox_listen("127.0.0.1", 0, 1, &full);
	int b = sandbox_listen("127.0.0.1", 0, 16, &idle);
	char *out, *err, cmd[512];
	long long last = -1;
	int samples = 0;

	pid_t f = flood(full, 4000);
	int rc = sandbox_qtune(&out, &err, (const char *[]){ "--json", "watch", "--count", "3", NULL });
	reap(f);
	cr_assert_eq(rc, 0, "%s", err);
	for (char *sv, *line = strtok_r(out, "\n", &sv); line; line = strtok_r(NULL, "\n", &sv)) {
		if (!strstr(line, "\"type\":\"sample\""))
			continue;
		long long d = member_of(line, full, "drops");
		cr_assert_gt(d, last, "drops rise: %lld after %lld", d, last);
		cr_assert_eq(member_of(line, idle, "drops"), 0);
		last = d;
		samples++;
	}
	cr_assert_eq(samples, 3);
	free(out);
	free(err);
	/* Every line is a JSON document of its own. */
	snprintf(cmd, sizeof(cmd), "\"$QTUNE_BIN\" --json watch --count 2 | python3 -c '"
		 "import json,sys; docs=[json.loads(l) for l in sys.stdin]; "
		 "assert [d[\"type\"] for d in docs] == [\"sample\", \"sample\", \"summary\"], docs; "
		 "assert all(d[\"schema\"] == 1 for d in docs)'");
	cr_assert_eq(system(cmd), 0);
	close(a);
	close(b);
}

Test(e2e_drops, watch_on_a_terminal_redraws_in_place_and_restores_it_on_sigint)
{
	uint16_t port;
	int a = sandbox_listen("127.0.0.1", 0, 1, &port);
	char cmd[512], *s;

	snprintf(cmd, sizeof(cmd), "new-session -d -x 160 -y 40 'TERM=xterm \"%s\" watch; sleep 30'",
		 getenv("QTUNE_BIN"));
	free(sandbox_tmux(cmd));
	usleep(3300 * 1000);
	sandbox_tmux_shows("#{alternate_on} #{history_size}", "1 0\n", "on the alternate screen, nothing scrolled");
	s = sandbox_tmux("capture-pane -p");
	/* Three samples or more were drawn, one frame is on the screen. */
	cr_assert(strstr(s, "qtune watch: sample 3") || strstr(s, "qtune watch: sample 4"), "%s", s);
	cr_assert_null(strstr(strstr(s, "qtune watch: sample") + 1, "qtune watch: sample"), "%s", s);
	free(s);
	free(sandbox_tmux("send-keys C-c"));
	usleep(500 * 1000);
	sandbox_tmux_shows("#{alternate_on} #{cursor_flag}", "0 1\n", "normal screen and cursor back");
	s = sandbox_tmux("capture-pane -p");
	cr_assert(strstr(s, "summary of"), "the summary is left on the terminal: %s", s);
	free(s);
	free(sandbox_tmux("kill-server"));
	close(a);
}

/* Whoever ends watch, the terminal is given back: a hangup (SIGHUP: the
 * ssh session or the tmux pane closed, a process manager), ^\\ (SIGQUIT)
 * as well as ^C and SIGTERM. Left on the alternate screen with the cursor
 * hidden, the terminal shows nothing of what the user types next. */
static void watch_restores_the_terminal_on(int sig)
{
	char cmd[512], *s;
	int shell, pid = 0;

	snprintf(cmd, sizeof(cmd), "new-session -d -x 160 -y 40 'TERM=xterm \"%s\" watch; sleep 30'",
		 getenv("QTUNE_BIN"));
	free(sandbox_tmux(cmd));
	usleep(1500 * 1000);
	s = sandbox_tmux("display -p '#{pane_pid}'");
	shell = atoi(s);
	free(s);
	/* watch is the pane's shell's one child. */
	snprintf(cmd, sizeof(cmd), "/proc/%d/task/%d/children", shell, shell);
	FILE *f = fopen(cmd, "re");
	cr_assert(f && fscanf(f, "%d", &pid) == 1 && pid > 0, "no watch below the pane's shell %d", shell);
	fclose(f);
	s = sandbox_tmux("display -p '#{alternate_on}'");
	cr_assert_str_eq(s, "1\n", "watch is on the alternate screen: %s", s);
	free(s);
	cr_assert_eq(kill(pid, sig), 0);
	usleep(500 * 1000);
	s = sandbox_tmux("display -p '#{alternate_on} #{cursor_flag}'");
	cr_assert_str_eq(s, "0 1\n", "after signal %d: normal screen and cursor back: %s", sig, s);
	free(s);
	cr_assert(kill(pid, 0) < 0 && errno == ESRCH, "watch ended on signal %d", sig);
	free(sandbox_tmux("kill-server"));
}

Test(e2e_drops, watch_restores_the_terminal_on_sighup)
{
	watch_restores_the_terminal_on(SIGHUP);
}

Test(e2e_drops, watch_restores_the_terminal_on_sigquit)
{
	watch_restores_the_terminal_on(SIGQUIT);
}

Test(e2e_drops, node_exporter_scrape_holds_the_drops)
{
	uint16_t full, ne_port;
	int a = sandbox_listen("127.0.0.1", 0, 1, &full);
	int probe = sandbox_listen("127.0.0.1", 0, 1, &ne_port);   /* a free port for node_exporter */
	char cmd[1024], listen_at[64], *out, *err, *dir = strdup(sandbox_path("textfile"));

	close(probe);
	sandbox_mkdir("textfile");
	snprintf(listen_at, sizeof(listen_at), "--web.listen-address=127.0.0.1:%u", ne_port);
	pid_t ne = fork();
	cr_assert_geq(ne, 0);
	if (ne == 0) {
		char tf[512];
		snprintf(tf, sizeof(tf), "--collector.textfile.directory=%s", dir);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execlp("prometheus-node-exporter", "prometheus-node-exporter", listen_at,
		       "--collector.disable-defaults", "--collector.textfile", tf, (char *)NULL);
		_exit(127);
	}
	connect_n(full, 6);
	usleep(300 * 1000);
	snprintf(cmd, sizeof(cmd), "%s/qtune.prom", dir);
	int rc = sandbox_qtune_rooted(&out, &err, (const char *[]){ "--output", "prometheus",
							  "--textfile", cmd, "check", profile(), NULL });
	cr_assert(rc == 0 || rc == 1, "%s", err);
	free(out);
	free(err);
	/* What qtune saw, to compare with the scrape. */
	sandbox_qtune(&out, NULL, (const char *[]){ "--json", "listeners", NULL });
	long long d = member_of(out, full, "drops");
	free(out);
	cr_assert_gt(d, 0);
	snprintf(cmd, sizeof(cmd), "for i in $(seq 50); do curl -sf http://127.0.0.1:%u/metrics && exit 0; "
		 "sleep 0.1; done; exit 1", ne_port);
	FILE *p = popen(cmd, "r");
	char line[1024], want[128];
	bool drops = false, syn = false, queued = false;

	cr_assert(p);
	snprintf(want, sizeof(want), "port=\"%u\"", full);
	while (fgets(line, sizeof(line), p)) {
		if (!strstr(line, want))
			continue;
		/* node_exporter sorts the labels; the value follows the last brace. */
		const char *v = strrchr(line, '}');
		if (strncmp(line, "qtune_listener_drops_total{", 27) == 0) {
			drops = true;
			/* Drops may go on between the two runs (retransmitted SYNs). */
			cr_assert(v && atoll(v + 1) > 0 && atoll(v + 1) <= d, "%s (qtune saw %lld)", line, d);
		} else if (strncmp(line, "qtune_listener_syn_recv{", 24) == 0) {
			syn = true;
		} else if (strncmp(line, "qtune_listener_queued{", 22) == 0) {
			queued = true;
			cr_assert(v && atoll(v + 1) >= 1, "%s", line);
		}
	}
	int st = pclose(p);
	kill(ne, SIGTERM);
	waitpid(ne, NULL, 0);
	cr_assert_eq(st, 0, "node_exporter answered");
	cr_assert(drops && syn && queued, "drops %d syn_recv %d queued %d", drops, syn, queued);
	free(dir);
	close(a);
}

/* The alert rules the packages install: valid, and firing on synthetic
 * series exactly when they should (promtool test rules). Skipped without
 * promtool unless QTUNE_REQUIRE_TOOLS is set (CI sets it). */
Test(e2e_drops, alert_rules_pass_promtool)
{
	const char *src = getenv("QTUNE_SRCDIR") ? getenv("QTUNE_SRCDIR") : ".";
	char cmd[2048];

	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		cr_assert_null(getenv("QTUNE_REQUIRE_TOOLS"), "QTUNE_REQUIRE_TOOLS is set but promtool is missing");
		cr_skip_test("promtool (Debian's prometheus package) is not installed");
	}
	snprintf(cmd, sizeof(cmd), "cp '%s/packaging/prometheus/qtune-rules.yml' "
		 "'%s/tests/fixtures/prometheus/qtune-rules.test.yml' '%s/' && cd '%s' && "
		 "promtool check rules qtune-rules.yml >/dev/null && "
		 "promtool test rules qtune-rules.test.yml >/dev/null", src, src, sandbox_root, sandbox_root);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	/* A rule that cannot fire is caught: the test fails on a broken rule. */
	snprintf(cmd, sizeof(cmd), "cd '%s' && sed -i 's/> 0.9 \\*/> 2 */' qtune-rules.yml && "
		 "! promtool test rules qtune-rules.test.yml >/dev/null 2>&1", sandbox_root);
	cr_assert_eq(system(cmd), 0, "a broken rule passed");
}
