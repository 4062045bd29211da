/*
 * meta_db.c — the metadata store's foundation (src/meta_int.h is its
 * interface, src/meta_db_int.h what its files share): per-thread
 * connections and their statement cache, the schema and the migrations of
 * older stores, transactions and statistics, and the one way to run a
 * statement (meta_db_query/next/end). The tables' statements live with
 * their users: meta_obj.c, meta_mpu.c, meta_aux.c.
 *
 * Threads: struct meta is shared and read-only after meta_open but for its
 * counters (relaxed atomics); each thread gets its own connection, made on
 * first use and closed when the thread exits (or by meta_close for the
 * thread that calls it), so statements and transactions never cross
 * threads. SQLite serialises writers (BEGIN IMMEDIATE waits up to 10 s).
 */
#include "src/meta_db_int.h"

#include <assert.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/banned.h"

/* ---- schema and statements ---- */

const char *const meta_db_sql[ST__COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_BEGIN_READ] = "BEGIN DEFERRED",
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
	/* The side form (src/ns_int.h, "the side form"). */
	{ "objects", "side", "ALTER TABLE objects ADD COLUMN side INTEGER NOT NULL DEFAULT 0" },
	/* Persistence state (enum atr_persist; 0 PERSISTED, what every row
	 * of an older store is: it had no other state). */
	{ "objects", "persist", "ALTER TABLE objects ADD COLUMN persist INTEGER NOT NULL DEFAULT 0" },
	/* Encryption at rest (docs/architecture.md, "Encryption at rest"). */
	{ "objects", "sse", "ALTER TABLE objects ADD COLUMN sse INTEGER NOT NULL DEFAULT 0" },
	{ "objects", "fsize", "ALTER TABLE objects ADD COLUMN fsize INTEGER NOT NULL DEFAULT 0" },
	{ "mpu_uploads", "sse", "ALTER TABLE mpu_uploads ADD COLUMN sse INTEGER NOT NULL DEFAULT 0" },
	/* SSE-C uploads: the customer key's salted check, never the key. */
	{ "mpu_uploads", "sse_check", "ALTER TABLE mpu_uploads ADD COLUMN sse_check TEXT" },
	/* The write type the upload's completion commits with. */
	{ "mpu_uploads", "write_type",
	  "ALTER TABLE mpu_uploads ADD COLUMN write_type INTEGER NOT NULL DEFAULT 0" },
	{ "buckets", "public_block", "ALTER TABLE buckets ADD COLUMN public_block INTEGER" },
	{ "buckets", "ownership", "ALTER TABLE buckets ADD COLUMN ownership INTEGER" },
	{ "buckets", "policy", "ALTER TABLE buckets ADD COLUMN policy TEXT" },
	/* Versioning (src/version.c): a bucket's state (enum atr_versioning;
	 * NULL: never set), the current version's id (NULL: the null
	 * version of a bucket never versioned). */
	{ "buckets", "versioning", "ALTER TABLE buckets ADD COLUMN versioning INTEGER" },
	{ "objects", "vid", "ALTER TABLE objects ADD COLUMN vid TEXT" },
	/* A noncurrent version of a completed upload keeps what its
	 * segments and parts need (object_parts and object_part_checksums
	 * go with the objects row). */
	{ "versions", "fsize", "ALTER TABLE versions ADD COLUMN fsize INTEGER NOT NULL DEFAULT 0" },
	{ "versions", "parts", "ALTER TABLE versions ADD COLUMN parts BLOB" },
	{ "versions", "sums", "ALTER TABLE versions ADD COLUMN sums TEXT" },
	/* Object Lock (src/objlock.c): enabled (NULL: not), the default
	 * retention's mode (enum atr_lock_mode), days or years. */
	{ "buckets", "objlock", "ALTER TABLE buckets ADD COLUMN objlock INTEGER" },
	{ "buckets", "lock_mode", "ALTER TABLE buckets ADD COLUMN lock_mode INTEGER NOT NULL DEFAULT 0" },
	{ "buckets", "lock_days", "ALTER TABLE buckets ADD COLUMN lock_days INTEGER NOT NULL DEFAULT 0" },
	{ "buckets", "lock_years", "ALTER TABLE buckets ADD COLUMN lock_years INTEGER NOT NULL DEFAULT 0" },
};

static const char schema[] =
	/* The one commit whose rename may not have happened yet (see ns_commit.c). */
	"CREATE TABLE IF NOT EXISTS intents(stage TEXT PRIMARY KEY, path TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS buckets("
	"  name TEXT PRIMARY KEY, owner TEXT NOT NULL, location TEXT NOT NULL DEFAULT '',"
	"  ctime INTEGER NOT NULL, mode INTEGER NOT NULL DEFAULT 493,"
	/* Block Public Access (META_PAB_* bits), Object Ownership (enum
	 * atr_ownership), the bucket policy's JSON; NULL: not configured. */
	"  public_block INTEGER, ownership INTEGER, policy TEXT,"
	/* enum atr_versioning; NULL: never set (src/version.c). */
	"  versioning INTEGER,"
	/* Object Lock: enabled (NULL: not), the default retention. */
	"  objlock INTEGER, lock_mode INTEGER NOT NULL DEFAULT 0,"
	"  lock_days INTEGER NOT NULL DEFAULT 0, lock_years INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS objects("
	"  ino INTEGER PRIMARY KEY AUTOINCREMENT, bucket TEXT NOT NULL, key TEXT NOT NULL,"
	"  is_dir INTEGER NOT NULL, implicit INTEGER NOT NULL DEFAULT 0,"
	"  size INTEGER NOT NULL DEFAULT 0, mtime INTEGER NOT NULL DEFAULT 0,"
	"  version INTEGER NOT NULL DEFAULT 1, mode INTEGER NOT NULL, owner TEXT NOT NULL,"
	"  etag TEXT NOT NULL DEFAULT '', hdrs TEXT, dir_mtime INTEGER NOT NULL DEFAULT 0,"
	POSIX_COLS
	/* The side form: the bytes are at ns_side_path(ino) (src/ns_int.h). */
	"  side INTEGER NOT NULL DEFAULT 0,"
	/* enum atr_persist: not 0, the bytes are held on this node at
	 * ns_side_path(ino), not (yet) in the bucket's remote store. */
	"  persist INTEGER NOT NULL DEFAULT 0,"
	/* Encrypted at rest (enum atr_sse; src/crypt_int.h): size is the
	 * plaintext's, the file is crypt_file_size(size) bytes ... */
	"  sse INTEGER NOT NULL DEFAULT 0,"
	/* ... unless it is one stream per part (a completed upload's): then
	 * the file's size, the sum of its parts' crypt_file_size; else 0. */
	"  fsize INTEGER NOT NULL DEFAULT 0,"
	/* The current version's id (src/ns_version.c); NULL: the null
	 * version of a bucket never versioned. */
	"  vid TEXT,"
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
	"  owner TEXT NOT NULL, ctime INTEGER NOT NULL, hdrs TEXT,"
	/* The object is encrypted at completion (enum atr_sse). */
	"  sse INTEGER NOT NULL DEFAULT 0,"
	/* SSE-C: hex of a random salt and HMAC-SHA256(salt, customer key)
	 * (src/crypt_int.h, crypt_key_check); the key itself is never kept. */
	"  sse_check TEXT,"
	/* enum atr_write_type at completion; 0: the bucket's then. */
	"  write_type INTEGER NOT NULL DEFAULT 0);"
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
	"  BEGIN DELETE FROM object_part_checksums WHERE ino = old.ino; END;"
	/* ASYNC_THROUGH's persist queue (src/persist.c): objects held on this
	 * node to upload to their remote store; due: when to try next (ms
	 * since the epoch), tries: attempts that failed. Gone with the row. */
	"CREATE TABLE IF NOT EXISTS persist_queue(ino INTEGER PRIMARY KEY,"
	"  since INTEGER NOT NULL, due INTEGER NOT NULL DEFAULT 0,"
	"  tries INTEGER NOT NULL DEFAULT 0);"
	"CREATE TRIGGER IF NOT EXISTS persist_queue_gone AFTER DELETE ON objects"
	"  BEGIN DELETE FROM persist_queue WHERE ino = old.ino; END;"
	/* Pinned inodes (atrium fs pin: their cached blocks are never
	 * evicted) and TTLs (fs setTtl: due, ms since the epoch; action
	 * enum atr_ttl_action), both gone with the row. */
	"CREATE TABLE IF NOT EXISTS object_pins(ino INTEGER PRIMARY KEY);"
	"CREATE TRIGGER IF NOT EXISTS object_pins_gone AFTER DELETE ON objects"
	"  BEGIN DELETE FROM object_pins WHERE ino = old.ino; END;"
	"CREATE TABLE IF NOT EXISTS object_ttls(ino INTEGER PRIMARY KEY, due INTEGER NOT NULL,"
	"  action INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS object_ttls_due ON object_ttls(due);"
	"CREATE TRIGGER IF NOT EXISTS object_ttls_gone AFTER DELETE ON objects"
	"  BEGIN DELETE FROM object_ttls WHERE ino = old.ino; END;"
	/* The versions of a key other than its current one (src/ns_version.c):
	 * noncurrent versions, whose bytes are VERSION_DIR/<seq>, and delete
	 * markers; newest first is seq descending. ino and version are those
	 * the object had when current (its cached blocks stay valid); tags
	 * and acl what object_tags and acls held for it; fsize, parts and
	 * sums what objects.fsize, object_parts and object_part_checksums
	 * held (a completed upload's: its segments and parts), read by
	 * (ino, version) as theirs are. */
	"CREATE TABLE IF NOT EXISTS versions(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  bucket TEXT NOT NULL, key TEXT NOT NULL, vid TEXT NOT NULL,"
	"  marker INTEGER NOT NULL DEFAULT 0, ino INTEGER NOT NULL DEFAULT 0,"
	"  version INTEGER NOT NULL DEFAULT 0, size INTEGER NOT NULL DEFAULT 0,"
	"  mtime INTEGER NOT NULL DEFAULT 0, mode INTEGER NOT NULL DEFAULT 0,"
	"  owner TEXT NOT NULL, etag TEXT NOT NULL DEFAULT '', hdrs TEXT,"
	"  sse INTEGER NOT NULL DEFAULT 0, tags TEXT, acl TEXT,"
	"  fsize INTEGER NOT NULL DEFAULT 0, parts BLOB, sums TEXT, UNIQUE(bucket, key, vid));"
	"CREATE INDEX IF NOT EXISTS versions_by_key ON versions(bucket, key, seq DESC);"
	"CREATE INDEX IF NOT EXISTS versions_parts ON versions(ino, version) WHERE parts IS NOT NULL;"
	"CREATE TRIGGER IF NOT EXISTS versions_gone AFTER DELETE ON buckets"
	"  BEGIN DELETE FROM versions WHERE bucket = old.name; END;"
	/* Object Lock (src/objlock.c): a version's retention (mode: enum
	 * atr_lock_mode, until: ms since the epoch) and legal hold, by its
	 * key and id, so that it follows the version between objects and
	 * versions; gone when no row of either names the version any more
	 * (its permanent delete), or with the bucket. */
	"CREATE TABLE IF NOT EXISTS object_locks(bucket TEXT NOT NULL, key TEXT NOT NULL,"
	"  vid TEXT NOT NULL, mode INTEGER NOT NULL DEFAULT 0, until INTEGER NOT NULL DEFAULT 0,"
	"  hold INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(bucket, key, vid)) WITHOUT ROWID;"
	"CREATE TRIGGER IF NOT EXISTS object_locks_obj_gone AFTER DELETE ON objects"
	"  WHEN old.vid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM versions"
	"    WHERE bucket = old.bucket AND key = old.key AND vid = old.vid)"
	"  BEGIN DELETE FROM object_locks WHERE bucket = old.bucket AND key = old.key"
	"    AND vid = old.vid; END;"
	"CREATE TRIGGER IF NOT EXISTS object_locks_ver_gone AFTER DELETE ON versions"
	"  WHEN NOT EXISTS (SELECT 1 FROM objects"
	"    WHERE bucket = old.bucket AND key = old.key AND vid = old.vid)"
	"  BEGIN DELETE FROM object_locks WHERE bucket = old.bucket AND key = old.key"
	"    AND vid = old.vid; END;"
	"CREATE TRIGGER IF NOT EXISTS object_locks_gone AFTER DELETE ON buckets"
	"  BEGIN DELETE FROM object_locks WHERE bucket = old.name; END;"
	/* The lock an upload's object will get (x-amz-object-lock-* of
	 * CreateMultipartUpload; hold -1: not asked). */
	"CREATE TABLE IF NOT EXISTS mpu_locks(upload_id TEXT PRIMARY KEY, mode INTEGER NOT NULL,"
	"  until INTEGER NOT NULL, hold INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TRIGGER IF NOT EXISTS mpu_locks_gone AFTER DELETE ON mpu_uploads"
	"  BEGIN DELETE FROM mpu_locks WHERE upload_id = old.upload_id; END;";

/* ---- connections: one per thread, with its prepared statements ---- */

struct meta_conn {
	int64_t txn_start; /* meta_db_clock of this thread's open BEGIN */
	sqlite3 *db;
	sqlite3_stmt *st[ST__COUNT];
};

struct meta {
	char *path;
	pthread_key_t key;
	/* Latency totals (relaxed atomics): point lookups, transactions
	 * from BEGIN (including the wait for the write lock) to COMMIT, and
	 * the checkpointer's checkpoints. */
	uint64_t lookups, lookup_ns, txns, txn_ns, ckpts, ckpt_ns;
	/* The checkpointer (below): woken by a commit that left the WAL
	 * at CKPT_PAGES or more; ckpt_want and ckpt_stop under ckpt_mu. */
	pthread_t ckpt_thread;
	int ckpt_started, ckpt_want, ckpt_stop;
	int durable; /* meta_set_durable: synchronous=FULL */
	pthread_mutex_t ckpt_mu;
	pthread_cond_t ckpt_cv;
};

int64_t meta_db_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void count(uint64_t *n, uint64_t *total, int64_t since)
{
	__atomic_add_fetch(n, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(total, (uint64_t)(meta_db_clock() - since), __ATOMIC_RELAXED);
}

void meta_db_count_lookup(struct meta *m, int64_t since)
{
	count(&m->lookups, &m->lookup_ns, since);
}

void meta_stats(struct meta *m, struct meta_stats *out)
{
	out->lookups = __atomic_load_n(&m->lookups, __ATOMIC_RELAXED);
	out->lookup_ns = __atomic_load_n(&m->lookup_ns, __ATOMIC_RELAXED);
	out->txns = __atomic_load_n(&m->txns, __ATOMIC_RELAXED);
	out->txn_ns = __atomic_load_n(&m->txn_ns, __ATOMIC_RELAXED);
	out->ckpts = __atomic_load_n(&m->ckpts, __ATOMIC_RELAXED);
	out->ckpt_ns = __atomic_load_n(&m->ckpt_ns, __ATOMIC_RELAXED);
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

/*
 * Checkpoints off the request path. By default SQLite copies the WAL back
 * into the database from inside the COMMIT that takes the WAL past 1,000
 * pages: that writer, holding ns_lock with a client waiting, pays the
 * copy and its fsyncs (3-30 ms every 40-80 PUTs). Here every connection
 * has wal_autocheckpoint off and a WAL hook that wakes one checkpointer
 * thread instead, which runs a PASSIVE checkpoint on its own connection:
 * it copies every frame no reader still needs, blocking neither readers
 * nor writers. A writer starts the WAL over only when it finds all of it
 * copied, which a PASSIVE checkpoint racing a steady write load may never
 * leave (frames keep coming while it copies), and the thread may be slow
 * to run on a busy machine; so a commit that finds the WAL at
 * CKPT_FORCE_PAGES or more checkpoints it itself, at once, as SQLite's
 * default does at 1,000 (the committing thread holds ns_lock: no other
 * frame comes meanwhile, so the next writer starts the WAL over). The
 * WAL stays under about CKPT_FORCE_PAGES pages however far the thread
 * falls behind, and the request path pays a checkpoint only then.
 * Durability is unchanged (docs/reliability.md): with WAL and
 * synchronous=NORMAL a commit survives a crash of the process when
 * COMMIT returns, and power loss once a checkpoint has synced it.
 */
#define CKPT_PAGES 1000
#define CKPT_FORCE_PAGES (4 * CKPT_PAGES)

static void checkpoint(struct meta *m, sqlite3 *db);

static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct meta *m = arg;
	if (pages >= CKPT_FORCE_PAGES) {
		checkpoint(m, db); /* the thread fell behind: this commit's turn */
		return SQLITE_OK;
	}
	if (pages < CKPT_PAGES)
		return SQLITE_OK;
	pthread_mutex_lock(&m->ckpt_mu);
	if (!m->ckpt_want) {
		m->ckpt_want = 1;
		pthread_cond_signal(&m->ckpt_cv);
	}
	pthread_mutex_unlock(&m->ckpt_mu);
	return SQLITE_OK;
}

static struct meta_conn *conn_open(struct meta *m)
{
	struct meta_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(m->path, &c->db, flags, NULL) != SQLITE_OK) {
		LOG(LOG_ERROR, "meta: cannot open %s: %s", m->path, sqlite3_errmsg(c->db));
		goto fail;
	}
	sqlite3_busy_timeout(c->db, 10000);
	char *err = NULL;
	if (sqlite3_exec(c->db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			 "PRAGMA wal_autocheckpoint=0;"
			 "PRAGMA cache_size=-1024;"
			 "PRAGMA temp_store=MEMORY;",
			 NULL, NULL, &err) != SQLITE_OK) {
		LOG(LOG_ERROR, "meta: pragmas on %s: %s", m->path, err);
		sqlite3_free(err);
		goto fail;
	}
	if (__atomic_load_n(&m->durable, __ATOMIC_ACQUIRE) &&
	    sqlite3_exec(c->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_wal_hook(c->db, wal_hook, m);
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
	c = conn_open(m);
	if (c)
		pthread_setspecific(m->key, c);
	return c;
}

static void checkpoint(struct meta *m, sqlite3 *db)
{
	int64_t t0 = meta_db_clock();
	int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		LOG(LOG_WARN, "meta: checkpoint: %s", sqlite3_errstr(rc));
	count(&m->ckpts, &m->ckpt_ns, t0);
}

static void *ckpt_main(void *arg)
{
	struct meta *m = arg;
	pthread_setname_np(pthread_self(), "atr-ckpt");
	struct meta_conn *c = conn_get(m);
	pthread_mutex_lock(&m->ckpt_mu);
	for (;;) {
		while (!m->ckpt_want && !m->ckpt_stop)
			pthread_cond_wait(&m->ckpt_cv, &m->ckpt_mu);
		if (m->ckpt_stop)
			break;
		m->ckpt_want = 0;
		pthread_mutex_unlock(&m->ckpt_mu);
		if (c)
			checkpoint(m, c->db);
		pthread_mutex_lock(&m->ckpt_mu);
	}
	pthread_mutex_unlock(&m->ckpt_mu);
	return NULL;
}

/* The SQL of statement id: in exactly one file's table. */
static const char *sql_of(enum stmt_id id)
{
	static const char *const *const tables[] = { meta_db_sql, meta_obj_sql, meta_mpu_sql,
						     meta_aux_sql, meta_ver_sql };
	const char *sql = NULL;
	for (size_t i = 0; i < sizeof(tables) / sizeof(*tables); i++) {
		assert(!sql || !tables[i][id]);
		if (tables[i][id])
			sql = tables[i][id];
	}
	assert(sql);
	return sql;
}

static sqlite3_stmt *stmt(struct meta *m, enum stmt_id id)
{
	struct meta_conn *c = conn_get(m);
	if (!c)
		return NULL;
	if (!c->st[id] &&
	    sqlite3_prepare_v3(c->db, sql_of(id), -1, SQLITE_PREPARE_PERSISTENT,
			       &c->st[id], NULL) != SQLITE_OK) {
		LOG(LOG_ERROR, "meta: prepare %d: %s", id, sqlite3_errmsg(c->db));
		return NULL;
	}
	return c->st[id];
}

/* ---- running a statement (meta_db_int.h) ---- */

struct meta_q meta_db_queryv(struct meta *m, enum stmt_id id, const struct meta_arg *args,
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

int meta_db_next(struct meta_q *q)
{
	if (!q->s)
		return 0;
	q->rc = sqlite3_step(q->s);
	return q->rc == SQLITE_ROW;
}

int meta_db_end(struct meta_q *q, int rc)
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

int meta_db_execv(struct meta *m, enum stmt_id id, const struct meta_arg *args, size_t n)
{
	struct meta_q q = meta_db_queryv(m, id, args, n);
	meta_db_next(&q);
	return meta_db_end(&q, ATR_OK);
}

int meta_db_text_copy(struct meta_q q, char *buf, size_t n)
{
	if (!meta_db_next(&q))
		return meta_db_end(&q, ATR_E_NO_KEY);
	const char *t = (const char *)sqlite3_column_text(q.s, 0);
	snprintf(buf, n, "%s", t ? t : "");
	return meta_db_end(&q, ATR_OK);
}

int meta_db_text_dup(struct meta_q q, char **out)
{
	*out = NULL;
	if (!meta_db_next(&q))
		return meta_db_end(&q, ATR_E_NO_KEY);
	const char *t = (const char *)sqlite3_column_text(q.s, 0);
	return meta_db_end(&q, (*out = strdup(t ? t : "")) ? ATR_OK : ATR_E_NOMEM);
}

int meta_db_int(struct meta_q q)
{
	int v = meta_db_next(&q) ? sqlite3_column_int(q.s, 0) : -1;
	meta_db_end(&q, ATR_OK);
	return v;
}

void meta_db_col_copy(char *dst, size_t size, sqlite3_stmt *s, int col)
{
	const char *v = (const char *)sqlite3_column_text(s, col);
	snprintf(dst, size, "%s", v ? v : "");
}

int meta_db_col_dup(sqlite3_stmt *s, int col, char **out)
{
	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return ATR_OK;
	*out = strdup((const char *)sqlite3_column_text(s, col));
	return *out ? ATR_OK : ATR_E_NOMEM;
}

/* ---- open, close, transactions ---- */

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
	for (int id = 0; id < ST__COUNT; id++)
		assert(sql_of(id)); /* a statement without SQL, or with two */
	pthread_key_create(&m->key, conn_free);
	pthread_mutex_init(&m->ckpt_mu, NULL);
	pthread_cond_init(&m->ckpt_cv, NULL);
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
	if (pthread_create(&m->ckpt_thread, NULL, ckpt_main, m)) {
		meta_close(m);
		return ATR_E_NOMEM;
	}
	m->ckpt_started = 1;
	*out = m;
	return ATR_OK;
}

void meta_set_durable(struct meta *m)
{
	__atomic_store_n(&m->durable, 1, __ATOMIC_RELEASE);
	struct meta_conn *c = pthread_getspecific(m->key);
	if (c)
		sqlite3_exec(c->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
}

void meta_close(struct meta *m)
{
	if (!m)
		return;
	if (m->ckpt_started) {
		pthread_mutex_lock(&m->ckpt_mu);
		m->ckpt_stop = 1;
		pthread_cond_signal(&m->ckpt_cv);
		pthread_mutex_unlock(&m->ckpt_mu);
		pthread_join(m->ckpt_thread, NULL);
	}
	pthread_mutex_destroy(&m->ckpt_mu);
	pthread_cond_destroy(&m->ckpt_cv);
	conn_free(pthread_getspecific(m->key));
	pthread_setspecific(m->key, NULL);
	pthread_key_delete(m->key);
	free(m->path);
	free(m);
}

int meta_begin(struct meta *m)
{
	int64_t t0 = meta_db_clock();
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
	/* A COMMIT that fails may leave the transaction open (SQLite rolls
	 * back by itself only for some errors): end it, so the connection is
	 * never left inside one. */
	if (rc && meta_in_txn(m))
		meta_db_exec(m, ST_ROLLBACK);
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
