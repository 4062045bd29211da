/*
 * ufs_s3_http — signed S3 requests for the S3 under-storage driver
 * (src/ufs_s3.c): libcurl, a pool of easy handles that keep their
 * connections, SigV4 by common/sigv4.c, retries with backoff, S3 errors
 * mapped to the core's. Knows requests, not trees: keys, listings and
 * uploads are the driver's.
 *
 * Thread-safety: ufs_s3_http_request may run on any number of threads at
 * once (pool_lock guards the pool, held only to take or give back a
 * handle); the rest of struct ufs_s3_http is fixed after init. One
 * struct ufs_s3_req belongs to the thread that sends it.
 * Secrets: the secret is copied at init, never logged, and wiped at
 * release; a request's signed headers are wiped once it is done.
 */
#ifndef SRC_UFS_S3_HTTP_INT_H
#define SRC_UFS_S3_HTTP_INT_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>

#include "common/buf.h"
#include "src/ufs_int.h"

#define UFS_S3_POOL_MAX 16 /* idle handles kept (each keeps its connections) */

struct ufs_s3_http {
	char *scheme_host;       /* "http://127.0.0.1:9000" or "https://bucket.host" */
	char *host;              /* the Host header */
	char *path_base;         /* "/bucket" (path style) or "" (virtual host) */
	char *region, *access_key, *ca_bundle;
	char *secret;            /* wiped at release, never logged */
	pthread_mutex_t pool_lock;
	CURL *pool[UFS_S3_POOL_MAX]; /* guarded by pool_lock */
	int npool;               /* guarded by pool_lock */
};

/* One request and what its answer said. Set up with ufs_s3_req_init,
 * then the fields wanted; the "filled" ones are the answer's. */
struct ufs_s3_req {
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
	int reached;          /* an attempt got past connecting: the store may have
			       * acted on it (a PUT may have replaced the object) */
	char etag[128];
	uint64_t length;
	int has_length;
	int64_t last_modified; /* seconds, or -1 */
	char code[64];         /* the S3 error code of a failure, if it had a body */
	struct buf *errbody;   /* a failure's body when resp is NULL (request's) */
};

/* The endpoint, region, credentials, style and CA bundle of cfg (the
 * bucket goes in the host or the path). ATR_E_INVALID_ARG for an
 * endpoint that is not scheme://host[:port]; on failure h is released. */
int ufs_s3_http_init(struct ufs_s3_http *h, const struct ufs_s3_config *cfg);
void ufs_s3_http_release(struct ufs_s3_http *h);

/* An empty request of method on key (NULL: the bucket itself). */
void ufs_s3_req_init(struct ufs_s3_req *r, const char *method, const char *key);
/*
 * Sends r, retrying (with backoff) transport failures, 5xx, SlowDown and
 * RequestTimeout; a retried upload starts over from its first byte.
 * ATR_OK with r->status 2xx (or 304/412/416, which callers read
 * themselves), or the mapped error of the last attempt (ufs_s3_req_err).
 */
int ufs_s3_http_request(struct ufs_s3_http *h, struct ufs_s3_req *r);
/* The core's error for a failed answer: by S3 code, then by status. */
int ufs_s3_req_err(const struct ufs_s3_req *r);
/* The S3 error code of an XML error body, into r->code. */
void ufs_s3_req_code(struct ufs_s3_req *r, const struct buf *body);
/* Appends name=value (value UriEncoded) to a raw query, '&' between. */
int ufs_s3_query_add(struct buf *q, const char *name, const char *value);

#endif
