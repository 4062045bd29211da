/*
 * node — the mount's view of the namespace (src/atrium.h, "the mount's
 * view"): inodes and their POSIX attributes, lookups and directories, and
 * the calls that make, link, rename and remove names. Open files and their
 * write shadows are node_file.c's, extended attributes node_xattr.c's;
 * what they share is src/node_int.h.
 *
 * An inode is an objects row; its number is the row's ino + 1, so that
 * ATR_INO_ROOT (1) is the namespace root, which has no row. Buckets are the
 * rows with key "" of each bucket. The view asks the namespace kernel
 * (src/ns_int.h) for every change and lookup; the kernel checks no
 * permission, and neither does this view: the kernel's default_permissions
 * check modes before a request gets here (docs/permissions.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "src/idmap_int.h"
#include "src/node_int.h"
#include "src/perm_int.h"
#include "common/banned.h"

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
	ufs_close(c->ufs, g->f);
	free(g->sizes);
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
	for (int i = 0; i < NODE_BUCKETS; i++)
		while (c->nodes->known[i]) {
			struct known *k = c->nodes->known[i];
			c->nodes->known[i] = k->next;
			free(k);
		}
	pthread_mutex_destroy(&c->nodes->lock);
	free(c->nodes);
	c->nodes = NULL;
}

/* ---- owners ---- */

/* The S3 user a host uid is (src/idmap.c). */
void node_owner(struct atr_core *c, uint32_t uid, char out[ATR_USER_MAX + 1])
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

struct inode *inode_get(struct atr_core *c, uint64_t ino)
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

void inode_put(struct atr_core *c, struct inode *in)
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

int node_row(struct atr_core *c, uint64_t ino, char bucket[ATR_BUCKET_MAX + 1],
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
		if (!key_path(path, sizeof(path), bucket, key) &&
		    ufs_stat(c->ufs, path, &st) == ATR_OK)
			a->mtime_ns = st.mtime_ns;
	}
	a->atime_ns = o->atime_ns ? o->atime_ns : a->mtime_ns;
	a->ctime_ns = o->ctime_ns > a->mtime_ns ? o->ctime_ns : a->mtime_ns;
}

/* Being written: the shadow is the file, its size and mtime are the
 * file's (in->lock need not be held: see shadow_publish). */
void node_attr_shadow(struct inode *in, struct atr_attr *a)
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
void node_attr_fill(struct atr_core *c, const char *bucket, const char *key,
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
			node_attr_shadow(in, a);
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
	if (ufs_stat(c->ufs, ".", &st) == ATR_OK)
		a->atime_ns = a->mtime_ns = a->ctime_ns = st.mtime_ns;
}

/* ---- what the kernel knows, and ghosts ---- */

/* The lookup count of ino (n->lock held). */
static struct known *known_find(struct nodes *n, uint64_t ino)
{
	for (struct known *k = n->known[ino % NODE_BUCKETS]; k; k = k->next)
		if (k->ino == ino)
			return k;
	return NULL;
}

void atr_node_remember(struct atr_core *c, uint64_t ino)
{
	struct nodes *n = c->nodes;
	if (ino <= ATR_INO_ROOT)
		return; /* the root is never forgotten */
	pthread_mutex_lock(&n->lock);
	struct known *k = known_find(n, ino);
	if (!k && (k = calloc(1, sizeof(*k)))) {
		k->ino = ino;
		k->next = n->known[ino % NODE_BUCKETS];
		n->known[ino % NODE_BUCKETS] = k;
	}
	if (k)
		k->n++;
	pthread_mutex_unlock(&n->lock);
}

/* Takes the ghosts no one reads that the kernel no longer knows, and past
 * GHOST_MAX the oldest no one reads, off the list (n->lock held). */
static struct ghost *ghosts_reap(struct nodes *n)
{
	struct ghost *dead = NULL;
	int kept = 0;
	for (struct ghost **pp = &n->ghosts; *pp;) {
		struct ghost *x = *pp;
		if (!x->refs && (++kept > GHOST_MAX || !known_find(n, x->attr.ino))) {
			*pp = x->next;
			n->nghosts--;
			x->next = dead;
			dead = x;
		} else {
			pp = &x->next;
		}
	}
	return dead;
}

static void ghosts_free(struct atr_core *c, struct ghost *dead)
{
	while (dead) {
		struct ghost *x = dead;
		dead = x->next;
		ghost_free(c, x);
	}
}

void atr_node_forget(struct atr_core *c, uint64_t ino, uint64_t nlookup)
{
	struct nodes *n = c->nodes;
	struct ghost *dead = NULL;
	pthread_mutex_lock(&n->lock);
	struct known **pp = &n->known[ino % NODE_BUCKETS];
	while (*pp && (*pp)->ino != ino)
		pp = &(*pp)->next;
	struct known *k = *pp;
	if (k && (k->n -= k->n < nlookup ? k->n : nlookup) == 0) {
		*pp = k->next;
		free(k);
		if (node_ghost_find(n, ino))
			dead = ghosts_reap(n);
	}
	pthread_mutex_unlock(&n->lock);
	ghosts_free(c, dead);
}

void node_ghost_unref(struct atr_core *c, struct ghost *g)
{
	struct nodes *n = c->nodes;
	struct ghost *dead = NULL;
	pthread_mutex_lock(&n->lock);
	if (--g->refs == 0 && !known_find(n, g->attr.ino))
		dead = ghosts_reap(n);
	pthread_mutex_unlock(&n->lock);
	ghosts_free(c, dead);
}

/*
 * The kernel's on_replace (ns_replaced): the object at bucket/key (row
 * old) is about to be replaced by a new inode. If the kernel knows that
 * inode (a lookup gave it out, and it has not forgotten it), it may be
 * between its lookup of the name and its open of the inode: the ghost
 * keeps the old bytes (an open UFS file) and attributes until it forgets
 * it, so that open succeeds and reads one whole version, as on a local
 * file system, where a path walk racing rename(2) opens the old or the
 * new file. Under ns_lock.
 */
static void ghost_make(struct atr_core *c, const char *bucket, const char *key,
		       const struct meta_row *old)
{
	struct nodes *n = c->nodes;
	uint64_t ino = obj_node(&old->obj) + 1;
	if (old->obj.is_dir)
		return;
	pthread_mutex_lock(&n->lock);
	int known = known_find(n, ino) != NULL;
	pthread_mutex_unlock(&n->lock);
	if (!known)
		return; /* no lookup of it in flight: nothing to open it by */
	char path[PATH_MAX_UFS];
	struct ufs_stat st;
	struct ghost *g = calloc(1, sizeof(*g));
	if (!g || key_path(path, sizeof(path), bucket, key) ||
	    ufs_open(c->ufs, path, &g->f, &st)) {
		free(g);
		return;
	}
	attr_base(c, bucket, key, &old->obj, &g->attr);
	/* the bytes kept, whatever a writer holds open (an encrypted file's:
	 * its row's, the plaintext's) */
	g->attr.size = old->obj.sse ? old->obj.size : st.size;
	g->version = old->obj.version;
	g->sse = old->obj.sse;
	/* A segmented encrypted file's part sizes, before its row goes
	 * (best effort: without them its reads are EIO). */
	if (old->obj.sse && old->obj.fsize &&
	    meta_obj_parts_get(c->meta, old->obj.ino, old->obj.version, &g->sizes, &g->nsizes))
		g->sizes = NULL;
	pthread_mutex_lock(&n->lock);
	g->next = n->ghosts;
	n->ghosts = g;
	n->nghosts++;
	struct ghost *dead = ghosts_reap(n);
	pthread_mutex_unlock(&n->lock);
	ghosts_free(c, dead);
}

/* The ghost of inode ino, with a reference if take (n->lock held). */
struct ghost *node_ghost_find(struct nodes *n, uint64_t ino)
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
	return !key_path(path, sizeof(path), bucket, key) &&
	       ufs_stat(c->ufs, path, &st) == ATR_OK && st.is_reg &&
	       st.size == obj_file_size(o) && st.mtime_ns == o->mtime_ns;
}

int atr_node_getattr(struct atr_core *c, uint64_t ino, struct atr_attr *a)
{
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	if (ino == ATR_INO_ROOT) {
		attr_root(c, a);
		return ATR_OK;
	}
	int rc = node_row(c, ino, bucket, key, &row, 0);
	if (rc) {
		struct nodes *n = c->nodes;
		pthread_mutex_lock(&n->lock);
		struct inode *in = inode_find(n, ino);
		struct ghost *g;
		if (rc == ATR_E_NO_KEY && in && in->last.ino == ino) {
			*a = in->last; /* open, and unlinked: what it holds now */
			a->nlink = 0;
			node_attr_shadow(in, a);
			rc = ATR_OK;
		} else if (rc == ATR_E_NO_KEY && (g = node_ghost_find(n, ino))) {
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
	node_attr_fill(c, bucket, key, &row.obj, a);
	return ATR_OK;
}

/* The directory inode dir: its bucket and key ("" or ending in '/'). */
static int dir_of(struct atr_core *c, uint64_t dir, char bucket[ATR_BUCKET_MAX + 1],
		  char key[ATR_KEY_MAX + 2], struct meta_row *row)
{
	int rc = node_row(c, dir, bucket, key, row, 0);
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
		node_attr_fill(c, name, "", &row.obj, a);
		return ATR_OK;
	}
	if ((rc = dir_of(c, parent, bucket, dk, &row)))
		return rc == ATR_E_PARENT_IS_OBJECT ? ATR_E_NO_KEY : rc;
	if ((rc = child_key(dk, name, key)))
		return rc == ATR_E_KEY_TOO_LONG ? rc : ATR_E_NO_KEY;
	if (meta_obj_get(c->meta, bucket, key, &row, 0) == ATR_OK && row.pending) {
		node_attr_fill(c, bucket, key, &row.obj, a);
		return ATR_OK;
	}
	if ((rc = ns_resolve(c, bucket, key, &row, &dir)))
		return rc;
	char sub[ATR_KEY_MAX + 2];
	if (dir && (rc = key_dir(key, sub)))
		return rc;
	node_attr_fill(c, bucket, dir ? sub : key, &row.obj, a);
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
	node_attr_fill(r->c, b->name, "", &row.obj, &a);
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
	node_attr_fill(r->c, r->bucket, key, &row->obj, &a);
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
		node_attr_fill(c, bucket, key, &p.row.obj, a);
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
		node_attr_fill(c, bucket, dk, &dir->obj, &pa);
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
	node_owner(c, cr->uid, owner);
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
	node_owner(c, cr->uid, owner);
	uint32_t perm = mode & 07777;
	struct atr_obj posix = { .mode = perm, .kind = S_ISREG(mode) ? 0 : (mode & S_IFMT),
				 .rdev = rdev };
	posix.gid = new_gid(c, cr, bucket, dk, &row, &perm, 0);
	struct ufs_stage *stage;
	if ((rc = ufs_stage_open(c->ufs, &stage)))
		return rc;
	size_t len = data ? strlen(data) : 0;
	if (len && (rc = ufs_stage_write(c->ufs, stage, data, len))) {
		ufs_stage_abort(c->ufs, stage);
		return rc;
	}
	md5(data ? data : "", len, sum);
	hex_encode(sum, MD5_LEN, etag);
	struct atr_obj out = { 0 };
	rc = ns_commit_entry(c, owner, bucket, key, stage, etag, &posix, &out);
	if (rc)
		return rc == ATR_E_CONFLICT ? ATR_E_EXISTS : rc;
	out.gid = posix.gid;
	node_attr_fill(c, bucket, key, &out, a);
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
	int rc = node_row(c, ino, bucket, key, &row, 0);
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
	if (row.pending)
		return ns_delete(c, bucket, key, 0); /* being made: no version yet */
	/* As S3's DELETE (a versioned bucket keeps the file as a noncurrent
	 * version under a delete marker, its owner's), the directories
	 * left empty staying. */
	struct atr_delete_result d;
	return obj_delete_version(c, row.obj.owner, bucket, key, NULL, 0, OBJ_DEL_IN_PLACE, &d);
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

/* ---- hard links and O_TMPFILE ---- */

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
	node_owner(c, cr->uid, row.obj.owner);
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
	node_attr_fill(c, TMPFILE_BUCKET, key, &row.obj, a);
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
	if ((rc = node_row(c, ino, bucket, key, &row, 0)))
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
		if (rc || (rc = node_row(c, ino, bucket, key, &row, 0)))
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
	node_owner(c, cr->uid, row.obj.owner);
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
	node_attr_fill(c, bucket, key, &row.obj, a); /* remembered in (*f)->in */
	return ATR_OK;
}

/* The open inode ino with a reference, or NULL if none is open. */
struct inode *inode_ref(struct atr_core *c, uint64_t ino)
{
	struct nodes *n = c->nodes;
	pthread_mutex_lock(&n->lock);
	struct inode *in = inode_find(n, ino);
	if (in)
		in->refs++;
	pthread_mutex_unlock(&n->lock);
	return in;
}

int atr_node_statfs(struct atr_core *c, struct statvfs *out)
{
	int rc = ufs_statfs(c->ufs, out);
	if (!rc)
		out->f_namemax = ATR_SEGMENT_MAX;
	return rc;
}