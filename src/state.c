/* state: the record of the last apply, and the lock. */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys.h"
#include "trust.h"
#include "util.h"

#define STATE_MAGIC "qtune-state 1"

/* One record per network namespace: an apply in a container's namespace
 * must not be undone by a rollback in the host's, nor the reverse. The
 * initial namespace keeps the plain names. */
struct state_names {
	char record[64];
	char persist_old[64];
};

static void state_names(const struct qt_ctx *ctx, struct state_names *n)
{
	if (ctx->netns_initial == 1) {
		snprintf(n->record, sizeof(n->record), "%s", STATE_FILE);
		snprintf(n->persist_old, sizeof(n->persist_old), "%s", STATE_PERSIST_OLD);
	} else {
		snprintf(n->record, sizeof(n->record), "%s.netns-%llu", STATE_FILE,
			 (unsigned long long)ctx->netns_inode);
		snprintf(n->persist_old, sizeof(n->persist_old), "%s.netns-%llu", STATE_PERSIST_OLD,
			 (unsigned long long)ctx->netns_inode);
	}
}

/* A directory qtune writes into must not be writable by anybody but root
 * and us: otherwise someone could swap the record rollback trusts. */
static int check_dir_trust(int dirfd, const char *shown, struct qt_diags *d)
{
	struct stat st;

	if (fstat(dirfd, &st) < 0)
		return -errno;
	const char *why = trust_judge(&st);
	if (why) {
		diags_error(d, "%s: refusing a directory %s (owner uid %u, mode %04o)",
			    shown, why, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* Opens ROOT/path as a directory, creating the last component when asked,
 * never through a symlink on that last component. */
static int open_dir(const struct qt_ctx *ctx, const char *path, bool create, int *dirfd,
		    struct qt_diags *d)
{
	char *full = util_rooted(ctx->root, path);
	int fd, r = 0;

	if (create && mkdir(full, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		diags_error(d, "%s: cannot create: %s", full, strerror(-r));
		goto out;
	}
	fd = open(full, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (r != -ENOENT || create)
			diags_error(d, "%s: %s", full, r == -ELOOP || r == -ENOTDIR ?
				    "refusing a symlink or a non-directory" : strerror(-r));
		goto out;
	}
	r = check_dir_trust(fd, full, d);
	if (r < 0) {
		close(fd);
		goto out;
	}
	*dirfd = fd;
out:
	free(full);
	return r;
}

int state_dir_open(const struct qt_ctx *ctx, bool create, int *dirfd, struct qt_diags *d)
{
	if (create) {
		/* /var/lib normally exists; a fresh --root may lack it. */
		char *parent = util_rooted(ctx->root, "/var/lib");
		char *var = util_rooted(ctx->root, "/var");
		mkdir(var, 0755);
		mkdir(parent, 0755);
		free(var);
		free(parent);
	}
	return open_dir(ctx, STATE_DIR, create, dirfd, d);
}

int state_lock(const struct qt_ctx *ctx, int *lockfd, struct qt_diags *d)
{
	int dirfd, fd, r;

	r = open_dir(ctx, LOCK_DIR, true, &dirfd, d);
	if (r < 0)
		return r;
	fd = openat(dirfd, LOCK_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	r = fd < 0 ? -errno : 0;
	close(dirfd);
	if (r < 0) {
		diags_error(d, "%s/%s: cannot open the lock: %s%s", LOCK_DIR, LOCK_FILE, strerror(-r),
			    r == -EACCES || r == -EPERM ? " (run as root)" : "");
		return r;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			r = -errno;
			close(fd);
			return r;
		}
		if (ctx->verbosity > 0)
			fprintf(stderr, "qtune: waiting for another apply or rollback to finish\n");
		while (flock(fd, LOCK_EX) < 0) {
			if (errno != EINTR) {
				r = -errno;
				close(fd);
				return r;
			}
		}
	}
	*lockfd = fd;
	return 0;
}

void state_unlock(int lockfd)
{
	if (lockfd >= 0)
		close(lockfd);
}

void state_add_key(struct state *s, const char *key, const char *old, const char *new_value)
{
	s->keys = xreallocarray(s->keys, s->n + 1, sizeof(*s->keys));
	s->keys[s->n].key = xstrdup(key);
	s->keys[s->n].old = xstrdup(old);
	s->keys[s->n].new = xstrdup(new_value);
	s->n++;
}

/* Fields are tab-separated; values went through util_normalize_ws and the
 * profile path is refused when it holds a tab or newline, so neither can
 * appear inside a field. */
static bool field_ok(const char *s)
{
	return s && !strpbrk(s, "\t\n\r");
}

int state_save(const struct qt_ctx *ctx, const struct state *s,
	       const char *old_persist, size_t old_persist_len, struct qt_diags *d)
{
	char *buf = NULL;
	size_t len = 0;
	struct state_names names;
	FILE *m;
	int dirfd, r;

	state_names(ctx, &names);

	if (!field_ok(s->profile) || !field_ok(s->checksum) ||
	    (s->persist_file && !field_ok(s->persist_file))) {
		diags_error(d, "profile path holds a tab or newline: refusing to record it");
		return -EINVAL;
	}
	r = state_dir_open(ctx, true, &dirfd, d);
	if (r < 0)
		return r;
	m = open_memstream(&buf, &len);
	fprintf(m, "%s\nprofile\t%s\nchecksum\t%s\n", STATE_MAGIC, s->profile, s->checksum);
	if (s->persist_file)
		fprintf(m, "persist\t%s\t%d\n", s->persist_file, s->persist_had_old);
	for (size_t i = 0; i < s->n; i++) {
		if (!field_ok(s->keys[i].old) || !field_ok(s->keys[i].new)) {
			r = -EINVAL;
			break;
		}
		fprintf(m, "key\t%s\t%s\t%s\n", s->keys[i].key, s->keys[i].old, s->keys[i].new);
	}
	fprintf(m, "end\n");
	fclose(m);
	/* The old persisted file first: a state that names it must find it. */
	if (r == 0 && s->persist_file && s->persist_had_old)
		r = util_write_atomic(dirfd, names.persist_old, old_persist, old_persist_len, 0600);
	if (r == 0)
		r = util_write_atomic(dirfd, names.record, buf, len, 0600);
	if (r < 0)
		diags_error(d, "%s/%s: cannot record the old values: %s", STATE_DIR, names.record,
			    strerror(-r));
	free(buf);
	close(dirfd);
	return r;
}

static int parse_line(struct state *s, char *line)
{
	char *f[5] = { 0 };
	size_t n = 0;

	for (char *p = line; p && n < ARRAY_SIZE(f); n++) {
		f[n] = p;
		p = strchr(p, '\t');
		if (p)
			*p++ = '\0';
	}
	if (n == 2 && strcmp(f[0], "profile") == 0 && !s->profile) {
		s->profile = xstrdup(f[1]);
	} else if (n == 2 && strcmp(f[0], "checksum") == 0 && !s->checksum) {
		s->checksum = xstrdup(f[1]);
	} else if (n == 3 && strcmp(f[0], "persist") == 0 && !s->persist_file) {
		s->persist_file = xstrdup(f[1]);
		s->persist_had_old = strcmp(f[2], "1") == 0;
	} else if (n == 4 && strcmp(f[0], "key") == 0) {
		char path[KEY_PATH_MAX];
		/* The record is ours, but it is still text on disk: every key
		 * passes the same gate as a profile's before it names a file. */
		if (key_canonicalize(f[1], path, sizeof(path), NULL) < 0 || strcmp(path, f[1]) != 0)
			return -EBADMSG;
		state_add_key(s, f[1], f[2], f[3]);
	} else {
		return -EBADMSG;
	}
	return 0;
}

int state_load(const struct qt_ctx *ctx, struct state **out, char **old_persist,
	       size_t *old_persist_len, struct qt_diags *d)
{
	struct state *s = NULL;
	char *buf = NULL, *save = NULL, *line;
	struct state_names names;
	int dirfd = -1, r;
	bool ended = false;

	state_names(ctx, &names);
	*old_persist = NULL;
	*old_persist_len = 0;
	r = state_dir_open(ctx, false, &dirfd, d);
	if (r < 0)
		return r;
	r = util_read_file_at(dirfd, names.record, O_NOFOLLOW, STATE_MAX_BYTES, &buf, NULL);
	if (r < 0) {
		if (r != -ENOENT)
			diags_error(d, "%s/%s: %s", STATE_DIR, names.record, strerror(-r));
		goto out;
	}
	line = strtok_r(buf, "\n", &save);
	if (!line || strcmp(line, STATE_MAGIC) != 0) {
		r = -EBADMSG;
		goto bad;
	}
	s = xcalloc(1, sizeof(*s));
	while ((line = strtok_r(NULL, "\n", &save))) {
		if (strcmp(line, "end") == 0) {
			ended = true;
			break;
		}
		r = parse_line(s, line);
		if (r < 0)
			goto bad;
	}
	if (!ended || !s->profile) {
		r = -EBADMSG;
		goto bad;
	}
	if (s->persist_file && s->persist_had_old) {
		r = util_read_file_at(dirfd, names.persist_old, O_NOFOLLOW, STATE_MAX_BYTES,
				      old_persist, old_persist_len);
		if (r < 0) {
			diags_error(d, "%s/%s: %s", STATE_DIR, names.persist_old, strerror(-r));
			goto out;
		}
	}
	*out = s;
	s = NULL;
	goto out;
bad:
	diags_error(d, "%s/%s: the record is damaged; nothing was restored", STATE_DIR, names.record);
out:
	state_free(s);
	free(buf);
	if (dirfd >= 0)
		close(dirfd);
	return r;
}

int64_t state_replaced_value(const struct qt_ctx *ctx, const char *key)
{
	struct qt_diags quiet = { 0 };
	struct state *st = NULL;
	char *old_persist = NULL;
	size_t len;
	int64_t v = -1;

	if (state_load(ctx, &st, &old_persist, &len, &quiet) == 0) {
		for (size_t i = 0; i < st->n; i++)
			if (strcmp(st->keys[i].key, key) == 0 && util_parse_i64(st->keys[i].old, &v) < 0)
				v = -1;
	}
	state_free(st);
	free(old_persist);
	diags_free(&quiet);
	return v;
}

int state_clear(const struct qt_ctx *ctx, struct qt_diags *d)
{
	/* Putting back "nothing" removes both files. */
	const struct state_snapshot none = { 0 };

	return state_snapshot_put_back(ctx, &none, d);
}

void state_free(struct state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->keys[i].key);
		free(s->keys[i].old);
		free(s->keys[i].new);
	}
	free(s->keys);
	free(s->profile);
	free(s->checksum);
	free(s->persist_file);
	free(s);
}

int state_snapshot_take(const struct qt_ctx *ctx, struct state_snapshot *snap,
			struct qt_diags *d)
{
	struct state_names names;
	int dirfd, r;

	memset(snap, 0, sizeof(*snap));
	state_names(ctx, &names);
	r = state_dir_open(ctx, true, &dirfd, d);
	if (r < 0)
		return r;
	r = util_read_file_at(dirfd, names.record, O_NOFOLLOW, STATE_MAX_BYTES,
			      &snap->record, &snap->record_len);
	if (r == 0 || r == -ENOENT)
		r = util_read_file_at(dirfd, names.persist_old, O_NOFOLLOW, STATE_MAX_BYTES,
				      &snap->persist_old, &snap->persist_old_len);
	if (r == -ENOENT)
		r = 0;
	if (r < 0)
		diags_error(d, "%s: cannot read the previous record: %s", STATE_DIR, strerror(-r));
	close(dirfd);
	return r;
}

/* Writes bytes back, or removes the file when there were none. */
static int put_back(int dirfd, const char *name, const char *bytes, size_t len)
{
	if (bytes)
		return util_write_atomic(dirfd, name, bytes, len, 0600);
	return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
}

int state_snapshot_put_back(const struct qt_ctx *ctx, const struct state_snapshot *snap,
			    struct qt_diags *d)
{
	struct state_names names;
	int dirfd, r;

	state_names(ctx, &names);
	r = state_dir_open(ctx, false, &dirfd, d);
	if (r < 0)
		return r;
	r = put_back(dirfd, names.persist_old, snap->persist_old, snap->persist_old_len);
	if (r == 0)
		r = put_back(dirfd, names.record, snap->record, snap->record_len);
	if (r == 0)
		fsync(dirfd);
	else
		diags_error(d, "%s: cannot update the record: %s", STATE_DIR, strerror(-r));
	close(dirfd);
	return r;
}

void state_snapshot_free(struct state_snapshot *snap)
{
	free(snap->record);
	free(snap->persist_old);
	snap->record = snap->persist_old = NULL;
}
