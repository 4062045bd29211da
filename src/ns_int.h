/*
 * ns_int.h — the namespace kernel: the one part of the core that changes
 * the namespace. Every write of the metadata store goes through it, under
 * ns_lock and inside one transaction (ns_txn); it keeps the rows and the
 * under-storage in step (tree upkeep, metadata sync, the commit protocol,
 * intents finished after a crash) and says what changed (events).
 *
 * The views sit on it and never on each other: objects (object.c, the S3
 * operations' core half, with list.c, multipart.c, copy.c, tagging.c,
 * access.c), buckets (bucket.c), the path view (fs.c, the admin API and
 * the CLI) and the inode view (node.c, node_file.c, node_xattr.c: the
 * mount). A view decides who may (perm.c) and then asks the kernel, which
 * never checks permissions and knows no user but the owners it writes.
 *
 *   objects   buckets   paths   inodes        (views: permissions, shapes)
 *      \         |        |       /
 *       ns: txn, tree, commit, sync, names, events   (this header)
 *      /         |              \
 *   meta (SQLite)   ufs (under-storage)   bcache
 *
 * Locks: ns_lock serialises every namespace mutation and is held for one
 * transaction plus the UFS steps that must agree with it (a commit's
 * rename, a mkdir of a new directory, a rename's move): those are short
 * metadata operations on the UFS, never body I/O. "Under ns_lock" below
 * means: the caller holds it, inside a transaction (ns_txn's callbacks
 * are). The order of every lock is in docs/architecture.md.
 */
#ifndef SRC_NS_INT_H
#define SRC_NS_INT_H

#include <assert.h>

#include "src/core_int.h"

/* ---- transactions (ns.c) ---- */

/* Runs fn(c, arg) under ns_lock inside one metadata transaction,
 * committed if fn returns ATR_OK, else rolled back; returns fn's result
 * (or the commit's). The steps an earlier change owes are done first
 * (ns_redo): if they still fail, so does this, and fn is not run. */
int ns_txn(struct atr_core *c, int (*fn)(struct atr_core *c, void *arg), void *arg);
/* ns_txn, then (still under ns_lock, the transaction ended) then(c, arg,
 * committed): the UFS step that follows a metadata-first change; its
 * result is the call's when the transaction committed. */
int ns_txn_then(struct atr_core *c, int (*fn)(struct atr_core *c, void *arg),
		int (*then)(struct atr_core *c, void *arg, int committed), void *arg);
/* ns_txn for a caller that holds ns_lock already (a view that keeps state
 * of its own under it: multipart's uploads being completed). */
int ns_txn_locked(struct atr_core *c, int (*fn)(struct atr_core *c, void *arg), void *arg);
/* ns_lock itself: the kernel's, and a view's that keeps state under it;
 * ns_wait waits on cond with it (released meanwhile); ns_held: whether
 * this thread holds it (for asserts). */
void ns_lock(struct atr_core *c);
void ns_unlock(struct atr_core *c);
int ns_wait(struct atr_core *c, pthread_cond_t *cond);
int ns_held(struct atr_core *c);
#define NS_ASSERT_HELD(c) assert(ns_held(c))

/* ---- rows and the tree (ns.c) ---- */

/* A fresh row: zeroes, gid -1 (the owner's group), ctime and atime now. */
void ns_row_init(struct meta_row *r);

/*
 * Directories whose content a mutation changed. A directory's dir_mtime
 * says "the rows are in step with the UFS as of this mtime". After our own
 * change we move it forward, but only if it was in step before (else a
 * change made behind our back would be hidden) or if we created it.
 * Every such directory is a prefix of the key being changed, so only its
 * length is kept: civetweb's worker stacks are 100 KiB (Debian's build).
 */
#define TOUCH_MAX 8
struct ns_touched {
	const char *key; /* the key being changed */
	int in_place;    /* new bytes for the same name (the mount): the
			  * parent's mtime is put back after the rename */
	int64_t parent_mtime;
	int n;
	struct {
		size_t len;
		int64_t before;
		int created;
	} d[TOUCH_MAX];
};
void ns_touch(struct atr_core *c, struct ns_touched *t, const char *bucket, const char *dirkey,
	      int created);
void ns_touched_done(struct atr_core *c, struct ns_touched *t, const char *bucket);

/* Every directory above key exists afterwards, as a row and (with mkdirs)
 * in the UFS; ATR_E_PARENT_IS_OBJECT if a file is in the way (a side-form
 * object is not: its bytes are aside). A directory
 * made takes the owner and permissions of the one above it
 * (perm_inherit). ns_prune_parents removes the implied directories above
 * key left empty. Under ns_lock. t may be NULL: the directories changed
 * are then simply re-read by the next listing. */
int ns_ensure_parents(struct atr_core *c, const char *bucket, const char *key, int mkdirs,
		      struct ns_touched *t);
int ns_prune_parents(struct atr_core *c, const char *bucket, const char *key,
		     struct ns_touched *t);
/* Tree conflicts seen before any body is taken: a file where a parent
 * directory must go (ATR_E_PARENT_IS_OBJECT), or a directory where the
 * file must go (ATR_E_KEY_IS_PREFIX). None with a UFS that can rename:
 * the side form resolves both (below). A read; no lock needed. */
int ns_tree_check(struct atr_core *c, const char *bucket, const char *key);
/* The grants kept for inode from go to inode to as well. Under ns_lock. */
int ns_acl_copy(struct atr_core *c, uint64_t from, uint64_t to);

/*
 * The side form: keys S3 allows that the file tree cannot hold. Bucket b,
 * key k is the file b/k, so two keys fit no tree: a key that is a prefix
 * with '/' of another ("a/b" and "a/b/c": b/a/b cannot be a file and a
 * directory), and a key ending in '/' that holds bytes (a directory has
 * none). Every key that fits keeps the natural layout; the bytes of one
 * that does not are kept in the private area, at SIDE_DIR/<ino> (its
 * row's inode number, never reused), and its row says so (meta_row.side).
 * The directory keeps the name in the tree: "a/b/" stays a directory,
 * "dir/" stays a directory marker whose row also has bytes.
 *   - An S3 commit of "a/b" where the directory "a/b/" is (a row, or a
 *     directory in the UFS) is written in the side form, and so is every
 *     commit of "d/" with bytes; an empty "d/" is a plain marker.
 *   - An S3 commit of "a/b/c" while "a/b" is a file in the natural layout
 *     first moves that file to the side form (ns_side_move: metadata
 *     first, intent "=FROM" -> TO, finished at start), then commits.
 *   - A side-form object stays in the side form when its directory goes
 *     (no move back: nothing to get wrong); its next S3 commit takes the
 *     natural layout again if the name is free then.
 *   - Reads, deletes and metadata sync use the side path (ns_row_path);
 *     directory scans of the tree never meet side files (the private area
 *     is no bucket), and ns_scan_dir and ns_resolve (the mount, the path
 *     view) never show a side-form file row: the directory wins the name.
 *   - A side file no row names (an old one replaced, a crash between a
 *     commit and the unlink of the file it replaced) is removed at start.
 * Needs UFS_CAP_RENAME for the move; without it the old refusals stay.
 */
#define SIDE_DIR ".atrium/side"
int ns_side_path(char *out, size_t size, uint64_t ino);
/* The UFS path of row's bytes (or directory) at bucket/key. */
int ns_row_path(char *out, size_t size, const char *bucket, const char *key,
		const struct meta_row *row);
/* Under ns_lock, no transaction open: the file in the natural layout
 * above key (an ancestor "a/b" of "a/b/c", if it is one) is moved to the
 * side form, metadata first. ATR_OK when there is none. */
int ns_side_move(struct atr_core *c, const char *bucket, const char *key);
/* Start-up: side files no row names are removed. */
void ns_side_gc(struct atr_core *c);
/* The numbered names of a directory of the private area (ufs_readdir's
 * callback: SIDE_DIR's, VERSION_DIR's); non-numbered ones are skipped. */
struct ns_numbered {
	uint64_t *v;
	size_t n, cap;
};
int ns_numbered_add(void *arg, const char *name, const struct ufs_stat *st);
/* Start-up: the numbered files of dir that named(c, n) says no row names
 * (0; 1 named, -1 the store failing) are removed and logged. */
void ns_numbered_sweep(struct atr_core *c, const char *dir,
		       int (*named)(struct atr_core *c, uint64_t n), const char *what);
/* A move intent "=FROM" -> TO cut short, finished (ns_recover, ns_redo). */
int ns_side_recover(struct atr_core *c, const char *from, const char *to);

/* ---- versions (ns_version.c) ----
 *
 * A bucket's versioning (enum atr_versioning, buckets.versioning) decides
 * what a write or a delete does with the version it replaces. The current
 * version is the key's objects row and file, as in any bucket (its id in
 * objects.vid); every other version is a row of versions (newest first by
 * seq), a noncurrent one's bytes at VERSION_DIR/<seq> in the private area
 * (the very file that was current), a delete marker's none. Directory
 * markers ("k/") are never versioned. Crash safety: ns_version.c's header
 * and docs/reliability.md.
 */
#define VERSION_DIR ".atrium/versions"
int ns_version_path(char *out, size_t size, uint64_t seq);
/* A fresh version id (ATR_VID_MAX hex digits, time-ordered and random). */
int ns_vid_new(char out[ATR_VID_MAX + 1]);
/* A commit's part, in its transaction (under ns_lock), before the row
 * old (NULL: none) at bucket/key is replaced: by the bucket's state, old
 * is kept as a noncurrent version (its file linked to its version path)
 * and the new row's id is written to vid ("" unversioned, "null"
 * suspended, else want if given, or a new id); drop, the version files
 * to remove once the commit is done (ns_version_drop: the null version a
 * suspended bucket's write replaces), else 0. */
int ns_version_keep(struct atr_core *c, const char *bucket, const char *key,
		    const struct meta_row *old, const char *want, char vid[ATR_VID_MAX + 1],
		    uint64_t drop[2]);
/* The id the next S3 write of bucket/key will have, by the bucket's state
 * now ("" unversioned, "null" suspended, else a new one): given to
 * ns_version_keep as want, an Enabled bucket's write takes it. */
int ns_version_next(struct atr_core *c, const char *bucket, const char *key,
		    char vid[ATR_VID_MAX + 1]);
void ns_version_drop(struct atr_core *c, uint64_t seq);
/* Before a change that may keep the object at bucket/key as a version
 * (no lock held): its ETag computed now if it has none yet (src/etag.c),
 * so the version keeps one. Best effort: a commit coming between leaves
 * the version's ETag empty. */
void ns_version_settle(struct atr_core *c, const char *bucket, const char *key);
/* S3's DELETE of bucket/key (takes ns_lock): without vid, in a versioned
 * bucket a delete marker (owned by owner) becomes the latest version,
 * the current one kept; in another, the object goes. With vid, that
 * version goes for good (ATR_E_NO_VERSION if there is none), and when it
 * was the latest, the next one that is no marker becomes current again.
 * prune: implied directories left empty above key go too. flags:
 * OBJ_DEL_* (src/core_int.h). if_ino, when not 0: only if the current row
 * is that inode, checked in the transaction (else ATR_E_CONFLICT). out
 * says what was deleted or made. */
int ns_delete_version(struct atr_core *c, const char *bucket, const char *key, const char *vid,
		      const char *owner, int prune, int flags, uint64_t if_ino,
		      struct atr_delete_result *out);
/* Object Lock's one check (under ns_lock, in the transaction that would
 * delete or change the version): whether version vid of bucket/key ("":
 * the null version) may be permanently deleted or changed in place now
 * (ATR_OK) or not (ATR_E_LOCKED: a legal hold, an unexpired COMPLIANCE
 * retention, or a GOVERNANCE one without bypass). */
int ns_lock_check(struct atr_core *c, const char *bucket, const char *key, const char *vid,
		  int bypass);
/* The lock of a new version vid (in its commit's transaction): want's
 * parts where given (mode, hold >= 0), the bucket's default retention
 * else; ATR_E_NO_LOCK if want asks for one in a bucket without Object
 * Lock. want may be NULL. */
int ns_lock_new(struct atr_core *c, const char *bucket, const char *key, const char *vid,
		const struct atr_lock *want);
/* A move intent kind ('~' current -> version, '^' version -> key) from
 * -> to cut short, finished (ns_recover, ns_redo). */
int ns_version_recover(struct atr_core *c, char kind, const char *from, const char *to);
/* Start-up: version files no row names are removed. */
void ns_version_gc(struct atr_core *c);

/* ---- lookups and metadata sync (ns_sync.c) ---- */

/*
 * The object or marker at key, its row reconciled with the UFS (imported,
 * refreshed or dropped): *row with hdrs; with fp, its file open (the
 * version the row describes). With etag, an ETag still being computed
 * (etag.c) is waited for or computed first. ATR_E_NO_KEY for nothing
 * there (an implied directory is not an object). No lock held.
 */
int ns_find(struct atr_core *c, const char *bucket, const char *key, struct meta_row *row,
	    struct ufs_file **fp, int etag);
/* key (no trailing '/') as a file, else as the directory "key/" (explicit
 * or implied), with metadata sync; *dir says which. row has no hdrs. */
int ns_resolve(struct atr_core *c, const char *bucket, const char *key, struct meta_row *row,
	       int *dir);
/* Metadata sync of one key: the row as the UFS file at its path says
 * (import, refresh or drop); the fresh row (with hdrs) or ATR_E_NO_KEY.
 * Takes ns_lock. */
int ns_sync_object(struct atr_core *c, const char *bucket, const char *key,
		   struct meta_row *row);
/* Reconciles the rows of every directory at or below dirkey whose mtime
 * moved since it was last read. */
int ns_sync_tree(struct atr_core *c, const char *bucket, const char *dirkey);
/* The entries below dirkey ("" for the bucket's root) in key order from
 * start (a key, inclusive; NULL: the beginning): its direct children, or
 * with recursive everything below. see_dir (may be NULL) hides what is
 * below a directory it says 0 for; cb's non-zero return stops the scan
 * (-1 returned). Rows as they are: ns_sync_tree first for a synced view. */
typedef int (*ns_entry_cb)(void *arg, const char *key, const struct meta_row *row);
int ns_scan_dir(struct atr_core *c, const char *bucket, const char *dirkey, int recursive,
		const char *start, int (*see_dir)(void *arg, const char *dirkey), ns_entry_cb cb,
		void *arg);
/* MD5 of a UFS file as hex, for files met behind our back. */
int ns_hash_file(struct atr_core *c, const char *path, char etag[ATR_ETAG_MAX + 1],
		 struct ufs_stat *st);

/* ---- buckets (ns_bucket.c) ---- */

/* The bucket's row, importing a bucket directory created behind our back
 * and forgetting one whose directory is gone; verify 0 trusts a known
 * bucket without a stat (the object path). No lock held. */
int ns_bucket_get(struct atr_core *c, const char *name, struct atr_bucket *out, int verify);
/* A new bucket owned by owner: its UFS directory, its row, its root with
 * mode and the grants text (NULL: none), and Object Ownership (-1: the
 * default). ATR_E_BUCKET_EXISTS / ATR_E_BUCKET_OWNED (by owner) if there. */
int ns_bucket_create(struct atr_core *c, const char *owner, const char *name,
		     const char *location, uint32_t mode, const char *grants, int ownership);
/* The same over a directory the UFS has already (a mount point just
 * attached), without importing it first: ATR_E_BUCKET_EXISTS /
 * ATR_E_BUCKET_OWNED if a row is there. */
int ns_bucket_make(struct atr_core *c, const char *owner, const char *name, uint32_t mode);
/* Removes an empty bucket (implied directories are not content);
 * ATR_E_BUCKET_NOT_EMPTY otherwise. Its uploads go with it. */
int ns_bucket_delete(struct atr_core *c, const char *name);
/* Forgets a bucket without touching the UFS (its rows, documents,
 * uploads, mount): an unmounted bucket, whose data stays in the remote. */
int ns_bucket_forget(struct atr_core *c, const char *name);
/* Registers bucket directories that appeared in the UFS root. */
int ns_sync_buckets(struct atr_core *c);
/* Each bucket of owner (NULL: every bucket), verified against the UFS,
 * in name order; cb's non-zero return stops. */
int ns_bucket_list(struct atr_core *c, const char *owner, atr_bucket_cb cb, void *arg);

/* ---- commits (ns_commit.c) ----
 *
 * The commit protocol: one transaction writes the row (and, for bytes, an
 * intent naming the stage), then the stage is renamed into place, then the
 * directories whose mtime moved are brought forward. Metadata goes first,
 * so nothing can leave new bytes under an old row: a failed transaction
 * renames nothing, and a crash after it is finished at the next start from
 * the intent. A stage given is consumed, committed or discarded. One
 * function per kind of commit; out (may be NULL) receives the new row.
 */

/* S3's object: PUT, POST, copy and multipart completion. A new object
 * replaces one at the key as rename(2) replaces a file: by a new inode. */
struct ns_object {
	const char *owner;
	const char *bucket, *key;
	struct ufs_stage *stage;
	const char *etag;
	const char *hdrs;
	/* S3's If-None-Match: * and If-Match, checked inside the transaction
	 * (ATR_E_CONFLICT if they do not hold then). */
	int must_not_exist;
	const char *if_etag;     /* NULL, "*" (any object), or the hex ETag */
	/* The ACL it is written with; NULL: a new object is private, one
	 * replaced keeps the permissions it had (cp's rule). */
	const struct atr_acl *acl;
	const char *tags;        /* NULL or "" for none */
	/* A multipart completion's part sizes and checksums ('\n'-separated,
	 * or NULL); NULL for any other commit, which drops an earlier one's. */
	const uint64_t *part_sizes;
	int nparts;
	const char *part_sums;
	int write_type;          /* enum atr_write_type; 0: the bucket's (src/persist.c) */
	/* Encrypted at rest: the stage holds ciphertext (enum atr_sse,
	 * src/crypt_int.h) of plain_size bytes, the row's size. */
	int sse;
	uint64_t plain_size;
	/* ... as the segments of a completed upload, one per part of
	 * part_sizes (src/crypt_int.h): the row keeps the file's size. */
	int segments;
	/* The version id ns_version_next chose for it beforehand (a
	 * completion's, said before its commit), or NULL: one is made. */
	const char *vid;
	/* Object Lock: the lock asked for (ns_lock_new), or NULL. */
	const struct atr_lock *lock;
};
int ns_commit_object(struct atr_core *c, const struct ns_object *o, struct atr_obj *out);
/* A directory marker ("a/b/"): the directory made explicit (a directory
 * that is there stays its owner's). */
int ns_commit_marker(struct atr_core *c, const char *owner, const char *bucket, const char *key,
		     const struct atr_acl *acl, int must_not_exist, const char *if_etag,
		     const char *hdrs, const char *tags, struct atr_obj *out);
/* S3's marker: ns_commit_marker, where a file "k" in the way of the marker
 * "k/" (or of a directory above it) moves to the side form first, as for
 * ns_commit_object. The path view and the mount keep the file system's
 * rule (a file in the way: ATR_E_PARENT_IS_OBJECT / ATR_E_KEY_IS_PREFIX). */
int ns_commit_s3_marker(struct atr_core *c, const char *owner, const char *bucket,
			const char *key, const struct atr_acl *acl, int must_not_exist,
			const char *if_etag, const char *hdrs, const char *tags,
			struct atr_obj *out);
/* The mount's new entry at a free key: a file of stage with posix's mode,
 * gid, kind and rdev (ATR_E_CONFLICT if something is there by then). */
int ns_commit_entry(struct atr_core *c, const char *owner, const char *bucket, const char *key,
		    struct ufs_stage *stage, const char *etag, const struct atr_obj *posix,
		    struct atr_obj *out);
/* The mount's new bytes for inode node, under whatever names it has when
 * the commit happens (ATR_E_NO_KEY if it has none left); it keeps its
 * owner, mode, headers, tags and extended attributes. */
int ns_commit_bytes(struct atr_core *c, uint64_t node, struct ufs_stage *stage, const char *etag,
		    struct atr_obj *out);
/* ns_commit_bytes of an encrypted stage (enum atr_sse sse) of plain bytes
 * of plaintext (the row's size). */
int ns_commit_bytes_sse(struct atr_core *c, uint64_t node, struct ufs_stage *stage,
			const char *etag, int sse, uint64_t plain, struct atr_obj *out);

/* ---- removing, renaming, linking names (ns_name.c) ---- */

/* Deletes the object or marker at key (a marker with content stays, as an
 * implied directory); with prune, implied directories left empty above go
 * too (S3's view; the mount keeps them). ns_delete_locked: under ns_lock;
 * ns_delete takes it. The file goes before the row: see ns_name.c. */
int ns_delete_locked(struct atr_core *c, const char *bucket, const char *key, int prune);
int ns_delete(struct atr_core *c, const char *bucket, const char *key, int prune);
/* Removes the empty directory dk (an implied one included); with prune,
 * implied parents it leaves empty too. ATR_E_NOT_EMPTY otherwise. */
int ns_rmdir(struct atr_core *c, const char *bucket, const char *dk, int prune);

/*
 * Moves skey to dkey (directories: both ending in '/', with everything
 * below). Metadata first: the rows move and an intent names the move in
 * one transaction, the UFS move follows once it has committed, then the
 * source's implied parents left empty go; a crash in between is finished
 * at start. NS_MOVE_REPLACE: what is at the destination (a file, or an
 * empty directory) is replaced, as rename(2) does; NS_MOVE_NOREPLACE:
 * ATR_E_EXISTS if anything is there; neither: nothing may be there (the
 * path view's mv). A file renamed onto another name of itself is left
 * alone, as rename(2) does.
 */
#define NS_MOVE_REPLACE 1
#define NS_MOVE_NOREPLACE 2
int ns_rename(struct atr_core *c, const char *sbucket, const char *skey, const char *dbucket,
	      const char *dkey, int dir, unsigned flags);
/* A second name dbucket/dkey (free) for the file of inode node now at
 * bucket/key: metadata first, then the UFS link; ATR_E_NO_KEY if it is
 * no longer there. */
int ns_link(struct atr_core *c, const char *bucket, const char *key, uint64_t node,
	    const char *dbucket, const char *dkey);
/* A pending row (a file being created, or an O_TMPFILE one) of inode ino
 * at bucket/key takes the free name dbucket/dkey, keeping its inode. */
int ns_adopt(struct atr_core *c, const char *bucket, const char *key, uint64_t ino,
	     const char *dbucket, const char *dkey);
/* A pending row (a file being created through the mount: the mount sees
 * it, S3 does not; no file yet) at the free name bucket/key; row->obj.ino
 * receives its inode. ATR_E_EXISTS if a row names key. */
int ns_pending_create(struct atr_core *c, const char *bucket, const char *key,
		      struct meta_row *row);
/* No row names key, as a file or as a directory (ATR_E_EXISTS). A read. */
int ns_name_free(struct atr_core *c, const char *bucket, const char *key);
/*
 * UFS steps cut short. Each metadata-first change (a commit, a rename, a
 * link) writes an intent naming its UFS step in its transaction; a crash
 * after it is finished at start (ns_recover). A step the UFS fails (an
 * error, not a crash) is not undone either, since the rows are written:
 * it is owed. ns_owe marks it so and tries again at once (a passing
 * failure heals there); until every owed step is done (ns_redo), no other
 * change starts and metadata sync changes no row, both failing with the
 * step's error: their rows would describe files still to be moved, or
 * the old file with the new row's attributes. A step that cannot ever
 * work (something behind our back in the way) is given up, logged, and
 * left to metadata sync; ns_owe then returns its error. Under ns_lock.
 */
int ns_owe(struct atr_core *c);
int ns_redo(struct atr_core *c);
/* Start-up: the intents a crash left, each finished (or found done), then
 * every other stage removed (stage_gc); a step the UFS fails stays owed,
 * and the stages with it. */
int ns_recover(struct atr_core *c);

/* ---- events (ns_event.c) ---- */

/* The entry bucket/key (row o) changed: tells the watcher (the mount), if
 * any. Under ns_lock. ns_settle: after it is released, lets the watcher
 * act on what it was told. */
void ns_event(struct atr_core *c, const char *bucket, const char *key, const struct atr_obj *o);
void ns_settle(struct atr_core *c);
/* A name of inode node (a file with several names) was just removed or
 * replaced: its link count changed, so the change time of the names left
 * moves (POSIX). A no-op for node 0 or no name left. Under ns_lock. */
int ns_names_changed(struct atr_core *c, uint64_t node);
/* The object at bucket/key (row old) is about to be replaced by a new
 * inode: the inode view, if it keeps them (c->on_replace), keeps its
 * bytes readable a moment under the old inode number. Under ns_lock. */
void ns_replaced(struct atr_core *c, const char *bucket, const char *key,
		 const struct meta_row *old);

/* ---- the kernel's own (ns*.c only) ---- */

/* A directory row of owner: a marker, or implied. */
void ns_dir_row(struct meta_row *r, const char *owner, int implicit);
/* Whether nothing is at UFS path (a removal that answered an error may
 * have been done all the same: its reply lost). */
int ns_ufs_gone(struct atr_core *c, const char *path);
/* Makes every directory above UFS path's last component (rows say they
 * exist: a crash between a prune's rmdir and its commit, or a hand behind
 * our back, may have removed them). */
int ns_ufs_mkdirs(struct atr_core *c, const char *path);
/* The mtime of directory dirkey in the UFS; -1 if it cannot be read. */
int64_t ns_ufs_mtime(struct atr_core *c, const char *bucket, const char *dirkey);
/* ns_ensure_parents for a directory key, that directory included (one met
 * in the UFS: taken as implied). Under ns_lock. */
int ns_ensure_dir(struct atr_core *c, const char *bucket, const char *dirkey);

#endif
