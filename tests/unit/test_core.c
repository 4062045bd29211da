/* The core over a temp data dir: metadata store, writes, listing order and
 * pages, tree conflicts, metadata sync (src/object.c, list.c, sync.c, meta.c). */
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
#include "src/core_int.h"
#include "tests/unit/core_fixture.h"

static const struct atr_user root = { .name = "root", .superuser = 1 };
static const struct atr_user bob = { .name = "bob", .superuser = 0 };


static int setup(void **state)
{
	*state = fixture_new(4096, &root);
	return 0;
}

static int teardown(void **state)
{
	return fixture_teardown(state);
}

static int put(struct atr_core *c, const char *key, const char *data)
{
	return fixture_put(c, &root, "bkt", key, data, strlen(data), "Content-Type: text/plain\r\n");
}

static char *get(struct atr_core *c, const char *key)
{
	return fixture_get(c, &root, "bkt", key, NULL);
}

struct collected {
	char items[32][32];
	int n;
};

static int collect(void *arg, const struct atr_list_item *it)
{
	struct collected *c = arg;
	snprintf(c->items[c->n++], 32, "%s%s", it->is_prefix ? "P:" : "", it->key);
	return 0;
}

static void put_get_overwrite(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(put(f->c, "a/b/c", "hello"), ATR_OK);
	char *s = get(f->c, "a/b/c");
	assert_string_equal(s, "hello");
	free(s);
	struct atr_obj o1, o2;
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "a/b/c", &o1), ATR_OK);
	assert_string_equal(o1.etag, "5d41402abc4b2a76b9719d911017c592");
	assert_string_equal(o1.hdrs, "Content-Type: text/plain\r\n");
	assert_int_equal(put(f->c, "a/b/c", "world!"), ATR_OK);
	s = get(f->c, "a/b/c");
	assert_string_equal(s, "world!"); /* not the cached old block */
	free(s);
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "a/b/c", &o2), ATR_OK);
	/* A PUT over an object replaces it as rename(2) replaces a file: a
	 * new inode (an open reader of the old one keeps it whole). */
	assert_true(o1.ino != o2.ino);
	assert_true(o2.version > o1.version);
	atr_obj_release(&o1);
	atr_obj_release(&o2);
	/* The object is a plain file in the UFS. */
	char path[256], buf[16] = "";
	snprintf(path, sizeof(path), "%s/ufs/bkt/a/b/c", f->dir);
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	assert_string_equal(buf, "world!");
	/* Implied directories are not objects. */
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "a/", &o1), ATR_E_NO_KEY);
	/* Delete prunes the implied directories it leaves empty. */
	assert_int_equal(atr_object_delete(f->c, &root, "bkt", "a/b/c"), ATR_OK);
	snprintf(path, sizeof(path), "%s/ufs/bkt/a", f->dir);
	assert_int_not_equal(access(path, F_OK), 0);
	assert_int_equal(atr_object_delete(f->c, &root, "bkt", "a/b/c"), ATR_OK); /* again: fine */
}

static void tree_conflicts(void **state)
{
	struct fixture *f = *state;
	/* Keys the tree cannot hold are kept in the side form (ns_int.h). */
	assert_int_equal(put(f->c, "x", "1"), ATR_OK);
	assert_int_equal(put(f->c, "x/y", "2"), ATR_OK);
	assert_int_equal(put(f->c, "d/e", "3"), ATR_OK);
	assert_int_equal(put(f->c, "d", "4"), ATR_OK);
	const char *want[][2] = { { "x", "1" }, { "x/y", "2" }, { "d/e", "3" }, { "d", "4" } };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char *s = get(f->c, want[i][0]);
		assert_string_equal(s, want[i][1]);
		free(s);
	}
	assert_int_equal(put(f->c, "a/../b", "5"), ATR_E_INVALID_KEY);
	assert_int_equal(put(f->c, "dir/", ""), ATR_OK);
	struct atr_obj o;
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "dir/", &o), ATR_OK);
	assert_true(o.is_dir);
	atr_obj_release(&o);
	/* A marker with bytes is an object with bytes. */
	assert_int_equal(put(f->c, "dir/", "bytes"), ATR_OK);
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "dir/", &o), ATR_OK);
	assert_false(o.is_dir);
	assert_int_equal(o.size, 5);
	atr_obj_release(&o);
	/* Private by default: bob may neither write in root's bucket nor read
	 * from it, nor learn which keys it holds (403, not 404). */
	struct atr_writer *w;
	assert_int_equal(atr_put_begin(f->c, &bob, "bkt", "z", 1, &w), ATR_E_ACCESS);
	assert_int_equal(atr_object_stat(f->c, &bob, "bkt", "x", &o), ATR_E_ACCESS);
	assert_int_equal(atr_object_stat(f->c, &bob, "bkt", "missing", &o), ATR_E_ACCESS);
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "missing", &o), ATR_E_NO_KEY);
	assert_int_equal(atr_bucket_delete(f->c, &root, "bkt"), ATR_E_BUCKET_NOT_EMPTY);
}

static void list_order_and_pages(void **state)
{
	struct fixture *f = *state;
	/* Binary order of the whole key: '-' (0x2d) < '/' (0x2f) < '0' (0x30). */
	const char *keys[] = { "a/c", "a-b", "a0", "a/b/d", "b", "a b", "\xc3\xa9" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_int_equal(put(f->c, keys[i], "v"), ATR_OK);
	const char *want[] = { "a b", "a-b", "a/b/d", "a/c", "a0", "b", "\xc3\xa9" };
	struct collected got = { 0 };
	struct atr_list_params p = { .prefix = "", .max = 1000 };
	int truncated;
	assert_int_equal(atr_object_list(f->c, &root, "bkt", &p, collect, &got, &truncated, NULL), 0);
	assert_int_equal(got.n, 7);
	for (int i = 0; i < 7; i++)
		assert_string_equal(got.items[i], want[i]);
	assert_false(truncated);

	/* Delimiter: a/ rolls up, once. */
	memset(&got, 0, sizeof(got));
	p.delimiter = "/";
	assert_int_equal(atr_object_list(f->c, &root, "bkt", &p, collect, &got, &truncated, NULL), 0);
	const char *want2[] = { "a b", "a-b", "P:a/", "a0", "b", "\xc3\xa9" };
	assert_int_equal(got.n, 6);
	for (int i = 0; i < 6; i++)
		assert_string_equal(got.items[i], want2[i]);

	/* Pages of two, resuming at the inclusive next start. */
	char next[ATR_KEY_MAX + 2];
	memset(&got, 0, sizeof(got));
	p.max = 2;
	assert_int_equal(atr_object_list(f->c, &root, "bkt", &p, collect, &got, &truncated, next), 0);
	assert_true(truncated);
	assert_string_equal(next, "a/");
	p.start = next;
	p.start_inclusive = 1;
	struct collected page2 = { 0 };
	assert_int_equal(atr_object_list(f->c, &root, "bkt", &p, collect, &page2, &truncated, next), 0);
	assert_int_equal(page2.n, 2);
	assert_string_equal(page2.items[0], "P:a/");
	assert_string_equal(page2.items[1], "a0");
	/* A marker that is a common prefix is not repeated. */
	struct collected page3 = { 0 };
	p.start = "a/";
	p.start_inclusive = 0;
	assert_int_equal(atr_object_list(f->c, &root, "bkt", &p, collect, &page3, &truncated, next), 0);
	assert_string_equal(page3.items[0], "a0");

	/* Prefix with delimiter. */
	struct collected pre = { 0 };
	struct atr_list_params q = { .prefix = "a/", .delimiter = "/", .max = 1000 };
	assert_int_equal(atr_object_list(f->c, &root, "bkt", &q, collect, &pre, &truncated, NULL), 0);
	assert_int_equal(pre.n, 2);
	assert_string_equal(pre.items[0], "P:a/b/");
	assert_string_equal(pre.items[1], "a/c");
}

static void sync_behind_our_back(void **state)
{
	struct fixture *f = *state;
	char path[512];
	assert_int_equal(put(f->c, "known", "k"), ATR_OK);
	snprintf(path, sizeof(path), "mkdir -p %s/ufs/bkt/ext/sub && printf hello > %s/ufs/bkt/ext/sub/f"
		 " && printf abc > %s/ufs/bkt/top", f->dir, f->dir, f->dir);
	assert_int_equal(system(path), 0);
	struct collected got = { 0 };
	struct atr_list_params p = { .prefix = "", .max = 1000 };
	int truncated;
	assert_int_equal(atr_object_list(f->c, &root, "bkt", &p, collect, &got, &truncated, NULL), 0);
	assert_int_equal(got.n, 3);
	assert_string_equal(got.items[0], "ext/sub/f");
	assert_string_equal(got.items[1], "known");
	assert_string_equal(got.items[2], "top");
	struct atr_obj o;
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "top", &o), ATR_OK);
	assert_string_equal(o.etag, "900150983cd24fb0d6963f7d28e17f72"); /* md5("abc") */
	/* A file of the daemon's own uid was dropped in by the operator: it
	 * takes its directory's owner and permissions, without search bits
	 * (the bucket is private: 0700), not the 0644 it has on disk. */
	assert_string_equal(o.owner, "root");
	assert_int_equal(o.mode & 0777, 0600);
	atr_obj_release(&o);
	/* Another uid's file keeps its owner and mode. */
	snprintf(path, sizeof(path), "printf x > %s/ufs/bkt/theirs && chmod 0640 %s/ufs/bkt/theirs"
		 " && chown 4242 %s/ufs/bkt/theirs", f->dir, f->dir, f->dir);
	assert_int_equal(system(path), 0);
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "theirs", &o), ATR_OK);
	assert_string_not_equal(o.owner, "root");
	assert_int_equal(o.mode & 0777, 0640);
	atr_obj_release(&o);
	/* Changed behind our back: new size, new ETag, new content. */
	snprintf(path, sizeof(path), "printf abcd > %s/ufs/bkt/top", f->dir);
	assert_int_equal(system(path), 0);
	char *s = get(f->c, "top");
	assert_string_equal(s, "abcd");
	free(s);
	/* Removed behind our back: gone. */
	snprintf(path, sizeof(path), "rm %s/ufs/bkt/known", f->dir);
	assert_int_equal(system(path), 0);
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "known", &o), ATR_E_NO_KEY);
	/* A bucket directory made behind our back is a bucket. */
	snprintf(path, sizeof(path), "mkdir %s/ufs/newbk && printf 1 > %s/ufs/newbk/obj", f->dir, f->dir);
	assert_int_equal(system(path), 0);
	struct atr_bucket b;
	assert_int_equal(atr_bucket_stat(f->c, &root, "newbk", &b), ATR_OK);
	assert_string_equal(b.owner, "root");
}

static void buckets(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(atr_bucket_create(f->c, &root, "bkt", "", NULL, -1), ATR_E_BUCKET_OWNED);
	assert_int_equal(atr_bucket_create(f->c, &bob, "bkt", "", NULL, -1), ATR_E_BUCKET_EXISTS);
	assert_int_equal(atr_bucket_create(f->c, &bob, "api", "", NULL, -1), ATR_E_INVALID_BUCKET);
	assert_int_equal(atr_bucket_create(f->c, &bob, "bobs", "", NULL, -1), ATR_OK);
	assert_int_equal(atr_bucket_delete(f->c, &root, "nope"), ATR_E_NO_BUCKET);
	assert_int_equal(put(f->c, "q/r", "1"), ATR_OK);
	assert_int_equal(atr_object_delete(f->c, &root, "bkt", "q/r"), ATR_OK);
	assert_int_equal(atr_bucket_delete(f->c, &root, "bkt"), ATR_OK);
	assert_int_equal(atr_bucket_stat(f->c, &root, "bkt", NULL), ATR_E_NO_BUCKET);
}

static int count_intents(void *arg, const char *stage, const char *path)
{
	(*(int *)arg)++;
	return 0;
}

static void commit_intent_finished_at_start(void **state)
{
	struct fixture *f = *state;
	char cmd[512], buf[16] = "";
	assert_int_equal(put(f->c, "k", "old"), ATR_OK);
	/* A crash after the commit's transaction, before its rename: the stage
	 * is still in the staging area and the intent names it. */
	snprintf(cmd, sizeof(cmd), "printf new! > %s/ufs/.atrium/tmp/put-crash", f->dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(meta_intent_set(f->c->meta, "put-crash", "bkt/k"), ATR_OK);
	atr_core_close(f->c);
	fixture_open(f);
	snprintf(cmd, sizeof(cmd), "%s/ufs/bkt/k", f->dir);
	FILE *fp = fopen(cmd, "r");
	assert_non_null(fp);
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	assert_string_equal(buf, "new!");
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A %s/ufs/.atrium/tmp)\"", f->dir);
	assert_int_equal(system(cmd), 0);
	int n = 0;
	assert_int_equal(meta_intent_scan(f->c->meta, count_intents, &n), ATR_OK);
	assert_int_equal(n, 0);
}

/* A crash after a rename's transaction, before its UFS move: the rows are
 * at the new name (with the intent "/FROM" -> TO), the file at the old. */
static void rename_intent_finished_at_start(void **state)
{
	struct fixture *f = *state;
	char path[512];
	struct atr_obj o;
	assert_int_equal(put(f->c, "k", "moved"), ATR_OK);
	assert_int_equal(put(f->c, "stays", "here"), ATR_OK);
	assert_int_equal(meta_begin(f->c->meta), ATR_OK);
	assert_int_equal(meta_obj_rename(f->c->meta, "bkt", "k", "bkt", "d/k2"), ATR_OK);
	assert_int_equal(meta_intent_set(f->c->meta, "/bkt/k", "bkt/d/k2"), ATR_OK);
	assert_int_equal(meta_commit(f->c->meta), ATR_OK);
	snprintf(path, sizeof(path), "mkdir %s/ufs/bkt/d", f->dir);
	assert_int_equal(system(path), 0);
	atr_core_close(f->c);
	fixture_open(f);
	snprintf(path, sizeof(path), "%s/ufs/bkt/k", f->dir);
	assert_int_equal(access(path, F_OK), -1);
	/* the object is whole under its new name, with its own headers */
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "d/k2", &o), ATR_OK);
	assert_string_equal(o.hdrs, "Content-Type: text/plain\r\n");
	atr_obj_release(&o);
	char *got = get(f->c, "d/k2");
	assert_string_equal(got, "moved");
	free(got);
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "k", &o), ATR_E_NO_KEY);

	/* An intent whose source has a row again is history: not redone. */
	assert_int_equal(meta_intent_set(f->c->meta, "/bkt/stays", "bkt/d/k2"), ATR_OK);
	atr_core_close(f->c);
	fixture_open(f);
	got = get(f->c, "stays");
	assert_string_equal(got, "here");
	free(got);
	got = get(f->c, "d/k2");
	assert_string_equal(got, "moved");
	free(got);
}

/* A crash after a link's transaction, before its UFS link: the new name's
 * row and the intent "+FROM" -> TO are committed, the file has one name.
 * The start makes the second; an intent whose TO now names another inode
 * is history. */
static void link_intent_finished_at_start(void **state)
{
	struct fixture *f = *state;
	char path[512];
	struct meta_row row = { 0 };
	assert_int_equal(put(f->c, "k", "linked"), ATR_OK);
	assert_int_equal(put(f->c, "other", "other"), ATR_OK);
	assert_int_equal(meta_begin(f->c->meta), ATR_OK);
	assert_int_equal(meta_obj_get(f->c->meta, "bkt", "k", &row, 1), ATR_OK);
	row.obj.node = row.obj.ino; /* what link_fn writes */
	assert_int_equal(meta_node_set(f->c->meta, row.obj.ino, row.obj.node), ATR_OK);
	assert_int_equal(meta_obj_put(f->c->meta, "bkt", "k2", &row), ATR_OK);
	assert_int_equal(meta_intent_set(f->c->meta, "+bkt/k", "bkt/k2"), ATR_OK);
	assert_int_equal(meta_commit(f->c->meta), ATR_OK);
	atr_obj_release(&row.obj);
	atr_core_close(f->c);
	fixture_open(f);
	char *got = get(f->c, "k2");
	assert_non_null(got);
	assert_string_equal(got, "linked");
	free(got);
	snprintf(path, sizeof(path), "%s/ufs/bkt/k2", f->dir);
	struct stat a, b;
	assert_int_equal(stat(path, &a), 0);
	snprintf(path, sizeof(path), "%s/ufs/bkt/k", f->dir);
	assert_int_equal(stat(path, &b), 0);
	assert_true(a.st_ino == b.st_ino && a.st_nlink == 2);

	/* TO's row is another inode's: nothing is linked over it. */
	assert_int_equal(meta_intent_set(f->c->meta, "+bkt/other", "bkt/gone"), ATR_OK);
	assert_int_equal(meta_begin(f->c->meta), ATR_OK);
	assert_int_equal(meta_obj_get(f->c->meta, "bkt", "k", &row, 1), ATR_OK);
	assert_int_equal(meta_obj_put(f->c->meta, "bkt", "gone", &row), ATR_OK);
	assert_int_equal(meta_commit(f->c->meta), ATR_OK);
	atr_obj_release(&row.obj);
	atr_core_close(f->c);
	fixture_open(f);
	snprintf(path, sizeof(path), "%s/ufs/bkt/gone", f->dir);
	assert_int_equal(access(path, F_OK), -1);
}

/* Alluxio's names of the write and read types (src/persist.c): exact
 * names in any case, nothing else. */
/* The lifecycle's delete of what it listed: not of an object written
 * since (a new inode), nor of one gone. */
static void conditional_delete(void **state)
{
	struct fixture *f = *state;
	struct atr_obj o1, o2;
	struct atr_delete_result d;
	assert_int_equal(put(f->c, "k", "old"), ATR_OK);
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "k", &o1), ATR_OK);
	assert_int_equal(put(f->c, "k", "new"), ATR_OK);
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "k", &o2), ATR_OK);
	assert_true(o1.ino != o2.ino);
	assert_int_equal(atr_object_delete_if(f->c, &root, "bkt", "k", o1.ino, &d), ATR_E_CONFLICT);
	char *s = get(f->c, "k");
	assert_string_equal(s, "new");
	free(s);
	atr_obj_release(&o1);
	assert_int_equal(atr_object_delete_if(f->c, &root, "bkt", "k", o2.ino, &d), ATR_OK);
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "k", &o1), ATR_E_NO_KEY);
	assert_int_equal(atr_object_delete_if(f->c, &root, "bkt", "k", o2.ino, &d), ATR_E_CONFLICT);
	atr_obj_release(&o2);
}

/* Object Lock's one check: a version under legal hold is not deleted by
 * its id, bypass or not; a DELETE without one makes a marker. */
static void locked_version(void **state)
{
	struct fixture *f = *state;
	struct atr_obj o;
	struct atr_delete_result d;
	assert_int_equal(atr_bucket_lock_set(f->c, &root, "bkt", ATR_LOCK_NONE, 0, 0, 0),
			 ATR_E_NO_LOCK); /* not versioned */
	assert_int_equal(atr_bucket_versioning_set(f->c, &root, "bkt", ATR_VER_ENABLED), ATR_OK);
	assert_int_equal(atr_bucket_lock_set(f->c, &root, "bkt", ATR_LOCK_NONE, 0, 0, 0), ATR_OK);
	assert_int_equal(atr_bucket_versioning_set(f->c, &root, "bkt", ATR_VER_SUSPENDED),
			 ATR_E_LOCKED);
	assert_int_equal(put(f->c, "k", "kept"), ATR_OK);
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "k", &o), ATR_OK);
	assert_int_equal(atr_object_legal_hold_set(f->c, &root, "bkt", "k", NULL, 1), ATR_OK);
	assert_int_equal(atr_object_delete_version(f->c, &root, "bkt", "k", o.vid, 1, &d),
			 ATR_E_LOCKED);
	assert_int_equal(atr_object_delete_version(f->c, &root, "bkt", "k", NULL, 0, &d), ATR_OK);
	assert_int_equal(d.marker, 1);
	assert_int_equal(atr_object_legal_hold_set(f->c, &root, "bkt", "k", o.vid, 0), ATR_OK);
	assert_int_equal(atr_object_delete_version(f->c, &root, "bkt", "k", o.vid, 0, &d), ATR_OK);
	atr_obj_release(&o);
}

static void type_names(void **state)
{
	static const struct {
		const char *name;
		int wt, rt;
	} cases[] = {
		{ "MUST_CACHE", ATR_WT_MUST_CACHE, -1 },
		{ "cache_through", ATR_WT_CACHE_THROUGH, -1 },
		{ "THROUGH", ATR_WT_THROUGH, -1 },
		{ "ASYNC_THROUGH", ATR_WT_ASYNC_THROUGH, -1 },
		{ "CACHE", -1, ATR_RT_CACHE },
		{ "Cache_Promote", -1, ATR_RT_CACHE_PROMOTE },
		{ "NO_CACHE", -1, ATR_RT_NO_CACHE },
		{ "", -1, -1 },
		{ "DEFAULT", -1, -1 },
		{ "MUST_CACHE ", -1, -1 },
		{ "THROUGHX", -1, -1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		assert_int_equal(atr_write_type_parse(cases[i].name), cases[i].wt);
		assert_int_equal(atr_read_type_parse(cases[i].name), cases[i].rt);
	}
	assert_int_equal(atr_write_type_parse(NULL), -1);
	for (int t = ATR_WT_MUST_CACHE; t <= ATR_WT_ASYNC_THROUGH; t++)
		assert_int_equal(atr_write_type_parse(atr_write_type_name(t)), t);
	for (int t = ATR_RT_CACHE; t <= ATR_RT_NO_CACHE; t++)
		assert_int_equal(atr_read_type_parse(atr_read_type_name(t)), t);
	assert_string_equal(atr_write_type_name(99), "DEFAULT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(type_names),
		cmocka_unit_test_setup_teardown(put_get_overwrite, setup, teardown),
		cmocka_unit_test_setup_teardown(tree_conflicts, setup, teardown),
		cmocka_unit_test_setup_teardown(list_order_and_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(sync_behind_our_back, setup, teardown),
		cmocka_unit_test_setup_teardown(buckets, setup, teardown),
		cmocka_unit_test_setup_teardown(commit_intent_finished_at_start, setup, teardown),
		cmocka_unit_test_setup_teardown(rename_intent_finished_at_start, setup, teardown),
		cmocka_unit_test_setup_teardown(link_intent_finished_at_start, setup, teardown),
		cmocka_unit_test_setup_teardown(conditional_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(locked_version, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
