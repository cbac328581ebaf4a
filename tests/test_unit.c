/* unit: the system unit named only from systemd's own part of the cgroup
 * path; a delegated subtree (user@UID.service, a Delegate= service) never
 * supplies a system unit's name. */
#include <criterion/criterion.h>
#include <string.h>

#include "unit.h"

#define UNIT_MAX 256

static enum unit_kind judge(const char *text, char *unit, uint32_t *uid)
{
	*uid = 4242;
	return unit_from_cgroup(text, unit, UNIT_MAX, uid);
}

Test(unit, system_units)
{
	char unit[UNIT_MAX];
	uint32_t uid;

	cr_assert_eq(judge("0::/system.slice/nginx.service\n", unit, &uid), UNIT_SYSTEM);
	cr_assert_str_eq(unit, "nginx.service");
	cr_assert_eq(judge("0::/init.scope\n", unit, &uid), UNIT_SYSTEM);
	cr_assert_str_eq(unit, "init.scope");
	cr_assert_eq(judge("0::/system.slice/system-getty.slice/getty@tty1.service\n", unit, &uid),
		     UNIT_SYSTEM);
	cr_assert_str_eq(unit, "getty@tty1.service");
	/* A login session is logind's scope, a system unit. */
	cr_assert_eq(judge("0::/user.slice/user-1000.slice/session-3.scope\n", unit, &uid), UNIT_SYSTEM);
	cr_assert_str_eq(unit, "session-3.scope");
	/* cgroup v1: the name=systemd hierarchy; other controllers never count. */
	cr_assert_eq(judge("12:memory:/x.service\n1:name=systemd:/system.slice/sshd.service\n",
			   unit, &uid), UNIT_SYSTEM);
	cr_assert_str_eq(unit, "sshd.service");
	cr_assert_eq(uid, 4242, "uid is not touched for a system unit");
}

Test(unit, below_a_unit_names_are_the_units_own)
{
	char unit[UNIT_MAX];
	uint32_t uid;

	/* Delegate=yes: docker (or whoever runs as the service) names these. */
	cr_assert_eq(judge("0::/system.slice/docker.service/payload\n", unit, &uid), UNIT_SYSTEM);
	cr_assert_str_eq(unit, "docker.service");
	cr_assert_eq(judge("0::/system.slice/app.service/x.slice/sshd.service\n", unit, &uid),
		     UNIT_SYSTEM);
	cr_assert_str_eq(unit, "app.service");
}

Test(unit, user_units_are_never_system_units)
{
	char unit[UNIT_MAX];
	uint32_t uid;

	cr_assert_eq(judge("0::/user.slice/user-1000.slice/user@1000.service/app.slice/sshd.service\n",
			   unit, &uid), UNIT_USER);
	cr_assert_str_eq(unit, "");
	cr_assert_eq(uid, 1000);
	cr_assert_eq(judge("0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
			   "app-org.gnome.Terminal.slice/vte-spawn-1.scope\n", unit, &uid), UNIT_USER);
	cr_assert_eq(uid, 1000);
	cr_assert_eq(judge("0::/user.slice/user-0.slice/user@0.service/init.scope\n", unit, &uid),
		     UNIT_USER);
	cr_assert_eq(uid, 0);
	/* v1 as well. */
	cr_assert_eq(judge("1:name=systemd:/user.slice/user-7.slice/user@7.service/a.slice/sshd.service\n",
			   unit, &uid), UNIT_USER);
	cr_assert_eq(uid, 7);
	/* Not a uid: not the user manager, and not a unit of ours either. */
	cr_assert_eq(judge("0::/user.slice/user@01.service/sshd.service\n", unit, &uid), UNIT_SYSTEM);
	cr_assert_str_eq(unit, "user@01.service");
	cr_assert_eq(judge("0::/user.slice/user@4294967296.service/sshd.service\n", unit, &uid),
		     UNIT_SYSTEM);
	cr_assert_str_eq(unit, "user@4294967296.service");
}

Test(unit, no_unit)
{
	char unit[UNIT_MAX];
	uint32_t uid;

	cr_assert_eq(judge("0::/\n", unit, &uid), UNIT_NONE);
	cr_assert_str_eq(unit, "");
	cr_assert_eq(judge("garbage", unit, &uid), UNIT_NONE);
	cr_assert_eq(judge("", unit, &uid), UNIT_NONE);
	cr_assert_eq(judge("0::/.service\n", unit, &uid), UNIT_NONE);
	/* A container's cgroup that systemd did not name. */
	cr_assert_eq(judge("0::/docker/0123abcd/sshd.service\n", unit, &uid), UNIT_NONE);
	/* Outside the reader's cgroup namespace. */
	cr_assert_eq(judge("0::/../../system.slice/sshd.service\n", unit, &uid), UNIT_NONE);
	/* Only slices above the unit. */
	cr_assert_eq(judge("0::/system.slice\n", unit, &uid), UNIT_NONE);
}

Test(unit, names_systemd_would_not_give)
{
	char unit[UNIT_MAX], small[8];
	uint32_t uid;

	/* Bytes a terminal would interpret are not in any unit name. */
	cr_assert_eq(judge("0::/system.slice/x\033[31m.service\n", unit, &uid), UNIT_NONE);
	cr_assert_str_eq(unit, "");
	cr_assert_eq(judge("0::/system.slice/a b.service\n", unit, &uid), UNIT_NONE);
	/* A name too long for the field is not cut into a wrong one. */
	char longer[600] = "0::/";
	memset(longer + 4, 'a', 500);
	strcpy(longer + 504, ".service\n");
	cr_assert_eq(judge(longer, unit, &uid), UNIT_NONE);
	cr_assert_eq(unit_from_cgroup("0::/nginx.service\n", small, sizeof(small), &uid), UNIT_NONE);
	cr_assert_str_eq(small, "");
}

/* The named part ends with the first unit; slices and cgroupfs
 * directories above it are the system's. */
Test(unit, named_part_of_a_path_ends_with_its_first_unit)
{
	static const char a[] = "/user.slice/user-1000.slice/user@1000.service/docker-x.scope";
	static const char b[] = "/system.slice/docker-x.scope/init.scope";
	static const char c[] = "/kubepods/burstable/podx/abc";

	cr_assert_eq(unit_named_len(a, strlen(a)), strlen("/user.slice/user-1000.slice/user@1000.service"));
	cr_assert_eq(unit_named_len(b, strlen(b)), strlen("/system.slice/docker-x.scope"));
	cr_assert_eq(unit_named_len(c, strlen(c)), strlen(c));
	cr_assert_eq(unit_named_len("", 0), 0);
}
