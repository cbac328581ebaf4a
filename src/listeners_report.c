/* listeners_report: text table and JSON of listeners and findings. */
#include "listeners_report.h"

#include <string.h>
#include <sys/socket.h>

#include "util.h"

#define OWNERS_SHOWN 3          /* owners named in a table cell; JSON has all */
#define CELL_MAX 640         /* 3 owners of 64-byte comms and one 256-byte unit */

void listeners_format_endpoint(const struct listener *l, char *buf, size_t size)
{
	const char *pct = l->ifname[0] ? "%" : "";

	if (l->family == AF_INET6)
		snprintf(buf, size, "[%s]%s%s:%u", l->addr, pct, l->ifname, l->port);
	else
		snprintf(buf, size, "%s%s%s:%u", l->addr, pct, l->ifname, l->port);
}

static void format_owners(const struct listener_set *set, const struct listener *l,
			  char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	if (!set->attributed || !l->owners_looked_up) {
		snprintf(buf, size, "-");
		return;
	}
	if (!l->owners_known) {
		snprintf(buf, size, set->viewer_root ? "owner unknown" : "owner unknown (needs root)");
		return;
	}
	if (l->nowners == 0) {
		snprintf(buf, size, "-");
		return;
	}
	for (size_t k = 0; k < l->nowners && k < OWNERS_SHOWN && len < size; k++) {
		const struct listener_owner *o = listener_owner_at(set, l, k);
		int n = snprintf(buf + len, size - len, "%s%s[%d]", k ? "," : "", o->comm,
				 (int)o->pid);
		len += n > 0 ? (size_t)n : 0;
	}
	uint32_t total = l->owners_total > l->nowners ? l->owners_total : l->nowners;
	if (len < size && total > OWNERS_SHOWN) {
		int n = snprintf(buf + len, size - len, " and %u more", total - OWNERS_SHOWN);
		len += n > 0 ? (size_t)n : 0;
	}
	const struct listener_owner *first = listener_owner_at(set, l, 0);
	if (len < size && first->unit[0])
		snprintf(buf + len, size - len, " (%s)", first->unit);
	else if (len < size && first->user_unit)
		snprintf(buf + len, size - len, " (user unit of uid %u)", (unsigned)first->user_uid);
}

static void format_syn(const struct listener *l, const struct queue_limits *k,
		       char *buf, size_t size)
{
	if (!k || !k->have_syncookies || (k->syncookies == 0 && !k->have_max_syn_backlog)) {
		snprintf(buf, size, "?");
		return;
	}
	struct syn_queue_limit s = findings_syn_queue_limit(l->backlog, k->max_syn_backlog,
							    k->syncookies);
	if (k->syncookies == 2)
		snprintf(buf, size, "cookies");
	else
		snprintf(buf, size, "%lld", (long long)s.new_peers);
}

/* The Drops cell: the socket's cumulative drops, "!" after a count that is
 * not 0 (the mark survives without colour), "?" when the kernel did not say. */
static void format_drops(const struct listener *l, char *buf, size_t size)
{
	if (!l->drops_known)
		snprintf(buf, size, "?");
	else
		snprintf(buf, size, l->drops ? "%u!" : "%u", l->drops);
}

/* The findings of listener i: fs is in listener order, *cursor walks it. */
static size_t findings_of(const struct findings *fs, size_t i, size_t *cursor)
{
	size_t n = 0;

	if (!fs)
		return 0;
	while (*cursor < fs->n && fs->v[*cursor].listener < i)
		(*cursor)++;
	while (*cursor + n < fs->n && fs->v[*cursor + n].listener == i)
		n++;
	return n;
}

static void format_kinds(const struct findings *fs, size_t from, size_t n, char *buf, size_t size)
{
	size_t len = 0;

	snprintf(buf, size, "-");
	for (size_t j = 0; j < n && len < size; j++) {
		int w = snprintf(buf + len, size - len, "%s%s", j ? "," : "",
				 finding_kind_name(fs->v[from + j].kind));
		len += w > 0 ? (size_t)w : 0;
	}
}

#define ADVICE_ENDPOINTS 6       /* endpoints named on one advice line */

/* One line per distinct advice: listeners with the same owner and the
 * same action share one ("127.0.0.1:80, [::]:80: run `qtune relisten`
 * ..."), in the order of their first listener. */
static void render_advice(FILE *f, const struct listener_set *set, const struct findings *fs)
{
	char ep[INET6_ADDRSTRLEN + IF_NAMESIZE + 16];

	if (!fs->nadvice)
		return;
	fprintf(f, "\nadvice:\n");
	for (size_t a = 0; a < fs->nadvice; a++) {
		const struct finding_advice *x = &fs->advice[a];
		size_t shown = 0, more = 0;
		bool seen = false;

		for (size_t b = 0; b < a && !seen; b++)
			seen = strcmp(fs->advice[b].text, x->text) == 0;
		if (seen || x->listener >= set->n)
			continue;
		fputs("  ", f);
		for (size_t b = a; b < fs->nadvice; b++) {
			if (strcmp(fs->advice[b].text, x->text) != 0 || fs->advice[b].listener >= set->n)
				continue;
			if (shown == ADVICE_ENDPOINTS) {
				more++;
				continue;
			}
			listeners_format_endpoint(&set->v[fs->advice[b].listener], ep, sizeof(ep));
			fprintf(f, "%s%s", shown++ ? ", " : "", ep);
		}
		if (more)
			fprintf(f, " and %zu more", more);
		fprintf(f, ": %s\n", x->text);
	}
}

/* One line on what the SYN limit column means under the running values,
 * and the kernel rule it assumes. */
static const char *syn_legend(const struct queue_limits *k)
{
	if (!k || !k->have_syncookies)
		return NULL;
	if (k->syncookies == 0)
		return "SYN limit: SYN requests queued for new peers, then dropped (tcp_syncookies=0: "
		       "min(backlog, tcp_max_syn_backlog - tcp_max_syn_backlog/4) + 1; Linux 2025+, "
		       "older kernels one less)";
	if (k->syncookies == 2)
		return "SYN limit: tcp_syncookies=2: nothing is queued, every SYN is answered with a cookie";
	return "SYN limit: SYN requests queued, then SYN cookies (tcp_syncookies=1: backlog + 1; "
	       "Linux 2025+, older kernels one less)";
}

void listeners_render_text(const struct qt_ctx *ctx, FILE *f, const struct listener_set *set,
			   const struct queue_limits *k, const struct findings *fs)
{
	static const char *const head[] = { "Local Address:Port", "Backlog", "Queued",
					    "SYN limit", "Owner(s)", "Findings", "Half-open", "Drops" };
	int w[8];
	char ep[INET6_ADDRSTRLEN + IF_NAMESIZE + 16], own[CELL_MAX], syn[32], kinds[64], drops[16];
	bool any_drops = false;
	size_t cursor = 0;
	const char *yellow = output_color(ctx->color, OUT_YELLOW), *reset = output_color(ctx->color, OUT_RESET);

	for (size_t c = 0; c < ARRAY_SIZE(head); c++)
		w[c] = (int)strlen(head[c]);
	/* Two passes over the rows: one for the column widths, one to print. */
	for (size_t i = 0; i < set->n; i++) {
		const struct listener *l = &set->v[i];
		int n;

		listeners_format_endpoint(l, ep, sizeof(ep));
		if ((n = (int)strlen(ep)) > w[0])
			w[0] = n;
		n = snprintf(NULL, 0, "%u", l->backlog);
		if (n > w[1])
			w[1] = n;
		n = snprintf(NULL, 0, "%u", l->queued);
		if (n > w[2])
			w[2] = n;
		format_owners(set, l, own, sizeof(own));
		if ((n = (int)strlen(own)) > w[4])
			w[4] = n;
		format_drops(l, drops, sizeof(drops));
		if ((n = (int)strlen(drops)) > w[7])
			w[7] = n;
		any_drops |= l->drops > 0;
	}
	fprintf(f, "%-*s  %*s  %*s  %*s  %*s  %*s  %-*s  %s\n", w[0], head[0], w[1], head[1], w[2],
		head[2], w[3], head[3], w[6], head[6], w[7], head[7], w[4], head[4], head[5]);
	for (size_t i = 0; i < set->n; i++) {
		const struct listener *l = &set->v[i];
		size_t nf = findings_of(fs, i, &cursor);

		listeners_format_endpoint(l, ep, sizeof(ep));
		format_owners(set, l, own, sizeof(own));
		format_syn(l, k, syn, sizeof(syn));
		format_kinds(fs, cursor, nf, kinds, sizeof(kinds));
		format_drops(l, drops, sizeof(drops));
		fprintf(f, "%-*s  %*u  %*u  %*s  %*u  %s%*s%s  %-*s  %s%s%s\n", w[0], ep, w[1],
			l->backlog, w[2], l->queued, w[3], syn, w[6], l->syn_recv,
			l->drops ? yellow : "", w[7], drops, l->drops ? reset : "", w[4], own,
			nf ? yellow : "", kinds, nf ? reset : "");
	}
	if (fs && fs->n) {
		fputc('\n', f);
		for (size_t j = 0; j < fs->n; j++) {
			const struct finding *x = &fs->v[j];
			const char *c = x->level >= QT_LEVEL_DRIFT ? yellow : "";
			if (x->listener >= set->n)
				continue;
			listeners_format_endpoint(&set->v[x->listener], ep, sizeof(ep));
			fprintf(f, "%s: %s%s%s: %s\n", ep, c, finding_kind_name(x->kind), c[0] ? reset : "",
				x->message);
		}
		render_advice(f, set, fs);
	}
	if (ctx->verbosity < 0)
		return;
	const char *legend = syn_legend(k);
	if (legend && set->n)
		fprintf(f, "\n%s\n", legend);
	if (any_drops)
		fprintf(f, "Drops: connections the kernel dropped at the socket since it started listening"
			" (!: some); a count, not a rate: `check --interval` tells whether it is dropping now\n");
	if (set->attributed && !set->owners_complete)
		fprintf(f, "%s", set->viewer_root
			? "note: some processes could not be inspected (qtune needs CAP_SYS_PTRACE over them; a security module or a user namespace can deny that)\n"
			: "note: some processes could not be inspected; run as root to see every owner\n");
	if (ctx->verbosity > 0 && set->attributed) {
		size_t looked = 0;

		for (size_t i = 0; i < set->n; i++)
			looked += set->v[i].owners_looked_up;
		fprintf(f, "owners looked up for %zu of %zu listeners; "
			"scanned %u processes: %u in other network namespaces, %u not readable, "
			"%u fd tables read\n", looked, set->n,
			set->pids_scanned, set->pids_other_netns, set->pids_denied, set->fd_tables_read);
	}
}

void listeners_render_json(struct jw *w, const struct listener_set *set,
			   const struct queue_limits *k, const struct findings *fs)
{
	size_t cursor = 0;
	bool syn_known = k && k->have_syncookies && (k->syncookies != 0 || k->have_max_syn_backlog);

	jw_key(w, "kernel_limits");
	jw_object_begin(w);
	jw_key(w, "somaxconn");
	if (k && k->have_somaxconn) jw_int(w, k->somaxconn); else jw_null(w);
	jw_key(w, "tcp_max_syn_backlog");
	if (k && k->have_max_syn_backlog) jw_int(w, k->max_syn_backlog); else jw_null(w);
	jw_key(w, "tcp_syncookies");
	if (k && k->have_syncookies) jw_int(w, k->syncookies); else jw_null(w);
	/* The rule the SYN limits assume, so a reader on an older kernel
	 * knows they are one too high there. */
	jw_kstring(w, "syn_queue_rule", "full when queued > backlog (Linux 2025 and later)");
	jw_object_end(w);
	jw_kbool(w, "owners_complete", set->attributed && set->owners_complete);
	jw_key(w, "listeners");
	jw_array_begin(w);
	for (size_t i = 0; i < set->n; i++) {
		const struct listener *l = &set->v[i];
		size_t nf = findings_of(fs, i, &cursor);

		jw_object_begin(w);
		jw_kstring(w, "family", l->family == AF_INET6 ? "ipv6" : "ipv4");
		jw_kstring(w, "address", l->addr);
		jw_kint(w, "port", l->port);
		jw_kstring(w, "interface", l->ifname[0] ? l->ifname : NULL);
		jw_kint(w, "backlog", l->backlog);
		jw_kint(w, "queued", l->queued);
		jw_kint(w, "syn_recv", l->syn_recv);
		jw_key(w, "drops");
		if (l->drops_known)
			jw_int(w, l->drops);
		else
			jw_null(w);
		jw_key(w, "syn_queue_limit");
		if (syn_known) {
			struct syn_queue_limit s = findings_syn_queue_limit(
				l->backlog, k->max_syn_backlog, k->syncookies);
			jw_int(w, s.new_peers);
			jw_kbool(w, "syn_cookies", s.cookies);
		} else {
			jw_null(w);
			jw_key(w, "syn_cookies");
			jw_null(w);
		}
		jw_kint(w, "uid", l->uid);
		jw_kint(w, "inode", l->inode);
		jw_kstring(w, "socket_unit", listener_socket_unit(set, l));
		jw_kbool(w, "owners_looked_up", set->attributed && l->owners_looked_up);
		jw_kbool(w, "owners_known", set->attributed && l->owners_known);
		/* Every owner found, and whether "owners" lists fewer. */
		jw_kint(w, "owners_total", set->attributed ? (l->owners_total > l->nowners
							   ? l->owners_total : l->nowners) : 0);
		jw_kbool(w, "owners_truncated", set->attributed && l->owners_total > l->nowners);
		jw_key(w, "owners");
		jw_array_begin(w);
		for (size_t o = 0; set->attributed && o < l->nowners; o++) {
			const struct listener_owner *p = listener_owner_at(set, l, o);
			jw_object_begin(w);
			jw_kint(w, "pid", p->pid);
			jw_key(w, "ppid");
			if (p->ppid > 0) jw_int(w, p->ppid); else jw_null(w);
			jw_kstring(w, "comm", p->comm);
			jw_kstring(w, "exe", p->exe[0] ? p->exe : NULL);
			jw_kstring(w, "unit", p->unit[0] ? p->unit : NULL);
			jw_key(w, "user_unit_uid");
			if (p->user_unit)
				jw_int(w, p->user_uid);
			else
				jw_null(w);
			jw_object_end(w);
		}
		jw_array_end(w);
		jw_key(w, "findings");
		jw_array_begin(w);
		for (size_t j = 0; j < nf; j++) {
			const struct finding *x = &fs->v[cursor + j];
			jw_object_begin(w);
			jw_kstring(w, "kind", finding_kind_name(x->kind));
			/* DESIGN.md calls it a finding at warning level; it is what
			 * makes `check` exit 1 (QT_LEVEL_DRIFT). */
			jw_kstring(w, "level", x->level >= QT_LEVEL_DRIFT ? "warning" : "info");
			jw_kint(w, "limit", x->limit);
			if (x->kind == FINDING_DROPPING) {
				jw_key(w, "drops_per_second");
				jw_double(w, x->rate);
			}
			jw_kstring(w, "message", x->message);
			jw_object_end(w);
		}
		jw_array_end(w);
		const struct finding_advice *adv = findings_advice_of(fs, i);
		jw_key(w, "advice");
		if (adv) {
			jw_object_begin(w);
			jw_kstring(w, "action", advice_action_name(adv->action));
			jw_key(w, "backlog");
			if (adv->target > 0) jw_int(w, adv->target); else jw_null(w);
			jw_kstring(w, "text", adv->text);
			jw_object_end(w);
		} else {
			jw_null(w);
		}
		jw_object_end(w);
	}
	jw_array_end(w);
}
