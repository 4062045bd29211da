/*
 * Unit tests for the dispatcher (s3/s3_router.c): the route table, every
 * route by method, target, sub-resource and header (s3_route_find), and
 * the errors for what has no route; then whole requests through s3_handle
 * over a temporary core (s3_fixture.h): path style, the /api/v1/s3 prefix,
 * virtual-hosted style, the target's decoding and refusals, and what each
 * request is observed as (metrics and the access log name operations by
 * the route taken).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "s3/s3_int.h"
#include "tests/unit/s3_fixture.h"

#define COPY 1
#define ROUTE(method, bucket, key, query, copy, handler) \
	{ method, bucket, key, query, copy, handler, S3_ERR_OK }
#define REFUSED(method, bucket, key, query, copy, err) \
	{ method, bucket, key, query, copy, NULL, err }

struct rcase {
	const char *method;
	const char *bucket, *key; /* "" and "": the service; a key "": the bucket */
	const char *query;        /* NULL: none */
	int copy;                 /* with x-amz-copy-source */
	s3_handler want;          /* NULL: refused with err */
	enum s3_err err;
};

static const struct rcase rcases[] = {
	/* the service, buckets, objects */
	ROUTE("GET", "", "", NULL, 0, s3_list_buckets),
	ROUTE("GET", "b", "", NULL, 0, s3_list_objects),
	ROUTE("GET", "b", "", "list-type=2&prefix=a&delimiter=/", 0, s3_list_objects),
	ROUTE("PUT", "b", "", NULL, 0, s3_create_bucket),
	ROUTE("HEAD", "b", "", NULL, 0, s3_head_bucket),
	ROUTE("DELETE", "b", "", NULL, 0, s3_delete_bucket),
	ROUTE("POST", "b", "", "delete", 0, s3_delete_objects),
	ROUTE("POST", "b", "", NULL, 0, s3_post_object),
	ROUTE("GET", "b", "", "location", 0, s3_get_bucket_location),
	ROUTE("PUT", "b", "k", NULL, 0, s3_put_object),
	ROUTE("GET", "b", "k", NULL, 0, s3_get_object),
	ROUTE("GET", "b", "k", "response-content-type=text/plain", 0, s3_get_object),
	ROUTE("HEAD", "b", "k", NULL, 0, s3_get_object),
	ROUTE("DELETE", "b", "k", NULL, 0, s3_delete_object),
	ROUTE("GET", "b", "k", "partNumber=2", 0, s3_get_object),
	ROUTE("HEAD", "b", "k", "partNumber=2", 0, s3_get_object),
	ROUTE("GET", "b", "k", "attributes", 0, s3_get_object_attributes),
	/* copies: picked by the header */
	ROUTE("PUT", "b", "k", NULL, COPY, s3_copy_object),
	ROUTE("PUT", "b", "a/b/", NULL, COPY, s3_copy_object),
	ROUTE("PUT", "b", "k", "partNumber=1&uploadId=u", COPY, s3_upload_part_copy),
	ROUTE("PUT", "b", "k", "uploadId=u&partNumber=1", COPY, s3_upload_part_copy),
	/* the header selects nothing elsewhere */
	ROUTE("GET", "b", "k", NULL, COPY, s3_get_object),
	ROUTE("PUT", "b", "k", "tagging", COPY, s3_put_object_tagging),
	ROUTE("PUT", "b", "k", "acl", COPY, s3_put_object_acl),
	ROUTE("PUT", "b", "", NULL, COPY, s3_create_bucket),
	/* multipart */
	ROUTE("GET", "b", "", "uploads", 0, s3_list_multipart_uploads),
	ROUTE("GET", "b", "", "uploads&prefix=a", 0, s3_list_multipart_uploads),
	ROUTE("POST", "b", "k", "uploads", 0, s3_create_multipart),
	ROUTE("PUT", "b", "k", "partNumber=1&uploadId=u", 0, s3_upload_part),
	ROUTE("GET", "b", "k", "uploadId=u", 0, s3_list_parts),
	ROUTE("POST", "b", "k", "uploadId=u", 0, s3_complete_multipart),
	ROUTE("DELETE", "b", "k", "uploadId=u", 0, s3_abort_multipart),
	/* tagging */
	ROUTE("GET", "b", "k", "tagging", 0, s3_get_object_tagging),
	ROUTE("PUT", "b", "k", "tagging", 0, s3_put_object_tagging),
	ROUTE("DELETE", "b", "k", "tagging", 0, s3_delete_object_tagging),
	ROUTE("GET", "b", "", "tagging", 0, s3_get_bucket_tagging),
	ROUTE("PUT", "b", "", "tagging", 0, s3_put_bucket_tagging),
	ROUTE("DELETE", "b", "", "tagging", 0, s3_delete_bucket_tagging),
	/* ACLs and bucket settings */
	ROUTE("GET", "b", "", "acl", 0, s3_get_bucket_acl),
	ROUTE("PUT", "b", "", "acl", 0, s3_put_bucket_acl),
	ROUTE("GET", "b", "k", "acl", 0, s3_get_object_acl),
	ROUTE("PUT", "b", "k", "acl", 0, s3_put_object_acl),
	ROUTE("GET", "b", "", "publicAccessBlock", 0, s3_get_public_access_block),
	ROUTE("PUT", "b", "", "publicAccessBlock", 0, s3_put_public_access_block),
	ROUTE("DELETE", "b", "", "publicAccessBlock", 0, s3_delete_public_access_block),
	ROUTE("GET", "b", "", "ownershipControls", 0, s3_get_ownership_controls),
	ROUTE("PUT", "b", "", "ownershipControls", 0, s3_put_ownership_controls),
	ROUTE("DELETE", "b", "", "ownershipControls", 0, s3_delete_ownership_controls),
	ROUTE("GET", "b", "", "policy", 0, s3_get_bucket_policy),
	ROUTE("PUT", "b", "", "policy", 0, s3_put_bucket_policy),
	ROUTE("DELETE", "b", "", "policy", 0, s3_delete_bucket_policy),
	ROUTE("GET", "b", "", "policyStatus", 0, s3_get_bucket_policy_status),
	ROUTE("GET", "b", "", "cors", 0, s3_get_bucket_cors),
	ROUTE("PUT", "b", "", "cors", 0, s3_put_bucket_cors),
	ROUTE("DELETE", "b", "", "cors", 0, s3_delete_bucket_cors),
	ROUTE("GET", "b", "", "logging", 0, s3_get_bucket_logging),
	ROUTE("PUT", "b", "", "logging", 0, s3_put_bucket_logging),
	/* versioning */
	ROUTE("GET", "b", "", "versioning", 0, s3_get_bucket_versioning),
	ROUTE("PUT", "b", "", "versioning", 0, s3_put_bucket_versioning),
	ROUTE("GET", "b", "", "versions", 0, s3_list_object_versions),
	ROUTE("GET", "b", "", "versions&prefix=a", 0, s3_list_object_versions),
	ROUTE("GET", "b", "k", "versionId=1", 0, s3_get_object),
	ROUTE("HEAD", "b", "k", "versionId=1", 0, s3_get_object),
	ROUTE("DELETE", "b", "k", "versionId=1", 0, s3_delete_object),
	ROUTE("GET", "b", "k", "tagging&versionId=1", 0, s3_get_object_tagging),
	ROUTE("OPTIONS", "b", "", NULL, 0, s3_cors_preflight),
	ROUTE("OPTIONS", "b", "k", NULL, 0, s3_cors_preflight),
	/* refused: a method the target never takes */
	REFUSED("PATCH", "b", "k", NULL, 0, S3_ERR_METHOD_NOT_ALLOWED),
	REFUSED("POST", "", "", NULL, 0, S3_ERR_METHOD_NOT_ALLOWED),
	REFUSED("DELETE", "", "", NULL, 0, S3_ERR_METHOD_NOT_ALLOWED),
	REFUSED("POST", "b", "k", NULL, 0, S3_ERR_METHOD_NOT_ALLOWED),
	REFUSED("OPTIONS", "", "", NULL, 0, S3_ERR_METHOD_NOT_ALLOWED),
	/* refused: a sub-resource or combination we do not serve, never
	 * mistaken for the plain operation */
	REFUSED("GET", "b", "", "replication", 0, S3_ERR_NOT_IMPLEMENTED),
	REFUSED("GET", "b", "k", "torrent", 0, S3_ERR_NOT_IMPLEMENTED),
	REFUSED("DELETE", "b", "", "versioning", 0, S3_ERR_NOT_IMPLEMENTED),
	REFUSED("DELETE", "b", "", "acl", 0, S3_ERR_NOT_IMPLEMENTED),
	REFUSED("PUT", "b", "k", "partNumber=1", 0, S3_ERR_NOT_IMPLEMENTED),
	REFUSED("PUT", "b", "k", "partNumber=1", COPY, S3_ERR_NOT_IMPLEMENTED),
	REFUSED("PUT", "b", "k", "attributes", 0, S3_ERR_NOT_IMPLEMENTED),
	REFUSED("POST", "b", "k", "delete", 0, S3_ERR_NOT_IMPLEMENTED),
	REFUSED("GET", "", "", "acl", 0, S3_ERR_NOT_IMPLEMENTED),
	REFUSED("PUT", "", "", "acl", 0, S3_ERR_NOT_IMPLEMENTED),
	ROUTE("GET", "b", "", "policyStatus&cors", 0, s3_get_bucket_policy_status),
};

static void test_routes(void **state)
{
	static const char *const copy_hdrs[] = { "x-amz-copy-source", "/b/src", NULL };
	for (size_t i = 0; i < sizeof(rcases) / sizeof(rcases[0]); i++) {
		const struct rcase *c = &rcases[i];
		struct mg_connection *conn = calloc(1, sizeof(*conn));
		struct s3_req r = { .conn = conn, .method = c->method, .bucket = c->bucket,
				    .key = c->key, .key_len = strlen(c->key) };
		enum s3_err err = S3_ERR_OK;
		assert_non_null(conn);
		fake_conn_init(conn, c->method, "/", c->copy ? copy_hdrs : NULL, NULL, 0);
		assert_int_equal(uri_query_parse(&r.q, c->query), 0);
		s3_handler h = s3_route_find(&r, &err);
		if (h != c->want || (!h && err != c->err))
			fail_msg("%s /%s/%s?%s%s: route #%zu: got %p (%s), want %p (%s)", c->method,
				 c->bucket, c->key, c->query ? c->query : "", c->copy ? " (copy)" : "",
				 i, (void *)h, s3_err_code(err), (void *)c->want, s3_err_code(c->err));
		uri_query_release(&r.q);
		fake_conn_release(conn);
		free(conn);
	}
}

/* ---- whole requests: the target, and what the request is taken for ---- */

struct tcase {
	const char *method, *target, *host;
	int status;
	const char *op, *bucket, *key, *err;
};

static const struct tcase tcases[] = {
	/* path style, with and without Alluxio's prefix */
	{ "GET", "/", NULL, 200, "ListBuckets", "", "", "" },
	{ "GET", "/api/v1/s3", NULL, 200, "ListBuckets", "", "", "" },
	{ "GET", "/api/v1/s3/", NULL, 200, "ListBuckets", "", "", "" },
	{ "HEAD", "/bkt", NULL, 200, "HeadBucket", "bkt", "", "" },
	{ "HEAD", "/api/v1/s3/bkt", NULL, 200, "HeadBucket", "bkt", "", "" },
	{ "GET", "/bkt?location", NULL, 200, "GetBucketLocation", "bkt", "", "" },
	{ "GET", "/bkt/", NULL, 200, "ListObjects", "bkt", "", "" },
	{ "GET", "/bkt?list-type=2", NULL, 200, "ListObjectsV2", "bkt", "", "" },
	{ "GET", "/bkt/a/b", NULL, 404, "GetObject", "bkt", "a/b", "NoSuchKey" },
	{ "GET", "/api/v1/s3/bkt/a/b", NULL, 404, "GetObject", "bkt", "a/b", "NoSuchKey" },
	{ "HEAD", "/bkt/a%20b%2Bc", NULL, 404, "HeadObject", "bkt", "a b+c", "NoSuchKey" },
	{ "GET", "/bkt/dir/", NULL, 404, "GetObject", "bkt", "dir/", "NoSuchKey" },
	{ "GET", "/nobkt/k", NULL, 404, "GetObject", "nobkt", "k", "NoSuchBucket" },
	/* "/api/v1/s3x" is not the prefix: the bucket would be "api" */
	{ "GET", "/api/v1/s3x/k", NULL, 400, "Rejected", "api", "v1/s3x/k", "InvalidBucketName" },
	/* virtual-hosted style (domain "s3.test"): the bucket from Host */
	{ "GET", "/a/b", "bkt.s3.test", 404, "GetObject", "bkt", "a/b", "NoSuchKey" },
	{ "GET", "/a/b", "BKT.S3.Test:39999", 404, "GetObject", "bkt", "a/b", "NoSuchKey" },
	{ "GET", "/a", "bkt.s3.test.", 404, "GetObject", "bkt", "a", "NoSuchKey" },
	{ "HEAD", "/", "bkt.s3.test", 200, "HeadBucket", "bkt", "", "" },
	{ "GET", "/bkt/k", "s3.test", 404, "GetObject", "bkt", "k", "NoSuchKey" },
	{ "GET", "/bkt/k", "elsewhere.example", 404, "GetObject", "bkt", "k", "NoSuchKey" },
	{ "GET", "/k", "bad_name.s3.test", 400, "Rejected", "", "", "InvalidBucketName" },
	/* targets refused */
	{ "GET", "/bkt/a%00b", NULL, 400, "Rejected", "bkt", "a", "InvalidObjectName" },
	{ "GET", "/bkt/%zz", NULL, 400, "Rejected", "", "", "InvalidArgument" },
	{ "GET", "/Bad_Bucket/k", NULL, 400, "Rejected", "Bad_Bucket", "k", "InvalidBucketName" },
	{ "PATCH", "/bkt/k", NULL, 405, "Rejected", "bkt", "k", "MethodNotAllowed" },
	{ "GET", "/bkt?replication", NULL, 501, "Rejected", "bkt", "", "NotImplemented" },
};

static void test_targets(void **state)
{
	struct s3_fixture *x = s3_fixture_new("s3.test", 1 << 20);
	for (size_t i = 0; i < sizeof(tcases) / sizeof(tcases[0]); i++) {
		const struct tcase *c = &tcases[i];
		const char *hdrs[] = { "Host", c->host, NULL };
		int status = s3_call(x, c->method, c->target, c->host ? hdrs : NULL, NULL, 0);
		const struct s3_seen *s = &x->seen;
		if (status != c->status || strcmp(s->op, c->op) || strcmp(s->bucket, c->bucket) ||
		    strcmp(s->key, c->key) || strcmp(s->err, c->err))
			fail_msg("%s %s (Host %s): got %d %s %s/%s %s, want %d %s %s/%s %s", c->method,
				 c->target, c->host ? c->host : "-", status, s->op, s->bucket, s->key,
				 s->err, c->status, c->op, c->bucket, c->key, c->err);
	}
	s3_fixture_free(x);
}

/* A copy is routed, answered and observed as a copy; the plain PUT and
 * UploadPart as themselves. */
static void test_copy_routed(void **state)
{
	struct s3_fixture *x = s3_fixture_new(NULL, 1 << 20);
	static const char *const copy[] = { "x-amz-copy-source", "/bkt/src", NULL };
	char etag[64];

	assert_int_equal(s3_call(x, "PUT", "/bkt/src", NULL, "hello", 5), 200);
	assert_string_equal(x->seen.op, "PutObject");
	assert_string_equal(x->seen.log_op, "REST.PUT.OBJECT");
	assert_int_equal(s3_call(x, "PUT", "/bkt/dst", copy, NULL, 0), 200);
	assert_string_equal(x->seen.op, "CopyObject");
	assert_string_equal(x->seen.log_op, "REST.COPY.OBJECT");
	assert_non_null(strstr(fake_body(&x->conn), "<CopyObjectResult"));
	assert_int_equal(s3_call(x, "GET", "/bkt/dst", NULL, NULL, 0), 200);
	assert_string_equal(fake_body(&x->conn), "hello");
	assert_non_null(fake_header(&x->conn, "ETag", etag, sizeof(etag)));
	assert_string_equal(etag, "\"5d41402abc4b2a76b9719d911017c592\"");

	/* A copy into a part of an upload. */
	assert_int_equal(s3_call(x, "POST", "/bkt/mp?uploads", NULL, NULL, 0), 200);
	const char *id = strstr(fake_body(&x->conn), "<UploadId>");
	assert_non_null(id);
	char target[256];
	snprintf(target, sizeof(target), "/bkt/mp?partNumber=1&uploadId=%.*s",
		 (int)strcspn(id + 10, "<"), id + 10);
	assert_int_equal(s3_call(x, "PUT", target, copy, NULL, 0), 200);
	assert_string_equal(x->seen.op, "UploadPartCopy");
	assert_string_equal(x->seen.log_op, "REST.COPY.PART");
	assert_non_null(strstr(fake_body(&x->conn), "<CopyPartResult"));
	assert_non_null(strstr(fake_body(&x->conn), "5d41402abc4b2a76b9719d911017c592"));
	assert_int_equal(s3_call(x, "PUT", target, NULL, "world", 5), 200);
	assert_string_equal(x->seen.op, "UploadPart");
	assert_string_equal(x->seen.log_op, "REST.PUT.PART");
	/* UploadPartCopy checks the part number before the source, as
	 * UploadPart does. */
	assert_int_equal(s3_call(x, "PUT", "/bkt/mp?partNumber=0&uploadId=x",
				 (const char *const[]){ "x-amz-copy-source", "nobkt/k", NULL }, NULL, 0),
			 400);
	assert_string_equal(x->seen.op, "UploadPartCopy");
	assert_string_equal(x->seen.err, "InvalidArgument");
	s3_fixture_free(x);
}

/* Framing civetweb lets through but a proxy might read otherwise is
 * refused, and the connection closed. */
static void test_framing(void **state)
{
	struct s3_fixture *x = s3_fixture_new(NULL, 1 << 20);
	static const char *const two_lengths[] = { "Content-Length", "5", "Content-Length", "6",
						   NULL };
	static const char *const te_and_length[] = { "Content-Length", "5",
						     "Transfer-Encoding", "chunked", NULL };
	assert_int_equal(s3_call(x, "PUT", "/bkt/k", two_lengths, "hello!", 6), 400);
	assert_string_equal(x->seen.err, "InvalidRequest");
	assert_int_equal(x->conn.keep_alive_off, 1);
	assert_int_equal(s3_call(x, "PUT", "/bkt/k", te_and_length, "hello", 5), 400);
	assert_string_equal(x->seen.err, "InvalidRequest");
	assert_int_equal(x->conn.keep_alive_off, 1);
	assert_int_equal(s3_call(x, "GET", "/bkt/k", NULL, NULL, 0), 404); /* nothing stored */
	s3_fixture_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_copy_routed),
		cmocka_unit_test(test_framing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
