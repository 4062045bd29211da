/*
 * crypt — the chunked AES-256-GCM format of objects encrypted at rest
 * (src/crypt_int.h is its manual).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "src/crypt_int.h"
#include "common/banned.h"

static const unsigned char magic[8] = { 'A', 'T', 'R', 'S', 'S', 'E', '1', 0 };
/* A segment (one part of a multipart upload): the version names the part
 * number and the upload tag the header holds. */
static const unsigned char magic_seg[8] = { 'A', 'T', 'R', 'S', 'S', 'E', '2', 0 };

#define OFF_TYPE 8
#define OFF_PART 10
#define OFF_KEYID 12
#define OFF_NONCE 16
#define OFF_SALT 24
#define OFF_MAC 40
#define OFF_WRAP_IV 72
#define OFF_WRAPPED 84
#define OFF_WRAP_TAG 116
#define NONCE_PREFIX 8
#define IV_LEN 12

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t crypt_chunks(uint64_t plain)
{
	return plain ? (plain + CRYPT_CHUNK - 1) / CRYPT_CHUNK : 1;
}

uint64_t crypt_file_size(uint64_t plain)
{
	return CRYPT_HDR + plain + crypt_chunks(plain) * CRYPT_TAG;
}

int crypt_plain_size(uint64_t file, uint64_t *plain)
{
	if (file < CRYPT_HDR + CRYPT_TAG)
		return CRYPT_E_FORMAT;
	uint64_t n = file - CRYPT_HDR, full = n / CRYPT_CHUNK_CT, rem = n % CRYPT_CHUNK_CT;
	uint64_t p;
	if (rem == 0)
		p = full * CRYPT_CHUNK;
	else if (rem > CRYPT_TAG || full == 0)
		p = full * CRYPT_CHUNK + (rem - CRYPT_TAG);
	else
		return CRYPT_E_FORMAT; /* an empty chunk after a full one: never written */
	if (crypt_file_size(p) != file)
		return CRYPT_E_FORMAT;
	*plain = p;
	return CRYPT_OK;
}

uint64_t crypt_chunk_offset(uint64_t index)
{
	return CRYPT_HDR + index * CRYPT_CHUNK_CT;
}

int crypt_hdr_parse(const unsigned char raw[CRYPT_HDR], struct crypt_hdr *out)
{
	int seg = !memcmp(raw, magic_seg, sizeof(magic_seg));
	if ((!seg && memcmp(raw, magic, sizeof(magic))) ||
	    (raw[OFF_TYPE] != CRYPT_SSE_S3 && raw[OFF_TYPE] != CRYPT_SSE_C))
		return CRYPT_E_FORMAT;
	out->type = raw[OFF_TYPE];
	out->key_id = get_be32(raw + OFF_KEYID);
	out->part = seg ? raw[OFF_PART] << 8 | raw[OFF_PART + 1] : 0;
	if (seg && !out->part)
		return CRYPT_E_FORMAT;
	memcpy(out->upload, raw + OFF_NONCE, CRYPT_UPLOAD);
	return CRYPT_OK;
}

void crypt_upload_tag(const char *upload_id, unsigned char out[CRYPT_UPLOAD])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)upload_id, strlen(upload_id), md);
	memcpy(out, md, CRYPT_UPLOAD);
}

static void key_mac(const unsigned char *salt, const unsigned char key[CRYPT_KEY],
		    unsigned char out[CRYPT_MAC])
{
	unsigned int n = CRYPT_MAC;
	HMAC(EVP_sha256(), salt, CRYPT_SALT, key, CRYPT_KEY, out, &n);
}

int crypt_hdr_check_key(const unsigned char raw[CRYPT_HDR], const unsigned char key[CRYPT_KEY])
{
	unsigned char mac[CRYPT_MAC];
	key_mac(raw + OFF_SALT, key, mac);
	int ok = CRYPTO_memcmp(mac, raw + OFF_MAC, CRYPT_MAC) == 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	return ok ? CRYPT_OK : CRYPT_E_KEY;
}

int crypt_key_check_make(const unsigned char key[CRYPT_KEY], unsigned char out[CRYPT_CHECK])
{
	if (RAND_bytes(out, CRYPT_SALT) != 1)
		return CRYPT_E_SSL;
	key_mac(out, key, out + CRYPT_SALT);
	return CRYPT_OK;
}

int crypt_key_check(const unsigned char check[CRYPT_CHECK], const unsigned char key[CRYPT_KEY])
{
	unsigned char mac[CRYPT_MAC];
	key_mac(check, key, mac);
	int ok = CRYPTO_memcmp(mac, check + CRYPT_SALT, CRYPT_MAC) == 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	return ok ? CRYPT_OK : CRYPT_E_KEY;
}

/* One AES-256-GCM operation: enc 1 encrypts in[len] into out and writes
 * tag, enc 0 decrypts and checks tag. */
static int gcm(int enc, const unsigned char key[CRYPT_KEY], const unsigned char iv[IV_LEN],
	       const unsigned char *aad, size_t aad_len, const unsigned char *in, size_t len,
	       unsigned char *out, unsigned char tag[CRYPT_TAG])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, ok;
	if (!ctx)
		return CRYPT_E_NOMEM;
	ok = EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv, enc) == 1 &&
	     (!aad_len || EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) == 1) &&
	     (!len || EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1) &&
	     (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRYPT_TAG, tag) == 1);
	if (!ok) {
		EVP_CIPHER_CTX_free(ctx);
		return CRYPT_E_SSL;
	}
	ok = EVP_CipherFinal_ex(ctx, out + n, &n) == 1 &&
	     (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPT_TAG, tag) == 1);
	EVP_CIPHER_CTX_free(ctx);
	return ok ? CRYPT_OK : enc ? CRYPT_E_SSL : CRYPT_E_AUTH;
}

/* Chunk index's nonce and additional data. */
static void chunk_iv(const unsigned char prefix[NONCE_PREFIX], uint64_t index, int final,
		     unsigned char iv[IV_LEN], unsigned char aad[9])
{
	memcpy(iv, prefix, NONCE_PREFIX);
	put_be32(iv + NONCE_PREFIX, (uint32_t)index);
	for (int i = 0; i < 8; i++)
		aad[i] = (unsigned char)(index >> (56 - 8 * i));
	aad[8] = (unsigned char)(final ? 1 : 0);
}

/* ---- writing ---- */

struct crypt_w {
	unsigned char key[CRYPT_KEY];
	unsigned char prefix[NONCE_PREFIX];
	uint64_t index;            /* the next chunk's */
	size_t have;               /* bytes in pt */
	unsigned char pt[CRYPT_CHUNK];
	unsigned char ct[CRYPT_CHUNK_CT];
};

int crypt_w_new(int type, uint32_t key_id, const unsigned char wrap_key[CRYPT_KEY],
		unsigned char hdr[CRYPT_HDR], struct crypt_w **out)
{
	return crypt_w_new_part(type, key_id, wrap_key, 0, NULL, hdr, out);
}

int crypt_w_new_part(int type, uint32_t key_id, const unsigned char wrap_key[CRYPT_KEY],
		     int part, const unsigned char upload[CRYPT_UPLOAD],
		     unsigned char hdr[CRYPT_HDR], struct crypt_w **out)
{
	if ((type != CRYPT_SSE_S3 && type != CRYPT_SSE_C) || part < 0 || part > 0xffff ||
	    (part && !upload))
		return CRYPT_E_FORMAT;
	struct crypt_w *w = calloc(1, sizeof(*w));
	if (!w)
		return CRYPT_E_NOMEM;
	memset(hdr, 0, CRYPT_HDR);
	memcpy(hdr, part ? magic_seg : magic, sizeof(magic));
	hdr[OFF_TYPE] = (unsigned char)type;
	hdr[OFF_PART] = (unsigned char)(part >> 8);
	hdr[OFF_PART + 1] = (unsigned char)part;
	put_be32(hdr + OFF_KEYID, key_id);
	int rc = CRYPT_E_SSL;
	/* A segment's nonce prefix is its upload's tag: its data key is
	 * its own, so (key, nonce) pairs stay unique all the same. */
	if (part)
		memcpy(w->prefix, upload, NONCE_PREFIX);
	if (RAND_bytes(w->key, CRYPT_KEY) != 1 ||
	    (!part && RAND_bytes(w->prefix, NONCE_PREFIX) != 1) ||
	    RAND_bytes(hdr + OFF_WRAP_IV, IV_LEN) != 1 ||
	    (type == CRYPT_SSE_C && RAND_bytes(hdr + OFF_SALT, CRYPT_SALT) != 1))
		goto fail;
	memcpy(hdr + OFF_NONCE, w->prefix, NONCE_PREFIX);
	if (type == CRYPT_SSE_C)
		key_mac(hdr + OFF_SALT, wrap_key, hdr + OFF_MAC);
	/* The wrap authenticates everything before it. */
	if ((rc = gcm(1, wrap_key, hdr + OFF_WRAP_IV, hdr, OFF_WRAP_IV, w->key, CRYPT_KEY,
		      hdr + OFF_WRAPPED, hdr + OFF_WRAP_TAG)))
		goto fail;
	*out = w;
	return CRYPT_OK;
fail:
	crypt_w_free(w);
	return rc;
}

static int emit_chunk(struct crypt_w *w, int final, crypt_emit_fn emit, void *arg)
{
	unsigned char iv[IV_LEN], aad[9];
	chunk_iv(w->prefix, w->index, final, iv, aad);
	int rc = gcm(1, w->key, iv, aad, sizeof(aad), w->pt, w->have, w->ct, w->ct + w->have);
	if (rc)
		return rc;
	if ((rc = emit(arg, w->ct, w->have + CRYPT_TAG)))
		return rc;
	w->index++;
	w->have = 0;
	return CRYPT_OK;
}

int crypt_w_write(struct crypt_w *w, const void *data, size_t len, crypt_emit_fn emit,
		  void *arg)
{
	const unsigned char *p = data;
	while (len) {
		if (w->have == CRYPT_CHUNK) { /* a byte follows it: not the last */
			int rc = emit_chunk(w, 0, emit, arg);
			if (rc)
				return rc;
		}
		size_t n = CRYPT_CHUNK - w->have < len ? CRYPT_CHUNK - w->have : len;
		memcpy(w->pt + w->have, p, n);
		w->have += n;
		p += n;
		len -= n;
	}
	return CRYPT_OK;
}

int crypt_w_finish(struct crypt_w *w, crypt_emit_fn emit, void *arg)
{
	return emit_chunk(w, 1, emit, arg);
}

void crypt_w_free(struct crypt_w *w)
{
	if (!w)
		return;
	OPENSSL_cleanse(w, sizeof(*w));
	free(w);
}

/* ---- reading ---- */

struct crypt_r {
	unsigned char key[CRYPT_KEY];
	unsigned char prefix[NONCE_PREFIX];
	uint64_t plain, chunks;
};

int crypt_r_new(const unsigned char hdr[CRYPT_HDR], const unsigned char wrap_key[CRYPT_KEY],
		uint64_t plain, struct crypt_r **out)
{
	struct crypt_hdr h;
	if (crypt_hdr_parse(hdr, &h))
		return CRYPT_E_FORMAT;
	struct crypt_r *r = calloc(1, sizeof(*r));
	if (!r)
		return CRYPT_E_NOMEM;
	unsigned char tag[CRYPT_TAG];
	memcpy(tag, hdr + OFF_WRAP_TAG, CRYPT_TAG);
	int rc = gcm(0, wrap_key, hdr + OFF_WRAP_IV, hdr, OFF_WRAP_IV, hdr + OFF_WRAPPED,
		     CRYPT_KEY, r->key, tag);
	if (rc) {
		crypt_r_free(r);
		return rc == CRYPT_E_AUTH ? CRYPT_E_KEY : rc;
	}
	memcpy(r->prefix, hdr + OFF_NONCE, NONCE_PREFIX);
	r->plain = plain;
	r->chunks = crypt_chunks(plain);
	*out = r;
	return CRYPT_OK;
}

size_t crypt_r_chunk_len(const struct crypt_r *r, uint64_t index)
{
	if (index >= r->chunks)
		return 0;
	uint64_t start = index * CRYPT_CHUNK;
	uint64_t n = r->plain - start < CRYPT_CHUNK ? r->plain - start : CRYPT_CHUNK;
	return (size_t)n + CRYPT_TAG;
}

int crypt_r_chunk(struct crypt_r *r, uint64_t index, const unsigned char *ct, size_t ct_len,
		  unsigned char *pt)
{
	if (index >= r->chunks || ct_len != crypt_r_chunk_len(r, index))
		return CRYPT_E_AUTH;
	unsigned char iv[IV_LEN], aad[9], tag[CRYPT_TAG];
	size_t n = ct_len - CRYPT_TAG;
	chunk_iv(r->prefix, index, index + 1 == r->chunks, iv, aad);
	memcpy(tag, ct + n, CRYPT_TAG);
	int rc = gcm(0, r->key, iv, aad, sizeof(aad), ct, n, pt, tag);
	if (rc) {
		OPENSSL_cleanse(pt, n);
		return rc;
	}
	return (int)n;
}

void crypt_r_free(struct crypt_r *r)
{
	if (!r)
		return;
	OPENSSL_cleanse(r, sizeof(*r));
	free(r);
}
