/*
 * s3_list — ListObjects (v1), ListObjectsV2 and ListObjectVersions.
 *
 * Continuation tokens are "atr1." + base64(the key the next page starts
 * at, inclusive): opaque and XML-safe. For Alluxio's documented usage, a
 * token without that prefix is taken as a plain key to start at
 * (inclusive), in v1 requests too.
 *
 * Every name a listing echoes must leave the XML well-formed: parameters
 * are checked first (s3_list_param_check), keys as they are listed. With
 * encoding-type=url names go out URL-encoded and anything UTF-8 passes;
 * without it a name XML 1.0 cannot carry refuses the listing (400
 * InvalidArgument naming encoding-type=url). AWS instead writes it as a
 * character reference (&#x1;) that no XML 1.0 parser accepts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/timefmt.h"
#include "common/uri.h"
#include "s3/s3_int.h"
#include "common/banned.h"

#define TOKEN_PREFIX "atr1."
#define LIST_MAX 1000

struct listing {
	struct s3_req *r;
	struct buf *contents;
	struct buf *prefixes;
	int url;            /* encoding-type=url */
	int owner;          /* include <Owner> */
	int count;
	char last[ATR_KEY_MAX + 2];
	enum s3_err err;
};

/* One more name in a listing (a key or a prefix): its checks, counted;
 * a prefix's element written. 1 for a prefix (done), 0 for a key, -1 to
 * stop (l->err). */
static int list_name(struct listing *l, const char *key, int is_prefix)
{
	if ((l->err = s3_list_name_check(key, l->url)))
		return -1;
	snprintf(l->last, sizeof(l->last), "%s", key);
	l->count++;
	if (!is_prefix)
		return 0;
	if (buf_addstr(l->prefixes, "<CommonPrefixes>") ||
	    s3_xml_name(l->prefixes, "Prefix", key, l->url) ||
	    buf_addstr(l->prefixes, "</CommonPrefixes>")) {
		l->err = S3_ERR_INTERNAL;
		return -1;
	}
	return 1;
}

static int on_item(void *arg, const struct atr_list_item *it)
{
	struct listing *l = arg;
	struct buf *b = l->contents;
	int rc = list_name(l, it->key, it->is_prefix);
	if (rc)
		return rc < 0;
	char date[TIMEFMT_LEN];
	time_fmt_iso8601_ms(it->obj->mtime_ns, date);
	rc = buf_addstr(b, "<Contents>") || s3_xml_name(b, "Key", it->key, l->url) ||
	     s3_xml_elem(b, "LastModified", date) ||
	     buf_addf(b, "<ETag>&quot;%s&quot;</ETag><Size>%llu</Size>", it->obj->etag,
		      (unsigned long long)(it->obj->is_dir ? 0 : it->obj->size));
	if (!rc && l->owner) {
		rc = s3_xml_user(l->r, b, "Owner", it->obj->owner);
	}
	rc = rc || buf_addstr(b, "<StorageClass>STANDARD</StorageClass></Contents>");
	if (rc)
		l->err = S3_ERR_INTERNAL;
	return rc;
}

enum s3_err s3_list_param_check(const char *v, int url)
{
	if (!v)
		return S3_ERR_OK;
	size_t n = strlen(v);
	if (!utf8_valid(v, n))
		return S3_ERR_LIST_PARAM_NOT_UTF8;
	if (!url && !utf8_xml_valid(v, n))
		return S3_ERR_LIST_PARAM_NOT_XML;
	return S3_ERR_OK;
}

enum s3_err s3_list_name_check(const char *name, int url)
{
	if (!url && !utf8_xml_valid(name, strlen(name)))
		return S3_ERR_LIST_KEY_NOT_XML;
	return S3_ERR_OK;
}

/* max-keys: a non-negative integer; anything above 1000 means 1000. */
int s3_list_max_keys(const char *v, int *out)
{
	*out = LIST_MAX;
	if (!v)
		return 0;
	if (!*v || strspn(v, "0123456789") != strlen(v))
		return -1;
	v += strspn(v, "0"); /* "0000000" is 0, not a long number */
	long n = strlen(v) > 6 ? LIST_MAX : strtol(v, NULL, 10);
	*out = n > LIST_MAX ? LIST_MAX : (int)n;
	return 0;
}

/* The key a continuation token stands for. */
int s3_list_token_decode(const char *tok, char *out, size_t size)
{
	size_t plen = strlen(TOKEN_PREFIX);
	if (!strncmp(tok, TOKEN_PREFIX, plen)) {
		int n = base64_decode(tok + plen, strlen(tok + plen), (unsigned char *)out, size - 1);
		if (n < 0)
			return -1;
		out[n] = '\0';
		return 0;
	}
	if (strlen(tok) >= size)
		return -1;
	snprintf(out, size, "%s", tok);
	return 0;
}

/* A ListObjects (v1 or v2) request as sent, checked. */
struct list_query {
	const char *prefix, *delim, *enc, *marker, *token, *start_after, *fetch_owner;
	int v2, max, url;
	char start[ATR_KEY_MAX + 2]; /* the continuation token's key */
};

static enum s3_err list_query_parse(struct s3_req *r, struct list_query *q)
{
	const char *list_type = s3_param(r, "list-type");
	q->prefix = s3_param(r, "prefix");
	q->delim = s3_param(r, "delimiter");
	q->enc = s3_param(r, "encoding-type");
	q->marker = s3_param(r, "marker");
	q->token = s3_param(r, "continuation-token");
	q->start_after = s3_param(r, "start-after");
	q->fetch_owner = s3_param(r, "fetch-owner");
	if (list_type && strcmp(list_type, "2"))
		return S3_ERR_INVALID_ARGUMENT;
	q->v2 = list_type != NULL;
	if (s3_list_max_keys(s3_param(r, "max-keys"), &q->max))
		return S3_ERR_INVALID_ARGUMENT;
	if (q->enc && strcmp(q->enc, "url"))
		return S3_ERR_INVALID_ARGUMENT;
	if (q->token && s3_list_token_decode(q->token, q->start, sizeof(q->start)))
		return S3_ERR_INVALID_ARGUMENT;
	/* An empty delimiter is no delimiter, and AWS does not echo it. */
	if (q->delim && !*q->delim)
		q->delim = NULL;
	/* What the response echoes; a continuation token is echoed as sent,
	 * never URL-encoded (AWS), and so is v1's Prefix: botocore, which
	 * decodes every element S3 encodes, leaves ListObjects' Prefix alone
	 * (it decodes ListObjectsV2's), so an encoded one reaches boto3's
	 * callers as "%0A". */
	enum s3_err e;
	q->url = q->enc != NULL;
	if ((e = s3_list_param_check(q->prefix, q->url && q->v2)) ||
	    (e = s3_list_param_check(q->delim, q->url)) ||
	    (e = s3_list_param_check(q->v2 ? q->start_after : q->marker, q->url)) ||
	    (e = s3_list_param_check(q->v2 ? q->token : NULL, 0)))
		return e;
	return S3_ERR_OK;
}

/* The ListBucketResult around what the listing found (l). */
static enum s3_err list_render(struct s3_req *r, const struct list_query *q,
			       const struct listing *l, int truncated, const char *next,
			       struct buf *b)
{
	s3_xml_open(b, "ListBucketResult");
	s3_xml_elem(b, "Name", r->bucket);
	s3_xml_name(b, "Prefix", q->prefix ? q->prefix : "", q->url && q->v2);
	if (q->v2) {
		if (q->token)
			s3_xml_elem(b, "ContinuationToken", q->token);
		if (q->start_after)
			s3_xml_name(b, "StartAfter", q->start_after, q->url);
		buf_addf(b, "<KeyCount>%d</KeyCount>", l->count);
	} else {
		s3_xml_name(b, "Marker", q->marker ? q->marker : "", q->url);
	}
	buf_addf(b, "<MaxKeys>%d</MaxKeys>", q->max);
	if (q->delim)
		s3_xml_name(b, "Delimiter", q->delim, q->url);
	if (q->enc)
		s3_xml_elem(b, "EncodingType", "url");
	buf_addf(b, "<IsTruncated>%s</IsTruncated>", truncated ? "true" : "false");
	if (truncated && q->v2) {
		size_t n = strlen(next);
		char *tok = malloc(strlen(TOKEN_PREFIX) + 4 * (n / 3 + 1) + 1);
		if (!tok)
			return S3_ERR_SLOW_DOWN;
		memcpy(tok, TOKEN_PREFIX, strlen(TOKEN_PREFIX));
		base64_encode((const unsigned char *)next, n, tok + strlen(TOKEN_PREFIX));
		s3_xml_elem(b, "NextContinuationToken", tok);
		free(tok);
	} else if (truncated && q->delim && l->count) {
		/* v1 names the next marker only with a delimiter (AWS). */
		s3_xml_name(b, "NextMarker", l->last, q->url);
	}
	if (l->contents->len)
		buf_add(b, l->contents->ptr, l->contents->len);
	if (l->prefixes->len)
		buf_add(b, l->prefixes->ptr, l->prefixes->len);
	return buf_addstr(b, "</ListBucketResult>") ? S3_ERR_INTERNAL : S3_ERR_OK;
}

enum s3_err s3_list_objects(struct s3_req *r)
{
	struct list_query q = { 0 };
	char next[ATR_KEY_MAX + 2] = "";
	int truncated = 0;
	enum s3_err e = list_query_parse(r, &q);
	if (e)
		return e;
	struct atr_list_params p = { .prefix = q.prefix ? q.prefix : "", .delimiter = q.delim,
				     .max = q.max };
	if (q.token) {
		p.start = q.start;
		p.start_inclusive = 1;
	} else if (q.v2 ? q.start_after != NULL : q.marker != NULL) {
		p.start = q.v2 ? q.start_after : q.marker;
		p.start_inclusive = 0;
	}

	struct buf contents = BUF_INIT(256 << 20), prefixes = BUF_INIT(256 << 20);
	struct buf b = BUF_INIT(512 << 20);
	struct listing l = { .r = r, .contents = &contents, .prefixes = &prefixes, .url = q.url,
			     .owner = !q.v2 || (q.fetch_owner && !strcmp(q.fetch_owner, "true")) };
	int rc = atr_object_list(r->srv->core, &r->user, r->bucket, &p, on_item, &l,
				 &truncated, next);
	if (l.err)
		e = l.err; /* the callback stopped the listing */
	else if (rc)
		e = s3_err_from_core(rc);
	/* max-keys=0 asks for nothing, and AWS says nothing is left out. */
	else if (!(e = list_render(r, &q, &l, q.max ? truncated : 0, next, &b)))
		s3_send_xml(r, 200, &b);
	buf_release(&contents);
	buf_release(&prefixes);
	buf_release(&b);
	return e;
}

/* ---- ListObjectVersions (GET /bucket?versions) ---- */

static int on_version(void *arg, const struct atr_version_item *it)
{
	struct listing *l = arg;
	struct buf *b = l->contents;
	int rc = list_name(l, it->key, it->is_prefix);
	if (rc)
		return rc < 0;
	/* Versions and delete markers interleaved, in S3's order. */
	const char *tag = it->marker ? "DeleteMarker" : "Version";
	char date[TIMEFMT_LEN];
	time_fmt_iso8601_ms(it->obj->mtime_ns, date);
	rc = buf_addf(b, "<%s>", tag) || s3_xml_name(b, "Key", it->key, l->url) ||
	     s3_xml_elem(b, "VersionId", it->obj->vid) ||
	     s3_xml_elem(b, "IsLatest", it->latest ? "true" : "false") ||
	     s3_xml_elem(b, "LastModified", date);
	if (!rc && !it->marker)
		rc = buf_addf(b, "<ETag>&quot;%s&quot;</ETag><Size>%llu</Size>"
				 "<StorageClass>STANDARD</StorageClass>",
			      it->obj->etag,
			      (unsigned long long)(it->obj->is_dir ? 0 : it->obj->size));
	rc = rc || s3_xml_user(l->r, b, "Owner", it->obj->owner) ||
	     buf_addf(b, "</%s>", tag);
	if (rc)
		l->err = S3_ERR_INTERNAL;
	return rc;
}

enum s3_err s3_list_object_versions(struct s3_req *r)
{
	const char *prefix = s3_param(r, "prefix"), *delim = s3_param(r, "delimiter"),
		   *enc = s3_param(r, "encoding-type"), *km = s3_param(r, "key-marker"),
		   *vm = s3_param(r, "version-id-marker");
	char next_key[ATR_KEY_MAX + 2], next_vid[ATR_VID_MAX + 1];
	int max, truncated = 0, url = enc != NULL;
	enum s3_err e;
	if (s3_list_max_keys(s3_param(r, "max-keys"), &max) || (enc && strcmp(enc, "url")))
		return S3_ERR_INVALID_ARGUMENT;
	if (vm && (!km || !*km)) /* AWS: a version-id marker needs a key marker */
		return S3_ERR_INVALID_ARGUMENT;
	if (vm && *vm && !atr_vid_valid(vm))
		return S3_ERR_INVALID_VERSION_ID;
	if (delim && !*delim)
		delim = NULL;
	if ((e = s3_list_param_check(prefix, url)) || (e = s3_list_param_check(delim, url)) ||
	    (e = s3_list_param_check(km, url)))
		return e;
	struct atr_version_params p = { .prefix = prefix ? prefix : "", .delimiter = delim,
					.key_marker = km && *km ? km : NULL,
					.vid_marker = vm && *vm ? vm : NULL, .max = max };
	struct buf contents = BUF_INIT(256 << 20), prefixes = BUF_INIT(256 << 20);
	struct buf b = BUF_INIT(512 << 20);
	struct listing l = { .r = r, .contents = &contents, .prefixes = &prefixes, .url = url };
	int rc = atr_object_list_versions(r->srv->core, &r->user, r->bucket, &p, on_version, &l,
					  &truncated, next_key, next_vid);
	if (l.err || rc) {
		e = l.err ? l.err : s3_err_from_core(rc);
		goto out;
	}
	truncated = max ? truncated : 0;
	s3_xml_open(&b, "ListVersionsResult");
	s3_xml_elem(&b, "Name", r->bucket);
	s3_xml_name(&b, "Prefix", p.prefix, url);
	s3_xml_name(&b, "KeyMarker", km ? km : "", url);
	s3_xml_elem(&b, "VersionIdMarker", vm ? vm : "");
	if (truncated) {
		s3_xml_name(&b, "NextKeyMarker", next_key, url);
		if (*next_vid)
			s3_xml_elem(&b, "NextVersionIdMarker", next_vid);
	}
	buf_addf(&b, "<MaxKeys>%d</MaxKeys>", max);
	if (delim)
		s3_xml_name(&b, "Delimiter", delim, url);
	if (enc)
		s3_xml_elem(&b, "EncodingType", "url");
	buf_addf(&b, "<IsTruncated>%s</IsTruncated>", truncated ? "true" : "false");
	if (contents.len)
		buf_add(&b, contents.ptr, contents.len);
	if (prefixes.len)
		buf_add(&b, prefixes.ptr, prefixes.len);
	if (buf_addstr(&b, "</ListVersionsResult>"))
		e = S3_ERR_INTERNAL;
	else
		s3_send_xml(r, 200, &b);
out:
	buf_release(&contents);
	buf_release(&prefixes);
	buf_release(&b);
	return e;
}
