/*
 * sse — encryption at rest in the core: the master keys (DATA/sse.keys),
 * and the glue between a writer or a reader and the chunk format of
 * src/crypt_int.h. docs/architecture.md, "Encryption at rest", is the
 * overview.
 *
 * DATA/sse.keys holds lines "ID HEX" (ID a positive decimal number, HEX
 * the 64 hex digits of a 256-bit AES key); '#' starts a comment. Made at
 * the first start with one random key (id 1), mode 0600, written to a
 * temporary name, fsynced and renamed; a file group- or other-readable is
 * refused (the daemon does not start). Rotation: append a line with a
 * higher id and restart; new objects use the highest id, older ones name
 * their key's id in their header, so every key ever used must stay.
 * The keys are read once at start and never change after (no lock).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/hash.h"
#include "common/log.h"
#include "src/ns_int.h"
#include "common/banned.h"

#define KEYS_MAX 256

struct sse_keys {
	int n;
	uint32_t id[KEYS_MAX];
	unsigned char key[KEYS_MAX][CRYPT_KEY];
	int newest;              /* index of the highest id */
};

static int keys_make(const char *path)
{
	unsigned char k[CRYPT_KEY];
	char hex[2 * CRYPT_KEY + 1], line[256], tmp[4200];
	if (RAND_bytes(k, sizeof(k)) != 1)
		return ATR_E_INTERNAL;
	hex_encode(k, sizeof(k), hex);
	int n = snprintf(line, sizeof(line),
			 "# Atrium's SSE-S3 master keys: keep every line (docs/architecture.md)\n"
			 "1 %s\n", hex);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(hex, sizeof(hex));
	if (n < 0 || (size_t)n >= sizeof(line))
		return ATR_E_INTERNAL;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	int ok = fd >= 0 && write(fd, line, (size_t)n) == n && !fsync(fd);
	if (fd >= 0 && close(fd))
		ok = 0;
	OPENSSL_cleanse(line, sizeof(line));
	if (!ok || rename(tmp, path)) {
		LOG(LOG_ERROR, "core: cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return ATR_E_IO;
	}
	/* The rename made durable before any object is encrypted with the
	 * key: a power loss must not make a second key at the next start
	 * and orphan the objects of the first. */
	char dir[4200];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd)) {
		LOG(LOG_ERROR, "core: cannot sync the directory of %s: %s", path, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return ATR_E_IO;
	}
	close(dfd);
	return ATR_OK;
}

static int keys_parse(struct sse_keys *k, char *text, const char *path)
{
	int lineno = 0;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		line += strspn(line, " \t");
		if (!*line || *line == '#')
			continue;
		char *end;
		unsigned long id = strtoul(line, &end, 10);
		char *hex = end + strspn(end, " \t");
		size_t hl = strcspn(hex, " \t\r");
		if (end == line || id == 0 || id > UINT32_MAX || hl != 2 * CRYPT_KEY ||
		    hex_decode(hex, hl, k->key[k->n], CRYPT_KEY) || k->n == KEYS_MAX) {
			LOG(LOG_ERROR, "core: %s:%d: not \"ID HEX64\"", path, lineno);
			return ATR_E_INVALID_ARG;
		}
		for (int i = 0; i < k->n; i++)
			if (k->id[i] == id) {
				LOG(LOG_ERROR, "core: %s:%d: key id %lu twice", path, lineno, id);
				return ATR_E_INVALID_ARG;
			}
		k->id[k->n] = (uint32_t)id;
		if (!k->n || id > k->id[k->newest])
			k->newest = k->n;
		k->n++;
	}
	if (!k->n) {
		LOG(LOG_ERROR, "core: %s holds no key", path);
		return ATR_E_INVALID_ARG;
	}
	return ATR_OK;
}

int sse_open(struct atr_core *c, const char *data_dir)
{
	char path[4096];
	enum { TEXT_MAX = KEYS_MAX * 90 };
	snprintf(path, sizeof(path), "%s/sse.keys", data_dir);
	int rc, fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		if ((rc = keys_make(path)))
			return rc;
		LOG(LOG_INFO, "core: made %s (SSE-S3 master key 1)", path);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		LOG(LOG_ERROR, "core: cannot read %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return ATR_E_IO;
	}
	if (st.st_mode & 077) {
		LOG(LOG_ERROR, "core: %s is readable by others (mode %03o): chmod 600 it",
		    path, (unsigned)(st.st_mode & 0777));
		close(fd);
		return ATR_E_ACCESS;
	}
	char *text = malloc(TEXT_MAX);
	ssize_t n = text ? read(fd, text, TEXT_MAX - 1) : -1;
	close(fd);
	if (n < 0 || n == TEXT_MAX - 1) {
		LOG(LOG_ERROR, "core: cannot read %s (or too long)", path);
		free(text);
		return ATR_E_IO;
	}
	text[n] = '\0';
	struct sse_keys *k = calloc(1, sizeof(*k));
	rc = k ? keys_parse(k, text, path) : ATR_E_NOMEM;
	OPENSSL_cleanse(text, TEXT_MAX);
	free(text);
	if (!k)
		return rc;
	if (rc) {
		OPENSSL_cleanse(k, sizeof(*k));
		free(k);
		return rc;
	}
	c->sse = k;
	return ATR_OK;
}

void sse_close(struct atr_core *c)
{
	if (c->sse) {
		OPENSSL_cleanse(c->sse, sizeof(*c->sse));
		free(c->sse);
		c->sse = NULL;
	}
}

/* The master key id's, or NULL. */
static const unsigned char *master(const struct atr_core *c, uint32_t id)
{
	for (int i = 0; c->sse && i < c->sse->n; i++)
		if (c->sse->id[i] == id)
			return c->sse->key[i];
	return NULL;
}

static int err_of(int crc)
{
	switch (crc) {
	case CRYPT_OK: return ATR_OK;
	case CRYPT_E_KEY: return ATR_E_ACCESS;
	case CRYPT_E_NOMEM: return ATR_E_NOMEM;
	case CRYPT_E_AUTH:
	case CRYPT_E_FORMAT: return ATR_E_IO;
	default: return ATR_E_INTERNAL;
	}
}

int atr_bucket_sse(struct atr_core *c, const char *bucket, int *sse)
{
	char *doc = NULL;
	int rc = meta_bucket_doc_get(c->meta, bucket, ATR_DOC_ENCRYPTION, &doc);
	*sse = rc == ATR_OK && !strncmp(doc, "AES256", 6) ? ATR_SSE_S3 : ATR_SSE_NONE;
	free(doc);
	return rc == ATR_E_NO_KEY ? ATR_OK : rc;
}

/* ---- writing ---- */

int sse_writer_start(struct atr_core *c, struct stage_writer *sw, int type,
		     const unsigned char *ckey)
{
	return sse_writer_start_part(c, sw, type, ckey, 0, NULL);
}

int sse_writer_start_part(struct atr_core *c, struct stage_writer *sw, int type,
			  const unsigned char *ckey, int part, const char *upload_id)
{
	unsigned char hdr[CRYPT_HDR], upload[CRYPT_UPLOAD];
	uint32_t id = 0;
	const unsigned char *wrap = ckey;
	if (sw->cw || sw->size)
		return ATR_E_INTERNAL; /* the header goes first */
	if (type == ATR_SSE_S3) {
		if (!c->sse)
			return ATR_E_INTERNAL;
		id = c->sse->id[c->sse->newest];
		wrap = c->sse->key[c->sse->newest];
	}
	if (part)
		crypt_upload_tag(upload_id, upload);
	int rc = err_of(crypt_w_new_part(type, id, wrap, part, part ? upload : NULL, hdr, &sw->cw));
	if (rc)
		return rc;
	/* SSE-C: the ETag is the MD5 of what is stored, not of the
	 * plaintext (AWS's is no MD5 of the plaintext either): a hash of the
	 * plaintext in meta.db would let anyone without the key confirm a
	 * guess of the content. */
	if (type == ATR_SSE_C && !(sw->ct_md5_open = !hash_init(&sw->ct_md5, HASH_MD5)))
		rc = ATR_E_NOMEM;
	if (!rc && sw->stage)
		rc = ufs_stage_write(c->ufs, sw->stage, hdr, CRYPT_HDR);
	if (!rc && sw->ct_md5_open)
		hash_update(&sw->ct_md5, hdr, CRYPT_HDR);
	if (rc) {
		crypt_w_free(sw->cw);
		sw->cw = NULL;
		return rc;
	}
	sw->sse = type;
	return ATR_OK;
}

struct emit_arg {
	struct atr_core *c;
	struct stage_writer *sw;
};

static int emit(void *arg, const void *data, size_t len)
{
	struct emit_arg *a = arg;
	if (a->sw->ct_md5_open)
		hash_update(&a->sw->ct_md5, data, len);
	return ufs_stage_write(a->c->ufs, a->sw->stage, data, len);
}

int sse_writer_write(struct atr_core *c, struct stage_writer *sw, const void *data, size_t len)
{
	struct emit_arg a = { c, sw };
	int rc = crypt_w_write(sw->cw, data, len, emit, &a);
	return rc < 0 ? err_of(rc) : rc; /* crypt's errors are negative, emit's ours */
}

int sse_writer_finish(struct atr_core *c, struct stage_writer *sw)
{
	if (!sw->cw)
		return ATR_OK;
	struct emit_arg a = { c, sw };
	int rc = sw->stage ? crypt_w_finish(sw->cw, emit, &a) : ATR_OK;
	crypt_w_free(sw->cw);
	sw->cw = NULL;
	return rc < 0 ? err_of(rc) : rc;
}

int sse_writer_etag(struct stage_writer *sw, char etag[ATR_ETAG_MAX + 1])
{
	unsigned char sum[MD5_LEN];
	if (!sw->ct_md5_open)
		return 0;
	hash_final(&sw->ct_md5, sum);
	sw->ct_md5_open = 0;
	hex_encode(sum, MD5_LEN, etag);
	return 1;
}

/* ---- reading ---- */

/* Where r's segments are: one, or a completed upload's parts (their
 * sizes in meta.db, which must add up to the row's size). */
static int segments_load(struct atr_core *c, struct atr_reader *r)
{
	uint64_t *sizes = NULL, one = r->size;
	const uint64_t *sz = &one;
	int n = 1, rc;
	if (r->segmented && r->sizes) { /* given (a ghost's) */
		sz = r->sizes;
		n = r->nsizes;
	} else if (r->segmented) {
		/* The sizes go with the row's version: none, the object was
		 * replaced since its row was read (ATR_E_CONFLICT: find it
		 * again). */
		if ((rc = meta_obj_parts_get(c->meta, r->ino, r->version, &sizes, &n)))
			return rc == ATR_E_NO_KEY ? ATR_E_CONFLICT : rc;
		sz = sizes;
	}
	if (!(r->seg_at = malloc(((size_t)n + 1) * sizeof(*r->seg_at))) ||
	    !(r->seg_file = malloc(((size_t)n + 1) * sizeof(*r->seg_file)))) {
		free(sizes);
		return ATR_E_NOMEM;
	}
	r->seg_at[0] = 0;
	r->seg_file[0] = 0;
	for (int i = 0; i < n; i++) {
		r->seg_file[i + 1] = r->seg_file[i] + crypt_file_size(sz[i]);
		r->seg_at[i + 1] = r->seg_at[i] + sz[i];
	}
	r->nseg = n;
	free(sizes);
	if (r->seg_at[n] != r->size) {
		LOG(LOG_ERROR, "core: encrypted inode %llu: its parts are not its size",
		    (unsigned long long)r->ino);
		return ATR_E_IO;
	}
	return ATR_OK;
}

/* r's cr made for segment s: its header read (segment 0's is r->hdr) and
 * checked to be part s + 1 of segment 0's upload (a segment moved, doubled
 * or taken from another upload fails here), its data key unwrapped. */
static int segment_use(struct atr_reader *r, int s)
{
	unsigned char buf[CRYPT_HDR];
	const unsigned char *hdr = s ? buf : r->hdr, *k;
	struct crypt_hdr h;
	if (r->cr && r->seg == s)
		return ATR_OK;
	crypt_r_free(r->cr);
	r->cr = NULL;
	if (s && reader_file_read(r, r->seg_file[r->nseg], buf, CRYPT_HDR, r->seg_file[s]))
		goto bad;
	if (crypt_hdr_parse(hdr, &h) || h.type != r->sse ||
	    (r->segmented ? h.part != s + 1 || memcmp(h.upload, r->upload, CRYPT_UPLOAD)
			  : h.part != 0))
		goto bad;
	if (h.type == ATR_SSE_C) {
		/* Every part was checked against the upload's key: another
		 * key here is a segment from elsewhere. */
		if (!r->has_ckey)
			return ATR_E_ACCESS;
		if (crypt_hdr_check_key(hdr, r->ckey)) {
			if (!s)
				return ATR_E_ACCESS;
			goto bad;
		}
		k = r->ckey;
	} else if (!(k = master(r->c, h.key_id))) {
		LOG(LOG_ERROR, "core: inode %llu needs master key %u, not in sse.keys",
		    (unsigned long long)r->ino, h.key_id);
		return ATR_E_IO;
	}
	int rc = err_of(crypt_r_new(hdr, k, r->seg_at[s + 1] - r->seg_at[s], &r->cr));
	if (!rc)
		r->seg = s;
	return rc;
bad:
	LOG(LOG_ERROR, "core: encrypted inode %llu: segment %d is not part %d of its upload",
	    (unsigned long long)r->ino, s, s + 1);
	return ATR_E_IO;
}

int sse_reader_open(struct atr_core *c, struct atr_reader *r)
{
	ssize_t n = ufs_pread(c->ufs, r->f, r->hdr, CRYPT_HDR, 0);
	struct crypt_hdr h;
	if (n != (ssize_t)CRYPT_HDR || crypt_hdr_parse(r->hdr, &h) || h.type != r->sse) {
		LOG(LOG_ERROR, "core: inode %llu is not an encrypted file of ours",
		    (unsigned long long)r->ino);
		return ATR_E_IO;
	}
	r->segmented = h.part != 0;
	memcpy(r->upload, h.upload, CRYPT_UPLOAD);
	int rc = segments_load(c, r);
	if (rc || h.type == ATR_SSE_C)
		return rc; /* SSE-C: its key comes with the request: atr_get_sse_key */
	return segment_use(r, 0);
}

int atr_get_sse_key(struct atr_reader *r, const unsigned char key[32])
{
	if (r->sse != ATR_SSE_C)
		return ATR_E_INVALID_ARG;
	if (r->has_ckey)
		return ATR_OK;
	if (crypt_hdr_check_key(r->hdr, key))
		return ATR_E_ACCESS;
	memcpy(r->ckey, key, CRYPT_KEY);
	r->has_ckey = 1;
	return segment_use(r, 0);
}

int atr_get_sse(const struct atr_reader *r) { return r->sse; }

/* The segment off is in (seg_at[s] <= off < seg_at[s + 1]; an empty
 * segment holds no offset). */
static int segment_of(const struct atr_reader *r, uint64_t off)
{
	int lo = 0, hi = r->nseg - 1;
	while (lo < hi) {
		int mid = lo + (hi - lo + 1) / 2;
		if (r->seg_at[mid] <= off)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* Chunks decrypted per read of the under-storage (r->pt: their
 * plaintext, then room for their ciphertext). */
#define WINDOW 4

/* Decrypts chunks idx... of segment s (at most WINDOW, as many as it
 * has) into r->pt. */
static int window_fill(struct atr_reader *r, int s, uint64_t idx)
{
	if (!r->pt && !(r->pt = malloc((size_t)WINDOW * (CRYPT_CHUNK + CRYPT_CHUNK_CT))))
		return ATR_E_NOMEM;
	unsigned char *ct = r->pt + (size_t)WINDOW * CRYPT_CHUNK;
	uint64_t chunks = crypt_chunks(r->seg_at[s + 1] - r->seg_at[s]);
	int k = chunks - idx < WINDOW ? (int)(chunks - idx) : WINDOW;
	size_t ctlen = 0;
	for (int i = 0; i < k; i++)
		ctlen += crypt_r_chunk_len(r->cr, idx + (uint64_t)i);
	r->pt_n = 0;
	/* The ciphertext through the block cache (never the plaintext). */
	int rc = reader_file_read(r, r->seg_file[r->nseg], ct, ctlen,
				  r->seg_file[s] + crypt_chunk_offset(idx));
	if (rc) {
		LOG(LOG_ERROR, "core: cannot read encrypted inode %llu: %s",
		    (unsigned long long)r->ino, atr_strerror(rc));
		return rc;
	}
	size_t at = 0;
	for (int i = 0; i < k; i++) {
		size_t cl = crypt_r_chunk_len(r->cr, idx + (uint64_t)i);
		int n = crypt_r_chunk(r->cr, idx + (uint64_t)i, ct + at, cl,
				      r->pt + (size_t)i * CRYPT_CHUNK);
		if (n < 0) {
			LOG(LOG_ERROR, "core: encrypted inode %llu: segment %d chunk %llu fails "
				       "authentication (changed, cut or moved)",
			    (unsigned long long)r->ino, s, (unsigned long long)(idx + (uint64_t)i));
			if (i == 0)
				return ATR_E_IO;
			k = i; /* the chunks before it are good: served */
			break;
		}
		at += cl;
	}
	r->pt_seg = s;
	r->pt_first = idx;
	r->pt_n = (uint64_t)k;
	return ATR_OK;
}

int sse_read(struct atr_reader *r, uint64_t off, const void **data, size_t *len)
{
	if (r->sse == ATR_SSE_C && !r->has_ckey)
		return ATR_E_ACCESS; /* SSE-C without its key */
	int s = segment_of(r, off), rc;
	uint64_t in = off - r->seg_at[s], idx = in / CRYPT_CHUNK;
	if (!r->pt || !r->pt_n || r->pt_seg != s || idx < r->pt_first ||
	    idx >= r->pt_first + r->pt_n) {
		if ((rc = segment_use(r, s)) || (rc = window_fill(r, s, idx)))
			return rc;
	}
	uint64_t end = r->pt_first * CRYPT_CHUNK + r->pt_n * CRYPT_CHUNK;
	if (end > r->seg_at[s + 1] - r->seg_at[s])
		end = r->seg_at[s + 1] - r->seg_at[s];
	*data = r->pt + (size_t)(in - r->pt_first * CRYPT_CHUNK);
	*len = (size_t)(end - in);
	return ATR_OK;
}

void sse_reader_free(struct atr_reader *r)
{
	crypt_r_free(r->cr);
	r->cr = NULL;
	OPENSSL_cleanse(r->ckey, sizeof(r->ckey));
	r->has_ckey = 0;
	free(r->seg_at);
	free(r->seg_file);
	r->seg_at = r->seg_file = NULL;
	if (r->pt) {
		OPENSSL_cleanse(r->pt, (size_t)WINDOW * CRYPT_CHUNK);
		free(r->pt);
		r->pt = NULL;
	}
}

int sse_pread(struct atr_reader *r, void *buf, size_t len, uint64_t off, size_t *got)
{
	int rc = ATR_OK;
	*got = 0;
	pthread_mutex_lock(&r->sse_lock);
	while (*got < len && off + *got < r->size) {
		const void *p;
		size_t n;
		if ((rc = sse_read(r, off + *got, &p, &n)) || !n)
			break;
		if (n > len - *got)
			n = len - *got;
		memcpy((char *)buf + *got, p, n);
		*got += n;
	}
	pthread_mutex_unlock(&r->sse_lock);
	return rc;
}

int sse_reader_to_stage(struct atr_reader *r, struct ufs_stage *stage, uint64_t len)
{
	int rc = ATR_OK;
	pthread_mutex_lock(&r->sse_lock);
	for (uint64_t off = 0; off < len && !rc;) {
		const void *p;
		size_t n;
		if ((rc = sse_read(r, off, &p, &n)))
			break;
		if (!n) {
			rc = ATR_E_IO; /* shorter than its row said */
			break;
		}
		if (n > len - off)
			n = (size_t)(len - off);
		rc = ufs_stage_write(r->c->ufs, stage, p, n);
		off += n;
	}
	pthread_mutex_unlock(&r->sse_lock);
	return rc;
}

int sse_stage_encrypt(struct atr_core *c, struct ufs_stage *plain, uint64_t size,
		      int64_t mtime_ns, struct ufs_stage **out, char etag[ATR_ETAG_MAX + 1])
{
	struct stage_writer sw;
	unsigned char sum[MD5_LEN];
	enum { STEP = 1 << 20 };
	char *buf = malloc(STEP);
	int rc = buf ? stage_writer_init(c, &sw, 1) : ATR_E_NOMEM;
	if (rc) {
		free(buf);
		return rc;
	}
	rc = sse_writer_start(c, &sw, ATR_SSE_S3, NULL);
	for (uint64_t off = 0; !rc && off < size;) {
		size_t want = size - off < STEP ? (size_t)(size - off) : STEP;
		ssize_t n = ufs_stage_pread(c->ufs, plain, buf, want, off);
		if (n <= 0) {
			rc = ATR_E_IO;
			break;
		}
		rc = stage_writer_write(c, &sw, buf, (size_t)n);
		off += (uint64_t)n;
	}
	OPENSSL_cleanse(buf, STEP);
	free(buf);
	if (!rc)
		rc = sse_writer_finish(c, &sw);
	if (!rc && ufs_can(c->ufs, UFS_CAP_TIMES))
		rc = ufs_stage_set_mtime(c->ufs, sw.stage, mtime_ns);
	if (rc) {
		stage_writer_release(c, &sw);
		return rc;
	}
	stage_writer_md5(&sw, sum);
	hex_encode(sum, MD5_LEN, etag);
	*out = sw.stage;
	sw.stage = NULL;
	stage_writer_release(c, &sw);
	return ATR_OK;
}

/* Reads exactly len bytes of stage s at off. */
static int stage_read(struct atr_core *c, struct ufs_stage *s, void *buf, size_t len,
		      uint64_t off)
{
	for (size_t got = 0; got < len;) {
		ssize_t n = ufs_stage_pread(c->ufs, s, (char *)buf + got, len - got, off + got);
		if (n <= 0)
			return ATR_E_IO;
		got += (size_t)n;
	}
	return ATR_OK;
}

int sse_stage_join(struct atr_core *c, struct ufs_stage *in, const uint64_t *sizes, int n,
		   int type, const unsigned char *ckey, int64_t mtime_ns, struct ufs_stage **out)
{
	struct stage_writer sw;
	unsigned char hdr[CRYPT_HDR], sum[MD5_LEN];
	unsigned char *ct = malloc(CRYPT_CHUNK_CT), *pt = malloc(CRYPT_CHUNK);
	int rc = ct && pt ? stage_writer_init(c, &sw, 1) : ATR_E_NOMEM;
	if (rc) {
		free(ct);
		free(pt);
		return rc;
	}
	if (type != ATR_SSE_S3 && (type != ATR_SSE_C || !ckey))
		rc = ATR_E_INTERNAL;
	if (!rc)
		rc = sse_writer_start(c, &sw, type, type == ATR_SSE_C ? ckey : NULL);
	uint64_t base = 0;
	for (int i = 0; i < n && !rc; i++) {
		struct crypt_hdr h;
		struct crypt_r *r = NULL;
		const unsigned char *k;
		if ((rc = stage_read(c, in, hdr, CRYPT_HDR, base)))
			break;
		/* Each part its own stream of the upload's type: SSE-S3's
		 * under a master key, SSE-C's under the customer's key (its
		 * salted check first: a wrong key is ATR_E_ACCESS). */
		if (crypt_hdr_parse(hdr, &h) || h.type != type ||
		    !(k = type == ATR_SSE_C ? ckey : master(c, h.key_id)) ||
		    (type == ATR_SSE_C && crypt_hdr_check_key(hdr, k) && (rc = ATR_E_ACCESS)) ||
		    (rc = err_of(crypt_r_new(hdr, k, sizes[i], &r)))) {
			rc = rc ? rc : ATR_E_IO;
			break;
		}
		for (uint64_t idx = 0; idx < crypt_chunks(sizes[i]) && !rc; idx++) {
			size_t cl = crypt_r_chunk_len(r, idx);
			int got;
			if (!(rc = stage_read(c, in, ct, cl, base + crypt_chunk_offset(idx))) &&
			    (got = crypt_r_chunk(r, idx, ct, cl, pt)) < 0)
				rc = ATR_E_IO; /* a part changed in the part area */
			else if (!rc && got)
				rc = stage_writer_write(c, &sw, pt, (size_t)got);
		}
		crypt_r_free(r);
		base += crypt_file_size(sizes[i]);
	}
	OPENSSL_cleanse(pt, CRYPT_CHUNK);
	free(ct);
	free(pt);
	if (!rc)
		rc = sse_writer_finish(c, &sw);
	if (!rc && ufs_can(c->ufs, UFS_CAP_TIMES))
		rc = ufs_stage_set_mtime(c->ufs, sw.stage, mtime_ns);
	if (rc) {
		LOG(LOG_ERROR, "core: joining an encrypted upload's parts failed: %s",
		    atr_strerror(rc));
		stage_writer_release(c, &sw);
		return rc;
	}
	stage_writer_md5(&sw, sum);
	*out = sw.stage;
	sw.stage = NULL;
	stage_writer_release(c, &sw);
	return ATR_OK;
}

int sse_segments_check(struct atr_core *c, struct ufs_stage *in, const uint64_t *sizes, int n,
		       int type, const char *upload_id)
{
	unsigned char hdr[CRYPT_HDR], upload[CRYPT_UPLOAD];
	uint64_t base = 0;
	crypt_upload_tag(upload_id, upload);
	for (int i = 0; i < n; i++) {
		struct crypt_hdr h;
		int rc = stage_read(c, in, hdr, CRYPT_HDR, base);
		if (rc)
			return rc;
		if (!crypt_hdr_parse(hdr, &h) && h.type == type && !h.part)
			return SSE_PARTS_OLD; /* stored before parts were segments */
		if (crypt_hdr_parse(hdr, &h) || h.type != type || h.part != i + 1 ||
		    memcmp(h.upload, upload, CRYPT_UPLOAD)) {
			LOG(LOG_ERROR, "core: upload %s: part %d's file is not its segment",
			    upload_id, i + 1);
			return ATR_E_IO;
		}
		base += crypt_file_size(sizes[i]);
	}
	return ATR_OK;
}
