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

/* The W3C profiles of ISO 8601, in milliseconds; days checked against
 * their month; zones applied. */
static void iso8601(void **state)
{
	static const struct { const char *s; int64_t ms; } good[] = {
		{ "2013-05-24T00:00:00Z", 1369353600000LL },
		{ "2013-05-24T00:00:00.123456Z", 1369353600123LL },
		{ "2013-05-24T00:00:00.5Z", 1369353600500LL },
		{ "2013-05-24T02:30:00+02:30", 1369353600000LL },
		{ "2013-05-23T19:00-05:00", 1369353600000LL },
		{ "2013-05-24", 1369353600000LL },
		{ "2013-05", 1367366400000LL },
		{ "2024-02-29T12:00:00Z", 1709208000000LL },
		{ "2000-02-29", 951782400000LL },
		{ "1970-01-01T00:00:00Z", 0 },
		{ "1969-12-31T23:59:59Z", -1000 },
		{ "0001-01-01T00:00:00Z", -62135596800000LL },
		{ "9999-12-31T23:59:60Z", 253402300800000LL },
	};
	static const char *const bad[] = {
		"", "2013", "2013-5-24", "2013-13-01", "2013-00-01", "2013-02-29", "1900-02-29",
		"2013-04-31", "2013-05-24T", "2013-05-24T24:00Z", "2013-05-24T00:60Z",
		"2013-05-24T00:00:61Z", "2013-05-24T00:00", "2013-05-24T00:00:00", "2013-05-24T00:00:00.Z",
		"2013-05-24T00:00:00+0200", "2013-05-24T00:00:00+24:00", "2013-05-24T00:00:00Zx",
		"2013-05-24 00:00:00Z", "2013-05T00:00Z", "x013-05-24",
	};
	int64_t ms;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (time_parse_iso8601(good[i].s, &ms))
			fail_msg("refused '%s'", good[i].s);
		if (ms != good[i].ms)
			fail_msg("'%s': %lld, want %lld", good[i].s, (long long)ms, (long long)good[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!time_parse_iso8601(bad[i], &ms))
			fail_msg("accepted '%s'", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(formats),
		cmocka_unit_test(parsing),
		cmocka_unit_test(iso8601),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
