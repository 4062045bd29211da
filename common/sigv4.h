/*
 * sigv4 — signing an HTTP request with AWS Signature Version 4 (header
 * form), as a client: the other half of a server's verifier.
 *
 * The signed headers are host, x-amz-content-sha256, x-amz-date and at
 * most one more x-amz-* header (amz_name, e.g. x-amz-copy-source: S3 wants
 * every x-amz-* header signed); the caller sends them with the values
 * given/returned here, the
 * path encoded as sigv4_sign encodes it for the canonical URI (each byte
 * UriEncoded once, '/' kept: use uri_encode(.., keep_slash=1)) and the
 * query exactly as passed. Canonical query: every parameter decoded, then
 * name and value UriEncoded ('/' encoded too), sorted by name then value,
 * "name=" for a parameter without value.
 *
 * No shared state: thread-safe. The secret is copied only into a stack
 * buffer that is wiped before returning.
 */
#ifndef COMMON_SIGV4_H
#define COMMON_SIGV4_H

#include <time.h>

#include "common/buf.h"

struct sigv4_req {
	const char *method;          /* "GET" */
	const char *path;            /* decoded path, e.g. "/bucket/a b" */
	const char *query;           /* raw query as sent (no '?'), or NULL */
	const char *host;            /* Host header value, e.g. "127.0.0.1:39999" */
	const char *payload_sha256;  /* hex SHA-256 of the body, or "UNSIGNED-PAYLOAD" */
	time_t now;
	const char *region;          /* "us-east-1" */
	const char *service;         /* "s3" */
	const char *access_key;
	const char *secret;
	const char *amz_name;        /* one more signed header, lower case, or NULL */
	const char *amz_value;
};

#define SIGV4_DATE_LEN 17 /* "20130524T000000Z" and its NUL */

/* Fills amz_date (the x-amz-date value) and authorization (the
 * Authorization header value, appended to the buf). 0, or -1 on a
 * malformed query, out of memory or a cap of the buf. */
int sigv4_sign(const struct sigv4_req *r, char amz_date[SIGV4_DATE_LEN], struct buf *authorization);

/* The canonical query string of a raw query (exposed for tests). */
int sigv4_canonical_query(const char *query, struct buf *out);

#endif
