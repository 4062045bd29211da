/*
 * s3 — the S3 REST door. The daemon hands it every HTTP request that is not
 * for the admin API; it answers at "/api/v1/s3/..." (Alluxio's prefix) and
 * at "/..." (path style), authenticates, routes and renders S3 XML.
 */
#ifndef S3_S3_H
#define S3_S3_H

#include <stdint.h>

#include "s3/s3_auth.h"
#include "src/atrium.h"

struct mg_connection;

struct s3_options {
	enum s3_auth_mode auth;
	const char *region;          /* reported by GetBucketLocation */
	uint64_t max_put_size;       /* largest single PUT (5 GiB) */
};

struct s3_server;

/* idents may be NULL in simple mode. Neither core nor idents is owned. */
struct s3_server *s3_server_new(struct atr_core *core, const struct atr_idents *idents,
				const struct s3_options *opt);
void s3_server_free(struct s3_server *s);
/* Handles one request on conn; returns the HTTP status sent. */
int s3_handle(struct s3_server *s, struct mg_connection *conn);

#endif
