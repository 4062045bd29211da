/*
 * atriumd — the daemon: settings, the core, the S3 door and the admin API
 * on one civetweb server. The only file that knows every front end.
 */
#include <civetweb.h>
#include <errno.h>
#include <malloc.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "fuse/mount.h"
#include "s3/s3.h"
#include "src/access_log.h"
#include "src/admin.h"
#include "src/atrium.h"
#include "src/metrics.h"
#include "src/settings.h"
#include "common/banned.h"

#define ATRIUM_VERSION "0.1.0"

struct daemon {
	struct atr_core *core;
	struct atr_idents *idents;
	struct s3_server *s3;
	struct admin *admin;
	struct metrics *metrics;
	struct access_log *access_log; /* NULL: off */
	const char *tls_cert, *tls_key; /* both NULL: plain HTTP */
};

/*
 * Debian 12's civetweb 1.15 loads OpenSSL at run time: dlopen("libssl.so"),
 * then each function by name. It still asks for SSL_get_peer_certificate,
 * which OpenSSL 3 has only as a macro for SSL_get1_peer_certificate (same
 * semantics), and stops at the first name it misses, leaving the rest of
 * its table NULL: the first HTTPS request would crash. So atriumd defines
 * the old name itself and is linked with the soname "libssl.so" (Makefile,
 * TLS_LDFLAGS): glibc's dlopen returns an already loaded object whose
 * soname matches, and dlsym through atriumd's handle searches atriumd and
 * then its libraries, the real libssl.so.3 and libcrypto.so.3.
 */
#undef SSL_get_peer_certificate
X509 *SSL_get_peer_certificate(const SSL *s);
X509 *SSL_get_peer_certificate(const SSL *s)
{
	return SSL_get1_peer_certificate(s);
}

/* TLS 1.2's forward-secret AEAD suites (TLS 1.3's are all fine as they are). */
#define TLS12_CIPHERS "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

static void tls_handshake_done(const SSL *s, int where, int ret);

/* civetweb's init_ssl callback: TLS 1.2 or later only, sane ciphers, no
 * renegotiation, and the certificate and key from two PEM files (civetweb
 * alone wants both in one). Returning 1 tells civetweb the context is set. */
static int init_tls(void *ssl_ctx, void *user_data)
{
	struct daemon *d = user_data;
	SSL_CTX *ctx = ssl_ctx;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) ||
	    SSL_CTX_use_certificate_chain_file(ctx, d->tls_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, d->tls_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		char why[256];
		ERR_error_string_n(ERR_get_error(), why, sizeof(why));
		LOG(LOG_ERROR, "tls: cannot use certificate %s with key %s: %s", d->tls_cert,
		    d->tls_key, why);
		return -1;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_info_callback(ctx, tls_handshake_done);
	return 1;
}

/* The admin API authenticates exactly as the S3 door does. */
static int admin_auth(void *arg, struct mg_connection *conn, char user[ATR_USER_MAX + 1],
		      char *code, size_t code_size, char *msg, size_t msg_size)
{
	struct daemon *d = arg;
	enum s3_err e = s3_authenticate_conn(d->s3, conn, user);
	if (e == S3_ERR_OK)
		return 0;
	snprintf(code, code_size, "%s", s3_err_code(e));
	snprintf(msg, msg_size, "%s", s3_err_message(e));
	return s3_err_status(e);
}

/* Every finished S3 request: metrics and the access log. */
static void s3_observed(void *arg, const struct s3_done *r)
{
	struct daemon *d = arg;
	metrics_request(d->metrics, "s3", r->op, r->status, r->bytes_in, r->bytes_out,
			r->duration_ns);
	if (d->access_log)
		access_log_write(d->access_log, r->line);
}

/* The TLS session of the connection this worker thread serves, for access
 * logs: civetweb hands us no SSL object, but a worker does a connection's
 * handshake and then serves it alone, so the handshake's thread remembers
 * what it negotiated (the info callback set in init_tls). */
static __thread char tls_cipher[64], tls_version[32];

static void tls_handshake_done(const SSL *s, int where, int ret)
{
	if (!(where & SSL_CB_HANDSHAKE_DONE))
		return;
	snprintf(tls_cipher, sizeof(tls_cipher), "%s", SSL_get_cipher_name(s));
	snprintf(tls_version, sizeof(tls_version), "%s", SSL_get_version(s));
}

static void tls_info(void *arg, char *cipher, size_t cn, char *version, size_t vn)
{
	snprintf(cipher, cn, "%s", tls_cipher);
	snprintf(version, vn, "%s", tls_version);
}

/* Mount requests count as door "fuse"; the status is the errno replied. */
static void fuse_observed(void *arg, const char *op, int err, uint64_t bytes_in,
			  uint64_t bytes_out, int64_t duration_ns)
{
	struct daemon *d = arg;
	metrics_request(d->metrics, "fuse", op, err, bytes_in, bytes_out, duration_ns);
}

static int begin_request(struct mg_connection *conn)
{
	struct daemon *d = mg_get_user_data(mg_get_context(conn));
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *path = ri->local_uri_raw ? ri->local_uri_raw : "/";
	if (admin_is_path(path))
		return admin_handle(d->admin, conn);
	return s3_handle(d->s3, conn);
}

/* civetweb refused a request before begin_request: an S3 error all the
 * same (0: handled, civetweb sends nothing of its own). */
static int http_error(struct mg_connection *conn, int status, const char *msg)
{
	struct daemon *d = mg_get_user_data(mg_get_context(conn));
	s3_reject(d->s3, conn, status, msg);
	return 0;
}

static int log_message(const struct mg_connection *conn, const char *message)
{
	LOG(LOG_WARN, "http: %s", message);
	return 1;
}

/* "FIRST-LAST", both decimal uids below 2^32 - 1, FIRST <= LAST, above 0. */
static int parse_range(const char *v, uint32_t *first, uint32_t *last)
{
	unsigned long long a, b;
	char tail;
	if (sscanf(v, "%llu-%llu%c", &a, &b, &tail) != 2 || !a || a > b || b >= 0xffffffffULL ||
	    strchr(v, '+') || strchr(v, ' '))
		return -1;
	*first = (uint32_t)a;
	*last = (uint32_t)b;
	return 0;
}

static int load_idents(const struct settings *st, struct daemon *d)
{
	char path[4096];
	if (*st->credentials) {
		d->idents = atr_idents_load(st->credentials);
		return d->idents ? 0 : -1;
	}
	snprintf(path, sizeof(path), "%s/credentials", st->data);
	if (access(path, F_OK)) {
		struct atr_ident first;
		if (atr_idents_create(path, atr_core_daemon_user(d->core), &first)) {
			LOG(LOG_ERROR, "cannot create %s: %s", path, strerror(errno));
			return -1;
		}
		fprintf(stderr,
			"atriumd: created %s with an admin user (shown once):\n"
			"  AWS_ACCESS_KEY_ID=%s\n  AWS_SECRET_ACCESS_KEY=%s\n",
			path, first.access_key, first.secret);
	}
	d->idents = atr_idents_load(path);
	return d->idents ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct settings st;
	struct daemon d = { 0 };
	char *metrics_token = NULL;
	struct mg_context *ctx = NULL;
	struct mount *mnt = NULL;
	int rc = settings_parse(&st, argc, argv);
	if (rc)
		return rc > 0 ? 0 : 2;
	log_set_level((enum log_level)log_level_parse(st.log_level));
	/* glibc raises its mmap threshold each time a large block is freed;
	 * the block cache's 1 MiB blocks then come from the malloc arenas
	 * (up to 8 per core with many threads), where freed blocks fragment
	 * and RSS grew well past the cache's capacity under `make load`
	 * (docs/reliability.md). A fixed threshold keeps every large block a
	 * mapping of its own, returned to the kernel when it is freed. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);

	/* Block the stop signals everywhere; main waits for them below. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct atr_core_config cc = {
		.data_dir = st.data, .cache_mem_bytes = st.cache_mem, .cache_block_size = 1 << 20,
		.idmap = st.idmap,
	};
	rc = 1;
	if (parse_range(st.id_range, &cc.id_first, &cc.id_last)) {
		LOG(LOG_ERROR, "--id-range %s: not FIRST-LAST (host uids, FIRST <= LAST)",
		    st.id_range);
		goto out;
	}
	if (atr_core_open(&cc, &d.core)) {
		LOG(LOG_ERROR, "cannot open the data directory %s", st.data);
		goto out;
	}
	if (load_idents(&st, &d))
		goto out;
	/* Policies may name the users of the credentials file; in simple mode
	 * any name is a user. */
	atr_core_set_users(d.core, strcmp(st.auth, "simple") ? d.idents : NULL);
	if (!(d.metrics = metrics_new()))
		goto out;
	if (*st.access_log && !(d.access_log = access_log_open(st.access_log))) {
		LOG(LOG_ERROR, "cannot open the access log %s: %s", st.access_log, strerror(errno));
		goto out;
	}
	struct s3_options so = {
		.auth = !strcmp(st.auth, "simple") ? S3_AUTH_SIMPLE : S3_AUTH_SIGV4,
		.region = st.region,
		.max_put_size = st.max_put_size,
		.observe = s3_observed,
		.observe_arg = &d,
		.min_part_size = st.min_part_size,
		.domain = *st.domain ? st.domain : NULL,
		.request_timeout_ms = st.request_timeout_ms,
		.min_body_rate = st.min_body_rate,
		.tls_info = tls_info,
		.log_flush_ms = st.bucket_log_flush_ms,
	};
	if (!(d.s3 = s3_server_new(d.core, d.idents, &so)))
		goto out;
	if (*st.metrics_token && st.metrics_public) {
		LOG(LOG_ERROR, "--metrics-token and --metrics-public contradict each other: pick one");
		goto out;
	}
	/* Read from a file, never taken on the command line, where every
	 * local user could read it in ps. */
	if (*st.metrics_token && admin_token_load(st.metrics_token, &metrics_token))
		goto out;
	struct admin_options ao = {
		.auth = admin_auth, .auth_arg = &d, .auth_mode = st.auth,
		.version = ATRIUM_VERSION, .metrics = d.metrics, .access_log = d.access_log,
		.metrics_token = metrics_token, .metrics_public = st.metrics_public,
	};
	if (!(d.admin = admin_new(d.core, &ao)))
		goto out;

	int tls = *st.tls_cert || *st.tls_key;
	if (tls && (!*st.tls_cert || !*st.tls_key)) {
		LOG(LOG_ERROR, "--tls-cert and --tls-key go together");
		goto out;
	}
	if (tls && !mg_check_feature(MG_FEATURES_TLS)) {
		LOG(LOG_ERROR, "this civetweb was built without TLS: --tls-cert is unavailable");
		goto out;
	}
	d.tls_cert = tls ? st.tls_cert : NULL;
	d.tls_key = tls ? st.tls_key : NULL;

	char ports[300], threads[32], timeout[32], keep_alive[32];
	snprintf(ports, sizeof(ports), "%s:%ld%s", st.bind, st.port, tls ? "s" : "");
	snprintf(threads, sizeof(threads), "%ld", st.threads);
	snprintf(timeout, sizeof(timeout), "%ld", st.request_timeout_ms);
	snprintf(keep_alive, sizeof(keep_alive), "%ld", st.keep_alive_timeout_ms);
	const char *options[] = {
		"listening_ports", ports,
		"num_threads", threads,
		"enable_keep_alive", "yes",
		/* A connection holds a worker thread while open, idle or not
		 * (docs/configuration.md): keep-alive is shorter than requests. */
		"keep_alive_timeout_ms", keep_alive,
		"request_timeout_ms", timeout,
		"decode_url", "no",          /* we decode, so SigV4 sees the path as sent */
		"tcp_nodelay", "1",
		"max_request_size", "65536",
		"listen_backlog", "1024",
		"connection_queue", "1024",
		NULL, NULL, /* TLS options go here */
		NULL, NULL,
		NULL,
	};
	struct mg_callbacks cb = { .begin_request = begin_request, .log_message = log_message,
				   .http_error = http_error };
	if (tls) {
		/* 4: TLS 1.2 and later. init_tls sets the same again, on OpenSSL. */
		const char *tls_options[] = { "ssl_protocol_version", "4",
					      "ssl_cipher_list", TLS12_CIPHERS };
		size_t n = sizeof(options) / sizeof(options[0]) - 5;
		memcpy(&options[n], tls_options, sizeof(tls_options));
		cb.init_ssl = init_tls;
	}
	if (*st.mount &&
	    !(mnt = mount_start(d.core, st.mount, st.mount_options, fuse_observed, &d)))
		goto out;
	mg_init_library(tls ? MG_FEATURES_TLS : 0);
	ctx = mg_start(&cb, &d, options);
	if (!ctx) {
		LOG(LOG_ERROR, "cannot listen on %s", ports);
		goto out;
	}
	LOG(LOG_INFO, "atriumd ready: S3 on %s://%s:%ld/ and /api/v1/s3, data in %s, auth %s",
	    tls ? "https" : "http", st.bind, st.port, st.data, st.auth);

	int sig = 0;
	sigwait(&stop, &sig);
	LOG(LOG_INFO, "signal %d: stopping", sig);
	rc = 0;
out:
	/* The S3 and admin doors first: their requests report changes to the
	 * mount (ns_event) until they are over. */
	if (ctx)
		mg_stop(ctx);
	mount_stop(mnt);
	mg_exit_library();
	admin_free(d.admin);
	if (metrics_token) {
		explicit_bzero(metrics_token, strlen(metrics_token));
		free(metrics_token);
	}
	s3_server_free(d.s3);
	metrics_free(d.metrics);
	access_log_close(d.access_log);
	atr_idents_free(d.idents);
	atr_core_close(d.core);
	settings_release(&st);
	return rc;
}
