/*
 * atrium.h — the core API: the only door into Atrium's namespace.
 *
 * The front ends (s3/, fuse/, the admin API) call these functions and nothing
 * else of src/. The core never formats HTTP or XML and never calls libfuse;
 * it speaks enum atr_err.
 *
 * Model. Buckets are the top-level directories of the namespace. Object key
 * "a/b/c" in bucket "bk" is the file a/b/c in bk's directory of the
 * under-storage (DATA/ufs/bk/a/b/c); the directories a/ and a/b/ are implied.
 * A key ending in '/' is an explicit directory (a "directory marker").
 * Implied directories are not objects: they do not show in listings and
 * HEAD of "a/" is NoSuchKey unless "a/" was created explicitly.
 *
 * Consistency. A PUT streams into a staging file on the UFS's own file
 * system and becomes visible atomically at commit (rename + one metadata
 * transaction); readers see the whole old or the whole new object. Files
 * that appear in or change under DATA/ufs behind Atrium's back are picked up
 * on lookup (size/mtime differ → attributes and ETag are recomputed) and on
 * listing (a directory whose mtime changed is re-read).
 *
 * Threads. Every function may be called from any number of threads at once.
 * Structures returned to the caller belong to the caller.
 */
#ifndef SRC_ATRIUM_H
#define SRC_ATRIUM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum atr_err {
	ATR_OK = 0,
	ATR_E_NOMEM,
	ATR_E_IO,               /* under-storage or metadata I/O failed */
	ATR_E_NOSPC,            /* under-storage is full */
	ATR_E_INTERNAL,
	ATR_E_ACCESS,           /* permission denied */
	ATR_E_INVALID_BUCKET,   /* bad bucket name */
	ATR_E_NO_BUCKET,
	ATR_E_BUCKET_EXISTS,    /* exists, owned by someone else */
	ATR_E_BUCKET_OWNED,     /* exists, owned by the caller */
	ATR_E_BUCKET_NOT_EMPTY,
	ATR_E_INVALID_KEY,      /* empty/./.. segment, NUL, bad UTF-8 */
	ATR_E_KEY_TOO_LONG,     /* > 1024 bytes, or a segment > 255 */
	ATR_E_NO_KEY,
	ATR_E_PARENT_IS_OBJECT, /* "a" is an object, so "a/b" cannot be */
	ATR_E_KEY_IS_PREFIX,    /* "a/b" exists, so "a" cannot be an object */
	ATR_E_TOO_LARGE,
	ATR_E_INVALID_ARG,
	ATR_E__COUNT
};

const char *atr_strerror(int err);

#define ATR_KEY_MAX 1024
#define ATR_SEGMENT_MAX 255
#define ATR_USER_MAX 64
#define ATR_ETAG_MAX 48
#define ATR_BUCKET_MAX 63

struct atr_core;

struct atr_core_config {
	const char *data_dir;      /* DATA: meta.db, ufs/, cache/ */
	size_t cache_mem_bytes;    /* memory tier capacity of the block cache */
	size_t cache_block_size;   /* block size, power of two */
};

int atr_core_open(const struct atr_core_config *cfg, struct atr_core **out);
void atr_core_close(struct atr_core *core);

/* Who asks. superuser bypasses permission checks (the daemon's own user). */
struct atr_user {
	const char *name;
	int superuser;
};

/* ---- buckets ---- */

struct atr_bucket {
	char name[ATR_BUCKET_MAX + 1];
	char owner[ATR_USER_MAX + 1];
	char location[32];
	int64_t ctime_ns;
};

/* Bucket name rules (S3's): 3..63 of [a-z0-9.-], starting and ending with a
 * letter or digit, no "..", not an IPv4 address, none of AWS's reserved
 * prefixes/suffixes, and not "api" (Alluxio's REST prefix). */
int atr_bucket_name_valid(const char *name);
int atr_bucket_create(struct atr_core *c, const struct atr_user *u,
		      const char *name, const char *location);
int atr_bucket_delete(struct atr_core *c, const struct atr_user *u, const char *name);
int atr_bucket_stat(struct atr_core *c, const struct atr_user *u, const char *name,
		    struct atr_bucket *out);
typedef int (*atr_bucket_cb)(void *arg, const struct atr_bucket *b);
/* The buckets the user owns, in name order. A non-zero return from cb stops. */
int atr_bucket_list(struct atr_core *c, const struct atr_user *u, atr_bucket_cb cb, void *arg);

/* ---- objects ---- */

/* Attributes of an object. hdrs holds the stored protocol headers (content
 * type and encoding, user metadata...) as "Name: value\r\n" lines, ready to
 * be sent; the core stores them and never interprets them. */
struct atr_obj {
	uint64_t ino;       /* stable for the life of the object */
	uint64_t version;   /* bumped by every content change */
	uint64_t size;
	int64_t mtime_ns;
	uint32_t mode;
	int is_dir;
	char etag[ATR_ETAG_MAX + 1]; /* hex MD5, no quotes */
	char owner[ATR_USER_MAX + 1];
	char *hdrs;         /* malloc'd or NULL: release with atr_obj_release */
};

void atr_obj_release(struct atr_obj *o);

/* Key rules: 1..1024 bytes of valid UTF-8, segments of 1..255 bytes, no
 * "." or ".." segment, no NUL; a trailing '/' makes a directory marker. */
int atr_key_valid(const char *key);

int atr_object_stat(struct atr_core *c, const struct atr_user *u,
		    const char *bucket, const char *key, struct atr_obj *out);
/* Deleting a missing key succeeds (S3). Implied parent directories left
 * empty are removed. */
int atr_object_delete(struct atr_core *c, const struct atr_user *u,
		      const char *bucket, const char *key);

/* Writing: begin checks names, permission and tree conflicts, and opens a
 * staging file; write streams (computing MD5); commit makes it visible
 * atomically; abort (or a failed commit) leaves nothing behind. */
struct atr_writer;
int atr_put_begin(struct atr_core *c, const struct atr_user *u, const char *bucket,
		  const char *key, uint64_t size_hint, struct atr_writer **out);
int atr_put_write(struct atr_writer *w, const void *data, size_t len);
/* MD5 of everything written so far; valid once writing is over. */
void atr_put_md5(struct atr_writer *w, unsigned char out[16]);
uint64_t atr_put_size(const struct atr_writer *w);
/* Commits with the given stored headers (may be NULL); fills *out if non-NULL
 * (out->hdrs left NULL). Frees w whatever the result. */
int atr_put_commit(struct atr_writer *w, const char *hdrs, struct atr_obj *out);
void atr_put_abort(struct atr_writer *w);

/* Reading goes through the block cache. read returns a pointer into a pinned
 * cache block holding the bytes from off on (at most to the block's end);
 * the pointer stays valid until the next read or close on this reader. */
struct atr_reader;
int atr_get_open(struct atr_core *c, const struct atr_user *u, const char *bucket,
		 const char *key, struct atr_obj *obj, struct atr_reader **out);
int atr_get_read(struct atr_reader *r, uint64_t off, const void **data, size_t *len);
void atr_get_close(struct atr_reader *r);

/* Listing in S3 order: binary order of the whole key. Items are keys, or
 * common prefixes when a delimiter is given (each prefix once). */
struct atr_list_params {
	const char *prefix;     /* "" for all */
	const char *delimiter;  /* NULL or "" for none */
	const char *start;      /* NULL, or where to begin */
	int start_inclusive;    /* 1: start is the first candidate; 0: after it */
	int max;                /* items (keys + prefixes) to return, >= 0 */
};

struct atr_list_item {
	const char *key;        /* key, or the common prefix */
	int is_prefix;
	const struct atr_obj *obj; /* NULL for a prefix; hdrs is NULL */
};

typedef int (*atr_list_cb)(void *arg, const struct atr_list_item *item);
/* Calls cb for up to max items. *truncated says whether more remain;
 * next_start (if non-NULL, ATR_KEY_MAX+2 bytes) receives the inclusive
 * start of the next page when truncated. */
int atr_object_list(struct atr_core *c, const struct atr_user *u, const char *bucket,
		    const struct atr_list_params *p, atr_list_cb cb, void *arg,
		    int *truncated, char *next_start);

/* ---- identities ---- */

struct atr_idents;
struct atr_ident {
	char access_key[129];
	char secret[129];
	char user[ATR_USER_MAX + 1];
	char display[128];
};

/* Loads a credentials file: "ACCESS_KEY SECRET_KEY USER_ID [DISPLAY NAME...]"
 * per line, '#' comments. Returns NULL (and logs why) if unreadable/invalid. */
struct atr_idents *atr_idents_load(const char *path);
/* Creates path (mode 0600) with one admin user with random keys acting as
 * user (the daemon's own user, who owns what is on disk), and returns them
 * in *first. */
int atr_idents_create(const char *path, const char *user, struct atr_ident *first);
/* The name of the user the daemon runs as: the superuser of the namespace. */
const char *atr_core_daemon_user(const struct atr_core *c);
const struct atr_ident *atr_idents_find(const struct atr_idents *ids, const char *access_key);
const struct atr_ident *atr_idents_find_user(const struct atr_idents *ids, const char *user);
void atr_idents_free(struct atr_idents *ids);

/* ---- statistics ---- */

struct atr_stats {
	uint64_t cache_hits, cache_misses, cache_evictions;
	uint64_t cache_bytes, cache_capacity;
};
void atr_core_stats(struct atr_core *c, struct atr_stats *out);

#endif
