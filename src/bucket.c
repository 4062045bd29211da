/*
 * bucket — buckets as S3 and the path view see them (src/atrium.h): the
 * permission each bucket call needs, then the kernel's bucket operations
 * (ns_bucket.c).
 */
#include <stdlib.h>
#include <string.h>

#include "src/ns_int.h"
#include "src/perm_int.h"
#include "common/banned.h"

int atr_bucket_exists(struct atr_core *c, const char *name)
{
	struct atr_bucket b;
	if (!atr_bucket_name_valid(name))
		return ATR_E_INVALID_BUCKET;
	return ns_bucket_get(c, name, &b, 1);
}

int atr_bucket_stat(struct atr_core *c, const struct atr_user *u, const char *name,
		    struct atr_bucket *out)
{
	struct atr_bucket b;
	if (!out)
		out = &b;
	if (!atr_bucket_name_valid(name))
		return ATR_E_INVALID_BUCKET;
	int rc = ns_bucket_get(c, name, out, 1);
	if (rc)
		return rc;
	/* HeadBucket: S3 asks for s3:ListBucket. */
	return perm_check(c, u, "s3:ListBucket", out, NULL, NULL, NULL, PERM_R);
}

int atr_bucket_create(struct atr_core *c, const struct atr_user *u, const char *name,
		      const char *location, const struct atr_acl *acl, int ownership)
{
	uint32_t mode = 0700; /* private */
	char *text = NULL;
	if (!atr_bucket_name_valid(name))
		return ATR_E_INVALID_BUCKET;
	if (u->anonymous)
		return ATR_E_ACCESS;
	if (acl && ownership == ATR_OWN_BUCKET_OWNER_ENFORCED && acl->n > 1)
		return ATR_E_ACLS_OFF; /* an ACL that says more than "private" */
	if (acl && acl_apply(acl, u->name, u->name, 1, &mode, &text))
		return ATR_E_NOMEM;
	int rc = ns_bucket_create(c, u->name, name, location, mode, text, ownership);
	free(text);
	return rc;
}

int atr_bucket_delete(struct atr_core *c, const struct atr_user *u, const char *name)
{
	int rc = perm_bucket(c, u, name, "s3:DeleteBucket", PERM_OWNER, NULL);
	return rc ? rc : ns_bucket_delete(c, name);
}

int atr_bucket_list(struct atr_core *c, const struct atr_user *u, atr_bucket_cb cb, void *arg)
{
	if (u->anonymous)
		return ATR_E_ACCESS;
	return ns_bucket_list(c, u->name, cb, arg);
}

int atr_bucket_list_all(struct atr_core *c, const struct atr_user *u, atr_bucket_cb cb,
			void *arg)
{
	if (!u->superuser)
		return ATR_E_ACCESS;
	return ns_bucket_list(c, NULL, cb, arg);
}
