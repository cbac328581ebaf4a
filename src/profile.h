/* profile: YAML tuning profile → struct profile (libyaml), with includes
 * resolved (later entries and the including file win; cycles are errors),
 * every key canonicalised and every value checked against the key table or,
 * for unknown keys, against the existence of the file under /proc/sys of
 * the target namespace. A profile with any problem is rejected as a whole;
 * every problem is reported as FILE:LINE:COLUMN in one run. */
#ifndef QTUNE_PROFILE_H
#define QTUNE_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctx.h"
#include "keys.h"

/* Limits that keep hostile input harmless. */
#define PROFILE_MAX_BYTES (256 * 1024)
#define PROFILE_MAX_DEPTH 8          /* YAML nesting */
#define PROFILE_MAX_KEYS 512         /* sysctl entries, after includes */
#define PROFILE_MAX_INCLUDES 16      /* include depth and files per profile */
#define PROFILE_MAX_PORTS 1024

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
	struct port_req *ports;
	size_t nports;
	uint16_t *ignore;
	size_t nignore;
	char *persist_file;     /* NULL: 90-qtune-NAME.conf */
	char **files;           /* every file read (top level first), for trust checks */
	size_t nfiles;
	char checksum[65];      /* SHA-256 hex of the files' bytes, in load order */
};

/* Finds a profile: text holding a '/' or ending in .yaml/.yml is a path;
 * a bare name is looked up as NAME.yaml in ctx->root + PROFILE_DIR_ETC,
 * then PROFILE_DIR_USR. Returns 0 and a malloc'd path, or -ENOENT with a
 * diagnostic. */
int profile_find(const struct qt_ctx *ctx, const char *text, char **path,
		 struct qt_diags *d);

/* Loads and validates. ctx->procsys_fd is used to check unknown keys
 * exist; ctx->procsys_fd < 0 skips that check (tests of pure parsing).
 * Returns 0, or -EINVAL when any diagnostic at error level was added. */
int profile_load(const struct qt_ctx *ctx, const char *path, struct profile **out,
		 struct qt_diags *d);

void profile_free(struct profile *p);

/* The requirement for a listener on port: its port's backlog, else
 * min_backlog, else 0 (no requirement). -1 when the port is ignored. */
int64_t profile_port_requirement(const struct profile *p, uint16_t port);

/* The entry for a key, or NULL. */
const struct profile_entry *profile_entry_for(const struct profile *p, const char *key);

#endif
