/*
 * Unit tests for common/uri.c's UTF-8 checks: utf8_valid (RFC 3629's
 * well-formed sequences) and utf8_xml_valid (those whose characters XML
 * 1.0 can carry), table-driven; the fuzz target fuzz_uri checks both
 * against reference readings on random input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/uri.h"

static const struct {
	const char *name;
	const char *s;
	size_t len;       /* 0: strlen(s) */
	int utf8, xml;
} cases[] = {
	{ "empty", "", 0, 1, 1 },
	{ "ASCII", "a b/c~", 0, 1, 1 },
	{ "tab, newline, carriage return", "a\tb\nc\rd", 0, 1, 1 },
	{ "NUL", "a\0b", 3, 1, 0 },
	{ "U+0001", "a\x01", 0, 1, 0 },
	{ "U+000C form feed", "\x0c", 0, 1, 0 },
	{ "U+001F", "\x1f", 0, 1, 0 },
	{ "U+007F is XML 1.0", "\x7f", 0, 1, 1 },
	{ "U+0080 is XML 1.0", "\xc2\x80", 0, 1, 1 },
	{ "U+D7FF", "\xed\x9f\xbf", 0, 1, 1 },
	{ "surrogate U+D800", "\xed\xa0\x80", 0, 0, 0 },
	{ "U+E000", "\xee\x80\x80", 0, 1, 1 },
	{ "U+FFFD", "\xef\xbf\xbd", 0, 1, 1 },
	{ "U+FFFE", "\xef\xbf\xbe", 0, 1, 0 },
	{ "U+FFFF", "\xef\xbf\xbf", 0, 1, 0 },
	{ "U+10000", "\xf0\x90\x80\x80", 0, 1, 1 },
	{ "U+10FFFF", "\xf4\x8f\xbf\xbf", 0, 1, 1 },
	{ "above U+10FFFF", "\xf4\x90\x80\x80", 0, 0, 0 },
	{ "overlong '/'", "\xc0\xaf", 0, 0, 0 },
	{ "lone continuation", "\x80", 0, 0, 0 },
	{ "0xFF", "\xff", 0, 0, 0 },
	{ "truncated sequence", "\xc3", 0, 0, 0 },
	{ "truncated at the end", "ok\xe2\x9c", 0, 0, 0 },
	{ "e acute, check mark", "caf\xc3\xa9 \xe2\x9c\x93", 0, 1, 1 },
};

static void utf8_tables(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = cases[i].len ? cases[i].len : strlen(cases[i].s);
		if (utf8_valid(cases[i].s, n) != cases[i].utf8)
			fail_msg("%s: utf8_valid %d", cases[i].name, !cases[i].utf8);
		if (utf8_xml_valid(cases[i].s, n) != cases[i].xml)
			fail_msg("%s: utf8_xml_valid %d", cases[i].name, !cases[i].xml);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(utf8_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
