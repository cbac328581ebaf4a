/* profile: YAML tuning profile → struct profile (libyaml), with includes
 * resolved (later entries and the including file win; cycles are errors),
 * every key canonicalised and every value checked against the key table.
 * A profile with any problem is rejected as a whole; every problem is
 * reported as FILE:LINE:COLUMN in one run. Reads the profile's files and
 * nothing else: whether a key qtune does not know exists on the target is
 * a separate pass over the result (profile_check.h). Built from
 * profile_yaml.c (events), profile.c (schema) and profile_include.c
 * (files, includes, search path), which share profile_int.h. */
#ifndef QTUNE_PROFILE_H
#define QTUNE_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "keys.h"

/* Limits that keep hostile input harmless. */
#define PROFILE_MAX_BYTES (256 * 1024)
#define PROFILE_MAX_DEPTH 8          /* YAML nesting */
#define PROFILE_MAX_KEYS 512         /* sysctl entries, after includes */
#define PROFILE_MAX_INCLUDES 16      /* include depth and files per profile */
#define PROFILE_MAX_PORTS 1024       /* listeners.ports and listeners.ignore, each */
#define PROFILE_MAX_ERRORS 100       /* diagnostics per load, then it gives up */
#define PROFILE_NAME_MAX 64
#define PROFILE_DESCRIPTION_MAX 1024
#define PROFILE_PERSIST_NAME_MAX 200
#define PROFILE_LIST_MAX 1024        /* profiles listed from the search path */

#define PROFILE_DIR_ETC "/etc/qtune/profiles"
#define PROFILE_DIR_USR "/usr/share/qtune/profiles"

enum want_kind {
	WANT_EXACT,   /* value must equal text (canonical) */
	WANT_RANGE,   /* integer within [min, max]; either bound optional */
};

struct want {
	enum want_kind kind;
	char *value;            /* WANT_EXACT: canonical text */
	bool has_min, has_max;
	int64_t min, max;
};

struct profile_entry {
	char *key;              /* slashed path, canonical */
	const struct key_info *info;  /* NULL for keys not in the table */
	struct want want;
	char *file;             /* where it was set (the winning assignment) */
	unsigned line, col;
};

struct port_req {
	uint16_t port;
	int64_t backlog;
	char *file;             /* where it was set (the winning assignment) */
	unsigned line, col;
};

struct profile {
	char *path;             /* resolved path of the top-level file */
	char *name;
	char *description;
	struct profile_entry *entries;
	size_t nentries;
	bool has_min_backlog;
	int64_t min_backlog;
	char *min_backlog_file; /* where min_backlog was set */
	unsigned min_backlog_line, min_backlog_col;
	struct port_req *ports;
	size_t nports;
	uint16_t *ignore;
	size_t nignore;
	char *persist_file;     /* NULL: 90-qtune-NAME.conf */
	char **files;           /* every file read (top level first) */
	size_t nfiles;
	char checksum[65];      /* SHA-256 hex of the files' bytes, in load order */
};

/* Finds a profile: text holding a '/' or ending in .yaml/.yml is a path
 * (returned as is; profile_load reports a missing file); a bare name is
 * looked up as NAME.yaml in root + PROFILE_DIR_ETC, then PROFILE_DIR_USR
 * (root "" or NULL is "/"). Returns 0 and a malloc'd path, -ENOENT when no
 * such profile exists, -EINVAL when text is not a valid name (see
 * profile_name_ok), each with a diagnostic. */
int profile_find(const char *root, const char *text, char **path, struct qt_diags *d);

/* A profile on the search path, as profile_find would find it by name. */
struct profile_listing {
	char *name;
	char *path;
};

/* Every NAME.yaml on the search path (a valid name), one per name: the one
 * in root + PROFILE_DIR_ETC masks the one in PROFILE_DIR_USR, as
 * profile_find does. Sorted by name, at most PROFILE_LIST_MAX. A missing
 * directory is an empty one. 0; *out is malloc'd (profile_list_free). */
int profile_list(const char *root, struct profile_listing **out, size_t *n);
void profile_list_free(struct profile_listing *v, size_t n);

/* A profile name (and a persist.file stem): 1..PROFILE_NAME_MAX bytes of
 * [A-Za-z0-9_.-], not starting with '.'. */
bool profile_name_ok(const char *name);

/* Loads and validates path; bare-name includes are searched for under root
 * as profile_find does. Includes are loaded first, in list order, each file
 * at most once (at its first place in that order); a later file overrides
 * an earlier one key by key, port by port. Each file is opened once by the
 * trust walk (trust.h) and parsed from the fd that was judged: trust
 * QT_LEVEL_ERROR refuses a file that anybody but root and qtune's uid could
 * change (commands about to change something), QT_LEVEL_WARN only warns
 * (reading commands), QT_LEVEL_OK judges nothing (parsing tests, fuzzing).
 * Returns 0, -EPERM when the walk refused a file, or -EINVAL when any
 * other error was added to d (then *out is NULL). */
int profile_load(const char *root, const char *path, enum qt_level trust,
		 struct profile **out, struct qt_diags *d);

void profile_free(struct profile *p);

/* The one rule for the name of a sysctl.d file qtune writes or reads back
 * (persist.file, the default 90-qtune-NAME.conf, a name from the state
 * record): 6..PROFILE_PERSIST_NAME_MAX bytes of [A-Za-z0-9_.-] ending in
 * ".conf", not starting with '.'. A plain name cannot leave its directory,
 * hide from systemd-sysctl or carry a byte that a shell or a terminal would
 * read as more than text. false with *why (may be NULL) when it is not. */
bool profile_persist_name_valid(const char *name, const char **why);

/* persist.file, or the default 90-qtune-NAME.conf; malloc'd. */
char *profile_persist_name(const struct profile *p);

/* The entry for a key (dotted or slashed), or NULL. */
const struct profile_entry *profile_entry_for(const struct profile *p, const char *key);

#endif
