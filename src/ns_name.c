/*
 * ns_name — removing, renaming and linking names (src/ns_int.h), and the
 * start-up that finishes what a crash cut short.
 *
 * Each change is metadata first, like a commit: one transaction moves the
 * rows and records an intent naming the UFS step ("/FROM" -> TO for a
 * rename, "+FROM" -> TO for a link, a stage -> its path for a commit); the
 * UFS step follows once that has committed, still under ns_lock. A
 * transaction that fails changes nothing on disk, and a crash after it is
 * finished at the next start (ns_recover), so the rows (inodes, headers,
 * modes) and the files always agree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "src/ns_int.h"
#include "common/banned.h"

/* ---- removing ---- */

/*
 * A delete unlinks inside its transaction, before the commit: unlike every
 * other change it is not metadata first, because it must work on a full
 * disk (freeing space is what it is for, and SQLite needs some to commit).
 * A crash between the unlink and the commit leaves the row of an object
 * whose file is gone: it reads as deleted, and the next look drops the row.
 */
int ns_delete_locked(struct atr_core *c, const char *bucket, const char *key, int prune)
{
	char path[PATH_MAX_UFS], parent[ATR_KEY_MAX + 2];
	struct ns_touched t = { .key = key };
	struct meta_row r = { 0 };
	int rc, unlinked = 0;

	NS_ASSERT_HELD(c);
	if (key_path(path, sizeof(path), bucket, key))
		return ATR_E_NO_KEY;
	key_parent(key, parent);
	ns_touch(c, &t, bucket, parent, 0);
	int had = meta_obj_get(c->meta, bucket, key, &r, 0) == ATR_OK;
	if (had && META_ROW_ASIDE(&r)) {
		/* The side form (src/ns_int.h): the bytes are in the private
		 * area; a marker's directory is dealt with below. */
		char side[PATH_MAX_UFS];
		if (ns_side_path(side, sizeof(side), r.obj.ino))
			return ATR_E_INTERNAL;
		/* Held on this node, not yet persisted (src/persist.c): the
		 * remote may still have an older version of the key, which the
		 * metadata sync would bring back. It goes first, so a store
		 * that does not answer leaves the row with its held file. */
		if (r.persist && !key_is_dir(key) &&
		    (rc = ufs_unlink(c->ufs, path)) && !ns_ufs_gone(c, path))
			return rc == ATR_E_IO ? ATR_E_UFS_DOWN : rc;
		if ((rc = ufs_unlink(c->ufs, side)) && !ns_ufs_gone(c, side))
			return rc;
		unlinked = 1;
		r.side = 0;
		r.obj.size = 0;
		snprintf(r.obj.etag, sizeof(r.obj.etag), "%s", ATR_MD5_EMPTY);
	}
	if (key_is_dir(key)) {
		if (!had || r.implicit)
			return ATR_E_NO_KEY;
		int kids = meta_obj_has_children(c->meta, bucket, key);
		if (kids < 0)
			return ATR_E_IO;
		if ((rc = kids ? ATR_OK : ufs_rmdir(c->ufs, path)) && rc != ATR_E_BUCKET_NOT_EMPTY)
			return rc; /* the store failing: the marker stays */
		if (kids || rc) {
			/* Still holds objects: it stays, as an implied directory. */
			r.implicit = 1;
			return meta_obj_put(c->meta, bucket, key, &r);
		}
	} else if (!unlinked) {
		/* A pending row (a file being created) has no file yet. */
		struct ufs_stat st;
		if ((rc = ufs_stat(c->ufs, path, &st)) && !ufs_absent(rc))
			return rc; /* the store failing: the row stays with its file */
		if (rc == ATR_OK && st.is_reg) {
			/* A reply lost: done all the same. */
			if ((rc = ufs_unlink(c->ufs, path)) && !ns_ufs_gone(c, path))
				return rc;
			unlinked = 1;
		}
	}
	if (!had && !unlinked)
		return ATR_E_NO_KEY;
	if (had && ((rc = meta_obj_delete(c->meta, bucket, key)) ||
		    (rc = ns_names_changed(c, r.obj.node))))
		return rc;
	if (had)
		ns_event(c, bucket, key, &r.obj);
	if (prune && (rc = ns_prune_parents(c, bucket, key, &t)))
		return rc;
	ns_touched_done(c, &t, bucket);
	return ATR_OK;
}

struct delete_args {
	const char *bucket, *key;
	int prune;
};

static int delete_fn(struct atr_core *c, void *arg)
{
	struct delete_args *d = arg;
	return ns_delete_locked(c, d->bucket, d->key, d->prune);
}

int ns_delete(struct atr_core *c, const char *bucket, const char *key, int prune)
{
	struct delete_args d = { bucket, key, prune };
	int rc = ns_txn(c, delete_fn, &d);
	ns_settle(c);
	return rc;
}

static int rmdir_fn(struct atr_core *c, void *arg)
{
	struct delete_args *d = arg;
	char path[PATH_MAX_UFS];
	int rc;
	if (key_path(path, sizeof(path), d->bucket, d->key))
		return ATR_E_KEY_TOO_LONG;
	int kids = meta_obj_has_children(c->meta, d->bucket, d->key);
	if (kids)
		return kids < 0 ? ATR_E_IO : ATR_E_NOT_EMPTY;
	if ((rc = ufs_rmdir(c->ufs, path)))
		return rc == ATR_E_BUCKET_NOT_EMPTY ? ATR_E_NOT_EMPTY : rc;
	struct meta_row r = { 0 };
	if (!meta_obj_get(c->meta, d->bucket, d->key, &r, 0))
		ns_event(c, d->bucket, d->key, &r.obj);
	if (r.side && !ns_side_path(path, sizeof(path), r.obj.ino))
		ufs_unlink(c->ufs, path); /* a marker's bytes (the side form) go with it */
	if (!(rc = meta_obj_delete(c->meta, d->bucket, d->key)) && d->prune)
		rc = ns_prune_parents(c, d->bucket, d->key, NULL);
	return rc;
}

int ns_rmdir(struct atr_core *c, const char *bucket, const char *dk, int prune)
{
	struct delete_args d = { bucket, dk, prune };
	int rc = ns_txn(c, rmdir_fn, &d);
	ns_settle(c);
	return rc;
}

int ns_name_free(struct atr_core *c, const char *bucket, const char *key)
{
	char dk[ATR_KEY_MAX + 3];
	struct meta_row row = { 0 };
	snprintf(dk, sizeof(dk), "%s/", key);
	if (meta_obj_get(c->meta, bucket, key, &row, 0) == ATR_OK ||
	    meta_obj_get(c->meta, bucket, dk, &row, 0) == ATR_OK)
		return ATR_E_EXISTS;
	return ATR_OK;
}

/* ---- renaming ---- */

struct move {
	int todo, replace;
	char from[PATH_MAX_UFS], to[PATH_MAX_UFS];
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2]; /* the source */
};

struct rename_args {
	const char *sb, *sk, *db, *dk;
	int dir;
	unsigned flags;
	struct move mv;
};

/* With NS_MOVE_REPLACE or NS_MOVE_NOREPLACE, rename(2)'s rules for what
 * is at the destination: its row goes (*replace: its file or directory is
 * replaced by the source's in the UFS move, so a crash leaves one or the
 * other); -1 for "nothing to do" (two names of one file). */
static int clear_destination(struct atr_core *c, struct rename_args *r,
			     const struct meta_row *src, int *replace)
{
	struct meta_row dst = { 0 };
	char alt[ATR_KEY_MAX + 2];
	/* What is at the destination: a file, or a directory (alt). */
	size_t dl = strlen(r->dk);
	if (r->dir)
		snprintf(alt, sizeof(alt), "%.*s", (int)(dl - 1), r->dk);
	else
		snprintf(alt, sizeof(alt), "%s/", r->dk);
	int file_there = !meta_obj_get(c->meta, r->db, r->dir ? alt : r->dk, &dst, 0);
	int dir_there = !file_there && !meta_obj_get(c->meta, r->db, r->dir ? r->dk : alt, &dst, 0);
	if ((file_there || dir_there) && (r->flags & NS_MOVE_NOREPLACE))
		return ATR_E_EXISTS;
	int rc;
	if (file_there && dst.side) {
		/* An object in the side form (src/ns_int.h): the tree shows the
		 * directory of its name if there is one, else nothing; what
		 * replaces it is a file in the natural layout. */
		char side[PATH_MAX_UFS];
		if (r->dir || !meta_obj_get(c->meta, r->db, alt, &dst, 0))
			return r->dir ? ATR_E_PARENT_IS_OBJECT : ATR_E_KEY_IS_PREFIX;
		if (ns_side_path(side, sizeof(side), dst.obj.ino))
			return ATR_E_INTERNAL;
		if ((rc = ufs_unlink(c->ufs, side)) && !ns_ufs_gone(c, side))
			return rc;
		ns_event(c, r->db, r->dk, &dst.obj);
		if ((rc = meta_obj_delete(c->meta, r->db, r->dk)))
			return rc;
	} else if (file_there) {
		if (r->dir)
			return ATR_E_PARENT_IS_OBJECT; /* ENOTDIR */
		if (obj_node(&dst.obj) == obj_node(&src->obj))
			return -1; /* two names of one file: rename(2) does nothing */
		ns_event(c, r->db, r->dk, &dst.obj);
		if ((rc = meta_obj_delete(c->meta, r->db, r->dk)) ||
		    (rc = ns_names_changed(c, dst.obj.node)))
			return rc;
		*replace = !dst.pending;
	} else if (dir_there) {
		if (!r->dir)
			return ATR_E_KEY_IS_PREFIX; /* EISDIR */
		int kids = meta_obj_has_children(c->meta, r->db, r->dk);
		if (kids)
			return kids < 0 ? ATR_E_IO : ATR_E_NOT_EMPTY;
		ns_event(c, r->db, r->dk, &dst.obj);
		if ((rc = meta_obj_delete(c->meta, r->db, r->dk)))
			return rc;
		*replace = 1;
	}
	return ATR_OK;
}

static int rename_fn(struct atr_core *c, void *arg)
{
	struct rename_args *r = arg;
	struct move *mv = &r->mv;
	char upto[ATR_KEY_MAX + 2], alt[ATR_KEY_MAX + 2], plain[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 }, src = { 0 };
	int rc, replace = 0;
	if (meta_obj_get(c->meta, r->sb, r->sk, &src, 0))
		return ATR_E_NO_KEY; /* moved or deleted meanwhile */
	/* Object Lock: a locked current version neither moves nor is
	 * replaced (the mount, the path view). */
	if (!r->dir && !src.pending && (rc = ns_lock_check(c, r->sb, r->sk, src.obj.vid, 0)))
		return rc;
	if (!r->dir && !meta_obj_get(c->meta, r->db, r->dk, &row, 0) && !row.pending &&
	    !row.obj.is_dir && (rc = ns_lock_check(c, r->db, r->dk, row.obj.vid, 0)))
		return rc;
	/* ... nor does a directory holding one move. */
	if (r->dir) {
		if (key_successor(r->sk, upto, sizeof(upto)))
			return ATR_E_INVALID_ARG;
		int locked = meta_lock_any(c->meta, r->sb, r->sk, upto, time_now_ns() / 1000000);
		if (locked)
			return locked < 0 ? ATR_E_IO : ATR_E_LOCKED;
	}
	if ((r->flags & (NS_MOVE_REPLACE | NS_MOVE_NOREPLACE)) &&
	    (rc = clear_destination(c, r, &src, &replace)))
		return rc < 0 ? ATR_OK : rc;
	/* Nothing may be at the destination now, as a file or a directory. */
	size_t dl = strlen(r->dk);
	snprintf(plain, sizeof(plain), "%.*s", (int)(r->dir ? dl - 1 : dl), r->dk);
	if (key_dir(plain, alt))
		return ATR_E_KEY_TOO_LONG;
	if (meta_obj_get(c->meta, r->db, plain, &row, 0) != ATR_E_NO_KEY ||
	    meta_obj_get(c->meta, r->db, alt, &row, 0) != ATR_E_NO_KEY)
		return ATR_E_EXISTS;
	if (key_path(mv->from, sizeof(mv->from), r->sb, r->sk) ||
	    key_path(mv->to, sizeof(mv->to), r->db, r->dk))
		return ATR_E_KEY_TOO_LONG;
	/* Asked of both ends: a bucket mounted on a store without renames
	 * (ufs_mux.c) takes none, and none leaves it. */
	if (!ufs_can_at(c->ufs, mv->from, UFS_CAP_RENAME) ||
	    !ufs_can_at(c->ufs, mv->to, UFS_CAP_RENAME))
		return ATR_E_NOT_SUPPORTED;
	if ((rc = ns_ensure_parents(c, r->db, r->dk, 1, NULL)))
		return rc;
	ns_event(c, r->sb, r->sk, &src.obj);
	if (r->dir)
		rc = key_successor(r->sk, upto, sizeof(upto))
			     ? ATR_E_INVALID_ARG
			     : meta_obj_rename_prefix(c->meta, r->sb, r->sk, upto, r->db, r->dk);
	else
		rc = meta_obj_rename(c->meta, r->sb, r->sk, r->db, r->dk);
	if (rc)
		return rc;
	ns_event(c, r->db, r->dk, &src.obj);
	snprintf(mv->bucket, sizeof(mv->bucket), "%s", r->sb);
	snprintf(mv->key, sizeof(mv->key), "%s", r->sk);
	mv->replace = replace;
	/* A file being created through the mount has no bytes to move yet. */
	mv->todo = !src.pending;
	if (!mv->todo)
		return ATR_OK;
	char intent[sizeof(mv->from) + 1];
	snprintf(intent, sizeof(intent), "/%s", mv->from);
	return meta_intent_set(c->meta, intent, mv->to);
}

static int prune_fn(struct atr_core *c, void *arg)
{
	struct move *mv = arg;
	return ns_prune_parents(c, mv->bucket, mv->key, NULL);
}

/* The UFS move once the rows have moved, then the source's implied
 * parents left empty. A move that fails is owed (its intent), not undone. */
static int rename_then(struct atr_core *c, void *arg, int committed)
{
	struct move *mv = &((struct rename_args *)arg)->mv;
	if (!committed || !*mv->bucket)
		return ATR_OK; /* nothing was moved */
	if (mv->todo) {
		int rc = mv->replace ? ufs_rename_replace(c->ufs, mv->from, mv->to)
				     : ufs_rename(c->ufs, mv->from, mv->to);
		if (rc) {
			LOG(LOG_ERROR, "core: rename %s -> %s failed after its commit: %s", mv->from,
			    mv->to, atr_strerror(rc));
			if ((rc = ns_owe(c)))
				return rc;
		}
	}
	ns_txn_locked(c, prune_fn, mv); /* best effort: empty implied parents */
	return ATR_OK;
}

int ns_rename(struct atr_core *c, const char *sbucket, const char *skey, const char *dbucket,
	      const char *dkey, int dir, unsigned flags)
{
	struct rename_args r = { sbucket, skey, dbucket, dkey, dir, flags, { 0 } };
	if (key_is_dir(skey) != !!dir || key_is_dir(dkey) != !!dir || !*skey || !*dkey)
		return ATR_E_INVALID_ARG; /* a directory's keys end in '/', a file's not */
	int rc = ns_txn_then(c, rename_fn, rename_then, &r);
	ns_settle(c);
	return rc;
}

/* "BUCKET/KEY", a UFS path as the intents hold it, back into its parts. */
static int split_ufs_path(const char *p, char bucket[ATR_BUCKET_MAX + 1],
			  char key[ATR_KEY_MAX + 2])
{
	size_t bl = strcspn(p, "/");
	if (bl > ATR_BUCKET_MAX || !p[bl] || strlen(p + bl + 1) > ATR_KEY_MAX)
		return -1;
	memcpy(bucket, p, bl);
	bucket[bl] = '\0';
	snprintf(key, ATR_KEY_MAX + 2, "%s", p + bl + 1);
	return 0;
}

/* The move intent from -> to of a rename cut short (a crash, or the UFS
 * failing) is finished if the file is still at from and no row names
 * from any more. ATR_OK once done, or found done. */
static int move_recover(struct atr_core *c, const char *from, const char *to)
{
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2], dk[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	struct ufs_stat st;
	if (split_ufs_path(from, bucket, key) || !*key || key_dir(key, dk))
		return ATR_OK;
	int rc = ufs_stat(c->ufs, from, &st);
	if (rc)
		return rc == ATR_E_NO_KEY ? ATR_OK : rc; /* moved before it was cut */
	if (meta_obj_get(c->meta, bucket, key, &row, 0) != ATR_E_NO_KEY ||
	    meta_obj_get(c->meta, bucket, dk, &row, 0) != ATR_E_NO_KEY)
		return ATR_OK; /* something new lives at from: the move was done */
	if ((rc = ufs_rename_replace(c->ufs, from, to)))
		return rc;
	LOG(LOG_INFO, "core: finished the rename of %s to %s that was cut short", from, to);
	return ATR_OK;
}

/* ---- linking ---- */

/*
 * link(2) is metadata first, like a commit or a rename: one transaction
 * writes the new name's row and an intent "+FROM" -> TO; the UFS link
 * follows once it has committed (link_then, still under ns_lock). A crash
 * in between is finished at start (link_recover), so there is never a
 * file at TO that no row names (before, the link came first, and a crash
 * before the commit left a file the next start took for one dropped into
 * the under-storage).
 */
struct link_args {
	const char *bucket, *key, *db, *dk;
	uint64_t node;
	char from[PATH_MAX_UFS], to[PATH_MAX_UFS];
};

static int link_fn(struct atr_core *c, void *arg)
{
	struct link_args *l = arg;
	struct meta_row src = { 0 }, row = { 0 };
	int rc = meta_obj_get(c->meta, l->bucket, l->key, &src, 1);
	if (rc)
		return rc;
	if (obj_node(&src.obj) != l->node || src.pending) {
		atr_obj_release(&src.obj);
		return ATR_E_NO_KEY; /* renamed, replaced or unlinked since */
	}
	char intent[PATH_MAX_UFS + 1];
	rc = ns_name_free(c, l->db, l->dk);
	if (!rc && (key_path(l->from, sizeof(l->from), l->bucket, l->key) ||
		    key_path(l->to, sizeof(l->to), l->db, l->dk)))
		rc = ATR_E_KEY_TOO_LONG;
	snprintf(intent, sizeof(intent), "+%s", l->from);
	if (!rc)
		rc = meta_intent_set(c->meta, intent, l->to);
	if (rc) {
		atr_obj_release(&src.obj);
		return rc;
	}
	/* The new name is a row like the first, and the inode's change time
	 * moves (link(2)); meta_obj_set_posix hands it to every name. */
	src.obj.node = l->node;
	src.obj.ctime_ns = time_now_ns();
	row = src;
	row.dir_mtime = 0;
	if (!(rc = meta_node_set(c->meta, src.obj.ino, l->node)) &&
	    !(rc = meta_obj_put(c->meta, l->db, l->dk, &row)))
		rc = meta_obj_set_posix(c->meta, &src);
	atr_obj_release(&src.obj);
	return rc;
}

/* A link that fails after its commit is owed (its intent), not undone. */
static int link_then(struct atr_core *c, void *arg, int committed)
{
	struct link_args *l = arg;
	int rc = committed ? ufs_link(c->ufs, l->from, l->to) : ATR_OK;
	if (rc) {
		LOG(LOG_ERROR, "node: link %s -> %s failed after its commit: %s", l->from, l->to,
		    atr_strerror(rc));
		rc = ns_owe(c);
	}
	return rc;
}

int ns_link(struct atr_core *c, const char *bucket, const char *key, uint64_t node,
	    const char *dbucket, const char *dkey)
{
	if (!ufs_can_at(c->ufs, bucket, UFS_CAP_LINKS) ||
	    !ufs_can_at(c->ufs, dbucket, UFS_CAP_LINKS))
		return ATR_E_NOT_SUPPORTED;
	struct link_args l = { bucket, key, dbucket, dkey, node, "", "" };
	int rc = ns_txn_then(c, link_fn, link_then, &l);
	ns_settle(c);
	return rc;
}

/* The link intent from -> to of a link(2) cut short is finished if a row
 * names to, of the same inode as from's, and no file is there yet. ATR_OK
 * once done, or found done. */
static int link_recover(struct atr_core *c, const char *from, const char *to)
{
	char fb[ATR_BUCKET_MAX + 1], fk[ATR_KEY_MAX + 2], tb[ATR_BUCKET_MAX + 1],
		tk[ATR_KEY_MAX + 2];
	struct meta_row src = { 0 }, dst = { 0 };
	struct ufs_stat st;
	if (split_ufs_path(from, fb, fk) || split_ufs_path(to, tb, tk))
		return ATR_OK;
	/* Done before (TO is on disk), undone since (no row names TO, or it
	 * names another inode now), or the transaction never committed:
	 * nothing to do. */
	int rc = ufs_stat(c->ufs, to, &st);
	if (rc != ATR_E_NO_KEY)
		return rc;
	if ((rc = ufs_stat(c->ufs, from, &st)))
		return rc == ATR_E_NO_KEY ? ATR_OK : rc;
	if (meta_obj_get(c->meta, fb, fk, &src, 0) == ATR_OK &&
	    meta_obj_get(c->meta, tb, tk, &dst, 0) == ATR_OK &&
	    obj_node(&src.obj) == obj_node(&dst.obj) &&
	    !(rc = ufs_link(c->ufs, from, to)))
		LOG(LOG_INFO, "core: finished the link of %s to %s that was cut short", from, to);
	atr_obj_release(&src.obj);
	atr_obj_release(&dst.obj);
	return rc;
}

struct adopt_args {
	const char *bucket, *key, *db, *dk;
	uint64_t ino;
};

static int adopt_fn(struct atr_core *c, void *arg)
{
	struct adopt_args *a = arg;
	struct meta_row row = { 0 };
	int rc = meta_obj_get(c->meta, a->bucket, a->key, &row, 0);
	if (rc || row.obj.ino != a->ino || !row.pending)
		return rc ? rc : ATR_E_NO_KEY;
	if ((rc = ns_name_free(c, a->db, a->dk)))
		return rc;
	return meta_obj_rename(c->meta, a->bucket, a->key, a->db, a->dk);
}

int ns_adopt(struct atr_core *c, const char *bucket, const char *key, uint64_t ino,
	     const char *dbucket, const char *dkey)
{
	struct adopt_args a = { bucket, key, dbucket, dkey, ino };
	return ns_txn(c, adopt_fn, &a);
}

/* ---- UFS steps cut short: after a crash, or the UFS failing ---- */

/* Whether a UFS step that failed so may work when tried again (the store
 * failing for now), rather than never (something behind our back in the
 * way: it is given up, and metadata sync puts the rows right). */
static int may_heal(int rc)
{
	switch (rc) {
	case ATR_E_IO: case ATR_E_NOSPC: case ATR_E_QUOTA: case ATR_E_NOMEM:
	case ATR_E_NO_FILES: case ATR_E_BUSY: case ATR_E_READ_ONLY:
		return 1;
	default:
		return 0;
	}
}

struct redo {
	struct atr_core *c;
	int rc;   /* the first step that failed and may heal */
	int lost; /* the first step given up */
};

/* Each intent left: a commit's rename (stage -> path), a rename's move
 * ("/FROM" -> TO), a link's ("+FROM" -> TO), a move to the side form
 * ("=FROM" -> TO) or a version's ("~FROM" -> TO into the versions, "^FROM"
 * -> TO back to its key), finished if it is still to be done. */
static int redo_intent(void *arg, const char *stage, const char *path)
{
	struct redo *r = arg;
	struct atr_core *c = r->c;
	int rc;
	if (*stage == '/') {
		rc = move_recover(c, stage + 1, path);
	} else if (*stage == '+') {
		rc = link_recover(c, stage + 1, path);
	} else if (*stage == '=') {
		rc = ns_side_recover(c, stage + 1, path);
	} else if (*stage == '~' || *stage == '^') {
		rc = ns_version_recover(c, *stage, stage + 1, path);
	} else {
		rc = ufs_stage_recover(c->ufs, stage, path);
		/* A side file's directory made at start may have failed. */
		if (rc == ATR_E_NO_KEY && !strncmp(path, SIDE_DIR "/", strlen(SIDE_DIR) + 1) &&
		    !ns_ufs_mkdirs(c, path))
			rc = ufs_stage_recover(c->ufs, stage, path);
		if (!rc)
			LOG(LOG_INFO, "core: finished the commit of %s that was cut short", path);
		else if (rc == ATR_E_NO_KEY)
			rc = ATR_OK; /* no such stage: done before */
	}
	if (rc && !may_heal(rc)) {
		LOG(LOG_ERROR, "core: %s -> %s cannot be finished (%s): given up", stage, path,
		    atr_strerror(rc));
		if (!r->lost)
			r->lost = rc;
		rc = ATR_OK;
	}
	if (rc && !r->rc)
		r->rc = rc;
	return 0;
}

/* ns_redo, and in *lost the first step given up. */
static int redo(struct atr_core *c, int *lost)
{
	NS_ASSERT_HELD(c);
	*lost = ATR_OK;
	if (!c->ns_owed)
		return ATR_OK;
	struct redo r = { c, ATR_OK, ATR_OK };
	int rc = meta_intent_scan(c->meta, redo_intent, &r);
	*lost = r.lost;
	if (!rc && !(rc = r.rc) && !(rc = meta_intent_clear(c->meta)))
		__atomic_store_n(&c->ns_owed, 0, __ATOMIC_RELAXED);
	return rc;
}

int ns_redo(struct atr_core *c)
{
	int lost;
	return redo(c, &lost);
}

int ns_owe(struct atr_core *c)
{
	int lost;
	__atomic_store_n(&c->ns_owed, 1, __ATOMIC_RELAXED);
	int rc = redo(c, &lost);
	return rc ? rc : lost;
}

int ns_recover(struct atr_core *c)
{
	/* The side form's directory, before the intents that name files in
	 * it: a stage's rename finds its directory there (the first side
	 * file's commit may have been cut short before it was made). */
	if (ufs_can(c->ufs, UFS_CAP_RENAME)) {
		ns_ufs_mkdirs(c, SIDE_DIR "/");
		ns_ufs_mkdirs(c, VERSION_DIR "/");
	}
	ns_lock(c);
	int rc = ns_owe(c); /* whatever intents a crash left */
	int owed = c->ns_owed;
	ns_unlock(c);
	if (rc && may_heal(rc))
		LOG(LOG_ERROR, "core: changes a crash cut short are still to finish (%s): "
		    "nothing changes until they are", atr_strerror(rc));
	else if (rc && owed)
		return rc; /* the store of intents failing */
	/* Every other stage is garbage: nothing refers to it. Not while a
	 * step is owed: its stage waits for it. */
	if (!owed) {
		ufs_stage_gc(c->ufs);
		ns_side_gc(c); /* side files an object replaced or deleted left */
		ns_version_gc(c); /* version files a rolled-back transaction left */
	}
	/* Files created through the mount and never closed did not happen. */
	return meta_pending_clear(c->meta);
}

/* ---- rows being created ---- */

struct pending_args {
	const char *bucket, *key;
	struct meta_row *row;
};

static int pending_fn(struct atr_core *c, void *arg)
{
	struct pending_args *p = arg;
	int rc = ns_name_free(c, p->bucket, p->key);
	return rc ? rc : meta_obj_put(c->meta, p->bucket, p->key, p->row);
}

int ns_pending_create(struct atr_core *c, const char *bucket, const char *key,
		      struct meta_row *row)
{
	struct pending_args p = { bucket, key, row };
	row->pending = 1;
	return ns_txn(c, pending_fn, &p);
}
