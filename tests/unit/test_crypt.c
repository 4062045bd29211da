/* The at-rest encryption format (src/crypt.c): round trips, random access,
 * tampering, truncation, reordering and wrong keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "src/crypt_int.h"

struct file {
	unsigned char *p;
	size_t len, cap;
};

static int emit(void *arg, const void *data, size_t len)
{
	struct file *f = arg;
	if (f->len + len > f->cap) {
		f->cap = (f->len + len) * 2;
		f->p = realloc(f->p, f->cap);
		assert_non_null(f->p);
	}
	memcpy(f->p + f->len, data, len);
	f->len += len;
	return 0;
}

static unsigned char *pattern(size_t n, unsigned seed)
{
	unsigned char *p = malloc(n ? n : 1);
	assert_non_null(p);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
	return p;
}

/* Encrypts plain[n] written in pieces of step bytes. */
static struct file encrypt(int type, const unsigned char *key, const unsigned char *plain,
			   size_t n, size_t step)
{
	struct file f = { 0 };
	struct crypt_w *w;
	unsigned char hdr[CRYPT_HDR];
	assert_int_equal(crypt_w_new(type, 7, key, hdr, &w), CRYPT_OK);
	emit(&f, hdr, CRYPT_HDR);
	for (size_t off = 0; off < n; off += step)
		assert_int_equal(crypt_w_write(w, plain + off, n - off < step ? n - off : step, emit,
					       &f), CRYPT_OK);
	assert_int_equal(crypt_w_finish(w, emit, &f), CRYPT_OK);
	crypt_w_free(w);
	assert_int_equal(f.len, crypt_file_size(n));
	return f;
}

/* Decrypts [off, off + len) of file f (of plain bytes) into out by the
 * chunks it touches; 0 or the first error. */
static int read_range(const struct file *f, const unsigned char *key, uint64_t plain,
		      uint64_t off, size_t len, unsigned char *out)
{
	struct crypt_r *r;
	static unsigned char pt[CRYPT_CHUNK];
	int rc = crypt_r_new(f->p, key, plain, &r);
	if (rc)
		return rc;
	while (len) {
		uint64_t idx = off / CRYPT_CHUNK;
		size_t clen = crypt_r_chunk_len(r, idx);
		uint64_t at = crypt_chunk_offset(idx);
		if (!clen || at + clen > f->len) {
			rc = CRYPT_E_AUTH;
			break;
		}
		int n = crypt_r_chunk(r, idx, f->p + at, clen, pt);
		if (n < 0) {
			rc = n;
			break;
		}
		size_t in = (size_t)(off - idx * CRYPT_CHUNK);
		size_t take = (size_t)n - in < len ? (size_t)n - in : len;
		memcpy(out, pt + in, take);
		out += take;
		off += take;
		len -= take;
	}
	crypt_r_free(r);
	return rc;
}

static const unsigned char key1[CRYPT_KEY] = "0123456789abcdef0123456789abcde";
static const unsigned char key2[CRYPT_KEY] = "0123456789abcdef0123456789abcdX";

static void sizes(void **state)
{
	static const uint64_t plain[] = { 0, 1, CRYPT_CHUNK - 1, CRYPT_CHUNK, CRYPT_CHUNK + 1,
					  3 * CRYPT_CHUNK, 5u << 20, 1234567 };
	for (size_t i = 0; i < sizeof(plain) / sizeof(*plain); i++) {
		uint64_t back = 99;
		assert_int_equal(crypt_plain_size(crypt_file_size(plain[i]), &back), CRYPT_OK);
		assert_int_equal(back, plain[i]);
	}
	uint64_t p;
	assert_int_equal(crypt_plain_size(10, &p), CRYPT_E_FORMAT);
	/* a full chunk then an empty one is never written */
	assert_int_equal(crypt_plain_size(CRYPT_HDR + CRYPT_CHUNK_CT + CRYPT_TAG, &p),
			 CRYPT_E_FORMAT);
}

static void round_trip(void **state)
{
	static const size_t lens[] = { 0, 1, 100, CRYPT_CHUNK - 1, CRYPT_CHUNK, CRYPT_CHUNK + 1,
				       2 * CRYPT_CHUNK, 300000 };
	static const size_t steps[] = { 1, 7, 4096, CRYPT_CHUNK, 1 << 20 };
	for (size_t i = 0; i < sizeof(lens) / sizeof(*lens); i++) {
		for (size_t s = 0; s < sizeof(steps) / sizeof(*steps); s++) {
			if (steps[s] == 1 && lens[i] > 70000)
				continue;
			unsigned char *plain = pattern(lens[i], (unsigned)i);
			struct file f = encrypt(CRYPT_SSE_S3, key1, plain, lens[i], steps[s]);
			unsigned char *back = malloc(lens[i] + 1);
			assert_int_equal(read_range(&f, key1, lens[i], 0, lens[i], back), 0);
			assert_memory_equal(back, plain, lens[i]);
			if (lens[i] >= 16) /* the plaintext is nowhere in the file */
				assert_null(memmem(f.p, f.len, plain, 16));
			free(back);
			free(plain);
			free(f.p);
		}
	}
}

static void random_ranges(void **state)
{
	size_t n = 5 * CRYPT_CHUNK + 12345;
	unsigned char *plain = pattern(n, 42), *out = malloc(n);
	struct file f = encrypt(CRYPT_SSE_S3, key1, plain, n, 10000);
	unsigned seed = 1;
	for (int i = 0; i < 500; i++) {
		seed = seed * 1103515245u + 12345u;
		uint64_t off = (seed >> 8) % n;
		seed = seed * 1103515245u + 12345u;
		size_t len = 1 + (size_t)((seed >> 8) % (n - off));
		assert_int_equal(read_range(&f, key1, n, off, len, out), 0);
		assert_memory_equal(out, plain + off, len);
	}
	free(out);
	free(plain);
	free(f.p);
}

static void wrong_key(void **state)
{
	unsigned char plain[100] = "secret";
	struct file f = encrypt(CRYPT_SSE_S3, key1, plain, sizeof(plain), 100);
	struct crypt_r *r = NULL;
	assert_int_equal(crypt_r_new(f.p, key2, sizeof(plain), &r), CRYPT_E_KEY);
	assert_null(r);
	/* a header changed in any clear byte (here the key id) no longer opens */
	f.p[13] ^= 1;
	assert_int_equal(crypt_r_new(f.p, key1, sizeof(plain), &r), CRYPT_E_KEY);
	f.p[0] ^= 1;
	assert_int_equal(crypt_r_new(f.p, key1, sizeof(plain), &r), CRYPT_E_FORMAT);
	free(f.p);

	/* SSE-C: the salted HMAC tells the right key from a wrong one */
	f = encrypt(CRYPT_SSE_C, key1, plain, sizeof(plain), 100);
	struct crypt_hdr h;
	assert_int_equal(crypt_hdr_parse(f.p, &h), CRYPT_OK);
	assert_int_equal(h.type, CRYPT_SSE_C);
	assert_int_equal(crypt_hdr_check_key(f.p, key1), CRYPT_OK);
	assert_int_equal(crypt_hdr_check_key(f.p, key2), CRYPT_E_KEY);
	assert_null(memmem(f.p, f.len, key1, 16)); /* the key is not stored */
	unsigned char out[100];
	assert_int_equal(read_range(&f, key1, sizeof(plain), 0, sizeof(plain), out), 0);
	assert_memory_equal(out, plain, sizeof(plain));
	free(f.p);
}

/* An SSE-C upload's key check (crypt_key_check_make): the right key
 * passes, another fails, a changed byte fails, the key is not in it, and
 * two checks of one key differ (each its own salt). */
static void key_check(void **state)
{
	unsigned char c1[CRYPT_CHECK], c2[CRYPT_CHECK];
	assert_int_equal(crypt_key_check_make(key1, c1), CRYPT_OK);
	assert_int_equal(crypt_key_check_make(key1, c2), CRYPT_OK);
	assert_memory_not_equal(c1, c2, CRYPT_SALT);
	assert_int_equal(crypt_key_check(c1, key1), CRYPT_OK);
	assert_int_equal(crypt_key_check(c2, key1), CRYPT_OK);
	assert_int_equal(crypt_key_check(c1, key2), CRYPT_E_KEY);
	assert_null(memmem(c1, sizeof(c1), key1, 16));
	for (size_t i = 0; i < CRYPT_CHECK; i += 7) {
		c1[i] ^= 0x10;
		assert_int_equal(crypt_key_check(c1, key1), CRYPT_E_KEY);
		c1[i] ^= 0x10;
	}
	assert_int_equal(crypt_key_check(c1, key1), CRYPT_OK);
}

static void tampering(void **state)
{
	size_t n = 3 * CRYPT_CHUNK + 500;
	unsigned char *plain = pattern(n, 9), *out = malloc(n);
	struct file f = encrypt(CRYPT_SSE_S3, key1, plain, n, n);

	/* one bit flipped in a chunk, or in its tag */
	size_t spots[] = { CRYPT_HDR, CRYPT_HDR + CRYPT_CHUNK + 3, crypt_chunk_offset(1) + 10,
			   f.len - 1 };
	for (size_t i = 0; i < sizeof(spots) / sizeof(*spots); i++) {
		f.p[spots[i]] ^= 0x20;
		assert_int_equal(read_range(&f, key1, n, 0, n, out), CRYPT_E_AUTH);
		f.p[spots[i]] ^= 0x20;
	}
	assert_int_equal(read_range(&f, key1, n, 0, n, out), 0);

	/* two chunks swapped */
	unsigned char *tmp = malloc(CRYPT_CHUNK_CT);
	memcpy(tmp, f.p + crypt_chunk_offset(0), CRYPT_CHUNK_CT);
	memcpy(f.p + crypt_chunk_offset(0), f.p + crypt_chunk_offset(1), CRYPT_CHUNK_CT);
	memcpy(f.p + crypt_chunk_offset(1), tmp, CRYPT_CHUNK_CT);
	assert_int_equal(read_range(&f, key1, n, 0, 10, out), CRYPT_E_AUTH);
	assert_int_equal(read_range(&f, key1, n, CRYPT_CHUNK, 10, out), CRYPT_E_AUTH);
	/* the untouched chunks still read */
	assert_int_equal(read_range(&f, key1, n, 2 * CRYPT_CHUNK, 100, out), 0);
	assert_memory_equal(out, plain + 2 * CRYPT_CHUNK, 100);
	free(tmp);
	free(f.p);

	/* cut after a whole chunk: the file reads as a shorter object, whose
	 * last chunk was not written as the final one */
	f = encrypt(CRYPT_SSE_S3, key1, plain, n, n);
	uint64_t cut = 2 * CRYPT_CHUNK;
	assert_int_equal(read_range(&f, key1, cut, cut - 10, 10, out), CRYPT_E_AUTH);
	/* and the final chunk read at a size that makes it a middle one */
	assert_int_equal(read_range(&f, key1, n + CRYPT_CHUNK, 3 * CRYPT_CHUNK, 10, out),
			 CRYPT_E_AUTH);
	free(f.p);

	/* an object's chunk put into another object (another data key) */
	struct file g = encrypt(CRYPT_SSE_S3, key1, plain, n, n);
	f = encrypt(CRYPT_SSE_S3, key1, plain, n, n);
	memcpy(f.p + crypt_chunk_offset(1), g.p + crypt_chunk_offset(1), CRYPT_CHUNK_CT);
	assert_int_equal(read_range(&f, key1, n, CRYPT_CHUNK, 10, out), CRYPT_E_AUTH);
	free(g.p);
	free(f.p);
	free(out);
	free(plain);
}

/* A segment's header: version 2, its part number and upload tag read
 * back in the clear, covered by the wrap (a part number changed in the
 * header no longer opens); a single stream's says part 0. */
static void segments(void **state)
{
	size_t n = CRYPT_CHUNK + 7;
	unsigned char *plain = pattern(n, 11), *out = malloc(n), up[CRYPT_UPLOAD], other[CRYPT_UPLOAD];
	unsigned char hdr[CRYPT_HDR];
	struct crypt_w *w;
	struct crypt_hdr h;
	struct crypt_r *r;
	crypt_upload_tag("upload-a", up);
	crypt_upload_tag("upload-b", other);
	assert_memory_not_equal(up, other, CRYPT_UPLOAD);
	assert_int_equal(crypt_w_new_part(CRYPT_SSE_C, 0, key1, 0x1234, NULL, hdr, &w),
			 CRYPT_E_FORMAT);
	assert_int_equal(crypt_w_new_part(CRYPT_SSE_C, 0, key1, 0x1234, up, hdr, &w), CRYPT_OK);
	struct file f = { 0 };
	emit(&f, hdr, CRYPT_HDR);
	assert_int_equal(crypt_w_write(w, plain, n, emit, &f), CRYPT_OK);
	assert_int_equal(crypt_w_finish(w, emit, &f), CRYPT_OK);
	crypt_w_free(w);
	assert_int_equal(f.len, crypt_file_size(n));
	assert_int_equal(crypt_hdr_parse(f.p, &h), CRYPT_OK);
	assert_int_equal(h.type, CRYPT_SSE_C);
	assert_int_equal(h.part, 0x1234);
	assert_memory_equal(h.upload, up, CRYPT_UPLOAD);
	assert_int_equal(crypt_hdr_check_key(f.p, key1), CRYPT_OK);
	assert_int_equal(read_range(&f, key1, n, 0, n, out), 0);
	assert_memory_equal(out, plain, n);
	/* another part number in the header: the wrap fails */
	f.p[11] ^= 1;
	assert_int_equal(crypt_r_new(f.p, key1, n, &r), CRYPT_E_KEY);
	f.p[11] ^= 1;
	/* part 0 in a version 2 header is no header of ours */
	unsigned char zero[CRYPT_HDR];
	memcpy(zero, f.p, CRYPT_HDR);
	zero[10] = zero[11] = 0;
	assert_int_equal(crypt_hdr_parse(zero, &h), CRYPT_E_FORMAT);
	free(f.p);
	/* a single stream: version 1, part 0 */
	f = encrypt(CRYPT_SSE_S3, key1, plain, n, n);
	assert_int_equal(crypt_hdr_parse(f.p, &h), CRYPT_OK);
	assert_int_equal(h.part, 0);
	assert_memory_equal(f.p, "ATRSSE1", 8);
	free(f.p);
	free(out);
	free(plain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes),
		cmocka_unit_test(round_trip),
		cmocka_unit_test(random_ranges),
		cmocka_unit_test(wrong_key),
		cmocka_unit_test(key_check),
		cmocka_unit_test(tampering),
		cmocka_unit_test(segments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
