/* The block cache's DISK tier (src/dcache.c) and the tiers together
 * (src/bcache.c): write and read back, torn and corrupt blocks dropped,
 * a restart keeping blocks, versions, capacity, drop, single flight. */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "src/atrium.h"
#include "src/bcache_int.h"
#include "src/dcache_int.h"

#define BS 4096

struct tdir {
	char path[64];
};

static int setup(void **state)
{
	struct tdir *t = calloc(1, sizeof(*t));
	snprintf(t->path, sizeof(t->path), "/tmp/atrium-dcache-XXXXXX");
	if (!mkdtemp(t->path))
		return -1;
	/* The tier's own directory, created by dcache_open. */
	size_t n = strlen(t->path);
	snprintf(t->path + n, sizeof(t->path) - n, "/cache");
	log_set_level(LOG_ERROR);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tdir *t = *state;
	char cmd[128];
	t->path[strlen(t->path) - strlen("/cache")] = '\0';
	snprintf(cmd, sizeof(cmd), "rm -rf %s", t->path);
	int rc = system(cmd);
	free(t);
	return rc;
}

static void fill_pattern(unsigned char *p, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)(seed * 31 + i * 7);
}

static void put(struct dcache *dc, uint64_t ino, uint64_t version, uint64_t index, size_t len)
{
	unsigned char buf[BS];
	fill_pattern(buf, len, ino * 1000 + version * 100 + index);
	dcache_put(dc, ino, version, index, buf, len);
}

static int read_ok(struct dcache *dc, uint64_t ino, uint64_t version, uint64_t index, size_t len)
{
	unsigned char buf[BS], want[BS];
	if (dcache_read(dc, ino, version, index, buf, len))
		return 0;
	fill_pattern(want, len, ino * 1000 + version * 100 + index);
	assert_memory_equal(buf, want, len);
	return 1;
}

static void block_path(const struct tdir *t, uint64_t ino, uint64_t version, uint64_t index,
		       char *out, size_t n)
{
	snprintf(out, n, "%s/%016llx-%016llx-%016llx", t->path, (unsigned long long)ino,
		 (unsigned long long)version, (unsigned long long)index);
}

static void write_and_read_back(void **state)
{
	struct tdir *t = *state;
	struct dcache *dc = dcache_open(t->path, 1 << 20, BS, "owner-a");
	assert_non_null(dc);
	put(dc, 1, 1, 0, BS);
	put(dc, 1, 1, 1, 100); /* a short last block */
	dcache_flush(dc);
	assert_int_equal(dcache_len(dc, 1, 1, 0), BS);
	assert_int_equal(dcache_len(dc, 1, 1, 1), 100);
	assert_true(read_ok(dc, 1, 1, 0, BS));
	assert_true(read_ok(dc, 1, 1, 1, 100));
	assert_false(read_ok(dc, 1, 1, 2, BS));
	assert_false(read_ok(dc, 1, 1, 1, BS)); /* the wrong length is a miss */
	struct dcache_stats s;
	dcache_stats(dc, &s);
	assert_int_equal(s.hits, 2);
	assert_int_equal(s.misses, 2);
	assert_int_equal(s.blocks, 2);
	assert_int_equal(s.bytes, 2 * DCACHE_HDR + BS + 100);
	/* Modes: the directory 0700, blocks 0600. */
	struct stat st;
	char p[128];
	assert_int_equal(stat(t->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	block_path(t, 1, 1, 0, p, sizeof(p));
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* A second instance over the same directory is refused (flock). */
	assert_null(dcache_open(t->path, 1 << 20, BS, "owner-a"));
	dcache_free(dc);
}

static void torn_and_corrupt_blocks_are_dropped(void **state)
{
	struct tdir *t = *state;
	struct dcache *dc = dcache_open(t->path, 1 << 20, BS, "owner-a");
	assert_non_null(dc);
	for (uint64_t i = 0; i < 3; i++)
		put(dc, 2, 1, i, BS);
	dcache_flush(dc);
	char p[128];
	/* Torn: the file cut short. */
	block_path(t, 2, 1, 0, p, sizeof(p));
	assert_int_equal(truncate(p, DCACHE_HDR + BS / 2), 0);
	/* Corrupt: one byte of the data flipped, the size intact. */
	block_path(t, 2, 1, 1, p, sizeof(p));
	int fd = open(p, O_RDWR);
	assert_true(fd >= 0);
	unsigned char c;
	assert_int_equal(pread(fd, &c, 1, DCACHE_HDR + 10), 1);
	c ^= 0x40;
	assert_int_equal(pwrite(fd, &c, 1, DCACHE_HDR + 10), 1);
	close(fd);
	assert_false(read_ok(dc, 2, 1, 0, BS));
	assert_false(read_ok(dc, 2, 1, 1, BS));
	assert_true(read_ok(dc, 2, 1, 2, BS));
	struct dcache_stats s;
	dcache_stats(dc, &s);
	assert_int_equal(s.corrupt, 2);
	assert_int_equal(s.blocks, 1);
	/* Dropped, not kept: the files are gone too. */
	assert_int_equal(access(p, F_OK), -1);
	block_path(t, 2, 1, 0, p, sizeof(p));
	assert_int_equal(access(p, F_OK), -1);
	dcache_free(dc);
}

static void restart_keeps_blocks_and_checks_them(void **state)
{
	struct tdir *t = *state;
	struct dcache *dc = dcache_open(t->path, 1 << 20, BS, "owner-a");
	assert_non_null(dc);
	for (uint64_t i = 0; i < 4; i++)
		put(dc, 3, 7, i, BS);
	dcache_free(dc); /* writes what is queued first */
	char p[128], bad[160];
	/* Damage while stopped: a header naming another block, a length
	 * that does not match the size, a leftover temporary, a stranger. */
	char a[128];
	block_path(t, 3, 7, 1, a, sizeof(a));
	block_path(t, 9, 7, 1, p, sizeof(p));
	assert_int_equal(rename(a, p), 0);
	block_path(t, 3, 7, 2, p, sizeof(p));
	int fd = open(p, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "xx", 2), 2);
	close(fd);
	snprintf(bad, sizeof(bad), "%s/.tmp.whatever", t->path);
	fd = open(bad, O_WRONLY | O_CREAT, 0600);
	close(fd);
	snprintf(bad, sizeof(bad), "%s/README", t->path);
	fd = open(bad, O_WRONLY | O_CREAT, 0600);
	close(fd);

	dc = dcache_open(t->path, 1 << 20, BS, "owner-a");
	assert_non_null(dc);
	struct dcache_stats s;
	dcache_stats(dc, &s);
	assert_int_equal(s.blocks, 2);
	assert_int_equal(s.corrupt, 2);
	assert_true(read_ok(dc, 3, 7, 0, BS));
	assert_true(read_ok(dc, 3, 7, 3, BS));
	assert_false(read_ok(dc, 3, 7, 1, BS));
	assert_false(read_ok(dc, 9, 7, 1, BS));
	assert_int_equal(access(p, F_OK), -1);
	snprintf(bad, sizeof(bad), "%s/.tmp.whatever", t->path);
	assert_int_equal(access(bad, F_OK), -1);
	snprintf(bad, sizeof(bad), "%s/README", t->path);
	assert_int_equal(access(bad, F_OK), 0); /* not ours: left alone */
	/* A version not current is a miss. */
	assert_false(read_ok(dc, 3, 8, 0, BS));
	dcache_free(dc);

	/* Handed to another metadata store: every block is removed. */
	dc = dcache_open(t->path, 1 << 20, BS, "owner-b");
	assert_non_null(dc);
	dcache_stats(dc, &s);
	assert_int_equal(s.blocks, 0);
	assert_false(read_ok(dc, 3, 7, 0, BS));
	dcache_free(dc);
	/* Another block size: the blocks are not these ones. */
	dc = dcache_open(t->path, 1 << 20, BS, "owner-b");
	put(dc, 4, 1, 0, BS);
	dcache_free(dc);
	dc = dcache_open(t->path, 1 << 20, BS * 2, "owner-b");
	assert_non_null(dc);
	dcache_stats(dc, &s);
	assert_int_equal(s.blocks, 0);
	dcache_free(dc);
}

static void a_failed_write_is_counted_not_kept(void **state)
{
	struct tdir *t = *state;
	struct dcache *dc = dcache_open(t->path, 1 << 20, BS, "owner-a");
	assert_non_null(dc);
	/* Its temporary's name taken by a directory: open(O_TRUNC) fails. */
	char p[160], name[128];
	block_path(t, 12, 1, 0, name, sizeof(name));
	snprintf(p, sizeof(p), "%s/.tmp.%s", t->path, strrchr(name, '/') + 1);
	assert_int_equal(mkdir(p, 0700), 0);
	put(dc, 12, 1, 0, BS);
	put(dc, 12, 1, 1, BS);
	dcache_flush(dc);
	struct dcache_stats s;
	dcache_stats(dc, &s);
	assert_int_equal(s.write_errors, 1);
	assert_int_equal(dcache_len(dc, 12, 1, 0), 0);
	assert_false(read_ok(dc, 12, 1, 0, BS));
	assert_true(read_ok(dc, 12, 1, 1, BS));
	assert_int_equal(rmdir(p), 0);
	dcache_free(dc);
}

static void set_state(const struct tdir *t, const char *text)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/.state", t->path);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A run that did not stop: its blocks stay after a process crash (same
 * boot), and go after a reboot (meta.db may have lost transactions). */
static void unclean_stop_across_a_reboot_drops_everything(void **state)
{
	struct tdir *t = *state;
	struct dcache *dc = dcache_open(t->path, 1 << 20, BS, "owner-a");
	assert_non_null(dc);
	put(dc, 11, 1, 0, BS);
	dcache_free(dc);
	char p[128], boot[64] = "";
	snprintf(p, sizeof(p), "%s/.state", t->path);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	assert_non_null(fgets(boot, sizeof(boot), f));
	fclose(f);
	assert_string_equal(boot, "clean");
	f = fopen("/proc/sys/kernel/random/boot_id", "r");
	assert_non_null(f);
	assert_non_null(fgets(boot, sizeof(boot), f));
	fclose(f);
	boot[strcspn(boot, "\n")] = '\0';
	char running[96];
	snprintf(running, sizeof(running), "running %s", boot);
	set_state(t, running); /* killed: the same boot */
	dc = dcache_open(t->path, 1 << 20, BS, "owner-a");
	assert_true(read_ok(dc, 11, 1, 0, BS));
	dcache_free(dc);
	set_state(t, "running 00000000-0000-0000-0000-000000000000"); /* another boot */
	dc = dcache_open(t->path, 1 << 20, BS, "owner-a");
	assert_false(read_ok(dc, 11, 1, 0, BS));
	block_path(t, 11, 1, 0, p, sizeof(p));
	assert_int_equal(access(p, F_OK), -1);
	dcache_free(dc);
}

/* Pinned inodes (atrium fs pin) are never evicted: a scan five times the
 * capacity leaves every block of a pinned inode, and once unpinned they
 * can go. */
static void pinned_inodes_are_never_evicted(void **state)
{
	struct tdir *t = *state;
	uint64_t cap = 20 * (DCACHE_HDR + BS);
	struct dcache *dc = dcache_open(t->path, cap, BS, "owner-a");
	assert_non_null(dc);
	const uint64_t pinned[] = { 3, 9 };
	dcache_set_pinned(dc, pinned, 2);
	for (uint64_t i = 0; i < 4; i++)
		put(dc, 9, 1, i, BS); /* used once: probation, the first to go */
	for (uint64_t i = 0; i < 100; i++)
		put(dc, 6, 1, i, BS);
	dcache_flush(dc);
	for (uint64_t i = 0; i < 4; i++) /* a probe: no hit, no promotion */
		assert_int_equal(dcache_len(dc, 9, 1, i), BS);
	dcache_set_pinned(dc, NULL, 0);
	for (uint64_t i = 100; i < 200; i++)
		put(dc, 6, 1, i, BS);
	dcache_flush(dc);
	uint64_t left = 0;
	for (uint64_t i = 0; i < 4; i++)
		left += dcache_len(dc, 9, 1, i);
	assert_true(left < 4 * BS);
	dcache_free(dc);
}

static void capacity_evicts_between_watermarks(void **state)
{
	struct tdir *t = *state;
	uint64_t cap = 20 * (DCACHE_HDR + BS);
	struct dcache *dc = dcache_open(t->path, cap, BS, "owner-a");
	assert_non_null(dc);
	/* A hot block, used again, is protected... */
	put(dc, 5, 1, 0, BS);
	dcache_flush(dc);
	assert_true(read_ok(dc, 5, 1, 0, BS));
	/* ...from a one-pass scan five times the capacity. */
	for (uint64_t i = 0; i < 100; i++)
		put(dc, 6, 1, i, BS);
	dcache_flush(dc);
	struct dcache_stats s;
	dcache_stats(dc, &s);
	assert_true(s.bytes <= (uint64_t)((double)cap * DCACHE_HIGH));
	assert_true(s.evictions >= 80);
	assert_true(read_ok(dc, 5, 1, 0, BS));
	assert_true(read_ok(dc, 6, 1, 99, BS));
	assert_false(read_ok(dc, 6, 1, 0, BS));
	/* The files follow the index. */
	size_t files = 0;
	DIR *d = opendir(t->path);
	for (struct dirent *de; (de = readdir(d));)
		files += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(files, s.blocks);
	dcache_free(dc);
}

static void drop_takes_every_version(void **state)
{
	struct tdir *t = *state;
	struct dcache *dc = dcache_open(t->path, 1 << 20, BS, "owner-a");
	assert_non_null(dc);
	put(dc, 7, 1, 0, BS);
	put(dc, 7, 2, 0, BS);
	put(dc, 8, 1, 0, BS);
	dcache_drop(dc, 7); /* queued or written: gone either way */
	dcache_flush(dc);
	assert_false(read_ok(dc, 7, 1, 0, BS));
	assert_false(read_ok(dc, 7, 2, 0, BS));
	assert_true(read_ok(dc, 8, 1, 0, BS));
	char p[128];
	block_path(t, 7, 2, 0, p, sizeof(p));
	assert_int_equal(access(p, F_OK), -1);
	/* A newer version in: the older one's blocks go. */
	put(dc, 8, 2, 1, BS);
	dcache_flush(dc);
	assert_int_equal(dcache_len(dc, 8, 1, 0), 0);
	assert_int_equal(dcache_len(dc, 8, 2, 1), BS);
	block_path(t, 8, 1, 0, p, sizeof(p));
	assert_int_equal(access(p, F_OK), -1);
	dcache_drop(dc, 8);
	/* Many inodes (sharing dcache_drop's chains): one goes, all others stay. */
	for (uint64_t ino = 100; ino < 300; ino++)
		put(dc, ino, 1, ino % 3, 64);
	dcache_flush(dc);
	dcache_drop(dc, 150);
	struct dcache_stats s;
	dcache_stats(dc, &s);
	assert_int_equal(s.blocks, 199);
	assert_int_equal(s.stale, 1);
	assert_int_equal(dcache_len(dc, 150, 1, 0), 0);
	for (uint64_t ino = 100; ino < 300; ino++)
		if (ino != 150)
			assert_int_equal(dcache_len(dc, ino, 1, ino % 3), 64);
	dcache_free(dc);
}

/* ---- the tiers together, through bcache ---- */

struct src {
	int fills;
	int fail;
	pthread_mutex_t lock;
};

static int fill(void *arg, uint64_t index, void *buf, size_t len)
{
	struct src *s = arg;
	pthread_mutex_lock(&s->lock);
	s->fills++;
	pthread_mutex_unlock(&s->lock);
	usleep(20000); /* a slow under-storage: the others arrive meanwhile */
	if (s->fail)
		return ATR_E_IO;
	fill_pattern(buf, len, 10 * 1000 + 1 * 100 + index);
	return 0;
}

static struct bcache_block *fetch(struct bcache *bc, struct src *s, uint64_t index, int *err)
{
	return bcache_fetch(bc, 10, 1, index, BS, fill, s, err);
}

static void tiers_write_through_promote_and_count(void **state)
{
	struct tdir *t = *state;
	struct src s = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct dcache *dc = dcache_open(t->path, 1 << 20, BS, "owner-a");
	struct bcache *bc = bcache_new(2 * BS);
	bcache_set_disk(bc, dc);
	int err = 0;
	for (uint64_t i = 0; i < 4; i++)
		bcache_unpin(bc, fetch(bc, &s, i, &err));
	bcache_flush(bc);
	assert_int_equal(s.fills, 4);
	struct bcache_stats ms;
	bcache_stats(bc, &ms);
	assert_int_equal(ms.fills, 4);
	/* Memory holds 2 blocks, the disk all 4: cached counts either. */
	assert_int_equal(bcache_cached(bc, 10, 1, 4), 4 * BS);
	assert_int_equal(bcache_cached(bc, 10, 1, 5), 4 * BS);
	/* Block 0 left memory; it comes back from disk, not the source. */
	struct bcache_block *b = fetch(bc, &s, 0, &err);
	assert_non_null(b);
	assert_int_equal(s.fills, 4);
	bcache_unpin(bc, b);
	struct dcache_stats ds;
	dcache_stats(dc, &ds);
	assert_int_equal(ds.hits, 1);
	/* A restart: a new memory tier and disk tier over the same DIR. */
	bcache_free(bc);
	dcache_free(dc);
	dc = dcache_open(t->path, 1 << 20, BS, "owner-a");
	bc = bcache_new(2 * BS);
	bcache_set_disk(bc, dc);
	assert_int_equal(bcache_cached(bc, 10, 1, 4), 4 * BS);
	for (uint64_t i = 0; i < 4; i++) {
		b = fetch(bc, &s, i, &err);
		assert_non_null(b);
		unsigned char want[BS];
		fill_pattern(want, BS, 10 * 1000 + 100 + i);
		assert_memory_equal(b->data, want, BS);
		bcache_unpin(bc, b);
	}
	assert_int_equal(s.fills, 4);
	/* Drop: both tiers. */
	bcache_drop(bc, 10);
	assert_int_equal(bcache_cached(bc, 10, 1, 4), 0);
	bcache_free(bc);
	dcache_free(dc);
}

struct racer {
	struct bcache *bc;
	struct src *s;
	struct bcache_block *b;
	int err;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	r->b = fetch(r->bc, r->s, 3, &r->err);
	return NULL;
}

static void concurrent_misses_fetch_once(void **state)
{
	struct src s = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct bcache *bc = bcache_new(1 << 20);
	struct racer r[8];
	pthread_t th[8];
	for (int round = 0; round < 2; round++) {
		s.fills = 0;
		s.fail = round == 1;
		if (round == 1)
			bcache_drop(bc, 10);
		for (int i = 0; i < 8; i++) {
			r[i] = (struct racer){ .bc = bc, .s = &s };
			assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
		}
		for (int i = 0; i < 8; i++)
			pthread_join(th[i], NULL);
		/* One fetch for eight readers (a failed one: at most a
		 * straggler's retry after it landed). */
		assert_true(s.fills >= 1 && s.fills <= (round ? 8 : 1));
		if (round == 0) {
			struct bcache_stats ms;
			bcache_stats(bc, &ms);
			assert_int_equal(ms.fills, 1);
			assert_int_equal(ms.misses + ms.hits, 8);
		}
		for (int i = 0; i < 8; i++) {
			if (round == 0) {
				assert_non_null(r[i].b);
				assert_ptr_equal(r[i].b, r[0].b);
				bcache_unpin(bc, r[i].b);
			} else {
				assert_null(r[i].b);
				assert_int_equal(r[i].err, ATR_E_IO);
			}
		}
	}
	bcache_free(bc);
}

/* Readers, evictions (tiny tiers) and drops at once: every block served
 * has its own bytes, whatever tier it came from. */
struct stress {
	struct bcache *bc;
	unsigned seed;
	int bad, stop;
};

static int fill_key(void *arg, uint64_t index, void *buf, size_t len)
{
	(void)arg;
	fill_pattern(buf, len, index * 7 + 3);
	return 0;
}

static void *stress_reader(void *arg)
{
	struct stress *st = arg;
	unsigned char want[BS];
	for (int i = 0; i < 3000; i++) {
		uint64_t ino = 20 + rand_r(&st->seed) % 4, index = rand_r(&st->seed) % 16;
		int err = 0;
		struct bcache_block *b = bcache_fetch(st->bc, ino, 1, index, BS, fill_key, NULL,
						      &err);
		if (!b) {
			st->bad++;
			continue;
		}
		fill_pattern(want, BS, index * 7 + 3);
		if (memcmp(b->data, want, BS))
			st->bad++;
		bcache_unpin(st->bc, b);
	}
	return NULL;
}

static void *stress_dropper(void *arg)
{
	struct stress *st = arg;
	while (!__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE)) {
		bcache_drop(st->bc, 20 + rand_r(&st->seed) % 4);
		usleep(500);
	}
	return NULL;
}

static void readers_evictions_and_drops_at_once(void **state)
{
	struct tdir *t = *state;
	struct dcache *dc = dcache_open(t->path, 24 * (DCACHE_HDR + BS), BS, "owner-a");
	struct bcache *bc = bcache_new(4 * BS);
	bcache_set_disk(bc, dc);
	struct stress st[5];
	pthread_t th[5];
	for (int i = 0; i < 5; i++) {
		st[i] = (struct stress){ .bc = bc, .seed = 1234u + (unsigned)i };
		assert_int_equal(pthread_create(&th[i], NULL, i < 4 ? stress_reader : stress_dropper,
						&st[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	__atomic_store_n(&st[4].stop, 1, __ATOMIC_RELEASE);
	pthread_join(th[4], NULL);
	for (int i = 0; i < 4; i++)
		assert_int_equal(st[i].bad, 0);
	bcache_flush(bc);
	struct dcache_stats s;
	dcache_stats(dc, &s);
	assert_true(s.bytes <= 24 * (DCACHE_HDR + BS));
	assert_int_equal(s.corrupt, 0);
	assert_true(s.hits > 0 && s.evictions > 0); /* every path was taken */
	bcache_free(bc);
	dcache_free(dc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(write_and_read_back, setup, teardown),
		cmocka_unit_test_setup_teardown(torn_and_corrupt_blocks_are_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(restart_keeps_blocks_and_checks_them, setup, teardown),
		cmocka_unit_test_setup_teardown(a_failed_write_is_counted_not_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(unclean_stop_across_a_reboot_drops_everything, setup,
						teardown),
		cmocka_unit_test_setup_teardown(capacity_evicts_between_watermarks, setup, teardown),
		cmocka_unit_test_setup_teardown(pinned_inodes_are_never_evicted, setup, teardown),
		cmocka_unit_test_setup_teardown(drop_takes_every_version, setup, teardown),
		cmocka_unit_test_setup_teardown(tiers_write_through_promote_and_count, setup,
						teardown),
		cmocka_unit_test(concurrent_misses_fetch_once),
		cmocka_unit_test_setup_teardown(readers_evictions_and_drops_at_once, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
