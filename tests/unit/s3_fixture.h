/*
 * s3_fixture.h — the S3 door over a temporary core, driven request by
 * request through s3_handle on a fake connection (fake_conn.h): what the
 * dispatcher and the handlers do, without a server or a socket. The door
 * runs in simple mode (an unsigned request acts as the daemon's user), and
 * the observe hook records what each request was taken for (operation,
 * bucket, key, error code). Header-only; include after cmocka.h, once per
 * test binary (it brings fake_conn.h's civetweb calls).
 */
#ifndef TESTS_UNIT_S3_FIXTURE_H
#define TESTS_UNIT_S3_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3/s3_int.h"
#include "tests/unit/core_fixture.h"
#include "tests/unit/fake_conn.h"

/* What the observe hook saw of the last request. */
struct s3_seen {
	char op[64], log_op[64], bucket[ATR_BUCKET_MAX + 1], key[4 * ATR_KEY_MAX + 1];
	char err[64];  /* the S3 error code sent, "" for none */
	int status;
	int calls;
};

struct s3_fixture {
	struct fixture *core;
	struct s3_server *srv;
	struct mg_connection conn; /* the last request's, response included */
	struct s3_seen seen;
};

static const struct atr_user s3_fixture_owner = { .name = "root", .superuser = 1 };

static inline void s3_fixture_observe(void *arg, const struct s3_done *d)
{
	struct s3_seen *s = arg;
	snprintf(s->op, sizeof(s->op), "%s", d->op);
	snprintf(s->log_op, sizeof(s->log_op), "%s", d->line->operation);
	snprintf(s->bucket, sizeof(s->bucket), "%s", d->line->bucket ? d->line->bucket : "");
	snprintf(s->key, sizeof(s->key), "%s", d->line->key ? d->line->key : "");
	snprintf(s->err, sizeof(s->err), "%s", d->line->error_code ? d->line->error_code : "");
	s->status = d->status;
	s->calls++;
}

/* A core with bucket "bkt", and the door over it; domain (may be NULL)
 * turns on virtual-hosted style. */
static inline struct s3_fixture *s3_fixture_new(const char *domain, uint64_t max_put_size)
{
	struct s3_fixture *x = calloc(1, sizeof(*x));
	assert_non_null(x);
	x->core = fixture_new(4096, &s3_fixture_owner);
	struct s3_options opt = {
		.auth = S3_AUTH_SIMPLE, .region = "us-east-1", .max_put_size = max_put_size,
		.min_part_size = 5 << 20, .domain = domain,
		.observe = s3_fixture_observe, .observe_arg = &x->seen,
	};
	x->srv = s3_server_new(x->core->c, NULL, &opt);
	assert_non_null(x->srv);
	fake_conn_init(&x->conn, "GET", "/", NULL, NULL, 0);
	return x;
}

static inline void s3_fixture_free(struct s3_fixture *x)
{
	void *state = x->core;
	s3_server_free(x->srv);
	fake_conn_release(&x->conn);
	fixture_teardown(&state);
	free(x);
}

/* One request (fake_conn_init's arguments); returns the status sent. */
static inline int s3_call(struct s3_fixture *x, const char *method, const char *target,
			  const char *const *hdrs, const char *body, size_t len)
{
	fake_conn_release(&x->conn);
	fake_conn_init(&x->conn, method, target, hdrs, body, len);
	memset(&x->seen, 0, sizeof(x->seen));
	int status = s3_handle(x->srv, &x->conn);
	assert_int_equal(x->seen.calls, 1);
	assert_int_equal(x->seen.status, status);
	assert_int_equal(fake_status(&x->conn), status);
	return status;
}

/* A header of the last response, "" when absent (valid until the next). */
static inline const char *s3_fixture_header(struct s3_fixture *x, const char *name)
{
	static char v[1024];
	return fake_header(&x->conn, name, v, sizeof(v)) ? v : "";
}

#endif
