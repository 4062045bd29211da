/*
 * etag — MD5s computed after their commit, and hashing files.
 *
 * A file written through the mount in order has its MD5 when its last
 * byte arrives. Anything else (a seek back, a hole, a truncate, a first
 * write into an existing file) needs the whole content read back, which
 * used to happen inside the close (or truncate) that committed it: 3.5 s
 * per GiB, 28 s for `truncate -s 8G` of a file holding no byte at all.
 * Now such a commit stores an empty ETag ("not computed yet"); a small
 * file (ETAG_INLINE_MAX) is hashed right after its commit by the thread
 * that committed it, a larger one is handed to this module's worker
 * thread. Whoever needs the ETag meanwhile (an S3 HEAD, GET, listing,
 * copy or conditional request, getxattr user.s3.etag) waits for the
 * worker if it is hashing that file, or else takes the job and hashes it
 * itself (etag_settle): no one is ever given a placeholder. A crash loses
 * the queue, not the promise: a row left with an empty ETag is hashed by
 * its first reader.
 *
 * Hashing reads only the file's data: holes (found with the driver's
 * next_data) go through MD5 from a buffer of zeros. MD5 cannot skip its
 * compression function, so zeros still cost 1.6 ms per MiB of CPU here,
 * but no I/O.
 *
 * Jobs are keyed by inode (obj_node) and version, so the names of a
 * hard-linked file share one. A job's ETag is stored only if the row
 * still holds that version with an empty ETag: a newer commit has its own.
 * Locks: etags->lock guards the queue and every job; it is taken under
 * ns_lock (etag_schedule from a commit) and never the other way round.
 * Hashing runs with no lock held; storing takes ns_lock (ns_txn).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/log.h"
#include "src/ns_int.h"
#include "common/banned.h"

#define CHUNK (1u << 20)

enum job_state { QUEUED, RUNNING, DONE };

struct job {
	uint64_t node, version;
	enum job_state state;
	int computed;              /* etag holds the MD5; only storing is left */
	int rc;                    /* once DONE */
	int waiters;
	char etag[ATR_ETAG_MAX + 1];
	struct job *next;
};

struct etags {
	pthread_mutex_t lock;
	pthread_cond_t more, done;
	struct job *jobs;          /* every job not yet freed, newest first */
	int stopping;
	pthread_t worker;
	int started;
};

/* ---- hashing ---- */

static const unsigned char zeros[64 * 1024];

int etag_hash_file(struct atr_core *c, struct ufs_file *f, uint64_t size, const int *stop,
		   char etag[ATR_ETAG_MAX + 1])
{
	unsigned char sum[MD5_LEN];
	struct md5mb_ctx h;
	unsigned char *buf = malloc(CHUNK);
	if (!buf)
		return ATR_E_NOMEM;
	md5mb_init(&h);
	int rc = ATR_OK;
	uint64_t off = 0, data = 0, hole = 0;
	while (!rc && off < size) {
		if (stop && __atomic_load_n(stop, __ATOMIC_RELAXED)) {
			rc = ATR_E_BUSY; /* the daemon is stopping: its first reader hashes it */
			break;
		}
		if (off >= hole) {
			/* The next run of data [data, hole), and the hole before it
			 * (a driver that cannot tell: all data). */
			ufs_next_data(c->ufs, f, off, &data, &hole);
			data = data > size ? size : data;
			hole = hole > size ? size : hole < data ? data : hole;
		}
		if (off < data) {
			uint64_t n = data - off < sizeof(zeros) ? data - off : sizeof(zeros);
			md5mb_engine_update(c->md5, &h, zeros, (size_t)n);
			off += n;
			continue;
		}
		size_t want = hole - off < CHUNK ? (size_t)(hole - off) : CHUNK;
		ssize_t n = ufs_pread(c->ufs, f, buf, want, off);
		if (n <= 0)
			rc = ATR_E_IO; /* shorter than its size: changed under us */
		else
			md5mb_engine_update(c->md5, &h, buf, (size_t)n), off += (uint64_t)n;
	}
	free(buf);
	if (rc)
		return rc;
	md5mb_final(&h, sum);
	hex_encode(sum, MD5_LEN, etag);
	return ATR_OK;
}

/* The MD5 of the file at bucket/key if it is still the one row o
 * describes (its size and mtime); ATR_E_CONFLICT if it is not. */
static int hash_row(struct atr_core *c, const char *bucket, const char *key,
		    const struct atr_obj *o, const int *stop, char etag[ATR_ETAG_MAX + 1])
{
	char path[PATH_MAX_UFS];
	struct ufs_file *f;
	struct ufs_stat st;
	if (key_path(path, sizeof(path), bucket, key))
		return ATR_E_KEY_TOO_LONG;
	int rc = ufs_open(c->ufs, path, &f, &st);
	if (rc)
		return rc == ATR_E_NO_KEY ? ATR_E_CONFLICT : rc;
	if (!st.is_reg || st.size != o->size || st.mtime_ns != o->mtime_ns)
		rc = ATR_E_CONFLICT;
	else
		rc = etag_hash_file(c, f, st.size, stop, etag);
	ufs_close(c->ufs, f);
	return rc;
}

/* ---- storing ---- */

struct store {
	uint64_t node, version;
	const char *etag;
};

static int store_fn(struct atr_core *c, void *arg)
{
	struct store *s = arg;
	return meta_obj_set_etag(c->meta, s->node, s->version, s->etag);
}

static int store(struct atr_core *c, uint64_t node, uint64_t version, const char *etag)
{
	struct store s = { node, version, etag };
	return ns_txn(c, store_fn, &s);
}

/* Hashes the job's file, found by its inode (no lock held). */
static int hash_job(struct atr_core *c, const struct job *j, const int *stop,
		    char etag[ATR_ETAG_MAX + 1])
{
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	int rc = meta_obj_by_ino(c->meta, j->node, bucket, key, &row, 0);
	if (rc)
		return rc;
	if (row.obj.version != j->version || *row.obj.etag)
		return ATR_E_CONFLICT; /* a newer commit (or someone) settled it */
	return hash_row(c, bucket, key, &row.obj, stop, etag);
}

/* ---- the queue ---- */

static struct job *job_find(struct etags *e, uint64_t node, uint64_t version)
{
	for (struct job *j = e->jobs; j; j = j->next)
		if (j->node == node && j->version == version)
			return j;
	return NULL;
}

/* Frees j once no one waits for it (e->lock held). */
static void job_put(struct etags *e, struct job *j)
{
	if (j->state != DONE || j->waiters)
		return;
	struct job **pp = &e->jobs;
	while (*pp != j)
		pp = &(*pp)->next;
	*pp = j->next;
	free(j);
}

static void job_done(struct etags *e, struct job *j, int rc, const char *etag)
{
	pthread_mutex_lock(&e->lock);
	j->state = DONE;
	j->rc = rc;
	if (!rc)
		snprintf(j->etag, sizeof(j->etag), "%s", etag);
	pthread_cond_broadcast(&e->done);
	job_put(e, j);
	pthread_mutex_unlock(&e->lock);
}

static void *worker_main(void *arg)
{
	struct atr_core *c = arg;
	struct etags *e = c->etags;
	pthread_mutex_lock(&e->lock);
	for (;;) {
		struct job *j = NULL;
		for (struct job *x = e->jobs; x; x = x->next)
			if (x->state == QUEUED)
				j = x; /* the oldest */
		if (!j && e->stopping)
			break;
		if (!j) {
			pthread_cond_wait(&e->more, &e->lock);
			continue;
		}
		j->state = RUNNING;
		char etag[ATR_ETAG_MAX + 1];
		snprintf(etag, sizeof(etag), "%s", j->etag);
		int computed = j->computed;
		pthread_mutex_unlock(&e->lock);
		int rc = computed ? ATR_OK : hash_job(c, j, &e->stopping, etag);
		if (!rc)
			rc = store(c, j->node, j->version, etag);
		if (rc && rc != ATR_E_CONFLICT && rc != ATR_E_NO_KEY && rc != ATR_E_BUSY)
			LOG(LOG_WARN, "etag: inode %llu version %llu: %s (its first reader hashes it)",
			    (unsigned long long)j->node + 1, (unsigned long long)j->version,
			    atr_strerror(rc));
		job_done(e, j, rc, etag);
		pthread_mutex_lock(&e->lock);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

void etag_schedule(struct atr_core *c, uint64_t node, uint64_t version)
{
	struct etags *e = c->etags;
	struct job *j = calloc(1, sizeof(*j));
	if (!j)
		return; /* its first reader hashes it */
	j->node = node;
	j->version = version;
	pthread_mutex_lock(&e->lock);
	if (job_find(e, node, version)) {
		free(j);
	} else {
		j->next = e->jobs;
		e->jobs = j;
		pthread_cond_signal(&e->more);
	}
	pthread_mutex_unlock(&e->lock);
}

int etag_settle(struct atr_core *c, const char *bucket, const char *key, struct atr_obj *o,
		int may_store)
{
	struct etags *e = c->etags;
	if (o->is_dir || *o->etag)
		return ATR_OK;
	uint64_t node = obj_node(o);
	pthread_mutex_lock(&e->lock);
	struct job *j = job_find(e, node, o->version);
	if (j && (j->state == RUNNING || (j->state == DONE && !j->rc) ||
		  (j->state == QUEUED && j->computed))) {
		/* Being hashed (or hashed): wait for it. */
		j->waiters++;
		while (j->state == RUNNING)
			pthread_cond_wait(&e->done, &e->lock);
		int rc = j->state == DONE ? j->rc : ATR_OK;
		if (!rc)
			snprintf(o->etag, sizeof(o->etag), "%s", j->etag);
		j->waiters--;
		job_put(e, j);
		pthread_mutex_unlock(&e->lock);
		return rc;
	}
	/* Queued, failed, or no job at all (a crash): hash it here. */
	if (!j && !(j = calloc(1, sizeof(*j)))) {
		pthread_mutex_unlock(&e->lock);
		return ATR_E_NOMEM;
	}
	if (!j->node) {
		j->node = node;
		j->version = o->version;
		j->next = e->jobs;
		e->jobs = j;
	}
	j->state = RUNNING;
	j->computed = 0;
	pthread_mutex_unlock(&e->lock);
	char etag[ATR_ETAG_MAX + 1];
	int rc = bucket && key ? hash_row(c, bucket, key, o, NULL, etag) : hash_job(c, j, NULL, etag);
	if (!rc && may_store) {
		if ((rc = store(c, node, o->version, etag)) == ATR_OK)
			snprintf(o->etag, sizeof(o->etag), "%s", etag);
		job_done(e, j, rc, etag);
		return rc;
	}
	if (!rc) {
		/* Inside a read transaction (a listing): the worker stores it. */
		snprintf(o->etag, sizeof(o->etag), "%s", etag);
		pthread_mutex_lock(&e->lock);
		snprintf(j->etag, sizeof(j->etag), "%s", etag);
		j->computed = 1;
		j->state = QUEUED;
		pthread_cond_broadcast(&e->done);
		pthread_cond_signal(&e->more);
		pthread_mutex_unlock(&e->lock);
		return ATR_OK;
	}
	job_done(e, j, rc, NULL);
	return rc;
}

int etag_open(struct atr_core *c)
{
	struct etags *e = calloc(1, sizeof(*e));
	if (!e)
		return ATR_E_NOMEM;
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->more, NULL);
	pthread_cond_init(&e->done, NULL);
	c->etags = e;
	if (pthread_create(&e->worker, NULL, worker_main, c)) {
		etag_close(c);
		return ATR_E_NOMEM;
	}
	e->started = 1;
	return ATR_OK;
}

void etag_close(struct atr_core *c)
{
	struct etags *e = c->etags;
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	__atomic_store_n(&e->stopping, 1, __ATOMIC_RELAXED); /* a hash in progress stops too */
	/* What is still queued stays to hash for its first reader. */
	for (struct job *j = e->jobs; j; j = j->next)
		if (j->state == QUEUED && !j->computed)
			j->state = DONE, j->rc = ATR_E_INTERNAL;
	pthread_cond_broadcast(&e->more);
	pthread_mutex_unlock(&e->lock);
	if (e->started)
		pthread_join(e->worker, NULL);
	while (e->jobs) {
		struct job *j = e->jobs;
		e->jobs = j->next;
		free(j);
	}
	pthread_cond_destroy(&e->more);
	pthread_cond_destroy(&e->done);
	pthread_mutex_destroy(&e->lock);
	free(e);
	c->etags = NULL;
}
