/* util: allocation, strict integers, bounded reads, text escaping,
 * openat2. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void *oom_check(void *p)
{
	if (!p) {
		/* Not exit(): abort leaves a core for the bug report and no
		 * caller can sensibly continue half-way through a plan. */
		fputs("qtune: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *xmalloc(size_t n)
{
	return oom_check(malloc(n ? n : 1));
}

void *xcalloc(size_t n, size_t size)
{
	return oom_check(calloc(n ? n : 1, size ? size : 1));
}

void *xreallocarray(void *p, size_t n, size_t size)
{
	return oom_check(reallocarray(p, n ? n : 1, size ? size : 1));
}

char *xstrdup(const char *s)
{
	return oom_check(strdup(s));
}

char *xstrndup(const char *s, size_t n)
{
	return oom_check(strndup(s, n));
}

/* Measured first, then allocated once at its size: a run that words a
 * finding and an advice for each of 10,000 listeners keeps 20,000 texts,
 * and peaks 650 KiB lower so than with glibc's vasprintf, which grows its
 * buffer as it formats (bench/README.md). */
char *xvasprintf(const char *fmt, va_list ap)
{
	char *s = NULL;
	va_list again;
	int n;

	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	if (n >= 0 && (s = malloc((size_t)n + 1)) && vsnprintf(s, (size_t)n + 1, fmt, again) != n) {
		free(s);
		s = NULL;
	}
	va_end(again);
	return oom_check(s);
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

static size_t text_hash(const char *s)
{
	uint64_t h = 14695981039346656037u;     /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return (size_t)h;
}

static void texts_grow(struct util_texts *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	char **slot = xcalloc(cap, sizeof(*slot));

	for (size_t i = 0; i < t->cap; i++) {
		size_t k;

		if (!t->slot[i])
			continue;
		for (k = text_hash(t->slot[i]) & (cap - 1); slot[k]; k = (k + 1) & (cap - 1))
			;
		slot[k] = t->slot[i];
	}
	free(t->slot);
	t->slot = slot;
	t->cap = cap;
}

const char *util_texts_keep(struct util_texts *t, char *s)
{
	size_t k;

	if (2 * (t->n + 1) > t->cap)
		texts_grow(t);
	for (k = text_hash(s) & (t->cap - 1); t->slot[k]; k = (k + 1) & (t->cap - 1))
		if (strcmp(t->slot[k], s) == 0) {
			free(s);
			return t->slot[k];
		}
	t->n++;
	return t->slot[k] = s;
}

void util_texts_free(struct util_texts *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->slot[i]);
	free(t->slot);
	memset(t, 0, sizeof(*t));
}

int util_parse_i64(const char *s, int64_t *out)
{
	bool neg = false;
	uint64_t v = 0;
	/* INT64_MAX + 1 is the magnitude of INT64_MIN */
	const uint64_t limit_pos = (uint64_t)INT64_MAX;

	if (!s || !*s)
		return -EINVAL;
	if (*s == '-') {
		neg = true;
		s++;
	}
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		unsigned d = (unsigned)(*s - '0');
		if (v > (limit_pos + (neg ? 1 : 0) - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (neg)
		*out = v == limit_pos + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return 0;
}

int util_read_fd(int fd, size_t max, char **buf, size_t *len)
{
	size_t cap = 4096 < max + 1 ? 4096 : max + 1, n = 0;
	char *b = xmalloc(cap);

	for (;;) {
		if (n == cap) {
			if (cap > max) {
				free(b);
				return -EFBIG;
			}
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			b = xreallocarray(b, cap, 1);
		}
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = -errno;
			free(b);
			return e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			free(b);
			return -EFBIG;
		}
	}
	b = xreallocarray(b, n + 1, 1);
	b[n] = '\0';
	*buf = b;
	if (len)
		*len = n;
	return 0;
}

int util_open_regular_at(int dirfd, const char *path, int extra_flags, struct stat *st)
{
	int fd, r;

	/* O_NONBLOCK so that opening a FIFO cannot block; cleared on reading. */
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | extra_flags);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0)
		r = -errno;
	else if (!S_ISREG(st->st_mode))
		r = S_ISDIR(st->st_mode) ? -EISDIR : -EINVAL;
	else
		return fd;
	close(fd);
	return r;
}

int util_read_regular(int fd, const struct stat *st, size_t max, char **buf, size_t *len)
{
	if (st->st_size > 0 && (uint64_t)st->st_size > max)
		return -EFBIG;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return util_read_fd(fd, max, buf, len);
}

int util_read_file_at(int dirfd, const char *path, int extra_flags, size_t max,
		      char **buf, size_t *len)
{
	struct stat st;
	int fd = util_open_regular_at(dirfd, path, extra_flags, &st), r;

	if (fd < 0)
		return fd;
	r = util_read_regular(fd, &st, max, buf, len);
	close(fd);
	return r;
}

void util_normalize_ws(char *s)
{
	char *w = s;
	bool pending_space = false;

	for (const char *r = s; *r; r++) {
		if (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r' ||
		    *r == '\v' || *r == '\f') {
			pending_space = w != s;
			continue;
		}
		if (pending_space)
			*w++ = ' ';
		pending_space = false;
		*w++ = *r;
	}
	*w = '\0';
}

char *util_rooted(const char *root, const char *path)
{
	if (!root || !*root || (root[0] == '/' && root[1] == '\0'))
		return xstrdup(path);
	size_t rl = strlen(root);
	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	return xasprintf("%.*s%s%s", (int)rl, root, path[0] == '/' ? "" : "/", path);
}

int util_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

bool util_has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

int util_write_atomic(int dirfd, const char *name, const void *buf, size_t len,
		      mode_t mode)
{
	char tmp[300];
	struct stat st;
	int fd = -1, r;

	if (strlen(name) > 200 || strchr(name, '/'))
		return -EINVAL;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode))
		return S_ISLNK(st.st_mode) ? -ELOOP : -EINVAL;
	for (unsigned attempt = 0; fd < 0; attempt++) {
		struct timespec ts;

		if (attempt == 16)
			return -EEXIST;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		snprintf(tmp, sizeof(tmp), ".%s.%d.%lx", name, (int)getpid(),
			 (unsigned long)(ts.tv_nsec ^ ((unsigned long)attempt << 20)));
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd < 0 && errno != EEXIST)
			return -errno;
	}
	r = util_write_all(fd, buf, len);
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return r;
	}
	/* The rename is durable only once the directory is. It has happened
	 * though: "failed, nothing changed" would be a lie. */
	if (fsync(dirfd) < 0)
		return errno;
	return 0;
}

size_t util_utf8_len(const unsigned char *p, size_t left)
{
	unsigned char c, lo = 0x80, hi = 0xbf;
	size_t n;

	if (left == 0)
		return 0;
	c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	/* The second byte's range is what excludes overlong forms,
	 * surrogates and code points above U+10FFFF (RFC 3629, section 4). */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (left < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

bool util_is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

const char *util_find_control(const char *s, size_t len, const char *allowed)
{
	for (size_t i = 0; i < len; i++)
		if (util_is_control((unsigned char)s[i]) &&
		    !(s[i] && allowed && strchr(allowed, s[i])))
			return s + i;
	return NULL;
}

/* The escaped form of the character at p: into out (at least 5 bytes),
 * returning how many input bytes it stands for. */
static size_t escape_one(const unsigned char *p, size_t left, char *out, size_t *outlen,
			 unsigned flags)
{
	size_t n = util_utf8_len(p, left);

	if (n == 0 || (n == 1 && util_is_control(p[0]))) {
		*outlen = (size_t)snprintf(out, 5, "\\x%02x", p[0]);
		return 1;
	}
	if (n == 1 && p[0] == '\\' && !(flags & UTIL_ESCAPE_KEEP_BACKSLASH)) {
		memcpy(out, "\\\\", 2);
		*outlen = 2;
		return 1;
	}
	memcpy(out, p, n);
	*outlen = n;
	return n;
}

char *util_escape(char *dst, size_t size, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, total = 0;
	bool cut;

	for (size_t i = 0; i < len; ) {
		char one[5];
		size_t olen;

		i += escape_one(p + i, len - i, one, &olen, 0);
		total += olen;
	}
	cut = total >= size;
	for (size_t i = 0; i < len; ) {
		char one[5];
		size_t olen, used = escape_one(p + i, len - i, one, &olen, 0);

		/* Room for this character, and for "..." when it is cut. */
		if (o + olen + (cut ? 3 : 0) >= size) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(dst + o, one, olen);
		o += olen;
		i += used;
	}
	dst[o] = '\0';
	return dst;
}

int util_fputs_escaped(FILE *f, const char *s, size_t len, unsigned flags)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len; ) {
		char one[5];
		size_t olen;

		i += escape_one(p + i, len - i, one, &olen, flags);
		if (fwrite(one, 1, olen, f) != olen)
			return -EIO;
	}
	return 0;
}

/* Enough for any race a real system produces; a loop that never ends
 * would let anyone who can rename files anywhere stall qtune. */
#define OPENAT2_TRIES 64

int util_openat2(int dirfd, const char *path, struct open_how *how)
{
	/* openat2 rejects O_NOCTTY together with O_PATH */
	how->flags |= O_CLOEXEC | ((how->flags & O_PATH) ? 0 : O_NOCTTY);
	for (unsigned i = 0; i < OPENAT2_TRIES; i++) {
		long fd = syscall(SYS_openat2, dirfd, path, how, sizeof(*how));

		if (fd >= 0)
			return (int)fd;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
	return -EAGAIN;
}
