/* Block cache: hits, misses, pins, scan-resistant eviction (src/bcache.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "src/bcache_int.h"
#include "src/dcache_int.h"

static struct bcache_block *put(struct bcache *bc, uint64_t ino, uint64_t idx, size_t len)
{
	struct bcache_block *b = bcache_alloc(len);
	assert_non_null(b);
	memset(b->data, (int)(ino + idx), len);
	b->ino = ino;
	b->version = 1;
	b->index = idx;
	return bcache_insert(bc, b);
}

static void hit_and_miss(void **state)
{
	struct bcache *bc = bcache_new(1 << 20);
	struct bcache_stats s;
	assert_null(bcache_get(bc, 1, 1, 0));
	bcache_unpin(bc, put(bc, 1, 0, 4096));
	struct bcache_block *b = bcache_get(bc, 1, 1, 0);
	assert_non_null(b);
	assert_int_equal(b->data[0], 1);
	bcache_unpin(bc, b);
	assert_null(bcache_get(bc, 1, 2, 0)); /* another version is another block */
	bcache_stats(bc, &s);
	assert_int_equal(s.hits, 1);
	assert_int_equal(s.misses, 2);
	assert_int_equal(s.bytes, 4096);
	bcache_free(bc);
}

static void capacity_bounds_and_pins(void **state)
{
	struct bcache *bc = bcache_new(10 * 1000);
	struct bcache_stats s;
	struct bcache_block *pinned = put(bc, 7, 0, 1000);
	for (uint64_t i = 0; i < 50; i++)
		bcache_unpin(bc, put(bc, 1, i, 1000));
	bcache_stats(bc, &s);
	assert_true(s.bytes <= 10 * 1000);
	assert_true(s.evictions >= 40);
	/* The pinned block survived everything. */
	struct bcache_block *b = bcache_get(bc, 7, 1, 0);
	assert_ptr_equal(b, pinned);
	bcache_unpin(bc, b);
	bcache_unpin(bc, pinned);
	bcache_free(bc);
}

static void scan_resistance(void **state)
{
	struct bcache *bc = bcache_new(10 * 1000);
	/* A hot working set, read twice so it is protected... */
	for (uint64_t i = 0; i < 4; i++)
		bcache_unpin(bc, put(bc, 1, i, 1000));
	for (uint64_t i = 0; i < 4; i++)
		bcache_unpin(bc, bcache_get(bc, 1, 1, i));
	/* ...survives a long one-pass scan. */
	for (uint64_t i = 0; i < 100; i++)
		bcache_unpin(bc, put(bc, 2, i, 1000));
	for (uint64_t i = 0; i < 4; i++) {
		struct bcache_block *b = bcache_get(bc, 1, 1, i);
		assert_non_null(b);
		bcache_unpin(bc, b);
	}
	bcache_free(bc);
}

static void insert_race_keeps_first(void **state)
{
	struct bcache *bc = bcache_new(1 << 20);
	struct bcache_block *a = put(bc, 3, 0, 100);
	struct bcache_block *b = put(bc, 3, 0, 100); /* same key: the first wins */
	assert_ptr_equal(a, b);
	bcache_unpin(bc, a);
	bcache_unpin(bc, b);
	bcache_free(bc);
}

/* bcache_fill_fn counting its calls (the under-storage's reads). */
static int fill_count(void *arg, uint64_t index, void *buf, size_t len)
{
	int *n = arg;
	(*n)++;
	memset(buf, (int)(0x40 + index), len);
	return 0;
}

/* The read types' modes (src/persist.c): NO_FILL reads without caching
 * (a private block, freed by unpin), but uses what is cached; the
 * default caches what the fill brought. */
static void fetch_modes_without_a_disk(void **state)
{
	struct bcache *bc = bcache_new(1 << 20);
	struct bcache_stats s;
	int fills = 0, err = 0;
	for (int i = 0; i < 2; i++) {
		struct bcache_block *b = bcache_fetch_as(bc, 5, 1, 0, 100, fill_count, &fills,
							 BCACHE_NO_FILL | BCACHE_NO_PROMOTE, &err);
		assert_non_null(b);
		assert_int_equal(b->data[99], 0x40);
		bcache_unpin(bc, b); /* frees it */
	}
	assert_int_equal(fills, 2);
	assert_int_equal(bcache_cached(bc, 5, 1, 1), 0);
	bcache_stats(bc, &s);
	assert_int_equal(s.fills, 2);
	assert_int_equal(s.blocks, 0);
	struct bcache_block *b = bcache_fetch_as(bc, 5, 1, 0, 100, fill_count, &fills, 0, &err);
	assert_non_null(b);
	bcache_unpin(bc, b);
	assert_int_equal(fills, 3);
	assert_int_equal(bcache_cached(bc, 5, 1, 1), 100);
	/* Cached now: NO_FILL is a hit, no fill. */
	b = bcache_fetch_as(bc, 5, 1, 0, 100, fill_count, &fills, BCACHE_NO_FILL, &err);
	assert_non_null(b);
	bcache_unpin(bc, b);
	assert_int_equal(fills, 3);
	bcache_free(bc);
}

/* With a disk tier: NO_PROMOTE serves a disk block without putting it in
 * memory (CACHE); mode 0 promotes it (CACHE_PROMOTE). */
static void fetch_modes_with_a_disk(void **state)
{
	char dir[] = "/tmp/atrium-bcache-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char tier[64];
	snprintf(tier, sizeof(tier), "%s/tier", dir);
	struct dcache *dc = dcache_open(tier, 16 << 20, 4096, "owner");
	assert_non_null(dc);
	struct bcache *bc = bcache_new(1 << 20);
	bcache_set_disk(bc, dc);
	int fills = 0, err = 0;
	struct bcache_block *b = bcache_fetch(bc, 9, 1, 0, 4096, fill_count, &fills, &err);
	assert_non_null(b);
	bcache_unpin(bc, b);
	bcache_flush(bc);
	bcache_drop(bc, 9); /* both tiers */
	b = bcache_fetch(bc, 9, 1, 0, 4096, fill_count, &fills, &err);
	bcache_unpin(bc, b);
	bcache_flush(bc);
	assert_int_equal(fills, 2);
	/* Out of memory only: evict it there by filling memory with others. */
	struct bcache_stats s;
	for (uint64_t i = 0; i < 300; i++)
		bcache_unpin(bc, put(bc, 100, i, 4096));
	bcache_flush(bc);
	bcache_stats(bc, &s);
	assert_null(bcache_get(bc, 9, 1, 0));
	for (int i = 0; i < 2; i++) {
		b = bcache_fetch_as(bc, 9, 1, 0, 4096, fill_count, &fills, BCACHE_NO_PROMOTE, &err);
		assert_non_null(b);
		assert_int_equal(b->data[0], 0x40);
		bcache_unpin(bc, b);
		assert_null(bcache_get(bc, 9, 1, 0)); /* not promoted */
	}
	assert_int_equal(fills, 2); /* from disk, not the under-storage */
	b = bcache_fetch_as(bc, 9, 1, 0, 4096, fill_count, &fills, 0, &err);
	bcache_unpin(bc, b);
	b = bcache_get(bc, 9, 1, 0); /* promoted */
	assert_non_null(b);
	bcache_unpin(bc, b);
	assert_int_equal(fills, 2);
	bcache_free(bc);
	dcache_free(dc);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* Pinned inodes' blocks survive any amount of eviction; unpinned, they go. */
static void pinned_inodes_stay(void **state)
{
	struct bcache *bc = bcache_new(10 * 1000);
	const uint64_t pinned[] = { 4 };
	bcache_set_pinned(bc, pinned, 1);
	for (uint64_t i = 0; i < 3; i++)
		bcache_unpin(bc, put(bc, 4, i, 1000));
	for (uint64_t i = 0; i < 100; i++)
		bcache_unpin(bc, put(bc, 8, i, 1000));
	assert_int_equal(bcache_cached(bc, 4, 1, 3), 3000); /* a probe: no hit, no promotion */
	bcache_set_pinned(bc, NULL, 0);
	for (uint64_t i = 100; i < 200; i++)
		bcache_unpin(bc, put(bc, 8, i, 1000));
	assert_int_equal(bcache_cached(bc, 4, 1, 3), 0);
	bcache_free(bc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pinned_inodes_stay),
		cmocka_unit_test(fetch_modes_without_a_disk),
		cmocka_unit_test(fetch_modes_with_a_disk),
		cmocka_unit_test(hit_and_miss),
		cmocka_unit_test(capacity_bounds_and_pins),
		cmocka_unit_test(scan_resistance),
		cmocka_unit_test(insert_race_keeps_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
