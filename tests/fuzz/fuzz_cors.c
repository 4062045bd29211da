/*
 * fuzz_cors — the CORS configuration (s3/s3_cors_doc.c): PutBucketCors's
 * CORSConfiguration document and the matching of a browser's request.
 *
 * Input: a CORSConfiguration body, then optionally "\n--\n" and three
 * lines: Origin, method, Access-Control-Request-Headers.
 *
 * Properties: errors are only the documented ones; a parsed configuration
 * has 1..100 rules, each with a method and an origin, origins and allowed
 * headers with at most one '*'; written back (what GetBucketCors sends and
 * the core keeps) it parses to the same document; a request matched by a
 * rule gets header lines without CR or LF inside a value (no header
 * injection), and the rule really allows its method. Nothing leaks.
 */
#include <string.h>

#include "common/buf.h"
#include "s3/s3_cors.h"
#include "tests/fuzz/fuzz.h"

static int documented(enum s3_err e)
{
	return e == S3_ERR_MALFORMED_XML || e == S3_ERR_CORS_INVALID || e == S3_ERR_SLOW_DOWN;
}

static int one_star(const struct s3_cors_list *l)
{
	for (int i = 0; i < l->n; i++) {
		const char *s = strchr(l->v[i], '*');
		if (s && strchr(s + 1, '*'))
			return 0;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_cstring(data, size, S3_CORS_BODY_MAX + 4096);
	if (!in)
		return 0;
	char *sep = strstr(in, "\n--\n"), *req = NULL;
	size_t len = strlen(in);
	if (sep) {
		*sep = '\0';
		req = sep + 4;
		len = (size_t)(sep - in);
	}
	struct s3_cors c, again;
	char msg[512];
	enum s3_err e = s3_cors_parse(in, len, &c, msg, sizeof(msg));
	FUZZ_CHECK(e == S3_ERR_OK || documented(e));
	FUZZ_CHECK(memchr(msg, '\0', sizeof(msg)) != NULL);
	if (e == S3_ERR_OK) {
		FUZZ_CHECK(c.n >= 1 && c.n <= S3_CORS_RULES_MAX);
		for (int i = 0; i < c.n; i++) {
			FUZZ_CHECK(c.rules[i].methods && c.rules[i].origins.n);
			FUZZ_CHECK(one_star(&c.rules[i].origins) && one_star(&c.rules[i].headers));
		}
		struct buf b = BUF_INIT(4 * S3_CORS_BODY_MAX), b2 = BUF_INIT(4 * S3_CORS_BODY_MAX);
		FUZZ_CHECK(!s3_cors_xml(&c, &b));
		FUZZ_CHECK(s3_cors_parse(b.ptr, b.len, &again, msg, sizeof(msg)) == S3_ERR_OK);
		FUZZ_CHECK(!s3_cors_xml(&again, &b2));
		FUZZ_CHECK(b.len == b2.len && !memcmp(b.ptr, b2.ptr, b.len));
		s3_cors_free(&again);
		buf_release(&b);
		buf_release(&b2);
		if (req) {
			char *origin = req, *method = strchr(origin, '\n'), *hdrs = NULL;
			if (method) {
				*method++ = '\0';
				if ((hdrs = strchr(method, '\n')))
					*hdrs++ = '\0';
			}
			const struct s3_cors_rule *r = s3_cors_match(&c, origin, method, hdrs);
			if (r) {
				FUZZ_CHECK(r->methods & s3_cors_method(method));
				struct buf h = BUF_INIT(1 << 20);
				if (!s3_cors_headers(r, origin, hdrs, hdrs != NULL, &h) && h.len) {
					/* every line ends in CRLF and holds no other CR or LF */
					for (const char *p = h.ptr; *p;) {
						const char *eol = strstr(p, "\r\n");
						FUZZ_CHECK(eol != NULL);
						FUZZ_CHECK(!memchr(p, '\n', (size_t)(eol - p)) &&
							   !memchr(p, '\r', (size_t)(eol - p)));
						p = eol + 2;
					}
				}
				buf_release(&h);
			}
		}
	}
	s3_cors_free(&c);
	free(in);
	return 0;
}
