/*
 * s3_copy — CopyObject: PUT with x-amz-copy-source. The source must be
 * readable by the caller and the destination bucket writable; the bytes
 * never pass through here (atr_object_copy). Metadata is the source's
 * (x-amz-metadata-directive: COPY, the default) or the request's
 * (REPLACE); an object is copied onto itself only with REPLACE (or a
 * storage class), as S3 requires. x-amz-copy-source-if-* are checked
 * against the source as it is opened, each failure a 412; If-None-Match: *
 * and If-Match against the destination, as on PutObject (412, or 409
 * ConditionalRequestConflict when it changed while the bytes were copied).
 *
 * UploadPartCopy (PUT ?partNumber&uploadId with x-amz-copy-source) makes a
 * part from the source, or from the bytes x-amz-copy-source-range names,
 * with the same source rules and conditions, through the request writer
 * (s3_write_copy); into an upload with a checksum algorithm, the part's
 * checksum is computed on the way. Both are routes of their own (the route
 * table matches the header).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timefmt.h"
#include "common/uri.h"
#include "s3/s3_cond.h"
#include "s3/s3_int.h"
#include "common/banned.h"

enum s3_err s3_copy_source_parse(const char *v, char bucket[ATR_BUCKET_MAX + 1], char **key,
				 char vid[ATR_VID_MAX + 1])
{
	size_t n = strcspn(v, "?");
	char *s = malloc(n + 1);

	*key = NULL;
	*vid = '\0';
	if (!s)
		return S3_ERR_SLOW_DOWN;
	if (v[n]) {
		/* The source's version: "?versionId=ID". */
		struct uri_query q;
		const struct uri_param *p;
		int bad = uri_query_parse(&q, v + n + 1);
		if (!bad) {
			p = uri_query_get(&q, "versionId");
			bad = p && !atr_vid_valid(p->value);
			if (!bad && p)
				snprintf(vid, ATR_VID_MAX + 1, "%s", p->value);
			uri_query_release(&q);
		}
		if (bad) {
			free(s);
			return S3_ERR_INVALID_VERSION_ID;
		}
	}
	memcpy(s, v, n);
	s[n] = '\0';
	long len = uri_decode_inplace(s, n, 0);
	const char *b = s + (*s == '/');
	const char *slash = len < 0 ? NULL : strchr(b, '/');
	if (!slash || slash == b || !slash[1] || (size_t)(slash - b) > ATR_BUCKET_MAX ||
	    memchr(s, '\0', (size_t)len)) {
		free(s);
		return S3_ERR_INVALID_COPY_SOURCE;
	}
	memcpy(bucket, b, (size_t)(slash - b));
	bucket[slash - b] = '\0';
	memmove(s, slash + 1, strlen(slash + 1) + 1);
	*key = s;
	return S3_ERR_OK;
}

static enum s3_cond copy_conditions(struct s3_req *r, const struct atr_obj *o)
{
	struct s3_cond_hdrs h = {
		.if_match = s3_header(r, "x-amz-copy-source-if-match"),
		.if_none_match = s3_header(r, "x-amz-copy-source-if-none-match"),
		.if_modified_since = s3_header(r, "x-amz-copy-source-if-modified-since"),
		.if_unmodified_since = s3_header(r, "x-amz-copy-source-if-unmodified-since"),
	};
	return s3_cond_eval(&h, o->etag, (time_t)(o->mtime_ns / 1000000000));
}

/* CopyObjectResult / CopyPartResult: the new object's (or part's) date and
 * ETag; extra_hdrs: header lines to send too ("" for none). A request
 * body nobody reads closes the connection after it. */
static enum s3_err send_result(struct s3_req *r, const char *root, int64_t mtime_ns,
			       const char *etag, const char *extra_xml, int sse,
			       const struct s3_sse *k, const char *extra_hdrs)
{
	char date[TIMEFMT_LEN];
	struct buf xml = BUF_INIT(4096), hdrs = BUF_INIT(1024);
	time_fmt_iso8601_ms(mtime_ns, date);
	if (s3_xml_open(&xml, root) || s3_xml_elem(&xml, "LastModified", date) ||
	    buf_addf(&xml, "<ETag>\"%s\"</ETag>%s</%s>", etag, extra_xml, root) ||
	    buf_addstr(&hdrs, "Content-Type: application/xml\r\n") ||
	    buf_addstr(&hdrs, extra_hdrs) || s3_sse_headers(&hdrs, sse, k)) {
		buf_release(&xml);
		buf_release(&hdrs);
		return S3_ERR_INTERNAL;
	}
	if (r->content_length > 0)
		r->must_close = 1;
	s3_send_head_body(r, 200, hdrs.ptr, xml.len, xml.ptr, xml.len);
	buf_release(&xml);
	buf_release(&hdrs);
	return S3_ERR_OK;
}

enum s3_err s3_copy_object(struct s3_req *r)
{
	struct atr_core *core = r->srv->core;
	char sbucket[ATR_BUCKET_MAX + 1], svid[ATR_VID_MAX + 1];
	char *skey = NULL;
	struct atr_reader *rd = NULL;
	struct atr_obj src = { 0 }, obj = { 0 };
	struct buf hdrs = BUF_INIT(8192), tags = BUF_INIT(S3_TAGS_BUF(S3_TAGS_MAX));
	struct buf exp = BUF_INIT(2048);
	const char *directive = s3_header(r, "x-amz-metadata-directive");
	const char *tagging = s3_header(r, "x-amz-tagging-directive");
	char *src_tags = NULL;
	char dst_etag[ATR_ETAG_MAX + 1];
	struct atr_acl *acl = NULL;
	struct s3_sse dk = { 0 }, sk = { 0 }; /* the copy's encryption, the source's key */
	struct atr_lock lock;
	int replace = 0, replace_tags = 0, have_src = 0, must_not_exist, write_type, rc;
	enum s3_err e;

	if ((e = s3_copy_source_parse(s3_header(r, "x-amz-copy-source"), sbucket, &skey, svid)))
		return e;
	if ((e = s3_sse_request(r, &dk)) || (e = s3_sse_customer(r, "x-amz-copy-source-", &sk)) ||
	    (e = s3_lock_request(r, &lock)))
		goto out;
	if (directive && !(replace = !strcmp(directive, "REPLACE")) && strcmp(directive, "COPY")) {
		e = S3_ERR_INVALID_ARGUMENT; /* "Unknown metadata directive." */
		goto out;
	}
	/* x-amz-tagging-directive: COPY (the source's tags, the default) or
	 * REPLACE (x-amz-tagging's, or none). */
	if (tagging && !(replace_tags = !strcmp(tagging, "REPLACE")) && strcmp(tagging, "COPY")) {
		e = S3_ERR_INVALID_ARGUMENT; /* "Unknown tagging directive." */
		goto out;
	}
	if ((rc = atr_key_valid(r->key))) {
		e = s3_err_from_core(rc);
		goto out;
	}
	/* If-None-Match / If-Match: conditions on the destination (AWS's
	 * conditional writes), as on PutObject. */
	if ((e = s3_write_type(r, &write_type)) || (e = s3_storage_class_check(r)) ||
	    (replace && (e = s3_stored_headers(r, &hdrs))) ||
	    (e = s3_write_conditions(r, &must_not_exist, dst_etag)) ||
	    (e = s3_request_acl(r, &acl)))
		goto out;
	if (replace_tags && s3_header(r, "x-amz-tagging") &&
	    (e = s3_tagging_from_header(s3_header(r, "x-amz-tagging"), &tags)))
		goto out;
	rc = atr_object_version_open(core, &r->user, sbucket, skey, *svid ? svid : NULL, &src, &rd);
	if (rc) {
		/* A delete marker is no source (AWS: 400 by its id). */
		e = rc == ATR_E_DELETE_MARKER ? S3_ERR_INVALID_REQUEST : s3_err_from_core(rc);
		goto out;
	}
	have_src = 1;
	if ((e = s3_sse_open(rd, &sk)))
		goto out;
	if (!src.is_dir && src.size > s3_limit(r->srv, max_put_size)) {
		e = S3_ERR_COPY_SOURCE_TOO_LARGE;
		goto out;
	}
	if (copy_conditions(r, &src) != S3_COND_OK) {
		e = S3_ERR_PRECONDITION_FAILED; /* a copy has no 304 */
		goto out;
	}
	/* A copy onto itself must change something: its metadata, storage
	 * class or encryption (AWS); one of a version (a restore) makes a
	 * new version. */
	if (!*svid && !strcmp(sbucket, r->bucket) && !strcmp(skey, r->key) && !replace &&
	    !s3_header(r, "x-amz-storage-class") && !dk.mode) {
		e = S3_ERR_COPY_TO_ITSELF;
		goto out;
	}
	if (!replace_tags && (rc = atr_obj_tags(core, &src, &src_tags))) {
		e = s3_err_from_core(rc);
		goto out;
	}
	struct atr_copy_opts o = { .hdrs = replace ? hdrs.ptr : src.hdrs,
				   .tags = replace_tags ? tags.ptr : src_tags,
				   .must_not_exist = must_not_exist,
				   .if_etag = *dst_etag ? dst_etag : NULL, .acl = acl,
				   .sse = dk.mode, .sse_key = dk.mode == ATR_SSE_C ? dk.key : NULL,
				   .write_type = write_type, .lock = &lock };
	rc = atr_object_copy_with(core, &r->user, rd, src.etag, r->bucket, r->key, &o, &obj);
	if (rc) {
		e = s3_err_from_core(rc);
		goto out;
	}
	/* The source's version (when it has an id) and the copy's, and the
	 * rule that will expire the copy, by the tags it got. */
	if (s3_version_header(&exp, "x-amz-copy-source-version-id", src.vid) ||
	    s3_version_header(&exp, "x-amz-version-id", obj.vid) ||
	    s3_lifecycle_header(r, r->key, obj.size, obj.mtime_ns, o.tags, &exp)) {
		e = S3_ERR_INTERNAL;
		goto out;
	}
	e = send_result(r, "CopyObjectResult", obj.mtime_ns, obj.etag, "", obj.sse, &dk,
			exp.ptr ? exp.ptr : "");
out:
	s3_sse_release(&dk);
	s3_sse_release(&sk);
	if (have_src)
		atr_obj_release(&src);
	atr_get_close(rd);
	free(skey);
	free(src_tags);
	buf_release(&exp);
	buf_release(&hdrs);
	buf_release(&tags);
	free(acl);
	return e;
}

/* Up to 19 digits (no overflow), then what follows. */
static const char *parse_offset(const char *p, uint64_t *out)
{
	size_t n = strspn(p, "0123456789");
	if (n == 0 || n > 19)
		return NULL;
	*out = 0;
	for (size_t i = 0; i < n; i++)
		*out = *out * 10 + (uint64_t)(p[i] - '0');
	return p + n;
}

enum s3_err s3_copy_range_parse(const char *v, uint64_t size, uint64_t *first, uint64_t *len)
{
	uint64_t a, b;
	const char *p = strncmp(v, "bytes=", 6) ? NULL : parse_offset(v + 6, &a);
	if (!p || *p != '-' || !(p = parse_offset(p + 1, &b)) || *p)
		return S3_ERR_COPY_RANGE_MALFORMED;
	if (a > b || b >= size)
		return S3_ERR_COPY_RANGE_INVALID;
	*first = a;
	*len = b - a + 1;
	return S3_ERR_OK;
}

/* The writer is open: into an upload with a checksum algorithm, the
 * part's checksum is computed on the way (the bytes pass through the block
 * cache once either way). */
static enum s3_err part_copy_prepare(struct s3_write *wr, void *arg)
{
	wr->ck_alg = s3_mpu_checksum(atr_mpu_part_checksum_alg(wr->w), NULL);
	wr->sse_mode = atr_mpu_part_sse(wr->w); /* for the answer's header */
	return s3_mpu_part_sse_error(wr);
}

enum s3_err s3_upload_part_copy(struct s3_req *r)
{
	struct atr_core *core = r->srv->core;
	char sbucket[ATR_BUCKET_MAX + 1], svid[ATR_VID_MAX + 1];
	char *skey = NULL;
	const char *range = s3_header(r, "x-amz-copy-source-range");
	struct atr_reader *rd = NULL;
	struct atr_obj src = { 0 };
	struct s3_write wr;
	uint64_t first = 0, len;
	char ck_xml[160] = "";
	struct s3_sse sk = { 0 };
	int have_src = 0, rc;
	enum s3_err e;

	/* The part number first, as UploadPart checks it. */
	s3_write_init(&wr, r, &s3_part_target);
	wr.prepare = part_copy_prepare;
	if ((e = s3_part_number(r, &wr.part)) || (e = s3_mpu_sse_check(r, &wr.sse)))
		return e;
	if ((e = s3_copy_source_parse(s3_header(r, "x-amz-copy-source"), sbucket, &skey, svid))) {
		s3_sse_release(&wr.sse);
		return e;
	}
	if ((e = s3_sse_customer(r, "x-amz-copy-source-", &sk)))
		goto out;
	rc = atr_object_version_open(core, &r->user, sbucket, skey, *svid ? svid : NULL, &src, &rd);
	if (rc) {
		/* A delete marker is no source (AWS: 400 by its id). */
		e = rc == ATR_E_DELETE_MARKER ? S3_ERR_INVALID_REQUEST : s3_err_from_core(rc);
		goto out;
	}
	have_src = 1;
	if ((e = s3_sse_open(rd, &sk))) /* an encrypted source is read decrypted */
		goto out;
	len = src.is_dir ? 0 : src.size;
	if (range && (e = s3_copy_range_parse(range, len, &first, &len)))
		goto out;
	if (len > s3_limit(r->srv, max_put_size)) {
		e = S3_ERR_COPY_SOURCE_TOO_LARGE;
		goto out;
	}
	if (copy_conditions(r, &src) != S3_COND_OK) {
		e = S3_ERR_PRECONDITION_FAILED;
		goto out;
	}
	if ((e = s3_write_copy(&wr, rd, first, len)))
		goto out;
	if (wr.ck_alg != CHECKSUM_NONE)
		snprintf(ck_xml, sizeof(ck_xml), "<Checksum%s>%s</Checksum%s>",
			 checksum_name(wr.ck_alg), wr.ck_b64, checksum_name(wr.ck_alg));
	e = send_result(r, "CopyPartResult", wr.mtime_ns, wr.etag, ck_xml, wr.sse_mode, &wr.sse,
			"");
out:
	s3_sse_release(&sk);
	s3_sse_release(&wr.sse);
	if (have_src)
		atr_obj_release(&src);
	atr_get_close(rd);
	free(skey);
	return e;
}
