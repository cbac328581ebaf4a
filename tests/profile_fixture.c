/* profile_fixture: what the profile tests share: a private temporary
 * directory per test (also the --root of the search path), fixtures from
 * tests/fixtures/profiles, and assertions on loads and their diagnostics.
 * Pure parsing: nothing here needs root or touches /proc/sys. */
#include "profile_fixture.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/limits.h>     /* PATH_MAX, whatever src/limits.h does to <limits.h> */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "util.h"

char pt_tmp[64];

void pt_tmp_make(void)
{
	snprintf(pt_tmp, sizeof(pt_tmp), "/tmp/qtune-profile-XXXXXX");
	cr_assert_not_null(mkdtemp(pt_tmp), "mkdtemp: %s", strerror(errno));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void pt_tmp_remove(void)
{
	if (pt_tmp[0])
		nftw(pt_tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}


/* A path under the temporary directory (rotating buffers). */
const char *pt_tpath(const char *rel)
{
	static char bufs[8][PATH_MAX];
	static unsigned n;
	char *b = bufs[n++ % 8];

	snprintf(b, PATH_MAX, "%s/%s", pt_tmp, rel);
	return b;
}

/* A fixture under tests/fixtures/profiles of the source tree. */
const char *pt_fixture(const char *rel)
{
	static char bufs[8][PATH_MAX];
	static unsigned n;
	const char *src = getenv("QTUNE_SRCDIR");
	char *b = bufs[n++ % 8];

	snprintf(b, PATH_MAX, "%s/tests/fixtures/profiles/%s", src && *src ? src : ".", rel);
	return b;
}

void pt_write_bytes(const char *rel, const void *buf, size_t len)
{
	char dir[PATH_MAX];
	const char *path = pt_tpath(rel);

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *s = dir + strlen(pt_tmp) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(dir, 0755);
		*s = '/';
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
	cr_assert_eq(util_write_all(fd, buf, len), 0);
	close(fd);
}

const char *pt_write_text(const char *rel, const char *text)
{
	pt_write_bytes(rel, text, strlen(text));
	return pt_tpath(rel);
}

int pt_load(const char *path, struct profile **p, struct qt_diags *d)
{
	*p = (struct profile *)(uintptr_t)1;     /* must be overwritten */
	return profile_load(pt_tmp, path, QT_LEVEL_OK, p, d);
}

void pt_dump(const struct qt_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		cr_log_info("diag: %s:%u:%u: %s", d->v[i].file ? d->v[i].file : "-",
			    d->v[i].line, d->v[i].col, d->v[i].msg);
}

/* The error holding text, which must exist, be an error and name file. */
const struct qt_diag *pt_find(const struct qt_diags *d, const char *text)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->v[i].msg, text))
			return &d->v[i];
	pt_dump(d);
	cr_assert_fail("no diagnostic holds \"%s\"", text);
	return NULL;
}

void pt_assert_diag(const struct qt_diags *d, const char *file, unsigned line,
			unsigned col, const char *text)
{
	const struct qt_diag *e = pt_find(d, text);

	cr_assert_eq(e->level, QT_LEVEL_ERROR, "%s", e->msg);
	cr_assert_str_eq(e->file, file, "%s", e->msg);
	cr_assert_eq(e->line, line, "\"%s\" at line %u, want %u", e->msg, e->line, line);
	if (col)
		cr_assert_eq(e->col, col, "\"%s\" at column %u, want %u", e->msg, e->col, col);
}

/* Loads path expecting rejection and nothing returned; the caller checks
 * and frees the diagnostics. */
struct qt_diags pt_reject(const char *path)
{
	struct qt_diags d = { 0 };
	struct profile *p;

	cr_assert_eq(pt_load(path, &p, &d), -EINVAL, "%s was accepted", path);
	cr_assert_null(p);
	return d;
}

/* Loads path, expects rejection with text at line:col (col 0: any). */
void pt_expect_reject(const char *path, unsigned line, unsigned col, const char *text)
{
	struct qt_diags d = pt_reject(path);

	pt_assert_diag(&d, path, line, col, text);
	diags_free(&d);
}

void pt_expect_reject_text(const char *text, unsigned line, unsigned col, const char *msg)
{
	pt_expect_reject(pt_write_text("p.yaml", text), line, col, msg);
}

struct profile *pt_expect_load(const char *path)
{
	struct qt_diags d = { 0 };
	struct profile *p;
	int r = pt_load(path, &p, &d);

	if (r != 0)
		pt_dump(&d);
	cr_assert_eq(r, 0, "%s rejected", path);
	cr_assert_not_null(p);
	cr_assert_eq(diags_count(&d, QT_LEVEL_WARN), 0);
	diags_free(&d);
	return p;
}

const struct profile_entry *pt_entry(const struct profile *p, const char *key)
{
	const struct profile_entry *e = profile_entry_for(p, key);

	cr_assert_not_null(e, "no entry %s", key);
	return e;
}

/* Peak memory of this process (Criterion runs each test in its own),
 * reset first through clear_refs so it measures only what follows. */
long pt_status_kb(const char *field)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, strlen(field)) == 0)
			v = strtol(line + strlen(field), NULL, 10);
	fclose(f);
	return v;
}

long pt_peak_reset(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "5", 1), 1);
	close(fd);
	return pt_status_kb("VmRSS:");
}

void pt_assert_cheap(long rss_before)
{
	long grown = pt_status_kb("VmHWM:") - rss_before;

	cr_assert_lt(grown, 16 * 1024, "loading took %ld kB more", grown);
}

/* The requirement a listener on port must meet, as check and apply judge it. */
int64_t pt_req(const struct profile *p, uint16_t port)
{
	struct finding_limits lim = { 0 };
	struct finding_port *ports;

	audit_limits_from_profile(p, &lim, &ports);
	int64_t r = findings_port_requirement(&lim, port);
	free(ports);
	return r;
}
