/* dcache — the block cache's DISK tier; the design is in src/dcache_int.h. */
#include "src/dcache_int.h"
#include "src/bcache_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/checksum.h"
#include "common/log.h"
#include "common/banned.h"

#define MAGIC "ATRBLK02" /* 01: CRC32 (zlib); 02: CRC-32C */
#define NAME_LEN 64
#define INO_SLOTS 4096
/* The protected segment's share; tests/bench/dcache_policy.c builds with
 * 0 (plain LRU) to measure what the segments buy. */
#ifndef DCACHE_PROTECTED_SHARE
#define DCACHE_PROTECTED_SHARE 0.8
#endif

struct dhdr {
	char magic[8];
	uint64_t ino, version, index;
	uint32_t len, bsize, crc, hcrc; /* CRC-32Cs: data; hcrc: the 44 bytes before it */
};
_Static_assert(sizeof(struct dhdr) == DCACHE_HDR, "the header is 48 bytes");

struct dentry {
	uint64_t ino, version, index;
	uint32_t len;
	int seg;                      /* 0 probation, 1 protected */
	struct dentry *hnext, *prev, *next;
	struct dentry *inext, *iprev; /* the chain of its ino's slot in by_ino */
};

struct qitem {
	uint64_t ino, version, index;
	uint64_t seq;                 /* order of queueing, for dcache_flush */
	size_t len;
	struct qitem *next;
	unsigned char data[];
};

struct dseg {
	struct dentry *head, *tail;   /* head = most recently used */
	uint64_t bytes;
};

struct dcache {
	int dfd;                      /* DIR, flock'd; set at open, then read-only */
	uint64_t capacity;
	size_t bsize;
	pthread_t worker;
	pthread_mutex_t lock;         /* guards everything below */
	pthread_cond_t work, room, done;
	struct dentry **table;
	size_t nbuckets, nblocks;     /* nbuckets: a power of two */
	struct dentry **by_ino;       /* INO_SLOTS chains: dcache_drop's walk */
	struct dseg seg[2];
	struct qitem *qhead, *qtail;
	size_t qlen;
	uint64_t put_seq;             /* blocks queued so far */
	uint64_t inflight_ino, inflight_seq; /* the block being written... */
	int inflight, inflight_dropped; /* ...and whether dcache_drop took its ino */
	int stop;
	uint64_t hits, misses, evictions, corrupt, write_errors;
	uint64_t stale;               /* blocks of old versions dropped */
	uint64_t *pinned;             /* pinned inodes, ascending */
	size_t npinned;
};

static size_t slot(const struct dcache *dc, uint64_t ino, uint64_t version, uint64_t index)
{
	uint64_t h = ino * 0x9E3779B97F4A7C15ull ^ version * 0xC2B2AE3D27D4EB4Full ^ index;
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ull;
	h ^= h >> 32;
	return (size_t)h & (dc->nbuckets - 1);
}

static size_t ino_slot(uint64_t ino)
{
	return (size_t)((ino * 0x9E3779B97F4A7C15ull) >> 52) & (INO_SLOTS - 1);
}

static void name_of(char out[NAME_LEN], uint64_t ino, uint64_t version, uint64_t index)
{
	snprintf(out, NAME_LEN, "%016llx-%016llx-%016llx", (unsigned long long)ino,
		 (unsigned long long)version, (unsigned long long)index);
}

/* A block's name back to its key; -1 if it is not one. */
static int parse_name(const char *s, uint64_t *ino, uint64_t *version, uint64_t *index)
{
	uint64_t v[3];
	for (int i = 0; i < 3; i++) {
		uint64_t n = 0;
		for (int k = 0; k < 16; k++, s++) {
			int d = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : -1;
			if (d < 0)
				return -1;
			n = n << 4 | (uint64_t)d;
		}
		if (*s++ != (i < 2 ? '-' : '\0'))
			return -1;
		v[i] = n;
	}
	*ino = v[0], *version = v[1], *index = v[2];
	return 0;
}

static uint32_t crc(const void *p, size_t n) { return crc32c_update(0, p, n); }

static uint64_t file_bytes(const struct dentry *e) { return DCACHE_HDR + (uint64_t)e->len; }

/* ---- the index (dc->lock held) ---- */

static struct dentry *find(struct dcache *dc, uint64_t ino, uint64_t version, uint64_t index)
{
	struct dentry *e = dc->table[slot(dc, ino, version, index)];
	while (e && !(e->ino == ino && e->version == version && e->index == index))
		e = e->hnext;
	return e;
}

static void seg_unlink(struct dcache *dc, struct dentry *e)
{
	struct dseg *s = &dc->seg[e->seg];
	if (e->prev) e->prev->next = e->next; else s->head = e->next;
	if (e->next) e->next->prev = e->prev; else s->tail = e->prev;
	e->prev = e->next = NULL;
	s->bytes -= file_bytes(e);
}

static void seg_push(struct dcache *dc, struct dentry *e, int seg)
{
	struct dseg *s = &dc->seg[seg];
	e->seg = seg;
	e->prev = NULL;
	e->next = s->head;
	if (s->head) s->head->prev = e; else s->tail = e;
	s->head = e;
	s->bytes += file_bytes(e);
}

static void grow_table(struct dcache *dc)
{
	size_t n = dc->nbuckets * 2;
	struct dentry **t = calloc(n, sizeof(*t));
	if (!t)
		return; /* keep the longer chains */
	struct dentry **old = dc->table;
	size_t oldn = dc->nbuckets;
	dc->table = t;
	dc->nbuckets = n;
	for (size_t i = 0; i < oldn; i++)
		for (struct dentry *e = old[i], *next; e; e = next) {
			next = e->hnext;
			size_t k = slot(dc, e->ino, e->version, e->index);
			e->hnext = t[k];
			t[k] = e;
		}
	free(old);
}

/* Adds the block to probation's hot end; 0, or -1 out of memory. */
static int index_add(struct dcache *dc, uint64_t ino, uint64_t version, uint64_t index,
		     uint32_t len)
{
	if (find(dc, ino, version, index))
		return 0;
	struct dentry *e = calloc(1, sizeof(*e));
	if (!e)
		return -1;
	e->ino = ino, e->version = version, e->index = index, e->len = len;
	size_t k = slot(dc, ino, version, index);
	e->hnext = dc->table[k];
	dc->table[k] = e;
	struct dentry **chain = &dc->by_ino[ino_slot(ino)];
	if ((e->inext = *chain))
		e->inext->iprev = e;
	*chain = e;
	seg_push(dc, e, 0);
	if (++dc->nblocks > dc->nbuckets)
		grow_table(dc);
	return 0;
}

static void index_remove(struct dcache *dc, struct dentry *e)
{
	struct dentry **pp = &dc->table[slot(dc, e->ino, e->version, e->index)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	if (e->iprev)
		e->iprev->inext = e->inext;
	else
		dc->by_ino[ino_slot(e->ino)] = e->inext;
	if (e->inext)
		e->inext->iprev = e->iprev;
	seg_unlink(dc, e);
	dc->nblocks--;
	free(e);
}

/* Keeps the protected segment within its share by demoting its coldest. */
static void balance(struct dcache *dc)
{
	uint64_t limit = (uint64_t)((double)dc->capacity * DCACHE_PROTECTED_SHARE);
	while (dc->seg[1].bytes > limit && dc->seg[1].tail) {
		struct dentry *e = dc->seg[1].tail;
		seg_unlink(dc, e);
		seg_push(dc, e, 0);
	}
}

static void protect(struct dcache *dc, struct dentry *e)
{
	seg_unlink(dc, e);
	seg_push(dc, e, 1);
	balance(dc);
}

/* A list of names to unlink once dc->lock is released. */
struct names {
	char (*v)[NAME_LEN];
	size_t n, cap;
};

static void names_add(struct names *ns, const struct dentry *e)
{
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 16;
		void *p = realloc(ns->v, cap * sizeof(*ns->v));
		if (!p)
			return; /* the file stays, unindexed: the next scan removes it */
		ns->v = p;
		ns->cap = cap;
	}
	name_of(ns->v[ns->n++], e->ino, e->version, e->index);
}

static void names_unlink(struct dcache *dc, struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		if (unlinkat(dc->dfd, ns->v[i], 0) && errno != ENOENT)
			LOG(LOG_WARN, "cache-disk: cannot remove block %s: %s", ns->v[i],
			    strerror(errno));
	free(ns->v);
	ns->v = NULL;
	ns->n = ns->cap = 0;
}

/* Takes the coldest blocks out of the index until usage is at most
 * target bytes; their names go to ns for unlinking without the lock. */
static void evict_to(struct dcache *dc, uint64_t target, struct names *ns)
{
	for (int s = 0; s < 2; s++)
		for (struct dentry *e = dc->seg[s].tail, *prev;
		     e && dc->seg[0].bytes + dc->seg[1].bytes > target; e = prev) {
			prev = e->prev;
			if (ino_in(dc->pinned, dc->npinned, e->ino))
				continue; /* pinned: never evicted */
			names_add(ns, e);
			index_remove(dc, e);
			dc->evictions++;
		}
}

void dcache_set_pinned(struct dcache *dc, const uint64_t *inos, size_t n)
{
	uint64_t *v = n ? malloc(n * sizeof(*v)) : NULL;
	if (n && !v)
		return;
	if (n)
		memcpy(v, inos, n * sizeof(*v));
	pthread_mutex_lock(&dc->lock);
	uint64_t *old = dc->pinned;
	dc->pinned = v;
	dc->npinned = n;
	pthread_mutex_unlock(&dc->lock);
	free(old);
}

static uint64_t used(const struct dcache *dc) { return dc->seg[0].bytes + dc->seg[1].bytes; }

static uint64_t mark(const struct dcache *dc, double share)
{
	return (uint64_t)((double)dc->capacity * share);
}

/* A block of (ino, version) is in: the inode's blocks of older versions
 * are garbage (versions only grow; a reader still on an old one just
 * misses), so they go now rather than when they age out. */
static void drop_older(struct dcache *dc, uint64_t ino, uint64_t version, struct names *ns)
{
	for (struct dentry *e = dc->by_ino[ino_slot(ino)], *next; e; e = next) {
		next = e->inext;
		if (e->ino == ino && e->version < version) {
			names_add(ns, e);
			index_remove(dc, e);
			dc->stale++;
		}
	}
}

/* ---- block files (no lock held) ---- */

static int write_all(int fd, const struct iovec *iov, int n)
{
	struct iovec v[2];
	memcpy(v, iov, (size_t)n * sizeof(*v));
	struct iovec *p = v;
	while (n > 0) {
		ssize_t w = writev(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		while (n > 0 && (size_t)w >= p->iov_len) {
			w -= (ssize_t)p->iov_len;
			p++, n--;
		}
		if (n > 0) {
			p->iov_base = (char *)p->iov_base + w;
			p->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* Writes the block under a temporary name and renames it into place:
 * 0, or the errno of what failed. */
static int write_block(struct dcache *dc, const struct qitem *q)
{
	int rc;
	char name[NAME_LEN], tmp[NAME_LEN + 8];
	name_of(name, q->ino, q->version, q->index);
	snprintf(tmp, sizeof(tmp), ".tmp.%s", name);
	struct dhdr h;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, MAGIC, 8);
	h.ino = q->ino, h.version = q->version, h.index = q->index;
	h.len = (uint32_t)q->len, h.bsize = (uint32_t)dc->bsize;
	h.crc = crc(q->data, q->len);
	h.hcrc = crc(&h, offsetof(struct dhdr, hcrc));
	int fd = openat(dc->dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		goto fail;
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)q->data, q->len } };
	rc = write_all(fd, iov, 2);
	if (close(fd) || rc)
		goto fail;
	if (renameat(dc->dfd, tmp, dc->dfd, name))
		goto fail;
	return 0;
fail:
	rc = errno;
	unlinkat(dc->dfd, tmp, 0);
	return rc ? rc : EIO;
}

/* Reads and checks a block file's header against its key; its fd, or -1. */
static int open_checked(struct dcache *dc, const char *name, uint64_t ino, uint64_t version,
			uint64_t index, struct dhdr *h, off_t *size)
{
	struct stat st;
	int fd = openat(dc->dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    pread(fd, h, sizeof(*h), 0) != (ssize_t)sizeof(*h) || memcmp(h->magic, MAGIC, 8) ||
	    h->hcrc != crc(h, offsetof(struct dhdr, hcrc)) || h->ino != ino ||
	    h->version != version || h->index != index || h->bsize != dc->bsize ||
	    h->len == 0 || h->len > dc->bsize || st.st_size != (off_t)(DCACHE_HDR + h->len)) {
		close(fd);
		errno = EBADMSG;
		return -1;
	}
	*size = st.st_size;
	return fd;
}

/* ---- the writer ---- */

static void *worker(void *arg)
{
	struct dcache *dc = arg;
	struct names ns = { 0 };
	pthread_mutex_lock(&dc->lock);
	for (;;) {
		if (!dc->qhead) {
			if (dc->stop)
				break;
			pthread_cond_wait(&dc->work, &dc->lock);
			continue;
		}
		struct qitem *q = dc->qhead;
		if (!(dc->qhead = q->next))
			dc->qtail = NULL;
		dc->qlen--;
		pthread_cond_broadcast(&dc->room);
		dc->inflight = 1;
		dc->inflight_ino = q->ino;
		dc->inflight_seq = q->seq;
		dc->inflight_dropped = 0;
		/* Room first, so that usage stays within capacity. */
		if (used(dc) + DCACHE_HDR + q->len > mark(dc, DCACHE_HIGH))
			evict_to(dc, mark(dc, DCACHE_LOW), &ns);
		pthread_mutex_unlock(&dc->lock);
		names_unlink(dc, &ns);

		int rc = write_block(dc, q);

		pthread_mutex_lock(&dc->lock);
		if (rc) {
			/* A full or failing disk: said at the 1st, 2nd, 4th... error. */
			uint64_t n = ++dc->write_errors;
			if (!(n & (n - 1)))
				LOG(LOG_WARN, "cache-disk: cannot write a block (%llu so far): %s",
				    (unsigned long long)n, strerror(rc));
		} else if (dc->inflight_dropped ||
			   index_add(dc, q->ino, q->version, q->index, (uint32_t)q->len)) {
			struct dentry gone = { .ino = q->ino, .version = q->version, .index = q->index };
			names_add(&ns, &gone);
		} else {
			drop_older(dc, q->ino, q->version, &ns);
		}
		if (used(dc) > mark(dc, DCACHE_HIGH))
			evict_to(dc, mark(dc, DCACHE_LOW), &ns);
		pthread_mutex_unlock(&dc->lock);
		names_unlink(dc, &ns);
		free(q);
		pthread_mutex_lock(&dc->lock);
		/* Done with its unlinks too: dcache_flush then means settled. */
		dc->inflight = 0;
		pthread_cond_broadcast(&dc->done);
	}
	pthread_mutex_unlock(&dc->lock);
	return NULL;
}

/* ---- opening: the owner check and the scan ---- */

struct found {
	uint64_t ino, version, index;
	uint32_t len;
	int64_t mtime_ns;
};

static int by_mtime(const void *a, const void *b)
{
	const struct found *x = a, *y = b;
	return x->mtime_ns < y->mtime_ns ? -1 : x->mtime_ns > y->mtime_ns;
}

/* Removes every block (and temporary) in DIR: it belonged to another store. */
static void wipe(struct dcache *dc)
{
	int fd = dup(dc->dfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	uint64_t a, b, c;
	for (struct dirent *de; (de = readdir(d));)
		if (!parse_name(de->d_name, &a, &b, &c) || !strncmp(de->d_name, ".tmp.", 5))
			unlinkat(dc->dfd, de->d_name, 0);
	closedir(d);
}

/* Writes DIR/NAME (temporary, fsync, rename); 0 or -1. */
static int write_small(struct dcache *dc, const char *name, const char *text, int durable)
{
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	int fd = openat(dc->dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	size_t n = strlen(text);
	if (fd < 0 || write(fd, text, n) != (ssize_t)n || (durable && fsync(fd))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (close(fd) || renameat(dc->dfd, tmp, dc->dfd, name) || (durable && fsync(dc->dfd)))
		return -1;
	return 0;
}

/* The start of file name (at dirfd) into buf, its first line only; ""
 * when it cannot be read. */
static void read_small(int dirfd, const char *name, char *buf, size_t size)
{
	buf[0] = '\0';
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	close(fd);
}

/* DIR/.owner names the store the blocks belong to; another one's are wiped. */
static int check_owner(struct dcache *dc, const char *owner)
{
	char cur[128];
	read_small(dc->dfd, ".owner", cur, sizeof(cur));
	if (!strcmp(cur, owner))
		return 0;
	if (*cur)
		LOG(LOG_WARN, "cache-disk: the blocks in the directory belong to another data "
			      "directory: removing them");
	wipe(dc);
	if (write_small(dc, ".owner", owner, 1)) {
		LOG(LOG_ERROR, "cache-disk: cannot write .owner: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * DIR/.state: "running BOOT_ID" while a daemon uses DIR, "clean" after it
 * stopped. The trap it closes: meta.db runs with synchronous=NORMAL, so a
 * power loss (not a process crash) can lose its last transactions, and a
 * version number can then be handed out again for other bytes — while
 * blocks of the lost version, written meanwhile, may have reached the
 * disk. So blocks left by a run that did not stop and whose machine has
 * rebooted since are all dropped. A process crash (same boot) keeps them:
 * what SQLite committed survives it. The marker is durable before any
 * block of this run is written.
 */
static int check_state(struct dcache *dc)
{
	char boot[64], cur[128], running[128];
	read_small(AT_FDCWD, "/proc/sys/kernel/random/boot_id", boot, sizeof(boot));
	snprintf(running, sizeof(running), "running %s", boot);
	read_small(dc->dfd, ".state", cur, sizeof(cur));
	if (!strncmp(cur, "running ", 8) && (strcmp(cur, running) || !*boot)) {
		LOG(LOG_WARN, "cache-disk: the last run did not stop and the host has restarted "
			      "since (a power loss?): dropping its blocks");
		wipe(dc);
	}
	if (write_small(dc, ".state", running, 1)) {
		LOG(LOG_ERROR, "cache-disk: cannot write .state: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int scan(struct dcache *dc)
{
	struct found *v = NULL;
	size_t n = 0, cap = 0, bad = 0;
	int fd = dup(dc->dfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (struct dirent *de; (de = readdir(d));) {
		struct found f;
		struct dhdr h;
		off_t size;
		if (!strncmp(de->d_name, ".tmp.", 5)) {
			unlinkat(dc->dfd, de->d_name, 0); /* a write the last run did not finish */
			continue;
		}
		if (parse_name(de->d_name, &f.ino, &f.version, &f.index))
			continue; /* not ours */
		int bfd = open_checked(dc, de->d_name, f.ino, f.version, f.index, &h, &size);
		struct stat st;
		if (bfd < 0 || fstat(bfd, &st)) {
			if (bfd >= 0)
				close(bfd);
			unlinkat(dc->dfd, de->d_name, 0);
			bad++;
			continue;
		}
		close(bfd);
		f.len = h.len;
		f.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
		if (n == cap) {
			size_t c2 = cap ? cap * 2 : 256;
			void *p = realloc(v, c2 * sizeof(*v));
			if (!p) {
				closedir(d);
				free(v);
				return -1;
			}
			v = p;
			cap = c2;
		}
		v[n++] = f;
	}
	closedir(d);
	/* Oldest access first, so the most recent ends at the hot end. */
	if (n)
		qsort(v, n, sizeof(*v), by_mtime);
	struct names ns = { 0 };
	pthread_mutex_lock(&dc->lock);
	for (size_t i = 0; i < n; i++)
		if (index_add(dc, v[i].ino, v[i].version, v[i].index, v[i].len)) {
			pthread_mutex_unlock(&dc->lock);
			free(v);
			return -1;
		}
	dc->corrupt += bad;
	if (used(dc) > mark(dc, DCACHE_HIGH))
		evict_to(dc, mark(dc, DCACHE_LOW), &ns);
	LOG(LOG_INFO, "cache-disk: %zu blocks (%llu bytes) kept from the last run, %zu removed",
	    dc->nblocks, (unsigned long long)used(dc), bad);
	pthread_mutex_unlock(&dc->lock);
	names_unlink(dc, &ns);
	free(v);
	return 0;
}

struct dcache *dcache_open(const char *dir, uint64_t capacity, size_t block_size,
			   const char *owner)
{
	struct dcache *dc = calloc(1, sizeof(*dc));
	if (!dc)
		return NULL;
	dc->dfd = -1;
	dc->capacity = capacity;
	dc->bsize = block_size;
	dc->nbuckets = 4096;
	pthread_mutex_init(&dc->lock, NULL);
	pthread_cond_init(&dc->work, NULL);
	pthread_cond_init(&dc->room, NULL);
	pthread_cond_init(&dc->done, NULL);
	if (!(dc->table = calloc(dc->nbuckets, sizeof(*dc->table))) ||
	    !(dc->by_ino = calloc(INO_SLOTS, sizeof(*dc->by_ino))))
		goto fail;
	struct stat st;
	if (mkdir(dir, 0700) && errno != EEXIST) {
		LOG(LOG_ERROR, "cache-disk: cannot create %s: %s", dir, strerror(errno));
		goto fail;
	}
	if ((dc->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fstat(dc->dfd, &st)) {
		LOG(LOG_ERROR, "cache-disk: cannot open %s: %s", dir, strerror(errno));
		goto fail;
	}
	if ((st.st_mode & 077) && fchmod(dc->dfd, st.st_mode & 07700))
		LOG(LOG_WARN, "cache-disk: cannot make %s private: %s", dir, strerror(errno));
	if (flock(dc->dfd, LOCK_EX | LOCK_NB)) {
		LOG(LOG_ERROR, "cache-disk: %s is in use by another process (%s)", dir,
		    strerror(errno));
		goto fail;
	}
	if (check_owner(dc, owner) || check_state(dc) || scan(dc)) {
		LOG(LOG_ERROR, "cache-disk: cannot read %s", dir);
		goto fail;
	}
	if (pthread_create(&dc->worker, NULL, worker, dc))
		goto fail;
	pthread_setname_np(dc->worker, "atr-dcache");
	return dc;
fail:
	dc->stop = 1; /* no worker to join */
	if (dc->table)
		for (size_t i = 0; i < dc->nbuckets; i++)
			for (struct dentry *e = dc->table[i], *n; e; e = n) {
				n = e->hnext;
				free(e);
			}
	free(dc->table);
	free(dc->by_ino);
	if (dc->dfd >= 0)
		close(dc->dfd);
	pthread_mutex_destroy(&dc->lock);
	pthread_cond_destroy(&dc->work);
	pthread_cond_destroy(&dc->room);
	pthread_cond_destroy(&dc->done);
	free(dc);
	return NULL;
}

void dcache_free(struct dcache *dc)
{
	if (!dc)
		return;
	pthread_mutex_lock(&dc->lock);
	dc->stop = 1;
	pthread_cond_broadcast(&dc->work);
	pthread_cond_broadcast(&dc->room);
	pthread_mutex_unlock(&dc->lock);
	pthread_join(dc->worker, NULL); /* it writes what is queued first */
	if (write_small(dc, ".state", "clean", 0))
		LOG(LOG_WARN, "cache-disk: cannot write .state: %s", strerror(errno));
	for (size_t i = 0; i < dc->nbuckets; i++)
		for (struct dentry *e = dc->table[i], *n; e; e = n) {
			n = e->hnext;
			free(e);
		}
	free(dc->table);
	free(dc->by_ino);
	free(dc->pinned);
	close(dc->dfd); /* releases the flock */
	pthread_mutex_destroy(&dc->lock);
	pthread_cond_destroy(&dc->work);
	pthread_cond_destroy(&dc->room);
	pthread_cond_destroy(&dc->done);
	free(dc);
}

/* ---- the calls ---- */

static void drop_key(struct dcache *dc, uint64_t ino, uint64_t version, uint64_t index,
		     const char *name)
{
	pthread_mutex_lock(&dc->lock);
	struct dentry *e = find(dc, ino, version, index);
	if (e)
		index_remove(dc, e);
	pthread_mutex_unlock(&dc->lock);
	unlinkat(dc->dfd, name, 0);
}

int dcache_read(struct dcache *dc, uint64_t ino, uint64_t version, uint64_t index, void *buf,
		size_t len)
{
	char name[NAME_LEN];
	struct dhdr h;
	off_t size;
	pthread_mutex_lock(&dc->lock);
	struct dentry *e = find(dc, ino, version, index);
	if (!e || e->len != len) {
		dc->misses++;
		pthread_mutex_unlock(&dc->lock);
		return -1;
	}
	pthread_mutex_unlock(&dc->lock);
	name_of(name, ino, version, index);
	int fd = open_checked(dc, name, ino, version, index, &h, &size);
	int ok = fd >= 0 && h.len == len && pread(fd, buf, len, DCACHE_HDR) == (ssize_t)len &&
		 crc(buf, len) == h.crc;
	if (ok)
		futimens(fd, NULL); /* its mtime is its last access, for the next scan */
	int vanished = fd < 0 && errno == ENOENT; /* evicted meanwhile */
	if (fd >= 0)
		close(fd);
	if (!ok) {
		if (!vanished)
			LOG(LOG_WARN, "cache-disk: block %s is torn or corrupt: dropped", name);
		drop_key(dc, ino, version, index, name);
		pthread_mutex_lock(&dc->lock);
		dc->misses++;
		if (!vanished)
			dc->corrupt++;
		pthread_mutex_unlock(&dc->lock);
		return -1;
	}
	pthread_mutex_lock(&dc->lock);
	dc->hits++;
	if ((e = find(dc, ino, version, index)))
		protect(dc, e);
	pthread_mutex_unlock(&dc->lock);
	return 0;
}

void dcache_put(struct dcache *dc, uint64_t ino, uint64_t version, uint64_t index,
		const void *data, size_t len)
{
	if (len == 0 || len > dc->bsize || DCACHE_HDR + len > dc->capacity)
		return;
	struct qitem *q = malloc(sizeof(*q) + len);
	if (!q)
		return; /* a cache: the block is simply not kept */
	q->ino = ino, q->version = version, q->index = index, q->len = len, q->next = NULL;
	memcpy(q->data, data, len);
	pthread_mutex_lock(&dc->lock);
	for (;;) {
		int dup = dc->stop || find(dc, ino, version, index) != NULL;
		for (struct qitem *p = dc->qhead; p && !dup; p = p->next)
			dup = p->ino == ino && p->version == version && p->index == index;
		if (dup) {
			pthread_mutex_unlock(&dc->lock);
			free(q);
			return;
		}
		if (dc->qlen < DCACHE_QUEUE)
			break;
		pthread_cond_wait(&dc->room, &dc->lock);
	}
	if (dc->qtail) dc->qtail->next = q; else dc->qhead = q;
	dc->qtail = q;
	dc->qlen++;
	q->seq = ++dc->put_seq;
	pthread_cond_signal(&dc->work);
	pthread_mutex_unlock(&dc->lock);
}

void dcache_flush(struct dcache *dc)
{
	pthread_mutex_lock(&dc->lock);
	uint64_t target = dc->put_seq;
	/* The queue is in seq order: its head is the oldest left. */
	while ((dc->qhead && dc->qhead->seq <= target) ||
	       (dc->inflight && dc->inflight_seq <= target))
		pthread_cond_wait(&dc->done, &dc->lock);
	pthread_mutex_unlock(&dc->lock);
}

size_t dcache_len(struct dcache *dc, uint64_t ino, uint64_t version, uint64_t index)
{
	pthread_mutex_lock(&dc->lock);
	struct dentry *e = find(dc, ino, version, index);
	size_t len = e ? e->len : 0;
	pthread_mutex_unlock(&dc->lock);
	return len;
}

void dcache_touch(struct dcache *dc, uint64_t ino, uint64_t version, uint64_t index)
{
	pthread_mutex_lock(&dc->lock);
	struct dentry *e = find(dc, ino, version, index);
	if (e && !(e->seg == 1 && dc->seg[1].head == e))
		protect(dc, e);
	pthread_mutex_unlock(&dc->lock);
}

void dcache_drop(struct dcache *dc, uint64_t ino)
{
	struct names ns = { 0 };
	pthread_mutex_lock(&dc->lock);
	for (struct dentry *e = dc->by_ino[ino_slot(ino)], *next; e; e = next) {
		next = e->inext;
		if (e->ino == ino) {
			names_add(&ns, e);
			index_remove(dc, e);
		}
	}
	/* Queued blocks of ino are cancelled... */
	for (struct qitem **pp = &dc->qhead; *pp;) {
		struct qitem *q = *pp;
		if (q->ino != ino) {
			dc->qtail = q;
			pp = &q->next;
			continue;
		}
		*pp = q->next;
		dc->qlen--;
		free(q);
	}
	if (!dc->qhead)
		dc->qtail = NULL;
	/* ...and the one being written is removed when it lands. */
	if (dc->inflight && dc->inflight_ino == ino)
		dc->inflight_dropped = 1;
	pthread_cond_broadcast(&dc->room);
	pthread_cond_broadcast(&dc->done);
	pthread_mutex_unlock(&dc->lock);
	names_unlink(dc, &ns);
}

void dcache_stats(struct dcache *dc, struct dcache_stats *out)
{
	pthread_mutex_lock(&dc->lock);
	out->hits = dc->hits;
	out->misses = dc->misses;
	out->evictions = dc->evictions;
	out->bytes = used(dc);
	out->capacity = dc->capacity;
	out->blocks = dc->nblocks;
	out->corrupt = dc->corrupt;
	out->write_errors = dc->write_errors;
	out->stale = dc->stale;
	pthread_mutex_unlock(&dc->lock);
}
