/*
 * objlock — S3 Object Lock's view (src/atrium.h, "Object Lock"): a
 * bucket's configuration, a version's retention and legal hold, and the
 * lock a write asks for. Permissions are decided here; the one check that
 * a locked version stays (ns_lock_check) and a new version's lock
 * (ns_lock_new) are the kernel's (src/ns_version.c), inside the
 * transactions that delete or write versions.
 */
#include <stdio.h>
#include <string.h>

#include "common/timefmt.h"
#include "src/ns_int.h"
#include "src/perm_int.h"
#include "common/banned.h"

static int64_t now_ms(void)
{
	return time_now_ns() / 1000000;
}

/* ---- the bucket ---- */

int atr_bucket_lock_get(struct atr_core *c, const struct atr_user *u, const char *bucket,
			struct atr_bucket *out)
{
	int rc = perm_bucket(c, u, bucket, "s3:GetBucketObjectLockConfiguration", PERM_OWNER, out);
	return rc ? rc : out->objlock ? ATR_OK : ATR_E_NO_LOCK;
}

int atr_bucket_has_lock(struct atr_core *c, const char *bucket)
{
	struct atr_bucket b;
	return !meta_bucket_get(c->meta, bucket, &b) && b.objlock;
}

struct block_args {
	const char *bucket;
	int mode, days, years, creating;
};

static int block_fn(struct atr_core *c, void *arg)
{
	struct block_args *a = arg;
	struct atr_bucket b;
	int rc = meta_bucket_get(c->meta, a->bucket, &b);
	if (rc)
		return rc;
	/* Enabling it on an existing bucket takes versioning Enabled (AWS
	 * now allows that); at creation it turns versioning on. */
	if (!b.objlock && !a->creating && b.versioning != ATR_VER_ENABLED)
		return ATR_E_NO_LOCK;
	return meta_bucket_lock_set(c->meta, a->bucket, a->mode, a->days, a->years);
}

int atr_bucket_lock_set(struct atr_core *c, const struct atr_user *u, const char *bucket,
			int mode, int days, int years, int creating)
{
	/* A default retention is a mode and days or years, not both. */
	int period_ok = (days > 0) != (years > 0) && days <= 36500 && years <= 100;
	if (mode == ATR_LOCK_NONE ? days || years
				  : (mode != ATR_LOCK_GOVERNANCE && mode != ATR_LOCK_COMPLIANCE) ||
					    !period_ok)
		return ATR_E_INVALID_ARG;
	int rc = perm_bucket(c, u, bucket, "s3:PutBucketObjectLockConfiguration", PERM_OWNER, NULL);
	if (rc)
		return rc;
	if (!ufs_can_at(c->ufs, bucket, UFS_CAP_RENAME | UFS_CAP_LINKS))
		return ATR_E_NOT_SUPPORTED; /* no versions there (src/version.c) */
	struct block_args a = { bucket, mode, days, years, creating };
	return ns_txn(c, block_fn, &a);
}

int obj_lock_may(struct atr_core *c, const struct atr_user *u, const char *bucket,
		 const struct atr_lock *lock)
{
	int rc = ATR_OK;
	if (lock && lock->mode)
		rc = perm_bucket(c, u, bucket, "s3:PutObjectRetention", PERM_OWNER, NULL);
	if (!rc && lock && lock->hold >= 0)
		rc = perm_bucket(c, u, bucket, "s3:PutObjectLegalHold", PERM_OWNER, NULL);
	return rc;
}

int atr_put_lock(struct atr_writer *w, const struct atr_user *u, const struct atr_lock *lock)
{
	int rc = obj_lock_may(w->c, u, w->bucket, lock);
	if (!rc)
		w->lock = *lock;
	return rc;
}

/* ---- a version's ---- */

/* The version vid of key (NULL: the current one) that u may act on
 * (action: owner by default, or the bucket policy), with its id in id
 * ("" for the null version); ATR_E_NO_LOCK if the bucket has no Object
 * Lock. */
static int lock_target(struct atr_core *c, const struct atr_user *u, const char *bucket,
		       const char *key, const char *vid, const char *action,
		       char id[ATR_VID_MAX + 1])
{
	struct atr_obj o = { 0 };
	struct atr_bucket b;
	int rc = perm_bucket(c, u, bucket, action, PERM_OWNER, &b);
	if (rc)
		return rc;
	if (!b.objlock)
		return ATR_E_NO_LOCK;
	if ((rc = atr_object_version_open(c, u, bucket, key, vid, &o, NULL)))
		return rc;
	snprintf(id, ATR_VID_MAX + 1, "%s", o.vid);
	atr_obj_release(&o);
	return ATR_OK;
}

int atr_object_lock_get(struct atr_core *c, const struct atr_user *u, const char *bucket,
			const char *key, const char *vid, const char *action,
			struct atr_lock *out)
{
	char id[ATR_VID_MAX + 1];
	int rc = lock_target(c, u, bucket, key, vid, action, id);
	if (rc)
		return rc;
	rc = meta_lock_get(c->meta, bucket, key, id, out);
	return rc == ATR_E_NO_KEY ? ATR_OK : rc; /* none: mode NONE, hold 0 */
}

struct olock_args {
	const char *bucket, *key, *id;
	int mode, hold, bypass; /* hold -1: a retention change */
	int64_t until;
};

/* A retention may always be made longer in its mode; shortened, removed
 * or its mode changed while it holds: never in COMPLIANCE, with bypass
 * in GOVERNANCE. */
static int retention_may(const struct atr_lock *old, const struct olock_args *a)
{
	if (!old->mode || old->until <= now_ms())
		return ATR_OK;
	if (a->mode == old->mode && a->until >= old->until)
		return ATR_OK;
	return old->mode == ATR_LOCK_GOVERNANCE && a->bypass ? ATR_OK : ATR_E_LOCKED;
}

static int olock_fn(struct atr_core *c, void *arg)
{
	struct olock_args *a = arg;
	struct atr_lock l;
	int rc = meta_lock_get(c->meta, a->bucket, a->key, a->id, &l);
	if (rc && rc != ATR_E_NO_KEY)
		return rc;
	if (a->hold >= 0) {
		l.hold = a->hold;
	} else {
		if ((rc = retention_may(&l, a)))
			return rc;
		l.mode = a->mode;
		l.until = a->mode ? a->until : 0;
	}
	return meta_lock_put(c->meta, a->bucket, a->key, a->id, &l);
}

int atr_object_retention_set(struct atr_core *c, const struct atr_user *u, const char *bucket,
			     const char *key, const char *vid, int mode, int64_t until,
			     int bypass)
{
	char id[ATR_VID_MAX + 1];
	if (mode != ATR_LOCK_NONE && mode != ATR_LOCK_GOVERNANCE && mode != ATR_LOCK_COMPLIANCE)
		return ATR_E_INVALID_ARG;
	if (mode && until <= now_ms())
		return ATR_E_INVALID_ARG; /* a retain-until date in the past */
	int rc = lock_target(c, u, bucket, key, vid, "s3:PutObjectRetention", id);
	if (rc)
		return rc;
	if (bypass && perm_bucket(c, u, bucket, "s3:BypassGovernanceRetention", PERM_OWNER, NULL))
		bypass = 0;
	struct olock_args a = { bucket, key, id, mode, -1, bypass, until };
	return ns_txn(c, olock_fn, &a);
}

int atr_object_legal_hold_set(struct atr_core *c, const struct atr_user *u, const char *bucket,
			      const char *key, const char *vid, int hold)
{
	char id[ATR_VID_MAX + 1];
	int rc = lock_target(c, u, bucket, key, vid, "s3:PutObjectLegalHold", id);
	if (rc)
		return rc;
	struct olock_args a = { bucket, key, id, 0, hold ? 1 : 0, 0, 0 };
	return ns_txn(c, olock_fn, &a);
}
