/*
 * checksum — the whole-body checksums S3 clients send (x-amz-checksum-*):
 * CRC32, CRC32C, CRC64NVME, SHA-1 and SHA-256, behind one streaming
 * interface: checksum_init, checksum_update any number of times,
 * checksum_final once (which releases it); checksum_release drops an
 * unfinished one. Results are big-endian bytes, as S3 base64-encodes them.
 *
 * CRC32 is zlib's. CRC32C (Castagnoli) and CRC64NVME are computed here,
 * slicing-by-8 over tables built once (no Debian 12 library offers either
 * for C: zlib has only CRC32, OpenSSL none); CRC32C with SSE4.2's
 * instruction where the CPU has it. Each struct belongs to one
 * thread at a time; the tables are read-only once built.
 */
#ifndef COMMON_CHECKSUM_H
#define COMMON_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

#include "common/hash.h"

enum checksum_alg {
	CHECKSUM_NONE,
	CHECKSUM_CRC32,
	CHECKSUM_CRC32C,
	CHECKSUM_CRC64NVME,
	CHECKSUM_SHA1,
	CHECKSUM_SHA256,
};

#define CHECKSUM_MAX_LEN 32

struct checksum {
	enum checksum_alg alg;
	uint64_t crc;
	struct hash h; /* SHA-1, SHA-256 */
};

/* "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256" (S3's names, any
 * case) or CHECKSUM_NONE. */
enum checksum_alg checksum_by_name(const char *name);
/* The upper-case name; lower-cased it completes "x-amz-checksum-". */
const char *checksum_name(enum checksum_alg alg);
/* Bytes of the result: 4, 8, 20 or 32 (0 for CHECKSUM_NONE). */
size_t checksum_len(enum checksum_alg alg);

int checksum_init(struct checksum *c, enum checksum_alg alg);
void checksum_update(struct checksum *c, const void *data, size_t len);
/* Writes checksum_len(alg) bytes and releases c. */
void checksum_final(struct checksum *c, unsigned char *out);
void checksum_release(struct checksum *c);

/* The CRC (CRC32, CRC32C or CRC64NVME, as an integer: the big-endian
 * bytes checksum_final writes) of A || B from crc1 = CRC(A), crc2 = CRC(B)
 * and len2 = length of B in bytes, without the bytes: S3's FULL_OBJECT
 * checksum of a multipart object from its parts' CRCs. -1 for another
 * algorithm. */
int checksum_crc_combine(enum checksum_alg alg, uint64_t crc1, uint64_t crc2, uint64_t len2,
			 uint64_t *out);

/* The raw CRCs, for a running value: start from 0. crc32c_update uses
 * the CPU's instruction where there is one (x86-64 SSE4.2);
 * crc32c_update_sw is the tables, on every CPU (and for the tests). */
uint32_t crc32c_update(uint32_t crc, const void *data, size_t len);
uint32_t crc32c_update_sw(uint32_t crc, const void *data, size_t len);
uint64_t crc64nvme_update(uint64_t crc, const void *data, size_t len);

#endif
