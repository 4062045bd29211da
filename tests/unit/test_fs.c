/* The file-system view of the core (src/fs.c) over a temp data dir: paths,
 * stat, listing (implied directories, order, pages, the root), cache
 * load/free and the in-cache bytes, mkdir, rm, mv, chmod/chown, totals. */
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
#include "tests/unit/core_fixture.h"

static const struct atr_user root = { .name = "root", .superuser = 1 };
static const struct atr_user alice = { .name = "alice", .superuser = 0 };
static const struct atr_user bob = { .name = "bob", .superuser = 0 };

#define BS 4096


static int setup(void **state)
{
	*state = fixture_new(BS, &alice);
	return 0;
}

static int teardown(void **state)
{
	return fixture_teardown(state);
}

static int put_n(struct atr_core *c, const struct atr_user *u, const char *bucket,
		 const char *key, size_t n)
{
	struct atr_writer *w;
	int rc = atr_put_begin(c, u, bucket, key, n, &w);
	if (rc)
		return rc;
	char *data = malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)('a' + i % 26);
	rc = atr_put_write(w, data, n);
	free(data);
	if (rc) {
		atr_put_abort(w);
		return rc;
	}
	return atr_put_commit(w, NULL, NULL);
}

static int put(struct atr_core *c, const char *key, size_t n)
{
	return put_n(c, &alice, "bkt", key, n);
}

/* Collects "path" or "path/" (directories) lines, joined by ' '. */
struct seen {
	char text[8192];
	int n;
};

static int collect(void *arg, const struct atr_entry *e)
{
	struct seen *s = arg;
	size_t len = strlen(s->text);
	snprintf(s->text + len, sizeof(s->text) - len, "%s%s%s", s->n ? " " : "", e->path,
		 e->obj.is_dir ? "/" : "");
	s->n++;
	return 0;
}

static char *list(struct atr_core *c, const struct atr_user *u, const char *path, int recursive)
{
	static struct seen s;
	int truncated;
	memset(&s, 0, sizeof(s));
	int rc = atr_fs_list(c, u, path, recursive, NULL, 1000, collect, &s, &truncated, NULL);
	if (rc)
		snprintf(s.text, sizeof(s.text), "error %s", atr_strerror(rc));
	assert_false(truncated);
	return s.text;
}

/* The same listing page by page (max per page), cursors passed back. */
static char *list_paged(struct atr_core *c, const char *path, int recursive, int max)
{
	static struct seen s;
	char next[ATR_PATH_MAX + 1] = "", start[ATR_PATH_MAX + 1] = "";
	int truncated, pages = 0;
	memset(&s, 0, sizeof(s));
	do {
		int before = s.n;
		assert_int_equal(atr_fs_list(c, &alice, path, recursive, start, max, collect, &s,
					     &truncated, next), ATR_OK);
		assert_true(s.n - before <= max);
		if (truncated)
			assert_int_equal(s.n - before, max);
		memcpy(start, next, sizeof(start));
		assert_true(++pages < 100);
	} while (truncated);
	return s.text;
}

static void tree(struct atr_core *c)
{
	assert_int_equal(put(c, "a/b/c", 10), ATR_OK);
	assert_int_equal(put(c, "a/d", 20), ATR_OK);
	assert_int_equal(put(c, "a-b", 30), ATR_OK);
	assert_int_equal(put(c, "m/", 0), ATR_OK); /* a directory marker */
	assert_int_equal(put(c, "z", 3 * BS + 5), ATR_OK);
}

static void stat_paths(void **state)
{
	struct fixture *f = *state;
	struct atr_entry e;
	tree(f->c);
	assert_int_equal(atr_fs_stat(f->c, &alice, "/", &e), ATR_OK);
	assert_string_equal(e.path, "/");
	assert_true(e.obj.is_dir);

	/* A bucket is its creator's alone (private by default). */
	assert_int_equal(atr_fs_stat(f->c, &bob, "/bkt", &e), ATR_E_ACCESS);
	assert_int_equal(atr_fs_stat(f->c, &alice, "/bkt", &e), ATR_OK);
	assert_true(e.is_bucket && e.obj.is_dir);
	assert_string_equal(e.obj.owner, "alice");
	assert_int_equal(e.obj.mode, 0700);

	assert_int_equal(atr_fs_stat(f->c, &alice, "/bkt/a/d", &e), ATR_OK);
	assert_string_equal(e.path, "/bkt/a/d");
	assert_false(e.obj.is_dir);
	assert_int_equal(e.obj.size, 20);
	assert_int_equal(e.obj.mode, 0600); /* private */
	assert_int_equal(e.persist, ATR_PERSISTED);
	assert_string_equal(atr_persist_name(e.persist), "PERSISTED");
	assert_string_equal(e.group, "alice"); /* a user this host does not know */

	/* An implied directory is an entry here; a trailing '/' is ignored. */
	assert_int_equal(atr_fs_stat(f->c, &alice, "/bkt/a/b/", &e), ATR_OK);
	assert_string_equal(e.path, "/bkt/a/b");
	assert_true(e.obj.is_dir && e.implicit);
	assert_int_equal(atr_fs_stat(f->c, &alice, "/bkt/m", &e), ATR_OK);
	assert_true(e.obj.is_dir && !e.implicit);

	assert_int_equal(atr_fs_stat(f->c, &alice, "/bkt/nope", &e), ATR_E_NO_KEY);
	assert_int_equal(atr_fs_stat(f->c, &alice, "/nobucket/x", &e), ATR_E_NO_BUCKET);
	assert_int_equal(atr_fs_stat(f->c, &alice, "/bkt/a/../d", &e), ATR_E_INVALID_KEY);
	assert_int_equal(atr_fs_stat(f->c, &alice, "/bkt/a//d", &e), ATR_E_INVALID_KEY);
	assert_int_equal(atr_fs_stat(f->c, &alice, "/bkt/a//", &e), ATR_E_INVALID_KEY);
	assert_int_equal(atr_fs_stat(f->c, &alice, "bkt/a", &e), ATR_E_INVALID_ARG);
	assert_int_equal(atr_fs_stat(f->c, &alice, "/BAD", &e), ATR_E_INVALID_BUCKET);

	/* A directory made behind our back is found (metadata sync). */
	char path[256];
	snprintf(path, sizeof(path), "%s/ufs/bkt/side", f->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(atr_fs_stat(f->c, &alice, "/bkt/side", &e), ATR_OK);
	assert_true(e.obj.is_dir);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(atr_fs_stat(f->c, &alice, "/bkt/side", &e), ATR_E_NO_KEY);
}

static void listing(void **state)
{
	struct fixture *f = *state;
	tree(f->c);
	/* S3's order: "a-b" < "a/" ('-' < '/'). */
	assert_string_equal(list(f->c, &alice, "/bkt", 0), "/bkt/a-b /bkt/a/ /bkt/m/ /bkt/z");
	assert_string_equal(list(f->c, &alice, "/bkt/a", 0), "/bkt/a/b/ /bkt/a/d");
	assert_string_equal(list(f->c, &alice, "/bkt", 1),
			    "/bkt/a-b /bkt/a/ /bkt/a/b/ /bkt/a/b/c /bkt/a/d /bkt/m/ /bkt/z");
	assert_string_equal(list(f->c, &alice, "/bkt/a/d", 1), "/bkt/a/d"); /* a file: itself */
	assert_string_equal(list(f->c, &alice, "/bkt/m", 0), "");
	assert_string_equal(list(f->c, &alice, "/bkt/none", 0), "error no such key");
	/* Every page size gives the same listing, each entry once. */
	for (int max = 1; max <= 4; max++) {
		assert_string_equal(list_paged(f->c, "/bkt", 1, max),
				    "/bkt/a-b /bkt/a/ /bkt/a/b/ /bkt/a/b/c /bkt/a/d /bkt/m/ /bkt/z");
		assert_string_equal(list_paged(f->c, "/bkt", 0, max),
				    "/bkt/a-b /bkt/a/ /bkt/m/ /bkt/z");
	}
	/* The root: the buckets the caller may list, and recursively their
	 * contents, across pages (bob's bucket once he made it public). */
	struct atr_acl acl;
	assert_int_equal(atr_bucket_create(f->c, &bob, "bkt2", "", NULL, -1), ATR_OK);
	assert_int_equal(put_n(f->c, &bob, "bkt2", "k", 1), ATR_OK);
	assert_string_equal(list(f->c, &alice, "/", 0), "/bkt/");
	assert_int_equal(atr_acl_canned("public-read", &acl), ATR_OK);
	assert_int_equal(atr_acl_set(f->c, &bob, "bkt2", NULL, &acl), ATR_OK);
	assert_string_equal(list(f->c, &alice, "/", 0), "/bkt/ /bkt2/");
	for (int max = 1; max <= 3; max++)
		assert_string_equal(list_paged(f->c, "/", 1, max),
				    "/bkt/ /bkt/a-b /bkt/a/ /bkt/a/b/ /bkt/a/b/c /bkt/a/d /bkt/m/ "
				    "/bkt/z /bkt2/ /bkt2/k");
	/* Once alice opens her bucket (0755: its implied directories follow),
	 * bob may list it but not read a 0700 directory in it, nor see what
	 * lies below it in a recursive listing. */
	assert_string_equal(list(f->c, &bob, "/bkt", 0), "error permission denied");
	assert_int_equal(atr_fs_chmod(f->c, &alice, "/bkt", 0755, 0), ATR_OK);
	assert_string_equal(list(f->c, &bob, "/bkt", 1),
			    "/bkt/a-b /bkt/a/ /bkt/a/b/ /bkt/a/b/c /bkt/a/d /bkt/m/ /bkt/z");
	assert_int_equal(atr_fs_chmod(f->c, &alice, "/bkt/a", 0700, 0), ATR_OK);
	assert_string_equal(list(f->c, &bob, "/bkt/a", 0), "error permission denied");
	assert_string_equal(list(f->c, &bob, "/bkt", 0), "/bkt/a-b /bkt/a/ /bkt/m/ /bkt/z");
	assert_string_equal(list(f->c, &bob, "/bkt", 1), "/bkt/a-b /bkt/a/ /bkt/m/ /bkt/z");
}

static uint64_t cached(struct atr_core *c, const char *path)
{
	struct atr_entry e;
	assert_int_equal(atr_fs_stat(c, &alice, path, &e), ATR_OK);
	return e.cached;
}

static void cache_load_free(void **state)
{
	struct fixture *f = *state;
	struct atr_cache_op op;
	struct atr_stats st;
	tree(f->c);
	assert_int_equal(cached(f->c, "/bkt/z"), 0); /* a PUT does not fill the cache */
	assert_int_equal(atr_cache_load(f->c, &alice, "/bkt/z", &op), ATR_OK);
	assert_int_equal(op.files, 1);
	assert_int_equal(op.bytes, 3 * BS + 5);
	assert_int_equal(cached(f->c, "/bkt/z"), 3 * BS + 5);
	atr_core_stats(f->c, &st);
	assert_int_equal(st.cache_bytes, 3 * BS + 5);
	/* Loading again brings nothing new. */
	assert_int_equal(atr_cache_load(f->c, &alice, "/bkt/z", &op), ATR_OK);
	assert_int_equal(op.bytes, 0);

	/* A directory: every file below it. */
	assert_int_equal(atr_cache_load(f->c, &alice, "/bkt/a", &op), ATR_OK);
	assert_int_equal(op.files, 2);
	assert_int_equal(op.bytes, 30);
	assert_int_equal(cached(f->c, "/bkt/a/b/c"), 10);
	assert_int_equal(cached(f->c, "/bkt/a-b"), 0);

	assert_int_equal(atr_cache_free(f->c, &alice, "/bkt", &op), ATR_OK);
	assert_int_equal(op.files, 4);
	assert_int_equal(op.bytes, 3 * BS + 5 + 30);
	assert_int_equal(cached(f->c, "/bkt/z"), 0);
	atr_core_stats(f->c, &st);
	assert_int_equal(st.cache_bytes, 0);

	/* A rewrite is a new version: its blocks are not the old ones. */
	assert_int_equal(atr_cache_load(f->c, &alice, "/bkt/z", &op), ATR_OK);
	assert_int_equal(put(f->c, "z", 100), ATR_OK);
	assert_int_equal(cached(f->c, "/bkt/z"), 0);

	assert_int_equal(atr_fs_persist(f->c, &alice, "/bkt", &op), ATR_OK);
	assert_int_equal(op.files, 4);
	assert_int_equal(op.bytes, 0); /* all already persisted */
	assert_int_equal(atr_cache_load(f->c, &alice, "/bkt/nope", &op), ATR_E_NO_KEY);
}

static int ufs_exists(struct fixture *f, const char *rel)
{
	char path[512];
	struct stat sb;
	snprintf(path, sizeof(path), "%s/ufs/%s", f->dir, rel);
	return stat(path, &sb) == 0;
}

static void mkdir_rm(void **state)
{
	struct fixture *f = *state;
	struct atr_entry e;
	tree(f->c);
	assert_int_equal(atr_fs_mkdir(f->c, &alice, "/bkt/n1/n2"), ATR_OK);
	assert_int_equal(atr_fs_stat(f->c, &alice, "/bkt/n1", &e), ATR_OK);
	assert_false(e.implicit); /* parents are real directories, not implied */
	assert_true(ufs_exists(f, "bkt/n1/n2"));
	assert_int_equal(atr_fs_mkdir(f->c, &alice, "/bkt/n1/n2"), ATR_E_EXISTS);
	assert_int_equal(atr_fs_mkdir(f->c, &alice, "/bkt/a"), ATR_E_EXISTS);  /* implied */
	assert_int_equal(atr_fs_mkdir(f->c, &alice, "/bkt/z"), ATR_E_EXISTS);  /* a file */
	assert_int_not_equal(atr_fs_mkdir(f->c, &alice, "/bkt/z/y"), ATR_OK); /* below a file */
	assert_int_equal(atr_fs_mkdir(f->c, &bob, "/bkt/bobdir"), ATR_E_ACCESS);
	assert_int_equal(atr_fs_mkdir(f->c, &bob, "/bobs"), ATR_OK);          /* a bucket */
	assert_int_equal(atr_fs_mkdir(f->c, &bob, "/bobs"), ATR_E_EXISTS);

	assert_int_equal(atr_fs_remove(f->c, &alice, "/bkt/a", 0), ATR_E_NOT_EMPTY);
	assert_int_equal(atr_fs_remove(f->c, &bob, "/bkt/a-b", 0), ATR_E_ACCESS);
	assert_int_equal(atr_fs_remove(f->c, &alice, "/bkt/a-b", 0), ATR_OK);
	assert_false(ufs_exists(f, "bkt/a-b"));
	assert_int_equal(atr_fs_remove(f->c, &alice, "/bkt/n1/n2", 0), ATR_OK); /* empty */
	assert_false(ufs_exists(f, "bkt/n1/n2"));
	assert_true(ufs_exists(f, "bkt/n1"));
	assert_int_equal(atr_fs_remove(f->c, &alice, "/bkt/a", 1), ATR_OK);
	assert_false(ufs_exists(f, "bkt/a"));
	assert_int_equal(atr_fs_stat(f->c, &alice, "/bkt/a/d", &e), ATR_E_NO_KEY);
	assert_int_equal(atr_fs_remove(f->c, &alice, "/bkt/a", 1), ATR_E_NO_KEY);

	/* Empty directories made behind our back go too. */
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/ufs/bkt/m/x/y", f->dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(atr_fs_remove(f->c, &alice, "/bkt/m", 1), ATR_OK);
	assert_false(ufs_exists(f, "bkt/m"));

	/* A bucket and everything in it. */
	assert_int_equal(atr_fs_remove(f->c, &alice, "/bkt", 0), ATR_E_NOT_EMPTY);
	assert_int_equal(atr_fs_remove(f->c, &alice, "/bkt", 1), ATR_OK);
	assert_false(ufs_exists(f, "bkt"));
	assert_int_equal(atr_fs_stat(f->c, &alice, "/bkt", &e), ATR_E_NO_BUCKET);
	assert_int_equal(atr_fs_remove(f->c, &alice, "/", 1), ATR_E_INVALID_ARG);
}

static void rename_paths(void **state)
{
	struct fixture *f = *state;
	struct atr_entry before, after;
	struct atr_cache_op op;
	tree(f->c);
	assert_int_equal(atr_fs_stat(f->c, &alice, "/bkt/z", &before), ATR_OK);
	assert_int_equal(atr_cache_load(f->c, &alice, "/bkt/z", &op), ATR_OK);
	assert_int_equal(atr_fs_rename(f->c, &alice, "/bkt/z", "/bkt/new/dir/z2"), ATR_OK);
	assert_int_equal(atr_fs_stat(f->c, &alice, "/bkt/z", &after), ATR_E_NO_KEY);
	assert_int_equal(atr_fs_stat(f->c, &alice, "/bkt/new/dir/z2", &after), ATR_OK);
	assert_int_equal(after.obj.ino, before.obj.ino);
	assert_string_equal(after.obj.etag, before.obj.etag);
	assert_int_equal(after.cached, 3 * BS + 5); /* same ino and version: still cached */
	assert_true(ufs_exists(f, "bkt/new/dir/z2"));
	assert_false(ufs_exists(f, "bkt/z"));

	/* A directory with everything below; the implied parent left empty goes. */
	assert_int_equal(atr_fs_stat(f->c, &alice, "/bkt/a/b/c", &before), ATR_OK);
	assert_int_equal(atr_fs_rename(f->c, &alice, "/bkt/a/b", "/bkt/q"), ATR_OK);
	assert_int_equal(atr_fs_stat(f->c, &alice, "/bkt/q/c", &after), ATR_OK);
	assert_int_equal(after.obj.ino, before.obj.ino);
	assert_string_equal(list(f->c, &alice, "/bkt", 1),
			    "/bkt/a-b /bkt/a/ /bkt/a/d /bkt/m/ /bkt/new/ /bkt/new/dir/ "
			    "/bkt/new/dir/z2 /bkt/q/ /bkt/q/c");
	assert_int_equal(atr_fs_rename(f->c, &alice, "/bkt/a/d", "/bkt/a-b2"), ATR_OK);
	assert_false(ufs_exists(f, "bkt/a")); /* implied "a/" pruned */
	assert_int_equal(atr_fs_stat(f->c, &alice, "/bkt/a", &after), ATR_E_NO_KEY);

	/* Refusals. */
	assert_int_equal(atr_fs_rename(f->c, &alice, "/bkt/q", "/bkt/a-b"), ATR_E_EXISTS);
	assert_int_equal(atr_fs_rename(f->c, &alice, "/bkt/a-b", "/bkt/q"), ATR_E_EXISTS);
	assert_int_equal(atr_fs_rename(f->c, &alice, "/bkt/q", "/bkt/q/r"), ATR_E_INVALID_ARG);
	assert_int_equal(atr_fs_rename(f->c, &alice, "/bkt/nope", "/bkt/x"), ATR_E_NO_KEY);
	assert_int_equal(atr_fs_rename(f->c, &alice, "/bkt", "/bkt3"), ATR_E_NOT_SUPPORTED);
	assert_int_equal(atr_fs_rename(f->c, &bob, "/bkt/q", "/bkt/r"), ATR_E_ACCESS);
	assert_int_not_equal(atr_fs_rename(f->c, &alice, "/bkt/q", "/bkt/a-b/x"), ATR_OK);
	assert_true(ufs_exists(f, "bkt/q/c")); /* a refused move changes nothing */

	/* Across buckets. */
	assert_int_equal(atr_bucket_create(f->c, &alice, "other", "", NULL, -1), ATR_OK);
	assert_int_equal(atr_fs_rename(f->c, &alice, "/bkt/q", "/other/q"), ATR_OK);
	assert_string_equal(list(f->c, &alice, "/other", 1), "/other/q/ /other/q/c");
	assert_true(ufs_exists(f, "other/q/c"));
	/* Over S3 too: the object is at its new key. */
	struct atr_obj o;
	assert_int_equal(atr_object_stat(f->c, &alice, "other", "q/c", &o), ATR_OK);
	atr_obj_release(&o);
	assert_int_equal(atr_object_stat(f->c, &alice, "bkt", "a/b/c", &o), ATR_E_NO_KEY);
}

static void chmod_chown(void **state)
{
	struct fixture *f = *state;
	struct atr_entry e;
	struct atr_obj o;
	tree(f->c);
	assert_int_equal(atr_fs_chmod(f->c, &alice, "/bkt/a/d", 0600, 0), ATR_OK);
	assert_int_equal(atr_fs_stat(f->c, &alice, "/bkt/a/d", &e), ATR_OK);
	assert_int_equal(e.obj.mode, 0600);
	/* The mode is the one S3 reads are checked against. */
	assert_int_equal(atr_object_stat(f->c, &bob, "bkt", "a/d", &o), ATR_E_ACCESS);
	assert_int_equal(atr_fs_chmod(f->c, &bob, "/bkt/a/d", 0644, 0), ATR_E_ACCESS);
	assert_int_equal(atr_fs_chmod(f->c, &alice, "/bkt/a/d", 01777, 0), ATR_E_INVALID_ARG);
	/* A bucket's mode is its root directory's, which S3 checks. */
	assert_int_equal(atr_fs_chmod(f->c, &bob, "/bkt", 0755, 0), ATR_E_ACCESS);
	assert_int_equal(atr_fs_chmod(f->c, &alice, "/bkt", 0755, 0), ATR_OK);
	assert_int_equal(atr_fs_stat(f->c, &bob, "/bkt", &e), ATR_OK);
	assert_int_equal(e.obj.mode, 0755);
	assert_int_equal(atr_fs_stat(f->c, &alice, "/bkt/a", &e), ATR_OK);
	assert_int_equal(e.obj.mode, 0755); /* an implied directory follows its bucket */

	assert_int_equal(atr_fs_chmod(f->c, &alice, "/bkt/a", 0750, 1), ATR_OK);
	assert_int_equal(atr_fs_stat(f->c, &alice, "/bkt/a/b/c", &e), ATR_OK);
	assert_int_equal(e.obj.mode, 0750);
	assert_int_equal(atr_fs_stat(f->c, &alice, "/bkt/z", &e), ATR_OK);
	assert_int_equal(e.obj.mode, 0600); /* outside: unchanged (private) */

	assert_int_equal(atr_fs_chown(f->c, &alice, "/bkt/z", "bob", 0), ATR_E_ACCESS);
	assert_int_equal(atr_fs_chown(f->c, &root, "/bkt/z", "bad name", 0), ATR_E_INVALID_ARG);
	assert_int_equal(atr_fs_chown(f->c, &root, "/bkt/a", "bob", 1), ATR_OK);
	assert_int_equal(atr_fs_stat(f->c, &root, "/bkt/a/b", &e), ATR_OK);
	assert_string_equal(e.obj.owner, "bob");
	/* alice no longer owns all of a/ (nor may she reach into it now): her
	 * recursive chmod is refused whole */
	assert_int_equal(atr_fs_chmod(f->c, &alice, "/bkt/a", 0600, 1), ATR_E_ACCESS);
	assert_int_equal(atr_object_stat(f->c, &bob, "bkt", "a/d", &o), ATR_OK);
	atr_obj_release(&o);

	/* A bucket's owner: bob may write there now. */
	assert_int_equal(put_n(f->c, &bob, "bkt", "bobfile", 1), ATR_E_ACCESS);
	assert_int_equal(atr_fs_chown(f->c, &root, "/bkt", "bob", 0), ATR_OK);
	assert_int_equal(atr_fs_stat(f->c, &alice, "/bkt", &e), ATR_OK);
	assert_string_equal(e.obj.owner, "bob");
	assert_int_equal(put_n(f->c, &bob, "bkt", "bobfile", 1), ATR_OK);
	assert_int_equal(atr_fs_stat(f->c, &alice, "/bkt/z", &e), ATR_OK);
	assert_string_equal(e.obj.owner, "alice"); /* not recursive */
}

static void totals(void **state)
{
	struct fixture *f = *state;
	struct atr_ns_totals t;
	tree(f->c);
	assert_int_equal(atr_ns_totals(f->c, &t), ATR_OK);
	assert_int_equal(t.files, 4);
	assert_int_equal(t.dirs, 3); /* a/, a/b/, m/ */
	assert_int_equal(t.bytes, 10 + 20 + 30 + 3 * BS + 5);
	assert_int_equal(t.uploads, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(stat_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(listing, setup, teardown),
		cmocka_unit_test_setup_teardown(cache_load_free, setup, teardown),
		cmocka_unit_test_setup_teardown(mkdir_rm, setup, teardown),
		cmocka_unit_test_setup_teardown(rename_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(chmod_chown, setup, teardown),
		cmocka_unit_test_setup_teardown(totals, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
