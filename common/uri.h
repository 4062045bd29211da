/*
 * uri — percent-encoding as S3 and SigV4 define it, query strings, UTF-8.
 *
 * uri_encode keeps only RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~)
 * and, when keep_slash is set, '/'; every other byte becomes %XX with
 * upper-case hex. That is exactly SigV4's UriEncode(), and also what S3 uses
 * for encoding-type=url.
 */
#ifndef COMMON_URI_H
#define COMMON_URI_H

#include <stddef.h>

#include "common/buf.h"

int uri_encode(struct buf *out, const char *s, size_t len, int keep_slash);
/* Decodes %XX escapes (and '+' as space when plus_is_space). Returns the new
 * length, written in place (the result is NUL-terminated), or -1 for a
 * malformed escape. A decoded NUL is kept; callers validate. */
long uri_decode_inplace(char *s, size_t len, int plus_is_space);

struct uri_param {
	char *name;  /* decoded */
	char *value; /* decoded; "" when the parameter had no '=' */
	int has_value;
};

#define URI_MAX_PARAMS 64

struct uri_query {
	int n;
	struct uri_param p[URI_MAX_PARAMS];
	char *storage;
};

/* Parses a raw query string (may be NULL). Returns 0, or -1 on a malformed
 * escape or more than URI_MAX_PARAMS parameters. Release with uri_query_release. */
int uri_query_parse(struct uri_query *q, const char *raw);
void uri_query_release(struct uri_query *q);
/* The first parameter named name, or NULL. */
const struct uri_param *uri_query_get(const struct uri_query *q, const char *name);

/* 1 if s[0..len) is well-formed UTF-8 (no overlong forms, no surrogates,
 * nothing above U+10FFFF), else 0. */
int utf8_valid(const char *s, size_t len);
/* 1 if s[0..len) is well-formed UTF-8 whose every character XML 1.0 can
 * carry (escaped or not): no NUL or other C0 control but tab, newline and
 * carriage return, no U+FFFE or U+FFFF. Text that fails this makes any
 * XML document holding it not well-formed, character references included. */
int utf8_xml_valid(const char *s, size_t len);

#endif
