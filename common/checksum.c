/* checksum — see checksum.h. */
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

#include "common/checksum.h"
#include "common/banned.h"

/* Reflected polynomials: CRC-32C (iSCSI, RFC 3720) and CRC-64/NVME (the
 * NVM Express spec's, AWS's CRC64NVME). Both start from all ones and
 * finish inverted. */
#define POLY32C 0x82f63b78u
#define POLY64NVME 0x9a6c9329ac4bc9b5ull

static uint32_t t32c[8][256];
static uint64_t t64[8][256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_build(void)
{
	for (unsigned i = 0; i < 256; i++) {
		uint32_t c = i;
		uint64_t d = i;
		for (int k = 0; k < 8; k++) {
			c = c & 1 ? c >> 1 ^ POLY32C : c >> 1;
			d = d & 1 ? d >> 1 ^ POLY64NVME : d >> 1;
		}
		t32c[0][i] = c;
		t64[0][i] = d;
	}
	for (unsigned i = 0; i < 256; i++)
		for (int s = 1; s < 8; s++) {
			t32c[s][i] = t32c[s - 1][i] >> 8 ^ t32c[0][t32c[s - 1][i] & 0xff];
			t64[s][i] = t64[s - 1][i] >> 8 ^ t64[0][t64[s - 1][i] & 0xff];
		}
}

uint32_t crc32c_update_sw(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t c = ~crc;
	pthread_once(&tables_once, tables_build);
	while (len >= 8) {
		uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
				   (uint32_t)p[3] << 24);
		c = t32c[7][lo & 0xff] ^ t32c[6][lo >> 8 & 0xff] ^ t32c[5][lo >> 16 & 0xff] ^
		    t32c[4][lo >> 24] ^ t32c[3][p[4]] ^ t32c[2][p[5]] ^ t32c[1][p[6]] ^
		    t32c[0][p[7]];
		p += 8;
		len -= 8;
	}
	while (len--)
		c = c >> 8 ^ t32c[0][(c ^ *p++) & 0xff];
	return ~c;
}

#if defined(__x86_64__)
/* SSE4.2's crc32 instruction is CRC-32C: about three times the tables'
 * speed here (7.3 against 2.6 GB/s), which the disk cache tier, checking
 * every 1 MiB block it serves, notices. */
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const void *data,
							  size_t len)
{
	const unsigned char *p = data;
	uint64_t c = (uint32_t)~crc;
	while (len >= 8) {
		uint64_t v;
		memcpy(&v, p, 8); /* unaligned, little-endian as the instruction wants */
		c = _mm_crc32_u64(c, v);
		p += 8;
		len -= 8;
	}
	while (len--)
		c = _mm_crc32_u8((uint32_t)c, *p++);
	return ~(uint32_t)c;
}
#endif

uint32_t crc32c_update(uint32_t crc, const void *data, size_t len)
{
#if defined(__x86_64__)
	if (__builtin_cpu_supports("sse4.2"))
		return crc32c_hw(crc, data, len);
#endif
	return crc32c_update_sw(crc, data, len);
}

uint64_t crc64nvme_update(uint64_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t c = ~crc;
	pthread_once(&tables_once, tables_build);
	while (len >= 8) {
		uint64_t v = 0;
		for (int k = 7; k >= 0; k--)
			v = v << 8 | p[k];
		v ^= c;
		c = t64[7][v & 0xff] ^ t64[6][v >> 8 & 0xff] ^ t64[5][v >> 16 & 0xff] ^
		    t64[4][v >> 24 & 0xff] ^ t64[3][v >> 32 & 0xff] ^ t64[2][v >> 40 & 0xff] ^
		    t64[1][v >> 48 & 0xff] ^ t64[0][v >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		c = c >> 8 ^ t64[0][(c ^ *p++) & 0xff];
	return ~c;
}

static const struct {
	const char *name;
	size_t len;
} algs[] = {
	[CHECKSUM_NONE] = { "", 0 },
	[CHECKSUM_CRC32] = { "CRC32", 4 },
	[CHECKSUM_CRC32C] = { "CRC32C", 4 },
	[CHECKSUM_CRC64NVME] = { "CRC64NVME", 8 },
	[CHECKSUM_SHA1] = { "SHA1", SHA1_LEN },
	[CHECKSUM_SHA256] = { "SHA256", SHA256_LEN },
};

enum checksum_alg checksum_by_name(const char *name)
{
	for (size_t i = 1; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (!strcasecmp(name, algs[i].name))
			return (enum checksum_alg)i;
	return CHECKSUM_NONE;
}

const char *checksum_name(enum checksum_alg alg) { return algs[alg].name; }
size_t checksum_len(enum checksum_alg alg) { return algs[alg].len; }

/*
 * CRC combination (zlib's crc32_combine, generalised): for a reflected CRC
 * with all-ones start and final inversion, crc(A || B) =
 * crc(A) * x^(8 * len(B)) mod P  xor  crc(B), the product taken in GF(2)
 * modulo the polynomial. In the reflected form the top bit is x^0.
 */
static uint64_t gf2_mulmod(uint64_t a, uint64_t b, uint64_t poly, int width)
{
	uint64_t m = 1ull << (width - 1), p = 0;
	if (!a)
		return 0;
	for (;;) {
		if (a & m) {
			p ^= b;
			if (!(a & (m - 1)))
				break;
		}
		m >>= 1;
		b = b & 1 ? b >> 1 ^ poly : b >> 1;
	}
	return p;
}

int checksum_crc_combine(enum checksum_alg alg, uint64_t crc1, uint64_t crc2, uint64_t len2,
			 uint64_t *out)
{
	uint64_t poly;
	int width = 32;
	switch (alg) {
	case CHECKSUM_CRC32: poly = 0xedb88320u; break;
	case CHECKSUM_CRC32C: poly = POLY32C; break;
	case CHECKSUM_CRC64NVME: poly = POLY64NVME; width = 64; break;
	default: return -1;
	}
	/* x^(8 * len2) by squaring: base runs through x^8, x^16, x^32... */
	uint64_t x0 = 1ull << (width - 1), xpow = x0, base = x0 >> 8;
	for (uint64_t n = len2; n; n >>= 1) {
		if (n & 1)
			xpow = gf2_mulmod(xpow, base, poly, width);
		base = gf2_mulmod(base, base, poly, width);
	}
	*out = gf2_mulmod(xpow, crc1, poly, width) ^ crc2;
	return 0;
}

int checksum_init(struct checksum *c, enum checksum_alg alg)
{
	c->alg = alg;
	c->crc = 0;
	if (alg == CHECKSUM_SHA1)
		return hash_init(&c->h, HASH_SHA1);
	if (alg == CHECKSUM_SHA256)
		return hash_init(&c->h, HASH_SHA256);
	return alg == CHECKSUM_NONE ? -1 : 0;
}

void checksum_update(struct checksum *c, const void *data, size_t len)
{
	switch (c->alg) {
	case CHECKSUM_CRC32:
		/* zlib takes uInt lengths */
		for (const unsigned char *p = data; len;) {
			uInt n = len > (1u << 30) ? 1u << 30 : (uInt)len;
			c->crc = crc32((uLong)c->crc, p, n);
			p += n;
			len -= n;
		}
		break;
	case CHECKSUM_CRC32C:
		c->crc = crc32c_update((uint32_t)c->crc, data, len);
		break;
	case CHECKSUM_CRC64NVME:
		c->crc = crc64nvme_update(c->crc, data, len);
		break;
	case CHECKSUM_SHA1:
	case CHECKSUM_SHA256:
		hash_update(&c->h, data, len);
		break;
	case CHECKSUM_NONE:
		break;
	}
}

void checksum_final(struct checksum *c, unsigned char *out)
{
	size_t n = algs[c->alg].len;
	if (c->alg == CHECKSUM_SHA1 || c->alg == CHECKSUM_SHA256) {
		hash_final(&c->h, out);
		return;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)(c->crc >> (8 * (n - 1 - i)));
}

void checksum_release(struct checksum *c)
{
	if (c->alg == CHECKSUM_SHA1 || c->alg == CHECKSUM_SHA256)
		hash_release(&c->h);
	c->alg = CHECKSUM_NONE;
}
