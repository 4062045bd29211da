/*
 * meta_obj.c — buckets and objects rows (src/meta_int.h): a bucket's row
 * read with its root directory's permissions (BUCKET_COLS); object rows
 * by key and by ino, their scans in key order (S3's listing order: the
 * BINARY collation), renames of one row or of a key range, attributes,
 * totals, and the hard-link nodes of the mount's inode view. Row queries
 * return ROW_COLS (after the key, for scans), decoded by row_from_stmt.
 */
#include "src/meta_db_int.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "src/core_int.h"
#include "common/banned.h"

#define ROW_COLS "ino, is_dir, implicit, size, mtime, version, mode, owner, etag, dir_mtime, " \
		 "gid, ctime, atime, kind, rdev, pending, node, has_acl, side, persist, sse, fsize, vid"
#define ROW_NCOLS 23
/* A bucket's row and its root directory's permissions (see meta_bucket_get). */
#define BUCKET_COLS "b.name, b.owner, b.location, b.ctime, b.public_block, b.ownership, " \
		    "b.policy IS NOT NULL, r.ino, r.gid, r.mode, r.has_acl, coalesce(b.versioning, 0), " \
		    "b.objlock IS NOT NULL, b.lock_mode, b.lock_days, b.lock_years"
#define BUCKET_FROM "FROM buckets b LEFT JOIN objects r ON r.bucket = b.name AND r.key = ''"

const char *const meta_obj_sql[ST__COUNT] = {
	[ST_BUCKET_GET] = "SELECT " BUCKET_COLS " " BUCKET_FROM " WHERE b.name = ?1",
	[ST_BUCKET_INSERT] = "INSERT INTO buckets(name, owner, location, ctime) VALUES (?1, ?2, ?3, ?4)",
	[ST_BUCKET_DELETE] = "DELETE FROM buckets WHERE name = ?1",
	[ST_BUCKET_LIST] = "SELECT " BUCKET_COLS " " BUCKET_FROM " WHERE b.owner = ?1 ORDER BY b.name",
	[ST_BUCKET_LIST_ALL] = "SELECT " BUCKET_COLS " " BUCKET_FROM " ORDER BY b.name",
	[ST_BUCKET_SET_OWNER] = "UPDATE buckets SET owner = ?2 WHERE name = ?1",
	[ST_BUCKET_COUNT] = "SELECT count(*) FROM buckets",
	[ST_OBJ_GET] = "SELECT " ROW_COLS ", hdrs FROM objects WHERE bucket = ?1 AND key = ?2",
	[ST_OBJ_INSERT] = "INSERT INTO objects(bucket, key, is_dir, implicit, size, mtime, version, "
			  "mode, owner, etag, dir_mtime, hdrs, gid, ctime, atime, kind, rdev, pending, "
			  "has_acl, side, persist, sse, fsize, vid, node) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
			  "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, "
			  "?24, ?25)",
	[ST_OBJ_UPDATE] = "UPDATE objects SET is_dir = ?3, implicit = ?4, size = ?5, mtime = ?6, "
			  "version = ?7, mode = ?8, owner = ?9, etag = ?10, dir_mtime = ?11, hdrs = ?12, "
			  "gid = ?13, ctime = ?14, atime = ?15, kind = ?16, rdev = ?17, pending = ?18, "
			  "has_acl = ?19, side = ?20, persist = ?21, sse = ?22, fsize = ?23, vid = ?24 "
			  "WHERE bucket = ?1 AND key = ?2 "
			  "RETURNING ino, node",
	[ST_OBJ_DELETE] = "DELETE FROM objects WHERE bucket = ?1 AND key = ?2",
	[ST_OBJ_DELETE_RANGE] = "DELETE FROM objects WHERE bucket = ?1 AND key >= ?2 AND key < ?3",
	[ST_OBJ_SET_DIR_MTIME] = "UPDATE objects SET dir_mtime = ?3 WHERE bucket = ?1 AND key = ?2",
	[ST_OBJ_CHILD] = "SELECT 1 FROM objects WHERE bucket = ?1 AND key > ?2 AND key < ?3 LIMIT 1",
	[ST_SCAN_GE] = "SELECT key, " ROW_COLS " FROM objects WHERE bucket = ?1 AND key >= ?2 ORDER BY key",
	[ST_SCAN_GT] = "SELECT key, " ROW_COLS " FROM objects WHERE bucket = ?1 AND key > ?2 ORDER BY key",
	[ST_SCAN_GE_TO] = "SELECT key, " ROW_COLS " FROM objects WHERE bucket = ?1 AND key >= ?2 AND key < ?3 ORDER BY key",
	[ST_SCAN_GT_TO] = "SELECT key, " ROW_COLS " FROM objects WHERE bucket = ?1 AND key > ?2 AND key < ?3 ORDER BY key",
	[ST_SCANV_GE] = "SELECT key, " ROW_COLS " FROM objects WHERE bucket = ?1 AND key >= ?2 AND implicit = 0 AND pending = 0 ORDER BY key",
	[ST_SCANV_GT] = "SELECT key, " ROW_COLS " FROM objects WHERE bucket = ?1 AND key > ?2 AND implicit = 0 AND pending = 0 ORDER BY key",
	[ST_SCANV_GE_TO] = "SELECT key, " ROW_COLS " FROM objects WHERE bucket = ?1 AND key >= ?2 AND key < ?3 AND implicit = 0 AND pending = 0 ORDER BY key",
	[ST_SCANV_GT_TO] = "SELECT key, " ROW_COLS " FROM objects WHERE bucket = ?1 AND key > ?2 AND key < ?3 AND implicit = 0 AND pending = 0 ORDER BY key",
	[ST_DIRS_FROM] = "SELECT key, " ROW_COLS " FROM objects WHERE bucket = ?1 AND key >= ?2 AND is_dir = 1 ORDER BY key",
	[ST_DIRS_FROM_TO] = "SELECT key, " ROW_COLS " FROM objects WHERE bucket = ?1 AND key >= ?2 AND key < ?3 AND is_dir = 1 ORDER BY key",
	/* The rows of the directories ?2 lies in, shallowest first: each
	 * prefix of ?2 that ends in '/' (instr and substr count characters
	 * alike; keys are UTF-8). One statement instead of one per level. */
	[ST_ANCESTORS] = "WITH RECURSIVE p(k, rest) AS ("
			 "SELECT substr(?2, 1, instr(?2, '/')), substr(?2, instr(?2, '/') + 1) "
			 "WHERE instr(?2, '/') > 0 UNION ALL "
			 "SELECT k || substr(rest, 1, instr(rest, '/')), substr(rest, instr(rest, '/') + 1) "
			 "FROM p WHERE instr(rest, '/') > 0) "
			 "SELECT o.key, " ROW_COLS " FROM p JOIN objects o ON o.bucket = ?1 AND o.key = p.k "
			 "ORDER BY length(p.k)",
	/* Implied directories below ?2 that have the permissions ?8..?11 take
	 * ?4..?7 (perm_follow). */
	[ST_PERM_FOLLOW] = "UPDATE objects SET owner = ?4, gid = ?5, mode = ?6, has_acl = ?7 "
			   "WHERE bucket = ?1 AND key > ?2 AND key < ?3 AND is_dir = 1 AND "
			   "implicit = 1 AND owner = ?8 AND gid = ?9 AND mode = ?10 AND has_acl = ?11 "
			   "RETURNING key, " ROW_COLS,
	[ST_OBJ_RENAME] = "UPDATE objects SET bucket = ?3, key = ?4 WHERE bucket = ?1 AND key = ?2",
	/* length() and substr() both count characters: keys are valid UTF-8. */
	[ST_OBJ_RENAME_PREFIX] = "UPDATE objects SET bucket = ?3, key = ?4 || substr(key, length(?2) + 1) "
				 "WHERE bucket = ?1 AND key >= ?2 AND key < ?5",
	[ST_OBJ_SET_ATTR] = "UPDATE objects SET mode = coalesce(?3, mode), owner = coalesce(?4, owner) "
			    "WHERE bucket = ?1 AND key = ?2",
	[ST_OBJ_SET_ATTR_RANGE] = "UPDATE objects SET mode = coalesce(?3, mode), owner = coalesce(?4, owner) "
				  "WHERE bucket = ?1 AND key >= ?2 AND key < ?5",
	[ST_TOTALS] = "SELECT coalesce(sum(is_dir = 0), 0), coalesce(sum(is_dir = 1 AND key <> ''), 0), "
		      "coalesce(sum(CASE WHEN is_dir = 0 THEN size ELSE 0 END), 0), "
		      "(SELECT count(*) FROM mpu_uploads), coalesce(sum(persist = 1), 0), "
		      "(SELECT count(*) FROM persist_queue) FROM objects",
	/* The row numbered ?1, or else another name of that inode. */
	[ST_OBJ_BY_INO] = "SELECT bucket, key, " ROW_COLS ", hdrs FROM objects WHERE ino = ?1 "
			  "UNION ALL SELECT bucket, key, " ROW_COLS ", hdrs FROM objects "
			  "WHERE node = ?1 LIMIT 1",
	[ST_OBJ_SET_POSIX] = "UPDATE objects SET mode = ?2, owner = ?3, gid = ?4, ctime = ?5, "
			     "atime = ?6, mtime = ?7, hdrs = ?8 WHERE ino = ?1",
	[ST_OBJ_SET_ETAG] = "UPDATE objects SET etag = ?3 WHERE (ino = ?1 OR node = ?1) "
			    "AND version = ?2 AND etag = ''",
	[ST_PENDING_CLEAR] = "DELETE FROM objects WHERE pending = 1",
	/* Directories right below ?2 (a directory key, "" for the bucket's
	 * root): one '/' after ?2, at the end. */
	[ST_SUBDIRS] = "SELECT count(*) FROM objects WHERE bucket = ?1 AND key > ?2 AND key < ?3 "
		       "AND is_dir = 1 AND instr(substr(key, length(?2) + 1), '/') = "
		       "length(key) - length(?2)",
	[ST_NODE_SET] = "UPDATE objects SET node = ?2 WHERE ino = ?1",
	/* Every other name of the inode of row ?1 takes its attributes. */
	[ST_NODE_SYNC] = "UPDATE objects SET size = s.size, mtime = s.mtime, version = s.version, "
			 "mode = s.mode, owner = s.owner, etag = s.etag, hdrs = s.hdrs, gid = s.gid, "
			 "ctime = s.ctime, atime = s.atime, kind = s.kind, rdev = s.rdev, "
			 "has_acl = s.has_acl, sse = s.sse, fsize = s.fsize FROM (SELECT * FROM objects WHERE ino = ?1) AS s "
			 "WHERE objects.node = s.node AND objects.ino <> s.ino",
	[ST_NODE_COUNT] = "SELECT count(*) FROM objects WHERE node = ?1",
	[ST_NODE_NAMES] = "SELECT bucket, key FROM objects WHERE node = ?1 AND ino <> ?2",
};

/* ---- buckets ---- */

/* Columns BUCKET_COLS. */
static void bucket_from_row(sqlite3_stmt *s, struct atr_bucket *b)
{
	memset(b, 0, sizeof(*b));
	meta_db_col_copy(b->name, sizeof(b->name), s, 0);
	meta_db_col_copy(b->owner, sizeof(b->owner), s, 1);
	meta_db_col_copy(b->location, sizeof(b->location), s, 2);
	b->ctime_ns = sqlite3_column_int64(s, 3);
	b->public_block = sqlite3_column_type(s, 4) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 4);
	b->ownership = sqlite3_column_type(s, 5) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 5);
	b->has_policy = sqlite3_column_int(s, 6);
	b->root_ino = (uint64_t)sqlite3_column_int64(s, 7);
	b->gid = sqlite3_column_type(s, 8) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 8);
	/* A bucket without its root row yet (being made): private. */
	b->mode = sqlite3_column_type(s, 9) == SQLITE_NULL ? 0700 : (uint32_t)sqlite3_column_int(s, 9);
	b->has_acl = sqlite3_column_int(s, 10);
	b->versioning = sqlite3_column_int(s, 11);
	b->objlock = sqlite3_column_int(s, 12);
	b->lock_mode = sqlite3_column_int(s, 13);
	b->lock_days = sqlite3_column_int(s, 14);
	b->lock_years = sqlite3_column_int(s, 15);
}

int meta_bucket_get(struct meta *m, const char *name, struct atr_bucket *out)
{
	struct meta_q q = meta_db_query(m, ST_BUCKET_GET, M_TEXT(name));
	if (!meta_db_next(&q))
		return meta_db_end(&q, ATR_E_NO_BUCKET);
	if (out)
		bucket_from_row(q.s, out);
	return meta_db_end(&q, ATR_OK);
}

int meta_bucket_insert(struct meta *m, const struct atr_bucket *b)
{
	return meta_db_exec(m, ST_BUCKET_INSERT, M_TEXT(b->name), M_TEXT(b->owner),
			    M_TEXT(b->location), M_INT(b->ctime_ns));
}

int meta_bucket_delete(struct meta *m, const char *name)
{
	return meta_db_exec(m, ST_BUCKET_DELETE, M_TEXT(name));
}

int meta_bucket_list(struct meta *m, const char *owner, atr_bucket_cb cb, void *arg)
{
	struct meta_q q = owner ? meta_db_query(m, ST_BUCKET_LIST, M_TEXT(owner))
				: meta_db_query(m, ST_BUCKET_LIST_ALL);
	while (meta_db_next(&q)) {
		struct atr_bucket b;
		bucket_from_row(q.s, &b);
		if (cb(arg, &b))
			break;
	}
	return meta_db_end(&q, ATR_OK);
}

int meta_bucket_set_owner(struct meta *m, const char *name, const char *owner)
{
	return meta_db_exec(m, ST_BUCKET_SET_OWNER, M_TEXT(name), M_TEXT(owner));
}

/* ---- object rows ---- */

/* Columns ROW_COLS starting at col. */
static void row_from_stmt(sqlite3_stmt *s, int col, struct meta_row *r)
{
	memset(r, 0, sizeof(*r));
	r->obj.ino = (uint64_t)sqlite3_column_int64(s, col);
	r->obj.is_dir = sqlite3_column_int(s, col + 1);
	r->implicit = sqlite3_column_int(s, col + 2);
	r->obj.size = (uint64_t)sqlite3_column_int64(s, col + 3);
	r->obj.mtime_ns = sqlite3_column_int64(s, col + 4);
	r->obj.version = (uint64_t)sqlite3_column_int64(s, col + 5);
	r->obj.mode = (uint32_t)sqlite3_column_int(s, col + 6);
	meta_db_col_copy(r->obj.owner, sizeof(r->obj.owner), s, col + 7);
	meta_db_col_copy(r->obj.etag, sizeof(r->obj.etag), s, col + 8);
	r->dir_mtime = sqlite3_column_int64(s, col + 9);
	r->obj.gid = sqlite3_column_int64(s, col + 10);
	r->obj.ctime_ns = sqlite3_column_int64(s, col + 11);
	r->obj.atime_ns = sqlite3_column_int64(s, col + 12);
	r->obj.kind = (uint32_t)sqlite3_column_int(s, col + 13);
	r->obj.rdev = (uint64_t)sqlite3_column_int64(s, col + 14);
	r->pending = sqlite3_column_int(s, col + 15);
	r->obj.node = (uint64_t)sqlite3_column_int64(s, col + 16); /* NULL: 0 */
	r->has_acl = sqlite3_column_int(s, col + 17);
	r->side = sqlite3_column_int(s, col + 18);
	r->persist = sqlite3_column_int(s, col + 19);
	r->obj.sse = sqlite3_column_int(s, col + 20);
	r->obj.fsize = (uint64_t)sqlite3_column_int64(s, col + 21);
	meta_db_col_copy(r->obj.vid, sizeof(r->obj.vid), s, col + 22); /* NULL: "" */
}

int meta_obj_get(struct meta *m, const char *bucket, const char *key,
		 struct meta_row *out, int want_hdrs)
{
	int64_t t0 = meta_db_clock();
	struct meta_q q = meta_db_query(m, ST_OBJ_GET, M_TEXT(bucket), M_TEXT(key));
	int rc = ATR_E_NO_KEY;
	if (meta_db_next(&q)) {
		row_from_stmt(q.s, 0, out);
		rc = want_hdrs ? meta_db_col_dup(q.s, ROW_NCOLS, &out->obj.hdrs) : ATR_OK;
	}
	rc = meta_db_end(&q, rc);
	meta_db_count_lookup(m, t0);
	return rc;
}

int meta_node_sync(struct meta *m, uint64_t ino)
{
	return meta_db_exec(m, ST_NODE_SYNC, M_INT(ino));
}

int meta_obj_put(struct meta *m, const char *bucket, const char *key, struct meta_row *row)
{
	const struct atr_obj *o = &row->obj;
	/* ST_OBJ_UPDATE's ?1..?24; ST_OBJ_INSERT's also the node (?25): an
	 * update keeps the row's node. A version id "" is NULL (the null
	 * version of a bucket never versioned: src/version.c). */
	const struct meta_arg a[] = {
		M_TEXT(bucket), M_TEXT(key), M_INT(o->is_dir), M_INT(row->implicit),
		M_INT(o->size), M_INT(o->mtime_ns), M_INT(o->version), M_INT(o->mode),
		M_TEXT(o->owner), M_TEXT(o->etag), M_INT(row->dir_mtime), M_TEXT(o->hdrs),
		M_INT(o->gid), M_INT(o->ctime_ns), M_INT(o->atime_ns), M_INT(o->kind),
		M_INT(o->rdev), M_INT(row->pending), M_INT(row->has_acl), M_INT(row->side),
		M_INT(row->persist), M_INT(o->sse), M_INT(o->fsize), *o->vid ? M_TEXT(o->vid) : M_NULL,
		o->node ? M_INT(o->node) : M_NULL,
	};
	struct meta_q q = meta_db_queryv(m, ST_OBJ_UPDATE, a, 24);
	int rc;
	if (meta_db_next(&q)) {
		row->obj.ino = (uint64_t)sqlite3_column_int64(q.s, 0);
		row->obj.node = (uint64_t)sqlite3_column_int64(q.s, 1);
		meta_db_next(&q);
		if ((rc = meta_db_end(&q, ATR_OK)))
			return rc;
		return row->obj.node ? meta_node_sync(m, row->obj.ino) : ATR_OK;
	}
	if ((rc = meta_db_end(&q, ATR_OK)))
		return rc;
	q = meta_db_queryv(m, ST_OBJ_INSERT, a, 25);
	meta_db_next(&q);
	if (!(rc = meta_db_end(&q, ATR_OK)))
		row->obj.ino = (uint64_t)sqlite3_last_insert_rowid(sqlite3_db_handle(q.s));
	return rc;
}

int meta_obj_delete(struct meta *m, const char *bucket, const char *key)
{
	return meta_db_exec(m, ST_OBJ_DELETE, M_TEXT(bucket), M_TEXT(key));
}

/* The end of the keys that start with prefix, into upto: key_successor,
 * or for "" a string above every UTF-8 key. */
static int prefix_end(const char *prefix, char upto[ATR_KEY_MAX + 2])
{
	if (!*prefix) {
		snprintf(upto, ATR_KEY_MAX + 2, "\xf5");
		return 0;
	}
	return key_successor(prefix, upto, ATR_KEY_MAX + 2);
}

int meta_obj_delete_prefix(struct meta *m, const char *bucket, const char *prefix)
{
	char upto[ATR_KEY_MAX + 2];
	if (prefix_end(prefix, upto))
		return ATR_E_INVALID_ARG;
	return meta_db_exec(m, ST_OBJ_DELETE_RANGE, M_TEXT(bucket), M_TEXT(prefix), M_TEXT(upto));
}

int meta_obj_set_dir_mtime(struct meta *m, const char *bucket, const char *key, int64_t mtime)
{
	return meta_db_exec(m, ST_OBJ_SET_DIR_MTIME, M_TEXT(bucket), M_TEXT(key), M_INT(mtime));
}

int meta_obj_has_children(struct meta *m, const char *bucket, const char *dirkey)
{
	char upto[ATR_KEY_MAX + 2];
	if (prefix_end(dirkey, upto))
		return -1;
	struct meta_q q = meta_db_query(m, ST_OBJ_CHILD, M_TEXT(bucket), M_TEXT(dirkey),
					M_TEXT(upto));
	int found = meta_db_next(&q);
	return meta_db_end(&q, ATR_OK) ? -1 : found;
}

/* Hands each row of q (a key, then ROW_COLS) to cb until it returns
 * non-zero. Ends q. */
static int scan_rows(struct meta_q q, meta_scan_cb cb, void *arg)
{
	while (meta_db_next(&q)) {
		struct meta_row r = { 0 };
		row_from_stmt(q.s, 1, &r);
		if (cb(arg, (const char *)sqlite3_column_text(q.s, 0), &r))
			break;
	}
	return meta_db_end(&q, ATR_OK);
}

int meta_obj_scan(struct meta *m, const char *bucket, const char *from, int inclusive,
		  const char *upto, int visible_only, meta_scan_cb cb, void *arg)
{
	static const enum stmt_id ids[2][2][2] = {
		/* visible_only=0 */ { { ST_SCAN_GT, ST_SCAN_GT_TO }, { ST_SCAN_GE, ST_SCAN_GE_TO } },
		/* visible_only=1 */ { { ST_SCANV_GT, ST_SCANV_GT_TO }, { ST_SCANV_GE, ST_SCANV_GE_TO } },
	};
	const struct meta_arg a[] = { M_TEXT(bucket), M_TEXT(from), M_TEXT(upto) };
	enum stmt_id id = ids[!!visible_only][!!inclusive][upto != NULL];
	return scan_rows(meta_db_queryv(m, id, a, upto ? 3 : 2), cb, arg);
}

int meta_dir_scan(struct meta *m, const char *bucket, const char *from, const char *upto,
		  meta_scan_cb cb, void *arg)
{
	const struct meta_arg a[] = { M_TEXT(bucket), M_TEXT(from), M_TEXT(upto) };
	enum stmt_id id = upto ? ST_DIRS_FROM_TO : ST_DIRS_FROM;
	return scan_rows(meta_db_queryv(m, id, a, upto ? 3 : 2), cb, arg);
}

int meta_ancestors(struct meta *m, const char *bucket, const char *key, meta_scan_cb cb,
		   void *arg)
{
	return scan_rows(meta_db_query(m, ST_ANCESTORS, M_TEXT(bucket), M_TEXT(key)), cb, arg);
}

int meta_perm_follow(struct meta *m, const char *bucket, const char *dirkey,
		     const struct meta_row *before, const struct meta_row *after,
		     meta_scan_cb cb, void *arg)
{
	char upto[ATR_KEY_MAX + 2];
	if (prefix_end(dirkey, upto))
		return ATR_E_INVALID_ARG;
	return scan_rows(meta_db_query(m, ST_PERM_FOLLOW, M_TEXT(bucket), M_TEXT(dirkey),
				       M_TEXT(upto), M_TEXT(after->obj.owner),
				       M_INT(after->obj.gid), M_INT(after->obj.mode),
				       M_INT(after->has_acl), M_TEXT(before->obj.owner),
				       M_INT(before->obj.gid), M_INT(before->obj.mode),
				       M_INT(before->has_acl)),
			 cb, arg);
}

/* ---- renames, attributes, totals (src/fs.c) ---- */

int meta_obj_rename(struct meta *m, const char *bucket, const char *key, const char *to_bucket,
		    const char *to_key)
{
	return meta_db_exec(m, ST_OBJ_RENAME, M_TEXT(bucket), M_TEXT(key), M_TEXT(to_bucket),
			    M_TEXT(to_key));
}

int meta_obj_rename_prefix(struct meta *m, const char *bucket, const char *prefix,
			   const char *upto, const char *to_bucket, const char *to_prefix)
{
	return meta_db_exec(m, ST_OBJ_RENAME_PREFIX, M_TEXT(bucket), M_TEXT(prefix),
			    M_TEXT(to_bucket), M_TEXT(to_prefix), M_TEXT(upto));
}

int meta_obj_set_attr(struct meta *m, const char *bucket, const char *key, const char *upto,
		      int64_t mode, const char *owner)
{
	const struct meta_arg a[] = { M_TEXT(bucket), M_TEXT(key), mode >= 0 ? M_INT(mode) : M_NULL,
				      M_TEXT(owner), M_TEXT(upto) };
	if (upto)
		return meta_db_execv(m, ST_OBJ_SET_ATTR_RANGE, a, 5);
	return meta_db_execv(m, ST_OBJ_SET_ATTR, a, 4);
}

int meta_totals(struct meta *m, struct atr_ns_totals *out)
{
	struct meta_q q = meta_db_query(m, ST_TOTALS);
	memset(out, 0, sizeof(*out));
	if (meta_db_next(&q)) {
		out->files = (uint64_t)sqlite3_column_int64(q.s, 0);
		out->dirs = (uint64_t)sqlite3_column_int64(q.s, 1);
		out->bytes = (uint64_t)sqlite3_column_int64(q.s, 2);
		out->uploads = (uint64_t)sqlite3_column_int64(q.s, 3);
		out->not_persisted = (uint64_t)sqlite3_column_int64(q.s, 4);
		out->to_be_persisted = (uint64_t)sqlite3_column_int64(q.s, 5);
	}
	return meta_db_end(&q, ATR_OK);
}

/* ---- the mount's inode view ---- */

int meta_obj_by_ino(struct meta *m, uint64_t ino, char bucket[ATR_BUCKET_MAX + 1],
		    char key[ATR_KEY_MAX + 2], struct meta_row *out, int want_hdrs)
{
	int64_t t0 = meta_db_clock();
	struct meta_q q = meta_db_query(m, ST_OBJ_BY_INO, M_INT(ino));
	if (!meta_db_next(&q))
		return meta_db_end(&q, ATR_E_NO_KEY);
	meta_db_col_copy(bucket, ATR_BUCKET_MAX + 1, q.s, 0);
	meta_db_col_copy(key, ATR_KEY_MAX + 2, q.s, 1);
	row_from_stmt(q.s, 2, out);
	if (want_hdrs && meta_db_col_dup(q.s, 2 + ROW_NCOLS, &out->obj.hdrs))
		return meta_db_end(&q, ATR_E_NOMEM);
	int rc = meta_db_end(&q, ATR_OK);
	meta_db_count_lookup(m, t0); /* found rows only (meta_obj_get counts all) */
	return rc;
}

int meta_obj_set_posix(struct meta *m, const struct meta_row *row)
{
	const struct atr_obj *o = &row->obj;
	int rc = meta_db_exec(m, ST_OBJ_SET_POSIX, M_INT(o->ino), M_INT(o->mode), M_TEXT(o->owner),
			      M_INT(o->gid), M_INT(o->ctime_ns), M_INT(o->atime_ns),
			      M_INT(o->mtime_ns), M_TEXT(o->hdrs));
	return rc || !o->node ? rc : meta_node_sync(m, o->ino);
}

int meta_obj_set_etag(struct meta *m, uint64_t node, uint64_t version, const char *etag)
{
	return meta_db_exec(m, ST_OBJ_SET_ETAG, M_INT(node), M_INT(version), M_TEXT(etag));
}

int meta_node_set(struct meta *m, uint64_t ino, uint64_t node)
{
	return meta_db_exec(m, ST_NODE_SET, M_INT(ino), M_INT(node));
}

int meta_node_count(struct meta *m, uint64_t node)
{
	return meta_db_int(meta_db_query(m, ST_NODE_COUNT, M_INT(node)));
}

int meta_node_names(struct meta *m, uint64_t node, uint64_t except,
		    int (*cb)(void *arg, const char *bucket, const char *key), void *arg)
{
	struct meta_q q = meta_db_query(m, ST_NODE_NAMES, M_INT(node), M_INT(except));
	int err = 0;
	while (!err && meta_db_next(&q))
		err = cb(arg, (const char *)sqlite3_column_text(q.s, 0),
			 (const char *)sqlite3_column_text(q.s, 1));
	return meta_db_end(&q, err);
}

int meta_pending_clear(struct meta *m)
{
	return meta_db_exec(m, ST_PENDING_CLEAR);
}

int meta_subdir_count(struct meta *m, const char *bucket, const char *dirkey, const char *upto)
{
	if (!bucket)
		return meta_db_int(meta_db_query(m, ST_BUCKET_COUNT));
	return meta_db_int(meta_db_query(m, ST_SUBDIRS, M_TEXT(bucket), M_TEXT(dirkey),
					 M_TEXT(upto)));
}
