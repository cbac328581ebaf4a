/* cmd_common: load → read → plan, relisten runs, and plan rendering. */
#include "cmd_common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keys.h"
#include "landlock.h"
#include "netstat.h"
#include "persist.h"
#include "profile_check.h"
#include "relisten_report.h"
#include "state.h"
#include "sysctl.h"
#include "sysctld.h"
#include "trust.h"
#include "util.h"

int cmd_load_profile(struct qt_ctx *ctx, const char *text, enum qt_level trust_level,
		     struct profile **out)
{
	char *path = NULL;
	int r = profile_find(ctx->root, text, &path, &ctx->diags);

	if (r < 0)
		return r;
	r = profile_load(ctx->root, path, trust_level, out, &ctx->diags);
	free(path);
	if (r < 0)
		return r;
	if (ctx->procsys_fd >= 0)
		r = profile_check_keys(*out, ctx->procsys_fd, &ctx->diags);
	if (r < 0) {
		profile_free(*out);
		*out = NULL;
	}
	return r;
}

int cmd_build_plan(struct qt_ctx *ctx, const struct profile *p, struct plan **out)
{
	char **current = xcalloc(p->nentries, sizeof(*current));
	char value[KEY_VALUE_MAX], shown[KEY_PATH_MAX];
	int r;

	bool unreadable = false;

	for (size_t i = 0; i < p->nentries; i++) {
		const struct profile_entry *e = &p->entries[i];

		r = sysctl_read(ctx->procsys_fd, e->key, value, sizeof(value));
		if (r == 0) {
			current[i] = xstrdup(value);
			continue;
		}
		unreadable = true;
		key_display(e->key, shown, sizeof(shown));
		if (r == -ENOENT && !key_is_per_netns(e->key) && ctx->netns_initial != 1)
			diags_add(&ctx->diags, QT_LEVEL_ERROR, e->file, e->line, e->col,
				  "%s is host-wide and does not exist in this network namespace (only in the initial one)",
				  shown);
		else
			diags_add(&ctx->diags, QT_LEVEL_ERROR, e->file, e->line, e->col,
				  "%s: cannot read the running value: %s", shown, strerror(-r));
	}
	/* Each unreadable key is reported once, here. */
	r = unreadable ? -EINVAL : plan_build(p, current, out, &ctx->diags);
	for (size_t i = 0; i < p->nentries; i++)
		free(current[i]);
	free(current);
	return r;
}

void cmd_warn_global_keys(struct qt_ctx *ctx, const struct profile *p)
{
	char shown[KEY_PATH_MAX];

	if (ctx->netns_initial == 1)
		return;
	for (size_t i = 0; i < p->nentries; i++) {
		const struct profile_entry *e = &p->entries[i];

		if (key_is_per_netns(e->key))
			continue;
		key_display(e->key, shown, sizeof(shown));
		diags_add(&ctx->diags, QT_LEVEL_WARN, e->file, e->line, e->col,
			  "%s is host-wide: apply in this network namespace refuses it without --allow-global",
			  shown);
	}
}

/* The third column: what the profile asks for, or (rollback) the value
 * the record restores. */
static void item_wanted(const struct plan_item *it, char *buf, size_t size)
{
	if (it->entry)
		plan_describe_want(&it->entry->want, buf, size);
	else    /* read from the kernel when the apply ran */
		util_escape(buf, size, it->target, strlen(it->target));
}

void cmd_render_plan_text(const struct qt_ctx *ctx, const struct plan *plan, enum plan_view view)
{
	const char *heading = view == PLAN_ROLLBACK ? "RESTORE" : "PROFILE";
	const char *changed = view == PLAN_CHECK ? "drift" : "change";
	char shown[KEY_PATH_MAX], want[KEY_VALUE_MAX], run[KEY_VALUE_MAX];
	int wkey = 3, wrun = 7, wwant = (int)strlen(heading);

	for (size_t i = 0; i < plan->n; i++) {
		const struct plan_item *it = &plan->items[i];
		int l;

		key_display(it->key, shown, sizeof(shown));
		if ((l = (int)strlen(shown)) > wkey)
			wkey = l;
		/* A running value is the kernel's text: a string key may hold
		 * anything (a hostname, say). */
		util_escape(run, sizeof(run), it->current, strlen(it->current));
		if ((l = (int)strlen(run)) > wrun)
			wrun = l;
		item_wanted(it, want, sizeof(want));
		if ((l = (int)strlen(want)) > wwant)
			wwant = l;
	}
	fprintf(ctx->out, "%-*s  %-*s  %-*s  %s\n", wkey, "KEY", wrun, "RUNNING", wwant,
		heading, "STATUS");
	for (size_t i = 0; i < plan->n; i++) {
		const struct plan_item *it = &plan->items[i];

		key_display(it->key, shown, sizeof(shown));
		item_wanted(it, want, sizeof(want));
		util_escape(run, sizeof(run), it->current, strlen(it->current));
		fprintf(ctx->out, "%-*s  %-*s  %-*s  %s%s%s", wkey, shown, wrun, run,
			wwant, want, output_color(ctx->color, it->change ? OUT_YELLOW : OUT_GREEN),
			it->change ? changed : "ok", output_color(ctx->color, OUT_RESET));
		/* A profile may accept a range; the target is the one value written.
		 * A rollback's third column is that value already. */
		if (it->change && it->entry)
			fprintf(ctx->out, " -> %s", it->target);
		fputc('\n', ctx->out);
	}
}

void cmd_render_plan_json(struct jw *w, const struct plan *plan)
{
	char shown[KEY_PATH_MAX], want[64];

	jw_key(w, "keys");
	jw_array_begin(w);
	for (size_t i = 0; i < plan->n; i++) {
		const struct plan_item *it = &plan->items[i];

		key_display(it->key, shown, sizeof(shown));
		jw_object_begin(w);
		jw_kstring(w, "key", shown);
		jw_kstring(w, "running", it->current);
		if (it->entry) {
			plan_describe_want(&it->entry->want, want, sizeof(want));
			jw_kstring(w, "wanted", want);
			jw_kstring(w, "file", it->entry->file);
			jw_kint(w, "line", it->entry->line);
		}
		jw_kstring(w, "target", it->target);
		jw_kbool(w, "change", it->change);
		jw_kbool(w, "per_netns", key_is_per_netns(it->key));
		jw_object_end(w);
	}
	jw_array_end(w);
}

/* ROOT/etc/sysctl.d, reached through no symlink beneath ROOT and judged
 * all the way (trust_open_beneath): boot applies what is in it. */
static int persist_dir(struct qt_ctx *ctx, bool create, int *dfd, char **disk)
{
	int r;

	*disk = util_rooted(ctx->root, SYSCTLD_ETC);
	r = trust_open_beneath(ctx->root, SYSCTLD_ETC, create ? 0755 : 0, QT_LEVEL_ERROR,
			       &ctx->diags, dfd);
	if (r < 0 && r != -EPERM && r != -ELOOP && !(r == -ENOENT && !create))
		diags_add(&ctx->diags, QT_LEVEL_ERROR, *disk, 0, 0, "cannot open: %s", strerror(-r));
	if (r < 0) {
		free(*disk);
		*disk = NULL;
	}
	return r;
}

int cmd_persist_read(struct qt_ctx *ctx, const char *name, char **old, size_t *len)
{
	char *dir;
	int dfd, r;

	*old = NULL;
	*len = 0;
	r = persist_dir(ctx, false, &dfd, &dir);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	r = persist_read(dfd, name, old, len);
	if (r == -ENOENT)
		r = 0;
	else if (r < 0) {
		char *shown = xasprintf("%s/%s", dir, name);

		diags_add(&ctx->diags, QT_LEVEL_ERROR, shown, 0, 0, "%s",
			  r == -ELOOP ? "is a symlink: refusing to write through it" : strerror(-r));
		free(shown);
	}
	close(dfd);
	free(dir);
	return r;
}

int cmd_persist_put(struct qt_ctx *ctx, const char *name, const char *content, size_t len)
{
	char *dir;
	int dfd, r;

	r = persist_dir(ctx, content != NULL, &dfd, &dir);
	if (r < 0)
		return r == -ENOENT && !content ? 0 : r;
	r = content ? persist_write(dfd, dir, name, content, len, &ctx->diags)
		    : persist_remove(dfd, dir, name, &ctx->diags);
	close(dfd);
	free(dir);
	return r;
}

int cmd_parse_backlog(struct qt_ctx *ctx, const char *value, int64_t *backlog)
{
	*backlog = 0;
	if (value && (util_parse_i64(value, backlog) < 0 || *backlog < 1 || *backlog > INT_MAX)) {
		diags_error(&ctx->diags, "--backlog %s: expected a backlog from 1 to %d", value, INT_MAX);
		*backlog = 0;
		return -EINVAL;
	}
	return 0;
}

int cmd_relisten_run(struct qt_ctx *ctx, const struct profile *p, struct audit *a,
		     enum relisten_mode mode, int64_t backlog, bool dry_run, struct relisten_run *run)
{
	struct relisten_target *t = NULL;
	size_t n = 0;
	int r;

	memset(run, 0, sizeof(*run));
	relisten_plan(&a->set, &a->findings, mode, a->limits.somaxconn_after, backlog, &t, &n);
	r = relisten_execute(ctx, &a->set, t, n, dry_run, &run->results, &ctx->diags);
	free(t);
	if (r < 0)
		return r;
	run->ran = true;
	if (run->results.nfailed)
		diags_warn(&ctx->diags, "%zu listener%s not raised: see the restart advice",
			   run->results.nfailed, run->results.nfailed == 1 ? "" : "s");
	if (!dry_run && run->results.nraised) {
		int64_t before = a->limits.somaxconn_before;

		run->made_on = *a;
		run->moved = true;
		r = audit_run(ctx, p, before, -1, a);
	}
	return r;
}

void cmd_relisten_forget(struct qt_ctx *ctx, const struct relisten_run *run, bool take_lock)
{
	uint64_t *raised;
	size_t nr = 0;

	if (!run->ran || run->results.dry_run || !run->results.nraised)
		return;
	raised = xcalloc(run->results.nraised, sizeof(*raised));
	for (size_t i = 0; i < run->results.n; i++)
		if (run->results.v[i].status == RELISTEN_RAISED && nr < run->results.nraised)
			raised[nr++] = run->results.v[i].inode;
	state_forget_sockets(ctx, raised, nr, take_lock, &ctx->diags);
	free(raised);
}

static const struct listener_set *results_set(const struct relisten_run *run,
					      const struct audit *a)
{
	return run->moved ? &run->made_on.set : &a->set;
}

void cmd_render_relisten_text(const struct qt_ctx *ctx, const struct relisten_run *run,
			       const struct audit *a)
{
	if (run->ran)
		relisten_render_text(ctx, ctx->out, results_set(run, a), &run->results);
}

void cmd_render_relisten_json(struct jw *w, const struct relisten_run *run,
			       const struct audit *a)
{
	if (run->ran)
		relisten_render_json(w, results_set(run, a), &run->results);
}

void relisten_run_free(struct relisten_run *run)
{
	relisten_results_free(&run->results);
	if (run->moved)
		audit_free(&run->made_on);
	run->moved = false;
}

void cmd_prom_gather(struct qt_ctx *ctx, struct prom_inputs *in)
{
	char value[KEY_VALUE_MAX];
	int64_t v;
	int r;

	memset(in, 0, sizeof(*in));
	r = netstat_read(ctx, in->counters);
	in->have_counters = r == 0;
	if (r < 0)
		diags_warn(&ctx->diags, "/proc/net/netstat: %s", strerror(-r));
	in->values = xcalloc(keys_count, sizeof(*in->values));
	for (size_t k = 0; k < keys_count; k++) {
		/* Host-wide keys do not exist outside the initial namespace. */
		if (!keys_table[k].listen_queue || keys_table[k].type != KEY_INT ||
		    sysctl_read(ctx->procsys_fd, keys_table[k].path, value, sizeof(value)) < 0 ||
		    util_parse_i64(value, &v) < 0)
			continue;
		in->values[in->nvalues++] = (struct prom_sysctl){ keys_table[k].path, v };
	}
	clock_gettime(CLOCK_REALTIME, &in->now);
}

void cmd_prom_inputs_free(struct prom_inputs *in)
{
	free(in->values);
	in->values = NULL;
	in->nvalues = 0;
}

void cmd_landlock_say(const struct qt_ctx *ctx, int r, size_t n)
{
	if (ctx->verbosity <= 0)
		return;
	if (r == 0)
		fputs("qtune: the kernel has no Landlock: file writes are not confined\n", stderr);
	else if (r > 0)
		fprintf(stderr, "qtune: landlock ABI %d: no file may be written%s\n", r,
			n ? " but the above" : "");
}

int cmd_confine_settings(struct qt_ctx *ctx, const struct plan *plan, bool sysctld)
{
	size_t nkeys = plan ? plan->n : 1, n = 0;
	struct landlock_grant *g = xcalloc(nkeys + 2, sizeof(*g));
	char *state_dir = util_rooted(ctx->root, STATE_DIR);
	char *etc = util_rooted(ctx->root, SYSCTLD_ETC);
	int r;

	if (!plan)
		g[n++] = (struct landlock_grant){ AT_FDCWD, "/proc/sys", LANDLOCK_WRITE_FILES };
	for (size_t i = 0; plan && i < plan->n; i++)
		if (plan->items[i].change)
			g[n++] = (struct landlock_grant){ ctx->procsys_fd, plan->items[i].key,
							  LANDLOCK_WRITE_FILES };
	g[n++] = (struct landlock_grant){ AT_FDCWD, state_dir, LANDLOCK_CREATE_FILES };
	if (sysctld)
		g[n++] = (struct landlock_grant){ AT_FDCWD, etc, LANDLOCK_CREATE_FILES };
	r = landlock_restrict(g, n, ctx->verbosity > 0 ? stderr : NULL, &ctx->diags);
	cmd_landlock_say(ctx, r, n);
#ifdef QTUNE_TEST_HOOKS
	if (plan)
		cmd_write_probe(ctx);
#endif
	free(state_dir);
	free(etc);
	free(g);
	return r < 0 ? r : 0;
}

#ifdef QTUNE_TEST_HOOKS
void cmd_write_probe(const struct qt_ctx *ctx)
{
	const char *key = getenv("QTUNE_TEST_WRITE_PROBE");

	if (!key)
		return;
	int r = sysctl_write(ctx->procsys_fd, key, "4242", NULL, 0);
	fprintf(stderr, "qtune: test hook: writing %s: %s\n", key, r < 0 ? strerror(-r) : "done");
}
#endif

int cmd_option_count(struct qt_ctx *ctx, const struct cmd_args *args, enum cmd_option o,
		     int64_t max, int64_t *out)
{
	const char *name = o == CMD_OPT_INTERVAL ? "interval" : "count";
	const char *v = args->value[o];
	int64_t n;

	if (!args->given[o])
		return 0;
	if (!v || util_parse_i64(v, &n) < 0 || n < 1 || n > max) {
		diags_error(&ctx->diags, "--%s %s: expected a whole number from 1 to %lld", name,
			    v ? v : "", (long long)max);
		return -1;
	}
	*out = n;
	return 1;
}

double cmd_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

double cmd_sleep(double seconds, const volatile int *stop)
{
	double start = cmd_now(), left = seconds;

	while (left > 0 && !(stop && *stop)) {
		struct timespec ts = { (time_t)left, (long)((left - (time_t)left) * 1e9) };

		nanosleep(&ts, NULL);   /* EINTR: the loop looks at *stop and the clock */
		left = seconds - (cmd_now() - start);
	}
	return cmd_now() - start;
}
