/* Bucket and key rules (src/names.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "src/core_int.h"

static void bucket_names(void **state)
{
	static const struct { const char *name; int ok; } cases[] = {
		{ "abc", 1 }, { "my-bucket.v2", 1 }, { "a1b", 1 }, { "ab", 0 },
		{ "Upper", 0 }, { "under_score", 0 }, { "-start", 0 }, { "end-", 0 },
		{ "dot..dot", 0 }, { "192.168.0.1", 0 }, { "api", 0 }, { "apis", 1 },
		{ "xn--abc", 0 }, { "s3alias-x", 1 }, { "b-s3alias", 0 }, { "a.-b", 0 },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1 }, /* 63 */
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0 }, /* 64 */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (atr_bucket_name_valid(cases[i].name) != cases[i].ok)
			fail_msg("bucket name '%s' should be %s", cases[i].name,
				 cases[i].ok ? "valid" : "invalid");
	}
}

static void key_names(void **state)
{
	char long_key[1100], long_seg[300];
	memset(long_key, 'k', 1025);
	long_key[1025] = '\0';
	memset(long_seg, 's', 256);
	long_seg[256] = '\0';
	static const struct { const char *key; int rc; } cases[] = {
		{ "a", ATR_OK }, { "a/b/c", ATR_OK }, { "dir/", ATR_OK }, { "a b+c%d", ATR_OK },
		{ "\xc3\xa9t\xc3\xa9", ATR_OK }, { "", ATR_E_INVALID_KEY }, { "/a", ATR_E_INVALID_KEY },
		{ "a//b", ATR_E_INVALID_KEY }, { "a/./b", ATR_E_INVALID_KEY }, { "..", ATR_E_INVALID_KEY },
		{ "a/..", ATR_E_INVALID_KEY }, { "a/../b", ATR_E_INVALID_KEY }, { "...", ATR_OK },
		{ ".hidden", ATR_OK }, { "\xc0\xaf", ATR_E_INVALID_KEY } /* overlong '/' */,
		{ "\xed\xa0\x80", ATR_E_INVALID_KEY } /* surrogate */, { "\xff", ATR_E_INVALID_KEY },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (atr_key_valid(cases[i].key) != cases[i].rc)
			fail_msg("key '%s': got %d, want %d", cases[i].key,
				 atr_key_valid(cases[i].key), cases[i].rc);
	}
	assert_int_equal(atr_key_valid(long_key), ATR_E_KEY_TOO_LONG);
	long_key[1024] = '\0';
	assert_int_equal(atr_key_valid(long_key), ATR_E_KEY_TOO_LONG); /* one 1024-byte segment */
	assert_int_equal(atr_key_valid(long_seg), ATR_E_KEY_TOO_LONG);
	long_seg[255] = '\0';
	assert_int_equal(atr_key_valid(long_seg), ATR_OK);
}

static void successor(void **state)
{
	char out[16];
	assert_int_equal(key_successor("a/", out, sizeof(out)), 0);
	assert_string_equal(out, "a0");
	assert_int_equal(key_successor("ab", out, sizeof(out)), 0);
	assert_string_equal(out, "ac");
	assert_int_equal(key_successor("a\xff", out, sizeof(out)), 0);
	assert_string_equal(out, "b");
	assert_int_equal(key_successor("", out, sizeof(out)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bucket_names),
		cmocka_unit_test(key_names),
		cmocka_unit_test(successor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
