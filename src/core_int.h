/*
 * core_int.h — what the core's own files share; front ends never include it.
 *
 * struct atr_core ties the metadata store, the under-storage and the block
 * cache together. The namespace kernel (src/ns_int.h) is the only code
 * that changes the namespace; the views on it (objects, buckets, paths,
 * inodes) share what is declared here: the core's state, key helpers,
 * the bucket check every view starts with, and the writer and reader of
 * object bytes. Lock order: docs/architecture.md.
 */
#ifndef SRC_CORE_INT_H
#define SRC_CORE_INT_H

#include <pthread.h>
#include <string.h>

#include "common/hash.h"
#include "common/md5mb.h"
#include "src/atrium.h"
#include "src/bcache_int.h"
#include "src/crypt_int.h"
#include "src/dcache_int.h"
#include "src/meta_int.h"
#include "src/readahead_int.h"
#include "src/ufs_int.h"

struct atr_core {
	struct meta *meta;
	struct ufs *ufs;                  /* the mux: every bucket's driver */
	struct ufs *local;                /* the local driver under it (the private area) */
	pthread_mutex_t mounts_lock;      /* mounts.c: one mount change at a time */
	struct bcache *cache;
	struct readahead *readahead;      /* sequential reads of remote files */
	struct dcache *disk;              /* the DISK tier; NULL: none */
	size_t block_size;
	pthread_mutex_t ns_lock;          /* ns.c: ns_lock() / ns_unlock() */
	pthread_t ns_owner;               /* who holds ns_lock (for ns_held) */
	int ns_owned;
	int ns_owed;                      /* UFS steps owed (ns_redo); guarded by ns_lock */
	char *daemon_user;
	struct mpu *mpu;        /* multipart state (src/multipart.c) */
	struct nodes *nodes;    /* the mount's open inodes (src/node.c) */
	struct etags *etags;    /* MD5s still to compute (src/etag.c) */
	struct md5mb_engine *md5; /* every body MD5 goes through it (common/md5mb.h) */
	struct persister *persister; /* the persist worker (src/persist.c) */
	int write_type, read_type;   /* the defaults (atr_core_config); read-only */
	int durable;                 /* --durability=power (atr_core_config); read-only */
	const struct atr_watch_ops *watch; /* NULL without a mount */
	void *watch_arg;
	const struct atr_idents *users;   /* atr_core_set_users; NULL: anyone */
	struct perm_policies *policies;   /* parsed bucket policies (perm.c) */
	struct idmap *idmap;              /* users as host ids (idmap.c) */
	uint64_t docs_gen;                /* atr_bucket_docs_generation; atomic */
	/* The inode view's hook for an inode an S3 write replaces (node.c's
	 * ghosts; see ns_replaced); NULL: none. Set at open, then read-only. */
	void (*on_replace)(struct atr_core *c, const char *bucket, const char *key,
			   const struct meta_row *old);
	struct sse_keys *sse;             /* sse.c: master keys; read-only after open */
};

/* The size of the file holding o's bytes: an encrypted object's row has
 * the plaintext's size (src/crypt_int.h); one stored as a stream per part
 * has its file's size in fsize (it depends on every part's size). */
static inline uint64_t obj_file_size(const struct atr_obj *o)
{
	if (o->sse && o->fsize)
		return o->fsize;
	return o->sse ? crypt_file_size(o->size) : o->size;
}

/* The longest UFS path of a bucket and key ("bucket/key"). */
#define PATH_MAX_UFS (ATR_BUCKET_MAX + ATR_KEY_MAX + 8)
/* The MD5 of nothing: the ETag of an empty object or a marker. */
#define ATR_MD5_EMPTY "d41d8cd98f00b204e9800998ecf8427e"

/* The ino the mount knows row o's inode by (o->node for a file with
 * several names); its inode number is that plus one. */
static inline uint64_t obj_node(const struct atr_obj *o)
{
	return o->node ? o->node : o->ino;
}

/* atr_core_open, with the under-storage wrapped: the core uses
 * wrap(arg, local) instead of the local driver, and owns it (its free
 * frees the local one); NULL from wrap is ATR_E_NOMEM. For tests only: the
 * fault-injecting driver (src/ufs_fault_int.h) is put between the core and
 * the local directory this way. */
int core_open_wrapped(const struct atr_core_config *cfg,
		      struct ufs *(*wrap)(void *arg, struct ufs *inner), void *arg,
		      struct atr_core **out);

int nodes_open(struct atr_core *c);
void nodes_close(struct atr_core *c);

/* ---- keys (key.c) ---- */

/* The smallest string above every string starting with prefix (see S3
 * listing order): the prefix with its last byte below 0xff incremented.
 * Returns 0, or -1 if there is none or it does not fit. */
int key_successor(const char *prefix, char *out, size_t size);

/* The directory key holding key into out (ATR_KEY_MAX + 2 bytes):
 * "a/b/c" -> "a/b/", "a/b/" -> "a/", "a" -> "". */
void key_parent(const char *key, char *out);

/* "bucket/key" into out; -1 if too long. */
int key_path(char *out, size_t size, const char *bucket, const char *key);
/* Whether key names a directory (ends in '/'). */
static inline int key_is_dir(const char *key)
{
	size_t n = strlen(key);
	return n > 0 && key[n - 1] == '/';
}
/* The directory key of key: "a/b" -> "a/b/", "" -> "" (out: ATR_KEY_MAX + 2
 * bytes); ATR_E_KEY_TOO_LONG if it does not fit. */
int key_dir(const char *key, char out[ATR_KEY_MAX + 2]);
/* key's directory into parent (as parent_key) and its last name: *name,
 * *len bytes (a directory key's without its '/'). */
void key_split(const char *key, char parent[ATR_KEY_MAX + 2], const char **name, size_t *len);


/* The user a file met in the UFS belongs to: its uid's (idmap_name). */
void owner_of_uid(struct atr_core *c, uid_t uid, char out[ATR_USER_MAX + 1]);

/* (object.c) atr_object_stat and atr_get_open, with etag 0 for the
 * callers that need no ETag (the mount, the file-system view): they never
 * wait for one still being computed (etag.c), which can take seconds. */
int object_stat(struct atr_core *c, const struct atr_user *u, const char *bucket,
		const char *key, struct atr_obj *out, int etag);
int object_get_open(struct atr_core *c, const struct atr_user *u, const char *bucket,
		    const char *key, struct atr_obj *obj, struct atr_reader **out, int etag);
/* (list.c) Before a listing of the keys with prefix (at most
 * ATR_KEY_MAX bytes): the directories in its scope re-read where they
 * changed behind our back (ns_sync_tree). */
void list_sync(struct atr_core *c, const char *bucket, const char *prefix);
/* (version.c) The one delete of every door (S3's DELETE and
 * DeleteObjects, the mount's unlink, the path view's rm) and of the
 * lifecycle worker, without a permission check: ns_delete_version (src/
 * ns_int.h), a delete marker owned by owner; prune: implied directories
 * left empty go (S3's view; the mount keeps them). flags: OBJ_DEL_BYPASS,
 * a GOVERNANCE retention does not hold (the caller checked the user may
 * bypass it); OBJ_DEL_IN_PLACE, a locked current version is not moved
 * behind a delete marker either (the mount's unlink, the path view's rm):
 * ATR_E_LOCKED (Object Lock, src/objlock.c). */
/* (objlock.c) Whether u may ask for lock with a write (ATR_E_ACCESS). */
int obj_lock_may(struct atr_core *c, const struct atr_user *u, const char *bucket,
		 const struct atr_lock *lock);
#define OBJ_DEL_BYPASS 1
#define OBJ_DEL_IN_PLACE 2
int obj_delete_version(struct atr_core *c, const char *owner, const char *bucket,
		       const char *key, const char *vid, int prune, int flags,
		       struct atr_delete_result *out);
/* Multipart state of the core: set up by atr_core_open once the metadata
 * store and the UFS are open, which also removes staged parts that no
 * upload row names (left by a crash or an abort cut short). */
int mpu_open(struct atr_core *c);
void mpu_close(struct atr_core *c);
/* Drops the uploads in progress of a bucket just deleted, parts and all
 * (AWS deletes a bucket's incomplete uploads with it). */
void mpu_bucket_deleted(struct atr_core *c, const char *bucket);

/* The mount table (mounts.c): attached again at start, before recovery;
 * a deleted bucket's mount goes with it. */
int mounts_open(struct atr_core *c);
void mounts_bucket_gone(struct atr_core *c, const char *bucket);

/* A PUT in progress (object.c) and an open reader (object.c), shared with
 * copy.c, which fills a writer's stage from a reader's file. */
/*
 * Bytes streaming into a stage with their MD5 computed on the way: what a
 * PUT, an UploadPart and a copy all are until they commit. Without a stage
 * it only hashes (a directory marker holds no bytes).
 */
struct stage_writer {
	struct ufs_stage *stage;
	struct md5mb_ctx md5;   /* through c->md5, the shared engine */
	int md5_open;
	unsigned char sum[MD5_LEN];
	uint64_t size;          /* plaintext bytes written */
	int sse;                /* enum atr_sse: the stage holds ciphertext (sse.c) */
	struct crypt_w *cw;     /* encrypting, until sse_writer_finish */
	struct md5mb_ctx ct_md5; /* SSE-C: the MD5 of the ciphertext (its ETag) */
	int ct_md5_open;
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
	int write_type;                 /* enum atr_write_type (atr_put_write_type) */
	int sse;                        /* enum atr_sse it is written with ... */
	unsigned char sse_key[CRYPT_KEY]; /* ... and SSE-C's key (wiped at free) */
	struct atr_lock lock;           /* asked for (atr_put_lock); hold -1: not */
};

/* (object.c) The stage of a directory key's writer, opened when the
 * marker gets bytes (the side form); ATR_E_INVALID_ARG without one. */
int writer_need_stage(struct atr_writer *w);
/* (object.c) Commits what w holds (a marker for a directory key with no
 * bytes, else an object: src/ns_int.h's side form for one ending in '/') with
 * etag, the stored headers and the tags, and frees w, in every case. */
int writer_commit(struct atr_writer *w, const char *etag, const char *hdrs, const char *tags,
		  struct atr_obj *out);

/* (reader.c) A bare reader of version (ino, version) of size bytes (sse:
 * enum atr_sse) from f, which stays the caller's if it fails (NULL: no
 * memory): what reader_new and the mount's readers of a ghost share. */
struct atr_reader *reader_alloc(struct atr_core *c, uint64_t ino, uint64_t version,
				uint64_t size, int sse, struct ufs_file *f);
/* (reader.c) A reader of object o's bytes from f (its file, NULL for
 * none: a marker), taken over in every case. ATR_E_CONFLICT: o is a
 * segmented encrypted object whose part sizes are gone, replaced since
 * its row was read (find it again). */
int reader_new(struct atr_core *c, const struct atr_obj *o, struct ufs_file *f,
	       struct atr_reader **out);
/* (reader.c) Bytes [off, off + len) of r's file (fsize bytes: for an
 * encrypted object, its ciphertext) through the block cache, as r's read
 * type says; ATR_E_IO if the file is shorter. reader_file_load brings the
 * whole file into the cache (fs load of an encrypted object: no key
 * needed, nothing decrypted). */
int reader_file_read(struct atr_reader *r, uint64_t fsize, void *buf, size_t len, uint64_t off);
int reader_file_load(struct atr_reader *r, uint64_t fsize);
/* Where r's file is: in a remote store when it is bucket's and bucket
 * is remote and the file not held on this node (held: the row's persist
 * state). Such a reader reads ahead (src/readahead_int.h), unless it is
 * encrypted (its cached blocks are the ciphertext's, which read-ahead
 * does not follow) or a read is NO_CACHE (checked at
 * each read: the type may change after the open). */
void reader_locate(struct atr_reader *r, const char *bucket, int held);
/* Copies [off, off + len) of r into buf through the block cache (*got
 * short only at its end). Unlike atr_get_read it may run on several
 * threads at once: the mount's readers of one file share its reader. */
int reader_pread(struct atr_reader *r, void *buf, size_t len, uint64_t off, size_t *got);

struct atr_reader {
	struct atr_core *c;
	struct ufs_file *f;
	int borrowed;           /* f belongs to someone else (node.c's ghosts) */
	int read_type;          /* enum atr_read_type (src/persist.c); 0: CACHE */
	uint64_t ino, version, size;
	struct bcache_block *pinned;
	int remote;             /* its file is a remote store's (reader_locate) */
	struct ra_stream ra;    /* read-ahead; off unless reader_locate */
	pthread_mutex_t ra_lock; /* ra's reader side, for reader_pread's threads */
	/* An encrypted object (sse.c): its ciphertext read through the
	 * block cache, which never holds its plaintext; cr is NULL until
	 * its key is known (SSE-C: atr_get_sse_key). */
	int sse;
	pthread_mutex_t sse_lock;  /* sse_pread: pt is shared by the mount's readers */
	unsigned char hdr[CRYPT_HDR]; /* segment 0's */
	/* Its segments (src/crypt_int.h): one for an object that is one
	 * stream; a completed upload's, one per part. seg_at[i] is where
	 * segment i's plaintext starts (seg_at[nseg]: the size), seg_file[i]
	 * where its file bytes do (seg_file[nseg]: the file's size): derived
	 * from the part sizes at open. */
	int nseg, segmented;
	uint64_t *seg_at, *seg_file;
	const uint64_t *sizes;  /* NULL, or the part sizes to use (a ghost's) */
	int nsizes;
	unsigned char upload[CRYPT_UPLOAD]; /* segment 0's upload tag */
	int seg;                /* the segment cr decrypts */
	struct crypt_r *cr;
	unsigned char ckey[CRYPT_KEY]; /* SSE-C: the key, once given (wiped) */
	int has_ckey;
	unsigned char *pt;      /* decrypted chunks [pt_first, pt_first + pt_n) of pt_seg */
	uint64_t pt_first, pt_n;
	int pt_seg;
};

/*
 * (sse.c) Encryption at rest. sse_open reads DATA/sse.keys (made at the
 * first start), sse_close wipes the keys. A stage writer encrypts once
 * sse_writer_start (before its first byte) has written the header:
 * type ATR_SSE_S3 with the newest master key, ATR_SSE_C with ckey (32
 * bytes); stage_writer_write then goes through sse_writer_write, and
 * sse_writer_finish writes the final chunk before the commit. A reader of
 * an encrypted row: sse_reader_open reads the header (and for SSE-S3
 * unwraps the data key; for a completed upload's segments, reads the part
 * sizes of r->ino at r->version), sse_read is atr_get_read's path for it,
 * sse_reader_free wipes it.
 */
int sse_open(struct atr_core *c, const char *data_dir);
void sse_close(struct atr_core *c);
int sse_writer_start(struct atr_core *c, struct stage_writer *sw, int type,
		     const unsigned char *ckey);
/* sse_writer_start of part number part of upload upload_id: the stream
 * is a segment of the object the upload makes (src/crypt_int.h). */
int sse_writer_start_part(struct atr_core *c, struct stage_writer *sw, int type,
			  const unsigned char *ckey, int part, const char *upload_id);
int sse_writer_write(struct atr_core *c, struct stage_writer *sw, const void *data, size_t len);
int sse_writer_finish(struct atr_core *c, struct stage_writer *sw);
/* After sse_writer_finish, an SSE-C writer's ETag (the MD5 of the file
 * it wrote, not of the plaintext) into etag: 1, or 0 for any other. */
int sse_writer_etag(struct stage_writer *sw, char etag[ATR_ETAG_MAX + 1]);
int sse_reader_open(struct atr_core *c, struct atr_reader *r);
int sse_read(struct atr_reader *r, uint64_t off, const void **data, size_t *len);
void sse_reader_free(struct atr_reader *r);
/* Copies [off, off + len) of an encrypted reader's plaintext into buf
 * (*got short only at its end), under the reader's lock: the mount's
 * readers of one file share its reader. */
int sse_pread(struct atr_reader *r, void *buf, size_t len, uint64_t off, size_t *got);
/* The first len plaintext bytes of r appended to stage (a shadow made
 * from an encrypted file: the mount writes plaintext in its private
 * stage, encrypted again at commit). */
int sse_reader_to_stage(struct atr_reader *r, struct ufs_stage *stage, uint64_t len);
/* The mount's commit: a new stage holding plain's first size bytes
 * encrypted (ATR_SSE_S3, the newest master key), with its mtime set to
 * mtime_ns when the store keeps times, and their MD5 as hex in etag. */
int sse_stage_encrypt(struct atr_core *c, struct ufs_stage *plain, uint64_t size,
		      int64_t mtime_ns, struct ufs_stage **out, char etag[ATR_ETAG_MAX + 1]);
/* A multipart completion's: in holds n streams of type (ATR_SSE_S3, or
 * ATR_SSE_C under ckey) one after the other (the parts, of sizes[i]
 * plaintext bytes each); *out, a new stage, their plaintext as one stream
 * of that type (a new data key, wrapped by the newest master key or by
 * ckey; mtime as sse_stage_encrypt's). A part another key made is
 * ATR_E_ACCESS; one that fails authentication fails it (ATR_E_IO). */
int sse_stage_join(struct atr_core *c, struct ufs_stage *in, const uint64_t *sizes, int n,
		   int type, const unsigned char *ckey, int64_t mtime_ns, struct ufs_stage **out);
/* A multipart completion's that keeps the parts' streams as the object's
 * segments: checks that in (n streams of sizes[i] plaintext bytes) holds
 * segments of type of upload upload_id numbered 1..n, each header where
 * the sizes put it (ATR_E_IO if not: a part file changed in the part
 * area). Reads n headers, decrypts nothing, needs no key. SSE_PARTS_OLD:
 * a part is a stream of its own, not a segment (an upload begun before
 * segments existed): join them (sse_stage_join). */
#define SSE_PARTS_OLD 1
int sse_segments_check(struct atr_core *c, struct ufs_stage *in, const uint64_t *sizes, int n,
		       int type, const char *upload_id);

/*
 * (etag.c) ETags computed after their commit: a row whose etag is "" has
 * not been hashed yet. etag_schedule hands inode node at version to the
 * worker (callable under ns_lock). etag_settle gives o (a row of
 * bucket/key, or with bucket NULL found by its inode) its ETag, waiting
 * for the worker or hashing the file itself, and stores it, or with
 * may_store 0 (inside a read transaction) has the worker store it;
 * ATR_E_CONFLICT if the file is no longer the one o describes. A no-op
 * for a directory or a row that has its ETag.
 */
int etag_open(struct atr_core *c);
void etag_close(struct atr_core *c);
void etag_schedule(struct atr_core *c, uint64_t node, uint64_t version);
int etag_settle(struct atr_core *c, const char *bucket, const char *key, struct atr_obj *o,
		int may_store);
/* MD5 of the first size bytes of f as hex, reading only its data.
 * stop (may be NULL): set by another thread, it ends the hashing early
 * (ATR_E_BUSY). */
int etag_hash_file(struct atr_core *c, struct ufs_file *f, uint64_t size, const int *stop,
		   char etag[ATR_ETAG_MAX + 1]);

#endif
