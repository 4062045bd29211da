/*
 * core_fixture.h — the unit tests' shared fixture: a core open on a fresh
 * temporary data directory, removed again by the teardown. Include after
 * cmocka.h; header-only (static inline), so a test uses what it needs.
 */
#ifndef TESTS_UNIT_CORE_FIXTURE_H
#define TESTS_UNIT_CORE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "src/core_int.h"

struct fixture {
	char dir[64];
	struct atr_core *c;
	size_t block_size;
};

/* (Re)opens the core on f->dir, its under-storage wrapped by wrap (NULL:
 * the local driver as it is; see core_open_wrapped). */
static inline void fixture_open_wrapped(struct fixture *f,
					struct ufs *(*wrap)(void *arg, struct ufs *inner),
					void *arg)
{
	struct atr_core_config cfg = { .data_dir = f->dir, .cache_mem_bytes = 1 << 20,
				       .cache_block_size = f->block_size };
	assert_int_equal(core_open_wrapped(&cfg, wrap, arg, &f->c), ATR_OK);
}

/* (Re)opens the core on f->dir. */
static inline void fixture_open(struct fixture *f)
{
	fixture_open_wrapped(f, NULL, NULL);
}

/* A fresh data dir, a core with block_size-byte cache blocks, and bucket
 * "bkt" owned by owner. */
static inline struct fixture *fixture_new(size_t block_size, const struct atr_user *owner)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/atrium-unit-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->block_size = block_size;
	log_set_level(LOG_WARN);
	fixture_open(f);
	assert_int_equal(atr_bucket_create(f->c, owner, "bkt", "", NULL, -1), ATR_OK);
	return f;
}

static inline int fixture_teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	atr_core_close(f->c);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* A PUT of n bytes of data at bucket/key by u with the stored headers
 * hdrs (may be NULL): the core's answer. */
static inline int fixture_put(struct atr_core *c, const struct atr_user *u, const char *bucket,
			      const char *key, const void *data, size_t n, const char *hdrs)
{
	struct atr_writer *w;
	int rc = atr_put_begin(c, u, bucket, key, n, &w);
	if (rc)
		return rc;
	if ((rc = atr_put_write(w, data, n))) {
		atr_put_abort(w);
		return rc;
	}
	return atr_put_commit(w, hdrs, NULL);
}

/* What a GET by u serves at bucket/key, NUL-terminated and malloc'd
 * (NULL if the GET is refused); o (may be NULL) receives the object,
 * to be released by the caller. */
static inline char *fixture_get(struct atr_core *c, const struct atr_user *u, const char *bucket,
				const char *key, struct atr_obj *o)
{
	struct atr_obj mine;
	struct atr_reader *r;
	if (!o)
		o = &mine;
	if (atr_get_open(c, u, bucket, key, o, &r))
		return NULL;
	char *out = calloc(1, o->size + 1);
	assert_non_null(out);
	for (uint64_t off = 0; off < o->size;) {
		const void *p;
		size_t n;
		assert_int_equal(atr_get_read(r, off, &p, &n), ATR_OK);
		memcpy(out + off, p, n);
		off += n;
	}
	atr_get_close(r);
	if (o == &mine)
		atr_obj_release(&mine);
	return out;
}

#endif
