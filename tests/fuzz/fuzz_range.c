/*
 * fuzz_range — the Range header (range_parse) and the precondition
 * headers (s3_etag_match, s3_cond_eval) of GET, HEAD, PUT and CopyObject.
 *
 * Input: 8 bytes of object size (little-endian, taken modulo 2^40), then a
 * header value; the value is also read as an ETag list and as dates.
 *
 * Properties: a satisfiable range lies inside the object (first <= last <
 * size); a range is unsatisfiable only if the object is empty, the header
 * is a suffix "-0" or its first byte is at or past the end; a list that
 * names the ETag (quoted) or "*" always matches; conditions with no header
 * are met, and an If-Match naming the ETag never fails.
 */
#include <string.h>

#include "common/range.h"
#include "s3/s3_cond.h"
#include "tests/fuzz/fuzz.h"

#define ETAG "9a0364b9e99bb480dd25e1f0284c8555"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t osize = 0, first = 0, last = 0;
	if (size < 8 || size > 4096)
		return 0;
	for (int i = 7; i >= 0; i--)
		osize = osize << 8 | data[i];
	osize &= (1ull << 40) - 1;
	char *h = malloc(size - 8 + 1);
	if (!h)
		return 0;
	memcpy(h, data + 8, size - 8);
	h[size - 8] = '\0';

	switch (range_parse(h, osize, &first, &last)) {
	case RANGE_OK:
		FUZZ_CHECK(first <= last && last < osize);
		break;
	case RANGE_UNSATISFIABLE:
		FUZZ_CHECK(osize == 0 || strchr(h, '-'));
		break;
	case RANGE_NONE:
		break;
	}
	FUZZ_CHECK(range_parse(NULL, osize, &first, &last) == RANGE_NONE);

	(void)s3_etag_match(h, ETAG);
	FUZZ_CHECK(s3_etag_match("\"" ETAG "\"", ETAG) && s3_etag_match("*", ETAG));
	struct s3_cond_hdrs none = { 0 };
	FUZZ_CHECK(s3_cond_eval(&none, h, (time_t)osize) == S3_COND_OK);
	struct s3_cond_hdrs all = { h, h, h, h };
	(void)s3_cond_eval(&all, ETAG, (time_t)osize);
	struct s3_cond_hdrs match = { .if_match = ETAG, .if_unmodified_since = h };
	FUZZ_CHECK(s3_cond_eval(&match, ETAG, (time_t)osize) != S3_COND_FAILED);
	free(h);
	return 0;
}
