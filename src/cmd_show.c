/* show: the listen-queue keys as they are now, what they mean for a new
 * listener's queues, and the counters that tell whether queues overflow. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cmd_common.h"
#include "commands.h"
#include "findings.h"
#include "keys.h"
#include "netstat.h"
#include "output.h"
#include "prometheus.h"
#include "sysctl.h"
#include "sysctld.h"
#include "boot_report.h"
#include "util.h"

struct limits {
	int64_t somaxconn, max_syn_backlog, syncookies;
	int64_t accept_queue;   /* connections a listen(fd, SOMAXCONN) socket holds */
	int64_t syn_queue;      /* half-open requests it holds, for new peers */
};

/* show prints -1 for what could not be read (schema 1). */
static void compute_limits(struct qt_ctx *ctx, struct limits *l)
{
	struct queue_limits k;

	sysctl_read_limits(ctx->procsys_fd, &k, &ctx->diags);
	l->somaxconn = k.have_somaxconn ? k.somaxconn : -1;
	l->max_syn_backlog = k.have_max_syn_backlog ? k.max_syn_backlog : -1;
	l->syncookies = k.have_syncookies ? k.syncookies : -1;
	l->accept_queue = l->somaxconn >= 0 ? findings_accept_queue_holds(l->somaxconn) : -1;
	l->syn_queue = l->somaxconn >= 0 && l->max_syn_backlog >= 0 && l->syncookies >= 0
		? findings_syn_queue_limit(l->somaxconn, l->max_syn_backlog, l->syncookies).new_peers : -1;
}

static const char *syn_queue_note(int64_t syncookies)
{
	switch (syncookies) {
	case 0: return "beyond it SYNs are dropped (TCPReqQFullDrop)";
	case 1: return "beyond it SYN cookies answer instead (TCPReqQFullDoCookies)";
	case 2: return "cookies answer every SYN; nothing is queued";
	}
	return "";
}

static void show_text(struct qt_ctx *ctx, const struct limits *l,
		      const struct netstat_counter *c, bool have_counters)
{
	char shown[KEY_PATH_MAX], value[KEY_VALUE_MAX];
	const char *b = output_color(ctx->color, OUT_BOLD), *r = output_color(ctx->color, OUT_RESET);

	fprintf(ctx->out, "%snetwork namespace%s %" PRIu64 " (%s), kernel %s\n\n", b, r,
		ctx->netns_inode, ctx->netns_initial == 1 ? "initial" : ctx->netns_initial == 0
		? "not the initial one" : "unknown whether initial", ctx->kernel_release);
	fprintf(ctx->out, "%-30s  %-12s  %s\n", "KEY", "VALUE", "MEANING");
	for (size_t i = 0; i < keys_count; i++) {
		if (!keys_table[i].listen_queue)
			continue;
		key_display(keys_table[i].path, shown, sizeof(shown));
		if (sysctl_read(ctx->procsys_fd, keys_table[i].path, value, sizeof(value)) < 0)
			snprintf(value, sizeof(value), "%s", keys_table[i].scope == KEY_SCOPE_GLOBAL
				 ? "n/a" : "unreadable");
		fprintf(ctx->out, "%-30s  %-12s  %s\n", shown, value, keys_table[i].meaning);
	}
	fprintf(ctx->out, "\n%seffective limits of a new listener%s (listen(fd, N) stores min(N, somaxconn) as its backlog B)\n", b, r);
	if (l->accept_queue >= 0) {
		fprintf(ctx->out, "  accept queue: B + 1 connections; at most %" PRId64
			" (B = somaxconn = %" PRId64 ")\n", l->accept_queue, l->somaxconn);
	}
	if (l->syn_queue >= 0) {
		if (l->syncookies == 0)
			fprintf(ctx->out, "  SYN queue:    min(B, M - M/4) + 1 for new peers with M = tcp_max_syn_backlog = %" PRId64
				"; at most %" PRId64 "; %s\n", l->max_syn_backlog, l->syn_queue,
				syn_queue_note(l->syncookies));
		else
			fprintf(ctx->out, "  SYN queue:    B + 1 requests; at most %" PRId64
				" (tcp_max_syn_backlog plays no part with syncookies on); %s\n",
				l->syn_queue, syn_queue_note(l->syncookies));
		fprintf(ctx->out, "  (assumes the kernel's current SYN-queue test, qlen > B; kernels before the 2025 change admit one request fewer)\n");
	}
	if (!have_counters)
		return;
	fprintf(ctx->out, "\n%soverflow counters%s (TcpExt, /proc/net/netstat, since the namespace was created)\n", b, r);
	for (size_t i = 0; i < netstat_count; i++) {
		if (!c[i].present)
			continue;
		fprintf(ctx->out, "  %-22s %12" PRIu64 "  %s\n", c[i].name, c[i].value, c[i].meaning);
	}
}

static void show_json(struct qt_ctx *ctx, const struct limits *l,
		      const struct netstat_counter *c, bool have_counters)
{
	char shown[KEY_PATH_MAX], value[KEY_VALUE_MAX];
	struct jw *w = ctx->json;

	jw_key(w, "keys");
	jw_array_begin(w);
	for (size_t i = 0; i < keys_count; i++) {
		if (!keys_table[i].listen_queue)
			continue;
		key_display(keys_table[i].path, shown, sizeof(shown));
		jw_object_begin(w);
		jw_kstring(w, "key", shown);
		if (sysctl_read(ctx->procsys_fd, keys_table[i].path, value, sizeof(value)) == 0)
			jw_kstring(w, "value", value);
		else
			jw_kstring(w, "value", NULL);
		jw_kbool(w, "per_netns", keys_table[i].scope == KEY_SCOPE_NETNS);
		jw_kstring(w, "meaning", keys_table[i].meaning);
		jw_object_end(w);
	}
	jw_array_end(w);
	jw_key(w, "limits");
	jw_object_begin(w);
	jw_kint(w, "accept_queue_max", l->accept_queue);
	jw_kint(w, "syn_queue_max", l->syn_queue);
	jw_kstring(w, "syn_queue_rule", l->syncookies == 0 ? "min(B, M - M/4) + 1"
		   : l->syncookies == 1 ? "B + 1, then cookies" : "cookies only");
	jw_kstring(w, "kernel_assumption", "qlen > backlog (SYN queue holds B + 1)");
	jw_object_end(w);
	jw_key(w, "counters");
	jw_object_begin(w);
	for (size_t i = 0; have_counters && i < netstat_count; i++) {
		if (!c[i].present)
			continue;
		jw_key(w, c[i].name);
		jw_uint(w, c[i].value);
	}
	jw_object_end(w);
}

/* show --boot: what the next boot leaves in each listen-queue key, from
 * which file and line, under both boot tools. */
static enum qt_level show_boot(struct qt_ctx *ctx)
{
	struct sysctld_config *c = NULL;
	struct boot_row rows[16];
	size_t n = 0;

	if (sysctld_load(ctx, &c, &ctx->diags) < 0 || !c->complete) {
		sysctld_config_free(c);
		return QT_LEVEL_ERROR;
	}
	for (size_t i = 0; i < keys_count && n < ARRAY_SIZE(rows); i++) {
		if (!keys_table[i].listen_queue ||
		    sysctld_resolve(c, keys_table[i].path, &rows[n].res) < 0)
			continue;
		rows[n].key = keys_table[i].path;
		/* A host-wide key is missing from another namespace: its
		 * boot value is the host's, whatever this root says. */
		rows[n].foreign = keys_table[i].scope == KEY_SCOPE_GLOBAL && ctx->netns_initial == 0;
		n++;
	}
	if (ctx->output == QT_OUT_JSON)
		boot_render_table_json(ctx->json, rows, n);
	else
		boot_render_table(ctx->out, rows, n);
	sysctld_config_free(c);
	return QT_LEVEL_OK;
}

enum qt_level cmd_show(struct qt_ctx *ctx, const struct cmd_args *args)
{
	struct netstat_counter counters[NETSTAT_COUNTERS];
	struct limits l;
	bool have_counters;
	int r;

	bool boot = args->given[CMD_OPT_BOOT];

	if (boot && ctx->output == QT_OUT_PROMETHEUS) {
		diags_error(&ctx->diags, "show --boot has no prometheus output; check PROFILE reports boot-time compliance");
		return QT_LEVEL_ERROR;
	}
	if (boot)
		return show_boot(ctx);
	compute_limits(ctx, &l);
	if (ctx->output == QT_OUT_PROMETHEUS) {
		struct prom_inputs in;
		enum qt_level worst;

		cmd_prom_gather(ctx, &in);
		worst = prom_render_show(ctx, &in, l.accept_queue, l.syn_queue);
		cmd_prom_inputs_free(&in);
		return worst;
	}
	r = netstat_read(ctx, counters);
	have_counters = r == 0;
	if (r < 0)
		diags_warn(&ctx->diags, "/proc/net/netstat: %s", strerror(-r));
	if (ctx->output == QT_OUT_JSON)
		show_json(ctx, &l, counters, have_counters);
	else
		show_text(ctx, &l, counters, have_counters);
	return QT_LEVEL_OK;
}
