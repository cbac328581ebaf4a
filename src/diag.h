/* diag: the diagnostics a run collects (file, line, column, message, level)
 * and the one place where the worst level becomes the exit status.
 * Modules add to a list; only main() renders it and decides the exit code. */
#ifndef QTUNE_DIAG_H
#define QTUNE_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* The severity ladder: the exit status is the highest level seen. */
enum qt_level {
	QT_LEVEL_OK = 0,     /* informational */
	QT_LEVEL_WARN,       /* printed, does not change the exit status */
	QT_LEVEL_DRIFT,      /* check found a difference: exit 1 */
	QT_LEVEL_ERROR,      /* trouble, nothing changed: exit 2 */
	QT_LEVEL_FATAL,      /* rollback failed, state nobody asked for: exit 3 */
};

struct qt_diag {
	enum qt_level level;
	char *file;          /* NULL when the problem has no file */
	unsigned line, col;  /* 1-based; 0 when unknown */
	char *msg;
};

struct qt_diags {
	struct qt_diag *v;
	size_t n, cap;
};

void diags_add(struct qt_diags *d, enum qt_level level, const char *file,
	       unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void diags_vadd(struct qt_diags *d, enum qt_level level, const char *file,
		unsigned line, unsigned col, const char *fmt, va_list ap)
	__attribute__((format(printf, 6, 0)));
/* Shorthand for the common case: an error with no position. */
#define diags_error(d, ...) diags_add((d), QT_LEVEL_ERROR, NULL, 0, 0, __VA_ARGS__)
#define diags_warn(d, ...) diags_add((d), QT_LEVEL_WARN, NULL, 0, 0, __VA_ARGS__)

enum qt_level diags_worst(const struct qt_diags *d);
size_t diags_count(const struct qt_diags *d, enum qt_level at_least);
/* "qtune: FILE:LINE:COL: message", warnings marked "warning: ". Nothing
 * reaches f raw: the file name is escaped (util_fputs_escaped), the message
 * too, keeping the backslashes of values escaped when it was built; so a
 * name from a file, a process or the kernel cannot steer a terminal. */
void diags_print(FILE *f, const struct qt_diags *d, enum qt_level at_least);
void diags_free(struct qt_diags *d);
/* Drops every entry after the first n (a caller that must not repeat what
 * it read, e.g. the contents of a file that is not a profile). */
void diags_truncate(struct qt_diags *d, size_t n);

int diag_exit_status(enum qt_level worst);
const char *diag_level_name(enum qt_level level);

#endif
