/* keys: the table of known keys and the key/value gate.
 *
 * Ranges are the kernel's own (net/core/sysctl_net_core.c,
 * net/ipv4/sysctl_net_ipv4.c) narrowed to the values that mean something:
 * the kernel stores tcp_syncookies as any 0-255, but only 0, 1 and 2 have a
 * meaning, so anything else in a profile is a mistake worth catching. */
#include "keys.h"

#include <errno.h>
#include <fnmatch.h>
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

/* The integer handlers behind the keys qtune models writes to, with the
 * ranges the kernel itself enforces (probed on 6.18: tcp_syncookies takes
 * any 0-255, where the profile table above accepts only 0-2). Patterns are
 * fnmatch(3) with FNM_PATHNAME: <IF> is any interface. */
struct kernel_int {
	const char *pattern;
	unsigned nvals;
	long long min, max;
};

#define KI32 (-2147483647LL - 1), 2147483647LL
static const struct kernel_int kernel_ints[] = {
	{ "net/core/somaxconn", 1, 0, 2147483647LL },
	{ "net/core/netdev_max_backlog", 1, KI32 },
	{ "net/ipv4/tcp_max_syn_backlog", 1, KI32 },
	{ "net/ipv4/tcp_syncookies", 1, 0, 255 },          /* u8 */
	{ "net/ipv4/tcp_abort_on_overflow", 1, 0, 255 },
	{ "net/ipv4/tcp_synack_retries", 1, 0, 255 },
	{ "net/ipv4/tcp_syn_retries", 1, 1, 127 },
	{ "net/ipv4/tcp_tw_reuse", 1, 0, 2 },
	/* seconds, stored as jiffies: the bound is INT_MAX / HZ, here for
	 * Debian's HZ = 250 (measured; at HZ = 1000, as in Fedora and RHEL,
	 * values above 2147483 are refused too) */
	{ "net/ipv4/tcp_fin_timeout", 1, -8589934LL, 8589934LL },
	/* low then high, low at least ip_unprivileged_port_start (1024 unless
	 * changed): checked below */
	{ "net/ipv4/ip_local_port_range", 2, 1, 65535 },
	{ "net/unix/max_dgram_qlen", 1, KI32 },
	{ "net/ipv4/conf/*/rp_filter", 1, KI32 },
	{ "net/ipv4/conf/*/log_martians", 1, KI32 },
	{ "net/ipv4/conf/*/accept_redirects", 1, KI32 },
	{ "net/ipv4/conf/*/send_redirects", 1, KI32 },
	{ "net/ipv4/conf/*/secure_redirects", 1, KI32 },
	{ "net/ipv4/conf/*/accept_source_route", 1, KI32 },
	{ "net/ipv6/conf/*/hop_limit", 1, 1, 255 },
	{ "net/ipv6/conf/*/accept_ra", 1, KI32 },
};

static bool kernel_skip(char c)
{
	/* proc_skip_spaces(): isspace() */
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* One number as proc_get_long() reads it: 1 with *v set, 0 refused. */
static int kernel_number(const char **pp, long long *v)
{
	const char *p = *pp, *start;
	unsigned long long acc = 0;
	unsigned base = 10;
	bool neg = false;

	if (*p == '-') {
		neg = true;
		p++;
	}
	if (*p < '0' || *p > '9')
		return 0;
	start = p;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
	    ((p[2] >= '0' && p[2] <= '9') || (p[2] >= 'a' && p[2] <= 'f') || (p[2] >= 'A' && p[2] <= 'F'))) {
		base = 16;
		p += 2;
	} else if (p[0] == '0') {
		base = 8;
	}
	for (;; p++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			break;
		if (d >= base)
			break;
		if (acc > (~0ULL - d) / base)
			return 0;   /* strtoul_lenient overflow */
		acc = acc * base + d;
	}
	/* TMPBUFLEN: a number of 21 characters or more is refused */
	if (p - start + neg >= 21)
		return 0;
	/* the number must end at a blank, a tab, a newline or the end */
	if (*p && *p != ' ' && *p != '\t' && *p != '\n')
		return 0;
	if (neg ? acc > 2147483648ULL : acc > 2147483647ULL)
		return 0;   /* do_proc_dointvec_conv */
	*v = neg ? -(long long)acc : (long long)acc;
	*pp = p;
	return 1;
}

int key_kernel_store(const char *path, const char *value, char *out, size_t size)
{
	const struct kernel_int *k = NULL;
	long long v[2];
	unsigned n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(kernel_ints) && !k; i++)
		if (fnmatch(kernel_ints[i].pattern, path, FNM_PATHNAME) == 0)
			k = &kernel_ints[i];
	if (!k)
		return -ENOENT;
	for (const char *p = value; n < k->nvals; n++) {
		while (kernel_skip(*p))
			p++;
		if (!*p)
			break;
		if (!kernel_number(&p, &v[n]) || v[n] < k->min || v[n] > k->max)
			return 0;
	}
	if (n == 0)
		return 0;   /* nothing but blanks: EINVAL */
	if (n < k->nvals)
		return -ENOENT;   /* the rest keeps whatever the key held */
	if (k->nvals == 2 && (v[1] < v[0] || v[0] < 1024))
		return 0;
	if (k->nvals == 2)
		snprintf(out, size, "%lld %lld", v[0], v[1]);
	else
		snprintf(out, size, "%lld", v[0]);
	return 1;
}
