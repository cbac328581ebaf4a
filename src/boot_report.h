/* boot_report: the one rendering of boot verdicts (boot.h): check's text
 * lines and its JSON "boot" array, and "FILE:LINE" for the line that
 * decides a key (check and show --boot). Writes only; reads nothing. */
#ifndef QTUNE_BOOT_REPORT_H
#define QTUNE_BOOT_REPORT_H

#include <stddef.h>

#include "boot.h"
#include "ctx.h"
#include "output.h"
#include "sysctld_replay.h"

/* "/etc/sysctl.d/10-x.conf:3" into buf, or "-" when no line decides. */
void boot_source(const struct sysctld_value *v, char *buf, size_t size);

/* Text lines for check: one per item, and a second line where the two
 * tools disagree. */
void boot_render_text(const struct qt_ctx *ctx, const struct boot_item *items, size_t n);

/* Member "boot" (array, documented in docs/json-schema.md) of the object
 * open in w. */
void boot_render_json(struct jw *w, const struct boot_item *items, size_t n);

#endif
