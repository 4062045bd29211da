/* The copy headers' parsers (s3/s3_copy.c): x-amz-copy-source and
 * x-amz-copy-source-range. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "s3/s3_int.h"

static void copy_range(void **state)
{
	static const struct {
		const char *v;
		uint64_t size;
		enum s3_err want;
		uint64_t first, len;
	} cases[] = {
		{ "bytes=0-9", 10, S3_ERR_OK, 0, 10 },
		{ "bytes=9-9", 10, S3_ERR_OK, 9, 1 },
		{ "bytes=3-5", 10, S3_ERR_OK, 3, 3 },
		{ "bytes=0000-0001", 10, S3_ERR_OK, 0, 2 },
		{ "bytes=0-10", 10, S3_ERR_COPY_RANGE_INVALID, 0, 0 },
		{ "bytes=5-4", 10, S3_ERR_COPY_RANGE_INVALID, 0, 0 },
		{ "bytes=0-0", 0, S3_ERR_COPY_RANGE_INVALID, 0, 0 },
		{ "bytes=18446744073709551615-1", 10, S3_ERR_COPY_RANGE_MALFORMED, 0, 0 },
		{ "bytes=9999999999999999999-9999999999999999999", 10, S3_ERR_COPY_RANGE_INVALID,
		  0, 0 },
		{ "0-9", 10, S3_ERR_COPY_RANGE_MALFORMED, 0, 0 },
		{ "bytes=5", 10, S3_ERR_COPY_RANGE_MALFORMED, 0, 0 },
		{ "bytes=-5", 10, S3_ERR_COPY_RANGE_MALFORMED, 0, 0 },
		{ "bytes=5-", 10, S3_ERR_COPY_RANGE_MALFORMED, 0, 0 },
		{ "bytes=0-1,2-3", 10, S3_ERR_COPY_RANGE_MALFORMED, 0, 0 },
		{ "bytes= 0-1", 10, S3_ERR_COPY_RANGE_MALFORMED, 0, 0 },
		{ "bytes=0-1 ", 10, S3_ERR_COPY_RANGE_MALFORMED, 0, 0 },
		{ "Bytes=0-1", 10, S3_ERR_COPY_RANGE_MALFORMED, 0, 0 },
		{ "", 10, S3_ERR_COPY_RANGE_MALFORMED, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t first = 99, len = 99;
		enum s3_err e = s3_copy_range_parse(cases[i].v, cases[i].size, &first, &len);
		if (e != cases[i].want)
			fail_msg("'%s': got %d, want %d", cases[i].v, e, cases[i].want);
		if (!e && (first != cases[i].first || len != cases[i].len))
			fail_msg("'%s': got %llu+%llu", cases[i].v, (unsigned long long)first,
				 (unsigned long long)len);
	}
}

static void copy_source(void **state)
{
	static const struct {
		const char *v;
		enum s3_err want;
		const char *bucket, *key, *vid;
	} cases[] = {
		{ "bk/k", S3_ERR_OK, "bk", "k", "" },
		{ "/bk/a/b%20c", S3_ERR_OK, "bk", "a/b c", "" },
		{ "bk/k?versionId=null", S3_ERR_OK, "bk", "k", "null" },
		{ "bk/k?versionId=0005f1a2b3c4d5e6a1b2c3d4e5f60718", S3_ERR_OK, "bk", "k",
		  "0005f1a2b3c4d5e6a1b2c3d4e5f60718" },
		{ "bk/k?versionId=v1", S3_ERR_INVALID_VERSION_ID, NULL, NULL, NULL },
		{ "bk/k?versionId=0005F1A2B3C4D5E6A1B2C3D4E5F60718", S3_ERR_INVALID_VERSION_ID, NULL,
		  NULL, NULL },
		{ "bk", S3_ERR_INVALID_COPY_SOURCE, NULL, NULL, NULL },
		{ "bk/", S3_ERR_INVALID_COPY_SOURCE, NULL, NULL, NULL },
		{ "/k", S3_ERR_INVALID_COPY_SOURCE, NULL, NULL, NULL },
		{ "bk/a%00b", S3_ERR_INVALID_COPY_SOURCE, NULL, NULL, NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char bucket[ATR_BUCKET_MAX + 1], vid[ATR_VID_MAX + 1];
		char *key = NULL;
		enum s3_err e = s3_copy_source_parse(cases[i].v, bucket, &key, vid);
		if (e != cases[i].want)
			fail_msg("'%s': got %d, want %d", cases[i].v, e, cases[i].want);
		if (!e) {
			assert_string_equal(bucket, cases[i].bucket);
			assert_string_equal(key, cases[i].key);
			assert_string_equal(vid, cases[i].vid);
		}
		free(key);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(copy_range),
		cmocka_unit_test(copy_source),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
