#include "common/range.h"

#include <string.h>
#include <strings.h>
#include "common/banned.h"

static const char *skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Digits into *v; NULL if none or on overflow, else the first non-digit. */
static const char *parse_num(const char *p, uint64_t *v)
{
	const char *start = p;
	uint64_t n = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		uint64_t d = (uint64_t)(*p - '0');
		if (n > (UINT64_MAX - d) / 10)
			return NULL;
		n = n * 10 + d;
	}
	if (p == start)
		return NULL;
	*v = n;
	return p;
}

enum range_result range_parse(const char *h, uint64_t size, uint64_t *first, uint64_t *last)
{
	uint64_t a = 0, b = 0;
	int suffix = 0, open = 0;
	const char *p;

	if (!h)
		return RANGE_NONE;
	p = skip_ows(h);
	if (strncasecmp(p, "bytes", 5))
		return RANGE_NONE;
	p = skip_ows(p + 5);
	if (*p++ != '=')
		return RANGE_NONE;
	p = skip_ows(p);
	if (*p == '-') {
		suffix = 1;
		if (!(p = parse_num(p + 1, &b)))
			return RANGE_NONE;
	} else {
		if (!(p = parse_num(p, &a)) || *p++ != '-')
			return RANGE_NONE;
		if (*p >= '0' && *p <= '9') {
			if (!(p = parse_num(p, &b)))
				return RANGE_NONE;
			if (b < a)
				return RANGE_NONE; /* not a valid byte-range-spec: ignored */
		} else {
			open = 1;
		}
	}
	p = skip_ows(p);
	if (*p)
		return RANGE_NONE; /* several ranges (or trailing junk): the whole object */

	if (suffix) {
		if (b == 0 || size == 0)
			return RANGE_UNSATISFIABLE;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return RANGE_OK;
	}
	if (a >= size)
		return RANGE_UNSATISFIABLE;
	*first = a;
	*last = open || b >= size ? size - 1 : b;
	return RANGE_OK;
}
