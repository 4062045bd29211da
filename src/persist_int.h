/*
 * persist_int.h — the core's side of write types, persistence states and
 * the persist worker (src/persist.c; the public part is src/atrium.h,
 * "Write and read types").
 *
 * Thread-safety: every call may run on any thread. persist_plan and the
 * type lookups read the mount table (one point read of the store);
 * persist_ino takes ns_lock itself (never call it with ns_lock held);
 * persist_kick takes only the worker's leaf lock (callable under ns_lock).
 */
#ifndef SRC_PERSIST_INT_H
#define SRC_PERSIST_INT_H

#include <stdint.h>

#include "src/core_int.h"

/* What a commit does with its stage (persist_plan). */
enum persist_plan {
	PLAN_RENAME,       /* a local bucket: rename into place, PERSISTED */
	PLAN_UPLOAD_CACHE, /* CACHE_THROUGH: upload before the transaction commits, then cache */
	PLAN_UPLOAD,       /* THROUGH: the upload alone */
	PLAN_HOLD,         /* MUST_CACHE: held on this node, NOT_PERSISTED */
	PLAN_HOLD_QUEUE,   /* ASYNC_THROUGH: held, TO_BE_PERSISTED, queued */
};

/* Whether bucket lives in a remote store (a mount, src/mounts.c). */
int persist_remote(struct atr_core *c, const char *bucket);
/* The type in force: requested (> 0), else the bucket's mount option,
 * else the daemon's default. */
int persist_write_type(struct atr_core *c, const char *bucket, int requested);
int persist_read_type(struct atr_core *c, const char *bucket, int requested);
/* enum persist_plan for a commit of bytes into bucket. */
int persist_plan(struct atr_core *c, const char *bucket, int requested);

/* Puts the size bytes of fd (an object's (ino, version)) in the cache. */
int persist_cache_fd(struct atr_core *c, uint64_t ino, uint64_t version, uint64_t size, int fd);

/* Uploads the held bytes of inode ino to its remote key and makes it
 * PERSISTED (adding its size to *bytes if not NULL). ATR_OK also when
 * there is nothing to do (persisted, replaced, deleted); ATR_E_UFS_DOWN
 * when the store does not answer (the object stays as it was). */
int persist_ino(struct atr_core *c, uint64_t ino, uint64_t *bytes);

/* The worker: started after recovery, stopped before the store closes. */
int persist_open(struct atr_core *c);
void persist_close(struct atr_core *c);
/* Wakes the worker (a commit queued something). */
void persist_kick(struct atr_core *c);
/* The block cache's pinned inodes from the store again (after a pin or
 * unpin; the worker also does it at each wake-up, so pins of objects
 * deleted meanwhile go within IDLE_MS). */
void persist_pins_reload(struct atr_core *c);
/* Entries on the queue. */
int persist_queued(struct atr_core *c, uint64_t *n);

/* (mounts.c) The writeType= and readType= options of bucket's mount (0
 * where not set); ATR_E_NO_KEY if bucket is not mounted. */
int mounts_types(struct atr_core *c, const char *bucket, int *wt, int *rt);

#endif
