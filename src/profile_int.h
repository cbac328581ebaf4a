/* profile_int: what the three parts of the profile loader share and no
 * other module includes (mandoc's libmdoc.h beside mdoc.h): positions, the
 * error budget of one load, the YAML event reader (profile_yaml.c), what one
 * file says before merging (struct pfile, filled by the schema in
 * profile.c) and the checks on the merged profile, called by the include
 * walk (profile_include.c). */
#ifndef QTUNE_PROFILE_INT_H
#define QTUNE_PROFILE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "diag.h"
#include "profile.h"

#define SHOWN_MAX 48            /* bytes of user text quoted in a message */

struct pos {
	unsigned line, col;
};

/* The diagnostics of one load and its budget: after PROFILE_MAX_ERRORS
 * problems the load gives up, so a hostile file cannot turn each of its
 * lines into a message. */
struct perrs {
	struct qt_diags *d;
	size_t nerrors;
	bool give_up;           /* too many errors: stop everything */
};

void perr(struct perrs *E, const char *file, struct pos at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* User text made safe to print (util_escape), cut to fit buf. */
const char *shown(const char *s, size_t len, char *buf, size_t size);

/* ---- the YAML event reader (profile_yaml.c) ---- */

struct yreader {
	struct perrs *E;
	const char *file;
	const char *buf;
	size_t len;
	yaml_parser_t parser;
	yaml_event_t ev;
	bool have_ev;
	unsigned depth;
	bool stop;              /* syntax error or refusal: parse no further */
};

/* 0 for text: UTF-8 without NUL or control characters other than tab,
 * newline and carriage return. Else -EINVAL with the position. Run before
 * libyaml sees the bytes. */
int yr_text_check(const char *buf, size_t len, struct pos *at, const char **why);

/* Starts reading buf (len bytes, checked by yr_text_check) as file; false
 * (reported) when libyaml cannot start. yr_close releases the reader. */
bool yr_open(struct yreader *r, struct perrs *E, const char *file, const char *buf, size_t len);
void yr_close(struct yreader *r);

struct pos ev_pos(const yaml_event_t *ev);

/* Advances to the next event and enforces the structural limits on it
 * (no anchors, aliases or tags, PROFILE_MAX_DEPTH). false once parsing
 * stopped (the reason has been reported). */
bool yr_next(struct yreader *r);
/* Consumes the rest of the node that starts at the current event. */
bool yr_skip(struct yreader *r);

const char *sc_text(const struct yreader *r);
size_t sc_len(const struct yreader *r);
bool sc_plain(const struct yreader *r);
bool sc_has_nul(const struct yreader *r);
/* YAML 1.1 as libyaml's users resolve it: these plain scalars are not text. */
bool sc_is_null(const struct yreader *r);
bool sc_is_bool(const struct yreader *r);

/* Reports that the current node is not what was expected, and skips it. */
bool yr_wrong(struct yreader *r, const char *what, const char *expected);
/* A plain scalar written as a decimal integer: [-]digits, no sign '+', no
 * leading zero (YAML 1.1 reads 0100 as octal), no 0x, no exponent.
 * Reports and skips anything else. */
bool yr_int(struct yreader *r, const char *what, int64_t *v);
bool in_range(struct yreader *r, struct pos at, const char *what, const char *noun,
	      int64_t v, int64_t lo, int64_t hi);
/* Text of the current scalar, malloc'd; anything else is reported. */
char *yr_text(struct yreader *r, const char *what);

/* Walks a mapping whose keys must come from names[] (at most 8): unknown
 * and duplicate fields are reported and skipped; for each other field fn
 * is called with the field's value as the current event and must consume
 * it. */
typedef void (*field_fn)(struct yreader *r, void *arg, size_t field, struct pos key_at);
void yr_fields(struct yreader *r, const char *where, const char *const *names,
	       size_t n, field_fn fn, void *arg);

/* ---- one file, before merging (profile.c) ---- */

struct pf_include {
	char *text;
	struct pos at;
};

struct pf_ignore {
	uint16_t port;
	struct pos at;
};

/* What one file says, before merging. Entry and port file fields stay
 * NULL here; the merge fills them in. An entry whose value was invalid
 * keeps want.value NULL: it still counts for duplicate detection. */
struct pfile {
	const char *path;
	bool has_version;
	char *name;
	struct pos name_at;
	char *description;
	struct pf_include *inc;
	size_t ninc;
	struct profile_entry *entries;
	size_t nentries;
	bool has_min_backlog;
	int64_t min_backlog;
	struct pos min_backlog_at;
	struct port_req *ports;
	size_t nports;
	struct pf_ignore *ignore;
	size_t nignore;
	char *persist_file;
	struct pos persist_at;
};

/* Parses one file's bytes into pf (pf->path = path); problems go to E. */
void pfile_parse(struct perrs *E, const char *path, const char *buf, size_t len,
		 struct pfile *pf);
void pfile_free(struct pfile *pf);

/* The checks that need the whole merged profile: a default name from the
 * file name when none was given (read_any: a file was read at all), the
 * key limit after includes, backlogs above the profile's own somaxconn. */
void profile_check_merged(struct perrs *E, struct profile *p, const char *path, bool read_any);

#endif
