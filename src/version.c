/*
 * version — versioning's view (src/atrium.h, "versioning"): a bucket's
 * state, reading a version, the one delete every door uses (S3's DELETE,
 * DeleteObjects, and lifecycle through obj_delete_version), and
 * ListObjectVersions. Permissions are decided here; what the rows and
 * files do is the kernel's (src/ns_version.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/ns_int.h"
#include "src/perm_int.h"
#include "src/persist_int.h"
#include "common/banned.h"

int atr_vid_valid(const char *vid)
{
	if (!strcmp(vid, "null"))
		return 1;
	size_t n = strspn(vid, "0123456789abcdef");
	return n == ATR_VID_MAX && !vid[n];
}

int atr_vid_match(const char *have, const char *want)
{
	int null_have = !*have || !strcmp(have, "null"), null_want = !*want || !strcmp(want, "null");
	return null_have || null_want ? null_have && null_want : !strcmp(have, want);
}

/* ---- the bucket's state ---- */

int atr_bucket_versioning_get(struct atr_core *c, const struct atr_user *u, const char *bucket,
			      int *state)
{
	struct atr_bucket b;
	int rc = perm_bucket(c, u, bucket, "s3:GetBucketVersioning", PERM_OWNER, &b);
	if (!rc)
		*state = b.versioning;
	return rc;
}

struct state_args {
	const char *bucket;
	int state;
};

static int state_fn(struct atr_core *c, void *arg)
{
	struct state_args *a = arg;
	struct atr_bucket b;
	int rc = meta_bucket_get(c->meta, a->bucket, &b);
	/* Object Lock keeps every version: versioning stays Enabled. */
	if (!rc && b.objlock && a->state != ATR_VER_ENABLED)
		rc = ATR_E_LOCKED;
	return rc ? rc : meta_bucket_versioning_set(c->meta, a->bucket, a->state);
}

int atr_bucket_versioning_set(struct atr_core *c, const struct atr_user *u, const char *bucket,
			      int state)
{
	if (state != ATR_VER_ENABLED && state != ATR_VER_SUSPENDED)
		return ATR_E_INVALID_ARG;
	int rc = perm_bucket(c, u, bucket, "s3:PutBucketVersioning", PERM_OWNER, NULL);
	if (rc)
		return rc;
	/* Versions are links and renames in the local private area: a
	 * bucket of a remote store has neither. */
	if (!ufs_can_at(c->ufs, bucket, UFS_CAP_RENAME | UFS_CAP_LINKS))
		return ATR_E_NOT_SUPPORTED;
	struct state_args a = { bucket, state };
	return ns_txn(c, state_fn, &a); /* under ns_lock: between two commits */
}

/* ---- reading a version ---- */

/* A noncurrent version v of bucket/key, if u may read it (want PERM_R)
 * or change it (PERM_W: as its key, the directory's permission): its
 * owner and mode decide with the bucket's policy (its grants are kept,
 * not used). */
static int version_check(struct atr_core *c, const struct atr_user *u, const char *action,
			 unsigned want, const char *bucket, const char *key,
			 const struct meta_version *v, struct atr_bucket *b)
{
	int rc = perm_bucket(c, u, bucket, NULL, 0, b);
	if (rc)
		return rc;
	if (want == PERM_W)
		return perm_write_key(c, u, action, b, key);
	return perm_check_version(c, u, action, b, key, &v->obj, v->acl, want);
}

/* Version vid of bucket/key: 1 if it is the current one (read it as any
 * object, synced with the UFS), 0 with *v (full) for another, else an
 * error (negative): ATR_E_NO_VERSION, or what the bucket check says. */
static int version_find(struct atr_core *c, const struct atr_user *u, const char *bucket,
			const char *key, const char *vid, struct meta_version *v)
{
	struct meta_row cur = { 0 };
	if (!atr_vid_valid(vid))
		return -ATR_E_NO_VERSION;
	int rc = ns_find(c, bucket, key, &cur, NULL, 0);
	if (rc == ATR_E_NO_BUCKET || rc == ATR_E_INVALID_BUCKET)
		return -perm_bucket(c, u, bucket, NULL, 0, NULL);
	if (rc && rc != ATR_E_NO_KEY)
		return -rc;
	int current = !rc && atr_vid_match(cur.obj.vid, vid); /* a marker "k/" included */
	if (!rc)
		atr_obj_release(&cur.obj);
	if (current)
		return 1;
	if ((rc = meta_ver_get(c->meta, bucket, key, vid, v, 1))) {
		int prc = rc == ATR_E_NO_VERSION ? perm_bucket(c, u, bucket, NULL, 0, NULL) : ATR_OK;
		return -(prc ? prc : rc);
	}
	return 0;
}

int atr_object_version_open(struct atr_core *c, const struct atr_user *u, const char *bucket,
			    const char *key, const char *vid, struct atr_obj *obj,
			    struct atr_reader **rd)
{
	struct meta_version v;
	struct atr_bucket b;
	char path[PATH_MAX_UFS];
	struct ufs_file *f = NULL;
	struct ufs_stat st;
	int rc;
	if (rd)
		*rd = NULL;
	if (!vid || (rc = version_find(c, u, bucket, key, vid, &v)) == 1)
		return rd ? atr_get_open(c, u, bucket, key, obj, rd)
			  : atr_object_stat(c, u, bucket, key, obj);
	if (rc < 0)
		return -rc;
	if ((rc = version_check(c, u, "s3:GetObjectVersion", PERM_R, bucket, key, &v, &b)))
		goto out;
	if (v.marker) {
		memset(obj, 0, sizeof(*obj));
		snprintf(obj->vid, sizeof(obj->vid), "%s", v.obj.vid);
		rc = ATR_E_DELETE_MARKER;
		goto out;
	}
	if (rd) {
		if (ns_version_path(path, sizeof(path), v.seq)) {
			rc = ATR_E_INTERNAL;
			goto out;
		}
		if ((rc = ufs_open(c->ufs, path, &f, &st)) || (rc = reader_new(c, &v.obj, f, rd)))
			goto out; /* reader_new closed f */
		(*rd)->read_type = persist_read_type(c, bucket, 0);
	}
	*obj = v.obj;
	v.obj.hdrs = NULL; /* the caller's now */
out:
	meta_version_release(&v);
	return rc;
}

/* The tags of a version: kept with its row while it is noncurrent. */
int atr_object_version_tags_get(struct atr_core *c, const struct atr_user *u,
				const char *bucket, const char *key, const char *vid, char **tags)
{
	struct meta_version v;
	struct atr_bucket b;
	int rc;
	*tags = NULL;
	if (!vid || (rc = version_find(c, u, bucket, key, vid, &v)) == 1)
		return atr_object_tags_get(c, u, bucket, key, tags);
	if (rc < 0)
		return -rc;
	if (!(rc = version_check(c, u, "s3:GetObjectVersionTagging", PERM_R, bucket, key, &v,
				 &b)))
		rc = v.marker ? ATR_E_DELETE_MARKER : ATR_OK;
	if (!rc) {
		*tags = v.tags ? v.tags : strdup("");
		v.tags = NULL;
		rc = *tags ? ATR_OK : ATR_E_NOMEM;
	}
	meta_version_release(&v);
	return rc;
}

struct vtags_args {
	uint64_t seq;
	const char *tags;
};

static int vtags_fn(struct atr_core *c, void *arg)
{
	struct vtags_args *a = arg;
	return meta_ver_set_tags(c->meta, a->seq, a->tags && *a->tags ? a->tags : NULL);
}

int atr_object_version_tags_set(struct atr_core *c, const struct atr_user *u,
				const char *bucket, const char *key, const char *vid,
				const char *tags)
{
	struct meta_version v;
	struct atr_bucket b;
	int rc;
	if (!vid || (rc = version_find(c, u, bucket, key, vid, &v)) == 1)
		return atr_object_tags_set(c, u, bucket, key, tags);
	if (rc < 0)
		return -rc;
	const char *action = tags && *tags ? "s3:PutObjectVersionTagging"
					   : "s3:DeleteObjectVersionTagging";
	if (!(rc = version_check(c, u, action, PERM_W, bucket, key, &v, &b)))
		rc = v.marker ? ATR_E_DELETE_MARKER : ATR_OK;
	struct vtags_args a = { v.seq, tags };
	if (!rc)
		rc = ns_txn(c, vtags_fn, &a); /* by seq: gone meanwhile is a no-op */
	meta_version_release(&v);
	return rc;
}

/* The ACL of a version: its mode and the grants kept with its row while
 * it is noncurrent, as the current one's are the objects row's. */
int atr_object_version_acl_get(struct atr_core *c, const struct atr_user *u,
			       const char *bucket, const char *key, const char *vid,
			       struct atr_acl *out)
{
	struct meta_version v;
	struct atr_bucket b;
	int rc;
	if (!vid || (rc = version_find(c, u, bucket, key, vid, &v)) == 1)
		return atr_acl_get(c, u, bucket, key, out);
	if (rc < 0)
		return -rc;
	if (!(rc = version_check(c, u, "s3:GetObjectVersionAcl", PERM_RACP, bucket, key, &v,
				 &b)))
		rc = v.marker ? ATR_E_DELETE_MARKER : ATR_OK;
	if (!rc)
		acl_view(&b, v.obj.owner, v.obj.mode, v.acl, 0, out);
	meta_version_release(&v);
	return rc;
}

struct vacl_args {
	uint64_t seq;
	uint32_t mode;
	const char *text;
};

static int vacl_fn(struct atr_core *c, void *arg)
{
	struct vacl_args *a = arg;
	return meta_ver_set_acl(c->meta, a->seq, a->mode, a->text);
}

int atr_object_version_acl_set(struct atr_core *c, const struct atr_user *u,
			       const char *bucket, const char *key, const char *vid,
			       const struct atr_acl *acl)
{
	struct meta_version v;
	struct atr_bucket b;
	char *text = NULL;
	int rc;
	if (!vid || (rc = version_find(c, u, bucket, key, vid, &v)) == 1)
		return atr_acl_set(c, u, bucket, key, acl);
	if (rc < 0)
		return -rc;
	uint32_t mode = v.obj.mode;
	if (!(rc = version_check(c, u, "s3:PutObjectVersionAcl", PERM_WACP, bucket, key, &v,
				 &b)))
		rc = v.marker ? ATR_E_DELETE_MARKER
			      : acl_replace(&b, acl, v.obj.owner, 0, &mode, &text);
	struct vacl_args a = { v.seq, (v.obj.mode & ~0777u) | (mode & 0777), text };
	if (!rc)
		rc = ns_txn(c, vacl_fn, &a); /* by seq: gone meanwhile is a no-op */
	free(text);
	meta_version_release(&v);
	return rc;
}

int atr_object_latest_marker(struct atr_core *c, const char *bucket, const char *key,
			     char vid[ATR_VID_MAX + 1])
{
	struct meta_row r = { 0 };
	struct meta_version v;
	if (!meta_obj_get(c->meta, bucket, key, &r, 0) && !r.implicit && !r.pending)
		return 0;
	if (meta_ver_newest(c->meta, bucket, key, &v, 0) || !v.marker)
		return 0;
	snprintf(vid, ATR_VID_MAX + 1, "%s", v.obj.vid);
	return 1;
}

/* ---- deleting ---- */

int obj_delete_version(struct atr_core *c, const char *owner, const char *bucket,
		       const char *key, const char *vid, int prune, int flags,
		       struct atr_delete_result *out)
{
	return ns_delete_version(c, bucket, key, vid, owner, prune, flags, 0, out);
}

/* S3's DELETE, with its permission checks; if_ino as ns_delete_version's. */
static int delete_checked(struct atr_core *c, const struct atr_user *u, const char *bucket,
			  const char *key, const char *vid, int bypass, uint64_t if_ino,
			  struct atr_delete_result *out)
{
	struct atr_bucket b;
	memset(out, 0, sizeof(*out));
	int rc = perm_bucket(c, u, bucket, NULL, 0, &b);
	if (rc)
		return rc;
	if (vid && !atr_vid_valid(vid))
		return ATR_E_NO_VERSION;
	if ((rc = atr_key_valid(key)))
		return rc == ATR_E_INVALID_KEY ? ATR_OK : rc; /* could not exist */
	if ((rc = perm_write_key(c, u, vid ? "s3:DeleteObjectVersion" : "s3:DeleteObject", &b, key)))
		return rc;
	/* Bypass asked by one not allowed it: the retention holds (AWS). */
	if (bypass && perm_bucket(c, u, bucket, "s3:BypassGovernanceRetention", PERM_OWNER, NULL))
		bypass = 0;
	return ns_delete_version(c, bucket, key, vid, u->name, 1, bypass ? OBJ_DEL_BYPASS : 0,
				 if_ino, out);
}

int atr_object_delete_version(struct atr_core *c, const struct atr_user *u, const char *bucket,
			      const char *key, const char *vid, int bypass,
			      struct atr_delete_result *out)
{
	return delete_checked(c, u, bucket, key, vid, bypass, 0, out);
}

int atr_object_delete_if(struct atr_core *c, const struct atr_user *u, const char *bucket,
			 const char *key, uint64_t ino, struct atr_delete_result *out)
{
	return delete_checked(c, u, bucket, key, NULL, 0, ino, out);
}

/* ---- ListObjectVersions ---- */

struct vlister {
	struct atr_core *c;
	const char *bucket;
	const struct atr_version_params *p;
	struct perm_view *v;
	atr_version_cb cb;
	void *arg;
	size_t prefix_len, delim_len;
	int count, truncated, stop, jumped, passed;
	char from[ATR_KEY_MAX + 2];    /* where the scan resumes after a jump */
	char cur_key[ATR_KEY_MAX + 2]; /* the key of the last row seen */
	int cur_set;
	char *next_key, *next_vid;
	char dir[ATR_KEY_MAX + 2];     /* version_visible's last answer */
	int dir_set, dir_ok;
};

/* Whether the caller sees the versions in directory dir: as a listing
 * would, by the nearest directory still there (a key's versions outlive
 * the directories a delete marker left empty). The last answer is kept:
 * a key's versions come together. */
static int version_visible(struct vlister *l, const char *dir)
{
	char d[ATR_KEY_MAX + 2];
	struct meta_row r = { 0 };
	if (l->dir_set && !strcmp(dir, l->dir))
		return l->dir_ok;
	snprintf(l->dir, sizeof(l->dir), "%s", dir);
	snprintf(d, sizeof(d), "%s", dir);
	while (*d && meta_obj_get(l->c->meta, l->bucket, d, &r, 0) == ATR_E_NO_KEY) {
		char up[ATR_KEY_MAX + 2];
		key_parent(d, up);
		memcpy(d, up, sizeof(d));
	}
	l->dir_set = 1;
	return l->dir_ok = perm_view_dir(l->v, d);
}

/* One item more, or the page is full (truncated: one more was there). */
static int vemit(struct vlister *l, const struct atr_version_item *it, const char *vid)
{
	if (l->count == l->p->max) {
		l->truncated = 1;
		l->stop = 1;
		return 1;
	}
	l->count++;
	snprintf(l->next_key, ATR_KEY_MAX + 2, "%s", it->key);
	snprintf(l->next_vid, ATR_VID_MAX + 1, "%s", vid);
	if (l->cb(l->arg, it)) {
		l->stop = 1;
		return 1;
	}
	return 0;
}

static int on_version(void *arg, const char *key, int current, const struct meta_version *v)
{
	struct vlister *l = arg;
	const struct atr_version_params *p = l->p;
	const char *vid = *v->obj.vid ? v->obj.vid : "null";
	char dir[ATR_KEY_MAX + 2];
	int latest = !l->cur_set || strcmp(key, l->cur_key);
	snprintf(l->cur_key, sizeof(l->cur_key), "%s", key);
	l->cur_set = 1;
	/* After the markers: every version of key_marker, or those of it
	 * down to vid_marker. */
	if (p->key_marker && !strcmp(key, p->key_marker)) {
		if (!p->vid_marker || !l->passed) {
			l->passed |= p->vid_marker && !strcmp(vid, p->vid_marker);
			return 0;
		}
	}
	key_parent(key, dir);
	if (!version_visible(l, dir))
		return 0;
	const char *rest = key + l->prefix_len;
	const char *d = l->delim_len ? strstr(rest, p->delimiter) : NULL;
	if (d) {
		/* A common prefix: once, then the scan jumps past it. */
		char cp[ATR_KEY_MAX + 2];
		size_t n = (size_t)(d - key) + l->delim_len;
		snprintf(cp, sizeof(cp), "%.*s", (int)n, key);
		if (!p->key_marker || strcmp(cp, p->key_marker) > 0) {
			struct atr_version_item it = { .key = cp, .is_prefix = 1 };
			if (vemit(l, &it, ""))
				return 1;
		}
		if (key_successor(cp, l->from, sizeof(l->from)))
			return 1; /* nothing above it */
		l->jumped = 1;
		l->cur_set = 0;
		return 1;
	}
	struct atr_obj o = v->obj;
	snprintf(o.vid, sizeof(o.vid), "%s", vid);
	struct atr_version_item it = { .key = key, .marker = v->marker, .latest = latest,
				       .obj = &o };
	(void)current;
	return vemit(l, &it, vid);
}

int atr_object_list_versions(struct atr_core *c, const struct atr_user *u, const char *bucket,
			     const struct atr_version_params *p, atr_version_cb cb, void *arg,
			     int *truncated, char next_key[ATR_KEY_MAX + 2],
			     char next_vid[ATR_VID_MAX + 1])
{
	char upto[ATR_KEY_MAX + 2];
	const char *prefix = p->prefix ? p->prefix : "";
	struct atr_bucket b;
	int rc = perm_bucket(c, u, bucket, "s3:ListBucketVersions", PERM_R, &b);
	if (rc)
		return rc;
	if (strlen(prefix) > ATR_KEY_MAX || (p->key_marker && strlen(p->key_marker) > ATR_KEY_MAX))
		return ATR_E_INVALID_ARG;
	list_sync(c, bucket, prefix); /* changes behind our back are current versions too */
	struct vlister l = { .c = c, .bucket = bucket, .p = p, .cb = cb, .arg = arg,
			     .prefix_len = strlen(prefix),
			     .delim_len = p->delimiter ? strlen(p->delimiter) : 0,
			     .next_key = next_key, .next_vid = next_vid };
	*next_key = *next_vid = '\0';
	if (*prefix ? key_successor(prefix, upto, sizeof(upto)) : 0)
		return ATR_E_INVALID_ARG;
	if (!*prefix)
		snprintf(upto, sizeof(upto), "\xf5"); /* above every UTF-8 key */
	snprintf(l.from, sizeof(l.from), "%s", prefix);
	if (p->key_marker && strcmp(p->key_marker, prefix) > 0)
		snprintf(l.from, sizeof(l.from), "%s", p->key_marker);
	if ((rc = perm_view_new(c, u, &b, "s3:ListBucketVersions", &l.v)))
		return rc;
	/* One snapshot for the page's scans (see atr_object_list). */
	if ((rc = meta_read_begin(c->meta))) {
		perm_view_release(l.v);
		return rc;
	}
	do {
		char from[ATR_KEY_MAX + 2];
		l.jumped = 0;
		memcpy(from, l.from, sizeof(from));
		rc = meta_ver_scan(c->meta, bucket, from, upto, on_version, &l);
		rc = rc == -1 ? ATR_OK : rc;
	} while (!rc && l.jumped && !l.stop && strcmp(l.from, upto) < 0);
	meta_read_end(c->meta);
	perm_view_release(l.v);
	*truncated = l.truncated;
	return rc;
}
