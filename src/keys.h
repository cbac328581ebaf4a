/* keys: the listen-queue keys qtune knows (type, the values that mean
 * something, whether they belong to a network namespace, one line of
 * meaning), the one gate every key text passes before a /proc/sys path
 * is built from it, when two values of a key are the same setting, and
 * what the kernel stores when a boot tool writes a value to an integer key.
 * Pure: no I/O. */
#ifndef QTUNE_KEYS_H
#define QTUNE_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEY_PATH_MAX 256
#define KEY_VALUE_MAX 4096

enum key_type {
	KEY_INT,        /* one integer */
	KEY_INT_VEC,    /* nvals integers separated by blanks */
	KEY_STRING,     /* anything; compared whitespace-normalised */
};

enum key_scope {
	KEY_SCOPE_NETNS,   /* belongs to the network namespace */
	KEY_SCOPE_GLOBAL,  /* host-wide whatever namespace writes it */
};

struct key_info {
	const char *path;     /* slashed form relative to /proc/sys */
	enum key_type type;
	unsigned nvals;       /* for KEY_INT_VEC */
	int64_t min, max;     /* valid range of each integer */
	enum key_scope scope;
	bool listen_queue;    /* shown by `show` */
	const char *meaning;
};

extern const struct key_info keys_table[];
extern const size_t keys_count;

/* Turns "net.core.somaxconn" or "net/core/somaxconn" into the slashed
 * path "net/core/somaxconn". As sysctl(8) does, the form is decided by the
 * first separator: if it is '/', dots are part of names; if it is '.', a
 * '/' stands for a dot inside a name (eth0/100 is eth0.100). Rejects (-EINVAL)
 * empty text, absolute paths, empty, "." and ".." segments, any byte outside
 * [A-Za-z0-9_.-/], and paths longer than KEY_PATH_MAX - 1 (-ENAMETOOLONG).
 * On failure *why says what is wrong. */
int key_canonicalize(const char *text, char *path, size_t size, const char **why);

/* The dotted form for display when no segment holds a dot, else the path. */
void key_display(const char *path, char *out, size_t size);

const struct key_info *key_lookup(const char *path);

/* Whether the key belongs to the network namespace: net.* except the keys
 * known to be host-wide. */
bool key_is_per_netns(const char *path);

/* Checks a value against a known key and writes its canonical text
 * (integers in decimal, vectors single-spaced). -EINVAL or -ERANGE with
 * *why set. With info NULL, only normalises whitespace and bounds length. */
int key_check_value(const struct key_info *info, const char *value,
		    char *canon, size_t size, const char **why);

/* Parses a KEY_INT_VEC value into at most max integers; returns the count
 * or -EINVAL. Used to compare vectors numerically. */
int key_parse_vec(const char *value, int64_t *vals, size_t max);

/* Whether two values of a key are the same setting: numerically for known
 * integer keys ("0100" is 100, blanks between vector items do not count),
 * whitespace-normalised text otherwise. info NULL: an unknown key. */
bool key_values_equal(const struct key_info *info, const char *a, const char *b);

/* What the kernel stores when value (the text a boot tool writes, without
 * its newline) is written to path (slashed). For the integer keys whose
 * handler qtune knows (the table above with the kernel's own ranges, and
 * common per-interface keys such as net/ipv4/conf/<IF>/rp_filter) it parses
 * as proc_dointvec does: leading blanks skipped, an optional '-', decimal,
 * 0x hex or 0 octal, each number ended by a blank, tab or the end, what
 * follows the last number ignored ("1024 # raised" stores 1024), the
 * range checked. Returns 1 with the stored text in out ("16" for "0x10"),
 * 0 when the kernel refuses the write ("abc", "", "5#x", out of range), or
 * -ENOENT when qtune does not know how the kernel parses the key. */
int key_kernel_store(const char *path, const char *value, char *out, size_t size);

#endif
