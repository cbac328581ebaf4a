/* trust: who could have written the files qtune acts on. */
#include "trust.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void owner_name(uid_t uid, char *buf, size_t size)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];

	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res)
		snprintf(buf, size, "%u (%s)", (unsigned)uid, pw.pw_name);
	else
		snprintf(buf, size, "%u", (unsigned)uid);
}

const char *trust_judge(const struct stat *st)
{
	bool owner_ok = st->st_uid == 0 || st->st_uid == geteuid();

	if (!owner_ok)
		return "owned by another user";
	if (S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX))
		return NULL;
	if (st->st_mode & S_IWOTH)
		return "writable by everyone";
	if (st->st_mode & S_IWGRP)
		return "writable by its group";
	return NULL;
}

int trust_check_file(const char *path, enum qt_level level, struct qt_diags *d)
{
	char real[PATH_MAX], owner[300];
	struct stat st;
	int r = 0;

	if (!realpath(path, real)) {
		r = -errno;
		diags_add(d, level, NULL, 0, 0, "%s: %s", path, strerror(-r));
		return r;
	}
	/* The file, then each directory up to "/". */
	for (;;) {
		if (stat(real, &st) < 0)
			return -errno;
		const char *why = trust_judge(&st);
		if (why) {
			owner_name(st.st_uid, owner, sizeof(owner));
			diags_add(d, level, NULL, 0, 0,
				  "%s %s is %s (owner uid %s, mode %04o): %s",
				  level >= QT_LEVEL_ERROR ? "refusing" : "untrusted",
				  real, why, owner, (unsigned)(st.st_mode & 07777),
				  level >= QT_LEVEL_ERROR
				  ? "make it writable by root only (chown root, chmod go-w)"
				  : "apply would refuse it");
			r = -EPERM;
		}
		if (strcmp(real, "/") == 0)
			break;
		char *slash = strrchr(real, '/');
		slash[slash == real ? 1 : 0] = '\0';
	}
	return r;
}
