/* caps: capability reduction with libcap. */
#include "caps.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "util.h"

static size_t wanted_caps(unsigned needs, cap_value_t *v)
{
	size_t n = 0;

	if (needs & CAPS_OWNERS) {
		v[n++] = CAP_SYS_PTRACE;
		v[n++] = CAP_DAC_READ_SEARCH;
	}
	if (needs & CAPS_WRITE_NET)
		v[n++] = CAP_NET_ADMIN;
	if (needs & CAPS_SETNS) {
		v[n++] = CAP_SYS_ADMIN;
		v[n++] = CAP_SETPCAP;
	}
	return n;
}

int caps_restrict(unsigned needs, char *kept, size_t kept_size, struct qt_diags *d)
{
	cap_value_t want[8];
	size_t nwant = wanted_caps(needs, want), off = 0;
	cap_t have = cap_get_proc(), next = cap_init();
	int r = 0;

	kept[0] = '\0';
	if (!have || !next) {
		r = -errno;
		goto out;
	}
	for (size_t i = 0; i < nwant; i++) {
		cap_flag_value_t permitted = CAP_CLEAR;

		if (cap_get_flag(have, want[i], CAP_PERMITTED, &permitted) < 0 || permitted != CAP_SET)
			continue;
		cap_set_flag(next, CAP_PERMITTED, 1, &want[i], CAP_SET);
		cap_set_flag(next, CAP_EFFECTIVE, 1, &want[i], CAP_SET);
		char *name = cap_to_name(want[i]);
		off += (size_t)snprintf(kept + off, off < kept_size ? kept_size - off : 0, "%s%s",
					off ? "," : "", name ? name : "?");
		cap_free(name);
	}
	if (!kept[0])
		snprintf(kept, kept_size, "none");

	/* The bounding set first, while CAP_SETPCAP is still effective. */
	cap_flag_value_t setpcap = CAP_CLEAR;
	cap_get_flag(have, CAP_SETPCAP, CAP_EFFECTIVE, &setpcap);
	for (cap_value_t c = 0; setpcap == CAP_SET && c <= CAP_LAST_CAP; c++) {
		bool keep = false;
		for (size_t i = 0; i < nwant; i++)
			keep |= want[i] == c;
		if (!keep && CAP_IS_SUPPORTED(c))
			cap_drop_bound(c);
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (cap_set_proc(next) < 0) {
		r = -errno;
		goto out;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		r = -errno;
out:
	if (r < 0)
		diags_error(d, "cannot drop capabilities: %s", strerror(-r));
	cap_free(have);
	cap_free(next);
	return r;
}
