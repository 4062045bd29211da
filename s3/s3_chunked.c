/*
 * s3_chunked — aws-chunked body decoder; see s3_auth.h for the format.
 *
 * The state machine is driven by s3_chunked_read. Lines (chunk sizes,
 * trailers) are assembled in c->in; chunk data goes straight from the
 * source into the caller's buffer once c->in is drained. Every read from
 * the source is bounded by min_left(): what a well-formed body must still
 * hold, so the decoder never consumes a byte of the next request.
 */
#include "s3/s3_auth.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/hash.h"
#include "common/banned.h"

enum {
	ST_SIZE,        /* reading "hex[;chunk-signature=sig]\r\n" */
	ST_DATA,        /* chunk_left data bytes to hand out */
	ST_DATA_END,    /* the "\r\n" after a chunk's data */
	ST_TRAILER,     /* trailer lines up to the empty line */
	ST_DONE,
	ST_ERROR,
};

#define CHUNK_SIZE_MAX (16u << 20)
#define CHUNK_LINE_MAX 4096
#define SIG_EXT ";chunk-signature="
#define SIG_EXT_LEN (sizeof(SIG_EXT) - 1)
#define SIG_HEX 64
#define TRAILER_SIG "x-amz-trailer-signature"
#define EMPTY_SHA256_HEX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/* Shortest size line: "0\r\n", or with a signature "0;chunk-signature=<64>\r\n". */
#define LINE_MIN_UNSIGNED 3
#define LINE_MIN_SIGNED (1 + SIG_EXT_LEN + SIG_HEX + 2)

static int signed_payload(const struct s3_chunked *c)
{
	return c->auth && (c->auth->payload == S3_PAYLOAD_STREAMING_SIGNED ||
			   c->auth->payload == S3_PAYLOAD_STREAMING_SIGNED_TRAILER);
}

static int verifying(const struct s3_chunked *c)
{
	return c->auth && c->auth->verify_chunks;
}

static int verifying_trailer(const struct s3_chunked *c)
{
	return verifying(c) && c->auth->payload == S3_PAYLOAD_STREAMING_SIGNED_TRAILER;
}

/* Nothing signs trailers sent with plain STREAMING-AWS4-HMAC-SHA256-PAYLOAD. */
static int trailers_allowed(const struct s3_chunked *c)
{
	return !c->auth || c->auth->payload != S3_PAYLOAD_STREAMING_SIGNED;
}

void s3_chunked_init(struct s3_chunked *c, s3_read_fn fn, void *arg,
		     const struct s3_auth *verify_or_null)
{
	memset(c, 0, sizeof(*c));
	c->read = fn;
	c->arg = arg;
	c->auth = verify_or_null;
	c->state = ST_SIZE;
	if (c->auth)
		memcpy(c->prev_sig, c->auth->seed_signature, sizeof(c->prev_sig));
}

void s3_chunked_release(struct s3_chunked *c)
{
	hash_release(&c->chunk_hash);
}

/*
 * The fewest bytes a well-formed body still holds beyond what c->in holds.
 * Only called while c->in has no complete line (or, in ST_DATA_END, fewer
 * than the two bytes wanted). A malformed body may make this too large, but
 * then the request fails and its connection is closed anyway.
 */
static size_t min_left(const struct s3_chunked *c)
{
	size_t have = c->in_len - c->in_pos;
	size_t line = signed_payload(c) ? LINE_MIN_SIGNED : LINE_MIN_UNSIGNED;
	int cr = have && c->in[c->in_len - 1] == '\r';

	switch (c->state) {
	case ST_SIZE:
		/* the rest of this line, then at least the final "\n" */
		if (have < line)
			return line - have + 1;
		return (cr ? 1 : 2) + 1;
	case ST_DATA_END:
		return 2 - have + line + 1;
	case ST_TRAILER:
		/* an empty line ends the body; a started one needs its "\n" and
		 * then the final empty line */
		if (!have || (have == 1 && cr))
			return 1;
		return 2;
	}
	return 1;
}

static enum s3_err fill(struct s3_chunked *c)
{
	size_t have = c->in_len - c->in_pos;
	size_t want;
	long n;

	if (c->in_pos) {
		memmove(c->in, c->in + c->in_pos, have);
		c->in_pos = 0;
		c->in_len = have;
	}
	want = sizeof(c->in) - c->in_len;
	if (want > min_left(c))
		want = min_left(c);
	n = c->read(c->arg, c->in + c->in_len, want);
	if (n <= 0)
		return S3_ERR_INCOMPLETE_BODY;
	if ((size_t)n > want)
		return S3_ERR_INTERNAL; /* the source broke its contract */
	c->in_len += (size_t)n;
	return S3_ERR_OK;
}

/* 1 with *line (NUL-terminated, without its "\n") when c->in holds a whole
 * line, 0 when more is needed, -1 when the line is over the cap. */
static int next_line(struct s3_chunked *c, char **line, size_t *len)
{
	unsigned char *p = c->in + c->in_pos;
	size_t have = c->in_len - c->in_pos;
	unsigned char *nl = memchr(p, '\n', have);

	if (!nl)
		return have >= CHUNK_LINE_MAX ? -1 : 0;
	*nl = '\0';
	*line = (char *)p;
	*len = (size_t)(nl - p);
	c->in_pos += *len + 1;
	return 1;
}


/* HMAC(signing key, kind "\n" date "\n" scope "\n" prev "\n" hashes) must
 * equal claimed; on success it becomes the previous signature. */
static enum s3_err sig_check(struct s3_chunked *c, const char *kind, const char *hashes,
			     const char *claimed)
{
	char sts[512];
	unsigned char mac[SHA256_LEN], want[SHA256_LEN];
	int n = snprintf(sts, sizeof(sts), "%s\n%s\n%s\n%s\n%s", kind, c->auth->amz_date,
			 c->auth->scope, c->prev_sig, hashes);

	if (n < 0 || (size_t)n >= sizeof(sts))
		return S3_ERR_INTERNAL;
	hmac_sha256(c->auth->signing_key, SHA256_LEN, sts, (size_t)n, mac);
	if (hex_decode(claimed, strlen(claimed), want, SHA256_LEN) ||
	    !secure_equal(mac, want, SHA256_LEN))
		return S3_ERR_SIGNATURE_MISMATCH;
	hex_encode(mac, SHA256_LEN, c->prev_sig);
	return S3_ERR_OK;
}

/* Finishes the running hash and checks it against kind's signature. */
static enum s3_err hash_check(struct s3_chunked *c, const char *kind, const char *prefix,
			      const char *claimed)
{
	unsigned char digest[SHA256_LEN];
	char hashes[2 * (2 * SHA256_LEN + 1)];
	size_t n = strlen(prefix);

	assert(n <= 2 * SHA256_LEN + 1);
	if (hash_final(&c->chunk_hash, digest) < 0)
		return S3_ERR_INTERNAL;
	memcpy(hashes, prefix, n);
	hex_encode(digest, SHA256_LEN, hashes + n);
	return sig_check(c, kind, hashes, claimed);
}

static enum s3_err chunk_verify(struct s3_chunked *c)
{
	return hash_check(c, "AWS4-HMAC-SHA256-PAYLOAD", EMPTY_SHA256_HEX "\n", c->chunk_sig);
}

/* "hex-size[;chunk-signature=64hex]" then "\r". */
static enum s3_err size_line(struct s3_chunked *c, char *s, size_t len)
{
	uint64_t size = 0;
	enum s3_err e;
	size_t i;

	if (!len || s[len - 1] != '\r')
		return S3_ERR_INVALID_CHUNK;
	s[--len] = '\0';
	for (i = 0; i < len && hex_digit(s[i]) >= 0; i++) {
		size = size * 16 + (uint64_t)hex_digit(s[i]);
		if (size > CHUNK_SIZE_MAX)
			return S3_ERR_INVALID_CHUNK;
	}
	if (!i)
		return S3_ERR_INVALID_CHUNK;
	c->chunk_sig[0] = '\0';
	if (i < len) {
		const char *sig = s + i + SIG_EXT_LEN;
		unsigned char tmp[SHA256_LEN];
		if (len - i != SIG_EXT_LEN + SIG_HEX || memcmp(s + i, SIG_EXT, SIG_EXT_LEN) ||
		    hex_decode(sig, SIG_HEX, tmp, sizeof(tmp)))
			return S3_ERR_INVALID_CHUNK;
		memcpy(c->chunk_sig, sig, SIG_HEX + 1);
	}
	if (signed_payload(c) && !c->chunk_sig[0])
		return S3_ERR_INVALID_CHUNK;
	c->chunk_left = size;
	if (verifying(c) && hash_init(&c->chunk_hash, HASH_SHA256))
		return S3_ERR_INTERNAL;
	if (size) {
		c->state = ST_DATA;
		return S3_ERR_OK;
	}
	c->state = ST_TRAILER;
	if (!verifying(c))
		return S3_ERR_OK;
	if ((e = chunk_verify(c)))
		return e;
	/* the trailer signature hashes the trailers */
	if (verifying_trailer(c) && hash_init(&c->chunk_hash, HASH_SHA256))
		return S3_ERR_INTERNAL;
	return S3_ERR_OK;
}

static long data_read(struct s3_chunked *c, void *buf, size_t len, enum s3_err *err)
{
	size_t have = c->in_len - c->in_pos;
	size_t want = len < c->chunk_left ? len : (size_t)c->chunk_left;
	long n;

	if (have) {
		n = (long)(have < want ? have : want);
		memcpy(buf, c->in + c->in_pos, (size_t)n);
		c->in_pos += (size_t)n;
	} else {
		n = c->read(c->arg, buf, want);
		if (n <= 0 || (size_t)n > want) {
			*err = n <= 0 ? S3_ERR_INCOMPLETE_BODY : S3_ERR_INTERNAL;
			return -1;
		}
	}
	if (verifying(c) && hash_update(&c->chunk_hash, buf, (size_t)n)) {
		*err = S3_ERR_INTERNAL;
		return -1;
	}
	c->chunk_left -= (uint64_t)n;
	c->decoded += (uint64_t)n;
	if (!c->chunk_left) {
		/* Checked before the chunk's last bytes are handed out. */
		if (verifying(c) && (*err = chunk_verify(c)))
			return -1;
		c->state = ST_DATA_END;
	}
	return n;
}

static void trim(char **s, size_t *len)
{
	while (*len && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

static int token_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static enum s3_err trailers_end(struct s3_chunked *c)
{
	enum s3_err e = S3_ERR_OK;

	if (verifying_trailer(c)) {
		if (!c->have_trailer_sig)
			e = S3_ERR_SIGNATURE_MISMATCH;
		else
			e = hash_check(c, "AWS4-HMAC-SHA256-TRAILER", "", c->chunk_sig);
	}
	c->state = ST_DONE;
	return e;
}

/* "name:value" (the "\r" optional: some clients end trailers in "\n"). */
static enum s3_err trailer_line(struct s3_chunked *c, char *s, size_t len)
{
	char *colon, *name = s, *value;
	size_t nlen, vlen;

	if (len && s[len - 1] == '\r')
		s[--len] = '\0';
	if (!len)
		return trailers_end(c);
	if (!trailers_allowed(c) || !(colon = memchr(s, ':', len)))
		return S3_ERR_INVALID_CHUNK;
	nlen = (size_t)(colon - s);
	value = colon + 1;
	vlen = len - nlen - 1;
	trim(&value, &vlen);
	if (!nlen)
		return S3_ERR_INVALID_CHUNK;
	for (size_t i = 0; i < nlen; i++) {
		if (!token_char(name[i]))
			return S3_ERR_INVALID_CHUNK;
		if (name[i] >= 'A' && name[i] <= 'Z')
			name[i] += 'a' - 'A';
	}
	for (size_t i = 0; i < vlen; i++)
		if ((unsigned char)value[i] < ' ' && value[i] != '\t')
			return S3_ERR_INVALID_CHUNK;
	if (nlen == strlen(TRAILER_SIG) && !memcmp(name, TRAILER_SIG, nlen)) {
		unsigned char tmp[SHA256_LEN];
		if (c->have_trailer_sig || vlen != SIG_HEX ||
		    hex_decode(value, SIG_HEX, tmp, sizeof(tmp)))
			return S3_ERR_INVALID_CHUNK;
		memcpy(c->chunk_sig, value, SIG_HEX);
		c->chunk_sig[SIG_HEX] = '\0';
		c->have_trailer_sig = 1;
		return S3_ERR_OK;
	}
	/* Stored as "name:value\0"; signed as "name:value\n". */
	if (nlen + 1 + vlen + 1 > sizeof(c->trailers) - c->trailers_len)
		return S3_ERR_INVALID_CHUNK;
	memcpy(c->trailers + c->trailers_len, name, nlen + 1);
	memcpy(c->trailers + c->trailers_len + nlen + 1, value, vlen);
	if (verifying_trailer(c)) {
		c->trailers[c->trailers_len + nlen + 1 + vlen] = '\n';
		if (hash_update(&c->chunk_hash, c->trailers + c->trailers_len, nlen + vlen + 2))
			return S3_ERR_INTERNAL;
	}
	c->trailers[c->trailers_len + nlen + 1 + vlen] = '\0';
	c->trailers_len += nlen + vlen + 2;
	return S3_ERR_OK;
}

long s3_chunked_read(struct s3_chunked *c, void *buf, size_t len, enum s3_err *err)
{
	enum s3_err e = S3_ERR_OK;
	char *line;
	size_t n;
	long got;
	int r;

	assert(len > 0);
	for (;;) {
		switch (c->state) {
		case ST_DONE:
			return 0;
		case ST_ERROR:
			*err = c->err;
			return -1;
		case ST_DATA:
			got = data_read(c, buf, len, &e);
			if (got > 0)
				return got;
			goto fail;
		case ST_DATA_END:
			if (c->in_len - c->in_pos < 2) {
				e = fill(c);
			} else if (c->in[c->in_pos] != '\r' || c->in[c->in_pos + 1] != '\n') {
				e = S3_ERR_INVALID_CHUNK;
			} else {
				c->in_pos += 2;
				c->state = ST_SIZE;
			}
			break;
		case ST_SIZE:
		case ST_TRAILER:
			r = next_line(c, &line, &n);
			if (r < 0)
				e = S3_ERR_INVALID_CHUNK;
			else if (!r)
				e = fill(c);
			else if (c->state == ST_SIZE)
				e = size_line(c, line, n);
			else
				e = trailer_line(c, line, n);
			break;
		}
		if (e)
			goto fail;
	}
fail:
	c->state = ST_ERROR;
	c->err = e;
	hash_release(&c->chunk_hash);
	*err = e;
	return -1;
}

const char *s3_chunked_trailer(const struct s3_chunked *c, const char *name)
{
	size_t nlen = strlen(name);

	if (c->state != ST_DONE)
		return NULL;
	for (size_t off = 0; off < c->trailers_len; off += strlen(c->trailers + off) + 1) {
		const char *t = c->trailers + off;
		if (!strncasecmp(t, name, nlen) && t[nlen] == ':')
			return t + nlen + 1;
	}
	return NULL;
}
