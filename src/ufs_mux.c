/*
 * ufs_mux — the namespace's one tree, made of several drivers (the
 * unified namespace, Alluxio's mount table): the local driver holds the
 * root, the private area (stages and parts) and every bucket not mounted
 * elsewhere; a bucket mounted on a remote location is served by its own
 * driver, path "NAME/rest" passed on as "rest" (src/ufs_int.h).
 *
 * Stages are the local driver's, whatever path they go to: a remote
 * driver is made over the same local driver as its private area, so its
 * stage_commit takes them (src/ufs_int.h, ufs_s3_new). Files are wrapped
 * with the mount point they came from, so a read goes to the driver that
 * opened it even after the bucket is unmounted (the mount point lives
 * until its last file is closed).
 *
 * Capabilities: the mux has the local driver's; ops a bucket's driver
 * lacks answer ATR_E_NOT_SUPPORTED there, and ufs_can_at tells the core
 * beforehand. A rename or link between two drivers is ATR_E_NOT_SUPPORTED
 * too (the mount answers EXDEV, so mv copies).
 *
 * Thread-safety: a mutex guards the table and the reference counts,
 * never held across a driver's op. With nothing mounted, a path goes to
 * the local driver without taking it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "src/ufs_int.h"
#include "common/banned.h"

struct mpoint {
	char *bucket;
	struct ufs *u; /* owned */
	unsigned refs; /* the table's (until detached) and each open file's */
	struct mpoint *next;
};

struct mux {
	struct ufs base;
	struct ufs *local;      /* owned */
	pthread_mutex_t lock;   /* guards mounts and every refs */
	struct mpoint *mounts;  /* read unlocked only to see whether it is empty */
};

struct mfile {
	struct mpoint *mp; /* NULL: the local driver's */
	struct ufs_file *in;
};

static struct mux *M(struct ufs *u) { return (struct mux *)u; }

/* The bucket segment of path and where the rest starts. */
static size_t bucket_len(const char *path)
{
	const char *slash = strchr(path, '/');
	return slash ? (size_t)(slash - path) : strlen(path);
}

/* The mount point path is under, referenced (mp_put when done), with
 * *rest the path inside it; NULL and *rest = path for the local driver. */
static struct mpoint *mp_get(struct mux *m, const char *path, const char **rest)
{
	*rest = path;
	if (!__atomic_load_n(&m->mounts, __ATOMIC_ACQUIRE) || !*path)
		return NULL;
	size_t n = bucket_len(path);
	pthread_mutex_lock(&m->lock);
	struct mpoint *mp = m->mounts;
	while (mp && (strlen(mp->bucket) != n || memcmp(mp->bucket, path, n)))
		mp = mp->next;
	if (mp) {
		mp->refs++;
		*rest = path[n] ? path + n + 1 : "";
	}
	pthread_mutex_unlock(&m->lock);
	return mp;
}

static void mp_put(struct mux *m, struct mpoint *mp)
{
	if (!mp)
		return;
	pthread_mutex_lock(&m->lock);
	int last = --mp->refs == 0;
	pthread_mutex_unlock(&m->lock);
	if (last) {
		ufs_free(mp->u);
		free(mp->bucket);
		free(mp);
	}
}

static struct ufs *drv(struct mux *m, struct mpoint *mp) { return mp ? mp->u : m->local; }

/* ---- the tree: each op to the driver of its path ---- */

/* ROUTE(path, call): call with u and p, the driver and the path in it. */
#define ROUTE(path, call) \
	do { \
		struct mux *m_ = M(mu); \
		const char *p; \
		struct mpoint *mp_ = mp_get(m_, path, &p); \
		struct ufs *u = drv(m_, mp_); \
		int rc_ = (call); \
		mp_put(m_, mp_); \
		return rc_; \
	} while (0)

static int mux_stat(struct ufs *mu, const char *path, struct ufs_stat *st)
{
	ROUTE(path, u->ops->stat(u, p, st));
}

static int mux_open(struct ufs *mu, const char *path, struct ufs_file **out, struct ufs_stat *st)
{
	struct mux *m = M(mu);
	struct mfile *f = malloc(sizeof(*f));
	if (!f)
		return ATR_E_NOMEM;
	const char *p;
	f->mp = mp_get(m, path, &p);
	f->in = NULL;
	int rc = drv(m, f->mp)->ops->open(drv(m, f->mp), p, &f->in, st);
	if (rc) {
		mp_put(m, f->mp);
		free(f);
		return rc;
	}
	*out = (struct ufs_file *)f;
	return ATR_OK;
}

static struct mfile *MF(struct ufs_file *f) { return (struct mfile *)f; }

static ssize_t mux_pread(struct ufs *mu, struct ufs_file *f, void *buf, size_t len, uint64_t off)
{
	struct ufs *u = drv(M(mu), MF(f)->mp);
	return u->ops->pread(u, MF(f)->in, buf, len, off);
}

static void mux_close(struct ufs *mu, struct ufs_file *f)
{
	if (!f)
		return;
	struct ufs *u = drv(M(mu), MF(f)->mp);
	u->ops->close(u, MF(f)->in);
	mp_put(M(mu), MF(f)->mp);
	free(f);
}

/* The root's listing: the local driver's, with each mounted bucket
 * answered by its own driver's root (and added where it has no local
 * directory). */
struct root_list {
	struct mux *m;
	ufs_dirent_cb cb;
	void *arg;
	char **seen;
	size_t nseen;
};

static int root_entry(void *arg, const char *name, const struct ufs_stat *st)
{
	struct root_list *r = arg;
	for (size_t i = 0; i < r->nseen; i++)
		if (!strcmp(r->seen[i], name))
			return 0; /* a mount point: listed from its driver */
	return r->cb(r->arg, name, st);
}

static int root_readdir(struct mux *m, ufs_dirent_cb cb, void *arg)
{
	struct root_list r = { m, cb, arg, NULL, 0 };
	int rc = ATR_OK;
	pthread_mutex_lock(&m->lock);
	size_t n = 0;
	for (struct mpoint *mp = m->mounts; mp; mp = mp->next)
		n++;
	struct mpoint **mps = n ? calloc(n, sizeof(*mps)) : NULL;
	r.seen = n ? calloc(n, sizeof(*r.seen)) : NULL;
	if (n && (!mps || !r.seen)) {
		pthread_mutex_unlock(&m->lock);
		free(mps);
		free(r.seen);
		return ATR_E_NOMEM;
	}
	for (struct mpoint *mp = m->mounts; mp; mp = mp->next) {
		mp->refs++;
		mps[r.nseen] = mp;
		r.seen[r.nseen++] = mp->bucket;
	}
	pthread_mutex_unlock(&m->lock);

	int stop = 0;
	for (size_t i = 0; i < n && !stop; i++) {
		struct ufs_stat st;
		struct ufs *u = mps[i]->u;
		/* A remote store that cannot say is left out, as a vanished entry is. */
		if (!u->ops->stat(u, "", &st) && st.is_dir)
			stop = cb(arg, mps[i]->bucket, &st);
	}
	if (!stop)
		rc = m->local->ops->readdir(m->local, "", root_entry, &r);
	for (size_t i = 0; i < n; i++)
		mp_put(m, mps[i]);
	free(mps);
	free(r.seen);
	return rc;
}

static int mux_readdir(struct ufs *mu, const char *path, ufs_dirent_cb cb, void *arg)
{
	if (!*path && __atomic_load_n(&M(mu)->mounts, __ATOMIC_ACQUIRE))
		return root_readdir(M(mu), cb, arg);
	ROUTE(path, u->ops->readdir(u, p, cb, arg));
}

static int mux_mkdir(struct ufs *mu, const char *path)
{
	ROUTE(path, u->ops->mkdir(u, p));
}

static int mux_rmdir(struct ufs *mu, const char *path)
{
	ROUTE(path, u->ops->rmdir(u, p));
}

static int mux_unlink(struct ufs *mu, const char *path)
{
	ROUTE(path, u->ops->unlink(u, p));
}

/* ---- the private area: the local driver's ---- */

#define LOCAL(op, ...) M(mu)->local->ops->op(M(mu)->local, __VA_ARGS__)

static int mux_stage_open(struct ufs *mu, struct ufs_stage **out)
{
	return LOCAL(stage_open, out);
}

static int mux_stage_write(struct ufs *mu, struct ufs_stage *s, const void *buf, size_t len)
{
	return LOCAL(stage_write, s, buf, len);
}

static int mux_stage_prepare(struct ufs *mu, struct ufs_stage *s, char *name, size_t size,
			     struct ufs_stat *st)
{
	return LOCAL(stage_prepare, s, name, size, st);
}

static int mux_stage_commit(struct ufs *mu, struct ufs_stage *s, const char *path,
			    struct ufs_stat *st)
{
	ROUTE(path, u->ops->stage_commit(u, s, p, st));
}

static void mux_stage_abort(struct ufs *mu, struct ufs_stage *s)
{
	LOCAL(stage_abort, s);
}

static void mux_stage_keep(struct ufs *mu, struct ufs_stage *s)
{
	LOCAL(stage_keep, s);
}

static int mux_stage_recover(struct ufs *mu, const char *name, const char *path)
{
	ROUTE(path, u->ops->stage_recover(u, name, p));
}

static void mux_stage_gc(struct ufs *mu)
{
	M(mu)->local->ops->stage_gc(M(mu)->local);
}

static void mux_free(struct ufs *mu)
{
	struct mux *m = M(mu);
	while (m->mounts) {
		struct mpoint *mp = m->mounts;
		m->mounts = mp->next;
		mp_put(m, mp);
	}
	ufs_free(m->local);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* ---- optional ops: where the driver of the path has them ---- */

/* A rename or a link: where from and to are under one driver (the same
 * mount point, neither the mount point itself, or both local) that has
 * the capability; else ATR_E_NOT_SUPPORTED. */
enum pair_op { PAIR_RENAME, PAIR_REPLACE, PAIR_LINK };

static int route_pair(struct ufs *mu, const char *from, const char *to, enum pair_op op)
{
	struct mux *m = M(mu);
	const char *pf, *pt;
	struct mpoint *a = mp_get(m, from, &pf), *b = mp_get(m, to, &pt);
	struct ufs *u = drv(m, a);
	int rc = ATR_E_NOT_SUPPORTED;
	if (a == b && (!a || (*pf && *pt)) &&
	    ufs_can(u, op == PAIR_LINK ? UFS_CAP_LINKS : UFS_CAP_RENAME)) {
		if (op == PAIR_RENAME)
			rc = u->ops->rename(u, pf, pt);
		else if (op == PAIR_REPLACE)
			rc = u->ops->rename_replace(u, pf, pt);
		else
			rc = u->ops->link(u, pf, pt);
	}
	mp_put(m, a);
	mp_put(m, b);
	return rc;
}

static int mux_rename(struct ufs *mu, const char *from, const char *to)
{
	return route_pair(mu, from, to, PAIR_RENAME);
}

static int mux_rename_replace(struct ufs *mu, const char *from, const char *to)
{
	return route_pair(mu, from, to, PAIR_REPLACE);
}

static int mux_link(struct ufs *mu, const char *from, const char *to)
{
	return route_pair(mu, from, to, PAIR_LINK);
}

static int mux_stage_link(struct ufs *mu, struct ufs_stage *s, char *name, size_t size)
{
	return LOCAL(stage_link, s, name, size);
}

static void mux_stage_forget(struct ufs *mu, const char *name)
{
	LOCAL(stage_forget, name);
}

/* A local file's bytes are copied inside the local store; another
 * driver's come through this process. */
static int mux_stage_copy(struct ufs *mu, struct ufs_stage *s, struct ufs_file *src,
			  uint64_t off, uint64_t len)
{
	struct mux *m = M(mu);
	if (!MF(src)->mp)
		return ufs_stage_copy(m->local, s, MF(src)->in, off, len);
	return ufs_copy_through(MF(src)->mp->u, MF(src)->in, m->local, s, off, len);
}

static int mux_part_commit(struct ufs *mu, struct ufs_stage *s, const char *upload,
			   const char *name, struct ufs_stat *st)
{
	return LOCAL(part_commit, s, upload, name, st);
}

static int mux_stage_append_part(struct ufs *mu, struct ufs_stage *s, const char *upload,
				 const char *name, uint64_t off, uint64_t len)
{
	return LOCAL(stage_append_part, s, upload, name, off, len);
}

static int mux_part_unlink(struct ufs *mu, const char *upload, const char *name)
{
	return LOCAL(part_unlink, upload, name);
}

static int mux_part_remove_upload(struct ufs *mu, const char *upload)
{
	return LOCAL(part_remove_upload, upload);
}

static int mux_part_readdir(struct ufs *mu, const char *upload, ufs_dirent_cb cb, void *arg)
{
	return LOCAL(part_readdir, upload, cb, arg);
}

static int mux_stage_pwrite(struct ufs *mu, struct ufs_stage *s, const void *buf, size_t len,
			    uint64_t off)
{
	return LOCAL(stage_pwrite, s, buf, len, off);
}

static ssize_t mux_stage_pread(struct ufs *mu, struct ufs_stage *s, void *buf, size_t len,
			       uint64_t off)
{
	return LOCAL(stage_pread, s, buf, len, off);
}

static int mux_stage_truncate(struct ufs *mu, struct ufs_stage *s, uint64_t size)
{
	return LOCAL(stage_truncate, s, size);
}

static int mux_utimens(struct ufs *mu, const char *path, int64_t atime_ns, int64_t mtime_ns,
		       struct ufs_stat *st)
{
	ROUTE(path, ufs_can(u, UFS_CAP_TIMES) ? u->ops->utimens(u, p, atime_ns, mtime_ns, st)
					       : ATR_E_NOT_SUPPORTED);
}

static int mux_stage_set_mtime(struct ufs *mu, struct ufs_stage *s, int64_t mtime_ns)
{
	return LOCAL(stage_set_mtime, s, mtime_ns);
}

static int mux_statfs(struct ufs *mu, struct statvfs *out)
{
	return LOCAL(statfs, out);
}

static int mux_next_data(struct ufs *mu, struct ufs_file *f, uint64_t off, uint64_t *data,
			 uint64_t *end)
{
	struct ufs *u = drv(M(mu), MF(f)->mp);
	ufs_next_data(u, MF(f)->in, off, data, end);
	return ATR_OK;
}

static unsigned mux_caps_at(struct ufs *mu, const char *path)
{
	struct mux *m = M(mu);
	const char *p;
	struct mpoint *mp = mp_get(m, path, &p);
	/* The private area's capabilities are the local driver's. */
	const unsigned private = UFS_CAP_PARTS | UFS_CAP_RANDOM_WRITE | UFS_CAP_STATFS;
	unsigned caps = mp ? (mp->u->caps & ~private) | (m->local->caps & private) : m->local->caps;
	mp_put(m, mp);
	return caps;
}

static void mux_refresh(struct ufs *mu, const char *path)
{
	struct mux *m = M(mu);
	const char *p;
	struct mpoint *mp = mp_get(m, path, &p);
	ufs_refresh(mp ? mp->u : m->local, mp ? p : path);
	mp_put(m, mp);
}

static const struct ufs_ops mux_ops = {
	.version = UFS_VERSION,
	.name = "mux",
	.stat = mux_stat,
	.open = mux_open,
	.pread = mux_pread,
	.close = mux_close,
	.readdir = mux_readdir,
	.mkdir = mux_mkdir,
	.rmdir = mux_rmdir,
	.unlink = mux_unlink,
	.stage_open = mux_stage_open,
	.stage_write = mux_stage_write,
	.stage_prepare = mux_stage_prepare,
	.stage_commit = mux_stage_commit,
	.stage_abort = mux_stage_abort,
	.stage_keep = mux_stage_keep,
	.stage_recover = mux_stage_recover,
	.stage_gc = mux_stage_gc,
	.free = mux_free,
	.rename = mux_rename,
	.rename_replace = mux_rename_replace,
	.link = mux_link,
	.stage_link = mux_stage_link,
	.stage_forget = mux_stage_forget,
	.stage_copy = mux_stage_copy,
	.part_commit = mux_part_commit,
	.stage_append_part = mux_stage_append_part,
	.part_unlink = mux_part_unlink,
	.part_remove_upload = mux_part_remove_upload,
	.part_readdir = mux_part_readdir,
	.stage_pwrite = mux_stage_pwrite,
	.stage_pread = mux_stage_pread,
	.stage_truncate = mux_stage_truncate,
	.utimens = mux_utimens,
	.stage_set_mtime = mux_stage_set_mtime,
	.statfs = mux_statfs,
	.next_data = mux_next_data,
	.caps_at = mux_caps_at,
	.refresh = mux_refresh,
};

int ufs_mux_new(struct ufs *local, struct ufs **out)
{
	struct mux *m = calloc(1, sizeof(*m));
	if (!m)
		return ATR_E_NOMEM;
	m->base.ops = &mux_ops;
	m->base.caps = local->caps;
	m->local = local;
	pthread_mutex_init(&m->lock, NULL);
	*out = &m->base;
	return ATR_OK;
}

int ufs_mux_attach(struct ufs *mu, const char *bucket, struct ufs *driver)
{
	struct mux *m = M(mu);
	struct mpoint *mp = calloc(1, sizeof(*mp));
	if (!mp || !(mp->bucket = strdup(bucket))) {
		free(mp);
		return ATR_E_NOMEM;
	}
	mp->u = driver;
	mp->refs = 1;
	pthread_mutex_lock(&m->lock);
	int taken = 0;
	for (struct mpoint *o = m->mounts; o; o = o->next)
		taken |= !strcmp(o->bucket, bucket);
	if (!taken) {
		mp->next = m->mounts;
		__atomic_store_n(&m->mounts, mp, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&m->lock);
	if (taken) {
		free(mp->bucket);
		free(mp);
		return ATR_E_EXISTS;
	}
	LOG(LOG_INFO, "ufs: bucket %s served by driver %s", bucket, driver->ops->name);
	return ATR_OK;
}

int ufs_mux_detach(struct ufs *mu, const char *bucket)
{
	struct mux *m = M(mu);
	pthread_mutex_lock(&m->lock);
	struct mpoint **pp = &m->mounts;
	while (*pp && strcmp((*pp)->bucket, bucket))
		pp = &(*pp)->next;
	struct mpoint *mp = *pp;
	if (mp)
		__atomic_store_n(pp, mp->next, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&m->lock);
	if (!mp)
		return ATR_E_NO_KEY;
	mp_put(m, mp); /* freed with its last open file */
	return ATR_OK;
}
