/*
 * ufs_s3 — the under-storage as a remote S3 bucket (src/ufs_int.h, "The S3
 * driver"): the tree is the bucket's keys under an optional prefix, read
 * with HEAD, ranged GET and ListObjectsV2, written with PutObject or a
 * multipart upload. Stages and parts live in a local driver's private area
 * (borrowed): only stage_commit and stage_recover move bytes up.
 *
 * Requests go through src/ufs_s3_http.c (libcurl, common/sigv4.c's
 * signer); XML answers are read with common/xml.c. Threads: any op on any
 * thread; the shared state is the request pool (ufs_s3_http's), the
 * file-stat cache (cache_lock) and the immutable configuration.
 */
#include "src/ufs_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "common/xml.h"
#include "src/ufs_s3_http_int.h"
#include "common/banned.h"

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
	char etag[128];          /* the object's ETag, "" when not said */
	char path[];
};

struct ufs_s3 {
	struct ufs base;
	struct ufs *priv;        /* the private area: stages and parts; borrowed */
	struct ufs_s3_http http; /* the requests */
	char *prefix;            /* "" or "a/b" */
	uint64_t part_size;
	int parallel_parts;
	int64_t sync_interval_ms;
	int64_t refreshed_ns;    /* atomic: the last refresh (s3_refresh), or 0 */
	/* Never held across a request. */
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

/* The start of the current sync period: a directory's mtime. A refresh
 * starts a period of its own, which lasts until the next one would have
 * started anyway (with -1, until the next refresh). */
static int64_t period_ns(const struct ufs_s3 *s)
{
	int64_t refreshed = __atomic_load_n(&s->refreshed_ns, __ATOMIC_ACQUIRE), p;
	if (s->sync_interval_ms < 0) {
		p = DIR_CONST_NS;
	} else {
		int64_t now = time_now_ns();
		int64_t n = s->sync_interval_ms * 1000000LL;
		p = n ? now / n * n : now;
	}
	return p > refreshed ? p : refreshed;
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

/* What the last answer of this sync period said of path: its stat, and
 * its ETag into etag (if not NULL; a hit then needs one). */
static int cache_get(struct ufs_s3 *s, const char *path, struct ufs_stat *st, char *etag,
		     size_t etag_size)
{
	if (!s->sync_interval_ms)
		return 0;
	int64_t now = period_ns(s);
	int hit = 0;
	pthread_mutex_lock(&s->cache_lock);
	for (struct cent *e = s->cache[cache_slot(path)]; e; e = e->next)
		if (!strcmp(e->path, path)) {
			if (e->period == now && (!etag || e->etag[0])) {
				*st = e->st;
				if (etag)
					snprintf(etag, etag_size, "%s", e->etag);
				hit = 1;
			}
			break;
		}
	pthread_mutex_unlock(&s->cache_lock);
	return hit;
}

static void cache_put(struct ufs_s3 *s, const char *path, const struct ufs_stat *st,
		      const char *etag)
{
	if (!s->sync_interval_ms)
		return;
	size_t n = strlen(path);
	struct cent *e = malloc(sizeof(*e) + n + 1);
	if (!e)
		return; /* a cache: nothing lost */
	memcpy(e->path, path, n + 1);
	e->st = *st;
	snprintf(e->etag, sizeof(e->etag), "%s", etag ? etag : "");
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

/* HEAD of a key: ATR_OK with r filled, ATR_E_NO_KEY, or an error. */
static int head(struct ufs_s3 *s, const char *key, struct ufs_s3_req *r)
{
	ufs_s3_req_init(r, "HEAD", key);
	int rc = ufs_s3_http_request(&s->http, r);
	if (!rc && r->status != 200)
		rc = ATR_E_IO;
	return rc;
}

/* Whether the bucket is there: ATR_OK or ATR_E_NO_BUCKET or an error. */
static int bucket_check(struct ufs_s3 *s)
{
	struct ufs_s3_req r;
	ufs_s3_req_init(&r, "HEAD", NULL);
	int rc = ufs_s3_http_request(&s->http, &r);
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
	if ((token && ufs_s3_query_add(&q, "continuation-token", token)) ||
	    (l->delimiter && ufs_s3_query_add(&q, "delimiter", "/")) ||
	    ufs_s3_query_add(&q, "list-type", "2") || ufs_s3_query_add(&q, "max-keys", mk) ||
	    ufs_s3_query_add(&q, "prefix", l->prefix))
		goto out;
	struct ufs_s3_req r;
	ufs_s3_req_init(&r, "GET", NULL);
	r.query = q.ptr;
	r.resp = &body;
	if ((rc = ufs_s3_http_request(&s->http, &r)))
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
	if (!*path) { /* the bucket answers once a sync period */
		int rc = cache_get(s, "", st, NULL, 0) ? ATR_OK : bucket_check(s);
		if (!rc) {
			dir_stat(s, st);
			cache_put(s, "", st, NULL);
		}
		return rc;
	}
	if (cache_get(s, path, st, NULL, 0))
		return ATR_OK;
	char *key = key_of(s, path, 0), *dkey = key_of(s, path, 1);
	int rc = ATR_E_NOMEM;
	struct ufs_s3_req r;
	if (!key || !dkey)
		goto out;
	rc = head(s, key, &r);
	if (!rc) {
		file_stat(r.length, r.last_modified < 0 ? 0 : r.last_modified, st);
		cache_put(s, path, st, r.etag);
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
	struct ufs_s3_req r;
	int rc = ATR_E_NOMEM;
	if (!f || !(f->key = key_of(s, path, 0)))
		goto fail;
	if (!*path) {
		rc = ATR_E_KEY_IS_PREFIX;
		goto fail;
	}
	/* Within a sync period, what the last answer said opens it: the
	 * reads' If-Match still refuses another version. */
	if (cache_get(s, path, st, f->etag, sizeof(f->etag))) {
		f->size = st->size;
		*out = f;
		return ATR_OK;
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
	cache_put(s, path, st, r.etag);
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
		struct ufs_s3_req r;
		ufs_s3_req_init(&r, "GET", f->key);
		r.range = range;
		r.if_match = f->etag;
		r.dst = (char *)buf + got;
		r.dst_len = len - got;
		r.skip = from;
		int rc = ufs_s3_http_request(&s->http, &r);
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
			cache_put(d->s, seg, &st, etag);
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
	struct ufs_s3_req r;
	ufs_s3_req_init(&r, "PUT", key);
	return ufs_s3_http_request(&s->http, &r);
}

static int s3_mkdir(struct ufs *u, const char *path)
{
	struct ufs_s3 *s = S(u);
	if (!*path)
		return bucket_check(s);
	char *key = key_of(s, path, 0), *dkey = key_of(s, path, 1);
	int rc = ATR_E_NOMEM;
	struct ufs_s3_req r;
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
		struct ufs_s3_req r;
		ufs_s3_req_init(&r, "DELETE", dkey);
		rc = ufs_s3_http_request(&s->http, &r);
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
	struct ufs_s3_req r;
	ufs_s3_req_init(&r, "DELETE", key);
	int rc = ufs_s3_http_request(&s->http, &r);
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
		struct ufs_s3_req r;
		int rc = ATR_E_NOMEM;
		snprintf(num, sizeof(num), "%u", i + 1);
		if (!ufs_s3_query_add(&q, "partNumber", num) && !ufs_s3_query_add(&q, "uploadId", m->upload_id)) {
			ufs_s3_req_init(&r, "PUT", m->key);
			r.query = q.ptr;
			r.fd = m->fd;
			r.fd_off = (uint64_t)i * m->part_size;
			r.fd_len = m->size - r.fd_off < m->part_size ? m->size - r.fd_off : m->part_size;
			rc = ufs_s3_http_request(&m->s->http, &r);
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
	if (!ufs_s3_query_add(&q, "uploadId", upload_id)) {
		struct ufs_s3_req r;
		ufs_s3_req_init(&r, "DELETE", key);
		r.query = q.ptr;
		rc = ufs_s3_http_request(&s->http, &r);
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
	struct ufs_s3_req r;
	ufs_s3_req_init(&r, "POST", key);
	r.query = "uploads=";
	r.resp = &body;
	if ((rc = ufs_s3_http_request(&s->http, &r)))
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
	if (ufs_s3_query_add(&q, "uploadId", upload_id)) {
		buf_release(&q);
		goto abort;
	}
	buf_reset(&body);
	ufs_s3_req_init(&r, "POST", key);
	r.query = q.ptr;
	r.mem = xml.ptr;
	r.mem_len = xml.len;
	r.resp = &body;
	rc = ufs_s3_http_request(&s->http, &r);
	buf_release(&q);
	/* A 200 may still carry an error, found only once the parts were put
	 * together: the body says which. */
	if (!rc && (r.status != 200 || strstr(body.ptr ? body.ptr : "", "<Error>"))) {
		ufs_s3_req_code(&r, &body);
		rc = r.code[0] ? ufs_s3_req_err(&r) : ATR_E_IO;
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
	int rc, reached = 1;
	struct ufs_s3_req r;
	if (size > s->part_size) {
		rc = upload_multipart(s, key, fd, size);
	} else {
		ufs_s3_req_init(&r, "PUT", key);
		r.fd = fd;
		r.fd_len = size;
		rc = ufs_s3_http_request(&s->http, &r);
		reached = r.reached;
		if (!rc && r.status != 200)
			rc = ATR_E_IO;
	}
	/* The store's Last-Modified is the file's mtime: asked, not guessed. */
	if (!rc && !(rc = head(s, key, &r)))
		file_stat(r.length, r.last_modified < 0 ? 0 : r.last_modified, st);
	free(key);
	if (rc && reached)
		cache_forget(s, path); /* a failed upload may have replaced it */
	else if (!rc)
		cache_put(s, path, st, r.etag);
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

static void s3_free(struct ufs *u)
{
	struct ufs_s3 *s = S(u);
	if (!s)
		return;
	ufs_s3_http_release(&s->http);
	cache_clear_locked(s); /* no op runs any more */
	pthread_mutex_destroy(&s->cache_lock);
	free(s->prefix);
	free(s);
}

/* The whole mount point, not just path: one refresh costs each directory
 * looked at afterwards one listing, which is what was asked for path. */
static void s3_refresh(struct ufs *u, const char *path)
{
	(void)path;
	__atomic_store_n(&S(u)->refreshed_ns, time_now_ns(), __ATOMIC_RELEASE);
}

static const struct ufs_ops s3_ops = {
	.version = UFS_VERSION,
	.name = "s3",
	.refresh = s3_refresh,
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
	struct ufs_s3 *s = calloc(1, sizeof(*s));
	if (!s)
		return ATR_E_NOMEM;
	int rc = ufs_s3_http_init(&s->http, cfg);
	if (rc) {
		free(s);
		return rc;
	}
	pthread_mutex_init(&s->cache_lock, NULL);
	s->base.ops = &s3_ops;
	s->base.caps = UFS_CAP_PARTS | UFS_CAP_RANDOM_WRITE | UFS_CAP_DIRS_IMPLIED;
	s->priv = private_area;
	s->part_size = cfg->part_size ? cfg->part_size : 8u << 20;
	s->parallel_parts = cfg->parallel_parts > 0 ? cfg->parallel_parts : 4;
	s->sync_interval_ms = cfg->sync_interval_ms;
	if (!(s->prefix = strdup(cfg->prefix ? cfg->prefix : ""))) {
		s3_free(&s->base);
		return ATR_E_NOMEM;
	}
	*out = &s->base;
	return ATR_OK;
}
