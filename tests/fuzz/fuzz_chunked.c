/*
 * fuzz_chunked — the aws-chunked decoder (s3_chunked_read) over arbitrary
 * bodies, in every payload mode, with sources that hand out bytes in
 * fragments of every size.
 *
 * Input: mode byte (low 3 bits, modulo 5: no auth, signed, signed with
 * trailer, unsigned with trailer, signed without verification; bit 3: the
 * stream ends with the body instead of going on with the next request),
 * the most bytes the source returns per read (0: as many as asked), the
 * caller's read size (1 + byte * 64), then the body. Signatures chain from
 * AWS's example seed with AWS's example key, so valid bodies in the corpus
 * verify.
 *
 * Properties: never more bytes out than came in; errors are the documented
 * ones and sticky; after success read keeps returning 0 and the decoded
 * count matches. And the decoder never reads ahead: when it accepts the
 * first N bytes of the stream as a body, decoding exactly those N bytes
 * followed by EOF succeeds too, consumes all N and yields as many bytes
 * (so on a keep-alive connection the next request is left untouched).
 */
#include <string.h>

#include "s3/s3_auth.h"
#include "tests/fuzz/fuzz.h"

#define SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define DATE "20130524T000000Z"
#define SCOPE "20130524/us-east-1/s3/aws4_request"
#define SEED "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
#define NEXT_REQUEST "GET /next HTTP/1.1\r\nHost: x\r\n\r\n"
#define INPUT_MAX (256 * 1024)

struct src {
	const uint8_t *data;
	size_t len, pos;
	size_t max;         /* most bytes per read, 0 = as many as asked */
};

static long src_read(void *arg, void *buf, size_t len)
{
	struct src *s = arg;
	FUZZ_CHECK(len > 0);
	size_t n = s->len - s->pos;
	if (n > len)
		n = len;
	if (s->max && n > s->max)
		n = s->max;
	memcpy(buf, s->data + s->pos, n);
	s->pos += n;
	return (long)n;
}

struct result {
	long last;          /* 0 or -1 */
	enum s3_err err;
	uint64_t total;     /* decoded bytes */
	size_t consumed;    /* source bytes */
};

static struct result decode(const struct s3_auth *auth, const uint8_t *data, size_t len,
			    size_t max, size_t step)
{
	static unsigned char out[1 + 255 * 64];
	struct src s = { .data = data, .len = len, .max = max };
	struct result r = { .err = S3_ERR_OK };
	struct s3_chunked c;
	enum s3_err again = S3_ERR_OK;
	long n;

	s3_chunked_init(&c, src_read, &s, auth);
	while ((n = s3_chunked_read(&c, out, step, &r.err)) > 0) {
		FUZZ_CHECK((size_t)n <= step);
		r.total += (uint64_t)n;
		FUZZ_CHECK(r.total <= s.pos); /* never more out than in */
	}
	r.last = n;
	r.consumed = s.pos;
	if (n == 0) {
		FUZZ_CHECK(c.decoded == r.total);
		FUZZ_CHECK(s3_chunked_read(&c, out, step, &again) == 0);
		s3_chunked_trailer(&c, "x-amz-checksum-crc32c");
	} else {
		FUZZ_CHECK(n == -1);
		FUZZ_CHECK(r.err == S3_ERR_INVALID_CHUNK || r.err == S3_ERR_INCOMPLETE_BODY ||
			   r.err == S3_ERR_SIGNATURE_MISMATCH);
		FUZZ_CHECK(s3_chunked_read(&c, out, step, &again) == -1 && again == r.err);
	}
	s3_chunked_release(&c);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum s3_payload modes[] = {
		S3_PAYLOAD_STREAMING_SIGNED, S3_PAYLOAD_STREAMING_SIGNED,
		S3_PAYLOAD_STREAMING_SIGNED_TRAILER, S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER,
		S3_PAYLOAD_STREAMING_SIGNED,
	};
	struct s3_auth auth;
	if (size < 3 || size > INPUT_MAX)
		return 0;
	int mode = (data[0] & 7) % 5;
	int eof_at_body = (data[0] & 8) != 0;
	size_t max = data[1], step = 1 + (size_t)data[2] * 64;
	size_t body_len = size - 3;

	memset(&auth, 0, sizeof(auth));
	auth.payload = modes[mode];
	auth.verify_chunks = mode == 1 || mode == 2;
	s3_sigv4_signing_key(SK, "20130524", "us-east-1", "s3", auth.signing_key);
	snprintf(auth.amz_date, sizeof(auth.amz_date), "%s", DATE);
	snprintf(auth.scope, sizeof(auth.scope), "%s", SCOPE);
	snprintf(auth.seed_signature, sizeof(auth.seed_signature), "%s", SEED);
	const struct s3_auth *a = mode == 0 ? NULL : &auth;

	/* The stream: the body, then (unless eof_at_body) the next request. */
	size_t len = body_len + (eof_at_body ? 0 : strlen(NEXT_REQUEST));
	uint8_t *stream = malloc(len ? len : 1);
	if (!stream)
		return 0;
	memcpy(stream, data + 3, body_len);
	if (!eof_at_body)
		memcpy(stream + body_len, NEXT_REQUEST, strlen(NEXT_REQUEST));

	struct result r = decode(a, stream, len, max, step);
	if (r.last == 0) {
		struct result again = decode(a, stream, r.consumed, max, step);
		FUZZ_CHECK(again.last == 0 && again.consumed == r.consumed &&
			   again.total == r.total);
	}
	free(stream);
	return 0;
}
