/* The namespace kernel (src/ns_int.h) driven directly: the commit kinds
 * and their conditions, the tree rules, deletes, renames with their
 * flags, pending rows, scans, and the lock it asserts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "src/ns_int.h"
#include "tests/unit/core_fixture.h"

static const struct atr_user root = { .name = "root", .superuser = 1 };

static int setup(void **state)
{
	*state = fixture_new(4096, &root);
	return 0;
}

static int teardown(void **state)
{
	return fixture_teardown(state);
}

/* A stage holding data. */
static struct ufs_stage *stage_of(struct atr_core *c, const char *data)
{
	struct ufs_stage *s;
	assert_int_equal(ufs_stage_open(c->ufs, &s), ATR_OK);
	assert_int_equal(ufs_stage_write(c->ufs, s, data, strlen(data)), ATR_OK);
	return s;
}

static int put(struct atr_core *c, const char *key, const char *data, int must_not_exist,
	       const char *if_etag, struct atr_obj *out)
{
	struct ns_object o = { .owner = "root", .bucket = "bkt", .key = key,
			       .stage = stage_of(c, data), .etag = "e-tag",
			       .must_not_exist = must_not_exist, .if_etag = if_etag };
	return ns_commit_object(c, &o, out);
}

static void object_commits_and_conditions(void **state)
{
	struct fixture *f = *state;
	struct atr_obj o = { 0 }, o2 = { 0 };
	struct meta_row row = { 0 };
	assert_int_equal(put(f->c, "a/b", "one", 1, NULL, &o), ATR_OK);
	assert_int_equal(o.size, 3);
	assert_int_equal(o.mode & 0777, 0600); /* private by default */
	/* The implied directory above it is a row, not an object. */
	assert_int_equal(meta_obj_get(f->c->meta, "bkt", "a/", &row, 0), ATR_OK);
	assert_true(row.implicit);
	assert_int_equal(ns_find(f->c, "bkt", "a/", &row, NULL, 0), ATR_E_NO_KEY);
	/* If-None-Match: * against what is there when the commit happens. */
	assert_int_equal(put(f->c, "a/b", "two", 1, NULL, NULL), ATR_E_CONFLICT);
	/* If-Match on another ETag, then on this one. */
	assert_int_equal(put(f->c, "a/b", "two", 0, "other", NULL), ATR_E_CONFLICT);
	assert_int_equal(put(f->c, "a/b", "two", 0, "e-tag", &o2), ATR_OK);
	/* A replaced object is a new inode. */
	assert_true(o2.ino != o.ino);
	assert_int_equal(ns_find(f->c, "bkt", "a/b", &row, NULL, 0), ATR_OK);
	assert_int_equal(row.obj.size, 3);
	assert_int_equal(row.obj.version, 2); /* versions count on across inodes */
	atr_obj_release(&row.obj);
	/* A key below a file, a file where a directory is: the side form
	 * (side_form below), so nothing is refused before the body. */
	assert_int_equal(ns_tree_check(f->c, "bkt", "a/b/c"), ATR_OK);
	assert_int_equal(ns_tree_check(f->c, "bkt", "a"), ATR_OK);
	assert_int_equal(ns_tree_check(f->c, "bkt", "z"), ATR_OK);
}

/* The UFS path under the data dir. */
static int ufs_is(struct fixture *f, const char *rel, int dir)
{
	char path[512];
	struct stat sb;
	snprintf(path, sizeof(path), "%s/ufs/%s", f->dir, rel);
	if (stat(path, &sb))
		return 0;
	return dir ? S_ISDIR(sb.st_mode) : S_ISREG(sb.st_mode);
}

static char *read_key(struct fixture *f, const char *key)
{
	struct meta_row row = { 0 };
	struct ufs_file *uf = NULL;
	char *buf;
	assert_int_equal(ns_find(f->c, "bkt", key, &row, &uf, 0), ATR_OK);
	assert_non_null(uf);
	assert_non_null(buf = calloc(1, row.obj.size + 1));
	assert_int_equal(ufs_pread(f->c->ufs, uf, buf, row.obj.size, 0), (ssize_t)row.obj.size);
	ufs_close(f->c->ufs, uf);
	atr_obj_release(&row.obj);
	return buf;
}

static int count_entries(void *arg, const char *key, const struct meta_row *row)
{
	(void)key;
	(void)row;
	(*(int *)arg)++;
	return 0;
}

/* Keys the tree cannot hold (src/ns_int.h, "the side form"). */
static void side_form(void **state)
{
	struct fixture *f = *state;
	struct meta_row row = { 0 };
	struct atr_obj o = { 0 };
	char side[64];
	int dir, n;
	/* An object, then a key below it: the object moves to the side form. */
	assert_int_equal(put(f->c, "a/b", "object a/b", 0, NULL, NULL), ATR_OK);
	assert_true(ufs_is(f, "bkt/a/b", 0));
	assert_int_equal(put(f->c, "a/b/c", "below", 0, NULL, NULL), ATR_OK);
	assert_true(ufs_is(f, "bkt/a/b", 1));
	assert_int_equal(meta_obj_get(f->c->meta, "bkt", "a/b", &row, 0), ATR_OK);
	assert_true(row.side);
	assert_false(row.obj.is_dir);
	assert_int_equal(ns_side_path(side, sizeof(side), row.obj.ino), 0);
	assert_true(ufs_is(f, side, 0));
	char *s = read_key(f, "a/b");
	assert_string_equal(s, "object a/b");
	free(s);
	s = read_key(f, "a/b/c");
	assert_string_equal(s, "below");
	free(s);
	/* The other order: a directory first, then the object of its name. */
	assert_int_equal(put(f->c, "d/e", "e", 0, NULL, NULL), ATR_OK);
	assert_int_equal(put(f->c, "d", "object d", 0, NULL, &o), ATR_OK);
	assert_false(o.is_dir);
	s = read_key(f, "d");
	assert_string_equal(s, "object d");
	free(s);
	/* The tree's views see the directory: ns_resolve, ns_scan_dir. */
	assert_int_equal(ns_resolve(f->c, "bkt", "d", &row, &dir), ATR_OK);
	assert_true(dir);
	n = 0;
	assert_int_equal(ns_scan_dir(f->c, "bkt", "", 0, NULL, NULL, count_entries, &n), ATR_OK);
	assert_int_equal(n, 2); /* a/ and d/, no file a or d */
	/* A listing's metadata sync leaves the side rows alone. */
	assert_int_equal(meta_obj_set_dir_mtime(f->c->meta, "bkt", "", 0), ATR_OK);
	assert_int_equal(meta_obj_set_dir_mtime(f->c->meta, "bkt", "a/", 0), ATR_OK);
	assert_int_equal(ns_sync_tree(f->c, "bkt", ""), ATR_OK);
	assert_int_equal(meta_obj_get(f->c->meta, "bkt", "a/b", &row, 0), ATR_OK);
	assert_true(row.side);
	/* A replacement leaves no side file behind; deletes take theirs. */
	assert_int_equal(put(f->c, "a/b", "again", 0, NULL, NULL), ATR_OK);
	assert_false(ufs_is(f, side, 0));
	assert_int_equal(ns_delete(f->c, "bkt", "a/b", 1), ATR_OK);
	s = read_key(f, "a/b/c");
	assert_string_equal(s, "below");
	free(s);
	assert_int_equal(ns_delete(f->c, "bkt", "d", 1), ATR_OK);
	assert_int_equal(ns_find(f->c, "bkt", "d", &row, NULL, 0), ATR_E_NO_KEY);
	/* A marker with bytes: the directory stays one, the bytes are aside. */
	assert_int_equal(put(f->c, "m/", "marker bytes", 0, NULL, &o), ATR_OK);
	assert_false(o.is_dir);
	assert_true(ufs_is(f, "bkt/m", 1));
	s = read_key(f, "m/");
	assert_string_equal(s, "marker bytes");
	free(s);
	assert_int_equal(ns_commit_s3_marker(f->c, "root", "bkt", "m/", NULL, 0, NULL, NULL, NULL,
					     &o), ATR_OK);
	assert_true(o.is_dir);
	assert_int_equal(meta_obj_get(f->c->meta, "bkt", "m/", &row, 0), ATR_OK);
	assert_false(row.side);
	assert_int_equal(ns_side_path(side, sizeof(side), row.obj.ino), 0);
	assert_false(ufs_is(f, side, 0));
	/* The path view and the mount keep the file system's rule. */
	assert_int_equal(put(f->c, "plain", "p", 0, NULL, NULL), ATR_OK);
	assert_int_equal(ns_commit_marker(f->c, "root", "bkt", "plain/sub/", NULL, 0, NULL, NULL,
					  NULL, NULL), ATR_E_PARENT_IS_OBJECT);
	assert_true(ufs_is(f, "bkt/plain", 0));
}

/* A crash after the move to the side form committed, before its rename;
 * and a side file no row names (a crash after a replacement's commit). */
static void side_form_after_a_crash(void **state)
{
	struct fixture *f = *state;
	struct meta_row row = { 0 };
	char side[64], intent[64], path[512];
	assert_int_equal(put(f->c, "k", "object k", 0, NULL, NULL), ATR_OK);
	assert_int_equal(meta_begin(f->c->meta), ATR_OK);
	assert_int_equal(meta_obj_get(f->c->meta, "bkt", "k", &row, 1), ATR_OK);
	row.side = 1;
	assert_int_equal(meta_obj_put(f->c->meta, "bkt", "k", &row), ATR_OK);
	atr_obj_release(&row.obj);
	assert_int_equal(ns_side_path(side, sizeof(side), row.obj.ino), 0);
	assert_int_equal(meta_intent_set(f->c->meta, "=bkt/k", side), ATR_OK);
	assert_int_equal(meta_commit(f->c->meta), ATR_OK);
	/* an orphan */
	snprintf(path, sizeof(path), "%s/ufs/" SIDE_DIR, f->dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/ufs/" SIDE_DIR "/999999", f->dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	atr_core_close(f->c);
	fixture_open(f);
	assert_true(ufs_is(f, side, 0));
	assert_false(ufs_is(f, "bkt/k", 0));
	assert_false(ufs_is(f, SIDE_DIR "/999999", 0));
	char *s = read_key(f, "k");
	assert_string_equal(s, "object k");
	free(s);
	assert_int_equal(put(f->c, "k/below", "b", 0, NULL, NULL), ATR_OK);
	/* The intent, met again at the next start, is history. */
	snprintf(intent, sizeof(intent), "=bkt/k");
	assert_int_equal(meta_intent_set(f->c->meta, intent, side), ATR_OK);
	atr_core_close(f->c);
	fixture_open(f);
	s = read_key(f, "k");
	assert_string_equal(s, "object k");
	free(s);
	assert_true(ufs_is(f, "bkt/k", 1));
}

static void markers_entries_and_bytes(void **state)
{
	struct fixture *f = *state;
	struct atr_obj m = { 0 }, e = { 0 }, b = { 0 };
	/* A marker makes the implied directory explicit, keeping its inode. */
	assert_int_equal(put(f->c, "d/f", "x", 0, NULL, NULL), ATR_OK);
	struct meta_row implied = { 0 };
	assert_int_equal(meta_obj_get(f->c->meta, "bkt", "d/", &implied, 0), ATR_OK);
	assert_int_equal(ns_commit_marker(f->c, "root", "bkt", "d/", NULL, 0, NULL,
					  "Content-Type: text/x\r\n", NULL, &m), ATR_OK);
	assert_int_equal(m.ino, implied.obj.ino);
	struct meta_row row = { 0 };
	assert_int_equal(ns_find(f->c, "bkt", "d/", &row, NULL, 0), ATR_OK);
	assert_string_equal(row.obj.hdrs, "Content-Type: text/x\r\n");
	atr_obj_release(&row.obj);
	/* The mount's new entry: its mode and kind as given; a taken name
	 * is a conflict. */
	struct atr_obj posix = { .mode = 0640, .gid = -1 };
	assert_int_equal(ns_commit_entry(f->c, "root", "bkt", "d/g", stage_of(f->c, "gg"),
					 "e", &posix, &e), ATR_OK);
	assert_int_equal(e.mode, 0640);
	assert_int_equal(ns_commit_entry(f->c, "root", "bkt", "d/g", stage_of(f->c, "gg"),
					 "e", &posix, NULL), ATR_E_CONFLICT);
	/* New bytes for the inode keep everything else: its mode here. */
	assert_int_equal(ns_commit_bytes(f->c, obj_node(&e), stage_of(f->c, "new!"), "", &b),
			 ATR_OK);
	assert_int_equal(b.ino, e.ino);
	assert_int_equal(b.mode, 0640);
	assert_int_equal(b.size, 4);
	assert_int_equal(b.version, e.version + 1);
	/* ...and none for an inode with no name left. */
	assert_int_equal(ns_delete(f->c, "bkt", "d/g", 0), ATR_OK);
	assert_int_equal(ns_commit_bytes(f->c, obj_node(&e), stage_of(f->c, "x"), "", NULL),
			 ATR_E_NO_KEY);
}

static void deletes_and_pruning(void **state)
{
	struct fixture *f = *state;
	struct meta_row row = { 0 };
	assert_int_equal(put(f->c, "p/q/r", "x", 0, NULL, NULL), ATR_OK);
	/* The mount keeps the directories (prune 0)... */
	assert_int_equal(ns_delete(f->c, "bkt", "p/q/r", 0), ATR_OK);
	assert_int_equal(meta_obj_get(f->c->meta, "bkt", "p/q/", &row, 0), ATR_OK);
	/* ...S3 does not; nothing there is ATR_E_NO_KEY. */
	assert_int_equal(put(f->c, "p/q/r", "x", 0, NULL, NULL), ATR_OK);
	assert_int_equal(ns_delete(f->c, "bkt", "p/q/r", 1), ATR_OK);
	assert_int_equal(meta_obj_get(f->c->meta, "bkt", "p/", &row, 0), ATR_E_NO_KEY);
	assert_int_equal(ns_delete(f->c, "bkt", "p/q/r", 1), ATR_E_NO_KEY);
	/* rmdir: only an empty directory. */
	assert_int_equal(put(f->c, "s/t", "x", 0, NULL, NULL), ATR_OK);
	assert_int_equal(ns_rmdir(f->c, "bkt", "s/", 0), ATR_E_NOT_EMPTY);
	assert_int_equal(ns_delete(f->c, "bkt", "s/t", 0), ATR_OK);
	assert_int_equal(ns_rmdir(f->c, "bkt", "s/", 0), ATR_OK);
	assert_int_equal(meta_obj_get(f->c->meta, "bkt", "s/", &row, 0), ATR_E_NO_KEY);
}

static void renames_and_their_flags(void **state)
{
	struct fixture *f = *state;
	struct meta_row row = { 0 };
	assert_int_equal(put(f->c, "x", "X", 0, NULL, NULL), ATR_OK);
	assert_int_equal(put(f->c, "y", "Y", 0, NULL, NULL), ATR_OK);
	/* The path view's mv: nothing may be at the destination. */
	assert_int_equal(ns_rename(f->c, "bkt", "x", "bkt", "y", 0, 0), ATR_E_EXISTS);
	assert_int_equal(ns_rename(f->c, "bkt", "x", "bkt", "y", 0, NS_MOVE_NOREPLACE),
			 ATR_E_EXISTS);
	/* rename(2) replaces. */
	assert_int_equal(ns_rename(f->c, "bkt", "x", "bkt", "y", 0, NS_MOVE_REPLACE), ATR_OK);
	assert_int_equal(ns_find(f->c, "bkt", "y", &row, NULL, 0), ATR_OK);
	assert_int_equal(row.obj.size, 1);
	atr_obj_release(&row.obj);
	char path[256], buf[4] = "";
	snprintf(path, sizeof(path), "%s/ufs/bkt/y", f->dir);
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	assert_string_equal(buf, "X");
	assert_int_equal(ns_find(f->c, "bkt", "x", &row, NULL, 0), ATR_E_NO_KEY);
	/* A directory with what is below it, into a new parent made on the way. */
	assert_int_equal(put(f->c, "dir/in", "1", 0, NULL, NULL), ATR_OK);
	assert_int_equal(ns_rename(f->c, "bkt", "dir/", "bkt", "new/place/", 1, 0), ATR_OK);
	assert_int_equal(ns_find(f->c, "bkt", "new/place/in", &row, NULL, 0), ATR_OK);
	atr_obj_release(&row.obj);
	assert_int_equal(meta_obj_get(f->c->meta, "bkt", "dir/", &row, 0), ATR_E_NO_KEY);
	/* A file onto a directory, and the other way round. */
	assert_int_equal(ns_rename(f->c, "bkt", "y", "bkt", "new", 0, NS_MOVE_REPLACE),
			 ATR_E_KEY_IS_PREFIX);
	assert_int_equal(ns_rename(f->c, "bkt", "y", "bkt", "new/", 0, NS_MOVE_REPLACE),
			 ATR_E_INVALID_ARG); /* a file's key is no directory's */
	assert_int_equal(ns_rename(f->c, "bkt", "nothing", "bkt", "z", 0, 0), ATR_E_NO_KEY);
}

static void pending_rows_and_links(void **state)
{
	struct fixture *f = *state;
	struct meta_row row = { 0 }, got = { 0 };
	ns_row_init(&row);
	row.obj.mode = 0600;
	snprintf(row.obj.owner, sizeof(row.obj.owner), "root");
	assert_int_equal(ns_pending_create(f->c, "bkt", "new", &row), ATR_OK);
	assert_true(row.obj.ino != 0);
	/* S3 does not see it; its name is taken. */
	assert_int_equal(ns_find(f->c, "bkt", "new", &got, NULL, 0), ATR_E_NO_KEY);
	assert_int_equal(ns_name_free(f->c, "bkt", "new"), ATR_E_EXISTS);
	struct meta_row again = row;
	assert_int_equal(ns_pending_create(f->c, "bkt", "new", &again), ATR_E_EXISTS);
	/* It takes a free name, keeping its inode. */
	assert_int_equal(ns_adopt(f->c, "bkt", "new", row.obj.ino, "bkt", "named"), ATR_OK);
	assert_int_equal(meta_obj_get(f->c->meta, "bkt", "named", &got, 0), ATR_OK);
	assert_int_equal(got.obj.ino, row.obj.ino);
	/* Links: a second name of the same inode, files only. */
	struct atr_obj o = { 0 };
	assert_int_equal(put(f->c, "l1", "L", 0, NULL, &o), ATR_OK);
	assert_int_equal(ns_link(f->c, "bkt", "l1", obj_node(&o), "bkt", "l2"), ATR_OK);
	assert_int_equal(ns_find(f->c, "bkt", "l2", &got, NULL, 0), ATR_OK);
	assert_int_equal(obj_node(&got.obj), obj_node(&o));
	atr_obj_release(&got.obj);
	assert_int_equal(ns_link(f->c, "bkt", "l1", obj_node(&o), "bkt", "l2"), ATR_E_EXISTS);
	assert_int_equal(ns_link(f->c, "bkt", "l1", obj_node(&o) + 99, "bkt", "l3"),
			 ATR_E_NO_KEY); /* not that inode any more */
}

struct seen {
	char keys[16][32];
	int n;
};

static int on_key(void *arg, const char *key, const struct meta_row *row)
{
	struct seen *s = arg;
	snprintf(s->keys[s->n++], 32, "%s", key);
	return 0;
}

static int hide_secret(void *arg, const char *dirkey)
{
	return strcmp(dirkey, "secret/") != 0;
}

static void scans_see_what_they_may(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(put(f->c, "a", "1", 0, NULL, NULL), ATR_OK);
	assert_int_equal(put(f->c, "secret/s", "1", 0, NULL, NULL), ATR_OK);
	assert_int_equal(put(f->c, "sub/x", "1", 0, NULL, NULL), ATR_OK);
	assert_int_equal(put(f->c, "sub/deeper/y", "1", 0, NULL, NULL), ATR_OK);
	struct seen top = { 0 };
	assert_int_equal(ns_scan_dir(f->c, "bkt", "", 0, NULL, NULL, on_key, &top), ATR_OK);
	assert_int_equal(top.n, 3); /* children only */
	assert_string_equal(top.keys[0], "a");
	assert_string_equal(top.keys[1], "secret/");
	assert_string_equal(top.keys[2], "sub/");
	struct seen all = { 0 };
	assert_int_equal(ns_scan_dir(f->c, "bkt", "", 1, "secret/", hide_secret, on_key, &all),
			 ATR_OK);
	/* From "secret/" on, without what is in it, in key order. */
	assert_int_equal(all.n, 5);
	assert_string_equal(all.keys[0], "secret/");
	assert_string_equal(all.keys[1], "sub/");
	assert_string_equal(all.keys[2], "sub/deeper/");
	assert_string_equal(all.keys[3], "sub/deeper/y");
	assert_string_equal(all.keys[4], "sub/x");
}

static void the_lock_is_held_where_it_must_be(void **state)
{
	struct fixture *f = *state;
	assert_false(ns_held(f->c));
	ns_lock(f->c);
	assert_true(ns_held(f->c));
	ns_unlock(f->c);
	assert_false(ns_held(f->c));
}

/* A bucket directory removed behind our back: the bucket is forgotten,
 * rows and all, once (it was rolled back and forgotten again at every
 * request); one made behind our back is imported. */
static void buckets_follow_their_directories(void **state)
{
	struct fixture *f = *state;
	struct atr_bucket b;
	struct meta_row row = { 0 };
	char cmd[256];
	assert_int_equal(put(f->c, "k", "x", 0, NULL, NULL), ATR_OK);
	snprintf(cmd, sizeof(cmd), "rm -rf %s/ufs/bkt && mkdir %s/ufs/newb", f->dir, f->dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(ns_bucket_get(f->c, "bkt", &b, 1), ATR_E_NO_BUCKET);
	assert_int_equal(meta_bucket_get(f->c->meta, "bkt", &b), ATR_E_NO_BUCKET);
	assert_int_equal(meta_obj_get(f->c->meta, "bkt", "k", &row, 0), ATR_E_NO_KEY);
	assert_int_equal(ns_bucket_get(f->c, "newb", &b, 1), ATR_OK);
	assert_int_equal(meta_bucket_get(f->c->meta, "newb", &b), ATR_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(object_commits_and_conditions, setup, teardown),
		cmocka_unit_test_setup_teardown(markers_entries_and_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(side_form, setup, teardown),
		cmocka_unit_test_setup_teardown(side_form_after_a_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(deletes_and_pruning, setup, teardown),
		cmocka_unit_test_setup_teardown(renames_and_their_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(pending_rows_and_links, setup, teardown),
		cmocka_unit_test_setup_teardown(scans_see_what_they_may, setup, teardown),
		cmocka_unit_test_setup_teardown(the_lock_is_held_where_it_must_be, setup, teardown),
		cmocka_unit_test_setup_teardown(buckets_follow_their_directories, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
