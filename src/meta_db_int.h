/*
 * meta_db_int.h — private to the metadata store's own files (src/meta_*.c;
 * make check-layers keeps it so): the statement ids, each file's SQL, and
 * the one way to run a statement. The rest of the core sees meta_int.h.
 *
 * The store is five files, one per table group:
 *   meta_db.c   connections (one per thread), the statement cache, schema
 *               and migrations, transactions, statistics, and the helpers
 *               below;
 *   meta_obj.c  buckets and objects rows: get/put/delete, scans, renames,
 *               attributes, totals, the inode view, hard-link nodes;
 *   meta_mpu.c  multipart uploads and parts with what is kept for them
 *               (tags, ACL, checksums), and what a completed upload leaves
 *               on its object (part sizes and part checksums);
 *   meta_aux.c  the side tables: object and bucket tags, xattrs, ACLs,
 *               bucket settings and policy, commit intents, the idmap;
 *   meta_ver.c  versioning: a bucket's state, the versions table.
 *
 * Statements: every statement has an id below, grouped by the file that
 * runs it, and its SQL lives in that file's table (meta_obj_sql[] and so
 * on: full-size arrays with only that file's ids set), next to the
 * functions that use it. meta_db.c prepares a statement on first use on
 * each thread's connection and caches it there; meta_open asserts that
 * every id has SQL in exactly one table.
 *
 * Running one: bind, step and reset are written once, here:
 *
 *   struct meta_q q = meta_db_query(m, ST_X, M_TEXT(bucket), M_INT(ino));
 *   while (meta_db_next(&q))
 *           ... sqlite3_column_*(q.s, i) ...
 *   return meta_db_end(&q, ATR_OK);
 *
 * meta_db_query binds its arguments to ?1..?n, exactly as many as the
 * statement has (asserted). M_TEXT and M_BLOB bind SQLITE_STATIC: what they
 * point at must live until meta_db_end, which clears the bindings;
 * M_TEXT(NULL) binds NULL. A statement that cannot be prepared gives a
 * query on which meta_db_next finds no row and meta_db_end is ATR_E_IO.
 * meta_db_end resets the statement and returns, if the statement failed,
 * SQLite's error mapped to ours (SQLITE_FULL: ATR_E_NOSPC; any other:
 * ATR_E_IO, logged), else rc: the caller's own answer (ATR_E_NO_KEY when
 * meta_db_next found no row, ATR_E_NOMEM when a copy failed, ...).
 * meta_db_exec is the three in one, for a statement whose rows are not read.
 *
 * Threads: a query runs on the calling thread's connection and must end on
 * that thread, before the next query of the same id on it.
 */
#ifndef SRC_META_DB_INT_H
#define SRC_META_DB_INT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "src/meta_int.h"

enum stmt_id {
	/* meta_db.c */
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_BEGIN_READ,
	/* meta_obj.c */
	ST_BUCKET_GET, ST_BUCKET_INSERT, ST_BUCKET_DELETE, ST_BUCKET_LIST, ST_BUCKET_LIST_ALL,
	ST_BUCKET_SET_OWNER, ST_BUCKET_COUNT, ST_OBJ_GET, ST_OBJ_INSERT, ST_OBJ_UPDATE,
	ST_OBJ_DELETE, ST_OBJ_DELETE_RANGE, ST_OBJ_SET_DIR_MTIME, ST_OBJ_CHILD, ST_SCAN_GE,
	ST_SCAN_GT, ST_SCAN_GE_TO, ST_SCAN_GT_TO, ST_SCANV_GE, ST_SCANV_GT, ST_SCANV_GE_TO,
	ST_SCANV_GT_TO, ST_DIRS_FROM, ST_DIRS_FROM_TO, ST_ANCESTORS, ST_PERM_FOLLOW,
	ST_OBJ_RENAME, ST_OBJ_RENAME_PREFIX, ST_OBJ_SET_ATTR, ST_OBJ_SET_ATTR_RANGE, ST_TOTALS,
	ST_OBJ_BY_INO, ST_OBJ_SET_POSIX, ST_OBJ_SET_ETAG, ST_PENDING_CLEAR, ST_SUBDIRS,
	ST_NODE_SET, ST_NODE_SYNC, ST_NODE_COUNT, ST_NODE_NAMES,
	/* meta_mpu.c */
	ST_MPU_INSERT, ST_MPU_GET, ST_MPU_DELETE, ST_MPU_DELETE_PARTS, ST_MPU_SCAN,
	ST_MPU_PART_GET, ST_MPU_PART_PUT, ST_MPU_PART_SCAN, ST_MPU_TAGS_PUT, ST_MPU_TAGS_GET,
	ST_MPU_ACL_PUT, ST_MPU_ACL_GET, ST_MPU_CK_PUT, ST_MPU_CK_GET, ST_PART_CK_PUT,
	ST_PART_CK_GET, ST_PART_CK_DELETE, ST_PARTS_PUT, ST_PARTS_GET, ST_PARTS_DELETE,
	ST_OBJ_SUMS_PUT, ST_OBJ_SUMS_GET,
	/* meta_aux.c */
	ST_TAGS_PUT, ST_TAGS_GET, ST_TAGS_DELETE, ST_BUCKET_TAGS_PUT, ST_BUCKET_TAGS_GET,
	ST_BUCKET_TAGS_DELETE, ST_BUCKET_DOC_PUT, ST_BUCKET_DOC_GET, ST_BUCKET_DOC_DELETE,
	ST_BUCKET_DOC_SCAN,
	ST_XATTR_GET, ST_XATTR_PUT, ST_XATTR_DELETE, ST_XATTR_LIST,
	ST_ACL_GET, ST_ACL_PUT, ST_ACL_DELETE, ST_ACL_FLAG, ST_BUCKET_CONF_SET,
	ST_BUCKET_POLICY_GET, ST_INTENT_CLEAR, ST_INTENT_PUT, ST_INTENT_SCAN, ST_IDMAP_BY_NAME,
	ST_IDMAP_BY_UID, ST_IDMAP_NEXT, ST_IDMAP_PUT,
	ST_PQ_PUT, ST_PQ_NEXT, ST_PQ_FIRST_DUE, ST_PQ_RETRY, ST_PQ_DEFER, ST_PQ_DONE, ST_PQ_COUNT,
	ST_OBJ_PERSISTED, ST_PIN_PUT, ST_PIN_DELETE, ST_PIN_GET, ST_PIN_SCAN, ST_TTL_PUT,
	ST_TTL_DELETE, ST_TTL_GET, ST_TTL_NEXT, ST_TTL_FIRST_DUE,
	/* meta_ver.c */
	ST_VER_PUT, ST_VER_GET, ST_VER_NEWEST, ST_VER_BY_SEQ, ST_VER_DELETE, ST_VER_SCAN,
	ST_BUCKET_VERSIONING_SET, ST_VER_COUNT, ST_VER_SET_TAGS, ST_VER_SET_ACL,
	ST_VER_PARTS_BACK, ST_VER_SUMS_BACK,
	ST_BUCKET_LOCK_SET, ST_LOCK_GET, ST_LOCK_PUT, ST_MPU_LOCK_PUT, ST_MPU_LOCK_GET, ST_LOCK_ANY,
	ST__COUNT
};

/* Each file's SQL, indexed by stmt_id; NULL for the other files' ids. */
extern const char *const meta_db_sql[ST__COUNT];
extern const char *const meta_obj_sql[ST__COUNT];
extern const char *const meta_mpu_sql[ST__COUNT];
extern const char *const meta_aux_sql[ST__COUNT];
extern const char *const meta_ver_sql[ST__COUNT];

/* The arguments of a statement: M_INT(any integer), M_TEXT(a string or
 * NULL), M_BLOB(pointer, length), M_NULL. A list of them is an array, so
 * a pointer given as M_INT, or an integer as M_TEXT, does not compile. */
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
/* The M_* given as an array and its length (none: an empty one). */
#define META_ARGS(...) (const struct meta_arg[]){ __VA_ARGS__ }, \
	sizeof((const struct meta_arg[]){ __VA_ARGS__ }) / sizeof(struct meta_arg)

/* A statement being run, from meta_db_query to meta_db_end. */
struct meta_q {
	sqlite3_stmt *s; /* NULL: it could not be prepared */
	int rc;          /* the last sqlite3_step's result */
};

#define meta_db_query(m, id, ...) meta_db_queryv(m, id, META_ARGS(__VA_ARGS__))
#define meta_db_exec(m, id, ...) meta_db_execv(m, id, META_ARGS(__VA_ARGS__))
/* The array forms, for a list built beforehand: its first n are bound
 * (a statement's variants may take fewer, e.g. without an upper bound). */
struct meta_q meta_db_queryv(struct meta *m, enum stmt_id id, const struct meta_arg *args,
			     size_t n);
int meta_db_execv(struct meta *m, enum stmt_id id, const struct meta_arg *args, size_t n);
/* Steps q: 1 when it is on a row, 0 when done or failed. */
int meta_db_next(struct meta_q *q);
int meta_db_end(struct meta_q *q, int rc);

/* One-value queries; each runs and ends q. The first column of the first
 * row: copied into buf (n bytes, truncated) or malloc'd into *out (NULL
 * first), ATR_E_NO_KEY without a row; or as an int, -1 without a row or
 * on error. */
int meta_db_text_copy(struct meta_q q, char *buf, size_t n);
int meta_db_text_dup(struct meta_q q, char **out);
int meta_db_int(struct meta_q q);

/* Column readers: col's text copied into dst ("" for NULL); col's text
 * strdup'd into *out (left alone for NULL), ATR_E_NOMEM. */
void meta_db_col_copy(char *dst, size_t size, sqlite3_stmt *s, int col);
int meta_db_col_dup(sqlite3_stmt *s, int col, char **out);

/* Point-lookup latency (meta_stats): a start time, then the count. */
int64_t meta_db_clock(void);
void meta_db_count_lookup(struct meta *m, int64_t since);

#endif
