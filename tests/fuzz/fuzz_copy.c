/*
 * fuzz_copy — CopyObject's and UploadPartCopy's headers (s3/s3_copy.c):
 * x-amz-copy-source ("[/]bucket/key[?versionId=null]", percent-encoded,
 * s3_copy_source_parse) and x-amz-copy-source-range ("bytes=first-last"
 * against the source's size, s3_copy_range_parse).
 *
 * Input: 8 bytes of source size (little-endian), then a header value,
 * read as both headers.
 *
 * Properties: copy-source errors are InvalidArgument-class ones
 * (InvalidCopySource, InvalidVersionId) with no key returned; on success
 * the bucket is 1..63 bytes without '/' or NUL, the key non-empty, and
 * both, encoded back (UriEncode, '/' kept in the key), parse to the same
 * bucket and key; without '%' in the input they are its very bytes. A
 * range is Malformed or Invalid, or inside the source (first + len <=
 * size, len >= 1), and "bytes=first-last" formatted back parses the same.
 */
#include <inttypes.h>
#include <string.h>

#include "common/buf.h"
#include "common/uri.h"
#include "s3/s3_int.h"
#include "tests/fuzz/fuzz.h"

#define INPUT_MAX (16 * 1024)

static void check_source(const char *h)
{
	char bucket[ATR_BUCKET_MAX + 1], bucket2[ATR_BUCKET_MAX + 1], vid[ATR_VID_MAX + 1];
	char *key = (char *)1, *key2 = NULL;
	enum s3_err e = s3_copy_source_parse(h, bucket, &key, vid);
	if (e) {
		FUZZ_CHECK(e == S3_ERR_INVALID_COPY_SOURCE || e == S3_ERR_INVALID_VERSION_ID ||
			   e == S3_ERR_SLOW_DOWN);
		FUZZ_CHECK(key == NULL);
		return;
	}
	size_t bl = strlen(bucket);
	FUZZ_CHECK(bl >= 1 && bl <= ATR_BUCKET_MAX && !strchr(bucket, '/'));
	FUZZ_CHECK(key && *key);

	size_t path = strcspn(h, "?");
	if (!memchr(h, '%', path)) {
		/* The bytes of the header: [/]bucket/key */
		const char *p = h + (*h == '/');
		FUZZ_CHECK(!strncmp(p, bucket, bl) && p[bl] == '/');
		FUZZ_CHECK(strlen(key) == path - (size_t)(p + bl + 1 - h) &&
			   !strncmp(p + bl + 1, key, strlen(key)));
	}

	struct buf b = BUF_INIT(3 * INPUT_MAX + 64);
	FUZZ_CHECK(!uri_encode(&b, bucket, bl, 0) && !buf_addstr(&b, "/") &&
		   !uri_encode(&b, key, strlen(key), 1) && !buf_addstr(&b, "?versionId=null"));
	FUZZ_CHECK(s3_copy_source_parse(b.ptr, bucket2, &key2, vid) == S3_ERR_OK);
	FUZZ_CHECK(!strcmp(bucket, bucket2) && !strcmp(key, key2));
	free(key2);
	buf_release(&b);
	free(key);
}

static void check_range(const char *h, uint64_t size)
{
	uint64_t first = 0, len = 0, f2 = 0, l2 = 0;
	enum s3_err e = s3_copy_range_parse(h, size, &first, &len);
	if (e) {
		FUZZ_CHECK(e == S3_ERR_COPY_RANGE_MALFORMED || e == S3_ERR_COPY_RANGE_INVALID);
		return;
	}
	FUZZ_CHECK(len >= 1 && first < size && len <= size - first);
	char again[64];
	snprintf(again, sizeof(again), "bytes=%" PRIu64 "-%" PRIu64, first, first + len - 1);
	FUZZ_CHECK(s3_copy_range_parse(again, size, &f2, &l2) == S3_ERR_OK);
	FUZZ_CHECK(f2 == first && l2 == len);
	/* The same range of a source one byte shorter than its end is invalid. */
	FUZZ_CHECK(s3_copy_range_parse(h, first + len - 1, &f2, &l2) == S3_ERR_COPY_RANGE_INVALID);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t osize = 0;
	if (size < 8 || size > INPUT_MAX)
		return 0;
	for (int i = 7; i >= 0; i--)
		osize = osize << 8 | data[i];
	char *h = malloc(size - 8 + 1);
	if (!h)
		return 0;
	memcpy(h, data + 8, size - 8);
	h[size - 8] = '\0';
	check_source(h);
	check_range(h, osize);
	free(h);
	return 0;
}
