/*
 * ns_version — versioning in the namespace kernel (src/ns_int.h,
 * "versions"): keeping the version a write replaces, delete markers, the
 * permanent delete of one version (with the promotion of the next one
 * back to the key), the start-up finish of a move cut short and the sweep
 * of version files no row names.
 *
 * The current version of a key stays what it always was: the file at its
 * natural path and its objects row (objects.vid its id). Every other
 * version is a row of versions (src/meta_int.h), newest first by seq, and
 * a noncurrent one's bytes are VERSION_DIR/<seq> in the private area: the
 * very file that was current, moved or linked there, never copied.
 *
 * Crash safety (docs/reliability.md, "Versions"): a version file is made
 * inside the transaction that writes its row, before the commit, by a
 * link (the current file keeps its path: a write replacing it renames its
 * stage over it after the commit, as every commit does), so a crash before
 * the commit leaves only a file no row names, which the start removes
 * (ns_version_gc); after it, the row and the file are both there. A move
 * of the current file out of the tree (a delete marker) or of a version
 * back to it (the promotion after a permanent delete) is metadata first:
 * the rows and an intent ("~FROM" -> TO, "^FROM" -> TO) in one
 * transaction, the rename after it, finished at start from the intent.
 */
#include <inttypes.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "src/ns_int.h"
#include "common/banned.h"

int ns_version_path(char *out, size_t size, uint64_t seq)
{
	int n = snprintf(out, size, VERSION_DIR "/%" PRIu64, seq);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* A new version id: the time in microseconds (16 hex digits) then 64
 * random bits, so ids of one key never meet and sort by age. */
int ns_vid_new(char out[ATR_VID_MAX + 1])
{
	unsigned char r[8];
	if (RAND_bytes(r, sizeof(r)) != 1)
		return ATR_E_INTERNAL;
	uint64_t t = (uint64_t)time_now_ns() / 1000;
	snprintf(out, ATR_VID_MAX + 1, "%016" PRIx64 "%02x%02x%02x%02x%02x%02x%02x%02x", t, r[0],
		 r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
	return ATR_OK;
}

/* The versioning of bucket as it applies (enum atr_versioning): a bucket
 * on a store without links and renames (a remote one, mounted after its
 * state was set) keeps no versions whatever its row says. */
static int versioning_of(struct atr_core *c, const char *bucket, int *state)
{
	struct atr_bucket b;
	int rc = meta_bucket_get(c->meta, bucket, &b);
	*state = rc || !ufs_can_at(c->ufs, bucket, UFS_CAP_RENAME | UFS_CAP_LINKS)
			 ? ATR_VER_OFF
			 : b.versioning;
	return rc;
}

/* The current version at key: an S3 object (no directory, no file being
 * made), with its hdrs. 1 and *r, 0 for none, or an error (negative). */
static int current_of(struct atr_core *c, const char *bucket, const char *key,
		      struct meta_row *r)
{
	int rc = meta_obj_get(c->meta, bucket, key, r, 1);
	if (rc == ATR_E_NO_KEY)
		return 0;
	if (rc)
		return -rc;
	if (!r->obj.is_dir && !r->pending)
		return 1;
	atr_obj_release(&r->obj);
	return 0;
}

/* A row of versions for the current row cur (its tags and grants with it:
 * the triggers drop those with the objects row). */
static int version_put(struct atr_core *c, const char *bucket, const char *key,
		       const struct meta_row *cur, struct meta_version *v)
{
	int rc;
	memset(v, 0, sizeof(*v));
	v->obj = cur->obj;
	v->obj.hdrs = cur->obj.hdrs; /* borrowed */
	if ((rc = meta_obj_tags_get(c->meta, cur->obj.ino, &v->tags)) && rc != ATR_E_NO_KEY)
		return rc;
	if (cur->has_acl && (rc = meta_acl_get(c->meta, obj_node(&cur->obj), &v->acl)) &&
	    rc != ATR_E_NO_KEY)
		goto out;
	rc = meta_ver_put(c->meta, bucket, key, v);
out:
	v->obj.hdrs = NULL;
	meta_version_release(v);
	return rc;
}

/* A version id is unique per key: an older row of the same id (which
 * only a change outside S3 can leave: the mount's new bytes keep the
 * id) gives way; its file, if any, is *drop's to remove after the commit. */
static int vid_free(struct atr_core *c, const char *bucket, const char *key, const char *vid,
		    uint64_t *drop)
{
	struct meta_version v;
	int rc = meta_ver_get(c->meta, bucket, key, *vid ? vid : "null", &v, 0);
	if (rc)
		return rc == ATR_E_NO_VERSION ? ATR_OK : rc;
	if (!v.marker)
		*drop = v.seq;
	return meta_ver_delete(c->meta, v.seq);
}

/* The current row cur becomes noncurrent, its file linked to its version
 * path (a stale file there, from a transaction rolled back, goes first). */
static int keep_linked(struct atr_core *c, const char *bucket, const char *key,
		       const struct meta_row *cur, uint64_t *drop)
{
	char from[PATH_MAX_UFS], to[PATH_MAX_UFS];
	struct meta_version v;
	struct ufs_stat st;
	int rc;
	if ((rc = vid_free(c, bucket, key, cur->obj.vid, drop)) ||
	    (rc = version_put(c, bucket, key, cur, &v)))
		return rc;
	if (ns_row_path(from, sizeof(from), bucket, key, cur) ||
	    ns_version_path(to, sizeof(to), v.seq))
		return ATR_E_KEY_TOO_LONG;
	ufs_unlink(c->ufs, to);
	rc = ufs_link(c->ufs, from, to);
	if (rc == ATR_E_NO_KEY && ufs_stat(c->ufs, from, &st) == ATR_E_NO_KEY) {
		/* Gone behind our back: nothing to keep. */
		LOG(LOG_WARN, "core: %s is gone: its version is not kept", from);
		return meta_ver_delete(c->meta, v.seq);
	}
	if (rc == ATR_E_NO_KEY && !ns_ufs_mkdirs(c, to))
		rc = ufs_link(c->ufs, from, to);
	return rc;
}

int ns_version_next(struct atr_core *c, const char *bucket, const char *key,
		    char vid[ATR_VID_MAX + 1])
{
	int state, rc = versioning_of(c, bucket, &state);
	*vid = '\0';
	if (rc || key_is_dir(key) || state == ATR_VER_OFF)
		return rc;
	if (state == ATR_VER_SUSPENDED) {
		snprintf(vid, ATR_VID_MAX + 1, "null");
		return ATR_OK;
	}
	return ns_vid_new(vid);
}

int ns_version_keep(struct atr_core *c, const char *bucket, const char *key,
		    const struct meta_row *old, const char *want, char vid[ATR_VID_MAX + 1],
		    uint64_t drop[2])
{
	struct meta_row cur = { 0 };
	int rc, had, state;
	NS_ASSERT_HELD(c);
	*vid = '\0';
	drop[0] = drop[1] = 0;
	if (key_is_dir(key) || (rc = versioning_of(c, bucket, &state)) || state == ATR_VER_OFF)
		return key_is_dir(key) ? ATR_OK : rc;
	if ((had = old && !old->obj.is_dir && !old->pending ? current_of(c, bucket, key, &cur) : 0) < 0)
		return -had;
	if (state == ATR_VER_ENABLED) {
		if (want && *want && !atr_vid_match(want, "null"))
			snprintf(vid, ATR_VID_MAX + 1, "%s", want);
		else
			rc = ns_vid_new(vid);
		if (!rc && had)
			rc = keep_linked(c, bucket, key, &cur, drop);
	} else {
		/* Suspended: the write is the null version, which replaces
		 * the null version there is (current or not); a current one
		 * with an id of its own stays as noncurrent. */
		snprintf(vid, ATR_VID_MAX + 1, "null");
		rc = vid_free(c, bucket, key, "null", &drop[1]);
		if (!rc && had && !atr_vid_match(cur.obj.vid, "null"))
			rc = keep_linked(c, bucket, key, &cur, drop);
	}
	if (had)
		atr_obj_release(&cur.obj);
	return rc;
}

void ns_version_settle(struct atr_core *c, const char *bucket, const char *key)
{
	struct meta_row r = { 0 };
	int state;
	if (versioning_of(c, bucket, &state) || state == ATR_VER_OFF ||
	    meta_obj_get(c->meta, bucket, key, &r, 0) || *r.obj.etag || r.obj.is_dir || r.pending)
		return;
	etag_settle(c, bucket, key, &r.obj, 1); /* best effort: the row may say "" */
}

void ns_version_drop(struct atr_core *c, uint64_t seq)
{
	char path[PATH_MAX_UFS];
	if (seq && !ns_version_path(path, sizeof(path), seq))
		ufs_unlink(c->ufs, path); /* a crash before this: ns_version_gc */
}

/* ---- Object Lock: the one check, and a new version's lock ---- */

int ns_lock_check(struct atr_core *c, const char *bucket, const char *key, const char *vid,
		  int bypass)
{
	struct atr_lock l;
	int rc = meta_lock_get(c->meta, bucket, key, vid, &l);
	if (rc)
		return rc == ATR_E_NO_KEY ? ATR_OK : rc;
	int64_t now = time_now_ns() / 1000000;
	int retained = l.until > now && (l.mode == ATR_LOCK_COMPLIANCE ||
					 (l.mode == ATR_LOCK_GOVERNANCE && !bypass));
	return l.hold || retained ? ATR_E_LOCKED : ATR_OK;
}

int ns_lock_new(struct atr_core *c, const char *bucket, const char *key, const char *vid,
		const struct atr_lock *want)
{
	struct atr_bucket b;
	struct atr_lock l = { 0 };
	int asked = want && (want->mode || want->hold >= 0);
	int rc = meta_bucket_get(c->meta, bucket, &b);
	if (rc || !b.objlock)
		return rc ? rc : asked ? ATR_E_NO_LOCK : ATR_OK;
	if (want && want->mode) {
		l.mode = want->mode;
		l.until = want->until;
	} else if (b.lock_mode) {
		int64_t day = 86400000;
		l.mode = b.lock_mode;
		l.until = time_now_ns() / 1000000 +
			  (b.lock_days ? b.lock_days * day : (int64_t)b.lock_years * 365 * day);
	}
	l.hold = want && want->hold > 0;
	if (!l.mode && !l.hold)
		return ATR_OK;
	return meta_lock_put(c->meta, bucket, key, vid, &l);
}

/* ---- deleting ---- */

struct vdel {
	const char *bucket, *key, *vid;   /* vid NULL: none given */
	const char *owner;                /* who deletes: a marker's owner */
	int may_prune;                    /* the caller's prune */
	int flags;                        /* OBJ_DEL_* (src/core_int.h) */
	uint64_t if_ino;                  /* not 0: only if the current row is this inode */
	struct atr_delete_result *out;
	/* What follows the commit, under ns_lock: a move (its intent is
	 * written), a version file to remove, implied parents to prune. */
	char from[PATH_MAX_UFS], to[PATH_MAX_UFS];
	int move, replace, prune;
	uint64_t drop, drop2;
	char old_side[PATH_MAX_UFS];
};

static int move_intent(struct atr_core *c, struct vdel *d, char kind)
{
	char intent[PATH_MAX_UFS + 1];
	snprintf(intent, sizeof(intent), "%c%s", kind, d->from);
	d->move = 1;
	d->replace = kind == '^';
	return meta_intent_set(c->meta, intent, d->to);
}

/* The current row cur leaves the tree as a noncurrent version: its row
 * moves to versions, its file to the version path after the commit. */
static int keep_moved(struct atr_core *c, struct vdel *d, struct meta_row *cur)
{
	struct meta_version v;
	int rc;
	if ((rc = vid_free(c, d->bucket, d->key, cur->obj.vid, &d->drop2)) ||
	    (rc = version_put(c, d->bucket, d->key, cur, &v)))
		return rc;
	if (ns_row_path(d->from, sizeof(d->from), d->bucket, d->key, cur) ||
	    ns_version_path(d->to, sizeof(d->to), v.seq))
		return ATR_E_KEY_TOO_LONG;
	ns_replaced(c, d->bucket, d->key, cur);
	if ((rc = meta_obj_delete(c->meta, d->bucket, d->key)) ||
	    (rc = ns_names_changed(c, cur->obj.node)))
		return rc;
	ns_event(c, d->bucket, d->key, &cur->obj);
	d->prune = 1;
	return move_intent(c, d, '~');
}

static int marker_put(struct atr_core *c, struct vdel *d, const char *vid)
{
	struct meta_version m = { .marker = 1 };
	snprintf(m.obj.vid, sizeof(m.obj.vid), "%s", vid);
	snprintf(m.obj.owner, sizeof(m.obj.owner), "%s", d->owner);
	m.obj.mtime_ns = time_now_ns();
	m.obj.mode = 0600; /* read as a private object's (its owner's) */
	d->out->marker = 1;
	snprintf(d->out->vid, sizeof(d->out->vid), "%s", vid);
	return meta_ver_put(c->meta, d->bucket, d->key, &m);
}

/* DELETE without a version id in a versioned bucket: a delete marker
 * becomes the latest version. */
static int delete_marker(struct atr_core *c, struct vdel *d, int state)
{
	struct meta_row cur = { 0 };
	char vid[ATR_VID_MAX + 1];
	int rc, had = current_of(c, d->bucket, d->key, &cur);
	if (had < 0)
		return -had;
	/* The mount and the path view change the file in place: a locked
	 * current version stays. */
	if (had && (d->flags & OBJ_DEL_IN_PLACE) &&
	    (rc = ns_lock_check(c, d->bucket, d->key, cur.obj.vid, 0))) {
		atr_obj_release(&cur.obj);
		return rc;
	}
	if (state == ATR_VER_ENABLED) {
		rc = ns_vid_new(vid);
		if (!rc && had)
			rc = keep_moved(c, d, &cur);
	} else {
		/* Suspended: the marker is the null version; a current null
		 * version goes for good, one with an id stays noncurrent. */
		snprintf(vid, sizeof(vid), "null");
		if (had && !atr_vid_match(cur.obj.vid, "null"))
			rc = keep_moved(c, d, &cur);
		else
			rc = had ? ns_delete_locked(c, d->bucket, d->key, d->may_prune) : ATR_OK;
		if (!rc)
			rc = vid_free(c, d->bucket, d->key, "null", &d->drop);
	}
	if (had)
		atr_obj_release(&cur.obj);
	return rc ? rc : marker_put(c, d, vid);
}

/* The newest noncurrent version, if it is not a marker, becomes current:
 * a new objects row (the side form if the directory "key/" is there),
 * the file moved back after the commit over whatever is at the key. */
static int promote(struct atr_core *c, struct vdel *d)
{
	char dk[ATR_KEY_MAX + 2];
	struct meta_version v;
	struct meta_row r, dir = { 0 };
	int rc = meta_ver_newest(c->meta, d->bucket, d->key, &v, 1);
	if (rc || v.marker) {
		if (!rc)
			meta_version_release(&v);
		return rc == ATR_E_NO_VERSION ? ATR_OK : rc;
	}
	ns_row_init(&r);
	int64_t now = r.obj.ctime_ns;
	r.obj = v.obj;
	r.obj.ino = 0;
	r.obj.gid = -1;
	r.obj.ctime_ns = r.obj.atime_ns = now;
	r.has_acl = v.acl != NULL;
	r.side = !key_dir(d->key, dk) && !meta_obj_get(c->meta, d->bucket, dk, &dir, 0);
	if ((rc = ns_ensure_parents(c, d->bucket, d->key, 1, NULL)) ||
	    (rc = meta_obj_put(c->meta, d->bucket, d->key, &r)))
		goto out;
	if (v.tags && (rc = meta_obj_tags_put(c->meta, r.obj.ino, v.tags)))
		goto out;
	if (v.acl && (rc = meta_acl_set(c->meta, r.obj.ino, v.acl)))
		goto out;
	if ((rc = meta_ver_parts_back(c->meta, v.seq, r.obj.ino)) ||
	    (rc = meta_ver_delete(c->meta, v.seq)))
		goto out;
	if (ns_version_path(d->from, sizeof(d->from), v.seq) ||
	    ns_row_path(d->to, sizeof(d->to), d->bucket, d->key, &r)) {
		rc = ATR_E_KEY_TOO_LONG;
		goto out;
	}
	ns_event(c, d->bucket, d->key, &r.obj);
	d->prune = 0;
	rc = move_intent(c, d, '^');
out:
	r.obj.hdrs = NULL; /* v's */
	meta_version_release(&v);
	return rc;
}

/* DELETE of the current version by its id: gone for good, and the next
 * one, unless a marker, current again. */
static int delete_current(struct atr_core *c, struct vdel *d, struct meta_row *cur)
{
	struct meta_version next;
	int rc = meta_ver_newest(c->meta, d->bucket, d->key, &next, 0);
	if (rc && rc != ATR_E_NO_VERSION)
		return rc;
	if (rc || next.marker)
		return ns_delete_locked(c, d->bucket, d->key, d->may_prune);
	/* Its file is replaced by the promoted one's rename (or, aside,
	 * removed after the commit). */
	if (META_ROW_ASIDE(cur) &&
	    ns_side_path(d->old_side, sizeof(d->old_side), cur->obj.ino))
		return ATR_E_INTERNAL;
	ns_replaced(c, d->bucket, d->key, cur);
	if ((rc = meta_obj_delete(c->meta, d->bucket, d->key)) ||
	    (rc = ns_names_changed(c, cur->obj.node)))
		return rc;
	return promote(c, d);
}

/* DELETE with a version id: that version, for good. */
static int delete_one(struct atr_core *c, struct vdel *d)
{
	struct meta_row cur = { 0 };
	struct meta_version v, newest;
	int rc = ns_lock_check(c, d->bucket, d->key, d->vid, d->flags & OBJ_DEL_BYPASS);
	if (rc)
		return rc;
	int had = current_of(c, d->bucket, d->key, &cur);
	if (had < 0)
		return -had;
	snprintf(d->out->vid, sizeof(d->out->vid), "%s", d->vid);
	if (had && atr_vid_match(cur.obj.vid, d->vid)) {
		rc = delete_current(c, d, &cur);
		atr_obj_release(&cur.obj);
		return rc;
	}
	if (had)
		atr_obj_release(&cur.obj);
	if ((rc = meta_ver_get(c->meta, d->bucket, d->key, d->vid, &v, 0)))
		return rc;
	d->out->marker = v.marker;
	int latest = !had && !meta_ver_newest(c->meta, d->bucket, d->key, &newest, 0) &&
		     newest.seq == v.seq;
	if ((rc = meta_ver_delete(c->meta, v.seq)))
		return rc;
	if (!v.marker)
		d->drop = v.seq;
	/* The latest gone (a marker, as an undelete does): the next one
	 * takes the key. */
	return latest ? promote(c, d) : ATR_OK;
}

static int vdel_fn(struct atr_core *c, void *arg)
{
	struct vdel *d = arg;
	int state, rc = versioning_of(c, d->bucket, &state);
	if (rc)
		return rc;
	if (d->if_ino) {
		/* Only the object the caller saw (a listing's): one written
		 * since, or none, is not deleted. */
		struct meta_row cur = { 0 };
		rc = meta_obj_get(c->meta, d->bucket, d->key, &cur, 0);
		if (rc == ATR_E_NO_KEY || (!rc && cur.obj.ino != d->if_ino))
			return ATR_E_CONFLICT;
		if (rc)
			return rc;
	}
	/* Directory markers are not versioned: the tree holds them. */
	if (key_is_dir(d->key) || (!d->vid && state == ATR_VER_OFF)) {
		if (d->vid && !atr_vid_match(d->vid, "null"))
			return ATR_E_NO_VERSION;
		rc = ns_delete_locked(c, d->bucket, d->key, d->may_prune);
		return rc == ATR_E_NO_KEY ? ATR_OK : rc;
	}
	return d->vid ? delete_one(c, d) : delete_marker(c, d, state);
}

static int prune_fn(struct atr_core *c, void *arg)
{
	struct vdel *d = arg;
	struct meta_row r = { 0 };
	if (!meta_obj_get(c->meta, d->bucket, d->key, &r, 0))
		return ATR_OK; /* written again meanwhile */
	return ns_prune_parents(c, d->bucket, d->key, NULL);
}

/* The move a transaction's intent names, done. */
static int move_now(struct atr_core *c, const char *from, const char *to, int replace)
{
	int rc = replace ? ufs_rename_replace(c->ufs, from, to) : ufs_rename(c->ufs, from, to);
	if (rc == ATR_E_NO_KEY && !ns_ufs_mkdirs(c, to))
		rc = replace ? ufs_rename_replace(c->ufs, from, to) : ufs_rename(c->ufs, from, to);
	return rc;
}

int ns_delete_version(struct atr_core *c, const char *bucket, const char *key, const char *vid,
		      const char *owner, int prune, int flags, uint64_t if_ino,
		      struct atr_delete_result *out)
{
	struct vdel d = { .bucket = bucket, .key = key, .vid = vid, .owner = owner,
			  .may_prune = prune, .flags = flags, .if_ino = if_ino, .out = out };
	out->marker = 0;
	out->vid[0] = '\0';
	ns_version_settle(c, bucket, key);
	ns_lock(c);
	/* A promotion puts a file back at key: a file since made where one
	 * of its directories must go fails it (ATR_E_PARENT_IS_OBJECT), the
	 * versions as they were. */
	int rc = ns_txn_locked(c, vdel_fn, &d);
	if (!rc && d.move && (rc = move_now(c, d.from, d.to, d.replace))) {
		LOG(LOG_ERROR, "core: moving %s to %s failed after its commit: %s", d.from, d.to,
		    atr_strerror(rc));
		rc = ns_owe(c);
	}
	if (!rc) {
		ns_version_drop(c, d.drop);
		ns_version_drop(c, d.drop2);
		if (*d.old_side)
			ufs_unlink(c->ufs, d.old_side);
		if (d.prune && d.may_prune)
			ns_txn_locked(c, prune_fn, &d); /* best effort, as a listing's hint */
	}
	ns_unlock(c);
	ns_settle(c);
	return rc;
}

/* ---- start-up ---- */

int ns_version_recover(struct atr_core *c, char kind, const char *from, const char *to)
{
	struct meta_version v;
	struct ufs_stat st;
	const char *name = kind == '~' ? to : from;
	char *end;
	if (strncmp(name, VERSION_DIR "/", strlen(VERSION_DIR) + 1))
		return ATR_OK;
	uint64_t seq = strtoull(name + strlen(VERSION_DIR) + 1, &end, 10);
	if (*end)
		return ATR_OK;
	int rc = meta_ver_by_seq(c->meta, seq, &v);
	if (rc && rc != ATR_E_NO_VERSION)
		return rc; /* the store failing: still owed */
	/* "~": the current file into the versions, while its row is there
	 * and the file is not there yet; "^": a version back to its key,
	 * once its row is gone (the promotion committed). Anything else:
	 * done before, or undone by a later change. */
	if (kind == '~') {
		if (rc || v.marker)
			return ATR_OK;
		if ((rc = ufs_stat(c->ufs, to, &st)) != ATR_E_NO_KEY)
			return rc == ATR_OK ? ATR_OK : rc;
	} else if (!rc) {
		return ATR_OK;
	}
	if ((rc = ufs_stat(c->ufs, from, &st)))
		return rc == ATR_E_NO_KEY ? ATR_OK : rc;
	if (!st.is_reg)
		return ATR_OK;
	if (!(rc = move_now(c, from, to, kind == '^')))
		LOG(LOG_INFO, "core: finished the move of %s to %s that was cut short", from, to);
	return rc;
}

/* Whether a version row has its bytes at version file seq (-1: the store
 * failing). */
static int version_named(struct atr_core *c, uint64_t seq)
{
	struct meta_version v;
	int rc = meta_ver_by_seq(c->meta, seq, &v);
	if (rc == ATR_OK)
		return !v.marker;
	return rc == ATR_E_NO_VERSION ? 0 : -1;
}

void ns_version_gc(struct atr_core *c)
{
	ns_numbered_sweep(c, VERSION_DIR, version_named, "version");
}
