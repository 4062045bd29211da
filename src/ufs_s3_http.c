/* ufs_s3_http — signed S3 requests for the S3 driver (src/ufs_s3_http_int.h). */
#include "src/ufs_s3_http_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/sigv4.h"
#include "common/timefmt.h"
#include "common/uri.h"
#include "common/xml.h"
#include "common/banned.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define TRIES 5                /* attempts of one request on a retryable failure */
#define BACKOFF_MS 50          /* first wait; doubled after each attempt */

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct ufs_s3_req *r = arg;
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
	struct ufs_s3_req *r = arg;
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
	struct ufs_s3_req *r = arg;
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
	struct ufs_s3_req *r = arg;
	uint64_t len = r->fd >= 0 ? r->fd_len : r->mem_len;
	if (origin != SEEK_SET || off < 0 || (uint64_t)off > len)
		return CURL_SEEKFUNC_CANTSEEK;
	r->sent = (uint64_t)off;
	return CURL_SEEKFUNC_OK;
}

static CURL *handle_get(struct ufs_s3_http *s)
{
	CURL *h = NULL;
	pthread_mutex_lock(&s->pool_lock);
	if (s->npool)
		h = s->pool[--s->npool];
	pthread_mutex_unlock(&s->pool_lock);
	return h ? h : curl_easy_init();
}

/* Back to the pool: curl_easy_reset keeps the handle's live connections. */
static void handle_put(struct ufs_s3_http *s, CURL *h, int keep)
{
	if (keep) {
		curl_easy_reset(h);
		pthread_mutex_lock(&s->pool_lock);
		if (s->npool < UFS_S3_POOL_MAX) {
			s->pool[s->npool++] = h;
			h = NULL;
		}
		pthread_mutex_unlock(&s->pool_lock);
	}
	if (h)
		curl_easy_cleanup(h);
}

/* The S3 error code of an XML error body, into r->code. */
void ufs_s3_req_code(struct ufs_s3_req *r, const struct buf *body)
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

static int status_retryable(const struct ufs_s3_req *r)
{
	return (r->status >= 500 && r->status != 501) || !strcmp(r->code, "SlowDown") ||
	       !strcmp(r->code, "RequestTimeout") || !strcmp(r->code, "InternalError");
}

/* One attempt: builds, signs and sends r. CURLE_OK and r->status, or the
 * transport's error. */
static CURLcode attempt(struct ufs_s3_http *s, CURL *h, struct ufs_s3_req *r, struct buf *url,
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
			ufs_s3_req_code(r, r->resp ? r->resp : err);
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
int ufs_s3_req_err(const struct ufs_s3_req *r)
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
int ufs_s3_http_request(struct ufs_s3_http *s, struct ufs_s3_req *r)
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
		if (cc != CURLE_COULDNT_CONNECT && cc != CURLE_COULDNT_RESOLVE_HOST)
			r->reached = 1;
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
			rc = ufs_s3_req_err(r);
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

void ufs_s3_req_init(struct ufs_s3_req *r, const char *method, const char *key)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->key = key;
	r->fd = -1;
	r->last_modified = -1;
}

int ufs_s3_query_add(struct buf *q, const char *name, const char *value)
{
	if ((q->len && buf_addch(q, '&')) || buf_addstr(q, name) || buf_addch(q, '='))
		return -1;
	return uri_encode(q, value, strlen(value), 0);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

/* curl_global_init is not thread-safe in every libcurl: once, ever. The
 * one mutable global of the S3 driver, as libcurl's own state is
 * process-wide (curl_global_cleanup is never called: other users of
 * libcurl in the process may still need it). */
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
static int endpoint_setup(struct ufs_s3_http *s, const struct ufs_s3_config *cfg)
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
		if (buf_addch(&sh, '/') || buf_addstr(&sh, cfg->bucket))
			goto out;
		s->path_base = buf_detach(&sh);
	} else {
		if (buf_addf(&sh, "%s.%s", cfg->bucket, hostpart))
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

static void free_str(char *p)
{
	if (p)
		explicit_bzero(p, strlen(p));
	free(p);
}

void ufs_s3_http_release(struct ufs_s3_http *s)
{
	for (int i = 0; i < s->npool; i++)
		curl_easy_cleanup(s->pool[i]);
	s->npool = 0;
	pthread_mutex_destroy(&s->pool_lock);
	free_str(s->secret);
	free(s->scheme_host);
	free(s->host);
	free(s->path_base);
	free(s->region);
	free(s->access_key);
	free(s->ca_bundle);
	memset(s, 0, sizeof(*s));
}

int ufs_s3_http_init(struct ufs_s3_http *s, const struct ufs_s3_config *cfg)
{
	pthread_once(&curl_once, curl_init_once);
	if (!curl_ok)
		return ATR_E_INTERNAL;
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->pool_lock, NULL);
	int rc = ATR_E_NOMEM;
	if (!(s->region = dup_or(cfg->region, "us-east-1")) ||
	    !(s->access_key = strdup(cfg->access_key)) || !(s->secret = strdup(cfg->secret)) ||
	    (cfg->ca_bundle && !(s->ca_bundle = strdup(cfg->ca_bundle))) ||
	    (rc = endpoint_setup(s, cfg))) {
		ufs_s3_http_release(s);
		return rc ? rc : ATR_E_NOMEM;
	}
	return ATR_OK;
}
