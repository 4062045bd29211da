/*
 * s3_auth — SigV4 and SigV2 (header and presigned query each) and
 * Alluxio's simple mode.
 * See s3_auth.h for the rules; this file only adds the how.
 */
#include "s3/s3_auth.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/hash.h"
#include "common/timefmt.h"
#include "common/uri.h"
#include "src/atrium.h"
#include "common/banned.h"

#define SIGV4_ALGO "AWS4-HMAC-SHA256"
#define SIGV4_TERMINATOR "aws4_request"
#define MAX_SKEW 900            /* seconds: S3's 15 minutes */
#define REGION_MAX 64
#define SIGNED_HEADERS_MAX 64   /* civetweb's MG_MAX_HEADERS */
/* The canonical request holds the path, query and signed headers, each
 * already bounded by civetweb's request size; this is far above that. */
#define CANON_MAX (1u << 20)

/* How a request presents credentials. */
enum auth_kind {
	AUTH_NONE,
	AUTH_V4_HEADER,
	AUTH_V4_QUERY,
	AUTH_V2_HEADER,
	AUTH_V2_QUERY,
	AUTH_UNKNOWN,   /* an Authorization scheme we do not speak */
};

/* A SigV4 request as parsed from the header or the query. */
struct sigv4 {
	char access_key[sizeof(((struct s3_auth *)0)->access_key)];
	char date8[9];
	char region[REGION_MAX + 1];
	const char *signed_headers; /* "host;range;...", not NUL-terminated */
	size_t signed_headers_len;
	unsigned char signature[SHA256_LEN];
	char amz_date[17];
	time_t when;
	const char *payload_hash;   /* last line of the canonical request */
	int presigned;
	enum s3_err malformed;      /* AUTH_MALFORMED or AUTH_QUERY_MALFORMED */
};

static const char *hdr_get(const struct s3_auth_req *req, const char *name)
{
	for (int i = 0; i < req->nhdrs; i++)
		if (!strcasecmp(req->hdrs[i].name, name))
			return req->hdrs[i].value;
	return NULL;
}

static int has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static int is_digits(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return len > 0;
}

/* Copies s[0..len) into dst (size bytes) if it fits with its NUL. */
static int copy_str(char *dst, size_t size, const char *s, size_t len)
{
	if (len >= size)
		return -1;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

void s3_sigv4_signing_key(const char *secret, const char *date8, const char *region,
			  const char *service, unsigned char out[32])
{
	char key[4 + S3_SECRET_MAX];
	unsigned char k1[SHA256_LEN], k2[SHA256_LEN];
	size_t n = strnlen(secret, S3_SECRET_MAX);

	memcpy(key, "AWS4", 4);
	memcpy(key + 4, secret, n);
	hmac_sha256(key, 4 + n, date8, strlen(date8), k1);
	hmac_sha256(k1, sizeof(k1), region, strlen(region), k2);
	hmac_sha256(k2, sizeof(k2), service, strlen(service), k1);
	hmac_sha256(k1, sizeof(k1), SIGV4_TERMINATOR, strlen(SIGV4_TERMINATOR), out);
	explicit_bzero(key, sizeof(key));
	explicit_bzero(k1, sizeof(k1));
	explicit_bzero(k2, sizeof(k2));
}

/* x-amz-content-sha256 -> payload mode. */
static enum s3_err payload_parse(const char *v, struct s3_auth *out)
{
	static const struct {
		const char *value;
		enum s3_payload mode;
	} modes[] = {
		{ "UNSIGNED-PAYLOAD", S3_PAYLOAD_UNSIGNED },
		{ "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", S3_PAYLOAD_STREAMING_SIGNED },
		{ "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", S3_PAYLOAD_STREAMING_SIGNED_TRAILER },
		{ "STREAMING-UNSIGNED-PAYLOAD-TRAILER", S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER },
	};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (!strcmp(v, modes[i].value)) {
			out->payload = modes[i].mode;
			return S3_ERR_OK;
		}
	}
	if (hex_decode(v, strlen(v), out->payload_sha256, SHA256_LEN))
		return S3_ERR_INVALID_ARGUMENT;
	out->payload = S3_PAYLOAD_SHA256;
	return S3_ERR_OK;
}

/* "AK/20130524/us-east-1/s3/aws4_request": any region, service s3. */
static int credential_parse(const char *s, size_t len, struct sigv4 *v)
{
	const char *part[5];
	size_t plen[5];
	const char *p = s, *end = s + len;

	for (int i = 0; i < 5; i++) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *stop = (i < 4) ? slash : end;
		if (!stop || (i == 4 && slash))
			return -1;
		part[i] = p;
		plen[i] = (size_t)(stop - p);
		p = stop + 1;
	}
	if (!plen[0] || copy_str(v->access_key, sizeof(v->access_key), part[0], plen[0]))
		return -1;
	if (plen[1] != 8 || !is_digits(part[1], 8))
		return -1;
	memcpy(v->date8, part[1], 8);
	v->date8[8] = '\0';
	if (!plen[2] || copy_str(v->region, sizeof(v->region), part[2], plen[2]))
		return -1;
	for (size_t i = 0; i < plen[2]; i++)
		if (part[2][i] <= ' ' || part[2][i] > '~')
			return -1;
	if (plen[3] != 2 || memcmp(part[3], "s3", 2))
		return -1;
	if (plen[4] != strlen(SIGV4_TERMINATOR) || memcmp(part[4], SIGV4_TERMINATOR, plen[4]))
		return -1;
	return 0;
}

/* Lower-case header names separated by ';', "host" among them. */
static int signed_headers_valid(const char *s, size_t len)
{
	int n = 0, host = 0;
	const char *p = s, *end = s + len;

	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *stop = semi ? semi : end;
		if (stop == p || ++n > SIGNED_HEADERS_MAX)
			return 0;
		for (const char *c = p; c < stop; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
			      *c == '-' || *c == '_' || *c == '.'))
				return 0;
		if (stop - p == 4 && !memcmp(p, "host", 4))
			host = 1;
		if (!semi)
			break;
		p = semi + 1;
		if (p == end)
			return 0; /* trailing ';' */
	}
	return host;
}

/*
 * "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." —
 * parameters separated by ',' and optional spaces, each exactly once.
 */
static int v4_header_parse(const char *h, struct sigv4 *v)
{
	const char *p;
	int seen = 0;

	if (!has_prefix(h, SIGV4_ALGO " "))
		return -1;
	for (p = h + strlen(SIGV4_ALGO);;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		size_t len = strcspn(p, ",");
		const char *eq = memchr(p, '=', len);
		const char *val, *next = p[len] ? p + len + 1 : p + len;
		size_t vlen;
		int bit;

		if (!eq)
			return -1;
		val = eq + 1;
		vlen = (size_t)(p + len - val);
		while (vlen && val[vlen - 1] == ' ')
			vlen--;
		if (eq - p == 10 && !memcmp(p, "Credential", 10)) {
			bit = 1;
			if (credential_parse(val, vlen, v))
				return -1;
		} else if (eq - p == 13 && !memcmp(p, "SignedHeaders", 13)) {
			bit = 2;
			v->signed_headers = val;
			v->signed_headers_len = vlen;
		} else if (eq - p == 9 && !memcmp(p, "Signature", 9)) {
			bit = 4;
			if (hex_decode(val, vlen, v->signature, SHA256_LEN))
				return -1;
		} else {
			return -1;
		}
		if (seen & bit)
			return -1;
		seen |= bit;
		if (p[len] == ',' && !*next)
			return -1; /* trailing ',' */
		p = next;
	}
	if (seen != 7 || !signed_headers_valid(v->signed_headers, v->signed_headers_len))
		return -1;
	return 0;
}

/* Appends the trimmed value with inner runs of blanks folded to one space. */
static int canon_value(struct buf *b, const char *v)
{
	int blank = 0, any = 0;

	for (; *v; v++) {
		if (*v == ' ' || *v == '\t') {
			blank = 1;
			continue;
		}
		if ((blank && any && buf_addch(b, ' ')) || buf_addch(b, *v))
			return -1;
		blank = 0;
		any = 1;
	}
	return 0;
}

static int name_is(const char *name, const char *s, size_t len)
{
	return !strncasecmp(name, s, len) && name[len] == '\0';
}

/* The canonical URI: decoded once, then UriEncoded with '/' kept. S3 does
 * not normalise '.', '..' or '//'. */
static enum s3_err canon_uri(struct buf *b, const struct s3_auth_req *req)
{
	struct buf tmp = BUF_INIT(CANON_MAX);
	const char *path = req->path && *req->path ? req->path : "/";
	enum s3_err e = S3_ERR_OK;
	long n;

	if (req->path_decoded)
		return uri_encode(b, path, strlen(path), 1) ? S3_ERR_INTERNAL : S3_ERR_OK;
	if (buf_addstr(&tmp, path)) {
		e = S3_ERR_INTERNAL;
		goto out;
	}
	n = uri_decode_inplace(tmp.ptr, tmp.len, 0);
	if (n < 0) {
		e = S3_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if (uri_encode(b, tmp.ptr, (size_t)n, 1))
		e = S3_ERR_INTERNAL;
out:
	buf_release(&tmp);
	return e;
}

struct qpair {
	const char *k, *v;
};

static int qpair_cmp(const void *a, const void *b)
{
	const struct qpair *x = a, *y = b;
	int c = strcmp(x->k, y->k);
	return c ? c : strcmp(x->v, y->v);
}

/* The canonical query: every parameter but a presigned X-Amz-Signature,
 * decoded then UriEncoded ('/' too), "k=" when valueless, sorted. Encoded
 * strings hold no NUL (it becomes %00), so strcmp sorts them bytewise. */
static enum s3_err canon_query(struct buf *b, const struct uri_query *q, int presigned)
{
	struct buf enc = BUF_INIT(CANON_MAX);
	size_t off[URI_MAX_PARAMS][2];
	struct qpair pair[URI_MAX_PARAMS];
	enum s3_err e = S3_ERR_INTERNAL;
	int n = 0;

	for (int i = 0; i < q->n; i++) {
		const struct uri_param *p = &q->p[i];
		if (presigned && !strcmp(p->name, "X-Amz-Signature"))
			continue;
		off[n][0] = enc.len;
		if (uri_encode(&enc, p->name, strlen(p->name), 0) || buf_addch(&enc, '\0'))
			goto out;
		off[n][1] = enc.len;
		if (uri_encode(&enc, p->value, strlen(p->value), 0) || buf_addch(&enc, '\0'))
			goto out;
		n++;
	}
	for (int i = 0; i < n; i++) {
		pair[i].k = enc.ptr + off[i][0];
		pair[i].v = enc.ptr + off[i][1];
	}
	qsort(pair, (size_t)n, sizeof(pair[0]), qpair_cmp);
	for (int i = 0; i < n; i++)
		if (buf_addf(b, "%s%s=%s", i ? "&" : "", pair[i].k, pair[i].v))
			goto out;
	e = S3_ERR_OK;
out:
	buf_release(&enc);
	return e;
}

/* "name:v1,v2\n" for each signed header, in SignedHeaders order. */
static enum s3_err canon_headers(struct buf *b, const struct s3_auth_req *req,
				 const struct sigv4 *v)
{
	const char *p = v->signed_headers, *end = p + v->signed_headers_len;

	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		size_t len = (size_t)((semi ? semi : end) - p);
		int found = 0;

		if (buf_add(b, p, len) || buf_addch(b, ':'))
			return S3_ERR_INTERNAL;
		for (int i = 0; i < req->nhdrs; i++) {
			if (!name_is(req->hdrs[i].name, p, len))
				continue;
			if ((found && buf_addch(b, ',')) || canon_value(b, req->hdrs[i].value))
				return S3_ERR_INTERNAL;
			found = 1;
		}
		if (!found)
			return v->malformed;
		if (buf_addch(b, '\n'))
			return S3_ERR_INTERNAL;
		p += len + 1;
	}
	return S3_ERR_OK;
}

/* S3 refuses x-amz-* headers left out of the signature (HeadersNotSigned),
 * except x-amz-content-sha256, whose value the canonical request ends with. */
static int unsigned_amz_header(const struct s3_auth_req *req, const struct sigv4 *v)
{
	for (int i = 0; i < req->nhdrs; i++) {
		const char *name = req->hdrs[i].name;
		const char *p = v->signed_headers, *end = p + v->signed_headers_len;
		int signed_ = 0;

		if (strncasecmp(name, "x-amz-", 6) || !strcasecmp(name, "x-amz-content-sha256"))
			continue;
		while (p < end && !signed_) {
			const char *semi = memchr(p, ';', (size_t)(end - p));
			size_t len = (size_t)((semi ? semi : end) - p);
			signed_ = name_is(name, p, len);
			p += len + 1;
		}
		if (!signed_)
			return 1;
	}
	return 0;
}

static enum s3_err canon_request(struct buf *b, const struct s3_auth_req *req,
				 const struct uri_query *q, const struct sigv4 *v)
{
	enum s3_err e;

	if (buf_addstr(b, req->method) || buf_addch(b, '\n'))
		return S3_ERR_INTERNAL;
	if ((e = canon_uri(b, req)) || buf_addch(b, '\n'))
		return e ? e : S3_ERR_INTERNAL;
	if ((e = canon_query(b, q, v->presigned)) || buf_addch(b, '\n'))
		return e ? e : S3_ERR_INTERNAL;
	if ((e = canon_headers(b, req, v)))
		return e;
	if (buf_addch(b, '\n') || buf_add(b, v->signed_headers, v->signed_headers_len) ||
	    buf_addch(b, '\n') || buf_addstr(b, v->payload_hash))
		return S3_ERR_INTERNAL;
	return S3_ERR_OK;
}

/*
 * The signing key derived from a secret for a day and a region is the same
 * for every request of that key that day: four HMACs saved per request,
 * as AWS's own SDKs keep it. A few recent derivations are kept, matched on
 * the whole secret (so a rotated secret never meets its old key) in
 * constant time; an entry pushed out is wiped.
 */
#define KEY_CACHE 16

static struct signing_key_cache {
	pthread_mutex_t lock;
	unsigned next;
	struct {
		char secret[S3_SECRET_MAX + 1], date8[9], region[REGION_MAX + 1];
		unsigned char key[SHA256_LEN];
	} e[KEY_CACHE];
} key_cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void signing_key(const char secret[S3_SECRET_MAX + 1], const char *date8,
			const char *region, unsigned char out[SHA256_LEN])
{
	struct signing_key_cache *c = &key_cache;
	pthread_mutex_lock(&c->lock);
	for (unsigned i = 0; i < KEY_CACHE; i++) {
		if (!CRYPTO_memcmp(c->e[i].secret, secret, sizeof(c->e[i].secret)) &&
		    !strcmp(c->e[i].date8, date8) && !strcmp(c->e[i].region, region)) {
			memcpy(out, c->e[i].key, SHA256_LEN);
			pthread_mutex_unlock(&c->lock);
			return;
		}
	}
	pthread_mutex_unlock(&c->lock);
	s3_sigv4_signing_key(secret, date8, region, "s3", out);
	pthread_mutex_lock(&c->lock);
	unsigned i = c->next++ % KEY_CACHE;
	explicit_bzero(&c->e[i], sizeof(c->e[i]));
	memcpy(c->e[i].secret, secret, sizeof(c->e[i].secret));
	snprintf(c->e[i].date8, sizeof(c->e[i].date8), "%s", date8);
	snprintf(c->e[i].region, sizeof(c->e[i].region), "%s", region);
	memcpy(c->e[i].key, out, SHA256_LEN);
	pthread_mutex_unlock(&c->lock);
}

/* Everything after parsing and the time checks: key, canonical request,
 * signature, and the fields chunk signatures chain from. */
static enum s3_err sigv4_verify(const struct s3_auth_req *req, const struct uri_query *q,
				const struct sigv4 *v, s3_secret_fn secret_fn, void *arg,
				struct s3_auth *out)
{
	struct buf canon = BUF_INIT(CANON_MAX);
	char secret[S3_SECRET_MAX + 1] = "";
	char sts[512];
	unsigned char digest[SHA256_LEN], mac[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1];
	enum s3_err e;
	int n;

	if (secret_fn(arg, v->access_key, secret, sizeof(secret), out->user, sizeof(out->user))) {
		e = S3_ERR_INVALID_ACCESS_KEY;
		goto out;
	}
	secret[sizeof(secret) - 1] = '\0';
	out->user[sizeof(out->user) - 1] = '\0';
	if (unsigned_amz_header(req, v)) {
		e = S3_ERR_ACCESS_DENIED;
		goto out;
	}
	if ((e = canon_request(&canon, req, q, v)))
		goto out;
	sha256(canon.ptr, canon.len, digest);
	hex_encode(digest, SHA256_LEN, hex);
	n = snprintf(out->scope, sizeof(out->scope), "%s/%s/s3/%s", v->date8, v->region,
		     SIGV4_TERMINATOR);
	if (n < 0 || (size_t)n >= sizeof(out->scope)) {
		e = S3_ERR_INTERNAL;
		goto out;
	}
	n = snprintf(sts, sizeof(sts), "%s\n%s\n%s\n%s", SIGV4_ALGO, v->amz_date, out->scope, hex);
	if (n < 0 || (size_t)n >= sizeof(sts)) {
		e = S3_ERR_INTERNAL;
		goto out;
	}
	signing_key(secret, v->date8, v->region, out->signing_key);
	hmac_sha256(out->signing_key, SHA256_LEN, sts, (size_t)n, mac);
	if (!secure_equal(mac, v->signature, SHA256_LEN)) {
		e = S3_ERR_SIGNATURE_MISMATCH;
		goto out;
	}
	memcpy(out->access_key, v->access_key, sizeof(out->access_key));
	memcpy(out->amz_date, v->amz_date, sizeof(out->amz_date));
	hex_encode(mac, SHA256_LEN, out->seed_signature);
	out->presigned = v->presigned;
	out->verify_chunks = out->payload == S3_PAYLOAD_STREAMING_SIGNED ||
			     out->payload == S3_PAYLOAD_STREAMING_SIGNED_TRAILER;
out:
	explicit_bzero(secret, sizeof(secret));
	buf_release(&canon);
	return e;
}

static enum s3_err sigv4_header_check(const struct s3_auth_req *req, const char *authz,
				      const struct uri_query *q, s3_secret_fn secret_fn,
				      void *arg, struct s3_auth *out)
{
	struct sigv4 v = { .malformed = S3_ERR_AUTH_MALFORMED };
	const char *date = hdr_get(req, "x-amz-date");
	enum s3_err e;

	if (v4_header_parse(authz, &v))
		return S3_ERR_AUTH_MALFORMED;
	if (date) {
		if (time_parse_amz(date, &v.when))
			return S3_ERR_ACCESS_DENIED;
		memcpy(v.amz_date, date, 16);
	} else {
		char fmt[TIMEFMT_LEN];
		date = hdr_get(req, "date");
		if (!date || time_parse_http(date, &v.when))
			return S3_ERR_ACCESS_DENIED;
		time_fmt_amz(v.when, fmt);
		memcpy(v.amz_date, fmt, 16);
	}
	v.amz_date[16] = '\0';
	if (memcmp(v.date8, v.amz_date, 8))
		return S3_ERR_AUTH_MALFORMED;
	/* Required, as S3 requires it: without it the signature covers no
	 * body at all (curl before 8 signs the hash of an empty payload
	 * whatever it uploads), so a captured request could be replayed
	 * with any body. Presigned URLs are UNSIGNED-PAYLOAD by definition. */
	v.payload_hash = hdr_get(req, "x-amz-content-sha256");
	if (!v.payload_hash)
		return S3_ERR_MISSING_CONTENT_SHA256;
	if ((e = payload_parse(v.payload_hash, out)))
		return e;
	if (req->now - v.when > MAX_SKEW || v.when - req->now > MAX_SKEW)
		return S3_ERR_TIME_SKEWED;
	return sigv4_verify(req, q, &v, secret_fn, arg, out);
}

static enum s3_err sigv4_query_check(const struct s3_auth_req *req, const struct uri_query *q,
				     s3_secret_fn secret_fn, void *arg, struct s3_auth *out)
{
	struct sigv4 v = { .presigned = 1, .malformed = S3_ERR_AUTH_QUERY_MALFORMED };
	const struct uri_param *algo = uri_query_get(q, "X-Amz-Algorithm");
	const struct uri_param *cred = uri_query_get(q, "X-Amz-Credential");
	const struct uri_param *date = uri_query_get(q, "X-Amz-Date");
	const struct uri_param *expires = uri_query_get(q, "X-Amz-Expires");
	const struct uri_param *sh = uri_query_get(q, "X-Amz-SignedHeaders");
	const struct uri_param *sig = uri_query_get(q, "X-Amz-Signature");
	time_t secs = 0;

	if (!algo || !cred || !date || !expires || !sh || !sig ||
	    strcmp(algo->value, SIGV4_ALGO) ||
	    credential_parse(cred->value, strlen(cred->value), &v) ||
	    time_parse_amz(date->value, &v.when) || memcmp(v.date8, date->value, 8) ||
	    !signed_headers_valid(sh->value, strlen(sh->value)) ||
	    hex_decode(sig->value, strlen(sig->value), v.signature, SHA256_LEN))
		return S3_ERR_AUTH_QUERY_MALFORMED;
	if (strlen(expires->value) > 6 || !is_digits(expires->value, strlen(expires->value)))
		return S3_ERR_AUTH_QUERY_MALFORMED;
	for (const char *p = expires->value; *p; p++)
		secs = secs * 10 + (*p - '0');
	if (secs > S3_PRESIGN_MAX)
		return S3_ERR_AUTH_QUERY_MALFORMED;
	memcpy(v.amz_date, date->value, 17);
	v.signed_headers = sh->value;
	v.signed_headers_len = strlen(sh->value);
	/* A presigned URL is valid from X-Amz-Date (give or take the usual
	 * skew) until X-Amz-Date + X-Amz-Expires. */
	if (v.when - req->now > MAX_SKEW)
		return S3_ERR_TIME_SKEWED;
	/* X-Amz-Expires=0 is a URL that expired as it was made: AWS's 403
	 * "Request has expired", not a malformed query. */
	if (secs == 0 || req->now - v.when > secs)
		return S3_ERR_EXPIRED_REQUEST;
	v.payload_hash = "UNSIGNED-PAYLOAD";
	out->payload = S3_PAYLOAD_UNSIGNED;
	return sigv4_verify(req, q, &v, secret_fn, arg, out);
}

/* ---- Signature V2 ----
 *
 * StringToSign = Method \n Content-MD5 \n Content-Type \n Date \n
 *                CanonicalizedAmzHeaders CanonicalizedResource
 * MAC = base64(HMAC-SHA1(secret, StringToSign)). Date is empty when
 * x-amz-date is sent (it then signs among the x-amz-* headers), and is the
 * Expires value of a presigned URL. The resource is the path exactly as
 * sent (percent-encoded as the client encoded it, with the /api/v1/s3 prefix
 * when the client used it), then the sub-resources below, sorted by name,
 * with their decoded values.
 */

/* Sub-resources that belong to the CanonicalizedResource: AWS's list plus
 * what botocore and boto 2 sign (response-* overrides, delete, tagging...). */
static const char *const v2_subresources[] = {
	"accelerate", "acl", "analytics", "cors", "delete", "inventory", "lifecycle",
	"location", "logging", "metrics", "notification", "object-lock", "partNumber",
	"policy", "replication", "requestPayment", "response-cache-control",
	"response-content-disposition", "response-content-encoding",
	"response-content-language", "response-content-type", "response-expires",
	"restore", "select", "select-type", "tagging", "torrent", "uploadId", "uploads",
	"versionId", "versioning", "versions", "website",
};

static int v2_is_subresource(const char *name)
{
	for (size_t i = 0; i < sizeof(v2_subresources) / sizeof(v2_subresources[0]); i++)
		if (!strcmp(v2_subresources[i], name))
			return 1;
	return 0;
}

/* Appends v with leading and trailing blanks trimmed (NULL appends nothing). */
static int add_trimmed(struct buf *b, const char *v)
{
	size_t n;
	if (!v)
		return 0;
	v += strspn(v, " \t");
	n = strlen(v);
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	return buf_add(b, v, n);
}

/* Sorts by name, case-insensitively; a repeated name keeps request order. */
static int amz_hdr_cmp(const void *a, const void *b)
{
	const struct s3_hdr *x = *(const struct s3_hdr *const *)a;
	const struct s3_hdr *y = *(const struct s3_hdr *const *)b;
	int c = strcasecmp(x->name, y->name);
	return c ? c : (x < y ? -1 : x > y);
}

/* CanonicalizedAmzHeaders: "name:v1,v2\n" per x-amz-* name, lower-cased,
 * sorted, values trimmed. skip_date leaves x-amz-date out. A presigned
 * URL's x-amz-* query parameters count as headers (q; NULL for a signed
 * header): SigV2 presigners (botocore's) move the x-amz-* headers they
 * signed into the query, where S3 reads them. */
static int v2_amz_headers(struct buf *b, const struct s3_auth_req *req,
			  const struct uri_query *q, int skip_date)
{
	const struct s3_hdr *h[SIGNED_HEADERS_MAX];
	struct s3_hdr qh[SIGNED_HEADERS_MAX];
	int n = 0, nq = 0;

	for (int i = 0; i < req->nhdrs; i++) {
		if (strncasecmp(req->hdrs[i].name, "x-amz-", 6) ||
		    (skip_date && !strcasecmp(req->hdrs[i].name, "x-amz-date")))
			continue;
		if (n == SIGNED_HEADERS_MAX)
			return -1;
		h[n++] = &req->hdrs[i];
	}
	for (int i = 0; q && i < q->n; i++) {
		if (strncasecmp(q->p[i].name, "x-amz-", 6))
			continue;
		if (n == SIGNED_HEADERS_MAX)
			return -1;
		qh[nq] = (struct s3_hdr){ q->p[i].name, q->p[i].value };
		h[n++] = &qh[nq++];
	}
	qsort(h, (size_t)n, sizeof(h[0]), amz_hdr_cmp);
	for (int i = 0; i < n; i++) {
		if (i > 0 && !strcasecmp(h[i - 1]->name, h[i]->name)) {
			if (buf_addch(b, ','))
				return -1;
		} else {
			if (i > 0 && buf_addch(b, '\n'))
				return -1;
			for (const char *c = h[i]->name; *c; c++)
				if (buf_addch(b, (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c)))
					return -1;
			if (buf_addch(b, ':'))
				return -1;
		}
		if (add_trimmed(b, h[i]->value))
			return -1;
	}
	return n ? buf_addch(b, '\n') : 0;
}

static int v2_resource(struct buf *b, const struct s3_auth_req *req, const struct uri_query *q,
		       const char *path, int slash)
{
	const struct uri_param *sub[URI_MAX_PARAMS];
	int n = 0;

	if (req->path_decoded ? uri_encode(b, path, strlen(path), 1) : buf_addstr(b, path))
		return -1;
	if (slash && buf_addch(b, '/'))
		return -1;
	for (int i = 0; i < q->n; i++)
		if (v2_is_subresource(q->p[i].name))
			sub[n++] = &q->p[i];
	/* Insertion sort: stable, and n is tiny. */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && strcmp(sub[j - 1]->name, sub[j]->name) > 0; j--) {
			const struct uri_param *t = sub[j];
			sub[j] = sub[j - 1];
			sub[j - 1] = t;
		}
	for (int i = 0; i < n; i++)
		if (buf_addch(b, i ? '&' : '?') || buf_addstr(b, sub[i]->name) ||
		    (sub[i]->has_value && (buf_addch(b, '=') || buf_addstr(b, sub[i]->value))))
			return -1;
	return 0;
}

static int v2_string_to_sign(struct buf *b, const struct s3_auth_req *req,
			     const struct uri_query *q, int presigned, const char *date,
			     int skip_amz_date, const char *path, int slash)
{
	if (buf_addstr(b, req->method) || buf_addch(b, '\n') ||
	    add_trimmed(b, hdr_get(req, "content-md5")) || buf_addch(b, '\n') ||
	    add_trimmed(b, hdr_get(req, "content-type")) || buf_addch(b, '\n') ||
	    add_trimmed(b, date) || buf_addch(b, '\n') ||
	    v2_amz_headers(b, req, presigned ? q : NULL, skip_amz_date) ||
	    v2_resource(b, req, q, path, slash))
		return -1;
	return 0;
}

/*
 * Checks sig (NULL: it was not even a signature) over the string to sign
 * with date in the Date position. Some
 * variants are accepted as well, none of which can name another resource
 * or mean another request:
 *  - AWS's own published DELETE example signs the x-amz-date value in the
 *    Date position and leaves it out of the x-amz-* headers; alt_date (the
 *    x-amz-date value, or NULL) accepts that form;
 *  - req->alt_path and req->bucket_path (see s3_auth.h).
 */
static enum s3_err sigv2_verify(const struct s3_auth_req *req, const struct uri_query *q,
				const char *ak, const unsigned char sig[SHA1_LEN],
				const char *date, const char *alt_date, s3_secret_fn secret_fn,
				void *arg, struct s3_auth *out)
{
	struct buf sts = BUF_INIT(CANON_MAX);
	char secret[S3_SECRET_MAX + 1] = "";
	unsigned char mac[SHA1_LEN];
	enum s3_err e = S3_ERR_INTERNAL;

	if (secret_fn(arg, ak, secret, sizeof(secret), out->user, sizeof(out->user))) {
		e = S3_ERR_INVALID_ACCESS_KEY;
		goto out;
	}
	secret[sizeof(secret) - 1] = '\0';
	out->user[sizeof(out->user) - 1] = '\0';
	e = S3_ERR_SIGNATURE_MISMATCH;
	for (int v = 0; v < 8 && sig && e == S3_ERR_SIGNATURE_MISMATCH; v++) {
		int alt = v & 1, slash = (v >> 1) & 1, unprefixed = v >> 2;
		const char *path = unprefixed ? req->alt_path
				   : req->v2_path ? req->v2_path : req->path ? req->path : "/";
		if ((alt && !alt_date) || (slash && !req->bucket_path) || !path)
			continue;
		buf_reset(&sts);
		if (v2_string_to_sign(&sts, req, q, out->presigned, alt ? alt_date : date, alt,
				      *path ? path : "/", slash)) {
			e = S3_ERR_INTERNAL;
			goto out;
		}
		hmac_sha1(secret, strlen(secret), sts.ptr, sts.len, mac);
		if (secure_equal(mac, sig, SHA1_LEN))
			e = S3_ERR_OK;
	}
	if (e)
		goto out;
	snprintf(out->access_key, sizeof(out->access_key), "%s", ak);
	e = S3_ERR_OK;
out:
	explicit_bzero(secret, sizeof(secret));
	buf_release(&sts);
	return e;
}

/* A base64 signature; a '+' sent unescaped in a query reads as ' '. */
static int v2_sig_decode(const char *s, size_t len, unsigned char sig[SHA1_LEN])
{
	char tmp[64];
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len >= sizeof(tmp))
		return -1;
	for (size_t i = 0; i < len; i++)
		tmp[i] = s[i] == ' ' ? '+' : s[i];
	return base64_decode(tmp, len, sig, SHA1_LEN) == SHA1_LEN ? 0 : -1;
}

/* "AWS AccessKeyId:Signature". *sig_ok says whether the signature is
 * base64 of 20 bytes: if not, it simply does not match (after the key). */
static int v2_header_parse(const char *authz, char *ak, size_t ak_size,
			   unsigned char sig[SHA1_LEN], int *sig_ok)
{
	const char *p = authz + 4;
	p += strspn(p, " ");
	const char *colon = strchr(p, ':');
	if (!colon || colon == p || copy_str(ak, ak_size, p, (size_t)(colon - p)))
		return -1;
	*sig_ok = !v2_sig_decode(colon + 1, strlen(colon + 1), sig);
	return 0;
}

static enum s3_err sigv2_header_check(const struct s3_auth_req *req, const char *authz,
				      const struct uri_query *q, s3_secret_fn secret_fn,
				      void *arg, struct s3_auth *out)
{
	char ak[sizeof(out->access_key)];
	unsigned char sig[SHA1_LEN];
	int sig_ok = 0;
	const char *amz_date = hdr_get(req, "x-amz-date");
	const char *date = amz_date ? amz_date : hdr_get(req, "date");
	const char *sha = hdr_get(req, "x-amz-content-sha256");
	time_t when;
	enum s3_err e;

	if (v2_header_parse(authz, ak, sizeof(ak), sig, &sig_ok))
		return S3_ERR_AUTH_V2_MALFORMED;
	if (!date || (time_parse_http(date, &when) && time_parse_amz(date, &when)))
		return S3_ERR_ACCESS_DENIED;
	if (sha && (e = payload_parse(sha, out)))
		return e;
	if (req->now - when > MAX_SKEW || when - req->now > MAX_SKEW)
		return S3_ERR_TIME_SKEWED;
	return sigv2_verify(req, q, ak, sig_ok ? sig : NULL, amz_date ? "" : date, amz_date,
			    secret_fn, arg, out);
}

static enum s3_err sigv2_query_check(const struct s3_auth_req *req, const struct uri_query *q,
				     s3_secret_fn secret_fn, void *arg, struct s3_auth *out)
{
	const struct uri_param *ak = uri_query_get(q, "AWSAccessKeyId");
	const struct uri_param *sig = uri_query_get(q, "Signature");
	const struct uri_param *expires = uri_query_get(q, "Expires");
	unsigned char mac[SHA1_LEN];
	size_t n;
	time_t when = 0;

	if (!ak || !sig || !expires || !*ak->value)
		return S3_ERR_AUTH_V2_QUERY_MALFORMED;
	n = strlen(expires->value);
	if (n > 18 || !is_digits(expires->value, n))
		return S3_ERR_ACCESS_DENIED; /* not seconds since the epoch */
	for (const char *p = expires->value; *p; p++)
		when = when * 10 + (*p - '0');
	if (strlen(ak->value) >= sizeof(out->access_key))
		return S3_ERR_INVALID_ACCESS_KEY;
	if (req->now > when)
		return S3_ERR_EXPIRED_REQUEST;
	/* V2 signs an absolute expiry with no bound of its own: a leaked URL
	 * would work for years. SigV4's week (X-Amz-Expires) applies. */
	if (when - req->now > S3_PRESIGN_MAX)
		return S3_ERR_PRESIGN_V2_TOO_LONG;
	out->payload = S3_PAYLOAD_UNSIGNED;
	out->presigned = 1;
	return sigv2_verify(req, q, ak->value,
			    v2_sig_decode(sig->value, strlen(sig->value), mac) ? NULL : mac,
			    expires->value, NULL, secret_fn, arg, out);
}

/* Printable ASCII, no '/' or ':' (they delimit it), 1..64 bytes. */
/* Simple mode: who the request says it is, unverified. */
static enum s3_err simple_check(const struct s3_auth_req *req, const char *authz,
				const struct uri_query *q, enum auth_kind kind,
				struct s3_auth *out)
{
	const char *sha = hdr_get(req, "x-amz-content-sha256");
	struct sigv4 v = { .presigned = 0 };
	const struct uri_param *p;
	const char *user = NULL;
	size_t len = 0;
	enum s3_err e;

	if (sha && (e = payload_parse(sha, out)))
		return e;
	switch (kind) {
	case AUTH_NONE:
		out->anonymous = 1;
		return S3_ERR_OK;
	case AUTH_V4_HEADER:
		if (v4_header_parse(authz, &v))
			return S3_ERR_AUTH_MALFORMED;
		user = v.access_key;
		len = strlen(user);
		break;
	case AUTH_V2_HEADER:
		user = authz + 4;
		len = strcspn(user, ":");
		break;
	case AUTH_V4_QUERY:
		/* X-Amz-Algorithm alone makes a V4 query: the credential may
		 * be missing (found by fuzz_sigv4: a NULL dereference). */
		p = uri_query_get(q, "X-Amz-Credential");
		if (!p || credential_parse(p->value, strlen(p->value), &v))
			return S3_ERR_AUTH_MALFORMED;
		user = v.access_key;
		len = strlen(user);
		out->presigned = 1;
		break;
	case AUTH_V2_QUERY:
		user = uri_query_get(q, "AWSAccessKeyId")->value;
		len = strlen(user);
		out->presigned = 1;
		break;
	case AUTH_UNKNOWN:
		return S3_ERR_AUTH_MALFORMED;
	}
	if (out->presigned)
		out->payload = S3_PAYLOAD_UNSIGNED;
	/* Alluxio's boto 2 example connects with aws_access_key_id='' and
	 * sends "AWS :<sig>": no user named is the daemon's user, exactly as
	 * with no Authorization at all. */
	if (!len && (kind == AUTH_V2_HEADER || kind == AUTH_V2_QUERY)) {
		out->anonymous = 1;
		return S3_ERR_OK;
	}
	if (!atr_user_name_valid(user, len))
		return S3_ERR_AUTH_MALFORMED;
	memcpy(out->user, user, len);
	memcpy(out->access_key, user, len);
	return S3_ERR_OK;
}

static enum auth_kind header_kind(const char *authz)
{
	if (has_prefix(authz, SIGV4_ALGO " "))
		return AUTH_V4_HEADER;
	if (has_prefix(authz, "AWS "))
		return AUTH_V2_HEADER;
	return AUTH_UNKNOWN;
}

static enum auth_kind query_kind(const struct uri_query *q)
{
	if (uri_query_get(q, "X-Amz-Algorithm"))
		return AUTH_V4_QUERY;
	if (uri_query_get(q, "AWSAccessKeyId") && uri_query_get(q, "Signature"))
		return AUTH_V2_QUERY;
	return AUTH_NONE;
}

enum s3_err s3_auth_check(enum s3_auth_mode mode, const struct s3_auth_req *req,
			  s3_secret_fn secret_fn, void *arg, struct s3_auth *out)
{
	struct uri_query q;
	const char *authz = hdr_get(req, "authorization");
	enum auth_kind kind;
	enum s3_err e;

	memset(out, 0, sizeof(*out));
	if (uri_query_parse(&q, req->query))
		return S3_ERR_INVALID_ARGUMENT;
	/* Simple mode takes the header's word over the query's. */
	kind = authz ? header_kind(authz) : query_kind(&q);
	if (mode == S3_AUTH_SIMPLE) {
		e = simple_check(req, authz, &q, kind, out);
		goto out;
	}
	switch (kind) {
	case AUTH_NONE:
		/* Anonymous: what it may do is what grants to everyone allow. */
		out->anonymous = 1;
		e = S3_ERR_OK;
		break;
	case AUTH_V4_HEADER:
		if (query_kind(&q) != AUTH_NONE) {
			e = S3_ERR_INVALID_ARGUMENT; /* one mechanism only */
			break;
		}
		e = sigv4_header_check(req, authz, &q, secret_fn, arg, out);
		break;
	case AUTH_V4_QUERY:
		e = sigv4_query_check(req, &q, secret_fn, arg, out);
		break;
	case AUTH_V2_HEADER:
		if (req->v4_only) {
			e = S3_ERR_SIGV2_NOT_SUPPORTED;
			break;
		}
		if (query_kind(&q) != AUTH_NONE) {
			e = S3_ERR_INVALID_ARGUMENT; /* one mechanism only */
			break;
		}
		e = sigv2_header_check(req, authz, &q, secret_fn, arg, out);
		break;
	case AUTH_V2_QUERY:
		if (req->v4_only) {
			e = S3_ERR_SIGV2_NOT_SUPPORTED;
			break;
		}
		e = sigv2_query_check(req, &q, secret_fn, arg, out);
		break;
	case AUTH_UNKNOWN:
	default:
		e = S3_ERR_INVALID_ARGUMENT;
		break;
	}
out:
	uri_query_release(&q);
	if (e)
		explicit_bzero(out, sizeof(*out));
	return e;
}
