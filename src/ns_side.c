/*
 * ns_side — the side form (src/ns_int.h, "the side form"): where the bytes
 * of a key the file tree cannot hold live (SIDE_DIR/<ino> in the private
 * area), the move of a file out of the way of a directory, metadata first,
 * and the start-up sweep of side files no row names.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "src/ns_int.h"
#include "common/banned.h"

int ns_side_path(char *out, size_t size, uint64_t ino)
{
	int n = snprintf(out, size, SIDE_DIR "/%" PRIu64, ino);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int ns_row_path(char *out, size_t size, const char *bucket, const char *key,
		const struct meta_row *row)
{
	if (row && META_ROW_ASIDE(row))
		return ns_side_path(out, size, row->obj.ino);
	return key_path(out, size, bucket, key);
}

/* ---- a file moved out of the way of a directory ---- */

struct side_move {
	const char *bucket, *key;
	char from[PATH_MAX_UFS], to[PATH_MAX_UFS];
	int todo;
};

/* The file in the natural layout in the way of key's directories: the
 * first ancestor of key ("a/b" for "a/b/c"), or for a directory key "k/"
 * the file "k" itself, that is a file with one name. 1 and its row (with
 * hdrs) in *r, 0 for none, or an error (negative). */
static int file_in_the_way(struct atr_core *c, const char *bucket, const char *key,
			   char anc[ATR_KEY_MAX + 2], struct meta_row *r)
{
	size_t n = strlen(key);
	int dir = key_is_dir(key);
	if (dir)
		n--;
	for (size_t i = 0; i <= n; i++) {
		if (i < n ? key[i] != '/' : !dir)
			continue;
		memcpy(anc, key, i);
		anc[i] = '\0';
		int rc = meta_obj_get(c->meta, bucket, anc, r, 1);
		if (rc == ATR_E_NO_KEY)
			continue;
		if (rc)
			return -rc;
		/* A directory, a side file already, or one the mount is making
		 * or has linked (several names share its file): not moved; a
		 * pending or linked one keeps refusing what would go below. */
		if (!r->obj.is_dir && !r->side && !r->pending && !r->obj.node)
			return 1;
		atr_obj_release(&r->obj);
		if (!r->obj.is_dir && !r->side)
			return 0; /* a file that stays: ensure_dirs refuses */
	}
	return 0;
}

/* The transaction: that file takes the side form, with an intent
 * "=FROM" -> TO. */
static int side_move_fn(struct atr_core *c, void *arg)
{
	struct side_move *m = arg;
	char anc[ATR_KEY_MAX + 2], intent[PATH_MAX_UFS + 1];
	struct meta_row r = { 0 };
	int rc = file_in_the_way(c, m->bucket, m->key, anc, &r);
	if (rc <= 0)
		return -rc;
	ns_event(c, m->bucket, anc, &r.obj); /* the mount: the directory takes the name */
	r.side = 1;
	rc = ATR_OK;
	if (key_path(m->from, sizeof(m->from), m->bucket, anc) ||
	    ns_side_path(m->to, sizeof(m->to), r.obj.ino))
		rc = ATR_E_KEY_TOO_LONG;
	snprintf(intent, sizeof(intent), "=%s", m->from);
	if (!rc && !(rc = meta_obj_put(c->meta, m->bucket, anc, &r)))
		rc = meta_intent_set(c->meta, intent, m->to);
	atr_obj_release(&r.obj);
	m->todo = rc == ATR_OK;
	return rc;
}

int ns_side_move(struct atr_core *c, const char *bucket, const char *key)
{
	struct side_move m = { .bucket = bucket, .key = key };
	NS_ASSERT_HELD(c);
	char anc[ATR_KEY_MAX + 2];
	struct meta_row r = { 0 };
	/* The side form is in the local private area: a bucket whose store
	 * cannot rename (a remote one, src/ufs_mux.c) has none, and keeps
	 * the tree's refusals. */
	if (!ufs_can_at(c->ufs, bucket, UFS_CAP_RENAME))
		return ATR_OK;
	/* A read first: most commits have nothing in the way, and need no
	 * transaction of their own (ns_lock keeps the answer true). */
	int rc = file_in_the_way(c, bucket, key, anc, &r);
	if (rc <= 0)
		return -rc;
	atr_obj_release(&r.obj);
	rc = ns_txn_locked(c, side_move_fn, &m);
	if (rc || !m.todo)
		return rc;
	rc = ufs_rename(c->ufs, m.from, m.to);
	if (rc == ATR_E_NO_KEY && !ns_ufs_mkdirs(c, m.to))
		rc = ufs_rename(c->ufs, m.from, m.to);
	if (rc) {
		LOG(LOG_ERROR, "core: moving %s to the side form (%s) failed after its commit: %s",
		    m.from, m.to, atr_strerror(rc));
		rc = ns_owe(c);
	}
	return rc;
}

/* ---- start-up ---- */

int ns_numbered_add(void *arg, const char *name, const struct ufs_stat *st)
{
	struct ns_numbered *s = arg;
	char *end;
	(void)st;
	unsigned long long n = strtoull(name, &end, 10);
	if (*end || !n)
		return 0; /* not ours */
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint64_t *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return 1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = n;
	return 0;
}

void ns_numbered_sweep(struct atr_core *c, const char *dir,
		       int (*named)(struct atr_core *c, uint64_t n), const char *what)
{
	struct ns_numbered s = { 0 };
	char path[PATH_MAX_UFS];
	if (ufs_readdir(c->ufs, dir, ns_numbered_add, &s)) {
		free(s.v);
		return; /* none yet */
	}
	for (size_t i = 0; i < s.n; i++) {
		int n = snprintf(path, sizeof(path), "%s/%" PRIu64, dir, s.v[i]);
		/* Named, or the store failing: not a reason to remove. */
		if (named(c, s.v[i]) || n < 0 || (size_t)n >= sizeof(path))
			continue;
		if (!ufs_unlink(c->ufs, path))
			LOG(LOG_INFO, "core: removed %s, which no %s names", path, what);
	}
	free(s.v);
}

/* Whether a row has its bytes at side file ino (-1: the store failing). */
static int side_named(struct atr_core *c, uint64_t ino)
{
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row r = { 0 };
	int rc = meta_obj_by_ino(c->meta, ino, bucket, key, &r, 0);
	if (rc == ATR_OK)
		return META_ROW_ASIDE(&r) && r.obj.ino == ino;
	return rc == ATR_E_NO_KEY ? 0 : -1;
}

void ns_side_gc(struct atr_core *c)
{
	ns_numbered_sweep(c, SIDE_DIR, side_named, "object");
}

/* The move intent "=FROM" -> TO of a file to the side form, cut short: done
 * if the row of FROM's key says the side form at TO and the file is still
 * at FROM. ATR_OK once done, or found done. */
int ns_side_recover(struct atr_core *c, const char *from, const char *to)
{
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2], want[PATH_MAX_UFS];
	struct meta_row r = { 0 };
	struct ufs_stat st;
	size_t bl = strcspn(from, "/");
	if (bl > ATR_BUCKET_MAX || !from[bl] || strlen(from + bl + 1) > ATR_KEY_MAX)
		return ATR_OK;
	memcpy(bucket, from, bl);
	bucket[bl] = '\0';
	snprintf(key, sizeof(key), "%s", from + bl + 1);
	if (meta_obj_get(c->meta, bucket, key, &r, 0) || !r.side ||
	    ns_side_path(want, sizeof(want), r.obj.ino) || strcmp(want, to))
		return ATR_OK; /* replaced or deleted since */
	int rc = ufs_stat(c->ufs, to, &st);
	if (rc != ATR_E_NO_KEY)
		return rc; /* done before */
	if ((rc = ufs_stat(c->ufs, from, &st)))
		return rc == ATR_E_NO_KEY ? ATR_OK : rc;
	if (!st.is_reg)
		return ATR_OK;
	rc = ufs_rename(c->ufs, from, to);
	if (rc == ATR_E_NO_KEY && !ns_ufs_mkdirs(c, to))
		rc = ufs_rename(c->ufs, from, to);
	if (!rc)
		LOG(LOG_INFO, "core: finished the move of %s to the side form that was cut short",
		    from);
	return rc;
}
