/* The core's copy (src/copy.c) and conditional writes (atr_put_condition,
 * checked again inside object_commit), over a temp data dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <cmocka.h>

#include "common/log.h"
#include "src/core_int.h"
#include "tests/unit/core_fixture.h"

static const struct atr_user root = { .name = "root", .superuser = 1 };
static const struct atr_user bob = { .name = "bob", .superuser = 0 };


static int setup(void **state)
{
	/* Small blocks so a copy through the cache spans several. */
	struct fixture *f = fixture_new(4096, &root);
	assert_int_equal(atr_bucket_create(f->c, &root, "dst", "", NULL, -1), ATR_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	return fixture_teardown(state);
}

static int put_n(struct atr_core *c, const char *bucket, const char *key, const char *data,
		 size_t n)
{
	return fixture_put(c, &root, bucket, key, data, n, "Content-Type: text/plain\r\n");
}

static int put(struct atr_core *c, const char *key, const char *data)
{
	return put_n(c, "bkt", key, data, strlen(data));
}

static char *get(struct atr_core *c, const char *bucket, const char *key, struct atr_obj *o)
{
	return fixture_get(c, &root, bucket, key, o);
}

static int copy(struct atr_core *c, const struct atr_user *u, const char *skey,
		const char *etag_override, const char *bucket, const char *key,
		struct atr_obj *out)
{
	struct atr_obj src;
	struct atr_reader *r;
	int rc = atr_get_open(c, u, "bkt", skey, &src, &r);
	if (rc)
		return rc;
	rc = atr_object_copy(c, u, r, etag_override ? etag_override : src.etag, bucket, key,
			     src.hdrs, NULL, out);
	atr_get_close(r);
	atr_obj_release(&src);
	return rc;
}

static int stage_files(struct fixture *f)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/ufs/.atrium/tmp", f->dir);
	DIR *d = opendir(path);
	int n = 0;
	struct dirent *de;
	assert_non_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void copy_file_to_file(void **state)
{
	struct fixture *f = *state;
	enum { N = 3 * 4096 + 123 };
	char *data = malloc(N);
	for (int i = 0; i < N; i++)
		data[i] = (char)(i * 7);
	assert_int_equal(put_n(f->c, "bkt", "src/a", data, N), ATR_OK);
	struct atr_obj out, src, got;
	assert_int_equal(copy(f->c, &root, "src/a", NULL, "dst", "x/y", &out), ATR_OK);
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "src/a", &src), ATR_OK);
	assert_string_equal(out.etag, src.etag);
	assert_int_equal(out.size, N);
	assert_null(out.hdrs);
	char *back = get(f->c, "dst", "x/y", &got);
	assert_memory_equal(back, data, N);
	assert_string_equal(got.hdrs, "Content-Type: text/plain\r\n");
	/* another file on disk */
	char p1[128], p2[128];
	struct stat s1, s2;
	snprintf(p1, sizeof(p1), "%s/ufs/bkt/src/a", f->dir);
	snprintf(p2, sizeof(p2), "%s/ufs/dst/x/y", f->dir);
	assert_int_equal(stat(p1, &s1), 0);
	assert_int_equal(stat(p2, &s2), 0);
	assert_true(s1.st_ino != s2.st_ino);
	assert_int_equal(s2.st_size, N);
	assert_int_equal(stage_files(f), 0);
	free(back);
	free(data);
	atr_obj_release(&src);
	atr_obj_release(&got);
}

static void copy_through_cache_hashes(void **state)
{
	struct fixture *f = *state;
	/* A source whose ETag is not an MD5 (a multipart upload's) is hashed
	 * while copied through the cache, block by block. */
	enum { N = 2 * 4096 + 77 };
	char *data = malloc(N), hex[33];
	unsigned char sum[MD5_LEN];
	for (int i = 0; i < N; i++)
		data[i] = (char)(i * 13 + 1);
	assert_int_equal(put_n(f->c, "bkt", "m", data, N), ATR_OK);
	struct atr_obj out, got;
	assert_int_equal(copy(f->c, &root, "m", "0123456789abcdef0123456789abcdef-2", "dst", "m2",
			      &out), ATR_OK);
	md5(data, N, sum);
	hex_encode(sum, MD5_LEN, hex);
	assert_string_equal(out.etag, hex);
	char *back = get(f->c, "dst", "m2", &got);
	assert_memory_equal(back, data, N);
	assert_string_equal(got.etag, hex);
	free(back);
	free(data);
	atr_obj_release(&got);
}

static void copy_onto_itself_and_dirs(void **state)
{
	struct fixture *f = *state;
	struct atr_obj out, got;
	assert_int_equal(put(f->c, "self", "same bytes"), ATR_OK);
	assert_int_equal(copy(f->c, &root, "self", NULL, "bkt", "self", &out), ATR_OK);
	char *back = get(f->c, "bkt", "self", &got);
	assert_string_equal(back, "same bytes");
	free(back);
	atr_obj_release(&got);
	/* a directory key takes a source with bytes too: the side form */
	assert_int_equal(copy(f->c, &root, "self", NULL, "dst", "b/", &out), ATR_OK);
	assert_false(out.is_dir);
	assert_int_equal(out.size, 10);
	back = get(f->c, "dst", "b/", &got);
	assert_string_equal(back, "same bytes");
	free(back);
	atr_obj_release(&got);
	assert_int_equal(put(f->c, "empty", ""), ATR_OK);
	assert_int_equal(copy(f->c, &root, "empty", NULL, "dst", "d/", &out), ATR_OK);
	assert_true(out.is_dir);
	/* and a marker copies to an empty object */
	assert_int_equal(put(f->c, "mark/", ""), ATR_OK);
	assert_int_equal(copy(f->c, &root, "mark/", NULL, "dst", "was-marker", &out), ATR_OK);
	assert_false(out.is_dir);
	assert_int_equal(out.size, 0);
	assert_string_equal(out.etag, "d41d8cd98f00b204e9800998ecf8427e");
	/* below an object: the side form keeps both */
	assert_int_equal(copy(f->c, &root, "self", NULL, "bkt", "self/below", &out), ATR_OK);
	back = get(f->c, "bkt", "self", &got);
	assert_string_equal(back, "same bytes");
	free(back);
	atr_obj_release(&got);
	assert_int_equal(stage_files(f), 0);
}

static void copy_permissions(void **state)
{
	struct fixture *f = *state;
	struct atr_obj out;
	struct atr_acl acl;
	assert_int_equal(put(f->c, "p", "root's"), ATR_OK);
	assert_int_equal(atr_bucket_create(f->c, &bob, "bobs", "", NULL, -1), ATR_OK);
	/* private by default: bob may not read root's object to copy it */
	assert_int_equal(copy(f->c, &bob, "p", NULL, "bobs", "q", &out), ATR_E_ACCESS);
	/* once root lets every signed-in user read the bucket and the
	 * object, bob may, but still not write root's bucket */
	assert_int_equal(atr_acl_canned("authenticated-read", &acl), ATR_OK);
	assert_int_equal(atr_acl_set(f->c, &root, "bkt", NULL, &acl), ATR_OK);
	assert_int_equal(atr_acl_set(f->c, &root, "bkt", "p", &acl), ATR_OK);
	assert_int_equal(copy(f->c, &bob, "p", NULL, "dst", "q", &out), ATR_E_ACCESS);
	assert_int_equal(copy(f->c, &bob, "p", NULL, "bobs", "q", &out), ATR_OK);
	assert_string_equal(out.owner, "bob");
	assert_int_equal(out.mode, 0600); /* a new object is private */
	assert_int_equal(copy(f->c, &root, "missing", NULL, "dst", "q", &out), ATR_E_NO_KEY);
}

static void conditional_put(void **state)
{
	struct fixture *f = *state;
	struct atr_writer *w;
	struct atr_obj o;

	/* must not exist: refused at once when it does */
	assert_int_equal(put(f->c, "c", "one"), ATR_OK);
	assert_int_equal(atr_put_begin(f->c, &root, "bkt", "c", 3, &w), ATR_OK);
	assert_int_equal(atr_put_condition(w, &root, 1, NULL), ATR_E_PRECONDITION);
	atr_put_abort(w);

	/* held at the start, broken before the commit: a conflict, and the
	 * object another writer made stays */
	assert_int_equal(atr_put_begin(f->c, &root, "bkt", "new", 3, &w), ATR_OK);
	assert_int_equal(atr_put_condition(w, &root, 1, NULL), ATR_OK);
	assert_int_equal(atr_put_write(w, "mine", 4), ATR_OK);
	assert_int_equal(put(f->c, "new", "theirs"), ATR_OK);
	assert_int_equal(atr_put_commit(w, NULL, NULL), ATR_E_CONFLICT);
	char *back = get(f->c, "bkt", "new", &o);
	assert_string_equal(back, "theirs");
	free(back);
	atr_obj_release(&o);
	assert_int_equal(stage_files(f), 0);

	/* If-Match */
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "c", &o), ATR_OK);
	char etag[ATR_ETAG_MAX + 1];
	snprintf(etag, sizeof(etag), "%s", o.etag);
	atr_obj_release(&o);
	assert_int_equal(atr_put_begin(f->c, &root, "bkt", "c", 3, &w), ATR_OK);
	assert_int_equal(atr_put_condition(w, &root, 0, "00000000000000000000000000000000"),
			 ATR_E_PRECONDITION);
	atr_put_abort(w);
	assert_int_equal(atr_put_begin(f->c, &root, "bkt", "nope", 3, &w), ATR_OK);
	assert_int_equal(atr_put_condition(w, &root, 0, etag), ATR_E_NO_KEY);
	atr_put_abort(w);
	/* matching (case-insensitively), then committed: fine */
	for (char *p = etag; *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'f' ? *p - 32 : *p);
	assert_int_equal(atr_put_begin(f->c, &root, "bkt", "c", 3, &w), ATR_OK);
	assert_int_equal(atr_put_condition(w, &root, 0, etag), ATR_OK);
	assert_int_equal(atr_put_write(w, "two", 3), ATR_OK);
	assert_int_equal(atr_put_commit(w, NULL, NULL), ATR_OK);
	/* matching at the start, replaced before the commit */
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "c", &o), ATR_OK);
	snprintf(etag, sizeof(etag), "%s", o.etag);
	atr_obj_release(&o);
	assert_int_equal(atr_put_begin(f->c, &root, "bkt", "c", 3, &w), ATR_OK);
	assert_int_equal(atr_put_condition(w, &root, 0, etag), ATR_OK);
	assert_int_equal(put(f->c, "c", "three"), ATR_OK);
	assert_int_equal(atr_put_write(w, "four", 4), ATR_OK);
	assert_int_equal(atr_put_commit(w, NULL, NULL), ATR_E_CONFLICT);
	/* ...or deleted before the commit */
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "c", &o), ATR_OK);
	snprintf(etag, sizeof(etag), "%s", o.etag);
	atr_obj_release(&o);
	assert_int_equal(atr_put_begin(f->c, &root, "bkt", "c", 3, &w), ATR_OK);
	assert_int_equal(atr_put_condition(w, &root, 0, etag), ATR_OK);
	assert_int_equal(atr_object_delete(f->c, &root, "bkt", "c"), ATR_OK);
	assert_int_equal(atr_put_commit(w, NULL, NULL), ATR_E_CONFLICT);
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "c", &o), ATR_E_NO_KEY);
	assert_int_equal(stage_files(f), 0);

	/* an implied directory is no object; a marker is */
	assert_int_equal(put(f->c, "d/x", "x"), ATR_OK);
	assert_int_equal(atr_put_begin(f->c, &root, "bkt", "d/", 0, &w), ATR_OK);
	assert_int_equal(atr_put_condition(w, &root, 1, NULL), ATR_OK);
	assert_int_equal(atr_put_commit(w, NULL, NULL), ATR_OK);
	assert_int_equal(atr_put_begin(f->c, &root, "bkt", "d/", 0, &w), ATR_OK);
	assert_int_equal(atr_put_condition(w, &root, 1, NULL), ATR_E_PRECONDITION);
	atr_put_abort(w);
}

static int copy_if(struct atr_core *c, const char *skey, const char *key, int must_not_exist,
		   const char *if_etag)
{
	struct atr_obj src, out;
	struct atr_reader *r;
	int rc = atr_get_open(c, &root, "bkt", skey, &src, &r);
	if (rc)
		return rc;
	struct atr_copy_opts o = { .hdrs = src.hdrs, .must_not_exist = must_not_exist,
				   .if_etag = if_etag };
	rc = atr_object_copy_with(c, &root, r, src.etag, "dst", key, &o, &out);
	atr_get_close(r);
	atr_obj_release(&src);
	return rc;
}

/* A driver whose stage_copy first lets another writer replace the
 * destination: the copy's condition held when checked, not at commit. */
static struct atr_core *race_core;
static const struct ufs_ops *real_ops;
static int race_n;
static int racing_stage_copy(struct ufs *u, struct ufs_stage *st, struct ufs_file *src,
			     uint64_t off, uint64_t len)
{
	char theirs[16];
	int n = snprintf(theirs, sizeof(theirs), "theirs%d", race_n++); /* new bytes each time */
	assert_int_equal(put_n(race_core, "dst", "race", theirs, (size_t)n), ATR_OK);
	return real_ops->stage_copy(u, st, src, off, len);
}

static void conditional_copy(void **state)
{
	struct fixture *f = *state;
	struct atr_obj o;
	char etag[ATR_ETAG_MAX + 1];

	assert_int_equal(put(f->c, "s", "source"), ATR_OK);
	/* If-None-Match: * */
	assert_int_equal(copy_if(f->c, "s", "t", 1, NULL), ATR_OK);
	assert_int_equal(copy_if(f->c, "s", "t", 1, NULL), ATR_E_PRECONDITION);
	/* If-Match */
	assert_int_equal(copy_if(f->c, "s", "none", 0, "*"), ATR_E_NO_KEY);
	assert_int_equal(copy_if(f->c, "s", "t", 0, "00000000000000000000000000000000"),
			 ATR_E_PRECONDITION);
	assert_int_equal(put_n(f->c, "dst", "t", "other", 5), ATR_OK);
	assert_int_equal(atr_object_stat(f->c, &root, "dst", "t", &o), ATR_OK);
	snprintf(etag, sizeof(etag), "%s", o.etag);
	atr_obj_release(&o);
	assert_int_equal(copy_if(f->c, "s", "t", 0, etag), ATR_OK);
	char *back = get(f->c, "dst", "t", &o);
	assert_string_equal(back, "source");
	free(back);
	atr_obj_release(&o);
	assert_int_equal(stage_files(f), 0);

	/* held when checked, broken before the commit: a conflict, theirs stays */
	struct ufs_ops racing = *f->c->ufs->ops;
	racing.stage_copy = racing_stage_copy;
	real_ops = f->c->ufs->ops;
	race_core = f->c;
	f->c->ufs->ops = &racing;
	int rc = copy_if(f->c, "s", "race", 1, NULL);
	f->c->ufs->ops = real_ops;
	assert_int_equal(rc, ATR_E_CONFLICT);
	back = get(f->c, "dst", "race", &o);
	assert_string_equal(back, "theirs0");
	free(back);
	atr_obj_release(&o);
	assert_int_equal(stage_files(f), 0);
	/* ...and If-Match on what was replaced meanwhile */
	assert_int_equal(atr_object_stat(f->c, &root, "dst", "race", &o), ATR_OK);
	snprintf(etag, sizeof(etag), "%s", o.etag);
	atr_obj_release(&o);
	f->c->ufs->ops = &racing;
	rc = copy_if(f->c, "s", "race", 0, etag);
	f->c->ufs->ops = real_ops;
	assert_int_equal(rc, ATR_E_CONFLICT);
	assert_int_equal(stage_files(f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(copy_file_to_file, setup, teardown),
		cmocka_unit_test_setup_teardown(copy_through_cache_hashes, setup, teardown),
		cmocka_unit_test_setup_teardown(copy_onto_itself_and_dirs, setup, teardown),
		cmocka_unit_test_setup_teardown(copy_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(conditional_put, setup, teardown),
		cmocka_unit_test_setup_teardown(conditional_copy, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
