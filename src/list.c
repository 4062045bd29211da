/*
 * list — ListObjects over the metadata, in S3's order.
 *
 * S3 orders keys by the binary value of the whole key, which is not a
 * depth-first walk of the tree ("a-b" < "a/c" because '-' < '/'). The rows
 * hold whole keys under a BINARY index, so a range scan yields that order.
 * With a delimiter, every key whose remainder after the prefix contains it
 * rolls up into one common prefix; after emitting a prefix the scan jumps
 * past everything that starts with it (its successor), so a directory of a
 * million keys costs one row, not a million.
 */
#include <stdio.h>
#include <string.h>

#include "src/ns_int.h"
#include "src/perm_int.h"
#include "common/banned.h"

struct lister {
	struct atr_core *c;
	const char *bucket;
	const struct atr_list_params *p;
	struct perm_view *v;    /* which directories' entries the caller sees */
	size_t prefix_len;
	size_t delim_len;
	atr_list_cb cb;
	void *arg;
	int count;
	int truncated;
	char *next_start;
	/* where the scan resumes after a jump */
	char from[ATR_KEY_MAX + 2];
	int inclusive;
	int jumped;
	int stop;
};

/* Is item (a key or prefix) before the start of the page? */
static int before_start(const struct lister *l, const char *item)
{
	const char *s = l->p->start;
	if (!s || !*s)
		return 0;
	int c = strcmp(item, s);
	return l->p->start_inclusive ? c < 0 : c <= 0;
}

static int emit(struct lister *l, const char *item, int is_prefix, const struct meta_row *row)
{
	if (l->count == l->p->max) {
		l->truncated = 1;
		if (l->next_start)
			snprintf(l->next_start, ATR_KEY_MAX + 2, "%s", item);
		l->stop = 1;
		return 1;
	}
	struct atr_list_item it = { .key = item, .is_prefix = is_prefix,
				    .obj = row ? &row->obj : NULL };
	struct atr_obj o = { 0 };
	if (row && row->side) {
		/* A marker with bytes (the side form) is an object with bytes. */
		o = row->obj;
		o.is_dir = 0;
		it.obj = &o;
	} else if (row && !row->obj.is_dir && !*row->obj.etag) {
		/* Not hashed yet (etag.c): computed now, stored by etag's
		 * worker (this is a read transaction). A file changed since
		 * the snapshot has lost the bytes of this version: it goes
		 * out without one. */
		o = row->obj;
		etag_settle(l->c, l->bucket, item, &o, 0);
		it.obj = &o;
	}
	l->count++;
	if (l->cb(l->arg, &it)) {
		l->stop = 1;
		return 1;
	}
	return 0;
}

/* Jumps the scan past every key starting with prefix. */
static int jump(struct lister *l, const char *prefix)
{
	if (key_successor(prefix, l->from, sizeof(l->from))) {
		l->stop = 1;
		return 1;
	}
	l->inclusive = 1;
	l->jumped = 1;
	return 1;
}

static int on_row(void *arg, const char *key, const struct meta_row *row)
{
	struct lister *l = arg;
	char dir[ATR_KEY_MAX + 2];
	if (!*key)
		return 0; /* the bucket's own root */
	const char *d = l->delim_len ? strstr(key + l->prefix_len, l->p->delimiter) : NULL;
	char cp[ATR_KEY_MAX + 2];
	if (d) {
		size_t n = (size_t)(d - key) + l->delim_len;
		memcpy(cp, key, n);
		cp[n] = '\0';
	}
	/* Directory permissions hold over S3 as in the mount: nothing in a
	 * directory the caller may not read (or reach) is listed, neither a
	 * key nor a common prefix. */
	key_parent(d ? cp : key, dir);
	if (!perm_view_dir(l->v, dir))
		return jump(l, dir);
	if (d) {
		if (!before_start(l, cp) && emit(l, cp, 1, NULL))
			return 1;
		return jump(l, cp); /* past every key under this prefix */
	}
	if (before_start(l, key))
		return 0;
	return emit(l, key, 0, row);
}

void list_sync(struct atr_core *c, const char *bucket, const char *prefix)
{
	char dir[ATR_KEY_MAX + 2];
	size_t dl = strlen(prefix);
	while (dl && prefix[dl - 1] != '/')
		dl--;
	memcpy(dir, prefix, dl);
	dir[dl] = '\0';
	if (!dl || !atr_key_valid(dir))
		ns_sync_tree(c, bucket, dl ? dir : "");
}

int atr_object_list(struct atr_core *c, const struct atr_user *u, const char *bucket,
		    const struct atr_list_params *p, atr_list_cb cb, void *arg,
		    int *truncated, char *next_start)
{
	char upto[ATR_KEY_MAX + 2];
	const char *prefix = p->prefix ? p->prefix : "";
	struct atr_bucket b;
	int rc = perm_bucket(c, u, bucket, "s3:ListBucket", PERM_R, &b);
	if (rc)
		return rc;
	if (strlen(prefix) > ATR_KEY_MAX || (p->start && strlen(p->start) > ATR_KEY_MAX))
		return ATR_E_INVALID_ARG;

	list_sync(c, bucket, prefix);

	struct lister l = {
		.c = c, .bucket = bucket, .p = p, .prefix_len = strlen(prefix),
		.delim_len = p->delimiter ? strlen(p->delimiter) : 0,
		.cb = cb, .arg = arg, .next_start = next_start,
	};
	const char *hi = NULL;
	if (*prefix) {
		if (key_successor(prefix, upto, sizeof(upto)))
			return ATR_E_INVALID_ARG;
		hi = upto;
	}
	if ((rc = perm_view_new(c, u, &b, "s3:ListBucket", &l.v)))
		return rc;
	/* Start at the later of the prefix and the page start. */
	snprintf(l.from, sizeof(l.from), "%s", prefix);
	l.inclusive = 1;
	if (p->start && strcmp(p->start, prefix) >= 0) {
		snprintf(l.from, sizeof(l.from), "%s", p->start);
		l.inclusive = p->start_inclusive;
	}
	/* A page takes one scan per common prefix: one read transaction
	 * around them all makes it one snapshot, or a directory renamed
	 * between two scans shows under its old and its new prefix (or
	 * neither). */
	if ((rc = meta_read_begin(c->meta))) {
		perm_view_release(l.v);
		return rc;
	}
	do {
		l.jumped = 0;
		char from[ATR_KEY_MAX + 2];
		memcpy(from, l.from, sizeof(from));
		rc = meta_obj_scan(c->meta, bucket, from, l.inclusive, hi, 1, on_row, &l);
	} while (!rc && l.jumped && !l.stop && (!hi || strcmp(l.from, hi) < 0));
	meta_read_end(c->meta);
	perm_view_release(l.v);
	*truncated = l.truncated;
	return rc;
}
