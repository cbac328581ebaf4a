/* keys: the table of known keys and the key/value gate.
 *
 * Ranges are the kernel's own (net/core/sysctl_net_core.c,
 * net/ipv4/sysctl_net_ipv4.c) narrowed to the values that mean something:
 * the kernel stores tcp_syncookies as any 0-255, but only 0, 1 and 2 have a
 * meaning, so anything else in a profile is a mistake worth catching. */
#include "keys.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util.h"


const struct key_info keys_table[] = {
	{ "net/core/somaxconn", KEY_INT, 1, 0, INT32_MAX, KEY_SCOPE_NETNS, true,
	  "ceiling for every listen() backlog, applied at the time of the call" },
	{ "net/ipv4/tcp_max_syn_backlog", KEY_INT, 1, 0, INT32_MAX, KEY_SCOPE_NETNS, true,
	  "with tcp_syncookies=0, SYNs from unproven peers are dropped once fewer than 1/4 of this many request slots remain" },
	{ "net/ipv4/tcp_syncookies", KEY_INT, 1, 0, 2, KEY_SCOPE_NETNS, true,
	  "0 drops SYNs when a listener's SYN queue is full, 1 answers them with cookies, 2 always uses cookies" },
	{ "net/ipv4/tcp_abort_on_overflow", KEY_INT, 1, 0, 1, KEY_SCOPE_NETNS, true,
	  "1 resets a connection the full accept queue cannot take instead of letting the client retry" },
	{ "net/ipv4/tcp_synack_retries", KEY_INT, 1, 0, 255, KEY_SCOPE_NETNS, true,
	  "SYN-ACK retransmissions before a half-open request is dropped from the SYN queue" },
	{ "net/ipv4/tcp_syn_retries", KEY_INT, 1, 1, 127, KEY_SCOPE_NETNS, false,
	  "SYN retransmissions of an outgoing connect() before it fails" },
	{ "net/core/netdev_max_backlog", KEY_INT, 1, 1, INT32_MAX, KEY_SCOPE_GLOBAL, true,
	  "packets queued per CPU between the driver and the stack (host-wide, initial namespace only)" },
	{ "net/ipv4/ip_local_port_range", KEY_INT_VEC, 2, 1, 65535, KEY_SCOPE_NETNS, false,
	  "ephemeral ports for outgoing connections, low then high" },
	{ "net/ipv4/tcp_fin_timeout", KEY_INT, 1, 0, INT32_MAX, KEY_SCOPE_NETNS, false,
	  "seconds an orphaned connection stays in FIN-WAIT-2" },
	{ "net/ipv4/tcp_tw_reuse", KEY_INT, 1, 0, 2, KEY_SCOPE_NETNS, false,
	  "reuse TIME-WAIT sockets for new outgoing connections (2: loopback only)" },
};
const size_t keys_count = ARRAY_SIZE(keys_table);

/* net.* keys that are host-wide. Most such keys exist only in the initial
 * namespace (register_net_sysctl(&init_net, ...)), so inside another
 * namespace they are missing rather than shared; the list matters for
 * saying the truth about them in the initial namespace. */
static const char *const global_net_keys[] = {
	"net/core/netdev_max_backlog", "net/core/netdev_budget",
	"net/core/netdev_budget_usecs", "net/core/dev_weight",
	"net/core/rps_sock_flow_entries", "net/core/flow_limit_table_len",
	"net/ipv4/tcp_mem", "net/ipv4/udp_mem",
};

static bool key_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
	       c == '/';
}

int key_canonicalize(const char *text, char *path, size_t size, const char **why)
{
	const char *dummy;
	size_t len, i;
	bool slashed;

	if (!why)
		why = &dummy;
	if (!text || !*text) {
		*why = "empty key";
		return -EINVAL;
	}
	len = strlen(text);
	if (len >= KEY_PATH_MAX || len >= size) {
		*why = "key too long";
		return -ENAMETOOLONG;
	}
	if (text[0] == '/' || text[0] == '.') {
		*why = "key must be relative to /proc/sys";
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		if (!key_char_ok(text[i])) {
			*why = "key holds a character outside [A-Za-z0-9_.-/]";
			return -EINVAL;
		}
	}
	/* In the dotted form, as sysctl(8) and systemd read it, a '/' stands
	 * for a dot inside a name: net.ipv4.conf.eth0/100.rp_filter is
	 * interface eth0.100. */
	slashed = text[strcspn(text, "./")] == '/';
	for (i = 0; i <= len; i++)
		path[i] = slashed ? text[i] : text[i] == '.' ? '/' : text[i] == '/' ? '.' : text[i];

	/* Every segment must be a real name: no "", ".", "..". */
	for (const char *seg = path; ; ) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);

		if (n == 0 || (n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.')) {
			*why = n ? "key escapes /proc/sys (\".\" or \"..\")"
				 : "key has an empty segment";
			path[0] = '\0';
			return -EINVAL;
		}
		if (!end)
			break;
		seg = end + 1;
	}
	return 0;
}

void key_display(const char *path, char *out, size_t size)
{
	bool has_dot = strchr(path, '.') != NULL;

	snprintf(out, size, "%s", path);
	if (has_dot)
		return;
	for (char *p = out; *p; p++)
		if (*p == '/')
			*p = '.';
}

const struct key_info *key_lookup(const char *path)
{
	for (size_t i = 0; i < keys_count; i++)
		if (strcmp(keys_table[i].path, path) == 0)
			return &keys_table[i];
	return NULL;
}

bool key_is_per_netns(const char *path)
{
	const struct key_info *info = key_lookup(path);

	if (info)
		return info->scope == KEY_SCOPE_NETNS;
	if (strncmp(path, "net/", 4) != 0)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(global_net_keys); i++)
		if (strcmp(global_net_keys[i], path) == 0)
			return false;
	return true;
}

int key_parse_vec(const char *value, int64_t *vals, size_t max)
{
	char buf[KEY_VALUE_MAX];
	char *save = NULL, *tok;
	size_t n = 0;

	if (strlen(value) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, value);
	for (tok = strtok_r(buf, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
		if (n == max)
			return -EINVAL;
		if (util_parse_i64(tok, &vals[n]) < 0)
			return -EINVAL;
		n++;
	}
	return (int)n;
}

static int check_text(const char *value, char *canon, size_t size, const char **why)
{
	size_t len = strlen(value);

	if (len >= KEY_VALUE_MAX || len >= size) {
		*why = "value too long";
		return -ERANGE;
	}
	/* A newline or other control byte would end a sysctl.d line early
	 * and smuggle in another assignment. */
	if (util_find_control(value, len, "\t")) {
		*why = "value holds a control character";
		return -EINVAL;
	}
	memcpy(canon, value, len + 1);
	util_normalize_ws(canon);
	return 0;
}

int key_check_value(const struct key_info *info, const char *value,
		    char *canon, size_t size, const char **why)
{
	const char *dummy;
	int64_t vals[8];
	int r;

	if (!why)
		why = &dummy;
	r = check_text(value, canon, size, why);
	if (r < 0 || !info || info->type == KEY_STRING)
		return r;

	if (info->type == KEY_INT) {
		r = util_parse_i64(canon, &vals[0]);
		if (r < 0) {
			*why = r == -ERANGE ? "integer out of range" : "not a decimal integer";
			return r;
		}
		r = 1;
	} else {
		r = key_parse_vec(canon, vals, ARRAY_SIZE(vals));
		if (r < 0 || (unsigned)r != info->nvals) {
			*why = "wrong number of integers";
			return -EINVAL;
		}
	}
	for (int i = 0; i < r; i++) {
		if (vals[i] < info->min || vals[i] > info->max) {
			*why = "value outside the range the kernel accepts for this key";
			return -ERANGE;
		}
	}
	/* A range must be ascending (the kernel rejects "40000 1024"). */
	if (info->type == KEY_INT_VEC && r == 2 && vals[0] > vals[1]) {
		*why = "range must be low then high";
		return -EINVAL;
	}
	/* Rewritten from the numbers, so "0100" and "100" compare equal. */
	size_t off = 0;
	for (int i = 0; i < r && off < size; i++)
		off += (size_t)snprintf(canon + off, size - off, "%s%lld",
					i ? " " : "", (long long)vals[i]);
	return 0;
}

bool key_values_equal(const struct key_info *info, const char *a, const char *b)
{
	char na[KEY_VALUE_MAX], nb[KEY_VALUE_MAX];

	if (info && info->type != KEY_STRING) {
		int64_t va[8], vb[8];
		int ca = key_parse_vec(a, va, ARRAY_SIZE(va));
		int cb = key_parse_vec(b, vb, ARRAY_SIZE(vb));

		if (ca > 0 && ca == cb)
			return memcmp(va, vb, (size_t)ca * sizeof(va[0])) == 0;
	}
	snprintf(na, sizeof(na), "%s", a);
	snprintf(nb, sizeof(nb), "%s", b);
	util_normalize_ws(na);
	util_normalize_ws(nb);
	return strcmp(na, nb) == 0;
}
