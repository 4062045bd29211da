/* GetObjectAttributes' x-amz-object-attributes parser (s3/s3_attributes.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "s3/s3_int.h"

static void attribute_names(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int want;
	} cases[] = {
		{ "ETag", 1 },
		{ "Checksum", 2 },
		{ "ObjectParts", 4 },
		{ "StorageClass", 8 },
		{ "ObjectSize", 16 },
		{ "ETag,Checksum,ObjectParts,StorageClass,ObjectSize", 31 },
		{ "ObjectSize, ETag", 17 },
		{ " ETag ,\tObjectSize ", 17 },
		{ "ETag,ETag", 1 },
		{ NULL, 0 },
		{ "", 0 },
		{ " ", 0 },
		{ ",", 0 },
		{ "ETag,", 0 },
		{ ",ETag", 0 },
		{ "ETag,,ObjectSize", 0 },
		{ "etag", 0 },
		{ "ETag,Bogus", 0 },
		{ "ETags", 0 },
		{ "ETa", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = s3_object_attributes_parse(cases[i].in);
		if (got != cases[i].want)
			fail_msg("case %zu (%s): got %d, want %d", i,
				 cases[i].in ? cases[i].in : "NULL", got, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(attribute_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
