/*
 * s3_int.h — what the S3 door's files share: the request being served and
 * the response helpers. Handlers get a parsed, authenticated struct s3_req
 * and return an enum s3_err; the dispatcher (s3_router.c) renders errors,
 * so no handler formats an error itself unless the response has started.
 */
#ifndef S3_S3_INT_H
#define S3_S3_INT_H

#include <pthread.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/checksum.h"
#include "common/uri.h"
#include "s3/s3.h"
#include "s3/s3_auth.h"
#include "s3/s3_err.h"

/* One body read in flight, watched by s3_slow.c (its comment says who
 * guards what). */
struct s3_slow_read {
	struct s3_slow_read *prev, *next;
	uint64_t deadline_ns;      /* CLOCK_MONOTONIC: cut the connection after */
	int fired;                 /* the watchdog cut it */
	const char *id;            /* request id, for the log */
	const char *remote_addr;   /* the connection's two ends */
	int remote_port, server_port;
};
struct s3_slow;
struct s3_slow *s3_slow_new(void);
void s3_slow_free(struct s3_slow *w);
/* Around each mg_read of a body: rd is watched in between. leave returns 1
 * if the watchdog cut the connection meanwhile. */
void s3_slow_enter(struct s3_slow *w, struct s3_slow_read *rd);
int s3_slow_leave(struct s3_slow *w, struct s3_slow_read *rd);
uint64_t s3_slow_now(void);  /* CLOCK_MONOTONIC in ns */

struct s3_server {
	struct atr_core *core;
	const struct atr_idents *idents;
	/* Set at start; opt.max_put_size and opt.min_part_size also by
	 * s3_server_set_limits (SIGHUP): read them with s3_limit. */
	struct s3_options opt;
	uint64_t next_id;  /* request ids; atomic */
	uint64_t id_salt;
	pthread_key_t io_key; /* per-thread body buffer */
	struct s3_slow *slow; /* slow-body watchdog; NULL without min_body_rate */
	struct s3_logging *logging; /* bucket logging's queue and worker */
	struct s3_lifecycle *lifecycle; /* lifecycle rules' cache and worker */
};

/* A S3_IO_BUFFER-byte buffer owned by the calling thread, allocated on its
 * first use and freed when the thread ends: a body buffer per request would
 * be an mmap/munmap each time (and a TLB shootdown on every CPU). NULL if
 * out of memory. The response functions (s3_send_*) format into it too:
 * never pass them anything that points into it. */
#define S3_IO_BUFFER (256 * 1024)
char *s3_io_buffer(struct s3_server *s);

struct s3_req {
	struct s3_server *srv;
	struct mg_connection *conn;
	const char *method;
	char *path;            /* decoded path after the S3 prefix, starts with '/' */
	char *split;           /* a copy of path that bucket and key point into */
	const char *bucket;    /* "" for the service, points into path copy */
	const char *key;       /* "" for a bucket request */
	size_t key_len;        /* keys may hold a NUL: refused, but measured */
	struct uri_query q;
	struct s3_auth auth;
	struct atr_user user;
	char user_name[ATR_USER_MAX + 1];
	char id[17];
	int status;            /* sent, for the log */
	int started;           /* response headers are out */
	int must_close;        /* body left unread: close after responding */
	int write_failed;      /* a write to the client fell short: closing (s3_write) */
	int continue_sent;
	int64_t content_length;/* -1 if none */
	uint64_t bytes_out;     /* response Content-Length (not HEAD's), for metrics */
	int path_prefixed;     /* the path began with /api/v1/s3 */
	int vhost;             /* virtual-hosted style: the bucket came from Host */
	int form_post;         /* an unsigned POST Object form: s3_post_object
				  authenticates it from its fields */
	char err_hdrs[96];     /* extra header lines for an error response
				  (416's Content-Range), "\r\n"-terminated */
	char *cors_hdrs;       /* CORS header lines every response to this
				  request carries (s3_cors_request), malloc'd */
	int preflight;         /* OPTIONS: unauthenticated, s3_cors_preflight */
	/* for the access log (s3_observe) */
	const char *err_code;  /* the S3 error sent, or NULL */
	int64_t object_size;   /* the object's size where one was read or written, else -1 */
	int64_t head_ns;       /* s3_clock_ns() when the response began, 0 before */
	struct atr_request req; /* what the core's policies may ask (user.req) */
	struct {               /* s3_conditions.c's, for the life of the request */
		struct uri_query tags; /* x-amz-tagging, parsed once */
		int tags_parsed, tags_ok;
		char time[40];
	} cond;
};

/* A handler: serves the request (the response, or an error for the
 * dispatcher to render). */
typedef enum s3_err (*s3_handler)(struct s3_req *r);

/* s3_conditions.c: the value callback of struct atr_request (arg: the
 * struct s3_req) for the condition keys of bucket policies. */
const char *s3_condition_value(void *arg, const char *k, int i);

/* ---- authentication glue (s3_auth_conn.c) ---- */
struct mg_request_info;
/* A limit SIGHUP may change while requests read it (relaxed: a request
 * sees the old value or the new one). */
#define s3_limit(srv, field) __atomic_load_n(&(srv)->opt.field, __ATOMIC_RELAXED)

/* s3_secret_fn over a struct atr_idents. */
int s3_secret_lookup(void *arg, const char *access_key, char *secret, size_t secret_size,
		     char *user, size_t user_size);
/* civetweb's headers as s3_hdr; returns how many. */
int s3_auth_headers(const struct mg_request_info *ri, struct s3_hdr *hdrs /* MG_MAX_HEADERS */);

/* ---- request helpers (s3_router.c) ---- */
/* The route table's handler for a parsed request: by method, by target
 * (the service, a bucket or an object, from bucket and key), by the
 * sub-resource in the query and by the presence of a header (PUT with
 * x-amz-copy-source is CopyObject, or UploadPartCopy with ?uploadId).
 * NULL with *err NOT_IMPLEMENTED for a sub-resource or method+target we do
 * not serve, METHOD_NOT_ALLOWED for a method the target never takes. */
s3_handler s3_route_find(const struct s3_req *r, enum s3_err *err);
/* Who the request acts as: user, or for an unsigned request (anonymous)
 * the daemon's user in simple mode and nobody (atr_user.anonymous) else. */
void s3_set_user(struct s3_req *r, const char *user, int anonymous);
/* A header or POST form field asking for server-side encryption or Object
 * Lock, which Atrium does not do and must not ignore: the error to refuse
 * the request with (SSE_NOT_IMPLEMENTED, OBJECT_LOCK_MISSING,
 * OBJECT_LOCK_NOT_IMPLEMENTED), else OK. The dispatcher checks every
 * request's headers, s3_post_object its form's fields. */
enum s3_err s3_refused_field(const char *name, const char *value);
const char *s3_header(const struct s3_req *r, const char *name);
const char *s3_param(const struct s3_req *r, const char *name);
int s3_has_param(const struct s3_req *r, const char *name);
/* Sends "100 Continue" if the client asked for it (once). */
void s3_continue(struct s3_req *r);
/* Reads the whole (small) body into b, capped by b->max: MALFORMED_XML-free
 * errors: ENTITY_TOO_LARGE over the cap, INCOMPLETE_BODY if short. */
enum s3_err s3_read_small_body(struct s3_req *r, struct buf *b);

/* The body as the client meant it: aws-chunked decoded, hashed against
 * x-amz-content-sha256 when that is a hash. */
struct s3_body {
	struct s3_req *r;
	int chunked;
	struct s3_chunked ch;
	void *sha;             /* struct hash * when verifying a SHA-256 */
	uint64_t expect;       /* decoded length promised */
	uint64_t got;
	uint64_t wire;         /* bytes read from the connection (before decoding) */
	uint64_t start_ns;     /* CLOCK_MONOTONIC at s3_body_open: the rate bound */
	int timed_out;         /* the client sent too slowly (RequestTimeout) */
	struct s3_slow_read rd; /* while inside mg_read (s3_slow.c) */
	/* The x-amz-checksum-* being verified (s3_body_checksum), or NULL. */
	struct checksum *ck;
	int ck_trailer;        /* its value comes in the aws-chunked trailer */
	unsigned char ck_want[CHECKSUM_MAX_LEN]; /* the value sent (from the
				  trailer once s3_body_finish has read it) */
};
enum s3_err s3_body_open(struct s3_req *r, struct s3_body *b);
/* >0 bytes, 0 at the end (length checked), -1 with *err. */
long s3_body_read(struct s3_body *b, void *buf, size_t len, enum s3_err *err);
/* PutObject and UploadPart (where x-amz-checksum-* describes the body, not
 * a whole object as on CompleteMultipartUpload): after s3_body_open, takes
 * the body's checksum from x-amz-checksum-<alg> or, when x-amz-trailer
 * names it, from the aws-chunked trailer; x-amz-sdk-checksum-algorithm must
 * agree. It is computed as the body is read and checked by s3_body_finish
 * (CHECKSUM_BAD). CHECKSUM_MULTIPLE for two of them, CHECKSUM_ALG for an
 * unknown or disagreeing algorithm, CHECKSUM_MISSING for an algorithm with
 * no value, CHECKSUM_INVALID for a value that is not base64 of the size. */
enum s3_err s3_body_checksum(struct s3_body *b);
/* After the last read: checks the SHA-256, then the checksum (ck_want then
 * holds the value verified). */
enum s3_err s3_body_finish(struct s3_body *b);
void s3_body_close(struct s3_body *b);
/* An x-amz-checksum-<alg> value: base64 of the algorithm's size, into out
 * (CHECKSUM_INVALID otherwise). */
enum s3_err s3_checksum_decode(const char *v, enum checksum_alg alg, unsigned char *out);
/* "x-amz-checksum-<alg>: <base64 of sum>\r\n", the line a verified
 * checksum is kept and echoed as. */
void s3_checksum_line(enum checksum_alg alg, const unsigned char *sum, char line[96]);

/* ---- the request writer (s3_write.c) ----
 *
 * The one sequence by which an operation puts bytes into the core
 * (PutObject, POST Object, UploadPart, UploadPartCopy), s3_write_run:
 *   1. target->open: the core writer (atr_put_begin, atr_mpu_part_begin:
 *      name, permission, upload checks), into wr->w;
 *   2. wr->prepare, the operation's say on the open writer (conditions,
 *      ACL, the checksum an upload wants);
 *   3. every byte from the source into the target, at most max_size
 *      (ENTITY_TOO_LARGE), the checksum computed on the way unless the
 *      source verifies its own; then at least min_size (ENTITY_TOO_SMALL),
 *      the checksum against ck_want if given (CHECKSUM_BAD);
 *   4. source->finish (the body's SHA-256 and checksum; POST's trailing
 *      fields), then Content-MD5 if sent (BAD_DIGEST);
 *   5. target->commit: wr->etag and wr->mtime_ns.
 * Any error aborts the target: nothing is left behind. The operation keeps
 * its own header checks before the run and its response after it.
 * (CopyObject is not a run: atr_object_copy_with opens, copies inside the
 * under-storage and commits in one core call.) One struct s3_write is one
 * request's, on its thread.
 */
struct s3_write;

/* Where the bytes go: a core writer behind five calls. s3_object_target
 * writes the object at r->bucket/r->key (atr_put_*) with wr->tags and
 * commits it with wr->hdrs and the checksum line; s3_part_target writes
 * part wr->part of the upload ?uploadId names (atr_mpu_part_*) and keeps
 * the checksum when the upload has an algorithm. */
struct s3_target {
	int (*open)(struct s3_write *wr);                  /* enum atr_err */
	int (*write)(void *w, const void *data, size_t n); /* enum atr_err */
	void (*md5)(void *w, unsigned char out[16]);
	/* Commits wr->w, which is gone afterwards whatever the result. */
	enum s3_err (*commit)(struct s3_write *wr);
	void (*abort)(void *w);
};
extern const struct s3_target s3_object_target, s3_part_target;

/* Where they come from. */
struct s3_source {
	/* The next bytes: *data points at n > 0 of them (valid until the next
	 * call), 0 at the end, -1 with *err. */
	long (*next)(void *arg, const void **data, enum s3_err *err);
	/* After the last byte, before Content-MD5 and the commit (may be NULL). */
	enum s3_err (*finish)(struct s3_write *wr, void *arg);
	void *arg;
	int own_checksum; /* the source verifies ck_alg's checksum itself, and
			     its finish leaves the value in wr->ck_sum */
};

/* What a request asks of server-side encryption (s3_sse.c): mode (enum
 * atr_sse; 0 none) and SSE-C's key with the base64 of its MD5 (for the
 * response headers). Wipe with s3_sse_release. */
struct s3_sse {
	int mode;
	unsigned char key[32];
	char key_md5[25];
};

struct s3_write {
	/* In: s3_write_init's defaults, then what the operation sets. */
	struct s3_req *r;
	const struct s3_target *target;
	const char *tags;              /* object: the tag set it commits with, or NULL */
	struct buf *hdrs;              /* object: the stored headers it commits with */
	int part;                      /* part: its number */
	enum s3_err (*prepare)(struct s3_write *wr, void *arg); /* step 2, or NULL */
	void *arg;                     /* prepare's */
	uint64_t size_hint;            /* the bytes to come, 0 if unknown */
	uint64_t min_size, max_size;   /* default 0 and max_put_size */
	int have_md5;                  /* Content-MD5 was sent: md5 */
	unsigned char md5[16];
	enum checksum_alg ck_alg;      /* the bytes' checksum, CHECKSUM_NONE for none */
	const unsigned char *ck_want;  /* its value, when known before the bytes */
	int write_type;                /* object: enum atr_write_type (x-atrium-write-type) */
	struct s3_sse sse;             /* object: the encryption asked for (s3_sse.c) */
	const struct atr_lock *lock;   /* object: the Object Lock asked for, or NULL */
	/* The core writer, from open to commit. */
	void *w;
	/* Out. */
	int64_t size;                  /* the bytes, once they are all in; -1 before */
	char etag[ATR_ETAG_MAX + 1];
	int64_t mtime_ns;
	unsigned char ck_sum[CHECKSUM_MAX_LEN];
	char ck_line[96];              /* "x-amz-checksum-<alg>: <base64>\r\n", or "" */
	char ck_b64[4 * ((CHECKSUM_MAX_LEN + 2) / 3) + 1];
	int sse_mode;                  /* object: how it was stored (enum atr_sse) */
	char vid[ATR_VID_MAX + 1];     /* object: its version id, or "" */
};
void s3_write_init(struct s3_write *wr, struct s3_req *r, const struct s3_target *target);
enum s3_err s3_write_run(struct s3_write *wr, const struct s3_source *src);
/* A run from the request body (s3_body: length rules, aws-chunked, the
 * SHA-256 and x-amz-checksum-* checks): ck_alg becomes the body's; a body
 * promised longer than max_size is refused before the target opens; 100
 * Continue goes out once the target is open and prepared; after an error
 * that leaves body bytes unread, the connection closes. */
enum s3_err s3_write_body(struct s3_write *wr);
/* A run from bytes [off, off + len) of an open reader. */
enum s3_err s3_write_copy(struct s3_write *wr, struct atr_reader *rd, uint64_t off, uint64_t len);
/* PutObject's and UploadPart's answer: 200, the ETag, the checksum line. */
void s3_write_respond(struct s3_write *wr);

/* ---- responses (s3_resp.c) ---- */
/* Starts a response: status line and the headers every response carries,
 * then extra (already "\r\n"-terminated lines, may be NULL), then
 * Content-Length. */
void s3_send_head(struct s3_req *r, int status, const char *extra, uint64_t length);
/* s3_send_head for a body of length bytes whose first n are at body: they
 * go out in the same write when they fit. Returns how many went. */
size_t s3_send_head_body(struct s3_req *r, int status, const char *extra, uint64_t length,
			 const void *body, size_t n);
void s3_send_xml(struct s3_req *r, int status, const struct buf *xml);
void s3_send_empty(struct s3_req *r, int status, const char *extra);
/* A handler's ending for a core call whose answer has no body: the error
 * for rc (an enum atr_err), else an empty status response. */
enum s3_err s3_reply_empty(struct s3_req *r, int rc, int status);
void s3_send_error(struct s3_req *r, enum s3_err e, const char *message);
/* A response whose length is not known when it starts (CompleteMultipart-
 * Upload's): chunked; each s3_send_chunk sends one chunk, len 0 the last.
 * HTTP/1.1 clients only. s3_send_chunk returns 0, or -1 if the client left. */
void s3_send_head_chunked(struct s3_req *r, int status, const char *extra);
/* Writes all of data or fails (-1): after a short write (the client stalled
 * past request-timeout-ms) the connection is closed after the handler and
 * every later s3_write fails at once. */
int s3_write(struct s3_req *r, const void *data, size_t len);
int s3_send_chunk(struct s3_req *r, const void *data, size_t len);
/* Appends the <Error> document for e to b (with the XML declaration when
 * decl): for an error that happens after a 200 has started. 0 or -1. */
int s3_error_xml(struct s3_req *r, enum s3_err e, const char *message, int decl,
		 struct buf *b);
/* "<?xml ...?>" and the opening tag with S3's namespace. */
int s3_xml_open(struct buf *b, const char *root);
/* Appends <tag>value</tag>, URL-encoded when url is set (encoding-type=url:
 * keys, prefixes, markers). */
int s3_xml_name(struct buf *b, const char *tag, const char *value, int url);
/* Appends <tag><ID>user</ID><DisplayName>...</DisplayName></tag> (Owner,
 * Initiator), the display name from the credentials file. */
int s3_xml_user(struct s3_req *r, struct buf *b, const char *tag, const char *user);
/* Appends <tag>text</tag> with text escaped; text that is not UTF-8 or
 * holds characters XML 1.0 cannot carry is percent-encoded instead (as
 * uri_encode, '/' kept), so the document stays well-formed. */
int s3_xml_elem(struct buf *b, const char *tag, const char *text);

/* ---- observing (s3_observe.c) ---- */
int64_t s3_clock_ns(void); /* monotonic */
/* Hands the finished request to opt.observe: h is the route's handler
 * (NULL if none was reached), t0 the s3_clock_ns() of its arrival. */
void s3_observe(struct s3_req *r, s3_handler h, const char *raw_path, int64_t t0);

/* ---- bucket logging (s3_logging.c) ---- */
struct s3_logging;
struct s3_logging *s3_logging_new(struct s3_server *s);
/* Stops the worker once it has delivered what is queued. */
void s3_logging_free(struct s3_logging *l);
/* Queues the request as a log line if its bucket logs (s3_observe). */
void s3_logging_record(struct s3_req *r, const struct access_line *line);
enum s3_err s3_put_bucket_logging(struct s3_req *r);
enum s3_err s3_get_bucket_logging(struct s3_req *r);
/* Pure: a BucketLoggingStatus into target ("" when logging is off) and
 * *prefix (malloc'd); MALFORMED_XML, INVALID_TARGET_BUCKET (not a bucket
 * name), NOT_IMPLEMENTED (TargetGrants, a partitioned key format). And
 * the document back, as GetBucketLogging answers. */
enum s3_err s3_logging_parse(const char *xml, size_t len, char target[ATR_BUCKET_MAX + 1],
			     char **prefix);
int s3_logging_xml(const char *target, const char *prefix, struct buf *b);

/* ---- lifecycle (s3_lifecycle.c, s3_lifecycle_run.c) ---- */
struct s3_lc;
struct s3_lc_worker;
struct s3_lifecycle *s3_lifecycle_new(struct s3_server *s);
/* Stops the worker once its pass in progress is over. */
void s3_lifecycle_free(struct s3_lifecycle *l);
enum s3_err s3_put_bucket_lifecycle(struct s3_req *r);
enum s3_err s3_get_bucket_lifecycle(struct s3_req *r);
enum s3_err s3_delete_bucket_lifecycle(struct s3_req *r);
/* Appends "x-amz-expiration: ..." to out when an enabled Expiration
 * rule of the request's bucket matches the object key (size, mtime_ns,
 * tags: S3's encoded tag set or NULL). 0, or -1 at out's cap. */
int s3_lifecycle_header(struct s3_req *r, const char *key, uint64_t size, int64_t mtime_ns,
			const char *tags, struct buf *out);
/* The bucket's rules (out->n == 0: none), parsed; ATR_OK or the core's
 * error (ATR_E_INTERNAL for a kept document that does not parse). */
int s3_lc_load(struct s3_server *s, const char *bucket, struct s3_lc *out);
int64_t s3_lc_day(const struct s3_server *s); /* seconds in a rule's day */
struct s3_lc_worker *s3_lifecycle_worker(struct s3_server *s);
/* interval_ms 0: no thread, passes only on s3_lifecycle_run. */
struct s3_lc_worker *s3_lc_worker_start(struct s3_server *s, long interval_ms);
void s3_lc_worker_stop(struct s3_lc_worker *w);

/* ---- handlers ---- */
/* s3_bucket_defaults.c: what AWS answers for an unconfigured ?website,
 * ?requestPayment, ?accelerate, ?notification. */
enum s3_err s3_get_bucket_website(struct s3_req *r);
enum s3_err s3_get_bucket_request_payment(struct s3_req *r);
enum s3_err s3_get_bucket_accelerate(struct s3_req *r);
enum s3_err s3_get_bucket_notification(struct s3_req *r);
/* s3_cors.c: ?cors, preflights, and the CORS headers of a request with an
 * Origin whose bucket allows it (into r->cors_hdrs; nothing otherwise). */
enum s3_err s3_put_bucket_cors(struct s3_req *r);
/* ?encryption (s3_sse.c) */
enum s3_err s3_put_bucket_encryption(struct s3_req *r);
enum s3_err s3_get_bucket_encryption(struct s3_req *r);
enum s3_err s3_delete_bucket_encryption(struct s3_req *r);

/* ---- server-side encryption (s3_sse.c; struct s3_sse above) ---- */
/* A write's x-amz-server-side-encryption and SSE-C headers (AWS's
 * errors: KMS_NOT_FOUND for aws:kms, SSE_C_* for a bad customer key). */
enum s3_err s3_sse_request(struct s3_req *r, struct s3_sse *out);
/* The SSE-C headers with prefix "x-amz-" or "x-amz-copy-source-". */
enum s3_err s3_sse_customer(struct s3_req *r, const char *prefix, struct s3_sse *out);
/* A POST form's x-amz-server-side-encryption and SSE-C fields (the
 * names of the headers), checked as the headers are. */
struct s3_form;
enum s3_err s3_sse_form(struct s3_req *r, const struct s3_form *f, struct s3_sse *out);
/* Has core writer w written as k asks (nothing if k asks for nothing:
 * the bucket's default). */
enum s3_err s3_sse_apply(struct s3_req *r, void *w, const struct s3_sse *k);
/* GET and HEAD take no x-amz-server-side-encryption header. */
enum s3_err s3_sse_read_check(struct s3_req *r);
/* Reading rd with key k (from s3_sse_customer): an SSE-C object needs
 * its key (SSE_C_MISSING, AccessDenied for another), any other object
 * none (SSE_C_NOT_APPLICABLE). */
enum s3_err s3_sse_open(struct atr_reader *rd, const struct s3_sse *k);
/* The response headers of an object encrypted with mode (k: the
 * request's key, for SSE-C's key MD5); 0 or -1. */
int s3_sse_headers(struct buf *out, int mode, const struct s3_sse *k);
void s3_sse_release(struct s3_sse *k);
/* Multipart uploads are not encrypted yet: any SSE header of
 * CreateMultipartUpload, UploadPart(Copy) or the completion is refused
 * (SSE_NOT_IMPLEMENTED, or the header's own error), never ignored. */
/* UploadPart's, UploadPartCopy's and CompleteMultipartUpload's SSE
 * headers: SSE-S3's refused, SSE-C's key into k (wipe with s3_sse_release). */
enum s3_err s3_mpu_sse_check(struct s3_req *r, struct s3_sse *k);
/* A part's writer is open (wr->sse_mode the upload's): its SSE-C key
 * missing, or one for an upload without SSE-C. */
enum s3_err s3_mpu_part_sse_error(const struct s3_write *wr);
enum s3_err s3_get_bucket_cors(struct s3_req *r);
enum s3_err s3_delete_bucket_cors(struct s3_req *r);
enum s3_err s3_cors_preflight(struct s3_req *r);
void s3_cors_request(struct s3_req *r);
enum s3_err s3_list_buckets(struct s3_req *r);
enum s3_err s3_create_bucket(struct s3_req *r);
enum s3_err s3_delete_bucket(struct s3_req *r);
enum s3_err s3_head_bucket(struct s3_req *r);
enum s3_err s3_get_bucket_location(struct s3_req *r);
enum s3_err s3_list_objects(struct s3_req *r);
enum s3_err s3_list_object_versions(struct s3_req *r); /* GET ?versions */
/* s3_version.c: the versionId parameter into *vid (NULL: none), or
 * INVALID_VERSION_ID; "name: vid" appended to b unless vid is "";
 * the error of a read of version vid (NULL: the latest) that failed with
 * rc, with the delete marker's headers when one answered (o: what the
 * read gave). */
enum s3_err s3_version_param(struct s3_req *r, const char **vid);
int s3_version_header(struct buf *b, const char *name, const char *vid);
enum s3_err s3_version_error(struct s3_req *r, int rc, const char *vid, const struct atr_obj *o);
/* s3_objlock.c: Object Lock (src/atrium.h). The routes of ?object-lock,
 * ?retention and ?legal-hold; whether x-amz-bypass-governance-retention
 * is true; the x-amz-object-lock-* headers of a write into *l (hold -1
 * when not given; InvalidArgument for bad ones); those of version vid
 * ("" or NULL: the current one) appended to b for GET and HEAD, when the
 * caller may read them (non-zero: out of memory). */
enum s3_err s3_get_bucket_object_lock(struct s3_req *r);
enum s3_err s3_put_bucket_object_lock(struct s3_req *r);
enum s3_err s3_get_object_retention(struct s3_req *r);
enum s3_err s3_put_object_retention(struct s3_req *r);
enum s3_err s3_get_object_legal_hold(struct s3_req *r);
enum s3_err s3_put_object_legal_hold(struct s3_req *r);
int s3_lock_bypass(struct s3_req *r);
enum s3_err s3_lock_request(struct s3_req *r, struct atr_lock *l);
struct s3_form;
enum s3_err s3_lock_form(struct s3_req *r, const struct s3_form *f, struct atr_lock *l);
int s3_lock_headers(struct s3_req *r, const char *vid, struct buf *b);
/* s3_list.c, pure: max-keys (NULL: 1000; a decimal, above 1000 is 1000;
 * -1 for anything else) and a continuation token ("atr1." + base64 of the
 * key, or a plain key) into out (NUL-terminated; -1 if it does not fit or
 * is not base64). */
int s3_list_max_keys(const char *v, int *out);
int s3_list_token_decode(const char *tok, char *out, size_t size);
/* s3_list.c, pure, for every listing (ListObjects, ListMultipartUploads):
 * a parameter the response echoes (NULL: absent, OK) must be UTF-8
 * (LIST_PARAM_NOT_UTF8) and, unless url (encoding-type=url and the element
 * is echoed URL-encoded), hold only characters XML 1.0 can carry
 * (LIST_PARAM_NOT_XML); a listed name (key, common prefix) likewise
 * (LIST_KEY_NOT_XML). So a listing is well-formed XML or refused, never a
 * document a parser rejects. */
enum s3_err s3_list_param_check(const char *v, int url);
enum s3_err s3_list_name_check(const char *name, int url);
enum s3_err s3_put_object(struct s3_req *r);
enum s3_err s3_get_object(struct s3_req *r);
enum s3_err s3_delete_object(struct s3_req *r);
/* s3_multipart.c */
enum s3_err s3_create_multipart(struct s3_req *r);
enum s3_err s3_upload_part(struct s3_req *r);
enum s3_err s3_list_parts(struct s3_req *r);
enum s3_err s3_complete_multipart(struct s3_req *r);
enum s3_err s3_abort_multipart(struct s3_req *r);
enum s3_err s3_list_multipart_uploads(struct s3_req *r);
/* An upload's checksum algorithm as the core keeps it for the S3 door
 * (atr_mpu.checksum_alg): "ALG" for S3's COMPOSITE checksum type,
 * "ALG/FULL_OBJECT" for FULL_OBJECT; CHECKSUM_NONE for "" (no algorithm).
 * *full_object (may be NULL) receives the type. */
enum checksum_alg s3_mpu_checksum(const char *stored, int *full_object);
/* s3_multipart.c, pure: partNumber, max-parts, part-number-marker,
 * max-uploads: a non-negative decimal, values above cap (however long) are
 * cap; -1 for anything else. */
int s3_parse_count(const char *v, long cap, long *out);
/* UploadPart's and UploadPartCopy's ?partNumber: 1..ATR_PART_MAX, else
 * INVALID_ARGUMENT. */
enum s3_err s3_part_number(struct s3_req *r, int *number);
/* Reads a CompleteMultipartUpload body: the parts it names, in the order
 * named, into a malloc'd *out (*n of them, 1..10000; ETags unquoted).
 * MALFORMED_XML for anything else: not XML, another root, a Part without
 * PartNumber or ETag, a PartNumber not a decimal, no parts, too many. */
enum s3_err s3_mpu_parse_complete(const char *xml, size_t len, struct atr_mpu_part **out,
				  int *n);
enum s3_err s3_delete_objects(struct s3_req *r);
/* s3_delete.c: a DeleteObjects body, <Delete><Quiet/>?<Object><Key/>
 * <VersionId/>?</Object>+</Delete>, into a malloc'd *out (*n of them,
 * 1..S3_DELETE_KEYS_MAX, each Key non-empty; version NULL when absent) and
 * *quiet (Quiet "true"/"false", any case). MALFORMED_XML otherwise (SLOW_DOWN
 * out of memory), with *out NULL and *n 0. Free with s3_delete_free. */
#define S3_DELETE_KEYS_MAX 1000 /* S3's limit */
struct s3_delete_obj {
	char *key;     /* xmlFree */
	char *version; /* xmlFree, or NULL */
};
enum s3_err s3_delete_parse(const char *body, size_t len, struct s3_delete_obj **out, int *n,
			    int *quiet);
void s3_delete_free(struct s3_delete_obj *v, int n);
/* s3_post.c: POST Object (POST /bucket, multipart/form-data). */
enum s3_err s3_post_object(struct s3_req *r);
/* Bodies AWS takes only with an integrity check (DeleteObjects,
 * PutBucketTagging): whether Content-MD5 or an x-amz-checksum-* came, and
 * then that every one sent matches the body (INVALID_DIGEST, BAD_DIGEST). */
int s3_has_integrity_header(struct s3_req *r);
/* A configuration PUT whose document the core keeps (kind, enum
 * atr_bucket_doc): the caller may (action), the body (up to body_max,
 * integrity-checked) is turned by normalise into the stored form (doc),
 * which is kept; 200. normalise's error with msg set is answered with
 * that message. */
typedef enum s3_err (*s3_doc_normalise)(const char *body, size_t len, struct buf *doc,
					char *msg, size_t msgsize);
enum s3_err s3_put_bucket_doc(struct s3_req *r, int kind, const char *action, size_t body_max,
			      s3_doc_normalise normalise);
/* Its GET: the document as kept, or none when there is none. */
enum s3_err s3_get_bucket_doc(struct s3_req *r, int kind, const char *action,
			      enum s3_err none);
/* A configuration PUT's small body (up to b's cap): an integrity
 * header required (MISSING_CONTENT_MD5), read, and verified. */
enum s3_err s3_read_checked_body(struct s3_req *r, struct buf *b);
enum s3_err s3_verify_integrity(struct s3_req *r, const struct buf *body);
enum s3_err s3_copy_object(struct s3_req *r); /* PUT with x-amz-copy-source */
/* UploadPartCopy: PUT ?partNumber&uploadId with x-amz-copy-source. */
enum s3_err s3_upload_part_copy(struct s3_req *r);
/* x-amz-copy-source: "[/]bucket/key[?versionId=ID]", percent-encoded;
 * *key is malloc'd, vid the version id ("" for none). INVALID_COPY_SOURCE,
 * INVALID_VERSION_ID. */
enum s3_err s3_copy_source_parse(const char *v, char bucket[ATR_BUCKET_MAX + 1], char **key,
				 char vid[ATR_VID_MAX + 1]);
/* x-amz-copy-source-range "bytes=first-last" (both given, decimal) against
 * a source of size bytes: COPY_RANGE_MALFORMED for another form,
 * COPY_RANGE_INVALID if first > last or last is past the end. */
enum s3_err s3_copy_range_parse(const char *v, uint64_t size, uint64_t *first, uint64_t *len);
/* s3_tagging.c. Tag sets in the form the core stores: "k=v&k2=v2", keys
 * and values URL-encoded, in the order given, checked against AWS's limits
 * (TAGS_TOO_MANY, TAG_KEY_INVALID, TAG_VALUE_INVALID, TAG_KEY_DUPLICATE). */
enum s3_err s3_get_object_tagging(struct s3_req *r);
enum s3_err s3_put_object_tagging(struct s3_req *r);
enum s3_err s3_delete_object_tagging(struct s3_req *r);
/* The same on a bucket (?tagging): up to 50 tags, the owner's only. */
enum s3_err s3_get_bucket_tagging(struct s3_req *r);
enum s3_err s3_put_bucket_tagging(struct s3_req *r);
enum s3_err s3_delete_bucket_tagging(struct s3_req *r);
/* x-amz-tagging (URL query form; TAG_HEADER_INVALID if malformed). */
enum s3_err s3_tagging_from_header(const char *v, struct buf *out);
/* A <Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging> body
 * (MALFORMED_XML otherwise; no tags at all is an empty set). */
enum s3_err s3_tagging_from_xml(const char *xml, size_t len, struct buf *out);
/* The same with a bucket's limit: up to 50 tags (BUCKET_TAGS_TOO_MANY). */
enum s3_err s3_bucket_tagging_from_xml(const char *xml, size_t len, struct buf *out);
/* AWS's tag limits, as s3_tagging.c checks them (in Unicode characters). */
#define S3_TAGS_MAX 10
#define S3_BUCKET_TAGS_MAX 50
#define S3_TAG_KEY_MAX 128
#define S3_TAG_VALUE_MAX 256
/* The cap of a buffer for the stored form of up to max_tags tags: every
 * character of a key or value up to 4 UTF-8 bytes, each byte "%XX", and
 * '=' and '&' (a smaller cap made valid sets fail with InternalError). */
#define S3_TAGS_BUF(max_tags) \
	((size_t)(max_tags) * (12 * (S3_TAG_KEY_MAX + S3_TAG_VALUE_MAX) + 2) + 1)
/* How many tags a stored set holds. */
int s3_tagging_count(const char *tags);
/* s3_attributes.c: GetObjectAttributes (GET ?attributes). */
enum s3_err s3_get_object_attributes(struct s3_req *r);
/* x-amz-object-attributes: a bit set of the names given (ETag 1, Checksum
 * 2, ObjectParts 4, StorageClass 8, ObjectSize 16), 0 if the header is
 * NULL, empty or names anything else. */
int s3_object_attributes_parse(const char *v);
/* x-amz-storage-class: STANDARD or absent, else InvalidStorageClass. */
enum s3_err s3_storage_class_check(struct s3_req *r);
/* x-atrium-write-type into *out (enum atr_write_type; absent: 0, the
 * bucket's mount option, else the daemon's default): PUT, POST,
 * CopyObject. A name not Alluxio's is InvalidArgument. */
enum s3_err s3_write_type(struct s3_req *r, int *out);
/* The headers an object keeps (Content-Type and the other standard ones,
 * x-amz-meta-*) as "Name: value\r\n" lines: PUT, CreateMultipartUpload. */
enum s3_err s3_stored_headers(struct s3_req *r, struct buf *out);
/* If-None-Match: * and If-Match on a write (PutObject, CopyObject's
 * destination): *must_not_exist, and etag (unquoted; "" if none). S3 takes
 * only '*' in If-None-Match (NOT_IMPLEMENTED otherwise) and one ETag in
 * If-Match (one no object can have is PRECONDITION_FAILED). */
enum s3_err s3_write_conditions(struct s3_req *r, int *must_not_exist,
				char etag[ATR_ETAG_MAX + 1]);
/* s3_acl.c: ACLs. The ACL a write request carries in x-amz-acl or the
 * x-amz-grant-* headers, malloc'd into *acl (NULL if none; free() it):
 * CANNED_AND_GRANTS for both, INVALID_ARGUMENT for an unknown canned ACL
 * or a malformed grant, UNRESOLVABLE_GRANT for an e-mail grantee,
 * INVALID_GRANTEE for a user we do not know. */
enum s3_err s3_request_acl(struct s3_req *r, struct atr_acl **acl);
/* Pure, for tests and fuzzing: one x-amz-grant-* header's grantees
 * (id="...", uri="...", emailAddress="...") with perm, appended to acl;
 * an AccessControlPolicy document into acl (MALFORMED_ACL). */
enum s3_err s3_acl_grant_header(const char *v, unsigned perm, struct atr_acl *acl);
enum s3_err s3_acl_from_xml(const char *xml, size_t len, struct atr_acl *acl);
/* Appends acl as an AccessControlPolicy document; 0 or -1. */
int s3_acl_xml(struct s3_req *r, const struct atr_acl *acl, struct buf *b);
enum s3_err s3_get_bucket_acl(struct s3_req *r);
enum s3_err s3_put_bucket_acl(struct s3_req *r);
enum s3_err s3_get_object_acl(struct s3_req *r);
enum s3_err s3_put_object_acl(struct s3_req *r);
/* s3_bucket_conf.c: Block Public Access, Object Ownership, the policy. */
enum s3_err s3_get_public_access_block(struct s3_req *r);
enum s3_err s3_put_public_access_block(struct s3_req *r);
enum s3_err s3_delete_public_access_block(struct s3_req *r);
enum s3_err s3_get_ownership_controls(struct s3_req *r);
enum s3_err s3_put_ownership_controls(struct s3_req *r);
enum s3_err s3_delete_ownership_controls(struct s3_req *r);
enum s3_err s3_get_bucket_policy(struct s3_req *r);
enum s3_err s3_put_bucket_policy(struct s3_req *r);
enum s3_err s3_delete_bucket_policy(struct s3_req *r);
enum s3_err s3_get_bucket_policy_status(struct s3_req *r);
/* Pure: "ObjectWriter", "BucketOwnerPreferred", "BucketOwnerEnforced" as
 * enum atr_ownership, -1 for anything else; the two bodies (MALFORMED_XML). */
int s3_ownership_parse(const char *v);
enum s3_err s3_parse_public_access_block(const char *xml, size_t len, int *bits);
enum s3_err s3_parse_ownership_controls(const char *xml, size_t len, int *own);
/* ?versioning (s3_bucket_conf.c); the body's Status as enum
 * atr_versioning (MALFORMED_XML; MFA_DELETE_UNSUPPORTED for MfaDelete
 * Enabled). */
enum s3_err s3_get_bucket_versioning(struct s3_req *r);
enum s3_err s3_put_bucket_versioning(struct s3_req *r);
enum s3_err s3_parse_versioning(const char *xml, size_t len, int *state);
/* Content-MD5, if sent: *have = 1 and md5 filled; INVALID_DIGEST if bad. */
enum s3_err s3_content_md5(struct s3_req *r, unsigned char md5[16], int *have);

#endif
