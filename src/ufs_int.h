/*
 * ufs — the under-storage driver interface, version 2: an ops table with a
 * version (SQLite's vfs), a small mandatory core every store can do, and
 * capability flags for the rest.
 *
 * What a driver is: a tree of directories and files addressed by paths
 * relative to its root ("bucket/a/b/c": no leading '/', no empty, "." or
 * ".." segment; "" is the root itself), plus a private staging area where
 * new files are written before they get a path. Object bucket/key is the
 * file "bucket/key": data keeps its natural form (docs/architecture.md).
 *
 * The mandatory core (every driver, every op non-NULL; 17 ops): stat,
 * open, pread, close, readdir, mkdir, rmdir, unlink, the stage
 * (stage_open, stage_write, stage_prepare, stage_commit, stage_abort,
 * stage_keep, stage_recover, stage_gc) and free. A local directory, an
 * NFS export and an S3 bucket can all do these: a stage is a temporary
 * file (or a buffered upload) that one step puts at its path, replacing
 * what was there, as a PUT replaces an object.
 *
 * Capabilities (struct ufs's caps; ask with ufs_can): each names a group
 * of ops a driver either implements whole or not at all. What the local
 * driver (ufs_local.c) has: all of them. What a remote S3 bucket can have:
 * SERVER_COPY (UploadPartCopy / CopyObject) and PARTS (parts as objects
 * under a private prefix), not RENAME, LINKS, RANDOM_WRITE or TIMES.
 *
 *   UFS_CAP_RENAME       rename, rename_replace: a file or a whole
 *                        directory moves to another path in one atomic
 *                        step (rename(2)); a crash leaves it at one path or
 *                        the other. Without it: the core's renames (the
 *                        mount's rename, the path view's mv) are
 *                        ATR_E_NOT_SUPPORTED.
 *   UFS_CAP_LINKS        link, stage_link, stage_forget: one file under
 *                        several paths (hard links), and a stage under
 *                        several names so one commit gives them all the
 *                        same new bytes. Without it: the mount's link(2)
 *                        is ATR_E_NOT_SUPPORTED (EPERM).
 *   UFS_CAP_SERVER_COPY  stage_copy: bytes of a file appended to a stage
 *                        inside the store (copy_file_range, a reflink,
 *                        S3's UploadPartCopy), never through this process.
 *                        Without it: the core copies through the block
 *                        cache (CopyObject), or ufs_stage_copy reads and
 *                        appends them itself (the documented fallback).
 *   UFS_CAP_PARTS        part_commit, stage_append_part, part_unlink,
 *                        part_remove_upload, part_readdir: a private area
 *                        of named pieces grouped in sets that survives
 *                        restarts (multipart uploads' parts), and a stage
 *                        assembled from ranges of them. Without it:
 *                        multipart calls are ATR_E_NOT_SUPPORTED.
 *   UFS_CAP_RANDOM_WRITE stage_pwrite, stage_pread, stage_truncate: a stage
 *                        written and read back at any offset and resized
 *                        (the mount's write shadows). Without it: writing
 *                        through the mount is ATR_E_NOT_SUPPORTED; S3's
 *                        writes only append (stage_write).
 *   UFS_CAP_TIMES        utimens, stage_set_mtime: a file's mtime chosen by
 *                        the caller. Without it: setting a time through
 *                        the mount is ATR_E_NOT_SUPPORTED, and a commit's
 *                        file has the time of its commit.
 *   UFS_CAP_STATFS       statfs: the capacity of the store (the mount's
 *                        statfs; ATR_E_NOT_SUPPORTED without it).
 *   UFS_CAP_DIRS_IMPLIED no ops: the store's directories exist because
 *                        of what lies below them (S3's prefixes), so the
 *                        core makes no directory for a commit's parents
 *                        (each would be a marker object others see), and
 *                        mkdir is for directories asked for (the mount's
 *                        mkdir, a PUT of "dir/"). Without it: every
 *                        parent is made before a file goes in.
 *   UFS_CAP_SPARSE       next_data: where the data and the holes of a file
 *                        are (SEEK_DATA/SEEK_HOLE), so hashing and copying
 *                        pass over holes. Without it: all of it is data.
 *
 * The core never calls through the table: it calls the ufs_<op> wrappers
 * below, which ask the capability and answer ATR_E_NOT_SUPPORTED (or take
 * the fallback written at the wrapper) when it is missing, so a driver
 * without an optional op is never a NULL call. ufs_check refuses, at open,
 * a table of another version, a mandatory op missing, or a capability
 * claimed without its ops.
 *
 * Errors: enum atr_err values (0 = ATR_OK). Every driver maps its own
 * (errno, HTTP status) to these: ATR_E_NO_KEY (nothing at the path),
 * ATR_E_PARENT_IS_OBJECT (a file where a directory of the path must be),
 * ATR_E_KEY_IS_PREFIX (a directory where a file must go), ATR_E_EXISTS,
 * ATR_E_NOSPC, ATR_E_QUOTA, ATR_E_FILE_TOO_BIG, ATR_E_READ_ONLY,
 * ATR_E_ACCESS (refused, or a path leaving the root), ATR_E_NOMEM,
 * ATR_E_IO (anything else). Only ATR_E_NO_KEY and ATR_E_PARENT_IS_OBJECT
 * say "not there" (ufs_absent): any other error of stat or open means
 * "unknown", never "gone" (the core then changes no row).
 *
 * Ownership: an op that fails leaves its out-parameters as they were (an
 * *out stays the caller's NULL). A ufs_file is the caller's from a
 * successful open until close; a ufs_stage from a successful stage_open
 * until a successful stage_commit or part_commit, or stage_abort or
 * stage_keep: a commit that fails leaves the stage the caller's, as it
 * was. Strings passed in are borrowed for the call only.
 *
 * Thread-safety: every op may run concurrently with any other, on any
 * thread; one ufs_file or ufs_stage is used by one thread at a time (the
 * caller's locks see to it). Ops never call back into the core, except a
 * readdir's or part_readdir's callback, on the calling thread.
 */
#ifndef SRC_UFS_INT_H
#define SRC_UFS_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include "src/atrium.h"

struct ufs;
struct ufs_file;
struct ufs_stage;

#define UFS_VERSION 2

enum ufs_cap {
	UFS_CAP_RENAME = 1u << 0,
	UFS_CAP_LINKS = 1u << 1,
	UFS_CAP_SERVER_COPY = 1u << 2,
	UFS_CAP_PARTS = 1u << 3,
	UFS_CAP_RANDOM_WRITE = 1u << 4,
	UFS_CAP_TIMES = 1u << 5,
	UFS_CAP_STATFS = 1u << 6,
	UFS_CAP_SPARSE = 1u << 7,
	UFS_CAP_ALL = (1u << 8) - 1, /* every capability with ops */
	UFS_CAP_DIRS_IMPLIED = 1u << 8, /* a property, not an ability */
	UFS_CAP_KNOWN = (1u << 9) - 1,
};

struct ufs_stat {
	int is_dir;
	int is_reg;
	uint64_t size;
	int64_t mtime_ns;
	uint32_t mode;
	uid_t uid;
	uint64_t dev, ino; /* 0 where the store has no such identity */
};

/* Called for each entry of a directory (not "." or ".."). Non-zero stops. */
typedef int (*ufs_dirent_cb)(void *arg, const char *name, const struct ufs_stat *st);

struct ufs_ops {
	int version;      /* UFS_VERSION */
	const char *name; /* "local", "fault"...: for logs */

	/* ---- the mandatory core ---- */

	/* The entry at path, not following a symbolic link in last place. */
	int (*stat)(struct ufs *u, const char *path, struct ufs_stat *st);
	/* Opens the regular file at path for reading, with its stat; the
	 * file read is that version whatever replaces the path later. */
	int (*open)(struct ufs *u, const char *path, struct ufs_file **out, struct ufs_stat *st);
	/* Reads up to len bytes at off; fewer only at the end of the file
	 * (the driver retries short transfers itself), so the core takes a
	 * short read before the size it expects as a file changed behind
	 * its back. -1 on error. */
	ssize_t (*pread)(struct ufs *u, struct ufs_file *f, void *buf, size_t len, uint64_t off);
	void (*close)(struct ufs *u, struct ufs_file *f); /* f may be NULL */
	/* Each entry of the directory at path ("" for the root), in no
	 * particular order; an entry that vanishes meanwhile may be left
	 * out. ATR_E_NO_KEY / ATR_E_PARENT_IS_OBJECT if path is none. */
	int (*readdir)(struct ufs *u, const char *path, ufs_dirent_cb cb, void *arg);
	/* A directory at path (its parent must exist): one there already is
	 * success; a file there is ATR_E_PARENT_IS_OBJECT. */
	int (*mkdir)(struct ufs *u, const char *path);
	/* Removes the empty directory at path; a missing one is success;
	 * ATR_E_BUCKET_NOT_EMPTY if it holds anything. */
	int (*rmdir)(struct ufs *u, const char *path);
	/* Removes the file at path; a missing one is success. */
	int (*unlink)(struct ufs *u, const char *path);

	/*
	 * The stage: a new file, private until it gets its path. stage_open
	 * makes an empty one in the staging area (the local driver:
	 * DATA/ufs/.atrium/tmp, the same file system); stage_write appends.
	 * Nothing of a stage is visible at any path before stage_commit.
	 *
	 * The commit protocol (ns_commit.c) writes metadata first: it asks
	 * stage_prepare for the stage's name and the stat its file will have
	 * once committed (mtime included), records "name becomes path" (an
	 * intent) with the row in one transaction, and only then calls
	 * stage_commit. After a crash, stage_recover carries out the intents
	 * left, then stage_gc removes every other stage. So a stage's name
	 * and contents must survive the process (not the machine: the local
	 * driver does not fsync) until commit or abort. A commit that fails
	 * once its intent is written is not undone but owed: the core keeps
	 * the stage (stage_keep) and carries the intent out again
	 * (stage_recover) before it changes anything else.
	 */
	int (*stage_open)(struct ufs *u, struct ufs_stage **out);
	int (*stage_write)(struct ufs *u, struct ufs_stage *s, const void *buf, size_t len);
	/* The stage's name (a single path segment unique in the staging
	 * area, into name of size bytes) and the stat its file will have at
	 * its path. Writing to the stage afterwards makes that stat stale.
	 * A store that dates the file itself at commit (S3's Last-Modified)
	 * gives its best guess: the core records stage_commit's stat once
	 * the commit is done (ns_commit.c), and only a recovered commit
	 * (stage_recover) keeps the guess, until its next sync. */
	int (*stage_prepare)(struct ufs *u, struct ufs_stage *s, char *name, size_t size,
			     struct ufs_stat *st);
	/* Puts the stage at path in one atomic step, replacing a file there
	 * (a reader sees the old file or the new, never a mix or nothing;
	 * rename(2), or a PUT); fills st with the committed file's stat and
	 * releases s. A directory at path is ATR_E_KEY_IS_PREFIX, a file in
	 * the way of a parent ATR_E_PARENT_IS_OBJECT, a directory of path
	 * missing ATR_E_NO_KEY; on any failure s is left as it was, still
	 * the caller's. */
	int (*stage_commit)(struct ufs *u, struct ufs_stage *s, const char *path,
			    struct ufs_stat *st);
	/* Discards the stage. */
	void (*stage_abort)(struct ufs *u, struct ufs_stage *s);
	/* Releases s, its file staying in the staging area under the name
	 * stage_prepare gave, for stage_recover (or the next stage_gc). */
	void (*stage_keep)(struct ufs *u, struct ufs_stage *s);
	/* Puts the stage named name (stage_prepare's, or stage_link's) at
	 * path as stage_commit does. ATR_E_NO_KEY only if there is no such
	 * stage; ATR_E_PARENT_IS_OBJECT if path cannot be made (a directory
	 * of it missing, or a file in its way).
	 * Used at start-up for the intents a crash left, and after a commit
	 * for the extra names stage_link made. */
	int (*stage_recover)(struct ufs *u, const char *name, const char *path);
	/* Start-up, after recovery: removes every stage left behind. Not
	 * concurrent with any other op. */
	void (*stage_gc)(struct ufs *u);
	/* Releases the driver; every file and stage is closed already. */
	void (*free)(struct ufs *u);

	/* ---- UFS_CAP_RENAME ---- */

	/* Moves the file or directory (with everything below) at from to
	 * to; ATR_E_EXISTS if something is at to (never replaces). */
	int (*rename)(struct ufs *u, const char *from, const char *to);
	/* Moves from over to atomically, as rename(2) does: a file replaces
	 * a file, a directory an empty directory; a crash leaves one or the
	 * other at to, never neither. */
	int (*rename_replace)(struct ufs *u, const char *from, const char *to);

	/* ---- UFS_CAP_LINKS ---- */

	/* Gives the file at from a second path to (ATR_E_EXISTS if taken);
	 * a symbolic link at from is linked as itself. */
	int (*link)(struct ufs *u, const char *from, const char *to);
	/* Gives the stage another name in the staging area (into name of
	 * size bytes), for stage_recover to put at a path after the commit:
	 * one commit can then give several names the same new file. */
	int (*stage_link)(struct ufs *u, struct ufs_stage *s, char *name, size_t size);
	/* Removes a name stage_link made that no commit used. */
	void (*stage_forget)(struct ufs *u, const char *name);

	/* ---- UFS_CAP_SERVER_COPY ---- */

	/* Appends len bytes of src from off to the stage inside the store.
	 * ATR_E_IO if src is shorter than off + len. Holes may stay holes. */
	int (*stage_copy)(struct ufs *u, struct ufs_stage *s, struct ufs_file *src, uint64_t off,
			  uint64_t len);

	/* ---- UFS_CAP_PARTS ----
	 * A private area that survives restarts: sets (upload) of named
	 * pieces (name), both single path segments chosen by the core (the
	 * local driver: DATA/ufs/.atrium/mpu/<upload>/<name>). */

	/* Moves the stage to piece name of set upload (making the set);
	 * fills st and releases s; on failure s stays the caller's. */
	int (*part_commit)(struct ufs *u, struct ufs_stage *s, const char *upload,
			   const char *name, struct ufs_stat *st);
	/* Appends len bytes of the piece from off to the stage, inside the
	 * store where it can. ATR_E_IO if the piece is shorter than off +
	 * len, ATR_E_NO_KEY if it is not there. */
	int (*stage_append_part)(struct ufs *u, struct ufs_stage *s, const char *upload,
				 const char *name, uint64_t off, uint64_t len);
	/* Removes one piece; a missing one is success. */
	int (*part_unlink)(struct ufs *u, const char *upload, const char *name);
	/* Removes a set and every piece in it; a missing set is success. */
	int (*part_remove_upload)(struct ufs *u, const char *upload);
	/* upload NULL: cb for every set; else for every piece of upload. */
	int (*part_readdir)(struct ufs *u, const char *upload, ufs_dirent_cb cb, void *arg);

	/* ---- UFS_CAP_RANDOM_WRITE ----
	 * A stage written and read at any offset (a gap reads as zeros) and
	 * resized; read back, it is the file the commit will make. */

	int (*stage_pwrite)(struct ufs *u, struct ufs_stage *s, const void *buf, size_t len,
			    uint64_t off);
	/* As pread: fewer than len bytes only at the end. -1 on error. */
	ssize_t (*stage_pread)(struct ufs *u, struct ufs_stage *s, void *buf, size_t len,
			       uint64_t off);
	int (*stage_truncate)(struct ufs *u, struct ufs_stage *s, uint64_t size);

	/* ---- UFS_CAP_TIMES ---- */

	/* Sets the times of the file or directory at path; fills st with
	 * its new stat. */
	int (*utimens)(struct ufs *u, const char *path, int64_t atime_ns, int64_t mtime_ns,
		       struct ufs_stat *st);
	/* Gives the stage the mtime its file will have once committed. */
	int (*stage_set_mtime)(struct ufs *u, struct ufs_stage *s, int64_t mtime_ns);

	/* ---- UFS_CAP_STATFS ---- */

	int (*statfs)(struct ufs *u, struct statvfs *out);

	/* ---- UFS_CAP_SPARSE ---- */

	/* The next run of data in f at or after off: [*data, *end); both
	 * UINT64_MAX when only a hole is left. */
	int (*next_data)(struct ufs *u, struct ufs_file *f, uint64_t off, uint64_t *data,
			 uint64_t *end);

	/* ---- optional, any driver ---- */

	/* The capabilities that hold at path, where they differ by path (a
	 * driver made of others: the mux); NULL: caps everywhere. */
	unsigned (*caps_at)(struct ufs *u, const char *path);
	/* From now on, what the driver answers about path and below is what
	 * the store says now, not what it said earlier in the sync period:
	 * directories there look changed (a new mtime) and no remembered stat
	 * is used (`atrium fs ls -f`, `fs load --metadata`). May do more than
	 * path. NULL: nothing to forget (a store whose directories change
	 * their mtime themselves: the local directory). */
	void (*refresh)(struct ufs *u, const char *path);
};

/* A driver instance: drivers embed it first in their own struct. caps
 * is per instance (a wrapper may hide some; a remote driver may learn
 * them from its store) and fixed once the core has it. */
struct ufs {
	const struct ufs_ops *ops;
	unsigned caps; /* enum ufs_cap bits */
};

/* Whether u has every capability in caps. */
static inline int ufs_can(const struct ufs *u, unsigned caps)
{
	return (u->caps & caps) == caps;
}

/* Whether u has every capability in caps at path (ufs_can where the
 * driver's capabilities are one set). */
unsigned ufs_caps_at(struct ufs *u, const char *path);
/* The driver's refresh, if it has one. */
void ufs_refresh(struct ufs *u, const char *path);
static inline int ufs_can_at(struct ufs *u, const char *path, unsigned caps)
{
	return (ufs_caps_at(u, path) & caps) == caps;
}

/* Whether err, from stat or open, says nothing is at the path (rather
 * than the store failing to say). */
static inline int ufs_absent(int err)
{
	return err == ATR_E_NO_KEY || err == ATR_E_PARENT_IS_OBJECT;
}

/* ATR_OK if u's table is version 2, has every mandatory op and every op
 * of each capability it claims; else ATR_E_INTERNAL (logged). */
int ufs_check(const struct ufs *u);
/* "RENAME", "LINKS"...: the name of one capability bit. */
const char *ufs_cap_name(unsigned cap);

/*
 * The calls the core makes (src/ufs.c): ufs_<op>(u, ...) is
 * u->ops-><op>(u, ...) for the mandatory core. For an optional op whose
 * capability u lacks: ATR_E_NOT_SUPPORTED (-1 for the reads; nothing for
 * stage_forget), except where a fallback is written below.
 */
int ufs_stat(struct ufs *u, const char *path, struct ufs_stat *st);
int ufs_open(struct ufs *u, const char *path, struct ufs_file **out, struct ufs_stat *st);
ssize_t ufs_pread(struct ufs *u, struct ufs_file *f, void *buf, size_t len, uint64_t off);
void ufs_close(struct ufs *u, struct ufs_file *f);
int ufs_readdir(struct ufs *u, const char *path, ufs_dirent_cb cb, void *arg);
int ufs_mkdir(struct ufs *u, const char *path);
int ufs_rmdir(struct ufs *u, const char *path);
int ufs_unlink(struct ufs *u, const char *path);
int ufs_stage_open(struct ufs *u, struct ufs_stage **out);
int ufs_stage_write(struct ufs *u, struct ufs_stage *s, const void *buf, size_t len);
int ufs_stage_prepare(struct ufs *u, struct ufs_stage *s, char *name, size_t size,
		      struct ufs_stat *st);
int ufs_stage_commit(struct ufs *u, struct ufs_stage *s, const char *path, struct ufs_stat *st);
void ufs_stage_abort(struct ufs *u, struct ufs_stage *s); /* s may be NULL */
void ufs_stage_keep(struct ufs *u, struct ufs_stage *s);
int ufs_stage_recover(struct ufs *u, const char *name, const char *path);
void ufs_stage_gc(struct ufs *u);
void ufs_free(struct ufs *u); /* u may be NULL */

int ufs_rename(struct ufs *u, const char *from, const char *to);
int ufs_rename_replace(struct ufs *u, const char *from, const char *to);
int ufs_link(struct ufs *u, const char *from, const char *to);
int ufs_stage_link(struct ufs *u, struct ufs_stage *s, char *name, size_t size);
void ufs_stage_forget(struct ufs *u, const char *name);
/* Without UFS_CAP_SERVER_COPY the bytes come through this process: read
 * from src with pread, appended with stage_write (holes become zeros). */
int ufs_stage_copy(struct ufs *u, struct ufs_stage *s, struct ufs_file *src, uint64_t off,
		   uint64_t len);
/* That fallback between two drivers: len bytes of from's file src at off
 * appended to to's stage s. */
int ufs_copy_through(struct ufs *from, struct ufs_file *src, struct ufs *to, struct ufs_stage *s,
		     uint64_t off, uint64_t len);
int ufs_part_commit(struct ufs *u, struct ufs_stage *s, const char *upload, const char *name,
		    struct ufs_stat *st);
int ufs_stage_append_part(struct ufs *u, struct ufs_stage *s, const char *upload,
			  const char *name, uint64_t off, uint64_t len);
int ufs_part_unlink(struct ufs *u, const char *upload, const char *name);
int ufs_part_remove_upload(struct ufs *u, const char *upload);
int ufs_part_readdir(struct ufs *u, const char *upload, ufs_dirent_cb cb, void *arg);
int ufs_stage_pwrite(struct ufs *u, struct ufs_stage *s, const void *buf, size_t len,
		     uint64_t off);
ssize_t ufs_stage_pread(struct ufs *u, struct ufs_stage *s, void *buf, size_t len, uint64_t off);
int ufs_stage_truncate(struct ufs *u, struct ufs_stage *s, uint64_t size);
int ufs_utimens(struct ufs *u, const char *path, int64_t atime_ns, int64_t mtime_ns,
		struct ufs_stat *st);
int ufs_stage_set_mtime(struct ufs *u, struct ufs_stage *s, int64_t mtime_ns);
int ufs_statfs(struct ufs *u, struct statvfs *out);
/* Never fails: without UFS_CAP_SPARSE, or when the driver cannot tell,
 * all of it is data ([off, UINT64_MAX)). */
void ufs_next_data(struct ufs *u, struct ufs_file *f, uint64_t off, uint64_t *data,
		   uint64_t *end);

/* ---- drivers ---- */

/* The local directory driver, every capability. Creates root,
 * root/.atrium/tmp and root/.atrium/mpu; stages a crash left are cleared
 * by stage_gc once the core has recovered (parts stay). */
int ufs_local_new(const char *root, struct ufs **out);
/* --durability=power: every change synced before it returns (the
 * stage's bytes before their rename, a changed directory after). */
void ufs_local_set_durable(struct ufs *u);

/*
 * The local driver as another driver's private area (the S3 driver's):
 * the only coupling between them, so that a remote driver can read the
 * bytes of a stage it uploads. Both need u to be a local driver.
 */
/* Whether u is a local driver (ufs_local_new's). */
int ufs_is_local(const struct ufs *u);
/* The descriptor of stage s (read it with pread: its offset is the
 * stage's append position); -1 if u is not a local driver. Owned by s. */
int ufs_local_stage_fd(struct ufs *u, struct ufs_stage *s);
/* Opens the kept stage named name (stage_prepare's) read-only into *fd,
 * the caller's to close: ATR_E_NO_KEY if there is none,
 * ATR_E_INVALID_ARG if u is not local or name not a stage's name. */
int ufs_local_stage_open(struct ufs *u, const char *name, int *fd);

/*
 * The S3 driver (ufs_s3.c): the tree is a remote S3 bucket (AWS, Ceph RGW,
 * MinIO, another Atrium), under an optional key prefix; path "a/b/c" is
 * key PREFIX/a/b/c, "" the root (the bucket or prefix itself). Its
 * private area (stages and parts) is a local driver's (private, borrowed,
 * outliving it): a stage is written locally and its commit uploads it
 * (PutObject, or a multipart upload above part_size) before releasing it,
 * so stage_commit and stage_recover are the only ops that move bytes up.
 * Capabilities: PARTS and RANDOM_WRITE (from the private area); not
 * RENAME, LINKS, TIMES, SERVER_COPY, STATFS, SPARSE.
 *
 * Directories are implicit, as S3 has them: a directory is a common
 * prefix (or a "dir/" marker object, which mkdir makes and rmdir removes).
 * A directory's mtime is the start of the current sync period
 * (sync_interval_ms: 0 always a new one, -1 never, N every N ms), so the
 * core's mtime-driven metadata sync (ns_sync.c) re-lists a remote
 * directory once per period; a file's stat may be answered from what the
 * last listing or HEAD said within the same period.
 *
 * The secret is copied and never logged; every request is signed with
 * SigV4 (common/sigv4.h); 5xx, SlowDown and timeouts are retried with
 * backoff; connections are reused (src/ufs_s3_http_int.h).
 *
 * private_area must be a local driver (ufs_is_local): stages are read
 * through ufs_local_stage_fd / ufs_local_stage_open. Errors, besides the
 * common ones: a missing remote bucket is ATR_E_NO_BUCKET (never
 * "absent": the core must not forget the rows of a bucket it cannot
 * reach), a refused request (403, a wrong secret) ATR_E_ACCESS, the
 * store unreachable after the retries ATR_E_IO. A file opened and then
 * replaced remotely fails its next pread (If-Match, and the answer's
 * ETag compared). ufs_s3_new: ATR_E_INVALID_ARG for a missing bucket or
 * credential, a prefix with a leading or trailing '/', an endpoint that
 * is not scheme://host[:port], or a private area that is not local.
 */
struct ufs_s3_config {
	const char *endpoint;     /* "http://127.0.0.1:9000"; NULL: AWS for region */
	const char *region;       /* NULL: "us-east-1" */
	const char *bucket;       /* the remote bucket */
	const char *prefix;       /* NULL or "" or "a/b": no leading or trailing '/' */
	const char *access_key;
	const char *secret;
	int path_style;           /* 1: http://host/bucket/key; 0: http://bucket.host/key */
	const char *ca_bundle;    /* NULL: the system's trust store */
	uint64_t part_size;       /* 0: 8 MiB; larger stages go up as multipart */
	int parallel_parts;       /* 0: 4 */
	int64_t sync_interval_ms; /* -1 never, 0 always, N: every N ms */
};

int ufs_s3_new(const struct ufs_s3_config *cfg, struct ufs *private_area, struct ufs **out);

/* The mux (ufs_mux.c): one tree of several drivers. It owns local (the
 * root, the private area, every bucket not attached elsewhere); attach
 * gives it driver (made over local as its private area) for bucket NAME,
 * paths "NAME/rest" going to it as "rest" (ATR_E_EXISTS if NAME has one);
 * detach takes it back (ATR_E_NO_KEY if none), freed once its last open
 * file is closed. */
int ufs_mux_new(struct ufs *local, struct ufs **out);
int ufs_mux_attach(struct ufs *mux, const char *bucket, struct ufs *driver);
int ufs_mux_detach(struct ufs *mux, const char *bucket);

/* The fault-injecting driver for tests: src/ufs_fault_int.h. */

#endif
