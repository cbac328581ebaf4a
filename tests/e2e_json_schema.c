/* End-to-end: the JSON document of every command, produced by the real
 * binary in a private network namespace with real listeners (one clamped
 * and raised live, one below the profile's minimum) and a real apply,
 * validated against the
 * published schemas in docs/schema by tests/json/validate.py --strict
 * (python3-jsonschema): a field that is not documented, or documented
 * wrongly, fails here. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

TestSuite(e2e_json_schema, .init = sandbox_enter, .fini = sandbox_leave);

#define PYTHON "/usr/bin/python3"

static const char *srcdir(void)
{
	const char *s = getenv("QTUNE_SRCDIR");

	return s && *s ? s : ".";
}

/* Whether Debian's python3 has jsonschema. Without it the test is skipped,
 * unless QTUNE_REQUIRE_TOOLS is set (CI sets it: there it must run). */
static void need_jsonschema(void)
{
	if (system(PYTHON " -c 'import jsonschema' >/dev/null 2>&1") == 0)
		return;
	cr_assert_null(getenv("QTUNE_REQUIRE_TOOLS"),
		       "QTUNE_REQUIRE_TOOLS is set but " PYTHON " has no jsonschema "
		       "(apt-get install python3-jsonschema)");
	cr_skip_test("python3-jsonschema is not installed");
}

/* The documents and the schema each must satisfy. */
struct docs {
	char args[16384];
	size_t len;
	unsigned n;
	char used[512];         /* " name name ..." */
	char all[256 * 1024];   /* every document, for coverage checks */
};

/* Runs qtune with argv (rooted), keeps its stdout as document n, checks
 * the exit status, and queues it for validation against schema. */
static void doc(struct docs *d, const char *schema, int want_rc, const char *const argv[])
{
	char *out = NULL, *err = NULL, rel[64];
	int rc = sandbox_qtune_rooted(&out, &err, argv);

	cr_assert_eq(rc, want_rc, "%s %s: exit %d, stderr: %s", argv[0], argv[1] ? argv[1] : "",
		     rc, err);
	cr_assert(out[0] == '{', "%s: no JSON document: %s / %s", argv[0], out, err);
	snprintf(rel, sizeof(rel), "docs/%02u-%s.json", d->n++, schema);
	sandbox_write(rel, out, 0644);
	snprintf(d->all + strlen(d->all), sizeof(d->all) - strlen(d->all), "%s", out);
	d->len += (size_t)snprintf(d->args + d->len, sizeof(d->args) - d->len, " %s '%s'", schema,
				   sandbox_path(rel));
	cr_assert(d->len < sizeof(d->args));
	char word[64];
	snprintf(word, sizeof(word), " %s ", schema);
	if (!strstr(d->used, word))
		snprintf(d->used + strlen(d->used), sizeof(d->used) - strlen(d->used), " %s ",
			 schema);
	free(out);
	free(err);
}

/* A JSON Lines run (watch): each line is a document of its own. */
static void doc_lines(struct docs *d, const char *schema, int want_rc, const char *const argv[])
{
	char *out = NULL, *err = NULL, rel[64];
	int rc = sandbox_qtune_rooted(&out, &err, argv);
	unsigned lines = 0;

	cr_assert_eq(rc, want_rc, "%s: exit %d, stderr: %s", argv[1], rc, err);
	for (char *sv, *line = strtok_r(out, "\n", &sv); line; line = strtok_r(NULL, "\n", &sv)) {
		snprintf(rel, sizeof(rel), "docs/%02u-%s.json", d->n++, schema);
		sandbox_write(rel, line, 0644);
		snprintf(d->all + strlen(d->all), sizeof(d->all) - strlen(d->all), "%s", line);
		d->len += (size_t)snprintf(d->args + d->len, sizeof(d->args) - d->len, " %s '%s'",
					   schema, sandbox_path(rel));
		lines++;
	}
	cr_assert(lines > 0 && d->len < sizeof(d->args));
	snprintf(d->used + strlen(d->used), sizeof(d->used) - strlen(d->used), " %s ", schema);
	free(out);
	free(err);
}

/* sandbox_path() returns rotating buffers: a copy that stays. */
static const char *xstrdup_path(const char *rel)
{
	static char paths[8][512];
	static unsigned n;
	char *p = paths[n++ % 8];

	snprintf(p, 512, "%s", sandbox_path(rel));
	return p;
}

/* Every schema in docs/schema except the shared definitions must have
 * been exercised, so a new command's schema cannot go untested. */
static void assert_every_schema_used(const struct docs *d)
{
	char dir[512], word[96];
	struct dirent *e;
	DIR *dh;

	snprintf(dir, sizeof(dir), "%s/docs/schema", srcdir());
	dh = opendir(dir);
	cr_assert(dh, "%s: %s", dir, strerror(errno));
	while ((e = readdir(dh))) {
		size_t len = strlen(e->d_name);
		if (len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0 ||
		    strcmp(e->d_name, "common.json") == 0)
			continue;
		snprintf(word, sizeof(word), " %.*s ", (int)(len - 5), e->d_name);
		cr_expect(strstr(d->used, word), "schema %s has no real document in this test",
			  e->d_name);
	}
	closedir(dh);
}

/* validate.py --strict over every queued document; the report must say
 * all is valid. */
static void validate_all(const struct docs *d, char *report, size_t size)
{
	static char cmd[20000];

	snprintf(cmd, sizeof(cmd), PYTHON " '%s/tests/json/validate.py' --strict '%s/docs/schema'%s 2>&1",
		 srcdir(), srcdir(), d->args);
	FILE *p = popen(cmd, "r");
	size_t n = p ? fread(report, 1, size - 1, p) : 0;
	report[n] = '\0';
	int status = p ? pclose(p) : -1;
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "validate.py:\n%s", report);
}

static const char web[] =
	"qtune: 1\n"
	"name: web\n"
	"description: \"schema test: \\\"quoted\\\" text\"\n"
	"include: [base]\n"
	"sysctl:\n"
	"  net.core.somaxconn: 4096\n"
	"  net.ipv4.tcp_max_syn_backlog: {min: 8192}\n"
	"  net.ipv4.ip_local_port_range: \"10000 60000\"\n"
	"listeners:\n"
	"  min_backlog: 1024\n"
	"  ports:\n"
	"    7001: 2048\n"
	"persist:\n"
	"  file: 90-qtune-web.conf\n";

Test(e2e_json_schema, every_command_output_matches_its_schema, .timeout = 120)
{
	static struct docs d;
	const char *web_path;
	char bad_path[512];

	need_jsonschema();
	sandbox_sysctl_set("net/core/somaxconn", "128");
	sandbox_sysctl_set("net/ipv4/tcp_syncookies", "0");
	sandbox_write("etc/qtune/profiles/base.yaml",
		      "qtune: 1\nsysctl:\n  net.ipv4.tcp_syncookies: 1\n", 0644);
	sandbox_write("etc/qtune/profiles/web.yaml", web, 0644);
	sandbox_write("etc/qtune/profiles/broken.yaml", "qtune: 1\nsysctl: [\n", 0644);
	sandbox_write("p/rejected.yaml",
		      "qtune: 1\nsysctl:\n  net.core.somaxconn: 1000\n"
		      "  net.ipv4.ip_local_port_range: \"500 60000\"\n", 0644);
	/* The boot configuration: a file setting somaxconn, and a sysctl.conf
	 * that only `sysctl --system` reads, so the two tools disagree. */
	sandbox_write("etc/sysctl.d/10-net.conf", "net.core.somaxconn = 512\n", 0644);
	sandbox_write("etc/sysctl.conf", "net.core.somaxconn = 1024\n", 0644);
	web_path = "web";
	/* sandbox_path() returns rotating buffers: keep a copy. */
	snprintf(bad_path, sizeof(bad_path), "%s", sandbox_path("p/rejected.yaml"));

	/* Clamped at 128 now (queue-full findings are e2e_prometheus's and
	 * e2e_listeners' business: the schema of a finding is the same). */
	cr_assert(sandbox_listen("127.0.0.1", 0, 4096, NULL) >= 0);
	cr_assert(sandbox_listen("::1", 7001, 64, NULL) >= 0);

	doc(&d, "show", 0, (const char *[]){ "--json", "show", NULL });
	doc(&d, "show-boot", 0, (const char *[]){ "--json", "show", "--boot", NULL });
	doc(&d, "listeners", 0, (const char *[]){ "--json", "listeners", NULL });
	doc(&d, "listeners", 0, (const char *[]){ "--json", "listeners", web_path, NULL });
	doc(&d, "check", 1, (const char *[]){ "--json", "check", web_path, NULL });
	doc(&d, "validate", 2, (const char *[]){ "--json", "validate", web_path, "broken", NULL });
	doc(&d, "profiles", 0, (const char *[]){ "--json", "profiles", NULL });
	doc(&d, "apply", 0, (const char *[]){ "--json", "apply", "--dry-run", "--persist", web_path, NULL });
	doc(&d, "apply", 0, (const char *[]){ "--json", "apply", web_path, NULL });
	doc(&d, "relisten", 0, (const char *[]){ "--json", "relisten", "--dry-run", NULL });
	doc_lines(&d, "watch", 0, (const char *[]){ "--json", "watch", "--count", "2", web_path, NULL });
	doc(&d, "rollback", 0, (const char *[]){ "--json", "rollback", NULL });
	/* somaxconn 128 again: the listener is clamped, and raised live. */
	doc(&d, "apply", 0, (const char *[]){ "--json", "apply", "--persist", "--relisten", web_path, NULL });
	doc(&d, "check", 1, (const char *[]){ "--json", "check", web_path, NULL });
	doc(&d, "apply", 2, (const char *[]){ "--json", "apply", bad_path, NULL });
	doc(&d, "rollback", 0, (const char *[]){ "--json", "rollback", NULL });
	doc(&d, "rollback", 0, (const char *[]){ "--json", "rollback", NULL });
	assert_every_schema_used(&d);

	char report[16384];
	validate_all(&d, report, sizeof(report));
	cr_assert(strstr(report, "valid against relisten"), "%s", report);
	/* The documents covered what the schemas describe. */
	cr_assert(strstr(d.all, "\"result\":\"raised\""), "a listener was raised live");
	cr_assert(strstr(d.all, "\"result\":\"would-raise\""));
	cr_assert(strstr(d.all, "\"kind\":\"clamped\""));
	cr_assert(strstr(d.all, "\"status\":\"differs\""));
	cr_assert(strstr(d.all, "\"tools_disagree\":true"));
	cr_assert(strstr(d.all, "\"persist\":{"));
	cr_assert(strstr(d.all, "\"command\":\"rollback\",") &&
		  strstr(d.all, "\"target\":\"128\""), "a rollback restored somaxconn");
}

/* Every failing run of a known command prints exactly one document (the
 * validator's json.load refuses anything after it), valid against its
 * command's schema, with the error in messages, and exits 2. */
Test(e2e_json_schema, every_failing_command_prints_one_valid_document, .timeout = 120)
{
	static struct docs d;

	need_jsonschema();
	sandbox_write("p/bad.yaml", "qtune: 1\nsysctl: [\n", 0644);
	sandbox_write("p/ok.yaml", "qtune: 1\nsysctl:\n  net.core.somaxconn: 4096\n", 0644);
	sandbox_write("p/hostwide.yaml", "qtune: 1\nsysctl:\n  net.core.netdev_max_backlog: 2000\n", 0644);
	/* A sysctl.d file too large to read: the boot-time values are
	 * incomplete, so show --boot and check fail. */
	char *huge = malloc(2 * 1024 * 1024 + 1);
	memset(huge, '#', 2 * 1024 * 1024);
	huge[2 * 1024 * 1024] = '\0';
	sandbox_write("etc/sysctl.d/10-x.conf", huge, 0644);
	free(huge);
	const char *bad = xstrdup_path("p/bad.yaml"), *ok = xstrdup_path("p/ok.yaml");
	const char *hostwide = xstrdup_path("p/hostwide.yaml");
	const struct { const char *schema; const char *argv[8]; } runs[] = {
		{ "check", { "--json", "check", "/nonexistent.yaml", NULL } },
		{ "check", { "--json", "check", bad, NULL } },
		{ "check", { "--json", "check", NULL } },
		{ "check", { "--json", "check", ok, NULL } },
		{ "apply", { "--json", "apply", "--dry-run", bad, NULL } },
		{ "apply", { "--json", "apply", "--dry-run", "/nonexistent.yaml", NULL } },
		{ "apply", { "--json", "apply", hostwide, NULL } },
		{ "apply", { "--json", "apply", "--boot", ok, NULL } },
		{ "apply", { "--json", "apply", "--relisten=everything", ok, NULL } },
		{ "validate", { "--json", "validate", bad, NULL } },
		{ "validate", { "--json", "validate", NULL } },
		{ "show", { "--json", "show", "extra", NULL } },
		{ "show", { "--json", "--netns", "/nonexistent", "show", NULL } },
		{ "show-boot", { "--json", "show", "--boot", NULL } },
		{ "listeners", { "--json", "listeners", bad, NULL } },
		{ "relisten", { "--json", "relisten", "--backlog", "0", NULL } },
		{ "relisten", { "--json", "relisten", "--persist", NULL } },
		{ "rollback", { "--json", "rollback", "--dry-run", NULL } },
		{ "profiles", { "--json", "profiles", "extra", NULL } },
		{ "watch", { "--json", "watch", "--count", "0", NULL } },
		{ "watch", { "--json", "watch", bad, NULL } },
		{ "watch", { "--json", "watch", "--all-netns", "--count", "0", NULL } },
	};

	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		size_t before = strlen(d.all);

		doc(&d, runs[i].schema, 2, runs[i].argv);
		cr_assert(strstr(d.all + before, "\"level\":\"error\""), "%s %s: no error in messages: %s",
			  runs[i].argv[1], runs[i].argv[2] ? runs[i].argv[2] : "", d.all + before);
	}
	char report[16384];
	validate_all(&d, report, sizeof(report));
	cr_assert(strstr(report, "valid against show-boot"), "%s", report);
	/* A usage error names no namespace: qtune stopped before it looked. */
	cr_assert(strstr(d.all, "\"netns\":{\"inode\":0,\"initial\":null}"));
}

/* validate.py [mode] docs/schema show FILE (under the sandbox): its status. */
static int validate_show(const char *mode, const char *file)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), PYTHON " '%s/tests/json/validate.py' %s '%s/docs/schema' show '%s' >/dev/null 2>&1",
		 srcdir(), mode, srcdir(), sandbox_path(file));
	return system(cmd);
}

/* The validator itself: a document with an undocumented field, or a
 * field of the wrong type, is refused. Without this the test above could
 * pass by validating nothing. */
Test(e2e_json_schema, validator_refuses_undocumented_and_mistyped_fields)
{
	char *out;

	need_jsonschema();
	cr_assert_eq(sandbox_qtune_rooted(&out, NULL, (const char *[]){ "--json", "show", NULL }), 0);
	/* "schema":1 → "schema":1,"surprise":true */
	char *edited = malloc(strlen(out) + 32), *at = strstr(out, "\"schema\":1");
	cr_assert(at);
	sprintf(edited, "%.*s\"schema\":1,\"surprise\":true%s", (int)(at - out), out, at + 10);
	sandbox_write("extra.json", edited, 0644);
	at = strstr(out, "\"per_netns\":true");
	cr_assert(at);
	sprintf(edited, "%.*s\"per_netns\":\"yes\"%s", (int)(at - out), out, at + 16);
	sandbox_write("mistyped.json", edited, 0644);
	sandbox_write("good.json", out, 0644);
	free(edited);
	free(out);

	cr_assert_eq(validate_show("--strict", "good.json"), 0, "the real document is valid");
	cr_assert_neq(validate_show("--strict", "extra.json"), 0,
		      "an undocumented field is refused in strict mode");
	cr_assert_eq(validate_show("", "extra.json"), 0, "the published schema accepts added fields");
	cr_assert_neq(validate_show("", "mistyped.json"), 0, "a mistyped field is refused");
}
