/*
 * ns_bucket — buckets in the namespace kernel (src/ns_int.h): the bucket
 * rows and their root directories, kept in step with the top-level
 * directories of the UFS (one made or removed behind our back is imported
 * or forgotten when met), made and removed with their directories.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "src/ns_int.h"
#include "src/perm_int.h"
#include "common/banned.h"

/* A bucket's root directory: its permissions (mode, and the grants text
 * keeps beside it; NULL for none). */
static int root_row(struct atr_core *c, const char *bucket, const char *owner, uint32_t mode,
		    const char *text)
{
	struct meta_row r = { 0 };
	ns_row_init(&r);
	r.obj.is_dir = 1;
	r.implicit = 1;
	r.obj.mode = mode;
	r.obj.version = 1;
	r.has_acl = text != NULL;
	snprintf(r.obj.owner, sizeof(r.obj.owner), "%s", owner);
	int rc = meta_obj_put(c->meta, bucket, "", &r);
	return rc || !text ? rc : meta_acl_set(c->meta, r.obj.ino, text);
}

/* What a bucket takes with it besides its rows: its uploads in progress
 * (AWS deletes them with it), its mount, its parsed policy, and the
 * caches of its documents (their rows go by a trigger). */
static void bucket_forgotten(struct atr_core *c, const char *name)
{
	mpu_bucket_deleted(c, name);
	mounts_bucket_gone(c, name);
	perm_policy_forget(c, name);
	__atomic_add_fetch(&c->docs_gen, 1, __ATOMIC_RELEASE);
}

/* The rows of bucket arg (its name), its root's event told. */
static int bucket_rows_drop_fn(struct atr_core *c, void *arg)
{
	const char *name = arg;
	struct meta_row root = { 0 };
	if (!meta_obj_get(c->meta, name, "", &root, 0))
		ns_event(c, name, "", &root.obj);
	int rc = meta_obj_delete_prefix(c->meta, name, "");
	return rc ? rc : meta_bucket_delete(c->meta, name);
}

/* The bucket's row set right with its directory (have_dir), in ns_txn: a
 * bucket directory made behind our back imported, a known bucket whose
 * directory is gone forgotten (forgot: the caller answers NO_BUCKET). */
struct bucket_fix {
	const char *name;
	int have_dir;
	const struct ufs_stat *st;
	struct atr_bucket *out;
	int forgot;
};

static int bucket_fix_fn(struct atr_core *c, void *arg)
{
	struct bucket_fix *f = arg;
	int rc = meta_bucket_get(c->meta, f->name, f->out);
	if (rc == ATR_OK && !f->have_dir) {
		LOG(LOG_INFO, "core: bucket %s vanished from the under-storage; forgetting it",
		    f->name);
		if (!(rc = bucket_rows_drop_fn(c, (void *)f->name)))
			f->forgot = 1;
	} else if (rc == ATR_E_NO_BUCKET && f->have_dir) {
		memset(f->out, 0, sizeof(*f->out));
		snprintf(f->out->name, sizeof(f->out->name), "%s", f->name);
		owner_of_uid(c, f->st->uid, f->out->owner);
		f->out->ctime_ns = f->st->mtime_ns;
		rc = meta_bucket_insert(c->meta, f->out);
		/* Found on disk: it keeps the mode it has there. */
		if (!rc)
			rc = root_row(c, f->name, f->out->owner, f->st->mode & 07777, NULL);
		if (!rc)
			rc = meta_bucket_get(c->meta, f->name, f->out);
		if (!rc)
			LOG(LOG_INFO, "core: imported bucket %s found in the under-storage", f->name);
	}
	return rc;
}

int ns_bucket_get(struct atr_core *c, const char *name, struct atr_bucket *out, int verify)
{
	struct ufs_stat st;
	int rc = meta_bucket_get(c->meta, name, out);
	/* The object path trusts a known bucket (a stat per request is not
	 * free); bucket operations and listings verify its directory. */
	if (rc == ATR_OK && !verify)
		return ATR_OK;
	/* The store failing to say is not the directory gone. */
	int src = ufs_stat(c->ufs, name, &st);
	if (src && !ufs_absent(src))
		return src;
	int have_dir = src == ATR_OK && st.is_dir;
	if (rc == ATR_OK && have_dir)
		return ATR_OK;
	if (rc != ATR_OK && rc != ATR_E_NO_BUCKET)
		return rc;
	if (rc == ATR_E_NO_BUCKET && !have_dir)
		return ATR_E_NO_BUCKET;

	struct bucket_fix f = { name, have_dir, &st, out, 0 };
	rc = ns_txn(c, bucket_fix_fn, &f);
	if (!rc && f.forgot) {
		ns_settle(c);
		bucket_forgotten(c, name);
		return ATR_E_NO_BUCKET;
	}
	return rc;
}

struct bucket_new {
	const char *owner, *name, *location;
	uint32_t mode;
	const char *grants;
	int ownership;
};

static int bucket_new_fn(struct atr_core *c, void *arg)
{
	struct bucket_new *n = arg;
	struct atr_bucket b;
	int rc = meta_bucket_get(c->meta, n->name, &b);
	if (rc == ATR_OK)
		return strcmp(b.owner, n->owner) ? ATR_E_BUCKET_EXISTS : ATR_E_BUCKET_OWNED;
	memset(&b, 0, sizeof(b));
	snprintf(b.name, sizeof(b.name), "%s", n->name);
	snprintf(b.owner, sizeof(b.owner), "%s", n->owner);
	snprintf(b.location, sizeof(b.location), "%s", n->location ? n->location : "");
	b.ctime_ns = time_now_ns();
	if ((rc = ufs_mkdir(c->ufs, n->name)) || (rc = meta_bucket_insert(c->meta, &b)) ||
	    (rc = root_row(c, n->name, n->owner, n->mode, n->grants)))
		return rc;
	return n->ownership >= 0 ? meta_bucket_conf_set(c->meta, n->name, META_KEEP,
							 n->ownership, NULL, 0)
				 : ATR_OK;
}

int ns_bucket_create(struct atr_core *c, const char *owner, const char *name,
		     const char *location, uint32_t mode, const char *grants, int ownership)
{
	struct atr_bucket b;
	int rc = ns_bucket_get(c, name, &b, 1);
	if (rc == ATR_OK)
		return strcmp(b.owner, owner) ? ATR_E_BUCKET_EXISTS : ATR_E_BUCKET_OWNED;
	if (rc != ATR_E_NO_BUCKET)
		return rc;

	struct bucket_new n = { owner, name, location, mode, grants, ownership };
	return ns_txn(c, bucket_new_fn, &n);
}

int ns_bucket_make(struct atr_core *c, const char *owner, const char *name, uint32_t mode)
{
	struct bucket_new n = { owner, name, NULL, mode, NULL, -1 };
	return ns_txn(c, bucket_new_fn, &n);
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

int ns_bucket_forget(struct atr_core *c, const char *name)
{
	int rc = ns_txn(c, bucket_rows_drop_fn, (void *)name);
	ns_settle(c);
	if (!rc)
		bucket_forgotten(c, name);
	return rc;
}

int ns_bucket_delete(struct atr_core *c, const char *name)
{
	struct dirlist dirs = { 0 };
	struct atr_bucket b;
	int rc = ns_bucket_get(c, name, &b, 1);
	if (rc || (rc = ns_sync_tree(c, name, "")))
		return rc;

	/* The UFS directories are removed before the transaction, under
	 * ns_lock: a bucket being deleted is empty but for implied
	 * directories, so this is a few rmdir calls, and no write of the
	 * bucket can come between. */
	ns_lock(c);
	struct empty_check e = { 0 };
	if ((rc = meta_obj_scan(c->meta, name, "", 0, NULL, 1, found_one, &e)))
		goto out;
	/* Noncurrent versions and delete markers are content too (S3). */
	if (e.found || meta_ver_count(c->meta, name) != 0) {
		rc = ATR_E_BUCKET_NOT_EMPTY;
		goto out;
	}
	/* Only implied directories are left: remove them deepest first. */
	if ((rc = meta_dir_scan(c->meta, name, "", NULL, collect_dir, &dirs)))
		goto out;
	char path[ATR_KEY_MAX + ATR_BUCKET_MAX + 8];
	for (size_t i = dirs.n; i-- > 0;) {
		if (key_path(path, sizeof(path), name, dirs.keys[i]))
			continue;
		if ((rc = ufs_rmdir(c->ufs, path)))
			goto out;
	}
	rc = ns_txn_locked(c, bucket_rows_drop_fn, (void *)name);
out:
	ns_unlock(c);
	for (size_t i = 0; i < dirs.n; i++)
		free(dirs.keys[i]);
	free(dirs.keys);
	ns_settle(c);
	if (!rc)
		bucket_forgotten(c, name);
	return rc;
}

struct bucket_import {
	struct atr_core *c;
};

static int import_bucket_dir(void *arg, const char *name, const struct ufs_stat *st)
{
	struct atr_bucket b;
	if (st->is_dir && atr_bucket_name_valid(name))
		ns_bucket_get(arg, name, &b, 1);
	return 0;
}

int ns_sync_buckets(struct atr_core *c)
{
	return ufs_readdir(c->ufs, "", import_bucket_dir, c);
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

int ns_bucket_list(struct atr_core *c, const char *owner, atr_bucket_cb cb, void *arg)
{
	struct bucket_names names = { .c = c };
	ns_sync_buckets(c);
	/* Collect first, then verify each directory (which may forget a
	 * bucket: no writes while the scan is open). */
	int rc = meta_bucket_list(c->meta, owner, collect_bucket, &names);
	for (size_t i = 0; !rc && i < names.n; i++) {
		struct atr_bucket b;
		int e = ns_bucket_get(c, names.v[i], &b, 1);
		if (e == ATR_OK && cb(arg, &b))
			break;
		if (e && e != ATR_E_NO_BUCKET)
			rc = e;
	}
	free(names.v);
	return rc;
}
