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
/* Unmounts and stops; waits for the requests in flight. */
void mount_stop(struct mount *m);

#endif
