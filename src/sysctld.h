/* sysctld: what the next boot applies, and the one file qtune persists.
 * Replays the sysctl.d directories as systemd-sysctl and procps
 * `sysctl --system` do (they differ, and both answers are kept), naming the
 * file and line that decides each key; and writes ROOT/etc/sysctl.d/NAME
 * atomically, never through a symlink, so a failure leaves the old file. */
#ifndef QTUNE_SYSCTLD_H
#define QTUNE_SYSCTLD_H

#include <stdbool.h>
#include <stddef.h>

#include "ctx.h"
#include "diag.h"

/* Bounds on what others may write. A file over SYSCTLD_FILE_MAX, a
 * directory with more than SYSCTLD_DIR_FILES_MAX *.conf names, or more than
 * SYSCTLD_ASSIGN_MAX lines in all is refused with an error and the replay
 * marked incomplete; a line longer than SYSCTLD_LINE_MAX is malformed. */
#define SYSCTLD_FILE_MAX (1024 * 1024)
#define SYSCTLD_LINE_MAX 4096
#define SYSCTLD_DIR_FILES_MAX 1024
#define SYSCTLD_ASSIGN_MAX 65536

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

/* Reads ROOT/etc/sysctl.d, ROOT/run/sysctl.d, ROOT/usr/local/lib/sysctl.d,
 * ROOT/usr/lib/sysctl.d, ROOT/lib/sysctl.d (a directory reached twice, as
 * /lib -> usr/lib, counts once) and ROOT/etc/sysctl.conf. Symlinks resolve
 * inside ROOT. Malformed lines are warnings (file, line, column) and are
 * skipped, as the real tools skip them; refused or unreadable files are
 * errors and clear ->complete. Returns 0 (diagnostics in d) or -errno when
 * ROOT itself cannot be opened. */
int sysctld_load(const struct qt_ctx *ctx, struct sysctld_config **out, struct qt_diags *d);
void sysctld_config_free(struct sysctld_config *c);

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

/* ---- persistence ---- */

struct sysctld_assign {
	const char *key;     /* dotted or slashed; written dotted where possible */
	const char *value;   /* no control characters; whitespace-normalised on output */
};

/* 0 when name is a plain sysctl.d file name both tools read: no '/', does
 * not start with '.', ends in ".conf", [A-Za-z0-9._@+-] only. */
int sysctld_check_name(const char *name, const char **why);

/* "# Written by qtune VERSION from profile NAME (PATH)\n# sha256 SUM\n
 * # Do not edit: qtune apply --persist rewrites this file.\n", control
 * characters in the arguments replaced by '?'. Caller frees. */
char *sysctld_header(const char *version, const char *profile_name, const char *profile_path,
		     const char *checksum);

/* The file's bytes: header (every line a '#' comment), then "key = value"
 * lines. -EINVAL (with a diagnostic) for a bad key, value or header. */
int sysctld_render(const char *header, const struct sysctld_assign *a, size_t n,
		   char **out, size_t *len, struct qt_diags *d);

/* Writes ROOT/etc/sysctl.d/file_name atomically (temporary file in the
 * same directory, O_EXCL|O_NOFOLLOW, mode 0644, fsync, rename, fsync of the
 * directory), creating ROOT/etc/sysctl.d when missing. Refuses with -ELOOP
 * when the directory or the target is a symlink, leaving the link and what
 * it points to untouched. On any failure before the rename the old file (or
 * its absence) is as it was and no temporary file is left; a failing fsync
 * of the directory after the rename is reported (the new file is in place).
 * 0 or -errno, with a diagnostic naming the file. */
int sysctld_persist(const struct qt_ctx *ctx, const char *file_name, const char *header,
		    const struct sysctld_assign *a, size_t n, struct qt_diags *d);

/* The bytes of ROOT/etc/sysctl.d/file_name, bounded by SYSCTLD_FILE_MAX,
 * never through a symlink: -ENOENT when absent, -ELOOP for a link. */
int sysctld_read_persisted(const struct qt_ctx *ctx, const char *file_name, char **content,
			   size_t *len);

/* Writes bytes already rendered (apply --persist) or recorded (rollback)
 * atomically as sysctld_persist does, or with content NULL removes the file
 * (absent already is success). */
int sysctld_replace(const struct qt_ctx *ctx, const char *file_name, const char *content,
		    size_t len, struct qt_diags *d);

#endif
