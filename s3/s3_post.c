/*
 * s3_post — POST Object: a browser form upload to POST /bucket with a
 * multipart/form-data body. The fields before the part named "file" are
 * read (s3_form.c: capped at 20 KB), the form is authenticated from its own
 * fields (the dispatcher skips header authentication for an unsigned form,
 * see s3_router.c) and checked against its policy, then the file streams
 * into a core writer like a PUT body, never held in memory. Fields after the
 * file are read and ignored, as AWS does.
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

/* The request body as the form's source, keeping the body's own error. */
struct post_src {
	struct s3_body b;
	enum s3_err err;
};

static long post_source(void *arg, void *buf, size_t len)
{
	struct post_src *s = arg;
	long n = s3_body_read(&s->b, buf, len, &s->err);
	return n < 0 ? -1 : n;
}

static int put_write(void *w, const void *data, size_t n)
{
	return atr_put_write(w, data, n);
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

/* The file's checksum, from the form's x-amz-checksum-* field: *ck set up
 * to be fed the file and want filled, or ck->alg CHECKSUM_NONE. */
static enum s3_err form_checksum(const struct s3_form *f, struct checksum *ck,
				 unsigned char want[CHECKSUM_MAX_LEN])
{
	enum checksum_alg alg;
	const char *value;
	enum s3_err e = s3_form_checksum(f, &alg, &value);
	ck->alg = CHECKSUM_NONE;
	if (e || alg == CHECKSUM_NONE)
		return e;
	if ((e = s3_checksum_decode(value, alg, want)))
		return e;
	return checksum_init(ck, alg) ? S3_ERR_SLOW_DOWN : S3_ERR_OK;
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
static int drain(struct s3_req *r, struct post_src *src)
{
	char *tmp = s3_io_buffer(r->srv);
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

/* The canned ACL of the "acl" field, if any, for the object w writes. */
static enum s3_err form_acl(const struct s3_form *f, struct atr_writer *w)
{
	const struct s3_form_field *field = s3_form_get(f, "acl");
	struct atr_acl *acl;
	if (!field)
		return S3_ERR_OK;
	if (!(acl = malloc(sizeof(*acl))))
		return S3_ERR_SLOW_DOWN;
	int rc = atr_acl_canned(field->value, acl);
	enum s3_err e = rc ? S3_ERR_INVALID_ARGUMENT : s3_err_from_core(atr_put_acl(w, acl));
	free(acl);
	return e;
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
		if ((e = s3_refused_field(f->fields[i].name, f->fields[i].value)))
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

enum s3_err s3_post_object(struct s3_req *r)
{
	char boundary[S3_FORM_BOUNDARY_MAX + 1], msg[1024] = "";
	const char *ct = s3_header(r, "Content-Type");
	struct post_src src = { .err = S3_ERR_OK };
	struct s3_form *f = NULL;
	struct atr_writer *w = NULL;
	struct buf key = BUF_INIT(4 * ATR_KEY_MAX + 1), hdrs = BUF_INIT(8192),
		   tags = BUF_INIT(S3_TAGS_BUF(S3_TAGS_MAX));
	struct s3_policy_limits lim;
	struct checksum ck = { .alg = CHECKSUM_NONE };
	unsigned char ck_want[CHECKSUM_MAX_LEN], ck_got[CHECKSUM_MAX_LEN];
	char ck_line[96] = "";
	int body_open = 0, drained = 0, rc;
	uint64_t total = 0;
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
	if (!(f = malloc(sizeof(*f)))) {
		e = S3_ERR_SLOW_DOWN;
		goto out;
	}
	s3_continue(r);
	s3_form_init(f, boundary, post_source, &src);
	if ((e = s3_form_fields(f))) {
		if (e == S3_ERR_INCOMPLETE_BODY && src.err)
			e = src.err;
		goto out;
	}
	if ((e = s3_form_expand(f)) ||
	    (e = form_check(r, f, &key, &hdrs, &tags, &lim, msg, sizeof(msg))) ||
	    (e = form_checksum(f, &ck, ck_want)))
		goto out;
	if ((rc = atr_put_begin(r->srv->core, &r->user, r->bucket, key.ptr, 0, &w))) {
		e = s3_err_from_core(rc);
		goto out;
	}
	if (tags.ptr && (rc = atr_put_tags(w, tags.ptr))) {
		e = s3_err_from_core(rc);
		goto out;
	}
	if ((e = form_acl(f, w)))
		goto out;
	char *data = s3_io_buffer(r->srv);
	if (!data) {
		e = S3_ERR_SLOW_DOWN;
		goto out;
	}
	for (;;) {
		long n = s3_form_read(f, data, S3_IO_BUFFER, &e);
		if (n < 0) {
			if (e == S3_ERR_INCOMPLETE_BODY && src.err)
				e = src.err;
			goto out;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		if (total > lim.max_size || total > s3_limit(r->srv, max_put_size)) {
			e = S3_ERR_ENTITY_TOO_LARGE;
			goto out;
		}
		if ((rc = put_write(w, data, (size_t)n))) {
			e = s3_err_from_core(rc);
			goto out;
		}
		if (ck.alg != CHECKSUM_NONE)
			checksum_update(&ck, data, (size_t)n);
	}
	if (total < lim.min_size) {
		e = S3_ERR_ENTITY_TOO_SMALL;
		goto out;
	}
	if (ck.alg != CHECKSUM_NONE) {
		/* Kept with the object and echoed, as a PutObject's. */
		enum checksum_alg alg = ck.alg;
		checksum_final(&ck, ck_got);
		ck.alg = CHECKSUM_NONE;
		if (memcmp(ck_got, ck_want, checksum_len(alg))) {
			e = S3_ERR_CHECKSUM_BAD;
			goto out;
		}
		s3_checksum_line(alg, ck_got, ck_line);
		if (buf_addstr(&hdrs, ck_line)) {
			e = S3_ERR_METADATA_TOO_LARGE;
			goto out;
		}
	}
	if (drain(r, &src)) {
		if (src.err) {
			e = src.err;
			goto out;
		}
		/* Too much after the file: answer, then close; but a signed
		 * payload must be read whole to be verified. */
		if (r->auth.payload != S3_PAYLOAD_UNSIGNED) {
			e = S3_ERR_MAX_MESSAGE_LENGTH;
			goto out;
		}
		r->must_close = 1;
	} else {
		drained = 1;
	}
	if (drained && (e = s3_body_finish(&src.b)))
		goto out;
	struct atr_obj obj = { 0 };
	rc = atr_put_commit(w, hdrs.ptr, &obj);
	w = NULL;
	if (rc) {
		e = s3_err_from_core(rc);
		goto out;
	}
	e = respond(r, f, key.ptr, obj.etag, ck_line);
out:
	if (ck.alg != CHECKSUM_NONE)
		checksum_release(&ck);
	if (w)
		atr_put_abort(w);
	/* An error with the body's framing intact: read the rest (a little)
	 * so the client sees the answer and the connection can go on. */
	if (e && body_open && !drained && !src.err)
		drained = !drain(r, &src);
	if (e && !drained)
		r->must_close = 1; /* the rest of the body is still on the wire */
	if (e) {
		/* Sent here: the error document names the key, which is ours;
		 * policy errors carry a message naming the condition. */
		s3_send_error(r, e, msg[0] ? msg : NULL);
		e = S3_ERR_OK;
	}
	r->key = saved_key;
	r->key_len = saved_key_len;
	if (body_open)
		s3_body_close(&src.b);
	free(f);
	buf_release(&key);
	buf_release(&hdrs);
	buf_release(&tags);
	return e;
}
