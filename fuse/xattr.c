/* xattr — the mount's extended attribute names over the core (fuse/xattr.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/xattr.h>

#include "fuse/xattr.h"
#include "common/banned.h"

#define XATTR_S3 "user.s3."
#define HEADER_MAX (ATR_USER_MAX * 4)

/* An HTTP field name (RFC 9110 token): what an S3 client can read back. */
static int http_token(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("!#$%&'*+-.^_`|~", *s)))
			return 0;
	return 1;
}

/* An HTTP field value we can send and clients parse: no control
 * character at all (a TAB is legal HTTP but breaks clients' header
 * parsing, boto3's among them), no NUL, CR or LF. */
static int http_text(const unsigned char *v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (v[i] < 0x20 || v[i] == 0x7f)
			return 0;
	return 1;
}

enum kind {
	TABLE,      /* a name of the inode's table */
	ETAG,       /* user.s3.etag */
	ASIDE_SIZE, /* user.s3.object_size: a directory's object kept aside */
	ASIDE_ETAG, /* user.s3.object_etag: the same object's ETag */
	VERSION_ID, /* user.s3.version_id: a versioned file's (read-only) */
	VERSIONS,   /* user.s3.versions: every version of its key (read-only) */
	HEADER,     /* a stored header (out) */
	UNKNOWN,    /* another user.s3. name */
	BAD_HEADER, /* user.s3.meta.NAME where NAME cannot be an HTTP header */
	FOREIGN,    /* not a user. name */
};

/* What name stands for; for HEADER the header's name in out. */
static enum kind kind_of(const char *name, char out[HEADER_MAX])
{
	if (strncmp(name, "user.", 5) || !name[5])
		return FOREIGN;
	if (strncmp(name, XATTR_S3, strlen(XATTR_S3)))
		return TABLE;
	const char *rest = name + strlen(XATTR_S3);
	if (!strcmp(rest, "etag"))
		return ETAG;
	if (!strcmp(rest, "object_size"))
		return ASIDE_SIZE;
	if (!strcmp(rest, "object_etag"))
		return ASIDE_ETAG;
	if (!strcmp(rest, "version_id"))
		return VERSION_ID;
	if (!strcmp(rest, "versions"))
		return VERSIONS;
	if (!strcmp(rest, "content_type")) {
		snprintf(out, HEADER_MAX, "%s", "Content-Type");
		return HEADER;
	}
	if (strncmp(rest, "meta.", 5))
		return UNKNOWN;
	if (!rest[5] || strlen(rest) >= ATR_USER_MAX * 3 || !http_token(rest + 5))
		return BAD_HEADER;
	snprintf(out, HEADER_MAX, "x-amz-meta-%s", rest + 5);
	return HEADER;
}

static int copy_out(const char *v, size_t n, void **val, size_t *len)
{
	if (!(*val = malloc(n ? n : 1)))
		return ATR_E_NOMEM;
	memcpy(*val, v, n);
	*len = n;
	return ATR_OK;
}

int xattr_get(struct atr_core *c, uint64_t ino, const char *name, void **val, size_t *len)
{
	char h[HEADER_MAX], etag[ATR_ETAG_MAX + 1], num[24];
	char *hdrs = NULL;
	uint64_t size;
	int kind, rc;
	enum kind k = kind_of(name, h);
	switch (k) {
	case FOREIGN:
		return ATR_E_NOT_SUPPORTED;
	case TABLE:
		return atr_node_xattr_get(c, ino, name, val, len);
	case ETAG:
		rc = atr_node_etag(c, ino, etag);
		return rc ? rc : copy_out(etag, strlen(etag), val, len);
	case ASIDE_SIZE:
		if ((rc = atr_node_aside(c, ino, &size, etag)))
			return rc;
		snprintf(num, sizeof(num), "%llu", (unsigned long long)size);
		return copy_out(num, strlen(num), val, len);
	case ASIDE_ETAG:
		rc = atr_node_aside(c, ino, &size, etag);
		return rc ? rc : copy_out(etag, strlen(etag), val, len);
	case VERSION_ID:
	case VERSIONS:
		return atr_node_versions(c, ino, k == VERSIONS, (char **)val, len);
	case HEADER:
		rc = atr_node_header_get(c, ino, h, val, len);
		if (rc != ATR_E_NO_KEY || strcmp(h, "Content-Type"))
			return rc;
		/* None stored: a file is served with S3's default. */
		if ((rc = atr_node_headers(c, ino, &hdrs, &kind)))
			return rc;
		free(hdrs);
		if (kind == ATR_NODE_DIR)
			return ATR_E_NO_KEY;
		return copy_out(ATR_CONTENT_TYPE_DEFAULT, strlen(ATR_CONTENT_TYPE_DEFAULT), val,
				len);
	default:
		return ATR_E_NO_KEY;
	}
}

static int atr_flags(int flags)
{
	return (flags & XATTR_CREATE ? ATR_XATTR_CREATE : 0) |
	       (flags & XATTR_REPLACE ? ATR_XATTR_REPLACE : 0);
}

int xattr_set(struct atr_core *c, uint64_t ino, const char *name, const void *val, size_t len,
	      int flags)
{
	char h[HEADER_MAX];
	switch (kind_of(name, h)) {
	case FOREIGN:
		return ATR_E_NOT_SUPPORTED;
	case TABLE:
		return atr_node_xattr_set(c, ino, name, val, len, atr_flags(flags));
	case HEADER:
		/* S3 headers must be header text, or the object's HEAD breaks. */
		if (!http_text(val, len))
			return ATR_E_INVALID_ARG;
		return atr_node_header_set(c, ino, h, val, len, atr_flags(flags));
	case BAD_HEADER:
		return ATR_E_INVALID_ARG;
	default:
		return ATR_E_ACCESS; /* the ETag is the content's */
	}
}

int xattr_remove(struct atr_core *c, uint64_t ino, const char *name)
{
	char h[HEADER_MAX];
	switch (kind_of(name, h)) {
	case FOREIGN:
		return ATR_E_NOT_SUPPORTED;
	case TABLE:
		return atr_node_xattr_remove(c, ino, name);
	case HEADER:
		return atr_node_header_remove(c, ino, h);
	case ETAG:
	case ASIDE_SIZE:
	case ASIDE_ETAG:
	case VERSION_ID:
	case VERSIONS:
		return ATR_E_ACCESS;
	default:
		return ATR_E_NO_KEY;
	}
}

struct names {
	char *v;
	size_t len, cap;
	int oom;
};

static void add_name(struct names *n, const char *name, size_t l)
{
	if (n->len + l + 1 > n->cap) {
		size_t cap = (n->cap ? n->cap * 2 : 256) + l + 1;
		char *v = realloc(n->v, cap);
		if (!v) {
			n->oom = 1;
			return;
		}
		n->v = v;
		n->cap = cap;
	}
	memcpy(n->v + n->len, name, l);
	n->v[n->len + l] = '\0';
	n->len += l + 1;
}

int xattr_list(struct atr_core *c, uint64_t ino, char **names, size_t *len)
{
	struct names n = { 0 };
	char *hdrs = NULL, *table = NULL;
	size_t tlen = 0;
	int kind, rc = atr_node_headers(c, ino, &hdrs, &kind);
	if (rc)
		return rc;
	if (kind == ATR_NODE_FILE)
		add_name(&n, XATTR_S3 "etag", strlen(XATTR_S3 "etag"));
	char *vid = NULL;
	size_t vlen;
	if (kind == ATR_NODE_FILE && !atr_node_versions(c, ino, 0, &vid, &vlen)) {
		add_name(&n, XATTR_S3 "version_id", strlen(XATTR_S3 "version_id"));
		add_name(&n, XATTR_S3 "versions", strlen(XATTR_S3 "versions"));
	}
	free(vid);
	uint64_t size;
	char etag[ATR_ETAG_MAX + 1];
	if (kind == ATR_NODE_DIR && !atr_node_aside(c, ino, &size, etag)) {
		add_name(&n, XATTR_S3 "object_size", strlen(XATTR_S3 "object_size"));
		add_name(&n, XATTR_S3 "object_etag", strlen(XATTR_S3 "object_etag"));
	}
	if (kind != ATR_NODE_DIR) /* a file always has one (xattr_get) */
		add_name(&n, XATTR_S3 "content_type", strlen(XATTR_S3 "content_type"));
	for (const char *p = hdrs; p && *p;) {
		const char *eol = strstr(p, "\r\n");
		size_t l = eol ? (size_t)(eol + 2 - p) : strlen(p);
		const char *colon = memchr(p, ':', l);
		char nm[HEADER_MAX + 32];
		if (colon && (size_t)(colon - p) == 12 && !strncasecmp(p, "Content-Type", 12)) {
			if (kind == ATR_NODE_DIR)
				add_name(&n, XATTR_S3 "content_type",
					 strlen(XATTR_S3 "content_type"));
		} else if (colon && colon - p > 11 && !strncasecmp(p, "x-amz-meta-", 11) &&
			   colon - p - 11 < ATR_USER_MAX * 3) {
			int k = snprintf(nm, sizeof(nm), XATTR_S3 "meta.%.*s", (int)(colon - p - 11),
					 p + 11);
			add_name(&n, nm, (size_t)k);
		}
		p += l;
	}
	free(hdrs);
	if (!(rc = atr_node_xattr_list(c, ino, &table, &tlen)) && tlen) {
		for (size_t i = 0; i < tlen;) {
			size_t l = strlen(table + i);
			add_name(&n, table + i, l);
			i += l + 1;
		}
	}
	free(table);
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
