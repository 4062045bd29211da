/* common/sigv4.c, the client signer the CLI uses: AWS's published example,
 * then a round trip through the server's verifier (s3_auth_check) with the
 * awkward characters the CLI sends (spaces, '+', '%', unicode, '/'). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"
#include "common/sigv4.h"
#include "common/uri.h"
#include "s3/s3_auth.h"

#define AK "AKIAIOSFODNN7EXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* "GET Bucket (List Objects)" of AWS's SigV4 examples for S3. */
static void aws_example(void **state)
{
	struct sigv4_req r = {
		.method = "GET", .path = "/", .query = "max-keys=2&prefix=J",
		.host = "examplebucket.s3.amazonaws.com", .payload_sha256 = EMPTY_SHA,
		.now = 1369353600, .region = "us-east-1", .service = "s3",
		.access_key = AK, .secret = SK,
	};
	char date[SIGV4_DATE_LEN];
	struct buf auth = BUF_INIT(1024);
	assert_int_equal(sigv4_sign(&r, date, &auth), 0);
	assert_string_equal(date, "20130524T000000Z");
	assert_string_equal(auth.ptr,
		"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
		"SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
		"Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
	buf_release(&auth);
}

static void canonical_query(void **state)
{
	static const struct { const char *in, *out; } rows[] = {
		{ NULL, "" },
		{ "", "" },
		{ "b=2&a=1", "a=1&b=2" },
		{ "a=2&a=1", "a=1&a=2" },
		{ "path=%2Fb%2Fa%20b&recursive", "path=%2Fb%2Fa%20b&recursive=" },
		{ "x=a+b", "x=a%20b" }, /* '+' in a query means a space */
		{ "k=%7E~", "k=~~" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct buf b = BUF_INIT(1024);
		assert_int_equal(sigv4_canonical_query(rows[i].in, &b), 0);
		assert_string_equal(b.ptr ? b.ptr : "", rows[i].out);
		buf_release(&b);
	}
	struct buf b = BUF_INIT(1024);
	assert_int_equal(sigv4_canonical_query("a=%zz", &b), -1);
	buf_release(&b);
}

static int lookup(void *arg, const char *ak, char *secret, size_t ss, char *user, size_t us)
{
	if (strcmp(ak, AK))
		return -1;
	snprintf(secret, ss, "%s", (const char *)arg);
	snprintf(user, us, "alice");
	return 0;
}

/* Signs a request (with one more x-amz header if amz_name) and has the
 * daemon's verifier check it; sent: the extra header on the wire (0: left
 * off, as a client that forgot it would). */
static enum s3_err verify_with(const char *secret_on_server, const char *method,
			       const char *path, const char *query, const char *amz_name,
			       const char *amz_value, int sent)
{
	struct sigv4_req r = {
		.method = method, .path = path, .query = query, .host = "127.0.0.1:39999",
		.payload_sha256 = EMPTY_SHA, .now = time(NULL), .region = "us-east-1",
		.service = "s3", .access_key = AK, .secret = SK,
		.amz_name = amz_name, .amz_value = amz_value,
	};
	char date[SIGV4_DATE_LEN];
	struct buf auth = BUF_INIT(1024), wire = BUF_INIT(4096);
	assert_int_equal(sigv4_sign(&r, date, &auth), 0);
	assert_int_equal(uri_encode(&wire, path, strlen(path), 1), 0);
	struct s3_hdr hdrs[] = {
		{ "Host", "127.0.0.1:39999" }, { "x-amz-content-sha256", EMPTY_SHA },
		{ "x-amz-date", date }, { "Authorization", auth.ptr },
		{ amz_name, amz_value },
	};
	struct s3_auth_req ar = { .method = method, .path = wire.ptr, .query = query,
				  .hdrs = hdrs, .nhdrs = amz_name && sent ? 5 : 4, .now = r.now };
	struct s3_auth out;
	enum s3_err e = s3_auth_check(S3_AUTH_SIGV4, &ar, lookup, (void *)secret_on_server, &out);
	if (e == S3_ERR_OK)
		assert_string_equal(out.user, "alice");
	buf_release(&auth);
	buf_release(&wire);
	return e;
}

static enum s3_err verify(const char *secret_on_server, const char *method, const char *path,
			  const char *query)
{
	return verify_with(secret_on_server, method, path, query, NULL, NULL, 0);
}

static void round_trip(void **state)
{
	assert_int_equal(verify(SK, "GET", "/api/v1/fs/list", "path=%2Fb%2Fa%20b%2Bc%25d&recursive=1"),
			 S3_ERR_OK);
	assert_int_equal(verify(SK, "POST", "/api/v1/fs/load", "path=%2Fb%2Fcaf%C3%A9"), S3_ERR_OK);
	assert_int_equal(verify(SK, "GET", "/b/a b+c%d/\xc3\xa9~x", NULL), S3_ERR_OK);
	assert_int_equal(verify(SK, "PUT", "/b/k", ""), S3_ERR_OK);
	assert_int_equal(verify("other", "GET", "/b/k", NULL), S3_ERR_SIGNATURE_MISMATCH);
	/* One more signed x-amz header (CopyObject's source), sorted in. */
	assert_int_equal(verify_with(SK, "PUT", "/b/copy", NULL, "x-amz-copy-source", "/b/a%20b",
				     1), S3_ERR_OK);
	assert_int_not_equal(verify_with(SK, "PUT", "/b/copy", NULL, "x-amz-copy-source",
					 "/b/a%20b", 0), S3_ERR_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(aws_example),
		cmocka_unit_test(canonical_query),
		cmocka_unit_test(round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
