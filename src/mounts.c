/*
 * mounts — the mount table (src/atrium.h, atr_mount_*): buckets served by
 * a remote store, Alluxio's unified namespace. Each mount is a bucket
 * document of a private kind (DOC_MOUNT: "URI\nkey=value\n..."), so it
 * goes with its bucket's row, and is attached to the mux (src/ufs_mux.c)
 * again at every start, before recovery carries out what a crash left.
 *
 * Secrets: s3.secretKeyFile names a file the daemon reads at each attach
 * (the document keeps the name, never the key); s3.secretKey inline is
 * accepted with a warning, kept in meta.db (0600), and never listed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "src/core_int.h"
#include "src/ns_int.h"
#include "src/persist_int.h"
#include "common/banned.h"

#define DOC_MOUNT 100 /* no public kind (access.c refuses it) */
#define OPT_MAX 4096

/* One mount's driver settings, parsed from its document. */
struct mconf {
	char bucket[ATR_BUCKET_MAX + 1]; /* the remote's */
	char prefix[ATR_KEY_MAX + 1];
	char endpoint[512], region[64], access_key[256], secret[512], ca_bundle[OPT_MAX];
	int path_style; /* -1: by the endpoint */
	uint64_t part_size;
	int64_t sync_ms;
	int write_type, read_type; /* 0: the daemon's default */
};

static int fail(char *err, size_t n, const char *fmt, const char *what)
{
	snprintf(err, n, fmt, what);
	return ATR_E_INVALID_ARG;
}

/* "s3://BUCKET[/PREFIX]" into m. */
static int parse_uri(const char *uri, struct mconf *m, char *err, size_t n)
{
	if (strncmp(uri, "s3://", 5) && strncmp(uri, "s3a://", 6))
		return fail(err, n, "not an s3:// location: %s", uri);
	const char *b = strstr(uri, "://") + 3, *slash = strchr(b, '/');
	size_t blen = slash ? (size_t)(slash - b) : strlen(b);
	if (!blen || blen >= sizeof(m->bucket))
		return fail(err, n, "no remote bucket in %s", uri);
	memcpy(m->bucket, b, blen);
	m->bucket[blen] = '\0';
	const char *p = slash ? slash + 1 : "";
	size_t plen = strlen(p);
	while (plen && p[plen - 1] == '/')
		plen--;
	if (plen >= sizeof(m->prefix) || strstr(p, "//"))
		return fail(err, n, "bad prefix in %s", uri);
	memcpy(m->prefix, p, plen);
	m->prefix[plen] = '\0';
	return ATR_OK;
}

/* The first line of path into out, or an error naming the file. */
static int read_secret(const char *path, char *out, size_t size, char *err, size_t n)
{
	FILE *f = fopen(path, "re");
	if (!f || !fgets(out, (int)size, f)) {
		snprintf(err, n, "cannot read s3.secretKeyFile %s: %s", path,
			 f ? "empty" : strerror(errno));
		if (f)
			fclose(f);
		out[0] = '\0';
		return ATR_E_INVALID_ARG;
	}
	fclose(f);
	out[strcspn(out, "\r\n")] = '\0';
	return ATR_OK;
}

static int copy_opt(char *dst, size_t size, const char *v, const char *k, char *err, size_t n)
{
	if (strlen(v) >= size)
		return fail(err, n, "option %s is too long", k);
	memcpy(dst, v, strlen(v) + 1);
	return ATR_OK;
}

static int parse_bool(const char *v, int *out)
{
	if (!strcmp(v, "true"))
		*out = 1;
	else if (!strcmp(v, "false"))
		*out = 0;
	else
		return -1;
	return 0;
}

/* One "key=value" option into m. */
static int parse_opt(const char *opt, struct mconf *m, char *err, size_t n)
{
	const char *eq = strchr(opt, '=');
	char k[64];
	if (!eq || eq == opt || (size_t)(eq - opt) >= sizeof(k))
		return fail(err, n, "option %s is not key=value", opt);
	memcpy(k, opt, (size_t)(eq - opt));
	k[eq - opt] = '\0';
	const char *v = eq + 1;
	char *end = NULL;
	if (!strcmp(k, "s3.endpoint")) {
		if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
			return fail(err, n, "s3.endpoint must be http:// or https://: %s", v);
		return copy_opt(m->endpoint, sizeof(m->endpoint), v, k, err, n);
	}
	if (!strcmp(k, "s3.region"))
		return copy_opt(m->region, sizeof(m->region), v, k, err, n);
	if (!strcmp(k, "s3.accessKeyId"))
		return copy_opt(m->access_key, sizeof(m->access_key), v, k, err, n);
	if (!strcmp(k, "s3.secretKeyFile"))
		return read_secret(v, m->secret, sizeof(m->secret), err, n);
	if (!strcmp(k, "s3.secretKey"))
		return copy_opt(m->secret, sizeof(m->secret), v, k, err, n);
	if (!strcmp(k, "s3.caBundle"))
		return copy_opt(m->ca_bundle, sizeof(m->ca_bundle), v, k, err, n);
	if (!strcmp(k, "s3.pathStyle"))
		return parse_bool(v, &m->path_style) ? fail(err, n, "s3.pathStyle is true or false: %s", v)
						     : ATR_OK;
	if (!strcmp(k, "s3.partSize")) {
		errno = 0;
		unsigned long long s = strtoull(v, &end, 10);
		if (errno || end == v || *end || s < 5u << 20 || s > 5ull << 30)
			return fail(err, n, "s3.partSize is bytes from 5 MiB to 5 GiB: %s", v);
		m->part_size = s;
		return ATR_OK;
	}
	if (!strcmp(k, "metadata.sync.interval")) {
		errno = 0;
		long long ms = strtoll(v, &end, 10);
		if (errno || end == v || *end || ms < -1)
			return fail(err, n, "metadata.sync.interval is -1, 0 or milliseconds: %s", v);
		m->sync_ms = ms;
		return ATR_OK;
	}
	if (!strcmp(k, "writeType")) {
		if ((m->write_type = atr_write_type_parse(v)) < 0)
			return fail(err, n, "writeType is MUST_CACHE, CACHE_THROUGH, THROUGH or "
				    "ASYNC_THROUGH: %s", v);
		return ATR_OK;
	}
	if (!strcmp(k, "readType")) {
		if ((m->read_type = atr_read_type_parse(v)) < 0)
			return fail(err, n, "readType is CACHE, CACHE_PROMOTE or NO_CACHE: %s", v);
		return ATR_OK;
	}
	return fail(err, n, "unknown mount option %s", k);
}

/* A mount document (uri, then an option a line) into m; strict: a secret
 * file that cannot be read is an error (else logged, the key left empty,
 * so the bucket stays mounted and answers ACCESS until it is fixed). */
static int parse_doc(const char *doc, struct mconf *m, int strict, char *err, size_t n)
{
	memset(m, 0, sizeof(*m));
	m->path_style = -1;
	char line[OPT_MAX + 64];
	const char *p = doc;
	int rc = ATR_OK;
	for (int first = 1; *p && !rc; first = 0) {
		size_t len = strcspn(p, "\n");
		if (len >= sizeof(line))
			return fail(err, n, "mount option too long: %.40s", p);
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (p[len] == '\n');
		rc = first ? parse_uri(line, m, err, n) : parse_opt(line, m, err, n);
		if (rc && !strict && !strncmp(line, "s3.secretKeyFile=", 17)) {
			LOG(LOG_ERROR, "mounts: %s", err);
			rc = ATR_OK;
		}
	}
	return rc;
}

static int driver_new(struct atr_core *c, const struct mconf *m, struct ufs **out)
{
	struct ufs_s3_config cfg = {
		.endpoint = m->endpoint[0] ? m->endpoint : NULL,
		.region = m->region[0] ? m->region : NULL,
		.bucket = m->bucket,
		.prefix = m->prefix,
		.access_key = m->access_key,
		.secret = m->secret,
		.path_style = m->path_style >= 0 ? m->path_style : m->endpoint[0] != '\0',
		.ca_bundle = m->ca_bundle[0] ? m->ca_bundle : NULL,
		.part_size = m->part_size,
		.sync_interval_ms = m->sync_ms,
	};
	return ufs_s3_new(&cfg, c->local, out);
}

static void wipe(struct mconf *m)
{
	explicit_bzero(m->secret, sizeof(m->secret));
}

/* ---- at start ---- */

static int attach_one(void *arg, const char *bucket, const char *doc)
{
	struct atr_core *c = arg;
	struct mconf m;
	struct ufs *d = NULL;
	char err[256] = "";
	int rc = parse_doc(doc, &m, 0, err, sizeof(err));
	if (!rc)
		rc = driver_new(c, &m, &d);
	wipe(&m);
	if (!rc && (rc = ufs_mux_attach(c->ufs, bucket, d)))
		ufs_free(d);
	if (rc)
		LOG(LOG_ERROR, "mounts: bucket %s cannot be mounted again: %s%s%s", bucket,
		    atr_strerror(rc), err[0] ? ": " : "", err);
	return 0;
}

int mounts_open(struct atr_core *c)
{
	return meta_bucket_doc_scan(c->meta, DOC_MOUNT, attach_one, c);
}

int mounts_types(struct atr_core *c, const char *bucket, int *wt, int *rt)
{
	char *doc = NULL;
	*wt = *rt = 0;
	int rc = meta_bucket_doc_get(c->meta, bucket, DOC_MOUNT, &doc);
	if (rc)
		return rc;
	/* Only the two lines wanted: no secret file is read for this. */
	for (const char *p = strchr(doc, '\n'); p; p = strchr(p + 1, '\n')) {
		char v[32];
		size_t len;
		if (!strncmp(p + 1, "writeType=", 10) && (len = strcspn(p + 11, "\n")) < sizeof(v)) {
			memcpy(v, p + 11, len);
			v[len] = '\0';
			*wt = atr_write_type_parse(v) > 0 ? atr_write_type_parse(v) : 0;
		} else if (!strncmp(p + 1, "readType=", 9) && (len = strcspn(p + 10, "\n")) < sizeof(v)) {
			memcpy(v, p + 10, len);
			v[len] = '\0';
			*rt = atr_read_type_parse(v) > 0 ? atr_read_type_parse(v) : 0;
		}
	}
	free(doc);
	return ATR_OK;
}

void mounts_bucket_gone(struct atr_core *c, const char *bucket)
{
	if (!ufs_mux_detach(c->ufs, bucket))
		LOG(LOG_INFO, "mounts: bucket %s deleted; its mount is gone (the remote keeps its data)",
		    bucket);
}

/* ---- the table ---- */

struct doc_put {
	const char *bucket, *doc;
};

static int doc_put_fn(struct atr_core *c, void *arg)
{
	struct doc_put *d = arg;
	return meta_bucket_doc_put(c->meta, d->bucket, DOC_MOUNT, d->doc);
}

/* The document of a mount: uri, then each option, a line each. */
static char *doc_make(const char *uri, const char *const *opts, size_t nopts, char *err, size_t n)
{
	struct buf b = BUF_INIT(64 * 1024);
	int bad = strchr(uri, '\n') != NULL || buf_addstr(&b, uri);
	for (size_t i = 0; i < nopts && !bad; i++)
		bad = strchr(opts[i], '\n') || buf_addch(&b, '\n') || buf_addstr(&b, opts[i]);
	if (bad || !b.ptr) {
		snprintf(err, n, "a mount's location and options are single lines");
		buf_release(&b);
		return NULL;
	}
	return b.ptr;
}

/* The mount's bucket: made for u if there is none, else emptied of its
 * local directory (which must be empty), the remote already attached. */
static int bucket_take(struct atr_core *c, const struct atr_user *u, const char *bucket,
		       char *err, size_t n)
{
	struct atr_bucket b;
	int rc = meta_bucket_get(c->meta, bucket, &b);
	if (rc == ATR_E_NO_BUCKET)
		return ns_bucket_make(c, u->name, bucket, 0700);
	if (rc)
		return rc;
	/* A remote store keeps no versions (src/version.c): a versioned
	 * bucket is not mounted, and its versions, if any, are content. */
	if (b.versioning) {
		snprintf(err, n, "bucket %s is versioned: a remote store keeps no versions", bucket);
		return ATR_E_INVALID_ARG;
	}
	rc = meta_ver_count(c->meta, bucket) != 0 ? ATR_E_BUCKET_NOT_EMPTY
						   : ufs_rmdir(c->local, bucket);
	if (rc == ATR_E_BUCKET_NOT_EMPTY)
		snprintf(err, n, "bucket %s holds objects: only an empty or new bucket is mounted",
			 bucket);
	return rc;
}

int atr_mount_add(struct atr_core *c, const struct atr_user *u, const char *bucket,
		  const char *uri, const char *const *opts, size_t nopts, char *err, size_t n)
{
	err[0] = '\0';
	if (!u->superuser)
		return ATR_E_ACCESS;
	if (!atr_bucket_name_valid(bucket))
		return ATR_E_INVALID_BUCKET;
	char *doc = doc_make(uri, opts, nopts, err, n);
	if (!doc)
		return ATR_E_INVALID_ARG;
	for (size_t i = 0; i < nopts; i++)
		if (!strncmp(opts[i], "s3.secretKey=", 13))
			LOG(LOG_WARN, "mounts: bucket %s: s3.secretKey kept in the metadata store; "
				      "s3.secretKeyFile keeps it out", bucket);
	struct mconf m;
	struct ufs *d = NULL;
	int rc = parse_doc(doc, &m, 1, err, n);
	if (!rc)
		rc = driver_new(c, &m, &d);
	wipe(&m);
	struct ufs_stat st;
	if (!rc && (rc = ufs_stat(d, "", &st)) == ATR_OK && !st.is_dir)
		rc = ATR_E_NO_BUCKET;
	if (rc && d && !err[0])
		snprintf(err, n, "the remote %s: %s", uri, atr_strerror(rc));
	pthread_mutex_lock(&c->mounts_lock);
	char *old = NULL;
	if (!rc && meta_bucket_doc_get(c->meta, bucket, DOC_MOUNT, &old) == ATR_OK) {
		snprintf(err, n, "bucket %s is mounted already", bucket);
		rc = ATR_E_EXISTS;
	}
	free(old);
	if (!rc && !(rc = ufs_mux_attach(c->ufs, bucket, d))) {
		d = NULL; /* the mux's */
		struct doc_put p = { bucket, doc };
		if ((rc = bucket_take(c, u, bucket, err, n)) || (rc = ns_txn(c, doc_put_fn, &p)))
			ufs_mux_detach(c->ufs, bucket);
	}
	pthread_mutex_unlock(&c->mounts_lock);
	ufs_free(d);
	free(doc);
	if (!rc)
		LOG(LOG_INFO, "mounts: bucket %s mounted on %s", bucket, uri);
	return rc;
}

int atr_mount_remove(struct atr_core *c, const struct atr_user *u, const char *bucket)
{
	if (!u->superuser)
		return ATR_E_ACCESS;
	if (!atr_bucket_name_valid(bucket))
		return ATR_E_INVALID_BUCKET;
	pthread_mutex_lock(&c->mounts_lock);
	char *doc = NULL;
	int rc = meta_bucket_doc_get(c->meta, bucket, DOC_MOUNT, &doc);
	free(doc);
	if (rc == ATR_E_NO_KEY)
		rc = ATR_E_NO_CONFIG;
	if (!rc)
		rc = ns_bucket_forget(c, bucket); /* detaches it (mounts_bucket_gone) */
	pthread_mutex_unlock(&c->mounts_lock);
	if (!rc)
		LOG(LOG_INFO, "mounts: bucket %s unmounted", bucket);
	return rc;
}

struct list_args {
	int (*cb)(void *arg, const char *bucket, const char *uri, const char *options);
	void *arg;
	int rc;
};

static int list_one(void *arg, const char *bucket, const char *doc)
{
	struct list_args *a = arg;
	struct buf opts = BUF_INIT(64 * 1024);
	size_t ulen = strcspn(doc, "\n");
	char *uri = strndup(doc, ulen);
	int bad = !uri;
	for (const char *p = doc + ulen; *p && !bad; p += strcspn(p, "\n")) {
		p++;
		size_t len = strcspn(p, "\n");
		int secret = !strncmp(p, "s3.secretKey=", 13);
		bad = (opts.len && buf_addch(&opts, '\n')) ||
		      buf_add(&opts, p, secret ? 13 : len) || (secret && buf_addstr(&opts, "****"));
	}
	if (!bad)
		a->rc = a->cb(a->arg, bucket, uri, opts.ptr ? opts.ptr : "");
	else
		a->rc = ATR_E_NOMEM;
	free(uri);
	buf_release(&opts);
	return a->rc;
}

int atr_mount_list(struct atr_core *c, const struct atr_user *u,
		   int (*cb)(void *arg, const char *bucket, const char *uri, const char *options),
		   void *arg)
{
	if (!u->superuser)
		return ATR_E_ACCESS;
	struct list_args a = { cb, arg, ATR_OK };
	int rc = meta_bucket_doc_scan(c->meta, DOC_MOUNT, list_one, &a);
	return rc ? rc : a.rc;
}
