/*
 * Unit tests for the aws-chunked decoder: AWS's published chunked-upload
 * examples (with and without a signed trailer), the unsigned-trailer
 * variant, bad signatures, short and malformed bodies. Every body is
 * followed on the stream by the next request, which the decoder must leave
 * unread; every valid body is also decoded with a source that returns one
 * byte at a time.
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
#include "s3/s3_auth.h"
#include "tests/unit/chunk_sign.h"
#define NEXT_REQUEST "GET /next HTTP/1.1\r\nHost: x\r\n\r\n"

/* sigv4-streaming.html, "Example: PUT Object" */
static const char *const aws_seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
static const char *const aws_sigs[3] = {
	"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
	"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
	"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
};
/* sigv4-streaming-trailers.html, the same upload with a CRC32C trailer */
static const char *const trailer_seed = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";
static const char *const trailer_sigs[3] = {
	"b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
	"1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
	"2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
};
#define TRAILER_SIG "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"
#define AWS_TRAILER "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:" TRAILER_SIG "\r\n"

/* 64 KiB + 1 KiB of 'a' in three chunks, then trailer lines and "\r\n". */
static void aws_body(struct buf *b, const char *const sigs[3], const char *trailer)
{
	buf_init(b, 1 << 20);
	assert_int_equal(buf_addf(b, "10000;chunk-signature=%s\r\n", sigs[0]), 0);
	for (int i = 0; i < 65536; i++)
		assert_int_equal(buf_addch(b, 'a'), 0);
	assert_int_equal(buf_addf(b, "\r\n400;chunk-signature=%s\r\n", sigs[1]), 0);
	for (int i = 0; i < 1024; i++)
		assert_int_equal(buf_addch(b, 'a'), 0);
	assert_int_equal(buf_addf(b, "\r\n0;chunk-signature=%s\r\n%s\r\n", sigs[2], trailer), 0);
}

struct src {
	const char *data;
	size_t len, pos;
	size_t max;      /* most bytes per read, 0 = as many as asked */
	size_t fail_at;  /* return -1 once pos reaches this, 0 = never */
};

static long src_read(void *arg, void *buf, size_t len)
{
	struct src *s = arg;
	size_t n = s->len - s->pos;

	if (s->fail_at && s->pos >= s->fail_at)
		return -1;
	if (n > len)
		n = len;
	if (s->max && n > s->max)
		n = s->max;
	memcpy(buf, s->data + s->pos, n);
	s->pos += n;
	return (long)n;
}

struct run {
	size_t max;      /* source bytes per read */
	size_t step;     /* caller's read size */
};

static const struct run runs[] = {
	{ 0, 1 << 17 }, { 0, 4096 }, { 1, 7 }, { 1, 65536 }, { 3, 1 }, { 100, 1000 },
};

/*
 * Decodes body, which the stream follows with the next request (or EOF when
 * eof is set), into out. Returns the error, or OK once read returned 0 —
 * and then checks the stream stands exactly at the next request. *ok gets
 * the bytes handed out before an error.
 */
static enum s3_err decode(struct s3_chunked *c, const struct buf *body, const struct s3_auth *auth,
			  const struct run *r, int eof, size_t fail_at, struct buf *out, size_t *ok)
{
	static char tmp[1 << 17];
	struct buf stream = BUF_INIT(1 << 22);
	struct src s = { .max = r->max, .fail_at = fail_at };
	enum s3_err err = S3_ERR_OK, again = S3_ERR_OK;
	long n;

	assert_true(r->step <= sizeof(tmp));
	assert_int_equal(buf_add(&stream, body->ptr, body->len), 0);
	if (!eof)
		assert_int_equal(buf_addstr(&stream, NEXT_REQUEST), 0);
	s.data = stream.ptr;
	s.len = stream.len;
	buf_init(out, 1 << 20);
	s3_chunked_init(c, src_read, &s, auth);
	while ((n = s3_chunked_read(c, tmp, r->step, &err)) > 0) {
		assert_true((size_t)n <= r->step);
		assert_int_equal(buf_add(out, tmp, (size_t)n), 0);
	}
	if (ok)
		*ok = out->len;
	if (n == 0) {
		assert_int_equal(s.pos, body->len);
		assert_int_equal(s3_chunked_read(c, tmp, r->step, &err), 0);
		assert_int_equal(c->decoded, out->len);
		err = S3_ERR_OK;
	} else {
		assert_int_equal(n, -1);
		assert_int_equal(s3_chunked_read(c, tmp, r->step, &again), -1);
		assert_int_equal(again, err); /* sticky */
	}
	buf_release(&stream);
	c->arg = NULL; /* s is gone */
	return err;
}

static void assert_all_a(const struct buf *out, size_t len)
{
	assert_int_equal(out->len, len);
	for (size_t i = 0; i < len; i++)
		if (out->ptr[i] != 'a')
			fail_msg("byte %zu is %d", i, out->ptr[i]);
}

static void test_aws_signed(void **state)
{
	struct s3_auth auth;
	struct s3_chunked c;
	struct buf body, out;

	auth_init(&auth, S3_PAYLOAD_STREAMING_SIGNED, aws_seed, 1);
	aws_body(&body, aws_sigs, "");
	assert_int_equal(body.len, 66824); /* the example's Content-Length */
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		assert_int_equal(decode(&c, &body, &auth, &runs[i], 0, 0, &out, NULL), S3_ERR_OK);
		assert_all_a(&out, 66560);
		assert_string_equal(c.prev_sig, aws_sigs[2]);
		assert_null(s3_chunked_trailer(&c, "x-amz-checksum-crc32c"));
		s3_chunked_release(&c);
		buf_release(&out);
	}
	buf_release(&body);
}

static void test_aws_signed_trailer(void **state)
{
	struct s3_auth auth;
	struct s3_chunked c;
	struct buf body, out;

	auth_init(&auth, S3_PAYLOAD_STREAMING_SIGNED_TRAILER, trailer_seed, 1);
	aws_body(&body, trailer_sigs, AWS_TRAILER);
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		assert_int_equal(decode(&c, &body, &auth, &runs[i], 0, 0, &out, NULL), S3_ERR_OK);
		assert_all_a(&out, 66560);
		assert_string_equal(s3_chunked_trailer(&c, "x-amz-checksum-crc32c"), "sOO8/Q==");
		assert_string_equal(s3_chunked_trailer(&c, "X-Amz-Checksum-CRC32C"), "sOO8/Q==");
		assert_null(s3_chunked_trailer(&c, "x-amz-checksum-crc32"));
		assert_null(s3_chunked_trailer(&c, "x-amz-trailer-signature"));
		s3_chunked_release(&c);
		buf_release(&out);
	}
	buf_release(&body);
}

/* ---- bad signatures --------------------------------------------------- */

static void flip(struct buf *b, const char *what, size_t skip)
{
	char *p = memmem(b->ptr, b->len, what, strlen(what));

	assert_non_null(p);
	p[skip] = p[skip] == '0' ? '1' : '0';
}

struct tamper {
	const char *name;
	int trailer;            /* the trailer example, else the plain one */
	const char *find;       /* flip a byte skip bytes into its first match */
	size_t skip;
	size_t ok_max;          /* at most this much may be handed out first */
};

static const struct tamper tampers[] = {
	{ "chunk 1 signature", 0, "10000;chunk-signature=", 30, 65535 },
	{ "chunk 1 data", 0, "aaaa", 1000, 65535 },
	{ "chunk 2 signature", 0, "400;chunk-signature=", 25, 65536 + 1023 },
	{ "chunk 2 data", 0, "\r\n400;", 100, 65536 + 1023 },
	{ "final signature", 0, "\r\n0;chunk-signature=", 40, 66560 },
	{ "trailer chunk 2 signature", 1, "400;chunk-signature=", 25, 65536 + 1023 },
	{ "trailer value", 1, "sOO8", 0, 66560 },
	{ "trailer signature", 1, "x-amz-trailer-signature:", 30, 66560 },
};

static void test_bad_signatures(void **state)
{
	struct s3_auth plain, trailer, nv;
	struct s3_chunked c;
	struct buf body, out;
	const struct run one = { 1, 4096 }, big = { 0, 1 << 17 };
	size_t ok;

	auth_init(&plain, S3_PAYLOAD_STREAMING_SIGNED, aws_seed, 1);
	auth_init(&trailer, S3_PAYLOAD_STREAMING_SIGNED_TRAILER, trailer_seed, 1);
	for (size_t i = 0; i < sizeof(tampers) / sizeof(tampers[0]); i++) {
		const struct tamper *t = &tampers[i];
		const struct run *r = i % 2 ? &one : &big;

		aws_body(&body, t->trailer ? trailer_sigs : aws_sigs, t->trailer ? AWS_TRAILER : "");
		flip(&body, t->find, t->skip);
		if (decode(&c, &body, t->trailer ? &trailer : &plain, r, 0, 0, &out, &ok) !=
		    S3_ERR_SIGNATURE_MISMATCH)
			fail_msg("%s: not refused", t->name);
		if (ok > t->ok_max)
			fail_msg("%s: %zu bytes handed out", t->name, ok);
		s3_chunked_release(&c);
		buf_release(&out);

		/* The same body passes when nothing verifies (simple mode). */
		nv = t->trailer ? trailer : plain;
		nv.verify_chunks = 0;
		assert_int_equal(decode(&c, &body, &nv, r, 0, 0, &out, NULL), S3_ERR_OK);
		assert_int_equal(out.len, 66560);
		s3_chunked_release(&c);
		buf_release(&out);
		buf_release(&body);
	}

	/* A wrong seed breaks the first chunk. */
	aws_body(&body, aws_sigs, "");
	snprintf(plain.seed_signature, sizeof(plain.seed_signature), "%s", trailer_seed);
	assert_int_equal(decode(&c, &body, &plain, &big, 0, 0, &out, &ok), S3_ERR_SIGNATURE_MISMATCH);
	assert_true(ok < 65536);
	s3_chunked_release(&c);
	buf_release(&out);
	/* ... unless the request was not verified. */
	plain.verify_chunks = 0;
	assert_int_equal(decode(&c, &body, &plain, &big, 0, 0, &out, NULL), S3_ERR_OK);
	s3_chunked_release(&c);
	buf_release(&out);
	buf_release(&body);

	/* The signed-trailer mode needs the trailer signature. */
	aws_body(&body, trailer_sigs, "x-amz-checksum-crc32c:sOO8/Q==\r\n");
	assert_int_equal(decode(&c, &body, &trailer, &big, 0, 0, &out, NULL),
			 S3_ERR_SIGNATURE_MISMATCH);
	s3_chunked_release(&c);
	buf_release(&out);
	buf_release(&body);
}

/* ---- chunk signatures computed here, for bodies AWS did not publish --- */

/* Many tiny signed chunks, and the smallest possible signed body. */
static void test_signed_small_chunks(void **state)
{
	struct s3_auth auth;
	struct s3_chunked c;
	struct buf body, out;
	char prev[65];
	static const char text[] = "The quick brown fox jumps over the lazy dog";

	auth_init(&auth, S3_PAYLOAD_STREAMING_SIGNED, aws_seed, 1);
	for (size_t per = 0; per <= 5; per++) {
		size_t off = 0;

		memcpy(prev, aws_seed, 65);
		buf_init(&body, 1 << 16);
		while (per && off < sizeof(text) - 1) {
			size_t n = sizeof(text) - 1 - off < per ? sizeof(text) - 1 - off : per;
			sign_chunk(&auth, prev, text + off, n);
			assert_int_equal(buf_addf(&body, "%zx;chunk-signature=%s\r\n", n, prev), 0);
			assert_int_equal(buf_add(&body, text + off, n), 0);
			assert_int_equal(buf_addstr(&body, "\r\n"), 0);
			off += n;
		}
		sign_chunk(&auth, prev, "", 0);
		assert_int_equal(buf_addf(&body, "0;chunk-signature=%s\r\n\r\n", prev), 0);
		for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
			assert_int_equal(decode(&c, &body, &auth, &runs[i], 0, 0, &out, NULL),
					 S3_ERR_OK);
			assert_int_equal(out.len, off);
			assert_memory_equal(out.ptr, text, off);
			s3_chunked_release(&c);
			buf_release(&out);
		}
		buf_release(&body);
	}
}

/* ---- the unsigned-trailer variant -------------------------------------- */

static void test_unsigned_trailer(void **state)
{
	static const char *const trailers[] = {
		"x-amz-checksum-crc32:s3SFCQ==\r\n\r\n",
		"x-amz-checksum-crc32:s3SFCQ==\n\n",        /* LF-only trailer lines */
		"X-Amz-Checksum-CRC32:  s3SFCQ==  \r\nx-amz-meta-b:\r\n\r\n",
	};
	struct s3_auth auth;
	struct s3_chunked c;
	struct buf body, out;

	auth_init(&auth, S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER, "", 0);
	for (size_t t = 0; t < sizeof(trailers) / sizeof(trailers[0]); t++) {
		buf_init(&body, 1 << 16);
		for (int k = 0; k < 2; k++) {
			assert_int_equal(buf_addstr(&body, "2000\r\n"), 0);
			for (int i = 0; i < 8192; i++)
				assert_int_equal(buf_addch(&body, 'a'), 0);
			assert_int_equal(buf_addstr(&body, "\r\n"), 0);
		}
		assert_int_equal(buf_addstr(&body, "400\r\n"), 0);
		for (int i = 0; i < 1024; i++)
			assert_int_equal(buf_addch(&body, 'a'), 0);
		assert_int_equal(buf_addf(&body, "\r\n0\r\n%s", trailers[t]), 0);
		for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
			const struct s3_auth *a = i % 2 ? &auth : NULL;
			assert_int_equal(decode(&c, &body, a, &runs[i], 0, 0, &out, NULL), S3_ERR_OK);
			assert_all_a(&out, 17408);
			assert_string_equal(s3_chunked_trailer(&c, "x-amz-checksum-crc32"), "s3SFCQ==");
			if (t == 2)
				assert_string_equal(s3_chunked_trailer(&c, "x-amz-meta-b"), "");
			s3_chunked_release(&c);
			buf_release(&out);
		}
		buf_release(&body);
	}
}

/* ---- short and malformed bodies ---------------------------------------- */

static void test_truncated(void **state)
{
	static const size_t cuts[] = { 0, 1, 5, 50, 87, 88, 1000, 65623, 65624, 65625,
				       65626, 66000, 66736, 66737, 66738, 66821, 66822, 66823 };
	struct s3_auth auth;
	struct s3_chunked c;
	struct buf body, cut, out;
	const struct run one = { 1, 7 }, big = { 0, 1 << 17 };

	auth_init(&auth, S3_PAYLOAD_STREAMING_SIGNED, aws_seed, 1);
	aws_body(&body, aws_sigs, "");
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		buf_init(&cut, 1 << 20);
		assert_int_equal(buf_add(&cut, body.ptr, cuts[i]), 0);
		for (int k = 0; k < 2; k++) {
			enum s3_err e = decode(&c, &cut, k ? &auth : NULL, k ? &one : &big, 1, 0,
					       &out, NULL);
			if (e != S3_ERR_INCOMPLETE_BODY)
				fail_msg("cut at %zu: error %d", cuts[i], e);
			s3_chunked_release(&c);
			buf_release(&out);
		}
		buf_release(&cut);
	}
	/* A failing source is an incomplete body too. */
	assert_int_equal(decode(&c, &body, &auth, &big, 0, 30000, &out, NULL),
			 S3_ERR_INCOMPLETE_BODY);
	s3_chunked_release(&c);
	buf_release(&out);
	assert_int_equal(decode(&c, &body, &auth, &one, 0, 40, &out, NULL), S3_ERR_INCOMPLETE_BODY);
	s3_chunked_release(&c);
	buf_release(&out);
	buf_release(&body);
}

#define SIG64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct garbage {
	const char *name;
	const char *body;
	size_t len;                 /* bodies may hold a NUL */
	enum s3_payload payload;    /* auth given unless UNSIGNED */
};

#define G(name, body, payload) { name, body, sizeof(body) - 1, payload }

static const struct garbage garbage[] = {
	G("non-hex size", "zz\r\nhello\r\n0\r\n\r\n", S3_PAYLOAD_UNSIGNED),
	G("empty size line", "\r\n0\r\n\r\n", S3_PAYLOAD_UNSIGNED),
	G("negative size", "-5\r\nhello\r\n0\r\n\r\n", S3_PAYLOAD_UNSIGNED),
	G("space after size", "5 \r\nhello\r\n0\r\n\r\n", S3_PAYLOAD_UNSIGNED),
	G("size over 16 MiB", "1000001\r\n", S3_PAYLOAD_UNSIGNED),
	G("size overflowing 64 bits", "100000000000000005\r\nhello\r\n", S3_PAYLOAD_UNSIGNED),
	G("LF-only size line", "5\nhello\r\n0\r\n\r\n", S3_PAYLOAD_UNSIGNED),
	G("no CRLF after data", "5\r\nhelloXY0\r\n\r\n", S3_PAYLOAD_UNSIGNED),
	G("LF-only after data", "5\r\nhello\n0\r\n\r\n", S3_PAYLOAD_UNSIGNED),
	G("unknown extension", "5;foo=bar\r\nhello\r\n0\r\n\r\n", S3_PAYLOAD_UNSIGNED),
	G("short chunk signature", "5;chunk-signature=abc\r\nhello\r\n0\r\n\r\n", S3_PAYLOAD_UNSIGNED),
	G("non-hex chunk signature", "5;chunk-signature=" SIG64 "x\r\nhello\r\n0\r\n\r\n",
	  S3_PAYLOAD_UNSIGNED),
	G("signature missing when signed", "5\r\nhello\r\n0\r\n\r\n", S3_PAYLOAD_STREAMING_SIGNED),
	G("trailer without colon", "0\r\nx-amz-checksum-crc32\r\n\r\n", S3_PAYLOAD_UNSIGNED),
	G("trailer without name", "0\r\n:abc\r\n\r\n", S3_PAYLOAD_UNSIGNED),
	G("trailer name with space", "0\r\nx amz:abc\r\n\r\n", S3_PAYLOAD_UNSIGNED),
	G("trailer value with control", "0\r\nx:a\001b\r\n\r\n", S3_PAYLOAD_UNSIGNED),
	G("trailer with NUL", "0\r\nx\0y:1\r\n\r\n", S3_PAYLOAD_UNSIGNED),
	G("short trailer signature", "0\r\nx-amz-trailer-signature:abc\r\n\r\n",
	  S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER),
	G("two trailer signatures", "0\r\nx-amz-trailer-signature:" SIG64
	  "\r\nx-amz-trailer-signature:" SIG64 "\r\n\r\n", S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER),
	G("trailer where none is signed", "0;chunk-signature=" SIG64 "\r\nx:1\r\n\r\n",
	  S3_PAYLOAD_STREAMING_SIGNED),
};

static void test_garbage(void **state)
{
	const struct run one = { 1, 5 }, big = { 0, 4096 };
	struct s3_chunked c;
	struct buf body, out;
	struct s3_auth auth;

	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		const struct garbage *g = &garbage[i];

		/* verify off: the refusal must come from the framing */
		auth_init(&auth, g->payload, aws_seed, 0);
		buf_init(&body, 1 << 16);
		assert_int_equal(buf_add(&body, g->body, g->len), 0);
		for (int k = 0; k < 2; k++) {
			enum s3_err e = decode(&c, &body, g->payload ? &auth : NULL,
					       k ? &one : &big, 0, 0, &out, NULL);
			if (e != S3_ERR_INVALID_CHUNK)
				fail_msg("%s: error %d", g->name, e);
			s3_chunked_release(&c);
			buf_release(&out);
		}
		buf_release(&body);
	}
}

static void test_caps(void **state)
{
	const struct run big = { 0, 4096 };
	struct s3_chunked c;
	struct buf body, out;

	/* a size line over 4 KiB */
	buf_init(&body, 1 << 16);
	assert_int_equal(buf_addstr(&body, "5;"), 0);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(buf_addch(&body, 'x'), 0);
	assert_int_equal(buf_addstr(&body, "\r\nhello\r\n0\r\n\r\n"), 0);
	assert_int_equal(decode(&c, &body, NULL, &big, 0, 0, &out, NULL), S3_ERR_INVALID_CHUNK);
	s3_chunked_release(&c);
	buf_release(&out);
	buf_release(&body);

	/* trailers over S3_CHUNKED_TRAILER_MAX in total */
	buf_init(&body, 1 << 16);
	assert_int_equal(buf_addstr(&body, "0\r\n"), 0);
	for (int i = 0; i < 40; i++)
		assert_int_equal(buf_addf(&body, "x-amz-meta-%02d:%s\r\n", i, "0123456789abcdef"), 0);
	assert_int_equal(buf_addstr(&body, "\r\n"), 0);
	assert_int_equal(decode(&c, &body, NULL, &big, 0, 0, &out, NULL), S3_ERR_INVALID_CHUNK);
	s3_chunked_release(&c);
	buf_release(&out);
	buf_release(&body);

	/* ... while just under it is fine: 33 stored as 31 bytes each */
	buf_init(&body, 1 << 16);
	assert_int_equal(buf_addstr(&body, "0\r\n"), 0);
	for (int i = 0; i < 33; i++)
		assert_int_equal(buf_addf(&body, "x-amz-meta-%02d:%s\r\n", i, "0123456789abcdef"), 0);
	assert_int_equal(buf_addstr(&body, "\r\n"), 0);
	assert_int_equal(decode(&c, &body, NULL, &big, 0, 0, &out, NULL), S3_ERR_OK);
	assert_string_equal(s3_chunked_trailer(&c, "x-amz-meta-32"), "0123456789abcdef");
	s3_chunked_release(&c);
	buf_release(&out);
	buf_release(&body);
}

/* The smallest bodies leave the stream exactly at the next request. */
static void test_minimal(void **state)
{
	static const char *const bodies[] = { "0\r\n\r\n", "0\r\n\n", "0\n" };
	struct s3_chunked c;
	struct buf body, out;

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		buf_init(&body, 64);
		assert_int_equal(buf_addstr(&body, bodies[i]), 0);
		for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
			enum s3_err want = i < 2 ? S3_ERR_OK : S3_ERR_INVALID_CHUNK;
			assert_int_equal(decode(&c, &body, NULL, &runs[r], 0, 0, &out, NULL), want);
			assert_int_equal(out.len, 0);
			s3_chunked_release(&c);
			buf_release(&out);
		}
		buf_release(&body);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aws_signed),
		cmocka_unit_test(test_aws_signed_trailer),
		cmocka_unit_test(test_bad_signatures),
		cmocka_unit_test(test_signed_small_chunks),
		cmocka_unit_test(test_unsigned_trailer),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_minimal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
