/*
 * admin — the daemon's admin HTTP API, the door the atrium CLI and
 * Prometheus use: every path under /api/v1/ but /api/v1/s3.
 *
 *   GET  /api/v1/health                  {"status":"ok"}, never authenticated (alive)
 *   GET  /api/v1/ready                   200 {"status":"ready"} or 503 {"status":"not ready",
 *                                        "failed":PART,"message":WHY}: store, ufs, mount,
 *                                        stopping; never authenticated
 *   GET  /api/v1/users                   {"users":[{"user","display","keys":[{"access_key",
 *                                        "status":"Active|Inactive"}]}]} (no secrets)
 *   POST /api/v1/users/add?user=U[&display=D]   {"user","display","access_key","secret_key"}
 *   POST /api/v1/users/disable?user=U, /users/enable?user=U
 *   POST /api/v1/users/rotate-key?user=U {"user","display","access_key","secret_key"}
 *   POST /api/v1/users/rm?user=U[&force=1]  refused (409 UserOwnsBuckets) while U owns
 *                                        buckets, unless force: they go to the daemon's user
 *   GET  /api/v1/metrics                 Prometheus text format
 *   GET  /api/v1/report                  cache, namespace, uploads, version, uptime
 *   GET  /api/v1/fs/stat?path=P          one entry
 *   GET  /api/v1/fs/list?path=P[&recursive=1][&start=CURSOR][&max=N]
 *                                        {"entries":[...],"truncated":b,"next":CURSOR}
 *                                        at most min(N, 1000) entries a page
 *   POST /api/v1/fs/mkdir?path=P
 *   POST /api/v1/fs/rm?path=P[&recursive=1]
 *   POST /api/v1/fs/mv?src=P&dst=P
 *   POST /api/v1/fs/chmod?path=P&mode=OCTAL[&recursive=1]
 *   POST /api/v1/fs/chown?path=P&owner=USER[&recursive=1]
 *   POST /api/v1/fs/load?path=P          {"files":n,"bytes":n}
 *   POST /api/v1/fs/free?path=P          {"files":n,"bytes":n}
 *   POST /api/v1/fs/persist?path=P       {"files":n,"bytes":n,"state":"PERSISTED"}
 *   POST /api/v1/admin/lifecycle/run[?now=EPOCH_SECONDS]
 *                                        one pass of the buckets' lifecycle rules now (or
 *                                        at now), synchronously: {"buckets","rules",
 *                                        "expired","aborted","errors","truncated"}; the
 *                                        superuser's only
 *
 * Paths are the core's file-system view (src/atrium.h). The users calls
 * are the daemon's superuser's only (403 for anyone else) and take effect
 * at once (src/atrium.h, identities). Requests carry no body. Every endpoint but health is authenticated like an S3 request (the
 * auth callback: SigV4 in sigv4 mode, the access key as user in simple
 * mode) and acts as that user, with the S3 door's permission checks.
 * Prometheus cannot sign, so metrics may instead take a bearer token
 * (opt.metrics_token: "Authorization: Bearer TOKEN", compared in constant
 * time; a wrong one is 401) or be public (opt.metrics_public); neither
 * gives a user, and neither reaches any other endpoint.
 * Errors are {"error":CODE,"message":TEXT,"request_id":ID} with an HTTP
 * status (400, 403, 404, 405, 409, 501, 500...).
 *
 * Each request is counted in the metrics (door "admin") and written to the
 * access log. Thread-safe: no state changes after admin_new but atomics.
 */
#ifndef SRC_ADMIN_H
#define SRC_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#include "src/atrium.h"

struct mg_connection;
struct metrics;
struct access_log;

/* Authenticates the request on conn: 0 with user filled, or the HTTP
 * status to refuse it with, and an error code and message. */
typedef int (*admin_auth_fn)(void *arg, struct mg_connection *conn, char user[ATR_USER_MAX + 1],
			     char *code, size_t code_size, char *msg, size_t msg_size);

struct admin_options {
	admin_auth_fn auth;
	void *auth_arg;
	const char *auth_mode;          /* reported: "sigv4" or "simple" */
	const char *version;
	struct metrics *metrics;        /* may be NULL */
	struct access_log *access_log;  /* may be NULL */
	const char *metrics_token;      /* NULL: no bearer token accepted */
	int metrics_public;             /* metrics need no authentication */
	struct atr_idents *idents;      /* the users (/api/v1/users); may be NULL */
	/* The daemon's readiness beyond the core's (the mount, a stop in
	 * progress): NULL when ready, else why not, with *what naming the
	 * part. May be NULL. Called on any thread; must be cheap. */
	const char *(*ready)(void *arg, const char **what);
	void *ready_arg;
	/* The S3 door's lifecycle worker (may be NULL): run appends one
	 * pass's JSON summary, taking now (seconds since the epoch) as the
	 * time; metrics appends its counter families. 0, or -1 (run: the
	 * pass failed, logged; metrics: out's cap). */
	int (*lifecycle_run)(void *arg, int64_t now, struct buf *json);
	int (*lifecycle_metrics)(void *arg, struct buf *out);
	void *lifecycle_arg;
};

struct admin;

/* Reads the metrics bearer token from path into *token (malloc'd; wipe and
 * free it after admin_free): the file's content with surrounding blanks
 * and newlines trimmed, as Prometheus's credentials_file is read. -1 after
 * logging why if the file cannot be read, others may read or change it
 * (mode & 077, as the credentials file), or the token is shorter than 16
 * bytes, longer than 4096, or holds anything but visible ASCII. */
int admin_token_load(const char *path, char **token);

/* Nothing passed is owned; all must outlive the admin. */
struct admin *admin_new(struct atr_core *core, const struct admin_options *opt);
void admin_free(struct admin *a);
/* 1 if path (as sent) belongs to the admin API. */
int admin_is_path(const char *path);
/* Serves one request; returns the HTTP status sent. */
int admin_handle(struct admin *a, struct mg_connection *conn);

#endif
