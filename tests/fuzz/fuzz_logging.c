/*
 * fuzz_logging — the BucketLoggingStatus document of PutBucketLogging
 * (s3/s3_logging.c's s3_logging_parse) and the access log line
 * (common/access_line.c) the delivered records are.
 *
 * Input: a BucketLoggingStatus body; its bytes also serve as the fields
 * of an access log line.
 *
 * Properties: errors are only the documented ones; logging on means a
 * valid bucket name as target, and the status written back parses to the
 * same target and prefix; an access log line is one line (no CR or LF),
 * whatever its fields hold. Nothing leaks.
 */
#include <string.h>

#include "common/access_line.h"
#include "common/buf.h"
#include "s3/s3_int.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_cstring(data, size, 32 * 1024);
	if (!in)
		return 0;
	char target[ATR_BUCKET_MAX + 1], t2[ATR_BUCKET_MAX + 1], *prefix = NULL, *p2 = NULL;
	enum s3_err e = s3_logging_parse(in, strlen(in), target, &prefix);
	FUZZ_CHECK(e == S3_ERR_OK || e == S3_ERR_MALFORMED_XML ||
		   e == S3_ERR_INVALID_TARGET_BUCKET || e == S3_ERR_NOT_IMPLEMENTED ||
		   e == S3_ERR_SLOW_DOWN);
	if (e == S3_ERR_OK && *target) {
		struct buf b = BUF_INIT(1 << 20);
		FUZZ_CHECK(atr_bucket_name_valid(target) && prefix);
		/* s3_xml_elem percent-encodes what XML cannot carry: only a
		 * prefix XML can carry comes back the same */
		if (!s3_logging_xml(target, prefix, &b) &&
		    utf8_xml_valid(prefix, strlen(prefix))) {
			FUZZ_CHECK(s3_logging_parse(b.ptr, b.len, t2, &p2) == S3_ERR_OK);
			FUZZ_CHECK(!strcmp(t2, target) && p2 && !strcmp(p2, prefix));
		}
		free(p2);
		buf_release(&b);
	}
	free(prefix);

	struct access_line l = {
		.bucket_owner = in, .bucket = in, .time_ns = (int64_t)size * 1000000007LL,
		.remote_ip = in, .requester = in, .request_id = in, .operation = in, .key = in,
		.method = in, .path = in, .query = in, .http_version = in, .status = 200,
		.error_code = in, .bytes_sent = (int64_t)size - 5, .object_size = -1,
		.total_ms = 1, .turnaround_ms = -1, .referer = in, .user_agent = in,
		.version_id = in, .host_id = in, .signature_version = in, .cipher_suite = in,
		.auth_type = in, .host = in, .tls_version = in,
	};
	struct buf line = BUF_INIT(8 << 20);
	if (!access_line_format(&line, &l))
		FUZZ_CHECK(!memchr(line.ptr, '\n', line.len) && !memchr(line.ptr, '\r', line.len));
	buf_release(&line);
	free(in);
	return 0;
}
