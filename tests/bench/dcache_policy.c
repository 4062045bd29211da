/*
 * dcache_policy — the disk tier's hit ratio under three workloads,
 * for `DCACHE_PROTECTED_SHARE` as built (tools/bench-dcache-policy.sh
 * builds it twice: 0.8, the segmented LRU src/dcache.c ships, and 0, plain
 * LRU) (docs/performance.md). Not a test.
 *
 * A real dcache over a temporary directory, 4 KiB blocks, capacity CAP
 * blocks; an access reads the block and, on a miss, writes it and waits for
 * the write (so eviction is in step with the accesses). Workloads, over
 * keys drawn with a fixed seed:
 *   zipf        Zipf(1.0) over 8 x CAP keys
 *   zipf+scan   the same, with a one-pass scan of 2 x CAP fresh keys
 *               after every 10 x CAP accesses (a backup, a `fs load`)
 *   loop        keys 0..1.5 x CAP-1 in a loop (the LRU worst case)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "src/dcache_int.h"
#include "common/banned.h"

#define BS 4096
#define CAP 512

static uint64_t rng = 88172645463325252ull;

static double uniform(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / (double)(1ull << 53);
}

struct run {
	uint64_t hits, accesses;
};

static void access_key(struct dcache *dc, uint64_t key, struct run *r, unsigned char *buf)
{
	r->accesses++;
	if (!dcache_read(dc, key + 1, 1, 0, buf, BS)) {
		r->hits++;
		return;
	}
	memset(buf, (int)key, BS);
	dcache_put(dc, key + 1, 1, 0, buf, BS);
	dcache_flush(dc);
}

int main(void)
{
	static unsigned char buf[BS];
	const size_t nkeys = 8 * CAP;
	double *cdf = malloc(nkeys * sizeof(*cdf)), sum = 0;
	for (size_t i = 0; i < nkeys; i++)
		cdf[i] = sum += 1.0 / (double)(i + 1);
	for (size_t i = 0; i < nkeys; i++)
		cdf[i] /= sum;
	log_set_level(LOG_ERROR);
	static const char *const names[] = { "zipf", "zipf+scan", "loop" };
	for (int w = 0; w < 3; w++) {
		char dir[] = "/tmp/atrium-policy-XXXXXX", sub[64], cmd[96];
		if (!mkdtemp(dir))
			return 1;
		snprintf(sub, sizeof(sub), "%s/c", dir);
		struct dcache *dc = dcache_open(sub, (uint64_t)CAP * (DCACHE_HDR + BS), BS, "bench");
		if (!dc)
			return 1;
		struct run warm = { 0 }, r = { 0 };
		uint64_t fresh = 1000000;
		for (int phase = 0; phase < 2; phase++) {
			struct run *cur = phase ? &r : &warm;
			for (uint64_t i = 0; i < 40 * CAP; i++) {
				uint64_t key;
				if (w == 2) {
					key = i % (CAP + CAP / 2);
				} else {
					double u = uniform();
					size_t lo = 0, hi = nkeys - 1;
					while (lo < hi) {
						size_t mid = (lo + hi) / 2;
						if (cdf[mid] < u) lo = mid + 1; else hi = mid;
					}
					key = lo;
				}
				access_key(dc, key, cur, buf);
				if (w == 1 && i % (10 * CAP) == 10 * CAP - 1) {
					struct run scan = { 0 };
					for (int k = 0; k < 2 * CAP; k++)
						access_key(dc, fresh++, &scan, buf);
				}
			}
		}
		struct dcache_stats s;
		dcache_stats(dc, &s);
		printf("share=%.1f workload=%-9s hit_ratio=%.4f accesses=%llu evictions=%llu\n",
		       (double)DCACHE_PROTECTED_SHARE, names[w],
		       (double)r.hits / (double)r.accesses, (unsigned long long)r.accesses,
		       (unsigned long long)s.evictions);
		dcache_free(dc);
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			return 1;
	}
	free(cdf);
	return 0;
}
