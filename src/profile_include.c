/* profile_include: the files of a profile. Finds a profile by name on the
 * search path (ROOT/etc/qtune/profiles, then ROOT/usr/share/qtune/profiles,
 * walked here only), reads each file once (identity by inode, bounded
 * size), follows includes depth first, refuses cycles, and merges every
 * file after its includes so that later files win, key by key and port by
 * port. The checksum covers every byte read, in load order. */
#include "profile_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "trust.h"
#include "util.h"

/* A file read during this load; identity by inode, so "a.yaml",
 * "./a.yaml" and a symlink to it are the same file. */
struct loaded {
	dev_t dev;
	ino_t ino;
	bool done;              /* merged; false while on the include chain */
	char *path;
};

struct loader {
	const char *root;       /* where the search path is, "" for "/" */
	enum qt_level trust;    /* the trust walk's level: refuse, warn, or judge nothing */
	bool refused;           /* the walk refused a file (and said why) */
	struct perrs E;
	struct profile *p;
	struct loaded files[1 + PROFILE_MAX_INCLUDES];
	size_t nfiles;
	size_t chain[1 + PROFILE_MAX_INCLUDES];   /* indices into files */
	SHA256_CTX sha;
};
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
				perr(&L->E, pf->path, pf->ignore[j].at,
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
			perr(&L->E, pf->path, (struct pos){ q->line, q->col },
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
			perr(&L->E, pf->path, pf->ignore[i].at,
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

/* The search path, local profiles first. */
static const char *const search_path[] = { PROFILE_DIR_ETC, PROFILE_DIR_USR };

/* NAME.yaml on the search path, or -ENOENT. */
static int find_named(const char *root, const char *name, char **path)
{
	struct stat st;

	for (size_t i = 0; i < ARRAY_SIZE(search_path); i++) {
		char *rel = xasprintf("%s/%s.yaml", search_path[i], name);
		char *p = util_rooted(root, rel);

		free(rel);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			*path = p;
			return 0;
		}
		free(p);
	}
	return -ENOENT;
}

static int listing_by_name(const void *a, const void *b)
{
	return strcmp(((const struct profile_listing *)a)->name,
		      ((const struct profile_listing *)b)->name);
}

static bool listed(const struct profile_listing *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return true;
	return false;
}

int profile_list(const char *root, struct profile_listing **out, size_t *n)
{
	struct profile_listing *v = xcalloc(PROFILE_LIST_MAX, sizeof(*v));
	size_t count = 0;

	for (size_t i = 0; i < ARRAY_SIZE(search_path); i++) {
		char *dir = util_rooted(root, search_path[i]);
		DIR *dh = opendir(dir);
		struct dirent *de;

		while (dh && (de = readdir(dh)) && count < PROFILE_LIST_MAX) {
			size_t len = strlen(de->d_name);
			char *name;

			if (len <= 5 || !util_has_suffix(de->d_name, ".yaml"))
				continue;
			name = xstrndup(de->d_name, len - 5);
			/* A name profile_find would refuse is no profile it finds. */
			if (!profile_name_ok(name) || listed(v, count, name)) {
				free(name);
				continue;
			}
			v[count].name = name;
			v[count++].path = xasprintf("%s/%s", dir, de->d_name);
		}
		if (dh)
			closedir(dh);
		free(dir);
	}
	qsort(v, count, sizeof(*v), listing_by_name);
	*out = v;
	*n = count;
	return 0;
}

void profile_list_free(struct profile_listing *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		free(v[i].path);
	}
	free(v);
}

static char *search_path_text(const char *root)
{
	char *etc = util_rooted(root, PROFILE_DIR_ETC);
	char *usr = util_rooted(root, PROFILE_DIR_USR);
	char *s = xasprintf("%s or %s", etc, usr);

	free(etc);
	free(usr);
	return s;
}

int profile_find(const char *root, const char *text, char **path,
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
	if (find_named(root, text, path) == 0)
		return 0;
	where = search_path_text(root);
	diags_error(d, "no profile %s: %s.yaml is not in %s", text, text, where);
	free(where);
	return -ENOENT;
}

/* An include's path: a bare name on the search path, anything else
 * relative to the directory of the including file (*beside). NULL when
 * not found. */
static char *resolve_include(struct loader *L, const struct pfile *pf, const struct pf_include *inc,
			     bool *beside)
{
	char buf[SHOWN_MAX + 4];
	char *path = NULL, *where;

	*beside = is_path(inc->text);
	if (*beside) {
		const char *slash = strrchr(pf->path, '/');

		if (!slash)
			return xstrdup(inc->text);
		return xasprintf("%.*s%s", (int)(slash + 1 - pf->path), pf->path, inc->text);
	}
	if (!profile_name_ok(inc->text)) {
		perr(&L->E, pf->path, inc->at, "include: \"%s\" is neither a profile name nor a path",
		     shown(inc->text, strlen(inc->text), buf, sizeof(buf)));
		return NULL;
	}
	if (find_named(L->root, inc->text, &path) == 0)
		return path;
	where = search_path_text(L->root);
	perr(&L->E, pf->path, inc->at, "include %s: %s.yaml is not in %s", inc->text, inc->text, where);
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
	perr(&L->E, from, from_at, "include cycle: %s", s);
	free(s);
}

/* Reads, parses and merges a file after its includes. path is the file
 * as messages name it (as given, or beside the including file's name);
 * it is opened by the trust walk (trust_open_file), from "/" or, for an
 * include beside its file, as open_path from that file's judged directory
 * fd at: what is parsed is read from the fd that was judged. from is the
 * including file (NULL for the top level) and from_at the include entry. */
static void visit(struct loader *L, const struct trust_file *at, const char *open_path,
		  const char *path, size_t depth, const char *from, struct pos from_at)
{
	struct pfile pf = { .path = path };
	struct trust_file tf;
	struct loaded *f;
	const char *why;
	struct pos pos;
	char *buf = NULL;
	size_t len = 0;
	int e;

	if (L->E.give_up)
		return;
	e = trust_open_file(at ? at->dirfd : AT_FDCWD, at ? at->dir : NULL, open_path, L->trust,
			    L->E.d, &tf);
	if (e == -EPERM || e == -ELOOP) {
		L->refused = true;      /* the walk said why */
		return;
	}
	if (e == -EINVAL) {
		perr(&L->E, path, (struct pos){ 0, 0 }, "cannot read profile: not a regular file");
		return;
	}
	if (e < 0) {
		if (from)
			perr(&L->E, from, from_at, "include: cannot read %s: %s", path, strerror(-e));
		else
			perr(&L->E, path, (struct pos){ 0, 0 }, "cannot read profile: %s", strerror(-e));
		return;
	}
	for (size_t i = 0; i < L->nfiles; i++) {
		if (L->files[i].dev != tf.st.st_dev || L->files[i].ino != tf.st.st_ino)
			continue;
		if (!L->files[i].done)
			report_cycle(L, depth, i, from, from_at);
		trust_file_close(&tf);
		return;         /* included before: each file counts once */
	}
	if (L->nfiles == ARRAY_SIZE(L->files)) {
		perr(&L->E, from, from_at, "too many included files (at most %d per profile)",
		     PROFILE_MAX_INCLUDES);
		trust_file_close(&tf);
		return;
	}
	/* A huge file is refused without being read. */
	e = tf.st.st_size > PROFILE_MAX_BYTES ? -EFBIG
	  : util_read_fd(tf.fd, PROFILE_MAX_BYTES, &buf, &len);
	if (e == -EFBIG) {
		perr(&L->E, path, (struct pos){ 0, 0 }, "profile too large (more than %d bytes)",
		     PROFILE_MAX_BYTES);
		trust_file_close(&tf);
		return;
	}
	if (e < 0) {
		perr(&L->E, path, (struct pos){ 0, 0 }, "cannot read profile: %s", strerror(-e));
		trust_file_close(&tf);
		return;
	}
	f = &L->files[L->nfiles];
	*f = (struct loaded){ .dev = tf.st.st_dev, .ino = tf.st.st_ino, .path = xstrdup(path) };
	L->chain[depth] = L->nfiles++;
	pf.path = f->path;
	SHA256Update(&L->sha, (const uint8_t *)buf, len);

	if (len == 0)
		perr(&L->E, f->path, (struct pos){ 1, 1 }, "empty profile");
	else if (yr_text_check(buf, len, &pos, &why) < 0)
		perr(&L->E, f->path, pos, "not a text file (%s)", why);
	else
		pfile_parse(&L->E, f->path, buf, len, &pf);
	free(buf);

	for (size_t i = 0; i < pf.ninc && !L->E.give_up; i++) {
		bool beside;
		char *inc = resolve_include(L, &pf, &pf.inc[i], &beside);

		if (inc)
			visit(L, beside ? &tf : NULL, beside ? pf.inc[i].text : inc, inc, depth + 1,
			      f->path, pf.inc[i].at);
		free(inc);
	}
	trust_file_close(&tf);
	merge_file(L, &pf);
	if (depth == 0) {
		L->p->name = pf.name;
		L->p->description = pf.description;
		pf.name = pf.description = NULL;
	}
	f->done = true;
	pfile_free(&pf);
}
int profile_load(const char *root, const char *path, enum qt_level trust,
		 struct profile **out, struct qt_diags *d)
{
	struct loader L = { .root = root, .trust = trust, .E = { .d = d } };

	*out = NULL;
	L.p = xcalloc(1, sizeof(*L.p));
	L.p->path = xstrdup(path);
	SHA256Init(&L.sha);

	visit(&L, NULL, path, path, 0, NULL, (struct pos){ 0, 0 });

	profile_check_merged(&L.E, L.p, path, L.nfiles > 0);

	L.p->files = xcalloc(L.nfiles, sizeof(*L.p->files));
	for (size_t i = 0; i < L.nfiles; i++)
		L.p->files[i] = L.files[i].path;
	L.p->nfiles = L.nfiles;
	SHA256End(&L.sha, L.p->checksum);

	if (L.E.nerrors > 0 || L.refused) {
		profile_free(L.p);
		return L.refused ? -EPERM : -EINVAL;
	}
	*out = L.p;
	return 0;
}
