/* sysctld_replay: what the next boot leaves in a key. Replays the
 * sysctl.d lines (loaded by sysctld.h) as systemd-sysctl and procps
 * `sysctl --system` do (they differ, and both answers are kept), naming the
 * file and line that decides each key. Pure: reads nothing; the
 * configuration is its input and is never changed. */
#ifndef QTUNE_SYSCTLD_REPLAY_H
#define QTUNE_SYSCTLD_REPLAY_H

#include <stdbool.h>
#include <stddef.h>

#include "keys.h"

/* The two programs that apply sysctl.d at boot or by hand, as released in
 * Debian 12 and checked line for line against them (tests/boot_diff):
 *
 * SYSCTLD_SYSTEMD (systemd-sysctl, systemd 252; what boots Debian, Ubuntu,
 * Fedora, RHEL, SUSE): reads the winners of the merged *.conf names,
 * skipping names that start with '.', in strcmp order of name. Lines end at
 * "\n", "\r\n", a lone "\r" or a NUL, and may be 1 MiB long. Every key and
 * pattern goes into one ordered map: assigning a different value moves it
 * to the end, the same value keeps its place; "-KEY" puts KEY in the map
 * with no value. Then the map is written in order: an explicit key once,
 * with its last value; a glob to each match that is not itself in the map
 * (so an explicit key or "-KEY" keeps every glob off it, wherever it
 * stands; a glob in "-PATTERN" excludes nothing). Keys are normalised
 * (dots and slashes swapped when the first separator is a dot, repeated,
 * leading and trailing separators and "." segments dropped); ".." is
 * refused. "- KEY" is "-KEY". /etc/sysctl.conf is not read (Debian links
 * it in as /etc/sysctl.d/99-sysctl.conf).
 *
 * SYSCTLD_PROCPS (`sysctl --system`, procps-ng 4.0.2): the same files plus
 * names starting with '.', then /etc/sysctl.conf once more, last. Lines
 * end at "\n"; a NUL ends the line's text, a lone "\r" is part of it. Every
 * line is written in turn: an explicit key each time it appears; a glob to
 * each match, unless some line anywhere spells that match exactly, as an
 * assignment or "-KEY" (the comparison is of the raw spelling:
 * "/net/ipv4/..." or "net.ipv4.conf..lo..." does not count). "-PATTERN"
 * with a glob excludes nothing (globs there arrived in procps-ng 4.0.5),
 * and "-KEY" does not cancel "KEY = v". The key goes to the kernel as
 * "/proc/sys/" + key with dots and slashes swapped, so "." and ".."
 * resolve, while a trailing separator fails; "- KEY" looks for
 * "/proc/sys/ KEY" and fails. procps-ng 3.x knows no globs; not modelled.
 *
 * What a write leaves is the kernel's decision (key_kernel_store()): a
 * refused value leaves the key as the previous write left it. */
enum sysctld_tool {
	SYSCTLD_SYSTEMD,
	SYSCTLD_PROCPS,
};
#define SYSCTLD_NTOOLS 2
#define SYSCTLD_TOOL_BIT(t) (1u << (t))
#define SYSCTLD_BOTH_TOOLS (SYSCTLD_TOOL_BIT(SYSCTLD_SYSTEMD) | SYSCTLD_TOOL_BIT(SYSCTLD_PROCPS))

/* systemd's LONG_LINE_MAX: a longer line ends its reading of the file. */
#define SYSCTLD_LINE_MAX (1024 * 1024)

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

/* One assignment or exclusion line, as the tools in ->tools read it (a
 * line the two tools read differently gives one entry for each). */
struct sysctld_entry {
	char *key;               /* canonical slashed path, or a slashed glob pattern */
	char *value;             /* as written, blanks around it stripped; NULL for "-KEY" */
	size_t file;             /* index in files[] */
	unsigned line;           /* 1-based, counting "\n" */
	unsigned tools;          /* SYSCTLD_TOOL_BIT()s of the tools that read it so */
	bool glob;               /* key holds '*', '?' or '[' */
	bool ignore_failure;     /* written "-KEY = VALUE" */
	bool raw_spelled;        /* spelled exactly as key: procps's glob override sees it */
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
	char **stored;                   /* the values lookups return, owned here */
	size_t nstored;
};

/* What one tool leaves in a key after boot. */
struct sysctld_value {
	const char *value;                 /* as the kernel stores it (known integer
					    * keys: "1024" for "1024 # raised"), else
					    * as written, blanks normalised; NULL: the
					    * key keeps its kernel default */
	const struct sysctld_file *file;   /* of entry; NULL when no line concerns the key */
	const struct sysctld_entry *entry; /* the line that decides: the last write the
					    * kernel takes; with value NULL, the refused
					    * write or the exclusion that explains it */
	unsigned line;
	bool from_glob;
	bool ignore_failure;
	bool excluded;                     /* value NULL because of "-KEY" (entry) */
	const struct sysctld_entry *refused; /* the last write the kernel refuses,
					      * when it comes after entry's (or is entry) */
	const struct sysctld_file *refused_file;
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

/* How one tool reads one line (text, without its line end; modified).
 * Returns 1 for an assignment or exclusion (*out filled; out->value points
 * into text, NULL for "-KEY"), 0 for a blank or comment line, or -EINVAL
 * when the tool skips the line (*why says why, *col where). */
struct sysctld_line {
	char key[KEY_PATH_MAX];
	const char *value;
	bool glob, ignore_failure, raw_spelled;
	bool dotdot;     /* procps followed ".." to reach key */
	unsigned col;
};
int sysctld_read_line(enum sysctld_tool tool, char *text, struct sysctld_line *out,
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
