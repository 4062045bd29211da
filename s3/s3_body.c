/*
 * s3_body — request bodies: length rules, aws-chunked decoding, and the
 * x-amz-content-sha256 check, and (for the handlers that ask) the
 * x-amz-checksum-* check, so handlers just read bytes.
 */
#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "s3/s3_int.h"
#include "common/banned.h"

/*
 * Slow bodies ("slowloris"): civetweb's request_timeout_ms bounds the wait
 * for each byte, not the body, so a client trickling one byte a second
 * would hold its worker thread (one of --threads) for as long as it likes.
 * As Apache's mod_reqtimeout does (body=20,MinRate=500), the body may take
 * request_timeout_ms plus one second per min_body_rate bytes received so
 * far; past that the request ends with RequestTimeout (and the connection
 * is closed, its body unread). A client sending at least min_body_rate
 * bytes a second is never cut off.
 *
 * The bound is checked before each read; as mg_read returns only once it
 * has every byte asked for, a read in flight is watched by s3_slow.c, with
 * a deadline that also credits the bytes it asked for (a client keeping
 * to the rate finishes it in time). Reads ask for at most what the client
 * is ahead of the bound (one second's worth at least): a fast client soon
 * reads whole buffers, a trickling one is cut about a second late.
 */
static uint64_t body_allowed_ns(const struct s3_body *b, uint64_t bytes)
{
	const struct s3_options *o = &b->r->srv->opt;
	uint64_t secs = bytes / o->min_body_rate, rem = bytes % o->min_body_rate;
	if (secs > 100000000) /* over three years: no bound */
		return UINT64_MAX / 2;
	return (uint64_t)o->request_timeout_ms * 1000000u + secs * 1000000000u +
	       rem * 1000000000u / o->min_body_rate;
}

/* Every body byte comes through here (plain and aws-chunked). */
static long conn_read(void *arg, void *buf, size_t len)
{
	struct s3_body *b = arg;
	struct s3_server *srv = b->r->srv;
	if (!srv->slow)
		return mg_read(b->r->conn, buf, len);
	uint64_t now = s3_slow_now(), elapsed = now - b->start_ns;
	uint64_t allowed = body_allowed_ns(b, b->wire);
	if (elapsed > allowed) {
		b->timed_out = 1;
		return -1;
	}
	uint64_t ahead = (allowed - elapsed) / 1000000000u * srv->opt.min_body_rate;
	if (ahead < srv->opt.min_body_rate)
		ahead = srv->opt.min_body_rate;
	if (len > ahead)
		len = (size_t)ahead;
	b->rd.deadline_ns = b->start_ns + body_allowed_ns(b, b->wire + len);
	s3_slow_enter(srv->slow, &b->rd);
	int n = mg_read(b->r->conn, buf, len);
	if (s3_slow_leave(srv->slow, &b->rd)) {
		b->timed_out = 1;
		return -1;
	}
	if (n > 0)
		b->wire += (uint64_t)n;
	return n;
}

static int is_chunked_payload(enum s3_payload p)
{
	return p == S3_PAYLOAD_STREAMING_SIGNED || p == S3_PAYLOAD_STREAMING_SIGNED_TRAILER ||
	       p == S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER;
}

static int parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s)
		return -1;
	uint64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

enum s3_err s3_body_open(struct s3_req *r, struct s3_body *b)
{
	memset(b, 0, sizeof(*b));
	b->r = r;
	b->start_ns = s3_slow_now();
	const struct mg_request_info *ri = mg_get_request_info(r->conn);
	b->rd.id = r->id;
	b->rd.remote_addr = ri ? ri->remote_addr : "";
	b->rd.remote_port = ri ? ri->remote_port : -1;
	b->rd.server_port = ri ? ri->server_port : -1;
	const char *te = s3_header(r, "Transfer-Encoding");
	if (r->content_length < 0 && !(te && strcasestr(te, "chunked")))
		return S3_ERR_MISSING_LENGTH;
	b->expect = r->content_length < 0 ? UINT64_MAX : (uint64_t)r->content_length;
	/* Only x-amz-content-sha256 (STREAMING-*) says the body is aws-chunked
	 * framing, as on AWS: "Content-Encoding: gzip, aws-chunked" with a
	 * plain payload is a plain body (a client labelling its upload), and
	 * decoding it as chunks would refuse or mangle it. */
	if (is_chunked_payload(r->auth.payload)) {
		if (parse_u64(s3_header(r, "x-amz-decoded-content-length"), &b->expect))
			return S3_ERR_MISSING_LENGTH;
		b->chunked = 1;
		/* The decoder checks verify_chunks itself and enforces each
		 * payload mode's framing. */
		s3_chunked_init(&b->ch, conn_read, b, &r->auth);
	}
	if (r->auth.payload == S3_PAYLOAD_SHA256) {
		b->sha = malloc(sizeof(struct hash));
		if (!b->sha || hash_init(b->sha, HASH_SHA256)) {
			free(b->sha);
			b->sha = NULL;
			return S3_ERR_SLOW_DOWN;
		}
	}
	return S3_ERR_OK;
}

long s3_body_read(struct s3_body *b, void *buf, size_t len, enum s3_err *err)
{
	long n;
	if (b->got >= b->expect && !b->chunked)
		return 0;
	if (!b->chunked && len > b->expect - b->got)
		len = (size_t)(b->expect - b->got);
	if (b->chunked) {
		n = s3_chunked_read(&b->ch, buf, len, err);
		if (n < 0) {
			if (b->timed_out)
				*err = S3_ERR_REQUEST_TIMEOUT;
			return -1;
		}
	} else {
		n = conn_read(b, buf, len);
		if (n < 0) {
			*err = b->timed_out ? S3_ERR_REQUEST_TIMEOUT : S3_ERR_INCOMPLETE_BODY;
			return -1;
		}
	}
	if (n == 0) {
		if (b->expect != UINT64_MAX && b->got != b->expect) {
			*err = S3_ERR_INCOMPLETE_BODY;
			return -1;
		}
		return 0;
	}
	b->got += (uint64_t)n;
	if (b->expect != UINT64_MAX && b->got > b->expect) {
		*err = S3_ERR_INVALID_CHUNK; /* more data than promised */
		return -1;
	}
	if (b->sha)
		hash_update(b->sha, buf, (size_t)n);
	if (b->ck)
		checksum_update(b->ck, buf, (size_t)n);
	return n;
}

/* "x-amz-checksum-" and the algorithm's name in lower case. */
static void checksum_header(enum checksum_alg alg, char out[32])
{
	int n = snprintf(out, 32, "x-amz-checksum-%s", checksum_name(alg));
	for (int i = 15; i < n; i++)
		out[i] = (char)(out[i] >= 'A' && out[i] <= 'Z' ? out[i] + 32 : out[i]);
}

enum s3_err s3_checksum_decode(const char *v, enum checksum_alg alg, unsigned char *out)
{
	if (!v || base64_decode(v, strlen(v), out, CHECKSUM_MAX_LEN) != (int)checksum_len(alg))
		return S3_ERR_CHECKSUM_INVALID;
	return S3_ERR_OK;
}

void s3_checksum_line(enum checksum_alg alg, const unsigned char *sum, char line[96])
{
	char name[32], b64[4 * ((CHECKSUM_MAX_LEN + 2) / 3) + 1];
	checksum_header(alg, name);
	base64_encode(sum, checksum_len(alg), b64);
	snprintf(line, 96, "%s: %s\r\n", name, b64);
}

enum s3_err s3_body_checksum(struct s3_body *b)
{
	enum checksum_alg alg = CHECKSUM_NONE, sdk = CHECKSUM_NONE;
	const char *value = NULL, *trailer = s3_header(b->r, "x-amz-trailer");
	const char *sdk_name = s3_header(b->r, "x-amz-sdk-checksum-algorithm");
	char name[32];
	enum s3_err e;

	for (int a = CHECKSUM_CRC32; a <= CHECKSUM_SHA256; a++) {
		checksum_header((enum checksum_alg)a, name);
		const char *v = s3_header(b->r, name);
		if (!v)
			continue;
		if (value)
			return S3_ERR_CHECKSUM_MULTIPLE;
		value = v;
		alg = (enum checksum_alg)a;
	}
	if (trailer) {
		/* Only a checksum may trail, and then not as a header too. */
		if (strncasecmp(trailer, "x-amz-checksum-", 15))
			return S3_ERR_INVALID_ARGUMENT;
		enum checksum_alg t = checksum_by_name(trailer + 15);
		if (t == CHECKSUM_NONE)
			return S3_ERR_CHECKSUM_ALG;
		if (value)
			return S3_ERR_CHECKSUM_MULTIPLE;
		if (!b->chunked)
			return S3_ERR_CHECKSUM_MISSING; /* no trailer can come */
		alg = t;
		b->ck_trailer = 1;
	}
	if (sdk_name) {
		if ((sdk = checksum_by_name(sdk_name)) == CHECKSUM_NONE)
			return S3_ERR_CHECKSUM_ALG;
		if (alg == CHECKSUM_NONE)
			return S3_ERR_CHECKSUM_MISSING;
		if (sdk != alg)
			return S3_ERR_CHECKSUM_ALG;
	}
	if (alg == CHECKSUM_NONE)
		return S3_ERR_OK;
	if (value && (e = s3_checksum_decode(value, alg, b->ck_want)))
		return e;
	if (!(b->ck = malloc(sizeof(*b->ck))) || checksum_init(b->ck, alg)) {
		free(b->ck);
		b->ck = NULL;
		return S3_ERR_SLOW_DOWN;
	}
	return S3_ERR_OK;
}

/* Checks the checksum (its value from the trailer if it trails). */
static enum s3_err checksum_finish(struct s3_body *b)
{
	unsigned char got[CHECKSUM_MAX_LEN];
	char name[32];
	enum checksum_alg alg = b->ck->alg;
	size_t len = checksum_len(alg);
	enum s3_err e;

	checksum_final(b->ck, got);
	free(b->ck);
	b->ck = NULL;
	checksum_header(alg, name);
	if (b->ck_trailer && (e = s3_checksum_decode(s3_chunked_trailer(&b->ch, name), alg,
						     b->ck_want)))
		return e;
	return memcmp(got, b->ck_want, len) ? S3_ERR_CHECKSUM_BAD : S3_ERR_OK;
}

enum s3_err s3_body_finish(struct s3_body *b)
{
	if (b->sha) {
		unsigned char sum[SHA256_LEN];
		hash_final(b->sha, sum);
		free(b->sha);
		b->sha = NULL;
		if (memcmp(sum, b->r->auth.payload_sha256, SHA256_LEN))
			return S3_ERR_SHA256_MISMATCH;
	}
	return b->ck ? checksum_finish(b) : S3_ERR_OK;
}

void s3_body_close(struct s3_body *b)
{
	if (b->sha) {
		hash_release(b->sha);
		free(b->sha);
		b->sha = NULL;
	}
	if (b->ck) {
		checksum_release(b->ck);
		free(b->ck);
		b->ck = NULL;
	}
	if (b->chunked)
		s3_chunked_release(&b->ch);
}

enum s3_err s3_read_small_body(struct s3_req *r, struct buf *out)
{
	struct s3_body b;
	char tmp[4096];
	enum s3_err e;
	if (r->content_length == 0)
		return S3_ERR_OK;
	if (r->content_length < 0 && !s3_header(r, "Transfer-Encoding"))
		return S3_ERR_OK; /* no body at all */
	if ((e = s3_body_open(r, &b)))
		return e;
	s3_continue(r);
	for (;;) {
		long n = s3_body_read(&b, tmp, sizeof(tmp), &e);
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (buf_add(out, tmp, (size_t)n)) {
			e = S3_ERR_ENTITY_TOO_LARGE;
			goto out;
		}
	}
	e = s3_body_finish(&b);
out:
	s3_body_close(&b);
	return e;
}
