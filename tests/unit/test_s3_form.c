/* POST Object's pure pieces (s3/s3_form.c): the multipart/form-data
 * reader, fed in every read size; the policy checker; form signatures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/hash.h"
#include "s3/s3_form.h"

#define NOW ((time_t)1369353600) /* 2013-05-24T00:00:00Z */

struct src {
	const char *data;
	size_t len, pos, step;
};

static long src_read(void *arg, void *buf, size_t len)
{
	struct src *s = arg;
	size_t n = s->len - s->pos;
	if (n > len)
		n = len;
	if (n > s->step)
		n = s->step;
	memcpy(buf, s->data + s->pos, n);
	s->pos += n;
	return (long)n;
}

static struct s3_form *form_new(struct src *s, const char *boundary)
{
	struct s3_form *f = malloc(sizeof(*f));
	assert_non_null(f);
	s3_form_init(f, boundary, src_read, s);
	return f;
}

#define BODY \
	"preamble\r\n" \
	"--XyZ\r\n" \
	"Content-Disposition: form-data; name=\"key\"\r\n\r\n" \
	"user/${filename}\r\n" \
	"--XyZ  \r\n" \
	"content-disposition: form-data; name=\"x-amz-meta-Note\"\n\n" \
	"two\r\nlines\r\n" \
	"--XyZ\r\n" \
	"Content-Disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".txt\"\r\n" \
	"Content-Type: text/plain\r\n\r\n" \
	"file body\r\n--Xy not a delimiter\r\n" \
	"--XyZ\r\n" \
	"Content-Disposition: form-data; name=\"after\"\r\n\r\n" \
	"ignored\r\n" \
	"--XyZ--\r\n"

static void reads_fields_then_file(void **state)
{
	static const size_t steps[] = { 1, 2, 3, 7, 64, 100000 };
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct src s = { BODY, sizeof(BODY) - 1, 0, steps[i] };
		struct s3_form *f = form_new(&s, "XyZ");
		char out[128];
		size_t got = 0;
		enum s3_err e = S3_ERR_OK;
		assert_int_equal(s3_form_fields(f), S3_ERR_OK);
		assert_int_equal(f->nfields, 2);
		assert_string_equal(s3_form_get(f, "KEY")->value, "user/${filename}");
		assert_string_equal(s3_form_get(f, "x-amz-meta-note")->value, "two\r\nlines");
		assert_string_equal(f->file_name, "a \"b\".txt");
		assert_string_equal(f->file_type, "text/plain");
		for (;;) {
			long n = s3_form_read(f, out + got, sizeof(out) - got, &e);
			assert_true(n >= 0);
			if (n == 0)
				break;
			got += (size_t)n;
		}
		assert_int_equal(got, strlen("file body\r\n--Xy not a delimiter"));
		assert_memory_equal(out, "file body\r\n--Xy not a delimiter", got);
		free(f);
	}
}

static void refusals(void **state)
{
	static const struct {
		const char *body;
		enum s3_err want;
	} cases[] = {
		{ "", S3_ERR_MALFORMED_POST },
		{ "--XyZ--\r\n", S3_ERR_MISSING_FILE },
		{ "--XyZ\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--XyZ--",
		  S3_ERR_MISSING_FILE },
		{ "--XyZ\r\nContent-Type: text/plain\r\n\r\nk\r\n--XyZ--", S3_ERR_MALFORMED_POST },
		{ "--XyZ\r\nContent-Disposition: attachment; name=\"k\"\r\n\r\nk\r\n--XyZ--",
		  S3_ERR_MALFORMED_POST },
		{ "--XyZ\r\nContent-Disposition: form-data\r\n\r\nk\r\n--XyZ--",
		  S3_ERR_MALFORMED_POST },
		{ "--XyZ\r\nno colon\r\n\r\n", S3_ERR_MALFORMED_POST },
		{ "--XyZjunk\r\n", S3_ERR_MALFORMED_POST },
		{ "--XyZ\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nnever ends",
		  S3_ERR_MALFORMED_POST },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct src s = { cases[i].body, strlen(cases[i].body), 0, 5 };
		struct s3_form *f = form_new(&s, "XyZ");
		enum s3_err e = s3_form_fields(f);
		if (e != cases[i].want)
			fail_msg("case %zu: %s, want %s", i, s3_err_code(e),
				 s3_err_code(cases[i].want));
		free(f);
	}
}

static void pre_data_cap(void **state)
{
	size_t n = S3_FORM_PRE_MAX + 100;
	char *body = malloc(n + 200);
	int k = snprintf(body, 200, "--B\r\nContent-Disposition: form-data; name=\"pad\"\r\n\r\n");
	memset(body + k, 'p', n);
	memcpy(body + k + n, "\r\n--B--\r\n", 10);
	struct src s = { body, strlen(body), 0, 4096 };
	struct s3_form *f = form_new(&s, "B");
	assert_int_equal(s3_form_fields(f), S3_ERR_MAX_POST_PRE_DATA);
	free(f);
	free(body);
}

static void boundaries(void **state)
{
	char b[S3_FORM_BOUNDARY_MAX + 1];
	assert_int_equal(s3_form_boundary("multipart/form-data; boundary=abc", b), 0);
	assert_string_equal(b, "abc");
	assert_int_equal(s3_form_boundary("Multipart/Form-Data;charset=x; Boundary=\"a b\"", b), 0);
	assert_string_equal(b, "a b");
	assert_int_equal(s3_form_boundary("multipart/form-data", b), -1);
	assert_int_equal(s3_form_boundary("multipart/form-data; boundary=", b), -1);
	assert_int_equal(s3_form_boundary("multipart/mixed; boundary=abc", b), -1);
	assert_int_equal(s3_form_boundary("text/plain", b), -1);
	assert_int_equal(s3_form_boundary(NULL, b), -1);
}

/* A form with the given fields (name, value pairs) and an empty file. */
static struct s3_form *form_of(const char *const *kv, struct src *s, char *store, size_t size)
{
	size_t k = 0;
	for (; *kv; kv += 2)
		k += (size_t)snprintf(store + k, size - k,
				      "--B\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n",
				      kv[0], kv[1]);
	k += (size_t)snprintf(store + k, size - k,
			      "--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n\r\n--B--\r\n");
	s->data = store;
	s->len = k;
	s->pos = 0;
	s->step = 1000;
	struct s3_form *f = form_new(s, "B");
	assert_int_equal(s3_form_fields(f), S3_ERR_OK);
	return f;
}

static char *b64(const char *s)
{
	char *out = malloc(4 * ((strlen(s) + 2) / 3) + 1);
	base64_encode((const unsigned char *)s, strlen(s), out);
	return out;
}

static void policies(void **state)
{
	static const char *const kv[] = {
		"key", "user/eric/a.txt", "Content-Type", "image/png, image/gif",
		"x-amz-meta-tag", "v", "x-ignore-this", "1", "policy", "P", "x-amz-signature", "S",
		NULL,
	};
	static const struct {
		const char *policy;
		enum s3_err want;
		const char *msg;
		uint64_t lo, hi;
	} cases[] = {
		{ "{\"expiration\":\"2013-05-24T00:00:01Z\",\"conditions\":[{\"bucket\":\"b\"},"
		  "[\"starts-with\",\"$key\",\"user/eric/\"],[\"starts-with\",\"$Content-Type\","
		  "\"image/\"],{\"x-amz-meta-tag\":\"v\"},[\"content-length-range\",1,10]]}",
		  S3_ERR_OK, "", 1, 10 },
		{ "{\"expiration\":\"2013-05-24T00:00:00.000Z\",\"conditions\":[]}",
		  S3_ERR_POLICY_EXPIRED, "Invalid according to Policy: Policy expired.", 0, 0 },
		/* at most a week ahead, as a presigned URL (S3_PRESIGN_MAX) */
		{ "{\"expiration\":\"2013-05-31T00:00:00Z\",\"conditions\":[{\"bucket\":\"b\"},"
		  "[\"starts-with\",\"$key\",\"user/eric/\"],[\"starts-with\",\"$Content-Type\","
		  "\"image/\"],{\"x-amz-meta-tag\":\"v\"}]}", S3_ERR_OK, "", 0, UINT64_MAX },
		{ "{\"expiration\":\"2013-05-31T00:00:01Z\",\"conditions\":[{\"bucket\":\"b\"},"
		  "[\"starts-with\",\"$key\",\"user/eric/\"],[\"starts-with\",\"$Content-Type\","
		  "\"image/\"],{\"x-amz-meta-tag\":\"v\"}]}", S3_ERR_POLICY_EXPIRATION_TOO_LONG, "",
		  0, 0 },
		{ "{\"expiration\":\"2100-01-01T00:00:00Z\",\"conditions\":[]}",
		  S3_ERR_POLICY_EXPIRATION_TOO_LONG, "", 0, 0 },
		{ "{\"expiration\":\"2013-05-25T00:00:00Z\",\"conditions\":[{\"bucket\":\"b\"},"
		  "[\"eq\",\"$key\",\"user/eric/a.txt\"],[\"starts-with\",\"$content-type\",\"\"]]}",
		  S3_ERR_POLICY_EXTRA_FIELDS,
		  "Invalid according to Policy: Extra input fields: x-amz-meta-tag", 0, 0 },
		{ "{\"expiration\":\"2013-05-25T00:00:00Z\",\"conditions\":[{\"bucket\":\"c\"}]}",
		  S3_ERR_POLICY_CONDITION,
		  "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$bucket\", \"c\"]",
		  0, 0 },
		{ "{\"expiration\":\"2013-05-25T00:00:00Z\",\"conditions\":[[\"starts-with\","
		  "\"$Content-Type\",\"image/p\"]]}", S3_ERR_POLICY_CONDITION, NULL, 0, 0 },
		{ "{\"expiration\":\"2013-05-25T00:00:00Z\",\"conditions\":[[\"starts-with\","
		  "\"$key\",\"user/bob/\"]]}", S3_ERR_POLICY_CONDITION, NULL, 0, 0 },
		{ "{\"expiration\":\"2013-05-25T00:00:00Z\",\"conditions\":[[\"eq\",\"$x-amz-meta-"
		  "missing\",\"\"],[\"eq\",\"key\",\"x\"]]}", S3_ERR_INVALID_POLICY, NULL, 0, 0 },
		{ "{\"expiration\":\"2013-05-25T00:00:00Z\",\"conditions\":[[\"in\",\"$key\",\"x\"]]}",
		  S3_ERR_INVALID_POLICY, NULL, 0, 0 },
		{ "{\"expiration\":\"tomorrow\",\"conditions\":[]}", S3_ERR_INVALID_POLICY, NULL, 0, 0 },
		{ "{\"expiration\":\"2013-05-24\",\"conditions\":[]}", S3_ERR_INVALID_POLICY, NULL, 0, 0 },
		{ "{\"expiration\":\"2013-02-30T00:00:00Z\",\"conditions\":[]}", S3_ERR_INVALID_POLICY,
		  NULL, 0, 0 },
		{ "{\"expiration\":\"2013-05-25T00:00:00+01:00\",\"conditions\":[]}",
		  S3_ERR_INVALID_POLICY, NULL, 0, 0 },
		{ "{\"conditions\":[]}", S3_ERR_INVALID_POLICY, NULL, 0, 0 },
		{ "[]", S3_ERR_INVALID_POLICY, NULL, 0, 0 },
		{ "{\"expiration\":\"2013-05-25T00:00:00Z\",\"conditions\":[[\"content-length-range\","
		  "-1,5]]}", S3_ERR_INVALID_POLICY, NULL, 0, 0 },
	};
	char store[4096];
	struct src s;
	struct s3_form *f = form_of(kv, &s, store, sizeof(store));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = b64(cases[i].policy), msg[512];
		struct s3_policy_limits lim;
		enum s3_err e = s3_policy_check(p, strlen(p), f, "b", NOW, &lim, msg, sizeof(msg));
		if (e != cases[i].want)
			fail_msg("case %zu: %s, want %s (%s)", i, s3_err_code(e),
				 s3_err_code(cases[i].want), msg);
		if (cases[i].msg)
			assert_string_equal(msg, cases[i].msg);
		if (e == S3_ERR_OK) {
			assert_int_equal(lim.min_size, cases[i].lo);
			assert_int_equal(lim.max_size, cases[i].hi);
		}
		free(p);
	}
	/* not base64 at all */
	struct s3_policy_limits lim;
	char msg[64];
	assert_int_equal(s3_policy_check("%%%", 3, f, "b", NOW, &lim, msg, sizeof(msg)),
			 S3_ERR_INVALID_POLICY);
	free(f);
}

/* libjansson reads the document: a key named twice is refused, numbers
 * compare as their text (an integer exactly, a fraction as its shortest
 * text), and only non-negative integers bound content-length-range. */
static void policy_json(void **state)
{
	static const char *const kv[] = { "key", "k", "x-amz-meta-i", "42", "x-amz-meta-f", "0.1",
					  NULL };
	static const struct {
		const char *conds;
		enum s3_err want;
	} cases[] = {
		{ "{\"key\":\"k\",\"x-amz-meta-i\":42,\"x-amz-meta-f\":0.1}", S3_ERR_OK },
		{ "[\"eq\",\"$x-amz-meta-i\",42],[\"eq\",\"$x-amz-meta-f\",1e-1],"
		  "{\"key\":\"k\"}", S3_ERR_OK },
		{ "{\"key\":\"k\",\"x-amz-meta-i\":42,\"x-amz-meta-f\":0.10000001}",
		  S3_ERR_POLICY_CONDITION },
		{ "{\"key\":\"k\",\"key\":\"k\"}", S3_ERR_INVALID_POLICY },
		{ "{\"key\":\"k\",\"x-amz-meta-i\":true}", S3_ERR_INVALID_POLICY },
		{ "{\"key\":\"k\",\"x-amz-meta-i\":null}", S3_ERR_INVALID_POLICY },
		{ "{}", S3_ERR_INVALID_POLICY },
		{ "[\"content-length-range\",0,1.5]", S3_ERR_INVALID_POLICY },
		{ "[\"content-length-range\",\"0\",\"5\"]", S3_ERR_INVALID_POLICY },
		{ "[\"content-length-range\",0,5,6]", S3_ERR_INVALID_POLICY },
		{ "[\"eq\",\"key\",\"k\"]", S3_ERR_INVALID_POLICY },
	};
	char store[4096], doc[512], msg[256];
	struct src s;
	struct s3_form *f = form_of(kv, &s, store, sizeof(store));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(doc, sizeof(doc), "{\"expiration\":\"2013-05-25T00:00:00Z\","
			 "\"conditions\":[%s]}", cases[i].conds);
		char *p = b64(doc);
		struct s3_policy_limits lim;
		enum s3_err e = s3_policy_check(p, strlen(p), f, "b", NOW, &lim, msg, sizeof(msg));
		if (e != cases[i].want)
			fail_msg("case %zu: %s, want %s (%s)", i, s3_err_code(e),
				 s3_err_code(cases[i].want), msg);
		free(p);
	}
	/* the same member twice at the top */
	char *p = b64("{\"expiration\":\"2013-05-25T00:00:00Z\",\"conditions\":[],"
		      "\"conditions\":[]}");
	struct s3_policy_limits lim;
	assert_int_equal(s3_policy_check(p, strlen(p), f, "b", NOW, &lim, msg, sizeof(msg)),
			 S3_ERR_INVALID_POLICY);
	free(p);
	free(f);
}

static int secret_of(void *arg, const char *ak, char *secret, size_t ssize, char *user,
		     size_t usize)
{
	if (strcmp(ak, "AKIAIOSFODNN7EXAMPLE"))
		return -1;
	snprintf(secret, ssize, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
	snprintf(user, usize, "alice");
	return 0;
}

/* AWS's published POST example (sigv4-HTTPPOSTConstructPolicy): its policy
 * and signature, signed with the example key on 20151229. */
#define AWS_POLICY \
	"eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9"
#define AWS_SIG "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"

static void signatures(void **state)
{
	const char *v4[] = {
		"key", "user/user1/x", "x-amz-algorithm", "AWS4-HMAC-SHA256",
		"x-amz-credential", "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request",
		"policy", AWS_POLICY, "x-amz-signature", AWS_SIG, NULL,
	};
	char store[8192], user[65];
	struct src s;
	int anon;
	struct s3_form *f = form_of(v4, &s, store, sizeof(store));
	assert_int_equal(s3_form_auth(S3_AUTH_SIGV4, f, secret_of, NULL, user, sizeof(user), &anon),
			 S3_ERR_OK);
	assert_string_equal(user, "alice");
	assert_int_equal(anon, 0);
	free(f);

	v4[9] = "9afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e";
	f = form_of(v4, &s, store, sizeof(store));
	assert_int_equal(s3_form_auth(S3_AUTH_SIGV4, f, secret_of, NULL, user, sizeof(user), &anon),
			 S3_ERR_SIGNATURE_MISMATCH);
	assert_int_equal(s3_form_auth(S3_AUTH_SIMPLE, f, secret_of, NULL, user, sizeof(user), &anon),
			 S3_ERR_OK);
	assert_string_equal(user, "AKIAIOSFODNN7EXAMPLE");
	free(f);

	v4[5] = "AKIDOTHER/20151229/us-east-1/s3/aws4_request";
	f = form_of(v4, &s, store, sizeof(store));
	assert_int_equal(s3_form_auth(S3_AUTH_SIGV4, f, secret_of, NULL, user, sizeof(user), &anon),
			 S3_ERR_INVALID_ACCESS_KEY);
	free(f);
	v4[5] = "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/sqs/aws4_request";
	f = form_of(v4, &s, store, sizeof(store));
	assert_int_equal(s3_form_auth(S3_AUTH_SIGV4, f, secret_of, NULL, user, sizeof(user), &anon),
			 S3_ERR_INVALID_ARGUMENT);
	free(f);

	/* SigV2: base64(HMAC-SHA1(secret, policy)) */
	unsigned char mac[SHA1_LEN];
	char sig[64];
	const char *key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
	hmac_sha1(key, strlen(key), "cG9saWN5", 8, mac);
	base64_encode(mac, sizeof(mac), sig);
	const char *v2[] = { "key", "k", "AWSAccessKeyId", "AKIAIOSFODNN7EXAMPLE",
			     "policy", "cG9saWN5", "signature", sig, NULL };
	f = form_of(v2, &s, store, sizeof(store));
	assert_int_equal(s3_form_auth(S3_AUTH_SIGV4, f, secret_of, NULL, user, sizeof(user), &anon),
			 S3_ERR_OK);
	free(f);
	v2[5] = "cG9saWN6";
	f = form_of(v2, &s, store, sizeof(store));
	assert_int_equal(s3_form_auth(S3_AUTH_SIGV4, f, secret_of, NULL, user, sizeof(user), &anon),
			 S3_ERR_SIGNATURE_MISMATCH);
	free(f);

	/* No signature fields: anonymous in both modes (what it may do is
	 * the bucket's to say). */
	const char *none[] = { "key", "k", NULL };
	f = form_of(none, &s, store, sizeof(store));
	anon = 0;
	assert_int_equal(s3_form_auth(S3_AUTH_SIGV4, f, secret_of, NULL, user, sizeof(user), &anon),
			 S3_ERR_OK);
	assert_int_equal(anon, 1);
	anon = 0;
	assert_int_equal(s3_form_auth(S3_AUTH_SIMPLE, f, secret_of, NULL, user, sizeof(user), &anon),
			 S3_ERR_OK);
	assert_int_equal(anon, 1);
	free(f);

	/* An empty AWSAccessKeyId: no user named (simple), no credential (sigv4). */
	const char *empty[] = { "key", "k", "AWSAccessKeyId", "", "policy", "cG9saWN5",
				"signature", sig, NULL };
	f = form_of(empty, &s, store, sizeof(store));
	assert_int_equal(s3_form_auth(S3_AUTH_SIMPLE, f, secret_of, NULL, user, sizeof(user), &anon),
			 S3_ERR_OK);
	assert_int_equal(anon, 1);
	assert_int_equal(s3_form_auth(S3_AUTH_SIGV4, f, secret_of, NULL, user, sizeof(user), &anon),
			 S3_ERR_INVALID_ARGUMENT);
	free(f);
}

/* ${filename}: every field but those that sign the form, the file's name
 * after its last '/' or '\\'. */
static void filename_expansion(void **state)
{
	const char *kv[] = { "key", "up/${filename}", "x-amz-meta-a", "${filename}${filename}",
			     "policy", "${filename}", "Content-Type", "plain", NULL };
	char store[8192];
	struct src s;
	struct s3_form *f = form_of(kv, &s, store, sizeof(store));
	snprintf(f->file_name, sizeof(f->file_name), "C:\\dir/x\\me.jpg");
	assert_int_equal(s3_form_expand(f), S3_ERR_OK);
	assert_string_equal(s3_form_get(f, "key")->value, "up/me.jpg");
	assert_int_equal(s3_form_get(f, "key")->value_len, 9);
	assert_string_equal(s3_form_get(f, "x-amz-meta-a")->value, "me.jpgme.jpg");
	assert_string_equal(s3_form_get(f, "policy")->value, "${filename}");
	assert_string_equal(s3_form_get(f, "Content-Type")->value, "plain");
	free(f);

	/* No file name: the variable goes away. */
	f = form_of(kv, &s, store, sizeof(store));
	f->file_name[0] = '\0';
	assert_int_equal(s3_form_expand(f), S3_ERR_OK);
	assert_string_equal(s3_form_get(f, "key")->value, "up/");
	free(f);

	/* Growth past the cap is refused, not truncated. */
	static char many[S3_FORM_PRE_MAX / 2];
	for (size_t i = 0; i + 11 < sizeof(many); i += 11)
		memcpy(many + i, "${filename}", 11);
	const char *big[] = { "key", many, NULL };
	static char bigstore[S3_FORM_PRE_MAX];
	f = form_of(big, &s, bigstore, sizeof(bigstore));
	memset(f->file_name, 'n', 200);
	f->file_name[200] = '\0';
	assert_int_equal(s3_form_expand(f), S3_ERR_MAX_POST_PRE_DATA);
	free(f);
}

static void checksum_fields(void **state)
{
	static const struct {
		const char *kv[7];
		enum s3_err want;
		enum checksum_alg alg;
	} cases[] = {
		{ { "key", "k", NULL }, S3_ERR_OK, CHECKSUM_NONE },
		{ { "x-amz-checksum-sha256", "v", NULL }, S3_ERR_OK, CHECKSUM_SHA256 },
		{ { "X-Amz-Checksum-CRC64NVME", "v", "x-amz-checksum-algorithm", "crc64nvme", NULL },
		  S3_ERR_OK, CHECKSUM_CRC64NVME },
		{ { "x-amz-checksum-crc32", "v", "x-amz-checksum-sha1", "w", NULL },
		  S3_ERR_CHECKSUM_MULTIPLE, CHECKSUM_CRC32 },
		{ { "x-amz-checksum-md5", "v", NULL }, S3_ERR_CHECKSUM_ALG, CHECKSUM_NONE },
		{ { "x-amz-checksum-crc32", "v", "x-amz-checksum-algorithm", "SHA1", NULL },
		  S3_ERR_CHECKSUM_ALG, CHECKSUM_CRC32 },
		{ { "x-amz-checksum-algorithm", "SHA1", NULL }, S3_ERR_CHECKSUM_MISSING,
		  CHECKSUM_NONE },
	};
	char store[4096];
	struct src s;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct s3_form *f = form_of(cases[i].kv, &s, store, sizeof(store));
		enum checksum_alg alg;
		const char *v;
		assert_int_equal(s3_form_checksum(f, &alg, &v), cases[i].want);
		if (cases[i].want == S3_ERR_OK) {
			assert_int_equal(alg, cases[i].alg);
			assert_true(alg == CHECKSUM_NONE ? v == NULL : v != NULL);
		}
		free(f);
	}
}

/* Which field a signed form lacks; none at all is unsigned. */
static void missing_fields(void **state)
{
	static const struct {
		const char *kv[11];
		const char *missing;
	} cases[] = {
		{ { "key", "k", NULL }, NULL },
		{ { "key", "k", "policy", "p", NULL }, "AWSAccessKeyId" },
		{ { "x-amz-algorithm", "a", "x-amz-credential", "c", "x-amz-signature", "s",
		    "policy", "p", NULL }, NULL },
		{ { "x-amz-algorithm", "a", "x-amz-credential", "c", "policy", "p", NULL },
		  "x-amz-signature" },
		{ { "x-amz-credential", "c", "x-amz-signature", "s", "policy", "p", NULL },
		  "x-amz-algorithm" },
		{ { "x-amz-algorithm", "a", "x-amz-credential", "c", "x-amz-signature", "s", NULL },
		  "policy" },
		{ { "AWSAccessKeyId", "a", "signature", "s", "policy", "p", NULL }, NULL },
		{ { "AWSAccessKeyId", "a", "policy", "p", NULL }, "signature" },
		{ { "signature", "s", "policy", "p", NULL }, "AWSAccessKeyId" },
	};
	char store[4096], user[65];
	struct src s;
	int anon;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct s3_form *f = form_of(cases[i].kv, &s, store, sizeof(store));
		const char *m = s3_form_missing_field(f);
		if (cases[i].missing) {
			assert_non_null(m);
			assert_string_equal(m, cases[i].missing);
			assert_int_equal(s3_form_auth(S3_AUTH_SIGV4, f, secret_of, NULL, user,
						      sizeof(user), &anon),
					 S3_ERR_POST_FIELD_MISSING);
		} else {
			assert_null(m);
		}
		free(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_fields_then_file),
		cmocka_unit_test(refusals),
		cmocka_unit_test(pre_data_cap),
		cmocka_unit_test(boundaries),
		cmocka_unit_test(policies),
		cmocka_unit_test(policy_json),
		cmocka_unit_test(signatures),
		cmocka_unit_test(filename_expansion),
		cmocka_unit_test(checksum_fields),
		cmocka_unit_test(missing_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
