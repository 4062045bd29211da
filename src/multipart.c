/*
 * multipart — S3 multipart uploads over the metadata store and the UFS's
 * part area.
 *
 * Lifecycle. Create writes an upload row. A part streams into a stage with
 * no lock held; then, under ns_lock, the stage moves into the part area
 * under a file name never used before and the part's row is upserted; the
 * file it replaced is unlinked afterwards. Completion checks the named
 * parts, assembles them into a stage (copy_file_range, piece by piece),
 * commits that with ns_commit_object() — the one commit path, so the object
 * appears and replaces the old one atomically — and then deletes the
 * upload's rows and its part area.
 *
 * Crash safety. A part's file is in place before a row names it and a row
 * is gone before its file is removed, so every row's file exists; files no
 * row names (a crash between the two steps) are removed by mpu_open at the
 * next start. Completion copies parts, never moves them: a crash during it
 * leaves the upload whole and the object old or whole new. A crash between
 * the object's commit and the rows' deletion leaves both, and completing
 * again yields the same object.
 *
 * Concurrency. ns_lock guards the mutations of upload and part rows and
 * mpu->busy, the uploads being completed. A completion marks its upload busy
 * for its whole length without holding ns_lock across the I/O; a part
 * commit, an abort or a second completion of a busy upload waits on
 * mpu->cond (with ns_lock), so the parts a completion reads never change
 * under it; its transactions are the kernel's (ns_txn_locked). Lock order:
 * ns_lock, then SQLite's write lock (ns_commit_object takes ns_lock
 * itself, so it is called without it).
 *
 * Retried completions. A client whose CompleteMultipartUpload response was
 * lost retries it; the upload is gone by then, and AWS answers the retry
 * with 200 and the object's ETag for a while rather than NoSuchUpload. So
 * mpu->recent remembers the last RECENT_MAX completions for RECENT_NS (in
 * memory only: a restart forgets them, and the retry is NoSuchUpload), and
 * a completion of an upload that is not there but was completed moments
 * ago, of the same bucket and key, naming the same parts with the same
 * ETags, by its initiator, the bucket's owner or the superuser, succeeds
 * again with the object as the first completion made it (ino and ETag).
 */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "src/ns_int.h"
#include "src/perm_int.h"
#include "common/banned.h"

/* Assembly goes in pieces this large, reporting progress after each. */
#define PIECE (64ULL << 20)

struct busy {
	const char *upload_id;
	struct busy *next;
};

#define RECENT_MAX 64
#define RECENT_NS (10 * 60 * 1000000000LL)

/* A completed upload (see "Retried completions" above). */
struct recent {
	char upload_id[ATR_UPLOAD_ID_LEN + 1]; /* "" for an empty slot */
	char bucket[ATR_BUCKET_MAX + 1];
	char key[ATR_KEY_MAX + 1];
	char initiator[ATR_USER_MAX + 1], bucket_owner[ATR_USER_MAX + 1];
	unsigned char parts[MD5_LEN];          /* parts_digest() of the parts named */
	uint64_t ino;
	char etag[ATR_ETAG_MAX + 1];
	int64_t at_ns;                         /* CLOCK_MONOTONIC */
};

struct mpu {
	pthread_cond_t cond;   /* a completion ended; waited on with ns_lock */
	struct busy *busy;     /* uploads being completed; guarded by ns_lock */
	unsigned long counter; /* makes part file names unique; atomic */
	struct recent recent[RECENT_MAX]; /* a ring; guarded by ns_lock */
	int recent_next;                  /* the slot written next; guarded by ns_lock */
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* MD5 of the part list as named: numbers and ETags (case-insensitive). */
static void parts_digest(const struct atr_mpu_part *parts, int n, unsigned char out[MD5_LEN])
{
	struct hash h;
	memset(out, 0, MD5_LEN);
	if (hash_init(&h, HASH_MD5))
		return;
	for (int i = 0; i < n; i++) {
		char line[ATR_ETAG_MAX + 24];
		int k = snprintf(line, sizeof(line), "%d:%s;", parts[i].number, parts[i].etag);
		for (int j = 0; j < k; j++)
			line[j] = (char)(line[j] >= 'A' && line[j] <= 'Z' ? line[j] + 32 : line[j]);
		hash_update(&h, line, (size_t)k);
	}
	hash_final(&h, out);
}

/* With ns_lock held: remembers a completion. */
static void recent_add(struct atr_core *c, const char *upload_id, const char *bucket,
		       const char *key, const char *initiator, const char *bucket_owner,
		       const unsigned char digest[MD5_LEN], const struct atr_obj *obj)
{
	struct mpu *m = c->mpu;
	struct recent *e = &m->recent[m->recent_next];
	m->recent_next = (m->recent_next + 1) % RECENT_MAX;
	snprintf(e->upload_id, sizeof(e->upload_id), "%s", upload_id);
	snprintf(e->bucket, sizeof(e->bucket), "%s", bucket);
	snprintf(e->key, sizeof(e->key), "%s", key);
	snprintf(e->initiator, sizeof(e->initiator), "%s", initiator);
	snprintf(e->bucket_owner, sizeof(e->bucket_owner), "%s", bucket_owner);
	memcpy(e->parts, digest, MD5_LEN);
	e->ino = obj->ino;
	snprintf(e->etag, sizeof(e->etag), "%s", obj->etag);
	e->at_ns = mono_ns();
}

/* A completion of an upload that is gone: ATR_OK with out (ino and ETag)
 * if it is the retry of a recent one that u may make, else
 * ATR_E_NO_UPLOAD. */
static int recent_find(struct atr_core *c, const struct atr_user *u, const char *upload_id,
		       const char *bucket, const char *key, const struct atr_mpu_part *parts,
		       int n, struct atr_obj *out)
{
	unsigned char digest[MD5_LEN];
	int rc = ATR_E_NO_UPLOAD;
	if (n < 1 || n > ATR_PART_MAX)
		return rc;
	parts_digest(parts, n, digest);
	int64_t now = mono_ns();
	ns_lock(c);
	for (int i = 0; i < RECENT_MAX; i++) {
		const struct recent *e = &c->mpu->recent[i];
		if (strcmp(e->upload_id, upload_id) || now - e->at_ns > RECENT_NS ||
		    strcmp(e->bucket, bucket) || strcmp(e->key, key) ||
		    memcmp(e->parts, digest, MD5_LEN))
			continue;
		if (u->superuser || (!u->anonymous && (!strcmp(u->name, e->initiator) ||
						       !strcmp(u->name, e->bucket_owner)))) {
			if (out) {
				memset(out, 0, sizeof(*out));
				out->ino = e->ino;
				snprintf(out->etag, sizeof(out->etag), "%s", e->etag);
			}
			rc = ATR_OK;
		}
		break;
	}
	ns_unlock(c);
	return rc;
}

static int have_part_ops(const struct atr_core *c)
{
	return ufs_can(c->ufs, UFS_CAP_PARTS);
}

/* 32 lower-case hex digits: anything else was never an upload ID (and is
 * never used as a name in the UFS). */
static int id_valid(const char *id)
{
	if (!id || strlen(id) != ATR_UPLOAD_ID_LEN)
		return 0;
	for (; *id; id++)
		if (!((*id >= '0' && *id <= '9') || (*id >= 'a' && *id <= 'f')))
			return 0;
	return 1;
}

/* With ns_lock held: returns once no completion of id is running. */
static void wait_idle(struct atr_core *c, const char *id)
{
	for (;;) {
		struct busy *b = c->mpu->busy;
		while (b && strcmp(b->upload_id, id))
			b = b->next;
		if (!b)
			return;
		ns_wait(c, &c->mpu->cond);
	}
}

/* Drops the rows of upload arg (its ID), if it is still there (a
 * completion or an abort may have ended it while the caller waited). */
static int upload_delete_fn(struct atr_core *c, void *arg)
{
	struct meta_mpu mu = { 0 };
	int rc = meta_mpu_get(c->meta, arg, &mu, 0);
	return rc ? rc : meta_mpu_delete(c->meta, arg);
}

/* The ETag over a running MD5 of the parts' binary MD5s (S3's rule: this
 * is not the MD5 of the object's bytes). Releases h. */
static void etag_finish(struct hash *h, int n, char out[ATR_ETAG_MAX + 1])
{
	unsigned char sum[MD5_LEN];
	hash_final(h, sum);
	hex_encode(sum, MD5_LEN, out);
	snprintf(out + 2 * MD5_LEN, ATR_ETAG_MAX + 1 - 2 * MD5_LEN, "-%d", n);
}

void atr_mpu_etag(const unsigned char (*md5s)[16], int n, char out[ATR_ETAG_MAX + 1])
{
	struct hash h;
	if (hash_init(&h, HASH_MD5)) {
		out[0] = '\0';
		return;
	}
	for (int i = 0; i < n; i++)
		hash_update(&h, md5s[i], MD5_LEN);
	etag_finish(&h, n, out);
}

/* The upload id of bucket/key, if u may do action on it: the initiator,
 * the bucket's owner and the superuser may, and whom the bucket policy
 * allows, unless it denies (b, may be NULL, receives the bucket). */
static int upload_get(struct atr_core *c, const struct atr_user *u, const char *action,
		      const char *bucket, const char *key, const char *id,
		      struct atr_bucket *b, struct meta_mpu *out, int want_hdrs)
{
	struct atr_bucket bk;
	if (!b)
		b = &bk;
	int rc = perm_bucket(c, u, bucket, NULL, 0, b);
	if (rc)
		return rc;
	if (!have_part_ops(c))
		return ATR_E_NOT_SUPPORTED; /* the UFS driver cannot hold parts */
	if (!id_valid(id))
		return ATR_E_NO_UPLOAD;
	if ((rc = meta_mpu_get(c->meta, id, out, want_hdrs)))
		return rc;
	rc = meta_mpu_checksum_get(c->meta, id, out->up.checksum_alg,
				   sizeof(out->up.checksum_alg));
	if (rc == ATR_E_NO_KEY)
		rc = ATR_OK;
	if (!rc && (strcmp(out->bucket, bucket) || strcmp(out->up.key, key)))
		rc = ATR_E_NO_UPLOAD;
	int said = rc ? 0 : perm_policy(c, u, action, b, key);
	if (!rc && (said < 0 || (!said && !u->superuser &&
				 (u->anonymous || (strcmp(u->name, out->up.owner) &&
						   strcmp(u->name, b->owner))))))
		rc = ATR_E_ACCESS;
	if (rc) {
		free(out->hdrs);
		out->hdrs = NULL;
	}
	return rc;
}

int atr_mpu_create(struct atr_core *c, const struct atr_user *u, const char *bucket,
		   const char *key, const char *hdrs, char upload_id[ATR_UPLOAD_ID_LEN + 1])
{
	struct atr_mpu_opts o = { .hdrs = hdrs };
	return atr_mpu_create_with(c, u, bucket, key, &o, upload_id);
}

/* An upload's rows: the upload, and its tags, ACL and checksum algorithm. */
struct new_upload {
	const struct meta_mpu *mu;
	const char *tags, *acl, *checksum_alg;
	const struct atr_lock *lock; /* asked for, or NULL */
};

static int new_upload_fn(struct atr_core *c, void *arg)
{
	struct new_upload *n = arg;
	const char *id = n->mu->up.upload_id;
	int rc = meta_mpu_insert(c->meta, n->mu);
	if (!rc && n->tags && *n->tags)
		rc = meta_mpu_tags_put(c->meta, id, n->tags);
	if (!rc && n->acl)
		rc = meta_mpu_acl_put(c->meta, id, n->acl);
	if (!rc && n->checksum_alg && *n->checksum_alg)
		rc = meta_mpu_checksum_put(c->meta, id, n->checksum_alg);
	if (!rc && n->lock)
		rc = meta_mpu_lock_put(c->meta, id, n->lock);
	return rc;
}

int atr_mpu_create_with(struct atr_core *c, const struct atr_user *u, const char *bucket,
			const char *key, const struct atr_mpu_opts *o,
			char upload_id[ATR_UPLOAD_ID_LEN + 1])
{
	struct meta_mpu mu = { 0 };
	struct atr_bucket b;
	unsigned char rnd[8];
	size_t klen = strlen(key);
	const char *tags = o->tags, *checksum_alg = o->checksum_alg;
	char *acl = NULL;
	int rc = perm_bucket(c, u, bucket, NULL, 0, &b);
	if (rc || (rc = atr_key_valid(key)) ||
	    (rc = perm_write_key(c, u, "s3:PutObject", &b, key)) ||
	    (rc = acl_allowed(&b, o->acl)))
		return rc;
	if (u->anonymous)
		return ATR_E_ACCESS; /* an upload needs an initiator to go on with it */
	if (klen && key[klen - 1] == '/' && !ufs_can_at(c->ufs, bucket, UFS_CAP_RENAME))
		return ATR_E_INVALID_ARG; /* a marker with bytes needs the side form */
	if (checksum_alg && strlen(checksum_alg) > ATR_CHECKSUM_ALG_MAX)
		return ATR_E_INVALID_ARG;
	if (!have_part_ops(c))
		return ATR_E_NOT_SUPPORTED;
	const struct atr_lock *lock = o->lock && (o->lock->mode || o->lock->hold >= 0) ? o->lock
										       : NULL;
	if (lock && !b.objlock)
		return ATR_E_NO_LOCK;
	if ((rc = obj_lock_may(c, u, bucket, lock)))
		return rc;
	int sse = o->sse;
	unsigned char check[CRYPT_CHECK];
	if ((sse == ATR_SSE_C) != !!o->sse_key)
		return ATR_E_INVALID_ARG; /* SSE-C comes with its key, nothing else does */
	if (!sse && (rc = atr_bucket_sse(c, bucket, &sse)))
		return rc;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return ATR_E_INTERNAL;
	memset(&mu, 0, sizeof(mu));
	mu.up.sse = sse;
	if (o->write_type < 0 || o->write_type > ATR_WT_ASYNC_THROUGH)
		return ATR_E_INVALID_ARG;
	mu.up.write_type = o->write_type;
	/* SSE-C: the key is never kept, only its salted check, against which
	 * each part's and the completion's key is compared. */
	if (sse == ATR_SSE_C) {
		if (crypt_key_check_make(o->sse_key, check))
			return ATR_E_INTERNAL;
		hex_encode(check, sizeof(check), mu.sse_check);
	}
	mu.up.ctime_ns = time_now_ns();
	/* Creation time first, so that IDs sort in the order of creation. */
	snprintf(mu.up.upload_id, sizeof(mu.up.upload_id), "%016llx",
		 (unsigned long long)mu.up.ctime_ns);
	hex_encode(rnd, sizeof(rnd), mu.up.upload_id + 16);
	snprintf(mu.bucket, sizeof(mu.bucket), "%s", bucket);
	snprintf(mu.up.key, sizeof(mu.up.key), "%s", key);
	snprintf(mu.up.owner, sizeof(mu.up.owner), "%s", u->name);
	mu.hdrs = (char *)o->hdrs;
	if (o->acl && acl_encode(o->acl, &acl))
		return ATR_E_NOMEM;
	struct new_upload nu = { &mu, tags, acl, checksum_alg, lock };
	rc = ns_txn(c, new_upload_fn, &nu);
	free(acl);
	if (!rc)
		memcpy(upload_id, mu.up.upload_id, ATR_UPLOAD_ID_LEN + 1);
	if (!rc && o->sse_out)
		*o->sse_out = sse;
	return rc;
}

/* ---- parts ---- */

/* SSE-C: whether key is the one the upload was created with (ATR_OK,
 * ATR_E_ACCESS). */
static int key_matches(const struct meta_mpu *mu, const unsigned char *key)
{
	unsigned char check[CRYPT_CHECK];
	if (hex_decode(mu->sse_check, strlen(mu->sse_check), check, sizeof(check))) {
		LOG(LOG_ERROR, "mpu: SSE-C upload %s has no key check", mu->up.upload_id);
		return ATR_E_IO;
	}
	return crypt_key_check(check, key) ? ATR_E_ACCESS : ATR_OK;
}

struct atr_part_writer {
	struct atr_core *c;
	char upload_id[ATR_UPLOAD_ID_LEN + 1];
	int number;
	struct stage_writer sw;
	char alg[ATR_CHECKSUM_ALG_MAX + 1];        /* the upload's */
	char checksum[ATR_PART_CHECKSUM_MAX + 1]; /* this part's, "" for none */
	int sse;                                  /* the upload's */
	int refuse; /* SSE-C's key missing, or one for an upload without: every byte's error */
};

const char *atr_mpu_part_checksum_alg(const struct atr_part_writer *w) { return w->alg; }

int atr_mpu_part_sse(const struct atr_part_writer *w) { return w->sse; }

int atr_mpu_part_set_checksum(struct atr_part_writer *w, const char *checksum)
{
	if (!checksum)
		checksum = "";
	if (strlen(checksum) > ATR_PART_CHECKSUM_MAX || strchr(checksum, '\n'))
		return ATR_E_INVALID_ARG;
	snprintf(w->checksum, sizeof(w->checksum), "%s", checksum);
	return ATR_OK;
}

int atr_mpu_part_begin(struct atr_core *c, const struct atr_user *u, const char *bucket,
		       const char *key, const char *upload_id, int number,
		       struct atr_part_writer **out)
{
	return atr_mpu_part_begin_key(c, u, bucket, key, upload_id, number, NULL, out);
}

int atr_mpu_part_begin_key(struct atr_core *c, const struct atr_user *u, const char *bucket,
			   const char *key, const char *upload_id, int number,
			   const unsigned char *sse_key, struct atr_part_writer **out)
{
	struct meta_mpu mu = { 0 };
	if (number < 1 || number > ATR_PART_MAX)
		return ATR_E_INVALID_ARG;
	int rc = upload_get(c, u, "s3:PutObject", bucket, key, upload_id, NULL, &mu, 0);
	if (rc)
		return rc;
	if (sse_key && mu.up.sse == ATR_SSE_C && (rc = key_matches(&mu, sse_key)))
		return rc; /* before any byte is stored */
	struct atr_part_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return ATR_E_NOMEM;
	w->c = c;
	w->number = number;
	memcpy(w->upload_id, upload_id, ATR_UPLOAD_ID_LEN + 1);
	memcpy(w->alg, mu.up.checksum_alg, sizeof(w->alg));
	w->sse = mu.up.sse;
	if ((rc = stage_writer_init(c, &w->sw, 1))) {
		free(w);
		return rc;
	}
	/* An encrypted upload's parts are encrypted too (each its own
	 * stream, its own data key): no plaintext waits in the part area. */
	/* SSE-C: under the customer's key, checked above; without it the
	 * writer takes no byte (the front end answers before any comes). */
	if (w->sse == ATR_SSE_C && !sse_key)
		w->refuse = ATR_E_ACCESS;
	else if (w->sse != ATR_SSE_C && sse_key)
		w->refuse = ATR_E_INVALID_ARG; /* a key for an upload that has none */
	if (w->sse && !w->refuse &&
	    (rc = sse_writer_start_part(c, &w->sw, w->sse, w->sse == ATR_SSE_C ? sse_key : NULL,
					number, upload_id))) {
		atr_mpu_part_abort(w);
		return rc;
	}
	*out = w;
	return ATR_OK;
}

int atr_mpu_part_write(struct atr_part_writer *w, const void *data, size_t len)
{
	if (w->refuse)
		return w->refuse;
	return stage_writer_write(w->c, &w->sw, data, len);
}

void atr_mpu_part_md5(struct atr_part_writer *w, unsigned char out[16])
{
	stage_writer_md5(&w->sw, out);
}

uint64_t atr_mpu_part_size(const struct atr_part_writer *w) { return w->sw.size; }

void atr_mpu_part_abort(struct atr_part_writer *w)
{
	if (!w)
		return;
	stage_writer_release(w->c, &w->sw);
	free(w);
}

struct part_row {
	const struct atr_part_writer *w;
	const struct meta_mpu_part *p;
};

static int part_row_fn(struct atr_core *c, void *arg)
{
	struct part_row *r = arg;
	int rc = meta_mpu_part_put(c->meta, r->w->upload_id, r->p);
	return rc ? rc : meta_mpu_part_checksum_put(c->meta, r->w->upload_id, r->w->number,
						    r->w->checksum);
}

int atr_mpu_part_commit(struct atr_part_writer *w, struct atr_mpu_part *out)
{
	struct atr_core *c = w->c;
	struct meta_mpu mu = { 0 };
	struct meta_mpu_part p, old;
	struct ufs_stat st;
	unsigned char sum[MD5_LEN];
	int had = 0, rc;

	memset(&p, 0, sizeof(p));
	if (w->refuse) {
		rc = w->refuse;
		atr_mpu_part_abort(w);
		return rc;
	}
	if ((rc = sse_writer_finish(c, &w->sw))) { /* an encrypted part's last chunk */
		atr_mpu_part_abort(w);
		return rc;
	}
	/* SSE-C: the ETag is the MD5 of the part's ciphertext, as a PUT's
	 * (sse_writer_etag): no hash of the plaintext is kept. */
	if (!sse_writer_etag(&w->sw, p.p.etag)) {
		atr_mpu_part_md5(w, sum);
		hex_encode(sum, MD5_LEN, p.p.etag);
	}
	p.p.number = w->number;
	p.p.size = w->sw.size;
	/* A name never used before: a row can then never name bytes other
	 * than its own, whatever a crash interrupts. */
	unsigned long n = __atomic_add_fetch(&c->mpu->counter, 1, __ATOMIC_RELAXED);
	snprintf(p.file, sizeof(p.file), "%05d-%016llx-%lx", w->number,
		 (unsigned long long)time_now_ns(), n);

	ns_lock(c);
	wait_idle(c, w->upload_id);
	/* Completed or aborted while the body streamed? */
	if ((rc = meta_mpu_get(c->meta, w->upload_id, &mu, 0)))
		goto unlock;
	had = meta_mpu_part_get(c->meta, w->upload_id, w->number, &old) == ATR_OK;
	if ((rc = ufs_part_commit(c->ufs, w->sw.stage, w->upload_id, p.file, &st)))
		goto unlock; /* the stage is still w's: atr_mpu_part_abort drops it */
	w->sw.stage = NULL; /* the part's file now */
	p.p.mtime_ns = st.mtime_ns;
	/* The row and its checksum (or none: a replaced part's goes) together. */
	struct part_row pr = { w, &p };
	if ((rc = ns_txn_locked(c, part_row_fn, &pr)))
		ufs_part_unlink(c->ufs, w->upload_id, p.file);
	else
		snprintf(p.p.checksum, sizeof(p.p.checksum), "%s", w->checksum);
unlock:
	ns_unlock(c);
	if (!rc && had && strcmp(old.file, p.file))
		ufs_part_unlink(c->ufs, w->upload_id, old.file); /* replaced */
	if (!rc && out)
		*out = p.p;
	atr_mpu_part_abort(w);
	return rc;
}

/* ---- listing parts ---- */

struct part_lister {
	struct atr_core *c;
	const char *upload_id;
	int checksums;          /* the upload has a checksum algorithm */
	atr_mpu_part_cb cb;
	void *arg;
	int max, count, truncated, err;
};

static int on_part(void *arg, const struct meta_mpu_part *p)
{
	struct part_lister *l = arg;
	struct atr_mpu_part part = p->p;
	if (l->count == l->max) {
		l->truncated = 1;
		return 1;
	}
	l->count++;
	if (l->checksums) {
		int rc = meta_mpu_part_checksum_get(l->c->meta, l->upload_id, part.number,
						    part.checksum, sizeof(part.checksum));
		if (rc && rc != ATR_E_NO_KEY) {
			l->err = rc;
			return 1;
		}
	}
	return l->cb(l->arg, &part);
}

int atr_mpu_list_parts(struct atr_core *c, const struct atr_user *u, const char *bucket,
		       const char *key, const char *upload_id, int after, int max,
		       struct atr_mpu *upload, atr_mpu_part_cb cb, void *arg, int *truncated)
{
	struct meta_mpu mu = { 0 };
	struct part_lister l = { .c = c, .upload_id = upload_id, .cb = cb, .arg = arg,
				 .max = max < 0 ? 0 : max };
	int rc = upload_get(c, u, "s3:ListMultipartUploadParts", bucket, key, upload_id, NULL,
			    &mu, 0);
	if (rc)
		return rc;
	if (upload)
		*upload = mu.up;
	l.checksums = *mu.up.checksum_alg != '\0';
	rc = meta_mpu_part_scan(c->meta, upload_id, after < 0 ? 0 : after, on_part, &l);
	*truncated = l.truncated;
	return rc ? rc : l.err;
}

/* ---- completion ---- */

/* Every named part is there with the ETag named and all but the last are
 * big enough; computes the object's ETag and size. */
static int check_parts(struct atr_core *c, const char *id, const struct atr_mpu_part *parts,
		       int n, uint64_t min_part_size, char etag[ATR_ETAG_MAX + 1],
		       uint64_t *total, uint64_t *sizes, char *sums)
{
	struct hash h;
	int rc = ATR_OK, small = 0;
	if (hash_init(&h, HASH_MD5))
		return ATR_E_NOMEM;
	*total = 0;
	for (int i = 0; i < n && !rc; i++) {
		struct meta_mpu_part p;
		unsigned char sum[MD5_LEN];
		if ((rc = meta_mpu_part_get(c->meta, id, parts[i].number, &p)))
			break;
		if (strcasecmp(p.p.etag, parts[i].etag) ||
		    hex_decode(p.p.etag, 2 * MD5_LEN, sum, MD5_LEN)) {
			rc = ATR_E_INVALID_PART;
			break;
		}
		if (i < n - 1 && p.p.size < min_part_size)
			small = 1;
		if (sums) {
			/* The part's checksum, as its upload kept it, on its line. */
			size_t at = strlen(sums);
			if (i)
				sums[at++] = '\n';
			rc = meta_mpu_part_checksum_get(c->meta, id, parts[i].number, sums + at,
							ATR_PART_CHECKSUM_MAX + 1);
			if (rc == ATR_E_NO_KEY) {
				sums[at] = '\0';
				rc = ATR_OK;
			}
			if (rc)
				break;
		}
		hash_update(&h, sum, MD5_LEN);
		*total += p.p.size;
		sizes[i] = p.p.size;
	}
	if (!rc && small)
		rc = ATR_E_PART_TOO_SMALL;
	if (rc) {
		hash_release(&h);
		return rc;
	}
	etag_finish(&h, n, etag);
	return ATR_OK;
}

/* Copies the named parts, in order, into a new stage (an encrypted
 * upload's, sse: each part's file whole, its own encrypted stream). */
static int assemble(struct atr_core *c, const char *id, const struct atr_mpu_part *parts, int n,
		    uint64_t total, int sse, atr_progress_cb progress, void *arg,
		    struct ufs_stage **out)
{
	struct ufs_stage *stage;
	uint64_t done = 0;
	int rc = ufs_stage_open(c->ufs, &stage);
	if (rc)
		return rc;
	for (int i = 0; i < n && !rc; i++) {
		struct meta_mpu_part p;
		if ((rc = meta_mpu_part_get(c->meta, id, parts[i].number, &p)))
			break;
		uint64_t fsize = sse ? crypt_file_size(p.p.size) : p.p.size;
		for (uint64_t off = 0; off < fsize && !rc; off += PIECE) {
			uint64_t len = fsize - off < PIECE ? fsize - off : PIECE;
			rc = ufs_stage_append_part(c->ufs, stage, id, p.file, off, len);
			done += len;
			if (!rc && progress)
				progress(arg, done, total);
		}
	}
	if (rc) {
		LOG(LOG_ERROR, "mpu: assembling upload %s failed: %s", id, atr_strerror(rc));
		ufs_stage_abort(c->ufs, stage);
		return rc;
	}
	*out = stage;
	return ATR_OK;
}

int atr_mpu_complete(struct atr_core *c, const struct atr_user *u, const char *bucket,
		     const char *key, const char *upload_id, const struct atr_mpu_part *parts,
		     int n, uint64_t min_part_size, atr_progress_cb progress, void *arg,
		     struct atr_obj *out)
{
	return atr_mpu_complete_with(c, u, bucket, key, upload_id, parts, n, min_part_size, NULL,
				     NULL, progress, arg, out);
}

/* A completion in progress: the upload, what the object gets from it. */
struct completion {
	struct meta_mpu mu;
	struct atr_bucket b;
	struct atr_acl *acl;          /* the upload's ACL, or NULL */
	char *acl_text, *tags, *sums, *hdrs;
	char owner[ATR_USER_MAX + 1];
	char etag[ATR_ETAG_MAX + 1];
	uint64_t total, *sizes;
	char vid[ATR_VID_MAX + 1];    /* the new version's id, chosen first */
	struct atr_lock lock;         /* the upload's Object Lock */
	struct atr_obj made;          /* the object, once committed */
};

static void completion_release(struct completion *cp)
{
	free(cp->tags);
	free(cp->sizes);
	free(cp->sums);
	free(cp->hdrs);
	free(cp->acl);
	free(cp->acl_text);
	free(cp->mu.hdrs);
}

/* What a completion of the upload (cp->mu, found) needs before it reads a
 * part: the initiator's right to write the key, the upload's ACL and the
 * object's owner, room for the parts' sizes and checksums, the stored
 * headers with extra_hdrs, and the parts in order. */
static int completion_check(struct atr_core *c, const struct atr_user *u, const char *key,
			    const char *id, const struct atr_mpu_part *parts, int n,
			    const char *extra_hdrs, struct completion *cp)
{
	/* Writing the object is the initiator's act, checked again now. */
	struct atr_user initiator = { .name = cp->mu.up.owner };
	int rc = perm_write_key(c, u->superuser ? u : &initiator, "s3:PutObject", &cp->b, key);
	if (rc)
		return rc;
	rc = meta_mpu_acl_get(c->meta, id, &cp->acl_text);
	if (rc == ATR_OK && (cp->acl = malloc(sizeof(*cp->acl))))
		acl_decode(cp->acl_text, cp->acl);
	else if (rc == ATR_OK)
		rc = ATR_E_NOMEM;
	if (rc && rc != ATR_E_NO_KEY)
		return rc;
	acl_owner(&initiator, &cp->b, cp->acl, cp->owner);
	if (n < 1 || n > ATR_PART_MAX)
		return ATR_E_INVALID_ARG;
	if (!(cp->sizes = malloc((size_t)n * sizeof(*cp->sizes))) ||
	    (*cp->mu.up.checksum_alg &&
	     !(cp->sums = calloc((size_t)n, ATR_PART_CHECKSUM_MAX + 2))))
		return ATR_E_NOMEM;
	if (extra_hdrs && *extra_hdrs) {
		size_t a = cp->mu.hdrs ? strlen(cp->mu.hdrs) : 0, b = strlen(extra_hdrs);
		if (!(cp->hdrs = malloc(a + b + 1)))
			return ATR_E_NOMEM;
		memcpy(cp->hdrs, cp->mu.hdrs ? cp->mu.hdrs : "", a);
		memcpy(cp->hdrs + a, extra_hdrs, b + 1);
	}
	for (int i = 1; i < n; i++)
		if (parts[i].number <= parts[i - 1].number)
			return ATR_E_PART_ORDER;
	return ATR_OK;
}

/* Marks the upload busy (me), once no other completion of it runs; a
 * completion or an abort may have ended it meanwhile (ATR_E_NO_UPLOAD). */
static int busy_begin(struct atr_core *c, struct busy *me)
{
	struct meta_mpu now = { 0 };
	ns_lock(c);
	wait_idle(c, me->upload_id);
	int rc = meta_mpu_get(c->meta, me->upload_id, &now, 0);
	if (!rc) {
		me->next = c->mpu->busy;
		c->mpu->busy = me;
	}
	ns_unlock(c);
	return rc;
}

/* The end of a completion (committed: rc 0): the upload's rows go, and it
 * is remembered for a retry; it is no longer busy. 1 if its rows went. */
static int busy_end(struct atr_core *c, struct busy *me, int rc,
		    const char *bucket, const char *key, const struct atr_mpu_part *parts, int n,
		    const struct completion *cp)
{
	int gone = 0;
	ns_lock(c);
	if (!rc) {
		/* The object is in place: the upload is over. */
		int drc = ns_txn_locked(c, upload_delete_fn, (void *)me->upload_id);
		if (drc)
			LOG(LOG_ERROR, "mpu: upload %s is complete but its rows remain: %s",
			    me->upload_id, atr_strerror(drc));
		if ((gone = !drc)) {
			unsigned char digest[MD5_LEN];
			parts_digest(parts, n, digest);
			recent_add(c, me->upload_id, bucket, key, cp->mu.up.owner, cp->b.owner,
				   digest, &cp->made);
		}
	}
	for (struct busy **b = &c->mpu->busy; *b; b = &(*b)->next)
		if (*b == me) {
			*b = me->next;
			break;
		}
	pthread_cond_broadcast(&c->mpu->cond);
	ns_unlock(c);
	return gone;
}

/* Whether parts are numbered 1..n (gaps are allowed in S3). */
static int parts_from_one(const struct atr_mpu_part *parts, int n)
{
	for (int i = 0; i < n; i++)
		if (parts[i].number != i + 1)
			return 0;
	return 1;
}

int atr_mpu_complete_with(struct atr_core *c, const struct atr_user *u, const char *bucket,
			  const char *key, const char *upload_id, const struct atr_mpu_part *parts,
			  int n, uint64_t min_part_size, const char *extra_hdrs,
			  const unsigned char *sse_key, atr_progress_cb progress, void *arg,
			  struct atr_obj *out)
{
	struct completion cp = { 0 };
	struct busy me = { .upload_id = upload_id };
	struct ufs_stage *stage = NULL;
	int rc = upload_get(c, u, "s3:PutObject", bucket, key, upload_id, &cp.b, &cp.mu, 1);
	if (rc)
		return rc == ATR_E_NO_UPLOAD
			       ? recent_find(c, u, upload_id, bucket, key, parts, n, out)
			       : rc;
	/* An encrypted upload's parts become the object's segments as they
	 * are (src/crypt_int.h) when they are parts 1..n: segment i must say
	 * part i + 1. Otherwise (parts left out) they are joined into one
	 * stream, which for SSE-C takes the key. */
	int segments = cp.mu.up.sse && parts_from_one(parts, n);
	/* SSE-C: a key given must be the upload's (AWS takes it, and needs
	 * none: neither do segments). Nothing else takes one. */
	if (cp.mu.up.sse == ATR_SSE_C)
		rc = sse_key ? key_matches(&cp.mu, sse_key) : segments ? ATR_OK : ATR_E_INVALID_ARG;
	else if (sse_key)
		rc = ATR_E_INVALID_ARG;
	if (rc)
		goto out;
	if ((rc = completion_check(c, u, key, upload_id, parts, n, extra_hdrs, &cp)))
		goto out;
	if ((rc = busy_begin(c, &me))) {
		/* The same completion, sent twice at once: the first made it. */
		if (rc == ATR_E_NO_UPLOAD)
			rc = recent_find(c, u, upload_id, bucket, key, parts, n, out);
		goto out;
	}
	rc = meta_mpu_tags_get(c->meta, upload_id, &cp.tags);
	if (rc == ATR_E_NO_KEY)
		rc = ATR_OK;
	if (!rc)
		rc = meta_mpu_lock_get(c->meta, upload_id, &cp.lock);
	if (!rc && !(rc = check_parts(c, upload_id, parts, n, min_part_size, cp.etag, &cp.total,
				      cp.sizes, cp.sums))) {
		/* The new version's id, chosen now: a 200 that starts before
		 * the commit says it (src/atrium.h). */
		if (out && !(rc = ns_version_next(c, bucket, key, out->vid)))
			snprintf(cp.vid, sizeof(cp.vid), "%s", out->vid);
		if (!rc && progress)
			progress(arg, 0, cp.total);
		if (!rc)
			rc = assemble(c, upload_id, parts, n, cp.total, cp.mu.up.sse, progress, arg, &stage);
	}
	if (!rc && segments) {
		/* No byte decrypted: n headers read, to find a part file
		 * changed in the part area now rather than at a read. */
		rc = sse_segments_check(c, stage, cp.sizes, n, cp.mu.up.sse, upload_id);
		if (rc == SSE_PARTS_OLD) { /* joined, as parts left out are */
			segments = 0;
			rc = cp.mu.up.sse == ATR_SSE_C && !sse_key ? ATR_E_INVALID_ARG : ATR_OK;
		}
	}
	if (!rc && !segments && cp.mu.up.sse) {
		/* The parts' streams decrypted and encrypted again as one
		 * stream under the object's own data key (the ETag stays the
		 * multipart one). */
		struct ufs_stage *enc = NULL;
		rc = sse_stage_join(c, stage, cp.sizes, n, cp.mu.up.sse, sse_key, time_now_ns(),
				    &enc);
		ufs_stage_abort(c->ufs, stage);
		stage = enc;
	}
	if (!rc) {
		struct ns_object o = { .owner = cp.owner, .bucket = bucket, .key = key,
				       .stage = stage, .etag = cp.etag,
				       .hdrs = cp.hdrs ? cp.hdrs : cp.mu.hdrs, .part_sizes = cp.sizes,
				       .nparts = n, .tags = cp.tags, .part_sums = cp.sums,
				       .acl = cp.acl, .sse = cp.mu.up.sse, .plain_size = cp.total,
				       .segments = segments, .write_type = cp.mu.up.write_type,
				       .vid = cp.vid, .lock = &cp.lock };
		rc = ns_commit_object(c, &o, &cp.made); /* consumes the stage */
	} else if (stage) {
		ufs_stage_abort(c->ufs, stage); /* its segments did not check */
	}
	if (busy_end(c, &me, rc, bucket, key, parts, n, &cp))
		ufs_part_remove_upload(c->ufs, upload_id);
	if (!rc && out)
		*out = cp.made;
out:
	completion_release(&cp);
	return rc;
}

int atr_object_part(struct atr_core *c, const struct atr_obj *o, int number, uint64_t *off,
		    uint64_t *len, int *count)
{
	uint64_t *sizes, sum = 0;
	int n;
	*off = 0;
	*len = o->is_dir ? 0 : o->size;
	*count = 0;
	if (number < 1 || number > ATR_PART_MAX)
		return ATR_E_INVALID_ARG;
	int rc = meta_obj_parts_get(c->meta, o->ino, o->version, &sizes, &n);
	if (rc == ATR_E_NO_KEY)
		return number == 1 ? ATR_OK : ATR_E_INVALID_PART; /* one part: all of it */
	if (rc)
		return rc;
	for (int i = 0; i < n; i++)
		sum += sizes[i];
	if (sum != o->size) {
		/* Not the bytes the parts made (rewritten behind our back
		 * with the same version): the object is one part now. */
		free(sizes);
		return number == 1 ? ATR_OK : ATR_E_INVALID_PART;
	}
	*count = n;
	if (number > n) {
		free(sizes);
		return ATR_E_INVALID_PART;
	}
	for (int i = 0; i < number - 1; i++)
		*off += sizes[i];
	*len = sizes[number - 1];
	free(sizes);
	return ATR_OK;
}

int atr_object_part_checksum(struct atr_core *c, const struct atr_obj *o, int number,
			     char *out, size_t n, uint64_t *len)
{
	uint64_t off;
	int count;
	char *sums;
	int rc = atr_object_part(c, o, number, &off, len, &count);
	if (n)
		*out = '\0';
	if (rc == ATR_E_INVALID_ARG)
		rc = ATR_E_INVALID_PART;
	if (!rc && count == 0)
		rc = ATR_E_NO_KEY; /* one part: not a multipart object */
	if (rc || (rc = meta_obj_part_sums_get(c->meta, o->ino, o->version, &sums)))
		return rc;
	/* Line number-1 of sums; parts without a checksum have an empty one. */
	const char *p = sums;
	for (int i = 1; i < number && p; i++)
		if ((p = strchr(p, '\n')))
			p++;
	size_t l = p ? strcspn(p, "\n") : 0;
	if (!p || l == 0 || l >= n) {
		rc = p && l ? ATR_E_INTERNAL : ATR_E_NO_KEY;
	} else {
		memcpy(out, p, l);
		out[l] = '\0';
	}
	free(sums);
	return rc;
}

int atr_mpu_abort(struct atr_core *c, const struct atr_user *u, const char *bucket,
		  const char *key, const char *upload_id)
{
	struct meta_mpu mu = { 0 };
	int rc = upload_get(c, u, "s3:AbortMultipartUpload", bucket, key, upload_id, NULL, &mu,
			    0);
	if (rc)
		return rc;
	ns_lock(c);
	wait_idle(c, upload_id);
	rc = ns_txn_locked(c, upload_delete_fn, (void *)upload_id);
	ns_unlock(c);
	/* Rows first, files after: no row ever names a missing file. */
	if (!rc)
		ufs_part_remove_upload(c->ufs, upload_id);
	return rc;
}

/* ---- listing uploads ---- */

struct mpu_lister {
	const struct atr_mpu_list_params *p;
	const char *marker;     /* key_marker, NULL if none */
	size_t prefix_len, delim_len;
	atr_mpu_list_cb cb;
	void *arg;
	int count, truncated, stop, jumped;
	/* where the scan resumes after a jump past a common prefix */
	char next_key[ATR_KEY_MAX + 2];
};

static int mpu_emit(struct mpu_lister *l, const char *item, int is_prefix,
		    const struct atr_mpu *up)
{
	if (l->count == l->p->max) {
		l->truncated = 1;
		l->stop = 1;
		return 1;
	}
	struct atr_mpu_item it = { .key = item, .is_prefix = is_prefix, .upload = up };
	l->count++;
	if (l->cb(l->arg, &it))
		l->stop = 1;
	return l->stop;
}

static int on_upload(void *arg, const struct meta_mpu *mu)
{
	struct mpu_lister *l = arg;
	const char *key = mu->up.key;
	if (strncmp(key, l->p->prefix, l->prefix_len)) {
		l->stop = 1; /* rows come in key order: past the prefix */
		return 1;
	}
	const char *d = l->delim_len ? strstr(key + l->prefix_len, l->p->delimiter) : NULL;
	if (!d)
		return mpu_emit(l, key, 0, &mu->up);
	/* A common prefix: listed once, unless an earlier page did (it is
	 * not above the marker); then the scan jumps past all its keys. */
	char cp[ATR_KEY_MAX + 2];
	size_t n = (size_t)(d - key) + l->delim_len;
	memcpy(cp, key, n);
	cp[n] = '\0';
	if ((!l->marker || strcmp(cp, l->marker) > 0) && mpu_emit(l, cp, 1, NULL))
		return 1;
	if (key_successor(cp, l->next_key, sizeof(l->next_key)))
		l->stop = 1; /* nothing can sort above it */
	else
		l->jumped = 1;
	return 1;
}

int atr_mpu_list(struct atr_core *c, const struct atr_user *u, const char *bucket,
		 const struct atr_mpu_list_params *p, atr_mpu_list_cb cb, void *arg,
		 int *truncated)
{
	struct mpu_lister l = { .p = p, .cb = cb, .arg = arg };
	char from_key[ATR_KEY_MAX + 2], from_id[ATR_UPLOAD_ID_LEN + 2];
	/* Uploads in progress are for those who may write the bucket. */
	int rc = perm_bucket(c, u, bucket, "s3:ListBucketMultipartUploads", PERM_W, NULL);
	*truncated = 0;
	if (rc)
		return rc;
	l.marker = p->key_marker && *p->key_marker ? p->key_marker : NULL;
	l.prefix_len = strlen(p->prefix);
	l.delim_len = p->delimiter ? strlen(p->delimiter) : 0;
	/* Rows come after (from_key, from_id); IDs are hex, so "~" is above
	 * them all and "" below them all. */
	snprintf(from_key, sizeof(from_key), "%s", l.marker ? l.marker : "");
	snprintf(from_id, sizeof(from_id), "%s",
		 !l.marker ? "" : p->upload_id_marker && *p->upload_id_marker ?
		 p->upload_id_marker : "~");
	if (strcmp(p->prefix, from_key) > 0) {
		snprintf(from_key, sizeof(from_key), "%s", p->prefix);
		from_id[0] = '\0';
	}
	do {
		l.jumped = 0;
		rc = meta_mpu_scan(c->meta, bucket, from_key, from_id, on_upload, &l);
		if (l.jumped) {
			memcpy(from_key, l.next_key, sizeof(from_key));
			from_id[0] = '\0';
		}
	} while (!rc && l.jumped && !l.stop);
	*truncated = l.truncated;
	return rc;
}

/* ---- a deleted bucket's uploads ---- */

struct first_upload {
	char id[ATR_UPLOAD_ID_LEN + 1];
	int found;
};

static int take_first(void *arg, const struct meta_mpu *mu)
{
	struct first_upload *f = arg;
	memcpy(f->id, mu->up.upload_id, sizeof(f->id));
	f->found = 1;
	return 1;
}

void mpu_bucket_deleted(struct atr_core *c, const char *bucket)
{
	if (!have_part_ops(c))
		return;
	for (;;) {
		struct first_upload f = { .found = 0 };
		if (meta_mpu_scan(c->meta, bucket, "", "", take_first, &f) || !f.found)
			return;
		ns_lock(c);
		wait_idle(c, f.id);
		int rc = ns_txn_locked(c, upload_delete_fn, f.id);
		ns_unlock(c);
		if (rc && rc != ATR_E_NO_KEY)
			return; /* left for the next start's sweep to find unchanged */
		if (!rc)
			ufs_part_remove_upload(c->ufs, f.id);
	}
}

/* ---- start-up ---- */

struct gc {
	struct atr_core *c;
	const char *upload;
	int removed;
};

/* A part file no row names: left by a crash between file and row. */
static int gc_part(void *arg, const char *name, const struct ufs_stat *st)
{
	struct gc *g = arg;
	struct meta_mpu_part p;
	long number = strtol(name, NULL, 10); /* names start with the part number */
	if (number >= 1 && number <= ATR_PART_MAX &&
	    meta_mpu_part_get(g->c->meta, g->upload, (int)number, &p) == ATR_OK &&
	    !strcmp(p.file, name))
		return 0;
	if (!ufs_part_unlink(g->c->ufs, g->upload, name))
		g->removed++;
	return 0;
}

static int gc_upload(void *arg, const char *name, const struct ufs_stat *st)
{
	struct gc *g = arg;
	struct meta_mpu mu = { 0 };
	if (id_valid(name) && meta_mpu_get(g->c->meta, name, &mu, 0) == ATR_OK) {
		struct gc parts = { .c = g->c, .upload = name };
		ufs_part_readdir(g->c->ufs, name, gc_part, &parts);
		g->removed += parts.removed;
		return 0;
	}
	/* No upload row: aborted or completed before the files went. */
	if (!ufs_part_remove_upload(g->c->ufs, name))
		g->removed++;
	return 0;
}

int mpu_open(struct atr_core *c)
{
	struct mpu *m = calloc(1, sizeof(*m));
	if (!m)
		return ATR_E_NOMEM;
	pthread_cond_init(&m->cond, NULL);
	c->mpu = m;
	if (!have_part_ops(c))
		return ATR_OK;
	struct gc g = { .c = c };
	int rc = ufs_part_readdir(c->ufs, NULL, gc_upload, &g);
	if (g.removed)
		LOG(LOG_INFO, "mpu: removed %d staged part file(s) or upload(s) no upload names",
		    g.removed);
	return rc;
}

void mpu_close(struct atr_core *c)
{
	if (!c->mpu)
		return;
	pthread_cond_destroy(&c->mpu->cond);
	free(c->mpu);
	c->mpu = NULL;
}
