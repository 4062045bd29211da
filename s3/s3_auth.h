/*
 * s3_auth — who is asking, and is the request really theirs.
 *
 * Two modes (--auth):
 *  - S3_AUTH_SIGV4: every request carries AWS Signature V4, either in the
 *    Authorization header ("AWS4-HMAC-SHA256 Credential=AK/DATE/REGION/s3/
 *    aws4_request, SignedHeaders=..., Signature=...") or as a presigned query
 *    (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires,
 *    X-Amz-SignedHeaders, X-Amz-Signature). The signature is recomputed from
 *    the secret the lookup function returns and compared in constant time.
 *    The request time (x-amz-date, else Date; X-Amz-Date for presigned) must
 *    be within 15 minutes of now (RequestTimeTooSkewed); a presigned URL must
 *    not be past X-Amz-Date + X-Amz-Expires (AccessDenied, "Request has
 *    expired"), and X-Amz-Expires is 1..604800.
 *    A request with no credentials at all is anonymous (out->anonymous):
 *    the core lets it do only what grants to everyone allow.
 *    Signature V2 is verified in this mode too: "Authorization: AWS
 *    AK:base64(HMAC-SHA1)" or a presigned query (AWSAccessKeyId, Expires,
 *    Signature). Its CanonicalizedResource is the path exactly as sent
 *    (percent-encoded, any /api/v1/s3 prefix included: it must not be
 *    path_decoded), then the V2 sub-resources (acl, delete, location,
 *    partNumber, tagging, uploadId, uploads, versionId, response-*...)
 *    sorted by name with decoded values. Date or x-amz-date must be within
 *    15 minutes; a presigned URL is good until Expires (epoch seconds),
 *    which must be at most S3_PRESIGN_MAX (7 days) ahead of now.
 *  - S3_AUTH_SIMPLE: Alluxio's trusted-network mode. The user is the access
 *    key in "Authorization: AWS <user>:<anything>" or in a V4 credential
 *    scope; nothing is verified. A request with no Authorization is anonymous
 *    (the caller substitutes the daemon's user), and so is one naming an
 *    empty access key in SigV2 form ("AWS :<sig>", AWSAccessKeyId=), which
 *    is what boto 2 sends with aws_access_key_id='' (Alluxio's example).
 *    In S3_AUTH_SIGV4 an empty access key stays an error.
 *
 * The payload mode comes from x-amz-content-sha256 in both modes, because an
 * aws-chunked body must be decoded either way: UNSIGNED-PAYLOAD, a hex
 * SHA-256 (the body must hash to it: XAmzContentSHA256Mismatch otherwise),
 * STREAMING-AWS4-HMAC-SHA256-PAYLOAD (aws-chunked with chunk signatures),
 * STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-UNSIGNED-PAYLOAD-TRAILER.
 * A SigV4 header request must send x-amz-content-sha256 (400 InvalidRequest
 * "Missing required header for this request: x-amz-content-sha256", as S3
 * answers): without it the signature would cover no body, and a captured
 * empty-body PUT could be replayed with any body. Presigned SigV4 URLs are
 * UNSIGNED-PAYLOAD and need no header. SigV2 never signs the body (only
 * Content-MD5, when sent); a SigV2 request with x-amz-content-sha256 has
 * its body checked against it.
 *
 * SigV4 canonical request traps, handled here:
 *  - canonical URI: the path is percent-decoded, then each byte re-encoded
 *    with UriEncode (unreserved kept, '/' kept) — S3 encodes once, no
 *    normalisation of '.', '..' or '//';
 *  - canonical query: every parameter (but X-Amz-Signature when presigned)
 *    decoded then UriEncoded (key and value, '/' encoded), "k=" for a
 *    parameter without value, sorted by encoded key then value;
 *  - canonical headers: the signed header names, lower-cased, values trimmed
 *    with inner runs of spaces folded to one, repeated headers joined by ','.
 *    "host" must be among SignedHeaders.
 *
 * Nothing here knows civetweb: the request arrives as plain strings, so unit
 * tests feed AWS's published examples. Thread-safe (no shared state).
 */
#ifndef S3_S3_AUTH_H
#define S3_S3_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/hash.h"
#include "s3/s3_err.h"

struct s3_hdr {
	const char *name;
	const char *value;
};

struct s3_auth_req {
	const char *method;       /* "GET", "PUT", ... */
	const char *path;         /* request path as sent: percent-encoded, no query */
	const char *query;        /* raw query string after '?', or NULL */
	const struct s3_hdr *hdrs;
	int nhdrs;
	time_t now;
	/* 1 if path is already percent-decoded (civetweb's local_uri_raw and
	 * request_uri are): it is then UriEncoded as is, never decoded again,
	 * so a key containing "%41" keeps its '%'. */
	int path_decoded;
	/* SigV2 resource spellings clients sign besides the path as sent,
	 * each naming the same thing: alt_path (NULL for none) is the path
	 * without the door's /api/v1/s3 prefix (botocore leaves an endpoint's
	 * path out); bucket_path (the path names a bucket, without a trailing
	 * '/') accepts the path + "/" that botocore signs for path-style
	 * bucket requests. */
	const char *alt_path;
	int bucket_path;
	/* SigV2's resource path when it is not path (virtual-hosted style:
	 * "/bucket" + path, the path being the key), or NULL. SigV4 always
	 * signs path, as sent. */
	const char *v2_path;
	/* 1 refuses SigV2 (header and presigned) in S3_AUTH_SIGV4 with
	 * SIGV2_NOT_SUPPORTED: for requests whose arguments are in the query
	 * (the admin API), which V2 leaves unsigned but for its sub-resources,
	 * so a captured request could be replayed with other arguments. */
	int v4_only;
};

/* The longest a signed request may stay valid from now, in seconds: SigV4's
 * X-Amz-Expires bound (a week), applied to SigV2's Expires and to a POST
 * policy's expiration too. */
#define S3_PRESIGN_MAX 604800

/* Secrets longer than this are truncated by s3_auth_check (and by
 * s3_sigv4_signing_key): the credentials loader should refuse them. */
#define S3_SECRET_MAX 256

/* Finds the secret for an access key. Returns 0 and fills secret and user
 * (NUL-terminated, truncated to the sizes given), or -1 if the key is unknown. */
typedef int (*s3_secret_fn)(void *arg, const char *access_key,
			    char *secret, size_t secret_size,
			    char *user, size_t user_size);

enum s3_auth_mode { S3_AUTH_SIGV4, S3_AUTH_SIMPLE };

enum s3_payload {
	S3_PAYLOAD_UNSIGNED,        /* no hash to check */
	S3_PAYLOAD_SHA256,          /* body must hash to payload_sha256 */
	S3_PAYLOAD_STREAMING_SIGNED,          /* aws-chunked, chunk signatures */
	S3_PAYLOAD_STREAMING_SIGNED_TRAILER,  /* same, plus signed trailer */
	S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER /* aws-chunked, no chunk sigs, trailer */
};

struct s3_auth {
	int anonymous;              /* no credentials presented */
	int presigned;              /* authenticated by query parameters */
	char access_key[129];
	char user[65];
	enum s3_payload payload;
	unsigned char payload_sha256[32];
	/* What chunk signatures chain from (valid after a SigV4 header check). */
	unsigned char signing_key[32];
	char amz_date[17];          /* 20130524T000000Z */
	char scope[160];            /* 20130524/us-east-1/s3/aws4_request */
	char seed_signature[65];    /* the request's own signature, hex */
	int verify_chunks;          /* 1 in SigV4 mode for signed streaming */
};

/*
 * Authenticates req. On success returns S3_ERR_OK and fills *out (an
 * unsigned request: out->anonymous). Errors: INVALID_ACCESS_KEY,
 * SIGNATURE_MISMATCH, TIME_SKEWED, EXPIRED_REQUEST, AUTH_MALFORMED,
 * AUTH_QUERY_MALFORMED, MISSING_CONTENT_SHA256, INVALID_ARGUMENT (bad
 * x-amz-content-sha256 value), checked in this order:
 *  - SigV4 header: AUTH_MALFORMED (header syntax, credential scope, the
 *    scope date differing from the request date, a SignedHeaders without
 *    "host" or naming a header the request lacks); ACCESS_DENIED (no valid
 *    x-amz-date or Date); MISSING_CONTENT_SHA256 (no x-amz-content-sha256)
 *    / INVALID_ARGUMENT (a value that is neither a hex SHA-256 nor one of
 *    the modes above); TIME_SKEWED; INVALID_ACCESS_KEY; ACCESS_DENIED
 *    (an x-amz-* header other than x-amz-content-sha256 present but not
 *    signed, as S3 does); SIGNATURE_MISMATCH.
 *  - Presigned: the same with AUTH_QUERY_MALFORMED for the syntax errors
 *    (and X-Amz-Expires outside 1..604800); X-Amz-Date more than 15 minutes
 *    ahead of now is TIME_SKEWED, now past X-Amz-Date + X-Amz-Expires is
 *    EXPIRED_REQUEST. Its payload is UNSIGNED-PAYLOAD.
 *  - SigV2 (either form) with req->v4_only: SIGV2_NOT_SUPPORTED, before
 *    anything else is looked at.
 *  - Both an Authorization header and query credentials, an unknown
 *    Authorization scheme or an unparsable query: INVALID_ARGUMENT (S3:
 *    "Only one auth mechanism allowed", "Unsupported Authorization Type").
 *  - SigV2 header: AUTH_V2_MALFORMED (not "AWS ak:...");
 *    ACCESS_DENIED (no valid Date or x-amz-date); INVALID_ARGUMENT (bad
 *    x-amz-content-sha256); TIME_SKEWED; INVALID_ACCESS_KEY;
 *    SIGNATURE_MISMATCH. The payload is unsigned unless
 *    x-amz-content-sha256 gives a hash.
 *  - SigV2 presigned: AUTH_V2_QUERY_MALFORMED (a parameter missing);
 *    ACCESS_DENIED (Expires not a number); EXPIRED_REQUEST;
 *    PRESIGN_V2_TOO_LONG (Expires more than S3_PRESIGN_MAX ahead);
 *    INVALID_ACCESS_KEY; SIGNATURE_MISMATCH (also for a signature that is
 *    not base64 of 20 bytes). Unsigned payload.
 *  - Simple mode: AUTH_MALFORMED for an unparsable Authorization or a user
 *    name that is over 64 bytes, not printable ASCII without '/' and ':',
 *    or empty in a V4 credential (an empty SigV2 access key is anonymous);
 *    INVALID_ARGUMENT for a bad x-amz-content-sha256.
 * On error *out is zeroed, so no half-filled signing key escapes.
 */
enum s3_err s3_auth_check(enum s3_auth_mode mode, const struct s3_auth_req *req,
			  s3_secret_fn secret_fn, void *arg, struct s3_auth *out);

/* SigV4 helpers, exposed for the chunk decoder and unit tests. At most
 * S3_SECRET_MAX bytes of secret are used. */
void s3_sigv4_signing_key(const char *secret, const char *date8, const char *region,
			  const char *service, unsigned char out[32]);

/*
 * aws-chunked body decoder (pull style). Each chunk is
 *   hex-size[;chunk-signature=64hex]\r\n <size bytes> \r\n
 * ending with a zero-size chunk, then optional trailer lines "name:value\r\n"
 * and a final "\r\n". With verify (SigV4, signed streaming), every chunk's
 * signature is checked: string to sign is
 *   "AWS4-HMAC-SHA256-PAYLOAD\n" amz_date "\n" scope "\n" previous-signature
 *   "\n" hex(sha256("")) "\n" hex(sha256(chunk data))
 * chained from the seed signature; a bad one fails the read at the end of
 * that chunk (the caller discards what it staged). Chunk sizes are capped
 * (16 MiB) and header lines are capped (4 KiB): a malformed body is
 * INVALID_CHUNK, a short one INCOMPLETE_BODY, a bad signature
 * SIGNATURE_MISMATCH.
 *
 * Size lines and the CRLF after each chunk's data must be CRLF; trailer
 * lines (and the final empty line) may end in LF alone. Trailers are
 * refused (INVALID_CHUNK) when auth says STREAMING-AWS4-HMAC-SHA256-PAYLOAD,
 * since nothing would sign them. With verify in the signed-trailer mode the
 * trailer must carry x-amz-trailer-signature, checked with string to sign
 *   "AWS4-HMAC-SHA256-TRAILER\n" amz_date "\n" scope "\n" final-chunk-sig
 *   "\n" hex(sha256(each other trailer as "name:value\n"))
 * (names lower-cased, values trimmed).
 *
 * The decoder never asks the source for more bytes than a well-formed body
 * must still contain, so a keep-alive stream is left exactly at the next
 * request. After an error framing is lost: the caller must close the
 * connection. A source error (<0) or early EOF is INCOMPLETE_BODY; errors
 * are sticky. Reads must ask for len > 0. One decoder per request, one
 * thread at a time.
 */
typedef long (*s3_read_fn)(void *arg, void *buf, size_t len); /* >0, 0 = EOF, <0 error */

#define S3_CHUNKED_TRAILER_MAX 1024

struct s3_chunked {
	s3_read_fn read;
	void *arg;
	const struct s3_auth *auth; /* verify chunk signatures when non-NULL */
	/* decoder state, private */
	unsigned char in[8192];
	size_t in_pos, in_len;
	uint64_t chunk_left;        /* data bytes left in the current chunk */
	int state;
	int done;
	char chunk_sig[65];         /* signature claimed for the current chunk */
	char prev_sig[65];
	struct hash chunk_hash;     /* current chunk's data, then the trailers */
	uint64_t decoded;           /* data bytes returned so far */
	char trailers[S3_CHUNKED_TRAILER_MAX]; /* "name:value\0"..., names lower-case */
	size_t trailers_len;
	int have_trailer_sig;       /* x-amz-trailer-signature seen (in chunk_sig) */
	enum s3_err err;            /* sticky error once state is the error state */
};

void s3_chunked_init(struct s3_chunked *c, s3_read_fn fn, void *arg,
		     const struct s3_auth *verify_or_null);
/* Decoded bytes (>0); 0 once the final chunk and trailers are consumed;
 * -1 with *err set on any error. */
long s3_chunked_read(struct s3_chunked *c, void *buf, size_t len, enum s3_err *err);
/* A trailer's value (NUL-terminated, in c) or NULL; valid after read returns 0. */
const char *s3_chunked_trailer(const struct s3_chunked *c, const char *name);
void s3_chunked_release(struct s3_chunked *c);

#endif
