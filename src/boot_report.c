/* boot_report: text and JSON for boot verdicts. */
#include "boot_report.h"

#include <stdio.h>
#include <string.h>

#include "keys.h"
#include "plan.h"
#include "util.h"

void boot_source(const struct sysctld_value *v, char *buf, size_t size)
{
	if (v->file) {
		/* A file name is anybody's text: escaped, as all such text is. */
		char path[512];
		util_escape(path, sizeof(path), v->file->path, strlen(v->file->path));
		snprintf(buf, size, "%s:%u", path, v->line);
	} else {
		snprintf(buf, size, "-");
	}
}

void boot_explain(const struct sysctld_value *v, char *buf, size_t size)
{
	char src[600], bad[600], shown[KEY_PATH_MAX];
	const struct sysctld_entry *r = v->refused;

	boot_source(v, src, sizeof(src));
	if (r)
		snprintf(bad, sizeof(bad), "%s:%u sets %s", v->refused_file->path, r->line,
			 r->value && *r->value ? "a value the kernel refuses"
					       : "an empty value, which the kernel refuses");
	if (v->value && !r)
		snprintf(buf, size, "%s", src);
	else if (v->value)
		snprintf(buf, size, "%s; later, %s", src, bad);
	else if (r)
		snprintf(buf, size, "%s", bad);
	else if (v->excluded) {
		key_display(v->entry->key, shown, sizeof(shown));
		snprintf(buf, size, "%s excludes it (-%s)", src, shown);
	} else
		snprintf(buf, size, "no sysctl.d file sets it");
}

/* A column as wide as its widest cell, ignoring absurd cells (a hostile
 * value must not push the table off every screen). */
static int widen(int width, const char *cell)
{
	size_t n = strlen(cell);

	return n > (size_t)width && n < 200 ? (int)n : width;
}

static const char *boot_value(const struct sysctld_value *v)
{
	return v->value ? v->value : "(kernel default)";
}

void boot_render_text(const struct qt_ctx *ctx, const struct boot_item *items, size_t n)
{
	char shown[KEY_PATH_MAX], why[1400], want[64];
	int kw = (int)strlen("KEY"), vw = (int)strlen("AT BOOT"), pw = (int)strlen("PROFILE");
	int sw = (int)strlen("differs");
	bool unset = false;

	/* The columns of the running-values table above it: key, value,
	 * profile, status; then what decides the value. */
	for (size_t i = 0; i < n; i++) {
		key_display(items[i].entry->key, shown, sizeof(shown));
		plan_describe_want(&items[i].entry->want, want, sizeof(want));
		kw = widen(kw, shown);
		pw = widen(pw, want);
		vw = widen(vw, boot_value(&items[i].res.by[SYSCTLD_SYSTEMD]));
		if (items[i].res.disagree)
			vw = widen(vw, boot_value(&items[i].res.by[SYSCTLD_PROCPS]));
	}
	fprintf(ctx->out, "\nnext boot (sysctl.d as systemd-sysctl applies it):\n");
	fprintf(ctx->out, "%-*s  %-*s  %-*s  %-*s  %s\n", kw, "KEY", vw, "AT BOOT", pw, "PROFILE",
		sw, "STATUS", "DECIDED BY");
	for (size_t i = 0; i < n; i++) {
		const struct boot_item *b = &items[i];
		const struct sysctld_value *sd = &b->res.by[SYSCTLD_SYSTEMD];
		const struct sysctld_value *pr = &b->res.by[SYSCTLD_PROCPS];
		bool differs = b->status == BOOT_DIFFERS;

		key_display(b->entry->key, shown, sizeof(shown));
		plan_describe_want(&b->entry->want, want, sizeof(want));
		boot_explain(sd, why, sizeof(why));
		unset |= b->status == BOOT_NOT_SET;
		fprintf(ctx->out, "%-*s  %-*s  %-*s  %s%-*s%s  %s\n", kw, shown, vw, boot_value(sd),
			pw, want, differs ? output_color(ctx->color, OUT_YELLOW) : "", sw,
			boot_status_name(b->status), differs ? output_color(ctx->color, OUT_RESET) : "", why);
		if (b->res.disagree) {
			boot_explain(pr, why, sizeof(why));
			fprintf(ctx->out, "%-*s  %-*s  %-*s  %-*s  sysctl --system: %s\n", kw, "",
				vw, boot_value(pr), pw, "", sw, "", why);
		}
	}
	/* The one remedy for every key no file sets, said once. */
	if (unset)
		fprintf(ctx->out, "not-set: the kernel default applies at boot; qtune apply --persist "
			"writes the profile's values to sysctl.d\n");
}

static const char *at_boot(const struct boot_row *r, const struct sysctld_value *v)
{
	return r->foreign ? "(host-wide)" : v->value ? v->value : "(kernel default)";
}

void boot_render_table(FILE *out, const struct boot_row *rows, size_t n)
{
	char shown[KEY_PATH_MAX], why[1400];
	int kw = 30, vw = 16;

	for (size_t i = 0; i < n; i++) {
		kw = widen(kw, rows[i].key);
		vw = widen(vw, at_boot(&rows[i], &rows[i].res.by[SYSCTLD_SYSTEMD]));
		vw = widen(vw, at_boot(&rows[i], &rows[i].res.by[SYSCTLD_PROCPS]));
	}
	fprintf(out, "%-*s  %-*s  %s\n", kw, "KEY", vw, "AT BOOT", "SET BY (systemd-sysctl)");
	for (size_t i = 0; i < n; i++) {
		const struct boot_row *r = &rows[i];
		const struct sysctld_value *sd = &r->res.by[SYSCTLD_SYSTEMD], *pr = &r->res.by[SYSCTLD_PROCPS];

		key_display(r->key, shown, sizeof(shown));
		if (r->foreign) {
			fprintf(out, "%-*s  %-*s  not this namespace's: host-wide, the host's boot sets it\n",
				kw, shown, vw, at_boot(r, sd));
			continue;
		}
		boot_explain(sd, why, sizeof(why));
		fprintf(out, "%-*s  %-*s  %s\n", kw, shown, vw, at_boot(r, sd), why);
		if (r->res.disagree) {
			boot_explain(pr, why, sizeof(why));
			fprintf(out, "%-*s  %-*s  sysctl --system: %s\n", kw, "", vw, at_boot(r, pr), why);
		}
	}
}

void boot_render_table_json(struct jw *w, const struct boot_row *rows, size_t n)
{
	char shown[KEY_PATH_MAX], src[600], why[1400];

	jw_key(w, "boot");
	jw_array_begin(w);
	for (size_t i = 0; i < n; i++) {
		const struct boot_row *r = &rows[i];
		const struct sysctld_value *sd = &r->res.by[SYSCTLD_SYSTEMD], *pr = &r->res.by[SYSCTLD_PROCPS];

		key_display(r->key, shown, sizeof(shown));
		jw_object_begin(w);
		jw_kstring(w, "key", shown);
		jw_kbool(w, "per_netns", !r->foreign);
		jw_kstring(w, "value", r->foreign ? NULL : sd->value);
		boot_source(sd, src, sizeof(src));
		jw_kstring(w, "source", !r->foreign && sd->file ? src : NULL);
		boot_explain(sd, why, sizeof(why));
		jw_kstring(w, "decided_by", r->foreign ? "not this namespace's: host-wide" : why);
		jw_kbool(w, "tools_disagree", !r->foreign && r->res.disagree);
		jw_kstring(w, "procps_value", r->foreign ? NULL : pr->value);
		boot_source(pr, src, sizeof(src));
		jw_kstring(w, "procps_source", !r->foreign && pr->file ? src : NULL);
		jw_object_end(w);
	}
	jw_array_end(w);
}

static void value_json(struct jw *w, const char *name, const struct sysctld_value *v)
{
	jw_key(w, name);
	jw_object_begin(w);
	jw_kstring(w, "value", v->value);
	jw_kstring(w, "file", v->file ? v->file->path : NULL);
	jw_kint(w, "line", v->file ? v->line : 0);
	jw_kbool(w, "excluded", v->excluded);
	jw_key(w, "refused");
	if (v->refused) {
		jw_object_begin(w);
		jw_kstring(w, "file", v->refused_file->path);
		jw_kint(w, "line", v->refused->line);
		jw_object_end(w);
	} else {
		jw_null(w);
	}
	jw_object_end(w);
}

void boot_render_json(struct jw *w, const struct boot_item *items, size_t n)
{
	char shown[KEY_PATH_MAX];

	jw_key(w, "boot");
	jw_array_begin(w);
	for (size_t i = 0; i < n; i++) {
		key_display(items[i].entry->key, shown, sizeof(shown));
		jw_object_begin(w);
		jw_kstring(w, "key", shown);
		jw_kstring(w, "status", boot_status_name(items[i].status));
		value_json(w, "systemd", &items[i].res.by[SYSCTLD_SYSTEMD]);
		value_json(w, "procps", &items[i].res.by[SYSCTLD_PROCPS]);
		jw_kbool(w, "tools_disagree", items[i].res.disagree);
		jw_object_end(w);
	}
	jw_array_end(w);
}
