/* boot: what the next boot leaves in each key of a profile, judged from
 * the replayed sysctl.d configuration (sysctld_replay.h). Pure: takes the loaded
 * configuration and the profile, returns one verdict per key (naming the
 * line that decides it, and whether `sysctl --system` would miss the
 * profile where systemd-sysctl meets it). Rendering is boot_report.h. */
#ifndef QTUNE_BOOT_H
#define QTUNE_BOOT_H

#include <stdbool.h>
#include <stddef.h>

#include "profile.h"
#include "sysctld_replay.h"

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

/* One item per profile entry, in profile order; caller frees *items.
 * The status follows systemd-sysctl, which boots the distributions qtune
 * targets. 0, or -EINVAL when an entry's key is not a key. */
int boot_audit(const struct sysctld_config *c, const struct profile *p,
	       struct boot_item **items);

/* "ok", "differs", "not-set": the JSON and metric spelling. */
const char *boot_status_name(enum boot_status s);

#endif
