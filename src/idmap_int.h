/*
 * idmap_int.h — S3 users as host users and back (src/idmap.c says the
 * rules; docs/permissions.md, "Users and host ids", is the user's page).
 * Thread-safe.
 */
#ifndef SRC_IDMAP_INT_H
#define SRC_IDMAP_INT_H

#include <stdint.h>

#include "src/atrium.h"

/* Where allocated ids come from unless --id-range says otherwise: 2^30 up,
 * far above the ids Debian hands out to accounts (1000-59999). */
#define IDMAP_FIRST 0x40000000u
#define IDMAP_LAST 0x4fffffffu
/* What a name maps to while it cannot be allocated (uid_t -2, "nobody" of
 * old NFS): no group check ever matches it. */
#define IDMAP_NONE 0xfffffffeu

struct atr_core;
/* path: the id map file (NULL or "": none); first..last: the range ids
 * are allocated from (0, 0: the default). */
int idmap_open(struct atr_core *c, const char *path, uint32_t first, uint32_t last);
void idmap_close(struct atr_core *c);
/* The host uid and gid of S3 user name (allocating them if it has none). */
void idmap_ids(struct atr_core *c, const char *name, uint32_t *uid, uint32_t *gid);
/* The S3 user host uid uid is. */
void idmap_name(struct atr_core *c, uint32_t uid, char out[ATR_USER_MAX + 1]);

#endif
