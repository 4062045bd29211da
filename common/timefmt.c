#include "common/timefmt.h"

#include <stdio.h>
#include <string.h>
#include "common/banned.h"

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

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int month_days(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return days[m - 1] + (m == 2 && leap);
}

/* "hh:mm[:ss[.fff]]" then "Z" or "+hh:mm"/"-hh:mm": milliseconds into the
 * day, UTC. */
static int parse_clock(const char *p, int64_t *ms)
{
	int h, mi, se = 0, frac = 0, oh = 0, om = 0;
	if (digits(p, 2, &h) || p[2] != ':' || digits(p + 3, 2, &mi))
		return -1;
	p += 5;
	if (*p == ':') {
		if (digits(p + 1, 2, &se))
			return -1;
		p += 3;
		if (*p == '.') {
			size_t k = strspn(++p, "0123456789");
			if (!k)
				return -1;
			for (size_t i = 0; i < 3; i++)
				frac = frac * 10 + (i < k ? p[i] - '0' : 0);
			p += k;
		}
	}
	if (h > 23 || mi > 59 || se > 60)
		return -1;
	int sign = *p == '+' ? 1 : *p == '-' ? -1 : 0;
	if (sign) {
		if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 ||
		    om > 59)
			return -1;
		p += 6;
	} else if (*p++ != 'Z') {
		return -1;
	}
	if (*p)
		return -1;
	*ms = ((int64_t)h * 3600 + mi * 60 + se - sign * (oh * 3600 + om * 60)) * 1000 + frac;
	return 0;
}

int time_parse_iso8601(const char *s, int64_t *ms)
{
	int y, m, d = 1;
	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &m) || m < 1 || m > 12)
		return -1;
	const char *p = s + 7;
	if (*p == '-') {
		if (digits(p + 1, 2, &d) || d < 1 || d > month_days(y, m))
			return -1;
		p += 3;
	}
	int64_t clock = 0;
	if (*p == 'T') {
		if (p - s != 10 || parse_clock(p + 1, &clock))
			return -1;
	} else if (*p) {
		return -1;
	}
	*ms = days_from_civil(y, m, d) * 86400000 + clock;
	return 0;
}

int64_t time_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
