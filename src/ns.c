/*
 * ns — the namespace kernel's base (src/ns_int.h): ns_lock and the one
 * transaction helper, fresh rows, and the upkeep of the tree every change
 * of a name needs: the directories above a key made (as rows and in the
 * UFS) or pruned, and the directories whose listing a change moved
 * brought forward (struct ns_touched).
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timefmt.h"
#include "src/ns_int.h"
#include "src/perm_int.h"
#include "common/banned.h"

/* ---- ns_lock and transactions ---- */

void ns_lock(struct atr_core *c)
{
	pthread_mutex_lock(&c->ns_lock);
	c->ns_owner = pthread_self();
	__atomic_store_n(&c->ns_owned, 1, __ATOMIC_RELAXED);
}

void ns_unlock(struct atr_core *c)
{
	NS_ASSERT_HELD(c);
	__atomic_store_n(&c->ns_owned, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&c->ns_lock);
}

int ns_held(struct atr_core *c)
{
	/* Only the owner can see its own store of ns_owned with ns_owner
	 * still its own: another thread may read a stale pair, never one
	 * naming it. */
	return __atomic_load_n(&c->ns_owned, __ATOMIC_RELAXED) &&
	       pthread_equal(c->ns_owner, pthread_self());
}

int ns_wait(struct atr_core *c, pthread_cond_t *cond)
{
	NS_ASSERT_HELD(c);
	__atomic_store_n(&c->ns_owned, 0, __ATOMIC_RELAXED);
	int rc = pthread_cond_wait(cond, &c->ns_lock);
	c->ns_owner = pthread_self();
	__atomic_store_n(&c->ns_owned, 1, __ATOMIC_RELAXED);
	return rc;
}

int ns_txn_locked(struct atr_core *c, int (*fn)(struct atr_core *c, void *arg), void *arg)
{
	NS_ASSERT_HELD(c);
	int rc = ns_redo(c); /* what an earlier change owes comes first */
	if (!rc)
		rc = meta_begin(c->meta);
	if (!rc) {
		rc = fn(c, arg);
		if (rc)
			meta_rollback(c->meta);
		else
			rc = meta_commit(c->meta);
	}
	return rc;
}

int ns_txn_then(struct atr_core *c, int (*fn)(struct atr_core *c, void *arg),
		int (*then)(struct atr_core *c, void *arg, int committed), void *arg)
{
	ns_lock(c);
	int rc = ns_txn_locked(c, fn, arg);
	if (then) {
		int trc = then(c, arg, rc == ATR_OK);
		if (!rc)
			rc = trc;
	}
	ns_unlock(c);
	return rc;
}

int ns_txn(struct atr_core *c, int (*fn)(struct atr_core *c, void *arg), void *arg)
{
	return ns_txn_then(c, fn, NULL, arg);
}

/* ---- rows ---- */

void ns_row_init(struct meta_row *r)
{
	memset(r, 0, sizeof(*r));
	r->obj.gid = -1;
	r->obj.ctime_ns = r->obj.atime_ns = time_now_ns();
}

void ns_dir_row(struct meta_row *r, const char *owner, int implicit)
{
	ns_row_init(r);
	r->obj.is_dir = 1;
	r->implicit = implicit;
	r->obj.mode = 0755;
	r->obj.version = 1;
	snprintf(r->obj.owner, sizeof(r->obj.owner), "%s", owner);
	/* The MD5 of nothing: a directory marker is an empty object. */
	snprintf(r->obj.etag, sizeof(r->obj.etag), "%s", ATR_MD5_EMPTY);
}

int ns_acl_copy(struct atr_core *c, uint64_t from, uint64_t to)
{
	char *text = NULL;
	NS_ASSERT_HELD(c);
	int rc = meta_acl_get(c->meta, from, &text);
	if (rc == ATR_OK)
		rc = meta_acl_set(c->meta, to, text);
	free(text);
	return rc == ATR_E_NO_KEY ? ATR_OK : rc;
}

/* ---- directories touched ---- */

int ns_ufs_gone(struct atr_core *c, const char *path)
{
	struct ufs_stat st;
	return ufs_stat(c->ufs, path, &st) == ATR_E_NO_KEY;
}

int ns_ufs_mkdirs(struct atr_core *c, const char *path)
{
	char dir[PATH_MAX_UFS];
	int rc = ATR_OK;
	for (const char *p = strchr(path, '/'); p && !rc; p = strchr(p + 1, '/')) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(p - path), path);
		rc = ufs_mkdir(c->ufs, dir);
	}
	return rc;
}

int64_t ns_ufs_mtime(struct atr_core *c, const char *bucket, const char *dirkey)
{
	char path[PATH_MAX_UFS];
	struct ufs_stat st;
	if (key_path(path, sizeof(path), bucket, dirkey) || ufs_stat(c->ufs, path, &st))
		return -1;
	return st.mtime_ns;
}

void ns_touch(struct atr_core *c, struct ns_touched *t, const char *bucket, const char *dirkey,
	      int created)
{
	if (!t)
		return; /* no bookkeeping: the next listing re-reads the directory */
	size_t len = strlen(dirkey);
	assert(!strncmp(dirkey, t->key, len));
	for (int i = 0; i < t->n; i++)
		if (t->d[i].len == len)
			return;
	if (t->n == TOUCH_MAX)
		return; /* left out: it will simply be re-read by the next listing */
	t->d[t->n].len = len;
	t->d[t->n].before = created ? 0 : ns_ufs_mtime(c, bucket, dirkey);
	t->d[t->n].created = created;
	t->n++;
}

void ns_touched_done(struct atr_core *c, struct ns_touched *t, const char *bucket)
{
	char dirkey[ATR_KEY_MAX + 1];
	NS_ASSERT_HELD(c);
	for (int i = 0; i < t->n; i++) {
		struct meta_row r = { 0 };
		memcpy(dirkey, t->key, t->d[i].len);
		dirkey[t->d[i].len] = '\0';
		if (meta_obj_get(c->meta, bucket, dirkey, &r, 0))
			continue;
		if (t->d[i].created || r.dir_mtime == t->d[i].before)
			meta_obj_set_dir_mtime(c->meta, bucket, dirkey,
					       ns_ufs_mtime(c, bucket, dirkey));
	}
}

/* ---- the directories above a key ---- */

/* The directories of key's first n bytes, each one ending in '/'. */
static int ensure_dirs(struct atr_core *c, const char *bucket, const char *key, size_t n,
		       int mkdirs, struct ns_touched *t)
{
	char anc[ATR_KEY_MAX + 2], path[PATH_MAX_UFS];
	char prev[ATR_KEY_MAX + 2] = "";
	/* The directory above the next one made, whose permissions it takes:
	 * the deepest one met, or the bucket's root. */
	struct meta_row above = { 0 };
	struct atr_bucket b;
	int have_above = 0, have_b = 0;
	/* A store whose directories are implied by their contents gets none
	 * made (UFS_CAP_DIRS_IMPLIED): the rows alone hold them. */
	if (mkdirs && ufs_can_at(c->ufs, bucket, UFS_CAP_DIRS_IMPLIED))
		mkdirs = 0;
	for (size_t i = 0; i < n; i++) {
		if (key[i] != '/')
			continue;
		struct meta_row r = { 0 };
		memcpy(anc, key, i);
		anc[i] = '\0';
		int rc = meta_obj_get(c->meta, bucket, anc, &r, 0);
		if (rc == ATR_OK && !r.side)
			return ATR_E_PARENT_IS_OBJECT;
		if (rc != ATR_OK && rc != ATR_E_NO_KEY)
			return rc; /* else none, or a side file: not in the way */
		anc[i] = '/';
		anc[i + 1] = '\0';
		rc = meta_obj_get(c->meta, bucket, anc, &r, 0);
		if (rc == ATR_OK) {
			memcpy(prev, anc, i + 2);
			above = r;
			have_above = 1;
			continue;
		}
		if (rc != ATR_E_NO_KEY)
			return rc;
		int created = 0;
		if (mkdirs) {
			struct ufs_stat st;
			if (key_path(path, sizeof(path), bucket, anc))
				return ATR_E_KEY_TOO_LONG;
			rc = ufs_stat(c->ufs, path, &st);
			if (rc == ATR_OK && !st.is_dir)
				return ATR_E_PARENT_IS_OBJECT;
			if (rc == ATR_E_NO_KEY) {
				ns_touch(c, t, bucket, prev, 0);
				if ((rc = ufs_mkdir(c->ufs, path)))
					return rc;
				created = 1;
			} else if (rc) {
				return rc;
			}
		}
		if (!have_above && !have_b) {
			if ((rc = meta_bucket_get(c->meta, bucket, &b)))
				return rc;
			have_b = 1;
		}
		ns_dir_row(&r, "", 1);
		perm_inherit(&b, have_above ? &above : NULL, &r);
		if ((rc = meta_obj_put(c->meta, bucket, anc, &r)) ||
		    (r.has_acl &&
		     (rc = ns_acl_copy(c, have_above ? obj_node(&above.obj) : b.root_ino,
				       obj_node(&r.obj)))))
			return rc;
		ns_event(c, bucket, anc, &r.obj); /* its parent gains a subdirectory */
		above = r;
		have_above = 1;
		if (created)
			ns_touch(c, t, bucket, anc, 1);
		memcpy(prev, anc, i + 2);
	}
	return ATR_OK;
}

int ns_ensure_parents(struct atr_core *c, const char *bucket, const char *key, int mkdirs,
		      struct ns_touched *t)
{
	NS_ASSERT_HELD(c);
	size_t n = strlen(key);
	if (n && key[n - 1] == '/')
		n--;
	return ensure_dirs(c, bucket, key, n, mkdirs, t);
}

int ns_prune_parents(struct atr_core *c, const char *bucket, const char *key,
		     struct ns_touched *t)
{
	char dir[ATR_KEY_MAX + 2], path[PATH_MAX_UFS];
	NS_ASSERT_HELD(c);
	key_parent(key, dir);
	while (*dir) {
		struct meta_row r = { 0 };
		if (meta_obj_get(c->meta, bucket, dir, &r, 0) || !r.implicit)
			break;
		int kids = meta_obj_has_children(c->meta, bucket, dir);
		if (kids != 0)
			break;
		key_path(path, sizeof(path), bucket, dir);
		if (ufs_rmdir(c->ufs, path) && !ns_ufs_gone(c, path))
			break; /* something we do not know of lives there */
		ns_event(c, bucket, dir, &r.obj);
		int rc = meta_obj_delete(c->meta, bucket, dir);
		if (rc)
			return rc;
		char up[ATR_KEY_MAX + 2];
		key_parent(dir, up);
		ns_touch(c, t, bucket, up, 0);
		memcpy(dir, up, strlen(up) + 1);
	}
	return ATR_OK;
}

int ns_tree_check(struct atr_core *c, const char *bucket, const char *key)
{
	char anc[ATR_KEY_MAX + 2];
	struct meta_row r = { 0 };
	size_t n = strlen(key);
	if (ufs_can_at(c->ufs, bucket, UFS_CAP_RENAME))
		return ATR_OK; /* every conflict is resolved by the side form */
	if (key_is_dir(key))
		n--;
	for (size_t i = 0; i < n; i++) {
		if (key[i] != '/')
			continue;
		memcpy(anc, key, i);
		anc[i] = '\0';
		if (meta_obj_get(c->meta, bucket, anc, &r, 0) == ATR_OK)
			return ATR_E_PARENT_IS_OBJECT;
	}
	/* The other form of the same name: "k/" for a file, "k" for a marker. */
	if (!key_is_dir(key))
		snprintf(anc, sizeof(anc), "%s/", key);
	else
		snprintf(anc, sizeof(anc), "%.*s", (int)n, key);
	if (meta_obj_get(c->meta, bucket, anc, &r, 0) == ATR_OK)
		return ATR_E_KEY_IS_PREFIX;
	return ATR_OK;
}

int ns_ensure_dir(struct atr_core *c, const char *bucket, const char *dirkey)
{
	NS_ASSERT_HELD(c);
	return ensure_dirs(c, bucket, dirkey, strlen(dirkey), 0, NULL);
}
