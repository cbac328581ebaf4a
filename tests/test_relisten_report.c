/* Tests for relisten_report: the text and JSON of hand-made results. The
 * expected texts are the interface; change them only on purpose. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_listeners.h"
#include "relisten_report.h"

static struct listener_set set;
static struct relisten_results rs;
static struct relisten_result v[6];
static char *text;
static size_t text_len;

static void cleanup(void)
{
	listener_set_free(&set);
	free(text);
	text = NULL;
}

TestSuite(relisten_report, .fini = cleanup);

/* Five raised listeners and one that failed, on ports 8000.. */
static void build(void)
{
	for (size_t i = 0; i < 6; i++) {
		size_t ix = fake_listener(&set, "127.0.0.1", (uint16_t)(8000 + i), 128, 0);
		fake_owner(&set, ix, (pid_t)(100 + i), "srv", "");
		v[i] = (struct relisten_result){
			.listener = ix, .inode = 1000 + i, .status = RELISTEN_RAISED, .clamped = true,
			.old_backlog = 128, .new_backlog = 4096, .backlog_now = 4096, .pid = (pid_t)(100 + i),
		};
		snprintf(v[i].comm, sizeof(v[i].comm), "srv");
	}
	fake_attribute(&set, true);
	v[5].status = RELISTEN_FAILED;
	v[5].backlog_now = -1;
	v[5].reason = "permission denied";
	v[5].advice = "restart srv";
	rs = (struct relisten_results){ .v = v, .n = 6, .nraised = 5, .nfailed = 1, .confirmed = true,
					.ptrace_scope = -1 };
}

static void render(bool color, int verbosity)
{
	struct qt_ctx ctx = { .color = color, .verbosity = verbosity };
	FILE *f = open_memstream(&text, &text_len);

	cr_assert(f);
	relisten_render_text(&ctx, f, &set, &rs);
	cr_assert(fclose(f) == 0);
}

/* The bug: colours came from four rotating buffers, so from the fourth
 * coloured row on the held reset had become green and the line (and the
 * terminal) stayed green. */
Test(relisten_report, every_coloured_row_ends_with_reset)
{
	build();
	render(true, 0);
	const char *line = text;
	for (size_t i = 0; i < 6; i++) {
		const char *end = strchr(line, '\n');
		cr_assert(end, "%s", text);
		cr_assert(end - line > 4 && strncmp(end - 4, "\033[0m", 4) == 0,
			  "row %zu does not end with reset: %.*s", i, (int)(end - line), line);
		cr_assert(strncmp(line + strlen("127.0.0.1:8000  "), i == 5 ? "\033[33m" : "\033[32m", 5) == 0,
			  "row %zu: %.*s", i, (int)(end - line), line);
		line = end + 1;
	}
	cr_assert_str_eq(line, "relisten: 5 raised, 0 already fine, 1 not raised\n");
}

Test(relisten_report, plain_text_and_quiet)
{
	build();
	render(false, 0);
	cr_assert(strstr(text, "127.0.0.1:8000  raised 128 -> 4096, the ceiling: the program's own "
			       "request is unknown (pid 100 srv)\n"), "%s", text);
	cr_assert(strstr(text, "127.0.0.1:8005  not raised (128, wanted 4096): permission denied; restart srv\n"),
		  "%s", text);
	cr_assert_null(strchr(text, '\033'), "no colour without a terminal");
	free(text);
	text = NULL;
	render(false, -1);
	cr_assert_str_eq(text, "127.0.0.1:8005  not raised (128, wanted 4096): permission denied; restart srv\n",
			 "-q shows only what was not raised");
}

Test(relisten_report, json_member)
{
	struct jw w;
	FILE *f;

	build();
	f = open_memstream(&text, &text_len);
	jw_init(&w, f);
	jw_object_begin(&w);
	relisten_render_json(&w, &set, &rs);
	jw_object_end(&w);
	cr_assert(fclose(f) == 0);
	static const char head[] = "{\"relisten\":{\"dry_run\":false,\"confirmed\":true,\"cap_sys_ptrace\":false,"
				   "\"ptrace_scope\":null,\"raised\":5,\"would_raise\":0,\"already_fine\":0,\"failed\":1,";
	cr_assert(strncmp(text, head, strlen(head)) == 0, "%s", text);
	cr_assert(strstr(text, "\"port\":8005,\"interface\":null,\"inode\":1005,\"result\":\"failed\",\"why\":[\"clamped\"],"
			       "\"backlog_before\":128,\"backlog_target\":4096,\"backlog_after\":null,\"pid\":105,"
			       "\"comm\":\"srv\",\"reason\":\"permission denied\",\"advice\":\"restart srv\","
			       "\"target_choice\":\"ceiling\",\"target_capped\":false,\"program_setting\":null}"),
		  "%s", text);
}
