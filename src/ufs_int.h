/*
 * ufs — the under-storage driver interface, an ops table with a version
 * (SQLite's vfs). Paths are relative to the UFS root: "bucket/a/b/c".
 * Errors are enum atr_err values; a missing op is ATR_E_INTERNAL's
 * "not supported" cousin and never a crash.
 *
 * Writing goes through a stage: stage_open creates a private file (the
 * local driver puts it in DATA/ufs/.atrium/tmp on the same file system),
 * stage_write appends, stage_commit moves it to its path atomically,
 * replacing what was there, and stage_abort discards it. Nothing of a stage
 * is visible at its path before commit.
 *
 * Thread-safety: every op may run concurrently; one ufs_file or ufs_stage
 * belongs to one thread at a time.
 */
#ifndef SRC_UFS_INT_H
#define SRC_UFS_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include "src/atrium.h"

struct ufs;
struct ufs_file;
struct ufs_stage;

struct ufs_stat {
	int is_dir;
	int is_reg;
	uint64_t size;
	int64_t mtime_ns;
	uint32_t mode;
	uid_t uid;
	uint64_t dev, ino;
};

/* Called for each entry of a directory (not "." or ".."). Non-zero stops. */
typedef int (*ufs_dirent_cb)(void *arg, const char *name, const struct ufs_stat *st);

struct ufs_ops {
	int version; /* 1 */
	int (*stat)(struct ufs *u, const char *path, struct ufs_stat *st);
	int (*open)(struct ufs *u, const char *path, struct ufs_file **out, struct ufs_stat *st);
	ssize_t (*pread)(struct ufs_file *f, void *buf, size_t len, uint64_t off);
	void (*close)(struct ufs_file *f);
	int (*mkdir)(struct ufs *u, const char *path); /* EEXIST as a dir is success */
	int (*rmdir)(struct ufs *u, const char *path);
	int (*unlink)(struct ufs *u, const char *path);
	int (*readdir)(struct ufs *u, const char *path, ufs_dirent_cb cb, void *arg);
	int (*stage_open)(struct ufs *u, struct ufs_stage **out);
	int (*stage_write)(struct ufs_stage *s, const void *buf, size_t len);
	/* Moves the stage to path; fills st with the committed file's stat. */
	int (*stage_commit)(struct ufs_stage *s, const char *path, struct ufs_stat *st);
	void (*stage_abort)(struct ufs_stage *s);
	void (*free)(struct ufs *u);
	/*
	 * Multipart parts (NULL in drivers without them). Parts live in a
	 * private area that survives restarts (the local driver:
	 * DATA/ufs/.atrium/mpu/<upload>/<name>); upload and name are single
	 * path segments chosen by the core.
	 */
	/* Moves the stage to part name of upload (creating the upload's area);
	 * fills st. The stage is consumed whatever the result. */
	int (*part_commit)(struct ufs_stage *s, const char *upload, const char *name,
			   struct ufs_stat *st);
	/* Appends len bytes of the part from off to the stage, without a trip
	 * through user space where the file system allows (copy_file_range).
	 * ATR_E_IO if the part is shorter than off + len. */
	int (*stage_append_part)(struct ufs_stage *s, const char *upload, const char *name,
				 uint64_t off, uint64_t len);
	int (*part_unlink)(struct ufs *u, const char *upload, const char *name); /* ENOENT is success */
	/* Removes upload's area and every part in it; a missing area is success. */
	int (*part_remove_upload)(struct ufs *u, const char *upload);
	/* upload NULL: calls cb for every upload that has an area; else for
	 * every part name of upload. */
	int (*part_readdir)(struct ufs *u, const char *upload, ufs_dirent_cb cb, void *arg);
	/* Moves a file or a directory; ATR_E_EXISTS if to exists (never
	 * replaces). NULL in drivers without it (ATR_E_NOT_SUPPORTED). */
	int (*rename)(struct ufs *u, const char *from, const char *to);
	/* Appends len bytes of src from off to the stage, inside the kernel
	 * where the file system allows (copy_file_range; a reflink, no copy
	 * at all, on btrfs or XFS). ATR_E_IO if src is shorter than off + len.
	 * NULL in drivers without it: the core copies through the cache. */
	int (*stage_copy)(struct ufs_stage *s, struct ufs_file *src, uint64_t off, uint64_t len);
	/* The stage's name (unique in the staging area) and the stat its file
	 * will have once committed, so metadata can be written first. */
	int (*stage_prepare)(struct ufs_stage *s, char *name, size_t size, struct ufs_stat *st);
	/* Moves the stage named name to path (replacing); ATR_E_NO_KEY if
	 * there is no such stage. At start-up for a stage a crash left (an
	 * intent names it); after a commit for the extra names stage_link
	 * made. */
	int (*stage_recover)(struct ufs *u, const char *name, const char *path);
	/* Start-up, after recovery: removes every stage left behind. */
	void (*stage_gc)(struct ufs *u);
	/* Random access to a stage (the mount's open files): writes and
	 * reads at an offset, and a new size. A stage read back is the file
	 * the commit will make. */
	int (*stage_pwrite)(struct ufs_stage *s, const void *buf, size_t len, uint64_t off);
	ssize_t (*stage_pread)(struct ufs_stage *s, void *buf, size_t len, uint64_t off);
	int (*stage_truncate)(struct ufs_stage *s, uint64_t size);
	/* Sets a file's or directory's times; fills st with its new stat. */
	int (*utimens)(struct ufs *u, const char *path, int64_t atime_ns, int64_t mtime_ns,
		       struct ufs_stat *st);
	/* Capacity of the file system under the UFS (the mount's statfs). */
	int (*statfs)(struct ufs *u, struct statvfs *out);
	/* Moves a file over another atomically, as rename(2) does (a crash
	 * leaves one or the other at to, never neither). */
	int (*rename_replace)(struct ufs *u, const char *from, const char *to);
	/* Hard links (NULL in drivers that cannot hold them: the mount's
	 * link fails with EPERM). link gives the file at from a second name
	 * to (ATR_E_EXISTS if taken); stage_link gives a stage another name
	 * in the staging area (into name), for stage_recover to move to a
	 * path, so that one commit can put the same new file under several
	 * names. */
	int (*link)(struct ufs *u, const char *from, const char *to);
	int (*stage_link)(struct ufs_stage *s, char *name, size_t size);
	/* Removes a name stage_link made that no commit used. */
	void (*stage_forget)(struct ufs *u, const char *name);
	/* Gives a stage the mtime its file will have once committed (the
	 * mount's: the time of its last write, or the one a program set).
	 * NULL in drivers that cannot: the commit's time stands. */
	int (*stage_set_mtime)(struct ufs_stage *s, int64_t mtime_ns);
	/* The next run of data in f at or after off: [*data, *end); both
	 * UINT64_MAX when only a hole is left. Lets hashing and copying pass
	 * over holes (SEEK_DATA/SEEK_HOLE). NULL, or an error, in drivers
	 * that cannot tell: then it is all data. */
	int (*next_data)(struct ufs_file *f, uint64_t off, uint64_t *data, uint64_t *end);
};

struct ufs {
	const struct ufs_ops *ops;
};

/* The local directory driver. Creates root, root/.atrium/tmp and
 * root/.atrium/mpu, and clears stages left by a crash (parts stay). */
int ufs_local_new(const char *root, struct ufs **out);

#endif
