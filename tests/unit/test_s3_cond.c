/* Preconditions (s3/s3_cond.c): ETag lists and AWS's order of the four
 * conditional headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "s3/s3_cond.h"

#define ETAG "9a0364b9e99bb480dd25e1f0284c8555"
#define T ((time_t)1369353600)              /* Fri, 24 May 2013 00:00:00 GMT */
#define BEFORE "Thu, 23 May 2013 23:59:59 GMT"
#define SAME "Fri, 24 May 2013 00:00:00 GMT"
#define AFTER "Fri, 24 May 2013 00:00:01 GMT"

static void etag_lists(void **state)
{
	static const struct { const char *list; int match; } cases[] = {
		{ "\"" ETAG "\"", 1 }, { ETAG, 1 }, { "*", 1 }, { " * ", 1 },
		{ "\"9A0364B9E99BB480DD25E1F0284C8555\"", 1 },
		{ "W/\"" ETAG "\"", 1 },
		{ "\"aaa\", \"" ETAG "\"", 1 }, { "\"aaa\",\"bbb\"", 0 }, { "\"aaa\" , *", 1 },
		{ "\"" ETAG "x\"", 0 }, { "\"9a0364b9e99bb480dd25e1f0284c855\"", 0 },
		{ "", 0 }, { ",,", 0 }, { "\"\"", 0 }, { "\"", 0 }, { "**", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (s3_etag_match(cases[i].list, ETAG) != cases[i].match)
			fail_msg("'%s' should %smatch", cases[i].list, cases[i].match ? "" : "not ");
}

static void order(void **state)
{
	static const struct {
		const char *im, *inm, *ims, *ius;
		enum s3_cond want;
	} cases[] = {
		{ NULL, NULL, NULL, NULL, S3_COND_OK },
		{ ETAG, NULL, NULL, NULL, S3_COND_OK },
		{ "\"x\"", NULL, NULL, NULL, S3_COND_FAILED },
		{ NULL, ETAG, NULL, NULL, S3_COND_NOT_MODIFIED },
		{ NULL, "*", NULL, NULL, S3_COND_NOT_MODIFIED },
		{ NULL, "\"x\"", NULL, NULL, S3_COND_OK },
		{ NULL, NULL, BEFORE, NULL, S3_COND_OK },          /* modified since */
		{ NULL, NULL, SAME, NULL, S3_COND_NOT_MODIFIED },
		{ NULL, NULL, AFTER, NULL, S3_COND_NOT_MODIFIED },
		{ NULL, NULL, NULL, BEFORE, S3_COND_FAILED },      /* modified since */
		{ NULL, NULL, NULL, SAME, S3_COND_OK },
		{ NULL, NULL, NULL, AFTER, S3_COND_OK },
		/* AWS: If-Match true and If-Unmodified-Since false -> 200 */
		{ ETAG, NULL, NULL, BEFORE, S3_COND_OK },
		/* AWS: If-None-Match false and If-Modified-Since true -> 304 */
		{ NULL, ETAG, BEFORE, NULL, S3_COND_NOT_MODIFIED },
		/* If-None-Match true wins over a false If-Modified-Since */
		{ NULL, "\"x\"", AFTER, NULL, S3_COND_OK },
		/* 412 comes before 304 */
		{ "\"x\"", ETAG, NULL, NULL, S3_COND_FAILED },
		{ NULL, ETAG, NULL, BEFORE, S3_COND_FAILED },
		{ ETAG, ETAG, NULL, NULL, S3_COND_NOT_MODIFIED },
		/* a date that does not parse is ignored */
		{ NULL, NULL, "yesterday", NULL, S3_COND_OK },
		{ NULL, NULL, NULL, "2013-05-23", S3_COND_OK },
		/* RFC 850 and asctime forms */
		{ NULL, NULL, "Friday, 24-May-13 00:00:00 GMT", NULL, S3_COND_NOT_MODIFIED },
		{ NULL, NULL, NULL, "Thu May 23 23:59:59 2013", S3_COND_FAILED },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct s3_cond_hdrs h = { cases[i].im, cases[i].inm, cases[i].ims, cases[i].ius };
		enum s3_cond got = s3_cond_eval(&h, ETAG, T);
		if (got != cases[i].want)
			fail_msg("case %zu: got %d, want %d", i, got, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(etag_lists),
		cmocka_unit_test(order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
