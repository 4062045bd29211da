/* s3_object — PutObject, GetObject, HeadObject, DeleteObject. */
#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/range.h"
#include "common/timefmt.h"
#include "s3/s3_cond.h"
#include "s3/s3_int.h"
#include "common/banned.h"

#define META_MAX 2048 /* AWS: user metadata up to 2 KB */

/* Standard headers an object keeps and returns (AWS's list). */
static const char *const kept_headers[] = {
	"Content-Type", "Content-Encoding", "Content-Disposition", "Content-Language",
	"Cache-Control", "Expires",
};

/* Appends Content-Encoding's codings but aws-chunked, which is a transfer
 * detail and never part of the object's encoding (AWS drops it wherever it
 * stands in the list); nothing if no other is left. */
static int add_content_encoding(struct buf *out, const char *v)
{
	size_t start = out->len;
	int n = 0;
	while (*v) {
		v += strspn(v, " \t,");
		size_t len = strcspn(v, ",");
		size_t t = len;
		while (t && (v[t - 1] == ' ' || v[t - 1] == '\t'))
			t--;
		if (t && !(t == 11 && !strncasecmp(v, "aws-chunked", 11)) &&
		    buf_addf(out, "%s%.*s", n++ ? ", " : "Content-Encoding: ", (int)t, v))
			return -1;
		v += len;
	}
	return out->len > start ? buf_addstr(out, "\r\n") : 0;
}

/* Builds the stored header block: "Name: value\r\n" lines. */
enum s3_err s3_stored_headers(struct s3_req *r, struct buf *out)
{
	const struct mg_request_info *ri = mg_get_request_info(r->conn);
	size_t meta = 0;
	for (size_t i = 0; i < sizeof(kept_headers) / sizeof(kept_headers[0]); i++) {
		const char *v = s3_header(r, kept_headers[i]);
		if (!v)
			continue;
		if (!strcasecmp(kept_headers[i], "Content-Encoding")) {
			if (add_content_encoding(out, v))
				return S3_ERR_METADATA_TOO_LARGE;
			continue;
		}
		if (buf_addf(out, "%s: %s\r\n", kept_headers[i], v))
			return S3_ERR_METADATA_TOO_LARGE;
	}
	if (!s3_header(r, "Content-Type") &&
	    buf_addstr(out, "Content-Type: " ATR_CONTENT_TYPE_DEFAULT "\r\n"))
		return S3_ERR_INTERNAL;
	for (int i = 0; i < ri->num_headers; i++) {
		const char *name = ri->http_headers[i].name;
		const char *value = ri->http_headers[i].value;
		if (strncasecmp(name, "x-amz-meta-", 11))
			continue;
		meta += strlen(name) - 11 + strlen(value);
		if (meta > META_MAX)
			return S3_ERR_METADATA_TOO_LARGE;
		/* Names are case-insensitive; S3 returns them lower-cased. */
		char lower[256];
		size_t n = strlen(name);
		if (n >= sizeof(lower))
			return S3_ERR_METADATA_TOO_LARGE;
		for (size_t k = 0; k <= n; k++)
			lower[k] = (char)(name[k] >= 'A' && name[k] <= 'Z' ? name[k] + 32 : name[k]);
		if (buf_addf(out, "%s: %s\r\n", lower, value))
			return S3_ERR_METADATA_TOO_LARGE;
	}
	return S3_ERR_OK;
}

/* Only STANDARD is stored (and, as S3 does for STANDARD, never reported). */
enum s3_err s3_storage_class_check(struct s3_req *r)
{
	const char *sc = s3_header(r, "x-amz-storage-class");
	return !sc || !strcmp(sc, "STANDARD") ? S3_ERR_OK : S3_ERR_INVALID_STORAGE_CLASS;
}

enum s3_err s3_write_type(struct s3_req *r, int *out)
{
	const char *v = s3_header(r, "x-atrium-write-type");
	*out = v ? atr_write_type_parse(v) : 0;
	return *out < 0 ? S3_ERR_INVALID_WRITE_TYPE : S3_ERR_OK;
}

enum s3_err s3_write_conditions(struct s3_req *r, int *must_not_exist,
				char etag[ATR_ETAG_MAX + 1])
{
	const char *inm = s3_header(r, "If-None-Match"), *im = s3_header(r, "If-Match");
	*must_not_exist = 0;
	*etag = '\0';
	if (inm) {
		inm += strspn(inm, " \t");
		if (strncmp(inm, "*", 1) || inm[1 + strspn(inm + 1, " \t")])
			return S3_ERR_NOT_IMPLEMENTED;
		*must_not_exist = 1;
	}
	if (im) {
		size_t n;
		im += strspn(im, " \t");
		n = strlen(im);
		while (n && (im[n - 1] == ' ' || im[n - 1] == '\t'))
			n--;
		if (n >= 2 && im[0] == '"' && im[n - 1] == '"') {
			im++;
			n -= 2;
		}
		if (n == 0 || n > ATR_ETAG_MAX)
			return S3_ERR_PRECONDITION_FAILED; /* no ETag looks like that */
		memcpy(etag, im, n);
		etag[n] = '\0';
	}
	return S3_ERR_OK;
}

enum s3_err s3_content_md5(struct s3_req *r, unsigned char md5[16], int *have)
{
	const char *v = s3_header(r, "Content-MD5");
	*have = 0;
	if (!v)
		return S3_ERR_OK;
	if (base64_decode(v, strlen(v), md5, 16) != 16)
		return S3_ERR_INVALID_DIGEST;
	*have = 1;
	return S3_ERR_OK;
}

/* The writer is open: If-None-Match: * and If-Match, checked before the
 * body is read and again, atomically, at commit (409 if they changed in
 * between); then the ACL (arg) it commits with. */
static enum s3_err put_prepare(struct s3_write *wr, void *arg)
{
	const struct atr_acl *acl = arg;
	char etag[ATR_ETAG_MAX + 1];
	int must_not_exist, rc = ATR_OK;
	enum s3_err e = s3_write_conditions(wr->r, &must_not_exist, etag);
	if (e)
		return e;
	if (must_not_exist || *etag)
		rc = atr_put_condition(wr->w, &wr->r->user, must_not_exist, *etag ? etag : NULL);
	if (!rc && acl)
		rc = atr_put_acl(wr->w, acl);
	return s3_err_from_core(rc);
}

enum s3_err s3_put_object(struct s3_req *r)
{
	struct s3_write wr;
	struct buf hdrs = BUF_INIT(8192), tags = BUF_INIT(S3_TAGS_BUF(S3_TAGS_MAX));
	const char *tagging = s3_header(r, "x-amz-tagging");
	struct atr_acl *acl = NULL;
	struct atr_lock lock;
	enum s3_err e;

	/* The key is checked once, by the writer's open (atr_put_begin). */
	s3_write_init(&wr, r, &s3_object_target);
	wr.lock = &lock;
	if ((e = s3_write_type(r, &wr.write_type)) || (e = s3_storage_class_check(r)) ||
	    (e = s3_lock_request(r, &lock)) ||
	    (e = s3_sse_request(r, &wr.sse)) ||
	    (e = s3_content_md5(r, wr.md5, &wr.have_md5)) ||
	    (e = s3_stored_headers(r, &hdrs)) ||
	    (tagging && (e = s3_tagging_from_header(tagging, &tags))) ||
	    (e = s3_request_acl(r, &acl)))
		goto out;
	wr.hdrs = &hdrs;
	wr.tags = tags.ptr;
	wr.prepare = put_prepare;
	wr.arg = acl;
	e = s3_write_body(&wr);
	r->object_size = wr.size; /* for the access log, if the bytes were all in */
	if (!e)
		s3_write_respond(&wr);
out:
	s3_sse_release(&wr.sse);
	buf_release(&hdrs);
	buf_release(&tags);
	free(acl);
	return e;
}

/* response-* query parameters and the header each overrides on GET/HEAD. */
static const struct {
	const char *param, *header;
} overrides[] = {
	{ "response-content-type", "Content-Type" },
	{ "response-content-language", "Content-Language" },
	{ "response-expires", "Expires" },
	{ "response-cache-control", "Cache-Control" },
	{ "response-content-disposition", "Content-Disposition" },
	{ "response-content-encoding", "Content-Encoding" },
};
#define N_OVERRIDES (sizeof(overrides) / sizeof(overrides[0]))

/* S3 honours response-* only on signed requests; a value must not be able
 * to break out of its header line. */
static enum s3_err overrides_check(struct s3_req *r)
{
	for (size_t i = 0; i < N_OVERRIDES; i++) {
		const char *v = s3_param(r, overrides[i].param);
		if (!v)
			continue;
		if (r->auth.anonymous)
			return S3_ERR_ANONYMOUS_OVERRIDE;
		for (const unsigned char *p = (const unsigned char *)v; *p; p++)
			if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
				return S3_ERR_INVALID_ARGUMENT;
	}
	return S3_ERR_OK;
}

/* The stored header lines (or the default Content-Type), those a response-*
 * parameter overrides replaced by its value. The stored checksum
 * (x-amz-checksum-*) goes out only with checksums set: AWS sends it when
 * asked (x-amz-checksum-mode: ENABLED), and never for a part of the object. */
static int add_object_headers(struct s3_req *r, struct buf *out, const char *hdrs,
			      int checksums)
{
	const char *p = hdrs ? hdrs : "";
	int typed = 0;
	while (*p) {
		const char *eol = strstr(p, "\r\n");
		size_t n = eol ? (size_t)(eol + 2 - p) : strlen(p);
		const char *colon = memchr(p, ':', n);
		int skip = 0;
		if (!checksums && !strncasecmp(p, "x-amz-checksum-", 15))
			skip = 1;
		for (size_t i = 0; colon && i < N_OVERRIDES && !skip; i++)
			skip = s3_param(r, overrides[i].param) &&
			       strlen(overrides[i].header) == (size_t)(colon - p) &&
			       !strncasecmp(p, overrides[i].header, (size_t)(colon - p));
		typed |= colon && colon - p == 12 && !strncasecmp(p, "Content-Type", 12);
		if (!skip && buf_add(out, p, n))
			return -1;
		p += n;
	}
	/* Every object has a type: headers stored without one (the mount's
	 * xattrs add x-amz-meta-* alone) get S3's default. */
	if (!typed && !s3_param(r, "response-content-type") &&
	    buf_addstr(out, "Content-Type: " ATR_CONTENT_TYPE_DEFAULT "\r\n"))
		return -1;
	for (size_t i = 0; i < N_OVERRIDES; i++) {
		const char *v = s3_param(r, overrides[i].param);
		if (v && buf_addf(out, "%s: %s\r\n", overrides[i].header, v))
			return -1;
	}
	return 0;
}

static enum s3_cond get_conditions(struct s3_req *r, const struct atr_obj *o)
{
	struct s3_cond_hdrs h = {
		.if_match = s3_header(r, "If-Match"),
		.if_none_match = s3_header(r, "If-None-Match"),
		.if_modified_since = s3_header(r, "If-Modified-Since"),
		.if_unmodified_since = s3_header(r, "If-Unmodified-Since"),
	};
	return s3_cond_eval(&h, o->etag, (time_t)(o->mtime_ns / 1000000000));
}

/* ?partNumber=N: "effectively a ranged GET" of that part (AWS): 206 with
 * the part's Content-Range and, for an object completed from a multipart
 * upload, x-amz-mp-parts-count. Any other object is one part. */
static enum s3_err part_range(struct s3_req *r, const struct atr_obj *o, struct buf *extra,
			      uint64_t *first, uint64_t *len, int *status)
{
	const char *pn = s3_param(r, "partNumber");
	char *end = NULL;
	uint64_t off, n;
	long v = 0;
	int count;
	if (s3_header(r, "Range"))
		return S3_ERR_PART_NUMBER_AND_RANGE;
	if (pn && *pn >= '0' && *pn <= '9')
		v = strtol(pn, &end, 10); /* overflow gives LONG_MAX: out of range */
	if (v < 1 || v > ATR_PART_MAX || !end || *end)
		return S3_ERR_PART_NUMBER_ARG;
	int rc = atr_object_part(r->srv->core, o, (int)v, &off, &n, &count);
	if (rc == ATR_E_INVALID_PART)
		return S3_ERR_INVALID_PART_NUMBER;
	if (rc)
		return s3_err_from_core(rc);
	if (count && buf_addf(extra, "x-amz-mp-parts-count: %d\r\n", count))
		return S3_ERR_INTERNAL;
	if (n) {
		*status = 206;
		if (buf_addf(extra, "Content-Range: bytes %llu-%llu/%llu\r\n",
			     (unsigned long long)off, (unsigned long long)(off + n - 1),
			     (unsigned long long)o->size))
			return S3_ERR_INTERNAL;
	}
	*first = off;
	*len = n;
	return S3_ERR_OK;
}

/* GET and HEAD: preconditions (412, 304), then one byte range (206, 416),
 * read through the block cache one block at a time, only the blocks the
 * range covers. */
/* The bytes [first, first + len) of rd after the headers: the first
 * block goes out with them (read first, so an I/O error can still be a
 * proper error response), the rest block by block. */
static enum s3_err send_body(struct s3_req *r, struct atr_reader *rd, int status,
			     const char *hdrs, uint64_t first, uint64_t len)
{
	const void *data0 = NULL;
	size_t n0 = 0;
	int rc;
	atr_get_read_until(rd, first + len); /* no read-ahead past the range */
	if (len && (rc = atr_get_read(rd, first, &data0, &n0)))
		return s3_err_from_core(rc);
	if (n0 > len)
		n0 = (size_t)len;
	size_t sent = s3_send_head_body(r, status, hdrs, len, data0, n0);
	if (sent < n0 && s3_write(r, (const char *)data0 + sent, n0 - sent))
		return S3_ERR_OK; /* client went away or stalled */
	for (uint64_t off = first + n0, end = first + len; off < end;) {
		const void *data;
		size_t n;
		if ((rc = atr_get_read(rd, off, &data, &n)) || n == 0) {
			/* Headers are out: all we can do is cut the connection. */
			LOG(LOG_ERROR, "s3 %s: read of %s/%s failed at %llu: %s", r->id, r->bucket,
			    r->key, (unsigned long long)off, atr_strerror(rc));
			mg_disable_connection_keep_alive(r->conn);
			break;
		}
		if (n > end - off)
			n = (size_t)(end - off);
		if (s3_write(r, data, n))
			break; /* client went away or stalled: closing */
		off += n;
	}
	return S3_ERR_OK;
}

/* The part of obj a GET or HEAD asks for (?partNumber, or Range):
 * [*first, *first + *len) with *status and its headers added to extra. */
static enum s3_err get_range(struct s3_req *r, const struct atr_obj *obj, struct buf *extra,
			     uint64_t *first, uint64_t *len, int *status)
{
	uint64_t size = *len, last = 0;
	if (s3_has_param(r, "partNumber"))
		return part_range(r, obj, extra, first, len, status);
	switch (range_parse(s3_header(r, "Range"), size, first, &last)) {
	case RANGE_UNSATISFIABLE:
		snprintf(r->err_hdrs, sizeof(r->err_hdrs), "Content-Range: bytes */%llu\r\n",
			 (unsigned long long)size);
		return S3_ERR_INVALID_RANGE;
	case RANGE_OK:
		*status = 206;
		*len = last - *first + 1;
		buf_addf(extra, "Content-Range: bytes %llu-%llu/%llu\r\n",
			 (unsigned long long)*first, (unsigned long long)last,
			 (unsigned long long)size);
		break;
	case RANGE_NONE:
		break;
	}
	return S3_ERR_OK;
}

enum s3_err s3_get_object(struct s3_req *r)
{
	struct atr_obj obj = { 0 };
	struct atr_reader *rd = NULL;
	int head = !strcmp(r->method, "HEAD");
	const char *mode = s3_header(r, "x-amz-checksum-mode");
	const char *rtype = s3_header(r, "x-atrium-read-type");
	int read_type = rtype ? atr_read_type_parse(rtype) : ATR_RT_DEFAULT;
	struct s3_sse k;
	const char *vid;
	enum s3_err e = overrides_check(r);
	if (!e && read_type < 0)
		e = S3_ERR_INVALID_READ_TYPE;
	if (e || (e = s3_version_param(r, &vid)) || (e = s3_sse_read_check(r)) ||
	    (e = s3_sse_customer(r, "x-amz-", &k)))
		return e;
	/* HEAD opens the object too when it may be SSE-C's: its key is
	 * checked as a GET's (AWS: HEAD without it is 400, with another 403). */
	int rc = atr_object_version_open(r->srv->core, &r->user, r->bucket, r->key, vid, &obj,
					 head && !k.mode ? NULL : &rd);
	if (rc) {
		s3_sse_release(&k);
		return s3_version_error(r, rc, vid, &obj);
	}
	if (rd)
		atr_get_read_type(rd, (enum atr_read_type)read_type);
	if (head && !rd && obj.sse == ATR_SSE_C) {
		e = S3_ERR_SSE_C_MISSING;
		goto out_early;
	}
	if (rd && (e = s3_sse_open(rd, &k)))
		goto out_early;

	char date[TIMEFMT_LEN];
	struct buf extra = BUF_INIT(16384);
	uint64_t size = obj.is_dir ? 0 : obj.size, first = 0, len = size;
	r->object_size = (int64_t)size; /* for the access log */
	int status = 200;
	time_fmt_rfc1123((time_t)(obj.mtime_ns / 1000000000), date);
	buf_addf(&extra, "ETag: \"%s\"\r\nLast-Modified: %s\r\n", obj.etag, date);
	s3_version_header(&extra, "x-amz-version-id", obj.vid);
	s3_lock_headers(r, obj.vid, &extra);
	/* Atrium's: an object of a remote bucket not (yet) in the remote
	 * (write types); PERSISTED goes without it. */
	if (obj.persist)
		buf_addf(&extra, "x-atrium-persistence-state: %s\r\n", atr_persist_name(obj.persist));
	switch (get_conditions(r, &obj)) {
	case S3_COND_FAILED:
		e = S3_ERR_PRECONDITION_FAILED;
		goto out;
	case S3_COND_NOT_MODIFIED:
		s3_send_head(r, 304, extra.ptr, 0);
		goto out;
	case S3_COND_OK:
		break;
	}
	if ((e = get_range(r, &obj, &extra, &first, &len, &status)))
		goto out;
	char *tags = NULL;
	if ((atr_obj_tags(r->srv->core, &obj, &tags) == ATR_OK && tags &&
	     buf_addf(&extra, "x-amz-tagging-count: %d\r\n", s3_tagging_count(tags))) ||
	    s3_lifecycle_header(r, r->key, size, obj.mtime_ns, tags, &extra)) {
		free(tags);
		e = S3_ERR_INTERNAL;
		goto out;
	}
	free(tags);
	if (buf_addstr(&extra, "Accept-Ranges: bytes\r\n") ||
	    s3_sse_headers(&extra, obj.sse, &k) ||
	    add_object_headers(r, &extra, obj.hdrs, status == 200 && mode &&
					!strcasecmp(mode, "ENABLED"))) {
		e = S3_ERR_INTERNAL;
		goto out;
	}
	if (head)
		s3_send_head(r, status, extra.ptr, len);
	else
		e = send_body(r, rd, status, extra.ptr, first, len);
out:
	buf_release(&extra);
out_early:
	s3_sse_release(&k);
	atr_obj_release(&obj);
	atr_get_close(rd);
	return e;
}

enum s3_err s3_delete_object(struct s3_req *r)
{
	struct atr_delete_result d;
	struct buf extra = BUF_INIT(256);
	const char *vid;
	enum s3_err e = s3_version_param(r, &vid);
	if (e)
		return e;
	int rc = atr_object_delete_version(r->srv->core, &r->user, r->bucket, r->key, vid,
					   s3_lock_bypass(r), &d);
	if (rc == ATR_E_KEY_TOO_LONG)
		return S3_ERR_KEY_TOO_LONG;
	if (rc == ATR_E_NO_VERSION)
		rc = ATR_OK; /* a version not there: deleted all the same (S3) */
	if (rc)
		return s3_err_from_core(rc);
	/* What was made or removed: a delete marker, and its id or the
	 * version's. */
	if ((d.marker && buf_addstr(&extra, "x-amz-delete-marker: true\r\n")) ||
	    s3_version_header(&extra, "x-amz-version-id", d.vid))
		e = S3_ERR_INTERNAL;
	else
		s3_send_empty(r, 204, extra.ptr);
	buf_release(&extra);
	return e;
}
