/*
 * bcache — the block cache's memory tier.
 *
 * Blocks are fixed-size slices of an object's content keyed by (ino,
 * version, index): a rewrite bumps the version, so a cached block can never
 * be stale, and the old blocks simply age out. A block's len is the number
 * of valid bytes (the last block of an object is short).
 *
 * Eviction is segmented LRU (scan-resistant): a new block enters the
 * probationary segment; a hit there promotes it to the protected segment
 * (at most 80% of capacity), whose overflow falls back to probation.
 * Victims come from probation's cold end, then protected's. Pinned blocks
 * are never evicted; if everything is pinned the cache may briefly exceed
 * its capacity rather than fail a reader.
 *
 * Pinning: get and insert return a pinned block; the caller unpins it when
 * done with block->data. A negative pin count aborts.
 * Thread-safety: one mutex guards the table, the lists and the counters;
 * block data is immutable once inserted, so readers use it unlocked.
 */
#ifndef SRC_BCACHE_INT_H
#define SRC_BCACHE_INT_H

#include <stddef.h>
#include <stdint.h>

struct bcache;

struct bcache_block {
	uint64_t ino, version, index;
	size_t len;
	/* private */
	int pins;
	int segment; /* 0 probation, 1 protected, -1 detached */
	struct bcache_block *hnext;
	struct bcache_block *prev, *next;
	unsigned char data[];
};

struct bcache_stats {
	uint64_t hits, misses, evictions, bytes, capacity, blocks;
};

struct bcache *bcache_new(size_t capacity);
void bcache_free(struct bcache *bc);
/* The pinned block, or NULL (a miss is counted). */
struct bcache_block *bcache_get(struct bcache *bc, uint64_t ino, uint64_t version, uint64_t index);
/* A fresh unpinned, uncached block with room for len bytes, or NULL. */
struct bcache_block *bcache_alloc(size_t len);
/* Inserts b (filled) and returns the cached block, pinned: b itself, or the
 * copy another thread inserted first (then b is freed). */
struct bcache_block *bcache_insert(struct bcache *bc, struct bcache_block *b);
void bcache_unpin(struct bcache *bc, struct bcache_block *b);
/* Drops every unpinned block of ino (any version). */
void bcache_drop(struct bcache *bc, uint64_t ino);
void bcache_stats(struct bcache *bc, struct bcache_stats *out);
/* Bytes cached of blocks 0..nblocks-1 of (ino, version); no hit or miss
 * is counted and nothing moves in the LRU. */
uint64_t bcache_cached(struct bcache *bc, uint64_t ino, uint64_t version, uint64_t nblocks);

#endif
