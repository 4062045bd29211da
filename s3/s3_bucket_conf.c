/*
 * s3_bucket_conf — the bucket settings that govern access: Block Public
 * Access (?publicAccessBlock), Object Ownership (?ownershipControls) and
 * the bucket policy (?policy, ?policyStatus), and versioning
 * (?versioning: src/atrium.h, "versioning"). The core keeps and enforces
 * them (src/atrium.h, docs/permissions.md); here they are read and written
 * in S3's XML and JSON.
 */
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xml.h"
#include "s3/s3_int.h"
#include "common/banned.h"

#define POLICY_MAX 20480 /* AWS's limit on a bucket policy */

static const char *const pab_names[] = {
	"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets",
};
static const int pab_bits[] = {
	ATR_PAB_BLOCK_ACLS, ATR_PAB_IGNORE_ACLS, ATR_PAB_BLOCK_POLICY, ATR_PAB_RESTRICT_BUCKETS,
};

static const char *const ownerships[] = {
	[ATR_OWN_OBJECT_WRITER] = "ObjectWriter",
	[ATR_OWN_BUCKET_OWNER_PREFERRED] = "BucketOwnerPreferred",
	[ATR_OWN_BUCKET_OWNER_ENFORCED] = "BucketOwnerEnforced",
};

int s3_ownership_parse(const char *v)
{
	for (int i = 0; v && i <= ATR_OWN_BUCKET_OWNER_ENFORCED; i++)
		if (!strcmp(v, ownerships[i]))
			return i;
	return -1;
}

/* Sends the small XML document b, releasing it. */
static enum s3_err send_doc(struct s3_req *r, struct buf *b, int err)
{
	if (err) {
		buf_release(b);
		return S3_ERR_INTERNAL;
	}
	s3_send_xml(r, 200, b);
	buf_release(b);
	return S3_ERR_OK;
}

/* A PUT's small XML body, read by parse into *v. */
static enum s3_err read_setting(struct s3_req *r,
				enum s3_err (*parse)(const char *xml, size_t len, int *v), int *v)
{
	struct buf body = BUF_INIT(64 * 1024);
	enum s3_err e = s3_read_small_body(r, &body);
	if (!e)
		e = parse(body.ptr ? body.ptr : "", body.len, v);
	buf_release(&body);
	return e;
}

/* ---- configurations kept as bucket documents ---- */

enum s3_err s3_put_bucket_doc(struct s3_req *r, int kind, const char *action, size_t body_max,
			      s3_doc_normalise normalise)
{
	struct buf body = BUF_INIT(body_max), doc = BUF_INIT(ATR_BUCKET_DOC_MAX);
	char msg[512] = "";
	enum s3_err e;
	/* Who may (NoSuchBucket, AccessDenied), before what the body says. */
	int rc = atr_bucket_config_check(r->srv->core, &r->user, r->bucket, action);
	if (rc)
		return s3_err_from_core(rc);
	if ((e = s3_read_checked_body(r, &body)) ||
	    (e = normalise(body.ptr, body.len, &doc, msg, sizeof(msg))))
		goto out;
	rc = atr_bucket_doc_set(r->srv->core, &r->user, r->bucket, kind, action, doc.ptr);
	if ((e = s3_err_from_core(rc)))
		goto out;
	s3_send_empty(r, 200, NULL);
out:
	if (e && msg[0]) {
		s3_send_error(r, e, msg); /* the message names the rule's problem */
		e = S3_ERR_OK;
	}
	buf_release(&body);
	buf_release(&doc);
	return e;
}

enum s3_err s3_get_bucket_doc(struct s3_req *r, int kind, const char *action,
			      enum s3_err none)
{
	char *doc = NULL;
	int rc = atr_bucket_doc_get(r->srv->core, &r->user, r->bucket, kind, action, &doc);
	if (rc == ATR_E_NO_CONFIG)
		return none;
	if (rc)
		return s3_err_from_core(rc);
	struct buf b = { .ptr = doc, .len = strlen(doc) };
	s3_send_xml(r, 200, &b);
	free(doc);
	return S3_ERR_OK;
}

/* ---- Block Public Access ---- */

enum s3_err s3_get_public_access_block(struct s3_req *r)
{
	struct buf b = BUF_INIT(4096);
	int bits, rc = atr_bucket_public_block_get(r->srv->core, &r->user, r->bucket, &bits);
	if (rc == ATR_E_NO_CONFIG)
		return S3_ERR_NO_SUCH_PUBLIC_ACCESS_BLOCK;
	if (rc)
		return s3_err_from_core(rc);
	int err = s3_xml_open(&b, "PublicAccessBlockConfiguration");
	for (size_t i = 0; i < 4 && !err; i++)
		err = s3_xml_elem(&b, pab_names[i], bits & pab_bits[i] ? "true" : "false");
	err = err || buf_addstr(&b, "</PublicAccessBlockConfiguration>");
	return send_doc(r, &b, err);
}

enum s3_err s3_parse_public_access_block(const char *xml, size_t len, int *bits)
{
	xmlDocPtr doc = xml_parse(xml, len);
	xmlNodePtr root = xml_root(doc, "PublicAccessBlockConfiguration");
	enum s3_err e = root ? S3_ERR_OK : S3_ERR_MALFORMED_XML;
	*bits = 0;
	for (size_t i = 0; i < 4 && !e; i++) {
		xmlNodePtr n = xml_child(root, pab_names[i]);
		char *v = xml_text(n);
		if (n && (!v || (strcasecmp(v, "true") && strcasecmp(v, "false"))))
			e = S3_ERR_MALFORMED_XML;
		else if (v && !strcasecmp(v, "true"))
			*bits |= pab_bits[i];
		xmlFree(v);
	}
	xmlFreeDoc(doc);
	return e;
}

enum s3_err s3_put_public_access_block(struct s3_req *r)
{
	int bits;
	enum s3_err e = read_setting(r, s3_parse_public_access_block, &bits);
	if (e)
		return e;
	int rc = atr_bucket_public_block_set(r->srv->core, &r->user, r->bucket, bits);
	return s3_reply_empty(r, rc, 200);
}

enum s3_err s3_delete_public_access_block(struct s3_req *r)
{
	int rc = atr_bucket_public_block_set(r->srv->core, &r->user, r->bucket, -1);
	return s3_reply_empty(r, rc, 204);
}

/* ---- Object Ownership ---- */

enum s3_err s3_get_ownership_controls(struct s3_req *r)
{
	struct buf b = BUF_INIT(4096);
	int own, rc = atr_bucket_ownership_get(r->srv->core, &r->user, r->bucket, &own);
	if (rc == ATR_E_NO_CONFIG)
		return S3_ERR_NO_OWNERSHIP_CONTROLS;
	if (rc)
		return s3_err_from_core(rc);
	int err = s3_xml_open(&b, "OwnershipControls") || buf_addstr(&b, "<Rule>") ||
		  s3_xml_elem(&b, "ObjectOwnership", ownerships[own]) ||
		  buf_addstr(&b, "</Rule></OwnershipControls>");
	return send_doc(r, &b, err);
}

enum s3_err s3_parse_ownership_controls(const char *xml, size_t len, int *own)
{
	xmlDocPtr doc = xml_parse(xml, len);
	xmlNodePtr rule = xml_child(xml_root(doc, "OwnershipControls"), "Rule");
	char *v = xml_text(xml_child(rule, "ObjectOwnership"));
	/* Exactly one rule, naming one of the three settings. */
	*own = rule && !xml_next(rule, "Rule") ? s3_ownership_parse(v) : -1;
	xmlFree(v);
	xmlFreeDoc(doc);
	return *own < 0 ? S3_ERR_MALFORMED_XML : S3_ERR_OK;
}

enum s3_err s3_put_ownership_controls(struct s3_req *r)
{
	int own;
	enum s3_err e = read_setting(r, s3_parse_ownership_controls, &own);
	if (e)
		return e;
	int rc = atr_bucket_ownership_set(r->srv->core, &r->user, r->bucket, own);
	if (rc == ATR_E_ACLS_OFF)
		return S3_ERR_BUCKET_ACL_WITH_OWNERSHIP; /* its ACL still grants others */
	return s3_reply_empty(r, rc, 200);
}

enum s3_err s3_delete_ownership_controls(struct s3_req *r)
{
	int rc = atr_bucket_ownership_set(r->srv->core, &r->user, r->bucket, -1);
	return s3_reply_empty(r, rc, 204);
}

/* ---- the bucket policy ---- */

enum s3_err s3_get_bucket_policy(struct s3_req *r)
{
	char *json = NULL;
	int rc = atr_bucket_policy_get(r->srv->core, &r->user, r->bucket, &json);
	if (rc == ATR_E_NO_CONFIG)
		return S3_ERR_NO_SUCH_BUCKET_POLICY;
	if (rc)
		return s3_err_from_core(rc);
	size_t n = strlen(json);
	size_t sent = s3_send_head_body(r, 200, "Content-Type: application/json\r\n", n, json, n);
	if (sent < n)
		s3_write(r, json + sent, n - sent);
	free(json);
	return S3_ERR_OK;
}

enum s3_err s3_put_bucket_policy(struct s3_req *r)
{
	struct buf body = BUF_INIT(POLICY_MAX);
	char err[256] = "";
	enum s3_err e = s3_read_small_body(r, &body);
	if (e == S3_ERR_ENTITY_TOO_LARGE) {
		buf_release(&body);
		r->must_close = 1;
		s3_send_error(r, S3_ERR_MALFORMED_POLICY, "Policies must be no more than 20480 bytes");
		return S3_ERR_OK;
	}
	if (e) {
		buf_release(&body);
		return e;
	}
	int rc = atr_bucket_policy_set(r->srv->core, &r->user, r->bucket,
				       body.ptr ? body.ptr : "", body.len, err, sizeof(err));
	buf_release(&body);
	if (rc == ATR_E_BAD_POLICY) {
		s3_send_error(r, S3_ERR_MALFORMED_POLICY, err);
		return S3_ERR_OK;
	}
	return s3_reply_empty(r, rc, 204);
}

enum s3_err s3_delete_bucket_policy(struct s3_req *r)
{
	int rc = atr_bucket_policy_set(r->srv->core, &r->user, r->bucket, NULL, 0, NULL, 0);
	return s3_reply_empty(r, rc, 204);
}

enum s3_err s3_get_bucket_policy_status(struct s3_req *r)
{
	struct buf b = BUF_INIT(4096);
	int pub, rc = atr_bucket_policy_status(r->srv->core, &r->user, r->bucket, &pub);
	if (rc == ATR_E_NO_CONFIG)
		return S3_ERR_NO_SUCH_BUCKET_POLICY;
	if (rc)
		return s3_err_from_core(rc);
	int err = s3_xml_open(&b, "PolicyStatus") ||
		  s3_xml_elem(&b, "IsPublic", pub ? "true" : "false") ||
		  buf_addstr(&b, "</PolicyStatus>");
	return send_doc(r, &b, err);
}

/* ---- versioning ---- */

static const char *const ver_states[] = {
	[ATR_VER_ENABLED] = "Enabled",
	[ATR_VER_SUSPENDED] = "Suspended",
};

enum s3_err s3_get_bucket_versioning(struct s3_req *r)
{
	struct buf b = BUF_INIT(4096);
	int state, rc = atr_bucket_versioning_get(r->srv->core, &r->user, r->bucket, &state);
	if (rc)
		return s3_err_from_core(rc);
	/* Never set: an empty configuration (AWS), no Status. */
	int err = s3_xml_open(&b, "VersioningConfiguration") ||
		  (state && s3_xml_elem(&b, "Status", ver_states[state])) ||
		  buf_addstr(&b, "</VersioningConfiguration>");
	return send_doc(r, &b, err);
}

/* <VersioningConfiguration><Status>Enabled|Suspended</Status>
 * <MfaDelete>Enabled|Disabled</MfaDelete>?</VersioningConfiguration>.
 * MFA Delete needs MFA devices, which Atrium has none of: refused. */
enum s3_err s3_parse_versioning(const char *xml, size_t len, int *state)
{
	xmlDocPtr doc = xml_parse(xml, len);
	xmlNodePtr root = xml_root(doc, "VersioningConfiguration");
	char *st = xml_text(xml_child(root, "Status"));
	xmlNodePtr mfa_node = xml_child(root, "MfaDelete");
	char *mfa = xml_text(mfa_node);
	enum s3_err e = S3_ERR_MALFORMED_XML;
	*state = -1;
	for (int i = ATR_VER_ENABLED; st && i <= ATR_VER_SUSPENDED; i++)
		if (!strcmp(st, ver_states[i]))
			*state = i;
	if (!root || (mfa_node && (!mfa || (strcmp(mfa, "Enabled") && strcmp(mfa, "Disabled")))))
		;
	else if (mfa_node && !strcmp(mfa, "Enabled"))
		e = S3_ERR_MFA_DELETE_UNSUPPORTED;
	else if (*state > 0)
		e = S3_ERR_OK;
	xmlFree(st);
	xmlFree(mfa);
	xmlFreeDoc(doc);
	return e;
}

enum s3_err s3_put_bucket_versioning(struct s3_req *r)
{
	int state;
	enum s3_err e = read_setting(r, s3_parse_versioning, &state);
	if (e)
		return e;
	int rc = atr_bucket_versioning_set(r->srv->core, &r->user, r->bucket, state);
	if (rc == ATR_E_NOT_SUPPORTED)
		return S3_ERR_VERSIONING_REMOTE;
	if (rc == ATR_E_LOCKED)
		return S3_ERR_LOCK_VERSIONING_STATE;
	return s3_reply_empty(r, rc, 200);
}
