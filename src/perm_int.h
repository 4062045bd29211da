/*
 * perm_int.h — who may do what: ACLs as the core keeps them (acl.c) and
 * the one permission decision every door's call goes through (perm.c).
 * docs/permissions.md is the user's page of the same model.
 *
 * An entry's permissions are its row's owner, gid and mode, plus (when the
 * row has has_acl) grants kept beside them in acls: the S3 grants POSIX
 * cannot say (named users, the AllUsers and LogDelivery groups, the ACP
 * permissions). atrium.h's ACL section says how S3's grants and the mode
 * bits map onto each other; acl_apply and acl_render are that mapping.
 *
 * Thread-safety: pure functions, but for perm_* (which read the metadata
 * store and the bucket policy cache, thread-safe themselves).
 */
#ifndef SRC_PERM_INT_H
#define SRC_PERM_INT_H

#include <stdint.h>

#include "src/atrium.h"
#include "src/meta_int.h"

/* What a call needs of an entry, POSIX's bits and S3's two more. */
#define PERM_X 1        /* search a directory */
#define PERM_W 2
#define PERM_R 4
#define PERM_RACP 8     /* read the ACL */
#define PERM_WACP 16    /* change the ACL */
#define PERM_OWNER 32   /* what only the owner may (bucket settings, chmod) */

/* ---- ACLs (acl.c) ---- */

/* The stored form of grants: a line per grant, "<kind> <perm> [<user>]",
 * kind u (a user), a (AllUsers), t (AuthenticatedUsers), l (LogDelivery).
 * At most ACL_TEXT_MAX bytes. */
#define ACL_TEXT_MAX (ATR_ACL_MAX * (ATR_USER_MAX + 8))

/* An ACL on an entry owned by owner in a bucket owned by bucket_owner:
 * the mode bits it stands for (07777 & ~0777 of *mode are kept) and the
 * grants to keep beside them (*text malloc'd, NULL when the mode says
 * everything). Canned placeholders are resolved. */
int acl_apply(const struct atr_acl *acl, const char *owner, const char *bucket_owner,
	      int is_dir, uint32_t *mode, char **text);
/* The ACL S3 shows of an entry: its owner's and AuthenticatedUsers'
 * grants from the mode, then the kept ones (text may be NULL). */
void acl_render(const char *owner, uint32_t mode, const char *text, int is_dir,
		struct atr_acl *out);
/* The PERM_* bits kept grants give: to user (NULL for an anonymous
 * request), with mode's other bits gating AllUsers' READ and WRITE.
 * ignore_public drops the AllUsers and AuthenticatedUsers grants. */
unsigned acl_grants_to(const char *text, const char *user, uint32_t mode, int is_dir,
		       int ignore_public);
/* An ACL as text (the same lines, canned placeholders as kinds o and b)
 * and back, to keep one until it is applied (a multipart upload's). */
int acl_encode(const struct atr_acl *acl, char **text);
void acl_decode(const char *text, struct atr_acl *out);
/* Whether the kept grants hold one to AllUsers or AuthenticatedUsers. */
int acl_text_is_public(const char *text);
/* The owner of what u writes into b with acl (NULL: none): the writer,
 * or the bucket's owner when its Object Ownership says so (or the request
 * is anonymous); into out. */
void acl_owner(const struct atr_user *u, const struct atr_bucket *b, const struct atr_acl *acl,
	       char out[ATR_USER_MAX + 1]);
/* Whether the bucket takes acl (Object Ownership, Block Public Access):
 * ATR_OK, ATR_E_ACLS_OFF or ATR_E_ACCESS. */
int acl_allowed(const struct atr_bucket *b, const struct atr_acl *acl);
/* The ACL S3 shows of an entry of b (owner, mode, kept grants text):
 * acl_render's, or the bucket owner's full control alone when b's ACLs
 * are off. */
void acl_view(const struct atr_bucket *b, const char *owner, uint32_t mode, const char *text,
	      int is_dir, struct atr_acl *out);
/* acl replacing the ACL of an entry of b owned by owner: acl_allowed,
 * the owner unchanged (ATR_E_INVALID_ARG), then acl_apply on *mode (its
 * bits above 0777 kept). */
int acl_replace(const struct atr_bucket *b, const struct atr_acl *acl, const char *owner,
		int is_dir, uint32_t *mode, char **text);

/* ---- the decision (perm.c) ---- */
struct atr_core;

/*
 * May u do action on bucket/key? target is the entry the permission is
 * taken from (its row; NULL for the bucket's root, then b's), want the
 * PERM_* bits it must give; search (x) on every directory above dirs_of
 * (a key whose '/'-terminated prefixes are those directories; "" or NULL
 * for none) is needed too. b is the bucket as perm_bucket read it.
 * ATR_OK or ATR_E_ACCESS (or an I/O error).
 */
int perm_check(struct atr_core *c, const struct atr_user *u, const char *action,
	       const struct atr_bucket *b, const char *key, const struct meta_row *target,
	       const char *dirs_of, unsigned want);
/* perm_check of a noncurrent version of key: o its owner and mode, acl
 * the grants kept with it (NULL: none). */
int perm_check_version(struct atr_core *c, const struct atr_user *u, const char *action,
		       const struct atr_bucket *b, const char *key, const struct atr_obj *o,
		       const char *acl, unsigned want);
/* The bucket name checked and the bucket found (a bucket directory met in
 * the UFS is imported), and unless want is 0, u allowed action on it
 * (wanting the PERM_* bits want of its root); out (may be NULL) receives
 * it. What every view's call starts with. */
int perm_bucket(struct atr_core *c, const struct atr_user *u, const char *name,
		const char *action, unsigned want, struct atr_bucket *out);
/* The object at bucket/key as the kernel finds it (ns_find: synced, with
 * fp its file open, with etag its ETag settled), if u may do action on it
 * (wanting the PERM_* bits want of it, and search above it). A key that
 * is not there is ATR_E_NO_KEY for who may list the bucket, ATR_E_ACCESS
 * for others, as S3 says. */
struct ufs_file;
int perm_find(struct atr_core *c, const struct atr_user *u, const char *action, unsigned want,
	      const char *bucket, const char *key, struct meta_row *row, struct ufs_file **fp,
	      int etag);
/* The permission to create, replace or delete key: w and x on the
 * directory key is in (its nearest existing one: implied directories are
 * made with its permissions), search above it, and in a sticky directory
 * the sticky bit's rule against what is at key now. */
int perm_write_key(struct atr_core *c, const struct atr_user *u, const char *action,
		   const struct atr_bucket *b, const char *key);
/* The owner and permissions a new implied directory below dir (its row,
 * or NULL for the bucket's root, then b's) takes: copied into r. */
void perm_inherit(const struct atr_bucket *b, const struct meta_row *dir, struct meta_row *r);

/* The permissions of directory dirkey ("" the bucket's root) changed from
 * before's to after's (with new_text, its kept grants changed too: to
 * after_text, NULL for none): the
 * implied directories below it that had its old permissions follow (they
 * were made with them; one changed on its own keeps its own). Under
 * ns_lock, in a transaction; tells the mount. */
int perm_follow(struct atr_core *c, const char *bucket, const char *dirkey,
		const struct meta_row *before, const struct meta_row *after, int new_text,
		const char *after_text);

/* For listings: whether u may see the entries directly in directory
 * dirkey ("" the bucket's root) — r and x on it, x above it, or the
 * bucket policy allowing the listing's action ("s3:ListBucket",
 * "s3:ListBucketVersions") on the bucket. Remembers its answers per
 * directory; lv is the listing's, perm_view_release frees it. */
struct perm_view;
int perm_view_new(struct atr_core *c, const struct atr_user *u, const struct atr_bucket *b,
		  const char *action, struct perm_view **out);
int perm_view_dir(struct perm_view *v, const char *dirkey);
void perm_view_release(struct perm_view *v);

/* What the bucket policy of b says of u doing action on key (NULL: the
 * bucket): -1 an explicit Deny, 1 an Allow, 0 nothing. A bucket without a
 * policy says nothing. RestrictPublicBuckets narrows a public policy's
 * Allow to the bucket's owner. */
int perm_policy(struct atr_core *c, const struct atr_user *u, const char *action,
		const struct atr_bucket *b, const char *key);
/* Validates policy json for bucket (ATR_E_BAD_POLICY with what is wrong
 * in err) and says whether it is public. */
int perm_policy_parse(struct atr_core *c, const char *bucket, const char *json, size_t len,
		      int *is_public, char *err, size_t errsize);
/* The bucket's policy changed or is gone: forget the parsed one. */
void perm_policy_forget(struct atr_core *c, const char *bucket);
/* The cache of parsed policies (atr_core_open / atr_core_close). */
int perm_open(struct atr_core *c);
void perm_close(struct atr_core *c);

/* The name of what u is: the owner of what u creates in bucket b (the
 * bucket's owner for an anonymous request). */
const char *perm_owner_name(const struct atr_user *u, const struct atr_bucket *b);

#endif
