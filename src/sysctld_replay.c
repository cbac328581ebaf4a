/* sysctld_replay: the sysctl.d lines replayed as each boot tool does.
 *
 * The rules are those of systemd-sysctl (src/sysctl/sysctl.c and
 * conf-files in systemd 252) and of procps-ng `sysctl --system`, as
 * documented in sysctl.d(5) and checked against both programs: see
 * enum sysctld_tool in sysctld_replay.h for what each does. */
#include "sysctld_replay.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "util.h"

/* ---- keys ---- */

/* key_canonicalize() is the gate: a glob is checked with its wildcards
 * standing in for a name. */
int sysctld_key_path(const char *text, bool allow_glob, char *out, size_t size, bool *glob,
		     const char **why)
{
	char buf[KEY_PATH_MAX], probe[KEY_PATH_MAX];
	const char *first = strpbrk(text, "./");
	bool swap = first && *first == '.';
	size_t w = 0;

	*glob = strpbrk(text, "*?[") != NULL;
	if (*glob && !allow_glob) {
		*why = "a glob is not a key";
		return -EINVAL;
	}
	if (strlen(text) >= sizeof(buf)) {
		*why = "key too long";
		return -ENAMETOOLONG;
	}
	for (const char *p = text; *p; p++) {
		char ch = *p;

		if (swap && (ch == '.' || ch == '/'))
			ch = ch == '.' ? '/' : '.';
		if (ch == '/' && (w == 0 || buf[w - 1] == '/'))
			continue;
		buf[w++] = ch;
	}
	while (w > 0 && buf[w - 1] == '/')
		w--;
	buf[w] = '\0';

	if (!*glob)
		return key_canonicalize(buf, out, size, why);

	/* Wildcards stand in for name characters, so the gate still checks
	 * the segments and every other character of a pattern. */
	for (size_t i = 0; i <= w; i++)
		probe[i] = strchr("*?[]!^", buf[i]) && buf[i] ? 'x' : buf[i];
	int r = key_canonicalize(probe, out, size, why);
	if (r < 0)
		return r;
	if (w >= size) {
		*why = "key too long";
		return -ENAMETOOLONG;
	}
	memcpy(out, buf, w + 1);
	return 0;
}

/* glob(3) on /proc/sys, as both tools expand a pattern: a wildcard never
 * matches '/', nor a leading '.' of a name. */
static bool glob_matches(const char *pattern, const char *path)
{
	return fnmatch(pattern, path, FNM_PATHNAME | FNM_PERIOD) == 0;
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

		if (it->i < f->count)
			return &c->entries[f->first + it->i++];
		it->o++;
		it->i = 0;
	}
	return NULL;
}

static bool same_value(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* systemd keeps one ordered map of keys and patterns: a concrete key set
 * anywhere (even by "-KEY", which sets "nothing") keeps every glob off it;
 * among globs, the one last put in the map wins, and re-assigning a
 * pattern its same value keeps its old place. */
static const struct sysctld_entry *decide_systemd(const struct sysctld_config *c, const char *path)
{
	const struct sysctld_entry *concrete = NULL, *best = NULL;
	struct slot {
		const struct sysctld_entry *e;
		size_t seq;
	} *slots = NULL;
	size_t nslots = 0, seq = 0, best_seq = 0;

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
		if (s < nslots && same_value(slots[s].e->value, e->value)) {
			slots[s].e = e;
			continue;
		}
		if (s == nslots)
			slots = xreallocarray(slots, ++nslots, sizeof(*slots));
		slots[s] = (struct slot){ e, ++seq };
	}
	if (concrete) {
		free(slots);
		return concrete;
	}
	for (size_t s = 0; s < nslots; s++) {
		if (slots[s].e->value && slots[s].seq > best_seq) {
			best = slots[s].e;
			best_seq = slots[s].seq;
		}
	}
	free(slots);
	return best;
}

/* procps writes every explicit assignment in turn; a glob skips a key that
 * has an explicit line or matches an exclusion anywhere in the list. */
static const struct sysctld_entry *decide_procps(const struct sysctld_config *c, const char *path)
{
	const struct sysctld_entry *explicit = NULL, *excluded = NULL, *glob = NULL;

	struct entry_iter it = { c, SYSCTLD_PROCPS, 0, 0 };
	const struct sysctld_entry *e;

	while ((e = next_entry(&it))) {
		if (!e->value) {
			if (fnmatch(e->key, path, 0) == 0)
				excluded = e;
		} else if (!e->glob) {
			if (strcmp(e->key, path) == 0)
				explicit = e;
		} else if (glob_matches(e->key, path)) {
			glob = e;
		}
	}
	return explicit ? explicit : excluded ? excluded : glob;
}

int sysctld_lookup(const struct sysctld_config *c, const char *key, enum sysctld_tool tool,
		   struct sysctld_value *out)
{
	char path[KEY_PATH_MAX];
	const struct sysctld_entry *e;
	const char *why;
	bool glob;

	memset(out, 0, sizeof(*out));
	if (!key || sysctld_key_path(key, false, path, sizeof(path), &glob, &why) < 0)
		return -EINVAL;
	e = tool == SYSCTLD_SYSTEMD ? decide_systemd(c, path) : decide_procps(c, path);
	if (!e)
		return 0;
	out->entry = e;
	out->file = &c->files[e->file];
	out->line = e->line;
	out->value = e->value;
	out->from_glob = e->glob;
	out->ignore_failure = e->ignore_failure;
	return e->value ? 1 : 0;
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

		if (!concerns && tool == SYSCTLD_PROCPS && !e->value)
			concerns = fnmatch(e->key, path, 0) == 0;
		if (!concerns)
			continue;
		if (n < max)
			v[n] = e;
		n++;
	}
	return n > INT_MAX ? INT_MAX : (int)n;
}
