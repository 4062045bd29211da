/* core — opening the core, buckets, identities of files met on disk. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "src/core_int.h"
#include "src/idmap_int.h"
#include "src/perm_int.h"

/* A commit whose rename a crash cut off is finished now: its row is
 * already committed and names the stage (see object_commit). */
static int recover_intent(void *arg, const char *stage, const char *path)
{
	struct atr_core *c = arg;
	if (*stage == '/') /* a rename's: "/FROM" (see fs_rename_locked) */
		fs_move_recover(c, stage + 1, path);
	else if (c->ufs->ops->stage_recover(c->ufs, stage, path) == ATR_OK)
		LOG(LOG_INFO, "core: finished the commit of %s that a crash interrupted", path);
	return 0;
}

/*
 * The daemon serves access to what DATA holds; the host must not read
 * around it. Everything Atrium makes there is 0700 or 0600 (ufs_local.c,
 * SQLite copies meta.db's mode to its -wal and -shm); a data directory
 * from an older version, whose parts were 0755 and 0644, is closed here.
 * A path that does not exist is left alone.
 */
static void keep_private(const char *path)
{
	struct stat st;
	if (lstat(path, &st) || !(st.st_mode & 077) || S_ISLNK(st.st_mode))
		return;
	if (chmod(path, st.st_mode & 07700))
		LOG(LOG_WARN, "core: cannot make %s private: %s", path, strerror(errno));
	else
		LOG(LOG_INFO, "core: %s was open to other host users; now %04o", path,
		    (unsigned)(st.st_mode & 07700));
}

int atr_core_open(const struct atr_core_config *cfg, struct atr_core **out)
{
	char path[4096];
	int rc = ATR_E_NOMEM;
	struct atr_core *c = calloc(1, sizeof(*c));
	if (!c)
		return ATR_E_NOMEM;
	pthread_mutex_init(&c->ns_lock, NULL);
	c->block_size = cfg->cache_block_size ? cfg->cache_block_size : 1 << 20;

	struct passwd pw, *res = NULL;
	char pwbuf[4096];
	getpwuid_r(getuid(), &pw, pwbuf, sizeof(pwbuf), &res);
	c->daemon_user = strdup(res ? res->pw_name : "root");
	if (!c->daemon_user)
		goto fail;

	if (mkdir(cfg->data_dir, 0700) && errno != EEXIST) {
		LOG(LOG_ERROR, "core: cannot create %s: %s", cfg->data_dir, strerror(errno));
		rc = ATR_E_IO;
		goto fail;
	}
	keep_private(cfg->data_dir);
	snprintf(path, sizeof(path), "%s/meta.db", cfg->data_dir);
	if ((rc = meta_open(path, &c->meta)) ||
	    (rc = idmap_open(c, cfg->idmap, cfg->id_first, cfg->id_last)))
		goto fail;
	static const char *const own[] = { "meta.db", "meta.db-wal", "meta.db-shm", "ufs" };
	for (size_t i = 0; i < sizeof(own) / sizeof(*own); i++) {
		snprintf(path, sizeof(path), "%s/%s", cfg->data_dir, own[i]);
		keep_private(path);
	}
	snprintf(path, sizeof(path), "%s/ufs", cfg->data_dir);
	if ((rc = ufs_local_new(path, &c->ufs)))
		goto fail;
	if ((rc = meta_intent_scan(c->meta, recover_intent, c)) ||
	    (rc = meta_intent_clear(c->meta)) || (rc = meta_pending_clear(c->meta)))
		goto fail;
	c->ufs->ops->stage_gc(c->ufs);
	if ((rc = mpu_open(c)) || (rc = nodes_open(c)) || (rc = perm_open(c)))
		goto fail;
	rc = ATR_E_NOMEM;
	if (!(c->cache = bcache_new(cfg->cache_mem_bytes)))
		goto fail;
	*out = c;
	return ATR_OK;
fail:
	atr_core_close(c);
	return rc;
}

void atr_core_close(struct atr_core *c)
{
	if (!c)
		return;
	nodes_close(c);
	perm_close(c);
	idmap_close(c);
	bcache_free(c->cache);
	mpu_close(c);
	if (c->ufs)
		c->ufs->ops->free(c->ufs);
	meta_close(c->meta);
	pthread_mutex_destroy(&c->ns_lock);
	free(c->daemon_user);
	free(c);
}

void atr_core_stats(struct atr_core *c, struct atr_stats *out)
{
	struct bcache_stats s;
	bcache_stats(c->cache, &s);
	out->cache_hits = s.hits;
	out->cache_misses = s.misses;
	out->cache_evictions = s.evictions;
	out->cache_bytes = s.bytes;
	out->cache_capacity = s.capacity;
	struct meta_stats ms;
	meta_stats(c->meta, &ms);
	out->meta_lookups = ms.lookups;
	out->meta_lookup_ns = ms.lookup_ns;
	out->meta_txns = ms.txns;
	out->meta_txn_ns = ms.txn_ns;
}

const char *atr_core_daemon_user(const struct atr_core *c) { return c->daemon_user; }

void atr_core_set_users(struct atr_core *c, const struct atr_idents *ids) { c->users = ids; }

int atr_core_check(struct atr_core *c, const char **what)
{
	struct statvfs sv;
	/* A point lookup of a bucket no one can name: the store answers. */
	int rc = meta_bucket_get(c->meta, "", NULL);
	if (rc != ATR_E_NO_BUCKET) {
		*what = "store";
		return rc ? rc : ATR_E_INTERNAL;
	}
	if (c->ufs->ops->statfs && (rc = c->ufs->ops->statfs(c->ufs, &sv))) {
		*what = "ufs";
		return rc;
	}
	*what = NULL;
	return ATR_OK;
}

void atr_obj_release(struct atr_obj *o)
{
	free(o->hdrs);
	o->hdrs = NULL;
}

void owner_of_uid(struct atr_core *c, uid_t uid, char out[ATR_USER_MAX + 1])
{
	idmap_name(c, (uint32_t)uid, out);
}

int ns_txn_then(struct atr_core *c, int (*fn)(struct atr_core *c, void *arg),
		void (*then)(struct atr_core *c, void *arg, int committed), void *arg)
{
	pthread_mutex_lock(&c->ns_lock);
	int rc = meta_begin(c->meta);
	if (!rc) {
		rc = fn(c, arg);
		if (rc)
			meta_rollback(c->meta);
		else
			rc = meta_commit(c->meta);
	}
	if (then)
		then(c, arg, rc == ATR_OK);
	pthread_mutex_unlock(&c->ns_lock);
	return rc;
}

int ns_txn(struct atr_core *c, int (*fn)(struct atr_core *c, void *arg), void *arg)
{
	return ns_txn_then(c, fn, NULL, arg);
}

/* ---- buckets ---- */

/* A bucket's root directory: its permissions (mode, and the grants text
 * keeps beside it; NULL for none). */
static int root_row(struct atr_core *c, const char *bucket, const char *owner, uint32_t mode,
		    const char *text)
{
	struct meta_row r = { 0 };
	row_init(&r);
	r.obj.is_dir = 1;
	r.implicit = 1;
	r.obj.mode = mode;
	r.obj.version = 1;
	r.has_acl = text != NULL;
	snprintf(r.obj.owner, sizeof(r.obj.owner), "%s", owner);
	int rc = meta_obj_put(c->meta, bucket, "", &r);
	return rc || !text ? rc : meta_acl_set(c->meta, r.obj.ino, text);
}

/* The bucket's row, importing a bucket directory created behind our back
 * and forgetting one whose directory is gone. Call without ns_lock. */
static int bucket_get(struct atr_core *c, const char *name, struct atr_bucket *out, int verify)
{
	struct ufs_stat st;
	int rc = meta_bucket_get(c->meta, name, out);
	/* The object path trusts a known bucket (a stat per request is not
	 * free); bucket operations and listings verify its directory. */
	if (rc == ATR_OK && !verify)
		return ATR_OK;
	int have_dir = c->ufs->ops->stat(c->ufs, name, &st) == ATR_OK && st.is_dir;
	if (rc == ATR_OK && have_dir)
		return ATR_OK;
	if (rc != ATR_OK && rc != ATR_E_NO_BUCKET)
		return rc;
	if (rc == ATR_E_NO_BUCKET && !have_dir)
		return ATR_E_NO_BUCKET;

	pthread_mutex_lock(&c->ns_lock);
	if ((rc = meta_begin(c->meta)))
		goto out;
	rc = meta_bucket_get(c->meta, name, out);
	if (rc == ATR_OK && !have_dir) {
		LOG(LOG_INFO, "core: bucket %s vanished from the under-storage; forgetting it", name);
		meta_obj_delete_prefix(c->meta, name, "");
		meta_bucket_delete(c->meta, name);
		rc = ATR_E_NO_BUCKET;
	} else if (rc == ATR_E_NO_BUCKET && have_dir) {
		memset(out, 0, sizeof(*out));
		snprintf(out->name, sizeof(out->name), "%s", name);
		owner_of_uid(c, st.uid, out->owner);
		out->ctime_ns = st.mtime_ns;
		rc = meta_bucket_insert(c->meta, out);
		/* Found on disk: it keeps the mode it has there. */
		if (!rc)
			rc = root_row(c, name, out->owner, st.mode & 07777, NULL);
		if (!rc)
			rc = meta_bucket_get(c->meta, name, out);
		if (!rc)
			LOG(LOG_INFO, "core: imported bucket %s found in the under-storage", name);
	}
	if (rc == ATR_OK)
		rc = meta_commit(c->meta);
	else
		meta_rollback(c->meta);
out:
	pthread_mutex_unlock(&c->ns_lock);
	return rc;
}

int bucket_check(struct atr_core *c, const struct atr_user *u, const char *name,
		 const char *action, unsigned want, struct atr_bucket *out)
{
	struct atr_bucket b;
	if (!out)
		out = &b;
	if (!atr_bucket_name_valid(name))
		return ATR_E_INVALID_BUCKET;
	int rc = bucket_get(c, name, out, 0);
	if (rc || !want)
		return rc;
	return perm_check(c, u, action, out, NULL, NULL, NULL, want);
}

int atr_bucket_exists(struct atr_core *c, const char *name)
{
	struct atr_bucket b;
	if (!atr_bucket_name_valid(name))
		return ATR_E_INVALID_BUCKET;
	return bucket_get(c, name, &b, 1);
}

int atr_bucket_stat(struct atr_core *c, const struct atr_user *u, const char *name,
		    struct atr_bucket *out)
{
	struct atr_bucket b;
	if (!out)
		out = &b;
	if (!atr_bucket_name_valid(name))
		return ATR_E_INVALID_BUCKET;
	int rc = bucket_get(c, name, out, 1);
	if (rc)
		return rc;
	/* HeadBucket: S3 asks for s3:ListBucket. */
	return perm_check(c, u, "s3:ListBucket", out, NULL, NULL, NULL, PERM_R);
}

int atr_bucket_create(struct atr_core *c, const struct atr_user *u, const char *name,
		      const char *location, const struct atr_acl *acl, int ownership)
{
	struct atr_bucket b;
	uint32_t mode = 0700; /* private */
	char *text = NULL;
	if (!atr_bucket_name_valid(name))
		return ATR_E_INVALID_BUCKET;
	if (u->anonymous)
		return ATR_E_ACCESS;
	if (acl && ownership == ATR_OWN_BUCKET_OWNER_ENFORCED && acl->n > 1)
		return ATR_E_ACLS_OFF; /* an ACL that says more than "private" */
	if (acl && acl_apply(acl, u->name, u->name, 1, &mode, &text))
		return ATR_E_NOMEM;
	int rc = bucket_get(c, name, &b, 1);
	if (rc == ATR_OK)
		rc = strcmp(b.owner, u->name) ? ATR_E_BUCKET_EXISTS : ATR_E_BUCKET_OWNED;
	if (rc != ATR_E_NO_BUCKET) {
		free(text);
		return rc;
	}

	pthread_mutex_lock(&c->ns_lock);
	if ((rc = meta_begin(c->meta)))
		goto out;
	rc = meta_bucket_get(c->meta, name, &b);
	if (rc == ATR_OK) {
		rc = strcmp(b.owner, u->name) ? ATR_E_BUCKET_EXISTS : ATR_E_BUCKET_OWNED;
		goto rollback;
	}
	memset(&b, 0, sizeof(b));
	snprintf(b.name, sizeof(b.name), "%s", name);
	snprintf(b.owner, sizeof(b.owner), "%s", u->name);
	snprintf(b.location, sizeof(b.location), "%s", location ? location : "");
	b.ctime_ns = time_now_ns();
	if ((rc = c->ufs->ops->mkdir(c->ufs, name)) ||
	    (rc = meta_bucket_insert(c->meta, &b)) ||
	    (rc = root_row(c, name, u->name, mode, text)) ||
	    (ownership >= 0 &&
	     (rc = meta_bucket_conf_set(c->meta, name, META_KEEP, ownership, NULL, 0))))
		goto rollback;
	rc = meta_commit(c->meta);
	goto out;
rollback:
	meta_rollback(c->meta);
out:
	pthread_mutex_unlock(&c->ns_lock);
	free(text);
	return rc;
}

struct empty_check {
	int found;
};

static int found_one(void *arg, const char *key, const struct meta_row *row)
{
	((struct empty_check *)arg)->found = 1;
	return 1;
}

struct dirlist {
	char **keys;
	size_t n, cap;
};

static int collect_dir(void *arg, const char *key, const struct meta_row *row)
{
	struct dirlist *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **k = realloc(l->keys, cap * sizeof(*k));
		if (!k)
			return 1;
		l->keys = k;
		l->cap = cap;
	}
	if (!(l->keys[l->n] = strdup(key)))
		return 1;
	l->n++;
	return 0;
}

int atr_bucket_delete(struct atr_core *c, const struct atr_user *u, const char *name)
{
	struct atr_bucket b;
	struct dirlist dirs = { 0 };
	int rc = bucket_check(c, u, name, "s3:DeleteBucket", PERM_OWNER, &b);
	if (rc)
		return rc;
	if ((rc = sync_tree(c, name, "")))
		return rc;

	pthread_mutex_lock(&c->ns_lock);
	struct empty_check e = { 0 };
	if ((rc = meta_obj_scan(c->meta, name, "", 0, NULL, 1, found_one, &e)))
		goto out;
	if (e.found) {
		rc = ATR_E_BUCKET_NOT_EMPTY;
		goto out;
	}
	/* Only implied directories are left: remove them deepest first. */
	if ((rc = meta_dir_scan(c->meta, name, "", NULL, collect_dir, &dirs)))
		goto out;
	char path[ATR_KEY_MAX + ATR_BUCKET_MAX + 8];
	for (size_t i = dirs.n; i-- > 0;) {
		if (ufs_path(path, sizeof(path), name, dirs.keys[i]))
			continue;
		if ((rc = c->ufs->ops->rmdir(c->ufs, path)))
			goto out;
	}
	if ((rc = meta_begin(c->meta)))
		goto out;
	struct meta_row root = { 0 };
	if (!meta_obj_get(c->meta, name, "", &root, 0))
		node_event(c, name, "", &root.obj);
	if ((rc = meta_obj_delete_prefix(c->meta, name, "")) ||
	    (rc = meta_bucket_delete(c->meta, name))) {
		meta_rollback(c->meta);
		goto out;
	}
	rc = meta_commit(c->meta);
out:
	pthread_mutex_unlock(&c->ns_lock);
	for (size_t i = 0; i < dirs.n; i++)
		free(dirs.keys[i]);
	free(dirs.keys);
	node_settle(c);
	if (!rc) {
		mpu_bucket_deleted(c, name); /* its uploads in progress go with it */
		perm_policy_forget(c, name);
	}
	return rc;
}

struct bucket_import {
	struct atr_core *c;
};

static int import_bucket_dir(void *arg, const char *name, const struct ufs_stat *st)
{
	struct atr_bucket b;
	if (st->is_dir && atr_bucket_name_valid(name))
		bucket_get(arg, name, &b, 1);
	return 0;
}

int sync_buckets(struct atr_core *c)
{
	return c->ufs->ops->readdir(c->ufs, "", import_bucket_dir, c);
}

struct bucket_names {
	struct atr_core *c;
	char (*v)[ATR_BUCKET_MAX + 1];
	size_t n, cap;
};

static int collect_bucket(void *arg, const struct atr_bucket *b)
{
	struct bucket_names *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		void *v = realloc(l->v, cap * sizeof(*l->v));
		if (!v)
			return 1;
		l->v = v;
		l->cap = cap;
	}
	snprintf(l->v[l->n++], ATR_BUCKET_MAX + 1, "%s", b->name);
	return 0;
}

int atr_bucket_list(struct atr_core *c, const struct atr_user *u, atr_bucket_cb cb, void *arg)
{
	struct bucket_names names = { .c = c };
	if (u->anonymous)
		return ATR_E_ACCESS;
	sync_buckets(c);
	/* Collect first, then verify each directory (which may forget a
	 * bucket: no writes while the scan is open). */
	int rc = meta_bucket_list(c->meta, u->name, collect_bucket, &names);
	for (size_t i = 0; !rc && i < names.n; i++) {
		struct atr_bucket b;
		int e = bucket_get(c, names.v[i], &b, 1);
		if (e == ATR_OK && cb(arg, &b))
			break;
		if (e && e != ATR_E_NO_BUCKET)
			rc = e;
	}
	free(names.v);
	return rc;
}

int hash_ufs_file(struct atr_core *c, const char *path, char etag[ATR_ETAG_MAX + 1],
		  struct ufs_stat *st)
{
	struct ufs_file *f;
	struct hash h;
	unsigned char sum[MD5_LEN];
	int rc = c->ufs->ops->open(c->ufs, path, &f, st);
	if (rc)
		return rc;
	enum { CHUNK = 1 << 20 };
	unsigned char *buf = malloc(CHUNK);
	if (!buf || hash_init(&h, HASH_MD5)) {
		free(buf);
		c->ufs->ops->close(f);
		return ATR_E_NOMEM;
	}
	uint64_t off = 0;
	for (;;) {
		ssize_t n = c->ufs->ops->pread(f, buf, CHUNK, off);
		if (n < 0) {
			rc = ATR_E_IO;
			break;
		}
		if (n == 0)
			break;
		hash_update(&h, buf, (size_t)n);
		off += (uint64_t)n;
	}
	if (rc) {
		hash_release(&h);
	} else {
		hash_final(&h, sum);
		hex_encode(sum, MD5_LEN, etag);
	}
	free(buf);
	c->ufs->ops->close(f);
	return rc;
}
