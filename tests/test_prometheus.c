/* prometheus: metric-name and label-value rules of the exposition format. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prometheus.h"

static void snake(const char *in, const char *want)
{
	char out[96];

	prom_snake_case(in, out, sizeof(out));
	cr_assert_str_eq(out, want, "%s", in);
}

Test(prometheus, tcpext_names_become_snake_case)
{
	snake("ListenOverflows", "listen_overflows");
	snake("ListenDrops", "listen_drops");
	snake("TCPReqQFullDrop", "tcp_req_q_full_drop");
	snake("TCPReqQFullDoCookies", "tcp_req_q_full_do_cookies");
	snake("SyncookiesSent", "syncookies_sent");
	snake("TCPAbortOnData", "tcp_abort_on_data");
	snake("TCPFastOpenListenOverflow", "tcp_fast_open_listen_overflow");
	snake("TW", "tw");
}

Test(prometheus, snake_case_is_bounded)
{
	char out[6];

	prom_snake_case("ListenOverflows", out, sizeof(out));
	cr_assert_str_eq(out, "list");
}

static char *label(const char *in)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert(f);
	prom_write_label_value(f, in);
	fclose(f);
	return buf;
}

Test(prometheus, label_values_are_escaped)
{
	char *s = label("a\\b\"c\nd");

	cr_assert_str_eq(s, "a\\\\b\\\"c\\nd");
	free(s);
}

Test(prometheus, control_bytes_and_invalid_utf8_become_question_marks)
{
	char *s = label("x\x01y\tz\x7f");

	cr_assert_str_eq(s, "x?y?z?");
	free(s);
	s = label("caf\xc3\xa9 \xff\xc3 \xed\xa0\x80 \xf0\x9f\x98\x80");
	/* é and the emoji survive; a stray byte, a cut sequence and a UTF-16
	 * surrogate do not. */
	cr_assert_str_eq(s, "caf\xc3\xa9 ?? ??? \xf0\x9f\x98\x80");
	free(s);
}
