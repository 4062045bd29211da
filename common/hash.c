#include "common/hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <pthread.h>
#include <string.h>
#include "common/banned.h"

/*
 * OpenSSL 3 looks an algorithm up in its provider store at every use of
 * EVP_sha256() and friends, and HMAC() fetches the MAC as well: on a small
 * signed GET that was most of the time SigV4 took. The digests and the MAC
 * are fetched once, the first time one is needed, and kept for the life
 * of the process (the legacy objects remain the fallback).
 */
static struct {
	pthread_once_t once;
	const EVP_MD *md5, *sha1, *sha256;
	EVP_MAC *hmac;
} fetched = { .once = PTHREAD_ONCE_INIT };

static void fetch_all(void)
{
	EVP_MD *md;
	fetched.md5 = (md = EVP_MD_fetch(NULL, "MD5", NULL)) ? md : EVP_md5();
	fetched.sha1 = (md = EVP_MD_fetch(NULL, "SHA1", NULL)) ? md : EVP_sha1();
	fetched.sha256 = (md = EVP_MD_fetch(NULL, "SHA256", NULL)) ? md : EVP_sha256();
	fetched.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

static const EVP_MD *md_of(enum hash_alg alg)
{
	pthread_once(&fetched.once, fetch_all);
	switch (alg) {
	case HASH_MD5: return fetched.md5;
	case HASH_SHA1: return fetched.sha1;
	case HASH_SHA256: return fetched.sha256;
	}
	return NULL;
}

/* HMAC with the fetched MAC; HMAC() when it could not be fetched. */
static void hmac(enum hash_alg alg, const void *key, size_t keylen, const void *data,
		 size_t len, unsigned char *out, size_t outlen)
{
	const EVP_MD *md = md_of(alg);
	EVP_MAC_CTX *ctx = fetched.hmac ? EVP_MAC_CTX_new(fetched.hmac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string("digest", (char *)EVP_MD_get0_name(md), 0),
		OSSL_PARAM_construct_end(),
	};
	size_t n = 0;
	if (!ctx || !EVP_MAC_init(ctx, key, keylen, params) ||
	    !EVP_MAC_update(ctx, data, len) || !EVP_MAC_final(ctx, out, &n, outlen)) {
		unsigned int m = (unsigned int)outlen;
		HMAC(md, key, (int)keylen, data, len, out, &m);
	}
	EVP_MAC_CTX_free(ctx);
}

int hash_init(struct hash *h, enum hash_alg alg)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	h->ctx = ctx;
	h->alg = alg;
	if (!ctx || !EVP_DigestInit_ex(ctx, md_of(alg), NULL)) {
		EVP_MD_CTX_free(ctx);
		h->ctx = NULL;
		return -1;
	}
	return 0;
}

int hash_update(struct hash *h, const void *data, size_t len)
{
	return EVP_DigestUpdate(h->ctx, data, len) ? 0 : -1;
}

int hash_final(struct hash *h, unsigned char *out)
{
	unsigned int n = 0;
	int ok = EVP_DigestFinal_ex(h->ctx, out, &n);
	hash_release(h);
	return ok ? (int)n : -1;
}

void hash_release(struct hash *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

void sha256(const void *data, size_t len, unsigned char out[SHA256_LEN])
{
	EVP_Digest(data, len, out, NULL, md_of(HASH_SHA256), NULL);
}

void md5(const void *data, size_t len, unsigned char out[MD5_LEN])
{
	EVP_Digest(data, len, out, NULL, md_of(HASH_MD5), NULL);
}

void hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		 unsigned char out[SHA256_LEN])
{
	hmac(HASH_SHA256, key, keylen, data, len, out, SHA256_LEN);
}

void hmac_sha1(const void *key, size_t keylen, const void *data, size_t len,
	       unsigned char out[SHA1_LEN])
{
	hmac(HASH_SHA1, key, keylen, data, len, out, SHA1_LEN);
}

void hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

int hex_digit(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

int hex_decode(const char *in, size_t inlen, unsigned char *out, size_t outlen)
{
	if (inlen != 2 * outlen)
		return -1;
	for (size_t i = 0; i < outlen; i++) {
		int hi = hex_digit(in[2 * i]), lo = hex_digit(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

void base64_encode(const unsigned char *in, size_t len, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

int base64_decode(const char *in, size_t inlen, unsigned char *out, size_t outmax)
{
	if (inlen == 0)
		return 0;
	if (inlen % 4 || inlen / 4 * 3 > outmax + 2)
		return -1;
	for (size_t i = 0; i < inlen; i++) {
		char c = in[i];
		int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			 (c >= '0' && c <= '9') || c == '+' || c == '/' ||
			 (c == '=' && i >= inlen - 2);
		if (!ok || (c != '=' && i > 0 && in[i - 1] == '='))
			return -1;
	}
	unsigned char tmp[3 * 1024];
	unsigned char *dst = inlen / 4 * 3 <= sizeof(tmp) ? tmp : NULL;
	if (!dst)
		return -1;
	int n = EVP_DecodeBlock(dst, (const unsigned char *)in, (int)inlen);
	if (n < 0)
		return -1;
	if (in[inlen - 1] == '=') n--;
	if (in[inlen - 2] == '=') n--;
	if ((size_t)n > outmax)
		return -1;
	memcpy(out, dst, (size_t)n);
	return n;
}

int secure_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}
