/* Tag sets (s3/s3_tagging.c): x-amz-tagging and PutObjectTagging bodies
 * into the stored form, with AWS's limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "s3/s3_int.h"

static void header_form(void **state)
{
	char k128[129], k129[130], v256[257], v257[258], many[256], eleven[256];
	memset(k128, 'k', 128);
	k128[128] = '\0';
	memset(k129, 'k', 129);
	k129[129] = '\0';
	memset(v256, 'v', 256);
	v256[256] = '\0';
	memset(v257, 'v', 257);
	v257[257] = '\0';
	char kv128[200], kv129[200], vv256[300], vv257[300];
	snprintf(kv128, sizeof(kv128), "%s=x", k128);
	snprintf(kv129, sizeof(kv129), "%s=x", k129);
	snprintf(vv256, sizeof(vv256), "k=%s", v256);
	snprintf(vv257, sizeof(vv257), "k=%s", v257);
	many[0] = eleven[0] = '\0';
	for (int i = 0; i < 11; i++) {
		char one[16];
		snprintf(one, sizeof(one), "%sk%d=v", i ? "&" : "", i);
		if (i < 10)
			strcat(many, one);
		strcat(eleven, one);
	}
	static const struct {
		const char *in;
		enum s3_err want;
		const char *out;
	} fixed[] = {
		{ "a=1&b=2", S3_ERR_OK, "a=1&b=2" },
		{ "b=2&a=1", S3_ERR_OK, "b=2&a=1" },
		{ "k%20x=v%2By&e=", S3_ERR_OK, "k%20x=v%2By&e=" },
		{ "only", S3_ERR_OK, "only=" },
		{ "%C3%A9t%C3%A9=%E2%82%AC", S3_ERR_OK, "%C3%A9t%C3%A9=%E2%82%AC" },
		{ "a=1&a=2", S3_ERR_TAG_KEY_DUPLICATE, NULL },
		{ "=v", S3_ERR_TAG_KEY_INVALID, NULL },
		{ "a%01=v", S3_ERR_TAG_KEY_INVALID, NULL },
		{ "a=%FF", S3_ERR_TAG_VALUE_INVALID, NULL },
		{ "a=%zz", S3_ERR_TAG_HEADER_INVALID, NULL },
		{ "", S3_ERR_OK, NULL },
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		struct buf b = BUF_INIT(8192);
		enum s3_err e = s3_tagging_from_header(fixed[i].in, &b);
		if (e != fixed[i].want)
			fail_msg("'%s': got %d, want %d", fixed[i].in, e, fixed[i].want);
		if (!e && fixed[i].out)
			assert_string_equal(b.ptr, fixed[i].out);
		if (!e && !fixed[i].out)
			assert_int_equal(b.len, 0);
		buf_release(&b);
	}
	const struct {
		const char *in;
		enum s3_err want;
	} limits[] = {
		{ kv128, S3_ERR_OK }, { kv129, S3_ERR_TAG_KEY_INVALID },
		{ vv256, S3_ERR_OK }, { vv257, S3_ERR_TAG_VALUE_INVALID },
		{ many, S3_ERR_OK }, { eleven, S3_ERR_TAGS_TOO_MANY },
	};
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		struct buf b = BUF_INIT(8192);
		if (s3_tagging_from_header(limits[i].in, &b) != limits[i].want)
			fail_msg("limit case %zu", i);
		buf_release(&b);
	}
	assert_int_equal(s3_tagging_count(many), 10);
	assert_int_equal(s3_tagging_count("a=1"), 1);
	assert_int_equal(s3_tagging_count(""), 0);
	assert_int_equal(s3_tagging_count(NULL), 0);
}

static void xml_form(void **state)
{
	static const struct {
		const char *in;
		enum s3_err want;
		const char *out;
	} cases[] = {
		{ "<Tagging><TagSet><Tag><Key>a b</Key><Value>1&amp;2</Value></Tag>"
		  "<Tag><Key>c</Key><Value></Value></Tag></TagSet></Tagging>",
		  S3_ERR_OK, "a%20b=1%262&c=" },
		{ "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>"
		  "<Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>", S3_ERR_OK, "k=v" },
		{ "<Tagging><TagSet></TagSet></Tagging>", S3_ERR_OK, NULL },
		{ "<Tagging><TagSet><Tag><Key>k</Key><Value>1</Value></Tag>"
		  "<Tag><Key>k</Key><Value>2</Value></Tag></TagSet></Tagging>",
		  S3_ERR_TAG_KEY_DUPLICATE, NULL },
		{ "<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>",
		  S3_ERR_MALFORMED_XML, NULL },
		{ "<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>",
		  S3_ERR_MALFORMED_XML, NULL },
		{ "<Tagging></Tagging>", S3_ERR_MALFORMED_XML, NULL },
		{ "<Other><TagSet/></Other>", S3_ERR_MALFORMED_XML, NULL },
		{ "<Tagging><TagSet>", S3_ERR_MALFORMED_XML, NULL },
		{ "", S3_ERR_MALFORMED_XML, NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT(8192);
		enum s3_err e = s3_tagging_from_xml(cases[i].in, strlen(cases[i].in), &b);
		if (e != cases[i].want)
			fail_msg("case %zu: got %d, want %d", i, e, cases[i].want);
		if (!e && cases[i].out)
			assert_string_equal(b.ptr, cases[i].out);
		if (!e && !cases[i].out)
			assert_int_equal(b.len, 0);
		buf_release(&b);
	}
	/* eleven tags */
	struct buf x = BUF_INIT(8192), b = BUF_INIT(8192);
	buf_addstr(&x, "<Tagging><TagSet>");
	for (int i = 0; i < 11; i++)
		buf_addf(&x, "<Tag><Key>k%d</Key><Value>v</Value></Tag>", i);
	buf_addstr(&x, "</TagSet></Tagging>");
	assert_int_equal(s3_tagging_from_xml(x.ptr, x.len, &b), S3_ERR_TAGS_TOO_MANY);
	buf_release(&x);
	buf_release(&b);
}

/* A bucket takes up to 50 tags, with the same key and value rules. */
static void bucket_form(void **state)
{
	(void)state;
	for (int n = 10; n <= 51; n++) {
		struct buf x = BUF_INIT(65536), b = BUF_INIT(65536);
		buf_addstr(&x, "<Tagging><TagSet>");
		for (int i = 0; i < n; i++)
			buf_addf(&x, "<Tag><Key>k%d</Key><Value>v</Value></Tag>", i);
		buf_addstr(&x, "</TagSet></Tagging>");
		assert_int_equal(s3_bucket_tagging_from_xml(x.ptr, x.len, &b),
				 n <= 50 ? S3_ERR_OK : S3_ERR_BUCKET_TAGS_TOO_MANY);
		if (n == 50)
			assert_int_equal(s3_tagging_count(b.ptr), 50);
		buf_release(&x);
		buf_release(&b);
	}
	static const struct {
		const char *in;
		enum s3_err want;
	} cases[] = {
		{ "<Tagging><TagSet><Tag><Key></Key><Value>v</Value></Tag></TagSet></Tagging>",
		  S3_ERR_TAG_KEY_INVALID },
		{ "<Tagging><TagSet><Tag><Key>k</Key><Value>1</Value></Tag>"
		  "<Tag><Key>k</Key><Value>2</Value></Tag></TagSet></Tagging>",
		  S3_ERR_TAG_KEY_DUPLICATE },
		{ "<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>",
		  S3_ERR_MALFORMED_XML },
		{ "<Tagging><TagSet></TagSet></Tagging>", S3_ERR_OK },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT(8192);
		assert_int_equal(s3_bucket_tagging_from_xml(cases[i].in, strlen(cases[i].in), &b),
				 cases[i].want);
		buf_release(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(header_form),
		cmocka_unit_test(xml_form),
		cmocka_unit_test(bucket_form),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
