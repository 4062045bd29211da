/*
 * fuzz_cond — conditional request headers: If-Match / If-None-Match lists
 * (s3_etag_match), their evaluation (s3_cond_eval: GET, HEAD, and
 * CopyObject's x-amz-copy-source-if-*), and the date parsers they and
 * SigV4 use (time_parse_http, time_parse_amz in common/timefmt.c).
 *
 * Input: up to five '\n'-separated fields: If-Match, If-None-Match,
 * If-Modified-Since, If-Unmodified-Since, and an object date (an HTTP date;
 * 2013-05-24 if it does not parse); every field is also read as an ETag
 * list and as dates.
 *
 * Properties: a parsed HTTP date formatted as RFC 1123 parses back to the
 * same time; a parsed x-amz-date is exactly what formats back; a list
 * naming the ETag (quoted, weak, upper case, anywhere in the list) or "*"
 * matches, and matching does not depend on the ETag's case or on what is
 * appended after a comma; If-Modified-Since / If-Unmodified-Since at the
 * object's own date give 304 / pass, a second earlier pass / 412; If-Match
 * naming the ETag never fails, If-None-Match naming it is always 304 unless
 * If-Match fails first.
 */
#include <ctype.h>
#include <string.h>

#include "common/buf.h"
#include "common/timefmt.h"
#include "s3/s3_cond.h"
#include "tests/fuzz/fuzz.h"

#define ETAG "9a0364b9e99bb480dd25e1f0284c8555"
#define ETAG_UP "9A0364B9E99BB480DD25E1F0284C8555"
#define INPUT_MAX 4096

static void check_dates(const char *s)
{
	time_t t, t2;
	char back[TIMEFMT_LEN];
	if (!time_parse_http(s, &t)) {
		struct tm tm;
		if (gmtime_r(&t, &tm) && tm.tm_year >= -1900 + 1 && tm.tm_year <= 9999 - 1900) {
			time_fmt_rfc1123(t, back);
			FUZZ_CHECK(time_parse_http(back, &t2) == 0 && t2 == t);
		}
	}
	if (!time_parse_amz(s, &t)) {
		time_fmt_amz(t, back);
		FUZZ_CHECK(!strcmp(back, s));
	}
}

static void check_list(const char *s)
{
	struct buf b = BUF_INIT(INPUT_MAX + 256);
	int m = s3_etag_match(s, ETAG);
	/* ETags compare without regard to case. */
	FUZZ_CHECK(m == s3_etag_match(s, ETAG_UP) || strchr(s, '*'));
	/* Appending an element keeps a match; appending the ETag makes one. */
	FUZZ_CHECK(!buf_addstr(&b, s) && !buf_addstr(&b, ",\"0\""));
	FUZZ_CHECK(s3_etag_match(b.ptr, ETAG) >= m);
	b.len = 0;
	FUZZ_CHECK(!buf_addstr(&b, s) && !buf_addstr(&b, ", W/\"" ETAG_UP "\""));
	FUZZ_CHECK(s3_etag_match(b.ptr, ETAG));
	b.len = 0;
	FUZZ_CHECK(!buf_addstr(&b, ETAG ",") && !buf_addstr(&b, s));
	FUZZ_CHECK(s3_etag_match(b.ptr, ETAG));
	buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstring(data, size, INPUT_MAX);
	if (!s)
		return 0;
	const char *f[5] = { NULL };
	char *p = s;
	for (int i = 0; i < 5 && p; i++) {
		f[i] = p;
		if ((p = strchr(p, '\n')))
			*p++ = '\0';
	}
	for (int i = 0; i < 5; i++) {
		if (!f[i])
			continue;
		check_dates(f[i]);
		check_list(f[i]);
	}
	/* An object's date is after 1970 (and before 10000, as RFC 1123 can
	 * say it: a year formatted as "-1" parses as no date). */
	time_t mtime = 1369353600;
	if (f[4] && (time_parse_http(f[4], &mtime) || mtime < 1 || mtime > 253402300799))
		mtime = 1369353600;

	struct s3_cond_hdrs h = { f[0], f[1], f[2], f[3] };
	enum s3_cond c = s3_cond_eval(&h, ETAG, mtime);
	FUZZ_CHECK(c == S3_COND_OK || c == S3_COND_NOT_MODIFIED || c == S3_COND_FAILED);

	char date[TIMEFMT_LEN], before[TIMEFMT_LEN];
	time_fmt_rfc1123(mtime, date);
	time_fmt_rfc1123(mtime - 1, before);
	struct s3_cond_hdrs ims = { .if_modified_since = date };
	FUZZ_CHECK(s3_cond_eval(&ims, ETAG, mtime) == S3_COND_NOT_MODIFIED);
	ims.if_modified_since = before;
	FUZZ_CHECK(s3_cond_eval(&ims, ETAG, mtime) == S3_COND_OK);
	struct s3_cond_hdrs ius = { .if_unmodified_since = date };
	FUZZ_CHECK(s3_cond_eval(&ius, ETAG, mtime) == S3_COND_OK);
	ius.if_unmodified_since = before;
	FUZZ_CHECK(s3_cond_eval(&ius, ETAG, mtime) == S3_COND_FAILED);

	/* If-Match naming the ETag wins over any If-Unmodified-Since. */
	struct s3_cond_hdrs m = { .if_match = "\"" ETAG "\"", .if_none_match = f[1],
				  .if_modified_since = f[2], .if_unmodified_since = f[3] };
	FUZZ_CHECK(s3_cond_eval(&m, ETAG, mtime) != S3_COND_FAILED);
	/* If-None-Match naming it: 304 unless If-Match fails first. */
	struct s3_cond_hdrs nm = { .if_match = f[0], .if_none_match = "*",
				   .if_modified_since = f[2], .if_unmodified_since = f[3] };
	c = s3_cond_eval(&nm, ETAG, mtime);
	FUZZ_CHECK(c == S3_COND_NOT_MODIFIED || c == S3_COND_FAILED);
	if (f[0] && s3_etag_match(f[0], ETAG))
		FUZZ_CHECK(c == S3_COND_NOT_MODIFIED);
	free(s);
	return 0;
}
