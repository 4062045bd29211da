/*
 * atrium-bench — a minimal HTTP/1.1 load generator for `make bench`.
 *
 * Job: drive PUT or GET of fixed-size objects at a loopback HTTP server with N
 * concurrent keep-alive connections and report throughput and latency, in one
 * machine-readable line, so tools/bench.sh can put Atrium and nginx side by
 * side (docs/performance.md, DESIGN.md "Performance budget").
 *
 * It has to cost less per request than the servers it measures, so it is
 * deliberately small: one thread and one blocking TCP connection per unit of
 * concurrency (TCP_NODELAY, no pipelining), a request header built with one
 * snprintf, header and body handed to the kernel with one sendmsg, a hand-rolled
 * response parser, and response bodies discarded in the kernel with
 * recv(MSG_TRUNC) (tcp(7): the bytes are dropped, never copied to us).
 *
 * Rules it keeps:
 *  - Loopback only: the target address must be 127.0.0.0/8 or ::1.
 *  - Bounded: every run stops after --seconds (default 5) or --requests,
 *    whichever comes first, and every socket has a send/receive timeout.
 *  - Never sends `Expect: 100-continue`, but skips any 1xx interim response a
 *    server volunteers before the final one.
 *  - A reused keep-alive connection the server closed while idle is reopened
 *    and the request retried once; any other failure is an error.
 *  - A GET whose 2xx body is not exactly --size bytes is an error (the object
 *    is missing or wrong, so the figure would be meaningless).
 *  - Any error or non-2xx response is reported loudly on stderr and makes the
 *    exit status 1, so a broken server can never produce a "result".
 *
 * Mixed mode (--op MIX, for `make load`, tools/load.py): each request is a
 * PUT, GET or LIST (ListObjectsV2 of --prefix, max-keys 100) drawn with the
 * --mix weights, on a random key. Key i has one fixed size, so a GET knows
 * what it must get whatever PUT raced it: the first --large-keys keys are
 * large (a size in --large-min..--large-max fixed per key), the rest are
 * --size bytes. Before the clock starts every key is PUT once (the workers
 * share that work), so no GET can find a key missing.
 *
 * Threads: workers share only the read-only options and body, four atomics
 * (phase, key counter, request budget, populate counter) and nothing else;
 * each owns its socket, buffers, random state and latency array until main
 * joins it and merges the arrays.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "common/buf.h"
#include "common/sigv4.h"
#include "common/banned.h"

#define BENCH_MAX_EXTRA      8            /* --header may be given this often */
#define BENCH_MAX_CONC       1024
#define BENCH_MAX_SIZE       (1ULL << 30) /* object size cap: 1 GiB */
#define BENCH_RBUF           (64 * 1024)  /* response header/chunk buffer */
#define BENCH_REQ_MAX        4096         /* request header buffer */
#define BENCH_DISCARD_MAX    (1 << 20)    /* bytes dropped per recv(MSG_TRUNC) */
#define BENCH_SAMPLES_MAX    (1ULL << 22) /* latency samples kept per thread */
#define BENCH_SAFETY_SECONDS 600.0        /* time bound when only -n is given */

enum bench_phase { PHASE_WARMUP, PHASE_MEASURE, PHASE_STOP };

/* What one request does. */
enum bench_op { OP_GET, OP_PUT, OP_LIST };

/* Outcome of one exchange. STALE: the connection died before the first byte
 * of a response arrived, which on a reused keep-alive connection just means
 * the server closed it while idle; the request is retried once on a new one. */
enum bench_rc { BR_OK, BR_STALE, BR_ERR };

struct bench_opts {
	const char *host;
	const char *port;
	int put;                 /* 1 = PUT, 0 = GET (ignored when mix) */
	int mix;                 /* --op MIX: weights below, sizes per key */
	unsigned w_put, w_get, w_list; /* --mix PUT:GET:LIST weights */
	unsigned long long large_keys, large_min, large_max;
	unsigned long long size; /* body bytes (PUT) / expected bytes (GET) */
	unsigned long long keys; /* objects are prefix + "obj-<0..keys-1>" */
	int conc;
	double seconds;          /* 0 = not given */
	double warmup;           /* unrecorded seconds before measuring */
	unsigned long long requests; /* 0 = not given */
	double timeout;          /* per socket operation */
	const char *prefix;
	const char *extra[BENCH_MAX_EXTRA];
	int n_extra;
	const char *tag;
	char access_key[128];    /* --sigv4-file: every request signed (SigV4 header */
	char secret[128];        /* form, UNSIGNED-PAYLOAD, as awscli and boto3 send) */
};

struct bench_shared {
	const struct bench_opts *o;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	const char *body;        /* o->size bytes, read-only */
	char hostport[300];      /* Host header value */
	atomic_int phase;
	atomic_ullong next_key;  /* key index of the next request */
	atomic_ullong budget;    /* measured requests handed out (for -n) */
	atomic_ullong populate;  /* mix: next key to PUT before the clock */
	unsigned long long body_len; /* bytes at body (the largest PUT) */
	pthread_barrier_t start;
};

struct bench_worker {
	struct bench_shared *sh;
	pthread_t tid;
	int fd;
	int used;                /* fd has carried at least one exchange */
	char *rbuf;              /* BENCH_RBUF bytes */
	char *sink;              /* BENCH_DISCARD_MAX bytes, never written (MSG_TRUNC) */
	size_t rlen;             /* valid bytes in rbuf */
	char req[BENCH_REQ_MAX];
	uint64_t *lat;           /* latency in ns of each measured request */
	size_t nlat, cap;
	/* measured-phase counters */
	uint64_t ok, non2xx, errors, dropped, reconnects;
	uint64_t n_op[3];        /* measured requests by enum bench_op */
	uint64_t bytes_up, bytes_down; /* measured body bytes sent / received */
	uint64_t rng;            /* xorshift64 state (mix) */
	uint64_t t_last_end;     /* CLOCK_MONOTONIC ns of last measured completion */
	int first_status;        /* first non-2xx status seen */
	char err[160];           /* why the latest failure happened */
	char first_err[160];     /* err of the first request counted as an error */
	struct buf auth;         /* --sigv4-file: the Authorization value */
};

/* The parsed framing of one final response. */
struct bench_resp {
	int status;
	int close;               /* server will close: Connection: close / HTTP/1.0 */
	int chunked;
	int has_len;
	unsigned long long len;
	unsigned long long body; /* body bytes actually received */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Note why this exchange failed; record() keeps the first one that is
 * counted, so a failure that a retry repaired is never reported. */
static void worker_fail(struct bench_worker *w, const char *what, int err)
{
	if (err == EAGAIN || err == EWOULDBLOCK)  /* SO_RCVTIMEO / SO_SNDTIMEO */
		snprintf(w->err, sizeof(w->err), "%s: timed out after %g s", what,
		         w->sh->o->timeout);
	else if (err)
		snprintf(w->err, sizeof(w->err), "%s: %s", what, strerror(err));
	else
		snprintf(w->err, sizeof(w->err), "%s", what);
}

/* ---------------------------------------------------------------- socket */

static void conn_close(struct bench_worker *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	w->used = 0;
	w->rlen = 0;
}

static int conn_open(struct bench_worker *w)
{
	const struct bench_shared *sh = w->sh;
	struct timeval tv;
	int one = 1;

	w->fd = socket(sh->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (w->fd < 0) {
		worker_fail(w, "socket", errno);
		return -1;
	}
	tv.tv_sec = (time_t)sh->o->timeout;
	tv.tv_usec = (suseconds_t)((sh->o->timeout - (double)tv.tv_sec) * 1e6);
	if (setsockopt(w->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
	    setsockopt(w->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(w->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(w->fd, (const struct sockaddr *)&sh->addr, sh->addrlen) < 0) {
		worker_fail(w, "connect", errno);
		conn_close(w);
		return -1;
	}
	w->used = 0;
	w->rlen = 0;
	return 0;
}

/* Send the header and (for PUT) the body with as few syscalls as the kernel
 * allows: one sendmsg, repeated only for what it did not take. */
static int send_request(struct bench_worker *w, size_t hlen, size_t blen)
{
	struct iovec iov[2] = {
		{ .iov_base = w->req, .iov_len = hlen },
		{ .iov_base = (void *)w->sh->body, .iov_len = blen },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = blen ? 2 : 1 };

	while (msg.msg_iovlen) {
		ssize_t n = sendmsg(w->fd, &msg, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (msg.msg_iovlen && (size_t)n >= msg.msg_iov->iov_len) {
			n -= (ssize_t)msg.msg_iov->iov_len;
			msg.msg_iov++;
			msg.msg_iovlen--;
		}
		if (msg.msg_iovlen) {
			msg.msg_iov->iov_base = (char *)msg.msg_iov->iov_base + n;
			msg.msg_iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* Append what the socket has to rbuf. Returns bytes read, 0 on EOF, -1 on
 * error (errno set; EAGAIN means the receive timeout expired). */
static ssize_t fill(struct bench_worker *w)
{
	ssize_t n;

	if (w->rlen == BENCH_RBUF) {
		errno = EMSGSIZE;
		return -1;
	}
	do
		n = recv(w->fd, w->rbuf + w->rlen, BENCH_RBUF - w->rlen, 0);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		w->rlen += (size_t)n;
	return n;
}

static void consume(struct bench_worker *w, size_t n)
{
	memmove(w->rbuf, w->rbuf + n, w->rlen - n);
	w->rlen -= n;
}

/* ---------------------------------------------------------------- parser */

static const char *find_crlf(const char *p, const char *end)
{
	for (; p + 1 < end; p++) {
		p = memchr(p, '\r', (size_t)(end - p - 1));
		if (!p)
			return NULL;
		if (p[1] == '\n')
			return p;
	}
	return NULL;
}

static int header_is(const char *line, size_t len, const char *name, const char **val,
                     size_t *vlen)
{
	size_t nl = strlen(name);

	if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return 0;
	line += nl + 1;
	len -= nl + 1;
	while (len && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	*val = line;
	*vlen = len;
	return 1;
}

static int token_has(const char *v, size_t len, const char *tok)
{
	size_t tl = strlen(tok);

	for (size_t i = 0; i + tl <= len; i++)
		if (strncasecmp(v + i, tok, tl) == 0)
			return 1;
	return 0;
}

/* Parse the status line and the headers in rbuf[0..hend). */
static int parse_head(const char *buf, size_t hend, struct bench_resp *r)
{
	const char *p = buf, *end = buf + hend, *eol = find_crlf(p, end + 2);
	int minor;

	memset(r, 0, sizeof(*r));
	if (!eol || eol - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' ||
	    p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' ||
	    p[11] < '0' || p[11] > '9')
		return -1;
	minor = p[7] - '0';
	r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	r->close = minor == 0;
	for (p = eol + 2; p < end; p = eol + 2) {
		const char *v;
		size_t vlen;

		eol = find_crlf(p, end + 2);
		if (!eol)
			return -1;
		if (header_is(p, (size_t)(eol - p), "content-length", &v, &vlen)) {
			char num[24], *e;

			if (vlen == 0 || vlen >= sizeof(num) || r->has_len)
				return -1;
			memcpy(num, v, vlen);
			num[vlen] = '\0';
			errno = 0;
			r->len = strtoull(num, &e, 10);
			if (errno || *e || num[0] == '-' || num[0] == '+')
				return -1;
			r->has_len = 1;
		} else if (header_is(p, (size_t)(eol - p), "transfer-encoding", &v, &vlen)) {
			r->chunked = token_has(v, vlen, "chunked");
		} else if (header_is(p, (size_t)(eol - p), "connection", &v, &vlen)) {
			if (token_has(v, vlen, "close"))
				r->close = 1;
			else if (token_has(v, vlen, "keep-alive"))
				r->close = 0;
		}
	}
	return 0;
}

/* Drop n body bytes: first what is buffered, then in the kernel. */
static int skip_bytes(struct bench_worker *w, unsigned long long n)
{
	size_t take = w->rlen < n ? w->rlen : (size_t)n;

	consume(w, take);
	n -= take;
	while (n) {
		size_t want = n < BENCH_DISCARD_MAX ? (size_t)n : BENCH_DISCARD_MAX;
		/* MSG_TRUNC on TCP discards without copying. sink is never
		 * written, but is as large as want: sanitizers' recv
		 * interceptors assume the return value's worth was. */
		ssize_t got = recv(w->fd, w->sink, want, MSG_TRUNC);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			worker_fail(w, got ? "recv body" : "connection closed mid-body", got ? errno : 0);
			return -1;
		}
		n -= (unsigned long long)got;
	}
	return 0;
}

/* Make sure rbuf holds a full CRLF-terminated line; return its length. */
static ssize_t need_line(struct bench_worker *w)
{
	for (;;) {
		const char *eol = find_crlf(w->rbuf, w->rbuf + w->rlen);
		ssize_t n;

		if (eol)
			return eol - w->rbuf;
		n = fill(w);
		if (n <= 0) {
			worker_fail(w, n ? "recv chunk line" : "connection closed in chunked body",
			            n ? errno : 0);
			return -1;
		}
	}
}

static int skip_chunked(struct bench_worker *w, struct bench_resp *r)
{
	for (;;) {
		ssize_t ll = need_line(w);
		unsigned long long sz;
		char *e;

		if (ll < 0)
			return -1;
		errno = 0;
		sz = strtoull(w->rbuf, &e, 16);
		if (errno || e == w->rbuf || (*e != '\r' && *e != ';' && *e != ' ')) {
			worker_fail(w, "bad chunk size line", 0);
			return -1;
		}
		consume(w, (size_t)ll + 2);
		if (sz == 0)
			break;
		r->body += sz;
		if (skip_bytes(w, sz) < 0)
			return -1;
		if ((ll = need_line(w)) != 0) {
			if (ll > 0)
				worker_fail(w, "chunk not followed by CRLF", 0);
			return -1;
		}
		consume(w, 2);
	}
	for (;;) {  /* trailer section, ended by an empty line */
		ssize_t ll = need_line(w);

		if (ll < 0)
			return -1;
		consume(w, (size_t)ll + 2);
		if (ll == 0)
			return 0;
	}
}

static int skip_to_eof(struct bench_worker *w, struct bench_resp *r)
{
	r->body += w->rlen;
	w->rlen = 0;
	for (;;) {
		ssize_t got = recv(w->fd, w->sink, BENCH_DISCARD_MAX, MSG_TRUNC);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			worker_fail(w, "recv body", errno);
			return -1;
		}
		if (got == 0)
			return 0;
		r->body += (unsigned long long)got;
	}
}

/* Read one final response (skipping 1xx interim ones) and its body. */
static enum bench_rc read_response(struct bench_worker *w, struct bench_resp *r)
{
	int any = 0;  /* a byte of a response has arrived */

	for (;;) {
		const char *hend = NULL;

		while (w->rlen < 4 || !(hend = memmem(w->rbuf, w->rlen, "\r\n\r\n", 4))) {
			ssize_t n = fill(w);

			if (n > 0) {
				any = 1;
				continue;
			}
			if (!any && (n == 0 || errno == ECONNRESET))
				return BR_STALE;
			worker_fail(w, n ? "recv header" : "connection closed in header",
			            n ? errno : 0);
			return BR_ERR;
		}
		if (parse_head(w->rbuf, (size_t)(hend - w->rbuf), r) < 0) {
			worker_fail(w, "malformed response header", 0);
			return BR_ERR;
		}
		consume(w, (size_t)(hend - w->rbuf) + 4);
		/* Interim 1xx (e.g. an unsolicited 100 Continue): no body, the
		 * final response follows on the same connection. */
		if (r->status >= 100 && r->status < 200)
			continue;
		break;
	}
	if (r->status == 204 || r->status == 304)
		return BR_OK;
	if (r->chunked)
		return skip_chunked(w, r) < 0 ? BR_ERR : BR_OK;
	if (r->has_len) {
		r->body = r->len;
		return skip_bytes(w, r->len) < 0 ? BR_ERR : BR_OK;
	}
	r->close = 1;
	return skip_to_eof(w, r) < 0 ? BR_ERR : BR_OK;
}

/* ---------------------------------------------------------------- worker */

/* The one size key has (see "Mixed mode" above). */
static unsigned long long key_size(const struct bench_opts *o, unsigned long long key)
{
	if (!o->mix || key >= o->large_keys)
		return o->size;
	return o->large_min + (key * 2654435761ULL) % (o->large_max - o->large_min + 1);
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The SigV4 headers of one request, as a client signs it each time (the
 * signing key derived anew, as the SDKs' signers do per request), at dst.
 * Their length; main checked that they fit. */
static size_t sign_request(struct bench_worker *w, enum bench_op op, unsigned long long key,
			   char *dst, size_t cap)
{
	const struct bench_opts *o = w->sh->o;
	char path[BENCH_REQ_MAX], query[128], amz_date[SIGV4_DATE_LEN];
	struct sigv4_req r = {
		.method = op == OP_PUT ? "PUT" : "GET", .path = path, .query = NULL,
		.host = w->sh->hostport, .payload_sha256 = "UNSIGNED-PAYLOAD",
		.now = time(NULL), .region = "us-east-1", .service = "s3",
		.access_key = o->access_key, .secret = o->secret,
	};
	if (op == OP_LIST) {
		snprintf(path, sizeof(path), "%s", o->prefix);
		snprintf(query, sizeof(query), "list-type=2&max-keys=100&prefix=obj-%llu", key % 10);
		r.query = query;
	} else {
		snprintf(path, sizeof(path), "%sobj-%llu", o->prefix, key);
	}
	buf_reset(&w->auth);
	if (sigv4_sign(&r, amz_date, &w->auth))
		return 0; /* unsigned: the server's 403 counts it as an error */
	int n = snprintf(dst, cap, "x-amz-date: %s\r\nx-amz-content-sha256: UNSIGNED-PAYLOAD\r\n"
			 "Authorization: %.*s\r\n", amz_date, (int)w->auth.len, w->auth.ptr);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static size_t build_request(struct bench_worker *w, enum bench_op op, unsigned long long key)
{
	const struct bench_opts *o = w->sh->o;
	size_t len;
	int n;

	if (op == OP_LIST)
		n = snprintf(w->req, sizeof(w->req),
		             "GET %s?list-type=2&max-keys=100&prefix=obj-%llu HTTP/1.1\r\nHost: %s\r\n",
		             o->prefix, key % 10, w->sh->hostport);
	else
		n = snprintf(w->req, sizeof(w->req), "%s %sobj-%llu HTTP/1.1\r\nHost: %s\r\n",
		             op == OP_PUT ? "PUT" : "GET", o->prefix, key, w->sh->hostport);
	len = (size_t)n;
	if (op == OP_PUT) {
		n = snprintf(w->req + len, sizeof(w->req) - len, "Content-Length: %llu\r\n",
		             key_size(o, key));
		len += (size_t)n;
	}
	if (o->access_key[0])
		len += sign_request(w, op, key, w->req + len, sizeof(w->req) - len);
	for (int i = 0; i < o->n_extra; i++) {
		n = snprintf(w->req + len, sizeof(w->req) - len, "%s\r\n", o->extra[i]);
		len += (size_t)n;
	}
	n = snprintf(w->req + len, sizeof(w->req) - len, "\r\n");
	return len + (size_t)n;  /* main checked that the longest one fits */
}

/* One request/response exchange, reconnecting as needed. Returns the HTTP
 * status, or -1 on error. */
static int exchange(struct bench_worker *w, enum bench_op op, unsigned long long key,
                    int measured)
{
	const struct bench_opts *o = w->sh->o;
	size_t hlen = build_request(w, op, key);
	unsigned long long size = key_size(o, key);
	struct bench_resp r;

	for (int attempt = 0; attempt < 2; attempt++) {
		enum bench_rc rc;
		int reused;

		if (w->fd < 0) {
			if (conn_open(w) < 0)
				return -1;
			if (measured)
				w->reconnects++;  /* the first connect happens before the clock */
		}
		reused = w->used;
		w->used = 1;
		if (send_request(w, hlen, op == OP_PUT ? (size_t)size : 0) < 0) {
			int err = errno;

			/* The server may have answered early (e.g. 413) and closed:
			 * that answer is the result. Else an idle close is stale. */
			rc = read_response(w, &r);
			if (rc == BR_OK) {
				conn_close(w);
				return r.status;
			}
			conn_close(w);
			if (reused && (err == EPIPE || err == ECONNRESET))
				continue;
			worker_fail(w, "send", err);
			return -1;
		}
		rc = read_response(w, &r);
		if (rc == BR_STALE) {
			conn_close(w);
			if (reused)
				continue;
			worker_fail(w, "connection closed before a response", 0);
			return -1;
		}
		if (rc == BR_ERR) {
			conn_close(w);
			return -1;
		}
		if (r.close)
			conn_close(w);
		else if (w->rlen) {
			worker_fail(w, "bytes after the response body", 0);
			conn_close(w);
			return -1;
		}
		if (op == OP_GET && r.status / 100 == 2 && r.body != size) {
			char msg[96];

			snprintf(msg, sizeof(msg), "GET obj-%llu body is %llu bytes, expected %llu",
			         key, r.body, size);
			worker_fail(w, msg, 0);
			return -1;
		}
		if (measured) {
			w->bytes_up += op == OP_PUT ? size : 0;
			w->bytes_down += r.body;
		}
		return r.status;
	}
	worker_fail(w, "connection closed twice before a response", 0);
	return -1;
}

static void record(struct bench_worker *w, int status, uint64_t t0, uint64_t t1)
{
	if (status < 0) {
		w->errors++;
		if (!w->first_err[0])
			memcpy(w->first_err, w->err, sizeof(w->first_err));
	} else if (status / 100 != 2) {
		w->non2xx++;
		if (!w->first_status)
			w->first_status = status;
	} else {
		w->ok++;
	}
	if (w->nlat < w->cap)
		w->lat[w->nlat++] = t1 - t0;
	else
		w->dropped++;
	w->t_last_end = t1;
}

static void *worker_main(void *arg)
{
	struct bench_worker *w = arg;
	struct bench_shared *sh = w->sh;
	const struct bench_opts *o = sh->o;

	(void)conn_open(w);  /* connect before the clock starts; retried below */
	/* Mixed mode: every key exists before any GET (see the top). */
	while (o->mix) {
		unsigned long long key = atomic_fetch_add(&sh->populate, 1);
		int status;

		if (key >= o->keys)
			break;
		status = exchange(w, OP_PUT, key, 0);
		if (status < 0 || status / 100 != 2) {
			uint64_t t = now_ns();

			record(w, status, t, t);
			break;
		}
	}
	pthread_barrier_wait(&sh->start);
	for (;;) {
		int phase = atomic_load_explicit(&sh->phase, memory_order_acquire);
		int measured = phase == PHASE_MEASURE;
		unsigned long long key;
		uint64_t t0;
		int status;

		if (phase == PHASE_STOP)
			break;
		if (measured && o->requests &&
		    atomic_fetch_add_explicit(&sh->budget, 1, memory_order_relaxed) >= o->requests)
			break;
		enum bench_op op = o->put ? OP_PUT : OP_GET;
		if (o->mix) {
			uint64_t x = rng_next(&w->rng) % (o->w_put + o->w_get + o->w_list);

			op = x < o->w_put ? OP_PUT : x < o->w_put + o->w_get ? OP_GET : OP_LIST;
			key = rng_next(&w->rng) % o->keys;
		} else {
			key = atomic_fetch_add_explicit(&sh->next_key, 1, memory_order_relaxed);
			key %= o->keys;
		}
		t0 = now_ns();
		status = exchange(w, op, key, measured);
		if (measured) {
			w->n_op[op]++;
			record(w, status, t0, now_ns());
		} else if (status < 0 || status / 100 != 2) {
			record(w, status, t0, now_ns());  /* failed in warm-up: report it */
			break;
		}
		if (status < 0 && w->errors > 100 && w->ok == 0)
			break;  /* nothing works: do not spin for the whole run */
	}
	conn_close(w);
	return NULL;
}

/* ---------------------------------------------------------------- options */

static int parse_size(const char *s, unsigned long long *out)
{
	char *e;
	unsigned long long v, mul = 1;

	errno = 0;
	v = strtoull(s, &e, 10);
	if (errno || e == s || s[0] == '-')
		return -1;
	if (*e == 'k' || *e == 'K')
		mul = 1024, e++;
	else if (*e == 'm' || *e == 'M')
		mul = 1024 * 1024, e++;
	else if (*e == 'g' || *e == 'G')
		mul = 1024 * 1024 * 1024, e++;
	if (mul != 1 && (strcmp(e, "iB") == 0 || strcmp(e, "ib") == 0 || strcmp(e, "B") == 0))
		e += strlen(e);
	if (*e || (v && mul > ULLONG_MAX / v))
		return -1;
	*out = v * mul;
	return 0;
}

static int parse_double(const char *s, double *out)
{
	char *e;

	errno = 0;
	*out = strtod(s, &e);
	return (errno || e == s || *e || *out < 0 || *out > 86400.0) ? -1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f,
	    "usage: atrium-bench [options]\n"
	    "  -H, --host ADDR        loopback address (default 127.0.0.1)\n"
	    "  -p, --port PORT        server port (required)\n"
	    "  -o, --op PUT|GET|MIX   operation (default GET); MIX: PUT, GET and LIST\n"
	    "      --mix P:G:L        MIX weights of PUT, GET, LIST (default 40:50:10)\n"
	    "      --large-keys N     MIX: keys obj-0..N-1 are large (default 0)\n"
	    "      --large-min BYTES  MIX: smallest large object (default 1M)\n"
	    "      --large-max BYTES  MIX: largest large object (default 8M)\n"
	    "  -s, --size BYTES       object size, k/M/G suffixes (default 4k)\n"
	    "  -k, --keys N           distinct keys obj-0..obj-N-1 (default 100)\n"
	    "  -c, --concurrency N    connections/threads (default 1)\n"
	    "  -d, --seconds S        measured duration (default 5 unless -n)\n"
	    "  -n, --requests N       stop after N measured requests\n"
	    "  -w, --warmup S         unmeasured seconds first (default 0)\n"
	    "  -P, --prefix PATH      URL path before obj-<i> (default /benchbucket/)\n"
	    "  -x, --header 'K: V'    extra request header (repeatable)\n"
	    "  -t, --tag NAME         label printed as target=NAME\n"
	    "  -T, --timeout S        per socket operation timeout (default 10)\n"
	    "      --sigv4-file FILE  sign every request (SigV4, UNSIGNED-PAYLOAD) with the\n"
	    "                         'ACCESS_KEY SECRET_KEY' on FILE's first line\n"
	    "      --free-port        print a free loopback TCP port and exit\n"
	    "Prints one line: target= op= size= keys= conc= secs= reqs= ops=(per s)\n"
	    "mibs= p50_us= p99_us= max_us= non2xx= errors= reconnects= (MIX adds puts=\n"
	    "gets= lists= up_mib= down_mib=); exit 1 on any error or non-2xx response.\n");
}

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		perror("atrium-bench: free port");
		return 1;
	}
	printf("%u\n", ntohs(a.sin_port));
	close(fd);
	return 0;
}

static int bad_opt(const char *opt, const char *val)
{
	fprintf(stderr, "atrium-bench: bad value for %s: '%s'\n", opt, val);
	return -1;
}

/* --sigv4-file: "ACCESS_KEY SECRET_KEY" on the first line (a file, not the
 * command line, where ps would show the secret). */
static int read_keys(const char *path, struct bench_opts *o)
{
	char line[300];
	FILE *f = fopen(path, "r");
	int ok = f && fgets(line, sizeof(line), f) &&
		 sscanf(line, "%127s %127s", o->access_key, o->secret) == 2;
	if (f)
		fclose(f);
	if (!ok) {
		fprintf(stderr, "atrium-bench: %s: expected 'ACCESS_KEY SECRET_KEY' on its first line\n",
			path);
		return -1;
	}
	return 0;
}

static int parse_opts(int argc, char **argv, struct bench_opts *o)
{
	static const struct option lo[] = {
		{ "host", 1, NULL, 'H' }, { "port", 1, NULL, 'p' },
		{ "op", 1, NULL, 'o' }, { "size", 1, NULL, 's' },
		{ "keys", 1, NULL, 'k' }, { "concurrency", 1, NULL, 'c' },
		{ "seconds", 1, NULL, 'd' }, { "requests", 1, NULL, 'n' },
		{ "warmup", 1, NULL, 'w' }, { "prefix", 1, NULL, 'P' },
		{ "header", 1, NULL, 'x' }, { "tag", 1, NULL, 't' },
		{ "timeout", 1, NULL, 'T' }, { "free-port", 0, NULL, 'F' },
		{ "mix", 1, NULL, 'M' }, { "large-keys", 1, NULL, 'L' },
		{ "large-min", 1, NULL, 'a' }, { "large-max", 1, NULL, 'b' },
		{ "sigv4-file", 1, NULL, 'S' },
		{ "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	unsigned long long v;
	int c;

	while ((c = getopt_long(argc, argv, "H:p:o:s:k:c:d:n:w:P:x:t:T:h", lo, NULL)) != -1) {
		switch (c) {
		case 'H': o->host = optarg; break;
		case 'p': o->port = optarg; break;
		case 'o':
			if (strcasecmp(optarg, "PUT") && strcasecmp(optarg, "GET") &&
			    strcasecmp(optarg, "MIX"))
				return bad_opt("--op", optarg);
			o->put = strcasecmp(optarg, "PUT") == 0;
			o->mix = strcasecmp(optarg, "MIX") == 0;
			break;
		case 'M':
			if (sscanf(optarg, "%u:%u:%u", &o->w_put, &o->w_get, &o->w_list) != 3 ||
			    o->w_put > 1000 || o->w_get > 1000 || o->w_list > 1000 ||
			    !(o->w_put + o->w_get + o->w_list))
				return bad_opt("--mix", optarg);
			break;
		case 'L':
			if (parse_size(optarg, &o->large_keys) < 0)
				return bad_opt("--large-keys", optarg);
			break;
		case 'a':
			if (parse_size(optarg, &o->large_min) < 0 || o->large_min > BENCH_MAX_SIZE)
				return bad_opt("--large-min", optarg);
			break;
		case 'b':
			if (parse_size(optarg, &o->large_max) < 0 || o->large_max > BENCH_MAX_SIZE)
				return bad_opt("--large-max", optarg);
			break;
		case 's':
			if (parse_size(optarg, &o->size) < 0 || o->size > BENCH_MAX_SIZE)
				return bad_opt("--size", optarg);
			break;
		case 'k':
			if (parse_size(optarg, &o->keys) < 0 || o->keys == 0)
				return bad_opt("--keys", optarg);
			break;
		case 'c':
			if (parse_size(optarg, &v) < 0 || v == 0 || v > BENCH_MAX_CONC)
				return bad_opt("--concurrency", optarg);
			o->conc = (int)v;
			break;
		case 'd':
			if (parse_double(optarg, &o->seconds) < 0)
				return bad_opt("--seconds", optarg);
			break;
		case 'n':
			if (parse_size(optarg, &o->requests) < 0)
				return bad_opt("--requests", optarg);
			break;
		case 'w':
			if (parse_double(optarg, &o->warmup) < 0)
				return bad_opt("--warmup", optarg);
			break;
		case 'T':
			if (parse_double(optarg, &o->timeout) < 0 || o->timeout < 0.001)
				return bad_opt("--timeout", optarg);
			break;
		case 'P': o->prefix = optarg; break;
		case 't': o->tag = optarg; break;
		case 'x':
			if (o->n_extra == BENCH_MAX_EXTRA || strpbrk(optarg, "\r\n") ||
			    !strchr(optarg, ':'))
				return bad_opt("--header", optarg);
			o->extra[o->n_extra++] = optarg;
			break;
		case 'S':
			if (read_keys(optarg, o))
				return -1;
			break;
		case 'F': exit(free_port());
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind != argc || !o->port) {
		usage(stderr);
		return -1;
	}
	if (o->prefix[0] != '/' || strpbrk(o->prefix, " \r\n") || strlen(o->prefix) > 1024)
		return bad_opt("--prefix", o->prefix);
	if (!o->seconds && !o->requests)
		o->seconds = 5;
	if (o->large_min > o->large_max || o->large_keys > o->keys)
		return bad_opt("--large-min/--large-max/--large-keys", "inconsistent");
	return 0;
}

/* Resolve host:port and insist on loopback: this tool must never load
 * anything but the machine it runs on. */
static int resolve(struct bench_shared *sh)
{
	const struct bench_opts *o = sh->o;
	struct addrinfo hints = {
		.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV | AI_NUMERICHOST,
	};
	/* Numeric addresses only (no resolver traffic); "localhost" is spelled out. */
	const char *host = strcmp(o->host, "localhost") == 0 ? "127.0.0.1" : o->host;
	struct addrinfo *ai;
	int rc = getaddrinfo(host, o->port, &hints, &ai), loop = 0;

	if (rc) {
		fprintf(stderr, "atrium-bench: %s:%s: %s (a numeric loopback address is needed)\n",
		        o->host, o->port, gai_strerror(rc));
		return -1;
	}
	if (ai->ai_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ai->ai_addr;
		loop = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	} else if (ai->ai_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ai->ai_addr;
		loop = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
	}
	if (loop) {
		memcpy(&sh->addr, ai->ai_addr, ai->ai_addrlen);
		sh->addrlen = ai->ai_addrlen;
	}
	freeaddrinfo(ai);
	if (!loop) {
		fprintf(stderr, "atrium-bench: %s is not a loopback address\n", o->host);
		return -1;
	}
	snprintf(sh->hostport, sizeof(sh->hostport), strchr(o->host, ':') ? "[%s]:%s" : "%s:%s",
	         o->host, o->port);
	return 0;
}

/* ---------------------------------------------------------------- report */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array, in microseconds. */
static double pct_us(const uint64_t *v, size_t n, double p)
{
	size_t rank;

	if (!n)
		return 0;
	rank = (size_t)(p * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return (double)v[rank - 1] / 1000.0;
}

static int report(const struct bench_opts *o, struct bench_worker *ws, uint64_t t_start)
{
	uint64_t ok = 0, non2xx = 0, errors = 0, dropped = 0, reconn = 0, t_end = t_start;
	uint64_t n_op[3] = { 0 }, up = 0, down = 0;
	size_t n = 0, at = 0;
	uint64_t *all;
	double secs, ops;
	int status = 0;
	const char *err = NULL;

	for (int i = 0; i < o->conc; i++) {
		ok += ws[i].ok, non2xx += ws[i].non2xx, errors += ws[i].errors;
		dropped += ws[i].dropped, reconn += ws[i].reconnects, n += ws[i].nlat;
		for (int k = 0; k < 3; k++)
			n_op[k] += ws[i].n_op[k];
		up += ws[i].bytes_up, down += ws[i].bytes_down;
		if (ws[i].t_last_end > t_end)
			t_end = ws[i].t_last_end;
		if (!status)
			status = ws[i].first_status;
		if (!err && ws[i].first_err[0])
			err = ws[i].first_err;
	}
	all = malloc((n ? n : 1) * sizeof(*all));
	if (!all) {
		fprintf(stderr, "atrium-bench: out of memory merging %zu samples\n", n);
		return 1;
	}
	for (int i = 0; i < o->conc; i++) {
		memcpy(all + at, ws[i].lat, ws[i].nlat * sizeof(*all));
		at += ws[i].nlat;
	}
	qsort(all, n, sizeof(*all), cmp_u64);
	secs = (double)(t_end - t_start) / 1e9;
	ops = secs > 0 ? (double)ok / secs : 0;
	printf("target=%s op=%s size=%llu keys=%llu conc=%d secs=%.3f reqs=%" PRIu64
	       " ops=%.1f mibs=%.2f p50_us=%.1f p99_us=%.1f max_us=%.1f non2xx=%" PRIu64
	       " errors=%" PRIu64 " reconnects=%" PRIu64,
	       o->tag, o->mix ? "MIX" : o->put ? "PUT" : "GET", o->size, o->keys, o->conc, secs,
	       ok + non2xx + errors, ops,
	       o->mix ? (secs > 0 ? (double)(up + down) / secs / (1024.0 * 1024.0) : 0)
	              : ops * (double)o->size / (1024.0 * 1024.0),
	       pct_us(all, n, 0.50), pct_us(all, n, 0.99), n ? (double)all[n - 1] / 1000.0 : 0,
	       non2xx, errors, reconn);
	if (o->mix)
		printf(" puts=%" PRIu64 " gets=%" PRIu64 " lists=%" PRIu64 " up_mib=%.1f"
		       " down_mib=%.1f", n_op[OP_PUT], n_op[OP_GET], n_op[OP_LIST],
		       (double)up / (1024.0 * 1024.0), (double)down / (1024.0 * 1024.0));
	printf("\n");
	fflush(stdout);
	free(all);
	if (dropped)
		fprintf(stderr, "atrium-bench: note: %" PRIu64 " latencies beyond the %llu-per-thread"
		        " sample buffer were not kept\n", dropped, BENCH_SAMPLES_MAX);
	if (errors || non2xx || !ok) {
		fprintf(stderr, "atrium-bench: *** FAILED (%s %s, size %llu, conc %d): %" PRIu64
		        " errors, %" PRIu64 " non-2xx responses, %" PRIu64 " successes",
		        o->tag, o->mix ? "MIX" : o->put ? "PUT" : "GET", o->size, o->conc, errors,
		        non2xx, ok);
		if (status)
			fprintf(stderr, "; first status %d", status);
		if (err)
			fprintf(stderr, "; first error: %s", err);
		fprintf(stderr, " ***\n");
		return 1;
	}
	return 0;
}

/* ---------------------------------------------------------------- main */

static void sleep_until(uint64_t deadline, atomic_int *live)
{
	for (;;) {
		uint64_t t = now_ns();
		struct timespec ts;
		uint64_t left;

		if (t >= deadline || atomic_load(live) == 0)
			return;
		left = deadline - t;
		if (left > 5000000)
			left = 5000000;  /* wake every 5 ms to notice finished workers */
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left;
		nanosleep(&ts, NULL);
	}
}

struct bench_thread_arg {
	struct bench_worker *w;
	atomic_int *live;
};

static void *worker_entry(void *arg)
{
	struct bench_thread_arg *a = arg;

	worker_main(a->w);
	atomic_fetch_sub(a->live, 1);
	return NULL;
}

static int run(struct bench_opts *o, struct bench_shared *sh)
{
	struct bench_worker *ws = calloc((size_t)o->conc, sizeof(*ws));
	struct bench_thread_arg *args = calloc((size_t)o->conc, sizeof(*args));
	atomic_int live = o->conc;
	uint64_t t_start, bound;
	int started = 0, rc = 1;

	if (!ws || !args)
		goto out;
	pthread_barrier_init(&sh->start, NULL, (unsigned)o->conc + 1);
	for (int i = 0; i < o->conc; i++) {
		struct bench_worker *w = &ws[i];

		w->sh = sh;
		w->fd = -1;
		w->rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1);
		w->cap = o->requests && o->requests < BENCH_SAMPLES_MAX
		         ? (size_t)o->requests : (size_t)BENCH_SAMPLES_MAX;
		/* Reserved, not touched: pages fault in as samples arrive, so
		 * the array costs what the run uses. */
		w->lat = malloc(w->cap * sizeof(*w->lat));
		w->rbuf = malloc(BENCH_RBUF);
		w->sink = malloc(BENCH_DISCARD_MAX);
		buf_init(&w->auth, 1024);
		if (!w->lat || !w->rbuf || !w->sink) {
			fprintf(stderr, "atrium-bench: out of memory\n");
			exit(1);  /* threads may be waiting on the barrier */
		}
		args[i].w = w;
		args[i].live = &live;
		if (pthread_create(&w->tid, NULL, worker_entry, &args[i]) != 0) {
			fprintf(stderr, "atrium-bench: cannot start thread %d\n", i);
			exit(1);
		}
		started++;
	}
	pthread_barrier_wait(&sh->start);
	t_start = now_ns();
	if (o->warmup > 0) {
		sleep_until(t_start + (uint64_t)(o->warmup * 1e9), &live);
		t_start = now_ns();
		atomic_store_explicit(&sh->phase, PHASE_MEASURE, memory_order_release);
	}
	bound = (uint64_t)((o->seconds ? o->seconds : BENCH_SAFETY_SECONDS) * 1e9);
	sleep_until(t_start + bound, &live);
	atomic_store_explicit(&sh->phase, PHASE_STOP, memory_order_release);
	for (int i = 0; i < started; i++)
		pthread_join(ws[i].tid, NULL);
	if (!o->seconds && o->requests && atomic_load(&sh->budget) < o->requests)
		fprintf(stderr, "atrium-bench: note: stopped by the %.0f s safety bound\n",
		        BENCH_SAFETY_SECONDS);
	rc = report(o, ws, t_start);
	pthread_barrier_destroy(&sh->start);
out:
	for (int i = 0; ws && i < o->conc; i++) {
		free(ws[i].lat);
		free(ws[i].rbuf);
		buf_release(&ws[i].auth);
		free(ws[i].sink);
	}
	free(ws);
	free(args);
	return rc;
}

int main(int argc, char **argv)
{
	struct bench_opts o = {
		.host = "127.0.0.1", .size = 4096, .keys = 100, .conc = 1,
		.timeout = 10, .prefix = "/benchbucket/", .tag = "-",
		.w_put = 40, .w_get = 50, .w_list = 10,
		.large_min = 1 << 20, .large_max = 8 << 20,
	};
	struct bench_shared sh;
	char *body;
	size_t longest;
	int rc;

	if (parse_opts(argc, argv, &o) < 0)
		return 2;
	memset(&sh, 0, sizeof(sh));
	sh.o = &o;
	if (resolve(&sh) < 0)
		return 2;
	longest = strlen(o.prefix) + strlen(sh.hostport) + 128;
	if (o.access_key[0]) /* x-amz-date, x-amz-content-sha256, Authorization */
		longest += 128 + strlen(o.access_key) + 200;
	for (int i = 0; i < o.n_extra; i++)
		longest += strlen(o.extra[i]) + 2;
	if (longest > BENCH_REQ_MAX) {
		fprintf(stderr, "atrium-bench: request header too long\n");
		return 2;
	}
	/* A fixed, non-uniform pattern: the same bytes every run, nothing a
	 * server could shortcut as all-zero. */
	sh.body_len = o.put ? o.size : 0;
	if (o.mix)
		sh.body_len = o.large_keys && o.large_max > o.size ? o.large_max : o.size;
	body = malloc(sh.body_len ? (size_t)sh.body_len : 1);
	if (!body) {
		fprintf(stderr, "atrium-bench: cannot allocate a %llu-byte body\n", sh.body_len);
		return 1;
	}
	for (unsigned long long i = 0; i < sh.body_len; i++)
		body[i] = (char)('a' + (i * 7 + i / 4096) % 26);
	sh.body = body;
	atomic_init(&sh.phase, o.warmup > 0 ? PHASE_WARMUP : PHASE_MEASURE);
	atomic_init(&sh.next_key, 0);
	atomic_init(&sh.budget, 0);
	atomic_init(&sh.populate, 0);
	signal(SIGPIPE, SIG_IGN);
	rc = run(&o, &sh);
	free(body);
	return rc;
}
