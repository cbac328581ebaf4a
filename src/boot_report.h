/* boot_report: the one rendering of boot verdicts (boot.h): check's text
 * lines and its JSON "boot" array, show --boot's table, and the words for
 * what decides a key (the line that sets it, or why the kernel default
 * stays: an exclusion, a value the kernel refuses, no line at all). Writes
 * only; reads nothing. */
#ifndef QTUNE_BOOT_REPORT_H
#define QTUNE_BOOT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "boot.h"
#include "ctx.h"
#include "output.h"
#include "sysctld_replay.h"

/* "/etc/sysctl.d/10-x.conf:3" into buf, or "-" when no line decides. */
void boot_source(const struct sysctld_value *v, char *buf, size_t size);

/* What decides the key under one tool, in words: "FILE:LINE", "FILE:LINE
 * excludes it (-KEY)", "FILE:LINE sets a value the kernel refuses", ...,
 * or "no sysctl.d file sets it". */
void boot_explain(const struct sysctld_value *v, char *buf, size_t size);

/* One row of show --boot: a key (slashed) and what the next boot leaves. */
struct boot_row {
	const char *key;
	struct sysctld_resolved res;
	bool foreign;   /* host-wide, and this is not the initial namespace */
};

/* show --boot: the table (columns as wide as their widest cell), or the
 * JSON "boot" array of the object open in w. */
void boot_render_table(FILE *out, const struct boot_row *rows, size_t n);
void boot_render_table_json(struct jw *w, const struct boot_row *rows, size_t n);

/* check's table: a row per item (key, what the profile wants, the value at
 * boot, the verdict, what decides it), a second row where the two tools
 * disagree, and the remedy for keys no file sets, said once. */
void boot_render_text(const struct qt_ctx *ctx, const struct boot_item *items, size_t n);

/* Member "boot" (array, documented in docs/json-schema.md) of the object
 * open in w. */
void boot_render_json(struct jw *w, const struct boot_item *items, size_t n);

#endif
