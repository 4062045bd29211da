/*
 * s3_logging — server access logging (S3's bucket logging): Put/Get-
 * BucketLogging (?logging, the owner's) and the delivery of log records.
 *
 * Configuration. A BucketLoggingStatus with LoggingEnabled (TargetBucket,
 * TargetPrefix) is kept by the core as a bucket document (ATR_DOC_LOGGING)
 * in the form logging_xml writes; an empty BucketLoggingStatus removes it.
 * As AWS requires, the target bucket must exist and belong to the source
 * bucket's owner, or grant the LogDelivery group WRITE and READ_ACP
 * (InvalidTargetBucketForLogging otherwise).
 *
 * Delivery. Every request to a bucket with logging enabled (s3_observe)
 * becomes one line of S3's server access log format (common/access_line.h)
 * queued for its target. A worker thread ("s3-logging") writes the queue
 * out every log_flush_ms, as soon as log_flush_records lines wait, and at
 * stop: one object per target and prefix, named as AWS names them
 * (TargetPrefix + YYYY-mm-DD-HH-MM-SS-UniqueString), written through the
 * core as the target bucket's owner. Writing a log object is not itself a
 * request, so it is never logged. A failed write is logged and its lines
 * dropped (as AWS, delivery is best effort).
 *
 * Which buckets log is asked of the core once per bucket and kept in a
 * small cache, dropped whenever atr_bucket_docs_generation moves (a
 * configuration set, a bucket deleted), so a request pays no metadata
 * read. Locks: mu guards the queue, the cache and stop; it is never held
 * across core calls or I/O.
 */
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/xml.h"
#include "s3/s3_int.h"
#include "common/banned.h"

#define LOGGING_BODY_MAX (16 * 1024)
#define CACHE_MAX 256
#define DEFAULT_FLUSH_MS 300000
#define DEFAULT_FLUSH_RECORDS 1000
#define QUEUE_MAX 100000 /* lines waiting; more are dropped (and said so) */

struct log_rec {
	struct log_rec *next;
	char *target, *prefix, *line;
};

struct cached {
	char bucket[ATR_BUCKET_MAX + 1];
	int enabled;
	char owner[ATR_USER_MAX + 1];
	char target[ATR_BUCKET_MAX + 1];
	char *prefix; /* malloc'd when enabled */
};

struct s3_logging {
	struct s3_server *srv;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	pthread_t thread;
	long flush_ms, flush_records;
	struct log_rec *head, **tail; /* guarded by mu */
	long count, dropped;          /* guarded by mu */
	int stop;                     /* guarded by mu */
	uint64_t gen;                 /* the generation cache[] was read at; mu */
	struct cached cache[CACHE_MAX];
	int ncache;                   /* guarded by mu */
};

/* ---- the document ---- */

enum s3_err s3_logging_parse(const char *xml, size_t len, char target[ATR_BUCKET_MAX + 1],
			     char **prefix)
{
	enum s3_err e = S3_ERR_MALFORMED_XML;
	xmlDocPtr doc = len && len <= LOGGING_BODY_MAX ? xml_parse(xml, len) : NULL;
	xmlNodePtr root = xml_root(doc, "BucketLoggingStatus");
	char *t = NULL, *p = NULL;
	target[0] = '\0';
	*prefix = NULL;
	if (!root)
		goto out;
	xmlNodePtr en = xml_child(root, "LoggingEnabled");
	if (!en) {
		e = S3_ERR_OK; /* logging off */
		goto out;
	}
	/* Grants of the log objects to others, and partitioned names, are
	 * AWS's too: refused rather than ignored. */
	xmlNodePtr fmt = xml_child(en, "TargetObjectKeyFormat");
	if (xml_child(en, "TargetGrants") || (fmt && xml_child(fmt, "PartitionedPrefix"))) {
		e = S3_ERR_NOT_IMPLEMENTED;
		goto out;
	}
	t = xml_text(xml_child(en, "TargetBucket"));
	p = xml_text(xml_child(en, "TargetPrefix"));
	if (!t || !xml_child(en, "TargetPrefix"))
		goto out;
	if (!atr_bucket_name_valid(t)) {
		e = S3_ERR_INVALID_TARGET_BUCKET;
		goto out;
	}
	snprintf(target, ATR_BUCKET_MAX + 1, "%s", t);
	if (!(*prefix = strdup(p ? p : ""))) {
		e = S3_ERR_SLOW_DOWN;
		goto out;
	}
	e = S3_ERR_OK;
out:
	xmlFree(t);
	xmlFree(p);
	if (doc)
		xmlFreeDoc(doc);
	return e;
}

int s3_logging_xml(const char *target, const char *prefix, struct buf *b)
{
	return s3_xml_open(b, "BucketLoggingStatus") ||
	       (*target && (buf_addstr(b, "<LoggingEnabled>") ||
			    s3_xml_elem(b, "TargetBucket", target) ||
			    s3_xml_elem(b, "TargetPrefix", prefix) ||
			    buf_addstr(b, "</LoggingEnabled>"))) ||
	       buf_addstr(b, "</BucketLoggingStatus>");
}

/* ---- Put/GetBucketLogging ---- */

static struct atr_user system_user(struct s3_server *s)
{
	struct atr_user u = { .name = atr_core_daemon_user(s->core), .superuser = 1 };
	return u;
}

/* AWS's rule for a target: the source's owner's, or granting LogDelivery
 * WRITE and READ_ACP. */
static enum s3_err target_check(struct s3_req *r, const char *target)
{
	char src_owner[ATR_USER_MAX + 1], dst_owner[ATR_USER_MAX + 1], *doc = NULL;
	struct atr_core *c = r->srv->core;
	int rc = atr_bucket_doc_peek(c, r->bucket, ATR_DOC_LOGGING, &doc, src_owner);
	free(doc);
	if (rc && rc != ATR_E_NO_CONFIG)
		return s3_err_from_core(rc);
	rc = atr_bucket_doc_peek(c, target, ATR_DOC_LOGGING, &doc, dst_owner);
	free(doc);
	if (rc == ATR_E_NO_BUCKET || rc == ATR_E_INVALID_BUCKET)
		return S3_ERR_INVALID_TARGET_BUCKET;
	if (rc && rc != ATR_E_NO_CONFIG)
		return s3_err_from_core(rc);
	if (!strcmp(src_owner, dst_owner))
		return S3_ERR_OK;
	struct atr_acl *acl = malloc(sizeof(*acl));
	struct atr_user su = system_user(r->srv);
	unsigned perms = 0;
	if (!acl)
		return S3_ERR_SLOW_DOWN;
	if (!(rc = atr_acl_get(c, &su, target, NULL, acl)))
		for (int i = 0; i < acl->n; i++)
			if (acl->g[i].grantee == ATR_GRANTEE_LOG_DELIVERY)
				perms |= acl->g[i].perm & ATR_PERM_FULL_CONTROL
						 ? ATR_PERM_WRITE | ATR_PERM_READ_ACP
						 : acl->g[i].perm;
	free(acl);
	if (rc)
		return s3_err_from_core(rc);
	return (perms & (ATR_PERM_WRITE | ATR_PERM_READ_ACP)) == (ATR_PERM_WRITE | ATR_PERM_READ_ACP)
		       ? S3_ERR_OK
		       : S3_ERR_LOGGING_GRANTS;
}

enum s3_err s3_put_bucket_logging(struct s3_req *r)
{
	struct buf body = BUF_INIT(LOGGING_BODY_MAX), doc = BUF_INIT(4 * LOGGING_BODY_MAX);
	char target[ATR_BUCKET_MAX + 1], *prefix = NULL, *old = NULL;
	enum s3_err e;
	/* Who may (NoSuchBucket, AccessDenied), before what the body says. */
	int rc = atr_bucket_doc_get(r->srv->core, &r->user, r->bucket, ATR_DOC_LOGGING,
				    "s3:PutBucketLogging", &old);
	free(old);
	if (rc && rc != ATR_E_NO_CONFIG)
		return s3_err_from_core(rc);
	if ((e = s3_read_small_body(r, &body)) || (e = s3_verify_integrity(r, &body)) ||
	    (e = s3_logging_parse(body.ptr, body.len, target, &prefix)))
		goto out;
	if (*target) {
		/* The names log objects will have must be keys. */
		char probe[ATR_KEY_MAX + 64];
		snprintf(probe, sizeof(probe), "%s2000-01-01-00-00-00-0123456789ABCDEF", prefix);
		if (strlen(prefix) > ATR_KEY_MAX - 40 || atr_key_valid(probe)) {
			e = S3_ERR_INVALID_ARGUMENT;
			goto out;
		}
		if ((e = target_check(r, target)))
			goto out;
	}
	if (*target && s3_logging_xml(target, prefix, &doc)) {
		e = S3_ERR_INTERNAL;
		goto out;
	}
	rc = atr_bucket_doc_set(r->srv->core, &r->user, r->bucket, ATR_DOC_LOGGING,
				"s3:PutBucketLogging", *target ? doc.ptr : NULL);
	if ((e = s3_err_from_core(rc)))
		goto out;
	s3_send_empty(r, 200, NULL);
out:
	free(prefix);
	buf_release(&body);
	buf_release(&doc);
	return e;
}

/* A bucket without logging answers an empty BucketLoggingStatus (AWS). */
enum s3_err s3_get_bucket_logging(struct s3_req *r)
{
	char *doc = NULL;
	int rc = atr_bucket_doc_get(r->srv->core, &r->user, r->bucket, ATR_DOC_LOGGING,
				    "s3:GetBucketLogging", &doc);
	struct buf b = BUF_INIT(4096);
	if (rc == ATR_E_NO_CONFIG) {
		if (s3_logging_xml("", "", &b)) {
			buf_release(&b);
			return S3_ERR_INTERNAL;
		}
		s3_send_xml(r, 200, &b);
		buf_release(&b);
		return S3_ERR_OK;
	}
	if (rc)
		return s3_err_from_core(rc);
	struct buf d = { .ptr = doc, .len = strlen(doc) };
	s3_send_xml(r, 200, &d);
	free(doc);
	return S3_ERR_OK;
}

/* ---- records ---- */

/* With mu held: the cache entry of bucket, or NULL. */
static struct cached *cache_find(struct s3_logging *l, const char *bucket)
{
	for (int i = 0; i < l->ncache; i++)
		if (!strcmp(l->cache[i].bucket, bucket))
			return &l->cache[i];
	return NULL;
}

static void cache_clear(struct s3_logging *l)
{
	for (int i = 0; i < l->ncache; i++)
		free(l->cache[i].prefix);
	l->ncache = 0;
}

/* Whether bucket logs, and where (into *out, prefix malloc'd). */
static int logging_of(struct s3_logging *l, const char *bucket, struct cached *out)
{
	struct atr_core *c = l->srv->core;
	uint64_t gen = atr_bucket_docs_generation(c);
	pthread_mutex_lock(&l->mu);
	if (gen != l->gen) {
		cache_clear(l);
		l->gen = gen;
	}
	struct cached *hit = cache_find(l, bucket);
	int found = hit != NULL;
	if (hit) {
		*out = *hit;
		out->prefix = hit->enabled ? strdup(hit->prefix) : NULL;
	}
	pthread_mutex_unlock(&l->mu);
	if (found)
		return out->enabled && out->prefix;

	struct cached e = { .enabled = 0 };
	char *doc = NULL;
	snprintf(e.bucket, sizeof(e.bucket), "%s", bucket);
	int rc = atr_bucket_doc_peek(c, bucket, ATR_DOC_LOGGING, &doc, e.owner);
	if (!rc && !s3_logging_parse(doc, strlen(doc), e.target, &e.prefix) && *e.target)
		e.enabled = 1;
	free(doc);
	if (rc && rc != ATR_E_NO_CONFIG) /* no bucket, or an I/O error: ask again */
		return 0;
	pthread_mutex_lock(&l->mu);
	if (l->gen == gen && !cache_find(l, bucket)) {
		if (l->ncache == CACHE_MAX)
			cache_clear(l);
		l->cache[l->ncache] = e;
		l->cache[l->ncache].prefix = e.enabled ? strdup(e.prefix) : NULL;
		l->ncache++;
	}
	pthread_mutex_unlock(&l->mu);
	*out = e;
	if (!e.enabled) {
		free(e.prefix);
		out->prefix = NULL;
	}
	return e.enabled;
}

void s3_logging_record(struct s3_req *r, const struct access_line *line)
{
	struct s3_logging *l = r->srv->logging;
	struct cached where;
	if (!logging_of(l, r->bucket, &where))
		return;
	struct access_line with_owner = *line;
	struct buf b = BUF_INIT(64 * 1024);
	struct log_rec *rec = calloc(1, sizeof(*rec));
	with_owner.bucket_owner = where.owner;
	if (!rec || access_line_format(&b, &with_owner) || buf_addch(&b, '\n') ||
	    !(rec->target = strdup(where.target))) {
		LOG(LOG_WARN, "s3 %s: no access log record for %s (out of memory)", r->id, r->bucket);
		free(rec);
		free(where.prefix);
		buf_release(&b);
		return;
	}
	rec->prefix = where.prefix;
	rec->line = buf_detach(&b);
	pthread_mutex_lock(&l->mu);
	if (l->count >= QUEUE_MAX) {
		l->dropped++;
		pthread_mutex_unlock(&l->mu);
		free(rec->target);
		free(rec->prefix);
		free(rec->line);
		free(rec);
		return;
	}
	*l->tail = rec;
	l->tail = &rec->next;
	if (++l->count >= l->flush_records)
		pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->mu);
}

/* ---- delivery ---- */

/* prefix + "YYYY-mm-DD-HH-MM-SS-" + 16 random upper-case hex digits. */
static void object_name(const char *prefix, char *out, size_t n)
{
	unsigned char rnd[8] = { 0 };
	char hex[17], when[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d-%H-%M-%S", &tm);
	RAND_bytes(rnd, sizeof(rnd));
	for (int i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02X", rnd[i]);
	snprintf(out, n, "%s%s-%s", prefix, when, hex);
}

static void write_object(struct s3_logging *l, const char *target, const char *prefix,
			 const struct buf *text, long lines)
{
	char owner[ATR_USER_MAX + 1], key[ATR_KEY_MAX + 64], *doc = NULL;
	struct atr_core *c = l->srv->core;
	struct atr_writer *w = NULL;
	int rc = atr_bucket_doc_peek(c, target, ATR_DOC_LOGGING, &doc, owner);
	free(doc);
	if (rc && rc != ATR_E_NO_CONFIG)
		goto fail;
	/* The target's owner writes its log objects (AWS delivers them as
	 * the log delivery service; here the owner is who may). */
	struct atr_user u = { .name = owner };
	object_name(prefix, key, sizeof(key));
	if ((rc = atr_put_begin(c, &u, target, key, text->len, &w)) ||
	    (rc = atr_put_write(w, text->ptr, text->len)))
		goto fail;
	rc = atr_put_commit(w, "Content-Type: text/plain\r\n", NULL);
	w = NULL;
	if (rc)
		goto fail;
	return;
fail:
	if (w)
		atr_put_abort(w);
	LOG(LOG_WARN, "s3 logging: %ld access log line(s) for %s/%s lost: %s", lines, target,
	    prefix, atr_strerror(rc));
}

/* Writes out recs (and frees them): one object per target and prefix. */
static void deliver(struct s3_logging *l, struct log_rec *recs)
{
	while (recs) {
		struct log_rec *first = recs, **p = &recs;
		struct buf text = BUF_INIT(1ULL << 30);
		long lines = 0;
		/* Take every record of first's target and prefix, in order. */
		while (*p) {
			struct log_rec *x = *p;
			if (strcmp(x->target, first->target) || strcmp(x->prefix, first->prefix)) {
				p = &x->next;
				continue;
			}
			*p = x->next;
			if (buf_addstr(&text, x->line) == 0)
				lines++;
			if (x != first) {
				free(x->target);
				free(x->prefix);
				free(x->line);
				free(x);
			}
		}
		write_object(l, first->target, first->prefix, &text, lines);
		buf_release(&text);
		free(first->target);
		free(first->prefix);
		free(first->line);
		free(first);
	}
}

static void *worker(void *arg)
{
	struct s3_logging *l = arg;
	pthread_mutex_lock(&l->mu);
	for (;;) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += l->flush_ms / 1000;
		until.tv_nsec += (l->flush_ms % 1000) * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		while (!l->stop && l->count < l->flush_records &&
		       pthread_cond_timedwait(&l->cond, &l->mu, &until) == 0)
			;
		struct log_rec *batch = l->head;
		long dropped = l->dropped;
		int stop = l->stop;
		l->head = NULL;
		l->tail = &l->head;
		l->count = l->dropped = 0;
		pthread_mutex_unlock(&l->mu);
		if (dropped)
			LOG(LOG_WARN, "s3 logging: %ld access log line(s) dropped (queue full)",
			    dropped);
		deliver(l, batch);
		pthread_mutex_lock(&l->mu);
		if (stop && !l->head)
			break;
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

struct s3_logging *s3_logging_new(struct s3_server *s)
{
	struct s3_logging *l = calloc(1, sizeof(*l));
	pthread_condattr_t ca;
	if (!l)
		return NULL;
	l->srv = s;
	l->flush_ms = s->opt.log_flush_ms > 0 ? s->opt.log_flush_ms : DEFAULT_FLUSH_MS;
	l->flush_records = s->opt.log_flush_records > 0 ? s->opt.log_flush_records
							: DEFAULT_FLUSH_RECORDS;
	l->tail = &l->head;
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&l->thread, NULL, worker, l)) {
		pthread_cond_destroy(&l->cond);
		pthread_mutex_destroy(&l->mu);
		free(l);
		return NULL;
	}
	pthread_setname_np(l->thread, "s3-logging");
	return l;
}

void s3_logging_free(struct s3_logging *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	l->stop = 1;
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->thread, NULL); /* it delivers what is queued first */
	cache_clear(l);
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->mu);
	free(l);
}
