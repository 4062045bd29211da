/* The Range header parser (common/range.c): S3's single-range rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/range.h"

static void ranges(void **state)
{
	static const struct {
		const char *h;
		uint64_t size;
		enum range_result want;
		uint64_t first, last;
	} cases[] = {
		{ NULL, 100, RANGE_NONE, 0, 0 },
		{ "bytes=0-9", 100, RANGE_OK, 0, 9 },
		{ "bytes=10-19", 100, RANGE_OK, 10, 19 },
		{ "bytes=0-0", 100, RANGE_OK, 0, 0 },
		{ "bytes=99-99", 100, RANGE_OK, 99, 99 },
		{ "bytes=90-", 100, RANGE_OK, 90, 99 },
		{ "bytes=0-", 100, RANGE_OK, 0, 99 },
		{ "bytes=-5", 100, RANGE_OK, 95, 99 },
		{ "bytes=-100", 100, RANGE_OK, 0, 99 },
		{ "bytes=-1000", 100, RANGE_OK, 0, 99 },      /* suffix longer than the object */
		{ "bytes=50-1000", 100, RANGE_OK, 50, 99 },   /* last clamped */
		{ "bytes=5-18446744073709551615", 100, RANGE_OK, 5, 99 },
		{ "Bytes = 1-2 ", 100, RANGE_OK, 1, 2 },      /* unit is case-insensitive, OWS */
		{ "bytes=100-", 100, RANGE_UNSATISFIABLE, 0, 0 },
		{ "bytes=100-200", 100, RANGE_UNSATISFIABLE, 0, 0 },
		{ "bytes=-0", 100, RANGE_UNSATISFIABLE, 0, 0 },
		{ "bytes=0-0", 0, RANGE_UNSATISFIABLE, 0, 0 }, /* any range of an empty object */
		{ "bytes=0-", 0, RANGE_UNSATISFIABLE, 0, 0 },
		{ "bytes=-5", 0, RANGE_UNSATISFIABLE, 0, 0 },
		/* ignored: the whole object with 200, as S3 does */
		{ "bytes=0-1,5-6", 100, RANGE_NONE, 0, 0 },
		{ "bytes=0-1, 200-300", 100, RANGE_NONE, 0, 0 },
		{ "bytes=5-2", 100, RANGE_NONE, 0, 0 },
		{ "bytes=abc", 100, RANGE_NONE, 0, 0 },
		{ "bytes=", 100, RANGE_NONE, 0, 0 },
		{ "bytes=-", 100, RANGE_NONE, 0, 0 },
		{ "bytes=1", 100, RANGE_NONE, 0, 0 },
		{ "bytes=-1-4", 100, RANGE_NONE, 0, 0 },
		{ "bytes=1-x", 100, RANGE_NONE, 0, 0 },
		{ "bytes 0-1", 100, RANGE_NONE, 0, 0 },
		{ "items=0-1", 100, RANGE_NONE, 0, 0 },
		{ "", 100, RANGE_NONE, 0, 0 },
		{ "bytes=18446744073709551616-", 100, RANGE_NONE, 0, 0 }, /* overflow */
		{ "bytes=+1-2", 100, RANGE_NONE, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t first = 7, last = 7;
		enum range_result got = range_parse(cases[i].h, cases[i].size, &first, &last);
		if (got != cases[i].want)
			fail_msg("'%s' on %llu bytes: got %d, want %d", cases[i].h ? cases[i].h : "(null)",
				 (unsigned long long)cases[i].size, got, cases[i].want);
		if (got == RANGE_OK && (first != cases[i].first || last != cases[i].last))
			fail_msg("'%s': got %llu-%llu, want %llu-%llu", cases[i].h,
				 (unsigned long long)first, (unsigned long long)last,
				 (unsigned long long)cases[i].first, (unsigned long long)cases[i].last);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ranges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
