/* Date formats and strict parsing (common/timefmt.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/timefmt.h"

static void formats(void **state)
{
	char out[TIMEFMT_LEN];
	time_fmt_rfc1123(1369353600, out);
	assert_string_equal(out, "Fri, 24 May 2013 00:00:00 GMT");
	time_fmt_iso8601_ms(1369353600123456789LL, out);
	assert_string_equal(out, "2013-05-24T00:00:00.123Z");
	time_fmt_amz(1369353600, out);
	assert_string_equal(out, "20130524T000000Z");
}

static void parsing(void **state)
{
	time_t t;
	assert_int_equal(time_parse_amz("20130524T000000Z", &t), 0);
	assert_int_equal(t, 1369353600);
	static const char *const bad[] = { "2013 524T000000Z", "20130231T000000Z", "20130524T250000Z",
					   "20130524T000000", "20130524X000000Z", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!time_parse_amz(bad[i], &t))
			fail_msg("accepted '%s'", bad[i]);
	assert_int_equal(time_parse_http("Fri, 24 May 2013 00:00:00 GMT", &t), 0);
	assert_int_equal(t, 1369353600);
	assert_int_equal(time_parse_http("Friday, 24-May-13 00:00:00 GMT", &t), 0);
	assert_int_equal(t, 1369353600);
	assert_int_equal(time_parse_http("Fri May 24 00:00:00 2013", &t), 0);
	assert_int_equal(t, 1369353600);
	assert_int_not_equal(time_parse_http("yesterday", &t), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(formats),
		cmocka_unit_test(parsing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
