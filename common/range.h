/*
 * range — the HTTP Range request header (RFC 9110 §14), as S3 serves it.
 *
 * One byte range is honoured: "bytes=a-b", "bytes=a-" and "bytes=-n".
 * S3 ignores what it does not serve rather than failing: a header that is
 * not a well-formed byte-range set (other unit, "5-2", garbage) and a set
 * of several ranges both get the whole object with 200. A single range
 * whose first byte lies at or past the end (any range of an empty object,
 * and "-0") is unsatisfiable: 416, whose Content-Range gives only the size. A last
 * byte past the end is clamped, and a suffix longer than the object is the
 * whole object (still 206).
 *
 * Pure and thread-safe: nothing here knows HTTP servers or S3.
 */
#ifndef COMMON_RANGE_H
#define COMMON_RANGE_H

#include <stdint.h>

enum range_result {
	RANGE_NONE,          /* no header, or one to ignore: send everything, 200 */
	RANGE_OK,            /* send [first, last], 206 */
	RANGE_UNSATISFIABLE, /* 416 */
};

/* Parses header (may be NULL) against an object of size bytes; on
 * RANGE_OK fills *first and *last (inclusive, last < size). */
enum range_result range_parse(const char *header, uint64_t size, uint64_t *first,
			      uint64_t *last);

#endif
