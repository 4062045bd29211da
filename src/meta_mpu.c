/*
 * meta_mpu.c — multipart uploads (src/meta_int.h): the mpu_uploads and
 * mpu_parts rows, what is kept for an upload's object until it completes
 * (mpu_tags, mpu_acls, mpu_checksums, mpu_part_checksums: triggers drop
 * them with the upload), and what a completed upload leaves on its object
 * (object_parts: the part sizes, object_part_checksums: the parts'
 * checksums; both keyed by ino and valid for one version, dropped with
 * the object's row; a noncurrent version keeps them in its versions row,
 * where the reads below find them too).
 */
#include "src/meta_db_int.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include "common/banned.h"

const char *const meta_mpu_sql[ST__COUNT] = {
	[ST_MPU_INSERT] = "INSERT INTO mpu_uploads(upload_id, bucket, key, owner, ctime, hdrs, sse, "
			  "sse_check, write_type) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_MPU_GET] = "SELECT upload_id, bucket, key, owner, ctime, hdrs, sse, sse_check, write_type "
		       "FROM mpu_uploads "
		       "WHERE upload_id = ?1",
	[ST_MPU_DELETE] = "DELETE FROM mpu_uploads WHERE upload_id = ?1",
	[ST_MPU_DELETE_PARTS] = "DELETE FROM mpu_parts WHERE upload_id = ?1",
	/* A row-value range: one walk of the (bucket, key, upload_id) index. */
	[ST_MPU_SCAN] = "SELECT upload_id, bucket, key, owner, ctime FROM mpu_uploads "
			"WHERE bucket = ?1 AND (key, upload_id) > (?2, ?3) ORDER BY key, upload_id",
	[ST_MPU_PART_GET] = "SELECT number, size, mtime, etag, file FROM mpu_parts "
			    "WHERE upload_id = ?1 AND number = ?2",
	[ST_MPU_PART_PUT] = "INSERT OR REPLACE INTO mpu_parts(upload_id, number, size, mtime, etag, file) "
			    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_MPU_PART_SCAN] = "SELECT number, size, mtime, etag, file FROM mpu_parts "
			     "WHERE upload_id = ?1 AND number > ?2 ORDER BY number",
	[ST_MPU_TAGS_PUT] = "INSERT OR REPLACE INTO mpu_tags(upload_id, tags) VALUES (?1, ?2)",
	[ST_MPU_TAGS_GET] = "SELECT tags FROM mpu_tags WHERE upload_id = ?1",
	[ST_MPU_ACL_PUT] = "INSERT OR REPLACE INTO mpu_acls(upload_id, acl) VALUES (?1, ?2)",
	[ST_MPU_ACL_GET] = "SELECT acl FROM mpu_acls WHERE upload_id = ?1",
	[ST_MPU_CK_PUT] = "INSERT OR REPLACE INTO mpu_checksums(upload_id, alg) VALUES (?1, ?2)",
	[ST_MPU_CK_GET] = "SELECT alg FROM mpu_checksums WHERE upload_id = ?1",
	[ST_PART_CK_PUT] = "INSERT OR REPLACE INTO mpu_part_checksums(upload_id, number, checksum) "
			   "VALUES (?1, ?2, ?3)",
	[ST_PART_CK_GET] = "SELECT checksum FROM mpu_part_checksums WHERE upload_id = ?1 AND number = ?2",
	[ST_PART_CK_DELETE] = "DELETE FROM mpu_part_checksums WHERE upload_id = ?1 AND number = ?2",
	[ST_PARTS_PUT] = "INSERT OR REPLACE INTO object_parts(ino, version, sizes) VALUES (?1, ?2, ?3)",
	/* A noncurrent version's are kept with its versions row. */
	[ST_PARTS_GET] = "SELECT sizes FROM object_parts WHERE ino = ?1 AND version = ?2 "
			 "UNION ALL SELECT parts FROM versions WHERE ino = ?1 AND version = ?2 "
			 "AND parts IS NOT NULL LIMIT 1",
	[ST_PARTS_DELETE] = "DELETE FROM object_parts WHERE ino = ?1",
	[ST_OBJ_SUMS_PUT] = "INSERT OR REPLACE INTO object_part_checksums(ino, version, sums) "
			    "VALUES (?1, ?2, ?3)",
	[ST_OBJ_SUMS_GET] = "SELECT sums FROM object_part_checksums WHERE ino = ?1 AND version = ?2 "
			    "UNION ALL SELECT sums FROM versions WHERE ino = ?1 AND version = ?2 "
			    "AND parts IS NOT NULL AND sums IS NOT NULL LIMIT 1",
};

/* ---- multipart uploads ---- */

static void mpu_from_stmt(sqlite3_stmt *s, struct meta_mpu *mu)
{
	memset(mu, 0, sizeof(*mu));
	meta_db_col_copy(mu->up.upload_id, sizeof(mu->up.upload_id), s, 0);
	meta_db_col_copy(mu->bucket, sizeof(mu->bucket), s, 1);
	meta_db_col_copy(mu->up.key, sizeof(mu->up.key), s, 2);
	meta_db_col_copy(mu->up.owner, sizeof(mu->up.owner), s, 3);
	mu->up.ctime_ns = sqlite3_column_int64(s, 4);
}

int meta_mpu_insert(struct meta *m, const struct meta_mpu *mu)
{
	return meta_db_exec(m, ST_MPU_INSERT, M_TEXT(mu->up.upload_id), M_TEXT(mu->bucket),
			    M_TEXT(mu->up.key), M_TEXT(mu->up.owner), M_INT(mu->up.ctime_ns),
			    M_TEXT(mu->hdrs), M_INT(mu->up.sse),
			    M_TEXT(*mu->sse_check ? mu->sse_check : NULL), M_INT(mu->up.write_type));
}

int meta_mpu_get(struct meta *m, const char *upload_id, struct meta_mpu *out, int want_hdrs)
{
	struct meta_q q = meta_db_query(m, ST_MPU_GET, M_TEXT(upload_id));
	if (!meta_db_next(&q))
		return meta_db_end(&q, ATR_E_NO_UPLOAD);
	mpu_from_stmt(q.s, out);
	out->up.sse = sqlite3_column_int(q.s, 6);
	meta_db_col_copy(out->sse_check, sizeof(out->sse_check), q.s, 7);
	out->up.write_type = sqlite3_column_int(q.s, 8);
	return meta_db_end(&q, want_hdrs ? meta_db_col_dup(q.s, 5, &out->hdrs) : ATR_OK);
}

int meta_mpu_delete(struct meta *m, const char *upload_id)
{
	int rc = meta_db_exec(m, ST_MPU_DELETE, M_TEXT(upload_id));
	return rc ? rc : meta_db_exec(m, ST_MPU_DELETE_PARTS, M_TEXT(upload_id));
}

int meta_mpu_scan(struct meta *m, const char *bucket, const char *key, const char *upload_id,
		  meta_mpu_cb cb, void *arg)
{
	struct meta_q q = meta_db_query(m, ST_MPU_SCAN, M_TEXT(bucket), M_TEXT(key),
					M_TEXT(upload_id));
	while (meta_db_next(&q)) {
		struct meta_mpu mu = { 0 };
		mpu_from_stmt(q.s, &mu);
		if (cb(arg, &mu))
			break;
	}
	return meta_db_end(&q, ATR_OK);
}

static void part_from_stmt(sqlite3_stmt *s, struct meta_mpu_part *p)
{
	memset(p, 0, sizeof(*p));
	p->p.number = sqlite3_column_int(s, 0);
	p->p.size = (uint64_t)sqlite3_column_int64(s, 1);
	p->p.mtime_ns = sqlite3_column_int64(s, 2);
	meta_db_col_copy(p->p.etag, sizeof(p->p.etag), s, 3);
	meta_db_col_copy(p->file, sizeof(p->file), s, 4);
}

int meta_mpu_part_get(struct meta *m, const char *upload_id, int number,
		      struct meta_mpu_part *out)
{
	struct meta_q q = meta_db_query(m, ST_MPU_PART_GET, M_TEXT(upload_id), M_INT(number));
	if (!meta_db_next(&q))
		return meta_db_end(&q, ATR_E_INVALID_PART);
	part_from_stmt(q.s, out);
	return meta_db_end(&q, ATR_OK);
}

int meta_mpu_part_put(struct meta *m, const char *upload_id, const struct meta_mpu_part *p)
{
	return meta_db_exec(m, ST_MPU_PART_PUT, M_TEXT(upload_id), M_INT(p->p.number),
			    M_INT(p->p.size), M_INT(p->p.mtime_ns), M_TEXT(p->p.etag),
			    M_TEXT(p->file));
}

int meta_mpu_part_scan(struct meta *m, const char *upload_id, int after,
		       meta_mpu_part_cb cb, void *arg)
{
	struct meta_q q = meta_db_query(m, ST_MPU_PART_SCAN, M_TEXT(upload_id), M_INT(after));
	while (meta_db_next(&q)) {
		struct meta_mpu_part p;
		part_from_stmt(q.s, &p);
		if (cb(arg, &p))
			break;
	}
	return meta_db_end(&q, ATR_OK);
}

int meta_mpu_tags_put(struct meta *m, const char *upload_id, const char *tags)
{
	return meta_db_exec(m, ST_MPU_TAGS_PUT, M_TEXT(upload_id), M_TEXT(tags));
}

int meta_mpu_tags_get(struct meta *m, const char *upload_id, char **tags)
{
	return meta_db_text_dup(meta_db_query(m, ST_MPU_TAGS_GET, M_TEXT(upload_id)), tags);
}

int meta_mpu_acl_put(struct meta *m, const char *upload_id, const char *acl)
{
	return meta_db_exec(m, ST_MPU_ACL_PUT, M_TEXT(upload_id), M_TEXT(acl));
}

int meta_mpu_acl_get(struct meta *m, const char *upload_id, char **acl)
{
	return meta_db_text_dup(meta_db_query(m, ST_MPU_ACL_GET, M_TEXT(upload_id)), acl);
}

int meta_mpu_checksum_put(struct meta *m, const char *upload_id, const char *alg)
{
	return meta_db_exec(m, ST_MPU_CK_PUT, M_TEXT(upload_id), M_TEXT(alg));
}

int meta_mpu_checksum_get(struct meta *m, const char *upload_id, char *alg, size_t n)
{
	return meta_db_text_copy(meta_db_query(m, ST_MPU_CK_GET, M_TEXT(upload_id)), alg, n);
}

int meta_mpu_part_checksum_put(struct meta *m, const char *upload_id, int number,
			       const char *checksum)
{
	if (!checksum || !*checksum)
		return meta_db_exec(m, ST_PART_CK_DELETE, M_TEXT(upload_id), M_INT(number));
	return meta_db_exec(m, ST_PART_CK_PUT, M_TEXT(upload_id), M_INT(number), M_TEXT(checksum));
}

int meta_mpu_part_checksum_get(struct meta *m, const char *upload_id, int number,
			       char *checksum, size_t n)
{
	return meta_db_text_copy(meta_db_query(m, ST_PART_CK_GET, M_TEXT(upload_id), M_INT(number)),
				 checksum, n);
}

/* ---- what a completed upload leaves on its object: part sizes and sums ---- */

int meta_obj_parts_put(struct meta *m, uint64_t ino, uint64_t version, const uint64_t *sizes,
		       int n)
{
	unsigned char *blob = malloc((size_t)n * 8);
	if (!blob)
		return ATR_E_NOMEM;
	for (int i = 0; i < n; i++)
		for (int b = 0; b < 8; b++)
			blob[i * 8 + b] = (unsigned char)(sizes[i] >> (8 * b));
	int rc = meta_db_exec(m, ST_PARTS_PUT, M_INT(ino), M_INT(version), M_BLOB(blob, n * 8));
	free(blob);
	return rc;
}

int meta_obj_parts_get(struct meta *m, uint64_t ino, uint64_t version, uint64_t **sizes, int *n)
{
	*sizes = NULL;
	*n = 0;
	struct meta_q q = meta_db_query(m, ST_PARTS_GET, M_INT(ino), M_INT(version));
	if (!meta_db_next(&q))
		return meta_db_end(&q, ATR_E_NO_KEY);
	const unsigned char *blob = sqlite3_column_blob(q.s, 0);
	int len = sqlite3_column_bytes(q.s, 0), count = len / 8;
	if (!blob || count < 1 || count > ATR_PART_MAX || len % 8)
		return meta_db_end(&q, ATR_E_NO_KEY); /* not something we wrote */
	if (!(*sizes = malloc((size_t)count * sizeof(**sizes))))
		return meta_db_end(&q, ATR_E_NOMEM);
	for (int i = 0; i < count; i++) {
		uint64_t v = 0;
		for (int b = 7; b >= 0; b--)
			v = v << 8 | blob[i * 8 + b];
		(*sizes)[i] = v;
	}
	*n = count;
	return meta_db_end(&q, ATR_OK);
}

int meta_obj_parts_delete(struct meta *m, uint64_t ino)
{
	return meta_db_exec(m, ST_PARTS_DELETE, M_INT(ino));
}

int meta_obj_part_sums_put(struct meta *m, uint64_t ino, uint64_t version, const char *sums)
{
	return meta_db_exec(m, ST_OBJ_SUMS_PUT, M_INT(ino), M_INT(version), M_TEXT(sums));
}

int meta_obj_part_sums_get(struct meta *m, uint64_t ino, uint64_t version, char **sums)
{
	return meta_db_text_dup(meta_db_query(m, ST_OBJ_SUMS_GET, M_INT(ino), M_INT(version)), sums);
}
