/*
 * test_ns_commit — the commit protocol against a store that picks the
 * committed file's mtime itself (as a remote S3 bucket's Last-Modified,
 * known only after the PUT): the row records stage_commit's stat, not
 * stage_prepare's, so the metadata sync does not take the file for one
 * changed behind Atrium's back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "tests/unit/core_fixture.h"
#include "src/meta_int.h"
#include "src/ns_int.h"
#include "src/ufs_int.h"

static const struct atr_user root = { .name = "root", .superuser = 1 };

#define LATER_NS (5LL * 1000000000) /* how much later the store dates a commit */

/* The mandatory core of a local driver, passed through; stage_commit
 * dates the file LATER_NS after the stage's own mtime. */
struct later {
	struct ufs base;
	struct ufs *in; /* owned */
};

static struct ufs *IN(struct ufs *u) { return ((struct later *)u)->in; }

static int l_stat(struct ufs *u, const char *p, struct ufs_stat *st)
{
	return ufs_stat(IN(u), p, st);
}
static int l_open(struct ufs *u, const char *p, struct ufs_file **f, struct ufs_stat *st)
{
	return ufs_open(IN(u), p, f, st);
}
static ssize_t l_pread(struct ufs *u, struct ufs_file *f, void *b, size_t n, uint64_t off)
{
	return ufs_pread(IN(u), f, b, n, off);
}
static void l_close(struct ufs *u, struct ufs_file *f) { ufs_close(IN(u), f); }
static int l_readdir(struct ufs *u, const char *p, ufs_dirent_cb cb, void *arg)
{
	return ufs_readdir(IN(u), p, cb, arg);
}
static int l_mkdir(struct ufs *u, const char *p) { return ufs_mkdir(IN(u), p); }
static int l_rmdir(struct ufs *u, const char *p) { return ufs_rmdir(IN(u), p); }
static int l_unlink(struct ufs *u, const char *p) { return ufs_unlink(IN(u), p); }
static int l_stage_open(struct ufs *u, struct ufs_stage **s) { return ufs_stage_open(IN(u), s); }
static int l_stage_write(struct ufs *u, struct ufs_stage *s, const void *b, size_t n)
{
	return ufs_stage_write(IN(u), s, b, n);
}
static int l_stage_prepare(struct ufs *u, struct ufs_stage *s, char *name, size_t size,
			   struct ufs_stat *st)
{
	return ufs_stage_prepare(IN(u), s, name, size, st);
}
static int l_stage_commit(struct ufs *u, struct ufs_stage *s, const char *path,
			  struct ufs_stat *st)
{
	struct ufs_stat now;
	int rc = ufs_stage_commit(IN(u), s, path, &now);
	if (!rc)
		rc = ufs_utimens(IN(u), path, now.mtime_ns, now.mtime_ns + LATER_NS, st);
	return rc;
}
static void l_stage_abort(struct ufs *u, struct ufs_stage *s) { ufs_stage_abort(IN(u), s); }
static void l_stage_keep(struct ufs *u, struct ufs_stage *s) { ufs_stage_keep(IN(u), s); }
static int l_stage_recover(struct ufs *u, const char *name, const char *path)
{
	return ufs_stage_recover(IN(u), name, path);
}
static void l_stage_gc(struct ufs *u) { ufs_stage_gc(IN(u)); }
static void l_free(struct ufs *u)
{
	ufs_free(IN(u));
	free(u);
}

static const struct ufs_ops later_ops = {
	.version = UFS_VERSION, .name = "later",
	.stat = l_stat, .open = l_open, .pread = l_pread, .close = l_close,
	.readdir = l_readdir, .mkdir = l_mkdir, .rmdir = l_rmdir, .unlink = l_unlink,
	.stage_open = l_stage_open, .stage_write = l_stage_write,
	.stage_prepare = l_stage_prepare, .stage_commit = l_stage_commit,
	.stage_abort = l_stage_abort, .stage_keep = l_stage_keep,
	.stage_recover = l_stage_recover, .stage_gc = l_stage_gc, .free = l_free,
};

static struct ufs *wrap_later(void *arg, struct ufs *inner)
{
	struct later *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->base.ops = &later_ops;
	l->base.caps = 0;
	l->in = inner;
	return &l->base;
}

static void commit_records_the_stores_mtime(void **state)
{
	struct fixture f = { .block_size = 4096 };
	char path[128];
	struct stat sb;
	snprintf(f.dir, sizeof(f.dir), "/tmp/atrium-commit-XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	log_set_level(LOG_WARN);
	fixture_open_wrapped(&f, wrap_later, NULL);
	assert_int_equal(atr_bucket_create(f.c, &root, "bkt", "", NULL, -1), ATR_OK);
	assert_int_equal(fixture_put(f.c, &root, "bkt", "k", "hello", 5, NULL), ATR_OK);

	/* the row says what the file says */
	struct meta_row row = { 0 };
	assert_int_equal(meta_obj_get(f.c->meta, "bkt", "k", &row, 0), ATR_OK);
	snprintf(path, sizeof(path), "%s/ufs/bkt/k", f.dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(row.obj.mtime_ns ==
		    (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec);
	uint64_t version = row.obj.version;
	char etag[ATR_ETAG_MAX + 1];
	snprintf(etag, sizeof(etag), "%s", row.obj.etag);
	atr_obj_release(&row.obj);

	/* and a sync leaves it alone: no re-import, same version and ETag */
	struct meta_row now = { 0 };
	assert_int_equal(ns_sync_object(f.c, "bkt", "k", &now), ATR_OK);
	assert_true(now.obj.version == version);
	assert_string_equal(now.obj.etag, etag);
	atr_obj_release(&now.obj);

	/* an overwrite too */
	assert_int_equal(fixture_put(f.c, &root, "bkt", "k", "world!", 6, NULL), ATR_OK);
	assert_int_equal(meta_obj_get(f.c->meta, "bkt", "k", &row, 0), ATR_OK);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(row.obj.mtime_ns ==
		    (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec);
	version = row.obj.version;
	atr_obj_release(&row.obj);
	assert_int_equal(ns_sync_object(f.c, "bkt", "k", &now), ATR_OK);
	assert_true(now.obj.version == version && now.obj.size == 6);
	atr_obj_release(&now.obj);

	struct fixture *fp = malloc(sizeof(*fp));
	assert_non_null(fp);
	*fp = f;
	void *st = fp;
	fixture_teardown(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(commit_records_the_stores_mtime),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
