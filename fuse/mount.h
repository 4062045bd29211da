/*
 * mount — the namespace as a FUSE file system (libfuse3, low-level API),
 * served by threads of atriumd next to the S3 door, over the same core.
 */
#ifndef FUSE_MOUNT_H
#define FUSE_MOUNT_H

#include "src/atrium.h"

struct mount;

/* Mounts the core at dir (created if missing; a stale mount left there by
 * a crash is detached first) and starts serving it. options: extra mount
 * options, comma-separated, or NULL. NULL on failure (logged). */
struct mount *mount_start(struct atr_core *core, const char *dir, const char *options);
/* Unmounts and stops; waits for the requests in flight. */
void mount_stop(struct mount *m);

#endif
