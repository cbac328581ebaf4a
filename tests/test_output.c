/* Tests for output: the JSON writer's structure and escaping, colour as
 * constant strings, and the stream check. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

static char *buf;
static size_t len;

static void cleanup(void)
{
	free(buf);
	buf = NULL;
}

TestSuite(output, .fini = cleanup);

/* Holding many sequences at once must not change the earlier ones: relisten
 * takes reset once and a colour per row (the fourth row used to end green). */
Test(output, colours_are_constant_strings_however_many_are_held)
{
	const char *reset = output_color(true, OUT_RESET);
	const char *held[8];

	for (size_t i = 0; i < 8; i++)
		held[i] = output_color(true, i % 2 ? OUT_GREEN : OUT_YELLOW);
	cr_assert_str_eq(reset, "\033[0m");
	for (size_t i = 0; i < 8; i++)
		cr_assert_str_eq(held[i], i % 2 ? "\033[32m" : "\033[33m", "sequence %zu", i);
	cr_assert_str_eq(output_color(false, OUT_RED), "", "no colour: empty strings");
	cr_assert_str_eq(output_color(false, OUT_RESET), "");
}

Test(output, json_writer_separates_nests_and_escapes)
{
	FILE *f = open_memstream(&buf, &len);
	struct jw w;

	jw_init(&w, f);
	jw_object_begin(&w);
	jw_kstring(&w, "s", "a\"b\\c\nd\te\x01\x7f");
	jw_kstring(&w, "null", NULL);
	jw_kint(&w, "neg", -5);
	jw_key(&w, "big");
	jw_uint(&w, UINT64_MAX);
	jw_key(&w, "list");
	jw_array_begin(&w);
	jw_bool(&w, true);
	jw_null(&w);
	jw_object_begin(&w);
	jw_object_end(&w);
	jw_array_end(&w);
	jw_object_end(&w);
	fclose(f);
	cr_assert_str_eq(buf, "{\"s\":\"a\\\"b\\\\c\\nd\\te\\u0001\\u007f\",\"null\":null,"
			      "\"neg\":-5,\"big\":18446744073709551615,\"list\":[true,null,{}]}\n");
}

Test(output, finish_reports_a_lost_write)
{
	FILE *f = fopen("/dev/full", "w");

	cr_assert(f);
	fputs("x", f);
	cr_assert_lt(output_finish(f), 0, "writing to /dev/full is an error");
	fclose(f);
}
