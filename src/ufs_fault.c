/* ufs_fault — the fault-injecting driver of the tests (src/ufs_fault_int.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "src/ufs_fault_int.h"
#include "common/banned.h"

struct fault {
	struct ufs base;
	struct ufs *in;       /* the wrapped driver; owned */
	pthread_mutex_t lock; /* guards everything below */
	struct ufs_fault_plan plan;
	struct ufs_fault_stats stats;
};

static const char *const op_names[UFS_OP__COUNT] = {
	[UFS_OP_ANY] = "any",
	[UFS_OP_STAT] = "stat",
	[UFS_OP_OPEN] = "open",
	[UFS_OP_PREAD] = "pread",
	[UFS_OP_READDIR] = "readdir",
	[UFS_OP_MKDIR] = "mkdir",
	[UFS_OP_RMDIR] = "rmdir",
	[UFS_OP_UNLINK] = "unlink",
	[UFS_OP_STAGE_OPEN] = "stage_open",
	[UFS_OP_STAGE_WRITE] = "stage_write",
	[UFS_OP_STAGE_PREPARE] = "stage_prepare",
	[UFS_OP_STAGE_COMMIT] = "stage_commit",
	[UFS_OP_STAGE_RECOVER] = "stage_recover",
	[UFS_OP_RENAME] = "rename",
	[UFS_OP_RENAME_REPLACE] = "rename_replace",
	[UFS_OP_LINK] = "link",
	[UFS_OP_STAGE_LINK] = "stage_link",
	[UFS_OP_STAGE_COPY] = "stage_copy",
	[UFS_OP_PART_COMMIT] = "part_commit",
	[UFS_OP_STAGE_APPEND_PART] = "stage_append_part",
	[UFS_OP_PART_UNLINK] = "part_unlink",
	[UFS_OP_PART_REMOVE_UPLOAD] = "part_remove_upload",
	[UFS_OP_PART_READDIR] = "part_readdir",
	[UFS_OP_STAGE_PWRITE] = "stage_pwrite",
	[UFS_OP_STAGE_PREAD] = "stage_pread",
	[UFS_OP_STAGE_TRUNCATE] = "stage_truncate",
	[UFS_OP_UTIMENS] = "utimens",
	[UFS_OP_STAGE_SET_MTIME] = "stage_set_mtime",
	[UFS_OP_STATFS] = "statfs",
	[UFS_OP_NEXT_DATA] = "next_data",
};

const char *ufs_fault_op_name(enum ufs_op k)
{
	return (unsigned)k < UFS_OP__COUNT ? op_names[k] : "?";
}

static struct fault *F(struct ufs *u) { return (struct fault *)u; }

/* The stages handed out wrap the wrapped driver's: a commit that ran but
 * is reported failed (a lost reply) has released the inner one, and the
 * caller, who still owns the stage it heard of, finds it gone. */
struct fstage {
	struct ufs_stage *in; /* NULL: committed behind the caller's back */
};

static struct ufs_stage *S(struct ufs_stage *s) { return ((struct fstage *)s)->in; }

/* One op of kind k arrives: ATR_OK to pass it through, else the error it
 * fails with; *after: run it first all the same. *short_read: a read
 * returns half instead. on_crash, before the op, is called from here. */
static int enter(struct fault *f, enum ufs_op k, int *after, int *short_read)
{
	int rc = ATR_OK, crash_now = 0, counted = 0;
	*after = *short_read = 0;
	pthread_mutex_lock(&f->lock);
	const struct ufs_fault_plan *p = &f->plan;
	int err = p->err ? p->err : ATR_E_IO;
	unsigned long times = p->times ? p->times : 1;
	if (f->stats.crashed) {
		rc = err; /* stopped: nothing passes any more */
	} else if ((counted = p->kind == UFS_OP_ANY || p->kind == k)) {
		unsigned long n = ++f->stats.counted;
		if (p->at && n >= p->at && n - p->at < times) {
			f->stats.fired++;
			rc = err;
			*short_read = p->short_read && (k == UFS_OP_PREAD || k == UFS_OP_STAGE_PREAD);
			*after = p->after && !*short_read;
			if (p->crash && !*short_read) {
				f->stats.crashed = 1;
				crash_now = !*after;
			}
		}
	}
	void (*on_crash)(void *) = p->on_crash;
	void *arg = p->crash_arg;
	void (*trace)(void *, enum ufs_op, unsigned long) = p->trace;
	void *trace_arg = p->trace_arg;
	unsigned long n = f->stats.counted;
	pthread_mutex_unlock(&f->lock);
	if (trace && counted)
		trace(trace_arg, k, n);
	if (crash_now && on_crash)
		on_crash(arg);
	return rc;
}

/* After an op that ran with *after set: the crash, if it is one. */
static int leave(struct fault *f, int injected)
{
	pthread_mutex_lock(&f->lock);
	void (*on_crash)(void *) = f->stats.crashed ? f->plan.on_crash : NULL;
	void *arg = f->plan.crash_arg;
	pthread_mutex_unlock(&f->lock);
	if (on_crash)
		on_crash(arg);
	return injected;
}

/* The body of an op returning int: fails before, runs, or runs and fails. */
#define PASS(k, call) \
	do { \
		int after_, short_; \
		int inj_ = enter(f, k, &after_, &short_); \
		if (inj_ && !after_) \
			return inj_; \
		int rc_ = (call); \
		return inj_ ? leave(f, inj_) : rc_; \
	} while (0)

#define IN (f->in)

static int f_stat(struct ufs *u, const char *path, struct ufs_stat *st)
{
	struct fault *f = F(u);
	PASS(UFS_OP_STAT, IN->ops->stat(IN, path, st));
}

static int f_open(struct ufs *u, const char *path, struct ufs_file **out, struct ufs_stat *st)
{
	struct fault *f = F(u);
	int after, short_read;
	int inj = enter(f, UFS_OP_OPEN, &after, &short_read);
	if (inj && !after)
		return inj;
	struct ufs_file *was = *out;
	int rc = IN->ops->open(IN, path, out, st);
	if (!inj)
		return rc;
	if (!rc)
		IN->ops->close(IN, *out); /* opened, but the caller hears otherwise */
	*out = was;
	return leave(f, inj);
}

/* The body of a read: fails before, runs (on half of len for a short
 * read), or runs and fails. */
#define READ(k, call) \
	do { \
		int after_, short_; \
		int inj_ = enter(f, k, &after_, &short_); \
		if (short_) \
			len = len > 1 ? len / 2 : len; \
		else if (inj_ && !after_) \
			return -1; \
		ssize_t n_ = (call); \
		return inj_ && !short_ ? (leave(f, inj_), -1) : n_; \
	} while (0)

static ssize_t f_pread(struct ufs *u, struct ufs_file *file, void *buf, size_t len, uint64_t off)
{
	struct fault *f = F(u);
	READ(UFS_OP_PREAD, IN->ops->pread(IN, file, buf, len, off));
}

static void f_close(struct ufs *u, struct ufs_file *file)
{
	struct fault *f = F(u);
	IN->ops->close(IN, file);
}

static int f_readdir(struct ufs *u, const char *path, ufs_dirent_cb cb, void *arg)
{
	struct fault *f = F(u);
	PASS(UFS_OP_READDIR, IN->ops->readdir(IN, path, cb, arg));
}

static int f_mkdir(struct ufs *u, const char *path)
{
	struct fault *f = F(u);
	PASS(UFS_OP_MKDIR, IN->ops->mkdir(IN, path));
}

static int f_rmdir(struct ufs *u, const char *path)
{
	struct fault *f = F(u);
	PASS(UFS_OP_RMDIR, IN->ops->rmdir(IN, path));
}

static int f_unlink(struct ufs *u, const char *path)
{
	struct fault *f = F(u);
	PASS(UFS_OP_UNLINK, IN->ops->unlink(IN, path));
}

static int f_stage_open(struct ufs *u, struct ufs_stage **out)
{
	struct fault *f = F(u);
	int after, short_read;
	int inj = enter(f, UFS_OP_STAGE_OPEN, &after, &short_read);
	if (inj && !after)
		return inj;
	struct fstage *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return ATR_E_NOMEM;
	int rc = IN->ops->stage_open(IN, &fs->in);
	if (!rc && inj)
		IN->ops->stage_abort(IN, fs->in); /* made, but the caller hears otherwise */
	if (rc || inj) {
		free(fs);
		return inj ? leave(f, inj) : rc;
	}
	*out = (struct ufs_stage *)fs;
	return ATR_OK;
}

/* The body of an op on a stage: the stage gone is ATR_E_NO_KEY. */
#define PASS_STAGE(k, call) \
	do { \
		if (!S(s)) \
			return ATR_E_NO_KEY; \
		PASS(k, call); \
	} while (0)

static int f_stage_write(struct ufs *u, struct ufs_stage *s, const void *buf, size_t len)
{
	struct fault *f = F(u);
	PASS_STAGE(UFS_OP_STAGE_WRITE, IN->ops->stage_write(IN, S(s), buf, len));
}

static int f_stage_prepare(struct ufs *u, struct ufs_stage *s, char *name, size_t size,
			   struct ufs_stat *st)
{
	struct fault *f = F(u);
	PASS_STAGE(UFS_OP_STAGE_PREPARE, IN->ops->stage_prepare(IN, S(s), name, size, st));
}

/* A commit of the stage (stage_commit, part_commit: commit(in) runs the
 * wrapped one). Failed, it leaves the stage the caller's; run and then
 * failed, it leaves the caller a stage that is gone. */
static int commit_stage(struct fault *f, enum ufs_op k, struct ufs_stage *s,
			int (*commit)(struct fault *f, struct ufs_stage *in, const void *arg),
			const void *arg)
{
	struct fstage *fs = (struct fstage *)s;
	int after, short_read;
	if (!fs->in)
		return ATR_E_NO_KEY;
	int inj = enter(f, k, &after, &short_read);
	if (inj && !after)
		return inj;
	int rc = commit(f, fs->in, arg);
	if (inj) {
		if (!rc)
			fs->in = NULL;
		return leave(f, inj);
	}
	if (!rc)
		free(fs);
	return rc;
}

struct commit_args {
	const char *path, *upload, *name;
	struct ufs_stat *st;
};

static int commit_path(struct fault *f, struct ufs_stage *in, const void *arg)
{
	const struct commit_args *a = arg;
	return IN->ops->stage_commit(IN, in, a->path, a->st);
}

static int f_stage_commit(struct ufs *u, struct ufs_stage *s, const char *path,
			  struct ufs_stat *st)
{
	struct commit_args a = { .path = path, .st = st };
	return commit_stage(F(u), UFS_OP_STAGE_COMMIT, s, commit_path, &a);
}

static void f_stage_abort(struct ufs *u, struct ufs_stage *s)
{
	struct fault *f = F(u);
	if (S(s))
		IN->ops->stage_abort(IN, S(s));
	free(s);
}

static void f_stage_keep(struct ufs *u, struct ufs_stage *s)
{
	struct fault *f = F(u);
	if (S(s))
		IN->ops->stage_keep(IN, S(s));
	free(s);
}

static int f_stage_recover(struct ufs *u, const char *name, const char *path)
{
	struct fault *f = F(u);
	PASS(UFS_OP_STAGE_RECOVER, IN->ops->stage_recover(IN, name, path));
}

static int stopped(struct fault *f)
{
	pthread_mutex_lock(&f->lock);
	int crashed = f->stats.crashed;
	pthread_mutex_unlock(&f->lock);
	return crashed;
}

static void f_stage_gc(struct ufs *u)
{
	struct fault *f = F(u);
	if (!stopped(f))
		IN->ops->stage_gc(IN);
}

static void f_free(struct ufs *u)
{
	struct fault *f = F(u);
	ufs_free(IN);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

static int f_rename(struct ufs *u, const char *from, const char *to)
{
	struct fault *f = F(u);
	PASS(UFS_OP_RENAME, IN->ops->rename(IN, from, to));
}

static int f_rename_replace(struct ufs *u, const char *from, const char *to)
{
	struct fault *f = F(u);
	PASS(UFS_OP_RENAME_REPLACE, IN->ops->rename_replace(IN, from, to));
}

static int f_link(struct ufs *u, const char *from, const char *to)
{
	struct fault *f = F(u);
	PASS(UFS_OP_LINK, IN->ops->link(IN, from, to));
}

static int f_stage_link(struct ufs *u, struct ufs_stage *s, char *name, size_t size)
{
	struct fault *f = F(u);
	PASS_STAGE(UFS_OP_STAGE_LINK, IN->ops->stage_link(IN, S(s), name, size));
}

static void f_stage_forget(struct ufs *u, const char *name)
{
	struct fault *f = F(u);
	if (!stopped(f))
		IN->ops->stage_forget(IN, name);
}

static int f_stage_copy(struct ufs *u, struct ufs_stage *s, struct ufs_file *src, uint64_t off,
			uint64_t len)
{
	struct fault *f = F(u);
	PASS_STAGE(UFS_OP_STAGE_COPY, IN->ops->stage_copy(IN, S(s), src, off, len));
}

static int commit_part(struct fault *f, struct ufs_stage *in, const void *arg)
{
	const struct commit_args *a = arg;
	return IN->ops->part_commit(IN, in, a->upload, a->name, a->st);
}

static int f_part_commit(struct ufs *u, struct ufs_stage *s, const char *upload,
			 const char *name, struct ufs_stat *st)
{
	struct commit_args a = { .upload = upload, .name = name, .st = st };
	return commit_stage(F(u), UFS_OP_PART_COMMIT, s, commit_part, &a);
}

static int f_stage_append_part(struct ufs *u, struct ufs_stage *s, const char *upload,
			       const char *name, uint64_t off, uint64_t len)
{
	struct fault *f = F(u);
	PASS_STAGE(UFS_OP_STAGE_APPEND_PART,
		   IN->ops->stage_append_part(IN, S(s), upload, name, off, len));
}

static int f_part_unlink(struct ufs *u, const char *upload, const char *name)
{
	struct fault *f = F(u);
	PASS(UFS_OP_PART_UNLINK, IN->ops->part_unlink(IN, upload, name));
}

static int f_part_remove_upload(struct ufs *u, const char *upload)
{
	struct fault *f = F(u);
	PASS(UFS_OP_PART_REMOVE_UPLOAD, IN->ops->part_remove_upload(IN, upload));
}

static int f_part_readdir(struct ufs *u, const char *upload, ufs_dirent_cb cb, void *arg)
{
	struct fault *f = F(u);
	PASS(UFS_OP_PART_READDIR, IN->ops->part_readdir(IN, upload, cb, arg));
}

static int f_stage_pwrite(struct ufs *u, struct ufs_stage *s, const void *buf, size_t len,
			  uint64_t off)
{
	struct fault *f = F(u);
	PASS_STAGE(UFS_OP_STAGE_PWRITE, IN->ops->stage_pwrite(IN, S(s), buf, len, off));
}

static ssize_t f_stage_pread(struct ufs *u, struct ufs_stage *s, void *buf, size_t len,
			     uint64_t off)
{
	struct fault *f = F(u);
	if (!S(s))
		return -1;
	READ(UFS_OP_STAGE_PREAD, IN->ops->stage_pread(IN, S(s), buf, len, off));
}

static int f_stage_truncate(struct ufs *u, struct ufs_stage *s, uint64_t size)
{
	struct fault *f = F(u);
	PASS_STAGE(UFS_OP_STAGE_TRUNCATE, IN->ops->stage_truncate(IN, S(s), size));
}

static int f_utimens(struct ufs *u, const char *path, int64_t atime_ns, int64_t mtime_ns,
		     struct ufs_stat *st)
{
	struct fault *f = F(u);
	PASS(UFS_OP_UTIMENS, IN->ops->utimens(IN, path, atime_ns, mtime_ns, st));
}

static int f_stage_set_mtime(struct ufs *u, struct ufs_stage *s, int64_t mtime_ns)
{
	struct fault *f = F(u);
	PASS_STAGE(UFS_OP_STAGE_SET_MTIME, IN->ops->stage_set_mtime(IN, S(s), mtime_ns));
}

static int f_statfs(struct ufs *u, struct statvfs *out)
{
	struct fault *f = F(u);
	PASS(UFS_OP_STATFS, IN->ops->statfs(IN, out));
}

static int f_next_data(struct ufs *u, struct ufs_file *file, uint64_t off, uint64_t *data,
		       uint64_t *end)
{
	struct fault *f = F(u);
	PASS(UFS_OP_NEXT_DATA, IN->ops->next_data(IN, file, off, data, end));
}

static const struct ufs_ops fault_ops = {
	.version = UFS_VERSION,
	.name = "fault",
	.stat = f_stat,
	.open = f_open,
	.pread = f_pread,
	.close = f_close,
	.readdir = f_readdir,
	.mkdir = f_mkdir,
	.rmdir = f_rmdir,
	.unlink = f_unlink,
	.stage_open = f_stage_open,
	.stage_write = f_stage_write,
	.stage_prepare = f_stage_prepare,
	.stage_commit = f_stage_commit,
	.stage_abort = f_stage_abort,
	.stage_keep = f_stage_keep,
	.stage_recover = f_stage_recover,
	.stage_gc = f_stage_gc,
	.free = f_free,
	.rename = f_rename,
	.rename_replace = f_rename_replace,
	.link = f_link,
	.stage_link = f_stage_link,
	.stage_forget = f_stage_forget,
	.stage_copy = f_stage_copy,
	.part_commit = f_part_commit,
	.stage_append_part = f_stage_append_part,
	.part_unlink = f_part_unlink,
	.part_remove_upload = f_part_remove_upload,
	.part_readdir = f_part_readdir,
	.stage_pwrite = f_stage_pwrite,
	.stage_pread = f_stage_pread,
	.stage_truncate = f_stage_truncate,
	.utimens = f_utimens,
	.stage_set_mtime = f_stage_set_mtime,
	.statfs = f_statfs,
	.next_data = f_next_data,
};

int ufs_fault_new(struct ufs *inner, const struct ufs_fault_plan *plan, struct ufs **out)
{
	struct fault *f = calloc(1, sizeof(*f));
	if (!f)
		return ATR_E_NOMEM;
	f->base.ops = &fault_ops;
	f->in = inner;
	pthread_mutex_init(&f->lock, NULL);
	if (plan)
		f->plan = *plan;
	/* Only what the wrapped driver can do, less what the plan hides. */
	f->base.caps = inner->caps & ~(plan ? plan->hide_caps : 0);
	*out = &f->base;
	return ATR_OK;
}

int ufs_fault_set(struct ufs *u, const struct ufs_fault_plan *plan)
{
	if (u->ops != &fault_ops)
		return ATR_E_INVALID_ARG;
	struct fault *f = F(u);
	pthread_mutex_lock(&f->lock);
	unsigned hidden = f->plan.hide_caps;
	memset(&f->plan, 0, sizeof(f->plan));
	if (plan)
		f->plan = *plan;
	f->plan.hide_caps = hidden;
	memset(&f->stats, 0, sizeof(f->stats));
	pthread_mutex_unlock(&f->lock);
	return ATR_OK;
}

void ufs_fault_stats(struct ufs *u, struct ufs_fault_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (u->ops != &fault_ops)
		return;
	struct fault *f = F(u);
	pthread_mutex_lock(&f->lock);
	*out = f->stats;
	pthread_mutex_unlock(&f->lock);
}
