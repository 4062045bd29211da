/*
 * idmap — S3 users as host users (uid and gid), and back: what the mount
 * shows as a file's owner and what group a user is in for a permission
 * check (src/idmap_int.h; docs/permissions.md, "Users and host ids").
 *
 * A name's ids, in this order:
 *   1. the daemon's own user: the daemon's uid and gid;
 *   2. the id map file (--idmap): "NAME UID [GID]" lines;
 *   3. a host account of that name (getpwnam);
 *   4. a name that is a decimal uid (a host uid without a name): itself;
 *   5. else ids allocated once from --id-range and kept in the metadata
 *      store (idmap table), skipping every uid a host account holds or the
 *      map file names, so that no local account ever owns someone else's
 *      files through the mount.
 * A uid's name is the reverse, in the same order, and else its decimal
 * form (which maps back to it: nameless uids round-trip).
 *
 * Answers are remembered (a small table, guarded by lock); allocation
 * takes lock too, so a name is allocated once. The store is written in a
 * transaction of its own, never inside a caller's (meta_in_txn).
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "src/ns_int.h"
#include "src/idmap_int.h"
#include "common/banned.h"

#define REMEMBERED 128
#define MAP_MAX 100000   /* lines of an id map file */

struct idmap_entry {
	char name[ATR_USER_MAX + 1];
	uint32_t uid, gid;
};

struct idmap {
	pthread_mutex_t lock;
	pthread_rwlock_t maplock;  /* guards map and nmap (SIGHUP re-reads the file) */
	struct idmap_entry *map;   /* the file's, in file order */
	size_t nmap;
	char *path;                /* the file; NULL: none */
	uint32_t first, last;      /* where allocated ids come from */
	struct idmap_entry seen[REMEMBERED]; /* guarded by lock (and only they) */
	unsigned next;                       /* guarded by lock */
};

static int parse_id(const char *s, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *s == '+' || v >= 0xffffffffUL)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* "NAME UID [GID]" lines, '#' comments, into m->map (not yet shared). */
static int load_file(struct idmap *m, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int lineno = 0, rc = ATR_OK;
	if (!f) {
		LOG(LOG_ERROR, "idmap: cannot read %s: %s", path, strerror(errno));
		return ATR_E_IO;
	}
	while (fgets(line, sizeof(line), f)) {
		char name[ATR_USER_MAX + 2], uid[16], gid[16] = "";
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		int n = sscanf(line, "%65s %15s %15s", name, uid, gid);
		if (n <= 0)
			continue;
		struct idmap_entry e = { .uid = 0 };
		if (n < 2 || !atr_user_name_valid(name, strlen(name)) || parse_id(uid, &e.uid) ||
		    parse_id(*gid ? gid : uid, &e.gid) || m->nmap == MAP_MAX) {
			LOG(LOG_ERROR, "idmap: %s:%d: not NAME UID [GID]", path, lineno);
			rc = ATR_E_INVALID_ARG;
			break;
		}
		snprintf(e.name, sizeof(e.name), "%s", name);
		void *v = realloc(m->map, (m->nmap + 1) * sizeof(*m->map));
		if (!v) {
			rc = ATR_E_NOMEM;
			break;
		}
		m->map = v;
		m->map[m->nmap++] = e;
	}
	fclose(f);
	return rc;
}

int idmap_open(struct atr_core *c, const char *path, uint32_t first, uint32_t last)
{
	struct idmap *m = calloc(1, sizeof(*m));
	if (!m)
		return ATR_E_NOMEM;
	pthread_mutex_init(&m->lock, NULL);
	pthread_rwlock_init(&m->maplock, NULL);
	m->first = first ? first : IDMAP_FIRST;
	m->last = last ? last : IDMAP_LAST;
	c->idmap = m;
	if (m->first > m->last) {
		LOG(LOG_ERROR, "idmap: the id range %u-%u is empty", m->first, m->last);
		return ATR_E_INVALID_ARG;
	}
	if (!path || !*path)
		return ATR_OK;
	if (!(m->path = strdup(path)))
		return ATR_E_NOMEM;
	return load_file(m, path);
}

int atr_core_reload_idmap(struct atr_core *c)
{
	struct idmap *m = c->idmap, fresh = { .nmap = 0 };
	if (!m || !m->path)
		return ATR_OK;
	int rc = load_file(&fresh, m->path);
	if (rc) {
		LOG(LOG_ERROR, "idmap: kept the map loaded before: %s could not be used", m->path);
		free(fresh.map);
		return rc;
	}
	pthread_rwlock_wrlock(&m->maplock);
	struct idmap_entry *old = m->map;
	size_t before = m->nmap;
	m->map = fresh.map;
	m->nmap = fresh.nmap;
	pthread_rwlock_unlock(&m->maplock);
	free(old);
	/* Remembered answers may come from the old map. */
	pthread_mutex_lock(&m->lock);
	memset(m->seen, 0, sizeof(m->seen));
	pthread_mutex_unlock(&m->lock);
	LOG(LOG_INFO, "idmap: re-read %s: %zu entries (%zu before)", m->path, fresh.nmap, before);
	return ATR_OK;
}

void idmap_close(struct atr_core *c)
{
	struct idmap *m = c->idmap;
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	pthread_rwlock_destroy(&m->maplock);
	free(m->map);
	free(m->path);
	free(m);
	c->idmap = NULL;
}

/* The map file's entry for name (or, name NULL, for uid), copied to
 * *out: 1 if there is one. */
static int in_map(struct idmap *m, const char *name, uint32_t uid, struct idmap_entry *out)
{
	int found = 0;
	pthread_rwlock_rdlock(&m->maplock);
	for (size_t i = 0; i < m->nmap && !found; i++)
		if (name ? !strcmp(m->map[i].name, name) : m->map[i].uid == uid) {
			*out = m->map[i];
			found = 1;
		}
	pthread_rwlock_unlock(&m->maplock);
	return found;
}

/* Is uid taken by a host account or the map file? */
static int taken(struct idmap *m, uint32_t uid)
{
	struct passwd pw, *res = NULL;
	struct idmap_entry e;
	char buf[4096];
	return in_map(m, NULL, uid, &e) || uid == getuid() ||
	       (!getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res) && res);
}

/* Allocates ids for name in the store, in the kernel's transaction: the
 * next free id of the range, once (another allocation, of this process or
 * of another sharing the store, may have come first). */
struct alloc {
	struct idmap *m;
	const char *name;
	uint32_t uid;
};

static int allocate_fn(struct atr_core *c, void *arg)
{
	struct alloc *a = arg;
	struct idmap *m = a->m;
	int rc = meta_idmap_by_name(c->meta, a->name, &a->uid);
	if (rc != ATR_E_NO_KEY)
		return rc;
	uint32_t next = m->first;
	if (meta_idmap_next(c->meta, &next) || next < m->first)
		next = m->first;
	while (next <= m->last && next >= m->first && taken(m, next))
		next++;
	if (next > m->last || next < m->first) {
		LOG(LOG_ERROR, "idmap: no free id left in %u-%u for %s", m->first, m->last, a->name);
		return ATR_E_NOSPC;
	}
	a->uid = next;
	if ((rc = meta_idmap_put(c->meta, a->name, next)) == ATR_OK)
		LOG(LOG_INFO, "idmap: user %s is uid %u on this host", a->name, next);
	return rc;
}

static int allocate(struct atr_core *c, struct idmap *m, const char *name, uint32_t *uid)
{
	/* Never inside a change of the namespace (an attribute read while a
	 * commit runs, say): the caller gets no id this time, and a later
	 * call allocates it. */
	if (ns_held(c) || meta_in_txn(c->meta))
		return ATR_E_INTERNAL;
	struct alloc a = { m, name, 0 };
	int rc = ns_txn(c, allocate_fn, &a);
	if (!rc)
		*uid = a.uid;
	return rc;
}

static void remember(struct idmap *m, const char *name, uint32_t uid, uint32_t gid)
{
	struct idmap_entry *e = &m->seen[m->next++ % REMEMBERED];
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->uid = uid;
	e->gid = gid;
}

void idmap_ids(struct atr_core *c, const char *name, uint32_t *uid, uint32_t *gid)
{
	struct idmap *m = c->idmap;
	struct idmap_entry e;
	struct passwd pw, *res = NULL;
	char buf[4096];
	uint32_t id;
	if (!strcmp(name, c->daemon_user)) {
		*uid = getuid();
		*gid = getgid();
		return;
	}
	if (in_map(m, name, 0, &e)) {
		*uid = e.uid;
		*gid = e.gid;
		return;
	}
	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < REMEMBERED; i++)
		if (*m->seen[i].name && !strcmp(m->seen[i].name, name)) {
			*uid = m->seen[i].uid;
			*gid = m->seen[i].gid;
			pthread_mutex_unlock(&m->lock);
			return;
		}
	pthread_mutex_unlock(&m->lock);
	/* Resolved with no lock held: the host's user database may be slow
	 * (NSS, LDAP) and allocating takes ns_lock, which a thread holding it
	 * may be waiting to take m->lock under (ghosts' attributes). Two
	 * threads may resolve the same name at once: both get the same ids. */
	if (!getpwnam_r(name, &pw, buf, sizeof(buf), &res) && res) {
		*uid = res->pw_uid;
		*gid = res->pw_gid;
	} else if (!parse_id(name, &id)) {
		*uid = *gid = id; /* a uid without a name: itself */
	} else if (meta_idmap_by_name(c->meta, name, &id) == ATR_OK ||
		   allocate(c, m, name, &id) == ATR_OK) {
		*uid = *gid = id; /* its own group */
	} else {
		/* Not allocated now (inside a change of the namespace, or the
		 * store failed): ids no file and no group has, and not
		 * remembered, so that a later call allocates it. */
		*uid = *gid = IDMAP_NONE;
		return;
	}
	pthread_mutex_lock(&m->lock);
	remember(m, name, *uid, *gid);
	pthread_mutex_unlock(&m->lock);
}

void idmap_name(struct atr_core *c, uint32_t uid, char out[ATR_USER_MAX + 1])
{
	struct idmap *m = c->idmap;
	struct idmap_entry e;
	struct passwd pw, *res = NULL;
	char buf[4096], name[ATR_USER_MAX + 1];
	if (uid == getuid()) {
		snprintf(out, ATR_USER_MAX + 1, "%s", c->daemon_user);
		return;
	}
	if (in_map(m, NULL, uid, &e)) {
		snprintf(out, ATR_USER_MAX + 1, "%s", e.name);
		return;
	}
	if (uid >= m->first && uid <= m->last &&
	    meta_idmap_by_uid(c->meta, uid, name, sizeof(name)) == ATR_OK) {
		snprintf(out, ATR_USER_MAX + 1, "%s", name);
		return;
	}
	if (!getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res) && res)
		snprintf(out, ATR_USER_MAX + 1, "%s", res->pw_name);
	else
		snprintf(out, ATR_USER_MAX + 1, "%u", (unsigned)uid);
}
