/* fuzz_sysctld: libFuzzer target for the sysctl.d replay. A scratch --root
 * tree holds a few fixed files (a vendor file in /usr/lib/sysctl.d with a
 * glob, one the input's name masks); the input becomes
 * ROOT/etc/sysctl.d/50-fuzz.conf, and whatever follows a form feed in it
 * becomes ROOT/etc/sysctl.conf (procps reads that last). Then both tools'
 * answers are asked for fixed keys and for the keys the input names, and,
 * as `apply --persist` would, the values systemd-sysctl ends with are
 * rendered into a file: read back, that file must give the same values. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctx.h"
#include "diag.h"
#include "fuzz_tree.h"
#include "persist.h"
#include "sysctld.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_KEYS_MAX 32          /* keys of the input looked up per run */

static char fz_conf[300], fz_sysctl_conf[300];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc; (void)argv;
	fuzz_tree_make("sysctld");
	fuzz_tree_put("usr/lib/sysctl.d/10-vendor.conf",
		      "net.core.somaxconn = 4096\nnet.ipv4.conf.*.rp_filter = 2\n-net.ipv4.conf.lo.rp_filter\n");
	fuzz_tree_put("usr/lib/sysctl.d/50-fuzz.conf", "net.core.somaxconn = 1\n");
	fuzz_tree_put("run/sysctl.d/99-late.conf", "net.ipv4.tcp_syncookies = 1\n");
	fuzz_tree_put("etc/sysctl.d/50-fuzz.conf", "");
	snprintf(fz_conf, sizeof(fz_conf), "%s/etc/sysctl.d/50-fuzz.conf", fuzz_root);
	snprintf(fz_sysctl_conf, sizeof(fz_sysctl_conf), "%s/etc/sysctl.conf", fuzz_root);
	return 0;
}

static struct sysctld_config *fz_load(const struct qt_ctx *ctx, struct qt_diags *d)
{
	struct sysctld_config *c = NULL;

	if (sysctld_load(ctx, &c, d) < 0 || !c)
		abort();        /* the root exists: only files may be refused */
	return c;
}

static void fz_ask(const struct sysctld_config *c, const char *key)
{
	const struct sysctld_entry *hist[8];
	struct sysctld_resolved res;

	if (sysctld_resolve(c, key, &res) < 0)
		return;
	for (int t = 0; t < SYSCTLD_NTOOLS; t++) {
		int n = sysctld_history(c, key, (enum sysctld_tool)t, hist, 8);
		if (n < 0)
			abort();        /* resolve accepted the key */
		/* The deciding line is one of the lines that concern the key. */
		if (res.by[t].entry && n == 0)
			abort();
	}
}

/* The persisted file reproduces what it was rendered from. */
static void fz_round_trip(const struct qt_ctx *ctx, const struct sysctld_config *c)
{
	struct persist_assign a[FZ_KEYS_MAX];
	struct sysctld_value v;
	struct qt_diags d = { 0 };
	size_t n = 0, len = 0;
	char *bytes = NULL;

	for (size_t i = 0; i < c->nentries && n < FZ_KEYS_MAX; i++) {
		const struct sysctld_entry *e = &c->entries[i];

		if (e->glob || !e->value)
			continue;
		if (sysctld_lookup(c, e->key, SYSCTLD_SYSTEMD, &v) != 1)
			continue;
		a[n].key = e->key;
		a[n].value = v.value;
		n++;
	}
	if (n == 0)
		return;
	if (persist_render("# fuzz\n", a, n, &bytes, &len, &d) == 0) {
		fuzz_tree_write(fz_conf, bytes, len);
		unlink(fz_sysctl_conf);
		struct sysctld_config *again = fz_load(ctx, &d);
		for (size_t i = 0; i < n; i++) {
			if (sysctld_lookup(again, a[i].key, SYSCTLD_SYSTEMD, &v) != 1 ||
			    strcmp(v.value, a[i].value) != 0) {
				fprintf(stderr, "round trip: %s = \"%s\" read back as \"%s\"\n",
					a[i].key, a[i].value, v.value ? v.value : "(unset)");
				abort();
			}
		}
		sysctld_config_free(again);
	}
	free(bytes);
	diags_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fixed[] = {
		"net.core.somaxconn", "net.ipv4.tcp_syncookies", "net.ipv4.conf.lo.rp_filter",
		"net.ipv4.conf.all.rp_filter", "net/ipv4/conf/eth0.100/rp_filter", "kernel.msgmax",
	};
	struct qt_ctx ctx = { .root = fuzz_root, .procsys_fd = -1, .proc_fd = -1,
			      .netns_initial = -1, .out = fuzz_sink };
	struct qt_diags d = { 0 };
	const uint8_t *ff = memchr(data, '\f', size);
	size_t first = ff ? (size_t)(ff - data) : size;

	fuzz_tree_write(fz_conf, data, first);
	if (ff)
		fuzz_tree_write(fz_sysctl_conf, ff + 1, size - first - 1);
	else
		unlink(fz_sysctl_conf);

	struct sysctld_config *c = fz_load(&ctx, &d);
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		fz_ask(c, fixed[i]);
	for (size_t i = 0, asked = 0; i < c->nentries && asked < FZ_KEYS_MAX; i++) {
		if (c->entries[i].glob)
			continue;
		fz_ask(c, c->entries[i].key);
		asked++;
	}
	fz_round_trip(&ctx, c);
	diags_print(fuzz_sink, &d, QT_LEVEL_OK);
	diags_free(&d);
	sysctld_config_free(c);
	return 0;
}
