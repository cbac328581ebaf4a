/* state: what an apply is about to change, recorded in the state directory
 * (ROOT/var/lib/qtune, one record per network namespace) before anything
 * changes, so that `rollback` can put it back, with the listeners it found
 * at the somaxconn it replaced (clamped while each very socket lives; a
 * relisten removes the ones it raised); and the lock
 * (/run/qtune.lock, on the real /run whatever the root: it guards the
 * namespace's values) that serialises apply and rollback. The record,
 * old sysctl.d file included, is one file replaced atomically: it is the
 * old record or the new one, never half of either nor parts of both. */
#ifndef QTUNE_STATE_H
#define QTUNE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctx.h"
#include "findings.h"

#define STATE_DIR "/var/lib/qtune"
#define STATE_FILE "state"
#define STATE_PERSIST_OLD "persist.old"
#define LOCK_DIR "/run"
#define LOCK_FILE "qtune.lock"
/* The sysctl.d file an apply replaces is kept inside the record; as
 * sysctl.d reads refuse files over 1 MiB, so does the record. */
#define STATE_OLD_FILE_MAX (1024 * 1024)
#define STATE_MAX_BYTES (4 * 1024 * 1024)
#define STATE_OWNER_MAX 128

struct state_key {
	char *key;      /* slashed path */
	char *old;      /* value before the apply */
	char *new;      /* value the apply wrote */
};

struct state {
	char *profile;          /* path of the profile applied */
	char *checksum;
	struct state_key *keys;
	size_t n;
	char *persist_file;     /* sysctl.d name written by --persist, or NULL */
	char *netns_owner;      /* whose record (loaded only): "initial", or "cookie:N boot:ID" */
	bool in_progress;       /* written before the first write, cleared once all is done */
	bool persist_had_old;   /* an older file existed; its bytes are in the record */
	int64_t when;           /* the apply, seconds since the epoch; 0: unknown (older records) */
	/* The listeners at the somaxconn an apply replaced: clamped while
	 * each very socket exists (findings.h). lists_sockets: this record
	 * looked for them (records before version 3 did not). The profile
	 * strings of the entries are owned by the record. */
	bool lists_sockets;
	struct clamp_socket *sockets;
	size_t nsockets;
};

/* Takes the exclusive lock, waiting for a concurrent apply or rollback
 * (with -v it says so). Creates no directory; /run must be root's alone. */
int state_lock(const struct qt_ctx *ctx, int *lockfd, struct qt_diags *d);
void state_unlock(int lockfd);

/* Opens (creating when create is true, mode 0700) the state directory,
 * refusing a symlink and a directory that others could write. */
int state_dir_open(const struct qt_ctx *ctx, bool create, int *dirfd, struct qt_diags *d);

void state_add_key(struct state *s, const char *key, const char *old, const char *new_value);
/* Adds a clamped socket (its profile copied; NULL: the record's own). */
void state_add_socket(struct state *s, const struct clamp_socket *c);
/* The record's view for findings: what it did to somaxconn and the
 * sockets it names (pointing into s, which must outlive it). */
void state_clamp_record(const struct state *s, struct clamp_record *out);
/* After a relisten: the sockets of inodes are no longer clamped by the
 * record of this namespace, which is rewritten without them (taking the
 * lock when take_lock; apply holds it already). 0 when there is nothing
 * to change, or -errno. */
int state_forget_sockets(const struct qt_ctx *ctx, const uint64_t *inodes, size_t n,
			 bool take_lock, struct qt_diags *d);
/* old_persist: bytes of the sysctl.d file the apply replaces (NULL: none),
 * kept inside the record. On any failure the previous record is in place
 * (put back when the new one landed but the directory would not sync).
 * Saving a record in progress over this namespace's record of an apply
 * that never finished is refused (-EBUSY, saying to run rollback): that
 * record is all that knows the values from before it. */
int state_save(const struct qt_ctx *ctx, const struct state *s,
	       const char *old_persist, size_t old_persist_len, struct qt_diags *d);
/* -ENOENT when no apply has been recorded. *old_persist is set when the
 * record has one (caller frees). -ESTALE, with a diagnostic saying what to
 * do, for a record that another network namespace or another boot left
 * under this namespace's name: each record names the namespace (its
 * SO_NETNS_COOKIE, or its inode number on kernels without one) and the boot
 * (kernel.random.boot_id) it was made in; the initial namespace's record
 * holds across boots. A record of an apply that never finished loads
 * with a warning saying so. */
int state_load(const struct qt_ctx *ctx, struct state **out, char **old_persist,
	       size_t *old_persist_len, struct qt_diags *d);
/* Adds a warning saying what to run when the record is of an apply that
 * never finished (killed between its first write and its end). */
void state_note_interrupted(const struct qt_ctx *ctx, struct qt_diags *d);

/* The integer value the last recorded apply replaced in key, or -1 (no
 * record, key untouched, record unreadable). The listeners that still hold
 * the old somaxconn are clamped until their services call listen() again:
 * check and relisten learn the old value here. */
int64_t state_replaced_value(const struct qt_ctx *ctx, const char *key);

/* Removes the record after a rollback; a second rollback has nothing to do. */
int state_clear(const struct qt_ctx *ctx, struct qt_diags *d);
void state_free(struct state *s);

/* The record as it was before an apply, bytes and all, so that an apply
 * that fails and restores the running values can also put back the record
 * of the apply before it: rollback then still undoes that one. */
struct state_snapshot {
	char *record;           /* NULL: there was none */
	size_t record_len;
};
int state_snapshot_take(const struct qt_ctx *ctx, struct state_snapshot *snap,
			struct qt_diags *d);
int state_snapshot_put_back(const struct qt_ctx *ctx, const struct state_snapshot *snap,
			    struct qt_diags *d);
void state_snapshot_free(struct state_snapshot *snap);

#endif
