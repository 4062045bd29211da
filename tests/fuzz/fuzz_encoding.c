/*
 * fuzz_encoding — hex and base64 decoding (common/hash.c): Content-MD5,
 * signatures and payload hashes arrive in them.
 *
 * Input: a selector byte (bit 0: hex, else base64), the most bytes the
 * caller accepts (base64: 0..255), then the text.
 *
 * Properties: both decoders agree with independent reference decoders
 * written here (same acceptance, same bytes); base64_decode never writes
 * more than outmax; encoding any bytes and decoding them gives them back.
 */
#include <string.h>

#include "common/hash.h"
#include "tests/fuzz/fuzz.h"

#define INPUT_MAX 8192
#define B64_TMP_MAX (3 * 1024) /* base64_decode's bound on decoded bytes */

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

/* RFC 4648 with padding; bits under the padding are ignored. */
static long b64_reference(const unsigned char *in, size_t len, unsigned char *out, size_t max)
{
	size_t pad = 0, o = 0;
	if (len == 0)
		return 0;
	if (len % 4)
		return -1;
	if (in[len - 1] == '=')
		pad = in[len - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < len - pad; i++)
		if (b64_value(in[i]) < 0)
			return -1;
	size_t n = len / 4 * 3 - pad;
	if (n > max || len / 4 * 3 > B64_TMP_MAX)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		unsigned v = 0;
		for (int k = 0; k < 4; k++)
			v = v << 6 | (unsigned)(in[i + k] == '=' ? 0 : b64_value(in[i + k]));
		unsigned char b[3] = { (unsigned char)(v >> 16), (unsigned char)(v >> 8),
				       (unsigned char)v };
		for (int k = 0; k < 3 && o < n; k++)
			out[o++] = b[k];
	}
	return (long)n;
}

static void check_hex(const uint8_t *in, size_t len)
{
	static unsigned char out[INPUT_MAX / 2 + 1];
	static char again[INPUT_MAX + 1];
	int ok = len % 2 == 0;
	for (size_t i = 0; i < len && ok; i++)
		ok = strchr("0123456789abcdefABCDEF", in[i]) && in[i];
	int rc = hex_decode((const char *)in, len, out, len / 2);
	FUZZ_CHECK((rc == 0) == ok);
	if (rc == 0) {
		hex_encode(out, len / 2, again);
		for (size_t i = 0; i < len; i++)
			FUZZ_CHECK(again[i] == (in[i] >= 'A' && in[i] <= 'F' ? in[i] + 32 : in[i]));
	}
	/* A length that is not twice outlen is refused. */
	if (len > 0)
		FUZZ_CHECK(hex_decode((const char *)in, len, out, (len + 1) / 2 + 1) == -1);
}

static void check_base64(const uint8_t *in, size_t len, size_t max)
{
	static unsigned char got[INPUT_MAX + 16], want[INPUT_MAX];
	static char enc[4 * (INPUT_MAX / 3 + 2) + 1];
	memset(got, 0xee, sizeof(got));
	int n = base64_decode((const char *)in, len, got, max);
	long r = b64_reference(in, len, want, max);
	FUZZ_CHECK(n == r);
	if (n > 0)
		FUZZ_CHECK(!memcmp(got, want, (size_t)n));
	for (size_t i = n > 0 ? (size_t)n : 0; i < sizeof(got); i++)
		FUZZ_CHECK(got[i] == 0xee); /* nothing past what was decoded */

	size_t m = len < B64_TMP_MAX ? len : B64_TMP_MAX;
	base64_encode(in, m, enc);
	FUZZ_CHECK(strlen(enc) == 4 * ((m + 2) / 3));
	n = base64_decode(enc, strlen(enc), got, m);
	FUZZ_CHECK(n == (int)m && !memcmp(got, in, m));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size - 2 > INPUT_MAX)
		return 0;
	if (data[0] & 1)
		check_hex(data + 2, size - 2);
	else
		check_base64(data + 2, size - 2, data[1]);
	return 0;
}
