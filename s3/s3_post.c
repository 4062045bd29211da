/*
 * s3_post — POST Object: a browser form upload to POST /bucket with a
 * multipart/form-data body. The fields before the part named "file" are
 * read (s3_form.c: capped at 20 KB), the form is authenticated from its own
 * fields (the dispatcher skips header authentication for an unsigned form,
 * see s3_router.c) and checked against its policy, then the file streams
 * through the request writer (s3_write.c) like a PUT body, never held in
 * memory. Fields after the file are read and ignored, as AWS does.
 */
#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/log.h"
#include "s3/s3_form.h"
#include "s3/s3_int.h"
#include "common/banned.h"

#define META_MAX 2048          /* AWS: user metadata up to 2 KB */
#define DRAIN_MAX (1 << 20)    /* fields after the file read to keep the connection */

/* Standard headers a form field may set on the object (AWS's list). */
static const char *const kept_fields[] = {
	"Content-Type", "Content-Encoding", "Content-Disposition", "Content-Language",
	"Cache-Control", "Expires",
};

/* The request body as the form's source, keeping the body's own error;
 * and the form's file as the writer's source. */
struct post_src {
	struct s3_req *r;
	struct s3_body b;
	struct s3_form *f;
	enum s3_err err;
	int drained;       /* the body is read to its end */
};

static long post_source(void *arg, void *buf, size_t len)
{
	struct post_src *s = arg;
	long n = s3_body_read(&s->b, buf, len, &s->err);
	return n < 0 ? -1 : n;
}

/* A value that goes into a header line must not be able to end it. */
static int header_safe(const char *v, size_t len)
{
	if (strlen(v) != len)
		return 0;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return 0;
	return 1;
}

/* The stored header block from the form's fields. */
static enum s3_err form_headers(const struct s3_form *f, struct buf *out)
{
	size_t meta = 0;
	for (size_t i = 0; i < sizeof(kept_fields) / sizeof(kept_fields[0]); i++) {
		const struct s3_form_field *fl = s3_form_get(f, kept_fields[i]);
		if (!fl)
			continue;
		if (!header_safe(fl->value, fl->value_len))
			return S3_ERR_INVALID_ARGUMENT;
		if (buf_addf(out, "%s: %s\r\n", kept_fields[i], fl->value))
			return S3_ERR_METADATA_TOO_LARGE;
	}
	if (!s3_form_get(f, "Content-Type") &&
	    buf_addstr(out, "Content-Type: " ATR_CONTENT_TYPE_DEFAULT "\r\n"))
		return S3_ERR_INTERNAL;
	for (int i = 0; i < f->nfields; i++) {
		const struct s3_form_field *fl = &f->fields[i];
		if (strncasecmp(fl->name, "x-amz-meta-", 11))
			continue;
		size_t n = strlen(fl->name);
		meta += n - 11 + fl->value_len;
		if (meta > META_MAX || n >= 256)
			return S3_ERR_METADATA_TOO_LARGE;
		if (n == 11 || !header_safe(fl->value, fl->value_len))
			return S3_ERR_INVALID_ARGUMENT;
		char lower[256];
		for (size_t k = 0; k <= n; k++) {
			char c = fl->name[k];
			if (k < n && (c <= ' ' || c > '~' || c == ':'))
				return S3_ERR_INVALID_ARGUMENT;
			lower[k] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
		if (buf_addf(out, "%s: %s\r\n", lower, fl->value))
			return S3_ERR_METADATA_TOO_LARGE;
	}
	return S3_ERR_OK;
}

/* The key field (${filename} already replaced: s3_form_expand). */
static enum s3_err form_key(const struct s3_form *f, struct buf *key)
{
	const struct s3_form_field *k = s3_form_get(f, "key");
	if (!k)
		return S3_ERR_MISSING_KEY_FIELD;
	if (strlen(k->value) != k->value_len)
		return S3_ERR_INVALID_OBJECT_NAME;
	if (buf_add(key, k->value, k->value_len))
		return S3_ERR_KEY_TOO_LONG;
	return key->len ? S3_ERR_OK : S3_ERR_MISSING_KEY_FIELD;
}

/* The file's checksum, from the form's x-amz-checksum-* field: *alg
 * (CHECKSUM_NONE if none) and the value in want. */
static enum s3_err form_checksum(const struct s3_form *f, enum checksum_alg *alg,
				 unsigned char want[CHECKSUM_MAX_LEN])
{
	const char *value;
	enum s3_err e = s3_form_checksum(f, alg, &value);
	if (e || *alg == CHECKSUM_NONE)
		return e;
	return s3_checksum_decode(value, *alg, want);
}

/* "http://host[/api/v1/s3]/bucket/key" (the object's URL as the client
 * addressed us), or "http://host/key" for a virtual-hosted request. */
static int object_url(struct s3_req *r, const char *key, struct buf *out)
{
	const struct mg_request_info *ri = mg_get_request_info(r->conn);
	const char *host = s3_header(r, "Host");
	if (!host || !header_safe(host, strlen(host)))
		host = "localhost";
	if (buf_addf(out, "%s://%s", ri->is_ssl ? "https" : "http", host) ||
	    (r->path_prefixed && buf_addstr(out, "/api/v1/s3")) ||
	    (!r->vhost && (buf_addch(out, '/') || buf_addstr(out, r->bucket))) ||
	    buf_addch(out, '/'))
		return -1;
	return uri_encode(out, key, strlen(key), 1);
}

/* The success response: success_action_redirect (303), else
 * success_action_status 200, 201 (PostResponse XML) or 204 (the default). */
static enum s3_err respond(struct s3_req *r, const struct s3_form *f, const char *key,
			   const char *etag, const char *ck_line)
{
	const struct s3_form_field *redir = s3_form_get(f, "success_action_redirect");
	const struct s3_form_field *st = s3_form_get(f, "success_action_status");
	struct buf url = BUF_INIT(16384), extra = BUF_INIT(24576), xml = BUF_INIT(24576);
	enum s3_err e = S3_ERR_INTERNAL;
	if (!redir)
		redir = s3_form_get(f, "redirect");
	if (object_url(r, key, &url) ||
	    buf_addf(&extra, "ETag: \"%s\"\r\nLocation: %s\r\n%s", etag, url.ptr, ck_line))
		goto out;
	if (redir && header_safe(redir->value, redir->value_len) &&
	    (!strncasecmp(redir->value, "http://", 7) || !strncasecmp(redir->value, "https://", 8))) {
		char q[80];
		buf_reset(&extra);
		snprintf(q, sizeof(q), "\"%s\"", etag);
		if (buf_addf(&extra, "ETag: \"%s\"\r\n%sLocation: %s%cbucket=", etag, ck_line,
			     redir->value,
			     strchr(redir->value, '?') ? '&' : '?') ||
		    uri_encode(&extra, r->bucket, strlen(r->bucket), 0) ||
		    buf_addstr(&extra, "&key=") || uri_encode(&extra, key, strlen(key), 0) ||
		    buf_addstr(&extra, "&etag=") || uri_encode(&extra, q, strlen(q), 0) ||
		    buf_addstr(&extra, "\r\n"))
			goto out;
		s3_send_empty(r, 303, extra.ptr);
		e = S3_ERR_OK;
		goto out;
	}
	if (st && !strcmp(st->value, "201")) {
		char q[80];
		snprintf(q, sizeof(q), "\"%s\"", etag);
		if (s3_xml_open(&xml, "PostResponse") || s3_xml_elem(&xml, "Location", url.ptr) ||
		    s3_xml_elem(&xml, "Bucket", r->bucket) || s3_xml_elem(&xml, "Key", key) ||
		    s3_xml_elem(&xml, "ETag", q) || buf_addstr(&xml, "</PostResponse>") ||
		    buf_addstr(&extra, "Content-Type: application/xml\r\n"))
			goto out;
		s3_send_head(r, 201, extra.ptr, xml.len);
		mg_write(r->conn, xml.ptr, xml.len);
	} else {
		s3_send_empty(r, st && !strcmp(st->value, "200") ? 200 : 204, extra.ptr);
	}
	e = S3_ERR_OK;
out:
	buf_release(&url);
	buf_release(&extra);
	buf_release(&xml);
	return e;
}

/* Reads what follows the file (fields AWS ignores) so the connection can
 * serve the next request; 0, or -1 if there is too much (close instead). */
static int drain(struct post_src *src)
{
	char *tmp = s3_io_buffer(src->r->srv);
	size_t total = 0;
	if (!tmp)
		return -1;
	for (;;) {
		long n = s3_body_read(&src->b, tmp, S3_IO_BUFFER, &src->err);
		if (n <= 0)
			return n < 0 ? -1 : 0;
		total += (size_t)n;
		if (total > DRAIN_MAX)
			return -1;
	}
}

/* The writer is open: the canned ACL of the "acl" field (arg: the form),
 * if any, for the object it writes. */
static enum s3_err form_acl(struct s3_write *wr, void *arg)
{
	const struct s3_form_field *field = s3_form_get(arg, "acl");
	struct atr_acl *acl;
	if (!field)
		return S3_ERR_OK;
	if (!(acl = malloc(sizeof(*acl))))
		return S3_ERR_SLOW_DOWN;
	int rc = atr_acl_canned(field->value, acl);
	enum s3_err e = rc ? S3_ERR_INVALID_ARGUMENT : s3_err_from_core(atr_put_acl(wr->w, acl));
	free(acl);
	return e;
}

/* The SSE fields a POST honours (s3_sse_form): SSE-S3's and SSE-C's. */
static int sse_field(const char *name)
{
	return !strcasecmp(name, "x-amz-server-side-encryption") ||
	       !strcasecmp(name, "x-amz-server-side-encryption-customer-algorithm") ||
	       !strcasecmp(name, "x-amz-server-side-encryption-customer-key") ||
	       !strcasecmp(name, "x-amz-server-side-encryption-customer-key-MD5");
}

/* The Object Lock fields a POST honours (s3_lock_form). */
static int lock_field(const char *name)
{
	return !strncasecmp(name, "x-amz-object-lock-", 18);
}

/* Authentication, key, policy and stored headers, from the fields. */
static enum s3_err form_check(struct s3_req *r, struct s3_form *f, struct buf *key,
			      struct buf *hdrs, struct buf *tags, struct s3_policy_limits *lim,
			      char *msg, size_t msgsize)
{
	const struct s3_form_field *policy = s3_form_get(f, "policy");
	const struct s3_form_field *tagging = s3_form_get(f, "tagging");
	enum s3_err e;
	lim->min_size = 0;
	lim->max_size = UINT64_MAX;
	if (r->form_post) {
		char user[ATR_USER_MAX + 1];
		int anonymous;
		e = s3_form_auth(r->srv->opt.auth, f, s3_secret_lookup, (void *)r->srv->idents,
				 user, sizeof(user), &anonymous);
		if (e == S3_ERR_POST_FIELD_MISSING)
			snprintf(msg, msgsize, "Bucket POST must contain a field named '%s'.  If it "
				 "is specified, please check the order of the fields.",
				 s3_form_missing_field(f));
		if (e)
			return e;
		s3_set_user(r, user, anonymous);
	}
	for (int i = 0; i < f->nfields; i++)
		if (!sse_field(f->fields[i].name) && !lock_field(f->fields[i].name) &&
		    (e = s3_refused_field(f->fields[i].name, f->fields[i].value)))
			return e;
	if ((e = form_key(f, key)))
		return e;
	r->key = key->ptr; /* for the error document */
	r->key_len = key->len;
	if (policy && (e = s3_policy_check(policy->value, policy->value_len, f, r->bucket,
					   time(NULL), lim, msg, msgsize)))
		return e;
	int rc = atr_key_valid(key->ptr);
	if (rc)
		return s3_err_from_core(rc);
	if ((e = form_headers(f, hdrs)))
		return e;
	if (tagging && (e = s3_tagging_from_xml(tagging->value, tagging->value_len, tags)))
		return e;
	return S3_ERR_OK;
}

/* The file's bytes, through the thread's I/O buffer. */
static long file_next(void *arg, const void **data, enum s3_err *err)
{
	struct post_src *s = arg;
	char *buf = s3_io_buffer(s->r->srv);
	long n;
	if (!buf) {
		*err = S3_ERR_SLOW_DOWN;
		return -1;
	}
	*data = buf;
	n = s3_form_read(s->f, buf, S3_IO_BUFFER, err);
	if (n < 0 && *err == S3_ERR_INCOMPLETE_BODY && s->err)
		*err = s->err;
	return n;
}

/* After the file: the fields that follow, then the body's own checks. */
static enum s3_err file_finish(struct s3_write *wr, void *arg)
{
	struct post_src *s = arg;
	if (!drain(s)) {
		s->drained = 1;
		return s3_body_finish(&s->b);
	}
	if (s->err)
		return s->err;
	/* Too much after the file: answer, then close; but a signed payload
	 * must be read whole to be verified. */
	if (s->r->auth.payload != S3_PAYLOAD_UNSIGNED)
		return S3_ERR_MAX_MESSAGE_LENGTH;
	s->r->must_close = 1;
	return S3_ERR_OK;
}

enum s3_err s3_post_object(struct s3_req *r)
{
	char boundary[S3_FORM_BOUNDARY_MAX + 1], msg[1024] = "";
	const char *ct = s3_header(r, "Content-Type");
	struct post_src src = { .r = r, .err = S3_ERR_OK };
	const struct s3_source file = { file_next, file_finish, &src, 0 };
	struct s3_write wr;
	struct buf key = BUF_INIT(4 * ATR_KEY_MAX + 1), hdrs = BUF_INIT(8192),
		   tags = BUF_INIT(S3_TAGS_BUF(S3_TAGS_MAX));
	struct s3_policy_limits lim;
	unsigned char ck_want[CHECKSUM_MAX_LEN];
	struct atr_lock lock;
	int body_open = 0;
	const char *saved_key = r->key;
	size_t saved_key_len = r->key_len;
	enum s3_err e;

	if (!ct || strncasecmp(ct + strspn(ct, " \t"), "multipart/form-data", 19))
		return S3_ERR_POST_NOT_FORM;
	if (s3_form_boundary(ct, boundary))
		return S3_ERR_MALFORMED_POST;
	if ((e = s3_body_open(r, &src.b)))
		goto out;
	body_open = 1;
	if (!(src.f = malloc(sizeof(*src.f)))) {
		e = S3_ERR_SLOW_DOWN;
		goto out;
	}
	s3_continue(r);
	s3_form_init(src.f, boundary, post_source, &src);
	if ((e = s3_form_fields(src.f))) {
		if (e == S3_ERR_INCOMPLETE_BODY && src.err)
			e = src.err;
		goto out;
	}
	s3_write_init(&wr, r, &s3_object_target);
	if ((e = s3_write_type(r, &wr.write_type)) || (e = s3_form_expand(src.f)) ||
	    (e = form_check(r, src.f, &key, &hdrs, &tags, &lim, msg, sizeof(msg))) ||
	    (e = form_checksum(src.f, &wr.ck_alg, ck_want)))
		goto out;
	if ((e = s3_sse_form(r, src.f, &wr.sse)) || (e = s3_lock_form(r, src.f, &lock)))
		goto out;
	wr.lock = &lock;
	/* The object at the form's key (form_check made it r->key). */
	wr.hdrs = &hdrs;
	wr.tags = tags.ptr;
	wr.prepare = form_acl;
	wr.arg = src.f;
	wr.min_size = lim.min_size;
	if (lim.max_size < wr.max_size)
		wr.max_size = lim.max_size;
	wr.ck_want = ck_want;
	if (!(e = s3_write_run(&wr, &file))) {
		struct buf lines = BUF_INIT(1024);
		e = buf_addstr(&lines, wr.ck_line) || s3_sse_headers(&lines, wr.sse_mode, &wr.sse) ||
				    s3_version_header(&lines, "x-amz-version-id", wr.vid)
			    ? S3_ERR_INTERNAL
			    : respond(r, src.f, key.ptr, wr.etag, lines.len ? lines.ptr : "");
		buf_release(&lines);
	}
out:
	/* An error with the body's framing intact: read the rest (a little)
	 * so the client sees the answer and the connection can go on. */
	if (e && body_open && !src.drained && !src.err)
		src.drained = !drain(&src);
	if (e && !src.drained)
		r->must_close = 1; /* the rest of the body is still on the wire */
	if (e) {
		/* Sent here: the error document names the key, which is ours;
		 * policy errors carry a message naming the condition. */
		s3_send_error(r, e, msg[0] ? msg : NULL);
		e = S3_ERR_OK;
	}
	s3_sse_release(&wr.sse); /* SSE-C's key wiped */
	r->key = saved_key;
	r->key_len = saved_key_len;
	if (body_open)
		s3_body_close(&src.b);
	free(src.f);
	buf_release(&key);
	buf_release(&hdrs);
	buf_release(&tags);
	return e;
}
