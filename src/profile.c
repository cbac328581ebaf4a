/* profile: YAML → struct profile through libyaml's event API.
 *
 * Events, not the document API: the document API builds the whole tree
 * first, while events let the loader refuse an alias, a too deep nesting or
 * a too long file at the first sign and stop there, so hostile input costs
 * at most one bounded read and a few events. Parsing goes file by file into
 * a struct pfile (what that one file says, with positions); includes are
 * then visited depth first and every file is merged into the profile after
 * its includes, so later files win. */
#include "profile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include <sha256.h>

#include "sysctl.h"
#include "util.h"

#define SHOWN_MAX 48            /* bytes of user text quoted in a message */

struct pos {
	unsigned line, col;
};

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

/* A file read during this load; identity by inode, so "a.yaml",
 * "./a.yaml" and a symlink to it are the same file. */
struct loaded {
	dev_t dev;
	ino_t ino;
	bool done;              /* merged; false while on the include chain */
	char *path;
};

struct loader {
	const struct qt_ctx *ctx;
	struct qt_diags *d;
	struct profile *p;
	struct loaded files[1 + PROFILE_MAX_INCLUDES];
	size_t nfiles;
	size_t chain[1 + PROFILE_MAX_INCLUDES];   /* indices into files */
	size_t nerrors;
	bool give_up;           /* too many errors: stop everything */
	SHA256_CTX sha;
};

struct yreader {
	struct loader *L;
	const char *file;
	const char *buf;
	size_t len;
	yaml_parser_t parser;
	yaml_event_t ev;
	bool have_ev;
	unsigned depth;
	bool stop;              /* syntax error or refusal: parse no further */
};

/* ---- diagnostics ---- */

static void perr(struct loader *L, const char *file, struct pos at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void perr(struct loader *L, const char *file, struct pos at, const char *fmt, ...)
{
	va_list ap;

	if (L->give_up)
		return;
	if (++L->nerrors > PROFILE_MAX_ERRORS) {
		/* A hostile file could otherwise turn each of its lines into a
		 * message and the diagnostics list into the memory hog. */
		diags_add(L->d, QT_LEVEL_ERROR, file, at.line, at.col,
			  "too many problems (more than %d), giving up", PROFILE_MAX_ERRORS);
		L->give_up = true;
		return;
	}
	va_start(ap, fmt);
	diags_vadd(L->d, QT_LEVEL_ERROR, file, at.line, at.col, fmt, ap);
	va_end(ap);
}

/* User text made safe to print (util_escape), cut to fit buf. */
static const char *shown(const char *s, size_t len, char *buf, size_t size)
{
	return util_escape(buf, size, s, len);
}

/* ---- text checks before libyaml sees the bytes ---- */

/* 0 for text: UTF-8 without NUL or control characters other than tab,
 * newline and carriage return. Else -EINVAL with the position. */
static int text_check(const char *buf, size_t len, struct pos *at, const char **why)
{
	const unsigned char *p = (const unsigned char *)buf;
	struct pos cur = { 1, 1 };

	for (size_t i = 0; i < len; ) {
		size_t n = util_utf8_len(p + i, len - i);

		*at = cur;
		if (n == 0) {
			*why = "invalid UTF-8";
			return -EINVAL;
		}
		if (p[i] == 0) {
			*why = "NUL byte";
			return -EINVAL;
		}
		if (util_is_control(p[i]) && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') {
			*why = "control character";
			return -EINVAL;
		}
		if (p[i] == '\n') {
			cur.line++;
			cur.col = 1;
		} else {
			cur.col++;
		}
		i += n;
	}
	return 0;
}

/* Line and column (in characters) of a byte offset. */
static struct pos offset_pos(const char *buf, size_t len, size_t off)
{
	struct pos at = { 1, 1 };

	for (size_t i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			at.line++;
			at.col = 1;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
			at.col++;
		}
	}
	return at;
}

/* ---- the event reader ---- */

static struct pos ev_pos(const yaml_event_t *ev)
{
	return (struct pos){ (unsigned)ev->start_mark.line + 1,
			     (unsigned)ev->start_mark.column + 1 };
}

static void yr_syntax(struct yreader *r)
{
	const yaml_parser_t *p = &r->parser;
	const char *problem = p->problem ? p->problem : "unknown error";
	struct pos at;

	if (p->error == YAML_MEMORY_ERROR) {
		perr(r->L, r->file, (struct pos){ 0, 0 }, "out of memory while parsing YAML");
		return;
	}
	if (p->error == YAML_READER_ERROR)
		at = offset_pos(r->buf, r->len, p->problem_offset);
	else
		at = (struct pos){ (unsigned)p->problem_mark.line + 1,
				   (unsigned)p->problem_mark.column + 1 };
	if (p->context)
		perr(r->L, r->file, at, "invalid YAML: %s (%s at line %zu, column %zu)",
		     problem, p->context, p->context_mark.line + 1, p->context_mark.column + 1);
	else
		perr(r->L, r->file, at, "invalid YAML: %s", problem);
}

/* Advances to the next event and enforces the structural limits on it.
 * false once parsing stopped (the reason has been reported). */
static bool yr_next(struct yreader *r)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;
	char buf[SHOWN_MAX + 4];

	if (r->have_ev) {
		yaml_event_delete(&r->ev);
		r->have_ev = false;
	}
	if (r->stop || r->L->give_up) {
		r->stop = true;
		return false;
	}
	if (!yaml_parser_parse(&r->parser, &r->ev)) {
		yr_syntax(r);
		r->stop = true;
		return false;
	}
	r->have_ev = true;

	switch (r->ev.type) {
	case YAML_ALIAS_EVENT:
		perr(r->L, r->file, ev_pos(&r->ev),
		     "alias *%s: YAML anchors and aliases are not allowed",
		     shown((const char *)r->ev.data.alias.anchor,
			   strlen((const char *)r->ev.data.alias.anchor), buf, sizeof(buf)));
		r->stop = true;
		return false;
	case YAML_SCALAR_EVENT:
		anchor = r->ev.data.scalar.anchor;
		tag = r->ev.data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = r->ev.data.sequence_start.anchor;
		tag = r->ev.data.sequence_start.tag;
		r->depth++;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = r->ev.data.mapping_start.anchor;
		tag = r->ev.data.mapping_start.tag;
		r->depth++;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		r->depth--;
		break;
	default:
		break;
	}
	/* Anchors are refused as well as aliases: an anchor has no use
	 * without an alias, and refusing it stops an expansion bomb at its
	 * first line. */
	if (anchor) {
		perr(r->L, r->file, ev_pos(&r->ev),
		     "anchor &%s: YAML anchors and aliases are not allowed",
		     shown((const char *)anchor, strlen((const char *)anchor), buf, sizeof(buf)));
		r->stop = true;
		return false;
	}
	/* Counted on the event stream, so parsing ends at the first level
	 * too deep and libyaml never holds more than this many levels. */
	if (r->depth > PROFILE_MAX_DEPTH) {
		perr(r->L, r->file, ev_pos(&r->ev),
		     "nesting deeper than %d levels", PROFILE_MAX_DEPTH);
		r->stop = true;
		return false;
	}
	if (tag)
		perr(r->L, r->file, ev_pos(&r->ev), "YAML tags are not allowed (%s)",
		     shown((const char *)tag, strlen((const char *)tag), buf, sizeof(buf)));
	return true;
}

/* Consumes the rest of the node that starts at the current event. */
static bool yr_skip(struct yreader *r)
{
	unsigned level = r->depth;

	if (r->ev.type != YAML_SEQUENCE_START_EVENT && r->ev.type != YAML_MAPPING_START_EVENT)
		return true;
	while (r->depth >= level)
		if (!yr_next(r))
			return false;
	return true;
}

static const char *sc_text(const struct yreader *r)
{
	return (const char *)r->ev.data.scalar.value;
}

static size_t sc_len(const struct yreader *r)
{
	return r->ev.data.scalar.length;
}

static bool sc_plain(const struct yreader *r)
{
	return r->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* A double-quoted "\0" puts a NUL inside the value. */
static bool sc_has_nul(const struct yreader *r)
{
	return memchr(sc_text(r), '\0', sc_len(r)) != NULL;
}

static bool sc_is(const struct yreader *r, const char *const *words, size_t n)
{
	if (!sc_plain(r))
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(sc_text(r), words[i]) == 0)
			return true;
	return false;
}

/* YAML 1.1 as libyaml's users resolve it: these plain scalars are not text. */
static bool sc_is_null(const struct yreader *r)
{
	static const char *const w[] = { "", "~", "null", "Null", "NULL" };

	return sc_is(r, w, ARRAY_SIZE(w));
}

static bool sc_is_bool(const struct yreader *r)
{
	static const char *const w[] = {
		"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
		"true", "True", "TRUE", "false", "False", "FALSE",
		"on", "On", "ON", "off", "Off", "OFF",
	};

	return sc_is(r, w, ARRAY_SIZE(w));
}

/* What the current node is, for "expected X, got Y". */
static const char *yr_got(const struct yreader *r, char *buf, size_t size)
{
	char s[SHOWN_MAX + 4];

	switch (r->ev.type) {
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SCALAR_EVENT:
		break;
	default:
		return "nothing";
	}
	if (sc_is_null(r))
		return "null";
	shown(sc_text(r), sc_len(r), s, sizeof(s));
	if (sc_is_bool(r))
		snprintf(buf, size, "the boolean %s", s);
	else
		snprintf(buf, size, "%s\"%s\"", sc_plain(r) ? "" : "the quoted text ", s);
	return buf;
}

/* Reports that the current node is not what was expected, and skips it. */
static bool yr_wrong(struct yreader *r, const char *what, const char *expected)
{
	char buf[SHOWN_MAX + 32];

	perr(r->L, r->file, ev_pos(&r->ev), "%s: expected %s, got %s",
	     what, expected, yr_got(r, buf, sizeof(buf)));
	return yr_skip(r);
}

/* A plain scalar written as a decimal integer: [-]digits, no sign '+', no
 * leading zero (YAML 1.1 reads 0100 as octal), no 0x, no exponent.
 * Reports and skips anything else. */
static bool yr_int(struct yreader *r, const char *what, int64_t *v)
{
	char buf[SHOWN_MAX + 4];
	const char *s;
	int e;

	if (r->ev.type != YAML_SCALAR_EVENT || !sc_plain(r) || sc_is_null(r) ||
	    sc_is_bool(r) || sc_has_nul(r)) {
		yr_wrong(r, what, "an integer");
		return false;
	}
	s = sc_text(r);
	const char *digits = s[0] == '-' ? s + 1 : s;
	e = util_parse_i64(s, v);
	if (e == -ERANGE) {
		perr(r->L, r->file, ev_pos(&r->ev), "%s: integer %s overflows",
		     what, shown(s, sc_len(r), buf, sizeof(buf)));
		return false;
	}
	if (e < 0) {
		perr(r->L, r->file, ev_pos(&r->ev), "%s: expected an integer, got \"%s\"",
		     what, shown(s, sc_len(r), buf, sizeof(buf)));
		return false;
	}
	if (digits[0] == '0' && digits[1]) {
		perr(r->L, r->file, ev_pos(&r->ev),
		     "%s: %s: leading zeros are not allowed (YAML 1.1 reads it as octal)",
		     what, shown(s, sc_len(r), buf, sizeof(buf)));
		return false;
	}
	return true;
}

static bool in_range(struct yreader *r, struct pos at, const char *what, const char *noun,
		     int64_t v, int64_t lo, int64_t hi)
{
	if (v >= lo && v <= hi)
		return true;
	perr(r->L, r->file, at, "%s: %s%s%lld is %s (valid: %lld..%lld)", what,
	     noun, *noun ? " " : "", (long long)v,
	     v < 0 && lo >= 0 ? "negative" : "out of range", (long long)lo, (long long)hi);
	return false;
}

/* Text of the current scalar, malloc'd; anything else is reported. */
static char *yr_text(struct yreader *r, const char *what)
{
	if (r->ev.type != YAML_SCALAR_EVENT || sc_is_null(r)) {
		yr_wrong(r, what, "text");
		return NULL;
	}
	if (sc_has_nul(r)) {
		perr(r->L, r->file, ev_pos(&r->ev), "%s: text holds a NUL character", what);
		return NULL;
	}
	return xstrndup(sc_text(r), sc_len(r));
}

/* Walks a mapping whose keys must come from names[]: unknown and duplicate
 * fields are reported and skipped; for each other field fn is called with
 * the field's value as the current event and must consume it. */
typedef void (*field_fn)(struct yreader *r, void *arg, size_t field, struct pos key_at);

static void yr_fields(struct yreader *r, const char *where, const char *const *names,
		      size_t n, field_fn fn, void *arg)
{
	struct pos seen[8] = { { 0, 0 } };
	char buf[SHOWN_MAX + 4], expected[128] = "";

	for (size_t i = 0; i < n; i++)
		snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected),
			 "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", names[i]);
	if (r->ev.type != YAML_MAPPING_START_EVENT) {
		char what[sizeof(expected) + 16];

		snprintf(what, sizeof(what), "a mapping (%s)", expected);
		yr_wrong(r, where, what);
		return;
	}
	for (;;) {
		size_t f;

		if (!yr_next(r) || r->ev.type == YAML_MAPPING_END_EVENT)
			return;
		struct pos at = ev_pos(&r->ev);
		if (r->ev.type != YAML_SCALAR_EVENT) {
			perr(r->L, r->file, at, "%s: field names must be text", where);
			if (!yr_skip(r) || !yr_next(r) || !yr_skip(r))
				return;
			continue;
		}
		for (f = 0; f < n && f < ARRAY_SIZE(seen); f++)
			if (!sc_has_nul(r) && strcmp(sc_text(r), names[f]) == 0)
				break;
		if (f == n || f == ARRAY_SIZE(seen)) {
			perr(r->L, r->file, at, "%s%sunknown field %s (expected %s)",
			     where, *where ? ": " : "",
			     shown(sc_text(r), sc_len(r), buf, sizeof(buf)), expected);
		} else if (seen[f].line) {
			perr(r->L, r->file, at, "%s%sduplicate field %s (first at line %u, column %u)",
			     where, *where ? ": " : "", names[f], seen[f].line, seen[f].col);
			f = n;
		} else {
			seen[f] = at;
		}
		if (!yr_next(r))
			return;
		if (f == n || f == ARRAY_SIZE(seen)) {
			if (!yr_skip(r))
				return;
			continue;
		}
		fn(r, arg, f, at);
		if (r->stop)
			return;
	}
}

/* ---- sysctl entries ---- */

struct bounds {
	const struct key_info *info;
	const char *display;
	bool has[2];
	int64_t v[2];
	bool bad;
};

static void bound_field(struct yreader *r, void *arg, size_t field, struct pos key_at)
{
	static const char *const names[] = { "min", "max" };
	struct bounds *b = arg;
	char what[KEY_PATH_MAX + 8];
	int64_t v;

	snprintf(what, sizeof(what), "%s.%s", b->display, names[field]);
	if (!yr_int(r, what, &v)) {
		b->bad = true;
		return;
	}
	if (b->info && !in_range(r, ev_pos(&r->ev), what, "", v, b->info->min, b->info->max)) {
		b->bad = true;
		return;
	}
	b->has[field] = true;
	b->v[field] = v;
}

/* -?[0-9]+: meant as an integer, so checked as one. */
static bool looks_integer(const char *s)
{
	if (*s == '-')
		s++;
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* The value of a sysctl entry: a scalar (exact) or {min, max}. */
static bool parse_want(struct yreader *r, const struct key_info *info, const char *display,
		       struct pos key_at, struct want *w)
{
	static const char *const bound_names[] = { "min", "max" };
	char canon[KEY_VALUE_MAX], buf[SHOWN_MAX + 4];
	const char *why = NULL;
	int64_t v;
	int e;

	memset(w, 0, sizeof(*w));
	if (r->ev.type == YAML_MAPPING_START_EVENT) {
		struct bounds b = { .info = info, .display = display };

		if (info && info->type != KEY_INT) {
			perr(r->L, r->file, ev_pos(&r->ev),
			     "%s: {min, max} applies only to integer keys", display);
			yr_skip(r);
			return false;
		}
		yr_fields(r, display, bound_names, 2, bound_field, &b);
		if (r->stop || b.bad)
			return false;
		if (!b.has[0] && !b.has[1]) {
			perr(r->L, r->file, key_at, "%s: {min, max} needs min, max or both", display);
			return false;
		}
		if (b.has[0] && b.has[1] && b.v[0] > b.v[1]) {
			perr(r->L, r->file, key_at, "%s: min %lld is greater than max %lld",
			     display, (long long)b.v[0], (long long)b.v[1]);
			return false;
		}
		w->kind = WANT_RANGE;
		w->has_min = b.has[0];
		w->has_max = b.has[1];
		w->min = b.v[0];
		w->max = b.v[1];
		return true;
	}
	if (r->ev.type != YAML_SCALAR_EVENT || sc_is_null(r) || sc_is_bool(r)) {
		const char *expected = info && info->type == KEY_INT ? "an integer or {min, max}" :
				       info ? "text" : "an integer, text or {min, max}";

		if (r->ev.type == YAML_SCALAR_EVENT && sc_is_bool(r))
			perr(r->L, r->file, ev_pos(&r->ev),
			     "%s: expected %s, got the boolean %s (quote it if you mean the text)",
			     display, expected, shown(sc_text(r), sc_len(r), buf, sizeof(buf)));
		else
			yr_wrong(r, display, expected);
		return false;
	}
	if (sc_has_nul(r)) {
		perr(r->L, r->file, ev_pos(&r->ev), "%s: value holds a NUL character", display);
		return false;
	}
	/* An integer key takes a plain integer only; a key qtune does not
	 * know takes a plain integer strictly (so overflow is caught) or
	 * any text, which the kernel judges. */
	if ((info && info->type == KEY_INT) || (!info && sc_plain(r) && looks_integer(sc_text(r)))) {
		if (!yr_int(r, display, &v))
			return false;
		if (info && !in_range(r, ev_pos(&r->ev), display, "", v, info->min, info->max))
			return false;
	}
	e = key_check_value(info, sc_text(r), canon, sizeof(canon), &why);
	if (e < 0) {
		if (e == -ERANGE && info && info->type == KEY_INT_VEC)
			perr(r->L, r->file, ev_pos(&r->ev), "%s: \"%s\": %s (valid: %lld..%lld each)",
			     display, shown(sc_text(r), sc_len(r), buf, sizeof(buf)), why,
			     (long long)info->min, (long long)info->max);
		else
			perr(r->L, r->file, ev_pos(&r->ev), "%s: \"%s\": %s", display,
			     shown(sc_text(r), sc_len(r), buf, sizeof(buf)), why);
		return false;
	}
	w->kind = WANT_EXACT;
	w->value = xstrdup(canon);
	return true;
}

static void parse_sysctl_entry(struct yreader *r, struct pfile *pf)
{
	char path[KEY_PATH_MAX], display[KEY_PATH_MAX], buf[SHOWN_MAX + 4];
	struct pos at = ev_pos(&r->ev);
	const struct key_info *info;
	const char *why = NULL;
	struct want w;
	int e;

	if (sc_has_nul(r)) {
		perr(r->L, r->file, at, "invalid key: it holds a NUL character");
		goto skip;
	}
	e = key_canonicalize(sc_text(r), path, sizeof(path), &why);
	if (e < 0) {
		perr(r->L, r->file, at, "invalid key \"%s\": %s",
		     shown(sc_text(r), sc_len(r), buf, sizeof(buf)), why);
		goto skip;
	}
	key_display(path, display, sizeof(display));
	for (size_t i = 0; i < pf->nentries; i++) {
		if (strcmp(pf->entries[i].key, path) == 0) {
			perr(r->L, r->file, at, "duplicate key %s (first set at line %u, column %u)",
			     display, pf->entries[i].line, pf->entries[i].col);
			goto skip;
		}
	}
	if (pf->nentries == PROFILE_MAX_KEYS) {
		perr(r->L, r->file, at, "more than %d keys", PROFILE_MAX_KEYS);
		r->stop = true;
		return;
	}
	info = key_lookup(path);
	if (!info && r->L->ctx->procsys_fd >= 0) {
		e = sysctl_exists(r->L->ctx->procsys_fd, path);
		if (e == -ENOENT || e == -ENOTDIR)
			perr(r->L, r->file, at, "unknown key %s: no such file under /proc/sys", display);
		else if (e == -EISDIR)
			perr(r->L, r->file, at, "unknown key %s: a directory under /proc/sys, not a key",
			     display);
		else if (e < 0)
			perr(r->L, r->file, at, "unknown key %s: cannot check /proc/sys: %s",
			     display, strerror(-e));
	}
	if (!yr_next(r))
		return;
	if (!parse_want(r, info, display, at, &w))
		w = (struct want){ .kind = WANT_EXACT, .value = NULL };
	pf->entries = xreallocarray(pf->entries, pf->nentries + 1, sizeof(*pf->entries));
	pf->entries[pf->nentries++] = (struct profile_entry){
		.key = xstrdup(path), .info = info, .want = w, .line = at.line, .col = at.col,
	};
	return;
skip:
	if (yr_next(r))
		yr_skip(r);
}

static void parse_sysctl(struct yreader *r, struct pfile *pf)
{
	if (r->ev.type != YAML_MAPPING_START_EVENT) {
		yr_wrong(r, "sysctl", "a mapping of key: value");
		return;
	}
	for (;;) {
		if (!yr_next(r) || r->ev.type == YAML_MAPPING_END_EVENT)
			return;
		if (r->ev.type != YAML_SCALAR_EVENT) {
			perr(r->L, r->file, ev_pos(&r->ev), "sysctl: keys must be text");
			if (!yr_skip(r) || !yr_next(r) || !yr_skip(r))
				return;
			continue;
		}
		parse_sysctl_entry(r, pf);
		if (r->stop)
			return;
	}
}

/* ---- listeners and persist ---- */

static bool yr_port(struct yreader *r, const char *what, uint16_t *port)
{
	int64_t v;

	if (!yr_int(r, what, &v) || !in_range(r, ev_pos(&r->ev), what, "port", v, 1, 65535))
		return false;
	*port = (uint16_t)v;
	return true;
}

static void parse_ports(struct yreader *r, struct pfile *pf)
{
	if (r->ev.type != YAML_MAPPING_START_EVENT) {
		yr_wrong(r, "listeners.ports", "a mapping of port: backlog");
		return;
	}
	for (;;) {
		char what[48];
		uint16_t port;
		int64_t backlog;
		bool ok;

		if (!yr_next(r) || r->ev.type == YAML_MAPPING_END_EVENT)
			return;
		struct pos at = ev_pos(&r->ev);
		ok = yr_port(r, "listeners.ports", &port);
		for (size_t i = 0; ok && i < pf->nports; i++) {
			if (pf->ports[i].port == port) {
				perr(r->L, r->file, at,
				     "listeners.ports: duplicate port %u (first at line %u, column %u)",
				     port, pf->ports[i].line, pf->ports[i].col);
				ok = false;
			}
		}
		if (ok && pf->nports == PROFILE_MAX_PORTS) {
			perr(r->L, r->file, at, "listeners.ports: more than %d ports", PROFILE_MAX_PORTS);
			r->stop = true;
			return;
		}
		if (!yr_next(r))
			return;
		snprintf(what, sizeof(what), "listeners.ports.%u", ok ? port : 0);
		if (!ok) {
			if (!yr_skip(r))
				return;
			continue;
		}
		if (!yr_int(r, what, &backlog) ||
		    !in_range(r, ev_pos(&r->ev), what, "backlog", backlog, 0, INT32_MAX))
			continue;
		pf->ports = xreallocarray(pf->ports, pf->nports + 1, sizeof(*pf->ports));
		pf->ports[pf->nports++] = (struct port_req){
			.port = port, .backlog = backlog, .line = at.line, .col = at.col,
		};
	}
}

static void parse_ignore(struct yreader *r, struct pfile *pf)
{
	if (r->ev.type != YAML_SEQUENCE_START_EVENT) {
		yr_wrong(r, "listeners.ignore", "a list of ports");
		return;
	}
	for (;;) {
		uint16_t port;
		bool dup = false;

		if (!yr_next(r) || r->ev.type == YAML_SEQUENCE_END_EVENT)
			return;
		struct pos at = ev_pos(&r->ev);
		if (!yr_port(r, "listeners.ignore", &port))
			continue;
		for (size_t i = 0; i < pf->nignore; i++)
			dup = dup || pf->ignore[i].port == port;
		if (dup)
			continue;       /* harmless: ignoring twice is ignoring */
		if (pf->nignore == PROFILE_MAX_PORTS) {
			perr(r->L, r->file, at, "listeners.ignore: more than %d ports",
			     PROFILE_MAX_PORTS);
			r->stop = true;
			return;
		}
		pf->ignore = xreallocarray(pf->ignore, pf->nignore + 1, sizeof(*pf->ignore));
		pf->ignore[pf->nignore++] = (struct pf_ignore){ port, at };
	}
}

static void listeners_field(struct yreader *r, void *arg, size_t field, struct pos key_at)
{
	struct pfile *pf = arg;
	int64_t v;

	switch (field) {
	case 0:
		if (yr_int(r, "listeners.min_backlog", &v) &&
		    in_range(r, ev_pos(&r->ev), "listeners.min_backlog", "backlog", v, 0, INT32_MAX)) {
			pf->has_min_backlog = true;
			pf->min_backlog = v;
			pf->min_backlog_at = key_at;
		}
		break;
	case 1:
		parse_ports(r, pf);
		break;
	case 2:
		parse_ignore(r, pf);
		break;
	}
}

#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"

bool profile_persist_name_valid(const char *name, const char **why)
{
	const char *dummy;
	size_t len = name ? strlen(name) : 0;

	if (!why)
		why = &dummy;
	if (len == 0) {
		*why = "empty file name";
		return false;
	}
	if (len > PROFILE_PERSIST_NAME_MAX) {
		*why = "file name longer than 200 bytes";
		return false;
	}
	if (strspn(name, NAME_CHARS) != len) {
		*why = "file name must be a plain name of [A-Za-z0-9_.-] (no '/')";
		return false;
	}
	if (name[0] == '.') {
		*why = "file name starts with '.': systemd-sysctl would never read it";
		return false;
	}
	if (len <= 5 || !util_has_suffix(name, ".conf")) {
		*why = "file name must end in \".conf\", or no tool reads it at boot";
		return false;
	}
	return true;
}

static void persist_field(struct yreader *r, void *arg, size_t field, struct pos key_at)
{
	struct pfile *pf = arg;
	struct pos at = ev_pos(&r->ev);
	char buf[SHOWN_MAX + 4];
	char *s = yr_text(r, "persist.file");
	const char *why;

	if (!s)
		return;
	if (!profile_persist_name_valid(s, &why)) {
		perr(r->L, r->file, at, "persist.file: \"%s\": %s",
		     shown(s, strlen(s), buf, sizeof(buf)), why);
		free(s);
		return;
	}
	free(pf->persist_file);
	pf->persist_file = s;
	pf->persist_at = key_at;
}

/* ---- top level ---- */

static void add_include(struct yreader *r, struct pfile *pf)
{
	struct pos at = ev_pos(&r->ev);
	char *s = yr_text(r, "include");

	if (!s)
		return;
	if (!*s || s[0] == '/') {
		perr(r->L, r->file, at,
		     "include: \"%s\" must be a profile name or a path relative to this file", s);
		free(s);
		return;
	}
	if (pf->ninc == PROFILE_MAX_INCLUDES) {
		perr(r->L, r->file, at, "include: more than %d entries", PROFILE_MAX_INCLUDES);
		free(s);
		return;
	}
	pf->inc = xreallocarray(pf->inc, pf->ninc + 1, sizeof(*pf->inc));
	pf->inc[pf->ninc++] = (struct pf_include){ s, at };
}

static void parse_include(struct yreader *r, struct pfile *pf)
{
	/* A single name is accepted as well as a list of them. */
	if (r->ev.type == YAML_SCALAR_EVENT) {
		add_include(r, pf);
		return;
	}
	if (r->ev.type != YAML_SEQUENCE_START_EVENT) {
		yr_wrong(r, "include", "a list of profile names or paths");
		return;
	}
	while (yr_next(r) && r->ev.type != YAML_SEQUENCE_END_EVENT) {
		if (r->ev.type != YAML_SCALAR_EVENT) {
			yr_wrong(r, "include", "a profile name or path");
			continue;
		}
		add_include(r, pf);
	}
}

enum top_field { F_QTUNE, F_NAME, F_DESCRIPTION, F_INCLUDE, F_SYSCTL, F_LISTENERS, F_PERSIST };

static void top_field(struct yreader *r, void *arg, size_t field, struct pos key_at)
{
	static const char *const listener_names[] = { "min_backlog", "ports", "ignore" };
	static const char *const persist_names[] = { "file" };
	struct pfile *pf = arg;
	struct pos at = ev_pos(&r->ev);
	char buf[SHOWN_MAX + 4];
	int64_t v;
	char *s;

	switch ((enum top_field)field) {
	case F_QTUNE:
		pf->has_version = true;     /* present; a wrong value is its own error */
		if (!yr_int(r, "qtune", &v))
			break;
		if (v != 1)
			perr(r->L, r->file, at,
			     "qtune: unsupported schema version %lld (this qtune reads version 1)",
			     (long long)v);
		break;
	case F_NAME:
		s = yr_text(r, "name");
		if (s && !profile_name_ok(s)) {
			perr(r->L, r->file, at, "name: \"%s\" must be 1 to %d characters of "
			     "[A-Za-z0-9_.-], not starting with '.'",
			     shown(s, strlen(s), buf, sizeof(buf)), PROFILE_NAME_MAX);
			free(s);
			s = NULL;
		}
		if (s) {
			pf->name = s;
			pf->name_at = at;
		}
		break;
	case F_DESCRIPTION:
		s = yr_text(r, "description");
		if (s && (strlen(s) > PROFILE_DESCRIPTION_MAX || util_find_control(s, strlen(s), "\n\t"))) {
			perr(r->L, r->file, at, "description: at most %d characters, "
			     "no control characters", PROFILE_DESCRIPTION_MAX);
			free(s);
			s = NULL;
		}
		pf->description = s;
		break;
	case F_INCLUDE:
		parse_include(r, pf);
		break;
	case F_SYSCTL:
		parse_sysctl(r, pf);
		break;
	case F_LISTENERS:
		yr_fields(r, "listeners", listener_names, ARRAY_SIZE(listener_names),
			  listeners_field, pf);
		break;
	case F_PERSIST:
		yr_fields(r, "persist", persist_names, ARRAY_SIZE(persist_names),
			  persist_field, pf);
		break;
	}
}

static void parse_stream(struct yreader *r, struct pfile *pf)
{
	static const char *const names[] = {
		"qtune", "name", "description", "include", "sysctl", "listeners", "persist",
	};
	struct pos doc_at;

	if (!yr_next(r) || !yr_next(r))         /* stream start, document start */
		return;
	if (r->ev.type == YAML_STREAM_END_EVENT) {
		perr(r->L, r->file, (struct pos){ 1, 1 }, "empty profile");
		return;
	}
	if (!yr_next(r))
		return;
	doc_at = ev_pos(&r->ev);
	if (r->ev.type == YAML_SCALAR_EVENT && sc_is_null(r)) {
		perr(r->L, r->file, doc_at, "empty profile");
		return;
	}
	if (r->ev.type != YAML_MAPPING_START_EVENT) {
		/* Nothing else in such a file can mean anything: stop here,
		 * and quote none of it back (it may be any file at all). */
		perr(r->L, r->file, doc_at,
		     "not a qtune profile: a profile is a mapping of fields (qtune, name, sysctl, ...), not %s",
		     r->ev.type == YAML_SEQUENCE_START_EVENT ? "a list" : "plain text");
		r->stop = true;
		return;
	}
	size_t mark = r->L->d->n;
	size_t nerrors = r->L->nerrors;

	yr_fields(r, "", names, ARRAY_SIZE(names), top_field, pf);
	if (!pf->has_version && !r->L->give_up) {
		/* Not a profile at all (/etc/shadow given by mistake, or by
		 * someone allowed to run qtune through sudo): say only that,
		 * and quote none of its contents back. */
		diags_truncate(r->L->d, mark);
		r->L->nerrors = nerrors;
		perr(r->L, r->file, doc_at,
		     "not a qtune profile: missing field qtune (the schema version); begin the profile with \"qtune: 1\"");
		r->stop = true;
		return;
	}
	if (r->stop)
		return;
	if (!yr_next(r) || !yr_next(r))         /* document end, then stream end? */
		return;
	if (r->ev.type == YAML_DOCUMENT_START_EVENT)
		perr(r->L, r->file, ev_pos(&r->ev),
		     "multiple YAML documents are not allowed in a profile");
}

static void pfile_free(struct pfile *pf)
{
	free(pf->name);
	free(pf->description);
	for (size_t i = 0; i < pf->ninc; i++)
		free(pf->inc[i].text);
	free(pf->inc);
	for (size_t i = 0; i < pf->nentries; i++) {
		free(pf->entries[i].key);
		free(pf->entries[i].want.value);
	}
	free(pf->entries);
	free(pf->ports);
	free(pf->ignore);
	free(pf->persist_file);
}

static void parse_file(struct loader *L, const char *path, const char *buf, size_t len,
		       struct pfile *pf)
{
	struct yreader r = { .L = L, .file = path, .buf = buf, .len = len };

	pf->path = path;
	if (!yaml_parser_initialize(&r.parser)) {
		perr(L, path, (struct pos){ 0, 0 }, "out of memory while parsing YAML");
		return;
	}
	yaml_parser_set_input_string(&r.parser, (const unsigned char *)buf, len);
	parse_stream(&r, pf);
	if (r.have_ev)
		yaml_event_delete(&r.ev);
	yaml_parser_delete(&r.parser);
}

/* ---- merging ---- */

static void merge_entry(struct profile *p, const struct profile_entry *e, const char *file)
{
	struct profile_entry *t = NULL;

	for (size_t i = 0; i < p->nentries && !t; i++)
		if (strcmp(p->entries[i].key, e->key) == 0)
			t = &p->entries[i];
	if (!t) {
		p->entries = xreallocarray(p->entries, p->nentries + 1, sizeof(*p->entries));
		t = &p->entries[p->nentries++];
		*t = (struct profile_entry){ .key = xstrdup(e->key) };
	}
	free(t->want.value);
	free(t->file);
	t->info = e->info;
	t->want = e->want;
	t->want.value = e->want.value ? xstrdup(e->want.value) : NULL;
	t->file = xstrdup(file);
	t->line = e->line;
	t->col = e->col;
}

/* Removals keep the order, so listings follow the profile's own order. */
static void drop_port(struct profile *p, uint16_t port)
{
	for (size_t i = 0; i < p->nports; i++) {
		if (p->ports[i].port == port) {
			free(p->ports[i].file);
			memmove(&p->ports[i], &p->ports[i + 1], (p->nports - i - 1) * sizeof(*p->ports));
			p->nports--;
			return;
		}
	}
}

static void drop_ignore(struct profile *p, uint16_t port)
{
	for (size_t i = 0; i < p->nignore; i++) {
		if (p->ignore[i] == port) {
			memmove(&p->ignore[i], &p->ignore[i + 1], (p->nignore - i - 1) * sizeof(*p->ignore));
			p->nignore--;
			return;
		}
	}
}

/* A later file overrides port by port: its requirement un-ignores a port,
 * its ignore drops an earlier requirement. */
static void merge_listeners(struct loader *L, const struct pfile *pf)
{
	struct profile *p = L->p;

	for (size_t i = 0; i < pf->nports; i++) {
		for (size_t j = 0; j < pf->nignore; j++)
			if (pf->ignore[j].port == pf->ports[i].port)
				perr(L, pf->path, pf->ignore[j].at,
				     "listeners: port %u is both ignored and required (line %u)",
				     pf->ports[i].port, pf->ports[i].line);
	}
	if (pf->has_min_backlog) {
		p->has_min_backlog = true;
		p->min_backlog = pf->min_backlog;
		free(p->min_backlog_file);
		p->min_backlog_file = xstrdup(pf->path);
		p->min_backlog_line = pf->min_backlog_at.line;
		p->min_backlog_col = pf->min_backlog_at.col;
	}
	for (size_t i = 0; i < pf->nports; i++) {
		const struct port_req *q = &pf->ports[i];
		struct port_req *t = NULL;

		drop_ignore(p, q->port);
		for (size_t j = 0; j < p->nports && !t; j++)
			if (p->ports[j].port == q->port)
				t = &p->ports[j];
		if (t) {
			free(t->file);
			*t = *q;
			t->file = xstrdup(pf->path);
			continue;
		}
		if (p->nports == PROFILE_MAX_PORTS) {
			perr(L, pf->path, (struct pos){ q->line, q->col },
			     "listeners.ports: more than %d ports after includes", PROFILE_MAX_PORTS);
			return;
		}
		p->ports = xreallocarray(p->ports, p->nports + 1, sizeof(*p->ports));
		p->ports[p->nports] = *q;
		p->ports[p->nports++].file = xstrdup(pf->path);
	}
	for (size_t i = 0; i < pf->nignore; i++) {
		drop_port(p, pf->ignore[i].port);
		drop_ignore(p, pf->ignore[i].port);
		if (p->nignore == PROFILE_MAX_PORTS) {
			perr(L, pf->path, pf->ignore[i].at,
			     "listeners.ignore: more than %d ports after includes", PROFILE_MAX_PORTS);
			return;
		}
		p->ignore = xreallocarray(p->ignore, p->nignore + 1, sizeof(*p->ignore));
		p->ignore[p->nignore++] = pf->ignore[i].port;
	}
}

static void merge_file(struct loader *L, const struct pfile *pf)
{
	for (size_t i = 0; i < pf->nentries; i++)
		merge_entry(L->p, &pf->entries[i], pf->path);
	merge_listeners(L, pf);
	if (pf->persist_file) {
		free(L->p->persist_file);
		L->p->persist_file = xstrdup(pf->persist_file);
	}
}

/* ---- files and includes ---- */

static bool is_path(const char *text)
{
	return strchr(text, '/') || util_has_suffix(text, ".yaml") ||
	       util_has_suffix(text, ".yml");
}

/* NAME.yaml on the search path, or -ENOENT. */
static int find_named(const struct qt_ctx *ctx, const char *name, char **path)
{
	static const char *const dirs[] = { PROFILE_DIR_ETC, PROFILE_DIR_USR };
	struct stat st;

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		char *rel = xasprintf("%s/%s.yaml", dirs[i], name);
		char *p = util_rooted(ctx->root, rel);

		free(rel);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			*path = p;
			return 0;
		}
		free(p);
	}
	return -ENOENT;
}

static char *search_path_text(const struct qt_ctx *ctx)
{
	char *etc = util_rooted(ctx->root, PROFILE_DIR_ETC);
	char *usr = util_rooted(ctx->root, PROFILE_DIR_USR);
	char *s = xasprintf("%s or %s", etc, usr);

	free(etc);
	free(usr);
	return s;
}

bool profile_name_ok(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len <= PROFILE_NAME_MAX && name[0] != '.' &&
	       strspn(name, NAME_CHARS) == len;
}

int profile_find(const struct qt_ctx *ctx, const char *text, char **path,
		 struct qt_diags *d)
{
	char buf[SHOWN_MAX + 4];
	char *where;

	*path = NULL;
	if (is_path(text)) {
		*path = xstrdup(text);
		return 0;
	}
	if (!profile_name_ok(text)) {
		diags_error(d, "\"%s\" is neither a profile name ([A-Za-z0-9_.-]) nor a path",
			    shown(text, strlen(text), buf, sizeof(buf)));
		return -EINVAL;
	}
	if (find_named(ctx, text, path) == 0)
		return 0;
	where = search_path_text(ctx);
	diags_error(d, "no profile %s: %s.yaml is not in %s", text, text, where);
	free(where);
	return -ENOENT;
}

/* An include's path: a bare name on the search path, anything else
 * relative to the directory of the including file. NULL when not found. */
static char *resolve_include(struct loader *L, const struct pfile *pf, const struct pf_include *inc)
{
	char buf[SHOWN_MAX + 4];
	char *path = NULL, *where;

	if (is_path(inc->text)) {
		const char *slash = strrchr(pf->path, '/');

		if (!slash)
			return xstrdup(inc->text);
		return xasprintf("%.*s%s", (int)(slash + 1 - pf->path), pf->path, inc->text);
	}
	if (!profile_name_ok(inc->text)) {
		perr(L, pf->path, inc->at, "include: \"%s\" is neither a profile name nor a path",
		     shown(inc->text, strlen(inc->text), buf, sizeof(buf)));
		return NULL;
	}
	if (find_named(L->ctx, inc->text, &path) == 0)
		return path;
	where = search_path_text(L->ctx);
	perr(L, pf->path, inc->at, "include %s: %s.yaml is not in %s", inc->text, inc->text, where);
	free(where);
	return NULL;
}

static void report_cycle(struct loader *L, size_t depth, size_t again,
			 const char *from, struct pos from_at)
{
	size_t size = 1, start = 0;
	char *s;

	for (size_t i = 0; i < depth; i++)
		if (L->chain[i] == again)
			start = i;
	for (size_t i = start; i < depth; i++)
		size += strlen(L->files[L->chain[i]].path) + 4;
	size += strlen(L->files[again].path);
	s = xmalloc(size);
	s[0] = '\0';
	for (size_t i = start; i < depth; i++) {
		strcat(s, L->files[L->chain[i]].path);
		strcat(s, " -> ");
	}
	strcat(s, L->files[again].path);
	perr(L, from, from_at, "include cycle: %s", s);
	free(s);
}

/* Reads, parses and merges path after its includes. from is the including
 * file (NULL for the top level) and from_at the include entry. */
static void visit(struct loader *L, const char *path, size_t depth,
		  const char *from, struct pos from_at)
{
	struct pfile pf = { .path = path };
	struct loaded *f;
	struct stat st;
	const char *why;
	struct pos at;
	char *buf = NULL;
	size_t len = 0;
	int e;

	if (L->give_up)
		return;
	if (stat(path, &st) < 0) {
		e = -errno;
		if (from)
			perr(L, from, from_at, "include: cannot read %s: %s", path, strerror(-e));
		else
			perr(L, path, (struct pos){ 0, 0 }, "cannot read profile: %s", strerror(-e));
		return;
	}
	for (size_t i = 0; i < L->nfiles; i++) {
		if (L->files[i].dev != st.st_dev || L->files[i].ino != st.st_ino)
			continue;
		if (!L->files[i].done)
			report_cycle(L, depth, i, from, from_at);
		return;         /* included before: each file counts once */
	}
	if (L->nfiles == ARRAY_SIZE(L->files)) {
		perr(L, from, from_at, "too many included files (at most %d per profile)",
		     PROFILE_MAX_INCLUDES);
		return;
	}
	/* Checks st_size first: a huge file is refused without being read. */
	e = util_read_file_at(AT_FDCWD, path, 0, PROFILE_MAX_BYTES, &buf, &len);
	if (e == -EFBIG) {
		perr(L, path, (struct pos){ 0, 0 }, "profile too large (more than %d bytes)",
		     PROFILE_MAX_BYTES);
		return;
	}
	if (e == -EINVAL) {
		perr(L, path, (struct pos){ 0, 0 }, "cannot read profile: not a regular file");
		return;
	}
	if (e < 0) {
		if (from)
			perr(L, from, from_at, "include: cannot read %s: %s", path, strerror(-e));
		else
			perr(L, path, (struct pos){ 0, 0 }, "cannot read profile: %s", strerror(-e));
		return;
	}
	f = &L->files[L->nfiles];
	*f = (struct loaded){ .dev = st.st_dev, .ino = st.st_ino, .path = xstrdup(path) };
	L->chain[depth] = L->nfiles++;
	pf.path = f->path;
	SHA256Update(&L->sha, (const uint8_t *)buf, len);

	if (len == 0)
		perr(L, f->path, (struct pos){ 1, 1 }, "empty profile");
	else if (text_check(buf, len, &at, &why) < 0)
		perr(L, f->path, at, "not a text file (%s)", why);
	else
		parse_file(L, f->path, buf, len, &pf);
	free(buf);

	for (size_t i = 0; i < pf.ninc && !L->give_up; i++) {
		char *inc = resolve_include(L, &pf, &pf.inc[i]);

		if (inc)
			visit(L, inc, depth + 1, f->path, pf.inc[i].at);
		free(inc);
	}
	merge_file(L, &pf);
	if (depth == 0) {
		L->p->name = pf.name;
		L->p->description = pf.description;
		pf.name = pf.description = NULL;
	}
	f->done = true;
	pfile_free(&pf);
}

/* ---- checks on the merged profile ---- */

static void default_name(struct loader *L, const char *path)
{
	const char *base = strrchr(path, '/');
	size_t len;
	char buf[SHOWN_MAX + 4];

	base = base ? base + 1 : path;
	len = strlen(base);
	if (util_has_suffix(base, ".yaml"))
		len -= 5;
	else if (util_has_suffix(base, ".yml"))
		len -= 4;
	L->p->name = xstrndup(base, len);
	if (!profile_name_ok(L->p->name))
		perr(L, path, (struct pos){ 0, 0 },
		     "the file name \"%s\" is not a valid profile name ([A-Za-z0-9_.-]): add a name field",
		     shown(L->p->name, strlen(L->p->name), buf, sizeof(buf)));
}

/* listen() clamps every backlog to somaxconn: a requirement above the
 * profile's own somaxconn could never be met. */
static void check_somaxconn(struct loader *L)
{
	const struct profile_entry *e = profile_entry_for(L->p, "net/core/somaxconn");
	const struct profile *p = L->p;
	int64_t cap;

	if (!e)
		return;
	if (e->want.kind == WANT_RANGE && e->want.has_max)
		cap = e->want.max;
	else if (e->want.kind != WANT_EXACT || !e->want.value ||
		 util_parse_i64(e->want.value, &cap) < 0)
		return;
	if (p->has_min_backlog && p->min_backlog > cap)
		perr(L, p->min_backlog_file, (struct pos){ p->min_backlog_line, p->min_backlog_col },
		     "listeners.min_backlog: %lld is above this profile's net.core.somaxconn %lld "
		     "(%s:%u): listen() would clamp it", (long long)p->min_backlog,
		     (long long)cap, e->file, e->line);
	for (size_t i = 0; i < p->nports; i++)
		if (p->ports[i].backlog > cap)
			perr(L, p->ports[i].file, (struct pos){ p->ports[i].line, p->ports[i].col },
			     "listeners.ports.%u: backlog %lld is above this profile's "
			     "net.core.somaxconn %lld (%s:%u): listen() would clamp it",
			     p->ports[i].port, (long long)p->ports[i].backlog, (long long)cap,
			     e->file, e->line);
}

int profile_load(const struct qt_ctx *ctx, const char *path, struct profile **out,
		 struct qt_diags *d)
{
	struct loader L = { .ctx = ctx, .d = d };

	*out = NULL;
	L.p = xcalloc(1, sizeof(*L.p));
	L.p->path = xstrdup(path);
	SHA256Init(&L.sha);

	visit(&L, path, 0, NULL, (struct pos){ 0, 0 });

	if (!L.p->name && L.nfiles > 0)
		default_name(&L, path);
	if (L.p->nentries > PROFILE_MAX_KEYS)
		perr(&L, path, (struct pos){ 0, 0 }, "more than %d keys after includes",
		     PROFILE_MAX_KEYS);
	check_somaxconn(&L);

	L.p->files = xcalloc(L.nfiles, sizeof(*L.p->files));
	for (size_t i = 0; i < L.nfiles; i++)
		L.p->files[i] = L.files[i].path;
	L.p->nfiles = L.nfiles;
	SHA256End(&L.sha, L.p->checksum);

	if (L.nerrors > 0) {
		profile_free(L.p);
		return -EINVAL;
	}
	*out = L.p;
	return 0;
}

void profile_free(struct profile *p)
{
	if (!p)
		return;
	free(p->path);
	free(p->name);
	free(p->description);
	for (size_t i = 0; i < p->nentries; i++) {
		free(p->entries[i].key);
		free(p->entries[i].want.value);
		free(p->entries[i].file);
	}
	free(p->entries);
	free(p->min_backlog_file);
	for (size_t i = 0; i < p->nports; i++)
		free(p->ports[i].file);
	free(p->ports);
	free(p->ignore);
	free(p->persist_file);
	for (size_t i = 0; i < p->nfiles; i++)
		free(p->files[i]);
	free(p->files);
	free(p);
}

char *profile_persist_name(const struct profile *p)
{
	if (p->persist_file)
		return xstrdup(p->persist_file);
	return xasprintf("90-qtune-%s.conf", p->name);
}

const struct profile_entry *profile_entry_for(const struct profile *p, const char *key)
{
	char path[KEY_PATH_MAX];

	if (key_canonicalize(key, path, sizeof(path), NULL) < 0)
		return NULL;
	for (size_t i = 0; i < p->nentries; i++)
		if (strcmp(p->entries[i].key, path) == 0)
			return &p->entries[i];
	return NULL;
}
