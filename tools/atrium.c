/*
 * atrium — the command-line client of atriumd: `atrium fs ...` and
 * `atrium report`, in the shape of Alluxio's `bin/alluxio fs`.
 *
 * It talks HTTP to the daemon only: the admin API (/api/v1/fs/..., report)
 * for the namespace, cache and persistence, and the S3 door for bytes (cat,
 * get, put). Requests are signed with SigV4 when an access key is known
 * (--access-key/--secret-key, else AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY);
 * without one they go unsigned, which a daemon in simple mode accepts.
 *
 * Exit status: 0 done, 1 the operation failed (missing path, refused,
 * daemon unreachable), 2 bad usage.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/hash.h"
#include "common/json.h"
#include "common/sigv4.h"
#include "common/uri.h"
#include "tools/cli_fmt.h"
#include "version.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define RESP_MAX (256 * 1024 * 1024)

struct client {
	CURL *h;
	char endpoint[512]; /* scheme://authority, no trailing '/' */
	char host[256];     /* authority: the Host header we sign */
	const char *access_key, *secret, *region;
	int page;           /* entries per list request */
	int quiet;          /* the next admin call prints no error */
};

static const char *prog_cmd = "atrium";

/* ---- HTTP ---- */

struct sink {
	struct client *c;
	struct buf *body;   /* the response when buffered (errors always are) */
	FILE *out;          /* else a successful body goes here */
	struct hash *md5;   /* and is hashed (may be NULL) */
	int failed_write;
};

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

/*
 * One request: method on path (decoded; encoded here), query (already
 * encoded, or NULL). upload (with size) is a PUT body. Returns the HTTP
 * status, or -1 after printing why the daemon could not be reached.
 */
static long request(struct client *c, const char *method, const char *path, const char *query,
		    FILE *upload, uint64_t size, struct sink *sink)
{
	struct buf url = BUF_INIT(64 * 1024), auth = BUF_INIT(1024);
	struct curl_slist *hdrs = NULL;
	char line[1400], date[SIGV4_DATE_LEN];
	long code = -1;
	const char *payload = upload ? "UNSIGNED-PAYLOAD" : EMPTY_SHA256;

	if (buf_addstr(&url, c->endpoint) || uri_encode(&url, path, strlen(path), 1) ||
	    (query && *query && (buf_addch(&url, '?') || buf_addstr(&url, query)))) {
		fprintf(stderr, "%s: path too long\n", prog_cmd);
		goto out;
	}
	snprintf(line, sizeof(line), "Host: %s", c->host);
	hdrs = curl_slist_append(hdrs, line);
	if (c->access_key && *c->access_key) {
		struct sigv4_req sr = {
			.method = method, .path = path, .query = query, .host = c->host,
			.payload_sha256 = payload, .now = time(NULL), .region = c->region,
			.service = "s3", .access_key = c->access_key,
			.secret = c->secret ? c->secret : "",
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
	if (upload) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READDATA, upload);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
	} else if (!strcmp(method, "POST")) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
	} else if (strcmp(method, "GET")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
	CURLcode rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		if (sink->failed_write)
			fprintf(stderr, "%s: cannot write the output: %s\n", prog_cmd, strerror(errno));
		else
			fprintf(stderr, "%s: cannot reach %s: %s\n", prog_cmd, c->endpoint,
				curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
out:
	curl_slist_free_all(hdrs);
	buf_release(&url);
	buf_release(&auth);
	return code;
}

/* The query "k1=v1&k2=v2" with values UriEncoded; NULL value: skipped. */
static int query_add(struct buf *q, const char *name, const char *value)
{
	if (!value)
		return 0;
	if ((q->len && buf_addch(q, '&')) || buf_addstr(q, name) || buf_addch(q, '='))
		return -1;
	return uri_encode(q, value, strlen(value), 0);
}

/* An admin call: JSON back in *out (NULL if the caller does not want it).
 * On an error status, prints "CMD: PATH: message" and returns 1; an
 * unreachable daemon or a bad answer is 1 too. */
static int admin(struct client *c, const char *method, const char *endpoint, const char *query,
		 const char *what, struct json **out)
{
	int quiet = c->quiet;
	c->quiet = 0;
	struct buf body = BUF_INIT(RESP_MAX);
	struct sink sink = { .c = c, .body = &body };
	char path[128], err[128];
	int rc = 1;
	snprintf(path, sizeof(path), "/api/v1/%s", endpoint);
	long code = request(c, method, path, query, NULL, 0, &sink);
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
	buf_release(&body);
	return rc;
}

/* POST endpoint?path=P plus one more parameter (may be NULL). */
static int admin_path(struct client *c, const char *endpoint, const char *path,
		      const char *name, const char *value, int recursive, struct json **out)
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

static int stat_path(struct client *c, const char *path, struct json **out)
{
	return admin_path(c, "fs/stat", path, NULL, NULL, 0, out);
}

/* ---- entries ---- */

struct entries {
	struct json **pages;
	size_t npages;
	const struct json **v;
	size_t n, cap;
};

static void entries_free(struct entries *e)
{
	for (size_t i = 0; i < e->npages; i++)
		json_free(e->pages[i]);
	free(e->pages);
	free(e->v);
}

/* Every entry of a listing, page after page. */
static int list_all(struct client *c, const char *path, int recursive, struct entries *e)
{
	char next[4096] = "", page[16];
	memset(e, 0, sizeof(*e));
	snprintf(page, sizeof(page), "%d", c->page);
	for (;;) {
		struct buf q = BUF_INIT(16 * 1024);
		struct json *j = NULL;
		int rc = query_add(&q, "path", path) ||
			 query_add(&q, "recursive", recursive ? "1" : NULL) ||
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

static int is_dir(const struct json *e)
{
	const char *t = json_get_str(e, "type");
	return t && strcmp(t, "file");
}

static void to_ls(const struct json *j, struct ls_entry *e)
{
	e->path = json_get_str(j, "path");
	e->owner = json_get_str(j, "owner");
	e->group = json_get_str(j, "group");
	e->persist = json_get_str(j, "persist");
	e->size = json_get_u64(j, "size", 0);
	e->in_cache = json_get_u64(j, "in_cache", 0);
	e->mode = (uint32_t)json_get_u64(j, "mode", 0);
	e->is_dir = is_dir(j);
	e->mtime_ms = json_get_i64(j, "mtime_ms", 0);
}

/* One entry as a JSON line for scripts: the daemon's fields plus the
 * formatted ones. */
static int print_json_entry(const struct json *j)
{
	struct ls_entry e;
	struct buf b = BUF_INIT(64 * 1024);
	char perm[11], date[FMT_DATE_LEN];
	to_ls(j, &e);
	fmt_mode(e.mode, e.is_dir, perm);
	fmt_date(e.mtime_ms, date);
	int rc = buf_addstr(&b, "{\"path\":") || json_add_str(&b, e.path ? e.path : "") ||
		 buf_addf(&b, ",\"type\":\"%s\",\"size\":%llu,\"mode\":\"%03o\",\"permissions\":\"%s\","
			  "\"owner\":", json_get_str(j, "type") ? json_get_str(j, "type") : "",
			  (unsigned long long)e.size, (unsigned)e.mode, perm) ||
		 json_add_str(&b, e.owner ? e.owner : "") || buf_addstr(&b, ",\"group\":") ||
		 json_add_str(&b, e.group ? e.group : "") ||
		 buf_addf(&b, ",\"persistence_state\":\"%s\",\"last_modified_ms\":%lld,"
			  "\"last_modified\":\"%s\",\"in_cache_bytes\":%llu",
			  e.persist ? e.persist : "", (long long)e.mtime_ms, date,
			  (unsigned long long)e.in_cache);
	if (!rc && !e.is_dir)
		rc = buf_addf(&b, ",\"in_cache_percent\":%d", fmt_pct(e.in_cache, e.size));
	if (!rc && !e.is_dir && json_get_str(j, "etag"))
		rc = buf_addstr(&b, ",\"etag\":") || json_add_str(&b, json_get_str(j, "etag"));
	if (!rc)
		rc = buf_addf(&b, ",\"inode\":%llu}\n",
			      (unsigned long long)json_get_u64(j, "ino", 0));
	if (!rc)
		fputs(b.ptr, stdout);
	buf_release(&b);
	return rc;
}

/* ---- commands ---- */

struct opts {
	int R, h, s, json;
};

static int cmd_ls(struct client *c, int argc, char **argv, const struct opts *o)
{
	struct entries e;
	int rc = list_all(c, argv[0], o->R, &e);
	if (!rc && o->json) {
		for (size_t i = 0; i < e.n && !rc; i++)
			rc = print_json_entry(e.v[i]);
	} else if (!rc) {
		struct ls_entry *v = calloc(e.n ? e.n : 1, sizeof(*v));
		struct buf b = BUF_INIT(RESP_MAX);
		for (size_t i = 0; v && i < e.n; i++)
			to_ls(e.v[i], &v[i]);
		rc = !v || fmt_ls(v, e.n, o->h, &b);
		if (!rc && b.len)
			fwrite(b.ptr, 1, b.len, stdout);
		buf_release(&b);
		free(v);
	}
	entries_free(&e);
	return rc ? 1 : 0;
}

static int cmd_stat(struct client *c, int argc, char **argv, const struct opts *o)
{
	struct json *j = NULL;
	if (stat_path(c, argv[0], &j))
		return 1;
	if (o->json) {
		int rc = print_json_entry(j);
		json_free(j);
		return rc;
	}
	struct ls_entry e;
	char perm[11], date[FMT_DATE_LEN];
	to_ls(j, &e);
	fmt_mode(e.mode, e.is_dir, perm);
	fmt_date(e.mtime_ms, date);
	printf("%s is a %s path.\n", e.path, e.is_dir ? "directory" : "file");
	printf("  type:           %s\n", json_get_str(j, "type"));
	printf("  size:           %llu\n", (unsigned long long)e.size);
	printf("  permissions:    %s (%03o)\n", perm, (unsigned)e.mode);
	printf("  owner:          %s\n", e.owner);
	printf("  group:          %s\n", e.group);
	printf("  last modified:  %s\n", date);
	printf("  persistence:    %s\n", e.persist);
	if (!e.is_dir) {
		printf("  in cache:       %llu bytes (%d%%)\n", (unsigned long long)e.in_cache,
		       fmt_pct(e.in_cache, e.size));
		printf("  etag:           %s\n", json_get_str(j, "etag"));
	}
	printf("  inode:          %llu\n", (unsigned long long)json_get_u64(j, "ino", 0));
	json_free(j);
	return 0;
}

/* Fails (1) with a message if path is not a file. */
static int need_file(struct client *c, const char *path, struct json **out)
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

/* GET of an object into out (hashing it into md5 if non-NULL). */
static int download(struct client *c, const char *path, FILE *out, struct hash *md5)
{
	struct buf err = BUF_INIT(1 << 20);
	struct sink sink = { .c = c, .body = &err, .out = out, .md5 = md5 };
	long code = request(c, "GET", path, NULL, NULL, 0, &sink);
	int rc = 0;
	if (code < 0) {
		rc = 1;
	} else if (code != 200) {
		fprintf(stderr, "%s: %s: the daemon answered HTTP %ld\n", prog_cmd, path, code);
		rc = 1;
	}
	buf_release(&err);
	return rc;
}

static int cmd_cat(struct client *c, int argc, char **argv, const struct opts *o)
{
	if (need_file(c, argv[0], NULL))
		return 1;
	int rc = download(c, argv[0], stdout, NULL);
	return fflush(stdout) ? 1 : rc;
}

static const char *base_name(const char *p)
{
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		n--;
	const char *s = p + n;
	while (s > p && s[-1] != '/')
		s--;
	return s;
}

/* dir + "/" + the last segment of src. */
static char *join(const char *dir, const char *src)
{
	const char *b = base_name(src);
	size_t bl = strcspn(b, "/");
	size_t dl = strlen(dir);
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	char *out = malloc(dl + bl + 2);
	if (out)
		snprintf(out, dl + bl + 2, "%.*s%s%.*s", (int)dl, dir, dir[dl - 1] == '/' ? "" : "/",
			 (int)bl, b);
	return out;
}

static int cmd_get(struct client *c, int argc, char **argv, const struct opts *o)
{
	const char *src = argv[0];
	char *dst = NULL, *tmp = NULL;
	struct stat sb;
	int rc = 1;
	if (need_file(c, src, NULL))
		return 1;
	dst = !stat(argv[1], &sb) && S_ISDIR(sb.st_mode) ? join(argv[1], src) : strdup(argv[1]);
	size_t tl = dst ? strlen(dst) + 16 : 0;
	if (!dst || !(tmp = malloc(tl)))
		goto out;
	/* Into a temporary file beside it, renamed when whole. */
	snprintf(tmp, tl, "%s.atrium-XXXXXX", dst);
	int fd = mkstemp(tmp);
	FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (!f) {
		fprintf(stderr, "%s: cannot write %s: %s\n", prog_cmd, dst, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	rc = download(c, src, f, NULL);
	if (fclose(f) && !rc) {
		fprintf(stderr, "%s: cannot write %s: %s\n", prog_cmd, dst, strerror(errno));
		rc = 1;
	}
	if (!rc && rename(tmp, dst)) {
		fprintf(stderr, "%s: cannot write %s: %s\n", prog_cmd, dst, strerror(errno));
		rc = 1;
	}
	if (rc)
		unlink(tmp);
	else
		printf("Copied %s to file://%s\n", src, dst);
out:
	free(tmp);
	free(dst);
	return rc;
}

static int cmd_put(struct client *c, int argc, char **argv, const struct opts *o)
{
	const char *src = argv[0];
	char *dst = NULL;
	struct json *j = NULL;
	struct stat sb;
	FILE *f = fopen(src, "rb");
	if (!f || fstat(fileno(f), &sb) || !S_ISREG(sb.st_mode)) {
		fprintf(stderr, "%s: %s: %s\n", prog_cmd, src,
			!f ? strerror(errno) : "not a regular file");
		if (f)
			fclose(f);
		return 1;
	}
	/* Into an existing directory, under the file's own name. */
	c->quiet = 1;
	int exists = !stat_path(c, argv[1], &j);
	dst = exists && is_dir(j) ? join(argv[1], src) : strdup(argv[1]);
	json_free(j);
	int rc = 1;
	if (dst) {
		struct buf err = BUF_INIT(1 << 20);
		struct sink sink = { .c = c, .body = &err };
		long code = request(c, "PUT", dst, NULL, f, (uint64_t)sb.st_size, &sink);
		if (code == 200) {
			printf("Copied file://%s to %s\n", src, dst);
			rc = 0;
		} else if (code > 0) {
			const char *m = err.ptr ? strstr(err.ptr, "<Message>") : NULL;
			fprintf(stderr, "%s: cannot put %s: HTTP %ld%s%.*s\n", prog_cmd, dst, code,
				m ? ": " : "", m ? (int)strcspn(m + 9, "<") : 0, m ? m + 9 : "");
		}
		buf_release(&err);
	}
	fclose(f);
	free(dst);
	return rc;
}

static int cmd_du(struct client *c, int argc, char **argv, const struct opts *o)
{
	struct entries e;
	uint64_t size = 0, cached = 0;
	char s1[FMT_SIZE_LEN], s2[FMT_SIZE_LEN];
	if (list_all(c, argv[0], 1, &e)) {
		entries_free(&e);
		return 1;
	}
	printf("%-16s %-22s %s\n", "File Size", "In Cache", "Path");
	for (size_t i = 0; i < e.n; i++) {
		if (is_dir(e.v[i]))
			continue;
		uint64_t n = json_get_u64(e.v[i], "size", 0), k = json_get_u64(e.v[i], "in_cache", 0);
		size += n;
		cached += k;
		if (o->s)
			continue;
		fmt_size(n, o->h, s1);
		fmt_size(k, o->h, s2);
		char incache[FMT_SIZE_LEN + 8];
		snprintf(incache, sizeof(incache), "%s (%d%%)", s2, fmt_pct(k, n));
		printf("%-16s %-22s %s\n", s1, incache, json_get_str(e.v[i], "path"));
	}
	if (o->s) {
		fmt_size(size, o->h, s1);
		fmt_size(cached, o->h, s2);
		char incache[FMT_SIZE_LEN + 8];
		snprintf(incache, sizeof(incache), "%s (%d%%)", s2, fmt_pct(cached, size));
		printf("%-16s %-22s %s\n", s1, incache, argv[0]);
	}
	entries_free(&e);
	return 0;
}

static int cmd_count(struct client *c, int argc, char **argv, const struct opts *o)
{
	struct entries e;
	struct json *top = NULL;
	uint64_t files = 0, dirs = 0, bytes = 0;
	if (stat_path(c, argv[0], &top))
		return 1;
	if (is_dir(top))
		dirs++; /* the folder itself, as Alluxio counts */
	else
		files++, bytes += json_get_u64(top, "size", 0);
	json_free(top);
	if (dirs && list_all(c, argv[0], 1, &e)) {
		entries_free(&e);
		return 1;
	}
	for (size_t i = 0; dirs && i < e.n; i++) {
		if (is_dir(e.v[i])) {
			dirs++;
		} else {
			files++;
			bytes += json_get_u64(e.v[i], "size", 0);
		}
	}
	if (dirs)
		entries_free(&e);
	char sz[FMT_SIZE_LEN];
	fmt_size(bytes, o->h, sz);
	printf("%-24s %-24s %s\n", "File Count", "Folder Count", "Folder Size");
	printf("%-24llu %-24llu %s\n", (unsigned long long)files, (unsigned long long)dirs, sz);
	return 0;
}

static int cmd_mkdir(struct client *c, int argc, char **argv, const struct opts *o)
{
	int rc = 0;
	for (int i = 0; i < argc; i++) {
		if (admin_path(c, "fs/mkdir", argv[i], NULL, NULL, 0, NULL))
			rc = 1;
		else
			printf("Successfully created directory %s\n", argv[i]);
	}
	return rc;
}

static int cmd_rm(struct client *c, int argc, char **argv, const struct opts *o)
{
	int rc = 0;
	for (int i = 0; i < argc; i++) {
		struct json *j = NULL;
		if (stat_path(c, argv[i], &j)) {
			rc = 1;
			continue;
		}
		int dir = is_dir(j);
		json_free(j);
		if (dir && !o->R) {
			fprintf(stderr, "%s: %s is a directory, to remove it use rm -R\n", prog_cmd,
				argv[i]);
			rc = 1;
		} else if (admin_path(c, "fs/rm", argv[i], NULL, NULL, o->R, NULL)) {
			rc = 1;
		} else {
			printf("%s has been removed\n", argv[i]);
		}
	}
	return rc;
}

static int cmd_mv(struct client *c, int argc, char **argv, const struct opts *o)
{
	struct json *j = NULL;
	struct buf q = BUF_INIT(16 * 1024);
	char *dst;
	/* An existing directory as destination: move into it. */
	c->quiet = 1;
	int exists = !stat_path(c, argv[1], &j);
	dst = exists && is_dir(j) ? join(argv[1], argv[0]) : strdup(argv[1]);
	json_free(j);
	int rc = !dst || query_add(&q, "src", argv[0]) || query_add(&q, "dst", dst) ||
		 admin(c, "POST", "fs/mv", q.ptr, argv[0], NULL);
	if (!rc)
		printf("Renamed %s to %s\n", argv[0], dst);
	buf_release(&q);
	free(dst);
	return rc;
}

static int is_md5(const char *s)
{
	if (!s || strlen(s) != 32)
		return 0;
	for (; *s; s++)
		if (hex_digit(*s) < 0)
			return 0;
	return 1;
}

static int cmd_checksum(struct client *c, int argc, char **argv, const struct opts *o)
{
	struct json *j = NULL;
	if (need_file(c, argv[0], &j))
		return 1;
	const char *etag = json_get_str(j, "etag");
	char hex[2 * MD5_LEN + 1];
	int rc = 0;
	if (is_md5(etag)) {
		snprintf(hex, sizeof(hex), "%s", etag);
	} else {
		/* A multipart ETag is not the content's MD5: compute it. */
		struct hash h;
		unsigned char sum[MD5_LEN];
		FILE *null = fopen("/dev/null", "wb");
		if (!null || hash_init(&h, HASH_MD5)) {
			if (null)
				fclose(null);
			json_free(j);
			return 1;
		}
		rc = download(c, argv[0], null, &h);
		fclose(null);
		if (rc) {
			hash_release(&h);
		} else {
			hash_final(&h, sum);
			hex_encode(sum, MD5_LEN, hex);
		}
	}
	if (!rc)
		printf("md5sum: %s\n", hex);
	json_free(j);
	return rc;
}

static int cmd_chmod(struct client *c, int argc, char **argv, const struct opts *o)
{
	const char *mode = argv[0];
	if (!*mode || strlen(mode) > 4 || strspn(mode, "01234567") != strlen(mode)) {
		fprintf(stderr, "%s: fs chmod: MODE must be octal, like 755, not '%s'\n"
			"usage: atrium fs chmod [-R] MODE PATH\n", prog_cmd, mode);
		return 2;
	}
	if (admin_path(c, "fs/chmod", argv[1], "mode", mode, o->R, NULL))
		return 1;
	printf("Changed permission of %s to %s\n", argv[1], mode);
	return 0;
}

static int cmd_chown(struct client *c, int argc, char **argv, const struct opts *o)
{
	const char *owner = argv[0];
	if (strchr(owner, ':')) {
		fprintf(stderr, "%s: chown: groups are not supported: give an owner only\n", prog_cmd);
		return 1;
	}
	if (admin_path(c, "fs/chown", argv[1], "owner", owner, o->R, NULL))
		return 1;
	printf("Changed owner of %s to %s\n", argv[1], owner);
	return 0;
}

static int cache_cmd(struct client *c, const char *endpoint, const char *path, const char *done,
		     int human)
{
	struct json *j = NULL;
	if (admin_path(c, endpoint, path, NULL, NULL, 0, &j))
		return 1;
	char sz[FMT_SIZE_LEN];
	fmt_size(json_get_u64(j, "bytes", 0), human, sz);
	printf("%s %s (files: %llu, bytes: %s)\n", path, done,
	       (unsigned long long)json_get_u64(j, "files", 0), sz);
	json_free(j);
	return 0;
}

static int cmd_load(struct client *c, int argc, char **argv, const struct opts *o)
{
	return cache_cmd(c, "fs/load", argv[0], "loaded into the cache", o->h);
}

static int cmd_free(struct client *c, int argc, char **argv, const struct opts *o)
{
	return cache_cmd(c, "fs/free", argv[0], "was successfully freed from the cache", o->h);
}

static int cmd_persist(struct client *c, int argc, char **argv, const struct opts *o)
{
	struct json *j = NULL;
	if (admin_path(c, "fs/persist", argv[0], NULL, NULL, 0, &j))
		return 1;
	printf("%s is %s (files: %llu, bytes persisted now: %llu)\n", argv[0],
	       json_get_str(j, "state") ? json_get_str(j, "state") : "PERSISTED",
	       (unsigned long long)json_get_u64(j, "files", 0),
	       (unsigned long long)json_get_u64(j, "bytes", 0));
	json_free(j);
	return 0;
}

static int cmd_report(struct client *c, int argc, char **argv, const struct opts *o)
{
	struct json *j = NULL;
	if (admin(c, "GET", "report", NULL, NULL, &j))
		return 1;
	if (o->json) {
		struct buf b = BUF_INIT(64 * 1024);
		/* Re-read raw: the daemon's document as it is. */
		json_free(j);
		struct sink sink = { .c = c, .body = &b };
		long code = request(c, "GET", "/api/v1/report", NULL, NULL, 0, &sink);
		if (code == 200 && b.ptr)
			fputs(b.ptr, stdout);
		buf_release(&b);
		return code == 200 ? 0 : 1;
	}
	const struct json *cache = json_get(j, "cache"), *ns = json_get(j, "namespace");
	char cap[FMT_SIZE_LEN], used[FMT_SIZE_LEN], bytes[FMT_SIZE_LEN], up[48];
	uint64_t capacity = json_get_u64(cache, "capacity", 0), u = json_get_u64(cache, "used", 0);
	fmt_size(capacity, 1, cap);
	fmt_size(u, 1, used);
	fmt_size(json_get_u64(ns, "bytes", 0), 1, bytes);
	fmt_duration(json_get_i64(j, "uptime_ms", 0), up);
	printf("Atrium report\n");
	printf("    Version: %s\n", json_get_str(j, "version"));
	printf("    Started: %s\n", json_get_str(j, "started"));
	printf("    Uptime: %s\n", up);
	printf("    Auth: %s\n", json_get_str(j, "auth"));
	printf("    Under storage: %s\n", json_get_str(j, "ufs"));
	printf("Cache\n");
	printf("    Capacity: %s\n", cap);
	printf("    Used: %s (%d%%)\n", used, capacity ? fmt_pct(u, capacity) : 0);
	const struct json *tiers = json_get(cache, "tiers");
	for (const struct json *t = tiers ? tiers->child : NULL; t; t = t->next) {
		fmt_size(json_get_u64(t, "capacity", 0), 1, cap);
		fmt_size(json_get_u64(t, "used", 0), 1, used);
		printf("    Tier %s: capacity %s, used %s\n", json_get_str(t, "tier"), cap, used);
	}
	printf("    Hits: %llu\n    Misses: %llu\n    Evictions: %llu\n    Hit ratio: %.2f%%\n",
	       (unsigned long long)json_get_u64(cache, "hits", 0),
	       (unsigned long long)json_get_u64(cache, "misses", 0),
	       (unsigned long long)json_get_u64(cache, "evictions", 0),
	       100 * json_num(json_get(cache, "hit_ratio")));
	printf("Namespace\n");
	printf("    Files: %llu\n    Directories: %llu\n    Bytes: %s\n",
	       (unsigned long long)json_get_u64(ns, "files", 0),
	       (unsigned long long)json_get_u64(ns, "directories", 0), bytes);
	printf("Uploads in progress: %llu\n",
	       (unsigned long long)json_get_u64(j, "uploads_in_progress", 0));
	json_free(j);
	return 0;
}

/* ---- dispatch ---- */

typedef int (*run_fn)(struct client *c, int argc, char **argv, const struct opts *o);

struct fs_cmd {
	const char *name, *args, *help;
	run_fn run;
	const char *flags; /* short flags taken; 'j' means --json */
	int min, max;      /* positional arguments (max -1: any) */
};

static const struct fs_cmd fs_cmds[] = {
	{ "ls", "[-R] [-h] [--json] PATH", "list a directory (or a file): mode, owner, group, size, "
	  "persistence, mtime, in-cache %", cmd_ls, "Rhj", 1, 1 },
	{ "stat", "[--json] PATH", "everything about one file or directory", cmd_stat, "j", 1, 1 },
	{ "cat", "PATH", "write a file's content to standard output", cmd_cat, "", 1, 1 },
	{ "du", "[-s] [-h] PATH", "sizes of the files below PATH, and how much is cached", cmd_du,
	  "sh", 1, 1 },
	{ "count", "[-h] PATH", "files, folders and bytes below PATH", cmd_count, "h", 1, 1 },
	{ "mkdir", "PATH...", "make directories (and missing parents); /BUCKET makes a bucket",
	  cmd_mkdir, "", 1, -1 },
	{ "rm", "[-R] PATH...", "remove files; with -R directories and buckets with all below",
	  cmd_rm, "R", 1, -1 },
	{ "mv", "SRC DST", "move a file or directory (into DST if it is a directory)", cmd_mv, "",
	  2, 2 },
	{ "put", "LOCAL PATH", "upload a local file (copyFromLocal)", cmd_put, "", 2, 2 },
	{ "get", "PATH LOCAL", "download a file (copyToLocal)", cmd_get, "", 2, 2 },
	{ "checksum", "PATH", "the MD5 of a file's content", cmd_checksum, "", 1, 1 },
	{ "chmod", "[-R] MODE PATH", "set permissions (octal)", cmd_chmod, "R", 2, 2 },
	{ "chown", "[-R] OWNER PATH", "set the owner (the superuser only)", cmd_chown, "R", 2, 2 },
	{ "load", "[-h] PATH", "bring a file, or every file below a directory, into the cache",
	  cmd_load, "h", 1, 1 },
	{ "free", "[-h] PATH", "drop a file, or every file below a directory, from the cache",
	  cmd_free, "h", 1, 1 },
	{ "persist", "PATH", "write data not yet in the under-storage to it", cmd_persist, "", 1, 1 },
};
static const size_t n_fs_cmds = sizeof(fs_cmds) / sizeof(fs_cmds[0]);

/* ---- usage ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: atrium [--endpoint URL] [--access-key KEY] [--secret-key SECRET]\n"
		"              [--region REGION] COMMAND [ARGS]\n\n"
		"Talks to atriumd's admin API and S3 door.\n"
		"  --endpoint URL     the daemon (default $ATRIUM_ENDPOINT or http://127.0.0.1:39999)\n"
		"  --access-key KEY   sign requests (default $AWS_ACCESS_KEY_ID; none: unsigned)\n"
		"  --secret-key KEY   (default $AWS_SECRET_ACCESS_KEY)\n"
		"  --region REGION    SigV4 region (default $AWS_DEFAULT_REGION or us-east-1)\n\n"
		"Commands:\n"
		"  fs COMMAND ...     the namespace, as files (`atrium fs --help`)\n"
		"  report [--json]    cache capacity and use, hit ratio, objects, uploads, version, uptime\n\n"
		"fs commands:\n");
	for (size_t i = 0; i < n_fs_cmds; i++) {
		char left[64];
		snprintf(left, sizeof(left), "%s %s", fs_cmds[i].name, fs_cmds[i].args);
		fprintf(f, "  fs %-32s %s\n", left, fs_cmds[i].help);
	}
	fprintf(f, "\nPaths: / is the root, /BUCKET a bucket, /BUCKET/a/b an object or directory.\n"
		   "Exit status: 0 done, 1 failed, 2 bad usage.\n");
}

static void fs_usage(FILE *f)
{
	fprintf(f, "usage: atrium fs COMMAND [ARGS]\n\n");
	for (size_t i = 0; i < n_fs_cmds; i++) {
		char left[64];
		snprintf(left, sizeof(left), "%s %s", fs_cmds[i].name, fs_cmds[i].args);
		fprintf(f, "  %-32s %s\n", left, fs_cmds[i].help);
	}
}

/* Parses a command's flags and runs it. Flags may be grouped (-Rh) and
 * come before or among the positional arguments; "--" ends them. */
static int run(struct client *c, const char *name, const char *flags, run_fn fn, int min, int max,
	       const char *args, int argc, char **argv)
{
	struct opts o = { 0 };
	char **pos = calloc((size_t)argc + 1, sizeof(*pos));
	int n = 0, dashdash = 0;
	if (!pos)
		return 1;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (dashdash || a[0] != '-' || !a[1]) {
			pos[n++] = argv[i];
		} else if (!strcmp(a, "--")) {
			dashdash = 1;
		} else if (!strcmp(a, "--help")) {
			printf("usage: atrium %s %s\n", name, args);
			free(pos);
			return 0;
		} else if (!strcmp(a, "--json") && strchr(flags, 'j')) {
			o.json = 1;
		} else if (a[1] == '-') {
			free(pos);
			fprintf(stderr, "%s: %s: unknown option '%s'\nusage: atrium %s %s\n", prog_cmd,
				name, a, name, args);
			return 2;
		} else {
			for (const char *f = a + 1; *f; f++) {
				if (*f == 'j' || !strchr(flags, *f)) {
					fprintf(stderr, "%s: %s: unknown option '-%c'\nusage: atrium %s %s\n",
						prog_cmd, name, *f, name, args);
					free(pos);
					return 2;
				}
				o.R |= *f == 'R';
				o.h |= *f == 'h';
				o.s |= *f == 's';
			}
		}
	}
	if (n < min || (max >= 0 && n > max)) {
		fprintf(stderr, "%s: %s: expected %s\nusage: atrium %s %s\n", prog_cmd, name,
			n < min ? "more arguments" : "fewer arguments", name, args);
		free(pos);
		return 2;
	}
	int rc = fn(c, n, pos, &o);
	free(pos);
	return rc;
}

static int fs_main(struct client *c, int argc, char **argv)
{
	if (argc < 1) {
		fs_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h") || !strcmp(argv[0], "help")) {
		fs_usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < n_fs_cmds; i++) {
		const struct fs_cmd *k = &fs_cmds[i];
		if (strcmp(k->name, argv[0]))
			continue;
		char name[32];
		snprintf(name, sizeof(name), "fs %s", k->name);
		return run(c, name, k->flags, k->run, k->min, k->max, k->args, argc - 1, argv + 1);
	}
	fprintf(stderr, "%s: unknown command 'fs %s'\n\n", prog_cmd, argv[0]);
	fs_usage(stderr);
	return 2;
}

/* "http://host:port[/]" -> endpoint and Host. */
static int set_endpoint(struct client *c, const char *url)
{
	const char *p = strstr(url, "://");
	size_t n = strlen(url);
	while (n && url[n - 1] == '/')
		n--;
	if (!p || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) || n >= sizeof(c->endpoint))
		return -1;
	const char *auth = p + 3;
	size_t al = strcspn(auth, "/");
	if (!al || al >= sizeof(c->host) || auth + al != url + n)
		return -1; /* no path allowed after the authority */
	snprintf(c->endpoint, sizeof(c->endpoint), "%.*s", (int)n, url);
	snprintf(c->host, sizeof(c->host), "%.*s", (int)al, auth);
	return 0;
}

int main(int argc, char **argv)
{
	struct client c = { 0 };
	const char *endpoint = getenv("ATRIUM_ENDPOINT");
	const char *page = getenv("ATRIUM_LIST_PAGE");
	c.access_key = getenv("AWS_ACCESS_KEY_ID");
	c.secret = getenv("AWS_SECRET_ACCESS_KEY");
	c.region = getenv("AWS_DEFAULT_REGION");
	c.page = 1000;
	if (page) {
		char *end;
		long v = strtol(page, &end, 10);
		if (!*end && v > 0 && v <= 10000)
			c.page = (int)v; /* entries per list request: tests use small pages */
	}
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		const char **dst = !strcmp(a, "--endpoint") ? &endpoint
				 : !strcmp(a, "--access-key") ? &c.access_key
				 : !strcmp(a, "--secret-key") ? &c.secret
				 : !strcmp(a, "--region") ? &c.region : NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--version")) {
			printf("atrium %s\n", ATRIUM_VERSION);
			return 0;
		}
		if (!dst) {
			fprintf(stderr, "%s: unknown option '%s'\n\n", prog_cmd, a);
			usage(stderr);
			return 2;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "%s: %s needs a value\n", prog_cmd, a);
			return 2;
		}
		*dst = argv[++i];
	}
	if (!c.region || !*c.region)
		c.region = "us-east-1";
	if (set_endpoint(&c, endpoint && *endpoint ? endpoint : "http://127.0.0.1:39999")) {
		fprintf(stderr, "%s: bad endpoint '%s': want http://HOST:PORT\n", prog_cmd, endpoint);
		return 2;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[i];
	if (!strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "fs") && strcmp(cmd, "report")) {
		fprintf(stderr, "%s: unknown command '%s'\n\n", prog_cmd, cmd);
		usage(stderr);
		return 2;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) || !(c.h = curl_easy_init())) {
		fprintf(stderr, "%s: cannot initialise libcurl\n", prog_cmd);
		return 1;
	}
	int rc = !strcmp(cmd, "fs") ? fs_main(&c, argc - i - 1, argv + i + 1)
		 : run(&c, "report", "j", cmd_report, 0, 0, "[--json]", argc - i - 1, argv + i + 1);
	curl_easy_cleanup(c.h);
	curl_global_cleanup();
	return rc;
}
