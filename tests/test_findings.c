/* Tests for findings: pure, no root, no sockets. */
#include <criterion/criterion.h>
#include <string.h>

#include "fake_listeners.h"
#include "findings.h"
#include "listeners_report.h"

static struct listener_set set;
static struct findings fs;

static void cleanup(void)
{
	findings_free(&fs);
	listener_set_free(&set);
}

TestSuite(findings, .fini = cleanup);

/* The findings of listener ix, as "kind,kind". */
static const char *kinds_of(size_t ix)
{
	static char buf[128];

	buf[0] = '\0';
	for (size_t i = 0; i < fs.n; i++) {
		if (fs.v[i].listener != ix)
			continue;
		if (buf[0])
			strcat(buf, ",");
		strcat(buf, finding_kind_name(fs.v[i].kind));
	}
	return buf;
}

static const struct finding *find(size_t ix, enum finding_kind kind)
{
	for (size_t i = 0; i < fs.n; i++)
		if (fs.v[i].listener == ix && fs.v[i].kind == kind)
			return &fs.v[i];
	return NULL;
}

Test(findings, clamped_only_when_raised_and_backlog_was_the_old_limit)
{
	size_t at_old = fake_listener(&set, "127.0.0.1", 80, 128, 0);
	size_t below_old = fake_listener(&set, "127.0.0.1", 81, 100, 0);
	size_t above_old = fake_listener(&set, "::1", 82, 4096, 0);
	fake_owner(&set, at_old, 123, "nginx", "nginx.service");
	fake_attribute(&set, true);

	struct finding_limits raised = { .somaxconn_before = 128, .somaxconn_after = 4096 };
	cr_assert_eq(findings_build(&set, &raised, &fs), 1);
	cr_assert_str_eq(kinds_of(at_old), "clamped");
	cr_assert_str_eq(kinds_of(below_old), "");
	cr_assert_str_eq(kinds_of(above_old), "");
	const struct finding *f = find(at_old, FINDING_CLAMPED);
	cr_assert_eq(f->level, QT_LEVEL_DRIFT);
	cr_assert_eq(f->limit, 4096);
	/* One advice: relisten, live, naming the unit. */
	cr_assert_eq(fs.nadvice, 1);
	cr_assert_eq(fs.advice[0].action, ADVICE_RELISTEN);
	cr_assert(strstr(fs.advice[0].text, "run `qtune relisten` to raise it live to 4096, no restart "
					    "(nginx.service (pid 123 nginx)"), "%s", fs.advice[0].text);
	findings_free(&fs);

	/* Unchanged or lowered somaxconn: nothing can be clamped. */
	struct finding_limits same = { .somaxconn_before = 128, .somaxconn_after = 128 };
	cr_assert_eq(findings_build(&set, &same, &fs), 0);
	struct finding_limits lowered = { .somaxconn_before = 128, .somaxconn_after = 64 };
	cr_assert_eq(findings_build(&set, &lowered, &fs), 0);
}

Test(findings, below_min_from_min_backlog)
{
	size_t small = fake_listener(&set, "127.0.0.1", 8080, 64, 0);
	size_t exact = fake_listener(&set, "127.0.0.1", 8081, 1024, 0);
	fake_owner(&set, small, 10, "app", "");
	fake_attribute(&set, true);
	struct finding_limits lim = { .somaxconn_before = 4096, .somaxconn_after = 4096,
				      .has_min_backlog = true, .min_backlog = 1024 };

	cr_assert_eq(findings_build(&set, &lim, &fs), 1);
	cr_assert_str_eq(kinds_of(small), "below-min");
	cr_assert_str_eq(kinds_of(exact), "");
	const struct finding *f = find(small, FINDING_BELOW_MIN);
	cr_assert_eq(f->limit, 1024);
	cr_assert_eq(f->level, QT_LEVEL_DRIFT);
	cr_assert(strstr(f->message, "backlog 64 is below 1024 (listeners.min_backlog)"), "%s",
		  f->message);
	/* somaxconn is high enough: the program's own backlog is the cause
	 * and its setting the fix. */
	cr_assert(strstr(f->message, "it is the program's own backlog"), "%s", f->message);
	cr_assert_eq(findings_advice_of(&fs, small)->action, ADVICE_PROGRAM);
	cr_assert(strstr(findings_advice_of(&fs, small)->text,
			 "set a listen() backlog of at least 1024 in the program, then restart"),
		  "%s", findings_advice_of(&fs, small)->text);
}

Test(findings, below_min_says_raise_somaxconn_when_it_is_the_cap)
{
	size_t l = fake_listener(&set, "127.0.0.1", 80, 128, 0);
	fake_owner(&set, l, 10, "app", "");
	fake_attribute(&set, true);
	struct finding_limits lim = { .somaxconn_before = 128, .somaxconn_after = 128,
				      .has_min_backlog = true, .min_backlog = 1024 };

	cr_assert_eq(findings_build(&set, &lim, &fs), 1);
	cr_assert(strstr(find(l, FINDING_BELOW_MIN)->message, "net.core.somaxconn 128 caps it"),
		  "%s", find(l, FINDING_BELOW_MIN)->message);
	cr_assert_eq(findings_advice_of(&fs, l)->action, ADVICE_SOMAXCONN);
}

Test(findings, port_requirement_wins_over_min_backlog)
{
	size_t https = fake_listener(&set, "0.0.0.0", 443, 2048, 0);
	size_t http = fake_listener(&set, "0.0.0.0", 80, 200, 0);
	size_t other = fake_listener(&set, "0.0.0.0", 8080, 200, 0);
	fake_attribute(&set, true);
	const struct finding_port ports[] = { { 443, 4096 }, { 80, 128 } };
	struct finding_limits lim = { .somaxconn_before = 8192, .somaxconn_after = 8192,
				      .has_min_backlog = true, .min_backlog = 1024,
				      .ports = ports, .nports = 2 };

	cr_assert_eq(findings_port_requirement(&lim, 443), 4096);
	cr_assert_eq(findings_port_requirement(&lim, 80), 128);
	cr_assert_eq(findings_port_requirement(&lim, 8080), 1024);
	findings_build(&set, &lim, &fs);
	cr_assert_str_eq(kinds_of(https), "below-min");      /* 2048 ≥ min, < its port's 4096 */
	cr_assert_eq(find(https, FINDING_BELOW_MIN)->limit, 4096);
	cr_assert(strstr(find(https, FINDING_BELOW_MIN)->message, "(listeners.ports)"));
	cr_assert_str_eq(kinds_of(http), "");                /* 200 < min, ≥ its port's 128 */
	cr_assert_str_eq(kinds_of(other), "below-min");
	cr_assert_eq(find(other, FINDING_BELOW_MIN)->limit, 1024);
}

Test(findings, ignored_port_is_never_flagged)
{
	/* Clamped, below every minimum and with a full queue: still nothing. */
	size_t ssh = fake_listener(&set, "0.0.0.0", 22, 128, 129);
	size_t web = fake_listener(&set, "0.0.0.0", 80, 128, 129);
	fake_attribute(&set, false);
	const uint16_t ignore[] = { 22 };
	const struct finding_port ports[] = { { 22, 4096 } };
	struct finding_limits lim = { .somaxconn_before = 128, .somaxconn_after = 4096,
				      .has_min_backlog = true, .min_backlog = 1024,
				      .ports = ports, .nports = 1,
				      .ignore = ignore, .nignore = 1 };

	cr_assert_eq(findings_port_requirement(&lim, 22), -1);
	findings_build(&set, &lim, &fs);
	cr_assert_str_eq(kinds_of(ssh), "");
	cr_assert_str_eq(kinds_of(web), "clamped,below-min,queue-full");
}

Test(findings, queue_full_over_backlog_one_slot_left_at_it)
{
	size_t over = fake_listener(&set, "127.0.0.1", 1, 2, 3);
	size_t at = fake_listener(&set, "127.0.0.1", 2, 2, 2);
	size_t under = fake_listener(&set, "127.0.0.1", 3, 2, 1);
	size_t zero_empty = fake_listener(&set, "127.0.0.1", 4, 0, 0);
	size_t zero_one = fake_listener(&set, "127.0.0.1", 5, 0, 1);
	fake_owner(&set, over, 77, "redis-server", "");
	fake_attribute(&set, true);
	struct finding_limits none = { .somaxconn_before = 4096, .somaxconn_after = 4096 };

	findings_build(&set, &none, &fs);
	cr_assert_str_eq(kinds_of(over), "queue-full");
	cr_assert_str_eq(kinds_of(at), "queue-full");
	cr_assert_str_eq(kinds_of(under), "");
	cr_assert_str_eq(kinds_of(zero_empty), "");
	cr_assert_str_eq(kinds_of(zero_one), "queue-full");
	/* sk_acceptq_is_full() is queued > backlog: over it, full and drift. */
	const struct finding *f = find(over, FINDING_QUEUE_FULL);
	cr_assert_eq(f->limit, 2);
	cr_assert_eq(f->level, QT_LEVEL_DRIFT);
	cr_assert(strstr(f->message, "more than its backlog 2: it is full"), "%s", f->message);
	cr_assert(strstr(f->message, "redis-server (pid 77)"), "%s", f->message);
	cr_assert_eq(find(zero_one, FINDING_QUEUE_FULL)->level, QT_LEVEL_DRIFT);
	/* At the backlog the kernel still admits one more: info, not drift. */
	f = find(at, FINDING_QUEUE_FULL);
	cr_assert_eq(f->level, QT_LEVEL_OK);
	cr_assert(strstr(f->message, "as many as its backlog 2: one slot left"), "%s", f->message);
	cr_assert_null(strstr(f->message, "dropped while"), "%s", f->message);
	/* Complete scan, no owner: say so rather than "needs root". */
	cr_assert(strstr(findings_advice_of(&fs, at)->text,
			 "no process of this network namespace holds it"));
}

Test(findings, advice_names_owners_or_says_unknown)
{
	char buf[512];
	size_t shared = fake_listener(&set, "0.0.0.0", 80, 128, 0);
	size_t plain = fake_listener(&set, "0.0.0.0", 6379, 128, 0);
	size_t unknown = fake_listener(&set, "0.0.0.0", 5432, 128, 0);
	fake_owner(&set, shared, 123, "nginx", "nginx.service");
	fake_owner(&set, shared, 124, "nginx", "nginx.service");
	fake_owner(&set, shared, 200, "helper", "");
	fake_owner(&set, plain, 77, "redis-server", "");
	fake_attribute(&set, false);

	findings_restart_advice(&set, &set.v[shared], buf, sizeof(buf));
	cr_assert_str_eq(buf, "restart nginx.service (pid 123 nginx, pid 124 nginx) and helper (pid 200)");
	findings_restart_advice(&set, &set.v[plain], buf, sizeof(buf));
	cr_assert_str_eq(buf, "restart redis-server (pid 77)");
	/* Defect 10: one reason, the true one, said once. */
	findings_restart_advice(&set, &set.v[unknown], buf, sizeof(buf));
	cr_assert_str_eq(buf, "its owner is unknown: run qtune as root to name it");
	set.viewer_root = true;
	findings_restart_advice(&set, &set.v[unknown], buf, sizeof(buf));
	cr_assert_str_eq(buf, "its owner is unknown: its process could not be inspected (qtune needs "
			      "CAP_SYS_PTRACE over it; a security module or a user namespace can deny that)");
	set.viewer_root = false;
	/* A short buffer truncates visibly, never overflows. */
	findings_restart_advice(&set, &set.v[shared], buf, 16);
	cr_assert_str_eq(buf, "restart ngin...");
}

/* listeners --no-owners: the owners were not asked for. Whoever runs
 * qtune (root here), the advice says so and how to get them, never "run
 * qtune as root". */
Test(findings, owners_not_looked_up_are_not_called_unknown)
{
	char buf[512];
	size_t ix = fake_listener(&set, "127.0.0.1", 8080, 128, 0);
	fake_attribute(&set, true);
	set.v[ix].owners_looked_up = false;
	set.v[ix].owners_known = false;
	struct finding_limits lim = { .somaxconn_before = 4096, .somaxconn_after = 4096 };

	for (int root = 0; root < 2; root++) {
		set.viewer_root = root;
		findings_free(&fs);
		findings_build(&set, &lim, &fs);
		cr_assert_str_eq(kinds_of(ix), "maybe-clamped");
		const struct finding_advice *a = findings_advice_of(&fs, ix);
		cr_assert_not_null(a);
		cr_assert_eq(a->action, ADVICE_OWNER_UNKNOWN);
		cr_assert_str_eq(a->text, "its owners were not looked up: run `qtune listeners` "
					  "without --no-owners to name them");
		findings_restart_advice(&set, &set.v[ix], buf, sizeof(buf));
		cr_assert_str_eq(buf, a->text);
		cr_assert_null(strstr(a->text, "as root"));
	}
}

Test(findings, advice_never_names_a_user_unit_as_a_system_unit)
{
	char buf[512];
	size_t ix = fake_listener(&set, "0.0.0.0", 22, 128, 0);
	fake_owner(&set, ix, 300, "sshd", "");
	set.owners[set.nowners - 1].user_unit = true;
	set.owners[set.nowners - 1].user_uid = 1000;
	fake_attribute(&set, true);

	findings_restart_advice(&set, &set.v[ix], buf, sizeof(buf));
	cr_assert_str_eq(buf, "restart sshd (pid 300, a user unit of uid 1000)");
}

Test(findings, syn_queue_limit_matches_measured_figures)
{
	/* Measured on 6.18 with raw SYN floods (DESIGN.md). */
	cr_assert_eq(findings_syn_queue_limit(100, 1000, 0).new_peers, 101);
	cr_assert_eq(findings_syn_queue_limit(1000, 256, 0).new_peers, 193);
	cr_assert_eq(findings_syn_queue_limit(64, 64, 0).new_peers, 49);
	cr_assert_eq(findings_syn_queue_limit(0, 1000, 0).new_peers, 1);
	cr_assert_eq(findings_syn_queue_limit(0, 1000, 1).new_peers, 1);
	struct syn_queue_limit on = findings_syn_queue_limit(1000, 256, 1);
	cr_assert_eq(on.new_peers, 1001);
	cr_assert(on.cookies);
	/* Cookies off: proven peers are bounded by the backlog alone. */
	struct syn_queue_limit off = findings_syn_queue_limit(1000, 256, 0);
	cr_assert_eq(off.proven_peers, 1001);
	cr_assert_not(off.cookies);
	/* tcp_syncookies=2 queues nothing. */
	struct syn_queue_limit always = findings_syn_queue_limit(1000, 256, 2);
	cr_assert_eq(always.new_peers, 0);
	cr_assert_eq(always.proven_peers, 0);
	cr_assert(always.cookies);
	/* The kernel's M >> 2 floors: M=0 admits one request, M<0 none. */
	cr_assert_eq(findings_syn_queue_limit(100, 0, 0).new_peers, 1);
	cr_assert_eq(findings_syn_queue_limit(100, -4, 0).new_peers, 0);
	cr_assert_eq(findings_syn_queue_limit(100, 7, 0).new_peers, 7);   /* 7 - 1 + 1 */
}

/* dropping: only the listener whose count rose, matched by inode, with the
 * rate over the interval; findings stay in listener order. */
Test(findings, dropping_between_two_samples)
{
	struct listener_set before = { 0 };
	/* 127, not 128: a kernel default somaxconn would be maybe-clamped. */
	size_t busy = fake_listener(&set, "127.0.0.1", 80, 127, 128);
	size_t idle = fake_listener(&set, "127.0.0.1", 81, 127, 0);
	size_t fresh = fake_listener(&set, "127.0.0.1", 82, 127, 0);
	size_t skip = fake_listener(&set, "127.0.0.1", 22, 16, 0);
	fake_owner(&set, busy, 50, "app", "app.service");
	fake_attribute(&set, true);
	for (size_t i = 0; i < set.n; i++)
		set.v[i].drops_known = true;
	before.n = 3;
	before.v = calloc(3, sizeof(*before.v));
	before.v[0] = set.v[busy];
	before.v[1] = set.v[idle];
	before.v[2] = set.v[skip];
	before.v[0].drops = 100;
	before.v[1].drops = 7;
	before.v[2].drops = 0;
	set.v[busy].drops = 130;
	set.v[idle].drops = 7;
	set.v[fresh].drops = 50;       /* not in the first sample: no rate */
	set.v[skip].drops = 9;         /* ignored port */
	const uint16_t ignore[] = { 22 };
	struct finding_limits lim = { .somaxconn_before = 4096, .somaxconn_after = 4096,
				      .ignore = ignore, .nignore = 1 };

	findings_build(&set, &lim, &fs);
	cr_assert_eq(findings_dropping(&before, &set, 2.0, &lim, &fs), 1);
	cr_assert_str_eq(kinds_of(busy), "queue-full,dropping");
	cr_assert_str_eq(kinds_of(idle), "");
	cr_assert_str_eq(kinds_of(fresh), "");
	cr_assert_str_eq(kinds_of(skip), "");
	const struct finding *f = find(busy, FINDING_DROPPING);
	cr_assert_eq(f->level, QT_LEVEL_DRIFT);
	cr_assert_eq(f->limit, 30);
	cr_assert_float_eq(f->rate, 15.0, 1e-9);
	cr_assert(strstr(f->message, "dropped 30 connections in 2.0 s (15.0/s)"), "%s", f->message);
	cr_assert(strstr(f->message, "accept queue 128 of backlog 127 (full)"), "%s", f->message);
	/* The remedy is the listener's one advice, not a second voice in the
	 * message. */
	cr_assert_null(strstr(f->message, "raise"), "%s", f->message);
	const struct finding_advice *a = findings_advice_of(&fs, busy);
	cr_assert_eq(a->action, ADVICE_PROGRAM);
	cr_assert(strstr(a->text, "its accept queue overflows at backlog 127: set a listen() backlog of "
			 "at least 4096 in the program, then restart app.service (pid 50 app)"), "%s", a->text);
	listener_set_free(&before);
}

/* The set as a first sample of --interval: every drop count known, a
 * copy in before (the caller raises drops in set afterwards). */
static void first_sample(struct listener_set *before)
{
	for (size_t i = 0; i < set.n; i++)
		set.v[i].drops_known = true;
	before->n = set.n;
	before->v = calloc(set.n, sizeof(*before->v));
	memcpy(before->v, set.v, set.n * sizeof(*set.v));
}

/* One rule for "full", the kernel's sk_acceptq_is_full() (queued >
 * backlog): findings, the drop remedy, watch and its bar all ask it. A
 * listener dropping with its queue at the backlog still had a slot: the
 * sample does not show a full accept queue. */
Test(findings, accept_queue_full_is_the_kernels_rule_everywhere)
{
	struct listener_set before = { 0 };

	cr_assert_not(findings_accept_queue_full(0, 0));
	cr_assert(findings_accept_queue_full(1, 0), "backlog 0 holds one");
	cr_assert_not(findings_accept_queue_full(128, 128), "backlog B holds B + 1");
	cr_assert(findings_accept_queue_full(129, 128));
	cr_assert_not(findings_accept_queue_full(65535, 65535));
	cr_assert(findings_accept_queue_full(65536, 65535));
	cr_assert_eq(findings_accept_queue_holds(128), 129);
	cr_assert_eq(findings_accept_queue_holds(0), 1);

	size_t at = fake_listener(&set, "127.0.0.1", 80, 127, 127);
	size_t over = fake_listener(&set, "127.0.0.1", 81, 127, 128);
	fake_owner(&set, at, 50, "app", "");
	fake_owner(&set, over, 51, "app", "");
	fake_attribute(&set, true);
	first_sample(&before);
	set.v[at].drops = set.v[over].drops = 10;
	struct finding_limits lim = { .somaxconn_before = 4096, .somaxconn_after = 4096 };

	findings_build(&set, &lim, &fs);
	cr_assert_eq(findings_dropping(&before, &set, 1.0, &lim, &fs), 2);
	cr_assert(strstr(findings_advice_of(&fs, at)->text, "its SYN queue overflows"), "%s",
		  findings_advice_of(&fs, at)->text);
	cr_assert(strstr(findings_advice_of(&fs, over)->text, "its accept queue overflows"), "%s",
		  findings_advice_of(&fs, over)->text);
	listener_set_free(&before);
}

/* One advice per listener, the most useful: drops between two samples
 * outrank what one sample shows; a large backlog that fills is a program
 * that accepts too slowly, said instead of "raise the limit"; a socket a
 * lower ceiling cut is raised live; drops where nothing was flagged before
 * get their advice too. */
Test(findings, one_advice_per_listener_dropping_outranks_a_static_finding)
{
	struct listener_set before = { 0 };
	size_t small = fake_listener(&set, "127.0.0.1", 80, 127, 128);      /* full, small */
	size_t large = fake_listener(&set, "127.0.0.1", 81, 8192, 8193);    /* full, large */
	size_t cut = fake_listener(&set, "127.0.0.1", 82, 128, 129);        /* maybe-clamped, full */
	size_t quiet = fake_listener(&set, "127.0.0.1", 83, 127, 0);        /* drops, nothing else */
	size_t still = fake_listener(&set, "127.0.0.1", 84, 8192, 8193);    /* full, not dropping */
	for (size_t i = 0; i < set.n; i++)
		fake_owner(&set, i, 100 + (pid_t)i, "app", "");
	fake_attribute(&set, true);
	first_sample(&before);
	set.v[small].drops = set.v[large].drops = set.v[cut].drops = set.v[quiet].drops = 5;
	struct finding_limits lim = { .somaxconn_before = 65535, .somaxconn_after = 65535 };

	findings_build(&set, &lim, &fs);
	cr_assert_eq(fs.nadvice, 4, "quiet has no advice before it drops");
	cr_assert_eq(findings_dropping(&before, &set, 1.0, &lim, &fs), 4);
	cr_assert_eq(fs.nadvice, 5, "one advice per listener");
	for (size_t k = 1; k < fs.nadvice; k++)
		cr_assert_lt(fs.advice[k - 1].listener, fs.advice[k].listener, "in listener order");

	const struct finding_advice *a = findings_advice_of(&fs, small);
	cr_assert_eq(a->action, ADVICE_PROGRAM);
	cr_assert(strstr(a->text, "its accept queue overflows at backlog 127: set a listen() backlog "
			 "of at least 65535"), "%s", a->text);
	a = findings_advice_of(&fs, large);
	cr_assert_eq(a->action, ADVICE_ACCEPT);
	cr_assert_str_eq(a->text, "app (pid 101) accepts too slowly: its backlog 8192 is already large "
			 "and its accept queue still fills; add workers or make accepting cheaper rather "
			 "than raise the limit");
	a = findings_advice_of(&fs, cut);
	cr_assert_eq(a->action, ADVICE_RELISTEN_ALL, "raised live: %s", a->text);
	cr_assert_eq(a->target, 65535);
	a = findings_advice_of(&fs, quiet);
	cr_assert_eq(a->action, ADVICE_PROGRAM);
	cr_assert(strstr(a->text, "its SYN queue overflows while its accept queue does not"), "%s", a->text);
	/* Not dropping, but full at a large backlog: the same judgement. */
	a = findings_advice_of(&fs, still);
	cr_assert_eq(a->action, ADVICE_ACCEPT);
	cr_assert(strstr(a->text, "accepts too slowly"), "%s", a->text);
	/* No message repeats an advice. */
	for (size_t k = 0; k < fs.n; k++)
		cr_assert_null(strstr(fs.v[k].message, "accepts too slowly"), "%s", fs.v[k].message);
	listener_set_free(&before);
}

/* What to change: a large backlog that fills is a slow program, a backlog
 * at somaxconn wants somaxconn and a relisten, drops without a full accept
 * queue are the SYN queue's. */
Test(findings, drop_remedy_follows_the_queues)
{
	cr_assert_eq(findings_drop_remedy(128, 4096, true), DROP_REMEDY_RAISE_BACKLOG);
	cr_assert_eq(findings_drop_remedy(4096, 4096, true), DROP_REMEDY_ADD_WORKERS);
	cr_assert_eq(findings_drop_remedy(65535, 65535, true), DROP_REMEDY_ADD_WORKERS);
	cr_assert_eq(findings_drop_remedy(1024, 1024, true), DROP_REMEDY_RAISE_SOMAXCONN);
	cr_assert_eq(findings_drop_remedy(128, 0, true), DROP_REMEDY_RAISE_BACKLOG);
	cr_assert_eq(findings_drop_remedy(128, 4096, false), DROP_REMEDY_SYN_QUEUE);
	cr_assert(strstr(findings_drop_remedy_text(DROP_REMEDY_ADD_WORKERS), "accepts too slowly"));
	cr_assert(strstr(findings_drop_remedy_text(DROP_REMEDY_RAISE_SOMAXCONN), "relisten"));
	cr_assert_str_eq(finding_kind_name(FINDING_DROPPING), "dropping");
}

/* ------------------------------------------- issue 15: findings that hold up */

static void set_tree(pid_t pid, pid_t ppid, uint64_t start, const char *exe)
{
	for (size_t o = 0; o < set.nowners; o++) {
		if (set.owners[o].pid != pid)
			continue;
		set.owners[o].ppid = ppid;
		set.owners[o].start_time = start;
		snprintf(set.owners[o].exe, sizeof(set.owners[o].exe), "%s", exe);
	}
}

/* Defect 1: clamped only while the very socket the apply recorded exists;
 * the finding says which apply it comes from. */
Test(findings, clamped_is_the_recorded_socket_and_names_its_apply)
{
	size_t same = fake_listener(&set, "127.0.0.1", 8080, 4096, 0);
	size_t restarted = fake_listener(&set, "127.0.0.1", 8081, 4096, 0);
	size_t reused = fake_listener(&set, "127.0.0.1", 8082, 4096, 0);
	size_t raised = fake_listener(&set, "127.0.0.1", 8083, 65535, 0);
	fake_owner(&set, same, 100, "nginx", "nginx.service");
	fake_owner(&set, restarted, 200, "nginx", "");
	fake_owner(&set, reused, 300, "redis-server", "");
	fake_owner(&set, raised, 400, "memcached", "");
	fake_attribute(&set, true);
	set_tree(100, 1, 5000, "nginx");
	set_tree(200, 1, 9000, "nginx");
	set_tree(300, 1, 9100, "redis-check-rdb");
	set_tree(400, 1, 7000, "memcached");

	struct clamp_socket rec[4];
	for (size_t i = 0; i < 4; i++)
		findings_clamp_socket(&set, &set.v[i], &rec[i]);
	rec[0].start_time = 5000;
	rec[1].inode = 77;              /* the socket before the restart */
	rec[2].start_time = 4000;       /* same inode number, another process since */
	rec[3].backlog = 4096;          /* relistened since */
	for (size_t i = 0; i < 4; i++) {
		rec[i].backlog = 4096;
		rec[i].when = 1764579600;   /* 2025-12-01 09:00 UTC */
		rec[i].profile = "/etc/qtune/web.yaml";
	}
	struct clamp_record r = { .present = true, .lists_sockets = true, .somaxconn_old = 4096,
				  .somaxconn_new = 65535, .v = rec, .n = 4 };
	struct finding_limits lim = { .somaxconn_before = 65535, .somaxconn_after = 65535,
				      .record = &r };

	findings_build(&set, &lim, &fs);
	cr_assert_str_eq(kinds_of(same), "clamped");
	cr_assert_str_eq(kinds_of(restarted), "", "a restarted service has a new socket");
	cr_assert_str_eq(kinds_of(reused), "", "an inode number reused by another process");
	cr_assert_str_eq(kinds_of(raised), "");
	const struct finding *f = find(same, FINDING_CLAMPED);
	cr_assert_eq(f->level, QT_LEVEL_DRIFT);
	cr_assert(strstr(f->message, "the apply of /etc/qtune/web.yaml at 2025-12-01 09:00 UTC"),
		  "%s", f->message);
	/* The old rule (backlog equals the somaxconn replaced) would have
	 * flagged all three 4096 listeners. */
	cr_assert_eq(fs.n, 1);
}

/* Defect 1: a record from before sockets were recorded cannot say which
 * sockets it cut: at most maybe-clamped, never drift. */
Test(findings, an_old_record_without_sockets_gives_maybe_clamped_only)
{
	size_t l = fake_listener(&set, "127.0.0.1", 8080, 1000, 0);
	fake_owner(&set, l, 100, "app", "");
	fake_attribute(&set, true);
	struct clamp_record r = { .present = true, .lists_sockets = false, .somaxconn_old = 1000,
				  .somaxconn_new = 8000 };
	struct finding_limits lim = { .somaxconn_before = 8000, .somaxconn_after = 8000, .record = &r };

	findings_build(&set, &lim, &fs);
	cr_assert_str_eq(kinds_of(l), "maybe-clamped");
	cr_assert_eq(fs.v[0].level, QT_LEVEL_OK);
}

/* Defect 2: somaxconn caps only a backlog equal to it. */
Test(findings, below_min_names_the_true_cause)
{
	size_t asked8 = fake_listener(&set, "127.0.0.1", 80, 8, 0);
	size_t capped = fake_listener(&set, "127.0.0.1", 81, 128, 0);
	fake_owner(&set, asked8, 100, "redis-server", "redis-server.service");
	fake_owner(&set, capped, 200, "app", "");
	fake_attribute(&set, true);
	set_tree(100, 1, 1, "redis-check-rdb");
	struct finding_limits lim = { .somaxconn_before = 128, .somaxconn_after = 128,
				      .has_min_backlog = true, .min_backlog = 511 };

	findings_build(&set, &lim, &fs);
	const struct finding *f = find(asked8, FINDING_BELOW_MIN);
	cr_assert(strstr(f->message, "it is the program's own backlog"), "%s", f->message);
	cr_assert_null(strstr(f->message, "caps it"), "%s", f->message);
	cr_assert_str_eq(findings_advice_of(&fs, asked8)->text,
			 "set `tcp-backlog 511` in redis.conf and raise net.core.somaxconn to at least 511 "
			 "(it is 128), then restart redis-server.service (pid 100 redis-server)");
	cr_assert(strstr(find(capped, FINDING_BELOW_MIN)->message, "net.core.somaxconn 128 caps it"));
}

/* Defect 3: one advice per listener, the best one, and the same owner with
 * the same action shares it. */
Test(findings, one_advice_per_listener_relisten_first_grouped_by_owner)
{
	char *text = NULL;
	size_t len = 0;
	size_t a = fake_listener(&set, "0.0.0.0", 80, 128, 0);
	size_t b = fake_listener(&set, "::", 80, 128, 0);
	fake_owner(&set, a, 100, "nginx", "nginx.service");
	fake_owner(&set, b, 100, "nginx", "nginx.service");
	fake_attribute(&set, true);
	set_tree(100, 1, 1, "nginx");
	struct finding_limits lim = { .somaxconn_before = 128, .somaxconn_after = 4096,
				      .has_min_backlog = true, .min_backlog = 511 };

	findings_build(&set, &lim, &fs);
	cr_assert_str_eq(kinds_of(a), "clamped,below-min");
	cr_assert_eq(fs.nadvice, 2, "one per listener, not one per finding");
	cr_assert_eq(fs.advice[0].action, ADVICE_RELISTEN);
	cr_assert_str_eq(fs.advice[0].text, fs.advice[1].text);
	cr_assert(strstr(find(a, FINDING_BELOW_MIN)->message, "the ceiling in force when it listened cut it"));
	for (size_t i = 0; i < fs.n; i++)
		cr_assert_null(strstr(fs.v[i].message, "configure"), "%s", fs.v[i].message);

	struct qt_ctx ctx = { .root = "" };
	FILE *f = open_memstream(&text, &len);
	listeners_render_text(&ctx, f, &set, NULL, &fs);
	fclose(f);
	const char *adv = strstr(text, "advice:\n");
	cr_assert(adv, "%s", text);
	cr_assert(strstr(adv, "  0.0.0.0:80, [::]:80: run `qtune relisten` to raise it live to 4096"),
		  "grouped: %s", text);
	cr_assert_null(strstr(strstr(adv, "relisten`") + 1, "relisten`"), "said once: %s", text);
	free(text);
}

/* Defect 5: owners by process tree: the master, with its unit, and a count
 * of workers, not every worker. */
Test(findings, restart_names_the_master_not_every_worker)
{
	char buf[512];
	size_t web = fake_listener(&set, "0.0.0.0", 80, 128, 0);
	size_t lb = fake_listener(&set, "0.0.0.0", 443, 128, 0);
	fake_owner(&set, web, 100, "gunicorn", "app.service");
	fake_owner(&set, web, 101, "gunicorn", "app.service");
	fake_owner(&set, web, 102, "gunicorn", "app.service");
	fake_owner(&set, lb, 200, "haproxy", "");
	fake_owner(&set, lb, 201, "haproxy", "");
	fake_attribute(&set, true);
	set_tree(100, 1, 1, "python3.11");
	set_tree(101, 100, 2, "python3.11");
	set_tree(102, 100, 3, "python3.11");
	set_tree(200, 1, 1, "haproxy");
	set_tree(201, 200, 2, "haproxy");

	findings_restart_advice(&set, &set.v[web], buf, sizeof(buf));
	cr_assert_str_eq(buf, "restart app.service (master pid 100 gunicorn, 2 workers)");
	findings_restart_advice(&set, &set.v[lb], buf, sizeof(buf));
	cr_assert_str_eq(buf, "restart haproxy (master pid 200, 1 worker)");
	findings_program_setting(&set, &set.v[web], 2048, buf, sizeof(buf));
	cr_assert(strstr(buf, "`--backlog 2048` (gunicorn"), "%s", buf);
}

/* Defect 6: more owners than kept: counted, said. */
Test(findings, owners_past_the_kept_ones_are_counted)
{
	char buf[512];
	size_t l = fake_listener(&set, "0.0.0.0", 80, 128, 0);
	for (pid_t p = 1000; p < 1080; p++)
		fake_owner(&set, l, p, "apache2", "apache2.service");
	fake_attribute(&set, true);
	for (pid_t p = 1000; p < 1080; p++)
		set_tree(p, p == 1000 ? 1 : 1000, (uint64_t)p, "apache2");

	cr_assert_eq(set.v[l].nowners, LISTENERS_MAX_OWNERS);
	cr_assert_eq(set.v[l].owners_total, 80);
	findings_restart_advice(&set, &set.v[l], buf, sizeof(buf));
	cr_assert_str_eq(buf, "restart apache2.service (master pid 1000 apache2, 79 workers)");
}

/* Defect 11: at a kernel default somaxconn below today's, no record:
 * maybe-clamped, information only, with the relisten --all advice. */
Test(findings, maybe_clamped_at_a_kernel_default_without_a_record)
{
	size_t old_default = fake_listener(&set, "127.0.0.1", 1, 128, 0);
	size_t new_default = fake_listener(&set, "127.0.0.1", 2, 4096, 0);
	size_t other = fake_listener(&set, "127.0.0.1", 3, 511, 0);
	size_t at_now = fake_listener(&set, "127.0.0.1", 4, 65535, 0);
	fake_owner(&set, old_default, 100, "memcached", "");
	fake_owner(&set, new_default, 100, "memcached", "");
	fake_attribute(&set, true);
	set_tree(100, 1, 1, "memcached");
	struct finding_limits lim = { .somaxconn_before = 65535, .somaxconn_after = 65535 };

	findings_build(&set, &lim, &fs);
	cr_assert_str_eq(kinds_of(old_default), "maybe-clamped");
	cr_assert_str_eq(kinds_of(new_default), "maybe-clamped");
	cr_assert_str_eq(kinds_of(other), "");
	cr_assert_str_eq(kinds_of(at_now), "");
	cr_assert_eq(find(old_default, FINDING_MAYBE_CLAMPED)->level, QT_LEVEL_OK, "not drift");
	cr_assert(strstr(find(new_default, FINDING_MAYBE_CLAMPED)->message, "since Linux 5.4"));
	cr_assert_eq(findings_advice_of(&fs, old_default)->action, ADVICE_RELISTEN_ALL);
	cr_assert(strstr(findings_advice_of(&fs, old_default)->text, "`qtune relisten --all`"));
	cr_assert(strstr(findings_advice_of(&fs, old_default)->text, "`-b 65535` on memcached"));

	/* somaxconn at the default itself: nothing can have been cut. */
	findings_free(&fs);
	struct finding_limits same = { .somaxconn_before = 128, .somaxconn_after = 128 };
	findings_build(&set, &same, &fs);
	cr_assert_eq(fs.n, 0);
	/* A record that lists its sockets and made today's somaxconn knows
	 * this one was not cut. */
	findings_free(&fs);
	struct clamp_record r = { .present = true, .lists_sockets = true, .somaxconn_old = 4096,
				  .somaxconn_new = 65535 };
	lim.record = &r;
	findings_build(&set, &lim, &fs);
	cr_assert_eq(fs.n, 0);
}
