/*
 * fs — the file-system view of the namespace (src/atrium.h, "file-system
 * view"): paths instead of bucket and key, directories as entries (implied
 * ones included), the cache and persistence operations, and mkdir, rm, mv,
 * chmod, chown. The admin API and the CLI use it.
 *
 * A view of the namespace kernel (src/ns_int.h): each call decides who
 * may (perm.c) and then asks the kernel (lookups with metadata sync,
 * markers, deletes, renames), or for what S3 has no word for (attributes)
 * runs its own change in the kernel's one transaction helper (ns_txn).
 */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "src/ns_int.h"
#include "src/perm_int.h"
#include "src/persist_int.h"
#include "common/banned.h"

#define BATCH 256

/* A parsed path: bucket "" is the root, key "" a bucket. key never ends
 * in '/'. */
struct fspath {
	char bucket[ATR_BUCKET_MAX + 1];
	char key[ATR_KEY_MAX + 2];
};

static int parse_path(const char *path, struct fspath *p)
{
	memset(p, 0, sizeof(*p));
	if (!path || path[0] != '/')
		return ATR_E_INVALID_ARG;
	const char *s = path + 1;
	size_t bl = strcspn(s, "/");
	if (bl == 0)
		return *s ? ATR_E_INVALID_KEY : ATR_OK; /* "//x" or the root */
	if (bl > ATR_BUCKET_MAX)
		return ATR_E_INVALID_BUCKET;
	memcpy(p->bucket, s, bl);
	if (!atr_bucket_name_valid(p->bucket))
		return ATR_E_INVALID_BUCKET;
	s += bl;
	if (*s == '/')
		s++;
	size_t kl = strlen(s);
	if (kl && s[kl - 1] == '/')
		kl--; /* one trailing '/' is ignored */
	if (kl > ATR_KEY_MAX)
		return ATR_E_KEY_TOO_LONG;
	memcpy(p->key, s, kl);
	p->key[kl] = '\0';
	if (kl && p->key[kl - 1] == '/')
		return ATR_E_INVALID_KEY; /* "a//" */
	return kl ? atr_key_valid(p->key) : ATR_OK;
}

const char *atr_persist_name(enum atr_persist p)
{
	switch (p) {
	case ATR_PERSISTED: return "PERSISTED";
	case ATR_TO_BE_PERSISTED: return "TO_BE_PERSISTED";
	case ATR_NOT_PERSISTED: return "NOT_PERSISTED";
	}
	return "UNKNOWN";
}

/* ---- entries ---- */

/* The owner's primary group on this host, remembered for the last owner
 * (a listing meets the same few owners again and again). */
struct groups {
	char owner[ATR_USER_MAX + 1];
	char group[ATR_USER_MAX + 1];
};

static void group_of(struct groups *g, const char *owner, char out[ATR_USER_MAX + 1])
{
	if (!*g->owner || strcmp(g->owner, owner)) {
		struct passwd pw, *pr = NULL;
		struct group gr, *grr = NULL;
		char buf[1024];
		snprintf(g->owner, sizeof(g->owner), "%s", owner);
		snprintf(g->group, sizeof(g->group), "%s", owner); /* a user the host does not know */
		if (!getpwnam_r(owner, &pw, buf, sizeof(buf), &pr) && pr) {
			gid_t gid = pr->pw_gid;
			if (!getgrgid_r(gid, &gr, buf, sizeof(buf), &grr) && grr)
				snprintf(g->group, sizeof(g->group), "%s", grr->gr_name);
		}
	}
	snprintf(out, ATR_USER_MAX + 1, "%s", g->group);
}

static void entry_from_row(struct atr_core *c, struct groups *g, const char *bucket,
			   const char *key, const struct meta_row *row, struct atr_entry *e)
{
	size_t kl = strlen(key);
	if (kl && key[kl - 1] == '/')
		kl--;
	memset(e, 0, sizeof(*e));
	snprintf(e->path, sizeof(e->path), "/%s%s%.*s", bucket, kl ? "/" : "", (int)kl, key);
	e->obj = row->obj;
	e->obj.hdrs = NULL;
	if (row->obj.is_dir && !e->obj.mtime_ns) {
		/* Directory rows keep no mtime: the UFS directory's, as last read. */
		char path[PATH_MAX_UFS];
		struct ufs_stat st;
		e->obj.mtime_ns = row->dir_mtime;
		if (!e->obj.mtime_ns && !key_path(path, sizeof(path), bucket, key) &&
		    ufs_stat(c->ufs, path, &st) == ATR_OK)
			e->obj.mtime_ns = st.mtime_ns;
	}
	e->implicit = row->implicit;
	e->is_bucket = !*key;
	/* Held on this node (not persisted): all of it is here. */
	e->persist = row->persist;
	e->cached = row->persist && !row->obj.is_dir ? row->obj.size
						       : atr_cache_bytes(c, &row->obj);
	e->ttl_due_ms = -1;
	if (!row->obj.is_dir && row->obj.ino) {
		e->pinned = meta_pin_get(c->meta, row->obj.ino);
		if (meta_ttl_get(c->meta, row->obj.ino, &e->ttl_due_ms, &e->ttl_action))
			e->ttl_due_ms = -1;
	}
	group_of(g, row->obj.owner, e->group);
}

static void entry_bucket(struct atr_core *c, struct groups *g, const struct atr_bucket *b,
			 struct atr_entry *e)
{
	struct meta_row root = { 0 };
	if (meta_obj_get(c->meta, b->name, "", &root, 0)) {
		memset(&root, 0, sizeof(root));
		root.obj.is_dir = 1;
	}
	snprintf(root.obj.owner, sizeof(root.obj.owner), "%s", b->owner);
	root.obj.mode = b->mode;
	root.obj.gid = b->gid;
	root.obj.mtime_ns = b->ctime_ns;
	root.implicit = 0;
	entry_from_row(c, g, b->name, "", &root, e);
}

static void entry_root(struct atr_core *c, struct atr_entry *e)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->path, sizeof(e->path), "/");
	e->obj.is_dir = 1;
	e->obj.mode = 0755;
	snprintf(e->obj.owner, sizeof(e->obj.owner), "%s", c->daemon_user);
	e->ttl_due_ms = -1;
	struct groups g = { .owner = "" };
	group_of(&g, c->daemon_user, e->group);
	e->persist = ATR_PERSISTED;
}

/*
 * Resolves key (no trailing '/') in bucket to the file "key" or else the
 * directory "key/" (explicit or implied), with metadata sync (ns_resolve),
 * if u may see it: a file needs read permission (as S3 HEAD does), a
 * directory search above it (as stat(2) does); *dir says which.
 */
static int fs_resolve(struct atr_core *c, const struct atr_user *u, const char *bucket,
		      const char *key, struct meta_row *row, int *dir)
{
	char dk[ATR_KEY_MAX + 2];
	struct atr_bucket b;
	int rc = perm_bucket(c, u, bucket, NULL, 0, &b);
	if (rc)
		return rc;
	if ((rc = ns_resolve(c, bucket, key, row, dir))) {
		/* A missing key is told only to who may list the bucket. */
		if (rc == ATR_E_NO_KEY &&
		    perm_check(c, u, "s3:ListBucket", &b, NULL, NULL, NULL, PERM_R))
			rc = ATR_E_ACCESS;
		return rc;
	}
	if (!*dir) {
		const char *action = u->req && u->req->action ? u->req->action : "s3:GetObject";
		return perm_check(c, u, action, &b, key, row, key, PERM_R);
	}
	key_dir(key, dk);
	return perm_check(c, u, "s3:ListBucket", &b, dk, row, key, 0);
}

int atr_fs_stat(struct atr_core *c, const struct atr_user *u, const char *path,
		struct atr_entry *out)
{
	struct fspath p;
	struct atr_bucket b;
	struct meta_row row = { 0 };
	struct groups g = { .owner = "" };
	int dir, rc = parse_path(path, &p);
	if (rc)
		return rc;
	if (!*p.bucket) {
		entry_root(c, out);
		return ATR_OK;
	}
	if (!*p.key) {
		/* HeadBucket's permission (s3:ListBucket). */
		if ((rc = ns_bucket_get(c, p.bucket, &b, 1)) ||
		    (rc = perm_check(c, u, "s3:ListBucket", &b, NULL, NULL, NULL, PERM_R)))
			return rc;
		entry_bucket(c, &g, &b, out);
		return ATR_OK;
	}
	if ((rc = fs_resolve(c, u, p.bucket, p.key, &row, &dir)))
		return rc;
	char dk[ATR_KEY_MAX + 2];
	key_dir(p.key, dk);
	entry_from_row(c, &g, p.bucket, dir ? dk : p.key, &row, out);
	return ATR_OK;
}

int atr_fs_refresh(struct atr_core *c, const struct atr_user *u, const char *path)
{
	struct fspath p;
	struct atr_bucket b;
	char up[PATH_MAX_UFS];
	int rc = parse_path(path, &p);
	if (rc || !*p.bucket)
		return rc;
	if ((rc = ns_bucket_get(c, p.bucket, &b, 1)) ||
	    (rc = perm_check(c, u, "s3:ListBucket", &b, NULL, NULL, NULL, PERM_R)))
		return rc;
	if (key_path(up, sizeof(up), p.bucket, p.key))
		return ATR_E_INVALID_ARG;
	ufs_refresh(c->ufs, up);
	return ATR_OK;
}

/* ---- listing ---- */

struct fslist {
	struct atr_core *c;
	const char *bucket;     /* the bucket being scanned */
	struct perm_view *v;    /* what the caller may see of the bucket listed */
	struct groups g;
	atr_entry_cb cb;
	void *arg;
	int max, count, truncated, stop;
	char *next;
	struct atr_entry e;
};

/* Emits one entry; 1 when the listing must stop. The cursor of the entry
 * that did not fit is "bucket/key", the key as stored. */
static int emit(struct fslist *l, const char *bucket, const char *key, const struct meta_row *row,
		const struct atr_bucket *b)
{
	if (l->count == l->max) {
		l->truncated = 1;
		if (l->next)
			snprintf(l->next, ATR_PATH_MAX + 1, "%s/%s", bucket, key);
		l->stop = 1;
		return 1;
	}
	if (b)
		entry_bucket(l->c, &l->g, b, &l->e);
	else
		entry_from_row(l->c, &l->g, bucket, key, row, &l->e);
	l->count++;
	if (l->cb(l->arg, &l->e)) {
		l->stop = 1;
		return 1;
	}
	return 0;
}

/* An entry the kernel's scan found: emitted, unless a directory above it is
 * not the caller's to look into (perm_view_dir). */
static int see_dir(void *arg, const char *dirkey)
{
	return perm_view_dir(((struct fslist *)arg)->v, dirkey);
}

static int on_entry_row(void *arg, const char *key, const struct meta_row *row)
{
	struct fslist *l = arg;
	return emit(l, l->bucket, key, row, NULL);
}

/* The entries below dirkey ("" for the bucket's root) from start (a key,
 * inclusive; NULL for the beginning). */
static int scan_dir(struct fslist *l, const char *bucket, const char *dirkey, int recursive,
		    const char *start)
{
	l->bucket = bucket;
	int rc = ns_scan_dir(l->c, bucket, dirkey, recursive, start, see_dir, on_entry_row, l);
	return rc < 0 ? ATR_OK : rc;
}

struct names {
	char (*v)[ATR_BUCKET_MAX + 1];
	size_t n, cap;
	int oom;
};

static int add_bucket_name(void *arg, const struct atr_bucket *b)
{
	struct names *ns = arg;
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 16;
		void *v = realloc(ns->v, cap * sizeof(*ns->v));
		if (!v) {
			ns->oom = 1;
			return 1;
		}
		ns->v = v;
		ns->cap = cap;
	}
	memcpy(ns->v[ns->n++], b->name, sizeof(ns->v[0]));
	return 0;
}

/* Every bucket's name, in order (after importing new bucket directories). */
static int bucket_names(struct atr_core *c, struct names *ns)
{
	memset(ns, 0, sizeof(*ns));
	ns_sync_buckets(c);
	int rc = meta_bucket_list(c->meta, NULL, add_bucket_name, ns);
	return rc ? rc : ns->oom ? ATR_E_NOMEM : ATR_OK;
}

/* The root: buckets, and with recursive everything in them. A cursor is
 * "bucket/key" ("bucket/" for the bucket's own entry). */
static int list_root(struct fslist *l, const struct atr_user *u, int recursive, const char *start)
{
	struct names ns;
	char sb[ATR_BUCKET_MAX + 1] = "";
	const char *skey = "";
	int rc = bucket_names(l->c, &ns);
	if (rc)
		return rc;
	if (start && *start) {
		size_t n = strcspn(start, "/");
		if (n > ATR_BUCKET_MAX)
			n = ATR_BUCKET_MAX;
		memcpy(sb, start, n);
		sb[n] = '\0';
		skey = start[n] == '/' ? start + n + 1 : "";
	}
	for (size_t i = 0; i < ns.n && !l->stop && !rc; i++) {
		struct atr_bucket b;
		int cmp = strcmp(ns.v[i], sb);
		if (cmp < 0)
			continue;
		/* The buckets the caller may list; gone meanwhile: skipped. */
		if (perm_bucket(l->c, u, ns.v[i], "s3:ListBucket", PERM_R, &b))
			continue;
		if ((cmp > 0 || !*skey) && emit(l, b.name, "", NULL, &b))
			break;
		if (!recursive || (rc = ns_sync_tree(l->c, b.name, "")) ||
		    (rc = perm_view_new(l->c, u, &b, "s3:ListBucket", &l->v)))
			continue;
		rc = scan_dir(l, b.name, "", 1, cmp == 0 && *skey ? skey : NULL);
		perm_view_release(l->v);
		l->v = NULL;
	}
	free(ns.v);
	return rc;
}

int atr_fs_list(struct atr_core *c, const struct atr_user *u, const char *path, int recursive,
		const char *start, int max, atr_entry_cb cb, void *arg, int *truncated, char *next)
{
	struct fspath p;
	struct meta_row row = { 0 };
	char dk[ATR_KEY_MAX + 2];
	int dir, rc = parse_path(path, &p);
	*truncated = 0;
	if (next)
		next[0] = '\0';
	if (rc)
		return rc;
	if (max < 0)
		return ATR_E_INVALID_ARG;
	struct fslist *l = calloc(1, sizeof(*l));
	if (!l)
		return ATR_E_NOMEM;
	*l = (struct fslist){ .c = c, .cb = cb, .arg = arg, .max = max, .next = next };
	if (!*p.bucket) {
		rc = list_root(l, u, recursive, start);
		goto out;
	}
	struct atr_bucket b;
	if ((rc = perm_bucket(c, u, p.bucket, NULL, 0, &b)) ||
	    (rc = perm_view_new(c, u, &b, "s3:ListBucket", &l->v)))
		goto out;
	/* A cursor names this bucket's key to resume at. */
	const char *skey = NULL;
	if (start && *start) {
		size_t bl = strlen(p.bucket);
		if (strncmp(start, p.bucket, bl) || start[bl] != '/') {
			rc = ATR_E_INVALID_ARG;
			goto out;
		}
		skey = start + bl + 1;
	}
	if (*p.key) {
		if ((rc = fs_resolve(c, u, p.bucket, p.key, &row, &dir)))
			goto out;
		if (!dir) {
			/* A file lists as itself. */
			if (!skey || strcmp(skey, p.key) <= 0)
				emit(l, p.bucket, p.key, &row, NULL);
			goto out;
		}
	}
	if ((rc = key_dir(p.key, dk)))
		goto out;
	if (!perm_view_dir(l->v, dk)) {
		rc = ATR_E_ACCESS; /* r and x on it, x above it, as ls needs */
		goto out;
	}
	if ((rc = ns_sync_tree(c, p.bucket, dk)))
		goto out;
	rc = scan_dir(l, p.bucket, dk, recursive, skey);
out:
	*truncated = l->truncated;
	perm_view_release(l->v);
	free(l);
	return rc;
}

/* ---- walking the files below a path ---- */

typedef int (*file_fn)(struct atr_core *c, const struct atr_user *u, const char *bucket,
		       const char *key, void *arg);

struct batch {
	char (*keys)[ATR_KEY_MAX + 2];
	int n;
	int files_only;
};

static int collect_key(void *arg, const char *key, const struct meta_row *row)
{
	struct batch *b = arg;
	if (b->files_only && row->obj.is_dir)
		return 0;
	snprintf(b->keys[b->n++], ATR_KEY_MAX + 2, "%s", key);
	return b->n == BATCH;
}

/* Calls fn for each visible key (files; with markers, directory markers
 * too) in [dirkey, its successor), in key order, in batches, so no SQL
 * statement stays open while fn works. ATR_E_ACCESS from fn skips that
 * key; any other error stops. */
static int walk_keys(struct atr_core *c, const struct atr_user *u, const char *bucket,
		     const char *dirkey, int markers, file_fn fn, void *arg)
{
	char upto[ATR_KEY_MAX + 2], from[ATR_KEY_MAX + 2];
	const char *hi = NULL;
	int rc, inclusive = 1;
	if (*dirkey) {
		if (key_successor(dirkey, upto, sizeof(upto)))
			return ATR_E_INVALID_ARG;
		hi = upto;
	}
	if ((rc = ns_sync_tree(c, bucket, dirkey)))
		return rc;
	struct batch b = { .files_only = !markers };
	if (!(b.keys = malloc(BATCH * sizeof(*b.keys))))
		return ATR_E_NOMEM;
	snprintf(from, sizeof(from), "%s", dirkey);
	for (;;) {
		b.n = 0;
		if ((rc = meta_obj_scan(c->meta, bucket, from, inclusive, hi, 1, collect_key, &b)))
			break;
		for (int i = 0; i < b.n && !rc; i++) {
			rc = fn(c, u, bucket, b.keys[i], arg);
			if (rc == ATR_E_ACCESS)
				rc = ATR_OK;
		}
		if (rc || b.n < BATCH)
			break;
		memcpy(from, b.keys[b.n - 1], sizeof(from));
		inclusive = 0;
	}
	free(b.keys);
	return rc;
}

/* fn for the file at path, or every file below it. */
static int walk_files(struct atr_core *c, const struct atr_user *u, const char *path,
		      file_fn fn, void *arg)
{
	struct fspath p;
	struct meta_row row = { 0 };
	char dk[ATR_KEY_MAX + 2];
	int dir, rc = parse_path(path, &p);
	if (rc)
		return rc;
	if (!*p.bucket) {
		struct names ns;
		if ((rc = bucket_names(c, &ns)))
			return rc;
		for (size_t i = 0; i < ns.n && !rc; i++)
			if (perm_bucket(c, u, ns.v[i], "s3:ListBucket", PERM_R, NULL) == ATR_OK)
				rc = walk_keys(c, u, ns.v[i], "", 0, fn, arg);
		free(ns.v);
		return rc;
	}
	if ((rc = perm_bucket(c, u, p.bucket, NULL, 0, NULL)))
		return rc;
	if (*p.key) {
		if ((rc = fs_resolve(c, u, p.bucket, p.key, &row, &dir)))
			return rc;
		if (!dir)
			return fn(c, u, p.bucket, p.key, arg);
	}
	key_dir(p.key, dk);
	return walk_keys(c, u, p.bucket, dk, 0, fn, arg);
}

/* ---- cache and persistence ---- */

uint64_t atr_cache_bytes(struct atr_core *c, const struct atr_obj *o)
{
	uint64_t fsize = obj_file_size(o);
	if (o->is_dir || o->size == 0)
		return 0;
	uint64_t nblocks = (fsize + c->block_size - 1) / c->block_size;
	uint64_t got = bcache_cached(c->cache, o->ino, o->version, nblocks);
	/* An encrypted object's blocks hold its ciphertext: counted in
	 * plaintext bytes (all of them: its size). */
	return fsize == o->size ? got : (uint64_t)((double)got / (double)fsize * (double)o->size);
}

static int load_one(struct atr_core *c, const struct atr_user *u, const char *bucket,
		    const char *key, void *arg)
{
	struct atr_cache_op *op = arg;
	struct atr_reader *r;
	struct meta_row row = { 0 };
	struct ufs_file *f = NULL;
	int rc = perm_find(c, u, "s3:GetObject", PERM_R, bucket, key, &row, &f, 0);
	if (rc)
		return rc == ATR_E_NO_KEY ? ATR_OK : rc; /* gone meanwhile */
	struct atr_obj o = row.obj;
	if ((rc = reader_new(c, &o, f, &r))) {
		atr_obj_release(&o);
		return rc == ATR_E_CONFLICT ? ATR_OK : rc; /* replaced meanwhile */
	}
	r->read_type = ATR_RT_CACHE; /* what load is for, whatever the default */
	reader_locate(r, bucket, row.persist);
	uint64_t before = atr_cache_bytes(c, &o);
	/* An encrypted object: its ciphertext, no key needed (SSE-C's). */
	if (o.sse && o.size)
		rc = reader_file_load(r, obj_file_size(&o));
	for (uint64_t off = 0; !o.sse && off < o.size && !rc;) {
		const void *data;
		size_t len;
		if (!(rc = atr_get_read(r, off, &data, &len)))
			off += len ? len : o.size; /* len 0 only past the end */
	}
	atr_get_close(r);
	if (!rc) {
		uint64_t after = atr_cache_bytes(c, &o);
		op->files++;
		op->bytes += after > before ? after - before : 0;
	}
	atr_obj_release(&o);
	return rc;
}

static int free_one(struct atr_core *c, const struct atr_user *u, const char *bucket,
		    const char *key, void *arg)
{
	struct atr_cache_op *op = arg;
	struct meta_row row = { 0 };
	int rc = perm_find(c, u, "s3:GetObject", PERM_R, bucket, key, &row, NULL, 0);
	if (rc)
		return rc == ATR_E_NO_KEY ? ATR_OK : rc;
	atr_obj_release(&row.obj);
	if (row.persist)
		return ATR_E_NOT_PERSISTED; /* its cached bytes are its only copy */
	if (meta_pin_get(c->meta, row.obj.ino))
		return ATR_E_PINNED;
	uint64_t before = atr_cache_bytes(c, &row.obj);
	bcache_drop(c->cache, row.obj.ino);
	uint64_t after = atr_cache_bytes(c, &row.obj); /* pinned blocks stay */
	op->files++;
	op->bytes += before - after;
	return ATR_OK;
}

static int persist_one(struct atr_core *c, const struct atr_user *u, const char *bucket,
		       const char *key, void *arg)
{
	struct atr_cache_op *op = arg;
	struct meta_row row = { 0 };
	int rc = perm_find(c, u, "s3:PutObject", PERM_R, bucket, key, &row, NULL, 0);
	if (rc)
		return rc == ATR_E_NO_KEY ? ATR_OK : rc;
	atr_obj_release(&row.obj);
	/* A local bucket's, and a remote one's written through, are
	 * PERSISTED already; a held one goes up now (src/persist.c). */
	if (row.persist && (rc = persist_ino(c, row.obj.ino, &op->bytes)))
		return rc;
	op->files++;
	return ATR_OK;
}

/* ---- pins and TTLs (src/persist.c runs them) ---- */

struct mark_args {
	uint64_t ino;
	int on;         /* pin */
	int64_t due_ms; /* ttl: < 0 none */
	int action;
	int ttl;        /* 1: a TTL, 0: a pin */
};

static int mark_one_fn(struct atr_core *c, void *arg)
{
	struct mark_args *m = arg;
	return m->ttl ? meta_ttl_set(c->meta, m->ino, m->due_ms, m->action)
		      : meta_pin_set(c->meta, m->ino, m->on);
}

static int mark_one(struct atr_core *c, const struct atr_user *u, const char *bucket,
		    const char *key, void *arg)
{
	struct atr_cache_op *op = ((struct atr_cache_op **)arg)[0];
	struct mark_args m = *((struct mark_args **)arg)[1];
	struct meta_row row = { 0 };
	/* Changing what happens to a file is writing it. */
	int rc = perm_find(c, u, "s3:PutObject", PERM_W, bucket, key, &row, NULL, 0);
	if (rc)
		return rc == ATR_E_NO_KEY ? ATR_OK : rc;
	atr_obj_release(&row.obj);
	m.ino = row.obj.ino;
	if ((rc = ns_txn(c, mark_one_fn, &m)))
		return rc;
	op->files++;
	return ATR_OK;
}

int atr_fs_pin(struct atr_core *c, const struct atr_user *u, const char *path, int on,
	       struct atr_cache_op *out)
{
	struct mark_args m = { .on = on };
	void *args[2] = { out, &m };
	memset(out, 0, sizeof(*out));
	int rc = walk_files(c, u, path, mark_one, args);
	persist_pins_reload(c); /* what was done, even if not all of it */
	return rc;
}

int atr_fs_set_ttl(struct atr_core *c, const struct atr_user *u, const char *path, int64_t ms,
		   enum atr_ttl_action action, struct atr_cache_op *out)
{
	if (action != ATR_TTL_DELETE && action != ATR_TTL_FREE)
		return ATR_E_INVALID_ARG;
	struct mark_args m = { .ttl = 1, .action = action,
			       .due_ms = ms < 0 ? -1 : time_now_ns() / 1000000 + ms };
	void *args[2] = { out, &m };
	memset(out, 0, sizeof(*out));
	int rc = walk_files(c, u, path, mark_one, args);
	persist_kick(c); /* the worker's next wake-up may be sooner now */
	return rc;
}

int atr_cache_load(struct atr_core *c, const struct atr_user *u, const char *path,
		   struct atr_cache_op *out)
{
	memset(out, 0, sizeof(*out));
	int rc = walk_files(c, u, path, load_one, out);
	/* On disk before the answer, so a restart right after keeps them. */
	bcache_flush(c->cache);
	return rc;
}

int atr_cache_free(struct atr_core *c, const struct atr_user *u, const char *path,
		   struct atr_cache_op *out)
{
	memset(out, 0, sizeof(*out));
	return walk_files(c, u, path, free_one, out);
}

int atr_fs_persist(struct atr_core *c, const struct atr_user *u, const char *path,
		   struct atr_cache_op *out)
{
	memset(out, 0, sizeof(*out));
	return walk_files(c, u, path, persist_one, out);
}

/* ---- mkdir, rm ---- */

/* A directory marker at dk, made by u (who may write there). */
static int put_marker(struct atr_core *c, const struct atr_user *u, const struct atr_bucket *b,
		      const char *dk)
{
	char owner[ATR_USER_MAX + 1];
	acl_owner(u, b, NULL, owner);
	return ns_commit_marker(c, owner, b->name, dk, NULL, 0, NULL, NULL, NULL, NULL);
}

int atr_fs_mkdir(struct atr_core *c, const struct atr_user *u, const char *path)
{
	struct fspath p;
	struct meta_row row = { 0 };
	char dk[ATR_KEY_MAX + 2];
	int dir, rc = parse_path(path, &p);
	if (rc)
		return rc;
	if (!*p.bucket)
		return ATR_E_EXISTS;
	if (!*p.key) {
		/* A new bucket, private (as CreateBucket makes it). */
		rc = u->anonymous ? ATR_E_ACCESS
				  : ns_bucket_create(c, u->name, p.bucket, "", 0700, NULL, -1);
		return rc == ATR_E_BUCKET_OWNED || rc == ATR_E_BUCKET_EXISTS ? ATR_E_EXISTS : rc;
	}
	struct atr_bucket b;
	if ((rc = perm_bucket(c, u, p.bucket, NULL, 0, &b)) ||
	    (rc = perm_write_key(c, u, "s3:PutObject", &b, p.key)))
		return rc;
	rc = fs_resolve(c, u, p.bucket, p.key, &row, &dir);
	if (rc == ATR_OK || rc == ATR_E_ACCESS) /* there, if not ours to see */
		return ATR_E_EXISTS;
	if (rc != ATR_E_NO_KEY)
		return rc;
	if ((rc = key_dir(p.key, dk)))
		return rc;
	/* Like mkdir -p, with every missing ancestor a real directory (a
	 * marker), not an implied one that vanishes with its last child. */
	for (size_t i = 0; dk[i] && !rc; i++) {
		if (dk[i] != '/')
			continue;
		char save = dk[i + 1];
		dk[i + 1] = '\0';
		if (!save || meta_obj_get(c->meta, p.bucket, dk, &row, 0) == ATR_E_NO_KEY)
			rc = put_marker(c, u, &b, dk);
		dk[i + 1] = save;
	}
	return rc;
}

/* Deletes the object or marker at key if u may (S3's DeleteObject). */
static int delete_key(struct atr_core *c, const struct atr_user *u, const char *bucket,
		      const char *key)
{
	struct atr_bucket b;
	int rc = perm_bucket(c, u, bucket, NULL, 0, &b);
	struct atr_delete_result d;
	if (rc || (rc = perm_write_key(c, u, "s3:DeleteObject", &b, key)))
		return rc;
	rc = obj_delete_version(c, u->name, bucket, key, NULL, 1, OBJ_DEL_IN_PLACE, &d);
	return rc == ATR_E_NO_KEY ? ATR_OK : rc;
}

static int delete_one(struct atr_core *c, const struct atr_user *u, const char *bucket,
		      const char *key, void *arg)
{
	return delete_key(c, u, bucket, key);
}

struct dirkeys {
	char **v;
	size_t n, cap;
	int oom;
};

static int collect_dirkey(void *arg, const char *key, const struct meta_row *row)
{
	struct dirkeys *d = arg;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		char **v = realloc(d->v, cap * sizeof(*v));
		if (!v) {
			d->oom = 1;
			return 1;
		}
		d->v = v;
		d->cap = cap;
	}
	if (!(d->v[d->n] = strdup(key))) {
		d->oom = 1;
		return 1;
	}
	d->n++;
	return 0;
}

/* Everything at and below dk: objects and markers first, then the empty
 * directories left (made behind our back), deepest first. */
static int remove_tree(struct atr_core *c, const struct atr_user *u, const char *bucket,
		       const char *dk)
{
	char upto[ATR_KEY_MAX + 2];
	struct dirkeys dirs = { 0 };
	int rc = walk_keys(c, u, bucket, dk, 1, delete_one, NULL);
	if (rc)
		return rc;
	const char *hi = NULL;
	if (*dk) {
		if (key_successor(dk, upto, sizeof(upto)))
			return ATR_E_INVALID_ARG;
		hi = upto;
	}
	rc = meta_dir_scan(c->meta, bucket, dk, hi, collect_dirkey, &dirs);
	if (!rc && dirs.oom)
		rc = ATR_E_NOMEM;
	struct atr_bucket b;
	if (!rc)
		rc = perm_bucket(c, u, bucket, NULL, 0, &b);
	for (size_t i = dirs.n; i-- > 0 && !rc;) {
		if (!*dirs.v[i])
			continue;
		rc = perm_write_key(c, u, "s3:DeleteObject", &b, dirs.v[i]);
		if (!rc)
			rc = ns_rmdir(c, bucket, dirs.v[i], 1);
		else if (rc == ATR_E_ACCESS)
			rc = ATR_OK; /* not the caller's to remove: it stays */
	}
	for (size_t i = 0; i < dirs.n; i++)
		free(dirs.v[i]);
	free(dirs.v);
	return rc;
}

int atr_fs_remove(struct atr_core *c, const struct atr_user *u, const char *path, int recursive)
{
	struct fspath p;
	struct meta_row row = { 0 };
	char dk[ATR_KEY_MAX + 2];
	int dir, rc = parse_path(path, &p);
	if (rc)
		return rc;
	if (!*p.bucket)
		return ATR_E_INVALID_ARG;
	struct atr_bucket b;
	if ((rc = perm_bucket(c, u, p.bucket, NULL, 0, &b)))
		return rc;
	if (!*p.key) {
		if (recursive && (rc = remove_tree(c, u, p.bucket, "")))
			return rc;
		rc = perm_bucket(c, u, p.bucket, "s3:DeleteBucket", PERM_OWNER, NULL);
		if (!rc)
			rc = ns_bucket_delete(c, p.bucket);
		return rc == ATR_E_BUCKET_NOT_EMPTY ? ATR_E_NOT_EMPTY : rc;
	}
	if ((rc = fs_resolve(c, u, p.bucket, p.key, &row, &dir)))
		return rc;
	if (!dir)
		return delete_key(c, u, p.bucket, p.key);
	key_dir(p.key, dk);
	if (recursive)
		return remove_tree(c, u, p.bucket, dk);
	if ((rc = ns_sync_tree(c, p.bucket, dk)))
		return rc;
	int kids = meta_obj_has_children(c->meta, p.bucket, dk);
	if (kids)
		return kids < 0 ? ATR_E_IO : ATR_E_NOT_EMPTY;
	if (!row.implicit)
		return delete_key(c, u, p.bucket, dk);
	rc = perm_write_key(c, u, "s3:DeleteObject", &b, dk);
	return rc ? rc : ns_rmdir(c, p.bucket, dk, 1);
}

/* ---- mv ---- */

int atr_fs_rename(struct atr_core *c, const struct atr_user *u, const char *src, const char *dst)
{
	struct fspath s, d;
	struct meta_row row = { 0 };
	char skey[ATR_KEY_MAX + 2], dkey[ATR_KEY_MAX + 2];
	int dir, rc;
	if ((rc = parse_path(src, &s)) || (rc = parse_path(dst, &d)))
		return rc;
	if (!*s.key || !*d.key)
		return !*s.bucket || !*d.bucket ? ATR_E_INVALID_ARG : ATR_E_NOT_SUPPORTED;
	struct atr_bucket sb, db;
	if ((rc = perm_bucket(c, u, s.bucket, NULL, 0, &sb)) ||
	    (rc = perm_bucket(c, u, d.bucket, NULL, 0, &db)))
		return rc;
	if (!strcmp(s.bucket, d.bucket) && !strcmp(s.key, d.key))
		return ATR_OK;
	if ((rc = fs_resolve(c, u, s.bucket, s.key, &row, &dir)))
		return rc;
	/* rename(2)'s rule: w and x on both directories (and the sticky
	 * bit's on the source's). */
	if ((rc = perm_write_key(c, u, "s3:DeleteObject", &sb, s.key)) ||
	    (rc = perm_write_key(c, u, "s3:PutObject", &db, d.key)))
		return rc;
	if (dir) {
		if ((rc = key_dir(s.key, skey)) || (rc = key_dir(d.key, dkey)))
			return rc;
		if (!strcmp(s.bucket, d.bucket) && !strncmp(dkey, skey, strlen(skey)))
			return ATR_E_INVALID_ARG; /* into itself */
		if ((rc = ns_sync_tree(c, s.bucket, skey)))
			return rc;
	} else {
		snprintf(skey, sizeof(skey), "%s", s.key);
		snprintf(dkey, sizeof(dkey), "%s", d.key);
	}
	return ns_rename(c, s.bucket, skey, d.bucket, dkey, dir, 0);
}

/* ---- chmod, chown ---- */

struct not_owned {
	const char *user;
	int found;
};

static int check_owned(void *arg, const char *key, const struct meta_row *row)
{
	struct not_owned *n = arg;
	if (strcmp(row->obj.owner, n->user)) {
		n->found = 1;
		return 1;
	}
	return 0;
}

/* mode < 0 keeps it, owner NULL keeps it. chmod is for the owner (of every
 * row changed) and the superuser; chown for the superuser. */
struct attr_args {
	const char *bucket;
	const char *bucket_owned; /* the bucket itself changes owner too */
	const char *from, *to;
	int64_t mode;
	const char *owner;
};

/* A row set_attr changed: the mount forgets what it had of it, and the
 * other names of a hard-linked file are kept in step (after the scan). */
struct attr_changed {
	struct atr_core *c;
	const char *bucket;
	uint64_t *linked;
	size_t n;
	int oom;
};

static int attr_changed(void *arg, const char *key, const struct meta_row *row)
{
	struct attr_changed *a = arg;
	ns_event(a->c, a->bucket, key, &row->obj);
	if (row->obj.node) {
		uint64_t *v = realloc(a->linked, (a->n + 1) * sizeof(*v));
		if (!v) {
			a->oom = 1;
			return 1;
		}
		a->linked = v;
		a->linked[a->n++] = row->obj.ino;
	}
	return 0;
}

static int set_attr_fn(struct atr_core *c, void *arg)
{
	struct attr_args *a = arg;
	struct attr_changed ch = { c, a->bucket, NULL, 0, 0 };
	struct meta_row row = { 0 }, before = { 0 };
	int had = meta_obj_get(c->meta, a->bucket, a->from, &before, 0) == ATR_OK;
	int rc = ATR_OK;
	if (a->bucket_owned && a->owner)
		rc = meta_bucket_set_owner(c->meta, a->bucket_owned, a->owner);
	if (!rc)
		rc = meta_obj_set_attr(c->meta, a->bucket, a->from, a->to, a->mode, a->owner);
	if (!rc && a->to)
		rc = meta_obj_scan(c->meta, a->bucket, a->from, 1, a->to, 0, attr_changed, &ch);
	else if (!rc && !meta_obj_get(c->meta, a->bucket, a->from, &row, 0))
		attr_changed(&ch, a->from, &row);
	/* The implied directories below one changed alone follow it. */
	if (!rc && !a->to && had && row.obj.is_dir)
		rc = perm_follow(c, a->bucket, a->from, &before, &row, 0, NULL);
	if (!rc && ch.oom)
		rc = ATR_E_NOMEM;
	for (size_t i = 0; !rc && i < ch.n; i++)
		rc = meta_node_sync(c->meta, ch.linked[i]);
	free(ch.linked);
	return rc;
}

static int set_attr(struct atr_core *c, const struct atr_user *u, const char *path,
		    int64_t mode, const char *owner, int recursive)
{
	struct fspath p;
	struct meta_row row = { 0 };
	char dk[ATR_KEY_MAX + 2], upto[ATR_KEY_MAX + 2];
	int dir = 1, rc = parse_path(path, &p);
	if (rc)
		return rc;
	if (mode > 0777 || (owner && !atr_user_name_valid(owner, strlen(owner))))
		return ATR_E_INVALID_ARG;
	if (owner && !u->superuser)
		return ATR_E_ACCESS;
	if (!*p.bucket)
		return ATR_E_NOT_SUPPORTED;
	struct atr_bucket b;
	if ((rc = perm_bucket(c, u, p.bucket, NULL, 0, &b)))
		return rc;
	if (*p.key && (rc = fs_resolve(c, u, p.bucket, p.key, &row, &dir)))
		return rc;
	key_dir(p.key, dk);
	/* One row, or with recursive the directory and everything below. */
	const char *from = dir ? dk : p.key, *to = NULL;
	if (dir && recursive) {
		if (*dk && key_successor(dk, upto, sizeof(upto)))
			return ATR_E_INVALID_ARG;
		to = *dk ? upto : "\xf5"; /* "": above every UTF-8 key */
		if ((rc = ns_sync_tree(c, p.bucket, dk)))
			return rc;
	}
	if (!u->superuser) {
		struct not_owned n = { u->name, 0 };
		if (u->anonymous || strcmp(*p.key ? row.obj.owner : b.owner, u->name))
			return ATR_E_ACCESS;
		if (to && (rc = meta_obj_scan(c->meta, p.bucket, from, 1, to, 0, check_owned, &n)))
			return rc;
		if (n.found)
			return ATR_E_ACCESS;
	}
	struct attr_args a = { p.bucket, *p.key ? NULL : p.bucket, from, to, mode, owner };
	rc = ns_txn(c, set_attr_fn, &a);
	ns_settle(c);
	return rc;
}

int atr_fs_chmod(struct atr_core *c, const struct atr_user *u, const char *path, uint32_t mode,
		 int recursive)
{
	return set_attr(c, u, path, mode, NULL, recursive);
}

int atr_fs_chown(struct atr_core *c, const struct atr_user *u, const char *path,
		 const char *owner, int recursive)
{
	return set_attr(c, u, path, -1, owner, recursive);
}

/* ---- totals ---- */

int atr_ns_totals(struct atr_core *c, struct atr_ns_totals *out)
{
	return meta_totals(c->meta, out);
}
