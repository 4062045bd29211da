/*
 * s3_cors — Put/Get/DeleteBucketCors (?cors, the bucket owner's), the
 * preflight OPTIONS requests browsers send before a cross-origin request
 * (answered from the bucket's rules, unauthenticated, as S3 does), and the
 * CORS headers an actual request with an Origin gets when a rule allows
 * it — on error responses too, so a browser can read the error. The
 * document itself and the matching are s3_cors_doc.c's (pure, fuzzed).
 * The configuration is kept by the core as a bucket document
 * (ATR_DOC_CORS), in the form s3_cors_xml writes.
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "s3/s3_cors.h"
#include "s3/s3_int.h"
#include "common/banned.h"

/* What a browser's cross-origin request may see: the rule's headers and
 * Vary, so a cache keeps answers to different origins apart. */
#define VARY "Vary: Origin, Access-Control-Request-Headers, Access-Control-Request-Method\r\n"

static enum s3_err normalise(const char *body, size_t len, struct buf *doc, char *msg,
			     size_t msgsize)
{
	struct s3_cors c = { 0 };
	enum s3_err e = s3_cors_parse(body, len, &c, msg, msgsize);
	if (!e && s3_cors_xml(&c, doc))
		e = S3_ERR_INTERNAL;
	s3_cors_free(&c);
	return e;
}

enum s3_err s3_put_bucket_cors(struct s3_req *r)
{
	return s3_put_bucket_doc(r, ATR_DOC_CORS, "s3:PutBucketCORS", S3_CORS_BODY_MAX,
				 normalise);
}

enum s3_err s3_get_bucket_cors(struct s3_req *r)
{
	return s3_get_bucket_doc(r, ATR_DOC_CORS, "s3:GetBucketCORS", S3_ERR_NO_SUCH_CORS);
}

enum s3_err s3_delete_bucket_cors(struct s3_req *r)
{
	int rc = atr_bucket_doc_set(r->srv->core, &r->user, r->bucket, ATR_DOC_CORS,
				    "s3:PutBucketCORS", NULL);
	if (rc)
		return s3_err_from_core(rc);
	s3_send_empty(r, 204, NULL);
	return S3_ERR_OK;
}

/* The bucket's configuration, for a browser's request (no permission
 * check: S3 answers preflights to anyone). */
static enum s3_err cors_of(struct s3_req *r, struct s3_cors *c)
{
	char *doc = NULL, msg[8];
	int rc = atr_bucket_doc_peek(r->srv->core, r->bucket, ATR_DOC_CORS, &doc, NULL);
	if (rc == ATR_E_NO_CONFIG)
		return S3_ERR_CORS_NOT_ENABLED;
	if (rc)
		return s3_err_from_core(rc);
	enum s3_err e = s3_cors_parse(doc, strlen(doc), c, msg, sizeof(msg));
	free(doc);
	if (e)
		LOG(LOG_ERROR, "s3 %s: the CORS configuration kept for %s does not parse", r->id,
		    r->bucket);
	return e ? S3_ERR_INTERNAL : S3_ERR_OK;
}

enum s3_err s3_cors_preflight(struct s3_req *r)
{
	const char *origin = s3_header(r, "Origin");
	const char *method = s3_header(r, "Access-Control-Request-Method");
	const char *hdrs = s3_header(r, "Access-Control-Request-Headers");
	struct s3_cors c = { 0 };
	struct buf extra = BUF_INIT(16 * 1024);
	enum s3_err e;
	if (!origin)
		return S3_ERR_CORS_NO_ORIGIN;
	if (!method || !s3_cors_method(method))
		return S3_ERR_CORS_BAD_METHOD;
	if ((e = cors_of(r, &c)))
		goto out;
	const struct s3_cors_rule *rule = s3_cors_match(&c, origin, method, hdrs);
	if (!rule) {
		e = S3_ERR_CORS_NOT_ALLOWED;
		goto out;
	}
	if (s3_cors_headers(rule, origin, hdrs, 1, &extra) || buf_addstr(&extra, VARY)) {
		e = S3_ERR_INTERNAL;
		goto out;
	}
	s3_send_empty(r, 200, extra.ptr);
out:
	s3_cors_free(&c);
	buf_release(&extra);
	return e;
}

void s3_cors_request(struct s3_req *r)
{
	const char *origin = s3_header(r, "Origin");
	struct s3_cors c = { 0 };
	struct buf extra = BUF_INIT(16 * 1024);
	if (!origin || !*r->bucket || cors_of(r, &c))
		goto out;
	const struct s3_cors_rule *rule = s3_cors_match(&c, origin, r->method, NULL);
	if (!rule ? buf_addstr(&extra, VARY)
		  : s3_cors_headers(rule, origin, NULL, 0, &extra) || buf_addstr(&extra, VARY))
		goto out;
	r->cors_hdrs = buf_detach(&extra);
out:
	s3_cors_free(&c);
	buf_release(&extra);
}
