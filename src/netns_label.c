/* netns_label: container and pod names from cgroup paths, by structure. */
#include "netns_label.h"

#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "util.h"

#define SHORT_ID 12

static const char *const kind_names[] = {
	[NETNS_KIND_NONE] = "none", [NETNS_KIND_INITIAL] = "initial",
	[NETNS_KIND_NAMED] = "named", [NETNS_KIND_DOCKER] = "docker",
	[NETNS_KIND_CONTAINERD] = "containerd", [NETNS_KIND_PODMAN] = "podman",
	[NETNS_KIND_CRIO] = "crio", [NETNS_KIND_POD] = "pod",
	[NETNS_KIND_RUNTIME] = "runtime", [NETNS_KIND_PROCESS] = "pid",
};

const char *netns_kind_name(enum netns_kind k)
{
	return (size_t)k < ARRAY_SIZE(kind_names) ? kind_names[k] : "none";
}

static bool is_hex(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return n > 0;
}

/* A container id: 64 hex digits (Docker, containerd, Podman, CRI-O all
 * use sha256 ids). */
static bool container_id(const char *p, size_t n)
{
	return n == 64 && is_hex(p, n);
}

/* "PREFIX<64 hex>SUFFIX" → the id's start. */
static const char *wrapped_id(const char *c, size_t n, const char *prefix, const char *suffix)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);

	if (n != pl + 64 + sl || memcmp(c, prefix, pl) != 0 || memcmp(c + n - sl, suffix, sl) != 0 ||
	    !container_id(c + pl, 64))
		return NULL;
	return c + pl;
}

/* A pod UID in a path component: "pod<uid>" at its end (cgroupfs:
 * "pod1b2c…", systemd: "kubepods-burstable-pod1b2c_…_.slice", where the
 * dashes of the UID are underscores). uid receives the dashed form. */
static bool pod_uid(const char *c, size_t n, char *uid, size_t size)
{
	const char *p = NULL;
	size_t len;

	if (n > 6 && memcmp(c + n - 6, ".slice", 6) == 0)
		n -= 6;
	for (size_t i = 0; i + 3 <= n; i++)
		if (memcmp(c + i, "pod", 3) == 0 && (i == 0 || c[i - 1] == '-'))
			p = c + i + 3;
	if (!p)
		return false;
	len = n - (size_t)(p - c);
	if (len != 36 || len >= size)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = p[i] == '_' ? '-' : p[i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? ch != '-' : !is_hex(&ch, 1))
			return false;
		uid[i] = ch;
	}
	uid[len] = '\0';
	return true;
}

static void set_label(struct netns_label *out, enum netns_kind kind, const char *id, size_t idlen)
{
	out->kind = kind;
	snprintf(out->id, sizeof(out->id), "%.*s", (int)idlen, id);
	snprintf(out->text, sizeof(out->text), "%s %s", netns_kind_name(kind), out->id);
}

void netns_label_from_cgroup(const char *cgroup, struct netns_label *out)
{
	static const struct { const char *prefix, *suffix; enum netns_kind kind; } scopes[] = {
		{ "docker-", ".scope", NETNS_KIND_DOCKER },
		{ "cri-containerd-", ".scope", NETNS_KIND_CONTAINERD },
		{ "libpod-", ".scope", NETNS_KIND_PODMAN },
		{ "crio-", ".scope", NETNS_KIND_CRIO },
	};
	size_t len;
	const char *path = cgroup ? unit_cgroup_path(cgroup, &len) : NULL;
	/* Only what the system named: a user names what lies below a unit. */
	const char *end = path ? path + unit_named_len(path, len) : NULL, *prev = NULL;
	size_t prevlen = 0;
	bool kubepods = false;
	char uid[40];

	memset(out, 0, sizeof(*out));
	for (const char *p = path; p && p < end;) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		size_t n = (size_t)((slash ? slash : end) - p);
		const char *id;

		/* Kubelet names its slices kubepods…; a "pod<uid>" elsewhere
		 * is somebody else's. */
		kubepods |= n >= 8 && memcmp(p, "kubepods", 8) == 0;
		if (kubepods && pod_uid(p, n, uid, sizeof(uid))) {
			set_label(out, NETNS_KIND_POD, uid, strlen(uid));
			return;     /* the pod's, whatever container lies below */
		}
		for (size_t i = 0; i < ARRAY_SIZE(scopes) && out->kind == NETNS_KIND_NONE; i++)
			if ((id = wrapped_id(p, n, scopes[i].prefix, scopes[i].suffix)))
				set_label(out, scopes[i].kind, id, SHORT_ID);
		/* cgroupfs driver: /docker/<id> */
		if (out->kind == NETNS_KIND_NONE && container_id(p, n) && prev && prevlen == 6 &&
		    memcmp(prev, "docker", 6) == 0)
			set_label(out, NETNS_KIND_DOCKER, p, SHORT_ID);
		prev = p;
		prevlen = n;
		p += n + 1;
	}
}

void netns_label_make(const struct netns_label_source *src, struct netns_label *out)
{
	char esc[NETNS_ID_MAX], comm[64];

	memset(out, 0, sizeof(*out));
	if (src->initial) {
		out->kind = NETNS_KIND_INITIAL;
		snprintf(out->text, sizeof(out->text), "initial");
		return;
	}
	if (src->name && *src->name) {
		out->kind = NETNS_KIND_NAMED;
		util_escape(out->id, sizeof(out->id), src->name, strlen(src->name));
		snprintf(out->text, sizeof(out->text), "%s", out->id);
		return;
	}
	netns_label_from_cgroup(src->cgroup, out);
	if (out->kind != NETNS_KIND_NONE)
		return;
	if (src->runtime && src->runtime_file && *src->runtime_file) {
		out->kind = NETNS_KIND_RUNTIME;
		util_escape(esc, sizeof(esc), src->runtime_file, strlen(src->runtime_file));
		snprintf(out->id, sizeof(out->id), "%s", esc);
		snprintf(out->text, sizeof(out->text), "%s netns %s", src->runtime, esc);
		return;
	}
	if (src->pid > 0) {
		out->kind = NETNS_KIND_PROCESS;
		util_escape(comm, sizeof(comm), src->comm ? src->comm : "", src->comm ? strlen(src->comm) : 0);
		snprintf(out->id, sizeof(out->id), "%d", src->pid);
		snprintf(out->text, sizeof(out->text), "pid %d (%s)", src->pid, comm);
	}
}

bool netns_label_matches(const struct netns_label *l, const char *arg)
{
	const char *kind = netns_kind_name(l->kind), *colon = strchr(arg, ':');
	size_t kl = strlen(kind), al = strlen(arg);
	bool container = l->kind >= NETNS_KIND_DOCKER && l->kind <= NETNS_KIND_CRIO;

	if (l->kind == NETNS_KIND_NONE || !*arg)
		return false;
	if (strcmp(arg, l->text) == 0 || (l->id[0] && strcmp(arg, l->id) == 0))
		return true;
	if (colon && (size_t)(colon - arg) == kl && memcmp(arg, kind, kl) == 0 && l->id[0])
		return strcmp(colon + 1, l->id) == 0 ||
		       (container && strlen(colon + 1) >= 4 && strncmp(l->id, colon + 1, strlen(colon + 1)) == 0);
	/* A container's id as `docker ps` prints it, or longer (the full id). */
	if (container && al >= 4 && is_hex(arg, al))
		return al <= SHORT_ID ? strncmp(l->id, arg, al) == 0 : strncmp(arg, l->id, SHORT_ID) == 0 && al <= 64;
	return false;
}
