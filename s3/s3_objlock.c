/*
 * s3_objlock — S3 Object Lock (src/atrium.h, "Object Lock"): the bucket's
 * configuration (?object-lock), a version's retention (?retention) and
 * legal hold (?legal-hold), the x-amz-object-lock-* headers (or POST
 * form fields) of a write and the headers of GET/HEAD, and x-amz-bypass-governance-retention. The core keeps
 * and enforces the locks; here they are read and written in S3's XML.
 */
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/timefmt.h"
#include "common/xml.h"
#include "s3/s3_form.h"
#include "s3/s3_int.h"
#include "common/banned.h"

static const char *const modes[] = {
	[ATR_LOCK_GOVERNANCE] = "GOVERNANCE",
	[ATR_LOCK_COMPLIANCE] = "COMPLIANCE",
};

/* enum atr_lock_mode of S3's name, or -1. */
static int mode_parse(const char *v)
{
	for (int i = ATR_LOCK_GOVERNANCE; v && i <= ATR_LOCK_COMPLIANCE; i++)
		if (!strcmp(v, modes[i]))
			return i;
	return -1;
}

int s3_lock_bypass(struct s3_req *r)
{
	const char *v = s3_header(r, "x-amz-bypass-governance-retention");
	return v && !strcasecmp(v, "true");
}

/* A retain-until date, in the future (ms since the epoch). */
static enum s3_err until_parse(const char *v, int64_t *ms)
{
	if (!v || time_parse_iso8601(v, ms))
		return S3_ERR_LOCK_BAD_DATE;
	return *ms <= time_now_ns() / 1000000 ? S3_ERR_LOCK_PAST_DATE : S3_ERR_OK;
}

/* The lock of a write from its three values (headers or form fields;
 * NULL: not given). */
static enum s3_err lock_parse(struct s3_req *r, const char *mode, const char *until,
			      const char *hold, struct atr_lock *l)
{
	enum s3_err e;
	memset(l, 0, sizeof(*l));
	l->hold = -1;
	if (!mode && !until && !hold)
		return S3_ERR_OK;
	/* A bucket without Object Lock answers that first (AWS). */
	if (!atr_bucket_has_lock(r->srv->core, r->bucket))
		return S3_ERR_OBJECT_LOCK_MISSING;
	if (!mode != !until)
		return S3_ERR_LOCK_HEADERS;
	if (mode && (l->mode = mode_parse(mode)) < 0)
		return S3_ERR_LOCK_BAD_MODE;
	if (until && (e = until_parse(until, &l->until)))
		return e;
	if (hold && strcmp(hold, "ON") && strcmp(hold, "OFF"))
		return S3_ERR_LOCK_BAD_HOLD;
	if (hold)
		l->hold = !strcmp(hold, "ON");
	return S3_ERR_OK;
}

enum s3_err s3_lock_request(struct s3_req *r, struct atr_lock *l)
{
	return lock_parse(r, s3_header(r, "x-amz-object-lock-mode"),
			  s3_header(r, "x-amz-object-lock-retain-until-date"),
			  s3_header(r, "x-amz-object-lock-legal-hold"), l);
}

static const char *field(const struct s3_form *f, const char *name)
{
	const struct s3_form_field *fl = s3_form_get(f, name);
	return fl ? fl->value : NULL;
}

enum s3_err s3_lock_form(struct s3_req *r, const struct s3_form *f, struct atr_lock *l)
{
	return lock_parse(r, field(f, "x-amz-object-lock-mode"),
			  field(f, "x-amz-object-lock-retain-until-date"),
			  field(f, "x-amz-object-lock-legal-hold"), l);
}

int s3_lock_headers(struct s3_req *r, const char *vid, struct buf *b)
{
	struct atr_lock l;
	char date[TIMEFMT_LEN];
	/* Only where there is Object Lock (one row read: every GET comes
	 * here), and to whom may read them (AWS). */
	if (!atr_bucket_has_lock(r->srv->core, r->bucket) ||
	    atr_object_lock_get(r->srv->core, &r->user, r->bucket, r->key, vid && *vid ? vid : NULL,
				"s3:GetObjectRetention", &l))
		return 0;
	time_fmt_iso8601_ms(l.until * 1000000, date);
	return (l.mode && buf_addf(b, "x-amz-object-lock-mode: %s\r\n"
				      "x-amz-object-lock-retain-until-date: %s\r\n",
				   modes[l.mode], date)) ||
	       buf_addf(b, "x-amz-object-lock-legal-hold: %s\r\n", l.hold ? "ON" : "OFF");
}

/* Sends the small XML document b, releasing it. */
static enum s3_err send_doc(struct s3_req *r, struct buf *b, int err)
{
	if (!err)
		s3_send_xml(r, 200, b);
	buf_release(b);
	return err ? S3_ERR_INTERNAL : S3_ERR_OK;
}

/* ---- the bucket: ?object-lock ---- */

enum s3_err s3_get_bucket_object_lock(struct s3_req *r)
{
	struct atr_bucket bk;
	struct buf b = BUF_INIT(4096);
	char n[16];
	int rc = atr_bucket_lock_get(r->srv->core, &r->user, r->bucket, &bk);
	if (rc == ATR_E_NO_LOCK)
		return S3_ERR_NO_LOCK_CONFIG;
	if (rc)
		return s3_err_from_core(rc);
	snprintf(n, sizeof(n), "%d", bk.lock_days ? bk.lock_days : bk.lock_years);
	int err = s3_xml_open(&b, "ObjectLockConfiguration") ||
		  s3_xml_elem(&b, "ObjectLockEnabled", "Enabled") ||
		  (bk.lock_mode &&
		   (buf_addstr(&b, "<Rule><DefaultRetention>") ||
		    s3_xml_elem(&b, "Mode", modes[bk.lock_mode]) ||
		    s3_xml_elem(&b, bk.lock_days ? "Days" : "Years", n) ||
		    buf_addstr(&b, "</DefaultRetention></Rule>"))) ||
		  buf_addstr(&b, "</ObjectLockConfiguration>");
	return send_doc(r, &b, err);
}

/* A positive count of days or years, or 0 when absent; -1 if malformed. */
static int period_parse(xmlNodePtr n)
{
	char *t = xml_text(n), *end = NULL;
	long v = t ? strtol(t, &end, 10) : 0;
	int ok = !n || (t && *t && !*end && v > 0 && v < 100000);
	xmlFree(t);
	return ok ? (int)v : -1;
}

/* <ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>
 * <Rule><DefaultRetention><Mode/>(<Days/>|<Years/>)</DefaultRetention>
 * </Rule>?</ObjectLockConfiguration> */
static enum s3_err lock_conf_parse(const struct buf *body, int *mode, int *days, int *years)
{
	xmlDocPtr doc = xml_parse(body->ptr ? body->ptr : "", body->len);
	xmlNodePtr root = xml_root(doc, "ObjectLockConfiguration");
	xmlNodePtr rule = xml_child(root, "Rule");
	xmlNodePtr dr = xml_child(rule, "DefaultRetention");
	char *en = xml_text(xml_child(root, "ObjectLockEnabled"));
	char *m = xml_text(xml_child(dr, "Mode"));
	enum s3_err e = S3_ERR_MALFORMED_XML;
	*mode = *days = *years = 0;
	if (!root || !en || strcmp(en, "Enabled") || (rule && !dr))
		goto out;
	if (dr) {
		*days = period_parse(xml_child(dr, "Days"));
		*years = period_parse(xml_child(dr, "Years"));
		if (!m || (*days > 0) == (*years > 0)) /* a mode and one period */
			goto out;
		e = S3_ERR_INVALID_ARGUMENT;
		if ((*mode = mode_parse(m)) < 0 || *days < 0 || *years < 0)
			goto out;
	}
	e = S3_ERR_OK;
out:
	xmlFree(en);
	xmlFree(m);
	xmlFreeDoc(doc);
	return e;
}

enum s3_err s3_put_bucket_object_lock(struct s3_req *r)
{
	struct buf body = BUF_INIT(64 * 1024);
	int mode, days, years;
	enum s3_err e = s3_read_checked_body(r, &body);
	if (!e)
		e = lock_conf_parse(&body, &mode, &days, &years);
	buf_release(&body);
	if (e)
		return e;
	int rc = atr_bucket_lock_set(r->srv->core, &r->user, r->bucket, mode, days, years, 0);
	if (rc == ATR_E_NO_LOCK)
		return S3_ERR_LOCK_BUCKET_STATE;
	if (rc == ATR_E_NOT_SUPPORTED)
		return S3_ERR_VERSIONING_REMOTE;
	return s3_reply_empty(r, rc, 200);
}

/* ---- a version's: ?retention, ?legal-hold ---- */

/* The error for what atr_object_lock_get and the setters answer. */
static enum s3_err lock_error(struct s3_req *r, int rc, const char *vid)
{
	struct atr_obj o = { 0 };
	if (rc == ATR_E_NO_LOCK)
		return S3_ERR_OBJECT_LOCK_MISSING;
	if (rc == ATR_E_DELETE_MARKER)
		return vid ? s3_version_error(r, rc, vid, &o) : S3_ERR_NO_SUCH_KEY;
	return s3_version_error(r, rc, vid, &o);
}

enum s3_err s3_get_object_retention(struct s3_req *r)
{
	struct atr_lock l;
	struct buf b = BUF_INIT(4096);
	char date[TIMEFMT_LEN];
	const char *vid;
	enum s3_err e = s3_version_param(r, &vid);
	if (e)
		return e;
	int rc = atr_object_lock_get(r->srv->core, &r->user, r->bucket, r->key, vid,
				     "s3:GetObjectRetention", &l);
	if (rc)
		return lock_error(r, rc, vid);
	if (!l.mode)
		return S3_ERR_NO_SUCH_LOCK_CONFIG;
	time_fmt_iso8601_ms(l.until * 1000000, date);
	int err = s3_xml_open(&b, "Retention") || s3_xml_elem(&b, "Mode", modes[l.mode]) ||
		  s3_xml_elem(&b, "RetainUntilDate", date) || buf_addstr(&b, "</Retention>");
	return send_doc(r, &b, err);
}

/* <Retention><Mode/><RetainUntilDate/></Retention>; both absent: none. */
static enum s3_err retention_parse(const struct buf *body, int *mode, int64_t *until)
{
	xmlDocPtr doc = xml_parse(body->ptr ? body->ptr : "", body->len);
	xmlNodePtr root = xml_root(doc, "Retention");
	char *m = xml_text(xml_child(root, "Mode"));
	char *u = xml_text(xml_child(root, "RetainUntilDate"));
	enum s3_err e = S3_ERR_MALFORMED_XML;
	*mode = 0;
	*until = 0;
	if (root && !m != !u)
		e = S3_ERR_LOCK_HEADERS_XML;
	else if (root && !m)
		e = S3_ERR_OK;
	else if (root && (*mode = mode_parse(m)) < 0)
		e = S3_ERR_LOCK_BAD_MODE;
	else if (root)
		e = until_parse(u, until);
	xmlFree(m);
	xmlFree(u);
	xmlFreeDoc(doc);
	return e;
}

enum s3_err s3_put_object_retention(struct s3_req *r)
{
	struct buf body = BUF_INIT(16 * 1024);
	const char *vid;
	int mode;
	int64_t until;
	enum s3_err e = s3_version_param(r, &vid);
	if (!e)
		e = s3_read_checked_body(r, &body);
	if (!e)
		e = retention_parse(&body, &mode, &until);
	buf_release(&body);
	if (e)
		return e;
	int rc = atr_object_retention_set(r->srv->core, &r->user, r->bucket, r->key, vid, mode,
					  until, s3_lock_bypass(r));
	return rc ? lock_error(r, rc, vid) : s3_reply_empty(r, rc, 200);
}

enum s3_err s3_get_object_legal_hold(struct s3_req *r)
{
	struct atr_lock l;
	struct buf b = BUF_INIT(4096);
	const char *vid;
	enum s3_err e = s3_version_param(r, &vid);
	if (e)
		return e;
	int rc = atr_object_lock_get(r->srv->core, &r->user, r->bucket, r->key, vid,
				     "s3:GetObjectLegalHold", &l);
	if (rc)
		return lock_error(r, rc, vid);
	int err = s3_xml_open(&b, "LegalHold") || s3_xml_elem(&b, "Status", l.hold ? "ON" : "OFF") ||
		  buf_addstr(&b, "</LegalHold>");
	return send_doc(r, &b, err);
}

enum s3_err s3_put_object_legal_hold(struct s3_req *r)
{
	struct buf body = BUF_INIT(16 * 1024);
	const char *vid;
	enum s3_err e = s3_version_param(r, &vid);
	int hold = -1;
	if (!e)
		e = s3_read_checked_body(r, &body);
	if (!e) {
		xmlDocPtr doc = xml_parse(body.ptr ? body.ptr : "", body.len);
		char *st = xml_text(xml_child(xml_root(doc, "LegalHold"), "Status"));
		hold = !st ? -1 : !strcmp(st, "ON") ? 1 : !strcmp(st, "OFF") ? 0 : -1;
		xmlFree(st);
		xmlFreeDoc(doc);
		e = hold < 0 ? S3_ERR_MALFORMED_XML : S3_ERR_OK;
	}
	buf_release(&body);
	if (e)
		return e;
	int rc = atr_object_legal_hold_set(r->srv->core, &r->user, r->bucket, r->key, vid, hold);
	return rc ? lock_error(r, rc, vid) : s3_reply_empty(r, rc, 200);
}
