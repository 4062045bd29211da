/* s3_object — PutObject, GetObject, HeadObject, DeleteObject. */
#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "s3/s3_int.h"

#define META_MAX 2048 /* AWS: user metadata up to 2 KB */

/* Standard headers an object keeps and returns (AWS's list). */
static const char *const kept_headers[] = {
	"Content-Type", "Content-Encoding", "Content-Disposition", "Content-Language",
	"Cache-Control", "Expires",
};

/* Builds the stored header block: "Name: value\r\n" lines. aws-chunked is
 * a transfer detail, not part of the object's Content-Encoding. */
static enum s3_err stored_headers(struct s3_req *r, struct buf *out)
{
	const struct mg_request_info *ri = mg_get_request_info(r->conn);
	size_t meta = 0;
	for (size_t i = 0; i < sizeof(kept_headers) / sizeof(kept_headers[0]); i++) {
		const char *v = s3_header(r, kept_headers[i]);
		if (!v)
			continue;
		if (!strcasecmp(kept_headers[i], "Content-Encoding")) {
			if (!strcasecmp(v, "aws-chunked"))
				continue;
			if (!strncasecmp(v, "aws-chunked,", 12)) {
				v += 12;
				while (*v == ' ')
					v++;
			}
		}
		if (buf_addf(out, "%s: %s\r\n", kept_headers[i], v))
			return S3_ERR_METADATA_TOO_LARGE;
	}
	if (!s3_header(r, "Content-Type") &&
	    buf_addstr(out, "Content-Type: binary/octet-stream\r\n"))
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

static enum s3_err parse_content_md5(struct s3_req *r, unsigned char md5[16], int *have)
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

enum s3_err s3_put_object(struct s3_req *r)
{
	struct atr_core *core = r->srv->core;
	struct atr_writer *w = NULL;
	struct s3_body body;
	struct buf hdrs = BUF_INIT(8192);
	unsigned char want_md5[16], got_md5[16];
	int have_md5, body_open = 0;
	char *data = s3_io_buffer(r->srv);
	enum s3_err e;
	int rc;

	if (s3_header(r, "x-amz-copy-source"))
		return S3_ERR_NOT_IMPLEMENTED;
	if ((rc = atr_key_valid(r->key)))
		return s3_err_from_core(rc);
	if ((e = parse_content_md5(r, want_md5, &have_md5)) || (e = stored_headers(r, &hdrs)))
		goto out;
	if ((e = s3_body_open(r, &body)))
		goto out;
	body_open = 1;
	if (body.expect != UINT64_MAX && body.expect > r->srv->opt.max_put_size) {
		e = S3_ERR_ENTITY_TOO_LARGE;
		goto out;
	}
	if ((rc = atr_put_begin(core, &r->user, r->bucket, r->key,
				body.expect == UINT64_MAX ? 0 : body.expect, &w))) {
		e = s3_err_from_core(rc);
		goto out;
	}
	if (!data) {
		e = S3_ERR_SLOW_DOWN;
		goto out;
	}
	s3_continue(r);
	for (;;) {
		long n = s3_body_read(&body, data, S3_IO_BUFFER, &e);
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (atr_put_size(w) + (uint64_t)n > r->srv->opt.max_put_size) {
			e = S3_ERR_ENTITY_TOO_LARGE;
			goto out;
		}
		if ((rc = atr_put_write(w, data, (size_t)n))) {
			e = rc == ATR_E_INVALID_ARG ? S3_ERR_INVALID_ARGUMENT : s3_err_from_core(rc);
			goto out;
		}
	}
	if ((e = s3_body_finish(&body)))
		goto out;
	atr_put_md5(w, got_md5);
	if (have_md5 && memcmp(want_md5, got_md5, 16)) {
		e = S3_ERR_BAD_DIGEST;
		goto out;
	}
	struct atr_obj obj;
	rc = atr_put_commit(w, hdrs.ptr, &obj);
	w = NULL;
	if (rc) {
		e = s3_err_from_core(rc);
		goto out;
	}
	char extra[128];
	snprintf(extra, sizeof(extra), "ETag: \"%s\"\r\n", obj.etag);
	s3_send_empty(r, 200, extra);
out:
	if (w)
		atr_put_abort(w);
	if (body_open) {
		if (e && body.got < body.expect)
			r->must_close = 1; /* the rest of the body is still on the wire */
		s3_body_close(&body);
	}
	buf_release(&hdrs);
	return e;
}

enum s3_err s3_get_object(struct s3_req *r)
{
	struct atr_obj obj;
	struct atr_reader *rd = NULL;
	int head = !strcmp(r->method, "HEAD");
	int rc = head ? atr_object_stat(r->srv->core, &r->user, r->bucket, r->key, &obj)
		      : atr_get_open(r->srv->core, &r->user, r->bucket, r->key, &obj, &rd);
	if (rc)
		return s3_err_from_core(rc);

	char date[TIMEFMT_LEN];
	struct buf extra = BUF_INIT(16384);
	time_fmt_rfc1123((time_t)(obj.mtime_ns / 1000000000), date);
	buf_addf(&extra, "ETag: \"%s\"\r\nLast-Modified: %s\r\nAccept-Ranges: bytes\r\n",
		 obj.etag, date);
	if (obj.hdrs)
		buf_addstr(&extra, obj.hdrs);
	else
		buf_addstr(&extra, "Content-Type: binary/octet-stream\r\n");
	uint64_t size = obj.is_dir ? 0 : obj.size;
	s3_send_head(r, 200, extra.ptr, size);
	buf_release(&extra);
	atr_obj_release(&obj);
	if (head)
		return S3_ERR_OK;

	uint64_t off = 0;
	while (off < size) {
		const void *data;
		size_t len;
		if ((rc = atr_get_read(rd, off, &data, &len)) || len == 0) {
			/* Headers are out: all we can do is cut the connection. */
			LOG(LOG_ERROR, "s3 %s: read of %s/%s failed at %llu: %s", r->id, r->bucket,
			    r->key, (unsigned long long)off, atr_strerror(rc));
			mg_disable_connection_keep_alive(r->conn);
			break;
		}
		if (mg_write(r->conn, data, len) <= 0)
			break; /* client went away */
		off += len;
	}
	atr_get_close(rd);
	return S3_ERR_OK;
}

enum s3_err s3_delete_object(struct s3_req *r)
{
	int rc = atr_object_delete(r->srv->core, &r->user, r->bucket, r->key);
	if (rc == ATR_E_KEY_TOO_LONG)
		return S3_ERR_KEY_TOO_LONG;
	if (rc)
		return s3_err_from_core(rc);
	s3_send_empty(r, 204, NULL);
	return S3_ERR_OK;
}
