/* profile_fixture: helpers shared by the profile tests (test_profile*.c):
 * a fresh temporary directory per test, which is also the root of the
 * search path, and assertions on what a load returns and reports. */
#ifndef QTUNE_PROFILE_FIXTURE_H
#define QTUNE_PROFILE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "profile.h"

extern char pt_tmp[64];

/* Criterion .init / .fini: makes and removes pt_tmp. */
void pt_tmp_make(void);
void pt_tmp_remove(void);

/* A path under pt_tmp, a fixture of the source tree (rotating buffers). */
const char *pt_tpath(const char *rel);
const char *pt_fixture(const char *rel);
void pt_write_bytes(const char *rel, const void *buf, size_t len);
const char *pt_write_text(const char *rel, const char *text);
int pt_load(const char *path, struct profile **p, struct qt_diags *d);
void pt_dump(const struct qt_diags *d);
const struct qt_diag *pt_find(const struct qt_diags *d, const char *text);
void pt_assert_diag(const struct qt_diags *d, const char *file, unsigned line,
			unsigned col, const char *text);
struct qt_diags pt_reject(const char *path);
void pt_expect_reject(const char *path, unsigned line, unsigned col, const char *text);
void pt_expect_reject_text(const char *text, unsigned line, unsigned col, const char *msg);
struct profile *pt_expect_load(const char *path);
const struct profile_entry *pt_entry(const struct profile *p, const char *key);
long pt_status_kb(const char *field);
long pt_peak_reset(void);
void pt_assert_cheap(long rss_before);
/* The requirement a listener on port must meet, as check and apply judge it. */
int64_t pt_req(const struct profile *p, uint16_t port);

#endif
