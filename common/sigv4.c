#include "common/sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/timefmt.h"
#include "common/uri.h"
#include "common/banned.h"

#define SECRET_MAX 256

struct qp {
	char *name, *value; /* encoded */
};

static int cmp_qp(const void *a, const void *b)
{
	const struct qp *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

int sigv4_canonical_query(const char *query, struct buf *out)
{
	struct uri_query q;
	struct qp v[URI_MAX_PARAMS];
	int n = 0, rc = -1;
	if (uri_query_parse(&q, query))
		return -1;
	for (int i = 0; i < q.n; i++) {
		struct buf name = BUF_INIT(16 * 1024), value = BUF_INIT(16 * 1024);
		if (uri_encode(&name, q.p[i].name, strlen(q.p[i].name), 0) ||
		    uri_encode(&value, q.p[i].value, strlen(q.p[i].value), 0)) {
			buf_release(&name);
			buf_release(&value);
			goto out;
		}
		v[n].name = buf_detach(&name);
		v[n].value = buf_detach(&value);
		n++;
	}
	if (n > 1)
		qsort(v, (size_t)n, sizeof(v[0]), cmp_qp);
	rc = 0;
	for (int i = 0; i < n && !rc; i++)
		rc = buf_addf(out, "%s%s=%s", i ? "&" : "", v[i].name, v[i].value);
out:
	for (int i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	uri_query_release(&q);
	return rc;
}

int sigv4_sign(const struct sigv4_req *r, char amz_date[SIGV4_DATE_LEN], struct buf *authorization)
{
	char date[TIMEFMT_LEN], date8[9], scope[256], hex[2 * SHA256_LEN + 1];
	char key[4 + SECRET_MAX];
	unsigned char k1[SHA256_LEN], k2[SHA256_LEN], sum[SHA256_LEN];
	struct buf creq = BUF_INIT(64 * 1024), sts = BUF_INIT(64 * 1024);
	int rc = -1;

	time_fmt_amz(r->now, date);
	if (strlen(date) != SIGV4_DATE_LEN - 1)
		return -1;
	memcpy(amz_date, date, SIGV4_DATE_LEN);
	memcpy(date8, date, 8);
	date8[8] = '\0';
	snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", date8, r->region, r->service);

	/* Canonical request: the signed headers sorted by name. */
	const char *names[4] = { "host", "x-amz-content-sha256", "x-amz-date", NULL };
	const char *values[4] = { r->host, r->payload_sha256, date, NULL };
	size_t nh = 3;
	if (r->amz_name) {
		size_t at = nh;
		while (at > 0 && strcmp(names[at - 1], r->amz_name) > 0) {
			names[at] = names[at - 1];
			values[at] = values[at - 1];
			at--;
		}
		names[at] = r->amz_name;
		values[at] = r->amz_value ? r->amz_value : "";
		nh++;
	}
	char signed_names[128] = "";
	for (size_t i = 0; i < nh; i++)
		snprintf(signed_names + strlen(signed_names), sizeof(signed_names) - strlen(signed_names),
			 "%s%s", i ? ";" : "", names[i]);
	if (buf_addf(&creq, "%s\n", r->method) ||
	    uri_encode(&creq, r->path, strlen(r->path), 1) || buf_addch(&creq, '\n') ||
	    sigv4_canonical_query(r->query, &creq) || buf_addch(&creq, '\n'))
		goto out;
	for (size_t i = 0; i < nh; i++)
		if (buf_addf(&creq, "%s:%s\n", names[i], values[i]))
			goto out;
	if (buf_addf(&creq, "\n%s\n%s", signed_names, r->payload_sha256))
		goto out;
	sha256(creq.ptr, creq.len, sum);
	hex_encode(sum, SHA256_LEN, hex);
	if (buf_addf(&sts, "AWS4-HMAC-SHA256\n%s\n%s\n%s", date, scope, hex))
		goto out;

	/* Signing key: HMAC chain from "AWS4" + secret. */
	size_t n = strnlen(r->secret, SECRET_MAX);
	memcpy(key, "AWS4", 4);
	memcpy(key + 4, r->secret, n);
	hmac_sha256(key, 4 + n, date8, 8, k1);
	hmac_sha256(k1, SHA256_LEN, r->region, strlen(r->region), k2);
	hmac_sha256(k2, SHA256_LEN, r->service, strlen(r->service), k1);
	hmac_sha256(k1, SHA256_LEN, "aws4_request", 12, k2);
	hmac_sha256(k2, SHA256_LEN, sts.ptr, sts.len, sum);
	hex_encode(sum, SHA256_LEN, hex);
	rc = buf_addf(authorization,
		      "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
		      r->access_key, scope, signed_names, hex);
out:
	explicit_bzero(key, sizeof(key));
	explicit_bzero(k1, sizeof(k1));
	explicit_bzero(k2, sizeof(k2));
	buf_release(&creq);
	buf_release(&sts);
	return rc;
}
