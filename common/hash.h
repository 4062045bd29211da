/*
 * hash — digests over OpenSSL's EVP interface, and the encodings S3 speaks
 * them in (lower-case hex, base64).
 *
 * struct hash is a streaming digest: hash_init, hash_update any number of
 * times, hash_final once (which also releases it); hash_release drops an
 * unfinished one. Each struct belongs to one thread at a time.
 */
#ifndef COMMON_HASH_H
#define COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>

enum hash_alg { HASH_MD5, HASH_SHA1, HASH_SHA256 };

#define HASH_MAX_LEN 32
#define MD5_LEN 16
#define SHA1_LEN 20
#define SHA256_LEN 32

struct hash {
	void *ctx; /* EVP_MD_CTX */
	enum hash_alg alg;
};

int hash_init(struct hash *h, enum hash_alg alg);
int hash_update(struct hash *h, const void *data, size_t len);
/* Writes the digest (16, 20 or 32 bytes) and releases h; returns its length or -1. */
int hash_final(struct hash *h, unsigned char *out);
void hash_release(struct hash *h);

/* One-shot helpers. */
void sha256(const void *data, size_t len, unsigned char out[SHA256_LEN]);
void md5(const void *data, size_t len, unsigned char out[MD5_LEN]);
void hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		 unsigned char out[SHA256_LEN]);
/* SigV2's MAC. */
void hmac_sha1(const void *key, size_t keylen, const void *data, size_t len,
	       unsigned char out[SHA1_LEN]);

/* The value of one hex digit (either case), or -1. */
int hex_digit(char c);
/* Lower-case hex; out must hold 2*len+1 bytes. */
void hex_encode(const unsigned char *in, size_t len, char *out);
/* Parses exactly 2*outlen hex digits (either case); 0 or -1. */
int hex_decode(const char *in, size_t inlen, unsigned char *out, size_t outlen);
/* Standard base64 with padding; out must hold 4*((len+2)/3)+1 bytes. */
void base64_encode(const unsigned char *in, size_t len, char *out);
/* Strict standard base64; returns decoded length, or -1 if malformed or
 * longer than outmax. */
int base64_decode(const char *in, size_t inlen, unsigned char *out, size_t outmax);

/* Constant-time comparison of equal-length secrets. */
int secure_equal(const void *a, const void *b, size_t len);

#endif
