/* The mount's inode view over a temp core (src/node.c, node_file.c,
 * node_xattr.c): names, attributes, directories, open files and their
 * shadows, hard links, O_TMPFILE, setattr, extended attributes — and what
 * S3 sees of each through the same core. */
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

#include "src/core_int.h"
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

/* The daemon's own user: names map to ids through the id map. */
static struct atr_cred me(void)
{
	return (struct atr_cred){ .uid = getuid(), .gid = getgid() };
}

static uint64_t lookup(struct atr_core *c, uint64_t parent, const char *name)
{
	struct atr_attr a;
	assert_int_equal(atr_node_lookup(c, parent, name, &a), ATR_OK);
	return a.ino;
}

/* A file made through the mount: create, write, close (the commit). */
static uint64_t make(struct atr_core *c, uint64_t dir, const char *name, const char *data)
{
	struct atr_cred cr = me();
	struct atr_file *f;
	struct atr_attr a;
	assert_int_equal(atr_node_create(c, &cr, dir, name, 0640, &f, &a), ATR_OK);
	assert_int_equal(atr_file_write(f, data, strlen(data), 0), ATR_OK);
	assert_int_equal(atr_file_flush(f), ATR_OK);
	atr_file_close(f);
	return a.ino;
}

/* What S3 serves at key (NULL if nothing). */
static char *s3_get(struct atr_core *c, const char *key)
{
	return fixture_get(c, &root, "bkt", key, NULL);
}

static void read_all(struct atr_file *f, char *buf, size_t size)
{
	size_t got = 0;
	assert_int_equal(atr_file_read(f, buf, size - 1, 0, &got), ATR_OK);
	buf[got] = '\0';
}

static void create_write_close_is_an_object(void **state)
{
	struct fixture *f = *state;
	uint64_t bkt = lookup(f->c, ATR_INO_ROOT, "bkt");
	struct atr_cred cr = me();
	struct atr_attr a, d;
	assert_int_equal(atr_node_mkdir(f->c, &cr, bkt, "dir", 0750, &d), ATR_OK);
	assert_true(S_ISDIR(d.mode));
	assert_int_equal(d.mode & 07777, 0750);
	/* Before its commit a created file is the mount's only. */
	struct atr_file *fh;
	assert_int_equal(atr_node_create(f->c, &cr, d.ino, "f", 0600, &fh, &a), ATR_OK);
	assert_int_equal(atr_file_write(fh, "hello", 5, 0), ATR_OK);
	assert_null(s3_get(f->c, "dir/f"));
	assert_int_equal(atr_node_getattr(f->c, a.ino, &a), ATR_OK);
	assert_int_equal(a.size, 5); /* the shadow's size */
	assert_int_equal(atr_file_flush(fh), ATR_OK);
	atr_file_close(fh);
	char *got = s3_get(f->c, "dir/f");
	assert_string_equal(got, "hello");
	free(got);
	assert_int_equal(atr_node_lookup(f->c, d.ino, "f", &a), ATR_OK);
	assert_int_equal(a.mode & 07777, 0600);
	assert_int_equal(a.uid, getuid());
	assert_int_equal(atr_node_create(f->c, &cr, d.ino, "f", 0600, &fh, &a), ATR_E_EXISTS);
	/* The parent of the directory is the bucket. */
	uint64_t p;
	assert_int_equal(atr_node_parent(f->c, d.ino, &p), ATR_OK);
	assert_int_equal(p, bkt);
}

static void unlinked_open_file_keeps_its_bytes(void **state)
{
	struct fixture *f = *state;
	uint64_t bkt = lookup(f->c, ATR_INO_ROOT, "bkt");
	uint64_t ino = make(f->c, bkt, "gone", "keep me");
	struct atr_file *fh;
	char buf[32];
	assert_int_equal(atr_node_open(f->c, ino, ATR_OPEN_WRITE, &fh), ATR_OK);
	assert_int_equal(atr_node_unlink(f->c, bkt, "gone"), ATR_OK);
	assert_null(s3_get(f->c, "gone"));
	read_all(fh, buf, sizeof(buf));
	assert_string_equal(buf, "keep me");
	/* Written after its unlink: still its own bytes, going nowhere. */
	assert_int_equal(atr_file_write(fh, "KEEP", 4, 0), ATR_OK);
	read_all(fh, buf, sizeof(buf));
	assert_string_equal(buf, "KEEP me");
	struct atr_attr a;
	assert_int_equal(atr_node_getattr(f->c, ino, &a), ATR_OK);
	assert_int_equal(a.nlink, 0);
	assert_int_equal(a.size, 7);
	assert_int_equal(atr_file_flush(fh), ATR_OK);
	atr_file_close(fh);
	assert_null(s3_get(f->c, "gone"));
	assert_int_equal(atr_node_lookup(f->c, bkt, "gone", &a), ATR_E_NO_KEY);
}

static void rename_replaces_and_noreplace_refuses(void **state)
{
	struct fixture *f = *state;
	uint64_t bkt = lookup(f->c, ATR_INO_ROOT, "bkt");
	uint64_t a_ino = make(f->c, bkt, "a", "AAA");
	make(f->c, bkt, "b", "BBB");
	assert_int_equal(atr_node_rename(f->c, bkt, "a", bkt, "b", ATR_RENAME_NOREPLACE),
			 ATR_E_EXISTS);
	assert_int_equal(atr_node_rename(f->c, bkt, "a", bkt, "b", 0), ATR_OK);
	struct atr_attr at;
	assert_int_equal(atr_node_lookup(f->c, bkt, "b", &at), ATR_OK);
	assert_int_equal(at.ino, a_ino); /* the inode moved, its number with it */
	char *got = s3_get(f->c, "b");
	assert_string_equal(got, "AAA");
	free(got);
	assert_null(s3_get(f->c, "a"));
	/* A directory moves with everything in it. */
	struct atr_cred cr = me();
	struct atr_attr d;
	assert_int_equal(atr_node_mkdir(f->c, &cr, bkt, "d", 0755, &d), ATR_OK);
	make(f->c, d.ino, "in", "x");
	assert_int_equal(atr_node_rename(f->c, bkt, "d", bkt, "e", 0), ATR_OK);
	got = s3_get(f->c, "e/in");
	assert_string_equal(got, "x");
	free(got);
	/* Not into itself. */
	uint64_t e = lookup(f->c, bkt, "e");
	assert_int_equal(atr_node_rename(f->c, bkt, "e", e, "sub", 0), ATR_E_INVALID_ARG);
}

static void hard_links_share_the_inode(void **state)
{
	struct fixture *f = *state;
	uint64_t bkt = lookup(f->c, ATR_INO_ROOT, "bkt");
	uint64_t ino = make(f->c, bkt, "one", "shared");
	struct atr_attr a;
	assert_int_equal(atr_node_link(f->c, ino, bkt, "two", &a), ATR_OK);
	assert_int_equal(a.ino, ino);
	assert_int_equal(a.nlink, 2);
	char *got = s3_get(f->c, "two");
	assert_string_equal(got, "shared");
	free(got);
	/* New bytes through one name are the other's too. */
	struct atr_file *fh;
	assert_int_equal(atr_node_open(f->c, ino, ATR_OPEN_WRITE | ATR_OPEN_TRUNC, &fh), ATR_OK);
	assert_int_equal(atr_file_write(fh, "new", 3, 0), ATR_OK);
	assert_int_equal(atr_file_flush(fh), ATR_OK);
	atr_file_close(fh);
	got = s3_get(f->c, "one");
	assert_string_equal(got, "new");
	free(got);
	got = s3_get(f->c, "two");
	assert_string_equal(got, "new");
	free(got);
	assert_int_equal(atr_node_unlink(f->c, bkt, "one"), ATR_OK);
	assert_int_equal(atr_node_getattr(f->c, ino, &a), ATR_OK);
	assert_int_equal(a.nlink, 1);
	/* A directory has no second name. */
	struct atr_cred cr = me();
	struct atr_attr d;
	assert_int_equal(atr_node_mkdir(f->c, &cr, bkt, "dir", 0755, &d), ATR_OK);
	assert_int_equal(atr_node_link(f->c, d.ino, bkt, "dir2", &a), ATR_E_NOT_SUPPORTED);
}

static void tmpfile_is_an_object_once_linked(void **state)
{
	struct fixture *f = *state;
	uint64_t bkt = lookup(f->c, ATR_INO_ROOT, "bkt");
	struct atr_cred cr = me();
	struct atr_file *fh;
	struct atr_attr a;
	assert_int_equal(atr_node_tmpfile(f->c, &cr, bkt, 0600, &fh, &a), ATR_OK);
	assert_int_equal(a.nlink, 0);
	assert_int_equal(atr_file_write(fh, "anon", 4, 0), ATR_OK);
	/* No listing, lookup or S3 request reaches it. */
	struct atr_attr la;
	assert_int_equal(atr_node_lookup(f->c, bkt, "anon", &la), ATR_E_NO_KEY);
	assert_int_equal(atr_node_link(f->c, a.ino, bkt, "named", &la), ATR_OK);
	char *got = s3_get(f->c, "named");
	assert_string_equal(got, "anon");
	free(got);
	atr_file_close(fh);
	got = s3_get(f->c, "named");
	assert_string_equal(got, "anon");
	free(got);
}

struct names {
	char v[16][32];
	int n;
};

static int collect(void *arg, const char *name, const struct atr_attr *a, uint64_t pos)
{
	struct names *ns = arg;
	assert_true(pos != 0);
	snprintf(ns->v[ns->n++], 32, "%s", name);
	return 0;
}

static int collect_pos(void *arg, const char *name, const struct atr_attr *a, uint64_t pos)
{
	*(uint64_t *)arg = pos;
	return 0;
}

static void readdir_pages_resume_after_an_entry(void **state)
{
	struct fixture *f = *state;
	uint64_t bkt = lookup(f->c, ATR_INO_ROOT, "bkt");
	const char *names[] = { "a", "b", "c", "d", "e" };
	for (int i = 0; i < 5; i++)
		make(f->c, bkt, names[i], "x");
	struct names page = { 0 };
	int more = 0;
	assert_int_equal(atr_node_readdir_page(f->c, bkt, 0, 2, collect, &page, &more), ATR_OK);
	assert_int_equal(page.n, 2);
	assert_true(more);
	assert_string_equal(page.v[0], "a");
	assert_string_equal(page.v[1], "b");
	/* The page after "b", though "c" went meanwhile. */
	uint64_t after = 0;
	assert_int_equal(atr_node_readdir_page(f->c, bkt, 0, 2, collect_pos, &after, &more),
			 ATR_OK); /* after: b's pos */
	assert_int_equal(atr_node_unlink(f->c, bkt, "c"), ATR_OK);
	struct names rest = { 0 };
	assert_int_equal(atr_node_readdir_page(f->c, bkt, after, 10, collect, &rest, &more),
			 ATR_OK);
	assert_false(more);
	assert_int_equal(rest.n, 2);
	assert_string_equal(rest.v[0], "d");
	assert_string_equal(rest.v[1], "e");
	/* The root lists the buckets. */
	struct names roots = { 0 };
	assert_int_equal(atr_node_readdir_page(f->c, ATR_INO_ROOT, 0, 10, collect, &roots, &more),
			 ATR_OK);
	assert_int_equal(roots.n, 1);
	assert_string_equal(roots.v[0], "bkt");
}

static void truncate_by_path_is_durable(void **state)
{
	struct fixture *f = *state;
	uint64_t bkt = lookup(f->c, ATR_INO_ROOT, "bkt");
	uint64_t ino = make(f->c, bkt, "t", "0123456789");
	/* A reader holds it open; the size change still commits now. */
	struct atr_file *rd;
	assert_int_equal(atr_node_open(f->c, ino, 0, &rd), ATR_OK);
	struct atr_setattr s = { .valid = ATR_SET_SIZE, .size = 4 };
	struct atr_attr a;
	assert_int_equal(atr_node_setattr(f->c, ino, NULL, &s, &a), ATR_OK);
	assert_int_equal(a.size, 4);
	char *got = s3_get(f->c, "t");
	assert_string_equal(got, "0123");
	free(got);
	atr_file_close(rd);
	/* Explicit times win over the commit's. */
	struct atr_setattr tm = { .valid = ATR_SET_MTIME, .mtime_ns = 1000000000LL * 86400 };
	assert_int_equal(atr_node_setattr(f->c, ino, NULL, &tm, &a), ATR_OK);
	assert_int_equal(atr_node_getattr(f->c, ino, &a), ATR_OK);
	assert_int_equal(a.mtime_ns, 1000000000LL * 86400);
	struct atr_setattr md = { .valid = ATR_SET_MODE, .mode = 0604 };
	assert_int_equal(atr_node_setattr(f->c, ino, NULL, &md, &a), ATR_OK);
	assert_int_equal(a.mode & 07777, 0604);
}

static void headers_and_xattrs(void **state)
{
	struct fixture *f = *state;
	uint64_t bkt = lookup(f->c, ATR_INO_ROOT, "bkt");
	uint64_t ino = make(f->c, bkt, "x", "abc");
	void *v = NULL;
	size_t len = 0;
	char etag[ATR_ETAG_MAX + 1];
	assert_int_equal(atr_node_etag(f->c, ino, etag), ATR_OK);
	assert_string_equal(etag, "900150983cd24fb0d6963f7d28e17f72"); /* md5("abc") */
	assert_int_equal(atr_node_header_get(f->c, ino, "x-amz-meta-color", &v, &len),
			 ATR_E_NO_KEY);
	assert_int_equal(atr_node_header_set(f->c, ino, "x-amz-meta-color", "blue", 4,
					     ATR_XATTR_CREATE), ATR_OK);
	assert_int_equal(atr_node_header_set(f->c, ino, "x-amz-meta-color", "red", 3,
					     ATR_XATTR_CREATE), ATR_E_EXISTS);
	assert_int_equal(atr_node_header_get(f->c, ino, "X-Amz-Meta-Color", &v, &len), ATR_OK);
	assert_int_equal(len, 4);
	assert_memory_equal(v, "blue", 4);
	free(v);
	/* S3 serves the header at once. */
	struct atr_obj o;
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "x", &o), ATR_OK);
	assert_non_null(strstr(o.hdrs, "x-amz-meta-color: blue\r\n"));
	atr_obj_release(&o);
	assert_int_equal(atr_node_header_remove(f->c, ino, "x-amz-meta-color"), ATR_OK);
	assert_int_equal(atr_node_header_remove(f->c, ino, "x-amz-meta-color"), ATR_E_NO_KEY);
	/* The table keeps any other name, as given. */
	assert_int_equal(atr_node_xattr_set(f->c, ino, "user.a", "1", 1, ATR_XATTR_REPLACE),
			 ATR_E_NO_KEY);
	assert_int_equal(atr_node_xattr_set(f->c, ino, "user.a", "1", 1, 0), ATR_OK);
	assert_int_equal(atr_node_xattr_set(f->c, ino, "user.b", NULL, 0, 0), ATR_OK);
	char *names = NULL;
	assert_int_equal(atr_node_xattr_list(f->c, ino, &names, &len), ATR_OK);
	assert_int_equal(len, sizeof("user.a") + sizeof("user.b"));
	assert_string_equal(names, "user.a");
	assert_string_equal(names + sizeof("user.a"), "user.b");
	free(names);
	assert_int_equal(atr_node_xattr_get(f->c, ino, "user.b", &v, &len), ATR_OK);
	assert_int_equal(len, 0);
	free(v);
	assert_int_equal(atr_node_xattr_remove(f->c, ino, "user.a"), ATR_OK);
	assert_int_equal(atr_node_xattr_get(f->c, ino, "user.a", &v, &len), ATR_E_NO_KEY);
	/* A directory has neither content nor ETag. */
	int kind;
	char *hdrs = NULL;
	assert_int_equal(atr_node_headers(f->c, bkt, &hdrs, &kind), ATR_OK);
	assert_int_equal(kind, ATR_NODE_DIR);
	free(hdrs);
	assert_int_equal(atr_node_etag(f->c, bkt, etag), ATR_E_NO_KEY);
}

static void buckets_as_root_directories(void **state)
{
	struct fixture *f = *state;
	struct atr_cred cr = me();
	struct atr_attr a;
	assert_int_equal(atr_node_mkdir(f->c, &cr, ATR_INO_ROOT, "newb", 0750, &a), ATR_OK);
	assert_int_equal(a.mode & 07777, 0750);
	struct atr_bucket b;
	assert_int_equal(atr_bucket_stat(f->c, &root, "newb", &b), ATR_OK);
	assert_int_equal(atr_node_mkdir(f->c, &cr, ATR_INO_ROOT, "newb", 0750, &a), ATR_E_EXISTS);
	assert_int_equal(atr_node_mkdir(f->c, &cr, ATR_INO_ROOT, "Bad_Name", 0750, &a),
			 ATR_E_INVALID_BUCKET);
	make(f->c, a.ino, "f", "x");
	assert_int_equal(atr_node_rmdir(f->c, ATR_INO_ROOT, "newb"), ATR_E_NOT_EMPTY);
	assert_int_equal(atr_node_unlink(f->c, a.ino, "f"), ATR_OK);
	assert_int_equal(atr_node_rmdir(f->c, ATR_INO_ROOT, "newb"), ATR_OK);
	assert_int_equal(atr_bucket_stat(f->c, &root, "newb", &b), ATR_E_NO_BUCKET);
	assert_int_equal(atr_node_rmdir(f->c, ATR_INO_ROOT, "newb"), ATR_E_NO_KEY);
	/* Only buckets live at the root. */
	struct atr_file *fh;
	assert_int_equal(atr_node_create(f->c, &cr, ATR_INO_ROOT, "file", 0600, &fh, &a),
			 ATR_E_ACCESS);
}

static void symlinks_and_special_files(void **state)
{
	struct fixture *f = *state;
	uint64_t bkt = lookup(f->c, ATR_INO_ROOT, "bkt");
	struct atr_cred cr = me();
	struct atr_attr a;
	char buf[64];
	assert_int_equal(atr_node_symlink(f->c, &cr, bkt, "ln", "target/path", &a), ATR_OK);
	assert_true(S_ISLNK(a.mode));
	assert_int_equal(atr_node_readlink(f->c, a.ino, buf, sizeof(buf)), ATR_OK);
	assert_string_equal(buf, "target/path");
	assert_int_equal(atr_node_mknod(f->c, &cr, bkt, "fifo", S_IFIFO | 0600, 0, &a), ATR_OK);
	assert_true(S_ISFIFO(a.mode));
	assert_int_equal(atr_node_readlink(f->c, a.ino, buf, sizeof(buf)), ATR_E_INVALID_ARG);
	assert_int_equal(atr_node_mknod(f->c, &cr, bkt, "dir", S_IFDIR | 0700, 0, &a),
			 ATR_E_INVALID_ARG);
}

static void changed_nop(void *arg, uint64_t parent, const char *name, uint64_t ino) {}
static void settle_nop(void *arg) {}
static const struct atr_watch_ops watch_nop = { changed_nop, settle_nop };

static int s3_put(struct atr_core *c, const char *key, const char *data)
{
	return fixture_put(c, &root, "bkt", key, data, strlen(data), NULL);
}

/* An inode an S3 write replaces stays openable, its old bytes whole,
 * while the kernel knows it (its lookup count), and only then. */
static void replaced_inodes_live_while_the_kernel_knows_them(void **state)
{
	struct fixture *f = *state;
	atr_core_watch(f->c, &watch_nop, NULL); /* ghosts are for a mounted namespace */
	uint64_t bkt = lookup(f->c, ATR_INO_ROOT, "bkt");
	uint64_t known = make(f->c, bkt, "known", "old bytes");
	uint64_t unknown = make(f->c, bkt, "unknown", "old");
	atr_node_remember(f->c, known);
	assert_int_equal(s3_put(f->c, "known", "new bytes!"), ATR_OK);
	assert_int_equal(s3_put(f->c, "unknown", "new"), ATR_OK);
	struct atr_file *fh;
	char buf[32];
	assert_int_equal(atr_node_open(f->c, known, 0, &fh), ATR_OK);
	read_all(fh, buf, sizeof(buf));
	assert_string_equal(buf, "old bytes");
	struct atr_attr a;
	assert_int_equal(atr_node_getattr(f->c, known, &a), ATR_OK);
	assert_int_equal(a.size, 9);
	assert_int_equal(atr_node_open(f->c, unknown, 0, &fh), ATR_E_NO_KEY);
	/* Forgotten while open: its readers keep it; gone with the last. */
	atr_node_forget(f->c, known, 1);
	read_all(fh, buf, sizeof(buf));
	assert_string_equal(buf, "old bytes");
	atr_file_close(fh);
	struct atr_file *again;
	assert_int_equal(atr_node_open(f->c, known, 0, &again), ATR_E_NO_KEY);
	assert_int_equal(atr_node_getattr(f->c, known, &a), ATR_E_NO_KEY);
	/* Known twice, forgotten once: still there. */
	uint64_t twice = make(f->c, bkt, "twice", "v1");
	atr_node_remember(f->c, twice);
	atr_node_remember(f->c, twice);
	assert_int_equal(s3_put(f->c, "twice", "v2"), ATR_OK);
	atr_node_forget(f->c, twice, 1);
	assert_int_equal(atr_node_getattr(f->c, twice, &a), ATR_OK);
	atr_node_forget(f->c, twice, 1);
	assert_int_equal(atr_node_getattr(f->c, twice, &a), ATR_E_NO_KEY);
	atr_core_watch(f->c, NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(create_write_close_is_an_object, setup, teardown),
		cmocka_unit_test_setup_teardown(unlinked_open_file_keeps_its_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(rename_replaces_and_noreplace_refuses, setup,
						teardown),
		cmocka_unit_test_setup_teardown(hard_links_share_the_inode, setup, teardown),
		cmocka_unit_test_setup_teardown(tmpfile_is_an_object_once_linked, setup, teardown),
		cmocka_unit_test_setup_teardown(readdir_pages_resume_after_an_entry, setup,
						teardown),
		cmocka_unit_test_setup_teardown(truncate_by_path_is_durable, setup, teardown),
		cmocka_unit_test_setup_teardown(headers_and_xattrs, setup, teardown),
		cmocka_unit_test_setup_teardown(buckets_as_root_directories, setup, teardown),
		cmocka_unit_test_setup_teardown(symlinks_and_special_files, setup, teardown),
		cmocka_unit_test_setup_teardown(replaced_inodes_live_while_the_kernel_knows_them,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
