/*
 * copy — CopyObject in the core: a new object made from an open reader.
 *
 * When the source's ETag is the MD5 of its bytes (anything but a multipart
 * upload's), the copy has the same ETag and its bytes go file to file
 * inside the under-storage (ufs stage_copy: copy_file_range, a reflink
 * where the file system has them), never through this process. A
 * multipart source's ETag is not an MD5 of its bytes, and S3 gives the
 * copy the MD5 of its bytes, so those pass through the block cache into
 * the stage, hashed on the way. Either way nothing holds the object in
 * memory, and the commit is a PUT's: ns_commit_object, atomic, replacing
 * whatever was at the key.
 */
#include <stdio.h>
#include <string.h>

#include "common/hash.h"
#include "src/ns_int.h"
#include "common/banned.h"

#define EMPTY_MD5 "d41d8cd98f00b204e9800998ecf8427e"

static int is_md5_hex(const char *etag)
{
	size_t n = strspn(etag, "0123456789abcdefABCDEF");
	return n == 32 && etag[n] == '\0';
}

/* Streams the source through the cache into w, hashing. */
static int copy_through_cache(struct atr_reader *src, struct atr_writer *w,
			      char etag[ATR_ETAG_MAX + 1])
{
	unsigned char sum[MD5_LEN];
	int rc;
	for (uint64_t off = 0; off < src->size;) {
		const void *data;
		size_t len;
		if ((rc = atr_get_read(src, off, &data, &len)))
			return rc;
		if (len == 0)
			return ATR_E_IO; /* shorter than its row said */
		if ((rc = atr_put_write(w, data, len)))
			return rc;
		off += len;
	}
	atr_put_md5(w, sum);
	hex_encode(sum, MD5_LEN, etag);
	return ATR_OK;
}

int atr_object_copy(struct atr_core *c, const struct atr_user *u, struct atr_reader *src,
		    const char *src_etag, const char *bucket, const char *key, const char *hdrs,
		    const char *tags, struct atr_obj *out)
{
	struct atr_copy_opts o = { .hdrs = hdrs, .tags = tags };
	return atr_object_copy_with(c, u, src, src_etag, bucket, key, &o, out);
}

int atr_object_copy_with(struct atr_core *c, const struct atr_user *u, struct atr_reader *src,
			 const char *src_etag, const char *bucket, const char *key,
			 const struct atr_copy_opts *o, struct atr_obj *out)
{
	char etag[ATR_ETAG_MAX + 1] = EMPTY_MD5;
	struct atr_writer *w;
	int rc = atr_put_begin(c, u, bucket, key, src->size, &w);
	if (rc)
		return rc;
	atr_put_write_type(w, (enum atr_write_type)o->write_type);
	/* Checked before a byte is copied, and again inside the commit. */
	if ((o->lock && (rc = atr_put_lock(w, u, o->lock))) ||
	    ((o->must_not_exist || o->if_etag) &&
	     (rc = atr_put_condition(w, u, o->must_not_exist, o->if_etag))) ||
	    (o->acl && (rc = atr_put_acl(w, o->acl))) ||
	    (o->sse && (rc = atr_put_sse(w, o->sse, o->sse_key)))) {
		atr_put_abort(w);
		return rc;
	}
	if (w->is_dir && !src->size) {
		rc = ATR_OK; /* a plain directory marker */
	} else if (w->is_dir && (rc = writer_need_stage(w))) {
		; /* a marker with bytes: the side form, or refused without it */
	} else if (src->size && src->f && ufs_can(c->ufs, UFS_CAP_SERVER_COPY) &&
		   is_md5_hex(src_etag) && !src->sse && !w->sse) {
		/* (An encrypted source or copy goes through the reader and the
		 * writer: decrypted, encrypted again under its own data key.) */
		rc = ufs_stage_copy(c->ufs, w->sw.stage, src->f, 0, src->size);
		w->sw.size = src->size;
		snprintf(etag, sizeof(etag), "%s", src_etag);
	} else {
		rc = copy_through_cache(src, w, etag);
	}
	if (rc) {
		atr_put_abort(w);
		return rc;
	}
	return writer_commit(w, etag, o->hdrs, o->tags, out);
}
