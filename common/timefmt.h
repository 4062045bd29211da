/*
 * timefmt — the date formats HTTP and S3 use, always in UTC.
 *
 *   RFC 1123   "Tue, 18 Jun 2019 21:24:33 GMT"   (Date, Last-Modified)
 *   ISO 8601   "2019-06-18T21:24:33.029Z"        (XML LastModified)
 *   AMZ basic  "20190618T212433Z"                 (x-amz-date, SigV4)
 * Parsers return 0 and set *out, or -1 on anything malformed.
 */
#ifndef COMMON_TIMEFMT_H
#define COMMON_TIMEFMT_H

#include <stdint.h>
#include <time.h>

#define TIMEFMT_LEN 40

void time_fmt_rfc1123(time_t t, char out[TIMEFMT_LEN]);
void time_fmt_iso8601_ms(int64_t ns, char out[TIMEFMT_LEN]);
void time_fmt_amz(time_t t, char out[TIMEFMT_LEN]);
int time_parse_amz(const char *s, time_t *out);
/* RFC 1123, RFC 850 and asctime forms, as HTTP/1.1 requires of readers,
 * and RFC 1123 with a "+0000" zone (SigV2 Date headers). */
int time_parse_http(const char *s, time_t *out);
/* ISO 8601 in the W3C profiles (what AWS takes in policies): YYYY-MM,
 * YYYY-MM-DD, then optionally "Thh:mm", "Thh:mm:ss" or "Thh:mm:ss.s" with
 * a zone, "Z" or "+hh:mm"/"-hh:mm". Milliseconds since the epoch (digits
 * past the third of a fraction are dropped); a day must exist in its
 * month. Pure arithmetic: no TZ, no locale. */
int time_parse_iso8601(const char *s, int64_t *ms);
int64_t time_now_ns(void);

#endif
