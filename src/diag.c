/* diag: collected diagnostics and the level → exit status mapping. */
#include "diag.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void diags_vadd(struct qt_diags *d, enum qt_level level, const char *file,
		unsigned line, unsigned col, const char *fmt, va_list ap)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 8;
		d->v = xreallocarray(d->v, d->cap, sizeof(*d->v));
	}
	struct qt_diag *e = &d->v[d->n++];
	e->level = level;
	e->file = file ? xstrdup(file) : NULL;
	e->line = line;
	e->col = col;
	e->msg = xvasprintf(fmt, ap);
}

void diags_add(struct qt_diags *d, enum qt_level level, const char *file,
	       unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diags_vadd(d, level, file, line, col, fmt, ap);
	va_end(ap);
}

enum qt_level diags_worst(const struct qt_diags *d)
{
	enum qt_level worst = QT_LEVEL_OK;

	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].level > worst)
			worst = d->v[i].level;
	return worst;
}

size_t diags_count(const struct qt_diags *d, enum qt_level at_least)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].level >= at_least)
			n++;
	return n;
}

void diags_print(FILE *f, const struct qt_diags *d, enum qt_level at_least)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct qt_diag *e = &d->v[i];

		if (e->level < at_least)
			continue;
		fputs("qtune: ", f);
		if (e->file) {
			util_fputs_escaped(f, e->file, strlen(e->file), 0);
			if (e->line)
				fprintf(f, ":%u:%u", e->line, e->col);
			fputs(": ", f);
		}
		if (e->level == QT_LEVEL_WARN)
			fputs("warning: ", f);
		/* The message may quote values escaped already (util_escape);
		 * what it holds raw is escaped here, whoever built it. */
		util_fputs_escaped(f, e->msg, strlen(e->msg), UTIL_ESCAPE_KEEP_BACKSLASH);
		fputc('\n', f);
	}
}

void diags_free(struct qt_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
}

void diags_truncate(struct qt_diags *d, size_t n)
{
	while (d->n > n) {
		d->n--;
		free(d->v[d->n].file);
		free(d->v[d->n].msg);
	}
}

int diag_exit_status(enum qt_level worst)
{
	switch (worst) {
	case QT_LEVEL_OK:
	case QT_LEVEL_WARN:
		return 0;
	case QT_LEVEL_DRIFT:
		return 1;
	case QT_LEVEL_ERROR:
		return 2;
	case QT_LEVEL_FATAL:
		return 3;
	}
	return 2;
}

const char *diag_level_name(enum qt_level level)
{
	static const char *const names[] = {
		[QT_LEVEL_OK] = "info", [QT_LEVEL_WARN] = "warning",
		[QT_LEVEL_DRIFT] = "drift", [QT_LEVEL_ERROR] = "error",
		[QT_LEVEL_FATAL] = "fatal",
	};
	return level <= QT_LEVEL_FATAL ? names[level] : "error";
}
