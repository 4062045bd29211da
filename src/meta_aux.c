/*
 * meta_aux.c — the side tables (src/meta_int.h): object tags and bucket
 * tags, extended attributes and ACL grants (keyed by the inode, gone with
 * its last name), a bucket's settings and policy (columns of buckets),
 * the commit intents that ns_commit.c records before its rename, and
 * the host ids given to users without a host account (idmap).
 */
#include "src/meta_db_int.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include "common/banned.h"

const char *const meta_aux_sql[ST__COUNT] = {
	[ST_TAGS_PUT] = "INSERT OR REPLACE INTO object_tags(ino, tags) VALUES (?1, ?2)",
	[ST_TAGS_GET] = "SELECT tags FROM object_tags WHERE ino = ?1",
	[ST_TAGS_DELETE] = "DELETE FROM object_tags WHERE ino = ?1",
	[ST_BUCKET_TAGS_PUT] = "INSERT OR REPLACE INTO bucket_tags(bucket, tags) VALUES (?1, ?2)",
	[ST_BUCKET_TAGS_GET] = "SELECT tags FROM bucket_tags WHERE bucket = ?1",
	[ST_BUCKET_TAGS_DELETE] = "DELETE FROM bucket_tags WHERE bucket = ?1",
	[ST_BUCKET_DOC_PUT] = "INSERT OR REPLACE INTO bucket_docs(bucket, kind, doc) VALUES (?1, ?2, ?3)",
	[ST_BUCKET_DOC_GET] = "SELECT doc FROM bucket_docs WHERE bucket = ?1 AND kind = ?2",
	[ST_BUCKET_DOC_DELETE] = "DELETE FROM bucket_docs WHERE bucket = ?1 AND kind = ?2",
	[ST_BUCKET_DOC_SCAN] = "SELECT bucket, doc FROM bucket_docs WHERE kind = ?1 ORDER BY bucket",
	[ST_XATTR_GET] = "SELECT value FROM xattrs WHERE ino = ?1 AND name = ?2",
	[ST_XATTR_PUT] = "INSERT OR REPLACE INTO xattrs(ino, name, value) VALUES (?1, ?2, ?3)",
	[ST_XATTR_DELETE] = "DELETE FROM xattrs WHERE ino = ?1 AND name = ?2",
	[ST_XATTR_LIST] = "SELECT name FROM xattrs WHERE ino = ?1 ORDER BY name",
	/* ACL grants, keyed like xattrs by the inode (coalesce(node, ino)). */
	[ST_ACL_GET] = "SELECT acl FROM acls WHERE ino = ?1",
	[ST_ACL_PUT] = "INSERT OR REPLACE INTO acls(ino, acl) VALUES (?1, ?2)",
	[ST_ACL_DELETE] = "DELETE FROM acls WHERE ino = ?1",
	[ST_ACL_FLAG] = "UPDATE objects SET has_acl = ?2 WHERE ino = ?1 OR node = ?1",
	/* A bucket's settings: NULL leaves one as it is, so one statement
	 * serves every setter (the sentinel in ?5 clears the policy). */
	[ST_BUCKET_CONF_SET] = "UPDATE buckets SET public_block = CASE WHEN ?2 = -2 THEN NULL "
			       "ELSE coalesce(?2, public_block) END, ownership = CASE WHEN ?3 = -2 "
			       "THEN NULL ELSE coalesce(?3, ownership) END, policy = CASE WHEN ?5 "
			       "THEN NULL ELSE coalesce(?4, policy) END WHERE name = ?1",
	[ST_BUCKET_POLICY_GET] = "SELECT policy FROM buckets WHERE name = ?1 AND policy IS NOT NULL",
	[ST_INTENT_CLEAR] = "DELETE FROM intents",
	[ST_INTENT_PUT] = "INSERT INTO intents(stage, path) VALUES (?1, ?2)",
	[ST_INTENT_SCAN] = "SELECT stage, path FROM intents",
	[ST_IDMAP_BY_NAME] = "SELECT uid FROM idmap WHERE user = ?1",
	[ST_IDMAP_BY_UID] = "SELECT user FROM idmap WHERE uid = ?1",
	[ST_IDMAP_NEXT] = "SELECT max(uid) + 1 FROM idmap",
	[ST_IDMAP_PUT] = "INSERT INTO idmap(user, uid) VALUES (?1, ?2)",
	[ST_PQ_PUT] = "INSERT OR REPLACE INTO persist_queue(ino, since, due, tries) "
		      "VALUES (?1, ?2, 0, 0)",
	[ST_PQ_NEXT] = "SELECT ino, tries FROM persist_queue WHERE due <= ?1 ORDER BY due, ino LIMIT 1",
	[ST_PQ_FIRST_DUE] = "SELECT min(due) FROM persist_queue",
	[ST_PQ_RETRY] = "UPDATE persist_queue SET tries = tries + 1, due = ?2 WHERE ino = ?1",
	/* One walk of the queue (short), a point read of each entry's row. */
	[ST_PQ_DEFER] = "UPDATE persist_queue SET due = ?2 WHERE due < ?2 AND "
			"(SELECT bucket FROM objects WHERE objects.ino = persist_queue.ino) = ?1",
	[ST_PQ_DONE] = "DELETE FROM persist_queue WHERE ino = ?1",
	[ST_PQ_COUNT] = "SELECT count(*) FROM persist_queue",
	[ST_OBJ_PERSISTED] = "UPDATE objects SET persist = 0, mtime = ?3 WHERE ino = ?1 AND version = ?2",
	[ST_PIN_PUT] = "INSERT OR IGNORE INTO object_pins(ino) VALUES (?1)",
	[ST_PIN_DELETE] = "DELETE FROM object_pins WHERE ino = ?1",
	[ST_PIN_GET] = "SELECT 1 FROM object_pins WHERE ino = ?1",
	[ST_PIN_SCAN] = "SELECT ino FROM object_pins ORDER BY ino",
	[ST_TTL_PUT] = "INSERT OR REPLACE INTO object_ttls(ino, due, action) VALUES (?1, ?2, ?3)",
	[ST_TTL_DELETE] = "DELETE FROM object_ttls WHERE ino = ?1",
	[ST_TTL_GET] = "SELECT due, action FROM object_ttls WHERE ino = ?1",
	[ST_TTL_NEXT] = "SELECT ino, action FROM object_ttls WHERE due <= ?1 ORDER BY due, ino LIMIT 1",
	[ST_TTL_FIRST_DUE] = "SELECT min(due) FROM object_ttls",
};

/* ---- object and bucket tags (src/tagging.c) ---- */

int meta_obj_tags_put(struct meta *m, uint64_t ino, const char *tags)
{
	return meta_db_exec(m, ST_TAGS_PUT, M_INT(ino), M_TEXT(tags));
}

int meta_obj_tags_get(struct meta *m, uint64_t ino, char **tags)
{
	return meta_db_text_dup(meta_db_query(m, ST_TAGS_GET, M_INT(ino)), tags);
}

int meta_obj_tags_delete(struct meta *m, uint64_t ino)
{
	return meta_db_exec(m, ST_TAGS_DELETE, M_INT(ino));
}

int meta_bucket_tags_put(struct meta *m, const char *bucket, const char *tags)
{
	return meta_db_exec(m, ST_BUCKET_TAGS_PUT, M_TEXT(bucket), M_TEXT(tags));
}

int meta_bucket_tags_get(struct meta *m, const char *bucket, char **tags)
{
	return meta_db_text_dup(meta_db_query(m, ST_BUCKET_TAGS_GET, M_TEXT(bucket)), tags);
}

int meta_bucket_tags_delete(struct meta *m, const char *bucket)
{
	return meta_db_exec(m, ST_BUCKET_TAGS_DELETE, M_TEXT(bucket));
}

int meta_bucket_doc_put(struct meta *m, const char *bucket, int kind, const char *doc)
{
	if (!doc)
		return meta_db_exec(m, ST_BUCKET_DOC_DELETE, M_TEXT(bucket), M_INT(kind));
	return meta_db_exec(m, ST_BUCKET_DOC_PUT, M_TEXT(bucket), M_INT(kind), M_TEXT(doc));
}

int meta_bucket_doc_get(struct meta *m, const char *bucket, int kind, char **doc)
{
	return meta_db_text_dup(meta_db_query(m, ST_BUCKET_DOC_GET, M_TEXT(bucket), M_INT(kind)),
				doc);
}

int meta_bucket_doc_scan(struct meta *m, int kind,
			 int (*cb)(void *arg, const char *bucket, const char *doc), void *arg)
{
	struct meta_q q = meta_db_query(m, ST_BUCKET_DOC_SCAN, M_INT(kind));
	while (meta_db_next(&q))
		if (cb(arg, (const char *)sqlite3_column_text(q.s, 0),
		       (const char *)sqlite3_column_text(q.s, 1)))
			break;
	return meta_db_end(&q, ATR_OK);
}

/* ---- extended attributes ---- */

int meta_xattr_get(struct meta *m, uint64_t ino, const char *name, void **val, size_t *len)
{
	struct meta_q q = meta_db_query(m, ST_XATTR_GET, M_INT(ino), M_TEXT(name));
	if (!meta_db_next(&q))
		return meta_db_end(&q, ATR_E_NO_KEY);
	size_t n = (size_t)sqlite3_column_bytes(q.s, 0);
	const void *b = sqlite3_column_blob(q.s, 0);
	void *v = malloc(n ? n : 1);
	if (!v)
		return meta_db_end(&q, ATR_E_NOMEM);
	if (n)
		memcpy(v, b, n);
	*val = v;
	*len = n;
	return meta_db_end(&q, ATR_OK);
}

int meta_xattr_put(struct meta *m, uint64_t ino, const char *name, const void *val, size_t len)
{
	return meta_db_exec(m, ST_XATTR_PUT, M_INT(ino), M_TEXT(name),
			    M_BLOB(len ? val : "", (int)len));
}

int meta_xattr_delete(struct meta *m, uint64_t ino, const char *name)
{
	struct meta_q q = meta_db_query(m, ST_XATTR_DELETE, M_INT(ino), M_TEXT(name));
	meta_db_next(&q);
	int rc = meta_db_end(&q, ATR_OK);
	if (!rc && !sqlite3_changes(sqlite3_db_handle(q.s)))
		return ATR_E_NO_KEY;
	return rc;
}

int meta_xattr_list(struct meta *m, uint64_t ino, int (*cb)(void *arg, const char *name),
		    void *arg)
{
	struct meta_q q = meta_db_query(m, ST_XATTR_LIST, M_INT(ino));
	while (meta_db_next(&q))
		if (cb(arg, (const char *)sqlite3_column_text(q.s, 0)))
			break;
	return meta_db_end(&q, ATR_OK);
}

/* ---- access control (src/acl.c, src/perm.c) ---- */

int meta_acl_get(struct meta *m, uint64_t node, char **acl)
{
	return meta_db_text_dup(meta_db_query(m, ST_ACL_GET, M_INT(node)), acl);
}

int meta_acl_set(struct meta *m, uint64_t node, const char *acl)
{
	int rc = acl ? meta_db_exec(m, ST_ACL_PUT, M_INT(node), M_TEXT(acl))
		     : meta_db_exec(m, ST_ACL_DELETE, M_INT(node));
	return rc ? rc : meta_db_exec(m, ST_ACL_FLAG, M_INT(node), M_INT(acl != NULL));
}

int meta_bucket_conf_set(struct meta *m, const char *name, int public_block, int ownership,
			 const char *policy, int drop_policy)
{
	return meta_db_exec(m, ST_BUCKET_CONF_SET, M_TEXT(name),
			    public_block == META_KEEP ? M_NULL : M_INT(public_block),
			    ownership == META_KEEP ? M_NULL : M_INT(ownership), M_TEXT(policy),
			    M_INT(drop_policy));
}

int meta_bucket_policy_get(struct meta *m, const char *name, char **policy)
{
	return meta_db_text_dup(meta_db_query(m, ST_BUCKET_POLICY_GET, M_TEXT(name)), policy);
}

/* ---- commit intents ---- */

int meta_intent_set(struct meta *m, const char *stage, const char *path)
{
	int rc = meta_db_exec(m, ST_INTENT_CLEAR);
	return rc ? rc : meta_intent_add(m, stage, path);
}

int meta_intent_add(struct meta *m, const char *stage, const char *path)
{
	return meta_db_exec(m, ST_INTENT_PUT, M_TEXT(stage), M_TEXT(path));
}

int meta_intent_scan(struct meta *m, int (*cb)(void *arg, const char *stage, const char *path),
		     void *arg)
{
	struct meta_q q = meta_db_query(m, ST_INTENT_SCAN);
	while (meta_db_next(&q))
		if (cb(arg, (const char *)sqlite3_column_text(q.s, 0),
		       (const char *)sqlite3_column_text(q.s, 1)))
			break;
	return meta_db_end(&q, ATR_OK);
}

int meta_intent_clear(struct meta *m)
{
	return meta_db_exec(m, ST_INTENT_CLEAR);
}

/* ---- host ids of users (src/idmap.c) ---- */

int meta_idmap_by_name(struct meta *m, const char *user, uint32_t *uid)
{
	struct meta_q q = meta_db_query(m, ST_IDMAP_BY_NAME, M_TEXT(user));
	if (!meta_db_next(&q))
		return meta_db_end(&q, ATR_E_NO_KEY);
	*uid = (uint32_t)sqlite3_column_int64(q.s, 0);
	return meta_db_end(&q, ATR_OK);
}

int meta_idmap_by_uid(struct meta *m, uint32_t uid, char *user, size_t n)
{
	return meta_db_text_copy(meta_db_query(m, ST_IDMAP_BY_UID, M_INT(uid)), user, n);
}

int meta_idmap_next(struct meta *m, uint32_t *next)
{
	struct meta_q q = meta_db_query(m, ST_IDMAP_NEXT);
	int rc = ATR_E_NO_KEY;
	if (meta_db_next(&q) && sqlite3_column_type(q.s, 0) != SQLITE_NULL) {
		int64_t v = sqlite3_column_int64(q.s, 0);
		*next = (uint32_t)v;
		if (v >= 0 && v <= 0xfffffffe)
			rc = ATR_OK;
	}
	return meta_db_end(&q, rc);
}

int meta_idmap_put(struct meta *m, const char *user, uint32_t uid)
{
	return meta_db_exec(m, ST_IDMAP_PUT, M_TEXT(user), M_INT(uid));
}

/* ---- the persist queue (src/persist.c) ---- */

int meta_pq_put(struct meta *m, uint64_t ino, int64_t now_ms)
{
	return meta_db_exec(m, ST_PQ_PUT, M_INT(ino), M_INT(now_ms));
}

int meta_pq_next(struct meta *m, int64_t now_ms, uint64_t *ino, int *tries, int64_t *wait_ms)
{
	struct meta_q q = meta_db_query(m, ST_PQ_NEXT, M_INT(now_ms));
	int rc = ATR_E_NO_KEY;
	if (meta_db_next(&q)) {
		*ino = (uint64_t)sqlite3_column_int64(q.s, 0);
		*tries = sqlite3_column_int(q.s, 1);
		rc = ATR_OK;
	}
	if ((rc = meta_db_end(&q, rc)) != ATR_E_NO_KEY)
		return rc;
	q = meta_db_query(m, ST_PQ_FIRST_DUE);
	*wait_ms = -1;
	if (meta_db_next(&q) && sqlite3_column_type(q.s, 0) != SQLITE_NULL) {
		int64_t due = sqlite3_column_int64(q.s, 0);
		*wait_ms = due > now_ms ? due - now_ms : 0;
	}
	int erc = meta_db_end(&q, ATR_OK);
	return erc ? erc : ATR_E_NO_KEY;
}

int meta_pq_retry(struct meta *m, uint64_t ino, int64_t due_ms)
{
	return meta_db_exec(m, ST_PQ_RETRY, M_INT(ino), M_INT(due_ms));
}

int meta_pq_defer(struct meta *m, const char *bucket, int64_t due_ms)
{
	return meta_db_exec(m, ST_PQ_DEFER, M_TEXT(bucket), M_INT(due_ms));
}

int meta_pq_done(struct meta *m, uint64_t ino)
{
	return meta_db_exec(m, ST_PQ_DONE, M_INT(ino));
}

int meta_pq_count(struct meta *m, uint64_t *n)
{
	struct meta_q q = meta_db_query(m, ST_PQ_COUNT);
	*n = 0;
	if (meta_db_next(&q))
		*n = (uint64_t)sqlite3_column_int64(q.s, 0);
	return meta_db_end(&q, ATR_OK);
}

int meta_obj_persisted(struct meta *m, uint64_t ino, uint64_t version, int64_t mtime_ns)
{
	return meta_db_exec(m, ST_OBJ_PERSISTED, M_INT(ino), M_INT(version), M_INT(mtime_ns));
}

/* ---- pins and TTLs (src/persist.c) ---- */

int meta_pin_set(struct meta *m, uint64_t ino, int on)
{
	return meta_db_exec(m, on ? ST_PIN_PUT : ST_PIN_DELETE, M_INT(ino));
}

int meta_pin_get(struct meta *m, uint64_t ino)
{
	struct meta_q q = meta_db_query(m, ST_PIN_GET, M_INT(ino));
	int on = meta_db_next(&q);
	return meta_db_end(&q, ATR_OK) ? 0 : on;
}

int meta_pin_scan(struct meta *m, uint64_t **inos, size_t *n)
{
	struct meta_q q = meta_db_query(m, ST_PIN_SCAN);
	uint64_t *v = NULL;
	size_t cap = 0, k = 0;
	int rc = ATR_OK;
	while (meta_db_next(&q)) {
		if (k == cap) {
			size_t nc = cap ? cap * 2 : 16;
			uint64_t *nv = realloc(v, nc * sizeof(*nv));
			if (!nv) {
				rc = ATR_E_NOMEM;
				break;
			}
			v = nv;
			cap = nc;
		}
		v[k++] = (uint64_t)sqlite3_column_int64(q.s, 0);
	}
	if ((rc = meta_db_end(&q, rc))) {
		free(v);
		return rc;
	}
	*inos = v;
	*n = k;
	return ATR_OK;
}

int meta_ttl_set(struct meta *m, uint64_t ino, int64_t due_ms, int action)
{
	if (due_ms < 0)
		return meta_db_exec(m, ST_TTL_DELETE, M_INT(ino));
	return meta_db_exec(m, ST_TTL_PUT, M_INT(ino), M_INT(due_ms), M_INT(action));
}

int meta_ttl_get(struct meta *m, uint64_t ino, int64_t *due_ms, int *action)
{
	struct meta_q q = meta_db_query(m, ST_TTL_GET, M_INT(ino));
	int rc = ATR_E_NO_KEY;
	if (meta_db_next(&q)) {
		*due_ms = sqlite3_column_int64(q.s, 0);
		*action = sqlite3_column_int(q.s, 1);
		rc = ATR_OK;
	}
	return meta_db_end(&q, rc);
}

int meta_ttl_next(struct meta *m, int64_t now_ms, uint64_t *ino, int *action, int64_t *wait_ms)
{
	struct meta_q q = meta_db_query(m, ST_TTL_NEXT, M_INT(now_ms));
	int rc = ATR_E_NO_KEY;
	if (meta_db_next(&q)) {
		*ino = (uint64_t)sqlite3_column_int64(q.s, 0);
		*action = sqlite3_column_int(q.s, 1);
		rc = ATR_OK;
	}
	if ((rc = meta_db_end(&q, rc)) != ATR_E_NO_KEY)
		return rc;
	q = meta_db_query(m, ST_TTL_FIRST_DUE);
	*wait_ms = -1;
	if (meta_db_next(&q) && sqlite3_column_type(q.s, 0) != SQLITE_NULL) {
		int64_t due = sqlite3_column_int64(q.s, 0);
		*wait_ms = due > now_ms ? due - now_ms : 0;
	}
	int erc = meta_db_end(&q, ATR_OK);
	return erc ? erc : ATR_E_NO_KEY;
}
