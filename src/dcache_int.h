/*
 * dcache — the block cache's DISK tier (`--cache-disk DIR:SIZE`).
 *
 * What it holds: copies of cache blocks, keyed like the memory tier by
 * (ino, version, index), one file per block in DIR, named
 * "<ino>-<version>-<index>" in 16-digit hex. ino is never reused by the
 * metadata store (AUTOINCREMENT) and a change bumps version (an S3
 * overwrite makes a new row, a new ino), so a block is valid exactly
 * while its object's row has that ino and version: a changed
 * object can never be served stale bytes, and old versions are garbage:
 * when a block of a newer version is written, the inode's older blocks
 * are removed (the rest age out). Because ino is only unique within one
 * metadata store, DIR is bound to one: dcache_open's owner tag (the data
 * directory's cache id) is kept in DIR/.owner and, when it differs, every
 * block in DIR is removed first. And because the store runs with
 * synchronous=NORMAL, a power loss can lose its last transactions and
 * hand a version out again: DIR/.state says "running BOOT_ID" while the
 * tier is open ("clean" once closed), and a DIR left running by another
 * boot is emptied too (a process crash, same boot, keeps its blocks).
 *
 * A block file is a header then the data:
 *   magic "ATRBLK02" | ino | version | index (u64) | len | block size |
 *   CRC-32C of the data | CRC-32C of the header's first 44 bytes (u32),
 * host byte order (the cache is local to the host). A block is written
 * to ".tmp.<name>" and renamed into place, so a process crash never
 * leaves a half block under a block's name; there is no fsync, so after
 * a power loss a named file may be torn — the CRCs catch that on read
 * and the block is dropped (counted as corrupt), never served.
 *
 * Why one file per block rather than slab files: a block is 1 MiB, so
 * per-file overhead is small; eviction is an unlink (space comes back at
 * once, no slab compaction or free-space map to keep crash-consistent);
 * rename gives atomic publication for free; and a restart rebuilds the
 * index with one directory scan.
 *
 * At open, DIR is created 0700 and locked (flock: one daemon per DIR);
 * the index is rebuilt by scanning it: every file's header is read and a
 * file whose header does not match its name, whose length does not
 * match its size or whose block size is not the current one is removed,
 * as are leftover temporaries. The data CRC is checked on every read.
 * Recency survives too: a block's mtime is its last access (a DISK hit
 * touches it), and the scan orders the LRU by it.
 *
 * Eviction is segmented LRU like the memory tier: a new block enters
 * probation; an access (a DISK hit, or a hit of its copy in memory,
 * dcache_touch) moves it to the protected segment (at most 80 %). When
 * usage passes the high watermark (95 % of capacity) the writer evicts
 * down to the low one (90 %), coldest first, probation before protected.
 *
 * Writes are write-behind on one worker thread ("atr-dcache") with a
 * bounded queue (DCACHE_QUEUE blocks, copied): dcache_put returns once
 * the block is queued (waiting for room), dcache_flush waits until every
 * block queued before it is on disk (or failed).
 *
 * Thread-safety: every call is thread-safe. dc->lock (a leaf below the
 * memory tier's lock) guards the index, the lists, the queue and the
 * counters; no I/O is done under it: readers look the name up, release
 * the lock, then open the file (a block evicted meanwhile is a miss).
 */
#ifndef SRC_DCACHE_INT_H
#define SRC_DCACHE_INT_H

#include <stddef.h>
#include <stdint.h>

struct dcache;

#define DCACHE_HDR 48
#define DCACHE_QUEUE 16
#define DCACHE_HIGH 0.95
#define DCACHE_LOW 0.90

struct dcache_stats {
	uint64_t hits, misses, evictions;
	uint64_t bytes;       /* file bytes: headers included */
	uint64_t capacity, blocks;
	uint64_t corrupt;     /* blocks dropped for a bad header or CRC */
	uint64_t write_errors;
	uint64_t stale;       /* blocks of an old version dropped when a newer came */
};

/* Opens (creating) the tier in dir with capacity bytes, for blocks of
 * block_size; owner binds dir to one metadata store (see above). NULL
 * after logging why. */
struct dcache *dcache_open(const char *dir, uint64_t capacity, size_t block_size,
			   const char *owner);
/* The pinned inodes (bcache_set_pinned's): never evicted. */
void dcache_set_pinned(struct dcache *dc, const uint64_t *inos, size_t n);
/* Writes what is queued, stops the worker, frees everything. */
void dcache_free(struct dcache *dc);
/* Reads block (ino, version, index) of exactly len bytes into buf: 0, or
 * -1 for a miss (counted; a block that fails its checks is removed). */
int dcache_read(struct dcache *dc, uint64_t ino, uint64_t version, uint64_t index, void *buf,
		size_t len);
/* Queues a copy of the block for writing (nothing if it is already on
 * disk or queued; waits while the queue is full). */
void dcache_put(struct dcache *dc, uint64_t ino, uint64_t version, uint64_t index,
		const void *data, size_t len);
/* Waits until every block queued before the call is written or failed. */
void dcache_flush(struct dcache *dc);
/* The block's length if it is on disk, else 0; counts nothing. */
size_t dcache_len(struct dcache *dc, uint64_t ino, uint64_t version, uint64_t index);
/* The block was used (its memory copy was hit): protect it from eviction. */
void dcache_touch(struct dcache *dc, uint64_t ino, uint64_t version, uint64_t index);
/* Removes every block of ino (any version), queued ones included. */
void dcache_drop(struct dcache *dc, uint64_t ino);
void dcache_stats(struct dcache *dc, struct dcache_stats *out);

#endif
