/* state: the record of the last apply, and the lock. */
#include "state.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys.h"
#include "sysctl.h"
#include "trust.h"
#include "util.h"

/* Reads a file of the state directory from the fd that is then judged:
 * the record decides what rollback writes as root (values and a sysctl.d
 * file), so a record another user could have written is refused, however
 * trusted the directory holding it (a restored backup, a wrong chown).
 * -EPERM with the reason in d; -ENOENT silently. */
static int read_judged(int dirfd, const char *name, size_t max, char **buf, size_t *len,
		       struct qt_diags *d)
{
	const char *why;
	struct stat st;
	int fd, r;

	*buf = NULL;
	*len = 0;
	fd = util_open_regular_at(dirfd, name, O_NOFOLLOW, &st);
	if (fd < 0)
		return fd;
	why = trust_judge(&st);
	if (why) {
		diags_error(d, "%s/%s: refused: %s (owner uid %u, mode %04o); nothing was read from it",
			    STATE_DIR, name, why, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		r = -EPERM;
		goto out;
	}
	r = util_read_regular(fd, &st, max, buf, len);
out:
	close(fd);
	return r;
}

/* Version 3 adds the apply's time and the sockets at the ceiling it
 * replaced; a version 2 record (no such lines) still loads. */
#define STATE_MAGIC "qtune-state 3"
#define STATE_MAGIC_V2 "qtune-state 2"
#define STATE_MAGIC_V1 "qtune-state 1"  /* old file beside the record, in persist.old */

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

/* Whose record it is: the initial namespace (the same one every boot, so a
 * record outlives a reboot there), or another namespace by its cookie
 * (never reused within a boot; the inode number where the kernel has no
 * cookie) and the boot, since both counters start again at boot. */
static void state_owner(const struct qt_ctx *ctx, char *buf, size_t size)
{
	char boot[64];

	if (ctx->netns_initial == 1) {
		snprintf(buf, size, "initial");
		return;
	}
	if (sysctl_read(ctx->procsys_fd, "kernel/random/boot_id", boot, sizeof(boot)) < 0 ||
	    strpbrk(boot, " \t"))
		snprintf(boot, sizeof(boot), "unknown");
	if (ctx->netns_cookie)
		snprintf(buf, size, "cookie:%llu boot:%s", (unsigned long long)ctx->netns_cookie, boot);
	else
		snprintf(buf, size, "inode:%llu boot:%s", (unsigned long long)ctx->netns_inode, boot);
}

/* A record another namespace left under this one's name (the kernel
 * reuses inode numbers) or another boot left: its values belong to a
 * namespace that is gone, so restoring them here would be wrong. */
static int owner_check(const struct qt_ctx *ctx, const struct state_names *names,
		       const char *recorded, struct qt_diags *d)
{
	char ours[STATE_OWNER_MAX];
	const char *a, *b;

	state_owner(ctx, ours, sizeof(ours));
	if (recorded && strcmp(recorded, ours) == 0)
		return 0;
	if (!recorded && ctx->netns_initial == 1)
		return 0;       /* older records: the initial namespace's is its own */
	a = recorded ? strstr(recorded, " boot:") : NULL;
	b = strstr(ours, " boot:");
	if (!recorded)
		diags_error(d, "%s/%s: this record was written by an older qtune that did not note which network namespace it belongs to, and a new namespace can reuse a gone one's number: nothing was restored; remove the file to discard it",
			    STATE_DIR, names->record);
	else if (a && b && strcmp(a, b) != 0)
		diags_error(d, "%s/%s: this record was made during another boot (%s; this is %s): the namespace it describes is gone, and its values with it: nothing was restored; remove the file to discard it",
			    STATE_DIR, names->record, a + 1, b + 1);
	else
		diags_error(d, "%s/%s: this record belongs to another network namespace (%s) than this one (%s), which reuses its number: nothing was restored; remove the file to discard it",
			    STATE_DIR, names->record, recorded, ours);
	return -ESTALE;
}

/* Opens ROOT/path as a directory, creating it (0700, and 0755 on the way)
 * when asked: reached through no symlink beneath the root, and judged all
 * the way, root included (trust_open_beneath): otherwise someone could
 * swap the record rollback trusts. */
static int open_dir(const struct qt_ctx *ctx, const char *path, bool create, int *dirfd,
		    struct qt_diags *d)
{
	int r = trust_open_beneath(ctx->root, path, create ? 0700 : 0, QT_LEVEL_ERROR, d, dirfd);

	if (r < 0 && r != -EPERM && r != -ELOOP && !(r == -ENOENT && !create)) {
		char *full = util_rooted(ctx->root, path);

		diags_error(d, "%s: %s", full, r == -ENOTDIR ? "refusing a non-directory"
							      : strerror(-r));
		free(full);
	}
	return r;
}

int state_dir_open(const struct qt_ctx *ctx, bool create, int *dirfd, struct qt_diags *d)
{
	return open_dir(ctx, STATE_DIR, create, dirfd, d);
}

int state_lock(const struct qt_ctx *ctx, int *lockfd, struct qt_diags *d)
{
	struct stat st;
	int dirfd, fd, r;

	/* The lock guards the namespace's values, which --root does not
	 * move: it is always on the real /run, judged like the state
	 * directory, and nothing is created for it but the lock file. */
	r = trust_open_beneath("", LOCK_DIR, 0, QT_LEVEL_ERROR, d, &dirfd);
	if (r < 0) {
		if (r != -EPERM && r != -ELOOP)
			diags_error(d, "%s: %s", LOCK_DIR, strerror(-r));
		return r;
	}
	fd = openat(dirfd, LOCK_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	r = fd < 0 ? -errno : 0;
	close(dirfd);
	if (r == 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		r = -EINVAL;
	}
	if (r < 0) {
		diags_error(d, "%s/%s: cannot open the lock: %s%s", LOCK_DIR, LOCK_FILE,
			    r == -EINVAL ? "not a regular file" : strerror(-r),
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

void state_add_socket(struct state *s, const struct clamp_socket *c)
{
	s->sockets = xreallocarray(s->sockets, s->nsockets + 1, sizeof(*s->sockets));
	s->sockets[s->nsockets] = *c;
	s->sockets[s->nsockets].profile = xstrdup(c->profile ? c->profile
						    : s->profile ? s->profile : "");
	s->nsockets++;
}

void state_clamp_record(const struct state *s, struct clamp_record *out)
{
	memset(out, 0, sizeof(*out));
	out->somaxconn_old = out->somaxconn_new = -1;
	if (!s)
		return;
	out->present = true;
	out->lists_sockets = s->lists_sockets;
	out->v = s->sockets;
	out->n = s->nsockets;
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->keys[i].key, "net/core/somaxconn") == 0 &&
		    (util_parse_i64(s->keys[i].old, &out->somaxconn_old) < 0 ||
		     util_parse_i64(s->keys[i].new, &out->somaxconn_new) < 0))
			out->somaxconn_old = out->somaxconn_new = -1;
}

/* Fields are tab-separated; values went through util_normalize_ws and the
 * profile path is refused when it holds a tab or newline, so neither can
 * appear inside a field. */
static bool field_ok(const char *s)
{
	return s && !strpbrk(s, "\t\n\r");
}

/* The record in one buffer: the lines, then the bytes of the sysctl.d file
 * the apply replaces (length first, so that any byte may appear in them),
 * then "end". One file is one rename: the record and the old file it
 * names can never come from two different applies. */
static int state_render(const struct qt_ctx *ctx, const struct state *s, const char *old_persist,
			size_t old_persist_len, char **buf, size_t *len, struct qt_diags *d)
{
	char owner[STATE_OWNER_MAX];
	FILE *m;
	int r = 0;

	if (!field_ok(s->profile) || !field_ok(s->checksum) ||
	    (s->persist_file && !field_ok(s->persist_file))) {
		diags_error(d, "profile path holds a tab or newline: refusing to record it");
		return -EINVAL;
	}
	if (s->persist_file && s->persist_had_old && old_persist_len > STATE_OLD_FILE_MAX) {
		diags_error(d, "%s: the file it replaces is larger than %u bytes and cannot be kept for rollback",
			    s->persist_file, (unsigned)STATE_OLD_FILE_MAX);
		return -EFBIG;
	}
	m = open_memstream(buf, len);
	if (!m)
		return -errno;
	state_owner(ctx, owner, sizeof(owner));
	fprintf(m, "%s\nnetns\t%s\n", STATE_MAGIC, owner);
	if (s->in_progress)
		fprintf(m, "status\tapplying\n");
	fprintf(m, "profile\t%s\nchecksum\t%s\n", s->profile, s->checksum);
	if (s->persist_file)
		fprintf(m, "persist\t%s\t%d\n", s->persist_file, s->persist_had_old);
	for (size_t i = 0; i < s->n && r == 0; i++) {
		if (!field_ok(s->keys[i].old) || !field_ok(s->keys[i].new))
			r = -EINVAL;
		else
			fprintf(m, "key\t%s\t%s\t%s\n", s->keys[i].key, s->keys[i].old, s->keys[i].new);
	}
	if (s->when > 0)
		fprintf(m, "time\t%lld\n", (long long)s->when);
	if (s->lists_sockets)
		fprintf(m, "sockets\tlisted\n");
	for (size_t i = 0; i < s->nsockets && r == 0; i++) {
		const struct clamp_socket *c = &s->sockets[i];
		char hex[2 * sizeof(c->raw) + 1];

		if (!field_ok(c->profile)) {
			r = -EINVAL;
			break;
		}
		for (size_t k = 0; k < sizeof(c->raw); k++)
			snprintf(hex + 2 * k, 3, "%02x", c->raw[k]);
		fprintf(m, "socket\t%llu\t%u\t%s\t%u\t%llu\t%lld\t%lld\t%s\n",
			(unsigned long long)c->inode, (unsigned)c->family, hex, (unsigned)c->port,
			(unsigned long long)c->start_time, (long long)c->backlog, (long long)c->when,
			c->profile);
	}
	if (s->persist_file && s->persist_had_old) {
		fprintf(m, "old-file\t%zu\n", old_persist_len);
		fwrite(old_persist, 1, old_persist_len, m);
		fputc('\n', m);
	}
	fprintf(m, "end\n");
	if (fclose(m) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(*buf);
		*buf = NULL;
		if (r == -EINVAL)
			diags_error(d, "a value holds a tab or newline: refusing to record it");
	}
	return r;
}

/* Says what to run after an apply that was killed between its first write
 * and its end; the values it never reached are still the old ones. */
static void say_interrupted(const struct qt_ctx *ctx, const struct state *s, enum qt_level level,
			    const char *tail, struct qt_diags *d)
{
	bool rooted = ctx->root && *ctx->root && strcmp(ctx->root, "/") != 0;
	struct state_names names;

	state_names(ctx, &names);
	diags_add(d, level, NULL, 0, 0,
		  "%s/%s: the apply of %s was interrupted before it finished, so some keys may hold its new values and others their old ones: run 'qtune%s%s rollback'%s to restore the values from before it%s",
		  STATE_DIR, names.record, s->profile, rooted ? " --root " : "", rooted ? ctx->root : "",
		  ctx->netns_initial == 1 ? "" : " with the same --netns", tail);
}

/* The record of this namespace, when it is of an apply that never
 * finished (NULL otherwise); nothing is reported. */
static struct state *interrupted_record(const struct qt_ctx *ctx)
{
	struct qt_diags quiet = { 0 };
	struct state *s = NULL;
	char *old = NULL;
	size_t len;

	if (state_load(ctx, &s, &old, &len, &quiet) == 0 && !s->in_progress) {
		state_free(s);
		s = NULL;
	}
	free(old);
	diags_free(&quiet);
	return s;
}

void state_note_interrupted(const struct qt_ctx *ctx, struct qt_diags *d)
{
	struct state *s = interrupted_record(ctx);

	if (s)
		say_interrupted(ctx, s, QT_LEVEL_WARN, "", d);
	state_free(s);
}

/* Writes bytes back, or removes the file when there were none. Like
 * util_write_atomic: > 0 when the change is visible but the directory
 * could not be synced. */
static int put_back(int dirfd, const char *name, const char *bytes, size_t len)
{
	if (bytes)
		return util_write_atomic(dirfd, name, bytes, len, 0600);
	if (unlinkat(dirfd, name, 0) < 0)
		return errno == ENOENT ? 0 : -errno;
	return fsync(dirfd) < 0 ? errno : 0;
}

int state_save(const struct qt_ctx *ctx, const struct state *s,
	       const char *old_persist, size_t old_persist_len, struct qt_diags *d)
{
	char *buf = NULL, *previous = NULL;
	size_t len = 0, previous_len = 0;
	struct state_names names;
	int dirfd, r;

	state_names(ctx, &names);
	if (s->in_progress) {
		struct state *unfinished = interrupted_record(ctx);

		if (unfinished) {
			say_interrupted(ctx, unfinished, QT_LEVEL_ERROR, ", then apply again; nothing was changed", d);
			state_free(unfinished);
			return -EBUSY;
		}
	}
	r = state_render(ctx, s, old_persist, old_persist_len, &buf, &len, d);
	if (r < 0)
		return r;
	r = state_dir_open(ctx, true, &dirfd, d);
	if (r < 0)
		goto out;
	/* What to put back should the new record land but not hold. */
	r = read_judged(dirfd, names.record, STATE_MAX_BYTES, &previous, &previous_len, d);
	if (r < 0 && r != -ENOENT) {
		if (r != -EPERM)
			diags_error(d, "%s/%s: cannot read the previous record: %s", STATE_DIR,
				    names.record, strerror(-r));
		close(dirfd);
		goto out;
	}
	r = util_write_atomic(dirfd, names.record, buf, len, 0600);
	if (r > 0) {
		/* The new record is visible but may not survive a crash, while
		 * the writes it would cover could: refuse, with the previous
		 * record in place again. */
		diags_error(d, "%s: cannot sync the directory after writing the record: %s; the previous record was put back",
			    STATE_DIR, strerror(r));
		put_back(dirfd, names.record, previous, previous_len);
		r = -r;
	} else if (r < 0) {
		diags_error(d, "%s/%s: cannot record the old values: %s", STATE_DIR, names.record,
			    strerror(-r));
	}
	close(dirfd);
out:
	free(previous);
	free(buf);
	return r;
}

/* "socket\tINODE\tFAMILY\tADDRESS\tPORT\tSTART\tBACKLOG\tWHEN\tPROFILE",
 * every number strict, the address 32 hex digits. */
static int parse_socket(struct state *s, char *const *f)
{
	struct clamp_socket c = { 0 };
	int64_t v[6];

	for (int k = 0; k < 6; k++) {
		static const int at[6] = { 1, 2, 4, 5, 6, 7 };
		if (util_parse_i64(f[at[k]], &v[k]) < 0 || v[k] < 0)
			return -EBADMSG;
	}
	if (v[0] > UINT32_MAX || (v[1] != AF_INET && v[1] != AF_INET6) || v[2] > 65535 ||
	    strlen(f[3]) != 2 * sizeof(c.raw))
		return -EBADMSG;
	for (size_t k = 0; k < sizeof(c.raw); k++) {
		unsigned byte;
		char two[3] = { f[3][2 * k], f[3][2 * k + 1], '\0' };
		if (!isxdigit((unsigned char)two[0]) || !isxdigit((unsigned char)two[1]) ||
		    sscanf(two, "%2x", &byte) != 1)
			return -EBADMSG;
		c.raw[k] = (uint8_t)byte;
	}
	c.inode = (uint64_t)v[0];
	c.family = (uint8_t)v[1];
	c.port = (uint16_t)v[2];
	c.start_time = (uint64_t)v[3];
	c.backlog = v[4];
	c.when = v[5];
	c.profile = f[8];
	state_add_socket(s, &c);
	return 0;
}

static int parse_line(struct state *s, char *line)
{
	char *f[10] = { 0 };
	size_t n = 0;

	for (char *p = line; p && n < ARRAY_SIZE(f); n++) {
		f[n] = p;
		p = strchr(p, '\t');
		if (p)
			*p++ = '\0';
	}
	if (n == 2 && strcmp(f[0], "profile") == 0 && !s->profile) {
		s->profile = xstrdup(f[1]);
	} else if (n == 2 && strcmp(f[0], "status") == 0 && strcmp(f[1], "applying") == 0) {
		s->in_progress = true;
	} else if (n == 2 && strcmp(f[0], "netns") == 0 && !s->netns_owner) {
		s->netns_owner = xstrdup(f[1]);
	} else if (n == 2 && strcmp(f[0], "checksum") == 0 && !s->checksum) {
		s->checksum = xstrdup(f[1]);
	} else if (n == 3 && strcmp(f[0], "persist") == 0 && !s->persist_file) {
		s->persist_file = xstrdup(f[1]);
		s->persist_had_old = strcmp(f[2], "1") == 0;
	} else if (n == 2 && strcmp(f[0], "time") == 0 && s->when == 0) {
		if (util_parse_i64(f[1], &s->when) < 0 || s->when <= 0)
			return -EBADMSG;
	} else if (n == 2 && strcmp(f[0], "sockets") == 0 && strcmp(f[1], "listed") == 0) {
		s->lists_sockets = true;
	} else if (n == 9 && strcmp(f[0], "socket") == 0) {
		return parse_socket(s, f);
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

/* Takes the old file's bytes that follow "old-file\tLEN\n" at *at. */
static int parse_old_file(const char *len_field, const char *buf, size_t buflen, size_t *at,
			  char **old, size_t *old_len)
{
	int64_t n;

	if (*old || util_parse_i64(len_field, &n) < 0 || n < 0 || n > STATE_OLD_FILE_MAX ||
	    (size_t)n > buflen - *at || buflen - *at - (size_t)n < 1 || buf[*at + (size_t)n] != '\n')
		return -EBADMSG;
	*old = xmalloc((size_t)n + 1);
	memcpy(*old, buf + *at, (size_t)n);
	(*old)[n] = '\0';
	*old_len = (size_t)n;
	*at += (size_t)n + 1;
	return 0;
}

/* The record, whole or refused: lines up to "end", where nothing but a
 * final newline may follow. */
static int state_parse(char *buf, size_t len, struct state *s, bool *v1, char **old,
		       size_t *old_len)
{
	size_t at = 0;
	bool first = true;

	while (at < len) {
		char *line = buf + at, *nl = memchr(line, '\n', len - at);
		size_t next = nl ? (size_t)(nl - buf) + 1 : len;

		if (nl)
			*nl = '\0';
		else
			buf[len] = '\0';
		at = next;
		if (first) {
			/* A record from before the old file moved inside it. */
			*v1 = strcmp(line, STATE_MAGIC_V1) == 0;
			if (!*v1 && strcmp(line, STATE_MAGIC) != 0 && strcmp(line, STATE_MAGIC_V2) != 0)
				return -EBADMSG;
			first = false;
		} else if (strcmp(line, "end") == 0) {
			return at == len && s->profile ? 0 : -EBADMSG;
		} else if (!*v1 && strncmp(line, "old-file\t", 9) == 0) {
			if (parse_old_file(line + 9, buf, len, &at, old, old_len) < 0)
				return -EBADMSG;
		} else if (parse_line(s, line) < 0) {
			return -EBADMSG;
		}
	}
	return -EBADMSG;
}

int state_load(const struct qt_ctx *ctx, struct state **out, char **old_persist,
	       size_t *old_persist_len, struct qt_diags *d)
{
	struct state *s = NULL;
	char *buf = NULL;
	size_t len = 0;
	struct state_names names;
	int dirfd = -1, r;
	bool v1 = false;

	state_names(ctx, &names);
	*old_persist = NULL;
	*old_persist_len = 0;
	r = state_dir_open(ctx, false, &dirfd, d);
	if (r < 0)
		return r;
	r = read_judged(dirfd, names.record, STATE_MAX_BYTES, &buf, &len, d);
	if (r < 0) {
		if (r != -ENOENT && r != -EPERM)
			diags_error(d, "%s/%s: %s", STATE_DIR, names.record, strerror(-r));
		goto out;
	}
	s = xcalloc(1, sizeof(*s));
	r = state_parse(buf, len, s, &v1, old_persist, old_persist_len);
	/* The old file is in the record exactly when the record says so;
	 * a record of this format always says whose it is. */
	if (r == 0 && !v1 && ((s->persist_file && s->persist_had_old) != (*old_persist != NULL) ||
			      !s->netns_owner))
		r = -EBADMSG;
	if (r < 0) {
		diags_error(d, "%s/%s: the record is damaged; nothing was restored", STATE_DIR,
			    names.record);
		goto out;
	}
	r = owner_check(ctx, &names, s->netns_owner, d);
	if (r < 0)
		goto out;
	if (s->in_progress)
		say_interrupted(ctx, s, QT_LEVEL_WARN, "", d);
	if (v1 && s->persist_file && s->persist_had_old) {
		r = read_judged(dirfd, names.persist_old, STATE_OLD_FILE_MAX, old_persist,
				old_persist_len, d);
		if (r < 0) {
			if (r != -EPERM)
				diags_error(d, "%s/%s: %s", STATE_DIR, names.persist_old, strerror(-r));
			goto out;
		}
	}
	*out = s;
	s = NULL;
out:
	if (r < 0) {
		free(*old_persist);
		*old_persist = NULL;
		*old_persist_len = 0;
	}
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

int state_forget_sockets(const struct qt_ctx *ctx, const uint64_t *inodes, size_t n,
			 bool take_lock, struct qt_diags *d)
{
	struct qt_diags quiet = { 0 };
	struct state *st = NULL;
	char *old = NULL;
	size_t len = 0, w = 0;
	int lockfd = -1, r;

	if (n == 0)
		return 0;
	/* flock() is per open file: a second lock of our own would wait forever. */
	r = take_lock ? state_lock(ctx, &lockfd, d) : 0;
	if (r < 0)
		return r;
	/* No record, or one of an apply still running: nothing to forget. */
	if (state_load(ctx, &st, &old, &len, &quiet) < 0 || st->in_progress)
		goto out;
	for (size_t i = 0; i < st->nsockets; i++) {
		bool raised = false;

		for (size_t k = 0; k < n && !raised; k++)
			raised = inodes[k] == st->sockets[i].inode;
		if (raised)
			free((char *)st->sockets[i].profile);
		else
			st->sockets[w++] = st->sockets[i];
	}
	if (w != st->nsockets) {
		st->nsockets = w;
		r = state_save(ctx, st, old, len, d);
	}
out:
	state_unlock(lockfd);
	diags_free(&quiet);
	state_free(st);
	free(old);
	return r;
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
	for (size_t i = 0; i < s->nsockets; i++)
		free((char *)s->sockets[i].profile);    /* owned by the record */
	free(s->sockets);
	free(s->profile);
	free(s->checksum);
	free(s->netns_owner);
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
	r = read_judged(dirfd, names.record, STATE_MAX_BYTES, &snap->record, &snap->record_len, d);
	if (r == -ENOENT)
		r = 0;
	if (r < 0 && r != -EPERM)
		diags_error(d, "%s: cannot read the previous record: %s", STATE_DIR, strerror(-r));
	close(dirfd);
	return r;
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
	r = put_back(dirfd, names.record, snap->record, snap->record_len);
	/* The old file of a record from before it moved inside the record
	 * goes with the record it belongs to; a record put back keeps it. */
	if (r >= 0 && !snap->record && unlinkat(dirfd, names.persist_old, 0) < 0 && errno != ENOENT)
		r = -errno;
	if (r > 0)
		diags_warn(d, "%s: the record was updated but the directory could not be synced: %s",
			   STATE_DIR, strerror(r));
	else if (r < 0)
		diags_error(d, "%s: cannot update the record: %s", STATE_DIR, strerror(-r));
	close(dirfd);
	return r < 0 ? r : 0;
}

void state_snapshot_free(struct state_snapshot *snap)
{
	free(snap->record);
	snap->record = NULL;
}
