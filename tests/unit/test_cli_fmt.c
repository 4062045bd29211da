/* tools/cli_fmt.c: the shapes the atrium CLI prints (Alluxio's fs ls line,
 * permissions, dates, human sizes, in-cache percentages, column widths). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "tools/cli_fmt.h"

static int utc(void **state)
{
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

static void modes(void **state)
{
	static const struct { uint32_t mode; int dir; const char *out; } rows[] = {
		{ 0755, 1, "drwxr-xr-x" }, { 0644, 0, "-rw-r--r--" }, { 0, 0, "----------" },
		{ 0777, 0, "-rwxrwxrwx" }, { 0640, 1, "drw-r-----" }, { 04711, 0, "-rwx--x--x" },
	};
	char out[11];
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fmt_mode(rows[i].mode, rows[i].dir, out);
		assert_string_equal(out, rows[i].out);
	}
}

static void dates(void **state)
{
	static const struct { int64_t ms; const char *out; } rows[] = {
		{ 1614614546547LL, "03-01-2021 16:02:26:547" },
		{ 1560867965694LL, "06-18-2019 14:26:05:694" },
		{ 0, "01-01-1970 00:00:00:000" },
		{ 1000, "01-01-1970 00:00:01:000" },
		{ -1, "12-31-1969 23:59:59:999" },
	};
	char out[FMT_DATE_LEN];
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fmt_date(rows[i].ms, out);
		assert_string_equal(out, rows[i].out);
	}
	/* local time, as Alluxio prints it */
	setenv("TZ", "Asia/Kolkata", 1);
	tzset();
	fmt_date(0, out);
	assert_string_equal(out, "01-01-1970 05:30:00:000");
	utc(NULL);
}

static void sizes(void **state)
{
	static const struct { uint64_t n; const char *plain, *human; } rows[] = {
		{ 0, "0", "0B" },
		{ 27040, "27040", "26.41KB" },
		{ 5120, "5120", "5120B" },
		{ 5121, "5121", "5.00KB" },
		{ 5 * 1024 * 1024, "5242880", "5120.00KB" },
		{ 5 * 1024 * 1024 + 10240, "5253120", "5.01MB" },
		{ 1ULL << 30, "1073741824", "1024.00MB" },
		{ 6ULL << 30, "6442450944", "6.00GB" },
		{ 7ULL << 40, "7696581394432", "7.00TB" },
		{ 9ULL << 50, "10133099161583616", "9.00PB" },
		{ UINT64_MAX, "18446744073709551615", "16384.00PB" },
	};
	char out[FMT_SIZE_LEN];
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fmt_size(rows[i].n, 0, out);
		assert_string_equal(out, rows[i].plain);
		fmt_size(rows[i].n, 1, out);
		assert_string_equal(out, rows[i].human);
	}
}

static void parsed_sizes(void **state)
{
	static const struct { const char *in; int rc; uint64_t out; } cases[] = {
		{ "512", 0, 512 }, { "0", 0, 0 }, { "4K", 0, 4096 }, { "4kb", 0, 4096 },
		{ "1MB", 0, 1 << 20 }, { "2g", 0, 2ULL << 30 }, { "1T", 0, 1ULL << 40 },
		{ "10B", 0, 10 }, { "", -1, 0 }, { "K", -1, 0 }, { "-1", -1, 0 }, { "1.5K", -1, 0 },
		{ "1 K", -1, 0 }, { "1KiB", -1, 0 }, { "99999999999999999999", -1, 0 },
		{ "17179869184G", -1, 0 }, /* 2^34 GiB: past 64 bits */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 7;
		int rc = fmt_parse_size(cases[i].in, &v);
		if (rc != cases[i].rc || (!rc && v != cases[i].out))
			fail_msg("'%s': rc %d value %llu", cases[i].in, rc, (unsigned long long)v);
	}
}

static void percentages(void **state)
{
	static const struct { uint64_t cached, size; int pct; } rows[] = {
		{ 0, 100, 0 }, { 100, 100, 100 }, { 99, 100, 99 }, { 999, 1000, 99 }, /* never rounds up to 100 */
		{ 1, 1000, 0 }, { 0, 0, 100 }, { 50, 200, 25 }, { 200, 100, 100 },
		{ UINT64_MAX / 2, UINT64_MAX, 49 }, { UINT64_MAX, UINT64_MAX, 100 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(fmt_pct(rows[i].cached, rows[i].size), rows[i].pct);
}

static void ls_lines(void **state)
{
	struct ls_entry v[] = {
		{ "/testbucket0", "testuser", "staff", "PERSISTED", 0, 0, 0755, 1, 1614614546547LL },
		{ "/testbucket/key1", "alluxio", "staff", "PERSISTED", 27040, 27040, 0644, 0,
		  1560867965694LL },
		{ "/testbucket/k2", "bob", "bobgroup", "NOT_PERSISTED", 7, 3, 0600, 0, 1000 },
	};
	struct buf b = BUF_INIT(4096);
	assert_int_equal(fmt_ls(v, 3, 0, &b), 0);
	assert_string_equal(b.ptr,
		"drwxr-xr-x  testuser  staff         0  PERSISTED      03-01-2021 16:02:26:547  DIR   /testbucket0\n"
		"-rw-r--r--  alluxio   staff     27040  PERSISTED      06-18-2019 14:26:05:694  100%  /testbucket/key1\n"
		"-rw-------  bob       bobgroup      7  NOT_PERSISTED  01-01-1970 00:00:01:000  42%   /testbucket/k2\n");
	buf_reset(&b);
	assert_int_equal(fmt_ls(v, 2, 1, &b), 0);
	assert_string_equal(b.ptr,
		"drwxr-xr-x  testuser  staff       0B  PERSISTED  03-01-2021 16:02:26:547  DIR   /testbucket0\n"
		"-rw-r--r--  alluxio   staff  26.41KB  PERSISTED  06-18-2019 14:26:05:694  100%  /testbucket/key1\n");
	buf_reset(&b);
	assert_int_equal(fmt_ls(v, 0, 0, &b), 0);
	assert_int_equal(b.len, 0);
	buf_release(&b);
	struct buf small = BUF_INIT(16);
	assert_int_equal(fmt_ls(v, 1, 0, &small), -1);
	buf_release(&small);
}

static void durations(void **state)
{
	char out[48];
	fmt_duration(0, out);
	assert_string_equal(out, "0d 00h 00m 00s");
	fmt_duration((1 * 86400 + 2 * 3600 + 3 * 60 + 4) * 1000LL + 999, out);
	assert_string_equal(out, "1d 02h 03m 04s");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(modes),
		cmocka_unit_test(dates),
		cmocka_unit_test(sizes),
		cmocka_unit_test(parsed_sizes),
		cmocka_unit_test(percentages),
		cmocka_unit_test(ls_lines),
		cmocka_unit_test(durations),
	};
	return cmocka_run_group_tests(tests, utc, NULL);
}
