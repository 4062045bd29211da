/*
 * md5mb — aggregate MD5 throughput for 1, 2, 4, 8 and 16 concurrent
 * streams (`make bench-md5`, docs/performance.md). Not a test.
 *
 * Each stream is a thread hashing its own STREAM_MIB MiB buffer in
 * 256 KiB pieces (a PUT body arrives in pieces of the server's I/O
 * buffer, S3_IO_BUFFER), ROUNDS times over:
 *   openssl   every thread on its own with OpenSSL's MD5 (EVP, as before)
 *   engine    every thread through one md5mb engine (the daemon's path)
 * and, on one thread, the kernels' capacity: N streams in md5mb_blocks
 * with each kernel the CPU has. Figures are MiB of input per second of
 * wall time, medians of 3 alternated runs; the machine's cores bound the
 * threaded ones.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/hash.h"
#include "common/md5mb.h"
#include "common/banned.h"

#define STREAM_MIB 64
#define PIECE (256 * 1024)
#define MAXS 16

static unsigned char *bufs[MAXS];
static struct md5mb_engine *engine;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *run_openssl(void *arg)
{
	unsigned char *b = arg, sum[16];
	struct hash h;
	if (hash_init(&h, HASH_MD5))
		return NULL;
	for (size_t off = 0; off < (size_t)STREAM_MIB << 20; off += PIECE)
		hash_update(&h, b + off, PIECE);
	hash_final(&h, sum);
	return NULL;
}

static void *run_engine(void *arg)
{
	unsigned char *b = arg, sum[16];
	struct md5mb_ctx c;
	md5mb_init(&c);
	for (size_t off = 0; off < (size_t)STREAM_MIB << 20; off += PIECE)
		md5mb_engine_update(engine, &c, b + off, PIECE);
	md5mb_final(&c, sum);
	return NULL;
}

/* MiB/s of n threads each running fn over its buffer. */
static double threaded(void *(*fn)(void *), int n)
{
	pthread_t t[MAXS];
	double t0 = now();
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, fn, bufs[i]);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return n * STREAM_MIB / (now() - t0);
}

/* MiB/s of one thread running n streams through md5mb_blocks. */
static double kernel_rate(enum md5mb_impl impl, int n)
{
	struct md5mb_ctx ctx[MAXS];
	struct md5mb_job jobs[MAXS];
	md5mb_force(impl);
	double t0 = now();
	for (int i = 0; i < n; i++) {
		md5mb_init(&ctx[i]);
		jobs[i] = (struct md5mb_job){ .ctx = &ctx[i], .p = bufs[i],
					      .nblocks = ((size_t)STREAM_MIB << 20) / 64 };
	}
	md5mb_blocks(jobs, n);
	double r = n * STREAM_MIB / (now() - t0);
	md5mb_force(MD5MB_AUTO);
	return r;
}

static double median3(const double v[3])
{
	double lo = v[0] < v[1] ? v[0] : v[1], hi = v[0] < v[1] ? v[1] : v[0];
	return v[2] < lo ? lo : v[2] > hi ? hi : v[2];
}

int main(void)
{
	static const int counts[] = { 1, 2, 4, 8, 16 };
	static const enum md5mb_impl impls[] = { MD5MB_SCALAR, MD5MB_AVX2, MD5MB_AVX512 };
	for (int i = 0; i < MAXS; i++) {
		if (!(bufs[i] = malloc((size_t)STREAM_MIB << 20)))
			return 1;
		for (size_t j = 0; j < (size_t)STREAM_MIB << 20; j++)
			bufs[i][j] = (unsigned char)(j * 31 + (size_t)i);
	}
	engine = md5mb_engine_new(0);
	printf("md5mb: kernel %s (%d lanes); %d MiB per stream, %d KiB pieces; MiB/s, medians of 3\n",
	       md5mb_impl_name(md5mb_best()), md5mb_lanes(md5mb_best()), STREAM_MIB, PIECE / 1024);
	printf("%-8s %10s %10s %8s", "streams", "openssl", "engine", "ratio");
	for (size_t k = 0; k < 3; k++)
		printf(" %9s/1t", md5mb_impl_name(impls[k]));
	printf("\n");
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		int n = counts[c];
		double o[3], e[3], k[3][3] = { { 0 } };
		/* alternated, so the machine's noise falls on both */
		for (int r = 0; r < 3; r++) {
			o[r] = threaded(run_openssl, n);
			e[r] = threaded(run_engine, n);
			for (size_t j = 0; j < 3; j++) {
				md5mb_force(impls[j]);
				int has = md5mb_impl_now() == impls[j];
				md5mb_force(MD5MB_AUTO);
				k[j][r] = has ? kernel_rate(impls[j], n) : 0;
			}
		}
		printf("%-8d %10.0f %10.0f %7.2fx", n, median3(o), median3(e), median3(e) / median3(o));
		for (size_t j = 0; j < 3; j++)
			printf(" %12.0f", median3(k[j]));
		printf("\n");
	}
	md5mb_engine_free(engine);
	return 0;
}
