/*
 * s3_observe — what the dispatcher reports about each finished request
 * (s3_options.observe: metrics and the access log): the operation's S3
 * name, status, bytes and duration.
 */
#include <string.h>
#include <time.h>

#include "common/timefmt.h"
#include "s3/s3_int.h"

/* S3's names for what a handler did. A route missing here counts as
 * "Other"; a request refused before reaching one (bad target, failed
 * authentication, no route) as "Rejected". */
static const struct {
	s3_handler handler;
	const char *method; /* NULL: any */
	const char *op;
} names[] = {
	{ s3_list_buckets, NULL, "ListBuckets" },
	{ s3_get_bucket_location, NULL, "GetBucketLocation" },
	{ s3_list_objects, NULL, "ListObjects" },
	{ s3_create_bucket, NULL, "CreateBucket" },
	{ s3_head_bucket, NULL, "HeadBucket" },
	{ s3_delete_bucket, NULL, "DeleteBucket" },
	{ s3_put_object, NULL, "PutObject" },
	{ s3_get_object, "HEAD", "HeadObject" },
	{ s3_get_object, NULL, "GetObject" },
	{ s3_delete_object, NULL, "DeleteObject" },
	{ s3_delete_objects, NULL, "DeleteObjects" },
	{ s3_post_object, NULL, "PostObject" },
	{ s3_create_multipart, NULL, "CreateMultipartUpload" },
	{ s3_upload_part, NULL, "UploadPart" },
	{ s3_list_parts, NULL, "ListParts" },
	{ s3_complete_multipart, NULL, "CompleteMultipartUpload" },
	{ s3_abort_multipart, NULL, "AbortMultipartUpload" },
	{ s3_list_multipart_uploads, NULL, "ListMultipartUploads" },
	{ s3_get_object_tagging, NULL, "GetObjectTagging" },
	{ s3_put_object_tagging, NULL, "PutObjectTagging" },
	{ s3_delete_object_tagging, NULL, "DeleteObjectTagging" },
	{ s3_get_bucket_tagging, NULL, "GetBucketTagging" },
	{ s3_put_bucket_tagging, NULL, "PutBucketTagging" },
	{ s3_delete_bucket_tagging, NULL, "DeleteBucketTagging" },
	{ s3_get_object_attributes, NULL, "GetObjectAttributes" },
	{ s3_get_bucket_cors, NULL, "GetBucketCors" },
	{ s3_put_bucket_cors, NULL, "PutBucketCors" },
	{ s3_delete_bucket_cors, NULL, "DeleteBucketCors" },
	{ s3_cors_preflight, NULL, "PreflightCors" },
};

int64_t s3_clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static const char *op_name(const struct s3_req *r, s3_handler h)
{
	if (!h)
		return "Rejected";
	if (h == s3_list_objects) {
		const char *v = s3_param(r, "list-type");
		return v && !strcmp(v, "2") ? "ListObjectsV2" : "ListObjects";
	}
	/* A PUT naming a source is a copy. */
	if ((h == s3_put_object || h == s3_upload_part) && s3_header(r, "x-amz-copy-source"))
		return h == s3_put_object ? "CopyObject" : "UploadPartCopy";
	if (h == s3_put_object && s3_header(r, "x-amz-copy-source"))
		return "CopyObject";
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].handler == h && (!names[i].method || !strcmp(names[i].method, r->method)))
			return names[i].op;
	return "Other";
}

void s3_observe(struct s3_req *r, s3_handler h, const char *raw_path, int64_t t0)
{
	const struct s3_options *o = &r->srv->opt;
	if (!o->observe)
		return;
	int64_t dur = s3_clock_ns() - t0;
	struct s3_done d = {
		.id = r->id, .op = op_name(r, h), .user = r->user_name, .method = r->method,
		.path = raw_path ? raw_path : "", .status = r->status ? r->status : 500,
		.bytes_in = r->content_length > 0 ? (uint64_t)r->content_length : 0,
		.bytes_out = r->bytes_out, .time_ns = time_now_ns() - dur, .duration_ns = dur,
	};
	o->observe(o->observe_arg, &d);
}
