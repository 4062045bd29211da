/*
 * core_int.h — what the core's own files share; front ends never include it.
 *
 * struct atr_core ties the metadata store, the under-storage and the block
 * cache together. ns_lock serialises namespace mutations (the short commit
 * step of a PUT, deletes, bucket create/delete, sync of a directory) so the
 * UFS and the metadata move together; body I/O and hashing happen outside
 * it. Lock order: ns_lock, then the bcache's own lock; SQLite's write lock
 * is only ever taken with ns_lock held.
 */
#ifndef SRC_CORE_INT_H
#define SRC_CORE_INT_H

#include <pthread.h>

#include "common/hash.h"
#include "src/atrium.h"
#include "src/bcache_int.h"
#include "src/meta_int.h"
#include "src/ufs_int.h"

struct atr_core {
	struct meta *meta;
	struct ufs *ufs;
	struct bcache *cache;
	size_t block_size;
	pthread_mutex_t ns_lock;
	char *daemon_user;
	struct mpu *mpu;        /* multipart state (src/multipart.c) */
	struct nodes *nodes;    /* the mount's open inodes (src/node.c) */
	const struct atr_watch_ops *watch; /* NULL without a mount */
	void *watch_arg;
	const struct atr_idents *users;   /* atr_core_set_users; NULL: anyone */
	struct perm_policies *policies;   /* parsed bucket policies (perm.c) */
	struct idmap *idmap;              /* users as host ids (idmap.c) */
	uint64_t docs_gen;                /* atr_bucket_docs_generation; atomic */
};

/* The ino the mount knows row o's inode by (o->node for a file with
 * several names); its inode number is that plus one. */
static inline uint64_t obj_node(const struct atr_obj *o)
{
	return o->node ? o->node : o->ino;
}

/* (node.c) The entry bucket/key (row o) changed: tells the watcher, if
 * any. Callable under ns_lock. node_settle: after the locks are released. */
void node_event(struct atr_core *c, const char *bucket, const char *key, const struct atr_obj *o);
void node_settle(struct atr_core *c);
/* The object at bucket/key (row old) is about to be replaced by a new
 * inode: with a mount, its bytes stay readable under its old inode number
 * for a few seconds, so the kernel's lookups in flight still open it
 * (node.c, "ghosts"). Under ns_lock. */
void node_ghost(struct atr_core *c, const char *bucket, const char *key,
		const struct meta_row *old);
int nodes_open(struct atr_core *c);
void nodes_close(struct atr_core *c);

/* Runs fn(c, arg) under ns_lock inside one metadata transaction,
 * committed if fn returns ATR_OK, else rolled back; returns fn's result
 * (or the commit's). */
int ns_txn(struct atr_core *c, int (*fn)(struct atr_core *c, void *arg), void *arg);
/* ns_txn, then (still under ns_lock) then(c, arg, committed). */
int ns_txn_then(struct atr_core *c, int (*fn)(struct atr_core *c, void *arg),
		void (*then)(struct atr_core *c, void *arg, int committed), void *arg);

/* The smallest string above every string starting with prefix (see S3
 * listing order): the prefix with its last byte below 0xff incremented.
 * Returns 0, or -1 if there is none or it does not fit. */
int key_successor(const char *prefix, char *out, size_t size);

/* The directory key holding key into out (ATR_KEY_MAX + 2 bytes):
 * "a/b/c" -> "a/b/", "a/b/" -> "a/", "a" -> "". */
void parent_key(const char *key, char *out);

/* "bucket/key" into out; -1 if too long. */
int ufs_path(char *out, size_t size, const char *bucket, const char *key);


/* Metadata sync of one object: reconciles the row with the UFS file at its
 * path (import, refresh or drop). Returns the fresh row (with hdrs) or
 * ATR_E_NO_KEY. */
int sync_object(struct atr_core *c, const char *bucket, const char *key,
		struct meta_row *row);
/* Reconciles the rows of every directory at or below dirkey whose mtime
 * moved since it was last read. */
int sync_tree(struct atr_core *c, const char *bucket, const char *dirkey);
/* Registers bucket directories that appeared in the UFS root. */
int sync_buckets(struct atr_core *c);

/* Checks the bucket name and existence (importing a bucket directory met
 * in the UFS) and, unless want is 0, that u may do action (wanting the
 * PERM_* bits want of its root) on it; out (may be NULL) receives it. */
int bucket_check(struct atr_core *c, const struct atr_user *u, const char *name,
		 const char *action, unsigned want, struct atr_bucket *out);
/* The user a file met in the UFS belongs to: its uid's (idmap_name). */
void owner_of_uid(struct atr_core *c, uid_t uid, char out[ATR_USER_MAX + 1]);

/* What an object is made from: a filled stage (NULL for a directory
 * marker), its ETag and stored headers. */
struct commit {
	const char *user;
	const char *bucket;
	const char *key;
	struct ufs_stage *stage; /* consumed: committed or discarded */
	const char *etag;
	const char *hdrs;
	/* Conditional writes (S3's If-None-Match: * and If-Match): what must
	 * hold of the object at the key when the commit happens; checked
	 * inside the commit's transaction under ns_lock, ATR_E_CONFLICT if it
	 * does not (callers check it first, and then it has changed since). */
	int must_not_exist;
	const char *if_etag;     /* NULL, "*" (any object), or the hex ETag */
	/* A multipart completion's part sizes, kept with the object (NULL
	 * for any other commit, which drops an earlier object's). */
	const uint64_t *part_sizes;
	int nparts;
	const char *part_sums;   /* their checksums, '\n'-separated, or NULL */
	const char *tags;        /* the object's tags; NULL or "" for none */
	/* Non-zero (the mount): new bytes for this inode (its node: see
	 * obj_node), under whatever names it has when the commit happens
	 * (bucket and key are then only the caller's guess; ATR_E_NO_KEY if
	 * it has none left); it keeps its owner, mode, headers, tags and
	 * extended attributes. */
	uint64_t ino;
	/* Non-NULL (the mount): a new entry's mode, gid, kind and rdev. */
	const struct atr_obj *posix;
	/* The S3 ACL the object is written with; NULL: a new object is
	 * private, one replaced keeps the permissions it had (cp's rule). */
	const struct atr_acl *acl;
};
/* (object.c) Deletes the object or marker at key, under ns_lock in a
 * transaction (atr_object_delete's body). */
int object_delete_locked(struct atr_core *c, const char *bucket, const char *key, int prune);

/* (fs.c) fs_resolve finds key (no trailing '/') as a file, else as a
 * directory (explicit or implied), with metadata sync; *dir says which.
 * fs_rename_locked moves skey to dkey (directories: both ending in '/',
 * with everything below), nothing being at the destination, under
 * ns_lock in a transaction; with replace, a file whose row the caller
 * removed may still be at dkey in the UFS, and is replaced atomically.
 * fs_rmdir_empty removes an empty directory.
 * With prune, implied directories left empty above go too (S3's view; the
 * mount keeps them, as a file system would). */
int fs_resolve(struct atr_core *c, const struct atr_user *u, const char *bucket,
	       const char *key, struct meta_row *row, int *dir);
struct fs_move;
int fs_rename_locked(struct atr_core *c, const char *owner, const char *sbucket,
		     const char *skey, const char *dbucket, const char *dkey, int dir, int replace,
		     struct fs_move *mv);
/* The UFS side of a rename: fs_rename_locked moves the rows and records an
 * intent naming the move in the caller's transaction; fs_move_done, once
 * that has committed (still under ns_lock), moves the file or directory,
 * then drops the source's implied parents left empty. Metadata first, as
 * in object_commit: a transaction that fails moves nothing, and a crash
 * after it is finished at start from the intent, so the rows (inodes,
 * headers, modes) and the files always agree. */
struct fs_move {
	int todo, replace;
	char from[ATR_BUCKET_MAX + ATR_KEY_MAX + 8], to[ATR_BUCKET_MAX + ATR_KEY_MAX + 8];
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2]; /* the source */
};
void fs_move_done(struct atr_core *c, struct fs_move *mv, int committed);
/* Start-up: the move intent from -> to of a crashed rename is finished if
 * the file is still at from and no row names from any more. */
void fs_move_recover(struct atr_core *c, const char *from, const char *to);
int fs_rmdir_empty(struct atr_core *c, const char *bucket, const char *dk, int prune);

/* (object.c) The object at bucket/key, synced with the UFS, if u may do
 * action on it (wanting the PERM_* bits want of it, and search above it):
 * *row (with hdrs) and, with fp, its file open. A key that is not there is
 * ATR_E_NO_KEY for who may list the bucket, ATR_E_ACCESS for others. */
struct ufs_file;
int object_find(struct atr_core *c, const struct atr_user *u, const char *action, unsigned want,
		const char *bucket, const char *key, struct meta_row *row, struct ufs_file **fp);

/* A fresh row: zeroes, gid -1 (the owner's group), ctime and atime now. */
void row_init(struct meta_row *r);

/* The owner of what u writes into b with acl (NULL: none): the writer,
 * or the bucket's owner when its Object Ownership says so (or the request
 * is anonymous); into out. */
void object_owner(const struct atr_user *u, const struct atr_bucket *b,
		  const struct atr_acl *acl, char out[ATR_USER_MAX + 1]);
/* Whether the bucket takes acl (Object Ownership, Block Public Access):
 * ATR_OK, ATR_E_ACLS_OFF or ATR_E_ACCESS. */
int acl_allowed(const struct atr_bucket *b, const struct atr_acl *acl);

/* Makes cm visible atomically (rename + one transaction), replacing what
 * was at the key; creates implied directories. The one commit path of PUT,
 * multipart completion and copy. */
int object_commit(struct atr_core *c, const struct commit *cm, struct atr_obj *out);

/* Multipart state of the core: set up by atr_core_open once the metadata
 * store and the UFS are open, which also removes staged parts that no
 * upload row names (left by a crash or an abort cut short). */
int mpu_open(struct atr_core *c);
void mpu_close(struct atr_core *c);
/* Drops the uploads in progress of a bucket just deleted, parts and all
 * (AWS deletes a bucket's incomplete uploads with it). */
void mpu_bucket_deleted(struct atr_core *c, const char *bucket);

/* (object.c) Every directory above key exists afterwards, as a row and
 * (with mkdirs) in the UFS; ATR_E_PARENT_IS_OBJECT if a file is in the
 * way. A directory made takes the owner and permissions of the one above
 * it (perm_inherit). prune_parents removes the implied directories above key left
 * empty. Under ns_lock, in a transaction. t may be NULL: the directories
 * changed are then simply re-read by the next listing. */
struct touched;
int ensure_parents(struct atr_core *c, const char *bucket, const char *key, int mkdirs,
		   struct touched *t);
int prune_parents(struct atr_core *c, const char *bucket, const char *key,
		  struct touched *t);

/* A PUT in progress (object.c) and an open reader (object.c), shared with
 * copy.c, which fills a writer's stage from a reader's file. */
/*
 * Bytes streaming into a stage with their MD5 computed on the way: what a
 * PUT, an UploadPart and a copy all are until they commit. Without a stage
 * it only hashes (a directory marker holds no bytes).
 */
struct stage_writer {
	struct ufs_stage *stage;
	struct hash md5;
	int md5_open;
	unsigned char sum[MD5_LEN];
	uint64_t size;
};
int stage_writer_init(struct atr_core *c, struct stage_writer *sw, int with_stage);
int stage_writer_write(struct atr_core *c, struct stage_writer *sw, const void *data, size_t len);
/* The MD5 of everything written (ends the hashing). */
void stage_writer_md5(struct stage_writer *sw, unsigned char out[MD5_LEN]);
/* Discards whatever is left: the open hash and an uncommitted stage. */
void stage_writer_release(struct atr_core *c, struct stage_writer *sw);

struct atr_writer {
	struct atr_core *c;
	char user[ATR_USER_MAX + 1];    /* the owner the object will have */
	char writer[ATR_USER_MAX + 1];  /* who writes it */
	int anonymous;
	struct atr_bucket b;            /* as it was at atr_put_begin */
	struct atr_acl *acl;            /* malloc'd or NULL (atr_put_acl) */
	char bucket[ATR_BUCKET_MAX + 1];
	char key[ATR_KEY_MAX + 1];
	struct stage_writer sw;
	int is_dir;
	int must_not_exist;             /* conditions for the commit */
	char if_etag[ATR_ETAG_MAX + 1]; /* "" for none */
	char *tags;                     /* malloc'd or NULL (atr_put_tags) */
};

struct atr_reader {
	struct atr_core *c;
	struct ufs_file *f;
	int borrowed;           /* f belongs to someone else (node.c's ghosts) */
	uint64_t ino, version, size;
	struct bcache_block *pinned;
};

/* MD5 of a UFS file as hex, for files met behind our back. */
int hash_ufs_file(struct atr_core *c, const char *path, char etag[ATR_ETAG_MAX + 1],
		  struct ufs_stat *st);

#endif
