/*
 * s3_delete — DeleteObjects (POST /bucket?delete): up to 1000 keys in one
 * request, each deleted on its own, each answered with <Deleted> or
 * <Error> (only the errors in Quiet mode).
 */
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/checksum.h"
#include "common/hash.h"
#include "common/xml.h"
#include "s3/s3_int.h"
#include "common/banned.h"

#define DELETE_BODY_MAX (2u << 20) /* 1000 keys of 1024 bytes, escaped, fit */
#define DELETE_RESULT_MAX (16u << 20)

/* The digests S3 accepts in place of Content-MD5. */
static const struct {
	const char *header;
	enum checksum_alg alg;
} checksums[] = {
	{ "x-amz-checksum-sha256", CHECKSUM_SHA256 },
	{ "x-amz-checksum-sha1", CHECKSUM_SHA1 },
	{ "x-amz-checksum-crc32", CHECKSUM_CRC32 },
	{ "x-amz-checksum-crc32c", CHECKSUM_CRC32C },
	{ "x-amz-checksum-crc64nvme", CHECKSUM_CRC64NVME },
};
#define N_CHECKSUMS (sizeof(checksums) / sizeof(checksums[0]))

/* S3 requires an integrity header on this request, since so little body
 * deletes so much: Content-MD5 or one of x-amz-checksum-*. */
int s3_has_integrity_header(struct s3_req *r)
{
	if (s3_header(r, "Content-MD5"))
		return 1;
	for (size_t i = 0; i < N_CHECKSUMS; i++)
		if (s3_header(r, checksums[i].header))
			return 1;
	return 0;
}

static enum s3_err check_digest(const char *b64, size_t len, const unsigned char *got)
{
	unsigned char want[CHECKSUM_MAX_LEN];
	if (base64_decode(b64, strlen(b64), want, sizeof(want)) != (int)len)
		return S3_ERR_INVALID_DIGEST;
	return memcmp(want, got, len) ? S3_ERR_BAD_DIGEST : S3_ERR_OK;
}

enum s3_err s3_verify_integrity(struct s3_req *r, const struct buf *body)
{
	const char *data = body->ptr ? body->ptr : "";
	unsigned char sum[CHECKSUM_MAX_LEN];
	enum s3_err e;
	const char *v = s3_header(r, "Content-MD5");

	if (v) {
		md5(data, body->len, sum);
		if ((e = check_digest(v, MD5_LEN, sum)))
			return e;
	}
	for (size_t i = 0; i < N_CHECKSUMS; i++) {
		struct checksum ck;
		if (!(v = s3_header(r, checksums[i].header)))
			continue;
		if (checksum_init(&ck, checksums[i].alg))
			return S3_ERR_SLOW_DOWN;
		checksum_update(&ck, data, body->len);
		checksum_final(&ck, sum);
		if ((e = check_digest(v, checksum_len(checksums[i].alg), sum)))
			return e;
	}
	return S3_ERR_OK;
}

enum s3_err s3_read_checked_body(struct s3_req *r, struct buf *b)
{
	enum s3_err e;
	if (!s3_has_integrity_header(r))
		return S3_ERR_MISSING_CONTENT_MD5;
	if ((e = s3_read_small_body(r, b)))
		return e;
	return s3_verify_integrity(r, b);
}

void s3_delete_free(struct s3_delete_obj *v, int n)
{
	for (int i = 0; v && i < n; i++) {
		xmlFree(v[i].key);
		xmlFree(v[i].version);
	}
	free(v);
}

/* Parses <Delete><Quiet/>?<Object><Key/><VersionId/>?</Object>+</Delete>. */
enum s3_err s3_delete_parse(const char *body, size_t len, struct s3_delete_obj **out, int *n,
			    int *quiet)
{
	xmlDocPtr doc = xml_parse(body ? body : "", len);
	xmlNodePtr root = xml_root(doc, "Delete"), o;
	struct s3_delete_obj *v = NULL;
	enum s3_err e = S3_ERR_MALFORMED_XML;
	int count = 0;

	*out = NULL;
	*n = 0;
	*quiet = 0;
	if (!root)
		goto out;
	xmlNodePtr q = xml_child(root, "Quiet");
	if (q) {
		char *t = xml_text(q);
		int ok = t && (!strcasecmp(t, "true") || !strcasecmp(t, "false"));
		*quiet = ok && !strcasecmp(t, "true");
		xmlFree(t);
		if (!ok)
			goto out;
	}
	for (o = xml_child(root, "Object"); o; o = xml_next(o, "Object"))
		if (++count > S3_DELETE_KEYS_MAX)
			goto out;
	if (count == 0 || !(v = calloc((size_t)count, sizeof(*v)))) {
		e = count ? S3_ERR_SLOW_DOWN : S3_ERR_MALFORMED_XML;
		goto out;
	}
	count = 0;
	for (o = xml_child(root, "Object"); o; o = xml_next(o, "Object"), count++) {
		xmlNodePtr k = xml_child(o, "Key"), ver = xml_child(o, "VersionId");
		v[count].key = xml_text(k);
		v[count].version = ver ? xml_text(ver) : NULL;
		if (!v[count].key || !*v[count].key) {
			*n = count + 1;
			goto out;
		}
	}
	*n = count;
	*out = v;
	v = NULL;
	e = S3_ERR_OK;
out:
	if (v) {
		s3_delete_free(v, *n);
		*n = 0;
	}
	xmlFreeDoc(doc);
	return e;
}

/* The outcome of one key, as S3 reports it (d: what was deleted). */
static enum s3_err delete_one(struct s3_req *r, const struct s3_delete_obj *v,
			      struct atr_delete_result *d)
{
	memset(d, 0, sizeof(*d));
	/* A version the key does not have (an id not ours included) is
	 * this key's NoSuchVersion. */
	int rc = atr_object_delete_version(r->srv->core, &r->user, r->bucket, v->key, v->version,
					   s3_lock_bypass(r), d);
	return rc == ATR_E_NO_KEY ? S3_ERR_OK : s3_err_from_core(rc);
}

/* <Deleted>: the key, the version asked for, and a delete marker made
 * (DeleteMarker, DeleteMarkerVersionId) or deleted (DeleteMarker). */
static int add_result(struct buf *b, const struct s3_delete_obj *v, enum s3_err e, int quiet,
		      const struct atr_delete_result *d)
{
	if (!e && quiet)
		return 0;
	if (buf_addstr(b, e ? "<Error>" : "<Deleted>") || s3_xml_elem(b, "Key", v->key))
		return -1;
	if (v->version && s3_xml_elem(b, "VersionId", v->version))
		return -1;
	if (!e && d->marker &&
	    (s3_xml_elem(b, "DeleteMarker", "true") ||
	     (!v->version && s3_xml_elem(b, "DeleteMarkerVersionId", d->vid))))
		return -1;
	if (e && (s3_xml_elem(b, "Code", s3_err_code(e)) ||
		  s3_xml_elem(b, "Message", s3_err_message(e))))
		return -1;
	return buf_addstr(b, e ? "</Error>" : "</Deleted>");
}

enum s3_err s3_delete_objects(struct s3_req *r)
{
	struct buf body = BUF_INIT(DELETE_BODY_MAX), out = BUF_INIT(DELETE_RESULT_MAX);
	struct s3_delete_obj *v = NULL;
	int n = 0, quiet, rc;
	enum s3_err e;

	if (!s3_has_integrity_header(r))
		return S3_ERR_MISSING_CONTENT_MD5;
	/* Each key's delete is authorized on its own (s3:DeleteObject). */
	if ((rc = atr_bucket_exists(r->srv->core, r->bucket)))
		return s3_err_from_core(rc);
	e = s3_read_small_body(r, &body);
	if (e == S3_ERR_ENTITY_TOO_LARGE)
		e = S3_ERR_MAX_MESSAGE_LENGTH;
	if (e || (e = s3_verify_integrity(r, &body)) ||
	    (e = s3_delete_parse(body.ptr, body.len, &v, &n, &quiet)))
		goto out;
	if (s3_xml_open(&out, "DeleteResult")) {
		e = S3_ERR_INTERNAL;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		struct atr_delete_result d;
		enum s3_err one = delete_one(r, &v[i], &d);
		if (add_result(&out, &v[i], one, quiet, &d)) {
			e = S3_ERR_INTERNAL;
			goto out;
		}
	}
	if (buf_addstr(&out, "</DeleteResult>")) {
		e = S3_ERR_INTERNAL;
		goto out;
	}
	s3_send_xml(r, 200, &out);
out:
	s3_delete_free(v, n);
	buf_release(&body);
	buf_release(&out);
	return e;
}
