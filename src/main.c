/*
 * atriumd — the daemon: settings, the core, the S3 door and the admin API
 * on one civetweb server. The only file that knows every front end.
 */
#include <civetweb.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "s3/s3.h"
#include "src/atrium.h"
#include "src/settings.h"

struct daemon {
	struct atr_core *core;
	struct atr_idents *idents;
	struct s3_server *s3;
};

static int send_json(struct mg_connection *conn, int status, const char *reason, const char *body)
{
	mg_printf(conn,
		  "HTTP/1.1 %d %s\r\nServer: Atrium\r\nContent-Type: application/json\r\n"
		  "Content-Length: %zu\r\n\r\n%s",
		  status, reason, strlen(body), body);
	return status;
}

/* /api/v1/<x> other than /api/v1/s3: the admin API. */
static int is_admin_path(const char *path)
{
	if (strncmp(path, "/api/v1/", 8))
		return 0;
	const char *rest = path + 8;
	return !(!strncmp(rest, "s3", 2) && (rest[2] == '\0' || rest[2] == '/'));
}

static int begin_request(struct mg_connection *conn)
{
	struct daemon *d = mg_get_user_data(mg_get_context(conn));
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *path = ri->local_uri_raw ? ri->local_uri_raw : "/";
	if (is_admin_path(path)) {
		if (!strcmp(path, "/api/v1/health") &&
		    (!strcmp(ri->request_method, "GET") || !strcmp(ri->request_method, "HEAD")))
			return send_json(conn, 200, "OK", "{\"status\":\"ok\"}\n");
		return send_json(conn, 404, "Not Found", "{\"error\":\"no such admin endpoint\"}\n");
	}
	return s3_handle(d->s3, conn);
}

static int log_message(const struct mg_connection *conn, const char *message)
{
	LOG(LOG_WARN, "http: %s", message);
	return 1;
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
	struct mg_context *ctx = NULL;
	int rc = settings_parse(&st, argc, argv);
	if (rc)
		return rc > 0 ? 0 : 2;
	log_set_level((enum log_level)log_level_parse(st.log_level));

	/* Block the stop signals everywhere; main waits for them below. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct atr_core_config cc = {
		.data_dir = st.data, .cache_mem_bytes = st.cache_mem, .cache_block_size = 1 << 20,
	};
	rc = 1;
	if (atr_core_open(&cc, &d.core)) {
		LOG(LOG_ERROR, "cannot open the data directory %s", st.data);
		goto out;
	}
	if (load_idents(&st, &d))
		goto out;
	struct s3_options so = {
		.auth = !strcmp(st.auth, "simple") ? S3_AUTH_SIMPLE : S3_AUTH_SIGV4,
		.region = st.region,
		.max_put_size = st.max_put_size,
	};
	if (!(d.s3 = s3_server_new(d.core, d.idents, &so)))
		goto out;

	char ports[300], threads[32], timeout[32];
	snprintf(ports, sizeof(ports), "%s:%ld", st.bind, st.port);
	snprintf(threads, sizeof(threads), "%ld", st.threads);
	snprintf(timeout, sizeof(timeout), "%ld", st.request_timeout_ms);
	const char *options[] = {
		"listening_ports", ports,
		"num_threads", threads,
		"enable_keep_alive", "yes",
		"keep_alive_timeout_ms", timeout,
		"request_timeout_ms", timeout,
		"decode_url", "no",          /* we decode, so SigV4 sees the path as sent */
		"tcp_nodelay", "1",
		"max_request_size", "65536",
		"listen_backlog", "1024",
		"connection_queue", "1024",
		NULL,
	};
	struct mg_callbacks cb = { .begin_request = begin_request, .log_message = log_message };
	mg_init_library(0);
	ctx = mg_start(&cb, &d, options);
	if (!ctx) {
		LOG(LOG_ERROR, "cannot listen on %s", ports);
		goto out;
	}
	LOG(LOG_INFO, "atriumd ready: S3 on http://%s/ and /api/v1/s3, data in %s, auth %s",
	    ports, st.data, st.auth);

	int sig = 0;
	sigwait(&stop, &sig);
	LOG(LOG_INFO, "signal %d: stopping", sig);
	rc = 0;
out:
	if (ctx)
		mg_stop(ctx);
	mg_exit_library();
	s3_server_free(d.s3);
	atr_idents_free(d.idents);
	atr_core_close(d.core);
	settings_release(&st);
	return rc;
}
