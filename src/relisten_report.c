/* relisten_report: relisten results as text and JSON. */
#include "relisten_report.h"

#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "listeners_report.h"

#define ENDPOINT_MAX (INET6_ADDRSTRLEN + IF_NAMESIZE + 16)
/* A reason and an advice (each at most 512 bytes, relisten.c) and the rest. */
#define RELISTEN_LINE_MAX (2 * 512 + 256)

/* ", the ceiling: the program's own request is unknown (capped at
 * somaxconn)": the target is a choice, and said to be one. */
static void choice_phrase(const struct relisten_result *r, char *buf, size_t size)
{
	snprintf(buf, size, ", %s%s", relisten_choice_text(r->choice),
		 r->capped && r->choice != RELISTEN_TO_CEILING ? " (capped at somaxconn)" : "");
}

static void describe(const struct relisten_results *rs, const struct relisten_result *r,
		     char *buf, size_t size)
{
	char who[LISTENERS_COMM_MAX + 320] = "", why[128];
	int n = 0;

	if (r->pid > 0)
		n = snprintf(who, sizeof(who), " (pid %d %s", (int)r->pid, r->comm[0] ? r->comm : "?");
	if (r->setting[0] && n >= 0 && (size_t)n < sizeof(who))
		n += snprintf(who + n, sizeof(who) - (size_t)n, "%sits own setting: %s",
			      n ? "; " : " (", r->setting);
	if (n > 0 && (size_t)n < sizeof(who) - 1)
		strcat(who, ")");
	choice_phrase(r, why, sizeof(why));
	switch (r->status) {
	case RELISTEN_RAISED:
		snprintf(buf, size, "raised %lld -> %lld%s%s%s", (long long)r->old_backlog,
			 (long long)(r->backlog_now >= 0 ? r->backlog_now : r->new_backlog), why, who,
			 r->backlog_now >= 0 ? "" : ", not read back");
		break;
	case RELISTEN_WOULD_RAISE:
		snprintf(buf, size, "would raise %lld -> %lld%s%s", (long long)r->old_backlog,
			 (long long)r->new_backlog, why, who);
		break;
	case RELISTEN_ALREADY_FINE:
		snprintf(buf, size, "already fine: backlog %lld reaches %lld",
			 (long long)(r->backlog_now >= 0 ? r->backlog_now : r->old_backlog),
			 (long long)r->new_backlog);
		break;
	case RELISTEN_FAILED:
		snprintf(buf, size, "%s (%lld, wanted %lld): %s%s%s",
			 rs->dry_run ? "would not be raised" : "not raised",
			 (long long)r->old_backlog, (long long)r->new_backlog,
			 r->reason ? r->reason : "?", r->advice ? "; " : "", r->advice ? r->advice : "");
		break;
	}
}

void relisten_render_text(const struct qt_ctx *ctx, FILE *f, const struct listener_set *set,
			  const struct relisten_results *r)
{
	char ep[ENDPOINT_MAX], line[RELISTEN_LINE_MAX];
	const char *reset = output_color(ctx->color, OUT_RESET);
	int w = 0;

	for (size_t i = 0; i < r->n; i++) {
		listeners_format_endpoint(&set->v[r->v[i].listener], ep, sizeof(ep));
		if ((int)strlen(ep) > w)
			w = (int)strlen(ep);
	}
	for (size_t i = 0; i < r->n; i++) {
		const struct relisten_result *x = &r->v[i];
		const char *color = "";

		if (ctx->verbosity < 0 && x->status != RELISTEN_FAILED)
			continue;
		if (x->status == RELISTEN_FAILED)
			color = output_color(ctx->color, OUT_YELLOW);
		else if (x->status == RELISTEN_RAISED)
			color = output_color(ctx->color, OUT_GREEN);
		listeners_format_endpoint(&set->v[x->listener], ep, sizeof(ep));
		describe(r, x, line, sizeof(line));
		fprintf(f, "%-*s  %s%s%s\n", w, ep, color, line, color[0] ? reset : "");
	}
	if (ctx->verbosity < 0)
		return;
	if (r->n == 0) {
		fprintf(f, "relisten%s: no listener to raise\n", r->dry_run ? " (dry run)" : "");
		return;
	}
	if (r->dry_run)
		fprintf(f, "relisten (dry run): %zu would be raised, %zu already fine, "
			   "%zu would not be raised\n", r->nwould, r->nfine, r->nfailed);
	else
		fprintf(f, "relisten: %zu raised, %zu already fine, %zu not raised\n",
			r->nraised, r->nfine, r->nfailed);
}

void relisten_render_json(struct jw *w, const struct listener_set *set,
			  const struct relisten_results *r)
{
	jw_key(w, "relisten");
	jw_object_begin(w);
	jw_kbool(w, "dry_run", r->dry_run);
	jw_kbool(w, "confirmed", r->confirmed);
	jw_kbool(w, "cap_sys_ptrace", r->cap_sys_ptrace);
	jw_key(w, "ptrace_scope");
	if (r->ptrace_scope >= 0) jw_int(w, r->ptrace_scope); else jw_null(w);
	jw_kint(w, "raised", (int64_t)r->nraised);
	jw_kint(w, "would_raise", (int64_t)r->nwould);
	jw_kint(w, "already_fine", (int64_t)r->nfine);
	jw_kint(w, "failed", (int64_t)r->nfailed);
	jw_key(w, "listeners");
	jw_array_begin(w);
	for (size_t i = 0; i < r->n; i++) {
		const struct relisten_result *x = &r->v[i];
		const struct listener *l = &set->v[x->listener];

		jw_object_begin(w);
		jw_kstring(w, "family", l->family == AF_INET6 ? "ipv6" : "ipv4");
		jw_kstring(w, "address", l->addr);
		jw_kint(w, "port", l->port);
		jw_kstring(w, "interface", l->ifname[0] ? l->ifname : NULL);
		jw_key(w, "inode");
		jw_uint(w, x->inode);
		jw_kstring(w, "result", relisten_status_name(x->status));
		jw_key(w, "why");
		jw_array_begin(w);
		if (x->clamped)
			jw_string(w, finding_kind_name(FINDING_CLAMPED));
		if (x->maybe_clamped)
			jw_string(w, finding_kind_name(FINDING_MAYBE_CLAMPED));
		if (x->below_min)
			jw_string(w, finding_kind_name(FINDING_BELOW_MIN));
		jw_array_end(w);
		jw_kint(w, "backlog_before", x->old_backlog);
		jw_kint(w, "backlog_target", x->new_backlog);
		jw_key(w, "backlog_after");
		if (x->backlog_now >= 0) jw_int(w, x->backlog_now); else jw_null(w);
		jw_key(w, "pid");
		if (x->pid > 0) jw_int(w, x->pid); else jw_null(w);
		jw_kstring(w, "comm", x->pid > 0 ? x->comm : NULL);
		jw_kstring(w, "reason", x->reason);
		jw_kstring(w, "advice", x->advice);
		/* The target is a choice: which one, and whether somaxconn cut it. */
		jw_kstring(w, "target_choice", relisten_choice_name(x->choice));
		jw_kbool(w, "target_capped", x->capped);
		jw_kstring(w, "program_setting", x->setting[0] ? x->setting : NULL);
		jw_object_end(w);
	}
	jw_array_end(w);
	jw_object_end(w);
}
