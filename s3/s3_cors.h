/*
 * s3_cors — a bucket's CORS configuration, pure: the CORSConfiguration
 * document (parsed, checked against AWS's rules, written back in one
 * form) and the matching of a browser's request against its rules. No
 * civetweb, no core: unit tests and fuzz_cors feed it plain strings;
 * s3_cors.c's handlers glue it to requests.
 *
 * Rules (AWS's PutBucketCors): 1..S3_CORS_RULES_MAX CORSRule elements,
 * each with at least one AllowedMethod (GET, PUT, HEAD, POST, DELETE,
 * case-sensitive) and one AllowedOrigin; AllowedOrigin and AllowedHeader
 * may hold one '*' each (matching any run of characters); ExposeHeader,
 * MaxAgeSeconds (a non-negative integer) and ID (up to 255 characters)
 * are optional. MALFORMED_XML for a document that is not that shape,
 * CORS_INVALID (InvalidRequest) with msg naming the problem for a value
 * AWS refuses.
 *
 * Matching (AWS's): the first rule whose AllowedOrigin matches the Origin,
 * whose AllowedMethod holds the method (a preflight's
 * Access-Control-Request-Method, else the request's own), and, for a
 * preflight, whose AllowedHeader match every header named in
 * Access-Control-Request-Headers (case-insensitively). Origins compare
 * case-sensitively, as AWS does.
 *
 * Not thread-safe per struct; structs are the caller's.
 */
#ifndef S3_S3_CORS_H
#define S3_S3_CORS_H

#include <stddef.h>

#include "common/buf.h"
#include "s3/s3_err.h"

#define S3_CORS_RULES_MAX 100     /* AWS's */
#define S3_CORS_BODY_MAX (64 * 1024)
#define S3_CORS_ID_MAX 255

enum {
	S3_CORS_GET = 1, S3_CORS_PUT = 2, S3_CORS_HEAD = 4, S3_CORS_POST = 8, S3_CORS_DELETE = 16,
};

struct s3_cors_list {
	char **v;  /* malloc'd strings */
	int n;
};

struct s3_cors_rule {
	char *id;                      /* malloc'd, or NULL */
	unsigned methods;              /* S3_CORS_* bits */
	struct s3_cors_list origins, headers, expose;
	long max_age;                  /* -1: none */
};

struct s3_cors {
	struct s3_cors_rule *rules;    /* malloc'd */
	int n;
};

/* Parses a CORSConfiguration into out (s3_cors_free it whatever the
 * result). msg (msgsize) receives CORS_INVALID's message. */
enum s3_err s3_cors_parse(const char *xml, size_t len, struct s3_cors *out, char *msg,
			  size_t msgsize);
void s3_cors_free(struct s3_cors *c);
/* Appends the configuration as AWS returns it (GetBucketCors); 0 or -1. */
int s3_cors_xml(const struct s3_cors *c, struct buf *b);
/* The S3_CORS_* bit of a method name, 0 for another. */
unsigned s3_cors_method(const char *name);
/* The rule that allows origin to use method (with req_headers, a
 * comma-separated Access-Control-Request-Headers value, or NULL), or NULL. */
const struct s3_cors_rule *s3_cors_match(const struct s3_cors *c, const char *origin,
					 const char *method, const char *req_headers);
/* The response headers a matched request gets ("Name: value\r\n"
 * lines): Access-Control-Allow-Origin ("*" when the rule allows any
 * origin, else the origin, with Access-Control-Allow-Credentials),
 * -Allow-Methods, -Expose-Headers, -Max-Age, and for a preflight
 * (req_headers non-NULL) -Allow-Headers echoing what was asked. 0 or -1. */
int s3_cors_headers(const struct s3_cors_rule *rule, const char *origin,
		    const char *req_headers, int preflight, struct buf *out);

#endif
