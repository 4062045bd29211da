#include "common/timefmt.h"

#include <stdio.h>
#include <string.h>

void time_fmt_rfc1123(time_t t, char out[TIMEFMT_LEN])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, TIMEFMT_LEN, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

void time_fmt_iso8601_ms(int64_t ns, char out[TIMEFMT_LEN])
{
	time_t t = (time_t)(ns / 1000000000);
	int ms = (int)((ns % 1000000000) / 1000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t n = strftime(out, TIMEFMT_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, TIMEFMT_LEN - n, ".%03dZ", ms < 0 ? 0 : ms);
}

void time_fmt_amz(time_t t, char out[TIMEFMT_LEN])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, TIMEFMT_LEN, "%Y%m%dT%H%M%SZ", &tm);
}

static int parse_full(const char *s, const char *fmt, time_t *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(s, fmt, &tm);
	if (!end || *end)
		return -1;
	*out = timegm(&tm);
	return 0;
}

int time_parse_amz(const char *s, time_t *out)
{
	char back[TIMEFMT_LEN];
	if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z' ||
	    parse_full(s, "%Y%m%dT%H%M%SZ", out))
		return -1;
	/* strptime takes "2013 524" and Feb 31: accept only what formats back the same. */
	time_fmt_amz(*out, back);
	return strcmp(back, s) ? -1 : 0;
}

int time_parse_http(const char *s, time_t *out)
{
	if (!parse_full(s, "%a, %d %b %Y %H:%M:%S GMT", out))
		return 0;
	/* RFC 822's numeric zone, as SigV2 clients (and AWS's examples) send it. */
	if (!parse_full(s, "%a, %d %b %Y %H:%M:%S +0000", out))
		return 0;
	if (!parse_full(s, "%A, %d-%b-%y %H:%M:%S GMT", out))
		return 0;
	return parse_full(s, "%a %b %e %H:%M:%S %Y", out);
}

int64_t time_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
