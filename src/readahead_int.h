/*
 * readahead — fetching the next blocks of a file read sequentially from a
 * remote under-storage before its reader asks for them, so a cold
 * sequential read (an S3 GET of a large object, a copy, fs load) costs
 * about one round trip per window of blocks, not one per block.
 *
 * A reader (struct ra_stream, embedded in struct atr_reader) tells each
 * block it reads (readahead_note). When the block follows the one read
 * before (block 0 counts as following nothing), the next blocks up to
 * `window` ahead that are not yet asked for are queued; a pool of
 * RA_WORKERS threads ("atr-readahead") fetches them with
 * bcache_prefetch: a block in memory, on the disk tier or already being
 * fetched is left alone, and a reader reaching a block being prefetched
 * waits for that fetch (bcache's single flight), so no block is read
 * twice. Bounds: at most `window` blocks ahead per stream, never past the
 * end of the file, at most RA_QUEUE_MAX jobs queued and RA_WORKERS
 * fetches running over all streams (a full queue drops the rest: the
 * next block read queues them again). Only the caller decides which
 * streams read ahead (remote files, not NO_CACHE, not encrypted).
 *
 * Lifetime: readahead_stop (the reader closing) removes the stream's
 * queued jobs and waits for its running ones, so no job outlives the
 * reader's file. A prefetched block evicted before it is read is simply
 * fetched again by the reader.
 *
 * Thread-safety: readahead_note and readahead_stop are called by the
 * stream's reader, one thread at a time; jobs, queue and counters are
 * guarded by the readahead's mutex (a leaf: no other lock is taken with
 * it held; bcache's is taken by the workers with it released).
 */
#ifndef SRC_READAHEAD_INT_H
#define SRC_READAHEAD_INT_H

#include <stdint.h>

#include "src/bcache_int.h"

#define RA_WORKERS 4
#define RA_QUEUE_MAX 64

struct readahead;

struct ra_stream {
	int on;                    /* reads ahead (readahead_stream_init) */
	uint64_t ino, version, size;
	uint64_t until;            /* read up to this byte (readahead_until) */
	size_t block_size;
	bcache_fill_fn fill;       /* reads a block of the stream's file */
	void *arg;
	uint64_t last;             /* the block read last (UINT64_MAX: none) */
	uint64_t end;              /* blocks before it are asked for already */
	int jobs;                  /* queued and running; guarded by the lock */
};

/* window: blocks ahead per stream (0: no read-ahead, no threads). */
int readahead_new(struct bcache *bc, int window, struct readahead **out);
/* Stops the workers; every stream has been stopped. NULL is a no-op. */
void readahead_free(struct readahead *ra);
/* Makes s a stream of (ino, version) of size bytes read through fill;
 * it reads ahead when on and ra has a window. */
void readahead_stream_init(struct readahead *ra, struct ra_stream *s, int on, uint64_t ino,
			   uint64_t version, uint64_t size, size_t block_size,
			   bcache_fill_fn fill, void *arg);
/* Nothing at or past byte end is read ahead (the stream's size: none). */
void readahead_until(struct ra_stream *s, uint64_t end);
/* The stream's reader read block index. */
void readahead_note(struct readahead *ra, struct ra_stream *s, uint64_t index);
/* No more jobs for s: queued ones dropped, running ones waited for. */
void readahead_stop(struct readahead *ra, struct ra_stream *s);
/* Blocks queued for read-ahead since the start. */
uint64_t readahead_issued(struct readahead *ra);

#endif
