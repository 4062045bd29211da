/*
 * persist — Alluxio's write and read types over a remote bucket, the
 * persistence states and the persist worker (src/atrium.h, "Write and read
 * types"; docs/architecture.md, "Write types and persistence").
 *
 * What a write type does is decided once per commit (persist_plan), under
 * ns_lock, from the request's type, else the bucket's mount option, else
 * the daemon's default:
 *   - a bucket of the local under-storage: every object is PERSISTED (the
 *     local directory is the durable store), whatever the type;
 *   - MUST_CACHE, ASYNC_THROUGH in a remote bucket: the stage is renamed
 *     into the private area at ns_side_path(ino) (a file named by the
 *     row's inode, like the side form's), the row says NOT_PERSISTED or
 *     TO_BE_PERSISTED (objects.persist), and ASYNC_THROUGH's inode goes
 *     on the persist queue in the same transaction;
 *   - CACHE_THROUGH, THROUGH: the stage is uploaded inside the commit's
 *     transaction, before it commits (ns_commit.c), so a failed upload
 *     rolls the row back and owes nothing.
 *
 * Persisting one inode (persist_ino: the worker, atrium fs persist): the
 * held file is copied into a new stage (and its blocks into the cache) with
 * no lock held; then under ns_lock, if the row still has that version and
 * is not persisted, the stage is uploaded to the key (under the lock, so
 * a newer commit of the key can never be overwritten by older bytes) and
 * one transaction marks the row PERSISTED with the remote's mtime and
 * takes it off the queue; then the held file is unlinked. A crash before
 * the transaction leaves the queue entry (uploaded again at the next try:
 * the same bytes); one after it leaves a held file no row names, which the
 * start removes (ns_side_gc).
 *
 * The worker (thread "atr-persist") takes the queue's first due entry.
 * Backoff is per bucket, i.e. per mount point and its remote: a failure
 * puts the bucket's entries due later (100 ms doubling with each failure
 * in a row, to 5 s) and the worker goes on with the others, so one remote
 * down costs one attempt (and one stall of ns_lock, which the upload
 * holds) per period while entries of other remotes persist at once; an
 * entry of a bucket backing off that becomes due (a new commit) is put
 * off to the bucket's time untried. The queue drains once the remote
 * answers. It also
 * runs the TTLs that are due (atr_fs_set_ttl: delete the file, or free
 * its cached blocks) and, at each wake-up, reloads the pinned inodes
 * into the block cache (atr_fs_pin). Lock order:
 * ns_lock, then p->lock (a leaf: the worker sleeps on it with nothing
 * else held).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "src/bcache_int.h"
#include "src/ns_int.h"
#include "src/persist_int.h"
#include "common/banned.h"

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000
#define IDLE_MS 10000

/* A bucket whose persists failed: its remote backs off. */
struct backoff {
	char bucket[ATR_BUCKET_MAX + 1];
	int fails;        /* failed attempts in a row; 0: a free slot */
	int64_t until_ms; /* none of its entries is tried before */
};
/* Buckets backing off at once; past that, the one due first is forgotten
 * (it is tried again sooner, nothing else). */
#define BACKOFF_SLOTS 64

struct persister {
	pthread_mutex_t lock;
	pthread_cond_t kick;
	int stopping, kicked;  /* guarded by lock */
	int started;
	pthread_t worker;
	struct backoff down[BACKOFF_SLOTS]; /* the worker's alone: no lock */
};

/* ---- names ---- */

static const char *const wt_names[] = {
	[ATR_WT_MUST_CACHE] = "MUST_CACHE", [ATR_WT_CACHE_THROUGH] = "CACHE_THROUGH",
	[ATR_WT_THROUGH] = "THROUGH", [ATR_WT_ASYNC_THROUGH] = "ASYNC_THROUGH",
};
static const char *const rt_names[] = {
	[ATR_RT_CACHE] = "CACHE", [ATR_RT_CACHE_PROMOTE] = "CACHE_PROMOTE",
	[ATR_RT_NO_CACHE] = "NO_CACHE",
};

static int parse(const char *const *names, int n, const char *s)
{
	for (int i = 1; s && i < n; i++)
		if (!strcasecmp(s, names[i]))
			return i;
	return -1;
}

int atr_write_type_parse(const char *name)
{
	return parse(wt_names, (int)(sizeof(wt_names) / sizeof(*wt_names)), name);
}

int atr_read_type_parse(const char *name)
{
	return parse(rt_names, (int)(sizeof(rt_names) / sizeof(*rt_names)), name);
}

const char *atr_write_type_name(int t)
{
	return t > 0 && t < (int)(sizeof(wt_names) / sizeof(*wt_names)) ? wt_names[t] : "DEFAULT";
}

const char *atr_read_type_name(int t)
{
	return t > 0 && t < (int)(sizeof(rt_names) / sizeof(*rt_names)) ? rt_names[t] : "DEFAULT";
}

/* ---- which type ---- */

int persist_remote(struct atr_core *c, const char *bucket)
{
	/* Only the local driver renames: a bucket whose store cannot is a
	 * remote one (src/ufs_mux.c). */
	return bucket && *bucket && !ufs_can_at(c->ufs, bucket, UFS_CAP_RENAME);
}

int persist_write_type(struct atr_core *c, const char *bucket, int requested)
{
	int wt = requested, rt = 0;
	if (wt <= 0 && !mounts_types(c, bucket, &wt, &rt) && wt > 0)
		return wt;
	if (wt > 0)
		return wt;
	return c->write_type > 0 ? c->write_type : ATR_WT_CACHE_THROUGH;
}

int persist_read_type(struct atr_core *c, const char *bucket, int requested)
{
	int wt = 0, rt = requested;
	if (rt > 0)
		return rt;
	if (persist_remote(c, bucket) && !mounts_types(c, bucket, &wt, &rt) && rt > 0)
		return rt;
	return c->read_type > 0 ? c->read_type : ATR_RT_CACHE;
}

int persist_plan(struct atr_core *c, const char *bucket, int requested)
{
	if (!persist_remote(c, bucket))
		return PLAN_RENAME;
	switch (persist_write_type(c, bucket, requested)) {
	case ATR_WT_MUST_CACHE: return PLAN_HOLD;
	case ATR_WT_ASYNC_THROUGH: return PLAN_HOLD_QUEUE;
	case ATR_WT_THROUGH: return PLAN_UPLOAD;
	default: return PLAN_UPLOAD_CACHE;
	}
}

/* ---- the cache ---- */

int persist_cache_fd(struct atr_core *c, uint64_t ino, uint64_t version, uint64_t size, int fd)
{
	uint64_t bs = c->block_size;
	for (uint64_t i = 0; i * bs < size; i++) {
		size_t len = (size_t)(size - i * bs < bs ? size - i * bs : bs);
		struct bcache_block *b = bcache_alloc(len);
		if (!b)
			return ATR_E_NOMEM;
		ssize_t n = pread(fd, b->data, len, (off_t)(i * bs));
		if (n != (ssize_t)len) {
			free(b);
			return ATR_E_IO;
		}
		b->ino = ino, b->version = version, b->index = i;
		bcache_unpin(c->cache, bcache_insert(c->cache, b));
	}
	return ATR_OK;
}

/* ---- persisting one inode ---- */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The held file of row o, opened into *f (the caller's to close) with
 * its stat in *st, and copied into stage s. Whether it is o's version is
 * known only under ns_lock (persist_ino compares st with the row). */
static int copy_held(struct atr_core *c, const struct atr_obj *o, struct ufs_stage *s,
		     struct ufs_file **f, struct ufs_stat *st)
{
	char held[PATH_MAX_UFS];
	int rc;
	if (ns_side_path(held, sizeof(held), o->ino))
		return ATR_E_INTERNAL;
	if ((rc = ufs_open(c->ufs, held, f, st)))
		return rc;
	/* An encrypted object's file is its ciphertext, copied as it is. */
	uint64_t size = obj_file_size(o);
	if (st->size != size)
		return ATR_E_CONFLICT; /* rewritten meanwhile */
	size_t bs = c->block_size;
	void *buf = malloc(bs);
	if (!buf)
		return ATR_E_NOMEM;
	for (uint64_t off = 0; !rc && off < size; off += bs) {
		size_t len = (size_t)(size - off < bs ? size - off : bs);
		if (ufs_pread(c->ufs, *f, buf, len, off) != (ssize_t)len)
			rc = ATR_E_IO;
		else
			rc = ufs_stage_write(c->ufs, s, buf, len);
	}
	free(buf);
	return rc;
}

/* The bytes of f, object (ino, version) of size bytes, into the cache, so
 * that it stays there once PERSISTED and its held file gone. */
static void cache_held(struct atr_core *c, struct ufs_file *f, uint64_t ino, uint64_t version,
		       uint64_t size)
{
	uint64_t bs = c->block_size;
	for (uint64_t i = 0; i * bs < size; i++) {
		size_t len = (size_t)(size - i * bs < bs ? size - i * bs : bs);
		struct bcache_block *b = bcache_alloc(len);
		if (!b)
			return;
		if (ufs_pread(c->ufs, f, b->data, len, i * bs) != (ssize_t)len) {
			free(b);
			return; /* best effort: a later read fills it */
		}
		b->ino = ino, b->version = version, b->index = i;
		bcache_unpin(c->cache, bcache_insert(c->cache, b));
	}
}

struct mark {
	const char *bucket, *key;
	uint64_t ino, version;
	int64_t mtime_ns;
};

static int mark_fn(struct atr_core *c, void *arg)
{
	struct mark *m = arg;
	struct meta_row row = { 0 };
	int rc = meta_obj_persisted(c->meta, m->ino, m->version, m->mtime_ns);
	if (!rc)
		rc = meta_pq_done(c->meta, m->ino);
	if (!rc && meta_obj_get(c->meta, m->bucket, m->key, &row, 0) == ATR_OK)
		ns_event(c, m->bucket, m->key, &row.obj); /* the mount: a new mtime */
	return rc;
}

static int done_fn(struct atr_core *c, void *arg)
{
	return meta_pq_done(c->meta, *(uint64_t *)arg);
}

int persist_ino(struct atr_core *c, uint64_t ino, uint64_t *bytes)
{
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	char path[PATH_MAX_UFS], held[PATH_MAX_UFS], name[64];
	struct meta_row row = { 0 }, now = { 0 };
	struct ufs_stage *s = NULL;
	struct ufs_file *f = NULL;
	struct ufs_stat st, fst;
	int rc = meta_obj_by_ino(c->meta, ino, bucket, key, &row, 0);
	if (rc == ATR_E_NO_KEY || (rc == ATR_OK && (!row.persist || row.obj.ino != ino)))
		return ns_txn(c, done_fn, &ino); /* deleted, replaced or persisted */
	if (rc)
		return rc;
	if ((rc = ufs_stage_open(c->ufs, &s)))
		return rc;
	if ((rc = copy_held(c, &row.obj, s, &f, &fst)) ||
	    (rc = ufs_stage_prepare(c->ufs, s, name, sizeof(name), &st)))
		goto out;
	if (key_path(path, sizeof(path), bucket, key) ||
	    ns_side_path(held, sizeof(held), ino)) {
		rc = ATR_E_INTERNAL;
		goto out;
	}
	ns_lock(c);
	rc = ns_redo(c);
	if (!rc)
		rc = meta_obj_by_ino(c->meta, ino, bucket, key, &now, 0);
	if (rc || !now.persist || now.obj.version != row.obj.version || now.obj.ino != ino) {
		ns_unlock(c);
		rc = rc == ATR_E_NO_KEY ? ATR_OK : rc; /* changed: its own entry, if any */
		goto out;
	}
	/* What was copied is this version's file: only a commit (under
	 * ns_lock, bumping the version) replaces a held file, and the row
	 * records the file's size and mtime. */
	if (fst.size != obj_file_size(&now.obj) || fst.mtime_ns != now.obj.mtime_ns) {
		ns_unlock(c);
		rc = ATR_E_CONFLICT; /* tried again later */
		goto out;
	}
	/* The upload, under ns_lock: no commit of this key can come between
	 * it and the row saying so. */
	rc = ufs_stage_commit(c->ufs, s, path, &st);
	if (!rc) {
		s = NULL;
		struct mark m = { bucket, key, ino, row.obj.version, st.mtime_ns };
		if (!(rc = ns_txn_locked(c, mark_fn, &m)))
			ufs_unlink(c->ufs, held); /* a crash before: ns_side_gc */
	} else if (rc == ATR_E_IO) {
		rc = ATR_E_UFS_DOWN;
	}
	ns_unlock(c);
	ns_settle(c);
	if (!rc) {
		/* the file's bytes: an encrypted object's ciphertext */
		cache_held(c, f, ino, row.obj.version, obj_file_size(&row.obj));
		bcache_flush(c->cache); /* on disk, as fs load leaves it */
		if (bytes)
			*bytes += row.obj.size;
		LOG(LOG_INFO, "persist: /%s/%s is PERSISTED (%llu bytes)", bucket, key,
		    (unsigned long long)row.obj.size);
	}
out:
	if (f)
		ufs_close(c->ufs, f);
	if (s)
		ufs_stage_abort(c->ufs, s);
	return rc;
}

/* ---- pins and TTLs ---- */

/* A TTL, due again later. */
struct retry {
	uint64_t ino;
	int64_t due;
	int action;
};

static int ttl_later_fn(struct atr_core *c, void *arg)
{
	struct retry *r = arg;
	return meta_ttl_set(c->meta, r->ino, r->due, r->action);
}

void persist_pins_reload(struct atr_core *c)
{
	uint64_t *v = NULL;
	size_t n = 0;
	if (meta_pin_scan(c->meta, &v, &n))
		return; /* the set stays as it was */
	bcache_set_pinned(c->cache, v, n);
	free(v);
}

static int ttl_done_fn(struct atr_core *c, void *arg)
{
	return meta_ttl_set(c->meta, *(uint64_t *)arg, -1, 0);
}

/* The TTL of inode ino is due: its action, then the TTL goes. */
static void ttl_fire(struct atr_core *c, uint64_t ino, int action)
{
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	int rc = meta_obj_by_ino(c->meta, ino, bucket, key, &row, 0);
	if (rc == ATR_OK && row.obj.ino == ino && action == ATR_TTL_DELETE) {
		struct atr_delete_result d; /* as a DELETE: a versioned bucket keeps it */
		rc = obj_delete_version(c, row.obj.owner, bucket, key, NULL, 1, 0, &d);
		LOG(LOG_INFO, "ttl: /%s/%s deleted: %s", bucket, key, atr_strerror(rc));
	} else if (rc == ATR_OK && row.obj.ino == ino) {
		if (row.persist || meta_pin_get(c->meta, ino))
			LOG(LOG_WARN, "ttl: /%s/%s is %s: not freed", bucket, key,
			    row.persist ? "not persisted" : "pinned");
		else
			bcache_drop(c->cache, ino);
		rc = ATR_OK;
	}
	if (rc && rc != ATR_E_NO_KEY) {
		/* The store failing (a remote down): again in a while. */
		struct retry r = { ino, now_ms() + BACKOFF_MAX_MS, action };
		LOG(LOG_WARN, "ttl: inode %llu: %s; again in %d ms", (unsigned long long)ino,
		    atr_strerror(rc), BACKOFF_MAX_MS);
		ns_txn(c, ttl_later_fn, &r);
		return;
	}
	ns_txn(c, ttl_done_fn, &ino); /* gone with the row if it was deleted */
}

/* Runs the TTLs due; how long until the next one (-1: none). */
static int64_t ttl_run(struct atr_core *c)
{
	for (int n = 0; n < 1000; n++) {
		uint64_t ino = 0;
		int action = 0;
		int64_t wait = -1;
		int rc = meta_ttl_next(c->meta, now_ms(), &ino, &action, &wait);
		if (rc == ATR_E_NO_KEY)
			return wait;
		if (rc)
			return 1000; /* the store failing: look again later */
		ttl_fire(c, ino, action);
	}
	return 0; /* more to do */
}

/* ---- the worker ---- */


/* The worker's wait: until wait ms have passed (wait < 0: IDLE_MS), or
 * it is kicked (a commit queued something), or stopped. Returns whether
 * to stop. */
static int sleep_for(struct persister *p, int64_t wait)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t ms = wait < 0 || wait > IDLE_MS ? IDLE_MS : wait;
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&p->lock);
	while (ms > 0 && !p->stopping && !p->kicked)
		if (pthread_cond_timedwait(&p->kick, &p->lock, &ts))
			break; /* timed out */
	p->kicked = 0;
	int stop = p->stopping;
	pthread_mutex_unlock(&p->lock);
	return stop;
}

/* bucket's backoff slot, or NULL; with make, a slot for it (a free
 * one, else the one due first, forgotten). */
static struct backoff *backoff_slot(struct persister *p, const char *bucket, int make)
{
	struct backoff *free_slot = NULL, *first = &p->down[0];
	for (int i = 0; i < BACKOFF_SLOTS; i++) {
		struct backoff *b = &p->down[i];
		if (b->fails && !strcmp(b->bucket, bucket))
			return b;
		if (!b->fails && !free_slot)
			free_slot = b;
		if (b->until_ms < first->until_ms)
			first = b;
	}
	if (!make)
		return NULL;
	struct backoff *b = free_slot ? free_slot : first;
	memset(b, 0, sizeof(*b));
	snprintf(b->bucket, sizeof(b->bucket), "%s", bucket);
	return b;
}

/* An entry put off: its own due time (a try counted if tried), and every
 * other entry of its bucket due before then waits as long. */
struct defer {
	const char *bucket;
	uint64_t ino;
	int64_t due;
	int tried;
};

static int defer_fn(struct atr_core *c, void *arg)
{
	struct defer *d = arg;
	int rc = d->tried ? meta_pq_retry(c->meta, d->ino, d->due) : ATR_OK;
	return rc ? rc : meta_pq_defer(c->meta, d->bucket, d->due);
}

/* Persists queue entry ino (tries failed so far), unless its bucket's
 * remote is backing off, which puts it off untried. An error only when
 * the metadata store fails (the worker then waits a while). */
static int persist_entry(struct atr_core *c, uint64_t ino, int tries)
{
	struct persister *p = c->persister;
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	int rc = meta_obj_by_ino(c->meta, ino, bucket, key, &row, 0);
	if (rc == ATR_E_NO_KEY)
		return persist_ino(c, ino, NULL); /* gone: off the queue */
	if (rc)
		return rc;
	struct backoff *b = backoff_slot(p, bucket, 0);
	struct defer d = { bucket, ino, 0, 0 };
	if (b && b->until_ms > now_ms()) {
		d.due = b->until_ms;
		return ns_txn(c, defer_fn, &d);
	}
	if (!(rc = persist_ino(c, ino, NULL))) {
		if (b)
			b->fails = 0; /* the remote answers again */
		return ATR_OK;
	}
	if (!b)
		b = backoff_slot(p, bucket, 1);
	int64_t back = BACKOFF_FIRST_MS;
	for (int i = 0; i < b->fails && back < BACKOFF_MAX_MS; i++)
		back *= 2;
	if (back > BACKOFF_MAX_MS)
		back = BACKOFF_MAX_MS;
	b->fails++;
	b->until_ms = now_ms() + back;
	LOG(LOG_WARN, "persist: inode %llu of /%s not persisted (%s, try %d); bucket /%s again in "
	    "%lld ms", (unsigned long long)ino, bucket, atr_strerror(rc), tries + 1, bucket,
	    (long long)back);
	d.due = b->until_ms;
	d.tried = 1;
	return ns_txn(c, defer_fn, &d);
}

static void *worker(void *arg)
{
	struct atr_core *c = arg;
	struct persister *p = c->persister;
	for (;;) {
		uint64_t ino = 0;
		int tries = 0;
		int64_t wait = -1;
		int rc = meta_pq_next(c->meta, now_ms(), &ino, &tries, &wait);
		if (rc == ATR_OK)
			wait = persist_entry(c, ino, tries) ? 1000 : 0;
		else if (rc != ATR_E_NO_KEY)
			wait = 1000; /* the store failing: look again later */
		int64_t ttl_wait = ttl_run(c);
		if (ttl_wait >= 0 && (wait < 0 || ttl_wait < wait))
			wait = ttl_wait;
		persist_pins_reload(c);
		if (sleep_for(p, wait))
			break;
	}
	return NULL;
}

void persist_kick(struct atr_core *c)
{
	struct persister *p = c->persister;
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->kicked = 1;
	pthread_cond_signal(&p->kick);
	pthread_mutex_unlock(&p->lock);
}

int persist_open(struct atr_core *c)
{
	struct persister *p = calloc(1, sizeof(*p));
	if (!p)
		return ATR_E_NOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->kick, NULL);
	c->persister = p;
	persist_pins_reload(c);
	if (pthread_create(&p->worker, NULL, worker, c)) {
		LOG(LOG_ERROR, "persist: cannot start the worker");
		return ATR_E_NOMEM;
	}
	pthread_setname_np(p->worker, "atr-persist");
	p->started = 1;
	return ATR_OK;
}

void persist_close(struct atr_core *c)
{
	struct persister *p = c->persister;
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_signal(&p->kick);
	pthread_mutex_unlock(&p->lock);
	if (p->started)
		pthread_join(p->worker, NULL);
	pthread_cond_destroy(&p->kick);
	pthread_mutex_destroy(&p->lock);
	free(p);
	c->persister = NULL;
}

int persist_queued(struct atr_core *c, uint64_t *n)
{
	return meta_pq_count(c->meta, n);
}
