/*
 * object — S3's objects as a view of the namespace (src/ns_int.h): PUT
 * (a writer streaming into a stage, committed by the kernel), GET and HEAD
 * (a reader over the block cache), DELETE, and the permission each needs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "common/hash.h"
#include "common/log.h"
#include "src/ns_int.h"
#include "src/perm_int.h"
#include "src/persist_int.h"
#include "common/banned.h"

/* ---- writing ---- */

int atr_put_begin(struct atr_core *c, const struct atr_user *u, const char *bucket,
		  const char *key, uint64_t size_hint, struct atr_writer **out)
{
	struct atr_bucket b;
	int rc = perm_bucket(c, u, bucket, NULL, 0, &b);
	if (rc || (rc = atr_key_valid(key)) ||
	    (rc = perm_write_key(c, u, "s3:PutObject", &b, key)) ||
	    (rc = ns_tree_check(c, bucket, key)))
		return rc;
	struct atr_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return ATR_E_NOMEM;
	w->c = c;
	w->b = b;
	w->anonymous = u->anonymous;
	snprintf(w->writer, sizeof(w->writer), "%s", u->name);
	acl_owner(u, &b, NULL, w->user);
	snprintf(w->bucket, sizeof(w->bucket), "%s", bucket);
	snprintf(w->key, sizeof(w->key), "%s", key);
	w->is_dir = key_is_dir(key);
	w->lock.hold = -1;
	if ((rc = atr_bucket_sse(c, bucket, &w->sse)) ||
	    (rc = stage_writer_init(c, &w->sw, !w->is_dir))) {
		free(w);
		return rc;
	}
	*out = w;
	return ATR_OK;
}

int atr_put_sse(struct atr_writer *w, int sse, const unsigned char *key)
{
	if (w->sw.cw || w->sw.size)
		return ATR_E_INTERNAL;
	int rc;
	if (sse == ATR_SSE_NONE && (rc = atr_bucket_sse(w->c, w->bucket, &sse)))
		return rc;
	if (sse == ATR_SSE_C && !key)
		return ATR_E_INVALID_ARG;
	w->sse = sse;
	if (sse == ATR_SSE_C)
		memcpy(w->sse_key, key, CRYPT_KEY);
	return ATR_OK;
}

int atr_put_sse_of(const struct atr_writer *w) { return w->sse; }

/* The first byte of an encrypted object is its header's (sse.c). */
static int writer_crypt_start(struct atr_writer *w)
{
	if (!w->sse || w->sw.cw || !w->sw.stage)
		return ATR_OK;
	return sse_writer_start(w->c, &w->sw, w->sse, w->sse_key);
}

int stage_writer_init(struct atr_core *c, struct stage_writer *sw, int with_stage)
{
	memset(sw, 0, sizeof(*sw));
	md5mb_init(&sw->md5);
	sw->md5_open = 1;
	int rc = with_stage ? ufs_stage_open(c->ufs, &sw->stage) : ATR_OK;
	if (rc)
		stage_writer_release(c, sw);
	return rc;
}

int stage_writer_write(struct atr_core *c, struct stage_writer *sw, const void *data, size_t len)
{
	if (!sw->md5_open)
		return ATR_E_INTERNAL;
	md5mb_engine_update(c->md5, &sw->md5, data, len);
	sw->size += len;
	if (sw->cw)
		return sse_writer_write(c, sw, data, len);
	return sw->stage ? ufs_stage_write(c->ufs, sw->stage, data, len) : ATR_OK;
}

void stage_writer_md5(struct stage_writer *sw, unsigned char out[MD5_LEN])
{
	if (sw->md5_open) {
		md5mb_final(&sw->md5, sw->sum);
		sw->md5_open = 0;
	}
	memcpy(out, sw->sum, MD5_LEN);
}

void stage_writer_release(struct atr_core *c, struct stage_writer *sw)
{
	sw->md5_open = 0;
	if (sw->stage)
		ufs_stage_abort(c->ufs, sw->stage);
	sw->stage = NULL;
	crypt_w_free(sw->cw);
	sw->cw = NULL;
	sw->ct_md5_open = 0;
}

/* A key ending in '/' is a directory marker; with bytes it is an object
 * too (the side form, src/ns_int.h): its stage is opened by its first
 * byte, so a plain marker costs no stage. */
int writer_need_stage(struct atr_writer *w)
{
	if (w->sw.stage)
		return ATR_OK;
	if (!ufs_can(w->c->ufs, UFS_CAP_RENAME))
		return ATR_E_INVALID_ARG; /* no side form: a directory holds no bytes */
	return ufs_stage_open(w->c->ufs, &w->sw.stage);
}

int atr_put_write(struct atr_writer *w, const void *data, size_t len)
{
	int rc;
	if (w->is_dir && len && (rc = writer_need_stage(w)))
		return rc;
	if (len && (rc = writer_crypt_start(w)))
		return rc;
	return stage_writer_write(w->c, &w->sw, data, len);
}

void atr_put_md5(struct atr_writer *w, unsigned char out[16])
{
	stage_writer_md5(&w->sw, out);
}

uint64_t atr_put_size(const struct atr_writer *w) { return w->sw.size; }

void atr_put_abort(struct atr_writer *w)
{
	if (!w)
		return;
	stage_writer_release(w->c, &w->sw);
	free(w->tags);
	free(w->acl);
	OPENSSL_cleanse(w->sse_key, sizeof(w->sse_key));
	free(w);
}

int atr_put_acl(struct atr_writer *w, const struct atr_acl *acl)
{
	int rc = acl_allowed(&w->b, acl);
	if (rc)
		return rc;
	if (!w->acl && !(w->acl = malloc(sizeof(*w->acl))))
		return ATR_E_NOMEM;
	*w->acl = *acl;
	struct atr_user u = { .name = w->writer, .anonymous = w->anonymous };
	acl_owner(&u, &w->b, acl, w->user);
	return ATR_OK;
}

int writer_commit(struct atr_writer *w, const char *etag, const char *hdrs, const char *tags,
		  struct atr_obj *out)
{
	const char *if_etag = *w->if_etag ? w->if_etag : NULL;
	int rc;
	if (w->is_dir && !w->sw.size) {
		rc = ns_commit_s3_marker(w->c, w->user, w->bucket, w->key, w->acl, w->must_not_exist,
					 if_etag, hdrs, tags, out);
	} else if ((rc = writer_crypt_start(w)) || (rc = sse_writer_finish(w->c, &w->sw))) {
		; /* aborted below */
	} else {
		char ct_etag[ATR_ETAG_MAX + 1];
		if (sse_writer_etag(&w->sw, ct_etag))
			etag = ct_etag; /* SSE-C's */
		struct ns_object o = { .owner = w->user, .bucket = w->bucket, .key = w->key,
				       .stage = w->sw.stage, .etag = etag, .hdrs = hdrs,
				       .must_not_exist = w->must_not_exist, .if_etag = if_etag,
				       .acl = w->acl, .tags = tags, .write_type = w->write_type,
				       .sse = w->sw.sse, .plain_size = w->sw.size,
				       .lock = &w->lock };
		rc = ns_commit_object(w->c, &o, out);
		w->sw.stage = NULL; /* committed or discarded */
	}
	atr_put_abort(w);
	return rc;
}

void atr_put_write_type(struct atr_writer *w, enum atr_write_type t)
{
	w->write_type = t;
}

int atr_put_commit(struct atr_writer *w, const char *hdrs, struct atr_obj *out)
{
	unsigned char sum[MD5_LEN];
	char etag[ATR_ETAG_MAX + 1];
	atr_put_md5(w, sum);
	hex_encode(sum, MD5_LEN, etag);
	return writer_commit(w, etag, hdrs, w->tags, out);
}

int object_stat(struct atr_core *c, const struct atr_user *u, const char *bucket,
		const char *key, struct atr_obj *out, int etag)
{
	struct meta_row row = { 0 };
	const char *action = u->req && u->req->action ? u->req->action : "s3:GetObject";
	int rc = perm_find(c, u, action, PERM_R, bucket, key, &row, NULL, etag);
	if (!rc) {
		*out = row.obj;
		out->persist = row.persist;
	}
	return rc;
}

int atr_object_stat(struct atr_core *c, const struct atr_user *u, const char *bucket,
		    const char *key, struct atr_obj *out)
{
	return object_stat(c, u, bucket, key, out, 1);
}

int atr_put_condition(struct atr_writer *w, const struct atr_user *u, int must_not_exist,
		      const char *etag)
{
	/* The object as a reader would find it (synced with the UFS), whoever
	 * may read it: If-None-Match needs only the right to write. */
	struct meta_row row = { 0 };
	int rc = ns_find(w->c, w->bucket, w->key, &row, NULL, 1);
	if (rc && rc != ATR_E_NO_KEY)
		return rc;
	int exists = rc == ATR_OK;
	if (exists && etag &&
	    perm_check(w->c, u, "s3:GetObject", &w->b, w->key, &row, w->key, PERM_R))
		rc = ATR_E_ACCESS;
	else if (exists && must_not_exist)
		rc = ATR_E_PRECONDITION;
	else if (etag && !exists)
		rc = ATR_E_NO_KEY;
	else if (etag && strcmp(etag, "*") && strcasecmp(etag, row.obj.etag))
		rc = ATR_E_PRECONDITION;
	else
		rc = ATR_OK;
	if (exists)
		atr_obj_release(&row.obj);
	if (rc)
		return rc;
	w->must_not_exist |= must_not_exist;
	if (etag)
		snprintf(w->if_etag, sizeof(w->if_etag), "%s", etag);
	return ATR_OK;
}

/* ---- reading ---- */

int atr_get_open(struct atr_core *c, const struct atr_user *u, const char *bucket,
		 const char *key, struct atr_obj *obj, struct atr_reader **out)
{
	return object_get_open(c, u, bucket, key, obj, out, 1);
}

int object_get_open(struct atr_core *c, const struct atr_user *u, const char *bucket,
		    const char *key, struct atr_obj *obj, struct atr_reader **out, int etag)
{
	struct meta_row row = { 0 };
	struct ufs_file *f = NULL;
	int rc;
	/* A segmented encrypted object replaced between its row and its
	 * part sizes (reader_new's ATR_E_CONFLICT): the new one is read. A
	 * row found again unchanged has lost its sizes: ATR_E_IO. */
	for (int tries = 0;; tries++) {
		if ((rc = perm_find(c, u, "s3:GetObject", PERM_R, bucket, key, &row, &f, etag)))
			return rc;
		if (!(rc = reader_new(c, &row.obj, f, out)))
			break;
		atr_obj_release(&row.obj);
		if (rc != ATR_E_CONFLICT)
			return rc;
		if (tries == 3) {
			LOG(LOG_ERROR, "core: /%s/%s is in segments but has no part sizes",
			    bucket, key);
			return ATR_E_IO;
		}
	}
	(*out)->read_type = persist_read_type(c, bucket, 0); /* the bucket's, else the daemon's */
	reader_locate(*out, bucket, row.persist);
	*obj = row.obj;
	obj->persist = row.persist;
	return ATR_OK;
}

/* ---- deleting ---- */

int atr_object_delete(struct atr_core *c, const struct atr_user *u, const char *bucket,
		      const char *key)
{
	struct atr_delete_result d;
	return atr_object_delete_version(c, u, bucket, key, NULL, 0, &d); /* src/version.c */
}
