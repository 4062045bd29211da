#include "src/meta_int.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "src/core_int.h"

enum stmt_id {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_BEGIN_READ,
	ST_BUCKET_GET, ST_BUCKET_INSERT, ST_BUCKET_DELETE, ST_BUCKET_LIST, ST_BUCKET_LIST_ALL,
	ST_OBJ_GET, ST_OBJ_INSERT, ST_OBJ_UPDATE, ST_OBJ_DELETE, ST_OBJ_DELETE_RANGE,
	ST_OBJ_SET_DIR_MTIME, ST_OBJ_CHILD,
	ST_SCAN_GE, ST_SCAN_GT, ST_SCAN_GE_TO, ST_SCAN_GT_TO,
	ST_SCANV_GE, ST_SCANV_GT, ST_SCANV_GE_TO, ST_SCANV_GT_TO,
	ST_DIRS_FROM, ST_DIRS_FROM_TO,
	ST_MPU_INSERT, ST_MPU_GET, ST_MPU_DELETE, ST_MPU_DELETE_PARTS, ST_MPU_SCAN,
	ST_MPU_PART_GET, ST_MPU_PART_PUT, ST_MPU_PART_SCAN,
	ST_OBJ_RENAME, ST_OBJ_RENAME_PREFIX, ST_OBJ_SET_ATTR, ST_OBJ_SET_ATTR_RANGE,
	ST_BUCKET_SET_OWNER, ST_TOTALS,
	ST_PARTS_PUT, ST_PARTS_GET, ST_PARTS_DELETE,
	ST_TAGS_PUT, ST_TAGS_GET, ST_TAGS_DELETE, ST_MPU_TAGS_PUT, ST_MPU_TAGS_GET,
	ST_BUCKET_TAGS_PUT, ST_BUCKET_TAGS_GET, ST_BUCKET_TAGS_DELETE,
	ST_BUCKET_DOC_PUT, ST_BUCKET_DOC_GET, ST_BUCKET_DOC_DELETE,
	ST_MPU_CK_PUT, ST_MPU_CK_GET, ST_PART_CK_PUT, ST_PART_CK_GET, ST_PART_CK_DELETE,
	ST_OBJ_SUMS_PUT, ST_OBJ_SUMS_GET,
	ST_INTENT_CLEAR, ST_INTENT_PUT, ST_INTENT_SCAN,
	ST_OBJ_BY_INO, ST_OBJ_SET_POSIX, ST_PENDING_CLEAR, ST_SUBDIRS, ST_BUCKET_COUNT,
	ST_XATTR_GET, ST_XATTR_PUT, ST_XATTR_DELETE, ST_XATTR_LIST,
	ST_NODE_SET, ST_NODE_SYNC, ST_NODE_COUNT, ST_NODE_NAMES, ST_OBJ_SET_ETAG,
	ST_ACL_GET, ST_ACL_PUT, ST_ACL_DELETE, ST_ACL_FLAG,
	ST_BUCKET_CONF_SET, ST_BUCKET_POLICY_GET, ST_ANCESTORS, ST_MPU_ACL_PUT, ST_MPU_ACL_GET,
	ST_PERM_FOLLOW, ST_IDMAP_BY_NAME, ST_IDMAP_BY_UID, ST_IDMAP_NEXT, ST_IDMAP_PUT,
	ST__COUNT
};

#define ROW_COLS "ino, is_dir, implicit, size, mtime, version, mode, owner, etag, dir_mtime, " \
		 "gid, ctime, atime, kind, rdev, pending, node, has_acl"
#define ROW_NCOLS 18
/* A bucket's row and its root directory's permissions (see meta_bucket_get). */
#define BUCKET_COLS "b.name, b.owner, b.location, b.ctime, b.public_block, b.ownership, " \
		    "b.policy IS NOT NULL, r.ino, r.gid, r.mode, r.has_acl"
#define BUCKET_FROM "FROM buckets b LEFT JOIN objects r ON r.bucket = b.name AND r.key = ''"

static const char *const stmt_sql[ST__COUNT] = {
	[ST_INTENT_CLEAR] = "DELETE FROM intents",
	[ST_INTENT_PUT] = "INSERT INTO intents(stage, path) VALUES (?1, ?2)",
	[ST_INTENT_SCAN] = "SELECT stage, path FROM intents",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_BEGIN_READ] = "BEGIN DEFERRED",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_BUCKET_GET] = "SELECT " BUCKET_COLS " " BUCKET_FROM " WHERE b.name = ?1",
	[ST_BUCKET_INSERT] = "INSERT INTO buckets(name, owner, location, ctime) VALUES (?1, ?2, ?3, ?4)",
	[ST_BUCKET_DELETE] = "DELETE FROM buckets WHERE name = ?1",
	[ST_BUCKET_LIST] = "SELECT " BUCKET_COLS " " BUCKET_FROM " WHERE b.owner = ?1 ORDER BY b.name",
	[ST_BUCKET_LIST_ALL] = "SELECT " BUCKET_COLS " " BUCKET_FROM " ORDER BY b.name",
	[ST_OBJ_GET] = "SELECT " ROW_COLS ", hdrs FROM objects WHERE bucket = ?1 AND key = ?2",
	[ST_OBJ_INSERT] = "INSERT INTO objects(bucket, key, is_dir, implicit, size, mtime, version, "
			  "mode, owner, etag, dir_mtime, hdrs, gid, ctime, atime, kind, rdev, pending, "
			  "has_acl, node) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
			  "?14, ?15, ?16, ?17, ?18, ?19, ?20)",
	[ST_OBJ_UPDATE] = "UPDATE objects SET is_dir = ?3, implicit = ?4, size = ?5, mtime = ?6, "
			  "version = ?7, mode = ?8, owner = ?9, etag = ?10, dir_mtime = ?11, hdrs = ?12, "
			  "gid = ?13, ctime = ?14, atime = ?15, kind = ?16, rdev = ?17, pending = ?18, "
			  "has_acl = ?19 WHERE bucket = ?1 AND key = ?2 RETURNING ino, node",
	/* The row numbered ?1, or else another name of that inode. */
	[ST_OBJ_BY_INO] = "SELECT bucket, key, " ROW_COLS ", hdrs FROM objects WHERE ino = ?1 "
			  "UNION ALL SELECT bucket, key, " ROW_COLS ", hdrs FROM objects "
			  "WHERE node = ?1 LIMIT 1",
	[ST_NODE_SET] = "UPDATE objects SET node = ?2 WHERE ino = ?1",
	/* Every other name of the inode of row ?1 takes its attributes. */
	[ST_NODE_SYNC] = "UPDATE objects SET size = s.size, mtime = s.mtime, version = s.version, "
			 "mode = s.mode, owner = s.owner, etag = s.etag, hdrs = s.hdrs, gid = s.gid, "
			 "ctime = s.ctime, atime = s.atime, kind = s.kind, rdev = s.rdev, "
			 "has_acl = s.has_acl FROM (SELECT * FROM objects WHERE ino = ?1) AS s "
			 "WHERE objects.node = s.node AND objects.ino <> s.ino",
	[ST_NODE_COUNT] = "SELECT count(*) FROM objects WHERE node = ?1",
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
	[ST_OBJ_SET_ETAG] = "UPDATE objects SET etag = ?3 WHERE (ino = ?1 OR node = ?1) "
			    "AND version = ?2 AND etag = ''",
	[ST_NODE_NAMES] = "SELECT bucket, key FROM objects WHERE node = ?1 AND ino <> ?2",
	[ST_OBJ_SET_POSIX] = "UPDATE objects SET mode = ?2, owner = ?3, gid = ?4, ctime = ?5, "
			     "atime = ?6, mtime = ?7, hdrs = ?8 WHERE ino = ?1",
	[ST_PENDING_CLEAR] = "DELETE FROM objects WHERE pending = 1",
	/* Directories right below ?2 (a directory key, "" for the bucket's
	 * root): one '/' after ?2, at the end. */
	[ST_SUBDIRS] = "SELECT count(*) FROM objects WHERE bucket = ?1 AND key > ?2 AND key < ?3 "
		       "AND is_dir = 1 AND instr(substr(key, length(?2) + 1), '/') = "
		       "length(key) - length(?2)",
	[ST_BUCKET_COUNT] = "SELECT count(*) FROM buckets",
	[ST_XATTR_GET] = "SELECT value FROM xattrs WHERE ino = ?1 AND name = ?2",
	[ST_XATTR_PUT] = "INSERT OR REPLACE INTO xattrs(ino, name, value) VALUES (?1, ?2, ?3)",
	[ST_XATTR_DELETE] = "DELETE FROM xattrs WHERE ino = ?1 AND name = ?2",
	[ST_XATTR_LIST] = "SELECT name FROM xattrs WHERE ino = ?1 ORDER BY name",
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
	[ST_MPU_INSERT] = "INSERT INTO mpu_uploads(upload_id, bucket, key, owner, ctime, hdrs) "
			  "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_MPU_GET] = "SELECT upload_id, bucket, key, owner, ctime, hdrs FROM mpu_uploads "
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
	[ST_OBJ_RENAME] = "UPDATE objects SET bucket = ?3, key = ?4 WHERE bucket = ?1 AND key = ?2",
	/* length() and substr() both count characters: keys are valid UTF-8. */
	[ST_OBJ_RENAME_PREFIX] = "UPDATE objects SET bucket = ?3, key = ?4 || substr(key, length(?2) + 1) "
				 "WHERE bucket = ?1 AND key >= ?2 AND key < ?5",
	[ST_OBJ_SET_ATTR] = "UPDATE objects SET mode = coalesce(?3, mode), owner = coalesce(?4, owner) "
			    "WHERE bucket = ?1 AND key = ?2",
	[ST_OBJ_SET_ATTR_RANGE] = "UPDATE objects SET mode = coalesce(?3, mode), owner = coalesce(?4, owner) "
				  "WHERE bucket = ?1 AND key >= ?2 AND key < ?5",
	[ST_BUCKET_SET_OWNER] = "UPDATE buckets SET owner = ?2 WHERE name = ?1",
	[ST_TOTALS] = "SELECT coalesce(sum(is_dir = 0), 0), coalesce(sum(is_dir = 1 AND key <> ''), 0), "
		      "coalesce(sum(CASE WHEN is_dir = 0 THEN size ELSE 0 END), 0), "
		      "(SELECT count(*) FROM mpu_uploads) FROM objects",
	[ST_PARTS_PUT] = "INSERT OR REPLACE INTO object_parts(ino, version, sizes) VALUES (?1, ?2, ?3)",
	[ST_PARTS_GET] = "SELECT sizes FROM object_parts WHERE ino = ?1 AND version = ?2",
	[ST_PARTS_DELETE] = "DELETE FROM object_parts WHERE ino = ?1",
	[ST_TAGS_PUT] = "INSERT OR REPLACE INTO object_tags(ino, tags) VALUES (?1, ?2)",
	[ST_TAGS_GET] = "SELECT tags FROM object_tags WHERE ino = ?1",
	[ST_TAGS_DELETE] = "DELETE FROM object_tags WHERE ino = ?1",
	[ST_MPU_TAGS_PUT] = "INSERT OR REPLACE INTO mpu_tags(upload_id, tags) VALUES (?1, ?2)",
	[ST_MPU_TAGS_GET] = "SELECT tags FROM mpu_tags WHERE upload_id = ?1",
	/* Implied directories below ?2 that have the permissions ?8..?11 take
	 * ?4..?7 (perm_follow). */
	[ST_PERM_FOLLOW] = "UPDATE objects SET owner = ?4, gid = ?5, mode = ?6, has_acl = ?7 "
			   "WHERE bucket = ?1 AND key > ?2 AND key < ?3 AND is_dir = 1 AND "
			   "implicit = 1 AND owner = ?8 AND gid = ?9 AND mode = ?10 AND has_acl = ?11 "
			   "RETURNING key, " ROW_COLS,
	[ST_IDMAP_BY_NAME] = "SELECT uid FROM idmap WHERE user = ?1",
	[ST_IDMAP_BY_UID] = "SELECT user FROM idmap WHERE uid = ?1",
	[ST_IDMAP_NEXT] = "SELECT max(uid) + 1 FROM idmap",
	[ST_IDMAP_PUT] = "INSERT INTO idmap(user, uid) VALUES (?1, ?2)",
	[ST_MPU_ACL_PUT] = "INSERT OR REPLACE INTO mpu_acls(upload_id, acl) VALUES (?1, ?2)",
	[ST_MPU_ACL_GET] = "SELECT acl FROM mpu_acls WHERE upload_id = ?1",
	[ST_BUCKET_TAGS_PUT] = "INSERT OR REPLACE INTO bucket_tags(bucket, tags) VALUES (?1, ?2)",
	[ST_BUCKET_TAGS_GET] = "SELECT tags FROM bucket_tags WHERE bucket = ?1",
	[ST_BUCKET_TAGS_DELETE] = "DELETE FROM bucket_tags WHERE bucket = ?1",
	[ST_BUCKET_DOC_PUT] = "INSERT OR REPLACE INTO bucket_docs(bucket, kind, doc) VALUES (?1, ?2, ?3)",
	[ST_BUCKET_DOC_GET] = "SELECT doc FROM bucket_docs WHERE bucket = ?1 AND kind = ?2",
	[ST_BUCKET_DOC_DELETE] = "DELETE FROM bucket_docs WHERE bucket = ?1 AND kind = ?2",
	[ST_MPU_CK_PUT] = "INSERT OR REPLACE INTO mpu_checksums(upload_id, alg) VALUES (?1, ?2)",
	[ST_MPU_CK_GET] = "SELECT alg FROM mpu_checksums WHERE upload_id = ?1",
	[ST_PART_CK_PUT] = "INSERT OR REPLACE INTO mpu_part_checksums(upload_id, number, checksum) "
			   "VALUES (?1, ?2, ?3)",
	[ST_PART_CK_GET] = "SELECT checksum FROM mpu_part_checksums WHERE upload_id = ?1 AND number = ?2",
	[ST_PART_CK_DELETE] = "DELETE FROM mpu_part_checksums WHERE upload_id = ?1 AND number = ?2",
	[ST_OBJ_SUMS_PUT] = "INSERT OR REPLACE INTO object_part_checksums(ino, version, sums) "
			    "VALUES (?1, ?2, ?3)",
	[ST_OBJ_SUMS_GET] = "SELECT sums FROM object_part_checksums WHERE ino = ?1 AND version = ?2",
};

/*
 * The POSIX side of an inode (the mount): gid (-1: the owner's primary
 * group), ctime and atime (ns), kind (0 for a regular file or directory,
 * else S_IFLNK, S_IFIFO, S_IFCHR, S_IFBLK or S_IFSOCK: such entries are
 * empty files in the UFS, a symlink's holding its target), rdev, and
 * pending: a file created through the mount and not yet closed, which has
 * no UFS file yet and which S3 does not see.
 */
#define POSIX_COLS \
	"  gid INTEGER NOT NULL DEFAULT -1, ctime INTEGER NOT NULL DEFAULT 0," \
	"  atime INTEGER NOT NULL DEFAULT 0, kind INTEGER NOT NULL DEFAULT 0," \
	"  rdev INTEGER NOT NULL DEFAULT 0, pending INTEGER NOT NULL DEFAULT 0," \
	"  node INTEGER, has_acl INTEGER NOT NULL DEFAULT 0,"

/* A store made before the POSIX columns gains them. */
static const char *const posix_migration[] = {
	"ALTER TABLE objects ADD COLUMN gid INTEGER NOT NULL DEFAULT -1",
	"ALTER TABLE objects ADD COLUMN ctime INTEGER NOT NULL DEFAULT 0",
	"ALTER TABLE objects ADD COLUMN atime INTEGER NOT NULL DEFAULT 0",
	"ALTER TABLE objects ADD COLUMN kind INTEGER NOT NULL DEFAULT 0",
	"ALTER TABLE objects ADD COLUMN rdev INTEGER NOT NULL DEFAULT 0",
	"ALTER TABLE objects ADD COLUMN pending INTEGER NOT NULL DEFAULT 0",
};
/* Columns added since, each with the statement that adds it to an older
 * store (the table, the column, the ALTER). */
static const char *const column_migrations[][3] = {
	{ "objects", "node", "ALTER TABLE objects ADD COLUMN node INTEGER" },
	{ "objects", "has_acl", "ALTER TABLE objects ADD COLUMN has_acl INTEGER NOT NULL DEFAULT 0" },
	{ "buckets", "public_block", "ALTER TABLE buckets ADD COLUMN public_block INTEGER" },
	{ "buckets", "ownership", "ALTER TABLE buckets ADD COLUMN ownership INTEGER" },
	{ "buckets", "policy", "ALTER TABLE buckets ADD COLUMN policy TEXT" },
};

static const char schema[] =
	/* The one commit whose rename may not have happened yet (see ns_commit.c). */
	"CREATE TABLE IF NOT EXISTS intents(stage TEXT PRIMARY KEY, path TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS buckets("
	"  name TEXT PRIMARY KEY, owner TEXT NOT NULL, location TEXT NOT NULL DEFAULT '',"
	"  ctime INTEGER NOT NULL, mode INTEGER NOT NULL DEFAULT 493,"
	/* Block Public Access (META_PAB_* bits), Object Ownership (enum
	 * atr_ownership), the bucket policy's JSON; NULL: not configured. */
	"  public_block INTEGER, ownership INTEGER, policy TEXT);"
	"CREATE TABLE IF NOT EXISTS objects("
	"  ino INTEGER PRIMARY KEY AUTOINCREMENT, bucket TEXT NOT NULL, key TEXT NOT NULL,"
	"  is_dir INTEGER NOT NULL, implicit INTEGER NOT NULL DEFAULT 0,"
	"  size INTEGER NOT NULL DEFAULT 0, mtime INTEGER NOT NULL DEFAULT 0,"
	"  version INTEGER NOT NULL DEFAULT 1, mode INTEGER NOT NULL, owner TEXT NOT NULL,"
	"  etag TEXT NOT NULL DEFAULT '', hdrs TEXT, dir_mtime INTEGER NOT NULL DEFAULT 0,"
	POSIX_COLS
	"  UNIQUE(bucket, key));"
	/* Extended attributes other than the S3 ones (which live in hdrs). */
	/* Directories only: a directory's subdirectories (the mount's link
	 * counts) and the directories metadata sync walks, without a walk of
	 * every file below. */
	"CREATE INDEX IF NOT EXISTS objects_dirs ON objects(bucket, key) WHERE is_dir = 1;"
	"CREATE TABLE IF NOT EXISTS xattrs(ino INTEGER NOT NULL, name TEXT NOT NULL,"
	"  value BLOB NOT NULL, PRIMARY KEY(ino, name)) WITHOUT ROWID;"
	/* An inode's extended attributes go with its last name. */
	"DROP TRIGGER IF EXISTS xattrs_gone;"
	"CREATE TRIGGER xattrs_gone AFTER DELETE ON objects"
	"  WHEN NOT EXISTS (SELECT 1 FROM objects WHERE node = coalesce(old.node, old.ino))"
	"  BEGIN DELETE FROM xattrs WHERE ino = coalesce(old.node, old.ino); END;"
	"CREATE INDEX IF NOT EXISTS objects_nodes ON objects(node) WHERE node IS NOT NULL;"
	/* ACL grants beyond what an entry's mode says (src/acl.c), for rows
	 * with has_acl; like xattrs, kept by the inode and gone with its
	 * last name. */
	"CREATE TABLE IF NOT EXISTS acls(ino INTEGER PRIMARY KEY, acl TEXT NOT NULL);"
	"DROP TRIGGER IF EXISTS acls_gone;"
	"CREATE TRIGGER acls_gone AFTER DELETE ON objects"
	"  WHEN old.has_acl AND NOT EXISTS (SELECT 1 FROM objects WHERE node = coalesce(old.node, old.ino))"
	"  BEGIN DELETE FROM acls WHERE ino = coalesce(old.node, old.ino); END;"
	"CREATE TABLE IF NOT EXISTS mpu_uploads("
	"  upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL,"
	"  owner TEXT NOT NULL, ctime INTEGER NOT NULL, hdrs TEXT);"
	"CREATE INDEX IF NOT EXISTS mpu_uploads_by_key ON mpu_uploads(bucket, key, upload_id);"
	"CREATE TABLE IF NOT EXISTS mpu_parts("
	"  upload_id TEXT NOT NULL, number INTEGER NOT NULL, size INTEGER NOT NULL,"
	"  mtime INTEGER NOT NULL, etag TEXT NOT NULL, file TEXT NOT NULL,"
	"  PRIMARY KEY(upload_id, number)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS object_parts("
	"  ino INTEGER PRIMARY KEY, version INTEGER NOT NULL, sizes BLOB NOT NULL);"
	"CREATE TRIGGER IF NOT EXISTS object_parts_gone AFTER DELETE ON objects"
	"  BEGIN DELETE FROM object_parts WHERE ino = old.ino; END;"
	"CREATE TABLE IF NOT EXISTS object_tags(ino INTEGER PRIMARY KEY, tags TEXT NOT NULL);"
	"CREATE TRIGGER IF NOT EXISTS object_tags_gone AFTER DELETE ON objects"
	"  BEGIN DELETE FROM object_tags WHERE ino = old.ino; END;"
	"CREATE TABLE IF NOT EXISTS mpu_tags(upload_id TEXT PRIMARY KEY, tags TEXT NOT NULL)"
	"  WITHOUT ROWID;"
	"CREATE TRIGGER IF NOT EXISTS mpu_tags_gone AFTER DELETE ON mpu_uploads"
	"  BEGIN DELETE FROM mpu_tags WHERE upload_id = old.upload_id; END;"
	/* Host ids allocated to users with no host account (src/idmap.c). */
	"CREATE TABLE IF NOT EXISTS idmap(user TEXT PRIMARY KEY, uid INTEGER NOT NULL UNIQUE)"
	"  WITHOUT ROWID;"
	/* The ACL an upload's object will get (acl_encode's form). */
	"CREATE TABLE IF NOT EXISTS mpu_acls(upload_id TEXT PRIMARY KEY, acl TEXT NOT NULL)"
	"  WITHOUT ROWID;"
	"CREATE TRIGGER IF NOT EXISTS mpu_acls_gone AFTER DELETE ON mpu_uploads"
	"  BEGIN DELETE FROM mpu_acls WHERE upload_id = old.upload_id; END;"
	"CREATE TABLE IF NOT EXISTS bucket_tags(bucket TEXT PRIMARY KEY, tags TEXT NOT NULL)"
	"  WITHOUT ROWID;"
	"CREATE TRIGGER IF NOT EXISTS bucket_tags_gone AFTER DELETE ON buckets"
	"  BEGIN DELETE FROM bucket_tags WHERE bucket = old.name; END;"
	/* Documents the S3 door keeps for a bucket (enum atr_bucket_doc). */
	"CREATE TABLE IF NOT EXISTS bucket_docs(bucket TEXT NOT NULL, kind INTEGER NOT NULL,"
	"  doc TEXT NOT NULL, PRIMARY KEY(bucket, kind)) WITHOUT ROWID;"
	"CREATE TRIGGER IF NOT EXISTS bucket_docs_gone AFTER DELETE ON buckets"
	"  BEGIN DELETE FROM bucket_docs WHERE bucket = old.name; END;"
	"CREATE TABLE IF NOT EXISTS mpu_checksums(upload_id TEXT PRIMARY KEY, alg TEXT NOT NULL)"
	"  WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS mpu_part_checksums(upload_id TEXT NOT NULL,"
	"  number INTEGER NOT NULL, checksum TEXT NOT NULL, PRIMARY KEY(upload_id, number))"
	"  WITHOUT ROWID;"
	"CREATE TRIGGER IF NOT EXISTS mpu_checksums_gone AFTER DELETE ON mpu_uploads BEGIN"
	"  DELETE FROM mpu_checksums WHERE upload_id = old.upload_id;"
	"  DELETE FROM mpu_part_checksums WHERE upload_id = old.upload_id; END;"
	"CREATE TABLE IF NOT EXISTS object_part_checksums(ino INTEGER PRIMARY KEY,"
	"  version INTEGER NOT NULL, sums TEXT NOT NULL);"
	"CREATE TRIGGER IF NOT EXISTS object_part_checksums_gone AFTER DELETE ON objects"
	"  BEGIN DELETE FROM object_part_checksums WHERE ino = old.ino; END;";

struct meta_conn {
	int64_t txn_start; /* mono_ns of this thread's open BEGIN */
	sqlite3 *db;
	sqlite3_stmt *st[ST__COUNT];
};

struct meta {
	char *path;
	pthread_key_t key;
	/* Latency totals (relaxed atomics): point lookups, and transactions
	 * from BEGIN (including the wait for the write lock) to COMMIT. */
	uint64_t lookups, lookup_ns, txns, txn_ns;
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void count(uint64_t *n, uint64_t *total, int64_t since)
{
	__atomic_add_fetch(n, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(total, (uint64_t)(mono_ns() - since), __ATOMIC_RELAXED);
}

void meta_stats(struct meta *m, struct meta_stats *out)
{
	out->lookups = __atomic_load_n(&m->lookups, __ATOMIC_RELAXED);
	out->lookup_ns = __atomic_load_n(&m->lookup_ns, __ATOMIC_RELAXED);
	out->txns = __atomic_load_n(&m->txns, __ATOMIC_RELAXED);
	out->txn_ns = __atomic_load_n(&m->txn_ns, __ATOMIC_RELAXED);
}

static void conn_free(void *p)
{
	struct meta_conn *c = p;
	if (!c)
		return;
	for (int i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(c->st[i]);
	sqlite3_close_v2(c->db);
	free(c);
}

static struct meta_conn *conn_open(const char *path)
{
	struct meta_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK) {
		LOG(LOG_ERROR, "meta: cannot open %s: %s", path, sqlite3_errmsg(c->db));
		goto fail;
	}
	sqlite3_busy_timeout(c->db, 10000);
	char *err = NULL;
	if (sqlite3_exec(c->db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			 "PRAGMA cache_size=-1024;"
			 "PRAGMA temp_store=MEMORY;",
			 NULL, NULL, &err) != SQLITE_OK) {
		LOG(LOG_ERROR, "meta: pragmas on %s: %s", path, err);
		sqlite3_free(err);
		goto fail;
	}
	return c;
fail:
	conn_free(c);
	return NULL;
}

static struct meta_conn *conn_get(struct meta *m)
{
	struct meta_conn *c = pthread_getspecific(m->key);
	if (c)
		return c;
	c = conn_open(m->path);
	if (c)
		pthread_setspecific(m->key, c);
	return c;
}

static sqlite3_stmt *stmt(struct meta *m, enum stmt_id id)
{
	struct meta_conn *c = conn_get(m);
	if (!c)
		return NULL;
	if (!c->st[id] &&
	    sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
			       &c->st[id], NULL) != SQLITE_OK) {
		LOG(LOG_ERROR, "meta: prepare %d: %s", id, sqlite3_errmsg(c->db));
		return NULL;
	}
	return c->st[id];
}

static int done(sqlite3_stmt *s, int rc)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW || rc == SQLITE_OK)
		return ATR_OK;
	if (rc == SQLITE_FULL)
		return ATR_E_NOSPC;
	LOG(LOG_ERROR, "meta: %s: %s", sqlite3_sql(s), sqlite3_errstr(rc));
	return ATR_E_IO;
}

static int exec1(struct meta *m, enum stmt_id id)
{
	sqlite3_stmt *s = stmt(m, id);
	if (!s)
		return ATR_E_IO;
	return done(s, sqlite3_step(s));
}

/* Runs a statement keyed by one ino (?1). */
static int exec_ino(struct meta *m, enum stmt_id id, uint64_t ino)
{
	sqlite3_stmt *s = stmt(m, id);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_int64(s, 1, (int64_t)ino);
	return done(s, sqlite3_step(s));
}

/* An older store gains a column its table lacks (a table that does not
 * exist yet is made whole by the schema). */
static void add_column(sqlite3 *db, const char *const mig[3])
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT %s FROM %s LIMIT 0", mig[1], mig[0]);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return;
	snprintf(sql, sizeof(sql), "SELECT 1 FROM %s LIMIT 0", mig[0]);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
		sqlite3_exec(db, mig[2], NULL, NULL, NULL);
}

int meta_open(const char *path, struct meta **out)
{
	struct meta *m = calloc(1, sizeof(*m));
	if (!m || !(m->path = strdup(path))) {
		free(m);
		return ATR_E_NOMEM;
	}
	pthread_key_create(&m->key, conn_free);
	struct meta_conn *c = conn_get(m);
	char *err = NULL;
	if (c && sqlite3_exec(c->db, "SELECT pending FROM objects LIMIT 0", NULL, NULL, NULL) !=
			 SQLITE_OK &&
	    sqlite3_exec(c->db, "SELECT 1 FROM objects LIMIT 0", NULL, NULL, NULL) == SQLITE_OK) {
		for (size_t i = 0; i < sizeof(posix_migration) / sizeof(*posix_migration); i++)
			sqlite3_exec(c->db, posix_migration[i], NULL, NULL, NULL);
	}
	for (size_t i = 0; c && i < sizeof(column_migrations) / sizeof(*column_migrations); i++)
		add_column(c->db, column_migrations[i]);
	if (!c || sqlite3_exec(c->db, schema, NULL, NULL, &err) != SQLITE_OK) {
		LOG(LOG_ERROR, "meta: schema on %s: %s", path, err ? err : "open failed");
		sqlite3_free(err);
		meta_close(m);
		return ATR_E_IO;
	}
	*out = m;
	return ATR_OK;
}

void meta_close(struct meta *m)
{
	if (!m)
		return;
	conn_free(pthread_getspecific(m->key));
	pthread_setspecific(m->key, NULL);
	pthread_key_delete(m->key);
	free(m->path);
	free(m);
}

int meta_begin(struct meta *m)
{
	int64_t t0 = mono_ns();
	int rc = exec1(m, ST_BEGIN);
	struct meta_conn *c = pthread_getspecific(m->key);
	if (c)
		c->txn_start = t0;
	return rc;
}

int meta_read_begin(struct meta *m)
{
	return exec1(m, ST_BEGIN_READ);
}

void meta_read_end(struct meta *m)
{
	if (exec1(m, ST_COMMIT))
		exec1(m, ST_ROLLBACK);
}

static void txn_end(struct meta *m)
{
	struct meta_conn *c = pthread_getspecific(m->key);
	if (c && c->txn_start) {
		count(&m->txns, &m->txn_ns, c->txn_start);
		c->txn_start = 0;
	}
}

int meta_commit(struct meta *m)
{
	int rc = exec1(m, ST_COMMIT);
	txn_end(m);
	return rc;
}

void meta_rollback(struct meta *m)
{
	exec1(m, ST_ROLLBACK);
	txn_end(m);
}

static void copy_col(char *dst, size_t size, sqlite3_stmt *s, int col)
{
	const char *v = (const char *)sqlite3_column_text(s, col);
	snprintf(dst, size, "%s", v ? v : "");
}

/* Columns BUCKET_COLS. */
static void bucket_from_row(sqlite3_stmt *s, struct atr_bucket *b)
{
	memset(b, 0, sizeof(*b));
	copy_col(b->name, sizeof(b->name), s, 0);
	copy_col(b->owner, sizeof(b->owner), s, 1);
	copy_col(b->location, sizeof(b->location), s, 2);
	b->ctime_ns = sqlite3_column_int64(s, 3);
	b->public_block = sqlite3_column_type(s, 4) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 4);
	b->ownership = sqlite3_column_type(s, 5) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 5);
	b->has_policy = sqlite3_column_int(s, 6);
	b->root_ino = (uint64_t)sqlite3_column_int64(s, 7);
	b->gid = sqlite3_column_type(s, 8) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 8);
	/* A bucket without its root row yet (being made): private. */
	b->mode = sqlite3_column_type(s, 9) == SQLITE_NULL ? 0700 : (uint32_t)sqlite3_column_int(s, 9);
	b->has_acl = sqlite3_column_int(s, 10);
}

int meta_bucket_get(struct meta *m, const char *name, struct atr_bucket *out)
{
	sqlite3_stmt *s = stmt(m, ST_BUCKET_GET);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (out)
			bucket_from_row(s, out);
		return done(s, rc);
	}
	int err = done(s, rc);
	return err ? err : ATR_E_NO_BUCKET;
}

int meta_bucket_insert(struct meta *m, const struct atr_bucket *b)
{
	sqlite3_stmt *s = stmt(m, ST_BUCKET_INSERT);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, b->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, b->owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, b->location, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, b->ctime_ns);
	return done(s, sqlite3_step(s));
}

int meta_bucket_delete(struct meta *m, const char *name)
{
	sqlite3_stmt *s = stmt(m, ST_BUCKET_DELETE);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	return done(s, sqlite3_step(s));
}

int meta_bucket_list(struct meta *m, const char *owner, atr_bucket_cb cb, void *arg)
{
	sqlite3_stmt *s = stmt(m, owner ? ST_BUCKET_LIST : ST_BUCKET_LIST_ALL);
	if (!s)
		return ATR_E_IO;
	if (owner)
		sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct atr_bucket b;
		bucket_from_row(s, &b);
		if (cb(arg, &b))
			break;
	}
	return done(s, rc);
}

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
	copy_col(r->obj.owner, sizeof(r->obj.owner), s, col + 7);
	copy_col(r->obj.etag, sizeof(r->obj.etag), s, col + 8);
	r->dir_mtime = sqlite3_column_int64(s, col + 9);
	r->obj.gid = sqlite3_column_int64(s, col + 10);
	r->obj.ctime_ns = sqlite3_column_int64(s, col + 11);
	r->obj.atime_ns = sqlite3_column_int64(s, col + 12);
	r->obj.kind = (uint32_t)sqlite3_column_int(s, col + 13);
	r->obj.rdev = (uint64_t)sqlite3_column_int64(s, col + 14);
	r->pending = sqlite3_column_int(s, col + 15);
	r->obj.node = (uint64_t)sqlite3_column_int64(s, col + 16); /* NULL: 0 */
	r->has_acl = sqlite3_column_int(s, col + 17);
}

static int obj_get(struct meta *m, const char *bucket, const char *key,
		   struct meta_row *out, int want_hdrs);

int meta_obj_get(struct meta *m, const char *bucket, const char *key,
		 struct meta_row *out, int want_hdrs)
{
	int64_t t0 = mono_ns();
	int rc = obj_get(m, bucket, key, out, want_hdrs);
	count(&m->lookups, &m->lookup_ns, t0);
	return rc;
}

static int obj_get(struct meta *m, const char *bucket, const char *key,
		   struct meta_row *out, int want_hdrs)
{
	sqlite3_stmt *s = stmt(m, ST_OBJ_GET);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		int err = done(s, rc);
		return err ? err : ATR_E_NO_KEY;
	}
	row_from_stmt(s, 0, out);
	if (want_hdrs && sqlite3_column_type(s, ROW_NCOLS) != SQLITE_NULL) {
		out->obj.hdrs = strdup((const char *)sqlite3_column_text(s, ROW_NCOLS));
		if (!out->obj.hdrs) {
			done(s, rc);
			return ATR_E_NOMEM;
		}
	}
	return done(s, rc);
}

static void bind_row(sqlite3_stmt *s, const char *bucket, const char *key, const struct meta_row *r)
{
	sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, r->obj.is_dir);
	sqlite3_bind_int(s, 4, r->implicit);
	sqlite3_bind_int64(s, 5, (int64_t)r->obj.size);
	sqlite3_bind_int64(s, 6, r->obj.mtime_ns);
	sqlite3_bind_int64(s, 7, (int64_t)r->obj.version);
	sqlite3_bind_int(s, 8, (int)r->obj.mode);
	sqlite3_bind_text(s, 9, r->obj.owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, r->obj.etag, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 11, r->dir_mtime);
	if (r->obj.hdrs)
		sqlite3_bind_text(s, 12, r->obj.hdrs, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 12);
	sqlite3_bind_int64(s, 13, r->obj.gid);
	sqlite3_bind_int64(s, 14, r->obj.ctime_ns);
	sqlite3_bind_int64(s, 15, r->obj.atime_ns);
	sqlite3_bind_int(s, 16, (int)r->obj.kind);
	sqlite3_bind_int64(s, 17, (int64_t)r->obj.rdev);
	sqlite3_bind_int(s, 18, r->pending);
	sqlite3_bind_int(s, 19, r->has_acl);
	if (sqlite3_bind_parameter_count(s) >= 20) { /* an update keeps the node */
		if (r->obj.node)
			sqlite3_bind_int64(s, 20, (int64_t)r->obj.node);
		else
			sqlite3_bind_null(s, 20);
	}
}

int meta_node_sync(struct meta *m, uint64_t ino)
{
	return exec_ino(m, ST_NODE_SYNC, ino);
}

int meta_obj_put(struct meta *m, const char *bucket, const char *key, struct meta_row *row)
{
	sqlite3_stmt *s = stmt(m, ST_OBJ_UPDATE);
	if (!s)
		return ATR_E_IO;
	bind_row(s, bucket, key, row);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		row->obj.ino = (uint64_t)sqlite3_column_int64(s, 0);
		row->obj.node = (uint64_t)sqlite3_column_int64(s, 1);
		if ((rc = done(s, sqlite3_step(s))))
			return rc;
		return row->obj.node ? meta_node_sync(m, row->obj.ino) : ATR_OK;
	}
	int err = done(s, rc);
	if (err)
		return err;
	s = stmt(m, ST_OBJ_INSERT);
	if (!s)
		return ATR_E_IO;
	bind_row(s, bucket, key, row);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		row->obj.ino = (uint64_t)sqlite3_last_insert_rowid(sqlite3_db_handle(s));
	return done(s, rc);
}

/* Runs a statement binding two texts as ?1 and ?2 (bucket and key, or a
 * row's key and its value). */
static int exec_bk(struct meta *m, enum stmt_id id, const char *first, const char *second)
{
	sqlite3_stmt *s = stmt(m, id);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, first, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, second, -1, SQLITE_STATIC);
	return done(s, sqlite3_step(s));
}

int meta_obj_delete(struct meta *m, const char *bucket, const char *key)
{
	return exec_bk(m, ST_OBJ_DELETE, bucket, key);
}

int meta_obj_delete_prefix(struct meta *m, const char *bucket, const char *prefix)
{
	char upto[ATR_KEY_MAX + 2] = "\xf5"; /* "" : above every UTF-8 key */
	if (*prefix && key_successor(prefix, upto, sizeof(upto)))
		return ATR_E_INVALID_ARG;
	sqlite3_stmt *s = stmt(m, ST_OBJ_DELETE_RANGE);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, upto, -1, SQLITE_STATIC);
	return done(s, sqlite3_step(s));
}

int meta_obj_set_dir_mtime(struct meta *m, const char *bucket, const char *key, int64_t mtime)
{
	sqlite3_stmt *s = stmt(m, ST_OBJ_SET_DIR_MTIME);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, mtime);
	return done(s, sqlite3_step(s));
}

int meta_obj_has_children(struct meta *m, const char *bucket, const char *dirkey)
{
	char upto[ATR_KEY_MAX + 2];
	sqlite3_stmt *s = stmt(m, ST_OBJ_CHILD);
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, dirkey, -1, SQLITE_STATIC);
	if (*dirkey == '\0')
		sqlite3_bind_text(s, 3, "\xf5", -1, SQLITE_STATIC); /* above any UTF-8 */
	else if (!key_successor(dirkey, upto, sizeof(upto)))
		sqlite3_bind_text(s, 3, upto, -1, SQLITE_TRANSIENT);
	else
		return -1;
	int rc = sqlite3_step(s);
	int found = rc == SQLITE_ROW;
	if (done(s, rc))
		return -1;
	return found;
}

static int scan(sqlite3_stmt *s, const char *bucket, const char *from, const char *upto,
		meta_scan_cb cb, void *arg)
{
	sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, from, -1, SQLITE_STATIC);
	if (upto)
		sqlite3_bind_text(s, 3, upto, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct meta_row r = { 0 };
		row_from_stmt(s, 1, &r);
		if (cb(arg, (const char *)sqlite3_column_text(s, 0), &r))
			break;
	}
	return done(s, rc);
}

int meta_obj_scan(struct meta *m, const char *bucket, const char *from, int inclusive,
		  const char *upto, int visible_only, meta_scan_cb cb, void *arg)
{
	static const enum stmt_id ids[2][2][2] = {
		/* visible_only=0 */ { { ST_SCAN_GT, ST_SCAN_GT_TO }, { ST_SCAN_GE, ST_SCAN_GE_TO } },
		/* visible_only=1 */ { { ST_SCANV_GT, ST_SCANV_GT_TO }, { ST_SCANV_GE, ST_SCANV_GE_TO } },
	};
	sqlite3_stmt *s = stmt(m, ids[!!visible_only][!!inclusive][upto != NULL]);
	if (!s)
		return ATR_E_IO;
	return scan(s, bucket, from, upto, cb, arg);
}

int meta_dir_scan(struct meta *m, const char *bucket, const char *from, const char *upto,
		  meta_scan_cb cb, void *arg)
{
	sqlite3_stmt *s = stmt(m, upto ? ST_DIRS_FROM_TO : ST_DIRS_FROM);
	if (!s)
		return ATR_E_IO;
	return scan(s, bucket, from, upto, cb, arg);
}

/* ---- multipart uploads ---- */

static void mpu_from_stmt(sqlite3_stmt *s, struct meta_mpu *mu)
{
	memset(mu, 0, sizeof(*mu));
	copy_col(mu->up.upload_id, sizeof(mu->up.upload_id), s, 0);
	copy_col(mu->bucket, sizeof(mu->bucket), s, 1);
	copy_col(mu->up.key, sizeof(mu->up.key), s, 2);
	copy_col(mu->up.owner, sizeof(mu->up.owner), s, 3);
	mu->up.ctime_ns = sqlite3_column_int64(s, 4);
}

int meta_mpu_insert(struct meta *m, const struct meta_mpu *mu)
{
	sqlite3_stmt *s = stmt(m, ST_MPU_INSERT);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, mu->up.upload_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, mu->bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, mu->up.key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, mu->up.owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, mu->up.ctime_ns);
	if (mu->hdrs)
		sqlite3_bind_text(s, 6, mu->hdrs, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 6);
	return done(s, sqlite3_step(s));
}

int meta_mpu_get(struct meta *m, const char *upload_id, struct meta_mpu *out, int want_hdrs)
{
	sqlite3_stmt *s = stmt(m, ST_MPU_GET);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, upload_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		int err = done(s, rc);
		return err ? err : ATR_E_NO_UPLOAD;
	}
	mpu_from_stmt(s, out);
	if (want_hdrs && sqlite3_column_type(s, 5) != SQLITE_NULL &&
	    !(out->hdrs = strdup((const char *)sqlite3_column_text(s, 5)))) {
		done(s, rc);
		return ATR_E_NOMEM;
	}
	return done(s, rc);
}

int meta_mpu_delete(struct meta *m, const char *upload_id)
{
	for (enum stmt_id id = ST_MPU_DELETE; id <= ST_MPU_DELETE_PARTS; id++) {
		sqlite3_stmt *s = stmt(m, id);
		if (!s)
			return ATR_E_IO;
		sqlite3_bind_text(s, 1, upload_id, -1, SQLITE_STATIC);
		int rc = done(s, sqlite3_step(s));
		if (rc)
			return rc;
	}
	return ATR_OK;
}

int meta_mpu_scan(struct meta *m, const char *bucket, const char *key, const char *upload_id,
		  meta_mpu_cb cb, void *arg)
{
	sqlite3_stmt *s = stmt(m, ST_MPU_SCAN);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, upload_id, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct meta_mpu mu = { 0 };
		mpu_from_stmt(s, &mu);
		if (cb(arg, &mu))
			break;
	}
	return done(s, rc);
}

static void part_from_stmt(sqlite3_stmt *s, struct meta_mpu_part *p)
{
	memset(p, 0, sizeof(*p));
	p->p.number = sqlite3_column_int(s, 0);
	p->p.size = (uint64_t)sqlite3_column_int64(s, 1);
	p->p.mtime_ns = sqlite3_column_int64(s, 2);
	copy_col(p->p.etag, sizeof(p->p.etag), s, 3);
	copy_col(p->file, sizeof(p->file), s, 4);
}

int meta_mpu_part_get(struct meta *m, const char *upload_id, int number,
		      struct meta_mpu_part *out)
{
	sqlite3_stmt *s = stmt(m, ST_MPU_PART_GET);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, upload_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, number);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		int err = done(s, rc);
		return err ? err : ATR_E_INVALID_PART;
	}
	part_from_stmt(s, out);
	return done(s, rc);
}

int meta_mpu_part_put(struct meta *m, const char *upload_id, const struct meta_mpu_part *p)
{
	sqlite3_stmt *s = stmt(m, ST_MPU_PART_PUT);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, upload_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, p->p.number);
	sqlite3_bind_int64(s, 3, (int64_t)p->p.size);
	sqlite3_bind_int64(s, 4, p->p.mtime_ns);
	sqlite3_bind_text(s, 5, p->p.etag, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, p->file, -1, SQLITE_STATIC);
	return done(s, sqlite3_step(s));
}

int meta_mpu_part_scan(struct meta *m, const char *upload_id, int after,
		       meta_mpu_part_cb cb, void *arg)
{
	sqlite3_stmt *s = stmt(m, ST_MPU_PART_SCAN);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, upload_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, after);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct meta_mpu_part p;
		part_from_stmt(s, &p);
		if (cb(arg, &p))
			break;
	}
	return done(s, rc);
}

/* ---- renames, attributes, totals (src/fs.c) ---- */

int meta_obj_rename(struct meta *m, const char *bucket, const char *key, const char *to_bucket,
		    const char *to_key)
{
	sqlite3_stmt *s = stmt(m, ST_OBJ_RENAME);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, to_bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, to_key, -1, SQLITE_STATIC);
	return done(s, sqlite3_step(s));
}

int meta_obj_rename_prefix(struct meta *m, const char *bucket, const char *prefix,
			   const char *upto, const char *to_bucket, const char *to_prefix)
{
	sqlite3_stmt *s = stmt(m, ST_OBJ_RENAME_PREFIX);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, to_bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, to_prefix, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, upto, -1, SQLITE_STATIC);
	return done(s, sqlite3_step(s));
}

int meta_obj_set_attr(struct meta *m, const char *bucket, const char *key, const char *upto,
		      int64_t mode, const char *owner)
{
	sqlite3_stmt *s = stmt(m, upto ? ST_OBJ_SET_ATTR_RANGE : ST_OBJ_SET_ATTR);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	if (mode >= 0)
		sqlite3_bind_int64(s, 3, mode);
	else
		sqlite3_bind_null(s, 3);
	if (owner)
		sqlite3_bind_text(s, 4, owner, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 4);
	if (upto)
		sqlite3_bind_text(s, 5, upto, -1, SQLITE_STATIC);
	return done(s, sqlite3_step(s));
}

int meta_bucket_set_owner(struct meta *m, const char *name, const char *owner)
{
	sqlite3_stmt *s = stmt(m, ST_BUCKET_SET_OWNER);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, owner, -1, SQLITE_STATIC);
	return done(s, sqlite3_step(s));
}

int meta_totals(struct meta *m, struct atr_ns_totals *out)
{
	sqlite3_stmt *s = stmt(m, ST_TOTALS);
	memset(out, 0, sizeof(*out));
	if (!s)
		return ATR_E_IO;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->files = (uint64_t)sqlite3_column_int64(s, 0);
		out->dirs = (uint64_t)sqlite3_column_int64(s, 1);
		out->bytes = (uint64_t)sqlite3_column_int64(s, 2);
		out->uploads = (uint64_t)sqlite3_column_int64(s, 3);
	}
	return done(s, rc);
}

int meta_obj_parts_put(struct meta *m, uint64_t ino, uint64_t version, const uint64_t *sizes,
		       int n)
{
	sqlite3_stmt *s = stmt(m, ST_PARTS_PUT);
	unsigned char *blob = malloc((size_t)n * 8);
	if (!s || !blob) {
		free(blob);
		return s ? ATR_E_NOMEM : ATR_E_IO;
	}
	for (int i = 0; i < n; i++)
		for (int b = 0; b < 8; b++)
			blob[i * 8 + b] = (unsigned char)(sizes[i] >> (8 * b));
	sqlite3_bind_int64(s, 1, (int64_t)ino);
	sqlite3_bind_int64(s, 2, (int64_t)version);
	sqlite3_bind_blob(s, 3, blob, n * 8, free);
	return done(s, sqlite3_step(s));
}

int meta_obj_parts_get(struct meta *m, uint64_t ino, uint64_t version, uint64_t **sizes, int *n)
{
	sqlite3_stmt *s = stmt(m, ST_PARTS_GET);
	*sizes = NULL;
	*n = 0;
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_int64(s, 1, (int64_t)ino);
	sqlite3_bind_int64(s, 2, (int64_t)version);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		int err = done(s, rc);
		return err ? err : ATR_E_NO_KEY;
	}
	const unsigned char *blob = sqlite3_column_blob(s, 0);
	int len = sqlite3_column_bytes(s, 0), count = len / 8;
	if (!blob || count < 1 || count > ATR_PART_MAX || len % 8) {
		done(s, rc);
		return ATR_E_NO_KEY; /* not something we wrote */
	}
	if (!(*sizes = malloc((size_t)count * sizeof(**sizes)))) {
		done(s, rc);
		return ATR_E_NOMEM;
	}
	for (int i = 0; i < count; i++) {
		uint64_t v = 0;
		for (int b = 7; b >= 0; b--)
			v = v << 8 | blob[i * 8 + b];
		(*sizes)[i] = v;
	}
	*n = count;
	return done(s, rc);
}

int meta_obj_parts_delete(struct meta *m, uint64_t ino)
{
	return exec_ino(m, ST_PARTS_DELETE, ino);
}

int meta_obj_tags_put(struct meta *m, uint64_t ino, const char *tags)
{
	sqlite3_stmt *s = stmt(m, ST_TAGS_PUT);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_int64(s, 1, (int64_t)ino);
	sqlite3_bind_text(s, 2, tags, -1, SQLITE_STATIC);
	return done(s, sqlite3_step(s));
}

/* Steps a bound one-column query: *out is its text (malloc'd), or
 * ATR_E_NO_KEY without a row. */
static int text_row(sqlite3_stmt *s, char **out)
{
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		int err = done(s, rc);
		return err ? err : ATR_E_NO_KEY;
	}
	const char *t = (const char *)sqlite3_column_text(s, 0);
	if (!(*out = strdup(t ? t : ""))) {
		done(s, rc);
		return ATR_E_NOMEM;
	}
	return done(s, rc);
}

/* text_row of statement id with ?1 bound to a name (bucket, upload id) or an
 * id (ino, node). */
static int text_by_name(struct meta *m, enum stmt_id id, const char *name, char **out)
{
	sqlite3_stmt *s = stmt(m, id);
	*out = NULL;
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	return text_row(s, out);
}

static int text_by_id(struct meta *m, enum stmt_id id, uint64_t key, char **out)
{
	sqlite3_stmt *s = stmt(m, id);
	*out = NULL;
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_int64(s, 1, (int64_t)key);
	return text_row(s, out);
}

int meta_obj_tags_get(struct meta *m, uint64_t ino, char **tags)
{
	return text_by_id(m, ST_TAGS_GET, ino, tags);
}

int meta_obj_tags_delete(struct meta *m, uint64_t ino)
{
	return exec_ino(m, ST_TAGS_DELETE, ino);
}

int meta_mpu_tags_put(struct meta *m, const char *upload_id, const char *tags)
{
	return exec_bk(m, ST_MPU_TAGS_PUT, upload_id, tags);
}

int meta_mpu_tags_get(struct meta *m, const char *upload_id, char **tags)
{
	return text_by_name(m, ST_MPU_TAGS_GET, upload_id, tags);
}

int meta_bucket_tags_put(struct meta *m, const char *bucket, const char *tags)
{
	return exec_bk(m, ST_BUCKET_TAGS_PUT, bucket, tags);
}

int meta_bucket_tags_get(struct meta *m, const char *bucket, char **tags)
{
	return text_by_name(m, ST_BUCKET_TAGS_GET, bucket, tags);
}

int meta_bucket_tags_delete(struct meta *m, const char *bucket)
{
	sqlite3_stmt *s = stmt(m, ST_BUCKET_TAGS_DELETE);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
	return done(s, sqlite3_step(s));
}

int meta_bucket_doc_put(struct meta *m, const char *bucket, int kind, const char *doc)
{
	sqlite3_stmt *s = stmt(m, doc ? ST_BUCKET_DOC_PUT : ST_BUCKET_DOC_DELETE);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, kind);
	if (doc)
		sqlite3_bind_text(s, 3, doc, -1, SQLITE_STATIC);
	return done(s, sqlite3_step(s));
}

int meta_bucket_doc_get(struct meta *m, const char *bucket, int kind, char **doc)
{
	sqlite3_stmt *s = stmt(m, ST_BUCKET_DOC_GET);
	*doc = NULL;
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, kind);
	return text_row(s, doc);
}

/* ---- checksums of multipart uploads ---- */

/* The one text column of a row found by s (bound), copied into out (n
 * bytes) or, with n == 0, strdup'd into *(char **)out; ATR_E_NO_KEY if
 * there is no row. */
static int text_col(sqlite3_stmt *s, void *out, size_t n)
{
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		int err = done(s, rc);
		return err ? err : ATR_E_NO_KEY;
	}
	const char *t = (const char *)sqlite3_column_text(s, 0);
	if (n) {
		snprintf(out, n, "%s", t ? t : "");
	} else if (!(*(char **)out = strdup(t ? t : ""))) {
		done(s, rc);
		return ATR_E_NOMEM;
	}
	return done(s, rc);
}

int meta_mpu_checksum_put(struct meta *m, const char *upload_id, const char *alg)
{
	sqlite3_stmt *s = stmt(m, ST_MPU_CK_PUT);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, upload_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, alg, -1, SQLITE_STATIC);
	return done(s, sqlite3_step(s));
}

int meta_mpu_checksum_get(struct meta *m, const char *upload_id, char *alg, size_t n)
{
	sqlite3_stmt *s = stmt(m, ST_MPU_CK_GET);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, upload_id, -1, SQLITE_STATIC);
	return text_col(s, alg, n);
}

int meta_mpu_part_checksum_put(struct meta *m, const char *upload_id, int number,
			       const char *checksum)
{
	int del = !checksum || !*checksum;
	sqlite3_stmt *s = stmt(m, del ? ST_PART_CK_DELETE : ST_PART_CK_PUT);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, upload_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, number);
	if (!del)
		sqlite3_bind_text(s, 3, checksum, -1, SQLITE_STATIC);
	return done(s, sqlite3_step(s));
}

int meta_mpu_part_checksum_get(struct meta *m, const char *upload_id, int number,
			       char *checksum, size_t n)
{
	sqlite3_stmt *s = stmt(m, ST_PART_CK_GET);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, upload_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, number);
	return text_col(s, checksum, n);
}

/* Runs a statement keyed by an ino and a version (?1, ?2) with a text ?3. */
static int exec_ino_version_text(struct meta *m, enum stmt_id id, uint64_t ino,
				 uint64_t version, const char *text)
{
	sqlite3_stmt *s = stmt(m, id);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_int64(s, 1, (int64_t)ino);
	sqlite3_bind_int64(s, 2, (int64_t)version);
	sqlite3_bind_text(s, 3, text, -1, SQLITE_STATIC);
	return done(s, sqlite3_step(s));
}

int meta_obj_part_sums_put(struct meta *m, uint64_t ino, uint64_t version, const char *sums)
{
	return exec_ino_version_text(m, ST_OBJ_SUMS_PUT, ino, version, sums);
}

int meta_obj_part_sums_get(struct meta *m, uint64_t ino, uint64_t version, char **sums)
{
	sqlite3_stmt *s = stmt(m, ST_OBJ_SUMS_GET);
	*sums = NULL;
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_int64(s, 1, (int64_t)ino);
	sqlite3_bind_int64(s, 2, (int64_t)version);
	return text_col(s, sums, 0);
}

/* ---- commit intents ---- */

int meta_intent_set(struct meta *m, const char *stage, const char *path)
{
	int rc = exec1(m, ST_INTENT_CLEAR);
	return rc ? rc : meta_intent_add(m, stage, path);
}

int meta_intent_add(struct meta *m, const char *stage, const char *path)
{
	sqlite3_stmt *s = stmt(m, ST_INTENT_PUT);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, stage, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, path, -1, SQLITE_STATIC);
	return done(s, sqlite3_step(s));
}

int meta_intent_scan(struct meta *m, int (*cb)(void *arg, const char *stage, const char *path),
		     void *arg)
{
	sqlite3_stmt *s = stmt(m, ST_INTENT_SCAN);
	if (!s)
		return ATR_E_IO;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (cb(arg, (const char *)sqlite3_column_text(s, 0),
		       (const char *)sqlite3_column_text(s, 1)))
			break;
	return done(s, rc);
}

int meta_intent_clear(struct meta *m)
{
	return exec1(m, ST_INTENT_CLEAR);
}

/* ---- the mount's inode view ---- */

int meta_obj_by_ino(struct meta *m, uint64_t ino, char bucket[ATR_BUCKET_MAX + 1],
		    char key[ATR_KEY_MAX + 2], struct meta_row *out, int want_hdrs)
{
	int64_t t0 = mono_ns();
	sqlite3_stmt *s = stmt(m, ST_OBJ_BY_INO);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_int64(s, 1, (int64_t)ino);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		int err = done(s, rc);
		return err ? err : ATR_E_NO_KEY;
	}
	copy_col(bucket, ATR_BUCKET_MAX + 1, s, 0);
	copy_col(key, ATR_KEY_MAX + 2, s, 1);
	row_from_stmt(s, 2, out);
	if (want_hdrs && sqlite3_column_type(s, 2 + ROW_NCOLS) != SQLITE_NULL &&
	    !(out->obj.hdrs = strdup((const char *)sqlite3_column_text(s, 2 + ROW_NCOLS)))) {
		done(s, rc);
		return ATR_E_NOMEM;
	}
	rc = done(s, rc);
	count(&m->lookups, &m->lookup_ns, t0);
	return rc;
}

int meta_obj_set_posix(struct meta *m, const struct meta_row *row)
{
	sqlite3_stmt *s = stmt(m, ST_OBJ_SET_POSIX);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_int64(s, 1, (int64_t)row->obj.ino);
	sqlite3_bind_int(s, 2, (int)row->obj.mode);
	sqlite3_bind_text(s, 3, row->obj.owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, row->obj.gid);
	sqlite3_bind_int64(s, 5, row->obj.ctime_ns);
	sqlite3_bind_int64(s, 6, row->obj.atime_ns);
	sqlite3_bind_int64(s, 7, row->obj.mtime_ns);
	if (row->obj.hdrs)
		sqlite3_bind_text(s, 8, row->obj.hdrs, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 8);
	int rc = done(s, sqlite3_step(s));
	return rc || !row->obj.node ? rc : meta_node_sync(m, row->obj.ino);
}

int meta_obj_set_etag(struct meta *m, uint64_t node, uint64_t version, const char *etag)
{
	return exec_ino_version_text(m, ST_OBJ_SET_ETAG, node, version, etag);
}

int meta_node_set(struct meta *m, uint64_t ino, uint64_t node)
{
	sqlite3_stmt *s = stmt(m, ST_NODE_SET);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_int64(s, 1, (int64_t)ino);
	sqlite3_bind_int64(s, 2, (int64_t)node);
	return done(s, sqlite3_step(s));
}

int meta_node_count(struct meta *m, uint64_t node)
{
	sqlite3_stmt *s = stmt(m, ST_NODE_COUNT);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, (int64_t)node);
	int rc = sqlite3_step(s);
	int n = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
	done(s, rc);
	return n;
}

int meta_node_names(struct meta *m, uint64_t node, uint64_t except,
		    int (*cb)(void *arg, const char *bucket, const char *key), void *arg)
{
	sqlite3_stmt *s = stmt(m, ST_NODE_NAMES);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_int64(s, 1, (int64_t)node);
	sqlite3_bind_int64(s, 2, (int64_t)except);
	int rc, err = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((err = cb(arg, (const char *)sqlite3_column_text(s, 0),
			      (const char *)sqlite3_column_text(s, 1))))
			break;
	rc = done(s, rc == SQLITE_ROW ? SQLITE_DONE : rc);
	return err ? err : rc;
}

int meta_pending_clear(struct meta *m)
{
	return exec1(m, ST_PENDING_CLEAR);
}

int meta_xattr_get(struct meta *m, uint64_t ino, const char *name, void **val, size_t *len)
{
	sqlite3_stmt *s = stmt(m, ST_XATTR_GET);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_int64(s, 1, (int64_t)ino);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		int err = done(s, rc);
		return err ? err : ATR_E_NO_KEY;
	}
	size_t n = (size_t)sqlite3_column_bytes(s, 0);
	const void *b = sqlite3_column_blob(s, 0);
	void *v = malloc(n ? n : 1);
	if (!v) {
		done(s, rc);
		return ATR_E_NOMEM;
	}
	if (n)
		memcpy(v, b, n);
	*val = v;
	*len = n;
	return done(s, rc);
}

int meta_xattr_put(struct meta *m, uint64_t ino, const char *name, const void *val, size_t len)
{
	sqlite3_stmt *s = stmt(m, ST_XATTR_PUT);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_int64(s, 1, (int64_t)ino);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, len ? val : "", (int)len, SQLITE_STATIC);
	return done(s, sqlite3_step(s));
}

int meta_xattr_delete(struct meta *m, uint64_t ino, const char *name)
{
	sqlite3_stmt *s = stmt(m, ST_XATTR_DELETE);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_int64(s, 1, (int64_t)ino);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	int rc = done(s, sqlite3_step(s));
	if (!rc && !sqlite3_changes(sqlite3_db_handle(s)))
		return ATR_E_NO_KEY;
	return rc;
}

int meta_xattr_list(struct meta *m, uint64_t ino, int (*cb)(void *arg, const char *name),
		    void *arg)
{
	sqlite3_stmt *s = stmt(m, ST_XATTR_LIST);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_int64(s, 1, (int64_t)ino);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (cb(arg, (const char *)sqlite3_column_text(s, 0)))
			break;
	return done(s, rc == SQLITE_ROW ? SQLITE_DONE : rc);
}

int meta_subdir_count(struct meta *m, const char *bucket, const char *dirkey, const char *upto)
{
	sqlite3_stmt *s = stmt(m, bucket ? ST_SUBDIRS : ST_BUCKET_COUNT);
	if (!s)
		return -1;
	if (bucket) {
		sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, dirkey, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, upto, -1, SQLITE_STATIC);
	}
	int rc = sqlite3_step(s);
	int n = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
	done(s, rc);
	return n;
}

/* ---- access control (src/acl.c, src/perm.c) ---- */

int meta_acl_get(struct meta *m, uint64_t node, char **acl)
{
	return text_by_id(m, ST_ACL_GET, node, acl);
}

int meta_acl_set(struct meta *m, uint64_t node, const char *acl)
{
	int rc;
	sqlite3_stmt *s = stmt(m, acl ? ST_ACL_PUT : ST_ACL_DELETE);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_int64(s, 1, (int64_t)node);
	if (acl)
		sqlite3_bind_text(s, 2, acl, -1, SQLITE_STATIC);
	if ((rc = done(s, sqlite3_step(s))) || !(s = stmt(m, ST_ACL_FLAG)))
		return rc ? rc : ATR_E_IO;
	sqlite3_bind_int64(s, 1, (int64_t)node);
	sqlite3_bind_int(s, 2, acl != NULL);
	return done(s, sqlite3_step(s));
}

int meta_bucket_conf_set(struct meta *m, const char *name, int public_block, int ownership,
			 const char *policy, int drop_policy)
{
	sqlite3_stmt *s = stmt(m, ST_BUCKET_CONF_SET);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (public_block == META_KEEP)
		sqlite3_bind_null(s, 2);
	else
		sqlite3_bind_int(s, 2, public_block);
	if (ownership == META_KEEP)
		sqlite3_bind_null(s, 3);
	else
		sqlite3_bind_int(s, 3, ownership);
	if (policy)
		sqlite3_bind_text(s, 4, policy, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 4);
	sqlite3_bind_int(s, 5, drop_policy);
	return done(s, sqlite3_step(s));
}

int meta_bucket_policy_get(struct meta *m, const char *name, char **policy)
{
	return text_by_name(m, ST_BUCKET_POLICY_GET, name, policy);
}

int meta_mpu_acl_put(struct meta *m, const char *upload_id, const char *acl)
{
	return exec_bk(m, ST_MPU_ACL_PUT, upload_id, acl);
}

int meta_mpu_acl_get(struct meta *m, const char *upload_id, char **acl)
{
	return text_by_name(m, ST_MPU_ACL_GET, upload_id, acl);
}

int meta_ancestors(struct meta *m, const char *bucket, const char *key, meta_scan_cb cb,
		   void *arg)
{
	sqlite3_stmt *s = stmt(m, ST_ANCESTORS);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct meta_row r = { 0 };
		row_from_stmt(s, 1, &r);
		if (cb(arg, (const char *)sqlite3_column_text(s, 0), &r))
			break;
	}
	return done(s, rc);
}

int meta_perm_follow(struct meta *m, const char *bucket, const char *dirkey,
		     const struct meta_row *before, const struct meta_row *after,
		     meta_scan_cb cb, void *arg)
{
	char upto[ATR_KEY_MAX + 2] = "\xf5"; /* "": above every UTF-8 key */
	if (*dirkey && key_successor(dirkey, upto, sizeof(upto)))
		return ATR_E_INVALID_ARG;
	sqlite3_stmt *s = stmt(m, ST_PERM_FOLLOW);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, dirkey, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, upto, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 4, after->obj.owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, after->obj.gid);
	sqlite3_bind_int(s, 6, (int)after->obj.mode);
	sqlite3_bind_int(s, 7, after->has_acl);
	sqlite3_bind_text(s, 8, before->obj.owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 9, before->obj.gid);
	sqlite3_bind_int(s, 10, (int)before->obj.mode);
	sqlite3_bind_int(s, 11, before->has_acl);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct meta_row r = { 0 };
		row_from_stmt(s, 1, &r);
		if (cb(arg, (const char *)sqlite3_column_text(s, 0), &r))
			break;
	}
	return done(s, rc);
}

/* ---- host ids of users (src/idmap.c) ---- */

int meta_in_txn(struct meta *m)
{
	struct meta_conn *c = pthread_getspecific(m->key);
	return c && c->db && !sqlite3_get_autocommit(c->db);
}

int meta_idmap_by_name(struct meta *m, const char *user, uint32_t *uid)
{
	sqlite3_stmt *s = stmt(m, ST_IDMAP_BY_NAME);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*uid = (uint32_t)sqlite3_column_int64(s, 0);
	int err = done(s, rc);
	return err ? err : rc == SQLITE_ROW ? ATR_OK : ATR_E_NO_KEY;
}

int meta_idmap_by_uid(struct meta *m, uint32_t uid, char *user, size_t n)
{
	sqlite3_stmt *s = stmt(m, ST_IDMAP_BY_UID);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_int64(s, 1, uid);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		copy_col(user, n, s, 0);
	int err = done(s, rc);
	return err ? err : rc == SQLITE_ROW ? ATR_OK : ATR_E_NO_KEY;
}

int meta_idmap_next(struct meta *m, uint32_t *next)
{
	sqlite3_stmt *s = stmt(m, ST_IDMAP_NEXT);
	if (!s)
		return ATR_E_IO;
	int rc = sqlite3_step(s);
	int none = rc != SQLITE_ROW || sqlite3_column_type(s, 0) == SQLITE_NULL;
	if (!none) {
		int64_t v = sqlite3_column_int64(s, 0);
		none = v < 0 || v > 0xfffffffe;
		*next = (uint32_t)v;
	}
	int err = done(s, rc);
	return err ? err : none ? ATR_E_NO_KEY : ATR_OK;
}

int meta_idmap_put(struct meta *m, const char *user, uint32_t uid)
{
	sqlite3_stmt *s = stmt(m, ST_IDMAP_PUT);
	if (!s)
		return ATR_E_IO;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, uid);
	return done(s, sqlite3_step(s));
}
