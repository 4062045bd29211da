/* core — opening and closing the core, its counters, identities of files met on disk. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "src/ns_int.h"
#include "src/idmap_int.h"
#include "src/perm_int.h"
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
	if ((rc = meta_open(path, &c->meta)) ||
	    (rc = idmap_open(c, cfg->idmap, cfg->id_first, cfg->id_last)))
		goto fail;
	static const char *const own[] = { "meta.db", "meta.db-wal", "meta.db-shm", "ufs" };
	for (size_t i = 0; i < sizeof(own) / sizeof(*own); i++) {
		snprintf(path, sizeof(path), "%s/%s", cfg->data_dir, own[i]);
		keep_private(path);
	}
	snprintf(path, sizeof(path), "%s/ufs", cfg->data_dir);
	if ((rc = ufs_local_new(path, &c->ufs)))
		goto fail;
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
	if ((rc = mpu_open(c)) || (rc = nodes_open(c)) || (rc = perm_open(c)) ||
	    (rc = etag_open(c)))
		goto fail;
	rc = ATR_E_NOMEM;
	if (!(c->cache = bcache_new(cfg->cache_mem_bytes)))
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
	etag_close(c);
	nodes_close(c);
	perm_close(c);
	idmap_close(c);
	bcache_free(c->cache);
	mpu_close(c);
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
	struct meta_stats ms;
	meta_stats(c->meta, &ms);
	out->meta_lookups = ms.lookups;
	out->meta_lookup_ns = ms.lookup_ns;
	out->meta_txns = ms.txns;
	out->meta_txn_ns = ms.txn_ns;
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


