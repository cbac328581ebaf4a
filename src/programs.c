/* programs: the table of servers and where each sets its backlog (pure). */
#include "programs.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

struct program_row {
	const char *names[4];   /* exe basenames and comms that are this program */
	struct program prog;
};

/* Each setting is what the program's own documentation calls it. Python
 * servers run as `python3 /usr/bin/gunicorn`: their exe is python, but
 * the kernel names a script's process (comm) after the script. */
static const struct program_row table[] = {
	{ { "nginx" }, { "nginx", "`listen ... backlog=%lld;` in nginx's configuration", 0, 0 } },
	{ { "haproxy" }, { "haproxy", "`backlog %lld` in the frontend (or on its bind line) of haproxy's configuration", 0, 0 } },
	{ { "redis-server", "redis-check-rdb" }, { "redis", "`tcp-backlog %lld` in redis.conf", 0, 0 } },
	{ { "apache2", "httpd" }, { "apache", "`ListenBacklog %lld` in apache's configuration", 0, 0 } },
	{ { "postgres", "postmaster" }, { "PostgreSQL", "max_connections = %lld in postgresql.conf (PostgreSQL derives its backlog from it: twice max_connections)", 1, 0 } },
	{ { "memcached" }, { "memcached", "`-b %lld` on memcached's command line", 0, 0 } },
	{ { "gunicorn" }, { "gunicorn", "`--backlog %lld` (gunicorn's backlog setting)", 0, 0 } },
	{ { "uvicorn" }, { "uvicorn", "`--backlog %lld` on uvicorn's command line", 0, 0 } },
	{ { "node", "nodejs" }, { "node", "`server.listen({ backlog: %lld })` in the program", 0, 0 } },
};

static const struct program systemd_socket = {
	"systemd socket unit",
	"`Backlog=%lld` in the .socket unit (systemd, PID 1, holds the socket with the service it starts)",
	0, 1,
};

static const struct program *lookup(const char *name)
{
	if (!name || !name[0])
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		for (size_t k = 0; k < ARRAY_SIZE(table[i].names) && table[i].names[k]; k++)
			if (strcmp(name, table[i].names[k]) == 0)
				return &table[i].prog;
	return NULL;
}

const struct program *programs_identify(const char *exe, const char *comm, int pid)
{
	const struct program *p;

	if (pid == 1 && ((exe && strcmp(exe, "systemd") == 0) || (comm && strcmp(comm, "systemd") == 0)))
		return &systemd_socket;
	/* The executable first: a comm is whatever the process set. */
	p = lookup(exe);
	return p ? p : lookup(comm);
}

void programs_setting(const struct program *prog, int64_t n, char *buf, size_t size)
{
	if (!size)
		return;
	if (!prog) {
		snprintf(buf, size, "a listen() backlog of at least %lld in the program", (long long)n);
		return;
	}
	/* The format is one of the table's, taking one long long. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(buf, size, prog->setting, (long long)(prog->half ? (n + 1) / 2 : n));
#pragma GCC diagnostic pop
}
