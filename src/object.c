/* object — PUT, GET, HEAD and DELETE of objects over the UFS and the metadata. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "src/core_int.h"
#include "src/perm_int.h"

#define PATH_MAX_UFS (ATR_BUCKET_MAX + ATR_KEY_MAX + 8)


static int64_t ufs_mtime(struct atr_core *c, const char *bucket, const char *dirkey)
{
	char path[PATH_MAX_UFS];
	struct ufs_stat st;
	if (ufs_path(path, sizeof(path), bucket, dirkey) || c->ufs->ops->stat(c->ufs, path, &st))
		return -1;
	return st.mtime_ns;
}

/*
 * Directories whose content a mutation changed. A directory's dir_mtime
 * says "the rows are in step with the UFS as of this mtime". After our own
 * change we move it forward, but only if it was in step before (else a
 * change made behind our back would be hidden) or if we created it.
 * Every such directory is a prefix of the key being changed, so only its
 * length is kept: civetweb's worker stacks are 100 KiB (Debian's build).
 */
#define TOUCH_MAX 8
struct touched {
	const char *key; /* the key being changed */
	int n;
	struct {
		size_t len;
		int64_t before;
		int created;
	} d[TOUCH_MAX];
};

static void touch(struct atr_core *c, struct touched *t, const char *bucket,
		  const char *dirkey, int created)
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
	t->d[t->n].before = created ? 0 : ufs_mtime(c, bucket, dirkey);
	t->d[t->n].created = created;
	t->n++;
}

static void touched_done(struct atr_core *c, struct touched *t, const char *bucket)
{
	char dirkey[ATR_KEY_MAX + 1];
	for (int i = 0; i < t->n; i++) {
		struct meta_row r = { 0 };
		memcpy(dirkey, t->key, t->d[i].len);
		dirkey[t->d[i].len] = '\0';
		if (meta_obj_get(c->meta, bucket, dirkey, &r, 0))
			continue;
		if (t->d[i].created || r.dir_mtime == t->d[i].before)
			meta_obj_set_dir_mtime(c->meta, bucket, dirkey, ufs_mtime(c, bucket, dirkey));
	}
}

void row_init(struct meta_row *r)
{
	memset(r, 0, sizeof(*r));
	r->obj.gid = -1;
	r->obj.ctime_ns = r->obj.atime_ns = time_now_ns();
}

static void dir_row(struct meta_row *r, const char *owner, int implicit)
{
	row_init(r);
	r->obj.is_dir = 1;
	r->implicit = implicit;
	r->obj.mode = 0755;
	r->obj.version = 1;
	snprintf(r->obj.owner, sizeof(r->obj.owner), "%s", owner);
	/* The MD5 of nothing: a directory marker is an empty object. */
	snprintf(r->obj.etag, sizeof(r->obj.etag), "d41d8cd98f00b204e9800998ecf8427e");
}

/* The grants kept for inode from go to inode to as well. */
static int acl_copy(struct atr_core *c, uint64_t from, uint64_t to)
{
	char *text = NULL;
	int rc = meta_acl_get(c->meta, from, &text);
	if (rc == ATR_OK)
		rc = meta_acl_set(c->meta, to, text);
	free(text);
	return rc == ATR_E_NO_KEY ? ATR_OK : rc;
}

/*
 * Makes sure every directory above key exists, as a row and (with mkdirs)
 * in the UFS; refuses a key below an object. Runs under ns_lock inside a
 * transaction.
 */
/* The directories of key's first n bytes, each one ending in '/'. */
static int ensure_dirs(struct atr_core *c, const char *bucket, const char *key, size_t n,
		       int mkdirs, struct touched *t)
{
	char anc[ATR_KEY_MAX + 2], path[PATH_MAX_UFS];
	char prev[ATR_KEY_MAX + 2] = "";
	/* The directory above the next one made, whose permissions it takes:
	 * the deepest one met, or the bucket's root. */
	struct meta_row above = { 0 };
	struct atr_bucket b;
	int have_above = 0, have_b = 0;
	for (size_t i = 0; i < n; i++) {
		if (key[i] != '/')
			continue;
		struct meta_row r = { 0 };
		memcpy(anc, key, i);
		anc[i] = '\0';
		int rc = meta_obj_get(c->meta, bucket, anc, &r, 0);
		if (rc == ATR_OK)
			return ATR_E_PARENT_IS_OBJECT;
		if (rc != ATR_E_NO_KEY)
			return rc;
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
			if (ufs_path(path, sizeof(path), bucket, anc))
				return ATR_E_KEY_TOO_LONG;
			rc = c->ufs->ops->stat(c->ufs, path, &st);
			if (rc == ATR_OK && !st.is_dir)
				return ATR_E_PARENT_IS_OBJECT;
			if (rc == ATR_E_NO_KEY) {
				touch(c, t, bucket, prev, 0);
				if ((rc = c->ufs->ops->mkdir(c->ufs, path)))
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
		dir_row(&r, "", 1);
		perm_inherit(&b, have_above ? &above : NULL, &r);
		if ((rc = meta_obj_put(c->meta, bucket, anc, &r)) ||
		    (r.has_acl && (rc = acl_copy(c, have_above ? obj_node(&above.obj) : b.root_ino,
						 obj_node(&r.obj)))))
			return rc;
		node_event(c, bucket, anc, &r.obj); /* its parent gains a subdirectory */
		above = r;
		have_above = 1;
		if (created)
			touch(c, t, bucket, anc, 1);
		memcpy(prev, anc, i + 2);
	}
	return ATR_OK;
}

int ensure_parents(struct atr_core *c, const char *bucket, const char *key, int mkdirs,
		   struct touched *t)
{
	size_t n = strlen(key);
	if (n && key[n - 1] == '/')
		n--;
	return ensure_dirs(c, bucket, key, n, mkdirs, t);
}

/* ---- writing ---- */

static int is_dir_key(const char *key)
{
	size_t n = strlen(key);
	return n > 0 && key[n - 1] == '/';
}

/* Tree conflicts we can see before taking any body: a file where a parent
 * directory must go, or a directory where the file must go. */
static int precheck_tree(struct atr_core *c, const char *bucket, const char *key)
{
	char anc[ATR_KEY_MAX + 2];
	struct meta_row r = { 0 };
	size_t n = strlen(key);
	if (is_dir_key(key))
		n--;
	for (size_t i = 0; i < n; i++) {
		if (key[i] != '/')
			continue;
		memcpy(anc, key, i);
		anc[i] = '\0';
		if (meta_obj_get(c->meta, bucket, anc, &r, 0) == ATR_OK)
			return ATR_E_PARENT_IS_OBJECT;
	}
	if (!is_dir_key(key)) {
		snprintf(anc, sizeof(anc), "%s/", key);
		if (meta_obj_get(c->meta, bucket, anc, &r, 0) == ATR_OK)
			return ATR_E_KEY_IS_PREFIX;
	} else {
		memcpy(anc, key, n);
		anc[n] = '\0';
		if (meta_obj_get(c->meta, bucket, anc, &r, 0) == ATR_OK)
			return ATR_E_KEY_IS_PREFIX;
	}
	return ATR_OK;
}

void object_owner(const struct atr_user *u, const struct atr_bucket *b,
		  const struct atr_acl *acl, char out[ATR_USER_MAX + 1])
{
	int to_bucket_owner = u->anonymous || b->ownership == ATR_OWN_BUCKET_OWNER_ENFORCED;
	for (int i = 0; acl && b->ownership == ATR_OWN_BUCKET_OWNER_PREFERRED && i < acl->n; i++)
		to_bucket_owner |= acl->g[i].grantee == ATR_GRANTEE_BUCKET_OWNER &&
				   acl->g[i].perm == ATR_PERM_FULL_CONTROL;
	snprintf(out, ATR_USER_MAX + 1, "%s", to_bucket_owner ? b->owner : u->name);
}

int acl_allowed(const struct atr_bucket *b, const struct atr_acl *acl)
{
	if (!acl)
		return ATR_OK;
	if (b->ownership == ATR_OWN_BUCKET_OWNER_ENFORCED) {
		/* ACLs are off: only what changes nothing is taken (AWS takes
		 * bucket-owner-full-control, and private on a bucket). */
		for (int i = 0; i < acl->n; i++)
			if (acl->g[i].grantee != ATR_GRANTEE_OWNER &&
			    acl->g[i].grantee != ATR_GRANTEE_BUCKET_OWNER)
				return ATR_E_ACLS_OFF;
	}
	if (b->public_block > 0 && (b->public_block & ATR_PAB_BLOCK_ACLS) && atr_acl_is_public(acl))
		return ATR_E_ACCESS;
	return ATR_OK;
}

int atr_put_begin(struct atr_core *c, const struct atr_user *u, const char *bucket,
		  const char *key, uint64_t size_hint, struct atr_writer **out)
{
	struct atr_bucket b;
	int rc = bucket_check(c, u, bucket, NULL, 0, &b);
	if (rc || (rc = atr_key_valid(key)) ||
	    (rc = perm_write_key(c, u, "s3:PutObject", &b, key)) ||
	    (rc = precheck_tree(c, bucket, key)))
		return rc;
	struct atr_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return ATR_E_NOMEM;
	w->c = c;
	w->b = b;
	w->anonymous = u->anonymous;
	snprintf(w->writer, sizeof(w->writer), "%s", u->name);
	object_owner(u, &b, NULL, w->user);
	snprintf(w->bucket, sizeof(w->bucket), "%s", bucket);
	snprintf(w->key, sizeof(w->key), "%s", key);
	w->is_dir = is_dir_key(key);
	if ((rc = stage_writer_init(c, &w->sw, !w->is_dir))) {
		free(w);
		return rc;
	}
	*out = w;
	return ATR_OK;
}

int stage_writer_init(struct atr_core *c, struct stage_writer *sw, int with_stage)
{
	memset(sw, 0, sizeof(*sw));
	if (hash_init(&sw->md5, HASH_MD5))
		return ATR_E_NOMEM;
	sw->md5_open = 1;
	int rc = with_stage ? c->ufs->ops->stage_open(c->ufs, &sw->stage) : ATR_OK;
	if (rc)
		stage_writer_release(c, sw);
	return rc;
}

int stage_writer_write(struct atr_core *c, struct stage_writer *sw, const void *data, size_t len)
{
	if (!sw->md5_open)
		return ATR_E_INTERNAL;
	hash_update(&sw->md5, data, len);
	sw->size += len;
	return sw->stage ? c->ufs->ops->stage_write(sw->stage, data, len) : ATR_OK;
}

void stage_writer_md5(struct stage_writer *sw, unsigned char out[MD5_LEN])
{
	if (sw->md5_open) {
		hash_final(&sw->md5, sw->sum);
		sw->md5_open = 0;
	}
	memcpy(out, sw->sum, MD5_LEN);
}

void stage_writer_release(struct atr_core *c, struct stage_writer *sw)
{
	if (sw->md5_open)
		hash_release(&sw->md5);
	sw->md5_open = 0;
	if (sw->stage)
		c->ufs->ops->stage_abort(sw->stage);
	sw->stage = NULL;
}

int atr_put_write(struct atr_writer *w, const void *data, size_t len)
{
	if (w->is_dir && len)
		return ATR_E_INVALID_ARG; /* a directory holds no bytes */
	return stage_writer_write(w->c, &w->sw, data, len);
}

void atr_put_md5(struct atr_writer *w, unsigned char out[16])
{
	stage_writer_md5(&w->sw, out);
}

uint64_t atr_put_size(const struct atr_writer *w) { return w->sw.size; }

void atr_put_abort(struct atr_writer *w)
{
	if (!w)
		return;
	stage_writer_release(w->c, &w->sw);
	free(w->tags);
	free(w->acl);
	free(w);
}

int atr_put_acl(struct atr_writer *w, const struct atr_acl *acl)
{
	int rc = acl_allowed(&w->b, acl);
	if (rc)
		return rc;
	if (!w->acl && !(w->acl = malloc(sizeof(*w->acl))))
		return ATR_E_NOMEM;
	*w->acl = *acl;
	struct atr_user u = { .name = w->writer, .anonymous = w->anonymous };
	object_owner(&u, &w->b, acl, w->user);
	return ATR_OK;
}

/*
 * The other names of a file with several (hard links) get the new bytes of
 * a commit too: the stage gets one more name per other name in the staging
 * area, each with an intent, and after the transaction each is renamed over
 * its path as the stage is over the committed one. A crash in between is
 * finished from the intents like any commit.
 */
struct relink {
	char stage[64];
	char path[PATH_MAX_UFS];
};

struct relinks {
	struct atr_core *c;
	struct ufs_stage *stage;
	struct relink *v;
	int n;
};

static int relink_add(void *arg, const char *bucket, const char *key)
{
	struct relinks *rl = arg;
	struct atr_core *c = rl->c;
	struct relink *v = realloc(rl->v, (size_t)(rl->n + 1) * sizeof(*v));
	if (!v)
		return ATR_E_NOMEM;
	rl->v = v;
	struct relink *r = &v[rl->n];
	int rc;
	if (ufs_path(r->path, sizeof(r->path), bucket, key))
		return ATR_E_KEY_TOO_LONG;
	if (!c->ufs->ops->stage_link)
		return ATR_E_NOT_SUPPORTED;
	if ((rc = c->ufs->ops->stage_link(rl->stage, r->stage, sizeof(r->stage))))
		return rc;
	rl->n++;
	return meta_intent_add(c->meta, r->stage, r->path);
}

/* After the commit (moved: done) or instead of it (still staged: gone). */
static void relinks_finish(struct atr_core *c, struct relinks *rl, int move)
{
	for (int i = 0; i < rl->n; i++) {
		struct relink *r = &rl->v[i];
		int rc = move ? c->ufs->ops->stage_recover(c->ufs, r->stage, r->path) : ATR_E_IO;
		if (rc && move)
			LOG(LOG_ERROR, "core: the new bytes of %s (a hard link) are not there: %s",
			    r->path, atr_strerror(rc));
		if (rc)
			c->ufs->ops->stage_forget(c->ufs, r->stage);
	}
	free(rl->v);
	rl->v = NULL;
	rl->n = 0;
}

/*
 * The permissions of what an S3 write makes (docs/permissions.md): from
 * its ACL if it has one; else those of what it replaces (cp's rule: an
 * overwrite, or a marker over an implied directory, keeps them); else
 * private. *grants: the kept grants to write with the row (malloc'd).
 */
static int new_perms(struct atr_core *c, const struct commit *cm, const struct meta_row *old,
		     struct meta_row *row, char **grants)
{
	*grants = NULL;
	row->obj.gid = -1;
	row->has_acl = 0;
	if (cm->acl) {
		struct atr_bucket b;
		int rc = meta_bucket_get(c->meta, cm->bucket, &b);
		row->obj.mode = 0;
		if (!rc)
			rc = acl_apply(cm->acl, row->obj.owner, b.owner, row->obj.is_dir,
				       &row->obj.mode, grants);
		row->has_acl = *grants != NULL;
		return rc;
	}
	if (old && !old->pending) {
		row->obj.mode = old->obj.mode & 07777;
		row->obj.gid = old->obj.gid;
		if (!old->has_acl)
			return ATR_OK;
		int rc = meta_acl_get(c->meta, obj_node(&old->obj), grants);
		row->has_acl = rc == ATR_OK;
		return rc == ATR_E_NO_KEY ? ATR_OK : rc;
	}
	row->obj.mode = row->obj.is_dir ? 0700 : 0600;
	return ATR_OK;
}

/* The commit step shared by every way an object is made (PUT, multipart
 * completion, copy): under ns_lock, inside a transaction. */
static int commit_locked(struct atr_core *c, const struct commit *cm, struct meta_row *row,
			 struct touched *touched, struct relinks *rl)
{
	char path[PATH_MAX_UFS], parent[ATR_KEY_MAX + 2];
	struct touched t = { .key = cm->key };
	struct meta_row old = { 0 };
	char *grants = NULL; /* the new row's kept grants (new_perms) */
	int rc;

	if ((rc = ensure_parents(c, cm->bucket, cm->key, 1, &t)))
		return rc;
	parent_key(cm->key, parent);
	touch(c, &t, cm->bucket, parent, 0);
	if (ufs_path(path, sizeof(path), cm->bucket, cm->key))
		return ATR_E_KEY_TOO_LONG;

	int had = meta_obj_get(c->meta, cm->bucket, cm->key, &old, cm->ino != 0) == ATR_OK;
	if (cm->ino && (!had || obj_node(&old.obj) != cm->ino)) {
		if (had)
			atr_obj_release(&old.obj);
		return ATR_E_NO_KEY; /* unlinked or renamed away meanwhile */
	}
	int exists = had && !(old.obj.is_dir && old.implicit) && !old.pending;
	if ((cm->must_not_exist && exists) ||
	    (cm->if_etag && (!exists || (strcmp(cm->if_etag, "*") &&
					 strcasecmp(cm->if_etag, old.obj.etag)))))
		return ATR_E_CONFLICT;
	if (!cm->stage) {
		/* A directory marker: the directory itself, made explicit. */
		struct ufs_stat st;
		rc = c->ufs->ops->stat(c->ufs, path, &st);
		if (rc == ATR_OK && !st.is_dir)
			return ATR_E_KEY_IS_PREFIX;
		if (rc == ATR_E_NO_KEY && (!(rc = c->ufs->ops->mkdir(c->ufs, path))))
			rc = c->ufs->ops->stat(c->ufs, path, &st);
		if (rc)
			return rc;
		/* A directory that is there stays its owner's. */
		dir_row(row, had ? old.obj.owner : cm->user, 0);
		if (had) {
			row->obj.ino = old.obj.ino;
			row->dir_mtime = old.dir_mtime;
		}
		row->obj.mtime_ns = st.mtime_ns;
	} else {
		/* Metadata first, then the rename (object_commit): the row is
		 * written from what the stage will be, with an intent naming it. */
		struct ufs_stat st;
		char name[64];
		if ((rc = c->ufs->ops->stage_prepare(cm->stage, name, sizeof(name), &st)) ||
		    (rc = meta_intent_set(c->meta, name, path)))
			return rc;
		row_init(row);
		row->obj.size = st.size;
		row->obj.mtime_ns = st.mtime_ns;
		row->obj.version = had ? old.obj.version + 1 : 1;
		snprintf(row->obj.owner, sizeof(row->obj.owner), "%s", cm->user);
		snprintf(row->obj.etag, sizeof(row->obj.etag), "%s", cm->etag);
		if (cm->posix) {
			row->obj.mode = cm->posix->mode;
			row->obj.gid = cm->posix->gid;
			row->obj.kind = cm->posix->kind;
			row->obj.rdev = cm->posix->rdev;
		}
		if (cm->ino) {
			/* New bytes for the same inode (the mount): it keeps
			 * everything but its content. */
			row->obj.mode = old.obj.mode;
			snprintf(row->obj.owner, sizeof(row->obj.owner), "%s", old.obj.owner);
			row->obj.gid = old.obj.gid;
			row->obj.kind = old.obj.kind;
			row->obj.rdev = old.obj.rdev;
			row->obj.atime_ns = old.obj.atime_ns;
			row->has_acl = old.has_acl;
		}
	}
	if (!cm->posix && !cm->ino && (rc = new_perms(c, cm, had ? &old : NULL, row, &grants)))
		return rc;
	row->obj.hdrs = cm->ino ? old.obj.hdrs : (char *)cm->hdrs;
	if (cm->stage && had && !cm->ino && !old.pending) {
		/* A new object replaces the old one as rename(2) replaces a
		 * file: by a new inode, so that what the mount has open or
		 * cached of the old one stays whole and is never mistaken
		 * for the new bytes. Only the mount's own writes keep an
		 * inode. */
		node_ghost(c, cm->bucket, cm->key, &old);
		if ((rc = meta_obj_delete(c->meta, cm->bucket, cm->key))) {
			free(grants);
			return rc;
		}
		if (old.obj.node)
			node_event(c, cm->bucket, cm->key, &old.obj); /* one name fewer */
		had = 0;
	}
	rc = meta_obj_put(c->meta, cm->bucket, cm->key, row);
	row->obj.hdrs = NULL;
	if (cm->ino)
		atr_obj_release(&old.obj);
	if (!rc && (grants || (had && old.has_acl && !cm->ino && !cm->posix)))
		rc = meta_acl_set(c->meta, obj_node(&row->obj), grants);
	free(grants);
	if (!rc && cm->ino && cm->stage && row->obj.node)
		rc = meta_node_names(c->meta, row->obj.node, row->obj.ino, relink_add, rl);
	if (!rc && cm->part_sizes) {
		rc = meta_obj_parts_put(c->meta, row->obj.ino, row->obj.version, cm->part_sizes,
					cm->nparts);
		if (!rc && cm->part_sums) /* an older version's, if any, no longer match */
			rc = meta_obj_part_sums_put(c->meta, row->obj.ino, row->obj.version,
						    cm->part_sums);
	} else if (!rc && had) {
		rc = meta_obj_parts_delete(c->meta, row->obj.ino);
	}
	/* The new object's tags replace the old one's (S3: none unless given);
	 * the mount's new bytes keep them. */
	if (cm->ino)
		;
	else if (!rc && cm->tags && *cm->tags)
		rc = meta_obj_tags_put(c->meta, row->obj.ino, cm->tags);
	else if (!rc && had)
		rc = meta_obj_tags_delete(c->meta, row->obj.ino);
	if (rc)
		return rc;
	node_event(c, cm->bucket, cm->key, &row->obj);
	*touched = t;
	return ATR_OK;
}

/*
 * The commit: one transaction writes the row (and, for a stage, an intent
 * naming it), then the stage is renamed into place, then the directories
 * whose mtime moved are brought forward in a second, small transaction.
 * Metadata goes first so that nothing can leave new bytes under an old row:
 * a failed transaction (ENOSPC in SQLite itself included) renames nothing,
 * and a crash after it is finished at the next start from the intent
 * (atr_core_open), so the row and the file always agree.
 */
int object_commit(struct atr_core *c, const struct commit *given, struct atr_obj *out)
{
	char path[PATH_MAX_UFS], bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	struct touched t;
	struct commit named = *given;
	const struct commit *cm = &named;
	struct relinks rl = { .c = c, .stage = cm->stage };
	int consumed = 0;
	pthread_mutex_lock(&c->ns_lock);
	int rc = ATR_OK;
	if (cm->ino) {
		/* The inode's name now (a rename or an S3 write to one of its
		 * names may have come since the caller looked). */
		rc = meta_obj_by_ino(c->meta, cm->ino, bucket, key, &row, 0);
		named.bucket = bucket;
		named.key = key;
	}
	if (!rc)
		rc = meta_begin(c->meta);
	if (!rc) {
		rc = commit_locked(c, cm, &row, &t, &rl);
		if (rc)
			meta_rollback(c->meta);
		else
			rc = meta_commit(c->meta);
	}
	if (rc)
		relinks_finish(c, &rl, 0);
	if (!rc && cm->stage) {
		struct ufs_stat st;
		consumed = 1; /* stage_commit commits or discards it */
		ufs_path(path, sizeof(path), cm->bucket, cm->key);
		rc = c->ufs->ops->stage_commit(cm->stage, path, &st);
		if (rc) {
			/* Only a race with something behind our back gets here:
			 * the row now describes bytes that are not there. */
			LOG(LOG_ERROR, "core: rename into %s failed after its commit: %s", path,
			    atr_strerror(rc));
		}
		relinks_finish(c, &rl, 1);
	}
	if (!rc && !meta_begin(c->meta)) {
		touched_done(c, &t, cm->bucket);
		if (meta_commit(c->meta))
			meta_rollback(c->meta);
	}
	pthread_mutex_unlock(&c->ns_lock);
	if (!consumed && cm->stage)
		c->ufs->ops->stage_abort(cm->stage); /* refused before its rename */
	if (rc && consumed) {
		struct meta_row fixed = { 0 };
		if (sync_object(c, cm->bucket, cm->key, &fixed) == ATR_OK)
			atr_obj_release(&fixed.obj);
	}
	node_settle(c);
	if (!rc && out)
		*out = row.obj;
	return rc;
}

int atr_put_commit(struct atr_writer *w, const char *hdrs, struct atr_obj *out)
{
	unsigned char sum[MD5_LEN];
	char etag[ATR_ETAG_MAX + 1];
	atr_put_md5(w, sum);
	hex_encode(sum, MD5_LEN, etag);
	struct commit cm = { .user = w->user, .bucket = w->bucket, .key = w->key,
			     .stage = w->sw.stage, .etag = etag, .hdrs = hdrs,
			     .must_not_exist = w->must_not_exist,
			     .if_etag = *w->if_etag ? w->if_etag : NULL, .tags = w->tags,
			     .acl = w->acl };
	int rc = object_commit(w->c, &cm, out);
	w->sw.stage = NULL; /* committed or discarded by stage_commit */
	atr_put_abort(w);
	return rc;
}

/* ---- lookup ---- */

/*
 * Looks a key up and reconciles its row with the UFS file. With fp, the
 * file is opened instead of stat'ed (one open + fstat serves both the
 * freshness check and the read) and handed back: it is the version the row
 * describes, since a writer may replace it between our row read and our
 * open, and a mismatch means sync and try again.
 */
static int find_synced(struct atr_core *c, const char *bucket, const char *key,
		       struct meta_row *row, struct ufs_file **fp)
{
	char path[PATH_MAX_UFS];
	int rc = atr_key_valid(key);
	if (rc || ufs_path(path, sizeof(path), bucket, key))
		return ATR_E_NO_KEY;
	rc = meta_obj_get(c->meta, bucket, key, row, 1);
	if (rc && rc != ATR_E_NO_KEY)
		return rc;
	struct ufs_file *f = NULL;
	for (int tries = 0;; tries++) {
		struct ufs_stat st;
		int have = fp ? c->ufs->ops->open(c->ufs, path, &f, &st) == ATR_OK
			      : c->ufs->ops->stat(c->ufs, path, &st) == ATR_OK;
		int fresh = rc == ATR_OK && have &&
			    (row->obj.is_dir ? st.is_dir
					     : st.is_reg && st.size == row->obj.size &&
						       st.mtime_ns == row->obj.mtime_ns);
		if (fresh)
			break;
		if (f)
			c->ufs->ops->close(f);
		f = NULL;
		if (rc == ATR_E_NO_KEY && !have)
			return ATR_E_NO_KEY; /* neither a row nor a file: nothing to sync */
		if (rc == ATR_OK)
			atr_obj_release(&row->obj);
		if (tries == 3)
			return ATR_E_IO; /* changing faster than we can read it */
		if ((rc = sync_object(c, bucket, key, row)))
			return rc;
	}
	if (row->obj.is_dir && f) {
		c->ufs->ops->close(f); /* a directory marker has no bytes to read */
		f = NULL;
	}
	if (row->obj.is_dir && row->implicit) {
		atr_obj_release(&row->obj);
		return ATR_E_NO_KEY; /* not an object */
	}
	if (fp)
		*fp = f;
	return ATR_OK;
}

int object_find(struct atr_core *c, const struct atr_user *u, const char *action, unsigned want,
		const char *bucket, const char *key, struct meta_row *row, struct ufs_file **fp)
{
	struct atr_bucket b;
	struct ufs_file *f = NULL;
	int rc = bucket_check(c, u, bucket, NULL, 0, &b);
	if (rc)
		return rc;
	if ((rc = find_synced(c, bucket, key, row, fp ? &f : NULL))) {
		/* S3 tells a missing key (404) only to who may list the bucket,
		 * others learn nothing from it (403). */
		if (rc == ATR_E_NO_KEY &&
		    perm_check(c, u, "s3:ListBucket", &b, NULL, NULL, NULL, PERM_R))
			rc = ATR_E_ACCESS;
		return rc;
	}
	if ((rc = perm_check(c, u, action, &b, key, row, key, want))) {
		if (f)
			c->ufs->ops->close(f);
		atr_obj_release(&row->obj);
		return rc;
	}
	if (fp)
		*fp = f;
	return ATR_OK;
}

int atr_object_stat(struct atr_core *c, const struct atr_user *u, const char *bucket,
		    const char *key, struct atr_obj *out)
{
	struct meta_row row = { 0 };
	const char *action = u->req && u->req->action ? u->req->action : "s3:GetObject";
	int rc = object_find(c, u, action, PERM_R, bucket, key, &row, NULL);
	if (!rc)
		*out = row.obj;
	return rc;
}

int atr_put_condition(struct atr_writer *w, const struct atr_user *u, int must_not_exist,
		      const char *etag)
{
	/* The object as a reader would find it (synced with the UFS), whoever
	 * may read it: If-None-Match needs only the right to write. */
	struct meta_row row = { 0 };
	int rc = find_synced(w->c, w->bucket, w->key, &row, NULL);
	if (rc && rc != ATR_E_NO_KEY)
		return rc;
	int exists = rc == ATR_OK;
	if (exists && etag &&
	    perm_check(w->c, u, "s3:GetObject", &w->b, w->key, &row, w->key, PERM_R))
		rc = ATR_E_ACCESS;
	else if (exists && must_not_exist)
		rc = ATR_E_PRECONDITION;
	else if (etag && !exists)
		rc = ATR_E_NO_KEY;
	else if (etag && strcmp(etag, "*") && strcasecmp(etag, row.obj.etag))
		rc = ATR_E_PRECONDITION;
	else
		rc = ATR_OK;
	if (exists)
		atr_obj_release(&row.obj);
	if (rc)
		return rc;
	w->must_not_exist |= must_not_exist;
	if (etag)
		snprintf(w->if_etag, sizeof(w->if_etag), "%s", etag);
	return ATR_OK;
}

/* ---- reading ---- */

int atr_get_open(struct atr_core *c, const struct atr_user *u, const char *bucket,
		 const char *key, struct atr_obj *obj, struct atr_reader **out)
{
	struct meta_row row = { 0 };
	struct ufs_file *f = NULL;
	int rc = object_find(c, u, "s3:GetObject", PERM_R, bucket, key, &row, &f);
	if (rc)
		return rc;
	struct atr_reader *r = calloc(1, sizeof(*r));
	if (!r) {
		if (f)
			c->ufs->ops->close(f);
		atr_obj_release(&row.obj);
		return ATR_E_NOMEM;
	}
	r->c = c;
	r->f = f;
	r->ino = row.obj.ino;
	r->version = row.obj.version;
	r->size = row.obj.is_dir ? 0 : row.obj.size;
	*obj = row.obj;
	*out = r;
	return ATR_OK;
}

int atr_get_read(struct atr_reader *r, uint64_t off, const void **data, size_t *len)
{
	struct atr_core *c = r->c;
	if (r->pinned) {
		bcache_unpin(c->cache, r->pinned);
		r->pinned = NULL;
	}
	if (off >= r->size) {
		*data = NULL;
		*len = 0;
		return ATR_OK;
	}
	uint64_t bs = c->block_size;
	uint64_t index = off / bs;
	struct bcache_block *b = bcache_get(c->cache, r->ino, r->version, index);
	if (!b) {
		uint64_t start = index * bs;
		size_t want = (size_t)(r->size - start < bs ? r->size - start : bs);
		b = bcache_alloc(want);
		if (!b)
			return ATR_E_NOMEM;
		ssize_t n = c->ufs->ops->pread(r->f, b->data, want, start);
		if (n != (ssize_t)want) {
			free(b);
			LOG(LOG_ERROR, "core: short read of inode %llu at %llu",
			    (unsigned long long)r->ino, (unsigned long long)start);
			return ATR_E_IO;
		}
		b->ino = r->ino;
		b->version = r->version;
		b->index = index;
		b = bcache_insert(c->cache, b);
	}
	r->pinned = b;
	size_t in = (size_t)(off - index * bs);
	*data = b->data + in;
	*len = b->len - in;
	return ATR_OK;
}

void atr_get_close(struct atr_reader *r)
{
	if (!r)
		return;
	if (r->pinned)
		bcache_unpin(r->c->cache, r->pinned);
	if (r->f && !r->borrowed)
		r->c->ufs->ops->close(r->f);
	free(r);
}

/* ---- deleting ---- */

/* Removes implied directories left empty above key, bottom up. */
int prune_parents(struct atr_core *c, const char *bucket, const char *key,
			 struct touched *t)
{
	char dir[ATR_KEY_MAX + 2], path[PATH_MAX_UFS];
	parent_key(key, dir);
	while (*dir) {
		struct meta_row r = { 0 };
		if (meta_obj_get(c->meta, bucket, dir, &r, 0) || !r.implicit)
			break;
		int kids = meta_obj_has_children(c->meta, bucket, dir);
		if (kids != 0)
			break;
		ufs_path(path, sizeof(path), bucket, dir);
		if (c->ufs->ops->rmdir(c->ufs, path))
			break; /* something we do not know of lives there */
		node_event(c, bucket, dir, &r.obj);
		int rc = meta_obj_delete(c->meta, bucket, dir);
		if (rc)
			return rc;
		char up[ATR_KEY_MAX + 2];
		parent_key(dir, up);
		touch(c, t, bucket, up, 0);
		memcpy(dir, up, strlen(up) + 1);
	}
	return ATR_OK;
}

int object_delete_locked(struct atr_core *c, const char *bucket, const char *key, int prune)
{
	char path[PATH_MAX_UFS], parent[ATR_KEY_MAX + 2];
	struct touched t = { .key = key };
	struct meta_row r = { 0 };
	int rc;

	if (ufs_path(path, sizeof(path), bucket, key))
		return ATR_OK;
	parent_key(key, parent);
	touch(c, &t, bucket, parent, 0);
	int had = meta_obj_get(c->meta, bucket, key, &r, 0) == ATR_OK;
	if (is_dir_key(key)) {
		if (!had || r.implicit)
			return ATR_OK;
		int kids = meta_obj_has_children(c->meta, bucket, key);
		if (kids < 0)
			return ATR_E_IO;
		if (kids || c->ufs->ops->rmdir(c->ufs, path)) {
			/* Still holds objects: it stays, as an implied directory. */
			r.implicit = 1;
			return meta_obj_put(c->meta, bucket, key, &r);
		}
	} else {
		struct ufs_stat st;
		if (c->ufs->ops->stat(c->ufs, path, &st) == ATR_OK && st.is_reg &&
		    (rc = c->ufs->ops->unlink(c->ufs, path)))
			return rc;
	}
	if (had && (rc = meta_obj_delete(c->meta, bucket, key)))
		return rc;
	if (had)
		node_event(c, bucket, key, &r.obj);
	if (prune && (rc = prune_parents(c, bucket, key, &t)))
		return rc;
	touched_done(c, &t, bucket);
	return ATR_OK;
}

int atr_object_delete(struct atr_core *c, const struct atr_user *u, const char *bucket,
		      const char *key)
{
	struct atr_bucket b;
	int rc = bucket_check(c, u, bucket, NULL, 0, &b);
	if (rc)
		return rc;
	if ((rc = atr_key_valid(key)))
		return rc == ATR_E_INVALID_KEY ? ATR_OK : rc; /* could not exist */
	if ((rc = perm_write_key(c, u, "s3:DeleteObject", &b, key)))
		return rc;
	pthread_mutex_lock(&c->ns_lock);
	if (!(rc = meta_begin(c->meta))) {
		rc = object_delete_locked(c, bucket, key, 1);
		if (rc)
			meta_rollback(c->meta);
		else
			rc = meta_commit(c->meta);
	}
	pthread_mutex_unlock(&c->ns_lock);
	node_settle(c);
	return rc;
}

/* ---- metadata sync of one object ---- */

int sync_object(struct atr_core *c, const char *bucket, const char *key, struct meta_row *row)
{
	char path[PATH_MAX_UFS], etag[ATR_ETAG_MAX + 1] = "";
	struct ufs_stat st, hashed;
	struct touched t = { .key = key };
	int rc;

	if (ufs_path(path, sizeof(path), bucket, key))
		return ATR_E_NO_KEY;
	int have = c->ufs->ops->stat(c->ufs, path, &st) == ATR_OK;
	int want_dir = is_dir_key(key);
	if (have && st.is_reg && !want_dir) {
		/* Hash outside the lock: the file may be large. */
		if (hash_ufs_file(c, path, etag, &hashed))
			have = 0;
	}

	pthread_mutex_lock(&c->ns_lock);
	if ((rc = meta_begin(c->meta)))
		goto out;
	struct meta_row old = { 0 };
	memset(&old, 0, sizeof(old));
	int had = meta_obj_get(c->meta, bucket, key, &old, 1) == ATR_OK;
	if (had && old.pending) {
		rc = ATR_E_NO_KEY; /* being written through the mount: nothing yet */
		goto done;
	}
	struct ufs_stat now;
	int exists = c->ufs->ops->stat(c->ufs, path, &now) == ATR_OK;
	if (!exists || (want_dir ? !now.is_dir : !now.is_reg)) {
		if (had)
			rc = want_dir ? meta_obj_delete_prefix(c->meta, bucket, key)
				      : meta_obj_delete(c->meta, bucket, key);
		if (!rc)
			rc = ATR_E_NO_KEY;
		goto done;
	}
	if (want_dir) {
		/* A directory made behind our back is taken as an implied one:
		 * it gets the permissions of the directory above it. */
		if (!had && (!(rc = ensure_dirs(c, bucket, key, strlen(key), 0, &t)) &&
			     (rc = meta_obj_get(c->meta, bucket, key, &old, 0))))
			goto done;
		*row = old;
		old.obj.hdrs = NULL;
		goto done;
	}
	if (had && now.size == old.obj.size && now.mtime_ns == old.obj.mtime_ns) {
		*row = old; /* someone else brought it up to date meanwhile */
		old.obj.hdrs = NULL;
		goto done;
	}
	if (!have || hashed.size != now.size || hashed.mtime_ns != now.mtime_ns ||
	    hashed.ino != now.ino) {
		rc = ATR_E_IO; /* changing under our feet: the caller may retry */
		goto done;
	}
	struct meta_row r = { 0 };
	row_init(&r);
	if (had) {
		r.obj.version = old.obj.version + 1;
		snprintf(r.obj.owner, sizeof(r.obj.owner), "%s", old.obj.owner);
		r.obj.mode = old.obj.mode;
		r.obj.gid = old.obj.gid;
		r.obj.kind = old.obj.kind;
		r.obj.rdev = old.obj.rdev;
		r.obj.hdrs = old.obj.hdrs;
		old.obj.hdrs = NULL;
	} else {
		owner_of_uid(c, now.uid, r.obj.owner);
		r.obj.version = 1;
		r.obj.mode = now.mode & 0777;
		if ((rc = ensure_parents(c, bucket, key, 0, &t)))
			goto done;
		/* Per file at debug only: a directory's scan sums them up
		 * (sync.c), and 20,000 files must not make 20,000 lines. */
		LOG(LOG_DEBUG, "core: imported %s/%s found in the under-storage", bucket, key);
	}
	r.obj.size = now.size;
	r.obj.mtime_ns = now.mtime_ns;
	snprintf(r.obj.etag, sizeof(r.obj.etag), "%s", etag);
	if ((rc = meta_obj_put(c->meta, bucket, key, &r))) {
		atr_obj_release(&r.obj);
		goto done;
	}
	*row = r;
done:
	atr_obj_release(&old.obj);
	if (rc && rc != ATR_E_NO_KEY)
		meta_rollback(c->meta);
	else if (meta_commit(c->meta) && !rc)
		rc = ATR_E_IO;
out:
	pthread_mutex_unlock(&c->ns_lock);
	return rc;
}
