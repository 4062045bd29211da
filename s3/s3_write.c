/*
 * s3_write — the request writer: the one sequence by which PutObject,
 * POST Object, UploadPart and UploadPartCopy put bytes into the core. The
 * target is opened, the operation prepares it, every byte goes from the
 * source into it, the checks run, the target commits; any error aborts
 * the target, so a failed write leaves nothing behind. s3_int.h says what
 * each operation passes in.
 */
#include <stdio.h>
#include <string.h>

#include "common/hash.h"
#include "s3/s3_int.h"
#include "common/banned.h"

void s3_write_init(struct s3_write *wr, struct s3_req *r, const struct s3_target *target)
{
	memset(wr, 0, sizeof(*wr));
	wr->r = r;
	wr->target = target;
	wr->max_size = s3_limit(r->srv, max_put_size);
	wr->ck_alg = CHECKSUM_NONE;
	wr->size = -1;
}

/* Step 3: every byte from src into the target, within the size bounds,
 * the checksum computed on the way unless src verifies its own. */
static enum s3_err pump(struct s3_write *wr, const struct s3_source *src, uint64_t *total)
{
	struct checksum ck = { .alg = CHECKSUM_NONE };
	int computing = wr->ck_alg != CHECKSUM_NONE && !src->own_checksum, rc;
	enum s3_err e = S3_ERR_OK;

	if (computing && checksum_init(&ck, wr->ck_alg))
		return S3_ERR_SLOW_DOWN;
	for (;;) {
		const void *data;
		long n = src->next(src->arg, &data, &e);
		if (n < 0 && !e)
			e = S3_ERR_INTERNAL; /* the source broke its contract */
		if (n <= 0)
			break;
		*total += (uint64_t)n;
		if (*total > wr->max_size) {
			e = S3_ERR_ENTITY_TOO_LARGE;
			break;
		}
		if ((rc = wr->target->write(wr->w, data, (size_t)n))) {
			e = s3_err_from_core(rc);
			break;
		}
		if (computing)
			checksum_update(&ck, data, (size_t)n);
	}
	if (!e && *total < wr->min_size)
		e = S3_ERR_ENTITY_TOO_SMALL;
	if (computing && e) {
		checksum_release(&ck);
	} else if (computing) {
		checksum_final(&ck, wr->ck_sum);
		if (wr->ck_want && memcmp(wr->ck_sum, wr->ck_want, checksum_len(wr->ck_alg)))
			e = S3_ERR_CHECKSUM_BAD;
	}
	return e;
}

enum s3_err s3_write_run(struct s3_write *wr, const struct s3_source *src)
{
	const struct s3_target *t = wr->target;
	unsigned char md5[16];
	uint64_t total = 0;
	enum s3_err e = s3_err_from_core(t->open(wr));

	if (!e && wr->prepare)
		e = wr->prepare(wr, wr->arg);
	if (!e)
		e = pump(wr, src, &total);
	if (!e && src->finish)
		e = src->finish(wr, src->arg);
	if (!e && wr->have_md5) {
		t->md5(wr->w, md5);
		if (memcmp(wr->md5, md5, 16))
			e = S3_ERR_BAD_DIGEST;
	}
	if (e) {
		if (wr->w)
			t->abort(wr->w);
		wr->w = NULL;
		return e;
	}
	if (wr->ck_alg != CHECKSUM_NONE) {
		s3_checksum_line(wr->ck_alg, wr->ck_sum, wr->ck_line);
		base64_encode(wr->ck_sum, checksum_len(wr->ck_alg), wr->ck_b64);
	}
	wr->size = (int64_t)total;
	e = t->commit(wr); /* frees the writer, committed or not */
	wr->w = NULL;
	return e;
}

void s3_write_respond(struct s3_write *wr)
{
	/* x-amz-expiration's rule ID may take 3 * 255 bytes encoded. */
	struct buf extra = BUF_INIT(4096);
	/* A PUT's object: the rule that will expire it (not a part's). */
	int object = wr->target == &s3_object_target;
	if (buf_addf(&extra, "ETag: \"%s\"\r\n%s", wr->etag, wr->ck_line) ||
	    s3_version_header(&extra, "x-amz-version-id", wr->vid) ||
	    s3_sse_headers(&extra, wr->sse_mode, &wr->sse) ||
	    (object && s3_lifecycle_header(wr->r, wr->r->key, (uint64_t)wr->size, wr->mtime_ns,
					   wr->tags, &extra)))
		s3_send_empty(wr->r, 500, NULL);
	else
		s3_send_empty(wr->r, 200, extra.ptr);
	buf_release(&extra);
}

/* ---- sources ---- */

/* The request body, read through the thread's I/O buffer. */
struct body_src {
	struct s3_req *r;
	struct s3_body b;
	char *buf;
};

static long body_next(void *arg, const void **data, enum s3_err *err)
{
	struct body_src *s = arg;
	if (!s->buf) {
		if (!(s->buf = s3_io_buffer(s->r->srv))) {
			*err = S3_ERR_SLOW_DOWN;
			return -1;
		}
		/* The target is open and prepared, so the request is allowed:
		 * only now may the client send its body. */
		s3_continue(s->r);
	}
	*data = s->buf;
	return s3_body_read(&s->b, s->buf, S3_IO_BUFFER, err);
}

/* The SHA-256 and the checksum (s3_body verifies both, in that order). */
static enum s3_err body_finish(struct s3_write *wr, void *arg)
{
	struct body_src *s = arg;
	enum s3_err e = s3_body_finish(&s->b);
	if (!e && wr->ck_alg != CHECKSUM_NONE)
		memcpy(wr->ck_sum, s->b.ck_want, sizeof(wr->ck_sum)); /* verified equal */
	return e;
}

enum s3_err s3_write_body(struct s3_write *wr)
{
	struct body_src s = { .r = wr->r };
	const struct s3_source src = { body_next, body_finish, &s, 1 };
	enum s3_err e = s3_body_open(wr->r, &s.b);

	if (!e && !(e = s3_body_checksum(&s.b))) {
		if (s.b.expect != UINT64_MAX && s.b.expect > wr->max_size) {
			e = S3_ERR_ENTITY_TOO_LARGE;
		} else {
			wr->size_hint = s.b.expect == UINT64_MAX ? 0 : s.b.expect;
			wr->ck_alg = s.b.ck ? s.b.ck->alg : CHECKSUM_NONE;
			e = s3_write_run(wr, &src);
		}
	}
	if (e && s.b.got < s.b.expect)
		wr->r->must_close = 1; /* the rest of the body is still on the wire */
	s3_body_close(&s.b);
	return e;
}

/* Bytes [off, end) of an open reader, straight from the block cache. */
struct copy_src {
	struct atr_reader *rd;
	uint64_t off, end;
};

static long copy_next(void *arg, const void **data, enum s3_err *err)
{
	struct copy_src *s = arg;
	size_t n;
	int rc;
	if (s->off == s->end)
		return 0;
	if ((rc = atr_get_read(s->rd, s->off, data, &n)) || n == 0) {
		/* n == 0: the source is shorter than its row said */
		*err = s3_err_from_core(rc ? rc : ATR_E_IO);
		return -1;
	}
	if (n > s->end - s->off)
		n = (size_t)(s->end - s->off);
	s->off += n;
	return (long)n;
}

enum s3_err s3_write_copy(struct s3_write *wr, struct atr_reader *rd, uint64_t off, uint64_t len)
{
	struct copy_src s = { rd, off, off + len };
	atr_get_read_until(rd, off + len);
	const struct s3_source src = { copy_next, NULL, &s, 0 };
	return s3_write_run(wr, &src);
}

/* ---- targets ---- */

static int object_open(struct s3_write *wr)
{
	struct s3_req *r = wr->r;
	struct atr_writer *w;
	int rc = atr_put_begin(r->srv->core, &r->user, r->bucket, r->key, wr->size_hint, &w);
	if (rc)
		return rc;
	wr->w = w;
	atr_put_write_type(w, wr->write_type);
	if (wr->lock && (rc = atr_put_lock(w, &r->user, wr->lock)))
		return rc;
	if (wr->sse.mode &&
	    (rc = atr_put_sse(w, wr->sse.mode, wr->sse.mode == ATR_SSE_C ? wr->sse.key : NULL)))
		return rc;
	return wr->tags ? atr_put_tags(w, wr->tags) : ATR_OK;
}

static int object_write(void *w, const void *data, size_t n)
{
	return atr_put_write(w, data, n);
}

static void object_md5(void *w, unsigned char out[16])
{
	atr_put_md5(w, out);
}

static enum s3_err object_commit(struct s3_write *wr)
{
	struct atr_obj obj = { 0 };
	/* The checksum is kept with the object, returned when asked for. */
	if (buf_addstr(wr->hdrs, wr->ck_line)) {
		atr_put_abort(wr->w);
		return S3_ERR_METADATA_TOO_LARGE;
	}
	int rc = atr_put_commit(wr->w, wr->hdrs->ptr, &obj);
	if (rc)
		return s3_err_from_core(rc);
	snprintf(wr->etag, sizeof(wr->etag), "%s", obj.etag);
	wr->mtime_ns = obj.mtime_ns;
	wr->sse_mode = obj.sse;
	snprintf(wr->vid, sizeof(wr->vid), "%s", obj.vid);
	return S3_ERR_OK;
}

static void object_abort(void *w)
{
	atr_put_abort(w);
}

const struct s3_target s3_object_target = {
	object_open, object_write, object_md5, object_commit, object_abort,
};

static int part_open(struct s3_write *wr)
{
	struct s3_req *r = wr->r;
	struct atr_part_writer *w;
	/* An SSE-C upload's key is checked here, before any byte. */
	int rc = atr_mpu_part_begin_key(r->srv->core, &r->user, r->bucket, r->key,
					s3_param(r, "uploadId"), wr->part,
					wr->sse.mode == ATR_SSE_C ? wr->sse.key : NULL, &w);
	if (!rc)
		wr->w = w;
	return rc;
}

static int part_write(void *w, const void *data, size_t n)
{
	return atr_mpu_part_write(w, data, n);
}

static void part_md5(void *w, unsigned char out[16])
{
	atr_mpu_part_md5(w, out);
}

static enum s3_err part_commit(struct s3_write *wr)
{
	struct atr_mpu_part part;
	int rc;
	/* An upload with a checksum algorithm keeps each part's (of that
	 * algorithm: the operation's prepare saw to it); the core keeps the
	 * base64 and never reads it. */
	if (wr->ck_alg != CHECKSUM_NONE && *atr_mpu_part_checksum_alg(wr->w) &&
	    (rc = atr_mpu_part_set_checksum(wr->w, wr->ck_b64))) {
		atr_mpu_part_abort(wr->w);
		return s3_err_from_core(rc);
	}
	if ((rc = atr_mpu_part_commit(wr->w, &part)))
		return s3_err_from_core(rc);
	snprintf(wr->etag, sizeof(wr->etag), "%s", part.etag);
	wr->mtime_ns = part.mtime_ns;
	return S3_ERR_OK;
}

static void part_abort(void *w)
{
	atr_mpu_part_abort(w);
}

const struct s3_target s3_part_target = {
	part_open, part_write, part_md5, part_commit, part_abort,
};
