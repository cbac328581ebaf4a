/* End-to-end with real servers from Debian's packages (nginx with a master
 * and two workers, haproxy, redis-server, memcached), each on loopback in
 * the sandbox's private network namespace with net.core.somaxconn 128:
 * listeners, apply, check and relisten give the findings and advice the
 * issue asks for, and the servers answer real requests during and after
 * a relisten. A missing server binary fails the test: CI installs them. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "listener_json.h"
#include "sandbox.h"

TestSuite(e2e_servers, .init = sandbox_enter, .fini = sandbox_leave, .timeout = 60);

enum { NGINX, HAPROXY, REDIS, MEMCACHED, NSERVERS };

static const uint16_t ports[NSERVERS] = { 18080, 18081, 18082, 18083 };
static pid_t pids[NSERVERS];

static void write_configs(int nginx_backlog)
{
	char buf[8192];

	/* sandbox_path's buffers rotate: one root, many paths. */
	const char *r = sandbox_root;
	snprintf(buf, sizeof(buf),
		 "worker_processes 2;\ndaemon off;\nmaster_process on;\npid %s/srv/nginx.pid;\n"
		 "error_log %s/srv/nginx.err;\nevents { worker_connections 64; }\n"
		 "http {\n  access_log off;\n  client_body_temp_path %s/srv/t1;\n  proxy_temp_path %s/srv/t2;\n"
		 "  fastcgi_temp_path %s/srv/t3;\n  uwsgi_temp_path %s/srv/t4;\n  scgi_temp_path %s/srv/t5;\n"
		 "  server { listen 127.0.0.1:%u backlog=%d; location / { return 200 \"ok\\n\"; } }\n}\n",
		 r, r, r, r, r, r, r, ports[NGINX], nginx_backlog);
	sandbox_write("srv/nginx.conf", buf, 0644);
	snprintf(buf, sizeof(buf),
		 "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n"
		 "frontend fe\n  bind 127.0.0.1:%u\n  backlog 4096\n"
		 "  http-request return status 200 content-type text/plain string ok\n", ports[HAPROXY]);
	sandbox_write("srv/haproxy.cfg", buf, 0644);
}

static pid_t spawn(const char *const argv[], const char *log)
{
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = open(sandbox_path(log), O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int null = open("/dev/null", O_RDONLY);

		if (fd < 0 || null < 0 || dup2(null, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		setpgid(0, 0);          /* the server and its workers, killed as one */
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static char port_text[NSERVERS][8];

static void start(int which)
{
	char paths[3][512];

	snprintf(port_text[which], sizeof(port_text[which]), "%u", ports[which]);
	switch (which) {
	case NGINX:
		snprintf(paths[0], sizeof(paths[0]), "%s/srv", sandbox_root);
		snprintf(paths[1], sizeof(paths[1]), "%s/srv/nginx.conf", sandbox_root);
		snprintf(paths[2], sizeof(paths[2]), "%s/srv/nginx.err", sandbox_root);
		pids[NGINX] = spawn((const char *[]){ "nginx", "-p", paths[0], "-c", paths[1], "-e",
						      paths[2], NULL }, "srv/nginx.log");
		break;
	case HAPROXY:
		pids[HAPROXY] = spawn((const char *[]){ "haproxy", "-db", "-f",
							sandbox_path("srv/haproxy.cfg"), NULL },
				      "srv/haproxy.log");
		break;
	case REDIS:
		pids[REDIS] = spawn((const char *[]){ "redis-server", "--port", port_text[REDIS],
						      "--bind", "127.0.0.1", "--save", "", "--daemonize",
						      "no", "--protected-mode", "no", NULL }, "srv/redis.log");
		break;
	case MEMCACHED:
		pids[MEMCACHED] = spawn((const char *[]){ "memcached", "-l", "127.0.0.1", "-p",
							  port_text[MEMCACHED], "-u", "root", NULL },
					"srv/memcached.log");
		break;
	}
}

static void stop(int which)
{
	if (pids[which] <= 0)
		return;
	kill(-pids[which], SIGKILL);
	waitpid(pids[which], NULL, 0);
	pids[which] = 0;
}

static void stop_all(void)
{
	for (int i = 0; i < NSERVERS; i++)
		stop(i);
}

static bool say_failures;      /* the asker's requests must all succeed */

/* One request, one answer: HTTP GET, redis PING, memcached version. */
static bool ask(int which)
{
	static const char *const req[NSERVERS] = {
		"GET / HTTP/1.0\r\n\r\n", "GET / HTTP/1.0\r\n\r\n", "PING\r\n", "version\r\n",
	};
	static const char *const want[NSERVERS] = { "HTTP/1.1 200", "HTTP/1.1 200", "+PONG", "VERSION" };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(ports[which]) };
	char buf[256] = { 0 };
	size_t got = 0;
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = false;

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(c, req[which], strlen(req[which])) != (ssize_t)strlen(req[which]))
		goto out;
	while (got < sizeof(buf) - 1 && !strstr(buf, want[which])) {
		struct pollfd p = { c, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 2000) <= 0 || (n = read(c, buf + got, sizeof(buf) - 1 - got)) <= 0)
			break;
		got += (size_t)n;
	}
	ok = strstr(buf, want[which]) != NULL;
out:
	if (!ok && say_failures)
		fprintf(stderr, "e2e_servers: server %d on %u: %s (got %zu bytes: %.40s)\n", which,
			ports[which], strerror(errno), got, buf);
	if (c >= 0)
		close(c);
	return ok;
}

static void wait_ready(int which)
{
	for (int i = 0; i < 100; i++) {
		if (ask(which))
			return;
		usleep(50 * 1000);
	}
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "cat %s/srv/*.log %s/srv/*.err >&2", sandbox_root, sandbox_root);
	if (system(cmd) != 0)
		fprintf(stderr, "no server logs\n");
	cr_assert_fail("server %d did not answer on port %u", which, ports[which]);
}

static void start_all(void)
{
	write_configs(4096);
	for (int i = 0; i < NSERVERS; i++)
		start(i);
	for (int i = 0; i < NSERVERS; i++)
		wait_ready(i);
}

/* A child asking every server in turn until told to stop (SIGTERM); it
 * writes how many were answered and how many were not to a pipe. */
struct asker {
	pid_t pid;
	int results;
};

static volatile sig_atomic_t asker_done;

static void asker_stop_handler(int sig)
{
	(void)sig;
	asker_done = 1;
}

static struct asker asker_start(void)
{
	struct asker a = { 0 };
	int p[2];

	cr_assert(pipe(p) == 0);
	a.pid = fork();
	cr_assert(a.pid >= 0);
	if (a.pid == 0) {
		unsigned counts[2] = { 0, 0 };  /* answered, unanswered */

		close(p[0]);
		say_failures = true;
		signal(SIGTERM, asker_stop_handler);
		while (!asker_done) {
			for (int i = 0; i < NSERVERS && !asker_done; i++) {
				bool ok = ask(i);
				/* The stop signal may cut the last request short. */
				if (!ok && asker_done)
					break;
				counts[ok ? 0 : 1]++;
			}
		}
		_exit(write(p[1], counts, sizeof(counts)) == sizeof(counts) ? 0 : 1);
	}
	close(p[1]);
	a.results = p[0];
	return a;
}

/* Stops the asker; every request must have been answered. */
static void asker_finish(struct asker *a)
{
	unsigned counts[2] = { 0, 0 };

	kill(a->pid, SIGTERM);
	cr_assert_eq(read(a->results, counts, sizeof(counts)), (ssize_t)sizeof(counts));
	waitpid(a->pid, NULL, 0);
	close(a->results);
	cr_assert_gt(counts[0], NSERVERS, "requests were made during the relisten");
	cr_assert_eq(counts[1], 0, "%u of %u requests unanswered during the relisten", counts[1],
		     counts[0] + counts[1]);
}

static int qtune(char **out, const char *const argv[])
{
	char *err = NULL;
	int rc = sandbox_qtune_rooted(out, &err, argv);

	free(err);
	return rc;
}

static const char web[] = "qtune: 1\nsysctl:\n  net.core.somaxconn: 4096\nlisteners:\n  min_backlog: 511\n";
static const char lb[] = "qtune: 1\nsysctl:\n  net.core.somaxconn: 65535\n";

Test(e2e_servers, findings_advice_and_relisten_on_nginx_haproxy_redis_memcached)
{
	char *out, *l;

	sandbox_sysctl_set("net/core/somaxconn", "128");
	sandbox_write("p/web.yaml", web, 0644);
	start_all();

	/* At the ceiling with nothing recorded and somaxconn not above it:
	 * nothing to say yet. */
	cr_assert_eq(qtune(&out, (const char *[]){ "--json", "listeners", NULL }), 0);
	for (int i = 0; i < NSERVERS; i++) {
		l = listener_json(out, ports[i]);
		cr_assert(strstr(l, "\"backlog\":128,"), "%s", l);
		cr_assert(strstr(l, "\"findings\":[]"), "%s", l);
		free(l);
	}
	/* nginx: one socket, the master and its two workers. */
	l = listener_json(out, ports[NGINX]);
	cr_assert(strstr(l, "\"owners_total\":3,"), "%s", l);
	cr_assert(strstr(l, "\"owners_truncated\":false"), "%s", l);
	cr_assert(strstr(l, "\"exe\":\"nginx\""), "%s", l);
	free(l);
	free(out);

	/* apply: every listener is clamped by it, one line of advice each,
	 * and that advice is relisten (live), naming nginx's master. */
	cr_assert_eq(qtune(&out, (const char *[]){ "apply", sandbox_path("p/web.yaml"), NULL }), 0);
	cr_assert(strstr(out, "127.0.0.1:18080: clamped: backlog 128 is the somaxconn the apply of"),
		  "%s", out);
	cr_assert(strstr(out, "advice:\n"), "%s", out);
	char want[256];
	snprintf(want, sizeof(want), "127.0.0.1:18080: run `qtune relisten` to raise it live to 4096, "
		 "no restart (nginx (master pid %d, 2 workers); its own setting: `listen ... "
		 "backlog=511;` in nginx's configuration)", (int)pids[NGINX]);
	cr_assert(strstr(out, want), "want %s in %s", want, out);
	cr_assert(strstr(out, "`tcp-backlog 511` in redis.conf"), "%s", out);
	cr_assert(strstr(out, "`-b 511` on memcached's command line"), "%s", out);
	cr_assert(strstr(out, "`backlog 511` in the frontend"), "%s", out);
	/* Below min_backlog because the ceiling cut it: never "configure the
	 * program" for a program that asked for more. */
	cr_assert_null(strstr(out, "configure"), "%s", out);
	cr_assert(strstr(out, "below-min: backlog 128 is below 511 (listeners.min_backlog): the "
			      "ceiling in force when it listened cut it (clamped)"), "%s", out);
	/* One advice line per listener: four, not eight. */
	size_t lines = 0;
	for (const char *p = strstr(out, "advice:\n"); p && (p = strstr(p, "\n  127.0.0.1:")); p++)
		lines++;
	cr_assert_eq(lines, NSERVERS, "%s", out);
	free(out);
	cr_assert_eq(qtune(&out, (const char *[]){ "check", sandbox_path("p/web.yaml"), NULL }), 1,
		     "clamped listeners are drift");
	free(out);

	/* relisten, with requests flowing: the target is said to be a choice. */
	struct asker a = asker_start();
	usleep(100 * 1000);
	cr_assert_eq(qtune(&out, (const char *[]){ "relisten", NULL }), 0);
	cr_assert(strstr(out, "127.0.0.1:18080  raised 128 -> 4096, the ceiling: the program's own "
			      "request is unknown"), "%s", out);
	cr_assert(strstr(out, "its own setting: `listen ... backlog=4096;` in nginx's configuration"),
		  "%s", out);
	cr_assert(strstr(out, "relisten: 4 raised"), "%s", out);
	free(out);
	usleep(100 * 1000);
	asker_finish(&a);
	for (int i = 0; i < NSERVERS; i++)
		cr_assert(ask(i), "server %d answers after the relisten", i);

	/* Raised: nothing clamped any more, and the record says so. */
	cr_assert_eq(qtune(&out, (const char *[]){ "check", sandbox_path("p/web.yaml"), NULL }), 0,
		     "compliant after relisten");
	free(out);
	cr_assert_eq(qtune(&out, (const char *[]){ "--json", "listeners", NULL }), 0);
	for (int i = 0; i < NSERVERS; i++) {
		l = listener_json(out, ports[i]);
		cr_assert(strstr(l, "\"backlog\":4096,"), "%s", l);
		free(l);
	}
	free(out);
	stop_all();
}

/* Defect 1: apply web (4096), apply loadbalancer (65535), restart nginx
 * (new socket, backlog 4096 = the somaxconn the last apply replaced):
 * the new socket is not clamped, and check exits 0. */
Test(e2e_servers, a_restarted_service_is_not_clamped_by_an_old_apply)
{
	char *out;

	sandbox_sysctl_set("net/core/somaxconn", "128");
	sandbox_write("p/web.yaml", "qtune: 1\nsysctl:\n  net.core.somaxconn: 4096\n", 0644);
	sandbox_write("p/lb.yaml", lb, 0644);
	write_configs(4096);
	start(NGINX);
	wait_ready(NGINX);
	cr_assert_eq(qtune(&out, (const char *[]){ "apply", sandbox_path("p/web.yaml"), NULL }), 0);
	free(out);
	cr_assert_eq(qtune(&out, (const char *[]){ "apply", sandbox_path("p/lb.yaml"), NULL }), 0);
	/* Still clamped at 128, carried over from the first apply, which the
	 * text names. */
	cr_assert(strstr(out, "127.0.0.1:18080: clamped: backlog 128 is the somaxconn the apply of "),
		  "%s", out);
	cr_assert(strstr(out, "web.yaml at "), "names the apply it comes from: %s", out);
	free(out);
	cr_assert_eq(qtune(&out, (const char *[]){ "check", sandbox_path("p/lb.yaml"), NULL }), 1);
	free(out);

	/* The restart the advice would have given. */
	stop(NGINX);
	start(NGINX);
	wait_ready(NGINX);
	cr_assert_eq(qtune(&out, (const char *[]){ "--json", "listeners", NULL }), 0);
	char *l = listener_json(out, ports[NGINX]);
	cr_assert(strstr(l, "\"backlog\":4096,"), "%s", l);
	cr_assert(strstr(l, "\"findings\":[]"), "no finding on the new socket: %s", l);
	free(l);
	free(out);
	cr_assert_eq(qtune(&out, (const char *[]){ "check", sandbox_path("p/lb.yaml"), NULL }), 0,
		     "check after the restart: %s", out);
	free(out);
	stop_all();
}

/* Defect 11: somaxconn raised outside qtune, no record: a listener at a
 * kernel default is maybe-clamped (information, check stays 0), and
 * relisten --all raises it. */
Test(e2e_servers, maybe_clamped_without_a_record_and_relisten_all)
{
	char *out;

	sandbox_sysctl_set("net/core/somaxconn", "128");
	sandbox_write("p/lb.yaml", lb, 0644);
	write_configs(4096);
	start(REDIS);
	wait_ready(REDIS);
	sandbox_sysctl_set("net/core/somaxconn", "65535");
	cr_assert_eq(qtune(&out, (const char *[]){ "listeners", NULL }), 0);
	cr_assert(strstr(out, "127.0.0.1:18082: maybe-clamped: backlog 128 is the kernel's default "
			      "somaxconn before Linux 5.4"), "%s", out);
	cr_assert(strstr(out, "run `qtune relisten --all` to raise it live to 65535"), "%s", out);
	free(out);
	cr_assert_eq(qtune(&out, (const char *[]){ "check", sandbox_path("p/lb.yaml"), NULL }), 0,
		     "maybe-clamped is not drift: %s", out);
	free(out);
	cr_assert_eq(qtune(&out, (const char *[]){ "relisten", NULL }), 0);
	cr_assert(strstr(out, "no listener to raise"), "plain relisten only acts on records: %s", out);
	free(out);
	cr_assert_eq(qtune(&out, (const char *[]){ "relisten", "--all", "--backlog", "1000", NULL }), 0);
	cr_assert(strstr(out, "raised 128 -> 1000, the --backlog asked for"), "%s", out);
	free(out);
	cr_assert(ask(REDIS));
	stop_all();
}
