/*
 * Unit tests for the object handlers (s3/s3_object.c: PutObject,
 * GetObject, HeadObject, DeleteObject) over a temporary core, request by
 * request through s3_handle on a fake connection (s3_fixture.h): what is
 * stored and answered, and that a refused PUT stores nothing, leaves what
 * was there, and sends 100 Continue only once the write is allowed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "s3/s3_int.h"
#include "tests/unit/s3_fixture.h"

#define HELLO_MD5 "\"5d41402abc4b2a76b9719d911017c592\""
#define HELLO_MD5_B64 "XUFAKrxLKna5cZ2REBfFkg=="
#define HELLO_CRC32 "NhCmhg=="
#define HELLO_SHA "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
#define MAX_PUT 64

static int setup(void **state)
{
	*state = s3_fixture_new(NULL, MAX_PUT);
	return 0;
}

static int teardown(void **state)
{
	s3_fixture_free(*state);
	return 0;
}


static int put(struct s3_fixture *x, const char *target, const char *const *hdrs,
	       const char *body)
{
	return s3_call(x, "PUT", target, hdrs, body, body ? strlen(body) : 0);
}

/* The object's bytes ("" with *status 404 if there is none). */
static const char *get(struct s3_fixture *x, const char *target, int *status)
{
	*status = s3_call(x, "GET", target, NULL, NULL, 0);
	return fake_body(&x->conn);
}

static void assert_absent(struct s3_fixture *x, const char *target)
{
	int status;
	get(x, target, &status);
	assert_int_equal(status, 404);
	assert_string_equal(x->seen.err, "NoSuchKey");
}

static void assert_content(struct s3_fixture *x, const char *target, const char *body)
{
	int status;
	const char *got = get(x, target, &status);
	assert_int_equal(status, 200);
	assert_string_equal(got, body);
}

static void test_put_get_head_delete(void **state)
{
	struct s3_fixture *x = *state;
	static const char *const hdrs[] = { "Content-Type", "text/plain", "X-Amz-Meta-Color", "Red",
					    "Cache-Control", "no-cache", NULL };
	assert_int_equal(put(x, "/bkt/a/k", hdrs, "hello"), 200);
	assert_string_equal(s3_fixture_header(x, "ETag"), HELLO_MD5);
	assert_string_equal(s3_fixture_header(x, "x-amz-checksum-crc32"), ""); /* none was sent */
	assert_string_equal(x->seen.op, "PutObject");

	assert_content(x, "/bkt/a/k", "hello");
	assert_string_equal(s3_fixture_header(x, "Content-Type"), "text/plain");
	assert_string_equal(s3_fixture_header(x, "x-amz-meta-color"), "Red"); /* lower-cased name */
	assert_string_equal(s3_fixture_header(x, "Cache-Control"), "no-cache");
	assert_string_equal(s3_fixture_header(x, "Content-Length"), "5");
	assert_string_equal(s3_fixture_header(x, "ETag"), HELLO_MD5);

	assert_int_equal(s3_call(x, "HEAD", "/bkt/a/k", NULL, NULL, 0), 200);
	assert_string_equal(s3_fixture_header(x, "Content-Length"), "5");
	assert_string_equal(fake_body(&x->conn), "");
	assert_string_equal(x->seen.op, "HeadObject");

	/* A rewrite replaces bytes and headers: the default type now. */
	assert_int_equal(put(x, "/bkt/a/k", NULL, "world!"), 200);
	assert_content(x, "/bkt/a/k", "world!");
	assert_string_equal(s3_fixture_header(x, "Content-Type"), ATR_CONTENT_TYPE_DEFAULT);
	assert_string_equal(s3_fixture_header(x, "x-amz-meta-color"), "");

	assert_int_equal(s3_call(x, "DELETE", "/bkt/a/k", NULL, NULL, 0), 204);
	assert_absent(x, "/bkt/a/k");
	assert_int_equal(s3_call(x, "DELETE", "/bkt/a/k", NULL, NULL, 0), 204);
}

/* What a PUT's headers make of the object, as a GET answers it. */
static void test_stored_headers(void **state)
{
	struct s3_fixture *x = *state;
	static const struct {
		const char *name, *value;  /* the PUT's header, or NULL */
		const char *got, *want;    /* the GET's header ("": absent) */
	} cases[] = {
		/* aws-chunked is a transfer detail, never the object's encoding */
		{ "Content-Encoding", "aws-chunked, gzip", "Content-Encoding", "gzip" },
		{ "Content-Encoding", "gzip, aws-chunked", "Content-Encoding", "gzip" },
		{ "Content-Encoding", "aws-chunked", "Content-Encoding", "" },
		{ "x-amz-tagging", "a=1&b=2", "x-amz-tagging-count", "2" },
		{ NULL, NULL, "x-amz-tagging-count", "" },
		{ "Content-Disposition", "attachment", "Content-Disposition", "attachment" },
		{ "X-AMZ-META-Mixed-Case", "v", "x-amz-meta-mixed-case", "v" },
		{ NULL, NULL, "Content-Type", ATR_CONTENT_TYPE_DEFAULT },
		{ "x-amz-storage-class", "STANDARD", "x-amz-storage-class", "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *hdrs[] = { cases[i].name, cases[i].value, NULL };
		assert_int_equal(put(x, "/bkt/h", hdrs, "hello"), 200);
		assert_content(x, "/bkt/h", "hello");
		if (strcmp(s3_fixture_header(x, cases[i].got), cases[i].want))
			fail_msg("%s: %s is '%s'", cases[i].value, cases[i].got, s3_fixture_header(x, cases[i].got));
	}
}

/* Content-MD5, x-amz-content-sha256 and x-amz-checksum-*: a mismatch
 * stores nothing and leaves the object that was there. */
static void test_integrity(void **state)
{
	struct s3_fixture *x = *state;
	static const struct {
		const char *hdrs[5];
		int status;
		const char *err;
	} cases[] = {
		{ { "Content-MD5", HELLO_MD5_B64 }, 200, "" },
		{ { "Content-MD5", "AAAAAAAAAAAAAAAAAAAAAA==" }, 400, "BadDigest" },
		{ { "Content-MD5", "not base64" }, 400, "InvalidDigest" },
		{ { "x-amz-content-sha256", HELLO_SHA }, 200, "" },
		{ { "x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" }, 400, "XAmzContentSHA256Mismatch" },
		{ { "x-amz-checksum-crc32", HELLO_CRC32 }, 200, "" },
		{ { "x-amz-checksum-crc32", "AAAAAA==" }, 400, "BadDigest" },
		{ { "x-amz-checksum-crc32", HELLO_CRC32, "Content-MD5", "AAAAAAAAAAAAAAAAAAAAAA==" },
		  400, "BadDigest" },
		{ { "x-amz-checksum-crc32", "AA" }, 400, "InvalidRequest" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char target[32];
		snprintf(target, sizeof(target), "/bkt/k%zu", i);
		assert_int_equal(put(x, target, NULL, "before"), 200);
		int status = put(x, target, cases[i].hdrs, "hello");
		if (status != cases[i].status || strcmp(x->seen.err, cases[i].err))
			fail_msg("case %zu (%s): got %d %s", i, cases[i].hdrs[0], status, x->seen.err);
		assert_content(x, target, status == 200 ? "hello" : "before");
	}
}

/* A verified checksum is kept with the object: echoed by the PUT, and by
 * a GET that asks (x-amz-checksum-mode), whether it came in a header or
 * in an aws-chunked trailer. */
static void test_checksum_kept(void **state)
{
	struct s3_fixture *x = *state;
	static const char *const header[] = { "x-amz-checksum-crc32", HELLO_CRC32, NULL };
	static const char *const trailer[] = {
		"x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
		"x-amz-decoded-content-length", "5", "x-amz-trailer", "x-amz-checksum-crc32",
		"Content-Encoding", "aws-chunked", NULL };
	static const char *const mode[] = { "x-amz-checksum-mode", "ENABLED", NULL };
	static const char chunked[] = "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:" HELLO_CRC32 "\r\n\r\n";

	assert_int_equal(put(x, "/bkt/h", header, "hello"), 200);
	assert_string_equal(s3_fixture_header(x, "x-amz-checksum-crc32"), HELLO_CRC32);
	assert_int_equal(put(x, "/bkt/t", trailer, chunked), 200);
	assert_string_equal(s3_fixture_header(x, "x-amz-checksum-crc32"), HELLO_CRC32);
	assert_string_equal(s3_fixture_header(x, "ETag"), HELLO_MD5);
	for (int i = 0; i < 2; i++) {
		const char *target = i ? "/bkt/t" : "/bkt/h";
		assert_int_equal(s3_call(x, "GET", target, mode, NULL, 0), 200);
		assert_string_equal(fake_body(&x->conn), "hello");
		assert_string_equal(s3_fixture_header(x, "x-amz-checksum-crc32"), HELLO_CRC32);
		assert_string_equal(s3_fixture_header(x, "Content-Encoding"), ""); /* aws-chunked dropped */
		assert_content(x, target, "hello");
		assert_string_equal(s3_fixture_header(x, "x-amz-checksum-crc32"), ""); /* not asked */
	}
}

/* If-None-Match: * and If-Match make the write conditional. */
static void test_conditional_put(void **state)
{
	struct s3_fixture *x = *state;
	static const char *const none[] = { "If-None-Match", "*", NULL };
	static const char *const match[] = { "If-Match", HELLO_MD5, NULL };
	static const char *const other[] = { "If-Match", "\"0123\"", NULL };
	static const char *const bad[] = { "If-None-Match", "\"0123\"", NULL };

	assert_int_equal(put(x, "/bkt/c", none, "hello"), 200);
	assert_int_equal(put(x, "/bkt/c", none, "again"), 412);
	assert_string_equal(x->seen.err, "PreconditionFailed");
	assert_int_equal(put(x, "/bkt/c", other, "again"), 412);
	assert_int_equal(put(x, "/bkt/c", bad, "again"), 501);
	assert_content(x, "/bkt/c", "hello");
	assert_int_equal(put(x, "/bkt/c", match, "again"), 200);
	assert_content(x, "/bkt/c", "again");
	assert_int_equal(put(x, "/bkt/nothing", match, "x"), 404);
	assert_string_equal(x->seen.err, "NoSuchKey");
}

/* Refusals before and while the body is read: the error, nothing stored,
 * and the connection closed when body bytes are left unread. */
static void test_put_refused(void **state)
{
	struct s3_fixture *x = *state;
	static const char *const no_length[] = { "Host", "x", NULL };
	static const char *const short_body[] = { "Content-Length", "10", NULL };
	static const char *const glacier[] = { "x-amz-storage-class", "GLACIER", NULL };
	static const char *const bad_tags[] = { "x-amz-tagging", "a=1&a=2", NULL };
	static const char *const bad_acl[] = { "x-amz-acl", "bogus", NULL };
	char big[MAX_PUT + 2];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	static const struct {
		const char *target;
		const char *const *hdrs;
		int big;
		int status;
		const char *err;
		int closed;
	} cases[] = {
		{ "/bkt/r", no_length, 0, 411, "MissingContentLength", 0 },
		{ "/bkt/r", short_body, 0, 400, "IncompleteBody", 1 },
		{ "/bkt/r", NULL, 1, 400, "EntityTooLarge", 1 },
		{ "/bkt/r", glacier, 0, 400, "InvalidStorageClass", 1 },
		{ "/bkt/r", bad_tags, 0, 400, "InvalidTag", 1 },
		{ "/bkt/r", bad_acl, 0, 400, "InvalidArgument", 1 },
		{ "/bkt/a/../r", NULL, 0, 400, "InvalidObjectName", 1 },
		{ "/bkt/a//r", NULL, 0, 400, "InvalidObjectName", 1 },
		{ "/nobkt/r", NULL, 0, 404, "NoSuchBucket", 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *body = cases[i].hdrs == no_length ? NULL : cases[i].big ? big : "hello";
		int status = put(x, cases[i].target, cases[i].hdrs, body);
		if (status != cases[i].status || strcmp(x->seen.err, cases[i].err) ||
		    x->conn.keep_alive_off != cases[i].closed)
			fail_msg("case %zu: got %d %s closed %d", i, status, x->seen.err,
				 x->conn.keep_alive_off);
		assert_string_equal(x->seen.op, "PutObject");
	}
	assert_absent(x, "/bkt/r");
	/* The largest body allowed is taken. */
	big[MAX_PUT] = '\0';
	assert_int_equal(put(x, "/bkt/r", NULL, big), 200);
	assert_content(x, "/bkt/r", big);
}

/* 100 Continue goes out once the write is allowed, never for a refusal
 * that comes before the body. */
static void test_expect_continue(void **state)
{
	struct s3_fixture *x = *state;
	static const char *const expect[] = { "Expect", "100-continue", NULL };
	assert_int_equal(put(x, "/bkt/e", expect, "hello"), 200);
	assert_true(fake_continued(&x->conn));
	assert_int_equal(put(x, "/nobkt/e", expect, "hello"), 404);
	assert_false(fake_continued(&x->conn));
	assert_int_equal(put(x, "/bkt/a/../e", expect, "hello"), 400);
	assert_false(fake_continued(&x->conn));
	assert_int_equal(put(x, "/bkt/e", NULL, "hello"), 200);
	assert_false(fake_continued(&x->conn)); /* not asked for */
}

/* GET's ranges, part numbers, preconditions and response-* overrides. */
static void test_get_variants(void **state)
{
	struct s3_fixture *x = *state;
	static const char *const range[] = { "Range", "bytes=1-3", NULL };
	static const char *const past[] = { "Range", "bytes=9-", NULL };
	static const char *const inm[] = { "If-None-Match", HELLO_MD5, NULL };
	static const char *const im[] = { "If-Match", "\"0123\"", NULL };
	static const char *const signed_by_root[] = { "Authorization", "AWS root:c2ln", NULL };
	assert_int_equal(put(x, "/bkt/g", NULL, "hello"), 200);

	assert_int_equal(s3_call(x, "GET", "/bkt/g", range, NULL, 0), 206);
	assert_string_equal(fake_body(&x->conn), "ell");
	assert_string_equal(s3_fixture_header(x, "Content-Range"), "bytes 1-3/5");
	assert_int_equal(s3_call(x, "GET", "/bkt/g", past, NULL, 0), 416);
	assert_string_equal(x->seen.err, "InvalidRange");
	assert_string_equal(s3_fixture_header(x, "Content-Range"), "bytes */5");
	assert_int_equal(s3_call(x, "GET", "/bkt/g?partNumber=1", NULL, NULL, 0), 206);
	assert_string_equal(fake_body(&x->conn), "hello");
	assert_string_equal(s3_fixture_header(x, "Content-Range"), "bytes 0-4/5");
	assert_int_equal(s3_call(x, "GET", "/bkt/g?partNumber=2", NULL, NULL, 0), 416);
	assert_string_equal(x->seen.err, "InvalidPartNumber");
	assert_int_equal(s3_call(x, "GET", "/bkt/g?partNumber=1", range, NULL, 0), 400);
	assert_int_equal(s3_call(x, "GET", "/bkt/g", inm, NULL, 0), 304);
	assert_string_equal(fake_body(&x->conn), "");
	assert_int_equal(s3_call(x, "GET", "/bkt/g", im, NULL, 0), 412);
	/* response-* only on a signed request ("AWS user:signature" is
	 * taken at its word in simple mode). */
	assert_int_equal(s3_call(x, "GET", "/bkt/g?response-content-type=text/x-test", NULL, NULL, 0),
			 400);
	assert_string_equal(x->seen.err, "InvalidRequest");
	assert_int_equal(s3_call(x, "GET", "/bkt/g?response-content-type=text/x-test", signed_by_root,
				 NULL, 0), 200);
	assert_string_equal(s3_fixture_header(x, "Content-Type"), "text/x-test");
	assert_string_equal(fake_body(&x->conn), "hello");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_put_get_head_delete), T(test_stored_headers),  T(test_integrity),
		T(test_checksum_kept),        T(test_conditional_put), T(test_put_refused),
		T(test_expect_continue),      T(test_get_variants),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
