/* prometheus: node_exporter textfile metrics for check, show, listeners. */
#include "prometheus.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "findings.h"
#include "keys.h"
#include "util.h"

struct prom_family {
	const char *name, *type, *help;
};

/* The metric families, in the order they are written. Renaming one, or
 * changing its labels or meaning, breaks dashboards: docs/json-schema.md
 * lists them under the same stability promise as the JSON schema. */
static const struct prom_family
	F_INFO = { "qtune_info", "gauge",
		   "qtune version, output schema, kernel release and network namespace of this run (always 1)" },
	F_EXIT = { "qtune_check_exit_code", "gauge",
		   "exit status of qtune check: 0 compliant, 1 drift, 2 trouble" },
	F_COMPLIANT = { "qtune_check_compliant", "gauge",
			"1 when the running kernel, the next boot and the listeners all meet the profile" },
	F_VALUE = { "qtune_sysctl_value", "gauge",
		    "running value of an integer sysctl key in this network namespace" },
	F_SYSCTL_OK = { "qtune_sysctl_compliant", "gauge",
			"1 when the running value meets the profile" },
	F_BOOT_OK = { "qtune_boot_compliant", "gauge",
		      "0 when a sysctl.d file sets a value the profile does not accept at the next boot" },
	F_BOOT_SET = { "qtune_boot_set", "gauge",
		       "1 when a sysctl.d file sets the key at the next boot (systemd-sysctl rules)" },
	F_NEW_ACCEPT = { "qtune_new_listener_accept_queue_limit", "gauge",
			 "connections the accept queue of a new listen(fd, SOMAXCONN) socket holds" },
	F_NEW_SYN = { "qtune_new_listener_syn_queue_limit", "gauge",
		      "SYN requests from new peers the SYN queue of a new listen(fd, SOMAXCONN) socket holds" },
	F_BACKLOG = { "qtune_listener_backlog", "gauge",
		      "backlog of a TCP listener (ss Send-Q): its accept queue holds backlog + 1" },
	F_QUEUED = { "qtune_listener_queued", "gauge",
		     "connections waiting in a TCP listener's accept queue now (ss Recv-Q)" },
	F_SYN = { "qtune_listener_syn_queue_limit", "gauge",
		  "SYN requests from new peers a TCP listener's SYN queue holds before cookies or drops" },
	F_SYN_RECV = { "qtune_listener_syn_recv", "gauge",
		       "half-open connections (SYN received, handshake not done) in a TCP listener's SYN queue now" },
	F_DROPS = { "qtune_listener_drops_total", "counter",
		    "connections the kernel dropped at a TCP listener since it started listening (accept or SYN queue full)" },
	F_FINDING = { "qtune_listener_finding", "gauge",
		      "1 for each finding about a TCP listener (clamped, below-min, queue-full)" },
	F_TIME = { "qtune_last_run_timestamp_seconds", "gauge",
		   "when qtune wrote these metrics, seconds since the epoch" };

#define PROM_MAX_LABELS 8
#define PROM_NAME_MAX 96

struct prom_label {
	const char *name, *value;
};

struct prom_out {
	FILE *f;
	char current[PROM_NAME_MAX];   /* family whose HELP and TYPE were written last */
	/* --all-netns: netns and netns_label, first on every series, so that
	 * the namespaces' metrics merge into one textfile (prom_merge). */
	struct prom_label common[2];
	size_t ncommon;
	char netns[24];
};

void prom_snake_case(const char *camel, char *out, size_t size)
{
	size_t o = 0;

	if (size == 0)
		return;
	for (size_t i = 0; camel[i] && o + 2 < size; i++) {
		char c = camel[i], prev = i ? camel[i - 1] : 0, next = camel[i + 1];
		bool upper = c >= 'A' && c <= 'Z';
		bool prev_lower = (prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9');
		bool prev_upper = prev >= 'A' && prev <= 'Z';

		/* A word starts at an upper-case letter after a lower-case one
		 * (ListenOverflows), or at the last capital of an acronym that
		 * a lower-case word follows (TCPReq → tcp_req). */
		if (upper && i && (prev_lower || (prev_upper && next >= 'a' && next <= 'z')))
			out[o++] = '_';
		out[o++] = upper ? (char)(c - 'A' + 'a') : c;
	}
	out[o] = '\0';
}

void prom_write_label_value(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);

	while (*p) {
		size_t n = util_utf8_len(p, (size_t)(end - p));

		if (n == 0) {
			fputc('?', f);
			p++;
			continue;
		}
		if (n > 1) {
			fwrite(p, 1, n, f);
			p += n;
			continue;
		}
		switch (*p) {
		case '\\': fputs("\\\\", f); break;
		case '"': fputs("\\\"", f); break;
		case '\n': fputs("\\n", f); break;
		default: fputc(util_is_control(*p) ? '?' : *p, f);
		}
		p++;
	}
}

/* HELP text escapes backslash and newline only. */
static void write_help(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* One sample; the family's HELP and TYPE come before its first sample.
 * Callers write each family's samples together, as the format requires. */
static void sample(struct prom_out *o, const struct prom_family *fam, const char *suffix_name,
		   const struct prom_label *labels, size_t nlabels, const char *value)
{
	const char *name = suffix_name ? suffix_name : fam->name;

	if (strcmp(o->current, name) != 0) {
		fprintf(o->f, "# HELP %s ", name);
		write_help(o->f, fam->help);
		fprintf(o->f, "\n# TYPE %s %s\n", name, fam->type);
		snprintf(o->current, sizeof(o->current), "%s", name);
	}
	fputs(name, o->f);
	for (size_t i = 0; i < o->ncommon + nlabels; i++) {
		const struct prom_label *l = i < o->ncommon ? &o->common[i] : &labels[i - o->ncommon];

		fprintf(o->f, "%s%s=\"", i ? "," : "{", l->name);
		prom_write_label_value(o->f, l->value ? l->value : "");
		fputc('"', o->f);
	}
	fprintf(o->f, "%s %s\n", o->ncommon + nlabels ? "}" : "", value);
}

static void sample_int(struct prom_out *o, const struct prom_family *fam,
		       const struct prom_label *labels, size_t nlabels, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	sample(o, fam, NULL, labels, nlabels, buf);
}

static void emit_info(struct prom_out *o, const struct qt_ctx *ctx)
{
	char inode[32], schema[16];

	snprintf(inode, sizeof(inode), "%llu", (unsigned long long)ctx->netns_inode);
	snprintf(schema, sizeof(schema), "%d", QTUNE_JSON_SCHEMA);
	const struct prom_label l[] = {
		{ "version", QTUNE_VERSION_STRING },
		{ "schema", schema },
		{ "kernel", ctx->kernel_release },
		{ "netns_inode", inode },
		{ "netns_initial", ctx->netns_initial == 1 ? "true"
				   : ctx->netns_initial == 0 ? "false" : "unknown" },
	};
	sample_int(o, &F_INFO, l, ARRAY_SIZE(l), 1);
}

/* The running value of every integer key of the plan, then of the
 * listen-queue keys the plan does not hold (as the command read them). */
static void emit_sysctl_values(struct prom_out *o, const struct plan *plan,
			       const struct prom_inputs *in)
{
	char shown[KEY_PATH_MAX];
	int64_t v;

	for (size_t i = 0; plan && i < plan->n; i++) {
		if (util_parse_i64(plan->items[i].current, &v) < 0)
			continue;
		key_display(plan->items[i].key, shown, sizeof(shown));
		sample_int(o, &F_VALUE, (const struct prom_label[]){ { "key", shown } }, 1, v);
	}
	for (size_t k = 0; k < in->nvalues; k++) {
		bool in_plan = false;

		for (size_t i = 0; plan && i < plan->n && !in_plan; i++)
			in_plan = strcmp(plan->items[i].key, in->values[k].path) == 0;
		if (in_plan)
			continue;
		key_display(in->values[k].path, shown, sizeof(shown));
		sample_int(o, &F_VALUE, (const struct prom_label[]){ { "key", shown } }, 1,
			   in->values[k].value);
	}
}

static void emit_counters(struct prom_out *o, const struct netstat_counter *c)
{
	static const struct prom_family counter = { NULL, "counter", NULL };
	char snake[64], name[PROM_NAME_MAX], help[256];

	for (size_t i = 0; c && i < netstat_count; i++) {
		struct prom_family fam = counter;
		char value[32];

		if (!c[i].present)
			continue;
		prom_snake_case(c[i].name, snake, sizeof(snake));
		snprintf(name, sizeof(name), "qtune_tcpext_%s_total", snake);
		snprintf(help, sizeof(help), "TcpExt %s of /proc/net/netstat in this network namespace: %s",
			 c[i].name, c[i].meaning);
		fam.help = help;
		snprintf(value, sizeof(value), "%llu", (unsigned long long)c[i].value);
		sample(o, &fam, name, NULL, 0, value);
	}
}

/* The labels that name one listener socket. Sockets sharing an address
 * and port (SO_REUSEPORT groups) are told apart by "socket", their index
 * in inode order within the group, so that every series is unique. */
struct listener_labels {
	char port[8], socket[12];
	struct prom_label v[PROM_MAX_LABELS];
	size_t n;
};

static bool same_endpoint(const struct listener *a, const struct listener *b)
{
	return a->port == b->port && a->family == b->family && a->ifindex == b->ifindex &&
	       memcmp(a->raw, b->raw, sizeof(a->raw)) == 0;
}

/* socket_ix[i]: the index of listener i within its group. The set is
 * sorted by port, family, address, interface, inode, so a group is a run. */
static unsigned *socket_indexes(const struct listener_set *set)
{
	unsigned *ix = xcalloc(set->n ? set->n : 1, sizeof(*ix));

	for (size_t i = 1; i < set->n; i++)
		if (same_endpoint(&set->v[i], &set->v[i - 1]))
			ix[i] = ix[i - 1] + 1;
	return ix;
}

static void listener_labels(const struct listener *l, unsigned socket_ix,
			    struct listener_labels *ll)
{
	snprintf(ll->port, sizeof(ll->port), "%u", l->port);
	snprintf(ll->socket, sizeof(ll->socket), "%u", socket_ix);
	ll->n = 0;
	ll->v[ll->n++] = (struct prom_label){ "address", l->addr };
	ll->v[ll->n++] = (struct prom_label){ "port", ll->port };
	ll->v[ll->n++] = (struct prom_label){ "family", l->family == AF_INET6 ? "ipv6" : "ipv4" };
	ll->v[ll->n++] = (struct prom_label){ "interface", l->ifname };
	ll->v[ll->n++] = (struct prom_label){ "socket", ll->socket };
}

static void emit_listeners(struct prom_out *o, const struct audit *a)
{
	const struct listener_set *set = &a->set;
	const struct queue_limits *k = &a->kernel;
	unsigned *ix = socket_indexes(set);
	struct listener_labels ll;
	/* With tcp_syncookies=2 nothing is queued: no SYN queue to report. */
	bool syn_known = k->have_syncookies && k->syncookies != 2 &&
			 (k->syncookies != 0 || k->have_max_syn_backlog);

	for (size_t i = 0; i < set->n; i++) {
		listener_labels(&set->v[i], ix[i], &ll);
		sample_int(o, &F_BACKLOG, ll.v, ll.n, set->v[i].backlog);
	}
	for (size_t i = 0; i < set->n; i++) {
		listener_labels(&set->v[i], ix[i], &ll);
		sample_int(o, &F_QUEUED, ll.v, ll.n, set->v[i].queued);
	}
	for (size_t i = 0; i < set->n; i++) {
		listener_labels(&set->v[i], ix[i], &ll);
		sample_int(o, &F_SYN_RECV, ll.v, ll.n, set->v[i].syn_recv);
	}
	/* A counter that resets when the socket is closed: Prometheus's rate()
	 * takes the reset as one, and the socket label tells sockets apart. */
	for (size_t i = 0; i < set->n; i++) {
		if (!set->v[i].drops_known)
			continue;
		listener_labels(&set->v[i], ix[i], &ll);
		sample_int(o, &F_DROPS, ll.v, ll.n, set->v[i].drops);
	}
	for (size_t i = 0; syn_known && i < set->n; i++) {
		struct syn_queue_limit s = findings_syn_queue_limit(set->v[i].backlog,
								    k->max_syn_backlog, k->syncookies);
		listener_labels(&set->v[i], ix[i], &ll);
		sample_int(o, &F_SYN, ll.v, ll.n, s.new_peers);
	}
	for (size_t j = 0; j < a->findings.n; j++) {
		const struct finding *f = &a->findings.v[j];

		if (f->listener >= set->n)
			continue;
		listener_labels(&set->v[f->listener], ix[f->listener], &ll);
		ll.v[ll.n++] = (struct prom_label){ "kind", finding_kind_name(f->kind) };
		sample_int(o, &F_FINDING, ll.v, ll.n, 1);
	}
	free(ix);
}

static void emit_timestamp(struct prom_out *o, const struct timespec *now)
{
	char buf[48];

	snprintf(buf, sizeof(buf), "%lld.%03ld", (long long)now->tv_sec, now->tv_nsec / 1000000);
	sample(o, &F_TIME, NULL, NULL, 0, buf);
}

/* main renders the metrics into memory and delivers them whole, to
 * stdout or the --textfile: here they only go to ctx->out. */
static void out_begin(struct qt_ctx *ctx, struct prom_out *o)
{
	memset(o, 0, sizeof(*o));
	o->f = ctx->out;
	if (ctx->netns_label) {
		snprintf(o->netns, sizeof(o->netns), "%llu", (unsigned long long)ctx->netns_inode);
		o->common[o->ncommon++] = (struct prom_label){ "netns", o->netns };
		o->common[o->ncommon++] = (struct prom_label){ "netns_label", ctx->netns_label };
	}
}

void prom_render_netns(FILE *f, const struct prom_netns *v, size_t n)
{
	static const struct prom_family up = {
		"qtune_netns_up", "gauge",
		"1 when qtune --all-netns audited the network namespace, 0 when it could not enter it" };
	struct prom_out o = { .f = f };
	char inode[24];

	for (size_t i = 0; i < n; i++) {
		snprintf(inode, sizeof(inode), "%llu", (unsigned long long)v[i].inode);
		const struct prom_label l[] = { { "netns", inode }, { "netns_label", v[i].label } };
		sample_int(&o, &up, l, 2, v[i].up);
	}
}

/* The metric family a line of the format belongs to: the name after
 * "# HELP " or "# TYPE ", or the sample's name. */
static size_t family_of(const char *line, size_t len, const char **name)
{
	size_t n = 0;

	if (len > 7 && (memcmp(line, "# HELP ", 7) == 0 || memcmp(line, "# TYPE ", 7) == 0))
		line += 7, len -= 7;
	while (n < len && line[n] != '{' && line[n] != ' ')
		n++;
	*name = line;
	return n;
}

struct merge_family {
	const char *name;
	size_t namelen;
	char *buf;              /* its lines: HELP and TYPE once, then every sample */
	size_t len;
	FILE *f;
	size_t text;            /* the text it first appeared in */
};

void prom_merge(FILE *out, char *const *texts, const size_t *lens, size_t n)
{
	struct merge_family *fam = NULL;
	size_t nfam = 0, cap = 0;

	for (size_t t = 0; t < n; t++) {
		const char *p = texts[t], *end = texts[t] + lens[t];

		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p)), *name;
			size_t ll = (size_t)((nl ? nl : end) - p), k;
			size_t nn = family_of(p, ll, &name);
			bool meta = ll > 2 && p[0] == '#';

			for (k = 0; k < nfam; k++)
				if (fam[k].namelen == nn && memcmp(fam[k].name, name, nn) == 0)
					break;
			if (k == nfam) {
				if (nfam == cap) {
					cap = cap ? cap * 2 : 32;
					fam = xreallocarray(fam, cap, sizeof(*fam));
				}
				fam[nfam] = (struct merge_family){ name, nn, NULL, 0, NULL, t };
				fam[nfam].f = open_memstream(&fam[nfam].buf, &fam[nfam].len);
				nfam++;
			} else if (meta && fam[k].text != t) {
				p += ll + 1;
				continue;       /* HELP and TYPE once, from the first text */
			}
			if (fam[k].f)
				fprintf(fam[k].f, "%.*s\n", (int)ll, p);
			p += ll + 1;
		}
	}
	for (size_t k = 0; k < nfam; k++) {
		if (fam[k].f)
			fclose(fam[k].f);
		if (fam[k].buf)
			fwrite(fam[k].buf, 1, fam[k].len, out);
		free(fam[k].buf);
	}
	free(fam);
}

enum qt_level prom_render_check(struct qt_ctx *ctx, const struct prom_check *c,
				const struct prom_inputs *in)
{
	enum qt_level worst = c->worst;
	struct prom_out o;
	char shown[KEY_PATH_MAX];
	bool complete = c->plan && c->boot && c->audit && worst < QT_LEVEL_ERROR;
	const struct prom_label prof[] = { { "profile", c->profile } };

	if (diags_worst(&ctx->diags) > worst)
		worst = diags_worst(&ctx->diags);
	out_begin(ctx, &o);
	emit_info(&o, ctx);
	sample_int(&o, &F_EXIT, prof, 1, diag_exit_status(worst));
	if (complete)
		sample_int(&o, &F_COMPLIANT, prof, 1, worst < QT_LEVEL_DRIFT);
	emit_sysctl_values(&o, c->plan, in);
	for (size_t i = 0; c->plan && i < c->plan->n; i++) {
		key_display(c->plan->items[i].key, shown, sizeof(shown));
		const struct prom_label l[] = { { "key", shown }, { "profile", c->profile } };
		sample_int(&o, &F_SYSCTL_OK, l, 2, !c->plan->items[i].change);
	}
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; c->boot && i < c->nboot; i++) {
			const struct boot_item *b = &c->boot[i];

			key_display(b->entry->key, shown, sizeof(shown));
			const struct prom_label l[] = { { "key", shown }, { "profile", c->profile } };
			if (pass == 0)
				sample_int(&o, &F_BOOT_OK, l, 2, b->status != BOOT_DIFFERS);
			else
				sample_int(&o, &F_BOOT_SET, l, 2, b->status != BOOT_NOT_SET);
		}
	}
	if (c->audit)
		emit_listeners(&o, c->audit);
	emit_counters(&o, in->have_counters ? in->counters : NULL);
	emit_timestamp(&o, &in->now);
	return c->worst;
}

enum qt_level prom_render_show(struct qt_ctx *ctx, const struct prom_inputs *in,
			       int64_t accept_max, int64_t syn_max)
{
	struct prom_out o;

	out_begin(ctx, &o);
	emit_info(&o, ctx);
	emit_sysctl_values(&o, NULL, in);
	if (accept_max >= 0)
		sample_int(&o, &F_NEW_ACCEPT, NULL, 0, accept_max);
	if (syn_max >= 0)
		sample_int(&o, &F_NEW_SYN, NULL, 0, syn_max);
	emit_counters(&o, in->have_counters ? in->counters : NULL);
	emit_timestamp(&o, &in->now);
	return QT_LEVEL_OK;
}

enum qt_level prom_render_listeners(struct qt_ctx *ctx, const struct audit *a,
				    const struct prom_inputs *in)
{
	struct prom_out o;

	out_begin(ctx, &o);
	emit_info(&o, ctx);
	emit_listeners(&o, a);
	emit_counters(&o, in->have_counters ? in->counters : NULL);
	emit_timestamp(&o, &in->now);
	return QT_LEVEL_OK;
}
