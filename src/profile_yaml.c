/* profile_yaml: the YAML event reader under the profile schema. Events,
 * not the document API: the document API builds the whole tree first,
 * while events let the loader refuse an alias, an anchor, a tag, a too deep
 * nesting or a file that is not text at the first sign and stop there, so
 * hostile input costs at most one bounded read and a few events. Every
 * event carries its FILE:LINE:COL; user text is quoted escaped. */
#include "profile_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---- diagnostics ---- */

void perr(struct perrs *E, const char *file, struct pos at, const char *fmt, ...)
{
	va_list ap;

	if (E->give_up)
		return;
	if (++E->nerrors > PROFILE_MAX_ERRORS) {
		/* A hostile file could otherwise turn each of its lines into a
		 * message and the diagnostics list into the memory hog. */
		diags_add(E->d, QT_LEVEL_ERROR, file, at.line, at.col,
			  "too many problems (more than %d), giving up", PROFILE_MAX_ERRORS);
		E->give_up = true;
		return;
	}
	va_start(ap, fmt);
	diags_vadd(E->d, QT_LEVEL_ERROR, file, at.line, at.col, fmt, ap);
	va_end(ap);
}

const char *shown(const char *s, size_t len, char *buf, size_t size)
{
	return util_escape(buf, size, s, len);
}
/* ---- text checks before libyaml sees the bytes ---- */

/* 0 for text: UTF-8 without NUL or control characters other than tab,
 * newline and carriage return. Else -EINVAL with the position. */
int yr_text_check(const char *buf, size_t len, struct pos *at, const char **why)
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

struct pos ev_pos(const yaml_event_t *ev)
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
		perr(r->E, r->file, (struct pos){ 0, 0 }, "out of memory while parsing YAML");
		return;
	}
	if (p->error == YAML_READER_ERROR)
		at = offset_pos(r->buf, r->len, p->problem_offset);
	else
		at = (struct pos){ (unsigned)p->problem_mark.line + 1,
				   (unsigned)p->problem_mark.column + 1 };
	if (p->context)
		perr(r->E, r->file, at, "invalid YAML: %s (%s at line %zu, column %zu)",
		     problem, p->context, p->context_mark.line + 1, p->context_mark.column + 1);
	else
		perr(r->E, r->file, at, "invalid YAML: %s", problem);
}

/* Advances to the next event and enforces the structural limits on it.
 * false once parsing stopped (the reason has been reported). */
bool yr_next(struct yreader *r)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;
	char buf[SHOWN_MAX + 4];

	if (r->have_ev) {
		yaml_event_delete(&r->ev);
		r->have_ev = false;
	}
	if (r->stop || r->E->give_up) {
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
		perr(r->E, r->file, ev_pos(&r->ev),
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
		perr(r->E, r->file, ev_pos(&r->ev),
		     "anchor &%s: YAML anchors and aliases are not allowed",
		     shown((const char *)anchor, strlen((const char *)anchor), buf, sizeof(buf)));
		r->stop = true;
		return false;
	}
	/* Counted on the event stream, so parsing ends at the first level
	 * too deep and libyaml never holds more than this many levels. */
	if (r->depth > PROFILE_MAX_DEPTH) {
		perr(r->E, r->file, ev_pos(&r->ev),
		     "nesting deeper than %d levels", PROFILE_MAX_DEPTH);
		r->stop = true;
		return false;
	}
	if (tag)
		perr(r->E, r->file, ev_pos(&r->ev), "YAML tags are not allowed (%s)",
		     shown((const char *)tag, strlen((const char *)tag), buf, sizeof(buf)));
	return true;
}

/* Consumes the rest of the node that starts at the current event. */
bool yr_skip(struct yreader *r)
{
	unsigned level = r->depth;

	if (r->ev.type != YAML_SEQUENCE_START_EVENT && r->ev.type != YAML_MAPPING_START_EVENT)
		return true;
	while (r->depth >= level)
		if (!yr_next(r))
			return false;
	return true;
}

const char *sc_text(const struct yreader *r)
{
	return (const char *)r->ev.data.scalar.value;
}

size_t sc_len(const struct yreader *r)
{
	return r->ev.data.scalar.length;
}

bool sc_plain(const struct yreader *r)
{
	return r->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* A double-quoted "\0" puts a NUL inside the value. */
bool sc_has_nul(const struct yreader *r)
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
bool sc_is_null(const struct yreader *r)
{
	static const char *const w[] = { "", "~", "null", "Null", "NULL" };

	return sc_is(r, w, ARRAY_SIZE(w));
}

bool sc_is_bool(const struct yreader *r)
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
bool yr_wrong(struct yreader *r, const char *what, const char *expected)
{
	char buf[SHOWN_MAX + 32];

	perr(r->E, r->file, ev_pos(&r->ev), "%s: expected %s, got %s",
	     what, expected, yr_got(r, buf, sizeof(buf)));
	return yr_skip(r);
}

/* A plain scalar written as a decimal integer: [-]digits, no sign '+', no
 * leading zero (YAML 1.1 reads 0100 as octal), no 0x, no exponent.
 * Reports and skips anything else. */
bool yr_int(struct yreader *r, const char *what, int64_t *v)
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
		perr(r->E, r->file, ev_pos(&r->ev), "%s: integer %s overflows",
		     what, shown(s, sc_len(r), buf, sizeof(buf)));
		return false;
	}
	if (e < 0) {
		perr(r->E, r->file, ev_pos(&r->ev), "%s: expected an integer, got \"%s\"",
		     what, shown(s, sc_len(r), buf, sizeof(buf)));
		return false;
	}
	if (digits[0] == '0' && digits[1]) {
		perr(r->E, r->file, ev_pos(&r->ev),
		     "%s: %s: leading zeros are not allowed (YAML 1.1 reads it as octal)",
		     what, shown(s, sc_len(r), buf, sizeof(buf)));
		return false;
	}
	return true;
}

bool in_range(struct yreader *r, struct pos at, const char *what, const char *noun,
		     int64_t v, int64_t lo, int64_t hi)
{
	if (v >= lo && v <= hi)
		return true;
	perr(r->E, r->file, at, "%s: %s%s%lld is %s (valid: %lld..%lld)", what,
	     noun, *noun ? " " : "", (long long)v,
	     v < 0 && lo >= 0 ? "negative" : "out of range", (long long)lo, (long long)hi);
	return false;
}

/* Text of the current scalar, malloc'd; anything else is reported. */
char *yr_text(struct yreader *r, const char *what)
{
	if (r->ev.type != YAML_SCALAR_EVENT || sc_is_null(r)) {
		yr_wrong(r, what, "text");
		return NULL;
	}
	if (sc_has_nul(r)) {
		perr(r->E, r->file, ev_pos(&r->ev), "%s: text holds a NUL character", what);
		return NULL;
	}
	return xstrndup(sc_text(r), sc_len(r));
}

/* Walks a mapping whose keys must come from names[]: unknown and duplicate
 * fields are reported and skipped; for each other field fn is called with
 * the field's value as the current event and must consume it. */

void yr_fields(struct yreader *r, const char *where, const char *const *names,
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
			perr(r->E, r->file, at, "%s: field names must be text", where);
			if (!yr_skip(r) || !yr_next(r) || !yr_skip(r))
				return;
			continue;
		}
		for (f = 0; f < n && f < ARRAY_SIZE(seen); f++)
			if (!sc_has_nul(r) && strcmp(sc_text(r), names[f]) == 0)
				break;
		if (f == n || f == ARRAY_SIZE(seen)) {
			perr(r->E, r->file, at, "%s%sunknown field %s (expected %s)",
			     where, *where ? ": " : "",
			     shown(sc_text(r), sc_len(r), buf, sizeof(buf)), expected);
		} else if (seen[f].line) {
			perr(r->E, r->file, at, "%s%sduplicate field %s (first at line %u, column %u)",
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

bool yr_open(struct yreader *r, struct perrs *E, const char *file, const char *buf, size_t len)
{
	*r = (struct yreader){ .E = E, .file = file, .buf = buf, .len = len };
	if (!yaml_parser_initialize(&r->parser)) {
		perr(E, file, (struct pos){ 0, 0 }, "out of memory while parsing YAML");
		return false;
	}
	yaml_parser_set_input_string(&r->parser, (const unsigned char *)buf, len);
	return true;
}

void yr_close(struct yreader *r)
{
	if (r->have_ev)
		yaml_event_delete(&r->ev);
	r->have_ev = false;
	yaml_parser_delete(&r->parser);
}
