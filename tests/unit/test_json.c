/* common/json.c: string escaping for the admin API's output, and the reader
 * the CLI parses it with (valid documents, every refusal, integers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/json.h"

static void escaping(void **state)
{
	static const struct { const char *in, *out; } rows[] = {
		{ "", "\"\"" },
		{ "plain", "\"plain\"" },
		{ "q\"b\\s", "\"q\\\"b\\\\s\"" },
		{ "a\nb\tc\rd", "\"a\\nb\\tc\\rd\"" },
		{ "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"" },
		{ "caf\xc3\xa9 \xe2\x82\xac", "\"caf\xc3\xa9 \xe2\x82\xac\"" }, /* UTF-8 kept */
		{ "bad\xff", "\"bad\\u00ff\"" },                             /* not UTF-8 */
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct buf b = BUF_INIT(1024);
		assert_int_equal(json_add_str(&b, rows[i].in), 0);
		assert_string_equal(b.ptr, rows[i].out);
		/* and it reads back as the same string when it was UTF-8 */
		if (i < 6) {
			struct json *v = json_parse(b.ptr, b.len, NULL, 0);
			assert_non_null(v);
			assert_int_equal(v->type, JSON_STRING);
			assert_string_equal(v->text, rows[i].in);
			json_free(v);
		}
		buf_release(&b);
	}
	struct buf small = BUF_INIT(4);
	assert_int_equal(json_add_str(&small, "toolong"), -1); /* over the cap: unchanged */
	assert_int_equal(small.len, 0);
	buf_release(&small);
}

static void documents(void **state)
{
	const char *doc =
		" {\"entries\": [ {\"path\": \"/b/k\", \"size\": 18446744073709551615,"
		" \"neg\": -5, \"pct\": 12.5, \"dir\": false, \"ok\": true, \"n\": null},"
		" {\"path\": \"/b/\\u00e9\\ud83d\\ude00\\/x\"} ], \"truncated\": true,"
		" \"next\": \"\" } \n";
	char err[128];
	struct json *v = json_parse(doc, strlen(doc), err, sizeof(err));
	assert_non_null(v);
	assert_int_equal(v->type, JSON_OBJECT);
	const struct json *e = json_get(v, "entries");
	assert_non_null(e);
	assert_int_equal(e->type, JSON_ARRAY);
	const struct json *first = e->child, *second = first->next;
	assert_string_equal(json_get_str(first, "path"), "/b/k");
	assert_true(json_get_u64(first, "size", 0) == UINT64_MAX);
	assert_int_equal(json_get_i64(first, "neg", 0), -5);
	assert_int_equal(json_get_u64(first, "neg", 7), 7);   /* negative: not a u64 */
	assert_int_equal(json_get_u64(first, "pct", 7), 7);   /* not an integer */
	assert_true(json_num(json_get(first, "pct")) == 12.5);
	assert_int_equal(json_get_bool(first, "dir", -1), 0);
	assert_int_equal(json_get_bool(first, "ok", -1), 1);
	assert_int_equal(json_get_bool(first, "n", -1), -1);
	assert_int_equal(json_get(first, "n")->type, JSON_NULL);
	assert_null(json_get_str(first, "size"));
	assert_null(json_get(first, "absent"));
	assert_string_equal(json_get_str(second, "path"), "/b/\xc3\xa9\xf0\x9f\x98\x80/x");
	assert_null(second->next);
	assert_int_equal(json_get_bool(v, "truncated", 0), 1);
	assert_string_equal(json_get_str(v, "next"), "");
	json_free(v);

	v = json_parse("[]", 2, NULL, 0);
	assert_non_null(v);
	assert_null(v->child);
	json_free(v);
	v = json_parse("0", 1, NULL, 0);
	assert_non_null(v);
	json_free(v);
}

static void refusals(void **state)
{
	static const char *const bad[] = {
		"", " ", "{", "}", "[1,]", "[,1]", "{\"a\" 1}", "{\"a\":1,}", "{a:1}", "01", "1.",
		".5", "-", "1e", "+1", "\"abc", "\"a\\x\"", "\"\\u12\"", "\"\\ud800\"",
		"\"\\udc00x\"", "\"\\u0000\"", "\"tab\there\"", "tru", "nul", "[1] 2", "{}x",
		"\"\xff\"", "[\"\xc3\"]",
	};
	char err[128];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		struct json *v = json_parse(bad[i], strlen(bad[i]), err, sizeof(err));
		if (v)
			fail_msg("accepted %s", bad[i]);
		assert_true(err[0] != '\0');
	}
	/* nesting is capped, so a hostile document cannot exhaust the stack */
	char deep[2 * (JSON_MAX_DEPTH + 2) + 1];
	size_t n = JSON_MAX_DEPTH + 2;
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = '\0';
	assert_null(json_parse(deep, 2 * n, err, sizeof(err)));
	n = JSON_MAX_DEPTH;
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	struct json *ok = json_parse(deep, 2 * n, err, sizeof(err));
	assert_non_null(ok);
	json_free(ok);
	/* the length is what counts, not a NUL */
	assert_null(json_parse("[1]", 2, NULL, 0));
}

static void doubles(void **state)
{
	static const struct { double d; const char *out; } rows[] = {
		{ 0.1, "0.1" }, { 100.0, "100" }, { -2.5, "-2.5" }, { 1e300, "1e+300" },
		{ 0.30000000000000004, "0.30000000000000004" }, { 0, "0" },
	};
	char out[32];
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(json_fmt_double(rows[i].d, out, sizeof(out)), 0);
		assert_string_equal(out, rows[i].out);
	}
	assert_int_equal(json_fmt_double(1.0 / 0.0, out, sizeof(out)), -1);
	assert_int_equal(json_fmt_double(0.0 / 0.0, out, sizeof(out)), -1);
	assert_int_equal(json_fmt_double(0.30000000000000004, out, 8), -1); /* does not fit */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escaping),
		cmocka_unit_test(documents),
		cmocka_unit_test(refusals),
		cmocka_unit_test(doubles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
