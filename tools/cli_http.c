/*
 * cli_http — the CLI's requests to atriumd: SigV4-signed when keys are
 * known (common/sigv4.c), over HTTP or HTTPS (the certificate checked
 * against --cacert or the standard CA variables, unless --insecure), the
 * admin API's JSON answers and errors, listings page by page.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/sigv4.h"
#include "common/uri.h"
#include "tools/cli.h"
#include "common/banned.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

int http_set_endpoint(struct client *c, const char *url)
{
	const char *p = strstr(url, "://");
	size_t n = strlen(url);
	while (n && url[n - 1] == '/')
		n--;
	if (!p || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) ||
	    n >= sizeof(c->endpoint))
		return -1;
	const char *auth = p + 3;
	size_t al = strcspn(auth, "/");
	if (!al || al >= sizeof(c->host) || auth + al != url + n)
		return -1; /* no path allowed after the authority */
	snprintf(c->endpoint, sizeof(c->endpoint), "%.*s", (int)n, url);
	snprintf(c->host, sizeof(c->host), "%.*s", (int)al, auth);
	return 0;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;
	long code = 0;
	curl_easy_getinfo(s->c->h, CURLINFO_RESPONSE_CODE, &code);
	if (s->out && code >= 200 && code < 300) {
		if (s->md5)
			hash_update(s->md5, p, len);
		if (fwrite(p, 1, len, s->out) != len) {
			s->failed_write = 1;
			return 0;
		}
		return len;
	}
	return buf_add(s->body, p, len) ? 0 : len;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	progress_bytes(arg, (uint64_t)(dlnow > ulnow ? dlnow : ulnow));
	return 0;
}

/* Why a TLS connection failed, and what to do about it. */
static const char *tls_hint(CURLcode rc)
{
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
		return " (a self-signed or private CA? trust it with --cacert FILE or "
		       "$AWS_CA_BUNDLE/$CURL_CA_BUNDLE/$SSL_CERT_FILE; --insecure skips the check)";
	case CURLE_SSL_CACERT_BADFILE:
		return " (the --cacert or CA bundle file cannot be read)";
	default:
		return "";
	}
}

long http(struct client *c, const struct http_req *r, struct sink *sink)
{
	struct buf url = BUF_INIT(64 * 1024), auth = BUF_INIT(1024), cs = BUF_INIT(8192);
	struct curl_slist *hdrs = NULL;
	char line[9000], date[SIGV4_DATE_LEN];
	long code = -1;
	const char *payload = r->upload ? "UNSIGNED-PAYLOAD" : EMPTY_SHA256;

	if (buf_addstr(&url, c->endpoint) || uri_encode(&url, r->path, strlen(r->path), 1) ||
	    (r->query && *r->query && (buf_addch(&url, '?') || buf_addstr(&url, r->query)))) {
		fprintf(stderr, "%s: path too long\n", prog_cmd);
		goto out;
	}
	/* CopyObject's source: /bucket/key, UriEncoded as S3 expects. */
	if (r->copy_source && uri_encode(&cs, r->copy_source, strlen(r->copy_source), 1)) {
		fprintf(stderr, "%s: path too long\n", prog_cmd);
		goto out;
	}
	snprintf(line, sizeof(line), "Host: %s", c->host);
	hdrs = curl_slist_append(hdrs, line);
	if (c->access_key && *c->access_key) {
		struct sigv4_req sr = {
			.method = r->method, .path = r->path, .query = r->query, .host = c->host,
			.payload_sha256 = payload, .now = time(NULL), .region = c->region,
			.service = "s3", .access_key = c->access_key,
			.secret = c->secret ? c->secret : "",
			.amz_name = r->copy_source ? "x-amz-copy-source" : NULL,
			.amz_value = r->copy_source ? cs.ptr : NULL,
		};
		if (sigv4_sign(&sr, date, &auth)) {
			fprintf(stderr, "%s: cannot sign the request\n", prog_cmd);
			goto out;
		}
		snprintf(line, sizeof(line), "x-amz-date: %s", date);
		hdrs = curl_slist_append(hdrs, line);
		snprintf(line, sizeof(line), "Authorization: %s", auth.ptr);
		hdrs = curl_slist_append(hdrs, line);
	}
	snprintf(line, sizeof(line), "x-amz-content-sha256: %s", payload);
	hdrs = curl_slist_append(hdrs, line);
	if (r->copy_source) {
		snprintf(line, sizeof(line), "x-amz-copy-source: %s", cs.ptr);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (r->range) {
		snprintf(line, sizeof(line), "Range: %s", r->range);
		hdrs = curl_slist_append(hdrs, line);
	}
	hdrs = curl_slist_append(hdrs, "Content-Type:"); /* curl's default for POST: none */

	CURL *h = c->h;
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url.ptr);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	if (c->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
	if (c->capath)
		curl_easy_setopt(h, CURLOPT_CAPATH, c->capath);
	if (c->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (r->progress && r->progress->on) {
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, r->progress);
	}
	if (r->upload) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READDATA, r->upload);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->size);
	} else if (r->copy_source) {
		/* A PUT with an empty body (Content-Length: 0). */
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
	} else if (!strcmp(r->method, "POST")) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
	} else if (strcmp(r->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	}
	CURLcode rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		if (sink->failed_write)
			fprintf(stderr, "%s: cannot write the output: %s\n", prog_cmd, strerror(errno));
		else
			fprintf(stderr, "%s: cannot reach %s: %s%s\n", prog_cmd, c->endpoint,
				curl_easy_strerror(rc), tls_hint(rc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
out:
	curl_slist_free_all(hdrs);
	buf_release(&url);
	buf_release(&cs);
	if (auth.ptr)
		explicit_bzero(auth.ptr, auth.len);
	buf_release(&auth);
	return code;
}

int query_add(struct buf *q, const char *name, const char *value)
{
	if (!value)
		return 0;
	if ((q->len && buf_addch(q, '&')) || buf_addstr(q, name) || buf_addch(q, '='))
		return -1;
	return uri_encode(q, value, strlen(value), 0);
}

int admin(struct client *c, const char *method, const char *endpoint, const char *query,
	  const char *what, struct json **out)
{
	int quiet = c->quiet;
	c->quiet = 0;
	struct buf body = BUF_INIT(RESP_MAX);
	struct sink sink = { .c = c, .body = &body };
	char path[128], err[128];
	int rc = 1;
	snprintf(path, sizeof(path), "/api/v1/%s", endpoint);
	struct http_req r = { .method = method, .path = path, .query = query };
	long code = http(c, &r, &sink);
	if (code < 0)
		goto out;
	struct json *j = json_parse(body.ptr ? body.ptr : "", body.len, err, sizeof(err));
	if (code != 200 && quiet) {
		json_free(j);
		goto out;
	}
	if (code != 200) {
		const char *ecode = json_get_str(j, "error"), *msg = json_get_str(j, "message");
		if (ecode && !strcmp(ecode, "NotFound") && what)
			fprintf(stderr, "%s: %s does not exist\n", prog_cmd, what);
		else if (msg)
			fprintf(stderr, "%s: %s%s%s (%s)\n", prog_cmd, what && !strstr(msg, what) ? what : "",
				what && !strstr(msg, what) ? ": " : "", msg, ecode ? ecode : "error");
		else
			fprintf(stderr, "%s: the daemon answered HTTP %ld\n", prog_cmd, code);
		json_free(j);
		goto out;
	}
	if (!j) {
		fprintf(stderr, "%s: bad answer from the daemon: %s\n", prog_cmd, err);
		goto out;
	}
	if (out)
		*out = j;
	else
		json_free(j);
	rc = 0;
out:
	if (body.ptr)
		explicit_bzero(body.ptr, body.len); /* user calls answer with secrets */
	buf_release(&body);
	return rc;
}

int admin_path(struct client *c, const char *endpoint, const char *path, const char *name,
	       const char *value, int recursive, struct json **out)
{
	struct buf q = BUF_INIT(16 * 1024);
	int rc = 1;
	if (!query_add(&q, "path", path) && !query_add(&q, name, value) &&
	    !query_add(&q, "recursive", recursive ? "1" : NULL))
		rc = admin(c, strncmp(endpoint, "fs/stat", 7) ? "POST" : "GET", endpoint,
			   q.ptr, path, out);
	buf_release(&q);
	return rc;
}

int stat_path(struct client *c, const char *path, struct json **out)
{
	return admin_path(c, "fs/stat", path, NULL, NULL, 0, out);
}

int is_dir(const struct json *e)
{
	const char *t = json_get_str(e, "type");
	return t && strcmp(t, "file");
}

int need_file(struct client *c, const char *path, struct json **out)
{
	struct json *j = NULL;
	if (stat_path(c, path, &j))
		return 1;
	if (is_dir(j)) {
		fprintf(stderr, "%s: %s is a directory\n", prog_cmd, path);
		json_free(j);
		return 1;
	}
	if (out)
		*out = j;
	else
		json_free(j);
	return 0;
}

int download(struct client *c, const char *path, const char *range, FILE *out,
	     struct hash *md5, struct progress *p)
{
	struct buf err = BUF_INIT(1 << 20);
	struct sink sink = { .c = c, .body = &err, .out = out, .md5 = md5 };
	struct http_req r = { .method = "GET", .path = path, .range = range, .progress = p };
	long code = http(c, &r, &sink);
	int rc = 0;
	if (code < 0) {
		rc = 1;
	} else if (code != 200 && code != 206) {
		fprintf(stderr, "%s: %s: the daemon answered HTTP %ld\n", prog_cmd, path, code);
		rc = 1;
	}
	buf_release(&err);
	return rc;
}

void entries_free(struct entries *e)
{
	for (size_t i = 0; i < e->npages; i++)
		json_free(e->pages[i]);
	free(e->pages);
	free(e->v);
	memset(e, 0, sizeof(*e));
}

int list_all(struct client *c, const char *path, int recursive, int sync, struct entries *e)
{
	char next[4096] = "", page[16];
	memset(e, 0, sizeof(*e));
	snprintf(page, sizeof(page), "%d", c->page);
	for (;;) {
		struct buf q = BUF_INIT(16 * 1024);
		struct json *j = NULL;
		int rc = query_add(&q, "path", path) ||
			 query_add(&q, "recursive", recursive ? "1" : NULL) ||
			 query_add(&q, "sync", sync && !*next ? "1" : NULL) ||
			 query_add(&q, "max", page) || query_add(&q, "start", *next ? next : NULL);
		rc = rc ? 1 : admin(c, "GET", "fs/list", q.ptr, path, &j);
		buf_release(&q);
		if (rc)
			return 1;
		void *p = realloc(e->pages, (e->npages + 1) * sizeof(*e->pages));
		if (!p) {
			json_free(j);
			return 1;
		}
		e->pages = p;
		e->pages[e->npages++] = j;
		const struct json *arr = json_get(j, "entries");
		for (const struct json *it = arr ? arr->child : NULL; it; it = it->next) {
			if (e->n == e->cap) {
				size_t cap = e->cap ? 2 * e->cap : 256;
				const struct json **v = realloc(e->v, cap * sizeof(*v));
				if (!v)
					return 1;
				e->v = v;
				e->cap = cap;
			}
			e->v[e->n++] = it;
		}
		const char *nx = json_get_str(j, "next");
		if (!json_get_bool(j, "truncated", 0) || !nx || !*nx)
			return 0;
		snprintf(next, sizeof(next), "%s", nx);
	}
}
