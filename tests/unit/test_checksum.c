/* S3's checksums (common/checksum.c): the published check values of
 * CRC-32C (RFC 3720 B.4) and CRC-64/NVME (NVM Express, as AWS's SDKs test
 * CRC64NVME), streaming in pieces, and names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/checksum.h"

static void vectors(void **state)
{
	unsigned char zero[32], ones[32], inc[32], dec[32];
	memset(zero, 0, sizeof(zero));
	memset(ones, 0xff, sizeof(ones));
	for (int i = 0; i < 32; i++) {
		inc[i] = (unsigned char)i;
		dec[i] = (unsigned char)(31 - i);
	}
	assert_int_equal(crc32c_update(0, "123456789", 9), 0xe3069283u);
	assert_int_equal(crc32c_update(0, zero, 32), 0x8a9136aau);
	assert_int_equal(crc32c_update(0, ones, 32), 0x62a8ab43u);
	assert_int_equal(crc32c_update(0, inc, 32), 0x46dd794eu);
	assert_int_equal(crc32c_update(0, dec, 32), 0x113fdb5cu);
	assert_true(crc64nvme_update(0, "123456789", 9) == 0xae8b14860a799888ull);
	assert_true(crc64nvme_update(0, zero, 32) == 0xcf3473434d4ecf3bull);
	assert_true(crc64nvme_update(0, ones, 32) == 0xa0a06974c34d63c4ull);
	assert_true(crc64nvme_update(0, inc, 32) == 0xb9d9d4a8492cbd7full);
	assert_int_equal(crc32c_update(0, "", 0), 0);
	assert_true(crc64nvme_update(0, "", 0) == 0);
}

/* The CPU's CRC-32C (where crc32c_update uses it) and the tables agree,
 * at every length and alignment, running or not. */
static void crc32c_paths_agree(void **state)
{
	static unsigned char data[(1 << 20) + 16];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 131 + (i >> 9));
	assert_int_equal(crc32c_update_sw(0, "123456789", 9), 0xe3069283u);
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len < 100; len++)
			assert_int_equal(crc32c_update(0, data + off, len),
					 crc32c_update_sw(0, data + off, len));
	assert_int_equal(crc32c_update(0, data + 3, 1 << 20),
			 crc32c_update_sw(0, data + 3, 1 << 20));
	uint32_t run = crc32c_update(crc32c_update(0, data, 1000), data + 1000, 5000);
	assert_int_equal(run, crc32c_update_sw(0, data, 6000));
}

/* Any split of the input gives the same result as one pass: the slicing
 * loop and the byte loop agree wherever a piece starts and ends. */
static void streaming(void **state)
{
	static const unsigned char want[][8] = {
		[CHECKSUM_CRC32] = { 0xcb, 0xf4, 0x39, 0x26 },
		[CHECKSUM_CRC32C] = { 0xe3, 0x06, 0x92, 0x83 },
		[CHECKSUM_CRC64NVME] = { 0xae, 0x8b, 0x14, 0x86, 0x0a, 0x79, 0x98, 0x88 },
	};
	unsigned char data[1000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7 + 3);
	for (int a = CHECKSUM_CRC32; a <= CHECKSUM_SHA256; a++) {
		struct checksum c;
		unsigned char whole[CHECKSUM_MAX_LEN], pieces[CHECKSUM_MAX_LEN];
		assert_int_equal(checksum_init(&c, (enum checksum_alg)a), 0);
		checksum_update(&c, data, sizeof(data));
		checksum_final(&c, whole);
		for (size_t cut = 1; cut < 20; cut++) {
			assert_int_equal(checksum_init(&c, (enum checksum_alg)a), 0);
			for (size_t off = 0; off < sizeof(data); off += cut)
				checksum_update(&c, data + off,
						off + cut > sizeof(data) ? sizeof(data) - off : cut);
			checksum_final(&c, pieces);
			assert_memory_equal(whole, pieces, checksum_len((enum checksum_alg)a));
		}
		if (a <= CHECKSUM_CRC64NVME) {
			unsigned char out[CHECKSUM_MAX_LEN];
			assert_int_equal(checksum_init(&c, (enum checksum_alg)a), 0);
			checksum_update(&c, "1234", 4);
			checksum_update(&c, "56789", 5);
			checksum_final(&c, out);
			assert_memory_equal(out, want[a], checksum_len((enum checksum_alg)a));
		}
	}
	/* SHA-256 of "abc" (FIPS 180-2) through the same interface */
	struct checksum c;
	unsigned char out[CHECKSUM_MAX_LEN];
	static const unsigned char abc[] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
		0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
		0xf2, 0x00, 0x15, 0xad,
	};
	assert_int_equal(checksum_init(&c, CHECKSUM_SHA256), 0);
	checksum_update(&c, "abc", 3);
	checksum_final(&c, out);
	assert_memory_equal(out, abc, 32);
	assert_int_equal(checksum_init(&c, CHECKSUM_SHA1), 0);
	checksum_release(&c); /* unfinished: dropped */
}

static void names(void **state)
{
	assert_int_equal(checksum_by_name("CRC32"), CHECKSUM_CRC32);
	assert_int_equal(checksum_by_name("crc32c"), CHECKSUM_CRC32C);
	assert_int_equal(checksum_by_name("CRC64NVME"), CHECKSUM_CRC64NVME);
	assert_int_equal(checksum_by_name("sha1"), CHECKSUM_SHA1);
	assert_int_equal(checksum_by_name("SHA256"), CHECKSUM_SHA256);
	assert_int_equal(checksum_by_name("MD5"), CHECKSUM_NONE);
	assert_int_equal(checksum_by_name(""), CHECKSUM_NONE);
	assert_int_equal(checksum_by_name("CRC32 "), CHECKSUM_NONE);
	assert_int_equal(checksum_len(CHECKSUM_CRC64NVME), 8);
	assert_string_equal(checksum_name(CHECKSUM_CRC32C), "CRC32C");
}

/* CRC(A || B) from CRC(A), CRC(B) and len(B), at every split (empty
 * pieces too), against one pass over the bytes. */
static void combine(void **state)
{
	unsigned char data[3000];
	uint64_t out;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 131 + 17);
	for (int a = CHECKSUM_CRC32; a <= CHECKSUM_CRC64NVME; a++) {
		struct checksum c;
		unsigned char raw[CHECKSUM_MAX_LEN];
		uint64_t crc[3];
		size_t n = checksum_len((enum checksum_alg)a);
		const size_t cuts[] = { 0, 1, 7, 8, 9, 1000, 2999, 3000 };
		for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++) {
			const unsigned char *piece[3] = { data, data, data + cuts[k] };
			size_t len[3] = { sizeof(data), cuts[k], sizeof(data) - cuts[k] };
			for (int j = 0; j < 3; j++) {
				assert_int_equal(checksum_init(&c, (enum checksum_alg)a), 0);
				checksum_update(&c, piece[j], len[j]);
				checksum_final(&c, raw);
				crc[j] = 0;
				for (size_t b = 0; b < n; b++)
					crc[j] = crc[j] << 8 | raw[b];
			}
			assert_int_equal(checksum_crc_combine((enum checksum_alg)a, crc[1], crc[2],
							      len[2], &out), 0);
			assert_true(out == crc[0]);
		}
	}
	assert_int_equal(checksum_crc_combine(CHECKSUM_SHA256, 1, 2, 3, &out), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vectors),
		cmocka_unit_test(crc32c_paths_agree),
		cmocka_unit_test(streaming),
		cmocka_unit_test(combine),
		cmocka_unit_test(names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
