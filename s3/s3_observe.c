/*
 * s3_observe — what the dispatcher reports about each finished request
 * (s3_options.observe: metrics and the access log): the operation's S3
 * name, status, bytes and duration.
 */
#include <civetweb.h>
#include <string.h>
#include <time.h>

#include "common/timefmt.h"
#include "s3/s3_int.h"
#include "common/banned.h"

/* S3's names for what a handler did, and the operation as AWS's server
 * access logs name it (REST.METHOD.RESOURCE). A route missing here counts
 * as "Other"; a request refused before reaching one (bad target, failed
 * authentication, no route) as "Rejected". */
static const struct {
	s3_handler handler;
	const char *method; /* NULL: any */
	const char *op, *log_op;
} names[] = {
	{ s3_list_buckets, NULL, "ListBuckets", "REST.GET.SERVICE" },
	{ s3_get_bucket_location, NULL, "GetBucketLocation", "REST.GET.LOCATION" },
	{ s3_list_objects, NULL, "ListObjects", "REST.GET.BUCKET" },
	{ s3_create_bucket, NULL, "CreateBucket", "REST.PUT.BUCKET" },
	{ s3_head_bucket, NULL, "HeadBucket", "REST.HEAD.BUCKET" },
	{ s3_delete_bucket, NULL, "DeleteBucket", "REST.DELETE.BUCKET" },
	{ s3_put_object, NULL, "PutObject", "REST.PUT.OBJECT" },
	{ s3_copy_object, NULL, "CopyObject", "REST.COPY.OBJECT" },
	{ s3_get_object, "HEAD", "HeadObject", "REST.HEAD.OBJECT" },
	{ s3_get_object, NULL, "GetObject", "REST.GET.OBJECT" },
	{ s3_delete_object, NULL, "DeleteObject", "REST.DELETE.OBJECT" },
	{ s3_delete_objects, NULL, "DeleteObjects", "REST.POST.MULTI_OBJECT_DELETE" },
	{ s3_post_object, NULL, "PostObject", "REST.POST.OBJECT" },
	{ s3_create_multipart, NULL, "CreateMultipartUpload", "REST.POST.UPLOADS" },
	{ s3_upload_part, NULL, "UploadPart", "REST.PUT.PART" },
	{ s3_upload_part_copy, NULL, "UploadPartCopy", "REST.COPY.PART" },
	{ s3_list_parts, NULL, "ListParts", "REST.GET.UPLOAD" },
	{ s3_complete_multipart, NULL, "CompleteMultipartUpload", "REST.POST.UPLOAD" },
	{ s3_abort_multipart, NULL, "AbortMultipartUpload", "REST.DELETE.UPLOAD" },
	{ s3_list_multipart_uploads, NULL, "ListMultipartUploads", "REST.GET.UPLOADS" },
	{ s3_get_object_tagging, NULL, "GetObjectTagging", "REST.GET.OBJECT_TAGGING" },
	{ s3_put_object_tagging, NULL, "PutObjectTagging", "REST.PUT.OBJECT_TAGGING" },
	{ s3_delete_object_tagging, NULL, "DeleteObjectTagging", "REST.DELETE.OBJECT_TAGGING" },
	{ s3_get_bucket_tagging, NULL, "GetBucketTagging", "REST.GET.TAGGING" },
	{ s3_put_bucket_tagging, NULL, "PutBucketTagging", "REST.PUT.TAGGING" },
	{ s3_delete_bucket_tagging, NULL, "DeleteBucketTagging", "REST.DELETE.TAGGING" },
	{ s3_get_object_attributes, NULL, "GetObjectAttributes", "REST.GET.OBJECT_ATTRIBUTES" },
	{ s3_get_bucket_cors, NULL, "GetBucketCors", "REST.GET.CORS" },
	{ s3_put_bucket_cors, NULL, "PutBucketCors", "REST.PUT.CORS" },
	{ s3_delete_bucket_cors, NULL, "DeleteBucketCors", "REST.DELETE.CORS" },
	{ s3_cors_preflight, NULL, "PreflightCors", "REST.OPTIONS.PREFLIGHT" },
	{ s3_get_bucket_logging, NULL, "GetBucketLogging", "REST.GET.LOGGING_STATUS" },
	{ s3_put_bucket_logging, NULL, "PutBucketLogging", "REST.PUT.LOGGING_STATUS" },
	{ s3_get_bucket_acl, NULL, "GetBucketAcl", "REST.GET.ACL" },
	{ s3_put_bucket_acl, NULL, "PutBucketAcl", "REST.PUT.ACL" },
	{ s3_get_object_acl, NULL, "GetObjectAcl", "REST.GET.ACL" },
	{ s3_put_object_acl, NULL, "PutObjectAcl", "REST.PUT.ACL" },
	{ s3_get_bucket_policy, NULL, "GetBucketPolicy", "REST.GET.BUCKETPOLICY" },
	{ s3_put_bucket_policy, NULL, "PutBucketPolicy", "REST.PUT.BUCKETPOLICY" },
	{ s3_delete_bucket_policy, NULL, "DeleteBucketPolicy", "REST.DELETE.BUCKETPOLICY" },
	{ s3_get_bucket_policy_status, NULL, "GetBucketPolicyStatus", "REST.GET.POLICY_STATUS" },
	{ s3_get_bucket_encryption, NULL, "GetBucketEncryption", "REST.GET.ENCRYPTION" },
	{ s3_put_bucket_encryption, NULL, "PutBucketEncryption", "REST.PUT.ENCRYPTION" },
	{ s3_delete_bucket_encryption, NULL, "DeleteBucketEncryption", "REST.DELETE.ENCRYPTION" },
	{ s3_get_bucket_versioning, NULL, "GetBucketVersioning", "REST.GET.VERSIONING" },
	{ s3_put_bucket_versioning, NULL, "PutBucketVersioning", "REST.PUT.VERSIONING" },
	{ s3_get_bucket_object_lock, NULL, "GetObjectLockConfiguration", "REST.GET.OBJECT_LOCK_CONFIGURATION" },
	{ s3_put_bucket_object_lock, NULL, "PutObjectLockConfiguration", "REST.PUT.OBJECT_LOCK_CONFIGURATION" },
	{ s3_get_object_retention, NULL, "GetObjectRetention", "REST.GET.RETENTION" },
	{ s3_put_object_retention, NULL, "PutObjectRetention", "REST.PUT.RETENTION" },
	{ s3_get_object_legal_hold, NULL, "GetObjectLegalHold", "REST.GET.LEGAL_HOLD" },
	{ s3_put_object_legal_hold, NULL, "PutObjectLegalHold", "REST.PUT.LEGAL_HOLD" },
	{ s3_list_object_versions, NULL, "ListObjectVersions", "REST.GET.BUCKETVERSIONS" },
	{ s3_get_bucket_lifecycle, NULL, "GetBucketLifecycleConfiguration", "REST.GET.LIFECYCLE" },
	{ s3_put_bucket_lifecycle, NULL, "PutBucketLifecycleConfiguration", "REST.PUT.LIFECYCLE" },
	{ s3_delete_bucket_lifecycle, NULL, "DeleteBucketLifecycle", "REST.DELETE.LIFECYCLE" },
	{ s3_get_bucket_website, NULL, "GetBucketWebsite", "REST.GET.WEBSITE" },
	{ s3_get_bucket_request_payment, NULL, "GetBucketRequestPayment", "REST.GET.REQUEST_PAYMENT" },
	{ s3_get_bucket_accelerate, NULL, "GetBucketAccelerateConfiguration", "REST.GET.ACCELERATE" },
	{ s3_get_bucket_notification, NULL, "GetBucketNotificationConfiguration", "REST.GET.NOTIFICATION" },
};

int64_t s3_clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The operation's two names (*log_op: AWS's access-log name). */
static const char *op_name(const struct s3_req *r, s3_handler h, const char **log_op)
{
	*log_op = "-";
	if (!h)
		return "Rejected";
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].handler == h && (!names[i].method || !strcmp(names[i].method, r->method))) {
			*log_op = names[i].log_op;
			if (h == s3_list_objects) {
				const char *v = s3_param(r, "list-type");
				return v && !strcmp(v, "2") ? "ListObjectsV2" : "ListObjects";
			}
			return names[i].op;
		}
	return "Other";
}

/* How the request was signed: AWS's signature version and auth type. */
static void signature_of(const struct s3_req *r, const char **version, const char **type)
{
	const char *a = s3_header(r, "Authorization");
	*version = *type = "-";
	if (r->auth.anonymous || r->form_post || r->preflight)
		return;
	if (a) {
		*type = "AuthHeader";
		*version = !strncmp(a, "AWS4-", 5) ? "SigV4" : "SigV2";
	} else if (r->auth.presigned || s3_has_param(r, "Signature")) {
		*type = "QueryString";
		*version = s3_has_param(r, "X-Amz-Algorithm") ? "SigV4" : "SigV2";
	}
}

void s3_observe(struct s3_req *r, s3_handler h, const char *raw_path, int64_t t0)
{
	const struct s3_options *o = &r->srv->opt;
	const struct mg_request_info *ri = mg_get_request_info(r->conn);
	if (!o->observe && !r->srv->logging)
		return;
	int64_t now = s3_clock_ns(), dur = now - t0;
	const char *log_op, *op = op_name(r, h, &log_op), *sigv, *authtype;
	char cipher[64] = "", tls[32] = "";
	signature_of(r, &sigv, &authtype);
	if (ri && ri->is_ssl && o->tls_info)
		o->tls_info(o->observe_arg, cipher, sizeof(cipher), tls, sizeof(tls));
	struct access_line line = {
		.bucket = r->bucket, .time_ns = time_now_ns() - dur,
		.remote_ip = ri ? ri->remote_addr : NULL, .requester = r->user_name,
		.request_id = r->id, .operation = log_op, .key = r->key,
		.method = r->method, .path = raw_path, .query = ri ? ri->query_string : NULL,
		.http_version = ri ? ri->http_version : NULL, .status = r->status ? r->status : 500,
		.error_code = r->err_code,
		.bytes_sent = r->bytes_out ? (int64_t)r->bytes_out : -1,
		.object_size = r->object_size, .total_ms = dur / 1000000,
		/* from the moment the handler could answer: the whole request for
		 * those without a body, and at worst an upper bound */
		.turnaround_ms = r->head_ns ? (r->head_ns - t0) / 1000000 : -1,
		.referer = s3_header(r, "Referer"), .user_agent = s3_header(r, "User-Agent"),
		.version_id = s3_param(r, "versionId"), .host_id = r->id,
		.signature_version = sigv, .cipher_suite = cipher,
		.auth_type = authtype, .host = s3_header(r, "Host"), .tls_version = tls,
	};
	if (r->srv->logging && r->bucket && *r->bucket)
		s3_logging_record(r, &line);
	if (!o->observe)
		return;
	struct s3_done d = {
		.id = r->id, .op = op, .user = r->user_name, .method = r->method,
		.path = raw_path ? raw_path : "", .status = r->status ? r->status : 500,
		.bytes_in = r->content_length > 0 ? (uint64_t)r->content_length : 0,
		.bytes_out = r->bytes_out, .time_ns = line.time_ns, .duration_ns = dur,
		.line = &line,
	};
	o->observe(o->observe_arg, &d);
}
