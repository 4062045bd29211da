/*
 * md5mb — multi-buffer MD5 (common/md5mb.h): the kernels, the lane
 * scheduler, the single-stream path and the flat-combining engine.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* MD5_CTX: the one way to resume a state */
#include "common/md5mb.h"

#include <openssl/md5.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include "common/banned.h"

/* The 64 steps of one block (RFC 1321, 3.4): the round function, the
 * words it rotates, the message word, the constant, the rotation. Each
 * kernel expands them with its own S. */
#define MD5_STEPS(S) \
	S(F, a, b, c, d,  0, 0xd76aa478u,  7) S(F, d, a, b, c,  1, 0xe8c7b756u, 12) \
	S(F, c, d, a, b,  2, 0x242070dbu, 17) S(F, b, c, d, a,  3, 0xc1bdceeeu, 22) \
	S(F, a, b, c, d,  4, 0xf57c0fafu,  7) S(F, d, a, b, c,  5, 0x4787c62au, 12) \
	S(F, c, d, a, b,  6, 0xa8304613u, 17) S(F, b, c, d, a,  7, 0xfd469501u, 22) \
	S(F, a, b, c, d,  8, 0x698098d8u,  7) S(F, d, a, b, c,  9, 0x8b44f7afu, 12) \
	S(F, c, d, a, b, 10, 0xffff5bb1u, 17) S(F, b, c, d, a, 11, 0x895cd7beu, 22) \
	S(F, a, b, c, d, 12, 0x6b901122u,  7) S(F, d, a, b, c, 13, 0xfd987193u, 12) \
	S(F, c, d, a, b, 14, 0xa679438eu, 17) S(F, b, c, d, a, 15, 0x49b40821u, 22) \
	S(G, a, b, c, d,  1, 0xf61e2562u,  5) S(G, d, a, b, c,  6, 0xc040b340u,  9) \
	S(G, c, d, a, b, 11, 0x265e5a51u, 14) S(G, b, c, d, a,  0, 0xe9b6c7aau, 20) \
	S(G, a, b, c, d,  5, 0xd62f105du,  5) S(G, d, a, b, c, 10, 0x02441453u,  9) \
	S(G, c, d, a, b, 15, 0xd8a1e681u, 14) S(G, b, c, d, a,  4, 0xe7d3fbc8u, 20) \
	S(G, a, b, c, d,  9, 0x21e1cde6u,  5) S(G, d, a, b, c, 14, 0xc33707d6u,  9) \
	S(G, c, d, a, b,  3, 0xf4d50d87u, 14) S(G, b, c, d, a,  8, 0x455a14edu, 20) \
	S(G, a, b, c, d, 13, 0xa9e3e905u,  5) S(G, d, a, b, c,  2, 0xfcefa3f8u,  9) \
	S(G, c, d, a, b,  7, 0x676f02d9u, 14) S(G, b, c, d, a, 12, 0x8d2a4c8au, 20) \
	S(H, a, b, c, d,  5, 0xfffa3942u,  4) S(H, d, a, b, c,  8, 0x8771f681u, 11) \
	S(H, c, d, a, b, 11, 0x6d9d6122u, 16) S(H, b, c, d, a, 14, 0xfde5380cu, 23) \
	S(H, a, b, c, d,  1, 0xa4beea44u,  4) S(H, d, a, b, c,  4, 0x4bdecfa9u, 11) \
	S(H, c, d, a, b,  7, 0xf6bb4b60u, 16) S(H, b, c, d, a, 10, 0xbebfbc70u, 23) \
	S(H, a, b, c, d, 13, 0x289b7ec6u,  4) S(H, d, a, b, c,  0, 0xeaa127fau, 11) \
	S(H, c, d, a, b,  3, 0xd4ef3085u, 16) S(H, b, c, d, a,  6, 0x04881d05u, 23) \
	S(H, a, b, c, d,  9, 0xd9d4d039u,  4) S(H, d, a, b, c, 12, 0xe6db99e5u, 11) \
	S(H, c, d, a, b, 15, 0x1fa27cf8u, 16) S(H, b, c, d, a,  2, 0xc4ac5665u, 23) \
	S(I, a, b, c, d,  0, 0xf4292244u,  6) S(I, d, a, b, c,  7, 0x432aff97u, 10) \
	S(I, c, d, a, b, 14, 0xab9423a7u, 15) S(I, b, c, d, a,  5, 0xfc93a039u, 21) \
	S(I, a, b, c, d, 12, 0x655b59c3u,  6) S(I, d, a, b, c,  3, 0x8f0ccc92u, 10) \
	S(I, c, d, a, b, 10, 0xffeff47du, 15) S(I, b, c, d, a,  1, 0x85845dd1u, 21) \
	S(I, a, b, c, d,  8, 0x6fa87e4fu,  6) S(I, d, a, b, c, 15, 0xfe2ce6e0u, 10) \
	S(I, c, d, a, b,  6, 0xa3014314u, 15) S(I, b, c, d, a, 13, 0x4e0811a1u, 21) \
	S(I, a, b, c, d,  4, 0xf7537e82u,  6) S(I, d, a, b, c, 11, 0xbd3af235u, 10) \
	S(I, c, d, a, b,  2, 0x2ad7d2bbu, 15) S(I, b, c, d, a,  9, 0xeb86d391u, 21)


/*
 * A kernel runs nblocks blocks in each of its lanes: st holds the lanes'
 * states transposed (st[0][lane] is lane's A), addr[lane] the address of
 * its first block and stride[lane] 64, or 0 for an idle lane, which reads
 * one block of zeros over and over and whose state is thrown away.
 */
typedef void kernel_fn(uint32_t st[4][MD5MB_MAX_LANES], const uint64_t *addr,
		       const uint64_t *stride, size_t nblocks);

static const unsigned char zero_block[MD5MB_BLOCK];

/* ---- portable C: 8 lanes as loops the compiler may vectorise ---- */

#define SCALAR_LANES 8
#define ROL(x, s) ((x) << (s) | (x) >> (32 - (s)))
#define F1(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define G1(x, y, z) ((y) ^ ((z) & ((x) ^ (y))))
#define H1(x, y, z) ((x) ^ (y) ^ (z))
#define I1(x, y, z) ((y) ^ ((x) | ~(z)))

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void kernel_scalar(uint32_t st[4][MD5MB_MAX_LANES], const uint64_t *addr,
			  const uint64_t *stride, size_t nblocks)
{
	uint32_t a[SCALAR_LANES], b[SCALAR_LANES], c[SCALAR_LANES], d[SCALAR_LANES];
	uint32_t m[16][SCALAR_LANES];
	memcpy(a, st[0], sizeof(a));
	memcpy(b, st[1], sizeof(b));
	memcpy(c, st[2], sizeof(c));
	memcpy(d, st[3], sizeof(d));
	for (size_t n = 0; n < nblocks; n++) {
		uint32_t a0[SCALAR_LANES], b0[SCALAR_LANES], c0[SCALAR_LANES], d0[SCALAR_LANES];
		for (int l = 0; l < SCALAR_LANES; l++) {
			const unsigned char *p = (const unsigned char *)(uintptr_t)(addr[l] + n * stride[l]);
			for (int i = 0; i < 16; i++)
				m[i][l] = le32(p + 4 * i);
			a0[l] = a[l], b0[l] = b[l], c0[l] = c[l], d0[l] = d[l];
		}
#define S(f, a, b, c, d, i, k, s) \
	for (int l = 0; l < SCALAR_LANES; l++) { \
		uint32_t t = a[l] + f##1(b[l], c[l], d[l]) + m[i][l] + (k); \
		a[l] = b[l] + ROL(t, s); \
	}
		MD5_STEPS(S)
#undef S
		for (int l = 0; l < SCALAR_LANES; l++)
			a[l] += a0[l], b[l] += b0[l], c[l] += c0[l], d[l] += d0[l];
	}
	memcpy(st[0], a, sizeof(a));
	memcpy(st[1], b, sizeof(b));
	memcpy(st[2], c, sizeof(c));
	memcpy(st[3], d, sizeof(d));
}

#if defined(__x86_64__)
/*
 * The vector kernels read word i of every lane's block with a gather on
 * the lanes' absolute addresses (64-bit indices from a base of 4 * i):
 * lanes' buffers may lie anywhere in the address space.
 */

/* ---- AVX2: 8 lanes ---- */

#define V2_ADD _mm256_add_epi32
#define F2(x, y, z) _mm256_xor_si256(z, _mm256_and_si256(x, _mm256_xor_si256(y, z)))
#define G2(x, y, z) _mm256_xor_si256(y, _mm256_and_si256(z, _mm256_xor_si256(x, y)))
#define H2(x, y, z) _mm256_xor_si256(_mm256_xor_si256(x, y), z)
#define I2(x, y, z) _mm256_xor_si256(y, _mm256_or_si256(x, _mm256_xor_si256(z, ones)))
#define ROL2(x, s) _mm256_or_si256(_mm256_slli_epi32(x, s), _mm256_srli_epi32(x, 32 - (s)))

__attribute__((target("avx2")))
static void kernel_avx2(uint32_t st[4][MD5MB_MAX_LANES], const uint64_t *addr,
			const uint64_t *stride, size_t nblocks)
{
	__m256i a = _mm256_loadu_si256((const __m256i *)st[0]);
	__m256i b = _mm256_loadu_si256((const __m256i *)st[1]);
	__m256i c = _mm256_loadu_si256((const __m256i *)st[2]);
	__m256i d = _mm256_loadu_si256((const __m256i *)st[3]);
	__m256i lo = _mm256_loadu_si256((const __m256i *)addr);
	__m256i hi = _mm256_loadu_si256((const __m256i *)(addr + 4));
	const __m256i slo = _mm256_loadu_si256((const __m256i *)stride);
	const __m256i shi = _mm256_loadu_si256((const __m256i *)(stride + 4));
	const __m256i ones = _mm256_set1_epi32(-1);
	for (size_t n = 0; n < nblocks; n++) {
		__m256i m[16];
		for (int i = 0; i < 16; i++) {
			const int *base = (const int *)(uintptr_t)(4 * i);
			__m128i l = _mm256_i64gather_epi32(base, lo, 1);
			__m128i h = _mm256_i64gather_epi32(base, hi, 1);
			m[i] = _mm256_inserti128_si256(_mm256_castsi128_si256(l), h, 1);
		}
		__m256i a0 = a, b0 = b, c0 = c, d0 = d;
#define S(f, a, b, c, d, i, k, s) \
	a = V2_ADD(b, ROL2(V2_ADD(V2_ADD(a, V2_ADD(m[i], _mm256_set1_epi32((int)(k)))), \
			      f##2(b, c, d)), s));
		MD5_STEPS(S)
#undef S
		a = V2_ADD(a, a0), b = V2_ADD(b, b0), c = V2_ADD(c, c0), d = V2_ADD(d, d0);
		lo = _mm256_add_epi64(lo, slo);
		hi = _mm256_add_epi64(hi, shi);
	}
	_mm256_storeu_si256((__m256i *)st[0], a);
	_mm256_storeu_si256((__m256i *)st[1], b);
	_mm256_storeu_si256((__m256i *)st[2], c);
	_mm256_storeu_si256((__m256i *)st[3], d);
}

/* ---- AVX-512: 16 lanes; each round function is one ternary-logic
 * instruction (its truth table over b, c, d) and rotations are native ---- */

#define V5_ADD _mm512_add_epi32
#define F5(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0xca) /* x ? y : z */
#define G5(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0xe4) /* z ? x : y */
#define H5(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0x96) /* x ^ y ^ z */
#define I5(x, y, z) _mm512_ternarylogic_epi32(x, y, z, 0x39) /* y ^ (x | ~z) */

__attribute__((target("avx512f")))
static void kernel_avx512(uint32_t st[4][MD5MB_MAX_LANES], const uint64_t *addr,
			  const uint64_t *stride, size_t nblocks)
{
	__m512i a = _mm512_loadu_si512(st[0]), b = _mm512_loadu_si512(st[1]);
	__m512i c = _mm512_loadu_si512(st[2]), d = _mm512_loadu_si512(st[3]);
	__m512i lo = _mm512_loadu_si512(addr), hi = _mm512_loadu_si512(addr + 8);
	const __m512i slo = _mm512_loadu_si512(stride), shi = _mm512_loadu_si512(stride + 8);
	for (size_t n = 0; n < nblocks; n++) {
		__m512i m[16];
		for (int i = 0; i < 16; i++) {
			const void *base = (const void *)(uintptr_t)(4 * i);
			__m256i l = _mm512_i64gather_epi32(lo, base, 1);
			__m256i h = _mm512_i64gather_epi32(hi, base, 1);
			m[i] = _mm512_inserti64x4(_mm512_castsi256_si512(l), h, 1);
		}
		__m512i a0 = a, b0 = b, c0 = c, d0 = d;
#define S(f, a, b, c, d, i, k, s) \
	a = V5_ADD(b, _mm512_rol_epi32(V5_ADD(V5_ADD(a, V5_ADD(m[i], _mm512_set1_epi32((int)(k)))), \
					      f##5(b, c, d)), s));
		MD5_STEPS(S)
#undef S
		a = V5_ADD(a, a0), b = V5_ADD(b, b0), c = V5_ADD(c, c0), d = V5_ADD(d, d0);
		lo = _mm512_add_epi64(lo, slo);
		hi = _mm512_add_epi64(hi, shi);
	}
	_mm512_storeu_si512(st[0], a);
	_mm512_storeu_si512(st[1], b);
	_mm512_storeu_si512(st[2], c);
	_mm512_storeu_si512(st[3], d);
}
#endif

/* ---- dispatch ---- */

static int forced; /* enum md5mb_impl; atomic */

static int cpu_has(enum md5mb_impl impl)
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (impl == MD5MB_AVX512)
		return __builtin_cpu_supports("avx512f");
	if (impl == MD5MB_AVX2)
		return __builtin_cpu_supports("avx2");
#endif
	return impl == MD5MB_SCALAR;
}

enum md5mb_impl md5mb_best(void)
{
	return cpu_has(MD5MB_AVX512) ? MD5MB_AVX512 : cpu_has(MD5MB_AVX2) ? MD5MB_AVX2 : MD5MB_SCALAR;
}

void md5mb_force(enum md5mb_impl impl)
{
	__atomic_store_n(&forced, impl, __ATOMIC_RELAXED);
}

enum md5mb_impl md5mb_impl_now(void)
{
	enum md5mb_impl f = __atomic_load_n(&forced, __ATOMIC_RELAXED);
	return f != MD5MB_AUTO && cpu_has(f) ? f : md5mb_best();
}

int md5mb_lanes(enum md5mb_impl impl)
{
	return impl == MD5MB_AVX512 ? 16 : 8;
}

const char *md5mb_impl_name(enum md5mb_impl impl)
{
	static const char *const names[] = { "auto", "scalar", "avx2", "avx512" };
	return names[impl];
}

static kernel_fn *kernel_of(enum md5mb_impl impl)
{
#if defined(__x86_64__)
	if (impl == MD5MB_AVX512)
		return kernel_avx512;
	if (impl == MD5MB_AVX2)
		return kernel_avx2;
#endif
	return kernel_scalar;
}

/* ---- one stream ---- */

/* n whole blocks into c's state with OpenSSL's block function: an MD5_CTX
 * with no pending bytes is only its state (its length fields are ours). */
static void single_blocks(struct md5mb_ctx *c, const unsigned char *p, size_t n)
{
	MD5_CTX m = { .A = c->s[0], .B = c->s[1], .C = c->s[2], .D = c->s[3] };
	MD5_Update(&m, p, n * MD5MB_BLOCK);
	c->s[0] = m.A, c->s[1] = m.B, c->s[2] = m.C, c->s[3] = m.D;
}

void md5mb_init(struct md5mb_ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->s[0] = 0x67452301u, c->s[1] = 0xefcdab89u, c->s[2] = 0x98badcfeu, c->s[3] = 0x10325476u;
}

/* Completes c's partial block from *p (hashing it once full): afterwards
 * *len is 0 or c holds no partial block. */
static void absorb(struct md5mb_ctx *c, const unsigned char **p, size_t *len)
{
	size_t have = (size_t)(c->len % MD5MB_BLOCK);
	if (!have)
		return;
	size_t take = MD5MB_BLOCK - have < *len ? MD5MB_BLOCK - have : *len;
	memcpy(c->tail + have, *p, take);
	c->len += take;
	*p += take, *len -= take;
	if (have + take == MD5MB_BLOCK)
		single_blocks(c, c->tail, 1);
}

/* Keeps the last len % 64 bytes at p + whole blocks as c's partial block. */
static void keep_tail(struct md5mb_ctx *c, const unsigned char *p, size_t len)
{
	size_t rest = len % MD5MB_BLOCK;
	memcpy(c->tail, p + (len - rest), rest);
	c->len += rest;
}

void md5mb_update(struct md5mb_ctx *c, const void *data, size_t len)
{
	const unsigned char *p = data;
	absorb(c, &p, &len);
	if (len / MD5MB_BLOCK) {
		single_blocks(c, p, len / MD5MB_BLOCK);
		c->len += len - len % MD5MB_BLOCK;
	}
	keep_tail(c, p, len);
}

void md5mb_final(struct md5mb_ctx *c, unsigned char out[16])
{
	unsigned char pad[2 * MD5MB_BLOCK] = { 0 };
	size_t have = (size_t)(c->len % MD5MB_BLOCK);
	size_t n = have < 56 ? MD5MB_BLOCK : 2 * MD5MB_BLOCK;
	uint64_t bits = c->len * 8;
	memcpy(pad, c->tail, have);
	pad[have] = 0x80;
	for (int i = 0; i < 8; i++)
		pad[n - 8 + i] = (unsigned char)(bits >> (8 * i));
	single_blocks(c, pad, n / MD5MB_BLOCK);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			out[4 * i + j] = (unsigned char)(c->s[i] >> (8 * j));
	memset(c, 0, sizeof(*c));
}

/* ---- many streams in lanes ---- */

struct lanes {
	uint32_t st[4][MD5MB_MAX_LANES];
	uint64_t addr[MD5MB_MAX_LANES], stride[MD5MB_MAX_LANES];
	size_t left[MD5MB_MAX_LANES];
	struct md5mb_job *job[MD5MB_MAX_LANES];
};

/*
 * Where a round gets jobs from and reports them done: md5mb_blocks has a
 * fixed list; the engine's combiner (self) takes jobs queued meanwhile
 * into lanes that free up until its own job is done, and wakes each
 * job's thread as soon as its job is.
 */
struct feed {
	struct md5mb_engine *e;   /* NULL: the list is all */
	struct md5mb_job *self;
	int self_done;
};
static struct md5mb_job *feed_more(struct feed *f);
static void feed_done(struct feed *f, struct md5mb_job *j);

/* Puts the next job with blocks to hash in lane l (or idles it). */
static int lane_fill(struct lanes *ln, int l, struct md5mb_job **queue, struct feed *f)
{
	if (!*queue && f)
		*queue = feed_more(f);
	struct md5mb_job *j = *queue;
	while (j && !j->nblocks) {
		struct md5mb_job *next = j->next;
		feed_done(f, j);
		j = next;
	}
	*queue = j ? j->next : NULL;
	ln->job[l] = j;
	ln->addr[l] = (uintptr_t)(j ? j->p : zero_block);
	ln->stride[l] = j ? MD5MB_BLOCK : 0;
	ln->left[l] = j ? j->nblocks : SIZE_MAX;
	for (int i = 0; i < 4; i++)
		ln->st[i][l] = j ? j->ctx->s[i] : 0;
	return j != NULL;
}

/* Lane l's job is through its blocks (up to ln->addr[l] and ln->left[l]
 * more, on the single-stream path). */
static void lane_finish(struct lanes *ln, int l, struct feed *f)
{
	struct md5mb_job *j = ln->job[l];
	for (int i = 0; i < 4; i++)
		j->ctx->s[i] = ln->st[i][l];
	if (ln->left[l])
		single_blocks(j->ctx, (const unsigned char *)(uintptr_t)ln->addr[l], ln->left[l]);
	j->ctx->len += (uint64_t)j->nblocks * MD5MB_BLOCK;
	ln->job[l] = NULL;
	feed_done(f, j);
}

static void feed_hand_off(struct feed *f, struct md5mb_job *list);

/* The combiner's own job is done: the jobs still in lanes go back to the
 * engine's queue as far as they got, with what was never started, for
 * the next combiner. */
static void lanes_hand_off(struct lanes *ln, int w, struct md5mb_job *queue, struct feed *f)
{
	for (int l = 0; l < w; l++) {
		struct md5mb_job *j = ln->job[l];
		if (!j)
			continue;
		size_t done = j->nblocks - ln->left[l];
		for (int i = 0; i < 4; i++)
			j->ctx->s[i] = ln->st[i][l];
		j->ctx->len += (uint64_t)done * MD5MB_BLOCK;
		j->p = (const unsigned char *)(uintptr_t)ln->addr[l];
		j->nblocks = ln->left[l];
		j->next = queue;
		queue = j;
	}
	feed_hand_off(f, queue);
}

/* Every job of the list (and what the feed adds), in the lanes of the
 * kernel in use; for the engine's combiner, until its own job is done
 * (lanes_hand_off). The last job left running finishes on the
 * single-stream path, which is faster for one stream than a kernel with
 * idle lanes. */
static void run_list(struct md5mb_job *queue, struct feed *f)
{
	/* A full kernel's lane runs at about 1/5 of an OpenSSL stream's speed
	 * in portable C, 2/5 in AVX2, 3/5 in AVX-512 (make bench-md5): with
	 * fewer jobs than this, one after the other on the single-stream
	 * path is faster. */
	static const int min_jobs[] = { [MD5MB_SCALAR] = 6, [MD5MB_AVX2] = 3,
					[MD5MB_AVX512] = 2 };
	enum md5mb_impl impl = md5mb_impl_now();
	kernel_fn *kernel = kernel_of(impl);
	int w = md5mb_lanes(impl), live = 0, jobs = 0;
	struct lanes ln;
	for (struct md5mb_job *j = queue; j && jobs < min_jobs[impl]; j = j->next)
		jobs += j->nblocks > 0;
	if (jobs < min_jobs[impl]) {
		for (struct md5mb_job *j = queue, *next; j; j = next) {
			next = j->next; /* j may vanish once done */
			single_blocks(j->ctx, j->p, j->nblocks);
			j->ctx->len += (uint64_t)j->nblocks * MD5MB_BLOCK;
			feed_done(f, j);
		}
		return;
	}
	for (int l = 0; l < MD5MB_MAX_LANES; l++)
		live += l < w ? lane_fill(&ln, l, &queue, f)
			      : lane_fill(&ln, l, &(struct md5mb_job *){ NULL }, NULL);
	while (live > 1) {
		size_t n = SIZE_MAX;
		for (int l = 0; l < w; l++)
			n = ln.left[l] < n ? ln.left[l] : n;
		kernel(ln.st, ln.addr, ln.stride, n);
		for (int l = 0; l < w; l++) {
			if (!ln.job[l])
				continue;
			ln.addr[l] += n * MD5MB_BLOCK;
			ln.left[l] -= n;
			if (ln.left[l])
				continue;
			lane_finish(&ln, l, f);
			live--;
		}
		if (f && f->self_done) {
			lanes_hand_off(&ln, w, queue, f);
			return;
		}
		for (int l = 0; l < w; l++)
			if (!ln.job[l])
				live += lane_fill(&ln, l, &queue, f);
	}
	for (int l = 0; l < w && live; l++) {
		if (ln.job[l]) {
			lane_finish(&ln, l, f);
			live--;
		}
	}
}

void md5mb_blocks(struct md5mb_job *jobs, int n)
{
	for (int i = 0; i < n; i++)
		jobs[i].next = i + 1 < n ? &jobs[i + 1] : NULL;
	run_list(n ? jobs : NULL, NULL);
}

/* ---- the engine: flat combining ---- */

struct md5mb_engine {
	pthread_mutex_t lock;
	/* Guarded by lock (queue is also read without it, as a hint, by the
	 * combiner looking for jobs to take into free lanes). */
	struct md5mb_job *queue;   /* jobs waiting for lanes, newest first */
	int combining;             /* a round is running */
	int hashing;               /* threads hashing: alone, or combining */
	int cores;                 /* more hashing than this: join the lanes */
	uint64_t rounds, jobs;
};

struct md5mb_engine *md5mb_engine_new(int cores)
{
	struct md5mb_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	e->cores = cores > 0 ? cores : online > 0 ? (int)online : 1;
	pthread_mutex_init(&e->lock, NULL);
	return e;
}

void md5mb_engine_free(struct md5mb_engine *e)
{
	if (!e)
		return;
	pthread_mutex_destroy(&e->lock);
	free(e);
}

static struct md5mb_job *feed_more(struct feed *f)
{
	if (!f->e || f->self_done || !__atomic_load_n(&f->e->queue, __ATOMIC_RELAXED))
		return NULL;
	pthread_mutex_lock(&f->e->lock);
	struct md5mb_job *q = f->e->queue;
	__atomic_store_n(&f->e->queue, NULL, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&f->e->lock);
	return q;
}

static void feed_hand_off(struct feed *f, struct md5mb_job *list)
{
	if (!list)
		return;
	struct md5mb_job *last = list;
	while (last->next)
		last = last->next;
	pthread_mutex_lock(&f->e->lock);
	last->next = f->e->queue;
	__atomic_store_n(&f->e->queue, list, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&f->e->lock);
}

static void feed_done(struct feed *f, struct md5mb_job *j)
{
	if (!f || !f->e)
		return;
	if (j == f->self) {
		f->self_done = 1;
		return;
	}
	pthread_mutex_lock(&f->e->lock);
	f->e->jobs++;
	j->done = 1;
	pthread_cond_signal(j->wake); /* j is gone once the lock is dropped */
	pthread_mutex_unlock(&f->e->lock);
}

/*
 * A thread queues its whole blocks as a job. If no round is running it
 * becomes the combiner: it takes the whole queue (its own job and any
 * that arrived before) and runs it without the lock, taking jobs queued
 * meanwhile into lanes that free up; each job's thread is woken when its
 * job is done. A round ends with its combiner's own job: the jobs still
 * in lanes go back to the queue as far as they got (lanes_hand_off), and
 * the combiner wakes the first job queued, whose thread runs the next
 * round. So a combiner works no longer than its own job takes in a lane,
 * no one waits for more than one round that is not its own, and a thread
 * alone runs at once (a round of one job takes the single-stream path).
 *
 * Waiting only pays when the cores are all busy: a thread that waits
 * frees its core for others, but with fewer threads hashing than cores
 * there is no other to use it. So while fewer than e->cores threads hash
 * and nobody is queued, a thread hashes its piece alone, at once, in
 * parallel with the others (as before the engine); only beyond that does
 * it queue for the lanes.
 */
void md5mb_engine_update(struct md5mb_engine *e, struct md5mb_ctx *c, const void *data,
			 size_t len)
{
	const unsigned char *p = data;
	if (!e) {
		md5mb_update(c, data, len);
		return;
	}
	absorb(c, &p, &len);
	pthread_cond_t wake;
	struct md5mb_job job = { .ctx = c, .p = p, .nblocks = len / MD5MB_BLOCK, .wake = &wake };
	if (job.nblocks) {
		pthread_mutex_lock(&e->lock);
		if (e->hashing < e->cores && !e->queue) {
			e->hashing++;
			e->rounds++;
			e->jobs++;
			pthread_mutex_unlock(&e->lock);
			single_blocks(c, p, job.nblocks);
			c->len += (uint64_t)job.nblocks * MD5MB_BLOCK;
			pthread_mutex_lock(&e->lock);
			e->hashing--;
			pthread_mutex_unlock(&e->lock);
			keep_tail(c, p, len);
			return;
		}
		pthread_cond_init(&wake, NULL);
		job.next = e->queue;
		__atomic_store_n(&e->queue, &job, __ATOMIC_RELAXED);
		while (!job.done) {
			if (e->combining) {
				pthread_cond_wait(&wake, &e->lock);
				continue;
			}
			struct feed f = { e, &job, 0 };
			struct md5mb_job *round = e->queue;
			__atomic_store_n(&e->queue, NULL, __ATOMIC_RELAXED);
			e->combining = 1;
			e->hashing++;
			pthread_mutex_unlock(&e->lock);
			run_list(round, &f);
			pthread_mutex_lock(&e->lock);
			e->rounds++;
			e->jobs++;
			job.done = 1;
			e->combining = 0;
			e->hashing--;
			if (e->queue)
				pthread_cond_signal(e->queue->wake);
		}
		pthread_mutex_unlock(&e->lock);
		pthread_cond_destroy(&wake);
	}
	keep_tail(c, p, len);
}

void md5mb_engine_stats(struct md5mb_engine *e, uint64_t *rounds, uint64_t *jobs)
{
	pthread_mutex_lock(&e->lock);
	*rounds = e->rounds;
	*jobs = e->jobs;
	pthread_mutex_unlock(&e->lock);
}
