/* profile: the schema of a qtune profile, version 1: which fields exist,
 * what each value may be (integers strictly, keys canonicalised and values
 * checked against the key table, names and persist.file by one rule), and
 * what one file says (struct pfile) before the include walk merges it. Pure:
 * bytes in, data and FILE:LINE:COL problems out; the YAML events come from
 * profile_yaml.c, files and includes are profile_include.c's, and whether a
 * key exists on the target is profile_check.c's. */
#include "profile_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

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
			perr(r->E, r->file, ev_pos(&r->ev),
			     "%s: {min, max} applies only to integer keys", display);
			yr_skip(r);
			return false;
		}
		yr_fields(r, display, bound_names, 2, bound_field, &b);
		if (r->stop || b.bad)
			return false;
		if (!b.has[0] && !b.has[1]) {
			perr(r->E, r->file, key_at, "%s: {min, max} needs min, max or both", display);
			return false;
		}
		if (b.has[0] && b.has[1] && b.v[0] > b.v[1]) {
			perr(r->E, r->file, key_at, "%s: min %lld is greater than max %lld",
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
			perr(r->E, r->file, ev_pos(&r->ev),
			     "%s: expected %s, got the boolean %s (quote it if you mean the text)",
			     display, expected, shown(sc_text(r), sc_len(r), buf, sizeof(buf)));
		else
			yr_wrong(r, display, expected);
		return false;
	}
	if (sc_has_nul(r)) {
		perr(r->E, r->file, ev_pos(&r->ev), "%s: value holds a NUL character", display);
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
			perr(r->E, r->file, ev_pos(&r->ev), "%s: \"%s\": %s (valid: %lld..%lld each)",
			     display, shown(sc_text(r), sc_len(r), buf, sizeof(buf)), why,
			     (long long)info->min, (long long)info->max);
		else
			perr(r->E, r->file, ev_pos(&r->ev), "%s: \"%s\": %s", display,
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
		perr(r->E, r->file, at, "invalid key: it holds a NUL character");
		goto skip;
	}
	e = key_canonicalize(sc_text(r), path, sizeof(path), &why);
	if (e < 0) {
		perr(r->E, r->file, at, "invalid key \"%s\": %s",
		     shown(sc_text(r), sc_len(r), buf, sizeof(buf)), why);
		goto skip;
	}
	key_display(path, display, sizeof(display));
	for (size_t i = 0; i < pf->nentries; i++) {
		if (strcmp(pf->entries[i].key, path) == 0) {
			perr(r->E, r->file, at, "duplicate key %s (first set at line %u, column %u)",
			     display, pf->entries[i].line, pf->entries[i].col);
			goto skip;
		}
	}
	if (pf->nentries == PROFILE_MAX_KEYS) {
		perr(r->E, r->file, at, "more than %d keys", PROFILE_MAX_KEYS);
		r->stop = true;
		return;
	}
	info = key_lookup(path);
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
			perr(r->E, r->file, ev_pos(&r->ev), "sysctl: keys must be text");
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
				perr(r->E, r->file, at,
				     "listeners.ports: duplicate port %u (first at line %u, column %u)",
				     port, pf->ports[i].line, pf->ports[i].col);
				ok = false;
			}
		}
		if (ok && pf->nports == PROFILE_MAX_PORTS) {
			perr(r->E, r->file, at, "listeners.ports: more than %d ports", PROFILE_MAX_PORTS);
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
			perr(r->E, r->file, at, "listeners.ignore: more than %d ports",
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
		perr(r->E, r->file, at, "persist.file: \"%s\": %s",
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
		perr(r->E, r->file, at,
		     "include: \"%s\" must be a profile name or a path relative to this file", s);
		free(s);
		return;
	}
	if (pf->ninc == PROFILE_MAX_INCLUDES) {
		perr(r->E, r->file, at, "include: more than %d entries", PROFILE_MAX_INCLUDES);
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
			perr(r->E, r->file, at,
			     "qtune: unsupported schema version %lld (this qtune reads version 1)",
			     (long long)v);
		break;
	case F_NAME:
		s = yr_text(r, "name");
		if (s && !profile_name_ok(s)) {
			perr(r->E, r->file, at, "name: \"%s\" must be 1 to %d characters of "
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
			perr(r->E, r->file, at, "description: at most %d characters, "
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
		perr(r->E, r->file, (struct pos){ 1, 1 }, "empty profile");
		return;
	}
	if (!yr_next(r))
		return;
	doc_at = ev_pos(&r->ev);
	if (r->ev.type == YAML_SCALAR_EVENT && sc_is_null(r)) {
		perr(r->E, r->file, doc_at, "empty profile");
		return;
	}
	if (r->ev.type != YAML_MAPPING_START_EVENT) {
		/* Nothing else in such a file can mean anything: stop here,
		 * and quote none of it back (it may be any file at all). */
		perr(r->E, r->file, doc_at,
		     "not a qtune profile: a profile is a mapping of fields (qtune, name, sysctl, ...), not %s",
		     r->ev.type == YAML_SEQUENCE_START_EVENT ? "a list" : "plain text");
		r->stop = true;
		return;
	}
	size_t mark = r->E->d->n;
	size_t nerrors = r->E->nerrors;

	yr_fields(r, "", names, ARRAY_SIZE(names), top_field, pf);
	if (!pf->has_version && !r->E->give_up) {
		/* Not a profile at all (/etc/shadow given by mistake, or by
		 * someone allowed to run qtune through sudo): say only that,
		 * and quote none of its contents back. */
		diags_truncate(r->E->d, mark);
		r->E->nerrors = nerrors;
		perr(r->E, r->file, doc_at,
		     "not a qtune profile: missing field qtune (the schema version); begin the profile with \"qtune: 1\"");
		r->stop = true;
		return;
	}
	if (r->stop)
		return;
	if (!yr_next(r) || !yr_next(r))         /* document end, then stream end? */
		return;
	if (r->ev.type == YAML_DOCUMENT_START_EVENT)
		perr(r->E, r->file, ev_pos(&r->ev),
		     "multiple YAML documents are not allowed in a profile");
}

void pfile_free(struct pfile *pf)
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

void pfile_parse(struct perrs *E, const char *path, const char *buf, size_t len,
		 struct pfile *pf)
{
	struct yreader r;

	pf->path = path;
	if (!yr_open(&r, E, path, buf, len))
		return;
	parse_stream(&r, pf);
	yr_close(&r);
}

bool profile_name_ok(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len <= PROFILE_NAME_MAX && name[0] != '.' &&
	       strspn(name, NAME_CHARS) == len;
}

/* ---- checks on the merged profile ---- */

static void default_name(struct perrs *E, struct profile *p, const char *path)
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
	p->name = xstrndup(base, len);
	if (!profile_name_ok(p->name))
		perr(E, path, (struct pos){ 0, 0 },
		     "the file name \"%s\" is not a valid profile name ([A-Za-z0-9_.-]): add a name field",
		     shown(p->name, strlen(p->name), buf, sizeof(buf)));
}

/* listen() clamps every backlog to somaxconn: a requirement above the
 * profile's own somaxconn could never be met. */
static void check_somaxconn(struct perrs *E, const struct profile *p)
{
	const struct profile_entry *e = profile_entry_for(p, "net/core/somaxconn");
	int64_t cap;

	if (!e)
		return;
	if (e->want.kind == WANT_RANGE && e->want.has_max)
		cap = e->want.max;
	else if (e->want.kind != WANT_EXACT || !e->want.value ||
		 util_parse_i64(e->want.value, &cap) < 0)
		return;
	if (p->has_min_backlog && p->min_backlog > cap)
		perr(E, p->min_backlog_file, (struct pos){ p->min_backlog_line, p->min_backlog_col },
		     "listeners.min_backlog: %lld is above this profile's net.core.somaxconn %lld "
		     "(%s:%u): listen() would clamp it", (long long)p->min_backlog,
		     (long long)cap, e->file, e->line);
	for (size_t i = 0; i < p->nports; i++)
		if (p->ports[i].backlog > cap)
			perr(E, p->ports[i].file, (struct pos){ p->ports[i].line, p->ports[i].col },
			     "listeners.ports.%u: backlog %lld is above this profile's "
			     "net.core.somaxconn %lld (%s:%u): listen() would clamp it",
			     p->ports[i].port, (long long)p->ports[i].backlog, (long long)cap,
			     e->file, e->line);
}

void profile_check_merged(struct perrs *E, struct profile *p, const char *path, bool read_any)
{
	if (!p->name && read_any)
		default_name(E, p, path);
	if (p->nentries > PROFILE_MAX_KEYS)
		perr(E, path, (struct pos){ 0, 0 }, "more than %d keys after includes",
		     PROFILE_MAX_KEYS);
	check_somaxconn(E, p);
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
