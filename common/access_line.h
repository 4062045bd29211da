/*
 * access_line — one request as a line of Amazon S3's server access log
 * format, which both the daemon's --access-log and bucket logging write:
 *
 *   OWNER BUCKET [06/Feb/2019:00:00:38 +0000] REMOTE-IP REQUESTER REQUEST-ID
 *   OPERATION KEY "REQUEST-URI" STATUS ERROR-CODE BYTES-SENT OBJECT-SIZE
 *   TOTAL-TIME TURN-AROUND-TIME "REFERER" "USER-AGENT" VERSION-ID HOST-ID
 *   SIGNATURE-VERSION CIPHER-SUITE AUTH-TYPE HOST-HEADER TLS-VERSION
 *   ACCESS-POINT-ARN ACL-REQUIRED
 *
 * A field without a value is "-". Unquoted fields have every byte outside
 * printable ASCII, a space and '"' written as %XX, so a field never holds
 * a space and a line never breaks; quoted fields keep spaces. The
 * request-URI's signature values (X-Amz-Signature, Signature) are written
 * as "REDACTED": a presigned URL in a log must not be usable. Knows
 * nothing of Atrium: pure formatting.
 */
#ifndef COMMON_ACCESS_LINE_H
#define COMMON_ACCESS_LINE_H

#include <stdint.h>

#include "common/buf.h"

struct access_line {
	const char *bucket_owner, *bucket;
	int64_t time_ns;            /* wall clock when the request arrived */
	const char *remote_ip, *requester, *request_id, *operation, *key;
	const char *method, *path, *query, *http_version; /* the request line, as sent */
	int status;
	const char *error_code;
	int64_t bytes_sent, object_size;     /* -1: none */
	int64_t total_ms, turnaround_ms;     /* -1: none */
	const char *referer, *user_agent, *version_id, *host_id;
	const char *signature_version, *cipher_suite, *auth_type, *host, *tls_version;
};

/* Appends the line (no newline); 0, or -1 if b's cap is reached. */
int access_line_format(struct buf *b, const struct access_line *l);

#endif
