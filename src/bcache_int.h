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
 * Tiers: with a DISK tier attached (bcache_set_disk, src/dcache_int.h)
 * every block inserted is also queued for the disk (write-through), a
 * memory miss in bcache_fetch reads the disk before the under-storage and
 * promotes what it finds, a memory hit refreshes the block's recency on
 * disk, bcache_cached counts blocks in either tier and bcache_drop drops
 * both. The disk is never touched with the mutex held.
 *
 * Single flight: concurrent bcache_fetch calls for one missing block
 * wait for the first one's fetch (disk, then fill) instead of all
 * fetching it; a failed fetch fails its waiters with the same error.
 *
 * Thread-safety: one mutex guards the table, the lists, the fetches in
 * flight and the counters; block data is immutable once inserted, so
 * readers use it unlocked. Lock order: bcache's mutex, then the disk
 * tier's (a leaf).
 */
#ifndef SRC_BCACHE_INT_H
#define SRC_BCACHE_INT_H

#include <stddef.h>
#include <stdint.h>

struct bcache;
struct dcache;

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
	uint64_t fills;   /* bcache_fetch's fills: blocks read from the UFS */
};

/* Pinned inodes (atrium fs pin): their blocks are never evicted, from
 * memory or disk. set_pinned replaces the set with a copy of inos (n of
 * them, ascending), and gives it to the disk tier too; a cache whose
 * blocks are all pinned may exceed its capacity. */
void bcache_set_pinned(struct bcache *bc, const uint64_t *inos, size_t n);
/* Whether ino is in the ascending set v[0..n). */
static inline int ino_in(const uint64_t *v, size_t n, uint64_t ino)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] == ino)
			return 1;
		if (v[mid] < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

struct bcache *bcache_new(size_t capacity);
void bcache_free(struct bcache *bc);
/* Attaches the DISK tier (before any use; the caller frees it after
 * bcache_free). */
void bcache_set_disk(struct bcache *bc, struct dcache *dc);
/* Fills buf with the len bytes of block index from the under-storage:
 * 0, or an ATR_E_* error. */
typedef int (*bcache_fill_fn)(void *arg, uint64_t index, void *buf, size_t len);
/* The pinned block (ino, version, index) of len bytes: from memory, else
 * from disk, else filled by fill and inserted (once, however many threads
 * ask at the same time). NULL with *err set if the fill failed. */
struct bcache_block *bcache_fetch(struct bcache *bc, uint64_t ino, uint64_t version,
				  uint64_t index, size_t len, bcache_fill_fn fill, void *arg,
				  int *err);
/* bcache_fetch with a read type's modes: BCACHE_NO_PROMOTE, a block found
 * on the disk tier is not also put in memory; BCACHE_NO_FILL, nothing is
 * put in either tier (a memory hit is still used). A block not put in the
 * cache is private to the caller (no other reader sees it), given pinned
 * like the others: bcache_unpin frees it. */
#define BCACHE_NO_PROMOTE 1
#define BCACHE_NO_FILL 2
struct bcache_block *bcache_fetch_as(struct bcache *bc, uint64_t ino, uint64_t version,
				     uint64_t index, size_t len, bcache_fill_fn fill, void *arg,
				     int mode, int *err);
/* Read-ahead (src/readahead_int.h): brings block (ino, version, index) of
 * len bytes into memory before a reader asks for it. Nothing is done if
 * the block is in memory, on the disk tier or being fetched; else it is
 * fetched with fill as bcache_fetch would (a flight: a reader of it
 * meanwhile waits for this fetch), inserted unpinned and written through
 * to disk. No hit or miss is counted, the fill is. A failed fill caches
 * nothing and its waiters fetch the block themselves. */
void bcache_prefetch(struct bcache *bc, uint64_t ino, uint64_t version, uint64_t index,
		     size_t len, bcache_fill_fn fill, void *arg);
/* Waits until the blocks inserted so far are on disk (no-op without one). */
void bcache_flush(struct bcache *bc);
/* The pinned block from memory, or NULL (a miss is counted). */
struct bcache_block *bcache_get(struct bcache *bc, uint64_t ino, uint64_t version, uint64_t index);
/* A fresh unpinned, uncached block with room for len bytes, or NULL. */
struct bcache_block *bcache_alloc(size_t len);
/* Inserts b (filled) and returns the cached block, pinned: b itself, or the
 * copy another thread inserted first (then b is freed). */
struct bcache_block *bcache_insert(struct bcache *bc, struct bcache_block *b);
void bcache_unpin(struct bcache *bc, struct bcache_block *b);
/* Drops every unpinned block of ino (any version), and its blocks on disk. */
void bcache_drop(struct bcache *bc, uint64_t ino);
void bcache_stats(struct bcache *bc, struct bcache_stats *out);
/* Bytes cached, in either tier, of blocks 0..nblocks-1 of (ino, version);
 * no hit or miss is counted and nothing moves in the LRU. */
uint64_t bcache_cached(struct bcache *bc, uint64_t ino, uint64_t version, uint64_t nblocks);

#endif
