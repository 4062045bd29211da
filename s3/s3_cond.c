#include "s3/s3_cond.h"

#include <string.h>
#include <strings.h>

#include "common/timefmt.h"
#include "common/banned.h"

int s3_etag_match(const char *list, const char *etag)
{
	size_t elen = strlen(etag);
	const char *p = list;

	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		size_t n = strcspn(p, ",");
		const char *next = p + n;
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 1 && *p == '*')
			return 1;
		if (n > 2 && !strncmp(p, "W/", 2)) {
			p += 2;
			n -= 2;
		}
		if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
			p++;
			n -= 2;
		}
		/* ETags are hex; clients differ in its case. */
		if (n == elen && !strncasecmp(p, etag, n))
			return 1;
		p = next;
	}
	return 0;
}

/* -1: absent or not a date (ignored); 0: the object is not newer; 1: it is. */
static int newer_than(const char *date, time_t mtime)
{
	time_t t;
	if (!date || time_parse_http(date, &t))
		return -1;
	return mtime > t;
}

enum s3_cond s3_cond_eval(const struct s3_cond_hdrs *h, const char *etag, time_t mtime)
{
	if (h->if_match) {
		if (!s3_etag_match(h->if_match, etag))
			return S3_COND_FAILED;
	} else if (newer_than(h->if_unmodified_since, mtime) == 1) {
		return S3_COND_FAILED;
	}
	if (h->if_none_match) {
		if (s3_etag_match(h->if_none_match, etag))
			return S3_COND_NOT_MODIFIED;
	} else if (newer_than(h->if_modified_since, mtime) == 0) {
		return S3_COND_NOT_MODIFIED;
	}
	return S3_COND_OK;
}
