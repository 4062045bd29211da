/* Read-ahead (src/readahead.c) over the block cache's prefetch
 * (src/bcache.c): a sequential reader's next blocks are fetched by the
 * workers, each block once, never past the end or the reader's range;
 * a seek starts over; stop waits for the jobs. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "src/atrium.h"
#include "src/readahead_int.h"

#define BS 4096
#define NBLOCKS 32

/* A file whose fills are counted per block, each taking a little while
 * (a remote's latency), so the reader overlaps with the workers. */
struct file {
	pthread_mutex_t lock;
	int fills[NBLOCKS];
	int by_others;       /* fills not made by the reader's thread */
	pthread_t reader;
};

static int fill(void *arg, uint64_t index, void *buf, size_t len)
{
	struct file *f = arg;
	struct timespec ts = { 0, 2 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	memset(buf, (int)index, len);
	pthread_mutex_lock(&f->lock);
	f->fills[index]++;
	f->by_others += !pthread_equal(pthread_self(), f->reader);
	pthread_mutex_unlock(&f->lock);
	return ATR_OK;
}

static void read_block(struct bcache *bc, struct readahead *ra, struct ra_stream *s,
		       struct file *f, uint64_t i, uint64_t size)
{
	int err = 0;
	size_t len = size - i * BS < BS ? (size_t)(size - i * BS) : BS;
	readahead_note(ra, s, i);
	struct bcache_block *b = bcache_fetch(bc, 1, 1, i, len, fill, f, &err);
	assert_non_null(b);
	assert_int_equal(b->data[0], (unsigned char)i);
	assert_int_equal(b->len, len);
	bcache_unpin(bc, b);
}

static void sequential_reads_fetch_ahead_once(void **state)
{
	struct bcache *bc = bcache_new(1 << 20);
	struct readahead *ra;
	assert_int_equal(readahead_new(bc, 4, &ra), ATR_OK);
	struct file f = { .lock = PTHREAD_MUTEX_INITIALIZER, .reader = pthread_self() };
	uint64_t size = 20 * BS + 100; /* 21 blocks, the last short */
	struct ra_stream s;
	readahead_stream_init(ra, &s, 1, 1, 1, size, BS, fill, &f);
	for (uint64_t i = 0; i < 21; i++)
		read_block(bc, ra, &s, &f, i, size);
	readahead_stop(ra, &s);
	for (int i = 0; i < NBLOCKS; i++)
		assert_int_equal(f.fills[i], i < 21 ? 1 : 0); /* once each, none past the end */
	assert_true(f.by_others >= 10); /* most came from the workers */
	assert_int_equal(readahead_issued(ra), 20);
	readahead_free(ra);
	bcache_free(bc);
}

static void a_range_a_seek_and_off(void **state)
{
	struct bcache *bc = bcache_new(1 << 20);
	struct readahead *ra;
	assert_int_equal(readahead_new(bc, 4, &ra), ATR_OK);
	struct file f = { .lock = PTHREAD_MUTEX_INITIALIZER, .reader = pthread_self() };
	uint64_t size = NBLOCKS * BS;
	struct ra_stream s;
	readahead_stream_init(ra, &s, 1, 1, 1, size, BS, fill, &f);
	/* Blocks 10 to 12 of a range ending inside block 12: a seek to 10
	 * reads nothing ahead; 11 asks for 12 alone, the range's last. */
	readahead_until(&s, 12 * BS + 1);
	read_block(bc, ra, &s, &f, 10, size);
	read_block(bc, ra, &s, &f, 11, size);
	read_block(bc, ra, &s, &f, 12, size);
	readahead_stop(ra, &s);
	for (int i = 0; i < NBLOCKS; i++)
		assert_int_equal(f.fills[i], i >= 10 && i <= 12);
	assert_int_equal(readahead_issued(ra), 1);

	/* A stream that is off never reads ahead. */
	struct ra_stream off;
	readahead_stream_init(ra, &off, 0, 2, 1, size, BS, fill, &f);
	readahead_note(ra, &off, 0);
	readahead_note(ra, &off, 1);
	readahead_stop(ra, &off);
	assert_int_equal(readahead_issued(ra), 1);
	readahead_free(ra);

	/* Nor does a window of 0 (no workers). */
	assert_int_equal(readahead_new(bc, 0, &ra), ATR_OK);
	readahead_stream_init(ra, &s, 1, 3, 1, size, BS, fill, &f);
	readahead_note(ra, &s, 0);
	readahead_stop(ra, &s);
	assert_int_equal(readahead_issued(ra), 0);
	readahead_free(ra);
	bcache_free(bc);
}

/* A stream stopped right after asking: its queued jobs are dropped and
 * its running ones done when stop returns, so the file may go. */
static void stop_waits_for_the_jobs(void **state)
{
	struct bcache *bc = bcache_new(1 << 20);
	struct readahead *ra;
	assert_int_equal(readahead_new(bc, 16, &ra), ATR_OK);
	for (int round = 0; round < 20; round++) {
		struct file f = { .lock = PTHREAD_MUTEX_INITIALIZER, .reader = pthread_self() };
		struct ra_stream s;
		readahead_stream_init(ra, &s, 1, 10 + (uint64_t)round, 1, NBLOCKS * BS, BS, fill,
				      &f);
		readahead_note(ra, &s, 0);
		readahead_stop(ra, &s);
		assert_int_equal(s.jobs, 0);
		pthread_mutex_lock(&f.lock);
		int total = 0;
		for (int i = 0; i < NBLOCKS; i++)
			total += f.fills[i];
		pthread_mutex_unlock(&f.lock);
		assert_true(total <= 16);
	}
	readahead_free(ra);
	bcache_free(bc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sequential_reads_fetch_ahead_once),
		cmocka_unit_test(a_range_a_seek_and_off),
		cmocka_unit_test(stop_waits_for_the_jobs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
