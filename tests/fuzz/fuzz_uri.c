/*
 * fuzz_uri — percent-decoding, query parsing, SigV4's UriEncode and UTF-8
 * validation (common/uri.c), the code every request path and query string
 * goes through before anything else looks at it.
 *
 * Input: a flags byte (bit 0: '+' is a space; bit 1: keep '/' when
 * encoding), then the string.
 *
 * Properties: decoding never grows the string and NUL-terminates it; a
 * parsed query has at most URI_MAX_PARAMS parameters and uri_query_get
 * finds the first of a name; encoding yields only unreserved characters,
 * "%XX" (and '/' when kept) and decodes back to the input byte for byte;
 * utf8_valid agrees with an independent reading of RFC 3629's table;
 * utf8_xml_valid is utf8_valid minus the characters XML 1.0 forbids,
 * decoded here independently of common/uri.c.
 */
#include <string.h>

#include "common/buf.h"
#include "common/uri.h"
#include "tests/fuzz/fuzz.h"

#define INPUT_MAX (64 * 1024)

/* RFC 3629, section 4: the well-formed byte sequences. */
static int utf8_reference(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		unsigned char lo = 0x80, hi = 0xBF;
		size_t n;
		if (c <= 0x7F) { i++; continue; }
		if (c >= 0xC2 && c <= 0xDF) n = 1;
		else if (c == 0xE0) { n = 2; lo = 0xA0; }
		else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) n = 2;
		else if (c == 0xED) { n = 2; hi = 0x9F; }
		else if (c == 0xF0) { n = 3; lo = 0x90; }
		else if (c >= 0xF1 && c <= 0xF3) n = 3;
		else if (c == 0xF4) { n = 3; hi = 0x8F; }
		else return 0;
		if (len - i <= n)
			return 0;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (size_t k = 2; k <= n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xBF)
				return 0;
		i += n + 1;
	}
	return 1;
}

/* XML 1.0's Char production over well-formed UTF-8 (checked first). */
static int xml_reference(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned cp = s[i];
		size_t n = cp < 0x80 ? 0 : cp < 0xE0 ? 1 : cp < 0xF0 ? 2 : 3;
		if (n)
			cp &= 0x3F >> n;
		for (size_t k = 1; k <= n; k++)
			cp = cp << 6 | (s[i + k] & 0x3F);
		if (!(cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
		      (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF)))
			return 0;
		i += n + 1;
	}
	return 1;
}

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static void check_encode(const char *s, size_t len, int keep_slash)
{
	struct buf b = BUF_INIT(3 * INPUT_MAX + 1);
	FUZZ_CHECK(uri_encode(&b, s, len, keep_slash) == 0);
	for (size_t i = 0; i < b.len; i++) {
		unsigned char c = (unsigned char)b.ptr[i];
		if (c == '%') {
			FUZZ_CHECK(i + 2 < b.len);
			FUZZ_CHECK(strchr("0123456789ABCDEF", b.ptr[i + 1]) && b.ptr[i + 1]);
			FUZZ_CHECK(strchr("0123456789ABCDEF", b.ptr[i + 2]) && b.ptr[i + 2]);
			i += 2;
		} else {
			FUZZ_CHECK(unreserved(c) || (keep_slash && c == '/'));
		}
	}
	if (b.ptr) {
		long n = uri_decode_inplace(b.ptr, b.len, 0);
		FUZZ_CHECK(n == (long)len && !memcmp(b.ptr, s, len));
	} else {
		FUZZ_CHECK(len == 0);
	}
	buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > INPUT_MAX)
		return 0;
	int plus = data[0] & 1, keep_slash = (data[0] & 2) != 0;
	size_t len = size - 1;
	char *s = malloc(len + 1);
	if (!s)
		return 0;
	memcpy(s, data + 1, len);
	s[len] = '\0';

	char *d = malloc(len + 1);
	if (!d)
		goto out;
	memcpy(d, s, len + 1);
	long n = uri_decode_inplace(d, len, plus);
	if (n >= 0)
		FUZZ_CHECK((size_t)n <= len && d[n] == '\0');
	if (!memchr(s, '%', len) && !(plus && memchr(s, '+', len)))
		FUZZ_CHECK(n == (long)len && !memcmp(d, s, len));
	free(d);

	struct uri_query q;
	if (uri_query_parse(&q, s) == 0) {
		FUZZ_CHECK(q.n >= 0 && q.n <= URI_MAX_PARAMS);
		for (int i = 0; i < q.n; i++) {
			FUZZ_CHECK(q.p[i].name && q.p[i].value);
			FUZZ_CHECK(q.p[i].has_value || !*q.p[i].value);
			const struct uri_param *first = uri_query_get(&q, q.p[i].name);
			FUZZ_CHECK(first && first <= &q.p[i] && !strcmp(first->name, q.p[i].name));
		}
		uri_query_release(&q);
	}

	check_encode(s, len, keep_slash);
	int utf8 = utf8_reference((const unsigned char *)s, len);
	FUZZ_CHECK(utf8_valid(s, len) == utf8);
	FUZZ_CHECK(utf8_xml_valid(s, len) == (utf8 && xml_reference((const unsigned char *)s, len)));
out:
	free(s);
	return 0;
}
