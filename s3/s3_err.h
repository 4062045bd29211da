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
	X(MISSING_CONTENT_SHA256, 400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256") \
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
	X(NO_SUCH_UPLOAD, 404, "NoSuchUpload", "The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.") \
	X(INVALID_PART, 400, "InvalidPart", "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.") \
	X(INVALID_PART_ORDER, 400, "InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number.") \
	X(ENTITY_TOO_SMALL, 400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.") \
	X(MALFORMED_XML, 400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.") \
	X(METHOD_NOT_ALLOWED, 405, "MethodNotAllowed", "The specified method is not allowed against this resource.") \
	X(PRECONDITION_FAILED, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold") \
	X(CONDITIONAL_CONFLICT, 409, "ConditionalRequestConflict", "A conflicting conditional operation is currently in progress against this resource. Please try again.") \
	X(INVALID_RANGE, 416, "InvalidRange", "The requested range is not satisfiable") \
	X(INVALID_PART_NUMBER, 416, "InvalidPartNumber", "The requested partnumber is not satisfiable") \
	X(PART_NUMBER_ARG, 400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive") \
	X(PART_NUMBER_AND_RANGE, 400, "InvalidRequest", "Cannot specify both Range header and partNumber query parameter.") \
	X(CHECKSUM_BAD, 400, "BadDigest", "The checksum you specified did not match the calculated checksum.") \
	X(CHECKSUM_INVALID, 400, "InvalidRequest", "Value for x-amz-checksum header is invalid.") \
	X(CHECKSUM_MULTIPLE, 400, "InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.") \
	X(CHECKSUM_ALG, 400, "InvalidRequest", "Value for x-amz-sdk-checksum-algorithm header is invalid.") \
	X(CHECKSUM_MISSING, 400, "InvalidRequest", "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.") \
	X(MPU_CHECKSUM_ALG, 400, "InvalidRequest", "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]") \
	X(MPU_FULL_OBJECT_ALG, 400, "InvalidRequest", "The FULL_OBJECT checksum type cannot be used with the SHA1 or SHA256 checksum algorithm: full-object checksums are CRCs (CRC32, CRC32C, CRC64NVME).") \
	X(MPU_COMPLETE_NO_ALG, 400, "InvalidRequest", "The upload was created without a checksum algorithm: an object checksum on its completion cannot be verified.") \
	X(MPU_COMPLETE_ALG, 400, "InvalidRequest", "Checksum Type mismatch occurred: the object checksum is not of the upload's checksum algorithm.") \
	X(MPU_CHECKSUM_TYPE_MISMATCH, 400, "BadDigest", "The checksum type you specified did not match the checksum type of the upload.") \
	X(MPU_CHECKSUM_TYPE, 400, "InvalidRequest", "Value for x-amz-checksum-type header is invalid.") \
	X(MPU_CHECKSUM_MISMATCH, 400, "InvalidRequest", "Checksum Type mismatch occurred: the part's checksum is not of the upload's checksum algorithm.") \
	X(MPU_CHECKSUM_MISSING, 400, "InvalidRequest", "The upload was created using a checksum algorithm. The complete request must include the checksum for each part.") \
	X(TAGS_TOO_MANY, 400, "InvalidTag", "Object tags cannot be greater than 10") \
	X(BUCKET_TAGS_TOO_MANY, 400, "InvalidTag", "Bucket tag count cannot be greater than 50") \
	X(NO_SUCH_TAG_SET, 404, "NoSuchTagSet", "The TagSet does not exist") \
	X(TAG_KEY_INVALID, 400, "InvalidTag", "The TagKey you have provided is invalid") \
	X(TAG_VALUE_INVALID, 400, "InvalidTag", "The TagValue you have provided is invalid") \
	X(TAG_KEY_DUPLICATE, 400, "InvalidTag", "Cannot provide multiple Tags with the same key") \
	X(TAG_HEADER_INVALID, 400, "InvalidArgument", "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.") \
	X(INVALID_STORAGE_CLASS, 400, "InvalidStorageClass", "The storage class you specified is not valid") \
	X(ANONYMOUS_OVERRIDE, 400, "InvalidRequest", "Request specific response headers cannot be used for anonymous GET requests.") \
	X(MISSING_CONTENT_MD5, 400, "InvalidRequest", "Missing required header for this request: Content-Md5.") \
	X(COPY_TO_ITSELF, 400, "InvalidRequest", "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.") \
	X(COPY_SOURCE_TOO_LARGE, 400, "InvalidRequest", "The specified copy source is larger than the maximum allowable size for a copy source: 5368709120") \
	X(INVALID_COPY_SOURCE, 400, "InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey") \
	X(COPY_RANGE_MALFORMED, 400, "InvalidArgument", "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy") \
	X(COPY_RANGE_INVALID, 400, "InvalidArgument", "Range specified is not valid for source object") \
	X(INVALID_VERSION_ID, 400, "InvalidArgument", "Invalid version id specified") \
	X(SIGV2_NOT_SUPPORTED, 400, "InvalidRequest", "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256. (Signature Version 2 does not sign the query, which carries this request's arguments.)") \
	X(AUTH_V2_MALFORMED, 400, "InvalidArgument", "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature") \
	X(PRESIGN_V2_TOO_LONG, 403, "AccessDenied", "Signature Version 2 query-string authentication: Expires must be at most 604800 seconds (7 days) after the request is received.") \
	X(AUTH_V2_QUERY_MALFORMED, 403, "AccessDenied", "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters") \
	X(NO_SUCH_VERSION, 404, "NoSuchVersion", "The specified version does not exist.") \
	X(MFA_DELETE_UNSUPPORTED, 400, "InvalidRequest", "MFA Delete is not supported: Atrium has no MFA devices to authenticate it with.") \
	X(VERSIONING_REMOTE, 501, "NotImplemented", "Versioning is not implemented for a bucket mounted on a remote store (docs/s3-compatibility.md).") \
	X(MAX_MESSAGE_LENGTH, 400, "MaxMessageLengthExceeded", "Your request was too big.") \
	X(OBJECT_ATTRIBUTES_INVALID, 400, "InvalidArgument", "Invalid attribute name specified.") \
	X(MALFORMED_POST, 400, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.") \
	X(MAX_POST_PRE_DATA, 400, "MaxPostPreDataLengthExceeded", "Your POST request fields preceding the upload file were too large.") \
	X(MISSING_FILE, 400, "InvalidArgument", "POST requires exactly one file upload per request.") \
	X(MISSING_KEY_FIELD, 400, "InvalidArgument", "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.") \
	X(POST_FIELD_MISSING, 400, "InvalidArgument", "Bucket POST must contain the fields of a signature (x-amz-algorithm, x-amz-credential, x-amz-signature; or AWSAccessKeyId, signature) and a policy.") \
	X(POST_NOT_FORM, 412, "PreconditionFailed", "Bucket POST must be of the enclosure-type multipart/form-data") \
	X(INVALID_POLICY, 400, "InvalidPolicyDocument", "Invalid Policy: the policy is not base64 of a JSON document with an expiration and conditions S3 knows.") \
	X(POLICY_EXPIRED, 403, "AccessDenied", "Invalid according to Policy: Policy expired.") \
	X(POLICY_EXPIRATION_TOO_LONG, 403, "AccessDenied", "Invalid according to Policy: Policy expiration must be at most 604800 seconds (7 days) after the request is received.") \
	X(POLICY_CONDITION, 403, "AccessDenied", "Invalid according to Policy: Policy Condition failed") \
	X(POLICY_EXTRA_FIELDS, 403, "AccessDenied", "Invalid according to Policy: Extra input fields") \
	X(ACLS_NOT_SUPPORTED, 400, "AccessControlListNotSupported", "The bucket does not allow ACLs") \
	X(BUCKET_ACL_WITH_OWNERSHIP, 400, "InvalidBucketAclWithObjectOwnership", "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting") \
	X(MALFORMED_ACL, 400, "MalformedACLError", "The XML you provided was not well-formed or did not validate against our published schema") \
	X(UNRESOLVABLE_GRANT, 400, "UnresolvableGrantByEmailAddress", "The e-mail address you provided does not match any account on record.") \
	X(INVALID_GRANTEE, 400, "InvalidArgument", "Invalid id") \
	X(CANNED_AND_GRANTS, 400, "InvalidRequest", "Specifying both Canned ACLs and Header Grants is not allowed") \
	X(UNEXPECTED_CONTENT, 400, "UnexpectedContent", "This request does not support content: the ACL is given by headers and by a body.") \
	X(MISSING_REQUEST_BODY, 400, "MissingRequestBodyError", "Request Body is empty") \
	X(MALFORMED_POLICY, 400, "MalformedPolicy", "The policy is not valid.") \
	X(NO_SUCH_BUCKET_POLICY, 404, "NoSuchBucketPolicy", "The bucket policy does not exist") \
	X(NO_SUCH_PUBLIC_ACCESS_BLOCK, 404, "NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found") \
	X(NO_OWNERSHIP_CONTROLS, 404, "OwnershipControlsNotFoundError", "The bucket ownership controls were not found") \
	X(SSE_NOT_IMPLEMENTED, 501, "NotImplemented", "Server-side encryption is not implemented for this operation (see docs/s3-compatibility.md): the request is refused rather than stored in the clear.") \
	X(KMS_NOT_FOUND, 400, "KMS.NotFoundException", "Invalid keyId: there is no KMS here; use SSE-S3 (AES256) or SSE-C.") \
	X(SSE_KMS_NEEDED, 400, "InvalidArgument", "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms") \
	X(SSE_INVALID_METHOD, 400, "InvalidArgument", "The encryption method specified is not supported") \
	X(SSE_KMS_KEY_WITH_AES, 400, "InvalidArgument", "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse") \
	X(SSE_ON_READ, 400, "InvalidArgument", "x-amz-server-side-encryption header is not supported for this operation.") \
	X(SSE_C_AND_SSE, 400, "InvalidArgument", "Server Side Encryption with Customer provided key is incompatible with the encryption method specified") \
	X(SSE_C_ALGORITHM, 400, "InvalidEncryptionAlgorithmError", "The encryption request you specified is not valid. The valid value is AES256.") \
	X(SSE_C_NO_ALGORITHM, 400, "InvalidArgument", "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.") \
	X(SSE_C_NO_KEY, 400, "InvalidArgument", "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.") \
	X(SSE_C_BAD_KEY, 400, "InvalidArgument", "The secret key was invalid for the specified algorithm.") \
	X(SSE_C_NO_MD5, 400, "InvalidArgument", "Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.") \
	X(SSE_C_BAD_MD5, 400, "InvalidArgument", "The calculated MD5 hash of the key did not match the hash that was provided.") \
	X(SSE_C_INSECURE, 400, "InvalidRequest", "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.") \
	X(SSE_C_MISSING, 400, "InvalidRequest", "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.") \
	X(SSE_C_MPU_MISSING, 400, "InvalidRequest", "The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.") \
	X(SSE_C_IN_QUERY, 400, "InvalidArgument", "Requests specifying Server Side Encryption with Customer provided keys must send the x-amz-server-side-encryption-customer-* values as headers, not as query parameters.") \
	X(SSE_C_MPU_COMPLETE_MISSING, 400, "InvalidRequest", "The multipart upload was initiated with a customer-provided encryption key (SSE-C) and its parts cannot be kept as they are stored (parts left out, not numbered 1 to n, or stored before this server version): such a CompleteMultipartUpload must carry the same key in the x-amz-server-side-encryption-customer-* headers (see docs/s3-compatibility.md).") \
	X(SSE_C_MPU_NOT_SSE_C, 400, "InvalidArgument", "The multipart upload was not initiated with a customer-provided encryption key: its parts and its completion take no x-amz-server-side-encryption-customer-* headers.") \
	X(SSE_C_NOT_APPLICABLE, 400, "InvalidRequest", "The encryption parameters are not applicable to this object.") \
	X(NO_SSE_CONFIG, 404, "ServerSideEncryptionConfigurationNotFoundError", "The server side encryption configuration was not found") \
	X(OBJECT_LOCK_MISSING, 400, "InvalidRequest", "Bucket is missing ObjectLockConfiguration") \
	X(OBJECT_LOCK_NOT_IMPLEMENTED, 501, "NotImplemented", "Object Lock headers are not implemented on this operation (docs/s3-compatibility.md).") \
	X(NO_LOCK_CONFIG, 404, "ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket") \
	X(NO_SUCH_LOCK_CONFIG, 404, "NoSuchObjectLockConfiguration", "The specified object does not have a ObjectLock configuration") \
	X(LOCK_BUCKET_STATE, 409, "InvalidBucketState", "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration") \
	X(LOCK_VERSIONING_STATE, 409, "InvalidBucketState", "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.") \
	X(LOCK_HEADERS, 400, "InvalidArgument", "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied") \
	X(LOCK_HEADERS_XML, 400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema: Mode and RetainUntilDate go together.") \
	X(LOCK_BAD_MODE, 400, "InvalidArgument", "Unknown wormMode directive.") \
	X(LOCK_BAD_DATE, 400, "InvalidArgument", "The retain until date is not a valid ISO 8601 date.") \
	X(LOCK_PAST_DATE, 400, "InvalidArgument", "The retain until date must be in the future!") \
	X(LOCK_BAD_HOLD, 400, "InvalidArgument", "Legal Hold must be either of 'ON' or 'OFF'") \
	X(LIST_PARAM_NOT_UTF8, 400, "InvalidArgument", "A listing parameter (prefix, delimiter, marker, start-after, continuation-token, key-marker, upload-id-marker) is not valid UTF-8.") \
	X(LIST_PARAM_NOT_XML, 400, "InvalidArgument", "A listing parameter holds a character XML 1.0 cannot carry (a control character other than tab, newline and carriage return, U+FFFE or U+FFFF); prefix, delimiter, marker, start-after and key-marker may hold one with encoding-type=url.") \
	X(LIST_KEY_NOT_XML, 400, "InvalidArgument", "A key in this listing holds a character XML 1.0 cannot carry (a control character other than tab, newline and carriage return, U+FFFE or U+FFFF): list with encoding-type=url, which returns keys URL-encoded.") \
	X(BAD_REQUEST, 400, "BadRequest", "An error occurred when parsing the HTTP request.") \
	X(INVALID_TARGET_BUCKET, 400, "InvalidTargetBucketForLogging", "The target bucket for logging does not exist") \
	X(LOGGING_GRANTS, 400, "InvalidTargetBucketForLogging", "You must give the log-delivery group WRITE and READ_ACP permissions to the target bucket") \
	X(CORS_INVALID, 400, "InvalidRequest", "The CORS configuration is not valid.") \
	X(NO_SUCH_CORS, 404, "NoSuchCORSConfiguration", "The CORS configuration does not exist") \
	X(NO_SUCH_WEBSITE, 404, "NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration") \
	X(NO_SUCH_LIFECYCLE, 404, "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist") \
	X(CORS_NOT_ENABLED, 403, "AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.") \
	X(CORS_NOT_ALLOWED, 403, "AccessForbidden", "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.") \
	X(CORS_NO_ORIGIN, 400, "BadRequest", "Insufficient information. Origin request header needed.") \
	X(CORS_BAD_METHOD, 400, "BadRequest", "Invalid Access-Control-Request-Method: a preflight names one of GET, PUT, HEAD, POST, DELETE.") \
	X(HTTP_VERSION, 505, "HttpVersionNotSupported", "The HTTP version specified is not supported.") \
	X(INVALID_ARGUMENT, 400, "InvalidArgument", "Invalid Argument") \
	X(INVALID_REQUEST, 400, "InvalidRequest", "Invalid Request") \
	X(NOT_IMPLEMENTED, 501, "NotImplemented", "A header or query you provided implies functionality that is not implemented.") \
	X(INSUFFICIENT_STORAGE, 507, "InsufficientStorage", "There is not enough space left on the under-storage to store this object.") \
	X(INTERNAL, 500, "InternalError", "We encountered an internal error. Please try again.") \
	X(SLOW_DOWN, 503, "SlowDown", "Please reduce your request rate.") \
	X(SERVICE_UNAVAILABLE, 503, "ServiceUnavailable", \
	  "The server is stopping; retry the request against another endpoint.") \
	X(INVALID_WRITE_TYPE, 400, "InvalidArgument", \
	  "x-atrium-write-type must be MUST_CACHE, CACHE_THROUGH, THROUGH or ASYNC_THROUGH.") \
	X(INVALID_READ_TYPE, 400, "InvalidArgument", \
	  "x-atrium-read-type must be CACHE, CACHE_PROMOTE or NO_CACHE.") \
	X(UFS_DOWN, 503, "ServiceUnavailable", \
	  "The bucket's remote under-storage does not answer; cached objects can still be read. Retry later.") \
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
