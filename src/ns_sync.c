/*
 * ns_sync — lookups and metadata sync (src/ns_int.h): files that
 * appeared, changed or vanished in the UFS behind Atrium's back become
 * rows (or stop being), one key at a time as a lookup meets it
 * (ns_sync_object, ns_find, ns_resolve) or a directory at a time as a
 * listing walks a tree (ns_sync_tree).
 *
 * A directory row's dir_mtime records the UFS directory's mtime when its
 * rows were last reconciled; a listing stats every directory under its
 * prefix (one stat each, not one per file) and re-reads only those whose
 * mtime moved. Atrium's own mutations move dir_mtime forward themselves
 * (ns_touched), so they cost no re-read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "src/ns_int.h"
#include "src/perm_int.h"
#include "common/banned.h"

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
	if (META_ROW_ASIDE(row) && !row->obj.is_dir)
		return 0; /* its bytes are in the private area, not in this directory */
	const char *slash = strchr(rest, '/');
	if (slash && slash[1] != '\0')
		return 0; /* deeper than a direct child */
	struct entry probe = { .key = (char *)key };
	struct entry *e = r->ufs->n ? bsearch(&probe, r->ufs->v, r->ufs->n, sizeof(*e), cmp_entry)
				    : NULL;
	if (e && (row->obj.is_dir ||
		  (e->st.size == obj_file_size(&row->obj) && e->st.mtime_ns == row->obj.mtime_ns)))
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

	if (key_path(path, sizeof(path), bucket, dirkey))
		return ATR_OK;
	if ((rc = ufs_readdir(c->ufs, path, on_dirent, &ents)) || ents.oom)
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
		if (ns_sync_object(c, bucket, rows.gone.v[i].key, &r) == ATR_OK)
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
		if (ns_sync_object(c, bucket, ents.v[i].key, &r) == ATR_OK)
			atr_obj_release(&r.obj);
		if (ents.v[i].st.is_dir) {
			/* Never read yet: the walk must not take it as in step. */
			struct ufs_stat unread = { .is_dir = 1, .mtime_ns = -1 };
			add_entry(todo, ents.v[i].key, &unread);
		}
	}
	ns_lock(c);
	rc = meta_obj_set_dir_mtime(c->meta, bucket, dirkey, mtime);
	ns_unlock(c);
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

int ns_sync_tree(struct atr_core *c, const char *bucket, const char *dirkey)
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
		if (*dirkey && ns_sync_object(c, bucket, dirkey, &r) == ATR_OK) {
			atr_obj_release(&r.obj);
			struct ufs_stat st = { .is_dir = 1, .mtime_ns = 0 };
			add_entry(&dirs, dirkey, &st);
		}
	}
	/* dirs grows while we walk it: new subdirectories are appended. */
	for (size_t i = 0; i < dirs.n && !dirs.oom; i++) {
		struct ufs_stat st;
		if (key_path(path, sizeof(path), bucket, dirs.v[i].key))
			continue;
		if (ufs_stat(c->ufs, path, &st) || !st.is_dir) {
			struct meta_row r = { 0 };
			if (*dirs.v[i].key && ns_sync_object(c, bucket, dirs.v[i].key, &r) == ATR_OK)
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

/* ---- metadata sync of one object ---- */

/*
 * The owner and permissions of a file met in the UFS with no row. A host
 * user's file keeps its owner and mode, as they are on disk (existing data
 * served as it is). One of the daemon's own uid was put there by the
 * operator (the daemon's own writes all have rows, crashes included): it
 * takes the owner and group of the directory it is in, as an implied
 * directory does, and the directory's permissions without search bits,
 * capped by its mode on disk — an operator's 0600 file stays private, and
 * the directory's named grants come along only if the disk mode shares it.
 */
static int import_perms(struct atr_core *c, const char *bucket, const char *key,
			const struct ufs_stat *st, struct meta_row *r, uint64_t *acl_from)
{
	char dk[ATR_KEY_MAX + 2];
	struct meta_row dir = { 0 };
	struct atr_bucket b;
	int rc;
	if (st->uid != getuid()) {
		owner_of_uid(c, st->uid, r->obj.owner);
		r->obj.mode = st->mode & 0777;
		return ATR_OK;
	}
	key_parent(key, dk);
	if ((rc = *dk ? meta_obj_get(c->meta, bucket, dk, &dir, 0) : meta_bucket_get(c->meta, bucket, &b)))
		return rc;
	perm_inherit(&b, *dk ? &dir : NULL, r);
	r->obj.mode &= 0666 & st->mode;
	if (!(st->mode & 0077))
		r->has_acl = 0;
	*acl_from = r->has_acl ? (*dk ? obj_node(&dir.obj) : b.root_ino) : 0;
	atr_obj_release(&dir.obj);
	return ATR_OK;
}

/* The row of a regular file met at the key (now, hashed to etag): the
 * old row's attributes with the file's size and bytes (a change behind
 * our back), or an import. Under ns_lock, in a transaction; *row gets the
 * new row with hdrs. */
static int sync_file(struct atr_core *c, const char *bucket, const char *key,
		     struct meta_row *old, int had, const struct ufs_stat *now, const char *etag,
		     struct meta_row *row)
{
	uint64_t acl_from = 0; /* an imported file takes these grants */
	struct meta_row r = { 0 };
	int rc;
	ns_row_init(&r);
	if (had) {
		r.obj.version = old->obj.version + 1;
		snprintf(r.obj.owner, sizeof(r.obj.owner), "%s", old->obj.owner);
		r.obj.mode = old->obj.mode;
		r.obj.gid = old->obj.gid;
		r.obj.kind = old->obj.kind;
		r.obj.rdev = old->obj.rdev;
		r.obj.hdrs = old->obj.hdrs;
		old->obj.hdrs = NULL;
		/* Still the same version to S3 (versioning keeps only what
		 * its own writes replace: src/ns_version.c). */
		snprintf(r.obj.vid, sizeof(r.obj.vid), "%s", old->obj.vid);
	} else {
		r.obj.version = 1;
		if ((rc = ns_ensure_parents(c, bucket, key, 0, NULL)) ||
		    (rc = import_perms(c, bucket, key, now, &r, &acl_from)))
			return rc;
		/* Per file at debug only: a directory's scan sums them up
		 * (ns_sync_tree), and 20,000 files must not make 20,000 lines. */
		LOG(LOG_DEBUG, "core: imported %s/%s found in the under-storage", bucket, key);
	}
	r.obj.size = now->size;
	r.obj.mtime_ns = now->mtime_ns;
	snprintf(r.obj.etag, sizeof(r.obj.etag), "%s", etag);
	if ((rc = meta_obj_put(c->meta, bucket, key, &r)) ||
	    (acl_from && (rc = ns_acl_copy(c, acl_from, obj_node(&r.obj))))) {
		atr_obj_release(&r.obj);
		return rc;
	}
	*row = r;
	return ATR_OK;
}

/* The reconciliation, under ns_lock in a transaction, of the row at key
 * with what is at path now (hashed: the file as it was hashed, if have);
 * ATR_E_NO_KEY (a row dropped, or none) is to be committed too. */
static int sync_locked(struct atr_core *c, const char *bucket, const char *key, const char *path,
		       int have, const struct ufs_stat *hashed, const char *etag,
		       struct meta_row *row)
{
	struct meta_row old = { 0 };
	struct ufs_stat now;
	int want_dir = key_is_dir(key), rc;
	int had = meta_obj_get(c->meta, bucket, key, &old, 1) == ATR_OK;
	if (had && old.pending) {
		rc = ATR_E_NO_KEY; /* being written through the mount: nothing yet */
		goto out;
	}
	if ((rc = ufs_stat(c->ufs, path, &now)) && !ufs_absent(rc))
		goto out;
	int exists = rc == ATR_OK;
	rc = ATR_OK;
	if (!exists || (want_dir ? !now.is_dir : !now.is_reg)) {
		if (had)
			rc = want_dir ? meta_obj_delete_prefix(c->meta, bucket, key)
				      : meta_obj_delete(c->meta, bucket, key);
		rc = rc ? rc : ATR_E_NO_KEY;
	} else if (want_dir) {
		/* A directory made behind our back is taken as an implied one:
		 * it gets the permissions of the directory above it. */
		if (!had && (!(rc = ns_ensure_dir(c, bucket, key)) &&
			     (rc = meta_obj_get(c->meta, bucket, key, &old, 0))))
			goto out;
		*row = old;
		old.obj.hdrs = NULL;
	} else if (had && now.size == obj_file_size(&old.obj) && now.mtime_ns == old.obj.mtime_ns) {
		*row = old; /* someone else brought it up to date meanwhile */
		old.obj.hdrs = NULL;
	} else if (!have || hashed->size != now.size || hashed->mtime_ns != now.mtime_ns ||
		   hashed->ino != now.ino) {
		rc = ATR_E_IO; /* changing under our feet: the caller may retry */
	} else {
		rc = sync_file(c, bucket, key, &old, had, &now, etag, row);
	}
out:
	atr_obj_release(&old.obj);
	return rc;
}

struct sync_args {
	const char *bucket, *key, *path;
	int have;
	const struct ufs_stat *hashed;
	const char *etag;
	struct meta_row *row;
	int gone;     /* nothing there: a row dropped, or none (committed) */
};

static int sync_fn(struct atr_core *c, void *arg)
{
	struct sync_args *a = arg;
	int rc = sync_locked(c, a->bucket, a->key, a->path, a->have, a->hashed, a->etag, a->row);
	if (rc == ATR_E_NO_KEY) {
		a->gone = 1;
		return ATR_OK;
	}
	return rc;
}

/* The side form (src/ns_int.h): the row of a key whose bytes are in the
 * private area, as its side file says. Only Atrium writes there: a side
 * file gone (a crash between a delete's unlink and its commit) is the
 * object gone, as for any delete; a marker's directory stays, implied,
 * if it is still there (the delete would have left it so when it held
 * something; an empty one goes with the next prune). */
struct side_sync {
	const char *bucket, *key;
	struct meta_row *row;
	int gone;
};

static int side_sync_fn(struct atr_core *c, void *arg)
{
	struct side_sync *a = arg;
	char path[PATH_MAX_UFS];
	struct meta_row old = { 0 };
	struct ufs_stat st;
	int rc = meta_obj_get(c->meta, a->bucket, a->key, &old, 1);
	if (rc == ATR_E_NO_KEY) {
		a->gone = 1;
		return ATR_OK;
	}
	if (rc)
		return rc;
	if (!META_ROW_ASIDE(&old)) {
		rc = ATR_E_IO; /* changed meanwhile: the caller may retry */
		goto out;
	}
	if (ns_side_path(path, sizeof(path), old.obj.ino)) {
		rc = ATR_E_INTERNAL;
		goto out;
	}
	if ((rc = ufs_stat(c->ufs, path, &st)) && !ufs_absent(rc))
		goto out;
	if (rc == ATR_OK && st.is_reg) {
		/* Only we write there: a time that moved is the row's (the
		 * mount's utimens on a marker's directory), not new bytes. */
		if (st.size != obj_file_size(&old.obj) || st.mtime_ns != old.obj.mtime_ns) {
			if (!old.obj.sse) /* an encrypted row's size is the plaintext's */
				old.obj.size = st.size;
			old.obj.mtime_ns = st.mtime_ns;
			if ((rc = meta_obj_put(c->meta, a->bucket, a->key, &old)))
				goto out;
		}
		*a->row = old;
		return ATR_OK;
	}
	rc = ATR_OK;
	a->gone = 1;
	if (!old.obj.is_dir) {
		rc = meta_obj_delete(c->meta, a->bucket, a->key);
		goto out;
	}
	if (key_path(path, sizeof(path), a->bucket, a->key)) {
		rc = ATR_E_INTERNAL;
		goto out;
	}
	if ((rc = ufs_stat(c->ufs, path, &st)) && !ufs_absent(rc))
		goto out;
	if (rc || !st.is_dir) {
		rc = meta_obj_delete_prefix(c->meta, a->bucket, a->key);
		goto out;
	}
	atr_obj_release(&old.obj); /* an implied directory keeps no headers */
	old.side = 0;
	old.implicit = 1;
	old.obj.size = 0;
	snprintf(old.obj.etag, sizeof(old.obj.etag), "%s", ATR_MD5_EMPTY);
	rc = meta_obj_put(c->meta, a->bucket, a->key, &old);
out:
	atr_obj_release(&old.obj);
	return rc;
}

int ns_sync_object(struct atr_core *c, const char *bucket, const char *key, struct meta_row *row)
{
	char path[PATH_MAX_UFS], etag[ATR_ETAG_MAX + 1] = "";
	struct ufs_stat st, hashed = { 0 };
	struct meta_row peek = { 0 };
	int rc;

	if (meta_obj_get(c->meta, bucket, key, &peek, 0) == ATR_OK && META_ROW_ASIDE(&peek)) {
		struct side_sync a = { bucket, key, row, 0 };
		rc = ns_txn(c, side_sync_fn, &a);
		return rc ? rc : a.gone ? ATR_E_NO_KEY : ATR_OK;
	}
	if (key_path(path, sizeof(path), bucket, key))
		return ATR_E_NO_KEY;
	/* The store failing to say is not the file gone: no row changes. */
	if ((rc = ufs_stat(c->ufs, path, &st)) && !ufs_absent(rc))
		return rc;
	int have = rc == ATR_OK;
	/* Hash outside the lock: the file may be large. */
	if (have && st.is_reg && !key_is_dir(key) && ns_hash_file(c, path, etag, &hashed))
		have = 0;

	/* A row ahead of its file because its rename is owed: the rename
	 * (ns_txn does it first), never a row describing the old file with
	 * the new one's attributes. */
	struct sync_args a = { bucket, key, path, have, &hashed, etag, row, 0 };
	rc = ns_txn(c, sync_fn, &a);
	return rc ? rc : a.gone ? ATR_E_NO_KEY : ATR_OK;
}

int ns_hash_file(struct atr_core *c, const char *path, char etag[ATR_ETAG_MAX + 1],
		 struct ufs_stat *st)
{
	struct ufs_file *f;
	int rc = ufs_open(c->ufs, path, &f, st);
	if (rc)
		return rc;
	rc = etag_hash_file(c, f, st->size, NULL, etag);
	ufs_close(c->ufs, f);
	return rc;
}

/* ---- lookups ---- */

/*
 * Looks a key up and reconciles its row with the UFS file. With fp, the
 * file is opened instead of stat'ed (one open + fstat serves both the
 * freshness check and the read) and handed back: it is the version the row
 * describes, since a writer may replace it between our row read and our
 * open, and a mismatch means sync and try again.
 */
static int find_synced(struct atr_core *c, const char *bucket, const char *key,
		       struct meta_row *row, struct ufs_file **fp)
{
	char path[PATH_MAX_UFS];
	int rc = atr_key_valid(key);
	if (rc)
		return ATR_E_NO_KEY;
	rc = meta_obj_get(c->meta, bucket, key, row, 1);
	if (rc && rc != ATR_E_NO_KEY)
		return rc;
	struct ufs_file *f = NULL;
	for (int tries = 0;; tries++) {
		struct ufs_stat st;
		/* The row's bytes: at the key's path, or its side file. */
		int side = rc == ATR_OK && row->side;
		if (ns_row_path(path, sizeof(path), bucket, key, rc == ATR_OK ? row : NULL)) {
			if (rc == ATR_OK)
				atr_obj_release(&row->obj);
			return ATR_E_NO_KEY;
		}
		int have = fp ? ufs_open(c->ufs, path, &f, &st) == ATR_OK
			      : ufs_stat(c->ufs, path, &st) == ATR_OK;
		int fresh = rc == ATR_OK && have &&
			    (row->obj.is_dir && !side
				     ? st.is_dir
				     : st.is_reg && st.size == obj_file_size(&row->obj) &&
					       st.mtime_ns == row->obj.mtime_ns);
		if (fresh)
			break;
		if (f)
			ufs_close(c->ufs, f);
		f = NULL;
		if (rc == ATR_E_NO_KEY && !have)
			return ATR_E_NO_KEY; /* neither a row nor a file: nothing to sync */
		if (rc == ATR_OK)
			atr_obj_release(&row->obj);
		if (tries == 3)
			return ATR_E_IO; /* changing faster than we can read it */
		if ((rc = ns_sync_object(c, bucket, key, row)))
			return rc;
	}
	if (row->obj.is_dir && !row->side && f) {
		ufs_close(c->ufs, f); /* a directory marker has no bytes to read */
		f = NULL;
	}
	if (row->obj.is_dir && row->implicit) {
		atr_obj_release(&row->obj);
		return ATR_E_NO_KEY; /* not an object */
	}
	/* A marker with bytes is an object with bytes to S3's view (its
	 * directory is the tree's: ns_resolve, ns_scan_dir). */
	if (row->side)
		row->obj.is_dir = 0;
	if (fp)
		*fp = f;
	return ATR_OK;
}

/* ns_find: find_synced, with the object's ETag when etag is set: an S3 client is
 * never given a placeholder, so one not computed yet (etag.c) is waited
 * for or computed here; if the file changes meanwhile, the lookup starts
 * over. The mount's own lookups need no ETag and never wait for one. */
int ns_find(struct atr_core *c, const char *bucket, const char *key, struct meta_row *row,
	    struct ufs_file **fp, int etag)
{
	for (int tries = 0;; tries++) {
		int rc = find_synced(c, bucket, key, row, fp);
		if (rc || !etag || !(rc = etag_settle(c, bucket, key, &row->obj, 1)))
			return rc;
		atr_obj_release(&row->obj);
		if (fp && *fp) {
			ufs_close(c->ufs, *fp);
			*fp = NULL;
		}
		if (rc != ATR_E_CONFLICT || tries == 3)
			return rc == ATR_E_CONFLICT ? ATR_E_IO : rc;
	}
}


int ns_resolve(struct atr_core *c, const char *bucket, const char *key, struct meta_row *row,
	       int *dir)
{
	char dk[ATR_KEY_MAX + 2], path[PATH_MAX_UFS];
	int rc = ns_find(c, bucket, key, row, NULL, 0);
	if (rc == ATR_OK && !row->obj.is_dir && !row->side) {
		atr_obj_release(&row->obj);
		*dir = 0;
		return ATR_OK;
	}
	if (rc == ATR_OK)
		atr_obj_release(&row->obj);
	else if (rc != ATR_E_NO_KEY)
		return rc;
	if (key_dir(key, dk))
		return ATR_E_NO_KEY;
	struct ufs_stat st;
	if (key_path(path, sizeof(path), bucket, dk))
		return ATR_E_NO_KEY;
	int have = ufs_stat(c->ufs, path, &st) == ATR_OK && st.is_dir;
	rc = meta_obj_get(c->meta, bucket, dk, row, 0);
	if (rc != ATR_OK && rc != ATR_E_NO_KEY)
		return rc;
	if (rc == ATR_E_NO_KEY && !have)
		return ATR_E_NO_KEY;
	if (rc != ATR_OK || !have) {
		/* Made or removed behind our back: let sync decide. */
		if ((rc = ns_sync_object(c, bucket, dk, row)))
			return rc;
		atr_obj_release(&row->obj);
	}
	*dir = 1;
	return ATR_OK;
}

/* ---- scanning a directory ---- */

struct dirscan {
	const char *dirkey;
	size_t dirlen;
	int recursive;
	int (*see_dir)(void *arg, const char *dirkey);
	ns_entry_cb cb;
	void *arg;
	char from[ATR_KEY_MAX + 2];
	int inclusive;
	int jumped;
	int stop;
};

/* Resumes the scan after every key starting with prefix. */
static int jump_past(struct dirscan *d, const char *prefix)
{
	if (key_successor(prefix, d->from, sizeof(d->from))) {
		d->stop = 1;
		return 1;
	}
	d->inclusive = 1;
	d->jumped = 1;
	return 1;
}

static int on_scan_row(void *arg, const char *key, const struct meta_row *row)
{
	struct dirscan *d = arg;
	char parent[ATR_KEY_MAX + 2];
	if (!strcmp(key, d->dirkey))
		return 0; /* the directory itself */
	if (row->side && !row->obj.is_dir)
		return 0; /* the side form: the directory of that name wins it */
	key_parent(key, parent);
	if (d->see_dir && !d->see_dir(d->arg, parent))
		return jump_past(d, parent); /* nothing in it is the caller's to see */
	const char *slash = strchr(key + d->dirlen, '/');
	if (!d->recursive && slash && slash[1]) {
		/* Below a child directory whose row we did not see: skip its rows. */
		char child[ATR_KEY_MAX + 2];
		size_t n = (size_t)(slash - key) + 1;
		memcpy(child, key, n);
		child[n] = '\0';
		return jump_past(d, child);
	}
	if (d->cb(d->arg, key, row)) {
		d->stop = 1;
		return 1;
	}
	if (!d->recursive && slash)
		return jump_past(d, key); /* a child directory: not its content */
	return 0;
}

int ns_scan_dir(struct atr_core *c, const char *bucket, const char *dirkey, int recursive,
		const char *start, int (*see_dir)(void *arg, const char *dirkey), ns_entry_cb cb,
		void *arg)
{
	char upto[ATR_KEY_MAX + 2];
	const char *hi = NULL;
	int rc;
	if (*dirkey) {
		if (key_successor(dirkey, upto, sizeof(upto)))
			return ATR_E_INVALID_ARG;
		hi = upto;
	}
	struct dirscan d = { .dirkey = dirkey, .dirlen = strlen(dirkey), .recursive = recursive,
			     .see_dir = see_dir, .cb = cb, .arg = arg, .inclusive = 1 };
	snprintf(d.from, sizeof(d.from), "%s", dirkey);
	if (start && strcmp(start, dirkey) > 0)
		snprintf(d.from, sizeof(d.from), "%s", start);
	do {
		char from[ATR_KEY_MAX + 2];
		memcpy(from, d.from, sizeof(from));
		d.jumped = 0;
		if ((rc = meta_obj_scan(c->meta, bucket, from, d.inclusive, hi, 0, on_scan_row, &d)))
			return rc;
	} while (d.jumped && !d.stop && (!hi || strcmp(d.from, hi) < 0));
	return d.stop ? -1 : ATR_OK;
}
