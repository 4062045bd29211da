/*
 * crypt_int.h — the on-disk format of an object encrypted at rest (S3's
 * SSE-S3 and SSE-C), and nothing else: no key files, no metadata, no
 * under-storage. Pure functions over OpenSSL EVP (AES-256-GCM, HMAC-SHA256,
 * RAND_bytes), unit-tested in tests/unit/test_crypt.c.
 *
 * A file is a header, then the plaintext cut in chunks of CRYPT_CHUNK
 * bytes (the last one shorter, or empty for an empty object), each
 * encrypted with AES-256-GCM and followed by its 16-byte tag:
 *
 *   [header CRYPT_HDR][chunk 0 ct | tag][chunk 1 ct | tag]...[chunk n-1 ct | tag]
 *
 * so chunk i starts at CRYPT_HDR + i * (CRYPT_CHUNK + CRYPT_TAG) and any
 * byte range is read by decrypting only the chunks it touches (range GETs
 * and the mount stay random-access).
 *
 *   - The data key: 32 random bytes per object, never stored in the clear;
 *     the header holds it wrapped (AES-256-GCM) by the wrapping key: a
 *     master key of DATA/sse.keys (SSE-S3, its id in the header) or the
 *     client's own key (SSE-C). The wrap's additional data is the header
 *     before it, so a header changed in any byte fails to unwrap.
 *   - Nonces: the object's 8 random bytes, then the chunk index (32-bit
 *     big-endian). A data key serves one object only and the index is
 *     unique within it, so no (key, nonce) pair is ever used twice.
 *   - Each chunk's additional data is its index (64-bit big-endian) and a
 *     final flag: a chunk moved to another place, a file cut after any
 *     chunk, or a chunk appended after the final one fails to decrypt.
 *   - SSE-C: the client's key is never stored; the header holds a random
 *     salt and HMAC-SHA256(salt, key), so a later request's key is checked
 *     (in constant time) before anything is decrypted.
 *
 * Segments. A multipart upload's parts are encrypted as they arrive, each
 * a stream of its own (own data key); the completed object is their
 * streams one after the other, as they were stored, so a completion needs
 * no key and no second pass. Such a stream's header is version 2
 * ("ATRSSE2"): it holds its part number and its upload's tag (8 bytes of
 * SHA-256 of the upload id, crypt_upload_tag) in place of the random
 * nonce prefix (the data key is the segment's own: its nonces stay
 * unique). Both are before the wrap, so authenticated by it: a reader
 * checks that segment i says part i + 1 and the tag of segment 0, so no
 * segment can be moved, doubled, dropped or taken from another upload
 * (docs/architecture.md, "Encryption at rest", has the argument). Where
 * segments start is not in the file: the object's part sizes (meta.db)
 * give it, each crypt_file_size(part size) long.
 *
 * Header layout (all integers big-endian):
 *   0  magic "ATRSSE1\0"       8  ("ATRSSE2\0": a segment)
 *   8  type (CRYPT_SSE_*)      1, then 1 zero byte
 *  10  part number             2  (a segment's, 1..10000; else 0)
 *  12  key id (SSE-S3)         4
 *  16  nonce prefix            8  (a segment: its upload's tag)
 *  24  SSE-C salt             16 (zero for SSE-S3)
 *  40  SSE-C HMAC             32 (zero for SSE-S3)
 *  72  wrap IV                12
 *  84  wrapped data key       32
 * 116  wrap tag               16
 * 132
 *
 * Thread safety: a struct crypt_w or crypt_r belongs to one thread at a
 * time; distinct ones are independent.
 */
#ifndef SRC_CRYPT_INT_H
#define SRC_CRYPT_INT_H

#include <stddef.h>
#include <stdint.h>

#define CRYPT_CHUNK 65536u
#define CRYPT_TAG 16u
#define CRYPT_HDR 132u
#define CRYPT_KEY 32u
#define CRYPT_SALT 16u
#define CRYPT_MAC 32u
/* The ciphertext of one chunk with its tag. */
#define CRYPT_CHUNK_CT (CRYPT_CHUNK + CRYPT_TAG)

enum crypt_type { CRYPT_NONE = 0, CRYPT_SSE_S3 = 1, CRYPT_SSE_C = 2 };

/* Errors (0 = OK). */
enum {
	CRYPT_OK = 0,
	CRYPT_E_FORMAT = -1,  /* not a header of ours, or a size no file of ours has */
	CRYPT_E_KEY = -2,     /* the wrapping key does not open this header */
	CRYPT_E_AUTH = -3,    /* a chunk failed authentication: tampered, cut, moved */
	CRYPT_E_NOMEM = -4,
	CRYPT_E_SSL = -5,     /* OpenSSL failed (RAND_bytes, a context) */
};

/* The size of the file holding plain bytes (deterministic). */
uint64_t crypt_file_size(uint64_t plain);
/* The plain size of a file of file bytes; CRYPT_E_FORMAT if no file has it. */
int crypt_plain_size(uint64_t file, uint64_t *plain);
/* The number of chunks of an object of plain bytes (1 for an empty one). */
uint64_t crypt_chunks(uint64_t plain);

/* What a header says in the clear. */
#define CRYPT_UPLOAD 8
struct crypt_hdr {
	int type;
	uint32_t key_id;
	int part;                             /* a segment's part number; else 0 */
	unsigned char upload[CRYPT_UPLOAD];   /* a segment's upload tag */
};
/* Checks the magic and the type; CRYPT_E_FORMAT if it is not ours. */
int crypt_hdr_parse(const unsigned char raw[CRYPT_HDR], struct crypt_hdr *out);
/* SSE-C: whether key is the one the header was made with (salted HMAC,
 * compared in constant time): CRYPT_OK or CRYPT_E_KEY. */
int crypt_hdr_check_key(const unsigned char raw[CRYPT_HDR], const unsigned char key[CRYPT_KEY]);

/* SSE-C multipart: a check of a customer key kept without the key (an
 * upload's, in meta.db): a random salt, then HMAC-SHA256(salt, key), as a
 * header holds them. make draws the salt (CRYPT_E_SSL if it cannot);
 * check compares in constant time: CRYPT_OK or CRYPT_E_KEY. */
#define CRYPT_CHECK (CRYPT_SALT + CRYPT_MAC)
int crypt_key_check_make(const unsigned char key[CRYPT_KEY], unsigned char out[CRYPT_CHECK]);
int crypt_key_check(const unsigned char check[CRYPT_CHECK], const unsigned char key[CRYPT_KEY]);

/*
 * Encrypting a stream. crypt_w_new draws the data key, the nonce prefix
 * (and for SSE-C the salt), and writes the header into hdr; then write
 * takes any number of bytes, handing whole encrypted chunks to emit, and
 * finish emits the last (final) chunk. emit returns 0, or an error that
 * write/finish return as is. A chunk is held back until a byte after it
 * arrives (or finish), since only then is it known not to be the last.
 */
struct crypt_w;
typedef int (*crypt_emit_fn)(void *arg, const void *data, size_t len);
int crypt_w_new(int type, uint32_t key_id, const unsigned char wrap_key[CRYPT_KEY],
		unsigned char hdr[CRYPT_HDR], struct crypt_w **out);
/* A segment: part (1..65535) of the upload whose tag is upload. */
int crypt_w_new_part(int type, uint32_t key_id, const unsigned char wrap_key[CRYPT_KEY],
		     int part, const unsigned char upload[CRYPT_UPLOAD],
		     unsigned char hdr[CRYPT_HDR], struct crypt_w **out);
/* The tag of the upload named upload_id its segments carry. */
void crypt_upload_tag(const char *upload_id, unsigned char out[CRYPT_UPLOAD]);
int crypt_w_write(struct crypt_w *w, const void *data, size_t len, crypt_emit_fn emit,
		  void *arg);
int crypt_w_finish(struct crypt_w *w, crypt_emit_fn emit, void *arg);
void crypt_w_free(struct crypt_w *w);

/*
 * Decrypting any chunk of an object of plain bytes. crypt_r_new unwraps
 * the data key (CRYPT_E_KEY if wrap_key is not the one, CRYPT_E_FORMAT
 * for a header not ours); crypt_r_chunk decrypts chunk index from its
 * ciphertext ct (its plain length plus CRYPT_TAG bytes) into pt
 * (CRYPT_CHUNK bytes), returning its plain length, or CRYPT_E_AUTH.
 */
struct crypt_r;
int crypt_r_new(const unsigned char hdr[CRYPT_HDR], const unsigned char wrap_key[CRYPT_KEY],
		uint64_t plain, struct crypt_r **out);
/* The bytes of chunk index's ciphertext (with its tag), and where it
 * starts in the file. */
size_t crypt_r_chunk_len(const struct crypt_r *r, uint64_t index);
uint64_t crypt_chunk_offset(uint64_t index);
int crypt_r_chunk(struct crypt_r *r, uint64_t index, const unsigned char *ct, size_t ct_len,
		  unsigned char *pt);
void crypt_r_free(struct crypt_r *r);

#endif
