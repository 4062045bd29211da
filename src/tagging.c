/*
 * tagging — object and bucket tags in the core: a string per object, kept in the
 * metadata store under the object's ino (object_tags), set and read here;
 * a commit sets the new object's (object.c).
 *
 * Bucket tags live in bucket_tags, by bucket name, dropped with the
 * bucket's row.
 *
 * Setting the tags of the object at a key happens under ns_lock in one
 * transaction that first checks the key still names the object looked up
 * (same ino), so tags never land on an object that replaced it meanwhile.
 */
#include <stdlib.h>
#include <string.h>

#include "src/ns_int.h"
#include "src/perm_int.h"
#include "common/banned.h"

int atr_put_tags(struct atr_writer *w, const char *tags)
{
	free(w->tags);
	w->tags = NULL;
	if (tags && *tags && !(w->tags = strdup(tags)))
		return ATR_E_NOMEM;
	return ATR_OK;
}

int atr_obj_tags(struct atr_core *c, const struct atr_obj *o, char **tags)
{
	int rc = meta_obj_tags_get(c->meta, o->ino, tags);
	return rc == ATR_E_NO_KEY ? ATR_OK : rc;
}

int atr_object_tags_get(struct atr_core *c, const struct atr_user *u, const char *bucket,
			const char *key, char **tags)
{
	struct meta_row row = { 0 };
	int rc = perm_find(c, u, "s3:GetObjectTagging", PERM_R, bucket, key, &row, NULL, 0);
	*tags = NULL;
	if (rc)
		return rc;
	rc = atr_obj_tags(c, &row.obj, tags);
	atr_obj_release(&row.obj);
	if (!rc && !*tags && !(*tags = strdup("")))
		rc = ATR_E_NOMEM;
	return rc;
}

struct tags_args {
	const char *bucket, *key, *tags;
	uint64_t ino;
};

static int object_tags_fn(struct atr_core *c, void *arg)
{
	struct tags_args *a = arg;
	struct meta_row now = { 0 };
	int rc = meta_obj_get(c->meta, a->bucket, a->key, &now, 0);
	if (!rc && now.obj.ino != a->ino)
		rc = ATR_E_CONFLICT; /* replaced since we looked */
	if (rc)
		return rc;
	return a->tags && *a->tags ? meta_obj_tags_put(c->meta, a->ino, a->tags)
				   : meta_obj_tags_delete(c->meta, a->ino);
}

static int bucket_tags_fn(struct atr_core *c, void *arg)
{
	struct tags_args *a = arg;
	struct atr_bucket b;
	/* Deleted since we looked: no row may outlive its bucket. */
	int rc = meta_bucket_get(c->meta, a->bucket, &b);
	if (rc)
		return rc;
	return a->tags && *a->tags ? meta_bucket_tags_put(c->meta, a->bucket, a->tags)
				   : meta_bucket_tags_delete(c->meta, a->bucket);
}

int atr_object_tags_set(struct atr_core *c, const struct atr_user *u, const char *bucket,
			const char *key, const char *tags)
{
	struct meta_row row = { 0 };
	const char *action = tags && *tags ? "s3:PutObjectTagging" : "s3:DeleteObjectTagging";
	int rc = perm_find(c, u, action, PERM_W, bucket, key, &row, NULL, 0);
	if (rc)
		return rc;
	atr_obj_release(&row.obj);
	struct tags_args a = { bucket, key, tags, row.obj.ino };
	return ns_txn(c, object_tags_fn, &a);
}

/* Bucket tags: the owner's (or the superuser's) alone, whatever the
 * bucket's mode says (S3: s3:GetBucketTagging and s3:PutBucketTagging are
 * the owner's by default), or whom the bucket policy allows. */
int atr_bucket_tags_get(struct atr_core *c, const struct atr_user *u, const char *bucket,
			char **tags)
{
	int rc = perm_bucket(c, u, bucket, "s3:GetBucketTagging", PERM_OWNER, NULL);
	*tags = NULL;
	if (rc)
		return rc;
	rc = meta_bucket_tags_get(c->meta, bucket, tags);
	return rc == ATR_E_NO_KEY ? ATR_OK : rc;
}

int atr_bucket_tags_set(struct atr_core *c, const struct atr_user *u, const char *bucket,
			const char *tags)
{
	int rc = perm_bucket(c, u, bucket, "s3:PutBucketTagging", PERM_OWNER, NULL);
	if (rc)
		return rc;
	struct tags_args a = { bucket, NULL, tags, 0 };
	return ns_txn(c, bucket_tags_fn, &a);
}
