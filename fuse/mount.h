/*
 * mount — the namespace as a FUSE file system (libfuse3, low-level API),
 * served by threads of atriumd next to the S3 door, over the same core.
 */
#ifndef FUSE_MOUNT_H
#define FUSE_MOUNT_H

#include <stdint.h>

#include "src/atrium.h"

struct mount;

/* Mounts the core at dir (created if missing; a stale mount left there by
 * a crash is detached first) and starts serving it. options: extra mount
 * options, comma-separated, or NULL. NULL on failure (logged). */
/* Called once a request is answered: the operation's name (a string
 * literal: "lookup", "read"...), 0 or the errno replied, bytes written
 * into and read from the mount, and the time taken. */
typedef void (*mount_observe_fn)(void *arg, const char *op, int err, uint64_t bytes_in,
				 uint64_t bytes_out, int64_t duration_ns);

struct mount *mount_start(struct atr_core *core, const char *dir, const char *options,
			  mount_observe_fn observe, void *observe_arg);
/* Files open for writing through the mount now: a graceful stop waits
 * for them to be closed (and so committed) before it calls mount_stop. */
int mount_writers(struct mount *m);
/* 0 once the FUSE session has ended (readiness); 0 for NULL. */
int mount_alive(struct mount *m);
/* Stops: commits what files still open for writing hold, unmounts (as
 * root cleanly; lazily, logged, only if something still holds the mount
 * — those holders then get ENOTCONN; as another user through fusermount3)
 * and waits for the requests in flight. */
void mount_stop(struct mount *m);

#endif
