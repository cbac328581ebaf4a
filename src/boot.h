/* boot: what the next boot leaves in each key of a profile, from the
 * replayed sysctl.d configuration (sysctld.h). Pure: takes the loaded
 * configuration, returns one verdict per key, naming the file and line
 * that decides it and whether systemd-sysctl and `sysctl --system` would
 * leave different values. */
#ifndef QTUNE_BOOT_H
#define QTUNE_BOOT_H

#include <stdbool.h>
#include <stddef.h>

#include "output.h"
#include "profile.h"
#include "sysctld.h"

enum boot_status {
	BOOT_OK,          /* the boot-time value meets the profile */
	BOOT_DIFFERS,     /* a file sets another value: drift */
	BOOT_NOT_SET,     /* no file sets it: the kernel default applies at boot */
};

struct boot_item {
	const struct profile_entry *entry;
	enum boot_status status;
	struct sysctld_resolved res;   /* points into the configuration */
	bool procps_differs;           /* `sysctl --system` would not meet the profile */
};

/* One item per profile entry, in profile order; caller frees *items. */
int boot_audit(const struct sysctld_config *c, const struct profile *p,
	       struct boot_item **items);

const char *boot_status_name(enum boot_status s);

/* "/etc/sysctl.d/10-x.conf:3" into buf, or "-" when no line decides. */
void boot_source(const struct sysctld_value *v, char *buf, size_t size);

/* Text lines and a JSON "boot" array for check. */
void boot_render_text(const struct qt_ctx *ctx, const struct boot_item *items, size_t n);
void boot_render_json(struct jw *w, const struct boot_item *items, size_t n);

#endif
