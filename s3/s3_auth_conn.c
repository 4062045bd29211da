/*
 * s3_auth_conn — authenticating a civetweb request with the S3 door's
 * rules, for the daemon's other HTTP endpoints (the admin API): the same
 * mode, the same users, SigV4 header or presigned query. Never SigV2: it
 * signs neither the query, where the admin API's arguments are (path=,
 * mode=, owner=...), nor a body hash, so a captured request could be
 * replayed for 15 minutes with any arguments.
 */
#include <civetweb.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "s3/s3_int.h"
#include "common/banned.h"

int s3_secret_lookup(void *arg, const char *access_key, char *secret, size_t secret_size,
		     char *user, size_t user_size)
{
	struct atr_ident id;
	if (atr_idents_find(arg, access_key, &id))
		return -1;
	snprintf(secret, secret_size, "%s", id.secret);
	snprintf(user, user_size, "%s", id.user);
	explicit_bzero(&id, sizeof(id));
	return 0;
}

int s3_auth_headers(const struct mg_request_info *ri, struct s3_hdr *hdrs)
{
	int n = ri->num_headers < MG_MAX_HEADERS ? ri->num_headers : MG_MAX_HEADERS;
	for (int i = 0; i < n; i++) {
		hdrs[i].name = ri->http_headers[i].name;
		hdrs[i].value = ri->http_headers[i].value;
	}
	return n;
}

enum s3_err s3_authenticate_conn(struct s3_server *s, struct mg_connection *conn,
				 char user[ATR_USER_MAX + 1])
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct s3_hdr hdrs[MG_MAX_HEADERS];
	struct s3_auth auth;
	int n = s3_auth_headers(ri, hdrs);
	const char *raw = ri->local_uri_raw ? ri->local_uri_raw : ri->local_uri;
	struct s3_auth_req ar = {
		.method = ri->request_method, .path = raw ? raw : "/", .query = ri->query_string,
		.hdrs = hdrs, .nhdrs = n, .now = time(NULL),
		.path_decoded = 0, /* decode_url=no: the path as sent */
		.v4_only = 1,
	};
	enum s3_err e = s3_auth_check(s->opt.auth, &ar, s3_secret_lookup, (void *)s->idents, &auth);
	/* The admin API has no anonymous access: an unsigned request is the
	 * daemon's user in simple mode (Alluxio's trusted mode) and refused
	 * otherwise. */
	if (e == S3_ERR_OK && auth.anonymous && s->opt.auth != S3_AUTH_SIMPLE)
		e = S3_ERR_ACCESS_DENIED;
	if (e == S3_ERR_OK)
		snprintf(user, ATR_USER_MAX + 1, "%s",
			 auth.anonymous ? atr_core_daemon_user(s->core) : auth.user);
	explicit_bzero(&auth, sizeof(auth)); /* the signing key */
	return e;
}
