/*
 * s3 — the S3 REST door. The daemon hands it every HTTP request that is not
 * for the admin API; it answers at "/api/v1/s3/..." (Alluxio's prefix) and
 * at "/..." (path style) and, with a domain, at "bucket.domain/..."
 * (virtual-hosted style), authenticates, routes and renders S3 XML.
 */
#ifndef S3_S3_H
#define S3_S3_H

#include <stdint.h>

#include "common/access_line.h"
#include "s3/s3_auth.h"
#include "src/atrium.h"

struct mg_connection;

/* A finished request, for the observe hook (metrics, access log). The
 * strings are valid during the call only. */
struct s3_done {
	const char *id, *user, *method;
	const char *op;               /* S3's name: "GetObject"...; "Rejected" before routing */
	const char *path;             /* as sent, without the query */
	int status;
	uint64_t bytes_in, bytes_out; /* request Content-Length; response Content-Length */
	int64_t time_ns;              /* wall clock when the request arrived */
	int64_t duration_ns;
	/* The request as a line of S3's server access log (bucket_owner
	 * unset): what --access-log writes. */
	const struct access_line *line;
};
typedef void (*s3_observe_fn)(void *arg, const struct s3_done *d);

struct s3_options {
	enum s3_auth_mode auth;
	const char *region;          /* reported by GetBucketLocation */
	uint64_t max_put_size;       /* largest single PUT (5 GiB) */
	s3_observe_fn observe;       /* called after each request; may be NULL */
	void *observe_arg;
	uint64_t min_part_size;      /* smallest multipart part but the last (5 MiB) */
	/* Virtual-hosted style: Host "bucket.<domain>[:port]" names the
	 * bucket and the path is the key. NULL: path style only. */
	const char *domain;
	/* Slow request bodies (s3_body.c): a body may take request_timeout_ms
	 * plus one second per min_body_rate bytes received, then the request
	 * ends with RequestTimeout. min_body_rate 0: no bound beyond
	 * civetweb's per-read request_timeout_ms. */
	long request_timeout_ms;
	uint64_t min_body_rate;    /* bytes per second */
	/* The negotiated TLS cipher and version of the calling thread's
	 * connection, for access logs (may be NULL); arg is observe_arg. */
	void (*tls_info)(void *arg, char *cipher, size_t cn, char *version, size_t vn);
	/* Bucket logging (PutBucketLogging): delivered log objects are written
	 * every log_flush_ms, or once log_flush_records records wait, and at
	 * stop (0: the defaults, 300000 ms and 1000 records). */
	long log_flush_ms;
	long log_flush_records;
	/* Lifecycle (PutBucketLifecycleConfiguration): the worker passes
	 * over the buckets every lifecycle_interval_ms (0: no worker; passes
	 * only when s3_lifecycle_run is called), and a day of the rules is
	 * lifecycle_day_s seconds (0: 86400; tests shrink it). */
	long lifecycle_interval_ms;
	long lifecycle_day_s;
};

struct s3_server;

/* idents may be NULL in simple mode. Neither core nor idents is owned. */
struct s3_server *s3_server_new(struct atr_core *core, const struct atr_idents *idents,
				const struct s3_options *opt);
void s3_server_free(struct s3_server *s);
/* New size limits (SIGHUP): requests that start later see them. */
void s3_server_set_limits(struct s3_server *s, uint64_t max_put_size, uint64_t min_part_size);
/* Handles one request on conn; returns the HTTP status sent. */
int s3_handle(struct s3_server *s, struct mg_connection *conn);
/* Answers a request refused before any handler — by civetweb (its
 * http_error callback: status and its reason), or by the daemon while it
 * stops (503) — as S3 does any error: XML, request id, observed (metrics,
 * access log); the connection is closed after it. Returns the status
 * sent. */
int s3_reject(struct s3_server *s, struct mg_connection *conn, int status, const char *why);

/* Lifecycle: one pass of the rules of every bucket, now (seconds since
 * the epoch) taken as the time, synchronously (after a pass in progress);
 * what it did into *out (may be NULL). 0, or the core's error listing the
 * buckets. The counters are totals since start, for the metrics. */
struct s3_lc_summary {
	uint64_t buckets, rules;   /* with a configuration; enabled rules applied */
	uint64_t expired, aborted, errors;
	uint64_t locked;           /* versions due but under Object Lock: skipped */
	int truncated;             /* stopped at the pass's bound: more next pass */
};
struct s3_lc_counters {
	uint64_t passes, expired, aborted, errors, locked;
};
int s3_lifecycle_run(struct s3_server *s, int64_t now, struct s3_lc_summary *out);
void s3_lifecycle_counters(struct s3_server *s, struct s3_lc_counters *out);

/* Authenticates the request on conn the way the S3 door does (same mode,
 * same users, SigV4 header or presigned query), for the daemon's other
 * HTTP endpoints; the body is neither read nor checked. SigV2 is refused
 * in sigv4 mode (SIGV2_NOT_SUPPORTED): it leaves the query unsigned. Fills
 * user: the daemon's user for an anonymous request in simple mode. */
enum s3_err s3_authenticate_conn(struct s3_server *s, struct mg_connection *conn,
				 char user[ATR_USER_MAX + 1]);

#endif
