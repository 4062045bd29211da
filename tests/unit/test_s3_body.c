/*
 * Unit tests for request bodies (s3/s3_body.c) over a fake connection
 * (fake_conn.h): the length rules (Content-Length, Transfer-Encoding, and
 * none), when a body is aws-chunked and what its decoded length must be,
 * the x-amz-content-sha256 check, the x-amz-checksum-* checks (header or
 * trailer), truncated bodies, and that a body never reads into the next
 * request. Every case runs with the client's bytes arriving whole, one at
 * a time, and three at a time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/hash.h"
#include "s3/s3_int.h"
#include "tests/unit/chunk_sign.h"
#include "tests/unit/fake_conn.h"

#define HELLO_SHA "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
#define HELLO_CRC32 "NhCmhg=="   /* base64 of CRC32("hello"), 0x3610a686 */
#define OTHER_CRC32 "AAAAAA=="
#define NEXT "GET /next HTTP/1.1\r\n\r\n"
#define SEED "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"

/* One request in flight: what s3_body needs of the door, and its body.
 * (On the heap: a connection and a body are too large for a stack frame.) */
struct env {
	struct s3_server srv;
	struct mg_connection conn;
	struct s3_req r;
	struct s3_body b;
};

static struct env *env_new(const char *const *hdrs, const char *body, size_t len,
			   size_t read_max)
{
	struct env *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	e->srv.opt.max_put_size = 1 << 20;
	fake_conn_init(&e->conn, "PUT", "/bkt/k", hdrs, body, len);
	e->conn.read_max = read_max;
	e->r.srv = &e->srv;
	e->r.conn = &e->conn;
	e->r.method = "PUT";
	e->r.content_length = e->conn.ri.content_length;
	e->r.object_size = -1;
	return e;
}

static void env_free(struct env *e)
{
	fake_conn_release(&e->conn);
	free(e);
}

struct bcase {
	const char *name;
	const char *hdrs[2 * 8 + 1];
	const char *body;         /* NULL: no body bytes at all */
	enum s3_payload payload;
	const char *sha256;       /* x-amz-content-sha256's hash (S3_PAYLOAD_SHA256) */
	int checksum;             /* run s3_body_checksum, as PUT and UploadPart do */
	enum s3_err open_err;     /* from s3_body_open or s3_body_checksum */
	enum s3_err read_err;     /* from s3_body_read */
	enum s3_err finish_err;   /* from s3_body_finish */
	const char *want;         /* the bytes read, when reading succeeds */
	size_t consumed;          /* connection bytes taken: the next request's stay */
};

#define CL(n) "Content-Length", n
#define CHUNKED_SHA "x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
#define TRAILER_CRC32 "x-amz-trailer", "x-amz-checksum-crc32"
#define UNSIGNED_HELLO(crc) "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:" crc "\r\n\r\n"

static const struct bcase cases[] = {
	/* length rules */
	{ "Content-Length, the next request after it", { CL("5") }, "hello" NEXT,
	  S3_PAYLOAD_UNSIGNED, .want = "hello", .consumed = 5 },
	{ "Content-Length 0", { CL("0") }, NEXT, S3_PAYLOAD_UNSIGNED, .want = "", .consumed = 0 },
	{ "no length at all", { "Host", "x" }, NULL, S3_PAYLOAD_UNSIGNED,
	  .open_err = S3_ERR_MISSING_LENGTH },
	{ "Transfer-Encoding: chunked, read to its end", { "Transfer-Encoding", "chunked" },
	  "hello", S3_PAYLOAD_UNSIGNED, .want = "hello", .consumed = 5 },
	{ "Transfer-Encoding other than chunked", { "Transfer-Encoding", "gzip" }, "hello",
	  S3_PAYLOAD_UNSIGNED, .open_err = S3_ERR_MISSING_LENGTH },
	{ "truncated: the client stops early", { CL("10") }, "hello", S3_PAYLOAD_UNSIGNED,
	  .read_err = S3_ERR_INCOMPLETE_BODY },
	/* x-amz-content-sha256 */
	{ "SHA-256 matches", { CL("5") }, "hello" NEXT, S3_PAYLOAD_SHA256, HELLO_SHA,
	  .want = "hello", .consumed = 5 },
	{ "SHA-256 of another body", { CL("5") }, "hellO", S3_PAYLOAD_SHA256, HELLO_SHA,
	  .finish_err = S3_ERR_SHA256_MISMATCH, .want = "hellO", .consumed = 5 },
	/* Content-Encoding does not make a body aws-chunked: the payload mode does. */
	{ "aws-chunked label on a plain payload", { CL("15"), "Content-Encoding", "aws-chunked" },
	  "5\r\nhello\r\n0\r\n\r\n", S3_PAYLOAD_UNSIGNED, .want = "5\r\nhello\r\n0\r\n\r\n",
	  .consumed = 15 },
	/* aws-chunked */
	{ "aws-chunked with a trailer checksum", { CL("46"), CHUNKED_SHA, TRAILER_CRC32,
	  "x-amz-decoded-content-length", "5" }, UNSIGNED_HELLO(HELLO_CRC32) NEXT,
	  S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER, .checksum = 1, .want = "hello", .consumed = 46 },
	{ "aws-chunked, the trailer checksum wrong", { CL("46"), CHUNKED_SHA, TRAILER_CRC32,
	  "x-amz-decoded-content-length", "5" }, UNSIGNED_HELLO(OTHER_CRC32),
	  S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER, .checksum = 1,
	  .finish_err = S3_ERR_CHECKSUM_BAD, .want = "hello", .consumed = 46 },
	{ "aws-chunked, the trailer not base64 of 4 bytes", { CL("42"), CHUNKED_SHA,
	  TRAILER_CRC32, "x-amz-decoded-content-length", "5" }, UNSIGNED_HELLO("NhCm"),
	  S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER, .checksum = 1,
	  .finish_err = S3_ERR_CHECKSUM_INVALID, .want = "hello", .consumed = 42 },
	{ "aws-chunked without x-amz-decoded-content-length", { CL("46"), CHUNKED_SHA },
	  UNSIGNED_HELLO(HELLO_CRC32), S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER,
	  .open_err = S3_ERR_MISSING_LENGTH },
	{ "aws-chunked carrying less than its decoded length", { CL("46"), CHUNKED_SHA,
	  "x-amz-decoded-content-length", "6" }, UNSIGNED_HELLO(HELLO_CRC32),
	  S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER, .read_err = S3_ERR_INCOMPLETE_BODY },
	{ "aws-chunked carrying more than its decoded length", { CL("46"), CHUNKED_SHA,
	  "x-amz-decoded-content-length", "4" }, UNSIGNED_HELLO(HELLO_CRC32),
	  S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER, .read_err = S3_ERR_INVALID_CHUNK },
	{ "aws-chunked cut short", { CL("46"), CHUNKED_SHA, "x-amz-decoded-content-length", "5" },
	  "5\r\nhel", S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER, .read_err = S3_ERR_INCOMPLETE_BODY },
	{ "aws-chunked, a bad chunk size", { CL("46"), CHUNKED_SHA,
	  "x-amz-decoded-content-length", "5" }, "z\r\nhello\r\n0\r\n\r\n",
	  S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER, .read_err = S3_ERR_INVALID_CHUNK },
	/* x-amz-checksum-* in a header */
	{ "checksum header matches", { CL("5"), "x-amz-checksum-crc32", HELLO_CRC32 }, "hello",
	  S3_PAYLOAD_UNSIGNED, .checksum = 1, .want = "hello", .consumed = 5 },
	{ "checksum header of other bytes", { CL("5"), "x-amz-checksum-crc32", OTHER_CRC32 },
	  "hello", S3_PAYLOAD_UNSIGNED, .checksum = 1, .finish_err = S3_ERR_CHECKSUM_BAD,
	  .want = "hello", .consumed = 5 },
	{ "SHA-256 is checked before the checksum", { CL("5"), "x-amz-checksum-crc32",
	  OTHER_CRC32 }, "hellO", S3_PAYLOAD_SHA256, HELLO_SHA, .checksum = 1,
	  .finish_err = S3_ERR_SHA256_MISMATCH, .want = "hellO", .consumed = 5 },
	{ "checksum header not base64 of its size", { CL("5"), "x-amz-checksum-crc32", "Nh" },
	  "hello", S3_PAYLOAD_UNSIGNED, .checksum = 1, .open_err = S3_ERR_CHECKSUM_INVALID },
	{ "two checksum headers", { CL("5"), "x-amz-checksum-crc32", HELLO_CRC32,
	  "x-amz-checksum-sha1", "qvTGHdzF6KLavt4PO0gs2a6pQ00=" }, "hello", S3_PAYLOAD_UNSIGNED,
	  .checksum = 1, .open_err = S3_ERR_CHECKSUM_MULTIPLE },
	{ "a trailer named for a body that cannot have one", { CL("5"), TRAILER_CRC32 },
	  "hello", S3_PAYLOAD_UNSIGNED, .checksum = 1, .open_err = S3_ERR_CHECKSUM_MISSING },
	{ "a trailer that is not a checksum", { CL("5"), "x-amz-trailer", "x-amz-meta-a" },
	  "hello", S3_PAYLOAD_UNSIGNED, .checksum = 1, .open_err = S3_ERR_INVALID_ARGUMENT },
	{ "a trailer of an unknown algorithm", { CL("5"), "x-amz-trailer", "x-amz-checksum-md4" },
	  "hello", S3_PAYLOAD_UNSIGNED, .checksum = 1, .open_err = S3_ERR_CHECKSUM_ALG },
	{ "the SDK's algorithm without a value", { CL("5"), "x-amz-sdk-checksum-algorithm",
	  "CRC32" }, "hello", S3_PAYLOAD_UNSIGNED, .checksum = 1,
	  .open_err = S3_ERR_CHECKSUM_MISSING },
	{ "the SDK's algorithm disagrees", { CL("5"), "x-amz-sdk-checksum-algorithm", "SHA1",
	  "x-amz-checksum-crc32", HELLO_CRC32 }, "hello", S3_PAYLOAD_UNSIGNED, .checksum = 1,
	  .open_err = S3_ERR_CHECKSUM_ALG },
	{ "checksum headers ignored where not asked for", { CL("5"), "x-amz-checksum-crc32",
	  OTHER_CRC32 }, "hello", S3_PAYLOAD_UNSIGNED, .want = "hello", .consumed = 5 },
};

/* Reads the whole body in reads of at most step bytes into out; the error
 * of the first stage that fails (*stage 0 open, 1 read, 2 finish). b is
 * for s3_body_close, whatever happened. */
static enum s3_err read_body(struct env *e, const struct bcase *c, size_t step, struct buf *out,
			     int *stage)
{
	struct s3_body *b = &e->b;
	char tmp[64];
	enum s3_err err;
	long n;

	*stage = 0;
	if ((err = s3_body_open(&e->r, b)) || (c->checksum && (err = s3_body_checksum(b))))
		return err;
	*stage = 1;
	while ((n = s3_body_read(b, tmp, step, &err)) > 0)
		assert_int_equal(buf_add(out, tmp, (size_t)n), 0);
	if (n < 0)
		return err;
	*stage = 2;
	return s3_body_finish(b);
}

static void test_cases(void **state)
{
	static const size_t read_max[] = { 0, 1, 3 };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bcase *c = &cases[i];
		for (size_t k = 0; k < sizeof(read_max) / sizeof(read_max[0]); k++) {
			struct env *e = env_new(c->hdrs, c->body, c->body ? strlen(c->body) : 0,
						read_max[k]);
			struct buf out = BUF_INIT(1 << 16);
			int stage;
			e->r.auth.payload = c->payload;
			if (c->sha256)
				assert_int_equal(hex_decode(c->sha256, 64, e->r.auth.payload_sha256, 32), 0);
			enum s3_err err = read_body(e, c, k ? 7 : 64, &out, &stage);
			enum s3_err want = c->open_err ? c->open_err : c->read_err ? c->read_err
									   : c->finish_err;
			int want_stage = c->open_err ? 0 : c->read_err ? 1 : 2;
			if (err != want || (err && stage != want_stage))
				fail_msg("%s (read_max %zu): error %s at stage %d, want %s at %d", c->name,
					 read_max[k], s3_err_code(err), stage, s3_err_code(want),
					 want_stage);
			if (c->want) {
				assert_int_equal(out.len, strlen(c->want));
				assert_memory_equal(out.ptr ? out.ptr : "", c->want, out.len);
				if (e->conn.body_pos != c->consumed)
					fail_msg("%s: took %zu bytes of the connection, want %zu", c->name,
						 e->conn.body_pos, c->consumed);
			}
			s3_body_close(&e->b); /* safe after any s3_body_open */
			buf_release(&out);
			env_free(e);
		}
	}
}

/* After s3_body_finish, ck_want holds the checksum verified, wherever it
 * came from (the writer keeps it with the object). */
static void test_checksum_value(void **state)
{
	static const char *const hdrs[] = { CL("5"), "x-amz-checksum-crc32", HELLO_CRC32, NULL };
	static const char *const trailer[] = { CL("46"), CHUNKED_SHA, TRAILER_CRC32,
					       "x-amz-decoded-content-length", "5", NULL };
	const unsigned char want[4] = { 0x36, 0x10, 0xa6, 0x86 };
	const char *const *h[] = { hdrs, trailer };
	const char *bodies[] = { "hello", UNSIGNED_HELLO(HELLO_CRC32) };
	const enum s3_payload payloads[] = { S3_PAYLOAD_UNSIGNED,
					     S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER };
	for (int i = 0; i < 2; i++) {
		struct env *e = env_new(h[i], bodies[i], strlen(bodies[i]), 0);
		struct s3_body *b = &e->b;
		char tmp[16];
		enum s3_err err;
		e->r.auth.payload = payloads[i];
		assert_int_equal(s3_body_open(&e->r, b), S3_ERR_OK);
		assert_int_equal(s3_body_checksum(b), S3_ERR_OK);
		assert_non_null(b->ck);
		assert_int_equal(b->ck->alg, CHECKSUM_CRC32);
		assert_int_equal(b->ck_trailer, i);
		size_t got = 0;
		long n;
		while ((n = s3_body_read(b, tmp, sizeof(tmp), &err)) > 0)
			got += (size_t)n;
		assert_int_equal(n, 0);
		assert_int_equal(got, 5);
		assert_int_equal(s3_body_finish(b), S3_ERR_OK);
		assert_memory_equal(b->ck_want, want, 4);
		s3_body_close(b);
		env_free(e);
	}
}

/* "hello world" in signed chunks of 4 bytes; tamper: flip a byte of the
 * data of the second chunk after signing it. */
static void signed_body(const struct s3_auth *a, struct buf *body, int tamper)
{
	static const char text[] = "hello world";
	char prev[65];
	size_t off = 0;
	memcpy(prev, SEED, 65);
	buf_init(body, 4096);
	while (off < sizeof(text) - 1) {
		size_t n = sizeof(text) - 1 - off < 4 ? sizeof(text) - 1 - off : 4;
		sign_chunk(a, prev, text + off, n);
		assert_int_equal(buf_addf(body, "%zx;chunk-signature=%s\r\n", n, prev), 0);
		assert_int_equal(buf_add(body, text + off, n), 0);
		if (tamper && off == 4)
			body->ptr[body->len - 1] ^= 1;
		assert_int_equal(buf_addstr(body, "\r\n"), 0);
		off += n;
	}
	sign_chunk(a, prev, "", 0);
	assert_int_equal(buf_addf(body, "0;chunk-signature=%s\r\n\r\n", prev), 0);
}

/* Chunk signatures: a signed body decodes; one byte changed is refused
 * before the chunk it is in is handed out; unverified (simple mode), it
 * passes. */
static void test_signed_chunks(void **state)
{
	for (int tamper = 0; tamper <= 1; tamper++)
		for (int verify = 0; verify <= 1; verify++) {
			struct env *e;
			struct buf body, out = BUF_INIT(4096);
			char clen[16], tmp[64];
			const char *hdrs[] = { "Content-Length", clen,
					       "x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
					       "x-amz-decoded-content-length", "11", NULL };
			enum s3_err err = S3_ERR_OK;
			long n;
			struct s3_auth a;
			auth_init(&a, S3_PAYLOAD_STREAMING_SIGNED, SEED, verify);
			signed_body(&a, &body, tamper);
			snprintf(clen, sizeof(clen), "%zu", body.len);
			e = env_new(hdrs, body.ptr, body.len, 5);
			e->r.auth = a;
			assert_int_equal(s3_body_open(&e->r, &e->b), S3_ERR_OK);
			assert_int_equal(e->b.chunked, 1);
			while ((n = s3_body_read(&e->b, tmp, sizeof(tmp), &err)) > 0)
				assert_int_equal(buf_add(&out, tmp, (size_t)n), 0);
			if (tamper && verify) {
				assert_int_equal(n, -1);
				assert_int_equal(err, S3_ERR_SIGNATURE_MISMATCH);
				/* the tampered chunk (bytes 4..7) never came out whole */
				assert_true(out.len < 8);
			} else {
				assert_int_equal(n, 0);
				assert_int_equal(s3_body_finish(&e->b), S3_ERR_OK);
				assert_int_equal(out.len, 11);
				assert_memory_equal(out.ptr, tamper ? "hello wnrld" : "hello world", 11);
			}
			s3_body_close(&e->b);
			buf_release(&out);
			buf_release(&body);
			env_free(e);
		}
}

/* The small bodies of configuration requests: capped, and none is fine. */
static void test_small_body(void **state)
{
	static const char *const with_len[] = { CL("5"), NULL };
	static const char *const no_len[] = { "Host", "x", NULL };
	static const char *const too_long[] = { CL("9"), NULL };
	struct buf out = BUF_INIT(4), big = BUF_INIT(16);
	struct env *e = env_new(with_len, "hello", 5, 0);

	assert_int_equal(s3_read_small_body(&e->r, &out), S3_ERR_ENTITY_TOO_LARGE);
	env_free(e);
	buf_release(&out);

	e = env_new(with_len, "hello", 5, 2);
	assert_int_equal(s3_read_small_body(&e->r, &big), S3_ERR_OK);
	assert_int_equal(big.len, 5);
	assert_memory_equal(big.ptr, "hello", 5);
	env_free(e);
	buf_release(&big);

	e = env_new(no_len, NULL, 0, 0);
	assert_int_equal(s3_read_small_body(&e->r, &big), S3_ERR_OK);
	assert_int_equal(big.len, 0);
	env_free(e);

	e = env_new(too_long, "hello", 5, 0);
	assert_int_equal(s3_read_small_body(&e->r, &big), S3_ERR_INCOMPLETE_BODY);
	env_free(e);
	buf_release(&big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_checksum_value),
		cmocka_unit_test(test_signed_chunks),
		cmocka_unit_test(test_small_body),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
