/* Block cache: hits, misses, pins, scan-resistant eviction (src/bcache.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "src/bcache_int.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hit_and_miss),
		cmocka_unit_test(capacity_bounds_and_pins),
		cmocka_unit_test(scan_resistance),
		cmocka_unit_test(insert_race_keeps_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
