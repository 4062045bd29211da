/*
 * s3_err — the one table of S3 errors: code string, HTTP status, message.
 *
 * Handlers return an enum s3_err; the dispatcher renders it once as AWS's
 * <Error> XML (Code, Message, Resource, RequestId). s3_err_from_core maps the
 * core's atr error enum onto this table — the only place that mapping lives.
 */
#ifndef S3_S3_ERR_H
#define S3_S3_ERR_H

#define S3_ERRORS(X) \
	X(OK, 200, "OK", "OK") \
	X(ACCESS_DENIED, 403, "AccessDenied", "Access Denied") \
	X(INVALID_ACCESS_KEY, 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.") \
	X(SIGNATURE_MISMATCH, 403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.") \
	X(TIME_SKEWED, 403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.") \
	X(EXPIRED_REQUEST, 403, "AccessDenied", "Request has expired") \
	X(AUTH_MALFORMED, 400, "AuthorizationHeaderMalformed", "The authorization header is malformed.") \
	X(AUTH_QUERY_MALFORMED, 400, "AuthorizationQueryParametersError", "The authorization query parameters are malformed.") \
	X(MISSING_SECURITY_HEADER, 400, "MissingSecurityHeader", "Your request is missing a required header.") \
	X(SHA256_MISMATCH, 400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.") \
	X(INVALID_DIGEST, 400, "InvalidDigest", "The Content-MD5 you specified was invalid.") \
	X(BAD_DIGEST, 400, "BadDigest", "The Content-MD5 you specified did not match what we received.") \
	X(INCOMPLETE_BODY, 400, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.") \
	X(INVALID_CHUNK, 400, "InvalidChunkSizeError", "The aws-chunked body is malformed.") \
	X(MISSING_LENGTH, 411, "MissingContentLength", "You must provide the Content-Length HTTP header.") \
	X(ENTITY_TOO_LARGE, 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.") \
	X(INVALID_BUCKET_NAME, 400, "InvalidBucketName", "The specified bucket is not valid.") \
	X(NO_SUCH_BUCKET, 404, "NoSuchBucket", "The specified bucket does not exist.") \
	X(BUCKET_EXISTS, 409, "BucketAlreadyExists", "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.") \
	X(BUCKET_OWNED, 409, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.") \
	X(BUCKET_NOT_EMPTY, 409, "BucketNotEmpty", "The bucket you tried to delete is not empty.") \
	X(NO_SUCH_KEY, 404, "NoSuchKey", "The specified key does not exist.") \
	X(KEY_TOO_LONG, 400, "KeyTooLongError", "Your key is too long.") \
	X(INVALID_OBJECT_NAME, 400, "InvalidObjectName", "The key cannot be stored as a path: it has an empty, '.' or '..' segment, a NUL byte, or is not valid UTF-8.") \
	X(PARENT_IS_OBJECT, 409, "ParentIsObject", "A prefix of this key is already an object, so the key cannot be a path below it.") \
	X(OBJECT_IS_PREFIX, 409, "ObjectIsPrefix", "Other objects exist below this key used as a prefix, so it cannot be an object itself.") \
	X(METADATA_TOO_LARGE, 400, "MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.") \
	X(MALFORMED_XML, 400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.") \
	X(METHOD_NOT_ALLOWED, 405, "MethodNotAllowed", "The specified method is not allowed against this resource.") \
	X(INVALID_ARGUMENT, 400, "InvalidArgument", "Invalid Argument") \
	X(INVALID_REQUEST, 400, "InvalidRequest", "Invalid Request") \
	X(NOT_IMPLEMENTED, 501, "NotImplemented", "A header or query you provided implies functionality that is not implemented.") \
	X(INSUFFICIENT_STORAGE, 507, "InsufficientStorage", "There is not enough space left on the under-storage to store this object.") \
	X(INTERNAL, 500, "InternalError", "We encountered an internal error. Please try again.") \
	X(SLOW_DOWN, 503, "SlowDown", "Please reduce your request rate.") \
	X(REQUEST_TIMEOUT, 400, "RequestTimeout", "Your socket connection to the server was not read from or written to within the timeout period.")

enum s3_err {
#define S3_ERR_ENUM(name, status, code, msg) S3_ERR_##name,
	S3_ERRORS(S3_ERR_ENUM)
#undef S3_ERR_ENUM
	S3_ERR__COUNT
};

int s3_err_status(enum s3_err e);
const char *s3_err_code(enum s3_err e);
const char *s3_err_message(enum s3_err e);
/* Maps an enum atr_err from the core (src/atrium.h). */
enum s3_err s3_err_from_core(int atr_err);

#endif
