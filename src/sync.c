/*
 * sync — metadata sync of directories: files that appeared, changed or
 * vanished in the UFS behind Atrium's back become rows (or stop being).
 *
 * A directory row's dir_mtime records the UFS directory's mtime when its
 * rows were last reconciled; a listing stats every directory under its
 * prefix (one stat each, not one per file) and re-reads only those whose
 * mtime moved. Atrium's own mutations move dir_mtime forward themselves
 * (object.c), so they cost no re-read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "src/core_int.h"

#define PATH_MAX_UFS (ATR_BUCKET_MAX + ATR_KEY_MAX + 8)

struct entry {
	char *key;
	struct ufs_stat st;
	int seen;      /* its row is in step */
	int had_row;   /* its row is out of step: changed behind our back */
};

/* What one walk picked up, for its summary line. */
struct sync_stats {
	size_t files, dirs, changed, gone;
};

struct entries {
	struct entry *v;
	size_t n, cap;
	const char *dirkey;
	int oom;
};

static int add_entry(struct entries *e, const char *key, const struct ufs_stat *st)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 32;
		struct entry *v = realloc(e->v, cap * sizeof(*v));
		if (!v)
			return -1;
		e->v = v;
		e->cap = cap;
	}
	if (!(e->v[e->n].key = strdup(key)))
		return -1;
	e->v[e->n].st = *st;
	e->v[e->n].seen = 0;
	e->v[e->n].had_row = 0;
	e->n++;
	return 0;
}

static void free_entries(struct entries *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].key);
	free(e->v);
}

static int on_dirent(void *arg, const char *name, const struct ufs_stat *st)
{
	struct entries *e = arg;
	char key[ATR_KEY_MAX + 2];
	if (!st->is_dir && !st->is_reg)
		return 0; /* symlinks, devices...: not objects */
	int n = snprintf(key, sizeof(key), "%s%s%s", e->dirkey, name, st->is_dir ? "/" : "");
	if (n < 0 || (size_t)n >= sizeof(key) || atr_key_valid(key))
		return 0; /* a name no S3 key can address */
	if (add_entry(e, key, st)) {
		e->oom = 1;
		return 1;
	}
	return 0;
}

struct rows {
	struct entries *ufs; /* sorted by key */
	struct entries gone; /* rows with no UFS entry */
	size_t dirlen;
};

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->key, ((const struct entry *)b)->key);
}

static int on_child_row(void *arg, const char *key, const struct meta_row *row)
{
	struct rows *r = arg;
	const char *rest = key + r->dirlen;
	const char *slash = strchr(rest, '/');
	if (slash && slash[1] != '\0')
		return 0; /* deeper than a direct child */
	struct entry probe = { .key = (char *)key };
	struct entry *e = r->ufs->n ? bsearch(&probe, r->ufs->v, r->ufs->n, sizeof(*e), cmp_entry)
				    : NULL;
	if (e && (row->obj.is_dir ||
		  (e->st.size == row->obj.size && e->st.mtime_ns == row->obj.mtime_ns)))
		e->seen = 1; /* in step */
	else if (e)
		e->had_row = 1;
	else
		add_entry(&r->gone, key, &(struct ufs_stat){ .is_dir = row->obj.is_dir });
	return 0;
}

/* Reconciles the direct children of one directory. New subdirectories are
 * appended to todo. */
static int sync_dir(struct atr_core *c, const char *bucket, const char *dirkey,
		    int64_t mtime, struct entries *todo, struct sync_stats *stats)
{
	char path[PATH_MAX_UFS], upto[ATR_KEY_MAX + 2];
	struct entries ents = { .dirkey = dirkey };
	struct rows rows = { .ufs = &ents, .dirlen = strlen(dirkey) };
	int rc;

	if (ufs_path(path, sizeof(path), bucket, dirkey))
		return ATR_OK;
	if ((rc = c->ufs->ops->readdir(c->ufs, path, on_dirent, &ents)) || ents.oom)
		goto out;
	if (ents.n)
		qsort(ents.v, ents.n, sizeof(*ents.v), cmp_entry);
	const char *hi = "\xf5"; /* above every UTF-8 key */
	if (*dirkey) {
		if (key_successor(dirkey, upto, sizeof(upto)))
			goto out;
		hi = upto;
	}
	if ((rc = meta_obj_scan(c->meta, bucket, dirkey, 0, hi, 0, on_child_row, &rows)))
		goto out;

	stats->gone += rows.gone.n;
	for (size_t i = 0; i < rows.gone.n; i++) {
		struct meta_row r = { 0 };
		/* sync_object re-checks under the lock and drops the row. */
		if (sync_object(c, bucket, rows.gone.v[i].key, &r) == ATR_OK)
			atr_obj_release(&r.obj);
	}
	for (size_t i = 0; i < ents.n; i++) {
		if (ents.v[i].seen)
			continue;
		if (ents.v[i].had_row)
			stats->changed++;
		else if (ents.v[i].st.is_dir)
			stats->dirs++;
		else
			stats->files++;
		struct meta_row r = { 0 };
		if (sync_object(c, bucket, ents.v[i].key, &r) == ATR_OK)
			atr_obj_release(&r.obj);
		if (ents.v[i].st.is_dir) {
			/* Never read yet: the walk must not take it as in step. */
			struct ufs_stat unread = { .is_dir = 1, .mtime_ns = -1 };
			add_entry(todo, ents.v[i].key, &unread);
		}
	}
	pthread_mutex_lock(&c->ns_lock);
	rc = meta_obj_set_dir_mtime(c->meta, bucket, dirkey, mtime);
	pthread_mutex_unlock(&c->ns_lock);
out:
	free_entries(&rows.gone);
	free_entries(&ents);
	return ents.oom ? ATR_E_NOMEM : rc;
}

static int on_dir_row(void *arg, const char *key, const struct meta_row *row)
{
	struct entries *e = arg;
	struct ufs_stat st = { .is_dir = 1, .mtime_ns = row->dir_mtime };
	if (add_entry(e, key, &st)) {
		e->oom = 1;
		return 1;
	}
	return 0;
}

int sync_tree(struct atr_core *c, const char *bucket, const char *dirkey)
{
	char upto[ATR_KEY_MAX + 2], path[PATH_MAX_UFS];
	struct entries dirs = { 0 };
	struct sync_stats stats = { 0 };
	struct timespec t0, t1;
	int rc;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	const char *hi = NULL;
	if (*dirkey) {
		if (key_successor(dirkey, upto, sizeof(upto)))
			return ATR_OK;
		hi = upto;
	}
	if ((rc = meta_dir_scan(c->meta, bucket, dirkey, hi, on_dir_row, &dirs)) || dirs.oom)
		goto out;
	if (dirs.n == 0 || strcmp(dirs.v[0].key, dirkey)) {
		/* The prefix's directory has no row: it may exist behind our back. */
		struct meta_row r = { 0 };
		if (*dirkey && sync_object(c, bucket, dirkey, &r) == ATR_OK) {
			atr_obj_release(&r.obj);
			struct ufs_stat st = { .is_dir = 1, .mtime_ns = 0 };
			add_entry(&dirs, dirkey, &st);
		}
	}
	/* dirs grows while we walk it: new subdirectories are appended. */
	for (size_t i = 0; i < dirs.n && !dirs.oom; i++) {
		struct ufs_stat st;
		if (ufs_path(path, sizeof(path), bucket, dirs.v[i].key))
			continue;
		if (c->ufs->ops->stat(c->ufs, path, &st) || !st.is_dir) {
			struct meta_row r = { 0 };
			if (*dirs.v[i].key && sync_object(c, bucket, dirs.v[i].key, &r) == ATR_OK)
				atr_obj_release(&r.obj);
			continue;
		}
		if (st.mtime_ns == dirs.v[i].st.mtime_ns)
			continue;
		char *key = strdup(dirs.v[i].key);
		if (!key)
			break;
		rc = sync_dir(c, bucket, key, st.mtime_ns, &dirs, &stats);
		free(key);
		if (rc)
			break;
	}
out:
	if (dirs.oom && !rc)
		rc = ATR_E_NOMEM;
	free_entries(&dirs);
	/* One line a scan, at info: what the under-storage held that the
	 * store did not (each file is a debug line of its own). */
	if (stats.files || stats.dirs || stats.changed || stats.gone) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		LOG(LOG_INFO, "sync: %s/%s: imported %zu file(s) and %zu director(ies), updated %zu, "
		    "dropped %zu, found in the under-storage in %.1f ms", bucket, dirkey, stats.files,
		    stats.dirs, stats.changed, stats.gone,
		    (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	}
	return rc;
}
