/* profile_check: a loaded profile against the target's /proc/sys. */
#include "profile_check.h"

#include <errno.h>
#include <string.h>

#include "keys.h"
#include "sysctl.h"

int profile_check_keys(const struct profile *p, int procsys_fd, struct qt_diags *d)
{
	int r = 0;

	for (size_t i = 0; i < p->nentries; i++) {
		const struct profile_entry *e = &p->entries[i];
		char display[KEY_PATH_MAX];
		int x;

		/* A key of the table is qtune's to judge, present or not
		 * (a host-wide key is missing from a container's namespace). */
		if (e->info)
			continue;
		x = sysctl_exists(procsys_fd, e->key);
		if (x == 0)
			continue;
		key_display(e->key, display, sizeof(display));
		if (x == -ENOENT || x == -ENOTDIR)
			diags_add(d, QT_LEVEL_ERROR, e->file, e->line, e->col,
				  "unknown key %s: no such file under /proc/sys", display);
		else if (x == -EISDIR)
			diags_add(d, QT_LEVEL_ERROR, e->file, e->line, e->col,
				  "unknown key %s: a directory under /proc/sys, not a key", display);
		else
			diags_add(d, QT_LEVEL_ERROR, e->file, e->line, e->col,
				  "unknown key %s: cannot check /proc/sys: %s", display, strerror(-x));
		r = -EINVAL;
	}
	return r;
}
