/*
 * atriumd — the daemon: settings, the core, the S3 door and the admin API
 * on one civetweb server, the mount beside them. The only file that knows
 * every front end.
 *
 * Lifecycle. The main thread starts everything, then waits for signals:
 *   SIGHUP         reload: reopen the logs, re-read the credentials and id
 *                  map files, the TLS certificate, and the settings of
 *                  --config that may change while running (settings.c marks
 *                  them); never exits.
 *   SIGTERM/SIGINT graceful stop: the listening socket is closed, requests
 *                  in flight run to their end, new requests on kept-alive
 *                  connections get 503 and Connection: close, files open for
 *                  writing in the mount may be closed (and so committed),
 *                  all for up to --shutdown-timeout; then the server stops,
 *                  what is still open in the mount is committed, and the
 *                  mount is unmounted (lazily only if something still holds
 *                  it). A second signal skips the waiting.
 */
#include <civetweb.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <dlfcn.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "fuse/mount.h"
#include "s3/s3.h"
#include "daemon/access_log.h"
#include "daemon/admin.h"
#include "daemon/console.h"
#include "src/atrium.h"
#include "daemon/metrics.h"
#include "daemon/service.h"
#include "daemon/settings.h"
#include "daemon/tls.h"
#include "version.h"
#include "common/banned.h"

struct daemon {
	struct settings st;          /* current; the main thread replaces it on SIGHUP */
	int argc;
	char **argv;                 /* for re-reading --config */
	struct atr_core *core;
	struct atr_idents *idents;
	struct s3_server *s3;
	struct admin *admin;
	struct console *console;      /* the web console's files (/console/) */
	struct metrics *metrics;
	struct access_log *access_log; /* NULL: off */
	struct mount *mnt;           /* NULL: no --mount */
	struct service_log errlog;   /* stderr, when it is a file */
	struct tls *tls;             /* NULL: plain HTTP */
	/* The stop: set once by the main thread, read by every request. */
	int draining;
	long inflight;               /* requests inside begin_request; atomic */
};

/*
 * HTTPS without the OpenSSL development package. Debian 12's civetweb
 * 1.15 loads OpenSSL itself at run time, by its development names:
 * dlopen("libssl.so") and dlopen("libcrypto.so"), symlinks that only
 * libssl-dev installs; then it looks each function up by name and stops
 * at the first it misses. atriumd is linked with the run-time libraries
 * (libssl.so.3, libcrypto.so.3) anyway, so it answers those two names
 * itself: an executable's symbols come first in the global scope, so the
 * dynamic linker binds civetweb's dlopen calls to the one below, which
 * returns the handle of that global scope — atriumd, then the libraries
 * it was linked with — for the two names and leaves every other call to
 * the C library's dlopen. dlsym through it finds what civetweb asks for.
 */
void *dlopen(const char *file, int mode);
void *dlopen(const char *file, int mode)
{
	static void *(*next)(const char *, int); /* the C library's; set once, same value */
	void *(*f)(const char *, int) = __atomic_load_n(&next, __ATOMIC_RELAXED);
	if (!f) {
		*(void **)&f = dlsym(RTLD_NEXT, "dlopen");
		__atomic_store_n(&next, f, __ATOMIC_RELAXED);
	}
	if (file && (!strcmp(file, "libssl.so") || !strcmp(file, "libcrypto.so")))
		file = NULL;
	return f(file, mode);
}

/* civetweb also asks for SSL_get_peer_certificate, which OpenSSL 3 has
 * only as a macro for SSL_get1_peer_certificate (same semantics); a name
 * it misses would leave the rest of its table NULL and the first HTTPS
 * request would crash. So atriumd defines it, exported (Makefile,
 * TLS_LDFLAGS) so that dlsym through the handle above finds it. */
#undef SSL_get_peer_certificate
X509 *SSL_get_peer_certificate(const SSL *s);
X509 *SSL_get_peer_certificate(const SSL *s)
{
	return SSL_get1_peer_certificate(s);
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

/* civetweb's init_ssl callback (daemon/tls.h), plus the handshake record. */
static int init_tls(void *ssl_ctx, void *user_data)
{
	struct daemon *d = user_data;
	int rc = tls_setup(d->tls, ssl_ctx);
	if (rc == 1)
		SSL_CTX_set_info_callback(ssl_ctx, tls_handshake_done);
	return rc;
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

/* A request of the web console's (daemon/console.c): answered, then
 * counted and logged as the other doors' are, door "console". */
static int console_serve(struct daemon *d, struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	int64_t t0 = time_now_ns();
	uint64_t sent = 0;
	int status = console_handle(d->console, conn, &sent);
	int64_t dur = time_now_ns() - t0;
	const char *op = status == 302 ? "Redirect" : "GetFile";
	metrics_request(d->metrics, "console", op, status, 0, sent, dur);
	if (d->access_log) {
		char operation[32];
		snprintf(operation, sizeof(operation), "CONSOLE.%s.%s", ri->request_method, op);
		struct access_line e = {
			.time_ns = t0, .remote_ip = ri->remote_addr, .operation = operation,
			.method = ri->request_method, .path = ri->local_uri_raw,
			.query = ri->query_string, .http_version = ri->http_version,
			.status = status, .bytes_sent = sent ? (int64_t)sent : -1,
			.object_size = -1, .total_ms = dur / 1000000, .turnaround_ms = -1,
			.referer = mg_get_header(conn, "Referer"),
			.user_agent = mg_get_header(conn, "User-Agent"),
			.host = mg_get_header(conn, "Host"),
		};
		access_log_write(d->access_log, &e);
	}
	return status;
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

/* Mount requests count as door "fuse"; the status is the errno replied. */
static void fuse_observed(void *arg, const char *op, int err, uint64_t bytes_in,
			  uint64_t bytes_out, int64_t duration_ns)
{
	struct daemon *d = arg;
	metrics_request(d->metrics, "fuse", op, err, bytes_in, bytes_out, duration_ns);
}

/* A request that came after the stop began: 503 and Connection: close,
 * in the door's own format, so that the client retries elsewhere. Its
 * body, if any, is left unread: the connection closes. */
static int refuse_stopping(struct daemon *d, struct mg_connection *conn, int admin)
{
	static const char json[] = "{\"error\":\"ServiceUnavailable\",\"message\":"
		"\"atriumd is stopping\"}\n";
	/* S3's: an S3 error with a request id, in the metrics and the
	 * access log like every request. */
	if (!admin)
		return s3_reject(d->s3, conn, 503, "atriumd is stopping");
	mg_disable_connection_keep_alive(conn);
	mg_printf(conn, "HTTP/1.1 503 Service Unavailable\r\nServer: Atrium\r\n"
		  "Content-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\n"
		  "Content-Length: %zu\r\n\r\n", sizeof(json) - 1);
	if (strcmp(mg_get_request_info(conn)->request_method, "HEAD"))
		mg_write(conn, json, sizeof(json) - 1);
	metrics_request(d->metrics, "admin", "Rejected", 503, 0, sizeof(json) - 1, 0);
	return 503;
}

static int begin_request(struct mg_connection *conn)
{
	struct daemon *d = mg_get_user_data(mg_get_context(conn));
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *path = ri->local_uri_raw ? ri->local_uri_raw : "/";
	int admin = admin_is_path(path), rc;
	/* Counted before the flag is read (both sequentially consistent): the
	 * stop sets the flag, then waits for the count to reach zero, so no
	 * request it did not wait for can start after the flag. */
	__atomic_add_fetch(&d->inflight, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&d->draining, __ATOMIC_SEQ_CST))
		rc = refuse_stopping(d, conn, admin);
	else if (admin)
		rc = admin_handle(d->admin, conn);
	else if (console_claims(d->console, conn))
		rc = console_serve(d, conn);
	else
		rc = s3_handle(d->s3, conn);
	__atomic_sub_fetch(&d->inflight, 1, __ATOMIC_SEQ_CST);
	return rc;
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

/* Readiness beyond the core's: not while stopping, nor with a mount
 * whose session ended. */
static const char *daemon_ready(void *arg, const char **what)
{
	struct daemon *d = arg;
	if (__atomic_load_n(&d->draining, __ATOMIC_RELAXED)) {
		*what = "stopping";
		return "atriumd is stopping";
	}
	if (*d->st.mount && !mount_alive(d->mnt)) {
		*what = "mount";
		return "the FUSE session of the mount has ended";
	}
	return NULL;
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
		explicit_bzero(&first, sizeof(first));
	}
	d->idents = atr_idents_load(path);
	return d->idents ? 0 : -1;
}

/* ---- reload (SIGHUP) ---- */

struct changes {
	int apply;                   /* reloadable ones changed */
};

static void on_change(void *arg, const char *name, int reloadable)
{
	struct changes *c = arg;
	if (reloadable) {
		LOG(LOG_INFO, "reload: %s changed", name);
		c->apply = 1;
	} else {
		LOG(LOG_WARN, "reload: %s changed in the configuration: it takes effect at the "
		    "next start", name);
	}
}

/* Only the reloadable settings change: the others stay what the running
 * server was started with (and what the next reload compares against);
 * the S3 door and the admin API keep pointers to some of them. */
static void apply_settings(struct daemon *d, struct settings *fresh)
{
	settings_take_reloadable(&d->st, fresh);
	log_set_level((enum log_level)log_level_parse(d->st.log_level));
	log_set_format((enum log_format)log_format_parse(d->st.log_format));
	s3_server_set_limits(d->s3, d->st.max_put_size, d->st.min_part_size);
}

static void reload(struct daemon *d)
{
	struct settings fresh;
	service_notify("RELOADING=1");
	LOG(LOG_INFO, "SIGHUP: reloading");
	if (service_log_reopen(&d->errlog) > 0)
		LOG(LOG_INFO, "reload: reopened the log %s", d->errlog.path);
	if (d->access_log && access_log_reopen(d->access_log))
		LOG(LOG_ERROR, "reload: cannot reopen the access log %s: %s",
		    access_log_path(d->access_log), strerror(errno));
	if (settings_parse(&fresh, d->argc, d->argv) == 0) {
		struct changes c = { .apply = 0 };
		settings_changes(&d->st, &fresh, on_change, &c);
		if (c.apply)
			apply_settings(d, &fresh);
	} else {
		LOG(LOG_ERROR, "reload: the configuration does not parse (above): settings kept");
	}
	settings_release(&fresh);
	/* The files may be replaced in place (certbot does): read them again. */
	if (d->tls && *d->st.tls_cert && *d->st.tls_key)
		tls_reload(d->tls, d->st.tls_cert, d->st.tls_key);
	else if (!d->tls != !*d->st.tls_cert)
		LOG(LOG_WARN, "reload: HTTPS %s only at the next start (the port serves %s now)",
		    d->tls ? "turns off" : "turns on", d->tls ? "HTTPS" : "plain HTTP");
	atr_idents_reload(d->idents);
	atr_core_reload_idmap(d->core);
	service_notify("READY=1");
}

/* ---- stop ---- */

/*
 * Stops new connections: civetweb has no call for it (only mg_stop, which
 * also cuts the requests in flight), so the listening socket is found by
 * its port and replaced, with dup2, by an eventfd that never becomes
 * readable. The master thread's poll then never sees a connection, the
 * socket closes (new connections are refused) once that poll returns
 * (within civetweb's poll quantum), and mg_stop later closes the eventfd
 * as if it were the socket.
 */
static void stop_listening(long port)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;
	if (!dir)
		return;
	while ((e = readdir(dir))) {
		char *end;
		long v = strtol(e->d_name, &end, 10);
		int fd = *end || end == e->d_name || v < 0 || v > 1 << 20 ? -1 : (int)v;
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int listening = 0;
		socklen_t il = sizeof(listening);
		if (fd < 0 || fd == dirfd(dir) ||
		    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &il) || !listening ||
		    getsockname(fd, (struct sockaddr *)&ss, &sl))
			continue;
		long p = ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
		       : ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
		       : -1;
		int quiet = p == port ? eventfd(0, EFD_CLOEXEC) : -1;
		if (quiet >= 0) {
			if (dup3(quiet, fd, O_CLOEXEC) >= 0)
				n++;
			close(quiet);
		}
	}
	closedir(dir);
	if (!n)
		LOG(LOG_WARN, "stop: could not close the listening socket of port %ld: new "
		    "connections get 503 until the stop ends", port);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until no request is in flight and no file is open for writing in
 * the mount, the deadline, or a second stop signal (returns 1). */
static int drain(struct daemon *d, const sigset_t *sigs)
{
	int64_t deadline = mono_ms() + d->st.shutdown_timeout * 1000;
	long req;
	while ((req = __atomic_load_n(&d->inflight, __ATOMIC_SEQ_CST)) || mount_writers(d->mnt)) {
		int64_t left = deadline - mono_ms();
		if (left <= 0) {
			LOG(LOG_WARN, "stop: --shutdown-timeout (%lds) is over: %ld request(s) still in "
			    "flight are cut, the file(s) still open for writing in the mount are "
			    "committed as they are", d->st.shutdown_timeout, req);
			return 0;
		}
		/* Poll the counts every 50 ms; a signal ends the wait early. */
		struct timespec ts = { 0, (left < 50 ? left : 50) * 1000000 };
		int sig = sigtimedwait(sigs, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT) {
			LOG(LOG_WARN, "stop: signal %d again: stopping at once", sig);
			return 1;
		}
		if (sig == SIGHUP)
			LOG(LOG_INFO, "SIGHUP while stopping: ignored");
	}
	return 0;
}

/* The data directory locked (*lock_fd) and the core open on it, with its
 * users. */
static int core_start(struct daemon *d, int *lock_fd)
{
	struct settings *st = &d->st;
	struct atr_core_config cc = {
		.data_dir = st->data, .cache_mem_bytes = st->cache_mem, .cache_block_size = 1 << 20,
		.idmap = st->idmap,
	};
	char *disk_dir = NULL;
	uint64_t disk_bytes = 0;
	if (parse_range(st->id_range, &cc.id_first, &cc.id_last)) {
		LOG(LOG_ERROR, "--id-range %s: not FIRST-LAST (host uids, FIRST <= LAST)",
		    st->id_range);
		return -1;
	}
	if (settings_cache_disk(st->cache_disk, &disk_dir, &disk_bytes))
		return -1; /* settings_parse checked it */
	cc.cache_disk_dir = disk_dir;
	cc.cache_disk_bytes = disk_bytes;
	cc.write_type = atr_write_type_parse(st->write_type); /* checked by the table */
	cc.durable = !strcmp(st->durability, "power");
	cc.read_type = atr_read_type_parse(st->read_type);
	cc.readahead_blocks = (int)st->read_ahead;
	/* One daemon per data directory, before anything in it is opened. */
	int rc = (*lock_fd = service_lock(st->data)) < 0 ? -1 : atr_core_open(&cc, &d->core);
	free(disk_dir);
	if (rc && *lock_fd >= 0)
		LOG(LOG_ERROR, "cannot open the data directory %s%s%s", st->data,
		    *st->cache_disk ? " or the disk cache " : "", st->cache_disk);
	if (rc)
		return -1;
	if (load_idents(st, d))
		return -1;
	/* Policies may name the users of the credentials file; in simple mode
	 * any name is a user. */
	atr_core_set_users(d->core, strcmp(st->auth, "simple") ? d->idents : NULL);
	return 0;
}

/* The lifecycle worker's pass and counters, for the admin API. */
static int lifecycle_run(void *arg, int64_t now, struct buf *json)
{
	struct daemon *d = arg;
	struct s3_lc_summary s;
	if (s3_lifecycle_run(d->s3, now, &s))
		return -1;
	buf_addf(json, "{\"now\":%lld,\"buckets\":%llu,\"rules\":%llu,\"expired\":%llu,"
		 "\"aborted\":%llu,\"errors\":%llu,\"locked\":%llu,\"truncated\":%s}\n",
		 (long long)now, (unsigned long long)s.buckets, (unsigned long long)s.rules,
		 (unsigned long long)s.expired, (unsigned long long)s.aborted,
		 (unsigned long long)s.errors, (unsigned long long)s.locked,
		 s.truncated ? "true" : "false");
	return 0;
}

static int lifecycle_metrics(void *arg, struct buf *b)
{
	struct daemon *d = arg;
	struct s3_lc_counters c;
	s3_lifecycle_counters(d->s3, &c);
	static const struct {
		const char *name, *help;
	} fams[] = {
		{ "atrium_lifecycle_passes_total", "Lifecycle worker passes over the buckets." },
		{ "atrium_lifecycle_objects_expired_total", "Objects deleted by lifecycle Expiration rules." },
		{ "atrium_lifecycle_uploads_aborted_total", "Multipart uploads aborted by lifecycle rules." },
		{ "atrium_lifecycle_errors_total", "Lifecycle actions that failed (logged)." },
		{ "atrium_lifecycle_versions_locked_total",
		  "Versions due under a lifecycle rule but kept by Object Lock." },
	};
	uint64_t v[] = { c.passes, c.expired, c.aborted, c.errors, c.locked };
	for (size_t i = 0; i < sizeof(fams) / sizeof(fams[0]); i++)
		if (metrics_family(b, fams[i].name, "counter", fams[i].help) ||
		    metrics_sample(b, fams[i].name, NULL, v[i]))
			return -1;
	return 0;
}

/* The S3 door and the admin API over the open core (and the metrics
 * token, read from its file into *token). */
static int doors_new(struct daemon *d, char **token)
{
	struct settings *st = &d->st;
	if (!(d->metrics = metrics_new()))
		return -1;
	if (*st->access_log && !(d->access_log = access_log_open(st->access_log))) {
		LOG(LOG_ERROR, "cannot open the access log %s: %s", st->access_log, strerror(errno));
		return -1;
	}
	struct s3_options so = {
		.auth = !strcmp(st->auth, "simple") ? S3_AUTH_SIMPLE : S3_AUTH_SIGV4,
		.region = st->region,
		.max_put_size = st->max_put_size,
		.observe = s3_observed,
		.observe_arg = d,
		.min_part_size = st->min_part_size,
		.domain = *st->domain ? st->domain : NULL,
		.request_timeout_ms = st->request_timeout_ms,
		.min_body_rate = st->min_body_rate,
		.tls_info = tls_info,
		.log_flush_ms = st->bucket_log_flush_ms,
		.lifecycle_interval_ms = st->lifecycle_interval_ms,
		.lifecycle_day_s = st->lifecycle_day_s,
	};
	if (!(d->s3 = s3_server_new(d->core, d->idents, &so)))
		return -1;
	if (*st->metrics_token && st->metrics_public) {
		LOG(LOG_ERROR, "--metrics-token and --metrics-public contradict each other: pick one");
		return -1;
	}
	/* Read from a file, never taken on the command line, where every
	 * local user could read it in ps. */
	if (*st->metrics_token && admin_token_load(st->metrics_token, token))
		return -1;
	struct admin_options ao = {
		.auth = admin_auth, .auth_arg = d, .auth_mode = st->auth,
		.version = ATRIUM_VERSION, .metrics = d->metrics, .access_log = d->access_log,
		.metrics_token = *token, .metrics_public = st->metrics_public,
		.idents = d->idents, .ready = daemon_ready, .ready_arg = d,
		.lifecycle_run = lifecycle_run, .lifecycle_metrics = lifecycle_metrics,
		.lifecycle_arg = d,
	};
	if (!(d->console = console_new(so.domain)))
		return -1;
	return (d->admin = admin_new(d->core, &ao)) ? 0 : -1;
}

/* The TLS context, if the settings ask for HTTPS (*tls says whether). */
static int https_setup(struct daemon *d, int *tls)
{
	struct settings *st = &d->st;
	*tls = *st->tls_cert || *st->tls_key;
	if (*tls && (!*st->tls_cert || !*st->tls_key)) {
		LOG(LOG_ERROR, "--tls-cert and --tls-key go together");
		return -1;
	}
	if (*tls && !mg_check_feature(MG_FEATURES_TLS)) {
		LOG(LOG_ERROR, "this civetweb was built without TLS: --tls-cert is unavailable");
		return -1;
	}
	if (*tls && !(d->tls = tls_new(st->tls_cert, st->tls_key)))
		return -1;
	return 0;
}

/*
 * Each worker thread may hold a connection's socket and, once it has
 * served a request, its SQLite connection (meta.db and its WAL): about
 * three descriptors per thread, plus the daemon's own. The soft limit is
 * raised to what the pool needs (at most the hard limit); a hard limit
 * too low for it is said at start, not met as EMFILE under load.
 */
static void raise_nofile(long threads)
{
	struct rlimit r;
	rlim_t want = (rlim_t)threads * 3 + 256;
	if (getrlimit(RLIMIT_NOFILE, &r))
		return;
	if (r.rlim_cur >= want)
		return;
	rlim_t to = r.rlim_max == RLIM_INFINITY || r.rlim_max >= want ? want : r.rlim_max;
	if (to > r.rlim_cur) {
		r.rlim_cur = to;
		setrlimit(RLIMIT_NOFILE, &r);
	}
	if (to < want)
		LOG(LOG_WARN, "open files are limited to %llu (hard limit): %ld threads may need %llu; "
		    "lower --threads or raise the limit (LimitNOFILE= in systemd)",
		    (unsigned long long)to, threads, (unsigned long long)want);
}

/* civetweb listening on the configured address, serving both doors. */
static struct mg_context *http_start(struct daemon *d, int tls)
{
	struct settings *st = &d->st;
	char ports[300], threads[32], timeout[32], keep_alive[32];
	snprintf(ports, sizeof(ports), "%s:%ld%s", st->bind, st->port, tls ? "s" : "");
	snprintf(threads, sizeof(threads), "%ld", st->threads);
	snprintf(timeout, sizeof(timeout), "%ld", st->request_timeout_ms);
	snprintf(keep_alive, sizeof(keep_alive), "%ld", st->keep_alive_timeout_ms);
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
	mg_init_library(tls ? MG_FEATURES_TLS : 0);
	struct mg_context *ctx = mg_start(&cb, d, options);
	if (!ctx)
		LOG(LOG_ERROR, "cannot listen on %s", ports);
	return ctx;
}

/* Serves until a stop signal (SIGHUP reloads), then drains. */
static void serve(struct daemon *d, const sigset_t *sigs)
{
	int sig = 0;
	while (!sigwait(sigs, &sig) && sig == SIGHUP)
		reload(d);
	service_notify("STOPPING=1");
	LOG(LOG_INFO, "signal %d: stopping: %ld request(s) in flight and %d file(s) open for "
	    "writing in the mount may finish for up to %lds (a second signal stops at once)",
	    sig, __atomic_load_n(&d->inflight, __ATOMIC_SEQ_CST), mount_writers(d->mnt),
	    d->st.shutdown_timeout);
	__atomic_store_n(&d->draining, 1, __ATOMIC_SEQ_CST);
	stop_listening(d->st.port);
	drain(d, sigs);
}

int main(int argc, char **argv)
{
	struct daemon d = { .argc = argc, .argv = argv };
	char *metrics_token = NULL;
	struct mg_context *ctx = NULL;
	int lock_fd = -1, tls = 0;
	int rc = settings_parse(&d.st, argc, argv);
	if (rc == 2) {
		printf("atriumd %s\n", ATRIUM_VERSION);
		settings_release(&d.st);
		return 0;
	}
	if (rc) {
		settings_release(&d.st);
		return rc > 0 ? 0 : 2;
	}
	log_set_level((enum log_level)log_level_parse(d.st.log_level));
	log_set_format((enum log_format)log_format_parse(d.st.log_format));
	service_log_init(&d.errlog);
	/* glibc raises its mmap threshold each time a large block is freed;
	 * the block cache's 1 MiB blocks then come from the malloc arenas
	 * (up to 8 per core with many threads), where freed blocks fragment
	 * and RSS grew well past the cache's capacity under `make load`
	 * (docs/reliability.md). A fixed threshold keeps every large block a
	 * mapping of its own, returned to the kernel when it is freed. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);

	/* Block the signals everywhere; main waits for them (serve). */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct settings *st = &d.st;
	rc = 1;
	if (core_start(&d, &lock_fd) || doors_new(&d, &metrics_token) || https_setup(&d, &tls))
		goto out;
	if (*st->mount &&
	    !(d.mnt = mount_start(d.core, st->mount, st->mount_options, fuse_observed, &d)))
		goto out;
	raise_nofile(st->threads);
	if (!(ctx = http_start(&d, tls)))
		goto out;
	LOG(LOG_INFO, "atriumd %s ready: S3 on %s://%s:%ld/ and /api/v1/s3, data in %s, auth %s",
	    ATRIUM_VERSION, tls ? "https" : "http", st->bind, st->port, st->data, st->auth);
	service_notify("READY=1");
	serve(&d, &sigs);
	rc = 0;
out:
	/* The S3 and admin doors first: their requests report changes to the
	 * mount (ns_event) until they are over. */
	if (ctx)
		mg_stop(ctx);
	mount_stop(d.mnt);
	mg_exit_library();
	tls_free(d.tls);
	admin_free(d.admin);
	console_free(d.console);
	if (metrics_token) {
		explicit_bzero(metrics_token, strlen(metrics_token));
		free(metrics_token);
	}
	s3_server_free(d.s3);
	metrics_free(d.metrics);
	access_log_close(d.access_log);
	atr_idents_free(d.idents);
	atr_core_close(d.core);
	if (!rc)
		LOG(LOG_INFO, "atriumd stopped");
	if (lock_fd >= 0)
		close(lock_fd);
	settings_release(&d.st);
	return rc;
}
