/*
 * fuzz_json — the JSON reader the atrium CLI parses the admin API with,
 * and the string writer the daemon produces it with (common/json.c).
 *
 * Input: a flags byte (bit 0: also treat the rest as a C string for the
 * writer), then the document.
 *
 * Properties: a document that parses prints back (numbers as their
 * literal, strings through json_add_str) to one that parses and prints the
 * same (a fixed point); every string is valid UTF-8 without NUL; the
 * writer's output of a valid UTF-8 string parses back to that string.
 */
#include <string.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/uri.h"
#include "tests/fuzz/fuzz.h"

#define INPUT_MAX (64 * 1024)

static int print(const struct json *v, struct buf *b)
{
	switch (v->type) {
	case JSON_NULL: return buf_addstr(b, "null");
	case JSON_TRUE: return buf_addstr(b, "true");
	case JSON_FALSE: return buf_addstr(b, "false");
	case JSON_NUMBER: return buf_addstr(b, v->text);
	case JSON_STRING:
		FUZZ_CHECK(utf8_valid(v->text, strlen(v->text)));
		return json_add_str(b, v->text);
	case JSON_ARRAY:
	case JSON_OBJECT:
		if (buf_addch(b, v->type == JSON_ARRAY ? '[' : '{'))
			return -1;
		for (const struct json *c = v->child; c; c = c->next) {
			if (c != v->child && buf_addch(b, ','))
				return -1;
			FUZZ_CHECK((v->type == JSON_OBJECT) == (c->key != NULL));
			if (c->key && (json_add_str(b, c->key) || buf_addch(b, ':')))
				return -1;
			if (print(c, b))
				return -1;
		}
		return buf_addch(b, v->type == JSON_ARRAY ? ']' : '}');
	}
	return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > INPUT_MAX)
		return 0;
	int flags = data[0];
	const char *doc = (const char *)data + 1;
	size_t len = size - 1;

	struct json *v = json_parse(doc, len, NULL, 0);
	if (v) {
		struct buf a = BUF_INIT(8 * INPUT_MAX), b = BUF_INIT(8 * INPUT_MAX);
		FUZZ_CHECK(print(v, &a) == 0);
		struct json *w = json_parse(a.ptr, a.len, NULL, 0);
		FUZZ_CHECK(w != NULL);
		FUZZ_CHECK(print(w, &b) == 0);
		FUZZ_CHECK(a.len == b.len && !memcmp(a.ptr, b.ptr, a.len));
		json_free(w);
		buf_release(&a);
		buf_release(&b);
		json_free(v);
	}
	if (flags & 1) {
		char *s = strndup(doc, len);
		struct buf b = BUF_INIT(8 * INPUT_MAX);
		if (s && json_add_str(&b, s) == 0) {
			struct json *w = json_parse(b.ptr, b.len, NULL, 0);
			FUZZ_CHECK(w != NULL && w->type == JSON_STRING);
			if (utf8_valid(s, strlen(s)))
				FUZZ_CHECK(!strcmp(w->text, s));
			json_free(w);
		}
		buf_release(&b);
		free(s);
	}
	return 0;
}
