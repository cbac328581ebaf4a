/* unit: the system unit of a process from its cgroup path, by structure. */
#include "unit.h"

#include <stdbool.h>
#include <string.h>

#include "util.h"

/* systemd's unit name characters (unit_name_is_valid: VALID_CHARS "@"). */
static bool unit_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == ':' || c == '-' || c == '_' || c == '.' || c == '\\' || c == '@';
}

static bool has_suffix(const char *p, size_t len, const char *suffix)
{
	size_t sl = strlen(suffix);
	return len > sl && memcmp(p + len - sl, suffix, sl) == 0;
}

/* The kinds of unit a process can be in (the rest hold no processes). */
static bool process_unit(const char *p, size_t len)
{
	static const char *const suffixes[] = { ".service", ".scope", ".socket", ".mount", ".swap" };

	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++)
		if (has_suffix(p, len, suffixes[i]))
			return true;
	return false;
}

/* "user@1000.service" → 1000: the per-user manager, whose whole subtree
 * is delegated to that user. */
static bool user_manager(const char *p, size_t len, uint32_t *uid)
{
	static const char prefix[] = "user@", suffix[] = ".service";
	size_t pl = sizeof(prefix) - 1, sl = sizeof(suffix) - 1;
	uint64_t v = 0;

	if (len <= pl + sl || memcmp(p, prefix, pl) != 0 || !has_suffix(p, len, suffix))
		return false;
	for (size_t i = pl; i < len - sl; i++) {
		if (p[i] < '0' || p[i] > '9' || (i > pl && v == 0) || v > UINT32_MAX / 10)
			return false;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*uid = (uint32_t)v;
	return true;
}

static enum unit_kind judge_path(const char *path, size_t len, char *unit, size_t size,
				 uint32_t *uid)
{
	const char *end = path + len, *p = path;

	while (p < end && *p == '/')
		p++;
	while (p < end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *cend = slash ? slash : end;
		size_t cl = (size_t)(cend - p);

		for (size_t i = 0; i < cl; i++)
			if (!unit_char(p[i]))
				return UNIT_NONE;
		if (!has_suffix(p, cl, ".slice")) {
			if (user_manager(p, cl, uid))
				return UNIT_USER;
			if (!process_unit(p, cl) || cl >= size)
				return UNIT_NONE;
			memcpy(unit, p, cl);
			unit[cl] = '\0';
			return UNIT_SYSTEM;
		}
		p = cend + 1;
	}
	return UNIT_NONE;
}

size_t unit_named_len(const char *path, size_t len)
{
	for (size_t i = 0; i < len;) {
		const char *slash = memchr(path + i, '/', len - i);
		size_t end = slash ? (size_t)(slash - path) : len;

		if (!has_suffix(path + i, end - i, ".slice") && process_unit(path + i, end - i))
			return end;
		i = end + 1;
	}
	return len;
}

const char *unit_cgroup_path(const char *text, size_t *len)
{
	const char *v2 = NULL, *v1 = NULL;
	size_t v2len = 0, v1len = 0;

	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t ll = nl ? (size_t)(nl - line) : strlen(line);
		const char *c1 = memchr(line, ':', ll);
		const char *c2 = c1 ? memchr(c1 + 1, ':', ll - (size_t)(c1 + 1 - line)) : NULL;

		if (c2) {
			const char *path = c2 + 1;
			size_t pl = ll - (size_t)(path - line);
			size_t cl = (size_t)(c2 - c1 - 1);

			if (c1 - line == 1 && line[0] == '0' && cl == 0) {
				v2 = path;
				v2len = pl;
			} else if (cl == 12 && memcmp(c1 + 1, "name=systemd", 12) == 0) {
				v1 = path;
				v1len = pl;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	/* The unified hierarchy when the process has a place in it: on a
	 * hybrid host the v1 line and the v2 line name the same units. */
	if (v2 && v2len > 1) {
		*len = v2len;
		return v2;
	}
	*len = v1len;
	return v1;
}

enum unit_kind unit_from_cgroup(const char *text, char *unit, size_t size, uint32_t *uid)
{
	size_t len;
	const char *path = unit_cgroup_path(text, &len);

	if (size)
		unit[0] = '\0';
	if (!size || !path)
		return UNIT_NONE;
	return judge_path(path, len, unit, size, uid);
}
