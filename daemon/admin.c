/*
 * admin — the admin HTTP API (see admin.h): one route table, one
 * authentication step, one error table, JSON out. Handlers call the
 * core's file-system view and fill a response body; nothing here holds a
 * core lock while writing to the socket (bodies are built first).
 */
#include "daemon/admin.h"

#include <civetweb.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "common/buf.h"
#include "common/hash.h"
#include "common/json.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "common/uri.h"
#include "daemon/access_log.h"
#include "daemon/metrics.h"
#include "common/banned.h"

#define PREFIX "/api/v1/"
/* A list page is built whole before it is sent, so its size bounds what
 * each request may make the daemon hold: any user could ask for pages of
 * 10,000 entries (100 such requests at once took 845 MiB). LIST_MAX is
 * what `atrium fs ls -R` pages by; a larger max is served as LIST_MAX
 * entries with a cursor, so clients that page still see everything. An
 * entry is at most ~13.4 KB of JSON (path and name of 1,092 and 1,024
 * bytes, each byte escaped to 6 at worst, owner, group, fields), so a
 * page of LIST_MAX fits BODY_MAX. */
#define LIST_MAX 1000
#define BODY_MAX (16 * 1024 * 1024)
#define TOKEN_MIN 16
#define TOKEN_MAX 4096

struct admin {
	struct atr_core *core;
	struct admin_options opt;
	int64_t start_ns, start_mono;
	uint64_t next_id; /* atomic */
	uint64_t id_salt;
};

struct admin_req {
	struct admin *a;
	struct mg_connection *conn;
	const struct mg_request_info *ri;
	struct uri_query q;
	struct atr_user user;
	char user_name[ATR_USER_MAX + 1];
	char id[17];
	const char *ctype;      /* of body */
	const char *extra;      /* more header lines ("\r\n"-terminated), or NULL */
	struct buf body;
	int must_close;
	int secret;             /* the body holds a secret key: wiped after sending */
};

/* Who may call a route. */
enum access {
	ACCESS_USER,            /* an authenticated user, acting as that user */
	ACCESS_OPEN,            /* anyone (health) */
	ACCESS_SCRAPE,          /* a user, or the metrics bearer token, or anyone
				   with metrics_public: what Prometheus can do */
};

struct route {
	const char *method;     /* GET routes answer HEAD too */
	const char *name;       /* after /api/v1/ */
	const char *op;         /* for metrics */
	enum access access;
	int (*handler)(struct admin_req *r);
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- responses ---- */

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 507: return "Insufficient Storage";
	}
	return "Error";
}

/* Replaces the body with an error document; returns status. */
static int error(struct admin_req *r, int status, const char *code, const char *msg)
{
	buf_reset(&r->body);
	r->ctype = "application/json";
	if (buf_addf(&r->body, "{\"error\":\"%s\",\"message\":", code) ||
	    json_add_str(&r->body, msg) ||
	    buf_addf(&r->body, ",\"request_id\":\"%s\"}\n", r->id))
		buf_reset(&r->body);
	return status;
}

/* The one map from the core's errors to the admin API's. */
static int core_error(struct admin_req *r, int err, const char *path)
{
	int status = 500;
	const char *code = "InternalError";
	switch ((enum atr_err)err) {
	case ATR_E_NO_KEY: case ATR_E_NO_BUCKET:
		status = 404; code = "NotFound"; break;
	case ATR_E_ACCESS:
		status = 403; code = "AccessDenied"; break;
	case ATR_E_INVALID_BUCKET: case ATR_E_INVALID_KEY: case ATR_E_KEY_TOO_LONG:
		status = 400; code = "InvalidPath"; break;
	case ATR_E_INVALID_ARG:
		status = 400; code = "InvalidArgument"; break;
	case ATR_E_EXISTS: case ATR_E_BUCKET_EXISTS: case ATR_E_BUCKET_OWNED:
		status = 409; code = "AlreadyExists"; break;
	case ATR_E_NOT_EMPTY: case ATR_E_BUCKET_NOT_EMPTY:
		status = 409; code = "DirectoryNotEmpty"; break;
	case ATR_E_PARENT_IS_OBJECT: case ATR_E_KEY_IS_PREFIX:
		status = 409; code = "PathConflict"; break;
	case ATR_E_NOT_SUPPORTED:
		status = 501; code = "NotSupported"; break;
	case ATR_E_NOSPC: case ATR_E_QUOTA:
		status = 507; code = "InsufficientStorage"; break;
	case ATR_E_NOMEM:
		status = 503; code = "SlowDown"; break;
	case ATR_E_UFS_DOWN:
		status = 503; code = "ServiceUnavailable"; break;
	case ATR_E_NOT_PERSISTED:
		status = 409; code = "NotPersisted"; break;
	case ATR_E_PINNED:
		status = 409; code = "Pinned"; break;
	case ATR_E_LOCKED:
		status = 403; code = "ObjectLocked"; break;
	default:
		break;
	}
	char msg[ATR_PATH_MAX + 128];
	snprintf(msg, sizeof(msg), "%s%s%s", atr_strerror(err), path ? ": " : "", path ? path : "");
	return error(r, status, code, msg);
}

static void respond(struct admin_req *r, int status)
{
	if (r->must_close)
		mg_disable_connection_keep_alive(r->conn);
	mg_printf(r->conn,
		  "HTTP/1.1 %d %s\r\nServer: Atrium\r\nX-Request-Id: %s\r\n"
		  "Content-Type: %s\r\nCache-Control: no-store\r\n%s%sContent-Length: %zu\r\n\r\n",
		  status, reason(status), r->id, r->ctype, r->extra ? r->extra : "",
		  r->must_close ? "Connection: close\r\n" : "", r->body.len);
	if (strcmp(r->ri->request_method, "HEAD") && r->body.len)
		mg_write(r->conn, r->body.ptr, r->body.len);
}

/* ---- parameters ---- */

static const char *param(const struct admin_req *r, const char *name)
{
	const struct uri_param *p = uri_query_get(&r->q, name);
	return p ? p->value : NULL;
}

static int flag(const struct admin_req *r, const char *name)
{
	const char *v = param(r, name);
	return v && (!strcmp(v, "1") || !strcmp(v, "true") || !*v);
}

/* The required parameter, or an error response (*status set). */
static const char *need(struct admin_req *r, const char *name, int *status)
{
	const char *v = param(r, name);
	if (!v || !*v) {
		char msg[96];
		snprintf(msg, sizeof(msg), "missing query parameter '%s'", name);
		*status = error(r, 400, "InvalidArgument", msg);
	}
	return v && *v ? v : NULL;
}

/* ---- entries as JSON ---- */

static int add_entry(struct buf *b, const struct atr_entry *e)
{
	const char *slash = strrchr(e->path, '/');
	const char *name = slash && slash[1] ? slash + 1 : e->path;
	const char *type = e->is_bucket ? "bucket" : e->obj.is_dir ? "directory" : "file";
	if (buf_addstr(b, "{\"path\":") || json_add_str(b, e->path) ||
	    buf_addstr(b, ",\"name\":") || json_add_str(b, name) ||
	    buf_addf(b, ",\"type\":\"%s\",\"size\":%llu,\"mode\":%u,\"owner\":", type,
		     (unsigned long long)e->obj.size, (unsigned)e->obj.mode) ||
	    json_add_str(b, e->obj.owner) || buf_addstr(b, ",\"group\":") ||
	    json_add_str(b, e->group) ||
	    buf_addf(b, ",\"mtime_ms\":%lld,\"persist\":\"%s\",\"in_cache\":%llu,\"etag\":",
		     (long long)(e->obj.mtime_ns / 1000000), atr_persist_name(e->persist),
		     (unsigned long long)e->cached) ||
	    json_add_str(b, e->obj.etag) ||
	    buf_addf(b, ",\"ino\":%llu,\"version\":%llu,\"implicit\":%s,\"pinned\":%s",
		     (unsigned long long)e->obj.ino, (unsigned long long)e->obj.version,
		     e->implicit ? "true" : "false", e->pinned ? "true" : "false") ||
	    (e->ttl_due_ms >= 0 &&
	     buf_addf(b, ",\"ttl_due_ms\":%lld,\"ttl_action\":\"%s\"", (long long)e->ttl_due_ms,
		      e->ttl_action == ATR_TTL_FREE ? "free" : "delete")) ||
	    buf_addch(b, '}'))
		return -1;
	return 0;
}

/* ---- handlers ---- */

static int h_health(struct admin_req *r)
{
	buf_addstr(&r->body, "{\"status\":\"ok\"}\n");
	return 200;
}

/* Readiness: the core's store and under-storage, then the daemon's own
 * checks (the mount, a stop in progress) through opt.ready. */
static int h_ready(struct admin_req *r)
{
	const struct admin_options *o = &r->a->opt;
	const char *what = NULL, *why = NULL;
	char msg[160];
	int rc = atr_core_check(r->a->core, &what);
	if (rc) {
		snprintf(msg, sizeof(msg), "%s", atr_strerror(rc));
		why = msg;
	} else if (o->ready && (why = o->ready(o->ready_arg, &what))) {
		snprintf(msg, sizeof(msg), "%s", why);
		why = msg;
	}
	buf_addf(&r->body, "{\"status\":\"%s\"", why ? "not ready" : "ready");
	if (why) {
		buf_addf(&r->body, ",\"failed\":\"%s\",\"message\":", what ? what : "daemon");
		json_add_str(&r->body, why);
	}
	buf_addstr(&r->body, "}\n");
	return why ? 503 : 200;
}

static int h_stat(struct admin_req *r)
{
	int status = 0;
	const char *path = need(r, "path", &status);
	if (!path)
		return status;
	struct atr_entry *e = malloc(sizeof(*e));
	if (!e)
		return core_error(r, ATR_E_NOMEM, NULL);
	int rc = atr_fs_stat(r->a->core, &r->user, path, e);
	if (rc)
		status = core_error(r, rc, path);
	else if (add_entry(&r->body, e) || buf_addch(&r->body, '\n'))
		status = core_error(r, ATR_E_NOMEM, NULL);
	else
		status = 200;
	free(e);
	return status;
}

struct page {
	struct buf *b;
	int n;
	int full;
};

static int page_entry(void *arg, const struct atr_entry *e)
{
	struct page *p = arg;
	if ((p->n++ && buf_addch(p->b, ',')) || add_entry(p->b, e)) {
		p->full = 1;
		return 1;
	}
	return 0;
}

static int h_list(struct admin_req *r)
{
	int status = 0, truncated = 0, max = LIST_MAX;
	const char *path = need(r, "path", &status);
	if (!path)
		return status;
	const char *m = param(r, "max");
	if (m) {
		char *end;
		errno = 0;
		long v = strtol(m, &end, 10);
		if (*end || end == m || v < 1 || errno)
			return error(r, 400, "InvalidArgument", "max must be a positive integer");
		max = v < LIST_MAX ? (int)v : LIST_MAX;
	}
	char *next = malloc(ATR_PATH_MAX + 1);
	if (!next)
		return core_error(r, ATR_E_NOMEM, NULL);
	/* sync=1 (fs ls -f, fs load --metadata): the under-storage is asked
	 * again, once, at the first page. */
	const char *start = param(r, "start");
	int rc = flag(r, "sync") && !(start && *start) ?
		 atr_fs_refresh(r->a->core, &r->user, path) : ATR_OK;
	if (rc) {
		free(next);
		return core_error(r, rc, path);
	}
	struct page p = { .b = &r->body };
	buf_addstr(&r->body, "{\"path\":");
	json_add_str(&r->body, path);
	buf_addstr(&r->body, ",\"entries\":[");
	rc = atr_fs_list(r->a->core, &r->user, path, flag(r, "recursive"), param(r, "start"),
			     max, page_entry, &p, &truncated, next);
	if (rc)
		status = core_error(r, rc, path);
	else if (p.full || buf_addf(&r->body, "],\"truncated\":%s,\"next\":",
				    truncated ? "true" : "false") ||
		 json_add_str(&r->body, truncated ? next : "") || buf_addstr(&r->body, "}\n"))
		status = error(r, 500, "InternalError", "listing page too large");
	else
		status = 200;
	free(next);
	return status;
}

static int h_mkdir(struct admin_req *r)
{
	int status = 0;
	const char *path = need(r, "path", &status);
	if (!path)
		return status;
	int rc = atr_fs_mkdir(r->a->core, &r->user, path);
	if (rc)
		return core_error(r, rc, path);
	buf_addstr(&r->body, "{\"ok\":true}\n");
	return 200;
}

static int h_rm(struct admin_req *r)
{
	int status = 0;
	const char *path = need(r, "path", &status);
	if (!path)
		return status;
	int rc = atr_fs_remove(r->a->core, &r->user, path, flag(r, "recursive"));
	if (rc)
		return core_error(r, rc, path);
	buf_addstr(&r->body, "{\"ok\":true}\n");
	return 200;
}

static int h_mv(struct admin_req *r)
{
	int status = 0;
	const char *src = need(r, "src", &status), *dst = src ? need(r, "dst", &status) : NULL;
	if (!src || !dst)
		return status;
	int rc = atr_fs_rename(r->a->core, &r->user, src, dst);
	if (rc)
		return core_error(r, rc, rc == ATR_E_EXISTS ? dst : src);
	buf_addstr(&r->body, "{\"ok\":true}\n");
	return 200;
}

static int h_chmod(struct admin_req *r)
{
	int status = 0;
	const char *path = need(r, "path", &status), *mode = path ? need(r, "mode", &status) : NULL;
	if (!path || !mode)
		return status;
	char *end;
	long v = strtol(mode, &end, 8);
	if (*end || end == mode || v < 0 || v > 0777)
		return error(r, 400, "InvalidArgument", "mode must be octal, 0..777");
	int rc = atr_fs_chmod(r->a->core, &r->user, path, (uint32_t)v, flag(r, "recursive"));
	if (rc)
		return core_error(r, rc, path);
	buf_addstr(&r->body, "{\"ok\":true}\n");
	return 200;
}

static int h_chown(struct admin_req *r)
{
	int status = 0;
	const char *path = need(r, "path", &status), *owner = path ? need(r, "owner", &status) : NULL;
	if (!path || !owner)
		return status;
	int rc = atr_fs_chown(r->a->core, &r->user, path, owner, flag(r, "recursive"));
	if (rc)
		return core_error(r, rc, path);
	buf_addstr(&r->body, "{\"ok\":true}\n");
	return 200;
}

static int cache_op(struct admin_req *r,
		    int (*fn)(struct atr_core *, const struct atr_user *, const char *,
			      struct atr_cache_op *), const char *extra)
{
	int status = 0;
	struct atr_cache_op op;
	const char *path = need(r, "path", &status);
	if (!path)
		return status;
	int rc = fn(r->a->core, &r->user, path, &op);
	if (rc)
		return core_error(r, rc, path);
	buf_addstr(&r->body, "{\"path\":");
	json_add_str(&r->body, path);
	buf_addf(&r->body, ",\"files\":%llu,\"bytes\":%llu%s}\n", (unsigned long long)op.files,
		 (unsigned long long)op.bytes, extra);
	return 200;
}

static int h_load(struct admin_req *r) { return cache_op(r, atr_cache_load, ""); }
static int h_free(struct admin_req *r) { return cache_op(r, atr_cache_free, ""); }
static int h_persist(struct admin_req *r)
{
	return cache_op(r, atr_fs_persist, ",\"state\":\"PERSISTED\"");
}

static int pin_op(struct admin_req *r, int on)
{
	int status = 0;
	struct atr_cache_op op;
	const char *path = need(r, "path", &status);
	if (!path)
		return status;
	int rc = atr_fs_pin(r->a->core, &r->user, path, on, &op);
	if (rc)
		return core_error(r, rc, path);
	buf_addstr(&r->body, "{\"path\":");
	json_add_str(&r->body, path);
	buf_addf(&r->body, ",\"files\":%llu,\"pinned\":%s}\n", (unsigned long long)op.files,
		 on ? "true" : "false");
	return 200;
}

static int h_pin(struct admin_req *r) { return pin_op(r, 1); }
static int h_unpin(struct admin_req *r) { return pin_op(r, 0); }

/* fs/ttl?path=P&ms=N[&action=delete|free]; ms=-1 removes it. */
static int h_ttl(struct admin_req *r)
{
	int status = 0;
	struct atr_cache_op op;
	const char *path = need(r, "path", &status), *ms = path ? need(r, "ms", &status) : NULL;
	const char *act = param(r, "action");
	if (!path || !ms)
		return status;
	char *end = NULL;
	errno = 0;
	long long v = strtoll(ms, &end, 10);
	if (errno || end == ms || *end || v < -1)
		return error(r, 400, "InvalidArgument", "ms is milliseconds from now (or -1: none)");
	enum atr_ttl_action action = ATR_TTL_DELETE;
	if (act && !strcmp(act, "free"))
		action = ATR_TTL_FREE;
	else if (act && strcmp(act, "delete"))
		return error(r, 400, "InvalidArgument", "action is delete or free");
	int rc = atr_fs_set_ttl(r->a->core, &r->user, path, v, action, &op);
	if (rc)
		return core_error(r, rc, path);
	buf_addstr(&r->body, "{\"path\":");
	json_add_str(&r->body, path);
	buf_addf(&r->body, ",\"files\":%llu,\"ttl_ms\":%lld,\"action\":\"%s\"}\n",
		 (unsigned long long)op.files, v, action == ATR_TTL_FREE ? "free" : "delete");
	return 200;
}

/* ---- the mount table ---- */

/* The bucket of a mount point "/NAME" (or "NAME", "/NAME/"), into out. */
static int mount_point(struct admin_req *r, char out[ATR_BUCKET_MAX + 1], int *status)
{
	const char *path = need(r, "path", status);
	if (!path)
		return -1;
	while (*path == '/')
		path++;
	size_t n = strcspn(path, "/");
	if (!n || n > ATR_BUCKET_MAX || path[n + strspn(path + n, "/")]) {
		*status = error(r, 400, "InvalidPath",
				"a mount point is a bucket: /NAME, with no directory below it");
		return -1;
	}
	memcpy(out, path, n);
	out[n] = '\0';
	return 0;
}

static int h_mount(struct admin_req *r)
{
	int status = 0;
	char bucket[ATR_BUCKET_MAX + 1];
	if (mount_point(r, bucket, &status))
		return status;
	const char *uri = need(r, "uri", &status);
	if (!uri)
		return status;
	const char *opts[URI_MAX_PARAMS];
	size_t n = 0;
	for (int i = 0; i < r->q.n; i++)
		if (!strcmp(r->q.p[i].name, "option"))
			opts[n++] = r->q.p[i].value;
	char err[512];
	int rc = atr_mount_add(r->a->core, &r->user, bucket, uri, opts, n, err, sizeof(err));
	if (rc && err[0]) { /* with the core's reason */
		if (rc == ATR_E_INVALID_ARG)
			return error(r, 400, "InvalidArgument", err);
		if (rc == ATR_E_EXISTS)
			return error(r, 409, "AlreadyExists", err);
		if (rc == ATR_E_BUCKET_NOT_EMPTY)
			return error(r, 409, "DirectoryNotEmpty", err);
		return error(r, 502, "RemoteFailed", err);
	}
	if (rc)
		return core_error(r, rc, bucket);
	buf_addstr(&r->body, "{\"ok\":true}\n");
	return 200;
}

static int h_unmount(struct admin_req *r)
{
	int status = 0;
	char bucket[ATR_BUCKET_MAX + 1];
	if (mount_point(r, bucket, &status))
		return status;
	int rc = atr_mount_remove(r->a->core, &r->user, bucket);
	if (rc == ATR_E_NO_CONFIG)
		return error(r, 400, "InvalidArgument", "not a mount point");
	if (rc)
		return core_error(r, rc, bucket);
	buf_addstr(&r->body, "{\"ok\":true}\n");
	return 200;
}

static int add_mount(void *arg, const char *bucket, const char *uri, const char *options)
{
	struct buf *b = arg;
	int bad = buf_addstr(b, b->ptr[b->len - 1] == '[' ? "{\"path\":\"/" : ",{\"path\":\"/") ||
		  buf_addstr(b, bucket) || buf_addstr(b, "\",\"uri\":") || json_add_str(b, uri) ||
		  buf_addstr(b, ",\"options\":[");
	for (const char *p = options; *p && !bad;) {
		size_t len = strcspn(p, "\n");
		char *one = strndup(p, len);
		bad = !one || (p != options && buf_addch(b, ',')) || json_add_str(b, one);
		free(one);
		p += len + (p[len] == '\n');
	}
	return bad || buf_addstr(b, "]}") ? ATR_E_NOMEM : 0;
}

static int h_mounts(struct admin_req *r)
{
	buf_addstr(&r->body, "{\"mounts\":[");
	int rc = atr_mount_list(r->a->core, &r->user, add_mount, &r->body);
	if (rc)
		return core_error(r, rc, NULL);
	buf_addstr(&r->body, "]}\n");
	return 200;
}

/* One tier of the report's "tiers" array. */
static void add_tier(struct buf *b, const char *name, uint64_t capacity, uint64_t used,
		     uint64_t hits, uint64_t misses, uint64_t evictions)
{
	uint64_t lookups = hits + misses;
	buf_addf(b,
		 "{\"tier\":\"%s\",\"capacity\":%llu,\"used\":%llu,\"hits\":%llu,"
		 "\"misses\":%llu,\"evictions\":%llu,\"hit_ratio\":%.4f",
		 name, (unsigned long long)capacity, (unsigned long long)used,
		 (unsigned long long)hits, (unsigned long long)misses,
		 (unsigned long long)evictions, lookups ? (double)hits / (double)lookups : 0.0);
}

/*
 * The cache as a whole: capacity and use are the tiers' sums; a miss is
 * a block read from the under-storage, a hit every other lookup (found
 * in memory, on disk, or fetched by another reader it waited for).
 */
static int h_report(struct admin_req *r)
{
	struct admin *a = r->a;
	struct atr_stats st;
	struct atr_ns_totals t;
	char started[TIMEFMT_LEN];
	atr_core_stats(a->core, &st);
	if (atr_ns_totals(a->core, &t))
		memset(&t, 0, sizeof(t));
	uint64_t lookups = st.cache_hits + st.cache_misses;
	uint64_t misses = st.cache_fills < lookups ? st.cache_fills : lookups;
	uint64_t hits = lookups - misses;
	time_fmt_iso8601_ms(a->start_ns, started);
	buf_addstr(&r->body, "{\"version\":");
	json_add_str(&r->body, a->opt.version ? a->opt.version : "");
	buf_addf(&r->body,
		 ",\"started\":\"%s\",\"uptime_ms\":%lld,\"auth\":\"%s\",\"ufs\":\"local\","
		 "\"cache\":{\"capacity\":%llu,\"used\":%llu,\"hits\":%llu,\"misses\":%llu,"
		 "\"evictions\":%llu,\"hit_ratio\":%.4f,\"tiers\":[",
		 started, (long long)((mono_ns() - a->start_mono) / 1000000),
		 a->opt.auth_mode ? a->opt.auth_mode : "",
		 (unsigned long long)(st.cache_capacity + st.disk_capacity),
		 (unsigned long long)(st.cache_bytes + st.disk_bytes), (unsigned long long)hits,
		 (unsigned long long)misses,
		 (unsigned long long)(st.cache_evictions + st.disk_evictions),
		 lookups ? (double)hits / (double)lookups : 0.0);
	add_tier(&r->body, "memory", st.cache_capacity, st.cache_bytes, st.cache_hits,
		 st.cache_misses, st.cache_evictions);
	buf_addstr(&r->body, "}");
	if (st.disk_capacity) {
		buf_addstr(&r->body, ",");
		add_tier(&r->body, "disk", st.disk_capacity, st.disk_bytes, st.disk_hits,
			 st.disk_misses, st.disk_evictions);
		buf_addf(&r->body,
			 ",\"blocks\":%llu,\"corrupt\":%llu,\"write_errors\":%llu,\"stale\":%llu}",
			 (unsigned long long)st.disk_blocks, (unsigned long long)st.disk_corrupt,
			 (unsigned long long)st.disk_write_errors, (unsigned long long)st.disk_stale);
	}
	buf_addf(&r->body,
		 "]},\"namespace\":{\"files\":%llu,\"directories\":%llu,\"bytes\":%llu},"
		 "\"persistence\":{\"not_persisted\":%llu,\"to_be_persisted\":%llu},"
		 "\"uploads_in_progress\":%llu}\n",
		 (unsigned long long)t.files, (unsigned long long)t.dirs,
		 (unsigned long long)t.bytes, (unsigned long long)t.not_persisted,
		 (unsigned long long)t.to_be_persisted, (unsigned long long)t.uploads);
	return 200;
}

static int h_metrics(struct admin_req *r)
{
	struct admin *a = r->a;
	struct buf *b = &r->body;
	struct atr_stats st;
	struct atr_ns_totals t;
	atr_core_stats(a->core, &st);
	if (atr_ns_totals(a->core, &t))
		memset(&t, 0, sizeof(t));
	r->ctype = "text/plain; version=0.0.4; charset=utf-8";
	int rc = a->opt.metrics ? metrics_render(a->opt.metrics, b) : 0;
	static const struct {
		const char *name, *type, *help;
		int which;
	} fams[] = {
		{ "atrium_cache_hits_total", "counter", "Block cache lookups that found the block.", 0 },
		{ "atrium_cache_misses_total", "counter", "Block cache lookups that did not.", 1 },
		{ "atrium_cache_evictions_total", "counter", "Blocks evicted to stay within capacity.", 2 },
		{ "atrium_cache_used_bytes", "gauge", "Bytes held by the block cache.", 3 },
		{ "atrium_cache_capacity_bytes", "gauge", "Capacity of the block cache.", 4 },
	};
	/* A family's samples, one a tier: memory, and disk when there is one. */
	for (size_t i = 0; i < sizeof(fams) / sizeof(fams[0]) && !rc; i++) {
		uint64_t v[] = { st.cache_hits, st.cache_misses, st.cache_evictions, st.cache_bytes,
				 st.cache_capacity };
		uint64_t dv[] = { st.disk_hits, st.disk_misses, st.disk_evictions, st.disk_bytes,
				  st.disk_capacity };
		rc = metrics_family(b, fams[i].name, fams[i].type, fams[i].help) ||
		     metrics_sample(b, fams[i].name, "tier=\"memory\"", v[fams[i].which]) ||
		     (st.disk_capacity &&
		      metrics_sample(b, fams[i].name, "tier=\"disk\"", dv[fams[i].which]));
	}
	if (!rc && st.disk_capacity)
		rc = metrics_family(b, "atrium_cache_disk_corrupt_total", "counter",
				    "Disk tier blocks dropped as torn or corrupt.") ||
		     metrics_sample(b, "atrium_cache_disk_corrupt_total", NULL, st.disk_corrupt) ||
		     metrics_family(b, "atrium_cache_disk_write_errors_total", "counter",
				    "Disk tier blocks that could not be written.") ||
		     metrics_sample(b, "atrium_cache_disk_write_errors_total", NULL,
				    st.disk_write_errors) ||
		     metrics_family(b, "atrium_cache_disk_stale_total", "counter",
				    "Disk tier blocks of an old version dropped when a newer came.") ||
		     metrics_sample(b, "atrium_cache_disk_stale_total", NULL, st.disk_stale);
	if (!rc)
		rc = metrics_family(b, "atrium_uploads_in_progress", "gauge",
				    "Multipart uploads created and not yet completed or aborted.") ||
		     metrics_sample(b, "atrium_uploads_in_progress", NULL, t.uploads) ||
		     metrics_family(b, "atrium_namespace_entries", "gauge",
				    "Files and directories in the metadata store.") ||
		     metrics_sample(b, "atrium_namespace_entries", "type=\"file\"", t.files) ||
		     metrics_sample(b, "atrium_namespace_entries", "type=\"directory\"", t.dirs) ||
		     metrics_family(b, "atrium_files_not_persisted", "gauge",
				    "Files of remote buckets held on this node only: NOT_PERSISTED "
				    "(MUST_CACHE), TO_BE_PERSISTED (ASYNC_THROUGH, the persist queue).") ||
		     metrics_sample(b, "atrium_files_not_persisted", "state=\"NOT_PERSISTED\"",
				    t.not_persisted) ||
		     metrics_sample(b, "atrium_files_not_persisted", "state=\"TO_BE_PERSISTED\"",
				    t.to_be_persisted) ||
		     metrics_family(b, "atrium_namespace_bytes", "gauge", "Bytes in files.") ||
		     metrics_sample(b, "atrium_namespace_bytes", NULL, t.bytes) ||
		     metrics_family(b, "atrium_meta_lookup_seconds", "summary",
				    "Metadata store point lookups and their total time.") ||
		     buf_addf(b, "atrium_meta_lookup_seconds_sum %.9f\natrium_meta_lookup_seconds_count %llu\n",
			      (double)st.meta_lookup_ns / 1e9, (unsigned long long)st.meta_lookups) ||
		     metrics_family(b, "atrium_meta_transaction_seconds", "summary",
				    "Metadata store write transactions, BEGIN (with its lock wait) to COMMIT.") ||
		     buf_addf(b, "atrium_meta_transaction_seconds_sum %.9f\natrium_meta_transaction_seconds_count %llu\n",
			      (double)st.meta_txn_ns / 1e9, (unsigned long long)st.meta_txns) ||
		     metrics_family(b, "atrium_meta_checkpoint_seconds", "summary",
				    "WAL checkpoints of the metadata store, made off the request path.") ||
		     buf_addf(b, "atrium_meta_checkpoint_seconds_sum %.9f\natrium_meta_checkpoint_seconds_count %llu\n",
			      (double)st.meta_checkpoint_ns / 1e9, (unsigned long long)st.meta_checkpoints) ||
		     metrics_family(b, "atrium_md5_rounds_total", "counter",
				    "Rounds of the multi-buffer MD5 engine: one thread hashing for all that met.") ||
		     metrics_sample(b, "atrium_md5_rounds_total", NULL, st.md5_rounds) ||
		     metrics_family(b, "atrium_md5_jobs_total", "counter",
				    "Pieces of bodies hashed in those rounds (per round: how many met).") ||
		     metrics_sample(b, "atrium_md5_jobs_total", NULL, st.md5_jobs) ||
		     metrics_family(b, "atrium_uptime_seconds", "gauge", "Seconds since the daemon started.") ||
		     metrics_sample(b, "atrium_uptime_seconds", NULL,
				    (uint64_t)((mono_ns() - a->start_mono) / 1000000000)) ||
		     metrics_family(b, "atrium_build_info", "gauge", "The daemon's version.") ||
		     buf_addf(b, "atrium_build_info{version=\"%s\"} 1\n",
			      a->opt.version ? a->opt.version : "");
	if (!rc && a->opt.lifecycle_metrics)
		rc = a->opt.lifecycle_metrics(a->opt.lifecycle_arg, b);
	return rc ? error(r, 500, "InternalError", "metrics too large") : 200;
}

/* ---- lifecycle (the superuser only) ---- */

static int h_lifecycle_run(struct admin_req *r)
{
	const char *now = param(r, "now");
	long long t = (long long)time(NULL);
	char *end = NULL;
	if (!r->user.superuser)
		return error(r, 403, "AccessDenied", "only the daemon's superuser runs lifecycle passes");
	if (!r->a->opt.lifecycle_run)
		return error(r, 501, "NotImplemented", "no lifecycle worker");
	errno = 0;
	if (now && ((t = strtoll(now, &end, 10)), errno || end == now || *end || t < 0))
		return error(r, 400, "InvalidArgument", "now is seconds since the epoch");
	if (r->a->opt.lifecycle_run(r->a->opt.lifecycle_arg, t, &r->body))
		return error(r, 500, "InternalError", "the pass failed (see the daemon's log)");
	return 200;
}

/* ---- users (the superuser only) ---- */

/* The identity errors as the admin API's. */
static const struct {
	int err, status;
	const char *code, *msg;
} user_errors[] = {
	{ ATR_E_NO_KEY, 404, "NoSuchUser", "no such user" },
	{ ATR_E_EXISTS, 409, "UserAlreadyExists", "the user exists already" },
	{ ATR_E_INVALID_ARG, 400, "InvalidArgument", "not a valid user name or display name "
	  "(names: 1..64 printable ASCII characters, no space, '/', ':', '*' or '?')" },
	{ ATR_E_IO, 500, "InternalError", "the credentials file could not be written (see the "
	  "daemon's log); nothing changed" },
	{ ATR_E_NOMEM, 503, "SlowDown", "out of memory" },
};

static int user_error(struct admin_req *r, int err, const char *user)
{
	for (size_t i = 0; i < sizeof(user_errors) / sizeof(user_errors[0]); i++)
		if (user_errors[i].err == err) {
			char msg[256];
			snprintf(msg, sizeof(msg), "%s: %s", user, user_errors[i].msg);
			return error(r, user_errors[i].status, user_errors[i].code, msg);
		}
	return core_error(r, err, user);
}

/* The target user of a user call, after checking the caller may manage
 * users; NULL with *status set otherwise. */
static const char *user_target(struct admin_req *r, int *status, int need_user)
{
	if (!r->a->opt.idents) {
		*status = error(r, 501, "NotSupported", "this daemon has no credentials file");
		return NULL;
	}
	if (!r->user.superuser) {
		*status = error(r, 403, "AccessDenied", "only the daemon's superuser manages users");
		return NULL;
	}
	return need_user ? need(r, "user", status) : "";
}

static int add_keys(struct admin_req *r, const struct atr_ident *id)
{
	r->secret = 1;
	return buf_addstr(&r->body, "{\"user\":") || json_add_str(&r->body, id->user) ||
	       buf_addstr(&r->body, ",\"display\":") || json_add_str(&r->body, id->display) ||
	       buf_addstr(&r->body, ",\"access_key\":") || json_add_str(&r->body, id->access_key) ||
	       buf_addstr(&r->body, ",\"secret_key\":") || json_add_str(&r->body, id->secret) ||
	       buf_addstr(&r->body, "}\n");
}

static int h_users(struct admin_req *r)
{
	int status = 0;
	struct atr_ident *v = NULL;
	size_t n = 0;
	if (!user_target(r, &status, 0))
		return status;
	int rc = atr_idents_list(r->a->opt.idents, &v, &n);
	if (rc)
		return core_error(r, rc, NULL);
	/* One entry per user, its keys in file order. */
	buf_addstr(&r->body, "{\"users\":[");
	for (size_t i = 0, first = 1; i < n; i++) {
		int seen = 0;
		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(v[j].user, v[i].user);
		if (seen)
			continue;
		buf_addstr(&r->body, first ? "{\"user\":" : ",{\"user\":");
		first = 0;
		json_add_str(&r->body, v[i].user);
		buf_addstr(&r->body, ",\"display\":");
		json_add_str(&r->body, v[i].display);
		buf_addstr(&r->body, ",\"keys\":[");
		for (size_t j = i, k = 0; j < n; j++) {
			if (strcmp(v[j].user, v[i].user))
				continue;
			buf_addstr(&r->body, k++ ? ",{\"access_key\":" : "{\"access_key\":");
			json_add_str(&r->body, v[j].access_key);
			buf_addf(&r->body, ",\"status\":\"%s\"}", v[j].inactive ? "Inactive" : "Active");
		}
		buf_addstr(&r->body, "]}");
	}
	int full = buf_addstr(&r->body, "]}\n");
	free(v);
	return full ? error(r, 500, "InternalError", "too many users for one answer") : 200;
}

/* add (a new user) and rotate-key: a new key pair, answered once. */
static int new_key(struct admin_req *r, int rotate)
{
	int status = 0;
	struct atr_ident id;
	const char *user = user_target(r, &status, 1);
	if (!user)
		return status;
	const char *display = param(r, "display");
	int rc = rotate ? atr_idents_rotate(r->a->opt.idents, user, &id)
		 : atr_idents_add(r->a->opt.idents, user, display && *display ? display : NULL, &id);
	if (rc)
		return user_error(r, rc, user);
	LOG(LOG_INFO, "users: %s %s user %s", r->user_name, rotate ? "rotated the keys of" : "added",
	    user);
	rc = add_keys(r, &id);
	explicit_bzero(&id, sizeof(id));
	return rc ? error(r, 500, "InternalError", "answer too large") : 200;
}

static int h_user_add(struct admin_req *r) { return new_key(r, 0); }
static int h_user_rotate(struct admin_req *r) { return new_key(r, 1); }

static int set_active(struct admin_req *r, int active)
{
	int status = 0;
	const char *user = user_target(r, &status, 1);
	if (!user)
		return status;
	int rc = atr_idents_set_active(r->a->opt.idents, user, active);
	if (rc)
		return user_error(r, rc, user);
	LOG(LOG_INFO, "users: %s %s user %s", r->user_name, active ? "enabled" : "disabled", user);
	buf_addstr(&r->body, "{\"user\":");
	json_add_str(&r->body, user);
	buf_addf(&r->body, ",\"status\":\"%s\"}\n", active ? "Active" : "Inactive");
	return 200;
}

static int h_user_disable(struct admin_req *r) { return set_active(r, 0); }
static int h_user_enable(struct admin_req *r) { return set_active(r, 1); }

struct owned {
	char (*v)[ATR_BUCKET_MAX + 1];
	size_t n;
};

static int collect_owned(void *arg, const struct atr_bucket *b)
{
	struct owned *o = arg;
	void *v = realloc(o->v, (o->n + 1) * sizeof(*o->v));
	if (!v)
		return 1;
	o->v = v;
	snprintf(o->v[o->n++], sizeof(*o->v), "%s", b->name);
	return 0;
}

/* rm: refused while the user owns buckets, unless force, which gives
 * them (and all in them) to the daemon's user first. */
static int h_user_rm(struct admin_req *r)
{
	int status = 0;
	struct owned o = { 0 };
	const char *user = user_target(r, &status, 1);
	if (!user)
		return status;
	if (atr_idents_find_user(r->a->opt.idents, user, NULL))
		return user_error(r, ATR_E_NO_KEY, user);
	const char *daemon = atr_core_daemon_user(r->a->core);
	if (!strcmp(user, daemon))
		return error(r, 409, "InvalidRequest", "the daemon's own user cannot be removed");
	struct atr_user who = { .name = user };
	int rc = atr_bucket_list(r->a->core, &who, collect_owned, &o);
	if (!rc && o.n && !flag(r, "force")) {
		struct buf m = BUF_INIT(4096);
		buf_addf(&m, "%s owns %zu bucket(s):", user, o.n);
		for (size_t i = 0; i < o.n && i < 10; i++)
			buf_addf(&m, " %s", o.v[i]);
		buf_addstr(&m, o.n > 10 ? " ...; " : "; ");
		buf_addf(&m, "remove them, or force the removal to give them to %s", daemon);
		status = error(r, 409, "UserOwnsBuckets", m.ptr ? m.ptr : "the user owns buckets");
		buf_release(&m);
		goto out;
	}
	for (size_t i = 0; !rc && i < o.n; i++) {
		char path[ATR_BUCKET_MAX + 2];
		snprintf(path, sizeof(path), "/%s", o.v[i]);
		if (!(rc = atr_fs_chown(r->a->core, &r->user, path, daemon, 1)))
			LOG(LOG_INFO, "users: bucket %s of %s given to %s", o.v[i], user, daemon);
	}
	if (rc || (rc = atr_idents_remove(r->a->opt.idents, user))) {
		status = user_error(r, rc, user);
		goto out;
	}
	LOG(LOG_INFO, "users: %s removed user %s", r->user_name, user);
	buf_addstr(&r->body, "{\"user\":");
	json_add_str(&r->body, user);
	buf_addstr(&r->body, ",\"buckets_transferred\":[");
	for (size_t i = 0; i < o.n; i++) {
		if (i)
			buf_addch(&r->body, ',');
		json_add_str(&r->body, o.v[i]);
	}
	buf_addstr(&r->body, "]}\n");
	status = 200;
out:
	free(o.v);
	return status;
}

static const struct route routes[] = {
	{ "GET", "health", "Health", ACCESS_OPEN, h_health },
	{ "GET", "ready", "Ready", ACCESS_OPEN, h_ready },
	{ "GET", "users", "UserList", ACCESS_USER, h_users },
	{ "POST", "users/add", "UserAdd", ACCESS_USER, h_user_add },
	{ "POST", "users/disable", "UserDisable", ACCESS_USER, h_user_disable },
	{ "POST", "users/enable", "UserEnable", ACCESS_USER, h_user_enable },
	{ "POST", "users/rotate-key", "UserRotateKey", ACCESS_USER, h_user_rotate },
	{ "POST", "users/rm", "UserRemove", ACCESS_USER, h_user_rm },
	{ "GET", "metrics", "Metrics", ACCESS_SCRAPE, h_metrics },
	{ "GET", "report", "Report", ACCESS_USER, h_report },
	{ "GET", "fs/stat", "FsStat", ACCESS_USER, h_stat },
	{ "GET", "fs/list", "FsList", ACCESS_USER, h_list },
	{ "POST", "fs/mkdir", "FsMkdir", ACCESS_USER, h_mkdir },
	{ "POST", "fs/rm", "FsRemove", ACCESS_USER, h_rm },
	{ "POST", "fs/mv", "FsRename", ACCESS_USER, h_mv },
	{ "POST", "fs/chmod", "FsChmod", ACCESS_USER, h_chmod },
	{ "POST", "fs/chown", "FsChown", ACCESS_USER, h_chown },
	{ "POST", "fs/load", "FsLoad", ACCESS_USER, h_load },
	{ "POST", "fs/free", "FsFree", ACCESS_USER, h_free },
	{ "POST", "fs/persist", "FsPersist", ACCESS_USER, h_persist },
	{ "POST", "fs/pin", "FsPin", ACCESS_USER, h_pin },
	{ "POST", "fs/unpin", "FsUnpin", ACCESS_USER, h_unpin },
	{ "POST", "fs/ttl", "FsSetTtl", ACCESS_USER, h_ttl },
	{ "GET", "fs/mounts", "FsMountList", ACCESS_USER, h_mounts },
	{ "POST", "admin/lifecycle/run", "LifecycleRun", ACCESS_USER, h_lifecycle_run },
	{ "POST", "fs/mount", "FsMount", ACCESS_USER, h_mount },
	{ "POST", "fs/unmount", "FsUnmount", ACCESS_USER, h_unmount },
};

/* ---- authentication ---- */

int admin_token_load(const char *path, char **token)
{
	size_t cap = 2 * TOKEN_MAX, n, start = 0;
	char *buf = NULL;
	struct stat st;
	int rc = -1;
	FILE *f = fopen(path, "r");
	*token = NULL;
	if (!f) {
		LOG(LOG_ERROR, "metrics-token: cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	/* A token others can read is anyone's token (as the credentials file). */
	if (fstat(fileno(f), &st) || (st.st_mode & 077)) {
		LOG(LOG_ERROR, "metrics-token: %s is mode %03o: others may read or change the "
		    "token; make it 0600 (chmod 600 %s)", path, (unsigned)(st.st_mode & 0777), path);
		goto out;
	}
	if (!(buf = malloc(cap + 1)))
		goto out;
	n = fread(buf, 1, cap + 1, f);
	if (ferror(f) || n > cap) {
		LOG(LOG_ERROR, "metrics-token: %s: unreadable, or over %d bytes", path, TOKEN_MAX);
		goto out;
	}
	/* Trimmed as Prometheus trims its credentials_file (a NUL is no
	 * blank: strchr would find the terminator). */
	while (start < n && buf[start] && strchr(" \t\r\n", buf[start]))
		start++;
	while (n > start && buf[n - 1] && strchr(" \t\r\n", buf[n - 1]))
		n--;
	n -= start;
	for (size_t i = 0; i < n; i++)
		if (buf[start + i] <= ' ' || buf[start + i] > '~')
			n = 0; /* refused below, whatever its length */
	if (n < TOKEN_MIN || n > TOKEN_MAX) {
		LOG(LOG_ERROR, "metrics-token: %s must hold one token of %d..%d visible ASCII "
		    "characters", path, TOKEN_MIN, TOKEN_MAX);
		goto out;
	}
	memmove(buf, buf + start, n);
	buf[n] = '\0';
	*token = buf;
	buf = NULL;
	rc = 0;
out:
	if (buf) {
		explicit_bzero(buf, cap + 1);
		free(buf);
	}
	fclose(f);
	return rc;
}

/* The credentials of "Authorization: Bearer <cred>" against the token.
 * Both are hashed first, so the comparison takes the same time whatever
 * their lengths and wherever they differ. */
static int bearer_matches(const char *cred, const char *token)
{
	unsigned char a[SHA256_LEN], b[SHA256_LEN];
	size_t n;
	cred += strspn(cred, " \t");
	n = strlen(cred);
	while (n && (cred[n - 1] == ' ' || cred[n - 1] == '\t'))
		n--;
	sha256(cred, n, a);
	sha256(token, strlen(token), b);
	int ok = secure_equal(a, b, SHA256_LEN);
	explicit_bzero(a, sizeof(a));
	explicit_bzero(b, sizeof(b));
	return ok;
}

/* 0 when the caller may use rt (r->user set for ACCESS_USER and a signed
 * scrape), else the error response's status. */
static int authenticate(struct admin_req *r, const struct route *rt)
{
	const struct admin_options *o = &r->a->opt;
	const char *authz = mg_get_header(r->conn, "Authorization");
	char code[64], msg[256];
	if (rt->access == ACCESS_OPEN || (rt->access == ACCESS_SCRAPE && o->metrics_public))
		return 0;
	if (rt->access == ACCESS_SCRAPE && authz && !strncasecmp(authz, "Bearer ", 7)) {
		if (o->metrics_token && bearer_matches(authz + 7, o->metrics_token))
			return 0;
		/* RFC 6750: a bad bearer token is 401 with a challenge. */
		r->extra = "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n";
		if (!o->metrics_token)
			return error(r, 401, "InvalidToken", "this daemon takes no bearer token "
				     "(no --metrics-token): sign the request instead");
		return error(r, 401, "InvalidToken",
			     "the bearer token is not the one in this daemon's --metrics-token file");
	}
	int st = o->auth(o->auth_arg, r->conn, r->user_name, code, sizeof(code), msg, sizeof(msg));
	if (st)
		return error(r, st, code, msg);
	r->user.name = r->user_name;
	r->user.superuser = !strcmp(r->user_name, atr_core_daemon_user(r->a->core));
	return 0;
}

/* ---- dispatch ---- */

int admin_is_path(const char *path)
{
	if (strncmp(path, PREFIX, strlen(PREFIX)))
		return 0;
	const char *rest = path + strlen(PREFIX);
	return !(!strncmp(rest, "s3", 2) && (rest[2] == '\0' || rest[2] == '/'));
}

static int dispatch(struct admin_req *r, const struct route **out)
{
	const struct mg_request_info *ri = r->ri;
	const char *path = ri->local_uri_raw ? ri->local_uri_raw : ri->local_uri;
	const char *name = path + strlen(PREFIX);
	const char *method = ri->request_method;
	const struct route *rt = NULL;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]) && !rt; i++)
		if (!strcmp(routes[i].name, name))
			rt = &routes[i];
	*out = rt;
	if (!rt)
		return error(r, 404, "NoSuchEndpoint", "no such admin endpoint");
	if (strcmp(rt->method, method) && !(!strcmp(rt->method, "GET") && !strcmp(method, "HEAD"))) {
		char msg[64];
		snprintf(msg, sizeof(msg), "use %s", rt->method);
		return error(r, 405, "MethodNotAllowed", msg);
	}
	/* No endpoint takes a body: one left unread would be taken for the
	 * next request on the connection. */
	if (ri->content_length > 0 || (ri->content_length < 0 &&
				       mg_get_header(r->conn, "Transfer-Encoding"))) {
		r->must_close = 1;
		return error(r, 400, "InvalidRequest", "admin requests carry no body");
	}
	int st = authenticate(r, rt);
	if (st)
		return st;
	if (uri_query_parse(&r->q, ri->query_string))
		return error(r, 400, "InvalidArgument", "malformed query string");
	return rt->handler(r);
}

int admin_handle(struct admin *a, struct mg_connection *conn)
{
	int64_t t0 = mono_ns();
	struct admin_req r;
	memset(&r, 0, sizeof(r));
	r.a = a;
	r.conn = conn;
	r.ri = mg_get_request_info(conn);
	r.ctype = "application/json";
	buf_init(&r.body, BODY_MAX);
	uint64_t id = __atomic_add_fetch(&a->next_id, 1, __ATOMIC_RELAXED);
	snprintf(r.id, sizeof(r.id), "A%015llX", (unsigned long long)((id ^ a->id_salt) &
								      0xFFFFFFFFFFFFFFFull));
	const struct route *rt = NULL;
	int status = dispatch(&r, &rt);
	respond(&r, status);

	const char *path = r.ri->local_uri_raw ? r.ri->local_uri_raw : r.ri->local_uri;
	int64_t dur = mono_ns() - t0;
	uint64_t out = strcmp(r.ri->request_method, "HEAD") ? r.body.len : 0;
	if (a->opt.metrics)
		metrics_request(a->opt.metrics, "admin", rt ? rt->op : "Unknown", status, 0, out, dur);
	if (a->opt.access_log) {
		char op[64];
		snprintf(op, sizeof(op), "ADMIN.%s.%s", r.ri->request_method,
			 rt ? rt->op : "Unknown");
		struct access_line e = {
			.time_ns = time_now_ns() - dur, .remote_ip = r.ri->remote_addr,
			.requester = r.user_name, .request_id = r.id, .operation = op,
			.method = r.ri->request_method, .path = path, .query = r.ri->query_string,
			.http_version = r.ri->http_version, .status = status,
			.bytes_sent = out ? (int64_t)out : -1, .object_size = -1,
			.total_ms = dur / 1000000, .turnaround_ms = -1,
			.referer = mg_get_header(r.conn, "Referer"),
			.user_agent = mg_get_header(r.conn, "User-Agent"), .host_id = r.id,
			.host = mg_get_header(r.conn, "Host"),
		};
		access_log_write(a->opt.access_log, &e);
	}
	LOG(LOG_DEBUG, "admin %s %s %s -> %d user=%s", r.id, r.ri->request_method, path, status,
	    r.user_name);
	uri_query_release(&r.q);
	if (r.secret && r.body.ptr)
		explicit_bzero(r.body.ptr, r.body.len);
	buf_release(&r.body);
	return status;
}

struct admin *admin_new(struct atr_core *core, const struct admin_options *opt)
{
	struct admin *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->core = core;
	a->opt = *opt;
	a->start_ns = time_now_ns();
	a->start_mono = mono_ns();
	a->id_salt = (uint64_t)time(NULL) << 24;
	return a;
}

void admin_free(struct admin *a)
{
	free(a);
}
