#include "src/meta_int.h"

#include <assert.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "src/core_int.h"

/* The arguments of a statement (meta_db_query): M_INT(any integer),
 * M_TEXT(string or NULL), M_BLOB(pointer, length), M_NULL. */
enum meta_arg_type { META_ARG_NULL, META_ARG_INT, META_ARG_TEXT, META_ARG_BLOB };
struct meta_arg {
	enum meta_arg_type type;
	int len; /* META_ARG_BLOB's */
	union {
		int64_t i;
		const char *text;
		const void *blob;
	};
};
#define M_INT(v) ((struct meta_arg){ .type = META_ARG_INT, .i = (v) })
#define M_TEXT(s) ((struct meta_arg){ .type = META_ARG_TEXT, .text = (s) })
#define M_BLOB(p, n) ((struct meta_arg){ .type = META_ARG_BLOB, .blob = (p), .len = (n) })
#define M_NULL ((struct meta_arg){ .type = META_ARG_NULL })
/* The list of M_* as an array and its length. */
#define META_ARGS(...) (const struct meta_arg[]){ __VA_ARGS__ }, \
	sizeof((const struct meta_arg[]){ __VA_ARGS__ }) / sizeof(struct meta_arg)

/* A statement being run, from meta_db_query to meta_db_end. */
struct meta_q {
	sqlite3_stmt *s; /* NULL: it could not be prepared */
	int rc;          /* the last sqlite3_step's result */
};
#define meta_db_query(m, id, ...) meta_db_queryv(m, id, META_ARGS(__VA_ARGS__))
#define meta_db_exec(m, id, ...) meta_db_execv(m, id, META_ARGS(__VA_ARGS__))

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
	/* The one commit whose rename may not have happened yet (see object_commit). */
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

/*
 * Running a statement: the only code that binds, steps and resets.
 *
 *   struct meta_q q = meta_db_query(m, ST_X, M_TEXT(bucket), M_INT(ino));
 *   while (meta_db_next(&q))
 *           ... sqlite3_column_*(q.s, i) ...
 *   return meta_db_end(&q, ATR_OK);
 *
 * meta_db_query binds its arguments to ?1..?n, as many as the statement
 * has (asserted): M_TEXT and M_BLOB bind SQLITE_STATIC, so what they point
 * at must live until meta_db_end, which clears the bindings; M_TEXT(NULL)
 * binds NULL. A statement that cannot be prepared makes a query whose
 * meta_db_next finds no row and whose meta_db_end is ATR_E_IO.
 * meta_db_end resets the statement and returns SQLite's error mapped to
 * ours (SQLITE_FULL: ATR_E_NOSPC, any other: ATR_E_IO, logged) or, if the
 * statement did not fail, rc: the caller's own answer (ATR_E_NO_KEY when
 * meta_db_next found no row, ATR_E_NOMEM when a copy failed...).
 */
static struct meta_q meta_db_queryv(struct meta *m, enum stmt_id id, const struct meta_arg *args,
				    size_t n)
{
	struct meta_q q = { stmt(m, id), SQLITE_DONE };
	if (!q.s)
		return q;
	assert(n == (size_t)sqlite3_bind_parameter_count(q.s));
	for (size_t i = 0; i < n; i++) {
		const struct meta_arg *a = &args[i];
		int at = (int)i + 1;
		if (a->type == META_ARG_INT)
			sqlite3_bind_int64(q.s, at, a->i);
		else if (a->type == META_ARG_TEXT && a->text)
			sqlite3_bind_text(q.s, at, a->text, -1, SQLITE_STATIC);
		else if (a->type == META_ARG_BLOB)
			sqlite3_bind_blob(q.s, at, a->blob, a->len, SQLITE_STATIC);
		else
			sqlite3_bind_null(q.s, at);
	}
	return q;
}

static int meta_db_next(struct meta_q *q)
{
	if (!q->s)
		return 0;
	q->rc = sqlite3_step(q->s);
	return q->rc == SQLITE_ROW;
}

static int meta_db_end(struct meta_q *q, int rc)
{
	if (!q->s)
		return ATR_E_IO;
	sqlite3_reset(q->s);
	sqlite3_clear_bindings(q->s);
	if (q->rc == SQLITE_DONE || q->rc == SQLITE_ROW || q->rc == SQLITE_OK)
		return rc;
	if (q->rc == SQLITE_FULL)
		return ATR_E_NOSPC;
	LOG(LOG_ERROR, "meta: %s: %s", sqlite3_sql(q->s), sqlite3_errstr(q->rc));
	return ATR_E_IO;
}

/* A statement run once, its rows (if any) unread. */
static int meta_db_execv(struct meta *m, enum stmt_id id, const struct meta_arg *args, size_t n)
{
	struct meta_q q = meta_db_queryv(m, id, args, n);
	meta_db_next(&q);
	return meta_db_end(&q, ATR_OK);
}

/* The first column of q's first row: a copy in buf (n bytes, truncated) or
 * a malloc'd *out; ATR_E_NO_KEY if there is no row. Both end q. */
static int meta_db_text_copy(struct meta_q q, char *buf, size_t n)
{
	if (!meta_db_next(&q))
		return meta_db_end(&q, ATR_E_NO_KEY);
	const char *t = (const char *)sqlite3_column_text(q.s, 0);
	snprintf(buf, n, "%s", t ? t : "");
	return meta_db_end(&q, ATR_OK);
}

static int meta_db_text_dup(struct meta_q q, char **out)
{
	*out = NULL;
	if (!meta_db_next(&q))
		return meta_db_end(&q, ATR_E_NO_KEY);
	const char *t = (const char *)sqlite3_column_text(q.s, 0);
	return meta_db_end(&q, (*out = strdup(t ? t : "")) ? ATR_OK : ATR_E_NOMEM);
}

/* The first column of q's first row as an int; -1 without a row or on
 * error. Ends q. */
static int meta_db_int(struct meta_q q)
{
	int v = meta_db_next(&q) ? sqlite3_column_int(q.s, 0) : -1;
	meta_db_end(&q, ATR_OK);
	return v;
}

static void meta_db_col_copy(char *dst, size_t size, sqlite3_stmt *s, int col)
{
	const char *v = (const char *)sqlite3_column_text(s, col);
	snprintf(dst, size, "%s", v ? v : "");
}

/* Column col strdup'd into *out (left alone when the column is NULL). */
static int meta_db_col_dup(sqlite3_stmt *s, int col, char **out)
{
	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return ATR_OK;
	*out = strdup((const char *)sqlite3_column_text(s, col));
	return *out ? ATR_OK : ATR_E_NOMEM;
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
	int rc = meta_db_exec(m, ST_BEGIN);
	struct meta_conn *c = pthread_getspecific(m->key);
	if (c)
		c->txn_start = t0;
	return rc;
}

int meta_read_begin(struct meta *m)
{
	return meta_db_exec(m, ST_BEGIN_READ);
}

void meta_read_end(struct meta *m)
{
	if (meta_db_exec(m, ST_COMMIT))
		meta_db_exec(m, ST_ROLLBACK);
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
	int rc = meta_db_exec(m, ST_COMMIT);
	txn_end(m);
	return rc;
}

void meta_rollback(struct meta *m)
{
	meta_db_exec(m, ST_ROLLBACK);
	txn_end(m);
}

int meta_in_txn(struct meta *m)
{
	struct meta_conn *c = pthread_getspecific(m->key);
	return c && c->db && !sqlite3_get_autocommit(c->db);
}

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
}

int meta_obj_get(struct meta *m, const char *bucket, const char *key,
		 struct meta_row *out, int want_hdrs)
{
	int64_t t0 = mono_ns();
	struct meta_q q = meta_db_query(m, ST_OBJ_GET, M_TEXT(bucket), M_TEXT(key));
	int rc = ATR_E_NO_KEY;
	if (meta_db_next(&q)) {
		row_from_stmt(q.s, 0, out);
		rc = want_hdrs ? meta_db_col_dup(q.s, ROW_NCOLS, &out->obj.hdrs) : ATR_OK;
	}
	rc = meta_db_end(&q, rc);
	count(&m->lookups, &m->lookup_ns, t0);
	return rc;
}

int meta_node_sync(struct meta *m, uint64_t ino)
{
	return meta_db_exec(m, ST_NODE_SYNC, M_INT(ino));
}

int meta_obj_put(struct meta *m, const char *bucket, const char *key, struct meta_row *row)
{
	const struct atr_obj *o = &row->obj;
	/* ST_OBJ_UPDATE's ?1..?19; ST_OBJ_INSERT's also the node (?20): an
	 * update keeps the row's node. */
	const struct meta_arg a[] = {
		M_TEXT(bucket), M_TEXT(key), M_INT(o->is_dir), M_INT(row->implicit),
		M_INT(o->size), M_INT(o->mtime_ns), M_INT(o->version), M_INT(o->mode),
		M_TEXT(o->owner), M_TEXT(o->etag), M_INT(row->dir_mtime), M_TEXT(o->hdrs),
		M_INT(o->gid), M_INT(o->ctime_ns), M_INT(o->atime_ns), M_INT(o->kind),
		M_INT(o->rdev), M_INT(row->pending), M_INT(row->has_acl),
		o->node ? M_INT(o->node) : M_NULL,
	};
	struct meta_q q = meta_db_queryv(m, ST_OBJ_UPDATE, a, 19);
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
	q = meta_db_queryv(m, ST_OBJ_INSERT, a, 20);
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
	}
	return meta_db_end(&q, ATR_OK);
}

/* ---- the mount's inode view ---- */

int meta_obj_by_ino(struct meta *m, uint64_t ino, char bucket[ATR_BUCKET_MAX + 1],
		    char key[ATR_KEY_MAX + 2], struct meta_row *out, int want_hdrs)
{
	int64_t t0 = mono_ns();
	struct meta_q q = meta_db_query(m, ST_OBJ_BY_INO, M_INT(ino));
	if (!meta_db_next(&q))
		return meta_db_end(&q, ATR_E_NO_KEY);
	meta_db_col_copy(bucket, ATR_BUCKET_MAX + 1, q.s, 0);
	meta_db_col_copy(key, ATR_KEY_MAX + 2, q.s, 1);
	row_from_stmt(q.s, 2, out);
	if (want_hdrs && meta_db_col_dup(q.s, 2 + ROW_NCOLS, &out->obj.hdrs))
		return meta_db_end(&q, ATR_E_NOMEM);
	int rc = meta_db_end(&q, ATR_OK);
	count(&m->lookups, &m->lookup_ns, t0); /* found rows only (meta_obj_get counts all) */
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
			    M_TEXT(mu->hdrs));
}

int meta_mpu_get(struct meta *m, const char *upload_id, struct meta_mpu *out, int want_hdrs)
{
	struct meta_q q = meta_db_query(m, ST_MPU_GET, M_TEXT(upload_id));
	if (!meta_db_next(&q))
		return meta_db_end(&q, ATR_E_NO_UPLOAD);
	mpu_from_stmt(q.s, out);
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
