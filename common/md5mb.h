/*
 * md5mb — multi-buffer MD5: independent streams hashed together, one
 * stream per SIMD lane (16 with AVX-512, 8 with AVX2, 8 in portable C),
 * and the engine that lets concurrent uploads share those lanes.
 *
 * MD5 is a serial chain of 64 dependent steps per 64-byte block: one
 * stream cannot go faster than OpenSSL's assembly (~675 MiB/s per core
 * here), but the same instructions on vectors of 16 words advance 16
 * streams at once. docs/architecture.md ("Multi-buffer MD5") says why the
 * engine is a flat combiner and what it bounds.
 *
 * struct md5mb_ctx is one stream, like MD5_CTX: md5mb_init, then
 * md5mb_update (alone, OpenSSL's block function) or md5mb_engine_update
 * (through an engine, shared with whoever hashes at the same time) any
 * number of times with any lengths, then md5mb_final. A context belongs
 * to one thread at a time. md5mb_blocks runs several contexts' pending
 * whole blocks in lanes (the engine's tool; tests and benchmarks too).
 *
 * The engine is thread-safe; md5mb_engine_update returns when its bytes
 * are in the context, having waited for at most one round of somebody
 * else's hashing before its own.
 */
#ifndef COMMON_MD5MB_H
#define COMMON_MD5MB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define MD5MB_BLOCK 64
#define MD5MB_MAX_LANES 16

struct md5mb_ctx {
	uint32_t s[4];                     /* A, B, C, D */
	uint64_t len;                      /* bytes taken in so far */
	unsigned char tail[MD5MB_BLOCK];   /* the partial block: len % 64 bytes */
};

void md5mb_init(struct md5mb_ctx *c);
/* One stream on its own (OpenSSL's block function). */
void md5mb_update(struct md5mb_ctx *c, const void *data, size_t len);
/* Writes the 16-byte digest; c may be initialised again afterwards. */
void md5mb_final(struct md5mb_ctx *c, unsigned char out[16]);

/* nblocks whole blocks at p for ctx, which holds no partial block. */
struct md5mb_job {
	struct md5mb_ctx *ctx;
	const unsigned char *p;
	size_t nblocks;
	struct md5mb_job *next;            /* the engine's queue */
	int done;                          /* the engine's: guarded by its lock */
	pthread_cond_t *wake;              /* signalled when done or to combine */
};

/* Runs every job, as many at once as the lanes of the chosen kernel hold
 * (a lane that finishes takes the next job). Each job's context must hold
 * no partial block and appear in one job only. Advances ctx->len. */
void md5mb_blocks(struct md5mb_job *jobs, int n);

/* The kernel md5mb_blocks uses: AUTO picks the widest the CPU runs. The
 * others are for tests and benchmarks; one the CPU lacks falls back to
 * AUTO. Process-wide. */
enum md5mb_impl { MD5MB_AUTO, MD5MB_SCALAR, MD5MB_AVX2, MD5MB_AVX512 };
void md5mb_force(enum md5mb_impl impl);
/* The kernel AUTO picks / the one in use now, and its lane count. */
enum md5mb_impl md5mb_best(void);
enum md5mb_impl md5mb_impl_now(void);
int md5mb_lanes(enum md5mb_impl impl);
const char *md5mb_impl_name(enum md5mb_impl impl);

struct md5mb_engine;
/* cores: how many threads may hash alone at once before the others queue
 * for lanes (md5mb_engine_update); 0: the CPUs online. */
struct md5mb_engine *md5mb_engine_new(int cores);
/* No thread may be in md5mb_engine_update. */
void md5mb_engine_free(struct md5mb_engine *e);
/* md5mb_update, but with whoever else hashes through e at the same time:
 * while fewer threads hash than there are cores, a thread runs OpenSSL's
 * path without waiting; beyond that, threads that meet share a round in
 * lanes (run by one of them, the combiner). e may be NULL: md5mb_update. */
void md5mb_engine_update(struct md5mb_engine *e, struct md5mb_ctx *c, const void *data,
			 size_t len);
/* Rounds run and jobs they held, for tests and the benchmark. */
void md5mb_engine_stats(struct md5mb_engine *e, uint64_t *rounds, uint64_t *jobs);

#endif
