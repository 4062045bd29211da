#include "src/bcache_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "src/atrium.h"
#include "src/dcache_int.h"
#include "common/banned.h"

struct seg {
	struct bcache_block *head, *tail; /* head = most recently used */
	size_t bytes;
};

/* One fetch of a missing block, which other readers of it wait for. */
struct flight {
	uint64_t ino, version, index;
	int done, err;        /* err: the fill's error, for the waiters */
	int waiters;          /* the last one out frees a done flight */
	struct flight *next;
};

struct bcache {
	struct dcache *disk;  /* NULL: memory only; set before use, then read-only */
	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t landed; /* a flight is done */
	struct flight *flights;
	struct bcache_block **table;
	size_t nbuckets;      /* power of two */
	size_t nblocks;
	size_t capacity;
	struct seg seg[2];    /* 0 probation, 1 protected */
	uint64_t hits, misses, evictions, fills;
	uint64_t *pinned;     /* pinned inodes, ascending (bcache_set_pinned) */
	size_t npinned;
};

#define PROTECTED_SHARE 0.8

static size_t slot(const struct bcache *bc, uint64_t ino, uint64_t version, uint64_t index)
{
	uint64_t h = ino * 0x9E3779B97F4A7C15ull ^ version * 0xC2B2AE3D27D4EB4Full ^ index;
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ull;
	h ^= h >> 32;
	return (size_t)h & (bc->nbuckets - 1);
}

struct bcache *bcache_new(size_t capacity)
{
	struct bcache *bc = calloc(1, sizeof(*bc));
	if (!bc)
		return NULL;
	bc->nbuckets = 4096;
	bc->table = calloc(bc->nbuckets, sizeof(*bc->table));
	if (!bc->table) {
		free(bc);
		return NULL;
	}
	bc->capacity = capacity;
	pthread_mutex_init(&bc->lock, NULL);
	pthread_cond_init(&bc->landed, NULL);
	return bc;
}

void bcache_set_disk(struct bcache *bc, struct dcache *dc) { bc->disk = dc; }

static void evict(struct bcache *bc);

void bcache_set_pinned(struct bcache *bc, const uint64_t *inos, size_t n)
{
	uint64_t *v = n ? malloc(n * sizeof(*v)) : NULL;
	if (n && !v)
		return; /* the set stays as it was */
	if (n)
		memcpy(v, inos, n * sizeof(*v));
	pthread_mutex_lock(&bc->lock);
	uint64_t *old = bc->pinned;
	bc->pinned = v;
	bc->npinned = n;
	if (bc->seg[0].bytes + bc->seg[1].bytes > bc->capacity)
		evict(bc); /* blocks unpinned now may go */
	pthread_mutex_unlock(&bc->lock);
	free(old);
	if (bc->disk)
		dcache_set_pinned(bc->disk, inos, n);
}

void bcache_free(struct bcache *bc)
{
	if (!bc)
		return;
	for (size_t i = 0; i < bc->nbuckets; i++) {
		struct bcache_block *b = bc->table[i];
		while (b) {
			struct bcache_block *n = b->hnext;
			free(b);
			b = n;
		}
	}
	free(bc->table);
	free(bc->pinned);
	pthread_mutex_destroy(&bc->lock);
	pthread_cond_destroy(&bc->landed);
	free(bc);
}

static void seg_unlink(struct bcache *bc, struct bcache_block *b)
{
	struct seg *s = &bc->seg[b->segment];
	if (b->prev) b->prev->next = b->next; else s->head = b->next;
	if (b->next) b->next->prev = b->prev; else s->tail = b->prev;
	b->prev = b->next = NULL;
	s->bytes -= b->len;
	b->segment = -1;
}

static void seg_push(struct bcache *bc, struct bcache_block *b, int segment)
{
	struct seg *s = &bc->seg[segment];
	b->segment = segment;
	b->prev = NULL;
	b->next = s->head;
	if (s->head) s->head->prev = b; else s->tail = b;
	s->head = b;
	s->bytes += b->len;
}

static void table_remove(struct bcache *bc, struct bcache_block *b)
{
	struct bcache_block **pp = &bc->table[slot(bc, b->ino, b->version, b->index)];
	while (*pp != b)
		pp = &(*pp)->hnext;
	*pp = b->hnext;
	bc->nblocks--;
}

static void grow_table(struct bcache *bc)
{
	size_t n = bc->nbuckets * 2;
	struct bcache_block **t = calloc(n, sizeof(*t));
	if (!t)
		return; /* keep the longer chains */
	struct bcache_block **old = bc->table;
	size_t oldn = bc->nbuckets;
	bc->table = t;
	bc->nbuckets = n;
	for (size_t i = 0; i < oldn; i++) {
		struct bcache_block *b = old[i];
		while (b) {
			struct bcache_block *next = b->hnext;
			size_t k = slot(bc, b->ino, b->version, b->index);
			b->hnext = t[k];
			t[k] = b;
			b = next;
		}
	}
	free(old);
}

/* Evicts unpinned blocks, coldest first, until the cache fits. */
static void evict(struct bcache *bc)
{
	for (int segment = 0; segment < 2; segment++) {
		struct bcache_block *b = bc->seg[segment].tail;
		while (b && bc->seg[0].bytes + bc->seg[1].bytes > bc->capacity) {
			struct bcache_block *prev = b->prev;
			if (b->pins == 0 && !ino_in(bc->pinned, bc->npinned, b->ino)) {
				seg_unlink(bc, b);
				table_remove(bc, b);
				free(b);
				bc->evictions++;
			}
			b = prev;
		}
	}
}

/* Keeps the protected segment within its share by demoting its coldest. */
static void balance(struct bcache *bc)
{
	size_t limit = (size_t)((double)bc->capacity * PROTECTED_SHARE);
	while (bc->seg[1].bytes > limit && bc->seg[1].tail) {
		struct bcache_block *b = bc->seg[1].tail;
		seg_unlink(bc, b);
		seg_push(bc, b, 0);
	}
}

static struct bcache_block *lookup(struct bcache *bc, uint64_t ino, uint64_t version,
				   uint64_t index)
{
	struct bcache_block *b = bc->table[slot(bc, ino, version, index)];
	while (b && !(b->ino == ino && b->version == version && b->index == index))
		b = b->hnext;
	return b;
}

/* A hit (lock held): pinned, and "used twice", so protected. */
static void hit(struct bcache *bc, struct bcache_block *b)
{
	b->pins++;
	bc->hits++;
	seg_unlink(bc, b);
	seg_push(bc, b, 1);
	balance(bc);
}

struct bcache_block *bcache_get(struct bcache *bc, uint64_t ino, uint64_t version, uint64_t index)
{
	pthread_mutex_lock(&bc->lock);
	struct bcache_block *b = lookup(bc, ino, version, index);
	if (b)
		hit(bc, b);
	else
		bc->misses++;
	pthread_mutex_unlock(&bc->lock);
	if (b && bc->disk)
		dcache_touch(bc->disk, ino, version, index);
	return b;
}

struct bcache_block *bcache_alloc(size_t len)
{
	struct bcache_block *b = malloc(sizeof(*b) + len);
	if (!b)
		return NULL;
	memset(b, 0, sizeof(*b));
	b->len = len;
	b->segment = -1;
	return b;
}

/* Inserts b (lock held) and returns the cached block, pinned; *fresh
 * tells whether it is b (else b was freed for the copy already there). */
static struct bcache_block *insert_locked(struct bcache *bc, struct bcache_block *b, int *fresh)
{
	struct bcache_block *e = lookup(bc, b->ino, b->version, b->index);
	if (e) {
		e->pins++;
		free(b);
		*fresh = 0;
		return e;
	}
	size_t k = slot(bc, b->ino, b->version, b->index);
	b->pins = 1;
	b->hnext = bc->table[k];
	bc->table[k] = b;
	bc->nblocks++;
	seg_push(bc, b, 0);
	evict(bc);
	if (bc->nblocks > bc->nbuckets)
		grow_table(bc);
	*fresh = 1;
	return b;
}

struct bcache_block *bcache_insert(struct bcache *bc, struct bcache_block *b)
{
	int fresh;
	pthread_mutex_lock(&bc->lock);
	b = insert_locked(bc, b, &fresh);
	pthread_mutex_unlock(&bc->lock);
	/* Pinned, so its data stays while it is copied to the queue. */
	if (fresh && bc->disk)
		dcache_put(bc->disk, b->ino, b->version, b->index, b->data, b->len);
	return b;
}

static struct flight *flight_find(struct bcache *bc, uint64_t ino, uint64_t version,
				  uint64_t index)
{
	struct flight *f = bc->flights;
	while (f && !(f->ino == ino && f->version == version && f->index == index))
		f = f->next;
	return f;
}

enum claim { CLAIM_HIT, CLAIM_JOINED, CLAIM_FAILED, CLAIM_MINE };

/*
 * (bc->lock held.) The block from memory, pinned: a hit (CLAIM_HIT, the
 * only case counted as one), or brought by a fetch in flight we waited
 * for (CLAIM_JOINED); that fetch's error (CLAIM_FAILED); or the fetch is
 * ours (CLAIM_MINE, *mine its flight, NULL if none could be allocated:
 * then others may fetch it too).
 */
static enum claim claim(struct bcache *bc, uint64_t ino, uint64_t version, uint64_t index,
			struct bcache_block **b, struct flight **mine, int *err)
{
	int counted = 0;
	for (;;) {
		if ((*b = lookup(bc, ino, version, index))) {
			if (counted) {
				(*b)->pins++; /* its miss is counted */
				return CLAIM_JOINED;
			}
			hit(bc, *b);
			return CLAIM_HIT;
		}
		if (!counted) {
			bc->misses++;
			counted = 1;
		}
		struct flight *f = flight_find(bc, ino, version, index);
		if (!f)
			break;
		f->waiters++;
		while (!f->done)
			pthread_cond_wait(&bc->landed, &bc->lock);
		*err = f->err;
		if (--f->waiters == 0)
			free(f);
		if (*err)
			return CLAIM_FAILED;
		/* Landed: look again (evicted already? then fetch it ourselves). */
	}
	if ((*mine = calloc(1, sizeof(**mine)))) {
		(*mine)->ino = ino, (*mine)->version = version, (*mine)->index = index;
		(*mine)->next = bc->flights;
		bc->flights = *mine;
	}
	return CLAIM_MINE;
}

/* (bc->lock held.) Ends flight f (may be NULL) with rc, waking its waiters. */
static void land(struct bcache *bc, struct flight *f, int rc)
{
	if (!f)
		return;
	struct flight **pp = &bc->flights;
	while (*pp != f)
		pp = &(*pp)->next;
	*pp = f->next;
	f->done = 1;
	f->err = rc;
	if (f->waiters)
		pthread_cond_broadcast(&bc->landed);
	else
		free(f);
}

/* A block outside the cache (bcache_fetch_as's modes): segment PRIVATE. */
#define PRIVATE (-2)

struct bcache_block *bcache_fetch(struct bcache *bc, uint64_t ino, uint64_t version,
				  uint64_t index, size_t len, bcache_fill_fn fill, void *arg,
				  int *err)
{
	return bcache_fetch_as(bc, ino, version, index, len, fill, arg, 0, err);
}

struct bcache_block *bcache_fetch_as(struct bcache *bc, uint64_t ino, uint64_t version,
				     uint64_t index, size_t len, bcache_fill_fn fill, void *arg,
				     int mode, int *err)
{
	struct bcache_block *b = NULL;
	struct flight *f = NULL;
	pthread_mutex_lock(&bc->lock);
	enum claim how = claim(bc, ino, version, index, &b, &f, err);
	pthread_mutex_unlock(&bc->lock);
	if (how == CLAIM_HIT && bc->disk)
		dcache_touch(bc->disk, ino, version, index);
	if (how != CLAIM_MINE)
		return b;

	/* Ours to fetch, with no lock held: the disk, else the UFS. */
	int rc = 0, from_disk = 0, fresh = 0;
	if (!(b = bcache_alloc(len)))
		rc = ATR_E_NOMEM;
	else if (bc->disk && !dcache_read(bc->disk, ino, version, index, b->data, len))
		from_disk = 1;
	else
		rc = fill(arg, index, b->data, len);
	if (b)
		b->ino = ino, b->version = version, b->index = index;

	pthread_mutex_lock(&bc->lock);
	bc->fills += b && !from_disk;
	if (rc) {
		free(b);
		b = NULL;
		*err = rc;
	} else if ((mode & BCACHE_NO_FILL) || (from_disk && (mode & BCACHE_NO_PROMOTE))) {
		/* Not cached: the caller's alone. Waiters look again and,
		 * finding nothing, fetch it themselves. */
		b->segment = PRIVATE;
		b->pins = 1;
	} else {
		b = insert_locked(bc, b, &fresh);
	}
	land(bc, f, rc);
	pthread_mutex_unlock(&bc->lock);
	/* Written through once the waiters have their block. */
	if (b && fresh && !from_disk && bc->disk)
		dcache_put(bc->disk, ino, version, index, b->data, b->len);
	return b;
}

void bcache_prefetch(struct bcache *bc, uint64_t ino, uint64_t version, uint64_t index,
		     size_t len, bcache_fill_fn fill, void *arg)
{
	struct flight *f;
	pthread_mutex_lock(&bc->lock);
	if (lookup(bc, ino, version, index) || flight_find(bc, ino, version, index) ||
	    (bc->disk && dcache_len(bc->disk, ino, version, index)) ||
	    !(f = calloc(1, sizeof(*f)))) {
		pthread_mutex_unlock(&bc->lock);
		return;
	}
	f->ino = ino, f->version = version, f->index = index;
	f->next = bc->flights;
	bc->flights = f;
	pthread_mutex_unlock(&bc->lock);

	struct bcache_block *b = bcache_alloc(len);
	int rc = b ? fill(arg, index, b->data, len) : ATR_E_NOMEM, fresh = 0;
	pthread_mutex_lock(&bc->lock);
	bc->fills += b != NULL;
	if (rc) {
		free(b);
		b = NULL;
	} else {
		b->ino = ino, b->version = version, b->index = index;
		b = insert_locked(bc, b, &fresh);
	}
	/* Landed without an error even if the fill failed: the reader that
	 * waited fetches the block itself and sees its own error, if any. */
	land(bc, f, 0);
	pthread_mutex_unlock(&bc->lock);
	if (b && fresh && bc->disk)
		dcache_put(bc->disk, ino, version, index, b->data, b->len);
	bcache_unpin(bc, b);
}

void bcache_flush(struct bcache *bc)
{
	if (bc->disk)
		dcache_flush(bc->disk);
}

void bcache_unpin(struct bcache *bc, struct bcache_block *b)
{
	if (!b)
		return;
	if (b->segment == PRIVATE) {
		free(b);
		return;
	}
	pthread_mutex_lock(&bc->lock);
	if (--b->pins < 0)
		abort();
	if (b->pins == 0 && bc->seg[0].bytes + bc->seg[1].bytes > bc->capacity)
		evict(bc);
	pthread_mutex_unlock(&bc->lock);
}

void bcache_drop(struct bcache *bc, uint64_t ino)
{
	pthread_mutex_lock(&bc->lock);
	for (int segment = 0; segment < 2; segment++) {
		struct bcache_block *b = bc->seg[segment].head;
		while (b) {
			struct bcache_block *next = b->next;
			if (b->ino == ino && b->pins == 0) {
				seg_unlink(bc, b);
				table_remove(bc, b);
				free(b);
			}
			b = next;
		}
	}
	pthread_mutex_unlock(&bc->lock);
	if (bc->disk)
		dcache_drop(bc->disk, ino);
}

void bcache_stats(struct bcache *bc, struct bcache_stats *out)
{
	pthread_mutex_lock(&bc->lock);
	out->hits = bc->hits;
	out->misses = bc->misses;
	out->evictions = bc->evictions;
	out->fills = bc->fills;
	out->bytes = bc->seg[0].bytes + bc->seg[1].bytes;
	out->capacity = bc->capacity;
	out->blocks = bc->nblocks;
	pthread_mutex_unlock(&bc->lock);
}

uint64_t bcache_cached(struct bcache *bc, uint64_t ino, uint64_t version, uint64_t nblocks)
{
	uint64_t bytes = 0;
	pthread_mutex_lock(&bc->lock);
	if (bc->disk) {
		/* Block-exact across the tiers: memory, else disk (a leaf lock). */
		for (uint64_t i = 0; i < nblocks; i++) {
			struct bcache_block *b = lookup(bc, ino, version, i);
			bytes += b ? b->len : dcache_len(bc->disk, ino, version, i);
		}
	} else if (nblocks <= bc->nblocks) {
		/* One probe per block of the object. */
		for (uint64_t i = 0; i < nblocks; i++) {
			struct bcache_block *b = lookup(bc, ino, version, i);
			if (b)
				bytes += b->len;
		}
	} else {
		/* A huge object: walking the cached blocks is shorter. */
		for (int segment = 0; segment < 2; segment++)
			for (struct bcache_block *b = bc->seg[segment].head; b; b = b->next)
				if (b->ino == ino && b->version == version && b->index < nblocks)
					bytes += b->len;
	}
	pthread_mutex_unlock(&bc->lock);
	return bytes;
}
