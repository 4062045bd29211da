/*
 * meta — the metadata store: buckets and object rows in SQLite (WAL).
 *
 * Schema (DATA/meta.db):
 *   buckets(name PK, owner, location, ctime, mode)
 *   objects(ino PK AUTOINCREMENT, bucket, key, is_dir, implicit, size,
 *           mtime, version, mode, owner, etag, hdrs, dir_mtime, the POSIX
 *           columns (meta_db.c), node (hard links, below) and side (the
 *           bytes kept aside: src/ns_int.h, "the side form"),
 *           UNIQUE(bucket, key))
 * Every bucket has a row with key "" (its root directory, implicit). A
 * directory's key ends in '/'. "implicit" marks directories that exist only
 * because something lies below them: they are not S3 objects. For a file,
 * size and mtime are the UFS file's as last seen, so a change behind our
 * back is noticed; for a directory, dir_mtime is the UFS directory's mtime
 * when it was last read (0 = never), so listings know what to re-read.
 * ino is never reused (AUTOINCREMENT): inode numbers stay unique for life.
 *
 * Threads: each thread gets its own connection (and prepared statements),
 * created on first use and closed when the thread exits; SQLite serialises
 * writers. Callers that need several statements to be atomic wrap them in
 * meta_begin/meta_commit on the same thread. Keys compare as bytes
 * (BINARY collation), which is S3's listing order.
 *
 * The store is src/meta_db.c (connections, schema, transactions) and one
 * file per table group: meta_obj.c, meta_mpu.c, meta_aux.c; what they
 * share is src/meta_db_int.h, which nothing else includes.
 */
#ifndef SRC_META_INT_H
#define SRC_META_INT_H

#include <stdint.h>

#include "src/atrium.h"

struct meta;

struct meta_row {
	struct atr_obj obj;
	int implicit;
	int64_t dir_mtime;
	int pending;   /* created through the mount, not yet closed: no UFS file */
	int has_acl;   /* grants beyond the mode are kept in acls (meta_acl_get) */
	int side;      /* the side form: the bytes are not at the key's path but
			* at ns_side_path(ino) (src/ns_int.h) */
	int persist;   /* enum atr_persist: not ATR_PERSISTED, the bytes are held
			* on this node at ns_side_path(ino) and not (yet) in the
			* bucket's remote store (src/persist.c) */
};

/* Where a row's bytes are: at ns_side_path(ino) (the side form, or held
 * on this node), else at the key's path. */
#define META_ROW_ASIDE(r) ((r)->side || (r)->persist)

int meta_open(const char *path, struct meta **out);

/* The row of inode ino with its bucket and key (ATR_E_NO_KEY if none). */
int meta_obj_by_ino(struct meta *m, uint64_t ino, char bucket[ATR_BUCKET_MAX + 1],
		    char key[ATR_KEY_MAX + 2], struct meta_row *out, int want_hdrs);
/* The ETag of every name of inode node (its row's ino, or its node) at
 * version, if it has none yet (src/etag.c); no row matching is fine. */
int meta_obj_set_etag(struct meta *m, uint64_t node, uint64_t version, const char *etag);
/* Writes mode, owner, gid, ctime, atime, mtime and hdrs of row->obj.ino. */
int meta_obj_set_posix(struct meta *m, const struct meta_row *row);
/* The directories right below dirkey (a directory key, "" for the root
 * of bucket; upto: key_successor(dirkey), or above every key), or with
 * bucket NULL the number of buckets; -1 on error. */
int meta_subdir_count(struct meta *m, const char *bucket, const char *dirkey, const char *upto);
/* Start-up: files created through the mount and never closed did not happen. */
int meta_pending_clear(struct meta *m);
/* Extended attributes of an inode. get: ATR_E_NO_KEY if absent; *val
 * malloc'd. list: cb per name, in order. */
int meta_xattr_get(struct meta *m, uint64_t ino, const char *name, void **val, size_t *len);
int meta_xattr_put(struct meta *m, uint64_t ino, const char *name, const void *val, size_t len);
int meta_xattr_delete(struct meta *m, uint64_t ino, const char *name); /* ATR_E_NO_KEY if absent */
int meta_xattr_list(struct meta *m, uint64_t ino, int (*cb)(void *arg, const char *name),
		    void *arg);
/*
 * Hard links. A file with several names has a row per name, each with
 * node set to the number of its inode (the ino of the row it was first
 * linked from, which the mount shows, plus one); node is NULL for a file
 * with one name. Every write of a row that has a node (meta_obj_put over
 * it, meta_obj_set_posix) copies its attributes to the other names, so
 * they never disagree; extended attributes are kept under the node and go
 * with the last name. meta_obj_by_ino finds a node by any of its names.
 */
int meta_node_set(struct meta *m, uint64_t ino, uint64_t node);
/* The other names of row ino's inode take its attributes (a no-op for a
 * file with one name); for writes that bypass meta_obj_put. */
int meta_node_sync(struct meta *m, uint64_t ino);
int meta_node_count(struct meta *m, uint64_t node); /* its names; -1 on error */
/* cb for each name of node other than row except; a non-zero return stops
 * and is returned. */
int meta_node_names(struct meta *m, uint64_t node, uint64_t except,
		    int (*cb)(void *arg, const char *bucket, const char *key), void *arg);

/*
 * Access control (src/acl.c, src/perm.c):
 *   acls(ino PK, acl TEXT): an entry's S3 grants beyond what its mode says
 *     (acl.c's text form), keyed like xattrs by the inode (obj_node), for
 *     rows with has_acl set; a trigger drops it with the last name.
 *   buckets.public_block, .ownership, .policy: Block Public Access bits,
 *     Object Ownership, the bucket policy (JSON); NULL when not set.
 * meta_acl_set with acl NULL removes the grants; it sets has_acl on every
 * name of the inode.
 */
int meta_acl_get(struct meta *m, uint64_t node, char **acl); /* ATR_E_NO_KEY if none */
int meta_acl_set(struct meta *m, uint64_t node, const char *acl);
/* Changes the settings given: META_KEEP leaves one alone, META_CLEAR
 * removes it; policy non-NULL replaces the policy, drop_policy removes it. */
#define META_KEEP (-1)
#define META_CLEAR (-2)
int meta_bucket_conf_set(struct meta *m, const char *name, int public_block, int ownership,
			 const char *policy, int drop_policy);
int meta_bucket_policy_get(struct meta *m, const char *name, char **policy); /* ATR_E_NO_KEY */
/* The ACL an upload's object will get (acl_encode's form):
 *   mpu_acls(upload_id PK, acl), dropped by a trigger with the upload. */
int meta_mpu_acl_put(struct meta *m, const char *upload_id, const char *acl);
int meta_mpu_acl_get(struct meta *m, const char *upload_id, char **acl); /* ATR_E_NO_KEY */

/* Host ids allocated to users without a host account (src/idmap.c):
 *   idmap(user PK, uid UNIQUE). next: one above the largest uid given
 *   (ATR_E_NO_KEY for none). */
int meta_idmap_by_name(struct meta *m, const char *user, uint32_t *uid); /* ATR_E_NO_KEY */
int meta_idmap_by_uid(struct meta *m, uint32_t uid, char *user, size_t n); /* ATR_E_NO_KEY */
int meta_idmap_next(struct meta *m, uint32_t *next);
int meta_idmap_put(struct meta *m, const char *user, uint32_t uid);
/*
 * Versioning (src/meta_ver.c; src/ns_version.c says what the rows mean):
 *   buckets.versioning: enum atr_versioning (NULL: never set)
 *   objects.vid: the current version's id (NULL: the null version of a
 *     bucket never versioned)
 *   versions(seq PK AUTOINCREMENT, bucket, key, vid, marker, ino, version,
 *     size, mtime, mode, owner, etag, sse, hdrs, tags, acl,
 *     UNIQUE(bucket, key, vid)): a key's noncurrent versions and delete
 *     markers, newest first by seq descending; the null version's vid is
 *     "null". Dropped with the bucket.
 * get, newest, by_seq: ATR_E_NO_VERSION if none; with full, obj.hdrs,
 * tags and acl are malloc'd (meta_version_release). put sets v->seq.
 */
struct meta_version {
	uint64_t seq;
	int marker;
	struct atr_obj obj; /* vid, ino, version, size, mtime_ns, mode, owner, etag, sse, fsize */
	char *tags, *acl;
};
void meta_version_release(struct meta_version *v);
int meta_bucket_versioning_set(struct meta *m, const char *name, int state);
int meta_ver_put(struct meta *m, const char *bucket, const char *key, struct meta_version *v);
int meta_ver_get(struct meta *m, const char *bucket, const char *key, const char *vid,
		 struct meta_version *out, int full);
int meta_ver_newest(struct meta *m, const char *bucket, const char *key,
		    struct meta_version *out, int full);
int meta_ver_by_seq(struct meta *m, uint64_t seq, struct meta_version *out);
int meta_ver_delete(struct meta *m, uint64_t seq);
/* Version seq's part sizes and sums (a completed upload's), if any, as
 * those of ino (the objects row it becomes again). */
int meta_ver_parts_back(struct meta *m, uint64_t seq, uint64_t ino);
int meta_ver_set_tags(struct meta *m, uint64_t seq, const char *tags); /* NULL: none */
/* Version seq's mode and kept grants (NULL: none), as an ACL sets them. */
int meta_ver_set_acl(struct meta *m, uint64_t seq, uint32_t mode, const char *acl);
/* The versions of bucket in [from, upto) in S3's order: cb(arg, key,
 * current, v) for the current one (the objects row; seq 0) and then each
 * other, newest first; v has no hdrs. Non-zero from cb stops (-1). */
typedef int (*meta_ver_cb)(void *arg, const char *key, int current,
			   const struct meta_version *v);
int meta_ver_scan(struct meta *m, const char *bucket, const char *from, const char *upto,
		  meta_ver_cb cb, void *arg);
/* Object Lock (src/objlock.c): a bucket's (enabled, and versioning with
 * it) and a version's, by its key and id ("" names the null version);
 * get: ATR_E_NO_KEY when the version has none. */
int meta_bucket_lock_set(struct meta *m, const char *name, int mode, int days, int years);
int meta_lock_get(struct meta *m, const char *bucket, const char *key, const char *vid,
		  struct atr_lock *out);
int meta_lock_put(struct meta *m, const char *bucket, const char *key, const char *vid,
		  const struct atr_lock *l);
/* Whether a current version of a key in [from, upto) is under a legal
 * hold or a retention at now_ms: 1, 0, or -1 on error. */
int meta_lock_any(struct meta *m, const char *bucket, const char *from, const char *upto,
		  int64_t now_ms);
/* The lock an upload's object asks for; get: hold -1, mode 0 if none. */
int meta_mpu_lock_put(struct meta *m, const char *upload_id, const struct atr_lock *l);
int meta_mpu_lock_get(struct meta *m, const char *upload_id, struct atr_lock *out);
/* How many rows bucket has in versions; -1 on error. */
int meta_ver_count(struct meta *m, const char *bucket);

/* Whether this thread has a transaction open. */
int meta_in_txn(struct meta *m);

/* Counts and total nanoseconds of point lookups, of transactions and of
 * the checkpoints made off the request path (meta_db.c). */
struct meta_stats {
	uint64_t lookups, lookup_ns, txns, txn_ns, ckpts, ckpt_ns;
};
void meta_stats(struct meta *m, struct meta_stats *out);
/* --durability=power: every COMMIT syncs the WAL (synchronous=FULL)
 * before it returns. Call right after meta_open, before other threads
 * use the store (the checkpointer has its own connection, which never
 * commits). */
void meta_set_durable(struct meta *m);
void meta_close(struct meta *m);

int meta_begin(struct meta *m);   /* BEGIN IMMEDIATE */
/* A read transaction: every statement until meta_read_end sees one
 * snapshot of the store (WAL: writers go on meanwhile), so several scans
 * make one consistent answer. No write may happen inside it. */
int meta_read_begin(struct meta *m);
void meta_read_end(struct meta *m);
int meta_commit(struct meta *m);
void meta_rollback(struct meta *m);

int meta_bucket_get(struct meta *m, const char *name, struct atr_bucket *out);
int meta_bucket_insert(struct meta *m, const struct atr_bucket *b);
int meta_bucket_delete(struct meta *m, const char *name);
/* owner NULL: all buckets. */
int meta_bucket_list(struct meta *m, const char *owner, atr_bucket_cb cb, void *arg);

/* ATR_E_NO_KEY if absent. With want_hdrs, out->obj.hdrs is malloc'd. */
int meta_obj_get(struct meta *m, const char *bucket, const char *key,
		 struct meta_row *out, int want_hdrs);
/* Inserts or replaces the row (keeping its ino, and its node: a new row
 * gets row->obj.node); row->obj.version is stored as given. Sets
 * row->obj.ino and row->obj.node. */
int meta_obj_put(struct meta *m, const char *bucket, const char *key, struct meta_row *row);
int meta_obj_delete(struct meta *m, const char *bucket, const char *key);
/* Deletes every row whose key starts with prefix (prefix itself included). */
int meta_obj_delete_prefix(struct meta *m, const char *bucket, const char *prefix);
int meta_obj_set_dir_mtime(struct meta *m, const char *bucket, const char *key, int64_t mtime);
/* 1 if some row lies strictly below dirkey (a key ending in '/', or ""), 0 if none. */
int meta_obj_has_children(struct meta *m, const char *bucket, const char *dirkey);

/* Rows in key order with from <= key (or from < key) and key < upto (upto
 * NULL: no bound). visible_only skips implicit directories. cb returns
 * non-zero to stop. Rows handed to cb have no hdrs. */
typedef int (*meta_scan_cb)(void *arg, const char *key, const struct meta_row *row);
int meta_obj_scan(struct meta *m, const char *bucket, const char *from, int inclusive,
		  const char *upto, int visible_only, meta_scan_cb cb, void *arg);
/* Every implied directory below dirkey whose owner, gid, mode and has_acl
 * are before's takes after's; cb sees each changed row (its new state).
 * cb must not write to the store: collect, then act. */
int meta_perm_follow(struct meta *m, const char *bucket, const char *dirkey,
		     const struct meta_row *before, const struct meta_row *after,
		     meta_scan_cb cb, void *arg);
/* cb for the row of each directory key lies in (the prefixes of key that
 * end in '/'; not the bucket's root), shallowest first. */
int meta_ancestors(struct meta *m, const char *bucket, const char *key, meta_scan_cb cb,
		   void *arg);
/* All directory rows with keys in [from, upto) (upto NULL: no bound). */
int meta_dir_scan(struct meta *m, const char *bucket, const char *from, const char *upto,
		  meta_scan_cb cb, void *arg);

/*
 * Multipart uploads (src/multipart.c):
 *   mpu_uploads(upload_id PK, bucket, key, owner, ctime, hdrs, sse, sse_check,
 *               write_type),
 *     indexed by (bucket, key, upload_id): S3's listing order
 *   mpu_parts(upload_id, number, size, mtime, etag, file, PK(upload_id, number))
 * file names the part's bytes in the UFS part area (ufs part_* ops); a row
 * is written only after its file is in place, so every row's file exists.
 */
struct meta_mpu {
	struct atr_mpu up;
	char bucket[ATR_BUCKET_MAX + 1];
	char *hdrs; /* malloc'd or NULL */
	/* SSE-C: hex of the customer key's check (crypt_key_check), else "". */
	char sse_check[2 * 48 + 1];
};

#define META_PART_FILE_MAX 48
struct meta_mpu_part {
	struct atr_mpu_part p;
	char file[META_PART_FILE_MAX];
};

int meta_mpu_insert(struct meta *m, const struct meta_mpu *mu);
/* ATR_E_NO_UPLOAD if absent. With want_hdrs, out->hdrs is malloc'd. */
int meta_mpu_get(struct meta *m, const char *upload_id, struct meta_mpu *out, int want_hdrs);
/* Deletes the upload and all its part rows (wrap in a transaction). */
int meta_mpu_delete(struct meta *m, const char *upload_id);
/* Uploads of bucket after (key, upload_id), in (key, upload_id) order;
 * hdrs is NULL. cb returns non-zero to stop. */
typedef int (*meta_mpu_cb)(void *arg, const struct meta_mpu *mu);
int meta_mpu_scan(struct meta *m, const char *bucket, const char *key, const char *upload_id,
		  meta_mpu_cb cb, void *arg);
/* ATR_E_INVALID_PART if the upload has no such part. */
int meta_mpu_part_get(struct meta *m, const char *upload_id, int number,
		      struct meta_mpu_part *out);
/* Inserts or replaces the part row of that number. */
int meta_mpu_part_put(struct meta *m, const char *upload_id, const struct meta_mpu_part *p);
/* Parts numbered above after, in order. cb returns non-zero to stop. */
typedef int (*meta_mpu_part_cb)(void *arg, const struct meta_mpu_part *p);
int meta_mpu_part_scan(struct meta *m, const char *upload_id, int after,
		       meta_mpu_part_cb cb, void *arg);

/*
 * Part sizes of an object completed from a multipart upload (GET/HEAD
 * ?partNumber):
 *   object_parts(ino PK, version, sizes BLOB)
 * sizes holds the parts' sizes in order, 8 bytes little-endian each; the row
 * describes the object while its version is still that version (a later
 * PUT or a change behind our back moves the version on). A trigger drops
 * the row when the object's row is deleted.
 */
int meta_obj_parts_put(struct meta *m, uint64_t ino, uint64_t version, const uint64_t *sizes,
		       int n);
/* *sizes malloc'd, *n of them; ATR_E_NO_KEY if the object at that version
 * has none. */
int meta_obj_parts_get(struct meta *m, uint64_t ino, uint64_t version, uint64_t **sizes, int *n);
int meta_obj_parts_delete(struct meta *m, uint64_t ino);

/*
 * Object tags (src/tagging.c):
 *   object_tags(ino PK, tags TEXT)
 * The front end's encoded tag set of the object at ino; no row: no tags.
 * A trigger drops the row when the object's row is deleted.
 */
int meta_obj_tags_put(struct meta *m, uint64_t ino, const char *tags);
/* *tags malloc'd; ATR_E_NO_KEY if the object has none. */
int meta_obj_tags_get(struct meta *m, uint64_t ino, char **tags);
int meta_obj_tags_delete(struct meta *m, uint64_t ino);
/* The tags an upload's object will get (src/multipart.c):
 *   mpu_tags(upload_id PK, tags), dropped by a trigger with the upload. */
int meta_mpu_tags_put(struct meta *m, const char *upload_id, const char *tags);
/* *tags malloc'd; ATR_E_NO_KEY if the upload has none. */
int meta_mpu_tags_get(struct meta *m, const char *upload_id, char **tags);

/* Bucket tags (src/tagging.c):
 *   bucket_tags(bucket PK, tags TEXT), dropped by a trigger with the
 *   bucket's row. No row: no tags. */
int meta_bucket_tags_put(struct meta *m, const char *bucket, const char *tags);
/* *tags malloc'd; ATR_E_NO_KEY if the bucket has none. */
int meta_bucket_tags_get(struct meta *m, const char *bucket, char **tags);
int meta_bucket_tags_delete(struct meta *m, const char *bucket);

/* Bucket documents (src/access.c):
 *   bucket_docs(bucket, kind, doc TEXT), by (bucket, enum atr_bucket_doc),
 *   dropped by a trigger with the bucket's row. put with doc NULL deletes;
 *   get: *doc malloc'd, ATR_E_NO_KEY if none. */
int meta_bucket_doc_put(struct meta *m, const char *bucket, int kind, const char *doc);
int meta_bucket_doc_get(struct meta *m, const char *bucket, int kind, char **doc);
/* cb for every document of kind, by bucket name; non-zero stops. */
int meta_bucket_doc_scan(struct meta *m, int kind,
			 int (*cb)(void *arg, const char *bucket, const char *doc), void *arg);

/* Additional checksums of multipart uploads (src/multipart.c), strings the
 * core does not interpret:
 *   mpu_checksums(upload_id PK, alg): the upload's algorithm;
 *   mpu_part_checksums(upload_id, number, checksum, PK(upload_id, number)):
 *     each part's; both dropped by a trigger with the upload;
 *   object_part_checksums(ino PK, version, sums): a completed object's
 *     parts' checksums, '\n'-separated in part order, describing the
 *     object while its version is that version; dropped with the object.
 * The getters give ATR_E_NO_KEY when there is no row. */
int meta_mpu_checksum_put(struct meta *m, const char *upload_id, const char *alg);
int meta_mpu_checksum_get(struct meta *m, const char *upload_id, char *alg, size_t n);
/* checksum NULL or "": the part has none (any earlier row is removed). */
int meta_mpu_part_checksum_put(struct meta *m, const char *upload_id, int number,
			       const char *checksum);
int meta_mpu_part_checksum_get(struct meta *m, const char *upload_id, int number,
			       char *checksum, size_t n);
int meta_obj_part_sums_put(struct meta *m, uint64_t ino, uint64_t version, const char *sums);
/* *sums malloc'd. */
int meta_obj_part_sums_get(struct meta *m, uint64_t ino, uint64_t version, char **sums);

/* Renames, attributes and totals (src/fs.c). A rename moves the row(s),
 * keeping ino; rename_prefix moves every row in [prefix, upto) to
 * to_prefix + the rest of its key. set_attr changes mode (< 0: kept) and
 * owner (NULL: kept) of the row at key, or with upto of every row in
 * [key, upto). */
int meta_obj_rename(struct meta *m, const char *bucket, const char *key, const char *to_bucket,
		    const char *to_key);
int meta_obj_rename_prefix(struct meta *m, const char *bucket, const char *prefix,
			   const char *upto, const char *to_bucket, const char *to_prefix);
int meta_obj_set_attr(struct meta *m, const char *bucket, const char *key, const char *upto,
		      int64_t mode, const char *owner);
int meta_bucket_set_owner(struct meta *m, const char *name, const char *owner);
/* Files, directories (not bucket roots), bytes of files, uploads in progress. */
int meta_totals(struct meta *m, struct atr_ns_totals *out);

/*
 * Commit intents: object_commit records "stage S becomes path P" in the
 * same transaction as the row that describes S's bytes, then renames. At
 * start, an intent whose stage still exists is carried out (the rename was
 * lost to a crash); then all are cleared. Only one commit's intents are
 * ever live (commits hold ns_lock), so set replaces whatever was there;
 * add records one more for the same commit (a hard link's other names).
 */
int meta_intent_set(struct meta *m, const char *stage, const char *path);
int meta_intent_add(struct meta *m, const char *stage, const char *path);
int meta_intent_scan(struct meta *m, int (*cb)(void *arg, const char *stage, const char *path),
		     void *arg);
int meta_intent_clear(struct meta *m);

/*
 * The persist queue (src/persist.c): inodes whose bytes are held on this
 * node, TO_BE_PERSISTED, in the order they became due. put: queued (or
 * queued again) now, in the caller's transaction; next: the first due
 * at now_ms (ATR_E_NO_KEY if none), with its failed tries, and in
 * *wait_ms how long until the next one is due (-1: the queue is empty);
 * retry: tried again at due_ms; defer: every entry of bucket due before
 * due_ms due at due_ms (its remote backing off); done: off the queue.
 * persisted: the row
 * ino at version is PERSISTED now, with the remote's mtime.
 */
int meta_pq_put(struct meta *m, uint64_t ino, int64_t now_ms);
int meta_pq_next(struct meta *m, int64_t now_ms, uint64_t *ino, int *tries, int64_t *wait_ms);
int meta_pq_retry(struct meta *m, uint64_t ino, int64_t due_ms);
int meta_pq_defer(struct meta *m, const char *bucket, int64_t due_ms);
int meta_pq_done(struct meta *m, uint64_t ino);
int meta_pq_count(struct meta *m, uint64_t *n);
int meta_obj_persisted(struct meta *m, uint64_t ino, uint64_t version, int64_t mtime_ns);

/*
 * Pins and TTLs of inodes (src/persist.c), gone with their row. pin_set:
 * on or off; pin_get: 1 if pinned (0 also on an error); pin_scan: every
 * pinned inode, ascending, *inos malloc'd. ttl_set: due at due_ms with
 * action (enum atr_ttl_action), or with due_ms < 0 none; ttl_get:
 * ATR_E_NO_KEY if none; ttl_next: as meta_pq_next.
 */
int meta_pin_set(struct meta *m, uint64_t ino, int on);
int meta_pin_get(struct meta *m, uint64_t ino);
int meta_pin_scan(struct meta *m, uint64_t **inos, size_t *n);
int meta_ttl_set(struct meta *m, uint64_t ino, int64_t due_ms, int action);
int meta_ttl_get(struct meta *m, uint64_t ino, int64_t *due_ms, int *action);
int meta_ttl_next(struct meta *m, int64_t now_ms, uint64_t *ino, int *action, int64_t *wait_ms);

#endif
