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

void boot_render_text(const struct qt_ctx *ctx, const struct boot_item *items, size_t n)
{
	char shown[KEY_PATH_MAX], src[600], want[64];

	fprintf(ctx->out, "\nnext boot (sysctl.d as systemd-sysctl applies it):\n");
	for (size_t i = 0; i < n; i++) {
		const struct boot_item *b = &items[i];
		const struct sysctld_value *sd = &b->res.by[SYSCTLD_SYSTEMD];
		const struct sysctld_value *pr = &b->res.by[SYSCTLD_PROCPS];

		key_display(b->entry->key, shown, sizeof(shown));
		plan_describe_want(&b->entry->want, want, sizeof(want));
		boot_source(sd, src, sizeof(src));
		switch (b->status) {
		case BOOT_OK:
			fprintf(ctx->out, "  %s = %s  ok (%s)\n", shown, sd->value, src);
			break;
		case BOOT_DIFFERS:
			fprintf(ctx->out, "  %s = %s  %sdiffers%s: profile wants %s; set by %s\n",
				shown, sd->value, output_color(ctx->color, OUT_YELLOW),
				output_color(ctx->color, OUT_RESET), want, src);
			break;
		case BOOT_NOT_SET:
			fprintf(ctx->out, "  %s  not set by any sysctl.d file: the kernel default applies at boot (qtune apply --persist)\n",
				shown);
			break;
		}
		if (b->res.disagree) {
			boot_source(pr, src, sizeof(src));
			fprintf(ctx->out, "    sysctl --system would leave %s instead (%s)\n",
				pr->value ? pr->value : "it unset", src);
		}
	}
}

static void value_json(struct jw *w, const char *name, const struct sysctld_value *v)
{
	jw_key(w, name);
	jw_object_begin(w);
	jw_kstring(w, "value", v->value);
	jw_kstring(w, "file", v->file ? v->file->path : NULL);
	jw_kint(w, "line", v->file ? v->line : 0);
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
