/* The S3 error table and the core -> S3 mapping (s3/s3_err.c), and the XML
 * escaping error bodies rely on (common/buf.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"
#include "s3/s3_err.h"
#include "src/atrium.h"

static void table_rows(void **state)
{
	static const struct { enum s3_err e; int status; const char *code; } rows[] = {
		{ S3_ERR_NO_SUCH_KEY, 404, "NoSuchKey" },
		{ S3_ERR_NO_SUCH_BUCKET, 404, "NoSuchBucket" },
		{ S3_ERR_BUCKET_OWNED, 409, "BucketAlreadyOwnedByYou" },
		{ S3_ERR_BUCKET_EXISTS, 409, "BucketAlreadyExists" },
		{ S3_ERR_BUCKET_NOT_EMPTY, 409, "BucketNotEmpty" },
		{ S3_ERR_SIGNATURE_MISMATCH, 403, "SignatureDoesNotMatch" },
		{ S3_ERR_INVALID_ACCESS_KEY, 403, "InvalidAccessKeyId" },
		{ S3_ERR_TIME_SKEWED, 403, "RequestTimeTooSkewed" },
		{ S3_ERR_MISSING_LENGTH, 411, "MissingContentLength" },
		{ S3_ERR_METHOD_NOT_ALLOWED, 405, "MethodNotAllowed" },
		{ S3_ERR_BAD_DIGEST, 400, "BadDigest" },
		{ S3_ERR_KEY_TOO_LONG, 400, "KeyTooLongError" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(s3_err_status(rows[i].e), rows[i].status);
		assert_string_equal(s3_err_code(rows[i].e), rows[i].code);
		assert_true(strlen(s3_err_message(rows[i].e)) > 0);
	}
}

static void every_core_error_maps(void **state)
{
	for (int e = 1; e < ATR_E__COUNT; e++) {
		enum s3_err s = s3_err_from_core(e);
		assert_int_not_equal(s, S3_ERR_OK);
		assert_true(s3_err_status(s) >= 400);
	}
	assert_int_equal(s3_err_from_core(ATR_E_NO_KEY), S3_ERR_NO_SUCH_KEY);
	assert_int_equal(s3_err_from_core(ATR_E_NOSPC), S3_ERR_INSUFFICIENT_STORAGE);
	assert_int_equal(s3_err_from_core(ATR_E_PARENT_IS_OBJECT), S3_ERR_PARENT_IS_OBJECT);
}

static void xml_escaping_and_caps(void **state)
{
	struct buf b = BUF_INIT(64);
	assert_int_equal(buf_add_xml(&b, "a<b>&\"c'"), 0);
	assert_string_equal(b.ptr, "a&lt;b&gt;&amp;&quot;c&apos;");
	buf_reset(&b);
	char big[100];
	memset(big, 'x', sizeof(big) - 1);
	big[99] = '\0';
	assert_int_equal(buf_addstr(&b, big), -1); /* over the cap: refused, unchanged */
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_rows),
		cmocka_unit_test(every_core_error_maps),
		cmocka_unit_test(xml_escaping_and_caps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
