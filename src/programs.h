/* programs: the servers operators run, identified by their executable's
 * basename or their comm, and where each one sets its listen() backlog
 * (nginx `listen ... backlog=N`, redis `tcp-backlog N`, ...), so advice
 * can name the exact setting; the generic listen() text otherwise. Pure:
 * a table and its lookup, no I/O (the names come from owners.c). */
#ifndef QTUNE_PROGRAMS_H
#define QTUNE_PROGRAMS_H

#include <stddef.h>
#include <stdint.h>

struct program {
	const char *name;       /* "nginx", "PostgreSQL", "systemd socket unit" */
	/* The setting for a backlog of N, a printf format taking N once
	 * (long long), except for PostgreSQL (see half). */
	const char *setting;
	/* The backlog is derived: the setting takes N/2 rounded up
	 * (PostgreSQL listens with twice max_connections). */
	int half;
	/* The socket is held by the service manager (PID 1) as well as the
	 * service: restart the socket unit, not only the service. */
	int socket_activated;
};

/* The program of a process from the basename of its executable and its
 * comm (either may be "" or NULL); pid 1 running systemd is the socket
 * unit entry. NULL when the table does not know it. */
const struct program *programs_identify(const char *exe, const char *comm, int pid);

/* The setting that gives a backlog of at least n, for people:
 * "`listen ... backlog=1024;` in nginx's configuration"; with prog NULL the
 * generic "a listen() backlog of at least 1024 in the program". Truncated
 * to size. */
void programs_setting(const struct program *prog, int64_t n, char *buf, size_t size);

#endif
