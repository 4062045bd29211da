/*
 * node_xattr — what the mount shows as extended attributes, as the core
 * keeps it (src/atrium.h, "Extended attributes"): an inode's stored
 * headers (its object's S3 metadata, "Name: value" lines the core edits by
 * name and never interprets), its ETag, and a table of any other
 * attribute kept under the inode. Which xattr name stands for which is
 * the mount door's (fuse/xattr.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/timefmt.h"
#include "src/node_int.h"
#include "common/banned.h"

/* Stored headers past this many bytes are refused (ATR_E_TOO_LARGE). */
#define HDRS_MAX 8192
/* A value in the xattrs table past this many bytes is refused. */
#define XATTR_VALUE_MAX 65536

/* The line of header h in hdrs: its start and length (with CRLF). */
static const char *hdr_find(const char *hdrs, const char *h, size_t *len)
{
	size_t hl = strlen(h);
	for (const char *p = hdrs; p && *p;) {
		const char *eol = strstr(p, "\r\n");
		size_t n = eol ? (size_t)(eol + 2 - p) : strlen(p);
		if (n > hl && p[hl] == ':' && !strncasecmp(p, h, hl)) {
			*len = n;
			return p;
		}
		p += n;
	}
	return NULL;
}

/* hdrs with header h's line (at line, ll bytes, or absent) replaced by
 * val, or removed (val NULL): a new string in *out. */
static int hdrs_edit(const char *hdrs, const char *line, size_t ll, const char *h,
		     const void *val, size_t len, char **out)
{
	hdrs = hdrs ? hdrs : "";
	size_t hl = strlen(hdrs), cap = hl + strlen(h) + len + 8;
	if (cap > HDRS_MAX)
		return ATR_E_TOO_LARGE;
	char *n = malloc(cap);
	if (!n)
		return ATR_E_NOMEM;
	size_t pre = line ? (size_t)(line - hdrs) : hl, w = 0;
	memcpy(n, hdrs, pre);
	if (val)
		w = (size_t)snprintf(n + pre, cap - pre, "%s: %.*s\r\n", h, (int)len,
				     (const char *)val);
	snprintf(n + pre + w, cap - pre - w, "%s", line ? line + ll : "");
	*out = n;
	return ATR_OK;
}

/* A copy of len bytes of v (one byte at least, so that an empty value is
 * not NULL) into *val. */
static int value_dup(const char *v, size_t len, void **val, size_t *vlen)
{
	if (!(*val = malloc(len ? len : 1)))
		return ATR_E_NOMEM;
	memcpy(*val, v, len);
	*vlen = len;
	return ATR_OK;
}

int atr_node_header_get(struct atr_core *c, uint64_t ino, const char *name, void **val,
			size_t *len)
{
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	size_t n = 0;
	int rc = node_row(c, ino, bucket, key, &row, 1);
	if (rc)
		return rc;
	const char *v = hdr_find(row.obj.hdrs, name, &n);
	if (!v) {
		rc = ATR_E_NO_KEY;
	} else {
		v += strlen(name) + 1;
		n -= strlen(name) + 1 + 2;
		while (n && *v == ' ') {
			v++;
			n--;
		}
		rc = value_dup(v, n, val, len);
	}
	atr_obj_release(&row.obj);
	return rc;
}

int atr_node_headers(struct atr_core *c, uint64_t ino, char **hdrs, int *kind)
{
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	int rc = node_row(c, ino, bucket, key, &row, 1);
	if (rc)
		return rc;
	*kind = row.obj.is_dir ? ATR_NODE_DIR : row.pending ? ATR_NODE_NEW : ATR_NODE_FILE;
	*hdrs = row.obj.hdrs; /* handed over */
	return ATR_OK;
}

int atr_node_etag(struct atr_core *c, uint64_t ino, char etag[ATR_ETAG_MAX + 1])
{
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	int rc = node_row(c, ino, bucket, key, &row, 0);
	if (rc)
		return rc;
	if (row.obj.is_dir || row.pending)
		return ATR_E_NO_KEY; /* no content, or none committed yet */
	if ((rc = etag_settle(c, bucket, key, &row.obj, 1)))
		return rc == ATR_E_CONFLICT ? ATR_E_IO : rc;
	snprintf(etag, ATR_ETAG_MAX + 1, "%s", row.obj.etag);
	return ATR_OK;
}

/* ---- versions (src/ns_version.c): read-only ---- */

struct vtext {
	const char *key;
	struct buf *b;
	int n;
};

/* One line per version of the key, newest first; stops past the key. */
static int version_line(void *arg, const char *key, int current, const struct meta_version *v)
{
	struct vtext *t = arg;
	char date[TIMEFMT_LEN];
	if (strcmp(key, t->key))
		return 1;
	time_fmt_iso8601_ms(v->obj.mtime_ns, date);
	t->n++;
	if (v->marker)
		return buf_addf(t->b, "%s delete-marker - %s\n", v->obj.vid, date) ? -1 : 0;
	return buf_addf(t->b, "%s %llu %s %s%s\n", *v->obj.vid ? v->obj.vid : "null",
			(unsigned long long)v->obj.size, v->obj.etag, date,
			current ? " current" : "")
		       ? -1
		       : 0;
}

int atr_node_versions(struct atr_core *c, uint64_t ino, int all, char **text, size_t *len)
{
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	struct buf b = BUF_INIT(1 << 20);
	int rc = node_row(c, ino, bucket, key, &row, 0);
	*text = NULL;
	*len = 0;
	if (rc)
		return rc;
	if (row.obj.is_dir || row.pending || !*row.obj.vid)
		return ATR_E_NO_KEY; /* never versioned: no id to show */
	struct vtext t = { key, &b, 0 };
	if (!all)
		rc = buf_addstr(&b, row.obj.vid) ? ATR_E_TOO_LARGE : ATR_OK;
	else if ((rc = meta_ver_scan(c->meta, bucket, key, "\xf5", version_line, &t)) == -1)
		rc = ATR_OK;
	if (rc || !b.len) {
		buf_release(&b);
		return rc ? rc : ATR_E_NO_KEY;
	}
	*len = b.len;
	*text = b.ptr; /* handed over */
	return ATR_OK;
}

int atr_node_aside(struct atr_core *c, uint64_t ino, uint64_t *size,
		   char etag[ATR_ETAG_MAX + 1])
{
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	int rc = node_row(c, ino, bucket, key, &row, 0);
	if (rc)
		return rc;
	size_t n = strlen(key);
	if (!row.obj.is_dir || !n)
		return ATR_E_NO_KEY; /* a file, or a bucket's root */
	if (!row.side) {
		/* Not a marker with bytes: the object of the directory's name. */
		key[n - 1] = '\0';
		if ((rc = meta_obj_get(c->meta, bucket, key, &row, 0)))
			return rc;
		if (!row.side || row.obj.is_dir)
			return ATR_E_NO_KEY;
	}
	*size = row.obj.size;
	snprintf(etag, ATR_ETAG_MAX + 1, "%s", row.obj.etag);
	return ATR_OK;
}

int atr_node_xattr_get(struct atr_core *c, uint64_t ino, const char *name, void **val,
		       size_t *len)
{
	if (ino <= ATR_INO_ROOT)
		return ATR_E_NO_KEY;
	return meta_xattr_get(c->meta, ino - 1, name, val, len);
}

/* A change of one header or one attribute of the table, inside ns_txn. */
struct xattr_args {
	uint64_t ino;
	const char *name;
	int header;          /* name is a stored header's; else the table's */
	const void *val;     /* NULL: remove it */
	size_t len;
	int flags;           /* ATR_XATTR_CREATE, ATR_XATTR_REPLACE */
};

static int xattr_fn(struct atr_core *c, void *arg)
{
	struct xattr_args *x = arg;
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	const char *line = NULL;
	size_t ll = 0;
	int rc = node_row(c, x->ino, bucket, key, &row, 1);
	if (rc)
		return rc;
	int exists;
	if (x->header) {
		exists = (line = hdr_find(row.obj.hdrs, x->name, &ll)) != NULL;
	} else {
		void *old = NULL;
		size_t oldlen;
		exists = meta_xattr_get(c->meta, x->ino - 1, x->name, &old, &oldlen) == ATR_OK;
		free(old);
	}
	if ((x->flags & ATR_XATTR_CREATE) && exists)
		rc = ATR_E_EXISTS;
	else if (((x->flags & ATR_XATTR_REPLACE) || !x->val) && !exists)
		rc = ATR_E_NO_KEY;
	else if (!x->header && !x->val)
		rc = meta_xattr_delete(c->meta, x->ino - 1, x->name);
	else if (!x->header)
		rc = x->len > XATTR_VALUE_MAX
			     ? ATR_E_TOO_LARGE
			     : meta_xattr_put(c->meta, x->ino - 1, x->name, x->val, x->len);
	else {
		char *n;
		if (!(rc = hdrs_edit(row.obj.hdrs, line, ll, x->name, x->val, x->len, &n))) {
			free(row.obj.hdrs);
			row.obj.hdrs = n;
		}
	}
	/* A change of an attribute is a change of the inode (ctime). */
	if (!rc) {
		row.obj.ctime_ns = time_now_ns();
		rc = meta_obj_set_posix(c->meta, &row);
	}
	atr_obj_release(&row.obj);
	return rc;
}

/* Sets (set: val, len bytes; val may be NULL for none) or removes one. */
static int xattr_change(struct atr_core *c, uint64_t ino, const char *name, int header, int set,
			const void *val, size_t len, int flags)
{
	struct xattr_args x = { ino, name, header, set ? (len ? val : "") : NULL, len, flags };
	int rc = ns_txn(c, xattr_fn, &x);
	ns_settle(c);
	return rc;
}

int atr_node_header_set(struct atr_core *c, uint64_t ino, const char *name, const void *val,
			size_t len, int flags)
{
	return xattr_change(c, ino, name, 1, 1, val, len, flags);
}

int atr_node_header_remove(struct atr_core *c, uint64_t ino, const char *name)
{
	return xattr_change(c, ino, name, 1, 0, NULL, 0, 0);
}

int atr_node_xattr_set(struct atr_core *c, uint64_t ino, const char *name, const void *val,
		       size_t len, int flags)
{
	return xattr_change(c, ino, name, 0, 1, val, len, flags);
}

int atr_node_xattr_remove(struct atr_core *c, uint64_t ino, const char *name)
{
	return xattr_change(c, ino, name, 0, 0, NULL, 0, 0);
}

struct names {
	char *v;
	size_t len, cap;
	int oom;
};

static int add_name(void *arg, const char *name)
{
	struct names *n = arg;
	size_t l = strlen(name) + 1;
	if (n->len + l > n->cap) {
		size_t cap = (n->cap ? n->cap * 2 : 256) + l;
		char *v = realloc(n->v, cap);
		if (!v) {
			n->oom = 1;
			return 1;
		}
		n->v = v;
		n->cap = cap;
	}
	memcpy(n->v + n->len, name, l);
	n->len += l;
	return 0;
}

int atr_node_xattr_list(struct atr_core *c, uint64_t ino, char **names, size_t *len)
{
	struct names n = { 0 };
	*names = NULL;
	*len = 0;
	if (ino <= ATR_INO_ROOT)
		return ATR_OK;
	int rc = meta_xattr_list(c->meta, ino - 1, add_name, &n);
	if (!rc && n.oom)
		rc = ATR_E_NOMEM;
	if (rc) {
		free(n.v);
		return rc;
	}
	*names = n.v;
	*len = n.len;
	return ATR_OK;
}
