/*
 * access — the core API of permissions (src/atrium.h, "permissions of
 * buckets and objects"): ACLs of buckets and objects, and the bucket
 * settings that govern access (Block Public Access, Object Ownership, the
 * bucket policy). The decision itself is perm.c's; the mapping of ACLs to
 * modes acl.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timefmt.h"
#include "src/ns_int.h"
#include "src/perm_int.h"
#include "common/banned.h"

/* The entry an ACL call is about: the object at key, or the bucket's root
 * (key NULL or ""). */
struct acl_target {
	struct atr_bucket b;
	struct meta_row row;
	const char *key;
	int is_bucket;
};

static int target_find(struct atr_core *c, const struct atr_user *u, const char *action,
		       unsigned want, const char *bucket, const char *key, struct acl_target *t)
{
	memset(t, 0, sizeof(*t));
	t->is_bucket = !key || !*key;
	t->key = t->is_bucket ? "" : key;
	if (t->is_bucket) {
		int rc = perm_bucket(c, u, bucket, action, want, &t->b);
		if (!rc)
			rc = meta_obj_get(c->meta, bucket, "", &t->row, 0);
		return rc == ATR_E_NO_KEY ? ATR_E_NO_BUCKET : rc;
	}
	int rc = perm_find(c, u, action, want, bucket, key, &t->row, NULL, 0);
	if (rc)
		return rc;
	atr_obj_release(&t->row.obj);
	return perm_bucket(c, u, bucket, NULL, 0, &t->b);
}

int atr_acl_get(struct atr_core *c, const struct atr_user *u, const char *bucket,
		const char *key, struct atr_acl *out)
{
	struct acl_target t;
	char *text = NULL;
	int rc = target_find(c, u, key && *key ? "s3:GetObjectAcl" : "s3:GetBucketAcl", PERM_RACP,
			     bucket, key, &t);
	if (rc)
		return rc;
	if (t.b.ownership != ATR_OWN_BUCKET_OWNER_ENFORCED && t.row.has_acl &&
	    (rc = meta_acl_get(c->meta, obj_node(&t.row.obj), &text)) && rc != ATR_E_NO_KEY)
		return rc;
	acl_view(&t.b, t.row.obj.owner, t.row.obj.mode, text, t.row.obj.is_dir, out);
	free(text);
	return ATR_OK;
}

struct acl_set_args {
	struct acl_target *t;
	uint32_t mode;
	const char *text;
	int rc_event;
};

static int acl_set_fn(struct atr_core *c, void *arg)
{
	struct acl_set_args *a = arg;
	struct acl_target *t = a->t;
	struct meta_row now = { 0 };
	int rc = meta_obj_get(c->meta, t->b.name, t->key, &now, 1);
	if (rc)
		return rc;
	if (now.obj.ino != t->row.obj.ino) {
		atr_obj_release(&now.obj);
		return ATR_E_CONFLICT; /* replaced since we looked */
	}
	struct meta_row before = now;
	now.obj.mode = (now.obj.mode & ~0777u) | a->mode;
	now.obj.ctime_ns = time_now_ns();
	if (!(rc = meta_obj_set_posix(c->meta, &now)) &&
	    !(rc = meta_acl_set(c->meta, obj_node(&now.obj), a->text)) && now.obj.is_dir) {
		now.has_acl = a->text != NULL;
		rc = perm_follow(c, t->b.name, t->key, &before, &now, 1, a->text);
	}
	if (!rc)
		ns_event(c, t->b.name, t->key, &now.obj);
	atr_obj_release(&now.obj);
	return rc;
}

int atr_acl_set(struct atr_core *c, const struct atr_user *u, const char *bucket,
		const char *key, const struct atr_acl *acl)
{
	struct acl_target t;
	char *text = NULL;
	int rc = target_find(c, u, key && *key ? "s3:PutObjectAcl" : "s3:PutBucketAcl", PERM_WACP,
			     bucket, key, &t);
	uint32_t mode = t.row.obj.mode;
	if (rc || (rc = acl_replace(&t.b, acl, t.row.obj.owner, t.row.obj.is_dir, &mode, &text)))
		return rc;
	struct acl_set_args a = { &t, mode & 0777, text, 0 };
	rc = ns_txn(c, acl_set_fn, &a);
	ns_settle(c);
	free(text);
	return rc;
}

/* ---- bucket settings ---- */

int atr_bucket_public_block_get(struct atr_core *c, const struct atr_user *u,
				const char *bucket, int *bits)
{
	struct atr_bucket b;
	int rc = perm_bucket(c, u, bucket, "s3:GetBucketPublicAccessBlock", PERM_OWNER, &b);
	if (rc)
		return rc;
	*bits = b.public_block;
	return b.public_block < 0 ? ATR_E_NO_CONFIG : ATR_OK;
}

struct conf_args {
	const char *bucket;
	int public_block, ownership;
	const char *policy;
	int drop_policy;
};

static int conf_fn(struct atr_core *c, void *arg)
{
	struct conf_args *a = arg;
	struct atr_bucket b;
	int rc = meta_bucket_get(c->meta, a->bucket, &b); /* deleted since we looked? */
	return rc ? rc : meta_bucket_conf_set(c->meta, a->bucket, a->public_block, a->ownership,
					      a->policy, a->drop_policy);
}

static int conf_set(struct atr_core *c, const char *bucket, int public_block, int ownership,
		    const char *policy, int drop_policy)
{
	struct conf_args a = { bucket, public_block, ownership, policy, drop_policy };
	return ns_txn(c, conf_fn, &a);
}

int atr_bucket_public_block_set(struct atr_core *c, const struct atr_user *u,
				const char *bucket, int bits)
{
	int rc = perm_bucket(c, u, bucket, "s3:PutBucketPublicAccessBlock", PERM_OWNER, NULL);
	if (rc)
		return rc;
	return conf_set(c, bucket, bits < 0 ? META_CLEAR : bits & 15, META_KEEP, NULL, 0);
}

int atr_bucket_ownership_get(struct atr_core *c, const struct atr_user *u, const char *bucket,
			     int *ownership)
{
	struct atr_bucket b;
	int rc = perm_bucket(c, u, bucket, "s3:GetBucketOwnershipControls", PERM_OWNER, &b);
	if (rc)
		return rc;
	*ownership = b.ownership;
	return b.ownership < 0 ? ATR_E_NO_CONFIG : ATR_OK;
}

int atr_bucket_ownership_set(struct atr_core *c, const struct atr_user *u, const char *bucket,
			     int ownership)
{
	struct atr_bucket b;
	int rc = perm_bucket(c, u, bucket, "s3:PutBucketOwnershipControls", PERM_OWNER, &b);
	if (rc)
		return rc;
	if (ownership > ATR_OWN_BUCKET_OWNER_ENFORCED)
		return ATR_E_INVALID_ARG;
	/* ACLs go off only once the bucket's grants nobody but its owner
	 * (AWS: InvalidBucketAclWithObjectOwnership). */
	if (ownership == ATR_OWN_BUCKET_OWNER_ENFORCED && (b.has_acl || (b.mode & 077)))
		return ATR_E_ACLS_OFF;
	return conf_set(c, bucket, META_KEEP, ownership < 0 ? META_CLEAR : ownership, NULL, 0);
}

/* A bucket's policy is its owner's to read and change, whatever the policy
 * says (as an AWS account's root user always may). */
static int policy_owner(struct atr_core *c, const struct atr_user *u, const char *bucket,
			struct atr_bucket *b)
{
	int rc = perm_bucket(c, u, bucket, NULL, 0, b);
	if (rc || u->superuser)
		return rc;
	return !u->anonymous && !strcmp(u->name, b->owner) ? ATR_OK : ATR_E_ACCESS;
}

int atr_bucket_policy_get(struct atr_core *c, const struct atr_user *u, const char *bucket,
			  char **json)
{
	struct atr_bucket b;
	int rc = policy_owner(c, u, bucket, &b);
	*json = NULL;
	if (rc)
		return rc;
	rc = meta_bucket_policy_get(c->meta, bucket, json);
	return rc == ATR_E_NO_KEY ? ATR_E_NO_CONFIG : rc;
}

int atr_bucket_policy_set(struct atr_core *c, const struct atr_user *u, const char *bucket,
			  const char *json, size_t len, char *err, size_t errsize)
{
	struct atr_bucket b;
	int is_public, rc = policy_owner(c, u, bucket, &b);
	if (rc)
		return rc;
	if (json && memchr(json, '\0', len)) {
		snprintf(err, errsize, "This policy contains invalid Json");
		return ATR_E_BAD_POLICY;
	}
	if (json && (rc = perm_policy_parse(c, bucket, json, len, &is_public, err, errsize)))
		return rc;
	int pab = b.public_block > 0 ? b.public_block : 0;
	if (json && is_public && (pab & ATR_PAB_BLOCK_POLICY))
		return ATR_E_ACCESS; /* BlockPublicPolicy */
	/* json is NUL-terminated at len (a request body). */
	rc = conf_set(c, bucket, META_KEEP, META_KEEP, json, !json);
	perm_policy_forget(c, bucket);
	return rc;
}

int atr_bucket_policy_status(struct atr_core *c, const struct atr_user *u, const char *bucket,
			     int *is_public)
{
	char *json = NULL;
	int rc = atr_bucket_policy_get(c, u, bucket, &json);
	*is_public = 0;
	if (!rc)
		rc = perm_policy_parse(c, bucket, json, strlen(json), is_public, NULL, 0);
	free(json);
	return rc;
}

/* ---- bucket documents ---- */

struct doc_args {
	const char *bucket;
	int kind;
	const char *doc;
};

static int doc_fn(struct atr_core *c, void *arg)
{
	struct doc_args *a = arg;
	struct atr_bucket b;
	/* Deleted since we looked: no row may outlive its bucket. */
	int rc = meta_bucket_get(c->meta, a->bucket, &b);
	if (rc)
		return rc;
	rc = meta_bucket_doc_put(c->meta, a->bucket, a->kind, a->doc);
	__atomic_add_fetch(&c->docs_gen, 1, __ATOMIC_RELEASE);
	return rc;
}

static int doc_kind_valid(int kind)
{
	return kind == ATR_DOC_CORS || kind == ATR_DOC_LOGGING || kind == ATR_DOC_ENCRYPTION ||
	       kind == ATR_DOC_LIFECYCLE;
}

int atr_bucket_doc_get(struct atr_core *c, const struct atr_user *u, const char *bucket,
		       int kind, const char *action, char **doc)
{
	*doc = NULL;
	if (!doc_kind_valid(kind))
		return ATR_E_INVALID_ARG;
	int rc = perm_bucket(c, u, bucket, action, PERM_OWNER, NULL);
	if (rc)
		return rc;
	rc = meta_bucket_doc_get(c->meta, bucket, kind, doc);
	return rc == ATR_E_NO_KEY ? ATR_E_NO_CONFIG : rc;
}

int atr_bucket_doc_set(struct atr_core *c, const struct atr_user *u, const char *bucket,
		       int kind, const char *action, const char *doc)
{
	if (!doc_kind_valid(kind) || (doc && strlen(doc) > ATR_BUCKET_DOC_MAX))
		return ATR_E_INVALID_ARG;
	int rc = perm_bucket(c, u, bucket, action, PERM_OWNER, NULL);
	if (rc)
		return rc;
	struct doc_args a = { bucket, kind, doc };
	return ns_txn(c, doc_fn, &a);
}

int atr_bucket_config_check(struct atr_core *c, const struct atr_user *u, const char *bucket,
			    const char *action)
{
	return perm_bucket(c, u, bucket, action, PERM_OWNER, NULL);
}

int atr_bucket_doc_peek(struct atr_core *c, const char *bucket, int kind, char **doc,
			char owner[ATR_USER_MAX + 1])
{
	struct atr_bucket b;
	*doc = NULL;
	if (!doc_kind_valid(kind))
		return ATR_E_INVALID_ARG;
	if (!atr_bucket_name_valid(bucket))
		return ATR_E_INVALID_BUCKET;
	int rc = meta_bucket_get(c->meta, bucket, &b);
	if (rc)
		return rc == ATR_E_NO_KEY ? ATR_E_NO_BUCKET : rc;
	if (owner)
		snprintf(owner, ATR_USER_MAX + 1, "%s", b.owner);
	rc = meta_bucket_doc_get(c->meta, bucket, kind, doc);
	return rc == ATR_E_NO_KEY ? ATR_E_NO_CONFIG : rc;
}

uint64_t atr_bucket_docs_generation(struct atr_core *c)
{
	return __atomic_load_n(&c->docs_gen, __ATOMIC_ACQUIRE);
}
