/* The metadata store (src/meta_*.c) driven directly over a temp directory:
 * schema and migrations, buckets, object rows and their scans, renames,
 * hard-link nodes, multipart rows, the side tables (tags, xattrs, ACLs,
 * checksums, part sizes, intents, idmap) and transactions. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "common/log.h"
#include "src/core_int.h"
#include "src/meta_int.h"

struct mfix {
	char dir[64];
	char path[96];
	struct meta *m;
};

static int setup(void **state)
{
	struct mfix *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/atrium-meta-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/meta.db", f->dir);
	log_set_level(LOG_OFF); /* the failures provoked below log errors */
	assert_int_equal(meta_open(f->path, &f->m), ATR_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct mfix *f = *state;
	char cmd[128];
	meta_close(f->m);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void reopen(struct mfix *f)
{
	meta_close(f->m);
	f->m = NULL;
	assert_int_equal(meta_open(f->path, &f->m), ATR_OK);
}

static struct meta_row file_row(uint64_t size, const char *owner)
{
	struct meta_row r = { 0 };
	r.obj.size = size;
	r.obj.mtime_ns = 1000 + (int64_t)size;
	r.obj.version = 1;
	r.obj.mode = 0644;
	r.obj.gid = -1;
	snprintf(r.obj.owner, sizeof(r.obj.owner), "%s", owner);
	return r;
}

static struct meta_row dir_row(int implicit)
{
	struct meta_row r = file_row(0, "root");
	r.obj.is_dir = 1;
	r.obj.mode = 0755;
	r.implicit = implicit;
	return r;
}

static uint64_t put(struct meta *m, const char *bucket, const char *key, struct meta_row r)
{
	assert_int_equal(meta_obj_put(m, bucket, key, &r), ATR_OK);
	assert_true(r.obj.ino > 0);
	return r.obj.ino;
}

static void add_bucket(struct meta *m, const char *name, const char *owner)
{
	struct atr_bucket b = { 0 };
	snprintf(b.name, sizeof(b.name), "%s", name);
	snprintf(b.owner, sizeof(b.owner), "%s", owner);
	snprintf(b.location, sizeof(b.location), "here");
	b.ctime_ns = 42;
	assert_int_equal(meta_bucket_insert(m, &b), ATR_OK);
}

/* Keys a scan hands out, joined by ','; stops after stop_after (0: never). */
struct keys {
	char s[512];
	int n, stop_after;
};

static int key_cb(void *arg, const char *key, const struct meta_row *row)
{
	struct keys *k = arg;
	size_t len = strlen(k->s);
	snprintf(k->s + len, sizeof(k->s) - len, "%s%s", k->n ? "," : "", key);
	return ++k->n == k->stop_after;
}

static const char *scan(struct meta *m, const char *from, int inclusive, const char *upto,
			int visible_only, struct keys *k)
{
	memset(k, 0, sizeof(*k));
	assert_int_equal(meta_obj_scan(m, "b", from, inclusive, upto, visible_only, key_cb, k),
			 ATR_OK);
	return k->s;
}

static int bucket_cb(void *arg, const struct atr_bucket *b)
{
	struct keys *k = arg;
	size_t len = strlen(k->s);
	snprintf(k->s + len, sizeof(k->s) - len, "%s%s", k->n ? "," : "", b->name);
	return ++k->n == k->stop_after;
}

static void open_reopen_and_migrate(void **state)
{
	struct mfix *f = *state;
	add_bucket(f->m, "b", "alice");
	struct meta_row r = file_row(5, "alice");
	r.obj.hdrs = (char *)"Content-Type: a/b\r\n";
	uint64_t ino = put(f->m, "b", "k", r);
	reopen(f);
	reopen(f); /* the schema and every migration run again: idempotent */
	struct meta_row got = { 0 };
	assert_int_equal(meta_obj_get(f->m, "b", "k", &got, 1), ATR_OK);
	assert_int_equal(got.obj.ino, ino);
	assert_string_equal(got.obj.hdrs, "Content-Type: a/b\r\n");
	atr_obj_release(&got.obj);
	assert_int_equal(meta_bucket_get(f->m, "b", NULL), ATR_OK);
	/* ino is AUTOINCREMENT: a deleted row's number is never handed out again. */
	assert_int_equal(meta_obj_delete(f->m, "b", "k"), ATR_OK);
	reopen(f);
	assert_true(put(f->m, "b", "k2", file_row(1, "alice")) > ino);

	/* A store from before the POSIX, hard-link, ACL and bucket-setting
	 * columns gains them with their defaults. */
	char old[128];
	snprintf(old, sizeof(old), "%s/old.db", f->dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(old, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
		"CREATE TABLE buckets(name TEXT PRIMARY KEY, owner TEXT NOT NULL,"
		"  location TEXT NOT NULL DEFAULT '', ctime INTEGER NOT NULL,"
		"  mode INTEGER NOT NULL DEFAULT 493);"
		"CREATE TABLE objects(ino INTEGER PRIMARY KEY AUTOINCREMENT,"
		"  bucket TEXT NOT NULL, key TEXT NOT NULL, is_dir INTEGER NOT NULL,"
		"  implicit INTEGER NOT NULL DEFAULT 0, size INTEGER NOT NULL DEFAULT 0,"
		"  mtime INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL DEFAULT 1,"
		"  mode INTEGER NOT NULL, owner TEXT NOT NULL, etag TEXT NOT NULL DEFAULT '',"
		"  hdrs TEXT, dir_mtime INTEGER NOT NULL DEFAULT 0, UNIQUE(bucket, key));"
		"INSERT INTO buckets(name, owner, ctime) VALUES ('ob', 'carol', 7);"
		"INSERT INTO objects(bucket, key, is_dir, size, mode, owner, etag)"
		"  VALUES ('ob', 'x', 0, 3, 420, 'carol', 'e1');",
		NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	struct meta *om;
	for (int pass = 0; pass < 2; pass++) {
		assert_int_equal(meta_open(old, &om), ATR_OK);
		struct meta_row o = { 0 };
		assert_int_equal(meta_obj_get(om, "ob", "x", &o, 0), ATR_OK);
		assert_int_equal(o.obj.size, 3);
		assert_string_equal(o.obj.etag, "e1");
		assert_int_equal(o.obj.gid, -1);
		assert_int_equal(o.obj.node, pass ? o.obj.ino : 0); /* set below, kept */
		assert_int_equal(o.has_acl, 0);
		assert_int_equal(o.pending, 0);
		assert_int_equal(o.persist, ATR_PERSISTED); /* all a store had before */
		assert_int_equal(meta_pq_put(om, o.obj.ino, 1), ATR_OK);
		assert_int_equal(meta_pq_done(om, o.obj.ino), ATR_OK);
		struct atr_bucket b = { 0 };
		assert_int_equal(meta_bucket_get(om, "ob", &b), ATR_OK);
		assert_string_equal(b.owner, "carol");
		assert_int_equal(b.public_block, -1);
		assert_int_equal(b.ownership, -1);
		assert_int_equal(b.has_policy, 0);
		/* The tables made by the schema work in the migrated store. */
		assert_int_equal(meta_obj_tags_put(om, o.obj.ino, "t=1"), ATR_OK);
		assert_int_equal(meta_node_set(om, o.obj.ino, o.obj.ino), ATR_OK);
		assert_int_equal(meta_node_count(om, o.obj.ino), 1);
		meta_close(om);
	}

	/* A path that cannot be opened is an error, not a crash. */
	char bad[128];
	snprintf(bad, sizeof(bad), "%s/no/such/dir/meta.db", f->dir);
	assert_int_equal(meta_open(bad, &om), ATR_E_IO);
}

/* The persist queue (src/persist.c): due order, retries pushed later,
 * entries gone with their row; a row marked PERSISTED only at its version. */
static void persist_queue(void **state)
{
	struct mfix *f = *state;
	add_bucket(f->m, "b", "alice");
	struct meta_row r = file_row(5, "alice");
	r.persist = ATR_TO_BE_PERSISTED;
	uint64_t a = put(f->m, "b", "a", r);
	uint64_t b = put(f->m, "b", "b", r);
	uint64_t ino, n;
	int tries;
	int64_t wait;
	assert_int_equal(meta_pq_next(f->m, 1000, &ino, &tries, &wait), ATR_E_NO_KEY);
	assert_int_equal(wait, -1);
	assert_int_equal(meta_pq_put(f->m, a, 10), ATR_OK);
	assert_int_equal(meta_pq_put(f->m, b, 20), ATR_OK);
	assert_int_equal(meta_pq_next(f->m, 1000, &ino, &tries, &wait), ATR_OK);
	assert_int_equal(ino, a);
	assert_int_equal(tries, 0);
	/* A failure: a is due at 1500, so b comes first, then nothing due. */
	assert_int_equal(meta_pq_retry(f->m, a, 1500), ATR_OK);
	assert_int_equal(meta_pq_next(f->m, 1000, &ino, &tries, &wait), ATR_OK);
	assert_int_equal(ino, b);
	assert_int_equal(meta_pq_done(f->m, b), ATR_OK);
	assert_int_equal(meta_pq_next(f->m, 1000, &ino, &tries, &wait), ATR_E_NO_KEY);
	assert_int_equal(wait, 500);
	assert_int_equal(meta_pq_next(f->m, 1500, &ino, &tries, &wait), ATR_OK);
	assert_int_equal(ino, a);
	assert_int_equal(tries, 1);
	reopen(f); /* it is in the store: a restart keeps it */
	assert_int_equal(meta_pq_count(f->m, &n), ATR_OK);
	assert_int_equal(n, 1);
	struct meta_row got = { 0 };
	assert_int_equal(meta_obj_get(f->m, "b", "a", &got, 0), ATR_OK);
	assert_int_equal(got.persist, ATR_TO_BE_PERSISTED);
	/* Marked persisted only at its version. */
	assert_int_equal(meta_obj_persisted(f->m, a, got.obj.version + 1, 77), ATR_OK);
	assert_int_equal(meta_obj_get(f->m, "b", "a", &got, 0), ATR_OK);
	assert_int_equal(got.persist, ATR_TO_BE_PERSISTED);
	assert_int_equal(meta_obj_persisted(f->m, a, got.obj.version, 77), ATR_OK);
	assert_int_equal(meta_obj_get(f->m, "b", "a", &got, 0), ATR_OK);
	assert_int_equal(got.persist, ATR_PERSISTED);
	assert_int_equal(got.obj.mtime_ns, 77);
	/* The queue entry goes with its row. */
	assert_int_equal(meta_obj_delete(f->m, "b", "a"), ATR_OK);
	assert_int_equal(meta_pq_count(f->m, &n), ATR_OK);
	assert_int_equal(n, 0);
}

/* A remote backing off puts off its bucket's entries, not the others'. */
static void persist_queue_defer(void **state)
{
	struct mfix *f = *state;
	add_bucket(f->m, "down", "alice");
	add_bucket(f->m, "up", "alice");
	struct meta_row r = file_row(5, "alice");
	r.persist = ATR_TO_BE_PERSISTED;
	uint64_t d1 = put(f->m, "down", "1", r), d2 = put(f->m, "down", "2", r);
	uint64_t u = put(f->m, "up", "1", r);
	uint64_t ino;
	int tries;
	int64_t wait;
	assert_int_equal(meta_pq_put(f->m, d1, 10), ATR_OK);
	assert_int_equal(meta_pq_put(f->m, d2, 20), ATR_OK);
	assert_int_equal(meta_pq_put(f->m, u, 30), ATR_OK);
	assert_int_equal(meta_pq_retry(f->m, d2, 9000), ATR_OK); /* already later */
	assert_int_equal(meta_pq_defer(f->m, "down", 5000), ATR_OK);
	assert_int_equal(meta_pq_next(f->m, 1000, &ino, &tries, &wait), ATR_OK);
	assert_int_equal(ino, u);
	assert_int_equal(tries, 0);
	assert_int_equal(meta_pq_done(f->m, u), ATR_OK);
	assert_int_equal(meta_pq_next(f->m, 1000, &ino, &tries, &wait), ATR_E_NO_KEY);
	assert_int_equal(wait, 4000);
	assert_int_equal(meta_pq_next(f->m, 5000, &ino, &tries, &wait), ATR_OK);
	assert_int_equal(ino, d1);
	assert_int_equal(tries, 0); /* put off, not tried */
	assert_int_equal(meta_pq_done(f->m, d1), ATR_OK);
	/* Never sooner than it was due. */
	assert_int_equal(meta_pq_next(f->m, 5000, &ino, &tries, &wait), ATR_E_NO_KEY);
	assert_int_equal(wait, 4000);
}

static void buckets(void **state)
{
	struct mfix *f = *state;
	struct atr_bucket b = { 0 };
	assert_int_equal(meta_bucket_get(f->m, "zz", &b), ATR_E_NO_BUCKET);
	add_bucket(f->m, "zz", "bob");
	add_bucket(f->m, "b", "alice");
	add_bucket(f->m, "ab", "alice");
	assert_int_not_equal(meta_bucket_insert(f->m, &(struct atr_bucket){ .name = "b",
								      .owner = "x" }),
			     ATR_OK); /* the name is taken */

	/* Without its root row yet, a bucket reads as private. */
	assert_int_equal(meta_bucket_get(f->m, "b", &b), ATR_OK);
	assert_string_equal(b.name, "b");
	assert_string_equal(b.owner, "alice");
	assert_string_equal(b.location, "here");
	assert_int_equal(b.ctime_ns, 42);
	assert_int_equal(b.root_ino, 0);
	assert_int_equal(b.mode, 0700);
	assert_int_equal(b.gid, -1);
	struct meta_row root = dir_row(1);
	root.obj.mode = 0750;
	root.obj.gid = 12;
	root.has_acl = 1;
	uint64_t rino = put(f->m, "b", "", root);
	assert_int_equal(meta_bucket_get(f->m, "b", &b), ATR_OK);
	assert_int_equal(b.root_ino, rino);
	assert_int_equal(b.mode, 0750);
	assert_int_equal(b.gid, 12);
	assert_int_equal(b.has_acl, 1);

	struct keys k = { 0 };
	assert_int_equal(meta_bucket_list(f->m, NULL, bucket_cb, &k), ATR_OK);
	assert_string_equal(k.s, "ab,b,zz");
	memset(&k, 0, sizeof(k));
	assert_int_equal(meta_bucket_list(f->m, "alice", bucket_cb, &k), ATR_OK);
	assert_string_equal(k.s, "ab,b");
	memset(&k, 0, sizeof(k));
	k.stop_after = 1;
	assert_int_equal(meta_bucket_list(f->m, NULL, bucket_cb, &k), ATR_OK);
	assert_string_equal(k.s, "ab");
	assert_int_equal(meta_subdir_count(f->m, NULL, NULL, NULL), 3);

	assert_int_equal(meta_bucket_set_owner(f->m, "zz", "carol"), ATR_OK);
	memset(&k, 0, sizeof(k));
	assert_int_equal(meta_bucket_list(f->m, "carol", bucket_cb, &k), ATR_OK);
	assert_string_equal(k.s, "zz");

	/* Settings: set, keep, clear; the policy apart. */
	char *pol = NULL;
	assert_int_equal(meta_bucket_policy_get(f->m, "b", &pol), ATR_E_NO_KEY);
	assert_null(pol);
	assert_int_equal(meta_bucket_conf_set(f->m, "b", 5, 1, "{\"p\":1}", 0), ATR_OK);
	assert_int_equal(meta_bucket_get(f->m, "b", &b), ATR_OK);
	assert_int_equal(b.public_block, 5);
	assert_int_equal(b.ownership, 1);
	assert_int_equal(b.has_policy, 1);
	assert_int_equal(meta_bucket_policy_get(f->m, "b", &pol), ATR_OK);
	assert_string_equal(pol, "{\"p\":1}");
	free(pol);
	assert_int_equal(meta_bucket_conf_set(f->m, "b", META_KEEP, META_CLEAR, NULL, 0), ATR_OK);
	assert_int_equal(meta_bucket_get(f->m, "b", &b), ATR_OK);
	assert_int_equal(b.public_block, 5);
	assert_int_equal(b.ownership, -1);
	assert_int_equal(b.has_policy, 1);
	assert_int_equal(meta_bucket_conf_set(f->m, "b", META_CLEAR, META_KEEP, NULL, 1), ATR_OK);
	assert_int_equal(meta_bucket_get(f->m, "b", &b), ATR_OK);
	assert_int_equal(b.public_block, -1);
	assert_int_equal(b.has_policy, 0);
	assert_int_equal(meta_bucket_policy_get(f->m, "b", &pol), ATR_E_NO_KEY);

	/* Bucket tags, dropped with the bucket. */
	char *tags = NULL;
	assert_int_equal(meta_bucket_tags_get(f->m, "ab", &tags), ATR_E_NO_KEY);
	assert_int_equal(meta_bucket_tags_put(f->m, "ab", "k=v"), ATR_OK);
	assert_int_equal(meta_bucket_tags_put(f->m, "ab", "k=w"), ATR_OK);
	assert_int_equal(meta_bucket_tags_get(f->m, "ab", &tags), ATR_OK);
	assert_string_equal(tags, "k=w");
	free(tags);
	assert_int_equal(meta_bucket_tags_delete(f->m, "ab"), ATR_OK);
	assert_int_equal(meta_bucket_tags_get(f->m, "ab", &tags), ATR_E_NO_KEY);
	assert_int_equal(meta_bucket_tags_put(f->m, "ab", "k=v"), ATR_OK);
	assert_int_equal(meta_bucket_delete(f->m, "ab"), ATR_OK);
	assert_int_equal(meta_bucket_get(f->m, "ab", &b), ATR_E_NO_BUCKET);
	add_bucket(f->m, "ab", "alice");
	assert_int_equal(meta_bucket_tags_get(f->m, "ab", &tags), ATR_E_NO_KEY);
}

static void objects(void **state)
{
	struct mfix *f = *state;
	struct meta_row got = { 0 };
	assert_int_equal(meta_obj_get(f->m, "b", "k", &got, 1), ATR_E_NO_KEY);

	struct meta_row r = file_row(10, "alice");
	snprintf(r.obj.etag, sizeof(r.obj.etag), "abc");
	r.obj.hdrs = (char *)"X: 1\r\n";
	r.obj.ctime_ns = 7;
	r.obj.atime_ns = 8;
	r.obj.kind = 0120000;
	r.obj.rdev = (uint64_t)1 << 40;
	r.obj.gid = 100;
	r.dir_mtime = 99;
	assert_int_equal(meta_obj_put(f->m, "b", "k", &r), ATR_OK);
	uint64_t ino = r.obj.ino;
	assert_true(ino > 0);
	assert_int_equal(r.obj.node, 0);
	assert_int_equal(meta_obj_get(f->m, "b", "k", &got, 1), ATR_OK);
	assert_int_equal(got.obj.ino, ino);
	assert_int_equal(got.obj.size, 10);
	assert_int_equal(got.obj.mtime_ns, 1010);
	assert_int_equal(got.obj.version, 1);
	assert_int_equal(got.obj.mode, 0644);
	assert_int_equal(got.obj.is_dir, 0);
	assert_string_equal(got.obj.owner, "alice");
	assert_string_equal(got.obj.etag, "abc");
	assert_string_equal(got.obj.hdrs, "X: 1\r\n");
	assert_int_equal(got.obj.ctime_ns, 7);
	assert_int_equal(got.obj.atime_ns, 8);
	assert_int_equal(got.obj.kind, 0120000);
	assert_int_equal(got.obj.rdev, (uint64_t)1 << 40);
	assert_int_equal(got.obj.gid, 100);
	assert_int_equal(got.dir_mtime, 99);
	atr_obj_release(&got.obj);
	/* A bucket is its own namespace. */
	assert_int_equal(meta_obj_get(f->m, "c", "k", &got, 0), ATR_E_NO_KEY);

	/* An overwrite keeps the ino; hdrs NULL is stored as none. */
	r = file_row(20, "bob");
	r.obj.version = 2;
	r.pending = 1;
	assert_int_equal(meta_obj_put(f->m, "b", "k", &r), ATR_OK);
	assert_int_equal(r.obj.ino, ino);
	assert_int_equal(meta_obj_get(f->m, "b", "k", &got, 1), ATR_OK);
	assert_int_equal(got.obj.size, 20);
	assert_int_equal(got.obj.version, 2);
	assert_string_equal(got.obj.owner, "bob");
	assert_null(got.obj.hdrs);
	assert_int_equal(got.pending, 1);
	/* Without want_hdrs no header is handed out. */
	r.obj.hdrs = (char *)"Y: 2\r\n";
	assert_int_equal(meta_obj_put(f->m, "b", "k", &r), ATR_OK);
	assert_int_equal(meta_obj_get(f->m, "b", "k", &got, 0), ATR_OK);
	assert_null(got.obj.hdrs);

	assert_int_equal(meta_obj_set_dir_mtime(f->m, "b", "k", 555), ATR_OK);
	assert_int_equal(meta_obj_get(f->m, "b", "k", &got, 0), ATR_OK);
	assert_int_equal(got.dir_mtime, 555);

	/* By ino, with its bucket and key. */
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	assert_int_equal(meta_obj_by_ino(f->m, ino, bucket, key, &got, 1), ATR_OK);
	assert_string_equal(bucket, "b");
	assert_string_equal(key, "k");
	assert_string_equal(got.obj.hdrs, "Y: 2\r\n");
	atr_obj_release(&got.obj);
	assert_int_equal(meta_obj_by_ino(f->m, ino + 100, bucket, key, &got, 0), ATR_E_NO_KEY);

	/* POSIX attributes and the ETag computed later. */
	got.obj.mode = 0600;
	snprintf(got.obj.owner, sizeof(got.obj.owner), "carol");
	got.obj.gid = 5;
	got.obj.ctime_ns = 11;
	got.obj.atime_ns = 12;
	got.obj.mtime_ns = 13;
	got.obj.hdrs = NULL;
	assert_int_equal(meta_obj_set_posix(f->m, &got), ATR_OK);
	assert_int_equal(meta_obj_set_etag(f->m, ino, 1, "old-version"), ATR_OK);
	assert_int_equal(meta_obj_set_etag(f->m, ino, 2, "e2"), ATR_OK);
	assert_int_equal(meta_obj_set_etag(f->m, ino, 2, "again"), ATR_OK); /* has one */
	assert_int_equal(meta_obj_get(f->m, "b", "k", &got, 1), ATR_OK);
	assert_int_equal(got.obj.mode, 0600);
	assert_string_equal(got.obj.owner, "carol");
	assert_int_equal(got.obj.gid, 5);
	assert_int_equal(got.obj.ctime_ns, 11);
	assert_int_equal(got.obj.atime_ns, 12);
	assert_int_equal(got.obj.mtime_ns, 13);
	assert_null(got.obj.hdrs);
	assert_string_equal(got.obj.etag, "e2");
	assert_int_equal(got.obj.size, 20); /* not a POSIX attribute */

	/* Files created through the mount and never closed go at start. */
	put(f->m, "b", "kept", file_row(1, "x"));
	assert_int_equal(meta_pending_clear(f->m), ATR_OK);
	assert_int_equal(meta_obj_get(f->m, "b", "k", &got, 0), ATR_E_NO_KEY);
	assert_int_equal(meta_obj_get(f->m, "b", "kept", &got, 0), ATR_OK);

	assert_int_equal(meta_obj_delete(f->m, "b", "kept"), ATR_OK);
	assert_int_equal(meta_obj_get(f->m, "b", "kept", &got, 0), ATR_E_NO_KEY);
	assert_int_equal(meta_obj_delete(f->m, "b", "kept"), ATR_OK); /* again: fine */

	struct meta_stats st;
	meta_stats(f->m, &st);
	assert_true(st.lookups >= 10);
}

/* Keys in byte order (S3's listing order) with the bounds of each scan. */
static void scans(void **state)
{
	struct mfix *f = *state;
	static const char *const keys[] = { "", "a", "a-c", "a/", "a/b", "a/c/", "a/c/d",
					    "B", "\xc3\xa9", "z" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		size_t n = strlen(keys[i]);
		int dir = n == 0 || keys[i][n - 1] == '/';
		put(f->m, "b", keys[i], dir ? dir_row(strcmp(keys[i], "a/c/") != 0)
					     : file_row(n, "alice"));
	}
	put(f->m, "other", "a/x", file_row(1, "alice"));
	struct meta_row p = file_row(1, "alice");
	p.pending = 1;
	put(f->m, "b", "a/p", p);

	struct keys k;
	assert_string_equal(scan(f->m, "", 1, NULL, 0, &k),
			    ",B,a,a-c,a/,a/b,a/c/,a/c/d,a/p,z,\xc3\xa9");
	assert_string_equal(scan(f->m, "", 0, NULL, 0, &k), "B,a,a-c,a/,a/b,a/c/,a/c/d,a/p,z,\xc3\xa9");
	assert_string_equal(scan(f->m, "a/", 1, "a0", 0, &k), "a/,a/b,a/c/,a/c/d,a/p");
	assert_string_equal(scan(f->m, "a/", 0, "a0", 0, &k), "a/b,a/c/,a/c/d,a/p");
	/* visible_only: no implicit directories, nothing pending. */
	assert_string_equal(scan(f->m, "", 1, NULL, 1, &k), "B,a,a-c,a/b,a/c/,a/c/d,z,\xc3\xa9");
	assert_string_equal(scan(f->m, "a", 0, "a/c/d", 1, &k), "a-c,a/b,a/c/");
	assert_string_equal(scan(f->m, "a", 1, "a/c/", 1, &k), "a,a-c,a/b");
	/* cb stops the scan; that is no error. */
	memset(&k, 0, sizeof(k));
	k.stop_after = 2;
	assert_int_equal(meta_obj_scan(f->m, "b", "a", 1, NULL, 0, key_cb, &k), ATR_OK);
	assert_string_equal(k.s, "a,a-c");

	memset(&k, 0, sizeof(k));
	assert_int_equal(meta_dir_scan(f->m, "b", "", NULL, key_cb, &k), ATR_OK);
	assert_string_equal(k.s, ",a/,a/c/");
	memset(&k, 0, sizeof(k));
	assert_int_equal(meta_dir_scan(f->m, "b", "a/", "a/c/", key_cb, &k), ATR_OK);
	assert_string_equal(k.s, "a/");

	memset(&k, 0, sizeof(k));
	assert_int_equal(meta_ancestors(f->m, "b", "a/c/d", key_cb, &k), ATR_OK);
	assert_string_equal(k.s, "a/,a/c/");
	memset(&k, 0, sizeof(k));
	assert_int_equal(meta_ancestors(f->m, "b", "a/c/", key_cb, &k), ATR_OK);
	assert_string_equal(k.s, "a/,a/c/");
	memset(&k, 0, sizeof(k));
	assert_int_equal(meta_ancestors(f->m, "b", "a", key_cb, &k), ATR_OK);
	assert_string_equal(k.s, "");

	assert_int_equal(meta_obj_has_children(f->m, "b", "a/"), 1);
	assert_int_equal(meta_obj_has_children(f->m, "b", "a/c/d/"), 0);
	assert_int_equal(meta_obj_has_children(f->m, "b", ""), 1);
	assert_int_equal(meta_obj_has_children(f->m, "empty", ""), 0);
	assert_int_equal(meta_subdir_count(f->m, "b", "", "\xf5"), 1);      /* a/ */
	assert_int_equal(meta_subdir_count(f->m, "b", "a/", "a0"), 1);      /* a/c/ */
	assert_int_equal(meta_subdir_count(f->m, "b", "a/c/", "a/c0"), 0);

	struct atr_ns_totals t;
	assert_int_equal(meta_totals(f->m, &t), ATR_OK);
	assert_int_equal(t.files, 9);    /* 8 in b (a/p included), 1 in other */
	assert_int_equal(t.dirs, 2);     /* a/ and a/c/, not the root */
	assert_int_equal(t.bytes, 1 + 3 + 3 + 5 + 1 + 2 + 1 + 1 + 1);
	assert_int_equal(t.uploads, 0);

	/* delete_prefix takes the prefix and what starts with it, nothing else. */
	assert_int_equal(meta_obj_delete_prefix(f->m, "b", "a/"), ATR_OK);
	assert_string_equal(scan(f->m, "", 1, NULL, 0, &k), ",B,a,a-c,z,\xc3\xa9");
	assert_int_equal(meta_obj_delete_prefix(f->m, "b", ""), ATR_OK);
	assert_string_equal(scan(f->m, "", 1, NULL, 0, &k), "");
	memset(&k, 0, sizeof(k));
	assert_int_equal(meta_obj_scan(f->m, "other", "", 1, NULL, 0, key_cb, &k), ATR_OK);
	assert_string_equal(k.s, "a/x");
}

static void renames_and_attrs(void **state)
{
	struct mfix *f = *state;
	uint64_t d = put(f->m, "b", "d/", dir_row(0));
	uint64_t x = put(f->m, "b", "d/x", file_row(1, "alice"));
	uint64_t y = put(f->m, "b", "d/y/z", file_row(2, "alice"));
	put(f->m, "b", "d0", file_row(3, "alice"));
	put(f->m, "b", "k", file_row(4, "alice"));

	assert_int_equal(meta_obj_rename(f->m, "b", "k", "c", "k2"), ATR_OK);
	struct meta_row got = { 0 };
	assert_int_equal(meta_obj_get(f->m, "b", "k", &got, 0), ATR_E_NO_KEY);
	assert_int_equal(meta_obj_get(f->m, "c", "k2", &got, 0), ATR_OK);
	assert_int_equal(got.obj.size, 4);
	/* A rename onto an existing key is refused (UNIQUE): callers delete first. */
	assert_int_equal(meta_obj_rename(f->m, "b", "d0", "b", "d/x"), ATR_E_IO);

	assert_int_equal(meta_obj_rename_prefix(f->m, "b", "d/", "d0", "b", "e/f/"), ATR_OK);
	struct keys k;
	assert_string_equal(scan(f->m, "", 1, NULL, 0, &k), "d0,e/f/,e/f/x,e/f/y/z");
	assert_int_equal(meta_obj_get(f->m, "b", "e/f/", &got, 0), ATR_OK);
	assert_int_equal(got.obj.ino, d);
	assert_int_equal(meta_obj_get(f->m, "b", "e/f/x", &got, 0), ATR_OK);
	assert_int_equal(got.obj.ino, x);
	assert_int_equal(meta_obj_get(f->m, "b", "e/f/y/z", &got, 0), ATR_OK);
	assert_int_equal(got.obj.ino, y);

	/* set_attr: one row, or a range; mode < 0 and owner NULL keep theirs. */
	assert_int_equal(meta_obj_set_attr(f->m, "b", "d0", NULL, 0600, NULL), ATR_OK);
	assert_int_equal(meta_obj_get(f->m, "b", "d0", &got, 0), ATR_OK);
	assert_int_equal(got.obj.mode, 0600);
	assert_string_equal(got.obj.owner, "alice");
	assert_int_equal(meta_obj_set_attr(f->m, "b", "e/", "e0", -1, "bob"), ATR_OK);
	assert_int_equal(meta_obj_get(f->m, "b", "e/f/x", &got, 0), ATR_OK);
	assert_int_equal(got.obj.mode, 0644);
	assert_string_equal(got.obj.owner, "bob");
	assert_int_equal(meta_obj_get(f->m, "b", "e/f/", &got, 0), ATR_OK);
	assert_string_equal(got.obj.owner, "bob");
	assert_int_equal(meta_obj_get(f->m, "b", "d0", &got, 0), ATR_OK);
	assert_string_equal(got.obj.owner, "alice");
}

/* Implied directories below a directory follow its permissions while
 * theirs are still the old ones. */
static void perm_follow(void **state)
{
	struct mfix *f = *state;
	struct meta_row before = dir_row(1), after = dir_row(1);
	after.obj.mode = 0700;
	after.obj.gid = 9;
	snprintf(after.obj.owner, sizeof(after.obj.owner), "bob");
	put(f->m, "b", "p/", dir_row(0));
	put(f->m, "b", "p/i/", before);
	put(f->m, "b", "p/i/j/", before);
	struct meta_row other = dir_row(1);
	other.obj.mode = 0711;
	put(f->m, "b", "p/o/", other);        /* other permissions: stays */
	put(f->m, "b", "p/e/", dir_row(0));   /* explicit: stays */
	put(f->m, "b", "q/i/", before);       /* not below p/: stays */
	struct keys k = { 0 };
	assert_int_equal(meta_perm_follow(f->m, "b", "p/", &before, &after, key_cb, &k), ATR_OK);
	assert_int_equal(k.n, 2);
	assert_true(strstr(k.s, "p/i/") && strstr(k.s, "p/i/j/"));
	struct meta_row got = { 0 };
	assert_int_equal(meta_obj_get(f->m, "b", "p/i/j/", &got, 0), ATR_OK);
	assert_int_equal(got.obj.mode, 0700);
	assert_int_equal(got.obj.gid, 9);
	assert_string_equal(got.obj.owner, "bob");
	assert_int_equal(meta_obj_get(f->m, "b", "p/o/", &got, 0), ATR_OK);
	assert_int_equal(got.obj.mode, 0711);
	assert_int_equal(meta_obj_get(f->m, "b", "p/e/", &got, 0), ATR_OK);
	assert_int_equal(got.obj.mode, 0755);
	assert_int_equal(meta_obj_get(f->m, "b", "q/i/", &got, 0), ATR_OK);
	assert_int_equal(got.obj.mode, 0755);
	/* From the bucket's root (""), everything below follows. */
	memset(&k, 0, sizeof(k));
	assert_int_equal(meta_perm_follow(f->m, "b", "", &before, &after, key_cb, &k), ATR_OK);
	assert_string_equal(k.s, "q/i/");
}

static int name_cb(void *arg, const char *bucket, const char *key)
{
	struct keys *k = arg;
	size_t len = strlen(k->s);
	snprintf(k->s + len, sizeof(k->s) - len, "%s%s/%s", k->n ? "," : "", bucket, key);
	return ++k->n == k->stop_after ? 77 : 0;
}

static int xattr_cb(void *arg, const char *name)
{
	struct keys *k = arg;
	size_t len = strlen(k->s);
	snprintf(k->s + len, sizeof(k->s) - len, "%s%s", k->n ? "," : "", name);
	return ++k->n == k->stop_after;
}

static void hard_links_and_xattrs(void **state)
{
	struct mfix *f = *state;
	uint64_t a = put(f->m, "b", "a", file_row(3, "alice"));
	uint64_t other = put(f->m, "b", "other", file_row(1, "alice"));

	/* xattrs keyed by the inode. */
	void *val = NULL;
	size_t len = 0;
	assert_int_equal(meta_xattr_get(f->m, a, "user.x", &val, &len), ATR_E_NO_KEY);
	assert_int_equal(meta_xattr_put(f->m, a, "user.x", "\0bin\0", 5), ATR_OK);
	assert_int_equal(meta_xattr_put(f->m, a, "user.empty", NULL, 0), ATR_OK);
	assert_int_equal(meta_xattr_put(f->m, a, "user.a", "1", 1), ATR_OK);
	assert_int_equal(meta_xattr_put(f->m, other, "user.o", "1", 1), ATR_OK);
	assert_int_equal(meta_xattr_get(f->m, a, "user.x", &val, &len), ATR_OK);
	assert_int_equal(len, 5);
	assert_memory_equal(val, "\0bin\0", 5);
	free(val);
	assert_int_equal(meta_xattr_get(f->m, a, "user.empty", &val, &len), ATR_OK);
	assert_int_equal(len, 0);
	assert_non_null(val);
	free(val);
	assert_int_equal(meta_xattr_put(f->m, a, "user.x", "2", 1), ATR_OK); /* replaces */
	assert_int_equal(meta_xattr_get(f->m, a, "user.x", &val, &len), ATR_OK);
	assert_int_equal(len, 1);
	free(val);
	struct keys k = { 0 };
	assert_int_equal(meta_xattr_list(f->m, a, xattr_cb, &k), ATR_OK);
	assert_string_equal(k.s, "user.a,user.empty,user.x");
	memset(&k, 0, sizeof(k));
	k.stop_after = 1;
	assert_int_equal(meta_xattr_list(f->m, a, xattr_cb, &k), ATR_OK);
	assert_string_equal(k.s, "user.a");
	assert_int_equal(meta_xattr_delete(f->m, a, "user.a"), ATR_OK);
	assert_int_equal(meta_xattr_delete(f->m, a, "user.a"), ATR_E_NO_KEY);

	/* A second name: both rows carry node = a; writes to one reach the other. */
	struct meta_row l = file_row(3, "alice");
	l.obj.node = a;
	assert_int_equal(meta_obj_put(f->m, "c", "l", &l), ATR_OK);
	assert_int_equal(l.obj.node, a);
	assert_int_equal(meta_node_set(f->m, a, a), ATR_OK);
	assert_int_equal(meta_node_count(f->m, a), 2);
	assert_int_equal(meta_node_count(f->m, other), 0);
	struct meta_row w = file_row(30, "bob");
	w.obj.version = 4;
	assert_int_equal(meta_obj_put(f->m, "b", "a", &w), ATR_OK);
	assert_int_equal(w.obj.ino, a);
	assert_int_equal(w.obj.node, a);
	struct meta_row got = { 0 };
	assert_int_equal(meta_obj_get(f->m, "c", "l", &got, 0), ATR_OK);
	assert_int_equal(got.obj.size, 30);
	assert_int_equal(got.obj.version, 4);
	assert_string_equal(got.obj.owner, "bob");
	got.obj.mode = 0400;
	assert_int_equal(meta_obj_set_posix(f->m, &got), ATR_OK);
	assert_int_equal(meta_obj_get(f->m, "b", "a", &got, 0), ATR_OK);
	assert_int_equal(got.obj.mode, 0400);
	/* node_sync for writes that bypass meta_obj_put. */
	assert_int_equal(meta_obj_set_attr(f->m, "b", "a", NULL, 0444, NULL), ATR_OK);
	assert_int_equal(meta_node_sync(f->m, a), ATR_OK);
	assert_int_equal(meta_obj_get(f->m, "c", "l", &got, 0), ATR_OK);
	assert_int_equal(got.obj.mode, 0444);
	/* set_etag by node reaches every name. */
	assert_int_equal(meta_obj_set_etag(f->m, a, 4, "e4"), ATR_OK);
	assert_int_equal(meta_obj_get(f->m, "c", "l", &got, 0), ATR_OK);
	assert_string_equal(got.obj.etag, "e4");

	memset(&k, 0, sizeof(k));
	assert_int_equal(meta_node_names(f->m, a, a, name_cb, &k), ATR_OK);
	assert_string_equal(k.s, "c/l");
	memset(&k, 0, sizeof(k));
	assert_int_equal(meta_node_names(f->m, a, 0, name_cb, &k), ATR_OK);
	assert_int_equal(k.n, 2);
	memset(&k, 0, sizeof(k));
	k.stop_after = 1;
	assert_int_equal(meta_node_names(f->m, a, 0, name_cb, &k), 77); /* cb's value */

	/* The inode is found by any of its names' numbers... */
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	assert_int_equal(meta_obj_by_ino(f->m, l.obj.ino, bucket, key, &got, 0), ATR_OK);
	assert_string_equal(key, "l");
	/* ...and its xattrs and ACL go with the last name only. */
	assert_int_equal(meta_acl_set(f->m, a, "grants"), ATR_OK);
	assert_int_equal(meta_obj_delete(f->m, "b", "a"), ATR_OK);
	assert_int_equal(meta_obj_by_ino(f->m, a, bucket, key, &got, 0), ATR_OK);
	assert_string_equal(bucket, "c");
	assert_string_equal(key, "l");
	assert_int_equal(meta_xattr_get(f->m, a, "user.x", &val, &len), ATR_OK);
	free(val);
	char *acl = NULL;
	assert_int_equal(meta_acl_get(f->m, a, &acl), ATR_OK);
	free(acl);
	assert_int_equal(meta_obj_delete(f->m, "c", "l"), ATR_OK);
	assert_int_equal(meta_xattr_get(f->m, a, "user.x", &val, &len), ATR_E_NO_KEY);
	assert_int_equal(meta_acl_get(f->m, a, &acl), ATR_E_NO_KEY);
	assert_int_equal(meta_xattr_get(f->m, other, "user.o", &val, &len), ATR_OK);
	free(val);
}

static void acls_and_tags(void **state)
{
	struct mfix *f = *state;
	uint64_t ino = put(f->m, "b", "o", file_row(1, "alice"));
	char *acl = NULL, *tags = NULL;
	assert_int_equal(meta_acl_get(f->m, ino, &acl), ATR_E_NO_KEY);
	assert_null(acl);
	assert_int_equal(meta_acl_set(f->m, ino, "u:bob:r"), ATR_OK);
	assert_int_equal(meta_acl_get(f->m, ino, &acl), ATR_OK);
	assert_string_equal(acl, "u:bob:r");
	free(acl);
	struct meta_row got = { 0 };
	assert_int_equal(meta_obj_get(f->m, "b", "o", &got, 0), ATR_OK);
	assert_int_equal(got.has_acl, 1);
	assert_int_equal(meta_acl_set(f->m, ino, NULL), ATR_OK);
	assert_int_equal(meta_acl_get(f->m, ino, &acl), ATR_E_NO_KEY);
	assert_int_equal(meta_obj_get(f->m, "b", "o", &got, 0), ATR_OK);
	assert_int_equal(got.has_acl, 0);

	assert_int_equal(meta_obj_tags_get(f->m, ino, &tags), ATR_E_NO_KEY);
	assert_int_equal(meta_obj_tags_put(f->m, ino, "a=1&b=2"), ATR_OK);
	assert_int_equal(meta_obj_tags_get(f->m, ino, &tags), ATR_OK);
	assert_string_equal(tags, "a=1&b=2");
	free(tags);
	assert_int_equal(meta_obj_tags_put(f->m, ino, ""), ATR_OK);
	assert_int_equal(meta_obj_tags_get(f->m, ino, &tags), ATR_OK);
	assert_string_equal(tags, "");
	free(tags);
	assert_int_equal(meta_obj_tags_delete(f->m, ino), ATR_OK);
	assert_int_equal(meta_obj_tags_get(f->m, ino, &tags), ATR_E_NO_KEY);
	/* Tags, part sizes and part checksums go with the object's row. */
	uint64_t sizes[] = { 5, (uint64_t)1 << 33, 7 };
	assert_int_equal(meta_obj_tags_put(f->m, ino, "t=1"), ATR_OK);
	assert_int_equal(meta_obj_parts_put(f->m, ino, 3, sizes, 3), ATR_OK);
	assert_int_equal(meta_obj_part_sums_put(f->m, ino, 3, "s1\ns2\ns3"), ATR_OK);
	assert_int_equal(meta_obj_delete(f->m, "b", "o"), ATR_OK);
	assert_int_equal(meta_obj_tags_get(f->m, ino, &tags), ATR_E_NO_KEY);
	uint64_t *got_sizes = NULL;
	int n = -1;
	assert_int_equal(meta_obj_parts_get(f->m, ino, 3, &got_sizes, &n), ATR_E_NO_KEY);
	char *sums = NULL;
	assert_int_equal(meta_obj_part_sums_get(f->m, ino, 3, &sums), ATR_E_NO_KEY);
}

/* A bucket's documents (CORS, logging...): one per kind, replaced, deleted
 * with NULL, and gone with the bucket's row. */
static void bucket_docs(void **state)
{
	struct mfix *f = *state;
	char *doc = NULL;
	add_bucket(f->m, "b", "alice");
	assert_int_equal(meta_bucket_doc_get(f->m, "b", 1, &doc), ATR_E_NO_KEY);
	assert_null(doc);
	assert_int_equal(meta_bucket_doc_put(f->m, "b", 1, "<cors/>"), ATR_OK);
	assert_int_equal(meta_bucket_doc_put(f->m, "b", 2, "<logging/>"), ATR_OK);
	assert_int_equal(meta_bucket_doc_put(f->m, "b", 1, "<cors2/>"), ATR_OK);
	assert_int_equal(meta_bucket_doc_get(f->m, "b", 1, &doc), ATR_OK);
	assert_string_equal(doc, "<cors2/>");
	free(doc);
	assert_int_equal(meta_bucket_doc_put(f->m, "b", 1, NULL), ATR_OK);
	assert_int_equal(meta_bucket_doc_get(f->m, "b", 1, &doc), ATR_E_NO_KEY);
	assert_int_equal(meta_bucket_doc_get(f->m, "b", 2, &doc), ATR_OK);
	assert_string_equal(doc, "<logging/>");
	free(doc);
	assert_int_equal(meta_bucket_delete(f->m, "b"), ATR_OK);
	assert_int_equal(meta_bucket_doc_get(f->m, "b", 2, &doc), ATR_E_NO_KEY);
}

static void part_sizes_and_sums(void **state)
{
	struct mfix *f = *state;
	uint64_t ino = put(f->m, "b", "o", file_row(1, "alice"));
	uint64_t sizes[] = { 5, (uint64_t)1 << 33, UINT64_MAX - 1 };
	uint64_t *got = NULL;
	int n = -1;
	assert_int_equal(meta_obj_parts_get(f->m, ino, 1, &got, &n), ATR_E_NO_KEY);
	assert_null(got);
	assert_int_equal(n, 0);
	assert_int_equal(meta_obj_parts_put(f->m, ino, 2, sizes, 3), ATR_OK);
	assert_int_equal(meta_obj_parts_get(f->m, ino, 1, &got, &n), ATR_E_NO_KEY); /* version */
	assert_int_equal(meta_obj_parts_get(f->m, ino, 2, &got, &n), ATR_OK);
	assert_int_equal(n, 3);
	assert_memory_equal(got, sizes, sizeof(sizes));
	free(got);
	assert_int_equal(meta_obj_parts_put(f->m, ino, 3, sizes, 1), ATR_OK); /* replaces */
	assert_int_equal(meta_obj_parts_get(f->m, ino, 2, &got, &n), ATR_E_NO_KEY);
	assert_int_equal(meta_obj_parts_get(f->m, ino, 3, &got, &n), ATR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(got[0], 5);
	free(got);
	assert_int_equal(meta_obj_parts_delete(f->m, ino), ATR_OK);
	assert_int_equal(meta_obj_parts_get(f->m, ino, 3, &got, &n), ATR_E_NO_KEY);

	char *sums = NULL;
	assert_int_equal(meta_obj_part_sums_get(f->m, ino, 1, &sums), ATR_E_NO_KEY);
	assert_int_equal(meta_obj_part_sums_put(f->m, ino, 1, "x\ny"), ATR_OK);
	assert_int_equal(meta_obj_part_sums_get(f->m, ino, 2, &sums), ATR_E_NO_KEY);
	assert_int_equal(meta_obj_part_sums_get(f->m, ino, 1, &sums), ATR_OK);
	assert_string_equal(sums, "x\ny");
	free(sums);
}

static struct meta_mpu mpu(const char *id, const char *bucket, const char *key, const char *hdrs)
{
	struct meta_mpu mu = { 0 };
	snprintf(mu.up.upload_id, sizeof(mu.up.upload_id), "%s", id);
	snprintf(mu.bucket, sizeof(mu.bucket), "%s", bucket);
	snprintf(mu.up.key, sizeof(mu.up.key), "%s", key);
	snprintf(mu.up.owner, sizeof(mu.up.owner), "alice");
	mu.up.ctime_ns = 77;
	mu.hdrs = (char *)hdrs;
	return mu;
}

static int mpu_cb(void *arg, const struct meta_mpu *mu)
{
	struct keys *k = arg;
	size_t len = strlen(k->s);
	assert_null(mu->hdrs);
	snprintf(k->s + len, sizeof(k->s) - len, "%s%s:%s", k->n ? "," : "", mu->up.key,
		 mu->up.upload_id);
	return ++k->n == k->stop_after;
}

static int part_cb(void *arg, const struct meta_mpu_part *p)
{
	struct keys *k = arg;
	size_t len = strlen(k->s);
	snprintf(k->s + len, sizeof(k->s) - len, "%s%d:%s", k->n ? "," : "", p->p.number, p->file);
	return ++k->n == k->stop_after;
}

static struct meta_mpu_part part(int number, uint64_t size, const char *etag)
{
	struct meta_mpu_part p = { 0 };
	p.p.number = number;
	p.p.size = size;
	p.p.mtime_ns = 1000 + number;
	snprintf(p.p.etag, sizeof(p.p.etag), "%s", etag);
	snprintf(p.file, sizeof(p.file), "part-%d", number);
	return p;
}

static void multipart(void **state)
{
	struct mfix *f = *state;
	struct meta_mpu got = { 0 };
	assert_int_equal(meta_mpu_get(f->m, "u1", &got, 1), ATR_E_NO_UPLOAD);
	struct meta_mpu u1 = mpu("u1", "b", "k", "H: 1\r\n"), u2 = mpu("u2", "b", "k", NULL),
			u0 = mpu("u0", "b", "z", NULL), ux = mpu("u3", "c", "a", NULL);
	assert_int_equal(meta_mpu_insert(f->m, &u1), ATR_OK);
	assert_int_equal(meta_mpu_insert(f->m, &u2), ATR_OK);
	assert_int_equal(meta_mpu_insert(f->m, &u0), ATR_OK);
	assert_int_equal(meta_mpu_insert(f->m, &ux), ATR_OK);
	assert_int_not_equal(meta_mpu_insert(f->m, &u1), ATR_OK); /* the id is taken */
	assert_int_equal(meta_mpu_get(f->m, "u1", &got, 1), ATR_OK);
	assert_string_equal(got.up.upload_id, "u1");
	assert_string_equal(got.bucket, "b");
	assert_string_equal(got.up.key, "k");
	assert_string_equal(got.up.owner, "alice");
	assert_int_equal(got.up.ctime_ns, 77);
	assert_string_equal(got.hdrs, "H: 1\r\n");
	free(got.hdrs);
	assert_int_equal(meta_mpu_get(f->m, "u1", &got, 0), ATR_OK);
	assert_null(got.hdrs);

	/* Listing order: (key, upload_id), after the marker pair. */
	struct keys k = { 0 };
	assert_int_equal(meta_mpu_scan(f->m, "b", "", "", mpu_cb, &k), ATR_OK);
	assert_string_equal(k.s, "k:u1,k:u2,z:u0");
	memset(&k, 0, sizeof(k));
	assert_int_equal(meta_mpu_scan(f->m, "b", "k", "u1", mpu_cb, &k), ATR_OK);
	assert_string_equal(k.s, "k:u2,z:u0");
	memset(&k, 0, sizeof(k));
	k.stop_after = 1;
	assert_int_equal(meta_mpu_scan(f->m, "b", "k", "", mpu_cb, &k), ATR_OK);
	assert_string_equal(k.s, "k:u1");

	/* Parts. */
	struct meta_mpu_part p = { 0 };
	assert_int_equal(meta_mpu_part_get(f->m, "u1", 1, &p), ATR_E_INVALID_PART);
	struct meta_mpu_part p3 = part(3, 30, "e3"), p1 = part(1, (uint64_t)1 << 35, "e1"),
			     p2 = part(2, 20, "e2"), p1b = part(1, 11, "e1b");
	assert_int_equal(meta_mpu_part_put(f->m, "u1", &p3), ATR_OK);
	assert_int_equal(meta_mpu_part_put(f->m, "u1", &p1), ATR_OK);
	assert_int_equal(meta_mpu_part_put(f->m, "u1", &p2), ATR_OK);
	assert_int_equal(meta_mpu_part_put(f->m, "u2", &p2), ATR_OK);
	assert_int_equal(meta_mpu_part_get(f->m, "u1", 1, &p), ATR_OK);
	assert_int_equal(p.p.number, 1);
	assert_int_equal(p.p.size, (uint64_t)1 << 35);
	assert_int_equal(p.p.mtime_ns, 1001);
	assert_string_equal(p.p.etag, "e1");
	assert_string_equal(p.file, "part-1");
	assert_int_equal(meta_mpu_part_put(f->m, "u1", &p1b), ATR_OK); /* replaces */
	assert_int_equal(meta_mpu_part_get(f->m, "u1", 1, &p), ATR_OK);
	assert_int_equal(p.p.size, 11);
	assert_string_equal(p.p.etag, "e1b");
	memset(&k, 0, sizeof(k));
	assert_int_equal(meta_mpu_part_scan(f->m, "u1", 0, part_cb, &k), ATR_OK);
	assert_string_equal(k.s, "1:part-1,2:part-2,3:part-3");
	memset(&k, 0, sizeof(k));
	assert_int_equal(meta_mpu_part_scan(f->m, "u1", 1, part_cb, &k), ATR_OK);
	assert_string_equal(k.s, "2:part-2,3:part-3");
	memset(&k, 0, sizeof(k));
	k.stop_after = 1;
	assert_int_equal(meta_mpu_part_scan(f->m, "u1", 0, part_cb, &k), ATR_OK);
	assert_string_equal(k.s, "1:part-1");

	/* What the upload's object will get: tags, ACL, checksums. */
	char *text = NULL, alg[16] = "", sum[64] = "";
	assert_int_equal(meta_mpu_tags_get(f->m, "u1", &text), ATR_E_NO_KEY);
	assert_int_equal(meta_mpu_tags_put(f->m, "u1", "t=1"), ATR_OK);
	assert_int_equal(meta_mpu_tags_get(f->m, "u1", &text), ATR_OK);
	assert_string_equal(text, "t=1");
	free(text);
	assert_int_equal(meta_mpu_acl_get(f->m, "u1", &text), ATR_E_NO_KEY);
	assert_int_equal(meta_mpu_acl_put(f->m, "u1", "acl"), ATR_OK);
	assert_int_equal(meta_mpu_acl_get(f->m, "u1", &text), ATR_OK);
	assert_string_equal(text, "acl");
	free(text);
	assert_int_equal(meta_mpu_checksum_get(f->m, "u1", alg, sizeof(alg)), ATR_E_NO_KEY);
	assert_int_equal(meta_mpu_checksum_put(f->m, "u1", "CRC32C"), ATR_OK);
	assert_int_equal(meta_mpu_checksum_get(f->m, "u1", alg, sizeof(alg)), ATR_OK);
	assert_string_equal(alg, "CRC32C");
	assert_int_equal(meta_mpu_checksum_get(f->m, "u1", alg, 4), ATR_OK); /* truncated */
	assert_string_equal(alg, "CRC");
	assert_int_equal(meta_mpu_part_checksum_get(f->m, "u1", 1, sum, sizeof(sum)),
			 ATR_E_NO_KEY);
	assert_int_equal(meta_mpu_part_checksum_put(f->m, "u1", 1, "AAAA"), ATR_OK);
	assert_int_equal(meta_mpu_part_checksum_put(f->m, "u1", 2, "BBBB"), ATR_OK);
	assert_int_equal(meta_mpu_part_checksum_get(f->m, "u1", 1, sum, sizeof(sum)), ATR_OK);
	assert_string_equal(sum, "AAAA");
	assert_int_equal(meta_mpu_part_checksum_put(f->m, "u1", 1, ""), ATR_OK); /* removes */
	assert_int_equal(meta_mpu_part_checksum_get(f->m, "u1", 1, sum, sizeof(sum)),
			 ATR_E_NO_KEY);
	assert_int_equal(meta_mpu_part_checksum_put(f->m, "u1", 2, NULL), ATR_OK);
	assert_int_equal(meta_mpu_part_checksum_get(f->m, "u1", 2, sum, sizeof(sum)),
			 ATR_E_NO_KEY);
	assert_int_equal(meta_mpu_part_checksum_put(f->m, "u1", 3, "CCCC"), ATR_OK);

	struct atr_ns_totals t;
	assert_int_equal(meta_totals(f->m, &t), ATR_OK);
	assert_int_equal(t.uploads, 4);

	/* Deleting the upload takes its parts and everything kept for it. */
	assert_int_equal(meta_begin(f->m), ATR_OK);
	assert_int_equal(meta_mpu_delete(f->m, "u1"), ATR_OK);
	assert_int_equal(meta_commit(f->m), ATR_OK);
	assert_int_equal(meta_mpu_get(f->m, "u1", &got, 0), ATR_E_NO_UPLOAD);
	assert_int_equal(meta_mpu_part_get(f->m, "u1", 2, &p), ATR_E_INVALID_PART);
	assert_int_equal(meta_mpu_tags_get(f->m, "u1", &text), ATR_E_NO_KEY);
	assert_int_equal(meta_mpu_acl_get(f->m, "u1", &text), ATR_E_NO_KEY);
	assert_int_equal(meta_mpu_checksum_get(f->m, "u1", alg, sizeof(alg)), ATR_E_NO_KEY);
	assert_int_equal(meta_mpu_part_checksum_get(f->m, "u1", 3, sum, sizeof(sum)),
			 ATR_E_NO_KEY);
	assert_int_equal(meta_mpu_part_get(f->m, "u2", 2, &p), ATR_OK); /* another upload's */
	assert_int_equal(meta_totals(f->m, &t), ATR_OK);
	assert_int_equal(t.uploads, 3);
}

static int intent_cb(void *arg, const char *stage, const char *path)
{
	struct keys *k = arg;
	size_t len = strlen(k->s);
	snprintf(k->s + len, sizeof(k->s) - len, "%s%s>%s", k->n ? "," : "", stage, path);
	return ++k->n == k->stop_after;
}

static void intents(void **state)
{
	struct mfix *f = *state;
	struct keys k = { 0 };
	assert_int_equal(meta_intent_scan(f->m, intent_cb, &k), ATR_OK);
	assert_int_equal(k.n, 0);
	assert_int_equal(meta_intent_add(f->m, "s0", "p0"), ATR_OK);
	assert_int_equal(meta_intent_set(f->m, "s1", "p1"), ATR_OK); /* replaces s0 */
	assert_int_equal(meta_intent_add(f->m, "s2", "p2"), ATR_OK);
	assert_int_not_equal(meta_intent_add(f->m, "s2", "p3"), ATR_OK); /* one per stage */
	assert_int_equal(meta_intent_scan(f->m, intent_cb, &k), ATR_OK);
	assert_int_equal(k.n, 2);
	assert_true(strstr(k.s, "s1>p1") && strstr(k.s, "s2>p2"));
	memset(&k, 0, sizeof(k));
	k.stop_after = 1;
	assert_int_equal(meta_intent_scan(f->m, intent_cb, &k), ATR_OK);
	assert_int_equal(k.n, 1);
	reopen(f); /* intents outlive a restart: that is their point */
	memset(&k, 0, sizeof(k));
	assert_int_equal(meta_intent_scan(f->m, intent_cb, &k), ATR_OK);
	assert_int_equal(k.n, 2);
	assert_int_equal(meta_intent_clear(f->m), ATR_OK);
	memset(&k, 0, sizeof(k));
	assert_int_equal(meta_intent_scan(f->m, intent_cb, &k), ATR_OK);
	assert_int_equal(k.n, 0);
}

static void idmap(void **state)
{
	struct mfix *f = *state;
	uint32_t uid = 0, next = 0;
	char user[32] = "";
	assert_int_equal(meta_idmap_next(f->m, &next), ATR_E_NO_KEY);
	assert_int_equal(meta_idmap_by_name(f->m, "ann", &uid), ATR_E_NO_KEY);
	assert_int_equal(meta_idmap_by_uid(f->m, 5000, user, sizeof(user)), ATR_E_NO_KEY);
	assert_int_equal(meta_idmap_put(f->m, "ann", 5000), ATR_OK);
	assert_int_equal(meta_idmap_put(f->m, "ben", 4000000000u), ATR_OK);
	assert_int_not_equal(meta_idmap_put(f->m, "cat", 5000), ATR_OK); /* uid taken */
	assert_int_not_equal(meta_idmap_put(f->m, "ann", 5001), ATR_OK); /* user mapped */
	assert_int_equal(meta_idmap_by_name(f->m, "ann", &uid), ATR_OK);
	assert_int_equal(uid, 5000);
	assert_int_equal(meta_idmap_by_name(f->m, "ben", &uid), ATR_OK);
	assert_int_equal(uid, 4000000000u);
	assert_int_equal(meta_idmap_by_uid(f->m, 4000000000u, user, sizeof(user)), ATR_OK);
	assert_string_equal(user, "ben");
	assert_int_equal(meta_idmap_by_uid(f->m, 5000, user, 3), ATR_OK); /* truncated */
	assert_string_equal(user, "an");
	assert_int_equal(meta_idmap_next(f->m, &next), ATR_OK);
	assert_int_equal(next, 4000000001u);
	/* (uid_t)-1 is never handed out: past 0xfffffffe there is no next. */
	assert_int_equal(meta_idmap_put(f->m, "dan", 0xfffffffd), ATR_OK);
	assert_int_equal(meta_idmap_next(f->m, &next), ATR_OK);
	assert_int_equal(next, 0xfffffffe);
	assert_int_equal(meta_idmap_put(f->m, "eve", 0xfffffffe), ATR_OK);
	assert_int_equal(meta_idmap_next(f->m, &next), ATR_E_NO_KEY);
}

static void transactions(void **state)
{
	struct mfix *f = *state;
	struct meta_stats after;
	assert_false(meta_in_txn(f->m));
	assert_int_equal(meta_begin(f->m), ATR_OK);
	assert_true(meta_in_txn(f->m));
	add_bucket(f->m, "b", "alice");
	uint64_t ino = put(f->m, "b", "k", file_row(1, "alice"));
	assert_int_equal(meta_obj_tags_put(f->m, ino, "t=1"), ATR_OK);
	assert_int_equal(meta_intent_set(f->m, "s", "p"), ATR_OK);
	struct meta_mpu u = mpu("u", "b", "k", NULL);
	assert_int_equal(meta_mpu_insert(f->m, &u), ATR_OK);
	meta_rollback(f->m);
	assert_false(meta_in_txn(f->m));
	/* Nothing of it is left. */
	struct atr_bucket b;
	struct meta_row got = { 0 };
	char *tags = NULL;
	struct keys k = { 0 };
	assert_int_equal(meta_bucket_get(f->m, "b", &b), ATR_E_NO_BUCKET);
	assert_int_equal(meta_obj_get(f->m, "b", "k", &got, 0), ATR_E_NO_KEY);
	assert_int_equal(meta_obj_tags_get(f->m, ino, &tags), ATR_E_NO_KEY);
	assert_int_equal(meta_intent_scan(f->m, intent_cb, &k), ATR_OK);
	assert_int_equal(k.n, 0);
	struct meta_mpu mu = { 0 };
	assert_int_equal(meta_mpu_get(f->m, "u", &mu, 0), ATR_E_NO_UPLOAD);

	assert_int_equal(meta_begin(f->m), ATR_OK);
	put(f->m, "b", "k", file_row(2, "alice"));
	assert_int_equal(meta_commit(f->m), ATR_OK);
	reopen(f);
	assert_int_equal(meta_obj_get(f->m, "b", "k", &got, 0), ATR_OK);
	assert_int_equal(got.obj.size, 2);

	/* A read transaction; a COMMIT without BEGIN fails cleanly. */
	assert_int_equal(meta_read_begin(f->m), ATR_OK);
	assert_true(meta_in_txn(f->m));
	assert_int_equal(meta_obj_get(f->m, "b", "k", &got, 0), ATR_OK);
	meta_read_end(f->m);
	assert_false(meta_in_txn(f->m));
	assert_int_equal(meta_commit(f->m), ATR_E_IO);
	assert_false(meta_in_txn(f->m));

	/* The statistics count transactions (reopen started them afresh). */
	assert_int_equal(meta_begin(f->m), ATR_OK);
	assert_int_equal(meta_commit(f->m), ATR_OK);
	meta_stats(f->m, &after);
	assert_int_equal(after.txns, 1);
	assert_true(after.lookups >= 2);
}

/* Each thread has its own connection: another thread sees what is
 * committed, not what a transaction still holds. */
struct peer {
	struct meta *m;
	int rc;
};

static void *peer_get(void *arg)
{
	struct peer *p = arg;
	struct meta_row r = { 0 };
	p->rc = meta_obj_get(p->m, "b", "k", &r, 0);
	return NULL;
}

static int peer_run(struct meta *m)
{
	struct peer p = { m, -1 };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, peer_get, &p), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	return p.rc;
}

static void per_thread_connections(void **state)
{
	struct mfix *f = *state;
	assert_int_equal(meta_begin(f->m), ATR_OK);
	put(f->m, "b", "k", file_row(1, "alice"));
	assert_int_equal(peer_run(f->m), ATR_E_NO_KEY);
	assert_int_equal(meta_commit(f->m), ATR_OK);
	assert_int_equal(peer_run(f->m), ATR_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(open_reopen_and_migrate, setup, teardown),
		cmocka_unit_test_setup_teardown(persist_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(persist_queue_defer, setup, teardown),
		cmocka_unit_test_setup_teardown(buckets, setup, teardown),
		cmocka_unit_test_setup_teardown(objects, setup, teardown),
		cmocka_unit_test_setup_teardown(scans, setup, teardown),
		cmocka_unit_test_setup_teardown(renames_and_attrs, setup, teardown),
		cmocka_unit_test_setup_teardown(perm_follow, setup, teardown),
		cmocka_unit_test_setup_teardown(hard_links_and_xattrs, setup, teardown),
		cmocka_unit_test_setup_teardown(acls_and_tags, setup, teardown),
		cmocka_unit_test_setup_teardown(bucket_docs, setup, teardown),
		cmocka_unit_test_setup_teardown(part_sizes_and_sums, setup, teardown),
		cmocka_unit_test_setup_teardown(multipart, setup, teardown),
		cmocka_unit_test_setup_teardown(intents, setup, teardown),
		cmocka_unit_test_setup_teardown(idmap, setup, teardown),
		cmocka_unit_test_setup_teardown(transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(per_thread_connections, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
