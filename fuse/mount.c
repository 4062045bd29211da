/*
 * mount — FUSE low-level operations over the core's inode view
 * (src/atrium.h, "the mount's view"), and the invalidation worker.
 *
 * Caching. The kernel keeps entries, attributes and pages for
 * CACHE_TIMEOUT seconds; what changes through the other doors (S3, the
 * admin API) reaches it as change events from the core, which the worker
 * thread below turns into fuse_lowlevel_notify_inval_entry/inode. The
 * thread that made the change waits (in settle) until the worker has
 * passed its events, so an S3 PUT returns only once the kernel has
 * forgotten what it replaced. Events raised by the mount's own requests
 * are dropped: the kernel made those changes itself, and notifying from
 * inside a request can deadlock on the kernel's inode locks.
 *
 * Permissions are the kernel's (default_permissions) from the modes and
 * owners the core reports; requests act with the caller's uid and gid.
 */
#define FUSE_USE_VERSION 312

#include "fuse/mount.h"
#include "fuse/xattr.h"

#include <errno.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/banned.h"

#define CACHE_TIMEOUT 10.0
#define MAX_WRITE (1u << 20)
#define SETTLE_WAIT_NS (5LL * 1000000000)

struct event {
	uint64_t parent, ino;
	uint64_t seq;
	struct event *next;
	char name[]; /* "" for an attribute change only */
};

struct mount {
	struct atr_core *core;
	struct fuse_session *se;
	char *dir;
	pthread_t loop, worker;
	int loop_started, worker_started;
	int max_threads, max_idle; /* the loop's (options max_threads, max_idle_threads) */
	int loop_ended;     /* atomic: the session loop returned */
	int wake_fd;        /* mount_stop: a detached copy of the mount, or -1 */
	/* events from the other doors, in order */
	pthread_mutex_t lock;
	pthread_cond_t more, done;
	struct event *head, *tail;
	uint64_t next_seq, done_seq;
	int stopping;
	/* Bumped before every entry invalidation. A lookup that began before
	 * a bump may carry what the invalidation removed; its reply then
	 * gets no entry caching (see reply_entry). */
	uint64_t epoch;
	/* Held (read) by a lookup from before it resolves the name until its
	 * reply is written, and (write) by the worker to bump the epoch: so a
	 * reply made before an invalidation reaches the kernel before it. */
	pthread_rwlock_t lookups;
	/* Entries replied (lookup, create, readdirplus) so far, and as of
	 * the worker's last epoch notification. */
	uint64_t replies, replies_seen;
	int epoch_notify; /* the kernel takes FUSE_NOTIFY_INC_EPOCH */
	mount_observe_fn observe;
	void *observe_arg;
	/* Open file and directory handles: a release the kernel never sends
	 * (the session ended first) must not leak them. */
	pthread_mutex_t hlock;
	struct handle *handles;
};

struct handle {
	struct handle *prev, *next;
	void (*free)(struct handle *h);
	int writer;         /* a file opened for writing (a struct fh) */
};

static void handle_add(struct mount *m, struct handle *h, void (*free_fn)(struct handle *))
{
	h->free = free_fn;
	pthread_mutex_lock(&m->hlock);
	h->prev = NULL;
	h->next = m->handles;
	if (m->handles)
		m->handles->prev = h;
	m->handles = h;
	pthread_mutex_unlock(&m->hlock);
}

static void handle_del(struct mount *m, struct handle *h)
{
	pthread_mutex_lock(&m->hlock);
	if (h->prev)
		h->prev->next = h->next;
	else
		m->handles = h->next;
	if (h->next)
		h->next->prev = h->prev;
	pthread_mutex_unlock(&m->hlock);
}

/* The request this thread is serving: its operation and start, for the
 * observe hook (each request gets exactly one reply, on its thread). */
static __thread struct {
	struct mount *m;
	const char *op;
	int64_t t0;
	int done;
} cur;

static int64_t mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void op_begin(fuse_req_t req, const char *op)
{
	cur.m = fuse_req_userdata(req);
	cur.op = op;
	cur.t0 = mono_now();
	cur.done = 0;
}

/* The reply is going out: err (an errno, 0 for success), bytes moved. */
static void op_done(int err, uint64_t in, uint64_t out)
{
	if (cur.done || !cur.m || !cur.m->observe)
		return;
	cur.done = 1;
	cur.m->observe(cur.m->observe_arg, cur.op, err, in, out, mono_now() - cur.t0);
}

/* Every reply of the operations below passes through op_done: these
 * stand in for libfuse's (each argument evaluated once). */
static int r_err(fuse_req_t req, int e) { op_done(e, 0, 0); return fuse_reply_err(req, e); }
static void r_none(fuse_req_t req) { op_done(0, 0, 0); fuse_reply_none(req); }
/* An entry given out is one more lookup of its inode the kernel will
 * FORGET: counted before the reply (the FORGET may come at once), and
 * given back if the reply never reached the kernel. */
static struct atr_core *core_of(fuse_req_t req)
{
	return ((struct mount *)fuse_req_userdata(req))->core;
}
static int r_entry(fuse_req_t req, const struct fuse_entry_param *e)
{
	struct atr_core *c = core_of(req);
	op_done(0, 0, 0);
	if (e->ino)
		atr_node_remember(c, e->ino);
	int rc = fuse_reply_entry(req, e);
	if (rc && e->ino)
		atr_node_forget(c, e->ino, 1);
	return rc;
}
static int r_create(fuse_req_t req, const struct fuse_entry_param *e,
		    const struct fuse_file_info *fi)
{
	struct atr_core *c = core_of(req);
	op_done(0, 0, 0);
	atr_node_remember(c, e->ino);
	int rc = fuse_reply_create(req, e, fi);
	if (rc)
		atr_node_forget(c, e->ino, 1);
	return rc;
}
static int r_attr(fuse_req_t req, const struct stat *st, double t)
{
	op_done(0, 0, 0);
	return fuse_reply_attr(req, st, t);
}
static int r_readlink(fuse_req_t req, const char *l)
{
	op_done(0, 0, 0);
	return fuse_reply_readlink(req, l);
}
static int r_open(fuse_req_t req, const struct fuse_file_info *fi)
{
	op_done(0, 0, 0);
	return fuse_reply_open(req, fi);
}
static int r_write(fuse_req_t req, size_t n) { op_done(0, n, 0); return fuse_reply_write(req, n); }
static int r_buf(fuse_req_t req, const char *b, size_t n)
{
	op_done(0, 0, n);
	return fuse_reply_buf(req, b, n);
}
static int r_statfs(fuse_req_t req, const struct statvfs *sv)
{
	op_done(0, 0, 0);
	return fuse_reply_statfs(req, sv);
}
static int r_xattr(fuse_req_t req, size_t n) { op_done(0, 0, 0); return fuse_reply_xattr(req, n); }
#define fuse_reply_err r_err
#define fuse_reply_none r_none
#define fuse_reply_entry r_entry
#define fuse_reply_create r_create
#define fuse_reply_attr r_attr
#define fuse_reply_readlink r_readlink
#define fuse_reply_open r_open
#define fuse_reply_write r_write
#define fuse_reply_buf r_buf
#define fuse_reply_statfs r_statfs
#define fuse_reply_xattr r_xattr

/* Set on the threads that serve FUSE requests. */
static __thread int in_request;
/* The last event this (other-door) thread queued. */
static __thread uint64_t my_seq;

/* ---- invalidation ---- */

/*
 * FUSE_NOTIFY_INC_EPOCH (Linux 6.16, protocol 7.44): every dentry made
 * from a lookup that began before it is stale. An entry invalidation cannot
 * reach a lookup still in flight (the kernel adds its dentry after our
 * reply is read, maybe after the invalidation); the epoch can. libfuse 3.14
 * has no call for it, so it is written to the session's fd by hand.
 */
#define NOTIFY_INC_EPOCH 8

static void notify_inc_epoch(struct mount *m)
{
	struct fuse_out_header h = { .len = sizeof(h), .error = NOTIFY_INC_EPOCH, .unique = 0 };
	if (m->epoch_notify && write(fuse_session_fd(m->se), &h, sizeof(h)) != (ssize_t)sizeof(h)) {
		m->epoch_notify = 0; /* an older kernel: entry invalidation alone */
		LOG(LOG_INFO, "mount: this kernel has no FUSE_NOTIFY_INC_EPOCH (%s)", strerror(errno));
	}
}

static void on_changed(void *arg, uint64_t parent, const char *name, uint64_t ino)
{
	struct mount *m = arg;
	if (in_request)
		return;
	size_t n = name ? strlen(name) : 0;
	struct event *e = malloc(sizeof(*e) + n + 1);
	if (!e)
		return; /* the kernel's timeouts bound what is missed */
	e->parent = parent;
	e->ino = ino;
	memcpy(e->name, name ? name : "", n + 1);
	e->next = NULL;
	pthread_mutex_lock(&m->lock);
	e->seq = ++m->next_seq;
	my_seq = e->seq;
	if (m->tail)
		m->tail->next = e;
	else
		m->head = e;
	m->tail = e;
	pthread_cond_signal(&m->more);
	pthread_mutex_unlock(&m->lock);
}

static void on_settle(void *arg)
{
	struct mount *m = arg;
	if (in_request || !my_seq)
		return;
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += SETTLE_WAIT_NS / 1000000000;
	pthread_mutex_lock(&m->lock);
	while (m->done_seq < my_seq && !m->stopping)
		if (pthread_cond_timedwait(&m->done, &m->lock, &until)) {
			LOG(LOG_WARN, "mount: kernel cache invalidation is late");
			break;
		}
	pthread_mutex_unlock(&m->lock);
	my_seq = 0;
}

static void *worker_main(void *arg)
{
	struct mount *m = arg;
	pthread_mutex_lock(&m->lock);
	for (;;) {
		while (!m->head && !m->stopping)
			pthread_cond_wait(&m->more, &m->lock);
		if (!m->head)
			break;
		struct event *e = m->head;
		m->head = e->next;
		if (!m->head)
			m->tail = NULL;
		pthread_mutex_unlock(&m->lock);
		/* The change is reported while it is made: only once it is
		 * visible may the kernel forget what it had, or a lookup
		 * between the two would cache the old state again, for the
		 * whole entry timeout. */
		atr_core_barrier(m->core);
		/* Errors are fine: the kernel may not know the entry at all. */
		pthread_rwlock_wrlock(&m->lookups);
		__atomic_add_fetch(&m->epoch, 1, __ATOMIC_SEQ_CST);
		uint64_t replies = __atomic_load_n(&m->replies, __ATOMIC_SEQ_CST);
		pthread_rwlock_unlock(&m->lookups);
		if (*e->name)
			fuse_lowlevel_notify_inval_entry(m->se, e->parent, e->name, strlen(e->name));
		if (replies != m->replies_seen) {
			/* Entries went out since the last time: one may not be
			 * in the kernel's dentry cache yet, out of reach of the
			 * invalidation above. */
			m->replies_seen = replies;
			notify_inc_epoch(m);
		}
		fuse_lowlevel_notify_inval_inode(m->se, e->ino, 0, 0);
		fuse_lowlevel_notify_inval_inode(m->se, e->parent, -1, 0);
		pthread_mutex_lock(&m->lock);
		m->done_seq = e->seq;
		pthread_cond_broadcast(&m->done);
		free(e);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

static const struct atr_watch_ops watch_ops = { on_changed, on_settle };

/* ---- helpers ---- */

/*
 * The one core -> errno table. Most codes are one errno whatever the call;
 * a few conditions have the errno the call documents (by_call): a request
 * on an inode that is gone (replaced over S3 or removed since the kernel
 * looked it up) is ESTALE, which makes the kernel look the path up again
 * (open, stat: retry_estale) and find what is there now; setattr's "not
 * the owner" is EPERM; rename across buckets is EXDEV (so mv copies); an
 * absent extended attribute is ENODATA, a namespace we do not keep
 * ENOTSUP. Anything unnamed is EIO.
 */
enum call { CALL_NAME, CALL_INODE, CALL_SETATTR, CALL_RENAME, CALL_XATTR };

static const int errnos[ATR_E__COUNT] = {
	[ATR_E_NOMEM] = ENOMEM,
	[ATR_E_IO] = EIO,
	[ATR_E_NOSPC] = ENOSPC,
	[ATR_E_INTERNAL] = EIO,
	[ATR_E_ACCESS] = EACCES,
	[ATR_E_INVALID_BUCKET] = EINVAL,
	[ATR_E_NO_BUCKET] = ENOENT,
	[ATR_E_BUCKET_EXISTS] = EEXIST,
	[ATR_E_BUCKET_OWNED] = EEXIST,
	[ATR_E_BUCKET_NOT_EMPTY] = ENOTEMPTY,
	[ATR_E_INVALID_KEY] = EINVAL,
	[ATR_E_KEY_TOO_LONG] = ENAMETOOLONG,
	[ATR_E_NO_KEY] = ENOENT,
	[ATR_E_PARENT_IS_OBJECT] = ENOTDIR,
	[ATR_E_KEY_IS_PREFIX] = EISDIR,
	[ATR_E_TOO_LARGE] = E2BIG,
	[ATR_E_INVALID_ARG] = EINVAL,
	[ATR_E_NO_UPLOAD] = ENOENT,
	[ATR_E_CONFLICT] = EEXIST,
	[ATR_E_EXISTS] = EEXIST,
	[ATR_E_NOT_EMPTY] = ENOTEMPTY,
	[ATR_E_NOT_SUPPORTED] = EPERM,
	[ATR_E_FILE_TOO_BIG] = EFBIG,
	[ATR_E_READ_ONLY] = EROFS,
	[ATR_E_QUOTA] = EDQUOT,
	[ATR_E_TOO_MANY_LINKS] = EMLINK,
	[ATR_E_BUSY] = EBUSY,
	[ATR_E_NO_FILES] = ENFILE,
	[ATR_E_UFS_DOWN] = EIO,
	[ATR_E_NOT_PERSISTED] = EBUSY,
	[ATR_E_PINNED] = EBUSY,
	[ATR_E_NO_VERSION] = ENOENT,
	[ATR_E_DELETE_MARKER] = ENOENT,
	[ATR_E_LOCKED] = EPERM,
	[ATR_E_NO_LOCK] = EINVAL,
};

static const struct {
	enum call call;
	int rc, e;
} by_call[] = {
	{ CALL_INODE, ATR_E_NO_KEY, ESTALE },
	{ CALL_SETATTR, ATR_E_NO_KEY, ESTALE },
	{ CALL_SETATTR, ATR_E_ACCESS, EPERM },
	{ CALL_RENAME, ATR_E_NOT_SUPPORTED, EXDEV },
	{ CALL_XATTR, ATR_E_NO_KEY, ENODATA },
	{ CALL_XATTR, ATR_E_NOT_SUPPORTED, ENOTSUP },
	{ CALL_XATTR, ATR_E_ACCESS, EPERM },
};

static int err_of(enum call call, int rc)
{
	if (rc == ATR_OK)
		return 0;
	for (size_t i = 0; i < sizeof(by_call) / sizeof(*by_call); i++)
		if (by_call[i].call == call && by_call[i].rc == rc)
			return by_call[i].e;
	return rc > 0 && rc < ATR_E__COUNT && errnos[rc] ? errnos[rc] : EIO;
}

static int err_no(int rc) { return err_of(CALL_NAME, rc); }
static int err_ino(int rc) { return err_of(CALL_INODE, rc); }

static struct mount *M(fuse_req_t req)
{
	in_request = 1;
	return fuse_req_userdata(req);
}

static void ts_of(int64_t ns, struct timespec *ts)
{
	ts->tv_sec = ns / 1000000000;
	ts->tv_nsec = ns % 1000000000;
}

static void stat_of(const struct atr_attr *a, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = a->ino;
	st->st_mode = a->mode;
	st->st_nlink = a->nlink;
	st->st_uid = a->uid;
	st->st_gid = a->gid;
	st->st_size = (off_t)a->size;
	st->st_rdev = (dev_t)a->rdev;
	st->st_blksize = 1 << 20;
	st->st_blocks = (blkcnt_t)((a->size + 511) / 512);
	ts_of(a->atime_ns, &st->st_atim);
	ts_of(a->mtime_ns, &st->st_mtim);
	ts_of(a->ctime_ns, &st->st_ctim);
}

static void entry_of(const struct atr_attr *a, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = a->ino;
	e->generation = 1;
	e->attr_timeout = CACHE_TIMEOUT;
	e->entry_timeout = CACHE_TIMEOUT;
	stat_of(a, &e->attr);
}

static uint64_t epoch_now(struct mount *m)
{
	return __atomic_load_n(&m->epoch, __ATOMIC_SEQ_CST);
}

/* An entry found when the epoch was since: if an invalidation ran
 * meanwhile, the kernel must not keep it (it may be what was removed). */
static void entry_since(struct mount *m, uint64_t since, struct fuse_entry_param *e)
{
	__atomic_add_fetch(&m->replies, 1, __ATOMIC_SEQ_CST);
	if (epoch_now(m) != since)
		e->entry_timeout = e->attr_timeout = 0;
}

static void reply_entry_since(fuse_req_t req, int rc, const struct atr_attr *a, uint64_t since)
{
	struct fuse_entry_param e;
	if (rc) {
		fuse_reply_err(req, err_no(rc));
		return;
	}
	entry_of(a, &e);
	entry_since(fuse_req_userdata(req), since, &e);
	fuse_reply_entry(req, &e);
}

static void reply_entry(fuse_req_t req, int rc, const struct atr_attr *a)
{
	reply_entry_since(req, rc, a, epoch_now(fuse_req_userdata(req)));
}

static struct atr_cred cred_of(fuse_req_t req)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct atr_cred cr = { ctx->uid, ctx->gid };
	return cr;
}

/* An open file. */
struct fh {
	struct handle link; /* first: a handle is its fh */
	struct atr_file *f;
};

static void fh_free(struct handle *l)
{
	struct fh *h = (struct fh *)l;
	atr_file_close(h->f);
	free(h);
}

/* ---- operations ---- */

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	in_request = 1;
	conn->max_write = MAX_WRITE;
	conn->max_readahead = MAX_WRITE;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct atr_attr a;
	struct mount *m = M(req);
	pthread_rwlock_rdlock(&m->lookups);
	uint64_t since = epoch_now(m);
	int rc = atr_node_lookup(m->core, parent, name, &a);
	reply_entry_since(req, rc, &a, since);
	pthread_rwlock_unlock(&m->lookups);
}

/* Inode numbers are rows' and outlive the kernel's knowing them; its
 * lookup counts only say how long a replaced inode must stay openable
 * (atr_node_forget). */
static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	in_request = 1;
	atr_node_forget(core_of(req), ino, nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	in_request = 1;
	for (size_t i = 0; i < count; i++)
		atr_node_forget(core_of(req), forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct atr_attr a;
	struct stat st;
	int rc = atr_node_getattr(M(req)->core, ino, &a);
	if (rc) {
		fuse_reply_err(req, err_ino(rc));
		return;
	}
	stat_of(&a, &st);
	fuse_reply_attr(req, &st, CACHE_TIMEOUT);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct atr_setattr s = { 0 };
	struct atr_attr a;
	struct stat st;
	int64_t now;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	if (to_set & FUSE_SET_ATTR_MODE) {
		s.valid |= ATR_SET_MODE;
		s.mode = attr->st_mode & 07777;
	}
	if (to_set & FUSE_SET_ATTR_UID) {
		s.valid |= ATR_SET_UID;
		s.uid = attr->st_uid;
	}
	if (to_set & FUSE_SET_ATTR_GID) {
		s.valid |= ATR_SET_GID;
		s.gid = attr->st_gid;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		s.valid |= ATR_SET_SIZE;
		s.size = (uint64_t)attr->st_size;
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_ATIME_NOW)) {
		s.valid |= ATR_SET_ATIME;
		s.atime_ns = to_set & FUSE_SET_ATTR_ATIME_NOW
			? now : (int64_t)attr->st_atim.tv_sec * 1000000000 + attr->st_atim.tv_nsec;
	}
	if (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW)) {
		s.valid |= ATR_SET_MTIME;
		s.mtime_ns = to_set & FUSE_SET_ATTR_MTIME_NOW
			? now : (int64_t)attr->st_mtim.tv_sec * 1000000000 + attr->st_mtim.tv_nsec;
	}
	/* ftruncate names its descriptor: an unlinked file's bytes are there. */
	struct atr_file *f = fi && (to_set & FUSE_SET_ATTR_SIZE) ? ((struct fh *)(uintptr_t)fi->fh)->f
								 : NULL;
	int rc = atr_node_setattr(M(req)->core, ino, f, &s, &a);
	if (rc) {
		fuse_reply_err(req, err_of(CALL_SETATTR, rc));
		return;
	}
	stat_of(&a, &st);
	fuse_reply_attr(req, &st, CACHE_TIMEOUT);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char buf[4097];
	int rc = atr_node_readlink(M(req)->core, ino, buf, sizeof(buf));
	if (rc)
		fuse_reply_err(req, err_ino(rc));
	else
		fuse_reply_readlink(req, buf);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		     dev_t rdev)
{
	struct atr_attr a;
	struct atr_cred cr = cred_of(req);
	int rc = atr_node_mknod(M(req)->core, &cr, parent, name, mode, rdev, &a);
	reply_entry(req, rc, &a);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct atr_attr a;
	struct atr_cred cr = cred_of(req);
	int rc = atr_node_mkdir(M(req)->core, &cr, parent, name, mode & ~fuse_req_ctx(req)->umask,
				&a);
	reply_entry(req, rc, &a);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, err_no(atr_node_unlink(M(req)->core, parent, name)));
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, err_no(atr_node_rmdir(M(req)->core, parent, name)));
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	struct atr_attr a;
	struct atr_cred cr = cred_of(req);
	int rc = atr_node_symlink(M(req)->core, &cr, parent, name, link, &a);
	reply_entry(req, rc, &a);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	M(req);
	if (flags & ~(unsigned)RENAME_NOREPLACE) {
		fuse_reply_err(req, EINVAL); /* RENAME_EXCHANGE, RENAME_WHITEOUT */
		return;
	}
	int rc = atr_node_rename(M(req)->core, parent, name, newparent, newname,
				 flags & RENAME_NOREPLACE ? ATR_RENAME_NOREPLACE : 0);
	fuse_reply_err(req, err_of(CALL_RENAME, rc));
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct atr_attr a;
	int rc = atr_node_link(M(req)->core, ino, newparent, newname, &a);
	reply_entry(req, rc, &a);
}

/* create: reply with the entry a, found when the epoch was since. */
static void open_reply(fuse_req_t req, struct atr_file *f, fuse_ino_t ino,
		       struct fuse_file_info *fi, const struct atr_attr *a, int create,
		       uint64_t since)
{
	struct fh *h = calloc(1, sizeof(*h));
	if (!h) {
		atr_file_close(f);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	struct mount *m = fuse_req_userdata(req); /* req is gone once replied to */
	h->f = f;
	h->link.writer = create || (fi->flags & O_ACCMODE) != O_RDONLY;
	handle_add(m, &h->link, fh_free);
	fi->fh = (uintptr_t)h;
	fi->keep_cache = 1; /* kept right by invalidation */
	if (create) {
		struct fuse_entry_param e;
		entry_of(a, &e);
		entry_since(m, since, &e);
		if (fuse_reply_create(req, &e, fi) == -ENOENT)
			goto gone;
	} else if (fuse_reply_open(req, fi) == -ENOENT) {
		goto gone;
	}
	return;
gone: /* the caller was interrupted: no release will come */
	handle_del(m, &h->link);
	fh_free(&h->link);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct atr_file *f;
	int flags = 0;
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		flags |= ATR_OPEN_WRITE;
	if ((fi->flags & O_TRUNC) && (flags & ATR_OPEN_WRITE))
		flags |= ATR_OPEN_TRUNC;
	int rc = atr_node_open(M(req)->core, ino, flags, &f);
	if (rc) {
		fuse_reply_err(req, err_ino(rc));
		return;
	}
	open_reply(req, f, ino, fi, NULL, 0, 0);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct atr_file *f;
	struct atr_attr a;
	struct atr_cred cr = cred_of(req);
	if (!S_ISREG(mode)) {
		M(req);
		fuse_reply_err(req, EINVAL);
		return;
	}
	struct mount *m = M(req);
	struct atr_core *core = m->core;
	if (!strcmp(name, "/")) {
		/* O_TMPFILE (see the session loop): no name, no dentry to cache. */
		int rc = atr_node_tmpfile(core, &cr, parent, mode, &f, &a);
		if (rc)
			fuse_reply_err(req, err_no(rc));
		else /* an epoch already past: its reply is not cached */
			open_reply(req, f, a.ino, fi, &a, 1, epoch_now(m) - 1);
		return;
	}
	/* Like a lookup, the entry it replies with is ordered against
	 * invalidations (see op_lookup). */
	pthread_rwlock_rdlock(&m->lookups);
	uint64_t since = epoch_now(m);
	int rc = atr_node_create(core, &cr, parent, name, mode, &f, &a);
	if (rc == ATR_E_EXISTS && !(fi->flags & O_EXCL)) {
		/* Made through the other door since the kernel's lookup: open
		 * it, as open(2) without O_EXCL does. */
		int flags = ATR_OPEN_WRITE | (fi->flags & O_TRUNC ? ATR_OPEN_TRUNC : 0);
		if ((fi->flags & O_ACCMODE) == O_RDONLY)
			flags = 0;
		/* The name may be replaced again meanwhile: take what is there. */
		for (int tries = 0; tries < 8; tries++) {
			if (!(rc = atr_node_lookup(core, parent, name, &a)) &&
			    !(rc = atr_node_open(core, a.ino, flags, &f)))
				atr_node_getattr(core, a.ino, &a);
			if (rc != ATR_E_NO_KEY)
				break;
		}
	}
	if (rc)
		fuse_reply_err(req, err_no(rc));
	else
		open_reply(req, f, a.ino, fi, &a, 1, since);
	pthread_rwlock_unlock(&m->lookups);
}

/*
 * The read buffer of this thread, kept from one READ to the next. A fresh
 * malloc of 1 MiB is an mmap: every read then faulted in 256 new pages
 * while copying into them and paid an munmap (a TLB shootdown) after,
 * which cost more than the copy itself. Freed when the thread ends.
 */
struct rbuf {
	size_t cap;
	char data[];
};

static pthread_key_t rbuf_key;
static pthread_once_t rbuf_once = PTHREAD_ONCE_INIT;

static void rbuf_key_make(void)
{
	if (pthread_key_create(&rbuf_key, free))
		abort(); /* only when out of keys, at the first read */
}

static char *rbuf_get(size_t size)
{
	pthread_once(&rbuf_once, rbuf_key_make);
	struct rbuf *b = pthread_getspecific(rbuf_key);
	if (b && b->cap >= size)
		return b->data;
	size_t cap = size > MAX_WRITE ? size : MAX_WRITE;
	struct rbuf *n = malloc(sizeof(*n) + cap);
	if (!n || pthread_setspecific(rbuf_key, n)) {
		free(n);
		return NULL;
	}
	free(b);
	n->cap = cap;
	return n->data;
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fh *h = (struct fh *)(uintptr_t)fi->fh;
	M(req);
	char *buf = rbuf_get(size);
	size_t got = 0;
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	int rc = atr_file_read(h->f, buf, size, (uint64_t)off, &got);
	if (rc)
		fuse_reply_err(req, err_no(rc));
	else
		fuse_reply_buf(req, buf, got);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct fh *h = (struct fh *)(uintptr_t)fi->fh;
	M(req);
	int rc = atr_file_write(h->f, buf, size, (uint64_t)off);
	if (rc)
		fuse_reply_err(req, err_no(rc));
	else
		fuse_reply_write(req, size);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fh *h = (struct fh *)(uintptr_t)fi->fh;
	M(req);
	fuse_reply_err(req, err_no(atr_file_flush(h->f)));
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	op_flush(req, ino, fi);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fh *h = (struct fh *)(uintptr_t)fi->fh;
	handle_del(M(req), &h->link);
	atr_file_flush(h->f); /* normally a no-op: flush came first */
	fh_free(&h->link);
	fuse_reply_err(req, 0);
}

/*
 * A directory handle streams the directory a page at a time (DIR_PAGE
 * entries), so a listing reads each entry once and holds one page,
 * whatever the directory's size. An entry's offset (where the kernel
 * resumes after it) is its place as the core gives it (pos + 2: 1 is
 * after ".", 2 after ".."), stable for the entry's life: the kernel
 * resumes within the page at hand (a getdents buffer filled up) or after
 * its last entry (the next page), and a seekdir to any telldir resumes
 * right after that entry, wherever entries came and went meanwhile.
 * Only when that entry has gone meanwhile does the listing start over.
 * Offset 0 starts over too (rewinddir sees changes). The kernel never
 * sends two READDIRs of one open directory at once (its f_pos lock), so
 * a handle needs no lock.
 */
#define DIR_PAGE 1024

struct dent {
	char *name;
	struct atr_attr a;
	uint64_t pos;
};

struct dirh {
	struct handle link; /* first: a handle is its dirh */
	struct dent *v;     /* the page */
	size_t n, cap;
	int loaded;         /* the page was read */
	int from_start;     /* it is the first page */
	int more;           /* entries remain after it */
	int oom;
	uint64_t epoch;     /* when the page was read */
	uint64_t parent;    /* "..": read when a pass starts */
};

static int add_dent(void *arg, const char *name, const struct atr_attr *a, uint64_t pos)
{
	struct dirh *d = arg;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct dent *v = realloc(d->v, cap * sizeof(*v));
		if (!v) {
			d->oom = 1;
			return 1;
		}
		d->v = v;
		d->cap = cap;
	}
	if (!(d->v[d->n].name = strdup(name))) {
		d->oom = 1;
		return 1;
	}
	d->v[d->n].a = *a;
	d->v[d->n].pos = pos;
	d->n++;
	return 0;
}

static void dirh_clear(struct dirh *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].name);
	d->n = 0;
	d->loaded = 0;
}

static void dirh_free(struct handle *l)
{
	struct dirh *d = (struct dirh *)l;
	dirh_clear(d);
	free(d->v);
	free(d);
}

/* Reads the page right after the entry at pos after (0: the first page). */
static int dirh_page(struct mount *m, fuse_ino_t ino, struct dirh *d, uint64_t after)
{
	dirh_clear(d);
	d->oom = 0;
	d->epoch = epoch_now(m);
	int rc = atr_node_readdir_page(m->core, ino, after, DIR_PAGE, add_dent, d, &d->more);
	if (rc == ATR_E_NO_KEY && after) /* that entry is gone: start over */
		return dirh_page(m, ino, d, 0);
	d->loaded = !rc;
	d->from_start = !after;
	return rc ? rc : d->oom ? ATR_E_NOMEM : ATR_OK;
}

/* Makes the page hold the entries right after offset off (>= 2), and
 * returns in *i the index of the first of them (*i == d->n: none left). */
static int dirh_seek(struct mount *m, fuse_ino_t ino, struct dirh *d, off_t off, size_t *i)
{
	int rc = ATR_OK;
	if (off == 2) {
		if (!d->loaded || !d->from_start)
			rc = dirh_page(m, ino, d, 0);
		*i = 0;
		return rc;
	}
	uint64_t after = (uint64_t)off - 2;
	for (size_t k = 0; d->loaded && k < d->n; k++) {
		if (d->v[k].pos != after)
			continue;
		if (k + 1 < d->n || !d->more) {
			*i = k + 1;
			return ATR_OK;
		}
		break; /* the page's last entry: the next page */
	}
	rc = dirh_page(m, ino, d, after);
	*i = 0;
	return rc;
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dirh *d = calloc(1, sizeof(*d));
	struct atr_attr a;
	int rc = d ? atr_node_getattr(M(req)->core, ino, &a) : ATR_E_NOMEM;
	if (!rc && !S_ISDIR(a.mode))
		rc = ATR_E_PARENT_IS_OBJECT;
	if (rc) {
		free(d);
		fuse_reply_err(req, err_ino(rc));
		return;
	}
	struct mount *m = M(req); /* req is gone once replied to */
	fi->fh = (uintptr_t)d;
	handle_add(m, &d->link, dirh_free);
	if (fuse_reply_open(req, fi) == -ENOENT) {
		handle_del(m, &d->link);
		dirh_free(&d->link);
	}
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi, int plus)
{
	struct dirh *d = (struct dirh *)(uintptr_t)fi->fh;
	struct mount *m = M(req);
	int rc = ATR_OK;
	char *buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* readdirplus replies entries, as a lookup does: ordered against
	 * invalidations the same way (see op_lookup). */
	if (plus)
		pthread_rwlock_rdlock(&m->lookups);
	size_t used = 0, n = 0, i = 0, ngiven = 0;
	/* The inodes this reply gives out (readdirplus), counted as lookups
	 * (r_entry): at least 128 bytes per entry. */
	uint64_t *given = plus ? malloc((size / 128 + 1) * sizeof(*given)) : NULL;
	if (plus && !given) {
		pthread_rwlock_unlock(&m->lookups);
		free(buf);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (off < 2 && !(rc = atr_node_parent(m->core, ino, &d->parent))) {
		/* A new pass: rewinddir sees changes. */
		if (off == 0)
			dirh_clear(d);
		for (off_t k = off; k < 2; k++, used += n) {
			struct fuse_entry_param e = { 0 };
			e.attr.st_ino = k == 0 ? ino : d->parent;
			e.attr.st_mode = S_IFDIR;
			const char *name = k == 0 ? "." : "..";
			n = plus ? fuse_add_direntry_plus(req, buf + used, size - used, name, &e, k + 1)
				 : fuse_add_direntry(req, buf + used, size - used, name, &e.attr, k + 1);
			if (n > size - used)
				goto reply;
		}
		off = 2;
	}
	if (!rc)
		rc = dirh_seek(m, ino, d, off, &i);
	for (; !rc && i < d->n; i++, used += n) {
		const struct dent *de = &d->v[i];
		off_t next = (off_t)(de->pos + 2);
		if (plus) {
			struct fuse_entry_param e;
			entry_of(&de->a, &e);
			entry_since(m, d->epoch, &e);
			n = fuse_add_direntry_plus(req, buf + used, size - used, de->name, &e, next);
		} else {
			struct stat st;
			stat_of(&de->a, &st);
			n = fuse_add_direntry(req, buf + used, size - used, de->name, &st, next);
		}
		if (n > size - used)
			break;
		if (plus) {
			atr_node_remember(m->core, de->a.ino);
			given[ngiven++] = de->a.ino;
		}
		if (i + 1 == d->n && d->more) {
			/* The next page, in this reply if it fits. */
			used += n;
			rc = dirh_page(m, ino, d, de->pos);
			i = (size_t)-1;
			n = 0;
		}
	}
reply:
	if (rc && !used)
		fuse_reply_err(req, err_ino(rc));
	else if (fuse_reply_buf(req, buf, used)) /* what fitted before an error: it comes again */
		for (size_t k = 0; k < ngiven; k++)
			atr_node_forget(m->core, given[k], 1); /* never reached the kernel */
	if (plus)
		pthread_rwlock_unlock(&m->lookups);
	free(given);
	free(buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, 0);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, 1);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dirh *d = (struct dirh *)(uintptr_t)fi->fh;
	handle_del(M(req), &d->link);
	dirh_free(&d->link);
	fuse_reply_err(req, 0);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	M(req);
	fuse_reply_err(req, 0); /* metadata is committed at every change */
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;
	int rc = atr_node_statfs(M(req)->core, &sv);
	if (rc)
		fuse_reply_err(req, err_no(rc));
	else
		fuse_reply_statfs(req, &sv);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			size_t size, int flags)
{
	int rc = xattr_set(M(req)->core, ino, name, value, size, flags);
	fuse_reply_err(req, err_of(CALL_XATTR, rc));
}

static void reply_sized(fuse_req_t req, const void *v, size_t len, size_t size)
{
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (len > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, v, len);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	void *v = NULL;
	size_t len = 0;
	int rc = xattr_get(M(req)->core, ino, name, &v, &len);
	if (rc)
		fuse_reply_err(req, err_of(CALL_XATTR, rc));
	else
		reply_sized(req, v, len, size);
	free(v);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	char *v = NULL;
	size_t len = 0;
	int rc = xattr_list(M(req)->core, ino, &v, &len);
	if (rc)
		fuse_reply_err(req, err_no(rc));
	else
		reply_sized(req, v, len, size);
	free(v);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	int rc = xattr_remove(M(req)->core, ino, name);
	fuse_reply_err(req, err_of(CALL_XATTR, rc));
}

/* Each operation under its name for the observe hook (metrics). */
#define NAMED(op, params, args) \
	static void t_##op params { op_begin(req, #op); op_##op args; }
NAMED(lookup, (fuse_req_t req, fuse_ino_t p, const char *n), (req, p, n))
NAMED(forget, (fuse_req_t req, fuse_ino_t i, uint64_t n), (req, i, n))
NAMED(forget_multi, (fuse_req_t req, size_t c, struct fuse_forget_data *f), (req, c, f))
NAMED(getattr, (fuse_req_t req, fuse_ino_t i, struct fuse_file_info *fi), (req, i, fi))
NAMED(setattr, (fuse_req_t req, fuse_ino_t i, struct stat *a, int t, struct fuse_file_info *fi),
      (req, i, a, t, fi))
NAMED(readlink, (fuse_req_t req, fuse_ino_t i), (req, i))
NAMED(mknod, (fuse_req_t req, fuse_ino_t p, const char *n, mode_t m, dev_t r), (req, p, n, m, r))
NAMED(mkdir, (fuse_req_t req, fuse_ino_t p, const char *n, mode_t m), (req, p, n, m))
NAMED(unlink, (fuse_req_t req, fuse_ino_t p, const char *n), (req, p, n))
NAMED(rmdir, (fuse_req_t req, fuse_ino_t p, const char *n), (req, p, n))
NAMED(symlink, (fuse_req_t req, const char *l, fuse_ino_t p, const char *n), (req, l, p, n))
NAMED(rename, (fuse_req_t req, fuse_ino_t p, const char *n, fuse_ino_t np, const char *nn,
	       unsigned int f), (req, p, n, np, nn, f))
NAMED(link, (fuse_req_t req, fuse_ino_t i, fuse_ino_t np, const char *nn), (req, i, np, nn))
NAMED(open, (fuse_req_t req, fuse_ino_t i, struct fuse_file_info *fi), (req, i, fi))
NAMED(read, (fuse_req_t req, fuse_ino_t i, size_t n, off_t o, struct fuse_file_info *fi),
      (req, i, n, o, fi))
NAMED(write, (fuse_req_t req, fuse_ino_t i, const char *b, size_t n, off_t o,
	      struct fuse_file_info *fi), (req, i, b, n, o, fi))
NAMED(flush, (fuse_req_t req, fuse_ino_t i, struct fuse_file_info *fi), (req, i, fi))
NAMED(release, (fuse_req_t req, fuse_ino_t i, struct fuse_file_info *fi), (req, i, fi))
NAMED(fsync, (fuse_req_t req, fuse_ino_t i, int d, struct fuse_file_info *fi), (req, i, d, fi))
NAMED(opendir, (fuse_req_t req, fuse_ino_t i, struct fuse_file_info *fi), (req, i, fi))
NAMED(readdir, (fuse_req_t req, fuse_ino_t i, size_t n, off_t o, struct fuse_file_info *fi),
      (req, i, n, o, fi))
NAMED(readdirplus, (fuse_req_t req, fuse_ino_t i, size_t n, off_t o, struct fuse_file_info *fi),
      (req, i, n, o, fi))
NAMED(releasedir, (fuse_req_t req, fuse_ino_t i, struct fuse_file_info *fi), (req, i, fi))
NAMED(fsyncdir, (fuse_req_t req, fuse_ino_t i, int d, struct fuse_file_info *fi), (req, i, d, fi))
NAMED(statfs, (fuse_req_t req, fuse_ino_t i), (req, i))
NAMED(setxattr, (fuse_req_t req, fuse_ino_t i, const char *n, const char *v, size_t z, int f),
      (req, i, n, v, z, f))
NAMED(getxattr, (fuse_req_t req, fuse_ino_t i, const char *n, size_t z), (req, i, n, z))
NAMED(listxattr, (fuse_req_t req, fuse_ino_t i, size_t z), (req, i, z))
NAMED(removexattr, (fuse_req_t req, fuse_ino_t i, const char *n), (req, i, n))
NAMED(create, (fuse_req_t req, fuse_ino_t p, const char *n, mode_t m, struct fuse_file_info *fi),
      (req, p, n, m, fi))

static const struct fuse_lowlevel_ops ops = {
	.init = op_init,
	.lookup = t_lookup,
	.forget = t_forget,
	.forget_multi = t_forget_multi,
	.getattr = t_getattr,
	.setattr = t_setattr,
	.readlink = t_readlink,
	.mknod = t_mknod,
	.mkdir = t_mkdir,
	.unlink = t_unlink,
	.rmdir = t_rmdir,
	.symlink = t_symlink,
	.rename = t_rename,
	.link = t_link,
	.open = t_open,
	.read = t_read,
	.write = t_write,
	.flush = t_flush,
	.release = t_release,
	.fsync = t_fsync,
	.opendir = t_opendir,
	.readdir = t_readdir,
	.readdirplus = t_readdirplus,
	.releasedir = t_releasedir,
	.fsyncdir = t_fsyncdir,
	.statfs = t_statfs,
	.setxattr = t_setxattr,
	.getxattr = t_getxattr,
	.listxattr = t_listxattr,
	.removexattr = t_removexattr,
	.create = t_create,
};

/* ---- mount and unmount ---- */

/*
 * The session loop: libfuse's multi-threaded loop, but ours, for one
 * reason. libfuse 3.14 (Debian 12's) has no tmpfile operation and answers
 * the kernel's FUSE_TMPFILE (Linux 6.1+) with ENOSYS, after which the
 * kernel answers every open(O_TMPFILE) with EOPNOTSUPP. A FUSE_TMPFILE
 * request carries exactly CREATE's body (fuse_create_in, then the name:
 * "/" for a tmpfile, vfs_tmpfile's, which no real name can be) and wants
 * exactly CREATE's reply, so the loop hands it to libfuse as a CREATE and
 * op_create knows it by that name. (libfuse 3.17 has the operation; with
 * it this becomes .tmpfile.)
 *
 * Threads as in libfuse's loop: a thread that takes a request when no
 * other is idle starts another, up to m->max_threads; one that finishes a
 * request while m->max_idle others are idle ends. Cancellation is enabled
 * only while a thread is blocked reading /dev/fuse: when the session ends
 * (ENODEV once unmounted), loop_main cancels the readers and joins every
 * thread, never one in the middle of a request.
 */
#define LOOP_THREADS 64
#define LOOP_IDLE 16

struct loop;

struct loop_thread {
	pthread_t id;
	struct loop *l;
	int ended;                /* guarded by l->lock */
	int idle;                 /* counted in l->idle (reading, or about to); l->lock */
	struct loop_thread *next; /* guarded by l->lock */
};

struct loop {
	struct mount *m;
	pthread_mutex_t lock;
	pthread_cond_t changed;   /* a thread ended */
	struct loop_thread *threads;
	int idle, count, error;   /* guarded by lock */
};

static int loop_spawn(struct loop *l);

/* A FUSE_TMPFILE request, as the CREATE it is (see above). libfuse's
 * read buffer is never smaller than the kernel's minimum
 * (FUSE_MIN_READ_BUFFER, 8 KiB), far more than such a request. */
static void tmpfile_as_create(struct fuse_buf *b)
{
	const size_t cap = 8192;
	struct fuse_in_header *in = b->mem;
	size_t body = sizeof(*in) + sizeof(struct fuse_create_in);
	if ((b->flags & FUSE_BUF_IS_FD) || b->size < sizeof(*in) || in->opcode != FUSE_TMPFILE)
		return;
	if (in->len < body + 2 && body + 2 <= cap) { /* no name given: "/" */
		memcpy((char *)b->mem + body, "/", 2);
		in->len = (uint32_t)(body + 2);
		b->size = in->len;
	}
	in->opcode = FUSE_CREATE;
}

static void buf_free(void *p)
{
	free(((struct fuse_buf *)p)->mem);
}

static void *loop_thread_main(void *arg)
{
	struct loop_thread *t = arg;
	struct loop *l = t->l;
	struct fuse_session *se = l->m->se;
	struct fuse_buf fbuf = { .mem = NULL };
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	pthread_cleanup_push(buf_free, &fbuf);
	while (!fuse_session_exited(se)) {
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
		int res = fuse_session_receive_buf(se, &fbuf);
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		if (res == -EINTR || res == -EAGAIN)
			continue;
		if (res <= 0) { /* 0: unmounted (libfuse has exited the session) */
			if (res < 0) {
				LOG(LOG_ERROR, "mount: reading %s's FUSE requests failed: %s",
				    l->m->dir, strerror(-res));
				pthread_mutex_lock(&l->lock);
				l->error = res;
				pthread_mutex_unlock(&l->lock);
				fuse_session_exit(se);
			}
			break;
		}
		pthread_mutex_lock(&l->lock);
		t->idle = 0;
		if (--l->idle == 0 && l->count < l->m->max_threads)
			loop_spawn(l);
		pthread_mutex_unlock(&l->lock);
		tmpfile_as_create(&fbuf);
		fuse_session_process_buf(se, &fbuf);
		/* Back to reading, unless max_idle others already are. A thread
		 * that ends is no longer counted from this moment: counted, it
		 * would let another end on its account, and a burst of ends could
		 * leave no thread reading the device. */
		pthread_mutex_lock(&l->lock);
		t->idle = l->idle < l->m->max_idle;
		l->idle += t->idle;
		int done = !t->idle;
		pthread_mutex_unlock(&l->lock);
		if (done)
			break;
	}
	pthread_cleanup_pop(1);
	pthread_mutex_lock(&l->lock);
	t->ended = 1;
	l->idle -= t->idle;
	pthread_cond_signal(&l->changed);
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

/* One more thread (l->lock held). Signals go to the daemon's own threads. */
static int loop_spawn(struct loop *l)
{
	struct loop_thread *t = calloc(1, sizeof(*t));
	sigset_t all, old;
	if (!t)
		return -1;
	t->l = l;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&t->id, NULL, loop_thread_main, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		free(t);
		return -1;
	}
	pthread_setname_np(t->id, "atr-fuse");
	t->next = l->threads;
	l->threads = t;
	t->idle = 1;
	l->count++;
	l->idle++;
	return 0;
}

static void *loop_main(void *arg)
{
	struct mount *m = arg;
	struct loop l = { .m = m };
	pthread_mutex_init(&l.lock, NULL);
	pthread_cond_init(&l.changed, NULL);
	pthread_mutex_lock(&l.lock);
	if (loop_spawn(&l))
		fuse_session_exit(m->se);
	/* Threads that ended (idle ones) are joined as they go; once the
	 * session is over, the rest are cancelled in their read. */
	for (;;) {
		/* From the head again after each join: threads may end (and
		 * signal no one) while the lock is released for it. */
		for (struct loop_thread **pp = &l.threads; *pp;) {
			struct loop_thread *t = *pp;
			if (!t->ended) {
				pp = &t->next;
				continue;
			}
			*pp = t->next;
			pthread_mutex_unlock(&l.lock);
			pthread_join(t->id, NULL);
			free(t);
			pthread_mutex_lock(&l.lock);
			l.count--;
			pp = &l.threads;
		}
		if (fuse_session_exited(m->se) || !l.count)
			break;
		pthread_cond_wait(&l.changed, &l.lock);
	}
	for (struct loop_thread *t = l.threads; t; t = t->next)
		if (!t->ended)
			pthread_cancel(t->id);
	while (l.threads) {
		struct loop_thread *t = l.threads;
		l.threads = t->next;
		pthread_mutex_unlock(&l.lock);
		pthread_join(t->id, NULL);
		free(t);
		pthread_mutex_lock(&l.lock);
	}
	pthread_mutex_unlock(&l.lock);
	__atomic_store_n(&m->loop_ended, 1, __ATOMIC_RELEASE);
	if (l.error && !__atomic_load_n(&m->stopping, __ATOMIC_RELAXED))
		LOG(LOG_ERROR, "mount: the FUSE session at %s ended: %s", m->dir, strerror(-l.error));
	pthread_cond_destroy(&l.changed);
	pthread_mutex_destroy(&l.lock);
	return NULL;
}

/*
 * The kernel caps a FUSE mount's readahead at 128 KiB (the min of its
 * default and max_readahead), so sequential reads come as 128 KiB
 * requests. Raising the mount's bdi readahead to MAX_WRITE (root only;
 * best effort) lets them come 1 MiB at a time. The stat is answered by
 * the session, so the loop must be running.
 */
static void tune_readahead(const char *dir)
{
	struct stat st;
	char path[128];
	if (geteuid() != 0 || stat(dir, &st))
		return;
	snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb", major(st.st_dev),
		 minor(st.st_dev));
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "%u\n", MAX_WRITE / 1024);
	if (fclose(f))
		LOG(LOG_DEBUG, "mount: cannot set %s", path);
}

/* A mount whose daemon died answers ENOTCONN (statfs always asks the
 * daemon; a stat of the mount's root may be answered from the kernel's
 * cache): detach it. */
static void clear_stale(const char *dir)
{
	struct statvfs sv;
	if (statvfs(dir, &sv) == 0 || errno != ENOTCONN)
		return;
	LOG(LOG_WARN, "mount: %s is a stale mount (a previous atriumd died): detaching it", dir);
	if (umount2(dir, MNT_DETACH))
		LOG(LOG_ERROR, "mount: cannot detach %s: %s", dir, strerror(errno));
}

/*
 * Splits the options of the request loop itself (libfuse's names from
 * fuse_loop_config: max_threads=N, max_idle_threads=N) out of options;
 * the rest go to the kernel. -1 (logged) on a bad value or too long a list.
 */
static int loop_options(struct mount *m, const char *options, char *rest, size_t cap)
{
	static const struct { const char *name; size_t off; } knobs[] = {
		{ "max_threads=", offsetof(struct mount, max_threads) },
		{ "max_idle_threads=", offsetof(struct mount, max_idle) },
	};
	size_t used = 0;
	m->max_threads = LOOP_THREADS;
	m->max_idle = LOOP_IDLE;
	rest[0] = '\0';
	for (const char *p = options ? options : ""; *p;) {
		size_t len = strcspn(p, ",");
		size_t k = 0;
		while (k < sizeof(knobs) / sizeof(knobs[0]) &&
		       strncmp(p, knobs[k].name, strlen(knobs[k].name)))
			k++;
		if (k < sizeof(knobs) / sizeof(knobs[0])) {
			size_t nlen = strlen(knobs[k].name);
			char num[16], *end;
			long v = -1;
			if (len - nlen < sizeof(num)) {
				memcpy(num, p + nlen, len - nlen);
				num[len - nlen] = '\0';
				errno = 0;
				v = strtol(num, &end, 10);
				if (errno || end == num || *end)
					v = -1;
			}
			if (v < 1 || v > 1024) {
				LOG(LOG_ERROR, "mount: %.*s: a number of threads from 1 to 1024 is expected",
				    (int)len, p);
				return -1;
			}
			*(int *)((char *)m + knobs[k].off) = (int)v;
		} else if (len) {
			if (used + len + 2 > cap) {
				LOG(LOG_ERROR, "mount: the mount options are too long");
				return -1;
			}
			if (used)
				rest[used++] = ',';
			memcpy(rest + used, p, len);
			rest[used += len] = '\0';
		}
		p += len + (p[len] == ',');
	}
	if (m->max_idle > m->max_threads)
		m->max_idle = m->max_threads;
	return 0;
}

struct mount *mount_start(struct atr_core *core, const char *dir, const char *options,
			  mount_observe_fn observe, void *observe_arg)
{
	struct mount *m = calloc(1, sizeof(*m));
	if (!m || !(m->dir = strdup(dir))) {
		free(m);
		return NULL;
	}
	m->core = core;
	m->wake_fd = -1;
	m->observe = observe;
	m->observe_arg = observe_arg;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->more, NULL);
	pthread_cond_init(&m->done, NULL);
	pthread_mutex_init(&m->hlock, NULL);
	pthread_rwlockattr_t ra;
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&m->lookups, &ra);
	pthread_rwlockattr_destroy(&ra);
	m->epoch_notify = 1;
	clear_stale(dir);
	if (mkdir(dir, 0755) && errno != EEXIST) {
		LOG(LOG_ERROR, "mount: cannot create %s: %s", dir, strerror(errno));
		goto fail;
	}
	char rest[960], opts[1024];
	if (loop_options(m, options, rest, sizeof(rest)))
		goto fail;
	snprintf(opts, sizeof(opts), "fsname=atrium,subtype=atrium%s%s%s",
		 geteuid() == 0 ? ",allow_other,default_permissions" : ",default_permissions",
		 *rest ? "," : "", rest);
	char *argv[] = { (char *)"atriumd", (char *)"-o", opts, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	m->se = fuse_session_new(&args, &ops, sizeof(ops), m);
	fuse_opt_free_args(&args);
	if (!m->se) {
		LOG(LOG_ERROR, "mount: bad mount options: %s", opts);
		goto fail;
	}
	if (fuse_session_mount(m->se, dir)) {
		LOG(LOG_ERROR, "mount: cannot mount at %s", dir);
		fuse_session_destroy(m->se);
		m->se = NULL;
		goto fail;
	}
	if (pthread_create(&m->worker, NULL, worker_main, m))
		goto fail;
	pthread_setname_np(m->worker, "atr-inval");
	m->worker_started = 1;
	atr_core_watch(core, &watch_ops, m);
	if (pthread_create(&m->loop, NULL, loop_main, m))
		goto fail;
	m->loop_started = 1;
	tune_readahead(dir);
	LOG(LOG_INFO, "mount: the namespace is mounted at %s", dir);
	return m;
fail:
	mount_stop(m);
	return NULL;
}

int mount_writers(struct mount *m)
{
	int n = 0;
	if (!m)
		return 0;
	pthread_mutex_lock(&m->hlock);
	for (struct handle *h = m->handles; h; h = h->next)
		n += h->writer;
	pthread_mutex_unlock(&m->hlock);
	return n;
}

int mount_alive(struct mount *m)
{
	return m && !__atomic_load_n(&m->loop_ended, __ATOMIC_ACQUIRE);
}

/* Commits what every file still open for writing holds (the stop's
 * deadline came first): its writer loses only what it writes after. The
 * list lock keeps each handle from being released under us; flushing
 * takes only the inode's own locks, never hlock. */
static int flush_writers(struct mount *m)
{
	int n = 0;
	pthread_mutex_lock(&m->hlock);
	for (struct handle *h = m->handles; h; h = h->next) {
		if (!h->writer)
			continue;
		int rc = atr_file_flush(((struct fh *)h)->f);
		if (rc)
			LOG(LOG_ERROR, "mount: committing a file still open at the stop: %s",
			    atr_strerror(rc));
		n++;
	}
	pthread_mutex_unlock(&m->hlock);
	return n;
}

/* Whether the kernel has ended the session's connection (the mount's last
 * reference went, or it was aborted): /dev/fuse then polls POLLERR. */
static int connection_ended(struct fuse_session *se)
{
	struct pollfd p = { .fd = fuse_session_fd(se), .events = 0 };
	return poll(&p, 1, 0) == 1 && (p.revents & POLLERR);
}

/* After fuse_session_exit the workers still block reading /dev/fuse: one
 * request wakes one, which answers, sees the session exited, and the loop
 * ends. A statfs always reaches us: through the detached copy of the mount
 * (m->wake_fd) once the mount itself is gone, else through its path. It
 * may stay unanswered if the loop ends first: end_connection then aborts
 * the connection and it returns ENOTCONN, so it runs on a thread of its
 * own, joined after that. */
static void *wake_loop(void *arg)
{
	struct mount *m = arg;
	struct statfs sf;
	struct statvfs sv;
	if (m->wake_fd >= 0)
		fstatfs(m->wake_fd, &sf);
	else
		statvfs(m->dir, &sv);
	return NULL;
}

/*
 * Ends a connection the loop no longer serves by replacing /dev/fuse,
 * under the same descriptor number, with the write end of a pipe nobody
 * reads. Dropping the device's last descriptor aborts the connection
 * (whatever still has something open in the mount gets ENOTCONN), and
 * libfuse's unmount then polls POLLERR there, takes the session for ended
 * and only closes the descriptor: it does not try to unmount again (and
 * log "Invalid argument").
 */
static void end_connection(struct fuse_session *se)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return;
	close(p[0]);
	if (dup3(p[1], fuse_session_fd(se), O_CLOEXEC) < 0)
		LOG(LOG_ERROR, "mount: cannot end the FUSE connection: %s", strerror(errno));
	close(p[1]);
}

/*
 * Unmounts as root: a plain umount2 while the session still serves (the
 * kernel writes back and forgets through it), lazily — logged — only if
 * something holds the mount. First a detached copy of the mount is made
 * (open_tree): it does not make the mount busy, but it keeps the
 * superblock, and so a way to wake the session, whoever else still holds
 * it: a process that unshared its mounts while ours was there (systemd's
 * PrivateTmp services, containers) keeps a copy the kernel would otherwise
 * end the session for only when it goes.
 */
static void unmount_root(struct mount *m)
{
	m->wake_fd = open_tree(AT_FDCWD, m->dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (!umount2(m->dir, 0)) {
		LOG(LOG_INFO, "mount: unmounted %s", m->dir);
		return;
	}
	int e = errno, open_handles = 0;
	pthread_mutex_lock(&m->hlock);
	for (struct handle *h = m->handles; h; h = h->next)
		open_handles++;
	pthread_mutex_unlock(&m->hlock);
	LOG(LOG_WARN, "mount: cannot unmount %s cleanly (%s; %d files or directories open): "
	    "detaching it lazily; whatever still has something open there gets ENOTCONN",
	    m->dir, strerror(e), open_handles);
	if (umount2(m->dir, MNT_DETACH))
		LOG(LOG_ERROR, "mount: cannot detach %s: %s", m->dir, strerror(errno));
}

void mount_stop(struct mount *m)
{
	pthread_t waker;
	int woke = 0, root = geteuid() == 0;
	if (!m)
		return;
	atr_core_watch(m->core, NULL, NULL);
	pthread_mutex_lock(&m->lock);
	__atomic_store_n(&m->stopping, 1, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&m->more);
	pthread_cond_broadcast(&m->done);
	pthread_mutex_unlock(&m->lock);
	if (m->se && m->loop_started) {
		int n = flush_writers(m);
		if (n)
			LOG(LOG_WARN, "mount: committed %d file(s) still open for writing at the stop", n);
		if (root)
			unmount_root(m);
		/* Not root: fusermount3 unmounts below, once the loop is over. */
		fuse_session_exit(m->se);
		if (!connection_ended(m->se))
			woke = !pthread_create(&waker, NULL, wake_loop, m);
	}
	if (m->loop_started)
		pthread_join(m->loop, NULL);
	if (root && m->se && m->loop_started && !connection_ended(m->se))
		end_connection(m->se);
	if (woke)
		pthread_join(waker, NULL);
	if (m->wake_fd >= 0)
		close(m->wake_fd);
	/* Closes /dev/fuse (if end_connection did not already) and, when not
	 * root, unmounts through fusermount3 (lazily, as libfuse does). */
	if (m->se)
		fuse_session_unmount(m->se);
	/* Handles whose release never came: the session is over. */
	while (m->handles) {
		struct handle *h = m->handles;
		m->handles = h->next;
		h->free(h);
	}
	if (m->worker_started)
		pthread_join(m->worker, NULL);
	if (m->se)
		fuse_session_destroy(m->se);
	while (m->head) {
		struct event *e = m->head;
		m->head = e->next;
		free(e);
	}
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->more);
	pthread_cond_destroy(&m->done);
	pthread_rwlock_destroy(&m->lookups);
	pthread_mutex_destroy(&m->hlock);
	free(m->dir);
	free(m);
}
