/*
 * s3_acl — S3's ACLs on the wire: the x-amz-acl and x-amz-grant-* request
 * headers, the AccessControlPolicy document, and Get/Put Bucket/Object
 * Acl. What an ACL means in Atrium (a view of POSIX permissions plus kept
 * grants) is the core's (src/atrium.h, docs/permissions.md).
 */
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xml.h"
#include "s3/s3_int.h"
#include "common/banned.h"

#define XSI "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""

static const struct {
	const char *uri;
	int grantee;
} groups[] = {
	{ "http://acs.amazonaws.com/groups/global/AllUsers", ATR_GRANTEE_ALL_USERS },
	{ "http://acs.amazonaws.com/groups/global/AuthenticatedUsers", ATR_GRANTEE_AUTH_USERS },
	{ "http://acs.amazonaws.com/groups/s3/LogDelivery", ATR_GRANTEE_LOG_DELIVERY },
};

static const struct {
	const char *name;
	unsigned perm;
	const char *header;
} perms[] = {
	{ "READ", ATR_PERM_READ, "x-amz-grant-read" },
	{ "WRITE", ATR_PERM_WRITE, "x-amz-grant-write" },
	{ "READ_ACP", ATR_PERM_READ_ACP, "x-amz-grant-read-acp" },
	{ "WRITE_ACP", ATR_PERM_WRITE_ACP, "x-amz-grant-write-acp" },
	{ "FULL_CONTROL", ATR_PERM_FULL_CONTROL, "x-amz-grant-full-control" },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static enum s3_err add_grant(struct atr_acl *acl, int grantee, unsigned perm, const char *user,
			     size_t user_len)
{
	if (acl->n == ATR_ACL_MAX)
		return S3_ERR_MALFORMED_ACL; /* S3's limit of grants */
	if (grantee == ATR_GRANTEE_USER && !atr_user_name_valid(user, user_len))
		return S3_ERR_INVALID_GRANTEE;
	struct atr_grant *g = &acl->g[acl->n++];
	memset(g, 0, sizeof(*g));
	g->grantee = grantee;
	g->perm = perm;
	if (user) {
		memcpy(g->user, user, user_len);
		g->user[user_len] = '\0';
	}
	return S3_ERR_OK;
}

static int group_of(const char *uri, size_t len)
{
	for (size_t i = 0; i < N(groups); i++)
		if (strlen(groups[i].uri) == len && !strncmp(groups[i].uri, uri, len))
			return groups[i].grantee;
	return -1;
}

enum s3_err s3_acl_grant_header(const char *v, unsigned perm, struct atr_acl *acl)
{
	/* id="...", uri="...", emailAddress="..." separated by commas; the
	 * quotes are optional. */
	for (const char *p = v;;) {
		p += strspn(p, " \t");
		const char *name = p;
		size_t nlen = strcspn(p, "=");
		if (!p[nlen])
			return S3_ERR_INVALID_ARGUMENT;
		const char *val = p + nlen + 1;
		size_t vlen;
		if (*val == '"') {
			const char *end = strchr(++val, '"');
			if (!end)
				return S3_ERR_INVALID_ARGUMENT;
			vlen = (size_t)(end - val);
			p = end + 1;
		} else {
			vlen = strcspn(val, ", \t");
			p = val + vlen;
		}
		enum s3_err e = S3_ERR_INVALID_ARGUMENT;
		if (nlen == 2 && !strncasecmp(name, "id", 2)) {
			e = add_grant(acl, ATR_GRANTEE_USER, perm, val, vlen);
		} else if (nlen == 3 && !strncasecmp(name, "uri", 3)) {
			int g = group_of(val, vlen);
			if (g >= 0)
				e = add_grant(acl, g, perm, NULL, 0);
		} else if (nlen == 12 && !strncasecmp(name, "emailAddress", 12)) {
			e = S3_ERR_UNRESOLVABLE_GRANT; /* no e-mail addresses here */
		}
		if (e)
			return e;
		p += strspn(p, " \t");
		if (!*p)
			return S3_ERR_OK;
		if (*p++ != ',')
			return S3_ERR_INVALID_ARGUMENT;
	}
}

/* Each named user must be one we know: S3 refuses a grant to nobody. */
static enum s3_err users_known(struct s3_req *r, const struct atr_acl *acl)
{
	for (int i = 0; i < acl->n; i++)
		if (acl->g[i].grantee == ATR_GRANTEE_USER && r->srv->opt.auth == S3_AUTH_SIGV4 &&
		    atr_idents_find_user(r->srv->idents, acl->g[i].user, NULL) &&
		    strcmp(acl->g[i].user, atr_core_daemon_user(r->srv->core)))
			return S3_ERR_INVALID_GRANTEE;
	return S3_ERR_OK;
}

enum s3_err s3_request_acl(struct s3_req *r, struct atr_acl **out)
{
	const char *canned = s3_header(r, "x-amz-acl");
	struct atr_acl *acl = NULL;
	int grants = 0;
	enum s3_err e = S3_ERR_OK;
	*out = NULL;
	for (size_t i = 0; i < N(perms); i++)
		grants |= s3_header(r, perms[i].header) != NULL;
	if (!canned && !grants)
		return S3_ERR_OK;
	if (canned && grants)
		return S3_ERR_CANNED_AND_GRANTS;
	if (!(acl = calloc(1, sizeof(*acl))))
		return S3_ERR_SLOW_DOWN;
	for (size_t i = 0; i < N(perms) && !e; i++) {
		const char *v = s3_header(r, perms[i].header);
		if (v)
			e = s3_acl_grant_header(v, perms[i].perm, acl);
	}
	if (!e && canned && atr_acl_canned(canned, acl))
		e = S3_ERR_INVALID_ARGUMENT;
	if (!e)
		e = users_known(r, acl);
	if (e)
		free(acl);
	else
		*out = acl;
	return e;
}

/* One <Grant>: its grantee (by the element inside, which xsi:type names
 * too) and its permission. */
static enum s3_err grant_from_xml(xmlNodePtr g, struct atr_acl *acl)
{
	xmlNodePtr who = xml_child(g, "Grantee");
	char *perm = xml_text(xml_child(g, "Permission"));
	char *type = who ? (char *)xmlGetProp(who, (const xmlChar *)"type") : NULL;
	char *id = xml_text(xml_child(who, "ID")), *uri = xml_text(xml_child(who, "URI"));
	char *mail = xml_text(xml_child(who, "EmailAddress"));
	enum s3_err e = S3_ERR_MALFORMED_ACL;
	unsigned p = 0;
	for (size_t i = 0; perm && i < N(perms); i++)
		if (!strcmp(perm, perms[i].name))
			p = perms[i].perm;
	if (!who || !p || !!id + !!uri + !!mail != 1)
		goto out;
	if (id && (!type || !strcmp(type, "CanonicalUser")))
		e = add_grant(acl, ATR_GRANTEE_USER, p, id, strlen(id));
	else if (uri && (!type || !strcmp(type, "Group")))
		e = group_of(uri, strlen(uri)) < 0 ? S3_ERR_INVALID_ARGUMENT
			: add_grant(acl, group_of(uri, strlen(uri)), p, NULL, 0);
	else if (mail && (!type || !strcmp(type, "AmazonCustomerByEmail")))
		e = S3_ERR_UNRESOLVABLE_GRANT;
out:
	xmlFree(perm);
	xmlFree(type);
	xmlFree(id);
	xmlFree(uri);
	xmlFree(mail);
	return e;
}

enum s3_err s3_acl_from_xml(const char *xml, size_t len, struct atr_acl *acl)
{
	xmlDocPtr doc = xml_parse(xml, len);
	xmlNodePtr root = xml_root(doc, "AccessControlPolicy");
	xmlNodePtr list = xml_child(root, "AccessControlList");
	enum s3_err e = S3_ERR_MALFORMED_ACL;
	memset(acl, 0, sizeof(*acl));
	if (!list)
		goto out;
	char *owner = xml_text(xml_child(xml_child(root, "Owner"), "ID"));
	if (owner && strlen(owner) <= ATR_USER_MAX)
		snprintf(acl->owner, sizeof(acl->owner), "%s", owner);
	else if (owner)
		e = S3_ERR_INVALID_ARGUMENT;
	xmlFree(owner);
	if (e == S3_ERR_INVALID_ARGUMENT)
		goto out;
	e = S3_ERR_OK;
	for (xmlNodePtr g = xml_child(list, "Grant"); g && !e; g = xml_next(g, "Grant"))
		e = grant_from_xml(g, acl);
out:
	xmlFreeDoc(doc);
	return e;
}

int s3_acl_xml(struct s3_req *r, const struct atr_acl *acl, struct buf *b)
{
	int err = s3_xml_open(b, "AccessControlPolicy") || s3_xml_user(r, b, "Owner", acl->owner) ||
		  buf_addstr(b, "<AccessControlList>");
	for (int i = 0; i < acl->n && !err; i++) {
		const struct atr_grant *g = &acl->g[i];
		const char *perm = "";
		for (size_t j = 0; j < N(perms); j++)
			if (perms[j].perm == g->perm)
				perm = perms[j].name;
		err = buf_addstr(b, "<Grant>");
		if (!err && g->grantee == ATR_GRANTEE_USER) {
			struct atr_ident id;
			int known = !atr_idents_find_user(r->srv->idents, g->user, &id);
			err = buf_addstr(b, "<Grantee " XSI " xsi:type=\"CanonicalUser\">") ||
			      s3_xml_elem(b, "ID", g->user) ||
			      s3_xml_elem(b, "DisplayName", known ? id.display : g->user) ||
			      buf_addstr(b, "</Grantee>");
		} else if (!err) {
			const char *uri = "";
			for (size_t j = 0; j < N(groups); j++)
				if (groups[j].grantee == g->grantee)
					uri = groups[j].uri;
			err = buf_addstr(b, "<Grantee " XSI " xsi:type=\"Group\">") ||
			      s3_xml_elem(b, "URI", uri) || buf_addstr(b, "</Grantee>");
		}
		err = err || s3_xml_elem(b, "Permission", perm) || buf_addstr(b, "</Grant>");
	}
	return err || buf_addstr(b, "</AccessControlList></AccessControlPolicy>");
}

/* ---- GET/PUT ?acl ---- */

/* key NULL: the bucket's; vid NULL: the current version's. */
static enum s3_err get_acl(struct s3_req *r, const char *key, const char *vid)
{
	struct atr_acl acl;
	struct atr_obj none = { 0 };
	struct buf b = BUF_INIT(256 * 1024);
	int rc = atr_object_version_acl_get(r->srv->core, &r->user, r->bucket, key, vid, &acl);
	if (rc)
		return s3_version_error(r, rc, vid, &none);
	if (s3_acl_xml(r, &acl, &b)) {
		buf_release(&b);
		return S3_ERR_INTERNAL;
	}
	s3_send_xml(r, 200, &b);
	buf_release(&b);
	return S3_ERR_OK;
}

static enum s3_err put_acl(struct s3_req *r, const char *key, const char *vid)
{
	struct atr_acl *acl;
	struct atr_obj none = { 0 };
	struct buf body = BUF_INIT(256 * 1024);
	enum s3_err e = s3_request_acl(r, &acl);
	if (!e)
		e = s3_read_small_body(r, &body);
	if (!e && acl && body.len) {
		e = S3_ERR_UNEXPECTED_CONTENT; /* the ACL twice: headers and a body */
	} else if (!e && !acl && !body.len) {
		e = S3_ERR_MISSING_REQUEST_BODY;
	} else if (!e && !acl) {
		if (!(acl = malloc(sizeof(*acl))))
			e = S3_ERR_SLOW_DOWN;
		else if (!(e = s3_acl_from_xml(body.ptr, body.len, acl)))
			e = users_known(r, acl);
	}
	buf_release(&body);
	int rc = e ? ATR_OK
		   : atr_object_version_acl_set(r->srv->core, &r->user, r->bucket, key, vid, acl);
	free(acl);
	if (e || rc)
		return e ? e : s3_version_error(r, rc, vid, &none);
	s3_send_empty(r, 200, NULL);
	return S3_ERR_OK;
}

enum s3_err s3_get_bucket_acl(struct s3_req *r) { return get_acl(r, NULL, NULL); }
enum s3_err s3_put_bucket_acl(struct s3_req *r) { return put_acl(r, NULL, NULL); }

/* An object's ACL is a version's: the current one's unless versionId
 * names another (whose grants are kept with it). */
enum s3_err s3_get_object_acl(struct s3_req *r)
{
	const char *vid;
	enum s3_err e = s3_version_param(r, &vid);
	return e ? e : get_acl(r, r->key, vid);
}

enum s3_err s3_put_object_acl(struct s3_req *r)
{
	const char *vid;
	enum s3_err e = s3_version_param(r, &vid);
	return e ? e : put_acl(r, r->key, vid);
}
