/* Multi-buffer MD5 (common/md5mb.c) against OpenSSL's: the single-stream
 * path, every kernel the CPU has (forced in turn) over random lengths and
 * splits at odd boundaries, lanes refilled by jobs of unequal lengths, and
 * many threads hashing through one engine at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "common/hash.h"
#include "common/md5mb.h"

static const enum md5mb_impl impls[] = { MD5MB_SCALAR, MD5MB_AVX2, MD5MB_AVX512 };
#define NIMPL (sizeof(impls) / sizeof(impls[0]))

/* A reproducible byte stream (xorshift): tests that fail can be re-run. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void fill(unsigned char *p, size_t n, uint64_t seed)
{
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)rnd(&s);
}

/* Whether the CPU has impl (md5mb_impl_now falls back otherwise). */
static int have(enum md5mb_impl impl)
{
	md5mb_force(impl);
	int yes = md5mb_impl_now() == impl;
	md5mb_force(MD5MB_AUTO);
	return yes;
}

static void vectors(void **state)
{
	static const struct { const char *in, *hex; } v[] = { /* RFC 1321 A.5 */
		{ "", "d41d8cd98f00b204e9800998ecf8427e" },
		{ "a", "0cc175b9c0f1b6a831c399e269772661" },
		{ "abc", "900150983cd24fb0d6963f7d28e17f72" },
		{ "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
		{ "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b" },
		{ "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
		  "57edf4a22be3c955ac49da2e2107b67a" },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct md5mb_ctx c;
		unsigned char sum[16];
		char hex[33];
		md5mb_init(&c);
		md5mb_update(&c, v[i].in, strlen(v[i].in));
		md5mb_final(&c, sum);
		hex_encode(sum, 16, hex);
		assert_string_equal(hex, v[i].hex);
	}
}

/* Every length from 0 to 4 blocks and some larger, fed in pieces cut at
 * odd places, equals OpenSSL's digest. */
static void single_stream_splits(void **state)
{
	static unsigned char data[5000];
	fill(data, sizeof(data), 1);
	for (size_t len = 0; len < sizeof(data); len += len < 300 ? 1 : 97) {
		unsigned char want[16], got[16];
		md5(data, len, want);
		for (size_t cut = 1; cut <= 131; cut += 13) {
			struct md5mb_ctx c;
			md5mb_init(&c);
			for (size_t off = 0; off < len; off += cut)
				md5mb_update(&c, data + off, len - off < cut ? len - off : cut);
			md5mb_final(&c, got);
			assert_memory_equal(got, want, 16);
		}
	}
}

/* n streams of random lengths through md5mb_blocks with one kernel:
 * more jobs than lanes, some with no block, so lanes refill. */
static void lanes_round(enum md5mb_impl impl, int n, uint64_t seed)
{
	enum { MAXJ = 40 };
	struct md5mb_ctx ctx[MAXJ];
	struct md5mb_job jobs[MAXJ];
	unsigned char *buf[MAXJ];
	size_t len[MAXJ];
	uint64_t s = seed + 7;
	md5mb_force(impl);
	for (int i = 0; i < n; i++) {
		len[i] = (size_t)(rnd(&s) % 9000);
		buf[i] = malloc(len[i] + 1);
		assert_non_null(buf[i]);
		fill(buf[i], len[i], seed * 100 + (uint64_t)i);
		md5mb_init(&ctx[i]);
		/* a head of 0..63 bytes on the single path first, then up to
		 * the block boundary: only whole blocks of a context holding
		 * no partial block go to lanes */
		size_t head = (size_t)(rnd(&s) % 64);
		head = head < len[i] ? head : len[i];
		size_t fill_up = (64 - head % 64) % 64;
		fill_up = fill_up < len[i] - head ? fill_up : len[i] - head;
		md5mb_update(&ctx[i], buf[i], head + fill_up);
		size_t whole = (head + fill_up) % 64 ? 0 : (len[i] - head - fill_up) / 64 * 64;
		jobs[i] = (struct md5mb_job){ .ctx = &ctx[i], .p = buf[i] + head + fill_up,
					      .nblocks = whole / 64 };
	}
	md5mb_blocks(jobs, n);
	for (int i = 0; i < n; i++) {
		unsigned char want[16], got[16];
		const unsigned char *done_to = jobs[i].p + jobs[i].nblocks * 64;
		md5mb_update(&ctx[i], done_to, (size_t)(buf[i] + len[i] - done_to));
		md5mb_final(&ctx[i], got);
		md5(buf[i], len[i], want);
		assert_memory_equal(got, want, 16);
		free(buf[i]);
	}
	md5mb_force(MD5MB_AUTO);
}

static void every_kernel(void **state)
{
	int ran = 0;
	for (size_t k = 0; k < NIMPL; k++) {
		if (!have(impls[k]))
			continue; /* the CPU lacks it: AUTO never picks it */
		ran++;
		for (int n = 0; n <= 40; n += n < 18 ? 1 : 11)
			for (uint64_t seed = 1; seed <= 3; seed++)
				lanes_round(impls[k], n, seed * 1000 + (uint64_t)n);
	}
	assert_true(ran >= 1); /* scalar at least */
	assert_true(have(MD5MB_SCALAR));
}

/* The scheduler's picks follow the CPU. */
static void dispatch(void **state)
{
	enum md5mb_impl best = md5mb_best();
	assert_true(best == MD5MB_SCALAR || best == MD5MB_AVX2 || best == MD5MB_AVX512);
	assert_int_equal(md5mb_impl_now(), best);
	assert_int_equal(md5mb_lanes(MD5MB_AVX512), 16);
	assert_int_equal(md5mb_lanes(MD5MB_AVX2), 8);
	if (best == MD5MB_AVX512)
		assert_true(have(MD5MB_AVX2));
}

/* ---- the engine ---- */

#define THREADS 24
#define STREAM_MAX (3u << 20)

struct worker {
	struct md5mb_engine *e;
	uint64_t seed;
	int ok;
};

/* One stream: random length, random piece sizes, then OpenSSL's check. */
static void *worker_run(void *arg)
{
	struct worker *w = arg;
	uint64_t s = w->seed;
	size_t len = (size_t)(rnd(&s) % STREAM_MAX);
	unsigned char *buf = malloc(len + 1), want[16], got[16];
	if (!buf)
		return NULL;
	fill(buf, len, w->seed);
	struct md5mb_ctx c;
	md5mb_init(&c);
	for (size_t off = 0; off < len;) {
		size_t piece = (size_t)(rnd(&s) % (300 * 1024)) + 1;
		piece = piece > len - off ? len - off : piece;
		md5mb_engine_update(w->e, &c, buf + off, piece);
		off += piece;
	}
	md5mb_final(&c, got);
	md5(buf, len, want);
	w->ok = !memcmp(got, want, 16);
	free(buf);
	return NULL;
}

/* cores 1: a thread queues for lanes whenever another hashes; 0: as the
 * daemon runs it (alone while fewer threads hash than the CPUs). */
static void engine_threads(enum md5mb_impl impl, int cores)
{
	struct md5mb_engine *e = md5mb_engine_new(cores);
	pthread_t t[THREADS];
	struct worker w[THREADS];
	uint64_t rounds, jobs;
	assert_non_null(e);
	md5mb_force(impl);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ e, 977 * (uint64_t)i + impl, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_true(w[i].ok);
	}
	md5mb_engine_stats(e, &rounds, &jobs);
	assert_true(rounds >= 1 && jobs >= rounds);
	md5mb_engine_free(e);
	md5mb_force(MD5MB_AUTO);
}

static void engine_many_threads(void **state)
{
	for (size_t k = 0; k < NIMPL; k++)
		if (have(impls[k]))
			engine_threads(impls[k], 1);
	engine_threads(MD5MB_AUTO, 0);
}

/* One thread alone never waits: each update is a round of its own. */
static void engine_alone(void **state)
{
	struct md5mb_engine *e = md5mb_engine_new(1);
	static unsigned char data[200000];
	unsigned char want[16], got[16];
	uint64_t rounds, jobs;
	struct md5mb_ctx c;
	fill(data, sizeof(data), 5);
	md5mb_init(&c);
	for (size_t off = 0; off < sizeof(data); off += 10007)
		md5mb_engine_update(e, &c, data + off,
				    sizeof(data) - off < 10007 ? sizeof(data) - off : 10007);
	md5mb_final(&c, got);
	md5(data, sizeof(data), want);
	assert_memory_equal(got, want, 16);
	md5mb_engine_stats(e, &rounds, &jobs);
	assert_true(rounds == jobs && rounds >= 19);
	md5mb_engine_free(e);
	/* No engine: the single-stream path. */
	md5mb_init(&c);
	md5mb_engine_update(NULL, &c, data, sizeof(data));
	md5mb_final(&c, got);
	assert_memory_equal(got, want, 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vectors),
		cmocka_unit_test(single_stream_splits),
		cmocka_unit_test(dispatch),
		cmocka_unit_test(every_kernel),
		cmocka_unit_test(engine_alone),
		cmocka_unit_test(engine_many_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
