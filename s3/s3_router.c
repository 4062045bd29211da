/*
 * s3_router — the dispatcher: parse the target, authenticate, route,
 * render errors. Everything every request needs happens here once.
 */
#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/hash.h"
#include "common/log.h"
#include "s3/s3_int.h"
#include "common/banned.h"

#define S3_PREFIX "/api/v1/s3"

enum target { T_SERVICE, T_BUCKET, T_OBJECT };

/* A request takes the first route that matches it, so a route selected by
 * a header stands before the same one without it. */
struct route {
	const char *method;
	enum target target;
	const char *param;   /* sub-resource that selects this route, or NULL */
	const char *header;  /* a header whose presence selects it, or NULL */
	s3_handler handler;
};

static const struct route routes[] = {
	{ "GET", T_SERVICE, NULL, NULL, s3_list_buckets },
	{ "GET", T_BUCKET, "location", NULL, s3_get_bucket_location },
	{ "GET", T_BUCKET, NULL, NULL, s3_list_objects },
	{ "PUT", T_BUCKET, NULL, NULL, s3_create_bucket },
	{ "HEAD", T_BUCKET, NULL, NULL, s3_head_bucket },
	{ "DELETE", T_BUCKET, NULL, NULL, s3_delete_bucket },
	{ "POST", T_BUCKET, "delete", NULL, s3_delete_objects },
	{ "POST", T_BUCKET, NULL, NULL, s3_post_object },
	{ "PUT", T_OBJECT, NULL, "x-amz-copy-source", s3_copy_object },
	{ "PUT", T_OBJECT, NULL, NULL, s3_put_object },
	{ "GET", T_OBJECT, NULL, NULL, s3_get_object },
	{ "HEAD", T_OBJECT, NULL, NULL, s3_get_object },
	{ "DELETE", T_OBJECT, NULL, NULL, s3_delete_object },
	{ "GET", T_BUCKET, "uploads", NULL, s3_list_multipart_uploads },
	{ "POST", T_OBJECT, "uploads", NULL, s3_create_multipart },
	{ "PUT", T_OBJECT, "uploadId", "x-amz-copy-source", s3_upload_part_copy },
	{ "PUT", T_OBJECT, "uploadId", NULL, s3_upload_part },
	{ "GET", T_OBJECT, "uploadId", NULL, s3_list_parts },
	{ "POST", T_OBJECT, "uploadId", NULL, s3_complete_multipart },
	{ "DELETE", T_OBJECT, "uploadId", NULL, s3_abort_multipart },
	{ "GET", T_OBJECT, "tagging", NULL, s3_get_object_tagging },
	{ "PUT", T_OBJECT, "tagging", NULL, s3_put_object_tagging },
	{ "DELETE", T_OBJECT, "tagging", NULL, s3_delete_object_tagging },
	{ "GET", T_BUCKET, "tagging", NULL, s3_get_bucket_tagging },
	{ "PUT", T_BUCKET, "tagging", NULL, s3_put_bucket_tagging },
	{ "DELETE", T_BUCKET, "tagging", NULL, s3_delete_bucket_tagging },
	{ "GET", T_OBJECT, "attributes", NULL, s3_get_object_attributes },
	{ "GET", T_OBJECT, "partNumber", NULL, s3_get_object },
	{ "HEAD", T_OBJECT, "partNumber", NULL, s3_get_object },
	{ "GET", T_BUCKET, "acl", NULL, s3_get_bucket_acl },
	{ "PUT", T_BUCKET, "acl", NULL, s3_put_bucket_acl },
	{ "GET", T_OBJECT, "acl", NULL, s3_get_object_acl },
	{ "PUT", T_OBJECT, "acl", NULL, s3_put_object_acl },
	{ "GET", T_BUCKET, "publicAccessBlock", NULL, s3_get_public_access_block },
	{ "PUT", T_BUCKET, "publicAccessBlock", NULL, s3_put_public_access_block },
	{ "DELETE", T_BUCKET, "publicAccessBlock", NULL, s3_delete_public_access_block },
	{ "GET", T_BUCKET, "ownershipControls", NULL, s3_get_ownership_controls },
	{ "PUT", T_BUCKET, "ownershipControls", NULL, s3_put_ownership_controls },
	{ "DELETE", T_BUCKET, "ownershipControls", NULL, s3_delete_ownership_controls },
	{ "GET", T_BUCKET, "policy", NULL, s3_get_bucket_policy },
	{ "PUT", T_BUCKET, "policy", NULL, s3_put_bucket_policy },
	{ "DELETE", T_BUCKET, "policy", NULL, s3_delete_bucket_policy },
	{ "GET", T_BUCKET, "policyStatus", NULL, s3_get_bucket_policy_status },
	{ "GET", T_BUCKET, "cors", NULL, s3_get_bucket_cors },
	{ "PUT", T_BUCKET, "cors", NULL, s3_put_bucket_cors },
	{ "DELETE", T_BUCKET, "cors", NULL, s3_delete_bucket_cors },
	{ "GET", T_BUCKET, "logging", NULL, s3_get_bucket_logging },
	{ "GET", T_BUCKET, "encryption", NULL, s3_get_bucket_encryption },
	{ "PUT", T_BUCKET, "encryption", NULL, s3_put_bucket_encryption },
	{ "DELETE", T_BUCKET, "encryption", NULL, s3_delete_bucket_encryption },
	{ "PUT", T_BUCKET, "logging", NULL, s3_put_bucket_logging },
	{ "GET", T_BUCKET, "versioning", NULL, s3_get_bucket_versioning },
	{ "PUT", T_BUCKET, "versioning", NULL, s3_put_bucket_versioning },
	{ "GET", T_BUCKET, "versions", NULL, s3_list_object_versions },
	{ "GET", T_BUCKET, "object-lock", NULL, s3_get_bucket_object_lock },
	{ "PUT", T_BUCKET, "object-lock", NULL, s3_put_bucket_object_lock },
	{ "GET", T_OBJECT, "retention", NULL, s3_get_object_retention },
	{ "PUT", T_OBJECT, "retention", NULL, s3_put_object_retention },
	{ "GET", T_OBJECT, "legal-hold", NULL, s3_get_object_legal_hold },
	{ "PUT", T_OBJECT, "legal-hold", NULL, s3_put_object_legal_hold },
	{ "GET", T_BUCKET, "lifecycle", NULL, s3_get_bucket_lifecycle },
	{ "PUT", T_BUCKET, "lifecycle", NULL, s3_put_bucket_lifecycle },
	{ "DELETE", T_BUCKET, "lifecycle", NULL, s3_delete_bucket_lifecycle },
	{ "GET", T_BUCKET, "website", NULL, s3_get_bucket_website },
	{ "GET", T_BUCKET, "requestPayment", NULL, s3_get_bucket_request_payment },
	{ "GET", T_BUCKET, "accelerate", NULL, s3_get_bucket_accelerate },
	{ "GET", T_BUCKET, "notification", NULL, s3_get_bucket_notification },
	{ "OPTIONS", T_BUCKET, NULL, NULL, s3_cors_preflight },
	{ "OPTIONS", T_OBJECT, NULL, NULL, s3_cors_preflight },
};

/* Query parameters that name an S3 sub-resource or operation. A request
 * carrying one we have no route for is NotImplemented, never mistaken for
 * the plain operation (a GET ?acl must not return the object). */
static const char *const subresources[] = {
	"accelerate", "acl", "analytics", "attributes", "cors", "delete", "encryption",
	"intelligent-tiering", "inventory", "legal-hold", "lifecycle", "location", "logging",
	"metrics", "notification", "object-lock", "ownershipControls", "partNumber", "policy",
	"policyStatus", "publicAccessBlock", "replication", "requestPayment", "restore",
	"retention", "select", "tagging", "torrent", "uploadId", "uploads", "versioning",
	"versions", "website",
};

static int is_subresource(const char *name)
{
	for (size_t i = 0; i < sizeof(subresources) / sizeof(subresources[0]); i++)
		if (!strcmp(subresources[i], name))
			return 1;
	return 0;
}

/* Headers (and POST form fields) asking for what Atrium does not do and
 * must never ignore: data a client asked to be encrypted must not be
 * stored in the clear, data it asked to be locked must not stay
 * deletable. Names match by prefix, case-insensitively; value (if set)
 * must match too, case-insensitively and trimmed. Object Lock headers are
 * read by PUT, CopyObject, CreateMultipartUpload and CreateBucket
 * (handles_lock) and as a POST form's fields (s3_post.c); another
 * operation (UploadPart) refuses them with AWS's answer for a bucket
 * without Object Lock, never ignores them. The SSE rows hold for every operation but those that
 * read the SSE headers themselves (s3_sse.c; handles_sse below), so an
 * operation that does not encrypt never takes them silently. */
static const struct {
	const char *prefix;
	const char *value;   /* NULL: any value */
	enum s3_err err;
	int sse;             /* 1 an SSE header: the SSE operations read it;
				2 an Object Lock one: handles_lock's do */
} refused_fields[] = {
	{ "x-amz-server-side-encryption", NULL, S3_ERR_SSE_NOT_IMPLEMENTED, 1 }, /* and -aws-kms-*,
										    -context, -bucket-key-enabled,
										    -customer-* (SSE-C) */
	{ "x-amz-copy-source-server-side-encryption-", NULL, S3_ERR_SSE_NOT_IMPLEMENTED, 1 },
	{ "x-amz-object-lock-", NULL, S3_ERR_OBJECT_LOCK_MISSING, 2 }, /* -mode, -retain-until-date,
									  -legal-hold */
	{ "x-amz-bucket-object-lock-enabled", "true", S3_ERR_OBJECT_LOCK_NOT_IMPLEMENTED, 2 },
};

/* The operations that read the SSE headers themselves (s3_sse.c). */
static int handles_sse(s3_handler h)
{
	return h == s3_put_object || h == s3_copy_object || h == s3_get_object ||
	       h == s3_create_multipart || h == s3_upload_part_copy || h == s3_upload_part ||
	       h == s3_complete_multipart || h == s3_get_object_attributes;
}

/* The operations that read the Object Lock headers themselves
 * (s3_objlock.c). */
static int handles_lock(s3_handler h)
{
	return h == s3_put_object || h == s3_copy_object || h == s3_create_bucket ||
	       h == s3_create_multipart;
}

/* ok: 1 the SSE fields are read by the operation, 2 the lock ones, 3 both. */
static enum s3_err refused(const char *name, const char *value, int ok)
{
	for (size_t i = 0; i < sizeof(refused_fields) / sizeof(refused_fields[0]); i++) {
		const char *p = refused_fields[i].prefix, *want = refused_fields[i].value;
		if (strncasecmp(name, p, strlen(p)) || (ok & refused_fields[i].sse))
			continue;
		if (!want)
			return refused_fields[i].err;
		const char *v = value + strspn(value, " \t");
		size_t n = strlen(want);
		if (!strncasecmp(v, want, n) && !v[n + strspn(v + n, " \t")])
			return refused_fields[i].err;
	}
	return S3_ERR_OK;
}

enum s3_err s3_refused_field(const char *name, const char *value)
{
	return refused(name, value, 0);
}

/* The headers, and the query: presigners (botocore's) hoist x-amz-*
 * headers into a presigned URL's query, where S3 reads them as headers. */
static enum s3_err refused_fields_of(const struct s3_req *r, const struct mg_request_info *ri,
				     s3_handler h)
{
	enum s3_err e = S3_ERR_OK;
	int sse_ok = handles_sse(h);
	for (int i = 0; i < ri->num_headers && !e; i++)
		e = refused(ri->http_headers[i].name, ri->http_headers[i].value,
			    sse_ok | (handles_lock(h) ? 2 : 0));
	/* SSE in a presigned URL's query is read as its header by the
	 * operations that read SSE (s3_sse.c): presigners hoist it there, and
	 * the signature covers it. In any other query it is refused, never
	 * ignored. SSE-C's key never goes in a URL (logs, histories): AWS
	 * wants its headers, signed. */
	int query_ok = sse_ok && r->auth.presigned;
	for (int i = 0; i < r->q.n && !e; i++) {
		const char *n = r->q.p[i].name;
		if (!strncasecmp(n, "x-amz-server-side-encryption-customer-", 38) ||
		    !strncasecmp(n, "x-amz-copy-source-server-side-encryption-customer-", 50))
			e = S3_ERR_SSE_C_IN_QUERY;
		else
			e = refused(n, r->q.p[i].value, query_ok);
	}
	return e;
}

const char *s3_header(const struct s3_req *r, const char *name)
{
	return mg_get_header(r->conn, name);
}

const char *s3_param(const struct s3_req *r, const char *name)
{
	const struct uri_param *p = uri_query_get(&r->q, name);
	return p ? p->value : NULL;
}

int s3_has_param(const struct s3_req *r, const char *name)
{
	return uri_query_get(&r->q, name) != NULL;
}

void s3_continue(struct s3_req *r)
{
	const char *expect = s3_header(r, "Expect");
	if (r->continue_sent || !expect || strcasecmp(expect, "100-continue"))
		return;
	/* civetweb answers Expect only for its own handlers: without this,
	 * every awscli/boto3/curl upload waits a second before sending. */
	mg_write(r->conn, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	r->continue_sent = 1;
}

/* vpath: the path-style form of a virtual-hosted request ("/bucket" +
 * raw_path), or NULL. SigV4 signs the path as sent; SigV2's resource is
 * "/bucket/key" either way. */
static enum s3_err authenticate(struct s3_req *r, const struct mg_request_info *ri,
				const char *raw_path, const char *vpath)
{
	struct s3_hdr hdrs[MG_MAX_HEADERS];
	int n = s3_auth_headers(ri, hdrs);
	struct s3_auth_req ar = {
		.method = ri->request_method, .path = raw_path, .query = ri->query_string,
		.hdrs = hdrs, .nhdrs = n, .now = time(NULL),
		.path_decoded = 0, /* decode_url=no: the path as sent */
		.bucket_path = !vpath && *r->bucket && r->key_len == 0 &&
			       raw_path[strlen(raw_path) - 1] != '/',
		.alt_path = r->path_prefixed ? raw_path + strlen(S3_PREFIX) : NULL,
		.v2_path = vpath,
	};
	enum s3_err e = s3_auth_check(r->srv->opt.auth, &ar, s3_secret_lookup,
				      (void *)r->srv->idents, &r->auth);
	if (e)
		return e;
	s3_set_user(r, r->auth.user, r->auth.anonymous);
	return S3_ERR_OK;
}

void s3_set_user(struct s3_req *r, const char *user, int anonymous)
{
	const char *daemon_user = atr_core_daemon_user(r->srv->core);
	/* Unsigned: Alluxio's trusted mode acts as the daemon's user; S3
	 * proper is anonymous, allowed what grants to everyone allow. */
	int daemon = anonymous && r->srv->opt.auth == S3_AUTH_SIMPLE;
	snprintf(r->user_name, sizeof(r->user_name), "%s",
		 daemon ? daemon_user : anonymous ? "" : user);
	r->auth.anonymous = anonymous;
	r->req.value = s3_condition_value;
	r->req.arg = r;
	r->user.req = &r->req;
	r->user.name = r->user_name;
	r->user.anonymous = anonymous && !daemon;
	r->user.superuser = !r->user.anonymous && !strcmp(r->user_name, daemon_user);
}

/* Splits the decoded path "/bucket/key..." in place. */
static enum s3_err split_path(struct s3_req *r)
{
	char *p = r->split + 1;
	char *slash = strchr(p, '/');
	size_t blen = slash ? (size_t)(slash - p) : r->key_len - 1;
	r->bucket = p;
	r->key = "";
	if (strlen(p) < blen)
		return S3_ERR_INVALID_BUCKET_NAME; /* a NUL in it: "/%00" is not "/" */
	if (slash) {
		*slash = '\0';
		r->key = slash + 1;
		r->key_len -= (size_t)(r->key - r->split);
	} else {
		r->key_len = 0;
	}
	if (*r->bucket && !atr_bucket_name_valid(r->bucket))
		return S3_ERR_INVALID_BUCKET_NAME;
	if (*r->key && memchr(r->key, '\0', r->key_len))
		return S3_ERR_INVALID_OBJECT_NAME;
	return S3_ERR_OK;
}

static enum s3_err parse_target(struct s3_req *r, const char *raw)
{
	const char *p = raw;
	size_t plen = strlen(S3_PREFIX);
	if (!strncmp(p, S3_PREFIX, plen) && (p[plen] == '\0' || p[plen] == '/')) {
		p += plen;
		r->path_prefixed = 1;
	}
	if (*p == '\0')
		p = "/";
	size_t n = strlen(p);
	r->path = malloc(2 * (n + 1));
	if (!r->path)
		return S3_ERR_SLOW_DOWN;
	r->split = r->path + n + 1;
	memcpy(r->path, p, n + 1);
	long dn = uri_decode_inplace(r->path, n, 0);
	if (dn < 0)
		return S3_ERR_INVALID_ARGUMENT;
	/* The decoded length, NULs included, measured from path's start. */
	r->key_len = (size_t)dn;
	memcpy(r->split, r->path, (size_t)dn + 1);
	/* r->path may now hold a NUL before its end; split_path checks. */
	return split_path(r);
}

/*
 * Virtual-hosted style (opt.domain): Host "bucket.domain[:port]" names
 * the bucket and the whole path is the key, so *vpath becomes "/bucket" +
 * raw (malloc'd), the path-style spelling the rest of the door parses.
 * Host equal to the domain, another host, or no domain: *vpath stays NULL
 * (path style).
 */
static enum s3_err virtual_host(struct s3_req *r, const char *raw, char **vpath)
{
	const char *domain = r->srv->opt.domain, *host = s3_header(r, "Host");
	size_t dlen, hlen;
	*vpath = NULL;
	if (!domain || !*domain || !host || *host == '[')
		return S3_ERR_OK;
	hlen = strcspn(host, ":");
	dlen = strlen(domain);
	if (hlen && host[hlen - 1] == '.')
		hlen--; /* a fully qualified "bucket.domain." */
	if (hlen <= dlen + 1 || host[hlen - dlen - 1] != '.' ||
	    strncasecmp(host + hlen - dlen, domain, dlen))
		return S3_ERR_OK;
	char bucket[ATR_BUCKET_MAX + 1];
	size_t blen = hlen - dlen - 1, rlen = strlen(raw);
	if (blen > ATR_BUCKET_MAX)
		return S3_ERR_INVALID_BUCKET_NAME;
	for (size_t i = 0; i < blen; i++) /* host names are case-insensitive */
		bucket[i] = (char)(host[i] >= 'A' && host[i] <= 'Z' ? host[i] + 32 : host[i]);
	bucket[blen] = '\0';
	if (!atr_bucket_name_valid(bucket))
		return S3_ERR_INVALID_BUCKET_NAME;
	if (!(*vpath = malloc(1 + blen + rlen + 1)))
		return S3_ERR_SLOW_DOWN;
	(*vpath)[0] = '/';
	memcpy(*vpath + 1, bucket, blen);
	memcpy(*vpath + 1 + blen, raw, rlen + 1);
	r->vhost = 1;
	return S3_ERR_OK;
}

/* A browser form upload (POST Object) carries its signature in its
 * fields, not in a header or the query: such a request is authenticated
 * by s3_post_object once the fields are read. */
static int is_form_post(const struct s3_req *r)
{
	const char *ct = s3_header(r, "Content-Type");
	if (strcmp(r->method, "POST") || !*r->bucket || *r->key || r->key_len || r->q.n ||
	    s3_header(r, "Authorization") || !ct)
		return 0;
	ct += strspn(ct, " \t");
	return !strncasecmp(ct, "multipart/form-data", 19);
}

s3_handler s3_route_find(const struct s3_req *r, enum s3_err *err)
{
	enum target t = !*r->bucket ? T_SERVICE : !*r->key && r->key_len == 0 ? T_BUCKET : T_OBJECT;
	int method_known = 0;
	const char *sub = NULL;
	for (int i = 0; i < r->q.n; i++)
		if (is_subresource(r->q.p[i].name)) {
			sub = r->q.p[i].name;
			break;
		}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *rt = &routes[i];
		if (rt->target != t || strcmp(rt->method, r->method))
			continue;
		/* A method served only with a sub-resource (POST ?uploads) is
		 * still not allowed without one. */
		method_known |= rt->param == NULL;
		if ((rt->param ? s3_has_param(r, rt->param) : sub == NULL) &&
		    (!rt->header || s3_header(r, rt->header)))
			return rt->handler;
	}
	*err = method_known || sub ? S3_ERR_NOT_IMPLEMENTED : S3_ERR_METHOD_NOT_ALLOWED;
	return NULL;
}

/*
 * Request framing that civetweb lets through but that loses information or
 * that a proxy in front could read differently (request smuggling):
 * civetweb keeps only the first MG_MAX_HEADERS headers and drops the rest
 * silently (an x-amz-meta-* or Authorization header would vanish), reads
 * "Content-Length: 12abc" as 12, takes the first of several Content-Lengths,
 * and lets Transfer-Encoding override Content-Length. All are refused, and
 * the connection is closed after the error: with a header dropped, even
 * where this request's body ends is unknown.
 */
static enum s3_err check_framing(const struct mg_request_info *ri)
{
	const char *cl = NULL;
	int te = 0;
	if (ri->num_headers >= MG_MAX_HEADERS)
		return S3_ERR_INVALID_REQUEST;
	for (int i = 0; i < ri->num_headers; i++) {
		const char *name = ri->http_headers[i].name, *v = ri->http_headers[i].value;
		if (!strcasecmp(name, "Transfer-Encoding")) {
			te = 1;
		} else if (!strcasecmp(name, "Content-Length")) {
			if (!*v || v[strspn(v, "0123456789")] || (cl && strcmp(cl, v)))
				return S3_ERR_INVALID_REQUEST;
			cl = v;
		}
	}
	return te && cl ? S3_ERR_INVALID_REQUEST : S3_ERR_OK;
}

int s3_handle(struct s3_server *s, struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct s3_req r;
	enum s3_err e;
	s3_handler handler = NULL;
	char *vpath = NULL;
	int64_t t0 = s3_clock_ns();
	memset(&r, 0, sizeof(r));
	r.srv = s;
	r.conn = conn;
	r.method = ri->request_method;
	r.content_length = ri->content_length;
	r.object_size = -1;
	uint64_t id = __atomic_add_fetch(&s->next_id, 1, __ATOMIC_RELAXED);
	snprintf(r.id, sizeof(r.id), "%016llX", (unsigned long long)(id ^ s->id_salt));

	const char *raw = ri->local_uri_raw ? ri->local_uri_raw : ri->local_uri;
	if (!raw || raw[0] != '/') {
		e = S3_ERR_INVALID_REQUEST;
		goto fail;
	}
	if ((e = check_framing(ri))) {
		r.must_close = 1; /* where this request ends is not known */
		goto fail;
	}
	if (uri_query_parse(&r.q, ri->query_string)) {
		e = S3_ERR_INVALID_ARGUMENT;
		goto fail;
	}
	if ((e = virtual_host(&r, raw, &vpath)))
		goto fail;
	if ((e = parse_target(&r, vpath ? vpath : raw)))
		goto fail;
	/* A browser's request: the bucket's CORS rules say which headers
	 * every answer to it carries, errors included. */
	if (s3_header(&r, "Origin") && strcmp(r.method, "OPTIONS"))
		s3_cors_request(&r);
	if (is_form_post(&r))
		r.form_post = 1; /* s3_post_object authenticates the form */
	else if (!strcmp(r.method, "OPTIONS"))
		r.preflight = 1; /* a CORS preflight: S3 answers it unauthenticated */
	else if ((e = authenticate(&r, ri, raw, vpath)))
		goto fail;
	if (!(handler = s3_route_find(&r, &e)) || (e = refused_fields_of(&r, ri, handler)))
		goto fail;
	e = handler(&r);
	if (e)
		goto fail;
	goto out;
fail:
	/* A body we did not read would be taken for the next request. */
	if (!r.started && (r.content_length > 0 ||
			   (r.content_length < 0 && s3_header(&r, "Transfer-Encoding"))))
		r.must_close = 1;
	s3_send_error(&r, e, NULL);
out:
	LOG(LOG_DEBUG, "s3 %s %s %s%s%s -> %d user=%s", r.id, r.method, raw,
	    ri->query_string ? "?" : "", ri->query_string ? ri->query_string : "", r.status,
	    r.user_name);
	s3_observe(&r, handler, raw, t0);
	uri_query_release(&r.q);
	if (r.cond.tags_ok)
		uri_query_release(&r.cond.tags);
	free(r.cors_hdrs);
	free(r.path);
	free(vpath);
	return r.status ? r.status : 500;
}

/*
 * Requests civetweb refuses before any handler sees them (a malformed
 * request line, a negative or unparsable Content-Length, a header block
 * over max_request_size, an HTTP version it does not speak) reach us
 * through its http_error callback: they get what every S3 answer has — an
 * S3 XML error, a request id, an observe() call (metrics, the access log)
 * — and the connection is closed, since where the request ends is not
 * known. What civetweb parsed (method, path) may be missing.
 */
static const struct {
	int status;
	enum s3_err err;
} rejections[] = {
	{ 411, S3_ERR_MISSING_LENGTH },
	{ 413, S3_ERR_BAD_REQUEST },
	{ 505, S3_ERR_HTTP_VERSION },
	{ 503, S3_ERR_SERVICE_UNAVAILABLE }, /* the daemon is stopping */
};

int s3_reject(struct s3_server *s, struct mg_connection *conn, int status, const char *why)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct s3_req r;
	int64_t t0 = s3_clock_ns();
	enum s3_err e = S3_ERR_BAD_REQUEST;
	memset(&r, 0, sizeof(r));
	r.srv = s;
	r.conn = conn;
	r.method = ri && ri->request_method ? ri->request_method : "-";
	r.must_close = 1;
	r.content_length = -1;
	r.object_size = -1;
	uint64_t id = __atomic_add_fetch(&s->next_id, 1, __ATOMIC_RELAXED);
	snprintf(r.id, sizeof(r.id), "%016llX", (unsigned long long)(id ^ s->id_salt));
	for (size_t i = 0; i < sizeof(rejections) / sizeof(rejections[0]); i++)
		if (rejections[i].status == status)
			e = rejections[i].err;
	LOG(LOG_INFO, "s3 %s: refused before any handler: %d %s", r.id, status, why ? why : "");
	const char *raw = ri ? (ri->local_uri_raw ? ri->local_uri_raw : ri->local_uri) : NULL;
	s3_send_error(&r, e, NULL);
	s3_observe(&r, NULL, raw, t0);
	return r.status;
}

struct s3_server *s3_server_new(struct atr_core *core, const struct atr_idents *idents,
				const struct s3_options *opt)
{
	struct s3_server *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->core = core;
	s->idents = idents;
	s->opt = *opt;
	s->id_salt = (uint64_t)time(NULL) << 24;
	pthread_key_create(&s->io_key, free);
	if ((s->opt.min_body_rate && s->opt.request_timeout_ms > 0 &&
	     !(s->slow = s3_slow_new())) ||
	    !(s->logging = s3_logging_new(s)) || !(s->lifecycle = s3_lifecycle_new(s))) {
		s3_logging_free(s->logging);
		s3_slow_free(s->slow);
		pthread_key_delete(s->io_key);
		free(s);
		return NULL;
	}
	return s;
}

void s3_server_set_limits(struct s3_server *s, uint64_t max_put_size, uint64_t min_part_size)
{
	__atomic_store_n(&s->opt.max_put_size, max_put_size, __ATOMIC_RELAXED);
	__atomic_store_n(&s->opt.min_part_size, min_part_size, __ATOMIC_RELAXED);
}

void s3_server_free(struct s3_server *s)
{
	if (!s)
		return;
	s3_lifecycle_free(s->lifecycle); /* after its pass in progress */
	s3_logging_free(s->logging); /* delivers what is queued */
	s3_slow_free(s->slow);
	free(pthread_getspecific(s->io_key));
	pthread_key_delete(s->io_key);
	free(s);
}

char *s3_io_buffer(struct s3_server *s)
{
	char *b = pthread_getspecific(s->io_key);
	if (!b && (b = malloc(S3_IO_BUFFER)))
		pthread_setspecific(s->io_key, b);
	return b;
}
