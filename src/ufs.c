/*
 * ufs — the calls the core makes to an under-storage driver (src/ufs_int.h):
 * the table checked once, each optional op behind its capability, and the
 * fallbacks where a missing capability has one.
 */
#include <stddef.h>
#include <stdlib.h>

#include "common/log.h"
#include "src/ufs_int.h"
#include "common/banned.h"

/* Every op of the table, with the capability it belongs to (0: the
 * mandatory core). */
#define OP(cap, name) { cap, offsetof(struct ufs_ops, name), #name }
static const struct {
	unsigned cap;
	size_t off;
	const char *name;
} ops[] = {
	OP(0, stat), OP(0, open), OP(0, pread), OP(0, close), OP(0, readdir), OP(0, mkdir),
	OP(0, rmdir), OP(0, unlink), OP(0, stage_open), OP(0, stage_write),
	OP(0, stage_prepare), OP(0, stage_commit), OP(0, stage_abort), OP(0, stage_keep),
	OP(0, stage_recover), OP(0, stage_gc), OP(0, free),
	OP(UFS_CAP_RENAME, rename), OP(UFS_CAP_RENAME, rename_replace),
	OP(UFS_CAP_LINKS, link), OP(UFS_CAP_LINKS, stage_link), OP(UFS_CAP_LINKS, stage_forget),
	OP(UFS_CAP_SERVER_COPY, stage_copy),
	OP(UFS_CAP_PARTS, part_commit), OP(UFS_CAP_PARTS, stage_append_part),
	OP(UFS_CAP_PARTS, part_unlink), OP(UFS_CAP_PARTS, part_remove_upload),
	OP(UFS_CAP_PARTS, part_readdir),
	OP(UFS_CAP_RANDOM_WRITE, stage_pwrite), OP(UFS_CAP_RANDOM_WRITE, stage_pread),
	OP(UFS_CAP_RANDOM_WRITE, stage_truncate),
	OP(UFS_CAP_TIMES, utimens), OP(UFS_CAP_TIMES, stage_set_mtime),
	OP(UFS_CAP_STATFS, statfs),
	OP(UFS_CAP_SPARSE, next_data),
};

static const char *const cap_names[] = { "RENAME", "LINKS", "SERVER_COPY", "PARTS",
					 "RANDOM_WRITE", "TIMES", "STATFS", "SPARSE", "DIRS_IMPLIED" };

const char *ufs_cap_name(unsigned cap)
{
	for (unsigned i = 0; i < sizeof(cap_names) / sizeof(*cap_names); i++)
		if (cap == 1u << i)
			return cap_names[i];
	return "?";
}

int ufs_check(const struct ufs *u)
{
	const struct ufs_ops *o = u->ops;
	const char *name = o->name ? o->name : "?";
	if (o->version != UFS_VERSION) {
		LOG(LOG_ERROR, "ufs: driver %s has interface version %d, not %d", name,
		    o->version, UFS_VERSION);
		return ATR_E_INTERNAL;
	}
	if (u->caps & ~(unsigned)UFS_CAP_KNOWN) {
		LOG(LOG_ERROR, "ufs: driver %s claims unknown capabilities %#x", name,
		    u->caps & ~(unsigned)UFS_CAP_KNOWN);
		return ATR_E_INTERNAL;
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(*ops); i++) {
		void *const *fn = (void *const *)((const char *)o + ops[i].off);
		if ((!ops[i].cap || ufs_can(u, ops[i].cap)) && !*fn) {
			LOG(LOG_ERROR, "ufs: driver %s lacks %s (%s)", name, ops[i].name,
			    ops[i].cap ? ufs_cap_name(ops[i].cap) : "mandatory");
			return ATR_E_INTERNAL;
		}
	}
	return ATR_OK;
}

/* ---- the mandatory core ---- */

int ufs_stat(struct ufs *u, const char *path, struct ufs_stat *st)
{
	return u->ops->stat(u, path, st);
}

int ufs_open(struct ufs *u, const char *path, struct ufs_file **out, struct ufs_stat *st)
{
	return u->ops->open(u, path, out, st);
}

ssize_t ufs_pread(struct ufs *u, struct ufs_file *f, void *buf, size_t len, uint64_t off)
{
	return u->ops->pread(u, f, buf, len, off);
}

void ufs_close(struct ufs *u, struct ufs_file *f)
{
	if (f)
		u->ops->close(u, f);
}

int ufs_readdir(struct ufs *u, const char *path, ufs_dirent_cb cb, void *arg)
{
	return u->ops->readdir(u, path, cb, arg);
}

int ufs_mkdir(struct ufs *u, const char *path) { return u->ops->mkdir(u, path); }
int ufs_rmdir(struct ufs *u, const char *path) { return u->ops->rmdir(u, path); }
int ufs_unlink(struct ufs *u, const char *path) { return u->ops->unlink(u, path); }

int ufs_stage_open(struct ufs *u, struct ufs_stage **out)
{
	return u->ops->stage_open(u, out);
}

int ufs_stage_write(struct ufs *u, struct ufs_stage *s, const void *buf, size_t len)
{
	return u->ops->stage_write(u, s, buf, len);
}

int ufs_stage_prepare(struct ufs *u, struct ufs_stage *s, char *name, size_t size,
		      struct ufs_stat *st)
{
	return u->ops->stage_prepare(u, s, name, size, st);
}

int ufs_stage_commit(struct ufs *u, struct ufs_stage *s, const char *path, struct ufs_stat *st)
{
	return u->ops->stage_commit(u, s, path, st);
}

void ufs_stage_abort(struct ufs *u, struct ufs_stage *s)
{
	if (s)
		u->ops->stage_abort(u, s);
}

void ufs_stage_keep(struct ufs *u, struct ufs_stage *s) { u->ops->stage_keep(u, s); }

int ufs_stage_recover(struct ufs *u, const char *name, const char *path)
{
	return u->ops->stage_recover(u, name, path);
}

void ufs_stage_gc(struct ufs *u) { u->ops->stage_gc(u); }

void ufs_free(struct ufs *u)
{
	if (u)
		u->ops->free(u);
}

/* ---- capabilities ---- */

#define NEED(cap) \
	do { \
		if (!ufs_can(u, cap)) \
			return ATR_E_NOT_SUPPORTED; \
	} while (0)

int ufs_rename(struct ufs *u, const char *from, const char *to)
{
	NEED(UFS_CAP_RENAME);
	return u->ops->rename(u, from, to);
}

int ufs_rename_replace(struct ufs *u, const char *from, const char *to)
{
	NEED(UFS_CAP_RENAME);
	return u->ops->rename_replace(u, from, to);
}

int ufs_link(struct ufs *u, const char *from, const char *to)
{
	NEED(UFS_CAP_LINKS);
	return u->ops->link(u, from, to);
}

int ufs_stage_link(struct ufs *u, struct ufs_stage *s, char *name, size_t size)
{
	NEED(UFS_CAP_LINKS);
	return u->ops->stage_link(u, s, name, size);
}

void ufs_stage_forget(struct ufs *u, const char *name)
{
	if (ufs_can(u, UFS_CAP_LINKS))
		u->ops->stage_forget(u, name);
}

unsigned ufs_caps_at(struct ufs *u, const char *path)
{
	return u->ops->caps_at ? u->ops->caps_at(u, path) : u->caps;
}

void ufs_refresh(struct ufs *u, const char *path)
{
	if (u->ops->refresh)
		u->ops->refresh(u, path);
}

/* The fallback of stage_copy: through a small buffer in this process. */
int ufs_copy_through(struct ufs *from, struct ufs_file *src, struct ufs *to, struct ufs_stage *s,
		     uint64_t off, uint64_t len)
{
	enum { CHUNK = 64 * 1024 }; /* below malloc's mmap threshold */
	char *buf = malloc(CHUNK);
	int rc = ATR_OK;
	if (!buf)
		return ATR_E_NOMEM;
	while (len > 0 && !rc) {
		size_t want = len < CHUNK ? (size_t)len : CHUNK;
		ssize_t n = from->ops->pread(from, src, buf, want, off);
		if (n < (ssize_t)want) {
			rc = ATR_E_IO; /* shorter than off + len: changed under us */
			break;
		}
		rc = to->ops->stage_write(to, s, buf, want);
		off += want;
		len -= want;
	}
	free(buf);
	return rc;
}

int ufs_stage_copy(struct ufs *u, struct ufs_stage *s, struct ufs_file *src, uint64_t off,
		   uint64_t len)
{
	if (!ufs_can(u, UFS_CAP_SERVER_COPY))
		return ufs_copy_through(u, src, u, s, off, len);
	return u->ops->stage_copy(u, s, src, off, len);
}

int ufs_part_commit(struct ufs *u, struct ufs_stage *s, const char *upload, const char *name,
		    struct ufs_stat *st)
{
	NEED(UFS_CAP_PARTS);
	return u->ops->part_commit(u, s, upload, name, st);
}

int ufs_stage_append_part(struct ufs *u, struct ufs_stage *s, const char *upload,
			  const char *name, uint64_t off, uint64_t len)
{
	NEED(UFS_CAP_PARTS);
	return u->ops->stage_append_part(u, s, upload, name, off, len);
}

int ufs_part_unlink(struct ufs *u, const char *upload, const char *name)
{
	NEED(UFS_CAP_PARTS);
	return u->ops->part_unlink(u, upload, name);
}

int ufs_part_remove_upload(struct ufs *u, const char *upload)
{
	NEED(UFS_CAP_PARTS);
	return u->ops->part_remove_upload(u, upload);
}

int ufs_part_readdir(struct ufs *u, const char *upload, ufs_dirent_cb cb, void *arg)
{
	NEED(UFS_CAP_PARTS);
	return u->ops->part_readdir(u, upload, cb, arg);
}

int ufs_stage_pwrite(struct ufs *u, struct ufs_stage *s, const void *buf, size_t len,
		     uint64_t off)
{
	NEED(UFS_CAP_RANDOM_WRITE);
	return u->ops->stage_pwrite(u, s, buf, len, off);
}

ssize_t ufs_stage_pread(struct ufs *u, struct ufs_stage *s, void *buf, size_t len, uint64_t off)
{
	if (!ufs_can(u, UFS_CAP_RANDOM_WRITE))
		return -1;
	return u->ops->stage_pread(u, s, buf, len, off);
}

int ufs_stage_truncate(struct ufs *u, struct ufs_stage *s, uint64_t size)
{
	NEED(UFS_CAP_RANDOM_WRITE);
	return u->ops->stage_truncate(u, s, size);
}

int ufs_utimens(struct ufs *u, const char *path, int64_t atime_ns, int64_t mtime_ns,
		struct ufs_stat *st)
{
	NEED(UFS_CAP_TIMES);
	return u->ops->utimens(u, path, atime_ns, mtime_ns, st);
}

int ufs_stage_set_mtime(struct ufs *u, struct ufs_stage *s, int64_t mtime_ns)
{
	NEED(UFS_CAP_TIMES);
	return u->ops->stage_set_mtime(u, s, mtime_ns);
}

int ufs_statfs(struct ufs *u, struct statvfs *out)
{
	NEED(UFS_CAP_STATFS);
	return u->ops->statfs(u, out);
}

void ufs_next_data(struct ufs *u, struct ufs_file *f, uint64_t off, uint64_t *data,
		   uint64_t *end)
{
	if (!ufs_can(u, UFS_CAP_SPARSE) || u->ops->next_data(u, f, off, data, end)) {
		*data = off; /* cannot tell: all data */
		*end = UINT64_MAX;
	}
}
