/*
 * s3_cond — HTTP preconditions as S3 evaluates them (RFC 9110 §13.2.2).
 *
 * GET and HEAD: If-Match, then (only without If-Match) If-Unmodified-Since
 * fail with 412; then If-None-Match, then (only without If-None-Match)
 * If-Modified-Since answer 304. So If-Match true wins over a false
 * If-Unmodified-Since, and If-None-Match false wins over a true
 * If-Modified-Since — AWS's documented pairs. CopyObject's
 * x-amz-copy-source-if-* headers are the same four with 412 where a GET
 * would say 304.
 *
 * Entity tags: a comma-separated list of ETags, quoted or not ("W/" weak
 * tags compare by their opaque part), or "*", which matches any existing
 * object. Dates are HTTP-dates (RFC 1123, RFC 850, asctime); one that does
 * not parse makes its header ignored, as RFC 9110 says. Times compare in
 * whole seconds, the resolution of Last-Modified.
 *
 * Pure and thread-safe.
 */
#ifndef S3_S3_COND_H
#define S3_S3_COND_H

#include <time.h>

enum s3_cond {
	S3_COND_OK,
	S3_COND_NOT_MODIFIED, /* 304 */
	S3_COND_FAILED,       /* 412 PreconditionFailed */
};

struct s3_cond_hdrs {
	const char *if_match;
	const char *if_none_match;
	const char *if_modified_since;
	const char *if_unmodified_since;
};

/* 1 if list (an If-Match / If-None-Match value) names etag (hex, no quotes). */
int s3_etag_match(const char *list, const char *etag);

/* Evaluates the preconditions against an existing object. */
enum s3_cond s3_cond_eval(const struct s3_cond_hdrs *h, const char *etag, time_t mtime);

#endif
