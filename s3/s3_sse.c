/*
 * s3_sse — server-side encryption in the S3 door: the request headers
 * (SSE-S3's x-amz-server-side-encryption, SSE-C's
 * x-amz-server-side-encryption-customer-* and their x-amz-copy-source-
 * forms), their checks and errors as AWS answers them, the response
 * headers, and Put/Get/DeleteBucketEncryption. The core encrypts and
 * decrypts (src/sse.c); this file only decides what a request asks for.
 * The same fields come as a presigned URL's query parameters (not SSE-C's:
 * its key never goes in a URL; the router refuses it there) and as POST
 * form fields (s3_sse_form).
 *
 * SSE-KMS: there is no KMS here, so aws:kms and aws:kms:dsse are answered
 * as AWS answers a key it does not know (400 KMS.NotFoundException) and
 * nothing is stored, in the clear or otherwise.
 *
 * SSE-C needs a secure connection on AWS (the key travels in a header).
 * Atrium accepts it over TLS, and over plain HTTP only from a loopback
 * client (127.0.0.0/8, ::1), where the key never crosses a network: the
 * tests and a local proxy that terminates TLS. docs/s3-compatibility.md.
 */
#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "common/hash.h"
#include "common/xml.h"
#include "s3/s3_form.h"
#include "s3/s3_int.h"
#include "common/banned.h"

#define SSE_BODY_MAX (16 * 1024)

static int value_is(const char *v, const char *want)
{
	size_t n = strlen(want);
	v += strspn(v, " \t");
	return !strncmp(v, want, n) && !v[n + strspn(v + n, " \t")];
}

static int loopback(const char *addr)
{
	return addr && (!strncmp(addr, "127.", 4) || !strcmp(addr, "::1") ||
			!strncmp(addr, "::ffff:127.", 11));
}

/* A request's SSE field: its header, or in a presigned URL its query
 * parameter (presigners hoist x-amz-* headers there, under the
 * signature; the router lets only the SSE operations have it, and never
 * SSE-C's). */
static const char *field(const struct s3_req *r, const char *name)
{
	const char *v = s3_header(r, name);
	return v || !r->auth.presigned ? v : s3_param(r, name);
}

/* SSE-C's three values (NULL: absent), from headers or a POST form: none
 * (out->mode 0), or a valid key. */
static enum s3_err customer_check(struct s3_req *r, const char *alg, const char *key,
				  const char *md5v, struct s3_sse *out)
{
	memset(out, 0, sizeof(*out));
	if (!alg && !key && !md5v)
		return S3_ERR_OK;
	if (!alg)
		return S3_ERR_SSE_C_NO_ALGORITHM;
	if (!value_is(alg, "AES256"))
		return S3_ERR_SSE_C_ALGORITHM;
	if (!key)
		return S3_ERR_SSE_C_NO_KEY;
	const struct mg_request_info *ri = mg_get_request_info(r->conn);
	if (ri && !ri->is_ssl && !loopback(ri->remote_addr))
		return S3_ERR_SSE_C_INSECURE;
	unsigned char sum[MD5_LEN], want[MD5_LEN + 4];
	if (base64_decode(key, strlen(key), out->key, sizeof(out->key)) != (int)sizeof(out->key)) {
		OPENSSL_cleanse(out->key, sizeof(out->key));
		return S3_ERR_SSE_C_BAD_KEY;
	}
	if (!md5v)
		return S3_ERR_SSE_C_NO_MD5;
	md5(out->key, sizeof(out->key), sum);
	if (base64_decode(md5v, strlen(md5v), want, sizeof(want)) != MD5_LEN ||
	    memcmp(sum, want, MD5_LEN)) {
		OPENSSL_cleanse(out->key, sizeof(out->key));
		return S3_ERR_SSE_C_BAD_MD5;
	}
	base64_encode(sum, MD5_LEN, out->key_md5);
	out->mode = ATR_SSE_C;
	return S3_ERR_OK;
}

/* The customer key headers starting with prefix ("x-amz-" or
 * "x-amz-copy-source-"): none (out->mode 0), or a valid key. */
enum s3_err s3_sse_customer(struct s3_req *r, const char *prefix, struct s3_sse *out)
{
	char a[96], k[96], m[96];
	snprintf(a, sizeof(a), "%sserver-side-encryption-customer-algorithm", prefix);
	snprintf(k, sizeof(k), "%sserver-side-encryption-customer-key", prefix);
	snprintf(m, sizeof(m), "%sserver-side-encryption-customer-key-MD5", prefix);
	return customer_check(r, s3_header(r, a), s3_header(r, k), s3_header(r, m), out);
}

/* x-amz-server-side-encryption's value: AES256, or the KMS answer. */
static enum s3_err sse_method(const char *v, int *mode)
{
	if (value_is(v, "AES256")) {
		*mode = ATR_SSE_S3;
		return S3_ERR_OK;
	}
	if (value_is(v, "aws:kms") || value_is(v, "aws:kms:dsse"))
		return S3_ERR_KMS_NOT_FOUND;
	return S3_ERR_SSE_INVALID_METHOD;
}

/* The other x-amz-server-side-encryption-* headers: SSE-KMS's key id and
 * context need aws:kms (AWS: InvalidArgument without it); Bucket Key is
 * a KMS economy, harmless to accept; any other is not ignored. */
static enum s3_err other_field(const char *n, const char *method)
{
	static const char p[] = "x-amz-server-side-encryption-";
	if (strncasecmp(n, p, sizeof(p) - 1))
		return S3_ERR_OK;
	n += sizeof(p) - 1;
	if (!strncasecmp(n, "customer-", 9) || !strcasecmp(n, "bucket-key-enabled"))
		return S3_ERR_OK;
	if (!strcasecmp(n, "aws-kms-key-id") || !strcasecmp(n, "context"))
		return method && !strncmp(method + strspn(method, " \t"), "aws:kms", 7)
			       ? S3_ERR_KMS_NOT_FOUND : S3_ERR_SSE_KMS_NEEDED;
	return S3_ERR_SSE_NOT_IMPLEMENTED;
}

/* The same of the headers, and of a presigned URL's query (field). */
static enum s3_err other_headers(struct s3_req *r, const char *method)
{
	const struct mg_request_info *ri = mg_get_request_info(r->conn);
	enum s3_err e = S3_ERR_OK;
	for (int i = 0; ri && i < ri->num_headers && !e; i++)
		e = other_field(ri->http_headers[i].name, method);
	for (int i = 0; r->auth.presigned && i < r->q.n && !e; i++)
		e = other_field(r->q.p[i].name, method);
	return e;
}

enum s3_err s3_sse_request(struct s3_req *r, struct s3_sse *out)
{
	enum s3_err e = s3_sse_customer(r, "x-amz-", out);
	const char *v = field(r, "x-amz-server-side-encryption");
	if (!e && (e = other_headers(r, v)))
		s3_sse_release(out);
	if (e || !v)
		return e;
	if (out->mode == ATR_SSE_C) {
		OPENSSL_cleanse(out->key, sizeof(out->key));
		return S3_ERR_SSE_C_AND_SSE;
	}
	return sse_method(v, &out->mode);
}

/* A form field's value, or NULL. */
static const char *form_value(const struct s3_form *f, const char *name)
{
	const struct s3_form_field *v = s3_form_get(f, name);
	return v ? v->value : NULL;
}

enum s3_err s3_sse_form(struct s3_req *r, const struct s3_form *f, struct s3_sse *out)
{
	const char *v = form_value(f, "x-amz-server-side-encryption");
	enum s3_err e = customer_check(r,
				       form_value(f, "x-amz-server-side-encryption-customer-algorithm"),
				       form_value(f, "x-amz-server-side-encryption-customer-key"),
				       form_value(f, "x-amz-server-side-encryption-customer-key-MD5"),
				       out);
	if (e || !v)
		return e;
	if (out->mode == ATR_SSE_C) {
		s3_sse_release(out);
		out->mode = 0;
		return S3_ERR_SSE_C_AND_SSE;
	}
	return sse_method(v, &out->mode);
}

enum s3_err s3_sse_apply(struct s3_req *r, void *writer, const struct s3_sse *k)
{
	if (!k->mode)
		return S3_ERR_OK;
	return s3_err_from_core(atr_put_sse(writer, k->mode, k->mode == ATR_SSE_C ? k->key : NULL));
}

enum s3_err s3_sse_read_check(struct s3_req *r)
{
	return field(r, "x-amz-server-side-encryption") ? S3_ERR_SSE_ON_READ : S3_ERR_OK;
}

enum s3_err s3_sse_open(struct atr_reader *rd, const struct s3_sse *k)
{
	int sse = atr_get_sse(rd);
	if (sse != ATR_SSE_C)
		return k->mode == ATR_SSE_C ? S3_ERR_SSE_C_NOT_APPLICABLE : S3_ERR_OK;
	if (k->mode != ATR_SSE_C)
		return S3_ERR_SSE_C_MISSING;
	return s3_err_from_core(atr_get_sse_key(rd, k->key));
}

int s3_sse_headers(struct buf *out, int mode, const struct s3_sse *k)
{
	if (mode == ATR_SSE_S3)
		return buf_addstr(out, "x-amz-server-side-encryption: AES256\r\n");
	if (mode == ATR_SSE_C && k && k->mode == ATR_SSE_C)
		return buf_addf(out, "x-amz-server-side-encryption-customer-algorithm: AES256\r\n"
				     "x-amz-server-side-encryption-customer-key-MD5: %s\r\n",
				k->key_md5);
	return 0;
}

enum s3_err s3_mpu_sse_check(struct s3_req *r, struct s3_sse *k)
{
	enum s3_err e = s3_sse_request(r, k);
	if (!e && k->mode && k->mode != ATR_SSE_C)
		e = S3_ERR_SSE_NOT_IMPLEMENTED; /* SSE-S3's header: the upload's say */
	if (e) {
		s3_sse_release(k);
		k->mode = 0;
	}
	return e;
}

void s3_sse_release(struct s3_sse *k)
{
	OPENSSL_cleanse(k->key, sizeof(k->key));
}

/* ---- Put/Get/DeleteBucketEncryption ---- */

/* The document's one rule: *doc "AES256" or "AES256 bucket-key". */
static enum s3_err parse_config(const char *xml, size_t len, const char **doc)
{
	xmlDocPtr d = len ? xml_parse(xml, len) : NULL;
	xmlNodePtr root = xml_root(d, "ServerSideEncryptionConfiguration");
	xmlNodePtr rule = root ? xml_child(root, "Rule") : NULL;
	xmlNodePtr def = rule ? xml_child(rule, "ApplyServerSideEncryptionByDefault") : NULL;
	char *alg = def ? xml_text(xml_child(def, "SSEAlgorithm")) : NULL;
	char *bk = rule ? xml_text(xml_child(rule, "BucketKeyEnabled")) : NULL;
	enum s3_err e = S3_ERR_OK;
	if (!rule || !def || !alg || xml_next(rule, "Rule") ||
	    (bk && strcmp(bk, "true") && strcmp(bk, "false")))
		e = S3_ERR_MALFORMED_XML;
	else if (!strcmp(alg, "aws:kms") || !strcmp(alg, "aws:kms:dsse"))
		e = S3_ERR_KMS_NOT_FOUND;
	else if (strcmp(alg, "AES256"))
		e = S3_ERR_MALFORMED_XML;
	else if (xml_child(def, "KMSMasterKeyID"))
		e = S3_ERR_SSE_KMS_KEY_WITH_AES;
	else
		*doc = bk && !strcmp(bk, "true") ? "AES256 bucket-key" : "AES256";
	xmlFree(alg);
	xmlFree(bk);
	xmlFreeDoc(d);
	return e;
}

enum s3_err s3_put_bucket_encryption(struct s3_req *r)
{
	struct buf body = BUF_INIT(SSE_BODY_MAX);
	const char *doc = NULL;
	char *old = NULL;
	enum s3_err e;
	/* Who may (NoSuchBucket, AccessDenied), before what the body says. */
	int rc = atr_bucket_doc_get(r->srv->core, &r->user, r->bucket, ATR_DOC_ENCRYPTION,
				    "s3:PutEncryptionConfiguration", &old);
	free(old);
	if (rc && rc != ATR_E_NO_CONFIG)
		return s3_err_from_core(rc);
	if (!(e = s3_read_checked_body(r, &body)) && !(e = parse_config(body.ptr, body.len, &doc)))
		e = s3_err_from_core(atr_bucket_doc_set(r->srv->core, &r->user, r->bucket,
							ATR_DOC_ENCRYPTION,
							"s3:PutEncryptionConfiguration", doc));
	if (!e)
		s3_send_empty(r, 200, NULL);
	buf_release(&body);
	return e;
}

enum s3_err s3_get_bucket_encryption(struct s3_req *r)
{
	char *doc = NULL;
	int rc = atr_bucket_doc_get(r->srv->core, &r->user, r->bucket, ATR_DOC_ENCRYPTION,
				    "s3:GetEncryptionConfiguration", &doc);
	if (rc == ATR_E_NO_CONFIG)
		return S3_ERR_NO_SSE_CONFIG;
	if (rc)
		return s3_err_from_core(rc);
	struct buf b = BUF_INIT(4096);
	int bad = s3_xml_open(&b, "ServerSideEncryptionConfiguration") ||
		  buf_addf(&b, "<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256"
			       "</SSEAlgorithm></ApplyServerSideEncryptionByDefault>"
			       "<BucketKeyEnabled>%s</BucketKeyEnabled></Rule>"
			       "</ServerSideEncryptionConfiguration>",
			   strstr(doc, "bucket-key") ? "true" : "false");
	free(doc);
	if (!bad)
		s3_send_xml(r, 200, &b);
	buf_release(&b);
	return bad ? S3_ERR_INTERNAL : S3_ERR_OK;
}

enum s3_err s3_delete_bucket_encryption(struct s3_req *r)
{
	int rc = atr_bucket_doc_set(r->srv->core, &r->user, r->bucket, ATR_DOC_ENCRYPTION,
				    "s3:PutEncryptionConfiguration", NULL);
	if (rc)
		return s3_err_from_core(rc);
	s3_send_empty(r, 204, NULL);
	return S3_ERR_OK;
}
