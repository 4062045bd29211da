#include "src/bcache_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "common/banned.h"

struct seg {
	struct bcache_block *head, *tail; /* head = most recently used */
	size_t bytes;
};

struct bcache {
	pthread_mutex_t lock; /* guards everything below */
	struct bcache_block **table;
	size_t nbuckets;      /* power of two */
	size_t nblocks;
	size_t capacity;
	struct seg seg[2];    /* 0 probation, 1 protected */
	uint64_t hits, misses, evictions;
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
	return bc;
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
	pthread_mutex_destroy(&bc->lock);
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
			if (b->pins == 0) {
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

struct bcache_block *bcache_get(struct bcache *bc, uint64_t ino, uint64_t version, uint64_t index)
{
	pthread_mutex_lock(&bc->lock);
	struct bcache_block *b = bc->table[slot(bc, ino, version, index)];
	while (b && !(b->ino == ino && b->version == version && b->index == index))
		b = b->hnext;
	if (b) {
		b->pins++;
		bc->hits++;
		/* A hit in either segment is "used twice": protect it. */
		seg_unlink(bc, b);
		seg_push(bc, b, 1);
		balance(bc);
	} else {
		bc->misses++;
	}
	pthread_mutex_unlock(&bc->lock);
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

struct bcache_block *bcache_insert(struct bcache *bc, struct bcache_block *b)
{
	pthread_mutex_lock(&bc->lock);
	size_t k = slot(bc, b->ino, b->version, b->index);
	struct bcache_block *e = bc->table[k];
	while (e && !(e->ino == b->ino && e->version == b->version && e->index == b->index))
		e = e->hnext;
	if (e) {
		e->pins++;
		pthread_mutex_unlock(&bc->lock);
		free(b);
		return e;
	}
	b->pins = 1;
	b->hnext = bc->table[k];
	bc->table[k] = b;
	bc->nblocks++;
	seg_push(bc, b, 0);
	evict(bc);
	if (bc->nblocks > bc->nbuckets)
		grow_table(bc);
	pthread_mutex_unlock(&bc->lock);
	return b;
}

void bcache_unpin(struct bcache *bc, struct bcache_block *b)
{
	if (!b)
		return;
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
}

void bcache_stats(struct bcache *bc, struct bcache_stats *out)
{
	pthread_mutex_lock(&bc->lock);
	out->hits = bc->hits;
	out->misses = bc->misses;
	out->evictions = bc->evictions;
	out->bytes = bc->seg[0].bytes + bc->seg[1].bytes;
	out->capacity = bc->capacity;
	out->blocks = bc->nblocks;
	pthread_mutex_unlock(&bc->lock);
}

uint64_t bcache_cached(struct bcache *bc, uint64_t ino, uint64_t version, uint64_t nblocks)
{
	uint64_t bytes = 0;
	pthread_mutex_lock(&bc->lock);
	if (nblocks <= bc->nblocks) {
		/* One probe per block of the object. */
		for (uint64_t i = 0; i < nblocks; i++) {
			struct bcache_block *b = bc->table[slot(bc, ino, version, i)];
			while (b && !(b->ino == ino && b->version == version && b->index == i))
				b = b->hnext;
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
