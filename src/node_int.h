/*
 * node_int.h — what the inode view's files (node.c, node_file.c,
 * node_xattr.c) share: the open inodes, the ghosts of replaced ones, open
 * files, and the helpers each side needs of the other.
 *
 * Locks, in order (docs/architecture.md has every lock of the tree): an
 * inode's lock (in->lock), then an open file's (f->lock), then ns_lock;
 * an inode's lock, then the table's (nodes->lock). nodes->lock guards the
 * table, the ghosts and each inode's refs and last; in->lock the rest of
 * an inode; f->lock an open file's reader.
 */
#ifndef SRC_NODE_INT_H
#define SRC_NODE_INT_H

#include "common/hash.h"
#include "src/ns_int.h"

#define NODE_BUCKETS 256

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
	int sse;                  /* encrypted at rest (enum atr_sse) ... */
	uint64_t *sizes;          /* ... in segments: the part sizes (they go with
				   * the replaced row; NULL: none, reads EIO) */
	int nsizes;
	int refs;                 /* open files reading it */
	struct ghost *next;
};

/* A ghost lives while the kernel knows its inode (or a file reads it);
 * past this many, the oldest no one reads go (a lookup count the kernel
 * never forgets, say of a reply it dropped, must not pin files). */
#define GHOST_MAX 256

/* The kernel's lookup count of an inode: the entries replied with it,
 * less what FORGET gave back (libfuse's rule). */
struct known {
	uint64_t ino, n;
	struct known *next;
};

struct nodes {
	pthread_mutex_t lock;
	struct inode *tab[NODE_BUCKETS];
	struct known *known[NODE_BUCKETS];
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
/* ---- node.c ---- */

/* The S3 user a host uid is (src/idmap.c). */
void node_owner(struct atr_core *c, uint32_t uid, char out[ATR_USER_MAX + 1]);
/* The open inode ino, made if none, with a reference (NULL: out of
 * memory); inode_ref: only if it is open; inode_put lets a reference go,
 * and the last one the inode (its shadow dropped, a pending row that was
 * never committed with it). */
struct inode *inode_get(struct atr_core *c, uint64_t ino);
struct inode *inode_ref(struct atr_core *c, uint64_t ino);
void inode_put(struct atr_core *c, struct inode *in);
/* The row of inode ino with its bucket and key. */
int node_row(struct atr_core *c, uint64_t ino, char bucket[ATR_BUCKET_MAX + 1],
	     char key[ATR_KEY_MAX + 2], struct meta_row *row, int want_hdrs);
/* The attributes the mount shows of row o at bucket/key: an open shadow's
 * size and times win (node_attr_shadow adds them to a). */
void node_attr_fill(struct atr_core *c, const char *bucket, const char *key,
		    const struct atr_obj *o, struct atr_attr *a);
void node_attr_shadow(struct inode *in, struct atr_attr *a);
/* The ghost of inode ino (n->lock held), or NULL; node_ghost_unref lets
 * an open file's reference go. */
struct ghost *node_ghost_find(struct nodes *n, uint64_t ino);
void node_ghost_unref(struct atr_core *c, struct ghost *g);

/* ---- node_file.c ---- */

/* An inode's shadow (in->lock held): shadow_ensure makes it if there is
 * none (a copy of the committed bytes, or empty with trunc; gone: the
 * bytes to start from if the inode has lost its last name), shadow_drop
 * discards it, shadow_commit commits it if dirty. */
int shadow_ensure(struct atr_core *c, struct inode *in, int trunc, struct atr_reader *gone);
void shadow_drop(struct atr_core *c, struct inode *in);
int shadow_commit(struct atr_core *c, struct inode *in);
/* An open file of inode ino; its attributes are remembered in f->in (what
 * an unlinked open file shows) when remember is set, else the caller's
 * node_attr_fill does it. */
int file_make(struct atr_core *c, uint64_t ino, int write, int remember, struct atr_file **out);

#endif
