/*
 * xattr — the mount's extended attribute names and what they stand for in
 * the core (src/atrium.h, "Extended attributes"):
 *   user.s3.etag             the object's ETag, read-only;
 *   user.s3.content_type     its stored Content-Type (S3's default when it
 *                            has none: a file always has one);
 *   user.s3.meta.NAME        its stored x-amz-meta-NAME header;
 *   any other user. name     kept as given in the inode's table;
 * other user.s3. names do not exist; other namespaces (security.,
 * system., trusted.) are not kept: ATR_E_NOT_SUPPORTED, which tells ls
 * and cp there are no labels or ACLs here, so they stop asking. S3's
 * headers must be header text: a NAME that is not an HTTP token, or a
 * value with a control character, is ATR_E_INVALID_ARG.
 * flags are setxattr(2)'s. Returns the core's errors.
 */
#ifndef FUSE_XATTR_H
#define FUSE_XATTR_H

#include <stddef.h>
#include <stdint.h>

#include "src/atrium.h"

int xattr_get(struct atr_core *c, uint64_t ino, const char *name, void **val, size_t *len);
int xattr_set(struct atr_core *c, uint64_t ino, const char *name, const void *val, size_t len,
	      int flags);
int xattr_remove(struct atr_core *c, uint64_t ino, const char *name);
/* NUL-separated names, malloc'd. */
int xattr_list(struct atr_core *c, uint64_t ino, char **names, size_t *len);

#endif
