/* Tests for programs: the program table behind advice (pure). */
#include <criterion/criterion.h>
#include <string.h>

#include "programs.h"

static const char *setting_of(const char *exe, const char *comm, int pid, long long n)
{
	static char buf[256];

	programs_setting(programs_identify(exe, comm, pid), n, buf, sizeof(buf));
	return buf;
}

Test(programs, every_server_of_the_issue_gets_its_own_setting)
{
	static const struct { const char *exe, *comm, *want; } cases[] = {
		{ "nginx", "nginx", "`listen ... backlog=1024;` in nginx's configuration" },
		{ "haproxy", "haproxy", "`backlog 1024` in the frontend" },
		/* Debian's redis-server is a symlink to redis-check-rdb. */
		{ "redis-check-rdb", "redis-server", "`tcp-backlog 1024` in redis.conf" },
		{ "apache2", "apache2", "`ListenBacklog 1024`" },
		{ "httpd", "httpd", "`ListenBacklog 1024`" },
		{ "memcached", "memcached", "`-b 1024` on memcached's command line" },
		/* Scripts: exe is the interpreter, comm the script. */
		{ "python3.11", "gunicorn", "`--backlog 1024` (gunicorn" },
		{ "python3.11", "uvicorn", "`--backlog 1024` on uvicorn" },
		{ "node", "node", "`server.listen({ backlog: 1024 })`" },
		{ "nodejs", "MainThread", "`server.listen({ backlog: 1024 })`" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = setting_of(cases[i].exe, cases[i].comm, 100, 1024);
		cr_assert(strstr(got, cases[i].want), "%s/%s: %s", cases[i].exe, cases[i].comm, got);
	}
}

Test(programs, postgresql_is_derived_from_max_connections_and_says_so)
{
	const struct program *p = programs_identify("postgres", "postgres", 900);

	cr_assert_not_null(p);
	cr_assert_str_eq(p->name, "PostgreSQL");
	/* Twice max_connections: 1024 needs 512, 1025 needs 513. */
	cr_assert(strstr(setting_of("postgres", "postgres", 900, 1024), "max_connections = 512"));
	cr_assert(strstr(setting_of("postgres", "postgres", 900, 1025), "max_connections = 513"));
	cr_assert(strstr(setting_of("postgres", "postgres", 900, 1024), "twice max_connections"));
}

Test(programs, systemd_holds_socket_activated_listeners_as_pid_1_only)
{
	const struct program *p = programs_identify("systemd", "systemd", 1);

	cr_assert_not_null(p);
	cr_assert(p->socket_activated);
	cr_assert(strstr(setting_of("systemd", "systemd", 1, 4096), "`Backlog=4096` in the .socket unit"));
	/* A user's systemd (not PID 1) is not the socket unit entry. */
	cr_assert_null(programs_identify("systemd", "systemd", 4242));
}

Test(programs, the_executable_wins_over_a_comm_a_process_chose)
{
	/* comm is set by the process (prctl): an nginx exe calling itself
	 * "redis-server" is still nginx. */
	cr_assert_str_eq(programs_identify("nginx", "redis-server", 7)->name, "nginx");
	/* An unreadable exe (another user's process) falls back to comm. */
	cr_assert_str_eq(programs_identify("", "memcached", 7)->name, "memcached");
	cr_assert_str_eq(programs_identify(NULL, "memcached", 7)->name, "memcached");
}

Test(programs, an_unknown_program_gets_the_generic_listen_text)
{
	cr_assert_null(programs_identify("myserver", "myserver", 7));
	cr_assert_null(programs_identify("", "", 7));
	cr_assert_null(programs_identify(NULL, NULL, 7));
	cr_assert_str_eq(setting_of("myserver", "myserver", 7, 511),
			 "a listen() backlog of at least 511 in the program");
	/* Names are matched whole. */
	cr_assert_null(programs_identify("nginxx", "nginxx", 7));
}

Test(programs, a_short_buffer_is_truncated_not_overrun)
{
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	programs_setting(programs_identify("nginx", "nginx", 7), 1024, buf, sizeof(buf));
	cr_assert_eq(strlen(buf), 7);
	programs_setting(NULL, 1, buf, 0);      /* size 0: nothing written */
}
