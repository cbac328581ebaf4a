/* sysctld_replay: the sysctl.d lines replayed as each boot tool does.
 *
 * The rules are those of systemd-sysctl (src/sysctl/sysctl.c and
 * conf-files in systemd 252) and of procps-ng 4.0.2 `sysctl --system`, as
 * documented in sysctl.d(5) and checked against both (tests/boot_diff): see
 * enum sysctld_tool in sysctld_replay.h for what each does. */
#include "sysctld_replay.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "util.h"

/* ---- keys ---- */

/* glob(3) on /proc/sys, as both tools expand a pattern: a wildcard never
 * matches '/', nor a leading '.' of a name. */
static bool glob_matches(const char *pattern, const char *path)
{
	return fnmatch(pattern, path, FNM_PATHNAME | FNM_PERIOD) == 0;
}

/* ---- lines, as each tool reads them ---- */

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f';
}

static char *strip(char *s)
{
	size_t n;

	while (is_blank(*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_blank(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* The key (or pattern) text as a tool turns it into a path under
 * /proc/sys: dots and slashes swapped when the first separator is a dot,
 * then resolved segment by segment. systemd (path_simplify) drops empty and
 * "." segments and refuses ".."; the kernel, which procps hands the path
 * to, resolves "." and ".." too, but a trailing separator makes it look
 * for a directory and fail. *raw_spelled: no segment needed resolving. */
static int tool_key_path(enum sysctld_tool tool, const char *text, char *out, size_t size,
			 bool *glob, bool *raw_spelled, bool *dotdot, const char **why)
{
	char buf[KEY_PATH_MAX], res[KEY_PATH_MAX], probe[KEY_PATH_MAX];
	const char *first = strpbrk(text, "./");
	bool swap = first && *first == '.';
	size_t len = strlen(text), w = 0;

	*glob = strpbrk(text, "*?[") != NULL;
	*raw_spelled = true;
	*dotdot = false;
	if (len >= sizeof(buf)) {
		*why = "key too long";
		return -ENAMETOOLONG;
	}
	for (size_t i = 0; i <= len; i++)
		buf[i] = swap && (text[i] == '.' || text[i] == '/') ? (text[i] == '.' ? '/' : '.') : text[i];
	if (tool == SYSCTLD_PROCPS && len > 0 && buf[len - 1] == '/') {
		*why = "sysctl --system fails on a trailing separator (the path names no directory)";
		return -EINVAL;
	}
	for (char *seg = buf, *next; seg; seg = next) {
		size_t n;

		next = strchr(seg, '/');
		if (next)
			*next++ = '\0';
		n = strlen(seg);
		if (n == 0 || strcmp(seg, ".") == 0) {
			*raw_spelled = false;
			continue;
		}
		if (strcmp(seg, "..") == 0) {
			*raw_spelled = false;
			*dotdot = true;
			if (tool == SYSCTLD_SYSTEMD) {
				*why = "systemd-sysctl refuses \"..\" in a key";
				return -EINVAL;
			}
			if (w == 0) {
				*why = "key escapes /proc/sys (\"..\")";
				return -EINVAL;
			}
			while (w > 0 && res[w - 1] != '/')
				w--;
			if (w > 0)
				w--;   /* and the separator before the segment */
			continue;
		}
		if (w + n + 2 > sizeof(res)) {
			*why = "key too long";
			return -ENAMETOOLONG;
		}
		if (w)
			res[w++] = '/';
		memcpy(res + w, seg, n);
		w += n;
	}
	res[w] = '\0';
	if (!*glob)
		return key_canonicalize(res, out, size, why);
	/* Wildcards stand in for name characters, so the gate still checks
	 * the segments and every other character of a pattern. */
	for (size_t i = 0; i <= w; i++)
		probe[i] = res[i] && strchr("*?[]!^", res[i]) ? 'x' : res[i];
	int r = key_canonicalize(probe, out, size, why);
	if (r < 0)
		return r;
	if (w >= size) {
		*why = "key too long";
		return -ENAMETOOLONG;
	}
	memcpy(out, res, w + 1);
	return 0;
}

int sysctld_key_path(const char *text, bool allow_glob, char *out, size_t size, bool *glob,
		     const char **why)
{
	bool raw, dotdot;

	if (!allow_glob && strpbrk(text, "*?[")) {
		*why = "a glob is not a key";
		*glob = true;
		return -EINVAL;
	}
	return tool_key_path(SYSCTLD_SYSTEMD, text, out, size, glob, &raw, &dotdot, why);
}

int sysctld_read_line(enum sysctld_tool tool, char *text, struct sysctld_line *out,
		      const char **why)
{
	char *s = strip(text), *eq, *key;

	memset(out, 0, sizeof(*out));
	out->col = (unsigned)(s - text) + 1;
	if (!*s || *s == '#' || *s == ';')
		return 0;
	eq = strchr(s, '=');
	if (eq)
		*eq = '\0';
	key = s;
	if (*key == '-') {
		out->ignore_failure = eq != NULL;
		key++;
		/* systemd strips the key after the dash; procps keeps the
		 * blank and asks the kernel for "/proc/sys/ KEY" */
		if (tool == SYSCTLD_PROCPS && is_blank(*key)) {
			*why = "sysctl --system reads the blank after '-' as part of the key, and finds no such key";
			return -EINVAL;
		}
	} else if (!eq) {
		*why = "line is not an assignment (KEY = VALUE, or -KEY to exclude)";
		return -EINVAL;
	}
	key = strip(key);
	if (!*key) {
		*why = "empty key";
		return -EINVAL;
	}
	if (tool_key_path(tool, key, out->key, sizeof(out->key), &out->glob, &out->raw_spelled,
			  &out->dotdot, why) < 0)
		return -EINVAL;
	out->value = eq ? strip(eq + 1) : NULL;
	return 1;
}

void sysctld_config_free(struct sysctld_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nfiles; i++) {
		free(c->files[i].name);
		free(c->files[i].path);
		free(c->files[i].disk_path);
		free(c->files[i].link);
	}
	for (size_t i = 0; i < c->nentries; i++) {
		free(c->entries[i].key);
		free(c->entries[i].value);
	}
	for (size_t t = 0; t < SYSCTLD_NTOOLS; t++)
		free(c->order[t]);
	for (size_t i = 0; i < c->nstored; i++)
		free(c->stored[i]);
	free(c->stored);
	free(c->files);
	free(c->entries);
	free(c);
}


/* ---- resolving ---- */

/* Walks the lines one tool reads, in the order it reads them. */
struct entry_iter {
	const struct sysctld_config *c;
	enum sysctld_tool tool;
	size_t o, i;
};

static const struct sysctld_entry *next_entry(struct entry_iter *it)
{
	const struct sysctld_config *c = it->c;

	while (it->o < c->norder[it->tool]) {
		const struct sysctld_file *f = &c->files[c->order[it->tool][it->o]];

		while (it->i < f->count) {
			const struct sysctld_entry *e = &c->entries[f->first + it->i++];

			if (e->tools & SYSCTLD_TOOL_BIT(it->tool))
				return e;
		}
		it->o++;
		it->i = 0;
	}
	return NULL;
}

static bool same_value(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The writes one tool makes to path, in order. */
struct writes {
	const struct sysctld_entry **v;
	size_t n;
	const struct sysctld_entry *excluded;   /* the "-KEY" that keeps it off */
};

static void writes_add(struct writes *w, const struct sysctld_entry *e)
{
	w->v = xreallocarray(w->v, w->n + 1, sizeof(*w->v));
	w->v[w->n++] = e;
}

/* systemd's ordered map, restricted to the entries that can touch path:
 * path itself and the patterns matching it. */
static void writes_systemd(const struct sysctld_config *c, const char *path, struct writes *w)
{
	const struct sysctld_entry *concrete = NULL;
	struct slot {
		const struct sysctld_entry *e;
		size_t seq;
	} *slots = NULL;
	size_t nslots = 0, seq = 0;
	struct entry_iter it = { c, SYSCTLD_SYSTEMD, 0, 0 };
	const struct sysctld_entry *e;

	while ((e = next_entry(&it))) {
		if (!e->glob) {
			if (strcmp(e->key, path) == 0)
				concrete = e;
			continue;
		}
		if (!glob_matches(e->key, path))
			continue;
		size_t s = 0;
		while (s < nslots && strcmp(slots[s].e->key, e->key) != 0)
			s++;
		if (s < nslots && same_value(slots[s].e->value, e->value))
			continue;   /* keeps its place, and its line */
		if (s == nslots)
			slots = xreallocarray(slots, ++nslots, sizeof(*slots));
		slots[s] = (struct slot){ e, ++seq };
	}
	if (concrete) {
		if (concrete->value)
			writes_add(w, concrete);
		else
			w->excluded = concrete;
	} else {
		for (size_t k = 1; k <= seq; k++)
			for (size_t s = 0; s < nslots; s++)
				if (slots[s].seq == k && slots[s].e->value)
					writes_add(w, slots[s].e);
	}
	free(slots);
}

/* procps writes line by line; a glob skips path when any line spells it
 * exactly (an assignment or an exclusion). */
static void writes_procps(const struct sysctld_config *c, const char *path, struct writes *w)
{
	const struct sysctld_entry *override = NULL, *e;
	struct entry_iter it = { c, SYSCTLD_PROCPS, 0, 0 };

	while ((e = next_entry(&it)))
		if (!e->glob && e->raw_spelled && strcmp(e->key, path) == 0)
			override = e;
	it = (struct entry_iter){ c, SYSCTLD_PROCPS, 0, 0 };
	while ((e = next_entry(&it))) {
		if (!e->value)
			continue;
		if (!e->glob ? strcmp(e->key, path) == 0
			     : glob_matches(e->key, path) && !(override && e->raw_spelled))
			writes_add(w, e);
	}
	if (!w->n && override && !override->value)
		w->excluded = override;
}

/* A value the lookup returns, owned by the configuration. */
static const char *stored_text(const struct sysctld_config *c, const char *text)
{
	struct sysctld_config *m = (struct sysctld_config *)c;   /* the pool only */

	for (size_t i = 0; i < m->nstored; i++)
		if (strcmp(m->stored[i], text) == 0)
			return m->stored[i];
	m->stored = xreallocarray(m->stored, m->nstored + 1, sizeof(*m->stored));
	m->stored[m->nstored] = xstrdup(text);
	return m->stored[m->nstored++];
}

/* What the kernel keeps of one write: 1 (text in out) or 0 refused. */
static int kernel_takes(const char *path, const char *value, char *out, size_t size)
{
	int r = key_kernel_store(path, value, out, size);

	if (r != -ENOENT)
		return r;
	/* A key qtune does not know: stored as written. An empty value is
	 * refused by every integer handler, which most keys have. */
	snprintf(out, size, "%s", value);
	util_normalize_ws(out);
	return *out ? 1 : 0;
}

int sysctld_lookup(const struct sysctld_config *c, const char *key, enum sysctld_tool tool,
		   struct sysctld_value *out)
{
	char path[KEY_PATH_MAX], text[KEY_VALUE_MAX];
	const struct sysctld_entry *taken = NULL, *refused = NULL, *e;
	const char *why, *value = NULL;
	struct writes w = { 0 };
	bool glob;

	memset(out, 0, sizeof(*out));
	if (!key || sysctld_key_path(key, false, path, sizeof(path), &glob, &why) < 0)
		return -EINVAL;
	if (tool == SYSCTLD_SYSTEMD)
		writes_systemd(c, path, &w);
	else
		writes_procps(c, path, &w);
	for (size_t i = 0; i < w.n; i++) {
		if (kernel_takes(path, w.v[i]->value, text, sizeof(text))) {
			taken = w.v[i];
			value = stored_text(c, text);
			refused = NULL;
		} else {
			refused = w.v[i];
		}
	}
	free(w.v);
	e = taken ? taken : refused ? refused : w.excluded;
	if (!e)
		return 0;
	out->entry = e;
	out->file = &c->files[e->file];
	out->line = e->line;
	out->value = value;
	out->from_glob = e->glob;
	out->ignore_failure = e->ignore_failure;
	out->excluded = !taken && !refused;
	out->refused = refused;
	out->refused_file = refused ? &c->files[refused->file] : NULL;
	return value ? 1 : 0;
}

int sysctld_resolve(const struct sysctld_config *c, const char *key, struct sysctld_resolved *out)
{
	int a, b;

	memset(out, 0, sizeof(*out));
	a = sysctld_lookup(c, key, SYSCTLD_SYSTEMD, &out->by[SYSCTLD_SYSTEMD]);
	if (a < 0)
		return a;
	b = sysctld_lookup(c, key, SYSCTLD_PROCPS, &out->by[SYSCTLD_PROCPS]);
	if (a != b) {
		out->disagree = true;
	} else if (a == 1) {
		char path[KEY_PATH_MAX];
		const char *why;
		bool glob;

		sysctld_key_path(key, false, path, sizeof(path), &glob, &why);
		out->disagree = !key_values_equal(key_lookup(path), out->by[0].value,
						  out->by[1].value);
	}
	return 0;
}

int sysctld_history(const struct sysctld_config *c, const char *key, enum sysctld_tool tool,
		    const struct sysctld_entry **v, size_t max)
{
	char path[KEY_PATH_MAX];
	const char *why;
	size_t n = 0;
	bool glob;

	if (!key || sysctld_key_path(key, false, path, sizeof(path), &glob, &why) < 0)
		return -EINVAL;
	struct entry_iter it = { c, tool, 0, 0 };
	const struct sysctld_entry *e;

	while ((e = next_entry(&it))) {
		bool concerns = e->glob ? glob_matches(e->key, path) : strcmp(e->key, path) == 0;

		if (!concerns)
			continue;
		if (n < max)
			v[n] = e;
		n++;
	}
	return n > INT_MAX ? INT_MAX : (int)n;
}
