/* ufs_local — the under-storage as a plain local directory: every capability
 * of src/ufs_int.h (rename(2), link(2), copy_file_range, SEEK_DATA...). */
#include "src/ufs_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/statvfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "common/banned.h"

#define STAGE_DIR ".atrium/tmp"
#define MPU_DIR ".atrium/mpu"

struct ufs_local {
	struct ufs base;
	int rootfd;   /* every path resolves relative to it (openat & co.) */
	int stagefd;  /* DATA/ufs/.atrium/tmp */
	int mpufd;    /* DATA/ufs/.atrium/mpu: <upload>/<part name> */
	char *root;
	unsigned long counter;
	int durable;  /* --durability=power: ufs_local_set_durable */
};

struct ufs_file {
	int fd;
};

struct ufs_stage {
	struct ufs_local *u;
	int fd;
	char name[64];
};

static int err_from_errno(int e)
{
	switch (e) {
	case ENOENT: return ATR_E_NO_KEY;
	case ENOTDIR: return ATR_E_PARENT_IS_OBJECT;
	case EISDIR: return ATR_E_KEY_IS_PREFIX;
	case ENOSPC: return ATR_E_NOSPC;
	case EDQUOT: return ATR_E_QUOTA;
	case EFBIG: return ATR_E_FILE_TOO_BIG;
	case EROFS: return ATR_E_READ_ONLY;
	case EMLINK: return ATR_E_TOO_MANY_LINKS;
	case EBUSY: return ATR_E_BUSY;
	case EMFILE: case ENFILE: return ATR_E_NO_FILES;
	case EACCES: case EPERM: return ATR_E_ACCESS;
	case ENOMEM: return ATR_E_NOMEM;
	case ENAMETOOLONG: return ATR_E_KEY_TOO_LONG;
	case ELOOP: case EXDEV: return ATR_E_ACCESS; /* a symlink in the way: see open_beneath */
	default: return ATR_E_IO;
	}
}

/*
 * Confinement: no request may read or write outside the UFS root. Paths
 * come from validated keys (no "..", no empty segment), but the tree may
 * hold symbolic links planted behind our back (through the mount, or by
 * anyone who can write there), and openat's O_NOFOLLOW covers only the last
 * component. So every path resolves with openat2's RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS: beneath the directory given, through no symlink at
 * all. Opens do it in one call; mkdir, rmdir, unlink and rename resolve the
 * parent directory that way and act on the last component relative to it
 * (never following it), and stat opens the path itself with O_PATH. A path
 * through a symlink reads as missing (ELOOP -> ENOENT) and is refused for
 * writing (ELOOP -> ATR_E_ACCESS). openat2 is Linux 5.6+: ufs_local_new
 * refuses to start without it rather than serve unconfined.
 */
#define UFS_PATH_MAX (ATR_BUCKET_MAX + ATR_KEY_MAX + 64)

static int open_beneath(int dirfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS,
	};
	for (int tries = 0;; tries++) {
		long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
		/* EAGAIN: a concurrent rename left the kernel unsure that
		 * resolution stayed beneath dirfd; it asks for a retry. */
		if (fd >= 0 || errno != EAGAIN || tries == 8)
			return (int)fd;
	}
}

/* Opens the directory holding path's last component, beneath dirfd and
 * through no symlink, and points *last at that component. Returns its fd
 * (dirfd itself for a one-component path: release with parent_close), or
 * -1 with errno set. */
static int parent_open(int dirfd, const char *path, const char **last)
{
	char dir[UFS_PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash) {
		*last = path;
		return dirfd;
	}
	size_t n = (size_t)(slash - path);
	if (n >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, n);
	dir[n] = '\0';
	*last = slash + 1;
	return open_beneath(dirfd, dir, O_PATH | O_DIRECTORY);
}

static void parent_close(int dirfd, int fd)
{
	if (fd >= 0 && fd != dirfd)
		close(fd);
}

/*
 * --durability=power (docs/reliability.md): what a change wrote is synced
 * before it is acknowledged. A stage's bytes are synced before it is
 * renamed into place (stage_prepare, part_commit), so no name ever points
 * at bytes a power loss can take; a directory whose entries changed is
 * synced after the change. A directory sync that fails after its change
 * was made is logged, not returned: the change happened and is answered
 * for by the caller's protocol, and an error would have it undone or
 * redone as if it had not. Directory fds here are O_PATH, which fsync
 * refuses, so the directory is opened again through them.
 */
static void dir_sync(const struct ufs_local *l, int dfd, const char *what)
{
	if (!l->durable)
		return;
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd))
		LOG(LOG_ERROR, "ufs: sync of the directory of %s: %s", what, strerror(errno));
	if (fd >= 0)
		close(fd);
}

static int data_sync(const struct ufs_local *l, int fd)
{
	return l->durable && fdatasync(fd) ? err_from_errno(errno) : ATR_OK;
}

static void fill_stat(const struct stat *sb, struct ufs_stat *st)
{
	st->is_dir = S_ISDIR(sb->st_mode);
	st->is_reg = S_ISREG(sb->st_mode);
	st->size = (uint64_t)sb->st_size;
	st->mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
	st->mode = sb->st_mode & 07777;
	st->uid = sb->st_uid;
	st->dev = sb->st_dev;
	st->ino = sb->st_ino;
}

static struct ufs_local *L(struct ufs *u) { return (struct ufs_local *)u; }

static int l_stat(struct ufs *u, const char *path, struct ufs_stat *st)
{
	struct stat sb;
	/* O_PATH | O_NOFOLLOW opens a symlink in last place as itself, so it
	 * stats as a symlink (lstat), never as its target. */
	int fd = open_beneath(L(u)->rootfd, path, O_PATH | O_NOFOLLOW);
	if (fd < 0)
		return err_from_errno(errno == ELOOP ? ENOENT : errno);
	int rc = fstat(fd, &sb) ? err_from_errno(errno) : ATR_OK;
	close(fd);
	if (rc == ATR_OK)
		fill_stat(&sb, st);
	return rc;
}

static int l_open(struct ufs *u, const char *path, struct ufs_file **out, struct ufs_stat *st)
{
	int fd = open_beneath(L(u)->rootfd, path, O_RDONLY | O_NOFOLLOW);
	if (fd < 0)
		return err_from_errno(errno == ELOOP ? ENOENT : errno);
	struct stat sb;
	struct ufs_file *f = malloc(sizeof(*f));
	if (!f || fstat(fd, &sb)) {
		int e = f ? errno : ENOMEM;
		free(f);
		close(fd);
		return err_from_errno(e);
	}
	fill_stat(&sb, st);
	f->fd = fd;
	*out = f;
	return ATR_OK;
}

static ssize_t l_pread(struct ufs *u, struct ufs_file *f, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(f->fd, (char *)buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static void l_close(struct ufs *u, struct ufs_file *f)
{
	if (f) {
		close(f->fd);
		free(f);
	}
}

static int l_mkdir(struct ufs *u, const char *path)
{
	const char *last;
	int rootfd = L(u)->rootfd, rc = ATR_OK;
	int dfd = parent_open(rootfd, path, &last);
	if (dfd < 0)
		return err_from_errno(errno);
	if (mkdirat(dfd, last, 0700)) {
		int e = errno;
		struct stat sb;
		if (e != EEXIST)
			rc = err_from_errno(e);
		else if (fstatat(dfd, last, &sb, AT_SYMLINK_NOFOLLOW) || !S_ISDIR(sb.st_mode))
			rc = ATR_E_PARENT_IS_OBJECT;
	} else {
		dir_sync(L(u), dfd, path);
	}
	parent_close(rootfd, dfd);
	return rc;
}

/* unlinkat of path's last component, in its parent opened beneath
 * rootfd, the parent then synced for l (NULL: not synced, a part area's
 * removal); 0 or -1 with errno. */
static int unlink_beneath(int rootfd, const char *path, int flags, const struct ufs_local *l)
{
	const char *last;
	int dfd = parent_open(rootfd, path, &last);
	if (dfd < 0)
		return -1;
	int rc = unlinkat(dfd, last, flags), e = errno;
	if (!rc && l)
		dir_sync(l, dfd, path);
	parent_close(rootfd, dfd);
	errno = e;
	return rc;
}

static int l_rmdir(struct ufs *u, const char *path)
{
	if (!unlink_beneath(L(u)->rootfd, path, AT_REMOVEDIR, L(u)) || errno == ENOENT)
		return ATR_OK;
	if (errno == ENOTEMPTY || errno == EEXIST)
		return ATR_E_BUCKET_NOT_EMPTY;
	return err_from_errno(errno);
}

static int l_unlink(struct ufs *u, const char *path)
{
	if (!unlink_beneath(L(u)->rootfd, path, 0, L(u)) || errno == ENOENT)
		return ATR_OK;
	return err_from_errno(errno);
}

static int readdir_at(int atfd, const char *path, ufs_dirent_cb cb, void *arg)
{
	int fd = open_beneath(atfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (fd < 0)
		return err_from_errno(errno == ELOOP ? ENOENT : errno);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return err_from_errno(errno);
	}
	int rc = ATR_OK;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat sb;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW))
			continue; /* vanished meanwhile */
		struct ufs_stat st;
		fill_stat(&sb, &st);
		if (cb(arg, de->d_name, &st))
			break;
	}
	closedir(d);
	return rc;
}

static int l_readdir(struct ufs *u, const char *path, ufs_dirent_cb cb, void *arg)
{
	return readdir_at(L(u)->rootfd, *path ? path : ".", cb, arg);
}

static int l_stage_open(struct ufs *u, struct ufs_stage **out)
{
	struct ufs_local *l = L(u);
	struct ufs_stage *s = calloc(1, sizeof(*s));
	if (!s)
		return ATR_E_NOMEM;
	s->u = l;
	for (int tries = 0; tries < 100; tries++) {
		unsigned long n = __atomic_add_fetch(&l->counter, 1, __ATOMIC_RELAXED);
		snprintf(s->name, sizeof(s->name), "put-%d-%lu", (int)getpid(), n);
		s->fd = openat(l->stagefd, s->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (s->fd >= 0) {
			*out = s;
			return ATR_OK;
		}
		if (errno != EEXIST)
			break;
	}
	int e = errno;
	free(s);
	return err_from_errno(e);
}

static int l_stage_write(struct ufs *u, struct ufs_stage *s, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(s->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_from_errno(errno);
		p += n;
		len -= (size_t)n;
	}
	return ATR_OK;
}

static int l_stage_pwrite(struct ufs *u, struct ufs_stage *s, const void *buf, size_t len,
			  uint64_t off)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = pwrite(s->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_from_errno(errno);
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return ATR_OK;
}

static ssize_t l_stage_pread(struct ufs *u, struct ufs_stage *s, void *buf, size_t len,
			     uint64_t off)
{
	ssize_t n;
	do
		n = pread(s->fd, buf, len, (off_t)off);
	while (n < 0 && errno == EINTR);
	return n;
}

static int l_stage_truncate(struct ufs *u, struct ufs_stage *s, uint64_t size)
{
	return ftruncate(s->fd, (off_t)size) ? err_from_errno(errno) : ATR_OK;
}

static int l_utimens(struct ufs *u, const char *path, int64_t atime_ns, int64_t mtime_ns,
		     struct ufs_stat *st)
{
	int fd = open_beneath(L(u)->rootfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_from_errno(errno);
	struct timespec ts[2] = {
		{ .tv_sec = atime_ns / 1000000000, .tv_nsec = atime_ns % 1000000000 },
		{ .tv_sec = mtime_ns / 1000000000, .tv_nsec = mtime_ns % 1000000000 },
	};
	struct stat sb;
	int rc = futimens(fd, ts) || fstat(fd, &sb) ? err_from_errno(errno) : ATR_OK;
	if (!rc)
		fill_stat(&sb, st);
	close(fd);
	return rc;
}

static int l_stage_set_mtime(struct ufs *u, struct ufs_stage *s, int64_t mtime_ns)
{
	struct timespec ts[2] = {
		{ .tv_nsec = UTIME_OMIT },
		{ .tv_sec = mtime_ns / 1000000000, .tv_nsec = mtime_ns % 1000000000 },
	};
	return futimens(s->fd, ts) ? err_from_errno(errno) : ATR_OK;
}

static int l_next_data(struct ufs *u, struct ufs_file *f, uint64_t off, uint64_t *data,
		       uint64_t *end)
{
	off_t d = lseek(f->fd, (off_t)off, SEEK_DATA);
	if (d < 0 && errno == ENXIO) {
		*data = *end = UINT64_MAX; /* only a hole is left */
		return ATR_OK;
	}
	off_t h = d < 0 ? -1 : lseek(f->fd, d, SEEK_HOLE);
	if (h < 0)
		return err_from_errno(errno);
	*data = (uint64_t)d;
	*end = (uint64_t)h;
	return ATR_OK;
}

static int l_statfs(struct ufs *u, struct statvfs *out)
{
	return fstatvfs(L(u)->rootfd, out) ? err_from_errno(errno) : ATR_OK;
}

static void l_stage_abort(struct ufs *u, struct ufs_stage *s)
{
	if (!s)
		return;
	close(s->fd);
	unlinkat(s->u->stagefd, s->name, 0);
	free(s);
}

/* Releases s; its file stays in the staging area under its name. */
static void l_stage_keep(struct ufs *u, struct ufs_stage *s)
{
	close(s->fd);
	free(s);
}

/* A failure leaves s as it was, the caller's. */
static int l_stage_commit(struct ufs *u, struct ufs_stage *s, const char *path, struct ufs_stat *st)
{
	struct stat sb;
	if (fstat(s->fd, &sb))
		return err_from_errno(errno);
	const char *last;
	int rootfd = s->u->rootfd;
	int dfd = parent_open(rootfd, path, &last);
	if (dfd < 0 || renameat(s->u->stagefd, s->name, dfd, last)) {
		int e = errno;
		parent_close(rootfd, dfd);
		/* Renaming a file over a directory fails with EISDIR (or
		 * ENOTEMPTY/EEXIST); a file in the way of a parent, ENOTDIR. */
		return err_from_errno(e == ENOTEMPTY || e == EEXIST ? EISDIR : e);
	}
	dir_sync(s->u, dfd, path);
	parent_close(rootfd, dfd);
	fill_stat(&sb, st);
	l_stage_keep(u, s);
	return ATR_OK;
}

static int l_stage_prepare(struct ufs *u, struct ufs_stage *s, char *name, size_t size,
			   struct ufs_stat *st)
{
	struct stat sb;
	int rc = data_sync(s->u, s->fd);
	if (rc)
		return rc;
	if (fstat(s->fd, &sb))
		return err_from_errno(errno);
	fill_stat(&sb, st);
	snprintf(name, size, "%s", s->name);
	return ATR_OK;
}

static int segment_ok(const char *s);

static int l_stage_recover(struct ufs *u, const char *name, const char *path)
{
	struct ufs_local *l = L(u);
	const char *last;
	if (!segment_ok(name))
		return ATR_E_INVALID_ARG;
	struct stat sb;
	if (fstatat(l->stagefd, name, &sb, AT_SYMLINK_NOFOLLOW))
		return err_from_errno(errno); /* ATR_E_NO_KEY: no such stage */
	int dfd = parent_open(l->rootfd, path, &last);
	int rc = ATR_OK;
	if (dfd < 0 || renameat(l->stagefd, name, dfd, last))
		rc = errno == ENOENT ? ATR_E_PARENT_IS_OBJECT : err_from_errno(errno);
	else
		dir_sync(l, dfd, path);
	parent_close(l->rootfd, dfd);
	return rc;
}

static void clear_stages(int stagefd);

static void l_stage_gc(struct ufs *u)
{
	clear_stages(L(u)->stagefd);
}

/* ---- multipart parts: .atrium/mpu/<upload>/<name> ----
 * Confined like object paths (open_beneath above): mpufd itself was opened
 * beneath the root through no symlink, and every part path resolves beneath
 * it the same way, so an <upload> directory or a part swapped for a symlink
 * is never followed (reads as missing, refused for writing). */

static int segment_ok(const char *s)
{
	return *s && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

static int part_path(char *out, size_t size, const char *upload, const char *name)
{
	if (!segment_ok(upload) || !segment_ok(name) ||
	    (size_t)snprintf(out, size, "%s/%s", upload, name) >= size)
		return ATR_E_INVALID_ARG;
	return ATR_OK;
}

static int l_part_commit(struct ufs *u, struct ufs_stage *s, const char *upload,
			 const char *name, struct ufs_stat *st)
{
	char path[256];
	struct stat sb;
	int dfd = -1, rc = part_path(path, sizeof(path), upload, name);
	if (rc)
		return rc;
	/* mkdirat never follows a symlink named upload (EEXIST); opening it
	 * beneath mpufd refuses one, so the rename lands in a real directory. */
	if ((rc = data_sync(s->u, s->fd)))
		return rc;
	int made = !mkdirat(s->u->mpufd, upload, 0700);
	if ((!made && errno != EEXIST) || fstat(s->fd, &sb) ||
	    (dfd = open_beneath(s->u->mpufd, upload, O_PATH | O_DIRECTORY)) < 0 ||
	    renameat(s->u->stagefd, s->name, dfd, name)) {
		rc = err_from_errno(errno);
		if (dfd >= 0)
			close(dfd);
		return rc; /* s stays the caller's */
	}
	dir_sync(s->u, dfd, name);
	if (made)
		dir_sync(s->u, s->u->mpufd, upload);
	close(dfd);
	fill_stat(&sb, st);
	l_stage_keep(u, s);
	return ATR_OK;
}

/* Plain copy through a small buffer, where copy_file_range cannot go. */
static int copy_rw(int in, uint64_t in_off, int out, uint64_t out_off, uint64_t len)
{
	enum { CHUNK = 64 * 1024 }; /* below malloc's mmap threshold */
	char *buf = malloc(CHUNK);
	int rc = ATR_OK;
	if (!buf)
		return ATR_E_NOMEM;
	while (len > 0 && !rc) {
		ssize_t n = pread(in, buf, len < CHUNK ? (size_t)len : CHUNK, (off_t)in_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n ? err_from_errno(errno) : ATR_E_IO;
			break;
		}
		for (ssize_t done = 0; done < n && !rc;) {
			ssize_t w = pwrite(out, buf + done, (size_t)(n - done), (off_t)(out_off + done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				rc = err_from_errno(errno);
			else
				done += w;
		}
		in_off += (uint64_t)n;
		out_off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	free(buf);
	return rc;
}

/* len bytes of in from in_off to out at out_off: inside the kernel where
 * the file system allows (copy_file_range; a reflink, no copy at all, on
 * btrfs or XFS), else through a small buffer. ATR_E_IO if in is short. */
static int copy_at(int in, uint64_t in_off, int out, uint64_t out_off, uint64_t len)
{
	while (len > 0) {
		loff_t ip = (loff_t)in_off, op = (loff_t)out_off;
		ssize_t n = copy_file_range(in, &ip, out, &op, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
			      errno == EOPNOTSUPP || errno == EBADF))
			return copy_rw(in, in_off, out, out_off, len);
		if (n <= 0)
			return n ? err_from_errno(errno) : ATR_E_IO;
		in_off += (uint64_t)n;
		out_off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return ATR_OK;
}

static int l_stage_append_part(struct ufs *u, struct ufs_stage *s, const char *upload,
			       const char *name, uint64_t off, uint64_t len)
{
	char path[256];
	struct stat sb;
	int rc = part_path(path, sizeof(path), upload, name);
	if (rc)
		return rc;
	int in = open_beneath(s->u->mpufd, path, O_RDONLY | O_NOFOLLOW);
	if (in < 0)
		return err_from_errno(errno == ELOOP ? ENOENT : errno);
	if (fstat(in, &sb) || (uint64_t)sb.st_size < off + len) {
		close(in);
		return ATR_E_IO; /* the part changed behind our back */
	}
	/* Appended at the stage's position (stage_write appends there too). */
	off_t at = lseek(s->fd, 0, SEEK_CUR);
	rc = at < 0 ? err_from_errno(errno) : copy_at(in, off, s->fd, (uint64_t)at, len);
	if (!rc && lseek(s->fd, at + (off_t)len, SEEK_SET) < 0)
		rc = err_from_errno(errno);
	close(in);
	return rc;
}

/* Only the runs of data are copied: a sparse file stays sparse, and
 * copying it costs what it holds, not its size. */
static int l_stage_copy(struct ufs *u, struct ufs_stage *s, struct ufs_file *src, uint64_t off,
			uint64_t len)
{
	struct stat sb;
	off_t base = lseek(s->fd, 0, SEEK_CUR);
	if (base < 0 || fstat(src->fd, &sb))
		return err_from_errno(errno);
	if ((uint64_t)sb.st_size < off + len)
		return ATR_E_IO;
	int rc = ATR_OK;
	for (uint64_t at = off, end = off + len; !rc && at < end;) {
		uint64_t data, hole;
		if (l_next_data(u, src, at, &data, &hole))
			data = at, hole = end;
		if (data >= end)
			break;
		hole = hole > end ? end : hole;
		rc = copy_at(src->fd, data, s->fd, (uint64_t)base + (data - off), hole - data);
		at = hole;
	}
	/* The holes up to the end are a size, not bytes. */
	if (!rc && (fstat(s->fd, &sb) ||
		    ((uint64_t)sb.st_size < (uint64_t)base + len &&
		     ftruncate(s->fd, base + (off_t)len)) ||
		    lseek(s->fd, base + (off_t)len, SEEK_SET) < 0))
		rc = err_from_errno(errno);
	return rc;
}

static int l_part_unlink(struct ufs *u, const char *upload, const char *name)
{
	char path[256];
	int rc = part_path(path, sizeof(path), upload, name);
	if (rc)
		return rc;
	if (!unlink_beneath(L(u)->mpufd, path, 0, NULL) || errno == ENOENT)
		return ATR_OK;
	return err_from_errno(errno);
}

static int unlink_part(void *arg, const char *name, const struct ufs_stat *st)
{
	struct ufs_local *l = ((void **)arg)[0];
	const char *upload = ((void **)arg)[1];
	char path[256];
	if (!part_path(path, sizeof(path), upload, name))
		unlink_beneath(l->mpufd, path, 0, NULL);
	return 0;
}

static int l_part_remove_upload(struct ufs *u, const char *upload)
{
	void *arg[2] = { L(u), (void *)upload };
	if (!segment_ok(upload))
		return ATR_E_INVALID_ARG;
	/* Unlinking while reading the directory may hide an entry from
	 * readdir: go over it again until the folder is empty. */
	for (int tries = 0; tries < 4; tries++) {
		int rc = readdir_at(L(u)->mpufd, upload, unlink_part, arg);
		if (rc == ATR_E_NO_KEY)
			return ATR_OK;
		if (rc == ATR_E_PARENT_IS_OBJECT) /* not a directory: a planted link */
			return unlinkat(L(u)->mpufd, upload, 0) && errno != ENOENT
			       ? err_from_errno(errno) : ATR_OK;
		if (rc)
			return rc;
		if (!unlinkat(L(u)->mpufd, upload, AT_REMOVEDIR) || errno == ENOENT)
			return ATR_OK;
		if (errno != ENOTEMPTY && errno != EEXIST)
			break;
	}
	return err_from_errno(errno);
}

static int l_part_readdir(struct ufs *u, const char *upload, ufs_dirent_cb cb, void *arg)
{
	if (upload && !segment_ok(upload))
		return ATR_E_INVALID_ARG;
	return readdir_at(L(u)->mpufd, upload ? upload : ".", cb, arg);
}

static int rename_flags(struct ufs *u, const char *from, const char *to, unsigned flags)
{
	const char *flast, *tlast;
	int rootfd = L(u)->rootfd, rc = ATR_OK;
	int ffd = parent_open(rootfd, from, &flast);
	int tfd = ffd < 0 ? -1 : parent_open(rootfd, to, &tlast);
	if (ffd < 0 || tfd < 0 || renameat2(ffd, flast, tfd, tlast, flags)) {
		rc = errno == EEXIST ? ATR_E_EXISTS : err_from_errno(errno);
	} else {
		dir_sync(L(u), tfd, to);
		dir_sync(L(u), ffd, from);
	}
	parent_close(rootfd, tfd);
	parent_close(rootfd, ffd);
	return rc;
}

static int l_rename(struct ufs *u, const char *from, const char *to)
{
	return rename_flags(u, from, to, RENAME_NOREPLACE);
}

static int l_rename_replace(struct ufs *u, const char *from, const char *to)
{
	return rename_flags(u, from, to, 0);
}

static int l_link(struct ufs *u, const char *from, const char *to)
{
	const char *flast, *tlast;
	int rootfd = L(u)->rootfd, rc = ATR_OK;
	int fdfd = parent_open(rootfd, from, &flast);
	int tdfd = fdfd < 0 ? -1 : parent_open(rootfd, to, &tlast);
	/* Flags 0: a symlink at from is linked as itself, never followed. */
	if (fdfd < 0 || tdfd < 0 || linkat(fdfd, flast, tdfd, tlast, 0))
		rc = errno == EEXIST ? ATR_E_EXISTS : err_from_errno(errno);
	else
		dir_sync(L(u), tdfd, to);
	parent_close(rootfd, tdfd);
	parent_close(rootfd, fdfd);
	return rc;
}

static int l_stage_link(struct ufs *u, struct ufs_stage *s, char *name, size_t size)
{
	for (int tries = 0; tries < 100; tries++) {
		unsigned long n = __atomic_add_fetch(&s->u->counter, 1, __ATOMIC_RELAXED);
		snprintf(name, size, "put-%d-%lu", (int)getpid(), n);
		if (!linkat(s->u->stagefd, s->name, s->u->stagefd, name, 0)) {
			dir_sync(s->u, s->u->stagefd, name);
			return ATR_OK;
		}
		if (errno != EEXIST)
			break;
	}
	return err_from_errno(errno);
}

static void l_stage_forget(struct ufs *u, const char *name)
{
	if (segment_ok(name))
		unlinkat(L(u)->stagefd, name, 0);
}

static void l_free(struct ufs *u)
{
	struct ufs_local *l = L(u);
	close(l->mpufd);
	close(l->stagefd);
	close(l->rootfd);
	free(l->root);
	free(l);
}

static const struct ufs_ops local_ops = {
	.version = UFS_VERSION,
	.name = "local",
	.stat = l_stat,
	.open = l_open,
	.pread = l_pread,
	.close = l_close,
	.readdir = l_readdir,
	.mkdir = l_mkdir,
	.rmdir = l_rmdir,
	.unlink = l_unlink,
	.stage_open = l_stage_open,
	.stage_write = l_stage_write,
	.stage_prepare = l_stage_prepare,
	.stage_commit = l_stage_commit,
	.stage_abort = l_stage_abort,
	.stage_keep = l_stage_keep,
	.stage_recover = l_stage_recover,
	.stage_gc = l_stage_gc,
	.free = l_free,
	.rename = l_rename,
	.rename_replace = l_rename_replace,
	.link = l_link,
	.stage_link = l_stage_link,
	.stage_forget = l_stage_forget,
	.stage_copy = l_stage_copy,
	.part_commit = l_part_commit,
	.stage_append_part = l_stage_append_part,
	.part_unlink = l_part_unlink,
	.part_remove_upload = l_part_remove_upload,
	.part_readdir = l_part_readdir,
	.stage_pwrite = l_stage_pwrite,
	.stage_pread = l_stage_pread,
	.stage_truncate = l_stage_truncate,
	.utimens = l_utimens,
	.stage_set_mtime = l_stage_set_mtime,
	.statfs = l_statfs,
	.next_data = l_next_data,
};

/* Stages left behind by a crash are garbage: nothing refers to them. */
static void clear_stages(int stagefd)
{
	int fd = dup(stagefd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    !unlinkat(stagefd, de->d_name, 0))
			n++;
	closedir(d);
	if (n)
		LOG(LOG_INFO, "ufs: removed %d stale staging file(s)", n);
}

void ufs_local_set_durable(struct ufs *u)
{
	L(u)->durable = 1;
}

int ufs_local_new(const char *root, struct ufs **out)
{
	struct ufs_local *l = calloc(1, sizeof(*l));
	if (!l)
		return ATR_E_NOMEM;
	l->base.ops = &local_ops;
	l->base.caps = UFS_CAP_ALL;
	l->rootfd = l->stagefd = l->mpufd = -1;
	if (!(l->root = strdup(root)))
		goto fail;
	if (mkdir(root, 0700) && errno != EEXIST)
		goto fail;
	l->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->rootfd < 0)
		goto fail;
	if ((mkdirat(l->rootfd, ".atrium", 0700) && errno != EEXIST) ||
	    (mkdirat(l->rootfd, STAGE_DIR, 0700) && errno != EEXIST))
		goto fail;
	l->stagefd = open_beneath(l->rootfd, STAGE_DIR, O_RDONLY | O_DIRECTORY);
	if (l->stagefd < 0 && (errno == ENOSYS || errno == EPERM)) {
		LOG(LOG_ERROR, "ufs: openat2 is unavailable (%s): Linux 5.6 or later is needed "
		    "to keep requests inside %s", strerror(errno), root);
		goto fail;
	}
	if (l->stagefd < 0)
		goto fail;
	/* Stages left by a crash are cleared by the core (stage_gc) once it
	 * has carried out the commit intent that may name one of them. */
	/* Parts of multipart uploads outlive restarts: the core removes those
	 * of uploads it has no record of. */
	if ((mkdirat(l->rootfd, MPU_DIR, 0700) && errno != EEXIST) ||
	    (l->mpufd = open_beneath(l->rootfd, MPU_DIR, O_RDONLY | O_DIRECTORY)) < 0)
		goto fail;
	*out = &l->base;
	return ATR_OK;
fail:
	LOG(LOG_ERROR, "ufs: cannot set up %s: %s", root, strerror(errno));
	if (l->stagefd >= 0)
		close(l->stagefd);
	if (l->rootfd >= 0)
		close(l->rootfd);
	free(l->root);
	free(l);
	return ATR_E_IO;
}

/* ---- for the S3 driver, whose private area this driver is ---- */

int ufs_is_local(const struct ufs *u)
{
	return u && u->ops == &local_ops;
}

int ufs_local_stage_fd(struct ufs *u, struct ufs_stage *s)
{
	return ufs_is_local(u) && s ? s->fd : -1;
}

int ufs_local_stage_open(struct ufs *u, const char *name, int *fd)
{
	if (!ufs_is_local(u) || !segment_ok(name))
		return ATR_E_INVALID_ARG;
	int f = openat(L(u)->stagefd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (f < 0)
		return err_from_errno(errno); /* ATR_E_NO_KEY: no such stage */
	*fd = f;
	return ATR_OK;
}
