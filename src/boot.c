/* boot: boot-time verdicts per profile key. */
#include "boot.h"

#include <stdlib.h>

#include "plan.h"
#include "util.h"

int boot_audit(const struct sysctld_config *c, const struct profile *p,
	       struct boot_item **items)
{
	struct boot_item *v = xcalloc(p->nentries, sizeof(*v));

	for (size_t i = 0; i < p->nentries; i++) {
		const struct profile_entry *e = &p->entries[i];
		const struct sysctld_value *sd, *pr;
		int r;

		v[i].entry = e;
		r = sysctld_resolve(c, e->key, &v[i].res);
		if (r < 0) {
			free(v);
			return r;
		}
		sd = &v[i].res.by[SYSCTLD_SYSTEMD];
		pr = &v[i].res.by[SYSCTLD_PROCPS];
		if (!sd->value)
			v[i].status = BOOT_NOT_SET;
		else
			v[i].status = plan_satisfies(e, sd->value) ? BOOT_OK : BOOT_DIFFERS;
		v[i].procps_differs = pr->value && !plan_satisfies(e, pr->value);
	}
	*items = v;
	return 0;
}

const char *boot_status_name(enum boot_status s)
{
	switch (s) {
	case BOOT_OK: return "ok";
	case BOOT_DIFFERS: return "differs";
	case BOOT_NOT_SET: return "not-set";
	}
	return "?";
}
