/* daemon/console.c: which requests are the console's (console_claims),
 * its answers (files, 304, the redirect) and their security headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_conn.h"
#include "daemon/console.h"

#define HTML "text/html,application/xhtml+xml,*/*;q=0.8"

static const struct {
	const char *method, *target;
	const char *hdrs[7];
	int claimed;
} cases[] = {
	{ "GET", "/console/", { NULL }, 1 },
	{ "GET", "/console/index.html", { NULL }, 1 },
	{ "HEAD", "/console/app.js", { NULL }, 1 },
	{ "GET", "/console/style.css", { "Accept", HTML, NULL }, 1 },
	{ "GET", "/", { "Accept", HTML, NULL }, 1 },          /* the redirect */
	{ "GET", "/console", { "Accept", HTML, NULL }, 1 },   /* the redirect */
	{ "GET", "/", { NULL }, 0 },                          /* ListBuckets */
	{ "GET", "/", { "Accept", "*/*", NULL }, 0 },
	{ "GET", "/console", { NULL }, 0 },                   /* ListObjects of "console" */
	{ "GET", "/", { "Accept", HTML, "Authorization", "AWS4-HMAC-SHA256 x", NULL }, 0 },
	{ "GET", "/?X-Amz-Signature=00", { "Accept", HTML, NULL }, 0 },
	{ "GET", "/console/?list-type=2", { NULL }, 0 },
	{ "GET", "/console/index.html", { "Authorization", "AWS4-HMAC-SHA256 x", NULL }, 0 },
	{ "GET", "/console/no-such-file", { NULL }, 0 },      /* a key of bucket "console" */
	{ "GET", "/console/index.html/x", { NULL }, 0 },
	{ "PUT", "/console/index.html", { NULL }, 0 },
	{ "DELETE", "/console/", { NULL }, 0 },
	{ "POST", "/", { "Accept", HTML, NULL }, 0 },
	{ "GET", "/console/", { "Host", "console.s3.example:9000", NULL }, 0 }, /* virtual host */
	{ "GET", "/", { "Host", "b.s3.example.", "Accept", HTML, NULL }, 0 },
	{ "GET", "/console/", { "Host", "s3.example:9000", NULL }, 1 },         /* the domain itself */
};

static void claims(void **state)
{
	struct console *c = console_new("s3.example");
	assert_non_null(c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mg_connection conn;
		fake_conn_init(&conn, cases[i].method, cases[i].target, cases[i].hdrs, NULL, 0);
		if (console_claims(c, &conn) != cases[i].claimed)
			fail_msg("case %zu: %s %s: claimed should be %d", i, cases[i].method,
				 cases[i].target, cases[i].claimed);
		fake_conn_release(&conn);
	}
	console_free(c);
}

static void security_headers(const struct mg_connection *conn)
{
	char v[512];
	assert_non_null(fake_header(conn, "Content-Security-Policy", v, sizeof(v)));
	assert_non_null(strstr(v, "default-src 'self'"));
	assert_non_null(strstr(v, "script-src 'self';"));
	assert_non_null(strstr(v, "frame-ancestors 'none'"));
	assert_null(strstr(v, "unsafe"));
	assert_string_equal(fake_header(conn, "X-Content-Type-Options", v, sizeof(v)), "nosniff");
}

static void files_and_revalidation(void **state)
{
	struct console *c = console_new(NULL);
	struct mg_connection conn;
	uint64_t sent;
	char v[256], etag[64];
	fake_conn_init(&conn, "GET", "/console/", NULL, NULL, 0);
	assert_int_equal(console_handle(c, &conn, &sent), 200);
	assert_int_equal(fake_status(&conn), 200);
	security_headers(&conn);
	assert_string_equal(fake_header(&conn, "Content-Type", v, sizeof(v)),
			    "text/html; charset=utf-8");
	assert_string_equal(fake_header(&conn, "Cache-Control", v, sizeof(v)), "no-cache");
	assert_non_null(fake_header(&conn, "ETag", etag, sizeof(etag)));
	assert_non_null(strstr(fake_body(&conn), "<script type=\"module\" src=\"app.js\">"));
	fake_conn_release(&conn);

	const char *inm[] = { "If-None-Match", etag, NULL };
	fake_conn_init(&conn, "GET", "/console/index.html", inm, NULL, 0);
	assert_int_equal(console_handle(c, &conn, &sent), 304);
	assert_string_equal(fake_body(&conn), "");
	security_headers(&conn);
	fake_conn_release(&conn);

	fake_conn_init(&conn, "HEAD", "/console/app.js", NULL, NULL, 0);
	assert_int_equal(console_handle(c, &conn, &sent), 200);
	assert_string_equal(fake_body(&conn), "");
	assert_string_equal(fake_header(&conn, "Content-Type", v, sizeof(v)),
			    "text/javascript; charset=utf-8");
	fake_conn_release(&conn);
	console_free(c);
}

static void redirect(void **state)
{
	struct console *c = console_new(NULL);
	struct mg_connection conn;
	uint64_t sent;
	char v[256];
	const char *h[] = { "Accept", HTML, NULL };
	fake_conn_init(&conn, "GET", "/", h, NULL, 0);
	assert_int_equal(console_handle(c, &conn, &sent), 302);
	assert_int_equal(fake_status(&conn), 302);
	assert_string_equal(fake_header(&conn, "Location", v, sizeof(v)), "/console/");
	assert_string_equal(fake_header(&conn, "Cache-Control", v, sizeof(v)), "no-store");
	assert_non_null(strstr(fake_header(&conn, "Vary", v, sizeof(v)), "Accept"));
	security_headers(&conn);
	fake_conn_release(&conn);
	console_free(c);
}

static void content_types(void **state)
{
	assert_string_equal(console_content_type("index.html"), "text/html; charset=utf-8");
	assert_string_equal(console_content_type("a.js"), "text/javascript; charset=utf-8");
	assert_string_equal(console_content_type("a.css"), "text/css; charset=utf-8");
	assert_string_equal(console_content_type("icon.svg"), "image/svg+xml");
	assert_string_equal(console_content_type("js"), "application/octet-stream");
	assert_string_equal(console_content_type("x.bin"), "application/octet-stream");
	/* every embedded file has a type of its own */
	for (size_t i = 0; i < console_nfiles; i++)
		assert_string_not_equal(console_content_type(console_files[i].name),
					"application/octet-stream");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(claims),
		cmocka_unit_test(files_and_revalidation),
		cmocka_unit_test(redirect),
		cmocka_unit_test(content_types),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
