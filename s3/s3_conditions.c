/*
 * s3_conditions — what a bucket policy's conditions may ask about an S3
 * request (the value callback of struct atr_request): the global keys AWS
 * sets for every request (aws:SourceIp, aws:SecureTransport,
 * aws:CurrentTime...) and the S3 ones taken from its headers and query
 * (s3:prefix, s3:x-amz-acl, s3:RequestObjectTag/<key>...). The core
 * answers the keys only it knows (aws:username, aws:PrincipalType,
 * s3:ExistingObjectTag/<key>).
 */
#include <civetweb.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/timefmt.h"
#include "s3/s3_int.h"
#include "common/banned.h"

/* Keys whose value is a request header of the same name (after "s3:"). */
static const char *const header_keys[] = {
	"x-amz-acl", "x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-read-acp",
	"x-amz-grant-write-acp", "x-amz-grant-full-control", "x-amz-content-sha256",
	"x-amz-copy-source", "x-amz-metadata-directive", "x-amz-storage-class",
	"x-amz-server-side-encryption", "x-amz-object-ownership",
};
/* Keys whose value is a query parameter (s3:prefix is the listing's). */
static const struct {
	const char *key, *param;
} query_keys[] = {
	{ "s3:prefix", "prefix" },
	{ "s3:delimiter", "delimiter" },
	{ "s3:max-keys", "max-keys" },
	{ "s3:VersionId", "versionId" },
};

/* The request's x-amz-tagging, parsed once. */
static const struct uri_query *request_tags(struct s3_req *r)
{
	const char *v = s3_header(r, "x-amz-tagging");
	if (!r->cond.tags_parsed && v) {
		r->cond.tags_parsed = 1;
		r->cond.tags_ok = !uri_query_parse(&r->cond.tags, v);
	}
	return r->cond.tags_ok ? &r->cond.tags : NULL;
}

static const char *auth_type(const struct s3_req *r)
{
	if (r->form_post)
		return "POST";
	return r->auth.presigned ? "REST-QUERY-STRING" : "REST-HEADER";
}

const char *s3_condition_value(void *arg, const char *k, int i)
{
	struct s3_req *r = arg;
	const struct mg_request_info *ri = mg_get_request_info(r->conn);
	const char *v = NULL;
	if (!strncasecmp(k, "s3:RequestObjectTag/", 20)) {
		const struct uri_query *q = request_tags(r);
		for (int j = 0; q && !i && j < q->n; j++)
			if (!strcmp(q->p[j].name, k + 20))
				return q->p[j].value;
		return NULL;
	}
	if (!strcasecmp(k, "s3:RequestObjectTagKeys")) {
		const struct uri_query *q = request_tags(r);
		return q && i < q->n ? q->p[i].name : NULL;
	}
	if (i)
		return NULL; /* every other key has one value */
	if (!strcasecmp(k, "aws:SourceIp"))
		return ri->remote_addr;
	if (!strcasecmp(k, "aws:SecureTransport"))
		return ri->is_ssl ? "true" : "false";
	if (!strcasecmp(k, "aws:CurrentTime") || !strcasecmp(k, "aws:EpochTime")) {
		int64_t now = time_now_ns();
		if (k[4] == 'E' || k[4] == 'e')
			snprintf(r->cond.time, sizeof(r->cond.time), "%lld",
				 (long long)(now / 1000000000));
		else
			time_fmt_iso8601_ms(now, r->cond.time);
		return r->cond.time;
	}
	if (!strcasecmp(k, "aws:UserAgent"))
		return s3_header(r, "User-Agent");
	if (!strcasecmp(k, "aws:Referer"))
		return s3_header(r, "Referer");
	if (!strcasecmp(k, "s3:authType"))
		return auth_type(r);
	if (!strcasecmp(k, "s3:signatureversion")) {
		const char *authz = s3_header(r, "Authorization");
		if (r->auth.anonymous)
			return NULL;
		return (authz && !strncmp(authz, "AWS ", 4)) || s3_has_param(r, "AWSAccessKeyId")
			       ? "AWS" : "AWS4-HMAC-SHA256";
	}
	for (size_t j = 0; j < sizeof(query_keys) / sizeof(*query_keys); j++)
		if (!strcasecmp(k, query_keys[j].key))
			return s3_param(r, query_keys[j].param);
	if (!strncasecmp(k, "s3:", 3))
		for (size_t j = 0; j < sizeof(header_keys) / sizeof(*header_keys); j++)
			if (!strcasecmp(k + 3, header_keys[j]) && (v = s3_header(r, header_keys[j])))
				return v;
	return NULL;
}
