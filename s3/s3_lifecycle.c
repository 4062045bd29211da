/*
 * s3_lifecycle — Put/Get/DeleteBucketLifecycleConfiguration (?lifecycle,
 * the bucket owner's, or whom the policy allows s3:PutLifecycleConfiguration
 * / s3:GetLifecycleConfiguration) and the x-amz-expiration header of the
 * objects an enabled Expiration rule will expire (GET, HEAD, PUT). The
 * document and its matching are s3_lifecycle_doc.c's (pure, fuzzed); the
 * worker applying the rules is s3_lifecycle_run.c's. The configuration is
 * kept by the core as a bucket document (ATR_DOC_LIFECYCLE) in the
 * normalised form s3_lc_xml writes.
 *
 * The header needs the bucket's rules on every GET: they are parsed once
 * and kept in a small cache, dropped whenever atr_bucket_docs_generation
 * moves (a configuration set, a bucket deleted). Locks: mu guards the
 * cache; it is never held across core calls.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "s3/s3_int.h"
#include "s3/s3_lifecycle.h"
#include "common/banned.h"

#define CACHE_MAX 64

struct lc_cached {
	char bucket[ATR_BUCKET_MAX + 1];
	struct s3_lc lc; /* n == 0: the bucket has no configuration */
};

struct s3_lifecycle {
	struct s3_server *srv;
	pthread_mutex_t mu;
	uint64_t gen;                       /* guarded by mu: the generation cached */
	struct lc_cached cache[CACHE_MAX];  /* guarded by mu */
	int ncache, next;                   /* guarded by mu: used, next to replace */
	struct s3_lc_worker *worker;        /* s3_lifecycle_run.c's passes */
};

/* The document as kept: parsed, checked, written back normalised. */
static enum s3_err normalise(const char *body, size_t len, struct buf *doc, char *msg,
			     size_t msgsize)
{
	struct s3_lc lc = { 0 };
	enum s3_err e = s3_lc_parse(body, len, &lc, msg, msgsize);
	if (!e && s3_lc_xml(&lc, doc)) {
		e = S3_ERR_INVALID_REQUEST;
		snprintf(msg, msgsize, "The lifecycle configuration is too large (over %d bytes "
			 "as stored).", ATR_BUCKET_DOC_MAX);
	}
	s3_lc_free(&lc);
	return e;
}

enum s3_err s3_put_bucket_lifecycle(struct s3_req *r)
{
	return s3_put_bucket_doc(r, ATR_DOC_LIFECYCLE, "s3:PutLifecycleConfiguration",
				 S3_LC_BODY_MAX, normalise);
}

enum s3_err s3_get_bucket_lifecycle(struct s3_req *r)
{
	return s3_get_bucket_doc(r, ATR_DOC_LIFECYCLE, "s3:GetLifecycleConfiguration", S3_ERR_NO_SUCH_LIFECYCLE);
}

/* AWS's DeleteBucketLifecycle is authorised by s3:PutLifecycleConfiguration. */
enum s3_err s3_delete_bucket_lifecycle(struct s3_req *r)
{
	int rc = atr_bucket_doc_set(r->srv->core, &r->user, r->bucket, ATR_DOC_LIFECYCLE,
				    "s3:PutLifecycleConfiguration", NULL);
	return s3_reply_empty(r, rc, 204);
}

/* ---- the rules of a bucket, cached ---- */

struct s3_lifecycle *s3_lifecycle_new(struct s3_server *s)
{
	struct s3_lifecycle *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->srv = s;
	pthread_mutex_init(&l->mu, NULL);
	if (!(l->worker = s3_lc_worker_start(s, s->opt.lifecycle_interval_ms))) {
		s3_lifecycle_free(l);
		return NULL;
	}
	return l;
}

static void cache_clear(struct s3_lifecycle *l)
{
	for (int i = 0; i < l->ncache; i++)
		s3_lc_free(&l->cache[i].lc);
	l->ncache = l->next = 0;
}

void s3_lifecycle_free(struct s3_lifecycle *l)
{
	if (!l)
		return;
	s3_lc_worker_stop(l->worker);
	cache_clear(l);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

struct s3_lc_worker *s3_lifecycle_worker(struct s3_server *s)
{
	return s->lifecycle->worker;
}

int s3_lc_load(struct s3_server *s, const char *bucket, struct s3_lc *out)
{
	char *doc = NULL, msg[8];
	memset(out, 0, sizeof(*out));
	int rc = atr_bucket_doc_peek(s->core, bucket, ATR_DOC_LIFECYCLE, &doc, NULL);
	if (rc)
		return rc == ATR_E_NO_CONFIG ? ATR_OK : rc;
	enum s3_err e = s3_lc_parse(doc, strlen(doc), out, msg, sizeof(msg));
	free(doc);
	if (e) {
		LOG(LOG_ERROR, "lifecycle: the configuration kept for %s does not parse", bucket);
		return ATR_E_INTERNAL;
	}
	return ATR_OK;
}

/* With l->mu held: bucket's cache entry, or NULL. */
static struct lc_cached *cache_find(struct s3_lifecycle *l, const char *bucket)
{
	uint64_t gen = atr_bucket_docs_generation(l->srv->core);
	if (gen != l->gen) {
		cache_clear(l);
		l->gen = gen;
	}
	for (int i = 0; i < l->ncache; i++)
		if (!strcmp(l->cache[i].bucket, bucket))
			return &l->cache[i];
	return NULL;
}

/* A rule ID as a header's quoted string can carry it: printable ASCII
 * but '"' and '%', the rest percent-encoded. */
static int add_rule_id(struct buf *b, const char *id)
{
	for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
		int plain = *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '%';
		if (plain ? buf_addf(b, "%c", *p) : buf_addf(b, "%%%02X", *p))
			return -1;
	}
	return 0;
}

int s3_lifecycle_header(struct s3_req *r, const char *key, uint64_t size, int64_t mtime_ns,
			const char *tags, struct buf *out)
{
	struct s3_lifecycle *l = r->srv->lifecycle;
	struct s3_lc loaded;
	int rc = 0;
	pthread_mutex_lock(&l->mu);
	struct lc_cached *c = cache_find(l, r->bucket);
	uint64_t gen = l->gen;
	pthread_mutex_unlock(&l->mu);
	if (!c) {
		/* Read without the lock; kept only if no change came meanwhile. */
		if (s3_lc_load(r->srv, r->bucket, &loaded))
			return 0; /* logged; the answer goes without the header */
		pthread_mutex_lock(&l->mu);
		if (!(c = cache_find(l, r->bucket)) && l->gen == gen) {
			c = &l->cache[l->next];
			if (l->next < l->ncache)
				s3_lc_free(&c->lc);
			else
				l->ncache++;
			l->next = (l->next + 1) % CACHE_MAX;
			snprintf(c->bucket, sizeof(c->bucket), "%s", r->bucket);
			c->lc = loaded;
			memset(&loaded, 0, sizeof(loaded));
		}
		pthread_mutex_unlock(&l->mu);
		s3_lc_free(&loaded);
	}
	pthread_mutex_lock(&l->mu);
	if ((c = cache_find(l, r->bucket)) && c->lc.n) {
		const struct s3_lc_rule *rule;
		struct s3_lc_obj o = { key, size, mtime_ns / 1000000000, tags };
		int64_t at = s3_lc_expiry(&c->lc, &o, s3_lc_day(r->srv), &rule);
		char date[TIMEFMT_LEN];
		if (at >= 0) {
			time_fmt_rfc1123((time_t)at, date);
			rc = buf_addf(out, "x-amz-expiration: expiry-date=\"%s\", rule-id=\"", date) ||
			     add_rule_id(out, rule->id) || buf_addstr(out, "\"\r\n");
		}
	}
	pthread_mutex_unlock(&l->mu);
	return rc;
}

int64_t s3_lc_day(const struct s3_server *s)
{
	return s->opt.lifecycle_day_s > 0 ? s->opt.lifecycle_day_s : S3_LC_DAY;
}
