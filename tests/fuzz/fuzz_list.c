/*
 * fuzz_list — the list requests' parameters: ListObjects / ListObjectsV2's
 * max-keys and continuation-token (s3_list_max_keys, s3_list_token_decode
 * in s3/s3_list.c), ListParts' max-parts and part-number-marker, ListMulti-
 * partUploads' max-uploads and UploadPart's partNumber (s3_parse_count in
 * s3/s3_multipart.c), and the prefix's upper bound the core scans to
 * (key_successor).
 *
 * Input: a query string, parsed as the router parses it (uri_query_parse);
 * every parameter's value is read as each of the above.
 *
 * Properties: max-keys is 0..1000 and exactly the decimal's value when it
 * is at most 1000 (absent: 1000); counts likewise within their cap; a
 * decoded token fits its buffer, NUL-terminated, and is the token itself
 * unless it has the "atr1." prefix; a key encoded the way NextContinuation-
 * Token is decodes back to itself (up to its first NUL); a prefix's
 * successor is above every key that starts with the prefix.
 */
#include <string.h>

#include "common/hash.h"
#include "common/uri.h"
#include "s3/s3_int.h"
#include "src/core_int.h"
#include "tests/fuzz/fuzz.h"

#define INPUT_MAX (16 * 1024)

static int is_decimal(const char *v)
{
	return *v && strspn(v, "0123456789") == strlen(v);
}

/* The value a decimal stands for, capped (it may be long). */
static long capped(const char *v, long cap)
{
	long n = 0;
	for (; *v; v++) {
		n = n * 10 + (*v - '0');
		if (n > cap)
			return cap;
	}
	return n;
}

static void check_counts(const char *v)
{
	int max = -1;
	FUZZ_CHECK(s3_list_max_keys(NULL, &max) == 0 && max == 1000);
	if (s3_list_max_keys(v, &max) == 0) {
		FUZZ_CHECK(is_decimal(v) && max == capped(v, 1000));
	} else {
		FUZZ_CHECK(!is_decimal(v));
	}
	static const long caps[] = { 1000, ATR_PART_MAX, ATR_PART_MAX + 1 };
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		long n = -1;
		if (s3_parse_count(v, caps[i], &n) == 0)
			FUZZ_CHECK(is_decimal(v) && n == capped(v, caps[i]));
		else
			FUZZ_CHECK(!is_decimal(v));
	}
}

static void check_token(const char *v)
{
	char out[ATR_KEY_MAX + 2];
	memset(out, 'x', sizeof(out));
	if (s3_list_token_decode(v, out, sizeof(out)) == 0) {
		FUZZ_CHECK(memchr(out, '\0', sizeof(out)));
		if (strncmp(v, "atr1.", 5))
			FUZZ_CHECK(!strcmp(out, v));
	} else {
		FUZZ_CHECK(!strncmp(v, "atr1.", 5) || strlen(v) >= sizeof(out));
	}
	/* The token s3_list_objects would hand out for v as the next key. */
	size_t n = strlen(v);
	if (n > ATR_KEY_MAX)
		return;
	char tok[5 + 4 * (ATR_KEY_MAX / 3 + 1) + 1];
	memcpy(tok, "atr1.", 5);
	base64_encode((const unsigned char *)v, n, tok + 5);
	FUZZ_CHECK(s3_list_token_decode(tok, out, sizeof(out)) == 0 && !strcmp(out, v));
}

static void check_prefix(const char *v)
{
	char up[ATR_KEY_MAX + 2], key[ATR_KEY_MAX + 2];
	size_t n = strlen(v);
	if (n > ATR_KEY_MAX || key_successor(v, up, sizeof(up)))
		return;
	FUZZ_CHECK(strcmp(up, v) > 0);
	/* Any key under the prefix sorts before it: the prefix itself, and
	 * the prefix followed by the highest bytes. */
	memcpy(key, v, n);
	memset(key + n, 0xff, sizeof(key) - 1 - n);
	key[sizeof(key) - 1] = '\0';
	FUZZ_CHECK(strcmp(key, up) < 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstring(data, size, INPUT_MAX);
	if (!s)
		return 0;
	struct uri_query q;
	if (uri_query_parse(&q, s) == 0) {
		for (int i = 0; i < q.n; i++) {
			const char *v = q.p[i].value ? q.p[i].value : "";
			check_counts(v);
			check_token(v);
			check_prefix(v);
		}
		uri_query_release(&q);
	}
	free(s);
	return 0;
}
