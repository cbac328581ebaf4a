/* output: JSON writer, colour, stream checks. */
#include "output.h"

#include <errno.h>
#include <unistd.h>

#include "util.h"

void jw_init(struct jw *w, FILE *f)
{
	w->f = f;
	w->depth = 0;
	w->first[0] = true;
	w->after_key = false;
}

static void jw_sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (!w->first[w->depth])
		fputc(',', w->f);
	w->first[w->depth] = false;
}

void jw_external_element(struct jw *w)
{
	jw_sep(w);
}

static void jw_open(struct jw *w, char c)
{
	jw_sep(w);
	fputc(c, w->f);
	if (w->depth + 1 < JW_MAX_DEPTH)
		w->depth++;
	w->first[w->depth] = true;
}

static void jw_close(struct jw *w, char c)
{
	if (w->depth > 0)
		w->depth--;
	fputc(c, w->f);
	if (w->depth == 0)
		fputc('\n', w->f);
}

void jw_object_begin(struct jw *w) { jw_open(w, '{'); }
void jw_object_end(struct jw *w) { jw_close(w, '}'); }
void jw_array_begin(struct jw *w) { jw_open(w, '['); }
void jw_array_end(struct jw *w) { jw_close(w, ']'); }

static void jw_raw_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		case '\r': fputs("\\r", f); break;
		default:
			if (util_is_control(*p))
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

void jw_key(struct jw *w, const char *key)
{
	jw_sep(w);
	jw_raw_string(w->f, key);
	fputc(':', w->f);
	w->after_key = true;
}

void jw_string(struct jw *w, const char *s)
{
	jw_sep(w);
	if (s)
		jw_raw_string(w->f, s);
	else
		fputs("null", w->f);
}

void jw_int(struct jw *w, int64_t v)
{
	jw_sep(w);
	fprintf(w->f, "%lld", (long long)v);
}

void jw_uint(struct jw *w, uint64_t v)
{
	jw_sep(w);
	fprintf(w->f, "%llu", (unsigned long long)v);
}

void jw_double(struct jw *w, double v)
{
	jw_sep(w);
	/* JSON has no NaN or infinity; a rate is finite and not negative. */
	if (!(v >= 0 && v < 1e15))
		v = 0;
	fprintf(w->f, "%.3f", v);
}

void jw_bool(struct jw *w, bool v)
{
	jw_sep(w);
	fputs(v ? "true" : "false", w->f);
}

void jw_null(struct jw *w)
{
	jw_sep(w);
	fputs("null", w->f);
}

void jw_kstring(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	jw_string(w, s);
}

void jw_kint(struct jw *w, const char *key, int64_t v)
{
	jw_key(w, key);
	jw_int(w, v);
}

void jw_kbool(struct jw *w, const char *key, bool v)
{
	jw_key(w, key);
	jw_bool(w, v);
}

void output_json_header(struct jw *w, const char *command, const char *kernel,
			struct output_netns ns)
{
	jw_kint(w, "schema", QTUNE_JSON_SCHEMA);
	jw_kstring(w, "command", command);
	jw_kstring(w, "version", QTUNE_VERSION);
	jw_kstring(w, "kernel", kernel);
	jw_key(w, "netns");
	jw_object_begin(w);
	jw_key(w, "inode");
	jw_uint(w, ns.inode);
	jw_key(w, "initial");
	if (ns.initial < 0)
		jw_null(w);
	else
		jw_bool(w, ns.initial);
	if (ns.label)
		jw_kstring(w, "label", ns.label);
	jw_object_end(w);
}

void output_json_diags(struct jw *w, const struct qt_diags *d)
{
	jw_key(w, "messages");
	jw_array_begin(w);
	for (size_t i = 0; i < d->n; i++) {
		const struct qt_diag *e = &d->v[i];

		jw_object_begin(w);
		jw_kstring(w, "level", diag_level_name(e->level));
		jw_kstring(w, "file", e->file);
		jw_kint(w, "line", e->line);
		jw_kint(w, "column", e->col);
		jw_kstring(w, "message", e->msg);
		jw_object_end(w);
	}
	jw_array_end(w);
}

const char *output_color(bool color, const char *which)
{
	return color ? which : "";
}

bool output_use_color(bool text, FILE *f, const char *no_color_env)
{
	return text && isatty(fileno(f)) && !(no_color_env && *no_color_env);
}

int output_finish(FILE *f)
{
	if (fflush(f) != 0 || ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}
