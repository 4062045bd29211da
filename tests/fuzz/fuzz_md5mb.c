/*
 * fuzz_md5mb — multi-buffer MD5 (common/md5mb.c) against OpenSSL's.
 *
 * Input: a byte choosing the kernel (low 2 bits: auto, scalar, AVX2,
 * AVX-512; one the CPU lacks falls back to auto), a byte for the number of
 * streams (1..16), then the payload. Stream i hashes the payload from
 * byte i * 7 on (empty past its end): a head of 0..63 bytes and up to the
 * block boundary alone, its whole blocks in md5mb_blocks with the other
 * streams' (so lanes hold streams of unequal lengths and refill), the rest
 * alone again in pieces whose lengths the payload's bytes give.
 *
 * Property: every stream's digest is OpenSSL's MD5 of its bytes.
 */
#include <string.h>

#include "common/hash.h"
#include "common/md5mb.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct md5mb_ctx ctx[MD5MB_MAX_LANES];
	struct md5mb_job jobs[MD5MB_MAX_LANES];
	const uint8_t *p[MD5MB_MAX_LANES];
	size_t len[MD5MB_MAX_LANES];
	if (size < 2 || size > 1 << 16)
		return 0;
	int n = data[1] % MD5MB_MAX_LANES + 1;
	const uint8_t *pay = data + 2;
	size_t plen = size - 2;
	md5mb_force((enum md5mb_impl)(data[0] & 3));
	for (int i = 0; i < n; i++) {
		size_t skip = (size_t)i * 7 < plen ? (size_t)i * 7 : plen;
		p[i] = pay + skip;
		len[i] = plen - skip;
		size_t head = (size_t)(data[0] >> 2) + (size_t)i;
		head = head < len[i] ? head : len[i];
		head += (64 - head % 64) % 64;
		head = head < len[i] ? head : len[i];
		md5mb_init(&ctx[i]);
		md5mb_update(&ctx[i], p[i], head);
		jobs[i] = (struct md5mb_job){ .ctx = &ctx[i], .p = p[i] + head,
					      .nblocks = head % 64 ? 0 : (len[i] - head) / 64 };
	}
	md5mb_blocks(jobs, n);
	for (int i = 0; i < n; i++) {
		unsigned char want[16], got[16];
		size_t off = (size_t)(jobs[i].p - p[i]) + jobs[i].nblocks * 64;
		for (size_t k = 0; off < len[i]; k++) {
			size_t piece = 1 + (size_t)p[i][k % len[i]] * 3;
			piece = piece < len[i] - off ? piece : len[i] - off;
			md5mb_update(&ctx[i], p[i] + off, piece);
			off += piece;
		}
		md5mb_final(&ctx[i], got);
		md5(p[i], len[i], want);
		FUZZ_CHECK(!memcmp(got, want, 16));
	}
	md5mb_force(MD5MB_AUTO);
	return 0;
}
