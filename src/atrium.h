/*
 * atrium.h — the core API: the only door into Atrium's namespace.
 *
 * The front ends (s3/, fuse/, the admin API) call these functions and nothing
 * else of src/. The core never formats HTTP or XML and never calls libfuse;
 * it speaks enum atr_err.
 *
 * Model. Buckets are the top-level directories of the namespace. Object key
 * "a/b/c" in bucket "bk" is the file a/b/c in bk's directory of the
 * under-storage (DATA/ufs/bk/a/b/c); the directories a/ and a/b/ are implied.
 * A key ending in '/' is an explicit directory (a "directory marker").
 * Implied directories are not objects: they do not show in listings and
 * HEAD of "a/" is NoSuchKey unless "a/" was created explicitly.
 *
 * Consistency. A PUT streams into a staging file on the UFS's own file
 * system and becomes visible atomically at commit (rename + one metadata
 * transaction); readers see the whole old or the whole new object. Files
 * that appear in or change under DATA/ufs behind Atrium's back are picked up
 * on lookup (size/mtime differ → attributes and ETag are recomputed) and on
 * listing (a directory whose mtime changed is re-read).
 *
 * Threads. Every function may be called from any number of threads at once.
 * Structures returned to the caller belong to the caller.
 */
#ifndef SRC_ATRIUM_H
#define SRC_ATRIUM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/statvfs.h>
#include <sys/types.h>

enum atr_err {
	ATR_OK = 0,
	ATR_E_NOMEM,
	ATR_E_IO,               /* under-storage or metadata I/O failed */
	ATR_E_NOSPC,            /* under-storage is full */
	ATR_E_INTERNAL,
	ATR_E_ACCESS,           /* permission denied */
	ATR_E_INVALID_BUCKET,   /* bad bucket name */
	ATR_E_NO_BUCKET,
	ATR_E_BUCKET_EXISTS,    /* exists, owned by someone else */
	ATR_E_BUCKET_OWNED,     /* exists, owned by the caller */
	ATR_E_BUCKET_NOT_EMPTY,
	ATR_E_INVALID_KEY,      /* empty/./.. segment, NUL, bad UTF-8 */
	ATR_E_KEY_TOO_LONG,     /* > 1024 bytes, or a segment > 255 */
	ATR_E_NO_KEY,
	ATR_E_PARENT_IS_OBJECT, /* "a" is an object, so "a/b" cannot be */
	ATR_E_KEY_IS_PREFIX,    /* "a/b" exists, so "a" cannot be an object */
	ATR_E_TOO_LARGE,
	ATR_E_INVALID_ARG,
	ATR_E_NO_UPLOAD,        /* no such multipart upload */
	ATR_E_INVALID_PART,     /* a named part is not there, or its ETag differs */
	ATR_E_PART_ORDER,       /* parts not named in ascending order */
	ATR_E_PART_TOO_SMALL,   /* a part other than the last is under the minimum */
	ATR_E_PRECONDITION,     /* a conditional write's condition does not hold */
	ATR_E_CONFLICT,         /* it held when checked, no longer at commit */
	ATR_E_EXISTS,           /* something is already at that path */
	ATR_E_NOT_EMPTY,        /* a directory still holds entries */
	ATR_E_NOT_SUPPORTED,    /* not for this kind of entry, or not by this driver */
	ATR_E_NO_CONFIG,        /* the bucket has no such setting (policy, ...) */
	ATR_E_ACLS_OFF,         /* the bucket's Object Ownership disables ACLs */
	ATR_E_BAD_POLICY,       /* a bucket policy that does not validate */
	/* What the under-storage answered, named as POSIX names it, so that
	 * the mount can give a program the errno its call documents. */
	ATR_E_FILE_TOO_BIG,     /* past the largest file it holds (EFBIG) */
	ATR_E_READ_ONLY,        /* it is read-only (EROFS) */
	ATR_E_QUOTA,            /* the owner's quota is used up (EDQUOT) */
	ATR_E_TOO_MANY_LINKS,   /* a link count at its maximum (EMLINK) */
	ATR_E_BUSY,             /* in use by the system (EBUSY) */
	ATR_E_NO_FILES,         /* out of open files (EMFILE, ENFILE) */
	/* A remote under-storage that does not answer (after the driver's
	 * retries): S3's 503 ServiceUnavailable, EIO on the mount. */
	ATR_E_UFS_DOWN,
	/* Freeing the cached bytes of a file whose only copy they are
	 * (NOT_PERSISTED, TO_BE_PERSISTED): refused. */
	ATR_E_NOT_PERSISTED,
	/* Freeing the cached bytes of a pinned file: refused. */
	ATR_E_PINNED,
	/* Versioning (src/version.c): no such version of the key; the version
	 * named (or the latest) is a delete marker, which has no bytes. */
	ATR_E_NO_VERSION,
	ATR_E_DELETE_MARKER,
	/* Object Lock (src/objlock.c): the version is under retention or a
	 * legal hold; the bucket has no Object Lock. */
	ATR_E_LOCKED,
	ATR_E_NO_LOCK,
	ATR_E__COUNT
};

const char *atr_strerror(int err);

#define ATR_KEY_MAX 1024
#define ATR_SEGMENT_MAX 255
#define ATR_USER_MAX 64
#define ATR_ETAG_MAX 48
/* A version id: 32 lower-case hex digits, or "null" (src/version.c). */
#define ATR_VID_MAX 32
#define ATR_BUCKET_MAX 63

struct atr_core;

struct atr_core_config {
	const char *data_dir;      /* DATA: meta.db, ufs/, cache/ */
	size_t cache_mem_bytes;    /* memory tier capacity of the block cache */
	size_t cache_block_size;   /* block size, power of two */
	/* The DISK tier (src/dcache_int.h): a directory of block files and
	 * its capacity; NULL or "": memory only. Its blocks survive a
	 * restart; they belong to this data directory (DATA/cache_id). */
	const char *cache_disk_dir;
	uint64_t cache_disk_bytes;
	/* Users as host ids (the mount): an id map file ("NAME UID [GID]"
	 * lines; NULL: none) and the range ids are allocated from to users
	 * with no host account (0, 0: the default, 2^30 up). */
	const char *idmap;
	uint32_t id_first, id_last;
	/* The write and read types (enum atr_write_type, atr_read_type)
	 * of requests and mount points that name none; 0: CACHE_THROUGH
	 * and CACHE, Alluxio's defaults. */
	int write_type, read_type;
	/* --durability=power: every change to the local under-storage and
	 * the metadata store synced before it is acknowledged (0: a
	 * crash of the process loses nothing acknowledged; power loss may). */
	int durable;
	/* Blocks read ahead of a sequential reader of a remote file
	 * (src/readahead_int.h); 0: none. */
	int readahead_blocks;
};

int atr_core_open(const struct atr_core_config *cfg, struct atr_core **out);
void atr_core_close(struct atr_core *core);
/* Readiness (GET /api/v1/ready): the metadata store answers a point
 * lookup, the under-storage a statfs, and no under-storage step is owed
 * (a rename that failed after its commit: changes wait for it). ATR_OK,
 * or the error with *what naming the part that failed ("store", "ufs",
 * "ufs steps owed"). Cheap: no scan, no write. */
int atr_core_check(struct atr_core *c, const char **what);
/* Re-reads the id map file (SIGHUP), if there is one; on an error
 * (logged) the map loaded before stays. Names met since are looked up
 * again. */
int atr_core_reload_idmap(struct atr_core *c);

/*
 * Who asks, and what a bucket policy may ask about the request.
 *
 * name is the S3 user (the owner of what it creates); superuser bypasses
 * every check (the daemon's own user). anonymous: nobody signed the
 * request (name is then ""): it gets only what grants to everyone (the
 * AllUsers group, a policy's "*" principal) allow, and what it creates
 * belongs to the bucket's owner. req may be NULL (the admin API, the
 * mount): then the action is the core's own name for the call and every
 * condition key is absent. See docs/permissions.md.
 */
struct atr_request {
	/* The IAM action the front end's operation is, e.g. "s3:GetObject"
	 * for a GET, "s3:GetObjectAttributes"; NULL: the core's default. */
	const char *action;
	/* The i-th value (0 first) of a policy condition key for this request
	 * (aws:SourceIp, aws:SecureTransport, s3:prefix...), NULL if it has
	 * none (more). The core answers aws:username, aws:userid,
	 * aws:PrincipalType and s3:ExistingObjectTag/<key> itself. */
	const char *(*value)(void *arg, const char *key, int i);
	void *arg;
};

struct atr_user {
	const char *name;
	int superuser;
	int anonymous;
	const struct atr_request *req;
};

/* ---- access control lists (S3's ACLs; src/acl.c) ----
 *
 * S3's ACL of a bucket or an object is a list of grants; in Atrium it is a
 * view of the entry's POSIX permissions plus the grants POSIX cannot say:
 *   - the owner's grant is the owner's mode bits (READ r, WRITE w,
 *     FULL_CONTROL rw; the owner may always read and write the ACL);
 *   - the AuthenticatedUsers group's is the "other" bits (any signed-in S3
 *     user, any host user of the mount), and setting it sets the group
 *     bits alike;
 *   - the AllUsers group (anyone, unsigned requests included) holds only
 *     while the other bits allow it: chmod o-r revokes a public read;
 *   - grants to named users, the LogDelivery group and the READ_ACP /
 *     WRITE_ACP permissions are kept beside the mode; the kernel does not
 *     see them (the mount checks modes only).
 * On a directory or bucket READ also gives search (x), and WRITE means
 * creating and deleting entries in it. Canned ACLs name a grant to "the
 * owner" and "the bucket's owner", resolved when the entry is written.
 */
enum atr_grantee {
	ATR_GRANTEE_USER,          /* user: an S3 user name (its canonical ID) */
	ATR_GRANTEE_ALL_USERS,     /* http://acs.amazonaws.com/groups/global/AllUsers */
	ATR_GRANTEE_AUTH_USERS,    /* .../global/AuthenticatedUsers */
	ATR_GRANTEE_LOG_DELIVERY,  /* .../s3/LogDelivery */
	ATR_GRANTEE_OWNER,         /* canned ACLs: the entry's owner */
	ATR_GRANTEE_BUCKET_OWNER,  /* canned ACLs: the bucket's owner */
};
#define ATR_PERM_READ 1
#define ATR_PERM_WRITE 2
#define ATR_PERM_READ_ACP 4
#define ATR_PERM_WRITE_ACP 8
#define ATR_PERM_FULL_CONTROL 16
#define ATR_ACL_MAX 100    /* S3's limit of grants */

struct atr_grant {
	int grantee;       /* enum atr_grantee */
	unsigned perm;     /* one ATR_PERM_* */
	char user[ATR_USER_MAX + 1];
};

struct atr_acl {
	char owner[ATR_USER_MAX + 1]; /* get: the owner; set: "" or the owner */
	int n;
	struct atr_grant g[ATR_ACL_MAX];
};

/* A canned ACL by S3's name (private, public-read, public-read-write,
 * authenticated-read, bucket-owner-read, bucket-owner-full-control,
 * log-delivery-write, aws-exec-read); ATR_E_INVALID_ARG for another. */
int atr_acl_canned(const char *name, struct atr_acl *out);
/* Whether an ACL grants anything to AllUsers or AuthenticatedUsers (what
 * Block Public Access calls public). */
int atr_acl_is_public(const struct atr_acl *acl);

/* Object Ownership (S3's ownership controls). */
enum atr_ownership {
	ATR_OWN_OBJECT_WRITER,          /* the writer owns what it writes (the default) */
	ATR_OWN_BUCKET_OWNER_PREFERRED, /* ...unless written with bucket-owner-full-control */
	ATR_OWN_BUCKET_OWNER_ENFORCED,  /* the bucket's owner owns everything; ACLs off */
};
/* Block Public Access bits. */
#define ATR_PAB_BLOCK_ACLS 1        /* refuse public ACLs */
#define ATR_PAB_IGNORE_ACLS 2       /* public grants (and "other" bits) count for nothing */
#define ATR_PAB_BLOCK_POLICY 4      /* refuse a public policy */
#define ATR_PAB_RESTRICT_BUCKETS 8  /* a public policy allows only the bucket's owner */

/* ---- buckets ---- */

struct atr_bucket {
	char name[ATR_BUCKET_MAX + 1];
	char owner[ATR_USER_MAX + 1];
	char location[32];
	int64_t ctime_ns;
	/* Its root directory's permissions (what chmod of the bucket through
	 * the mount changes): mode, gid (-1: the owner's group), grants
	 * beyond the mode (has_acl); root_ino is that directory's ino. */
	uint32_t mode;
	int64_t gid;
	int has_acl;
	uint64_t root_ino;
	int public_block;   /* ATR_PAB_* bits, -1 when not configured */
	int ownership;      /* enum atr_ownership, -1 when not configured */
	int has_policy;
	int versioning;     /* enum atr_versioning */
	/* Object Lock: enabled (then versioning is Enabled for good), and
	 * the default retention of new versions (mode 0: none). */
	int objlock;
	int lock_mode, lock_days, lock_years;
};

/* Bucket name rules (S3's): 3..63 of [a-z0-9.-], starting and ending with a
 * letter or digit, no "..", not an IPv4 address, none of AWS's reserved
 * prefixes/suffixes, and not "api" (Alluxio's REST prefix). */
int atr_bucket_name_valid(const char *name);
/* A new bucket is private (its creator's alone: mode 0700) unless acl
 * (may be NULL) says otherwise; ownership (-1: not configured) is its
 * Object Ownership setting (S3's x-amz-object-ownership). */
int atr_bucket_create(struct atr_core *c, const struct atr_user *u,
		      const char *name, const char *location, const struct atr_acl *acl,
		      int ownership);
int atr_bucket_delete(struct atr_core *c, const struct atr_user *u, const char *name);
int atr_bucket_stat(struct atr_core *c, const struct atr_user *u, const char *name,
		    struct atr_bucket *out);
/* Whether the bucket exists (ATR_OK, ATR_E_NO_BUCKET, ATR_E_INVALID_BUCKET),
 * whoever asks: S3 tells NoSuchBucket to anyone. */
int atr_bucket_exists(struct atr_core *c, const char *name);
typedef int (*atr_bucket_cb)(void *arg, const struct atr_bucket *b);
/* The buckets the user owns, in name order. A non-zero return from cb stops. */
int atr_bucket_list(struct atr_core *c, const struct atr_user *u, atr_bucket_cb cb, void *arg);
/* Every bucket, whoever owns it, in name order: the superuser's only
 * (else ATR_E_ACCESS), for work done on every owner's behalf (the S3
 * door's lifecycle worker). */
int atr_bucket_list_all(struct atr_core *c, const struct atr_user *u, atr_bucket_cb cb,
			void *arg);

/* ---- objects ----
 *
 * Names: atr_object_* find an object by bucket and key, for a user (with
 * the permission it needs); atr_obj_* act on a struct atr_obj already in
 * hand (one a find returned); atr_put_*, atr_get_* are a writer's and a
 * reader's calls. */

/* Attributes of an object. hdrs holds the stored protocol headers (content
 * type and encoding, user metadata...) as "Name: value\r\n" lines, ready to
 * be sent; the core stores them and never interprets them. An object
 * stored without a Content-Type is served by every door with this one: */
#define ATR_CONTENT_TYPE_DEFAULT "binary/octet-stream"
struct atr_obj {
	uint64_t ino;       /* stable for the life of the object (renames included; a PUT,
	                     * copy or completion over it makes a new object) */
	uint64_t version;   /* bumped by every content change */
	uint64_t size;
	int64_t mtime_ns;
	uint32_t mode;
	int is_dir;
	char etag[ATR_ETAG_MAX + 1]; /* hex MD5, no quotes */
	char owner[ATR_USER_MAX + 1];
	char *hdrs;         /* malloc'd or NULL: release with atr_obj_release */
	/* The POSIX side (the mount): mode above holds the permission bits
	 * (07777); kind is 0 for a regular file or a directory, else the
	 * S_IFMT type of a special file (symlink, fifo, device, socket),
	 * which S3 sees as a small or empty object. */
	uint32_t kind;
	int64_t gid;        /* -1: the owner's primary group */
	int64_t ctime_ns, atime_ns;
	uint64_t rdev;
	uint64_t node;      /* a file with several names (hard links through the
			     * mount): the ino its inode is known by; else 0 */
	int persist;        /* enum atr_persist, as atr_object_stat and
			     * atr_get_open found it (else 0: PERSISTED) */
	int sse;            /* encrypted at rest: enum atr_sse (size is the plaintext's) */
	/* Its version id (src/version.c): "" for the null version of a
	 * bucket never versioned, "null" for one written while versioning
	 * was suspended, else the id the write was given. */
	char vid[ATR_VID_MAX + 1];
	uint64_t fsize;     /* encrypted as one stream per part (a completed upload):
			     * its file's size; else 0 (src/core_int.h, obj_file_size) */
};

/* Encryption at rest (docs/architecture.md): none, S3-managed keys
 * (SSE-S3, the daemon's master key), or the client's key (SSE-C). */
enum atr_sse { ATR_SSE_NONE = 0, ATR_SSE_S3 = 1, ATR_SSE_C = 2 };

void atr_obj_release(struct atr_obj *o);

/* Key rules: 1..1024 bytes of valid UTF-8, segments of 1..255 bytes, no
 * "." or ".." segment, no NUL; a trailing '/' makes a directory marker. */
int atr_key_valid(const char *key);

int atr_object_stat(struct atr_core *c, const struct atr_user *u,
		    const char *bucket, const char *key, struct atr_obj *out);
/* Deleting a missing key succeeds (S3). Implied parent directories left
 * empty are removed. */
int atr_object_delete(struct atr_core *c, const struct atr_user *u,
		      const char *bucket, const char *key);

/* Writing: begin checks names, permission and tree conflicts, and opens a
 * staging file; write streams (computing MD5); commit makes it visible
 * atomically; abort (or a failed commit) leaves nothing behind. */
struct atr_writer;
int atr_put_begin(struct atr_core *c, const struct atr_user *u, const char *bucket,
		  const char *key, uint64_t size_hint, struct atr_writer **out);
int atr_put_write(struct atr_writer *w, const void *data, size_t len);
/* MD5 of everything written so far; valid once writing is over. */
void atr_put_md5(struct atr_writer *w, unsigned char out[16]);
uint64_t atr_put_size(const struct atr_writer *w);
/* Commits with the given stored headers (may be NULL); fills *out if non-NULL
 * (out->hdrs left NULL). Frees w whatever the result. */
int atr_put_commit(struct atr_writer *w, const char *hdrs, struct atr_obj *out);
void atr_put_abort(struct atr_writer *w);
/* Makes the write conditional (S3's If-None-Match: * and If-Match). Checked
 * now, against the object at the key: ATR_E_PRECONDITION if it does not
 * hold (ATR_E_NO_KEY when etag is given and there is no object; reading
 * its ETag needs read permission); then again inside the commit, atomically
 * with it: ATR_E_CONFLICT if it stopped holding meanwhile. etag: NULL, "*"
 * (any object) or a hex ETag without quotes, compared case-insensitively. */
int atr_put_condition(struct atr_writer *w, const struct atr_user *u, int must_not_exist,
		      const char *etag);
/* Encryption at rest (docs/architecture.md): the object is written
 * encrypted, with the daemon's newest master key (ATR_SSE_S3) or under
 * key, the client's 32 bytes (ATR_SSE_C; never stored, only a salted HMAC
 * of it), whatever the bucket's default (atr_bucket_sse). ATR_SSE_NONE
 * asks for the bucket's default (a writer starts with it). Called before
 * the first byte (else ATR_E_INTERNAL). atr_put_sse_of: the mode the
 * object will have. */
int atr_put_sse(struct atr_writer *w, int sse, const unsigned char *key);
int atr_put_sse_of(const struct atr_writer *w);

/* Reading goes through the block cache. read returns a pointer into a pinned
 * cache block holding the bytes from off on (at most to the block's end);
 * the pointer stays valid until the next read or close on this reader. */
struct atr_reader;
int atr_get_open(struct atr_core *c, const struct atr_user *u, const char *bucket,
		 const char *key, struct atr_obj *obj, struct atr_reader **out);
int atr_get_read(struct atr_reader *r, uint64_t off, const void **data, size_t *len);
void atr_get_close(struct atr_reader *r);
/* An encrypted object is read around the block cache (its plaintext is
 * never cached), decrypted chunk by chunk. atr_get_sse: the reader's
 * object's enum atr_sse. An SSE-C object reads only once its key is
 * given: atr_get_sse_key checks it against the object's salted HMAC
 * (ATR_E_ACCESS for another key; ATR_E_INVALID_ARG if the object is not
 * SSE-C); before that atr_get_read answers ATR_E_ACCESS. */
int atr_get_sse(const struct atr_reader *r);
int atr_get_sse_key(struct atr_reader *r, const unsigned char key[32]);

/*
 * Write and read types (Alluxio's; src/persist.c, docs/architecture.md
 * "Write types and persistence"). They matter for buckets mounted on a
 * remote store (atr_mount_add); a bucket of the local under-storage is
 * its own durable store, so every write there is PERSISTED whatever its
 * type. In a remote bucket:
 *   MUST_CACHE     the bytes stay on this node only (held in the private
 *                  area, never evicted, served from there): NOT_PERSISTED,
 *                  lost if this node's disk is lost; atr_fs_persist
 *                  uploads them.
 *   CACHE_THROUGH  uploaded before the commit's metadata transaction
 *                  commits (an upload that fails fails the write and
 *                  leaves the old object: ATR_E_UFS_DOWN when the store
 *                  does not answer), then its blocks are put in the
 *                  cache: PERSISTED and 100 % in cache.
 *   THROUGH        the same upload, nothing cached: PERSISTED, 0 %.
 *   ASYNC_THROUGH  acknowledged once held on this node as MUST_CACHE is,
 *                  TO_BE_PERSISTED, and queued (a table of the metadata
 *                  store, so the queue survives a crash) for the persist
 *                  worker, which uploads it (retrying with backoff while
 *                  the store is down) and makes it PERSISTED.
 * Read types: CACHE caches the blocks read from the under-storage (a
 * block found on the disk tier is served from there); CACHE_PROMOTE also
 * copies a disk tier's block into memory; NO_CACHE caches nothing new
 * (blocks already in memory are used).
 * DEFAULT: the bucket's mount option (writeType=, readType=), else the
 * daemon's (atr_core_config).
 */
enum atr_write_type {
	ATR_WT_DEFAULT = 0, ATR_WT_MUST_CACHE, ATR_WT_CACHE_THROUGH, ATR_WT_THROUGH,
	ATR_WT_ASYNC_THROUGH
};
enum atr_read_type { ATR_RT_DEFAULT = 0, ATR_RT_CACHE, ATR_RT_CACHE_PROMOTE, ATR_RT_NO_CACHE };
/* Alluxio's names ("MUST_CACHE"...; case-insensitive), or -1. */
int atr_write_type_parse(const char *name);
int atr_read_type_parse(const char *name);
const char *atr_write_type_name(int t);
const char *atr_read_type_name(int t);
/* The write type of w's commit (before atr_put_commit). */
void atr_put_write_type(struct atr_writer *w, enum atr_write_type t);
/* The read type of r's reads (ATR_RT_DEFAULT: the bucket's). */
void atr_get_read_type(struct atr_reader *r, enum atr_read_type t);
/* r is read up to end (exclusive; a ranged GET's): blocks at or past it
 * are never read ahead (docs/architecture.md, "Read-ahead"). Without it,
 * the whole object may be. */
void atr_get_read_until(struct atr_reader *r, uint64_t end);

/* Copying (S3's CopyObject). src is a reader on the source from
 * atr_get_open, which checked read permission and gave its attributes
 * (src_etag among them: check copy conditions on those); the copy becomes
 * bucket/key like a PUT (write permission, name and tree rules, atomic
 * commit replacing what is there) with the stored headers hdrs (may be
 * NULL). The bytes go file to file inside the under-storage where it can
 * (copy_file_range), never whole in memory. The copy's ETag is src_etag
 * when that is an MD5, else the MD5 of the bytes (a multipart source). A
 * key ending in '/' takes only an empty source (else ATR_E_INVALID_ARG).
 * src stays open (its read position is used); out->hdrs is left NULL. */
int atr_object_copy(struct atr_core *c, const struct atr_user *u, struct atr_reader *src,
		    const char *src_etag, const char *bucket, const char *key, const char *hdrs,
		    const char *tags, struct atr_obj *out);
/* The same with options (every field may be 0 or NULL): the ACL the copy
 * is written with (atr_put_acl's rules), and conditions on the object at
 * bucket/key as atr_put_condition says (must_not_exist, if_etag NULL or
 * "*" or a hex ETag): checked before any byte is copied
 * (ATR_E_PRECONDITION, ATR_E_NO_KEY, ATR_E_ACCESS), then atomically with
 * the commit (ATR_E_CONFLICT). */
struct atr_copy_opts {
	const char *hdrs;
	const char *tags;
	const struct atr_acl *acl;
	int must_not_exist;
	const char *if_etag;
	/* The copy's encryption (atr_put_sse; 0: the bucket's default). */
	int sse;
	const unsigned char *sse_key;
	int write_type; /* enum atr_write_type (atr_put_write_type; 0: the default) */
	const struct atr_lock *lock; /* atr_put_lock's, or NULL */
};
int atr_object_copy_with(struct atr_core *c, const struct atr_user *u, struct atr_reader *src,
			 const char *src_etag, const char *bucket, const char *key,
			 const struct atr_copy_opts *o, struct atr_obj *out);

/* Object tags. An object's tag set is kept apart from its bytes and
 * headers, under its ino, as the front end's encoded string (S3's
 * "k1=v1&k2=v2", URL-encoded); the core stores it and never interprets it.
 * A PUT, copy (the tags argument above) or multipart completion gives the
 * new object its tags, none unless given; a rename keeps them; deleting the
 * object drops them. Setting tags leaves the object's version, ETag and
 * mtime alone. */
/* The tags a PUT commits with (copied; before atr_put_commit). */
int atr_put_tags(struct atr_writer *w, const char *tags);
/* Read permission; *tags malloc'd, "" if the object has none. */
int atr_object_tags_get(struct atr_core *c, const struct atr_user *u, const char *bucket,
			const char *key, char **tags);
/* Write permission on the object; NULL or "" removes them. */
int atr_object_tags_set(struct atr_core *c, const struct atr_user *u, const char *bucket,
			const char *key, const char *tags);
/* The tags of o as atr_object_stat or atr_get_open gave it (whose caller
 * may read it): *tags malloc'd, or NULL if none. */
int atr_obj_tags(struct atr_core *c, const struct atr_obj *o, char **tags);

/* Bucket tags, the same kind of opaque string, kept by bucket name and
 * dropped with the bucket. Only the bucket's owner (or the superuser) may
 * read or set them (else ATR_E_ACCESS). get: *tags malloc'd, or NULL if
 * the bucket has none. set: NULL or "" removes them. */
int atr_bucket_tags_get(struct atr_core *c, const struct atr_user *u, const char *bucket,
			char **tags);
int atr_bucket_tags_set(struct atr_core *c, const struct atr_user *u, const char *bucket,
			const char *tags);

/* ---- permissions of buckets and objects (src/perm.c) ----
 *
 * One decision serves every door (docs/permissions.md): the superuser may
 * do anything; else the bucket policy's explicit Deny refuses, its Allow
 * grants; else the POSIX permissions and ACL grants decide: search (x) on
 * every directory above the entry, then r to read it, w (and x) on its
 * directory to create, replace or delete it (with the sticky bit's rule),
 * READ_ACP / WRITE_ACP (the owner always) for its ACL. Block Public
 * Access and Object Ownership apply on top. Refusals are ATR_E_ACCESS.
 */
/* The ACL of the object at bucket/key, or of the bucket when key is NULL
 * or "": needs READ_ACP. */
int atr_acl_get(struct atr_core *c, const struct atr_user *u, const char *bucket,
		const char *key, struct atr_acl *out);
/* Replaces it (WRITE_ACP): the mode and the grants kept beside it both
 * change. ATR_E_ACLS_OFF when the bucket's ownership is BucketOwner-
 * Enforced, ATR_E_ACCESS when Block Public Access refuses a public ACL,
 * ATR_E_INVALID_ARG when acl->owner names someone else. */
int atr_acl_set(struct atr_core *c, const struct atr_user *u, const char *bucket,
		const char *key, const struct atr_acl *acl);
/* The ACL a PUT commits with (before atr_put_commit; copied). Without
 * one, a new object is private (0600) and an object replaced keeps the
 * permissions the old one had. Checked now: ATR_E_ACLS_OFF, ATR_E_ACCESS
 * as atr_acl_set says. */
int atr_put_acl(struct atr_writer *w, const struct atr_acl *acl);

/* Bucket settings, for the bucket's owner (or whom its policy allows).
 * get: ATR_E_NO_CONFIG when not configured. */
int atr_bucket_public_block_get(struct atr_core *c, const struct atr_user *u,
				const char *bucket, int *bits);
/* bits: ATR_PAB_*; < 0 removes the setting. */
int atr_bucket_public_block_set(struct atr_core *c, const struct atr_user *u,
				const char *bucket, int bits);
int atr_bucket_ownership_get(struct atr_core *c, const struct atr_user *u, const char *bucket,
			     int *ownership);
/* enum atr_ownership; < 0 removes the setting (then ObjectWriter holds). */
int atr_bucket_ownership_set(struct atr_core *c, const struct atr_user *u, const char *bucket,
			     int ownership);
/* *json malloc'd, as it was put. */
int atr_bucket_policy_get(struct atr_core *c, const struct atr_user *u, const char *bucket,
			  char **json);
/* Validates the policy (ATR_E_BAD_POLICY, with what is wrong in err) and
 * stores it; ATR_E_ACCESS when Block Public Access refuses a public one.
 * json NULL deletes it. */
int atr_bucket_policy_set(struct atr_core *c, const struct atr_user *u, const char *bucket,
			  const char *json, size_t len, char *err, size_t errsize);
/* Whether the bucket's policy is public (AWS's definition). */
int atr_bucket_policy_status(struct atr_core *c, const struct atr_user *u, const char *bucket,
			     int *is_public);

/* ---- versioning (src/version.c; docs/architecture.md, "Versions") ----
 *
 * S3's object versioning. A bucket is never versioned until its owner
 * sets it Enabled; it can be Suspended then, never unversioned again.
 * In an Enabled bucket every S3 write gives the object a new version id
 * (atr_obj.vid) and keeps the version it replaces as noncurrent; a
 * DELETE without a version id makes a delete marker the latest version
 * (the key is then absent from listings, reads and the mount). In a
 * Suspended one a write or DELETE makes the "null" version, replacing the
 * null version there is. The current version is always the file at the
 * key's path; the others are kept in the private area. Directory markers
 * ("k/") are not versioned. A bucket on a remote store (atr_mount_add)
 * cannot be versioned: ATR_E_NOT_SUPPORTED.
 * Version ids: ATR_VID_MAX lower-case hex digits, or "null";
 * atr_vid_valid says whether vid is one (1) or not (0); atr_vid_match
 * whether an object of id have is the version want names ("null" names
 * the null version, whose id is "" or "null").
 */
enum atr_versioning { ATR_VER_OFF = 0, ATR_VER_ENABLED = 1, ATR_VER_SUSPENDED = 2 };
int atr_vid_valid(const char *vid);
int atr_vid_match(const char *have, const char *want);
/* The bucket's owner's (or whom the policy allows s3:GetBucketVersioning
 * and s3:PutBucketVersioning); set takes ENABLED or SUSPENDED (else
 * ATR_E_INVALID_ARG). */
int atr_bucket_versioning_get(struct atr_core *c, const struct atr_user *u, const char *bucket,
			      int *state);
int atr_bucket_versioning_set(struct atr_core *c, const struct atr_user *u, const char *bucket,
			      int state);
/* atr_object_stat (rd NULL) or atr_get_open of version vid of key (NULL:
 * the latest, as those calls): read permission, s3:GetObjectVersion.
 * ATR_E_NO_VERSION if the key has no such version, ATR_E_DELETE_MARKER
 * (obj->vid set) if it is a delete marker. */
int atr_object_version_open(struct atr_core *c, const struct atr_user *u, const char *bucket,
			    const char *key, const char *vid, struct atr_obj *obj,
			    struct atr_reader **rd);
/* atr_object_tags_get / _set of version vid (NULL: the current one, as
 * those calls; a noncurrent one's are kept with it): s3:GetObjectVersion-
 * Tagging, s3:PutObjectVersionTagging, s3:DeleteObjectVersionTagging.
 * ATR_E_NO_VERSION, ATR_E_DELETE_MARKER as above. */
int atr_object_version_tags_get(struct atr_core *c, const struct atr_user *u,
				const char *bucket, const char *key, const char *vid, char **tags);
int atr_object_version_tags_set(struct atr_core *c, const struct atr_user *u,
				const char *bucket, const char *key, const char *vid,
				const char *tags);
/* atr_acl_get / _set of version vid (NULL: the current one, or the
 * bucket's with key NULL, as those calls; a noncurrent one's mode and
 * grants are kept with it): s3:GetObjectVersionAcl (READ_ACP),
 * s3:PutObjectVersionAcl (WRITE_ACP). ATR_E_NO_VERSION,
 * ATR_E_DELETE_MARKER as above. */
int atr_object_version_acl_get(struct atr_core *c, const struct atr_user *u,
			       const char *bucket, const char *key, const char *vid,
			       struct atr_acl *out);
int atr_object_version_acl_set(struct atr_core *c, const struct atr_user *u,
			       const char *bucket, const char *key, const char *vid,
			       const struct atr_acl *acl);
/* Whether the latest version of key is a delete marker: 1 with its id in
 * vid, else 0. No permission: what S3 says beside a NoSuchKey. */
int atr_object_latest_marker(struct atr_core *c, const char *bucket, const char *key,
			     char vid[ATR_VID_MAX + 1]);
/* ---- Object Lock (src/objlock.c; docs/architecture.md, "Object Lock") ----
 *
 * A bucket with Object Lock enabled (at creation, or later on a versioned
 * bucket: versioning can then never be suspended) gives each version a
 * retention (a mode and a retain-until time) and a legal hold, kept with
 * the version until it is permanently deleted. A new version takes the
 * lock its write asks for (atr_put_lock) or the bucket's default
 * retention. A version under an unexpired COMPLIANCE retention or a legal
 * hold cannot be permanently deleted by anyone, one under GOVERNANCE only
 * with bypass by a user allowed s3:BypassGovernanceRetention
 * (ATR_E_LOCKED); the current version of a locked key cannot be changed
 * in place through the mount or the path view either. A DELETE without a
 * version id still makes a delete marker. Buckets without Object Lock
 * refuse every lock setting: ATR_E_NO_LOCK.
 */
enum atr_lock_mode { ATR_LOCK_NONE = 0, ATR_LOCK_GOVERNANCE = 1, ATR_LOCK_COMPLIANCE = 2 };
struct atr_lock {
	int mode;           /* enum atr_lock_mode; NONE: no retention */
	int64_t until;      /* retain until (ms since the epoch) */
	int hold;           /* legal hold: 1 ON, 0 OFF; -1 not given (atr_put_lock) */
};
/* The bucket's configuration: objlock and the default (mode NONE for
 * none, days or years > 0 else). get: s3:GetBucketObjectLockConfiguration,
 * ATR_E_NO_LOCK if not enabled. set: s3:PutBucketObjectLockConfiguration;
 * enables it on a versioned bucket (ATR_E_NO_LOCK on one never versioned
 * or suspended, unless creating: the bucket just made, whose versioning
 * it turns on), ATR_E_INVALID_ARG for a bad default. */
int atr_bucket_lock_get(struct atr_core *c, const struct atr_user *u, const char *bucket,
			struct atr_bucket *out);
/* Whether bucket has Object Lock (no permission: what a write's headers
 * are answered with first). */
int atr_bucket_has_lock(struct atr_core *c, const char *bucket);
int atr_bucket_lock_set(struct atr_core *c, const struct atr_user *u, const char *bucket,
			int mode, int days, int years, int creating);
/* The lock the next atr_put_commit gives the new version (copied), if u
 * may set it (s3:PutObjectRetention for a mode, s3:PutObjectLegalHold for
 * a hold: the bucket owner's, or whom the policy allows; else
 * ATR_E_ACCESS); any part not given (mode NONE, hold -1) comes from the
 * bucket's default. The commit fails with ATR_E_NO_LOCK in a bucket
 * without Object Lock. atr_object_copy_with and atr_mpu_create_with
 * check their opts' lock the same way. */
int atr_put_lock(struct atr_writer *w, const struct atr_user *u, const struct atr_lock *lock);
/* Version vid's (NULL: the current one) lock: get, s3:GetObjectRetention
 * / s3:GetObjectLegalHold; set_retention: s3:PutObjectRetention, which
 * cannot shorten or change an unexpired COMPLIANCE retention nor an
 * unexpired GOVERNANCE one without bypass (ATR_E_LOCKED);
 * set_hold: s3:PutObjectLegalHold. ATR_E_NO_VERSION, ATR_E_DELETE_MARKER,
 * ATR_E_NO_LOCK as above. */
int atr_object_lock_get(struct atr_core *c, const struct atr_user *u, const char *bucket,
			const char *key, const char *vid, const char *action,
			struct atr_lock *out);
int atr_object_retention_set(struct atr_core *c, const struct atr_user *u, const char *bucket,
			     const char *key, const char *vid, int mode, int64_t until,
			     int bypass);
int atr_object_legal_hold_set(struct atr_core *c, const struct atr_user *u, const char *bucket,
			      const char *key, const char *vid, int hold);

/* S3's DELETE with a version id (vid; NULL for none): with write
 * permission (s3:DeleteObjectVersion with vid, else s3:DeleteObject), as
 * the header above says. out: marker, whether a delete marker was made
 * or deleted, and vid its or the deleted version's id ("" when the
 * bucket is not versioned and none was given). Deleting a missing key
 * succeeds; a missing version is ATR_E_NO_VERSION. bypass: asks that a
 * GOVERNANCE retention not hold (for a user allowed
 * s3:BypassGovernanceRetention; Object Lock above). */
struct atr_delete_result {
	int marker;
	char vid[ATR_VID_MAX + 1];
};
int atr_object_delete_version(struct atr_core *c, const struct atr_user *u, const char *bucket,
			      const char *key, const char *vid, int bypass,
			      struct atr_delete_result *out);
/* atr_object_delete_version without a version id, only if the object at
 * key is still inode ino (atr_obj.ino, as a listing gave it): checked in
 * the delete's transaction, ATR_E_CONFLICT when it was replaced or
 * deleted since (the lifecycle's expiration of what it listed). */
int atr_object_delete_if(struct atr_core *c, const struct atr_user *u, const char *bucket,
			 const char *key, uint64_t ino, struct atr_delete_result *out);
/* ListObjectVersions: every version of the keys with prefix, in S3's
 * order (key ascending, newest first), after (key_marker, vid_marker) —
 * after every version of key_marker without vid_marker; with a
 * delimiter, common prefixes as atr_object_list makes them. Up to max
 * items; *truncated and next_key / next_vid (the last item given, for
 * the next page's markers; next_vid "" after a prefix) as there. Needs
 * s3:ListBucketVersions. Items: obj has no hdrs; vid "null" for the null
 * version. */
struct atr_version_params {
	const char *prefix, *delimiter;
	const char *key_marker, *vid_marker; /* NULL: none */
	int max;
};
struct atr_version_item {
	const char *key;
	int is_prefix;
	int marker;           /* a delete marker */
	int latest;
	const struct atr_obj *obj; /* NULL for a prefix */
};
typedef int (*atr_version_cb)(void *arg, const struct atr_version_item *item);
int atr_object_list_versions(struct atr_core *c, const struct atr_user *u, const char *bucket,
			     const struct atr_version_params *p, atr_version_cb cb, void *arg,
			     int *truncated, char next_key[ATR_KEY_MAX + 2],
			     char next_vid[ATR_VID_MAX + 1]);

/* ---- bucket documents (src/access.c) ----
 *
 * Configurations a front end keeps with a bucket and the core never
 * interprets: the S3 door's CORS configuration, logging status and
 * lifecycle configuration, each
 * one text (up to ATR_BUCKET_DOC_MAX bytes) by bucket name and kind,
 * dropped with the bucket. get and set are the bucket's owner's (or the
 * superuser's, or whom the bucket policy allows action, e.g.
 * "s3:PutBucketCORS"); get: *doc malloc'd, ATR_E_NO_CONFIG if none; set:
 * doc NULL removes it. peek reads one without a permission check, for
 * what the front end does on the bucket's behalf (answering CORS
 * preflights, which S3 serves unauthenticated; delivering access logs),
 * with the bucket's owner (owner may be NULL): ATR_E_NO_BUCKET,
 * ATR_E_NO_CONFIG. atr_bucket_docs_generation changes whenever a
 * document is set or removed (a bucket deleted included, documents
 * going with it), so a front end caching peeks knows to drop its cache.
 */
enum atr_bucket_doc {
	ATR_DOC_CORS = 1, ATR_DOC_LOGGING = 2, ATR_DOC_ENCRYPTION = 3, ATR_DOC_LIFECYCLE = 4
};
/* The one document the core reads: ATR_DOC_ENCRYPTION, the bucket's
 * default encryption, "AES256" (SSE-S3) optionally followed by
 * " bucket-key" (S3's BucketKeyEnabled, kept for GetBucketEncryption);
 * atr_bucket_sse: *sse, the enum atr_sse a new object of bucket gets when
 * its writer asks for none (ATR_SSE_NONE without a document); an error
 * reading it is returned, never taken for "none". */
int atr_bucket_sse(struct atr_core *c, const char *bucket, int *sse);
#define ATR_BUCKET_DOC_MAX (256 * 1024)
int atr_bucket_doc_get(struct atr_core *c, const struct atr_user *u, const char *bucket,
		       int kind, const char *action, char **doc);
int atr_bucket_doc_set(struct atr_core *c, const struct atr_user *u, const char *bucket,
		       int kind, const char *action, const char *doc);
int atr_bucket_doc_peek(struct atr_core *c, const char *bucket, int kind, char **doc,
			char owner[ATR_USER_MAX + 1]);
uint64_t atr_bucket_docs_generation(struct atr_core *c);
/* Whether u may read or change bucket's configuration under action
 * (the owner, the superuser, or whom the bucket policy allows action):
 * ATR_OK, ATR_E_ACCESS, ATR_E_NO_BUCKET. For a setting a front end does
 * not keep and answers with its default (S3's GetBucketWebsite...). */
int atr_bucket_config_check(struct atr_core *c, const struct atr_user *u, const char *bucket,
			    const char *action);

/*
 * The mount table (src/mounts.c; Alluxio's unified namespace): bucket
 * NAME served by a remote S3 store, uri "s3://REMOTE_BUCKET[/PREFIX]",
 * options "key=value" (s3.endpoint, s3.region, s3.accessKeyId,
 * s3.secretKeyFile, s3.secretKey, s3.pathStyle, s3.caBundle, s3.partSize,
 * metadata.sync.interval: docs/configuration.md). Kept in the metadata
 * store, mounted again at every start. Only the superuser mounts,
 * unmounts and lists (else ATR_E_ACCESS).
 * add: a bucket NAME that does not exist is made, owned by u; one that
 * exists must be empty (ATR_E_BUCKET_NOT_EMPTY) and not mounted
 * (ATR_E_EXISTS); a bad uri or option is ATR_E_INVALID_ARG; a remote
 * that does not answer is its error; err (n bytes) says why.
 * remove: the bucket leaves the namespace with what was cached of it;
 * the remote keeps everything. ATR_E_NO_CONFIG if NAME is no mount.
 * list: cb for each mount, options a line each with secrets masked.
 */
int atr_mount_add(struct atr_core *c, const struct atr_user *u, const char *bucket,
		  const char *uri, const char *const *opts, size_t nopts, char *err, size_t n);
int atr_mount_remove(struct atr_core *c, const struct atr_user *u, const char *bucket);
int atr_mount_list(struct atr_core *c, const struct atr_user *u,
		   int (*cb)(void *arg, const char *bucket, const char *uri, const char *options),
		   void *arg);

/* Listing in S3 order: binary order of the whole key. Items are keys, or
 * common prefixes when a delimiter is given (each prefix once). */
struct atr_list_params {
	const char *prefix;     /* "" for all */
	const char *delimiter;  /* NULL or "" for none */
	const char *start;      /* NULL, or where to begin */
	int start_inclusive;    /* 1: start is the first candidate; 0: after it */
	int max;                /* items (keys + prefixes) to return, >= 0 */
};

struct atr_list_item {
	const char *key;        /* key, or the common prefix */
	int is_prefix;
	const struct atr_obj *obj; /* NULL for a prefix; hdrs is NULL */
};

typedef int (*atr_list_cb)(void *arg, const struct atr_list_item *item);
/* Calls cb for up to max items. *truncated says whether more remain;
 * next_start (if non-NULL, ATR_KEY_MAX+2 bytes) receives the inclusive
 * start of the next page when truncated. */
int atr_object_list(struct atr_core *c, const struct atr_user *u, const char *bucket,
		    const struct atr_list_params *p, atr_list_cb cb, void *arg,
		    int *truncated, char *next_start);

/* ---- multipart uploads ----
 *
 * An upload is created for a key, receives numbered parts (1..10000, in any
 * order and in parallel; a part number uploaded again replaces that part),
 * and is then completed into the object, or aborted. Parts are kept in the
 * under-storage's private area, never at the key: nothing is visible before
 * completion, which assembles the named parts into a stage and commits it
 * exactly like a PUT (atomically, replacing any previous object; readers see
 * the whole old or the whole new object). Uploads in progress survive a
 * restart; completed and aborted ones leave no staged bytes behind.
 *
 * Upload IDs are 32 lower-case hex digits, the first 16 the creation time:
 * ordering uploads by (key, upload ID) lists each key's uploads oldest first,
 * as S3 does, and an upload-id-marker compares the way S3 documents. An ID
 * that is malformed, unknown, or belongs to another bucket or key is
 * ATR_E_NO_UPLOAD.
 *
 * Who may: create needs write permission on the bucket; the other calls on
 * an upload are for its initiator, the bucket's owner or the superuser
 * (else ATR_E_ACCESS). Listing uploads needs read permission on the bucket.
 */
#define ATR_UPLOAD_ID_LEN 32
#define ATR_PART_MAX 10000

#define ATR_CHECKSUM_ALG_MAX 31
#define ATR_PART_CHECKSUM_MAX 95

struct atr_mpu {
	char upload_id[ATR_UPLOAD_ID_LEN + 1];
	char key[ATR_KEY_MAX + 1];
	char owner[ATR_USER_MAX + 1]; /* the initiator; owns the completed object */
	int64_t ctime_ns;             /* initiated */
	/* The checksum algorithm its parts carry checksums of, as the front
	 * end named it (atr_mpu_create_checksum); "" for none. */
	char checksum_alg[ATR_CHECKSUM_ALG_MAX + 1];
	/* Encrypted at rest (enum atr_sse): ATR_SSE_S3 or ATR_SSE_C, each
	 * part is stored encrypted and completion makes the object one
	 * encrypted stream (docs/architecture.md, "Encryption at rest"). */
	int sse;
	/* The write type completion commits with (enum atr_write_type;
	 * ATR_WT_DEFAULT: the bucket's, as a PUT's). */
	int write_type;
};

struct atr_mpu_part {
	int number;                  /* 1..ATR_PART_MAX */
	uint64_t size;
	int64_t mtime_ns;
	char etag[ATR_ETAG_MAX + 1]; /* hex MD5 of the part's bytes, no quotes */
	/* Its checksum as the front end gave it (atr_mpu_part_set_checksum),
	 * "" for none: filled by atr_mpu_list_parts, ignored elsewhere. */
	char checksum[ATR_PART_CHECKSUM_MAX + 1];
};

/* hdrs: the stored headers the completed object will carry (may be NULL). */
int atr_mpu_create(struct atr_core *c, const struct atr_user *u, const char *bucket,
		   const char *key, const char *hdrs, char upload_id[ATR_UPLOAD_ID_LEN + 1]);

/* What the completed object will carry besides its bytes (every field may
 * be NULL): stored headers; tags (see object tags below); the ACL it is
 * written with (atr_put_acl's rules, checked now); and the additional
 * checksum algorithm (S3's x-amz-checksum-algorithm on an upload, up to
 * ATR_CHECKSUM_ALG_MAX bytes) its parts carry checksums of: the core keeps
 * the name and the parts' checksum strings and never interprets them, the
 * front end computes and checks them. */
struct atr_mpu_opts {
	const char *hdrs;
	const char *tags;
	const struct atr_acl *acl;
	const char *checksum_alg;
	/* ATR_SSE_S3 or ATR_SSE_C, or ATR_SSE_NONE for the bucket's default.
	 * SSE-C takes sse_key (32 bytes; ATR_E_INVALID_ARG without it or with
	 * it for another mode): the upload keeps only a salted check of it,
	 * and each part and the completion must bring the same key. *sse_out
	 * (if set): what the upload got. */
	int sse;
	const unsigned char *sse_key;
	int *sse_out;
	/* The write type the completed object is committed with (enum
	 * atr_write_type, kept with the upload; 0: the bucket's at completion). */
	int write_type;
	/* The lock the object gets at completion (atr_put_lock), or NULL:
	 * ATR_E_NO_LOCK now in a bucket without Object Lock. */
	const struct atr_lock *lock;
};
int atr_mpu_create_with(struct atr_core *c, const struct atr_user *u, const char *bucket,
			const char *key, const struct atr_mpu_opts *o,
			char upload_id[ATR_UPLOAD_ID_LEN + 1]);

/* Uploading a part works like atr_put_*: begin checks the upload, the part
 * number (ATR_E_INVALID_ARG outside 1..ATR_PART_MAX) and permission and
 * opens a stage; write streams, computing MD5; commit makes the bytes that
 * part of the upload (replacing an earlier upload of the same number) and
 * fills *out; abort discards. Commit and abort free w. A part committed
 * while the upload is being completed waits for the completion, then finds
 * the upload gone (ATR_E_NO_UPLOAD) or, if completion failed, joins it. */
struct atr_part_writer;
/* The encryption of the part's upload (enum atr_sse; for its answer). */
int atr_mpu_part_sse(const struct atr_part_writer *w);
int atr_mpu_part_begin(struct atr_core *c, const struct atr_user *u, const char *bucket,
		       const char *key, const char *upload_id, int number,
		       struct atr_part_writer **out);
/* The same with an SSE-C upload's key (or NULL): another key than the
 * upload's is ATR_E_ACCESS (checked before any byte); the part is
 * encrypted under it, its ETag the MD5 of its ciphertext. An SSE-C
 * upload's writer without the key refuses every byte and the commit
 * (ATR_E_ACCESS), another upload's with a key too (ATR_E_INVALID_ARG):
 * the front end, comparing atr_mpu_part_sse, answers first. */
int atr_mpu_part_begin_key(struct atr_core *c, const struct atr_user *u, const char *bucket,
			   const char *key, const char *upload_id, int number,
			   const unsigned char *sse_key, struct atr_part_writer **out);
int atr_mpu_part_write(struct atr_part_writer *w, const void *data, size_t len);
/* MD5 of everything written so far; valid once writing is over. */
void atr_mpu_part_md5(struct atr_part_writer *w, unsigned char out[16]);
uint64_t atr_mpu_part_size(const struct atr_part_writer *w);
/* The upload's checksum algorithm ("" for none), read by begin. */
const char *atr_mpu_part_checksum_alg(const struct atr_part_writer *w);
/* The part's checksum, kept with it from the commit on (copied; up to
 * ATR_PART_CHECKSUM_MAX bytes, else ATR_E_INVALID_ARG). */
int atr_mpu_part_set_checksum(struct atr_part_writer *w, const char *checksum);
int atr_mpu_part_commit(struct atr_part_writer *w, struct atr_mpu_part *out);
void atr_mpu_part_abort(struct atr_part_writer *w);

typedef int (*atr_mpu_part_cb)(void *arg, const struct atr_mpu_part *p);
/* The parts numbered above after, in order, at most max of them (cb
 * returning non-zero stops); *truncated says whether more remain. upload
 * (may be NULL) receives the upload's own attributes. */
int atr_mpu_list_parts(struct atr_core *c, const struct atr_user *u, const char *bucket,
		       const char *key, const char *upload_id, int after, int max,
		       struct atr_mpu *upload, atr_mpu_part_cb cb, void *arg, int *truncated);

/* Called by completion once the named parts are found valid and assembly
 * begins (done == 0), then after every piece assembled: the S3 door starts
 * its response there and keeps the connection alive. */
typedef void (*atr_progress_cb)(void *arg, uint64_t done, uint64_t total);

/* Completes the upload into its object from the parts named in parts[0..n)
 * (number and etag are read; etag compares case-insensitively). Checked in
 * this order, each failure leaving the upload as it was: n in
 * 1..ATR_PART_MAX (ATR_E_INVALID_ARG); numbers strictly ascending
 * (ATR_E_PART_ORDER); every part there with that ETag (ATR_E_INVALID_PART);
 * every part but the last at least min_part_size bytes
 * (ATR_E_PART_TOO_SMALL). Parts not named are discarded. The object's ETag
 * is atr_mpu_etag() of the named parts. Errors after progress was first
 * called are those of the commit (tree conflicts, I/O). A concurrent
 * completion or abort of the same upload waits for this one.
 * A retry: completing an upload that is gone because it was completed in
 * the last 10 minutes (kept in memory, the last 64 completions; not
 * across a restart), with the same bucket, key and parts (numbers and
 * ETags), by its initiator, the bucket's owner or the superuser, succeeds
 * again without doing anything, out holding only the ino and ETag the
 * object got then (AWS answers such a retry 200 with the object's ETag);
 * otherwise it is ATR_E_NO_UPLOAD. */
int atr_mpu_complete(struct atr_core *c, const struct atr_user *u, const char *bucket,
		     const char *key, const char *upload_id, const struct atr_mpu_part *parts,
		     int n, uint64_t min_part_size, atr_progress_cb progress, void *arg,
		     struct atr_obj *out);

/* The same, the object's stored headers being the upload's followed by
 * extra_hdrs (may be NULL: the front end's whole-object checksum of the
 * parts, for instance). When the upload has a checksum algorithm, the
 * object keeps the named parts' checksums (atr_object_part_checksum).
 * sse_key: an SSE-C upload's customer key (32 bytes), which completion
 * needs (ATR_E_INVALID_ARG without it, ATR_E_ACCESS for another key, both
 * checked first); NULL for any other upload (else ATR_E_INVALID_ARG). */
/* In a versioned bucket, out->vid holds the new version's id from the
 * first progress call on (a response started then can say it). */
int atr_mpu_complete_with(struct atr_core *c, const struct atr_user *u, const char *bucket,
			  const char *key, const char *upload_id, const struct atr_mpu_part *parts,
			  int n, uint64_t min_part_size, const char *extra_hdrs,
			  const unsigned char *sse_key, atr_progress_cb progress, void *arg,
			  struct atr_obj *out);

/* Where part number (1..ATR_PART_MAX, else ATR_E_INVALID_ARG) of object o
 * (from atr_object_stat or atr_get_open) lies: *off and *len. An object
 * completed from a multipart upload keeps its parts' sizes, and *count is
 * how many it has; any other object is one part (number 1, all of it) and
 * *count is 0. ATR_E_INVALID_PART if o has no such part. */
int atr_object_part(struct atr_core *c, const struct atr_obj *o, int number, uint64_t *off,
		    uint64_t *len, int *count);

/* The checksum part number of o was uploaded with, when its upload had a
 * checksum algorithm: the string the front end gave (into out, n bytes,
 * NUL-terminated) and *len, the part's size. ATR_E_NO_KEY if o keeps no
 * part checksums (not a multipart object, or one uploaded without),
 * ATR_E_INVALID_PART if it has no such part. */
int atr_object_part_checksum(struct atr_core *c, const struct atr_obj *o, int number,
			     char *out, size_t n, uint64_t *len);

/* Discards the upload and every part of it. */
int atr_mpu_abort(struct atr_core *c, const struct atr_user *u, const char *bucket,
		  const char *key, const char *upload_id);

/* Uploads in progress in a bucket, ordered by key then upload ID. With a
 * delimiter, the keys whose rest after the prefix contains it roll up into
 * one common prefix each (counted as one item). The listing starts after
 * key_marker: at keys above it, and (when upload_id_marker is non-empty) at
 * uploads of key_marker itself whose ID is above upload_id_marker; a common
 * prefix not above key_marker was listed on an earlier page. */
struct atr_mpu_list_params {
	const char *prefix;           /* "" for all */
	const char *delimiter;        /* NULL or "" for none */
	const char *key_marker;       /* NULL or "" for none */
	const char *upload_id_marker; /* ignored without key_marker */
	int max;                      /* items (uploads + prefixes) to return, >= 0 */
};

struct atr_mpu_item {
	const char *key;              /* the upload's key, or the common prefix */
	int is_prefix;
	const struct atr_mpu *upload; /* NULL for a prefix */
};

typedef int (*atr_mpu_list_cb)(void *arg, const struct atr_mpu_item *it);
int atr_mpu_list(struct atr_core *c, const struct atr_user *u, const char *bucket,
		 const struct atr_mpu_list_params *p, atr_mpu_list_cb cb, void *arg,
		 int *truncated);

/* S3's multipart ETag: hex(md5(md5_1 || ... || md5_n)) "-" n, from the
 * parts' binary MD5s. It is not the MD5 of the object's bytes. */
void atr_mpu_etag(const unsigned char (*md5s)[16], int n, char out[ATR_ETAG_MAX + 1]);

/* ---- file-system view: the admin API and the CLI (src/fs.c) ----
 *
 * Paths name what a mount shows: "/" is the root, "/bk" the bucket bk (a
 * directory), "/bk/a/b" the object "a/b" or else the directory "a/b/" (a
 * marker or an implied directory; implied ones are entries here, unlike in
 * S3 listings). One trailing '/' is ignored; empty, "." and ".." segments
 * are ATR_E_INVALID_KEY. Permissions are the S3 door's: reading a file
 * needs its r bit, listing a directory its r bit, changing anything the w
 * bit of the bucket (buckets are 0755 and belong to their owner).
 *
 * Persistence ("Write and read types" above): every entry of a local
 * bucket is ATR_PERSISTED; a file of a remote bucket written MUST_CACHE
 * is ATR_NOT_PERSISTED, ASYNC_THROUGH ATR_TO_BE_PERSISTED until the
 * persist worker uploads it. Such a file's bytes are on this node:
 * cached is its whole size.
 */
#define ATR_PATH_MAX (2 + ATR_BUCKET_MAX + ATR_KEY_MAX)

enum atr_persist { ATR_PERSISTED, ATR_TO_BE_PERSISTED, ATR_NOT_PERSISTED };
const char *atr_persist_name(enum atr_persist p); /* "PERSISTED"... */

struct atr_entry {
	char path[ATR_PATH_MAX + 1];  /* "/bk/a/b", no trailing '/' */
	struct atr_obj obj;           /* hdrs NULL. A bucket: its owner, 0755, ctime as mtime */
	char group[ATR_USER_MAX + 1]; /* the owner's primary group on this host, else the owner */
	enum atr_persist persist;
	uint64_t cached;              /* bytes of the current version in the block cache */
	int pinned;                   /* atr_fs_pin */
	int64_t ttl_due_ms;           /* atr_fs_set_ttl: when (ms since the epoch), or -1 */
	int ttl_action;               /* enum atr_ttl_action */
	int is_bucket;
	int implicit;                 /* a directory that exists because something lies below */
};

/* Errors: ATR_E_NO_KEY / ATR_E_NO_BUCKET when nothing is at path. */
int atr_fs_stat(struct atr_core *c, const struct atr_user *u, const char *path,
		struct atr_entry *out);

/* The next look at path's bucket (a listing, a stat, a read) asks its
 * under-storage again, whatever the mount point's metadata.sync.interval
 * lets it remember (`atrium fs ls -f`, `fs load --metadata`): objects
 * written, changed or deleted in a remote store behind our back are seen
 * then. Whoever may list the bucket may ask; nothing to do for a local
 * bucket (or the root). */
int atr_fs_refresh(struct atr_core *c, const struct atr_user *u, const char *path);

typedef int (*atr_entry_cb)(void *arg, const struct atr_entry *e);
/* The entries of the directory at path (a file lists as itself); with
 * recursive, everything below it. Order: S3's (the stored keys, directories
 * with their '/'), buckets by name. At most max entries (cb returning
 * non-zero stops); when *truncated, next (ATR_PATH_MAX + 1 bytes) receives
 * an opaque cursor to pass back as start (NULL or "" for the first page). */
int atr_fs_list(struct atr_core *c, const struct atr_user *u, const char *path, int recursive,
		const char *start, int max, atr_entry_cb cb, void *arg, int *truncated, char *next);

/* Makes the directory, and any missing parent, as directory markers;
 * "/bk" creates the bucket. ATR_E_EXISTS if something is at path. */
int atr_fs_mkdir(struct atr_core *c, const struct atr_user *u, const char *path);
/* Removes a file, an empty directory, or with recursive a directory (or a
 * bucket) and everything below. ATR_E_NOT_EMPTY without recursive. */
int atr_fs_remove(struct atr_core *c, const struct atr_user *u, const char *path, int recursive);
/* Moves a file or a directory (and everything below) to dst, which must
 * not exist (ATR_E_EXISTS), keeping inode numbers, owners and cached
 * blocks; across buckets too. Renaming a bucket is ATR_E_NOT_SUPPORTED,
 * a directory into itself ATR_E_INVALID_ARG. */
int atr_fs_rename(struct atr_core *c, const struct atr_user *u, const char *src, const char *dst);
/* mode 0..0777, for the owner (of every entry, with recursive) or the
 * superuser; buckets are always 0755 (ATR_E_NOT_SUPPORTED). */
int atr_fs_chmod(struct atr_core *c, const struct atr_user *u, const char *path, uint32_t mode,
		 int recursive);
/* The superuser only; on a bucket it changes the bucket's owner too. */
int atr_fs_chown(struct atr_core *c, const struct atr_user *u, const char *path,
		 const char *owner, int recursive);

/* Cache and persistence, on a file or every file below a directory (files
 * the user may not read are skipped). files: files done; bytes: bytes
 * brought into (load) or dropped from (free) the cache, or persisted now.
 * free: ATR_E_NOT_PERSISTED at the first file not persisted (its cached
 * bytes are its only copy). persist: uploads the files not persisted
 * now (ATR_E_UFS_DOWN if the remote does not answer: they stay as
 * they were). */
struct atr_cache_op {
	uint64_t files, bytes;
};
int atr_cache_load(struct atr_core *c, const struct atr_user *u, const char *path,
		   struct atr_cache_op *out);
int atr_cache_free(struct atr_core *c, const struct atr_user *u, const char *path,
		   struct atr_cache_op *out);
int atr_fs_persist(struct atr_core *c, const struct atr_user *u, const char *path,
		   struct atr_cache_op *out);
/* Pins and TTLs (Alluxio's fs pin, unpin, setTtl, unsetTtl), on a file
 * or every file below a directory, for users who may write there; kept
 * in the metadata store, gone with the object (a new object at the key,
 * an S3 PUT, has none). A pinned file's cached blocks are never evicted
 * (memory and disk tier) and atr_cache_free refuses it (ATR_E_PINNED).
 * A TTL: ms milliseconds from now the file is deleted (ATR_TTL_DELETE)
 * or its cached blocks freed (ATR_TTL_FREE; not a file that is not
 * persisted or pinned: logged, left as it is) by the persist worker;
 * ms < 0 removes it. files: files done. */
enum atr_ttl_action { ATR_TTL_DELETE = 0, ATR_TTL_FREE = 1 };
int atr_fs_pin(struct atr_core *c, const struct atr_user *u, const char *path, int on,
	       struct atr_cache_op *out);
int atr_fs_set_ttl(struct atr_core *c, const struct atr_user *u, const char *path, int64_t ms,
		   enum atr_ttl_action action, struct atr_cache_op *out);

/* How many bytes of o's current version (ino, version) the cache holds. */
uint64_t atr_cache_bytes(struct atr_core *c, const struct atr_obj *o);

struct atr_ns_totals {
	uint64_t files, dirs, bytes; /* as the metadata last saw them */
	uint64_t uploads;            /* multipart uploads in progress */
	/* Files held on this node only (write types): NOT_PERSISTED, and
	 * TO_BE_PERSISTED (the persist queue's length). */
	uint64_t not_persisted, to_be_persisted;
};
int atr_ns_totals(struct atr_core *c, struct atr_ns_totals *out);

/* ---- the mount's view: inodes (src/node.c) ----
 *
 * The mount addresses the namespace by inode number: ATR_INO_ROOT is the
 * root (the buckets are its directories), every other entry (a bucket's
 * root, a directory, a file, a special file) has the number it keeps for
 * life, across renames and overwrites. Permission checks are the
 * kernel's (default_permissions), from the modes and owners given here;
 * these calls check only what the kernel cannot know (names, emptiness,
 * the tree rules). New entries belong to cred. An S3 user is the host user
 * the id map file names, else the host user of that name (its uid and
 * primary group); a host uid without a name is the user named by its
 * decimal number; any other S3 user gets a uid allocated once (stored, from
 * a range no host account's uid is taken from), its own group.
 *
 * Files opened for writing share one shadow per inode (a stage holding the
 * file's bytes): writes land there, reads of any descriptor of that inode
 * see them, and flush or fsync commits it as a PUT does (atomically, with
 * the MD5 of the whole content as ETag); S3 readers see the last commit,
 * never a half-written file. A file created through the mount is not an
 * S3 object until its first commit. Errors are enum atr_err.
 */
#define ATR_INO_ROOT 1

struct atr_attr {
	uint64_t ino;
	uint32_t mode;      /* S_IFMT type and permission bits */
	uint32_t nlink;
	uint32_t uid, gid;
	uint64_t size, rdev;
	int64_t atime_ns, mtime_ns, ctime_ns;
};

struct atr_cred {
	uint32_t uid, gid;
};

/* Changes made through other doors (S3, the admin API): parent and name of
 * the entry (name NULL for an attribute or content change only) and the
 * inode. changed() may be called with core locks held and must not block;
 * settle() is called by the thread that made the change once those are
 * released, before its call returns to the front end. */
struct atr_watch_ops {
	void (*changed)(void *arg, uint64_t parent, const char *name, uint64_t ino);
	void (*settle)(void *arg);
};
void atr_core_watch(struct atr_core *c, const struct atr_watch_ops *ops, void *arg);
/* Returns once every change already reported to changed() is visible to
 * lookups: changes are reported while being made, under the namespace
 * lock, so a watcher must not act on one (invalidate a cache) before this
 * says it is done, or a lookup could cache the state before it. */
void atr_core_barrier(struct atr_core *c);

/* The kernel's lookup counts (libfuse's): remember once per entry given
 * out (lookup, create, mkdir, mknod, symlink, link, a readdirplus entry),
 * forget what FORGET gives back. An inode an S3 write replaces stays
 * openable, its old bytes whole, while the kernel knows it. */
void atr_node_remember(struct atr_core *c, uint64_t ino);
void atr_node_forget(struct atr_core *c, uint64_t ino, uint64_t nlookup);
int atr_node_getattr(struct atr_core *c, uint64_t ino, struct atr_attr *a);
int atr_node_lookup(struct atr_core *c, uint64_t parent, const char *name, struct atr_attr *a);
/* An entry of a directory and its place in the listing: pos is stable
 * for the entry's life wherever entries come and go (the number of its
 * row: each name of a file has its own), never 0. */
typedef int (*atr_dirent_cb)(void *arg, const char *name, const struct atr_attr *a,
			     uint64_t pos);
/* A page of a directory's entries, in the namespace's order, from the
 * first (after 0) or right after the entry at pos after: at most max
 * (>= 1). *more says whether entries remain after the page. cb returning
 * non-zero stops. ATR_E_NO_KEY if the entry at after is no longer in the
 * directory (then only a listing from the first is possible). */
int atr_node_readdir_page(struct atr_core *c, uint64_t ino, uint64_t after, int max,
			  atr_dirent_cb cb, void *arg, int *more);
/* The directory holding directory ino (".."): ATR_INO_ROOT for a bucket
 * and for the root itself. */
int atr_node_parent(struct atr_core *c, uint64_t ino, uint64_t *parent);
/* mkdir at the root creates a bucket (ATR_E_INVALID_BUCKET for a bad name). */
int atr_node_mkdir(struct atr_core *c, const struct atr_cred *cr, uint64_t parent,
		   const char *name, uint32_t mode, struct atr_attr *a);
/* A regular file (empty, committed at once) or a special file (fifo,
 * socket, device: an empty object to S3). */
int atr_node_mknod(struct atr_core *c, const struct atr_cred *cr, uint64_t parent,
		   const char *name, uint32_t mode, uint64_t rdev, struct atr_attr *a);
/* S3 sees a symlink as an object holding its target. */
int atr_node_symlink(struct atr_core *c, const struct atr_cred *cr, uint64_t parent,
		     const char *name, const char *target, struct atr_attr *a);
/* The target, NUL-terminated, in buf. */
int atr_node_readlink(struct atr_core *c, uint64_t ino, char *buf, size_t size);
int atr_node_unlink(struct atr_core *c, uint64_t parent, const char *name);
int atr_node_rmdir(struct atr_core *c, uint64_t parent, const char *name);
/* A second name for file ino (hard link): both are the same inode and
 * S3 serves the same bytes under both keys; a write through the mount to
 * either is seen through the other, while an S3 PUT or DELETE of one key
 * replaces or removes that name only. ATR_E_NOT_SUPPORTED (EPERM) for a
 * directory or an under-storage without links. */
int atr_node_link(struct atr_core *c, uint64_t ino, uint64_t newparent, const char *newname,
		  struct atr_attr *a);
#define ATR_RENAME_NOREPLACE 1
/* Replaces a file or an empty directory at the destination unless
 * ATR_RENAME_NOREPLACE (then ATR_E_EXISTS). Buckets cannot be renamed. */
int atr_node_rename(struct atr_core *c, uint64_t parent, const char *name, uint64_t newparent,
		    const char *newname, unsigned flags);

struct atr_file;

#define ATR_SET_MODE 1
#define ATR_SET_UID 2
#define ATR_SET_GID 4
#define ATR_SET_SIZE 8
#define ATR_SET_ATIME 16
#define ATR_SET_MTIME 32
struct atr_setattr {
	unsigned valid;
	uint32_t mode, uid, gid;
	uint64_t size;
	int64_t atime_ns, mtime_ns;
};
/* Size changes go through the inode's shadow (its open files', or a
 * short-lived one) and are committed before this returns unless a writer
 * has the file open (then at its flush, its close at the latest). f: the
 * open file the change comes through (ftruncate), or NULL; an open file
 * whose last name is gone (unlinked, replaced) can only be changed
 * through one, and then changes as its open files see it. */
int atr_node_setattr(struct atr_core *c, uint64_t ino, struct atr_file *f,
		     const struct atr_setattr *s, struct atr_attr *a);
int atr_node_statfs(struct atr_core *c, struct statvfs *out);

/*
 * Extended attributes, as the core keeps them; which xattr name stands for
 * which is the mount door's (fuse/xattr.c). An inode has:
 *   - its stored headers (the object's S3 metadata: "Name: value" lines,
 *     which S3 serves at once), got and set by name (case-insensitive; the
 *     core does not interpret them): header_get (ATR_E_NO_KEY if absent,
 *     *val malloc'd), header_set, header_remove (ATR_E_NO_KEY if absent);
 *     atr_node_headers hands over every line (*hdrs malloc'd, NULL for
 *     none) and says what the inode is (*kind, ATR_NODE_*);
 *   - its ETag (atr_node_etag: computed if it is still being; ATR_E_NO_KEY
 *     for a directory or a file not committed yet);
 *   - for a directory whose name is also an S3 object's, kept aside (an
 *     object "a/b" beside "a/b/...", or "a/b/" with bytes: src/ns_int.h,
 *     the side form), that object's size and ETag (atr_node_aside;
 *     ATR_E_NO_KEY for any other inode): the mount shows the directory;
 *     this says the object is there;
 *   - a table of other attributes kept as given: xattr_get, _set,
 *     _remove, and _list (NUL-separated names, malloc'd);
 *   - in a versioned bucket (src/version.c), read-only: its version id
 *     (atr_node_versions with all 0), or every version of its key, one
 *     line each, newest first: "ID SIZE ETAG DATE[ current]", a marker's
 *     "ID delete-marker - DATE" (all 1; *text malloc'd, *len bytes, not
 *     NUL-terminated); ATR_E_NO_KEY for a file without a version id.
 * flags: ATR_XATTR_CREATE (ATR_E_EXISTS if it is there) or
 * ATR_XATTR_REPLACE (ATR_E_NO_KEY if not), as setxattr(2)'s. A change
 * moves the inode's ctime; values too large are ATR_E_TOO_LARGE.
 */
#define ATR_XATTR_CREATE 1
#define ATR_XATTR_REPLACE 2
#define ATR_NODE_DIR 0
#define ATR_NODE_FILE 1
#define ATR_NODE_NEW 2  /* created through the mount, never committed */
int atr_node_header_get(struct atr_core *c, uint64_t ino, const char *name, void **val,
			size_t *len);
int atr_node_header_set(struct atr_core *c, uint64_t ino, const char *name, const void *val,
			size_t len, int flags);
int atr_node_header_remove(struct atr_core *c, uint64_t ino, const char *name);
int atr_node_headers(struct atr_core *c, uint64_t ino, char **hdrs, int *kind);
int atr_node_etag(struct atr_core *c, uint64_t ino, char etag[ATR_ETAG_MAX + 1]);
int atr_node_aside(struct atr_core *c, uint64_t ino, uint64_t *size,
		   char etag[ATR_ETAG_MAX + 1]);
int atr_node_versions(struct atr_core *c, uint64_t ino, int all, char **text, size_t *len);
int atr_node_xattr_get(struct atr_core *c, uint64_t ino, const char *name, void **val,
		       size_t *len);
int atr_node_xattr_set(struct atr_core *c, uint64_t ino, const char *name, const void *val,
		       size_t len, int flags);
int atr_node_xattr_remove(struct atr_core *c, uint64_t ino, const char *name);
int atr_node_xattr_list(struct atr_core *c, uint64_t ino, char **names, size_t *len);

/* Open files. create makes a new file (ATR_E_EXISTS if the name is taken)
 * open for writing; open opens an existing file, for writing with
 * ATR_OPEN_WRITE (and emptied with ATR_OPEN_TRUNC). */
#define ATR_OPEN_WRITE 1
#define ATR_OPEN_TRUNC 2
int atr_node_create(struct atr_core *c, const struct atr_cred *cr, uint64_t parent,
		    const char *name, uint32_t mode, struct atr_file **f, struct atr_attr *a);
int atr_node_open(struct atr_core *c, uint64_t ino, int flags, struct atr_file **f);
/* O_TMPFILE: a new file open for writing, with no name (st_nlink 0),
 * seen by no one until its first link (atr_node_link), which gives it
 * that name and makes it an object at once. parent: the directory it was
 * made in (its group rule). Gone at its last close if never linked. */
int atr_node_tmpfile(struct atr_core *c, const struct atr_cred *cr, uint64_t parent,
		     uint32_t mode, struct atr_file **f, struct atr_attr *a);
/* *got < len only at the end of the file. */
int atr_file_read(struct atr_file *f, void *buf, size_t len, uint64_t off, size_t *got);
int atr_file_write(struct atr_file *f, const void *buf, size_t len, uint64_t off);
/* Commits the inode's shadow if it holds changes (flush, fsync of a file
 * open for writing; a no-op for a reader). */
int atr_file_flush(struct atr_file *f);
void atr_file_close(struct atr_file *f);

/* ---- identities ---- */

/*
 * The users: the credentials file, loaded at start and changed while the
 * daemon runs (atr_idents_add & co., atr_idents_reload). Thread-safe: the
 * table is behind a read-write lock and lookups copy what they find, so
 * nothing a caller holds points into it; the struct atr_idents itself
 * stays put, so a pointer to it (the core's, the S3 door's) stays valid
 * until atr_idents_free. A change rewrites the file first (temporary file
 * beside it, mode 0600, fsync, rename) and is seen only once it is
 * written: ATR_E_IO (logged) leaves both as they were. Secrets are kept as
 * they are: SigV4 derives its signing key from the secret itself.
 */
struct atr_idents;
struct atr_ident {
	char access_key[129];
	char secret[129];
	char user[ATR_USER_MAX + 1];
	char display[128];
	int inactive;           /* the key signs nothing (atrium user disable) */
};

/* A user name (its canonical ID in S3 terms): 1..64 bytes of printable
 * ASCII without space, '/', ':', '*' or '?' (so that it fits in an ARN,
 * an ACL's text form and a SigV2 credential, and is never a pattern). */
int atr_user_name_valid(const char *s, size_t len);

/* Loads a credentials file: "[!]ACCESS_KEY SECRET_KEY USER_ID [DISPLAY
 * NAME...]" per line ('!': an inactive key), '#' comments; a USER_ID
 * atr_user_name_valid refuses, an access key given twice or a file others
 * may read is an error. Returns NULL (and logs why) if unreadable/invalid.
 * A user may have several keys (lines). */
struct atr_idents *atr_idents_load(const char *path);
/* Re-reads the file (SIGHUP) and logs which users came, went or had their
 * keys changed; on an error (logged) the users loaded before stay. */
int atr_idents_reload(struct atr_idents *ids);
const char *atr_idents_path(const struct atr_idents *ids);
/* Creates path (mode 0600) with one admin user with random keys acting as
 * user (the daemon's own user, who owns what is on disk), and returns them
 * in *first. */
int atr_idents_create(const char *path, const char *user, struct atr_ident *first);
/* The users the core knows, to check the principals a bucket policy names
 * (NULL: any name is a user, as in simple mode). ids must outlive c. */
void atr_core_set_users(struct atr_core *c, const struct atr_idents *ids);
/* The name of the user the daemon runs as: the superuser of the namespace. */
const char *atr_core_daemon_user(const struct atr_core *c);
/* The active key access_key, copied to *out: ATR_OK, or ATR_E_NO_KEY (no
 * such key, or an inactive one: it signs nothing). */
int atr_idents_find(const struct atr_idents *ids, const char *access_key, struct atr_ident *out);
/* Whether user has a key (active or not) and, if out is not NULL, the
 * first one, without its secret. ATR_OK or ATR_E_NO_KEY. */
int atr_idents_find_user(const struct atr_idents *ids, const char *user, struct atr_ident *out);
/* Every key, in file order, without secrets: *out is malloc'd (free it). */
int atr_idents_list(const struct atr_idents *ids, struct atr_ident **out, size_t *n);
/* A new user with one new key pair (returned once in *out, secret
 * included). ATR_E_EXISTS if user has keys already, ATR_E_INVALID_ARG for
 * a bad name or display name (display NULL: the name). */
int atr_idents_add(struct atr_idents *ids, const char *user, const char *display,
		   struct atr_ident *out);
/* Every key of user made active (1) or inactive (0). ATR_E_NO_KEY if
 * user has none. */
int atr_idents_set_active(struct atr_idents *ids, const char *user, int active);
/* Replaces every key of user with one new pair (in *out): the old keys
 * stop working at once. ATR_E_NO_KEY if user has none. */
int atr_idents_rotate(struct atr_idents *ids, const char *user, struct atr_ident *out);
/* Removes every key of user. ATR_E_NO_KEY if it has none. Who owns what
 * is the caller's business (the admin API refuses while buckets are the
 * user's). */
int atr_idents_remove(struct atr_idents *ids, const char *user);
void atr_idents_free(struct atr_idents *ids);

/* ---- statistics ---- */

struct atr_stats {
	/* the memory tier: its lookups' hits and misses, evictions, use */
	uint64_t cache_hits, cache_misses, cache_evictions;
	uint64_t cache_bytes, cache_capacity;
	/* blocks read from the under-storage (each once: a memory miss that
	 * waited for another reader's fetch, or hit the disk, is not one) */
	uint64_t cache_fills;
	/* the DISK tier (disk_capacity 0: none): lookups after a memory
	 * miss, evictions, bytes used (block headers included), blocks
	 * dropped as torn or corrupt, failed writes, old versions dropped */
	uint64_t disk_hits, disk_misses, disk_evictions, disk_bytes, disk_capacity;
	uint64_t disk_blocks, disk_corrupt, disk_write_errors;
	uint64_t disk_stale;  /* blocks of old versions dropped when a newer came */
	/* metadata store: point lookups and write transactions, with their
	 * total time (ns; a transaction includes waiting for the write lock),
	 * and WAL checkpoints (made by a thread of their own) */
	uint64_t meta_lookups, meta_lookup_ns, meta_txns, meta_txn_ns;
	uint64_t meta_checkpoints, meta_checkpoint_ns;
	/* the multi-buffer MD5 engine (common/md5mb.h): rounds run, and the
	 * pieces of bodies they hashed (jobs / rounds: how many met) */
	uint64_t md5_rounds, md5_jobs;
};
void atr_core_stats(struct atr_core *c, struct atr_stats *out);

#endif
