/* test_s3_lifecycle — the lifecycle configuration document and which rule
 * applies to an object (s3/s3_lifecycle_doc.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "s3/s3_lifecycle.h"

#define DOC(rules) "<LifecycleConfiguration>" rules "</LifecycleConfiguration>"
#define RULE(inner) "<Rule>" inner "</Rule>"
#define ON "<Status>Enabled</Status>"
#define ANY "<Filter></Filter>"
#define DAYS(n) "<Expiration><Days>" #n "</Days></Expiration>"

static enum s3_err parse(const char *xml, struct s3_lc *c)
{
	char msg[512];
	return s3_lc_parse(xml, strlen(xml), c, msg, sizeof(msg));
}

static void documents(void **state)
{
	static const struct {
		const char *xml;
		enum s3_err want;
	} cases[] = {
		{ DOC(RULE(ANY ON DAYS(1))), S3_ERR_OK },
		{ DOC(RULE("<Prefix>a/</Prefix>" ON DAYS(1))), S3_ERR_OK },
		{ DOC(RULE("<Filter><And><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag>"
			   "<ObjectSizeGreaterThan>1</ObjectSizeGreaterThan></And></Filter>" ON
			   DAYS(1))), S3_ERR_OK },
		{ DOC(""), S3_ERR_MALFORMED_XML },
		{ "<Other/>", S3_ERR_MALFORMED_XML },
		{ DOC(RULE(ON DAYS(1))), S3_ERR_MALFORMED_XML },                /* no filter */
		{ DOC(RULE(ANY "<Status>on</Status>" DAYS(1))), S3_ERR_MALFORMED_XML },
		{ DOC(RULE(ANY ON)), S3_ERR_INVALID_REQUEST },                  /* no action */
		{ DOC(RULE(ANY ON DAYS(0))), S3_ERR_INVALID_ARGUMENT },
		{ DOC(RULE(ANY ON DAYS(99999999999))), S3_ERR_MALFORMED_XML },  /* past xs:int */
		{ DOC(RULE(ANY ON "<Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration>")),
		  S3_ERR_OK },
		{ DOC(RULE(ANY ON "<Expiration><Date>2030-01-01T00:00:01Z</Date></Expiration>")),
		  S3_ERR_INVALID_ARGUMENT },
		{ DOC(RULE(ANY ON "<Expiration><Date>1960-01-01</Date></Expiration>")),
		  S3_ERR_INVALID_ARGUMENT },
		{ DOC(RULE(ANY ON "<Expiration><Date>4060-01-01</Date></Expiration>")),
		  S3_ERR_INVALID_ARGUMENT }, /* past 2262: found by fuzz_lifecycle */
		{ DOC(RULE(ANY ON "<Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true"
			   "</ExpiredObjectDeleteMarker></Expiration>")), S3_ERR_MALFORMED_XML },
		{ DOC(RULE(ANY ON "<Transition><Days>1</Days></Transition>")),
		  S3_ERR_NOT_IMPLEMENTED },
		{ DOC(RULE("<ID>a</ID>" ANY ON DAYS(1)) RULE("<ID>a</ID>" ANY ON DAYS(2))),
		  S3_ERR_INVALID_ARGUMENT },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct s3_lc c;
		enum s3_err e = parse(cases[i].xml, &c);
		if (e != cases[i].want)
			fail_msg("case %zu: %d, want %d", i, e, cases[i].want);
		s3_lc_free(&c);
	}
}

static void round_trip(void **state)
{
	const char *xml = DOC(
		RULE("<ID>logs</ID><Filter><Prefix>logs/</Prefix></Filter>" ON DAYS(30)
		     "<NoncurrentVersionExpiration><NoncurrentDays>7</NoncurrentDays>"
		     "<NewerNoncurrentVersions>2</NewerNoncurrentVersions>"
		     "</NoncurrentVersionExpiration><AbortIncompleteMultipartUpload>"
		     "<DaysAfterInitiation>3</DaysAfterInitiation></AbortIncompleteMultipartUpload>")
		RULE("<ID>x</ID><Prefix></Prefix><Status>Disabled</Status>"
		     "<Expiration><Date>2030-01-01</Date></Expiration>"));
	struct s3_lc c, again;
	struct buf b = BUF_INIT(1 << 20), b2 = BUF_INIT(1 << 20);
	assert_int_equal(parse(xml, &c), S3_ERR_OK);
	assert_int_equal(c.n, 2);
	assert_int_equal(s3_lc_xml(&c, &b), 0);
	assert_non_null(strstr(b.ptr, "<Rule><ID>logs</ID><Filter><Prefix>logs/</Prefix></Filter>"
				      "<Status>Enabled</Status><Expiration><Days>30</Days>"));
	assert_non_null(strstr(b.ptr, "<Date>2030-01-01T00:00:00.000Z</Date>"));
	assert_int_equal(parse(b.ptr, &again), S3_ERR_OK);
	assert_int_equal(s3_lc_xml(&again, &b2), 0);
	assert_string_equal(b.ptr, b2.ptr);
	s3_lc_free(&c);
	s3_lc_free(&again);
	buf_release(&b);
	buf_release(&b2);
}

static void due_rounds_up_to_a_day(void **state)
{
	/* 2021-01-01T10:00:00Z + 1 day: the next midnight after 2021-01-02T10:00 */
	assert_int_equal(s3_lc_due(1609495200, 1, S3_LC_DAY), 1609632000);
	assert_int_equal(s3_lc_due(1609459200, 1, S3_LC_DAY), 1609545600); /* at midnight */
	assert_int_equal(s3_lc_due(10, 2, 1), 12);
}

static void matching_and_expiry(void **state)
{
	const char *xml = DOC(
		RULE("<ID>late</ID>" ANY ON DAYS(10))
		RULE("<ID>tagged</ID><Filter><And><Prefix>a/</Prefix><Tag><Key>k</Key>"
		     "<Value>v w</Value></Tag><ObjectSizeLessThan>100</ObjectSizeLessThan></And>"
		     "</Filter>" ON DAYS(2))
		RULE("<ID>off</ID>" ANY "<Status>Disabled</Status>" DAYS(1)));
	struct s3_lc c;
	const struct s3_lc_rule *r;
	assert_int_equal(parse(xml, &c), S3_ERR_OK);
	struct s3_lc_obj o = { "a/x", 10, 0, "k=v%20w&z=1" };
	assert_int_equal(s3_lc_expiry(&c, &o, 1, &r), 2);
	assert_string_equal(r->id, "tagged");
	o.size = 100; /* not less than 100 */
	assert_int_equal(s3_lc_expiry(&c, &o, 1, &r), 10);
	assert_string_equal(r->id, "late");
	o.size = 10;
	o.tags = "k=v";
	assert_false(s3_lc_match(&c.rules[1], &o));
	o.tags = NULL;
	assert_false(s3_lc_match(&c.rules[1], &o));
	o.key = "b/x";
	o.tags = "k=v%20w";
	assert_false(s3_lc_match(&c.rules[1], &o));
	s3_lc_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(documents),
		cmocka_unit_test(round_trip),
		cmocka_unit_test(due_rounds_up_to_a_day),
		cmocka_unit_test(matching_and_expiry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
