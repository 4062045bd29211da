/* core — opening and closing the core, its counters, identities of files met on disk. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "src/ns_int.h"
#include "src/idmap_int.h"
#include "src/perm_int.h"
#include "src/persist_int.h"
#include "common/banned.h"

/*
 * The daemon serves access to what DATA holds; the host must not read
 * around it. Everything Atrium makes there is 0700 or 0600 (ufs_local.c,
 * SQLite copies meta.db's mode to its -wal and -shm); a data directory
 * from an older version, whose parts were 0755 and 0644, is closed here.
 * A path that does not exist is left alone.
 */
static void keep_private(const char *path)
{
	struct stat st;
	if (lstat(path, &st) || !(st.st_mode & 077) || S_ISLNK(st.st_mode))
		return;
	if (chmod(path, st.st_mode & 07700))
		LOG(LOG_WARN, "core: cannot make %s private: %s", path, strerror(errno));
	else
		LOG(LOG_INFO, "core: %s was open to other host users; now %04o", path,
		    (unsigned)(st.st_mode & 07700));
}

/*
 * DATA/cache_id: a random id made at the data directory's first start
 * with a DISK tier. The tier's blocks are keyed by inode numbers, unique
 * only within this metadata store, so the tier keeps the id of the store
 * its blocks belong to and wipes itself when it is handed to another
 * (a fresh DATA over an old --cache-disk DIR).
 */
/*
 * The disk tier's DIR must not be inside the under-storage (ufs, DATA/ufs):
 * its block files would be listed and served as objects. DIR is created
 * here to compare real paths (dcache_open would create it anyway), and
 * removed again if it is refused.
 */
__attribute__((noinline)) static int disk_in_ufs(const char *dir, const char *ufs)
{
	char d[PATH_MAX], u[PATH_MAX];
	int made = !mkdir(dir, 0700);
	if (!made && errno != EEXIST) {
		LOG(LOG_ERROR, "cache-disk: cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!realpath(dir, d) || !realpath(ufs, u)) {
		LOG(LOG_ERROR, "cache-disk: cannot resolve %s: %s", dir, strerror(errno));
		return -1;
	}
	size_t n = strlen(u);
	if (!strncmp(d, u, n) && (d[n] == '/' || d[n] == '\0')) {
		LOG(LOG_ERROR, "cache-disk: %s is inside the under-storage %s: its blocks would "
			       "be served as objects", dir, u);
		if (made)
			rmdir(dir); /* leave the under-storage as it was */
		return -1;
	}
	return 0;
}

/* Not inlined: its paths would double core_open_wrapped's frame. */
__attribute__((noinline)) static int cache_id(const char *data, char out[33])
{
	char path[4096];
	unsigned char r[16];
	snprintf(path, sizeof(path), "%s/cache_id", data);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		ssize_t n = read(fd, out, 32);
		close(fd);
		out[n == 32 ? 32 : 0] = '\0';
		if (n == 32)
			return 0;
	}
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -1;
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	char tmp[4100];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, out, 32) != 32 || fsync(fd) || close(fd) || rename(tmp, path)) {
		LOG(LOG_ERROR, "core: cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int atr_core_open(const struct atr_core_config *cfg, struct atr_core **out)
{
	return core_open_wrapped(cfg, NULL, NULL, out);
}

int core_open_wrapped(const struct atr_core_config *cfg,
		      struct ufs *(*wrap)(void *arg, struct ufs *inner), void *arg,
		      struct atr_core **out)
{
	char path[4096];
	int rc = ATR_E_NOMEM;
	struct atr_core *c = calloc(1, sizeof(*c));
	if (!c)
		return ATR_E_NOMEM;
	pthread_mutex_init(&c->ns_lock, NULL);
	pthread_mutex_init(&c->mounts_lock, NULL);
	c->block_size = cfg->cache_block_size ? cfg->cache_block_size : 1 << 20;

	struct passwd pw, *res = NULL;
	char pwbuf[4096];
	getpwuid_r(getuid(), &pw, pwbuf, sizeof(pwbuf), &res);
	c->daemon_user = strdup(res ? res->pw_name : "root");
	if (!c->daemon_user)
		goto fail;

	if (mkdir(cfg->data_dir, 0700) && errno != EEXIST) {
		LOG(LOG_ERROR, "core: cannot create %s: %s", cfg->data_dir, strerror(errno));
		rc = ATR_E_IO;
		goto fail;
	}
	keep_private(cfg->data_dir);
	snprintf(path, sizeof(path), "%s/meta.db", cfg->data_dir);
	if ((rc = meta_open(path, &c->meta)))
		goto fail;
	c->durable = cfg->durable;
	if (cfg->durable)
		meta_set_durable(c->meta);
	if ((rc = idmap_open(c, cfg->idmap, cfg->id_first, cfg->id_last)))
		goto fail;
	static const char *const own[] = { "meta.db", "meta.db-wal", "meta.db-shm", "ufs" };
	for (size_t i = 0; i < sizeof(own) / sizeof(*own); i++) {
		snprintf(path, sizeof(path), "%s/%s", cfg->data_dir, own[i]);
		keep_private(path);
	}
	snprintf(path, sizeof(path), "%s/ufs", cfg->data_dir);
	if ((rc = ufs_local_new(path, &c->ufs)))
		goto fail;
	if (cfg->durable)
		ufs_local_set_durable(c->ufs);
	if (wrap) {
		struct ufs *outer = wrap(arg, c->ufs);
		if (!outer) {
			rc = ATR_E_NOMEM; /* c->ufs, still the local driver, goes below */
			goto fail;
		}
		c->ufs = outer;
	}
	if ((rc = ufs_check(c->ufs)))
		goto fail;
	c->local = c->ufs;
	if ((rc = ufs_mux_new(c->local, &c->ufs)))
		goto fail; /* c->ufs, still the local driver, goes below */
	if ((rc = mounts_open(c)) || (rc = ns_recover(c)))
		goto fail;
	if ((rc = sse_open(c, cfg->data_dir)) || (rc = mpu_open(c)) || (rc = nodes_open(c)) ||
	    (rc = perm_open(c)) ||
	    (rc = etag_open(c)))
		goto fail;
	rc = ATR_E_NOMEM;
	if (!(c->cache = bcache_new(cfg->cache_mem_bytes)))
		goto fail;
	if (cfg->cache_disk_dir && *cfg->cache_disk_dir) {
		char id[33];
		rc = ATR_E_IO;
		snprintf(path, sizeof(path), "%s/ufs", cfg->data_dir);
		if (disk_in_ufs(cfg->cache_disk_dir, path) || cache_id(cfg->data_dir, id) ||
		    !(c->disk = dcache_open(cfg->cache_disk_dir, cfg->cache_disk_bytes,
					    c->block_size, id)))
			goto fail;
		bcache_set_disk(c->cache, c->disk);
	}
	/* After recovery and the cache: it uploads what the queue holds. */
	c->write_type = cfg->write_type;
	c->read_type = cfg->read_type;
	if ((rc = persist_open(c)))
		goto fail;
	*out = c;
	return ATR_OK;
fail:
	atr_core_close(c);
	return rc;
}

void atr_core_close(struct atr_core *c)
{
	if (!c)
		return;
	persist_close(c);
	etag_close(c);
	nodes_close(c);
	perm_close(c);
	idmap_close(c);
	bcache_free(c->cache);
	dcache_free(c->disk); /* after: bcache_free does not touch it */
	mpu_close(c);
	sse_close(c);
	ufs_free(c->ufs);
	pthread_mutex_destroy(&c->mounts_lock);
	meta_close(c->meta);
	pthread_mutex_destroy(&c->ns_lock);
	free(c->daemon_user);
	free(c);
}

void atr_core_stats(struct atr_core *c, struct atr_stats *out)
{
	struct bcache_stats s;
	bcache_stats(c->cache, &s);
	out->cache_hits = s.hits;
	out->cache_misses = s.misses;
	out->cache_evictions = s.evictions;
	out->cache_bytes = s.bytes;
	out->cache_capacity = s.capacity;
	out->cache_fills = s.fills;
	struct dcache_stats d = { 0 };
	if (c->disk)
		dcache_stats(c->disk, &d);
	out->disk_hits = d.hits;
	out->disk_misses = d.misses;
	out->disk_evictions = d.evictions;
	out->disk_bytes = d.bytes;
	out->disk_capacity = d.capacity;
	out->disk_blocks = d.blocks;
	out->disk_corrupt = d.corrupt;
	out->disk_write_errors = d.write_errors;
	out->disk_stale = d.stale;
	struct meta_stats ms;
	meta_stats(c->meta, &ms);
	out->meta_lookups = ms.lookups;
	out->meta_lookup_ns = ms.lookup_ns;
	out->meta_txns = ms.txns;
	out->meta_txn_ns = ms.txn_ns;
	out->meta_checkpoints = ms.ckpts;
	out->meta_checkpoint_ns = ms.ckpt_ns;
}

const char *atr_core_daemon_user(const struct atr_core *c) { return c->daemon_user; }

void atr_core_set_users(struct atr_core *c, const struct atr_idents *ids) { c->users = ids; }

int atr_core_check(struct atr_core *c, const char **what)
{
	struct statvfs sv;
	/* A point lookup of a bucket no one can name: the store answers. */
	int rc = meta_bucket_get(c->meta, "", NULL);
	if (rc != ATR_E_NO_BUCKET) {
		*what = "store";
		return rc ? rc : ATR_E_INTERNAL;
	}
	if (ufs_can(c->ufs, UFS_CAP_STATFS) && (rc = ufs_statfs(c->ufs, &sv))) {
		*what = "ufs";
		return rc;
	}
	/* A UFS step owed after its commit (ns_owe): nothing changes until
	 * it is done. Read without ns_lock: a moment stale at worst. */
	if (__atomic_load_n(&c->ns_owed, __ATOMIC_RELAXED)) {
		*what = "ufs steps owed";
		return ATR_E_IO;
	}
	*what = NULL;
	return ATR_OK;
}

void atr_obj_release(struct atr_obj *o)
{
	free(o->hdrs);
	o->hdrs = NULL;
}

void owner_of_uid(struct atr_core *c, uid_t uid, char out[ATR_USER_MAX + 1])
{
	idmap_name(c, (uint32_t)uid, out);
}


