/* test_s3_cors — the CORS configuration document and matching
 * (s3/s3_cors_doc.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "s3/s3_cors.h"

#define DOC(rules) "<CORSConfiguration>" rules "</CORSConfiguration>"
#define RULE(inner) "<CORSRule>" inner "</CORSRule>"
#define OK "<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin>"

static enum s3_err parse(const char *xml, struct s3_cors *c)
{
	char msg[512];
	return s3_cors_parse(xml, strlen(xml), c, msg, sizeof(msg));
}

static void documents(void **state)
{
	static const struct {
		const char *xml;
		enum s3_err want;
	} cases[] = {
		{ DOC(RULE(OK)), S3_ERR_OK },
		{ DOC(RULE(OK "<AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader>"
			   "<MaxAgeSeconds>0</MaxAgeSeconds><ID>x</ID>")), S3_ERR_OK },
		{ DOC(""), S3_ERR_MALFORMED_XML },
		{ "<Other/>", S3_ERR_MALFORMED_XML },
		{ DOC(RULE("<AllowedOrigin>*</AllowedOrigin>")), S3_ERR_MALFORMED_XML },
		{ DOC(RULE("<AllowedMethod>get</AllowedMethod><AllowedOrigin>*</AllowedOrigin>")),
		  S3_ERR_CORS_INVALID },
		{ DOC(RULE("<AllowedMethod>GET</AllowedMethod><AllowedOrigin>a*b*</AllowedOrigin>")),
		  S3_ERR_CORS_INVALID },
		{ DOC(RULE("<AllowedMethod>GET</AllowedMethod><AllowedOrigin>a&#10;b</AllowedOrigin>")),
		  S3_ERR_CORS_INVALID },
		{ DOC(RULE(OK "<MaxAgeSeconds>-1</MaxAgeSeconds>")), S3_ERR_MALFORMED_XML },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct s3_cors c;
		assert_int_equal(parse(cases[i].xml, &c), cases[i].want);
		s3_cors_free(&c);
	}
}

static void round_trip_and_match(void **state)
{
	const char *xml = DOC(
		RULE("<ID>web</ID><AllowedHeader>content-type</AllowedHeader>"
		     "<AllowedHeader>x-amz-*</AllowedHeader><AllowedMethod>PUT</AllowedMethod>"
		     "<AllowedMethod>GET</AllowedMethod><AllowedOrigin>https://*.example.org"
		     "</AllowedOrigin><ExposeHeader>ETag</ExposeHeader>"
		     "<MaxAgeSeconds>600</MaxAgeSeconds>")
		RULE(OK));
	struct s3_cors c, again;
	struct buf b = BUF_INIT(1 << 16), b2 = BUF_INIT(1 << 16), h = BUF_INIT(1 << 16);
	assert_int_equal(parse(xml, &c), S3_ERR_OK);
	assert_int_equal(c.n, 2);
	assert_int_equal(s3_cors_xml(&c, &b), 0);
	assert_int_equal(parse(b.ptr, &again), S3_ERR_OK);
	assert_int_equal(s3_cors_xml(&again, &b2), 0);
	assert_string_equal(b.ptr, b2.ptr);
	assert_non_null(strstr(b.ptr, "<AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT"));

	const struct s3_cors_rule *r = s3_cors_match(&c, "https://a.example.org", "PUT",
						     "Content-Type, x-amz-date");
	assert_ptr_equal(r, &c.rules[0]);
	assert_int_equal(s3_cors_headers(r, "https://a.example.org", "Content-Type, x-amz-date", 1,
					 &h), 0);
	assert_string_equal(h.ptr, "Access-Control-Allow-Origin: https://a.example.org\r\n"
				   "Access-Control-Allow-Credentials: true\r\n"
				   "Access-Control-Allow-Methods: GET, PUT\r\n"
				   "Access-Control-Allow-Headers: Content-Type, x-amz-date\r\n"
				   "Access-Control-Expose-Headers: ETag\r\n"
				   "Access-Control-Max-Age: 600\r\n");
	/* a header no rule allows; another method; the suffix must match */
	assert_null(s3_cors_match(&c, "https://a.example.org", "PUT", "authorization"));
	assert_null(s3_cors_match(&c, "https://a.example.org", "DELETE", NULL));
	assert_null(s3_cors_match(&c, "https://a.example.org.evil", "PUT", NULL));
	assert_null(s3_cors_match(&c, "https://x", "PATCH", NULL));
	/* the "*" rule: GET from anywhere, answered with "*" */
	r = s3_cors_match(&c, "http://anyone", "GET", NULL);
	assert_ptr_equal(r, &c.rules[1]);
	buf_reset(&h);
	assert_int_equal(s3_cors_headers(r, "http://anyone", NULL, 0, &h), 0);
	assert_string_equal(h.ptr, "Access-Control-Allow-Origin: *\r\n"
				   "Access-Control-Allow-Methods: GET\r\n");
	s3_cors_free(&c);
	s3_cors_free(&again);
	buf_release(&b);
	buf_release(&b2);
	buf_release(&h);
}

static void rule_limit(void **state)
{
	struct buf b = BUF_INIT(1 << 20);
	struct s3_cors c;
	buf_addstr(&b, "<CORSConfiguration>");
	for (int i = 0; i < S3_CORS_RULES_MAX; i++)
		buf_addstr(&b, RULE(OK));
	buf_addstr(&b, "</CORSConfiguration>");
	assert_int_equal(parse(b.ptr, &c), S3_ERR_OK);
	assert_int_equal(c.n, S3_CORS_RULES_MAX);
	s3_cors_free(&c);
	buf_reset(&b);
	buf_addstr(&b, "<CORSConfiguration>");
	for (int i = 0; i <= S3_CORS_RULES_MAX; i++)
		buf_addstr(&b, RULE(OK));
	buf_addstr(&b, "</CORSConfiguration>");
	assert_int_equal(parse(b.ptr, &c), S3_ERR_CORS_INVALID);
	s3_cors_free(&c);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(documents),
		cmocka_unit_test(round_trip_and_match),
		cmocka_unit_test(rule_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
