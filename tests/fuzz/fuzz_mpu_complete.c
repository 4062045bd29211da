/*
 * fuzz_mpu_complete — the CompleteMultipartUpload body reader
 * (s3_mpu_parse_complete in s3/s3_multipart.c) over arbitrary bodies.
 *
 * Input: the body. Properties (its contract in s3_int.h): on success 1 to
 * ATR_PART_MAX parts, each number in 0..ATR_PART_MAX + 1 (out-of-range
 * numbers are left for the core to refuse as InvalidPart) and each ETag a
 * NUL-terminated string that fits, and so each checksum ("" or "ALG:value");
 * on error nothing is returned and the
 * error is MalformedXML (or SlowDown when out of memory); nothing leaks.
 */
#include <string.h>

#include "s3/s3_int.h"
#include "tests/fuzz/fuzz.h"

#define INPUT_MAX (1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct atr_mpu_part *parts = (struct atr_mpu_part *)1;
	int n = -1;
	if (size > INPUT_MAX)
		return 0;
	enum s3_err e = s3_mpu_parse_complete((const char *)data, size, &parts, &n);
	if (e) {
		FUZZ_CHECK(e == S3_ERR_MALFORMED_XML || e == S3_ERR_SLOW_DOWN);
		FUZZ_CHECK(parts == NULL && n == 0);
		return 0;
	}
	FUZZ_CHECK(parts && n >= 1 && n <= ATR_PART_MAX);
	for (int i = 0; i < n; i++) {
		FUZZ_CHECK(parts[i].number >= 0 && parts[i].number <= ATR_PART_MAX + 1);
		FUZZ_CHECK(memchr(parts[i].etag, '\0', sizeof(parts[i].etag)) != NULL);
		/* "" or "ALG:value" (a <ChecksumALG> of the part) */
		FUZZ_CHECK(memchr(parts[i].checksum, '\0', sizeof(parts[i].checksum)) != NULL);
		FUZZ_CHECK(!*parts[i].checksum || strchr(parts[i].checksum, ':'));
	}
	free(parts);
	return 0;
}
