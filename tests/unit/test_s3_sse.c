/*
 * Unit tests for server-side encryption in the S3 door (s3/s3_sse.c) over
 * a temporary core, request by request through s3_handle on a fake
 * connection (s3_fixture.h): SSE-S3 and SSE-C round trips, the bytes in
 * the under-storage never the plaintext, AWS's errors, the SSE-C rule on
 * plain HTTP (loopback or TLS only), bucket default encryption.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "common/hash.h"
#include "s3/s3_int.h"
#include "tests/unit/s3_fixture.h"

#define BODY "a secret body, 0123456789"

static int setup(void **state)
{
	*state = s3_fixture_new(NULL, 1 << 20);
	return 0;
}

static int teardown(void **state)
{
	s3_fixture_free(*state);
	return 0;
}


/* A request from addr, over TLS if ssl. */
static int call_from(struct s3_fixture *x, const char *addr, int ssl, const char *method,
		     const char *target, const char *const *hdrs, const char *body)
{
	fake_conn_release(&x->conn);
	fake_conn_init(&x->conn, method, target, hdrs, body, body ? strlen(body) : 0);
	snprintf(x->conn.ri.remote_addr, sizeof(x->conn.ri.remote_addr), "%s", addr);
	x->conn.ri.is_ssl = ssl;
	memset(&x->seen, 0, sizeof(x->seen));
	return s3_handle(x->srv, &x->conn);
}

/* The under-storage file of bkt/key, whole, in buf; its length or -1. */
static long ufs_file(struct s3_fixture *x, const char *key, char *buf, size_t size)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/ufs/bkt/%s", x->core->dir, key);
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, size, f);
	fclose(f);
	return (long)n;
}

/* SSE-C headers of the key of 32 bytes c (prefix "x-amz-" or
 * "x-amz-copy-source-"), with its MD5 spoiled if bad_md5. */
struct ckey {
	char names[3][96], key[48], md5[32];
	const char *h[8];
};

static void ckey_make(struct ckey *k, const char *prefix, char c, int bad_md5)
{
	unsigned char raw[32], sum[16];
	memset(raw, c, sizeof(raw));
	md5(raw, sizeof(raw), sum);
	if (bad_md5)
		sum[0] ^= 1;
	base64_encode(raw, sizeof(raw), k->key);
	base64_encode(sum, sizeof(sum), k->md5);
	snprintf(k->names[0], sizeof(k->names[0]), "%sserver-side-encryption-customer-algorithm",
		 prefix);
	snprintf(k->names[1], sizeof(k->names[1]), "%sserver-side-encryption-customer-key", prefix);
	snprintf(k->names[2], sizeof(k->names[2]), "%sserver-side-encryption-customer-key-MD5",
		 prefix);
	const char *h[] = { k->names[0], "AES256", k->names[1], k->key, k->names[2], k->md5,
			    NULL, NULL };
	memcpy(k->h, h, sizeof(h));
}

static void sse_s3_round_trip(void **state)
{
	struct s3_fixture *x = *state;
	char raw[4096];
	const char *h[] = { "x-amz-server-side-encryption", "AES256", NULL };
	assert_int_equal(call_from(x, "127.0.0.1", 0, "PUT", "/bkt/k", h, BODY), 200);
	assert_string_equal(s3_fixture_header(x, "x-amz-server-side-encryption"), "AES256");
	long n = ufs_file(x, "k", raw, sizeof(raw));
	assert_true(n > (long)strlen(BODY));
	assert_null(memmem(raw, (size_t)n, "secret", 6));
	assert_int_equal(call_from(x, "127.0.0.1", 0, "GET", "/bkt/k", NULL, NULL), 200);
	assert_string_equal(fake_body(&x->conn), BODY);
	assert_string_equal(s3_fixture_header(x, "x-amz-server-side-encryption"), "AES256");
	assert_int_equal(call_from(x, "127.0.0.1", 0, "HEAD", "/bkt/k", NULL, NULL), 200);
	assert_string_equal(s3_fixture_header(x, "Content-Length"), "25");
	const char *r[] = { "Range", "bytes=2-7", NULL };
	assert_int_equal(call_from(x, "127.0.0.1", 0, "GET", "/bkt/k", r, NULL), 206);
	assert_string_equal(fake_body(&x->conn), "secret");
}

static void sse_kms_refused(void **state)
{
	struct s3_fixture *x = *state;
	const char *h[] = { "x-amz-server-side-encryption", "aws:kms", NULL };
	assert_int_equal(call_from(x, "127.0.0.1", 0, "PUT", "/bkt/k", h, BODY), 400);
	assert_true(fake_error_is(&x->conn, "KMS.NotFoundException"));
	const char *h2[] = { "x-amz-server-side-encryption-aws-kms-key-id", "k", NULL };
	assert_int_equal(call_from(x, "127.0.0.1", 0, "PUT", "/bkt/k", h2, BODY), 400);
	assert_true(fake_error_is(&x->conn, "InvalidArgument"));
	char raw[64];
	assert_int_equal(ufs_file(x, "k", raw, sizeof(raw)), -1);
}

static void sse_c_rules(void **state)
{
	struct s3_fixture *x = *state;
	struct ckey k, other, bad;
	char raw[4096];
	ckey_make(&k, "x-amz-", 'a', 0);
	ckey_make(&other, "x-amz-", 'b', 0);
	ckey_make(&bad, "x-amz-", 'a', 1);
	/* plain HTTP from another host: refused; over TLS or from loopback: taken */
	assert_int_equal(call_from(x, "10.1.2.3", 0, "PUT", "/bkt/c", k.h, BODY), 400);
	assert_true(strstr(fake_body(&x->conn), "secure connection") != NULL);
	assert_int_equal(ufs_file(x, "c", raw, sizeof(raw)), -1);
	assert_int_equal(call_from(x, "10.1.2.3", 1, "PUT", "/bkt/c", k.h, BODY), 200);
	assert_string_equal(s3_fixture_header(x, "x-amz-server-side-encryption-customer-algorithm"), "AES256");
	assert_string_equal(s3_fixture_header(x, "x-amz-server-side-encryption-customer-key-MD5"), k.md5);
	long n = ufs_file(x, "c", raw, sizeof(raw));
	assert_true(n > 0);
	assert_null(memmem(raw, (size_t)n, "secret", 6));
	assert_int_equal(call_from(x, "::1", 0, "GET", "/bkt/c", k.h, NULL), 200);
	assert_string_equal(fake_body(&x->conn), BODY);
	/* no key, another key, a bad MD5 */
	assert_int_equal(call_from(x, "127.0.0.1", 0, "GET", "/bkt/c", NULL, NULL), 400);
	assert_true(fake_error_is(&x->conn, "InvalidRequest"));
	assert_int_equal(call_from(x, "127.0.0.1", 0, "GET", "/bkt/c", other.h, NULL), 403);
	assert_true(fake_error_is(&x->conn, "AccessDenied"));
	assert_int_equal(call_from(x, "127.0.0.1", 0, "HEAD", "/bkt/c", NULL, NULL), 400);
	assert_int_equal(call_from(x, "127.0.0.1", 0, "HEAD", "/bkt/c", other.h, NULL), 403);
	assert_int_equal(call_from(x, "127.0.0.1", 0, "GET", "/bkt/c", bad.h, NULL), 400);
	assert_true(fake_error_is(&x->conn, "InvalidArgument"));
	/* copied to a plain object with the source's key */
	struct ckey src;
	ckey_make(&src, "x-amz-copy-source-", 'a', 0);
	src.h[6] = "x-amz-copy-source";
	src.h[7] = "/bkt/c";
	const char *ch[10];
	memcpy(ch, src.h, sizeof(src.h));
	ch[8] = NULL;
	assert_int_equal(call_from(x, "127.0.0.1", 0, "PUT", "/bkt/p", ch, NULL), 200);
	n = ufs_file(x, "p", raw, sizeof(raw));
	assert_int_equal(n, (long)strlen(BODY));
	assert_memory_equal(raw, BODY, strlen(BODY));
}

static void bucket_default(void **state)
{
	struct s3_fixture *x = *state;
	static const char doc[] =
		"<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>"
		"<SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>"
		"</ServerSideEncryptionConfiguration>";
	unsigned char sum[16];
	char b64[32], raw[4096];
	md5(doc, strlen(doc), sum);
	base64_encode(sum, sizeof(sum), b64);
	const char *h[] = { "Content-MD5", b64, NULL };
	assert_int_equal(call_from(x, "127.0.0.1", 0, "GET", "/bkt?encryption", NULL, NULL), 404);
	assert_true(fake_error_is(&x->conn, "ServerSideEncryptionConfigurationNotFoundError"));
	assert_int_equal(call_from(x, "127.0.0.1", 0, "PUT", "/bkt?encryption", h, doc), 200);
	assert_int_equal(call_from(x, "127.0.0.1", 0, "GET", "/bkt?encryption", NULL, NULL), 200);
	assert_non_null(strstr(fake_body(&x->conn), "<SSEAlgorithm>AES256</SSEAlgorithm>"));
	assert_int_equal(call_from(x, "127.0.0.1", 0, "PUT", "/bkt/d", NULL, BODY), 200);
	assert_string_equal(s3_fixture_header(x, "x-amz-server-side-encryption"), "AES256");
	long n = ufs_file(x, "d", raw, sizeof(raw));
	assert_true(n > 0);
	assert_null(memmem(raw, (size_t)n, "secret", 6));
	assert_int_equal(call_from(x, "127.0.0.1", 0, "DELETE", "/bkt?encryption", NULL, NULL), 204);
	assert_int_equal(call_from(x, "127.0.0.1", 0, "PUT", "/bkt/e", NULL, BODY), 200);
	assert_string_equal(s3_fixture_header(x, "x-amz-server-side-encryption"), "");
	assert_int_equal(ufs_file(x, "e", raw, sizeof(raw)), (long)strlen(BODY));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(sse_s3_round_trip),
		T(sse_kms_refused),
		T(sse_c_rules),
		T(bucket_default),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
