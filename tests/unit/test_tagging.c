/* Tags in the core (src/tagging.c): bucket tags — owner only, none until
 * set, replaced whole, removed by NULL or "", kept across a restart and
 * dropped with the bucket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "src/core_int.h"
#include "tests/unit/core_fixture.h"

static const struct atr_user root = { .name = "root", .superuser = 1 };
static const struct atr_user alice = { .name = "alice", .superuser = 0 };
static const struct atr_user bob = { .name = "bob", .superuser = 0 };

static int setup(void **state)
{
	struct fixture *f = fixture_new(4096, &root);
	assert_int_equal(atr_bucket_create(f->c, &alice, "abkt", "", NULL, -1), ATR_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	return fixture_teardown(state);
}

static void expect_tags(struct atr_core *c, const struct atr_user *u, const char *bucket,
			const char *want)
{
	char *tags = (char *)"unset";
	assert_int_equal(atr_bucket_tags_get(c, u, bucket, &tags), ATR_OK);
	if (want)
		assert_string_equal(tags, want);
	else
		assert_null(tags);
	free(tags);
}

static void bucket_tags(void **state)
{
	struct fixture *f = *state;
	char *tags;
	expect_tags(f->c, &alice, "abkt", NULL);
	assert_int_equal(atr_bucket_tags_set(f->c, &alice, "abkt", "a=1&b=2"), ATR_OK);
	expect_tags(f->c, &alice, "abkt", "a=1&b=2");
	assert_int_equal(atr_bucket_tags_set(f->c, &alice, "abkt", "c=3"), ATR_OK);
	expect_tags(f->c, &alice, "abkt", "c=3");
	/* the superuser may, others may not (whatever the bucket's mode) */
	expect_tags(f->c, &root, "abkt", "c=3");
	assert_int_equal(atr_bucket_tags_get(f->c, &bob, "abkt", &tags), ATR_E_ACCESS);
	assert_null(tags);
	assert_int_equal(atr_bucket_tags_set(f->c, &bob, "abkt", "x=y"), ATR_E_ACCESS);
	assert_int_equal(atr_bucket_tags_set(f->c, &bob, "abkt", NULL), ATR_E_ACCESS);
	expect_tags(f->c, &alice, "abkt", "c=3");
	/* kept across a restart */
	atr_core_close(f->c);
	fixture_open(f);
	expect_tags(f->c, &alice, "abkt", "c=3");
	/* removed by NULL or "" */
	assert_int_equal(atr_bucket_tags_set(f->c, &alice, "abkt", ""), ATR_OK);
	expect_tags(f->c, &alice, "abkt", NULL);
	assert_int_equal(atr_bucket_tags_set(f->c, &alice, "abkt", "d=4"), ATR_OK);
	assert_int_equal(atr_bucket_tags_set(f->c, &alice, "abkt", NULL), ATR_OK);
	expect_tags(f->c, &alice, "abkt", NULL);
	/* buckets that are not there, or cannot be */
	assert_int_equal(atr_bucket_tags_get(f->c, &alice, "nope", &tags), ATR_E_NO_BUCKET);
	assert_int_equal(atr_bucket_tags_set(f->c, &alice, "nope", "a=1"), ATR_E_NO_BUCKET);
	assert_int_equal(atr_bucket_tags_set(f->c, &alice, "Bad_Name", "a=1"),
			 ATR_E_INVALID_BUCKET);
	/* other buckets' tags are their own */
	assert_int_equal(atr_bucket_tags_set(f->c, &root, "bkt", "r=1"), ATR_OK);
	assert_int_equal(atr_bucket_tags_set(f->c, &alice, "abkt", "a=1"), ATR_OK);
	expect_tags(f->c, &root, "bkt", "r=1");
}

static void bucket_tags_go_with_the_bucket(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(atr_bucket_tags_set(f->c, &alice, "abkt", "a=1"), ATR_OK);
	assert_int_equal(atr_bucket_delete(f->c, &alice, "abkt"), ATR_OK);
	assert_int_equal(atr_bucket_create(f->c, &bob, "abkt", "", NULL, -1), ATR_OK);
	expect_tags(f->c, &bob, "abkt", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(bucket_tags, setup, teardown),
		cmocka_unit_test_setup_teardown(bucket_tags_go_with_the_bucket, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
