/*
 * node_file — the mount's open files (src/atrium.h, "the mount's view"):
 * reads, writes, flushes and closes, and setattr, whose size and time
 * changes go through an open file's shadow.
 *
 * Every inode with open files has a struct inode (node.c's table). Its
 * shadow is a stage (a private file of the UFS) holding the file as
 * written so far: made on the first write (a copy of the current bytes,
 * or empty for O_TRUNC and new files), shared by every descriptor, and
 * committed by flush through ns_commit_bytes, the same step a PUT ends
 * with. The MD5 runs along while writes come in order; anything else (a
 * seek back, a hole, a truncate) has it computed from the committed file
 * after the commit (etag.c). Lock order: src/node_int.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "src/idmap_int.h"
#include "src/node_int.h"
#include "src/perm_int.h"
#include "src/persist_int.h"
#include "common/banned.h"

static void shadow_publish(struct inode *in)
{
	__atomic_store_n(&in->shown_size, in->size, __ATOMIC_RELAXED);
	__atomic_store_n(&in->shown_mtime, in->mtime_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&in->shown_ctime, in->ctime_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&in->shown, in->stage != NULL, __ATOMIC_RELAXED);
}

void shadow_drop(struct atr_core *c, struct inode *in)
{
	in->md5_open = 0;
	if (in->stage)
		ufs_stage_abort(c->ufs, in->stage);
	in->stage = NULL;
	in->dirty = 0;
	shadow_publish(in);
}

/* ---- shadows ---- */

/* The inode's shadow exists afterwards (in->lock held): a copy of the
 * committed bytes, or empty with trunc. */
static int shadow_make(struct atr_core *c, struct inode *in, int trunc, struct atr_reader *gone)
{
	/* A shadow is written at any offset: an under-storage that can only
	 * append to a stage (S3's) holds no shadow, and the mount cannot
	 * write its files. */
	if (!ufs_can(c->ufs, UFS_CAP_RANDOM_WRITE))
		return ATR_E_NOT_SUPPORTED;
	if (in->stage) {
		if (trunc && in->size) {
			int rc = ufs_stage_truncate(c->ufs, in->stage, 0);
			if (rc)
				return rc;
			in->size = 0;
			in->dirty = 1;
			md5mb_init(&in->md5);
			in->md5_open = 1;
			in->md5_off = 0;
		}
		return ATR_OK;
	}
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	int rc = node_row(c, in->ino, bucket, key, &row, 0);
	if (rc == ATR_E_NO_KEY) {
		/* Unlinked or replaced while open: it is written all the same,
		 * and its bytes go nowhere, as an unlinked file's. */
		if ((rc = ufs_stage_open(c->ufs, &in->stage)))
			return rc;
		in->size = 0;
		in->md5_open = 0;
		in->dirty = 0;
		uint64_t keep = !trunc && gone ? gone->size : 0;
		if (keep && (rc = gone->sse ? sse_reader_to_stage(gone, in->stage, keep)
					    : ufs_stage_copy(c->ufs, in->stage, gone->f, 0, keep))) {
			shadow_drop(c, in);
			return rc;
		}
		in->size = keep;
		return ATR_OK;
	}
	if (rc)
		return rc;
	if (row.obj.is_dir)
		return ATR_E_KEY_IS_PREFIX;
	if (row.obj.sse == ATR_SSE_C)
		return ATR_E_ACCESS; /* its key is the client's: the mount has none */
	if ((rc = ufs_stage_open(c->ufs, &in->stage)))
		return rc;
	in->size = 0;
	in->md5_off = 0;
	in->md5_open = 0;
	in->dirty = trunc || row.pending;
	in->mtime_ns = in->ctime_ns = time_now_ns();
	if (!trunc && !row.pending && row.obj.size) {
		char path[PATH_MAX_UFS];
		struct ufs_file *f;
		struct ufs_stat st;
		if (key_path(path, sizeof(path), bucket, key))
			rc = ATR_E_KEY_TOO_LONG;
		else if (!(rc = ufs_open(c->ufs, path, &f, &st)) && row.obj.sse) {
			/* An encrypted file: its plaintext in the private stage,
			 * encrypted again at commit (shadow_commit). */
			struct atr_reader *r;
			if (!(rc = reader_new(c, &row.obj, f, &r))) {
				rc = sse_reader_to_stage(r, in->stage, row.obj.size);
				in->size = row.obj.size;
				atr_get_close(r);
			} else if (rc == ATR_E_CONFLICT) {
				rc = ATR_E_IO; /* replaced meanwhile (reader_new) */
			}
		} else if (!rc) {
			rc = ufs_stage_copy(c->ufs, in->stage, f, 0, st.size);
			in->size = st.size;
			ufs_close(c->ufs, f);
		}
		if (rc) {
			shadow_drop(c, in);
			return rc;
		}
		return ATR_OK; /* MD5 recomputed at commit */
	}
	md5mb_init(&in->md5);
	in->md5_open = 1;
	return ATR_OK;
}

int shadow_ensure(struct atr_core *c, struct inode *in, int trunc, struct atr_reader *gone)
{
	int rc = shadow_make(c, in, trunc, gone);
	shadow_publish(in);
	return rc;
}

/* Above this, a commit whose MD5 did not run along with its writes hands
 * the hashing to etag's worker; at or below it the committing thread
 * hashes the committed file itself (a few ms). */
#define ETAG_INLINE_MAX (8u << 20)

/* The shadow's MD5 as it ran along with the writes, or "" when they did
 * not all come in order (it is computed after the commit: etag.c). */
static void shadow_md5(struct inode *in, char etag[ATR_ETAG_MAX + 1])
{
	unsigned char sum[MD5_LEN];
	*etag = '\0';
	if (in->md5_open && in->md5_off == in->size) {
		md5mb_final(&in->md5, sum);
		in->md5_open = 0;
		hex_encode(sum, MD5_LEN, etag);
	}
}

/* Commits a dirty shadow (in->lock held). Unlinked meanwhile: it stays,
 * the bytes of a file every descriptor still reads and writes (until the
 * last one is closed, as on a local file system), and goes nowhere. */
int shadow_commit(struct atr_core *c, struct inode *in)
{
	if (in->werr) {
		/* It misses a write (and may hold part of it): committing it
		 * would publish a torn file. The last commit stands. */
		shadow_drop(c, in);
		return in->werr;
	}
	if (!in->stage || !in->dirty)
		return ATR_OK;
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2], etag[ATR_ETAG_MAX + 1];
	struct meta_row row = { 0 };
	int rc = node_row(c, in->ino, bucket, key, &row, 0);
	if (rc == ATR_E_NO_KEY || (!rc && !*bucket))
		return ATR_OK; /* no name (an O_TMPFILE file): nowhere to commit to */
	if (rc)
		return rc;
	/* Encrypted at rest: a file that was (SSE-S3), or any file of a
	 * bucket encrypted by default, is committed as the ciphertext of
	 * its shadow (which stays plaintext in the private area while it
	 * is written: docs/mount.md). */
	int sse = row.obj.sse;
	if (!sse && (rc = atr_bucket_sse(c, bucket, &sse)))
		return rc;
	struct ufs_stage *stage = NULL;
	if (sse) {
		if ((rc = sse_stage_encrypt(c, in->stage, in->size, in->mtime_ns, &stage, etag)))
			return rc;
		ufs_stage_abort(c->ufs, in->stage);
		in->stage = NULL;
	} else {
		shadow_md5(in, etag);
		/* The file's mtime is what stat showed while it was open: its
		 * last write's, or the one a program set after it (tar, cp -p,
		 * rsync set times before they close); the commit's own time
		 * must not overwrite it (a driver without UFS_CAP_TIMES: it
		 * does). */
		if (ufs_can(c->ufs, UFS_CAP_TIMES) &&
		    (rc = ufs_stage_set_mtime(c->ufs, in->stage, in->mtime_ns)))
			return rc;
		stage = in->stage;
		in->stage = NULL; /* the commit consumes it */
	}
	struct atr_obj out = { 0 };
	rc = ns_commit_bytes_sse(c, in->ino - 1, stage, etag, sse, in->size, &out);
	if (!rc)
		in->pending = 0; /* the row is an object now */
	/* The cost of an ETag read back is not the writer's to wait for
	 * (a sparse 8 GiB truncate wrote nothing): the worker hashes a large
	 * file, and an S3 reader waits for it or hashes it (etag.c). A small
	 * one is hashed now; if that fails, its first reader tries again. */
	if (!rc && !*etag && in->size > ETAG_INLINE_MAX)
		etag_schedule(c, obj_node(&out), out.version);
	else if (!rc && !*etag)
		etag_settle(c, NULL, NULL, &out, 1);
	atr_obj_release(&out);
	shadow_drop(c, in);
	__atomic_add_fetch(&in->gen, 1, __ATOMIC_RELEASE);
	return rc == ATR_E_NO_KEY ? ATR_OK : rc;
}

/* ---- open files ---- */

static int reader_open(struct atr_file *f);

/* An open file of inode ino; its attributes are remembered in f->in (what
 * an unlinked open file shows) when remember is set, else the caller's
 * attr_fill does it. */
int file_make(struct atr_core *c, uint64_t ino, int write, int remember,
		     struct atr_file **out)
{
	struct atr_file *f = calloc(1, sizeof(*f));
	if (!f || !(f->in = inode_get(c, ino))) {
		free(f);
		return ATR_E_NOMEM;
	}
	f->c = c;
	f->write = write;
	pthread_rwlock_init(&f->lock, NULL);
	if (write) {
		pthread_mutex_lock(&f->in->lock);
		f->in->writers++;
		pthread_mutex_unlock(&f->in->lock);
	}
	struct atr_attr a;
	if (remember)
		atr_node_getattr(c, ino, &a);
	*out = f;
	return ATR_OK;
}

static int file_new(struct atr_core *c, uint64_t ino, int write, struct atr_file **out)
{
	return file_make(c, ino, write, 1, out);
}

/* Opens the ghost of ino: the caller's path walk found the name before
 * the replacement, as one racing rename(2) on a local file system finds
 * the old file. Reads see the old bytes; writes go nowhere, as to a file
 * unlinked while open. */
static int ghost_open(struct atr_core *c, uint64_t ino, int flags, struct atr_file **f)
{
	struct nodes *n = c->nodes;
	pthread_mutex_lock(&n->lock);
	struct ghost *g = node_ghost_find(n, ino);
	if (g)
		g->refs++;
	pthread_mutex_unlock(&n->lock);
	if (!g)
		return ATR_E_NO_KEY;
	struct atr_reader *r = reader_alloc(c, ino - 1, g->version, g->attr.size, g->sse, g->f);
	int rc = ATR_E_NOMEM;
	if (r) {
		r->borrowed = 1; /* the ghost's file */
		r->sizes = g->sizes; /* the ghost's: it lives while r reads it */
		r->nsizes = g->nsizes;
		rc = g->sse == ATR_SSE_C ? ATR_E_ACCESS : g->sse ? sse_reader_open(c, r) : ATR_OK;
		if (rc == ATR_E_CONFLICT)
			rc = ATR_E_IO; /* its part sizes went with its row (ghost_make) */
	}
	if (!rc)
		rc = file_new(c, ino, (flags & ATR_OPEN_WRITE) != 0, f);
	if (rc) {
		atr_get_close(r);
		pthread_mutex_lock(&n->lock);
		g->refs--;
		pthread_mutex_unlock(&n->lock);
		return rc;
	}
	(*f)->ghost = g;
	(*f)->rd = r;
	(*f)->rd_gen = __atomic_load_n(&(*f)->in->gen, __ATOMIC_ACQUIRE);
	return ATR_OK;
}

int atr_node_open(struct atr_core *c, uint64_t ino, int flags, struct atr_file **f)
{
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	int rc = node_row(c, ino, bucket, key, &row, 0);
	if (rc == ATR_E_NO_KEY)
		return ghost_open(c, ino, flags, f);
	if (rc)
		return rc;
	if (row.obj.is_dir)
		return ATR_E_KEY_IS_PREFIX;
	if (row.obj.sse == ATR_SSE_C)
		return ATR_E_ACCESS; /* SSE-C: the key is the client's, the mount has none */
	/* Object Lock: a locked current version is not written in place
	 * (its commit checks again: ns_commit_bytes). */
	if ((flags & ATR_OPEN_WRITE) && !row.pending &&
	    (rc = ns_lock_check(c, bucket, key, row.obj.vid, 0)))
		return rc;
	if ((rc = file_new(c, ino, (flags & ATR_OPEN_WRITE) != 0, f)))
		return rc;
	if (!row.pending && !(flags & ATR_OPEN_TRUNC)) {
		/* Its bytes as of now: they stay readable if it is unlinked or
		 * replaced (S3) while open. */
		pthread_rwlock_wrlock(&(*f)->lock);
		rc = reader_open(*f);
		pthread_rwlock_unlock(&(*f)->lock);
		if (rc) {
			atr_file_close(*f);
			/* Replaced since row_of: its ghost holds what it was. */
			return rc == ATR_E_NO_KEY ? ghost_open(c, ino, flags, f) : rc;
		}
	}
	if (flags & ATR_OPEN_TRUNC) {
		pthread_mutex_lock(&(*f)->in->lock);
		rc = shadow_ensure(c, (*f)->in, 1, NULL);
		pthread_mutex_unlock(&(*f)->in->lock);
		if (rc) {
			atr_file_close(*f);
			return rc;
		}
	}
	return ATR_OK;
}

/* Bytes to read: a committed file or a shadow. */
struct source {
	struct atr_core *c;
	struct ufs_file *file;
	struct ufs_stage *stage;
};

/* Reads [off, off + len) of a source of size bytes into buf; *got is
 * short only at the end. */
static int read_upto(const struct source *src, uint64_t size, void *buf, size_t len,
		     uint64_t off, size_t *got)
{
	struct ufs *u = src->c->ufs;
	*got = 0;
	while (*got < len && off + *got < size) {
		size_t want = len - *got;
		if (want > size - (off + *got))
			want = (size_t)(size - (off + *got));
		char *to = (char *)buf + *got;
		ssize_t n = src->file ? ufs_pread(u, src->file, to, want, off + *got)
				      : ufs_stage_pread(u, src->stage, to, want, off + *got);
		if (n < 0)
			return ATR_E_IO;
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return ATR_OK;
}

/* Opens the committed version for reading (f->lock held for writing). */
static int reader_open(struct atr_file *f)
{
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	struct ufs_file *uf = NULL;
	int rc;
	f->rd_gen = __atomic_load_n(&f->in->gen, __ATOMIC_ACQUIRE);
	if (!(rc = node_row(f->c, f->in->ino, bucket, key, &row, 0)) &&
	    !(rc = ns_find(f->c, bucket, key, &row, &uf, 0))) {
		atr_obj_release(&row.obj);
		if (!(rc = reader_new(f->c, &row.obj, uf, &f->rd))) {
			f->rd->read_type = persist_read_type(f->c, bucket, 0); /* the mount point's */
			reader_locate(f->rd, bucket, row.persist);
		} else if (rc == ATR_E_CONFLICT) {
			rc = ATR_E_NO_KEY; /* replaced since (reader_new): this inode is gone */
		}
		if (!rc && obj_node(&row.obj) + 1 != f->in->ino) {
			/* Replaced between the two lookups: this inode is gone. */
			atr_get_close(f->rd);
			f->rd = NULL;
			rc = ATR_E_NO_KEY;
		}
	}
	return rc;
}

static int read_committed(struct atr_file *f, void *buf, size_t len, uint64_t off, size_t *got)
{
	int rc = ATR_OK;
	pthread_rwlock_rdlock(&f->lock);
	while (!f->rd || (f->rd_gen != __atomic_load_n(&f->in->gen, __ATOMIC_ACQUIRE) &&
			  !f->ghost)) {
		/* None yet, or committed through the mount since: (re)open,
		 * alone; readers of the same file otherwise run in parallel. */
		pthread_rwlock_unlock(&f->lock);
		pthread_rwlock_wrlock(&f->lock);
		if (!f->rd || (f->rd_gen != __atomic_load_n(&f->in->gen, __ATOMIC_ACQUIRE) &&
			       !f->ghost)) {
			struct atr_reader *old = f->rd;
			f->rd = NULL;
			rc = reader_open(f);
			if (rc == ATR_E_NO_KEY && old) {
				/* Replaced or unlinked since: what it was stays readable. */
				f->rd = old;
				rc = ATR_OK;
			} else if (old) {
				atr_get_close(old);
			}
		}
		pthread_rwlock_unlock(&f->lock);
		if (rc)
			return rc;
		pthread_rwlock_rdlock(&f->lock);
	}
	/* A local file straight from the file: the kernel's page cache is
	 * the mount's cache, and a 4 KiB read should cost 4 KiB, not a 1 MiB
	 * block. A remote store's through the block cache, with read-ahead:
	 * there a 4 KiB read costs a round trip as a 1 MiB block does. An
	 * encrypted file is decrypted by the chunks the read touches. */
	struct source src = { f->c, f->rd->f, NULL };
	rc = f->rd->sse	     ? sse_pread(f->rd, buf, len, off, got)
	     : f->rd->remote ? reader_pread(f->rd, buf, len, off, got)
			     : read_upto(&src, f->rd->size, buf, len, off, got);
	pthread_rwlock_unlock(&f->lock);
	return rc;
}

int atr_file_read(struct atr_file *f, void *buf, size_t len, uint64_t off, size_t *got)
{
	struct inode *in = f->in;
	pthread_mutex_lock(&in->lock);
	if (!in->stage) {
		pthread_mutex_unlock(&in->lock);
		return read_committed(f, buf, len, off, got);
	}
	struct source src = { f->c, NULL, in->stage };
	int rc = read_upto(&src, in->size, buf, len, off, got);
	pthread_mutex_unlock(&in->lock);
	return rc;
}

int atr_file_write(struct atr_file *f, const void *buf, size_t len, uint64_t off)
{
	struct inode *in = f->in;
	struct atr_core *c = f->c;
	if (!f->write)
		return ATR_E_ACCESS;
	pthread_mutex_lock(&in->lock);
	int rc = in->werr;
	if (!rc && !in->stage) {
		/* f->rd: the bytes to start from if the inode lost its last
		 * name (f->lock guards it; lock order: inode, then file). */
		pthread_rwlock_rdlock(&f->lock);
		rc = shadow_ensure(c, in, 0, f->rd);
		pthread_rwlock_unlock(&f->lock);
	}
	/* The shadow is torn (see shadow_commit), except past the largest
	 * file the under-storage holds: then nothing was written. */
	if (!rc && (rc = ufs_stage_pwrite(c->ufs, in->stage, buf, len, off)) &&
	    rc != ATR_E_FILE_TOO_BIG)
		in->werr = rc;
	if (!rc) {
		if (in->md5_open && off == in->md5_off && in->md5_off == in->size) {
			md5mb_engine_update(c->md5, &in->md5, buf, len);
			in->md5_off += len;
		} else if (in->md5_open) {
			in->md5_open = 0; /* out of order: recomputed at commit */
		}
		if (off + len > in->size)
			in->size = off + len;
		in->dirty = 1;
		in->mtime_ns = in->ctime_ns = time_now_ns();
		shadow_publish(in);
	}
	pthread_mutex_unlock(&in->lock);
	return rc;
}

int atr_file_flush(struct atr_file *f)
{
	if (!f->write)
		return ATR_OK; /* a reader's close publishes no one's writes */
	pthread_mutex_lock(&f->in->lock);
	int rc = shadow_commit(f->c, f->in);
	pthread_mutex_unlock(&f->in->lock);
	return rc;
}

void atr_file_close(struct atr_file *f)
{
	if (!f)
		return;
	if (f->rd)
		atr_get_close(f->rd);
	if (f->ghost)
		node_ghost_unref(f->c, f->ghost);
	if (f->write) {
		pthread_mutex_lock(&f->in->lock);
		f->in->writers--;
		pthread_mutex_unlock(&f->in->lock);
	}
	pthread_rwlock_destroy(&f->lock);
	inode_put(f->c, f->in);
	free(f);
}

/* ---- attributes ---- */

/* A new size, in the inode's shadow (in->lock held). gone: an open file
 * of the inode, whose bytes the shadow starts from if the inode has lost
 * its last name (NULL: none at hand). */
static int shadow_resize(struct atr_core *c, struct inode *in, uint64_t size,
			 struct atr_file *gone)
{
	if (gone)
		pthread_rwlock_rdlock(&gone->lock);
	int rc = shadow_ensure(c, in, size == 0, gone ? gone->rd : NULL);
	if (gone)
		pthread_rwlock_unlock(&gone->lock);
	if (!rc && size != in->size && !(rc = ufs_stage_truncate(c->ufs, in->stage, size))) {
		if (size < in->md5_off)
			in->md5_open = 0;
		in->size = size;
		in->dirty = 1;
		in->mtime_ns = in->ctime_ns = time_now_ns();
		shadow_publish(in);
	}
	return rc;
}

/* setattr on an open file whose last name is gone: it changes the inode
 * as its open files see it, as on a local file system (in->lock held;
 * the size was changed in the shadow). ATR_E_NO_KEY if in never had
 * attributes remembered. */
static int setattr_unlinked(struct atr_core *c, struct inode *in, const struct atr_setattr *s,
			    struct atr_attr *a)
{
	int rc = ATR_E_NO_KEY;
	pthread_mutex_lock(&c->nodes->lock);
	struct atr_attr *l = &in->last;
	if (l->ino == in->ino) {
		if (s->valid & ATR_SET_MODE)
			l->mode = (l->mode & S_IFMT) | (s->mode & 07777);
		if (s->valid & ATR_SET_UID)
			l->uid = s->uid;
		if (s->valid & ATR_SET_GID)
			l->gid = s->gid;
		if (s->valid & ATR_SET_ATIME)
			l->atime_ns = s->atime_ns;
		if ((s->valid & ATR_SET_MTIME) && in->stage) {
			in->mtime_ns = s->mtime_ns; /* what the shadow shows */
			shadow_publish(in);
		} else if (s->valid & ATR_SET_MTIME) {
			l->mtime_ns = s->mtime_ns;
		}
		l->ctime_ns = time_now_ns();
		*a = *l;
		a->nlink = 0;
		node_attr_shadow(in, a);
		rc = ATR_OK;
	}
	pthread_mutex_unlock(&c->nodes->lock);
	return rc;
}

/* The change of a setattr to the row, in the kernel's transaction. */
struct setattr_args {
	uint64_t ino;
	const struct atr_setattr *s;
	struct inode *in;       /* the open inode, in->lock held; NULL: none */
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row;    /* as written */
};

static int setattr_fn(struct atr_core *c, void *arg)
{
	struct setattr_args *sa = arg;
	const struct atr_setattr *s = sa->s;
	struct meta_row *row = &sa->row;
	struct inode *in = sa->in;
	int rc = node_row(c, sa->ino, sa->bucket, sa->key, row, 1);
	if (rc)
		return rc;
	struct meta_row before = *row; /* its permissions; hdrs stay row's */
	int64_t now = time_now_ns();
	if (s->valid & ATR_SET_MODE)
		row->obj.mode = s->mode & 07777;
	if (s->valid & ATR_SET_UID) {
		node_owner(c, s->uid, row->obj.owner);
		if (!*sa->key && (rc = meta_bucket_set_owner(c->meta, sa->bucket, row->obj.owner)))
			return rc;
	}
	if (s->valid & ATR_SET_GID)
		row->obj.gid = s->gid;
	if (s->valid & ATR_SET_ATIME)
		row->obj.atime_ns = s->atime_ns;
	if (in && in->stage && in->dirty) {
		/* Being written: the shadow's mtime is the file's, and its
		 * commit gives it to the file (shadow_commit). */
		if (s->valid & ATR_SET_MTIME) {
			in->mtime_ns = s->mtime_ns;
			in->ctime_ns = now;
			shadow_publish(in);
		}
	} else if ((s->valid & (ATR_SET_MTIME | ATR_SET_ATIME)) && !row->pending) {
		char path[PATH_MAX_UFS];
		struct ufs_stat st;
		int64_t mt = s->valid & ATR_SET_MTIME ? s->mtime_ns : 0;
		if (key_path(path, sizeof(path), sa->bucket, sa->key))
			return ATR_E_KEY_TOO_LONG;
		if (!mt && ufs_stat(c->ufs, path, &st) == ATR_OK)
			mt = st.mtime_ns;
		/* The UFS file's mtime is the row's (metadata sync compares them). */
		if (mt && (rc = ufs_utimens(c->ufs, path, row->obj.atime_ns, mt, &st)))
			return rc;
		if (mt && !row->obj.is_dir)
			row->obj.mtime_ns = st.mtime_ns;
	}
	row->obj.ctime_ns = now;
	rc = meta_obj_set_posix(c->meta, row);
	if (!rc && row->obj.is_dir) /* implied directories below follow it */
		rc = perm_follow(c, sa->bucket, sa->key, &before, row, 0, NULL);
	return rc;
}

int atr_node_setattr(struct atr_core *c, uint64_t ino, struct atr_file *f,
		     const struct atr_setattr *s, struct atr_attr *a)
{
	int rc = ATR_OK;
	if (ino == ATR_INO_ROOT)
		return ATR_E_NOT_SUPPORTED;
	if (s->valid & ATR_SET_SIZE) {
		/* Object Lock: a locked current version keeps its size. */
		char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
		struct meta_row row = { 0 };
		if (!node_row(c, ino, bucket, key, &row, 0) && !row.pending && !row.obj.is_dir &&
		    (rc = ns_lock_check(c, bucket, key, row.obj.vid, 0)))
			return rc;
	}
	/* The open inode, if any (a size change makes a short-lived one):
	 * its lock is held throughout, so no flush or write comes between
	 * the change and its commit (lock order: inode, then ns_lock). */
	struct inode *in = s->valid & ATR_SET_SIZE ? inode_get(c, ino) : inode_ref(c, ino);
	if (!in && (s->valid & ATR_SET_SIZE))
		return ATR_E_NOMEM;
	struct setattr_args sa = { .ino = ino, .s = s, .in = in };
	if (in)
		pthread_mutex_lock(&in->lock);
	if (s->valid & ATR_SET_SIZE) {
		rc = shadow_resize(c, in, s->size, f && f->in == in ? f : NULL);
		/* Durable once this returns, whoever has the file open: now,
		 * unless a writer has it open, whose flush (at its close at
		 * the latest) commits it. A reader's close commits nothing. */
		if (!rc && !in->writers)
			rc = shadow_commit(c, in);
		if (rc)
			goto out;
	}
	rc = ns_txn(c, setattr_fn, &sa);
	if (!rc) {
		node_attr_fill(c, sa.bucket, sa.key, &sa.row.obj, a);
		if (sa.row.obj.is_dir && (s->valid & ATR_SET_MTIME))
			a->mtime_ns = s->mtime_ns;
	} else if (rc == ATR_E_NO_KEY && in) {
		rc = setattr_unlinked(c, in, s, a);
	}
out:
	if (in) {
		pthread_mutex_unlock(&in->lock);
		inode_put(c, in);
	}
	atr_obj_release(&sa.row.obj);
	return rc;
}