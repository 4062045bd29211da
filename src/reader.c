/*
 * reader — reading an object's bytes through the block cache: the data
 * path every view reads committed files by (src/atrium.h, atr_get_read).
 * A reader holds the file the row it was made from describes, so what it
 * reads is that version whatever replaces it meanwhile.
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "src/core_int.h"
#include "common/banned.h"

int reader_new(struct atr_core *c, const struct atr_obj *o, struct ufs_file *f,
	       struct atr_reader **out)
{
	struct atr_reader *r = calloc(1, sizeof(*r));
	if (!r) {
		if (f)
			ufs_close(c->ufs, f);
		return ATR_E_NOMEM;
	}
	r->c = c;
	r->f = f;
	r->ino = o->ino;
	r->version = o->version;
	r->size = o->is_dir ? 0 : o->size;
	r->read_type = c->read_type;
	r->sse = o->sse;
	pthread_mutex_init(&r->sse_lock, NULL);
	int rc;
	if (r->sse && f && (rc = sse_reader_open(c, r))) {
		atr_get_close(r);
		return rc;
	}
	*out = r;
	return ATR_OK;
}

/* bcache_fill_fn: block index of r's file from the under-storage. */
static int fill(void *arg, uint64_t index, void *buf, size_t len)
{
	struct atr_reader *r = arg;
	uint64_t start = index * r->c->block_size;
	ssize_t n = ufs_pread(r->c->ufs, r->f, buf, len, start);
	if (n != (ssize_t)len) {
		LOG(LOG_ERROR, "core: short read of inode %llu at %llu",
		    (unsigned long long)r->ino, (unsigned long long)start);
		return ATR_E_IO;
	}
	return ATR_OK;
}

/* Block index of r's file (fsize bytes) from the block cache, filled from
 * the under-storage on a miss; pinned, or NULL with *err. */
static struct bcache_block *file_block(struct atr_reader *r, uint64_t fsize, uint64_t index,
				       int *err)
{
	uint64_t bs = r->c->block_size;
	size_t want = (size_t)(fsize - index * bs < bs ? fsize - index * bs : bs);
	/* The read type (src/persist.c): CACHE leaves a disk tier's block
	 * there, CACHE_PROMOTE copies it to memory too, NO_CACHE caches
	 * nothing new. */
	int mode = r->read_type == ATR_RT_CACHE_PROMOTE ? 0
		   : r->read_type == ATR_RT_NO_CACHE	 ? BCACHE_NO_FILL | BCACHE_NO_PROMOTE
							 : BCACHE_NO_PROMOTE;
	return bcache_fetch_as(r->c->cache, r->ino, r->version, index, want, fill, r, mode, err);
}

int reader_file_read(struct atr_reader *r, uint64_t fsize, void *buf, size_t len, uint64_t off)
{
	uint64_t bs = r->c->block_size;
	for (size_t got = 0; got < len;) {
		uint64_t at = off + got, index = at / bs;
		int err = ATR_E_IO; /* past the file's end: shorter than it should be */
		struct bcache_block *b = at < fsize ? file_block(r, fsize, index, &err) : NULL;
		if (!b)
			return err;
		size_t in = (size_t)(at - index * bs), n = b->len > in ? b->len - in : 0;
		if (n > len - got)
			n = len - got;
		memcpy((char *)buf + got, b->data + in, n);
		bcache_unpin(r->c->cache, b);
		if (!n)
			return ATR_E_IO;
		got += n;
	}
	return ATR_OK;
}

int reader_file_load(struct atr_reader *r, uint64_t fsize)
{
	uint64_t bs = r->c->block_size;
	for (uint64_t index = 0; index * bs < fsize; index++) {
		int err = ATR_OK;
		struct bcache_block *b = file_block(r, fsize, index, &err);
		if (!b)
			return err;
		bcache_unpin(r->c->cache, b);
	}
	return ATR_OK;
}

int atr_get_read(struct atr_reader *r, uint64_t off, const void **data, size_t *len)
{
	struct atr_core *c = r->c;
	if (r->pinned) {
		bcache_unpin(c->cache, r->pinned);
		r->pinned = NULL;
	}
	if (off >= r->size) {
		*data = NULL;
		*len = 0;
		return ATR_OK;
	}
	if (r->sse)
		return sse_read(r, off, data, len); /* its ciphertext through the cache */
	uint64_t index = off / c->block_size;
	int err = ATR_OK;
	struct bcache_block *b = file_block(r, r->size, index, &err);
	if (!b)
		return err;
	r->pinned = b;
	size_t in = (size_t)(off - index * c->block_size);
	*data = b->data + in;
	*len = b->len - in;
	return ATR_OK;
}

void atr_get_read_type(struct atr_reader *r, enum atr_read_type t)
{
	if (t > ATR_RT_DEFAULT)
		r->read_type = t;
}

void atr_get_close(struct atr_reader *r)
{
	if (!r)
		return;
	if (r->pinned)
		bcache_unpin(r->c->cache, r->pinned);
	if (r->f && !r->borrowed)
		ufs_close(r->c->ufs, r->f);
	sse_reader_free(r);
	pthread_mutex_destroy(&r->sse_lock);
	free(r);
}

