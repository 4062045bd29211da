/*
 * s3_tagging — object tagging: GetObjectTagging, PutObjectTagging,
 * DeleteObjectTagging (?tagging), and the tag sets that come with PutObject
 * (x-amz-tagging, URL query form) and CopyObject (x-amz-tagging-directive);
 * bucket tagging: Get/Put/DeleteBucketTagging, the same XML with a limit
 * of 50 tags.
 *
 * A tag set is stored in the core in one canonical form: "k=v&k2=v2", each
 * key and value URL-encoded, in the order given (sent back sorted by key,
 * as AWS does). AWS's limits are checked
 * on the way in (InvalidTag): at most 10 tags (50 on a bucket), keys of 1..128 and values of
 * 0..256 Unicode characters, no key twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/uri.h"
#include "common/xml.h"
#include "s3/s3_int.h"
#include "common/banned.h"

#define TAGS_MAX S3_TAGS_MAX
#define BUCKET_TAGS_MAX S3_BUCKET_TAGS_MAX
#define TAG_KEY_MAX S3_TAG_KEY_MAX
#define TAG_VALUE_MAX S3_TAG_VALUE_MAX
#define TAGGING_BODY_MAX (64 * 1024)
/* <Tagging> for the largest stored set: each character escaped into at
 * most 6 bytes ("&quot;"), plus the markup. */
#define TAGGING_XML_MAX (1024 + BUCKET_TAGS_MAX * (6 * (TAG_KEY_MAX + TAG_VALUE_MAX) + 64))

/* Unicode characters in valid UTF-8 (bytes that do not continue one), or
 * SIZE_MAX for invalid UTF-8 or a control character (no XML can carry
 * most of them back). */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	if (!utf8_valid(s, strlen(s)))
		return SIZE_MAX;
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return SIZE_MAX;
		n += ((unsigned char)*s & 0xc0) != 0x80;
	}
	return n;
}

struct tag_set {
	int n, max;
	enum s3_err too_many;
	const char *key[BUCKET_TAGS_MAX];
	struct buf *out;
};

static enum s3_err tag_add(struct tag_set *t, const char *k, const char *v)
{
	if (t->n == t->max)
		return t->too_many;
	if (!*k || utf8_chars(k) > TAG_KEY_MAX)
		return S3_ERR_TAG_KEY_INVALID;
	if (utf8_chars(v) > TAG_VALUE_MAX)
		return S3_ERR_TAG_VALUE_INVALID;
	for (int i = 0; i < t->n; i++)
		if (!strcmp(t->key[i], k))
			return S3_ERR_TAG_KEY_DUPLICATE;
	t->key[t->n++] = k;
	if ((t->out->len && buf_addstr(t->out, "&")) || uri_encode(t->out, k, strlen(k), 0) ||
	    buf_addstr(t->out, "=") || uri_encode(t->out, v, strlen(v), 0))
		return S3_ERR_INTERNAL;
	return S3_ERR_OK;
}

enum s3_err s3_tagging_from_header(const char *v, struct buf *out)
{
	struct uri_query q;
	struct tag_set t = { .out = out, .max = TAGS_MAX, .too_many = S3_ERR_TAGS_TOO_MANY };
	enum s3_err e = S3_ERR_OK;
	if (uri_query_parse(&q, v))
		return S3_ERR_TAG_HEADER_INVALID;
	for (int i = 0; i < q.n && !e; i++)
		e = tag_add(&t, q.p[i].name, q.p[i].value ? q.p[i].value : "");
	uri_query_release(&q);
	return e;
}

static enum s3_err tagging_from_xml(const char *xml, size_t len, struct tag_set t)
{
	enum s3_err e = S3_ERR_MALFORMED_XML;
	char *keys[BUCKET_TAGS_MAX + 1] = { NULL };
	int nkeys = 0;
	xmlDocPtr doc = len ? xml_parse(xml, len) : NULL;
	xmlNodePtr root = xml_root(doc, "Tagging");
	xmlNodePtr set = root ? xml_child(root, "TagSet") : NULL;
	if (!set)
		goto out;
	e = S3_ERR_OK;
	for (xmlNodePtr p = xml_child(set, "Tag"); p && !e; p = xml_next(p, "Tag")) {
		char *k = xml_text(xml_child(p, "Key"));
		char *v = xml_text(xml_child(p, "Value"));
		if (!k || !xml_child(p, "Value")) {
			e = S3_ERR_MALFORMED_XML;
		} else if (nkeys == t.max) {
			e = t.too_many;
		} else {
			keys[nkeys++] = k; /* kept alive: t.key points at it */
			k = NULL;
			e = tag_add(&t, keys[nkeys - 1], v ? v : "");
		}
		xmlFree(k);
		xmlFree(v);
	}
out:
	for (int i = 0; i < nkeys; i++)
		xmlFree(keys[i]);
	if (doc)
		xmlFreeDoc(doc);
	return e;
}

enum s3_err s3_tagging_from_xml(const char *xml, size_t len, struct buf *out)
{
	struct tag_set t = { .out = out, .max = TAGS_MAX, .too_many = S3_ERR_TAGS_TOO_MANY };
	return tagging_from_xml(xml, len, t);
}

enum s3_err s3_bucket_tagging_from_xml(const char *xml, size_t len, struct buf *out)
{
	struct tag_set t = { .out = out, .max = BUCKET_TAGS_MAX,
			     .too_many = S3_ERR_BUCKET_TAGS_TOO_MANY };
	return tagging_from_xml(xml, len, t);
}

int s3_tagging_count(const char *tags)
{
	int n = tags && *tags ? 1 : 0;
	for (const char *p = tags; p && *p; p++)
		n += *p == '&';
	return n;
}

static int tag_cmp(const void *a, const void *b)
{
	return strcmp(((const struct uri_param *)a)->name, ((const struct uri_param *)b)->name);
}

/* Sends a stored tag set as <Tagging> (and frees it). The set is kept in
 * the order it was given; AWS answers with the tags sorted by key (byte
 * order of the UTF-8 keys; no key appears twice). */
static enum s3_err send_tagging(struct s3_req *r, char *tags)
{
	struct buf xml = BUF_INIT(TAGGING_XML_MAX);
	struct uri_query q;
	enum s3_err e = S3_ERR_OK;
	if (uri_query_parse(&q, tags)) {
		free(tags);
		return S3_ERR_INTERNAL;
	}
	qsort(q.p, (size_t)q.n, sizeof(q.p[0]), tag_cmp);
	int bad = s3_xml_open(&xml, "Tagging") || buf_addstr(&xml, "<TagSet>");
	for (int i = 0; i < q.n && !bad; i++)
		bad = buf_addstr(&xml, "<Tag>") || s3_xml_elem(&xml, "Key", q.p[i].name) ||
		      s3_xml_elem(&xml, "Value", q.p[i].value ? q.p[i].value : "") ||
		      buf_addstr(&xml, "</Tag>");
	if (bad || buf_addstr(&xml, "</TagSet></Tagging>"))
		e = S3_ERR_INTERNAL;
	else
		s3_send_xml(r, 200, &xml);
	uri_query_release(&q);
	free(tags);
	buf_release(&xml);
	return e;
}

enum s3_err s3_get_object_tagging(struct s3_req *r)
{
	char *tags = NULL;
	const char *vid;
	struct atr_obj none = { 0 };
	enum s3_err e = s3_version_param(r, &vid);
	if (e)
		return e;
	int rc = atr_object_version_tags_get(r->srv->core, &r->user, r->bucket, r->key, vid,
					     &tags);
	if (rc)
		return s3_version_error(r, rc, vid, &none);
	return send_tagging(r, tags);
}

enum s3_err s3_put_object_tagging(struct s3_req *r)
{
	struct buf body = BUF_INIT(TAGGING_BODY_MAX), tags = BUF_INIT(S3_TAGS_BUF(TAGS_MAX));
	enum s3_err e = s3_read_small_body(r, &body);
	if (!e)
		e = s3_tagging_from_xml(body.ptr, body.len, &tags);
	const char *vid = NULL;
	if (!e)
		e = s3_version_param(r, &vid);
	if (!e) {
		int rc = atr_object_version_tags_set(r->srv->core, &r->user, r->bucket, r->key, vid,
						     tags.ptr ? tags.ptr : "");
		e = s3_err_from_core(rc);
	}
	if (!e)
		s3_send_empty(r, 200, NULL);
	buf_release(&body);
	buf_release(&tags);
	return e;
}

enum s3_err s3_delete_object_tagging(struct s3_req *r)
{
	const char *vid;
	enum s3_err e = s3_version_param(r, &vid);
	if (e)
		return e;
	int rc = atr_object_version_tags_set(r->srv->core, &r->user, r->bucket, r->key, vid, NULL);
	return s3_reply_empty(r, rc, 204);
}

/* GetBucketTagging: a bucket that never had tags, or had them deleted,
 * has no tag set at all (404 NoSuchTagSet), unlike an object's empty one. */
enum s3_err s3_get_bucket_tagging(struct s3_req *r)
{
	char *tags = NULL;
	int rc = atr_bucket_tags_get(r->srv->core, &r->user, r->bucket, &tags);
	if (rc)
		return s3_err_from_core(rc);
	if (!tags)
		return S3_ERR_NO_SUCH_TAG_SET;
	return send_tagging(r, tags);
}

/* PutBucketTagging replaces the whole set; AWS requires Content-MD5 (or an
 * x-amz-checksum-*) and answers 204. */
enum s3_err s3_put_bucket_tagging(struct s3_req *r)
{
	struct buf body = BUF_INIT(TAGGING_BODY_MAX),
		   tags = BUF_INIT(S3_TAGS_BUF(BUCKET_TAGS_MAX));
	enum s3_err e = S3_ERR_OK;
	char *old = NULL;
	/* Who may (NoSuchBucket, AccessDenied), before what the body says. */
	int rc = atr_bucket_tags_get(r->srv->core, &r->user, r->bucket, &old);
	free(old);
	if (rc)
		return s3_err_from_core(rc);
	if (!s3_has_integrity_header(r))
		return S3_ERR_MISSING_CONTENT_MD5;
	if (!(e = s3_read_small_body(r, &body)) && !(e = s3_verify_integrity(r, &body)))
		e = s3_bucket_tagging_from_xml(body.ptr, body.len, &tags);
	if (!e) {
		rc = atr_bucket_tags_set(r->srv->core, &r->user, r->bucket,
					 tags.ptr ? tags.ptr : "");
		e = s3_err_from_core(rc);
	}
	if (!e)
		s3_send_empty(r, 204, NULL);
	buf_release(&body);
	buf_release(&tags);
	return e;
}

enum s3_err s3_delete_bucket_tagging(struct s3_req *r)
{
	int rc = atr_bucket_tags_set(r->srv->core, &r->user, r->bucket, NULL);
	return s3_reply_empty(r, rc, 204);
}
