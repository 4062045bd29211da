/*
 * meta_ver.c — versioning's rows (src/meta_int.h, "versions"): a bucket's
 * versioning state (a column of buckets) and the versions table, the
 * noncurrent versions and delete markers of each key, newest first by
 * seq. The current version is the key's objects row; ST_VER_SCAN lists
 * both in S3's order (key ascending, then newest first).
 */
#include "src/meta_db_int.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

#define VER_COLS "seq, marker, vid, ino, version, size, mtime, mode, owner, etag, sse, " \
		 "fsize, hdrs, tags, acl"

const char *const meta_ver_sql[ST__COUNT] = {
	/* A completed upload's part sizes and sums come with it from the
	 * rows the objects row drops. */
	[ST_VER_PUT] = "INSERT INTO versions(bucket, key, vid, marker, ino, version, size, mtime, "
		       "mode, owner, etag, sse, hdrs, tags, acl, fsize, parts, sums) VALUES (?1, ?2, "
		       "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
		       "(SELECT sizes FROM object_parts WHERE ino = ?5 AND version = ?6 AND ?4 = 0), "
		       "(SELECT sums FROM object_part_checksums WHERE ino = ?5 AND version = ?6 "
		       "AND ?4 = 0))",
	/* A version current again (a new ino): its parts back with it. */
	[ST_VER_PARTS_BACK] = "INSERT OR REPLACE INTO object_parts(ino, version, sizes) "
			      "SELECT ?2, version, parts FROM versions WHERE seq = ?1 "
			      "AND parts IS NOT NULL",
	[ST_VER_SUMS_BACK] = "INSERT OR REPLACE INTO object_part_checksums(ino, version, sums) "
			     "SELECT ?2, version, sums FROM versions WHERE seq = ?1 "
			     "AND sums IS NOT NULL",
	[ST_VER_GET] = "SELECT " VER_COLS " FROM versions WHERE bucket = ?1 AND key = ?2 AND vid = ?3",
	[ST_VER_NEWEST] = "SELECT " VER_COLS " FROM versions WHERE bucket = ?1 AND key = ?2 "
			  "ORDER BY seq DESC LIMIT 1",
	[ST_VER_BY_SEQ] = "SELECT " VER_COLS " FROM versions WHERE seq = ?1",
	[ST_VER_DELETE] = "DELETE FROM versions WHERE seq = ?1",
	/* Current versions (objects rows that are S3 objects) and the
	 * others, in S3's order: key, the current first (the largest seq),
	 * then newest first. Both sides come in that order from an index
	 * (versions_by_key is on seq descending), so SQLite merges them as
	 * they stream: a page costs its rows, not a sort of the rest. */
	[ST_VER_SCAN] = "SELECT key, 1, 9223372036854775807, 0, coalesce(vid, ''), ino, version, "
			"size, mtime, mode, "
			"owner, etag, sse, is_dir FROM objects WHERE bucket = ?1 AND key >= ?2 "
			"AND key < ?3 AND implicit = 0 AND pending = 0 AND key <> '' "
			"UNION ALL SELECT key, 0, seq, marker, vid, ino, version, size, mtime, mode, "
			"owner, etag, sse, 0 FROM versions WHERE bucket = ?1 AND key >= ?2 "
			"AND key < ?3 ORDER BY 1, 3 DESC",
	[ST_BUCKET_VERSIONING_SET] = "UPDATE buckets SET versioning = ?2 WHERE name = ?1",
	[ST_VER_COUNT] = "SELECT count(*) FROM versions WHERE bucket = ?1",
	[ST_VER_SET_TAGS] = "UPDATE versions SET tags = ?2 WHERE seq = ?1",
	[ST_VER_SET_ACL] = "UPDATE versions SET mode = ?2, acl = ?3 WHERE seq = ?1",
	[ST_BUCKET_LOCK_SET] = "UPDATE buckets SET objlock = 1, versioning = 1, lock_mode = ?2, "
			       "lock_days = ?3, lock_years = ?4 WHERE name = ?1",
	[ST_LOCK_GET] = "SELECT mode, until, hold FROM object_locks WHERE bucket = ?1 AND key = ?2 "
			"AND vid = ?3",
	[ST_LOCK_PUT] = "INSERT OR REPLACE INTO object_locks(bucket, key, vid, mode, until, hold) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_MPU_LOCK_PUT] = "INSERT OR REPLACE INTO mpu_locks(upload_id, mode, until, hold) "
			    "VALUES (?1, ?2, ?3, ?4)",
	[ST_MPU_LOCK_GET] = "SELECT mode, until, hold FROM mpu_locks WHERE upload_id = ?1",
	/* Whether a current version in [?2, ?3) is locked at ?4 (a legal
	 * hold, or a retention not yet over: no bypass is asked here). */
	[ST_LOCK_ANY] = "SELECT 1 FROM objects o JOIN object_locks l ON l.bucket = o.bucket "
			"AND l.key = o.key AND l.vid = o.vid WHERE o.bucket = ?1 AND o.key >= ?2 "
			"AND o.key < ?3 AND (l.hold OR (l.mode AND l.until > ?4)) LIMIT 1",
};

void meta_version_release(struct meta_version *v)
{
	atr_obj_release(&v->obj);
	free(v->tags);
	free(v->acl);
	v->tags = v->acl = NULL;
}

int meta_bucket_versioning_set(struct meta *m, const char *name, int state)
{
	return meta_db_exec(m, ST_BUCKET_VERSIONING_SET, M_TEXT(name), M_INT(state));
}

int meta_ver_count(struct meta *m, const char *bucket)
{
	return meta_db_int(meta_db_query(m, ST_VER_COUNT, M_TEXT(bucket)));
}

int meta_ver_put(struct meta *m, const char *bucket, const char *key, struct meta_version *v)
{
	const struct atr_obj *o = &v->obj;
	struct meta_q q = meta_db_query(m, ST_VER_PUT, M_TEXT(bucket), M_TEXT(key),
					M_TEXT(*o->vid ? o->vid : "null"), M_INT(v->marker),
					M_INT(o->ino), M_INT(o->version), M_INT(o->size),
					M_INT(o->mtime_ns), M_INT(o->mode), M_TEXT(o->owner),
					M_TEXT(o->etag), M_INT(o->sse), M_TEXT(o->hdrs), M_TEXT(v->tags),
					M_TEXT(v->acl), M_INT(o->fsize));
	meta_db_next(&q);
	int rc = meta_db_end(&q, ATR_OK);
	if (!rc)
		v->seq = (uint64_t)sqlite3_last_insert_rowid(sqlite3_db_handle(q.s));
	return rc;
}

/* Columns VER_COLS from col on; with full, hdrs, tags and acl malloc'd. */
static int ver_from_stmt(sqlite3_stmt *s, struct meta_version *v, int full)
{
	memset(v, 0, sizeof(*v));
	v->seq = (uint64_t)sqlite3_column_int64(s, 0);
	v->marker = sqlite3_column_int(s, 1);
	meta_db_col_copy(v->obj.vid, sizeof(v->obj.vid), s, 2);
	v->obj.ino = (uint64_t)sqlite3_column_int64(s, 3);
	v->obj.version = (uint64_t)sqlite3_column_int64(s, 4);
	v->obj.size = (uint64_t)sqlite3_column_int64(s, 5);
	v->obj.mtime_ns = sqlite3_column_int64(s, 6);
	v->obj.mode = (uint32_t)sqlite3_column_int(s, 7);
	meta_db_col_copy(v->obj.owner, sizeof(v->obj.owner), s, 8);
	meta_db_col_copy(v->obj.etag, sizeof(v->obj.etag), s, 9);
	v->obj.sse = sqlite3_column_int(s, 10);
	v->obj.fsize = (uint64_t)sqlite3_column_int64(s, 11);
	v->obj.gid = -1;
	if (!full)
		return ATR_OK;
	int rc = meta_db_col_dup(s, 12, &v->obj.hdrs);
	if (!rc)
		rc = meta_db_col_dup(s, 13, &v->tags);
	if (!rc)
		rc = meta_db_col_dup(s, 14, &v->acl);
	if (rc)
		meta_version_release(v);
	return rc;
}

static int ver_one(struct meta_q q, struct meta_version *out, int full)
{
	int rc = ATR_E_NO_VERSION;
	if (meta_db_next(&q))
		rc = ver_from_stmt(q.s, out, full);
	return meta_db_end(&q, rc);
}

int meta_ver_get(struct meta *m, const char *bucket, const char *key, const char *vid,
		 struct meta_version *out, int full)
{
	return ver_one(meta_db_query(m, ST_VER_GET, M_TEXT(bucket), M_TEXT(key), M_TEXT(vid)), out,
		       full);
}

int meta_ver_newest(struct meta *m, const char *bucket, const char *key,
		    struct meta_version *out, int full)
{
	return ver_one(meta_db_query(m, ST_VER_NEWEST, M_TEXT(bucket), M_TEXT(key)), out, full);
}

int meta_ver_by_seq(struct meta *m, uint64_t seq, struct meta_version *out)
{
	return ver_one(meta_db_query(m, ST_VER_BY_SEQ, M_INT(seq)), out, 0);
}

int meta_ver_set_tags(struct meta *m, uint64_t seq, const char *tags)
{
	return meta_db_exec(m, ST_VER_SET_TAGS, M_INT(seq), M_TEXT(tags));
}

int meta_ver_set_acl(struct meta *m, uint64_t seq, uint32_t mode, const char *acl)
{
	return meta_db_exec(m, ST_VER_SET_ACL, M_INT(seq), M_INT(mode), M_TEXT(acl));
}

int meta_ver_parts_back(struct meta *m, uint64_t seq, uint64_t ino)
{
	int rc = meta_db_exec(m, ST_VER_PARTS_BACK, M_INT(seq), M_INT(ino));
	return rc ? rc : meta_db_exec(m, ST_VER_SUMS_BACK, M_INT(seq), M_INT(ino));
}

int meta_ver_delete(struct meta *m, uint64_t seq)
{
	return meta_db_exec(m, ST_VER_DELETE, M_INT(seq));
}

int meta_ver_scan(struct meta *m, const char *bucket, const char *from, const char *upto,
		  meta_ver_cb cb, void *arg)
{
	struct meta_q q = meta_db_query(m, ST_VER_SCAN, M_TEXT(bucket), M_TEXT(from), M_TEXT(upto));
	int rc = ATR_OK;
	while (!rc && meta_db_next(&q)) {
		struct meta_version v = { 0 };
		int current = sqlite3_column_int(q.s, 1);
		v.seq = current ? 0 : (uint64_t)sqlite3_column_int64(q.s, 2);
		v.marker = sqlite3_column_int(q.s, 3);
		meta_db_col_copy(v.obj.vid, sizeof(v.obj.vid), q.s, 4);
		v.obj.ino = (uint64_t)sqlite3_column_int64(q.s, 5);
		v.obj.version = (uint64_t)sqlite3_column_int64(q.s, 6);
		v.obj.size = (uint64_t)sqlite3_column_int64(q.s, 7);
		v.obj.mtime_ns = sqlite3_column_int64(q.s, 8);
		v.obj.mode = (uint32_t)sqlite3_column_int(q.s, 9);
		meta_db_col_copy(v.obj.owner, sizeof(v.obj.owner), q.s, 10);
		meta_db_col_copy(v.obj.etag, sizeof(v.obj.etag), q.s, 11);
		v.obj.sse = sqlite3_column_int(q.s, 12);
		v.obj.is_dir = sqlite3_column_int(q.s, 13);
		if (cb(arg, (const char *)sqlite3_column_text(q.s, 0), current, &v))
			rc = -1;
	}
	return meta_db_end(&q, rc);
}

/* ---- Object Lock ---- */

int meta_bucket_lock_set(struct meta *m, const char *name, int mode, int days, int years)
{
	return meta_db_exec(m, ST_BUCKET_LOCK_SET, M_TEXT(name), M_INT(mode), M_INT(days),
			    M_INT(years));
}

int meta_lock_get(struct meta *m, const char *bucket, const char *key, const char *vid,
		  struct atr_lock *out)
{
	memset(out, 0, sizeof(*out));
	struct meta_q q = meta_db_query(m, ST_LOCK_GET, M_TEXT(bucket), M_TEXT(key),
					M_TEXT(*vid ? vid : "null"));
	if (!meta_db_next(&q))
		return meta_db_end(&q, ATR_E_NO_KEY);
	out->mode = sqlite3_column_int(q.s, 0);
	out->until = sqlite3_column_int64(q.s, 1);
	out->hold = sqlite3_column_int(q.s, 2);
	return meta_db_end(&q, ATR_OK);
}

int meta_lock_put(struct meta *m, const char *bucket, const char *key, const char *vid,
		  const struct atr_lock *l)
{
	return meta_db_exec(m, ST_LOCK_PUT, M_TEXT(bucket), M_TEXT(key),
			    M_TEXT(*vid ? vid : "null"), M_INT(l->mode), M_INT(l->until),
			    M_INT(l->hold > 0));
}

int meta_mpu_lock_put(struct meta *m, const char *upload_id, const struct atr_lock *l)
{
	return meta_db_exec(m, ST_MPU_LOCK_PUT, M_TEXT(upload_id), M_INT(l->mode), M_INT(l->until),
			    M_INT(l->hold));
}

int meta_mpu_lock_get(struct meta *m, const char *upload_id, struct atr_lock *out)
{
	struct meta_q q = meta_db_query(m, ST_MPU_LOCK_GET, M_TEXT(upload_id));
	memset(out, 0, sizeof(*out));
	out->hold = -1;
	if (!meta_db_next(&q))
		return meta_db_end(&q, ATR_OK); /* none asked */
	out->mode = sqlite3_column_int(q.s, 0);
	out->until = sqlite3_column_int64(q.s, 1);
	out->hold = sqlite3_column_int(q.s, 2);
	return meta_db_end(&q, ATR_OK);
}

int meta_lock_any(struct meta *m, const char *bucket, const char *from, const char *upto,
		  int64_t now_ms)
{
	struct meta_q q = meta_db_query(m, ST_LOCK_ANY, M_TEXT(bucket), M_TEXT(from), M_TEXT(upto),
					M_INT(now_ms));
	int found = meta_db_next(&q);
	return meta_db_end(&q, ATR_OK) ? -1 : found;
}
