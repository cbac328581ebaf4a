/* sysctld_replay: what the next boot leaves in a key. Replays the
 * sysctl.d lines (loaded by sysctld.h) as systemd-sysctl and procps
 * `sysctl --system` do (they differ, and both answers are kept), naming the
 * file and line that decides each key. Pure: reads nothing; the
 * configuration is its input and is never changed. */
#ifndef QTUNE_SYSCTLD_REPLAY_H
#define QTUNE_SYSCTLD_REPLAY_H

#include <stdbool.h>
#include <stddef.h>

/* The two programs that apply sysctl.d at boot or by hand.
 *
 * SYSCTLD_SYSTEMD (systemd-sysctl, what boots Debian, Ubuntu, Fedora, RHEL,
 * SUSE): reads the winners of the merged *.conf names, skipping names that
 * start with '.', in strcmp order of name. An explicit key always beats a
 * glob, wherever it stands; of several globs the one assigned last wins; a
 * "-KEY" line cancels an earlier "KEY = v" too. /etc/sysctl.conf is not
 * read (Debian links it in as /etc/sysctl.d/99-sysctl.conf).
 *
 * SYSCTLD_PROCPS (`sysctl --system`, procps-ng 4): the same files plus
 * names starting with '.', then /etc/sysctl.conf once more, last. Every
 * explicit assignment is written in turn (the last wins) and beats globs;
 * "-KEY" keeps globs off KEY (and, as in upstream procps-ng, a glob in
 * "-PATTERN" keeps them off every key it matches; procps-ng 4.0.2 as in
 * Debian 12 honours only exact "-KEY") but does not cancel "KEY = v".
 * procps-ng 3.x knows no globs at all; that is not modelled. */
enum sysctld_tool {
	SYSCTLD_SYSTEMD,
	SYSCTLD_PROCPS,
};
#define SYSCTLD_NTOOLS 2

enum sysctld_file_state {
	SYSCTLD_FILE_READ,        /* parsed */
	SYSCTLD_FILE_MASKED,      /* a link to /dev/null: takes the name, sets nothing */
	SYSCTLD_FILE_UNREADABLE,  /* dangling link, directory, device, I/O error:
				   * takes the name, sets nothing (warned) */
	SYSCTLD_FILE_REFUSED,     /* over a bound: not read, replay incomplete (error) */
	SYSCTLD_FILE_SHADOWED,    /* an earlier directory holds the same name: not read */
};

struct sysctld_file {
	char *name;              /* "50-default.conf" */
	char *path;              /* as the booted system sees it: "/usr/lib/sysctl.d/50-default.conf" */
	char *disk_path;         /* ROOT + path: where it was read, for messages */
	char *link;              /* readlink() text when the entry is a symlink, else NULL */
	enum sysctld_file_state state;
	size_t shadowed_by;      /* SHADOWED: index in files[] of the file that wins the name */
	bool hidden;             /* name starts with '.': procps reads it, systemd does not */
	size_t first, count;     /* its lines in entries[] */
};

/* One assignment or exclusion line. */
struct sysctld_entry {
	char *key;               /* canonical slashed path, or a slashed glob pattern */
	char *value;             /* whitespace-normalised; NULL for an exclusion "-KEY" */
	size_t file;             /* index in files[] */
	unsigned line;           /* 1-based */
	bool glob;               /* key holds '*', '?' or '[' */
	bool ignore_failure;     /* written "-KEY = VALUE" */
};

/* Read-only for callers; sysctld_config_free() releases it. */
struct sysctld_config {
	struct sysctld_file *files;      /* every *.conf seen, shadowed ones too */
	size_t nfiles;
	struct sysctld_entry *entries;   /* grouped by file */
	size_t nentries;
	/* The files each tool reads, as indexes in files[], in reading order
	 * (procps: /etc/sysctl.conf last). Shadowed files are not listed. */
	size_t *order[SYSCTLD_NTOOLS];
	size_t norder[SYSCTLD_NTOOLS];
	bool complete;                   /* false when something was refused or unreadable */
};

/* What one tool leaves in a key after boot. */
struct sysctld_value {
	const char *value;                 /* NULL: the tool does not set the key */
	const struct sysctld_file *file;   /* of the deciding line; NULL when no line concerns the key */
	const struct sysctld_entry *entry; /* the deciding line (an exclusion when value is NULL) */
	unsigned line;
	bool from_glob;
	bool ignore_failure;
};

struct sysctld_resolved {
	struct sysctld_value by[SYSCTLD_NTOOLS];  /* indexed by enum sysctld_tool */
	bool disagree;   /* the tools leave different values (numerically for known keys) */
};

/* Releases what sysctld_load() built; safe on NULL. */
void sysctld_config_free(struct sysctld_config *c);

/* The sysctl.d spelling of a key (or, with allow_glob, of a pattern) into
 * its slashed path. As both tools do, when the first separator is '.', dots
 * become slashes and slashes become dots ("net.ipv4.conf.eth0/100.rp_filter"
 * names the interface "eth0.100"); repeated and leading slashes are
 * dropped; *glob says whether it holds '*', '?' or '['. -EINVAL or
 * -ENAMETOOLONG with *why set. */
int sysctld_key_path(const char *text, bool allow_glob, char *out, size_t size, bool *glob,
		     const char **why);

/* What tool leaves in key (dotted or slashed) after reading the config.
 * Returns 1 when it sets the key, 0 when it leaves it alone (*out says
 * which exclusion, if any), -EINVAL when key is not a key. */
int sysctld_lookup(const struct sysctld_config *c, const char *key, enum sysctld_tool tool,
		   struct sysctld_value *out);
/* Both tools at once, and whether they disagree. 0 or -EINVAL. */
int sysctld_resolve(const struct sysctld_config *c, const char *key, struct sysctld_resolved *out);
/* Every line that concerns key (assignment, matching glob, exclusion) in
 * the order tool reads them; stores up to max in v and returns how many
 * there are, or -EINVAL. For "set in A:3, overridden by B:7" messages. */
int sysctld_history(const struct sysctld_config *c, const char *key, enum sysctld_tool tool,
		    const struct sysctld_entry **v, size_t max);

#endif
