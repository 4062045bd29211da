/* ufs_local — the under-storage as a plain local directory. */
#include "src/ufs_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

#define STAGE_DIR ".atrium/tmp"

struct ufs_local {
	struct ufs base;
	int rootfd;   /* every path resolves relative to it (openat & co.) */
	int stagefd;  /* DATA/ufs/.atrium/tmp */
	char *root;
	unsigned long counter;
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
	case ENOSPC: case EDQUOT: return ATR_E_NOSPC;
	case EACCES: case EPERM: return ATR_E_ACCESS;
	case ENOMEM: return ATR_E_NOMEM;
	case ENAMETOOLONG: return ATR_E_KEY_TOO_LONG;
	default: return ATR_E_IO;
	}
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
	if (fstatat(L(u)->rootfd, path, &sb, AT_SYMLINK_NOFOLLOW))
		return err_from_errno(errno);
	fill_stat(&sb, st);
	return ATR_OK;
}

static int l_open(struct ufs *u, const char *path, struct ufs_file **out, struct ufs_stat *st)
{
	int fd = openat(L(u)->rootfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
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

static ssize_t l_pread(struct ufs_file *f, void *buf, size_t len, uint64_t off)
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

static void l_close(struct ufs_file *f)
{
	if (f) {
		close(f->fd);
		free(f);
	}
}

static int l_mkdir(struct ufs *u, const char *path)
{
	if (!mkdirat(L(u)->rootfd, path, 0755))
		return ATR_OK;
	int e = errno;
	if (e == EEXIST) {
		struct stat sb;
		if (!fstatat(L(u)->rootfd, path, &sb, AT_SYMLINK_NOFOLLOW) && S_ISDIR(sb.st_mode))
			return ATR_OK;
		return ATR_E_PARENT_IS_OBJECT;
	}
	return err_from_errno(e);
}

static int l_rmdir(struct ufs *u, const char *path)
{
	if (!unlinkat(L(u)->rootfd, path, AT_REMOVEDIR) || errno == ENOENT)
		return ATR_OK;
	if (errno == ENOTEMPTY || errno == EEXIST)
		return ATR_E_BUCKET_NOT_EMPTY;
	return err_from_errno(errno);
}

static int l_unlink(struct ufs *u, const char *path)
{
	if (!unlinkat(L(u)->rootfd, path, 0) || errno == ENOENT)
		return ATR_OK;
	return err_from_errno(errno);
}

static int l_readdir(struct ufs *u, const char *path, ufs_dirent_cb cb, void *arg)
{
	int fd = openat(L(u)->rootfd, *path ? path : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return err_from_errno(errno);
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
		s->fd = openat(l->stagefd, s->name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
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

static int l_stage_write(struct ufs_stage *s, const void *buf, size_t len)
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

static void l_stage_abort(struct ufs_stage *s)
{
	if (!s)
		return;
	close(s->fd);
	unlinkat(s->u->stagefd, s->name, 0);
	free(s);
}

static int l_stage_commit(struct ufs_stage *s, const char *path, struct ufs_stat *st)
{
	struct stat sb;
	if (fstat(s->fd, &sb)) {
		int e = errno;
		l_stage_abort(s);
		return err_from_errno(e);
	}
	if (renameat(s->u->stagefd, s->name, s->u->rootfd, path)) {
		int e = errno;
		l_stage_abort(s);
		/* Renaming a file over a directory fails with EISDIR (or
		 * ENOTEMPTY/EEXIST); a file in the way of a parent, ENOTDIR. */
		return err_from_errno(e == ENOTEMPTY || e == EEXIST ? EISDIR : e);
	}
	fill_stat(&sb, st);
	close(s->fd);
	free(s);
	return ATR_OK;
}

static void l_free(struct ufs *u)
{
	struct ufs_local *l = L(u);
	close(l->stagefd);
	close(l->rootfd);
	free(l->root);
	free(l);
}

static const struct ufs_ops local_ops = {
	.version = 1,
	.stat = l_stat,
	.open = l_open,
	.pread = l_pread,
	.close = l_close,
	.mkdir = l_mkdir,
	.rmdir = l_rmdir,
	.unlink = l_unlink,
	.readdir = l_readdir,
	.stage_open = l_stage_open,
	.stage_write = l_stage_write,
	.stage_commit = l_stage_commit,
	.stage_abort = l_stage_abort,
	.free = l_free,
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

int ufs_local_new(const char *root, struct ufs **out)
{
	struct ufs_local *l = calloc(1, sizeof(*l));
	if (!l)
		return ATR_E_NOMEM;
	l->base.ops = &local_ops;
	l->rootfd = l->stagefd = -1;
	if (!(l->root = strdup(root)))
		goto fail;
	if (mkdir(root, 0755) && errno != EEXIST)
		goto fail;
	l->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->rootfd < 0)
		goto fail;
	if ((mkdirat(l->rootfd, ".atrium", 0700) && errno != EEXIST) ||
	    (mkdirat(l->rootfd, STAGE_DIR, 0700) && errno != EEXIST))
		goto fail;
	l->stagefd = openat(l->rootfd, STAGE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->stagefd < 0)
		goto fail;
	clear_stages(l->stagefd);
	*out = &l->base;
	return ATR_OK;
fail:
	LOG(LOG_ERROR, "ufs: cannot set up %s: %s", root, strerror(errno));
	if (l->rootfd >= 0)
		close(l->rootfd);
	free(l->root);
	free(l);
	return ATR_E_IO;
}
