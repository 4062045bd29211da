/*
 * Unit tests for Signature V2 in s3_auth: the examples of AWS's "Signing and
 * Authenticating REST Requests" page (bucket johnsmith, key
 * AKIAIOSFODNN7EXAMPLE), their query-string variant, then what must be
 * refused: tampering, wrong secrets, skew, expiry, malformed credentials.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "s3/s3_auth.h"

#define AK "AKIAIOSFODNN7EXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

/* Tue, 27 Mar 2007 19:36:42 +0000 and friends */
#define T_GET ((time_t)1175024202)
#define T_PUT ((time_t)1175030145)
#define T_LIST ((time_t)1175024561)
#define T_ACL ((time_t)1175024686)
#define T_DELETE ((time_t)1175030426)
#define T_UPLOAD ((time_t)1175029568)
#define T_BUCKETS ((time_t)1175045399)
#define T_UNICODE ((time_t)1175046589)

struct cred {
	const char *ak, *secret, *user;
};

static const struct cred good[] = { { AK, SK, "johnsmith" }, { NULL, NULL, NULL } };
static const struct cred wrong[] = { { AK, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ", "x" },
				     { NULL, NULL, NULL } };

static int lookup(void *arg, const char *ak, char *secret, size_t secret_size,
		  char *user, size_t user_size)
{
	for (const struct cred *c = arg; c->ak; c++) {
		if (strcmp(c->ak, ak))
			continue;
		snprintf(secret, secret_size, "%s", c->secret);
		snprintf(user, user_size, "%s", c->user);
		return 0;
	}
	return -1;
}

#define MAX_HDRS 12

struct tcase {
	const char *name;
	const char *method, *path, *query;
	const char *hdrs[MAX_HDRS][2];
	time_t now;
	enum s3_err want;
	int presigned;
	enum s3_payload payload;
	const struct cred *creds;
	const char *alt_path;
	int bucket_path;
	int v4_only;
};

static void check(const struct tcase *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct tcase *t = &cases[i];
		struct s3_hdr hdrs[MAX_HDRS];
		struct s3_auth out;
		struct s3_auth_req req = {
			.method = t->method ? t->method : "GET",
			.path = t->path,
			.query = t->query,
			.hdrs = hdrs,
			.now = t->now,
			.alt_path = t->alt_path,
			.bucket_path = t->bucket_path,
			.v4_only = t->v4_only,
		};
		for (int k = 0; k < MAX_HDRS && t->hdrs[k][0]; k++) {
			hdrs[k].name = t->hdrs[k][0];
			hdrs[k].value = t->hdrs[k][1];
			req.nhdrs = k + 1;
		}
		memset(&out, 0xa5, sizeof(out));
		enum s3_err e = s3_auth_check(S3_AUTH_SIGV4, &req, lookup,
					      (void *)(t->creds ? t->creds : good), &out);
		if (e != t->want)
			fail_msg("%s: got %s (%d), want %s", t->name, s3_err_code(e), e,
				 s3_err_code(t->want));
		if (e) {
			assert_int_equal(out.access_key[0], 0);
			continue;
		}
		assert_string_equal(out.access_key, AK);
		assert_string_equal(out.user, "johnsmith");
		assert_int_equal(out.presigned, t->presigned);
		assert_int_equal(out.payload, t->payload);
		assert_int_equal(out.verify_chunks, 0);
		assert_int_equal(out.anonymous, 0);
	}
}

#define V2(sig) "AWS " AK ":" sig
#define GET_DATE "Tue, 27 Mar 2007 19:36:42 +0000"
#define GET_SIG "bWq2s1WEIj+Ydj0vQ697zp+IXMU="
#define UPLOAD_HDRS(auth) { \
	{ "Host", "static.johnsmith.net:8080" }, { "Date", "Tue, 27 Mar 2007 21:06:08 +0000" }, \
	{ "x-amz-acl", "public-read" }, { "content-type", "application/x-download" }, \
	{ "Content-MD5", "4gJE4saaMU4BqNR0kLY+lw==" }, \
	{ "X-Amz-Meta-ReviewedBy", "joe@johnsmith.net" }, \
	{ "X-Amz-Meta-ReviewedBy", "jane@johnsmith.net" }, \
	{ "X-Amz-Meta-FileChecksum", "0x02661779" }, \
	{ "X-Amz-Meta-ChecksumAlgorithm", "crc32" }, \
	{ "Content-Disposition", "attachment; filename=database.dat" }, \
	{ "Authorization", auth } }

/* Path style: the bucket is the path's first segment (the examples' virtual
 * hosts put it in the resource the same way). */
static const struct tcase examples[] = {
	{ .name = "object GET", .path = "/johnsmith/photos/puppy.jpg",
	  .hdrs = { { "Host", "s3.amazonaws.com" }, { "Date", GET_DATE },
		    { "Authorization", V2(GET_SIG) } },
	  .now = T_GET, .want = S3_ERR_OK },
	{ .name = "object PUT", .method = "PUT", .path = "/johnsmith/photos/puppy.jpg",
	  .hdrs = { { "Content-Type", "image/jpeg" }, { "Content-Length", "94328" },
		    { "Host", "s3.amazonaws.com" }, { "Date", "Tue, 27 Mar 2007 21:15:45 +0000" },
		    { "Authorization", V2("MyyxeRY7whkBe+bq8fHCL/2kKUg=") } },
	  .now = T_PUT, .want = S3_ERR_OK },
	{ .name = "list (query not signed)", .path = "/johnsmith/",
	  .query = "prefix=photos&max-keys=50&marker=puppy",
	  .hdrs = { { "User-Agent", "Mozilla/5.0" }, { "Host", "s3.amazonaws.com" },
		    { "Date", "Tue, 27 Mar 2007 19:42:41 +0000" },
		    { "Authorization", V2("htDYFYduRNen8P9ZfE/s9SuKy0U=") } },
	  .now = T_LIST, .want = S3_ERR_OK },
	{ .name = "fetch ACL (sub-resource signed)", .path = "/johnsmith/", .query = "acl",
	  .hdrs = { { "Host", "s3.amazonaws.com" }, { "Date", "Tue, 27 Mar 2007 19:44:46 +0000" },
		    { "Authorization", V2("c2WLPFtWHVgbEmeEG93a4cG37dM=") } },
	  .now = T_ACL, .want = S3_ERR_OK },
	/* As published: the x-amz-date value in the Date position. */
	{ .name = "DELETE with x-amz-date (AWS's example)", .method = "DELETE",
	  .path = "/johnsmith/photos/puppy.jpg",
	  .hdrs = { { "User-Agent", "dotnet" }, { "Host", "s3.amazonaws.com" },
		    { "Date", "Tue, 27 Mar 2007 21:20:27 +0000" },
		    { "x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000" },
		    { "Authorization", V2("lx3byBScXR6KzyMaifNkardMwNk=") } },
	  .now = T_DELETE, .want = S3_ERR_OK },
	/* As the page's rules (and every SDK) build it: empty Date line,
	 * x-amz-date among the x-amz-* headers. */
	{ .name = "DELETE with x-amz-date (the rules)", .method = "DELETE",
	  .path = "/johnsmith/photos/puppy.jpg",
	  .hdrs = { { "Host", "s3.amazonaws.com" }, { "Date", "Tue, 27 Mar 2007 21:20:27 +0000" },
		    { "x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000" },
		    { "Authorization", V2("R4dJ53KECjStyBO5iTBJZ4XVOaI=") } },
	  .now = T_DELETE, .want = S3_ERR_OK },
	/* x-amz-* headers lower-cased, sorted, repeats joined by ','. */
	{ .name = "upload with x-amz-* headers", .method = "PUT",
	  .path = "/static.johnsmith.net/db-backup.dat.gz",
	  .hdrs = UPLOAD_HDRS(V2("ilyl83RwaSoYIEdixDQcA4OnAnc=")), .now = T_UPLOAD,
	  .want = S3_ERR_OK },
	{ .name = "list all buckets", .path = "/",
	  .hdrs = { { "Host", "s3.amazonaws.com" }, { "Date", "Wed, 28 Mar 2007 01:29:59 +0000" },
		    { "Authorization", V2("qGdzdERIC03wnaRNKh6OqZehG9s=") } },
	  .now = T_BUCKETS, .want = S3_ERR_OK },
	/* The path as sent, escapes in whatever case the client wrote them. */
	{ .name = "unicode keys", .path = "/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
	  .hdrs = { { "Host", "s3.amazonaws.com" }, { "Date", "Wed, 28 Mar 2007 01:49:49 +0000" },
		    { "Authorization", V2("DNEZGsoieTZ92F3bUfSPQcbGmlM=") } },
	  .now = T_UNICODE, .want = S3_ERR_OK },
	/* Query string authentication. */
	{ .name = "presigned GET", .path = "/johnsmith/photos/puppy.jpg",
	  .query = "AWSAccessKeyId=" AK "&Expires=1175139620&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D",
	  .hdrs = { { "Host", "s3.amazonaws.com" } }, .now = 1175139620, .presigned = 1,
	  .want = S3_ERR_OK },
	{ .name = "presigned GET, '+' left unescaped", .path = "/johnsmith/photos/puppy.jpg",
	  .query = "Signature=NpgCjnDzrM+WFzoENXmpNDUsSn8%3D&AWSAccessKeyId=" AK "&Expires=1175139620",
	  .hdrs = { { "Host", "s3.amazonaws.com" } }, .now = T_GET, .presigned = 1,
	  .want = S3_ERR_OK },
	{ .name = "signed payload hash is honoured", .path = "/johnsmith/photos/puppy.jpg",
	  .hdrs = { { "Host", "s3.amazonaws.com" }, { "Date", GET_DATE },
		    { "x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		    { "Authorization", V2("71CTAskGmaWWHPtAKC7Zi4fgt48=") } },
	  .now = T_GET, .want = S3_ERR_OK, .payload = S3_PAYLOAD_SHA256 },
};

static void test_examples(void **state)
{
	check(examples, sizeof(examples) / sizeof(examples[0]));
}

#define GET_CASE(label, auth, now_, err) \
	{ .name = label, .path = "/johnsmith/photos/puppy.jpg", \
	  .hdrs = { { "Host", "s3.amazonaws.com" }, { "Date", GET_DATE }, { "Authorization", auth } }, \
	  .now = now_, .want = err }
#define PRESIGN(label, path_, q, now_, err) \
	{ .name = label, .path = path_, .query = q, .hdrs = { { "Host", "s3.amazonaws.com" } }, \
	  .now = now_, .want = err }
#define PQ(expires, sig) "AWSAccessKeyId=" AK "&Expires=" expires "&Signature=" sig

static const struct tcase refusals[] = {
	GET_CASE("tampered signature", V2("cWq2s1WEIj+Ydj0vQ697zp+IXMU="), T_GET,
		 S3_ERR_SIGNATURE_MISMATCH),
	GET_CASE("unknown key", "AWS AKIDUNKNOWN:" GET_SIG, T_GET, S3_ERR_INVALID_ACCESS_KEY),
	GET_CASE("skew +15 min ok", V2(GET_SIG), T_GET + 900, S3_ERR_OK),
	GET_CASE("request too old", V2(GET_SIG), T_GET + 901, S3_ERR_TIME_SKEWED),
	GET_CASE("request from the future", V2(GET_SIG), T_GET - 901, S3_ERR_TIME_SKEWED),
	GET_CASE("no colon", "AWS " AK, T_GET, S3_ERR_AUTH_V2_MALFORMED),
	GET_CASE("empty key", "AWS :" GET_SIG, T_GET, S3_ERR_AUTH_V2_MALFORMED),
	GET_CASE("signature not base64", V2("not-base64!"), T_GET, S3_ERR_SIGNATURE_MISMATCH),
	GET_CASE("signature too short", V2("bWq2s1WEIj+Ydj0vQ697"), T_GET, S3_ERR_SIGNATURE_MISMATCH),
	GET_CASE("empty signature", V2(""), T_GET, S3_ERR_SIGNATURE_MISMATCH),
	GET_CASE("empty signature, unknown key", "AWS nobody:", T_GET, S3_ERR_INVALID_ACCESS_KEY),
	{ .name = "another path", .path = "/johnsmith/photos/kitten.jpg",
	  .hdrs = { { "Date", GET_DATE }, { "Authorization", V2(GET_SIG) } }, .now = T_GET,
	  .want = S3_ERR_SIGNATURE_MISMATCH },
	{ .name = "path encoded differently", .path = "/johnsmith/photos/puppy%2Ejpg",
	  .hdrs = { { "Date", GET_DATE }, { "Authorization", V2(GET_SIG) } }, .now = T_GET,
	  .want = S3_ERR_SIGNATURE_MISMATCH },
	{ .name = "another method", .method = "DELETE", .path = "/johnsmith/photos/puppy.jpg",
	  .hdrs = { { "Date", GET_DATE }, { "Authorization", V2(GET_SIG) } }, .now = T_GET,
	  .want = S3_ERR_SIGNATURE_MISMATCH },
	{ .name = "sub-resource added", .path = "/johnsmith/photos/puppy.jpg", .query = "acl",
	  .hdrs = { { "Date", GET_DATE }, { "Authorization", V2(GET_SIG) } }, .now = T_GET,
	  .want = S3_ERR_SIGNATURE_MISMATCH },
	{ .name = "response override added", .path = "/johnsmith/photos/puppy.jpg",
	  .query = "response-content-type=text/html",
	  .hdrs = { { "Date", GET_DATE }, { "Authorization", V2(GET_SIG) } }, .now = T_GET,
	  .want = S3_ERR_SIGNATURE_MISMATCH },
	{ .name = "plain parameter added (not signed in V2)", .path = "/johnsmith/photos/puppy.jpg",
	  .query = "foo=bar",
	  .hdrs = { { "Date", GET_DATE }, { "Authorization", V2(GET_SIG) } }, .now = T_GET,
	  .want = S3_ERR_OK },
	{ .name = "x-amz-* header added", .path = "/johnsmith/photos/puppy.jpg",
	  .hdrs = { { "Date", GET_DATE }, { "x-amz-meta-a", "b" }, { "Authorization", V2(GET_SIG) } },
	  .now = T_GET, .want = S3_ERR_SIGNATURE_MISMATCH },
	{ .name = "content-type added", .path = "/johnsmith/photos/puppy.jpg",
	  .hdrs = { { "Date", GET_DATE }, { "Content-Type", "a/b" }, { "Authorization", V2(GET_SIG) } },
	  .now = T_GET, .want = S3_ERR_SIGNATURE_MISMATCH },
	{ .name = "upload, one x-amz header changed", .method = "PUT",
	  .path = "/static.johnsmith.net/db-backup.dat.gz",
	  .hdrs = { { "Date", "Tue, 27 Mar 2007 21:06:08 +0000" }, { "x-amz-acl", "private" },
		    { "content-type", "application/x-download" },
		    { "Content-MD5", "4gJE4saaMU4BqNR0kLY+lw==" },
		    { "X-Amz-Meta-ReviewedBy", "joe@johnsmith.net" },
		    { "X-Amz-Meta-ReviewedBy", "jane@johnsmith.net" },
		    { "X-Amz-Meta-FileChecksum", "0x02661779" },
		    { "X-Amz-Meta-ChecksumAlgorithm", "crc32" },
		    { "Authorization", V2("ilyl83RwaSoYIEdixDQcA4OnAnc=") } },
	  .now = T_UPLOAD, .want = S3_ERR_SIGNATURE_MISMATCH },
	{ .name = "upload, repeated values swapped", .method = "PUT",
	  .path = "/static.johnsmith.net/db-backup.dat.gz",
	  .hdrs = { { "Date", "Tue, 27 Mar 2007 21:06:08 +0000" }, { "x-amz-acl", "public-read" },
		    { "content-type", "application/x-download" },
		    { "Content-MD5", "4gJE4saaMU4BqNR0kLY+lw==" },
		    { "X-Amz-Meta-ReviewedBy", "jane@johnsmith.net" },
		    { "X-Amz-Meta-ReviewedBy", "joe@johnsmith.net" },
		    { "X-Amz-Meta-FileChecksum", "0x02661779" },
		    { "X-Amz-Meta-ChecksumAlgorithm", "crc32" },
		    { "Authorization", V2("ilyl83RwaSoYIEdixDQcA4OnAnc=") } },
	  .now = T_UPLOAD, .want = S3_ERR_SIGNATURE_MISMATCH },
	{ .name = "no date", .path = "/johnsmith/photos/puppy.jpg",
	  .hdrs = { { "Authorization", V2(GET_SIG) } }, .now = T_GET, .want = S3_ERR_ACCESS_DENIED },
	{ .name = "bad date", .path = "/johnsmith/photos/puppy.jpg",
	  .hdrs = { { "Date", "yesterday" }, { "Authorization", V2(GET_SIG) } }, .now = T_GET,
	  .want = S3_ERR_ACCESS_DENIED },
	{ .name = "header and query both", .path = "/johnsmith/photos/puppy.jpg",
	  .query = PQ("1175139620", "NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D"),
	  .hdrs = { { "Date", GET_DATE }, { "Authorization", V2(GET_SIG) } }, .now = T_GET,
	  .want = S3_ERR_INVALID_ARGUMENT },
	PRESIGN("presigned, expired", "/johnsmith/photos/puppy.jpg",
		PQ("1175139620", "NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D"), 1175139621,
		S3_ERR_EXPIRED_REQUEST),
	PRESIGN("presigned, Expires changed", "/johnsmith/photos/puppy.jpg",
		PQ("1175139621", "NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D"), T_GET,
		S3_ERR_SIGNATURE_MISMATCH),
	PRESIGN("presigned, another key", "/johnsmith/photos/kitten.jpg",
		PQ("1175139620", "NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D"), T_GET,
		S3_ERR_SIGNATURE_MISMATCH),
	/* Expires at most a week (S3_PRESIGN_MAX) ahead, as SigV4's X-Amz-Expires:
	 * checked before the key or signature, so any signature will do. */
	{ .name = "presigned, Expires a week ahead", .path = "/johnsmith/photos/puppy.jpg",
	  .query = PQ("1175139620", "NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D"),
	  .hdrs = { { "Host", "s3.amazonaws.com" } }, .now = 1175139620 - 604800, .presigned = 1,
	  .want = S3_ERR_OK },
	PRESIGN("presigned, Expires a week and a second ahead", "/johnsmith/photos/puppy.jpg",
		PQ("1175139620", "NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D"), 1175139620 - 604801,
		S3_ERR_PRESIGN_V2_TOO_LONG),
	PRESIGN("presigned, Expires in 2100", "/johnsmith/photos/puppy.jpg",
		PQ("4102444800", "AAAAAAAAAAAAAAAAAAAAAAAAAAA%3D"), T_GET, S3_ERR_PRESIGN_V2_TOO_LONG),
	PRESIGN("presigned, Expires not a number", "/johnsmith/photos/puppy.jpg",
		PQ("soon", "NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D"), T_GET, S3_ERR_ACCESS_DENIED),
	PRESIGN("presigned, no Expires", "/johnsmith/photos/puppy.jpg",
		"AWSAccessKeyId=" AK "&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D", T_GET,
		S3_ERR_AUTH_V2_QUERY_MALFORMED),
	PRESIGN("presigned, unknown key", "/johnsmith/photos/puppy.jpg",
		"AWSAccessKeyId=AKIDX&Expires=1175139620&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D",
		T_GET, S3_ERR_INVALID_ACCESS_KEY),
	/* v4_only (the admin API): a valid V2 signature is no credential */
	{ .name = "v4_only, valid header", .path = "/johnsmith/photos/puppy.jpg",
	  .hdrs = { { "Host", "s3.amazonaws.com" }, { "Date", GET_DATE },
		    { "Authorization", V2(GET_SIG) } },
	  .now = T_GET, .want = S3_ERR_SIGV2_NOT_SUPPORTED, .v4_only = 1 },
	{ .name = "v4_only, valid presigned", .path = "/johnsmith/photos/puppy.jpg",
	  .query = PQ("1175139620", "NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D"),
	  .hdrs = { { "Host", "s3.amazonaws.com" } }, .now = T_GET,
	  .want = S3_ERR_SIGV2_NOT_SUPPORTED, .v4_only = 1 },
	PRESIGN("presigned, signature not base64", "/johnsmith/photos/puppy.jpg",
		PQ("1175139620", "%25%25%25"), T_GET, S3_ERR_SIGNATURE_MISMATCH),
};

static void test_refusals(void **state)
{
	check(refusals, sizeof(refusals) / sizeof(refusals[0]));
	/* and the examples themselves with a wrong secret */
	struct tcase t = examples[0];
	t.creds = wrong;
	t.want = S3_ERR_SIGNATURE_MISMATCH;
	check(&t, 1);
}

/* Sub-resources sort by name and keep their decoded values; other
 * parameters do not sign. Signatures computed with
 * botocore HmacV1Auth's canonical strings. */
static const struct tcase subresources[] = {
	{ .name = "uploadId and partNumber sorted, other params left out", .method = "PUT",
	  .path = "/bkt/big%20file", .query = "uploadId=abc%2Fdef&foo=1&partNumber=3",
	  .hdrs = { { "Date", "Tue, 27 Mar 2007 19:36:42 GMT" },
		    { "Authorization", V2("aB+9buFX/4yMebovwR3c56cNY4E=") } },
	  .now = T_GET, .want = S3_ERR_OK },
	{ .name = "delete and response-*", .method = "POST", .path = "/bkt/",
	  .query = "delete&response-content-type=text%2Fplain",
	  .hdrs = { { "Date", "Tue, 27 Mar 2007 19:36:42 GMT" },
		    { "Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==" },
		    { "Authorization", V2("TpE+4BLrUq6qOgBCvfFretkjvgM=") } },
	  .now = T_GET, .want = S3_ERR_OK },
	{ .name = "Alluxio prefix is part of the resource", .path = "/api/v1/s3/bkt/k",
	  .hdrs = { { "Date", "Tue, 27 Mar 2007 19:36:42 GMT" },
		    { "Authorization", V2("trbseOW2kR6dK+f0UJ4+gCxodFI=") } },
	  .now = T_GET, .want = S3_ERR_OK },
	/* botocore: the endpoint's path left out of the resource */
	{ .name = "prefix left out, alt_path given", .path = "/api/v1/s3/bkt/k", .alt_path = "/bkt/k",
	  .hdrs = { { "Date", "Tue, 27 Mar 2007 19:36:42 GMT" },
		    { "Authorization", V2("nyeirxZOEGY6sG0PT+7g0SF4Gz0=") } },
	  .now = T_GET, .want = S3_ERR_OK },
	{ .name = "prefix left out, no alt_path", .path = "/api/v1/s3/bkt/k",
	  .hdrs = { { "Date", "Tue, 27 Mar 2007 19:36:42 GMT" },
		    { "Authorization", V2("nyeirxZOEGY6sG0PT+7g0SF4Gz0=") } },
	  .now = T_GET, .want = S3_ERR_SIGNATURE_MISMATCH },
	/* botocore: a path-style bucket request signed as "/bkt/" */
	{ .name = "bucket signed with '/'", .method = "PUT", .path = "/bkt", .bucket_path = 1,
	  .hdrs = { { "Date", "Tue, 27 Mar 2007 19:36:42 GMT" },
		    { "Authorization", V2("dZLKuFfwAX2UZODpqoSSIUA4EiQ=") } },
	  .now = T_GET, .want = S3_ERR_OK },
	{ .name = "object path never takes the '/'", .method = "PUT", .path = "/bkt",
	  .hdrs = { { "Date", "Tue, 27 Mar 2007 19:36:42 GMT" },
		    { "Authorization", V2("dZLKuFfwAX2UZODpqoSSIUA4EiQ=") } },
	  .now = T_GET, .want = S3_ERR_SIGNATURE_MISMATCH },
};

static void test_subresources(void **state)
{
	check(subresources, sizeof(subresources) / sizeof(subresources[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_subresources),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
