/*
 * Unit tests for the request writer (s3/s3_write.c) over a temporary core,
 * with sources held in memory: the order of its steps (open, prepare, the
 * bytes, the checksum, the source's finish, Content-MD5, commit), the size
 * bounds, the checksum computed or taken from the source, and that any
 * failure aborts the target — no object, no part, no stage file left, and
 * the object that was there untouched. Both targets (objects and parts)
 * and the reader source (UploadPartCopy's) are covered.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "common/hash.h"
#include "s3/s3_int.h"
#include "tests/unit/s3_fixture.h"

#define HELLO_CRC32 "NhCmhg=="

/* A source over memory, per bytes at a time; it can fail at a point, and
 * its finish can fail too. It records what the writer asked of it. */
struct mem_src {
	const char *data;
	size_t len, pos, per;
	size_t fail_at;            /* with fail set: -1 once pos reaches this */
	enum s3_err fail, finish_err;
	int nexts, finished;
	const unsigned char *own_sum; /* as an own-checksum source: its value */
};

static long mem_next(void *arg, const void **data, enum s3_err *err)
{
	struct mem_src *s = arg;
	size_t n = s->len - s->pos;
	s->nexts++;
	assert_int_equal(s->finished, 0);
	if (s->fail && s->pos >= s->fail_at) {
		*err = s->fail;
		return -1;
	}
	if (s->per && n > s->per)
		n = s->per;
	*data = s->data + s->pos;
	s->pos += n;
	return (long)n;
}

static enum s3_err mem_finish(struct s3_write *wr, void *arg)
{
	struct mem_src *s = arg;
	s->finished++;
	assert_int_equal(s->pos, s->len); /* after the last byte */
	if (s->own_sum && !s->finish_err)
		memcpy(wr->ck_sum, s->own_sum, checksum_len(wr->ck_alg));
	return s->finish_err;
}

/* One write's request: bucket "bkt" (or another), the key, ?uploadId. */
struct env {
	struct s3_fixture *x;
	struct s3_req r;
	struct buf hdrs;
	int prepared;
	enum s3_err prepare_err;
};

static struct env *env_new(void)
{
	struct env *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	e->x = s3_fixture_new(NULL, 1 << 20);
	return e;
}

static void env_free(struct env *e)
{
	uri_query_release(&e->r.q);
	buf_release(&e->hdrs);
	s3_fixture_free(e->x);
	free(e);
}

static int setup(void **state)
{
	*state = env_new();
	return 0;
}

static int teardown(void **state)
{
	env_free(*state);
	return 0;
}

static enum s3_err test_prepare(struct s3_write *wr, void *arg)
{
	struct env *e = arg;
	assert_non_null(wr->w); /* the target is open */
	e->prepared++;
	return e->prepare_err;
}

/* A writer of bucket/key with the test's prepare; query for parts. */
static void writer(struct env *e, struct s3_write *wr, const struct s3_target *t,
		   const char *bucket, const char *key, const char *query)
{
	uri_query_release(&e->r.q); /* the previous writer's */
	memset(&e->r, 0, sizeof(e->r));
	e->r.srv = e->x->srv;
	e->r.conn = &e->x->conn;
	e->r.method = "PUT";
	e->r.bucket = bucket;
	e->r.key = key;
	e->r.key_len = strlen(key);
	e->r.user = s3_fixture_owner;
	e->r.object_size = -1;
	assert_int_equal(uri_query_parse(&e->r.q, query), 0);
	buf_release(&e->hdrs);
	buf_init(&e->hdrs, 8192);
	assert_int_equal(buf_addstr(&e->hdrs, "Content-Type: text/x-test\r\n"), 0);
	e->prepared = 0;
	e->prepare_err = S3_ERR_OK;
	s3_write_init(wr, &e->r, t);
	wr->hdrs = &e->hdrs;
	wr->prepare = test_prepare;
	wr->arg = e;
}

static enum s3_err run(struct s3_write *wr, struct mem_src *s)
{
	const struct s3_source src = { mem_next, mem_finish, s, s->own_sum != NULL };
	return s3_write_run(wr, &src);
}

/* Entries in DATA/ufs/.atrium/tmp: a failed write leaves none. */
static int stage_files(struct env *e)
{
	char path[256];
	int n = 0;
	snprintf(path, sizeof(path), "%s/ufs/.atrium/tmp", e->x->core->dir);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	for (struct dirent *de; (de = readdir(d));)
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

/* The stored bytes of bkt/key (NULL if there is no such object). */
static char *stored(struct env *e, const char *key)
{
	struct atr_obj obj = { 0 };
	struct atr_reader *rd;
	if (atr_get_open(e->x->core->c, &s3_fixture_owner, "bkt", key, &obj, &rd))
		return NULL;
	char *out = calloc(1, obj.size + 1);
	assert_non_null(out);
	for (uint64_t off = 0; off < obj.size;) {
		const void *data;
		size_t n;
		assert_int_equal(atr_get_read(rd, off, &data, &n), ATR_OK);
		memcpy(out + off, data, n);
		off += n;
	}
	atr_get_close(rd);
	atr_obj_release(&obj);
	return out;
}

static void assert_stored(struct env *e, const char *key, const char *want)
{
	char *got = stored(e, key);
	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_object_in_pieces(void **state)
{
	struct env *e = *state;
	struct s3_write wr;
	struct mem_src s = { .data = "hello world", .len = 11, .per = 3 };
	writer(e, &wr, &s3_object_target, "bkt", "a/k", NULL);
	wr.tags = "t=1";
	assert_int_equal(run(&wr, &s), S3_ERR_OK);
	assert_int_equal(s.nexts, 5); /* 4 pieces and the end */
	assert_int_equal(s.finished, 1);
	assert_int_equal(e->prepared, 1);
	assert_int_equal(wr.size, 11);
	assert_null(wr.w);
	assert_string_equal(wr.etag, "5eb63bbbe01eeed093cb22bb8f5acdc3");
	assert_string_equal(wr.ck_line, "");
	assert_stored(e, "a/k", "hello world");
	/* committed with its headers and tags */
	assert_int_equal(s3_call(e->x, "GET", "/bkt/a/k", NULL, NULL, 0), 200);
	char v[64];
	assert_string_equal(fake_header(&e->x->conn, "Content-Type", v, sizeof(v)), "text/x-test");
	assert_string_equal(fake_header(&e->x->conn, "x-amz-tagging-count", v, sizeof(v)), "1");
	assert_int_equal(stage_files(e), 0);
}

/* Each way a write fails: its error, which steps ran, and nothing left. */
static void test_failures(void **state)
{
	struct env *e = *state;
	unsigned char zero16[16] = { 0 }, zero4[4] = { 0 };
	static const struct {
		const char *name;
		const char *bucket;
		uint64_t min, max;
		enum s3_err prepare_err, fail, finish_err;
		size_t fail_at;
		int md5, crc_want;      /* a wrong Content-MD5; a wrong CRC32 value */
		enum s3_err want;
		int prepared, finished; /* steps that ran */
	} cases[] = {
		{ "no bucket", "nobkt", 0, 1 << 20, 0, 0, 0, 0, 0, 0, S3_ERR_NO_SUCH_BUCKET, 0, 0 },
		{ "prepare refuses", "bkt", 0, 1 << 20, S3_ERR_PRECONDITION_FAILED, 0, 0, 0, 0, 0,
		  S3_ERR_PRECONDITION_FAILED, 1, 0 },
		{ "too large", "bkt", 0, 10, 0, 0, 0, 0, 0, 0, S3_ERR_ENTITY_TOO_LARGE, 1, 0 },
		{ "too small", "bkt", 12, 1 << 20, 0, 0, 0, 0, 0, 0, S3_ERR_ENTITY_TOO_SMALL, 1, 0 },
		{ "source fails", "bkt", 0, 1 << 20, 0, S3_ERR_INCOMPLETE_BODY, 0, 6, 0, 0,
		  S3_ERR_INCOMPLETE_BODY, 1, 0 },
		{ "checksum", "bkt", 0, 1 << 20, 0, 0, 0, 0, 0, 1, S3_ERR_CHECKSUM_BAD, 1, 0 },
		{ "finish refuses", "bkt", 0, 1 << 20, 0, 0, S3_ERR_SHA256_MISMATCH, 0, 0, 0,
		  S3_ERR_SHA256_MISMATCH, 1, 1 },
		{ "Content-MD5", "bkt", 0, 1 << 20, 0, 0, 0, 0, 1, 0, S3_ERR_BAD_DIGEST, 1, 1 },
		/* the order: the checksum before the source's finish, which
		 * comes before Content-MD5 */
		{ "checksum and finish", "bkt", 0, 1 << 20, 0, 0, S3_ERR_SHA256_MISMATCH, 0, 1, 1,
		  S3_ERR_CHECKSUM_BAD, 1, 0 },
		{ "finish and Content-MD5", "bkt", 0, 1 << 20, 0, 0, S3_ERR_SHA256_MISMATCH, 0, 1, 0,
		  S3_ERR_SHA256_MISMATCH, 1, 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct s3_write wr;
		struct mem_src s = { .data = "hello world", .len = 11, .per = 4,
				     .fail = cases[i].fail, .fail_at = cases[i].fail_at,
				     .finish_err = cases[i].finish_err };
		writer(e, &wr, &s3_object_target, cases[i].bucket, "k", NULL);
		e->prepare_err = cases[i].prepare_err;
		wr.min_size = cases[i].min;
		wr.max_size = cases[i].max;
		if (cases[i].md5) {
			wr.have_md5 = 1;
			memcpy(wr.md5, zero16, 16);
		}
		if (cases[i].crc_want) {
			wr.ck_alg = CHECKSUM_CRC32;
			wr.ck_want = zero4;
		}
		/* What was there stays. */
		assert_int_equal(s3_call(e->x, "PUT", "/bkt/k", NULL, "before", 6), 200);
		enum s3_err err = run(&wr, &s);
		if (err != cases[i].want || e->prepared != cases[i].prepared ||
		    s.finished != cases[i].finished)
			fail_msg("%s: got %s, prepared %d, finished %d", cases[i].name, s3_err_code(err),
				 e->prepared, s.finished);
		if (!cases[i].prepared)
			assert_int_equal(s.nexts, 0); /* no byte asked for */
		assert_null(wr.w);
		assert_int_equal(wr.size, -1);
		assert_stored(e, "k", "before");
		assert_int_equal(stage_files(e), 0);
	}
	/* At the bounds exactly: taken. */
	struct s3_write wr;
	struct mem_src s = { .data = "hello world", .len = 11 };
	writer(e, &wr, &s3_object_target, "bkt", "k", NULL);
	wr.min_size = wr.max_size = 11;
	assert_int_equal(run(&wr, &s), S3_ERR_OK);
	assert_stored(e, "k", "hello world");
}

/* The checksum: computed by the writer (and checked against a value given
 * up front), or the source's own; kept in the stored headers either way. */
static void test_checksum(void **state)
{
	struct env *e = *state;
	const unsigned char hello_crc[4] = { 0x36, 0x10, 0xa6, 0x86 };
	const unsigned char other[4] = { 0x01, 0x02, 0x03, 0x04 };
	static const char *const mode[] = { "x-amz-checksum-mode", "ENABLED", NULL };
	char v[64];

	for (int i = 0; i < 3; i++) {
		struct s3_write wr;
		struct mem_src s = { .data = "hello", .len = 5, .per = 2 };
		writer(e, &wr, &s3_object_target, "bkt", "c", NULL);
		wr.ck_alg = CHECKSUM_CRC32;
		if (i == 1)
			wr.ck_want = hello_crc;
		if (i == 2)
			s.own_sum = other; /* the source's word, not recomputed */
		assert_int_equal(run(&wr, &s), S3_ERR_OK);
		const char *b64 = i == 2 ? "AQIDBA==" : HELLO_CRC32;
		char line[96];
		snprintf(line, sizeof(line), "x-amz-checksum-crc32: %s\r\n", b64);
		assert_string_equal(wr.ck_line, line);
		assert_string_equal(wr.ck_b64, b64);
		assert_int_equal(s3_call(e->x, "GET", "/bkt/c", mode, NULL, 0), 200);
		assert_string_equal(fake_header(&e->x->conn, "x-amz-checksum-crc32", v, sizeof(v)), b64);
	}
}

static int on_part(void *arg, const struct atr_mpu_part *p)
{
	*(struct atr_mpu_part *)arg = *p;
	return 0;
}

/* A part writer for part number of a new upload of bkt/mp (checksum alg,
 * or none), and a reader on bkt/src. */
static void part_writer(struct env *e, struct s3_write *wr, const char *alg, int number,
			char id[ATR_UPLOAD_ID_LEN + 1], struct atr_reader **rd)
{
	struct atr_mpu_opts o = { .checksum_alg = alg };
	struct atr_obj src = { 0 };
	char query[128];
	assert_int_equal(atr_mpu_create_with(e->x->core->c, &s3_fixture_owner, "bkt", "mp", &o, id),
			 ATR_OK);
	snprintf(query, sizeof(query), "partNumber=%d&uploadId=%s", number, id);
	assert_int_equal(atr_get_open(e->x->core->c, &s3_fixture_owner, "bkt", "src", &src, rd),
			 ATR_OK);
	atr_obj_release(&src);
	writer(e, wr, &s3_part_target, "bkt", "mp", query);
	wr->part = number;
}

/* The upload's part (number 0 if it has none). */
static struct atr_mpu_part listed_part(struct env *e, const char *id)
{
	struct atr_mpu up;
	struct atr_mpu_part part = { 0 };
	int truncated;
	assert_int_equal(atr_mpu_list_parts(e->x->core->c, &s3_fixture_owner, "bkt", "mp", id, 0, 10,
					    &up, on_part, &part, &truncated), ATR_OK);
	return part;
}

/* The part target, fed from a stored object's range (UploadPartCopy's
 * source): an upload with a checksum algorithm keeps the part's; one
 * without keeps none, whatever the writer computed. */
static void test_parts_from_reader(void **state)
{
	struct env *e = *state;
	char id[ATR_UPLOAD_ID_LEN + 1];
	struct atr_reader *rd;
	struct s3_write wr;
	assert_int_equal(s3_call(e->x, "PUT", "/bkt/src", NULL, "hello world", 11), 200);

	for (int with_alg = 0; with_alg <= 1; with_alg++) {
		part_writer(e, &wr, with_alg ? "CRC32" : NULL, 3, id, &rd);
		wr.ck_alg = CHECKSUM_CRC32;
		assert_int_equal(s3_write_copy(&wr, rd, 6, 5), S3_ERR_OK);
		atr_get_close(rd);
		assert_string_equal(wr.etag, "7d793037a0760186574b0282f2f435e7"); /* MD5("world") */
		assert_int_equal(wr.size, 5);
		assert_string_equal(wr.ck_b64, "OncRQw=="); /* CRC32("world") */
		struct atr_mpu_part part = listed_part(e, id);
		assert_int_equal(part.number, 3);
		assert_int_equal(part.size, 5);
		assert_string_equal(part.etag, wr.etag);
		assert_string_equal(part.checksum, with_alg ? "OncRQw==" : "");
		assert_int_equal(atr_mpu_abort(e->x->core->c, &s3_fixture_owner, "bkt", "mp", id),
				 ATR_OK);
	}

	/* A range past what the reader holds: the source's error, no part. */
	part_writer(e, &wr, NULL, 1, id, &rd);
	assert_int_equal(s3_write_copy(&wr, rd, 6, 10), S3_ERR_INTERNAL);
	atr_get_close(rd);
	assert_int_equal(listed_part(e, id).number, 0);
	/* And an upload that is not there: refused at open. */
	writer(e, &wr, &s3_part_target, "bkt", "mp", "partNumber=1&uploadId=nosuchupload");
	wr.part = 1;
	struct mem_src s = { .data = "x", .len = 1 };
	assert_int_equal(run(&wr, &s), S3_ERR_NO_SUCH_UPLOAD);
	assert_int_equal(e->prepared, 0);
	assert_int_equal(s.nexts, 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_object_in_pieces), T(test_failures), T(test_checksum),
		T(test_parts_from_reader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
