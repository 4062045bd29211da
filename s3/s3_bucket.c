/* s3_bucket — ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation. */
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/timefmt.h"
#include "common/xml.h"
#include "s3/s3_int.h"
#include "common/banned.h"

struct bucket_walk {
	struct buf *b;
	int err;
};

static int add_bucket(void *arg, const struct atr_bucket *bk)
{
	struct bucket_walk *w = arg;
	char date[TIMEFMT_LEN];
	time_fmt_iso8601_ms(bk->ctime_ns, date);
	if (buf_addstr(w->b, "<Bucket>") || s3_xml_elem(w->b, "Name", bk->name) ||
	    s3_xml_elem(w->b, "CreationDate", date) || buf_addstr(w->b, "</Bucket>")) {
		w->err = 1;
		return 1;
	}
	return 0;
}

enum s3_err s3_list_buckets(struct s3_req *r)
{
	struct buf b = BUF_INIT(64 << 20);
	struct bucket_walk w = { &b, 0 };
	s3_xml_open(&b, "ListAllMyBucketsResult");
	s3_xml_user(r, &b, "Owner", r->user.name);
	buf_addstr(&b, "<Buckets>");
	int rc = atr_bucket_list(r->srv->core, &r->user, add_bucket, &w);
	if (rc || w.err) {
		buf_release(&b);
		return rc ? s3_err_from_core(rc) : S3_ERR_INTERNAL;
	}
	buf_addstr(&b, "</Buckets></ListAllMyBucketsResult>");
	s3_send_xml(r, 200, &b);
	buf_release(&b);
	return S3_ERR_OK;
}

/* CreateBucketConfiguration/LocationConstraint, if a body was sent. */
static enum s3_err read_location(struct s3_req *r, char *loc, size_t size)
{
	struct buf body = BUF_INIT(64 * 1024);
	enum s3_err e = s3_read_small_body(r, &body);
	loc[0] = '\0';
	if (e || body.len == 0)
		goto out;
	xmlDocPtr doc = xml_parse(body.ptr, body.len);
	xmlNodePtr root = xml_root(doc, "CreateBucketConfiguration");
	if (!root) {
		e = S3_ERR_MALFORMED_XML;
	} else {
		char *text = xml_text(xml_child(root, "LocationConstraint"));
		if (text && strlen(text) >= size)
			e = S3_ERR_INVALID_ARGUMENT;
		else if (text)
			snprintf(loc, size, "%s", text);
		xmlFree(text);
	}
	xmlFreeDoc(doc);
out:
	buf_release(&body);
	return e;
}

enum s3_err s3_create_bucket(struct s3_req *r)
{
	char loc[32];
	struct atr_acl *acl = NULL;
	const char *own = s3_header(r, "x-amz-object-ownership");
	int ownership = own ? s3_ownership_parse(own) : -1;
	if (!atr_bucket_name_valid(r->bucket))
		return S3_ERR_INVALID_BUCKET_NAME;
	if (r->user.anonymous)
		return S3_ERR_ACCESS_DENIED; /* before its body: nobody may create one */
	if (own && ownership < 0)
		return S3_ERR_INVALID_ARGUMENT;
	enum s3_err e = read_location(r, loc, sizeof(loc));
	if (e || (e = s3_request_acl(r, &acl)))
		return e;
	int rc = atr_bucket_create(r->srv->core, &r->user, r->bucket, loc, acl, ownership);
	free(acl);
	if (rc == ATR_E_ACLS_OFF)
		return S3_ERR_BUCKET_ACL_WITH_OWNERSHIP;
	/* Object Lock asked for: enabled on the bucket just made, which
	 * turns its versioning on. */
	const char *lock = s3_header(r, "x-amz-bucket-object-lock-enabled");
	if (lock)
		lock += strspn(lock, " \t");
	if (!rc && lock && !strncasecmp(lock, "true", 4) && !lock[4 + strspn(lock + 4, " \t")])
		rc = atr_bucket_lock_set(r->srv->core, &r->user, r->bucket, ATR_LOCK_NONE, 0, 0, 1);
	if (rc)
		return s3_err_from_core(rc);
	char extra[128];
	snprintf(extra, sizeof(extra), "Location: /%s\r\n", r->bucket);
	s3_send_empty(r, 200, extra);
	return S3_ERR_OK;
}

enum s3_err s3_head_bucket(struct s3_req *r)
{
	struct atr_bucket b;
	int rc = atr_bucket_stat(r->srv->core, &r->user, r->bucket, &b);
	if (rc)
		return s3_err_from_core(rc);
	char extra[128];
	snprintf(extra, sizeof(extra), "x-amz-bucket-region: %s\r\n",
		 *b.location ? b.location : r->srv->opt.region);
	s3_send_empty(r, 200, extra);
	return S3_ERR_OK;
}

enum s3_err s3_delete_bucket(struct s3_req *r)
{
	int rc = atr_bucket_delete(r->srv->core, &r->user, r->bucket);
	return s3_reply_empty(r, rc, 204);
}

enum s3_err s3_get_bucket_location(struct s3_req *r)
{
	struct atr_bucket bk;
	int rc = atr_bucket_stat(r->srv->core, &r->user, r->bucket, &bk);
	if (rc)
		return s3_err_from_core(rc);
	struct buf b = BUF_INIT(4096);
	buf_addstr(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		       "<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	/* us-east-1 is reported as an empty constraint, as AWS does. */
	const char *loc = *bk.location ? bk.location : r->srv->opt.region;
	if (strcmp(loc, "us-east-1"))
		buf_add_xml(&b, loc);
	buf_addstr(&b, "</LocationConstraint>");
	s3_send_xml(r, 200, &b);
	buf_release(&b);
	return S3_ERR_OK;
}
