/*
 * ns_commit — the commit protocol (src/ns_int.h, "commits"), one function
 * per kind of commit: S3's objects, directory markers, the mount's new
 * entries and the mount's new bytes for an inode.
 *
 * Every kind runs the same steps (commit_run): under ns_lock, one
 * transaction makes the directories above the key, reads what is there,
 * lets the kind build the new row from it (its fill function: conditions,
 * attributes, permissions), writes the row and what goes with it (grants,
 * part sizes, tags, the other names of a file with several), then the
 * stage is renamed over the key and the directories whose listing moved
 * are brought forward. Metadata goes first: the row is written from what
 * the stage will be, with an intent naming the stage, so a crash after the
 * transaction is finished at start (ns_recover) and one before it leaves
 * nothing but a stage the start removes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "src/ns_int.h"
#include "src/perm_int.h"
#include "src/persist_int.h"
#include "common/banned.h"

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
	int64_t dir_mtime; /* its directory's, put back after the rename */
};

struct relinks {
	struct atr_core *c;
	struct ufs_stage *stage;
	struct relink *v;
	int n;
};

/* One commit in progress. */
struct commit {
	const char *bucket, *key;
	struct ufs_stage *stage;   /* NULL: a directory marker */
	char path[PATH_MAX_UFS];
	struct meta_row old;       /* what is at the key (had) */
	int had, exists;           /* exists: an object or marker, not an
				    * implied directory or a pending row */
	struct meta_row row;       /* what the commit writes */
	const char *hdrs;          /* the row's stored headers */
	char *grants;              /* the row's kept grants (malloc'd) */
	int set_acl;               /* the grants replace the old row's */
	/* What goes with the row: part sizes (NULL: an earlier object's
	 * go), tags (keep_tags: the old row's stay; else NULL or "" drops
	 * them). */
	const uint64_t *part_sizes;
	int nparts;
	const char *part_sums;
	const char *tags;
	int keep_tags;
	uint64_t node;             /* ns_commit_bytes: the inode */
	int sse;                   /* the stage is encrypted (enum atr_sse) ... */
	uint64_t plain;            /* ... and holds this many plaintext bytes ... */
	int segments;              /* ... in one stream per part (ns_object) */
	/* The side form (src/ns_int.h): s3, an S3 commit, which may move a
	 * file out of the way and write the side form; side, this one does
	 * (path is then the side file's); old_side, the side file of the
	 * row replaced, removed once the commit is done. */
	int s3, side;
	char stage_name[64];
	char old_side[PATH_MAX_UFS];
	uint64_t ver_drop[2];      /* version files replaced (ns_version_keep) */
	struct ns_touched t;
	struct relinks rl;
	/* The write type (src/persist.c): wt, the one asked for (0: the
	 * bucket's); plan, enum persist_plan (held: the bytes stay in the
	 * private area at ns_side_path(ino), like a side file; uploaded:
	 * the stage went up inside the transaction, up its stat; cache_name:
	 * the stage's other name, read into the cache after the commit). */
	int wt, plan, uploaded;
	struct ufs_stat up;
	char cache_name[64];
};

/* A kind's part of the transaction: checks what is there (cm->old) and
 * fills cm->row; under ns_lock. */
typedef int (*commit_fill)(struct atr_core *c, struct commit *cm, const void *arg);

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
	if (key_path(r->path, sizeof(r->path), bucket, key))
		return ATR_E_KEY_TOO_LONG;
	if ((rc = ufs_stage_link(c->ufs, rl->stage, r->stage, sizeof(r->stage))))
		return rc;
	char dir[ATR_KEY_MAX + 2];
	key_parent(key, dir);
	r->dir_mtime = ns_ufs_mtime(c, bucket, dir);
	rl->n++;
	return meta_intent_add(c->meta, r->stage, r->path);
}

/* Puts back the mtime of the directory holding UFS path file: a rename
 * into it that changed none of its names moved it (see ns_touched). */
static void dir_mtime_restore(struct atr_core *c, const char *file, int64_t mtime)
{
	char dir[PATH_MAX_UFS];
	struct ufs_stat st;
	const char *slash = strrchr(file, '/');
	if (mtime < 0 || !slash)
		return;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - file), file);
	ufs_utimens(c->ufs, dir, mtime, mtime, &st);
}

/* After the commit (move: each name moved over its path, or owed) or
 * instead of it (the names removed); a step owed and failing again is
 * the result. */
static int relinks_finish(struct atr_core *c, struct relinks *rl, int move)
{
	int owed = 0;
	for (int i = 0; i < rl->n; i++) {
		struct relink *r = &rl->v[i];
		int rc = move ? ufs_stage_recover(c->ufs, r->stage, r->path) : ATR_E_IO;
		if (rc && move) {
			LOG(LOG_ERROR, "core: the new bytes of %s (a hard link) are not there: %s",
			    r->path, atr_strerror(rc));
			owed = 1; /* its intent stays */
		} else if (rc) {
			ufs_stage_forget(c->ufs, r->stage);
		} else {
			dir_mtime_restore(c, r->path, r->dir_mtime);
		}
	}
	free(rl->v);
	rl->v = NULL;
	rl->n = 0;
	return owed ? ns_owe(c) : ATR_OK;
}

/* ---- what the kinds share ---- */

/* S3's conditions on what is at the key when the commit happens. */
static int conditions(const struct commit *cm, int must_not_exist, const char *if_etag)
{
	if ((must_not_exist && cm->exists) ||
	    (if_etag && (!cm->exists || (strcmp(if_etag, "*") &&
					 strcasecmp(if_etag, cm->old.obj.etag)))))
		return ATR_E_CONFLICT;
	return ATR_OK;
}

/*
 * The permissions of what an S3 write makes (docs/permissions.md): from
 * its ACL if it has one; else those of what it replaces (cp's rule: an
 * overwrite, or a marker over an implied directory, keeps them); else
 * private.
 */
static int s3_perms(struct atr_core *c, struct commit *cm, const struct atr_acl *acl)
{
	struct meta_row *row = &cm->row;
	const struct meta_row *old = cm->had ? &cm->old : NULL;
	row->obj.gid = -1;
	row->has_acl = 0;
	cm->set_acl = 1;
	if (acl) {
		struct atr_bucket b;
		int rc = meta_bucket_get(c->meta, cm->bucket, &b);
		row->obj.mode = 0;
		if (!rc)
			rc = acl_apply(acl, row->obj.owner, b.owner, row->obj.is_dir,
				       &row->obj.mode, &cm->grants);
		row->has_acl = cm->grants != NULL;
		return rc;
	}
	if (old && !old->pending) {
		row->obj.mode = old->obj.mode & 07777;
		row->obj.gid = old->obj.gid;
		if (!old->has_acl)
			return ATR_OK;
		int rc = meta_acl_get(c->meta, obj_node(&old->obj), &cm->grants);
		row->has_acl = rc == ATR_OK;
		return rc == ATR_E_NO_KEY ? ATR_OK : rc;
	}
	row->obj.mode = row->obj.is_dir ? 0700 : 0600;
	return ATR_OK;
}

/* The row of bytes about to be renamed over the key: the stage as it will
 * be, with an intent naming it (metadata first). */
static int stage_row(struct atr_core *c, struct commit *cm, const char *owner, const char *etag)
{
	struct ufs_stat st;
	char name[64];
	int rc;
	if ((rc = ufs_stage_prepare(c->ufs, cm->stage, name, sizeof(name), &st)) ||
	    (rc = meta_intent_set(c->meta, name, cm->path)))
		return rc;
	snprintf(cm->stage_name, sizeof(cm->stage_name), "%s", name);
	ns_row_init(&cm->row);
	cm->row.obj.size = cm->sse ? cm->plain : st.size;
	cm->row.obj.sse = cm->sse;
	cm->row.obj.fsize = cm->sse && cm->segments ? st.size : 0;
	cm->row.obj.mtime_ns = st.mtime_ns;
	cm->row.obj.version = cm->had ? cm->old.obj.version + 1 : 1;
	snprintf(cm->row.obj.owner, sizeof(cm->row.obj.owner), "%s", owner);
	snprintf(cm->row.obj.etag, sizeof(cm->row.obj.etag), "%s", etag);
	return ATR_OK;
}

/* The row and what goes with it, after the kind filled it. */
static int write_row(struct atr_core *c, struct commit *cm)
{
	struct meta_row *row = &cm->row;
	int rc;
	row->obj.hdrs = (char *)cm->hdrs;
	rc = meta_obj_put(c->meta, cm->bucket, cm->key, row);
	row->obj.hdrs = NULL;
	if (!rc && (cm->grants || (cm->set_acl && cm->had && cm->old.has_acl)))
		rc = meta_acl_set(c->meta, obj_node(&row->obj), cm->grants);
	if (!rc && cm->node && cm->stage && row->obj.node)
		rc = meta_node_names(c->meta, row->obj.node, row->obj.ino, relink_add, &cm->rl);
	if (!rc && cm->part_sizes) {
		rc = meta_obj_parts_put(c->meta, row->obj.ino, row->obj.version, cm->part_sizes,
					cm->nparts);
		if (!rc && cm->part_sums) /* an older version's, if any, no longer match */
			rc = meta_obj_part_sums_put(c->meta, row->obj.ino, row->obj.version,
						    cm->part_sums);
	} else if (!rc && cm->had) {
		rc = meta_obj_parts_delete(c->meta, row->obj.ino);
	}
	/* The new object's tags replace the old one's (S3: none unless given);
	 * the mount's new bytes keep them. */
	if (rc || cm->keep_tags)
		;
	else if (cm->tags && *cm->tags)
		rc = meta_obj_tags_put(c->meta, row->obj.ino, cm->tags);
	else if (cm->had)
		rc = meta_obj_tags_delete(c->meta, row->obj.ino);
	if (!rc)
		ns_event(c, cm->bucket, cm->key, &row->obj);
	return rc;
}

/* Whether the bytes of S3 object cm->key go to the side form: the
 * directory "key/" is there (a row, or in the UFS). 1, 0, or -1 when the
 * store cannot say. */
static int side_needed(struct atr_core *c, struct commit *cm)
{
	char dk[ATR_KEY_MAX + 2];
	struct meta_row r = { 0 };
	struct ufs_stat st;
	if (!ufs_can_at(c->ufs, cm->bucket, UFS_CAP_RENAME))
		return 0; /* no side form in this bucket's store */
	if (key_dir(cm->key, dk))
		return 0;
	int rc = meta_obj_get(c->meta, cm->bucket, dk, &r, 0);
	if (rc == ATR_OK)
		return 1;
	if (rc != ATR_E_NO_KEY)
		return -1;
	rc = ufs_stat(c->ufs, cm->path, &st);
	if (rc == ATR_OK)
		return st.is_dir;
	return ufs_absent(rc) ? 0 : -1;
}

/* The transaction's body: under ns_lock, inside the transaction. */
static int commit_locked(struct atr_core *c, struct commit *cm, commit_fill fill, const void *arg)
{
	char parent[ATR_KEY_MAX + 2];
	int rc;
	NS_ASSERT_HELD(c);
	cm->t.key = cm->key;
	if ((rc = ns_ensure_parents(c, cm->bucket, cm->key, 1, &cm->t)))
		return rc;
	key_parent(cm->key, parent);
	ns_touch(c, &cm->t, cm->bucket, parent, 0);
	if (key_path(cm->path, sizeof(cm->path), cm->bucket, cm->key))
		return ATR_E_KEY_TOO_LONG;
	/* The mount's new bytes keep the old row's headers: read them. */
	cm->had = meta_obj_get(c->meta, cm->bucket, cm->key, &cm->old, cm->node != 0) == ATR_OK;
	cm->exists = cm->had && !(cm->old.obj.is_dir && cm->old.implicit) && !cm->old.pending;
	if (cm->had && META_ROW_ASIDE(&cm->old) &&
	    ns_side_path(cm->old_side, sizeof(cm->old_side), cm->old.obj.ino))
		return ATR_E_INTERNAL;
	if (cm->s3 && cm->stage && !key_is_dir(cm->key) && (rc = side_needed(c, cm)) < 0)
		return ATR_E_IO;
	else if (cm->s3 && cm->stage && !key_is_dir(cm->key))
		cm->side = rc;
	if ((rc = fill(c, cm, arg)))
		return rc;
	cm->row.side = cm->side;
	cm->row.persist = !cm->stage		       ? ATR_PERSISTED
			  : cm->plan == PLAN_HOLD       ? ATR_NOT_PERSISTED
			  : cm->plan == PLAN_HOLD_QUEUE ? ATR_TO_BE_PERSISTED
							: ATR_PERSISTED;
	if ((rc = write_row(c, cm)))
		return rc;
	if (cm->row.persist) {
		/* Held on this node: the file named by the inode, and for
		 * ASYNC_THROUGH a place on the persist queue. */
		if (ns_side_path(cm->path, sizeof(cm->path), cm->row.obj.ino))
			return ATR_E_INTERNAL;
		if (cm->row.persist == ATR_TO_BE_PERSISTED &&
		    (rc = meta_pq_put(c->meta, cm->row.obj.ino, time_now_ns() / 1000000)))
			return rc;
		return meta_intent_set(c->meta, cm->stage_name, cm->path);
	}
	if (!cm->side)
		return rc;
	/* The side file is named by the row's inode, known now: the intent
	 * stage_row wrote is replaced by the one naming it. */
	if (ns_side_path(cm->path, sizeof(cm->path), cm->row.obj.ino))
		return ATR_E_INTERNAL;
	return meta_intent_set(c->meta, cm->stage_name, cm->path);
}

struct commit_txn {
	struct commit *cm;
	commit_fill fill;
	const void *arg;
};

static int commit_txn_fn(struct atr_core *c, void *arg)
{
	struct commit_txn *t = arg;
	struct commit *cm = t->cm;
	int rc = commit_locked(c, cm, t->fill, t->arg);
	if (rc || !cm->stage || (cm->plan != PLAN_UPLOAD && cm->plan != PLAN_UPLOAD_CACHE))
		return rc;
	/* A remote store's upload, before the transaction commits: one that
	 * fails rolls the row back, so the key keeps its old object and
	 * nothing is owed (a crash after the upload and before the commit
	 * leaves the remote's new bytes, which the sync finds as a change
	 * made behind our back). The stage's other name keeps its bytes for
	 * the cache (CACHE_THROUGH). */
	if (cm->plan == PLAN_UPLOAD_CACHE &&
	    ufs_stage_link(c->local, cm->stage, cm->cache_name, sizeof(cm->cache_name)))
		cm->cache_name[0] = '\0'; /* not cached: no harm */
	rc = ufs_stage_commit(c->ufs, cm->stage, cm->path, &cm->up);
	if (rc) {
		LOG(LOG_ERROR, "core: the upload of %s failed; nothing committed: %s", cm->path,
		    atr_strerror(rc));
		return rc == ATR_E_IO ? ATR_E_UFS_DOWN : rc;
	}
	cm->uploaded = 1;
	return ATR_OK;
}

/* CACHE_THROUGH: the committed bytes into the cache, from the stage's
 * other name (kept for this), which then goes. */
static void commit_cache(struct atr_core *c, struct commit *cm)
{
	int fd = -1;
	if (!cm->cache_name[0])
		return;
	/* An encrypted object's blocks are its file's, the ciphertext, as
	 * its readers read them (docs/architecture.md). */
	if (cm->uploaded && !ufs_local_stage_open(c->local, cm->cache_name, &fd)) {
		persist_cache_fd(c, cm->row.obj.ino, cm->row.obj.version, obj_file_size(&cm->row.obj),
				 fd);
		close(fd);
	}
	ufs_stage_forget(c->local, cm->cache_name);
}

static int touched_fn(struct atr_core *c, void *arg)
{
	struct commit *cm = arg;
	ns_touched_done(c, &cm->t, cm->bucket);
	return ATR_OK;
}

/* The committed file's mtime, where the store chose another than
 * stage_prepare foretold (a remote store's Last-Modified, known only
 * after the PUT): the row must say what a later stat will, or the sync
 * (ns_sync.c) takes the file for one changed behind our back. Only while
 * the row is still this commit's version. */
struct settle {
	struct commit *cm;
	int64_t mtime_ns;
};

static int settle_fn(struct atr_core *c, void *arg)
{
	struct settle *se = arg;
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	int rc = meta_obj_by_ino(c->meta, se->cm->row.obj.ino, bucket, key, &row, 1);
	if (rc)
		return rc == ATR_E_NO_KEY ? ATR_OK : rc;
	if (row.obj.version == se->cm->row.obj.version) {
		row.obj.mtime_ns = se->mtime_ns;
		rc = meta_obj_set_posix(c->meta, &row);
	}
	atr_obj_release(&row.obj);
	return rc;
}

/*
 * Runs one commit: the steps earlier changes owe (ns_redo), the
 * transaction (commit_locked), then the stage's rename and the other
 * names' (relinks), then the directories touched. A rename that fails
 * after the commit is owed, not undone (ns_owe): the stage is kept under
 * the name its intent gives, and moved when the UFS works again (at
 * once, or before the next change, or at the next start), so the key is
 * wholly its new object, never the old bytes under the new row.
 */
static int commit_run(struct atr_core *c, struct commit *cm, commit_fill fill, const void *arg,
		      struct atr_obj *out)
{
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	int consumed = 0, rc = ATR_OK;
	cm->rl.c = c;
	cm->rl.stage = cm->stage;
	if (cm->node) {
		struct meta_row now = { 0 };
		if (!meta_obj_by_ino(c->meta, cm->node, bucket, key, &now, 0))
			ns_version_settle(c, bucket, key);
	} else if (cm->stage) {
		ns_version_settle(c, cm->bucket, cm->key);
	}
	if (c->durable && cm->stage) {
		/* --durability=power: stage_prepare syncs the stage's bytes;
		 * once here, outside ns_lock, so that the one under it
		 * (stage_row) finds nothing left to write. A failure is
		 * met again there. */
		char name[64];
		struct ufs_stat st;
		ufs_stage_prepare(c->ufs, cm->stage, name, sizeof(name), &st);
	}
	ns_lock(c);
	rc = ns_redo(c);
	if (!rc && cm->s3)
		rc = ns_side_move(c, cm->bucket, cm->key); /* a file in the way */
	if (!rc && cm->node) {
		/* The inode's name now (a rename or an S3 write to one of its
		 * names may have come since the caller looked). */
		struct meta_row now = { 0 };
		rc = meta_obj_by_ino(c->meta, cm->node, bucket, key, &now, 0);
		cm->bucket = bucket;
		cm->key = key;
	}
	if (!rc && cm->stage)
		cm->plan = persist_plan(c, cm->bucket, cm->wt);
	struct commit_txn ct = { cm, fill, arg };
	if (!rc)
		rc = ns_txn_locked(c, commit_txn_fn, &ct);
	if (rc)
		relinks_finish(c, &cm->rl, 0);
	if (rc && cm->cache_name[0])
		ufs_stage_forget(c->local, cm->cache_name);
	if (!rc && cm->stage) {
		struct ufs_stat st = cm->up;
		consumed = 1; /* committed, or kept for its intent */
		rc = cm->uploaded ? ATR_OK : ufs_stage_commit(c->ufs, cm->stage, cm->path, &st);
		if (rc == ATR_E_NO_KEY && !ns_ufs_mkdirs(c, cm->path))
			rc = ufs_stage_commit(c->ufs, cm->stage, cm->path, &st);
		if (rc) {
			LOG(LOG_ERROR, "core: rename into %s failed after its commit: %s", cm->path,
			    atr_strerror(rc));
			ufs_stage_keep(c->ufs, cm->stage);
			free(cm->rl.v); /* their intents are owed too */
			cm->rl.v = NULL;
			cm->rl.n = 0;
			rc = ns_owe(c);
		} else {
			if (cm->t.in_place)
				dir_mtime_restore(c, cm->path, cm->t.parent_mtime);
			rc = relinks_finish(c, &cm->rl, 1);
			if (!rc && st.mtime_ns != cm->row.obj.mtime_ns) {
				struct settle se = { cm, st.mtime_ns };
				/* Best effort: a failure costs one re-import. */
				if (!ns_txn_locked(c, settle_fn, &se))
					cm->row.obj.mtime_ns = st.mtime_ns;
			}
		}
	}
	/* The side file of the row replaced, if it is not the new one's: no
	 * row names it now (a crash before this leaves it to ns_side_gc). */
	if (!rc && *cm->old_side && strcmp(cm->old_side, cm->path))
		ufs_unlink(c->ufs, cm->old_side);
	if (!rc)
		ns_version_drop(c, cm->ver_drop[0]);
	if (!rc)
		ns_version_drop(c, cm->ver_drop[1]);
	if (!rc)
		ns_txn_locked(c, touched_fn, cm); /* a hint for listings: best effort */
	ns_unlock(c);
	if (!rc && cm->cache_name[0])
		commit_cache(c, cm);
	if (!rc && cm->row.persist == ATR_TO_BE_PERSISTED)
		persist_kick(c);
	free(cm->grants);
	atr_obj_release(&cm->old.obj);
	if (!consumed && cm->stage)
		ufs_stage_abort(c->ufs, cm->stage); /* refused before its rename */
	ns_settle(c);
	if (!rc && out) {
		*out = cm->row.obj;
		out->is_dir = out->is_dir && !cm->row.side; /* a marker with bytes: an object */
	}
	return rc;
}

/* ---- S3's objects ---- */

static int fill_object(struct atr_core *c, struct commit *cm, const void *arg)
{
	const struct ns_object *o = arg;
	int rc;
	if ((rc = conditions(cm, o->must_not_exist, o->if_etag)) ||
	    (rc = stage_row(c, cm, o->owner, o->etag)) || (rc = s3_perms(c, cm, o->acl)))
		return rc;
	/* Versioning: the object replaced is kept, as the bucket says. */
	if ((rc = ns_version_keep(c, cm->bucket, cm->key, cm->exists ? &cm->old : NULL, o->vid,
				  cm->row.obj.vid, cm->ver_drop)) ||
	    (rc = ns_lock_new(c, cm->bucket, cm->key, cm->row.obj.vid, o->lock)))
		return rc;
	if (cm->had && !cm->old.pending) {
		/* A new object replaces the old one as rename(2) replaces a
		 * file: by a new inode, so that what the mount has open or
		 * cached of the old one stays whole and is never mistaken
		 * for the new bytes. Only the mount's own writes keep an
		 * inode. */
		ns_replaced(c, cm->bucket, cm->key, &cm->old);
		if ((rc = meta_obj_delete(c->meta, cm->bucket, cm->key)))
			return rc;
		if (cm->old.obj.node && !(rc = ns_names_changed(c, cm->old.obj.node)))
			ns_event(c, cm->bucket, cm->key, &cm->old.obj); /* one name fewer */
		if (rc)
			return rc;
		cm->had = 0;
	}
	return ATR_OK;
}

/* An object whose key ends in '/' with bytes (Hadoop's S3A markers with
 * content): the directory marker, made explicit as ns_commit_marker does,
 * whose row also has the bytes, in the side form. It keeps the
 * directory's inode (and so its side file's name: the rename replaces). */
static int fill_marker_bytes(struct atr_core *c, struct commit *cm, const void *arg)
{
	const struct ns_object *o = arg;
	struct ufs_stat st;
	int rc;
	if ((rc = conditions(cm, o->must_not_exist, o->if_etag)))
		return rc;
	rc = ufs_stat(c->ufs, cm->path, &st);
	if (rc == ATR_OK && !st.is_dir)
		return ATR_E_KEY_IS_PREFIX;
	if (rc == ATR_E_NO_KEY)
		rc = ufs_mkdir(c->ufs, cm->path);
	if (rc || (rc = stage_row(c, cm, cm->had ? cm->old.obj.owner : o->owner, o->etag)))
		return rc;
	cm->row.obj.is_dir = 1;
	cm->row.implicit = 0;
	if (cm->had) {
		cm->row.obj.ino = cm->old.obj.ino;
		cm->row.dir_mtime = cm->old.dir_mtime;
	}
	return s3_perms(c, cm, o->acl);
}

int ns_commit_object(struct atr_core *c, const struct ns_object *o, struct atr_obj *out)
{
	struct commit cm = { .bucket = o->bucket, .key = o->key, .stage = o->stage,
			     .hdrs = o->hdrs, .part_sizes = o->part_sizes, .nparts = o->nparts,
			     .part_sums = o->part_sums, .tags = o->tags, .s3 = 1,
			     .wt = o->write_type, .sse = o->sse, .plain = o->plain_size,
			     .segments = o->segments };
	if (key_is_dir(o->key)) {
		if (!ufs_can_at(c->ufs, o->bucket, UFS_CAP_RENAME)) {
			ufs_stage_abort(c->ufs, o->stage);
			return ATR_E_INVALID_ARG; /* no side form: a directory holds no bytes */
		}
		cm.side = 1;
		return commit_run(c, &cm, fill_marker_bytes, o, out);
	}
	return commit_run(c, &cm, fill_object, o, out);
}

/* ---- directory markers ---- */

struct marker {
	const char *owner;
	const struct atr_acl *acl;
	int must_not_exist;
	const char *if_etag;
};

static int fill_marker(struct atr_core *c, struct commit *cm, const void *arg)
{
	const struct marker *m = arg;
	struct ufs_stat st;
	int rc;
	if ((rc = conditions(cm, m->must_not_exist, m->if_etag)))
		return rc;
	/* The directory itself, made explicit. */
	rc = ufs_stat(c->ufs, cm->path, &st);
	if (rc == ATR_OK && !st.is_dir)
		return ATR_E_KEY_IS_PREFIX;
	if (rc == ATR_E_NO_KEY && (!(rc = ufs_mkdir(c->ufs, cm->path))))
		rc = ufs_stat(c->ufs, cm->path, &st);
	if (rc)
		return rc;
	/* A directory that is there stays its owner's. */
	ns_dir_row(&cm->row, cm->had ? cm->old.obj.owner : m->owner, 0);
	if (cm->had) {
		cm->row.obj.ino = cm->old.obj.ino;
		cm->row.dir_mtime = cm->old.dir_mtime;
	}
	cm->row.obj.mtime_ns = st.mtime_ns;
	return s3_perms(c, cm, m->acl);
}

int ns_commit_marker(struct atr_core *c, const char *owner, const char *bucket, const char *key,
		     const struct atr_acl *acl, int must_not_exist, const char *if_etag,
		     const char *hdrs, const char *tags, struct atr_obj *out)
{
	struct marker m = { owner, acl, must_not_exist, if_etag };
	struct commit cm = { .bucket = bucket, .key = key, .hdrs = hdrs, .tags = tags };
	return commit_run(c, &cm, fill_marker, &m, out);
}

int ns_commit_s3_marker(struct atr_core *c, const char *owner, const char *bucket,
			const char *key, const struct atr_acl *acl, int must_not_exist,
			const char *if_etag, const char *hdrs, const char *tags,
			struct atr_obj *out)
{
	struct marker m = { owner, acl, must_not_exist, if_etag };
	struct commit cm = { .bucket = bucket, .key = key, .hdrs = hdrs, .tags = tags, .s3 = 1 };
	return commit_run(c, &cm, fill_marker, &m, out);
}

/* ---- the mount's new entries and new bytes ---- */

struct entry {
	const char *owner, *etag;
	const struct atr_obj *posix;
};

static int fill_entry(struct atr_core *c, struct commit *cm, const void *arg)
{
	const struct entry *e = arg;
	int rc;
	if ((rc = conditions(cm, 1, NULL)) || (rc = stage_row(c, cm, e->owner, e->etag)) ||
	    (rc = ns_version_keep(c, cm->bucket, cm->key, NULL, NULL, cm->row.obj.vid,
				  cm->ver_drop)) ||
	    (rc = ns_lock_new(c, cm->bucket, cm->key, cm->row.obj.vid, NULL)))
		return rc;
	cm->row.obj.mode = e->posix->mode;
	cm->row.obj.gid = e->posix->gid;
	cm->row.obj.kind = e->posix->kind;
	cm->row.obj.rdev = e->posix->rdev;
	return ATR_OK;
}

int ns_commit_entry(struct atr_core *c, const char *owner, const char *bucket, const char *key,
		    struct ufs_stage *stage, const char *etag, const struct atr_obj *posix,
		    struct atr_obj *out)
{
	struct entry e = { owner, etag, posix };
	struct commit cm = { .bucket = bucket, .key = key, .stage = stage };
	return commit_run(c, &cm, fill_entry, &e, out);
}

static int fill_bytes(struct atr_core *c, struct commit *cm, const void *arg)
{
	const char *etag = arg;
	const struct atr_obj *old = &cm->old.obj;
	int rc;
	if (!cm->had || obj_node(old) != cm->node)
		return ATR_E_NO_KEY; /* unlinked or renamed away meanwhile */
	/* A file written in place changes no name of its directory: as on a
	 * local file system, the directory's mtime stays (rsync --inplace
	 * and make compare it); only our stage's rename moved it. */
	if ((cm->t.in_place = cm->exists)) {
		char parent[ATR_KEY_MAX + 2];
		key_parent(cm->key, parent);
		cm->t.parent_mtime = ns_ufs_mtime(c, cm->bucket, parent);
	}
	if ((rc = stage_row(c, cm, old->owner, etag)))
		return rc;
	/* New bytes for the same inode: it keeps everything but its content. */
	cm->row.obj.mode = old->mode;
	cm->row.obj.gid = old->gid;
	cm->row.obj.kind = old->kind;
	cm->row.obj.rdev = old->rdev;
	cm->row.obj.atime_ns = old->atime_ns;
	cm->row.has_acl = cm->old.has_acl;
	cm->hdrs = old->hdrs;
	/* A versioned bucket keeps the bytes replaced as a noncurrent
	 * version, as an S3 write does; a locked one is not changed in
	 * place (Object Lock). */
	if ((cm->exists && (rc = ns_lock_check(c, cm->bucket, cm->key, old->vid, 0))) ||
	    (rc = ns_version_keep(c, cm->bucket, cm->key, cm->exists ? &cm->old : NULL, NULL,
				  cm->row.obj.vid, cm->ver_drop)) ||
	    (rc = ns_lock_new(c, cm->bucket, cm->key, cm->row.obj.vid, NULL)))
		return rc;
	return ATR_OK;
}

int ns_commit_bytes(struct atr_core *c, uint64_t node, struct ufs_stage *stage, const char *etag,
		    struct atr_obj *out)
{
	return ns_commit_bytes_sse(c, node, stage, etag, ATR_SSE_NONE, 0, out);
}

int ns_commit_bytes_sse(struct atr_core *c, uint64_t node, struct ufs_stage *stage,
			const char *etag, int sse, uint64_t plain, struct atr_obj *out)
{
	struct commit cm = { .stage = stage, .node = node, .keep_tags = 1, .sse = sse,
			     .plain = plain };
	return commit_run(c, &cm, fill_bytes, etag, out);
}
