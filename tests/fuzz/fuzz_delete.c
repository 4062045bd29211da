/*
 * fuzz_delete — the DeleteObjects body reader (s3_delete_parse in
 * s3/s3_delete.c) over arbitrary bodies.
 *
 * Input: the body. Properties (its contract in s3_int.h): on error it is
 * MalformedXML (or SlowDown) and nothing is returned; on success 1 to
 * S3_DELETE_KEYS_MAX objects, each with a non-empty Key; the result written
 * back as a <Delete> body (keys and versions escaped the way DeleteResult
 * escapes them) reads back to the same keys, versions (present or not) and
 * Quiet flag; and one more <Object> past the limit is refused. Nothing
 * leaks.
 */
#include <string.h>

#include "common/buf.h"
#include "s3/s3_int.h"
#include "tests/fuzz/fuzz.h"

#define INPUT_MAX (2u << 20) /* DELETE_BODY_MAX */

static void write_back(struct buf *b, const struct s3_delete_obj *v, int n, int quiet, int extra)
{
	FUZZ_CHECK(!buf_addstr(b, "<Delete>"));
	FUZZ_CHECK(!s3_xml_elem(b, "Quiet", quiet ? "true" : "false"));
	for (int i = 0; i < n + extra; i++) {
		FUZZ_CHECK(!buf_addstr(b, "<Object>"));
		FUZZ_CHECK(!s3_xml_elem(b, "Key", i < n ? v[i].key : "extra"));
		if (i < n && v[i].version)
			FUZZ_CHECK(!s3_xml_elem(b, "VersionId", v[i].version));
		FUZZ_CHECK(!buf_addstr(b, "</Object>"));
	}
	FUZZ_CHECK(!buf_addstr(b, "</Delete>"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct s3_delete_obj *v = (struct s3_delete_obj *)1, *w = NULL;
	int n = -1, quiet = -1, m = -1, quiet2 = -1;
	if (size > INPUT_MAX)
		return 0;
	enum s3_err e = s3_delete_parse((const char *)data, size, &v, &n, &quiet);
	if (e) {
		FUZZ_CHECK(e == S3_ERR_MALFORMED_XML || e == S3_ERR_SLOW_DOWN);
		FUZZ_CHECK(v == NULL && n == 0);
		return 0;
	}
	FUZZ_CHECK(v && n >= 1 && n <= S3_DELETE_KEYS_MAX && (quiet == 0 || quiet == 1));
	for (int i = 0; i < n; i++)
		FUZZ_CHECK(v[i].key && *v[i].key);

	struct buf b = BUF_INIT(64u << 20);
	write_back(&b, v, n, quiet, 0);
	FUZZ_CHECK(s3_delete_parse(b.ptr, b.len, &w, &m, &quiet2) == S3_ERR_OK);
	FUZZ_CHECK(m == n && quiet2 == quiet);
	for (int i = 0; i < n; i++) {
		FUZZ_CHECK(!strcmp(w[i].key, v[i].key));
		FUZZ_CHECK(!w[i].version == !v[i].version);
		FUZZ_CHECK(!v[i].version || !strcmp(w[i].version, v[i].version));
	}
	s3_delete_free(w, m);

	/* The limit: one more object than S3_DELETE_KEYS_MAX is refused. */
	if (n > S3_DELETE_KEYS_MAX - 3) {
		b.len = 0;
		write_back(&b, v, n, quiet, S3_DELETE_KEYS_MAX + 1 - n);
		w = (struct s3_delete_obj *)1;
		FUZZ_CHECK(s3_delete_parse(b.ptr, b.len, &w, &m, &quiet2) == S3_ERR_MALFORMED_XML);
		FUZZ_CHECK(w == NULL && m == 0);
	}
	buf_release(&b);
	s3_delete_free(v, n);
	return 0;
}
