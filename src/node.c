/*
 * node — the mount's view of the namespace: inodes, POSIX attributes,
 * open files with shared write shadows, extended attributes, and the
 * change events the mount turns into kernel cache invalidations
 * (src/atrium.h, "the mount's view").
 *
 * An inode is an objects row; its number is the row's ino + 1, so that
 * ATR_INO_ROOT (1) is the namespace root, which has no row. Buckets are the
 * rows with key "" of each bucket.
 *
 * Open files. Every inode with open files has a struct inode here, found
 * by number in a small hash table. Its shadow is a stage (a private file of
 * the UFS) holding the file as written so far: made on the first write (a
 * copy of the current bytes, or empty for O_TRUNC and new files), shared by
 * every descriptor, and committed by flush through ns_commit_bytes, the same
 * step a PUT ends with. The MD5 runs along while writes come in order;
 * anything else (a seek back, a hole, a truncate) has it computed from
 * the committed file after the commit (etag.c). Lock order: an inode's
 * lock, then an open file's (f->lock), then ns_lock; an inode's lock, then
 * the table's (nodes->lock); all of them and the mount's own are laid out
 * in docs/architecture.md, "Lock order and the invalidation worker".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "src/ns_int.h"
#include "src/idmap_int.h"
#include "src/perm_int.h"

#define NODE_BUCKETS 256
#define XATTR_S3 "user.s3."
#define HDRS_MAX 8192
/* What S3 serves an object stored without a Content-Type with. */
#define CONTENT_TYPE_DEFAULT "binary/octet-stream"

struct inode {
	uint64_t ino;             /* node number */
	int refs;                 /* open files, and short-lived users */
	pthread_mutex_t lock;
	struct ufs_stage *stage;  /* the shadow, NULL when none */
	struct hash md5;
	int md5_open;             /* md5 covers [0, md5_off) of the shadow */
	uint64_t md5_off;
	uint64_t size;            /* the shadow's */
	int dirty;                /* the shadow differs from the committed file */
	int werr;                 /* a write into the shadow failed (ENOSPC...): the
				   * shadow is never committed; writes and flushes
				   * fail with it until the inode is let go */
	int64_t mtime_ns;         /* of the last write into the shadow */
	int64_t ctime_ns;         /* of the last change made through it */
	uint64_t gen;             /* commits through the mount so far */
	int writers;              /* open files that may write: a size change
				   * with none commits at once (setattr) */
	int pending;              /* made by create, its row pending until a commit
				   * succeeds: the last close drops the row then */
	/* What attr_fill shows of the shadow, which it reads without
	 * in->lock: published (atomic stores, under in->lock) by
	 * shadow_publish after every change of stage, size or mtime_ns. */
	int shown;
	uint64_t shown_size;
	int64_t shown_mtime, shown_ctime;
	/* Attributes last seen (guarded by nodes->lock): an unlinked open
	 * file keeps them, and a setattr on it changes them here. */
	struct atr_attr last;
	struct inode *next;
};

/*
 * A ghost: an inode an S3 write replaced moments ago (see node_ghost). The
 * kernel may still be between its lookup of the name and its open of that
 * inode; the ghost keeps the old bytes (an open UFS file) and attributes so
 * that open succeeds and reads one whole version, as on a local file
 * system, where a path walk racing rename(2) opens the old or the new file.
 */
struct ghost {
	struct atr_attr attr;
	struct ufs_file *f;
	uint64_t version;
	int refs;                 /* open files reading it */
	int64_t born;
	struct ghost *next;
};

#define GHOST_LIFE_NS (10LL * 1000000000)
#define GHOST_MAX 256

struct nodes {
	pthread_mutex_t lock;
	struct inode *tab[NODE_BUCKETS];
	struct ghost *ghosts;     /* newest first */
	int nghosts;
};

struct atr_file {
	struct atr_core *c;
	struct inode *in;
	struct ghost *ghost;      /* opened after its inode was replaced */
	int write;
	pthread_rwlock_t lock;    /* the reader below: read to use it, write to replace it */
	struct atr_reader *rd;
	uint64_t rd_gen;
};

static void ghost_make(struct atr_core *c, const char *bucket, const char *key,
		       const struct meta_row *old);

int nodes_open(struct atr_core *c)
{
	if (!(c->nodes = calloc(1, sizeof(*c->nodes))))
		return ATR_E_NOMEM;
	pthread_mutex_init(&c->nodes->lock, NULL);
	c->on_replace = ghost_make;
	return ATR_OK;
}

static void ghost_free(struct atr_core *c, struct ghost *g)
{
	c->ufs->ops->close(g->f);
	free(g);
}

void nodes_close(struct atr_core *c)
{
	if (!c->nodes)
		return;
	while (c->nodes->ghosts) {
		struct ghost *g = c->nodes->ghosts;
		c->nodes->ghosts = g->next;
		ghost_free(c, g);
	}
	pthread_mutex_destroy(&c->nodes->lock);
	free(c->nodes);
	c->nodes = NULL;
}

/* ---- owners ---- */

/* The S3 user a host uid is (src/idmap.c). */
static void owner_of(struct atr_core *c, uint32_t uid, char out[ATR_USER_MAX + 1])
{
	idmap_name(c, uid, out);
}

/* ---- open inodes ---- */

static struct inode *inode_find(struct nodes *n, uint64_t ino)
{
	for (struct inode *in = n->tab[ino % NODE_BUCKETS]; in; in = in->next)
		if (in->ino == ino)
			return in;
	return NULL;
}

static struct inode *inode_get(struct atr_core *c, uint64_t ino)
{
	struct nodes *n = c->nodes;
	pthread_mutex_lock(&n->lock);
	struct inode *in = inode_find(n, ino);
	if (!in && (in = calloc(1, sizeof(*in)))) {
		in->ino = ino;
		pthread_mutex_init(&in->lock, NULL);
		in->next = n->tab[ino % NODE_BUCKETS];
		n->tab[ino % NODE_BUCKETS] = in;
	}
	if (in)
		in->refs++;
	pthread_mutex_unlock(&n->lock);
	return in;
}

static void shadow_publish(struct inode *in)
{
	__atomic_store_n(&in->shown_size, in->size, __ATOMIC_RELAXED);
	__atomic_store_n(&in->shown_mtime, in->mtime_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&in->shown_ctime, in->ctime_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&in->shown, in->stage != NULL, __ATOMIC_RELAXED);
}

static void shadow_drop(struct atr_core *c, struct inode *in)
{
	if (in->md5_open)
		hash_release(&in->md5);
	in->md5_open = 0;
	if (in->stage)
		c->ufs->ops->stage_abort(in->stage);
	in->stage = NULL;
	in->dirty = 0;
	shadow_publish(in);
}

/* The pending row of inode *arg (+1), if it still is one. */
static int pending_drop_fn(struct atr_core *c, void *arg)
{
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	uint64_t ino = *(uint64_t *)arg;
	if (meta_obj_by_ino(c->meta, ino - 1, bucket, key, &row, 0) || !row.pending)
		return ATR_OK;
	return meta_obj_delete(c->meta, bucket, key);
}

static void inode_put(struct atr_core *c, struct inode *in)
{
	struct nodes *n = c->nodes;
	pthread_mutex_lock(&n->lock);
	if (--in->refs > 0) {
		pthread_mutex_unlock(&n->lock);
		return;
	}
	struct inode **pp = &n->tab[in->ino % NODE_BUCKETS];
	while (*pp != in)
		pp = &(*pp)->next;
	*pp = in->next;
	pthread_mutex_unlock(&n->lock);
	shadow_drop(c, in);
	/* A file created here and never committed (its flush failed) did not
	 * happen. Only create makes pending rows (and startup drops those of
	 * an earlier run), so any other inode has none to look for. */
	if (in->pending)
		ns_txn(c, pending_drop_fn, &in->ino);
	pthread_mutex_destroy(&in->lock);
	free(in);
}

/* ---- attributes ---- */

static int row_of(struct atr_core *c, uint64_t ino, char bucket[ATR_BUCKET_MAX + 1],
		  char key[ATR_KEY_MAX + 2], struct meta_row *row, int want_hdrs)
{
	if (ino <= ATR_INO_ROOT)
		return ATR_E_NO_KEY;
	return meta_obj_by_ino(c->meta, ino - 1, bucket, key, row, want_hdrs);
}

/* The attributes of a row as committed (without an open shadow's). */
static void attr_base(struct atr_core *c, const char *bucket, const char *key,
		      const struct atr_obj *o, struct atr_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = obj_node(o) + 1;
	uint32_t type = o->is_dir ? S_IFDIR : o->kind ? o->kind : S_IFREG;
	a->mode = type | (o->mode & 07777);
	idmap_ids(c, o->owner, &a->uid, &a->gid);
	if (o->gid >= 0)
		a->gid = (uint32_t)o->gid;
	a->size = o->is_dir ? 4096 : o->size;
	a->rdev = o->rdev;
	a->nlink = 1;
	if (o->node) {
		int n = meta_node_count(c->meta, o->node);
		a->nlink = n > 0 ? (uint32_t)n : 1;
	}
	if (o->is_dir) {
		/* ".", its name, and each subdirectory's "..". */
		char upto[ATR_KEY_MAX + 2];
		int n = -1;
		if (!*key || !key_successor(key, upto, sizeof(upto)))
			n = meta_subdir_count(c->meta, bucket, key, *key ? upto : "\xf5");
		a->nlink = 2 + (n > 0 ? (uint32_t)n : 0);
	}
	a->mtime_ns = o->mtime_ns;
	if (o->is_dir) {
		char path[PATH_MAX_UFS];
		struct ufs_stat st;
		if (!ufs_path(path, sizeof(path), bucket, key) &&
		    c->ufs->ops->stat(c->ufs, path, &st) == ATR_OK)
			a->mtime_ns = st.mtime_ns;
	}
	a->atime_ns = o->atime_ns ? o->atime_ns : a->mtime_ns;
	a->ctime_ns = o->ctime_ns > a->mtime_ns ? o->ctime_ns : a->mtime_ns;
}

/* Being written: the shadow is the file, its size and mtime are the
 * file's (in->lock need not be held: see shadow_publish). */
static void attr_shadow(struct inode *in, struct atr_attr *a)
{
	if (!__atomic_load_n(&in->shown, __ATOMIC_RELAXED))
		return;
	int64_t ctime = __atomic_load_n(&in->shown_ctime, __ATOMIC_RELAXED);
	a->size = __atomic_load_n(&in->shown_size, __ATOMIC_RELAXED);
	a->mtime_ns = __atomic_load_n(&in->shown_mtime, __ATOMIC_RELAXED);
	if (ctime > a->ctime_ns)
		a->ctime_ns = ctime;
}

/* The attributes the mount shows: an open shadow's size and mtime win. */
static void attr_fill(struct atr_core *c, const char *bucket, const char *key,
		      const struct atr_obj *o, struct atr_attr *a)
{
	attr_base(c, bucket, key, o, a);
	if (!*bucket)
		a->nlink = 0; /* an O_TMPFILE file, which has no name yet */
	if (!o->is_dir) {
		struct nodes *n = c->nodes;
		pthread_mutex_lock(&n->lock);
		struct inode *in = inode_find(n, a->ino);
		if (in) {
			in->last = *a;
			attr_shadow(in, a);
		}
		pthread_mutex_unlock(&n->lock);
	}
}

static void attr_root(struct atr_core *c, struct atr_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = ATR_INO_ROOT;
	a->mode = S_IFDIR | 0755;
	int n = meta_subdir_count(c->meta, NULL, NULL, NULL);
	a->nlink = 2 + (n > 0 ? (uint32_t)n : 0);
	a->size = 4096;
	a->uid = getuid();
	a->gid = getgid();
	struct ufs_stat st;
	if (c->ufs->ops->stat(c->ufs, ".", &st) == ATR_OK)
		a->atime_ns = a->mtime_ns = a->ctime_ns = st.mtime_ns;
}

/* ---- ghosts ---- */


/* The kernel's on_replace (ns_replaced): the object at bucket/key (row
 * old) is about to be replaced by a new inode; its bytes stay readable
 * under its old inode number for a few seconds, so the kernel's lookups
 * in flight still open it. Under ns_lock. */
static void ghost_make(struct atr_core *c, const char *bucket, const char *key,
		       const struct meta_row *old)
{
	if (old->obj.is_dir)
		return;
	char path[PATH_MAX_UFS];
	struct ufs_stat st;
	struct ghost *g = calloc(1, sizeof(*g));
	if (!g || ufs_path(path, sizeof(path), bucket, key) ||
	    c->ufs->ops->open(c->ufs, path, &g->f, &st)) {
		free(g);
		return;
	}
	attr_base(c, bucket, key, &old->obj, &g->attr);
	g->attr.size = st.size; /* the bytes kept, whatever a writer holds open */
	g->version = old->obj.version;
	g->born = time_now_ns();
	/* Drop the ghosts no one reads that are old, or too many. */
	struct nodes *n = c->nodes;
	struct ghost *dead = NULL;
	pthread_mutex_lock(&n->lock);
	g->next = n->ghosts;
	n->ghosts = g;
	n->nghosts++;
	int kept = 0;
	for (struct ghost **pp = &n->ghosts; *pp;) {
		struct ghost *x = *pp;
		if (!x->refs && (++kept > GHOST_MAX || g->born - x->born > GHOST_LIFE_NS)) {
			*pp = x->next;
			n->nghosts--;
			x->next = dead;
			dead = x;
		} else {
			pp = &x->next;
		}
	}
	pthread_mutex_unlock(&n->lock);
	while (dead) {
		struct ghost *x = dead;
		dead = x->next;
		ghost_free(c, x);
	}
}

/* The ghost of inode ino, with a reference if take (n->lock held). */
static struct ghost *ghost_find(struct nodes *n, uint64_t ino)
{
	for (struct ghost *g = n->ghosts; g; g = g->next)
		if (g->attr.ino == ino)
			return g;
	return NULL;
}

/*
 * The UFS file is the one the row describes: the test metadata sync makes
 * (lookup in object.c). A GETATTR follows every write through the mount
 * (the kernel drops a written file's attributes), so the common case, a
 * row in step with its file, costs one stat instead of the full lookup
 * (bucket, row again, stat: two more SQLite transactions).
 */
static int ufs_matches(struct atr_core *c, const char *bucket, const char *key,
		       const struct atr_obj *o)
{
	char path[PATH_MAX_UFS];
	struct ufs_stat st;
	return !ufs_path(path, sizeof(path), bucket, key) &&
	       c->ufs->ops->stat(c->ufs, path, &st) == ATR_OK && st.is_reg &&
	       st.size == o->size && st.mtime_ns == o->mtime_ns;
}

int atr_node_getattr(struct atr_core *c, uint64_t ino, struct atr_attr *a)
{
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	if (ino == ATR_INO_ROOT) {
		attr_root(c, a);
		return ATR_OK;
	}
	int rc = row_of(c, ino, bucket, key, &row, 0);
	if (rc) {
		struct nodes *n = c->nodes;
		pthread_mutex_lock(&n->lock);
		struct inode *in = inode_find(n, ino);
		struct ghost *g;
		if (rc == ATR_E_NO_KEY && in && in->last.ino == ino) {
			*a = in->last; /* open, and unlinked: what it holds now */
			a->nlink = 0;
			attr_shadow(in, a);
			rc = ATR_OK;
		} else if (rc == ATR_E_NO_KEY && (g = ghost_find(n, ino))) {
			*a = g->attr; /* replaced a moment ago */
			rc = ATR_OK;
		}
		pthread_mutex_unlock(&n->lock);
		return rc;
	}
	if (!row.obj.is_dir && !row.pending && !ufs_matches(c, bucket, key, &row.obj)) {
		/* Bring it up to date with the UFS (a change behind our back). */
		struct meta_row now = { 0 };
		if (ns_find(c, bucket, key, &now, NULL, 0) == ATR_OK) {
			atr_obj_release(&now.obj);
			if (now.obj.ino == row.obj.ino)
				row.obj = now.obj;
		}
	}
	attr_fill(c, bucket, key, &row.obj, a);
	return ATR_OK;
}

/* The directory inode dir: its bucket and key ("" or ending in '/'). */
static int dir_of(struct atr_core *c, uint64_t dir, char bucket[ATR_BUCKET_MAX + 1],
		  char key[ATR_KEY_MAX + 2], struct meta_row *row)
{
	int rc = row_of(c, dir, bucket, key, row, 0);
	if (rc)
		return rc;
	return row->obj.is_dir ? ATR_OK : ATR_E_PARENT_IS_OBJECT;
}

/* dk + name into out (no trailing '/'); name rules checked. */
static int child_key(const char *dk, const char *name, char out[ATR_KEY_MAX + 2])
{
	size_t nl = strlen(name);
	if (nl > ATR_SEGMENT_MAX)
		return ATR_E_KEY_TOO_LONG;
	if (!nl || strchr(name, '/'))
		return ATR_E_INVALID_KEY;
	int n = snprintf(out, ATR_KEY_MAX + 2, "%s%s", dk, name);
	if (n < 0 || n + 1 > ATR_KEY_MAX) { /* room for a directory's '/' */
		/* The file system's PATH_MAX says 4096: say why this is less. */
		LOG(LOG_DEBUG, "mount: ENAMETOOLONG for %.40s...%s: its key would be %zu bytes; "
		    "the mount takes %d (S3's %d, less room for a directory's '/')", dk, name,
		    strlen(dk) + nl, ATR_KEY_MAX - 1, ATR_KEY_MAX);
		return ATR_E_KEY_TOO_LONG;
	}
	return atr_key_valid(out);
}

int atr_node_lookup(struct atr_core *c, uint64_t parent, const char *name, struct atr_attr *a)
{
	char bucket[ATR_BUCKET_MAX + 1], dk[ATR_KEY_MAX + 2], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	int rc, dir;
	if (parent == ATR_INO_ROOT) {
		struct atr_bucket b;
		if (!atr_bucket_name_valid(name))
			return ATR_E_NO_KEY;
		if ((rc = ns_bucket_get(c, name, &b, 0)))
			return rc == ATR_E_NO_BUCKET ? ATR_E_NO_KEY : rc;
		if ((rc = meta_obj_get(c->meta, name, "", &row, 0)))
			return rc;
		attr_fill(c, name, "", &row.obj, a);
		return ATR_OK;
	}
	if ((rc = dir_of(c, parent, bucket, dk, &row)))
		return rc == ATR_E_PARENT_IS_OBJECT ? ATR_E_NO_KEY : rc;
	if ((rc = child_key(dk, name, key)))
		return rc == ATR_E_KEY_TOO_LONG ? rc : ATR_E_NO_KEY;
	if (meta_obj_get(c->meta, bucket, key, &row, 0) == ATR_OK && row.pending) {
		attr_fill(c, bucket, key, &row.obj, a);
		return ATR_OK;
	}
	if ((rc = ns_resolve(c, bucket, key, &row, &dir)))
		return rc;
	char sub[ATR_KEY_MAX + 2];
	if (dir && (rc = key_dir(key, sub)))
		return rc;
	attr_fill(c, bucket, dir ? sub : key, &row.obj, a);
	return ATR_OK;
}

/* ---- directories ---- */

struct rd {
	struct atr_core *c;
	const char *bucket;  /* the directory's */
	atr_dirent_cb cb;
	void *arg;
	int stop;
	const char *skip;  /* the stored key a page resumes after */
	int max;           /* the root: buckets still to take */
	int more;
};

static int on_bucket(void *arg, const struct atr_bucket *b)
{
	struct rd *r = arg;
	struct meta_row row = { 0 };
	struct atr_attr a;
	if (r->skip && strcmp(b->name, r->skip) <= 0)
		return 0;
	if (!r->max--) {
		r->more = 1;
		return 1;
	}
	if (meta_obj_get(r->c->meta, b->name, "", &row, 0))
		return 0;
	attr_fill(r->c, b->name, "", &row.obj, &a);
	return r->stop = r->cb(r->arg, b->name, &a, row.obj.ino);
}

static int on_entry(void *arg, const char *key, const struct meta_row *row)
{
	struct rd *r = arg;
	struct atr_attr a;
	const char *name;
	size_t len;
	char parent[ATR_KEY_MAX + 2], nm[ATR_SEGMENT_MAX + 1];
	if (r->skip && !strcmp(key, r->skip))
		return 0; /* where the page resumes: given before */
	if (!r->max--) {
		r->more = 1;
		return 1;
	}
	key_split(key, parent, &name, &len);
	snprintf(nm, sizeof(nm), "%.*s", (int)len, name);
	attr_fill(r->c, r->bucket, key, &row->obj, &a);
	return r->stop = r->cb(r->arg, nm, &a, row->obj.ino);
}

int atr_node_readdir_page(struct atr_core *c, uint64_t ino, uint64_t after, int max,
			  atr_dirent_cb cb, void *arg, int *more)
{
	char bucket[ATR_BUCKET_MAX + 1], dk[ATR_KEY_MAX + 2];
	char ab[ATR_BUCKET_MAX + 1], ak[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	struct rd r = { .c = c, .cb = cb, .arg = arg, .max = max };
	int rc;
	*more = 0;
	if (max < 1)
		return ATR_E_INVALID_ARG;
	/* A page after an entry resumes at its row's key, wherever entries
	 * came and went meanwhile: the row must still be in this directory. */
	if (after) {
		if ((rc = meta_obj_by_ino(c->meta, after, ab, ak, &row, 0)))
			return rc;
		r.skip = ino == ATR_INO_ROOT ? ab : ak;
	}
	if (ino == ATR_INO_ROOT) {
		if (after && *ak)
			return ATR_E_NO_KEY; /* not a bucket */
		ns_sync_buckets(c); /* the buckets are few: a page is the names after */
		rc = meta_bucket_list(c->meta, NULL, on_bucket, &r);
		*more = r.more;
		return rc;
	}
	if ((rc = dir_of(c, ino, bucket, dk, &row)))
		return rc;
	const char *start = NULL;
	if (after) {
		char pk[ATR_KEY_MAX + 2];
		const char *nm;
		size_t len;
		key_split(ak, pk, &nm, &len);
		if (strcmp(ab, bucket) || strcmp(pk, dk) || !*ak)
			return ATR_E_NO_KEY; /* moved elsewhere meanwhile */
		start = ak;
	}
	r.bucket = bucket;
	if ((rc = ns_sync_tree(c, bucket, dk)))
		return rc;
	rc = ns_scan_dir(c, bucket, dk, 0, start, NULL, on_entry, &r);
	*more = r.more;
	return rc < 0 ? ATR_OK : rc;
}

int atr_node_parent(struct atr_core *c, uint64_t ino, uint64_t *parent)
{
	char bucket[ATR_BUCKET_MAX + 1], dk[ATR_KEY_MAX + 2], pk[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	const char *name;
	size_t len;
	*parent = ATR_INO_ROOT;
	if (ino == ATR_INO_ROOT)
		return ATR_OK;
	int rc = dir_of(c, ino, bucket, dk, &row);
	if (rc || !*dk)
		return rc; /* a bucket's parent is the root */
	key_split(dk, pk, &name, &len);
	if ((rc = meta_obj_get(c->meta, bucket, pk, &row, 0)))
		return rc;
	*parent = row.obj.ino + 1;
	return ATR_OK;
}

/* ns_name_free, and nothing made behind our back there either. */
static int check_free(struct atr_core *c, const char *bucket, const char *key)
{
	struct meta_row row = { 0 };
	int rc = ns_name_free(c, bucket, key);
	if (rc)
		return rc;
	int dir;
	if (ns_resolve(c, bucket, key, &row, &dir) != ATR_E_NO_KEY)
		return ATR_E_EXISTS;
	return ATR_OK;
}

/* Applies mode and gid of a new entry made through the mount. */
struct posix_args {
	const char *bucket, *key;
	uint32_t mode;
	int64_t gid;
	struct meta_row row;
};

static int set_posix_fn(struct atr_core *c, void *arg)
{
	struct posix_args *p = arg;
	int rc = meta_obj_get(c->meta, p->bucket, p->key, &p->row, 1);
	if (rc)
		return rc;
	p->row.obj.mode = p->mode & 07777;
	p->row.obj.gid = p->gid;
	p->row.obj.ctime_ns = time_now_ns();
	return meta_obj_set_posix(c->meta, &p->row);
}

static int set_posix(struct atr_core *c, const char *bucket, const char *key, uint32_t mode,
		     int64_t gid, struct atr_attr *a)
{
	struct posix_args p = { .bucket = bucket, .key = key, .mode = mode, .gid = gid };
	int rc = ns_txn(c, set_posix_fn, &p);
	if (!rc && a)
		attr_fill(c, bucket, key, &p.row.obj, a);
	atr_obj_release(&p.row.obj);
	return rc;
}

/* The group a new entry gets: the caller's, or the directory's when it
 * is set-group-ID (and then a new directory is set-group-ID too). dir is
 * the directory's row as dir_of read it (not read again: one SQLite
 * transaction less per create). */
static int64_t new_gid(struct atr_core *c, const struct atr_cred *cr, const char *bucket,
		       const char *dk, const struct meta_row *dir, uint32_t *mode, int is_dir)
{
	if (*dk && (dir->obj.mode & S_ISGID)) {
		struct atr_attr pa;
		attr_fill(c, bucket, dk, &dir->obj, &pa);
		if (is_dir)
			*mode |= S_ISGID;
		return pa.gid;
	}
	return cr->gid;
}

int atr_node_mkdir(struct atr_core *c, const struct atr_cred *cr, uint64_t parent,
		   const char *name, uint32_t mode, struct atr_attr *a)
{
	char bucket[ATR_BUCKET_MAX + 1], dk[ATR_KEY_MAX + 2], key[ATR_KEY_MAX + 2];
	char owner[ATR_USER_MAX + 1];
	struct meta_row row = { 0 };
	owner_of(c, cr->uid, owner);
	int rc;
	if (parent == ATR_INO_ROOT) {
		if (strlen(name) > ATR_SEGMENT_MAX)
			return ATR_E_KEY_TOO_LONG;
		if (!atr_bucket_name_valid(name))
			return ATR_E_INVALID_BUCKET;
		rc = ns_bucket_create(c, owner, name, "", 0700, NULL, -1);
		if (rc == ATR_E_BUCKET_EXISTS || rc == ATR_E_BUCKET_OWNED)
			return ATR_E_EXISTS;
		/* mkdir(2)'s mode, as for any directory (S3 makes them private). */
		return rc ? rc : set_posix(c, name, "", mode & 07777, cr->gid, a);
	}
	if ((rc = dir_of(c, parent, bucket, dk, &row)) || (rc = child_key(dk, name, key)) ||
	    (rc = check_free(c, bucket, key)))
		return rc;
	int64_t gid = new_gid(c, cr, bucket, dk, &row, &mode, 1);
	size_t kl = strlen(key);
	key[kl] = '/';
	key[kl + 1] = '\0';
	if ((rc = ns_commit_marker(c, owner, bucket, key, NULL, 0, NULL, NULL, NULL, NULL)))
		return rc;
	return set_posix(c, bucket, key, mode, gid, a);
}

/* A new file holding data (a symlink's target, or nothing), committed at
 * once with the given type and mode. */
static int make_file(struct atr_core *c, const struct atr_cred *cr, uint64_t parent,
		     const char *name, uint32_t mode, uint64_t rdev, const char *data,
		     struct atr_attr *a)
{
	char bucket[ATR_BUCKET_MAX + 1], dk[ATR_KEY_MAX + 2], key[ATR_KEY_MAX + 2];
	char owner[ATR_USER_MAX + 1], etag[ATR_ETAG_MAX + 1];
	unsigned char sum[MD5_LEN];
	struct meta_row row = { 0 };
	int rc;
	if (parent == ATR_INO_ROOT)
		return ATR_E_ACCESS; /* only buckets live at the root */
	if ((rc = dir_of(c, parent, bucket, dk, &row)) || (rc = child_key(dk, name, key)) ||
	    (rc = check_free(c, bucket, key)))
		return rc;
	owner_of(c, cr->uid, owner);
	uint32_t perm = mode & 07777;
	struct atr_obj posix = { .mode = perm, .kind = S_ISREG(mode) ? 0 : (mode & S_IFMT),
				 .rdev = rdev };
	posix.gid = new_gid(c, cr, bucket, dk, &row, &perm, 0);
	struct ufs_stage *stage;
	if ((rc = c->ufs->ops->stage_open(c->ufs, &stage)))
		return rc;
	size_t len = data ? strlen(data) : 0;
	if (len && (rc = c->ufs->ops->stage_write(stage, data, len))) {
		c->ufs->ops->stage_abort(stage);
		return rc;
	}
	md5(data ? data : "", len, sum);
	hex_encode(sum, MD5_LEN, etag);
	struct atr_obj out = { 0 };
	rc = ns_commit_entry(c, owner, bucket, key, stage, etag, &posix, &out);
	if (rc)
		return rc == ATR_E_CONFLICT ? ATR_E_EXISTS : rc;
	out.gid = posix.gid;
	attr_fill(c, bucket, key, &out, a);
	return ATR_OK;
}

int atr_node_mknod(struct atr_core *c, const struct atr_cred *cr, uint64_t parent,
		   const char *name, uint32_t mode, uint64_t rdev, struct atr_attr *a)
{
	switch (mode & S_IFMT) {
	case S_IFREG: case S_IFIFO: case S_IFSOCK: case S_IFCHR: case S_IFBLK:
		break;
	default:
		return ATR_E_INVALID_ARG;
	}
	return make_file(c, cr, parent, name, mode, rdev, NULL, a);
}

int atr_node_symlink(struct atr_core *c, const struct atr_cred *cr, uint64_t parent,
		     const char *name, const char *target, struct atr_attr *a)
{
	if (!*target || strlen(target) >= 4096)
		return ATR_E_INVALID_ARG;
	return make_file(c, cr, parent, name, S_IFLNK | 0777, 0, target, a);
}

int atr_node_readlink(struct atr_core *c, uint64_t ino, char *buf, size_t size)
{
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	int rc = row_of(c, ino, bucket, key, &row, 0);
	if (rc)
		return rc;
	if (row.obj.kind != S_IFLNK)
		return ATR_E_INVALID_ARG;
	struct atr_reader *r;
	struct ufs_file *f = NULL;
	if ((rc = ns_find(c, bucket, key, &row, &f, 0)))
		return rc;
	atr_obj_release(&row.obj);
	if ((rc = reader_new(c, &row.obj, f, &r)))
		return rc;
	size_t got = 0;
	while (got + 1 < size) {
		const void *p;
		size_t n;
		if ((rc = atr_get_read(r, got, &p, &n)) || !n)
			break;
		if (n > size - 1 - got)
			n = size - 1 - got;
		memcpy(buf + got, p, n);
		got += n;
	}
	atr_get_close(r);
	buf[got] = '\0';
	return rc;
}

/* ---- removing and renaming ---- */

int atr_node_unlink(struct atr_core *c, uint64_t parent, const char *name)
{
	char bucket[ATR_BUCKET_MAX + 1], dk[ATR_KEY_MAX + 2], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	int rc, dir;
	if (parent == ATR_INO_ROOT)
		return ATR_E_ACCESS;
	if ((rc = dir_of(c, parent, bucket, dk, &row)) || (rc = child_key(dk, name, key)))
		return rc == ATR_E_INVALID_KEY ? ATR_E_NO_KEY : rc;
	if (meta_obj_get(c->meta, bucket, key, &row, 0) != ATR_OK || !row.pending) {
		if ((rc = ns_resolve(c, bucket, key, &row, &dir)))
			return rc;
		if (dir)
			return ATR_E_KEY_IS_PREFIX;
	}
	return ns_delete(c, bucket, key, 0);
}

int atr_node_rmdir(struct atr_core *c, uint64_t parent, const char *name)
{
	char bucket[ATR_BUCKET_MAX + 1], dk[ATR_KEY_MAX + 2], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	int rc, dir;
	if (parent == ATR_INO_ROOT) {
		rc = atr_bucket_name_valid(name) ? ns_bucket_delete(c, name) : ATR_E_NO_BUCKET;
		return rc == ATR_E_BUCKET_NOT_EMPTY ? ATR_E_NOT_EMPTY
		       : rc == ATR_E_NO_BUCKET ? ATR_E_NO_KEY : rc;
	}
	if ((rc = dir_of(c, parent, bucket, dk, &row)) || (rc = child_key(dk, name, key)))
		return rc == ATR_E_INVALID_KEY ? ATR_E_NO_KEY : rc;
	if ((rc = ns_resolve(c, bucket, key, &row, &dir)))
		return rc;
	if (!dir)
		return ATR_E_PARENT_IS_OBJECT;
	size_t kl = strlen(key);
	key[kl] = '/';
	key[kl + 1] = '\0';
	if ((rc = ns_sync_tree(c, bucket, key)))
		return rc;
	return ns_rmdir(c, bucket, key, 0);
}

int atr_node_rename(struct atr_core *c, uint64_t parent, const char *name, uint64_t newparent,
		    const char *newname, unsigned flags)
{
	char sb[ATR_BUCKET_MAX + 1], sd[ATR_KEY_MAX + 2], sk[ATR_KEY_MAX + 2];
	char db[ATR_BUCKET_MAX + 1], dd[ATR_KEY_MAX + 2], dk[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	int rc, dir = 0;
	if (parent == ATR_INO_ROOT || newparent == ATR_INO_ROOT)
		return ATR_E_NOT_SUPPORTED; /* buckets keep their names */
	if ((rc = dir_of(c, parent, sb, sd, &row)) || (rc = dir_of(c, newparent, db, dd, &row)) ||
	    (rc = child_key(sd, name, sk)) || (rc = child_key(dd, newname, dk)))
		return rc;
	if (meta_obj_get(c->meta, sb, sk, &row, 0) != ATR_OK || !row.pending) {
		if ((rc = ns_resolve(c, sb, sk, &row, &dir)))
			return rc;
	}
	if (dir) {
		char t[ATR_KEY_MAX + 2];
		if (key_dir(sk, t))
			return ATR_E_KEY_TOO_LONG;
		memcpy(sk, t, sizeof(t));
		if (key_dir(dk, t))
			return ATR_E_KEY_TOO_LONG;
		memcpy(dk, t, sizeof(t));
		if (!strcmp(sb, db) && !strncmp(dk, sk, strlen(sk)))
			return ATR_E_INVALID_ARG; /* into itself */
		if ((rc = ns_sync_tree(c, sb, sk)))
			return rc;
	}
	if (!strcmp(sb, db) && !strcmp(sk, dk))
		return ATR_OK;
	return ns_rename(c, sb, sk, db, dk, dir,
			 flags & ATR_RENAME_NOREPLACE ? NS_MOVE_NOREPLACE : NS_MOVE_REPLACE);
}

/* ---- shadows ---- */

/* The inode's shadow exists afterwards (in->lock held): a copy of the
 * committed bytes, or empty with trunc. */
static int shadow_make(struct atr_core *c, struct inode *in, int trunc, struct atr_reader *gone)
{
	if (in->stage) {
		if (trunc && in->size) {
			int rc = c->ufs->ops->stage_truncate(in->stage, 0);
			if (rc)
				return rc;
			in->size = 0;
			in->dirty = 1;
			if (in->md5_open)
				hash_release(&in->md5);
			in->md5_open = !hash_init(&in->md5, HASH_MD5);
			in->md5_off = 0;
		}
		return ATR_OK;
	}
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	int rc = row_of(c, in->ino, bucket, key, &row, 0);
	if (rc == ATR_E_NO_KEY) {
		/* Unlinked or replaced while open: it is written all the same,
		 * and its bytes go nowhere, as an unlinked file's. */
		if ((rc = c->ufs->ops->stage_open(c->ufs, &in->stage)))
			return rc;
		in->size = 0;
		in->md5_open = 0;
		in->dirty = 0;
		uint64_t keep = !trunc && gone ? gone->size : 0;
		if (keep && (rc = c->ufs->ops->stage_copy(in->stage, gone->f, 0, keep))) {
			shadow_drop(c, in);
			return rc;
		}
		in->size = keep;
		return ATR_OK;
	}
	if (rc)
		return rc;
	if (row.obj.is_dir)
		return ATR_E_KEY_IS_PREFIX;
	if ((rc = c->ufs->ops->stage_open(c->ufs, &in->stage)))
		return rc;
	in->size = 0;
	in->md5_off = 0;
	in->md5_open = 0;
	in->dirty = trunc || row.pending;
	in->mtime_ns = in->ctime_ns = time_now_ns();
	if (!trunc && !row.pending && row.obj.size) {
		char path[PATH_MAX_UFS];
		struct ufs_file *f;
		struct ufs_stat st;
		if (ufs_path(path, sizeof(path), bucket, key))
			rc = ATR_E_KEY_TOO_LONG;
		else if (!(rc = c->ufs->ops->open(c->ufs, path, &f, &st))) {
			rc = c->ufs->ops->stage_copy ? c->ufs->ops->stage_copy(in->stage, f, 0, st.size)
						     : ATR_E_NOT_SUPPORTED;
			in->size = st.size;
			c->ufs->ops->close(f);
		}
		if (rc) {
			shadow_drop(c, in);
			return rc;
		}
		return ATR_OK; /* MD5 recomputed at commit */
	}
	in->md5_open = !hash_init(&in->md5, HASH_MD5);
	return ATR_OK;
}

static int shadow_ensure(struct atr_core *c, struct inode *in, int trunc, struct atr_reader *gone)
{
	int rc = shadow_make(c, in, trunc, gone);
	shadow_publish(in);
	return rc;
}

/* Above this, a commit whose MD5 did not run along with its writes hands
 * the hashing to etag's worker; at or below it the committing thread
 * hashes the committed file itself (a few ms). */
#define ETAG_INLINE_MAX (8u << 20)

/* The shadow's MD5 as it ran along with the writes, or "" when they did
 * not all come in order (it is computed after the commit: etag.c). */
static void shadow_md5(struct inode *in, char etag[ATR_ETAG_MAX + 1])
{
	unsigned char sum[MD5_LEN];
	*etag = '\0';
	if (in->md5_open && in->md5_off == in->size) {
		hash_final(&in->md5, sum);
		in->md5_open = 0;
		hex_encode(sum, MD5_LEN, etag);
	}
}

/* Commits a dirty shadow (in->lock held). Unlinked meanwhile: it stays,
 * the bytes of a file every descriptor still reads and writes (until the
 * last one is closed, as on a local file system), and goes nowhere. */
static int shadow_commit(struct atr_core *c, struct inode *in)
{
	if (in->werr) {
		/* It misses a write (and may hold part of it): committing it
		 * would publish a torn file. The last commit stands. */
		shadow_drop(c, in);
		return in->werr;
	}
	if (!in->stage || !in->dirty)
		return ATR_OK;
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2], etag[ATR_ETAG_MAX + 1];
	struct meta_row row = { 0 };
	int rc = row_of(c, in->ino, bucket, key, &row, 0);
	if (rc == ATR_E_NO_KEY || (!rc && !*bucket))
		return ATR_OK; /* no name (an O_TMPFILE file): nowhere to commit to */
	if (rc)
		return rc;
	shadow_md5(in, etag);
	/* The file's mtime is what stat showed while it was open: its last
	 * write's, or the one a program set after it (tar, cp -p, rsync
	 * set times before they close); the commit's own time must not
	 * overwrite it. */
	if (c->ufs->ops->stage_set_mtime &&
	    (rc = c->ufs->ops->stage_set_mtime(in->stage, in->mtime_ns)))
		return rc;
	struct ufs_stage *stage = in->stage;
	in->stage = NULL; /* the commit consumes it */
	struct atr_obj out = { 0 };
	rc = ns_commit_bytes(c, in->ino - 1, stage, etag, &out);
	if (!rc)
		in->pending = 0; /* the row is an object now */
	/* The cost of an ETag read back is not the writer's to wait for
	 * (a sparse 8 GiB truncate wrote nothing): the worker hashes a large
	 * file, and an S3 reader waits for it or hashes it (etag.c). A small
	 * one is hashed now; if that fails, its first reader tries again. */
	if (!rc && !*etag && in->size > ETAG_INLINE_MAX)
		etag_schedule(c, obj_node(&out), out.version);
	else if (!rc && !*etag)
		etag_settle(c, NULL, NULL, &out, 1);
	atr_obj_release(&out);
	shadow_drop(c, in);
	__atomic_add_fetch(&in->gen, 1, __ATOMIC_RELEASE);
	return rc == ATR_E_NO_KEY ? ATR_OK : rc;
}

/* ---- hard links ---- */

/*
 * O_TMPFILE. A file made without a name is a pending row (the mount sees
 * it, S3 does not) under a key of its own in bucket "", which no bucket
 * can be called: no listing, lookup or S3 request reaches it, and a
 * restart drops it with every other pending row. It has a shadow like
 * any new file, which nothing commits while it has no name. Its first
 * link(2) (linkat of /proc/self/fd/N, or AT_EMPTY_PATH) moves the row to
 * that name, keeping its inode, and commits the shadow: it is an object
 * at once. One with O_EXCL never gets a name (the kernel refuses it).
 */
#define TMPFILE_BUCKET ""

static int file_make(struct atr_core *c, uint64_t ino, int write, int remember,
		     struct atr_file **out);

static int tmpfile_link(struct atr_core *c, uint64_t ino, const char *key, uint64_t newparent,
			const char *newname, struct atr_attr *a)
{
	char db[ATR_BUCKET_MAX + 1], dd[ATR_KEY_MAX + 2], dk[ATR_KEY_MAX + 2];
	struct meta_row dir = { 0 };
	int rc;
	if ((rc = dir_of(c, newparent, db, dd, &dir)) || (rc = child_key(dd, newname, dk)) ||
	    (rc = check_free(c, db, dk)))
		return rc;
	struct inode *in = inode_get(c, ino);
	if (!in)
		return ATR_E_NOMEM;
	/* The inode's lock keeps a flush from coming between the two. */
	pthread_mutex_lock(&in->lock);
	if (!(rc = ns_adopt(c, TMPFILE_BUCKET, key, ino - 1, db, dk)))
		rc = shadow_commit(c, in);
	pthread_mutex_unlock(&in->lock);
	inode_put(c, in);
	return rc ? rc : atr_node_getattr(c, ino, a);
}

int atr_node_tmpfile(struct atr_core *c, const struct atr_cred *cr, uint64_t parent,
		     uint32_t mode, struct atr_file **f, struct atr_attr *a)
{
	static uint64_t counter;
	char bucket[ATR_BUCKET_MAX + 1], dk[ATR_KEY_MAX + 2], key[64];
	struct meta_row row = { 0 };
	int rc;
	if (parent == ATR_INO_ROOT)
		return ATR_E_ACCESS;
	if ((rc = dir_of(c, parent, bucket, dk, &row)))
		return rc;
	uint32_t perm = mode & 07777;
	int64_t gid = new_gid(c, cr, bucket, dk, &row, &perm, 0);
	snprintf(key, sizeof(key), "tmpfile-%d-%llu", (int)getpid(),
		 (unsigned long long)__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
	ns_row_init(&row);
	row.pending = 1;
	row.obj.mode = perm;
	row.obj.gid = gid;
	owner_of(c, cr->uid, row.obj.owner);
	snprintf(row.obj.etag, sizeof(row.obj.etag), "%s", ATR_MD5_EMPTY);
	if ((rc = ns_pending_create(c, TMPFILE_BUCKET, key, &row)) ||
	    (rc = file_make(c, row.obj.ino + 1, 1, 0, f)))
		return rc;
	pthread_mutex_lock(&(*f)->in->lock);
	(*f)->in->pending = 1; /* its row goes with its last close */
	rc = shadow_ensure(c, (*f)->in, 1, NULL);
	pthread_mutex_unlock(&(*f)->in->lock);
	if (rc) {
		atr_file_close(*f);
		return rc;
	}
	attr_fill(c, TMPFILE_BUCKET, key, &row.obj, a);
	return ATR_OK;
}

int atr_node_link(struct atr_core *c, uint64_t ino, uint64_t newparent, const char *newname,
		  struct atr_attr *a)
{
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	char db[ATR_BUCKET_MAX + 1], dd[ATR_KEY_MAX + 2], dk[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 }, dir = { 0 };
	int rc;
	if (newparent == ATR_INO_ROOT)
		return ATR_E_ACCESS; /* only buckets live at the root */
	if ((rc = row_of(c, ino, bucket, key, &row, 0)))
		return rc;
	if (row.obj.is_dir)
		return ATR_E_NOT_SUPPORTED; /* EPERM, as link(2) on a directory */
	if (!*bucket)
		return tmpfile_link(c, ino, key, newparent, newname, a);
	if (row.pending) {
		/* Created and still open, never committed: it becomes an
		 * object first, so that both names have its bytes. */
		struct inode *in = inode_get(c, ino);
		if (!in)
			return ATR_E_NOMEM;
		pthread_mutex_lock(&in->lock);
		rc = shadow_commit(c, in);
		pthread_mutex_unlock(&in->lock);
		inode_put(c, in);
		if (rc || (rc = row_of(c, ino, bucket, key, &row, 0)))
			return rc;
		if (row.pending)
			return ATR_E_NO_KEY;
	}
	if ((rc = dir_of(c, newparent, db, dd, &dir)) || (rc = child_key(dd, newname, dk)) ||
	    (rc = check_free(c, db, dk)))
		return rc;
	if ((rc = ns_link(c, bucket, key, ino - 1, db, dk)))
		return rc;
	return atr_node_getattr(c, ino, a);
}

/* ---- open files ---- */

static int reader_open(struct atr_file *f);

/* An open file of inode ino; its attributes are remembered in f->in (what
 * an unlinked open file shows) when remember is set, else the caller's
 * attr_fill does it. */
static int file_make(struct atr_core *c, uint64_t ino, int write, int remember,
		     struct atr_file **out)
{
	struct atr_file *f = calloc(1, sizeof(*f));
	if (!f || !(f->in = inode_get(c, ino))) {
		free(f);
		return ATR_E_NOMEM;
	}
	f->c = c;
	f->write = write;
	pthread_rwlock_init(&f->lock, NULL);
	if (write) {
		pthread_mutex_lock(&f->in->lock);
		f->in->writers++;
		pthread_mutex_unlock(&f->in->lock);
	}
	struct atr_attr a;
	if (remember)
		atr_node_getattr(c, ino, &a);
	*out = f;
	return ATR_OK;
}

static int file_new(struct atr_core *c, uint64_t ino, int write, struct atr_file **out)
{
	return file_make(c, ino, write, 1, out);
}

int atr_node_create(struct atr_core *c, const struct atr_cred *cr, uint64_t parent,
		    const char *name, uint32_t mode, struct atr_file **f, struct atr_attr *a)
{
	char bucket[ATR_BUCKET_MAX + 1], dk[ATR_KEY_MAX + 2], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	int rc;
	if (parent == ATR_INO_ROOT)
		return ATR_E_ACCESS;
	if ((rc = dir_of(c, parent, bucket, dk, &row)) || (rc = child_key(dk, name, key)) ||
	    (rc = check_free(c, bucket, key)))
		return rc;
	uint32_t perm = mode & 07777;
	int64_t gid = new_gid(c, cr, bucket, dk, &row, &perm, 0);
	/* A pending row: the mount sees the file, S3 not before its commit. */
	ns_row_init(&row);
	row.pending = 1;
	row.obj.mode = perm;
	row.obj.gid = gid;
	row.obj.version = 0;
	owner_of(c, cr->uid, row.obj.owner);
	snprintf(row.obj.etag, sizeof(row.obj.etag), "%s", ATR_MD5_EMPTY);
	if ((rc = ns_pending_create(c, bucket, key, &row)))
		return rc;
	if ((rc = file_make(c, row.obj.ino + 1, 1, 0, f)))
		return rc;
	pthread_mutex_lock(&(*f)->in->lock);
	(*f)->in->pending = 1;
	rc = shadow_ensure(c, (*f)->in, 1, NULL);
	pthread_mutex_unlock(&(*f)->in->lock);
	if (rc) {
		atr_file_close(*f);
		return rc;
	}
	attr_fill(c, bucket, key, &row.obj, a); /* remembered in (*f)->in */
	return ATR_OK;
}

/* Opens the ghost of ino: the caller's path walk found the name before
 * the replacement, as one racing rename(2) on a local file system finds
 * the old file. Reads see the old bytes; writes go nowhere, as to a file
 * unlinked while open. */
static int ghost_open(struct atr_core *c, uint64_t ino, int flags, struct atr_file **f)
{
	struct nodes *n = c->nodes;
	struct atr_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return ATR_E_NOMEM;
	pthread_mutex_lock(&n->lock);
	struct ghost *g = ghost_find(n, ino);
	if (g)
		g->refs++;
	pthread_mutex_unlock(&n->lock);
	if (!g) {
		free(r);
		return ATR_E_NO_KEY;
	}
	r->c = c;
	r->f = g->f;
	r->borrowed = 1;
	r->ino = ino - 1;
	r->version = g->version;
	r->size = g->attr.size;
	int rc = file_new(c, ino, (flags & ATR_OPEN_WRITE) != 0, f);
	if (rc) {
		free(r);
		pthread_mutex_lock(&n->lock);
		g->refs--;
		pthread_mutex_unlock(&n->lock);
		return rc;
	}
	(*f)->ghost = g;
	(*f)->rd = r;
	(*f)->rd_gen = __atomic_load_n(&(*f)->in->gen, __ATOMIC_ACQUIRE);
	return ATR_OK;
}

int atr_node_open(struct atr_core *c, uint64_t ino, int flags, struct atr_file **f)
{
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	int rc = row_of(c, ino, bucket, key, &row, 0);
	if (rc == ATR_E_NO_KEY)
		return ghost_open(c, ino, flags, f);
	if (rc)
		return rc;
	if (row.obj.is_dir)
		return ATR_E_KEY_IS_PREFIX;
	if ((rc = file_new(c, ino, (flags & ATR_OPEN_WRITE) != 0, f)))
		return rc;
	if (!row.pending && !(flags & ATR_OPEN_TRUNC)) {
		/* Its bytes as of now: they stay readable if it is unlinked or
		 * replaced (S3) while open. */
		pthread_rwlock_wrlock(&(*f)->lock);
		rc = reader_open(*f);
		pthread_rwlock_unlock(&(*f)->lock);
		if (rc) {
			atr_file_close(*f);
			/* Replaced since row_of: its ghost holds what it was. */
			return rc == ATR_E_NO_KEY ? ghost_open(c, ino, flags, f) : rc;
		}
	}
	if (flags & ATR_OPEN_TRUNC) {
		pthread_mutex_lock(&(*f)->in->lock);
		rc = shadow_ensure(c, (*f)->in, 1, NULL);
		pthread_mutex_unlock(&(*f)->in->lock);
		if (rc) {
			atr_file_close(*f);
			return rc;
		}
	}
	return ATR_OK;
}

/* Bytes to read: a committed file or a shadow. */
struct source {
	struct atr_core *c;
	struct ufs_file *file;
	struct ufs_stage *stage;
};

/* Reads [off, off + len) of a source of size bytes into buf; *got is
 * short only at the end. */
static int read_upto(const struct source *src, uint64_t size, void *buf, size_t len,
		     uint64_t off, size_t *got)
{
	const struct ufs_ops *ops = src->c->ufs->ops;
	*got = 0;
	while (*got < len && off + *got < size) {
		size_t want = len - *got;
		if (want > size - (off + *got))
			want = (size_t)(size - (off + *got));
		char *to = (char *)buf + *got;
		ssize_t n = src->file ? ops->pread(src->file, to, want, off + *got)
				      : ops->stage_pread(src->stage, to, want, off + *got);
		if (n < 0)
			return ATR_E_IO;
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return ATR_OK;
}

/* Opens the committed version for reading (f->lock held for writing). */
static int reader_open(struct atr_file *f)
{
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	struct ufs_file *uf = NULL;
	int rc;
	f->rd_gen = __atomic_load_n(&f->in->gen, __ATOMIC_ACQUIRE);
	if (!(rc = row_of(f->c, f->in->ino, bucket, key, &row, 0)) &&
	    !(rc = ns_find(f->c, bucket, key, &row, &uf, 0))) {
		atr_obj_release(&row.obj);
		if (!(rc = reader_new(f->c, &row.obj, uf, &f->rd)) &&
		    obj_node(&row.obj) + 1 != f->in->ino) {
			/* Replaced between the two lookups: this inode is gone. */
			atr_get_close(f->rd);
			f->rd = NULL;
			rc = ATR_E_NO_KEY;
		}
	}
	return rc;
}

static int read_committed(struct atr_file *f, void *buf, size_t len, uint64_t off, size_t *got)
{
	int rc = ATR_OK;
	pthread_rwlock_rdlock(&f->lock);
	while (!f->rd || (f->rd_gen != __atomic_load_n(&f->in->gen, __ATOMIC_ACQUIRE) &&
			  !f->ghost)) {
		/* None yet, or committed through the mount since: (re)open,
		 * alone; readers of the same file otherwise run in parallel. */
		pthread_rwlock_unlock(&f->lock);
		pthread_rwlock_wrlock(&f->lock);
		if (!f->rd || (f->rd_gen != __atomic_load_n(&f->in->gen, __ATOMIC_ACQUIRE) &&
			       !f->ghost)) {
			struct atr_reader *old = f->rd;
			f->rd = NULL;
			rc = reader_open(f);
			if (rc == ATR_E_NO_KEY && old) {
				/* Replaced or unlinked since: what it was stays readable. */
				f->rd = old;
				rc = ATR_OK;
			} else if (old) {
				atr_get_close(old);
			}
		}
		pthread_rwlock_unlock(&f->lock);
		if (rc)
			return rc;
		pthread_rwlock_rdlock(&f->lock);
	}
	/* Straight from the file: the kernel's page cache is the mount's
	 * cache, and a 4 KiB read should cost 4 KiB, not a 1 MiB block. */
	struct source src = { f->c, f->rd->f, NULL };
	rc = read_upto(&src, f->rd->size, buf, len, off, got);
	pthread_rwlock_unlock(&f->lock);
	return rc;
}

int atr_file_read(struct atr_file *f, void *buf, size_t len, uint64_t off, size_t *got)
{
	struct inode *in = f->in;
	pthread_mutex_lock(&in->lock);
	if (!in->stage) {
		pthread_mutex_unlock(&in->lock);
		return read_committed(f, buf, len, off, got);
	}
	struct source src = { f->c, NULL, in->stage };
	int rc = read_upto(&src, in->size, buf, len, off, got);
	pthread_mutex_unlock(&in->lock);
	return rc;
}

int atr_file_write(struct atr_file *f, const void *buf, size_t len, uint64_t off)
{
	struct inode *in = f->in;
	struct atr_core *c = f->c;
	if (!f->write)
		return ATR_E_ACCESS;
	pthread_mutex_lock(&in->lock);
	int rc = in->werr;
	if (!rc && !in->stage) {
		/* f->rd: the bytes to start from if the inode lost its last
		 * name (f->lock guards it; lock order: inode, then file). */
		pthread_rwlock_rdlock(&f->lock);
		rc = shadow_ensure(c, in, 0, f->rd);
		pthread_rwlock_unlock(&f->lock);
	}
	/* The shadow is torn (see shadow_commit), except past the largest
	 * file the under-storage holds: then nothing was written. */
	if (!rc && (rc = c->ufs->ops->stage_pwrite(in->stage, buf, len, off)) &&
	    rc != ATR_E_FILE_TOO_BIG)
		in->werr = rc;
	if (!rc) {
		if (in->md5_open && off == in->md5_off && in->md5_off == in->size) {
			hash_update(&in->md5, buf, len);
			in->md5_off += len;
		} else if (in->md5_open) {
			hash_release(&in->md5); /* out of order: recomputed at commit */
			in->md5_open = 0;
		}
		if (off + len > in->size)
			in->size = off + len;
		in->dirty = 1;
		in->mtime_ns = in->ctime_ns = time_now_ns();
		shadow_publish(in);
	}
	pthread_mutex_unlock(&in->lock);
	return rc;
}

int atr_file_flush(struct atr_file *f)
{
	if (!f->write)
		return ATR_OK; /* a reader's close publishes no one's writes */
	pthread_mutex_lock(&f->in->lock);
	int rc = shadow_commit(f->c, f->in);
	pthread_mutex_unlock(&f->in->lock);
	return rc;
}

void atr_file_close(struct atr_file *f)
{
	if (!f)
		return;
	if (f->rd)
		atr_get_close(f->rd);
	if (f->ghost) {
		pthread_mutex_lock(&f->c->nodes->lock);
		f->ghost->refs--;
		pthread_mutex_unlock(&f->c->nodes->lock);
	}
	if (f->write) {
		pthread_mutex_lock(&f->in->lock);
		f->in->writers--;
		pthread_mutex_unlock(&f->in->lock);
	}
	pthread_rwlock_destroy(&f->lock);
	inode_put(f->c, f->in);
	free(f);
}

/* ---- attributes ---- */

/* A new size, in the inode's shadow (in->lock held). gone: an open file
 * of the inode, whose bytes the shadow starts from if the inode has lost
 * its last name (NULL: none at hand). */
static int shadow_resize(struct atr_core *c, struct inode *in, uint64_t size,
			 struct atr_file *gone)
{
	if (gone)
		pthread_rwlock_rdlock(&gone->lock);
	int rc = shadow_ensure(c, in, size == 0, gone ? gone->rd : NULL);
	if (gone)
		pthread_rwlock_unlock(&gone->lock);
	if (!rc && size != in->size && !(rc = c->ufs->ops->stage_truncate(in->stage, size))) {
		if (in->md5_open && size < in->md5_off) {
			hash_release(&in->md5);
			in->md5_open = 0;
		}
		in->size = size;
		in->dirty = 1;
		in->mtime_ns = in->ctime_ns = time_now_ns();
		shadow_publish(in);
	}
	return rc;
}

/* The open inode ino with a reference, or NULL if none is open. */
static struct inode *inode_ref(struct atr_core *c, uint64_t ino)
{
	struct nodes *n = c->nodes;
	pthread_mutex_lock(&n->lock);
	struct inode *in = inode_find(n, ino);
	if (in)
		in->refs++;
	pthread_mutex_unlock(&n->lock);
	return in;
}

/* setattr on an open file whose last name is gone: it changes the inode
 * as its open files see it, as on a local file system (in->lock held;
 * the size was changed in the shadow). ATR_E_NO_KEY if in never had
 * attributes remembered. */
static int setattr_unlinked(struct atr_core *c, struct inode *in, const struct atr_setattr *s,
			    struct atr_attr *a)
{
	int rc = ATR_E_NO_KEY;
	pthread_mutex_lock(&c->nodes->lock);
	struct atr_attr *l = &in->last;
	if (l->ino == in->ino) {
		if (s->valid & ATR_SET_MODE)
			l->mode = (l->mode & S_IFMT) | (s->mode & 07777);
		if (s->valid & ATR_SET_UID)
			l->uid = s->uid;
		if (s->valid & ATR_SET_GID)
			l->gid = s->gid;
		if (s->valid & ATR_SET_ATIME)
			l->atime_ns = s->atime_ns;
		if ((s->valid & ATR_SET_MTIME) && in->stage) {
			in->mtime_ns = s->mtime_ns; /* what the shadow shows */
			shadow_publish(in);
		} else if (s->valid & ATR_SET_MTIME) {
			l->mtime_ns = s->mtime_ns;
		}
		l->ctime_ns = time_now_ns();
		*a = *l;
		a->nlink = 0;
		attr_shadow(in, a);
		rc = ATR_OK;
	}
	pthread_mutex_unlock(&c->nodes->lock);
	return rc;
}

/* The change of a setattr to the row, in the kernel's transaction. */
struct setattr_args {
	uint64_t ino;
	const struct atr_setattr *s;
	struct inode *in;       /* the open inode, in->lock held; NULL: none */
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row;    /* as written */
};

static int setattr_fn(struct atr_core *c, void *arg)
{
	struct setattr_args *sa = arg;
	const struct atr_setattr *s = sa->s;
	struct meta_row *row = &sa->row;
	struct inode *in = sa->in;
	int rc = row_of(c, sa->ino, sa->bucket, sa->key, row, 1);
	if (rc)
		return rc;
	struct meta_row before = *row; /* its permissions; hdrs stay row's */
	int64_t now = time_now_ns();
	if (s->valid & ATR_SET_MODE)
		row->obj.mode = s->mode & 07777;
	if (s->valid & ATR_SET_UID) {
		owner_of(c, s->uid, row->obj.owner);
		if (!*sa->key && (rc = meta_bucket_set_owner(c->meta, sa->bucket, row->obj.owner)))
			return rc;
	}
	if (s->valid & ATR_SET_GID)
		row->obj.gid = s->gid;
	if (s->valid & ATR_SET_ATIME)
		row->obj.atime_ns = s->atime_ns;
	if (in && in->stage && in->dirty) {
		/* Being written: the shadow's mtime is the file's, and its
		 * commit gives it to the file (shadow_commit). */
		if (s->valid & ATR_SET_MTIME) {
			in->mtime_ns = s->mtime_ns;
			in->ctime_ns = now;
			shadow_publish(in);
		}
	} else if ((s->valid & (ATR_SET_MTIME | ATR_SET_ATIME)) && !row->pending) {
		char path[PATH_MAX_UFS];
		struct ufs_stat st;
		int64_t mt = s->valid & ATR_SET_MTIME ? s->mtime_ns : 0;
		if (ufs_path(path, sizeof(path), sa->bucket, sa->key))
			return ATR_E_KEY_TOO_LONG;
		if (!mt && c->ufs->ops->stat(c->ufs, path, &st) == ATR_OK)
			mt = st.mtime_ns;
		/* The UFS file's mtime is the row's (metadata sync compares them). */
		if (mt && (rc = c->ufs->ops->utimens(c->ufs, path, row->obj.atime_ns, mt, &st)))
			return rc;
		if (mt && !row->obj.is_dir)
			row->obj.mtime_ns = st.mtime_ns;
	}
	row->obj.ctime_ns = now;
	rc = meta_obj_set_posix(c->meta, row);
	if (!rc && row->obj.is_dir) /* implied directories below follow it */
		rc = perm_follow(c, sa->bucket, sa->key, &before, row, 0, NULL);
	return rc;
}

int atr_node_setattr(struct atr_core *c, uint64_t ino, struct atr_file *f,
		     const struct atr_setattr *s, struct atr_attr *a)
{
	int rc = ATR_OK;
	if (ino == ATR_INO_ROOT)
		return ATR_E_NOT_SUPPORTED;
	/* The open inode, if any (a size change makes a short-lived one):
	 * its lock is held throughout, so no flush or write comes between
	 * the change and its commit (lock order: inode, then ns_lock). */
	struct inode *in = s->valid & ATR_SET_SIZE ? inode_get(c, ino) : inode_ref(c, ino);
	if (!in && (s->valid & ATR_SET_SIZE))
		return ATR_E_NOMEM;
	struct setattr_args sa = { .ino = ino, .s = s, .in = in };
	if (in)
		pthread_mutex_lock(&in->lock);
	if (s->valid & ATR_SET_SIZE) {
		rc = shadow_resize(c, in, s->size, f && f->in == in ? f : NULL);
		/* Durable once this returns, whoever has the file open: now,
		 * unless a writer has it open, whose flush (at its close at
		 * the latest) commits it. A reader's close commits nothing. */
		if (!rc && !in->writers)
			rc = shadow_commit(c, in);
		if (rc)
			goto out;
	}
	rc = ns_txn(c, setattr_fn, &sa);
	if (!rc) {
		attr_fill(c, sa.bucket, sa.key, &sa.row.obj, a);
		if (sa.row.obj.is_dir && (s->valid & ATR_SET_MTIME))
			a->mtime_ns = s->mtime_ns;
	} else if (rc == ATR_E_NO_KEY && in) {
		rc = setattr_unlinked(c, in, s, a);
	}
out:
	if (in) {
		pthread_mutex_unlock(&in->lock);
		inode_put(c, in);
	}
	atr_obj_release(&sa.row.obj);
	return rc;
}

int atr_node_statfs(struct atr_core *c, struct statvfs *out)
{
	if (!c->ufs->ops->statfs)
		return ATR_E_NOT_SUPPORTED;
	int rc = c->ufs->ops->statfs(c->ufs, out);
	if (!rc)
		out->f_namemax = ATR_SEGMENT_MAX;
	return rc;
}

/* ---- extended attributes ---- */

/* An HTTP field name (RFC 9110 token): what an S3 client can read back. */
static int http_token(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("!#$%&'*+-.^_`|~", *s)))
			return 0;
	return 1;
}

/* An HTTP field value we can send and clients parse: no control
 * character at all (a TAB is legal HTTP but breaks clients' header
 * parsing, boto3's among them), no NUL, CR or LF. */
static int http_text(const unsigned char *v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (v[i] < 0x20 || v[i] == 0x7f)
			return 0;
	return 1;
}

/* The stored header an S3 xattr name stands for, in out ("" for the
 * ETag): 1; 0 for a name of the xattrs table; -1 for another user.s3.
 * name; -2 for user.s3.meta.NAME where NAME cannot be an HTTP header. */
static int s3_header_of(const char *name, char out[ATR_USER_MAX * 4])
{
	if (strncmp(name, XATTR_S3, strlen(XATTR_S3)))
		return 0;
	const char *rest = name + strlen(XATTR_S3);
	if (!strcmp(rest, "etag"))
		snprintf(out, ATR_USER_MAX * 4, "%s", "");
	else if (!strcmp(rest, "content_type"))
		snprintf(out, ATR_USER_MAX * 4, "%s", "Content-Type");
	else if (strncmp(rest, "meta.", 5))
		return -1;
	else if (!rest[5] || strlen(rest) >= ATR_USER_MAX * 3 || !http_token(rest + 5))
		return -2;
	else
		snprintf(out, ATR_USER_MAX * 4, "x-amz-meta-%s", rest + 5);
	return 1;
}

/* The line of header h in hdrs: its start and length (with CRLF). */
static const char *hdr_find(const char *hdrs, const char *h, size_t *len)
{
	size_t hl = strlen(h);
	for (const char *p = hdrs; p && *p;) {
		const char *eol = strstr(p, "\r\n");
		size_t n = eol ? (size_t)(eol + 2 - p) : strlen(p);
		if (n > hl && p[hl] == ':' && !strncasecmp(p, h, hl)) {
			*len = n;
			return p;
		}
		p += n;
	}
	return NULL;
}

static int xattr_name_ok(const char *name)
{
	return !strncmp(name, "user.", 5) && name[5];
}

int atr_node_getxattr(struct atr_core *c, uint64_t ino, const char *name, void **val,
		      size_t *len)
{
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2], h[ATR_USER_MAX * 4];
	struct meta_row row = { 0 };
	/* Another namespace: not kept here. ENOTSUP (not ENODATA) tells ls
	 * and cp that this file system has no SELinux labels or ACLs, and
	 * they stop asking for every file (ls -l asked twice per file). */
	if (!xattr_name_ok(name))
		return ATR_E_NOT_SUPPORTED;
	int rc = row_of(c, ino, bucket, key, &row, 1);
	if (rc)
		return rc;
	int s3 = s3_header_of(name, h);
	if (s3 <= 0) {
		atr_obj_release(&row.obj);
		return s3 < 0 ? ATR_E_NO_KEY : meta_xattr_get(c->meta, ino - 1, name, val, len);
	}
	const char *v = NULL;
	size_t n = 0;
	if (!*h) {
		if (!row.obj.is_dir && !row.pending &&
		    (rc = etag_settle(c, bucket, key, &row.obj, 1))) {
			atr_obj_release(&row.obj);
			return rc == ATR_E_CONFLICT ? ATR_E_IO : rc;
		}
		if (!row.obj.is_dir && !row.pending) {
			v = row.obj.etag;
			n = strlen(v);
		}
	} else if ((v = hdr_find(row.obj.hdrs, h, &n))) {
		v += strlen(h) + 1;
		n -= strlen(h) + 1 + 2;
		while (n && *v == ' ') {
			v++;
			n--;
		}
	} else if (!strcmp(h, "Content-Type") && !row.obj.is_dir) {
		v = CONTENT_TYPE_DEFAULT; /* what S3 serves it with */
		n = strlen(v);
	}
	rc = ATR_E_NO_KEY;
	if (v && (*val = malloc(n ? n : 1))) {
		memcpy(*val, v, n);
		*len = n;
		rc = ATR_OK;
	} else if (v) {
		rc = ATR_E_NOMEM;
	}
	atr_obj_release(&row.obj);
	return rc;
}

/* A change of one extended attribute, inside ns_txn. */
struct xattr_args {
	uint64_t ino;
	const char *name;
	const char *h;       /* the stored header it stands for; NULL: the xattrs table */
	const void *val;     /* NULL: remove it */
	size_t len;
	int flags;           /* XATTR_CREATE, XATTR_REPLACE */
};

/* hdrs with header h's line (at line, ll bytes, or absent) replaced by
 * val, or removed (val NULL): a new string in *out. */
static int hdrs_edit(const char *hdrs, const char *line, size_t ll, const char *h,
		     const void *val, size_t len, char **out)
{
	hdrs = hdrs ? hdrs : "";
	size_t hl = strlen(hdrs), cap = hl + strlen(h) + len + 8;
	if (cap > HDRS_MAX)
		return ATR_E_TOO_LARGE;
	char *n = malloc(cap);
	if (!n)
		return ATR_E_NOMEM;
	size_t pre = line ? (size_t)(line - hdrs) : hl, w = 0;
	memcpy(n, hdrs, pre);
	if (val)
		w = (size_t)snprintf(n + pre, cap - pre, "%s: %.*s\r\n", h, (int)len,
				     (const char *)val);
	snprintf(n + pre + w, cap - pre - w, "%s", line ? line + ll : "");
	*out = n;
	return ATR_OK;
}

static int xattr_fn(struct atr_core *c, void *arg)
{
	struct xattr_args *x = arg;
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	const char *line = NULL;
	size_t ll = 0;
	int rc = row_of(c, x->ino, bucket, key, &row, 1);
	if (rc)
		return rc;
	int exists;
	if (x->h) {
		exists = (line = hdr_find(row.obj.hdrs, x->h, &ll)) != NULL;
	} else {
		void *old = NULL;
		size_t oldlen;
		exists = meta_xattr_get(c->meta, x->ino - 1, x->name, &old, &oldlen) == ATR_OK;
		free(old);
	}
	if ((x->flags & XATTR_CREATE) && exists)
		rc = ATR_E_EXISTS;
	else if (((x->flags & XATTR_REPLACE) || !x->val) && !exists)
		rc = ATR_E_NO_KEY;
	else if (!x->h && !x->val)
		rc = meta_xattr_delete(c->meta, x->ino - 1, x->name);
	else if (!x->h)
		rc = x->len > 65536 ? ATR_E_TOO_LARGE
				    : meta_xattr_put(c->meta, x->ino - 1, x->name, x->val, x->len);
	else {
		char *n;
		if (!(rc = hdrs_edit(row.obj.hdrs, line, ll, x->h, x->val, x->len, &n))) {
			free(row.obj.hdrs);
			row.obj.hdrs = n;
		}
	}
	if (!rc) {
		row.obj.ctime_ns = time_now_ns();
		rc = meta_obj_set_posix(c->meta, &row);
	}
	atr_obj_release(&row.obj);
	return rc;
}

int atr_node_setxattr(struct atr_core *c, uint64_t ino, const char *name, const void *val,
		      size_t len, int flags)
{
	char h[ATR_USER_MAX * 4];
	if (!xattr_name_ok(name))
		return ATR_E_NOT_SUPPORTED;
	int s3 = s3_header_of(name, h);
	/* S3 headers must be header text, or the object's HEAD breaks. */
	if (s3 == -2 || (s3 > 0 && !http_text(val, len)))
		return ATR_E_INVALID_ARG;
	if (s3 < 0 || (s3 > 0 && !*h))
		return ATR_E_ACCESS; /* the ETag is the content's */
	struct xattr_args x = { ino, name, s3 ? h : NULL, len ? val : "", len, flags };
	return ns_txn(c, xattr_fn, &x);
}

int atr_node_removexattr(struct atr_core *c, uint64_t ino, const char *name)
{
	char h[ATR_USER_MAX * 4];
	if (!xattr_name_ok(name))
		return ATR_E_NOT_SUPPORTED;
	int s3 = s3_header_of(name, h);
	if (s3 < 0)
		return ATR_E_NO_KEY;
	if (s3 > 0 && !*h)
		return ATR_E_ACCESS;
	struct xattr_args x = { ino, name, s3 ? h : NULL, NULL, 0, 0 };
	return ns_txn(c, xattr_fn, &x);
}

struct names {
	char *v;
	size_t len, cap;
	int oom;
};

static int add_name(void *arg, const char *name)
{
	struct names *n = arg;
	size_t l = strlen(name) + 1;
	if (n->len + l > n->cap) {
		size_t cap = (n->cap ? n->cap * 2 : 256) + l;
		char *v = realloc(n->v, cap);
		if (!v) {
			n->oom = 1;
			return 1;
		}
		n->v = v;
		n->cap = cap;
	}
	memcpy(n->v + n->len, name, l);
	n->len += l;
	return 0;
}

int atr_node_listxattr(struct atr_core *c, uint64_t ino, char **names, size_t *len)
{
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	struct names n = { 0 };
	int rc = row_of(c, ino, bucket, key, &row, 1);
	if (rc)
		return rc;
	if (!row.obj.is_dir && !row.pending)
		add_name(&n, XATTR_S3 "etag");
	if (!row.obj.is_dir) /* a file always has one (getxattr) */
		add_name(&n, XATTR_S3 "content_type");
	for (const char *p = row.obj.hdrs; p && *p;) {
		const char *eol = strstr(p, "\r\n");
		size_t l = eol ? (size_t)(eol + 2 - p) : strlen(p);
		const char *colon = memchr(p, ':', l);
		char nm[ATR_USER_MAX * 4 + 32];
		if (colon && (size_t)(colon - p) == 12 && !strncasecmp(p, "Content-Type", 12)) {
			if (row.obj.is_dir)
				add_name(&n, XATTR_S3 "content_type");
		} else if (colon && colon - p > 11 && !strncasecmp(p, "x-amz-meta-", 11) &&
			   colon - p - 11 < ATR_USER_MAX * 3) {
			snprintf(nm, sizeof(nm), XATTR_S3 "meta.%.*s", (int)(colon - p - 11), p + 11);
			add_name(&n, nm);
		}
		p += l;
	}
	atr_obj_release(&row.obj);
	rc = meta_xattr_list(c->meta, ino - 1, add_name, &n);
	if (!rc && n.oom)
		rc = ATR_E_NOMEM;
	if (rc) {
		free(n.v);
		return rc;
	}
	*names = n.v;
	*len = n.len;
	return ATR_OK;
}
