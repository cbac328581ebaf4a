/* unit: which systemd unit a process belongs to, from the text of its
 * /proc/PID/cgroup, naming only units that systemd itself named. systemd
 * names the slices and the one unit cgroup beneath them; whatever lies
 * below a unit is named by the unit (Delegate=, or a user's own manager
 * below user@UID.service), so a name read from there is never reported
 * as a system unit. Pure: text in, verdict out. */
#ifndef QTUNE_UNIT_H
#define QTUNE_UNIT_H

#include <stddef.h>
#include <stdint.h>

enum unit_kind {
	UNIT_NONE,      /* no unit systemd named (a container's cgroup, garbage) */
	UNIT_SYSTEM,    /* a unit of the system manager: *unit holds its name */
	UNIT_USER,      /* beneath user@UID.service: *uid holds UID, unit is "" */
};

/* Judges the unified hierarchy's line ("0::/system.slice/nginx.service"),
 * else cgroup v1's name=systemd line. The path is walked from its root:
 * *.slice components are systemd's, the first other component is the
 * unit, and nothing below it counts. A component that is not a valid unit
 * name (systemd's character set, a unit suffix, at most size - 1 bytes)
 * is not systemd's: UNIT_NONE. unit is always a NUL-terminated string. */
enum unit_kind unit_from_cgroup(const char *text, char *unit, size_t size, uint32_t *uid);

/* The cgroup path those lines give (unified first, else name=systemd),
 * not NUL-terminated: *len bytes; NULL when there is none. The namespace
 * labeller (netns_label.c) reads container names from the same path. */
const char *unit_cgroup_path(const char *text, size_t *len);

/* How much of such a path (len bytes) the system named: up to and with
 * its first component that is a unit (.service, .scope, ...), or all of
 * it when none is. Below a unit its own processes name the cgroups
 * (Delegate=, every user@UID.service), so nothing there may pass for a
 * container or a pod (netns_label.c). */
size_t unit_named_len(const char *path, size_t len);

#endif
