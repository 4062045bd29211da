/*
 * ufs_s3 — the under-storage as a remote S3 bucket (src/ufs_int.h, "The S3
 * driver"): the tree is the bucket's keys under an optional prefix, read
 * with HEAD, ranged GET and ListObjectsV2, written with PutObject or a
 * multipart upload. Stages and parts live in a local driver's private area
 * (borrowed): only stage_commit and stage_recover move bytes up.
 *
 * HTTP is libcurl; every request is signed by common/sigv4.c (the signer
 * the CLI uses); XML answers are read with common/xml.c. Threads: any op
 * on any thread; the only shared state is the pool of idle curl handles
 * (guarded by pool_lock) and the immutable configuration.
 */
#include "src/ufs_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/sigv4.h"
#include "common/timefmt.h"
#include "common/uri.h"
#include "common/xml.h"
#include "common/banned.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define POOL_MAX 16            /* idle handles kept (each keeps its connections) */
#define TRIES 5                /* attempts of one request on a retryable failure */
#define BACKOFF_MS 50          /* first wait; doubled after each attempt */
#define XML_MAX (8u << 20)     /* the largest XML answer read (a listing page) */
#define PART_MAX 10000         /* S3's limit of parts per upload */
#define DIR_CONST_NS 1000000000LL /* directories' mtime when sync_interval_ms is -1 */
#define CACHE_BUCKETS 4096     /* chains of the file-stat cache */
#define CACHE_MAX 65536        /* entries kept; past it the cache starts afresh */

/* A file's stat as the last HEAD or listing of its sync period said. */
struct cent {
	struct cent *next;
	int64_t period;          /* period_ns() when it was said */
	struct ufs_stat st;
	char path[];
};

struct ufs_s3 {
	struct ufs base;
	struct ufs *priv;        /* the private area: stages and parts; borrowed */
	char *scheme_host;       /* "http://127.0.0.1:9000" or "https://bucket.host" */
	char *host;              /* the Host header */
	char *path_base;         /* "/bucket" (path style) or "" (virtual host) */
	char *bucket, *prefix;   /* prefix "" or "a/b" */
	char *region, *access_key, *ca_bundle;
	char *secret;            /* wiped on free, never logged */
	uint64_t part_size;
	int parallel_parts;
	int64_t sync_interval_ms;
	pthread_mutex_t pool_lock;
	CURL *pool[POOL_MAX];    /* guarded by pool_lock */
	int npool;               /* guarded by pool_lock */
	/* Never held across a request, nor with pool_lock. */
	pthread_mutex_t cache_lock;
	struct cent *cache[CACHE_BUCKETS]; /* guarded by cache_lock */
	unsigned ncache;         /* guarded by cache_lock */
};

/* What was opened: that version of the key (its ETag), whatever replaces it. */
struct ufs_file {
	char *key;
	char etag[128];
	uint64_t size;
};

static struct ufs_s3 *S(struct ufs *u) { return (struct ufs_s3 *)u; }

/* ---- one request ---- */

struct req {
	const char *method;
	const char *key;      /* the full key, or NULL for the bucket itself */
	const char *query;    /* raw, already encoded; NULL: none */
	const char *range;    /* "bytes=a-b" or NULL */
	const char *if_match; /* an ETag or NULL */
	/* the body: a file's range (fd >= 0), or memory, or none */
	int fd;
	uint64_t fd_off, fd_len;
	const char *mem;
	size_t mem_len;
	/* the answer: into dst (GET ranges), or into resp (capped), or dropped */
	char *dst;
	size_t dst_len;
	uint64_t skip;        /* a 200 to a ranged GET: bytes before the range */
	struct buf *resp;
	/* filled */
	long status;
	size_t got;
	uint64_t sent;
	char etag[128];
	uint64_t length;
	int has_length;
	int64_t last_modified; /* seconds, or -1 */
	char code[64];         /* the S3 error code of a failure, if it had a body */
	struct buf *errbody;   /* a failure's body when resp is NULL (request's) */
};

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct req *r = arg;
	size_t len = size * n;
	char line[512];
	size_t l = len < sizeof(line) - 1 ? len : sizeof(line) - 1;
	memcpy(line, p, l);
	line[l] = '\0';
	while (l && (line[l - 1] == '\r' || line[l - 1] == '\n'))
		line[--l] = '\0';
	if (!strncmp(line, "HTTP/", 5)) {
		/* A new answer (a 100 Continue first, or a retry): start over. */
		const char *sp = strchr(line, ' ');
		r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		r->etag[0] = '\0';
		r->has_length = 0;
		r->last_modified = -1;
		return len;
	}
	char *colon = strchr(line, ':');
	if (!colon)
		return len;
	*colon = '\0';
	char *v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	if (!strcasecmp(line, "etag")) {
		snprintf(r->etag, sizeof(r->etag), "%s", v);
	} else if (!strcasecmp(line, "content-length")) {
		char *end;
		errno = 0;
		unsigned long long x = strtoull(v, &end, 10);
		r->has_length = !errno && end != v;
		r->length = x;
	} else if (!strcasecmp(line, "last-modified")) {
		time_t t;
		if (!time_parse_http(v, &t))
			r->last_modified = (int64_t)t;
	}
	return len;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct req *r = arg;
	size_t len = size * n;
	if (r->status < 200 || r->status > 299 || !r->dst) {
		/* An error's XML (kept to read its Code), or an answer kept whole. */
		struct buf *b = r->resp ? r->resp : r->status >= 300 ? r->errbody : NULL;
		if (b && buf_add(b, p, len))
			return 0; /* past the cap: abort the transfer */
		return len;
	}
	/* A 200 to a ranged GET (a store ignoring Range): skip up to the range. */
	size_t off = 0;
	if (r->status == 200 && r->skip) {
		off = r->skip < len ? (size_t)r->skip : len;
		r->skip -= off;
	}
	size_t take = len - off;
	if (take > r->dst_len - r->got)
		take = r->dst_len - r->got; /* more than asked: drop the rest */
	memcpy(r->dst + r->got, p + off, take);
	r->got += take;
	return len;
}

static size_t on_read(char *p, size_t size, size_t n, void *arg)
{
	struct req *r = arg;
	size_t want = size * n;
	uint64_t left = (r->fd >= 0 ? r->fd_len : r->mem_len) - r->sent;
	if (want > left)
		want = (size_t)left;
	if (!want)
		return 0;
	if (r->fd < 0) {
		memcpy(p, r->mem + r->sent, want);
		r->sent += want;
		return want;
	}
	ssize_t got;
	do
		got = pread(r->fd, p, want, (off_t)(r->fd_off + r->sent));
	while (got < 0 && errno == EINTR);
	if (got <= 0)
		return CURL_READFUNC_ABORT; /* the stage shrank or failed: never a short body */
	r->sent += (uint64_t)got;
	return (size_t)got;
}

/* curl rewinds a body to send it again on a fresh connection (a reused
 * one the server had closed): reads restart at the offset it names. */
static int on_seek(void *arg, curl_off_t off, int origin)
{
	struct req *r = arg;
	uint64_t len = r->fd >= 0 ? r->fd_len : r->mem_len;
	if (origin != SEEK_SET || off < 0 || (uint64_t)off > len)
		return CURL_SEEKFUNC_CANTSEEK;
	r->sent = (uint64_t)off;
	return CURL_SEEKFUNC_OK;
}

static CURL *handle_get(struct ufs_s3 *s)
{
	CURL *h = NULL;
	pthread_mutex_lock(&s->pool_lock);
	if (s->npool)
		h = s->pool[--s->npool];
	pthread_mutex_unlock(&s->pool_lock);
	return h ? h : curl_easy_init();
}

/* Back to the pool: curl_easy_reset keeps the handle's live connections. */
static void handle_put(struct ufs_s3 *s, CURL *h, int keep)
{
	if (keep) {
		curl_easy_reset(h);
		pthread_mutex_lock(&s->pool_lock);
		if (s->npool < POOL_MAX) {
			s->pool[s->npool++] = h;
			h = NULL;
		}
		pthread_mutex_unlock(&s->pool_lock);
	}
	if (h)
		curl_easy_cleanup(h);
}

/* The S3 error code of an XML error body, into r->code. */
static void error_code(struct req *r, const struct buf *body)
{
	if (!body || !body->len)
		return;
	xmlDocPtr doc = xml_parse(body->ptr, body->len);
	xmlNodePtr root = doc ? xml_root(doc, "Error") : NULL;
	char *code = root ? xml_text(xml_child(root, "Code")) : NULL;
	if (code)
		snprintf(r->code, sizeof(r->code), "%s", code);
	xmlFree(code);
	if (doc)
		xmlFreeDoc(doc);
}

/* Transport failures worth another attempt: the connection, not the request. */
static int curl_retryable(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT: case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT: case CURLE_SEND_ERROR: case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING: case CURLE_PARTIAL_FILE: case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2: case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

static int status_retryable(const struct req *r)
{
	return r->status >= 500 || !strcmp(r->code, "SlowDown") ||
	       !strcmp(r->code, "RequestTimeout") || !strcmp(r->code, "InternalError");
}

/* One attempt: builds, signs and sends r. CURLE_OK and r->status, or the
 * transport's error. */
static CURLcode attempt(struct ufs_s3 *s, CURL *h, struct req *r, struct buf *url,
			struct buf *path, struct buf *err)
{
	struct buf auth = BUF_INIT(4096);
	struct curl_slist *hdrs = NULL, *t = NULL;
	char line[1024], date[SIGV4_DATE_LEN], hex[2 * SHA256_LEN + 1];
	const char *payload = EMPTY_SHA256;
	CURLcode rc = CURLE_OUT_OF_MEMORY;

	if (r->fd >= 0) {
		payload = "UNSIGNED-PAYLOAD"; /* a stage is not hashed twice */
	} else if (r->mem) {
		unsigned char sum[SHA256_LEN];
		sha256(r->mem, r->mem_len, sum);
		hex_encode(sum, sizeof(sum), hex);
		payload = hex;
	}
	struct sigv4_req sr = {
		.method = r->method, .path = path->ptr, .query = r->query, .host = s->host,
		.payload_sha256 = payload, .now = time(NULL), .region = s->region,
		.service = "s3", .access_key = s->access_key, .secret = s->secret,
	};
	/* The signature is appended to the header's name: one header line. */
	if (buf_addstr(&auth, "Authorization: ") || sigv4_sign(&sr, date, &auth))
		goto out;
#define HDR(...) do { \
		snprintf(line, sizeof(line), __VA_ARGS__); \
		if (!(t = curl_slist_append(hdrs, line))) \
			goto out; \
		hdrs = t; \
	} while (0)
	HDR("Host: %s", s->host);
	HDR("x-amz-date: %s", date);
	HDR("x-amz-content-sha256: %s", payload);
	if (!(t = curl_slist_append(hdrs, auth.ptr)))
		goto out;
	hdrs = t;
	if (r->range)
		HDR("Range: %s", r->range);
	if (r->if_match)
		HDR("If-Match: %s", r->if_match);
	HDR("Content-Type:");  /* none of curl's defaults */
	HDR("Expect:");        /* no 100-continue round trip */
#undef HDR

	curl_easy_setopt(h, CURLOPT_URL, url->ptr);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	/* A stalled transfer (under 1 byte/s for 30 s) fails; a slow large
	 * one does not, so there is no total timeout. */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	if (s->ca_bundle)
		curl_easy_setopt(h, CURLOPT_CAINFO, s->ca_bundle);
	if (!strcmp(r->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (r->fd >= 0 || (!strcmp(r->method, "PUT") && !r->mem)) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, r);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, r);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)(r->fd >= 0 ? r->fd_len : 0));
	} else if (r->mem || !strcmp(r->method, "POST")) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->mem ? r->mem : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->mem_len);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	} else if (strcmp(r->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	}
	r->status = 0;
	r->errbody = err;
	r->got = 0;
	r->sent = 0;
	r->code[0] = '\0';
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
		if (r->status >= 300)
			error_code(r, r->resp ? r->resp : err);
	}
out:
	for (t = hdrs; t; t = t->next) /* the signature goes with its request */
		explicit_bzero(t->data, strlen(t->data));
	curl_slist_free_all(hdrs);
	if (auth.ptr)
		explicit_bzero(auth.ptr, auth.len);
	buf_release(&auth);
	return rc;
}

/* The core's error for a failed answer. */
static int status_err(const struct req *r)
{
	static const struct { const char *code; int err; } codes[] = {
		{ "NoSuchBucket", ATR_E_NO_BUCKET },
		{ "NoSuchKey", ATR_E_NO_KEY },
		{ "NoSuchUpload", ATR_E_NO_KEY },
		{ "EntityTooLarge", ATR_E_FILE_TOO_BIG },
		{ "QuotaExceeded", ATR_E_QUOTA },
		{ "InsufficientStorage", ATR_E_NOSPC },
		{ "XMinioStorageFull", ATR_E_NOSPC },
		{ "AccessDenied", ATR_E_ACCESS },
		{ "SignatureDoesNotMatch", ATR_E_ACCESS },
		{ "InvalidAccessKeyId", ATR_E_ACCESS },
	};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (!strcmp(r->code, codes[i].code))
			return codes[i].err;
	switch (r->status) {
	case 401: case 403: return ATR_E_ACCESS;
	case 404: return ATR_E_NO_KEY;
	case 413: return ATR_E_FILE_TOO_BIG;
	case 507: return ATR_E_NOSPC;
	default: return ATR_E_IO;
	}
}

/*
 * Sends r, retrying (with backoff) transport failures, 5xx, SlowDown and
 * RequestTimeout; a retried upload starts over from the first byte. ATR_OK
 * with r->status 2xx (or 304/412/416, which callers read themselves), or
 * the mapped error of the last attempt.
 */
static int request(struct ufs_s3 *s, struct req *r)
{
	struct buf url = BUF_INIT(16 * 1024), path = BUF_INIT(8 * 1024), err = BUF_INIT(64 * 1024);
	int rc = ATR_E_NOMEM;
	CURL *h = NULL;
	size_t resp_mark = r->resp ? r->resp->len : 0;
	if (buf_addstr(&path, s->path_base) || buf_addch(&path, '/') ||
	    (r->key && buf_addstr(&path, r->key)) || buf_addstr(&url, s->scheme_host) ||
	    uri_encode(&url, path.ptr, path.len, 1) ||
	    (r->query && (buf_addch(&url, '?') || buf_addstr(&url, r->query))))
		goto out;
	if (!(h = handle_get(s)))
		goto out;
	for (int i = 0;; i++) {
		if (r->resp) {
			r->resp->len = resp_mark;
			if (r->resp->ptr)
				r->resp->ptr[resp_mark] = '\0';
		}
		buf_reset(&err);
		CURLcode cc = attempt(s, h, r, &url, &path, &err);
		int retry = 0;
		if (cc != CURLE_OK) {
			rc = cc == CURLE_OUT_OF_MEMORY ? ATR_E_NOMEM : ATR_E_IO;
			retry = curl_retryable(cc);
			if (!retry || i + 1 == TRIES)
				LOG(LOG_WARN, "ufs_s3: %s %s: %s", r->method, path.ptr,
				    curl_easy_strerror(cc));
		} else if ((r->status >= 200 && r->status <= 299) || r->status == 304 ||
			   r->status == 412 || r->status == 416) {
			rc = ATR_OK;
			break;
		} else {
			rc = status_err(r);
			retry = status_retryable(r);
			if (rc != ATR_E_NO_KEY && (!retry || i + 1 == TRIES))
				LOG(LOG_WARN, "ufs_s3: %s %s: HTTP %ld %s", r->method, path.ptr,
				    r->status, r->code);
		}
		if (!retry || i + 1 == TRIES)
			break;
		/* A connection that failed is not reused. */
		if (cc != CURLE_OK) {
			curl_easy_cleanup(h);
			if (!(h = curl_easy_init())) {
				rc = ATR_E_NOMEM;
				break;
			}
		}
		struct timespec ts = { 0, (long)BACKOFF_MS * 1000000L << i };
		while (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		nanosleep(&ts, NULL);
	}
	handle_put(s, h, rc == ATR_OK || r->status);
out:
	buf_release(&url);
	buf_release(&path);
	buf_release(&err);
	return rc;
}

static void req_init(struct req *r, const char *method, const char *key)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->key = key;
	r->fd = -1;
	r->last_modified = -1;
}

/* ---- keys and times ---- */

/* The key of path (with dir_slash, as a directory: "key/"), malloc'd. */
static char *key_of(struct ufs_s3 *s, const char *path, int dir_slash)
{
	struct buf b = BUF_INIT(ATR_KEY_MAX + ATR_BUCKET_MAX + 64);
	if ((*s->prefix && buf_addstr(&b, s->prefix)) ||
	    (*s->prefix && *path && buf_addch(&b, '/')) || buf_addstr(&b, path) ||
	    (dir_slash && b.len && buf_addch(&b, '/'))) {
		buf_release(&b);
		return NULL;
	}
	if (!b.ptr && !(b.ptr = strdup("")))
		return NULL;
	return b.ptr;
}

/* The start of the current sync period: a directory's mtime. */
static int64_t period_ns(const struct ufs_s3 *s)
{
	if (s->sync_interval_ms < 0)
		return DIR_CONST_NS;
	int64_t now = time_now_ns();
	if (s->sync_interval_ms == 0)
		return now;
	int64_t n = s->sync_interval_ms * 1000000LL;
	return now / n * n;
}

static void dir_stat(const struct ufs_s3 *s, struct ufs_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->is_dir = 1;
	st->mode = 0700;
	st->uid = geteuid();
	st->mtime_ns = period_ns(s);
}

/* A file's mtime is its Last-Modified, in whole seconds: HEAD says no
 * more, and a listing's milliseconds must not differ from it. */
static void file_stat(uint64_t size, int64_t mtime_s, struct ufs_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->is_reg = 1;
	st->mode = 0600;
	st->uid = geteuid();
	st->size = size;
	st->mtime_ns = mtime_s * 1000000000LL;
}

/* ---- the file-stat cache ----
 * Within one sync period a file's stat may be what the last HEAD or
 * listing said (ufs_int.h): a lookup after a listing costs no request.
 * With sync_interval_ms 0 every look is a period of its own: nothing is
 * kept. Our own commits and unlinks update it; another writer's change
 * is seen from the next period on, as the core's sync would see it. */

static unsigned cache_slot(const char *path)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % CACHE_BUCKETS;
}

static void cache_clear_locked(struct ufs_s3 *s)
{
	for (unsigned i = 0; i < CACHE_BUCKETS; i++)
		while (s->cache[i]) {
			struct cent *e = s->cache[i];
			s->cache[i] = e->next;
			free(e);
		}
	s->ncache = 0;
}

/* Unlinks and frees the entry of path, if any. */
static void cache_drop_locked(struct ufs_s3 *s, const char *path)
{
	for (struct cent **pp = &s->cache[cache_slot(path)]; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->path, path)) {
			struct cent *e = *pp;
			*pp = e->next;
			free(e);
			s->ncache--;
			return;
		}
}

static int cache_get(struct ufs_s3 *s, const char *path, struct ufs_stat *st)
{
	if (!s->sync_interval_ms)
		return 0;
	int64_t now = period_ns(s);
	int hit = 0;
	pthread_mutex_lock(&s->cache_lock);
	for (struct cent *e = s->cache[cache_slot(path)]; e; e = e->next)
		if (!strcmp(e->path, path)) {
			if (e->period == now) {
				*st = e->st;
				hit = 1;
			}
			break;
		}
	pthread_mutex_unlock(&s->cache_lock);
	return hit;
}

static void cache_put(struct ufs_s3 *s, const char *path, const struct ufs_stat *st)
{
	if (!s->sync_interval_ms)
		return;
	size_t n = strlen(path);
	struct cent *e = malloc(sizeof(*e) + n + 1);
	if (!e)
		return; /* a cache: nothing lost */
	memcpy(e->path, path, n + 1);
	e->st = *st;
	e->period = period_ns(s);
	unsigned slot = cache_slot(path);
	pthread_mutex_lock(&s->cache_lock);
	cache_drop_locked(s, path);
	if (s->ncache >= CACHE_MAX)
		cache_clear_locked(s);
	e->next = s->cache[slot];
	s->cache[slot] = e;
	s->ncache++;
	pthread_mutex_unlock(&s->cache_lock);
}

static void cache_forget(struct ufs_s3 *s, const char *path)
{
	if (!s->sync_interval_ms)
		return;
	pthread_mutex_lock(&s->cache_lock);
	cache_drop_locked(s, path);
	pthread_mutex_unlock(&s->cache_lock);
}

/* ---- the tree ---- */

static int query_add(struct buf *q, const char *name, const char *value)
{
	if ((q->len && buf_addch(q, '&')) || buf_addstr(q, name) || buf_addch(q, '='))
		return -1;
	return uri_encode(q, value, strlen(value), 0);
}

/* HEAD of a key: ATR_OK with r filled, ATR_E_NO_KEY, or an error. */
static int head(struct ufs_s3 *s, const char *key, struct req *r)
{
	req_init(r, "HEAD", key);
	int rc = request(s, r);
	if (!rc && r->status != 200)
		rc = ATR_E_IO;
	return rc;
}

/* Whether the bucket is there: ATR_OK or ATR_E_NO_BUCKET or an error. */
static int bucket_check(struct ufs_s3 *s)
{
	struct req r;
	req_init(&r, "HEAD", NULL);
	int rc = request(s, &r);
	if (rc == ATR_E_NO_KEY)
		rc = ATR_E_NO_BUCKET;
	return rc;
}

struct listing {
	const char *prefix;    /* the keys' common start ("dir/" or "") */
	int delimiter;         /* with delimiter "/" */
	int max_keys;          /* 0: the store's (1000) */
	/* per entry: name relative to prefix (a common prefix with its
	 * '/'); non-zero stops the listing */
	int (*cb)(void *arg, const char *name, const char *etag, uint64_t size, int64_t mtime_s,
		  int is_prefix);
	void *arg;
	int one_page;          /* stop after the first page */
	unsigned seen;         /* keys and prefixes seen */
	int stopped;           /* cb returned non-zero: no more pages */
};

static int list_page(struct ufs_s3 *s, struct listing *l, const char *token, char **next)
{
	struct buf q = BUF_INIT(8192), body = BUF_INIT(XML_MAX);
	char mk[16];
	int rc = ATR_E_NOMEM;
	xmlDocPtr doc = NULL;
	*next = NULL;
	snprintf(mk, sizeof(mk), "%d", l->max_keys ? l->max_keys : 1000);
	/* Parameters in order of name: the signer sorts them anyway. */
	if ((token && query_add(&q, "continuation-token", token)) ||
	    (l->delimiter && query_add(&q, "delimiter", "/")) || query_add(&q, "list-type", "2") ||
	    query_add(&q, "max-keys", mk) || query_add(&q, "prefix", l->prefix))
		goto out;
	struct req r;
	req_init(&r, "GET", NULL);
	r.query = q.ptr;
	r.resp = &body;
	if ((rc = request(s, &r)))
		goto out;
	rc = ATR_E_IO;
	if (r.status != 200 || !(doc = xml_parse(body.ptr ? body.ptr : "", body.len)))
		goto out;
	xmlNodePtr root = xml_root(doc, "ListBucketResult");
	if (!root)
		goto out;
	size_t plen = strlen(l->prefix);
	rc = ATR_OK;
	for (xmlNodePtr n = xml_child(root, "Contents"); n && !rc && !l->stopped;
	     n = xml_next(n, "Contents")) {
		char *key = xml_text(xml_child(n, "Key"));
		char *size = xml_text(xml_child(n, "Size"));
		char *lm = xml_text(xml_child(n, "LastModified"));
		char *etag = xml_text(xml_child(n, "ETag"));
		int64_t ms = 0;
		if (!key || strncmp(key, l->prefix, plen) || !size ||
		    (lm && time_parse_iso8601(lm, &ms)))
			rc = ATR_E_IO;
		else {
			l->seen++;
			l->stopped = l->cb(l->arg, key + plen, etag ? etag : "",
					   strtoull(size, NULL, 10), ms / 1000, 0);
		}
		xmlFree(key);
		xmlFree(size);
		xmlFree(lm);
		xmlFree(etag);
	}
	for (xmlNodePtr n = xml_child(root, "CommonPrefixes"); n && !rc && !l->stopped;
	     n = xml_next(n, "CommonPrefixes")) {
		char *p = xml_text(xml_child(n, "Prefix"));
		if (!p || strncmp(p, l->prefix, plen))
			rc = ATR_E_IO;
		else {
			l->seen++;
			l->stopped = l->cb(l->arg, p + plen, "", 0, 0, 1);
		}
		xmlFree(p);
	}
	char *trunc = xml_text(xml_child(root, "IsTruncated"));
	if (!rc && !l->stopped && trunc && !strcmp(trunc, "true")) {
		char *tok = xml_text(xml_child(root, "NextContinuationToken"));
		if (tok && *tok && !(*next = strdup(tok)))
			rc = ATR_E_NOMEM;
		else if (!tok || !*tok)
			rc = ATR_E_IO; /* truncated with no way on */
		xmlFree(tok);
	}
	xmlFree(trunc);
out:
	if (doc)
		xmlFreeDoc(doc);
	buf_release(&q);
	buf_release(&body);
	return rc;
}

/* Every page of a listing, following continuation tokens. */
static int list(struct ufs_s3 *s, struct listing *l)
{
	char *token = NULL;
	int rc;
	do {
		char *next = NULL;
		rc = list_page(s, l, token, &next);
		free(token);
		token = next;
	} while (!rc && token && !l->one_page && !l->stopped);
	free(token);
	return rc == ATR_E_NO_KEY ? ATR_E_NO_BUCKET : rc; /* a listing's 404: no bucket */
}

struct probe {
	const char *self; /* an entry that does not count ("" for the marker) */
	unsigned others;
};

static int probe_cb(void *arg, const char *name, const char *etag, uint64_t size,
		    int64_t mtime_s, int is_prefix)
{
	struct probe *p = arg;
	if (is_prefix || strcmp(name, p->self))
		p->others++;
	return 0;
}

/* How many keys are under dirkey ("a/b/"), the marker itself not counted
 * (at most 2 asked). */
static int count_under(struct ufs_s3 *s, const char *dirkey, unsigned *n, unsigned *with_marker)
{
	struct probe p = { "", 0 };
	struct listing l = { .prefix = dirkey, .max_keys = 2, .cb = probe_cb, .arg = &p,
			     .one_page = 1 };
	int rc = list(s, &l);
	*n = p.others;
	if (with_marker)
		*with_marker = l.seen;
	return rc;
}

static int s3_stat(struct ufs *u, const char *path, struct ufs_stat *st)
{
	struct ufs_s3 *s = S(u);
	if (!*path) {
		int rc = bucket_check(s);
		if (!rc)
			dir_stat(s, st);
		return rc;
	}
	if (cache_get(s, path, st))
		return ATR_OK;
	char *key = key_of(s, path, 0), *dkey = key_of(s, path, 1);
	int rc = ATR_E_NOMEM;
	struct req r;
	if (!key || !dkey)
		goto out;
	rc = head(s, key, &r);
	if (!rc) {
		file_stat(r.length, r.last_modified < 0 ? 0 : r.last_modified, st);
		cache_put(s, path, st);
	} else if (rc == ATR_E_NO_KEY) {
		cache_forget(s, path);
		unsigned n, seen;
		if (!(rc = count_under(s, dkey, &n, &seen))) {
			if (seen)
				dir_stat(s, st);
			else
				rc = ATR_E_NO_KEY;
		}
	}
out:
	free(key);
	free(dkey);
	return rc;
}

static int s3_open(struct ufs *u, const char *path, struct ufs_file **out, struct ufs_stat *st)
{
	struct ufs_s3 *s = S(u);
	struct ufs_file *f = calloc(1, sizeof(*f));
	struct req r;
	int rc = ATR_E_NOMEM;
	if (!f || !(f->key = key_of(s, path, 0)))
		goto fail;
	if (!*path) {
		rc = ATR_E_KEY_IS_PREFIX;
		goto fail;
	}
	if ((rc = head(s, f->key, &r)))
		goto fail;
	if (!r.has_length || !r.etag[0]) {
		rc = ATR_E_IO;
		goto fail;
	}
	snprintf(f->etag, sizeof(f->etag), "%s", r.etag);
	f->size = r.length;
	file_stat(r.length, r.last_modified < 0 ? 0 : r.last_modified, st);
	cache_put(s, path, st);
	*out = f;
	return ATR_OK;
fail:
	if (f)
		free(f->key);
	free(f);
	return rc;
}

/*
 * Ranged GETs of the version opened (If-Match: its ETag; a 412 says the
 * key was replaced: an error, which the core takes as "changed"; so is
 * an answer with another ETag, from a store that ignores If-Match). A short
 * answer is asked again for the rest; one that makes no progress twice is
 * an error, so is a 416 before the size opened.
 */
static ssize_t s3_pread(struct ufs *u, struct ufs_file *f, void *buf, size_t len, uint64_t off)
{
	struct ufs_s3 *s = S(u);
	if (off >= f->size || !len)
		return 0;
	if (len > f->size - off)
		len = (size_t)(f->size - off);
	size_t got = 0;
	int stalls = 0;
	while (got < len) {
		char range[64];
		uint64_t from = off + got, to = off + len - 1;
		snprintf(range, sizeof(range), "bytes=%llu-%llu", (unsigned long long)from,
			 (unsigned long long)to);
		struct req r;
		req_init(&r, "GET", f->key);
		r.range = range;
		r.if_match = f->etag;
		r.dst = (char *)buf + got;
		r.dst_len = len - got;
		r.skip = from;
		int rc = request(s, &r);
		if (rc || (r.status != 200 && r.status != 206)) {
			if (!rc && r.status == 412)
				LOG(LOG_INFO, "ufs_s3: %s changed since it was opened", f->key);
			errno = rc == ATR_E_NO_KEY ? ENOENT : EIO;
			return -1;
		}
		/* A store that ignores If-Match still names what it sent. */
		if (r.etag[0] && strcmp(r.etag, f->etag)) {
			LOG(LOG_INFO, "ufs_s3: %s changed since it was opened", f->key);
			errno = EIO;
			return -1;
		}
		if (!r.got && ++stalls == 2) {
			errno = EIO;
			return -1;
		}
		got += r.got;
	}
	return (ssize_t)got;
}

static void s3_close(struct ufs *u, struct ufs_file *f)
{
	if (f) {
		free(f->key);
		free(f);
	}
}

struct rd {
	struct ufs_s3 *s;
	const char *dir; /* the directory's path ("" for the root) */
	ufs_dirent_cb cb;
	void *arg;
	int stopped;
};

static int readdir_cb(void *arg, const char *name, const char *etag, uint64_t size,
		      int64_t mtime_s, int is_prefix)
{
	struct rd *d = arg;
	struct ufs_stat st;
	char seg[ATR_KEY_MAX + 2];
	if (is_prefix) {
		/* "sub/": the directory sub; "/" (a key "dir//x") has no name. */
		size_t n = strlen(name);
		if (n < 2 || n > sizeof(seg) - 1)
			return 0;
		memcpy(seg, name, n - 1);
		seg[n - 1] = '\0';
		dir_stat(d->s, &st);
		name = seg;
	} else {
		if (!*name || strchr(name, '/'))
			return 0; /* the directory's own marker */
		file_stat(size, mtime_s, &st);
		if (d->s->sync_interval_ms &&
		    (size_t)snprintf(seg, sizeof(seg), "%s%s%s", d->dir, *d->dir ? "/" : "", name) <
			    sizeof(seg))
			cache_put(d->s, seg, &st);
	}
	if (d->cb(d->arg, name, &st)) {
		d->stopped = 1;
		return 1;
	}
	return 0;
}

static int s3_readdir(struct ufs *u, const char *path, ufs_dirent_cb cb, void *arg)
{
	struct ufs_s3 *s = S(u);
	char *dkey = key_of(s, path, 1);
	if (!dkey)
		return ATR_E_NOMEM;
	struct rd d = { s, path, cb, arg, 0 };
	struct listing l = { .prefix = dkey, .delimiter = 1, .cb = readdir_cb, .arg = &d };
	int rc = list(s, &l);
	/* An empty listing: the root (or a prefix root) is there if the
	 * bucket is; any other directory is not there at all. */
	if (!rc && !l.seen)
		rc = *path ? ATR_E_NO_KEY : bucket_check(s);
	free(dkey);
	return rc;
}

static int put_empty(struct ufs_s3 *s, const char *key)
{
	struct req r;
	req_init(&r, "PUT", key);
	return request(s, &r);
}

static int s3_mkdir(struct ufs *u, const char *path)
{
	struct ufs_s3 *s = S(u);
	if (!*path)
		return bucket_check(s);
	char *key = key_of(s, path, 0), *dkey = key_of(s, path, 1);
	int rc = ATR_E_NOMEM;
	struct req r;
	if (!key || !dkey)
		goto out;
	rc = head(s, key, &r);
	if (!rc)
		rc = ATR_E_PARENT_IS_OBJECT; /* a file there */
	else if (rc == ATR_E_NO_KEY)
		rc = put_empty(s, dkey);
out:
	free(key);
	free(dkey);
	return rc;
}

/* Never removes the remote bucket: rmdir of the root is a no-op. */
static int s3_rmdir(struct ufs *u, const char *path)
{
	struct ufs_s3 *s = S(u);
	if (!*path)
		return ATR_OK;
	char *dkey = key_of(s, path, 1);
	unsigned n;
	if (!dkey)
		return ATR_E_NOMEM;
	int rc = count_under(s, dkey, &n, NULL);
	if (!rc && n)
		rc = ATR_E_BUCKET_NOT_EMPTY;
	if (!rc) {
		struct req r;
		req_init(&r, "DELETE", dkey);
		rc = request(s, &r);
		if (rc == ATR_E_NO_KEY)
			rc = ATR_OK;
	}
	free(dkey);
	return rc;
}

static int s3_unlink(struct ufs *u, const char *path)
{
	struct ufs_s3 *s = S(u);
	char *key = key_of(s, path, 0);
	if (!key)
		return ATR_E_NOMEM;
	struct req r;
	req_init(&r, "DELETE", key);
	int rc = request(s, &r);
	free(key);
	cache_forget(s, path); /* whatever the answer: it may be gone */
	return rc == ATR_E_NO_KEY ? ATR_OK : rc;
}

/* ---- uploads: a stage's bytes go up ---- */

struct mpu {
	struct ufs_s3 *s;
	const char *key, *upload_id;
	int fd;
	uint64_t size, part_size;
	unsigned nparts;
	pthread_mutex_t lock;  /* guards next, rc and etags[] */
	unsigned next;         /* the next part to send (0-based) */
	int rc;                /* the first failure */
	char (*etags)[128];
};

static void *mpu_worker(void *arg)
{
	struct mpu *m = arg;
	for (;;) {
		pthread_mutex_lock(&m->lock);
		unsigned i = m->next++;
		int stop = m->rc || i >= m->nparts;
		pthread_mutex_unlock(&m->lock);
		if (stop)
			return NULL;
		struct buf q = BUF_INIT(4096);
		char num[16];
		struct req r;
		int rc = ATR_E_NOMEM;
		snprintf(num, sizeof(num), "%u", i + 1);
		if (!query_add(&q, "partNumber", num) && !query_add(&q, "uploadId", m->upload_id)) {
			req_init(&r, "PUT", m->key);
			r.query = q.ptr;
			r.fd = m->fd;
			r.fd_off = (uint64_t)i * m->part_size;
			r.fd_len = m->size - r.fd_off < m->part_size ? m->size - r.fd_off : m->part_size;
			rc = request(m->s, &r);
			if (!rc && (r.status != 200 || !r.etag[0]))
				rc = ATR_E_IO;
		}
		buf_release(&q);
		pthread_mutex_lock(&m->lock);
		if (rc && !m->rc)
			m->rc = rc;
		else if (!rc)
			snprintf(m->etags[i], sizeof(m->etags[i]), "%s", r.etag);
		pthread_mutex_unlock(&m->lock);
	}
}

/* The text of the first element named name in an XML body, or NULL. */
static char *xml_field(const struct buf *body, const char *root_name, const char *name)
{
	xmlDocPtr doc = body->len ? xml_parse(body->ptr, body->len) : NULL;
	xmlNodePtr root = doc ? xml_root(doc, root_name) : NULL;
	char *v = root ? xml_text(xml_child(root, name)) : NULL;
	char *out = v ? strdup(v) : NULL;
	xmlFree(v);
	if (doc)
		xmlFreeDoc(doc);
	return out;
}

static int mpu_abort(struct ufs_s3 *s, const char *key, const char *upload_id)
{
	struct buf q = BUF_INIT(4096);
	int rc = ATR_E_NOMEM;
	if (!query_add(&q, "uploadId", upload_id)) {
		struct req r;
		req_init(&r, "DELETE", key);
		r.query = q.ptr;
		rc = request(s, &r);
	}
	buf_release(&q);
	return rc;
}

/* A multipart upload of fd's size bytes, parallel_parts at a time; an
 * upload that fails is aborted. */
static int upload_multipart(struct ufs_s3 *s, const char *key, int fd, uint64_t size)
{
	struct buf body = BUF_INIT(64 * 1024), xml = BUF_INIT(PART_MAX * 200 + 1024);
	struct mpu m = { .s = s, .key = key, .fd = fd, .size = size, .part_size = s->part_size };
	pthread_t th[64];
	int nth = 0, rc;
	char *upload_id = NULL;
	/* Parts past S3's 10,000: larger parts, as few as fit. */
	if ((size + m.part_size - 1) / m.part_size > PART_MAX)
		m.part_size = (size + PART_MAX - 1) / PART_MAX;
	m.nparts = (unsigned)((size + m.part_size - 1) / m.part_size);
	struct req r;
	req_init(&r, "POST", key);
	r.query = "uploads=";
	r.resp = &body;
	if ((rc = request(s, &r)))
		goto out;
	if (r.status != 200 || !(upload_id = xml_field(&body, "InitiateMultipartUploadResult",
							 "UploadId"))) {
		rc = ATR_E_IO;
		goto out;
	}
	m.upload_id = upload_id;
	if (!(m.etags = calloc(m.nparts, sizeof(*m.etags)))) {
		rc = ATR_E_NOMEM;
		goto abort;
	}
	pthread_mutex_init(&m.lock, NULL);
	int want = s->parallel_parts < (int)m.nparts ? s->parallel_parts : (int)m.nparts;
	for (nth = 0; nth < want && nth < (int)(sizeof(th) / sizeof(th[0])); nth++)
		if (pthread_create(&th[nth], NULL, mpu_worker, &m))
			break;
	if (!nth)
		mpu_worker(&m); /* no thread: on this one */
	for (int i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&m.lock);
	if ((rc = m.rc))
		goto abort;
	rc = ATR_E_NOMEM;
	if (buf_addstr(&xml, "<CompleteMultipartUpload>"))
		goto abort;
	for (unsigned i = 0; i < m.nparts; i++)
		if (buf_addf(&xml, "<Part><PartNumber>%u</PartNumber><ETag>", i + 1) ||
		    buf_add_xml(&xml, m.etags[i]) || buf_addstr(&xml, "</ETag></Part>"))
			goto abort;
	if (buf_addstr(&xml, "</CompleteMultipartUpload>"))
		goto abort;
	struct buf q = BUF_INIT(4096);
	if (query_add(&q, "uploadId", upload_id)) {
		buf_release(&q);
		goto abort;
	}
	buf_reset(&body);
	req_init(&r, "POST", key);
	r.query = q.ptr;
	r.mem = xml.ptr;
	r.mem_len = xml.len;
	r.resp = &body;
	rc = request(s, &r);
	buf_release(&q);
	/* A 200 may still carry an error, found only once the parts were put
	 * together: the body says which. */
	if (!rc && (r.status != 200 || strstr(body.ptr ? body.ptr : "", "<Error>"))) {
		error_code(&r, &body);
		rc = r.code[0] ? status_err(&r) : ATR_E_IO;
	}
	if (!rc)
		goto out;
abort:
	mpu_abort(s, key, upload_id);
out:
	free(m.etags);
	free(upload_id);
	buf_release(&body);
	buf_release(&xml);
	return rc;
}

/* Puts fd's bytes at path's key and fills st from the store's answer. */
static int upload(struct ufs_s3 *s, const char *path, int fd, struct ufs_stat *st)
{
	struct stat sb;
	if (!*path)
		return ATR_E_KEY_IS_PREFIX;
	if (fstat(fd, &sb))
		return ATR_E_IO;
	char *key = key_of(s, path, 0);
	if (!key)
		return ATR_E_NOMEM;
	uint64_t size = (uint64_t)sb.st_size;
	int rc;
	struct req r;
	if (size > s->part_size) {
		rc = upload_multipart(s, key, fd, size);
	} else {
		req_init(&r, "PUT", key);
		r.fd = fd;
		r.fd_len = size;
		rc = request(s, &r);
		if (!rc && r.status != 200)
			rc = ATR_E_IO;
	}
	/* The store's Last-Modified is the file's mtime: asked, not guessed. */
	if (!rc && !(rc = head(s, key, &r)))
		file_stat(r.length, r.last_modified < 0 ? 0 : r.last_modified, st);
	free(key);
	if (rc)
		cache_forget(s, path); /* a failed upload may have replaced it */
	else
		cache_put(s, path, st);
	/* A PUT never needs a parent made first: a 404 here (NoSuchUpload,
	 * or a HEAD that does not see the PUT yet) is no missing directory,
	 * which ATR_E_NO_KEY would tell the core (it would mkdir and retry). */
	return rc == ATR_E_NO_KEY ? ATR_E_IO : rc;
}

static int s3_stage_commit(struct ufs *u, struct ufs_stage *stage, const char *path,
			   struct ufs_stat *st)
{
	struct ufs_s3 *s = S(u);
	int fd = ufs_local_stage_fd(s->priv, stage);
	if (fd < 0)
		return ATR_E_INTERNAL;
	int rc = upload(s, path, fd, st);
	if (!rc)
		ufs_stage_abort(s->priv, stage); /* up there: the local copy goes */
	return rc;
}

static int s3_stage_recover(struct ufs *u, const char *name, const char *path)
{
	struct ufs_s3 *s = S(u);
	struct ufs_stat st;
	int fd = -1;
	int rc = ufs_local_stage_open(s->priv, name, &fd);
	if (rc)
		return rc; /* ATR_E_NO_KEY: no such stage */
	rc = upload(s, path, fd, &st);
	close(fd);
	if (!rc)
		ufs_stage_forget(s->priv, name);
	return rc;
}

/* ---- the private area: the local driver's ---- */

static int s3_stage_open(struct ufs *u, struct ufs_stage **out)
{
	return ufs_stage_open(S(u)->priv, out);
}

static int s3_stage_write(struct ufs *u, struct ufs_stage *st, const void *buf, size_t len)
{
	return ufs_stage_write(S(u)->priv, st, buf, len);
}

/* The stat the file will have is not known before the PUT (its
 * Last-Modified is the store's): the local file's is given, and the core
 * records stage_commit's once the commit is done (ns_commit.c). */
static int s3_stage_prepare(struct ufs *u, struct ufs_stage *stage, char *name, size_t size,
			    struct ufs_stat *st)
{
	int rc = ufs_stage_prepare(S(u)->priv, stage, name, size, st);
	if (!rc) {
		st->mtime_ns = st->mtime_ns / 1000000000LL * 1000000000LL;
		st->dev = st->ino = 0;
	}
	return rc;
}

static void s3_stage_abort(struct ufs *u, struct ufs_stage *st)
{
	ufs_stage_abort(S(u)->priv, st);
}

static void s3_stage_keep(struct ufs *u, struct ufs_stage *st)
{
	ufs_stage_keep(S(u)->priv, st);
}

static void s3_stage_gc(struct ufs *u)
{
	ufs_stage_gc(S(u)->priv);
}

static int s3_part_commit(struct ufs *u, struct ufs_stage *st, const char *upload,
			  const char *name, struct ufs_stat *out)
{
	return ufs_part_commit(S(u)->priv, st, upload, name, out);
}

static int s3_stage_append_part(struct ufs *u, struct ufs_stage *st, const char *upload,
				const char *name, uint64_t off, uint64_t len)
{
	return ufs_stage_append_part(S(u)->priv, st, upload, name, off, len);
}

static int s3_part_unlink(struct ufs *u, const char *upload, const char *name)
{
	return ufs_part_unlink(S(u)->priv, upload, name);
}

static int s3_part_remove_upload(struct ufs *u, const char *upload)
{
	return ufs_part_remove_upload(S(u)->priv, upload);
}

static int s3_part_readdir(struct ufs *u, const char *upload, ufs_dirent_cb cb, void *arg)
{
	return ufs_part_readdir(S(u)->priv, upload, cb, arg);
}

static int s3_stage_pwrite(struct ufs *u, struct ufs_stage *st, const void *buf, size_t len,
			   uint64_t off)
{
	return ufs_stage_pwrite(S(u)->priv, st, buf, len, off);
}

static ssize_t s3_stage_pread(struct ufs *u, struct ufs_stage *st, void *buf, size_t len,
			      uint64_t off)
{
	return ufs_stage_pread(S(u)->priv, st, buf, len, off);
}

static int s3_stage_truncate(struct ufs *u, struct ufs_stage *st, uint64_t size)
{
	return ufs_stage_truncate(S(u)->priv, st, size);
}

static void free_str(char *p)
{
	if (p)
		explicit_bzero(p, strlen(p));
	free(p);
}

static void s3_free(struct ufs *u)
{
	struct ufs_s3 *s = S(u);
	if (!s)
		return;
	for (int i = 0; i < s->npool; i++)
		curl_easy_cleanup(s->pool[i]);
	pthread_mutex_destroy(&s->pool_lock);
	cache_clear_locked(s); /* no op runs any more */
	pthread_mutex_destroy(&s->cache_lock);
	free_str(s->secret);
	free(s->scheme_host);
	free(s->host);
	free(s->path_base);
	free(s->bucket);
	free(s->prefix);
	free(s->region);
	free(s->access_key);
	free(s->ca_bundle);
	free(s);
}

static const struct ufs_ops s3_ops = {
	.version = UFS_VERSION,
	.name = "s3",
	.stat = s3_stat,
	.open = s3_open,
	.pread = s3_pread,
	.close = s3_close,
	.readdir = s3_readdir,
	.mkdir = s3_mkdir,
	.rmdir = s3_rmdir,
	.unlink = s3_unlink,
	.stage_open = s3_stage_open,
	.stage_write = s3_stage_write,
	.stage_prepare = s3_stage_prepare,
	.stage_commit = s3_stage_commit,
	.stage_abort = s3_stage_abort,
	.stage_keep = s3_stage_keep,
	.stage_recover = s3_stage_recover,
	.stage_gc = s3_stage_gc,
	.free = s3_free,
	.part_commit = s3_part_commit,
	.stage_append_part = s3_stage_append_part,
	.part_unlink = s3_part_unlink,
	.part_remove_upload = s3_part_remove_upload,
	.part_readdir = s3_part_readdir,
	.stage_pwrite = s3_stage_pwrite,
	.stage_pread = s3_stage_pread,
	.stage_truncate = s3_stage_truncate,
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

/* curl_global_init is not thread-safe in every libcurl: once, ever. */
static void curl_init_once(void)
{
	curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

static char *dup_or(const char *s, const char *dflt)
{
	return strdup(s && *s ? s : dflt);
}

/* Splits the endpoint into scheme://host[:port]; virtual-host style puts
 * the bucket in front of the host. */
static int endpoint_setup(struct ufs_s3 *s, const struct ufs_s3_config *cfg)
{
	struct buf ep = BUF_INIT(4096), sh = BUF_INIT(4096);
	int rc = ATR_E_NOMEM;
	if (cfg->endpoint && *cfg->endpoint) {
		if (buf_addstr(&ep, cfg->endpoint))
			goto out;
	} else if (buf_addf(&ep, "https://s3.%s.amazonaws.com", s->region)) {
		goto out;
	}
	while (ep.len && ep.ptr[ep.len - 1] == '/')
		ep.ptr[--ep.len] = '\0';
	const char *sep = strstr(ep.ptr, "://");
	if (!sep || !sep[3] || strchr(sep + 3, '/')) {
		LOG(LOG_ERROR, "ufs_s3: endpoint %s is not scheme://host[:port]", ep.ptr);
		rc = ATR_E_INVALID_ARG;
		goto out;
	}
	const char *hostpart = sep + 3;
	size_t scheme_len = (size_t)(hostpart - ep.ptr);
	if (cfg->path_style) {
		s->host = strdup(hostpart);
		s->scheme_host = strdup(ep.ptr);
		if (buf_addch(&sh, '/') || buf_addstr(&sh, s->bucket))
			goto out;
		s->path_base = buf_detach(&sh);
	} else {
		if (buf_addf(&sh, "%s.%s", s->bucket, hostpart))
			goto out;
		s->host = buf_detach(&sh);
		if (buf_add(&sh, ep.ptr, scheme_len) || buf_addstr(&sh, s->host))
			goto out;
		s->scheme_host = buf_detach(&sh);
		s->path_base = strdup("");
	}
	rc = s->host && s->scheme_host && s->path_base ? ATR_OK : ATR_E_NOMEM;
out:
	buf_release(&ep);
	buf_release(&sh);
	return rc;
}

int ufs_s3_new(const struct ufs_s3_config *cfg, struct ufs *private_area, struct ufs **out)
{
	if (!cfg || !private_area || !cfg->bucket || !*cfg->bucket || !cfg->access_key ||
	    !cfg->secret || (cfg->prefix && *cfg->prefix &&
			     (cfg->prefix[0] == '/' || cfg->prefix[strlen(cfg->prefix) - 1] == '/')))
		return ATR_E_INVALID_ARG;
	if (!ufs_is_local(private_area)) {
		LOG(LOG_ERROR, "ufs_s3: the private area must be a local driver");
		return ATR_E_INVALID_ARG;
	}
	pthread_once(&curl_once, curl_init_once);
	if (!curl_ok)
		return ATR_E_INTERNAL;
	struct ufs_s3 *s = calloc(1, sizeof(*s));
	if (!s)
		return ATR_E_NOMEM;
	pthread_mutex_init(&s->pool_lock, NULL);
	pthread_mutex_init(&s->cache_lock, NULL);
	s->base.ops = &s3_ops;
	s->base.caps = UFS_CAP_PARTS | UFS_CAP_RANDOM_WRITE;
	s->priv = private_area;
	s->part_size = cfg->part_size ? cfg->part_size : 8u << 20;
	s->parallel_parts = cfg->parallel_parts > 0 ? cfg->parallel_parts : 4;
	s->sync_interval_ms = cfg->sync_interval_ms;
	int rc = ATR_E_NOMEM;
	if (!(s->bucket = strdup(cfg->bucket)) || !(s->prefix = dup_or(cfg->prefix, "")) ||
	    !(s->region = dup_or(cfg->region, "us-east-1")) ||
	    !(s->access_key = strdup(cfg->access_key)) || !(s->secret = strdup(cfg->secret)) ||
	    (cfg->ca_bundle && !(s->ca_bundle = strdup(cfg->ca_bundle))) ||
	    (rc = endpoint_setup(s, cfg))) {
		s3_free(&s->base);
		return rc ? rc : ATR_E_NOMEM;
	}
	*out = &s->base;
	return ATR_OK;
}
