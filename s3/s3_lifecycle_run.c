/*
 * s3_lifecycle_run — the lifecycle worker: passes over every bucket with
 * a lifecycle configuration, applying its enabled rules.
 *
 *   Expiration (Days, Date)         current objects the rule's filter
 *                                   matches (prefix, tags, sizes) whose
 *                                   time has come are deleted through
 *                                   S3's DeleteObject path, as the
 *                                   daemon's user, if still the object
 *                                   listed (atr_object_delete_if);
 *   AbortIncompleteMultipartUpload  uploads under the prefix created
 *                                   DaysAfterInitiation days ago or more
 *                                   are aborted (atr_mpu_abort);
 *   NoncurrentVersionExpiration,
 *   ExpiredObjectDeleteMarker       noncurrent versions and lone delete
 *                                   markers are deleted by their id
 *                                   (noncurrent_expire below); one under
 *                                   Object Lock is skipped and counted.
 *
 * Bounds. A pass takes at most PASS_ACTIONS actions (deletions, aborts,
 * failures): the rest waits for the next pass, which finds what is left
 * since what was done is gone. Listings go a page (LIST_PAGE entries) at
 * a time, each one core call, so the namespace lock is held for a page,
 * never across a pass; the page is copied out and acted on after the
 * call returns. Passes never overlap (pass_mu): a timed pass and one the
 * admin API asks for run one after the other.
 *
 * Every action is logged at info, every failure at error; the counters
 * (passes, expired, aborted, errors) are atomics read by the metrics.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "s3/s3_int.h"
#include "s3/s3_lifecycle.h"
#include "common/banned.h"

#define PASS_ACTIONS 1000
#define LIST_PAGE 1000

struct s3_lc_worker {
	struct s3_server *srv;
	pthread_mutex_t pass_mu;  /* one pass at a time */
	/* The timer thread (interval_ms > 0). mu guards stop. */
	pthread_mutex_t mu;
	pthread_cond_t cond;
	pthread_t thread;
	int running, stop;
	long interval_ms;
	/* Totals since start; atomics. */
	uint64_t passes, expired, aborted, errors, locked;
};

struct pass {
	struct s3_server *s;
	struct atr_user su;       /* the daemon's user: the worker acts for every owner */
	struct s3_lc_worker *w;
	int64_t now, day;
	int budget;               /* actions left */
	struct s3_lc_summary sum;
};

/* Whether the pass may go on: actions left, and no stop asked for (the
 * daemon stopping waits for the pass). */
static int more(const struct pass *p)
{
	return p->budget > 0 && !__atomic_load_n(&p->w->stop, __ATOMIC_RELAXED);
}

/* ---- the page copied out of a listing ---- */

struct item {
	char *key;
	char upload_id[ATR_UPLOAD_ID_LEN + 1];
	struct atr_obj obj;       /* objects and versions: hdrs NULL */
	int64_t ctime_ns;         /* uploads */
	int marker, latest;       /* versions */
};

struct page {
	struct item v[LIST_PAGE];
	int n;
	int failed;               /* out of memory copying */
};

static void page_release(struct page *pg)
{
	for (int i = 0; i < pg->n; i++)
		free(pg->v[i].key);
	pg->n = 0;
}

/* The next entry of pg for key, or NULL (the page is full, or out of
 * memory: pg->failed). */
static struct item *page_add(struct page *pg, const char *key)
{
	if (pg->n == LIST_PAGE)
		return NULL;
	struct item *x = &pg->v[pg->n];
	if (!(x->key = strdup(key))) {
		pg->failed = 1;
		return NULL;
	}
	pg->n++;
	return x;
}

static int add_object(void *arg, const struct atr_list_item *it)
{
	struct page *pg = arg;
	struct item *x = it->is_prefix ? NULL : page_add(pg, it->key);
	if (x) {
		x->obj = *it->obj;
		x->obj.hdrs = NULL;
	}
	return pg->failed;
}

static int add_version(void *arg, const struct atr_version_item *it)
{
	struct page *pg = arg;
	struct item *x = it->is_prefix ? NULL : page_add(pg, it->key);
	if (x) {
		x->obj = *it->obj;
		x->obj.hdrs = NULL;
		x->marker = it->marker;
		x->latest = it->latest;
	}
	return pg->failed;
}

static int add_upload(void *arg, const struct atr_mpu_item *it)
{
	struct page *pg = arg;
	struct item *x = it->is_prefix ? NULL : page_add(pg, it->key);
	if (x) {
		snprintf(x->upload_id, sizeof(x->upload_id), "%s", it->upload->upload_id);
		x->ctime_ns = it->upload->ctime_ns;
	}
	return pg->failed;
}

/* ---- actions ---- */

static void failed(struct pass *p, const char *what, const char *bucket, const char *key,
		   int rc)
{
	p->sum.errors++;
	p->budget--;
	LOG(LOG_ERROR, "lifecycle: %s %s/%s failed: %s", what, bucket, key, atr_strerror(rc));
}

/* Whether rule r expires the object x now. */
static int object_due(struct pass *p, const struct s3_lc_rule *r, const struct item *x)
{
	char *tags = NULL;
	struct s3_lc_obj o = { x->key, x->obj.is_dir ? 0 : x->obj.size,
			       x->obj.mtime_ns / 1000000000, NULL };
	int64_t at = r->exp_days ? s3_lc_due(o.mtime, r->exp_days, p->day) : r->exp_date;
	if (p->now < at)
		return 0;
	if (r->ntags && atr_obj_tags(p->s->core, &x->obj, &tags))
		return 0; /* gone meanwhile, or unreadable: next pass */
	o.tags = tags;
	int due = s3_lc_match(r, &o);
	free(tags);
	return due;
}

static void expire_page(struct pass *p, const char *bucket, const struct s3_lc_rule *r,
			const struct page *pg)
{
	for (int i = 0; i < pg->n && more(p); i++) {
		const struct item *x = &pg->v[i];
		if (!object_due(p, r, x))
			continue;
		/* S3's DeleteObject path (with versioning, a delete marker),
		 * only if the object is still the one listed: one written
		 * since is not expired by what its predecessor was. */
		struct atr_delete_result d;
		int rc = atr_object_delete_if(p->s->core, &p->su, bucket, x->key, x->obj.ino, &d);
		if (rc == ATR_E_CONFLICT) {
			LOG(LOG_INFO, "lifecycle: %s/%s was written since it was listed: kept",
			    bucket, x->key);
			continue;
		}
		if (rc) {
			failed(p, "expiring", bucket, x->key, rc);
			continue;
		}
		p->sum.expired++;
		p->budget--;
		LOG(LOG_INFO, "lifecycle: expired %s/%s (rule %s)", bucket, x->key, r->id);
	}
}

static void expire_objects(struct pass *p, const char *bucket, const struct s3_lc_rule *r)
{
	char next[ATR_KEY_MAX + 2] = "";
	struct page *pg = calloc(1, sizeof(*pg));
	int truncated = 1;
	if (!pg) {
		failed(p, "listing", bucket, "", ATR_E_NOMEM);
		return;
	}
	while (truncated && more(p)) {
		struct atr_list_params lp = { .prefix = r->prefix ? r->prefix : "",
					      .start = *next ? next : NULL,
					      .start_inclusive = 1, .max = LIST_PAGE };
		int rc = atr_object_list(p->s->core, &p->su, bucket, &lp, add_object, pg,
					 &truncated, next);
		if (rc || pg->failed) {
			failed(p, "listing", bucket, lp.prefix, rc ? rc : ATR_E_NOMEM);
			page_release(pg);
			break;
		}
		expire_page(p, bucket, r, pg);
		page_release(pg);
	}
	free(pg);
}

static void abort_page(struct pass *p, const char *bucket, const struct s3_lc_rule *r,
		       const struct page *pg)
{
	for (int i = 0; i < pg->n && more(p); i++) {
		const struct item *x = &pg->v[i];
		if (p->now < s3_lc_due(x->ctime_ns / 1000000000, r->abort_days, p->day))
			continue;
		int rc = atr_mpu_abort(p->s->core, &p->su, bucket, x->key, x->upload_id);
		if (rc == ATR_E_NO_UPLOAD)
			continue; /* completed or aborted meanwhile */
		if (rc) {
			failed(p, "aborting the upload of", bucket, x->key, rc);
			continue;
		}
		p->sum.aborted++;
		p->budget--;
		LOG(LOG_INFO, "lifecycle: aborted upload %s of %s/%s (rule %s)", x->upload_id,
		    bucket, x->key, r->id);
	}
}

static void abort_uploads(struct pass *p, const char *bucket, const struct s3_lc_rule *r)
{
	char key[ATR_KEY_MAX + 1] = "", id[ATR_UPLOAD_ID_LEN + 1] = "";
	struct page *pg = calloc(1, sizeof(*pg));
	int truncated = 1;
	if (!pg) {
		failed(p, "listing uploads of", bucket, "", ATR_E_NOMEM);
		return;
	}
	while (truncated && more(p)) {
		struct atr_mpu_list_params lp = { .prefix = r->prefix ? r->prefix : "",
						  .key_marker = key, .upload_id_marker = id,
						  .max = LIST_PAGE };
		int rc = atr_mpu_list(p->s->core, &p->su, bucket, &lp, add_upload, pg, &truncated);
		if (rc || pg->failed) {
			failed(p, "listing uploads of", bucket, lp.prefix, rc ? rc : ATR_E_NOMEM);
			page_release(pg);
			break;
		}
		if (pg->n) {
			snprintf(key, sizeof(key), "%s", pg->v[pg->n - 1].key);
			snprintf(id, sizeof(id), "%s", pg->v[pg->n - 1].upload_id);
		} else {
			truncated = 0;
		}
		abort_page(p, bucket, r, pg);
		page_release(pg);
	}
	free(pg);
}

/*
 * NoncurrentVersionExpiration (NoncurrentDays, NewerNoncurrentVersions)
 * and Expiration's ExpiredObjectDeleteMarker act on versions, walked in
 * ListObjectVersions' order (key, newest first) a page at a time: a
 * noncurrent version is due NoncurrentDays after the version above it
 * (its successor) was written, past the NewerNoncurrentVersions newest
 * noncurrent ones; a delete marker that is the only version of its key is
 * removed. Both go by their version id through S3's DeleteObject path,
 * so Object Lock's one check holds: a locked version is skipped and
 * counted (sum.locked), not an error.
 */
struct vwalk {
	char key[ATR_KEY_MAX + 2]; /* the key of the group being walked */
	int64_t above;             /* its last version's mtime (s), the successor's */
	int noncurrent;            /* its noncurrent versions seen */
	int versions;              /* its versions seen */
	char marker_vid[ATR_VID_MAX + 1]; /* its lone latest marker, if so far alone */
};

static void version_delete(struct pass *p, const char *bucket, const char *key, const char *vid,
			   const char *what, const struct s3_lc_rule *r)
{
	struct atr_delete_result d;
	int rc = atr_object_delete_version(p->s->core, &p->su, bucket, key, vid, 0, &d);
	if (rc == ATR_E_LOCKED) {
		p->sum.locked++;
		LOG(LOG_INFO, "lifecycle: %s/%s version %s is locked: kept (rule %s)", bucket, key,
		    vid, r->id);
		return;
	}
	if (rc && rc != ATR_E_NO_VERSION) {
		failed(p, what, bucket, key, rc);
		return;
	}
	p->sum.expired++;
	p->budget--;
	LOG(LOG_INFO, "lifecycle: %s %s/%s version %s (rule %s)", what, bucket, key, vid, r->id);
}

/* The group of w's key is over: its lone marker goes, if the rule says. */
static void group_end(struct pass *p, const char *bucket, const struct s3_lc_rule *r,
		      struct vwalk *w)
{
	if (r->exp_marker > 0 && w->versions == 1 && *w->marker_vid && more(p))
		version_delete(p, bucket, w->key, w->marker_vid, "removed the lone delete marker of",
			       r);
	w->versions = w->noncurrent = 0;
	*w->marker_vid = '\0';
}

/* Whether noncurrent version x (the n-th newest noncurrent, its successor
 * written at above) is due under r. */
static int noncurrent_due(struct pass *p, const struct s3_lc_rule *r, const char *bucket,
			  const struct item *x, int n, int64_t above)
{
	char *tags = NULL;
	if (!r->nc_days || n <= r->nc_newer ||
	    p->now < s3_lc_due(above, r->nc_days, p->day))
		return 0;
	struct s3_lc_obj o = { x->key, x->obj.size, x->obj.mtime_ns / 1000000000, NULL };
	if (r->ntags && atr_object_version_tags_get(p->s->core, &p->su, bucket, x->key, x->obj.vid,
						    &tags))
		return 0; /* gone meanwhile: nothing to do */
	o.tags = tags;
	int due = s3_lc_match(r, &o);
	free(tags);
	return due;
}

static void noncurrent_page(struct pass *p, const char *bucket, const struct s3_lc_rule *r,
			    const struct page *pg, struct vwalk *w)
{
	for (int i = 0; i < pg->n && more(p); i++) {
		const struct item *x = &pg->v[i];
		if (strcmp(x->key, w->key)) {
			group_end(p, bucket, r, w);
			snprintf(w->key, sizeof(w->key), "%s", x->key);
		}
		w->versions++;
		if (x->latest && x->marker)
			snprintf(w->marker_vid, sizeof(w->marker_vid), "%s", x->obj.vid);
		if (!x->latest && noncurrent_due(p, r, bucket, x, ++w->noncurrent, w->above))
			version_delete(p, bucket, x->key, *x->obj.vid ? x->obj.vid : "null",
				       "expired the noncurrent", r);
		w->above = x->obj.mtime_ns / 1000000000;
	}
}

static void noncurrent_expire(struct pass *p, const char *bucket, const struct s3_lc_rule *r)
{
	char key[ATR_KEY_MAX + 2] = "", vid[ATR_VID_MAX + 1] = "";
	struct page *pg = calloc(1, sizeof(*pg));
	struct vwalk w = { .key = "" };
	int truncated = 1;
	if (!pg) {
		failed(p, "listing the versions of", bucket, "", ATR_E_NOMEM);
		return;
	}
	while (truncated && more(p)) {
		struct atr_version_params vp = { .prefix = r->prefix ? r->prefix : "",
						 .key_marker = *key ? key : NULL,
						 .vid_marker = *vid ? vid : NULL, .max = LIST_PAGE };
		int rc = atr_object_list_versions(p->s->core, &p->su, bucket, &vp, add_version, pg,
						  &truncated, key, vid);
		if (rc || pg->failed) {
			failed(p, "listing the versions of", bucket, vp.prefix, rc ? rc : ATR_E_NOMEM);
			page_release(pg);
			free(pg);
			return;
		}
		noncurrent_page(p, bucket, r, pg, &w);
		page_release(pg);
	}
	if (*w.key)
		group_end(p, bucket, r, &w);
	free(pg);
}

static void apply(struct pass *p, const char *bucket, const struct s3_lc *lc)
{
	p->sum.buckets++;
	for (int i = 0; i < lc->n && more(p); i++) {
		const struct s3_lc_rule *r = &lc->rules[i];
		if (!r->enabled)
			continue;
		p->sum.rules++;
		if (r->exp_days || r->exp_date >= 0)
			expire_objects(p, bucket, r);
		if (r->abort_days && more(p))
			abort_uploads(p, bucket, r);
		if ((r->nc_days || r->exp_marker > 0) && more(p))
			noncurrent_expire(p, bucket, r);
	}
}

/* ---- passes ---- */

struct names {
	char (*v)[ATR_BUCKET_MAX + 1];
	size_t n, cap;
};

static int add_bucket(void *arg, const struct atr_bucket *b)
{
	struct names *ns = arg;
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? 2 * ns->cap : 64;
		void *v = realloc(ns->v, cap * sizeof(*ns->v));
		if (!v)
			return 1;
		ns->v = v;
		ns->cap = cap;
	}
	snprintf(ns->v[ns->n++], sizeof(*ns->v), "%s", b->name);
	return 0;
}

int s3_lifecycle_run(struct s3_server *s, int64_t now, struct s3_lc_summary *out)
{
	struct s3_lc_worker *w = s3_lifecycle_worker(s);
	struct pass p = { .s = s, .w = w, .now = now, .day = s3_lc_day(s),
			  .budget = PASS_ACTIONS };
	struct names ns = { 0 };
	p.su.name = atr_core_daemon_user(s->core);
	p.su.superuser = 1;
	pthread_mutex_lock(&w->pass_mu);
	int rc = atr_bucket_list_all(s->core, &p.su, add_bucket, &ns);
	for (size_t i = 0; !rc && i < ns.n && more(&p); i++) {
		struct s3_lc lc;
		int e = s3_lc_load(s, ns.v[i], &lc);
		if (e && e != ATR_E_NO_BUCKET)
			failed(&p, "reading the configuration of", ns.v[i], "", e);
		if (!e && lc.n)
			apply(&p, ns.v[i], &lc);
		s3_lc_free(&lc);
	}
	p.sum.truncated = !more(&p);
	__atomic_add_fetch(&w->passes, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&w->expired, p.sum.expired, __ATOMIC_RELAXED);
	__atomic_add_fetch(&w->aborted, p.sum.aborted, __ATOMIC_RELAXED);
	__atomic_add_fetch(&w->errors, p.sum.errors + (rc != 0), __ATOMIC_RELAXED);
	__atomic_add_fetch(&w->locked, p.sum.locked, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&w->pass_mu);
	free(ns.v);
	if (rc)
		LOG(LOG_ERROR, "lifecycle: listing the buckets failed: %s", atr_strerror(rc));
	else if (p.sum.expired || p.sum.aborted || p.sum.errors)
		LOG(LOG_INFO, "lifecycle: pass done: %llu expired, %llu aborted, %llu errors%s",
		    (unsigned long long)p.sum.expired, (unsigned long long)p.sum.aborted,
		    (unsigned long long)p.sum.errors, p.sum.truncated ? " (more next pass)" : "");
	if (out)
		*out = p.sum;
	return rc;
}

void s3_lifecycle_counters(struct s3_server *s, struct s3_lc_counters *out)
{
	struct s3_lc_worker *w = s3_lifecycle_worker(s);
	out->passes = __atomic_load_n(&w->passes, __ATOMIC_RELAXED);
	out->expired = __atomic_load_n(&w->expired, __ATOMIC_RELAXED);
	out->aborted = __atomic_load_n(&w->aborted, __ATOMIC_RELAXED);
	out->errors = __atomic_load_n(&w->errors, __ATOMIC_RELAXED);
	out->locked = __atomic_load_n(&w->locked, __ATOMIC_RELAXED);
}

/* ---- the timer thread ---- */

static void *worker_main(void *arg)
{
	struct s3_lc_worker *w = arg;
	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += w->interval_ms / 1000;
		until.tv_nsec += (w->interval_ms % 1000) * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		while (!w->stop && pthread_cond_timedwait(&w->cond, &w->mu, &until) == 0)
			;
		if (w->stop)
			break;
		pthread_mutex_unlock(&w->mu);
		s3_lifecycle_run(w->srv, (int64_t)time(NULL), NULL);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct s3_lc_worker *s3_lc_worker_start(struct s3_server *s, long interval_ms)
{
	struct s3_lc_worker *w = calloc(1, sizeof(*w));
	pthread_condattr_t ca;
	if (!w)
		return NULL;
	w->srv = s;
	w->interval_ms = interval_ms;
	pthread_mutex_init(&w->pass_mu, NULL);
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (interval_ms > 0) {
		if (pthread_create(&w->thread, NULL, worker_main, w)) {
			s3_lc_worker_stop(w);
			return NULL;
		}
		pthread_setname_np(w->thread, "s3-lifecycle");
		w->running = 1;
	}
	return w;
}

void s3_lc_worker_stop(struct s3_lc_worker *w)
{
	if (!w)
		return;
	if (w->running) {
		pthread_mutex_lock(&w->mu);
		__atomic_store_n(&w->stop, 1, __ATOMIC_RELAXED);
		pthread_cond_signal(&w->cond);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thread, NULL); /* a pass in progress ends first */
	}
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->mu);
	pthread_mutex_destroy(&w->pass_mu);
	free(w);
}
